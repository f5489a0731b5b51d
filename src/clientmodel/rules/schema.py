"""Checking a rule against a schema before evaluating it.

:func:`check` lists every problem of a rule for a given set of fields -- unknown fields (with the
closest known names suggested), tests that do not fit a field's type (a date compared with a
number, ``contains`` on a number, ``has tag`` on a number, a window on text, ``sum`` of text) --
as one :class:`~clientmodel.errors.RuleError` per problem, each with the ``position`` of the
offending name or literal in the rule text (for a rule given as a tree, in its canonical text
:func:`~clientmodel.rules.to_text`). Syntax errors and bad literals surface as the parser's
``RuleError``.

A schema can be a DataFrame or LazyFrame (its column types), a pydantic model class, an attrs
class or dataclass, or a mapping of field name to a type: a Python type (``int``, ``str``,
``datetime.date``, ``list[str]``, a model class, ``X | None``, ...), a narwhals dtype, a nested
mapping (a struct), a one-item list holding a mapping or model (an event list with those fields),
a :class:`FieldType`, or one of the names ``number``, ``string``, ``boolean``, ``date``,
``datetime``, ``list``, ``events`` and ``any``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import enum
import types
import typing
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

import attrs
import narwhals.stable.v2 as nw
from pydantic import BaseModel

from clientmodel._validation import boundary
from clientmodel.errors import ArgumentError, RuleError
from clientmodel.rules._numbers import INT_BOUNDS
from clientmodel.rules.nodes import (
    HARD_MAX_DEPTH,
    Between,
    Compare,
    EventAggregate,
    HasAllTags,
    HasAnyTags,
    HasTag,
    InList,
    IsNull,
    Limits,
    Rule,
    StringTest,
    Within,
    literal_kind,
)
from clientmodel.rules.parser import Span, as_rule, parse_with_spans
from clientmodel.rules.printer import format_literal, to_text

__all__ = ["FieldType", "check", "read_schema", "resolve"]

TypeKind = Literal[
    "number",
    "string",
    "boolean",
    "date",
    "datetime",
    "list",
    "events",
    "struct",
    "object",  # Python objects in a table column: any test, evaluated value by value
    "other",  # a type no test but ``is null`` applies to (durations, binary, ...)
    "any",  # unknown: anything goes
]


@attrs.frozen
class FieldType:
    """The type of one field as the rule language sees it.

    ``aware`` tells a timezone-aware datetime from a naive one (``tz`` names the zone of an
    aware column when it is known), ``item`` is the element type of a list, ``fields`` the
    known fields of a struct or of each event (``None``: unknown), ``nan`` marks float columns
    (NaN counts as null), ``bounds`` the value range of an integer column, ``decimal`` a decimal
    column (numeric literals are fitted to these, see :mod:`clientmodel.rules._numbers`) and
    ``categorical`` string columns stored as categories.

    Examples
    --------
    >>> FieldType("number").kind
    'number'
    """

    kind: TypeKind
    aware: bool | None = None
    tz: str | None = None
    item: FieldType | None = None
    fields: Mapping[str, FieldType] | None = None
    nan: bool = False
    categorical: bool = False
    bounds: tuple[int, int] | None = None
    decimal: bool = False


ANY = FieldType("any")
_PERMISSIVE = Limits(max_length=10_000_000, max_depth=HARD_MAX_DEPTH, max_nodes=1_000_000)
_NAMES: dict[str, FieldType] = {
    "number": FieldType("number"),
    "int": FieldType("number"),
    "integer": FieldType("number"),
    "float": FieldType("number", nan=True),
    "decimal": FieldType("number"),
    "string": FieldType("string"),
    "str": FieldType("string"),
    "text": FieldType("string"),
    "bool": FieldType("boolean"),
    "boolean": FieldType("boolean"),
    "date": FieldType("date"),
    "datetime": FieldType("datetime", aware=True),
    "timestamp": FieldType("datetime", aware=True),
    "list": FieldType("list", item=FieldType("string")),
    "tags": FieldType("list", item=FieldType("string")),
    "events": FieldType("events"),
    "any": ANY,
}


def _from_dtype(dtype: Any) -> FieldType:
    if dtype.is_numeric():
        bounds = INT_BOUNDS.get(type(dtype) if isinstance(dtype, nw.dtypes.DType) else dtype)
        return FieldType(
            "number", nan=bool(dtype.is_float()), bounds=bounds, decimal=dtype == nw.Decimal
        )
    if dtype == nw.String:
        return FieldType("string")
    if dtype == nw.Categorical or dtype == nw.Enum:
        return FieldType("string", categorical=True)
    if dtype == nw.Boolean:
        return FieldType("boolean")
    if dtype == nw.Date:
        return FieldType("date")
    if dtype == nw.Datetime:
        tz = getattr(dtype, "time_zone", None)
        return FieldType("datetime", aware=tz is not None, tz=tz)
    if dtype == nw.List or dtype == nw.Array:
        inner = dtype.inner
        if inner == nw.Struct:
            return FieldType("events", fields={f.name: _from_dtype(f.dtype) for f in inner.fields})
        return FieldType("list", item=_from_dtype(inner))
    if dtype == nw.Struct:
        return FieldType("struct", fields={f.name: _from_dtype(f.dtype) for f in dtype.fields})
    if dtype == nw.Object or dtype == nw.Unknown:
        return FieldType("object")
    return FieldType("other")


def _is_record_class(spec: Any) -> bool:
    return isinstance(spec, type) and (
        issubclass(spec, BaseModel) or attrs.has(spec) or dataclasses.is_dataclass(spec)
    )


def _class_fields(cls: type) -> dict[str, FieldType]:
    if issubclass(cls, BaseModel):
        out = {name: _type_of(f.annotation) for name, f in cls.model_fields.items()}
        for name, c in cls.model_computed_fields.items():
            out[name] = _type_of(c.return_type)
        return out
    hints = typing.get_type_hints(cls)
    if attrs.has(cls):
        names = [a.name for a in attrs.fields(cls)]
    else:
        names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    return {n: _type_of(hints.get(n, Any)) for n in names}


def _literal_type(values: tuple[Any, ...]) -> FieldType:
    kinds = {literal_kind(v) for v in values if v is not None}
    if kinds == {"string"}:
        return FieldType("string")
    if kinds == {"number"}:
        return FieldType("number")
    if kinds == {"boolean"}:
        return FieldType("boolean")
    return ANY


def _type_of(spec: Any) -> FieldType:
    """Read one type specification (see the module docstring)."""
    if isinstance(spec, FieldType):
        return spec
    if isinstance(spec, str):
        try:
            return _NAMES[spec.strip().lower()]
        except KeyError:
            raise ArgumentError(
                f"unknown field type {spec!r}; use one of {sorted(_NAMES)}, a Python type or a "
                "narwhals dtype",
                field="schema",
            ) from None
    if isinstance(spec, nw.dtypes.DType) or (
        isinstance(spec, type) and issubclass(spec, nw.dtypes.DType)
    ):
        return _from_dtype(spec)
    if spec is Any or spec is object:
        return ANY
    if isinstance(spec, Mapping):
        return FieldType("struct", fields={str(k): _type_of(v) for k, v in spec.items()})
    if isinstance(spec, list):
        if len(spec) != 1:
            raise ArgumentError(
                f"a list type is written with one item, e.g. [str] or [{{'type': str}}]; got "
                f"{spec!r}",
                field="schema",
            )
        return _sequence_of(spec[0])
    origin = typing.get_origin(spec)
    if origin is not None:
        return _generic(spec, origin)
    if isinstance(spec, type):
        return _class_type(spec)
    if spec is None or spec is type(None):
        return FieldType("other")
    raise ArgumentError(f"cannot read a field type from {spec!r}", field="schema")


def _sequence_of(item: Any) -> FieldType:
    inner = _type_of(item)
    if inner.kind == "struct":
        return FieldType("events", fields=inner.fields)
    return FieldType("list", item=inner)


def _generic(spec: Any, origin: Any) -> FieldType:
    args = typing.get_args(spec)
    if origin is typing.Union or origin is types.UnionType:
        options = [a for a in args if a is not type(None)]
        return _type_of(options[0]) if len(options) == 1 else ANY
    if origin is typing.Annotated:
        return _type_of(args[0])
    if origin is Literal:
        return _literal_type(args)
    if isinstance(origin, type) and issubclass(origin, Mapping):
        return FieldType("struct")
    if isinstance(origin, type) and issubclass(origin, (Sequence, set, frozenset)):
        if issubclass(origin, (str, bytes)):
            return _type_of(origin)
        return _sequence_of(args[0] if args else Any)
    return ANY


def _class_type(cls: type) -> FieldType:
    if issubclass(cls, bool):
        return FieldType("boolean")
    if issubclass(cls, enum.Enum):
        if issubclass(cls, str):
            return FieldType("string")
        if issubclass(cls, int):
            return FieldType("number")
        return FieldType("other")
    if issubclass(cls, (int, Decimal)):
        return FieldType("number")
    if issubclass(cls, float):
        return FieldType("number", nan=True)
    if issubclass(cls, str):
        return FieldType("string")
    if issubclass(cls, dt.datetime):
        return FieldType("datetime", aware=True)
    if issubclass(cls, dt.date):
        return FieldType("date")
    if _is_record_class(cls):
        return FieldType("struct", fields=_class_fields(cls))
    if issubclass(cls, Mapping):
        return FieldType("struct")
    if issubclass(cls, (list, tuple, set, frozenset)):
        return FieldType("list", item=ANY)
    return FieldType("other")


@boundary
def read_schema(source: Any) -> dict[str, FieldType]:
    """Field types from a frame, a record class or a mapping of name -> type.

    Examples
    --------
    >>> import datetime as dt
    >>> s = read_schema({"r": int, "signup": dt.date, "tags": list[str]})
    >>> s["r"].kind, s["signup"].kind, s["tags"].item.kind
    ('number', 'date', 'string')
    """
    if isinstance(source, Mapping):
        return {str(k): _type_of(v) for k, v in source.items()}
    if _is_record_class(source):
        return _class_fields(source)
    if isinstance(source, (nw.DataFrame, nw.LazyFrame)):
        frame = source
    else:
        try:
            frame = nw.from_native(source)
        except TypeError:
            raise ArgumentError(
                "schema must be a DataFrame or LazyFrame, a pydantic/attrs/dataclass record "
                f"class or a mapping of field name -> type; got {type(source).__name__}",
                field="schema",
            ) from None
    schema = frame.collect_schema() if isinstance(frame, nw.LazyFrame) else frame.schema
    return {name: _from_dtype(dtype) for name, dtype in schema.items()}


@boundary
def resolve(field: str, schema: Mapping[str, FieldType]) -> tuple[list[str], FieldType] | None:
    """The path of a field through a schema (top-level name, then struct fields) and its type.

    An exact top-level name wins; otherwise a dotted name walks into struct fields. ``None``
    when the field is unknown.

    Examples
    --------
    >>> s = read_schema({"m": {"score": float}})
    >>> resolve("m.score", s)[0]
    ['m', 'score']
    """
    if field in schema:
        return [field], schema[field]
    parts = field.split(".")
    if len(parts) < 2 or parts[0] not in schema:
        return None
    path = [parts[0]]
    current = schema[parts[0]]
    for part in parts[1:]:
        if current.kind in ("any", "object"):
            return [*path, part], ANY
        if current.kind != "struct":
            return None
        if current.fields is None:
            return [*path, part], ANY
        if part not in current.fields:
            return None
        path.append(part)
        current = current.fields[part]
    return path, current


def _candidates(schema: Mapping[str, FieldType]) -> list[str]:
    names = list(schema)
    for name, t in schema.items():
        if t.kind == "struct" and t.fields:
            names.extend(f"{name}.{sub}" for sub in t.fields)
    return names


_FIT: dict[str, tuple[str, ...]] = {
    "number": ("number",),
    "string": ("string",),
    "boolean": ("boolean",),
    "temporal": ("date", "datetime"),
}
_TYPE_WORDS = {
    "number": "numbers",
    "string": "text",
    "boolean": "true/false values",
    "date": "dates",
    "datetime": "datetimes",
    "list": "lists",
    "events": "event lists",
    "struct": "nested records",
    "other": "values of an unsupported type",
}
_LITERAL_WORDS = {
    "number": "a number",
    "string": "text",
    "boolean": "true/false",
    "temporal": "a date",
}


class _Checker:
    def __init__(
        self,
        schema: Mapping[str, FieldType],
        events: Mapping[str, Mapping[str, FieldType]],
        spans: Mapping[int, Span],
    ) -> None:
        self.schema = schema
        self.events = events
        self.spans = spans
        self.problems: list[RuleError] = []

    def problem(self, message: str, pos: int | None, field: str) -> None:
        where = f" (at position {pos})" if pos is not None else ""
        self.problems.append(RuleError(message + where, field=field, position=pos))

    def field(
        self, node: Any, name: str, schema: Mapping[str, FieldType], pos: int | None, scope: str
    ) -> FieldType | None:
        found = resolve(name, schema)
        if found is not None:
            return found[1]
        close = difflib.get_close_matches(name, _candidates(schema), n=3, cutoff=0.6)
        hint = (
            f"; did you mean {' or '.join(repr(c) for c in close)}?"
            if close
            else f"; known fields: {sorted(schema)[:20]}"
        )
        self.problem(f"unknown field {name!r}{scope}{hint}", pos, name)
        return None

    def walk(self, rule: Rule, schema: Mapping[str, FieldType], scope: str) -> None:
        stack: list[Any] = [rule]
        while stack:
            node = stack.pop()
            kids = getattr(node, "rules", None)
            if kids is not None:
                stack.extend(reversed(kids))
            elif hasattr(node, "rule"):
                stack.append(node.rule)
            elif isinstance(node, EventAggregate):
                self.aggregate(node, schema)
            else:
                self.leaf(node, schema, scope)

    def leaf(self, node: Any, schema: Mapping[str, FieldType], scope: str) -> None:
        span = self.spans.get(id(node))
        field_pos = span.field if span is not None and span.field is not None else None
        if field_pos is None and span is not None:
            field_pos = span.start
        t = self.field(node, node.field, schema, field_pos, scope)
        if t is None or t.kind in ("any", "object") or isinstance(node, IsNull):
            return
        name = node.field
        holds = f"field {name!r}{scope} holds {_TYPE_WORDS.get(t.kind, t.kind)}"
        if isinstance(node, (Compare, InList, Between)):
            literals = (
                (node.value,)
                if isinstance(node, Compare)
                else node.values
                if isinstance(node, InList)
                else (node.low, node.high)
            )
            kind = literal_kind(literals[0])
            if t.kind not in _FIT[kind]:
                pos = span.values[0] if span is not None and span.values else field_pos
                self.problem(
                    f"{holds}, but is compared with {format_literal(literals[0])} "
                    f"({_LITERAL_WORDS[kind]})",
                    pos,
                    name,
                )
        elif isinstance(node, StringTest):
            if t.kind != "string":
                self.problem(f"{holds}; 'contains', 'starts with' and 'ends with' need text",
                             field_pos, name)  # fmt: skip
        elif isinstance(node, (HasTag, HasAnyTags, HasAllTags)):
            item = t.item.kind if t.kind == "list" and t.item is not None else None
            if t.kind != "list" or item not in ("string", "any", "object"):
                what = f"lists of {_TYPE_WORDS.get(item, item)}" if item else holds
                self.problem(
                    f"field {name!r}{scope} holds {what}; tag tests need a list of text tags"
                    if item
                    else f"{holds}; tag tests need a list of text tags",
                    field_pos,
                    name,
                )
        elif isinstance(node, Within) and t.kind not in ("date", "datetime"):
            self.problem(f"{holds}; a window needs a date or datetime field", field_pos, name)

    def aggregate(self, node: EventAggregate, schema: Mapping[str, FieldType]) -> None:
        span = self.spans.get(id(node))
        pos = span.field if span is not None else None
        if node.field in self.events and resolve(node.field, schema) is None:
            fields: Mapping[str, FieldType] | None = self.events[node.field]
        else:
            t = self.field(node, node.field, schema, pos, "")
            if t is None:
                return
            untyped = t.kind == "list" and t.item is not None and t.item.kind in ("any", "object")
            if t.kind in ("any", "object") or untyped:
                fields = None
            elif t.kind != "events":
                self.problem(
                    f"field {node.field!r} holds {_TYPE_WORDS.get(t.kind, t.kind)}; count(...) "
                    "and sum(...) need a list of events (records)",
                    pos,
                    node.field,
                )
                return
            else:
                fields = t.fields
        if fields is None:
            return
        scope = f" of the events in {node.field!r}"
        if node.value_field is not None:
            vpos = span.value_field if span is not None else None
            vt = self.field(node, node.value_field, fields, vpos, scope)
            if vt is not None and vt.kind not in ("number", "any", "object"):
                self.problem(
                    f"event field {node.value_field!r} holds "
                    f"{_TYPE_WORDS.get(vt.kind, vt.kind)}; sum(...) adds up numbers",
                    vpos,
                    node.value_field,
                )
        if node.window is not None:
            tpos = span.time_field if span is not None and span.time_field is not None else pos
            tt = self.field(node, node.time_field, fields, tpos, scope)
            if tt is not None and tt.kind not in ("date", "datetime", "any", "object"):
                self.problem(
                    f"event field {node.time_field!r} holds {_TYPE_WORDS.get(tt.kind, tt.kind)}; "
                    "a window needs a date or datetime (name it with 'by <field>')",
                    tpos,
                    node.time_field,
                )
        if node.where is not None:
            self.walk(node.where, fields, scope)


@boundary
def check(
    rule: Any,
    schema: Any,
    *,
    events: Mapping[str, Any] | None = None,
    limits: Limits | None = None,
) -> list[RuleError]:
    """Every problem of a rule against a schema, one :class:`RuleError` each (empty if none).

    Parameters
    ----------
    rule:
        Rule text, a parsed rule or its JSON dict. Positions refer to this text, or to
        ``to_text(rule)`` for a parsed rule.
    schema:
        The fields a record or table has (see the module docstring for the accepted forms).
    events:
        Event tables by list name (``{"events": events_frame}``) for aggregates that read a
        separate table rather than a list field.
    limits:
        Limits for parsing rule text.

    Examples
    --------
    >>> import datetime as dt
    >>> problems = check("frequncy >= 3 and signup > 5", {"frequency": int, "signup": dt.date})
    >>> [p.message for p in problems]  # doctest: +NORMALIZE_WHITESPACE
    ["unknown field 'frequncy'; did you mean 'frequency'? (at position 0)",
     "field 'signup' holds dates, but is compared with 5 (a number) (at position 27)"]
    """
    if isinstance(rule, str):
        text = rule
    else:  # a rule built in Python: re-read its canonical text for the positions
        text = to_text(as_rule(rule, limits=limits))
        limits = limits or _PERMISSIVE
    try:
        parsed, spans = parse_with_spans(text, limits=limits)
    except RuleError as exc:
        return [exc]
    fields = read_schema(schema)
    event_fields = {name: read_schema(src) for name, src in (events or {}).items()}
    checker = _Checker(fields, event_fields, spans)
    checker.walk(parsed, fields, "")
    return checker.problems
