"""The table face, part 2: a rule over a whole table, aggregates and Python objects included.

:func:`evaluate_table` gives one boolean per row, identical to
:func:`~clientmodel.rules.evaluate` on that row (a property test checks it on pandas and polars).
Most of a rule runs as one narwhals expression (:func:`~clientmodel.rules.compile`); two kinds of
test are prepared first:

**Aggregates over events** (``count(events where ...) within last 30 days >= 3``). The events can
come in two shapes:

* a *list column* holding each row's events as structs (polars ``List(Struct)``, pandas with
  ``pyarrow`` list dtypes): the column is exploded against a row number, filtered with the
  compiled ``where`` and window, grouped back and joined on the row number;
* a separate *events table* passed as ``events={"events": events_frame}`` (one row per event,
  keyed by the ``key`` column, ``customer_id`` by default): filtered, grouped by key and
  left-joined on ``key``. Rows without events count 0. On the record face the same data is a
  list under the record's ``events`` field.

**Columns of Python objects** (pandas ``object`` columns: lists of tags, lists of event dicts,
``datetime.date`` values; a pyarrow table's list column of events) are tested value by value with
the record evaluator, so the answer is the record face's by construction.

Lazy frames (polars ``LazyFrame``, dask, duckdb through narwhals) stay lazy: the result is the
input frame with the boolean column added. A lazy frame cannot hold Python objects; aggregates
over a list column need the unique ``key`` column there (a lazy frame has no row numbers).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Mapping
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
from numpy.typing import NDArray

from clientmodel._validation import boundary
from clientmodel.errors import ArgumentError, DataError, RuleError
from clientmodel.rules import _numbers
from clientmodel.rules._numbers import INT_BOUNDS
from clientmodel.rules._time import AsOf
from clientmodel.rules.compiler import Compiler, Scope, raise_problems
from clientmodel.rules.evaluate import _Evaluator, prepare
from clientmodel.rules.nodes import And, EventAggregate, Limits, Not, Or, Rule, Within
from clientmodel.rules.schema import FieldType, check, read_schema, resolve

__all__ = ["evaluate_table"]

Frame = Any  # nw.DataFrame[Any] | nw.LazyFrame[Any]
#: Types of the totals of ``count(...)`` and of ``sum(...)`` over floats.
_COUNT = FieldType("number", bounds=INT_BOUNDS[nw.Int64])
_SUM_OF_FLOATS = FieldType("number", nan=True)


def _leaves(rule: Rule) -> list[Any]:
    """Leaves of the boolean structure (aggregates count as leaves; their filters do not)."""
    out: list[Any] = []
    stack: list[Any] = [rule]
    while stack:
        node = stack.pop()
        if isinstance(node, (And, Or)):
            stack.extend(reversed(node.rules))
        elif isinstance(node, Not):
            stack.append(node.rule)
        else:
            out.append(node)
    return out


def _typed_event_fields(node: EventAggregate, fields: Mapping[str, FieldType]) -> bool:
    """Whether every event field the aggregate reads has a type (not Python objects or nulls)."""
    names = [n.field for n in _leaves(node.where)] if node.where is not None else []
    if node.value_field is not None:
        names.append(node.value_field)
    if node.window is not None:
        names.append(node.time_field)
    for name in names:
        found = resolve(name, fields)
        if found is None or found[1].kind == "object" or fields[found[0][0]].kind == "object":
            return False
    return True


class _Events:
    """One events table: its frame and field types."""

    def __init__(self, frame: Frame, types: dict[str, FieldType]) -> None:
        self.frame = frame
        self.types = types


class _Plan:
    """Prepares one frame for a rule: temporary columns for aggregates and object columns."""

    def __init__(
        self,
        frame: Frame,
        scope: Scope,
        as_of: AsOf | None,
        events: Mapping[str, _Events],
        key: str,
    ) -> None:
        self.frame = frame
        self.scope = scope
        self.as_of = as_of
        self.events = events
        self.key = key
        self.lazy = isinstance(frame, nw.LazyFrame)
        self.temp: list[str] = []
        self.index: str | None = None
        self.joined = False

    def name(self) -> str:
        taken = [*self.frame.collect_schema().names(), *self.temp]
        name = nw.generate_temporary_column_name(8, taken)
        self.temp.append(name)
        return name

    # ------------------------------------------------------------------ planning
    def expression(self, rule: Rule) -> nw.Expr:
        precomputed: dict[int, nw.Expr] = {}
        for leaf in _leaves(rule):
            if isinstance(leaf, EventAggregate):
                precomputed[id(leaf)] = self.aggregate(leaf)
            elif self.by_value(leaf.field):
                precomputed[id(leaf)] = nw.col(self.rowwise(leaf, leaf.field))
        return Compiler(self.scope, self.as_of, precomputed).expr(rule)

    def by_value(self, field: str) -> bool:
        found = resolve(field, self.scope.types)
        if found is None:
            return False
        path, t = found
        return t.kind == "object" or self.scope.types[path[0]].kind == "object"

    def rowwise(self, node: Any, field: str) -> str:
        """Evaluate one leaf value by value with the record evaluator; return its column."""
        if self.lazy:
            raise RuleError(
                f"column {field.split('.')[0]!r} holds Python objects, which a lazy frame cannot "
                "test; collect it first or give the column a typed dtype",
                field=field,
            )
        path, _ = self.scope.find(field)
        root = path[0]
        values = self.frame.select(self.scope.column([root]).alias("v")).get_column("v").to_list()
        ev = _Evaluator(self.as_of)
        out = np.fromiter((ev.run(node, {root: v}) for v in values), dtype=bool, count=len(values))
        return self.add(out)

    def add(self, values: NDArray[np.bool_]) -> str:
        name = self.name()
        series = nw.new_series(name, values, nw.Boolean(), backend=self.frame.implementation)
        self.frame = self.frame.with_columns(series)
        return name

    # ------------------------------------------------------------------ aggregates
    def aggregate(self, node: EventAggregate) -> nw.Expr:
        found = resolve(node.field, self.scope.types)
        if found is None:
            if node.field not in self.events:
                raise RuleError(f"unknown event list {node.field!r}", field=node.field)
            column, total_type = self.from_table(node, self.events[node.field])
            return self.test_total(node, column, total_type)
        path, t = found
        can_explode = (
            t.kind == "events"
            and self.scope.types[path[0]].kind != "object"
            and _typed_event_fields(node, t.fields or {})
            and not self.frame.implementation.is_pyarrow()
        )
        if not can_explode:
            if self.lazy:
                raise RuleError(
                    f"column {node.field!r} does not hold typed lists of structs, which a "
                    "lazy frame needs for count(...)/sum(...)",
                    field=node.field,
                )
            return nw.col(self.rowwise(node, node.field))
        column, total_type = self.from_list(node, path, t)
        return self.test_total(node, column, total_type)

    def test_total(self, node: EventAggregate, column: str, total_type: FieldType) -> nw.Expr:
        """``total op value`` for a count or sum column (null: no events, so 0)."""
        total = nw.col(column).fill_null(0)
        return _numbers.compare(total, total_type, node.op, node.value).fill_null(False)

    def row_id(self) -> str:
        """A column identifying rows for grouping events back: a row number or the key."""
        if self.lazy:
            if self.key not in self.frame.collect_schema().names():
                raise RuleError(
                    f"count(...)/sum(...) over a list column of a lazy frame needs a unique key "
                    f"column to group events back; the frame has no {self.key!r} (pass key=)",
                    field=self.key,
                )
            return self.key
        if self.index is None:
            self.index = self.name()
            self.frame = self.frame.with_row_index(self.index)
        return self.index

    def from_list(
        self, node: EventAggregate, path: list[str], t: FieldType
    ) -> tuple[str, FieldType]:
        row = self.row_id()
        events = self.name()
        exploded = self.frame.select(nw.col(row), self.scope.column(path).alias(events))
        try:
            exploded = exploded.explode(events)
        except NotImplementedError:
            raise RuleError(
                f"this kind of frame cannot explode the list column {node.field!r}; pass the "
                "events as a table with events={...}",
                field=node.field,
            ) from None
        fields = t.fields or {}
        scope = Scope(fields, lambda name: nw.col(events).struct.field(name))
        return self.group(node, exploded, scope, row, ~nw.col(events).is_null())

    def from_table(self, node: EventAggregate, table: _Events) -> tuple[str, FieldType]:
        if self.key not in self.frame.collect_schema().names():
            raise DataError(
                f"the table has no key column {self.key!r} to match the events of "
                f"{node.field!r}; pass key=",
                field=self.key,
            )
        if self.key not in table.types:
            raise DataError(
                f"the events table {node.field!r} has no key column {self.key!r}; pass key=",
                field=self.key,
            )
        nulls = table.frame.select(nw.col(self.key).is_null().sum().alias("n")).lazy().collect()
        n_null = int(nulls.get_column("n").to_list()[0])
        if n_null:
            rows: list[int] = []
            where = ""
            if isinstance(table.frame, nw.DataFrame):  # a lazy frame has no row positions
                nulls_at = table.frame.get_column(self.key).is_null().to_numpy()
                rows = np.flatnonzero(nulls_at).tolist()
                where = f" (row(s) {', '.join(map(str, rows[:5]))}{', ...' if n_null > 5 else ''})"
            raise DataError(
                f"the events table {node.field!r} has {n_null} event(s) with a null key "
                f"{self.key!r}{where}; they belong to no row -- give them a key or drop them first",
                field=self.key,
                rows=rows,
            )
        if not self.lazy:
            self.row_id()  # to restore the row order after the join
        return self.group(node, table.frame, Scope(table.types), self.key, None)

    def group(
        self,
        node: EventAggregate,
        events: Frame,
        scope: Scope,
        row: str,
        present: nw.Expr | None,
    ) -> tuple[str, FieldType]:
        """Filter events, count or sum them per ``row``, join the totals back; name and type."""
        inner = _Plan(events, scope, self.as_of, {}, self.key)
        keep = [] if present is None else [present]
        if node.window is not None:
            w = node.window
            window = Within(
                field=node.time_field, direction=w.direction, amount=w.amount, unit=w.unit
            )
            keep.append(inner.expression(window))
        if node.where is not None:
            keep.append(inner.expression(node.where))
        total = self.name()
        agg: nw.Expr
        total_type = _COUNT
        if node.value_field is None:
            agg = nw.len().alias(total)
            columns: list[nw.Expr] = []
        else:
            value = self.name()
            vpath, vt = scope.find(node.value_field)
            if vt.kind == "object":
                raise RuleError(
                    f"sum over {node.field}.{node.value_field}, a column of Python objects; give "
                    "it a numeric dtype",
                    field=node.value_field,
                )
            vexpr = scope.column(vpath)
            if vt.nan:
                vexpr = vexpr.fill_nan(None)
            if vt.nan or vt.decimal:
                total_type, vexpr = _SUM_OF_FLOATS, _numbers.numeric_column(vexpr, vt)
            elif vt.bounds is None:
                total_type = FieldType("number")
            columns = [vexpr.alias(value)]
            agg = nw.col(value).sum().alias(total)
        filtered = (
            inner.frame.filter(functools.reduce(operator.and_, keep)) if keep else inner.frame
        )
        if columns:
            filtered = filtered.with_columns(*columns)
        grouped = filtered.group_by(row).agg(agg)
        if self.lazy and self.index is None and self.frame.implementation.is_polars():
            # a polars lazy join keeps no row order: number the rows to sort them back
            self.index = self.name()
            self.frame = nw.from_native(self.frame.to_native().with_row_index(self.index))
        self.frame = self.frame.join(grouped, on=row, how="left")
        self.joined = True
        return total, total_type


def _frame_of(data: Any, what: str) -> Frame:
    if isinstance(data, (nw.DataFrame, nw.LazyFrame)):
        return data
    try:
        return nw.from_native(data)
    except TypeError:
        raise DataError(
            f"{what} must be a pandas/polars DataFrame or LazyFrame, a pyarrow Table or a "
            f"mapping of column -> values; got {type(data).__module__}.{type(data).__name__}",
        ) from None


def _mapping_frame(data: Mapping[str, Any]) -> Frame | None:
    """A mapping of columns as a polars frame when polars can hold it as is; else ``None``."""
    try:
        import polars as pl
    except ImportError:  # pragma: no cover - polars is a test dependency
        return None
    columns = {}
    for name, values in data.items():
        if isinstance(values, (str, bytes, Mapping)) or not hasattr(values, "__iter__"):
            raise DataError(
                f"column {name!r} of table must be a list of values (one per row), "
                f"got {type(values).__name__}",
                field=str(name),
            )
        arr = values if isinstance(values, np.ndarray) and values.dtype.kind != "O" else None
        columns[str(name)] = arr if arr is not None else list(values)
    try:
        return nw.from_native(pl.DataFrame(columns), eager_only=True)
    except Exception:  # anything polars cannot hold as is goes value by value
        return None


def _rows(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    names = list(data)
    columns = [list(data[n]) for n in names]
    lengths = {len(c) for c in columns}
    if len(lengths) > 1:
        raise DataError(f"table columns have different lengths: {sorted(lengths)}")
    n = lengths.pop() if lengths else 0
    return [{name: col[i] for name, col in zip(names, columns, strict=True)} for i in range(n)]


def _events_by_key(
    events: Mapping[str, Frame], key: str, names: set[str]
) -> dict[str, dict[Any, list[dict[str, Any]]]]:
    out: dict[str, dict[Any, list[dict[str, Any]]]] = {}
    for name in names:
        frame = events[name]
        rows = (
            _rows(frame)
            if isinstance(frame, Mapping)
            else _frame_of(frame, "events").lazy().collect().rows(named=True)
        )
        groups: dict[Any, list[dict[str, Any]]] = {}
        for i, row in enumerate(rows):
            if key not in row:
                raise DataError(f"the events table {name!r} has no key column {key!r}", field=key)
            if row[key] is None:
                raise DataError(
                    f"the events table {name!r} has an event with a null key {key!r} (row {i});"
                    " it belongs to no row -- give it a key or drop it first",
                    field=key,
                    rows=[i],
                )
            groups.setdefault(row[key], []).append(row)
        out[name] = groups
    return out


def _by_rows(
    rule: Rule,
    data: Mapping[str, Any],
    as_of: AsOf | None,
    events: Mapping[str, Any],
    key: str,
) -> NDArray[np.bool_]:
    """The whole rule value by value (a mapping polars cannot hold)."""
    rows = _rows(data)
    wanted = {
        n.field
        for n in _leaves(rule)
        if isinstance(n, EventAggregate) and n.field not in data and n.field in events
    }
    grouped = _events_by_key(events, key, wanted)
    ev = _Evaluator(as_of)
    out = np.zeros(len(rows), dtype=bool)
    for i, row in enumerate(rows):
        for name in wanted:
            row[name] = grouped[name].get(row.get(key), [])
        out[i] = ev.run(rule, row)
    return out


def _events_frames(events: Any, like: Frame) -> dict[str, _Events]:
    if events is None:
        return {}
    if not isinstance(events, Mapping) or not all(isinstance(k, str) for k in events):
        raise ArgumentError(
            "events must map an event list name to its table, e.g. {'events': events_frame}",
            field="events",
        )
    out = {}
    for name, data in events.items():
        frame: Frame
        if isinstance(data, Mapping):
            frame = nw.from_dict(
                {str(k): list(v) for k, v in data.items()}, backend=like.implementation
            )
        else:
            frame = _frame_of(data, f"events[{name!r}]")
        if isinstance(like, nw.LazyFrame) != isinstance(frame, nw.LazyFrame):
            frame = frame.lazy() if isinstance(like, nw.LazyFrame) else frame.lazy().collect()
        if frame.implementation != like.implementation:
            if isinstance(frame, nw.LazyFrame):
                raise ArgumentError(
                    f"events[{name!r}] is a {frame.implementation} frame but the table is "
                    f"{like.implementation}; use one kind of frame",
                    field="events",
                )
            frame = nw.from_dict(frame.to_dict(as_series=False), backend=like.implementation)
        out[name] = _Events(frame, _types(frame))
    return out


@boundary
def evaluate_table(
    rule: Any,
    table: Any,
    *,
    as_of: Any = None,
    events: Mapping[str, Any] | None = None,
    key: str = "customer_id",
    name: str = "rule",
    limits: Limits | None = None,
) -> Any:
    """Evaluate a rule on every row of a table; the same answers as :func:`evaluate` per row.

    Parameters
    ----------
    rule:
        Rule text, a parsed rule or its JSON dict.
    table:
        A pandas or polars DataFrame, a pyarrow Table, a lazy frame (polars, dask, ...) or a
        mapping of column name -> values.
    as_of:
        The moment windows are relative to (a date or a timezone-aware datetime).
    events:
        Event tables by list name, e.g. ``{"events": events_frame}``, for aggregates whose list
        is not a column of ``table`` (one row per event, matched on ``key``).
    key:
        The column that ties events to rows (and identifies rows of a lazy frame).
    name:
        Name of the boolean result (series name, or the column added to a lazy frame).
    limits:
        Limits for parsing rule text.

    Returns
    -------
    A boolean series of the caller's kind (pandas Series with the table's index, polars Series,
    pyarrow ChunkedArray) for an eager frame; a numpy bool array for a mapping; for a lazy frame,
    the frame with the boolean column ``name`` added.

    Raises
    ------
    RuleError
        When the rule does not fit the table (unknown column, wrong type: see
        :func:`~clientmodel.rules.check`), or a window test gets no ``as_of``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"r": [5, 4, 1], "m": [5, 1, 5]})
    >>> evaluate_table("r <= 2 and m >= 4", df).tolist()
    [False, False, True]
    >>> evaluate_table("r >= 4", {"r": [5, 1]})
    array([ True, False])
    """
    parsed, moment = prepare(rule, as_of, limits)
    if isinstance(table, Mapping):
        frame = _mapping_frame(table)
        if frame is None:
            return _by_rows(parsed, table, moment, events or {}, key)
        result = _evaluate_frame(parsed, frame, moment, events, key, name)
        return np.asarray(result.to_numpy(), dtype=bool)
    frame = _frame_of(table, "table")
    result = _evaluate_frame(parsed, frame, moment, events, key, name)
    if isinstance(result, nw.LazyFrame):
        return result.to_native()
    native = result.to_native()
    if frame.implementation.is_pandas_like() and hasattr(table, "index"):
        native = native.set_axis(table.index)
    return native


def _types(frame: Frame) -> dict[str, FieldType]:
    """Field types of a frame; a pandas ``object`` column holding only nulls is untyped.

    (narwhals reads the type of an ``object`` column from its values, and a column of nothing but
    ``None`` would pass for text.)
    """
    types = read_schema(frame)
    if isinstance(frame, nw.DataFrame) and frame.implementation.is_pandas_like():
        native = frame.to_native()
        n = len(frame)
        for column, t in types.items():
            untyped = t.kind != "object" and native[column].dtype == object
            if untyped and frame.get_column(column).null_count() == n:
                types[column] = FieldType("object")
    return types


def _evaluate_frame(
    rule: Rule,
    frame: Frame,
    as_of: AsOf | None,
    events: Mapping[str, Any] | None,
    key: str,
    name: str,
) -> Any:
    types = _types(frame)
    tables = _events_frames(events, frame)
    raise_problems(check(rule, types, events={n: e.types for n, e in tables.items()}))
    plan = _Plan(frame, Scope(types), as_of, tables, key)
    try:
        expr = plan.expression(rule)
    except RecursionError:  # pragma: no cover - depth is limited far below the stack
        raise RuleError("rule is nested too deeply to compile") from None
    out = plan.frame
    if plan.lazy:
        out = out.with_columns(expr.alias(name))
        if plan.index is not None:
            out = out.sort(plan.index)
        return out.drop(plan.temp, strict=False)
    if plan.joined and plan.index is not None:
        out = out.sort(plan.index)
    return out.select(expr.alias(name)).get_column(name)
