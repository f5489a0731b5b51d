"""Fits and predictions on histories that do not repeat (issue 14, item 3): starts on a binned
copy of the data polished on the full data, rows merged without sorting, predictions per
distinct frequency, and the Pareto/NBD count probabilities for long horizons."""

from __future__ import annotations

import itertools
import math

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special

from clientmodel.ltv import BGNBD, MBGNBD, ParetoNBD, _btyd
from clientmodel.ltv._fitting import Likelihood, compress, maximize
from clientmodel.ltv._special import bg_alive_expected

BG = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)  # FHL (2005), CDNOW
PARETO = ParetoNBD(r=0.553, alpha=10.578, s=0.606, beta=11.669)  # FHL (2005), CDNOW


def distinct_population(model, n, seed):
    """Continuous T and recency (as from timestamps): every history is distinct."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(1.0 / 7.0, 39.0, size=n)
    sim = model.simulate(n, t, seed=seed + 1)
    return {"frequency": sim["frequency"], "recency": sim["recency"], "T": t}


def _fit_both_ways(cls, data):
    """The fit as shipped (coarse starts, polished) and every start on the full data."""
    problem = cls._likelihood(data, weights=None, columns=None)
    assert problem.coarse is not None  # enough distinct histories to bin
    coarse_fit = cls._maximize(problem, 0.0, None)
    full_fit = cls._maximize(attrs.evolve(problem, coarse=None), 0.0, None)
    return problem, coarse_fit, full_fit


@pytest.mark.parametrize(
    ("cls", "truth", "n"),
    [(BGNBD, BG, 30_000), (MBGNBD, None, 30_000), (ParetoNBD, PARETO, 25_000)],
)
def test_binned_starts_polished_on_full_data_reach_the_full_optimum(cls, truth, n):
    model = truth if truth is not None else MBGNBD(r=0.25, alpha=4.0, a=0.8, b=2.5)
    data = distinct_population(model, n, seed=5)
    problem, fast, slow = _fit_both_ways(cls, data)
    rf, rs = fast.fit_report, slow.fit_report
    # The reference is the fit that runs every start on the full data: same optimum.
    assert rf.log_likelihood >= rs.log_likelihood - 1e-8 * abs(rs.log_likelihood)
    for name in cls.PARAMS:
        assert math.isclose(fast.params[name], slow.params[name], rel_tol=1e-5)
        assert math.isclose(rf.standard_errors[name], rs.standard_errors[name], rel_tol=1e-4)
    # The report says what happened: starts counted on the binned data, polished on all.
    assert rf.converged
    assert not rf.at_boundary
    assert rf.n_starts == 4
    assert rf.starts_agreed == 4
    assert rf.n_distinct == n == problem.n_distinct
    coarsest = problem.coarse
    while coarsest.coarse is not None:
        coarsest = coarsest.coarse
    assert rf.message.startswith(f"4 start(s) on {coarsest.n_distinct:,} binned histories")
    assert rf.message.endswith(f"on all {n:,} histories")
    assert rf.gradient_norm / n < 1e-4


def test_coarsen_keeps_weights_and_the_summary_rules():
    data = distinct_population(BG, 40_000, seed=2)
    x, tx, t = (np.asarray(data[c], dtype=float) for c in ("frequency", "recency", "T"))
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(x))
    cx, ctx, ct, cw = _btyd.coarsen(x, tx, t, w)
    assert len(cx) * 4 <= len(x)
    assert math.isclose(cw.sum(), w.sum(), rel_tol=1e-12)
    assert np.all(ctx <= ct)
    assert np.all(ctx[cx == 0] == 0)
    # Per frequency, the weights are those of the customers with that frequency.
    for value in (0, 1, 5):
        assert math.isclose(cw[cx == value].sum(), w[x == value].sum(), rel_tol=1e-12)
    # Too few histories: no binned copy.
    assert _btyd.coarsen(x[:100], tx[:100], t[:100], w[:100]) is None


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.sampled_from([0.0, -0.0, 1.5, 2.5]), st.integers(3, 6)),
        min_size=1,
        max_size=40,
    ),
    st.integers(0, 2**32 - 1),
)
def test_hashed_merge_equals_the_sorting_merge(rows, seed):
    x = np.array([r[0] for r in rows], dtype=float)
    t = np.array([float(r[2]) for r in rows])
    tx = np.where(x > 0, [r[1] for r in rows], 0.0)
    w = np.random.default_rng(seed).integers(1, 4, len(x)).astype(float)
    hx, htx, ht, hw = _btyd._compress_hashed(x, tx, t, w)
    (sx, stx, st_), sw = compress(x, tx, t, weights=w)
    order = np.lexsort((ht, htx, hx))
    assert hx[order].tolist() == sx.tolist()
    assert htx[order].tolist() == stx.tolist()
    assert ht[order].tolist() == st_.tolist()
    assert hw[order].tolist() == sw.tolist()


def test_expected_purchases_on_continuous_T_match_the_per_row_formula():
    data = distinct_population(BG, 20_000, seed=9)
    x, tx, t = (np.asarray(data[c], dtype=float) for c in ("frequency", "recency", "T"))
    got = BG.expected_purchases(data, 52.0)
    # Per row, straight from FHL (2005) eq. 10: P(alive) times the posterior expectation.
    odds = np.where(
        x > 0, BG.a / (BG.b + x - 1) * ((BG.alpha + t) / (BG.alpha + tx)) ** (BG.r + x), 0.0
    )
    alive = 1.0 / (1.0 + odds)
    expected = alive * bg_alive_expected(52.0, BG.r + x, BG.alpha + t, BG.a, BG.b + x)
    np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-14)


def _pareto_pmf_by_adaptive_quadrature(n, t, r, alpha, s, beta):
    """P(X(t) = n) for a customer alive at 0, by scipy's adaptive quadrature over the dropout
    time on panels split at decades (an independent evaluation of the same integral)."""

    def nb(u):
        log = (
            special.gammaln(r + n)
            - special.gammaln(r)
            - special.gammaln(n + 1)
            + r * math.log(alpha / (alpha + u))
        )
        return math.exp(log + (n * math.log(u / (alpha + u)) if n > 0 else 0.0))

    def density_times_nb(u):
        if u == 0:
            return s / beta if n == 0 else 0.0
        return s / beta * (beta / (beta + u)) ** (s + 1) * nb(u)

    cuts = [0.0, *(c for c in (1.0, 10.0, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7) if c < t), t]
    dead = sum(
        integrate.quad(density_times_nb, a, b, epsabs=1e-15, epsrel=1e-13, limit=500)[0]
        for a, b in itertools.pairwise(cuts)
    )
    return nb(t) * (beta / (beta + t)) ** s + dead


@pytest.mark.parametrize("t", [39.0, 1e4, 1e5, 1e7])
@pytest.mark.parametrize("n", [0, 1, 7, 40])
def test_pareto_p_purchases_new_for_long_horizons(n, t):
    # Before: a 64-point rule on [0, t] drifted from t ~ 1e4 on (P(0, 1e4) 0.5069 for 0.5099).
    want = _pareto_pmf_by_adaptive_quadrature(n, t, **PARETO.params)
    assert PARETO.p_purchases_new(n, t) == pytest.approx(want, abs=1e-10, rel=1e-10)


def test_pareto_conditional_p_purchases_for_a_long_horizon():
    history = {"frequency": [3, 0], "recency": [20.0, 0.0], "T": [38.0, 38.0]}
    got = PARETO.p_purchases(history, 2, 1e5)
    alive = PARETO.p_alive(history)
    p = PARETO.params
    for i, x in enumerate((3, 0)):
        want = alive[i] * _pareto_pmf_by_adaptive_quadrature(
            2, 1e5, p["r"] + x, p["alpha"] + 38.0, p["s"], p["beta"] + 38.0
        )
        assert got[i] == pytest.approx(want, abs=1e-10, rel=1e-10)


def _exponential(data, weights):
    """Log-likelihood of an exponential rate exp(z), its gradient and Hessian (by hand)."""
    n, total = float(weights.sum()), float(weights @ data)

    def loglik(z):
        lam = float(np.exp(z[0]))
        return n * z[0] - lam * total, np.array([n - lam * total])

    def hessian(z):
        return np.array([[-float(np.exp(z[0])) * total]])

    return loglik, hessian


def test_maximize_polishes_a_binned_optimum_onto_the_full_one():
    rng = np.random.default_rng(4)
    data = rng.exponential(2.0, size=5000)
    full, full_h = _exponential(data, np.ones(len(data)))
    binned, counts = np.unique(np.round(data, 0), return_counts=True)
    c_loglik, c_hess = _exponential(binned, counts.astype(float))
    coarse = Likelihood(c_loglik, [[0.1], [5.0]], 5000.0, len(binned), hessian=c_hess)
    est, report = maximize(
        full,
        names=["lam"],
        starts=[[0.1], [5.0]],
        n_observations=5000.0,
        n_distinct=5000,
        hessian=full_h,
        coarse=coarse,
    )
    # The maximum likelihood rate of an exponential sample is 1 / mean (by hand).
    assert est["lam"] == pytest.approx(1.0 / data.mean(), rel=1e-10)
    assert report.n_starts == 2
    assert report.message.startswith(f"2 start(s) on {len(binned)} binned histories")


def test_maximize_runs_every_start_on_the_full_data_when_the_binned_fit_runs_away():
    rng = np.random.default_rng(5)
    data = rng.exponential(2.0, size=500)
    full, full_h = _exponential(data, np.ones(len(data)))

    def runaway(z):  # rises for ever: no interior optimum on the binned copy
        return float(z[0]), np.array([1.0])

    coarse = Likelihood(runaway, [[1.0]], 500.0, 3)
    est, report = maximize(
        full,
        names=["lam"],
        starts=[[0.1], [5.0]],
        n_observations=500.0,
        n_distinct=500,
        hessian=full_h,
        coarse=coarse,
    )
    assert est["lam"] == pytest.approx(1.0 / data.mean(), rel=1e-10)
    assert report.n_starts == 2
    assert "binned" not in report.message
