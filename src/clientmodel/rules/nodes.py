"""The rule AST: frozen pydantic models joined in a discriminated union on ``kind``.

A :data:`Rule` is plain data: it serialises to JSON with :func:`rule_to_json` and comes back with
:func:`rule_from_json` (or ``model_dump`` / :data:`RULE_ADAPTER`). Literal dates and datetimes are
written to JSON as ``{"date": "2024-01-31"}`` and ``{"datetime": "2024-01-31T09:00:00+00:00"}``
so that they never turn into plain strings on the way back (a datetime keeps its instant and its
UTC offset; a zone name such as ``Europe/Paris`` becomes the offset it had at that instant).

Literals are checked when a node is built: integers fit in 64 bits, floats are finite, strings are
valid Unicode (no lone surrogates), datetimes carry a timezone, and the values of one ``in`` list
or ``between`` are of one kind (numbers, strings, booleans or dates/datetimes).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import weakref
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeAlias, TypeVar, cast

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from clientmodel._validation import boundary
from clientmodel.errors import RuleError

__all__ = [
    "HARD_MAX_DEPTH",
    "INT_MAX",
    "INT_MIN",
    "RULE_ADAPTER",
    "And",
    "Between",
    "Compare",
    "CompareOp",
    "EventAggregate",
    "HasAllTags",
    "HasAnyTags",
    "HasTag",
    "InList",
    "IsNull",
    "Limits",
    "Not",
    "Or",
    "RelativeWindow",
    "Rule",
    "Scalar",
    "StringTest",
    "TimeUnit",
    "Within",
    "check_limits",
    "iter_nodes",
    "literal_kind",
    "per_rule",
    "rule_from_json",
    "rule_to_json",
]

CompareOp: TypeAlias = Literal["=", "!=", "<", "<=", ">", ">="]
TimeUnit: TypeAlias = Literal["D", "W", "M", "Q", "Y"]

#: Integer literals must fit in a signed 64-bit integer (the column type tables compare them with).
INT_MIN, INT_MAX = -(2**63), 2**63 - 1

#: Hard ceiling on nesting depth for rules built in Python (keeps every recursive walk far from
#: Python's recursion limit whatever :class:`Limits` say).
HARD_MAX_DEPTH = 200


def _scalar(value: Any) -> Any:
    """Validate one literal: bool, int, finite float, str, date or aware datetime."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, text),) = value.items()
        if key in ("date", "datetime") and isinstance(text, str):
            try:
                value = (
                    dt.date.fromisoformat(text)
                    if key == "date"
                    else dt.datetime.fromisoformat(text)
                )
            except ValueError as exc:
                raise ValueError(f"{text!r} is not an ISO 8601 {key}") from exc
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            raise ValueError(
                f"integer {value} does not fit in 64 bits; use a number between {INT_MIN} and "
                f"{INT_MAX} (or a float)"
            )
        return value
    if isinstance(value, str):
        return _check_text(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"number {value!r} is not finite; use a finite number")
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"datetime {value.isoformat()!r} has no timezone; give an offset such as +00:00"
            )
        return value
    if isinstance(value, dt.date):
        return value
    raise ValueError(
        f"literal {value!r} of type {type(value).__name__} is not accepted; use a number, "
        "string, true/false, a date or a timezone-aware datetime"
    )


def _check_text(value: str) -> str:
    """Reject strings that are not valid Unicode (lone surrogates cannot be stored or compared)."""
    if any("\ud800" <= c <= "\udfff" for c in value):
        raise ValueError(f"text {value!r} holds a lone surrogate; use valid Unicode text")
    return value


@boundary
def literal_kind(value: Any) -> str:
    """The kind of a literal: ``"boolean"``, ``"number"``, ``"string"`` or ``"temporal"``.

    Examples
    --------
    >>> literal_kind(3), literal_kind(2.5), literal_kind(True), literal_kind("FR")
    ('number', 'number', 'boolean', 'string')
    """
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "temporal"


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    return value


Scalar = Annotated[
    Any,
    PlainValidator(_scalar),
    PlainSerializer(_encode, when_used="json"),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "boolean"},
                {"type": "number"},
                {"type": "string"},
                {
                    "type": "object",
                    "properties": {"date": {"type": "string", "format": "date"}},
                    "required": ["date"],
                },
                {
                    "type": "object",
                    "properties": {"datetime": {"type": "string", "format": "date-time"}},
                    "required": ["datetime"],
                },
            ]
        }
    ),
]


def _check_field(value: str) -> str:
    if (
        not value
        or "`" in value
        or any(ord(c) < 32 or ord(c) == 127 for c in value)
        or value != value.strip()
    ):
        raise ValueError(
            f"field {value!r} must be a non-empty name without backticks, control characters "
            "or surrounding spaces"
        )
    return _check_text(value)


class _Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _FieldNode(_Node):
    field: str

    @field_validator("field")
    @classmethod
    def _field_ok(cls, value: str) -> str:
        return _check_field(value)


class Compare(_FieldNode):
    """``field op value``, e.g. ``recency <= 30``.

    Examples
    --------
    >>> Compare(field="r", op=">=", value=4).value
    4
    """

    kind: Literal["compare"] = "compare"
    op: CompareOp
    value: Scalar


class InList(_FieldNode):
    """``field in [v1, v2]`` (``negate=True``: ``not in``).

    Examples
    --------
    >>> InList(field="country", values=("FR", "DE")).values
    ('FR', 'DE')
    """

    kind: Literal["in"] = "in"
    values: tuple[Scalar, ...] = Field(min_length=1)
    negate: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> InList:
        kinds = {literal_kind(v) for v in self.values}
        if len(kinds) > 1:
            raise ValueError(
                f"the values of an in list must be of one kind, got {sorted(kinds)}: "
                f"{list(self.values)!r}"
            )
        return self


class Between(_FieldNode):
    """``field between low and high`` (both ends included).

    Examples
    --------
    >>> Between(field="age", low=18, high=30).high
    30
    """

    kind: Literal["between"] = "between"
    low: Scalar
    high: Scalar

    @model_validator(mode="after")
    def _one_kind(self) -> Between:
        if literal_kind(self.low) != literal_kind(self.high):
            raise ValueError(
                f"between needs two values of one kind, got {self.low!r} and {self.high!r}"
            )
        return self


class IsNull(_FieldNode):
    """``field is null`` (``negate=True``: ``is not null``).

    Examples
    --------
    >>> IsNull(field="email", negate=True).negate
    True
    """

    kind: Literal["is_null"] = "is_null"
    negate: bool = False


class StringTest(_FieldNode):
    """``field contains "x"``, ``starts with "x"`` or ``ends with "x"`` (case-sensitive, literal).

    Examples
    --------
    >>> StringTest(field="email", op="contains", value="@acme").op
    'contains'
    """

    kind: Literal["string"] = "string"
    op: Literal["contains", "starts_with", "ends_with"]
    value: str

    @field_validator("value")
    @classmethod
    def _text_ok(cls, value: str) -> str:
        return _check_text(value)


class HasTag(_FieldNode):
    """``has tag "vip"``: the tag list in ``field`` (default ``tags``) holds ``tag``.

    Examples
    --------
    >>> HasTag(tag="vip").field
    'tags'
    """

    kind: Literal["has_tag"] = "has_tag"
    field: str = "tags"
    tag: str

    @field_validator("tag")
    @classmethod
    def _text_ok(cls, value: str) -> str:
        return _check_text(value)


class _TagsTest(_FieldNode):
    """The shared shape of ``has any tags`` and ``has all tags``."""

    field: str = "tags"
    tags: tuple[str, ...] = Field(min_length=1)

    @field_validator("tags")
    @classmethod
    def _text_ok(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_text(v) for v in value)


class HasAnyTags(_TagsTest):
    """``has any tags ["a", "b"]``: at least one of ``tags`` is present.

    Examples
    --------
    >>> HasAnyTags(tags=("a", "b")).kind
    'has_any_tags'
    """

    kind: Literal["has_any_tags"] = "has_any_tags"


class HasAllTags(_TagsTest):
    """``has all tags ["a", "b"]``: every one of ``tags`` is present.

    Examples
    --------
    >>> HasAllTags(tags=("a",)).kind
    'has_all_tags'
    """

    kind: Literal["has_all_tags"] = "has_all_tags"


class RelativeWindow(_Node):
    """A window relative to ``as_of``: ``last`` / ``next`` ``amount`` units, or ``older`` than.

    ``last``: ``as_of - amount < t <= as_of``; ``next``: ``as_of < t <= as_of + amount``;
    ``older``: ``t <= as_of - amount``. Months, quarters and years follow the calendar.

    Examples
    --------
    >>> RelativeWindow(direction="last", amount=30, unit="D").amount
    30
    """

    direction: Literal["last", "next", "older"]
    amount: int = Field(ge=0, le=100_000)
    unit: TimeUnit


class Within(_FieldNode):
    """``field within last 30 days`` / ``within next 2 weeks`` / ``older than 1 year``.

    Examples
    --------
    >>> Within(field="last_seen", direction="last", amount=30, unit="D").unit
    'D'
    """

    kind: Literal["within"] = "within"
    direction: Literal["last", "next", "older"]
    amount: int = Field(ge=0, le=100_000)
    unit: TimeUnit

    @property
    def window(self) -> RelativeWindow:
        """The window without the field."""
        return RelativeWindow(direction=self.direction, amount=self.amount, unit=self.unit)


class EventAggregate(_FieldNode):
    """Count or sum over a record's event list, e.g.
    ``count(events where type = "view") within last 30 days >= 3``.

    ``field`` names the list of events; ``value_field`` is the event field summed (``sum`` only);
    ``where`` filters events (a rule over one event's fields, without aggregates of its own);
    ``window`` keeps events whose ``time_field`` (default ``timestamp``) lies in a window
    relative to ``as_of``. A missing or null event list counts as empty; null events are
    skipped; ``sum`` skips null values and is 0 over no events.

    Examples
    --------
    >>> EventAggregate(func="count", op=">=", value=3).field
    'events'
    """

    kind: Literal["aggregate"] = "aggregate"
    func: Literal["count", "sum"]
    field: str = "events"
    value_field: str | None = None
    where: Rule | None = None
    window: RelativeWindow | None = None
    time_field: str = "timestamp"
    op: CompareOp
    value: Scalar

    @model_validator(mode="after")
    def _consistent(self) -> EventAggregate:
        if (self.func == "sum") != (self.value_field is not None):
            raise ValueError("value_field is required for sum and not allowed for count")
        if self.value_field is not None:
            _check_field(self.value_field)
        _check_field(self.time_field)
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)):
            raise ValueError(f"an aggregate is compared with a number, got {self.value!r}")
        if self.where is not None and any(
            isinstance(n, EventAggregate) for n, _ in iter_nodes(self.where)
        ):
            raise ValueError("the where filter of an aggregate cannot hold another aggregate")
        return self


class And(_Node):
    """All of ``rules`` hold (at least two).

    Examples
    --------
    >>> And(rules=(IsNull(field="a"), IsNull(field="b"))).kind
    'and'
    """

    kind: Literal["and"] = "and"
    rules: tuple[Rule, ...] = Field(min_length=2)


class Or(_Node):
    """At least one of ``rules`` holds (at least two).

    Examples
    --------
    >>> Or(rules=(IsNull(field="a"), IsNull(field="b"))).kind
    'or'
    """

    kind: Literal["or"] = "or"
    rules: tuple[Rule, ...] = Field(min_length=2)


class Not(_Node):
    """``not rule`` (plain two-valued negation of the rule's result).

    Examples
    --------
    >>> Not(rule=IsNull(field="a")).kind
    'not'
    """

    kind: Literal["not"] = "not"
    rule: Rule


Rule: TypeAlias = Annotated[
    Compare
    | InList
    | Between
    | IsNull
    | StringTest
    | HasTag
    | HasAnyTags
    | HasAllTags
    | Within
    | EventAggregate
    | And
    | Or
    | Not,
    Field(discriminator="kind"),
]

for _model in (EventAggregate, And, Or, Not):
    _model.model_rebuild()

#: Validates / dumps any :data:`Rule` (``RULE_ADAPTER.validate_python(d)``, ``.dump_json(r)``).
RULE_ADAPTER: TypeAdapter[Rule] = TypeAdapter(Rule)

_NODE_TYPES = (
    Compare,
    InList,
    Between,
    IsNull,
    StringTest,
    HasTag,
    HasAnyTags,
    HasAllTags,
    Within,
    EventAggregate,
    And,
    Or,
    Not,
)
_NODE_SET = frozenset(_NODE_TYPES)  # exact-type test first: isinstance on models is slow


class Limits(BaseModel):
    """Safety limits for rules accepted from users: text length, nesting depth, node count.

    Examples
    --------
    >>> Limits().max_depth
    32
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_length: int = Field(default=10_000, ge=1, le=10_000_000)
    max_depth: int = Field(default=32, ge=1, le=HARD_MAX_DEPTH)
    max_nodes: int = Field(default=500, ge=1, le=1_000_000)


def _children(node: Any) -> tuple[Any, ...]:
    if isinstance(node, (And, Or)):
        return node.rules
    if isinstance(node, Not):
        return (node.rule,)
    if isinstance(node, EventAggregate) and node.where is not None:
        return (node.where,)
    return ()


def iter_nodes(rule: Rule) -> Iterator[tuple[Rule, int]]:
    """Every node with its depth (the root has depth 1), depth-first, without recursion.

    Examples
    --------
    >>> [d for _, d in iter_nodes(Not(rule=IsNull(field="a")))]
    [1, 2]
    """
    if type(rule) not in _NODE_SET and not isinstance(rule, _NODE_TYPES):
        raise RuleError(
            f"rule must be a clientmodel.rules node (parse text first), got {type(rule).__name__}",
            field="rule",
        )
    stack: list[tuple[Any, int]] = [(rule, 1)]
    while stack:
        node, depth = stack.pop()
        yield node, depth
        stack.extend((child, depth + 1) for child in reversed(_children(node)))


_T = TypeVar("_T")


@boundary
def per_rule(fn: Callable[[Rule], _T]) -> Callable[[Rule], _T]:
    """Cache ``fn(rule)`` for as long as that rule object lives (nodes are immutable).

    For facts every call would otherwise re-derive by walking the whole tree (its depth and size,
    whether it needs ``as_of``). The cache is keyed by the object's identity, so it never hashes
    a (possibly deep) tree, and an entry goes away with its rule.

    Examples
    --------
    >>> size = per_rule(lambda rule: sum(1 for _ in iter_nodes(rule)))
    >>> size(Not(rule=IsNull(field="a")))
    2
    """
    memo: dict[int, tuple[weakref.ref[Any], _T]] = {}

    @functools.wraps(fn)
    def cached(rule: Rule) -> _T:
        key = id(rule)
        hit = memo.get(key)
        if hit is not None and hit[0]() is rule:
            return hit[1]
        value = fn(rule)
        memo[key] = (weakref.ref(rule, lambda _: memo.pop(key, None)), value)
        return value

    return cached


@per_rule
def _extent(rule: Rule) -> tuple[int, int]:
    """The depth and the node count of a rule."""
    depth = count = 0
    for _, level in iter_nodes(rule):
        depth = max(depth, level)
        count += 1
    return depth, count


@boundary
def check_limits(rule: Any, limits: Limits | None = None) -> Rule:
    """Check that ``rule`` is a Rule within ``limits`` (depth, node count); return it.

    Without ``limits`` only the hard depth ceiling applies (rules built in Python). The tree is
    walked once per rule object, so checking the same rule on every call costs next to nothing.

    Examples
    --------
    >>> check_limits(IsNull(field="a")).kind
    'is_null'
    """
    if type(rule) not in _NODE_SET and not isinstance(rule, _NODE_TYPES):
        raise RuleError(
            f"expected a rule (text or a clientmodel.rules node), got {type(rule).__name__}"
        )
    max_depth = HARD_MAX_DEPTH if limits is None else limits.max_depth
    depth, count = _extent(rule)
    if depth > max_depth:
        raise RuleError(f"rule is nested deeper than the limit of {max_depth} levels")
    if limits is not None and count > limits.max_nodes:
        raise RuleError(f"rule has more than the limit of {limits.max_nodes} nodes")
    return cast("Rule", rule)


@boundary
def rule_to_json(rule: Rule) -> str:
    """The rule as a JSON string (dates as ``{"date": ...}``).

    Examples
    --------
    >>> rule_to_json(IsNull(field="email"))
    '{"field":"email","kind":"is_null","negate":false}'
    """
    return RULE_ADAPTER.dump_json(check_limits(rule)).decode()


@boundary
def rule_from_json(data: str | bytes | dict[str, Any], *, limits: Limits | None = None) -> Rule:
    """Rebuild a rule from :func:`rule_to_json` output (a JSON string or an already-parsed dict).

    Raises :class:`~clientmodel.errors.RuleError` for malformed JSON, unknown node kinds or a
    rule over the :class:`Limits`.

    Examples
    --------
    >>> rule_from_json('{"kind": "is_null", "field": "email"}')
    IsNull(field='email', kind='is_null', negate=False)
    """
    lim = limits or Limits()
    try:
        if isinstance(data, (str, bytes)):
            if len(data) > 20 * lim.max_length:
                raise RuleError(
                    f"rule JSON is {len(data)} characters, over the limit of "
                    f"{20 * lim.max_length} (20 x max_length)"
                )
            data = json.loads(data)
        rule = RULE_ADAPTER.validate_python(data)
    except (ValidationError, ValueError, RecursionError) as exc:
        if isinstance(exc, RuleError):
            raise
        raise RuleError(f"not a valid rule: {_short(exc)}") from exc
    return check_limits(rule, lim)


def _short(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        errs = exc.errors(include_url=False)[:3]
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'rule'}: {e['msg']}" for e in errs
        )
    return str(exc)[:300]
