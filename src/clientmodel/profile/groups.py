"""Group chats (社群): customer groups as entities, membership over time, joins, leaves and churn.

A :class:`GroupChat` is a customer group owned by one staff member, with group tags. Members come
and go through :class:`GroupEvent` records (``join`` / ``leave`` at a time). From those:

* :func:`members_at` -- who is in each group as of a time (events at or before it count);
* :func:`group_activity` -- per group and period ``(start, end]``: members at the start, joins,
  leaves, **leavers** (members at the start who left during the period, each counted once) and
  members at the end, with the **churn rate** ``leavers / members at start`` (``None`` for a
  group empty at the start). ``members_end = members_start + joins - leaves`` always holds;
* :func:`group_activity_table` -- the same over an event table (pandas, polars, pyarrow, or a
  mapping of columns), vectorised with numpy (sorts, cumulative sums, ``searchsorted``); it is
  written independently of the record face's replay and gives exactly its numbers
  (property-tested);
* :func:`member_group_tags` -- the group tags that apply to each member as of a time (the union
  of the tags of the groups they are in).

Events are checked as a whole: a member may not join a group they are in, leave one they are not
in, have two events in one group at the same instant, or act before the group was created; and a
join may not take a group past its ``max_members`` -- :data:`DEFAULT_MAX_MEMBERS` (500) by
default, WeCom's limit on an external (customer) group; internal groups allow 2000, so set
``max_members`` to the limit of your platform. Every such problem is a
:class:`~clientmodel.errors.DataError` naming the event's row.

Examples
--------
>>> import datetime as dt
>>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
>>> g = GroupChat(group_id="g1", name="Skincare club", owner="s1", tags=("vip",), created_at=t)
>>> ev = [GroupEvent(group_id="g1", member_id="c1", kind="join", at=t),
...       GroupEvent(group_id="g1", member_id="c2", kind="join", at=t),
...       GroupEvent(group_id="g1", member_id="c1", kind="leave", at=t + dt.timedelta(days=3))]
>>> members_at([g], ev, t + dt.timedelta(days=5))
{'g1': ('c2',)}
>>> a = group_activity([g], ev, [t, t + dt.timedelta(days=7)])[0]
>>> a.members_start, a.leavers, a.churn_rate
(2, 1, 0.5)
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

import attrs
import numpy as np
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from clientmodel._validation import (
    check_integer,
    check_sequence,
    count_reader,
    read_form,
    validate_records,
)
from clientmodel.errors import ArgumentError, DataError, describe_rows
from clientmodel.profile._common import FrozenRecord, aware
from clientmodel.profile._instants import micros as _micros
from clientmodel.profile._instants import utc_micros as _utc_micros
from clientmodel.tables import read_table

__all__ = [
    "DEFAULT_MAX_MEMBERS",
    "GroupActivity",
    "GroupChat",
    "GroupEvent",
    "group_activity",
    "group_activity_table",
    "member_group_tags",
    "members_at",
]

#: WeCom's member limit of an external (customer) group chat; internal groups allow 2000.
DEFAULT_MAX_MEMBERS = 500

_CONFIG = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)
_Id = Field(min_length=1, max_length=200)


class GroupChat(FrozenRecord):
    """A customer group chat.

    Attributes
    ----------
    group_id, name:
        Identity and display name.
    owner:
        The staff member who owns the group (群主).
    tags:
        Group tags; they apply to every member while they are in the group.
    created_at:
        When the group was created; no member event may come before it.
    max_members:
        The most members the group may hold (default :data:`DEFAULT_MAX_MEMBERS`, WeCom's 500).

    Examples
    --------
    >>> import datetime as dt
    >>> GroupChat(group_id="g1", name="VIP", owner="s1",
    ...           created_at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)).max_members
    500
    """

    model_config = _CONFIG

    group_id: str = _Id
    name: str = Field(min_length=1, max_length=200)
    owner: str = _Id
    tags: tuple[str, ...] = ()
    created_at: AwareDatetime
    max_members: int = Field(default=DEFAULT_MAX_MEMBERS, ge=1)


class GroupEvent(BaseModel):
    """A member joining or leaving a group chat at a moment.

    Examples
    --------
    >>> import datetime as dt
    >>> GroupEvent(group_id="g1", member_id="c1", kind="join",
    ...            at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)).kind
    'join'
    """

    model_config = _CONFIG

    group_id: str = _Id
    member_id: str = _Id
    kind: Literal["join", "leave"]
    at: AwareDatetime


@attrs.frozen
class GroupActivity:
    """Joins, leaves and churn of one group over one period ``(start, end]``.

    Attributes
    ----------
    group_id:
        The group.
    start, end:
        The period: events with ``start < at <= end`` count in it.
    members_start, members_end:
        Members as of ``start`` and as of ``end``.
    joins, leaves:
        Join and leave events in the period.
    leavers:
        Members as of ``start`` who left during the period (each counted once, even if they
        came back).
    churn_rate:
        ``leavers / members_start``; ``None`` when the group had no members at ``start``.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    >>> a = GroupActivity("g", t, t, 4, 1, 2, 1, 3, 0.25)
    >>> GroupActivity.from_dict(a.to_dict()) == a
    True
    """

    group_id: str
    start: dt.datetime
    end: dt.datetime
    members_start: int
    joins: int
    leaves: int
    leavers: int
    members_end: int
    churn_rate: float | None

    _FORM: ClassVar[dict[str, Any]] = dict.fromkeys(
        ("members_start", "joins", "leaves", "leavers", "members_end"), count_reader
    )

    def __attrs_post_init__(self) -> None:
        for name in ("members_start", "joins", "leaves", "leavers", "members_end"):
            check_integer(getattr(self, name), name, minimum=0)
        if self.end < self.start:
            raise ArgumentError(
                f"end={self.end.isoformat()} is before start={self.start.isoformat()}",
                field="end",
            )
        expected = self.members_start + self.joins - self.leaves
        if self.members_end != expected:
            raise ArgumentError(
                f"members_end={self.members_end} disagrees with members_start + joins - leaves "
                f"= {expected}",
                field="members_end",
            )
        if self.leavers > min(self.leaves, self.members_start):
            raise ArgumentError(
                f"leavers={self.leavers} exceeds the leaves ({self.leaves}) or the members at "
                f"start ({self.members_start})",
                field="leavers",
            )
        rate = self.leavers / self.members_start if self.members_start else None
        same = (
            self.churn_rate is None
            if rate is None
            else self.churn_rate is not None and math.isclose(self.churn_rate, rate)
        )
        if not same:
            raise ArgumentError(
                f"churn_rate={self.churn_rate!r} disagrees with leavers / members_start "
                f"= {rate!r} (None when the group had no members at start)",
                field="churn_rate",
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (times as ISO 8601 text)."""
        out = attrs.asdict(self)
        out["start"] = self.start.isoformat()
        out["end"] = self.end.isoformat()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GroupActivity:
        """Rebuild from :meth:`to_dict` output (errors name the key path).

        Examples
        --------
        >>> GroupActivity.from_dict({"group_id": "g", "start": "2024-01-01T00:00:00+00:00",
        ...     "end": "2024-02-01T00:00:00+00:00", "members_start": 2, "joins": 1, "leaves": 1,
        ...     "leavers": 1, "members_end": 2, "churn_rate": 0.5}).churn_rate
        0.5
        """
        return read_form(cls, data)


# ----------------------------------------------------------------------------- the kernel
# One replay of the events serves both faces: (group, member, kind, UTC instant, row).
_Row = tuple[str, str, str, dt.datetime, int]


def _groups(groups: Any) -> dict[str, GroupChat]:
    records = validate_records(GroupChat, groups, field="groups")
    out: dict[str, GroupChat] = {}
    for i, g in enumerate(records):
        if g.group_id in out:
            raise DataError(
                f"groups lists group {g.group_id!r} twice (row {i}); give each group once",
                field="groups",
                rows=(i,),
            )
        out[g.group_id] = g
    return out


def _replay(
    groups: dict[str, GroupChat], rows: list[_Row]
) -> dict[str, list[tuple[dt.datetime, str, str]]]:
    """Events per group in time order, checked as a whole (see the module docs)."""
    by_group: dict[str, list[_Row]] = {g: [] for g in groups}
    for row in rows:
        gid, member, _, at, i = row
        group = groups.get(gid)
        if group is None:
            raise DataError(
                f"group event at row {i} names group {gid!r}, which is not among the groups "
                f"given ({len(groups)}); pass every group the events name",
                field="group_id",
                rows=(i,),
            )
        if at < group.created_at:
            raise DataError(
                f"group event at row {i} ({member!r} in {gid!r} at {at.isoformat()}) comes "
                f"before the group was created ({group.created_at.isoformat()})",
                field="at",
                rows=(i,),
            )
        by_group[gid].append(row)
    out: dict[str, list[tuple[dt.datetime, str, str]]] = {}
    for gid, group_rows in by_group.items():
        group_rows.sort(key=lambda r: (r[3], r[1]))
        members: set[str] = set()
        last: dict[str, tuple[dt.datetime, int]] = {}
        for _, member, kind, at, i in group_rows:
            prev = last.get(member)
            if prev is not None and prev[0] == at:
                raise DataError(
                    f"member {member!r} has two events in group {gid!r} at {at.isoformat()} "
                    f"(rows {prev[1]} and {i}); give each member at most one event per instant",
                    field="at",
                    rows=(prev[1], i),
                )
            last[member] = (at, i)
            if kind == "join":
                if member in members:
                    raise DataError(
                        f"member {member!r} joins group {gid!r} at {at.isoformat()} (row {i}) "
                        "while already a member; record a leave in between",
                        field="kind",
                        rows=(i,),
                    )
                members.add(member)
                limit = groups[gid].max_members
                if len(members) > limit:
                    raise DataError(
                        f"group {gid!r} would have {len(members)} members after row {i} "
                        f"({at.isoformat()}); max_members is {limit} (WeCom caps a customer "
                        "group at 500): raise max_members or check the events",
                        field="max_members",
                        rows=(i,),
                    )
            else:
                if member not in members:
                    raise DataError(
                        f"member {member!r} leaves group {gid!r} at {at.isoformat()} (row {i}) "
                        "without being a member; record the join first",
                        field="kind",
                        rows=(i,),
                    )
                members.discard(member)
        out[gid] = [(r[3], r[1], r[2]) for r in group_rows]
    return out


def _members(history: list[tuple[dt.datetime, str, str]], at: dt.datetime) -> set[str]:
    members: set[str] = set()
    for t, member, kind in history:
        if t > at:
            break
        if kind == "join":
            members.add(member)
        else:
            members.discard(member)
    return members


def _event_rows(events: Any) -> list[_Row]:
    records = validate_records(GroupEvent, events, field="events")
    return [(e.group_id, e.member_id, e.kind, e.at, i) for i, e in enumerate(records)]


def _boundaries(periods: Any) -> list[dt.datetime]:
    items = check_sequence(periods, "periods")
    times = [aware(t, f"periods[{i}]") for i, t in enumerate(items)]
    if len(times) < 2:
        raise ArgumentError(
            f"periods needs at least two boundaries (start and end), got {len(times)}",
            field="periods",
        )
    for i in range(1, len(times)):
        if times[i] <= times[i - 1]:
            raise ArgumentError(
                f"periods must increase: periods[{i}]={times[i].isoformat()} is not after "
                f"periods[{i - 1}]={times[i - 1].isoformat()}",
                field="periods",
            )
    return times


def _activity(
    groups: dict[str, GroupChat],
    history: dict[str, list[tuple[dt.datetime, str, str]]],
    bounds: list[dt.datetime],
) -> list[GroupActivity]:
    out: list[GroupActivity] = []
    for gid in sorted(groups):
        events = history[gid]
        for start, end in itertools.pairwise(bounds):
            before = _members(events, start)
            inside = [(m, k) for t, m, k in events if start < t <= end]
            joins = sum(1 for _, k in inside if k == "join")
            leaves = len(inside) - joins
            leavers = len({m for m, k in inside if k == "leave" and m in before})
            n0 = len(before)
            out.append(
                GroupActivity(
                    group_id=gid,
                    start=start,
                    end=end,
                    members_start=n0,
                    joins=joins,
                    leaves=leaves,
                    leavers=leavers,
                    members_end=n0 + joins - leaves,
                    churn_rate=leavers / n0 if n0 else None,
                )
            )
    return out


# ----------------------------------------------------------------------------- record face
def members_at(groups: Any, events: Any, at: dt.datetime) -> dict[str, tuple[str, ...]]:
    """Members of each group as of ``at`` (events at or before ``at`` count), sorted.

    Parameters
    ----------
    groups:
        :class:`GroupChat` records (or mappings of their fields).
    events:
        :class:`GroupEvent` records (or mappings), in any order.
    at:
        The moment (timezone-aware).

    Returns
    -------
    dict
        Group id -> sorted member ids (every group given, empty ones too).

    Raises
    ------
    DataError
        An event is inconsistent (see the module docs) or a group is over its limit.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> g = {"group_id": "g", "name": "G", "owner": "s", "created_at": t}
    >>> members_at([g], [{"group_id": "g", "member_id": "c", "kind": "join", "at": t}], t)
    {'g': ('c',)}
    """
    moment = aware(at, "at")
    chats = _groups(groups)
    history = _replay(chats, _event_rows(events))
    return {gid: tuple(sorted(_members(history[gid], moment))) for gid in sorted(chats)}


def group_activity(groups: Any, events: Any, periods: Sequence[dt.datetime]) -> list[GroupActivity]:
    """Joins, leaves, leavers and churn per group and period.

    Parameters
    ----------
    groups:
        :class:`GroupChat` records (or mappings).
    events:
        :class:`GroupEvent` records (or mappings), in any order.
    periods:
        Increasing boundaries ``t0 < t1 < ... < tn``; period ``k`` is ``(t_k, t_k+1]``.

    Returns
    -------
    list of GroupActivity
        One per group (sorted by id) and period (in order).

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> g = GroupChat(group_id="g", name="G", owner="s", created_at=t)
    >>> ev = [GroupEvent(group_id="g", member_id=m, kind="join", at=t) for m in "abcd"]
    >>> ev.append(GroupEvent(group_id="g", member_id="a", kind="leave", at=t + dt.timedelta(1)))
    >>> [a.churn_rate for a in group_activity([g], ev, [t, t + dt.timedelta(7)])]
    [0.25]
    """
    bounds = _boundaries(periods)
    chats = _groups(groups)
    return _activity(chats, _replay(chats, _event_rows(events)), bounds)


def member_group_tags(groups: Any, events: Any, at: dt.datetime) -> dict[str, tuple[str, ...]]:
    """The group tags that apply to each member as of ``at`` (union over their groups, sorted).

    Members of no tagged group as of ``at`` are left out.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> g1 = GroupChat(group_id="g1", name="A", owner="s", tags=("vip",), created_at=t)
    >>> g2 = GroupChat(group_id="g2", name="B", owner="s", tags=("skincare",), created_at=t)
    >>> ev = [GroupEvent(group_id=g, member_id="c", kind="join", at=t) for g in ("g1", "g2")]
    >>> member_group_tags([g1, g2], ev, t)
    {'c': ('skincare', 'vip')}
    """
    moment = aware(at, "at")
    chats = _groups(groups)
    history = _replay(chats, _event_rows(events))
    tags: dict[str, set[str]] = {}
    for gid, chat in chats.items():
        if not chat.tags:
            continue
        for member in _members(history[gid], moment):
            tags.setdefault(member, set()).update(chat.tags)
    return {m: tuple(sorted(t)) for m, t in sorted(tags.items())}


# ----------------------------------------------------------------------------- table face
def group_activity_table(
    groups: Any,
    events: Any,
    periods: Sequence[dt.datetime],
    *,
    group: str = "group_id",
    member: str = "member_id",
    kind: str = "kind",
    time: str = "at",
    tz: str | None = None,
) -> Any:
    """:func:`group_activity` over an event table; the same kind of table comes back.

    Parameters
    ----------
    groups:
        :class:`GroupChat` records (or mappings).
    events:
        A table (pandas, polars, pyarrow, or a mapping of columns) with one row per join or
        leave.
    periods:
        Increasing boundaries, as for :func:`group_activity`.
    group, member, kind, time:
        Column names; ``kind`` holds ``"join"`` or ``"leave"``.
    tz:
        The timezone of naive timestamps (aware ones keep their own).

    Returns
    -------
    table
        Columns ``group_id, start, end, members_start, joins, leaves, leavers, members_end,
        churn_rate`` (``start``/``end`` in UTC; ``churn_rate`` NaN where the group was empty at
        the start), one row per group and period -- the numbers of :func:`group_activity`.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> g = GroupChat(group_id="g", name="G", owner="s", created_at=t)
    >>> ev = {"group_id": ["g", "g"], "member_id": ["a", "a"], "kind": ["join", "leave"],
    ...       "at": ["2024-05-01T00:00:00+00:00", "2024-05-03T00:00:00+00:00"]}
    >>> out = group_activity_table([g], ev, [t, t + dt.timedelta(1), t + dt.timedelta(7)])
    >>> out["leaves"].tolist(), out["churn_rate"].tolist()
    ([0, 1], [0.0, 1.0])
    """
    bounds = _boundaries(periods)
    chats = _groups(groups)
    tbl = read_table(events, name="events")
    tbl.require(group, member, kind, time)
    g_codes, g_found, m_codes, is_join, t = _columns(tbl, group, member, kind, time, tz)
    names = sorted(chats)
    position = {gid: i for i, gid in enumerate(names)}
    found = [str(v) for v in g_found.tolist()]
    lookup = np.array([position.get(v, -1) for v in found], dtype=np.int64)
    g = lookup[g_codes] if len(g_codes) else np.zeros(0, dtype=np.int64)
    if (g < 0).any():
        rows = np.flatnonzero(g < 0)
        raise DataError(
            f"column {group!r} names groups not among the groups given: "
            f"{describe_rows(rows, [found[c] for c in g_codes[rows]])}; pass every group",
            field=group,
            rows=_first(rows),
        )
    created = np.array([_micros(chats[n].created_at) for n in names], dtype=np.int64)
    early = t < created[g]
    if early.any():
        rows = np.flatnonzero(early)
        raise DataError(
            "events before their group was created at "
            f"{describe_rows(rows, [str(r) for r in rows])}",
            field=time,
            rows=_first(rows),
        )
    n_rows = len(t)
    # each (group, member) alternates join, leave, join ... in time order, one event per instant
    order = _sort_by(t, g * (int(m_codes.max(initial=0)) + 1) + m_codes)
    gs, ms, ts, js = g[order], m_codes[order], t[order], is_join[order]
    run_start = np.ones(n_rows, dtype=bool)
    run_start[1:] = (gs[1:] != gs[:-1]) | (ms[1:] != ms[:-1])
    starts = np.flatnonzero(run_start)
    run_id = np.cumsum(run_start) - 1
    k = np.arange(n_rows) - starts[run_id] if n_rows else np.zeros(0, dtype=np.int64)
    same = ~run_start & (np.roll(ts, 1) == ts)
    if same.any():
        at = np.flatnonzero(same)
        rows = np.unique(np.concatenate((order[at - 1], order[at])))
        raise DataError(
            f"a member has two events in one group at the same instant at rows "
            f"{', '.join(map(str, rows[:5].tolist()))}; give each member at most one event "
            "per instant",
            field=time,
            rows=_first(rows),
        )
    # the first event out of turn in each (group, member) run is the cause; later ones follow
    wrong = np.flatnonzero(js != (k % 2 == 0))
    if len(wrong):
        _, firsts = np.unique(run_id[wrong], return_index=True)
        rows = np.sort(order[wrong[firsts]])
        what = (
            "joins a group while already a member; record a leave in between"
            if is_join[rows[0]]
            else "leaves a group without being a member; record the join first"
        )
        raise DataError(
            f"a member {what} (rows {', '.join(map(str, rows[:5].tolist()))})",
            field=kind,
            rows=_first(rows),
        )
    # a group can only outgrow its limit if more distinct members ever joined it than it allows
    limits = np.array([chats[n].max_members for n in names], dtype=np.int64)
    ever = np.bincount(gs[run_start], minlength=len(names))
    if (ever > limits).any():
        _check_sizes(names, limits, g, m_codes, t, is_join)
    # counts per group and period: an event at t belongs to the members as of every boundary
    # b >= t, and to period k = (b_k, b_k+1] when exactly k + 1 boundaries lie before it
    b_us = np.array([_micros(b) for b in bounds], dtype=np.int64)
    n_g, n_b = len(names), len(b_us)
    idx = np.searchsorted(b_us, t, side="left")
    cells = n_g * (n_b + 1)

    def tally(gg: Any, ii: Any, weights: Any = None) -> Any:
        flat = np.bincount(gg * (n_b + 1) + ii, weights=weights, minlength=cells)
        return np.rint(flat).astype(np.int64).reshape(n_g, n_b + 1)

    members = tally(g, idx, np.where(is_join, 1.0, -1.0))
    members = np.cumsum(members, axis=1)[:, :n_b]
    inside = (idx >= 1) & (idx < n_b)
    joins = tally(g[inside & is_join], idx[inside & is_join])
    leaves = tally(g[inside & ~is_join], idx[inside & ~is_join])
    # a leave's join is the event before it in its (group, member) run; the member was in at
    # the period's start when that join came at or before it
    prev_t = np.roll(ts, 1)
    leave_s = ~js
    idx_s = np.searchsorted(b_us, ts, side="left")
    was_in = leave_s & (np.searchsorted(b_us, prev_t, side="left") < idx_s)
    counted = was_in & (idx_s >= 1) & (idx_s < n_b)
    leavers = tally(gs[counted], idx_s[counted])
    m0 = members[:, :-1].reshape(-1)
    columns: dict[str, Any] = {
        "group_id": np.repeat(np.array(names, dtype=object), n_b - 1),
        "start": np.tile(b_us[:-1], n_g).astype("datetime64[us]"),
        "end": np.tile(b_us[1:], n_g).astype("datetime64[us]"),
        "members_start": m0,
        "joins": joins[:, 1:n_b].reshape(-1),
        "leaves": leaves[:, 1:n_b].reshape(-1),
        "leavers": leavers[:, 1:n_b].reshape(-1),
        "members_end": members[:, 1:].reshape(-1),
    }
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(m0 > 0, columns["leavers"] / np.maximum(m0, 1), np.nan)
    columns["churn_rate"] = rate.astype(np.float64)
    return tbl.result(columns, tz="UTC")


def _columns(
    tbl: Any, group: str, member: str, kind: str, time: str, tz: str | None
) -> tuple[Any, Any, Any, Any, Any]:
    """Group codes and their ids, member codes, join flags and UTC microseconds."""
    empty = np.zeros(0, dtype=np.int64)
    if tbl.n_rows == 0:
        return empty, np.zeros(0, dtype=object), empty, np.zeros(0, dtype=bool), empty
    g_codes, g_found = tbl.factorize(group)
    m_codes, _ = tbl.factorize(member)
    kinds = tbl.ids(kind).astype(object)
    is_join = kinds == "join"
    bad = ~(is_join | (kinds == "leave"))
    if bad.any():
        rows = np.flatnonzero(bad)
        raise DataError(
            f"column {kind!r} holds {describe_rows(rows, kinds[rows].tolist())}; "
            "accepted: 'join', 'leave'",
            field=kind,
            rows=_first(rows),
        )
    stamps = tbl.timestamps(time, tz=tz)
    if stamps.tz is None:
        raise DataError(
            f"column {time!r} holds calendar dates; group events need timestamps",
            field=time,
        )
    t = _utc_micros(stamps.values.astype("datetime64[us]").astype(np.int64), stamps.tz)
    return g_codes, g_found, m_codes, np.asarray(is_join, dtype=bool), t


def _sort_by(minor: Any, major: Any) -> Any:
    """Row order by ``major`` then ``minor`` (two stable sorts: faster than ``lexsort``)."""
    order = np.argsort(minor, kind="stable")
    return order[np.argsort(major[order], kind="stable")]


def _check_sizes(names: list[str], limits: Any, g: Any, m_codes: Any, t: Any, is_join: Any) -> None:
    """Group sizes in (time, member) order, as the record face replays them, within limits."""
    n_rows = len(g)
    by_time = _sort_by(m_codes, t)
    by_time = by_time[np.argsort(g[by_time], kind="stable")]
    size = np.cumsum(np.where(is_join, 1, -1)[by_time])
    g_sorted = g[by_time]
    first_of_group = np.ones(n_rows, dtype=bool)
    first_of_group[1:] = g_sorted[1:] != g_sorted[:-1]
    starts = np.flatnonzero(first_of_group)
    base = np.repeat(np.concatenate(([0], size))[starts], np.diff(np.append(starts, n_rows)))
    size = size - base
    over = size > limits[g_sorted]
    if over.any():
        first = int(np.flatnonzero(over)[0])
        row, gid = int(by_time[first]), names[int(g_sorted[first])]
        raise DataError(
            f"group {gid!r} would have {int(size[first])} members after row {row}; "
            f"max_members is {int(limits[g_sorted[first]])} (WeCom caps a customer group at "
            "500): raise max_members or check the events",
            field="max_members",
            rows=(row,),
        )


def _first(rows: Any) -> tuple[int, ...]:
    return tuple(int(r) for r in np.asarray(rows)[:5])
