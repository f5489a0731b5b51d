"""Incremental resolution on both faces (issue 18 item 7): new records given as dicts
(``add_records``) or as a table (``add_table``), onto a resolution of records or of a table,
give exactly what resolving everything again gives. The expected value is always the full
re-resolution by ``resolve``/``resolve_table``, an independent code path (no incremental step)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientmodel.errors import ArgumentError, DataError
from clientmodel.identity import (
    IdentityConfig,
    add_records,
    add_table,
    resolve,
    resolve_table,
    unmerge_many,
)

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
POOL = [
    ("member_id", "M0", None), ("member_id", "M1", None), ("wechat_unionid", "U0", None),
    ("wechat_openid", "o0", "wx1"), ("wechat_openid", "o1", "wx2"),
    ("phone", "+86 138 0000 0001", None), ("phone", "+8613800000002", None),
    ("phone", "null", None),
    ("email", "A@x.io", None), ("email", "b@x.io", None),
    ("device_id", "D0", None), ("device_id", "D1", None), ("device_id", "kiosk-7", None),
    ("cookie_id", "C0", None), ("cookie_id", "C1", None), ("cookie_id", "anonymous", None),
]  # fmt: skip
CONFIGS = [
    IdentityConfig(),
    IdentityConfig()
    .with_rule("device_id", limit=1, blocked_patterns=("kiosk-[0-9]+",))
    .with_rule("phone", limit=1),
    IdentityConfig().with_rule("cookie_id", limit=2, window=dt.timedelta(days=3)),
    IdentityConfig(max_records=3, never_merge=[("r1", "r3")], always_merge=[("r0", "r4")]),
]


@st.composite
def scenarios(draw):
    """Records (every one with a time and an identifier: a table has no record without rows),
    split into old and new; each record's rows may carry different times."""
    config = draw(st.sampled_from(CONFIGS))
    n = draw(st.integers(1, 9))
    records = []
    for i in range(n):
        idents = draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=4))
        hours = draw(st.lists(st.integers(0, 100), min_size=len(idents), max_size=len(idents)))
        records.append((f"r{i}", idents, [T0 + dt.timedelta(hours=h) for h in hours]))
    order = draw(st.permutations(range(n)))
    cut = draw(st.integers(0, n))
    records = [records[i] for i in order]
    return records[:cut], records[cut:], config


def as_dicts(records):
    return [
        {"record_id": rid, "identifiers": [(k, v) if s is None else (k, v, s) for k, v, s in ids],
         "timestamp": min(times)}
        for rid, ids, times in records
    ]  # fmt: skip


def as_table(records):
    rows = [(rid, k, v, s, t) for rid, ids, times in records
            for (k, v, s), t in zip(ids, times, strict=True)]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["record_id", "kind", "value", "scope", "timestamp"])
    return frame.astype({"record_id": str, "kind": str, "value": str})


def row_times(res):
    """Each row's time (the table face keeps them: unmerging a row may re-time its record)."""
    prep = res._prep
    if prep.row_time is None:
        return None
    keys = [prep.identifier_tuple(k) for k in prep.row_key.tolist()]
    ids = prep.record_ids[prep.row_record].tolist()
    return sorted(zip(ids, keys, prep.row_time.tolist(), strict=True))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_dicts_or_a_table_onto_records_or_a_table_equal_resolving_everything(scenario):
    old, new, config = scenario
    full_table = resolve_table(as_table(old + new), config)
    full_records = resolve(as_dicts(old + new), config)
    assert full_table == full_records  # the two faces agree to begin with
    onto_table = resolve_table(as_table(old), config)
    onto_records = resolve(as_dicts(old), config)
    for start in (onto_table, onto_records):
        assert add_records(start, as_dicts(new)) == full_records
        assert add_table(start, as_table(new)) == full_records
    # the table face also keeps each row's time exactly as a full re-resolution does
    added = add_table(onto_table, as_table(new))
    assert row_times(added) == row_times(full_table)
    if new:
        some = [new[0][0]]
        assert unmerge_many(added, records=some) == unmerge_many(full_table, records=some)


@pytest.mark.parametrize("frame", [pl.DataFrame, pa.table, dict])
def test_any_frame_kind_is_added_alike(frame):
    start = resolve([{"record_id": "a", "identifiers": [("email", "x@y.io")], "timestamp": T0}])
    columns = {
        "record_id": ["b", "b", "c"],
        "kind": ["email", "phone", "phone"],
        "value": ["X@y.io", "+86 138 0013 8000", "+8613800138000"],
        "timestamp": [T0, T0, T0 + dt.timedelta(days=1)],
    }
    expected = resolve(
        [
            {"record_id": "a", "identifiers": [("email", "x@y.io")], "timestamp": T0},
            {"record_id": "b", "identifiers": [("email", "x@y.io"), ("phone", "+8613800138000")],
             "timestamp": T0},
            {"record_id": "c", "identifiers": [("phone", "+8613800138000")],
             "timestamp": T0 + dt.timedelta(days=1)},
        ]
    )  # fmt: skip
    added = add_table(start, frame(columns))
    assert added == expected
    assert added.profile_of("c") == "a"


def test_a_table_in_another_timezone_is_refused_then_converted():
    start = resolve([{"record_id": "a", "identifiers": [("email", "x@y.io")], "timestamp": T0}])
    east = pd.DataFrame(
        {"record_id": ["b"], "kind": ["email"], "value": ["x@y.io"],
         "timestamp": [pd.Timestamp("2024-01-01 09:00", tz="Asia/Shanghai")]}
    )  # fmt: skip
    with pytest.raises(DataError, match=r"Asia/Shanghai.*pass tz='UTC'"):
        add_table(start, east)
    added = add_table(start, east, tz="UTC")
    assert added.records_table()["profile_id"].tolist() == ["a", "a"]


def test_add_table_refuses_known_ids_and_bad_arguments():
    start = resolve_table({"record_id": ["a"], "kind": ["email"], "value": ["x@y.io"]})
    with pytest.raises(DataError, match="already resolved"):
        add_table(start, {"record_id": ["a"], "kind": ["email"], "value": ["z@y.io"]})
    with pytest.raises(DataError, match="id type"):
        add_table(start, {"record_id": [5], "kind": ["email"], "value": ["z@y.io"]})
    with pytest.raises(ArgumentError, match="resolution"):
        add_table("not a resolution", {"record_id": ["b"], "kind": ["email"], "value": ["z@y.io"]})
    empty = {"record_id": [], "kind": [], "value": []}
    assert add_table(start, pd.DataFrame(empty).astype(str)) is start


def test_old_keys_without_an_arrow_copy_are_searched_in_python(monkeypatch):
    # both faces keep an arrow copy of the key values when pyarrow is installed; without it
    # (or after unmerge re-times records) the new values are looked up by a Python pass
    import clientmodel.identity._prepare as prepare

    old = [("a", [("email", "x@y.io", None)], [T0]), ("b", [("device_id", "D0", None)], [T0])]
    new = [("c", [("email", "X@y.io", None), ("device_id", "D0", None)], [T0])]
    monkeypatch.setattr(prepare, "_optional", lambda name: None)
    start = resolve(as_dicts(old))
    monkeypatch.undo()
    assert start._prep.key_arrow is None
    assert resolve(as_dicts(old))._prep.key_arrow is not None
    added = add_records(start, as_dicts(new))
    assert added == resolve(as_dicts(old + new))
    assert added.n_profiles == 1
