"""GGompertz/NBD (Bemmaor & Glady 2012).

CLVTools' own estimates are not in the repository, so the golden values here come from:
scipy.integrate.quad (the likelihood's integral at hand-picked points), the Pareto/NBD limit
``b -> 0`` (clientmodel's Pareto/NBD, itself checked against the papers and CLVTools), an
independent simulator written in this file (Monte Carlo), and simulate-then-fit recovery.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, special

from clientmodel.ltv import GGompertzNBD, ParetoNBD
from clientmodel.ltv import ggompertz_nbd as gg
from clientmodel.transactions import summarize

DATA = Path(__file__).resolve().parents[1] / "data"
EXAMPLE = GGompertzNBD(**GGompertzNBD.EXAMPLE)


@pytest.fixture(scope="module")
def apparel():
    """CLVTools' apparel data (data set shipped with the CLVTools R package 0.12.1), set up as
    its vignette does: weeks, estimation period of 104 weeks ending 2006-12-31, same-day merge."""
    with open(DATA / "clvtools_apparelTrans.csv") as fh:
        rows = list(csv.DictReader(fh))
    log = {"customer_id": [r["Id"] for r in rows], "timestamp": [r["Date"] for r in rows]}
    return summarize(log, as_of="2006-12-31", unit="W", after_as_of="exclude")


def _row_loglik_by_quad(r, alpha, b, s, beta, x, tx, t):
    """log L of one history: the alive term in closed form plus the integral by scipy quad."""
    k = r + x

    def survival(u):
        return (beta / (beta + math.expm1(b * u))) ** s

    def density(u):
        return s * b * math.exp(b * u) * beta**s / (beta + math.expm1(b * u)) ** (s + 1)

    dead, _ = integrate.quad(
        lambda u: (alpha + u) ** -k * density(u), tx, t, epsabs=0, epsrel=1e-13, limit=500
    )
    alive = (alpha + t) ** -k * survival(t)
    return special.gammaln(k) - special.gammaln(r) + r * math.log(alpha) + math.log(alive + dead)


# (r, alpha, b, s, beta, x, t_x, T): typical weekly histories, many purchases, the Pareto-like
# corner (tiny b) and a short gap between the last purchase and T.
POINTS = [
    (0.7, 6.0, 0.03, 0.6, 1.5, 2, 30.43, 38.86),
    (0.7, 6.0, 0.03, 0.6, 1.5, 0, 0.0, 38.86),
    (0.5, 1.0, 0.5, 2.0, 10.0, 50, 5.0, 104.0),
    (0.5, 1.0, 1e-6, 0.6, 1.1e-5, 3, 10.0, 78.0),
    (2.0, 0.5, 0.2, 0.1, 0.001, 200, 3.0, 104.0),
    (0.3, 30.0, 0.001, 0.05, 0.01, 8, 40.0, 41.0),
    (1.2, 3.0, 0.1, 1.0, 0.01, 20, 1.0, 200.0),
]


@pytest.mark.parametrize("point", POINTS)
def test_log_likelihood_equals_scipy_quad(point):
    *params, x, tx, t = point
    model = GGompertzNBD(**dict(zip(GGompertzNBD.PARAMS, params, strict=True)))
    got = model.log_likelihood_of({"frequency": x, "recency": tx, "T": t})
    assert got == pytest.approx(_row_loglik_by_quad(*point), abs=1e-9)


def test_sharp_death_peak_is_still_close_to_quad():
    # A known limit of the fixed 64-node rule: a Gompertz density peaked (width 1/(s b) = 0.1)
    # far from t_x. Still within 1e-4 of quad in the log-likelihood.
    point = (0.3, 30.0, 2.0, 5.0, 1e4, 1, 1.0, 52.0)
    *params, x, tx, t = point
    model = GGompertzNBD(**dict(zip(GGompertzNBD.PARAMS, params, strict=True)))
    got = model.log_likelihood_of({"frequency": x, "recency": tx, "T": t})
    assert got == pytest.approx(_row_loglik_by_quad(*point), abs=1e-4)


def test_gradient_equals_central_differences_of_the_likelihood():
    data = EXAMPLE.simulate(300, np.linspace(10, 60, 300), seed=4)
    x, tx, t = (np.asarray(data[k], dtype=float) for k in ("frequency", "recency", "T"))
    w = np.ones(len(x))
    z = np.log([0.6, 5.0, 0.05, 0.8, 2.0])
    _, grad = gg._loglik(np.exp(z), x, tx, t, w)
    assert grad is not None
    for i in range(5):
        step = np.zeros(5)
        step[i] = 1e-5
        up = gg._loglik(np.exp(z + step), x, tx, t, w)[0]
        down = gg._loglik(np.exp(z - step), x, tx, t, w)[0]
        assert grad[i] == pytest.approx((up - down) / 2e-5, rel=1e-6, abs=1e-6)


def test_pareto_nbd_is_the_limit_b_to_zero(apparel):
    # Pareto/NBD's lifetime is the limit b -> 0 with beta / b fixed (e^(b t) - 1 ~ b t).
    pareto = ParetoNBD(r=1.45, alpha=48.6, s=0.56, beta=46.9)
    want = pareto.log_likelihood_of(apparel)
    gaps = []
    for b in (1e-3, 1e-5, 1e-7):
        near = GGompertzNBD(r=1.45, alpha=48.6, b=b, s=0.56, beta=46.9 * b)
        gaps.append(abs(near.log_likelihood_of(apparel) - want))
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[2] < 1e-6 * abs(want)
    near = GGompertzNBD(r=1.45, alpha=48.6, b=1e-8, s=0.56, beta=46.9e-8)
    np.testing.assert_allclose(near.p_alive(apparel), pareto.p_alive(apparel), rtol=1e-6)
    np.testing.assert_allclose(
        near.expected_purchases(apparel, 52.0), pareto.expected_purchases(apparel, 52.0), rtol=1e-6
    )
    assert near.expected_purchases_new(52.0) == pytest.approx(
        pareto.expected_purchases_new(52.0), rel=1e-6
    )


def test_apparel_fit_reaches_the_pareto_limit(apparel):
    # On CLVTools' apparel data the likelihood rises towards b -> 0 (a profile over b, fitted
    # separately while writing this test, falls from -5848.10 at b = 1e-5 to -5849.17 at b = 0.03):
    # the GGompertz/NBD fit must reach Pareto/NBD's log-likelihood and say it is at that limit.
    pareto = ParetoNBD.fit(apparel)
    fitted = GGompertzNBD.fit(apparel)
    report = fitted.fit_report
    assert report is not None
    assert report.log_likelihood >= pareto.log_likelihood - 1e-6
    assert report.at_boundary
    assert any("Pareto/NBD limit" in w for w in report.warnings)
    assert fitted.beta / fitted.b == pytest.approx(pareto.beta, rel=1e-3)


def _independent_draws(model, n, t, rng):
    """Purchase times drawn directly from the model (not model.simulate): summary and alive."""
    lam = rng.gamma(model.r, 1 / model.alpha, n)
    eta = rng.gamma(model.s, 1 / model.beta, n)
    # Gompertz by inversion of S(u) = exp(-eta (e^(b u) - 1)) at a uniform.
    life = np.log(1 - np.log(rng.uniform(size=n)) / eta) / model.b
    x = np.zeros(n, dtype=np.int64)
    last = np.zeros(n)
    for i in range(n):
        end = min(life[i], t)
        clock = rng.exponential(1 / lam[i])
        while clock <= end:
            x[i] += 1
            last[i] = clock
            clock += rng.exponential(1 / lam[i])
    return {"frequency": x, "recency": last, "T": np.full(n, t)}, life > t


def test_p_alive_and_new_customer_purchases_match_monte_carlo():
    # Golden values: an independent simulation (purchase clocks and Gompertz inversion above).
    rng = np.random.default_rng(11)
    n, t = 40_000, 39.0
    data, alive = _independent_draws(EXAMPLE, n, t, rng)
    mean = data["frequency"].mean()
    se = data["frequency"].std() / math.sqrt(n)
    assert abs(EXAMPLE.expected_purchases_new(t) - mean) < 4 * se
    p = EXAMPLE.p_alive(data)
    for group in (data["frequency"] == 0, (data["frequency"] >= 1) & (data["recency"] < 20)):
        share = alive[group].mean()
        se_share = math.sqrt(share * (1 - share) / group.sum())
        assert abs(p[group].mean() - share) < 4 * se_share + 1e-3


def test_conditional_expected_purchases_match_holdout_simulation():
    # Sum over customers of E[X(T, T+t) | history] equals the holdout purchases in expectation.
    sim = EXAMPLE.simulate(40_000, 39.0, seed=5, holdout=26.0)
    want = sim["frequency_holdout"].sum()
    got = EXAMPLE.expected_purchases(sim, 26.0).sum()
    assert got == pytest.approx(want, rel=0.03)
    for x in (0, 1, 3):
        rows = sim["frequency"] == x
        got_x = EXAMPLE.expected_purchases({k: v[rows] for k, v in sim.items()}, 26.0).sum()
        assert got_x == pytest.approx(sim["frequency_holdout"][rows].sum(), rel=0.08)


def test_simulate_then_fit_recovers_the_parameters():
    truth = EXAMPLE
    sim = truth.simulate(4000, np.random.default_rng(2).uniform(30, 80, 4000), seed=8)
    fitted = GGompertzNBD.fit(sim)
    report = fitted.fit_report
    assert report is not None
    assert report.converged
    assert not report.at_boundary
    for name in GGompertzNBD.PARAMS:
        lo, hi = report.confidence_intervals[name]
        assert lo < getattr(truth, name) < hi, name


def test_purchase_probabilities_sum_to_one_and_match_the_mean():
    h = {"frequency": 3, "recency": 20.0, "T": 39.0}
    probs = np.array([EXAMPLE.p_purchases(h, n, 26.0) for n in range(150)])
    assert probs.sum() == pytest.approx(1.0, abs=1e-9)
    mean = float(np.arange(150) @ probs)
    assert mean == pytest.approx(EXAMPLE.expected_purchases(h, 26.0), rel=1e-8)
    new = np.array([EXAMPLE.p_purchases_new(n, 39.0) for n in range(300)])
    assert float(np.arange(300) @ new) == pytest.approx(
        EXAMPLE.expected_purchases_new(39.0), rel=1e-8
    )


def test_p_alive_later_is_survival_of_the_remaining_lifetime():
    # P(alive at T + h) / P(alive at T) = S(T + h) / S(T) under the posterior of eta.
    h = {"frequency": 2, "recency": 30.0, "T": 39.0}
    m = EXAMPLE
    ratio = m.p_alive(h, horizon=13.0) / m.p_alive(h)
    # posterior eta ~ Gamma(s, beta + e^(bT) - 1): E[exp(-eta (e^(b(T+h)) - e^(bT)))]
    rate = m.beta + math.expm1(m.b * 39.0)
    want = (rate / (rate + math.exp(m.b * 52.0) - math.exp(m.b * 39.0))) ** m.s
    assert ratio == pytest.approx(want, rel=1e-12)


def test_path_matches_single_horizons():
    data = EXAMPLE.simulate(50, 39.0, seed=1)
    path = EXAMPLE.expected_purchases_path(data, [13.0, 52.0])
    np.testing.assert_allclose(path[:, 1], EXAMPLE.expected_purchases(data, 52.0), rtol=1e-13)
