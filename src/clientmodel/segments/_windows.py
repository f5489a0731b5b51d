"""Calendar windows of the segment rules (lifecycle stages) and id checks between tables."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from dateutil.relativedelta import relativedelta
from numpy.typing import NDArray

from clientmodel.errors import ArgumentError, DataError
from clientmodel.periods import parse_unit, relative_delta

__all__: list[str] = []

_I64 = NDArray[np.int64]


def id_kind(values: NDArray[Any]) -> str:
    """``"number"`` for integer ids, ``"text"`` for string ids, ``"other"`` for anything else."""
    if values.dtype.kind in "iu":
        return "number"
    if values.dtype.kind in "US":
        return "text"
    if values.dtype.kind == "O" and len(values):
        if all(isinstance(v, str) for v in values):
            return "text"
        if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
            return "number"
    return "other" if len(values) else "empty"


def same_ids(
    left: NDArray[Any], left_name: str, right: NDArray[Any], right_name: str
) -> tuple[NDArray[Any], NDArray[Any]]:
    """Two id columns of one call, checked to be of one kind and normalised for comparison.

    Integer ids in one table and text ids in the other (``1`` vs ``"1"``) never match: rather
    than count such customers twice, this is a :class:`DataError` naming both columns.
    """
    a, b = id_kind(left), id_kind(right)
    if "empty" not in (a, b) and a != b:
        raise DataError(
            f"{left_name} holds {a} ids ({left.dtype}) but {right_name} holds {b} ids "
            f"({right.dtype}); the same customer must have the same id in both: convert one "
            "column (e.g. .astype(str)) first",
            field=left_name,
        )
    if a == "number" or b == "number":
        return left.astype(np.int64), right.astype(np.int64)
    return left.astype(object), right.astype(object)


def as_delta(value: Any, *, field: str) -> relativedelta:
    """A window given as a relativedelta, a number of days or text such as ``"3M"`` / ``"90D"``."""
    try:
        delta = _delta(value, field)
        normal = delta.normalized()
    except OverflowError:  # dateutil keeps days and months in C ints
        normal = None
    span = None if normal is None else abs(normal.years) * 12 + abs(normal.months)
    if span is None or span > _MAX_MONTHS or abs(delta.days) > _MAX_MONTHS * 31:
        raise ArgumentError(
            f"{field}={value!r} is too long: a window is at most {_MAX_MONTHS // 12} years",
            field=field,
        )
    positive = delta.years > 0 or delta.months > 0 or delta.days > 0
    negative = delta.years < 0 or delta.months < 0 or delta.days < 0
    if normal != delta or negative or not positive:
        raise ArgumentError(f"{field}={value!r} must be a positive window", field=field)
    if any(getattr(delta, a) for a in ("hours", "minutes", "seconds", "microseconds")):
        raise ArgumentError(f"{field}={value!r} must be whole days, weeks, months or years")
    return delta


#: The longest window: a century already outlasts any customer history.
_MAX_MONTHS = 1200


def _delta(value: Any, field: str) -> relativedelta:
    if isinstance(value, relativedelta):
        delta = value
    elif isinstance(value, dt.timedelta):
        delta = relativedelta(days=value.days)
    elif isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        delta = relativedelta(days=int(value))
    elif isinstance(value, str) and value.strip()[:-1].isdigit():
        text = value.strip()
        delta = relative_delta(int(text[:-1]), parse_unit(text[-1], field=field))
    else:
        raise ArgumentError(
            f"{field}={value!r} is not a window; use a dateutil relativedelta, a number of days "
            "or text such as '90D', '12W', '3M', '1Y'",
            field=field,
        )
    return delta


def delta_to_dict(delta: relativedelta) -> dict[str, int]:
    """A relativedelta as a JSON-safe dict of its non-zero calendar fields."""
    return {k: int(getattr(delta, k)) for k in ("years", "months", "days") if getattr(delta, k)}


def day_minus(days: _I64, delta: relativedelta) -> _I64:
    """``day - delta`` on the calendar for day numbers (few distinct values expected)."""
    uniq, inv = np.unique(days, return_inverse=True)
    epoch = dt.date(1970, 1, 1)
    out = np.array(
        [((epoch + dt.timedelta(days=int(d))) - delta - epoch).days for d in uniq],
        dtype=np.int64,
    )
    return out[inv.ravel()]


def finite_sums(values: NDArray[np.float64], what: str, column: str | None) -> NDArray[np.float64]:
    """Sums of amounts over many customers, refusing an overflow to infinity (1e308 + 1e308)."""
    if not np.isfinite(values).all():
        raise DataError(
            f"{what} overflows: the amounts of column {column!r} add up beyond float64's range; "
            "check them or rescale them (e.g. to thousands)",
            field=column or "amount",
        )
    return values
