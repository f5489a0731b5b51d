"""Special-function pieces shared by the continuous-time transaction models.

Each helper evaluates one mixture integral of the BG/NBD, MBG/NBD or Pareto/NBD in a form chosen
for numerical safety: Gauss hypergeometric functions are rewritten (Euler / Pfaff transformations)
so that their parameters stay small and their argument lies in ``[0, 1)``, where the power series
converges and ``scipy.special.hyp2f1`` is accurate, and large powers are kept in log space.
Where a closed form still fails (non-finite result), a Gauss-Jacobi quadrature of the defining
integral over the beta-distributed dropout probability is used instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import special

__all__: list[str] = []

Array = NDArray[np.float64]

# Distance from a = 1 inside which the BG expectation is interpolated (removable singularity).
_A_NEAR_ONE = 1e-4
_JACOBI_NODES = 96


def _f(x: Any) -> Array:
    return np.asarray(x, dtype=np.float64)


def one_minus_power_over(e: Any, log_base: Any) -> Array:
    """``(1 - exp(e * log_base)) / e``, with its limit ``-log_base`` at ``e = 0``."""
    e, lb = np.broadcast_arrays(_f(e), _f(log_base))
    safe = np.where(e == 0, 1.0, e)
    with np.errstate(all="ignore"):
        out: Array = np.where(e == 0, -lb, -np.expm1(safe * lb) / safe) + 0.0  # no -0.0
    return out


def _beta_expectation(func: Any, a: Array, b: Array, nodes: int = _JACOBI_NODES) -> Array:
    """E[func(p)] for p ~ Beta(a, b), elementwise over broadcast ``a``, ``b``, by Gauss-Jacobi."""
    a, b = np.broadcast_arrays(_f(a), _f(b))
    out = np.empty(a.shape)
    for idx in np.ndindex(a.shape):
        x, w = special.roots_jacobi(nodes, b[idx] - 1.0, a[idx] - 1.0)
        p = (1.0 + x) / 2.0
        out[idx] = float(np.sum(w * func(p, idx)) / np.sum(w))
    return out


def bg_alive_expected(t: Any, r: Any, alpha: Any, a: Any, b: Any) -> Array:
    """Expected purchases in ``(0, t]`` of a BG/NBD customer alive at 0.

    With ``lambda ~ Gamma(r, alpha)`` and ``p ~ Beta(a, b)`` this is
    ``E[(1 - exp(-lambda p t)) / p]``, which equals (Fader, Hardie & Lee 2005, eq. 9)
    ``c / (a - 1) * [1 - (alpha/(alpha+t))**r * 2F1(r, b; c; z)]``, ``c = a + b - 1``,
    ``z = t / (alpha + t)``. The Euler transformation turns the bracket into
    ``1 - (1 - z)**(a - 1) * 2F1(c - r, a - 1; c; z)``, whose parameters do not grow with the
    customer's frequency (``r`` and ``b`` carry it in the conditional form).
    """
    t, r, alpha, a, b = np.broadcast_arrays(_f(t), _f(r), _f(alpha), _f(a), _f(b))
    near = np.abs(a - 1.0) < _A_NEAR_ONE
    out = np.where(
        near,
        0.0,
        _bg_expected_closed(t, r, alpha, np.where(near, 2.0, a), b),
    )
    if near.any():
        # The a = 1 singularity is removable: average the two sides (error O(h^2)).
        sl = near
        lo = _bg_expected_closed(t[sl], r[sl], alpha[sl], 1.0 - 2 * _A_NEAR_ONE, b[sl])
        hi = _bg_expected_closed(t[sl], r[sl], alpha[sl], 1.0 + 2 * _A_NEAR_ONE, b[sl])
        w = (a[sl] - (1.0 - 2 * _A_NEAR_ONE)) / (4 * _A_NEAR_ONE)
        out[sl] = lo + w * (hi - lo)
    bad = ~np.isfinite(out)
    if bad.any():  # pragma: no cover - defensive fallback
        tb, rb, ab = t[bad], r[bad], alpha[bad]

        def integrand(p: Array, idx: tuple[int, ...]) -> Array:
            u = p * tb[idx] / ab[idx]
            with np.errstate(all="ignore"):
                v = -np.expm1(-rb[idx] * np.log1p(u)) / p
            res: Array = np.where(p > 0, v, rb[idx] * tb[idx] / ab[idx])
            return res

        out[bad] = _beta_expectation(integrand, a[bad], b[bad])
    return out


def _bg_expected_closed(t: Array, r: Array, alpha: Array, a: Any, b: Array) -> Array:
    a = _f(a)
    c = a + b - 1.0
    z = t / (alpha + t)
    log1mz = np.log(alpha) - np.log(alpha + t)
    with np.errstate(all="ignore"):
        hyp = special.hyp2f1(c - r, a - 1.0, c, z)
        # 1 - (1-z)^(a-1) F  =  (1 - (1-z)^(a-1)) - (1-z)^(a-1) (F - 1)
        bracket = -np.expm1((a - 1.0) * log1mz) - np.exp((a - 1.0) * log1mz) * (hyp - 1.0)
        out: Array = c / (a - 1.0) * bracket
    return np.where(t > 0, out, 0.0)


def bg_alive_survival(h: Any, r: Any, alpha: Any, a: Any, b: Any) -> Array:
    """P(still alive after ``h`` more time units) for a BG/NBD customer alive now.

    Alive at ``h`` means no dropout after any purchase in ``(0, h]``: ``exp(-lambda p h)``
    given ``(lambda, p)``; mixing over ``Gamma(r, alpha)`` and ``Beta(a, b)`` gives
    ``E[(alpha / (alpha + p h))**r] = 2F1(r, a; a + b; -h / alpha)``, evaluated after the Pfaff
    transformation as ``(alpha / (alpha + h))**r * 2F1(r, b; a + b; h / (alpha + h))`` and the
    Euler one as ``(alpha / (alpha + h))**a * 2F1(a + b - r, a; a + b; h / (alpha + h))``: in the
    conditional form ``r`` and ``b`` both grow with the frequency, so ``a + b - r`` does not.
    """
    h, r, alpha, a, b = np.broadcast_arrays(_f(h), _f(r), _f(alpha), _f(a), _f(b))
    w = h / (alpha + h)
    with np.errstate(all="ignore"):
        log_hyp = np.log(special.hyp2f1(a + b - r, a, a + b, w))
        out = np.exp(a * (np.log(alpha) - np.log(alpha + h)) + log_hyp)
    out = np.where(h > 0, out, 1.0)
    bad = ~np.isfinite(out) | (out > 1.0 + 1e-9) | (out < 0)
    if bad.any():
        hb, rb, ab = h[bad], r[bad], alpha[bad]

        def integrand(p: Array, idx: tuple[int, ...]) -> Array:
            res: Array = np.exp(-rb[idx] * np.log1p(p * hb[idx] / ab[idx]))
            return res

        out[bad] = _beta_expectation(integrand, a[bad], b[bad])
    return np.clip(out, 0.0, 1.0)


def bg_alive_pmf(n: Any, t: Any, r: Any, alpha: Any, a: Any, b: Any) -> Array:
    """P(n purchases in ``(0, t]``) for a BG/NBD customer alive at 0.

    Fader, Hardie & Lee (2005), eq. 8: the customer is still alive after ``n`` purchases and
    makes exactly ``n`` (a negative binomial count), or drops out right after the ``n``-th
    purchase, which happened before ``t``::

        B(a, b+n)/B(a, b) NB(n; r, alpha/(alpha+t))
        + [n > 0] B(a+1, b+n-1)/B(a, b) P(NB(r, alpha/(alpha+t)) >= n)
    """
    n, t, r, alpha, a, b = np.broadcast_arrays(_f(n), _f(t), _f(r), _f(alpha), _f(a), _f(b))
    log_q = np.log(alpha) - np.log(alpha + t)  # log P(no purchase "success")
    with np.errstate(all="ignore"):
        log_1mq = np.log(t) - np.log(alpha + t)
        log_nb = (
            special.gammaln(r + n)
            - special.gammaln(r)
            - special.gammaln(n + 1)
            + r * log_q
            + np.where(n > 0, n * log_1mq, 0.0)
        )
        first = np.exp(special.betaln(a, b + n) - special.betaln(a, b) + log_nb)
        tail = special.betainc(np.maximum(n, 1.0), r, t / (alpha + t))
        second = np.exp(special.betaln(a + 1, b + n - 1) - special.betaln(a, b)) * tail
    second = np.where(n > 0, second, 0.0)
    out: Array = np.clip(np.where(t > 0, first + second, (n == 0).astype(np.float64)), 0.0, 1.0)
    return out


def log_pareto_tail(tau: Any, r: float, alpha: float, s: float, beta: float, x: Any) -> Array:
    """``log of the integral from tau to infinity of (alpha+u)^-(r+x) (beta+u)^-(s+1) du``.

    Fader & Hardie (2005, "A note on deriving the Pareto/NBD model") write it with
    ``2F1(r+s+x, s+1; r+s+x+1; (alpha-beta)/(alpha+tau))`` when ``alpha >= beta`` and
    ``2F1(r+s+x, r+x; r+s+x+1; (beta-alpha)/(beta+tau))`` otherwise. The Euler transformation
    ``2F1(A, B; A+1; z) = (1-z)**(1-B) 2F1(1, A+1-B; A+1; z)`` leaves a series with positive
    terms and no overflow for large ``x``; the powers are combined in log space. ``alpha == beta``
    gives ``z = 0`` and ``2F1 = 1`` exactly.
    """
    tau, x = np.broadcast_arrays(_f(tau), _f(x))
    big = r + s + x
    with np.errstate(divide="ignore"):
        if alpha >= beta:
            z = (alpha - beta) / (alpha + tau)
            hyp = special.hyp2f1(1.0, r + x, big + 1.0, z)
            out = (
                -np.log(big) - (r + x) * np.log(alpha + tau) - s * np.log(beta + tau) + np.log(hyp)
            )
        else:
            z = (beta - alpha) / (beta + tau)
            hyp = special.hyp2f1(1.0, s + 1.0, big + 1.0, z)
            out = (
                -np.log(big)
                - (r + x - 1.0) * np.log(alpha + tau)
                - (s + 1.0) * np.log(beta + tau)
                + np.log(hyp)
            )
    result: Array = out
    return result
