"""Acquisition value: what the customers brought in by each channel are worth.

For every acquisition source $s$ with customers $C_s$, revenue to date $R_s$, optional predicted
lifetime value $V_s = \\sum_{i \\in C_s} \\mathrm{CLV}_i$ and acquisition spend $K_s$:

$$ \\mathrm{ROI}_s = \\frac{g R_s - K_s}{K_s}, \\qquad
   \\mathrm{ROI}^{\\mathrm{CLV}}_s = \\frac{V_s - K_s}{K_s} $$

with gross margin $g$ (``margin``, default 1). The **payback period** is the smallest number of
periods $p$ after acquisition (each customer's own first purchase is period 0) such that the
margin on the revenue of periods $0..p$, summed over $C_s$, covers $K_s$; ``NaN`` when the data
up to ``as_of`` never covers it. Young customers have fewer observed periods, so a source
acquired mostly recently looks slower to pay back than it is.

The log is read by :func:`clientmodel.transactions.customer_history` (refunds netted into
revenue, never orders; rows after ``as_of`` an error unless ``after_as_of="exclude"``). Ids in
``sources`` and ``clv`` must be of the log's kind (numbers or text): ``1`` and ``"1"`` are not
silently two customers. Customers without a row in ``clv`` count 0 there and are reported in
``clv_missing``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from clientmodel._validation import boundary, check_number
from clientmodel.errors import ArgumentError, DataError
from clientmodel.segments._windows import finite_sums, same_ids
from clientmodel.segments.cohorts import period_index
from clientmodel.tables import read_table
from clientmodel.transactions import AfterAsOf, CustomerHistory, customer_history

__all__ = ["UNKNOWN_SOURCE", "acquisition_value"]

#: Source of customers who bought but are missing from the sources table.
UNKNOWN_SOURCE = "unknown"


def _lookup(keys: NDArray[Any], table_ids: NDArray[Any]) -> NDArray[np.int64]:
    """Position of each key in ``table_ids`` (-1 when absent)."""
    order = np.argsort(table_ids, kind="stable")
    sorted_ids = table_ids[order]
    pos = np.searchsorted(sorted_ids, keys)
    pos = np.clip(pos, 0, max(len(sorted_ids) - 1, 0))
    found = (sorted_ids[pos] == keys) if len(sorted_ids) else np.zeros(len(keys), dtype=bool)
    out = np.where(found, order[pos] if len(order) else 0, -1)
    return np.asarray(out, dtype=np.int64)


@boundary
def acquisition_value(
    transactions: Any,
    sources: Any,
    *,
    as_of: Any,
    costs: Mapping[str, float] | None = None,
    clv: Any = None,
    margin: float = 1.0,
    unit: str = "M",
    customer: str = "customer_id",
    time: str = "timestamp",
    amount: str = "amount",
    source: str = "source",
    clv_column: str = "clv",
    tz: str | None = None,
    after_as_of: AfterAsOf = "error",
) -> Any:
    """Customers, revenue, predicted CLV, ROI and payback per acquisition source.

    Parameters
    ----------
    transactions:
        One row per purchase (purchases after ``as_of`` are ignored).
    sources:
        One row per customer with the acquisition ``source``; customers listed here without a
        purchase count as acquired customers with no revenue. Buyers missing from it are
        grouped under :data:`UNKNOWN_SOURCE`. The result comes back in this table's kind.
    as_of:
        Last date that counts.
    costs:
        Total acquisition spend per source (sources not listed have no cost columns: NaN).
    clv:
        Optional table of predicted lifetime values (``customer`` and ``clv_column`` columns),
        e.g. the output of an LTV model.
    margin:
        Gross margin applied to revenue for ROI and payback (0 < margin <= 1).
    unit:
        Period unit of the payback period.
    customer, time, amount, source, clv_column, tz:
        Column names and the timezone of naive timestamps.
    after_as_of:
        ``"error"`` (default) or ``"exclude"`` for rows after ``as_of``.

    Returns
    -------
    Columns ``source``, ``customers``, ``buyers``, ``revenue``, ``revenue_per_customer``,
    ``clv``, ``clv_per_customer`` and ``clv_missing`` (customers with no row in the ``clv``
    table; with ``clv``), ``cost``, ``cost_per_customer``, ``roi``,
    ``clv_roi`` and ``payback_periods`` (with ``costs``).

    Examples
    --------
    >>> log = {"customer_id": [1, 1, 2], "amount": [60.0, 60.0, 10.0],
    ...        "timestamp": ["2024-01-10", "2024-02-10", "2024-01-20"]}
    >>> src = {"customer_id": [1, 2, 3], "source": ["ads", "ads", "seo"]}
    >>> out = acquisition_value(log, src, as_of="2024-03-31", costs={"ads": 100.0})
    >>> out["source"].tolist(), out["revenue"].tolist(), out["payback_periods"].tolist()
    (['ads', 'seo'], [130.0, 0.0], [1.0, nan])
    """
    margin = check_number(margin, "margin", minimum=0.0, maximum=1.0, exclusive_minimum=True)
    src = read_table(sources, name="sources")
    src.require(customer, source)
    src_ids = src.ids(customer)
    src_label = np.array([str(v) for v in src.ids(source)], dtype=object)
    hist = customer_history(
        transactions,
        as_of=as_of,
        customer=customer,
        time=time,
        amount=amount,
        tz=tz,
        after_as_of=after_as_of,
    )
    buyer_ids, src_ids = same_ids(
        hist.ids, f"transactions[{customer!r}]", src_ids, f"sources[{customer!r}]"
    )
    _, counts = np.unique(src_ids, return_counts=True)
    if (counts > 1).any():
        raise DataError(
            f"sources lists {int((counts > 1).sum())} customer(s) more than once; each customer "
            "has one acquisition source",
            field=customer,
        )
    # Every customer: those in sources plus buyers missing from it.
    pos = _lookup(buyer_ids, src_ids)
    extra = buyer_ids[pos < 0]
    all_ids = np.concatenate([src_ids, extra])
    all_src = np.concatenate([src_label, np.full(len(extra), UNKNOWN_SOURCE, dtype=object)])
    names, src_code = np.unique(all_src, return_inverse=True)
    src_code = src_code.ravel()
    n_s = len(names)
    cust_pos = _lookup(buyer_ids, all_ids)  # every buyer is now found
    buyer_src = src_code[cust_pos]
    customers_n = np.bincount(src_code, minlength=n_s)
    buyers = np.bincount(buyer_src, minlength=n_s)
    with np.errstate(over="ignore", invalid="ignore"):
        summed = np.bincount(buyer_src, weights=hist.revenue, minlength=n_s)
    revenue = finite_sums(np.asarray(summed, dtype=np.float64), "revenue per source", amount)
    cols: dict[str, Any] = {
        "source": names.astype(object),
        "customers": customers_n.astype(np.int64),
        "buyers": buyers.astype(np.int64),
        "revenue": revenue,
        "revenue_per_customer": revenue / np.maximum(customers_n, 1),
    }
    if clv is not None:
        ct = read_table(clv, name="clv")
        ct.require(customer, clv_column)
        values = ct.numbers(clv_column)
        keys, clv_ids = same_ids(all_ids, f"sources[{customer!r}]", ct.ids(customer), "clv")
        p = _lookup(keys, clv_ids)
        per = np.where(p >= 0, values[np.maximum(p, 0)] if len(values) else 0.0, 0.0)
        clv_sum = np.bincount(src_code, weights=per, minlength=n_s)
        cols["clv"] = clv_sum
        cols["clv_per_customer"] = clv_sum / np.maximum(customers_n, 1)
        cols["clv_missing"] = np.bincount(src_code[p < 0], minlength=n_s).astype(np.int64)
    if costs is not None:
        if not isinstance(costs, Mapping):
            raise ArgumentError(
                f"costs must be a mapping of source -> spend, got {type(costs).__name__}",
                field="costs",
            )
        unknown = sorted(set(costs) - {str(n) for n in names})
        if unknown:
            raise ArgumentError(
                f"costs names source(s) with no customers: {unknown}; known sources are "
                f"{[str(n) for n in names]}",
                field="costs",
            )
        cost = np.array(
            [
                check_number(costs[str(n)], f"costs[{str(n)!r}]", minimum=0, exclusive_minimum=True)
                if str(n) in costs
                else np.nan
                for n in names
            ]
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            cols["cost"] = cost
            cols["cost_per_customer"] = cost / np.maximum(customers_n, 1)
            cols["roi"] = (margin * revenue - cost) / cost
            if clv is not None:
                cols["clv_roi"] = (cols["clv"] - cost) / cost
        cols["payback_periods"] = _payback(hist, buyer_src, n_s, cost, margin, unit)
    return src.result(cols)


def _payback(
    hist: CustomerHistory,
    buyer_src: NDArray[np.int64],
    n_s: int,
    cost: NDArray[np.float64],
    margin: float,
    unit: str,
) -> NDArray[np.float64]:
    out = np.full(n_s, np.nan)
    first = period_index(hist.first_period, unit)
    day = hist.row_time.astype("datetime64[D]").astype(np.int64)
    # Refunds count in the period they happen (in period 0 if before the first purchase).
    offset = np.maximum(period_index(day, unit) - first[hist.row_customer], 0)
    n_p = int(offset.max()) + 1
    row_src = buyer_src[hist.row_customer]
    per = np.bincount(row_src * n_p + offset, weights=hist.row_amount, minlength=n_s * n_p)
    cum = np.cumsum(per.reshape(n_s, n_p), axis=1) * margin
    for s in range(n_s):
        if np.isnan(cost[s]):
            continue
        hit = np.flatnonzero(cum[s] >= cost[s])
        if len(hit):
            out[s] = float(hit[0])
    return out
