"""Diagnostics: hand-computed values on a constant-rate Poisson stand-in model, and simulation
checks with BG/NBD (data drawn from the model must agree with its expectations)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from tests.ltv.standins import StandIn

from clientmodel.errors import ArgumentError, DataError
from clientmodel.ltv.bgnbd import BGNBD
from clientmodel.ltv.diagnostics import (
    CalibrationHoldout,
    FrequencyHistogram,
    HoldoutMetrics,
    PredictionMatrix,
    Tracking,
    calibration_holdout_table,
    frequency_histogram,
    holdout_metrics,
    prediction_matrix,
    tracking,
)

# Fader, Hardie & Lee (2005) BG/NBD estimates on CDNOW (weeks).
BG = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)


class _Poisson(StandIn):
    """Stand-in: every customer buys at rate ``lam`` forever (no heterogeneity, no dropout)."""

    PARAMS = ("lam",)

    def __init__(self, lam):
        self.lam = lam

    def expected_purchases(self, summary, t, *, columns=None):
        return np.full(len(summary["frequency"]), self.lam * t)

    def expected_purchases_new(self, t):
        return self.lam * np.asarray(t, dtype=float)

    def p_purchases_new(self, n, t):
        return float(stats.poisson.pmf(n, self.lam * t))


Poisson = _Poisson


# --------------------------------------------------------------------------- frequency histogram
def test_frequency_histogram_by_hand():
    model = Poisson(0.2)
    summary = {"frequency": [0, 1, 1, 2, 5, 9], "T": [10.0, 10.0, 20.0, 20.0, 20.0, 30.0]}
    summary["recency"] = [0.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    out = frequency_histogram(model, summary, max_n=3)
    assert out.observed.tolist() == [1.0, 2.0, 1.0, 2.0]
    # expected count of n: sum over customers of Poisson(n; 0.2 T_i); last bin takes the rest
    means = 0.2 * np.array([10.0, 10.0, 20.0, 20.0, 20.0, 30.0])
    head = [stats.poisson.pmf(k, means).sum() for k in range(3)]
    np.testing.assert_allclose(out.expected, [*head, 6 - sum(head)], rtol=1e-12)
    chi = sum((o - e) ** 2 / e for o, e in zip(out.observed, out.expected, strict=True))
    assert out.chi_square == pytest.approx(chi)
    assert out.degrees_of_freedom == 4 - 1 - 1
    assert out.p_value == pytest.approx(stats.chi2.sf(chi, 2))


def test_frequency_histogram_on_bgnbd_simulation():
    n = 20_000
    rng = np.random.default_rng(11)
    T = rng.choice([26.0, 32.0, 39.0], size=n)
    sim = BG.simulate(n, T, seed=12)
    out = frequency_histogram(BG, sim, max_n=7)
    assert out.expected.sum() == pytest.approx(n)
    p = out.expected / n
    sd = np.sqrt(n * p * (1 - p))
    assert np.all(np.abs(out.observed - out.expected) < 4.5 * sd)
    assert out.degrees_of_freedom == 3
    assert out.p_value > 1e-4


def test_frequency_histogram_json_round_trip():
    out = frequency_histogram(BG, BG.simulate(300, 39.0, seed=1), max_n=4, n_parameters=0)
    back = FrequencyHistogram.from_dict(json.loads(json.dumps(out.to_dict())))
    np.testing.assert_array_equal(back.expected, out.expected)
    assert back.p_value == out.p_value
    assert pd.DataFrame(out.table()).shape == (5, 3)


# --------------------------------------------------------------------------- calibration/holdout
def test_calibration_holdout_by_hand():
    model = Poisson(0.5)
    summary = {
        "frequency": [0, 0, 1, 3, 4, 7],
        "recency": [0.0, 0.0, 2.0, 3.0, 4.0, 5.0],
        "T": [6.0] * 6,
        "frequency_holdout": [0, 2, 1, 3, 5, 4],
    }
    out = calibration_holdout_table(model, summary, duration=4.0, max_frequency=3)
    assert out.n_customers.tolist() == [2.0, 1.0, 0.0, 3.0]
    # group means of the holdout counts; the 3+ group holds frequencies 3, 4, 7
    np.testing.assert_allclose(out.actual, [1.0, 1.0, np.nan, 4.0])
    np.testing.assert_allclose(out.expected, [2.0, 2.0, np.nan, 2.0])  # 0.5 * 4 for everyone
    # per-customer holdout lengths, given as a column
    summary["days"] = [1.0, 3.0, 2.0, 2.0, 4.0, 6.0]
    out = calibration_holdout_table(model, summary, duration="days", max_frequency=3)
    np.testing.assert_allclose(out.expected, [1.0, 1.0, np.nan, 0.5 * 12 / 3])


def test_calibration_holdout_on_bgnbd_simulation():
    sim = BG.simulate(20_000, 39.0, seed=5, holdout=39.0)
    frame = pd.DataFrame(sim)
    out = calibration_holdout_table(BG, frame, duration=39.0, max_frequency=5)
    x = np.minimum(sim["frequency"], 5)
    for k in range(6):
        group = sim["frequency_holdout"][x == k]
        se = group.std(ddof=1) / math.sqrt(len(group))
        assert abs(out.actual[k] - out.expected[k]) < 4.5 * se + 1e-3
    assert np.all(np.diff(out.expected) > 0)  # more past purchases, more future purchases
    back = CalibrationHoldout.from_dict(json.loads(json.dumps(out.to_dict())))
    np.testing.assert_array_equal(back.actual, out.actual)


def test_holdout_metrics_by_hand():
    model = Poisson(0.5)
    summary = {"frequency": [0, 1, 2], "recency": [0.0, 1.0, 2.0], "T": [3.0] * 3}
    out = holdout_metrics(model, summary, [0, 1, 5], duration=2.0)  # expected 1 for everyone
    assert out.n_customers == 3
    assert out.total_actual == 6.0
    assert out.total_expected == pytest.approx(3.0)
    assert out.mae == pytest.approx((1 + 0 + 4) / 3)
    assert out.rmse == pytest.approx(math.sqrt((1 + 0 + 16) / 3))
    assert out.correlation is None  # constant expectations
    assert out.bias == pytest.approx(-0.5)
    assert HoldoutMetrics.from_dict(json.loads(json.dumps(out.to_dict()))) == out


def test_holdout_metrics_on_simulation_are_sensible():
    sim = BG.simulate(5000, 39.0, seed=8, holdout=39.0)
    out = holdout_metrics(BG, sim, duration=39.0)
    assert abs(out.bias) < 0.1
    assert out.correlation > 0.4


def test_holdout_input_errors():
    summary = {"frequency": [0, 1], "recency": [0.0, 1.0], "T": [3.0, 3.0]}
    with pytest.raises(DataError, match="2 row"):
        holdout_metrics(BG, summary, [1, 2, 3], duration=2.0)
    with pytest.raises(DataError, match="row 1"):
        holdout_metrics(BG, summary, [1, -2], duration=2.0)
    with pytest.raises(DataError, match="frequency_holdout"):
        holdout_metrics(BG, summary, duration=2.0)
    with pytest.raises(ArgumentError):
        calibration_holdout_table(BG, summary, [1, 2], duration=-1.0)
    with pytest.raises(ArgumentError):
        calibration_holdout_table(BG, summary, [1, 2], duration=1.0, max_frequency=-1)


# --------------------------------------------------------------------------- tracking
def test_tracking_by_hand():
    out = tracking(Poisson(0.5), [0.0, 1.0, 1.0], [1.5, 2.0, 3.5, 4.0], times=[2.0, 4.0])
    # E at 2: 0.5 (2 + 1 + 1) = 2; at 4: 0.5 (4 + 3 + 3) = 5
    np.testing.assert_allclose(out.expected_cumulative, [2.0, 5.0])
    assert out.actual_cumulative.tolist() == [2.0, 4.0]
    np.testing.assert_allclose(out.expected_incremental, [2.0, 3.0])
    assert out.actual_incremental.tolist() == [2.0, 2.0]


def test_tracking_with_dates_matches_numbers():
    first = np.array(["2024-01-01", "2024-01-08", "2024-01-08"], dtype="datetime64[D]")
    repeats = np.array(["2024-01-11", "2024-01-22"], dtype="datetime64[D]")
    out = tracking(Poisson(0.5), first, repeats, unit="W")
    assert out.times.tolist() == [1.0, 2.0, 3.0]
    # ages at weeks 1, 2, 3: (1, 0, 0), (2, 1, 1), (3, 2, 2) -> 0.5 * (1, 4, 7)
    np.testing.assert_allclose(out.expected_cumulative, [0.5, 2.0, 3.5])
    assert out.actual_cumulative.tolist() == [0.0, 1.0, 2.0]  # days 10 and 21 = week 3
    with pytest.raises(ArgumentError, match="unit"):
        tracking(Poisson(0.5), first, repeats)


def test_tracking_against_simulated_bgnbd_purchases():
    # Simulate the BG/NBD story directly (exponential gaps at rate lambda, dropout with
    # probability p after each repeat purchase) for 12 weekly cohorts, and compare.
    rng = np.random.default_rng(3)
    n, horizon = 4000, 60.0
    first = rng.integers(0, 12, size=n).astype(float)
    lam = rng.gamma(BG.r, 1 / BG.alpha, size=n)
    p = rng.beta(BG.a, BG.b, size=n)
    times = []
    for f, rate, drop in zip(first, lam, p, strict=True):
        t = f
        while True:
            t += rng.exponential(1 / rate)
            if t > horizon:
                break
            times.append(t)
            if rng.random() < drop:
                break
    out = tracking(BG, first, np.array(times), times=np.arange(5.0, horizon + 1, 5.0))
    total = out.expected_cumulative[-1]
    assert abs(out.actual_cumulative[-1] - total) < 0.06 * total
    assert np.all(np.diff(out.expected_cumulative) > 0)
    back = Tracking.from_dict(json.loads(json.dumps(out.to_dict())))
    np.testing.assert_array_equal(back.expected_cumulative, out.expected_cumulative)


# --------------------------------------------------------------------------- matrices
def test_p_alive_matrix():
    out = prediction_matrix(BG, T=39.0, max_frequency=6, recencies=[0.0, 10.0, 39.0, 50.0])
    assert out.values.shape == (7, 4)
    assert np.all(out.values[0] == 1.0)  # no repeat purchase: alive for sure in BG/NBD
    assert np.all(np.isnan(out.values[1:, 3]))  # recency beyond T
    for i in range(1, 7):
        for j, rec in enumerate([0.0, 10.0, 39.0]):
            one = BG.p_alive({"frequency": i, "recency": rec, "T": 39.0})
            assert out.values[i, j] == pytest.approx(one)
        assert out.values[i, 0] < out.values[i, 1] < out.values[i, 2]
    back = PredictionMatrix.from_dict(json.loads(json.dumps(out.to_dict())))
    np.testing.assert_array_equal(back.values, out.values)
    assert len(out.table()["value"]) == 28


def test_expected_purchases_matrix():
    out = prediction_matrix(BG, T=39.0, kind="expected_purchases", t=52.0, max_frequency=3)
    assert out.values[2, -1] == pytest.approx(
        BG.expected_purchases({"frequency": 2, "recency": 39.0, "T": 39.0}, 52.0)
    )
    with pytest.raises(ArgumentError, match="needs t"):
        prediction_matrix(BG, T=39.0, kind="expected_purchases")
    with pytest.raises(ArgumentError):
        prediction_matrix(BG, T=0.0)


# --------------------------------------------------------------------------- CDNOW
def _cdnow():
    data = Path(__file__).resolve().parents[1] / "data"
    raw = pd.read_csv(
        data / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master", "id", "date", "cds", "dollars"],
        dtype={"date": str},
    )
    day = (pd.to_datetime(raw["date"], format="%Y%m%d") - pd.Timestamp("1997-01-01")).dt.days
    days = pd.DataFrame({"id": raw["id"], "day": day}).drop_duplicates()  # one purchase a day
    first = days.groupby("id")["day"].min()
    days = days.join(first.rename("first"), on="id")
    repeats = days[days["day"] > days["first"]]
    summary = pd.read_csv(data / "cdnow_customers_summary_with_transactions.csv")
    return first.to_numpy() / 7.0, repeats, summary


def test_cdnow_tracking_and_holdout():
    # Raw CDNOW 1/10th sample (2357 customers, first purchases in the first 12 weeks of 1997);
    # calibration ends 1997-09-30 (day 272, T = 38.86 weeks for a 1 January customer), holdout
    # 39 weeks after. FHL 2005 (Marketing Science), Figures 4-5: BG/NBD tracks the cumulative
    # repeat transactions closely through week 78.
    first, repeats, summary = _cdnow()
    cols = {"frequency": "x", "recency": "t_x"}
    end = 272 / 7.0
    out = tracking(BG, first, repeats["day"].to_numpy() / 7.0, times=[end, 78.0])
    # the raw log and the published summary agree on the calibration repeat purchases
    assert out.actual_cumulative[0] == summary["x"].sum()
    assert out.expected_cumulative[0] == pytest.approx(out.actual_cumulative[0], rel=0.03)
    assert out.expected_cumulative[1] == pytest.approx(out.actual_cumulative[1], rel=0.06)
    hold = repeats[(repeats["day"] > 272) & (repeats["day"] <= 272 + 273)]
    counts = hold.groupby("id").size().reindex(summary["ID"], fill_value=0).to_numpy()
    table = calibration_holdout_table(BG, summary, counts, duration=39.0, columns=cols)
    assert table.n_customers.tolist() == [1411, 439, 214, 100, 62, 38, 29, 64]
    assert np.all(np.abs(table.expected - table.actual) < 0.4 * table.actual + 0.05)
    hist = frequency_histogram(BG, summary, columns=cols)
    assert hist.observed.tolist() == [1411, 439, 214, 100, 62, 38, 29, 64]  # FHL 2005, Fig. 2
    assert hist.p_value > 0.05


# --------------------------------------------------------------------------- properties
@settings(max_examples=25, deadline=None)
@given(
    r=st.floats(0.1, 3.0),
    alpha=st.floats(0.5, 20.0),
    a=st.floats(0.2, 3.0),
    b=st.floats(0.5, 5.0),
    lengths=st.lists(st.floats(1.0, 100.0), min_size=1, max_size=4),
    max_n=st.integers(1, 9),
)
def test_histogram_expected_is_a_distribution(r, alpha, a, b, lengths, max_n):
    model = BGNBD(r=r, alpha=alpha, a=a, b=b)
    n = 40
    T = np.resize(np.asarray(lengths), n)
    sim = model.simulate(n, T, seed=0)
    out = frequency_histogram(model, sim, max_n=max_n)
    assert np.all(out.expected >= 0)
    assert out.expected.sum() == pytest.approx(n)
    assert out.observed.sum() == n
    assert out.chi_square >= 0


@settings(max_examples=25, deadline=None)
@given(
    first=st.lists(st.floats(0.0, 30.0), min_size=1, max_size=20),
    grid=st.lists(st.floats(0.0, 60.0), min_size=2, max_size=10),
)
def test_tracking_expected_is_non_decreasing(first, grid):
    times = np.sort(np.asarray(grid))
    out = tracking(BG, first, [], times=times)
    assert np.all(np.diff(out.expected_cumulative) >= -1e-9)
    assert np.all(out.actual_cumulative == 0)


def test_many_distinct_holdout_lengths_match_per_customer_calls():
    rng = np.random.default_rng(9)
    n = 60
    sim = BG.simulate(n, rng.uniform(10, 40, size=n), seed=10, holdout=20.0)
    frame = pd.DataFrame(sim)
    frame["duration_holdout"] = rng.integers(1, 40, size=n).astype(float)  # > 16 distinct
    out = holdout_metrics(BG, frame)
    one_by_one = [
        BG.expected_purchases(
            {"frequency": int(row.frequency), "recency": row.recency, "T": row.T},
            row.duration_holdout,
        )
        for row in frame.itertuples()
    ]
    assert out.total_expected == pytest.approx(sum(one_by_one), rel=1e-12)
    few = holdout_metrics(BG, frame, duration=frame["duration_holdout"].clip(upper=5).to_numpy())
    five = [
        BG.expected_purchases(
            {"frequency": int(row.frequency), "recency": row.recency, "T": row.T},
            min(row.duration_holdout, 5.0),
        )
        for row in frame.itertuples()
    ]
    assert few.total_expected == pytest.approx(sum(five), rel=1e-12)


def test_a_result_rebuilt_from_an_incomplete_dict_names_the_missing_field():
    from clientmodel.ltv.diagnostics import Tracking

    with pytest.raises(ArgumentError, match=r"missing key.*'expected_cumulative'") as info:
        Tracking.from_dict({"times": [1.0], "actual_cumulative": [2.0]})
    assert info.value.field == "Tracking.expected_cumulative"
