"""The one rule for numeric literals on the table face: compare exact mathematical values.

The record face compares Python numbers, which Python does exactly whatever their spelling
(``1 == 1.0``, ``-0.0 == 0.0``, ``2**53 + 1 != 2.0**53``). A backend instead casts one side to the
other's type (polars refuses ``Float64`` in ``List(Int64)``, pyarrow refuses a lossy cast, an
``int64`` of ``2**53 + 1`` cast to a double equals ``2**53``). So each literal is rewritten, once,
into a literal *of the column's type* with the same answer on every value of that type:

* **integer column** (bounds ``lo..hi`` of its dtype): an integral float becomes the integer it
  equals; a fractional ``f`` gives ``c <= floor(f)`` for ``<``/``<=``, ``c >= ceil(f)`` for
  ``>``/``>=``, never ``=``; a literal outside ``lo..hi`` gives a constant (``c < 2**70`` is true
  for every non-null value);
* **float column** (read as ``Float64``, so a ``Float32`` value compares as the double it holds,
  as on the record face): an integer ``n`` that a double holds exactly becomes ``float(n)``;
  one it does not lies strictly between two adjacent doubles ``a < n < b`` and ``c < n`` becomes
  ``c <= a``, ``c > n`` becomes ``c >= b``, never ``=``; ``-0.0`` is ``0.0``;
* **decimal column**: read as ``Float64``, as the record face reads ``Decimal`` values;
* a column whose number type is unknown (a schema of Python types) gets the literal as written.

Nulls are handled by the caller (every test of a null is false).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

import narwhals.stable.v2 as nw

__all__ = ["INT_BOUNDS", "compare", "in_list", "numeric_column"]

#: Value bounds of each integer dtype.
INT_BOUNDS: dict[Any, tuple[int, int]] = {}
for _bits in (8, 16, 32, 64, 128):
    if hasattr(nw, f"Int{_bits}"):
        INT_BOUNDS[getattr(nw, f"Int{_bits}")] = (-(2 ** (_bits - 1)), 2 ** (_bits - 1) - 1)
    if hasattr(nw, f"UInt{_bits}"):
        INT_BOUNDS[getattr(nw, f"UInt{_bits}")] = (0, 2**_bits - 1)

_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _constant(c: nw.Expr, value: bool) -> nw.Expr:
    """The same answer on every non-null value (a null stays false)."""
    return ~c.is_null() if value else c.is_null() & nw.lit(False)


def numeric_column(c: nw.Expr, t: Any) -> nw.Expr:
    """The column as it is compared: floats and decimals widened to ``Float64``."""
    if getattr(t, "nan", False) or getattr(t, "decimal", False):
        return c.cast(nw.Float64())
    return c


def _integer_test(op: str, literal: int | float) -> tuple[str, int] | bool:
    """``c op literal`` over integers as ``c op' n`` with an integer ``n``, or a constant."""
    if isinstance(literal, int):
        return op, literal
    if literal.is_integer():
        return op, int(literal)
    if op in ("=", "!="):
        return op == "!="
    if op in ("<", "<="):
        return "<=", math.floor(literal)
    return ">=", math.ceil(literal)


def _float_test(op: str, literal: int | float) -> tuple[str, float] | bool:
    """``c op literal`` over doubles as ``c op' x`` with a double ``x``, or a constant."""
    if isinstance(literal, float):
        return op, literal + 0.0  # -0.0 -> 0.0
    near = float(literal)
    if near == literal:  # Python compares int and float exactly
        return op, near
    below, above = (near, math.nextafter(near, math.inf))
    if near > literal:
        below, above = math.nextafter(near, -math.inf), near
    if op in ("=", "!="):
        return op == "!="
    if op in ("<", "<="):
        return "<=", below
    return ">=", above


def compare(c: nw.Expr, t: Any, op: str, literal: Any) -> nw.Expr:
    """``c op literal`` for a number column ``c`` of type ``t`` (a ``FieldType``), exactly."""
    bounds = getattr(t, "bounds", None)
    if isinstance(literal, bool) or not isinstance(literal, (int, float)):
        return _OPS[op](c, literal)  # type: ignore[no-any-return]
    if bounds is not None:
        test = _integer_test(op, literal)
        if isinstance(test, bool):
            return _constant(c, test)
        op, n = test
        lo, hi = bounds
        if n > hi:
            return _constant(c, op in ("<", "<=", "!="))
        if n < lo:
            return _constant(c, op in (">", ">=", "!="))
        return _OPS[op](c, n)  # type: ignore[no-any-return]
    if getattr(t, "nan", False) or getattr(t, "decimal", False):
        ftest = _float_test(op, literal)
        if isinstance(ftest, bool):
            return _constant(c, ftest)
        return _OPS[ftest[0]](numeric_column(c, t), ftest[1])  # type: ignore[no-any-return]
    return _OPS[op](c, literal)  # type: ignore[no-any-return]


def in_list(c: nw.Expr, t: Any, values: tuple[Any, ...]) -> nw.Expr:
    """``c in values`` for a number column, exactly (see the module docstring)."""
    bounds = getattr(t, "bounds", None)
    if bounds is not None:
        lo, hi = bounds
        ints = {int(v) for v in values if isinstance(v, int) or v.is_integer()}
        ints = {n for n in ints if lo <= n <= hi}
        if not ints:
            return _constant(c, False)
        return c.is_in(sorted(ints))
    if getattr(t, "nan", False) or getattr(t, "decimal", False):
        floats = {float(v) + 0.0 for v in values if float(v) == v}
        if not floats:
            return _constant(c, False)
        wide = numeric_column(c, t)
        if 0.0 in floats:  # IEEE equality, so that -0.0 in the column is found too
            floats.discard(0.0)
            zero = wide == 0.0
            return zero | wide.is_in(sorted(floats)) if floats else zero
        return wide.is_in(sorted(floats))
    out: nw.Expr = c == values[0]
    for v in values[1:]:
        out = out | (c == v)
    return out
