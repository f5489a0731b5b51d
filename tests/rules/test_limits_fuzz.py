"""Limits and fuzzing: whatever the text, only RuleError escapes, and quickly."""

from __future__ import annotations

import contextlib
import json
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientmodel.errors import RuleError
from clientmodel.rules import (
    IsNull,
    Limits,
    Not,
    check,
    evaluate,
    parse,
    rule_from_json,
    to_text,
)
from clientmodel.rules.nodes import HARD_MAX_DEPTH


def _only_rule_errors(text: str) -> None:
    try:
        parse(text)
    except RuleError as exc:
        error = exc
    else:
        return
    assert error.code == "rule_error"
    assert error.position is None or 0 <= error.position <= len(text)


ADVERSARIAL = [
    "(" * 100_000,
    "(" * 5_000 + "a = 1" + ")" * 5_000,
    "not " * 2_500 + "a = 1",
    "a = 1 and " * 999 + "a = 1",
    "a = 1 or " * 999 + "a = 1",
    "x in [" + "1, " * 3_000 + "1]",
    "count(e where " * 500 + "a = 1" + ") > 1" * 500,
    "x = " + "9" * 5_000,
    "x = 1" + "0" * 400 + ".5",
    "x = 1e308 ",
    "x = 1e309",
    "x = -1e-400",
    "x = 0x1F",
    'x = "' + "\\" * 3_001,
    'x = "unterminated',
    "x = 'unterminated \\'",
    "`unterminated",
    "``",
    "x = '\\ud800'",
    "x = '\\u12'",
    "\x00",
    "x\x00 = 1",
    "` x` = 1",
    "x = 1 )",
    ")",
    "",
    "   ",
    "and",
    "x = 2024-99-99",
    "x = 2024-01-01T25:00:00Z",
    "x = 2024-01-01T10:00:00+25:00",
    "x = 0000-01-01",
    "x within last 99999999999999999999 days",
    "x within last -1 days",
    "sum(events) > 1",
    "sum(.x) > 1",
    "count() > 1",
    "has tag",
    "has any tags [",
    "x between 1",
    "x is not",
    "x = true false",
    "😀 = '😀' and ÿ contains 'ꙮ'",
    "x = '\U0010ffff'",
    "\u2028x\u2029 = 1",
    "x.y.z. = 1",
    "x..y = 1",
    "x . y = 1",
    "count(events where a = 1) within last 3 days by > 1",
]


@pytest.mark.parametrize("text", ADVERSARIAL, ids=range(len(ADVERSARIAL)))
def test_adversarial_strings_only_raise_rule_errors(text):
    _only_rule_errors(text)


def test_default_limits():
    with pytest.raises(RuleError, match="over the limit of 10000"):
        parse("a = 1 and " * 1_200 + "a = 1")
    with pytest.raises(RuleError, match="deeper than the limit of 32") as info:
        parse("(" * 40 + "a = 1" + ")" * 40)
    assert info.value.position == 32
    with pytest.raises(RuleError, match="deeper than the limit of 32"):
        parse("not " * 40 + "a = 1")
    with pytest.raises(RuleError, match="more than the limit of 500 nodes"):
        parse(" and ".join(f"a{i} = 1" for i in range(600)))
    assert parse("(" * 32 + "a = 1" + ")" * 32) == parse("a = 1")


def test_limits_are_configurable_and_apply_everywhere():
    tight = Limits(max_length=20, max_depth=2, max_nodes=3)
    assert parse("a = 1 and b = 2", limits=tight).kind == "and"
    with pytest.raises(RuleError, match="over the limit of 20"):
        parse("a = 1 and b = 2 and c = 3", limits=tight)
    with pytest.raises(RuleError, match="more than the limit of 3 nodes"):
        parse("a and b and c", limits=tight)
    with pytest.raises(RuleError, match="deeper than the limit of 2"):
        parse("not not not a", limits=tight)
    with pytest.raises(RuleError, match="deeper than the limit of 2"):
        evaluate("not not not a", {}, limits=tight)
    with pytest.raises(RuleError, match="deeper than the limit of 2"):
        rule_from_json(json.loads(to_text_json("not not not a")), limits=tight)
    (problem,) = check("not not not a", {"a": bool}, limits=tight)
    assert "deeper" in problem.message
    roomy = Limits(max_depth=HARD_MAX_DEPTH)
    assert parse("(" * HARD_MAX_DEPTH + "a = 1" + ")" * HARD_MAX_DEPTH, limits=roomy)
    with pytest.raises(Exception, match="less than or equal to 200"):
        Limits(max_depth=HARD_MAX_DEPTH + 1)


def to_text_json(text: str) -> str:
    from clientmodel.rules import rule_to_json

    return rule_to_json(parse(text))


def test_rules_built_in_python_respect_the_hard_ceiling():
    rule = IsNull(field="a")
    for _ in range(HARD_MAX_DEPTH + 5):
        rule = Not(rule=rule)
    for call in (lambda: to_text(rule), lambda: evaluate(rule, {})):
        with pytest.raises(RuleError, match=f"deeper than the limit of {HARD_MAX_DEPTH}"):
            call()


def test_limits_are_checked_per_call_and_per_rule_object():
    # The tree is walked once per rule object; every call still checks its own limits, and a
    # changed copy of a checked rule is walked afresh.
    rule = Not(rule=Not(rule=IsNull(field="a")))
    assert evaluate(rule, {}) is True
    with pytest.raises(RuleError, match="deeper than the limit of 2"):
        evaluate(rule, {}, limits=Limits(max_depth=2))
    with pytest.raises(RuleError, match="more than the limit of 2 nodes"):
        evaluate(rule, {}, limits=Limits(max_nodes=2))
    deep = rule
    for _ in range(HARD_MAX_DEPTH):
        deep = Not(rule=deep)
    copy = rule.model_copy(update={"rule": deep})
    with pytest.raises(RuleError, match=f"deeper than the limit of {HARD_MAX_DEPTH}"):
        evaluate(copy, {})
    assert evaluate(rule, {}) is True


def test_the_deepest_allowed_rule_works_even_on_a_short_stack():
    roomy = Limits(max_depth=HARD_MAX_DEPTH, max_length=100_000)
    text = "not (" * (HARD_MAX_DEPTH // 2 - 1) + "a = 1" + ")" * (HARD_MAX_DEPTH // 2 - 1)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(700)
    try:
        rule = parse(text, limits=roomy)
        nots = HARD_MAX_DEPTH // 2 - 1  # an odd number of negations of a true test
        assert evaluate(rule, {"a": 1}) is (nots % 2 == 0)
        assert parse(to_text(rule), limits=roomy) == rule
    finally:
        sys.setrecursionlimit(limit)


GRAMMAR_BITS = st.sampled_from(
    [
        "a", "b.c", "`x y`", " ", "(", ")", "[", "]", ",", ".", "=", "==", "!=", "<>", "<", ">=",
        "and", "or", "not", "in", "between", "is", "null", "contains", "starts", "with", "has",
        "tag", "any", "all", "tags", "within", "last", "next", "older", "than", "days", "by",
        "count(", "sum(", "where", "true", "false", "1", "-2.5", "1e3", "2024-01-31",
        "2024-01-31T09:00:00Z", '"s"', "'t'", '"', "'", "`", "\\", "\\u", "😀", "\x00",
    ]
)  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(GRAMMAR_BITS, max_size=30).map(" ".join))
def test_fuzz_token_soup(text):
    _only_rule_errors(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_fuzz_any_text(text):
    _only_rule_errors(text)


_KEYS = st.sampled_from(["kind", "field", "rules", "rule", "op", "value", "values"])
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(_KEYS, c, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(_JSON)
def test_fuzz_json(data):
    with contextlib.suppress(RuleError):
        rule_from_json(json.dumps(data))
