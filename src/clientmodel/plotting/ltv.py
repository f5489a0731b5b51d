"""Figures for the lifetime-value diagnostics of :mod:`clientmodel.ltv.diagnostics`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from clientmodel._validation import (
    boundary,
    check_choice,
    check_floats,
    check_integer,
    check_number,
    check_sequence,
)
from clientmodel.errors import ArgumentError, DataError, describe_rows
from clientmodel.ltv._base import read_summary
from clientmodel.ltv.diagnostics import (
    CalibrationHoldout,
    FrequencyHistogram,
    PredictionMatrix,
    Tracking,
    prediction_matrix,
)
from clientmodel.periods import duration_in_units
from clientmodel.plotting._mpl import axes, colormap, needs, unit_name

__all__ = [
    "plot_calibration_holdout",
    "plot_expected_purchases",
    "plot_exposure",
    "plot_frequency_histogram",
    "plot_heterogeneity",
    "plot_lorenz",
    "plot_p_alive_history",
    "plot_p_alive_matrix",
    "plot_prediction_intervals",
    "plot_spend_density",
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


@boundary
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


@boundary
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


@boundary
def plot_tracking(
    tracking: Tracking,
    *,
    cumulative: bool = True,
    ax: Any = None,
    title: str | None = None,
    holdout_start: float | None = None,
    unit: str | None = None,
) -> Any:
    """Actual vs expected repeat transactions over calendar time (cumulative or per period).

    ``holdout_start`` draws a vertical line where the calibration period ends; ``unit`` (``"W"``,
    ``"D"``, ...) is the time unit of the tracking, for the axis label.

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
        ax.axvline(check_number(holdout_start, "holdout_start"), color="grey", ls=":", lw=1)
    ax.set_xlabel(f"Time since the origin ({unit_name(unit)})")
    ax.set_ylabel(("Cumulative r" if cumulative else "R") + "epeat transactions")
    default = "Tracking " + ("cumulative" if cumulative else "incremental") + " repeat transactions"
    ax.set_title(title if title is not None else default)
    ax.legend()
    return ax


@boundary
def plot_p_alive_matrix(
    matrix: Any,
    *,
    T: float | None = None,
    max_frequency: int = 20,
    ax: Any = None,
    title: str | None = None,
    cmap: str = "viridis",
    unit: str | None = None,
) -> Any:
    """Heatmap of P(alive) (or any :class:`PredictionMatrix`) over frequency x recency.

    Parameters
    ----------
    matrix:
        A :class:`~clientmodel.ltv.diagnostics.PredictionMatrix`, or a transaction model together
        with ``T`` (the matrix is then computed with ``max_frequency``).
    unit:
        The time unit of the model (``"W"``, ``"D"``, ...), for the labels.

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
    cmap = colormap(cmap)
    ax = axes(ax)
    rec, freq = matrix.recency, matrix.frequency
    step_r = (rec[-1] - rec[0]) / max(len(rec) - 1, 1) or 1.0
    extent = (rec[0] - step_r / 2, rec[-1] + step_r / 2, freq[-1] + 0.5, freq[0] - 0.5)
    units = unit_name(unit)
    kind = (
        "P(alive)"
        if matrix.kind == "p_alive"
        else f"Expected purchases in the next {matrix.t:g} {units}"
    )
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
    ax.set_xlabel(f"Recency: time of the last purchase ({units} after the first)")
    ax.set_ylabel("Frequency (repeat purchases)")
    ax.set_title(
        title if title is not None else f"{kind} by frequency and recency, T = {matrix.T:g} {units}"
    )
    return ax


def _history_times(purchases: Any, T: Any, unit: str | None) -> tuple[NDArray[np.float64], float]:
    """Purchase times and the end of observation in the model's unit, counted from the first.

    Dates (``datetime.date``, ``datetime``, ``numpy.datetime64``) are read as calendar days,
    same-day purchases merged into one, as the customer summary does by default.
    """
    if isinstance(purchases, np.ndarray) and purchases.dtype.kind == "M":
        values: list[Any] = list(purchases.ravel())
    elif isinstance(purchases, (str, bytes, dt.date, np.datetime64, int, float)):
        values = [purchases]
    else:
        try:
            values = list(purchases)
        except TypeError:
            values = [purchases]
    if values and all(isinstance(v, (dt.date, np.datetime64)) for v in values):
        if unit is None:
            raise ArgumentError(
                "purchases given as dates need unit, the model's time unit ('D', 'W', ...)",
                field="unit",
            )
        days = np.unique(_days(values, "purchases"))  # same-day purchases are one order
        end = _days([T], "T")
        times = duration_in_units(days - days[0], unit)
        return times, float(duration_in_units(end - days[0], unit)[0])
    try:
        times = np.sort(np.asarray(values, dtype=np.float64).ravel())
    except (TypeError, ValueError):
        times = np.array([np.nan])
    if times.size == 0 or not np.isfinite(times).all():
        raise ArgumentError(
            "purchases must hold at least one purchase: finite times in the model's unit, or dates",
            field="purchases",
        )
    origin = float(times[0])
    return times - origin, float(check_number(T, "T")) - origin


def _days(values: list[Any], field: str) -> NDArray[np.datetime64]:
    """Calendar days of dates or timestamps (aware ones on their own wall clock)."""
    out = []
    for v in values:
        day: Any = None
        if isinstance(v, dt.datetime):
            v = v.replace(tzinfo=None)
        if isinstance(v, (dt.date, np.datetime64)):
            day = np.asarray(v).astype("datetime64[D]")[()]
        if day is None or np.isnat(day):
            raise ArgumentError(
                f"{field} must be dates or timestamps (as the purchases are), got {v!r}",
                field=field,
            )
        out.append(day)
    return np.array(out, dtype="datetime64[D]")


@boundary
def plot_p_alive_history(
    model: Any,
    purchases: Any,
    *,
    T: Any,
    unit: str | None = None,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """P(alive) of one customer over their history, from the first purchase to ``T``.

    Between purchases P(alive) decays (the longer the silence, the likelier the customer has
    left); each repeat purchase lifts it back up. Purchases are marked on the time axis.

    Parameters
    ----------
    model:
        A fitted transaction model with ``p_alive`` (BG/NBD, MBG/NBD, Pareto/NBD).
    purchases:
        The customer's purchases: times in the model's unit (any origin: the first one is
        time 0, same-period purchases merged as in the summary the model was fitted on), or
        their dates (then same-day purchases are merged and ``unit`` is required).
    T:
        The end of the observation: a time in the same unit and origin as ``purchases``, or the
        ``as_of`` date when the purchases are dates.
    unit:
        The model's time unit (``"W"``, ``"D"``, ...): the axis label, and how dates are read.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from clientmodel.ltv.bgnbd import BGNBD
    >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> ax = plot_p_alive_history(m, [0.0, 5.0, 12.0], T=39.0, unit="W")
    >>> round(float(ax.lines[0].get_ydata()[-1]), 3) == round(float(m.p_alive(
    ...     {"frequency": 2, "recency": 12.0, "T": 39.0})), 3)
    True
    >>> import datetime as dt
    >>> days = [dt.date(2024, 1, 1), dt.date(2024, 2, 5), dt.date(2024, 2, 5)]
    >>> ax = plot_p_alive_history(m, days, T=dt.date(2024, 9, 30), unit="W")
    >>> ax.get_xlabel()
    'Time since the first purchase (weeks)'
    """
    needs(model, ("p_alive",), "model", "a fitted transaction model of clientmodel.ltv")
    times, end = _history_times(purchases, T, unit)
    if end < times[-1]:
        raise ArgumentError(
            f"T={T} is before the last purchase; T is the end of the observation", field="T"
        )
    # The curve is evaluated just before and at every purchase, so its jumps are drawn upright.
    grid = np.unique(np.concatenate([np.linspace(0.0, end, 300), times, times[1:] - 1e-9]))
    grid = grid[grid >= 0.0]
    count = np.searchsorted(times, grid, side="right") - 1
    last = times[count]
    summary = {"frequency": count, "recency": last, "T": grid}
    alive = np.asarray(model.p_alive(summary), dtype=np.float64)
    ax = axes(ax)
    ax.plot(grid, alive, color=_ACTUAL, label="P(alive)")
    ax.plot(times, np.zeros_like(times), "|", color=_MODEL, markersize=14, mew=2, label="Purchase")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlim(0.0, end)
    ax.set_xlabel(f"Time since the first purchase ({unit_name(unit)})")
    ax.set_ylabel("P(alive)")
    ax.legend(loc="lower left")
    ax.set_title(title if title is not None else "P(alive) over the customer's history")
    return ax


_HETEROGENEITY = ("purchase_rate", "dropout", "spend")


@boundary
def plot_heterogeneity(
    model: Any,
    *,
    which: str = "purchase_rate",
    unit: str | None = None,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Density of a customer trait across the customer base, as the fitted model sees it.

    ``which`` is ``"purchase_rate"`` (lambda ~ Gamma(r, alpha): purchases per unit of time while
    alive; BG/NBD, MBG/NBD, Pareto/NBD), ``"dropout"`` (p ~ Beta(a, b), the chance of leaving
    after a purchase, for BG/NBD and MBG/NBD; mu ~ Gamma(s, beta), the dropout rate, for
    Pareto/NBD; the per-period chances of BG/BB and the shifted-beta-geometric) or ``"spend"``
    (a customer's mean spend per purchase p/nu with nu ~ Gamma(q, gamma), an inverse gamma, for
    gamma-gamma). The dashed line is the mean.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from clientmodel.ltv.bgnbd import BGNBD
    >>> ax = plot_heterogeneity(BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426), unit="W")
    >>> ax.get_xlabel()
    'Purchase rate while alive (purchases per week)'
    """
    from scipy import stats

    check_choice(which, "which", _HETEROGENEITY)
    params = dict(getattr(model, "params", {}))
    per = unit_name(unit, one=True)
    dist: Any = None
    if which == "purchase_rate" and {"r", "alpha"} <= set(params):
        dist = stats.gamma(params["r"], scale=1.0 / params["alpha"])
        label = f"Purchase rate while alive (purchases per {per})"
    elif which == "purchase_rate" and {"alpha", "beta", "gamma", "delta"} <= set(params):
        dist = stats.beta(params["alpha"], params["beta"])
        label = "Chance of a purchase at each opportunity while alive"
    elif which == "dropout" and {"a", "b"} <= set(params):
        dist = stats.beta(params["a"], params["b"])
        label = "Chance of leaving after a purchase"
    elif which == "dropout" and {"s", "beta"} <= set(params):
        dist = stats.gamma(params["s"], scale=1.0 / params["beta"])
        label = f"Dropout rate (per {per})"
    elif which == "dropout" and {"gamma", "delta"} <= set(params):
        dist = stats.beta(params["gamma"], params["delta"])
        label = "Chance of leaving at each opportunity"
    elif which == "dropout" and set(params) == {"alpha", "beta"}:
        dist = stats.beta(params["alpha"], params["beta"])
        label = "Chance of churning at each renewal"
    elif which == "spend" and {"p", "q", "gamma"} <= set(params):
        dist = stats.invgamma(params["q"], scale=params["p"] * params["gamma"])
        label = "Mean spend per purchase (currency)"
    if dist is None:
        raise ArgumentError(
            f"which={which!r} does not apply to {type(model).__name__} "
            f"(parameters {', '.join(params) or 'none'})",
            field="which",
        )
    low, high = dist.ppf(0.005), dist.ppf(0.99)
    x = np.linspace(low, high, 400)
    density = dist.pdf(x)
    ax = axes(ax)
    ax.plot(x, density, color=_ACTUAL)
    ax.fill_between(x, density, color=_ACTUAL, alpha=0.15)
    mean = float(dist.mean())
    if np.isfinite(mean):
        ax.axvline(mean, color=_MODEL, ls="--", lw=1.5, label=f"mean {mean:.3g}")
        ax.legend()
    # A shape below 1 puts an infinite density at 0: show the bulk, not the spike.
    ax.set_ylim(0.0, float(np.percentile(density, 97)) * 1.1 or 1.0)
    ax.set_xlabel(label)
    ax.set_ylabel("Density across customers")
    ax.set_title(title if title is not None else f"Heterogeneity: {label.split(' (')[0].lower()}")
    return ax


@boundary
def plot_expected_purchases(
    model: Any,
    *,
    t_max: float,
    unit: str | None = None,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Expected repeat purchases of a new customer by time since their first purchase.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from clientmodel.ltv.bgnbd import BGNBD
    >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> ax = plot_expected_purchases(m, t_max=78.0, unit="W")
    >>> float(ax.lines[0].get_ydata()[0])
    0.0
    """
    needs(model, ("expected_purchases_new",), "model", "a transaction model of clientmodel.ltv")
    end = check_number(t_max, "t_max", minimum=0.0, exclusive_minimum=True)
    t = np.linspace(0.0, end, 200)
    expected = np.asarray(model.expected_purchases_new(t), dtype=np.float64)
    ax = axes(ax)
    ax.plot(t, expected, color=_ACTUAL)
    ax.set_xlim(0.0, end)
    ax.set_ylim(bottom=0.0)
    ax.set_xlabel(f"Time since the first purchase ({unit_name(unit)})")
    ax.set_ylabel("Expected repeat purchases (per customer)")
    ax.set_title(title if title is not None else "Expected repeat purchases of a new customer")
    return ax


@boundary
def plot_lorenz(
    values: Any,
    *,
    label: str = "CLV",
    top: float = 0.2,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Concentration of a value (CLV, revenue) across customers: the Lorenz curve and its Gini.

    Customers are sorted from the least to the most valuable; the curve gives the share of the
    total held by each share of customers. The diagonal is an even spread; the text says what
    share the ``top`` customers hold.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_lorenz([1.0, 1.0, 1.0, 7.0])
    >>> ax.lines[0].get_ydata().tolist()
    [0.0, 0.1, 0.2, 0.3, 1.0]
    """
    v = check_floats(values, "values").ravel()
    if v.size == 0 or not np.isfinite(v).all() or (v < 0).any():
        raise ArgumentError(
            f"values must be finite and >= 0 ({label} per customer), with at least one",
            field="values",
        )
    total = float(v.sum())
    if total <= 0:
        raise ArgumentError(f"the {label} values sum to 0: nothing to concentrate", field="values")
    share = check_number(top, "top", minimum=0.0, maximum=1.0)
    v = np.sort(v)
    x = np.linspace(0.0, 1.0, v.size + 1)
    y = np.concatenate([[0.0], np.cumsum(v) / total])
    gini = 1.0 - float(np.sum((y[1:] + y[:-1]) * np.diff(x)))
    held = 1.0 - float(np.interp(1.0 - share, x, y))
    ax = axes(ax)
    ax.plot(x, y, color=_ACTUAL, label=f"{label} (Gini {gini:.2f})")
    ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1, label="Even spread")
    ax.fill_between(x, y, x, color=_ACTUAL, alpha=0.1)
    ax.axvline(1.0 - share, color=_MODEL, ls="--", lw=1)
    ax.text(1.0 - share - 0.01, 0.9, f"top {share:.0%} hold {held:.0%}", color=_MODEL,
            ha="right", fontsize=9)  # fmt: skip
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_xlabel("Share of customers, least to most valuable")
    ax.set_ylabel(f"Share of total {label}")
    ax.legend(loc="center left")
    ax.set_title(title if title is not None else f"Concentration of {label}")
    return ax


@boundary
def plot_exposure(
    summary: Any,
    *,
    unit: str | None = None,
    bins: int = 30,
    columns: Mapping[str, str] | None = None,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """How long each customer has been observed (``T``) and when they last bought (recency).

    The model can only see purchases within a customer's exposure ``T``: a base of mostly new
    customers (short ``T``) says little about dropout yet. Both distributions are drawn as
    histograms on the same bins.

    Parameters
    ----------
    summary:
        The customer summary (a table with ``recency`` and ``T``).
    unit:
        The summary's time unit (``"W"``, ``"D"``, ...), for the axis label.
    bins:
        Number of histogram bins between 0 and the longest ``T``.
    columns:
        Renames, standard name -> your column.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_exposure({"recency": [0.0, 3.0, 10.0], "T": [5.0, 12.0, 30.0]}, bins=3)
    >>> [int(p.get_height()) for p in ax.patches[:3]]
    [1, 1, 1]
    """
    data = read_summary(summary, ("recency", "T"), columns=columns)
    _check_times(data)
    n_bins = check_integer(bins, "bins", minimum=1, maximum=10_000)
    recency, t = data["recency"], data["T"]
    edges = np.linspace(0.0, float(t.max()) or 1.0, n_bins + 1)
    ax = axes(ax)
    ax.hist(t, bins=edges, color=_ACTUAL, alpha=0.55, label="Observed for (T)")
    ax.hist(recency, bins=edges, color=_MODEL, alpha=0.55, label="Last purchase (recency)")
    units = unit_name(unit)
    ax.set_xlabel(f"Time since the first purchase ({units})")
    ax.set_ylabel("Customers")
    ax.legend()
    ax.set_title(
        title
        if title is not None
        else f"Customer exposure: median T {float(np.median(t)):.3g} {units}"
    )
    return ax


def _check_times(data: Any) -> None:
    """``0 <= recency <= T`` on every row, else a ``DataError`` naming the rows."""
    recency, t = data["recency"], data["T"]
    bad = (recency < 0) | (t < 0) | (recency > t * (1 + 1e-9) + 1e-12)
    if bad.any():
        rows = np.flatnonzero(bad)
        shown = [{"recency": float(recency[i]), "T": float(t[i])} for i in rows[:5]]
        raise DataError(
            f"summary has {len(rows)} row(s) outside 0 <= recency <= T: "
            f"{describe_rows(rows, shown)}; recency is the time of the last purchase and T the "
            "time observed, both from the first purchase",
            field="recency",
            rows=rows[:5].tolist(),
        )


def _spend_density(
    model: Any, z: NDArray[np.float64], freq: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Density of a customer's observed mean spend under gamma-gamma, mixed over the customers'
    numbers of transactions ``x``:

        f(z | x) = x^(px) gamma^q z^(px - 1) / (B(px, q) (gamma + x z)^(px + q))

    (``nu ~ Gamma(q, gamma)``, the mean of ``x`` spends ``z | nu ~ Gamma(px, x nu)``).
    """
    from scipy import special

    values, counts = np.unique(freq, return_counts=True)
    p, q, g = model.p, model.q, model.gamma
    px = p * values[:, None]
    zz = z[None, :]
    log_f = (
        px * np.log(values[:, None])
        + q * np.log(g)
        + (px - 1.0) * np.log(zz)
        - special.betaln(px, q)
        - (px + q) * np.log(g + values[:, None] * zz)
    )
    mixed: NDArray[np.float64] = (counts / counts.sum()) @ np.exp(log_f)
    return mixed


@boundary
def plot_spend_density(
    model: Any,
    summary: Any,
    *,
    bins: int = 40,
    columns: Mapping[str, str] | None = None,
    currency: str = "currency",
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Observed mean spend per purchase of repeat buyers against the gamma-gamma model's density.

    The model line is the density of a customer's *observed* mean spend, mixed over the repeat
    buyers' numbers of transactions (a customer with few purchases has a noisier mean), so it
    is comparable with the histogram.

    Parameters
    ----------
    model:
        A fitted :class:`~clientmodel.ltv.gamma_gamma.GammaGamma`.
    summary:
        The customer summary (``frequency`` and ``monetary_value``); rows with frequency 0 are
        left out, as in the fit.
    bins:
        Histogram bins, from 0 to the 99th percentile of the observed means.
    columns:
        Renames, standard name -> your column.
    currency:
        The unit of the spend, for the axis label.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from clientmodel.ltv import GammaGamma
    >>> m = GammaGamma(p=6.25, q=3.74, gamma=15.44)
    >>> ax = plot_spend_density(m, m.simulate(500, 3, seed=1))
    >>> ax.get_ylabel()
    'Density across repeat buyers'
    """
    from clientmodel.ltv.gamma_gamma import GammaGamma

    if not isinstance(model, GammaGamma):
        raise ArgumentError(
            f"model must be a GammaGamma spend model, got {type(model).__name__}", field="model"
        )
    n_bins = check_integer(bins, "bins", minimum=1, maximum=10_000)
    data = read_summary(
        summary, ("frequency", "monetary_value"), columns=columns, counts=("frequency",)
    )
    repeat = data["frequency"] > 0
    freq, spend = data["frequency"][repeat], data["monetary_value"][repeat]
    bad = ~(spend > 0)
    if not repeat.any() or bad.any():
        rows = np.flatnonzero(repeat)[bad] if repeat.any() else np.array([], dtype=np.intp)
        raise DataError(
            "plot_spend_density needs repeat buyers (frequency > 0) with a mean spend > 0"
            + (f": {describe_rows(rows, spend[bad].tolist())}" if rows.size else ""),
            field="monetary_value",
            rows=rows[:5].tolist(),
        )
    top = float(np.percentile(spend, 99))
    edges = np.linspace(0.0, top, n_bins + 1)
    z = np.linspace(top / 400.0, top, 400)
    ax = axes(ax)
    ax.hist(spend, bins=edges, density=True, color=_ACTUAL, alpha=0.5, label="Actual")
    ax.plot(z, _spend_density(model, z, freq), color=_MODEL, lw=2, label="Model")
    ax.set_xlim(0.0, top)
    ax.set_xlabel(f"Mean spend per purchase ({currency})")
    ax.set_ylabel("Density across repeat buyers")
    ax.legend()
    ax.set_title(title if title is not None else "Spend per purchase: gamma-gamma vs observed")
    return ax


_QUANTITY_LABELS = {
    "p_alive": "P(alive)",
    "expected_purchases": "Expected purchases",
    "dert": "DERT (discounted expected residual transactions)",
    "clv": "CLV",
}


@boundary
def plot_prediction_intervals(
    intervals: Any,
    *,
    labels: Any = None,
    max_customers: int = 40,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Each customer's prediction with its interval as an error bar; the total in the title.

    Parameters
    ----------
    intervals:
        A :class:`~clientmodel.ltv.intervals.PredictionIntervals`.
    labels:
        One label per customer (e.g. ids) for the x axis; default the row numbers.
    max_customers:
        Only the first this many customers are drawn (the title says so).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from clientmodel.ltv import BGNBD, prediction_intervals
    >>> model = BGNBD.fit(BGNBD(r=0.25, alpha=4.0, a=0.8, b=2.5).simulate(2000, 39.0, seed=1))
    >>> rows = {"frequency": [2, 0, 5], "recency": [30.0, 0.0, 35.0], "T": [39.0] * 3}
    >>> pi = prediction_intervals(model, rows, "expected_purchases", horizon=52, seed=0)
    >>> ax = plot_prediction_intervals(pi, labels=["a", "b", "c"])
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['a', 'b', 'c']
    """
    from clientmodel.ltv.intervals import PredictionIntervals

    _expect_intervals(intervals, PredictionIntervals)
    shown = check_integer(max_customers, "max_customers", minimum=1)
    n = len(intervals)
    if labels is None:
        names = [str(i) for i in range(n)]
    else:
        given = labels.tolist() if hasattr(labels, "tolist") else labels
        names = [str(v) for v in check_sequence(given, "labels")]
        if len(names) != n:
            raise ArgumentError(
                f"labels has {len(names)} value(s) but the intervals have {n} customer(s); give "
                "one label per customer",
                field="labels",
            )
    k = min(n, shown)
    est = intervals.estimate[:k]
    below, above = est - intervals.lower[:k], intervals.upper[:k] - est
    x = np.arange(k)
    ax = axes(ax)
    ax.errorbar(
        x, est, yerr=np.vstack([below, above]), fmt="o", color=_ACTUAL, ecolor=_MODEL, capsize=3
    )
    ax.set_xticks(x)
    ax.set_xticklabels(names[:k], rotation=90 if k > 12 else 0)
    label = _QUANTITY_LABELS[intervals.quantity]
    ax.set_xlabel("Customer" + (f" (first {k} of {n})" if k < n else ""))
    ax.set_ylabel(f"{label}, {intervals.level:.0%} interval")
    total = (
        f"total {intervals.total_estimate:.4g} "
        f"[{intervals.total_lower:.4g}, {intervals.total_upper:.4g}]"
    )
    ax.set_title(title if title is not None else f"{label} per customer; {total}")
    return ax


def _expect_intervals(value: Any, kind: type) -> None:
    if not isinstance(value, kind):
        raise ArgumentError(
            "intervals must be a PredictionIntervals (from clientmodel.ltv.intervals."
            f"prediction_intervals), got {type(value).__name__}",
            field="intervals",
        )
