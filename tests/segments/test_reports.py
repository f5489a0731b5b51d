"""Segment summaries, combined RFM scores, value tiers, purchase gaps and churn by number of
purchases, checked against values counted by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.errors import ArgumentError, DataError
from clientmodel.segments import (
    RFMScorer,
    churn_by_orders,
    purchase_gaps,
    segment_summary,
    value_tiers,
)


def test_segment_summary_by_hand():
    table = pd.DataFrame(
        {
            "segment": ["Champions", "Lost", "Champions", "Lost", "New"],
            "orders": [5, 1, 3, 1, 1],
            "monetary": [500.0, 20.0, 300.0, 30.0, 50.0],
        }
    )
    out = segment_summary(table)
    assert isinstance(out, pd.DataFrame)
    # Revenue 800 / 50 / 50: Champions first; New and Lost tie on 50 and sort by name.
    assert out["segment"].tolist() == ["Champions", "Lost", "New", "total"]
    assert out["customers"].tolist() == [2, 2, 1, 5]
    assert out["orders"].tolist() == [8, 2, 1, 11]
    assert out["revenue"].tolist() == [800.0, 50.0, 50.0, 900.0]
    np.testing.assert_allclose(out["revenue_share"], [800 / 900, 50 / 900, 50 / 900, 1.0])
    np.testing.assert_allclose(out["customer_share"], [0.4, 0.4, 0.2, 1.0])
    np.testing.assert_allclose(out["revenue_per_customer"], [400.0, 25.0, 50.0, 180.0])
    np.testing.assert_allclose(out["orders_per_customer"], [4.0, 1.0, 1.0, 2.2])
    polars_out = segment_summary(pl.from_pandas(table))
    assert polars_out["segment"].to_list() == out["segment"].tolist()
    with pytest.raises(DataError, match="total"):
        segment_summary({"segment": ["total"], "orders": [1], "monetary": [1.0]})


def test_combined_rfm_score_record_equals_table():
    s = RFMScorer.fixed(k=3, recency=[30, 90], frequency=[1, 3], monetary=[50, 200])
    values = {"customer_id": ["a", "b"], "days_since_last": [5, 100], "orders": [4, 1]}
    values["monetary"] = [10.0, 500.0]
    out = s.score(values)
    # a: R3 F3 M1 -> 7; b: R1 F1 M3 -> 5.
    assert out["score"].tolist() == [7, 5]
    weighted = s.score(values, weights=[2, 1, 0.5])
    assert weighted["score"].tolist() == [9.5, 4.5]
    one = s.score_record({"days_since_last": 5, "orders": 4, "monetary": 10.0}, weights=[2, 1, 0.5])
    assert one.score == 9.5
    with pytest.raises(ArgumentError, match="weights"):
        s.score(values, weights=[1, 2])


def test_value_tiers_by_hand():
    t = {"customer_id": list("abcde"), "monetary": [30.0, 25.0, 20.0, 15.0, 10.0]}
    out = value_tiers(t)
    # Value of richer customers: 0, 30, 55, 75, 90 (of 100): heavy below 20 %, medium below 50 %.
    assert out["tier"].tolist() == ["heavy", "medium", "light", "light", "light"]
    np.testing.assert_allclose(out["share_before"], [0.0, 0.3, 0.55, 0.75, 0.9])
    # Equal values share a tier.
    tie = value_tiers({"monetary": [10.0, 10.0, 1.0]}, bounds=[0.5], labels=["top", "rest"])
    assert tie["tier"].tolist() == ["top", "top", "rest"]
    with pytest.raises(ArgumentError, match="bounds"):
        value_tiers(t, bounds=[0.6, 0.2])
    with pytest.raises(DataError, match="below 0"):
        value_tiers({"monetary": [-1.0, 2.0]})


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=1, max_size=30).filter(lambda v: sum(v) > 0))
def test_value_tiers_are_monotone(values):
    out = value_tiers({"monetary": [float(v) for v in values]})
    rank = {"heavy": 0, "medium": 1, "light": 2}
    order = np.argsort(-np.array(values), kind="stable")
    tiers = [rank[out["tier"][i]] for i in order]
    assert tiers == sorted(tiers)  # a richer customer is never in a lower tier


LOG = {
    "customer_id": ["a", "a", "a", "a", "b", "b", "c"],
    "timestamp": [
        "2024-01-01",
        "2024-01-11",
        "2024-01-11",  # same day: one order
        "2024-02-10",
        "2024-01-05",
        "2024-01-25",
        "2024-01-20",
    ],
    "amount": [10.0, 5.0, 5.0, 8.0, 3.0, -3.0, 4.0],  # b's second row is a refund: no order
}


def test_purchase_gaps_by_hand():
    g = purchase_gaps(LOG, as_of="2024-02-29", amount="amount", percentiles=[50, 80])
    # a: orders 01-01, 01-11, 02-10 -> gaps 10 (after order 1) and 30 (after order 2).
    # b's refund is not an order; c has one order.
    assert g["after_order"].tolist() == [1, 2, 3, 4, 5, 0]
    assert g["gaps"].tolist() == [1, 1, 0, 0, 0, 2]
    assert g["p50"][:2].tolist() == [10.0, 30.0]
    assert np.isnan(g["p50"][2])
    # All gaps (10, 30): median 20, 80th percentile 10 + 0.8 * 20 = 26.
    assert g["p50"][-1] == 20.0
    assert g["p80"][-1] == pytest.approx(26.0)
    assert g["mean"][-1] == 20.0


def test_churn_by_orders_by_hand():
    c = churn_by_orders(LOG, as_of="2024-02-29", amount="amount", max_order=3)
    # Orders: a 3, b 1, c 1. >= 1: 3 customers, of whom 1 placed a second order.
    assert c["customers"].tolist() == [3, 1, 1]
    assert c["next_order"].tolist() == [1, 1, 0]
    np.testing.assert_allclose(c["churn_rate"], [2 / 3, 0.0, 1.0])
    with pytest.raises(ArgumentError, match="max_order"):
        churn_by_orders(LOG, as_of="2024-02-29", max_order=0)
