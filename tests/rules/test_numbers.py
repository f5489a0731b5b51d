"""Numeric literals compare by exact value on every backend (issue 18, item 1).

The reference is Python's own int/float comparison, which is exact: ``2**53 + 1 != 2.0**53``,
``-0.0 == 0.0``, ``2**62 < 2.5`` is false. The record face uses it directly; every table face
(polars eager and lazy, pandas with numpy and with pyarrow dtypes, pyarrow) must agree.
"""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.profile import fold_events
from clientmodel.rules import Between, Compare, InList, evaluate, evaluate_table, to_text
from clientmodel.rules.nodes import INT_MAX, INT_MIN

from .test_agreement import _bools

OPS = ("=", "!=", "<", "<=", ">", ">=")


def _frames(column: pl.Series) -> dict[str, object]:
    """One column as every kind of frame, built from the same polars column."""
    frame = pl.DataFrame({"customer_id": [f"c{i}" for i in range(len(column))], "x": column})
    out: dict[str, object] = {
        "polars": frame,
        "polars lazy": frame.lazy(),
        "pandas/pyarrow": frame.to_pandas(use_pyarrow_extension_array=True),
        "pyarrow": frame.to_arrow(),
    }
    out["pandas/numpy"] = frame.to_pandas()  # integers with nulls become float64 here
    return out


def _record_answers(rule, table) -> list[bool]:
    """The record face on the values as this frame holds them."""
    if isinstance(table, pl.LazyFrame):
        table = table.collect()
    if isinstance(table, pd.DataFrame):
        values = table["x"].tolist()
    else:
        values = table["x"].to_pylist() if isinstance(table, pa.Table) else table["x"].to_list()
    return [evaluate(rule, {"x": v}) for v in values]


def _check(rule, column: pl.Series) -> None:
    for kind, table in _frames(column).items():
        expected = _record_answers(rule, table)
        got = _bools(evaluate_table(rule, table))
        assert got == expected, (kind, to_text(rule), column.to_list())


# ------------------------------------------------------------------------- named defects
def test_int_literals_against_a_float_column_on_polars():
    # polars raised InvalidOperationError ('is_in' cannot check Float64 in List(Int64)).
    table = pl.DataFrame({"price": [100.0, 150.0]})
    assert evaluate_table("price in [100, 200]", table).to_list() == [True, False]
    got = evaluate_table("price in [100, 200]", table.with_columns(customer_id=pl.lit("a")).lazy())
    assert got.collect()["rule"].to_list() == [True, False]


def test_negative_zero_is_in_a_list_holding_zero():
    # -0.0 == 0.0 in Python; pyarrow's is_in hashed them apart.
    for table in (
        pa.table({"x": [-0.0]}),
        pd.DataFrame({"x": [-0.0]}, dtype="double[pyarrow]"),
        pl.DataFrame({"x": [-0.0]}),
    ):
        assert _bools(evaluate_table("x in [0.0, 1.0]", table)) == [True]
        assert _bools(evaluate_table("x not in [0.0]", table)) == [False]
    assert evaluate("x in [0.0, 1.0]", {"x": -0.0})


def test_a_huge_integer_column_against_float_literals():
    # pyarrow leaked ArrowInvalid casting 2**62 to a double; polars answered 2**62 < 2.5 true-ish.
    for table in (pa.table({"x": [2**62, 5]}), pl.DataFrame({"x": [2**62, 5]})):
        assert _bools(evaluate_table("x in [2.5, 5.0]", table)) == [False, True]
        assert _bools(evaluate_table("x < 2.5", table)) == [False, False]
    # 2**62 + 1 is not the double 2.0**62 (Python: 4611686018427387905 == 4.611686018427388e18
    # is False); the table face cast the column to float and said equal.
    table = pl.DataFrame({"x": [2**62 + 1, 2**62]})
    assert _bools(evaluate_table("x = 4611686018427387904.0", table)) == [False, True]


def test_an_integer_literal_beyond_2_53_against_a_float_column():
    # 2**53 + 1 has no double; the nearest are 2**53 and 2**53 + 2.
    table = pl.DataFrame({"x": [2.0**53, 2.0**53 + 2]})
    assert _bools(evaluate_table("x = 9007199254740993", table)) == [False, False]
    assert _bools(evaluate_table("x < 9007199254740993", table)) == [True, False]
    assert _bools(evaluate_table("x > 9007199254740993", table)) == [False, True]


def test_literals_outside_an_unsigned_column_are_constants():
    table = pl.DataFrame({"x": [2**64 - 1, 0, None]}, schema={"x": pl.UInt64})
    assert _bools(evaluate_table("x > -1", table)) == [True, True, False]
    assert _bools(evaluate_table("x >= 9223372036854775807", table)) == [True, False, False]


def test_a_float32_column_compares_the_double_it_holds():
    # float32(0.1) is 0.100000001490116...; the record face reads that double, not 0.1.
    table = pl.DataFrame({"x": [0.1]}, schema={"x": pl.Float32})
    assert _bools(evaluate_table("x = 0.1", table)) == [False]
    assert _bools(evaluate_table("x > 0.1", table)) == [True]


def test_fold_events_rules_mix_integer_literals_with_float_sums():
    # fold_events crashed on polars: its sum_purchase column is Float64.
    t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    events = pl.DataFrame(
        {
            "profile_id": ["a", "a", "b"],
            "event_id": ["1", "2", "3"],
            "type": ["purchase", "purchase", "purchase"],
            "channel": ["app", "app", "web"],
            "timestamp": [t, t, t],
            "value": [5.0, 5.0, 7.0],
        }
    )
    out = fold_events(events, as_of=t, rules={"b": "sum_purchase in [10, 20]"})
    assert out.tags.to_dicts() == [{"profile_id": "a", "tag": "b"}]


def test_fold_events_on_polars_writes_parquet():
    # Campaign/code columns that held only nulls came back as Object, which Parquet refuses.
    t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    events = pl.DataFrame(
        {
            "profile_id": ["a", "b"],
            "event_id": ["1", "2"],
            "type": ["view", "view"],
            "channel": ["app", "web"],
            "timestamp": [t, t],
            "campaign": ["spring", None],
        }
    )
    out = fold_events(events, as_of=t)
    assert pl.Object not in out.profiles.schema.values()
    for frame in (out.profiles, out.interest, out.tags):
        frame.write_parquet(io.BytesIO())


# ------------------------------------------------------------------------- the property
_special_ints = st.sampled_from(
    [0, 1, -1, 2**53, 2**53 + 1, -(2**53) - 1, 2**62, 2**62 + 1, INT_MIN, INT_MAX]
)
_special_floats = st.sampled_from(
    [0.0, -0.0, 0.5, 2.5, -2.5, 2.0**53, 2.0**62, 9.3e18, -9.3e18, 1e300, 4.611686018427388e18]
)
int_literals = st.one_of(st.integers(-5, 5), st.integers(INT_MIN, INT_MAX), _special_ints)
float_literals = st.one_of(
    st.floats(-10, 10).map(lambda v: round(v, 1)),
    st.floats(allow_nan=False, allow_infinity=False),
    _special_floats,
)
literals = st.one_of(int_literals, float_literals)


@st.composite
def _columns(draw):
    if draw(st.booleans()):
        values = st.one_of(st.integers(-5, 5), st.integers(INT_MIN, INT_MAX), _special_ints)
        dtype = pl.Int64
    else:
        values = st.one_of(
            st.floats(-10, 10).map(lambda v: round(v, 1)),
            st.floats(allow_nan=True, allow_infinity=True),
            _special_floats,
            _special_ints.map(float),
        )
        dtype = draw(st.sampled_from([pl.Float64, pl.Float32]))
    rows = draw(st.lists(st.one_of(st.none(), values), min_size=1, max_size=6))
    if dtype == pl.Float32:
        # values a float32 holds (larger ones would overflow to inf when built)
        rows = [None if v is None or abs(v) > 3e38 else float(np.float32(v)) for v in rows]
    return pl.Series("x", rows, dtype=dtype, strict=False)


@st.composite
def _numeric_rules(draw):
    shape = draw(st.sampled_from(["compare", "in", "between"]))
    if shape == "compare":
        return Compare(field="x", op=draw(st.sampled_from(OPS)), value=draw(literals))
    if shape == "in":
        kind = draw(st.sampled_from([int_literals, float_literals, literals]))
        values = draw(st.lists(kind, min_size=1, max_size=4))
        return InList(field="x", values=tuple(values), negate=draw(st.booleans()))
    return Between(field="x", low=draw(literals), high=draw(literals))


@settings(max_examples=60, deadline=None)
@given(rule=_numeric_rules(), column=_columns())
def test_record_face_equals_every_table_face_on_numbers(rule, column):
    _check(rule, column)


@pytest.mark.parametrize("dtype", [pl.Int8, pl.UInt8, pl.Int32, pl.UInt64, pl.Float32])
def test_narrow_and_unsigned_dtypes_agree(dtype):
    column = pl.Series("x", [0, 1, 100, None], dtype=dtype)
    for text in ("x < 300", "x > -1", "x in [1, 1.0, 2.5, 300]", "x = 100.0", "x != 0.5"):
        _check(text, column)
