"""BG/NBD: golden values from Fader, Hardie & Lee (2005), independent integrals, simulation,
properties and robustness."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special

from clientmodel.errors import ArgumentError, DataError
from clientmodel.ltv.bgnbd import BGNBD, _bg_eval, _bg_loglik, _BGData, _factorize
from clientmodel.ltv.mbgnbd import MBGNBD
from clientmodel.ltv.pareto_nbd import ParetoNBD

DATA = Path(__file__).resolve().parents[1] / "data"
CDNOW = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")
COLS = {"frequency": "x", "recency": "t_x"}
# Fader, Hardie & Lee (2005), "Counting your customers the easy way", Marketing Science 24(2),
# section 4 (CDNOW 1/10th sample, 39-week calibration period).
PUBLISHED = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)


@pytest.fixture(scope="module")
def cdnow_fit() -> BGNBD:
    return BGNBD.fit(CDNOW, columns=COLS)


def test_cdnow_estimates_match_fader_hardie_lee_2005(cdnow_fit):
    # FHL 2005 section 4: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4.
    for name, value in PUBLISHED.params.items():
        assert cdnow_fit.params[name] == pytest.approx(value, abs=6e-4), name
    assert cdnow_fit.log_likelihood == pytest.approx(-9582.4, abs=0.05)
    report = cdnow_fit.fit_report
    assert report.converged
    assert report.n_observations == 2357
    assert report.n_distinct <= 2357
    for name in PUBLISHED.PARAMS:
        low, high = report.confidence_intervals[name]
        assert low < cdnow_fit.params[name] < high


def test_conditional_expectation_matches_fhl_2005():
    # FHL 2005 section 4: a customer with x = 2, t_x = 30.43, T = 38.86 (weeks) is expected to
    # make 1.226 purchases in the next 39 weeks.
    value = PUBLISHED.expected_purchases({"frequency": 2, "recency": 30.43, "T": 38.86}, 39.0)
    assert value == pytest.approx(1.226, abs=5e-4)


def _new_customer_integral(t, r, alpha, a, b):
    # E[X(t)] = E_p[(1 - E_lambda exp(-lambda p t)) / p]: one-dimensional integral over the beta
    # density, written straight from the model's story (not from the closed form).
    # The beta density's endpoint powers go into quad's algebraic weight p^(a-1) (1-p)^(b-1).
    def f(p):
        if p == 0:
            return r * t / alpha / math.exp(special.betaln(a, b))
        return -math.expm1(-r * math.log1p(p * t / alpha)) / p / math.exp(special.betaln(a, b))

    return integrate.quad(f, 0, 1, weight="alg", wvar=(a - 1, b - 1), epsabs=0, epsrel=1e-11)[0]


@pytest.mark.parametrize(
    "params",
    [
        (0.243, 4.414, 0.793, 2.426),
        (1.5, 3.0, 1.0, 2.0),
        (0.5, 3.0, 0.3, 0.4),
        (2.0, 10.0, 3.0, 7.0),
    ],
)
def test_expected_purchases_new_equals_direct_integral(params):
    model = BGNBD(r=params[0], alpha=params[1], a=params[2], b=params[3])
    for t in (1.0, 39.0, 78.0):
        assert model.expected_purchases_new(t) == pytest.approx(
            _new_customer_integral(t, *params), rel=1e-7
        )


def _individual_likelihood(x, tx, T, r, alpha, a, b):
    # Integrate the individual-level likelihood over Gamma(r, alpha) x Beta(a, b) numerically.
    log_norm = (
        r * math.log(alpha)
        - math.lgamma(r)
        - (math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b))
    )

    def inner(lam, p):
        ind = (1 - p) ** x * lam**x * math.exp(-lam * T)
        if x > 0:
            ind += p * (1 - p) ** (x - 1) * lam**x * math.exp(-lam * tx)
        dens = lam ** (r - 1) * math.exp(-alpha * lam) * p ** (a - 1) * (1 - p) ** (b - 1)
        return ind * dens

    value = integrate.dblquad(inner, 0, 1, 0, 30.0, epsabs=0, epsrel=1e-8)[0]
    return value * math.exp(log_norm)


@pytest.mark.parametrize("history", [(0, 0.0, 20.0), (1, 3.0, 10.0), (4, 8.5, 12.0)])
def test_likelihood_equals_numerical_mixture_integral(history):
    params = (1.5, 4.0, 1.3, 2.5)  # shapes > 1 keep the densities bounded for quadrature
    model = BGNBD(r=1.5, alpha=4.0, a=1.3, b=2.5)
    x, tx, T = history
    ll = model.log_likelihood_of({"frequency": x, "recency": tx, "T": T})
    assert math.exp(ll) == pytest.approx(_individual_likelihood(x, tx, T, *params), rel=1e-6)


def test_gradient_matches_finite_differences():
    x = CDNOW["x"].to_numpy(float)
    tx = CDNOW["t_x"].to_numpy(float)
    T = CDNOW["T"].to_numpy(float)
    w = np.ones(len(x))
    for theta in ([0.243, 4.414, 0.793, 2.426], [1.3, 0.7, 2.5, 0.4]):
        z = np.log(theta)
        _, grad = _bg_loglik(np.exp(z), x, tx, T, w, 0)
        h = 1e-6
        numeric = [
            (
                _bg_loglik(np.exp(z + h * e), x, tx, T, w, 0, False)[0]
                - _bg_loglik(np.exp(z - h * e), x, tx, T, w, 0, False)[0]
            )
            / (2 * h)
            for e in np.eye(4)
        ]
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-4)


def test_pmf_sums_to_one_and_its_mean_is_the_expectation():
    h = {"frequency": 2, "recency": 30.43, "T": 38.86}
    probs = np.array([PUBLISHED.p_purchases(h, n, 39.0) for n in range(200)])
    assert probs.sum() == pytest.approx(1.0, abs=1e-10)
    assert probs @ np.arange(200) == pytest.approx(PUBLISHED.expected_purchases(h, 39.0), 1e-9)
    new = np.array([PUBLISHED.p_purchases_new(n, 52.0) for n in range(300)])
    assert new.sum() == pytest.approx(1.0, abs=1e-7)
    assert new @ np.arange(300) == pytest.approx(PUBLISHED.expected_purchases_new(52.0), 1e-6)


def test_new_customer_pmf_matches_simulation():
    sim = PUBLISHED.simulate(200_000, 30.0, seed=11)
    for n in range(4):
        observed = float(np.mean(sim["frequency"] == n))
        assert observed == pytest.approx(PUBLISHED.p_purchases_new(n, 30.0), abs=0.004)


def test_conditional_predictions_match_simulated_holdout():
    # Independent check of P(alive) and E[Y(t) | history]: simulate calibration + holdout from
    # the model and compare the holdout purchases with the predictions, customer-averaged.
    sim = PUBLISHED.simulate(200_000, 39.0, seed=5, holdout=39.0)
    summary = {k: sim[k] for k in ("frequency", "recency", "T")}
    expected = PUBLISHED.expected_purchases(summary, 39.0)
    assert expected.mean() == pytest.approx(sim["frequency_holdout"].mean(), rel=0.02)
    for group in (sim["frequency"] == 0, sim["frequency"] == 1, sim["frequency"] >= 3):
        assert expected[group].mean() == pytest.approx(
            sim["frequency_holdout"][group].mean(), rel=0.05
        )
    any_purchase = 1.0 - PUBLISHED.p_purchases(summary, 0, 39.0)
    assert any_purchase.mean() == pytest.approx(np.mean(sim["frequency_holdout"] > 0), abs=0.005)


def test_parameter_recovery_from_simulated_data():
    true = BGNBD(r=0.5, alpha=6.0, a=0.8, b=2.5)
    T = np.random.default_rng(3).uniform(20, 60, size=40_000)
    fitted = BGNBD.fit(true.simulate(40_000, T, seed=4))
    for name, value in true.params.items():
        low, high = fitted.fit_report.confidence_intervals[name]
        se = fitted.fit_report.standard_errors[name]
        # 95% interval, widened by one more standard error so one seed is not a coin toss.
        assert low - se < value < high + se, (name, value, low, high)


def test_p_alive_and_new_customer_facts():
    # No repeat purchase: BG/NBD customers cannot have dropped out yet.
    assert PUBLISHED.p_alive({"frequency": 0, "recency": 0.0, "T": 50.0}) == 1.0
    assert PUBLISHED.expected_purchases_new(0.0) == 0.0
    # Horizon: P(alive later) <= P(alive now).
    h = {"frequency": 3, "recency": 20.0, "T": 30.0}
    assert PUBLISHED.p_alive(h, horizon=52.0) < PUBLISHED.p_alive(h)
    assert PUBLISHED.churn_risk(h) == pytest.approx(1 - PUBLISHED.p_alive(h))


def test_alive_at_horizon_matches_simulation_of_the_dropout_process():
    # Customers alive at T with history (3, 20, 30): their posterior is Gamma(r+3, alpha+30) x
    # Beta(a, b+3); alive after h means no dropout after any purchase in h.
    rng = np.random.default_rng(9)
    m = PUBLISHED
    lam = rng.gamma(m.r + 3, 1 / (m.alpha + 30.0), size=400_000)
    p = rng.beta(m.a, m.b + 3, size=400_000)
    survived = np.mean(rng.geometric(p) > rng.poisson(lam * 26.0))
    h = {"frequency": 3, "recency": 20.0, "T": 30.0}
    ratio = m.p_alive(h, horizon=26.0) / m.p_alive(h)
    assert ratio == pytest.approx(survived, abs=0.003)


def test_path_agrees_with_single_horizon_calls():
    path = PUBLISHED.expected_purchases_path(CDNOW.head(50), [0, 13, 52], columns=COLS)
    assert path.shape == (50, 3)
    np.testing.assert_allclose(path[:, 0], 0.0)
    np.testing.assert_allclose(
        path[:, 2], PUBLISHED.expected_purchases(CDNOW.head(50), 52.0, columns=COLS), rtol=1e-12
    )


def test_table_input_kinds_and_weights():
    compressed = CDNOW.groupby(["x", "t_x", "T"]).size().reset_index(name="n")
    a = BGNBD.fit(compressed, columns=COLS, weights="n")
    b = BGNBD.fit(compressed, columns=COLS, weights=compressed["n"].to_numpy())
    assert a.params == pytest.approx(PUBLISHED.params, abs=6e-4)
    assert a.params == pytest.approx(b.params, rel=1e-9)
    pl = pytest.importorskip("polars")
    out = PUBLISHED.p_alive(pl.from_pandas(CDNOW.head(5)), columns=COLS)
    assert isinstance(out, np.ndarray)
    assert out.shape == (5,)


def test_json_round_trip_keeps_everything(cdnow_fit):
    again = BGNBD.from_dict(json.loads(json.dumps(cdnow_fit.to_dict())))
    assert again == cdnow_fit
    assert again.fit_report == cdnow_fit.fit_report
    with pytest.raises(ArgumentError):
        BGNBD.from_dict({**cdnow_fit.to_dict(), "model": "ParetoNBD"})


def test_invalid_parameters_and_arguments_raise():
    with pytest.raises(ArgumentError, match="alpha"):
        BGNBD(r=1.0, alpha=-1.0, a=1.0, b=1.0)
    with pytest.raises(ArgumentError, match="horizon"):
        PUBLISHED.p_alive({"frequency": 1, "recency": 1.0, "T": 2.0}, horizon=-1.0)
    with pytest.raises(ArgumentError):
        PUBLISHED.p_purchases_new(-1, 5.0)
    with pytest.raises(DataError, match="recency"):
        PUBLISHED.p_alive({"frequency": [1, 2], "recency": [5.0, 9.0], "T": [6.0, 8.0]})


def test_all_zero_frequency_is_a_clear_data_error():
    with pytest.raises(DataError, match="frequency 0"):
        BGNBD.fit({"frequency": [0, 0, 0], "recency": [0.0, 0.0, 0.0], "T": [5.0, 6.0, 7.0]})


def test_extreme_histories_stay_finite():
    m = PUBLISHED
    rows = {
        "frequency": [20_000, 50_000, 3, 0, 1],
        "recency": [2_999.0, 1e-3, 1e-6, 0.0, 4000.0],
        "T": [3_000.0, 5_000.0, 1e-6, 1e-9, 4000.0],
    }
    for values in (
        m.p_alive(rows),
        m.p_alive(rows, horizon=100.0),
        m.expected_purchases(rows, 52.0),
        m.p_purchases(rows, 2, 52.0),
    ):
        assert np.all(np.isfinite(values))
        assert np.all(values >= 0)
    # A very frequent customer keeps buying at about the posterior mean rate (r + x)/(alpha + T)
    # while alive; dropout within one week is negligible (p ~ a / (b + x) ~ 4e-5 per purchase).
    h = {"frequency": 20_000, "recency": 2_999.0, "T": 3_000.0}
    rate = (m.r + 20_000) / (m.alpha + 3_000.0)
    assert m.expected_purchases(h, 1.0) == pytest.approx(m.p_alive(h) * rate, rel=1e-3)
    # A tiny data set with huge frequencies fits or raises a ConvergenceError, never NaN.
    fitted = BGNBD.fit(
        {"frequency": [20_000, 5, 0, 1], "recency": [99.0, 50.0, 0.0, 3.0], "T": [100.0] * 4},
        penalizer=0.01,
    )
    assert all(math.isfinite(v) for v in fitted.params.values())


params_st = st.tuples(
    st.floats(0.05, 5.0), st.floats(0.1, 50.0), st.floats(0.05, 5.0), st.floats(0.05, 10.0)
)
history_st = st.tuples(st.integers(0, 200), st.floats(0.0, 1.0), st.floats(0.01, 200.0))


@settings(max_examples=60, deadline=None)
@given(params_st, history_st, st.floats(0.0, 100.0))
def test_probabilities_and_monotonicity(params, history, t):
    m = BGNBD(r=params[0], alpha=params[1], a=params[2], b=params[3])
    x, frac, T = history
    rec = {"frequency": x, "recency": 0.0 if x == 0 else frac * T, "T": T}
    alive = m.p_alive(rec)
    assert 0.0 <= alive <= 1.0
    assert 0.0 <= m.p_alive(rec, horizon=t) <= alive + 1e-12
    assert 0.0 <= m.p_purchases(rec, 1, t) <= 1.0
    # P(alive) decreases as the silence since the last purchase grows.
    later = {**rec, "T": T + 10.0}
    assert m.p_alive(later) <= alive + 1e-12
    # Expected purchases grow with the horizon; record and table faces agree.
    e1, e2 = m.expected_purchases(rec, t), m.expected_purchases(rec, t + 5.0)
    assert 0.0 <= e1 <= e2 * (1 + 1e-9) + 1e-12
    table = {k: [v, v] for k, v in rec.items()}
    np.testing.assert_allclose(m.expected_purchases(table, t), [e1, e1], rtol=1e-12)
    assert m.expected_purchases_new(t) <= m.expected_purchases_new(t + 5.0) * (1 + 1e-9) + 1e-12


@settings(max_examples=50, deadline=None)
@given(params_st)
def test_to_dict_round_trip_is_exact(params):
    m = BGNBD(r=params[0], alpha=params[1], a=params[2], b=params[3])
    assert BGNBD.from_dict(json.loads(json.dumps(m.to_dict()))) == m


def test_penalizer_shrinks_parameters(cdnow_fit):
    shrunk = BGNBD.fit(CDNOW, columns=COLS, penalizer=0.1)
    assert sum(v**2 for v in shrunk.params.values()) < sum(v**2 for v in cdnow_fit.params.values())


def _differences_of_gradient(data, theta, h=1e-5):
    z = np.log(theta)
    cols = []
    for e in np.eye(4):
        up = _bg_eval(np.exp(z + h * e), data, 1)[1]
        down = _bg_eval(np.exp(z - h * e), data, 1)[1]
        cols.append((up - down) / (2 * h))
    return np.stack(cols, axis=1)


@pytest.mark.parametrize("shift", [0, 1])
def test_analytic_hessian_matches_differences_of_the_analytic_gradient(shift):
    x, tx, T = (CDNOW[c].to_numpy(float) for c in ("x", "t_x", "T"))
    w = np.random.default_rng(2).uniform(0.5, 2.0, len(x))
    data = _BGData(x, tx, T, w, shift, _factorize(x, tx, T))
    for theta in ([0.243, 4.414, 0.793, 2.426], [1.3, 0.7, 2.5, 0.4], [5.0, 50.0, 0.05, 30.0]):
        theta = np.array(theta)
        value, grad, hess = _bg_eval(theta, data, 2)
        assert _bg_eval(theta, data, 0)[0] == value
        np.testing.assert_array_equal(_bg_eval(theta, data, 1)[1], grad)
        np.testing.assert_array_equal(hess, hess.T)
        numeric = _differences_of_gradient(data, theta)
        np.testing.assert_allclose(hess, numeric, rtol=1e-6, atol=1e-7 * np.abs(hess).max())


@settings(max_examples=25, deadline=None)
@given(params_st, st.integers(0, 10_000), st.sampled_from([0, 1]))
def test_gradient_and_hessian_agree_with_differences_anywhere(params, seed, shift):
    sim = BGNBD(r=params[0], alpha=params[1], a=params[2], b=params[3]).simulate(
        300, np.random.default_rng(seed).uniform(1.0, 100.0, 300), seed=seed
    )
    x, tx, T = (np.asarray(sim[c], dtype=float) for c in ("frequency", "recency", "T"))
    data = _BGData(x, tx, T, np.ones(len(x)), shift, _factorize(x, tx, T))
    theta = np.array(params)
    value, grad, hess = _bg_eval(theta, data, 2)
    z, h = np.log(theta), 1e-3

    def f(dz):
        return _bg_eval(np.exp(z + dz), data, 0)[0]

    # Five-point differences of the values: truncation ~h^4, rounding ~1e-16 |value| / h.
    numeric_grad = [
        (8 * (f(h * e) - f(-h * e)) - (f(2 * h * e) - f(-2 * h * e))) / (12 * h) for e in np.eye(4)
    ]
    np.testing.assert_allclose(
        grad, numeric_grad, rtol=1e-6, atol=1e-7 * np.abs(grad).max() + 1e-12 * abs(value) / h
    )
    numeric = _differences_of_gradient(data, theta)
    np.testing.assert_allclose(hess, numeric, rtol=1e-5, atol=1e-6 * np.abs(hess).max())


def test_standard_errors_match_the_curvature_of_likelihood_values(cdnow_fit):
    # Observed information from second differences of the log-likelihood *values* only, which
    # shares nothing with the analytic Hessian behind the report.
    x, tx, T = (CDNOW[c].to_numpy(float) for c in ("x", "t_x", "T"))
    w = np.ones(len(x))
    z0 = np.log([cdnow_fit.params[k] for k in BGNBD.PARAMS])

    def f(z):
        return _bg_loglik(np.exp(z), x, tx, T, w, 0, False)[0]

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
    report = cdnow_fit.fit_report
    assert report.method == "trust-exact"
    assert report.gradient_norm < 1e-6
    for i, name in enumerate(BGNBD.PARAMS):
        expected = cdnow_fit.params[name] * math.sqrt(cov[i, i])
        assert report.standard_errors[name] == pytest.approx(expected, rel=1e-4), name


def test_standard_errors_match_the_spread_of_estimates_across_simulations():
    # 40 data sets of 3,000 customers from known parameters: the spread of the log-estimates
    # should be what the reported (log-scale) standard errors say, within sampling error.
    true = BGNBD(r=0.5, alpha=6.0, a=0.8, b=2.5)
    logs, ses = [], []
    for seed in range(40):
        T = np.random.default_rng(1000 + seed).uniform(20, 60, size=3000)
        fit = BGNBD.fit(true.simulate(3000, T, seed=seed))
        logs.append([math.log(fit.params[k]) for k in BGNBD.PARAMS])
        ses.append([fit.fit_report.standard_errors[k] / fit.params[k] for k in BGNBD.PARAMS])
    spread = np.std(np.array(logs), axis=0, ddof=1)
    reported = np.sqrt(np.mean(np.square(ses), axis=0))
    np.testing.assert_allclose(spread / reported, 1.0, atol=0.3)


@pytest.mark.parametrize(
    "model", [PUBLISHED, ParetoNBD(r=0.553, alpha=10.578, s=0.606, beta=11.669)]
)
def test_log_likelihood_of_checks_weights_like_fit(model):
    head = CDNOW.head(4).assign(n=[1.0, 2.0, 0.0, 3.0])
    by_name = model.log_likelihood_of(head, columns=COLS, weights="n")
    by_array = model.log_likelihood_of(head, columns=COLS, weights=head["n"].to_numpy())
    rows = model.log_likelihood_of(head.loc[head.index.repeat(head["n"].astype(int))], columns=COLS)
    assert by_name == pytest.approx(by_array, rel=1e-12)
    assert by_name == pytest.approx(rows, rel=1e-12)
    with pytest.raises(DataError, match="weights"):
        model.log_likelihood_of(head, columns=COLS, weights=[1.0, np.nan, 1.0, 1.0])
    with pytest.raises(DataError, match="weights"):
        model.log_likelihood_of(head, columns=COLS, weights=[1.0, -1.0, 1.0, 1.0])
    with pytest.raises(ArgumentError, match="weights"):
        model.log_likelihood_of(head, columns=COLS, weights=[1.0, 1.0])


def test_table_predictions_equal_record_predictions_with_repeated_histories():
    # Predictions are computed once per distinct (x, T) and gathered back: shuffled duplicates
    # must still get exactly their own record's value.
    rng = np.random.default_rng(5)
    table = CDNOW.head(30).iloc[rng.integers(0, 30, 200)].reset_index(drop=True)
    for model in (PUBLISHED, MBGNBD(**PUBLISHED.params)):
        expected = model.expected_purchases(table, 26.0, columns=COLS)
        later = model.p_alive(table, horizon=10.0, columns=COLS)
        pmf = model.p_purchases(table, 1, 26.0, columns=COLS)
        for i in (0, 57, 199):
            record = {"frequency": table.x[i], "recency": table.t_x[i], "T": table["T"][i]}
            assert expected[i] == pytest.approx(model.expected_purchases(record, 26.0), rel=1e-12)
            assert later[i] == pytest.approx(model.p_alive(record, horizon=10.0), rel=1e-12)
            assert pmf[i] == pytest.approx(model.p_purchases(record, 1, 26.0), rel=1e-12)


@pytest.mark.parametrize("t", [1e50, 1e200, 1e308])
def test_expected_purchases_at_huge_horizons_is_right_not_refused(t):
    """With a < 1, E[1/p] diverges, so E[purchases in t] grows like t**(1 - a) without bound:
    a finite 1e62 at t = 1e308 is the true value (issue 16, ``expected-1e308-t``). Golden value:
    an independent quadrature of E[(1 - (alpha'/(alpha' + p t))**r') / p] over p ~ Beta(a, b),
    for a customer with no repeat purchase (P(alive) = 1; posterior r' = r, alpha' = alpha + T),
    instead of the hypergeometric closed form of the code."""
    r, alpha, a, b, big_t = 0.25, 4.0, 0.8, 2.5, 25.3
    post = alpha + big_t
    log_beta = special.betaln(a, b)

    def integrand(u):  # p = exp(u); the Jacobian p cancels the 1/p
        p = np.exp(u)
        gain = -np.expm1(-r * np.log1p(p * t / post))
        return gain * np.exp((a - 1) * u + (b - 1) * np.log1p(-p) - log_beta)

    mid = -math.log(t)  # where p t ~ 1: split there so quad sees the bend
    pieces = [(mid - 60, mid - 5), (mid - 5, mid + 5), (mid + 5, 0.0)]
    golden = sum(integrate.quad(integrand, lo, hi, limit=400)[0] for lo, hi in pieces)
    model = BGNBD(r=r, alpha=alpha, a=a, b=b)
    ours = model.expected_purchases({"frequency": [0], "recency": [0.0], "T": [big_t]}, t=t)
    assert np.isfinite(ours[0])
    assert ours[0] == pytest.approx(golden, rel=1e-9)
