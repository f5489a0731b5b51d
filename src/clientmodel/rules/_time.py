"""Dates, datetimes and windows relative to ``as_of``: the one definition both faces use.

Granularity. When either side of a test is a calendar date (the field's value, the literal, or
``as_of`` for a window), both sides are compared as calendar dates, a datetime counting as the
date it shows in its own timezone (for a table column, the column's timezone). Otherwise both
sides are datetimes and compared as instants; a naive datetime (no timezone) is read as wall-clock
time in the timezone of the other side.

Windows. For ``N`` units and ``as_of`` ``A`` (months, quarters and years follow the calendar with
:func:`clientmodel.periods.relative_delta`): ``last`` is ``A - N < t <= A``, ``next`` is
``A < t <= A + N`` and ``older`` is ``t <= A - N``. Bounds depend on ``as_of`` and the window
alone, so each is computed once per ``as_of``; an event stops counting as soon as ``as_of`` moves
past its window.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import attrs

from clientmodel.errors import ArgumentError
from clientmodel.periods import relative_delta

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_US = dt.timedelta(microseconds=1)


@attrs.frozen
class AsOf:
    """``as_of`` read once: its calendar date and, when it was a datetime, the instant."""

    day: dt.date
    instant: dt.datetime | None


@attrs.frozen
class Window:
    """Bounds of a window: ``low < t <= high`` (``None``: unbounded); ``empty`` matches nothing."""

    low: Any
    high: Any
    empty: bool = False


def read_as_of(as_of: Any) -> AsOf | None:
    """Read the caller's ``as_of``: a date, a timezone-aware datetime or an ISO 8601 string."""
    if as_of is None:
        return None
    value = as_of
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                value = dt.date.fromisoformat(text)
            else:
                text = text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
                value = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ArgumentError(
                f"as_of={as_of!r} is not an ISO 8601 date or datetime "
                "(e.g. '2024-03-31' or '2024-03-31T18:00:00+00:00')",
                field="as_of",
            ) from None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ArgumentError(
                f"as_of={as_of!r} is a naive datetime; give it a timezone or pass a date",
                field="as_of",
            )
        return AsOf(value.date(), value)
    if isinstance(value, dt.date):
        return AsOf(value, None)
    raise ArgumentError(
        f"as_of must be a date, a timezone-aware datetime or an ISO 8601 string; got "
        f"{type(as_of).__name__}",
        field="as_of",
    )


def is_datetime(value: Any) -> bool:
    """Whether a temporal value carries a time of day (a datetime rather than a date)."""
    return isinstance(value, dt.datetime)


def day_of(value: dt.date) -> dt.date:
    """The calendar date of a date or datetime (in the datetime's own timezone)."""
    return value.date() if isinstance(value, dt.datetime) else value


def epoch_us(value: dt.datetime) -> int:
    """Microseconds since 1970-01-01 UTC; a naive datetime is taken as UTC wall-clock time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return (value - EPOCH) // _US


def _shift(value: Any, amount: int, unit: str, sign: int) -> Any:
    """``value +/- amount units``, or ``None`` when that falls off the calendar."""
    try:
        return value + relative_delta(sign * amount, unit)
    except (OverflowError, ValueError):
        return None


def window(direction: str, amount: int, unit: str, anchor: Any) -> Window:
    """Bounds of a window around ``anchor`` (a date or an aware datetime)."""
    if direction == "last":
        return Window(_shift(anchor, amount, unit, -1), anchor)
    if direction == "next":
        high = _shift(anchor, amount, unit, +1)
        return Window(anchor, high)
    high = _shift(anchor, amount, unit, -1)
    return Window(None, high, empty=high is None)


def day_window(direction: str, amount: int, unit: str, as_of: AsOf) -> Window:
    """The window in calendar dates."""
    return window(direction, amount, unit, as_of.day)


def instant_window(direction: str, amount: int, unit: str, as_of: AsOf) -> Window:
    """The window in instants (``as_of`` must have been a datetime)."""
    assert as_of.instant is not None
    return window(direction, amount, unit, as_of.instant)


def windows(as_of: AsOf) -> Windows:
    """The window bounds of one ``as_of``, shared by every call with that ``as_of``.

    Two ``as_of`` share bounds only when they show the same wall-clock time in the same timezone
    at the same UTC offset: equal instants in other zones have other calendar bounds.
    """
    at = as_of.instant
    wall = None if at is None else (at.replace(tzinfo=None), at.tzinfo, at.utcoffset())
    return _windows(as_of, wall)


@functools.lru_cache(maxsize=256)
def _windows(as_of: AsOf, wall: Any) -> Windows:
    return Windows(as_of)


class Windows:
    """The bounds of windows for one ``as_of``, each computed once (see :func:`windows`)."""

    def __init__(self, as_of: AsOf) -> None:
        self.as_of = as_of
        self._memo: dict[tuple[str, int, str, str], Window] = {}

    def bounds(self, direction: str, amount: int, unit: str, level: str) -> Window:
        """Bounds at ``level`` ``"day"``, ``"instant"`` or ``"wall"`` (naive wall-clock)."""
        key = (direction, amount, unit, level)
        found = self._memo.get(key)
        if found is None:
            if level == "day":
                found = day_window(direction, amount, unit, self.as_of)
            else:
                found = instant_window(direction, amount, unit, self.as_of)
                if level == "wall":
                    found = Window(
                        None if found.low is None else found.low.replace(tzinfo=None),
                        None if found.high is None else found.high.replace(tzinfo=None),
                        found.empty,
                    )
            self._memo[key] = found
        return found

    def contains(self, value: dt.date, direction: str, amount: int, unit: str) -> bool:
        """Whether a date or datetime lies in the window (record face)."""
        if self.as_of.instant is None or not isinstance(value, dt.datetime):
            level, v = "day", day_of(value)
        else:
            level, v = ("wall" if value.tzinfo is None else "instant"), value
        bounds = self.bounds(direction, amount, unit, level)
        if bounds.empty:
            return False
        return (bounds.low is None or v > bounds.low) and (bounds.high is None or v <= bounds.high)


def temporal_pair(value: dt.date, literal: dt.date) -> tuple[Any, Any]:
    """Bring a value and a literal to one comparable form (record face)."""
    if not is_datetime(value) or not is_datetime(literal):
        return day_of(value), day_of(literal)
    assert isinstance(value, dt.datetime)
    assert isinstance(literal, dt.datetime)
    if value.tzinfo is None:
        return value, literal.replace(tzinfo=None)
    return value, literal
