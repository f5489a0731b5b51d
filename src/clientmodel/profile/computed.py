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
turn their input into columns and run the same kernel (in ``clientmodel.profile._folding``, with the
event-folding kernel of :func:`~clientmodel.profile.activity.apply` and
:func:`~clientmodel.profile.table.fold_events`), and a property test checks that they agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from clientmodel._validation import validate_record
from clientmodel.errors import ArgumentError, DataError
from clientmodel.profile._common import aware, micros
from clientmodel.profile._folding import computed_traits, plain
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
    t_us = np.array([micros(e.timestamp) for e in records], dtype=np.int64)
    a_us = micros(moment)
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
    values = computed_traits(
        np.zeros(len(records), dtype=np.int64), 1, t_us, ids, columns, defs, a_us
    )
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
        [micros(v.replace(tzinfo=_zone(stamps.tz))) for v in wall.astype(dt.datetime).tolist()],
        dtype=np.int64,
    )
    a_us = micros(moment)
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
        col[:] = [None if n else plain(v) for v, n in zip(raw.tolist(), nulls.tolist(),
                                                            strict=True)]  # fmt: skip
        columns[name] = col
    values = computed_traits(
        codes.astype(np.int64), len(uniq), utc, tbl.raw(event_id), columns, defs, a_us
    )
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
