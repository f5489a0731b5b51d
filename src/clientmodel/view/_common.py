"""Small helpers shared by the modules of :mod:`clientmodel.view` (private)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from clientmodel.errors import ArgumentError


def mask(value: str) -> str:
    """A masked form of a personal identifier: a few leading and trailing characters only.

    Long values keep their first three and last two characters (``+86*********00``); short ones
    keep nothing (``****``), so no value is ever shown in full.

    Examples
    --------
    >>> mask("+8613800138000"), mask("li@example.com"), mask("abc")
    ('+86*********00', 'li@*********om', '****')
    """
    if len(value) < 8:
        return "****"
    return value[:3] + "*" * (len(value) - 5) + value[-2:]


def aware(value: Any, field: str) -> dt.datetime:
    """``value`` when it is a timezone-aware datetime; an :class:`ArgumentError` otherwise."""
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ArgumentError(
            f"{field}={value!r} is not accepted; pass a timezone-aware datetime such as "
            "datetime(2024, 6, 1, tzinfo=timezone.utc)",
            field=field,
        )
    return value


def probability(value: Any, field: str) -> float:
    """A finite number in [0, 1] or an :class:`ArgumentError` naming the field."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not (0.0 <= number <= 1.0):
        raise ArgumentError(
            f"{field}={value!r} is not accepted; pass a probability between 0 and 1",
            field=field,
        )
    return number
