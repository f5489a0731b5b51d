"""From a transaction log to the customer summary: the sufficient statistics of the BTYD models.

One row per customer:

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

Rows on the same calendar period of ``merge`` (a day by default, the convention of the BTYD
literature) count as one purchase whose value is their sum; ``merge=None`` counts every row.
Durations are measured between the starts of merged periods, so a customer whose first purchase
is on 1 January 1997 has ``T = 272 / 7`` weeks as of 30 September 1997 whatever the hour.

Refunds: a row with a negative amount is a refund. It is netted into ``revenue`` but is never a
purchase: it does not create a period, move ``recency`` or enter ``monetary_value``.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from clientmodel.errors import ArgumentError, DataError, describe_rows
from clientmodel.periods import as_of_value, duration_in_units, parse_unit, period_start
from clientmodel.tables import Table, read_table

__all__ = ["calibration_holdout", "summarize"]

AfterAsOf = Literal["error", "exclude"]


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
        transaction.
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
        Timezone of naive timestamps (naive timestamps are rejected without it).
    after_as_of:
        ``"error"`` (default) rejects transactions after ``as_of``; ``"exclude"`` leaves them out
        and reports how many per customer in an ``excluded_after_as_of`` column.

    Returns
    -------
    The caller's kind of table (a dict of numpy arrays for a mapping), sorted by customer.

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
    """
    table = read_table(transactions, name="transactions")
    log = _read_log(table, customer=customer, time=time, amount=amount, tz=tz, merge=merge)
    parse_unit(unit)
    end = as_of_value(as_of, tz=log.tz)
    after = log.times > end
    out: dict[str, NDArray[Any]] = {}
    if after.any():
        if after_as_of == "error":
            raise _after_error(log, after, "as_of", as_of)
        if after_as_of != "exclude":
            raise ArgumentError(
                f"after_as_of={after_as_of!r}; use 'error' or 'exclude'", field="after_as_of"
            )
    stats = _customer_stats(log, ~after, end, unit=unit, merge=merge)
    out = {customer: stats.pop("customer"), **stats}
    if after_as_of == "exclude":
        codes = np.searchsorted(log.customers, out[customer])
        counts = np.bincount(log.codes[after], minlength=len(log.customers))
        out["excluded_after_as_of"] = counts[codes]
    return table.result(out, tz=log.tz)


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
    the holdout, 0 without one).

    Examples
    --------
    >>> log = {"customer_id": ["a", "a", "a", "b"],
    ...        "timestamp": ["2024-01-01", "2024-01-15", "2024-02-05", "2024-01-08"]}
    >>> s = calibration_holdout(log, calibration_end="2024-01-28", holdout_end="2024-02-25",
    ...                         unit="W")
    >>> s["frequency"].tolist(), s["frequency_holdout"].tolist(), s["duration_holdout"].tolist()
    ([1, 0], [1, 0], [4.0, 4.0])
    """
    table = read_table(transactions, name="transactions")
    log = _read_log(table, customer=customer, time=time, amount=amount, tz=tz, merge=merge)
    parse_unit(unit)
    cal_end = as_of_value(calibration_end, tz=log.tz, field="calibration_end")
    hold_end = as_of_value(holdout_end, tz=log.tz, field="holdout_end")
    if hold_end <= cal_end:
        raise ArgumentError(
            f"holdout_end={holdout_end!r} must be after calibration_end={calibration_end!r}",
            field="holdout_end",
        )
    after = log.times > hold_end
    if after.any() and after_as_of == "error":
        raise _after_error(log, after, "holdout_end", holdout_end)
    calibration = log.times <= cal_end
    stats = _customer_stats(log, calibration, cal_end, unit=unit, merge=merge)
    members = np.searchsorted(log.customers, stats["customer"])
    in_holdout = ~calibration & ~after & log.purchase
    key = _period_key(log.times[in_holdout], merge)
    codes = log.codes[in_holdout]
    holdout_count: NDArray[np.int64] = np.zeros(len(log.customers), dtype=np.int64)
    holdout_value: NDArray[np.float64] = np.zeros(len(log.customers))
    if len(codes):
        order = np.lexsort((key, codes))
        codes_s, key_s = codes[order], key[order]
        new = np.r_[True, (codes_s[1:] != codes_s[:-1]) | (key_s[1:] != key_s[:-1])]
        holdout_count = np.bincount(codes_s[new], minlength=len(log.customers)).astype(np.int64)
        if log.amounts is not None:
            holdout_value = np.bincount(
                codes, weights=log.amounts[in_holdout], minlength=len(log.customers)
            ).astype(np.float64)
    span = _period_key(np.array([hold_end]), merge) - _period_key(np.array([cal_end]), merge)
    out: dict[str, NDArray[Any]] = {customer: stats.pop("customer"), **stats}
    n = holdout_count[members]
    out["frequency_holdout"] = n
    out["duration_holdout"] = np.full(len(members), duration_in_units(span, unit)[0])
    if log.amounts is not None:
        value = holdout_value[members]
        with np.errstate(invalid="ignore", divide="ignore"):
            out["monetary_value_holdout"] = np.where(n > 0, value / np.maximum(n, 1), 0.0)
    return table.result(out, tz=log.tz)


class _Log:
    """The log as aligned numpy arrays; customers factorised into sorted codes."""

    def __init__(
        self,
        customers: NDArray[Any],
        codes: NDArray[np.int64],
        times: NDArray[np.datetime64],
        amounts: NDArray[np.float64] | None,
        tz: str | None,
        time_column: str,
    ) -> None:
        self.customers = customers
        self.codes = codes
        self.times = times
        self.amounts = amounts
        self.tz = tz
        self.time_column = time_column
        # A refund (negative amount) is never a purchase.
        self.purchase = np.ones(len(codes), dtype=bool) if amounts is None else amounts >= 0


def _read_log(
    table: Table, *, customer: str, time: str, amount: str | None, tz: str | None, merge: str | None
) -> _Log:
    table.require(customer, time, *([amount] if amount else []))
    if table.n_rows == 0:
        raise DataError("transactions is empty: it needs at least one row", field=customer)
    if merge is not None:
        parse_unit(merge, field="merge")
    codes, customers = table.factorize(customer)
    stamps = table.timestamps(time, tz=tz)
    amounts = table.numbers(amount) if amount else None
    return _Log(customers, codes, stamps.values, amounts, stamps.tz, time)


def _period_key(times: NDArray[np.datetime64], merge: str | None) -> NDArray[np.datetime64]:
    if merge is None:
        return times.astype("datetime64[us]")
    return period_start(times, merge).astype("datetime64[us]")


def _customer_stats(
    log: _Log, keep: NDArray[np.bool_], end: np.datetime64, *, unit: str, merge: str | None
) -> dict[str, NDArray[Any]]:
    """Per-customer statistics over the kept rows (vectorised: sort once, reduce at breaks)."""
    rows = keep & log.purchase
    codes, times = log.codes[rows], log.times[rows]
    n = len(log.customers)
    refund_only = np.flatnonzero(
        (np.bincount(log.codes[keep], minlength=n) > 0) & (np.bincount(codes, minlength=n) == 0)
    )
    if len(refund_only):
        raise DataError(
            f"{len(refund_only)} customer(s) have refunds (negative amounts) but no purchase in "
            f"the window: {[_plain(c) for c in log.customers[refund_only[:5]]]}; "
            "a refund needs its purchase in the log (filter these customers out first)",
            field="amount",
        )
    if len(codes) == 0:
        raise DataError("no purchase falls in the window: the summary would be empty")
    key = _period_key(times, merge)
    order = _sort_order(codes, times)
    if order is not None:
        codes, key, times = codes[order], key[order], times[order]
    new_period = np.r_[True, (codes[1:] != codes[:-1]) | (key[1:] != key[:-1])]
    p_start = np.flatnonzero(new_period)
    p_codes, p_key = codes[p_start], key[p_start]
    new_customer = np.r_[True, p_codes[1:] != p_codes[:-1]]
    c_first = np.flatnonzero(new_customer)
    c_last = np.r_[c_first[1:], len(p_codes)] - 1
    orders = np.diff(np.r_[c_first, len(p_codes)])
    first_key, last_key = p_key[c_first], p_key[c_last]
    end_key = _period_key(np.array([end]), merge)[0]
    row_last = np.flatnonzero(np.r_[codes[1:] != codes[:-1], True])
    c_first_row = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    out: dict[str, NDArray[Any]] = {
        "customer": log.customers[p_codes[c_first]],
        "frequency": (orders - 1).astype(np.int64),
        "recency": duration_in_units(last_key - first_key, unit),
        "T": duration_in_units(end_key - first_key, unit),
        "orders": orders.astype(np.int64),
        "first_purchase": _as_dates(times[c_first_row], log.tz),
        "last_purchase": _as_dates(times[row_last], log.tz),
    }
    if log.amounts is not None:
        amounts = log.amounts[rows] if order is None else log.amounts[rows][order]
        p_value = np.add.reduceat(amounts, p_start)
        total = np.add.reduceat(p_value, c_first)
        repeat = total - p_value[c_first]
        freq = out["frequency"]
        out["monetary_value"] = np.where(freq > 0, repeat / np.maximum(freq, 1), 0.0)
        members = p_codes[c_first]
        net = np.bincount(log.codes[keep], weights=log.amounts[keep], minlength=len(log.customers))
        out["revenue"] = net[members]
    return out


def _as_dates(times: NDArray[Any], tz: str | None) -> NDArray[Any]:
    # A log without a timezone holds calendar dates: hand them back as dates, not naive datetimes.
    return times if tz is not None else times.astype("datetime64[D]")


def _sort_order(codes: NDArray[np.int64], times: NDArray[Any]) -> NDArray[np.intp] | None:
    """Order by customer then time; ``None`` when the log is already in that order (common)."""
    same = codes[1:] == codes[:-1]
    if np.all(codes[1:] >= codes[:-1]) and np.all(times[1:][same] >= times[:-1][same]):
        return None
    return np.lexsort((times, codes))


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _after_error(log: _Log, after: NDArray[np.bool_], field: str, value: Any) -> DataError:
    rows = np.flatnonzero(after)
    return DataError(
        f"{len(rows)} transaction(s) fall after {field}={value!r}: "
        f"{describe_rows(rows[:5], [str(t) for t in log.times[rows[:5]]])}; "
        f"pass a later {field}, or "
        "after_as_of='exclude' to leave them out (counted per customer)",
        field=log.time_column,
        rows=rows[:5].tolist(),
    )
