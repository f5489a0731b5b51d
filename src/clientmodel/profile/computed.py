"""Computed traits: aggregates of a person's events over an optional window, on both faces.

A :class:`ComputedTrait` names one aggregate of one event field, optionally for one event type and
over the last ``window_days`` before ``as_of`` (Segment's computed traits):

=================  =====================================================  ====================
``func``           value (events kept: type, window, field not null)       empty
=================  =====================================================  ====================
``count``          number of events                                        0
``sum``            exact sum of a numeric field (money adds as decimals)   0.0
``min`` / ``max``  smallest / largest value                                null
``first``          value of the earliest event (ties: smallest event id)   null
``last``           value of the latest event (ties: largest event id)      null
``most_frequent``  the value seen most often (ties: the smallest value)    null
``unique_list``    the distinct values, sorted                             ``[]``
``unique_count``   how many distinct values                                0
=================  =====================================================  ====================

The window keeps events with :math:`as\\_of - window < t \\le as\\_of`. ``field`` is ``value``,
``type``, ``channel``, ``channel_code``, ``campaign``, ``staff_id`` or an event property (a column
of the event table). :func:`compute_traits` works on one person's :class:`~clientmodel.profile.
models.Event` records, :func:`compute_traits_table` on an event table (one row per profile); both
turn their input into columns and run the same kernel, and a property test checks that they agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from clientmodel._validation import validate_record
from clientmodel.errors import ArgumentError, DataError
from clientmodel.profile._common import aware
from clientmodel.profile.models import Event
from clientmodel.profile.table import typed_columns
from clientmodel.tables import read_table

__all__ = ["ComputedTrait", "TraitFunction", "compute_traits", "compute_traits_table"]

TraitFunction = Literal[
    "count", "sum", "min", "max", "first", "last", "most_frequent", "unique_list", "unique_count"
]
_NEEDS_FIELD = frozenset({"sum", "min", "max", "first", "last", "most_frequent", "unique_list",
                          "unique_count"})  # fmt: skip
_EVENT_FIELDS = ("value", "type", "channel", "channel_code", "campaign", "staff_id")
_US = 1_000_000


class ComputedTrait(BaseModel):
    """One computed trait: ``func`` of ``field`` over events of ``event_type`` in a window.

    Attributes
    ----------
    name:
        The trait's name.
    func:
        ``count``, ``sum``, ``min``, ``max``, ``first``, ``last``, ``most_frequent``,
        ``unique_list`` or ``unique_count``.
    field:
        The event field aggregated (every function but ``count`` needs one; with ``count`` it
        counts only events where the field is set).
    event_type:
        Only events of this type (``None``: all).
    window_days:
        Only events in the last ``window_days`` before ``as_of`` (``None``: all).

    Examples
    --------
    >>> ComputedTrait(name="spend_90d", func="sum", field="value", event_type="purchase",
    ...               window_days=90).window_days
    90.0
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    func: TraitFunction
    field: str | None = Field(default=None, min_length=1)
    event_type: str | None = None
    window_days: float | None = Field(default=None, gt=0, allow_inf_nan=False)

    def model_post_init(self, context: Any, /) -> None:
        if self.func in _NEEDS_FIELD and self.field is None:
            raise ValueError(f"computed trait {self.name!r}: {self.func} needs a field")


def _traits(traits: Any) -> list[ComputedTrait]:
    if isinstance(traits, (str, bytes, Mapping, ComputedTrait)) or not isinstance(traits, Iterable):
        raise ArgumentError("traits must be a list of ComputedTrait objects", field="traits")
    out = [validate_record(ComputedTrait, t, field="traits", row=i) for i, t in enumerate(traits)]
    names = [t.name for t in out]
    if len(set(names)) != len(names):
        raise ArgumentError(f"computed trait names repeat: {names}", field="traits")
    return out


# --------------------------------------------------------------------------- the kernel


def _plain(value: Any) -> Any:
    """A JSON-safe scalar (numpy scalars unwrapped, ``Decimal`` as float)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _order_key(value: Any) -> tuple[int, Any]:
    """Sort key for values of one field: numbers by value, everything else by text."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return (0, value)
    return (1, str(value))


def _exact_sum(values: Sequence[Any]) -> float:
    total = Decimal(0)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float, Decimal)):
            raise DataError(f"sum of {v!r}: computed sums need numbers", field="field")
        total += v if isinstance(v, Decimal) else Decimal(repr(v)) if isinstance(v, float) else v
    return float(total)


def _kernel(
    profiles: NDArray[np.int64],
    n_profiles: int,
    t_us: NDArray[np.int64],
    event_ids: NDArray[Any],
    columns: Mapping[str, NDArray[Any]],
    traits: Sequence[ComputedTrait],
    as_of_us: int,
) -> dict[str, list[Any]]:
    """Per trait, one value per profile code (the shared kernel of both faces)."""
    out: dict[str, list[Any]] = {}
    types = columns["type"]
    for trait in traits:
        keep = np.ones(len(profiles), dtype=bool)
        if trait.event_type is not None:
            keep &= types == trait.event_type
        if trait.window_days is not None:
            keep &= t_us > as_of_us - round(trait.window_days * 86_400 * _US)
        values: NDArray[Any] | None = None
        if trait.field is not None:
            if trait.field not in columns:
                raise DataError(
                    f"computed trait {trait.name!r} reads field {trait.field!r}, which no event "
                    f"has; fields: {sorted(columns)}",
                    field=trait.field,
                )
            values = columns[trait.field]
            keep &= np.array([v is not None for v in values.tolist()], dtype=bool)
        idx = np.flatnonzero(keep)
        # events in time order, then by event id (text), grouped by profile
        order = idx[
            np.lexsort(
                (
                    np.array([str(e) for e in event_ids[idx].tolist()], dtype=object),
                    t_us[idx],
                    profiles[idx],
                )
            )
        ]
        groups: list[list[int]] = [[] for _ in range(n_profiles)]
        for i in order.tolist():
            groups[int(profiles[i])].append(i)
        out[trait.name] = [_aggregate(trait, g, values) for g in groups]
    return out


def _aggregate(trait: ComputedTrait, rows: list[int], values: NDArray[Any] | None) -> Any:
    func = trait.func
    if values is None:  # count without a field
        return len(rows)
    vals = [values[i] for i in rows]
    if func == "count":
        return len(vals)
    if func == "sum":
        return _exact_sum(vals)
    if func == "unique_count":
        return len({_plain(v) for v in vals})
    if func == "unique_list":
        return sorted({_plain(v) for v in vals}, key=_order_key)
    if not vals:
        return None
    if func == "first":
        return _plain(vals[0])
    if func == "last":
        return _plain(vals[-1])
    if func in ("min", "max"):
        try:
            return _plain(min(vals) if func == "min" else max(vals))
        except TypeError:
            raise DataError(
                f"computed trait {trait.name!r}: field {trait.field!r} mixes kinds of values",
                field=trait.field,
            ) from None
    counts: dict[Any, int] = {}
    for v in vals:
        key = _plain(v)
        counts[key] = counts.get(key, 0) + 1
    best = max(counts.values())
    return min((v for v, n in counts.items() if n == best), key=_order_key)


def _micros(moment: dt.datetime) -> int:
    delta = moment - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * _US + delta.microseconds


def _check_not_after(t_us: NDArray[np.int64], as_of_us: int, what: str) -> None:
    late = np.flatnonzero(t_us > as_of_us)
    if len(late):
        raise DataError(
            f"{len(late)} event(s) after as_of ({what} {late[:5].tolist()}); compute traits "
            "as of a moment at or after every event",
            field="timestamp",
            rows=late[:5].tolist(),
        )


# --------------------------------------------------------------------------- record face


def compute_traits(
    events: Iterable[Event | Mapping[str, Any]],
    traits: Iterable[ComputedTrait | Mapping[str, Any]],
    *,
    as_of: dt.datetime,
) -> dict[str, Any]:
    """Computed traits of one person's events as of ``as_of``.

    Parameters
    ----------
    events:
        :class:`~clientmodel.profile.models.Event` records (or their dicts), any order.
    traits:
        :class:`ComputedTrait` definitions (or their dicts).
    as_of:
        The moment windows end at (timezone-aware); no event may be after it.

    Returns
    -------
    dict
        Trait name -> value (see the module docstring for each function's value).

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> ev = [Event(event_id=str(i), type="purchase", channel=c, timestamp=t - dt.timedelta(days=d),
    ...             value=v) for i, (c, d, v) in enumerate([("app", 1, "20.5"), ("web", 40, "10"),
    ...                                                      ("app", 3, "4.5")])]
    >>> compute_traits(ev, [
    ...     {"name": "spend_30d", "func": "sum", "field": "value", "window_days": 30},
    ...     {"name": "top_channel", "func": "most_frequent", "field": "channel"},
    ...     {"name": "channels", "func": "unique_list", "field": "channel"}], as_of=t)
    {'spend_30d': 25.0, 'top_channel': 'app', 'channels': ['app', 'web']}
    """
    moment = aware(as_of, "as_of")
    defs = _traits(traits)
    if isinstance(events, (str, bytes, Mapping)) or not isinstance(events, Iterable):
        raise ArgumentError("events must be a list of Event records", field="events")
    records = [validate_record(Event, e, field="events", row=i) for i, e in enumerate(events)]
    t_us = np.array([_micros(e.timestamp) for e in records], dtype=np.int64)
    a_us = _micros(moment)
    _check_not_after(t_us, a_us, "events at positions")
    names = {d.field for d in defs if d.field is not None} | set(_EVENT_FIELDS)
    columns: dict[str, NDArray[Any]] = {}
    for name in names:
        col = np.empty(len(records), dtype=object)
        col[:] = [
            getattr(e, name) if name in _EVENT_FIELDS else e.properties.get(name) for e in records
        ]
        columns[name] = col
    ids = np.empty(len(records), dtype=object)
    ids[:] = [e.event_id for e in records]
    values = _kernel(np.zeros(len(records), dtype=np.int64), 1, t_us, ids, columns, defs, a_us)
    return {name: vals[0] for name, vals in values.items()}


# --------------------------------------------------------------------------- table face


def compute_traits_table(
    events: Any,
    traits: Iterable[ComputedTrait | Mapping[str, Any]],
    *,
    as_of: dt.datetime,
    profile: str = "profile_id",
    event_id: str = "event_id",
    time: str = "timestamp",
    tz: str | None = None,
) -> Any:
    """Computed traits per profile of an event table (same values as :func:`compute_traits`).

    Parameters
    ----------
    events:
        A pandas/polars DataFrame, pyarrow Table or mapping of columns: one row per event with
        ``profile``, ``event_id``, ``time`` (timezone-aware), ``type`` and the fields the traits
        read.
    traits:
        :class:`ComputedTrait` definitions (or their dicts).
    as_of:
        The moment windows end at (timezone-aware); no event may be after it.
    profile, event_id, time:
        Column names.
    tz:
        Timezone of naive timestamps, if the column has none.

    Returns
    -------
    A table of the caller's kind: ``profile`` and one column per trait, one row per profile
    (sorted by id). ``unique_list`` columns hold lists.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> ev = {"profile_id": ["a", "a", "b"], "event_id": ["1", "2", "3"],
    ...       "type": ["purchase", "view", "purchase"], "timestamp": [t, t, t],
    ...       "value": [9.5, None, 3.0]}
    >>> out = compute_traits_table(ev, [{"name": "n", "func": "count"},
    ...                                 {"name": "spend", "func": "sum", "field": "value"}],
    ...                            as_of=t)
    >>> out["profile_id"].tolist(), out["n"].tolist(), out["spend"].tolist()
    (['a', 'b'], [2, 1], [9.5, 3.0])
    """
    moment = aware(as_of, "as_of")
    defs = _traits(traits)
    tbl = read_table(events, name="events")
    tbl.require(profile, event_id, time, "type")
    stamps = tbl.timestamps(time, tz=tz)
    if stamps.tz is None:
        raise DataError(
            f"column {time!r} holds calendar dates; events need timezone-aware timestamps",
            field=time,
        )
    wall = stamps.values.astype("datetime64[us]")
    utc = np.array(
        [_micros(v.replace(tzinfo=_zone(stamps.tz))) for v in wall.astype(dt.datetime).tolist()],
        dtype=np.int64,
    )
    a_us = _micros(moment)
    _check_not_after(utc, a_us, "rows")
    pids = tbl.ids(profile)
    uniq, codes = np.unique(np.asarray([str(p) for p in pids.tolist()], dtype=object),
                            return_inverse=True)  # fmt: skip
    names = {d.field for d in defs if d.field is not None} | {"type"}
    columns: dict[str, NDArray[Any]] = {}
    for name in names:
        if name not in tbl.columns:
            continue
        raw = tbl.raw(name)
        nulls = tbl.nulls(name)
        col = np.empty(len(raw), dtype=object)
        col[:] = [None if n else _plain(v) for v, n in zip(raw.tolist(), nulls.tolist(),
                                                            strict=True)]  # fmt: skip
        columns[name] = col
    values = _kernel(codes.astype(np.int64), len(uniq), utc, tbl.raw(event_id), columns, defs, a_us)
    out: dict[str, Any] = {profile: uniq.astype(object)}
    for trait in defs:
        vals = values[trait.name]
        if trait.func in ("count", "unique_count"):
            out[trait.name] = np.asarray(vals, dtype=np.int64)
        elif trait.func == "sum":
            out[trait.name] = np.asarray(vals, dtype=np.float64)
        else:
            col = np.empty(len(vals), dtype=object)
            col[:] = vals
            out[trait.name] = col
    return typed_columns(tbl.result(out))


def _zone(tz: str) -> dt.tzinfo:
    from clientmodel.profile._common import zone

    return zone(tz[3:] if tz.startswith(("UTC+", "UTC-")) else tz)
