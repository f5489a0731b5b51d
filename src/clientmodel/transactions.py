"""The one reader of purchase logs: per-customer history and the BTYD summary.

Every function that starts from a transaction log -- :func:`summarize`,
:func:`calibration_holdout`, and in :mod:`clientmodel.segments` the RFM values, lifecycle stages,
cohort tables and acquisition value -- reads it through :func:`customer_history`, so one rule
decides what a purchase is, which rows merge into one order and what happens to rows after
``as_of``. A customer therefore has the same orders, first and last purchase and revenue through
every door.

The rules, written once
-----------------------
* **Merge.** Rows of one customer in the same calendar period of ``merge`` (a day by default,
  the convention of the BTYD literature) are one *order*; ``merge=None`` counts every row.
  Periods are read on the wall clock of the log's timezone.
* **Refunds.** A row with a negative amount is a refund. It is netted into ``revenue`` (in the
  period it happens) but is **never an order**: it does not create a period, move the first or
  last purchase, ``recency`` or ``monetary_value``, and does not make a customer active in a
  cohort period. A customer whose rows in the window are all refunds has no purchase to net them
  into: that is a :class:`~clientmodel.errors.DataError` unless ``refund_only="exclude"``, which
  leaves them out and counts them (``CustomerHistory.refund_only_excluded``).
* **After as_of.** Rows after ``as_of`` are an error by default (``after_as_of="error"``);
  ``after_as_of="exclude"`` leaves them out and reports how many per customer.
* **Nothing to summarise.** An empty log, or an ``as_of`` before every purchase, is a
  :class:`~clientmodel.errors.DataError`, never an empty result.

The summary
-----------
:func:`summarize` gives one row per customer:

========================  ================================================================
``frequency``             repeat purchases: distinct purchase periods minus one
``recency``               time from the first to the last purchase, in ``unit``
``T``                     time from the first purchase to ``as_of``, in ``unit``
``orders``                distinct purchase periods (``frequency + 1``)
``first_purchase``        time of the first purchase
``last_purchase``         time of the last purchase
``monetary_value``        mean value of the repeat purchases (0 without one); with ``amount``
``revenue``               total amount, refunds netted; with ``amount``
========================  ================================================================

``frequency``, ``recency`` and ``T`` keep the names of the BTYD literature (Fader, Hardie & Lee
2005); the segment tables use ``orders`` and ``days_since_last`` instead, so the two cannot be
mixed up in a join. Durations are measured between the starts of merged periods, so a customer
whose first purchase is on 1 January 1997 has ``T = 272 / 7`` weeks as of 30 September 1997
whatever the hour.

Lazy frames
-----------
Given a lazy frame (a dask DataFrame, a duckdb relation, a polars ``LazyFrame``, ...),
:func:`summarize` builds the same summary as narwhals expressions (``group_by`` / ``agg`` on the
caller's engine) and returns the engine's lazy frame; nothing is computed until the caller
collects it. The checks the eager path makes on every row run first, as one aggregate query
(a scan of the needed columns) at call time. Differences from the eager result: rows come in
the engine's order (sort by customer before comparing), sums of amounts may differ in the last
digits (engines add in their own order) and timestamps keep the engine's time unit.
:func:`distinct_histories` then reduces a summary of any size to its distinct
``(frequency, recency, T)`` rows with counts -- what the models are fitted on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal

import attrs
import narwhals.stable.v2 as nw
import numpy as np
from numpy.typing import NDArray

from clientmodel._validation import (
    boundary,
    check_choice,
    check_sequence,
    check_text,
    key_path,
    mask_identifier,
)
from clientmodel.errors import ArgumentError, DataError, describe_rows
from clientmodel.periods import (
    UNIT_DAYS,
    as_of_value,
    parse_unit,
    period_start,
    timezone,
)
from clientmodel.tables import LazyTable, LazyTimestamps, Table, is_lazy, read_lazy, read_table

__all__ = [
    "CustomerHistory",
    "calibration_holdout",
    "customer_history",
    "distinct_histories",
    "summarize",
]

AfterAsOf = Literal["error", "exclude"]
RefundOnly = Literal["error", "exclude"]
_POLICIES = ("error", "exclude")
_US_PER_DAY = 86_400_000_000


class _EmptyWindow(DataError):
    """No purchase falls in the window (a partition may legitimately have none)."""


@attrs.frozen(eq=False)
class CustomerHistory:
    """Every customer's purchase history up to ``as_of``, read once from a log.

    Build it with :func:`customer_history`. Per-customer arrays are aligned with ``ids``; order
    arrays hold one entry per order (merged period), sorted by customer then period; row arrays
    hold the log's rows in the window (purchases and refunds) in log order.

    Attributes
    ----------
    ids:
        The customers with at least one purchase in the window, sorted.
    orders:
        Orders per customer (distinct purchase periods).
    first_purchase, last_purchase:
        Wall-clock time (``datetime64[us]``) of each customer's first and last purchase row.
    first_period, last_period:
        Start of the first and last purchase period, as a period number (days since 1970-01-01,
        or microseconds with ``merge=None``).
    revenue:
        Net amount in the window, refunds included (zeros without an amount column).
    refunds:
        Sum of the refunds in the window (<= 0).
    first_order_value:
        Value of the first order (the purchases of the first period).
    excluded_after_as_of:
        Rows after ``as_of`` left out per customer (zeros unless ``after_as_of="exclude"``).
    order_customer, order_period:
        Index into ``ids`` and period number of every order.
    row_customer, row_time, row_amount, row_purchase:
        The rows in the window: index into ``ids``, wall-clock time, amount (zeros without an
        amount column) and whether the row is a purchase (not a refund).
    as_of:
        The end of the window (wall clock, ``datetime64[us]``).
    as_of_period:
        Period number of ``as_of``.
    merge:
        The merge unit (``None``: every row is an order).
    tz:
        Timezone of the wall-clock times (``None`` for a log of calendar dates).
    has_amount:
        Whether the log had an amount column.
    amount_column:
        Its name (``None`` without one).
    refund_only_excluded:
        Customers left out because all their rows in the window were refunds.
    table:
        The caller's table, which results are handed back in the kind of.

    Examples
    --------
    >>> h = customer_history({"customer_id": ["a", "a"], "amount": [100.0, -100.0],
    ...                       "timestamp": ["2024-01-01", "2024-03-25"]},
    ...                      as_of="2024-03-31", amount="amount")
    >>> h.orders.tolist(), h.revenue.tolist(), str(h.last_purchase[0])[:10]
    ([1], [0.0], '2024-01-01')
    """

    ids: NDArray[Any]
    orders: NDArray[np.int64]
    first_purchase: NDArray[np.datetime64]
    last_purchase: NDArray[np.datetime64]
    first_period: NDArray[np.int64]
    last_period: NDArray[np.int64]
    revenue: NDArray[np.float64]
    refunds: NDArray[np.float64]
    first_order_value: NDArray[np.float64]
    excluded_after_as_of: NDArray[np.int64]
    order_customer: NDArray[np.int64]
    order_period: NDArray[np.int64]
    row_customer: NDArray[np.int64]
    row_time: NDArray[np.datetime64]
    row_amount: NDArray[np.float64]
    row_purchase: NDArray[np.bool_]
    as_of: np.datetime64
    as_of_period: int
    merge: str | None
    tz: str | None
    has_amount: bool
    refund_only_excluded: int
    table: Table
    amount_column: str | None = None

    @property
    def n_customers(self) -> int:
        """Number of customers (rows of the per-customer arrays)."""
        return len(self.ids)

    @boundary
    def days(self, periods: NDArray[np.int64]) -> NDArray[np.float64]:
        """Period-number differences in days (micro-second numbers with ``merge=None``)."""
        if self.merge is None:
            return np.asarray(periods / _US_PER_DAY, dtype=np.float64)
        return np.asarray(periods, dtype=np.float64)

    @boundary
    def btyd(self, unit: str) -> dict[str, NDArray[Any]]:
        """``frequency``, ``recency`` and ``T`` in ``unit`` (the summary's definitions)."""
        scale = UNIT_DAYS[parse_unit(unit)]
        return {
            "frequency": (self.orders - 1).astype(np.int64),
            "recency": self.days(self.last_period - self.first_period) / scale,
            "T": self.days(self.as_of_period - self.first_period) / scale,
        }

    @boundary
    def monetary_value(self) -> NDArray[np.float64]:
        """Mean value of the repeat orders (0 for a customer without one)."""
        frequency = self.orders - 1
        repeat = self.revenue - self.refunds - self.first_order_value
        out = np.where(frequency > 0, repeat / np.maximum(frequency, 1), 0.0)
        return np.asarray(out, dtype=np.float64)

    @boundary
    def days_since_last(self) -> NDArray[np.int64]:
        """Whole calendar days from each customer's last purchase day to the day of ``as_of``."""
        day = self.as_of.astype("datetime64[D]").astype(np.int64)
        last = self.last_purchase.astype("datetime64[D]").astype(np.int64)
        return np.asarray(day - last, dtype=np.int64)

    @boundary
    def dates(self, times: NDArray[np.datetime64]) -> NDArray[Any]:
        """Wall-clock times as the result columns carry them (dates for a log of dates)."""
        return times if self.tz is not None else times.astype("datetime64[D]")

    @boundary
    def result(self, columns: dict[str, NDArray[Any]]) -> Any:
        """Hand per-customer columns back in the caller's kind of table."""
        return self.table.result(columns, tz=self.tz)


@boundary
def customer_history(
    transactions: Any,
    *,
    as_of: Any,
    customer: str = "customer_id",
    time: str = "timestamp",
    amount: str | None = None,
    merge: str | None = "D",
    tz: str | None = None,
    after_as_of: AfterAsOf = "error",
    refund_only: RefundOnly = "error",
) -> CustomerHistory:
    """Read a transaction log into a :class:`CustomerHistory` (the rules of the module notes).

    Parameters
    ----------
    transactions:
        pandas, polars or pyarrow table, or a mapping of column -> sequence, one row per
        transaction.
    as_of:
        The end of the window: a date (its end counts), an aware datetime or an ISO string.
    customer, time, amount:
        Column names; without ``amount`` every row is a purchase of value 0.
    merge:
        Rows in the same calendar period of this unit are one order (``None``: every row).
    tz:
        Timezone of naive timestamps; with aware timestamps, the timezone to read them in.
    after_as_of:
        ``"error"`` (default) or ``"exclude"`` (rows after ``as_of`` left out, counted).
    refund_only:
        ``"error"`` (default) or ``"exclude"`` (customers with only refunds left out, counted).

    Examples
    --------
    >>> log = {"customer_id": [2, 1, 2], "timestamp": ["2024-01-02", "2024-01-05", "2024-01-02"]}
    >>> h = customer_history(log, as_of="2024-01-31")
    >>> h.ids.tolist(), h.orders.tolist(), h.days_since_last().tolist()
    ([1, 2], [1, 1], [26, 29])
    """
    refund_only = _policy(refund_only, "refund_only")
    _check_names(customer=customer, time=time, amount=amount)
    rows = _read_rows(transactions, customer=customer, time=time, amount=amount, merge=merge, tz=tz)
    end = as_of_value(as_of, tz=rows.tz)
    return _history(rows.upto(end, as_of, after_as_of), refund_only=refund_only)


@attrs.frozen
class _Rows:
    """A validated log as aligned arrays; customers factorised into sorted codes."""

    codes: NDArray[np.int64]
    customers: NDArray[Any]
    times: NDArray[np.datetime64]
    amounts: NDArray[np.float64] | None
    excluded: NDArray[np.int64]
    end: np.datetime64
    merge: str | None
    tz: str | None
    time: str
    amount: str | None
    table: Table

    def upto(self, end: np.datetime64, as_of: Any, after_as_of: Any) -> _Rows:
        """The rows at or before ``end`` under the ``after_as_of`` policy."""
        after_as_of = _policy(after_as_of, "after_as_of")
        after = self.times > end
        if not after.any():
            return attrs.evolve(self, end=end)
        if after_as_of == "error":
            raise _after_error(self.times, after, self.time, "as_of", as_of)
        keep = ~after
        return attrs.evolve(
            self,
            codes=self.codes[keep],
            times=self.times[keep],
            amounts=self.amounts[keep] if self.amounts is not None else None,
            excluded=self.excluded + np.bincount(self.codes[after], minlength=len(self.customers)),
            end=end,
        )

    def subset(self, keep: NDArray[np.bool_], end: np.datetime64) -> _Rows:
        """Some rows, with ``end`` as the window's end."""
        return attrs.evolve(
            self,
            codes=self.codes[keep],
            times=self.times[keep],
            amounts=self.amounts[keep] if self.amounts is not None else None,
            end=end,
        )


def _read_rows(
    transactions: Any,
    *,
    customer: str,
    time: str,
    amount: str | None,
    merge: str | None,
    tz: str | None,
) -> _Rows:
    table = read_table(transactions, name="transactions")
    if tz is not None:
        timezone(tz)  # an unknown zone is refused even when the log holds dates
    if merge is not None:
        merge = parse_unit(merge, field="merge")
    table.require(customer, time, *([amount] if amount else []))
    if table.n_rows == 0:
        raise DataError("transactions is empty: it needs at least one row", field=customer)
    codes, customers = table.factorize(customer)
    stamps = table.timestamps(time, tz=tz)
    amounts = table.numbers(amount) if amount else None
    return _Rows(
        codes=codes,
        customers=customers,
        times=stamps.values,
        amounts=amounts,
        excluded=np.zeros(len(customers), dtype=np.int64),
        end=np.datetime64("NaT", "us"),
        merge=merge,
        tz=stamps.tz,
        time=time,
        amount=amount,
        table=table,
    )


def _history(log: _Rows, *, refund_only: str) -> CustomerHistory:
    """The per-customer history of the rows (the one place the rules are applied)."""
    codes, times, amounts, customers = log.codes, log.times, log.amounts, log.customers
    excluded, merge, n = log.excluded, log.merge, len(log.customers)
    if len(codes) == 0:
        raise _EmptyWindow(
            f"no transaction falls at or before as_of ({log.end}): the history would be empty; "
            "pass a later as_of",
            field=log.time,
        )
    purchase = amounts >= 0 if amounts is not None else np.ones(len(codes), dtype=bool)
    every = bool(purchase.all())  # the common case: no refund, no copies of the rows
    seen = np.bincount(codes, minlength=n) > 0
    buyer = seen if every else np.bincount(codes[purchase], minlength=n) > 0
    refunders = seen & ~buyer
    n_refund_only = int(refunders.sum())
    if n_refund_only and refund_only == "error":
        shown = [mask_identifier(_plain(c)) for c in customers[refunders][:5]]
        raise DataError(
            f"{n_refund_only} customer(s) have refunds (negative amounts) but no purchase in the "
            f"window: {shown}; a refund needs its purchase in the log (filter these customers "
            "out first, or pass refund_only='exclude' to leave them out, counted)",
            field=log.amount or log.time,
        )
    if not buyer.any():
        raise _EmptyWindow(
            "no purchase falls in the window: the history would be empty", field=log.time
        )
    if not buyer.all():  # renumber the customers that bought
        lookup = np.cumsum(buyer) - 1
        rows = buyer[codes]
        codes = lookup[codes[rows]]
        times, purchase = times[rows], purchase[rows]
        amounts = amounts[rows] if amounts is not None else None
        customers, excluded = customers[buyer], excluded[buyer]
        n = len(customers)
    money = amounts if amounts is not None else np.zeros(len(codes))
    period = _period_number(times, merge)
    buy_codes = codes if every else codes[purchase]
    buy_times = times.view(np.int64) if every else times.view(np.int64)[purchase]
    first_period, last_period, order_customer, order_period = _orders(
        buy_codes, period if every else period[purchase], n
    )
    orders = np.bincount(order_customer, minlength=n).astype(np.int64)
    first = np.full(n, np.iinfo(np.int64).max)
    last = np.full(n, np.iinfo(np.int64).min)
    np.minimum.at(first, buy_codes, buy_times)
    np.maximum.at(last, buy_codes, buy_times)
    del buy_codes, buy_times
    revenue = _sums(codes, money, n)
    refunds = np.zeros(n) if every else _sums(codes[~purchase], money[~purchase], n)
    in_first = period == first_period[codes]
    if not every:
        in_first &= purchase
    first_value = _sums(codes[in_first], money[in_first], n) if log.amount else np.zeros(n)
    if log.amount is not None:
        _check_sums(revenue, refunds, log.amount, customers)
    return CustomerHistory(
        ids=customers,
        orders=orders,
        first_purchase=first.view("datetime64[us]"),
        last_purchase=last.view("datetime64[us]"),
        first_period=first_period,
        last_period=last_period,
        revenue=revenue.astype(np.float64),
        refunds=refunds.astype(np.float64),
        first_order_value=first_value.astype(np.float64),
        excluded_after_as_of=excluded.astype(np.int64),
        order_customer=order_customer,
        order_period=order_period,
        row_customer=codes,
        row_time=times,
        row_amount=money,
        row_purchase=purchase,
        as_of=log.end,
        as_of_period=int(_period_number(np.array([log.end]), merge)[0]),
        merge=merge,
        tz=log.tz,
        has_amount=log.amount is not None,
        refund_only_excluded=n_refund_only,
        table=log.table,
        amount_column=log.amount,
    )


def _check_names(**names: Any) -> None:
    """Column-name arguments must be text (``None`` where the column is optional)."""
    for field, value in names.items():
        if value is not None or field != "amount":
            check_text(value, field)


def _policy(value: Any, field: str) -> Literal["error", "exclude"]:
    return "error" if check_choice(value, field, _POLICIES) == "error" else "exclude"


def _period_number(times: NDArray[np.datetime64], merge: str | None) -> NDArray[np.int64]:
    """The start of each time's merge period: a day number, or microseconds with no merge."""
    if merge is None:
        return np.asarray(times.astype("datetime64[us]").view(np.int64), dtype=np.int64)
    if merge == "D":
        return np.asarray(times.astype("datetime64[D]").view(np.int64), dtype=np.int64)
    return np.asarray(period_start(times, merge).view(np.int64), dtype=np.int64)


def _orders(
    codes: NDArray[np.int64], period: NDArray[np.int64], n: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Distinct (customer, period) pairs, sorted, and each customer's first and last period.

    One in-place sort of a single packed key (the customer code in the high bits, the period's
    offset in the low bits; 32-bit when it fits) instead of a lexsort of two keys: the log can
    arrive in any order. Memory is touched as little as possible (few, small temporaries).
    """
    low = int(period.min())
    bits = (int(period.max()) - low).bit_length()
    width = bits + max(n - 1, 1).bit_length()
    if width > 62:  # periods of microseconds over a long span: two keys
        order = np.lexsort((period, codes))
        c, p = codes[order], period[order]
        new = np.r_[True, (c[1:] != c[:-1]) | (p[1:] != p[:-1])]
        order_customer, order_period = c[new], p[new]
    else:
        kind = np.int32 if width <= 31 else np.int64
        key = codes.astype(kind)
        np.left_shift(key, bits, out=key)
        offset = np.subtract(period, low, dtype=np.int64).astype(kind, copy=False)
        np.bitwise_or(key, offset, out=key)
        del offset
        key.sort()
        new = np.empty(len(key), dtype=bool)
        new[0] = True
        np.not_equal(key[1:], key[:-1], out=new[1:])
        pairs = key[new]
        del key, new
        order_customer = (pairs >> bits).astype(np.int64)
        order_period = (pairs & ((1 << bits) - 1)).astype(np.int64) + low
    starts = np.flatnonzero(np.r_[True, order_customer[1:] != order_customer[:-1]])
    ends = np.r_[starts[1:], len(order_customer)] - 1
    return (
        np.asarray(order_period[starts], dtype=np.int64),
        np.asarray(order_period[ends], dtype=np.int64),
        np.asarray(order_customer, dtype=np.int64),
        np.asarray(order_period, dtype=np.int64),
    )


def _sums(codes: NDArray[np.int64], values: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported by _check_sums
        return np.asarray(np.bincount(codes, weights=values, minlength=n), dtype=np.float64)


def _check_sums(
    revenue: NDArray[np.float64], refunds: NDArray[np.float64], column: str, ids: NDArray[Any]
) -> None:
    """Sums of finite amounts can still overflow (amounts near 1e308): refuse, don't return inf."""
    bad = ~np.isfinite(revenue) | ~np.isfinite(refunds)
    if bad.any():
        shown = [mask_identifier(_plain(c)) for c in ids[bad][:5]]
        raise DataError(
            f"the amounts of {int(bad.sum())} customer(s) add up beyond float64's range "
            f"({shown}): revenue would be infinite; check column {column!r} or rescale it "
            "(e.g. to thousands)",
            field=column,
        )


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _after_error(
    times: NDArray[np.datetime64], after: NDArray[np.bool_], column: str, field: str, value: Any
) -> DataError:
    rows = np.flatnonzero(after)
    return DataError(
        f"{len(rows)} transaction(s) fall after {field}={value!r}: "
        f"{describe_rows(rows[:5], [str(t) for t in times[rows[:5]]])}; "
        f"pass a later {field}, or "
        "after_as_of='exclude' to leave them out (counted per customer)",
        field=column,
        rows=rows[:5].tolist(),
    )


@boundary
def summarize(
    transactions: Any,
    *,
    as_of: Any,
    unit: str = "D",
    customer: str = "customer_id",
    time: str = "timestamp",
    amount: str | None = None,
    merge: str | None = "D",
    tz: str | None = None,
    after_as_of: AfterAsOf = "error",
) -> Any:
    """Summarise a transaction log into one row per customer.

    Parameters
    ----------
    transactions:
        pandas, polars or pyarrow table, or a mapping of column -> sequence, one row per
        transaction; or a lazy frame (dask, duckdb, polars ``LazyFrame``; see the module notes),
        whose ``time`` column must then be a ``Date`` or ``Datetime`` column.
    as_of:
        The end of the observation window: a date (its end counts), an aware datetime or an
        ISO string.
    unit:
        Unit of ``recency`` and ``T``: ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"``.
    customer, time, amount:
        Column names. Without ``amount`` there is no ``monetary_value`` or ``revenue``.
    merge:
        Purchases in the same calendar period of this unit count as one (``"D"`` by default);
        ``None`` counts every row as its own purchase.
    tz:
        Timezone of naive timestamps (naive timestamps are rejected without it); with aware
        timestamps, the zone whose calendar days count. Required for a duckdb
        ``TIMESTAMP WITH TIME ZONE`` column, whose zone duckdb keeps in the connection.
    after_as_of:
        ``"error"`` (default) rejects transactions after ``as_of``; ``"exclude"`` leaves them out
        and reports how many per customer in an ``excluded_after_as_of`` column.

    Returns
    -------
    The caller's kind of table (a dict of numpy arrays for a mapping), sorted by customer; for a
    lazy frame the engine's lazy frame with the same columns, in no particular order.

    Examples
    --------
    >>> log = {"customer_id": ["a", "a", "a", "b"],
    ...        "timestamp": ["2024-01-01", "2024-01-01", "2024-01-15", "2024-01-08"],
    ...        "amount": [10.0, 5.0, 20.0, 7.0]}
    >>> s = summarize(log, as_of="2024-01-29", unit="W", amount="amount")
    >>> s["frequency"].tolist(), s["recency"].tolist(), s["T"].tolist()
    ([1, 0], [2.0, 0.0], [4.0, 3.0])
    >>> s["monetary_value"].tolist(), s["revenue"].tolist()
    ([20.0, 0.0], [35.0, 7.0])

    A lazy frame gives a lazy frame with the same values:

    >>> import polars as pl
    >>> lazy = pl.DataFrame(log).with_columns(pl.col("timestamp").str.to_date()).lazy()
    >>> out = summarize(lazy, as_of="2024-01-29", unit="W", amount="amount")
    >>> out.sort("customer_id").collect()["monetary_value"].to_list()
    [20.0, 0.0]
    """
    parse_unit(unit)
    _check_names(customer=customer, time=time, amount=amount)
    if is_lazy(transactions):
        return _summarize_lazy(
            read_lazy(transactions, name="transactions"),
            as_of=as_of,
            unit=unit,
            customer=customer,
            time=time,
            amount=amount,
            merge=merge,
            tz=tz,
            after_as_of=_policy(after_as_of, "after_as_of"),
        )
    history = customer_history(
        transactions,
        as_of=as_of,
        customer=customer,
        time=time,
        amount=amount,
        merge=merge,
        tz=tz,
        after_as_of=after_as_of,
    )
    out = _summary_columns(history, customer, unit)
    if after_as_of == "exclude":
        out["excluded_after_as_of"] = history.excluded_after_as_of
    return history.result(out)


def _summary_columns(history: CustomerHistory, customer: str, unit: str) -> dict[str, Any]:
    out: dict[str, NDArray[Any]] = {customer: history.ids, **history.btyd(unit)}
    out["orders"] = history.orders
    out["first_purchase"] = history.dates(history.first_purchase)
    out["last_purchase"] = history.dates(history.last_purchase)
    if history.has_amount:
        out["monetary_value"] = history.monetary_value()
        out["revenue"] = history.revenue
    return out


@boundary
def calibration_holdout(
    transactions: Any,
    *,
    calibration_end: Any,
    holdout_end: Any,
    unit: str = "D",
    customer: str = "customer_id",
    time: str = "timestamp",
    amount: str | None = None,
    merge: str | None = "D",
    tz: str | None = None,
    after_as_of: AfterAsOf = "error",
) -> Any:
    """The summary as of ``calibration_end`` plus each customer's purchases in the holdout.

    Customers are those with a purchase by ``calibration_end`` (a customer first seen in the
    holdout is not part of the calibrated population). Added columns: ``frequency_holdout``
    (purchase periods in ``(calibration_end, holdout_end]``), ``duration_holdout`` (length of the
    holdout in ``unit``) and, with ``amount``, ``monetary_value_holdout`` (mean purchase value in
    the holdout, 0 without one). Rows after ``holdout_end`` follow ``after_as_of``.

    Examples
    --------
    >>> log = {"customer_id": ["a", "a", "a", "b"],
    ...        "timestamp": ["2024-01-01", "2024-01-15", "2024-02-05", "2024-01-08"]}
    >>> s = calibration_holdout(log, calibration_end="2024-01-28", holdout_end="2024-02-25",
    ...                         unit="W")
    >>> s["frequency"].tolist(), s["frequency_holdout"].tolist(), s["duration_holdout"].tolist()
    ([1, 0], [1, 0], [4.0, 4.0])
    """
    parse_unit(unit)
    rows = _read_rows(transactions, customer=customer, time=time, amount=amount, merge=merge, tz=tz)
    cal_end = as_of_value(calibration_end, tz=rows.tz, field="calibration_end")
    hold_end = as_of_value(holdout_end, tz=rows.tz, field="holdout_end")
    if hold_end <= cal_end:
        raise ArgumentError(
            f"holdout_end={holdout_end!r} must be after calibration_end={calibration_end!r}",
            field="holdout_end",
        )
    rows = rows.upto(hold_end, holdout_end, after_as_of)
    calibration = rows.times <= cal_end
    history = _history(rows.subset(calibration, cal_end), refund_only="error")
    # Holdout purchases of the calibrated customers (codes into the log's customers).
    member = np.zeros(len(rows.customers), dtype=bool)
    members = np.searchsorted(rows.customers, history.ids)
    member[members] = True
    holdout = ~calibration & member[rows.codes]
    if rows.amounts is not None:
        holdout &= rows.amounts >= 0
    n_all = len(rows.customers)
    count = np.zeros(n_all, dtype=np.int64)
    value = np.zeros(n_all)
    if holdout.any():
        codes = rows.codes[holdout]
        order_customer = _orders(codes, _period_number(rows.times[holdout], merge), n_all)[2]
        count = np.bincount(order_customer, minlength=n_all).astype(np.int64)
        if rows.amounts is not None:
            value = _sums(codes, rows.amounts[holdout], n_all)
    span = int(_period_number(np.array([hold_end]), history.merge)[0]) - history.as_of_period
    out = _summary_columns(history, customer, unit)
    n = count[members]
    out["frequency_holdout"] = n
    out["duration_holdout"] = np.full(
        len(members), history.days(np.array([span]))[0] / UNIT_DAYS[parse_unit(unit)]
    )
    if amount is not None:
        out["monetary_value_holdout"] = np.where(n > 0, value[members] / np.maximum(n, 1), 0.0)
    return history.result(out)


# --------------------------------------------------------------------------------------- lazy

_BIG = 2**62
_SMALL = -(2**62)


def _lazy_period_key(ts: LazyTimestamps, merge: str | None) -> nw.Expr:
    """The start of each row's merge period as an integer: a day number, or microseconds."""
    if merge is None:
        return ts.micros()
    u = parse_unit(merge, field="merge")
    day = ts.days()
    if u == "D":
        return day
    if u == "W":  # weeks start on Monday; 1970-01-01 was a Thursday
        return day - (day + 3) % 7
    if u == "M":
        return day - (ts.wall.dt.day().cast(nw.Int64) - 1)
    ordinal = ts.wall.dt.ordinal_day().cast(nw.Int64)
    if u == "Y":
        return day - (ordinal - 1)
    # Quarter: ordinal day of the quarter's first day (Apr 1 is day 91 in a common year).
    year = ts.wall.dt.year().cast(nw.Int64)
    month = ts.wall.dt.month().cast(nw.Int64)
    leap = ((year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))).cast(nw.Int64)
    start = (
        nw.when(month <= 3)
        .then(nw.lit(1, nw.Int64))
        .when(month <= 6)
        .then(91 + leap)
        .when(month <= 9)
        .then(182 + leap)
        .otherwise(274 + leap)
    )
    return day - (ordinal - start)


def _key_value(end: np.datetime64, merge: str | None) -> int:
    """The period key of ``as_of`` as the same integer :func:`_lazy_period_key` gives."""
    return int(_period_number(np.array([end]), merge)[0])


def _lazy_duration(delta: nw.Expr, unit: str, merge: str | None) -> nw.Expr:
    """Integer key differences in ``unit``, with the eager path's floating-point operations."""
    days = delta.cast(nw.Float64)
    if merge is None:
        days = days / float(_US_PER_DAY)
    return days / UNIT_DAYS[parse_unit(unit)]


def _summarize_lazy(
    table: LazyTable,
    *,
    as_of: Any,
    unit: str,
    customer: str,
    time: str,
    amount: str | None,
    merge: str | None,
    tz: str | None,
    after_as_of: str,
) -> Any:
    """:func:`summarize` as narwhals expressions on the caller's engine (see the module notes)."""
    parse_unit(unit)
    if merge is not None:
        parse_unit(merge, field="merge")
    log = _read_lazy_log(
        table,
        as_of=as_of,
        customer=customer,
        time=time,
        amount=amount,
        tz=tz,
        after_as_of=after_as_of,
    )
    table, ts, value, kept = log.table, log.times, log.value, log.kept
    end, excluding = log.end, log.excluding
    output = ts.output if log.duckdb_zone is None else (lambda expr: expr)
    if nw.dependencies.is_dask_dataframe(table.frame.to_native()):
        return _summarize_dask(
            table.frame.to_native(),
            as_of=as_of,
            unit=unit,
            customer=customer,
            time=time,
            amount=amount,
            merge=merge,
            tz=tz,
            after_as_of=after_as_of,
            end=end,
        )
    # Materialise the row-level columns once; later expressions refer to them by name.
    rows = table.frame.select(
        nw.col(customer).alias("_c"),
        _lazy_period_key(ts, merge).alias("_k"),
        ts.wall.alias("_w"),
        *([value.alias("_v")] if value is not None else []),
        *([kept.alias("_kept")] if excluding else []),
    )
    purchase: nw.Expr | None = None
    if excluding:
        purchase = nw.col("_kept")
    if value is not None:
        positive = nw.col("_v") >= 0
        purchase = positive if purchase is None else purchase & positive

    def when_purchase(expr: nw.Expr, otherwise: Any = None) -> nw.Expr:
        if purchase is None:
            return expr
        chosen = nw.when(purchase).then(expr)
        return chosen if otherwise is None else chosen.otherwise(otherwise)

    row_cols: list[nw.Expr] = [
        nw.col("_c"),
        nw.col("_k"),
        when_purchase(nw.lit(1, nw.Int64), 0).alias("_n"),
        when_purchase(nw.col("_w")).alias("_w"),
    ]
    period_aggs = [
        nw.col("_n").sum(),
        nw.col("_w").min().alias("_wmin"),
        nw.col("_w").max().alias("_wmax"),
    ]
    if value is not None:
        v = nw.col("_v")
        row_cols += [
            when_purchase(v, 0.0).alias("_pv"),
            (nw.when(nw.col("_kept")).then(v).otherwise(0.0) if excluding else v).alias("_rv"),
        ]
        period_aggs += [nw.col("_pv").sum(), nw.col("_rv").sum()]
    if excluding:
        row_cols.append((~nw.col("_kept")).cast(nw.Int64).alias("_na"))
        period_aggs.append(nw.col("_na").sum())
    periods = rows.select(*row_cols).group_by("_c", "_k").agg(*period_aggs)
    has = nw.col("_n") > 0
    periods = periods.with_columns(
        nw.when(has).then(nw.col("_k")).otherwise(_BIG).alias("_kmin"),
        nw.when(has).then(nw.col("_k")).otherwise(_SMALL).alias("_kmax"),
        has.cast(nw.Int64).alias("_o"),
    )
    customer_aggs = [
        nw.col("_o").sum().alias("orders"),
        nw.col("_kmin").min().alias("_first"),
        nw.col("_kmax").max().alias("_last"),
        nw.col("_wmin").min().alias("_fp"),
        nw.col("_wmax").max().alias("_lp"),
    ]
    if value is not None:
        # The value of the first purchase period: a window over the customer's periods.
        periods = periods.with_columns(nw.col("_kmin").min().over("_c").alias("_kfirst"))
        periods = periods.with_columns(
            nw.when(nw.col("_k") == nw.col("_kfirst"))
            .then(nw.col("_pv"))
            .otherwise(0.0)
            .alias("_fv")
        )
        customer_aggs += [
            nw.col("_pv").sum().alias("_total"),
            nw.col("_fv").sum().alias("_first_value"),
            nw.col("_rv").sum().alias("revenue"),
        ]
    if excluding:
        customer_aggs.append(nw.col("_na").sum().alias("excluded_after_as_of"))
    people = periods.group_by("_c").agg(*customer_aggs)
    if excluding:  # customers whose every row is after as_of are not in the summary
        people = people.filter(nw.col("orders") > 0)
    end_key = _key_value(end, merge)
    people = people.with_columns(nw.col("orders").cast(nw.Int64))
    frequency = nw.col("orders") - 1
    out = [
        nw.col("_c").alias(customer),
        frequency.alias("frequency"),
        _lazy_duration(nw.col("_last") - nw.col("_first"), unit, merge).alias("recency"),
        _lazy_duration(end_key - nw.col("_first"), unit, merge).alias("T"),
        nw.col("orders"),
        output(nw.col("_fp")).alias("first_purchase"),
        output(nw.col("_lp")).alias("last_purchase"),
    ]
    if value is not None:
        repeat = (nw.col("_total") - nw.col("_first_value")) / frequency.cast(nw.Float64)
        out += [
            nw.when(frequency > 0).then(repeat).otherwise(0.0).alias("monetary_value"),
            nw.col("revenue"),
        ]
    if excluding:
        out.append(nw.col("excluded_after_as_of"))
    elif after_as_of == "exclude":
        out.append(nw.lit(0, nw.Int64).alias("excluded_after_as_of"))
    result = table.result(people.select(*out))
    if log.duckdb_zone is not None:  # wall clock back to instants, in SQL (see _duckdb_wall_clock)
        result = _duckdb_instants(result, log.duckdb_zone, ("first_purchase", "last_purchase"))
    return result


@attrs.frozen
class _LazyLog:
    """A lazy log checked under the module's rules (one aggregate query, nothing collected).

    ``kept`` marks the rows at or before ``as_of``; ``value`` is the amount (``None`` without an
    amount column); ``excluding`` says whether some rows are after ``as_of`` (then excluded).
    """

    table: LazyTable
    times: LazyTimestamps
    value: nw.Expr | None
    kept: nw.Expr
    end: np.datetime64
    excluding: bool
    duckdb_zone: str | None = None


def _read_lazy_log(
    table: LazyTable,
    *,
    as_of: Any,
    customer: str,
    time: str,
    amount: str | None,
    tz: str | None,
    after_as_of: Any,
) -> _LazyLog:
    after_as_of = _policy(after_as_of, "after_as_of")
    if tz is not None:
        timezone(tz)
    table.require(customer, time, *([amount] if amount else []))
    converted = _duckdb_wall_clock(table, time, tz)
    duckdb_zone = tz if converted is not table else None
    table = converted
    ts = table.timestamps(time, tz=tz)
    value = table.numeric(amount) if amount else None
    end = as_of_value(as_of, tz=ts.tz)
    kept = ts.at_or_before(end)
    refund = value < 0 if value is not None else nw.lit(False)
    counts = {"after": ~kept, "purchases": kept & ~refund, "refunds": kept & refund}
    found = table.check(
        ids=[customer], times=[time], numbers=[amount] if amount else [], counts=counts
    )
    if found["after"] and after_as_of == "error":
        raise DataError(
            f"{found['after']} transaction(s) fall after as_of={as_of!r}"
            f"{table.sample(~kept)}; pass a later as_of, or after_as_of='exclude' to leave them "
            "out (counted per customer)",
            field=time,
        )
    if found["purchases"] == 0:
        raise _EmptyWindow(
            f"no purchase falls at or before as_of={as_of!r}: the history would be empty",
            field=time,
        )
    if found["refunds"]:
        _check_refunds(table, customer, kept, value)
    return _LazyLog(table, ts, value, kept, end, bool(found["after"]), duckdb_zone)


def _duckdb_wall_clock(table: LazyTable, time: str, tz: str | None) -> LazyTable:
    """A duckdb relation whose aware ``time`` column is read as wall-clock time in ``tz``.

    duckdb keeps a timestamp's time zone in the connection, not in the data: the same relation
    gives other calendar days in a UTC session than in a +08:00 one. So ``tz`` must say which
    zone's days count, and the column is converted to that zone's wall clock on the engine
    (duckdb's ``timezone()``), whatever the session's zone: the answer is the in-memory one.
    """
    native = table.frame.to_native()
    dtype = table.schema[time]
    if not nw.dependencies.is_duckdb_relation(native) or dtype != nw.Datetime:
        return table
    if getattr(dtype, "time_zone", None) is None:
        return table
    if tz is None:
        raise DataError(
            f"column {time!r} of the duckdb relation is a TIMESTAMP WITH TIME ZONE, whose zone "
            "duckdb keeps in the connection, not the data: pass tz='...' naming the time zone "
            "whose calendar days count (e.g. tz='Asia/Shanghai' or tz='UTC')",
            field=time,
        )
    zone = timezone(tz)
    name = time.replace('"', '""')
    if isinstance(zone, dt.timezone):  # a fixed offset, which duckdb's timezone() does not know
        minutes = int((zone.utcoffset(None) or dt.timedelta(0)).total_seconds() // 60)
        wall = f"timezone('UTC', \"{name}\") + INTERVAL ({minutes}) MINUTE"
    else:
        wall = f"timezone('{tz}', \"{name}\")"
    columns = ", ".join(
        f'{wall} AS "{name}"' if c == time else '"' + c.replace('"', '""') + '"'
        for c in native.columns
    )
    return read_lazy(native.project(columns), name=table.name)


def _duckdb_instants(relation: Any, tz: str, columns: Sequence[str]) -> Any:
    """Wall-clock ``columns`` of a duckdb relation (times in ``tz``) back as TIMESTAMPTZ."""
    zone = timezone(tz)
    parts = []
    for c in relation.columns:
        name = '"' + c.replace('"', '""') + '"'
        if c not in columns:
            parts.append(name)
        elif isinstance(zone, dt.timezone):
            minutes = int((zone.utcoffset(None) or dt.timedelta(0)).total_seconds() // 60)
            parts.append(f"timezone('UTC', {name} - INTERVAL ({minutes}) MINUTE) AS {name}")
        else:
            parts.append(f"timezone('{tz}', {name}) AS {name}")
    return relation.project(", ".join(parts))


def _summarize_dask(ddf: Any, *, end: np.datetime64, **options: Any) -> Any:
    """The summary on dask: shuffle the log by customer, summarise each partition in memory.

    After the shuffle every customer's rows sit in one partition, so the in-memory summary of
    each partition is exact. (dask's window and join after a ``split_out`` group-by fail
    in dask 2026.8, so the expression route is not used on dask.)
    """
    customer = options["customer"]
    shuffled = ddf.shuffle(on=customer, npartitions=ddf.npartitions)
    meta = _summarize_partition(_stand_in_log(ddf._meta, end, options), options, end)
    return shuffled.map_partitions(_summarize_partition, options, end, meta=meta.iloc[:0])


def _summarize_partition(part: Any, options: dict[str, Any], end: np.datetime64) -> Any:
    """One partition of a customer-shuffled log summarised in memory (runs on dask workers)."""
    if len(part) == 0:
        return _summarize_partition(_stand_in_log(part, end, options), options, end).iloc[:0]
    try:
        return summarize(part, **options)
    except _EmptyWindow:
        if options["after_as_of"] == "exclude":
            # every row of these customers is after as_of: none of them is in the summary
            stand_in = _stand_in_log(part, end, options)
            return _summarize_partition(stand_in, options, end).iloc[:0]
        raise


def _stand_in_log(meta: Any, end: np.datetime64, options: dict[str, Any]) -> Any:
    """A one-row valid log with ``meta``'s columns and types (to type empty results)."""
    import pandas as pd  # dask partitions are pandas

    row: dict[str, Any] = {}
    day = pd.Timestamp(end.astype("datetime64[D]") - np.timedelta64(1, "D"))
    for name, dtype in meta.dtypes.items():
        if name == options["time"]:
            tz = getattr(dtype, "tz", None)
            value: Any = day if tz is None else day.tz_localize(tz)
        elif pd.api.types.is_numeric_dtype(dtype):
            value = 1
        else:
            value = "0"
        row[name] = pd.Series([value]).astype(dtype)
    return pd.DataFrame(row)


def _check_refunds(table: LazyTable, customer: str, kept: nw.Expr, value: Any) -> None:
    """Customers whose rows in the window are all refunds have no purchase to net them into."""
    worst = (
        table.frame.filter(kept)
        .select(nw.col(customer), value.alias("_v"))
        .group_by(customer)
        .agg(nw.col("_v").max().alias("_max"))
        .filter(nw.col("_max") < 0)
        .select(customer)
        .collect()
    )
    if len(worst):
        shown = [_plain(v) for v in worst.get_column(customer).to_list()[:5]]
        raise DataError(
            f"{len(worst)} customer(s) have refunds (negative amounts) but no purchase in "
            f"the window: {shown}; a refund needs its purchase in the log (filter these "
            "customers out first)",
            field="amount",
        )


@boundary
def distinct_histories(
    summary: Any,
    *,
    columns: Sequence[str] = ("frequency", "recency", "T"),
    weights: str = "weights",
) -> Any:
    """The distinct histories of a customer summary, with how many customers share each one.

    The BTYD likelihood of a customer depends on ``(frequency, recency, T)`` only, so a model
    fitted on the distinct rows weighted by their counts is the model fitted on every customer
    (``BGNBD.fit(histories, weights="weights")``). The distinct rows stay few however many
    customers there are: ``T`` takes one value per first-purchase period and ``recency`` one per
    gap in periods. On a lazy frame the counting runs on the engine and only the distinct rows
    are collected.

    Parameters
    ----------
    summary:
        A customer summary (:func:`summarize`), eager or lazy.
    columns:
        The columns whose distinct combinations are counted.
    weights:
        Name of the count column in the result. If the summary already has it (it is itself
        compressed) its values are summed rather than rows counted.

    Returns
    -------
    ``columns`` plus ``weights``, one row per distinct combination, sorted by ``columns``: the
    caller's kind of table for eager input (a dict of numpy arrays for a mapping), the engine's
    collected frame for a lazy one (pandas for dask, pyarrow for duckdb, polars for polars).

    Examples
    --------
    >>> s = {"frequency": [0, 2, 0, 2], "recency": [0.0, 3.0, 0.0, 3.0], "T": [5.0, 6.0, 5.0, 6.0]}
    >>> h = distinct_histories(s)
    >>> h["frequency"].tolist(), h["T"].tolist(), h["weights"].tolist()
    ([0, 2], [5.0, 6.0], [2, 2])
    """
    if isinstance(columns, str):
        raise ArgumentError(
            f"columns must be a list of column names, got the text {columns!r}; for one column "
            f"pass [{columns!r}]",
            field="columns",
        )
    names = [
        check_text(v, key_path("columns", i))
        for i, v in enumerate(check_sequence(columns, "columns"))
    ]
    check_text(weights, "weights")
    if not names or len(set(names)) != len(names):
        raise ArgumentError(
            f"columns={list(columns)!r} must name one or more distinct columns", field="columns"
        )
    if weights in names:
        raise ArgumentError(f"weights={weights!r} is also one of the columns", field="weights")
    if is_lazy(summary):
        return _distinct_lazy(read_lazy(summary, name="summary"), names, weights)
    table = read_table(summary, name="summary")
    table.require(*names)
    if table.n_rows == 0:
        raise DataError("summary is empty: it needs at least one customer row")
    values = []
    for name in names:
        checked = table.numbers(name)
        raw = table.raw(name)
        values.append(raw if raw.dtype.kind in "iu" else checked)
    counted = weights in table.columns
    w = table.numbers(weights, min_value=0.0) if counted else None
    key = np.zeros(table.n_rows, dtype=np.int64)
    for v in values:
        uniq, inverse = np.unique(v, return_inverse=True)
        key = key * len(uniq) + inverse.reshape(-1)
    distinct, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    sums = np.bincount(inverse.reshape(-1), weights=w, minlength=len(distinct))
    out: dict[str, Any] = {name: v[first] for name, v in zip(names, values, strict=True)}
    out[weights] = sums if counted else sums.astype(np.int64)
    return table.result(out)


def _distinct_lazy(table: LazyTable, names: list[str], weights: str) -> Any:
    table.require(*names)
    for name in names:
        table.numeric(name)
    frame = table.frame
    if weights in table.schema:
        frame = frame.select(*names, table.numeric(weights).alias(weights))
        count = nw.col(weights).sum()
    else:
        count = nw.len().alias(weights)
    found = (
        frame.group_by(*names)
        .agg(count)
        .with_columns(nw.col(weights).cast(nw.Float64 if weights in table.schema else nw.Int64))
        .sort(*names)
        .collect()
    )
    if len(found) == 0:
        raise DataError("summary is empty: it needs at least one customer row")
    for name in names:
        column = found.get_column(name)
        bad = column.is_null() | ~column.cast(nw.Float64).is_finite()
        if bad.any():
            raise DataError(
                f"column {name!r} of the summary has null or non-finite values; every "
                "customer needs a finite value",
                field=name,
            )
    return found.to_native()
