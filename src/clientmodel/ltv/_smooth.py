"""Per-customer quantities that depend on ``T`` smoothly, computed once per distinct frequency.

A prediction for an alive customer of the BG/NBD family depends on the history only through
``x`` and the posterior rate ``alpha + T``. When ``T`` is continuous (timestamps), every customer
has their own ``T`` and evaluating the special functions per row dominates. For a fixed ``x`` the
quantity is an analytic function of ``u = log(alpha + T)`` whose singularities (where
``alpha + T = -p t`` for some ``p`` in (0, 1]) lie at imaginary part ``pi``: on panels of width
at most 1 in ``u``, interpolation at 14 Chebyshev points converges like ``12.6**-14`` (below
float64 rounding). So the function is evaluated at the nodes of each distinct ``x`` only and
interpolated (Chebyshev series, Clenshaw's recurrence) at every row.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from clientmodel.ltv._fitting import distinct_rows

__all__ = ["codes", "per_x_smooth_in_rate"]

Array = NDArray[np.float64]

_NODES = 14
_PANEL = 1.0  # width of a panel in log(alpha + T)
# Chebyshev points of the second kind on [-1, 1], and the matrix that turns the values there
# into the coefficients of the interpolating Chebyshev series (a discrete cosine transform).
_CHEB = np.cos(np.pi * np.arange(_NODES) / (_NODES - 1))
_ENDS = np.where((np.arange(_NODES) == 0) | (np.arange(_NODES) == _NODES - 1), 0.5, 1.0)
_TO_COEFFICIENTS = (
    2.0
    / (_NODES - 1)
    * np.cos(np.pi * np.outer(np.arange(_NODES), np.arange(_NODES)) / (_NODES - 1))
    * _ENDS[None, :]
    * _ENDS[:, None]
)


def per_x_smooth_in_rate(
    func: Callable[[Array, Array], Array], x: Array, t: Array, alpha: float
) -> Array:
    """``func(x, T)`` per row (``func`` takes aligned arrays, returns one value per pair).

    Exact on the distinct ``(x, T)`` pairs when they are few; otherwise evaluated at Chebyshev
    nodes in ``log(alpha + T)`` per distinct ``x`` and interpolated.
    """
    u = np.log(alpha + t)
    step = max(1, len(t) // 4096)
    if len(x) <= 4 * _NODES or len(np.unique(t[::step])) <= 2 * _NODES:
        # Few distinct T: the exact values per distinct (x, T) cost no more than the nodes.
        (px, pt), index = distinct_rows(x, t)
        exact: Array = func(px, pt)[index]
        return exact
    ux, ix = codes(x)
    # One range for every x (no per-x minimum/maximum pass over the rows; nodes are cheap).
    lo = np.full(len(ux), float(u.min()))
    hi = np.full(len(ux), float(u.max()))
    panels = np.maximum(1, np.ceil((hi - lo) / _PANEL)).astype(np.int64)
    first = np.concatenate([[0], np.cumsum(panels)[:-1]])  # panel number of each x's first
    total = int(panels.sum())
    # Panel p of x spans [lo + p w, lo + (p + 1) w], w = (hi - lo) / panels.
    owner = np.repeat(np.arange(len(ux)), panels)
    within = np.arange(total) - first[owner]
    width = np.where(hi > lo, (hi - lo) / panels, 1.0)
    half = width / 2.0
    mid = lo[owner] + (within + 0.5) * width[owner]
    nodes_t = np.exp(mid[:, None] + half[owner][:, None] * _CHEB[None, :]) - alpha
    values = func(np.repeat(ux[owner], _NODES), np.maximum(nodes_t.ravel(), 0.0))
    coefficients = _TO_COEFFICIENTS @ values.reshape(total, _NODES).T  # (nodes, panels)
    # Each row's panel and its position s in [-1, 1] there; rows grouped by panel, so that
    # Clenshaw's recurrence runs on contiguous slices with scalar coefficients.
    p_row = np.minimum(np.floor((u - lo[ix]) / width[ix]).astype(np.int64), panels[ix] - 1)
    panel = first[ix] + p_row
    s = np.clip((u - mid[panel]) / half[ix], -1.0, 1.0)
    order = np.argsort(panel.astype(np.uint16) if total < 2**16 else panel, kind="stable")
    s = s[order]
    bounds = np.concatenate([[0], np.cumsum(np.bincount(panel, minlength=total))])
    ordered = np.empty(len(x))
    for q in range(total):
        a, b = int(bounds[q]), int(bounds[q + 1])
        if a < b:
            ordered[a:b] = _clenshaw(coefficients[:, q], s[a:b])
    out: Array = np.empty(len(x))
    out[order] = ordered
    if not math.isfinite(float(np.sum(out))):  # pragma: no cover - defensive
        (px, pt), index = distinct_rows(x, t)
        fallback: Array = func(px, pt)[index]
        return fallback
    return out


def _clenshaw(c: Array, s: Array) -> Array:
    """``sum_k c[k] T_k(s)`` by Clenshaw's recurrence, in place on two work arrays."""
    b1 = np.zeros_like(s)
    b2 = np.zeros_like(s)
    two_s = 2.0 * s
    tmp = np.empty_like(s)
    for k in range(len(c) - 1, 0, -1):
        # b1, b2 = c[k] + 2 s b1 - b2, b1
        np.multiply(two_s, b1, out=tmp)
        tmp -= b2
        tmp += c[k]
        b1, b2, tmp = tmp, b1, b2
    np.multiply(s, b1, out=tmp)
    tmp -= b2
    tmp += c[0]
    return tmp


def codes(x: Array) -> tuple[Array, NDArray[np.intp]]:
    """Distinct values of a count column and each row's index into them (no sort needed)."""
    top = float(x.max()) if len(x) else 0.0
    if top < 1 << 24:
        whole = x.astype(np.intp)
        present = np.bincount(whole) > 0
        values: Array = np.flatnonzero(present).astype(np.float64)
        lookup: NDArray[np.intp] = (np.cumsum(present) - 1).astype(np.intp)
        return values, lookup[whole]
    values, index = np.unique(x, return_inverse=True)
    return values, index.reshape(-1)
