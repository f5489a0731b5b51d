"""Figures for :mod:`clientmodel.funnel`: the funnel chart and the bookings forecast fan."""

from __future__ import annotations

from typing import Any

import numpy as np

from clientmodel._validation import boundary
from clientmodel.errors import ArgumentError
from clientmodel.funnel.forecast import BookingsForecast
from clientmodel.plotting._mpl import axes
from clientmodel.tables import read_table

__all__ = ["plot_forecast_fan", "plot_funnel"]


@boundary
def plot_funnel(
    conversion: Any,
    *,
    ax: Any = None,
    title: str | None = None,
    stage: str = "stage",
    reached: str = "reached",
) -> Any:
    """Centred bars of the deals that reached each stage, with the conversion between stages.

    Parameters
    ----------
    conversion:
        The table of :func:`clientmodel.funnel.conversion` (or any table with a stage and a
        reached column, in funnel order).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_funnel({"stage": ["lead", "proposal", "won"], "reached": [100, 40, 10]})
    >>> [t.get_text() for t in ax.texts]
    ['100', '40', '40% of previous', '10', '25% of previous']
    """
    table = read_table(conversion, name="conversion")
    table.require(stage, reached)
    names = [str(v) for v in table.raw(stage)]
    counts = table.numbers(reached, min_value=0)
    if not names:
        raise ArgumentError("conversion is empty: nothing to plot", field="conversion")
    ax = axes(ax)
    y = np.arange(len(names))[::-1]  # first stage on top
    ax.barh(y, counts, left=-counts / 2.0, color="#1f4e79", height=0.8)
    widest = float(counts.max()) or 1.0
    for i, (yi, n) in enumerate(zip(y, counts, strict=True)):
        # The count inside its bar when it fits, else just left of it, in the bar's colour.
        if n >= 0.12 * widest:
            ax.text(0.0, yi, f"{n:,.0f}", ha="center", va="center", color="white", fontsize=9)
        else:
            ax.text(-n / 2.0 - 0.02 * widest, yi, f"{n:,.0f}", ha="right", va="center",
                    color="#1f4e79", fontsize=9)  # fmt: skip
        if i > 0:
            # Conversions in a column right of the widest bar, where there is always room.
            previous = counts[i - 1]
            rate = f"{n / previous:.0%}" if previous else "-"
            ax.text(0.53 * widest, yi, f"{rate} of previous", ha="left", va="center", fontsize=9)
    ax.set_xlim(-0.55 * widest, 1.0 * widest)
    ax.set_yticks(y)
    ax.set_yticklabels(names)
    ax.set_xticks([])
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel("Deals (bar width)")
    ax.set_title(title if title is not None else "Deals reaching each stage")
    return ax


@boundary
def plot_forecast_fan(
    forecast: BookingsForecast, *, ax: Any = None, title: str | None = None
) -> Any:
    """Cumulative bookings per period: expected line, P50 and the P10-P90 band.

    Parameters
    ----------
    forecast:
        The result of :func:`clientmodel.funnel.simulate_bookings`.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> fc = BookingsForecast("USD", ("2025-01-01", "2025-02-01", "2025-03-01"), (5.0, 3.0),
    ...                       (1.0, 0.0), (4.0, 2.0), (9.0, 7.0), (2.0, 7.0, 15.0), 100)
    >>> ax = plot_forecast_fan(fc)
    >>> ax.lines[0].get_ydata().tolist()
    [5.0, 8.0]
    """
    if not isinstance(forecast, BookingsForecast):
        raise ArgumentError(
            "forecast must be a BookingsForecast (from clientmodel.funnel.simulate_bookings), "
            f"got {type(forecast).__name__}",
            field="forecast",
        )
    periods = [s[:10] for s in forecast.period_starts[:-1]]
    x = np.arange(len(periods))
    ax = axes(ax)
    # Quantiles of a sum are not sums of quantiles: cumulate them from the draws when present.
    if forecast.draws is not None:
        cumulative = np.cumsum(forecast.draws, axis=1)
        p10, p50, p90 = np.percentile(cumulative, [10, 50, 90], axis=0)
        band_label = "P10-P90 (cumulative)"
    else:
        p10, p50, p90 = (np.cumsum(q) for q in (forecast.p10, forecast.p50, forecast.p90))
        band_label = "P10-P90 (sum of per-period quantiles)"
    ax.plot(x, np.cumsum(forecast.expected), color="#e07b39", label="Expected")
    ax.plot(x, p50, color="#1f4e79", linestyle="--", label="P50")
    ax.fill_between(x, p10, p90, color="#1f4e79", alpha=0.2, label=band_label)
    ax.set_xticks(x)
    ax.set_xticklabels(periods, rotation=45, ha="right")
    ax.set_xlabel("Start of the period")
    ax.set_ylabel(f"Cumulative bookings ({forecast.currency})")
    ax.legend()
    ax.set_title(title if title is not None else "Bookings forecast")
    return ax
