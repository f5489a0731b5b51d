"""Special-function pieces shared by the continuous-time transaction models.

Each helper evaluates one mixture integral of the BG/NBD, MBG/NBD or Pareto/NBD in a form chosen
for numerical safety: Gauss hypergeometric functions are rewritten (Euler / Pfaff transformations)
so that their parameters stay small and their argument lies in ``[0, 1)``, where the power series
converges and ``scipy.special.hyp2f1`` is accurate, and large powers are kept in log space.
Where a closed form still fails (non-finite result), a Gauss-Jacobi quadrature of the defining
integral over the beta-distributed dropout probability is used instead.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

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
        if a[idx] + b[idx] > _CONCENTRATED:
            p, w = _concentrated_beta_nodes(float(a[idx]), float(b[idx]))
        else:
            x, w = special.roots_jacobi(nodes, b[idx] - 1.0, a[idx] - 1.0)
            p = (1.0 + x) / 2.0
        out[idx] = float(np.sum(w * func(p, idx)) / np.sum(w))
    return out


# Beyond this a + b, scipy's Gauss-Jacobi rule overflows (its normaliser is 2**(a+b+1)).
_CONCENTRATED = 500.0
_GL64 = np.polynomial.legendre.leggauss(64)


def _concentrated_beta_nodes(a: float, b: float) -> tuple[Array, Array]:
    """Nodes and weights for E[f(p)], p ~ Beta(a, b) with a + b large: Gauss-Legendre on
    mean +- 12 standard deviations (clipped to (0, 1)) weighted by the beta density, which is
    smooth and near normal there (the weights are normalised by their sum)."""
    n = a + b
    mean = a / n
    sd = math.sqrt(mean * (1.0 - mean) / (n + 1.0))
    lo, hi = max(mean - 12.0 * sd, 0.0), min(mean + 12.0 * sd, 1.0)
    x, w = _GL64
    p = lo + (x + 1.0) * (hi - lo) / 2.0
    inside = (p > 0.0) & (p < 1.0)
    p, w = p[inside], w[inside]
    log_pdf = (a - 1.0) * np.log(p) + (b - 1.0) * np.log1p(-p)
    weights: Array = w * np.exp(log_pdf - log_pdf.max())
    return p, weights


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


# Below this argument 2F1 - 1 is summed as a series (scipy's 2F1 minus 1 cancels there).
_SERIES_Z = 0.05
_SERIES_TERMS = 40


def hyp2f1_minus_one(a: Any, b: Any, c: Any, z: Any) -> Array:
    """``2F1(a, b; c; z) - 1`` without the cancellation of subtracting 1 for small ``z``.

    For ``0 <= z < 0.05`` the Gauss series is summed from its first term,
    ``sum_{n >= 1} (a)_n (b)_n / ((c)_n n!) z^n``; where 40 terms do not settle it to rounding,
    and for larger ``z``, it is ``scipy.special.hyp2f1(a, b, c, z) - 1``.
    """
    full = np.broadcast_arrays(_f(a), _f(b), _f(c), _f(z))
    shape = full[0].shape
    a, b, c, z = (v.reshape(-1) for v in full)
    with np.errstate(all="ignore"):
        out = np.asarray(special.hyp2f1(a, b, c, z), dtype=np.float64) - 1.0
        small = (z >= 0) & (z < _SERIES_Z)
        if small.any():
            a_, b_, c_, z_ = a[small], b[small], c[small], z[small]
            term = a_ * b_ / c_ * z_
            total = term.copy()
            for n in range(1, _SERIES_TERMS):
                term = term * (a_ + n) * (b_ + n) / ((c_ + n) * (n + 1.0)) * z_
                total += term
            settled = np.isfinite(total) & (np.abs(term) <= 1e-17 * np.abs(total))
            out[small] = np.where(settled | (total == 0), total, out[small])
    result: Array = out.reshape(shape)
    return result


def _bg_expected_closed(t: Array, r: Array, alpha: Array, a: Any, b: Array) -> Array:
    a = _f(a)
    c = a + b - 1.0
    z = t / (alpha + t)
    log1mz = -np.log1p(t / alpha)  # log(alpha) - log(alpha + t) cancels for small t
    with np.errstate(all="ignore"):
        hyp_m1 = hyp2f1_minus_one(c - r, a - 1.0, c, z)
        # 1 - (1-z)^(a-1) F  =  (1 - (1-z)^(a-1)) - (1-z)^(a-1) (F - 1)
        bracket = -np.expm1((a - 1.0) * log1mz) - np.exp((a - 1.0) * log1mz) * hyp_m1
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
        out = np.exp(-a * np.log1p(h / alpha) + log_hyp)
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
    log_q = -np.log1p(t / alpha)  # log P(no purchase "success")
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
            hyp = hyp2f1_safe(1.0, r + x, big + 1.0, z)
            out = (
                -np.log(big) - (r + x) * np.log(alpha + tau) - s * np.log(beta + tau) + np.log(hyp)
            )
        else:
            z = (beta - alpha) / (beta + tau)
            hyp = hyp2f1_safe(1.0, s + 1.0, big + 1.0, z)
            out = (
                -np.log(big)
                - (r + x - 1.0) * np.log(alpha + tau)
                - (s + 1.0) * np.log(beta + tau)
                + np.log(hyp)
            )
    result: Array = out
    return result


# Trapezoid step and reach (in y = log v) of the Euler-integral fallback of ``hyp2f1``.
_EULER_STEP = 0.05
_EULER_TAIL = 40.0


def log_hyp2f1_euler(a: Any, b: Any, c: Any, z: Any) -> Array:
    """``log 2F1(a, b; c; z)`` for ``0 < b < c`` and ``0 <= z < 1``, from Euler's integral.

    ``2F1 = Gamma(c) / (Gamma(b) Gamma(c-b)) * integral_0^1 t^(b-1) (1-t)^(c-b-1) (1-zt)^-a dt``.
    With ``1 - t = exp(-v)`` and ``v = exp(y)`` the integrand is smooth on the whole line and falls
    exponentially at both ends (like ``exp(b y)`` on the left, ``exp(-(c-b) e^y)`` on the right),
    where the trapezoid rule converges geometrically; it is summed in log space. The fallback where
    scipy's transformation overflows (large ``b`` and ``c`` with ``z`` near 1: ``inf`` for
    ``2F1(1, 170.5; 171.8; 0.999)``, whose value is 203.0).
    """
    full = np.broadcast_arrays(_f(a), _f(b), _f(c), _f(z))
    shape = full[0].shape
    a, b, c, z = (v.reshape(-1, 1) for v in full)
    if b.size == 0:
        return np.empty(shape)
    # Left end: the integrand ~ v^b, negligible once b y < -TAIL; right end: ~ exp(-(c-b) v),
    # negligible once (c-b) v > TAIL. One grid covers every element (rows x nodes).
    lo = -float(np.max(np.minimum(_EULER_TAIL / b, 700.0))) - 5.0
    hi = math.log(float(np.max(_EULER_TAIL / (c - b))) + 1.0) + 1.0
    y = np.arange(lo, hi + _EULER_STEP, _EULER_STEP)[None, :]
    v = np.exp(y)
    with np.errstate(divide="ignore", over="ignore"):
        one_minus = -np.expm1(-v)  # t
        log_g = (b - 1.0) * np.log(one_minus) - (c - b) * v - a * np.log1p(-z * one_minus) + y
    top = np.max(log_g, axis=1, keepdims=True)
    log_sum = top[:, 0] + np.log(np.sum(np.exp(log_g - top), axis=1) * _EULER_STEP)
    b1, c1 = b[:, 0], c[:, 0]
    norm = special.gammaln(c1) - special.gammaln(b1) - special.gammaln(c1 - b1)
    out: Array = (norm + log_sum).reshape(shape)
    return out


def hyp2f1_safe(a: float, b: Any, c: Any, z: Any) -> Array:
    """``scipy.special.hyp2f1(a, b, c, z)``, with :func:`log_hyp2f1_euler` where it is not finite
    (``0 < b < c``, ``0 <= z < 1``)."""
    with np.errstate(all="ignore"):
        f = np.asarray(special.hyp2f1(a, b, c, z), dtype=np.float64)
    bad = ~np.isfinite(f) | (f <= 0.0)
    if bad.any():
        b_, c_, z_ = np.broadcast_arrays(_f(b), _f(c), _f(z))
        f = np.array(np.broadcast_to(f, b_.shape))
        f[bad] = np.exp(log_hyp2f1_euler(a, b_[bad], c_[bad], z_[bad]))
    return f


# The Gauss series of 2F1(1, b; c; z) is summed directly up to this z (at most about 200 terms
# with the second derivatives); beyond it scipy's evaluation (which transforms the argument) is
# used, with the parameter derivatives by differences.
_SERIES_MAX_Z = 0.7
_SERIES_BLOCK = 8
_SERIES_MAX_TERMS = 4096
_SERIES_TOL = 1e-17


class Hyp1Second(NamedTuple):
    """Second derivatives of ``log 2F1(1, b; c; z)``."""

    bb: Array
    bc: Array
    cc: Array
    bz: Array
    cz: Array
    zz: Array


class Hyp1(NamedTuple):
    """``F = 2F1(1, b; c; z)``, the first derivatives of ``log F`` and optionally the second."""

    f: Array
    b: Array
    c: Array
    z: Array
    second: Hyp1Second | None = None


def hyp2f1_one(b: Any, c: Any, z: Any, *, second: bool = False) -> Hyp1:
    """``F = 2F1(1, b; c; z)`` and the derivatives of ``log F`` w.r.t. ``b``, ``c`` and ``z``.

    For ``0 < b < c`` and ``0 <= z < 1`` (the case of the Pareto/NBD tail integral) the terms
    ``t_n = (b)_n / (c)_n z^n`` of the Gauss series are positive and fall at least like
    ``z^n``, and so do their derivatives::

        dt_n/db = t_n S_n,   S_n = sum_{k<n} 1/(b+k)     d2t_n/db2 = t_n (S_n^2 - S2_n)
        dt_n/dc = -t_n R_n,  R_n = sum_{k<n} 1/(c+k)     d2t_n/dc2 = t_n (R_n^2 + R2_n)
        dt_n/dz = n t_n / z                              d2t_n/dz2 = n (n-1) t_n / z^2

    (``S2``, ``R2``: sums of squares), so all of them are summed without cancellation until the
    remaining tails are below 1e-17 of ``F`` (``F >= 1``). For ``z`` above ``_SERIES_MAX_Z``
    (slow convergence) ``F`` and its ``z`` derivatives come from ``scipy.special.hyp2f1``, using
    ``dF/dz = (b/c) 2F1(2, b+1; c+1; z)`` and ``d2F/dz2 = 2 b (b+1) / (c (c+1)) 2F1(3, b+2;
    c+2; z)``, and the ``b`` and ``c`` derivatives are five-point differences.

    Returns a :class:`Hyp1` of arrays of the broadcast shape: ``F``, ``dlogF/db``, ``dlogF/dc``,
    ``dlogF/dz`` and, with ``second=True``, the second derivatives of ``log F``.
    """
    b, c, z = np.broadcast_arrays(_f(b), _f(c), _f(z))
    shape = z.shape
    b, c, z = b.ravel(), c.ravel(), z.ravel()
    n_out = 10 if second else 4
    direct = z <= _SERIES_MAX_Z
    if direct.all():
        parts = _hyp_one_series(b, c, z, second)
    else:
        parts = [np.empty(z.shape) for _ in range(n_out)]
        near = _hyp_one_series(b[direct], c[direct], z[direct], second)
        far = ~direct
        distant = _hyp_one_far(b[far], c[far], z[far], second)
        for dst, a, d in zip(parts, near, distant, strict=True):
            dst[direct] = a
            dst[far] = d
    f, d_b, d_c, d_z, *rest = (v.reshape(shape) for v in parts)
    return Hyp1(f, d_b, d_c, d_z, Hyp1Second(*rest) if second else None)


def _hyp_one_series(b: Array, c: Array, z: Array, second: bool) -> list[Array]:
    n_el = len(z)
    n_acc = 10 if second else 4
    res = [np.ones(n_el)] + [np.zeros(n_el) for _ in range(n_acc - 1)]
    active = np.arange(n_el)
    bb, cc, zz = b, c, z
    acc = [np.array(v) for v in res]
    t, u, sb, sc = np.ones(n_el), np.zeros(n_el), np.zeros(n_el), np.zeros(n_el)
    sbb, scc = np.zeros(n_el), np.zeros(n_el)
    n = 0
    while active.size:
        for _ in range(_SERIES_BLOCK):
            ib = 1.0 / (bb + n)
            ic = 1.0 / (cc + n)
            ratio = (bb + n) * ic
            u_prev = u
            u = t * ratio  # C_{n+1} z^n
            t = u * zz  # C_{n+1} z^(n+1)
            sb += ib
            sc += ic
            n += 1
            acc[0] += t
            acc[1] += t * sb
            acc[2] -= t * sc
            nu = n * u
            acc[3] += nu
            if second:
                sbb += ib * ib
                scc += ic * ic
                acc[4] += t * (sb * sb - sbb)
                acc[5] -= t * sb * sc
                acc[6] += t * (sc * sc + scc)
                acc[7] += nu * sb
                acc[8] -= nu * sc
                acc[9] += (n * (n - 1.0)) * (u_prev * ratio)  # C_{n+1} z^(n-1)
        # Each later term is at most z times the one before it: bound what is left of every sum.
        room = 1.0 - zz
        grow = n + 2.0 + sb + sc
        tail = t * grow / (room * room)
        if second:
            tail = tail * grow / room
        done = (tail <= _SERIES_TOL * acc[0]) | (n >= _SERIES_MAX_TERMS)
        if done.any():
            idx = active[done]
            for dst, src in zip(res, acc, strict=True):
                dst[idx] = src[done]
            keep = ~done
            active = active[keep]
            acc = [v[keep] for v in acc]
            bb, cc, zz, t, u, sb, sc, sbb, scc = (
                v[keep] for v in (bb, cc, zz, t, u, sb, sc, sbb, scc)
            )
    f = res[0]
    lb, lc, lz = res[1] / f, res[2] / f, res[3] / f
    out = [f, lb, lc, lz]
    if second:
        out += [
            res[4] / f - lb * lb,
            res[5] / f - lb * lc,
            res[6] / f - lc * lc,
            res[7] / f - lb * lz,
            res[8] / f - lc * lz,
            res[9] / f - lz * lz,
        ]
    return out


def _hyp_one_far(b: Array, c: Array, z: Array, second: bool) -> list[Array]:
    """Large ``z``: scipy's 2F1 with exact ``z`` derivatives, differences in ``b`` and ``c``.

    Five-point differences (error of order ``h^4``) along ``b``, along ``c`` and along the
    diagonal ``b + c`` (which keeps ``c - b``), whose second differences give the mixed one:
    ``f_bc = (f_dd - f_bb - f_cc) / 2``.
    """
    n_out = 10 if second else 4
    if b.size == 0:
        return [b] * n_out

    def at(db: Any, dc: Any, with_z: bool = second) -> tuple[Array, Array]:
        bb, cc = b + db, c + dc
        f = hyp2f1_safe(1.0, bb, cc, z)
        lz = bb / cc * hyp2f1_safe(2.0, bb + 1.0, cc + 1.0, z) / f if with_z else f
        return np.log(f), lz

    with np.errstate(all="ignore"):
        h = 5e-3 * np.minimum(b, c - b)  # keeps every shifted point inside 0 < b < c
        log_f, lz = at(0.0, 0.0, True)
        f = np.exp(log_f)
        lines = [(1.0, 0.0), (0.0, 1.0), (1.0, 1.0)] if second else [(1.0, 0.0), (0.0, 1.0)]
        first_f, first_lz, second_f = [], [], []
        for ub, uc in lines:
            (f1, z1), (f2, z2), (g1, y1), (g2, y2) = (
                at(k * ub * h, k * uc * h) for k in (1.0, 2.0, -1.0, -2.0)
            )
            first_f.append((8.0 * (f1 - g1) - (f2 - g2)) / (12.0 * h))
            first_lz.append((8.0 * (z1 - y1) - (z2 - y2)) / (12.0 * h))
            second_f.append((16.0 * (f1 + g1) - (f2 + g2) - 30.0 * log_f) / (12.0 * h * h))
        out = [f, first_f[0], first_f[1], lz]
        if second:
            f_zz = 2.0 * b * (b + 1.0) / (c * (c + 1.0)) * hyp2f1_safe(3.0, b + 2.0, c + 2.0, z)
            out += [
                second_f[0],
                (second_f[2] - second_f[0] - second_f[1]) / 2.0,
                second_f[1],
                first_lz[0],
                first_lz[1],
                f_zz / f - lz * lz,
            ]
    return out


class ParetoTail(NamedTuple):
    """``log I`` per element, its gradient ``(4, ...)`` and Hessian ``(4, 4, ...)`` w.r.t.
    ``(r, alpha, s, beta)`` (``None`` when not asked for)."""

    log: Array
    grad: Array | None = None
    hess: Array | None = None


def pareto_tail(
    tau: Any, x: Any, r: float, alpha: float, s: float, beta: float, *, order: int = 0
) -> ParetoTail:
    """:func:`log_pareto_tail` with its gradient (``order >= 1``) and Hessian (``order == 2``).

    ``I = integral_tau^inf (alpha+u)^-(r+x) (beta+u)^-(s+1) du`` with ``m = r + s + x`` is, for
    ``alpha >= beta`` (``z = (alpha-beta)/(alpha+tau)``)::

        I = (alpha+tau)^-(r+x) (beta+tau)^-s / m * 2F1(1, r+x; m+1; z)

    and for ``alpha < beta`` (``z = (beta-alpha)/(beta+tau)``)::

        I = (alpha+tau)^-(r+x-1) (beta+tau)^-(s+1) / m * 2F1(1, s+1; m+1; z)

    (substitute ``v = (alpha+tau)/(alpha+u)``, resp. with ``beta``, then apply Euler's
    transformation). The 2F1 parameters ``(b, c)`` are ``(r+x, m+1)``, resp. ``(s+1, m+1)``:
    linear in ``r`` and ``s``, while ``alpha`` and ``beta`` enter through ``z``; the chain rule
    over :func:`hyp2f1_one` gives the derivatives. ``alpha == beta`` gives ``z = 0``, ``F = 1``.
    """
    tau, x = np.broadcast_arrays(_f(tau), _f(x))
    m = r + s + x
    la = np.log(alpha + tau)
    lb = np.log(beta + tau)
    ia, ib = 1.0 / (alpha + tau), 1.0 / (beta + tau)
    zero = np.zeros(m.shape)
    if alpha >= beta:
        z = (alpha - beta) * ia
        hb, hc = r + x, m + 1.0
        base = -np.log(m) - (r + x) * la - s * lb
        pa, pb = r + x, s  # powers of (alpha+tau), (beta+tau) in the prefactor
        z_a, z_b = (beta + tau) * ia * ia, -ia
        z_aa, z_ab, z_bb = -2.0 * (beta + tau) * ia**3, ia * ia, zero
        jb = (1.0, 0.0, 0.0, 0.0)  # d(2F1 b)/d(r, alpha, s, beta)
    else:
        z = (beta - alpha) * ib
        hb, hc = np.full(m.shape, s + 1.0), m + 1.0
        base = -np.log(m) - (r + x - 1.0) * la - (s + 1.0) * lb
        pa, pb = r + x - 1.0, s + 1.0
        z_a, z_b = -ib, (alpha + tau) * ib * ib
        z_aa, z_ab, z_bb = zero, ib * ib, -2.0 * (alpha + tau) * ib**3
        jb = (0.0, 0.0, 1.0, 0.0)
    if order < 1:
        f = np.empty(z.shape)
        near = z <= _SERIES_MAX_Z
        f[near] = _hyp_one_value(hb[near], hc[near], z[near])
        far = ~near
        if far.any():
            f[far] = hyp2f1_safe(1.0, hb[far], hc[far], z[far])
        with np.errstate(divide="ignore"):
            return ParetoTail(base + np.log(f))
    hyp = hyp2f1_one(hb, hc, z, second=order >= 2)
    value = base + np.log(hyp.f)
    one = np.ones(m.shape)
    vb = np.stack([v * one for v in jb])
    vc = np.stack([one, zero, one, zero])  # c = m + 1 moves with r and s
    vz = np.stack([zero, z_a, zero, z_b])
    base_grad = np.stack([-1.0 / m - la, -pa * ia, -1.0 / m - lb, -pb * ib])
    grad = base_grad + hyp.b * vb + hyp.c * vc + hyp.z * vz
    if order < 2:
        return ParetoTail(value, grad)
    d2 = hyp.second
    assert d2 is not None

    def sym(p: Array, q: Array) -> Array:
        outer: Array = p[:, None] * q[None, :]
        return outer + np.swapaxes(outer, 0, 1)

    hess = (
        d2.bb * (vb[:, None] * vb[None, :])
        + d2.cc * (vc[:, None] * vc[None, :])
        + d2.zz * (vz[:, None] * vz[None, :])
        + d2.bc * sym(vb, vc)
        + d2.bz * sym(vb, vz)
        + d2.cz * sym(vc, vz)
    )
    inv_m2 = 1.0 / (m * m)
    for i in (0, 2):
        for j in (0, 2):
            hess[i, j] += inv_m2
    hess[0, 1] -= ia
    hess[1, 0] -= ia
    hess[2, 3] -= ib
    hess[3, 2] -= ib
    hess[1, 1] += pa * ia * ia + hyp.z * z_aa
    hess[3, 3] += pb * ib * ib + hyp.z * z_bb
    hess[1, 3] += hyp.z * z_ab
    hess[3, 1] += hyp.z * z_ab
    return ParetoTail(value, grad, hess)


def _hyp_one_value(b: Array, c: Array, z: Array) -> Array:
    """The Gauss series of ``2F1(1, b; c; z)`` alone (``0 < b < c``, ``0 <= z <= 0.7``)."""
    f = np.ones(z.shape)
    t = np.ones(z.shape)
    n = 0
    active = np.arange(z.size)
    out = np.empty(z.shape)
    bb, cc, zz = b, c, z
    while active.size:
        for _ in range(_SERIES_BLOCK):
            t = t * (bb + n) / (cc + n) * zz
            f += t
            n += 1
        done = (t <= _SERIES_TOL * f * (1.0 - zz)) | (n >= _SERIES_MAX_TERMS)
        if done.any():
            out[active[done]] = f[done]
            keep = ~done
            active = active[keep]
            bb, cc, zz, f, t = (v[keep] for v in (bb, cc, zz, f, t))
    return out
