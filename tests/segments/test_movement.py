"""Migration matrices."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from clientmodel.errors import DataError
from clientmodel.segments import STAGES, Migration, lifecycle_stages, migration, migration_between


def test_migration_by_hand():
    before = {"customer_id": [1, 2, 3, 4], "label": ["A", "A", "B", "B"]}
    after = pd.DataFrame({"customer_id": [1, 2, 3, 5], "label": ["A", "B", "B", "A"]})
    m = migration(before, after)
    assert m.labels_from == ("A", "B", "absent")
    assert m.labels_to == ("A", "B", "absent")
    # Hand count: 1 A->A, 2 A->B, 3 B->B, 4 B->absent, 5 absent->A.
    np.testing.assert_array_equal(m.counts, [[1, 1, 0], [0, 1, 1], [1, 0, 0]])
    assert m.members == {
        ("A", "A"): (1,),
        ("A", "B"): (2,),
        ("B", "B"): (3,),
        ("B", "absent"): (4,),
        ("absent", "A"): (5,),
    }
    np.testing.assert_allclose(m.shares()[0], [0.5, 0.5, 0.0])
    back = Migration.from_dict(json.loads(json.dumps(m.to_dict())))
    assert back.members == m.members
    np.testing.assert_array_equal(back.counts, m.counts)


def test_duplicates_rejected():
    with pytest.raises(DataError, match="more than once"):
        migration(
            {"customer_id": [1, 1], "label": ["a", "b"]}, {"customer_id": [1], "label": ["a"]}
        )


def test_lifecycle_migration_between_dates():
    log = {
        "customer_id": ["a", "b", "b", "c"],
        "timestamp": ["2024-01-10", "2024-01-05", "2024-05-20", "2024-05-25"],
    }
    m = migration_between(
        log,
        start="2024-01-31",
        end="2024-05-31",
        classify=lambda t, d: lifecycle_stages(t, as_of=d, after_as_of="exclude"),
        order=STAGES,
    )
    # At 01-31 a and b are new; at 05-31 a (142 days) is at risk, b bought again (repeat)
    # and c is new.
    assert m.labels_from == ("new", "absent")
    assert m.members == {
        ("new", "at_risk"): ("a",),
        ("new", "repeat"): ("b",),
        ("absent", "new"): ("c",),
    }
    assert int(m.counts.sum()) == 3


def test_rfm_segment_migration_with_fixed_scorer():
    from clientmodel.segments import RFMScorer, rfm_values

    scorer = RFMScorer.fixed(
        k=5, recency=[7, 30, 60, 120], frequency=[1, 2, 4, 8], monetary=[0] * 4
    )
    log = {
        "customer_id": ["x"] * 3 + ["y"],
        "timestamp": ["2024-01-02", "2024-01-20", "2024-01-30", "2024-01-25"],
        "amount": [1.0, 1.0, 1.0, 1.0],
    }

    def segments(t, d):
        return scorer.score(rfm_values(t, as_of=d, after_as_of="exclude"), segments="default")

    m = migration_between(
        log, start="2024-01-31", end="2024-04-30", classify=segments, label="segment"
    )
    # 01-31: x has 3 orders, 1 day ago -> R5 F3 Potential Loyalist; y 1 order, 6 days -> R5 F1
    # New. 04-30: x 91 days -> R2 (60 < 91 <= 120) F3 At Risk; y 96 days -> R2 F1 Hibernating.
    assert m.members == {
        ("Potential Loyalist", "At Risk"): ("x",),
        ("New", "Hibernating"): ("y",),
    }


def test_migration_from_a_bad_description_is_a_clear_error():
    from clientmodel.errors import ArgumentError
    from clientmodel.segments import Migration

    with pytest.raises(ArgumentError, match=r"missing key.*'counts'"):
        Migration.from_dict({"labels_from": ["a"], "labels_to": ["b"], "members": []})
    with pytest.raises(ArgumentError, match=r"Migration\.counts\[0\] must be a list"):
        Migration.from_dict(
            {"labels_from": ["a"], "labels_to": ["b"], "counts": [1, 2], "members": []}
        )


def test_migration_from_dict_checks_members_against_counts():
    from clientmodel.errors import ArgumentError
    from clientmodel.segments import Migration

    good = {"labels_from": ["a"], "labels_to": ["b"], "counts": [[1]], "members": [["a", "b", [7]]]}
    assert Migration.from_dict(good).count("a", "b") == 1
    with pytest.raises(ArgumentError, match=r"counts\[0\]\[0\] = 2"):
        Migration.from_dict({**good, "counts": [[2]]})
    with pytest.raises(ArgumentError, match=r"Migration\.members\[0\]"):
        Migration.from_dict({**good, "members": [["a", "zzz", [7]]]})
    with pytest.raises(ArgumentError, match=r"Migration\.counts\[0\]\[0\]"):
        Migration.from_dict({**good, "counts": [["one"]]})
    with pytest.raises(ArgumentError, match="must be a mapping"):
        Migration.from_dict([good])


def test_mixed_id_kinds_between_the_two_tables_are_an_error():
    from clientmodel.errors import DataError

    with pytest.raises(DataError, match=r"before\['customer_id'\].*after\['customer_id'\]"):
        migration(
            {"customer_id": [1, 2], "label": ["a", "b"]},
            {"customer_id": ["1", "2"], "label": ["a", "b"]},
        )
