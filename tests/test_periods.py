"""Units, as_of and calendar windows."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientmodel.errors import ArgumentError
from clientmodel.periods import (
    UNIT_DAYS,
    as_of_value,
    duration_in_units,
    parse_timestamp,
    parse_unit,
    period_start,
    relative_delta,
    window_start,
)


@pytest.mark.parametrize(("name", "unit"), [("d", "D"), ("weeks", "W"), ("Month", "M"),
                                            ("quarter", "Q"), ("Y", "Y")])  # fmt: skip
def test_unit_aliases(name, unit):
    assert parse_unit(name) == unit


def test_unknown_unit_is_an_argument_error_naming_the_choices():
    with pytest.raises(ArgumentError, match="D, W, M, Q, Y"):
        parse_unit("fortnight")


def test_durations():
    days = np.array([7, 365], dtype="timedelta64[D]")
    assert duration_in_units(days, "W").tolist() == [1.0, 365 / 7]
    assert duration_in_units(days, "Y")[1] == pytest.approx(365 / 365.2425)
    assert UNIT_DAYS["M"] * 12 == pytest.approx(365.2425)


def test_as_of_date_means_the_end_of_that_day():
    assert str(as_of_value(dt.date(2024, 2, 29), tz=None)) == "2024-02-29T23:59:59.999999"
    assert str(as_of_value("2024-02-29", tz="UTC")) == "2024-02-29T23:59:59.999999"


def test_as_of_aware_datetime_is_read_in_the_datas_timezone():
    at = dt.datetime(2024, 1, 1, 16, 0, tzinfo=dt.timezone.utc)
    assert str(as_of_value(at, tz="Asia/Shanghai")) == "2024-01-02T00:00:00.000000"


@pytest.mark.parametrize("bad", ["yesterday", 42, dt.datetime(2024, 1, 1)])
def test_bad_as_of(bad):
    with pytest.raises(ArgumentError, match="as_of"):
        as_of_value(bad, tz=None)


def test_calendar_windows_follow_the_calendar():
    assert dt.date(2024, 1, 31) + relative_delta(1, "M") == dt.date(2024, 2, 29)
    assert window_start(dt.date(2024, 3, 31), relative_delta(1, "M")) == dt.date(2024, 2, 29)
    assert window_start(dt.date(2024, 3, 31), relative_delta(1, "Q")) == dt.date(2023, 12, 31)
    with pytest.raises(ArgumentError):
        window_start(dt.date(2024, 3, 31), relative_delta(-1, "M"))


@given(st.dates(dt.date(1990, 1, 1), dt.date(2100, 1, 1)), st.sampled_from("DWMQY"))
def test_period_start_is_the_first_day_of_the_period(day, unit):
    start = period_start(np.array([day], dtype="datetime64[D]"), unit)[0].astype(dt.date)
    assert start <= day
    if unit == "W":
        assert start.weekday() == 0
        assert (day - start).days < 7
    elif unit == "M":
        assert start == day.replace(day=1)
    elif unit == "Q":
        assert start == dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    elif unit == "Y":
        assert start == dt.date(day.year, 1, 1)
    else:
        assert start == day


def test_timezone_reads_every_spelling_of_a_fixed_offset_and_refuses_nonsense():
    import datetime as dt

    from clientmodel.errors import ArgumentError
    from clientmodel.periods import timezone

    eight = dt.timezone(dt.timedelta(hours=8))
    assert timezone("UTC+08:00") == timezone("+08:00") == timezone("+0800") == eight
    assert timezone("-05:30") == dt.timezone(-dt.timedelta(hours=5, minutes=30))
    assert timezone("z") is dt.timezone.utc
    for bad in ("Mars/Olympus", "", "+99:99"):
        with pytest.raises(ArgumentError, match="not a known timezone"):
            timezone(bad)


def test_a_pyarrow_fixed_offset_column_summarises_with_an_aware_as_of():
    import datetime as dt

    import pyarrow as pa

    from clientmodel.transactions import summarize

    stamps = pa.array(
        [dt.datetime(2024, 1, 1, 9), dt.datetime(2024, 1, 8, 9)], pa.timestamp("us", tz="+08:00")
    )
    log = pa.table({"customer_id": ["a", "a"], "timestamp": stamps})
    as_of = dt.datetime(2024, 1, 15, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    out = summarize(log, as_of=as_of, unit="D")
    # First purchase 1 January, last 8 January, as_of 15 January (all +08:00): by hand.
    assert out["recency"].to_pylist() == [7.0]
    assert out["T"].to_pylist() == [14.0]


# -- one ISO 8601 parser, the same on Python 3.10 and 3.11 ------------------------------------

UTC = dt.timezone.utc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-31", dt.date(2024, 3, 31)),
        # "Z" was refused by datetime.fromisoformat on Python 3.10 (as_of, summarize, the CLI).
        ("2024-03-31T18:00:00Z", dt.datetime(2024, 3, 31, 18, tzinfo=UTC)),
        ("2024-03-31t18:00:00z", dt.datetime(2024, 3, 31, 18, tzinfo=UTC)),
        ("2024-03-31 18:00", dt.datetime(2024, 3, 31, 18)),
        ("2024-03-31T18:00:00.5+08:00",
         dt.datetime(2024, 3, 31, 18, 0, 0, 500000, tzinfo=dt.timezone(dt.timedelta(hours=8)))),
        ("2024-03-31T18:00:00,25-0530",
         dt.datetime(2024, 3, 31, 18, 0, 0, 250000,
                     tzinfo=dt.timezone(-dt.timedelta(hours=5, minutes=30)))),
        ("2024-03-31T18+01",
         dt.datetime(2024, 3, 31, 18, tzinfo=dt.timezone(dt.timedelta(hours=1)))),
        (" 2024-03-31T18:00:00+00:00 ", dt.datetime(2024, 3, 31, 18, tzinfo=UTC)),
    ],
)  # fmt: skip
def test_parse_timestamp_reads_iso_8601(text, expected):
    value = parse_timestamp(text)
    assert value == expected
    assert type(value) is type(expected)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        assert isinstance(value.tzinfo, dt.timezone)  # stdlib offsets, not dateutil's


@pytest.mark.parametrize(
    "text", ["yesterday", "2024", "2024-03", "2024-13-01", "2024-02-30", "2024-03-31T25:00",
             "31/03/2024", "2024-03-31T18:00:00+25:00", "", 42]
)  # fmt: skip
def test_parse_timestamp_refuses_the_rest_naming_the_field(text):
    with pytest.raises(ArgumentError, match="when") as info:
        parse_timestamp(text, field="when")  # type: ignore[arg-type]
    assert info.value.field == "when"


@given(
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1)),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_parse_timestamp_inverts_isoformat(moment, minutes):
    aware = moment.replace(tzinfo=dt.timezone(dt.timedelta(minutes=minutes)))
    assert parse_timestamp(aware.isoformat()) == aware
    assert parse_timestamp(moment.isoformat()) == moment
    utc = moment.replace(tzinfo=UTC)
    assert parse_timestamp(utc.isoformat().replace("+00:00", "Z")) == utc


def test_as_of_accepts_z():
    assert str(as_of_value("2024-01-01T16:00:00Z", tz="Asia/Shanghai")) == (
        "2024-01-02T00:00:00.000000"
    )


def test_periods_has_no_other_iso_parser():
    # One parser: as_of goes through parse_timestamp, not datetime.fromisoformat.
    import inspect

    from clientmodel import periods

    source = inspect.getsource(periods)
    assert "datetime.fromisoformat(" not in source
