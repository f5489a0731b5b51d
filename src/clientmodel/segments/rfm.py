"""RFM values and scores: recency, frequency and monetary value scored 1..k.

RFM values
----------
For each customer, as of a date:

* **recency** -- column ``days_since_last``: whole calendar days from the last purchase to
  ``as_of`` (0 = bought that day);
* **frequency** -- column ``orders``: distinct purchase days (same-day purchases are one order);
* **monetary** -- column ``monetary``: net spend, refunds included (``monetary="total"``,
  default) or net spend per order (``monetary="mean"``).

The values come from :func:`clientmodel.transactions.customer_history`, so a refund is never an
order, rows after ``as_of`` are an error unless ``after_as_of="exclude"``, and a customer has the
same orders and revenue here as in :func:`clientmodel.transactions.summarize`. The column names
say their unit on purpose: the summary's ``frequency`` (repeat purchases) and ``recency`` (first
to last purchase) mean something else.

Scores
------
Each value is cut by ``k - 1`` ascending edges $e_1 \\le \\dots \\le e_{k-1}$ into scores 1..k.
For frequency and monetary the score is

$$ s(v) = 1 + \\#\\{j : v > e_j\\} $$

and for recency, where smaller is better (recent = high score),

$$ s_R(d) = k - \\#\\{j : d > e_j\\}. $$

**Tie rule.** A score depends on the value only, so equal values always get equal scores, and a
value equal to an edge falls in the bin of the smaller values (the lower score for frequency and
monetary, the higher score for recency). Scores are monotone in the value.

**Quantile edges.** :func:`fit_rfm` sets $e_j$ to the empirical $j/k$ quantile of the fitted
population (the *inverted-CDF* definition: the smallest observed value $x$ with
$\\hat F(x) \\ge j/k$). At least a share $j/k$ of the fitted customers then score $\\le j$
(frequency, monetary) or $\\ge k - j + 1$ (recency). When many customers share a value (most
customers have one order) several edges coincide and some scores are not used: this is the price
of never splitting equal values, unlike ``pandas.qcut`` on ranks, which breaks ties by row order.

**Fixed edges.** Business thresholds ("more than 30 days is not recent") are passed as edges,
per dimension, with the same semantics.

**Lazy frames.** :func:`rfm_values` and :func:`rfm_from_summary` accept a lazy frame (dask,
duckdb, polars ``LazyFrame``) and return the engine's lazy frame (rows in the engine's order);
:func:`fit_rfm` on a lazy frame counts each dimension's distinct values on the engine and takes
the exact quantiles from those counts, so only the distinct values are collected.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

import attrs
import numpy as np
import pydantic
from numpy.typing import NDArray

from clientmodel._validation import (
    boundary,
    check_choice,
    check_integer,
    check_mapping,
    check_number,
    check_sequence,
    count_reader,
    did_you_mean,
    key_path,
    read_form,
)
from clientmodel.errors import ArgumentError, DataError
from clientmodel.periods import UNIT_DAYS, parse_unit
from clientmodel.tables import LazyTable, is_lazy, read_lazy, read_table
from clientmodel.transactions import AfterAsOf, customer_history, summarize

__all__ = [
    "DIMENSIONS",
    "RFMScore",
    "RFMScorer",
    "fit_rfm",
    "rf_grid",
    "rfm_from_summary",
    "rfm_values",
]

#: The three RFM dimensions, in the order scores are written ("R F M").
DIMENSIONS: tuple[str, str, str] = ("recency", "frequency", "monetary")

Monetary = Literal["total", "mean"]

_FORMAT = 1


def _monetary_kind(monetary: str) -> Monetary:
    if monetary not in ("total", "mean"):
        raise ArgumentError(
            f"monetary={monetary!r} is not accepted; use 'total' (spend) or 'mean' (per order)"
            + did_you_mean(monetary, ("total", "mean")),
            field="monetary",
        )
    return "total" if monetary == "total" else "mean"


@boundary
def rfm_values(
    transactions: Any,
    *,
    as_of: Any,
    customer: str = "customer_id",
    time: str = "timestamp",
    amount: str = "amount",
    monetary: Monetary = "total",
    tz: str | None = None,
    after_as_of: AfterAsOf = "error",
) -> Any:
    """RFM values per customer from a transaction log, as of a date.

    Parameters
    ----------
    transactions:
        One row per transaction (pandas/polars/pyarrow frame, a mapping of columns, or a lazy
        frame); negative amounts are refunds (see the module notes).
    as_of:
        The date the values are measured at.
    customer, time, amount:
        Column names in ``transactions``.
    monetary:
        ``"total"`` net spend or ``"mean"`` net spend per order.
    tz:
        Timezone of naive timestamps (see :meth:`clientmodel.tables.Table.timestamps`).
    after_as_of:
        ``"error"`` (default) or ``"exclude"`` for rows after ``as_of``.

    Returns
    -------
    The caller's kind of table with columns ``<customer>``, ``days_since_last``, ``orders``
    and ``monetary``.

    Examples
    --------
    >>> log = {"customer_id": ["a", "a", "b"], "amount": [10.0, 5.0, 7.0],
    ...        "timestamp": ["2024-01-01", "2024-01-20", "2024-01-25"]}
    >>> out = rfm_values(log, as_of="2024-01-31")
    >>> out["days_since_last"].tolist(), out["orders"].tolist(), out["monetary"].tolist()
    ([11, 6], [2, 1], [15.0, 7.0])
    """
    kind = _monetary_kind(monetary)
    if is_lazy(transactions):
        summary = summarize(
            transactions,
            as_of=as_of,
            unit="D",
            customer=customer,
            time=time,
            amount=amount,
            tz=tz,
            after_as_of=after_as_of,
        )
        return _rfm_from_summary_lazy(
            read_lazy(summary, name="summary"),
            days=1.0,
            customer=customer,
            monetary=kind,
            whole_days=True,
        )
    hist = customer_history(
        transactions,
        as_of=as_of,
        customer=customer,
        time=time,
        amount=amount,
        tz=tz,
        after_as_of=after_as_of,
    )
    value = hist.revenue if kind == "total" else hist.revenue / hist.orders
    return hist.table.result(
        {
            customer: hist.ids,
            "days_since_last": hist.days_since_last(),
            "orders": hist.orders,
            "monetary": value,
        }
    )


@boundary
def rfm_from_summary(
    summary: Any,
    *,
    unit: str = "D",
    customer: str = "customer_id",
    monetary: Monetary = "total",
) -> Any:
    """RFM values from a customer summary (:func:`clientmodel.transactions.summarize`).

    The summary's ``recency`` is *first to last* purchase and ``T`` *first purchase to as_of*,
    both in ``unit``; ``days_since_last`` is ``T - recency`` converted to days. ``orders`` is
    the summary's ``orders`` (or ``frequency + 1``); monetary is ``revenue`` (total) or
    ``revenue / orders`` (mean); without ``revenue``, ``monetary_value * frequency`` is used as
    the total spend on repeat orders.

    Examples
    --------
    >>> s = {"customer_id": [1, 2], "frequency": [2, 0], "recency": [3.0, 0.0],
    ...      "T": [5.0, 1.0], "revenue": [30.0, 8.0]}
    >>> out = rfm_from_summary(s, unit="W")
    >>> out["days_since_last"].tolist(), out["orders"].tolist()
    ([14.0, 7.0], [3, 1])
    """
    kind = _monetary_kind(monetary)
    days = UNIT_DAYS[parse_unit(unit)]
    if is_lazy(summary):
        return _rfm_from_summary_lazy(
            read_lazy(summary, name="summary"), days=days, customer=customer, monetary=kind
        )
    table = read_table(summary, name="summary")
    table.require(customer, "recency", "T")
    rec = table.numbers("recency", min_value=0.0)
    big_t = table.numbers("T", min_value=0.0)
    since = big_t - rec
    bad = since < -1e-9
    if bad.any():
        raise DataError(
            "summary has rows with recency > T (last purchase after as_of): rows "
            f"{np.flatnonzero(bad)[:5].tolist()}; recency and T must share one as_of",
            field="recency",
            rows=np.flatnonzero(bad)[:5].tolist(),
        )
    if "orders" in table.columns:
        orders = table.numbers("orders", kind="count", min_value=1)
    else:
        table.require("frequency")
        orders = table.numbers("frequency", kind="count") + 1
    if "revenue" in table.columns:
        total = table.numbers("revenue")
    else:
        table.require("monetary_value")
        total = table.numbers("monetary_value") * (orders - 1)
    value = total if kind == "total" else total / np.maximum(orders, 1)
    return table.result(
        {
            customer: table.ids(customer),
            "days_since_last": np.maximum(since, 0.0) * days,
            "orders": orders,
            "monetary": value,
        }
    )


def _edges(value: Any, k: int, field: str) -> tuple[float, ...]:
    try:
        edges = tuple(float(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise ArgumentError(f"{field} edges must be numbers, got {value!r}", field=field) from exc
    if len(edges) != k - 1:
        raise ArgumentError(
            f"{field} needs k - 1 = {k - 1} ascending edges for k = {k} scores, got {len(edges)}: "
            f"{list(edges)}",
            field=field,
        )
    if not all(np.isfinite(edges)) or any(b < a for a, b in itertools.pairwise(edges)):
        raise ArgumentError(
            f"{field} edges must be finite and non-decreasing, got {list(edges)}", field=field
        )
    return edges


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= k <= 9:
        raise ArgumentError(f"k={k!r} must be an integer from 2 to 9", field="k")
    return int(k)


def _floats(value: Any) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise ArgumentError(f"edges must be numbers, got {value!r}", field="edges") from exc


def _three(value: Any) -> tuple[str, str, str]:
    items = tuple(str(v) for v in check_sequence(value, "methods"))
    if len(items) != 3:
        raise ArgumentError(
            f"methods needs one entry per dimension {DIMENSIONS}, got {value!r}", field="methods"
        )
    return items[0], items[1], items[2]


def _read_methods(value: Any, path: str) -> tuple[str, str, str]:
    """``{dimension: "quantile" | "fixed"}`` as a triple in :data:`DIMENSIONS` order."""
    found = check_mapping(value, path, required=DIMENSIONS, optional=())
    kinds = [check_choice(found[d], key_path(path, d), ("quantile", "fixed")) for d in DIMENSIONS]
    return kinds[0], kinds[1], kinds[2]


class RFMScore(pydantic.BaseModel):
    """One customer's RFM scores (the record face of :meth:`RFMScorer.score_record`).

    Examples
    --------
    >>> RFMScore(r=5, f=4, m=3, code="543", segment="Champions").code
    '543'
    """

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    r: int
    f: int
    m: int
    code: str
    segment: str | None = None
    score: float | None = None


@attrs.frozen
class RFMScorer:
    """Fitted (or fixed) RFM edges: scores tables and single records with the same thresholds.

    Attributes
    ----------
    k:
        Number of scores per dimension (1..k).
    recency, frequency, monetary:
        The ``k - 1`` ascending edges of each dimension (see the module notes for the tie rule).
    methods:
        How each dimension's edges were set: ``"quantile"`` or ``"fixed"``.
    n_fitted:
        Number of customers the quantile edges were fitted on (0 if all edges are fixed).

    Examples
    --------
    >>> s = RFMScorer.fixed(k=3, recency=[30, 90], frequency=[1, 3], monetary=[50, 200])
    >>> s.score_record({"days_since_last": 10, "orders": 2, "monetary": 500}).code
    '323'
    """

    k: int
    recency: tuple[float, ...] = attrs.field(converter=_floats)
    frequency: tuple[float, ...] = attrs.field(converter=_floats)
    monetary: tuple[float, ...] = attrs.field(converter=_floats)
    methods: tuple[str, str, str] = attrs.field(
        default=("fixed", "fixed", "fixed"), converter=_three
    )
    n_fitted: int = 0

    # the serialised form keys the edges and the methods by dimension
    _FORM: ClassVar[dict[str, Any]] = {
        "methods": lambda value, path: _read_methods(value, path),
        "n_fitted": count_reader,
    }
    _FORM_KEYS: ClassVar[dict[str, tuple[str, ...]]] = {"edges": DIMENSIONS}

    def __attrs_post_init__(self) -> None:
        _check_k(self.k)
        for dim in DIMENSIONS:
            _edges(getattr(self, dim), self.k, dim)
        for m in self.methods:
            if m not in ("quantile", "fixed"):
                raise ArgumentError(f"method {m!r} must be 'quantile' or 'fixed'", field="methods")
        check_integer(self.n_fitted, "n_fitted", minimum=0)
        if ("quantile" in self.methods) != (self.n_fitted > 0):
            raise ArgumentError(
                f"n_fitted={self.n_fitted} disagrees with methods {list(self.methods)}: quantile "
                "edges are fitted on at least one customer, fixed edges on none (n_fitted=0)",
                field="n_fitted",
            )

    # ------------------------------------------------------------------ construction
    @classmethod
    @boundary
    def fixed(
        cls,
        *,
        k: int = 5,
        recency: Sequence[float],
        frequency: Sequence[float],
        monetary: Sequence[float],
    ) -> RFMScorer:
        """A scorer from business thresholds (``k - 1`` ascending edges per dimension).

        Examples
        --------
        >>> RFMScorer.fixed(k=2, recency=[30], frequency=[1], monetary=[100]).k
        2
        """
        k = _check_k(k)
        return cls(
            k,
            _edges(recency, k, "recency"),
            _edges(frequency, k, "frequency"),
            _edges(monetary, k, "monetary"),
        )

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe description (edges, methods, k) that :meth:`from_dict` rebuilds exactly.

        Examples
        --------
        >>> s = RFMScorer.fixed(k=2, recency=[30], frequency=[1], monetary=[100])
        >>> RFMScorer.from_dict(s.to_dict()) == s
        True
        """
        return {
            "model": "RFMScorer",
            "format": _FORMAT,
            "k": self.k,
            "edges": {d: list(getattr(self, d)) for d in DIMENSIONS},
            "methods": dict(zip(DIMENSIONS, self.methods, strict=True)),
            "n_fitted": self.n_fitted,
        }

    @classmethod
    @boundary
    def from_dict(cls, data: Mapping[str, Any]) -> RFMScorer:
        """Rebuild a scorer from :meth:`to_dict` output.

        Examples
        --------
        >>> d = {"model": "RFMScorer", "format": 1, "k": 2, "n_fitted": 0,
        ...      "edges": {"recency": [30], "frequency": [1], "monetary": [9]},
        ...      "methods": {"recency": "fixed", "frequency": "fixed", "monetary": "fixed"}}
        >>> RFMScorer.from_dict(d).monetary
        (9.0,)
        """
        if isinstance(data, Mapping) and data.get("model", "RFMScorer") != "RFMScorer":
            raise ArgumentError(
                f"RFMScorer.model must be 'RFMScorer', got {data['model']!r}: not an RFMScorer "
                "description",
                field="RFMScorer.model",
            )
        return read_form(cls, data)

    # ------------------------------------------------------------------ inspection
    @boundary
    def score_ranges(self) -> dict[str, list[dict[str, Any]]]:
        """Where each score starts and ends, per dimension (``None`` = unbounded).

        A value ``v`` has score ``s`` when ``low < v <= high`` (``low`` / ``high`` omitted when
        ``None``). Scores no value can reach (coinciding edges) are left out.

        Examples
        --------
        >>> s = RFMScorer.fixed(k=2, recency=[30], frequency=[1], monetary=[100])
        >>> s.score_ranges()["recency"]
        [{'score': 2, 'low': None, 'high': 30.0}, {'score': 1, 'low': 30.0, 'high': None}]
        """
        out: dict[str, list[dict[str, Any]]] = {}
        for dim in DIMENSIONS:
            edges: list[float | None] = [None, *getattr(self, dim), None]
            rows = []
            for i in range(self.k):
                low, high = edges[i], edges[i + 1]
                if low is not None and high is not None and high <= low:
                    continue
                score = self.k - i if dim == "recency" else i + 1
                rows.append({"score": score, "low": low, "high": high})
            out[dim] = rows
        return out

    # ------------------------------------------------------------------ scoring
    @boundary
    def scores(
        self,
        recency: NDArray[Any],
        frequency: NDArray[Any],
        monetary: NDArray[Any],
    ) -> tuple[NDArray[np.int8], NDArray[np.int8], NDArray[np.int8]]:
        """Scores for numpy arrays of values (the shared core of the table and record faces).

        Examples
        --------
        >>> s = RFMScorer.fixed(k=3, recency=[30, 90], frequency=[1, 3], monetary=[50, 200])
        >>> [a.tolist() for a in s.scores(np.array([5, 90]), np.array([1, 4]), np.array([50, 51]))]
        [[3, 2], [1, 3], [1, 2]]
        """
        r = self.k - np.searchsorted(np.asarray(self.recency), recency, side="left")
        f = 1 + np.searchsorted(np.asarray(self.frequency), frequency, side="left")
        m = 1 + np.searchsorted(np.asarray(self.monetary), monetary, side="left")
        return r.astype(np.int8), f.astype(np.int8), m.astype(np.int8)

    @boundary
    def score(
        self,
        values: Any,
        *,
        customer: str | None = "customer_id",
        recency: str = "days_since_last",
        frequency: str = "orders",
        monetary: str = "monetary",
        segments: Any = None,
        weights: Sequence[float] | None = None,
    ) -> Any:
        """Score a table of RFM values; the caller's kind of table comes back.

        Parameters
        ----------
        values:
            A table with the three value columns (e.g. the output of :func:`rfm_values`).
        customer:
            Customer column copied to the output (``None`` to leave it out; skipped if absent).
        recency, frequency, monetary:
            Column names of the values.
        segments:
            Optional :class:`~clientmodel.segments.segment_map.SegmentMap` (or ``"default"``):
            adds a ``segment`` column.
        weights:
            Weights ``(w_r, w_f, w_m)`` of the combined ``score`` column
            $w_r r + w_f f + w_m m$; by default the plain sum $r + f + m$ (3 to 3k).

        Returns
        -------
        Columns ``<customer>``, ``r``, ``f``, ``m`` (int8 scores), ``rfm`` (e.g. ``"543"``),
        ``score`` (the combined numeric score) and
        ``segment`` when a map is given.

        Examples
        --------
        >>> s = RFMScorer.fixed(k=3, recency=[30, 90], frequency=[1, 3], monetary=[50, 200])
        >>> out = s.score({"customer_id": ["a"], "days_since_last": [5], "orders": [4],
        ...                "monetary": [10.0]})
        >>> out["rfm"].tolist()
        ['331']
        """
        table = read_table(values, name="values")
        table.require(recency, frequency, monetary)
        rv = table.numbers(recency, min_value=0.0)
        fv = table.numbers(frequency, min_value=0.0)
        mv = table.numbers(monetary)
        r, f, m = self.scores(rv, fv, mv)
        cols: dict[str, Any] = {}
        if customer is not None and customer in table.columns:
            cols[customer] = table.raw(customer)
        cols.update({"r": r, "f": f, "m": m, "rfm": self._codes(r, f, m)})
        cols["score"] = _combined(r, f, m, weights)
        if segments is not None:
            cols["segment"] = _segment_map(segments, self.k).assign(r, f, m)
        return table.result(cols)

    def _codes(
        self, r: NDArray[np.int8], f: NDArray[np.int8], m: NDArray[np.int8]
    ) -> NDArray[np.object_]:
        k = self.k
        lut = np.array(
            [
                f"{a}{b}{c}"
                for a in range(1, k + 1)
                for b in range(1, k + 1)
                for c in range(1, k + 1)
            ],
            dtype=object,
        )
        idx = (r.astype(np.int64) - 1) * k * k + (f.astype(np.int64) - 1) * k + (m - 1)
        return np.asarray(lut[idx], dtype=object)

    @boundary
    def score_record(
        self,
        record: Any,
        *,
        recency: str = "days_since_last",
        frequency: str = "orders",
        monetary: str = "monetary",
        segments: Any = None,
        weights: Sequence[float] | None = None,
    ) -> RFMScore:
        """Score one customer (a mapping, pydantic model or object with the value fields).

        Gives exactly what :meth:`score` gives for the same values in a table.

        Examples
        --------
        >>> s = RFMScorer.fixed(k=3, recency=[30, 90], frequency=[1, 3], monetary=[50, 200])
        >>> s.score_record({"days_since_last": 100, "orders": 1, "monetary": 60}).code
        '112'
        """
        vals = []
        for dim, name in zip(DIMENSIONS, (recency, frequency, monetary), strict=True):
            if isinstance(record, Mapping):
                if name not in record:
                    raise DataError(
                        f"record lacks field {name!r} ({dim}); it has {sorted(record)}",
                        field=name,
                    )
                v = record[name]
            elif hasattr(record, name):
                v = getattr(record, name)
            else:
                raise DataError(f"record lacks field {name!r} ({dim})", field=name)
            try:
                x = float(v)
            except (TypeError, ValueError) as exc:
                raise DataError(f"field {name!r}={v!r} is not a number", field=name) from exc
            if not np.isfinite(x) or (dim != "monetary" and x < 0):
                raise DataError(
                    f"field {name!r}={v!r} must be a finite number"
                    + (" >= 0" if dim != "monetary" else ""),
                    field=name,
                )
            vals.append(np.array([x]))
        r, f, m = self.scores(vals[0], vals[1], vals[2])
        seg = None
        if segments is not None:
            seg = str(_segment_map(segments, self.k).assign(r, f, m)[0])
        return RFMScore(
            r=int(r[0]),
            f=int(f[0]),
            m=int(m[0]),
            code=f"{r[0]}{f[0]}{m[0]}",
            segment=seg,
            score=float(_combined(r, f, m, weights)[0]),
        )


def _combined(
    r: NDArray[np.int8], f: NDArray[np.int8], m: NDArray[np.int8], weights: Any
) -> NDArray[Any]:
    """The combined numeric score: r + f + m, or the weighted sum."""
    if weights is None:
        return r.astype(np.int64) + f + m
    w = [check_number(v, f"weights[{i}]") for i, v in enumerate(check_sequence(weights, "weights"))]
    if len(w) != 3:
        raise ArgumentError(f"weights needs 3 numbers (R, F, M), got {len(w)}", field="weights")
    return np.asarray(w[0] * r + w[1] * f + w[2] * m, dtype=np.float64)


def _segment_map(segments: Any, k: int) -> Any:
    from clientmodel.segments.segment_map import SegmentMap, default_segment_map

    if isinstance(segments, str) and segments == "default":
        segments = default_segment_map()
    if not isinstance(segments, SegmentMap):
        raise ArgumentError(
            f"segments must be a SegmentMap or 'default', got {type(segments).__name__}",
            field="segments",
        )
    if segments.k != k:
        raise ArgumentError(
            f"segment map is defined on scores 1..{segments.k} but the scorer uses 1..{k}",
            field="segments",
        )
    return segments


def _quantile_edges(values: NDArray[np.float64], k: int) -> tuple[float, ...]:
    probs = np.arange(1, k) / k
    return tuple(float(v) for v in np.quantile(values, probs, method="inverted_cdf"))


@boundary
def fit_rfm(
    values: Any,
    *,
    k: int = 5,
    recency: str = "days_since_last",
    frequency: str = "orders",
    monetary: str = "monetary",
    fixed: Mapping[str, Sequence[float]] | None = None,
) -> RFMScorer:
    """Fit quantile edges on a population of RFM values (see the module notes for the rule).

    Parameters
    ----------
    values:
        A table of RFM values (e.g. from :func:`rfm_values` or :func:`rfm_from_summary`).
    k:
        Scores per dimension (default 5).
    recency, frequency, monetary:
        Column names of the values.
    fixed:
        Business thresholds that replace the quantiles for some dimensions, e.g.
        ``{"recency": [30, 60, 90, 180]}`` (``k - 1`` ascending edges each).

    Examples
    --------
    >>> v = {"days_since_last": [1, 2, 3, 4], "orders": [1, 1, 2, 5], "monetary": [5, 6, 7, 8]}
    >>> s = fit_rfm(v, k=2)
    >>> s.recency, s.frequency, s.monetary
    ((2.0,), (1.0,), (6.0,))
    """
    k = _check_k(k)
    if fixed is not None and not isinstance(fixed, Mapping):
        raise ArgumentError(
            "fixed must be a mapping of dimension -> k - 1 edges, e.g. "
            f"{{'recency': [7, 30, 90, 180]}}, got {type(fixed).__name__} {fixed!r:.60}",
            field="fixed",
        )
    fixed = dict(fixed or {})
    unknown = sorted(set(fixed) - set(DIMENSIONS))
    if unknown:
        raise ArgumentError(
            f"fixed has unknown dimension(s) {unknown}; use {list(DIMENSIONS)}", field="fixed"
        )
    cols = dict(zip(DIMENSIONS, (recency, frequency, monetary), strict=True))
    if is_lazy(values):
        return _fit_rfm_lazy(read_lazy(values, name="values"), k, cols, fixed)
    table = read_table(values, name="values")
    needed = [cols[d] for d in DIMENSIONS if d not in fixed]
    table.require(*needed)
    if needed and table.n_rows == 0:
        raise DataError("cannot fit RFM quantiles on an empty table", field=needed[0])
    edges: dict[str, tuple[float, ...]] = {}
    methods: list[str] = []
    for dim in DIMENSIONS:
        if dim in fixed:
            edges[dim] = _edges(fixed[dim], k, dim)
            methods.append("fixed")
        else:
            col = table.numbers(cols[dim], min_value=0.0 if dim != "monetary" else None)
            edges[dim] = _quantile_edges(col, k)
            methods.append("quantile")
    n = table.n_rows if "quantile" in methods else 0
    return RFMScorer(
        k,
        edges["recency"],
        edges["frequency"],
        edges["monetary"],
        (methods[0], methods[1], methods[2]),
        n,
    )


@boundary
def rf_grid(
    scored: Any,
    *,
    k: int = 5,
    value: str | None = None,
    how: Literal["count", "sum", "mean"] = "count",
    r: str = "r",
    f: str = "f",
) -> NDArray[np.float64]:
    """The R x F grid of a scored table: customer counts, or the sum / mean of a value column.

    Row ``i`` is R score ``i + 1``, column ``j`` is F score ``j + 1`` (the data of an RFM
    heatmap). Empty cells hold 0 for counts and sums and NaN for means.

    Examples
    --------
    >>> rf_grid({"r": [1, 1, 2], "f": [2, 2, 1]}, k=2).tolist()
    [[0.0, 2.0], [1.0, 0.0]]
    """
    k = _check_k(k)
    check_choice(how, "how", ("count", "sum", "mean"))
    table = read_table(scored, name="scored")
    table.require(r, f)
    rs = table.numbers(r, kind="int", min_value=1)
    fs = table.numbers(f, kind="int", min_value=1)
    high = (rs > k) | (fs > k)
    if high.any():
        raise DataError(
            f"scores above k={k} in rows {np.flatnonzero(high)[:5].tolist()}; pass the k the "
            "scores were made with",
            field=r,
            rows=np.flatnonzero(high)[:5].tolist(),
        )
    cell = (rs - 1) * k + (fs - 1)
    counts = np.bincount(cell, minlength=k * k).astype(np.float64).reshape(k, k)
    if how == "count":
        return counts
    if value is None:
        raise ArgumentError(f"how={how!r} needs a value column", field="value")
    v = table.numbers(value)
    sums = np.bincount(cell, weights=v, minlength=k * k).reshape(k, k)
    if how == "sum":
        return np.asarray(sums, dtype=np.float64)
    out: NDArray[np.float64] = np.divide(
        sums, counts, out=np.full((k, k), np.nan), where=counts > 0
    )
    return out


# --------------------------------------------------------------------------------------- lazy


def _rfm_from_summary_lazy(
    table: LazyTable, *, days: float, customer: str, monetary: Monetary, whole_days: bool = False
) -> Any:
    """:func:`rfm_from_summary` as column expressions on the caller's engine."""
    import narwhals.stable.v2 as nw

    table.require(customer, "recency", "T")
    rec, big_t = table.numeric("recency"), table.numeric("T")
    numbers = ["recency", "T"]
    if "orders" in table.schema:
        orders = nw.col("orders").cast(nw.Int64)
        numbers.append("orders")
    else:
        table.require("frequency")
        orders = nw.col("frequency").cast(nw.Int64) + 1
        numbers.append("frequency")
    if "revenue" in table.schema:
        total = table.numeric("revenue")
        numbers.append("revenue")
    else:
        table.require("monetary_value")
        total = table.numeric("monetary_value") * (orders - 1).cast(nw.Float64)
        numbers.append("monetary_value")
    since = big_t - rec
    found = table.check(
        ids=[customer],
        numbers=numbers,
        counts={"late": since < -1e-9, "negative": (rec < 0) | (big_t < 0)},
    )
    if found["negative"] or found["late"]:
        raise DataError(
            f"summary has {found['negative']} row(s) with recency or T < 0 and "
            f"{found['late']} with recency > T (last purchase after as_of); recency and T must "
            "be >= 0 and share one as_of",
            field="recency",
        )
    value = total if monetary == "total" else total / orders.cast(nw.Float64)
    return table.result(
        table.frame.select(
            nw.col(customer),
            (
                nw.when(since > 0).then(since).otherwise(0.0) * days
                if not whole_days  # a log read by day: whole days, as the eager face gives
                else since.cast(nw.Int64)
            ).alias("days_since_last"),
            orders.alias("orders"),
            value.alias("monetary"),
        )
    )


def _inverted_cdf(values: NDArray[Any], counts: NDArray[np.int64], k: int) -> tuple[float, ...]:
    """``np.quantile(..., method="inverted_cdf")`` of the data the distinct values stand for.

    Uses numpy's own index rule on ``n = counts.sum()`` rows without expanding them.
    """
    n = int(counts.sum())
    probs = np.arange(1, k) / k
    virtual = n * probs - 1
    previous = np.floor(virtual)
    index = np.where(virtual - previous > 0, previous + 1, previous)
    index = np.clip(index, 0, n - 1).astype(np.int64)
    position = np.searchsorted(np.cumsum(counts), index, side="right")
    return tuple(float(values[i]) for i in position)


def _fit_rfm_lazy(
    table: LazyTable, k: int, cols: dict[str, str], fixed: Mapping[str, Sequence[float]]
) -> RFMScorer:
    """:func:`fit_rfm` from each dimension's distinct values and counts, counted on the engine."""
    import narwhals.stable.v2 as nw

    edges: dict[str, tuple[float, ...]] = {}
    methods: list[str] = []
    n = 0
    for dim in DIMENSIONS:
        if dim in fixed:
            edges[dim] = _edges(fixed[dim], k, dim)
            methods.append("fixed")
            continue
        col = cols[dim]
        value = table.numeric(col)
        found = (
            table.frame.select(value.alias("_v"))
            .group_by("_v")
            .agg(nw.len().alias("_n"))
            .sort("_v", nulls_last=True)
            .collect()
        )
        values = found.get_column("_v").to_numpy().astype(np.float64)
        counts = found.get_column("_n").to_numpy().astype(np.int64)
        bad = ~np.isfinite(values) | ((values < 0) if dim != "monetary" else False)
        if bad.any() or not len(values):
            raise DataError(
                f"column {col!r} of the lazy values has {int(counts[bad].sum())} null, "
                "non-finite" + (" or negative" if dim != "monetary" else "") + " value(s)"
                if len(values)
                else f"cannot fit RFM quantiles on an empty table ({col!r})",
                field=col,
            )
        edges[dim] = _inverted_cdf(values, counts, k)
        methods.append("quantile")
        n = int(counts.sum())
    return RFMScorer(
        k,
        edges["recency"],
        edges["frequency"],
        edges["monetary"],
        (methods[0], methods[1], methods[2]),
        n,
    )
