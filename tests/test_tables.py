"""The one door for tables: every frame kind in, the same kind out, clear errors on bad columns."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.errors import ArgumentError, DataError, RuleError, describe_rows
from clientmodel.tables import read_table

KINDS = ["pandas", "polars", "pyarrow", "mapping"]


def make(kind: str, data: dict):
    if kind == "pandas":
        return pd.DataFrame(data)
    if kind == "polars":
        return pl.DataFrame(data)
    if kind == "pyarrow":
        return pa.table(data)
    return data


@pytest.mark.parametrize("kind", KINDS)
def test_result_comes_back_as_the_callers_kind(kind):
    table = read_table(make(kind, {"x": [1.0, 2.0, 3.0]}))
    out = table.result({"y": table.numbers("x") * 2})
    expected = {"pandas": pd.DataFrame, "polars": pl.DataFrame, "pyarrow": pa.Table,
                "mapping": dict}[kind]  # fmt: skip
    assert isinstance(out, expected)
    column = out.column("y").to_pylist() if kind == "pyarrow" else list(out["y"])
    assert column == [2.0, 4.0, 6.0]


def test_lazy_polars_is_collected():
    table = read_table(pl.DataFrame({"x": [1, 2]}).lazy())
    assert table.numbers("x").tolist() == [1.0, 2.0]


@pytest.mark.parametrize("kind", KINDS)
def test_missing_columns_are_listed_with_the_existing_ones(kind):
    table = read_table(make(kind, {"customer": ["a"], "when": ["2024-01-01"]}))
    with pytest.raises(DataError) as info:
        table.require("customer_id", "timestamp")
    message = str(info.value)
    assert "customer_id" in message
    assert "timestamp" in message
    assert "customer" in message
    assert "when" in message


@pytest.mark.parametrize("kind", ["pandas", "polars", "mapping"])
def test_bad_numbers_are_reported_with_rows(kind):
    table = read_table(make(kind, {"v": ["1.5", "oops", "2", "nan?"]}))
    with pytest.raises(DataError) as info:
        table.numbers("v")
    assert info.value.field == "v"
    assert list(info.value.rows) == [1, 3]
    assert "oops" in str(info.value)


def test_counts_must_be_whole_and_non_negative():
    with pytest.raises(DataError, match="row 1"):
        read_table({"n": [1, 2.5]}).numbers("n", kind="count")
    with pytest.raises(DataError, match="row 0"):
        read_table({"n": [-1, 2]}).numbers("n", kind="count")
    assert read_table({"n": [0, 3]}).numbers("n", kind="count").tolist() == [0, 3]


def test_nulls_are_rejected_unless_allowed():
    with pytest.raises(DataError, match="row 1"):
        read_table(pd.DataFrame({"v": [1.0, None]})).numbers("v")
    values = read_table(pd.DataFrame({"v": [1.0, None]})).numbers("v", allow_null=True)
    assert np.isnan(values[1])


def test_naive_timestamps_need_a_timezone_aware_ones_keep_theirs():
    naive = pd.DataFrame({"t": pd.to_datetime(["2024-01-01 23:30"])})
    with pytest.raises(DataError, match="naive"):
        read_table(naive).timestamps("t")
    stamps = read_table(naive).timestamps("t", tz="Asia/Shanghai")
    assert stamps.tz == "Asia/Shanghai"
    assert str(stamps.values[0]) == "2024-01-01T23:30:00.000000"
    aware = pd.DataFrame({"t": pd.to_datetime(["2024-01-01 23:30"]).tz_localize("Asia/Shanghai")})
    # Wall-clock time stays on the Shanghai day (not shifted to UTC 15:30).
    kept = read_table(aware).timestamps("t")
    assert kept.tz == "Asia/Shanghai"
    assert str(kept.values[0]) == "2024-01-01T23:30:00.000000"
    in_utc = read_table(aware).timestamps("t", tz="UTC")
    assert str(in_utc.values[0]) == "2024-01-01T15:30:00.000000"


def test_dates_need_no_timezone_and_iso_strings_parse():
    dates = read_table({"t": [dt.date(2024, 2, 29)]}).timestamps("t")
    assert dates.tz is None
    iso = read_table({"t": ["2024-02-29T10:00:00+02:00"]}).timestamps("t")
    assert str(iso.values[0]) in {"2024-02-29T10:00:00.000000", "2024-02-29T08:00:00.000000"}


def test_polars_and_pandas_timestamps_agree():
    ts = pd.to_datetime(["2024-03-01 10:00", "2024-03-02 11:00"], utc=True)
    a = read_table(pd.DataFrame({"t": ts})).timestamps("t")
    b = read_table(pl.DataFrame({"t": ts})).timestamps("t")
    assert np.array_equal(a.values, b.values)
    assert a.tz == b.tz == "UTC"


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e9, 1e9), min_size=1, max_size=30), st.sampled_from(KINDS))
def test_numbers_round_trip_for_every_kind(values, kind):
    table = read_table(make(kind, {"x": values}))
    assert table.numbers("x").tolist() == values


def test_errors_have_stable_codes_and_json_form():
    codes = {DataError: "bad_data", ArgumentError: "bad_argument", RuleError: "rule_error"}
    for cls, code in codes.items():
        assert cls("m").code == code
    error = DataError("bad v", field="v", rows=list(range(10)))
    payload = json.loads(json.dumps(error.to_dict()))
    assert payload["code"] == "bad_data"
    assert payload["field"] == "v"
    assert payload["rows"] == [0, 1, 2, 3, 4]  # the first few only
    assert isinstance(error, ValueError)
    assert describe_rows(range(7), "abcdefg").endswith("(and 2 more)")


def test_a_nan_among_string_ids_is_a_null_not_the_text_nan():
    table = read_table({"c": ["a", float("nan"), "b"]})
    assert table.raw("c")[1] != table.raw("c")[1]  # still the float NaN
    with pytest.raises(DataError, match=r"null id.*row 1"):
        table.ids("c")
    with pytest.raises(DataError, match="mixes id types"):
        read_table({"c": ["1", 1]}).factorize("c")  # not silently the one customer '1'
    assert read_table({"c": ["a", "b"]}).raw("c").dtype.kind == "U"  # plain strings stay fast


def test_naive_numpy_datetimes_say_which_tz_to_pass_and_offsets_read_back():
    from clientmodel.transactions import summarize

    log = {"customer_id": ["a", "a"],
           "timestamp": ["2024-01-01T23:30:00+08:00", "2024-01-05T10:00:00+08:00"]}  # fmt: skip
    summary = summarize(log, as_of="2024-02-01")
    assert summary["first_purchase"].dtype == np.dtype("datetime64[us]")  # naive wall clock
    with pytest.raises(DataError, match=r"pass tz=.*'UTC\+08:00'.*built from") as info:
        read_table(summary).timestamps("first_purchase")
    assert info.value.field == "first_purchase"
    # The log's timezone is a fixed offset; that name is accepted back.
    stamps = read_table(summary).timestamps("first_purchase", tz="UTC+08:00")
    assert str(stamps.values[0]) == "2024-01-01T23:30:00.000000"
    with pytest.raises(ArgumentError, match="UTC offset"):
        read_table(summary).timestamps("first_purchase", tz="Mars/Olympus")


@pytest.mark.parametrize("kind", ["pandas", "polars", "pyarrow"])
def test_offset_strings_come_back_aware_in_that_offset(kind):
    table = read_table(make(kind, {"t": ["2024-01-01T23:30:00+08:00"]}))
    stamps = table.timestamps("t")
    assert stamps.tz == "UTC+08:00"
    back = read_table(table.result({"t": stamps.values}, tz=stamps.tz)).timestamps("t")
    assert str(back.values[0]) == "2024-01-01T23:30:00.000000"  # the same wall clock, aware
    assert back.tz in {"UTC+08:00", "Etc/GMT-8", "+08:00"}  # each engine's name for it


def test_one_named_zone_keeps_its_wall_clock_across_a_dst_change():
    # Found by the history property test: pandas timestamps in America/New_York around the
    # 2024-03-10 DST change were read in UTC, moving 23:30 on the 9th to the 10th.
    import pandas as pd

    stamps = pd.to_datetime(["2024-03-09 23:30", "2024-03-10 23:30"]).tz_localize(
        "America/New_York"
    )
    got = read_table(pd.DataFrame({"t": stamps})).timestamps("t")
    assert got.tz == "America/New_York"
    assert got.values.astype(str).tolist() == [
        "2024-03-09T23:30:00.000000",
        "2024-03-10T23:30:00.000000",
    ]
