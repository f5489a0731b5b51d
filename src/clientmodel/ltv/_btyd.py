"""Reading and checking the (frequency, recency, T) summary of the continuous-time transaction
models (BG/NBD, MBG/NBD, Pareto/NBD), and the small helpers their likelihoods share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from clientmodel._validation import check_integer, check_seed
from clientmodel.errors import ArgumentError, DataError, describe_rows
from clientmodel.ltv._base import (
    SummaryData,
    check_btyd,
    check_n_customers,
    non_negative,
    read_summary,
    read_weights,
)
from clientmodel.ltv._fitting import compress

__all__ = ["check_count", "check_time", "check_times", "fit_data", "read_btyd", "sim_setup", "wsum"]

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
    (cx, ctx, ct), cw = compress(x, tx, t, weights=given)
    return cx, ctx, ct, cw


def wsum(a: NDArray[Any], b: NDArray[Any]) -> float:
    """``sum(a * b)`` without BLAS (whose threads stall on a busy machine for such short work)."""
    return float(np.einsum("i,i->", a, b))


def sim_setup(
    n_customers: int, T: ArrayLike, seed: int | np.random.Generator | None, holdout: float
) -> tuple[int, Array, np.random.Generator]:
    n = check_n_customers(n_customers)
    times = np.broadcast_to(np.asarray(T, dtype=np.float64), (n,)).copy()
    if not np.all(np.isfinite(times) & (times >= 0)):
        raise ArgumentError("T must be finite and >= 0 (one value or one per customer)", field="T")
    if not (np.isfinite(holdout) and holdout >= 0):
        raise ArgumentError(f"holdout={holdout!r} must be finite and >= 0", field="holdout")
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
    for v in ts.ravel():
        non_negative(float(v), "times")
    return ts
