"""Figures for :mod:`clientmodel.segments`: the RFM heatmap, segment sizes, cohort retention."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from clientmodel._validation import boundary, check_floats, check_integer, check_sequence
from clientmodel.errors import ArgumentError
from clientmodel.plotting._mpl import axes, pyplot, unit_name
from clientmodel.segments.cohorts import CohortTable
from clientmodel.tables import read_table

__all__ = [
    "plot_cohort_retention",
    "plot_rfm_distributions",
    "plot_rfm_heatmap",
    "plot_segment_sizes",
    "plot_segment_summary",
]


def _annotate(ax: Any, grid: NDArray[np.float64], fmt: str) -> None:
    finite = grid[np.isfinite(grid)]
    middle = (finite.min() + finite.max()) / 2.0 if finite.size else 0.0
    for (i, j), v in np.ndenumerate(grid):
        if np.isfinite(v):
            colour = "white" if v > middle else "black"
            ax.text(j, i, format(v, fmt), ha="center", va="center", color=colour, fontsize=8)


@boundary
def plot_rfm_heatmap(
    grid: Any,
    *,
    ax: Any = None,
    title: str | None = None,
    fmt: str = ",.0f",
    label: str = "Customers",
) -> Any:
    """Heatmap of an R x F grid (customers, or a value), recent and frequent at the top right.

    Parameters
    ----------
    grid:
        A ``k x k`` array, row ``i`` = R score ``i + 1`` and column ``j`` = F score ``j + 1``, as
        :func:`clientmodel.segments.rf_grid` returns it.
    fmt:
        Format of the number written in each cell.
    label:
        What the cells count or measure, with its unit (the colour bar's label), e.g.
        ``"Revenue (EUR)"`` for a grid of sums.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_rfm_heatmap([[5, 1], [2, 8]])
    >>> [t.get_text() for t in ax.texts]
    ['5', '1', '2', '8']
    """
    try:
        format(1.0, fmt)
    except (TypeError, ValueError):
        raise ArgumentError(
            f"fmt must be a format spec for numbers such as ',.0f' or '.1%', got {fmt!r}",
            field="fmt",
        ) from None
    values = check_floats(grid, "grid")
    if values.ndim != 2 or values.shape[0] != values.shape[1] or values.shape[0] == 0:
        raise ArgumentError(
            f"grid must be a square k x k array (from rf_grid), got shape {values.shape}",
            field="grid",
        )
    k = values.shape[0]
    ax = axes(ax)
    image = ax.imshow(values, origin="lower", cmap="Blues")
    ax.figure.colorbar(image, ax=ax, label=label)
    ax.set_xticks(range(k))
    ax.set_xticklabels([str(i + 1) for i in range(k)])
    ax.set_yticks(range(k))
    ax.set_yticklabels([str(i + 1) for i in range(k)])
    ax.set_xlabel("F score (frequency)")
    ax.set_ylabel("R score (recency)")
    _annotate(ax, values, fmt)
    ax.set_title(title if title is not None else "Customers by recency and frequency score")
    return ax


@boundary
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
        sizes = check_floats(list(segments.values()), "segments")
    else:
        given = np.asarray(check_sequence(segments, "segments"), dtype=object).astype(str)
        labels, counts = np.unique(given, return_counts=True)
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


@boundary
def plot_cohort_retention(
    cohorts: CohortTable, *, ax: Any = None, title: str | None = None, max_periods: int = 24
) -> Any:
    """Heatmap of the share of each acquisition cohort buying in each period since acquisition.

    Period 0 is 100% by definition, so the colour scale is set by the later periods (period 0
    shows in the darkest colour) and a colour bar gives the scale. Unobserved cells (after
    ``as_of``) stay blank. Cells are labelled with their percentage while they are large enough
    to read; with many cohorts (weekly ones) only some cohort labels are written.

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
    top_period = check_integer(max_periods, "max_periods", minimum=1)
    grid = cohorts.retention[:, :top_period]
    rows, columns = grid.shape
    later = grid[:, 1:][np.isfinite(grid[:, 1:])]
    top = float(later.max()) if later.size and later.max() > 0 else 1.0
    ax = axes(ax, size=(min(4.0 + 0.45 * columns, 14.0), min(2.5 + 0.3 * rows, 12.0)))
    image = ax.imshow(np.ma.masked_invalid(grid), cmap="Greens", vmin=0.0, vmax=top, aspect="auto")
    bar = ax.figure.colorbar(image, ax=ax, format=lambda v, _: f"{v:.0%}")
    bar.set_label("Share of the cohort buying" + (" (period 0 = 100%)" if columns > 1 else ""))
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(nbins=min(columns, 25), integer=True))
    step = max(1, int(np.ceil(rows / 25)))
    shown = range(0, rows, step)
    ax.set_yticks(list(shown))
    ax.set_yticklabels(
        [
            f"{cohorts.cohorts[i]!s} ({cohorts.sizes[i]:,})"
            if step == 1
            else str(cohorts.cohorts[i])
            for i in shown
        ]
    )
    ax.set_xlabel(f"{unit_name(cohorts.unit).capitalize()} since acquisition")
    ax.set_ylabel("Acquisition cohort" + (" (customers)" if step == 1 else ""))
    if rows <= 25 and columns <= 25:
        for (i, j), v in np.ndenumerate(grid):
            if np.isfinite(v):
                colour = "white" if min(v, top) > top / 2.0 else "black"
                ax.text(j, i, f"{v:.0%}", ha="center", va="center", color=colour, fontsize=7)
    ax.set_title(title if title is not None else "Cohort retention")
    return ax


@boundary
def plot_segment_summary(
    table: Any,
    *,
    segment: str = "segment",
    value: str = "monetary",
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Each segment's share of the customers beside its share of the value (revenue, CLV).

    The gap between the two bars is the point: a segment holding 10% of the customers and 40%
    of the revenue deserves other treatment than one holding 40% of the customers and 10% of the
    revenue. Segments are sorted by their share of the value, largest on top.

    Parameters
    ----------
    table:
        One row per customer with a segment column and a value column, e.g. the RFM values and
        scores (``segment``, ``monetary``) or a CLV table with segments added.
    segment, value:
        The column names.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> t = {"segment": ["A", "A", "B", "C"], "monetary": [10.0, 30.0, 50.0, 10.0]}
    >>> ax = plot_segment_summary(t)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['C', 'A', 'B']
    """
    data = read_table(table, name="table")
    data.require(segment, value)
    names = np.asarray([str(v) for v in data.raw(segment)], dtype=object)
    amounts = data.numbers(value, min_value=0)
    if names.size == 0:
        raise ArgumentError("table is empty: nothing to plot", field="table")
    labels, codes = np.unique(names, return_inverse=True)
    customers = np.bincount(codes, minlength=labels.size) / names.size
    total = float(amounts.sum())
    held = np.bincount(codes, weights=amounts, minlength=labels.size) / (total or 1.0)
    order = np.lexsort((customers, held))  # barh draws bottom-up: the largest share on top
    y = np.arange(labels.size)
    ax = axes(ax, size=(7.0, 1.5 + 0.45 * labels.size))
    ax.barh(y + 0.2, customers[order], height=0.4, color="#9dc3e6", label="Share of customers")
    ax.barh(y - 0.2, held[order], height=0.4, color="#1f4e79", label=f"Share of {value}")
    for yi, i in zip(y, order, strict=True):
        ax.text(customers[i], yi + 0.2, f" {customers[i]:.0%}", va="center", fontsize=8)
        ax.text(held[i], yi - 0.2, f" {held[i]:.0%}", va="center", fontsize=8)
    ax.set_yticks(y)
    ax.set_yticklabels([str(labels[i]) for i in order])
    ax.set_xlim(0.0, min(1.0, float(max(customers.max(), held.max())) * 1.25))
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_xlabel("Share of all customers / of the total")
    ax.legend(loc="lower right")
    ax.set_title(title if title is not None else f"Segments: customers and {value}")
    return ax


@boundary
def plot_rfm_distributions(
    values: Any,
    *,
    recency: str = "days_since_last",
    frequency: str = "orders",
    monetary: str = "monetary",
    axs: Any = None,
    bins: int = 30,
) -> Any:
    """Histograms of recency (days), frequency (orders) and monetary value, side by side.

    Parameters
    ----------
    values:
        The table of :func:`clientmodel.segments.rfm_values` (recency in days since the last
        purchase, frequency in orders, monetary in the currency of the amounts).
    axs:
        Three axes to draw on (default: a new figure with three panels).

    Returns
    -------
    The three axes.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> axs = plot_rfm_distributions(
    ...     {"days_since_last": [3, 40, 90], "orders": [5, 1, 2], "monetary": [120.0, 15.0, 40.0]}
    ... )
    >>> [ax.get_xlabel() for ax in axs]
    ['Recency (days since the last purchase)', 'Frequency (orders)', 'Monetary value (currency)']
    """
    data = read_table(values, name="values")
    data.require(recency, frequency, monetary)
    n_bins = check_integer(bins, "bins", minimum=1, maximum=10_000)
    if axs is None:
        _, axs = pyplot().subplots(1, 3, figsize=(12.0, 3.6), layout="constrained")
    given = axs.ravel().tolist() if isinstance(axs, np.ndarray) else axs
    panels = [axes(ax, field="axs") for ax in check_sequence(given, "axs")]
    if len(panels) != 3:
        raise ArgumentError(f"axs must be three axes, got {len(panels)}", field="axs")
    columns = (
        (recency, "Recency (days since the last purchase)"),
        (frequency, "Frequency (orders)"),
        (monetary, "Monetary value (currency)"),
    )
    for ax, (column, label) in zip(panels, columns, strict=True):
        numbers = data.numbers(column, min_value=0)
        if column == frequency and numbers.size and numbers.max() <= 50:
            edges = np.arange(0.5, numbers.max() + 1.5)  # one bar per whole number of orders
        else:
            edges = np.histogram_bin_edges(numbers, bins=n_bins)
        ax.hist(numbers, bins=edges, color="#1f4e79", edgecolor="white")
        ax.set_xlabel(label)
        ax.set_ylabel("Customers")
    panels[1].set_title("RFM values across customers")
    return panels
