"""Pareto/NBD: CDNOW estimates of Fader, Hardie & Lee (2005), the likelihood against direct
integration, stable hypergeometric terms, simulation checks and properties."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

from clientmodel.errors import DataError
from clientmodel.ltv._special import log_pareto_tail
from clientmodel.ltv.pareto_nbd import ParetoNBD

DATA = Path(__file__).resolve().parents[1] / "data"
CDNOW = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")
COLS = {"frequency": "x", "recency": "t_x"}
# Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for customer base analysis",
# JMR 42(4), and Fader & Hardie's Pareto/NBD notes: on the CDNOW 1/10th sample (39 weeks)
# r = 0.553, alpha = 10.578, s = 0.606, beta = 11.669, LL = -9595.0.
PUBLISHED = ParetoNBD(r=0.553, alpha=10.578, s=0.606, beta=11.669)


def test_cdnow_estimates_match_fader_hardie_lee_2005():
    fitted = ParetoNBD.fit(CDNOW, columns=COLS)
    for name, value in PUBLISHED.params.items():
        assert fitted.params[name] == pytest.approx(value, abs=1.5e-3), name
    assert fitted.log_likelihood == pytest.approx(-9595.0, abs=0.05)
    assert PUBLISHED.log_likelihood_of(CDNOW, columns=COLS) == pytest.approx(-9595.0, abs=0.05)


def _individual_likelihood(x, tx, T, r, alpha, s, beta):
    # Individual Pareto/NBD likelihood (SMC 1987): alive at T, or died at some time in (t_x, T],
    # integrated over Gamma(r, alpha) x Gamma(s, beta) numerically.
    log_norm = r * math.log(alpha) - math.lgamma(r) + s * math.log(beta) - math.lgamma(s)

    def inner(mu, lam):
        ind = lam**x * math.exp(-(lam + mu) * T)
        ind += lam**x * mu / (lam + mu) * (math.exp(-(lam + mu) * tx) - math.exp(-(lam + mu) * T))
        return ind * lam ** (r - 1) * math.exp(-alpha * lam) * mu ** (s - 1) * math.exp(-beta * mu)

    return integrate.dblquad(inner, 0, 40.0, 0, 40.0, epsabs=0, epsrel=1e-8)[0] * math.exp(log_norm)


@pytest.mark.parametrize(
    ("params", "history"),
    [
        ((1.5, 4.0, 1.3, 2.5), (0, 0.0, 20.0)),
        ((1.5, 4.0, 1.3, 2.5), (3, 8.0, 12.0)),
        ((1.5, 2.0, 1.3, 6.0), (2, 1.0, 10.0)),  # alpha < beta branch
        ((1.5, 3.0, 1.3, 3.0), (1, 2.0, 9.0)),  # alpha == beta
    ],
)
def test_likelihood_equals_numerical_mixture_integral(params, history):
    model = ParetoNBD(r=params[0], alpha=params[1], s=params[2], beta=params[3])
    x, tx, T = history
    ll = model.log_likelihood_of({"frequency": x, "recency": tx, "T": T})
    assert math.exp(ll) == pytest.approx(_individual_likelihood(x, tx, T, *params), rel=1e-6)


@pytest.mark.parametrize("x", [0, 2, 50, 400])
@pytest.mark.parametrize(("alpha", "beta"), [(10.578, 11.669), (11.669, 10.578), (3.0, 1e-4)])
def test_hypergeometric_tail_equals_quadrature(x, alpha, beta):
    # The 2F1 term is the integral of (alpha+u)^-(r+x) (beta+u)^-(s+1) from tau to infinity.
    r, s = 0.553, 0.606

    def log_f(u):
        return -(r + x) * math.log(alpha + u) - (s + 1) * math.log(beta + u)

    for tau in (0.5, 30.43):
        # Integrate f(u) / f(tau) so that large x does not underflow, then add log f(tau) back.
        scaled = integrate.quad(
            lambda u, tau=tau: math.exp(log_f(u) - log_f(tau)),
            tau,
            np.inf,
            epsabs=0,
            epsrel=1e-11,
            limit=200,
        )[0]
        value = float(log_pareto_tail(np.array([tau]), r, alpha, s, beta, x)[0])
        assert value == pytest.approx(log_f(tau) + math.log(scaled), rel=1e-9, abs=1e-9)


def test_p_alive_and_conditional_expectation_agree_with_simulated_holdout():
    sim = PUBLISHED.simulate(200_000, 39.0, seed=31, holdout=39.0)
    summary = {k: sim[k] for k in ("frequency", "recency", "T")}
    expected = PUBLISHED.expected_purchases(summary, 39.0)
    assert expected.mean() == pytest.approx(sim["frequency_holdout"].mean(), rel=0.02)
    for group in (sim["frequency"] == 0, sim["frequency"] >= 3):
        assert expected[group].mean() == pytest.approx(
            sim["frequency_holdout"][group].mean(), rel=0.05
        )
    buys = 1.0 - PUBLISHED.p_purchases(summary, 0, 39.0)
    assert buys.mean() == pytest.approx(np.mean(sim["frequency_holdout"] > 0), abs=0.005)


def test_new_customer_distribution_and_expectation():
    sim = PUBLISHED.simulate(200_000, 39.0, seed=8)
    for n in range(4):
        observed = float(np.mean(sim["frequency"] == n))
        assert observed == pytest.approx(PUBLISHED.p_purchases_new(n, 39.0), abs=0.004)
    assert sim["frequency"].mean() == pytest.approx(PUBLISHED.expected_purchases_new(39.0), 0.02)
    probs = np.array([PUBLISHED.p_purchases_new(n, 39.0) for n in range(200)])
    assert probs @ np.arange(200) == pytest.approx(PUBLISHED.expected_purchases_new(39.0), 1e-6)


def test_s_equal_one_limit_is_continuous():
    near = [ParetoNBD(r=0.5, alpha=10.0, s=s, beta=12.0) for s in (1 - 1e-9, 1.0, 1 + 1e-9)]
    values = [m.expected_purchases_new(52.0) for m in near]
    # s = 1: E[X(t)] = r beta / alpha * log(1 + t / beta).
    assert values[1] == pytest.approx(0.5 * 12.0 / 10.0 * math.log(1 + 52.0 / 12.0), rel=1e-12)
    assert values[0] == pytest.approx(values[1], rel=1e-7)
    assert values[2] == pytest.approx(values[1], rel=1e-7)


def test_horizon_survival():
    h = {"frequency": 2, "recency": 30.43, "T": 38.86}
    now = PUBLISHED.p_alive(h)
    later = PUBLISHED.p_alive(h, horizon=52.0)
    # Posterior mu ~ Gamma(s, beta + T): survival ((beta+T)/(beta+T+h))^s.
    bt = PUBLISHED.beta + 38.86
    assert later == pytest.approx(now * (bt / (bt + 52.0)) ** PUBLISHED.s, rel=1e-12)
    assert PUBLISHED.churn_risk(h) == pytest.approx(1 - now)


def test_parameter_recovery_from_simulated_data():
    true = ParetoNBD(r=0.6, alpha=8.0, s=0.8, beta=10.0)
    T = np.random.default_rng(41).uniform(40, 100, size=30_000)
    fitted = ParetoNBD.fit(true.simulate(30_000, T, seed=42))
    for name, value in true.params.items():
        low, high = fitted.fit_report.confidence_intervals[name]
        se = fitted.fit_report.standard_errors[name]
        assert low - se < value < high + se, (name, value, low, high)


def test_all_zero_frequency_and_extremes():
    with pytest.raises(DataError, match="frequency 0"):
        ParetoNBD.fit({"frequency": [0, 0], "recency": [0.0, 0.0], "T": [5.0, 6.0]})
    rows = {
        "frequency": [20_000, 50_000, 3, 0],
        "recency": [2_999.0, 1.0, 1e-7, 0.0],
        "T": [3_000.0, 5_000.0, 1e-7, 0.0],
    }
    for model in (PUBLISHED, ParetoNBD(r=0.5, alpha=1e-3, s=0.6, beta=50.0)):
        for values in (
            model.p_alive(rows, horizon=5.0),
            model.expected_purchases(rows, 52.0),
            model.p_purchases(rows, 1, 52.0),
        ):
            assert np.all(np.isfinite(values))
            assert np.all(values >= 0)


params_st = st.tuples(
    st.floats(0.05, 5.0), st.floats(0.1, 50.0), st.floats(0.05, 5.0), st.floats(0.1, 50.0)
)


@settings(max_examples=50, deadline=None)
@given(params_st, st.integers(0, 100), st.floats(0.0, 1.0), st.floats(0.01, 100.0))
def test_probabilities_monotonicity_and_round_trip(params, x, frac, T):
    m = ParetoNBD(r=params[0], alpha=params[1], s=params[2], beta=params[3])
    rec = {"frequency": x, "recency": 0.0 if x == 0 else frac * T, "T": T}
    alive = m.p_alive(rec)
    assert 0.0 <= alive <= 1.0
    assert m.p_alive({**rec, "T": T + 5.0}) <= alive * (1 + 1e-9) + 1e-12
    assert 0.0 <= m.p_purchases(rec, 1, 10.0) <= 1.0
    e1, e2 = m.expected_purchases(rec, 10.0), m.expected_purchases(rec, 20.0)
    assert 0.0 <= e1 <= e2 * (1 + 1e-9) + 1e-12
    table = {k: [v, v] for k, v in rec.items()}
    np.testing.assert_allclose(m.expected_purchases(table, 10.0), [e1, e1], rtol=1e-12)
    assert ParetoNBD.from_dict(json.loads(json.dumps(m.to_dict()))) == m
