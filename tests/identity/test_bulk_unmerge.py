"""Bulk unmerge (issue 18 item 2): one call == unmerging one at a time == resolving the rest."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientmodel.errors import ArgumentError
from clientmodel.identity import (
    IdentityConfig,
    resolve,
    resolve_table,
    unmerge,
    unmerge_many,
    without_records,
)

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
POOL = [("email", "a@x.io"), ("email", "b@x.io"), ("phone", "+8613800000001"),
        ("member_id", "M1"), ("member_id", "M2"), ("device_id", "D1"), ("device_id", "D2"),
        ("cookie_id", "C1")]  # fmt: skip
CONFIGS = [IdentityConfig(), IdentityConfig(max_records=3, always_merge=[("r0", "r4")])]


@st.composite
def scenarios(draw):
    n = draw(st.integers(1, 8))
    records = [
        {
            "record_id": f"r{i}",
            "identifiers": draw(st.lists(st.sampled_from(POOL), max_size=3, unique=True)),
            "timestamp": T0 + dt.timedelta(hours=draw(st.integers(0, 5))),
        }
        for i in range(n)
    ]
    carried = sorted({i for r in records for i in r["identifiers"]})
    gone_ids = draw(st.lists(st.sampled_from(carried), unique=True)) if carried else []
    gone_records = draw(st.lists(st.sampled_from([r["record_id"] for r in records]), unique=True))
    return records, gone_records, gone_ids, draw(st.sampled_from(CONFIGS))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_one_call_equals_one_at_a_time_and_resolving_the_rest(scenario):
    records, gone_records, gone_ids, config = scenario
    res = resolve(records, config)
    looped = res
    for ident in gone_ids:  # identifiers first: each is still carried by some record
        looped = unmerge(looped, identifier=ident)
    for rid in gone_records:
        looped = unmerge(looped, record=rid)
    bulk = unmerge_many(res, records=gone_records, identifiers=gone_ids)
    rest = [
        {**r, "identifiers": [i for i in r["identifiers"] if i not in gone_ids]}
        for r in records
        if r["record_id"] not in gone_records
    ]
    assert bulk == looped == resolve(rest, config)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_table_face_bulk_unmerge_equals_resolving_the_rest(scenario):
    # rows carry their own times: removing a record's earliest row moves the record
    records, gone_records, gone_ids, config = scenario

    def table(recs):
        rows = [
            (r["record_id"], k, v, r["timestamp"] + dt.timedelta(minutes=j))
            for r in recs
            for j, (k, v) in enumerate(r["identifiers"])
        ]
        return pd.DataFrame(rows, columns=["record_id", "kind", "value", "timestamp"])

    res = resolve_table(table(records), config)
    present = set(res.record_ids.tolist())
    gone_records = [r for r in gone_records if r in present]
    rest = [
        {**r, "identifiers": [i for i in r["identifiers"] if i not in gone_ids]}
        for r in records
        if r["record_id"] not in gone_records
    ]
    bulk = unmerge_many(res, records=gone_records, identifiers=gone_ids)
    expected = resolve_table(table(rest), config)
    # a record left without rows is not in a table at all: compare the records that are

    def profiles(res, ids):
        t = res.records_table()
        return {
            (r, p, str(ts))
            for r, p, ts in zip(t["record_id"], t["profile_id"], t["timestamp"], strict=True)
            if r in ids
        }

    ids = set(expected.record_ids.tolist())
    assert profiles(bulk, ids) == profiles(expected, ids)
    assert {r.reason for r in bulk.refusals} == {r.reason for r in expected.refusals}


def test_without_records_is_bulk_unmerge():
    res = resolve([{"record_id": "a", "identifiers": [("email", "x@y.io")]},
                   {"record_id": "b", "identifiers": [("email", "x@y.io")]},
                   {"record_id": "c", "identifiers": [("email", "x@y.io")]}])  # fmt: skip
    assert without_records(res, ["a", "b"]) == unmerge_many(res, records=["b", "a"])
    assert without_records(res, ["a", "b"]).profile_ids.tolist() == ["c"]


def test_bad_arguments_name_what_is_wrong():
    res = resolve([{"record_id": "a", "identifiers": [("email", "x@y.io")]}])
    with pytest.raises(ArgumentError, match="unknown record id 'z'"):
        unmerge_many(res, records=["a", "z"])
    with pytest.raises(ArgumentError, match="unknown record id 7"):
        unmerge_many(res, records=[7])
    with pytest.raises(ArgumentError, match="no record carries the email identifier 'no…io'"):
        unmerge_many(res, identifiers=[("email", "nobody@y.io")])
    with pytest.raises(ArgumentError, match="records must be a list"):
        unmerge_many(res, records="a")
    with pytest.raises(ArgumentError, match="resolution must be a Resolution"):
        unmerge_many([], records=["a"])
    assert unmerge_many(res) == res
