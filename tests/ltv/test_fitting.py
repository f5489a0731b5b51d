"""The shared maximum-likelihood machinery, checked on problems with closed-form answers."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from clientmodel.errors import ConvergenceError
from clientmodel.ltv._fitting import FitReport, Objective, compress, distinct_rows, maximize

RNG = np.random.default_rng(20261123)
DATA = RNG.exponential(scale=1 / 2.5, size=400)


def exponential_loglik(z: np.ndarray, *, with_gradient: bool = True):
    # Exponential rate lambda = exp(z): LL = n log(lambda) - lambda * sum(x).
    lam = math.exp(z[0])
    value = len(DATA) * math.log(lam) - lam * DATA.sum()
    grad = np.array([len(DATA) - lam * DATA.sum()]) if with_gradient else None
    return value, grad


@pytest.mark.parametrize("with_gradient", [True, False])
def test_exponential_rate_matches_closed_form(with_gradient):
    # MLE: lambda = n / sum(x). Observed information n / lambda^2, so SE = lambda / sqrt(n);
    # on the log scale the SE is 1 / sqrt(n), which gives the interval exp(z +- 1.96 / sqrt(n)).
    n = len(DATA)
    estimates, report = maximize(
        lambda z: exponential_loglik(z, with_gradient=with_gradient),
        names=["lam"],
        starts=[[1.0]],
        n_observations=n,
        n_distinct=n,
    )
    lam = n / DATA.sum()
    assert estimates["lam"] == pytest.approx(lam, rel=1e-6)
    assert report.standard_errors["lam"] == pytest.approx(lam / math.sqrt(n), rel=1e-3)
    low, high = report.confidence_intervals["lam"]
    z = 1.959963984540054 / math.sqrt(n)
    assert low == pytest.approx(lam * math.exp(-z), rel=1e-3)
    assert high == pytest.approx(lam * math.exp(z), rel=1e-3)
    assert report.converged
    assert report.log_likelihood == pytest.approx(n * math.log(lam) - n, rel=1e-9)
    assert report.aic == pytest.approx(2 - 2 * report.log_likelihood)
    assert report.bic == pytest.approx(math.log(n) - 2 * report.log_likelihood)


def test_gamma_shape_satisfies_the_likelihood_equation():
    # Gamma(shape k, rate b) MLE: b = k / mean(x) and log(k) - digamma(k) = log(mean) - mean(log).
    x = RNG.gamma(shape=3.0, scale=0.5, size=2000)
    n, sx, slx = len(x), x.sum(), np.log(x).sum()

    def loglik(z):
        k, b = np.exp(z)
        value = n * (k * math.log(b) - special.gammaln(k)) + (k - 1) * slx - b * sx
        dk = n * (math.log(b) - special.digamma(k)) + slx
        db = n * k / b - sx
        return value, np.array([dk * k, db * b])

    est, _ = maximize(loglik, names=["k", "b"], starts=[[1.0, 1.0]], n_observations=n, n_distinct=n)
    k = est["k"]
    assert math.log(k) - special.digamma(k) == pytest.approx(
        math.log(x.mean()) - np.log(x).mean(), rel=1e-6
    )
    assert est["b"] == pytest.approx(k / x.mean(), rel=1e-6)


def test_penalizer_shrinks_the_estimate():
    n = len(DATA)
    plain, _ = maximize(
        exponential_loglik, names=["lam"], starts=[[1.0]], n_observations=n, n_distinct=n
    )
    shrunk, report = maximize(
        exponential_loglik,
        names=["lam"],
        starts=[[1.0]],
        n_observations=n,
        n_distinct=n,
        penalizer=5.0,
    )
    assert shrunk["lam"] < plain["lam"]
    assert report.penalizer == 5.0


def test_unbounded_likelihood_raises_a_convergence_error_that_says_what_to_try():
    # LL = z increases without bound: the optimum runs away, which must be reported, not returned.
    with pytest.raises(ConvergenceError, match="penalizer") as info:
        maximize(
            lambda z: (float(z[0]), np.array([1.0])),
            names=["theta"],
            starts=[[1.0], [2.0]],
            n_observations=10,
            n_distinct=10,
            model="Runaway",
        )
    assert info.value.code == "convergence_failed"
    assert "Runaway" in str(info.value)


def test_report_round_trips_through_json():
    n = len(DATA)
    _, report = maximize(
        exponential_loglik, names=["lam"], starts=[[1.0]], n_observations=n, n_distinct=n
    )
    again = FitReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again == report


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=40),
    st.data(),
)
def test_compress_preserves_every_weighted_sum(rows, data):
    x = np.array([r[0] for r in rows])
    t = np.array([r[1] for r in rows], dtype=float)
    w = np.array(data.draw(st.lists(st.floats(0.5, 3.0), min_size=len(rows), max_size=len(rows))))
    (cx, ct), cw = compress(x, t, weights=w)
    # Distinct rows only, and any per-row function summed with weights is unchanged.
    assert len(set(zip(cx.tolist(), ct.tolist(), strict=True))) == len(cx)
    f = lambda a, b: np.sin(a + 1.7 * b)  # noqa: E731
    assert float(np.sum(cw * f(cx, ct))) == pytest.approx(float(np.sum(w * f(x, t))))
    assert cw.sum() == pytest.approx(w.sum())


def _lexsort_compress(columns, w):
    # The reference: sort the rows lexicographically (stable), then sum each run of equal rows.
    order = np.lexsort(columns[::-1])
    cols = [c[order] for c in columns]
    new = np.ones(len(order), dtype=bool)
    same = np.ones(len(order) - 1, dtype=bool)
    for c in cols:
        same &= c[1:] == c[:-1]
    new[1:] = ~same
    starts = np.flatnonzero(new)
    return tuple(c[starts] for c in cols), np.add.reduceat(w[order], starts)


def _assert_same_compression(columns, weights):
    got_cols, got_w = compress(*columns, weights=weights)
    w = np.ones(len(columns[0])) if weights is None else np.asarray(weights, dtype=float)
    want_cols, want_w = _lexsort_compress(columns, w)
    assert len(got_cols) == len(want_cols)
    for got, want in zip(got_cols, want_cols, strict=True):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)  # exact, NaN == NaN
    # Weights are summed in the same order, so they agree to the last bit.
    np.testing.assert_array_equal(got_w, want_w)


column_st = st.one_of(
    st.lists(st.sampled_from([0.0, 0.5, 1.0 / 7.0, 2.0 / 7.0, 3.25, 1e9, 1e-300]), min_size=1),
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1),
    st.lists(st.integers(0, 5), min_size=1),
    st.lists(st.integers(-(2**62), 2**62), min_size=1),
    st.lists(st.booleans(), min_size=1),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(column_st, min_size=1, max_size=4), st.integers(0, 2), st.data())
def test_compress_is_exactly_a_lexicographic_sort_and_sum(raw, weight_kind, data):
    n = min(len(c) for c in raw)
    columns = tuple(np.array(c[:n]) for c in raw)
    weights = (
        None
        if weight_kind == 0
        else np.ones(n)
        if weight_kind == 1
        else np.array(data.draw(st.lists(st.floats(0.0, 5.0), min_size=n, max_size=n)))
    )
    _assert_same_compression(columns, weights)


def test_compress_on_a_large_summary_and_unusual_columns():
    rng = np.random.default_rng(5)
    n = 200_000
    x = rng.poisson(2.0, n).astype(float)
    T = rng.integers(1, 274, n) / 7.0
    tx = np.minimum(rng.integers(0, 274, n) / 7.0, T) * (x > 0)
    _assert_same_compression((x, tx, T), None)
    _assert_same_compression((x, tx, T), rng.uniform(0.5, 2.0, n))
    # Many distinct floats (no hashing), NaN and huge key spaces take other paths: same answer.
    _assert_same_compression((rng.normal(size=5000).round(2), rng.normal(size=5000)), None)
    with_nan = np.where(rng.uniform(size=300) < 0.2, np.nan, rng.integers(0, 3, 300) / 4.0)
    _assert_same_compression((with_nan, rng.integers(0, 2, 300)), None)
    big = rng.integers(0, 2**40, size=(3, 1000))
    _assert_same_compression(tuple(np.repeat(big, 2, axis=1)), None)
    (z,), w = compress(np.array([0.0, -0.0, 0.0]))
    assert z.tolist() == [0.0]
    assert w.tolist() == [3.0]


def exponential_hessian(z: np.ndarray) -> np.ndarray:
    lam = math.exp(z[0])
    return np.array([[-lam * DATA.sum()]])


def test_newton_with_an_analytic_hessian_matches_the_closed_form():
    n = len(DATA)
    estimates, report = maximize(
        exponential_loglik,
        names=["lam"],
        starts=[[1.0]],
        n_observations=n,
        n_distinct=n,
        hessian=exponential_hessian,
    )
    lam = n / DATA.sum()
    assert report.method == "trust-exact"
    assert estimates["lam"] == pytest.approx(lam, rel=1e-12)
    # The analytic observed information gives SE = lambda / sqrt(n) up to rounding.
    assert report.standard_errors["lam"] == pytest.approx(lam / math.sqrt(n), rel=1e-10)
    assert report.gradient_norm < 1e-8


def test_newton_steps_aside_when_the_hessian_is_not_finite():
    n = len(DATA)
    estimates, report = maximize(
        exponential_loglik,
        names=["lam"],
        starts=[[1.0]],
        n_observations=n,
        n_distinct=n,
        hessian=lambda z: np.array([[np.nan]]),
    )
    assert report.method == "L-BFGS-B"
    assert estimates["lam"] == pytest.approx(n / DATA.sum(), rel=1e-6)
    assert report.standard_errors["lam"] is None  # a NaN Hessian identifies nothing


def test_objective_evaluates_once_per_point():
    calls = []

    def evaluate(theta, order):
        calls.append(order)
        value, grad = exponential_loglik(np.log(theta))
        return value, grad, exponential_hessian(np.log(theta)) if order > 1 else None

    objective = Objective(evaluate)
    z = np.array([0.3])
    # A gradient method never asks for the Hessian and never pays for it.
    assert objective.loglik(z)[0] == exponential_loglik(z)[0]
    assert objective.loglik(z)[0] == exponential_loglik(z)[0]
    assert calls == [1]
    np.testing.assert_array_equal(objective.hessian(z), exponential_hessian(z))
    assert calls == [1, 2]
    # Once asked for, the Hessian comes with every new point.
    objective.loglik(z + 1.0)
    objective.hessian(z + 1.0)
    assert calls == [1, 2, 2]
    calls.clear()
    n = len(DATA)
    _, report = maximize(
        objective.loglik,
        names=["lam"],
        starts=[[1.0]],
        n_observations=n,
        n_distinct=n,
        hessian=objective.hessian,
    )
    assert report.converged
    assert 0 < len(calls) < 20  # Newton: a handful of points, each evaluated once


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.sampled_from([0.0, 1.5, -2.0, 7.25])), max_size=40))
def test_distinct_rows_gather_back_every_row(rows):
    x = np.array([r[0] for r in rows], dtype=np.int64)
    t = np.array([r[1] for r in rows], dtype=np.float64)
    (ux, ut), index = distinct_rows(x, t)
    np.testing.assert_array_equal(ux[index], x)
    np.testing.assert_array_equal(ut[index], t)
    assert len(ux) == len(set(rows))
    assert list(zip(ux.tolist(), ut.tolist(), strict=True)) == sorted(set(rows))
