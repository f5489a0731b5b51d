"""Prediction intervals (issue 15, item 2): coverage by simulation, seeds, faces, totals."""

from __future__ import annotations

import json
import math

import attrs
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.errors import ArgumentError
from clientmodel.ltv import BGNBD, FitReport, GammaGamma, ParetoNBD
from clientmodel.ltv import intervals as intervals_module
from clientmodel.ltv.clv import discounted_purchases
from clientmodel.ltv.intervals import (
    PredictionIntervals,
    draw_parameters,
    prediction_interval_table,
    prediction_intervals,
)

TRUE = BGNBD(r=0.25, alpha=4.0, a=0.8, b=2.5)
CALIBRATION = TRUE.simulate(2000, np.linspace(20.0, 52.0, 2000).round(), seed=11)
FITTED = BGNBD.fit(CALIBRATION)
HISTORY = {"frequency": 2, "recency": 30.0, "T": 39.0}
ROWS = {
    "frequency": [2, 0, 5, 1, 2],
    "recency": [30.0, 0.0, 35.5, 3.0, 30.0],
    "T": [39.0, 39.0, 40.0, 20.0, 39.0],
}


# -- the covariance kept in the fit report -----------------------------------------------------


def test_fit_report_keeps_the_covariance_of_the_log_parameters():
    cov = np.array(FITTED.fit_report.covariance)
    assert cov.shape == (4, 4)
    np.testing.assert_allclose(cov, cov.T, rtol=1e-10, atol=1e-14)
    # The standard errors of the report are theta * sd(log theta) (delta method): the same matrix.
    for i, name in enumerate(BGNBD.PARAMS):
        se = FITTED.params[name] * math.sqrt(cov[i, i])
        assert se == pytest.approx(FITTED.fit_report.standard_errors[name], rel=1e-9)


def test_fit_report_covariance_round_trips_and_old_dicts_read_as_none():
    data = json.loads(json.dumps(FITTED.fit_report.to_dict()))
    assert FitReport.from_dict(data) == FITTED.fit_report
    del data["covariance"]
    assert FitReport.from_dict(data).covariance is None


def test_fit_report_covariance_of_the_wrong_shape_is_refused():
    data = FITTED.fit_report.to_dict()
    data["covariance"] = [[1.0, 0.0], [0.0, 1.0]]
    with pytest.raises(ArgumentError) as err:
        FitReport.from_dict(data)
    assert err.value.field == "fit_report.covariance"


def test_fit_report_covariance_is_read_only():
    cov = FITTED.fit_report.covariance
    assert isinstance(cov, tuple)
    assert isinstance(cov[0], tuple)


# -- coverage by simulation --------------------------------------------------------------------


def test_intervals_cover_the_true_prediction_about_as_often_as_their_level():
    """Simulate 60 data sets from known parameters, fit each, and build the intervals of a
    fixed history's P(alive) and E[X(39)], and of the total E[X(39)] over a fixed base of 40
    customers: the truth (the prediction under the true parameters) lies inside the 95%
    intervals about 95% of the time and inside the 50% intervals about half of the time, within
    three binomial standard errors."""
    reps = 60
    base = TRUE.simulate(40, np.linspace(5.0, 52.0, 40), seed=99)
    truth = (
        TRUE.p_alive(HISTORY),
        TRUE.expected_purchases(HISTORY, 39.0),
        float(np.sum(TRUE.expected_purchases(base, 39.0))),
    )
    hits = {0.95: [0, 0, 0], 0.5: [0, 0, 0]}
    for rep in range(reps):
        times = np.random.default_rng(rep).uniform(20.0, 52.0, 1000).round()
        model = BGNBD.fit(TRUE.simulate(1000, times, seed=1000 + rep))
        for level, counts in hits.items():
            kw = {"level": level, "draws": 200, "seed": rep}
            alive = prediction_intervals(model, HISTORY, **kw)
            one = prediction_intervals(model, HISTORY, "expected_purchases", horizon=39.0, **kw)
            total = prediction_intervals(model, base, "expected_purchases", horizon=39.0, **kw)
            counts[0] += bool(alive.lower[0] <= truth[0] <= alive.upper[0])
            counts[1] += bool(one.lower[0] <= truth[1] <= one.upper[0])
            counts[2] += bool(total.total_lower <= truth[2] <= total.total_upper)
    for level, counts in hits.items():
        slack = 3.0 * math.sqrt(level * (1 - level) / reps)
        for covered in counts:
            assert abs(covered / reps - level) <= slack, (level, counts)


# -- seeds, faces, order -----------------------------------------------------------------------


def test_the_same_seed_gives_the_same_intervals_and_another_seed_others():
    first = prediction_intervals(FITTED, ROWS, draws=200, seed=5)
    assert prediction_intervals(FITTED, ROWS, draws=200, seed=5) == first
    other = prediction_intervals(FITTED, ROWS, draws=200, seed=6)
    assert not np.array_equal(other.lower, first.lower)
    np.testing.assert_array_equal(other.estimate, first.estimate)


@settings(max_examples=15)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 8), st.floats(0.0, 1.0), st.floats(1.0, 60.0, allow_subnormal=False)
        ),
        min_size=1,
        max_size=6,
    ),
    st.integers(0, 2**16),
)
def test_record_face_equals_table_face_and_order_does_not_matter(rows, seed):
    x = [float(r[0]) for r in rows]
    t = [round(r[2], 3) for r in rows]
    tx = [0.0 if xi == 0 else round(r[1] * ti, 3) for xi, r, ti in zip(x, rows, t, strict=True)]
    table = pd.DataFrame({"frequency": x, "recency": tx, "T": t})
    whole = prediction_interval_table(FITTED, table, draws=50, seed=seed)
    for i in range(len(rows)):
        record = prediction_interval_table(
            FITTED, {"frequency": x[i], "recency": tx[i], "T": t[i]}, draws=50, seed=seed
        )
        assert record == pytest.approx(
            {k: float(whole[k].iloc[i]) for k in ("estimate", "lower", "upper")}, rel=1e-12
        )
    order = np.random.default_rng(seed).permutation(len(rows))
    shuffled = prediction_interval_table(FITTED, table.iloc[order], draws=50, seed=seed)
    np.testing.assert_allclose(shuffled.to_numpy(), whole.to_numpy()[order], rtol=1e-12)


def test_pandas_polars_pyarrow_give_the_same_table_in_their_own_kind():
    data = {"id": ["a", "b", "c", "d", "e"], **ROWS}
    out_pd = prediction_interval_table(FITTED, pd.DataFrame(data), draws=100, seed=1, customer="id")
    out_pl = prediction_interval_table(FITTED, pl.DataFrame(data), draws=100, seed=1, customer="id")
    out_pa = prediction_interval_table(FITTED, pa.table(data), draws=100, seed=1, customer="id")
    assert isinstance(out_pl, pl.DataFrame)
    assert isinstance(out_pa, pa.Table)
    assert out_pd["id"].tolist() == out_pl["id"].to_list() == data["id"]
    for col in ("estimate", "lower", "upper"):
        np.testing.assert_array_equal(out_pd[col].to_numpy(), out_pl[col].to_numpy())
        np.testing.assert_array_equal(out_pd[col].to_numpy(), out_pa[col].to_numpy())


def test_result_round_trips_through_json():
    pi = prediction_intervals(FITTED, ROWS, "expected_purchases", horizon=26.0, draws=100, seed=2)
    back = PredictionIntervals.from_dict(json.loads(json.dumps(pi.to_dict())))
    assert back == pi
    with pytest.raises(ValueError, match="read-only"):
        pi.lower[0] = 0.0  # read-only: the result shares no mutable state


# -- the streaming computation against the straightforward one ---------------------------------


@pytest.mark.parametrize("block", [1, 7, 2**23])
def test_chunked_quantiles_and_total_equal_the_stacked_matrix(monkeypatch, block):
    """The straightforward computation: predict with every draw for every row, stack the
    (draws x rows) matrix, take np.quantile per row and of the per-draw sums."""
    monkeypatch.setattr(intervals_module, "_BLOCK", block)
    rows = TRUE.simulate(300, 39.0, seed=3)  # many repeated histories (x = 0)
    pi = prediction_intervals(
        FITTED, rows, "expected_purchases", horizon=52.0, level=0.9, draws=120, seed=9
    )
    thetas = draw_parameters(FITTED, 120, seed=9)
    stacked = np.stack(
        [
            BGNBD(**dict(zip(BGNBD.PARAMS, th, strict=True))).expected_purchases(rows, 52.0)
            for th in thetas
        ]
    )
    low, high = np.quantile(stacked, [0.05, 0.95], axis=0)
    np.testing.assert_allclose(pi.lower, low, rtol=1e-12)
    np.testing.assert_allclose(pi.upper, high, rtol=1e-12)
    np.testing.assert_allclose(pi.estimate, FITTED.expected_purchases(rows, 52.0), rtol=1e-12)
    total_low, total_high = np.quantile(stacked.sum(axis=1), [0.05, 0.95])
    assert pi.total_lower == pytest.approx(total_low, rel=1e-12)
    assert pi.total_upper == pytest.approx(total_high, rel=1e-12)
    assert pi.total_estimate == pytest.approx(float(pi.estimate.sum()), rel=1e-12)


def test_the_total_interval_is_narrower_than_the_sum_of_the_row_intervals():
    pi = prediction_intervals(FITTED, ROWS, "expected_purchases", horizon=52.0, seed=4)
    assert pi.total_lower > pi.lower.sum()
    assert pi.total_upper < pi.upper.sum()


def test_draws_follow_the_covariance():
    """Whitened by the report's covariance, the log-draws are standard normal: mean 0 and
    identity covariance within sampling error (about 0.007 per entry for 20,000 draws)."""
    thetas = draw_parameters(FITTED, 20000, seed=0)
    chol = np.linalg.cholesky(np.array(FITTED.fit_report.covariance))
    centred = np.log(thetas) - np.log(list(FITTED.params.values()))
    white = np.linalg.solve(chol, centred.T).T
    np.testing.assert_allclose(white.mean(axis=0), 0.0, atol=0.03)
    np.testing.assert_allclose(np.cov(white, rowvar=False), np.eye(4), atol=0.04)


# -- dert, clv, other models, bootstrap --------------------------------------------------------


def test_clv_with_a_fixed_spend_is_the_dert_interval_scaled():
    dert = prediction_intervals(FITTED, ROWS, "dert", discount_rate=0.1, draws=100, seed=3)
    value = prediction_intervals(
        FITTED,
        ROWS,
        "clv",
        horizon=math.inf,
        method="continuous",
        discount_rate=0.1,
        spend_model=20.0,
        margin=0.5,
        draws=100,
        seed=3,
    )
    np.testing.assert_allclose(value.lower, 10.0 * dert.lower, rtol=1e-12)
    np.testing.assert_allclose(value.upper, 10.0 * dert.upper, rtol=1e-12)
    expected = discounted_purchases(
        FITTED, ROWS, horizon=math.inf, discount_rate=0.1, method="continuous"
    )
    np.testing.assert_allclose(dert.estimate, expected, rtol=1e-12)


def test_clv_with_a_spend_model_draws_its_parameters_too():
    spend_true = GammaGamma(p=6.25, q=3.74, gamma=15.44)
    spend_data = spend_true.simulate(2000, CALIBRATION["frequency"], seed=2)
    spend = GammaGamma.fit(spend_data)
    rows = {**ROWS, "monetary_value": [22.0, 0.0, 40.0, 10.0, 22.0]}
    kw = {"horizon": 52.0, "discount_rate": 0.1, "draws": 200, "seed": 1}
    fixed = prediction_intervals(FITTED, rows, "clv", spend_model=spend.expected_spend_new(), **kw)
    drawn = prediction_intervals(FITTED, rows, "clv", spend_model=spend, **kw)
    # Uncertain spend adds to the spread of every row's CLV (x = 0 rows: population mean spend).
    assert np.all(drawn.upper - drawn.lower > 0)
    assert drawn.total_upper - drawn.total_lower > 0
    assert drawn.estimate[1] == pytest.approx(fixed.estimate[1], rel=1e-12)


def test_pareto_nbd_intervals():
    model = ParetoNBD.fit(
        ParetoNBD(r=0.55, alpha=10.6, s=0.61, beta=11.7).simulate(2000, 39.0, seed=5)
    )
    pi = prediction_intervals(model, ROWS, "dert", discount_rate=0.15, draws=200, seed=0)
    assert np.all((pi.lower <= pi.estimate) & (pi.estimate <= pi.upper))


def test_bootstrap_is_seedable_and_agrees_with_the_normal_draws():
    normal = prediction_intervals(FITTED, ROWS, draws=400, seed=0)
    boot = prediction_intervals(FITTED, ROWS, sampling="bootstrap", draws=40, seed=0)
    assert boot == prediction_intervals(FITTED, ROWS, sampling="bootstrap", draws=40, seed=0)
    assert boot.sampling == "bootstrap"
    assert boot.draws == 40
    width_n = normal.upper - normal.lower
    width_b = boot.upper - boot.lower
    moving = width_n > 1e-6  # rows with x = 0 have P(alive) = 1 under every parameter
    ratio = width_b[moving] / width_n[moving]
    assert np.all((ratio > 0.5) & (ratio < 2.0)), ratio


def test_no_covariance_is_an_error_carrying_the_reason_and_the_bootstrap_still_works():
    note = "not computed: the optimum is on the boundary of the parameter space"
    boundary = attrs.evolve(
        FITTED,
        fit_report=attrs.evolve(FITTED.fit_report, covariance=None, uncertainty_note=note),
    )
    with pytest.raises(ArgumentError, match="boundary of the parameter space") as err:
        prediction_intervals(boundary, ROWS)
    assert err.value.field == "model"
    boot = prediction_intervals(boundary, ROWS, sampling="bootstrap", draws=10, seed=1)
    assert len(boot) == 5


def test_a_model_built_by_hand_has_no_sampling_distribution():
    with pytest.raises(ArgumentError, match="not fitted") as err:
        prediction_intervals(TRUE, ROWS)
    assert err.value.field == "model"


finite = st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False)


@settings(max_examples=30)
@given(
    st.lists(st.tuples(finite, finite, finite), min_size=1, max_size=5),
    st.sampled_from(["p_alive", "expected_purchases", "dert", "clv"]),
    st.floats(0.01, 0.99),
    st.integers(2, 10_000),
    finite,
)
def test_any_result_round_trips_through_json_unchanged(rows, quantity, level, draws, total):
    result = PredictionIntervals(
        quantity=quantity,
        level=level,
        sampling="normal",
        draws=draws,
        estimate=[r[0] for r in rows],
        lower=[min(r[1], r[2]) for r in rows],  # a form with lower > upper is refused
        upper=[max(r[1], r[2]) for r in rows],
        total_estimate=total,
        total_lower=total - 1.0,
        total_upper=total + 1.0,
    )
    assert PredictionIntervals.from_dict(json.loads(json.dumps(result.to_dict()))) == result


def test_bootstrap_of_clv_refits_the_spend_model_too():
    spend_data = GammaGamma(p=6.25, q=3.74, gamma=15.44).simulate(
        2000, CALIBRATION["frequency"], seed=2
    )
    repeat = CALIBRATION["frequency"] > 0
    spend = GammaGamma.fit({k: v[repeat] for k, v in spend_data.items()})
    rows = {**ROWS, "monetary_value": [22.0, 0.0, 40.0, 10.0, 22.0]}
    kw = {"horizon": 52.0, "discount_rate": 0.1, "spend_model": spend, "seed": 0}
    normal = prediction_intervals(FITTED, rows, "clv", draws=300, **kw)
    boot = prediction_intervals(FITTED, rows, "clv", sampling="bootstrap", draws=30, **kw)
    ratio = (boot.upper - boot.lower) / (normal.upper - normal.lower)
    assert np.all((ratio > 0.5) & (ratio < 2.0)), ratio
    np.testing.assert_array_equal(boot.estimate, normal.estimate)


def test_a_real_boundary_fit_names_its_reason_and_the_bootstrap_works():
    """Customers who never leave (Poisson purchases over 39 weeks, no dropout): the BG/NBD
    dropout mixture runs to the boundary (a, b -> infinity) and the report has no covariance."""
    rng = np.random.default_rng(0)
    rate = rng.gamma(2.0, 1 / 10, 500)
    x = rng.poisson(rate * 39.0)
    recency = np.where(x > 0, 39.0 * rng.beta(np.maximum(x, 1), 1), 0.0)
    model = BGNBD.fit({"frequency": x, "recency": recency, "T": np.full(500, 39.0)})
    assert model.fit_report.at_boundary
    with pytest.raises(ArgumentError, match="boundary of the parameter space") as err:
        prediction_intervals(model, ROWS)
    assert "sampling='bootstrap'" in str(err.value)
    boot = prediction_intervals(model, ROWS, sampling="bootstrap", draws=8, seed=2)
    assert np.all((boot.lower <= boot.upper) & np.isfinite(boot.upper))
    # At the boundary nobody leaves: the expected purchases are the gamma-Poisson posterior
    # mean rate times the horizon, (r + x) / (alpha + T) * t (worked by hand), and finite.
    boot = prediction_intervals(model, ROWS, "expected_purchases", horizon=39.0, draws=8,
                                sampling="bootstrap", seed=2)  # fmt: skip
    r, alpha = model.params["r"], model.params["alpha"]
    x, big_t = np.asarray(ROWS["frequency"]), np.asarray(ROWS["T"])
    np.testing.assert_allclose(boot.estimate, (r + x) / (alpha + big_t) * 39.0, rtol=1e-3)
    assert np.all(np.isfinite(boot.lower) & np.isfinite(boot.upper))
