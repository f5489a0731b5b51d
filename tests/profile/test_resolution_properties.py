"""Property tests of identity resolution.

* order independence (shuffled records and identifiers);
* reversibility: ``unmerge(resolve(R), r) == resolve(R - r)`` for records, identifiers and one
  identifier of one record;
* every identifier ends in exactly one profile, no key is matched by two profiles, every profile
  keeps every limit;
* record face == table face (pandas, polars, mapping);
* the vectorised fast path == the sequential pass on everything == a deliberately naive
  reference implementation of the rules written here, independently of the library's engine.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from typing import Any

import pandas as pd
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientmodel.identity import _engine as engine
from clientmodel.profile.identifiers import IdentifierKind, is_blocked
from clientmodel.profile.resolution import Resolution, resolve, resolve_table, unmerge
from clientmodel.profile.resolution_rules import DEFAULT_RULES, IdentityConfig, IdentityRecord

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 1, 1, tzinfo=UTC)
KIND_ORDER = list(DEFAULT_RULES)  # ties between priorities: the documented table order

POOL: list[tuple[str, str, str | None]] = [
    ("member_id", "M0", None),
    ("member_id", "M1", None),
    ("member_id", "M2", None),
    ("wechat_unionid", "U0", None),
    ("wechat_unionid", "U1", None),
    ("wechat_openid", "o0", "wx1"),
    ("wechat_openid", "o1", "wx1"),
    ("wechat_openid", "o0", "wx2"),
    ("phone", "+8613800000001", None),
    ("phone", "+8613800000002", None),
    ("phone", "null", None),
    ("phone", "", None),
    ("email", "a@x.io", None),
    ("email", "A@X.IO", None),
    ("email", "b@x.io", None),
    ("device_id", "D0", None),
    ("device_id", "D1", None),
    ("device_id", "D2", None),
    ("device_id", "unknown", None),
    ("device_id", "kiosk", None),
    ("cookie_id", "C0", None),
    ("cookie_id", "C1", None),
    ("cookie_id", "C2", None),
    ("cookie_id", "C3", None),
]

CONFIGS = {
    "default": IdentityConfig(),
    "tight": IdentityConfig()
    .with_rule("device_id", limit=1)
    .with_rule("phone", limit=1, priority=9)
    .with_rule("email", joins=False)
    .with_rule("device_id", blocked=("kiosk",)),
    "window": IdentityConfig()
    .with_rule("cookie_id", limit=2, window=dt.timedelta(days=3))
    .with_rule("device_id", priority=2, limit=2, window=dt.timedelta(days=5)),
}


def windowed(config: IdentityConfig) -> bool:
    return any(r.window is not None for r in config.rules.values())


@st.composite
def scenarios(draw: Any, max_records: int = 9) -> tuple[list[dict[str, Any]], IdentityConfig]:
    name = draw(st.sampled_from(sorted(CONFIGS)))
    config = CONFIGS[name]
    n = draw(st.integers(0, max_records))
    ints = draw(st.booleans())
    labels = draw(st.permutations(range(n)))
    records = []
    for i in range(n):
        idents = draw(st.lists(st.sampled_from(POOL), min_size=0, max_size=4))
        t = draw(st.integers(0, 6) if windowed(config) else st.none() | st.integers(0, 6))
        records.append(
            {
                "record_id": labels[i] if ints else f"r{labels[i]}",
                "identifiers": [(k, v) if s is None else (k, v, s) for k, v, s in idents],
                "timestamp": None if t is None else T0 + dt.timedelta(days=t),
            }
        )
    return records, config


def shuffled(records: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = [
        {**r, "identifiers": rng.sample(r["identifiers"], len(r["identifiers"]))} for r in records
    ]
    rng.shuffle(out)
    return out


FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------- the reference


def reference(
    records: list[dict[str, Any]], config: IdentityConfig
) -> tuple[set[frozenset[Any]], dict[tuple[Any, tuple[Any, ...]], str]]:
    """The rules in their plainest form: profiles as sets, merges by moving members."""
    recs = [IdentityRecord.model_validate(r) for r in records]
    recs.sort(key=lambda r: (r.timestamp is None, r.timestamp or T0, r.record_id))
    profile_of: dict[Any, int] = {}
    members: dict[int, set[Any]] = {}
    values: dict[int, dict[tuple[str, str], dict[tuple[Any, ...], dt.datetime]]] = {}
    owner: dict[tuple[Any, ...], Any] = {}
    status: dict[tuple[Any, tuple[Any, ...]], str] = {}
    strong: dict[int, set[tuple[str, str]]] = {}  # profile -> bridging groups it holds

    def too_many(found: dict[tuple[Any, ...], dt.datetime], rule: Any) -> bool:
        if len(found) <= rule.limit:
            return False
        if rule.window is None:
            return True
        times = sorted(found.values())
        return any(sum(1 for u in times if t <= u < t + rule.window) > rule.limit for t in times)

    for n, r in enumerate(recs):
        profile_of[r.record_id] = n
        members[n] = {r.record_id}
        values[n] = {}
        t = r.timestamp or T0
        idents = {(i.kind, i.scope, i.value, i.hashed) for i in r.identifiers}
        for kind, scope, value, hashed in sorted(
            idents,
            key=lambda i: (config.rule(i[0]).priority, KIND_ORDER.index(i[0]), i[1] or "", i[2]),
        ):
            key = (kind, scope, value, hashed)
            rule = config.rule(kind)
            if is_blocked(value) or value.lower() in rule.blocked:
                status[(r.record_id, key)] = "blocked"
                continue
            if not rule.joins:
                status[(r.record_id, key)] = "not_joining"
                continue
            mine = profile_of[r.record_id]
            group = (kind.value, scope or "")
            if key not in owner:
                if rule.limit is not None:
                    found = {**values[mine].get(group, {}), key: t}
                    if too_many(found, rule):
                        status[(r.record_id, key)] = "refused"
                        continue
                    values[mine].setdefault(group, {})[key] = t
                owner[key] = r.record_id
                status[(r.record_id, key)] = "matched"
                if rule.bridges:
                    strong.setdefault(mine, set()).add(group)
                continue
            other = profile_of[owner[key]]
            if other == mine:
                status[(r.record_id, key)] = "matched"
                continue
            refused = False
            for g in set(values[mine]) & set(values[other]):
                found = {**values[mine][g], **values[other][g]}
                if too_many(found, config.rule(g[0])):
                    refused = True
            if not rule.bridges and strong.get(mine, set()) & strong.get(other, set()):
                refused = True
            if refused:
                status[(r.record_id, key)] = "refused"
                continue
            if other in strong:
                strong.setdefault(mine, set()).update(strong.pop(other))
            for m in members.pop(other):
                profile_of[m] = mine
                members[mine].add(m)
            for g, found in values.pop(other).items():
                values[mine].setdefault(g, {}).update(found)
            status[(r.record_id, key)] = "matched"
    return {frozenset(m) for m in members.values()}, status


def observed(
    res: Resolution,
) -> tuple[set[frozenset[Any]], dict[tuple[Any, tuple[Any, ...]], str]]:
    partition = {frozenset(p.record_ids) for p in res.profiles()}
    status = {}
    for r in res.to_dict()["records"]:
        for i in r["identifiers"]:
            key = (IdentifierKind(i["kind"]), i["scope"], i["value"], i["hashed"])
            status[(r["record_id"], key)] = i["status"]
    return partition, status


# --------------------------------------------------------------------------- properties


@FAST
@given(scenario=scenarios(), seed=st.integers(0, 2**16))
def test_result_does_not_depend_on_input_order(
    scenario: tuple[list[dict[str, Any]], IdentityConfig], seed: int
) -> None:
    records, config = scenario
    a = resolve(records, config)
    b = resolve(shuffled(records, seed), config)
    assert a == b
    assert a.to_dict() == b.to_dict()
    assert a.profile_ids.tolist() == b.profile_ids.tolist()


@FAST
@given(scenario=scenarios())
def test_fast_path_sequential_pass_and_reference_agree(
    scenario: tuple[list[dict[str, Any]], IdentityConfig],
) -> None:
    records, config = scenario
    res = resolve(records, config)
    assert observed(res) == reference(records, config)
    prep, rules = res._prep, config._arrays()
    slow = engine.resolve_arrays(prep, rules, fast=False)
    fast = engine.resolve_arrays(prep, rules, fast=True)
    assert slow.record_label.tolist() == fast.record_label.tolist()
    assert slow.row_status.tolist() == fast.row_status.tolist()
    assert slow.refusals == fast.refusals


@FAST
@given(scenario=scenarios(), data=st.data())
def test_unmerge_a_record_equals_resolving_without_it(
    scenario: tuple[list[dict[str, Any]], IdentityConfig], data: Any
) -> None:
    records, config = scenario
    if not records:
        return
    res = resolve(records, config)
    gone = data.draw(st.sampled_from([r["record_id"] for r in records]))
    rest = [r for r in records if r["record_id"] != gone]
    assert unmerge(res, record=gone) == resolve(rest, config)


def _drop(identifiers: list[tuple[str, ...]], target: tuple[str, ...], config: Any) -> list[Any]:
    from clientmodel.profile.identifiers import Identifier

    def ident(t: tuple[str, ...]) -> Identifier:
        return Identifier.model_validate(dict(zip(("kind", "value", "scope"), t, strict=False)))

    goal = ident(target)
    return [t for t in identifiers if ident(t) != goal]


@FAST
@given(scenario=scenarios(), data=st.data())
def test_unmerge_an_identifier_equals_resolving_without_it(
    scenario: tuple[list[dict[str, Any]], IdentityConfig], data: Any
) -> None:
    records, config = scenario
    carried = [(r["record_id"], i) for r in records for i in r["identifiers"]]
    if not carried:
        return
    rid, target = data.draw(st.sampled_from(carried))
    res = resolve(records, config)
    everywhere = [{**r, "identifiers": _drop(r["identifiers"], target, config)} for r in records]
    assert unmerge(res, identifier=target) == resolve(everywhere, config)
    one = [
        {**r, "identifiers": _drop(r["identifiers"], target, config)}
        if r["record_id"] == rid
        else r
        for r in records
    ]
    assert unmerge(res, record=rid, identifier=target) == resolve(one, config)


@FAST
@given(scenario=scenarios())
def test_every_identifier_ends_in_exactly_one_profile_and_limits_hold(
    scenario: tuple[list[dict[str, Any]], IdentityConfig],
) -> None:
    records, config = scenario
    res = resolve(records, config)
    profiles = res.profiles()
    # every record in exactly one profile
    all_records = [r for p in profiles for r in p.record_ids]
    assert sorted(map(str, all_records)) == sorted(str(r["record_id"]) for r in records)
    # every (record, identifier) occurrence on exactly its record's profile
    table = res.identifiers_table()
    n_rows = len(table["record_id"])
    distinct = {
        (r["record_id"], k, s, v)
        for r in records
        for k, v, s in [(i[0], i[1], i[2] if len(i) > 2 else None) for i in r["identifiers"]]
    }
    assert n_rows <= len(distinct)  # duplicates (after normalisation) collapse
    for rid, pid in zip(table["record_id"], table["profile_id"], strict=True):
        assert res.profile_of(rid) == pid
    # a key is matched on at most one profile; each non-blocked joining key of a profile is
    # either matched there or refused
    matched_on: dict[Any, set[Any]] = {}
    for p in profiles:
        for ident, status in zip(p.identifiers, p.statuses, strict=True):
            if status.value == "matched":
                matched_on.setdefault(ident, set()).add(p.profile_id)
            rule = config.rule(ident.kind)
            if not ident.is_placeholder and ident.value.lower() not in rule.blocked and rule.joins:
                assert status.value in ("matched", "refused")
    assert all(len(v) == 1 for v in matched_on.values())
    # limits hold among matched identifiers
    for p in profiles:
        counts: dict[tuple[Any, Any], int] = {}
        for ident in p.matched:
            counts[(ident.kind, ident.scope)] = counts.get((ident.kind, ident.scope), 0) + 1
        for (kind, _), c in counts.items():
            rule = config.rule(kind)
            if rule.limit is not None and rule.window is None:
                assert c <= rule.limit


def as_table(records: list[dict[str, Any]]) -> dict[str, list[Any]]:
    cols: dict[str, list[Any]] = {"record_id": [], "kind": [], "value": [], "scope": []}
    times = []
    for r in records:
        for i in r["identifiers"]:
            cols["record_id"].append(r["record_id"])
            cols["kind"].append(i[0])
            cols["value"].append(i[1])
            cols["scope"].append(i[2] if len(i) > 2 else None)
            times.append(r["timestamp"])
    if any(t is not None for t in times):
        cols["timestamp"] = times
    return cols


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_record_face_equals_table_face(
    scenario: tuple[list[dict[str, Any]], IdentityConfig],
) -> None:
    records, config = scenario
    timed = all(r["timestamp"] is not None for r in records)
    records = [
        r if timed else {**r, "timestamp": None} for r in records if r["identifiers"]
    ]  # a long table has no rows for a record without identifiers
    if not records:
        return
    expected = resolve(records, config)
    cols = as_table(records)
    frames = [cols, pd.DataFrame(cols), pl.DataFrame(cols, strict=False)]
    for frame in frames:
        got = resolve_table(frame, config)
        assert got == expected
        assert got.to_dict() == expected.to_dict()


@settings(max_examples=60, deadline=None)
@given(scenario=scenarios())
def test_json_round_trip_loses_nothing(
    scenario: tuple[list[dict[str, Any]], IdentityConfig],
) -> None:
    records, config = scenario
    res = resolve(records, config)
    back = Resolution.from_dict(json.loads(json.dumps(res.to_dict())))
    assert back == res
    for pid in res.profile_ids.tolist()[:3]:
        assert back.explain(pid).to_dict() == res.explain(pid).to_dict()
