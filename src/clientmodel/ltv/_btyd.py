"""Reading and checking the (frequency, recency, T) summary of the continuous-time transaction
models (BG/NBD, MBG/NBD, Pareto/NBD), and the small helpers their likelihoods share."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from clientmodel._validation import check_integer, check_number, check_seed
from clientmodel.errors import ArgumentError, DataError, describe_rows
from clientmodel.ltv._base import (
    SummaryData,
    check_btyd,
    check_n_customers,
    non_negative,
    read_summary,
    read_weights,
)
from clientmodel.ltv._fitting import Likelihood, compress

__all__ = [
    "check_count",
    "check_time",
    "check_times",
    "coarsen",
    "factor",
    "fit_data",
    "read_btyd",
    "sim_setup",
    "with_binned_copies",
    "wsum",
]

Array = NDArray[np.float64]
_SUMMARY = ("frequency", "recency", "T")


def read_btyd(summary: Any, columns: Mapping[str, str] | None) -> SummaryData:
    data = read_summary(summary, _SUMMARY, columns=columns, counts=("frequency",))
    check_btyd(data)
    return data


def fit_data(
    summary: Any,
    weights: str | ArrayLike | None,
    columns: Mapping[str, str] | None,
    model: str,
) -> tuple[Array, Array, Array, Array]:
    """Read, validate and compress (frequency, recency, T) with weights for a fit."""
    data = read_summary(
        summary, _SUMMARY, columns=columns, counts=("frequency",), optional=("weights",)
    )
    check_btyd(data)
    x, tx, t = data["frequency"], data["recency"], data["T"]
    kept: NDArray[np.intp] | None = None  # original row numbers, when rows were dropped
    given = read_weights(summary, data, weights, columns)
    keep = given > 0
    if not keep.any():
        raise DataError("every weight is 0: there is nothing to fit", field="weights")
    if not keep.all():  # rows of weight 0 carry nothing: drop them before compressing
        kept = np.flatnonzero(keep)
        x, tx, t, given = x[kept], tx[kept], t[kept], given[kept]
    if not (x > 0).any():
        rows = (np.arange(len(x)) if kept is None else kept)[:5]
        raise DataError(
            f"every customer has frequency 0 (e.g. {describe_rows(rows, x[:5].tolist())}): "
            f"{model} cannot separate purchase rate from dropout without repeat purchases; "
            "use a longer observation period or a summary that includes repeat buyers",
            field="frequency",
            rows=rows.tolist(),
        )
    if len(x) >= _HASHED_FROM and _mostly_distinct(t):
        return _compress_hashed(x, tx, t, given)
    (cx, ctx, ct), cw = compress(x, tx, t, weights=given)
    return cx, ctx, ct, cw


# From this many rows, a column whose sample is mostly distinct values is not sorted to merge
# its rows (a sort of a million floats costs more than the fit it would save).
_HASHED_FROM = 50_000
_SAMPLE = 4096
_MIX = (
    np.uint64(0x9E3779B97F4A7C15),
    np.uint64(0xC2B2AE3D27D4EB4F),
    np.uint64(0x165667B19E3779F9),
    np.uint64(0xD6E8FEB86659FD93),
)


def _mostly_distinct(v: Array, share: float = 0.5) -> bool:
    """Whether more than ``share`` of a strided sample of ``v`` are distinct values."""
    sample = v[:: max(1, len(v) // _SAMPLE)]
    return len(np.unique(sample)) > share * len(sample)


def _compress_hashed(x: Array, tx: Array, t: Array, w: Array) -> tuple[Array, Array, Array, Array]:
    """Merge identical rows of mostly distinct histories without sorting the rows' values.

    Identical rows have identical 64-bit hashes, so a row whose hash is unique is distinct from
    every other and is kept as it is; only rows sharing a hash (true duplicates, or a rare
    collision) go through the exact :func:`compress`. Rows come out in input order, followed by
    the merged ones.
    """
    h = np.zeros(len(x), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column, mult in zip((x, tx, t), _MIX, strict=False):
            bits = (column + 0.0).view(np.uint64)  # + 0.0: -0.0 hashes like 0.0
            h ^= bits * mult
            h ^= h >> np.uint64(31)
        h *= _MIX[3]
    ordered = np.sort(h)
    if not (ordered[1:] == ordered[:-1]).any():
        return x, tx, t, w
    order = np.argsort(h)
    ordered = h[order]
    same = ordered[1:] == ordered[:-1]
    shared = np.zeros(len(x), dtype=bool)
    shared[1:] |= same
    shared[:-1] |= same
    rows = np.sort(order[shared])
    alone = np.ones(len(x), dtype=bool)
    alone[rows] = False
    (mx, mtx, mt), mw = compress(x[rows], tx[rows], t[rows], weights=w[rows])
    return (
        np.concatenate([x[alone], mx]),
        np.concatenate([tx[alone], mtx]),
        np.concatenate([t[alone], mt]),
        np.concatenate([w[alone], mw]),
    )


def factor(v: Array) -> tuple[Array, NDArray[np.intp]]:
    """Values of ``v`` to compute with and each row's index into them.

    The distinct values when they are few; ``v`` itself (identity index) when more than an
    eighth of a sample are distinct values, where finding the distinct ones would cost a sort
    and save nothing.
    """
    if len(v) >= _HASHED_FROM and _mostly_distinct(v, 0.125):
        return v, np.arange(len(v))
    values, index = np.unique(v, return_inverse=True)
    return values, index.reshape(-1)


# A fit on more distinct histories than this runs its starts on a binned copy of the data.
_COARSE_FROM = 20_000
_BINS = 64
# Grids of the binned copies, finest first: the starts run on the last one.
_LEVELS = (128, 16)


def with_binned_copies(
    full: Likelihood,
    x: Array,
    tx: Array,
    t: Array,
    w: Array,
    build: Callable[..., Likelihood],
    levels: tuple[int, ...] = _LEVELS,
) -> Likelihood:
    """``full`` with binned copies of its data (``build(x, t_x, T, w)`` of each) as ``coarse``.

    ``levels``: the grid of each copy, finest first. Each copy bins the one before it; a copy
    that would barely merge rows is skipped.
    """
    copies: list[tuple[Array, Array, Array, Array]] = []
    rows = (x, tx, t, w)
    for bins in levels:
        first = not copies
        binned = coarsen(*rows, bins, _COARSE_FROM if first else 0, 4 if first else 2)
        if binned is None:
            continue
        copies.append(binned)
        rows = binned
    chain: Likelihood | None = None
    for binned in reversed(copies):
        problem = build(*binned)
        chain = problem if chain is None else attrs.evolve(problem, coarse=chain)
    return full if chain is None else attrs.evolve(full, coarse=chain)


def coarsen(
    x: Array,
    tx: Array,
    t: Array,
    w: Array,
    bins: int = _BINS,
    min_rows: int = _COARSE_FROM,
    shrink: int = 4,
) -> tuple[Array, Array, Array, Array] | None:
    """A binned copy of the histories for the starts of a fit: few distinct rows, same weights.

    ``t_x`` and ``T`` are rounded to a grid of ``bins`` steps up to the largest ``T`` (rounding
    keeps ``t_x <= T`` and ``t_x = 0``), identical rows are merged and their weights summed.
    ``None`` when there are fewer than ``min_rows`` histories, or binning leaves more than a
    ``shrink``-th of them.
    """
    n = len(x)
    top = float(np.max(t)) if n else 0.0
    if n < min_rows or not top > 0 or float(np.max(x)) >= 1 << 24:
        return None
    step = top / bins
    q_tx = np.rint(tx / step).astype(np.int64)
    q_t = np.rint(t / step).astype(np.int64)
    whole = x.astype(np.int64)
    present = np.bincount(whole) > 0
    x_values = np.flatnonzero(present)
    x_code = (np.cumsum(present) - 1)[whole]
    side = bins + 1
    key = (x_code * side + q_tx) * side + q_t
    size = len(x_values) * side * side
    if size <= 4 * n:
        summed = np.bincount(key, weights=w, minlength=size)
        keys = np.flatnonzero(summed)
        cw = summed[keys]
    else:
        keys, inverse = np.unique(key, return_inverse=True)
        cw = np.bincount(inverse.reshape(-1), weights=w, minlength=len(keys))
    if shrink * len(keys) > n:
        return None
    rest, ct = np.divmod(keys, side)
    cx, ctx = np.divmod(rest, side)
    return x_values[cx].astype(np.float64), ctx * step, ct * step, cw.astype(np.float64)


def wsum(a: NDArray[Any], b: NDArray[Any]) -> float:
    """``sum(a * b)`` without BLAS (whose threads stall on a busy machine for such short work)."""
    return float(np.einsum("i,i->", a, b))


def sim_setup(
    n_customers: int, T: ArrayLike, seed: int | np.random.Generator | None, holdout: float
) -> tuple[int, Array, np.random.Generator]:
    n = check_n_customers(n_customers)
    try:
        times = np.broadcast_to(np.asarray(T, dtype=np.float64), (n,)).copy()
    except (TypeError, ValueError):
        times = np.full(n, np.nan)  # refused just below, naming T
    if not np.all(np.isfinite(times) & (times >= 0)):
        raise ArgumentError("T must be finite and >= 0 (one value or one per customer)", field="T")
    holdout = check_number(holdout, "holdout", minimum=0)  # numpy refuses ints beyond int64
    return n, times, check_seed(seed)


def check_time(t: float, name: str) -> None:
    non_negative(t, name)


def check_count(n: Any) -> int:
    """The ``n`` of ``p_purchases``: a whole number >= 0 (below 2**53)."""
    return check_integer(n, "n", minimum=0)


def check_times(times: Any) -> Array:
    """Horizons ``times`` as a 1-d float array of finite numbers >= 0 (``times`` names it)."""
    try:
        ts = np.atleast_1d(np.asarray(times, dtype=np.float64))
    except (TypeError, ValueError):
        raise ArgumentError(
            f"times={times!r} must be numbers >= 0 (lengths of future windows)", field="times"
        ) from None
    if ts.size == 0:
        raise ArgumentError("times is empty: give at least one horizon", field="times")
    for v in ts.ravel():
        non_negative(float(v), "times")
    return ts
