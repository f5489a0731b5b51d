"""Small helpers shared by the modules of :mod:`clientmodel.view` (private)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from clientmodel._validation import check_number, mask_identifier
from clientmodel.errors import ArgumentError


def mask(value: str) -> str:
    """A masked form of a personal identifier (the library's one rule,
    :func:`clientmodel._validation.mask_identifier`).

    Examples
    --------
    >>> mask("+8613800138000"), mask("li@example.com"), mask("abc")
    ('+86****8000', 'l***@example.com', '***')
    """
    return mask_identifier(value)


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
    """A finite number in [0, 1] or an :class:`ArgumentError` naming the field.

    Examples
    --------
    >>> probability(0.25, "p")
    0.25
    """
    return check_number(value, field, minimum=0.0, maximum=1.0)
