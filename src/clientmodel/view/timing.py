r"""The right moment to reach out: the next-purchase window, due / overdue flags, engagement hours.

**From the fitted model.** A transaction model of :mod:`clientmodel.ltv` gives, for a customer
with history :math:`(x, t_x, T)`, the probability of no purchase in :math:`(T, T + t]`:

.. math:: P_0(t) = P(\text{alive})\, P(X(T, T+t) = 0 \mid \text{alive}) + 1 - P(\text{alive})

(``p_purchases(summary, 0, t)``), so the chance of at least one purchase *given the customer is
alive* is

.. math:: F(t) = 1 - \frac{P_0(t) - (1 - P(\text{alive}))}{P(\text{alive})}.

The window is the times :math:`t_q` with :math:`F(t_q) = q` for :math:`q = 1/4, 1/2, 3/4`. They are
found for all customers at once on a geometric grid of horizons (ratio 1.05, from
``1e-3`` time units, the summary's unit, to ``max_horizon``, default ``1e4``) with linear
interpolation in :math:`\log t`; :math:`F` is increasing, so each quantile is bracketed by two
grid points. When :math:`F` does not reach :math:`q` within ``max_horizon`` (a model whose
customers may die between purchases can have :math:`F(\infty) < 1`), the quantile is ``None``:
"not expected to buy within the horizon".

For BG/NBD (a customer drops out only right after a purchase) the first purchase after :math:`T`
of an alive customer comes after an exponential time with rate :math:`\lambda \sim
\text{Gamma}(r + x, \alpha + T)`, so :math:`F(t) = 1 - ((\alpha + T)/(\alpha + T + t))^{r + x}` and
:math:`t_q = (\alpha + T)((1 - q)^{-1/(r + x)} - 1)`; for a Poisson buyer with known rate
:math:`\lambda`, :math:`t_{1/2} = \ln 2 / \lambda`. The tests check the grid against both.

**From the customer's own cadence.** With :math:`x \ge 1` repeat purchases between the first and
the last one (:math:`t_x` apart), the mean gap is :math:`g = t_x / x`; a one-time buyer has no
cadence of their own and uses the caller's ``typical_gap`` (a product's replenishment cycle, or
the population's median gap). With :math:`s = T - t_x`, the time since the last purchase, the
customer is **due** when :math:`s \ge g` and **overdue** when :math:`s \ge k g` (``overdue_factor``
:math:`k`, default 1.5).

**Engagement hours.** Each event timestamp is converted to the customer's time zone and counted
by hour of the week (0 = Monday 00:00-00:59, ..., 167 = Sunday 23:00-23:59); the busiest hours
come first.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from clientmodel._validation import boundary, check_floats, check_number
from clientmodel.errors import ArgumentError, DataError
from clientmodel.profile import Event
from clientmodel.view._common import probability

__all__ = [
    "MAX_HORIZON",
    "QUANTILES",
    "Timing",
    "engagement_hours",
    "purchase_timing",
    "timing_table",
    "window_quantiles",
]

#: The quantiles of the next-purchase window.
QUANTILES: tuple[float, float, float] = (0.25, 0.5, 0.75)

#: The default longest horizon searched (in the summary's time unit).
MAX_HORIZON = 1e4


class Timing(BaseModel):
    """The right moment for one customer (times in the summary's unit, from ``T``).

    Attributes
    ----------
    q25, median, q75:
        Time from ``T`` by which the probability of at least one purchase, given alive, reaches
        1/4, 1/2, 3/4 (``None``: never within the grid, or no model given).
    cadence_gap:
        The customer's mean gap between purchases (or ``typical_gap`` for a one-time buyer).
    due_in:
        ``cadence_gap - (T - recency)``: negative once due.
    due, overdue:
        Whether the time since the last purchase has reached the gap, or ``overdue_factor`` gaps.
    engagement_hours:
        Hours of the week (0 = Monday 00:00) in which the customer engages, busiest first.

    Examples
    --------
    >>> Timing(cadence_gap=30.0, due_in=-5.0, due=True, overdue=False).due
    True
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    q25: float | None = Field(default=None, ge=0)
    median: float | None = Field(default=None, ge=0)
    q75: float | None = Field(default=None, ge=0)
    cadence_gap: float | None = Field(default=None, gt=0)
    due_in: float | None = None
    due: bool | None = None
    overdue: bool | None = None
    engagement_hours: tuple[int, ...] = ()


def _floats(values: Any, column: str) -> NDArray[np.float64]:
    return np.atleast_1d(check_floats(values, column, data=True))  # a DataError names the column


def _summary_arrays(summary: Any) -> tuple[dict[str, NDArray[np.float64]], bool]:
    if isinstance(summary, Mapping) and all(np.ndim(v) == 0 for v in summary.values()):
        return {str(k): _floats(v, str(k)) for k, v in summary.items()}, True
    import narwhals.stable.v2 as nw

    frame = nw.from_native(summary, eager_only=True, pass_through=True)
    if isinstance(frame, nw.DataFrame):
        return {c: _floats(frame[c].to_numpy(), c) for c in frame.columns}, False
    if isinstance(summary, Mapping):
        return {str(k): _floats(v, str(k)) for k, v in summary.items()}, False
    raise ArgumentError(
        f"summary must be a mapping or an eager table, got {type(summary).__name__}",
        field="summary",
    )


@boundary
def window_quantiles(
    model: Any,
    summary: Any,
    quantiles: Iterable[float] = QUANTILES,
    *,
    max_horizon: float = MAX_HORIZON,
) -> NDArray[np.float64]:
    """Times ``t_q`` at which P(at least one purchase in ``(T, T + t]`` | alive) reaches ``q``.

    Parameters
    ----------
    model:
        A fitted transaction model of :mod:`clientmodel.ltv` (``p_alive`` and ``p_purchases``).
    summary:
        ``frequency``, ``recency``, ``T``: one record (mapping of numbers) or a table.
    quantiles:
        Levels in (0, 1).
    max_horizon:
        The longest horizon searched (summary time units, > 0.001).

    Returns
    -------
    numpy.ndarray
        Shape (customers, quantiles); ``NaN`` where the level is not reached by ``max_horizon``.

    Examples
    --------
    >>> from clientmodel.ltv import BGNBD
    >>> m = BGNBD(r=2.0, alpha=10.0, a=0.5, b=5.0)
    >>> t = window_quantiles(m, {"frequency": 0, "recency": 0, "T": 0}, [0.5])
    >>> round(float(t[0, 0]), 2), round(10 * (2 ** 0.5 - 1), 2)  # closed form for BG/NBD
    (4.14, 4.14)
    """
    levels = np.asarray([probability(q, "quantiles") for q in quantiles], dtype=np.float64)
    if np.any((levels <= 0) | (levels >= 1)):
        raise ArgumentError(
            f"quantiles={levels.tolist()} must lie strictly between 0 and 1", field="quantiles"
        )
    # the search grid has ~47 points per decade: beyond 1e6 units a horizon means nothing and
    # only costs time
    max_horizon = check_number(
        max_horizon, "max_horizon", minimum=1e-3, exclusive_minimum=True, maximum=1e6
    )
    grid = np.exp(np.arange(np.log(1e-3), np.log(max_horizon) + 1e-9, np.log(1.05)))
    cols, _ = _summary_arrays(summary)
    table = {k: cols[k] for k in ("frequency", "recency", "T") if k in cols}
    if len(table) < 3:
        raise ArgumentError(
            f"summary needs frequency, recency and T; got {sorted(cols)}", field="summary"
        )
    for method in ("p_alive", "p_purchases"):
        if not callable(getattr(model, method, None)):
            raise ArgumentError(
                f"model must be a fitted transaction model of clientmodel.ltv (with p_alive and "
                f"p_purchases), got {type(model).__name__}",
                field="model",
            )
    alive = np.atleast_1d(np.asarray(model.p_alive(table), dtype=np.float64))
    n = len(alive)
    curve = np.empty((n, len(grid)), dtype=np.float64)
    for j, t in enumerate(grid):
        p0 = np.atleast_1d(np.asarray(model.p_purchases(table, 0, float(t)), dtype=np.float64))
        with np.errstate(divide="ignore", invalid="ignore"):
            curve[:, j] = 1.0 - (p0 - (1.0 - alive)) / alive
    curve = np.maximum.accumulate(np.clip(curve, 0.0, 1.0), axis=1)  # rounding noise only
    out = np.full((n, len(levels)), np.nan)
    logs = np.log(grid)
    rows = np.arange(n)
    for k, q in enumerate(levels):
        j = (curve < q).sum(axis=1)  # first grid point at or above q (curve is increasing)
        inside = (j < len(grid)) & (alive > 0)
        jj = np.clip(j, 1, len(grid) - 1)
        lo, hi = curve[rows, jj - 1], curve[rows, jj]
        with np.errstate(divide="ignore", invalid="ignore"):
            w = np.clip(np.where(hi > lo, (q - lo) / (hi - lo), 0.0), 0.0, 1.0)
        t = np.exp(logs[jj - 1] + w * (logs[jj] - logs[jj - 1]))
        t = np.where(j == 0, grid[0], t)  # reached before the grid starts
        out[:, k] = np.where(inside, t, np.nan)
    return out


@boundary
def purchase_timing(
    summary: Mapping[str, Any],
    *,
    model: Any = None,
    typical_gap: float | None = None,
    overdue_factor: float = 1.5,
    events: Iterable[Event | dt.datetime] = (),
    tz: str | dt.tzinfo = "UTC",
    top_hours: int = 3,
) -> Timing:
    """The right moment for one customer: model window, cadence, due flags, engagement hours.

    Parameters
    ----------
    summary:
        ``frequency``, ``recency`` and ``T`` of the customer (the model's time unit).
    model:
        A fitted transaction model (optional): gives ``q25``, ``median``, ``q75``.
    typical_gap:
        The gap to use when the customer has no cadence of their own (a one-time buyer).
    overdue_factor:
        Overdue once the time since the last purchase reaches this many gaps (> 1).
    events:
        The customer's events (or bare timestamps) for the engagement hours.
    tz:
        The customer's time zone (IANA name or tzinfo).
    top_hours:
        How many engagement hours to keep.

    Examples
    --------
    >>> t = purchase_timing({"frequency": 0, "recency": 0, "T": 35}, typical_gap=30)
    >>> t.cadence_gap, t.due, t.overdue
    (30.0, True, False)
    """
    cols, _ = _summary_arrays(summary)
    try:
        x, tx, big_t = (cols[k][:1] for k in ("frequency", "recency", "T"))
    except KeyError as exc:
        raise ArgumentError(
            f"summary has no {exc.args[0]!r}; it needs frequency, recency and T", field="summary"
        ) from None
    cad = _cadence(x, tx, big_t, typical_gap, overdue_factor)
    q: list[float | None] = [None, None, None]
    if model is not None:
        found = window_quantiles(model, {"frequency": x, "recency": tx, "T": big_t})[0]
        q = [None if np.isnan(v) else float(v) for v in found]
    gap = float(cad["cadence_gap"][0])
    return Timing(
        q25=q[0],
        median=q[1],
        q75=q[2],
        cadence_gap=None if np.isnan(gap) else gap,
        due_in=None if np.isnan(gap) else float(cad["due_in"][0]),
        due=cad["due"][0],
        overdue=cad["overdue"][0],
        engagement_hours=engagement_hours(events, tz=tz, top=top_hours),
    )


def _cadence(
    x: NDArray[np.float64],
    tx: NDArray[np.float64],
    big_t: NDArray[np.float64],
    typical_gap: float | None,
    overdue_factor: float,
) -> dict[str, NDArray[Any]]:
    """Gap, due_in, due and overdue per customer (NaN / None where there is no gap)."""
    overdue_factor = check_number(
        overdue_factor, "overdue_factor", minimum=1, exclusive_minimum=True, maximum=1e6
    )
    if typical_gap is not None:
        typical_gap = check_number(typical_gap, "typical_gap", minimum=0, exclusive_minimum=True)
    bad = ~(np.isfinite(x) & np.isfinite(tx) & np.isfinite(big_t) & (x >= 0) & (tx >= 0))
    bad |= tx > big_t
    if bad.any():
        rows = np.flatnonzero(bad)[:5].tolist()
        raise DataError(
            f"summary rows {rows} are not purchase histories (frequency={x[rows].tolist()}, "
            f"recency={tx[rows].tolist()}, T={big_t[rows].tolist()}); accepted: finite numbers "
            ">= 0 with recency <= T",
            field="summary",
            rows=rows,
        )
    fallback = np.nan if typical_gap is None else float(typical_gap)
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = tx / np.maximum(x, 1)
        gap = np.where((x >= 1) & (raw > 0), raw, fallback)
    since = big_t - tx
    has = ~np.isnan(gap)
    due = np.array([bool(d) if h else None for d, h in zip(since >= gap, has, strict=True)])
    late = since >= overdue_factor * gap
    overdue = np.array([bool(d) if h else None for d, h in zip(late, has, strict=True)])
    return {"cadence_gap": gap, "due_in": gap - since, "due": due, "overdue": overdue}


@boundary
def timing_table(
    summary: Any,
    *,
    model: Any = None,
    typical_gap: float | None = None,
    overdue_factor: float = 1.5,
    max_horizon: float = MAX_HORIZON,
    key: str = "person_id",
) -> Any:
    """The right moment for a whole table: :func:`purchase_timing` per row, vectorised.

    Returns a table of the same kind (numpy columns for a mapping) with ``key``, ``q25``,
    ``next_purchase_median``, ``q75``,
    ``cadence_gap``, ``due_in``, ``due`` and ``overdue`` (nulls where undefined), ready for
    :func:`~clientmodel.view.view_table`.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"person_id": ["a", "b"], "frequency": [4, 0], "recency": [40, 0],
    ...                   "T": [60, 3]})
    >>> timing_table(s, typical_gap=5)[["cadence_gap", "due", "overdue"]].values.tolist()
    [[10.0, True, True], [5.0, False, False]]
    """
    import narwhals.stable.v2 as nw

    frame = nw.from_native(summary, eager_only=True, pass_through=True)
    mapping = isinstance(summary, Mapping) and not isinstance(frame, nw.DataFrame)
    if not (mapping or isinstance(frame, nw.DataFrame)):
        raise ArgumentError(
            f"summary must be an eager table (pandas, polars, pyarrow) or a mapping of columns, "
            f"got {type(summary).__name__}",
            field="summary",
        )
    columns = list(summary) if mapping else frame.columns
    for name in (key, "frequency", "recency", "T"):
        if name not in columns:
            raise DataError(f"summary has no column {name!r}; its columns are {columns}")

    def column(name: str) -> NDArray[Any]:
        return np.asarray(summary[name]) if mapping else frame[name].to_numpy()

    x, tx, big_t = (_floats(column(c), c) for c in ("frequency", "recency", "T"))
    cols = _cadence(x, tx, big_t, typical_gap, overdue_factor)
    q = np.full((len(x), 3), np.nan)
    if model is not None:
        q = window_quantiles(
            model, {"frequency": x, "recency": tx, "T": big_t}, max_horizon=max_horizon
        )
    data: dict[str, Any] = {
        key: column(key).tolist(),
        "q25": q[:, 0],
        "next_purchase_median": q[:, 1],
        "q75": q[:, 2],
        **cols,
    }
    out = {
        k: [None if (isinstance(v, float) and np.isnan(v)) else v for v in np.asarray(c).tolist()]
        if k != key
        else c
        for k, c in data.items()
    }
    if mapping:  # columns in, numpy columns out (NaN / None where undefined)
        return {k: np.asarray(v) for k, v in data.items()}
    schema = {
        key: frame.schema[key],
        **{k: nw.Float64() for k in ("q25", "next_purchase_median", "q75", "cadence_gap")},
        "due_in": nw.Float64(),
        "due": nw.Boolean(),
        "overdue": nw.Boolean(),
    }
    return nw.from_dict(out, schema=schema, backend=frame.implementation).to_native()


def _zone(tz: str | dt.tzinfo) -> dt.tzinfo:
    if isinstance(tz, dt.tzinfo):
        return tz
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ArgumentError(
            f"tz={tz!r} is not a time zone; use an IANA name such as 'Asia/Shanghai'", field="tz"
        ) from None


@boundary
def engagement_hours(
    events: Iterable[Event | dt.datetime], *, tz: str | dt.tzinfo = "UTC", top: int = 3
) -> tuple[int, ...]:
    """Hours of the week (0 = Monday 00:00, local time) in which the customer engages.

    Busiest first; ties by hour. Naive timestamps are refused.

    Examples
    --------
    >>> import datetime as dt
    >>> utc = dt.timezone.utc
    >>> ts = [dt.datetime(2024, 6, 3, 12, 30, tzinfo=utc)] * 2
    >>> ts += [dt.datetime(2024, 6, 4, 1, tzinfo=utc)]
    >>> engagement_hours(ts, tz="Asia/Shanghai")  # Monday 20:00 and Tuesday 09:00 in Shanghai
    (20, 33)
    """
    if not isinstance(top, int) or top < 1:
        raise ArgumentError(f"top={top!r} must be a positive int", field="top")
    zone = _zone(tz)
    counts: Counter[int] = Counter()
    for row, item in enumerate(events):
        stamp = item.timestamp if isinstance(item, Event) else item
        if not isinstance(stamp, dt.datetime) or stamp.tzinfo is None:
            raise DataError(
                f"events[{row}] has timestamp {stamp!r}; accepted: timezone-aware datetimes",
                field="timestamp",
                rows=[row],
            )
        local = stamp.astimezone(zone)
        counts[local.weekday() * 24 + local.hour] += 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(h for h, _ in ranked[:top])
