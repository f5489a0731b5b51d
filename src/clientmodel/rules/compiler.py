"""The table face, part 1: a rule compiled to one narwhals expression.

:func:`compile` turns a rule into a boolean ``narwhals`` expression for a given schema (normally
the frame itself), so the same rule runs natively on pandas, polars, pyarrow and lazy frames:
``frame.filter(compile(rule, frame, as_of=...))``. The expression follows the record face
exactly (see :mod:`clientmodel.rules.evaluate` for the null semantics and
:mod:`clientmodel.rules._time` for dates): every leaf yields a non-null boolean, false for a null
value (float NaN counts as null), so ``not`` and ``and``/``or`` are plain two-valued logic.

Aggregates over events need a join or an ``explode`` and columns of Python objects need a
value-by-value pass, so neither fits in one expression: :func:`compile` raises
:class:`~clientmodel.errors.RuleError` for them and
:func:`~clientmodel.rules.table.evaluate_table` handles them.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Callable, Mapping
from typing import Any

import narwhals.stable.v2 as nw

from clientmodel._validation import boundary
from clientmodel.errors import ArgumentError, RuleError
from clientmodel.periods import timezone
from clientmodel.rules import _numbers, _time
from clientmodel.rules._time import AsOf
from clientmodel.rules.evaluate import prepare
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
    Limits,
    Not,
    Or,
    Rule,
    StringTest,
    Within,
    literal_kind,
)
from clientmodel.rules.schema import FieldType, check, read_schema, resolve

__all__ = ["Compiler", "Scope", "compile", "raise_problems"]

_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class Scope:
    """Field names of one frame: their types and how to reach each column as an expression.

    ``root`` maps a top-level name to its expression: ``nw.col(name)`` for a table, or a field
    of a struct column for exploded events.

    Examples
    --------
    >>> from clientmodel.rules.schema import read_schema
    >>> scope = Scope(read_schema({"m": {"score": float}}))
    >>> scope.find("m.score")[0]
    ['m', 'score']
    """

    def __init__(
        self,
        types: Mapping[str, FieldType],
        root: Callable[[str], nw.Expr] = nw.col,
    ) -> None:
        self.types = types
        self.root = root

    @boundary
    def find(self, field: str) -> tuple[list[str], FieldType]:
        """The path and type of ``field``; RuleError when unknown."""
        found = resolve(field, self.types)
        if found is None:
            raise RuleError(
                f"unknown field {field!r}; known: {sorted(self.types)[:20]}", field=field
            )
        return found

    @boundary
    def column(self, path: list[str]) -> nw.Expr:
        """The expression that reads a field path."""
        expr = self.root(path[0])
        for part in path[1:]:
            expr = expr.struct.field(part)
        return expr


def _reduce(op: Callable[[Any, Any], Any], exprs: list[nw.Expr]) -> nw.Expr:
    return functools.reduce(op, exprs)


class Compiler:
    """Builds the expression of a rule in one :class:`Scope`.

    ``precomputed`` maps ``id(node)`` to an expression standing for that node (aggregates and
    Python-object columns computed beforehand by ``evaluate_table``).

    Examples
    --------
    >>> from clientmodel.rules import parse
    >>> from clientmodel.rules.schema import read_schema
    >>> expr = Compiler(Scope(read_schema({"r": int})), None).expr(parse("r >= 4"))
    >>> type(expr).__name__
    'Expr'
    """

    def __init__(
        self,
        scope: Scope,
        as_of: AsOf | None,
        precomputed: Mapping[int, nw.Expr] | None = None,
    ) -> None:
        self.scope = scope
        self.as_of = as_of
        self.precomputed = precomputed or {}

    @boundary
    def expr(self, node: Rule) -> nw.Expr:
        """The rule as a boolean expression without nulls."""
        return self.build(node, exact=False).fill_null(False)

    @boundary
    def build(self, node: Rule, exact: bool) -> nw.Expr:
        """The expression of ``node``; unless ``exact``, a null in it stands for False.

        Under ``and``/``or`` alone a null can stay null until the root (Kleene logic keeps
        "null means false" there), which spares a fill per leaf; under ``not`` it cannot.
        """
        done = self.precomputed.get(id(node))
        if done is not None:
            return done
        if isinstance(node, And):
            return _reduce(operator.and_, [self.build(c, exact) for c in node.rules])
        if isinstance(node, Or):
            return _reduce(operator.or_, [self.build(c, exact) for c in node.rules])
        if isinstance(node, Not):
            return ~self.build(node.rule, exact=True)
        if isinstance(node, EventAggregate):
            raise RuleError(
                f"count(...)/sum(...) over {node.field!r} needs a join or an explode, which one "
                "expression cannot do; use clientmodel.rules.evaluate_table",
                field=node.field,
            )
        return self.leaf(node, exact)

    @boundary
    def leaf(self, node: Any, exact: bool = True) -> nw.Expr:
        path, t = self.scope.find(node.field)
        if t.kind == "object":
            raise RuleError(
                f"column {path[0]!r} holds Python objects, which are tested value by value; use "
                "clientmodel.rules.evaluate_table (or give the column a typed dtype)",
                field=node.field,
            )
        c = self.scope.column(path)
        if t.nan:
            c = c.fill_nan(None)
        if t.categorical:
            c = c.cast(nw.String())
        if isinstance(node, IsNull):
            return ~c.is_null() if node.negate else c.is_null()
        pred, strict = self.predicate(node, c, t)
        if exact:
            pred = pred.fill_null(False)
        # A null may compare as True under NaN semantics (pandas with numpy dtypes): mask it.
        return pred & ~c.is_null() if strict else pred

    @boundary
    def predicate(self, node: Any, c: nw.Expr, t: FieldType) -> tuple[nw.Expr, bool]:
        if isinstance(node, Compare):
            return self.compare(c, t, node.op, node.value), node.op == "!="
        if isinstance(node, InList):
            return self.in_list(c, t, node.values, node.negate), node.negate
        if isinstance(node, Between):
            low = self.compare(c, t, ">=", node.low)
            return low & self.compare(c, t, "<=", node.high), False
        if isinstance(node, StringTest):
            if node.op == "contains":
                return c.str.contains(node.value, literal=True), False
            if node.op == "starts_with":
                return c.str.starts_with(node.value), False
            return c.str.ends_with(node.value), False
        if isinstance(node, HasTag):
            return c.list.contains(node.tag), False
        if isinstance(node, (HasAnyTags, HasAllTags)):
            parts = [c.list.contains(tag) for tag in node.tags]
            op = operator.or_ if isinstance(node, HasAnyTags) else operator.and_
            return _reduce(op, [p.fill_null(False) for p in parts]), False
        if isinstance(node, Within):
            return self.window(c, t, node.direction, node.amount, node.unit), False
        raise TypeError(f"not a rule node: {node!r}")  # pragma: no cover

    # ------------------------------------------------------------------ comparisons
    @boundary
    def compare(self, c: nw.Expr, t: FieldType, op: str, value: Any) -> nw.Expr:
        if isinstance(value, (dt.date, dt.datetime)):
            return _temporal(c, t, op, value)
        if t.kind == "number":
            return _numbers.compare(c, t, op, value)
        return _OPS[op](c, value)  # type: ignore[no-any-return]

    @boundary
    def in_list(self, c: nw.Expr, t: FieldType, values: tuple[Any, ...], negate: bool) -> nw.Expr:
        if isinstance(values[0], (dt.date, dt.datetime)):
            hit = _reduce(operator.or_, [self.compare(c, t, "=", v) for v in values])
        elif t.kind == "number" and literal_kind(values[0]) == "number":
            hit = _numbers.in_list(c, t, values)
        else:
            hit = c.is_in(list(values))
        return ~hit if negate else hit

    @boundary
    def window(self, c: nw.Expr, t: FieldType, direction: str, amount: int, unit: str) -> nw.Expr:
        if self.as_of is None:
            raise RuleError("a window test needs as_of= (a date or a timezone-aware datetime)")
        if t.kind == "date" or self.as_of.instant is None:
            bounds = _time.day_window(direction, amount, unit, self.as_of)
            if bounds.empty:
                return c.is_null() & nw.lit(False)
            parts = []
            if bounds.low is not None:
                parts.append(_day_test(c, t, ">", bounds.low))
            if bounds.high is not None:
                parts.append(_day_test(c, t, "<=", bounds.high))
        else:
            bounds = _time.instant_window(direction, amount, unit, self.as_of)
            if bounds.empty:
                return c.is_null() & nw.lit(False)
            naive = t.aware is False
            operand = c.dt.timestamp("us")
            parts = []
            if bounds.low is not None:
                low = bounds.low.replace(tzinfo=None) if naive else bounds.low
                parts.append(operand > _time.epoch_us(low))
            if bounds.high is not None:
                high = bounds.high.replace(tzinfo=None) if naive else bounds.high
                parts.append(operand <= _time.epoch_us(high))
        if not parts:
            return ~c.is_null()
        return _reduce(operator.and_, parts)


def _zone(tz: str) -> dt.tzinfo | None:
    """A column's timezone, or ``None`` when it cannot be read."""
    try:
        return timezone(tz)
    except ArgumentError:
        return None


def _day_start(day: dt.date, zone: dt.tzinfo | None) -> int:
    """Epoch microseconds of the first instant of ``day`` in ``zone`` (naive: UTC wall clock)."""
    return _time.epoch_us(dt.datetime.combine(day, dt.time(0), tzinfo=zone))


def _day_test(c: nw.Expr, t: FieldType, op: str, day: dt.date) -> nw.Expr:
    """``date(c) op day`` where ``date(c)`` is the calendar date of the value in its timezone.

    A datetime column is compared with the first instants of ``day`` and the day after in the
    column's timezone, which needs no date extraction (and works on every backend).
    """
    if t.kind in ("date", "any"):
        return _OPS[op](c, day)  # type: ignore[no-any-return]
    zone = None
    if t.aware:
        zone = _zone(t.tz) if t.tz is not None else None
        if zone is None:
            return _OPS[op](c.dt.date(), day)  # type: ignore[no-any-return]
    ts = c.dt.timestamp("us")
    start = _day_start(day, zone)
    try:
        after: int | None = _day_start(day + dt.timedelta(days=1), zone)
    except OverflowError:
        after = None
    if op == "<":
        return ts < start
    if op == ">=":
        return ts >= start
    if after is None:  # ``day`` is the last representable date
        return {"<=": ~ts.is_null(), ">": ts.is_null() & nw.lit(False)}.get(op, ts >= start)
    if op == "<=":
        return ts < after
    if op == ">":
        return ts >= after
    if op == "=":
        return (ts >= start) & (ts < after)
    return (ts < start) | (ts >= after)


def _temporal(c: nw.Expr, t: FieldType, op: str, value: dt.date) -> nw.Expr:
    """A date/datetime comparison at the granularity of the pair (see ``_time``)."""
    if t.kind == "date" or not _time.is_datetime(value):
        return _day_test(c, t, op, _time.day_of(value))
    assert isinstance(value, dt.datetime)
    if t.aware is False:  # naive column: wall-clock time in the literal's timezone
        value = value.replace(tzinfo=None)
    return _OPS[op](c.dt.timestamp("us"), _time.epoch_us(value))  # type: ignore[no-any-return]


@boundary
def raise_problems(problems: list[RuleError]) -> None:
    """Raise the first problem of a schema check, saying how many more there are.

    Examples
    --------
    >>> from clientmodel.rules import check
    >>> raise_problems(check("r > 1", {"r": int}))  # no problems: returns None
    """
    if not problems:
        return
    first = problems[0]
    if len(problems) > 1:
        raise RuleError(
            f"{first.message} (and {len(problems) - 1} more problem(s); "
            "clientmodel.rules.check lists them all)",
            field=first.field,
            position=first.position,
        )
    raise first


@boundary
def compile(rule: Any, schema: Any, *, as_of: Any = None, limits: Limits | None = None) -> nw.Expr:
    """A rule as one boolean narwhals expression over frames with the given schema.

    Parameters
    ----------
    rule:
        Rule text, a parsed rule or its JSON dict.
    schema:
        The frame the expression will run on (pandas, polars, pyarrow, a lazy frame), or any
        schema :func:`~clientmodel.rules.check` accepts. It is checked first: a problem raises
        :class:`~clientmodel.errors.RuleError`.
    as_of:
        The moment windows are relative to; the window bounds are fixed in the expression, so
        compile again for another ``as_of``.
    limits:
        Limits for parsing rule text.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"r": [5, 3, None], "country": ["FR", "DE", "FR"]})
    >>> expr = compile('r >= 4 or country in ["DE"]', df)
    >>> import narwhals.stable.v2 as nw
    >>> nw.from_native(df).select(expr.alias("hit"))["hit"].to_list()
    [True, True, False]
    """
    parsed, moment = prepare(rule, as_of, limits)
    types = read_schema(schema)
    raise_problems(check(parsed, types))
    return Compiler(Scope(types), moment).expr(parsed)
