"""Never-merge rules (issue 18 item 2): worked by hand, and fast path == sequential pass."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientmodel.identity import IdentityConfig, IdentityRecord, resolve
from clientmodel.identity import _engine as engine
from clientmodel.identity import _prepare as prepare

NEVER = IdentityConfig(never_merge=[("a", "b")])


def groups(res):
    return {p.profile_id: tuple(sorted(p.record_ids)) for p in res.profiles()}


def test_two_records_kept_apart():
    # a and b share a phone; the rule keeps them apart: b's phone merge is refused.
    records = [
        {"record_id": "a", "identifiers": [("email", "a@x.io"), ("phone", "+8613800000001")]},
        {"record_id": "b", "identifiers": [("email", "b@x.io"), ("phone", "+8613800000001")]},
    ]
    assert groups(resolve(records)) == {"a": ("a", "b")}
    res = resolve(records, NEVER)
    assert groups(res) == {"a": ("a",), "b": ("b",)}
    (refusal,) = res.refusals
    assert (refusal.record_id, refusal.identifier.kind.value, refusal.limit) == ("b", "phone", -2)
    assert "never-merge" in refusal.reason


def test_a_third_record_cannot_bridge_them():
    # c carries both emails: it joins a (a@ comes first), then b@ would bring b in: refused.
    records = [
        {"record_id": "a", "identifiers": [("email", "a@x.io")]},
        {"record_id": "b", "identifiers": [("email", "b@x.io")]},
        {"record_id": "c", "identifiers": [("email", "a@x.io"), ("email", "b@x.io")]},
    ]
    res = resolve(records, NEVER)
    assert groups(res) == {"a": ("a", "c"), "b": ("b",)}
    assert [(r.record_id, r.identifier.value, r.owner_record_id) for r in res.refusals] == [
        ("c", "b@x.io", "b")
    ]


def test_the_rule_survives_with_rule_and_json():
    cfg = NEVER.with_rule("phone", limit=1)
    assert cfg.never_merge == NEVER.never_merge
    assert IdentityConfig.model_validate_json(cfg.model_dump_json()) == cfg


POOL = [("email", "a@x.io"), ("email", "b@x.io"), ("phone", "+8613800000001"),
        ("phone", "+8613800000002"), ("device_id", "D"), ("member_id", "M")]  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.sampled_from(POOL), max_size=3), max_size=8))
def test_fast_path_equals_the_sequential_pass(idents):
    records = [IdentityRecord(record_id=f"r{i}", identifiers=x) for i, x in enumerate(idents)]
    config = IdentityConfig(never_merge=[("r0", "r1"), ("r2", "r5")])
    prep = prepare.from_records(records, config._blocked())
    rules = config._arrays()
    fast = engine.resolve_arrays(prep, rules)
    slow = engine.resolve_arrays(prep, rules, fast=False)
    assert np.array_equal(fast.record_label, slow.record_label)
    assert np.array_equal(fast.row_status, slow.row_status)
    assert fast.refusals == slow.refusals
