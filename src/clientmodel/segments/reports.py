"""The tables operators read beside segments: segment summaries, value tiers, purchase gaps and
churn by number of purchases.

Segment summary
---------------
For a labelled table (a segment or stage per customer), per label $s$ with customers $C_s$:
customers $|C_s|$, orders $O_s = \\sum_{i \\in C_s} o_i$, revenue $R_s = \\sum_{i \\in C_s} v_i$,
their shares of the totals, and the per-customer means $O_s / |C_s|$ and $R_s / |C_s|$; a last
row ``total`` sums every customer.

Value tiers (heavy / medium / light)
------------------------------------
Customers sorted by value, largest first, are cut where the running share of the total value
passes the tier bounds (20 % / 50 % by default: the customers bringing the first 20 % of revenue
are *heavy*, the next 30 % *medium*, the last 50 % *light*). A customer is placed by the share of
value brought by customers worth **more** than them, so equal values always share a tier.

Purchase gaps and churn by number of purchases
----------------------------------------------
From a log (read by :func:`clientmodel.transactions.customer_history`, so same-day purchases are
one order and refunds are not orders): :func:`purchase_gaps` gives the distribution of days
between consecutive orders, overall and after the $k$-th order; :func:`churn_by_orders` gives,
for customers with at least $k$ orders, the share that never placed order $k + 1$:

$$ \\text{churn}_k = 1 - \\frac{\\#\\{i : o_i \\ge k + 1\\}}{\\#\\{i : o_i \\ge k\\}}. $$

Operators read the two together to choose a churn window: the gap within which, say, 80 % of
second orders arrive.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from clientmodel._validation import boundary, check_integer, check_number, check_sequence
from clientmodel.errors import ArgumentError, DataError
from clientmodel.tables import read_table
from clientmodel.transactions import AfterAsOf, customer_history

__all__ = ["TOTAL", "churn_by_orders", "purchase_gaps", "segment_summary", "value_tiers"]

#: Label of the summary row over every customer.
TOTAL = "total"


@boundary
def segment_summary(
    table: Any,
    *,
    segment: str = "segment",
    orders: str = "orders",
    revenue: str = "monetary",
) -> Any:
    """Customers, orders and revenue per segment, with shares, means and a total row.

    Parameters
    ----------
    table:
        One row per customer with a label column and the two value columns (e.g. RFM values
        joined with their scores: ``orders`` and ``monetary`` as total spend).
    segment, orders, revenue:
        Column names.

    Returns
    -------
    The caller's kind of table: ``segment``, ``customers``, ``orders``, ``revenue``,
    ``customer_share``, ``order_share``, ``revenue_share``, ``orders_per_customer``,
    ``revenue_per_customer``; segments sorted by revenue (largest first), then the row
    :data:`TOTAL`.

    Examples
    --------
    >>> t = {"segment": ["a", "b", "a"], "orders": [2, 1, 3], "monetary": [20.0, 5.0, 35.0]}
    >>> out = segment_summary(t)
    >>> out["segment"].tolist(), out["customers"].tolist(), out["revenue_share"].tolist()
    (['a', 'b', 'total'], [2, 1, 3], [0.9166666666666666, 0.08333333333333333, 1.0])
    """
    t = read_table(table, name="table")
    t.require(segment, orders, revenue)
    if t.n_rows == 0:
        raise DataError("table is empty: it needs one row per customer", field=segment)
    labels = np.array([str(v) for v in t.ids(segment)], dtype=object)
    n_orders = t.numbers(orders, kind="count")
    value = t.numbers(revenue)
    names, code = np.unique(labels, return_inverse=True)
    code = code.reshape(-1)
    if TOTAL in names:
        raise DataError(
            f"column {segment!r} has a segment named {TOTAL!r}, the name of the total row; "
            "rename it",
            field=segment,
        )
    k = len(names)
    customers = np.bincount(code, minlength=k).astype(np.int64)
    order_sum = np.bincount(code, weights=n_orders, minlength=k)
    revenue_sum = np.bincount(code, weights=value, minlength=k)
    rank = np.lexsort((names, -revenue_sum))
    customers = np.r_[customers[rank], customers.sum()]
    order_sum = np.r_[order_sum[rank], order_sum.sum()]
    revenue_sum = np.r_[revenue_sum[rank], revenue_sum.sum()]
    with np.errstate(invalid="ignore", divide="ignore"):
        revenue_share = revenue_sum / revenue_sum[-1] if revenue_sum[-1] != 0 else np.nan
    return t.result(
        {
            segment: np.r_[names[rank], [TOTAL]].astype(object),
            "customers": customers,
            "orders": order_sum.astype(np.int64),
            "revenue": revenue_sum,
            "customer_share": customers / customers[-1],
            "order_share": order_sum / max(order_sum[-1], 1.0),
            "revenue_share": np.broadcast_to(revenue_share, customers.shape).astype(np.float64),
            "orders_per_customer": order_sum / customers,
            "revenue_per_customer": revenue_sum / customers,
        }
    )


@boundary
def value_tiers(
    table: Any,
    *,
    value: str = "monetary",
    bounds: Sequence[float] = (0.2, 0.5),
    labels: Sequence[str] = ("heavy", "medium", "light"),
    customer: str | None = "customer_id",
) -> Any:
    """Heavy / medium / light customers by their share of the total value (see module notes).

    Parameters
    ----------
    table:
        One row per customer with a ``value`` column (e.g. ``monetary`` of :func:`rfm_values`).
    value:
        The value column; values must be >= 0.
    bounds:
        Increasing running shares in (0, 1) where the tiers change (one fewer than labels).
    labels:
        Tier names, from the most valuable.
    customer:
        Customer column copied to the output when present.

    Returns
    -------
    The caller's kind of table: ``<customer>``, ``tier`` and ``share_before`` (the share of
    value brought by customers worth more).

    Examples
    --------
    >>> t = {"customer_id": [1, 2, 3, 4], "monetary": [40.0, 30.0, 20.0, 10.0]}
    >>> value_tiers(t)["tier"].tolist()
    ['heavy', 'medium', 'light', 'light']
    """
    t = read_table(table, name="table")
    t.require(value)
    names = [str(v) for v in check_sequence(labels, "labels")]
    cuts = [check_number(b, f"bounds[{i}]") for i, b in enumerate(check_sequence(bounds, "bounds"))]
    if len(cuts) != len(names) - 1 or not all(0 < b < 1 for b in cuts) or cuts != sorted(cuts):
        raise ArgumentError(
            f"bounds={list(bounds)!r} must be {len(names) - 1} increasing shares in (0, 1), one "
            f"fewer than labels={names!r}",
            field="bounds",
        )
    v = t.numbers(value, min_value=0.0)
    total = float(v.sum())
    if total <= 0:
        raise DataError(f"column {value!r} adds up to {total}: no value to share", field=value)
    # The value of every customer worth more than each distinct value, as a share.
    distinct, inverse = np.unique(v, return_inverse=True)
    weight = np.bincount(inverse.reshape(-1), weights=v, minlength=len(distinct))
    above = (total - np.cumsum(weight)) / total  # customers worth strictly more
    before = above[inverse.reshape(-1)]
    tier = np.searchsorted(np.asarray(cuts), before, side="right")
    cols: dict[str, Any] = {}
    if customer is not None and customer in t.columns:
        cols[customer] = t.raw(customer)
    cols["tier"] = np.array(names, dtype=object)[tier]
    cols["share_before"] = before
    return t.result(cols)


@boundary
def purchase_gaps(
    transactions: Any,
    *,
    as_of: Any,
    percentiles: Sequence[float] = (50, 80, 90, 95),
    max_order: int = 5,
    customer: str = "customer_id",
    time: str = "timestamp",
    amount: str | None = None,
    tz: str | None = None,
    after_as_of: AfterAsOf = "error",
) -> dict[str, NDArray[Any]]:
    """Days between consecutive orders: percentiles overall and after the k-th order.

    Returns
    -------
    A dict of numpy arrays, one row per ``after_order`` (``1 .. max_order``, then ``0`` for all
    gaps together): ``gaps`` (how many gaps), ``mean`` and one column ``p<q>`` per percentile
    (linear interpolation; NaN where there is no gap).

    Examples
    --------
    >>> log = {"customer_id": ["a", "a", "a", "b", "b"],
    ...        "timestamp": ["2024-01-01", "2024-01-11", "2024-01-31", "2024-01-05",
    ...                      "2024-01-25"]}
    >>> g = purchase_gaps(log, as_of="2024-01-31", percentiles=[50], max_order=2)
    >>> g["after_order"].tolist(), g["gaps"].tolist(), g["p50"].tolist()
    ([1, 2, 0], [2, 1, 3], [15.0, 20.0, 20.0])
    """
    qs = [
        check_number(q, f"percentiles[{i}]", minimum=0, maximum=100)
        for i, q in enumerate(check_sequence(percentiles, "percentiles"))
    ]
    k_max = check_integer(max_order, "max_order", minimum=1)
    hist = customer_history(
        transactions,
        as_of=as_of,
        customer=customer,
        time=time,
        amount=amount,
        tz=tz,
        after_as_of=after_as_of,
    )
    owner, day = hist.order_customer, hist.order_period
    same = owner[1:] == owner[:-1]
    gaps = (day[1:] - day[:-1])[same].astype(np.float64)
    starts = np.r_[0, np.flatnonzero(~same) + 1]
    position = np.arange(len(owner)) - np.repeat(starts, np.diff(np.r_[starts, len(owner)]))
    after = position[1:][same]  # the gap after order number `after` (1-based)
    rows = [*range(1, k_max + 1), 0]
    out: dict[str, Any] = {"after_order": np.array(rows, dtype=np.int64)}
    pick = [after == k for k in range(1, k_max + 1)] + [np.ones(len(gaps), dtype=bool)]
    out["gaps"] = np.array([int(m.sum()) for m in pick], dtype=np.int64)
    out["mean"] = np.array([gaps[m].mean() if m.any() else np.nan for m in pick])
    for q in qs:
        label = f"p{q:g}"
        out[label] = np.array([np.percentile(gaps[m], q) if m.any() else np.nan for m in pick])
    return out


@boundary
def churn_by_orders(
    transactions: Any,
    *,
    as_of: Any,
    max_order: int = 10,
    customer: str = "customer_id",
    time: str = "timestamp",
    amount: str | None = None,
    tz: str | None = None,
    after_as_of: AfterAsOf = "error",
) -> dict[str, NDArray[Any]]:
    """Share of customers with at least k orders who never placed order k + 1 (module notes).

    Returns
    -------
    A dict of numpy arrays, one row per ``orders`` k from 1 to ``max_order``: ``customers``
    (with at least k orders), ``next_order`` (of them, with at least k + 1) and
    ``churn_rate`` (NaN when no customer has k orders).

    Examples
    --------
    >>> log = {"customer_id": ["a", "a", "b", "c"],
    ...        "timestamp": ["2024-01-01", "2024-01-09", "2024-01-05", "2024-01-07"]}
    >>> c = churn_by_orders(log, as_of="2024-01-31", max_order=2)
    >>> c["customers"].tolist(), c["churn_rate"].tolist()
    ([3, 1], [0.6666666666666667, 1.0])
    """
    k_max = check_integer(max_order, "max_order", minimum=1)
    hist = customer_history(
        transactions,
        as_of=as_of,
        customer=customer,
        time=time,
        amount=amount,
        tz=tz,
        after_as_of=after_as_of,
    )
    counts = np.bincount(np.minimum(hist.orders, k_max + 1), minlength=k_max + 2)
    at_least = np.cumsum(counts[::-1])[::-1][1:].astype(np.int64)  # customers with >= k orders
    k = np.arange(1, k_max + 2)
    customers, following = at_least[:-1], at_least[1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        churn = np.where(customers > 0, 1.0 - following / np.maximum(customers, 1), np.nan)
    return {
        "orders": k[:-1].astype(np.int64),
        "customers": customers,
        "next_order": following,
        "churn_rate": churn,
    }
