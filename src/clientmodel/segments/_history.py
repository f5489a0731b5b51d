"""Purchase histories read from a transaction log, merged to calendar days.

Every segments function that starts from a transaction log goes through :func:`read_history`:
it reads the caller's table once, keeps the purchases up to ``as_of`` and merges purchases made
by one customer on one calendar day into one order (the convention of
:func:`clientmodel.transactions.summarize` with ``merge="D"``). The functions with a lazy face
read a lazy log through :func:`read_lazy_history`, which makes the same checks on the engine.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import narwhals.stable.v2 as nw
import numpy as np
from dateutil.relativedelta import relativedelta
from numpy.typing import NDArray

from clientmodel.errors import ArgumentError
from clientmodel.periods import as_of_value, parse_unit, relative_delta
from clientmodel.tables import LazyTable, LazyTimestamps, Table, read_lazy, read_table

__all__: list[str] = []

_I64 = NDArray[np.int64]
_F64 = NDArray[np.float64]


@attrs.frozen
class History:
    """Distinct purchase days per customer, sorted by (customer, day).

    ``ids`` are the customers (sorted); ``row_customer`` indexes ``ids`` for every merged order;
    ``day`` is the order's calendar day (days since 1970-01-01); ``amount`` the order's total
    (zeros when the log has no amount column); ``as_of_day`` the day of ``as_of``.
    """

    ids: NDArray[Any]
    row_customer: _I64
    day: _I64
    amount: _F64
    as_of_day: int
    table: Table

    @property
    def n_customers(self) -> int:
        return len(self.ids)

    def starts(self) -> _I64:
        """Index of each customer's first order in the row arrays."""
        if len(self.row_customer) == 0:
            return np.zeros(0, dtype=np.int64)
        out = np.flatnonzero(np.r_[True, self.row_customer[1:] != self.row_customer[:-1]])
        return np.asarray(out, dtype=np.int64)

    def first_day(self) -> _I64:
        return self.day[self.starts()]

    def last_day(self) -> _I64:
        if len(self.day) == 0:
            return np.zeros(0, dtype=np.int64)
        ends = np.asarray(np.append(self.starts()[1:], len(self.day)) - 1, dtype=np.int64)
        out: _I64 = self.day[ends]
        return out

    def n_orders(self) -> _I64:
        return np.bincount(self.row_customer, minlength=self.n_customers).astype(np.int64)

    def revenue(self) -> _F64:
        out = np.bincount(self.row_customer, weights=self.amount, minlength=self.n_customers)
        return np.asarray(out, dtype=np.float64)


def read_history(
    transactions: Any,
    *,
    as_of: Any,
    customer: str,
    time: str,
    amount: str | None,
    tz: str | None,
) -> History:
    """Read a transaction log into a :class:`History` of the purchases made up to ``as_of``."""
    table = read_table(transactions, name="transactions")
    cols = [customer, time] + ([amount] if amount is not None else [])
    table.require(*cols)
    all_codes, uniques = table.factorize(customer)
    stamps = table.timestamps(time, tz=tz)
    cutoff = as_of_value(as_of, tz=stamps.tz)
    keep = stamps.values <= cutoff
    money: _F64 = (
        table.numbers(amount, kind="float") if amount is not None else np.zeros(table.n_rows)
    )
    # Customers whose every purchase is after as_of are left out: renumber the rest.
    present = np.bincount(all_codes[keep], minlength=len(uniques)) > 0
    ids = uniques[present]
    code = (np.cumsum(present) - 1)[all_codes[keep]].astype(np.int64)
    day = stamps.values[keep].astype("datetime64[D]").astype(np.int64)
    money = money[keep]
    # Merge same-day purchases of a customer: one key per (customer, day).
    if len(day):
        base = int(day.min())
        span = int(day.max()) - base + 1
        key = code * span + (day - base)
        ukey, kinv = np.unique(key, return_inverse=True)
        row_customer = (ukey // span).astype(np.int64)
        row_day = (ukey % span + base).astype(np.int64)
        row_amount = np.asarray(
            np.bincount(kinv.ravel(), weights=money, minlength=len(ukey)), dtype=np.float64
        )
    else:
        row_customer = np.zeros(0, dtype=np.int64)
        row_day = np.zeros(0, dtype=np.int64)
        row_amount = np.zeros(0)
    as_of_day = int(cutoff.astype("datetime64[D]").astype(np.int64))
    return History(ids, row_customer, row_day, row_amount, as_of_day, table)


@attrs.frozen
class LazyHistory:
    """The purchases of a lazy log up to ``as_of``, validated, as expressions on its engine.

    ``purchases`` is the caller's frame filtered to rows at or before ``as_of``; ``times`` and
    ``value`` (the amount as ``Float64``, 0 without an amount column) are expressions on it;
    ``as_of_day`` is the day of ``as_of`` (days since 1970-01-01).
    """

    purchases: nw.LazyFrame[Any]
    times: LazyTimestamps
    value: nw.Expr
    as_of_day: int
    table: LazyTable


def read_lazy_history(
    transactions: Any,
    *,
    as_of: Any,
    customer: str,
    time: str,
    amount: str | None,
    tz: str | None,
) -> LazyHistory:
    """:func:`read_history`'s checks for a lazy log: one aggregate query, no data collected."""
    table = read_lazy(transactions, name="transactions")
    table.require(customer, time, *([amount] if amount else []))
    times = table.timestamps(time, tz=tz)
    value = table.numeric(amount) if amount else nw.lit(0.0)
    cutoff = as_of_value(as_of, tz=times.tz)
    table.check(ids=[customer], times=[time], numbers=[amount] if amount else [])
    as_of_day = int(cutoff.astype("datetime64[D]").astype(np.int64))
    purchases = table.frame.filter(times.at_or_before(cutoff))
    return LazyHistory(purchases, times, value, as_of_day, table)


def as_delta(value: Any, *, field: str) -> relativedelta:
    """A window given as a relativedelta, a number of days or text such as ``"3M"`` / ``"90D"``."""
    if isinstance(value, relativedelta):
        delta = value
    elif isinstance(value, dt.timedelta):
        delta = relativedelta(days=value.days)
    elif isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        delta = relativedelta(days=int(value))
    elif isinstance(value, str) and value.strip()[:-1].isdigit():
        text = value.strip()
        delta = relative_delta(int(text[:-1]), parse_unit(text[-1], field=field))
    else:
        raise ArgumentError(
            f"{field}={value!r} is not a window; use a dateutil relativedelta, a number of days "
            "or text such as '90D', '12W', '3M', '1Y'",
            field=field,
        )
    positive = delta.years > 0 or delta.months > 0 or delta.days > 0
    negative = delta.years < 0 or delta.months < 0 or delta.days < 0
    if delta.normalized() != delta or negative or not positive:
        raise ArgumentError(f"{field}={value!r} must be a positive window", field=field)
    if any(getattr(delta, a) for a in ("hours", "minutes", "seconds", "microseconds")):
        raise ArgumentError(f"{field}={value!r} must be whole days, weeks, months or years")
    return delta


def delta_to_dict(delta: relativedelta) -> dict[str, int]:
    """A relativedelta as a JSON-safe dict of its non-zero calendar fields."""
    return {k: int(getattr(delta, k)) for k in ("years", "months", "days") if getattr(delta, k)}


def day_minus(days: _I64, delta: relativedelta) -> _I64:
    """``day - delta`` on the calendar for day numbers (few distinct values expected)."""
    uniq, inv = np.unique(days, return_inverse=True)
    epoch = dt.date(1970, 1, 1)
    out = np.array(
        [((epoch + dt.timedelta(days=int(d))) - delta - epoch).days for d in uniq],
        dtype=np.int64,
    )
    return out[inv.ravel()]
