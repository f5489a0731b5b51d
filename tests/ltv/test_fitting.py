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
from clientmodel.ltv._fitting import FitReport, compress, maximize

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
