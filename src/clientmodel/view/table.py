"""The table face of the customer view: one row per person, the :data:`FLAT_FIELDS` as columns.

:func:`view_table` left-joins the caller's tables on the person key through narwhals: the
``people`` table is the spine (one row per person, in its order for eager frames), and each
other table adds its columns. Tables of any kind narwhals reads go in (pandas, polars, pyarrow;
lazy polars, dask and duckdb frames stay lazy), and the same kind comes out. The B2B side (a
:class:`~clientmodel.view.Book` and :class:`~clientmodel.view.Links`) is small -- thousands of
contacts against millions of consumers -- so it is summarised per person in Python with the very
function the record face uses, then joined like the rest.

A row of the result equals :func:`~clientmodel.view.flatten` of the view
:func:`~clientmodel.view.customer_view` builds from the same pieces (a property test checks it).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import narwhals.stable.v2 as nw

from clientmodel._validation import boundary, check_instance
from clientmodel.errors import ArgumentError, DataError
from clientmodel.view._common import aware
from clientmodel.view.book import Book
from clientmodel.view.link import Links
from clientmodel.view.record import FLAT_FIELDS, _b2b, b2b_fields

__all__ = ["view_table"]

_STRING: tuple[str, ...] = (
    "owner",
    "previous_owner",
    "follow_up",
    "top_interest",
    "first_touch",
    "last_touch",
)
_STRING += ("rfm_score", "rfm_segment", "lifecycle", "committee_status")
_BOOL = ("owner_left", "due", "overdue", "decision_maker")
_INT = ("n_accounts", "n_open_deals")
_LIST = ("tags", "contactable")

#: Which flat fields each input table may bring.
_SOURCES: dict[str, tuple[str, ...]] = {
    "people": (
        "owner",
        "owner_left",
        "previous_owner",
        "follow_up",
        "tags",
        "contactable",
        "top_interest",
        "intent",
        "first_touch",
        "last_touch",
    ),
    "summary": ("frequency", "recency", "T", "monetary_value"),
    "segments": ("rfm_score", "rfm_segment", "lifecycle"),
    "scores": ("p_alive", "churn_risk", "expected_purchases", "clv"),
    "timing": ("next_purchase_median", "cadence_gap", "due", "overdue"),
}
_B2B = (
    "n_accounts",
    "n_open_deals",
    "open_deal_amount",
    "best_win_probability",
    "decision_maker",
    "committee_status",
    "warm_path_strength",
)


def _dtype(name: str) -> Any:
    if name in _STRING:
        return nw.String()
    if name in _BOOL:
        return nw.Boolean()
    if name in _INT:
        return nw.Int64()
    if name in _LIST:
        return nw.List(nw.String())
    return nw.Float64()


def _frame(data: Any, name: str) -> nw.DataFrame[Any] | nw.LazyFrame[Any]:
    try:
        frame = nw.from_native(data)
    except TypeError:
        raise ArgumentError(
            f"{name} is a {type(data).__name__}; pass a pandas, polars or pyarrow table or a "
            "lazy frame (polars, dask, duckdb)",
            field=name,
        ) from None
    if not isinstance(frame, (nw.DataFrame, nw.LazyFrame)):
        raise ArgumentError(f"{name} must be a table, not a series", field=name)
    return frame


def _side(
    data: Any, name: str, key: str, like: nw.DataFrame[Any] | nw.LazyFrame[Any]
) -> nw.DataFrame[Any] | nw.LazyFrame[Any]:
    frame = _frame(data, name)
    lazy = isinstance(like, nw.LazyFrame)
    same = frame.implementation == like.implementation
    # a join needs one backend: a side of another kind is brought to the people table's
    if isinstance(frame, nw.LazyFrame) and not (lazy and same):
        frame = frame.collect()
    if isinstance(frame, nw.DataFrame) and not lazy and not same:
        frame = nw.from_arrow(frame.to_arrow(), backend=like.implementation)
    columns = frame.collect_schema().names()
    if key not in columns:
        raise DataError(
            f"{name} has no column {key!r} (the person key); its columns are {columns}",
            field=key,
        )
    keep = [c for c in _SOURCES[name] if c in columns]
    frame = frame.select(key, *keep)
    if isinstance(frame, nw.DataFrame):
        dup = frame[key].is_duplicated()
        if dup.any():
            rows = [i for i, d in enumerate(dup.to_list()) if d][:5]
            values = frame[key].to_list()
            raise DataError(
                f"{name} repeats person key {key!r} at rows {rows} "
                f"({[values[i] for i in rows]}); give one row per person",
                field=key,
                rows=rows,
            )
        if lazy:
            return frame.lazy(backend=like.implementation)
    return frame


def _b2b_frame(
    book: Book, links: Links, as_of: dt.datetime, key: str, like: Any
) -> nw.DataFrame[Any] | nw.LazyFrame[Any]:
    people: dict[str, list[str]] = {}
    for item in links.links:
        people.setdefault(item.profile_id, []).append(item.contact_id)
    rows: dict[str, list[Any]] = {key: [], **{f: [] for f in _B2B}}
    for pid in sorted(people):
        accounts, deals, path = _b2b(book, tuple(sorted(people[pid])), as_of)
        fields = b2b_fields(accounts, deals, path)
        rows[key].append(pid)
        for f in _B2B:
            rows[f].append(fields[f])
    schema = {key: nw.String(), **{f: _dtype(f) for f in _B2B}}
    impl = like.implementation
    if isinstance(like, nw.DataFrame):
        return nw.from_dict(rows, schema=schema, backend=impl)
    eager = nw.from_dict(rows, schema=schema, backend="pyarrow")
    return eager.lazy(backend=impl)


@boundary
def view_table(
    people: Any,
    *,
    summary: Any = None,
    segments: Any = None,
    scores: Any = None,
    timing: Any = None,
    book: Book | None = None,
    links: Links | None = None,
    as_of: dt.datetime | None = None,
    key: str = "person_id",
) -> Any:
    """The customer view of many people as one table (columns :data:`FLAT_FIELDS`).

    Parameters
    ----------
    people:
        One row per person: ``key`` and any profile columns already flat (``owner``,
        ``owner_left``, ``previous_owner``, ``follow_up``, ``tags``, ``contactable``,
        ``top_interest``, ``intent``, ``first_touch``, ``last_touch``).
    summary:
        ``key``, ``frequency``, ``recency``, ``T`` and optionally ``monetary_value``.
    segments:
        ``key`` and any of ``rfm_score``, ``rfm_segment``, ``lifecycle``.
    scores:
        ``key`` and any of ``p_alive``, ``churn_risk``, ``expected_purchases``, ``clv``.
    timing:
        ``key`` and any of ``next_purchase_median``, ``cadence_gap``, ``due``, ``overdue``.
    book, links, as_of:
        The B2B side and the moment committee engagement is read at (all three together).
    key:
        The person key column in every table.

    Returns
    -------
    DataFrame or LazyFrame
        The same kind as ``people``; people without a row in a side table get nulls there
        (B2B counts are 0 for people with no linked contact when ``book`` is given).

    Notes
    -----
    With ``book``, the B2B columns of a duckdb relation are joined through duckdb's default
    connection (``duckdb.sql`` / ``duckdb.from_df``): relations of another connection cannot
    be joined with them.

    Examples
    --------
    >>> import pandas as pd
    >>> people = pd.DataFrame({"person_id": ["a", "b"]})
    >>> summary = pd.DataFrame({"person_id": ["b"], "frequency": [2.0], "recency": [30.0],
    ...                         "T": [40.0]})
    >>> out = view_table(people, summary=summary)
    >>> out["since_purchase"].tolist()
    [nan, 10.0]
    """
    spine = _frame(people, "people")
    names = spine.collect_schema().names()
    if key not in names:
        raise DataError(f"people has no column {key!r}; its columns are {names}", field=key)
    if isinstance(spine, nw.DataFrame) and spine[key].is_duplicated().any():
        raise DataError(f"people repeats person key {key!r}; give one row per person", field=key)
    if (book is None) != (links is None) or (book is None) != (as_of is None):
        raise ArgumentError(
            "book, links and as_of go together: pass all three for the B2B columns",
            field="book" if as_of is None else "as_of",
        )
    if book is not None:
        check_instance(book, Book, "book")
        check_instance(links, Links, "links")
        aware(as_of, "as_of")
    order = "__clientmodel_row__"
    out = spine.select(key, *[c for c in _SOURCES["people"] if c in names])
    if isinstance(out, nw.DataFrame):
        out = out.with_row_index(order)
    elif out.implementation.is_polars():
        # a polars lazy join keeps no row order (narwhals asks for a key to number lazy rows by)
        out = nw.from_native(out.to_native().with_row_index(order))
    given: set[str] = set(out.collect_schema().names())
    for name, data in (
        ("summary", summary),
        ("segments", segments),
        ("scores", scores),
        ("timing", timing),
    ):
        if data is None:
            continue
        side = _side(data, name, key, out)
        added = [c for c in side.collect_schema().names() if c != key and c not in given]
        out = out.join(side.select(key, *added), on=key, how="left")  # type: ignore[arg-type]
        given.update(added)
    if book is not None and links is not None and as_of is not None:
        b2b = _b2b_frame(book, links, aware(as_of, "as_of"), key, out)
        out = out.join(b2b, on=key, how="left")  # type: ignore[arg-type]
        out = out.with_columns(
            nw.col("n_accounts").fill_null(0),
            nw.col("n_open_deals").fill_null(0),
            nw.col("open_deal_amount").fill_null(0.0),
            nw.col("decision_maker").fill_null(value=False).cast(nw.Boolean()),
        )
        given.update(_B2B)
    if "T" in given and "recency" in given:
        out = out.with_columns((nw.col("T") - nw.col("recency")).alias("since_purchase"))
        given.add("since_purchase")
    # pandas-like backends turn a typed null literal into False / an error: leave those untyped
    untyped = out.implementation.is_pandas_like() or out.implementation.is_dask()
    out = out.with_columns(
        *[
            (nw.lit(None) if untyped else nw.lit(None, dtype=_dtype(c))).alias(c)
            for c in FLAT_FIELDS
            if c not in given
        ]
    )
    if order in out.collect_schema().names():
        out = out.sort(order)
    columns = [nw.col(key).alias("person_id")]
    columns += [
        nw.col(c).cast(nw.Int64()) if c in _INT and c in given else nw.col(c)
        for c in FLAT_FIELDS[1:]
    ]
    return out.select(*columns).to_native()
