"""The record face: hand-checked answers, null semantics, dates, windows, aggregates."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import attrs
import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel, ConfigDict

from clientmodel.errors import ArgumentError, RuleError
from clientmodel.rules import evaluate, failing_clauses, parse

UTC = dt.timezone.utc
AS_OF = dt.date(2024, 3, 31)


def test_readme_example():
    rule = parse('frequency >= 3 and has tag "vip" and last_purchase within last 30 days')
    record = {"frequency": 4, "tags": ["vip"], "last_purchase": dt.date(2024, 3, 20)}
    assert evaluate(rule, record, as_of=AS_OF)
    assert not evaluate(rule, {**record, "frequency": 2}, as_of=AS_OF)
    assert not evaluate(rule, {**record, "tags": ["new"]}, as_of=AS_OF)
    # 30 days before 31 March is 1 March: the window is 2..31 March.
    assert evaluate(rule, {**record, "last_purchase": dt.date(2024, 3, 2)}, as_of=AS_OF)
    assert not evaluate(rule, {**record, "last_purchase": dt.date(2024, 3, 1)}, as_of=AS_OF)
    assert not evaluate(rule, {**record, "last_purchase": dt.date(2024, 4, 1)}, as_of=AS_OF)


def test_meddpicc_score_example():
    assert evaluate("meddpicc_score >= 0.5", {"meddpicc_score": 0.6})
    assert not evaluate("meddpicc_score >= 0.75", {"meddpicc_score": 0.6})


@pytest.mark.parametrize(
    ("text", "record", "expected"),
    [
        ("r >= 4 and f between 2 and 5", {"r": 4, "f": 5}, True),
        ("r >= 4 and f between 2 and 5", {"r": 4, "f": 6}, False),
        ('country in ["FR", "DE"]', {"country": "DE"}, True),
        ('country in ["FR", "DE"]', {"country": "de"}, False),
        ('country not in ["FR", "DE"]', {"country": "IT"}, True),
        ("x in [1, 2.5]", {"x": 2.5}, True),
        ("x in [1, 2.5]", {"x": 1.0}, True),
        ("email is not null", {"email": "a@b.c"}, True),
        ("email is not null", {"email": ""}, True),
        ('email contains "@acme"', {"email": "jo@acme.com"}, True),
        ('email contains "@ACME"', {"email": "jo@acme.com"}, False),
        ('email contains "."', {"email": "jo@acme.com"}, True),
        ('name starts with "Ac"', {"name": "Acme"}, True),
        ('name starts with "Ac"', {"name": "acme"}, False),
        ('name ends with "me"', {"name": "Acme"}, True),
        ('has any tags ["a", "b"]', {"tags": ["c", "b"]}, True),
        ('has all tags ["a", "b"]', {"tags": ["a", "c"]}, False),
        ('has all tags ["a", "b"]', {"tags": ("b", "a", None)}, True),
        ('interests has tag "x"', {"interests": {"x", "y"}}, True),
        ("active", {"active": True}, True),
        ("not active", {"active": False}, True),
        ("name < 'b'", {"name": "abc"}, True),
        ("amount >= 10000", {"amount": Decimal("10000.00")}, True),
        ("amount > 0.1", {"amount": Decimal("0.1")}, False),
        ("n >= 3", {"n": np.int64(3)}, True),
        ("flag = true", {"flag": np.bool_(True)}, True),
        ("a = 1 or b = 2 and c = 3", {"a": 1, "b": 0, "c": 0}, True),
        ("(a = 1 or b = 2) and c = 3", {"a": 1, "b": 0, "c": 0}, False),
    ],
)
def test_by_hand(text, record, expected):
    assert evaluate(text, record) is expected


# ------------------------------------------------------------------------- nulls


@pytest.mark.parametrize("missing", [{}, {"x": None}, {"x": float("nan")}, {"x": pd.NA}])
@pytest.mark.parametrize(
    "text",
    [
        "x = 1",
        "x != 1",
        "x < 1",
        "x >= 1",
        "x in [1]",
        "x not in [1]",
        "x between 0 and 2",
        'x contains "a"',
        'x starts with ""',
        'x has tag "a"',
        'x has any tags ["a"]',
        'x has all tags ["a"]',
        "x within last 30 days",
        "x older than 1 day",
        "x is not null",
    ],
)
def test_every_test_of_a_null_is_false(text, missing):
    assert evaluate(text, missing, as_of=AS_OF) is False
    assert evaluate(f"not ({text})", missing, as_of=AS_OF) is True


@pytest.mark.parametrize("missing", [{}, {"x": None}, {"x": float("nan")}, {"x": pd.NaT}])
def test_is_null(missing):
    assert evaluate("x is null", missing)


def test_null_event_lists_count_as_empty():
    for record in ({}, {"events": None}, {"events": []}):
        assert evaluate("count(events) = 0", record)
        assert evaluate("sum(events.v) = 0", record)
        assert not evaluate("count(events) >= 1", record)


# ------------------------------------------------------------------------- records of all kinds


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")
    r: int
    inner: dict[str, float] = {}


@attrs.frozen
class _Attrs:
    r: int

    def method(self) -> int:  # pragma: no cover - must never be read by a rule
        return 5


@dataclasses.dataclass
class _Data:
    r: int


def test_records_of_every_kind_and_dotted_fields():
    assert evaluate("r >= 4", _Model(r=5))
    assert evaluate("source = 'web'", _Model(r=1, source="web"))
    assert evaluate("inner.score > 0.5", _Model(r=1, inner={"score": 0.7}))
    assert evaluate("r >= 4", _Attrs(r=4))
    assert evaluate("r >= 4", _Data(r=4))
    assert evaluate("r >= 4", pd.Series({"r": 4}))
    assert evaluate("m.score >= 0.75 and m.champion", {"m": {"score": 0.8, "champion": True}})
    assert evaluate("m.score is null", {"m": None})
    assert evaluate("`m.score` = 1", {"m.score": 1, "m": {"score": 2}})  # exact key first
    # methods and private attributes are never read
    assert evaluate("method is null", _Attrs(r=1))
    assert evaluate("model_dump is null", _Model(r=1))
    assert evaluate("__class__ is null", _Data(r=1))


# ------------------------------------------------------------------------- type mismatches


@pytest.mark.parametrize(
    ("text", "record", "fragment"),
    [
        ("x > 3", {"x": "5"}, "holds '5' \\(text\\)"),
        ("x = 'a'", {"x": 1}, "holds 1 \\(a number\\)"),
        ("x > 3", {"x": True}, "true/false"),
        ("x = true", {"x": 1}, "a number"),
        ("x > 2024-01-01", {"x": 5}, "a number"),
        ("x contains 'a'", {"x": 5}, "text"),
        ("has tag 'a'", {"tags": "a,b"}, "list of tags"),
        ("has tag 'a'", {"tags": [1, 2]}, "a tag"),
        ("x within last 3 days", {"x": "2024-01-01"}, "date or datetime"),
        ("count(events) > 1", {"events": {"a": 1}}, "list of events"),
        ("sum(events.v) > 1", {"events": [{"v": "3"}]}, "number to add up"),
    ],
)
def test_wrong_kinds_raise_with_the_field(text, record, fragment):
    with pytest.raises(RuleError, match=fragment) as info:
        evaluate(text, record, as_of=AS_OF)
    assert info.value.field is not None


# ------------------------------------------------------------------------- dates and times


PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        # a datetime against a date literal: the calendar date in the value's own timezone
        ("t = 2024-03-30", dt.datetime(2024, 3, 30, 23, 59, tzinfo=UTC), True),
        ("t = 2024-03-30", dt.datetime(2024, 3, 31, 0, 30, tzinfo=PARIS), False),
        ("t > 2024-03-30", dt.datetime(2024, 3, 31, 0, 30, tzinfo=PARIS), True),
        ("t <= 2024-03-30", dt.datetime(2024, 3, 30, 23, 0, tzinfo=UTC), True),
        # a date against a datetime literal: the literal's own calendar date
        ("d = 2024-03-30T22:00:00-05:00", dt.date(2024, 3, 30), True),
        # datetime against datetime: instants
        ("t < 2024-03-30T12:00:00+02:00", dt.datetime(2024, 3, 30, 9, 59, tzinfo=UTC), True),
        ("t < 2024-03-30T12:00:00+02:00", dt.datetime(2024, 3, 30, 10, 0, tzinfo=UTC), False),
        # a naive datetime is wall-clock time in the literal's timezone
        ("t < 2024-03-30T12:00:00+02:00", dt.datetime(2024, 3, 30, 11, 59), True),
        ("t between 2024-03-01 and 2024-03-31", dt.datetime(2024, 3, 31, 23, tzinfo=UTC), True),
        ("t in [2024-03-01, 2024-03-02]", pd.Timestamp("2024-03-02 10:00", tz="UTC"), True),
        ("t = 2024-03-02", np.datetime64("2024-03-02T10:00"), True),
    ],
)
def test_dates_and_datetimes(text, value, expected):
    field = text.split()[0]
    assert evaluate(text, {field: value}) is expected


def test_windows_by_hand():
    as_of = dt.datetime(2024, 3, 31, 12, tzinfo=UTC)
    rec = {"t": dt.datetime(2024, 3, 1, 12, 0, 1, tzinfo=UTC)}
    # last 30 days as of 31 March 12:00 is (1 March 12:00, 31 March 12:00]
    assert evaluate("t within last 30 days", rec, as_of=as_of)
    edge = {"t": dt.datetime(2024, 3, 1, 12, tzinfo=UTC)}
    assert not evaluate("t within last 30 days", edge, as_of=as_of)
    # calendar months: one month before 31 March is 29 February (2024 is a leap year)
    feb29 = {"d": dt.date(2024, 2, 29)}
    assert evaluate("d older than 1 month", feb29, as_of=AS_OF)
    assert not evaluate("d within last 1 month", feb29, as_of=AS_OF)
    assert evaluate("d within last 1 month", {"d": dt.date(2024, 3, 1)}, as_of=AS_OF)
    assert evaluate("d within next 2 weeks", {"d": dt.date(2024, 4, 14)}, as_of=AS_OF)
    assert not evaluate("d within next 2 weeks", {"d": dt.date(2024, 4, 15)}, as_of=AS_OF)
    assert not evaluate("d within next 2 weeks", {"d": AS_OF}, as_of=AS_OF)
    assert evaluate("d within last 0 days", {"d": AS_OF}, as_of=AS_OF) is False
    # a date as_of means calendar dates: any time on 31 March is "within the last 1 day"
    late = {"t": dt.datetime(2024, 3, 31, 23, 59, tzinfo=UTC)}
    assert evaluate("t within last 1 day", late, as_of=AS_OF)
    assert not evaluate("t within last 1 day", late, as_of=as_of)
    # a date value with a datetime as_of: as_of's own calendar date
    assert evaluate("d within last 1 day", {"d": dt.date(2024, 3, 31)}, as_of=as_of)
    # strings are accepted for as_of
    assert evaluate("d within last 1 day", {"d": dt.date(2024, 3, 31)}, as_of="2024-03-31")
    assert evaluate("t within last 1 day", late, as_of="2024-04-01T00:30:00Z")


def test_windows_move_with_as_of_and_nothing_is_cached():
    rule = parse('count(events where type = "view") within last 30 days >= 1')
    seen = dt.datetime(2024, 3, 1, 10, tzinfo=UTC)
    record = {"events": [{"type": "view", "timestamp": seen}]}
    step = [(0, -1), (0, 0), (15, 0), (30, -1e-6), (30, 0), (0, 0)]
    answers = [
        evaluate(rule, record, as_of=seen + dt.timedelta(days=d, seconds=s)) for d, s in step
    ]
    # not yet happened, just happened, inside, its last microsecond, gone; then back again
    assert answers == [False, True, True, True, False, True]


def test_window_bounds_are_shared_only_by_the_same_wall_clock_as_of():
    # Bounds are kept per as_of; equal instants shown at other offsets must not share them.
    noon = dt.datetime(2024, 3, 31, 12, tzinfo=UTC)
    same_instant = noon.astimezone(dt.timezone(dt.timedelta(hours=2)))
    naive = {"t": dt.datetime(2024, 3, 31, 13)}  # wall-clock time in the as_of's timezone
    assert not evaluate("t within last 1 day", naive, as_of=noon)
    assert evaluate("t within last 1 day", naive, as_of=same_instant)
    # The repeated hour at the end of summer time: one wall-clock time, two instants.
    paris = ZoneInfo("Europe/Paris")
    first = dt.datetime(2024, 10, 27, 2, 30, tzinfo=paris)
    second = first.replace(fold=1)
    record = {"t": dt.datetime(2024, 10, 27, 0, 45, tzinfo=UTC)}
    assert evaluate("t within next 1 day", record, as_of=first)
    assert not evaluate("t within next 1 day", record, as_of=second)


def test_as_of_is_required_and_checked():
    with pytest.raises(RuleError, match="pass as_of"):
        evaluate("d within last 3 days", {"d": AS_OF})
    with pytest.raises(RuleError, match="pass as_of"):
        evaluate("count(events) within last 3 days > 1", {"events": []})
    assert evaluate("count(events) > 1 or d > 2024-01-01", {"d": AS_OF})  # no window: no as_of
    with pytest.raises(ArgumentError, match="naive"):
        evaluate("d within last 3 days", {"d": AS_OF}, as_of=dt.datetime(2024, 1, 1))
    with pytest.raises(ArgumentError, match="ISO 8601"):
        evaluate("d within last 3 days", {"d": AS_OF}, as_of="yesterday")


def test_windows_at_the_edges_of_the_calendar():
    far = {"d": dt.date(1, 1, 5)}
    assert evaluate("d within last 100000 years", far, as_of=dt.date(9999, 12, 31))
    assert not evaluate("d older than 100000 years", far, as_of=dt.date(9999, 12, 31))
    assert evaluate("d within next 100000 years", {"d": dt.date(9999, 1, 1)}, as_of=far["d"])


# ------------------------------------------------------------------------- aggregates


def _at(month: int, day: int, year: int = 2024) -> dt.datetime:
    return dt.datetime(year, month, day, tzinfo=UTC)


EVENTS = [
    {"type": "view", "topic": "skincare", "value": 0, "timestamp": _at(3, 30)},
    {"type": "view", "topic": "skincare", "value": 0, "timestamp": _at(3, 10)},
    {"type": "view", "topic": "skincare", "value": 0, "timestamp": _at(2, 10)},
    {"type": "view", "topic": "shoes", "value": 0, "timestamp": _at(3, 29)},
    {"type": "purchase", "topic": None, "value": 60, "timestamp": _at(3, 5)},
    {"type": "purchase", "topic": None, "value": 45.5, "timestamp": _at(3, 5, 2023)},
    {"type": "purchase", "topic": None, "value": None, "timestamp": None},
    None,
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('count(events where type = "view" and topic = "skincare") within last 30 days >= 2', True),
        (
            'count(events where type = "view" and topic = "skincare") within last 30 days >= 3',
            False,
        ),
        ('count(events where type = "view" and topic = "skincare") >= 3', True),
        ("count(events) = 7", True),  # the null event is skipped
        ("count(events) within last 1 year = 5", True),  # the event without a time is out
        ('sum(events.value where type = "purchase") = 105.5', True),
        ('sum(events.value where type = "purchase") within last 1 month = 60', True),
        ("sum(events.value) older than 6 months = 45.5", True),
        ("count(events where topic is null) = 3", True),
        ('count(events where not topic = "shoes") = 6', True),
    ],
)
def test_aggregates_by_hand(text, expected):
    assert evaluate(text, {"events": EVENTS}, as_of=AS_OF) is expected


def test_aggregate_time_field_and_models():
    class Event(BaseModel):
        kind: str
        at: dt.date

    record = {
        "log": [Event(kind="a", at=dt.date(2024, 3, 30)), Event(kind="a", at=dt.date(2023, 1, 1))]
    }
    assert evaluate("count(log where kind = 'a') within last 7 days by at = 1", record, as_of=AS_OF)


# ------------------------------------------------------------------------- failing clauses


def test_failing_clauses_lists_unmet_top_level_clauses():
    rule = "amount >= 10000 and source == 'partner' and (stage = 'demo' or champion)"
    record = {"amount": Decimal("1000"), "source": "partner", "stage": "lead", "champion": False}
    assert failing_clauses(rule, record) == [
        "amount >= 10000",
        'stage = "demo" or champion = true',
    ]
    assert failing_clauses(rule, {**record, "amount": 20000, "champion": True}) == []
    assert failing_clauses("x > 1", {"x": 0}) == ["x > 1"]
    assert failing_clauses("x > 1 or y > 1", {"x": 0}) == ["x > 1 or y > 1"]
