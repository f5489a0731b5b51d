"""Schema checks: one RuleError per problem, with positions and suggestions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

import narwhals.stable.v2 as nw
import polars as pl
import pytest
from pydantic import BaseModel

from clientmodel.errors import ArgumentError, RuleError
from clientmodel.rules import FieldType, check, parse, to_text
from clientmodel.rules.schema import read_schema

SCHEMA = {
    "frequency": int,
    "monetary": float,
    "email": str,
    "vip": bool,
    "signup": dt.date,
    "last_seen": dt.datetime,
    "tags": list[str],
    "scores": list[int],
    "meddpicc": {"score": float, "champion": bool},
    "events": [{"type": str, "value": float, "timestamp": dt.datetime}],
    "blob": "any",
}


def _messages(text, schema=SCHEMA, **kw):
    return [(p.position, p.field, p.message) for p in check(text, schema, **kw)]


def test_a_clean_rule_has_no_problems():
    text = (
        'frequency >= 3 and has tag "vip" and last_seen within last 30 days and '
        "signup > 2024-01-01T00:00:00Z and meddpicc.score >= 0.5 and meddpicc.champion and "
        "count(events where type = 'view') within last 7 days >= 2 and "
        "sum(events.value) > 10 and blob = 3 and email is null and vip"
    )
    assert check(text, SCHEMA) == []


def test_unknown_fields_with_suggestions_and_positions():
    text = "frequncy >= 3 and emial contains 'x' and meddpicc.scor > 0.5 and zzz = 1"
    problems = _messages(text)
    assert [(p, f) for p, f, _ in problems] == [
        (0, "frequncy"),
        (text.index("emial"), "emial"),
        (text.index("meddpicc.scor"), "meddpicc.scor"),
        (text.index("zzz"), "zzz"),
    ]
    assert "did you mean 'frequency'?" in problems[0][2]
    assert "did you mean 'email'?" in problems[1][2]
    assert "'meddpicc.score'" in problems[2][2]
    assert "known fields" in problems[3][2]


@pytest.mark.parametrize(
    ("text", "at", "fragment"),
    [
        ("signup > 5", "5", "holds dates, but is compared with 5 (a number)"),
        ("frequency = 'x'", "'x'", 'holds numbers, but is compared with "x" (text)'),
        ("vip > 1", "1", "true/false values"),
        ("email in [1, 2]", "1", "holds text"),
        ("frequency between 2024-01-01 and 2024-02-01", "2024-01-01", "(a date)"),
        ("frequency contains 'x'", "frequency", "need text"),
        ("has tag 'x' and email has tag 'y'", "email", "tag tests need a list"),
        ("scores has tag 'x'", "scores", "lists of numbers"),
        ("email within last 3 days", "email", "needs a date or datetime"),
        ("tags = 'x'", "'x'", "holds lists"),
        ("count(email) > 1", "email", "need a list of events"),
        ("sum(events.type) > 1", "type", "adds up numbers"),
        ("sum(events.valeu) > 1", "valeu", "did you mean 'value'"),
        ("count(events) within last 3 days by type > 1", "type", "a window needs a date"),
        ("count(events where typ = 'x') > 1", "typ", "of the events in 'events'"),
        ("count(events where value = 'x') > 1", "'x'", "compared with"),
    ],
)
def test_type_mismatches(text, at, fragment):
    problems = check(text, SCHEMA)
    assert len(problems) == 1, problems
    assert fragment in problems[0].message
    assert problems[0].position == text.index(at, 1 if at == "email" and "has tag" in text else 0)


def test_one_problem_each_and_syntax_errors():
    problems = check("signup > 5 and frequency = 'x' and nope", SCHEMA)
    assert len(problems) == 3
    assert all(isinstance(p, RuleError) for p in problems)
    (syntax,) = check("signup >", SCHEMA)
    assert syntax.position == 8


def test_positions_for_a_parsed_rule_refer_to_its_canonical_text():
    rule = parse("FREQUENCY  >=  3 AND signup > 5")
    (problem,) = check(rule, {"FREQUENCY": int, "signup": dt.date})
    assert to_text(rule)[problem.position :] == "5"


def test_schemas_from_frames_models_and_names():
    frame = pl.DataFrame(
        {
            "r": [1],
            "x": [1.5],
            "cat": pl.Series(["a"], dtype=pl.Categorical),
            "d": [dt.date(2024, 1, 1)],
            "t": [dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)],
            "n": [dt.datetime(2024, 1, 1)],
            "tags": [["a"]],
            "ev": [[{"type": "a", "v": 1}]],
            "st": [{"a": 1}],
            "dur": [dt.timedelta(1)],
        }
    )
    s = read_schema(frame)
    assert (s["r"].kind, s["x"].nan, s["cat"].categorical) == ("number", True, True)
    assert (s["d"].kind, s["t"].aware, s["t"].tz, s["n"].aware) == ("date", True, "UTC", False)
    assert s["tags"] == FieldType("list", item=FieldType("string"))
    assert s["ev"].kind == "events"
    assert set(s["ev"].fields) == {"type", "v"}
    assert s["st"].fields["a"].kind == "number"
    assert s["dur"].kind == "other"
    assert read_schema(frame.lazy()) == s
    assert read_schema(nw.from_native(frame)) == s

    class Event(BaseModel):
        kind: Literal["view", "buy"]
        at: dt.datetime

    class Customer(BaseModel):
        amount: Decimal
        stage: Literal["lead", "won"] | None = None
        tags: tuple[str, ...] = ()
        events: list[Event] = []

    s = read_schema(Customer)
    assert [s[k].kind for k in ("amount", "stage", "tags", "events")] == [
        "number",
        "string",
        "list",
        "events",
    ]
    assert s["events"].fields["kind"].kind == "string"
    assert check("count(events where kind = 'view') > 1 and amount > 1", Customer) == []
    assert len(check("stage > 3", Customer)) == 1
    with pytest.raises(ArgumentError, match="unknown field type"):
        read_schema({"x": "numbr"})
    with pytest.raises(ArgumentError, match="schema must be"):
        read_schema(42)


def test_events_tables_are_checked_too():
    events = pl.DataFrame({"customer_id": ["a"], "type": ["view"], "at": [dt.date(2024, 1, 1)]})
    tables = {"events": events}
    assert check("count(events where type = 'view') > 1", {"customer_id": str}, events=tables) == []
    (p,) = check("count(events where tpye = 'view') > 1", {"customer_id": str}, events=tables)
    assert "did you mean 'type'" in p.message
