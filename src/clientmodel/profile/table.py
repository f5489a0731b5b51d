r"""The table face: folding a whole event table into per-profile counters, scores and rule tags.

:func:`fold_events` computes, for millions of events at once, what
:func:`clientmodel.profile.activity.apply` computes for one profile from scratch -- with the same
formulas (see :mod:`clientmodel.profile.activity`), the same field names and the same rule
semantics, so the two faces agree (a property test checks it):

* one row per event, or one row per (event, topic) when an event has several topics: rows that
  share an ``event_id`` are one event (counted once) and must agree on everything but the topic;
  exact duplicate rows are dropped, so replaying rows changes nothing;
* ``profiles``: one row per profile with ``n_events``, ``first_seen``, ``last_seen``,
  ``intent``, ``n_<type>``, ``last_seen_<type>``, ``sum_<type>``, ``n_via_<channel>``,
  ``last_seen_via_<channel>``, the top topic and its score, and first/last-touch attribution;
* ``interest``: one row per (profile, topic) with the decayed interest score;
* ``tags``: one row per (profile, tag) that the tag rules give.

The counters, times, sums, intent and interest come from the event-folding kernel that the record
face runs too (``clientmodel.profile._folding``: numpy on integer codes, ``bincount`` and
``ufunc.at``), so the two faces share one implementation; event-filter predicates of aggregate
rules run through :func:`clientmodel.rules.evaluate_table` on the rows inside the rule's window
only.

:func:`fold_events` runs four named steps: ``_read_events`` (columns to codes, times to UTC
microseconds), ``_one_row_per_event`` (rows sharing an event id), ``_profile_columns`` (the
kernel's counters, sums, intent and interest, the top topic, touches) and ``_rule_tags``.

Money is exact on both faces: the kernel adds ``Decimal`` amounts (the record face's) as
decimals, and the float amounts of a column as exact integers of :math:`10^{-k}` (the fewest
decimals, :math:`k \le 9`, that spell every amount; a float stands for its shortest decimal
spelling) or, failing that, as ``Decimal`` one by one -- and both round the total to a float
once. ``sum_<type>`` columns and windowed sums in tag rules (``sum(events.value ...) within last
30 days``) follow this rule.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs
import narwhals.stable.v2 as nw
import numpy as np
from numpy.typing import NDArray

from clientmodel import rules as rules_lang
from clientmodel._validation import boundary, validate_records
from clientmodel.errors import ArgumentError, DataError, describe_rows
from clientmodel.periods import as_of_value, timezone
from clientmodel.profile._common import aware, intent_score
from clientmodel.profile._folding import EventColumns, exact_sums, fold
from clientmodel.profile._rulesupport import (
    PreparedRule,
    field_default,
    prepare_rules,
    window_days,
)
from clientmodel.profile.activity import ActivityConfig, _check_windows, event_entries
from clientmodel.profile.models import RESERVED_TRAIT_PREFIXES, Event, TagCatalog
from clientmodel.tables import Table, integer_codes, read_table

__all__ = ["FoldedEvents", "events_to_table", "fold_events"]

_US_PER_DAY = 86_400_000_000
_US_PER_HOUR = 3_600_000_000
_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_EPOCH = dt.datetime(1970, 1, 1)


@attrs.frozen
class FoldedEvents:
    """What :func:`fold_events` returns: three tables of the caller's kind.

    Attributes
    ----------
    profiles:
        One row per profile: counters, intent, top topic, attribution.
    interest:
        One row per (profile, topic): ``profile_id``, ``topic``, ``interest``.
    tags:
        One row per (profile, tag) given by the tag rules: ``profile_id``, ``tag``.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> out = fold_events({"profile_id": ["a"], "event_id": ["1"], "type": ["view"],
    ...                    "channel": ["app"], "timestamp": [t]}, as_of=t,
    ...                   rules={"seen": "n_view >= 1"})
    >>> out.tags["profile_id"].tolist(), out.tags["tag"].tolist()
    (['a'], ['seen'])
    """

    profiles: Any
    interest: Any
    tags: Any


# ----------------------------------------------------------------------------- column access
def _native_frame(events: Any) -> Any:
    try:
        return nw.from_native(events, eager_only=True)
    except TypeError:
        return nw.from_native(events).lazy().collect()


def _factorize(
    frame: Any, table: Table, column: str, *, nullable: bool
) -> tuple[NDArray[np.int64], NDArray[Any]]:
    """Codes into the sorted distinct values; ``-1`` for nulls where ``nullable``.

    Columns that must not hold nulls go through :meth:`Table.factorize`; the nullable ones use the
    same integer lookup (:func:`~clientmodel.tables.integer_codes`) or the frame's own hashing.
    """
    if not nullable:
        return table.factorize(column)
    table.require(column)
    if frame is None:
        raw = table.raw(column)
        nulls = table.nulls(column)
        if raw.dtype.kind in "iu":
            codes, uniques = integer_codes(raw)
        else:
            codes = np.full(len(raw), -1, dtype=np.int64)
            uniques = np.array([], dtype=object)
            if (~nulls).any():
                try:
                    uniques, inverse = np.unique(raw[~nulls], return_inverse=True)
                except TypeError:
                    raise DataError(
                        f"column {column!r} mixes value types that cannot be ordered (e.g. "
                        "numbers and text); use one type",
                        field=column,
                    ) from None
                codes[~nulls] = inverse.reshape(-1)
    else:
        series = frame.get_column(column)
        nulls = series.is_null().to_numpy().astype(bool)
        impl = frame.implementation
        if series.dtype.is_integer() and not nulls.any():
            codes, uniques = integer_codes(series.to_numpy())
        elif impl.is_pandas():
            import pandas as pd

            pd_codes, pd_uniques = pd.factorize(series.to_native(), sort=True)
            codes = np.asarray(pd_codes, dtype=np.int64)
            uniques = np.asarray(pd_uniques, dtype=object)
        elif impl.is_polars():
            import polars as pl

            native = series.to_native()
            distinct = native.drop_nulls().unique().sort()
            codes = (
                native.replace_strict(
                    distinct,
                    pl.int_range(len(distinct), eager=True),
                    default=-1,
                    return_dtype=pl.Int64,
                )
                .fill_null(-1)
                .to_numpy()
                .astype(np.int64)
            )
            uniques = distinct.to_numpy().astype(object)
        else:
            ranks = series.rank(method="dense").to_numpy().astype(np.float64)
            codes = np.where(np.isnan(ranks), 0, ranks).astype(np.int64) - 1
            raw = series.to_numpy()
            uniques = np.empty(int(codes.max()) + 1 if len(codes) else 0, dtype=object)
            uniques[codes[~nulls]] = raw[~nulls]
    return codes, uniques


def _refuse_nulls(column: str, nulls: NDArray[np.bool_], accepted: str) -> None:
    if nulls.any():
        rows = np.flatnonzero(nulls)
        raise DataError(
            f"column {column!r} has {len(rows)} null value(s): "
            f"{describe_rows(rows, [None] * len(rows))}; {accepted}",
            field=column,
            rows=rows[:5].tolist(),
        )


def _int_duplicated(arr: NDArray[Any]) -> NDArray[np.bool_]:
    if len(arr) == 0:
        return np.zeros(0, dtype=bool)
    lo, hi = int(arr.min()), int(arr.max())
    if hi - lo + 1 <= 4 * len(arr) + 1_000_000:
        shifted = (arr - lo).astype(np.int64)
        counts = np.bincount(shifted, minlength=hi - lo + 1)
        if counts.max() <= 1:
            return np.zeros(len(arr), dtype=bool)
        return np.asarray(counts[shifted] > 1)
    codes, uniques = integer_codes(arr)
    return np.asarray(np.bincount(codes, minlength=len(uniques))[codes] > 1)


def _duplicated(frame: Any, table: Table, column: str) -> NDArray[np.bool_]:
    """Rows whose id appears more than once (hash- or range-based)."""
    if frame is None:
        raw = table.raw(column)
        if raw.dtype.kind in "iu":
            return _int_duplicated(raw)
        codes, uniques = _factorize(None, table, column, nullable=False)
        return np.asarray(np.bincount(codes, minlength=len(uniques))[codes] > 1)
    series = frame.get_column(column)
    if series.dtype.is_integer() and not series.is_null().any():
        return _int_duplicated(series.to_numpy())
    _refuse_nulls(column, series.is_null().to_numpy().astype(bool), "every event needs an id")
    return np.asarray(series.is_duplicated().to_numpy(), dtype=bool)


def _text_order(values: NDArray[Any]) -> NDArray[np.int64]:
    """Rank of each value in text order (ids compare as text, as on the record face)."""
    _, inverse = np.unique(np.asarray([str(v) for v in values.tolist()]), return_inverse=True)
    return inverse.reshape(-1).astype(np.int64)


def _check_names(uniques: NDArray[Any], column: str, what: str, codes: NDArray[np.int64]) -> None:
    bad = [i for i, v in enumerate(uniques) if not (isinstance(v, str) and _NAME.fullmatch(v))]
    if bad:
        rows = np.flatnonzero(np.isin(codes, bad))
        raise DataError(
            f"column {column!r} has {what}(s) that are not lower-case snake_case names: "
            f"{describe_rows(rows, [uniques[codes[r]] for r in rows])}; use names such as "
            "'add_to_cart' or 'mini_program'",
            field=column,
            rows=rows[:5].tolist(),
        )


# ----------------------------------------------------------------------------- times
def _as_times(us: NDArray[np.int64], missing: NDArray[np.bool_]) -> NDArray[np.datetime64]:
    out = us.astype("datetime64[us]")
    out[missing] = np.datetime64("NaT")
    return out


def _tzinfo(name: str) -> dt.tzinfo:
    try:
        return timezone(name)
    except ArgumentError:
        raise DataError(f"timezone {name!r} of the timestamps is not understood") from None


def _offsets_us(us: NDArray[np.int64], tz: dt.tzinfo, *, from_wall: bool) -> Any:
    """UTC offset (microseconds) of each value: wall-clock values in ``tz`` or UTC instants."""
    fixed = tz.utcoffset(None)
    if fixed is not None:
        return int(fixed // dt.timedelta(microseconds=1))
    if len(us) == 0:
        return 0
    hours, inverse = np.unique(us // _US_PER_HOUR, return_inverse=True)
    offs = np.empty(len(hours), dtype=np.int64)
    for i, h in enumerate(hours.tolist()):
        moment = _EPOCH + dt.timedelta(hours=h)
        if from_wall:
            off = moment.replace(tzinfo=tz).utcoffset()
        else:
            off = moment.replace(tzinfo=dt.timezone.utc).astimezone(tz).utcoffset()
        offs[i] = 0 if off is None else off // dt.timedelta(microseconds=1)
    return offs[inverse.reshape(-1)]


def _wall(us: NDArray[np.int64], tz: dt.tzinfo) -> NDArray[np.datetime64]:
    """UTC instants as naive wall-clock ``datetime64[us]`` in ``tz`` (NaT kept)."""
    nat = us == np.iinfo(np.int64).min
    shifted = us.copy()
    shifted[~nat] += _offsets_us(us[~nat], tz, from_wall=False)
    out = shifted.astype("datetime64[us]")
    out[nat] = np.datetime64("NaT")
    return np.asarray(out, dtype="datetime64[us]")


# ----------------------------------------------------------------------------- main
@boundary
def fold_events(
    events: Any,
    *,
    as_of: dt.datetime,
    config: ActivityConfig | None = None,
    rules: Mapping[str, Any] | None = None,
    catalog: TagCatalog | None = None,
    profiles: Any = None,
    profile: str = "profile_id",
    event_id: str = "event_id",
    type: str = "type",
    channel: str = "channel",
    time: str = "timestamp",
    topic: str = "topic",
    value: str = "value",
    tz: str | None = None,
) -> FoldedEvents:
    """Fold an event table into per-profile counters, interest, intent and rule tags.

    Parameters
    ----------
    events:
        A pandas/polars DataFrame, pyarrow Table or mapping of columns with one row per event
        (or per event and topic). Required columns: ``profile``, ``event_id``, ``type``,
        ``channel``, ``time`` (timezone-aware). Optional: ``topic`` (null for none), ``value``,
        ``channel_code``, ``campaign``, ``staff_id``; any further columns are event properties
        that rules may test.
    as_of:
        The moment of the fold (timezone-aware); every event must be at or before it.
    config:
        Half-lives and weights (:class:`~clientmodel.profile.activity.ActivityConfig`).
    rules:
        ``{tag: rule}`` as for :func:`~clientmodel.profile.activity.apply`.
    catalog:
        Tag groups: in an exclusive group the first rule (mapping order) that holds wins.
    profiles:
        Optional table of profile fields (traits, one row per profile, keyed by the ``profile``
        column) for rules that test them; its profiles without events get rows too.
    profile, event_id, type, channel, time, topic, value:
        Column names.
    tz:
        Timezone of naive timestamps, if the column has no timezone.

    Returns
    -------
    FoldedEvents
        ``profiles``, ``interest`` and ``tags`` tables, of the caller's kind.

    Raises
    ------
    DataError
        Missing columns, null ids or times, an event after ``as_of``, rows of one event that
        disagree, or type/channel values that are not snake_case names.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> ev = {"profile_id": ["a", "a", "b"], "event_id": ["1", "2", "3"],
    ...       "type": ["view", "add_to_cart", "view"], "channel": ["app", "app", "web"],
    ...       "timestamp": [t, t, t - dt.timedelta(days=30)],
    ...       "topic": ["golf", "golf", None]}
    >>> out = fold_events(ev, as_of=t)
    >>> out.profiles["n_view"].tolist(), out.interest["interest"].tolist()
    ([1, 1], [6.0])
    >>> out.profiles["intent"].round(3).tolist()
    [0.632, 0.0]
    """
    cfg = ActivityConfig() if config is None else config
    moment = aware(as_of, "as_of")
    prepared = prepare_rules(rules)
    _check_windows(prepared, cfg)
    names = {"profile": profile, "event_id": event_id, "type": type, "channel": channel,
             "time": time, "topic": topic, "value": value}  # fmt: skip
    ev = _read_events(events, names, moment, tz, profiles)
    rows = _one_row_per_event(ev)
    cols, interest = _profile_columns(ev, rows, cfg)
    tag_p, tag_names = _rule_tags(prepared, catalog, ev, rows, cols, interest)
    ip, it, scores, _ = interest
    out_profiles = typed_columns(ev.tbl.result(cols, tz="UTC"))
    interest_table = typed_columns(
        ev.tbl.result(
            {profile: ev.p_ids[ip], "topic": ev.tp_names[it].astype(object), "interest": scores}
        )
    )
    tags = typed_columns(
        ev.tbl.result({profile: ev.p_ids[tag_p], "tag": np.asarray(tag_names, dtype=object)})
    )
    return FoldedEvents(profiles=out_profiles, interest=interest_table, tags=tags)


@attrs.frozen(eq=False)
class _Events:
    """An event table read into integer codes and UTC microseconds, one entry per row.

    ``names`` maps ``profile``, ``event_id``, ``type``, ``channel``, ``time``, ``topic`` and
    ``value`` to the caller's column names; ``optional`` holds the codes and values of the
    ``channel_code``, ``campaign`` and ``staff_id`` columns present; ``extra_profiles`` the
    columns of the optional profiles table.
    """

    tbl: Table
    frame: Any
    names: Mapping[str, str]
    moment: dt.datetime
    a_us: int
    t_us: NDArray[np.int64]
    p_codes: NDArray[np.int64]
    p_ids: NDArray[Any]
    ty_codes: NDArray[np.int64]
    ty_names: NDArray[Any]
    ch_codes: NDArray[np.int64]
    ch_names: NDArray[Any]
    tp_codes: NDArray[np.int64]
    tp_names: NDArray[Any]
    vals: NDArray[np.float64]
    optional: Mapping[str, tuple[NDArray[np.int64], NDArray[Any]]]
    extra_profiles: Mapping[str, NDArray[Any]]

    @property
    def n_profiles(self) -> int:
        return len(self.p_ids)

    @property
    def backend(self) -> Any:
        return None if self.frame is None else nw.get_native_namespace(self.frame)


@attrs.frozen(eq=False)
class _EventRows:
    """Each row's event code (its event's first row), the first row of every event, and the
    rows that count for interest (one per distinct (event, topic) with a topic)."""

    event_codes: NDArray[np.int64]
    event_rows: NDArray[np.int64]
    topic_rows: NDArray[np.int64]


def _read_events(
    events: Any, names: Mapping[str, str], moment: dt.datetime, tz: str | None, profiles: Any
) -> _Events:
    """Step 1: check the columns and times and turn every column into codes."""
    profile, event_id, type, channel, time = (
        names["profile"], names["event_id"], names["type"], names["channel"], names["time"]
    )  # fmt: skip
    tbl = read_table(events, name="events")
    tbl.require(profile, event_id, type, channel, time)
    stamps = tbl.timestamps(time, tz=tz)
    if stamps.tz is None:
        raise DataError(
            f"column {time!r} holds calendar dates; events need timezone-aware timestamps",
            field=time,
        )
    wall_us = stamps.values.astype("datetime64[us]").astype(np.int64)
    t_us = wall_us - _offsets_us(wall_us, _tzinfo(stamps.tz), from_wall=True)
    a_us = int(as_of_value(moment, tz="UTC").astype("datetime64[us]").astype(np.int64))
    late = t_us > a_us
    if late.any():
        rows = np.flatnonzero(late)
        raise DataError(
            f"column {time!r} has {len(rows)} event(s) after as_of={moment.isoformat()}: "
            f"{describe_rows(rows, [str(stamps.values[r]) for r in rows])} ({stamps.tz}); fold "
            "events up to "
            "as_of only",
            field=time,
            rows=rows[:5].tolist(),
        )
    frame = _native_frame(events) if tbl.kind == "frame" else None
    p_codes, p_ids = _factorize(frame, tbl, profile, nullable=False)
    ty_codes, ty_names = _factorize(frame, tbl, type, nullable=False)
    ch_codes, ch_names = _factorize(frame, tbl, channel, nullable=False)
    _check_names(ty_names, type, "event type", ty_codes)
    _check_names(ch_names, channel, "channel", ch_codes)
    topic, value = names["topic"], names["value"]
    if topic in tbl.columns:
        tp_codes, tp_names = _factorize(frame, tbl, topic, nullable=True)
    else:
        tp_codes, tp_names = np.full(tbl.n_rows, -1, dtype=np.int64), np.array([], dtype=object)
    vals = (
        tbl.numbers(value, allow_null=True) if value in tbl.columns else np.full(tbl.n_rows, np.nan)
    )
    optional: dict[str, tuple[NDArray[np.int64], NDArray[Any]]] = {}
    for name in ("channel_code", "campaign", "staff_id"):
        if name in tbl.columns:
            optional[name] = _factorize(frame, tbl, name, nullable=True)
    # the profile universe: the events' and the optional profiles table's
    extra_profiles: dict[str, NDArray[Any]] = {}
    if profiles is not None:
        p_codes, p_ids, extra_profiles = _join_profiles(profiles, profile, p_codes, p_ids)
    return _Events(
        tbl=tbl, frame=frame, names=names, moment=moment, a_us=a_us, t_us=t_us,
        p_codes=p_codes, p_ids=p_ids, ty_codes=ty_codes, ty_names=ty_names, ch_codes=ch_codes,
        ch_names=ch_names, tp_codes=tp_codes, tp_names=tp_names, vals=vals, optional=optional,
        extra_profiles=extra_profiles,
    )  # fmt: skip


def _one_row_per_event(ev: _Events) -> _EventRows:
    """Step 2: rows that share an event id are one event (they must agree but on the topic)."""
    tbl, names = ev.tbl, ev.names
    event_id, value = names["event_id"], names["value"]
    n = tbl.n_rows
    e_codes = np.arange(n, dtype=np.int64)  # an event's code: its first row
    dup = _duplicated(ev.frame, tbl, event_id) if n else np.zeros(0, dtype=bool)
    if not dup.any():
        return _EventRows(e_codes, e_codes, np.flatnonzero(ev.tp_codes >= 0))
    sub = np.flatnonzero(dup)
    _, first, inverse = np.unique(
        _text_order(tbl.raw(event_id)[sub]), return_index=True, return_inverse=True
    )
    e_codes[sub] = sub[first][inverse.reshape(-1)]
    checks = [(names["profile"], ev.p_codes), (names["type"], ev.ty_codes),
              (names["channel"], ev.ch_codes), (names["time"], ev.t_us)]  # fmt: skip
    checks += [(k, v[0]) for k, v in ev.optional.items()]
    for name, arr in checks:
        bad = arr[sub] != arr[e_codes[sub]]
        if bad.any():
            rows = sub[bad]
            raise DataError(
                f"rows that share an event_id must be the same event, but column {name!r} "
                f"differs: {describe_rows(rows, [str(tbl.raw(event_id)[r]) for r in rows])} "
                "(event ids shown)",
                field=name,
                rows=rows[:5].tolist(),
            )
    vals = ev.vals
    vf = vals[e_codes[sub]]
    bad = ~((vals[sub] == vf) | (np.isnan(vals[sub]) & np.isnan(vf)))
    if bad.any():
        rows = sub[bad]
        raise DataError(
            f"rows that share an event_id must be the same event, but column {value!r} "
            f"differs: {describe_rows(rows, [str(tbl.raw(event_id)[r]) for r in rows])}",
            field=value,
            rows=rows[:5].tolist(),
        )
    event_rows = np.flatnonzero(e_codes == np.arange(n))
    # a repeated (event, topic) pair counts once for interest
    pair = e_codes[sub] * (len(ev.tp_names) + 1) + (ev.tp_codes[sub] + 1)
    _, first_pair = np.unique(pair, return_index=True)
    keep = np.ones(n, dtype=bool)
    keep[sub] = False
    keep[sub[first_pair]] = True
    return _EventRows(e_codes, event_rows, np.flatnonzero(keep & (ev.tp_codes >= 0)))


_Interest = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[Any]]


def _profile_columns(
    ev: _Events, rows: _EventRows, cfg: ActivityConfig
) -> tuple[dict[str, Any], _Interest]:
    """Step 3: counters, sums, intent, interest (the shared kernel) and touches, as the profiles
    table's columns; also the interest of each (profile, topic) pair: profile codes, topic codes,
    scores, topics.
    """
    n_p = ev.n_profiles
    ty_names, ch_names = ev.ty_names, ev.ch_names
    event_rows = rows.event_rows
    ep = ev.p_codes[event_rows]
    et = ev.t_us[event_rows]
    ech = ev.ch_codes[event_rows]
    position = np.empty(ev.tbl.n_rows, dtype=np.int64)  # row of an event's first row -> event
    position[event_rows] = np.arange(len(event_rows))
    columns = EventColumns(
        n_profiles=n_p, type_names=[str(t) for t in ty_names.tolist()],
        n_channels=len(ch_names), n_topics=len(ev.tp_names), profile=ep,
        type=ev.ty_codes[event_rows], channel=ech, t_us=et, value=ev.vals[event_rows],
        topic_event=position[rows.event_codes[rows.topic_rows]],
        topic=ev.tp_codes[rows.topic_rows],
    )  # fmt: skip
    f = fold(
        columns,
        ev.a_us,
        interest_half_life=cfg.interest_half_life_days,
        interest_weights=cfg.interest_weights,
        default_interest_weight=cfg.default_interest_weight,
        intent_half_life=cfg.intent_half_life_days,
        intent_weights=cfg.intent_weights,
    )
    ip, it, scores = f.interest_profile, f.interest_topic, f.interest
    top_topic, top_score = _top_topics(ip, it, scores, n_p, ev.tp_names)

    # attribution touches
    touch_cols = _touches(
        ev.optional, ev.tbl.raw(ev.names["event_id"]), event_rows, ep, et, ech, ch_names, n_p
    )

    n_events = f.counts_by_type.sum(axis=1)
    seen = n_events > 0
    cols: dict[str, Any] = {
        ev.names["profile"]: ev.p_ids,
        "n_events": n_events,
        "first_seen": _as_times(f.first_seen, ~seen),
        "last_seen": _as_times(f.last_seen, ~seen),
        "intent": intent_score(f.intent_mass),
        "intent_mass": f.intent_mass,
        "top_topic": top_topic,
        "top_interest": top_score,
    }
    for j in np.argsort(ty_names.astype(str)):
        name = str(ty_names[j])
        cols[f"n_{name}"] = f.counts_by_type[:, j]
        cols[f"last_seen_{name}"] = _as_times(f.last_by_type[:, j], f.counts_by_type[:, j] == 0)
        cols[f"sum_{name}"] = f.value_by_type[:, j]
    for j in np.argsort(ch_names.astype(str)):
        name = str(ch_names[j])
        cols[f"n_via_{name}"] = f.counts_by_channel[:, j]
        cols[f"last_seen_via_{name}"] = _as_times(
            f.last_by_channel[:, j], f.counts_by_channel[:, j] == 0
        )
    cols.update(touch_cols)
    return cols, (ip, it, scores, ev.tp_names)


def _top_topics(
    ip: NDArray[np.int64],
    it: NDArray[np.int64],
    scores: NDArray[np.float64],
    n_p: int,
    tp_names: NDArray[Any],
) -> tuple[NDArray[Any], NDArray[np.float64]]:
    """Each profile's top topic and its score; ties go to the first topic in sorted order."""
    top_topic = np.full(n_p, None, dtype=object)
    top_score = np.zeros(n_p)
    if not len(ip):
        return top_topic, top_score
    n_tp = max(len(tp_names), 1)
    if n_p * n_tp <= _DENSE_LIMIT:
        grid = np.full(n_p * n_tp, -np.inf)
        grid[ip * n_tp + it] = scores
        grid2 = grid.reshape(n_p, n_tp)
        best = np.argmax(grid2, axis=1)
        has = np.bincount(ip, minlength=n_p) > 0
        top_topic[has] = tp_names[best[has]]
        top_score[has] = grid2[has, best[has]]
        return top_topic, top_score
    order = np.lexsort((it, -scores, ip))
    firsts = order[np.r_[True, np.diff(ip[order]) != 0]]
    top_topic[ip[firsts]] = tp_names[it[firsts]]
    top_score[ip[firsts]] = scores[firsts]
    return top_topic, top_score


_DENSE_LIMIT = 64_000_000  # profile x topic cells searched densely for the top; beyond, sort


def _join_profiles(
    profiles: Any, profile: str, p_codes: NDArray[np.int64], p_ids: NDArray[Any]
) -> tuple[NDArray[np.int64], NDArray[Any], dict[str, NDArray[Any]]]:
    """Add the profiles of a profiles table to the universe, and its columns as fields."""
    ptbl = read_table(profiles, name="profiles")
    ptbl.require(profile)
    pid_col = ptbl.ids(profile)
    try:
        all_ids = np.unique(np.concatenate([p_ids.astype(object), pid_col.astype(object)]))
    except TypeError:
        raise DataError(
            f"profile ids of the events and the profiles table are of different types; use one "
            f"type for {profile!r}",
            field=profile,
        ) from None
    p_codes = np.searchsorted(all_ids, p_ids.astype(object))[p_codes]
    order = np.searchsorted(all_ids, pid_col.astype(object))
    if len(np.unique(order)) != len(order):
        raise DataError(f"profiles table has repeated {profile!r} values", field=profile)
    extra: dict[str, NDArray[Any]] = {}
    for col in ptbl.columns:
        if col == profile:
            continue
        if col.startswith(RESERVED_TRAIT_PREFIXES) or col == "events":
            raise DataError(
                f"profiles table column {col!r} would shadow a field computed from the events "
                f"(prefixes {list(RESERVED_TRAIT_PREFIXES)}); rename it",
                field=col,
            )
        try:
            raw = ptbl.raw(col)
        except ValueError:  # a mapping column of lists of different lengths
            values = list(profiles[col])
            raw = np.empty(len(values), dtype=object)
            for i, v in enumerate(values):
                raw[i] = v
        if raw.dtype.kind == "f":
            full = np.full(len(all_ids), np.nan)
        elif raw.dtype.kind == "M":
            full = np.full(len(all_ids), np.datetime64("NaT"), dtype=raw.dtype)
        else:
            full = np.full(len(all_ids), None, dtype=object)
        full[order] = raw
        extra[col] = full
    return p_codes, all_ids, extra


def _touches(
    optional: Mapping[str, tuple[NDArray[np.int64], NDArray[Any]]],
    raw_ids: NDArray[Any],
    event_rows: NDArray[np.int64],
    ep: NDArray[np.int64],
    et: NDArray[np.int64],
    ech: NDArray[np.int64],
    ch_names: NDArray[Any],
    n_p: int,
) -> dict[str, NDArray[Any]]:
    """First and last touch per profile: by time, then event id (as text), like the record face.

    Columns come only when the table has ``channel_code`` or ``campaign``.
    """
    code = optional.get("channel_code")
    camp = optional.get("campaign")
    out: dict[str, NDArray[Any]] = {}
    if code is None and camp is None:
        return out
    for prefix in ("first_touch", "last_touch"):
        for part in ("source", "channel", "code", "campaign"):
            out[f"{prefix}_{part}"] = np.full(n_p, None, dtype=object)
    cc = code[0][event_rows] if code is not None else np.full(len(event_rows), -1)
    cp = camp[0][event_rows] if camp is not None else np.full(len(event_rows), -1)
    idx = np.flatnonzero((cc >= 0) | (cp >= 0))
    if not len(idx):
        return out
    order = idx[np.lexsort((_text_order(raw_ids[event_rows[idx]]), et[idx], ep[idx]))]
    ps = ep[order]
    starts = np.r_[True, np.diff(ps) != 0]
    ends = np.r_[np.diff(ps) != 0, True]
    for prefix, sel in (("first_touch", order[starts]), ("last_touch", order[ends])):
        prof = ep[sel]
        code_vals = np.full(len(sel), None, dtype=object)
        camp_vals = np.full(len(sel), None, dtype=object)
        if code is not None:
            has = cc[sel] >= 0
            code_vals[has] = code[1][cc[sel][has]]
        if camp is not None:
            has = cp[sel] >= 0
            camp_vals[has] = camp[1][cp[sel][has]]
        chan_vals = ch_names[ech[sel]].astype(object)
        source = chan_vals.copy()
        has_camp = camp_vals != None  # noqa: E711 (elementwise)
        source[has_camp] = camp_vals[has_camp]
        has_code = code_vals != None  # noqa: E711 (elementwise)
        source[has_code] = code_vals[has_code]
        out[f"{prefix}_source"][prof] = source
        out[f"{prefix}_channel"][prof] = chan_vals
        out[f"{prefix}_code"][prof] = code_vals
        out[f"{prefix}_campaign"][prof] = camp_vals
    return out


def typed_columns(native: Any) -> Any:
    """Columns that polars built as ``Object`` (from Python values) given a real dtype.

    polars cannot write ``Object`` columns (to Parquet, Arrow, ...): text and all-null columns
    become ``String``, lists and numbers the dtype polars infers. pandas keeps Python values in
    ``object`` columns anyway and pyarrow infers types from the values.
    """
    if isinstance(native, Mapping):
        return native
    frame = nw.from_native(native, eager_only=True)
    if not frame.implementation.is_polars():
        return native
    import polars as pl

    fixed = []
    for name, dtype in native.schema.items():
        if dtype != pl.Object:
            continue
        values = native.get_column(name).to_list()
        if all(v is None or isinstance(v, str) for v in values):
            fixed.append(pl.Series(name, values, dtype=pl.String))
            continue
        try:
            typed = pl.Series(name, values, strict=False)
        except (TypeError, ValueError, pl.exceptions.PolarsError):  # keep what polars cannot type
            continue
        if typed.dtype != pl.Object and typed.null_count() == sum(v is None for v in values):
            fixed.append(typed)
    return native.with_columns(fixed) if fixed else native


_TEXT_FIELDS = frozenset(
    {"profile_id", "event_id", "type", "channel", "topic", "channel_code", "campaign", "staff_id"}
)
_PROFILE_TEXT_FIELDS = frozenset(
    {"profile_id"}
    | {
        f"{p}_{part}"
        for p in ("first_touch", "last_touch")
        for part in ("source", "channel", "code", "campaign")
    }
)


def _rule_frame(
    columns: Mapping[str, Any], backend: Any, text: frozenset[str] = frozenset()
) -> Any:
    """Columns as a frame of ``backend`` with explicit dtypes (all-null text stays text).

    ``backend`` is the caller's frame library; for a mapping, polars when it is installed. Without
    either the mapping goes to :mod:`clientmodel.rules` as it is.
    """
    if backend is None:
        try:
            import polars  # noqa: F401

            backend = "polars"
        except ImportError:  # pragma: no cover - polars is a test dependency
            return dict(columns)
    schema: dict[str, Any] = {}
    data: dict[str, Any] = {}
    for name, values in columns.items():
        arr = np.asarray(values)
        kind = arr.dtype.kind
        if name in text:  # text fields: nulls may have come back as NaN (an all-null column)
            schema[name] = nw.String()
            data[name] = [
                None if v is None or (isinstance(v, float) and v != v) else str(v)
                for v in arr.tolist()
            ]
        elif kind == "M":
            schema[name] = nw.Datetime("us")
            data[name] = arr.astype("datetime64[us]")
        elif kind == "b":
            schema[name] = nw.Boolean()
            data[name] = arr
        elif kind in "iu":
            schema[name] = nw.Int64()
            data[name] = arr.astype(np.int64)
        elif kind == "f":
            schema[name] = nw.Float64()
            data[name] = arr.astype(np.float64)
        elif kind in "US" or (
            kind == "O" and all(v is None or isinstance(v, str) for v in arr.tolist())
        ):
            schema[name] = nw.String()
            data[name] = [None if v is None else str(v) for v in arr.tolist()]
        else:  # lists, dates, mixed objects: let the backend infer them
            schema[name] = None
            data[name] = [v.tolist() if isinstance(v, np.ndarray) else v for v in arr.tolist()]
    if any(v is None for v in schema.values()):
        return nw.from_dict(data, backend=backend).to_native()
    return nw.from_dict(data, schema=schema, backend=backend).to_native()


def _event_frame(
    predicate: Any,
    rows: NDArray[np.int64],
    tbl: Table,
    names: Mapping[str, str],
    t_us: NDArray[np.int64],
    values: NDArray[np.float64],
    as_of_tz: dt.tzinfo,
) -> dict[str, Any]:
    """The event fields a predicate reads, for ``rows``, as plain columns under rule names."""
    n = rules_lang
    wanted = {node.field for node, _ in n.iter_nodes(predicate) if hasattr(node, "field")}
    source = {
        "profile_id": names["profile"],
        "event_id": names["event_id"],
        "type": names["type"],
        "channel": names["channel"],
        "topic": names["topic"],
    }
    cols: dict[str, Any] = {}
    for field in sorted(wanted):
        if field == "timestamp":
            cols[field] = _wall(t_us[rows], as_of_tz)
        elif field == "value":
            cols[field] = values[rows]
        elif field in source or field in tbl.columns:
            col = source.get(field, field)
            if col not in tbl.columns:
                cols[field] = np.full(len(rows), None, dtype=object)
                continue
            raw = tbl.raw(col)[rows]
            cols[field] = raw
        else:
            cols[field] = np.full(len(rows), None, dtype=object)
    if not cols:
        cols["__row"] = np.arange(len(rows))
    return cols


def _rule_tags(
    prepared: tuple[PreparedRule, ...],
    catalog: TagCatalog | None,
    ev: _Events,
    er: _EventRows,
    cols: Mapping[str, Any],
    interest: _Interest,
) -> tuple[NDArray[np.int64], list[str]]:
    """Step 4: the tags each profile's rules give (an exclusive group's first holding rule
    wins), as profile codes and tag names sorted by profile then tag."""
    if not prepared:
        return np.array([], dtype=np.int64), []
    rules = rules_lang
    moment, a_us, tbl = ev.moment, ev.a_us, ev.tbl
    n_p, p_ids, extra_profiles, backend = ev.n_profiles, ev.p_ids, ev.extra_profiles, ev.backend
    names = ev.names
    as_of_tz = moment.tzinfo
    assert as_of_tz is not None
    ip, it, scores, tp_names = interest
    e_codes, p_codes, t_us, values = er.event_codes, ev.p_codes, ev.t_us, ev.vals
    n_events_ids = tbl.n_rows
    event_profile = np.zeros(n_events_ids, dtype=np.int64)
    event_profile[e_codes] = p_codes
    event_value = np.full(n_events_ids, np.nan)
    event_value[e_codes[er.event_rows]] = values[er.event_rows]
    holds: dict[str, NDArray[np.bool_]] = {}
    for rule in prepared:
        features: dict[str, Any] = {}
        for field in sorted(rule.fields):
            if field in extra_profiles:
                features[field] = extra_profiles[field]
            elif field in cols:
                features[field] = cols[field]
            elif field == "profile_id":
                features[field] = p_ids
            elif field.startswith("interest_"):
                arr = np.zeros(n_p)
                match = np.flatnonzero(tp_names == field[len("interest_") :])
                if len(match):
                    sel = it == match[0]
                    arr[ip[sel]] = scores[sel]
                features[field] = arr
            else:
                default = field_default(field)
                if default is None:
                    features[field] = np.full(n_p, np.datetime64("NaT"), dtype="datetime64[us]")
                    if not field.startswith(("last_seen", "first_seen")):
                        features[field] = np.full(n_p, None, dtype=object)
                else:
                    features[field] = np.full(n_p, default)
        for agg in rule.aggregates:
            window = agg.window
            if window is None or window[0] != "last":
                features[agg.name] = np.zeros(n_p) if agg.func == "sum" else np.zeros(n_p, int)
                continue
            horizon = (window_days(window) + 2) * _US_PER_DAY  # a cut, as on the record face
            rows = np.flatnonzero(t_us > a_us - horizon)
            if agg.predicate is not None and len(rows):
                frame = _rule_frame(
                    _event_frame(agg.predicate, rows, tbl, names, t_us, values, as_of_tz),
                    backend,
                    _TEXT_FIELDS,
                )
                hit = np.asarray(
                    rules.evaluate_table(agg.predicate, frame, as_of=moment), dtype=bool
                )
                rows = rows[hit]
            matched = np.zeros(n_events_ids, dtype=bool)
            matched[e_codes[rows]] = True
            ev_idx = np.flatnonzero(matched)
            if agg.func == "count":
                features[agg.name] = np.bincount(event_profile[ev_idx], minlength=n_p)
            else:
                if agg.value_field == "value":
                    amounts = event_value[ev_idx]
                elif agg.value_field in tbl.columns:
                    per_row = tbl.numbers(str(agg.value_field), allow_null=True)
                    by_event = np.full(n_events_ids, np.nan)
                    by_event[e_codes] = per_row
                    amounts = by_event[ev_idx]
                else:
                    amounts = np.full(len(ev_idx), np.nan)
                ok = ~np.isnan(amounts)
                # money adds as decimals, as the sum_<type> columns and the record face do
                features[agg.name] = exact_sums(event_profile[ev_idx][ok], amounts[ok], n_p)
        if not features:
            features["__row"] = np.arange(n_p)
        for key, arr in features.items():
            if isinstance(arr, np.ndarray) and arr.dtype.kind == "M":
                features[key] = _wall(arr.astype("datetime64[us]").astype(np.int64), as_of_tz)
        holds[rule.tag] = np.asarray(
            rules.evaluate_table(
                rule.rule, _rule_frame(features, backend, _PROFILE_TEXT_FIELDS), as_of=moment
            ),
            dtype=bool,
        )
    out_p: list[NDArray[np.int64]] = []
    out_t: list[str] = []
    taken: dict[str, NDArray[np.bool_]] = {}
    for rule in prepared:
        h = holds[rule.tag]
        group = catalog.group_of(rule.tag) if catalog is not None else None
        if group is not None and group.exclusive:
            already = taken.setdefault(group.group_id, np.zeros(n_p, dtype=bool))
            given = h & ~already
            already |= h
        else:
            given = h
        idx = np.flatnonzero(given)
        out_p.append(idx)
        out_t.extend([rule.tag] * len(idx))
    if not out_p:
        return np.array([], dtype=np.int64), []
    p_all = np.concatenate(out_p)
    order = (
        np.lexsort((np.asarray(out_t, dtype=object).astype(str), p_all)) if len(p_all) else p_all
    )
    return p_all[order], [out_t[i] for i in order]


def events_to_table(
    events: Iterable[Event | Mapping[str, Any]],
    *,
    profile_id: str | None = None,
    frame: Literal["dict", "pandas", "polars"] = "dict",
) -> Any:
    """Events as a table for :func:`fold_events`: one row per (event, topic).

    ``profile_id`` fills events that carry none. Properties become columns (missing ones null).

    Examples
    --------
    >>> import datetime as dt
    >>> e = Event(event_id="e1", type="view", channel="web", topics=("a", "b"),
    ...           timestamp=dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc))
    >>> t = events_to_table([e], profile_id="p1")
    >>> t["event_id"], t["topic"]
    (['e1', 'e1'], ['a', 'b'])
    """
    rows: list[dict[str, Any]] = []
    for i, e in enumerate(validate_records(Event, events, field="events")):
        pid = e.profile_id or profile_id
        if pid is None:
            raise DataError(
                f"event {e.event_id!r} (row {i}) has no profile_id; pass profile_id=",
                field="profile_id",
                rows=[i],
            )
        for entry in event_entries(e):
            entry["profile_id"] = pid
            rows.append(entry)
    names: list[str] = []
    for r in rows:
        for k in r:
            if k not in names:
                names.append(k)
    data = {k: [r.get(k) for r in rows] for k in names}
    if frame == "dict":
        return data
    if frame == "pandas":
        import pandas as pd

        out = pd.DataFrame(data)
        if "timestamp" in out:
            out["timestamp"] = pd.to_datetime(out["timestamp"], utc=True)
        return out
    if frame == "polars":
        import polars as pl

        return (
            pl.DataFrame(data).with_columns(pl.col("timestamp").dt.convert_time_zone("UTC"))
            if rows
            else pl.DataFrame(data)
        )
    raise ArgumentError(f"frame={frame!r} must be 'dict', 'pandas' or 'polars'", field="frame")
