"""AST -> rule text: the canonical spelling of a rule.

:func:`to_text` writes every rule in one canonical form (lower-case keywords, ``=`` and ``!=``,
double-quoted strings, ISO 8601 dates, parentheses only where the tree needs them: an ``or``
inside an ``and``, and any ``and``/``or`` nested in one of its own kind). Parsing the text gives
back an equal rule: ``parse(to_text(rule)) == rule`` for every rule, which the test-suite checks
on random rules.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from clientmodel._validation import boundary
from clientmodel.rules.lexer import is_bare_word
from clientmodel.rules.nodes import (
    And,
    Between,
    Compare,
    EventAggregate,
    HasAllTags,
    HasAnyTags,
    HasTag,
    InList,
    IsNull,
    Not,
    Or,
    RelativeWindow,
    Rule,
    StringTest,
    Within,
    check_limits,
)

__all__ = ["format_field", "format_literal", "to_text"]

_UNITS = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year"}
_STRING_OPS = {"contains": "contains", "starts_with": "starts with", "ends_with": "ends with"}
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


@boundary
def format_field(name: str) -> str:
    """A field name as rule text: bare when every dotted part is a plain word, else backticked.

    Examples
    --------
    >>> format_field("meddpicc.score"), format_field("first name"), format_field("in")
    ('meddpicc.score', '`first name`', '`in`')
    """
    if all(is_bare_word(part) for part in name.split(".")):
        return name
    return f"`{name}`"


def _segment(name: str) -> str:
    return name if is_bare_word(name) else f"`{name}`"


def _quote(text: str) -> str:
    out = []
    for c in text:
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif ord(c) < 32 or ord(c) == 127:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


@boundary
def format_literal(value: Any) -> str:
    """A literal as rule text.

    Examples
    --------
    >>> format_literal(True), format_literal(2.5), format_literal('say "hi"')
    ('true', '2.5', '"say \\\\"hi\\\\""')
    >>> import datetime as dt
    >>> format_literal(dt.date(2024, 1, 31))
    '2024-01-31'
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"not a rule literal: {value!r}")  # pragma: no cover - nodes validate


def _window(direction: str, amount: int, unit: str) -> str:
    name = _UNITS[unit] + ("" if amount == 1 else "s")
    if direction == "older":
        return f"older than {amount} {name}"
    return f"within {direction} {amount} {name}"


def _child(node: Rule, parent: type[And] | type[Or]) -> str:
    needs_parens = isinstance(node, (parent, Or)) if parent is And else isinstance(node, Or)
    text = _print(node)
    return f"({text})" if needs_parens else text


def _print(node: Rule) -> str:
    if isinstance(node, And):
        return " and ".join(_child(c, And) for c in node.rules)
    if isinstance(node, Or):
        return " or ".join(_child(c, Or) for c in node.rules)
    if isinstance(node, Not):
        inner = _print(node.rule)
        return f"not ({inner})" if isinstance(node.rule, (And, Or)) else f"not {inner}"
    if isinstance(node, EventAggregate):
        return _aggregate(node)
    if isinstance(node, (HasTag, HasAnyTags, HasAllTags)):
        prefix = "" if node.field == "tags" else format_field(node.field) + " "
        if isinstance(node, HasTag):
            return f"{prefix}has tag {_quote(node.tag)}"
        which = "any" if isinstance(node, HasAnyTags) else "all"
        return f"{prefix}has {which} tags [{', '.join(_quote(t) for t in node.tags)}]"
    field = format_field(node.field)
    if isinstance(node, Compare):
        return f"{field} {node.op} {format_literal(node.value)}"
    if isinstance(node, InList):
        values = ", ".join(format_literal(v) for v in node.values)
        return f"{field} {'not in' if node.negate else 'in'} [{values}]"
    if isinstance(node, Between):
        return f"{field} between {format_literal(node.low)} and {format_literal(node.high)}"
    if isinstance(node, IsNull):
        return f"{field} is {'not ' if node.negate else ''}null"
    if isinstance(node, StringTest):
        return f"{field} {_STRING_OPS[node.op]} {_quote(node.value)}"
    if isinstance(node, Within):
        return f"{field} {_window(node.direction, node.amount, node.unit)}"
    raise TypeError(f"not a rule node: {node!r}")  # pragma: no cover - check_limits rejects


def _aggregate(node: EventAggregate) -> str:
    target = format_field(node.field)
    if node.value_field is not None:
        target += "." + _segment(node.value_field)
    if node.where is not None:
        target += " where " + _print(node.where)
    out = f"{node.func}({target})"
    window: RelativeWindow | None = node.window
    if window is not None:
        out += " " + _window(window.direction, window.amount, window.unit)
    if node.time_field != "timestamp":
        out += " by " + format_field(node.time_field)
    return f"{out} {node.op} {format_literal(node.value)}"


@boundary
def to_text(rule: Rule) -> str:
    """The canonical text of a rule; :func:`~clientmodel.rules.parse` reads it back unchanged.

    Examples
    --------
    >>> from clientmodel.rules import parse
    >>> to_text(parse("R >= 4 AND (f == 1 OR f == 2)"))
    'R >= 4 and (f = 1 or f = 2)'
    >>> to_text(parse("count(events where type = 'view') within last 30 days >= 3"))
    'count(events where type = "view") within last 30 days >= 3'
    """
    return _print(check_limits(rule))
