"""Audiences over rule predicates (needs clientmodel.rules)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from clientmodel.errors import ArgumentError
from clientmodel.segments.audiences import (
    Audience,
    AudienceOverlap,
    audience_overlap,
    audience_table,
    audiences_of,
)

TABLE = {
    "customer_id": ["a", "b", "c", "d"],
    "r": [5, 4, 1, 2],
    "m": [5, 1, 5, 2],
    "stage": ["repeat", "new", "dormant", "at_risk"],
}
AUDIENCES = {"recent": "r >= 4", "big": "m >= 4", "lapsed_big": "r <= 2 and m >= 4"}


def test_table_record_and_overlap_by_hand():
    out = audience_table(pd.DataFrame(TABLE), AUDIENCES)
    assert out["recent"].tolist() == [True, True, False, False]
    assert out["big"].tolist() == [True, False, True, False]
    assert out["lapsed_big"].tolist() == [False, False, True, False]
    for i, cid in enumerate(TABLE["customer_id"]):
        record = {k: v[i] for k, v in TABLE.items()}
        expected = [n for n in AUDIENCES if out[n].iloc[i]]
        assert audiences_of(record, AUDIENCES) == expected, cid
    ov = audience_overlap(TABLE, AUDIENCES)
    # recent {a, b}, big {a, c}, lapsed_big {c}.
    np.testing.assert_array_equal(ov.counts, [[2, 1, 0], [1, 2, 1], [0, 1, 1]])
    np.testing.assert_allclose(ov.jaccard()[0, 1], 1 / 3)


def test_lazy_tables_stay_lazy_and_answer_like_eager_ones():
    pl = pytest.importorskip("polars")
    lazy = audience_table(pl.LazyFrame(TABLE), AUDIENCES)
    # Before: the lazy frame was collected and a DataFrame came back.
    assert isinstance(lazy, pl.LazyFrame)
    out = lazy.collect()
    assert out["customer_id"].to_list() == TABLE["customer_id"]
    assert out["lapsed_big"].to_list() == [False, False, True, False]
    ov = audience_overlap(pl.LazyFrame(TABLE), AUDIENCES)
    np.testing.assert_array_equal(ov.counts, [[2, 1, 0], [1, 2, 1], [0, 1, 1]])


def test_rules_given_as_trees_or_json():
    from clientmodel import rules

    tree = rules.parse("r <= 2 and m >= 4")
    as_json = json.loads(rules.rule_to_json(tree))
    for rule in (tree, as_json):
        audience = Audience("lapsed_big", rule)
        assert audience.parsed() == tree
        assert audience.to_dict() == {"name": "lapsed_big", "rule": "r <= 2 and m >= 4"}
        out = audience_table(TABLE, [audience])
        assert out["lapsed_big"].tolist() == [False, False, True, False]
        assert audiences_of({"r": 1, "m": 5}, [audience]) == ["lapsed_big"]


def test_overlap_object_and_names():
    ov = AudienceOverlap(("a", "b"), np.array([[2, 2], [2, 4]]), 6)
    # a is inside b: |a & b| / |a | b| = 2 / 4.
    assert ov.jaccard()[0, 1] == 0.5
    assert json.loads(json.dumps(ov.to_dict()))["n_rows"] == 6
    assert Audience.from_dict(Audience("x", "r >= 1").to_dict()) == Audience("x", "r >= 1")
    with pytest.raises(ArgumentError, match="non-empty"):
        Audience("", "r >= 1")
    with pytest.raises(ArgumentError, match="unique"):
        audience_table(TABLE, [Audience("x", "r >= 1"), Audience("x", "r >= 2")])


def test_glue_by_hand_on_a_mapping():
    out = audience_table(TABLE, AUDIENCES)
    assert out["customer_id"].tolist() == TABLE["customer_id"]
    assert out["recent"].tolist() == [True, True, False, False]
    assert out["lapsed_big"].tolist() == [False, False, True, False]
    assert audiences_of({"r": 1, "m": 5}, AUDIENCES) == ["big", "lapsed_big"]
    ov = audience_overlap(pd.DataFrame(TABLE), [Audience(n, r) for n, r in AUDIENCES.items()])
    # recent {a, b}, big {a, c}, lapsed_big {c}: hand count of the pairwise intersections.
    np.testing.assert_array_equal(ov.counts, [[2, 1, 0], [1, 2, 1], [0, 1, 1]])
    assert ov.names == ("recent", "big", "lapsed_big")


def test_priority_and_suppression():
    table = {**TABLE, "unsubscribed": [False, False, True, False]}
    # Priority in the given order: a (recent and big) only in recent; c (big, lapsed_big) in big.
    out = audience_table(table, AUDIENCES, exclusive=True)
    assert out["recent"].tolist() == [True, True, False, False]
    assert out["big"].tolist() == [False, False, True, False]
    assert out["lapsed_big"].tolist() == [False, False, False, False]
    assert (out["recent"].astype(int) + out["big"] + out["lapsed_big"]).max() == 1
    # Suppression: c is unsubscribed, so in no audience at all.
    sup = audience_table(table, AUDIENCES, suppress="unsubscribed")
    assert [sup[n][2] for n in AUDIENCES] == [False, False, False]
    assert sup["big"].tolist() == [True, False, False, False]
    pl = pytest.importorskip("polars")
    for kw in ({"exclusive": True}, {"suppress": "unsubscribed"}):
        lazy = audience_table(pl.LazyFrame(table), AUDIENCES, **kw).collect()
        eager = audience_table(table, AUDIENCES, **kw)
        for n in AUDIENCES:
            assert lazy[n].to_list() == eager[n].tolist()
    with pytest.raises(ArgumentError, match="exclusive"):
        audience_table(table, AUDIENCES, exclusive="yes")


def test_entry_and_exit_between_two_runs():
    from clientmodel.errors import DataError
    from clientmodel.segments import audience_changes

    monday = audience_table(pd.DataFrame(TABLE), AUDIENCES)
    later = {**TABLE, "customer_id": ["a", "b", "c", "e"], "r": [1, 4, 5, 5]}
    friday = audience_table(pd.DataFrame(later), AUDIENCES)
    changes = audience_changes(monday, friday)
    assert isinstance(changes, pd.DataFrame)
    got = set(zip(changes["customer_id"], changes["audience"], changes["change"], strict=True))
    # a: r 5 -> 1, so leaves recent and joins lapsed_big; c: r 1 -> 5, joins recent, leaves
    # lapsed_big; d is gone (was in nothing); e is new with r 5, m 2: enters recent.
    assert got == {
        ("a", "recent", "exited"),
        ("a", "lapsed_big", "entered"),
        ("c", "recent", "entered"),
        ("c", "lapsed_big", "exited"),
        ("e", "recent", "entered"),
    }
    with pytest.raises(DataError, match=r"before.*after"):
        audience_changes(monday, friday.assign(customer_id=[1, 2, 3, 4]))
