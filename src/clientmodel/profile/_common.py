"""Small helpers shared by the profile modules (private)."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ValidationError

from clientmodel.errors import ArgumentError, DataError

_SECONDS_PER_DAY = 86_400.0


def zone(tz: str) -> dt.tzinfo:
    """The tzinfo of an IANA name (``"UTC"`` accepted in any case)."""
    if not isinstance(tz, str):
        raise ValueError(f"timezone {tz!r} is not an IANA timezone name")
    if tz.upper() == "UTC":
        return dt.timezone.utc
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"timezone {tz!r} is not a known IANA timezone (e.g. 'Asia/Shanghai', 'UTC')"
        ) from exc


def aware(value: Any, field: str) -> dt.datetime:
    """A timezone-aware datetime (ISO strings accepted), or a clear ArgumentError."""
    if isinstance(value, str):
        text = value.strip()
        if text[-1:] in ("Z", "z"):
            text = text[:-1] + "+00:00"
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ArgumentError(
                f"{field}={value!r} is not an ISO 8601 timestamp; pass a timezone-aware "
                "datetime such as '2024-05-01T18:00:00+08:00'",
                field=field,
            ) from None
    if not isinstance(value, dt.datetime):
        raise ArgumentError(
            f"{field} must be a timezone-aware datetime, got {type(value).__name__} {value!r}",
            field=field,
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise ArgumentError(
            f"{field}={value.isoformat()!r} is a naive datetime; give it a timezone "
            "(e.g. datetime(..., tzinfo=timezone.utc))",
            field=field,
        )
    return value


def days_between(earlier: dt.datetime, later: dt.datetime) -> float:
    """``later - earlier`` in (fractional) days."""
    return (later - earlier).total_seconds() / _SECONDS_PER_DAY


def short_validation(exc: ValidationError) -> str:
    """The first few pydantic errors as one line (locations and messages, never raw input)."""
    parts = []
    for err in exc.errors(include_url=False, include_input=False)[:3]:
        loc = ".".join(str(p) for p in err["loc"]) or "record"
        msg = str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts)


def coerce(model: type[BaseModel], value: Any, what: str, field: str) -> Any:
    """``value`` as ``model`` (instances pass through; mappings are validated)."""
    if isinstance(value, model):
        return value
    if isinstance(value, Mapping):
        try:
            return model.model_validate(dict(value))
        except ValidationError as exc:
            raise DataError(f"{what} is not valid: {short_validation(exc)}", field=field) from None
    raise DataError(
        f"{what} must be a {model.__name__} or a mapping of its fields, got {type(value).__name__}",
        field=field,
    )


def as_list(value: Any, what: str) -> list[Any]:
    """An iterable argument as a list (a lone mapping or model is refused: pass a list)."""
    if isinstance(value, (str, bytes, Mapping, BaseModel)) or not isinstance(value, Iterable):
        raise ArgumentError(
            f"{what} must be a list (or other iterable) of records, got {type(value).__name__}",
            field=what,
        )
    return list(value)


def rules_module() -> Any:
    """``clientmodel.rules``, imported lazily (profile sits beside rules)."""
    try:
        return importlib.import_module("clientmodel.rules")
    except ImportError as exc:  # pragma: no cover - rules ships with the package
        raise ArgumentError(
            "rule-based tags need clientmodel.rules, which could not be imported: " + str(exc),
            field="rules",
        ) from exc
