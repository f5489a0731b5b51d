"""Sums over the beta-geometric survival curve, shared by the discrete-time models (BG/BB, sBG).

With a per-period dropout probability ``theta ~ Beta(g, d)`` the chance of surviving ``k`` more
periods is ``E[(1 - theta)**k] = B(g, d + k) / B(g, d) = (d)_k / (g + d)_k``. Two sums of it
appear in every prediction:

* ``survival_sum(t, g, d)`` -- the expected number of the next ``t`` periods survived,
  ``sum_{k=1}^{t} B(g, d + k) / B(g, d) = d / (g - 1) [1 - Gamma(g + d) Gamma(1 + d + t) /
  (Gamma(1 + d) Gamma(g + d + t))]`` (Fader, Hardie & Shang 2010, eq. 8 and 13), with the
  removable singularity at ``g = 1`` handled by a series in ``g - 1``;
* ``discounted_survival_sum(g, d, c)`` -- ``sum_{k>=1} (1 + c)**-k B(g, d + k) / B(g, d)``,
  which is ``z d / (g + d) 2F1(1, d + 1; g + d + 1; z)`` with ``z = 1 / (1 + c)`` (the DERT of
  BG/BB and the DERL of sBG). ``scipy.special.hyp2f1`` is inaccurate (even NaN or of the wrong
  sign) for these parameters near ``z = 1``, so the positive series is summed directly in log
  space until its terms are below ``exp(-50)`` of the first.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import special

from clientmodel._validation import EXACT_INTEGER_LIMIT
from clientmodel.errors import ArgumentError, DataError, describe_rows
from clientmodel.ltv._base import non_negative
from clientmodel.ltv._fitting import distinct_rows

__all__: list[str] = []

Array = NDArray[np.float64]

# |g - 1| below which the gamma-function ratio is expanded in a series in (g - 1).
_NEAR_ONE = 1e-3
# Terms of the discounted series are summed until z**k < exp(-_TAIL).
_TAIL = 50.0
_MAX_TERMS = 20_000_000
_BLOCK = 1 << 16


def _f(x: Any) -> Array:
    return np.asarray(x, dtype=np.float64)


# Stirling-series coefficients B_2k / (2k (2k - 1)) of lgamma, k = 1..6.
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360)
# lgamma differences use the Stirling series when the smaller argument is at least this.
_LARGE = 12.0
# Horizons up to this many periods are summed term by term.
_DIRECT = 64


def _log_gamma_ratio(t: Array, h: Array, d: Array) -> tuple[Array, Array]:
    """``G = log[Gamma(a1 + h) Gamma(a2) / (Gamma(a1) Gamma(a2 + h))]`` and ``G / h``.

    ``a1 = 1 + d``, ``a2 = 1 + d + t``, ``h = g - 1 >= -1``. Three regimes keep ``G``
    accurate to a few ulps of its own size rather than of the lgamma values it is a difference
    of: the Stirling series for large ``a1`` (where the differences are small), a Taylor series
    in ``h`` for ``|h|`` small, and plain lgamma differences otherwise.
    """
    a1 = 1.0 + d
    a2 = a1 + t
    near = np.abs(h) < _NEAR_ONE
    large = a1 >= _LARGE
    safe_h = np.where(h == 0, 1.0, h)
    with np.errstate(all="ignore"):
        # Stirling: lgamma(a+h) - lgamma(a) = (a - 1/2) log1p(h/a) + h log(a+h) - h + corr(a)
        big = (
            (a1 - 0.5) * np.log1p(h / a1)
            - (a2 - 0.5) * np.log1p(h / a2)
            - h * np.log1p(t / (a1 + h))
        )
        for k, c in enumerate(_STIRLING, start=1):
            e = 1 - 2 * k
            big = big + c * (((a1 + h) ** e - a1**e) - ((a2 + h) ** e - a2**e))
        plain = (special.gammaln(a1 + h) - special.gammaln(a1)) - (
            special.gammaln(a2 + h) - special.gammaln(a2)
        )
        # Taylor: G / h = sum_j h^j / (j+1)! (psi_j(a1) - psi_j(a2)), psi_j = polygamma(j, .)
        series = special.digamma(a1) - special.digamma(a2)
        fact = 1.0
        for j in range(1, 5):
            fact *= j + 1
            series = series + h**j / fact * (special.polygamma(j, a1) - special.polygamma(j, a2))
        g = np.where(large, big, np.where(near, h * series, plain))
        g_over_h = np.where(h == 0, series, np.where(near & ~large, series, g / safe_h))
    return g, g_over_h


def survival_sum(t: Any, g: Any, d: Any) -> Array:
    """``sum_{k=1}^{t} B(g, d + k) / B(g, d)``, elementwise over broadcast arguments.

    Equal to ``d / h * (-expm1(G))`` with ``h = g - 1`` and ``G`` the log of
    ``Gamma(g + d) Gamma(1 + d + t) / (Gamma(1 + d) Gamma(g + d + t))``; written as
    ``-d (G / h) exprel(G)`` it has the right limit ``d (psi(1+d+t) - psi(1+d))`` at ``g = 1``.
    """
    t, g, d = np.broadcast_arrays(_f(t), _f(g), _f(d))
    out: Array = np.zeros(t.shape)
    long = t > _DIRECT
    if long.any():
        # Few distinct (t, g, d) among many rows (g, d come from a handful of histories).
        (tl, gl, dl), index = distinct_rows(t[long], g[long], d[long])
        big, g_over_h = _log_gamma_ratio(tl, gl - 1.0, dl)
        with np.errstate(all="ignore"):
            out[long] = (-dl * g_over_h * special.exprel(big))[index]
    short = (t > 0) & ~long
    if short.any():
        # Few terms: the running product (d)_k / (g + d)_k summed directly is exact to rounding.
        ts, gs, ds = t[short], g[short], d[short]
        ratio = np.ones(ts.shape)
        acc = np.zeros(ts.shape)
        for k in range(1, int(ts.max()) + 1):
            ratio = ratio * ((ds + (k - 1)) / (gs + ds + (k - 1)))
            acc += np.where(k <= ts, ratio, 0.0)
        out[short] = acc
    return out


def discounted_survival_sum(g: float, d: Any, c: float) -> Array:
    """``sum_{k>=1} (1 + c)**-k B(g, d + k) / B(g, d)`` for each ``d`` (``g``, ``c`` scalars).

    ``c = 0`` gives the undiscounted ``d / (g - 1)``, finite only when ``g > 1``. The terms fall
    at least as fast as ``(1 + c)**-k``; they are summed in blocks, in log space, for the
    distinct values of ``d`` only.
    """
    d = _f(d)
    if c == 0:
        if g <= 1:
            raise ArgumentError(
                f"without discounting the expected number of future periods is infinite when the "
                f"dropout shape parameter is <= 1 (it is {g!r}); use a discount rate > 0",
                field="discount_rate",
            )
        out0: Array = d / (g - 1.0)
        return out0
    log_z = -math.log1p(c)
    n_terms = math.ceil(_TAIL / -log_z) + 1
    if n_terms > _MAX_TERMS:
        raise ArgumentError(
            f"discount_rate={c!r} per period is too small to sum the discounted series "
            f"(it needs {n_terms} terms); use a rate >= {math.expm1(_TAIL / _MAX_TERMS):.1e} or "
            "0 for the undiscounted value",
            field="discount_rate",
        )
    flat = d.reshape(-1)
    unique, inverse = np.unique(flat, return_inverse=True)
    total = np.zeros(len(unique))
    log_r = np.zeros(len(unique))  # log B(g, d + k) / B(g, d) at the end of the last block
    start = 0
    while start < n_terms:
        j = np.arange(start, min(start + _BLOCK, n_terms), dtype=np.float64)
        # log r_{k} - log r_{k-1} = log((d + k - 1) / (g + d + k - 1)), k = j + 1
        steps = -np.log1p(g / (unique[:, None] + j[None, :]))
        logs = log_r[:, None] + np.cumsum(steps, axis=1)
        total += np.exp(logs + (j[None, :] + 1.0) * log_z).sum(axis=1)
        log_r = logs[:, -1]
        start += _BLOCK
    out: Array = total[inverse].reshape(d.shape)
    return out


#: Most periods (opportunities, renewal decisions) a discrete-time computation accepts: the
#: probabilities sum over every period and the curves hold one value per period, so a larger
#: count would take minutes or exhaust memory (and no cohort is observed that long).
MAX_PERIODS = 100_000


def check_whole(value: Any, name: str, *, minimum: int = 0, maximum: int | None = None) -> int:
    """A whole number >= ``minimum`` (an int, or a float with an integral value), <= ``maximum``."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if ok:
        try:
            v = float(value)
        except OverflowError:
            v = math.inf
        ok = math.isfinite(v) and v == round(v) and v >= minimum
    if not ok:
        raise ArgumentError(
            f"{name}={value!r} must be a whole number of periods >= {minimum} (these models count "
            "discrete opportunities; for CLV use method='discrete' with a whole horizon)",
            field=name,
        )
    if maximum is not None and float(value) > maximum:
        raise ArgumentError(
            f"{name}={value!r} must be a whole number of periods between {minimum} and {maximum}",
            field=name,
        )
    return round(float(value))


def check_whole_array(values: Any, name: str, *, minimum: int = 0) -> NDArray[np.int64]:
    """An array of whole numbers >= ``minimum``, else ArgumentError (DataError from 2**53 up)."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except OverflowError:  # a Python int beyond float64
        raise DataError(
            f"{name} must hold whole numbers from {minimum} to 2**53", field=name
        ) from None
    except (TypeError, ValueError) as exc:
        raise ArgumentError(f"{name} must hold whole numbers >= {minimum}", field=name) from exc
    bad = ~np.isfinite(arr) | (arr != np.round(arr)) | (arr < minimum)
    huge = ~bad & (np.abs(arr) >= EXACT_INTEGER_LIMIT)  # beyond float64's whole numbers
    if huge.any():  # (and near 2**63, beyond int64: the cast would wrap)
        rows = np.flatnonzero(huge.reshape(-1))
        raise DataError(
            f"{name} must hold whole numbers from {minimum} to 2**53 "
            f"({describe_rows(rows.tolist(), arr.reshape(-1)[rows].tolist())})",
            field=name,
            rows=rows.tolist(),
        )
    if bad.any():
        shown = arr.reshape(-1)[bad.reshape(-1)][:5].tolist()
        raise ArgumentError(
            f"{name} must hold whole numbers >= {minimum} (these models count discrete "
            f"opportunities; for CLV use method='discrete' with a whole horizon); got {shown}",
            field=name,
        )
    return arr.astype(np.int64)


def check_rate(rate: Any) -> float:
    """A per-period discount rate: finite and >= 0."""
    return non_negative(rate, "discount_rate", "a finite rate >= 0 per period (0.1 for 10%)")
