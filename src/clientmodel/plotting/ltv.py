"""Figures for the lifetime-value diagnostics of :mod:`clientmodel.ltv.diagnostics`."""

from __future__ import annotations

from typing import Any

import numpy as np

from clientmodel.errors import ArgumentError
from clientmodel.ltv.diagnostics import (
    CalibrationHoldout,
    FrequencyHistogram,
    PredictionMatrix,
    Tracking,
    prediction_matrix,
)
from clientmodel.plotting._mpl import axes

__all__ = [
    "plot_calibration_holdout",
    "plot_frequency_histogram",
    "plot_p_alive_matrix",
    "plot_tracking",
]

_ACTUAL = "#1f4e79"
_MODEL = "#e07b39"


def _expect(value: Any, kind: type, name: str, maker: str) -> None:
    if not isinstance(value, kind):
        raise ArgumentError(
            f"{name} must be a {kind.__name__} (from clientmodel.ltv.diagnostics.{maker}), got "
            f"{type(value).__name__}",
            field=name,
        )


def _labels(values: Any, top: int) -> list[str]:
    return [f"{int(v)}+" if int(v) == top else str(int(v)) for v in values]


def plot_frequency_histogram(
    histogram: FrequencyHistogram, *, ax: Any = None, title: str | None = None
) -> Any:
    """Bars of observed vs expected customers by number of repeat purchases.

    Parameters
    ----------
    histogram:
        The result of :func:`clientmodel.ltv.diagnostics.frequency_histogram`.
    ax:
        Axes to draw on (default: a new figure).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from clientmodel.ltv.bgnbd import BGNBD
    >>> from clientmodel.ltv.diagnostics import frequency_histogram
    >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> ax = plot_frequency_histogram(frequency_histogram(m, m.simulate(200, 39.0, seed=1)))
    >>> len(ax.patches)
    16
    """
    _expect(histogram, FrequencyHistogram, "histogram", "frequency_histogram")
    ax = axes(ax)
    x = np.arange(len(histogram.n))
    width = 0.4
    ax.bar(x - width / 2, histogram.observed, width, label="Actual", color=_ACTUAL)
    ax.bar(x + width / 2, histogram.expected, width, label="Model", color=_MODEL)
    ax.set_xticks(x)
    ax.set_xticklabels(_labels(histogram.n, int(histogram.n[-1])))
    ax.set_xlabel("Repeat purchases in the calibration period")
    ax.set_ylabel("Customers")
    chi = f"chi-square {histogram.chi_square:.1f}, df {histogram.degrees_of_freedom}"
    if histogram.p_value is not None:
        chi += f", p = {histogram.p_value:.3g}"
    ax.set_title(title if title is not None else f"Frequency of repeat purchases ({chi})")
    ax.legend()
    return ax


def plot_calibration_holdout(
    table: CalibrationHoldout, *, ax: Any = None, title: str | None = None
) -> Any:
    """Mean actual vs expected holdout purchases by calibration frequency.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from clientmodel.ltv.bgnbd import BGNBD
    >>> from clientmodel.ltv.diagnostics import calibration_holdout_table
    >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> sim = m.simulate(500, 39.0, seed=2, holdout=39.0)
    >>> ax = plot_calibration_holdout(calibration_holdout_table(m, sim, duration=39.0))
    >>> len(ax.lines)
    2
    """
    _expect(table, CalibrationHoldout, "table", "calibration_holdout_table")
    ax = axes(ax)
    ax.plot(table.frequency, table.actual, marker="o", label="Actual", color=_ACTUAL)
    ax.plot(table.frequency, table.expected, marker="s", ls="--", label="Model", color=_MODEL)
    ax.set_xticks(table.frequency)
    ax.set_xticklabels(_labels(table.frequency, table.max_frequency))
    ax.set_xlabel("Purchases in the calibration period")
    ax.set_ylabel("Mean purchases in the holdout period")
    ax.set_title(title if title is not None else "Conditional expectations, holdout period")
    ax.legend()
    return ax


def plot_tracking(
    tracking: Tracking,
    *,
    cumulative: bool = True,
    ax: Any = None,
    title: str | None = None,
    holdout_start: float | None = None,
) -> Any:
    """Actual vs expected repeat transactions over calendar time (cumulative or per period).

    ``holdout_start`` draws a vertical line where the calibration period ends.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from clientmodel.ltv.bgnbd import BGNBD
    >>> from clientmodel.ltv.diagnostics import tracking
    >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> ax = plot_tracking(tracking(m, [0.0, 1.0], [2.0, 5.0], times=[1.0, 2.0, 3.0, 6.0]))
    >>> ax.lines[0].get_ydata().tolist()
    [0.0, 1.0, 1.0, 2.0]
    """
    _expect(tracking, Tracking, "tracking", "tracking")
    ax = axes(ax)
    if cumulative:
        actual, expected = tracking.actual_cumulative, tracking.expected_cumulative
    else:
        actual, expected = tracking.actual_incremental, tracking.expected_incremental
    ax.plot(tracking.times, actual, label="Actual", color=_ACTUAL)
    ax.plot(tracking.times, expected, ls="--", label="Model", color=_MODEL)
    if holdout_start is not None:
        ax.axvline(holdout_start, color="grey", ls=":", lw=1)
    ax.set_xlabel("Time")
    ax.set_ylabel(("Cumulative r" if cumulative else "R") + "epeat transactions")
    default = "Tracking " + ("cumulative" if cumulative else "incremental") + " repeat transactions"
    ax.set_title(title if title is not None else default)
    ax.legend()
    return ax


def plot_p_alive_matrix(
    matrix: Any,
    *,
    T: float | None = None,
    max_frequency: int = 20,
    ax: Any = None,
    title: str | None = None,
    cmap: str = "viridis",
) -> Any:
    """Heatmap of P(alive) (or any :class:`PredictionMatrix`) over frequency x recency.

    Parameters
    ----------
    matrix:
        A :class:`~clientmodel.ltv.diagnostics.PredictionMatrix`, or a transaction model together
        with ``T`` (the matrix is then computed with ``max_frequency``).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from clientmodel.ltv.bgnbd import BGNBD
    >>> ax = plot_p_alive_matrix(BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426), T=39.0)
    >>> ax.images[0].get_array().shape
    (21, 21)
    """
    if not isinstance(matrix, PredictionMatrix):
        if not hasattr(matrix, "p_alive"):
            raise ArgumentError(
                "matrix must be a PredictionMatrix or a transaction model with p_alive "
                f"(then give T); got {type(matrix).__name__}",
                field="matrix",
            )
        if T is None:
            raise ArgumentError("plotting from a model needs T, the observation length", field="T")
        matrix = prediction_matrix(matrix, T=T, max_frequency=max_frequency)
    ax = axes(ax)
    rec, freq = matrix.recency, matrix.frequency
    step_r = (rec[-1] - rec[0]) / max(len(rec) - 1, 1) or 1.0
    extent = (rec[0] - step_r / 2, rec[-1] + step_r / 2, freq[-1] + 0.5, freq[0] - 0.5)
    kind = "P(alive)" if matrix.kind == "p_alive" else f"Expected purchases in next {matrix.t:g}"
    image = ax.imshow(
        np.ma.masked_invalid(matrix.values),
        aspect="auto",
        cmap=cmap,
        extent=extent,
        vmin=0.0,
        vmax=1.0 if matrix.kind == "p_alive" else None,
    )
    ax.figure.colorbar(image, ax=ax, label=kind)
    from matplotlib.ticker import MaxNLocator  # matplotlib is present: axes() imported it

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("Recency (time of last purchase)")
    ax.set_ylabel("Frequency (repeat purchases)")
    ax.set_title(
        title if title is not None else f"{kind} by frequency and recency, T = {matrix.T:g}"
    )
    return ax
