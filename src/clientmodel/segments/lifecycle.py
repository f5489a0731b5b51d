"""Lifecycle stages as of a date: prospect, new, active, repeat, reactivated, at risk, dormant,
churned.

Every customer gets exactly one stage, decided in this order (windows are calendar windows,
:class:`dateutil.relativedelta.relativedelta`, ending at ``as_of``; "within a window" means the
purchase day is after ``as_of - window``):

1. **prospect** -- known customer (``customers=``) with no purchase up to ``as_of``;
2. **new** -- first purchase within the ``new`` window;
3. **reactivated** -- bought within the ``active`` window, and the first of those purchases came
   after a silence long enough to be dormant: the previous purchase was on or before
   (that purchase day - ``at_risk`` window);
4. **repeat** -- bought within the ``active`` window, two orders or more;
5. **active** -- bought within the ``active`` window, one order;
6. **at_risk** -- last purchase within the ``at_risk`` window (but not the active one);
7. **dormant** -- last purchase within the ``dormant`` window;
8. **churned** -- last purchase before the ``dormant`` window.

Two alternatives replace the fixed windows of steps 4-8 for the customers they apply to:

* **cadence** (``cadence=True``): for customers with at least ``cadence_min_orders`` orders, the
  days since the last purchase are divided by the customer's own usual gap between orders
  (the *overdue ratio*). The usual gap is the ``cadence_percentile``-th percentile of the
  customer's gaps (50, the median, by default; 80 is common when a churn window should be
  missed by few regular buyers, with linear interpolation between gaps); the customer is
  repeat up to ``cadence_at_risk`` (default 1.5 usual gaps), at risk up to
  ``cadence_dormant`` (3), dormant up to ``cadence_churned`` (6), churned beyond;
* **P(alive)** (``model=`` any object with ``p_alive(summary)``, e.g. a fitted
  :class:`clientmodel.ltv.bgnbd.BGNBD`): for customers with **two orders or more**, repeat
  while $P(\\text{alive}) \\ge$ ``p_alive_at_risk`` (0.5), at risk down to ``p_alive_dormant``
  (0.25), dormant down to ``p_alive_churned`` (0.1), churned below.

  **One-order customers keep the fixed windows.** In BG/NBD and MBG/NBD a customer can only
  drop out right after a purchase, so with no repeat purchase ($x = 0$) BG/NBD gives
  $P(\\text{alive}) = 1$ however long the silence (Fader, Hardie & Lee 2005, eq. 5 has the
  factor $\\delta_{x>0}$), and MBG/NBD's value hardly moves with time. Calling such a customer
  active forever is wrong, and a probability from the model's other outputs would treat models
  differently; the windows measure what the data do show (time since that one purchase). The
  same holds for :func:`lifecycle_stage` with ``p_alive``.

Purchases are read by :func:`clientmodel.transactions.customer_history`: a refund (negative
amount) is never an order, rows after ``as_of`` are an error unless ``after_as_of="exclude"``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

import attrs
import numpy as np
from dateutil.relativedelta import relativedelta
from numpy.typing import NDArray

from clientmodel._validation import (
    boundary,
    check_bool,
    check_integer,
    check_mapping,
    check_number,
    check_sequence,
    key_path,
    read_form,
)
from clientmodel.errors import ArgumentError, DataError
from clientmodel.ltv.contract import TransactionModel
from clientmodel.segments._windows import as_delta, day_minus, delta_to_dict, same_ids
from clientmodel.transactions import AfterAsOf, CustomerHistory, _EmptyWindow, customer_history

__all__ = [
    "STAGES",
    "LifecycleWindows",
    "Stage",
    "lifecycle_from_summary",
    "lifecycle_stage",
    "lifecycle_stages",
]

Stage = Literal[
    "prospect", "new", "active", "repeat", "reactivated", "at_risk", "dormant", "churned"
]

#: All stages, from the earliest to the last in a customer's life.
STAGES: tuple[str, ...] = (
    "prospect",
    "new",
    "active",
    "repeat",
    "reactivated",
    "at_risk",
    "dormant",
    "churned",
)
_CODE = {s: i for i, s in enumerate(STAGES)}
_FORMAT = 1
_REF = dt.date(2001, 1, 1)


_WINDOWS = ("new", "active", "at_risk", "dormant")


def _new(v: Any) -> relativedelta:
    return as_delta(v, field="new")


def _active(v: Any) -> relativedelta:
    return as_delta(v, field="active")


def _at_risk(v: Any) -> relativedelta:
    return as_delta(v, field="at_risk")


def _dormant(v: Any) -> relativedelta:
    return as_delta(v, field="dormant")


def _window_from_dict(value: Any, path: str) -> relativedelta:
    fields = check_mapping(value, path, optional=("years", "months", "days"))
    parts = {k: check_integer(v, key_path(path, k), minimum=0) for k, v in fields.items()}
    delta = relativedelta(
        years=parts.get("years", 0), months=parts.get("months", 0), days=parts.get("days", 0)
    )
    return as_delta(delta, field=path)


def _span(delta: relativedelta) -> int:
    return (_REF - (_REF - delta)).days


@attrs.frozen
class LifecycleWindows:
    """Windows and thresholds that define the lifecycle stages (see the module notes).

    Windows accept a :class:`~dateutil.relativedelta.relativedelta`, a number of days or text
    such as ``"90D"``, ``"12W"``, ``"3M"``, ``"1Y"``.

    Examples
    --------
    >>> w = LifecycleWindows(new="1M", active="3M", at_risk="6M", dormant="1Y")
    >>> w.to_dict()["windows"]["active"]
    {'months': 3}
    """

    new: relativedelta = attrs.field(default=relativedelta(days=30), converter=_new)
    active: relativedelta = attrs.field(default=relativedelta(days=90), converter=_active)
    at_risk: relativedelta = attrs.field(default=relativedelta(days=180), converter=_at_risk)
    dormant: relativedelta = attrs.field(default=relativedelta(days=365), converter=_dormant)
    cadence: bool = False
    cadence_min_orders: int = 3
    cadence_at_risk: float = 1.5
    cadence_dormant: float = 3.0
    cadence_churned: float = 6.0
    cadence_percentile: float = 50.0
    p_alive_at_risk: float = 0.5
    p_alive_dormant: float = 0.25
    p_alive_churned: float = 0.1

    # the serialised form groups the windows by name and each set of thresholds as a list
    _FORM: ClassVar[dict[str, Any]] = dict.fromkeys(_WINDOWS, _window_from_dict)
    _FORM_KEYS: ClassVar[dict[str, tuple[str, ...]]] = {
        "windows": _WINDOWS,
        "cadence_thresholds": ("cadence_at_risk", "cadence_dormant", "cadence_churned"),
        "p_alive_thresholds": ("p_alive_at_risk", "p_alive_dormant", "p_alive_churned"),
    }

    def __attrs_post_init__(self) -> None:
        check_bool(self.cadence, "cadence")
        check_integer(self.cadence_min_orders, "cadence_min_orders")
        for name in (
            "cadence_at_risk",
            "cadence_dormant",
            "cadence_churned",
            "cadence_percentile",
            "p_alive_at_risk",
            "p_alive_dormant",
            "p_alive_churned",
        ):
            check_number(getattr(self, name), name)
        spans = [_span(w) for w in (self.new, self.active, self.at_risk, self.dormant)]
        if not (spans[0] <= spans[1] < spans[2] < spans[3]):
            raise ArgumentError(
                "windows must satisfy new <= active < at_risk < dormant; got "
                f"new={delta_to_dict(self.new)}, active={delta_to_dict(self.active)}, "
                f"at_risk={delta_to_dict(self.at_risk)}, dormant={delta_to_dict(self.dormant)}",
                field="windows",
            )
        if not 0 < self.cadence_at_risk < self.cadence_dormant < self.cadence_churned:
            raise ArgumentError(
                "cadence thresholds must satisfy 0 < at_risk < dormant < churned",
                field="cadence_at_risk",
            )
        if not 1 >= self.p_alive_at_risk > self.p_alive_dormant > self.p_alive_churned >= 0:
            raise ArgumentError(
                "P(alive) thresholds must satisfy 1 >= at_risk > dormant > churned >= 0",
                field="p_alive_at_risk",
            )
        if not 0 <= self.cadence_percentile <= 100:
            raise ArgumentError(
                f"cadence_percentile={self.cadence_percentile!r} must be in [0, 100]",
                field="cadence_percentile",
            )
        if self.cadence_min_orders < 2:
            raise ArgumentError(
                "cadence_min_orders must be >= 2 (a gap needs two orders)",
                field="cadence_min_orders",
            )

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form that :meth:`from_dict` rebuilds.

        Examples
        --------
        >>> LifecycleWindows.from_dict(LifecycleWindows().to_dict()) == LifecycleWindows()
        True
        """
        return {
            "model": "LifecycleWindows",
            "format": _FORMAT,
            "windows": {
                n: delta_to_dict(getattr(self, n)) for n in ("new", "active", "at_risk", "dormant")
            },
            "cadence": self.cadence,
            "cadence_min_orders": self.cadence_min_orders,
            "cadence_percentile": self.cadence_percentile,
            "cadence_thresholds": [
                self.cadence_at_risk,
                self.cadence_dormant,
                self.cadence_churned,
            ],
            "p_alive_thresholds": [
                self.p_alive_at_risk,
                self.p_alive_dormant,
                self.p_alive_churned,
            ],
        }

    @classmethod
    @boundary
    def from_dict(cls, data: Mapping[str, Any]) -> LifecycleWindows:
        """Rebuild from :meth:`to_dict` output.

        Examples
        --------
        >>> LifecycleWindows.from_dict({"windows": {"new": {"days": 7}, "active": {"days": 30},
        ...     "at_risk": {"months": 2}, "dormant": {"years": 1}}}).at_risk.months
        2
        """
        return read_form(cls, data)


def _usual_gaps(hist: CustomerHistory, percentile: float) -> NDArray[np.float64]:
    """Each customer's ``percentile``-th gap in days between consecutive orders (NaN with one)."""
    n = hist.n_customers
    owner_all, day = hist.order_customer, hist.order_period
    same = owner_all[1:] == owner_all[:-1]
    gaps = (day[1:] - day[:-1])[same]
    owner = owner_all[1:][same]
    order = np.lexsort((gaps, owner))
    gaps, owner = gaps[order].astype(np.float64), owner[order]
    count = np.bincount(owner, minlength=n)
    start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    out = np.full(n, np.nan)
    has = count > 0
    position = (count[has] - 1) * (percentile / 100.0)
    lo = np.floor(position).astype(np.int64)
    hi = np.ceil(position).astype(np.int64)
    low, high = gaps[start[has] + lo], gaps[start[has] + hi]
    out[has] = low + (high - low) * (position - lo)
    return out


def _stage_codes(
    hist: CustomerHistory,
    windows: LifecycleWindows,
    p_alive: NDArray[np.float64] | None,
) -> tuple[NDArray[np.int8], NDArray[np.float64]]:
    gap = _usual_gaps(hist, windows.cadence_percentile) if windows.cadence else None
    return _codes(
        hist.first_period,
        hist.last_period,
        hist.orders,
        hist.as_of_period,
        windows,
        p_alive=p_alive,
        gap=gap,
        reactivated=_reactivated(hist, windows),
    )


def _reactivated(hist: CustomerHistory, windows: LifecycleWindows) -> NDArray[np.bool_]:
    """First purchase inside the active window came after a dormant-long silence."""
    out = np.zeros(hist.n_customers, dtype=bool)
    day, owner = hist.order_period, hist.order_customer
    b_act = int(day_minus(np.array([hist.as_of_period], dtype=np.int64), windows.active)[0])
    in_win = day > b_act
    prev_same = np.r_[False, owner[1:] == owner[:-1]]
    prev_in = np.r_[False, in_win[:-1]]
    first_in = in_win & ~(prev_same & prev_in)
    cand = np.flatnonzero(first_in & prev_same)
    if len(cand):
        limit = day_minus(day[cand], windows.at_risk)
        hit = day[cand - 1] <= limit
        out[owner[cand[hit]]] = True
    return out


def _codes(
    first: NDArray[np.int64],
    last: NDArray[np.int64],
    orders: NDArray[np.int64],
    as_of_day: int,
    windows: LifecycleWindows,
    *,
    p_alive: NDArray[np.float64] | None,
    gap: NDArray[np.float64] | None,
    reactivated: NDArray[np.bool_] | None,
) -> tuple[NDArray[np.int8], NDArray[np.float64]]:
    """Stage codes from per-customer first/last purchase days and order counts."""
    n = len(first)
    asof = np.array([as_of_day], dtype=np.int64)
    b_new, b_act, b_risk, b_dorm = (
        int(day_minus(asof, w)[0])
        for w in (windows.new, windows.active, windows.at_risk, windows.dormant)
    )
    code = np.full(n, _CODE["churned"], dtype=np.int8)
    code[last > b_dorm] = _CODE["dormant"]
    code[last > b_risk] = _CODE["at_risk"]
    is_active = last > b_act
    code[is_active & (orders == 1)] = _CODE["active"]
    code[is_active & (orders >= 2)] = _CODE["repeat"]
    overdue = np.full(n, np.nan)
    if windows.cadence and gap is not None:
        use = (orders >= windows.cadence_min_orders) & (gap > 0)
        since = (as_of_day - last).astype(np.float64)
        overdue[use] = since[use] / gap[use]
        o = overdue[use]
        code[use] = np.select(
            [
                o <= windows.cadence_at_risk,
                o <= windows.cadence_dormant,
                o <= windows.cadence_churned,
            ],
            [_CODE["repeat"], _CODE["at_risk"], _CODE["dormant"]],
            default=_CODE["churned"],
        ).astype(np.int8)
    if p_alive is not None:
        # One-order customers keep the windows: the model cannot see their dropout (notes).
        repeat = orders >= 2
        by_model = np.select(
            [
                p_alive >= windows.p_alive_at_risk,
                p_alive >= windows.p_alive_dormant,
                p_alive >= windows.p_alive_churned,
            ],
            [_CODE["repeat"], _CODE["at_risk"], _CODE["dormant"]],
            default=_CODE["churned"],
        ).astype(np.int8)
        code = np.where(repeat, by_model, code).astype(np.int8)
    if reactivated is not None:
        code[reactivated] = _CODE["reactivated"]
    code[first > b_new] = _CODE["new"]
    return code, overdue


def _check_p(p: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    if p.shape != (n,) or not np.all((p >= 0) & (p <= 1)):
        raise ArgumentError(
            "model.p_alive(summary) must return one probability in [0, 1] per customer",
            field="model",
        )
    return p


@runtime_checkable
class AliveModel(Protocol):
    """What stages need of a model: P(alive) for each customer of a BTYD summary.

    Every :class:`~clientmodel.ltv.contract.TransactionModel` is one; so is an object of your own
    with a ``p_alive(summary)`` method (the check is by that interface, not by class).
    """

    @boundary
    def p_alive(self, summary: Any) -> Any:
        """P(alive) of each customer row of ``summary``, in its order."""


def _need_p_alive(model: Any) -> None:
    if not isinstance(model, (TransactionModel, AliveModel)):
        raise ArgumentError(
            f"model must have a p_alive(summary) method (e.g. a fitted BGNBD); got "
            f"{type(model).__name__}",
            field="model",
        )


def _p_alive(model: Any, hist: CustomerHistory, unit: str, customer: str) -> NDArray[np.float64]:
    _need_p_alive(model)
    # The summary's own definitions (whole calendar days from the first purchase day, as in the
    # CDNOW summary of Fader, Hardie & Lee 2005).
    summary = {customer: hist.ids, **hist.btyd(unit)}
    p = np.asarray(model.p_alive(summary), dtype=np.float64).ravel()
    return _check_p(p, hist.n_customers)


@boundary
def lifecycle_stages(
    transactions: Any,
    *,
    as_of: Any,
    windows: LifecycleWindows | None = None,
    customers: Sequence[Any] | NDArray[Any] | None = None,
    model: Any = None,
    unit: str = "W",
    customer: str = "customer_id",
    time: str = "timestamp",
    amount: str | None = None,
    tz: str | None = None,
    after_as_of: AfterAsOf = "error",
) -> Any:
    """Lifecycle stage of every customer as of a date, from a transaction log.

    Parameters
    ----------
    transactions:
        One row per transaction (see the module notes for refunds and rows after ``as_of``).
    as_of:
        The date the stages hold at.
    windows:
        :class:`LifecycleWindows` (defaults: new 30 days, active 90, at risk 180, dormant 365).
    customers:
        All known customer ids (of the same kind as the log's: numbers or text); those without
        a purchase are ``prospect``.
    model:
        Optional object with ``p_alive(summary)`` (summary columns ``frequency``, ``recency``,
        ``T`` in ``unit``, as :func:`clientmodel.transactions.summarize` gives them); replaces
        the fixed windows by P(alive) thresholds for customers with two orders or more who are
        not new or reactivated.
    unit:
        Time unit of the summary handed to ``model`` (default weeks).
    customer, time, amount, tz:
        Column names (``amount`` optional: with it, refunds are recognised) and the timezone of
        naive timestamps.
    after_as_of:
        ``"error"`` (default) or ``"exclude"`` for rows after ``as_of``.

    Returns
    -------
    The caller's kind of table: ``<customer>``, ``stage``, ``orders``, ``days_since_last``
    (NaN for prospects) and ``overdue`` (days since last / usual gap, cadence mode only).

    Examples
    --------
    >>> log = {"customer_id": ["a", "b", "b", "c"],
    ...        "timestamp": ["2024-06-20", "2023-01-10", "2024-06-01", "2023-12-01"]}
    >>> out = lifecycle_stages(log, as_of="2024-06-30", customers=["a", "b", "c", "d"])
    >>> dict(zip(out["customer_id"].tolist(), out["stage"].tolist()))
    {'a': 'new', 'b': 'reactivated', 'c': 'dormant', 'd': 'prospect'}
    """
    windows = _windows(windows)
    hist = customer_history(
        transactions,
        as_of=as_of,
        customer=customer,
        time=time,
        amount=amount,
        tz=tz,
        after_as_of=after_as_of,
    )
    p = _p_alive(model, hist, unit, customer) if model is not None else None
    code, overdue = _stage_codes(hist, windows, p)
    orders = hist.orders
    since = hist.days_since_last().astype(np.float64)
    ids = hist.ids
    if customers is not None:
        known = np.asarray(customers)
        if known.ndim != 1:
            raise ArgumentError("customers must be a flat list of ids", field="customers")
        log_ids, known = same_ids(ids, f"transactions[{customer!r}]", known, "customers")
        extra = np.setdiff1d(known, log_ids) if len(known) else known
        if len(extra):
            m = len(extra)
            ids = np.concatenate([log_ids, extra])
            code = np.concatenate([code, np.full(m, _CODE["prospect"], dtype=np.int8)])
            orders = np.concatenate([orders, np.zeros(m, dtype=np.int64)])
            since = np.concatenate([since, np.full(m, np.nan)])
            overdue = np.concatenate([overdue, np.full(m, np.nan)])
    names = np.array(STAGES, dtype=object)
    return hist.table.result(
        {
            customer: ids,
            "stage": names[code],
            "orders": orders,
            "days_since_last": since,
            "overdue": overdue,
        }
    )


def _windows(windows: Any) -> LifecycleWindows:
    if windows is None:
        return LifecycleWindows()
    if not isinstance(windows, LifecycleWindows):
        raise ArgumentError(
            f"windows must be a LifecycleWindows, got {type(windows).__name__}", field="windows"
        )
    return windows


@boundary
def lifecycle_from_summary(
    summary: Any,
    *,
    as_of: Any,
    windows: LifecycleWindows | None = None,
    model: Any = None,
    customer: str = "customer_id",
    tz: str | None = None,
) -> Any:
    """Lifecycle stages from a customer summary (:func:`clientmodel.transactions.summarize`).

    Uses ``first_purchase``, ``last_purchase`` and ``orders`` (or ``frequency + 1``). A
    summary has no purchase history, so **reactivated is never assigned** (those customers show
    as repeat; use :func:`lifecycle_stages` on the log for it), and in cadence mode the usual gap
    is the *mean* gap ``(last - first) / (orders - 1)`` instead of the median. With ``model``,
    ``model.p_alive(summary)`` is called on the summary as given.

    Examples
    --------
    >>> s = {"customer_id": ["a", "b"], "orders": [3, 1],
    ...      "first_purchase": ["2024-01-02", "2024-06-20"],
    ...      "last_purchase": ["2024-06-01", "2024-06-20"]}
    >>> lifecycle_from_summary(s, as_of="2024-06-30")["stage"].tolist()
    ['repeat', 'new']
    """
    from clientmodel.periods import as_of_value, timezone
    from clientmodel.tables import read_table

    windows = _windows(windows)
    if tz is not None:
        timezone(tz)  # refused even when the summary holds dates
    table = read_table(summary, name="summary")
    table.require(customer, "first_purchase", "last_purchase")
    first_ts = table.timestamps("first_purchase", tz=tz)
    last_ts = table.timestamps("last_purchase", tz=tz)
    cutoff = as_of_value(as_of, tz=first_ts.tz)
    first = first_ts.values.astype("datetime64[D]").astype(np.int64)
    last = last_ts.values.astype("datetime64[D]").astype(np.int64)
    if "orders" in table.columns:
        orders = table.numbers("orders", kind="count", min_value=1)
    else:
        table.require("frequency")
        orders = table.numbers("frequency", kind="count") + 1
    as_of_day = int(cutoff.astype("datetime64[D]").astype(np.int64))
    late = (last_ts.values > cutoff) | (last < first)
    if late.any():
        rows = np.flatnonzero(late)[:5].tolist()
        raise DataError(
            f"summary rows {rows} have last_purchase after as_of or before first_purchase; "
            "summarise the log as of the same date",
            field="last_purchase",
            rows=rows,
        )
    gap = None
    if windows.cadence:
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = np.where(orders >= 2, (last - first) / np.maximum(orders - 1, 1), np.nan)
    p = None
    if model is not None:
        _need_p_alive(model)
        p = _check_p(np.asarray(model.p_alive(summary), dtype=np.float64).ravel(), table.n_rows)
    code, overdue = _codes(
        first, last, orders, as_of_day, windows, p_alive=p, gap=gap, reactivated=None
    )
    names = np.array(STAGES, dtype=object)
    return table.result(
        {
            customer: table.ids(customer),
            "stage": names[code],
            "orders": orders,
            "days_since_last": (as_of_day - last).astype(np.float64),
            "overdue": overdue,
        }
    )


@boundary
def lifecycle_stage(
    purchases: Sequence[dt.date | dt.datetime | str],
    *,
    as_of: Any,
    windows: LifecycleWindows | None = None,
    p_alive: float | None = None,
    tz: str | None = None,
    after_as_of: AfterAsOf = "error",
) -> Stage:
    """Lifecycle stage of one customer from their purchase dates (the record face).

    Gives the same stage as :func:`lifecycle_stages` for that customer; ``p_alive`` is the
    customer's P(alive) when stages follow a model (used from the second order on, see the
    module notes). Purchases after ``as_of`` are an error, as in the table face, unless
    ``after_as_of="exclude"`` (a customer whose purchases are all after ``as_of`` is then a
    prospect).

    Examples
    --------
    >>> import datetime as dt
    >>> lifecycle_stage([dt.date(2024, 1, 5), dt.date(2024, 3, 1)], as_of=dt.date(2024, 3, 31))
    'repeat'
    >>> lifecycle_stage([], as_of="2024-03-31")
    'prospect'
    """
    windows = _windows(windows)
    items = check_sequence(purchases, "purchases")
    p = None
    if p_alive is not None:
        p = np.array([check_number(p_alive, "p_alive", minimum=0.0, maximum=1.0)])
    if len(items) == 0:
        return "prospect"
    log = {"customer_id": np.zeros(len(items), dtype=np.int64), "timestamp": items}
    try:
        hist = customer_history(log, as_of=as_of, tz=tz, after_as_of=after_as_of)
    except _EmptyWindow:
        if after_as_of == "exclude":  # every purchase is after as_of: not a customer yet
            return "prospect"
        raise
    except DataError as err:
        if err.field != "timestamp":
            raise
        # the caller gave a list, not a table: name the argument, not our stand-in column
        message = err.message.replace("column 'timestamp'", "purchases")
        if "purchases" not in message:
            message = f"purchases: {message}"
        raise DataError(message, field="purchases", rows=err.rows) from None
    code, _ = _stage_codes(hist, windows, p)
    stage: Stage = STAGES[int(code[0])]  # type: ignore[assignment]
    return stage
