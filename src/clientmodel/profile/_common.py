"""Small helpers shared by the profile modules (private)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any, overload

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ValidationError
from typing_extensions import Self

from clientmodel._validation import check_instance as check_instance  # the one checker (re-export)
from clientmodel.errors import ArgumentError, DataError
from clientmodel.periods import timezone

_SECONDS_PER_DAY = 86_400.0


class FrozenDict(dict):  # type: ignore[type-arg]
    """A read-only ``dict``: the mappings inside frozen records (traits, properties, counters).

    It is a ``dict`` subclass, so records still serialise, compare and publish their JSON Schema
    as before; every method that would change it raises ``TypeError``. Copies are cheap and
    safe: nothing can change it, so records may share one.
    """

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            "this mapping belongs to a frozen record and is read-only; build a new record "
            "(e.g. record.model_copy(update={...})) with a new mapping"
        )

    __setitem__ = __delitem__ = _read_only
    pop = popitem = clear = update = setdefault = _read_only
    __ior__ = _read_only

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: Any) -> FrozenDict:
        return self


def freeze_mappings(record: BaseModel) -> None:
    """Make every ``dict`` field of a frozen record a :class:`FrozenDict` (in place, once)."""
    for name in type(record).model_fields:
        value = record.__dict__.get(name)
        if type(value) is dict:
            object.__setattr__(record, name, FrozenDict(value))


class FrozenRecord(BaseModel):
    """Base of records whose mapping fields are read-only, also after ``model_copy``."""

    def model_post_init(self, context: Any, /) -> None:
        freeze_mappings(self)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        out = super().model_copy(update=update, deep=deep)
        freeze_mappings(out)
        return out


def zone(tz: str) -> dt.tzinfo:
    """The tzinfo of a timezone name (:func:`clientmodel.periods.timezone`), for validators."""
    if not isinstance(tz, str):
        raise ValueError(f"timezone {tz!r} is not an IANA timezone name")
    return timezone(tz)  # an ArgumentError, a ValueError, for an unknown name


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


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def micros(moment: dt.datetime) -> int:
    """A timezone-aware datetime as exact integer microseconds since the Unix epoch (UTC)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def days_between(earlier: dt.datetime, later: dt.datetime) -> float:
    """``later - earlier`` in (fractional) days."""
    return (later - earlier).total_seconds() / _SECONDS_PER_DAY


@overload
def decay(age_days: float, half_life: float) -> float: ...
@overload
def decay(age_days: NDArray[Any], half_life: float | NDArray[Any]) -> NDArray[np.float64]: ...
def decay(age_days: Any, half_life: Any) -> Any:
    """The decay factor :math:`2^{-a/h}` of interest and intent scores after ``age_days``.

    The one formula: the event-folding kernel of both faces (:mod:`._folding`) calls it on event
    ages, decaying by the intent and the interest half-life in one broadcast call; the record
    face also calls it on floats to move stored scores forward.
    """
    return 2.0 ** (-age_days / half_life)


@overload
def intent_score(mass: float) -> float: ...
@overload
def intent_score(mass: NDArray[Any]) -> NDArray[np.float64]: ...
def intent_score(mass: Any) -> Any:
    """The intent score :math:`1 - e^{-S}` of a decayed high-intent mass ``S`` (float or array)."""
    if isinstance(mass, np.ndarray):
        return -np.expm1(-mass)
    return -math.expm1(-mass)


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
