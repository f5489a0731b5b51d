"""RFM values and scores: hand-computed cases and invariants."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.errors import ArgumentError, DataError
from clientmodel.segments import (
    RFMScorer,
    default_segment_map,
    fit_rfm,
    rf_grid,
    rfm_from_summary,
    rfm_values,
)

LOG = {
    "customer_id": ["a", "a", "a", "b", "c", "c"],
    "timestamp": [
        "2024-01-01",
        "2024-01-01",  # same day as the first: merged into one order
        "2024-03-01",
        "2024-02-15",
        "2024-03-20",
        "2024-04-02",  # after as_of: excluded (after_as_of="exclude")
    ],
    "amount": [10.0, 5.0, 20.0, 8.0, 30.0, 99.0],
}


def test_rfm_values_by_hand():
    out = rfm_values(LOG, as_of="2024-03-31", after_as_of="exclude")
    assert out["customer_id"].tolist() == ["a", "b", "c"]
    # Hand count: a last bought 2024-03-01 -> 30 days before 2024-03-31; b 2024-02-15 -> 45;
    # c 2024-03-20 -> 11.
    assert out["days_since_last"].tolist() == [30, 45, 11]
    # a: two distinct purchase days; b, c: one each (c's April purchase is after as_of).
    assert out["orders"].tolist() == [2, 1, 1]
    assert out["monetary"].tolist() == [35.0, 8.0, 30.0]
    mean = rfm_values(LOG, as_of="2024-03-31", after_as_of="exclude", monetary="mean")
    assert mean["monetary"].tolist() == [17.5, 8.0, 30.0]


def test_rfm_from_summary_matches_log():
    # Summary of LOG as of 2024-03-31 in days, written by hand: a first 01-01, last 03-01.
    summary = {
        "customer_id": ["a", "b", "c"],
        "frequency": [1, 0, 0],
        "recency": [60.0, 0.0, 0.0],
        "T": [90.0, 45.0, 11.0],
        "orders": [2, 1, 1],
        "revenue": [35.0, 8.0, 30.0],
    }
    out = rfm_from_summary(summary, unit="D")
    direct = rfm_values(LOG, as_of="2024-03-31", after_as_of="exclude")
    np.testing.assert_allclose(out["days_since_last"], direct["days_since_last"])
    np.testing.assert_array_equal(out["orders"], direct["orders"])
    np.testing.assert_allclose(out["monetary"], direct["monetary"])


def test_rfm_from_summary_rejects_recency_beyond_t():
    bad = {"customer_id": [1], "frequency": [1], "recency": [5.0], "T": [3.0], "revenue": [1.0]}
    with pytest.raises(DataError, match="recency > T"):
        rfm_from_summary(bad)


def test_quantile_edges_by_hand():
    # Values 1..10, k = 5: the inverted-CDF quantile at j/5 is the smallest x with
    # F(x) >= j/5, i.e. 2, 4, 6, 8 (F(x) = x/10).
    v = np.arange(1, 11)
    s = fit_rfm({"days_since_last": v, "orders": v, "monetary": v}, k=5)
    assert s.frequency == (2.0, 4.0, 6.0, 8.0)
    assert s.recency == (2.0, 4.0, 6.0, 8.0)
    r, f, _ = s.scores(v, v, v)
    assert f.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # Recency: fewer days = more recent = higher score.
    assert r.tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]


def test_ties_never_split():
    # Seven customers with one order, three with more: every one-order customer gets score 1.
    freq = np.array([1, 1, 1, 1, 1, 1, 1, 2, 3, 9])
    s = fit_rfm({"days_since_last": freq, "orders": freq, "monetary": freq}, k=5)
    _, f, _ = s.scores(freq, freq, freq)
    assert set(f[:7].tolist()) == {1}
    # Edges at quantiles 0.2..0.8 = 1, 1, 1, 2 -> 2 scores 4, 3 and 9 score 5.
    assert s.frequency == (1.0, 1.0, 1.0, 2.0)
    assert f[7:].tolist() == [4, 5, 5]


def test_fixed_thresholds():
    s = RFMScorer.fixed(k=3, recency=[30, 90], frequency=[1, 3], monetary=[50, 200])
    rec = s.score_record({"days_since_last": 30, "orders": 3, "monetary": 200.01})
    # recency 30 equals the first edge: it falls with the smaller values (the more recent bin).
    assert (rec.r, rec.f, rec.m) == (3, 2, 3)
    assert s.methods == ("fixed", "fixed", "fixed")
    partial = fit_rfm(
        {"days_since_last": [1, 2], "orders": [1, 2], "monetary": [3, 4]},
        k=3,
        fixed={"recency": [7, 30]},
    )
    assert partial.recency == (7.0, 30.0)
    assert partial.methods == ("fixed", "quantile", "quantile")


def test_bad_arguments():
    with pytest.raises(ArgumentError, match="k - 1 = 4"):
        RFMScorer.fixed(k=5, recency=[1, 2], frequency=[1, 2, 3, 4], monetary=[1, 2, 3, 4])
    with pytest.raises(ArgumentError, match="non-decreasing"):
        RFMScorer.fixed(k=3, recency=[5, 1], frequency=[1, 2], monetary=[1, 2])
    with pytest.raises(ArgumentError, match="unknown dimension"):
        fit_rfm({"days_since_last": [1]}, fixed={"loyalty": [1]})
    with pytest.raises(DataError, match="lacks field"):
        RFMScorer.fixed(k=2, recency=[1], frequency=[1], monetary=[1]).score_record({"r": 1})
    with pytest.raises(DataError, match="missing required column"):
        fit_rfm({"days_since_last": [1], "orders": [1]})


def test_score_ranges_and_json_round_trip():
    s = fit_rfm({"days_since_last": [3, 9, 20], "orders": [1, 2, 5], "monetary": [1.5, 2, 3]}, k=3)
    back = RFMScorer.from_dict(json.loads(json.dumps(s.to_dict())))
    assert back == s
    ranges = s.score_ranges()["frequency"]
    assert ranges[0] == {"score": 1, "low": None, "high": s.frequency[0]}
    assert ranges[-1]["high"] is None


values = st.lists(
    st.tuples(
        st.integers(0, 400),
        st.integers(1, 30),
        st.floats(0, 1e4, allow_nan=False, allow_infinity=False),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(values, st.integers(2, 7))
def test_score_invariants(rows, k):
    rec = np.array([r[0] for r in rows])
    freq = np.array([r[1] for r in rows])
    mon = np.array([r[2] for r in rows])
    data = {
        "customer_id": np.arange(len(rows)),
        "days_since_last": rec,
        "orders": freq,
        "monetary": mon,
    }
    s = fit_rfm(data, k=k)
    out = s.score(data, segments=None)
    r, f, m = out["r"], out["f"], out["m"]
    for sc in (r, f, m):
        assert sc.min() >= 1
        assert sc.max() <= k
    # Equal values -> equal scores; larger values -> scores not lower (recency: not higher).
    for vals, sc, sign in ((rec, r, -1), (freq, f, 1), (mon, m, 1)):
        order = np.argsort(vals, kind="stable")
        sv, ss = vals[order], sc[order].astype(int) * sign
        assert np.all(np.diff(ss)[np.diff(sv) == 0] == 0)
        assert np.all(np.diff(ss) >= 0)
    # Quantile guarantee: at least a share j/k of customers score <= j.
    for j in range(1, k):
        assert np.mean(f <= j) >= j / k - 1e-12
        assert np.mean(r >= k - j + 1) >= j / k - 1e-12
    # Record face == table face.
    for i in range(len(rows)):
        one = s.score_record({"days_since_last": rec[i], "orders": freq[i], "monetary": mon[i]})
        assert (one.r, one.f, one.m) == (r[i], f[i], m[i])
        assert one.code == out["rfm"][i]


@settings(max_examples=25, deadline=None)
@given(values)
def test_pandas_polars_and_mapping_agree(rows):
    data = {
        "customer_id": [f"c{i}" for i in range(len(rows))],
        "days_since_last": [r[0] for r in rows],
        "orders": [r[1] for r in rows],
        "monetary": [r[2] for r in rows],
    }
    s = fit_rfm(pd.DataFrame(data))
    assert fit_rfm(pl.DataFrame(data)) == s
    assert fit_rfm(data) == s
    a = s.score(pd.DataFrame(data), segments="default")
    b = s.score(pl.DataFrame(data), segments="default")
    c = s.score(data, segments="default")
    assert isinstance(a, pd.DataFrame)
    assert isinstance(b, pl.DataFrame)
    assert a["segment"].tolist() == b["segment"].to_list() == c["segment"].tolist()
    assert a["rfm"].tolist() == b["rfm"].to_list() == c["rfm"].tolist()


def test_segment_column_follows_default_map():
    s = RFMScorer.fixed(k=5, recency=[7, 30, 60, 120], frequency=[1, 2, 4, 8], monetary=[1] * 4)
    out = s.score(
        {"customer_id": [1, 2, 3], "days_since_last": [1, 200, 45], "orders": [10, 10, 3]},
        monetary="days_since_last",
        segments=default_segment_map(),
    )
    # (R, F): (5, 5) Champions; (1, 5) Can't Lose Them; (3, 3) Need Attention.
    assert out["segment"].tolist() == ["Champions", "Can't Lose Them", "Need Attention"]
    with pytest.raises(ArgumentError, match=r"1\.\.5"):
        RFMScorer.fixed(k=3, recency=[1, 2], frequency=[1, 2], monetary=[1, 2]).score(
            {"days_since_last": [1], "orders": [1], "monetary": [1]}, segments="default"
        )


def test_rf_grid_by_hand():
    scored = {"r": [5, 5, 1, 3], "f": [1, 1, 5, 3], "spend": [10.0, 30.0, 7.0, 1.0]}
    counts = rf_grid(scored)
    assert counts[4, 0] == 2
    assert counts[0, 4] == 1
    assert counts.sum() == 4
    assert rf_grid(scored, value="spend", how="sum")[4, 0] == 40.0
    mean = rf_grid(scored, value="spend", how="mean")
    assert mean[4, 0] == 20.0
    assert np.isnan(mean[1, 1])
    with pytest.raises(DataError, match="above k=2"):
        rf_grid(scored, k=2)
