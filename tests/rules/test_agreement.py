"""Record face == table face: random rules x random rows with nulls, on pandas and polars.

The record face is the reference; each frame kind is built from the same rows:

* polars (typed columns: List(String) tags, List(Struct) events) -- eager and lazy;
* pandas with pyarrow dtypes (the same typed columns);
* pandas with numpy dtypes (NaN for missing numbers, ``object`` columns for tags, events, dates
  and nullable booleans, which are tested value by value);
* the events as a separate events table keyed by ``customer_id`` (polars and pandas).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.rules import evaluate, evaluate_table, to_text

from .conftest import UTC, typed_as_of, typed_row, typed_rules

EVENT = pl.Struct({"type": pl.String, "value": pl.Float64, "timestamp": pl.Datetime("us", "UTC")})
SCHEMA = {
    "customer_id": pl.String,
    "n": pl.Int64,
    "x": pl.Float64,
    "s": pl.String,
    "b": pl.Boolean,
    "d": pl.Date,
    "t": pl.Datetime("us", "UTC"),
    "tags": pl.List(pl.String),
    "events": pl.List(EVENT),
}


def _with_ids(rows):
    return [{"customer_id": f"c{i}", **row} for i, row in enumerate(rows)]


def _polars(rows):
    return pl.DataFrame(rows, schema=SCHEMA, strict=False)


def _numpy_pandas(rows):
    """pandas as users build it: numeric and datetime dtypes, ``object`` for the rest."""
    frame = pd.DataFrame(rows)
    return frame.astype(
        {
            "n": "float64",
            "x": "float64",
            "s": "str",
            "t": "datetime64[us, UTC]",
            **dict.fromkeys(["b", "d", "tags", "events"], object),
        }
    )


def _events_table(rows):
    flat = [
        {"customer_id": row["customer_id"], **event}
        for row in rows
        for event in (row["events"] or [])
        if event is not None
    ]
    schema = {"customer_id": pl.String, **dict(EVENT.to_schema())}
    return pl.DataFrame(flat, schema=schema)


def _bools(result) -> list[bool]:
    if isinstance(result, pl.LazyFrame):
        result = result.collect().sort("customer_id")["rule"]
    return [
        bool(v) for v in np.asarray(result.to_numpy() if hasattr(result, "to_numpy") else result)
    ]


@settings(max_examples=40, deadline=None)
@given(
    rule=typed_rules,
    rows=st.lists(typed_row(), min_size=1, max_size=6),
    as_of=typed_as_of,
)
def test_record_face_equals_table_face(rule, rows, as_of):
    rows = _with_ids(rows)
    expected = [evaluate(rule, row, as_of=as_of) for row in rows]
    frame = _polars(rows)
    numpy_pandas = _numpy_pandas(rows)
    numpy_pandas.index = np.arange(len(rows)) * 10 + 5  # a non-default index is kept
    kinds = {
        "polars": frame,
        "polars lazy": frame.lazy(),
        "pandas/pyarrow": frame.to_pandas(use_pyarrow_extension_array=True),
        "pandas/numpy": numpy_pandas,
    }
    for kind, table in kinds.items():
        got = evaluate_table(rule, table, as_of=as_of)
        assert _bools(got) == expected, (kind, to_text(rule))
    pandas_result = evaluate_table(rule, numpy_pandas, as_of=as_of)
    assert list(pandas_result.index) == list(numpy_pandas.index)

    # The events as a separate table, keyed by customer id.
    events = _events_table(rows)
    without = frame.drop("events")
    got = evaluate_table(rule, without, as_of=as_of, events={"events": events})
    assert _bools(got) == expected, ("events table", to_text(rule))
    got = evaluate_table(
        rule,
        without.to_pandas(use_pyarrow_extension_array=True),
        as_of=as_of,
        events={"events": events.to_pandas(use_pyarrow_extension_array=True)},
    )
    assert _bools(got) == expected, ("pandas events table", to_text(rule))


@settings(max_examples=25, deadline=None)
@given(
    rule=typed_rules,
    rows=st.lists(typed_row(), min_size=1, max_size=5),
    as_of=typed_as_of,
)
def test_mapping_and_pyarrow_tables_agree_too(rule, rows, as_of):
    rows = _with_ids(rows)
    expected = [evaluate(rule, row, as_of=as_of) for row in rows]
    mapping = {k: [row[k] for row in rows] for k in rows[0]}
    got = evaluate_table(rule, mapping, as_of=as_of)
    assert isinstance(got, np.ndarray)
    assert got.dtype == bool
    assert got.tolist() == expected
    assert _bools(evaluate_table(rule, _polars(rows).to_arrow(), as_of=as_of)) == expected


def test_a_hand_checked_table():
    as_of = dt.date(2024, 3, 31)
    view = {"type": "view", "value": 1.0, "timestamp": dt.datetime(2024, 3, 30, tzinfo=UTC)}
    empty = dict.fromkeys(["n", "x", "s", "b", "d", "t", "tags", "events"])
    rows = _with_ids(
        [
            {**empty, "n": 4, "x": 1.5, "s": "ab", "b": True, "d": dt.date(2024, 3, 20),
             "tags": ["vip"], "events": [view]},
            {**empty, "x": float("nan")},
            {**empty, "n": 1, "s": "ba", "b": False, "d": dt.date(2023, 1, 1), "tags": [],
             "events": []},
        ]
    )  # fmt: skip
    rule = 'n >= 3 and has tag "vip" and d within last 30 days and count(events) >= 1'
    for table in (_polars(rows), _numpy_pandas(rows), _polars(rows).to_pandas()):
        assert _bools(evaluate_table(rule, table, as_of=as_of)) == [True, False, False]
    assert _bools(evaluate_table("x != 1.5", _polars(rows))) == [False, False, False]
    assert _bools(evaluate_table("not (x = 1.5)", pd.DataFrame(rows))) == [False, True, True]
    assert _bools(evaluate_table("s < 'b'", pd.DataFrame(rows))) == [True, False, False]
