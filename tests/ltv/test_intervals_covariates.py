"""Prediction intervals for models fitted with covariates (issue 15, item 2).

The per-customer parameters of a draw are written out here by hand from Fader & Hardie's note on
time-invariant covariates in CLVTools' sign convention (Pareto/NBD: alpha_i = alpha exp(-g_p x),
beta_i = beta exp(-g_d z); BG/NBD: alpha_i = alpha exp(-g_p x), a_i = a exp(g_d z),
b_i = b exp(g_d z)), not taken from ``CovariateModel.model_for``.
"""

from __future__ import annotations

import math

import attrs
import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.ltv import BGNBD, GammaGamma, ParetoNBD
from clientmodel.ltv import _base as base_module
from clientmodel.ltv import intervals as intervals_module
from clientmodel.ltv.covariates import CovariateModel
from clientmodel.ltv.intervals import (
    draw_parameters,
    prediction_interval_table,
    prediction_intervals,
)

PARETO = ParetoNBD(r=0.55, alpha=10.0, s=0.6, beta=12.0)
EFFECTS = {"purchase": {"vip": 0.5}, "dropout": {"web": -0.4}}


def pareto_at(theta, g_p, g_d, vip, web):
    """Pareto/NBD of a customer: alpha_i = alpha exp(-g_p vip), beta_i = beta exp(-g_d web)."""
    r, alpha, s, beta = theta
    return ParetoNBD(r=r, alpha=alpha * math.exp(-g_p * vip), s=s, beta=beta * math.exp(-g_d * web))


def simulate(n, seed, theta=(0.55, 10.0, 0.6, 12.0), g_p=0.5, g_d=-0.4):
    """Customers with two binary covariates (vip on purchase, web on dropout), each group
    simulated from its own hand-built Pareto/NBD, observed for 30 to 52 weeks."""
    rng = np.random.default_rng(seed)
    vip = rng.integers(0, 2, n).astype(float)
    web = rng.integers(0, 2, n).astype(float)
    times = rng.uniform(30.0, 52.0, n).round()
    out = {k: np.empty(n) for k in ("frequency", "recency", "T")}
    for v in (0.0, 1.0):
        for w in (0.0, 1.0):
            rows = np.flatnonzero((vip == v) & (web == w))
            sim = pareto_at(theta, g_p, g_d, v, w).simulate(len(rows), times[rows], seed=rng)
            for k in out:
                out[k][rows] = sim[k]
    return {**out, "vip": vip, "web": web, "id": np.arange(n).astype(str)}


DATA = simulate(1500, seed=4)
FITTED = ParetoNBD.fit(DATA, covariates=True, purchase=["vip"], dropout=["web"], customer="id")
ROWS = {
    "frequency": [2, 0, 5, 1, 2, 2],
    "recency": [30.0, 0.0, 35.5, 3.0, 30.0, 30.0],
    "T": [39.0, 39.0, 40.0, 20.0, 39.0, 39.0],
    "vip": [0, 1, 1, 0, 1, 0],
    "web": [0, 0, 1, 1, 1, 1],
}


# -- the covariance the fit report keeps -------------------------------------------------------


def test_the_covariate_fit_report_keeps_the_inverse_observed_information():
    """Independent check: the Hessian of the total log-likelihood by central differences of
    ``log_likelihood_of`` in the free parameters (log r, log alpha, log s, log beta, g_p, g_d),
    inverted, is the report's covariance; its diagonal gives the report's standard errors."""
    cov = np.array(FITTED.fit_report.covariance)
    names = list(FITTED.fit_report.estimates)
    assert names == ["r", "alpha", "s", "beta", "purchase:vip", "dropout:web"]
    p0 = np.array(
        [
            *np.log(list(FITTED.base.params.values())),
            FITTED.coefficients["purchase"]["vip"],
            FITTED.coefficients["dropout"]["web"],
        ]
    )

    def loglik(p):
        base = ParetoNBD(**dict(zip(ParetoNBD.PARAMS, np.exp(p[:4]), strict=True)))
        coefficients = {"purchase": {"vip": p[4]}, "dropout": {"web": p[5]}}
        model = attrs.evolve(FITTED, base=base, coefficients=coefficients)
        return model.log_likelihood_of(DATA)

    h = 1e-4
    hess = np.empty((6, 6))
    for i in range(6):
        for j in range(6):
            e_i, e_j = np.eye(6)[i] * h, np.eye(6)[j] * h
            hess[i, j] = (
                loglik(p0 + e_i + e_j)
                - loglik(p0 + e_i - e_j)
                - loglik(p0 - e_i + e_j)
                + loglik(p0 - e_i - e_j)
            ) / (4 * h * h)
    np.testing.assert_allclose(cov, np.linalg.inv(-hess), rtol=2e-3, atol=1e-7)
    se = FITTED.fit_report.standard_errors
    assert math.sqrt(cov[4, 4]) == pytest.approx(se["purchase:vip"], rel=1e-9)
    assert FITTED.base.alpha * math.sqrt(cov[1, 1]) == pytest.approx(se["alpha"], rel=1e-9)


# -- a draw mapped to per-customer parameters, by hand -----------------------------------------


def test_a_draw_gives_each_customer_the_parameters_of_its_covariates():
    """The intervals equal the straightforward computation written here by hand: for each
    draw (r, alpha, s, beta, g_p, g_d) of ``draw_parameters`` (same seed), each customer's
    Pareto/NBD with alpha exp(-g_p vip) and beta exp(-g_d web); quantiles per customer and of
    the per-draw sums."""
    thetas = draw_parameters(FITTED, 150, seed=3)
    assert thetas.shape == (150, 6)
    stacked = np.array(
        [
            [
                pareto_at(th[:4], th[4], th[5], v, w).expected_purchases(
                    {"frequency": x, "recency": tx, "T": t}, 26.0
                )
                for x, tx, t, v, w in zip(*ROWS.values(), strict=True)
            ]
            for th in thetas
        ]
    )
    pi = prediction_intervals(
        FITTED, ROWS, "expected_purchases", horizon=26.0, level=0.8, draws=150, seed=3
    )
    low, high = np.quantile(stacked, [0.1, 0.9], axis=0)
    np.testing.assert_allclose(pi.lower, low, rtol=1e-10)
    np.testing.assert_allclose(pi.upper, high, rtol=1e-10)
    total = np.quantile(stacked.sum(axis=1), [0.1, 0.9])
    np.testing.assert_allclose([pi.total_lower, pi.total_upper], total, rtol=1e-10)
    np.testing.assert_allclose(pi.estimate, FITTED.expected_purchases(ROWS, 26.0), rtol=1e-12)


def test_one_draw_worked_by_hand():
    """A model whose covariance is tiny draws (to 1e-9) its estimates. BG/NBD with r = 0.6,
    alpha = 20, a = 1.2, b = 8, g_p = 0.5 on vip and g_d = 0.7 on web: a customer with vip = 1
    and web = 1 has alpha = 20 e^-0.5 = 12.1306, a = 1.2 e^0.7 = 2.4165, b = 8 e^0.7 = 16.1100
    (by hand), and BG/NBD's P(alive) for (x=2, t_x=30, T=39) at those parameters:
    1 / (1 + a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x)) = 0.810607 (by hand:
    a / (b + 1) = 0.141233, (51.1306 / 42.1306)^2.6 = 1.654308, odds 0.233643)."""
    base = BGNBD(r=0.6, alpha=20.0, a=1.2, b=8.0)
    report = attrs.evolve(
        BGNBD.fit(BGNBD(r=0.6, alpha=20.0, a=1.2, b=8.0).simulate(400, 39.0, seed=1)).fit_report,
        estimates={
            "r": 0.6,
            "alpha": 20.0,
            "a": 1.2,
            "b": 8.0,
            "purchase:vip": 0.5,
            "dropout:web": 0.7,
        },
        standard_errors=dict.fromkeys(("r", "alpha", "a", "b", "purchase:vip", "dropout:web")),
        confidence_intervals=dict.fromkeys(("r", "alpha", "a", "b", "purchase:vip", "dropout:web")),
        covariance=np.eye(6) * 1e-24,
    )
    model = CovariateModel(
        base=base,
        purchase=("vip",),
        dropout=("web",),
        coefficients={"purchase": {"vip": 0.5}, "dropout": {"web": 0.7}},
        fit_report=report,
    )
    row = {"frequency": 2, "recency": 30.0, "T": 39.0, "vip": 1, "web": 1}
    pi = prediction_intervals(model, row, draws=20, seed=0)
    assert pi.estimate[0] == pytest.approx(0.810607, abs=2e-6)
    assert pi.lower[0] == pytest.approx(0.810607, abs=2e-6)
    assert pi.upper[0] == pytest.approx(0.810607, abs=2e-6)
    theta = draw_parameters(model, 1, seed=0)[0]
    np.testing.assert_allclose(theta, [0.6, 20.0, 1.2, 8.0, 0.5, 0.7], rtol=1e-9)


# -- no effect: the plain model's intervals ----------------------------------------------------


def zero_effect_model(plain, purchase=("vip",), dropout=("web",)):
    """``plain`` with covariates whose effects are 0 and (almost) certain: the covariance is the
    plain fit's, with a 1e-30 variance for each coefficient and no correlation."""
    names = (*(f"purchase:{n}" for n in purchase), *(f"dropout:{n}" for n in dropout))
    k = len(plain.PARAMS)
    cov = np.zeros((k + len(names), k + len(names)))
    cov[:k, :k] = plain.fit_report.covariance
    cov[k:, k:] = np.eye(len(names)) * 1e-30
    report = attrs.evolve(
        plain.fit_report,
        estimates={**plain.fit_report.estimates, **dict.fromkeys(names, 0.0)},
        standard_errors={**plain.fit_report.standard_errors, **dict.fromkeys(names)},
        confidence_intervals={**plain.fit_report.confidence_intervals, **dict.fromkeys(names)},
        covariance=cov,
    )
    return CovariateModel(
        base=plain,
        purchase=purchase,
        dropout=dropout,
        coefficients={
            "purchase": dict.fromkeys(purchase, 0.0),
            "dropout": dict.fromkeys(dropout, 0.0),
        },
        fit_report=report,
    )


PLAIN_BG = BGNBD.fit(BGNBD(r=0.25, alpha=4.0, a=0.8, b=2.5).simulate(2000, 39.0, seed=11))


@pytest.mark.parametrize(
    ("quantity", "kw"),
    [
        ("p_alive", {}),
        ("expected_purchases", {"horizon": 52.0}),
        ("dert", {"discount_rate": 0.1}),
    ],
)
def test_with_no_effect_the_intervals_are_the_plain_models_for_the_same_seed(quantity, kw):
    model = zero_effect_model(PLAIN_BG)
    with_covariates = prediction_intervals(model, ROWS, quantity, draws=300, seed=8, **kw)
    plain = prediction_intervals(PLAIN_BG, ROWS, quantity, draws=300, seed=8, **kw)
    for name in ("estimate", "lower", "upper"):
        np.testing.assert_allclose(
            getattr(with_covariates, name), getattr(plain, name), rtol=1e-9, err_msg=name
        )
    for name in ("total_estimate", "total_lower", "total_upper"):
        assert getattr(with_covariates, name) == pytest.approx(getattr(plain, name), rel=1e-9)


def test_with_no_effect_clv_with_a_spend_model_is_the_plain_models_too():
    spend = GammaGamma.fit(
        GammaGamma(p=6.25, q=3.74, gamma=15.44).simulate(
            2000, np.random.default_rng(0).integers(1, 8, 2000), seed=2
        )
    )
    rows = {**ROWS, "monetary_value": [22.0, 0.0, 40.0, 10.0, 22.0, 5.0]}
    kw = {"horizon": 52.0, "discount_rate": 0.1, "spend_model": spend, "draws": 200, "seed": 1}
    with_covariates = prediction_intervals(zero_effect_model(PLAIN_BG), rows, "clv", **kw)
    plain = prediction_intervals(PLAIN_BG, rows, "clv", **kw)
    np.testing.assert_allclose(with_covariates.lower, plain.lower, rtol=1e-9)
    np.testing.assert_allclose(with_covariates.upper, plain.upper, rtol=1e-9)


# -- coverage by simulation --------------------------------------------------------------------


def bgnbd_at(theta, g_p, g_d, vip, web):
    """BG/NBD of a customer: alpha_i = alpha exp(-g_p vip), a_i, b_i = a, b times exp(g_d web)."""
    r, alpha, a, b = theta
    move = math.exp(g_d * web)
    return BGNBD(r=r, alpha=alpha * math.exp(-g_p * vip), a=a * move, b=b * move)


def test_intervals_cover_the_truth_about_as_often_as_their_level():
    """Simulate 40 data sets of 800 customers from a BG/NBD with known parameters and effects
    (each covariate group from its hand-built BG/NBD), fit each with covariates, and build the
    95% intervals of a fixed customer's P(alive) and E[X(26)] (a vip, whose truth is the
    hand-built model's prediction at the true values): they contain the truth about 95% of the
    time (at least 33 of 40: 95% less four binomial standard errors), and the 50% intervals
    about half of the time (within three binomial standard errors). The covariate acts on the
    purchase process: a BG/NBD dropout effect (on the concentration of the dropout
    probability) is too weakly identified by 800 customers for the normal approximation."""
    theta, g_p, g_d = (0.5, 8.0, 0.8, 3.0), 0.5, 0.0
    history = {"frequency": 3, "recency": 25.0, "T": 40.0}
    truth_model = bgnbd_at(theta, g_p, g_d, 1.0, 1.0)
    truth = (truth_model.p_alive(history), truth_model.expected_purchases(history, 26.0))
    row = {**history, "vip": 1, "web": 1}
    reps, hits = 40, {0.95: [0, 0], 0.5: [0, 0]}
    for rep in range(reps):
        rng = np.random.default_rng(100 + rep)
        n = 800
        vip, web = rng.integers(0, 2, n).astype(float), rng.integers(0, 2, n).astype(float)
        times = rng.uniform(30.0, 52.0, n).round()
        data = {k: np.empty(n) for k in ("frequency", "recency", "T")}
        for v in (0.0, 1.0):
            for w in (0.0, 1.0):
                rows = np.flatnonzero((vip == v) & (web == w))
                sim = bgnbd_at(theta, g_p, g_d, v, w).simulate(len(rows), times[rows], seed=rng)
                for k in data:
                    data[k][rows] = sim[k]
        model = BGNBD.fit({**data, "vip": vip}, covariates=True, purchase=["vip"])
        for level, counts in hits.items():
            kw = {"level": level, "draws": 200, "seed": rep}
            alive = prediction_intervals(model, row, **kw)
            bought = prediction_intervals(model, row, "expected_purchases", horizon=26.0, **kw)
            counts[0] += bool(alive.lower[0] <= truth[0] <= alive.upper[0])
            counts[1] += bool(bought.lower[0] <= truth[1] <= bought.upper[0])
    for covered in hits[0.95]:
        assert covered / reps >= 0.95 - 4.0 * math.sqrt(0.95 * 0.05 / reps), hits
    for covered in hits[0.5]:
        assert abs(covered / reps - 0.5) <= 3.0 * math.sqrt(0.25 / reps), hits


# -- faces, order, tables ----------------------------------------------------------------------


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**16))
def test_order_and_the_covariates_table_do_not_matter(seed):
    """Shuffled rows give the shuffled intervals; covariates in a table joined on the customer
    id give what the same columns in the summary give; pandas and polars agree."""
    rows = pd.DataFrame({"id": [f"c{i}" for i in range(6)], **ROWS})
    whole = prediction_interval_table(FITTED, rows, draws=40, seed=seed, customer="id")
    order = np.random.default_rng(seed).permutation(len(rows))
    shuffled = prediction_interval_table(
        FITTED, rows.iloc[order], draws=40, seed=seed, customer="id"
    )
    np.testing.assert_allclose(
        shuffled[["estimate", "lower", "upper"]].to_numpy(),
        whole[["estimate", "lower", "upper"]].to_numpy()[order],
        rtol=1e-12,
    )
    history = pl.DataFrame(rows.drop(columns=["vip", "web"]))
    table = pl.DataFrame(rows[["id", "vip", "web"]].iloc[order])
    joined = prediction_interval_table(
        FITTED, history, draws=40, seed=seed, covariates=table, customer="id"
    )
    assert isinstance(joined, pl.DataFrame)
    np.testing.assert_allclose(
        joined.select("estimate", "lower", "upper").to_numpy(),
        whole[["estimate", "lower", "upper"]].to_numpy(),
        rtol=1e-12,
    )


def test_a_record_gives_the_row_of_the_table():
    table = prediction_interval_table(FITTED, pd.DataFrame(ROWS), draws=60, seed=2)
    record = prediction_interval_table(FITTED, {k: v[2] for k, v in ROWS.items()}, draws=60, seed=2)
    assert record == pytest.approx(
        {k: float(table[k].iloc[2]) for k in ("estimate", "lower", "upper")}, rel=1e-12
    )


@pytest.mark.parametrize("block", [1, 5, 2**23])
def test_chunks_across_covariate_groups_give_the_same_intervals(monkeypatch, block):
    data = {k: v[:120] for k, v in DATA.items()}
    whole = prediction_intervals(FITTED, data, "p_alive", draws=60, seed=4)
    monkeypatch.setattr(intervals_module, "_BLOCK", block)
    chunked = prediction_intervals(FITTED, data, "p_alive", draws=60, seed=4)
    for name in ("estimate", "lower", "upper"):
        np.testing.assert_allclose(getattr(chunked, name), getattr(whole, name), rtol=1e-12)
    assert chunked.total_lower == pytest.approx(whole.total_lower, rel=1e-12)
    assert chunked.total_upper == pytest.approx(whole.total_upper, rel=1e-12)


# -- the rows are read and checked once --------------------------------------------------------


@pytest.mark.parametrize("model", [PLAIN_BG, FITTED], ids=["plain", "covariates"])
def test_the_rows_are_read_once_not_once_per_draw(monkeypatch, model):
    """Reading and checking the rows took about a third of the time when every draw re-read
    them; now the summary is read a fixed number of times whatever the number of draws."""
    calls = []
    original = base_module.read_table

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(base_module, "read_table", counting)
    prediction_intervals(model, ROWS, "expected_purchases", horizon=10.0, draws=50, seed=0)
    few = len(calls)
    calls.clear()
    prediction_intervals(model, ROWS, "expected_purchases", horizon=10.0, draws=400, seed=0)
    assert len(calls) == few <= 3


# -- the bootstrap -----------------------------------------------------------------------------


def test_the_bootstrap_refits_with_the_covariates_and_agrees_with_the_normal_draws():
    rows = {k: v[:4] for k, v in ROWS.items()}
    normal = prediction_intervals(FITTED, rows, draws=400, seed=0)
    boot = prediction_intervals(FITTED, rows, sampling="bootstrap", draws=30, seed=0)
    assert boot == prediction_intervals(FITTED, rows, sampling="bootstrap", draws=30, seed=0)
    np.testing.assert_array_equal(boot.estimate, normal.estimate)
    moving = normal.upper - normal.lower > 1e-6
    ratio = (boot.upper - boot.lower)[moving] / (normal.upper - normal.lower)[moving]
    assert np.all((ratio > 0.5) & (ratio < 2.0)), ratio
