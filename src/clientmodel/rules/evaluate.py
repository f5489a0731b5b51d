"""The record face: evaluate a rule on one record (a mapping, a pydantic model or an attrs object).

Fields are looked up by exact name first; a dotted name such as ``meddpicc.score`` that is not a
key of its own walks into nested mappings or objects. Only declared fields of pydantic models,
attrs classes and dataclasses are read (never methods or private attributes).

Null semantics (the same on the table face):

* a field is *null* when it is missing, ``None``, a float or ``Decimal`` NaN, ``pandas.NA`` or
  ``NaT``;
* every test of a null value is **false** -- comparisons (including ``!=``), ``in`` and
  ``not in``, ``between``, ``contains`` / ``starts with`` / ``ends with``, tag tests and windows --
  except ``is null`` (true) and ``is not null`` (false);
* ``and``, ``or`` and ``not`` are plain two-valued logic over those results, so
  ``not (x = 1)`` is true when ``x`` is null while ``x != 1`` is false;
* a null event list counts as empty (``count`` is 0, ``sum`` is 0); null events are skipped,
  events with a null time are outside every window, ``sum`` skips null values.

A value of the wrong kind (text compared with a number, a date with a number, a string where a
list of tags is expected, a boolean compared with a number) raises
:class:`~clientmodel.errors.RuleError` naming the field and the value: bad data is never turned
into a silent ``False``. ``Decimal`` values are compared as floats, like decimal columns.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs
from pydantic import BaseModel

from clientmodel._validation import boundary
from clientmodel.errors import ArgumentError, RuleError
from clientmodel.rules import _time
from clientmodel.rules._time import AsOf
from clientmodel.rules.nodes import (
    And,
    EventAggregate,
    Limits,
    Rule,
    Within,
    iter_nodes,
    literal_kind,
    per_rule,
)
from clientmodel.rules.parser import as_rule
from clientmodel.rules.printer import to_text

__all__ = [
    "NULL",
    "evaluate",
    "failing_clauses",
    "lookup",
    "needs_as_of",
    "normalise",
    "prepare",
    "value_kind",
]


class _Null:
    """The one null marker of the record face (missing, None, NaN, NA, NaT)."""

    def __repr__(self) -> str:
        return "NULL"


NULL: Any = _Null()
_MISSING: Any = object()
_LISTS = (list, tuple, set, frozenset)
#: Exact types that :func:`normalise` returns unchanged (the common case, checked first).
_PLAIN = frozenset({str, int, bool, list, tuple, dict, set, frozenset, dt.date, dt.datetime})


def _get(obj: Any, key: str) -> Any:
    if type(obj) is dict or isinstance(obj, Mapping):
        return obj.get(key, _MISSING)
    if isinstance(obj, BaseModel):
        cls = type(obj)
        if key in cls.model_fields or key in cls.model_computed_fields:
            return getattr(obj, key)
        extra = obj.model_extra or {}
        return extra.get(key, _MISSING)
    if attrs.has(type(obj)):
        names = {a.name for a in attrs.fields(type(obj))}
        return getattr(obj, key) if key in names else _MISSING
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        names = {f.name for f in dataclasses.fields(obj)}
        return getattr(obj, key) if key in names else _MISSING
    if hasattr(obj, "keys") and hasattr(obj, "__getitem__") and not isinstance(obj, type):
        try:  # mapping-like rows, e.g. a pandas Series
            keys = obj.keys()
            return obj[key] if key in keys else _MISSING
        except (KeyError, IndexError, TypeError, ValueError):
            return _MISSING
    return _MISSING


@boundary
def lookup(record: Any, field: str) -> Any:
    """The normalised value of ``field`` in ``record`` (``NULL`` when missing or null).

    Examples
    --------
    >>> lookup({"m": {"score": 0.5}}, "m.score")
    0.5
    >>> lookup({"x": float("nan")}, "x")
    NULL
    """
    value = _get(record, field)
    if value is _MISSING and "." in field:
        value = record
        for part in field.split("."):
            if value is _MISSING or normalise(value) is NULL:
                return NULL
            value = _get(value, part)
    return NULL if value is _MISSING else normalise(value)


@boundary
def normalise(value: Any) -> Any:
    """Plain Python value of a field: numpy scalars unwrapped, NaN/NA/NaT and None -> ``NULL``.

    Examples
    --------
    >>> import numpy as np
    >>> normalise(np.int64(3)), normalise(None)
    (3, NULL)
    """
    if type(value) in _PLAIN:
        return value
    if value is None or value is NULL:
        return NULL
    name = type(value).__name__
    if name in ("NAType", "NaTType"):
        return NULL
    if isinstance(value, float):
        return NULL if value != value else value
    if isinstance(value, Decimal):
        return NULL if value.is_nan() else float(value)
    if hasattr(value, "dtype") and hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        kind = value.dtype.kind
        if kind == "M":  # numpy datetime64: naive wall-clock time
            if value != value:
                return NULL
            return normalise(value.astype("datetime64[us]").item())
        return normalise(value.item())
    return value


@boundary
def value_kind(value: Any) -> str:
    """The kind of a normalised value: boolean, number, string, temporal, list or other.

    Examples
    --------
    >>> value_kind(True), value_kind(3), value_kind(["a"]), value_kind({"a": 1})
    ('boolean', 'number', 'list', 'other')
    """
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (dt.date, dt.datetime)):
        return "temporal"
    if isinstance(value, _LISTS) or (hasattr(value, "ndim") and getattr(value, "ndim", 0) == 1):
        return "list"
    return "other"


_KIND_WORDS = {
    "boolean": "true/false",
    "number": "a number",
    "string": "text",
    "temporal": "a date",
    "list": "a list",
    "other": "an object",
}


def _mismatch(field: str, value: Any, wanted: str) -> RuleError:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return RuleError(
        f"field {field!r} holds {shown} ({_KIND_WORDS[value_kind(value)]}), which cannot be "
        f"tested as {wanted}",
        field=field,
    )


def _compare(value: Any, op: str, literal: Any) -> bool:
    if isinstance(literal, (dt.date, dt.datetime)):
        value, literal = _time.temporal_pair(value, literal)
    if op == "=":
        return bool(value == literal)
    if op == "!=":
        return bool(value != literal)
    if op == "<":
        return bool(value < literal)
    if op == "<=":
        return bool(value <= literal)
    if op == ">":
        return bool(value > literal)
    return bool(value >= literal)


def _is_record(obj: Any) -> bool:
    """Whether ``obj`` is something fields can be looked up in (see :func:`lookup`)."""
    if type(obj) is dict:  # the common case, checked first
        return True
    if isinstance(obj, (Mapping, BaseModel)) or attrs.has(type(obj)):
        return True
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return True
    return (
        hasattr(obj, "keys")
        and hasattr(obj, "__getitem__")
        and not isinstance(obj, (type, str, bytes))
    )


@boundary
def check_record(record: Any) -> None:
    """Refuse a record that has no fields (a list, a number, text, ``None``)."""
    if not _is_record(record):
        raise ArgumentError(
            f"record must be a mapping, a pydantic model, an attrs or dataclass instance; got "
            f"{type(record).__name__}",
            field="record",
        )


def _checked(node: Any, value: Any, literal: Any) -> Any:
    want = literal_kind(literal)
    if value_kind(value) != want:
        raise _mismatch(node.field, value, f"{_KIND_WORDS[want]} like {literal!r}")
    return value


def _items(field: str, value: Any, what: str) -> list[Any]:
    if value_kind(value) != "list":
        raise _mismatch(field, value, what)
    return [normalise(v) for v in value]


def _tags(field: str, value: Any) -> set[str]:
    items = _items(field, value, "a list of tags")
    out = set()
    for item in items:
        if item is NULL:
            continue
        if not isinstance(item, str):
            raise _mismatch(field, item, "a tag (text) in a list of tags")
        out.add(item)
    return out


class _Evaluator:
    """Evaluates rules for one ``as_of`` (window bounds are computed once per call)."""

    def __init__(self, as_of: AsOf | None) -> None:
        self.as_of = as_of
        self.windows = None if as_of is None else _time.windows(as_of)

    def run(self, node: Rule, record: Any) -> bool:
        kind = node.kind
        if kind == "and":
            return all(self.run(c, record) for c in node.rules)  # type: ignore[union-attr]
        if kind == "or":
            return any(self.run(c, record) for c in node.rules)  # type: ignore[union-attr]
        if kind == "not":
            return not self.run(node.rule, record)  # type: ignore[union-attr]
        if kind == "aggregate":
            return self.aggregate(node, record)  # type: ignore[arg-type]
        value = lookup(record, node.field)  # type: ignore[union-attr]
        if kind == "is_null":
            return (value is NULL) != node.negate  # type: ignore[union-attr]
        if value is NULL:
            return False
        return self.leaf(node, value)

    def leaf(self, node: Any, value: Any) -> bool:
        kind = node.kind
        if kind == "compare":
            return _compare(_checked(node, value, node.value), node.op, node.value)
        if kind == "in":
            _checked(node, value, node.values[0])
            hit = any(_compare(value, "=", v) for v in node.values)
            return bool(hit != node.negate)
        if kind == "between":
            _checked(node, value, node.low)
            return _compare(value, ">=", node.low) and _compare(value, "<=", node.high)
        if kind == "string":
            if not isinstance(value, str):
                raise _mismatch(node.field, value, "text")
            if node.op == "contains":
                return bool(node.value in value)
            if node.op == "starts_with":
                return value.startswith(node.value)
            return value.endswith(node.value)
        if kind == "has_tag":
            return node.tag in _tags(node.field, value)
        if kind == "has_any_tags":
            tags = _tags(node.field, value)
            return any(t in tags for t in node.tags)
        if kind == "has_all_tags":
            tags = _tags(node.field, value)
            return all(t in tags for t in node.tags)
        if kind == "within":
            if not isinstance(value, (dt.date, dt.datetime)):
                raise _mismatch(node.field, value, "a date or datetime")
            assert self.windows is not None
            return self.windows.contains(value, node.direction, node.amount, node.unit)
        raise TypeError(f"not a rule node: {node!r}")  # pragma: no cover

    def aggregate(self, node: EventAggregate, record: Any) -> bool:
        events = lookup(record, node.field)
        items = [] if events is NULL else _items(node.field, events, "a list of events")
        count = 0
        ints: list[int] = []
        floats: list[float] = []
        for position, event in enumerate(items):
            if event is NULL:
                continue
            if not _is_record(event):
                raise RuleError(
                    f"{node.field}[{position}] is {_KIND_WORDS[value_kind(event)]}, not an event; "
                    "an event list holds mappings or records with fields",
                    field=node.field,
                )
            if node.window is not None:
                at = lookup(event, node.time_field)
                if at is NULL:
                    continue
                if not isinstance(at, (dt.date, dt.datetime)):
                    raise _mismatch(f"{node.field}.{node.time_field}", at, "a date or datetime")
                w = node.window
                assert self.windows is not None
                if not self.windows.contains(at, w.direction, w.amount, w.unit):
                    continue
            if node.where is not None and not self.run(node.where, event):
                continue
            if node.value_field is None:
                count += 1
                continue
            amount = lookup(event, node.value_field)
            if amount is NULL:
                continue
            if value_kind(amount) != "number":
                raise _mismatch(f"{node.field}.{node.value_field}", amount, "a number to add up")
            (floats if isinstance(amount, float) else ints).append(amount)
        total: float = count
        if node.value_field is not None:
            total = math.fsum([*floats, *ints]) if floats else sum(ints)
        return _compare(total, node.op, node.value)


@per_rule
@boundary
def needs_as_of(rule: Rule) -> str | None:
    """The first field whose test needs ``as_of`` (a window), or ``None``.

    Examples
    --------
    >>> from clientmodel.rules import parse
    >>> needs_as_of(parse("seen within last 7 days")), needs_as_of(parse("r >= 4"))
    ('seen', None)
    """
    for node, _ in iter_nodes(rule):
        if isinstance(node, Within) or (isinstance(node, EventAggregate) and node.window):
            return node.field
    return None


@boundary
def prepare(rule: Any, as_of: Any, limits: Limits | None) -> tuple[Rule, AsOf | None]:
    """The parsed rule and the read ``as_of``; RuleError when a window test gets no ``as_of``.

    Examples
    --------
    >>> prepare("r >= 4", "2024-03-31", None)[1].day
    datetime.date(2024, 3, 31)
    """
    parsed = as_rule(rule, limits=limits)
    moment = _time.read_as_of(as_of)
    if moment is None:
        field = needs_as_of(parsed)
        if field is not None:
            raise RuleError(
                f"the rule tests {field!r} against a window relative to as_of; pass as_of= "
                "(a date or a timezone-aware datetime)",
                field=field,
            )
    return parsed, moment


@boundary
def evaluate(rule: Any, record: Any, *, as_of: Any = None, limits: Limits | None = None) -> bool:
    """Whether one record satisfies a rule.

    Parameters
    ----------
    rule:
        Rule text, a parsed rule or its JSON dict.
    record:
        A mapping, a pydantic model, an attrs or dataclass instance.
    as_of:
        The moment windows are relative to (a date or a timezone-aware datetime); required when
        the rule has ``within`` / ``older than`` tests or windowed aggregates.
    limits:
        Limits for parsing rule text (default :class:`~clientmodel.rules.nodes.Limits`).

    Examples
    --------
    >>> evaluate("meddpicc_score >= 0.5", {"meddpicc_score": 0.6})
    True
    >>> import datetime as dt
    >>> evaluate('frequency >= 3 and has tag "vip" and last_purchase within last 30 days',
    ...          {"frequency": 4, "tags": ["vip"], "last_purchase": dt.date(2024, 3, 20)},
    ...          as_of=dt.date(2024, 3, 31))
    True
    """
    parsed, moment = prepare(rule, as_of, limits)
    check_record(record)
    try:
        return _Evaluator(moment).run(parsed, record)
    except RecursionError:  # pragma: no cover - depth is limited far below the stack
        raise RuleError("rule is nested too deeply to evaluate") from None


@boundary
def failing_clauses(
    rule: Any, record: Any, *, as_of: Any = None, limits: Limits | None = None
) -> list[str]:
    """The top-level clauses of a rule that the record does not meet, as rule text.

    The clauses are the children of a top-level ``and`` (or the whole rule otherwise), so a
    funnel stage can say exactly which entry criteria are unmet. Empty when the rule holds.

    Examples
    --------
    >>> failing_clauses("amount >= 10000 and source = 'partner'",
    ...                 {"amount": 500, "source": "partner"})
    ['amount >= 10000']
    """
    parsed, moment = prepare(rule, as_of, limits)
    check_record(record)
    clauses = parsed.rules if isinstance(parsed, And) else (parsed,)
    ev = _Evaluator(moment)
    return [to_text(c) for c in clauses if not ev.run(c, record)]
