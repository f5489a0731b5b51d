"""Identity resolution on hand-built cases; every expected value was worked out by hand."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from clientmodel.errors import ArgumentError, DataError
from clientmodel.profile.identifiers import Identifier, IdentifierKind, hash_identifier
from clientmodel.profile.resolution import Resolution, resolve, unmerge
from clientmodel.profile.resolution_results import IdentifierStatus
from clientmodel.profile.resolution_rules import IdentityConfig, IdentityRecord, KindRule

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 1, 1, tzinfo=UTC)


def day(n: float) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


def rec(rid: Any, *idents: tuple[str, ...], t: float | None = None) -> dict[str, Any]:
    return {
        "record_id": rid,
        "identifiers": list(idents),
        "timestamp": None if t is None else day(t),
    }


def groups(res: Resolution) -> dict[Any, tuple[Any, ...]]:
    """profile id -> record ids (processing order)."""
    return {p.profile_id: p.record_ids for p in res.profiles()}


def status(res: Resolution, record_id: Any, kind: str, value: str) -> str:
    table = res.identifiers_table()
    for r, k, v, s in zip(
        table["record_id"], table["kind"], table["value"], table["status"], strict=True
    ):
        if r == record_id and k == kind and v == value:
            return str(s)
    raise AssertionError(f"no row {record_id} {kind} {value}")


# --------------------------------------------------------------------------- shared devices

SHARED_DEVICE = [
    rec("a", ("member_id", "M1"), ("device_id", "D"), t=0),
    rec("b", ("member_id", "M2"), ("device_id", "D"), t=1),
    rec("c", ("device_id", "D"), t=2),
]


def test_shared_device_never_fuses_two_members() -> None:
    res = resolve(SHARED_DEVICE)
    assert groups(res) == {"a": ("a", "c"), "b": ("b",)}
    assert status(res, "b", "device_id", "D") == "refused"
    assert status(res, "c", "device_id", "D") == "matched"
    (ref,) = res.refusals
    assert ref.record_id == "b"
    assert ref.identifier == Identifier(kind="device_id", value="D")
    assert ref.owner_record_id == "a"
    assert (ref.kind, ref.scope, ref.limit, ref.count) == (IdentifierKind.MEMBER_ID, None, 1, 2)
    assert [c.value for c in ref.conflicting] == ["M1", "M2"]
    assert ref.reason == (
        "device_id of record 'b': joining the profile of record 'a' would give the profile "
        "2 member_id values (limit 1)"
    )


def test_refused_identifier_stays_on_its_profile() -> None:
    profile_b = resolve(SHARED_DEVICE).profile("b")
    assert [(i.kind.value, i.value) for i in profile_b.identifiers] == [
        ("member_id", "M2"),
        ("device_id", "D"),
    ]
    assert profile_b.statuses == (IdentifierStatus.MATCHED, IdentifierStatus.REFUSED)
    assert [i.value for i in profile_b.matched] == ["M2"]


# --------------------------------------------------------------------------- placeholders


def test_null_phone_never_joins() -> None:
    res = resolve(
        [
            rec("a", ("phone", "null")),
            rec("b", ("phone", "NULL")),
            rec("c", ("phone", " null ")),
            rec("d", ("phone", ""), ("email", "x@y.io")),
            rec("e", ("email", "X@Y.IO")),
            rec("f", ("device_id", "00000000-0000-0000-0000-000000000000")),
            rec("g", ("device_id", "00000000-0000-0000-0000-000000000000")),
        ]
    )
    assert groups(res) == {
        "a": ("a",),
        "b": ("b",),
        "c": ("c",),
        "d": ("d", "e"),
        "f": ("f",),
        "g": ("g",),
    }
    for rid, value in [("a", "null"), ("b", "NULL"), ("c", "null"), ("d", "")]:
        assert status(res, rid, "phone", value) == "blocked"
    assert res.refusals == ()


def test_configured_blocked_values_never_join() -> None:
    cfg = IdentityConfig().with_rule("device_id", blocked=("kiosk-1",))
    res = resolve([rec("a", ("device_id", "KIOSK-1")), rec("b", ("device_id", "kiosk-1"))], cfg)
    assert groups(res) == {"a": ("a",), "b": ("b",)}
    assert status(res, "a", "device_id", "KIOSK-1") == "blocked"


def test_blocked_phones_are_normalised_and_malformed_ones_refused() -> None:
    cfg = IdentityConfig().with_rule("phone", blocked=["+86 138 0000 0000"])
    assert cfg.rule("phone").blocked == ("+8613800000000",)
    res = resolve(
        [rec("a", ("phone", "+8613800000000")), rec("b", ("phone", "+8613800000000"))], cfg
    )
    assert res.n_profiles == 2
    with pytest.raises(ValueError, match=r"E\.164"):
        IdentityConfig().with_rule("phone", blocked=["13800000000"])


def test_kind_that_does_not_join_is_kept_but_never_joins() -> None:
    cfg = IdentityConfig().with_rule("cookie_id", joins=False)
    res = resolve([rec("a", ("cookie_id", "k")), rec("b", ("cookie_id", "k"))], cfg)
    assert groups(res) == {"a": ("a",), "b": ("b",)}
    assert status(res, "a", "cookie_id", "k") == "not_joining"


# --------------------------------------------------------------------------- limits


def test_one_member_id_per_profile() -> None:
    res = resolve(
        [
            rec("a", ("member_id", "M1"), ("member_id", "M2"), t=0),
            rec("b", ("member_id", "M2"), t=1),
            rec("c", ("member_id", "M1"), ("phone", "+8613800138000"), t=2),
            rec("d", ("member_id", "M3"), ("phone", "+8613800138000"), t=3),
        ]
    )
    # a keeps M1 (first in value order) and drops M2 from matching; b then owns M2;
    # d's own member id comes first, so its phone (owned by the M1 profile) is refused.
    assert groups(res) == {"a": ("a", "c"), "b": ("b",), "d": ("d",)}
    assert status(res, "a", "member_id", "M2") == "refused"
    assert status(res, "b", "member_id", "M2") == "matched"
    first, second = res.refusals
    assert (first.record_id, first.owner_record_id, first.count) == ("a", None, 2)
    assert (second.record_id, second.identifier.kind.value, second.owner_record_id) == (
        "d",
        "phone",
        "c",
    )
    assert "adding it to the record's profile" in first.reason


def test_limits_apply_per_scope() -> None:
    res = resolve(
        [
            rec("a", ("wechat_openid", "o1", "wx1"), t=0),
            rec("b", ("wechat_openid", "o1", "wx2"), t=1),
            rec("c", ("wechat_unionid", "U"), ("wechat_openid", "o2", "wx1"), t=2),
            rec("d", ("wechat_unionid", "U"), ("wechat_openid", "o3", "wx2"), t=3),
            rec("e", ("wechat_unionid", "U"), ("wechat_openid", "o4", "wx1"), t=4),
        ]
    )
    # the same openid in two apps is two identifiers; one openid per app is fine,
    # a second one in app wx1 is refused.
    assert groups(res) == {"a": ("a",), "b": ("b",), "c": ("c", "d", "e")}
    (ref,) = res.refusals
    assert (ref.record_id, ref.kind.value, ref.scope, ref.count) == ("e", "wechat_openid", "wx1", 2)
    assert "in scope 'wx1'" in ref.reason


def cookie_records() -> list[dict[str, Any]]:
    return [
        rec("a", ("device_id", "D"), ("cookie_id", "c1"), t=0),
        rec("b", ("device_id", "D"), ("cookie_id", "c2"), t=1),
        rec("c", ("device_id", "D"), ("cookie_id", "c3"), t=2),
        rec("d", ("device_id", "D"), ("cookie_id", "c4"), t=20),
    ]


def test_time_window_limit_counts_values_first_seen_close_together() -> None:
    cfg = IdentityConfig().with_rule("cookie_id", limit=2, window=dt.timedelta(days=7))
    res = resolve(cookie_records(), cfg)
    assert groups(res) == {"a": ("a", "b", "c", "d")}
    # c3 would be a third cookie first seen within 7 days; c4 (day 20) is fine
    assert status(res, "c", "cookie_id", "c3") == "refused"
    assert status(res, "d", "cookie_id", "c4") == "matched"
    (ref,) = res.refusals
    assert (ref.count, ref.window) == (3, dt.timedelta(days=7))
    assert "first seen within 7 days" in ref.reason


def test_time_window_needs_timestamps_on_the_records_it_counts() -> None:
    cfg = IdentityConfig().with_rule("cookie_id", limit=2, window=dt.timedelta(days=7))
    with pytest.raises(DataError, match=r"1 record\(s\) without a timestamp carry \['cookie_id'\]"):
        resolve([rec("a", ("cookie_id", "c1"), t=0), rec("b", ("cookie_id", "c2"))], cfg)
    # blocked values are never counted, so they need no timestamp
    res = resolve([rec("a", ("cookie_id", "c1"), t=0), rec("b", ("cookie_id", "null"))], cfg)
    assert res.n_profiles == 2


def test_the_same_limit_without_window_refuses_both() -> None:
    res = resolve(cookie_records(), IdentityConfig().with_rule("cookie_id", limit=2))
    assert status(res, "c", "cookie_id", "c3") == "refused"
    assert status(res, "d", "cookie_id", "c4") == "refused"


@pytest.mark.parametrize(("second_cookie_day", "merged"), [(3, False), (10, True)])
def test_time_window_applies_to_merges(second_cookie_day: float, merged: bool) -> None:
    cfg = IdentityConfig().with_rule("cookie_id", limit=1, window=dt.timedelta(days=7))
    res = resolve(
        [
            rec("e", ("member_id", "M9"), ("cookie_id", "k1"), t=0),
            rec("f", ("cookie_id", "k2"), ("phone", "+8613900139000"), t=second_cookie_day),
            rec("g", ("phone", "+8613900139000"), ("member_id", "M9"), t=11),
        ],
        cfg,
    )
    if merged:
        assert groups(res) == {"e": ("e", "f", "g")}
    else:
        assert groups(res) == {"e": ("e", "g"), "f": ("f",)}
        assert status(res, "g", "phone", "+8613900139000") == "refused"


def test_window_limit_needs_timestamps() -> None:
    cfg = IdentityConfig().with_rule("cookie_id", limit=2, window=dt.timedelta(days=7))
    with pytest.raises(DataError, match=r"without a timestamp carry \['cookie_id'\]"):
        resolve([rec("a", ("cookie_id", "c1"))], cfg)
    # a record without timestamp but without windowed identifiers is fine
    assert resolve([rec("a", ("member_id", "M1"))], cfg).n_profiles == 1


# --------------------------------------------------------------------------- priority and order

PRIORITY = [
    rec("a", ("member_id", "M1"), ("phone", "+8613800138000"), t=0),
    rec("b", ("member_id", "M2"), ("device_id", "D"), t=1),
    rec("c", ("phone", "+8613800138000"), ("device_id", "D"), t=2),
]


def test_higher_priority_identifier_decides() -> None:
    res = resolve(PRIORITY)  # phone (5) before device (7)
    assert groups(res) == {"a": ("a", "c"), "b": ("b",)}
    assert status(res, "c", "device_id", "D") == "refused"


def test_priority_is_configurable() -> None:
    cfg = IdentityConfig().with_rule("device_id", priority=2)
    res = resolve(PRIORITY, cfg)
    assert groups(res) == {"a": ("a",), "b": ("b", "c")}
    assert status(res, "c", "phone", "+8613800138000") == "refused"


def test_earlier_records_claim_first_and_untimed_records_come_last() -> None:
    res = resolve(
        [
            rec("a", ("member_id", "M1"), ("device_id", "D")),
            rec("b", ("member_id", "M2"), ("device_id", "D"), t=5),
        ]
    )
    assert res.record_ids.tolist() == ["b", "a"]
    assert [r.record_id for r in res.refusals] == ["a"]


def test_profile_id_is_the_oldest_record_id() -> None:
    res = resolve([rec("z", ("email", "e@x.io"), t=0), rec("a", ("email", "e@x.io"), t=1)])
    assert groups(res) == {"z": ("z", "a")}
    assert res.profile_of("a") == "z"


def test_integer_record_ids() -> None:
    res = resolve([rec(10, ("email", "e@x.io")), rec(9, ("email", "e@x.io")), rec(100)])
    assert groups(res) == {9: (9, 10), 100: (100,)}


# --------------------------------------------------------------------------- explanation


def test_explanation_tells_the_story() -> None:
    exp = resolve(SHARED_DEVICE).explain("a")
    assert exp.record_ids == ("a", "c")
    assert [(link.record_id, link.via.value, link.owner_record_id) for link in exp.links] == [
        ("c", "D", "a")
    ]
    assert [(u.identifier.value, u.status.value, u.record_ids) for u in exp.identifiers] == [
        ("M1", "matched", ("a",)),
        ("D", "matched", ("a", "c")),
    ]
    assert exp.describe() == "\n".join(
        [
            "profile 'a': 2 records, 2 identifiers, 1 refusal",
            "  record 'a' starts the profile",
            "  record 'c' joins via device_id, brought by record 'a'",
            "  member_id: matched (records 'a')",
            "  device_id: matched (records 'a', 'c')",
            "  refused: device_id of record 'b': joining the profile of record 'a' would give "
            "the profile 2 member_id values (limit 1)",
        ]
    )
    assert "'M1'" in exp.describe(show_values=True)
    assert "M1" not in exp.describe()
    json.dumps(exp.to_dict())


def test_explanation_of_a_merge_through_a_later_record() -> None:
    res = resolve(
        [
            rec("a", ("email", "a@x.io"), t=0),
            rec("b", ("phone", "+8613800138000"), t=1),
            rec("c", ("phone", "+8613800138000"), ("email", "a@x.io"), t=2),
        ]
    )
    exp = res.explain("a")
    # c joins b's group via the phone (priority 5), then the email merges a's group in
    assert [(lk.record_id, lk.via.kind.value, lk.owner_record_id) for lk in exp.links] == [
        ("c", "phone", "b"),
        ("c", "email", "a"),
    ]
    assert "record 'b' starts a group of its own" in exp.describe()


def test_reprs_do_not_dump_values() -> None:
    res = resolve(SHARED_DEVICE)
    texts = [repr(res), repr(res.refusals[0]), repr(res.profiles()[0]), repr(res.explain("a"))]
    texts += [repr(u) for u in res.explain("a").identifiers]
    assert not any("M1" in t or "'D'" in t for t in texts)


# --------------------------------------------------------------------------- unmerge


def test_unmerge_a_record() -> None:
    res = resolve(SHARED_DEVICE).unmerge(record="a")
    # without a, b owns the device and c joins b
    assert groups(res) == {"b": ("b", "c")}
    assert res.refusals == ()


def test_unmerge_an_identifier_everywhere_and_from_one_record() -> None:
    res = resolve(SHARED_DEVICE)
    assert groups(unmerge(res, identifier=("device_id", "D"))) == {
        "a": ("a",),
        "b": ("b",),
        "c": ("c",),
    }
    one = unmerge(res, record="b", identifier=Identifier(kind="device_id", value="D"))
    assert groups(one) == {"a": ("a", "c"), "b": ("b",)}
    assert one.refusals == ()


def test_unmerge_errors() -> None:
    res = resolve(SHARED_DEVICE)
    with pytest.raises(ArgumentError, match="give a record"):
        unmerge(res)
    with pytest.raises(ArgumentError, match="unknown record id 'zz'"):
        unmerge(res, record="zz")
    with pytest.raises(ArgumentError, match="no record carries"):
        unmerge(res, identifier=("email", "nobody@x.io"))
    with pytest.raises(ArgumentError, match="identifier is not valid"):
        unmerge(res, identifier=("phone", "12ab"))
    with pytest.raises(ArgumentError, match="must be an Identifier"):
        unmerge(res, identifier=42)  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="does not carry"):
        unmerge(res, record="a", identifier={"kind": "member_id", "value": "M2"})


# --------------------------------------------------------------------------- input errors


def test_malformed_identifier_names_record_and_position() -> None:
    with pytest.raises(DataError) as info:
        resolve([rec("ok"), rec("r1", ("member_id", "M1"), ("phone", "12ab"))])
    msg = str(info.value)
    assert "record 1" in msg
    assert "'r1', identifier 1" in msg
    assert "phone value '***'" in msg  # masked: never the value in full
    assert info.value.rows == (1,)


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(DataError, match="unknown identifier kind 'fax'"):
        resolve([rec("r1", ("fax", "123"))])
    with pytest.raises(ValueError, match="unknown identifier kind 'fax'"):
        IdentityConfig(rules={"fax": KindRule(priority=1)})
    with pytest.raises(ArgumentError, match="unknown identifier kind"):
        IdentityConfig().rule("fax")


def test_duplicate_and_mixed_record_ids_are_refused() -> None:
    with pytest.raises(DataError, match="repeated"):
        resolve([rec("a"), rec("a")])
    with pytest.raises(DataError, match="mixes id types"):
        resolve([rec("a"), rec(1)])
    with pytest.raises(DataError, match="record 0"):
        resolve([{"record_id": "", "identifiers": []}])


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(DataError, match="timezone"):
        resolve([{"record_id": "a", "timestamp": dt.datetime(2024, 1, 1)}])


def test_rule_validation() -> None:
    with pytest.raises(ValueError, match="only makes sense with a limit"):
        KindRule(priority=1, window=dt.timedelta(days=1))
    with pytest.raises(ValueError, match="positive"):
        KindRule(priority=1, limit=1, window=dt.timedelta(0))
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        KindRule(priority=0)


# --------------------------------------------------------------------------- exports


def test_json_export_round_trip() -> None:
    cfg = IdentityConfig().with_rule("cookie_id", limit=2, window=dt.timedelta(days=7))
    extra = rec("m", ("member_id", "M1"), ("cookie_id", "c1"), ("phone", "n/a"), t=30)
    res = resolve([*cookie_records(), extra, rec("n", ("member_id", "M1"))], cfg)
    text = json.dumps(res.to_dict())
    back = Resolution.from_dict(json.loads(text))
    assert back == res
    assert back.explain("a").to_dict() == res.explain("a").to_dict()
    assert back.unmerge(record="c") == res.unmerge(record="c")
    with pytest.raises(DataError, match="not an identity resolution export"):
        Resolution.from_dict({"format": "something else"})


def test_export_shape() -> None:
    d = resolve(SHARED_DEVICE[:2]).to_dict()
    assert d["records"][1] == {
        "record_id": "b",
        "timestamp": "2024-01-02T00:00:00",
        "profile_id": "b",
        "identifiers": [
            {
                "kind": "member_id",
                "value": "M2",
                "scope": None,
                "hashed": False,
                "status": "matched",
            },
            {
                "kind": "device_id",
                "value": "D",
                "scope": None,
                "hashed": False,
                "status": "refused",
            },
        ],
    }
    assert d["tz"] == "UTC"
    assert d["refusals"][0]["reason"].startswith("device_id of record 'b'")


def test_schemas_are_published() -> None:
    for model in (IdentityConfig, IdentityRecord, KindRule):
        json.dumps(model.model_json_schema())
    cfg = IdentityConfig().with_rule("cookie_id", limit=5, window=dt.timedelta(days=7))
    assert IdentityConfig.model_validate_json(cfg.model_dump_json()) == cfg


def test_hashed_identifiers_resolve_like_clear_ones() -> None:
    salt = b"a-secret-salt-of-some-length"

    def hashed(r: dict[str, Any]) -> dict[str, Any]:
        idents = [hash_identifier(Identifier(kind=k, value=v), salt) for k, v in r["identifiers"]]
        return {**r, "identifiers": idents}

    clear = resolve(SHARED_DEVICE)
    res = resolve([hashed(r) for r in SHARED_DEVICE])
    assert groups(res) == groups(clear)
    assert all(i.hashed for p in res.profiles() for i in p.identifiers)


def test_records_accept_models_dicts_and_tuples() -> None:
    model = IdentityRecord(record_id="a", identifiers=[Identifier(kind="member_id", value="M1")])
    res = resolve(
        [model, {"record_id": "b", "identifiers": [{"kind": "member_id", "value": "M1"}]}]
    )
    assert groups(res) == {"a": ("a", "b")}


def test_lookups() -> None:
    res = resolve(SHARED_DEVICE)
    assert res.n_records == 3
    assert res.n_profiles == 2
    assert res.profile_ids.tolist() == ["a", "b"]
    with pytest.raises(ArgumentError, match="unknown profile id 'c'"):
        res.profile("c")
    with pytest.raises(ArgumentError, match="unknown record id 1"):
        res.profile_of(1)
    assert res != resolve(SHARED_DEVICE[:2])
    assert res == resolve(SHARED_DEVICE)
