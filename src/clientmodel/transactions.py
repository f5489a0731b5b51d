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

from collections.abc import Sequence
from typing import Any, Literal

import narwhals.stable.v2 as nw
import numpy as np
from numpy.typing import NDArray

from clientmodel.errors import ArgumentError, DataError, describe_rows
from clientmodel.periods import (
    UNIT_DAYS,
    as_of_value,
    duration_in_units,
    parse_unit,
    period_start,
)
from clientmodel.tables import LazyTable, LazyTimestamps, Table, is_lazy, read_lazy, read_table

__all__ = ["calibration_holdout", "distinct_histories", "summarize"]

AfterAsOf = Literal["error", "exclude"]


class _EmptyWindow(DataError):
    """No purchase falls in the window (a partition may legitimately have none)."""


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
        Timezone of naive timestamps (naive timestamps are rejected without it).
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
            after_as_of=after_as_of,
        )
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
        raise _EmptyWindow("no purchase falls in the window: the summary would be empty")
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
    key = _period_key(np.array([end]), merge)[0]
    if merge is None:
        return int(key.astype("datetime64[us]").astype(np.int64))
    return int(key.astype("datetime64[D]").astype(np.int64))


def _lazy_duration(delta: nw.Expr, unit: str, merge: str | None) -> nw.Expr:
    """Integer key differences in ``unit``, with the eager path's floating-point operations."""
    days = delta.cast(nw.Float64)
    if merge is None:
        days = days / float(_US_PER_DAY)
    return days / UNIT_DAYS[parse_unit(unit)]


_US_PER_DAY = 86_400_000_000


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
    table.require(customer, time, *([amount] if amount else []))
    parse_unit(unit)
    if merge is not None:
        parse_unit(merge, field="merge")
    if after_as_of not in ("error", "exclude"):
        raise ArgumentError(
            f"after_as_of={after_as_of!r}; use 'error' or 'exclude'", field="after_as_of"
        )
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
        raise _EmptyWindow("no purchase falls in the window: the summary would be empty")
    if found["refunds"]:
        _check_refunds(table, customer, kept, value)
    excluding = bool(found["after"])  # only with after_as_of="exclude"
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
        ts.output(nw.col("_fp")).alias("first_purchase"),
        ts.output(nw.col("_lp")).alias("last_purchase"),
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
    return table.result(people.select(*out))


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
    names = list(columns)
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
