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

A lazy log (dask, duckdb, polars ``LazyFrame``) is aggregated on its engine: only the
cohort x period cells are collected. On dask the log is first shuffled by customer and each
partition's cells are counted in memory, then added up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from clientmodel.errors import ArgumentError
from clientmodel.periods import parse_unit
from clientmodel.segments._history import LazyHistory, read_history, read_lazy_history
from clientmodel.tables import LazyTimestamps, is_lazy

__all__ = ["CohortTable", "cohort_table", "period_index"]

_FORMAT = 1


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

    Examples
    --------
    >>> log = {"customer_id": [1, 1, 2], "timestamp": ["2024-01-05", "2024-02-07", "2024-02-01"]}
    >>> ct = cohort_table(log, as_of="2024-02-29", unit="M")
    >>> ct.retention.tolist()
    [[1.0, 1.0], [1.0, nan]]
    """

    unit: str
    cohorts: NDArray[np.datetime64]
    sizes: NDArray[np.int64]
    active: NDArray[np.int64]
    revenue: NDArray[np.float64]
    observed: NDArray[np.bool_]

    @property
    def retention(self) -> NDArray[np.float64]:
        """Share of each cohort buying in each period since acquisition (NaN if unobserved)."""
        out = self.active / self.sizes[:, None].astype(np.float64)
        return np.where(self.observed, out, np.nan)

    @property
    def revenue_observed(self) -> NDArray[np.float64]:
        """Revenue per cell with unobserved cells as NaN."""
        return np.where(self.observed, self.revenue, np.nan)

    def rows(self) -> dict[str, NDArray[Any]]:
        """The table in long form (observed cells only), one row per cohort and period.

        Examples
        --------
        >>> log = {"customer_id": [1, 2], "timestamp": ["2024-01-05", "2024-02-01"]}
        >>> cohort_table(log, as_of="2024-02-29", unit="M").rows()["period"].tolist()
        [0, 1, 0]
        """
        c, p = np.nonzero(self.observed)
        return {
            "cohort": self.cohorts[c],
            "period": p.astype(np.int64),
            "size": self.sizes[c],
            "active": self.active[c, p],
            "retention": self.retention[c, p],
            "revenue": self.revenue[c, p],
        }

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
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CohortTable:
        """Rebuild from :meth:`to_dict` output.

        Examples
        --------
        >>> CohortTable.from_dict({"unit": "M", "cohorts": ["2024-01-01"], "sizes": [2],
        ...     "active": [[2]], "revenue": [[9.5]], "observed": [[True]]}).retention.tolist()
        [[1.0]]
        """
        try:
            n = len(data["cohorts"])
            return cls(
                parse_unit(data["unit"]),
                np.array(data["cohorts"], dtype="datetime64[D]"),
                np.array(data["sizes"], dtype=np.int64),
                np.array(data["active"], dtype=np.int64).reshape(n, -1),
                np.array(data["revenue"], dtype=np.float64).reshape(n, -1),
                np.array(data["observed"], dtype=bool).reshape(n, -1),
            )
        except KeyError as exc:
            raise ArgumentError(f"cohort table description lacks {exc}", field=str(exc)) from exc


def cohort_table(
    transactions: Any,
    *,
    as_of: Any,
    unit: str = "M",
    customer: str = "customer_id",
    time: str = "timestamp",
    amount: str | None = None,
    tz: str | None = None,
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
        lazy = read_lazy_history(
            transactions, as_of=as_of, customer=customer, time=time, amount=amount, tz=tz
        )
        return _cohort_table_lazy(lazy, unit=u, customer=customer)
    hist = read_history(
        transactions, as_of=as_of, customer=customer, time=time, amount=amount, tz=tz
    )
    if hist.n_customers == 0:
        return _empty(u)
    idx = period_index(hist.day, u)
    first_idx = period_index(hist.first_day(), u)
    cohort_ids, cust_cohort = np.unique(first_idx, return_inverse=True)
    cust_cohort = cust_cohort.ravel()
    n_c = len(cohort_ids)
    offset = idx - first_idx[hist.row_customer]
    asof_idx = int(period_index(np.array([hist.as_of_day], dtype=np.int64), u)[0])
    n_p = int(asof_idx - cohort_ids.min()) + 1
    row_cohort = cust_cohort[hist.row_customer]
    # Distinct (customer, period) pairs: a customer counts once per period.
    pair = hist.row_customer * n_p + offset
    _, first_of_pair = np.unique(pair, return_index=True)
    cell = row_cohort * n_p + offset
    active = np.bincount(cell[first_of_pair], minlength=n_c * n_p).reshape(n_c, n_p)
    revenue = np.bincount(cell, weights=hist.amount, minlength=n_c * n_p).reshape(n_c, n_p)
    observed = np.arange(n_p)[None, :] <= (asof_idx - cohort_ids)[:, None]
    sizes = np.bincount(cust_cohort, minlength=n_c)
    return CohortTable(
        u,
        _index_start(cohort_ids.astype(np.int64), u),
        sizes.astype(np.int64),
        active.astype(np.int64),
        revenue.astype(np.float64),
        observed,
    )


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
    (``_c``, ``_p``, ``_v``) holding whole customers."""
    import narwhals.stable.v2 as nw

    return (
        frame.group_by("_c", "_p")
        .agg(nw.col("_v").sum())
        .with_columns(nw.col("_p").min().over("_c").alias("_first"))
        .group_by("_first", "_p")
        .agg(nw.len().alias("_active"), nw.col("_v").sum().alias("_revenue"))
    )


def _partition_cells(part: Any) -> Any:
    """The cells of one customer-shuffled pandas partition (runs on dask workers)."""
    import narwhals.stable.v2 as nw

    return _cells(nw.from_native(part, eager_only=True)).to_native()


def _cohort_table_lazy(lazy: LazyHistory, *, unit: str, customer: str) -> CohortTable:
    import narwhals.stable.v2 as nw

    rows = lazy.purchases.select(
        nw.col(customer).alias("_c"),
        _lazy_period_index(lazy.times, unit).alias("_p"),
        lazy.value.alias("_v"),
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
    asof_idx = int(period_index(np.array([lazy.as_of_day], dtype=np.int64), unit)[0])
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
