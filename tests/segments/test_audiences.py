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


def test_lazy_tables_are_collected_once_and_answer_like_eager_ones():
    pl = pytest.importorskip("polars")
    out = audience_table(pl.LazyFrame(TABLE), AUDIENCES)
    assert isinstance(out, pl.DataFrame)
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
