"""Issue 18 identity-resolution defects, each worked out by hand from the documented pass."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from clientmodel.profile.identifiers import hash_identifier
from clientmodel.profile.resolution import Resolution, resolve, resolve_table, unmerge
from clientmodel.profile.resolution_rules import IdentityConfig, IdentityRecord

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 1, 1, tzinfo=UTC)
SALT = b"0123456789abcdef"


def day(n: float) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


def rec(rid: Any, *idents: tuple[str, ...], t: float | None = None) -> dict[str, Any]:
    return {
        "record_id": rid,
        "identifiers": list(idents),
        "timestamp": None if t is None else day(t),
    }


def groups(res: Resolution) -> dict[Any, tuple[Any, ...]]:
    return {p.profile_id: tuple(sorted(p.record_ids)) for p in res.profiles()}


def test_equality_with_a_kind_both_scoped_and_unscoped() -> None:
    # sorting (kind, None, value) against (kind, "app1", value) raised TypeError.
    records = [rec("a", ("device_id", "D1", "app1"), ("device_id", "D2"))]
    assert resolve(records) == resolve(records)
    assert resolve(records) != resolve([rec("a", ("device_id", "D1", "app1"))])


def test_configured_blocked_values_hold_on_hashed_data() -> None:
    config = IdentityConfig().with_rule("device_id", blocked=("kiosk-01",))
    clear = [
        IdentityRecord(
            record_id="a", identifiers=[("phone", "+8613800138000"), ("device_id", "kiosk-01")]
        ),
        IdentityRecord(
            record_id="b", identifiers=[("phone", "+8613900139000"), ("device_id", "kiosk-01")]
        ),
    ]
    hashed = [
        r.model_copy(
            update={
                "identifiers": tuple(hash_identifier(i, SALT, config=config) for i in r.identifiers)
            }
        )
        for r in clear
    ]
    # Clear data: two people (the kiosk is blocked). Hashed data must resolve the same way.
    assert groups(resolve(clear, config)) == {"a": ("a",), "b": ("b",)}
    assert groups(resolve(hashed, config)) == {"a": ("a",), "b": ("b",)}


def test_tied_priorities_follow_the_documented_table_order() -> None:
    # phone and member_id both at priority 1: the docs say ties follow the table, where
    # member_id comes first. Record c offers M2 first: M2 is new, so c claims it; then phone P
    # belongs to a (member M1): merging would give 2 member ids (limit 1), so P gives way.
    config = IdentityConfig().with_rule("phone", priority=1)
    records = [
        rec("a", ("member_id", "M1"), ("phone", "+8613800138000"), t=0),
        rec("c", ("member_id", "M2"), ("phone", "+8613800138000"), t=1),
    ]
    res = resolve(records, config)
    assert groups(res) == {"a": ("a",), "c": ("c",)}
    refusal = res.refusals[0]
    assert (refusal.record_id, refusal.identifier.kind.value) == ("c", "phone")


def test_anonymous_is_blocked_by_default() -> None:
    res = resolve([rec("a", ("cookie_id", "anonymous")), rec("b", ("cookie_id", "anonymous"))])
    assert groups(res) == {"a": ("a",), "b": ("b",)}


def test_device_and_cookie_ids_have_a_default_limit_of_five() -> None:
    config = IdentityConfig()
    assert config.rule("device_id").limit == 5
    assert config.rule("cookie_id").limit == 5
    assert IdentityConfig().with_rule("cookie_id", limit=None).rule("cookie_id").limit is None


def test_a_shared_kiosk_does_not_make_one_profile_of_many_people() -> None:
    # 300 visitors on one kiosk device, each with their own browser cookie; every 100th leaves a
    # phone. Unlimited devices made one 202-record profile holding two people's phones.
    records = []
    for i in range(300):
        idents: list[tuple[str, ...]] = [("device_id", "kiosk-7"), ("cookie_id", f"c{i}")]
        if i % 100 == 0:
            idents.append(("phone", f"+86138001{i:05d}"))
        records.append(rec(f"v{i:03d}", *idents, t=i / 24))
    res = resolve(records)
    for profile in res.profiles():
        phones = {i.value for i in profile.identifiers if i.kind.value == "phone"}
        assert len(phones) <= 1, profile.profile_id
        cookies = {i.value for i in profile.matched if i.kind.value == "cookie_id"}
        assert len(cookies) <= 5, profile.profile_id
    # the visitors who left a phone are each their own profile; the refusal says why
    assert {res.profile_of(v) for v in ("v000", "v100", "v200")} == {"v000", "v100", "v200"}
    bridge = [r for r in res.refusals if r.record_id == "v100" and r.limit < 0]
    assert "does not bridge them" in bridge[0].reason


def test_the_oldest_record_names_the_profile() -> None:
    # z is seen first; a later record 'a' (smaller id) joins it. Snowplow keeps the older id.
    first = [rec("z", ("email", "x@y.io"), t=0)]
    both = [*first, rec("a", ("email", "x@y.io"), t=1)]
    assert resolve(first).profile_of("z") == "z"
    assert resolve(both).profile_of("a") == "z"
    assert [p.profile_id for p in resolve(both).profiles()] == ["z"]


def test_table_face_unmerge_recomputes_the_record_time() -> None:
    # Record r has rows at day 0 (phone) and day 5 (email); removing the phone leaves day 5.
    table = {
        "record_id": ["r", "r", "s"],
        "kind": ["phone", "email", "email"],
        "value": ["+8613800138000", "x@y.io", "other@y.io"],
        "timestamp": [day(0), day(5), day(3)],
    }
    res = unmerge(resolve_table(table), identifier=("phone", "+8613800138000"))
    again = resolve_table(
        {k: v[1:] for k, v in table.items()},
    )
    assert res == again
    times = dict(
        zip(res.records_table()["record_id"], res.records_table()["timestamp"], strict=True)
    )
    assert times["r"] == np.datetime64("2024-01-06T00:00")  # day 5, UTC wall clock
