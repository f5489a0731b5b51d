"""Expected purchases over very short horizons keep every digit (ltv15b item 1).

``(beta / (beta + t))**e`` was computed as ``exp(e (log(beta) - log(beta + t)))``: the two logs
cancel for small ``t`` (to 0 at ``t = 1e-296``), and ``1 - power`` turns that cancellation into a
relative error (about 3e-10 at ``t = 1e-5`` and 1e-4 at ``t = 1e-12`` for Pareto/NBD's
``E[X(t)]``; BG/NBD also lost digits in ``2F1 - 1``).

Golden values do not come from the code under test:

* Pareto/NBD: ``E[X(t)] = r/alpha integral_0^t (beta/(beta+u))**s du``; expanding the integrand,
  ``(1 + u/beta)**-s = 1 - s u/beta + s(s+1)/2 (u/beta)**2 - ...``, and integrating term by term
  gives ``r/alpha [t - s t^2/(2 beta) + s(s+1) t^3/(6 beta^2) - s(s+1)(s+2) t^4/(24 beta^3)]``,
  worked here in ``fractions.Fraction`` (exact; the omitted terms are below 1e-20 relatively).
  A second check: the closed form ``r beta/(alpha (s-1)) [1 - (beta/(beta+t))**(s-1)]`` at 400
  significant digits with Python's ``decimal``.
* BG/NBD: ``E[X(t)] = E_p[(1 - (alpha/(alpha + p t))**r) / p]`` (lambda integrated out,
  ``p ~ Beta(a, b)``); the binomial series ``1 - (1 + v)**-r = sum_{k>=1} (-1)**(k+1) (r)_k/k! v^k``
  with ``v = p t/alpha`` and the beta moments ``E[p^j] = prod_{i<j} (a+i)/(a+b+i)`` give
  ``sum_k (-1)**(k+1) (r)_k/k! (t/alpha)^k E[p^(k-1)]``, summed in ``fractions.Fraction``.
* ``2F1(a, b; c; z) - 1``: its Gauss series summed in ``fractions.Fraction``.
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from clientmodel.ltv import BGNBD, ParetoNBD
from clientmodel.ltv._special import hyp2f1_minus_one
from clientmodel.ltv.covariates import CovariateModel
from clientmodel.ltv.newcustomer import new_customer_purchases

PARETO = ParetoNBD(r=0.553, alpha=10.578, s=0.606, beta=11.669)  # Fader & Hardie's CDNOW fit
BG = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)  # Fader, Hardie & Lee (2005), CDNOW
SMALL = [1e-5, 1e-12, 1e-296]


def _f(v: float) -> Fraction:
    return Fraction(v)


def pareto_series(r: float, alpha: float, s: float, beta: float, t: float) -> float:
    """The first four terms of the Taylor series of Pareto/NBD's E[X(t)] at t = 0 (exact)."""
    r_, a_, s_, b_, t_ = map(_f, (r, alpha, s, beta, t))
    u = t_ / b_
    bracket = 1 - s_ * u / 2 + s_ * (s_ + 1) * u**2 / 6 - s_ * (s_ + 1) * (s_ + 2) * u**3 / 24
    return float(r_ / a_ * t_ * bracket)


def pareto_decimal(r: float, alpha: float, s: float, beta: float, t: float) -> float:
    """The closed form at 400 significant digits."""
    with localcontext() as ctx:
        ctx.prec = 400
        r_, a_, s_, b_, t_ = (Decimal(repr(v)) for v in (r, alpha, s, beta, t))
        power = ((s_ - 1) * (b_.ln() - (b_ + t_).ln())).exp()
        return float(r_ * b_ / (a_ * (s_ - 1)) * (1 - power))


def bg_series(r: float, alpha: float, a: float, b: float, t: float, terms: int = 6) -> float:
    """BG/NBD's E[X(t)] as its power series in t (exact arithmetic, ``terms`` terms)."""
    r_, al_, a_, b_, t_ = map(_f, (r, alpha, a, b, t))
    total, rising, moment = Fraction(0), Fraction(1), Fraction(1)
    for k in range(1, terms + 1):
        rising = rising * (r_ + k - 1) / k  # (r)_k / k!
        if k > 1:
            moment = moment * (a_ + k - 2) / (a_ + b_ + k - 2)  # E[p^(k-1)]
        total += (-1) ** (k + 1) * rising * (t_ / al_) ** k * moment
    return float(total)


@pytest.mark.parametrize("t", SMALL)
def test_pareto_new_customer_expectation_keeps_its_digits(t: float) -> None:
    m = PARETO
    want = pareto_series(m.r, m.alpha, m.s, m.beta, t)
    assert want == pytest.approx(pareto_decimal(m.r, m.alpha, m.s, m.beta, t), rel=1e-15, abs=0.0)
    assert m.expected_purchases_new(t) == pytest.approx(want, rel=1e-14, abs=0.0)
    # Doubling a tiny horizon doubles the expectation (to first order).
    path = m.expected_purchases_new(np.array([t, 2 * t]))
    assert path[1] / path[0] == pytest.approx(2.0, rel=1e-4)


def test_new_customer_purchases_over_one_second() -> None:
    """One second in weeks is 1/604800 (about 1.65e-6)."""
    m = PARETO
    t = 1.0 / 604_800
    got = new_customer_purchases(m, "2024-01-01T00:00:00+00:00", "2024-01-01T00:00:01+00:00")
    assert got == pytest.approx(pareto_series(m.r, m.alpha, m.s, m.beta, t), rel=1e-13, abs=0.0)


@pytest.mark.parametrize("t", SMALL[:2])
def test_pareto_conditional_expectation_keeps_its_digits(t: float) -> None:
    """Given a history the same series holds with (r + x, alpha + T, beta + T), times P(alive)."""
    m = PARETO
    h = {"frequency": 2, "recency": 30.43, "T": 38.86}
    per_alive = m.expected_purchases(h, t) / m.p_alive(h)
    want = pareto_series(m.r + 2, m.alpha + 38.86, m.s, m.beta + 38.86, t)
    assert per_alive == pytest.approx(want, rel=1e-13, abs=0.0)


@pytest.mark.parametrize("t", SMALL[:2])
def test_pareto_covariate_expectation_keeps_its_digits(t: float) -> None:
    """A customer with covariates is the plain model at its own alpha_i, beta_i."""
    cm = CovariateModel(
        base=PARETO,
        purchase=("vip",),
        dropout=("vip",),
        coefficients={"purchase": {"vip": 0.4}, "dropout": {"vip": -0.3}},
    )
    h = {"frequency": [0], "recency": [0.0], "T": [0.0], "vip": [1.0]}
    got = cm.expected_purchases(h, t)[0]
    alpha_i, beta_i = PARETO.alpha * np.exp(-0.4), PARETO.beta * np.exp(0.3)
    assert got == pytest.approx(
        pareto_series(PARETO.r, alpha_i, PARETO.s, beta_i, t), rel=1e-13, abs=0.0
    )


@pytest.mark.parametrize("t", SMALL)
def test_bgnbd_new_customer_expectation_keeps_its_digits(t: float) -> None:
    m = BG
    want = bg_series(m.r, m.alpha, m.a, m.b, t)
    assert m.expected_purchases_new(t) == pytest.approx(want, rel=1e-14, abs=0.0)


def test_bgnbd_series_agrees_with_the_closed_form_at_a_moderate_horizon() -> None:
    """The golden series is right: at t = 0.05 (many terms) it equals eq. 9 from scipy."""
    m, t = BG, 0.05
    c = m.a + m.b - 1.0
    closed = (
        c
        / (m.a - 1.0)
        * (1.0 - (m.alpha / (m.alpha + t)) ** m.r * special.hyp2f1(m.r, m.b, c, t / (m.alpha + t)))
    )
    assert bg_series(m.r, m.alpha, m.a, m.b, t, terms=30) == pytest.approx(closed, rel=1e-10)


def _hyp_minus_one_exact(a: float, b: float, c: float, z: float, terms: int = 60) -> float:
    a_, b_, c_, z_ = map(_f, (a, b, c, z))
    total, term = Fraction(0), Fraction(1)
    for n in range(terms):
        term = term * (a_ + n) * (b_ + n) / ((c_ + n) * (n + 1)) * z_
        total += term
    return float(total)


@settings(max_examples=40, deadline=None)
@given(
    a=st.floats(-3.0, 5.0),
    b=st.floats(-0.9, 3.0),
    c=st.floats(0.2, 40.0),
    log_z=st.floats(-300.0, np.log(0.049)),
)
def test_hyp2f1_minus_one_matches_its_exact_series(
    a: float, b: float, c: float, log_z: float
) -> None:
    z = float(np.exp(log_z))
    want = _hyp_minus_one_exact(a, b, c, z)
    got = float(hyp2f1_minus_one(a, b, c, z))
    assert got == pytest.approx(want, rel=1e-12, abs=1e-300)


def test_hyp2f1_minus_one_is_scipy_beyond_the_series_range() -> None:
    z = np.array([0.3, 0.9])
    got = hyp2f1_minus_one(0.5, 1.2, 2.5, z)
    assert np.array_equal(got, special.hyp2f1(0.5, 1.2, 2.5, z) - 1.0)
    assert hyp2f1_minus_one(0.5, 1.2, 2.5, 0.0) == 0.0
