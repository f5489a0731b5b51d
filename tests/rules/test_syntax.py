"""Text syntax: hand-checked parses, canonical printing, error positions, round trips."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings

from clientmodel.errors import RuleError
from clientmodel.rules import (
    RULE_ADAPTER,
    And,
    Between,
    Compare,
    EventAggregate,
    HasAllTags,
    HasAnyTags,
    HasTag,
    InList,
    IsNull,
    Limits,
    Not,
    Or,
    RelativeWindow,
    StringTest,
    Within,
    parse,
    rule_from_json,
    rule_to_json,
    to_text,
)
from clientmodel.rules.parser import as_rule, parse_with_spans

from .conftest import any_rule

UTC = dt.timezone.utc
BIG = Limits(max_length=1_000_000, max_depth=200, max_nodes=1_000_000)


# ------------------------------------------------------------------------- hand-checked parses

EXAMPLES = [
    (
        'frequency >= 3 and has tag "vip" and last_purchase within last 30 days',
        And(
            rules=(
                Compare(field="frequency", op=">=", value=3),
                HasTag(tag="vip"),
                Within(field="last_purchase", direction="last", amount=30, unit="D"),
            )
        ),
    ),
    (
        "r >= 4 and f between 2 and 5",
        And(rules=(Compare(field="r", op=">=", value=4), Between(field="f", low=2, high=5))),
    ),
    ('country in ["FR", "DE"]', InList(field="country", values=("FR", "DE"))),
    ("country not in ['FR']", InList(field="country", values=("FR",), negate=True)),
    ("email is not null", IsNull(field="email", negate=True)),
    ("email is null", IsNull(field="email")),
    ('email contains "@acme"', StringTest(field="email", op="contains", value="@acme")),
    ('name starts with "Ac"', StringTest(field="name", op="starts_with", value="Ac")),
    ('email ends with ".org"', StringTest(field="email", op="ends_with", value=".org")),
    ('has any tags ["a","b"]', HasAnyTags(tags=("a", "b"))),
    ('has all tags ["a"]', HasAllTags(tags=("a",))),
    ('interests has tag "skincare"', HasTag(field="interests", tag="skincare")),
    (
        'count(events where type = "view" and topic = "skincare") within last 30 days >= 3',
        EventAggregate(
            func="count",
            where=And(
                rules=(
                    Compare(field="type", op="=", value="view"),
                    Compare(field="topic", op="=", value="skincare"),
                )
            ),
            window=RelativeWindow(direction="last", amount=30, unit="D"),
            op=">=",
            value=3,
        ),
    ),
    (
        'sum(events.value where type = "purchase") >= 100',
        EventAggregate(
            func="sum",
            value_field="value",
            where=Compare(field="type", op="=", value="purchase"),
            op=">=",
            value=100,
        ),
    ),
    (
        "sum(orders.amount) older than 1 year by paid_at < 2.5",
        EventAggregate(
            func="sum",
            field="orders",
            value_field="amount",
            window=RelativeWindow(direction="older", amount=1, unit="Y"),
            time_field="paid_at",
            op="<",
            value=2.5,
        ),
    ),
    ("signup >= 2024-01-31", Compare(field="signup", op=">=", value=dt.date(2024, 1, 31))),
    (
        "seen < 2024-01-31T09:30:00+02:00",
        Compare(
            field="seen",
            op="<",
            value=dt.datetime(2024, 1, 31, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        ),
    ),
    (
        "seen < 2024-01-31T07:30:00Z",
        Compare(field="seen", op="<", value=dt.datetime(2024, 1, 31, 7, 30, tzinfo=UTC)),
    ),
    ("`first name` = 'Ann'", Compare(field="first name", op="=", value="Ann")),
    ("`in` == -3", Compare(field="in", op="=", value=-3)),
    ("x <> 1.5e3", Compare(field="x", op="!=", value=1500.0)),
    ("meddpicc.score >= 0.75", Compare(field="meddpicc.score", op=">=", value=0.75)),
    ("champion", Compare(field="champion", op="=", value=True)),
    ("renewal within next 2 weeks", Within(field="renewal", direction="next", amount=2, unit="W")),
    ("seen older than 1 quarter", Within(field="seen", direction="older", amount=1, unit="Q")),
    ("active = TRUE", Compare(field="active", op="=", value=True)),
    # precedence: not > and > or
    (
        "a = 1 or b = 2 and not c = 3",
        Or(
            rules=(
                Compare(field="a", op="=", value=1),
                And(
                    rules=(
                        Compare(field="b", op="=", value=2),
                        Not(rule=Compare(field="c", op="=", value=3)),
                    )
                ),
            )
        ),
    ),
    (
        "not (a = 1 or b = 2) AND c = 3",
        And(
            rules=(
                Not(
                    rule=Or(
                        rules=(
                            Compare(field="a", op="=", value=1),
                            Compare(field="b", op="=", value=2),
                        )
                    )
                ),
                Compare(field="c", op="=", value=3),
            )
        ),
    ),
    # parentheses make their own group: no flattening across them
    (
        "a = 1 and (b = 2 and c = 3)",
        And(
            rules=(
                Compare(field="a", op="=", value=1),
                And(
                    rules=(
                        Compare(field="b", op="=", value=2),
                        Compare(field="c", op="=", value=3),
                    )
                ),
            )
        ),
    ),
    ("((a = 1))", Compare(field="a", op="=", value=1)),
]


@pytest.mark.parametrize(("text", "expected"), EXAMPLES, ids=[t for t, _ in EXAMPLES])
def test_parse_gives_the_hand_built_tree(text, expected):
    rule = parse(text)
    assert rule == expected
    assert parse(to_text(rule)) == rule


def test_canonical_text_by_hand():
    assert to_text(parse("R >= 4 AND (f == 1 OR f == 2)")) == "R >= 4 and (f = 1 or f = 2)"
    assert to_text(parse("x <> 'it''s'".replace("''", "\\'"))) == 'x != "it\'s"'
    assert to_text(parse('has tag "a\\"b\\\\c\\n"')) == 'has tag "a\\"b\\\\c\\n"'
    assert to_text(parse("`first name` = 1")) == "`first name` = 1"
    assert to_text(parse("`and` = 1")) == "`and` = 1"
    assert to_text(parse("count = 1")) == "count = 1"
    assert to_text(parse("seen within last 1 day")) == "seen within last 1 day"
    assert to_text(parse("seen within last 3 d")) == "seen within last 3 days"
    assert to_text(parse("tags has tag 'x'")) == 'has tag "x"'
    assert to_text(parse("x = '\\u00e9\\t'")) == 'x = "é\\t"'
    assert to_text(parse("a or b")) == "a = true or b = true"
    assert (
        to_text(
            Or(
                rules=(
                    Or(rules=(IsNull(field="a"), IsNull(field="b"))),
                    And(rules=(IsNull(field="c"), IsNull(field="d"))),
                )
            )
        )
        == "(a is null or b is null) or c is null and d is null"
    )


def test_spans_point_at_the_pieces():
    text = 'r >= 4 and country in ["FR", "DE"]'
    rule, spans = parse_with_spans(text)
    first, second = rule.rules
    assert spans[id(first)].field == 0
    assert spans[id(first)].values == (5,)
    assert spans[id(second)].field == 11
    assert spans[id(second)].values == (text.index('"FR"'), text.index('"DE"'))
    assert (spans[id(rule)].start, spans[id(rule)].end) == (0, len(text))


SYNTAX_ERRORS = [
    ("r >=", 4, "expected a value"),
    ("r >= 4 and", 10, "expected a test"),
    ("r >= 4 )", 7, "closing parenthesis"),
    ("(r >= 4", 7, "to close the parenthesis opened at position 0"),
    ('name = "abc', 7, "unterminated string"),
    ("`odd name = 1", 0, "unterminated `name`"),
    ("r = 1 ; x = 2", 6, "unexpected character ';'"),
    ("r ! 1", 2, "write != for"),
    ("r = null", 4, "is null"),
    ("x in []", 6, "empty list"),
    ("in = 1", 0, "keyword"),
    ("d > 2024-02-30", 4, "not a valid ISO 8601"),
    ("d > 2024-02-03T10:00:00", 4, "no timezone"),
    ("x = 3days", 4, "malformed number"),
    ("x = 1e999", 4, "not finite"),
    ("x = 99999999999999999999", 4, "64 bits"),
    ("x = '\\q'", 5, "unknown escape"),
    ("seen within last 30 fortnights", 20, "time unit"),
    ("seen within last 2.5 days", 17, "whole number"),
    ("seen within 30 days", 12, "'last' or 'next'"),
    ("seen within last 100001 days", 17, "100000"),
    ("sum(events) > 1", 4, "sum needs the event list and the event field"),
    ("count(events) > 'x'", 16, "compared with a number"),
    ("count(events where count(x) > 1) > 1", 19, "cannot hold another aggregate"),
    ("x in [1, 'a']", 6, "of one kind"),
    ("x between 1 and 'a'", 10, "of one kind"),
    ("has any tags [1]", 14, "tags are text"),
    ("has tags 'x'", 4, "expected 'tag', 'any tags' or 'all tags'"),
    ("x ~ 1", 2, "unexpected character"),
    ("x foo", 2, "after field 'x'"),
]


@pytest.mark.parametrize(("text", "position", "message"), SYNTAX_ERRORS)
def test_syntax_errors_say_where(text, position, message):
    with pytest.raises(RuleError, match=message) as info:
        parse(text)
    assert info.value.position == position
    assert info.value.to_dict()["position"] == position


def test_as_rule_accepts_text_tree_and_json_dict():
    rule = parse("email is not null")
    assert as_rule("email is not null") is rule  # parsed text is cached (rules are immutable)
    assert as_rule(rule) is rule
    assert as_rule(json.loads(rule_to_json(rule))) == rule
    with pytest.raises(RuleError, match="expected a rule"):
        as_rule(42)


# ------------------------------------------------------------------------- JSON


def test_json_form_by_hand():
    rule = parse('signup >= 2024-01-31 and seen < 2024-01-31T09:00:00+00:00 and has tag "vip"')
    data = json.loads(rule_to_json(rule))
    assert data["kind"] == "and"
    assert data["rules"][0] == {
        "field": "signup",
        "kind": "compare",
        "op": ">=",
        "value": {"date": "2024-01-31"},
    }
    assert data["rules"][1]["value"] == {"datetime": "2024-01-31T09:00:00+00:00"}
    assert data["rules"][2] == {"field": "tags", "kind": "has_tag", "tag": "vip"}
    assert rule_from_json(data) == rule


def test_json_errors_are_rule_errors():
    for bad in (
        "{",
        '{"kind": "nope"}',
        '{"kind": "compare", "field": "x", "op": "~", "value": 1}',
        '{"kind": "compare", "field": "x", "op": "=", "value": {"date": "2024-13-01"}}',
        '{"kind": "compare", "field": "x", "op": "=", "value": {"datetime": "2024-01-01T00:00"}}',
        '{"kind": "in", "field": "x", "values": []}',
        "[" * 100_000,
    ):
        with pytest.raises(RuleError):
            rule_from_json(bad)
    deep = {"kind": "is_null", "field": "x"}
    for _ in range(40):
        deep = {"kind": "not", "rule": deep}
    with pytest.raises(RuleError, match="deeper than the limit of 32"):
        rule_from_json(deep)


def test_json_schema_is_published():
    schema = RULE_ADAPTER.json_schema()
    assert "discriminator" in json.dumps(schema)


# ------------------------------------------------------------------------- properties


@settings(max_examples=150, deadline=None)
@given(rule=any_rule)
def test_text_round_trip_is_the_identity(rule):
    text = to_text(rule)
    back = parse(text, limits=BIG)
    assert back == rule
    assert to_text(back) == text


@settings(max_examples=120, deadline=None)
@given(rule=any_rule)
def test_json_round_trip_is_lossless(rule):
    text = rule_to_json(rule)
    back = rule_from_json(text, limits=BIG)
    assert back == rule
    assert rule_to_json(back) == text
    assert RULE_ADAPTER.validate_python(rule.model_dump()) == rule
