"""Figures for :mod:`clientmodel.segments`: the RFM heatmap, segment sizes, cohort retention."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from clientmodel.errors import ArgumentError
from clientmodel.plotting._mpl import axes
from clientmodel.segments.cohorts import CohortTable

__all__ = ["plot_cohort_retention", "plot_rfm_heatmap", "plot_segment_sizes"]


def _annotate(ax: Any, grid: NDArray[np.float64], fmt: str) -> None:
    finite = grid[np.isfinite(grid)]
    middle = (finite.min() + finite.max()) / 2.0 if finite.size else 0.0
    for (i, j), v in np.ndenumerate(grid):
        if np.isfinite(v):
            colour = "white" if v > middle else "black"
            ax.text(j, i, format(v, fmt), ha="center", va="center", color=colour, fontsize=8)


def plot_rfm_heatmap(
    grid: Any, *, ax: Any = None, title: str | None = None, fmt: str = ",.0f"
) -> Any:
    """Heatmap of an R x F grid (customers, or a value), recent and frequent at the top right.

    Parameters
    ----------
    grid:
        A ``k x k`` array, row ``i`` = R score ``i + 1`` and column ``j`` = F score ``j + 1``, as
        :func:`clientmodel.segments.rf_grid` returns it.
    fmt:
        Format of the number written in each cell.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_rfm_heatmap([[5, 1], [2, 8]])
    >>> [t.get_text() for t in ax.texts]
    ['5', '1', '2', '8']
    """
    values = np.asarray(grid, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] != values.shape[1] or values.shape[0] == 0:
        raise ArgumentError(
            f"grid must be a square k x k array (from rf_grid), got shape {values.shape}",
            field="grid",
        )
    k = values.shape[0]
    ax = axes(ax)
    image = ax.imshow(values, origin="lower", cmap="Blues")
    ax.figure.colorbar(image, ax=ax)
    ax.set_xticks(range(k))
    ax.set_xticklabels([str(i + 1) for i in range(k)])
    ax.set_yticks(range(k))
    ax.set_yticklabels([str(i + 1) for i in range(k)])
    ax.set_xlabel("F score (frequency)")
    ax.set_ylabel("R score (recency)")
    _annotate(ax, values, fmt)
    ax.set_title(title if title is not None else "Customers by recency and frequency score")
    return ax


def plot_segment_sizes(
    segments: Sequence[str] | Mapping[str, float],
    *,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Horizontal bars of customers per named segment, largest first, with their shares.

    Parameters
    ----------
    segments:
        Either one segment name per customer (e.g. the ``segment`` column of an RFM table) or a
        mapping of segment name to size.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_segment_sizes(["Champions", "Lost", "Lost"])
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['Champions', 'Lost']
    """
    if isinstance(segments, Mapping):
        names = [str(k) for k in segments]
        sizes = np.asarray([float(v) for v in segments.values()])
    else:
        labels, counts = np.unique(np.asarray(list(segments), dtype=object), return_counts=True)
        names, sizes = [str(v) for v in labels], counts.astype(np.float64)
    if not names:
        raise ArgumentError("segments is empty: nothing to plot", field="segments")
    if (sizes < 0).any() or not np.isfinite(sizes).all():
        raise ArgumentError("segment sizes must be finite and >= 0", field="segments")
    order = np.argsort(sizes, kind="stable")  # barh draws bottom-up: largest ends on top
    ax = axes(ax)
    ax.barh([names[i] for i in order], sizes[order], color="#1f4e79")
    total = sizes.sum()
    for y, i in enumerate(order):
        share = sizes[i] / total if total else 0.0
        ax.text(sizes[i], y, f" {sizes[i]:,.0f} ({share:.0%})", va="center", fontsize=8)
    ax.set_xlabel("Customers")
    ax.set_title(title if title is not None else "Customers per segment")
    return ax


def plot_cohort_retention(
    cohorts: CohortTable, *, ax: Any = None, title: str | None = None, max_periods: int = 24
) -> Any:
    """Heatmap of the share of each acquisition cohort buying in each period since acquisition.

    Unobserved cells (after ``as_of``) stay blank.

    Parameters
    ----------
    cohorts:
        The result of :func:`clientmodel.segments.cohort_table`.
    max_periods:
        Periods since acquisition shown (the first ``max_periods``).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from clientmodel.segments import cohort_table
    >>> log = {"customer_id": [1, 1, 2], "timestamp": ["2024-01-05", "2024-02-07", "2024-02-01"]}
    >>> ax = plot_cohort_retention(cohort_table(log, as_of="2024-02-29", unit="M"))
    >>> [t.get_text() for t in ax.texts]
    ['100%', '100%', '100%']
    """
    if not isinstance(cohorts, CohortTable):
        raise ArgumentError(
            "cohorts must be a CohortTable (from clientmodel.segments.cohort_table), got "
            f"{type(cohorts).__name__}",
            field="cohorts",
        )
    if max_periods < 1:
        raise ArgumentError(f"max_periods must be >= 1, got {max_periods}", field="max_periods")
    grid = cohorts.retention[:, :max_periods]
    ax = axes(ax)
    ax.imshow(np.ma.masked_invalid(grid), cmap="Greens", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(grid.shape[1]))
    ax.set_xticklabels([str(p) for p in range(grid.shape[1])])
    ax.set_yticks(range(grid.shape[0]))
    ax.set_yticklabels(
        [f"{c!s} ({n:,})" for c, n in zip(cohorts.cohorts, cohorts.sizes, strict=True)]
    )
    ax.set_xlabel(f"Periods since acquisition ({cohorts.unit})")
    ax.set_ylabel("Acquisition cohort (customers)")
    _annotate(ax, grid, ".0%")
    ax.set_title(title if title is not None else "Cohort retention")
    return ax
