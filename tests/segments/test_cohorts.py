"""Cohort tables checked against a tiny log counted by hand."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import polars as pl
import pytest

from clientmodel.errors import ArgumentError, DataError
from clientmodel.segments import CohortTable, cohort_table

LOG = {
    "customer_id": ["a", "a", "a", "b", "b", "c", "c", "d"],
    "timestamp": [
        "2024-01-05",
        "2024-01-20",
        "2024-03-02",
        "2024-01-31",
        "2024-02-01",
        "2024-02-10",
        "2024-04-01",  # after as_of: excluded
        "2024-03-15",
    ],
    "amount": [10.0, 5.0, 7.0, 4.0, 6.0, 3.0, 100.0, 2.0],
}
NAN = np.nan


def test_monthly_by_hand():
    ct = cohort_table(LOG, as_of="2024-03-31", unit="M", amount="amount", after_as_of="exclude")
    # Cohorts: January {a, b}, February {c}, March {d}.
    assert [str(c) for c in ct.cohorts] == ["2024-01-01", "2024-02-01", "2024-03-01"]
    assert ct.sizes.tolist() == [2, 1, 1]
    # January: month 0 a and b (10 + 5 + 4), month 1 b (6), month 2 a (7).
    # February: month 0 c (3), month 1 nobody, month 2 not observed yet.
    np.testing.assert_array_equal(ct.retention, [[1.0, 0.5, 0.5], [1.0, 0.0, NAN], [1.0, NAN, NAN]])
    np.testing.assert_array_equal(
        ct.revenue_observed, [[19.0, 6.0, 7.0], [3.0, 0.0, NAN], [2.0, NAN, NAN]]
    )
    rows = ct.rows()
    assert rows["period"].tolist() == [0, 1, 2, 0, 1, 0]
    assert rows["active"].tolist() == [2, 1, 1, 1, 0, 1]


def test_weekly_by_hand():
    ct = cohort_table(LOG, as_of="2024-03-31", unit="W", amount="amount", after_as_of="exclude")
    # ISO weeks start Monday: a 2024-01-05 -> week of 01-01; b 01-31 -> 01-29; c 02-10 -> 02-05;
    # d 03-15 -> 03-11. as_of (Sunday 03-31) is in the week of 03-25: 12 weeks after 01-01.
    assert [str(c) for c in ct.cohorts] == ["2024-01-01", "2024-01-29", "2024-02-05", "2024-03-11"]
    assert ct.active.shape == (4, 13)
    # a bought in weeks 0 (01-05), 2 (01-20, week of 01-15) and 8 (03-02, week of 02-26).
    assert np.flatnonzero(ct.active[0]).tolist() == [0, 2, 8]
    # b: 01-31 and 02-01 are in the same week.
    assert np.flatnonzero(ct.active[1]).tolist() == [0]
    assert ct.revenue[1, 0] == 10.0
    # d's cohort is observed for weeks 0..2 only.
    assert ct.observed[3].tolist() == [True] * 3 + [False] * 10


def test_daily_and_frames():
    a = cohort_table(pd.DataFrame(LOG), as_of="2024-02-01", unit="D", after_as_of="exclude")
    b = cohort_table(pl.DataFrame(LOG), as_of="2024-02-01", unit="day", after_as_of="exclude")
    np.testing.assert_array_equal(a.active, b.active)
    # b's cohort (2024-01-31) bought again one day later.
    i = [str(c) for c in a.cohorts].index("2024-01-31")
    assert a.active[i, :2].tolist() == [1, 1]
    assert a.revenue.sum() == 0.0  # no amount column named


def test_round_trip_and_errors():
    ct = cohort_table(LOG, as_of="2024-03-31", unit="Q", amount="amount", after_as_of="exclude")
    assert ct.sizes.tolist() == [4]
    back = CohortTable.from_dict(json.loads(json.dumps(ct.to_dict())))
    np.testing.assert_array_equal(back.active, ct.active)
    np.testing.assert_array_equal(back.cohorts, ct.cohorts)
    with pytest.raises(ArgumentError, match="not a time unit"):
        cohort_table(LOG, as_of="2024-03-31", unit="fortnight", after_as_of="exclude")
    with pytest.raises(DataError, match="no transaction falls at or before"):
        cohort_table(LOG, as_of="2023-01-01", after_as_of="exclude")
    with pytest.raises(DataError, match="after as_of"):
        cohort_table(LOG, as_of="2024-03-31")
