"""Time units, durations in units, calendar windows and ``as_of`` handling.

There is no hidden clock in clientmodel: anything that depends on "now" takes ``as_of``, and
:func:`as_of_value` turns what the caller passed into one wall-clock instant in the timezone of
the data it is compared with.

Units
-----
``D`` day, ``W`` week (7 days), ``M`` month, ``Q`` quarter, ``Y`` year (long names such as
``"week"`` are accepted too). Durations are measured in days and divided by the unit's length;
months, quarters and years use the mean Gregorian lengths (30.436875, 91.310625 and 365.2425
days), so a duration is a real number of units however the calendar falls. Calendar windows
("the last 3 months as of 31 March") are a different question and use
:func:`dateutil.relativedelta.relativedelta`, which follows the calendar.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from dateutil.parser import isoparse
from dateutil.relativedelta import relativedelta
from numpy.typing import NDArray

from clientmodel._validation import boundary, check_integer, did_you_mean, mask_identifier
from clientmodel.errors import ArgumentError

__all__ = [
    "UNIT_DAYS",
    "Unit",
    "as_of_value",
    "duration_in_units",
    "parse_timestamp",
    "parse_unit",
    "period_start",
    "relative_delta",
    "timezone",
    "window_start",
]

Unit = Literal["D", "W", "M", "Q", "Y"]

#: Length of each unit in days (mean Gregorian lengths for months, quarters and years).
UNIT_DAYS: dict[str, float] = {
    "D": 1.0,
    "W": 7.0,
    "M": 365.2425 / 12,
    "Q": 365.2425 / 4,
    "Y": 365.2425,
}

_ALIASES = {
    "d": "D", "day": "D", "days": "D",
    "w": "W", "week": "W", "weeks": "W",
    "m": "M", "month": "M", "months": "M",
    "q": "Q", "quarter": "Q", "quarters": "Q",
    "y": "Y", "year": "Y", "years": "Y",
}  # fmt: skip

_US_PER_DAY = 86_400_000_000
#: The largest step :func:`relative_delta` takes, in any unit: more days than the calendar holds.
_MAX_DAYS = 3_652_059


def parse_unit(unit: str, *, field: str = "unit") -> Unit:
    """Normalise a unit name to one of ``D W M Q Y``.

    Examples
    --------
    >>> parse_unit("weeks")
    'W'
    """
    key = _ALIASES.get(str(unit).strip().lower()) if isinstance(unit, str) else None
    if key is None:
        hint = did_you_mean(unit.strip().lower(), _ALIASES) if isinstance(unit, str) else ""
        raise ArgumentError(
            f"{field}={unit!r} is not a time unit; use one of D, W, M, Q, Y "
            f"(or day, week, month, quarter, year){hint}",
            field=field,
        )
    return cast(Unit, key)


def _refuse_nat(arr: NDArray[Any], field: str) -> None:
    """Refuse NaT: numpy would turn it into a date or duration some 25 million years away."""
    missing = np.flatnonzero(np.isnat(arr).ravel())
    if missing.size:
        raise ArgumentError(
            f"{field} holds NaT (a missing time) at position(s) {missing[:5].tolist()}; "
            "give every entry a time",
            field=field,
        )


@boundary
def duration_in_units(delta: NDArray[Any], unit: str) -> NDArray[np.float64]:
    """Convert ``timedelta64`` durations to (fractional) units.

    Examples
    --------
    >>> duration_in_units(np.array([14], dtype="timedelta64[D]"), "W")
    array([2.])
    """
    u = parse_unit(unit)
    arr = np.asarray(delta)
    if arr.dtype.kind != "m":
        raise ArgumentError(
            f"delta must be a numpy timedelta64 array, got dtype {arr.dtype}", field="delta"
        )
    _refuse_nat(arr, "delta")
    days = arr.astype("timedelta64[us]").astype(np.int64) / _US_PER_DAY
    return np.asarray(days / UNIT_DAYS[u], dtype=np.float64)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}(:\d{2}(:\d{2}([.,]\d+)?)?)?([Zz]|[+-]\d{2}(:?\d{2})?)?"
)


# an email or a run of seven digits or more (a phone, an id) may be a personal identifier
_IDENTIFIER_LIKE = re.compile(r"@|\d{7,}")


def _shown_text(value: Any) -> str:
    """The bad value for a message: masked when it may be a personal identifier."""
    if isinstance(value, str) and _IDENTIFIER_LIKE.search(value):
        return repr(mask_identifier(value))
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@boundary
def parse_timestamp(text: str, *, field: str = "value") -> dt.date | dt.datetime:
    """Read an ISO 8601 date or timestamp: the one parser of the library, the same on every Python.

    Accepted: ``YYYY-MM-DD`` (a :class:`~datetime.date`), and ``YYYY-MM-DD`` followed by ``T``
    (or a space) and ``HH[:MM[:SS[.ffffff]]]``, optionally with ``Z`` or an offset ``+HH:MM``,
    ``+HHMM`` or ``+HH`` (a :class:`~datetime.datetime`, timezone-aware with a fixed offset
    when one is given). Unlike :meth:`datetime.datetime.fromisoformat` on Python 3.10, ``Z``
    and fractions of any length are read. Anything else is an
    :class:`~clientmodel.errors.ArgumentError` naming ``field``.

    Examples
    --------
    >>> parse_timestamp("2024-03-31T18:00:00Z")
    datetime.datetime(2024, 3, 31, 18, 0, tzinfo=datetime.timezone.utc)
    >>> parse_timestamp("2024-03-31")
    datetime.date(2024, 3, 31)
    """
    raw = text.strip() if isinstance(text, str) else None
    try:
        if raw is not None and _ISO_DATE.fullmatch(raw):
            return dt.date.fromisoformat(raw)
        if raw is not None and _ISO_TIMESTAMP.fullmatch(raw):
            value = isoparse((raw[:10] + "T" + raw[11:]).upper().replace(",", "."))
            offset = value.utcoffset()
            if offset is None:
                return value
            zone = dt.timezone.utc if offset == dt.timedelta(0) else dt.timezone(offset)
            return value.replace(tzinfo=zone)
    except (ValueError, OverflowError):
        pass
    raise ArgumentError(
        f"{field}={_shown_text(text)} is not an ISO 8601 date or timestamp (e.g. '2024-03-31', "
        "'2024-03-31T18:00:00+00:00' or '2024-03-31T18:00:00Z')",
        field=field,
    )


@boundary
def as_of_value(as_of: Any, *, tz: str | None, field: str = "as_of") -> np.datetime64:
    """Turn the caller's ``as_of`` into a wall-clock ``datetime64[us]`` in the data's timezone.

    ``tz`` is the reference timezone of the data (``None`` for calendar dates). The result is the
    last instant that counts: anything at or before it has happened. Accepted: a ``date`` (the
    end of that day, so everything on that date has happened), a timezone-aware
    ``datetime``, or an ISO 8601 string of either. A naive datetime is accepted only when the data
    has a timezone, and is read in it.

    Examples
    --------
    >>> as_of_value("1997-09-30", tz=None)
    np.datetime64('1997-09-30T23:59:59.999999')
    """
    if tz is not None:
        timezone(tz)  # an unknown name is refused even when as_of does not need it
    value = as_of
    if isinstance(value, np.datetime64):
        value = value.astype("datetime64[us]").item()
    if isinstance(value, str):
        value = parse_timestamp(value, field=field)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            if tz is None:
                raise ArgumentError(
                    f"{field}={as_of!r} is a naive datetime; give it a timezone or pass a date",
                    field=field,
                )
            return np.datetime64(value, "us")
        if tz is not None:
            value = value.astimezone(timezone(tz))
        return np.datetime64(value.replace(tzinfo=None), "us")
    if isinstance(value, dt.date):
        # A date means "as of the end of that day".
        end = np.datetime64(value, "D") + np.timedelta64(1, "D")
        last: np.datetime64 = end.astype("datetime64[us]") - np.timedelta64(1, "us")
        return last
    raise ArgumentError(
        f"{field} must be a date, a timezone-aware datetime or an ISO 8601 string; "
        f"got {type(as_of).__name__}",
        field=field,
    )


_OFFSET = re.compile(r"(?:UTC)?([+-])(\d{1,2})(?::?(\d{2}))?", re.IGNORECASE)


@boundary
def timezone(tz: str) -> dt.tzinfo:
    """The timezone a name stands for: an IANA name, ``"UTC"``/``"Z"`` or a fixed UTC offset.

    Offsets may be written ``"UTC+08:00"`` (as :class:`clientmodel.tables.Timestamps` reports
    them) or ``"+08:00"`` (as pyarrow and polars name them). Anything else is an
    :class:`~clientmodel.errors.ArgumentError` (a ``ValueError``).

    Examples
    --------
    >>> timezone("UTC+08:00") == timezone("+08:00")
    True
    >>> timezone("Europe/Paris").key
    'Europe/Paris'
    """
    name = tz.strip() if isinstance(tz, str) else ""
    if name.upper() in ("UTC", "Z"):
        return dt.timezone.utc
    offset = _OFFSET.fullmatch(name)
    try:
        if offset is not None:
            sign = 1 if offset.group(1) == "+" else -1
            hours, minutes = int(offset.group(2)), int(offset.group(3) or 0)
            return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
        if name:
            return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    raise ArgumentError(
        f"tz={tz!r} is not a known timezone; pass an IANA name such as 'UTC' or "
        "'Europe/Paris', or a UTC offset such as 'UTC+08:00'",
        field="tz",
    )


@boundary
def relative_delta(amount: int, unit: str) -> relativedelta:
    """A calendar-aware step of ``amount`` units (months follow the calendar, e.g. 31 Jan + 1M).

    Examples
    --------
    >>> import datetime as dt
    >>> dt.date(2024, 1, 31) + relative_delta(1, "M")
    datetime.date(2024, 2, 29)
    """
    u = parse_unit(unit)
    # relativedelta silently keeps fractional days; an exact int that a date can carry is asked.
    amount = check_integer(amount, "amount", minimum=-_MAX_DAYS, maximum=_MAX_DAYS)
    if u == "D":
        return relativedelta(days=amount)
    if u == "W":
        return relativedelta(weeks=amount)
    if u == "M":
        return relativedelta(months=amount)
    if u == "Q":
        return relativedelta(months=3 * amount)
    return relativedelta(years=amount)


@boundary
def window_start(as_of: dt.datetime | dt.date, window: relativedelta) -> dt.datetime | dt.date:
    """Start of the calendar window of length ``window`` that ends at ``as_of``.

    Examples
    --------
    >>> import datetime as dt
    >>> from dateutil.relativedelta import relativedelta
    >>> window_start(dt.date(2024, 3, 31), relativedelta(months=1))
    datetime.date(2024, 2, 29)
    """
    if not isinstance(window, relativedelta):
        raise ArgumentError(
            f"window must be a relativedelta (see relative_delta), got {type(window).__name__}",
            field="window",
        )
    if not isinstance(as_of, dt.date):
        raise ArgumentError(f"as_of must be a date or datetime, got {as_of!r}", field="as_of")
    if window.normalized() != window or any(
        v < 0 for v in (window.years, window.months, window.days, window.hours)
    ):
        raise ArgumentError(
            f"window={window!r} must be a positive, normalised relativedelta", field="window"
        )
    try:
        start: dt.datetime | dt.date = as_of - window
    except (OverflowError, ValueError) as err:
        raise ArgumentError(
            f"window={window!r} reaches before year 1 from as_of={as_of!r}", field="window"
        ) from err
    return start


@boundary
def period_start(values: NDArray[Any], unit: str) -> NDArray[np.datetime64]:
    """Truncate wall-clock timestamps to the start of their calendar period.

    Weeks start on Monday (ISO 8601); months, quarters and years on their first day.

    Examples
    --------
    >>> period_start(np.array(["2024-05-17"], dtype="datetime64[D]"), "Q")
    array(['2024-04-01'], dtype='datetime64[D]')
    """
    u = parse_unit(unit)
    values = np.asarray(values)
    if values.dtype.kind != "M":
        raise ArgumentError(
            f"values must be a numpy datetime64 array, got dtype {values.dtype}", field="values"
        )
    _refuse_nat(values, "values")
    days = values.astype("datetime64[D]")
    if u == "D":
        return days
    if u == "W":
        # 1970-01-01 was a Thursday: shift so that weeks start on Monday.
        n = days.astype(np.int64)
        return (n - (n + 3) % 7).astype("datetime64[D]")
    months = values.astype("datetime64[M]")
    if u == "M":
        return months.astype("datetime64[D]")
    if u == "Q":
        m = months.astype(np.int64)
        return (m - m % 3).astype("datetime64[M]").astype("datetime64[D]")
    return values.astype("datetime64[Y]").astype("datetime64[D]")
