"""Pareto/NBD: CDNOW estimates of Fader, Hardie & Lee (2005), the likelihood against direct
integration, stable hypergeometric terms, simulation checks and properties."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import integrate, special

from clientmodel.errors import DataError
from clientmodel.ltv._special import hyp2f1_one, log_pareto_tail, pareto_tail
from clientmodel.ltv.pareto_nbd import ParetoNBD, _pareto_loglik, _ParetoData

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


def _euler_integral_reference(b, c, z):
    # 2F1(1, b; c; z) = E[1 / (1 - z P)] for P ~ Beta(b, c - b) (Euler's integral), and the
    # derivatives of its log under the integral: quad's algebraic(-log) weights carry the beta
    # density's endpoint powers, so this shares nothing with the series or with scipy's 2F1.
    d = c - b
    norm = math.exp(special.betaln(b, d))

    def quad(f, weight):
        return integrate.quad(
            f, 0.0, 1.0, weight=weight, wvar=(b - 1, d - 1), epsabs=0, epsrel=1e-13, limit=400
        )[0]

    g = lambda t: 1.0 / (1.0 - z * t)  # noqa: E731
    f = quad(g, "alg") / norm
    mean_log_p = quad(g, "alg-loga") / norm / f
    mean_log_q = quad(g, "alg-logb") / norm / f
    d_b = mean_log_p - mean_log_q - special.digamma(b) + special.digamma(d)
    d_c = mean_log_q - special.digamma(d) + special.digamma(c)
    d_z = quad(lambda t: t / (1.0 - z * t) ** 2, "alg") / norm / f
    return f, d_b, d_c, d_z


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
@pytest.mark.parametrize("b", [0.05, 0.6, 3.0, 40.0])
@pytest.mark.parametrize("d", [0.07, 1.0, 2.5, 30.0])
@pytest.mark.parametrize("z", [0.0, 0.3, 0.69, 0.71, 0.9, 0.99])
def test_hypergeometric_series_and_its_derivatives_equal_euler_integral(b, d, z):
    got = hyp2f1_one(np.array([b]), np.array([b + d]), np.array([z]))
    want = _euler_integral_reference(b, b + d, z)
    assert got.f[0] == pytest.approx(want[0], rel=1e-12)
    assert got.f[0] == pytest.approx(special.hyp2f1(1.0, b, b + d, z), rel=1e-12)
    assert got.z[0] == pytest.approx(want[3], rel=1e-11, abs=1e-12)
    # Parameter derivatives: summed exactly for z <= 0.7, by differences of scipy's 2F1 above.
    tol = 1e-11 if z <= 0.7 else 1e-8
    assert got.b[0] == pytest.approx(want[1], rel=tol, abs=tol)
    assert got.c[0] == pytest.approx(want[2], rel=tol, abs=tol)


@settings(max_examples=60, deadline=None)
@given(
    st.floats(0.01, 3e4),
    st.floats(0.01, 100.0),
    st.one_of(st.floats(0.0, 0.7), st.floats(0.7, 0.98)),
)
def test_second_derivatives_of_the_hypergeometric_term_are_consistent(b, d, z):
    # Central differences of the (independently checked) first derivatives.
    c = b + d
    second = hyp2f1_one(b, c, z, second=True).second
    assert second is not None
    hb, hc = 1e-5 * min(b, d), 1e-5 * min(b, d)
    hz = 1e-6 * (1.0 - z)
    at = lambda db, dc, dz: hyp2f1_one(b + db, c + dc, z + dz)  # noqa: E731
    by_b = [(at(hb, 0, 0)[k] - at(-hb, 0, 0)[k]) / (2 * hb) for k in (1, 2, 3)]
    by_c = [(at(0, hc, 0)[k] - at(0, -hc, 0)[k]) / (2 * hc) for k in (2, 3)]
    lo = at(0, 0, -hz) if z > 0 else at(0, 0, 0)
    by_z = (at(0, 0, hz)[3] - lo[3]) / ((2 if z > 0 else 1) * hz)
    tol = 1e-5 if z <= 0.7 else 1e-3
    for got, want in zip(
        (second.bb, second.bc, second.bz, second.cc, second.cz, second.zz),
        (*by_b, *by_c, by_z),
        strict=True,
    ):
        assert float(got) == pytest.approx(float(want), rel=tol, abs=tol)


wide_params = st.tuples(
    st.floats(0.02, 20.0),
    st.floats(-5.0, 7.0).map(math.exp),
    st.floats(0.02, 20.0),
    st.floats(-5.0, 7.0).map(math.exp),
)


@settings(max_examples=120, deadline=None)
@given(
    wide_params,
    st.one_of(st.integers(0, 5), st.integers(0, 50_000)),
    st.one_of(st.floats(0.0, 5.0), st.floats(0.0, 5000.0)),
    st.booleans(),
)
def test_tail_integral_and_its_derivatives_match_the_closed_form(params, x, tau, equal):
    r, alpha, s, beta = params
    if equal:
        beta = alpha  # z = 0 exactly
    reference = float(log_pareto_tail(np.array([tau]), r, alpha, s, beta, x)[0])
    assume(math.isfinite(reference))
    tail = pareto_tail(np.array([tau]), np.array([float(x)]), r, alpha, s, beta, order=2)
    value_only = pareto_tail(np.array([tau]), np.array([float(x)]), r, alpha, s, beta)
    assert float(tail.log[0]) == pytest.approx(reference, rel=1e-12, abs=1e-10)
    assert float(value_only.log[0]) == pytest.approx(reference, rel=1e-12, abs=1e-10)
    # Gradient against five-point differences of the closed form (scipy's 2F1), each parameter
    # moved by a relative step; rounding of the log value limits what differences can show.
    theta = np.array((*params[:3], beta))
    numeric = []
    for i in range(4):
        h = 1e-4 * theta[i]

        def f(k, i=i, h=h):
            moved = theta.copy()
            moved[i] += k * h
            return float(log_pareto_tail(np.array([tau]), *moved, x)[0])

        numeric.append((8 * (f(1) - f(-1)) - (f(2) - f(-2))) / (12 * h))
    grad = tail.grad[:, 0]
    noise = 1e-13 * abs(reference) / (1e-4 * theta)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8 + 10 * noise.max())
    hess = tail.hess[:, :, 0]
    np.testing.assert_array_equal(hess, hess.T)


@pytest.mark.parametrize(
    "theta",
    [
        (0.553, 10.578, 0.606, 11.669),  # alpha < beta
        (0.553, 11.669, 0.606, 10.578),  # alpha > beta
        (0.5, 5.0, 0.5, 5.0),  # alpha == beta
        (1.3, 0.7, 2.5, 0.4),
        (0.3, 1.0, 0.5, 40.0),  # alpha << beta: z near 1, scipy + differences
        (2.0, 300.0, 0.2, 3.0),  # alpha >> beta
    ],
)
def test_likelihood_gradient_and_hessian_match_differences(theta):
    x, tx, T = (CDNOW[c].to_numpy(float) for c in ("x", "t_x", "T"))
    w = np.random.default_rng(4).uniform(0.5, 2.0, len(x))
    data = _ParetoData(x, tx, T, w)
    theta = np.array(theta)
    value, grad, hess = _pareto_loglik(theta, data, 2)
    assert _pareto_loglik(theta, data, 0)[0] == value
    assert value == pytest.approx(
        ParetoNBD(r=theta[0], alpha=theta[1], s=theta[2], beta=theta[3]).log_likelihood_of(
            CDNOW, columns=COLS, weights=w
        ),
        rel=1e-13,
    )
    z, h = np.log(theta), 1e-4

    def f(dz):
        return _pareto_loglik(np.exp(z + dz), data, 0)[0]

    numeric_grad = [
        (8 * (f(h * e) - f(-h * e)) - (f(2 * h * e) - f(-2 * h * e))) / (12 * h) for e in np.eye(4)
    ]
    np.testing.assert_allclose(grad, numeric_grad, rtol=1e-7, atol=1e-7 * np.abs(grad).max())
    numeric_hess = np.stack(
        [
            (
                _pareto_loglik(np.exp(z + 1e-5 * e), data, 1)[1]
                - _pareto_loglik(np.exp(z - 1e-5 * e), data, 1)[1]
            )
            / 2e-5
            for e in np.eye(4)
        ],
        axis=1,
    )
    np.testing.assert_allclose(hess, numeric_hess, rtol=1e-5, atol=1e-6 * np.abs(hess).max())


def test_fit_converges_by_newton_and_its_standard_errors_match_value_curvature():
    fitted = ParetoNBD.fit(CDNOW, columns=COLS)
    report = fitted.fit_report
    assert report.converged
    assert report.method == "trust-exact"
    assert report.gradient_norm < 1e-6
    # Observed information from second differences of likelihood values alone.
    x, tx, T = (CDNOW[c].to_numpy(float) for c in ("x", "t_x", "T"))
    data = _ParetoData(x, tx, T, np.ones(len(x)))
    z0 = np.log([fitted.params[k] for k in ParetoNBD.PARAMS])

    def f(z):
        return _pareto_loglik(np.exp(z), data, 0)[0]

    h = 1e-3
    eye = np.eye(4) * h
    hess = np.array(
        [
            [
                (f(z0 + eye[i] + eye[j]) - f(z0 + eye[i] - eye[j]))
                - (f(z0 - eye[i] + eye[j]) - f(z0 - eye[i] - eye[j]))
                for j in range(4)
            ]
            for i in range(4)
        ]
    ) / (4 * h * h)
    cov = np.linalg.inv(-hess)
    for i, name in enumerate(ParetoNBD.PARAMS):
        expected = fitted.params[name] * math.sqrt(cov[i, i])
        assert report.standard_errors[name] == pytest.approx(expected, rel=1e-4), name


def test_standard_errors_match_the_spread_of_estimates_across_simulations():
    true = ParetoNBD(r=0.6, alpha=8.0, s=0.8, beta=10.0)
    logs, ses = [], []
    for seed in range(30):
        # Observation lengths in whole days (weeks as the unit), as real summaries have them.
        T = np.random.default_rng(500 + seed).integers(30 * 7, 80 * 7, size=4000) / 7.0
        fit = ParetoNBD.fit(true.simulate(4000, T, seed=seed))
        logs.append([math.log(fit.params[k]) for k in ParetoNBD.PARAMS])
        ses.append([fit.fit_report.standard_errors[k] / fit.params[k] for k in ParetoNBD.PARAMS])
    spread = np.std(np.array(logs), axis=0, ddof=1)
    reported = np.sqrt(np.mean(np.square(ses), axis=0))
    np.testing.assert_allclose(spread / reported, 1.0, atol=0.35)


def test_fit_far_from_alpha_equal_beta_uses_the_transformed_terms_and_recovers_truth():
    # alpha / beta = 20: at small t_x the 2F1 argument is beyond the series' range, so the fit
    # runs partly on scipy's 2F1 with difference derivatives; it still converges by Newton.
    true = ParetoNBD(r=0.8, alpha=40.0, s=0.7, beta=2.0)
    T = np.random.default_rng(8).integers(20 * 7, 60 * 7, size=20_000) / 7.0
    sim = true.simulate(20_000, T, seed=9)
    fitted = ParetoNBD.fit(sim)
    assert fitted.fit_report.converged
    assert fitted.log_likelihood >= true.log_likelihood_of(sim)
    for name, value in true.params.items():
        low, high = fitted.fit_report.confidence_intervals[name]
        se = fitted.fit_report.standard_errors[name]
        assert low - se < value < high + se, (name, value, low, high)
