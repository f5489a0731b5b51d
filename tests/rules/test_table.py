"""The table face: every kind of test on every kind of frame, result shapes, compile, events."""

from __future__ import annotations

import datetime as dt
import warnings

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import polars as pl
import pytest

from clientmodel.errors import DataError, RuleError
from clientmodel.rules import Limits, compile, evaluate, evaluate_table

UTC = dt.timezone.utc
AS_OF = dt.date(2024, 3, 31)
EV = pl.Struct({"type": pl.String, "value": pl.Float64, "timestamp": pl.Datetime("us", "UTC")})
SCHEMA = {
    "customer_id": pl.String,
    "n": pl.Int64,
    "x": pl.Float64,
    "s": pl.String,
    "b": pl.Boolean,
    "d": pl.Date,
    "t": pl.Datetime("us", "UTC"),
    "tags": pl.List(pl.String),
    "events": pl.List(EV),
}


def _ev(kind, value, day):
    return {"type": kind, "value": value, "timestamp": dt.datetime(2024, 3, day, 12, tzinfo=UTC)}


ROWS = [
    {"customer_id": "a", "n": 4, "x": 1.5, "s": "ab", "b": True, "d": dt.date(2024, 3, 20),
     "t": dt.datetime(2024, 3, 30, 23, tzinfo=UTC), "tags": ["vip", "new"],
     "events": [_ev("view", 1.0, 30), _ev("view", 2.0, 29), _ev("buy", 50.0, 2)]},
    {"customer_id": "b", "n": None, "x": float("nan"), "s": None, "b": None, "d": None,
     "t": None, "tags": None, "events": None},
    {"customer_id": "c", "n": 1, "x": None, "s": "ba", "b": False, "d": dt.date(2023, 1, 1),
     "t": dt.datetime(2020, 1, 1, tzinfo=UTC), "tags": [], "events": []},
    {"customer_id": "d", "n": 2, "x": -2.0, "s": "", "b": True, "d": dt.date(2024, 3, 31),
     "t": dt.datetime(2024, 3, 1, tzinfo=UTC), "tags": ["gold", None],
     "events": [None, {"type": None, "value": None, "timestamp": None}, _ev("buy", 70.0, 20)]},
]  # fmt: skip


def _polars():
    return pl.DataFrame(ROWS, schema=SCHEMA)


def _numpy_pandas():
    frame = pd.DataFrame(ROWS).astype({"n": "float64", "x": "float64", "s": "str"})
    frame.index = [10, 20, 30, 40]
    return frame


FRAMES = {
    "polars": _polars,
    "polars lazy": lambda: _polars().lazy(),
    "pandas/pyarrow": lambda: _polars().to_pandas(use_pyarrow_extension_array=True),
    "pandas/numpy": _numpy_pandas,
    "pyarrow": lambda: _polars().to_arrow(),
    "mapping": lambda: {k: [r[k] for r in ROWS] for k in ROWS[0]},
}


def _bools(result):
    if isinstance(result, pl.LazyFrame):  # a lazy frame keeps no row order: sort by id
        result = result.collect().sort("customer_id")["rule"]
    if isinstance(result, np.ndarray):
        return result.tolist()
    return [bool(v) for v in result.to_numpy()]


# Hand-checked answers for rows a, b (all null), c, d.
CASES = [
    ("n = 4", [True, False, False, False]),
    ("n != 4", [False, False, True, True]),
    ("n < 2", [False, False, True, False]),
    ("n <= 2", [False, False, True, True]),
    ("n > 1.5", [True, False, False, True]),
    ("n >= 4", [True, False, False, False]),
    ("n in [1, 2]", [False, False, True, True]),
    ("n in [1, 2.5]", [False, False, True, False]),
    ("n not in [1, 2]", [True, False, False, False]),
    ("n between 2 and 4", [True, False, False, True]),
    ("n is null", [False, True, False, False]),
    ("n is not null", [True, False, True, True]),
    ("not n = 4", [False, True, True, True]),
    ("x != 1.5", [False, False, False, True]),
    ("x > -3", [True, False, False, True]),
    ("x is null", [False, True, True, False]),
    ("x not in [1.5]", [False, False, False, True]),
    ("s = 'ab'", [True, False, False, False]),
    ("s != 'ab'", [False, False, True, True]),
    ("s < 'b'", [True, False, False, True]),
    ("s in ['ab', '']", [True, False, False, True]),
    ("s not in ['ab']", [False, False, True, True]),
    ("s contains 'a'", [True, False, True, False]),
    ("s contains ''", [True, False, True, True]),
    ("s starts with 'b'", [False, False, True, False]),
    ("s ends with 'b'", [True, False, False, False]),
    ("b", [True, False, False, True]),
    ("b != true", [False, False, True, False]),
    ("not b", [False, True, True, False]),
    ("d >= 2024-03-20", [True, False, False, True]),
    ("d = 2024-03-31T23:00:00-05:00", [False, False, False, True]),
    ("d within last 11 days", [False, False, False, True]),
    ("d within last 12 days", [True, False, False, True]),
    ("d older than 1 year", [False, False, True, False]),
    ("d in [2024-03-20, 2023-01-01]", [True, False, True, False]),
    ("t = 2024-03-30", [True, False, False, False]),
    ("t > 2024-03-30", [False, False, False, False]),
    ("t <= 2024-03-01", [False, False, True, True]),
    ("t != 2024-03-30", [False, False, True, True]),
    ("t > 2024-03-30T23:00:00+00:00", [False, False, False, False]),
    ("t >= 2024-03-31T00:00:00+01:00", [True, False, False, False]),
    ("t within last 31 days", [True, False, False, True]),
    ("t within last 30 days", [True, False, False, False]),
    ("t between 2024-03-01 and 2024-03-30", [True, False, False, True]),
    ('has tag "vip"', [True, False, False, False]),
    ('has any tags ["gold", "new"]', [True, False, False, True]),
    ('has all tags ["vip", "new"]', [True, False, False, False]),
    ('not has tag "vip"', [False, True, True, True]),
    ("tags is null", [False, True, False, False]),
    ("count(events) = 0", [False, True, True, False]),
    ("count(events) = 2", [False, False, False, True]),
    ('count(events where type = "view") >= 2', [True, False, False, False]),
    ("count(events) within last 3 days >= 2", [True, False, False, False]),
    ("count(events) within last 2 days >= 2", [False, False, False, False]),
    ("count(events) within last 2 weeks = 1", [False, False, False, True]),
    ('sum(events.value where type = "buy") >= 60', [False, False, False, True]),
    ("sum(events.value) = 53", [True, False, False, False]),
    ("sum(events.value) older than 3 weeks = 50", [True, False, False, False]),
    ("count(events where type is null) = 1", [False, False, False, True]),
    ('n >= 2 and (s contains "a" or has tag "gold")', [True, False, False, True]),
]


@pytest.mark.parametrize("kind", list(FRAMES))
@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_every_test_on_every_frame(text, expected, kind):
    assert [evaluate(text, row, as_of=AS_OF) for row in ROWS] == expected  # the record face
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = evaluate_table(text, FRAMES[kind](), as_of=AS_OF)
    assert _bools(got) == expected


def test_result_kinds():
    text = "n >= 2"
    assert isinstance(evaluate_table(text, _polars()), pl.Series)
    got = evaluate_table(text, _numpy_pandas())
    assert isinstance(got, pd.Series)
    assert list(got.index) == [10, 20, 30, 40]
    got = evaluate_table("count(events) >= 1", _numpy_pandas(), as_of=AS_OF)
    assert list(got.index) == [10, 20, 30, 40]
    frame = _polars().to_pandas(use_pyarrow_extension_array=True)
    frame.index = ["w", "x", "y", "z"]
    got = evaluate_table("count(events) >= 1 and n > 0", frame)
    assert list(got.index) == ["w", "x", "y", "z"]
    assert got.tolist() == [True, False, False, True]
    assert isinstance(evaluate_table(text, {"n": np.array([1, 3])}), np.ndarray)
    lazy = evaluate_table(text, _polars().lazy(), name="hit")
    assert isinstance(lazy, pl.LazyFrame)
    assert lazy.collect().columns == [*SCHEMA, "hit"]
    assert evaluate_table(text, _polars(), name="hit").name == "hit"


def test_boolean_indexing_with_the_result():
    frame = _numpy_pandas()
    assert frame[evaluate_table("n >= 2", frame)]["customer_id"].tolist() == ["a", "d"]
    pl_frame = _polars()
    assert pl_frame.filter(evaluate_table("n >= 2", pl_frame))["customer_id"].to_list() == [
        "a",
        "d",
    ]


def test_compile_gives_a_narwhals_expression():
    frame = _polars()
    expr = compile('n >= 2 and t within last 30 days and has tag "vip"', frame, as_of=AS_OF)
    assert isinstance(expr, nw.Expr)
    out = nw.from_native(frame).filter(expr).to_native()
    assert out["customer_id"].to_list() == ["a"]
    lazy = nw.from_native(frame.lazy()).filter(expr).collect().to_native()
    assert lazy["customer_id"].to_list() == ["a"]
    pd_frame = _polars().to_pandas(use_pyarrow_extension_array=True)
    out = nw.from_native(pd_frame).filter(compile("s contains 'a'", pd_frame)).to_native()
    assert out["customer_id"].tolist() == ["a", "c"]
    with pytest.raises(RuleError, match="evaluate_table"):
        compile("count(events) > 1", frame)
    with pytest.raises(RuleError, match="evaluate_table"):
        compile("tags is null", _numpy_pandas())
    with pytest.raises(RuleError, match="did you mean 'n'"):
        compile("nn > 1", frame)
    with pytest.raises(RuleError, match="pass as_of"):
        compile("d within last 3 days", frame)


def test_schema_problems_raise_before_anything_runs():
    with pytest.raises(RuleError, match=r"holds dates.*and 1 more problem") as info:
        evaluate_table("d > 3 and s > 1", _polars())
    assert info.value.position == 4


def test_an_events_table_keyed_by_customer():
    customers = pl.DataFrame({"customer_id": ["a", "b", "c"], "r": [5, 4, 1]})
    events = pl.DataFrame(
        {
            "customer_id": ["a", "a", "a", "c", "x"],
            "type": ["view", "view", "buy", "view", "view"],
            "at": [dt.date(2024, 3, d) for d in (30, 2, 29, 30, 30)],
        }
    )
    rule = 'count(events where type = "view") within last 7 days by at >= 1 and r >= 1'
    assert evaluate_table(rule, customers, as_of=AS_OF, events={"events": events}).to_list() == [
        True,
        False,
        True,
    ]
    # the same with pandas, a mapping of columns and a lazy frame
    got = evaluate_table(
        rule, customers.to_pandas(), as_of=AS_OF, events={"events": events.to_pandas()}
    )
    assert got.tolist() == [True, False, True]
    got = evaluate_table(
        rule,
        customers.to_dict(as_series=False),
        as_of=AS_OF,
        events={"events": events.to_dict(as_series=False)},
    )
    assert got.tolist() == [True, False, True]
    lazy = evaluate_table(rule, customers.lazy(), as_of=AS_OF, events={"events": events.lazy()})
    assert lazy.collect().sort("customer_id")["rule"].to_list() == [True, False, True]
    # windows move with as_of: a week later nothing is left
    later = AS_OF + dt.timedelta(days=7)
    got = evaluate_table(rule, customers, as_of=later, events={"events": events}).to_list()
    assert got == [False, False, False]
    with pytest.raises(DataError, match="no key column 'cid'"):
        evaluate_table(rule, customers, as_of=AS_OF, events={"events": events}, key="cid")
    with pytest.raises(RuleError, match="did you mean 'type'"):
        evaluate_table("count(events where typ = 'x') > 1", customers, events={"events": events})


def test_windows_move_with_as_of_on_tables():
    frame = _polars()
    seen = [
        evaluate_table("t within last 1 day", frame, as_of=day).to_list()
        for day in (dt.date(2024, 3, 29), dt.date(2024, 3, 30), dt.date(2024, 3, 31))
    ]
    # t of row a is 30 March 23:00 UTC: not yet, inside, gone
    assert seen == [
        [False, False, False, False],
        [True, False, False, False],
        [False, False, False, False],
    ]
    moment = dt.datetime(2024, 3, 31, 22, tzinfo=UTC)
    assert evaluate_table("t within last 1 day", frame, as_of=moment).to_list()[0]
    later = moment + dt.timedelta(hours=1)
    assert not evaluate_table("t within last 1 day", frame, as_of=later).to_list()[0]


def test_naive_and_zoned_datetime_columns():
    paris = [dt.datetime(2024, 3, 31, 0, 30), dt.datetime(2024, 3, 30, 23, 30)]
    frame = pl.DataFrame({"t": paris}).with_columns(
        zoned=pl.col("t").dt.replace_time_zone("Europe/Paris")
    )
    # calendar dates in the column's own timezone (00:30 in Paris is 30 March 22:30 UTC)
    assert evaluate_table("zoned = 2024-03-31", frame).to_list() == [True, False]
    assert evaluate_table("t = 2024-03-31", frame).to_list() == [True, False]
    # a naive column is wall-clock time in the literal's timezone
    assert evaluate_table("t < 2024-03-31T00:00:00+09:00", frame).to_list() == [False, True]
    # 00:30 and 23:30 in Paris (UTC+1 that night) are 23:30 and 22:30 UTC
    assert evaluate_table("zoned < 2024-03-30T23:00:00+00:00", frame).to_list() == [False, True]
    for row in frame.to_dicts():
        for text in ("zoned = 2024-03-31", "t < 2024-03-31T00:00:00+09:00"):
            got = evaluate_table(text, pl.DataFrame([row])).to_list()
            assert got == [evaluate(text, row)]


def test_lazy_frames_without_a_key_or_with_objects_are_refused():
    lazy = _polars().lazy().drop("customer_id")
    with pytest.raises(RuleError, match="unique key"):
        evaluate_table("count(events) > 1", lazy)
    out = evaluate_table("count(events) > 1", lazy, key="n").collect().sort("n", nulls_last=True)
    assert out["rule"].to_list() == [False, True, True, False]  # n = 1, 2, 4, null


def test_dask_lazy_frames():
    dd = pytest.importorskip("dask.dataframe")
    frame = pd.DataFrame({"customer_id": ["a", "b", "c"], "r": [5.0, None, 1.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = evaluate_table("r >= 2 or r is null", dd.from_pandas(frame, npartitions=2))
        assert out.compute()["rule"].tolist() == [True, True, False]


def test_an_all_null_object_column_in_pandas():
    frame = pd.DataFrame({"d": [None, None]}, dtype=object)
    assert evaluate_table("d > 2024-01-01 or d is null", frame).tolist() == [True, True]


def test_struct_columns_and_dotted_fields():
    frame = pl.DataFrame(
        {"m": [{"score": 0.8, "champion": True}, {"score": 0.2, "champion": True}, None]}
    )
    for text, expected in [
        ("m.score >= 0.5 and m.champion", [True, False, False]),
        ("m.score is null", [False, False, True]),
        ("not m.champion", [False, False, True]),
    ]:
        assert [evaluate(text, row) for row in frame.to_dicts()] == expected
        assert evaluate_table(text, frame).to_list() == expected
        arrow_pandas = frame.to_pandas(use_pyarrow_extension_array=True)
        assert evaluate_table(text, arrow_pandas).tolist() == expected


def test_rules_as_json_dicts_and_limits_on_tables():
    frame = _polars()
    as_dict = {"kind": "compare", "field": "n", "op": ">=", "value": 2}
    assert evaluate_table(as_dict, frame).to_list() == [True, False, False, True]
    with pytest.raises(RuleError, match="deeper than the limit"):
        evaluate_table("not not not n = 1", frame, limits=Limits(max_depth=2))


def test_polars_lazy_keeps_the_row_order_through_an_events_join() -> None:
    """A polars lazy join keeps no row order: 20,000 shuffled rows came back reordered after a
    count over an events table; the lazy result keeps the input's order and no helper column."""
    ids = [f"p{i}" for i in np.random.default_rng(0).permutation(20_000)]
    people = pl.DataFrame({"customer_id": ids}).lazy()
    events = pl.DataFrame({"customer_id": ids[::-1] + ids[:10], "amount": [1.0] * 20_010})
    out = evaluate_table("count(events) >= 2", people, events={"events": events}).collect()
    assert out.columns == ["customer_id", "rule"]
    assert out["customer_id"].to_list() == ids
    assert out["rule"].to_list() == [True] * 10 + [False] * 19_990  # the first ten have two events
