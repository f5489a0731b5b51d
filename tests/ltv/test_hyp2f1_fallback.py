"""Pareto/NBD where scipy's 2F1 overflows: large dropout shapes with z near 1.

scipy returns ``inf`` for ``2F1(1, 170.475; 171.7837; 0.99896)`` (the value is 203.0), which made
the Pareto/NBD log-likelihood ``+inf`` at such parameters: the optimiser ran there and a fit on
the model's own simulated data raised ``ConvergenceError``. Golden values: mpmath 1.3 at 30
digits (``mpmath.log(mpmath.hyp2f1(a, b, c, z))``) and an independent quadrature of the
likelihood's defining integral.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, special

from clientmodel.ltv import ParetoNBD
from clientmodel.ltv._special import hyp2f1_safe, log_hyp2f1_euler

# (a, b, c, z) -> log 2F1 by mpmath (mp.dps = 30)
MPMATH = [
    ((1.0, 170.475, 171.7837, 0.9989576835067612), 5.313205152884647088),
    ((2.0, 171.475, 172.78, 0.9989), 11.10348776757495478),
    ((3.0, 172.475, 173.78, 0.9989), 17.253203092170483391),
    ((1.0, 0.05, 0.7, 0.99), 0.53395442796782714459),
    ((1.0, 1000.0, 1000.5, 0.9999), 8.3078690630109759603),
    ((1.0, 0.3, 5.0, 0.8), 0.058014979683710154851),
]


def test_euler_integral_matches_mpmath_in_one_batch():
    a, b, c, z = (np.array(v) for v in zip(*(p for p, _ in MPMATH), strict=True))
    got = log_hyp2f1_euler(a, b, c, z)
    np.testing.assert_allclose(got, [v for _, v in MPMATH], rtol=0, atol=5e-12)


def test_scipy_overflows_here_and_the_safe_version_does_not():
    (a, b, c, z), log_value = MPMATH[0]
    with np.errstate(all="ignore"):
        assert not np.isfinite(special.hyp2f1(a, b, c, z))  # the defect's source
    got = hyp2f1_safe(a, np.array([b, 5.0]), np.array([c, 6.1]), np.array([z, 0.95]))
    assert got[0] == pytest.approx(math.exp(log_value), rel=1e-12)
    assert got[1] == special.hyp2f1(1.0, 5.0, 6.1, 0.95)  # scipy's own value where it is finite


def _pareto_row_loglik(r, alpha, s, beta, x, tx, big_t):
    """Fader & Hardie (2005) eq. 3 with the 'died in (t_x, T]' integral by scipy's quad."""

    def dead(u):
        # scaled by the integrand at t_x so quad sees numbers near 1
        return math.exp(
            -(r + x) * (math.log(alpha + u) - math.log(alpha + tx))
            - (s + 1) * (math.log(beta + u) - math.log(beta + tx))
        )

    integral, _ = integrate.quad(dead, tx, big_t, epsabs=0, epsrel=1e-13, limit=200)
    log_dead = (
        math.log(s * integral) - (r + x) * math.log(alpha + tx) - (s + 1) * math.log(beta + tx)
    )
    log_alive = -(r + x) * math.log(alpha + big_t) - s * math.log(beta + big_t)
    common = math.lgamma(r + x) - math.lgamma(r) + r * math.log(alpha) + s * math.log(beta)
    return common + float(np.logaddexp(log_alive, log_dead))


def test_log_likelihood_is_finite_and_right_where_scipy_overflowed():
    params = {"r": 0.3087, "alpha": 7.2028, "s": 169.475, "beta": 7349.9}
    rows = [(1, 0.4586, 39.0), (2, 6.0888, 39.0), (1, 12.402, 39.0), (0, 0.0, 39.0)]
    model = ParetoNBD(**params)
    for x, tx, big_t in rows:
        ours = model.log_likelihood_of({"frequency": [x], "recency": [tx], "T": [big_t]})
        ref = _pareto_row_loglik(*params.values(), x, tx, big_t)
        assert ours == pytest.approx(ref, abs=1e-9), (x, tx)


def test_fit_on_its_own_simulated_data_reports_homogeneous_dropout():
    """200 customers from the CDNOW estimates (seed 1): the likelihood rises along s, beta -> inf
    with s/beta fixed (profile: -815.618 at s = 20, -815.554 at s = 300), so the optimum is the
    boundary "every customer drops out at the same rate". Before: ConvergenceError."""
    data = ParetoNBD(**ParetoNBD.EXAMPLE).simulate(200, 39.0, seed=1)
    model = ParetoNBD.fit(data)
    report = model.fit_report
    assert report.at_boundary
    assert any("dropout rates do not vary" in w for w in report.warnings)
    assert model.log_likelihood > -815.56
    assert model.params["s"] / model.params["beta"] == pytest.approx(0.023, rel=0.02)
