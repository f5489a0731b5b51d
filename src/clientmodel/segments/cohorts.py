"""Acquisition cohort tables: retention and revenue by periods since acquisition.

A customer's *cohort* is the calendar period (day, ISO week starting Monday, month, quarter or
year) of their first purchase. Period $p$ of a cohort is the $p$-th calendar period after the
cohort's own ($p = 0$ is the acquisition period). For cohort $c$ of size $n_c$:

$$ \\text{retention}_{c,p} = \\frac{\\#\\{\\text{customers of } c
   \\text{ with a purchase in period } p\\}}{n_c}, \\qquad
   \\text{revenue}_{c,p} = \\sum \\text{amounts of } c \\text{ in period } p. $$

Cells that lie after the period of ``as_of`` have not been observed and are ``NaN`` (not 0): a
young cohort has fewer observed periods. Retention in period 0 is 1 by construction. The period
containing ``as_of`` is observed only up to ``as_of`` (it may be partial).

The log is read by :func:`clientmodel.transactions.customer_history`: a refund (negative amount)
never makes a customer active in a period; it is netted into the revenue of the period it
happens in (of period 0 if it precedes the customer's first purchase). Rows after ``as_of`` are
an error unless ``after_as_of="exclude"``; an empty window is an error, not an empty table.

A lazy log (dask, duckdb, polars ``LazyFrame``) is aggregated on its engine: only the
cohort x period cells are collected. On dask the log is first shuffled by customer and each
partition's cells are counted in memory, then added up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import attrs
import numpy as np
from numpy.typing import NDArray

from clientmodel._validation import (
    boundary,
    check_bool,
    check_choice,
    check_integer,
    check_number,
    check_sequence,
    check_text,
    key_path,
    read_form,
)
from clientmodel.errors import ArgumentError
from clientmodel.periods import parse_unit
from clientmodel.segments._windows import finite_sums
from clientmodel.tables import LazyTimestamps, Table, is_lazy, read_lazy
from clientmodel.transactions import (
    AfterAsOf,
    CustomerHistory,
    _LazyLog,
    _read_lazy_log,
    customer_history,
)

__all__ = ["CohortTable", "cohort_table", "period_index"]

_FORMAT = 1
_BACKENDS = ("pandas", "polars", "pyarrow")
_ARRAY_EQ = attrs.cmp_using(eq=np.array_equal)  # equal shapes and values


def _read_only(value: Any) -> NDArray[Any]:
    # A read-only copy: a frozen table shares no writable array with its caller.
    out = np.array(value)
    out.setflags(write=False)
    return out


@boundary
def period_index(days: NDArray[np.int64], unit: str) -> NDArray[np.int64]:
    """Calendar period number of day numbers (days since 1970-01-01) in ``unit``.

    Consecutive periods have consecutive numbers, so the difference of two indices counts the
    periods between them. Weeks start on Monday.

    Examples
    --------
    >>> d = np.array(["2024-01-31", "2024-02-01"], dtype="datetime64[D]").astype(np.int64)
    >>> (period_index(d, "M") - period_index(d[:1], "M")).tolist()
    [0, 1]
    """
    u = parse_unit(unit)
    d = np.asarray(days, dtype=np.int64)
    if u == "D":
        return d
    if u == "W":
        # 1970-01-01 was a Thursday; shifting by 3 makes weeks start on Monday.
        return np.asarray((d + 3) // 7, dtype=np.int64)
    months = d.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    if u == "M":
        return np.asarray(months, dtype=np.int64)
    if u == "Q":
        return np.asarray(months // 3, dtype=np.int64)
    return np.asarray(months // 12, dtype=np.int64)


def _index_start(index: NDArray[np.int64], unit: str) -> NDArray[np.datetime64]:
    u = parse_unit(unit)
    if u == "D":
        return index.astype("datetime64[D]")
    if u == "W":
        return (index * 7 - 3).astype("datetime64[D]")
    months = index * {"M": 1, "Q": 3, "Y": 12}[u]
    return months.astype("datetime64[M]").astype("datetime64[D]")


@attrs.frozen
class CohortTable:
    """Cohort x period counts and revenue (see the module notes for the definitions).

    Attributes
    ----------
    unit:
        Period unit (``D W M Q Y``).
    cohorts:
        Start date of each cohort's period (``datetime64[D]``), ascending.
    sizes:
        Customers acquired in each cohort.
    active:
        ``active[c, p]``: customers of cohort ``c`` with a purchase in period ``p``.
    revenue:
        ``revenue[c, p]``: amount spent by cohort ``c`` in period ``p`` (zeros without amounts).
    observed:
        Whether cell ``[c, p]`` lies at or before the period of ``as_of``.
    backend:
        The frame library of the log the table was built from (``"pandas"``, ``"polars"``,
        ``"pyarrow"``), or ``None`` for a mapping: :meth:`rows` answers in that kind.

    Examples
    --------
    >>> log = {"customer_id": [1, 1, 2], "timestamp": ["2024-01-05", "2024-02-07", "2024-02-01"]}
    >>> ct = cohort_table(log, as_of="2024-02-29", unit="M")
    >>> ct.retention.tolist()
    [[1.0, 1.0], [1.0, nan]]
    """

    unit: str
    cohorts: NDArray[np.datetime64] = attrs.field(converter=_read_only, eq=_ARRAY_EQ)
    sizes: NDArray[np.int64] = attrs.field(converter=_read_only, eq=_ARRAY_EQ)
    active: NDArray[np.int64] = attrs.field(converter=_read_only, eq=_ARRAY_EQ)
    revenue: NDArray[np.float64] = attrs.field(converter=_read_only, eq=_ARRAY_EQ)
    observed: NDArray[np.bool_] = attrs.field(converter=_read_only, eq=_ARRAY_EQ)
    backend: str | None = None

    _FORM: ClassVar[dict[str, Any]] = {
        "unit": lambda value, path: parse_unit(value, field=path),
        "cohorts": lambda value, path: _dates(value, path),
        "sizes": lambda value, path: _numbers(value, path, 1, np.int64),
        "active": lambda value, path: _numbers(value, path, 2, np.int64),
        "revenue": lambda value, path: _numbers(value, path, 2, np.float64),
        "observed": lambda value, path: _numbers(value, path, 2, np.bool_),
        "backend": lambda value, path: (
            None if value is None else check_choice(value, path, _BACKENDS)
        ),
    }

    def __attrs_post_init__(self) -> None:
        parse_unit(self.unit)
        n = len(self.cohorts)
        if self.cohorts.ndim != 1 or self.cohorts.dtype != np.dtype("datetime64[D]"):
            raise ArgumentError(
                f"cohorts must be a 1-D array of dates (datetime64[D]), got "
                f"{self.cohorts.dtype} of shape {self.cohorts.shape}",
                field="cohorts",
            )
        if n > 1 and not (self.cohorts[1:] > self.cohorts[:-1]).all():
            raise ArgumentError(
                "cohorts must be distinct dates in ascending order", field="cohorts"
            )
        if self.sizes.shape != (n,):
            raise ArgumentError(
                f"sizes must hold one count per cohort ({n}), got shape {self.sizes.shape}",
                field="sizes",
            )
        width = self.observed.shape[1] if self.observed.ndim == 2 else -1
        for name in ("observed", "active", "revenue"):
            grid = getattr(self, name)
            if grid.ndim != 2 or grid.shape[0] != n or grid.shape[1] != width:
                raise ArgumentError(
                    f"{name} must be a cohorts x periods grid of shape ({n}, {max(width, 0)}) "
                    f"like observed, got shape {grid.shape}",
                    field=name,
                )
        kinds = {"sizes": "iu", "active": "iu", "revenue": "iuf", "observed": "b"}
        for name, ok in kinds.items():
            if getattr(self, name).dtype.kind not in ok:
                raise ArgumentError(
                    f"{name} must hold "
                    + {"iu": "whole numbers", "iuf": "numbers", "b": "true/false values"}[ok]
                    + f", got {getattr(self, name).dtype}",
                    field=name,
                )
        if n and width > 0:  # observed is derived: the periods from each cohort's to as_of's
            unit = parse_unit(self.unit)
            idx = period_index(self.cohorts.astype(np.int64), unit)
            if not np.array_equal(_index_start(idx, unit), self.cohorts):
                raise ArgumentError(
                    f"cohorts must be the first days of their {unit} periods, got "
                    f"{[str(d) for d in self.cohorts[:3]]}",
                    field="cohorts",
                )
            last = idx[0] + width - 1 - idx  # the last observed period of each cohort
            if not np.array_equal(self.observed, np.arange(width)[None, :] <= last[:, None]):
                raise ArgumentError(
                    "observed must mark, per cohort, the periods from its own to the period of "
                    "as_of (all of the first cohort's, one fewer for each later period)",
                    field="observed",
                )
            for name in ("active", "revenue"):
                if (getattr(self, name)[~self.observed] != 0).any():
                    raise ArgumentError(
                        f"{name} must be 0 in unobserved cells (after as_of)", field=name
                    )
        if not np.isfinite(self.revenue).all():
            raise ArgumentError("revenue must hold finite amounts", field="revenue")
        if (self.sizes < 1).any():
            raise ArgumentError("sizes must be at least 1 (a cohort has customers)", field="sizes")
        if ((self.active < 0) | (self.active > self.sizes[:, None])).any():
            c, p = np.argwhere((self.active < 0) | (self.active > self.sizes[:, None]))[0]
            raise ArgumentError(
                f"active counts must be from 0 to the cohort's size; active[{c}][{p}] = "
                f"{self.active[c, p]} with size {self.sizes[c]}",
                field=f"active[{c}][{p}]",
            )
        if self.backend is not None and self.backend not in _BACKENDS:
            raise ArgumentError(
                f"backend must be one of {', '.join(_BACKENDS)} or None, got {self.backend!r}",
                field="backend",
            )

    @property
    def retention(self) -> NDArray[np.float64]:
        """Share of each cohort buying in each period since acquisition (NaN if unobserved)."""
        out = self.active / self.sizes[:, None].astype(np.float64)
        return np.where(self.observed, out, np.nan)

    @property
    def revenue_observed(self) -> NDArray[np.float64]:
        """Revenue per cell with unobserved cells as NaN."""
        return np.where(self.observed, self.revenue, np.nan)

    @boundary
    def rows(self) -> Any:
        """The table in long form (observed cells only), one row per cohort and period.

        Returns the kind of table the log was (a pandas, polars or pyarrow frame), or a dict
        of numpy arrays for a log given as a mapping.

        Examples
        --------
        >>> log = {"customer_id": [1, 2], "timestamp": ["2024-01-05", "2024-02-01"]}
        >>> cohort_table(log, as_of="2024-02-29", unit="M").rows()["period"].tolist()
        [0, 1, 0]
        """
        c, p = np.nonzero(self.observed)
        columns = {
            "cohort": self.cohorts[c],
            "period": p.astype(np.int64),
            "size": self.sizes[c],
            "active": self.active[c, p],
            "retention": self.retention[c, p],
            "revenue": self.revenue[c, p],
            "revenue_retention": self.revenue_retention[c, p],
        }
        if self.backend is None:
            return columns
        import narwhals.stable.v2 as nw

        frame = nw.from_dict(columns, backend=self.backend)  # type: ignore[arg-type]
        return frame.with_columns(nw.col("cohort").cast(nw.Date)).to_native()

    @property
    def revenue_retention(self) -> NDArray[np.float64]:
        """Each cell's revenue as a share of the cohort's period-0 revenue (NaN if unobserved
        or if period 0 had no revenue).

        Examples
        --------
        >>> log = {"customer_id": [1, 1], "amount": [10.0, 5.0],
        ...        "timestamp": ["2024-01-05", "2024-02-07"]}
        >>> cohort_table(log, as_of="2024-02-29", amount="amount").revenue_retention.tolist()
        [[1.0, 0.5]]
        """
        base = self.revenue[:, :1] if self.revenue.shape[1] else np.zeros((len(self.sizes), 1))
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(base != 0, self.revenue / np.where(base != 0, base, 1.0), np.nan)
        return np.asarray(np.where(self.observed, out, np.nan), dtype=np.float64)

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (ISO dates, nested lists) that :meth:`from_dict` rebuilds.

        Examples
        --------
        >>> log = {"customer_id": [1], "timestamp": ["2024-01-05"]}
        >>> ct = cohort_table(log, as_of="2024-01-31", unit="M")
        >>> CohortTable.from_dict(ct.to_dict()).sizes.tolist()
        [1]
        """
        return {
            "model": "CohortTable",
            "format": _FORMAT,
            "unit": self.unit,
            "cohorts": [str(d) for d in self.cohorts],
            "sizes": self.sizes.tolist(),
            "active": self.active.tolist(),
            "revenue": self.revenue.tolist(),
            "observed": self.observed.tolist(),
            "backend": self.backend,
        }

    @classmethod
    @boundary
    def from_dict(cls, data: Mapping[str, Any]) -> CohortTable:
        """Rebuild from :meth:`to_dict` output, checking shapes and consistency.

        Examples
        --------
        >>> CohortTable.from_dict({"unit": "M", "cohorts": ["2024-01-01"], "sizes": [2],
        ...     "active": [[2]], "revenue": [[9.5]], "observed": [[True]]}).retention.tolist()
        [[1.0]]
        """
        return read_form(cls, data)


def _dates(value: Any, path: str) -> NDArray[np.datetime64]:
    """ISO dates such as ``'2024-01-01'`` (errors name the first bad item)."""
    items = check_sequence(value, path)
    out = np.zeros(len(items), dtype="datetime64[D]")
    for i, item in enumerate(items):
        try:
            out[i] = np.datetime64(check_text(item, key_path(path, i)), "D")
        except ValueError:
            raise ArgumentError(
                f"{key_path(path, i)} must be an ISO date such as '2024-01-01', got {item!r}",
                field=key_path(path, i),
            ) from None
    return out


def _numbers(value: Any, path: str, ndim: int, dtype: Any) -> NDArray[Any]:
    """A list (``ndim=1``) or a list of equal-length lists (``ndim=2``) of ``dtype`` values."""
    readers: dict[Any, Callable[[Any, str], Any]] = {
        np.int64: check_integer,
        np.float64: check_number,
        np.bool_: check_bool,
    }
    read = readers[dtype]
    rows = check_sequence(value, path)
    if ndim == 1:
        return np.array([read(v, key_path(path, i)) for i, v in enumerate(rows)], dtype=dtype)
    cells = [
        [
            read(v, key_path(path, i, j))
            for j, v in enumerate(check_sequence(row, key_path(path, i)))
        ]
        for i, row in enumerate(rows)
    ]
    widths = sorted({len(r) for r in cells})
    if len(widths) > 1:
        raise ArgumentError(
            f"{path} must be rows of equal length, got rows of {widths[0]} and {widths[-1]}",
            field=path,
        )
    return np.array(cells, dtype=dtype).reshape(len(cells), widths[0] if widths else 0)


def _backend(table: Table) -> str | None:
    """The frame library results of ``table`` come back in (``None`` for a mapping)."""
    native = table.result({"_": np.zeros(0)})
    library = type(native).__module__.split(".")[0]
    return library if library in ("pandas", "polars", "pyarrow") else None


@boundary
def cohort_table(
    transactions: Any,
    *,
    as_of: Any,
    unit: str = "M",
    customer: str = "customer_id",
    time: str = "timestamp",
    amount: str | None = None,
    tz: str | None = None,
    after_as_of: AfterAsOf = "error",
) -> CohortTable:
    """Build the acquisition-cohort table of a transaction log as of a date.

    Parameters
    ----------
    transactions:
        One row per purchase; purchases after ``as_of`` are ignored.
    as_of:
        Last date that counts; cells after its period are unobserved.
    unit:
        Period unit: ``"D"``, ``"W"`` (ISO weeks), ``"M"``, ``"Q"`` or ``"Y"``.
    customer, time, amount:
        Column names (``amount`` optional: revenue is 0 without it).
    tz:
        Timezone of naive timestamps.
    after_as_of:
        ``"error"`` (default) or ``"exclude"`` for rows after ``as_of``.

    Examples
    --------
    >>> log = {"customer_id": ["a", "a", "b"], "amount": [5.0, 7.0, 3.0],
    ...        "timestamp": ["2024-01-01", "2024-01-09", "2024-01-08"]}
    >>> ct = cohort_table(log, as_of="2024-01-14", unit="W", amount="amount")
    >>> ct.active.tolist(), ct.revenue.tolist()
    ([[1, 1], [1, 0]], [[5.0, 7.0], [3.0, 0.0]])
    """
    u = parse_unit(unit)
    if is_lazy(transactions):
        lazy = _read_lazy_log(
            read_lazy(transactions, name="transactions"),
            as_of=as_of,
            customer=customer,
            time=time,
            amount=amount,
            tz=tz,
            after_as_of=after_as_of,
        )
        return _cohort_table_lazy(lazy, unit=u, customer=customer)
    hist = customer_history(
        transactions,
        as_of=as_of,
        customer=customer,
        time=time,
        amount=amount,
        tz=tz,
        after_as_of=after_as_of,
    )
    first_idx = period_index(hist.first_period, u)
    cohort_ids, cust_cohort = np.unique(first_idx, return_inverse=True)
    cust_cohort = cust_cohort.ravel()
    n_c = len(cohort_ids)
    asof_idx = int(period_index(np.array([hist.as_of_period], dtype=np.int64), u)[0])
    n_p = int(asof_idx - cohort_ids.min()) + 1
    # Active: distinct (customer, period) among the orders; a customer counts once per period.
    offset = period_index(hist.order_period, u) - first_idx[hist.order_customer]
    pair = hist.order_customer * n_p + offset
    _, first_of_pair = np.unique(pair, return_index=True)
    cell = cust_cohort[hist.order_customer] * n_p + offset
    active = np.bincount(cell[first_of_pair], minlength=n_c * n_p).reshape(n_c, n_p)
    revenue = _row_cells(hist, u, first_idx, cust_cohort, n_p).reshape(n_c, n_p)
    observed = np.arange(n_p)[None, :] <= (asof_idx - cohort_ids)[:, None]
    sizes = np.bincount(cust_cohort, minlength=n_c)
    return CohortTable(
        u,
        _index_start(cohort_ids.astype(np.int64), u),
        sizes.astype(np.int64),
        active.astype(np.int64),
        revenue.astype(np.float64),
        observed,
        _backend(hist.table),
    )


def _row_cells(
    hist: CustomerHistory,
    unit: str,
    first_idx: NDArray[np.int64],
    cust_cohort: NDArray[np.int64],
    n_p: int,
) -> NDArray[np.float64]:
    """Amounts (refunds netted) per cohort x period cell, flat; refunds before period 0 in it."""
    day = hist.row_time.astype("datetime64[D]").astype(np.int64)
    offset = np.maximum(period_index(day, unit) - first_idx[hist.row_customer], 0)
    cell = cust_cohort[hist.row_customer] * n_p + offset
    n = (int(cust_cohort.max()) + 1) * n_p
    with np.errstate(over="ignore", invalid="ignore"):
        sums = np.bincount(cell, weights=hist.row_amount, minlength=n)
    return finite_sums(np.asarray(sums, dtype=np.float64), "cohort revenue", hist.amount_column)


def _empty(u: str) -> CohortTable:
    empty = np.zeros((0, 0), dtype=np.int64)
    return CohortTable(
        u,
        np.zeros(0, dtype="datetime64[D]"),
        np.zeros(0, dtype=np.int64),
        empty,
        empty.astype(np.float64),
        empty.astype(bool),
    )


# --------------------------------------------------------------------------------------- lazy


def _lazy_period_index(ts: LazyTimestamps, u: str) -> Any:
    """:func:`period_index` as a narwhals expression."""
    import narwhals.stable.v2 as nw

    if u == "D":
        return ts.days()
    if u == "W":
        return (ts.days() + 3) // 7
    months = (ts.wall.dt.year().cast(nw.Int64) - 1970) * 12 + ts.wall.dt.month().cast(nw.Int64) - 1
    return {"M": months, "Q": months // 3, "Y": months // 12}[u]


def _cells(frame: Any) -> Any:
    """Cohort x period cells (``_first``, ``_p``, ``_active``, ``_revenue``) of rows
    (``_c``, ``_p``, ``_v``, ``_buy``) holding whole customers; refunds are never active."""
    import narwhals.stable.v2 as nw

    periods = (
        frame.group_by("_c", "_p")
        .agg(nw.col("_v").sum(), nw.col("_buy").max())
        .with_columns(nw.when(nw.col("_buy") > 0).then(nw.col("_p")).otherwise(_NEVER).alias("_bp"))
        .with_columns(nw.col("_bp").min().over("_c").alias("_first"))
        .with_columns(
            nw.when(nw.col("_p") < nw.col("_first"))
            .then(nw.col("_first"))
            .otherwise(nw.col("_p"))
            .alias("_p")
        )
    )
    return periods.group_by("_first", "_p").agg(
        nw.col("_buy").sum().alias("_active"), nw.col("_v").sum().alias("_revenue")
    )


_NEVER = 2**62


def _partition_cells(part: Any) -> Any:
    """The cells of one customer-shuffled pandas partition (runs on dask workers)."""
    import narwhals.stable.v2 as nw

    return _cells(nw.from_native(part, eager_only=True)).to_native()


def _cohort_table_lazy(lazy: _LazyLog, *, unit: str, customer: str) -> CohortTable:
    import narwhals.stable.v2 as nw

    value = lazy.value if lazy.value is not None else nw.lit(0.0)
    rows = lazy.table.frame.filter(lazy.kept).select(
        nw.col(customer).alias("_c"),
        _lazy_period_index(lazy.times, unit).alias("_p"),
        value.cast(nw.Float64).alias("_v"),
        (value >= 0).cast(nw.Int64).alias("_buy"),
    )
    native = rows.to_native()
    if nw.dependencies.is_dask_dataframe(native):
        # dask cannot run the window after a split_out group-by: shuffle, count, add up.
        import pandas as pd

        meta = pd.DataFrame(
            {
                "_first": pd.Series(dtype="int64"),
                "_p": pd.Series(dtype="int64"),
                "_active": pd.Series(dtype="int64"),
                "_revenue": pd.Series(dtype="float64"),
            }
        )
        shuffled = native.shuffle(on="_c", npartitions=native.npartitions)
        found = nw.from_native(
            shuffled.map_partitions(_partition_cells, meta=meta).compute(), eager_only=True
        )
    else:
        found = _cells(rows).collect()
    first = found.get_column("_first").to_numpy().astype(np.int64)
    period = found.get_column("_p").to_numpy().astype(np.int64)
    active = found.get_column("_active").to_numpy().astype(np.int64)
    revenue = found.get_column("_revenue").to_numpy().astype(np.float64)
    if not len(first):
        return _empty(unit)
    cohort_ids, cohort_of = np.unique(first, return_inverse=True)
    cohort_of = cohort_of.reshape(-1)
    as_of_day = int(lazy.end.astype("datetime64[D]").astype(np.int64))
    asof_idx = int(period_index(np.array([as_of_day], dtype=np.int64), unit)[0])
    n_c, n_p = len(cohort_ids), int(asof_idx - cohort_ids.min()) + 1
    offset = period - first
    cells = np.zeros((n_c, n_p), dtype=np.int64)
    money = np.zeros((n_c, n_p), dtype=np.float64)
    np.add.at(cells, (cohort_of, offset), active)
    np.add.at(money, (cohort_of, offset), revenue)
    observed = np.arange(n_p)[None, :] <= (asof_idx - cohort_ids)[:, None]
    return CohortTable(
        unit, _index_start(cohort_ids, unit), cells[:, 0].copy(), cells, money, observed
    )
