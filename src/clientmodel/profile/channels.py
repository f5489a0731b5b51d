"""Channel codes ("live QR codes"): staff assignment, joining via a code, source attribution.

A newcomer who scans a :class:`~clientmodel.profile.models.ChannelCode` gets the code's tags,
starts a relationship with a staff member chosen from the code's pool, and has the code recorded
as first-touch / last-touch source (with the code's WeCom ``state`` parameter, so that sources
can be told apart downstream).

Staff assignment is **deterministic** and keeps no hidden state: the caller passes the code's
:class:`AssignmentState` (today's count per staff member, the code's running totals, the
round-robin cursor, the current load per staff member, the random seed and draw count) and
receives the updated state with the choice. Strategies:

* ``round_robin`` -- members take turns in pool order, starting at the cursor;
* ``least_loaded`` -- the member with the fewest current customers (``state.loads``), ties in
  pool order;
* ``weighted`` -- the member with the smallest ``(assigned_by_this_code + 1) / weight``, ties in
  pool order, so that over time member ``i`` receives a share ``w_i / sum(w)``;
* ``random`` -- draw ``k`` (``k = state.draws``) picks member ``i`` with probability
  ``w_i / sum(w)`` over the open members: ``u = int(sha256("code_id|seed|k")) mod sum(w)`` and
  the member whose cumulative weight range holds ``u``. The same seed and state always give
  the same pick, on every machine and numpy version; no clock and no global generator.

Who may take a newcomer at ``at``:

1. the pool members **on duty** (all of them without a schedule; else those named by a
   :class:`~clientmodel.profile.models.Shift` covering ``at``'s wall clock in the code's
   timezone) who are **below their daily limit** (``PoolMember.daily_limit``, else the code's
   ``daily_limit``; a calendar day in the code's timezone);
2. if there is none, the **spare staff** (no limit, no schedule), the one with the fewest
   newcomers today, ties in list order;
3. if there is no spare staff: when nobody is on duty the result is **"no one on duty"**
   (``staff_id is None``, ``outcome == "no_one_on_duty"``; the state is unchanged but for its
   day), which a caller answers e.g. with an out-of-hours message; when members are on duty but
   all full, a :class:`~clientmodel.errors.DataError` says so rather than over-filling anybody.

A scan outside the code's validity window is refused.

Attribution: the **first touch** is the earliest event (by time, then event id) that came through a
channel code or campaign, the **last touch** the latest; both are order-independent and feed
:func:`clientmodel.segments.acquisition_value` through :func:`sources_table`.

Examples
--------
>>> import datetime as dt
>>> from clientmodel.profile.models import ChannelCode, Event, Profile
>>> code = ChannelCode(code_id="spring", staff=("s1", "s2"), tags=("fair",))
>>> t = dt.datetime(2024, 5, 1, 10, tzinfo=dt.timezone.utc)
>>> e = Event(event_id="e1", type="scan_code", channel="wecom", timestamp=t,
...           channel_code="spring")
>>> joined = join_via_code(Profile(profile_id="p1"), e, code, AssignmentState(code_id="spring"))
>>> joined.staff_id, sorted(joined.profile.tag_ids), joined.profile.first_touch.source
('s1', ['fair'], 'spring')
>>> joined.state.cursor
1
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from clientmodel._validation import boundary, check_choice, check_text
from clientmodel.errors import ArgumentError, DataError
from clientmodel.profile._common import aware, check_instance, coerce, zone
from clientmodel.profile._welcome import PLACEHOLDERS, parse_template, render_parts
from clientmodel.profile.models import ChannelCode, Event, Profile, TagCatalog, Touch
from clientmodel.profile.relationships import start_relationship
from clientmodel.profile.tags import TagChange, add_tag

__all__ = [
    "Assignment",
    "AssignmentState",
    "CodeJoin",
    "assign_staff",
    "join_via_code",
    "on_duty",
    "record_touch",
    "render_welcome",
    "sources_table",
    "touch_of",
]


class AssignmentState(BaseModel):
    """The assignment state of one channel code (JSON-safe; store it next to the code).

    Attributes
    ----------
    code_id:
        The code this state belongs to.
    day:
        The calendar day (code timezone) that ``today`` counts.
    today:
        Newcomers per staff member on ``day`` (pool and spare staff).
    totals:
        Newcomers per staff member through this code so far (used by ``weighted``).
    cursor:
        Index into the pool where ``round_robin`` looks first.
    loads:
        Current customers per staff member (used by ``least_loaded``); seed it from your own
        data. Each assignment adds one to the chosen member.
    seed:
        Seed of the ``random`` strategy (any integer >= 0; pick one per code and keep it).
    draws:
        How many random draws the code has made (the next draw is number ``draws``).

    Examples
    --------
    >>> AssignmentState(code_id="spring", loads={"s1": 120, "s2": 80}).loads["s2"]
    80
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    code_id: str
    day: dt.date | None = None
    today: dict[str, int] = Field(default_factory=dict)
    totals: dict[str, int] = Field(default_factory=dict)
    cursor: int = Field(default=0, ge=0)
    loads: dict[str, int] = Field(default_factory=dict)
    seed: int = Field(default=0, ge=0)
    draws: int = Field(default=0, ge=0)


Outcome = Literal["pool", "spare", "no_one_on_duty"]


@attrs.frozen
class Assignment:
    """The staff member chosen for a newcomer and the code's updated state.

    Attributes
    ----------
    staff_id:
        The chosen staff member; ``None`` when nobody was on duty and there is no spare staff.
    state:
        The code's updated assignment state.
    spare:
        True when a spare staff member took the newcomer.
    outcome:
        ``"pool"`` (a pool member on duty), ``"spare"`` or ``"no_one_on_duty"``.

    Examples
    --------
    >>> import datetime as dt
    >>> code = ChannelCode(code_id="c", staff=("s1",))
    >>> a = assign_staff(code, AssignmentState(code_id="c"),
    ...                  dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc))
    >>> a.staff_id, a.spare, a.state.today
    ('s1', False, {'s1': 1})
    """

    staff_id: str | None
    state: AssignmentState
    spare: bool
    outcome: Outcome = "pool"


@attrs.frozen
class CodeJoin:
    """What joining via a channel code did.

    Attributes
    ----------
    profile:
        The updated profile (tags, relationship, attribution).
    changes:
        The tag changes.
    staff_id:
        The staff member the newcomer now belongs to.
    state:
        The code's updated assignment state (unchanged when ``reused``).
    reused:
        True when the customer already had an active relationship with a staff member of the
        code's pool or spare list: that relationship is kept and no slot is used.
    spare:
        True when a spare staff member took the newcomer.
    outcome:
        ``"pool"``, ``"spare"``, ``"reused"`` or ``"no_one_on_duty"`` (then ``staff_id`` is
        ``None``: the newcomer got the code's tags and attribution but no staff relationship).
    welcome:
        The code's welcome message rendered for this newcomer (``None`` without a template or
        when nobody took the newcomer).

    Examples
    --------
    >>> import datetime as dt
    >>> code = ChannelCode(code_id="c", staff=("s1",))
    >>> e = Event(event_id="e1", type="scan_code", channel="wecom", channel_code="c",
    ...           timestamp=dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc))
    >>> j = join_via_code(Profile(profile_id="p"), e, code, AssignmentState(code_id="c"))
    >>> j.staff_id, j.reused, j.profile.owners
    ('s1', False, ('s1',))
    """

    profile: Profile
    changes: list[TagChange]
    staff_id: str | None
    state: AssignmentState
    reused: bool
    spare: bool
    outcome: Literal["pool", "spare", "reused", "no_one_on_duty"] = "pool"
    welcome: str | None = None


def _day(code: ChannelCode, at: dt.datetime) -> dt.date:
    return at.astimezone(zone(code.timezone)).date()


@boundary
def on_duty(code: ChannelCode, at: dt.datetime) -> tuple[str, ...]:
    """The pool members on duty at ``at``, in pool order (the whole pool without a schedule).

    A member is on duty when a :class:`~clientmodel.profile.models.Shift` of the code's
    ``schedule`` names them and covers ``at``'s wall-clock time in the code's timezone, so a
    09:00-18:00 shift starts at 09:00 local time on both sides of a daylight-saving change.

    Examples
    --------
    >>> import datetime as dt
    >>> code = ChannelCode(code_id="c", staff=("ann", "bo"), timezone="Asia/Shanghai",
    ...                    schedule=[{"staff": ["ann"], "days": ["mon"], "start": "09:00",
    ...                               "end": "18:00"}])
    >>> on_duty(code, dt.datetime(2024, 5, 6, 1, 30, tzinfo=dt.timezone.utc))  # 09:30 Shanghai
    ('ann',)
    >>> on_duty(code, dt.datetime(2024, 5, 6, 10, 0, tzinfo=dt.timezone.utc))  # 18:00 Shanghai
    ()
    """
    check_instance(code, ChannelCode, "code")
    at = aware(at, "at")
    members = [m.staff_id for m in code.staff]
    if not code.schedule:
        return tuple(members)
    local = at.astimezone(zone(code.timezone)).replace(tzinfo=None)
    duty = {s for shift in code.schedule if shift.covers(local) for s in shift.staff}
    return tuple(m for m in members if m in duty)


def _draw(code_id: str, seed: int, k: int, total: int) -> int:
    """Draw ``k`` of a code's random stream: an integer uniform on ``[0, total)``.

    SHA-256 of the text ``code_id|seed|k`` read as a 256-bit integer, modulo ``total`` (the bias
    is below ``total / 2**256``): stable across machines and library versions.
    """
    digest = hashlib.sha256(f"{code_id}|{seed}|{k}".encode()).digest()
    return int.from_bytes(digest, "big") % total


@boundary
def assign_staff(code: ChannelCode, state: AssignmentState, at: dt.datetime) -> Assignment:
    """Choose the staff member for one newcomer through ``code`` at ``at``.

    Parameters
    ----------
    code:
        The channel code (pool, schedule, strategy, daily limits, spare staff).
    state:
        The code's current :class:`AssignmentState`.
    at:
        When the newcomer arrived (decides who is on duty and the "day" of the daily limits).
        Assignments must come in time order at the resolution of days: a day earlier than
        ``state.day`` is refused.

    Returns
    -------
    Assignment
        The chosen staff id (``None`` when nobody is on duty and there is no spare staff) and
        the new state.

    Raises
    ------
    DataError
        When every pool member on duty is at their daily limit and there is no spare staff,
        or when ``at`` falls on a day before ``state.day``.

    Examples
    --------
    >>> import datetime as dt
    >>> code = ChannelCode(code_id="c", staff=("s1", "s2"), strategy="least_loaded")
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> assign_staff(code, AssignmentState(code_id="c", loads={"s1": 5, "s2": 3}), t).staff_id
    's2'
    >>> rnd = ChannelCode(code_id="r", staff=("s1", "s2"), strategy="random")
    >>> a = assign_staff(rnd, AssignmentState(code_id="r", seed=7), t)
    >>> a.staff_id == assign_staff(rnd, AssignmentState(code_id="r", seed=7), t).staff_id
    True
    >>> a.state.draws
    1
    """
    check_instance(code, ChannelCode, "code")
    check_instance(state, AssignmentState, "state")
    at = aware(at, "at")
    if state.code_id != code.code_id:
        raise ArgumentError(
            f"state belongs to code {state.code_id!r}, not {code.code_id!r}", field="state"
        )
    day = _day(code, at)
    if state.day is not None and day < state.day:
        raise DataError(
            f"channel code {code.code_id!r}: assignment on {day.isoformat()} comes after the "
            f"state of {state.day.isoformat()}; assign newcomers in time order",
            field="at",
        )
    today = dict(state.today) if state.day == day else {}
    members = [m.staff_id for m in code.staff]
    duty = set(on_duty(code, at))
    limits = [code.daily_limit if m.daily_limit is None else m.daily_limit for m in code.staff]
    open_idx = [
        i
        for i, s in enumerate(members)
        if s in duty and (limits[i] is None or today.get(s, 0) < limits[i])  # type: ignore[operator]
    ]
    cursor = state.cursor % len(members)
    draws = state.draws
    outcome: Outcome = "pool"
    if open_idx:
        weights = [code.staff[i].weight for i in open_idx]
        if code.strategy == "round_robin":
            chosen_idx = min(open_idx, key=lambda i: (i - cursor) % len(members))
            cursor = (chosen_idx + 1) % len(members)
        elif code.strategy == "least_loaded":
            chosen_idx = min(open_idx, key=lambda i: (state.loads.get(members[i], 0), i))
        elif code.strategy == "weighted":
            chosen_idx = min(
                open_idx,
                key=lambda i: ((state.totals.get(members[i], 0) + 1) / code.staff[i].weight, i),
            )
        else:
            u = _draw(code.code_id, state.seed, draws, sum(weights))
            draws += 1
            for i, w in zip(open_idx, weights, strict=True):
                if u < w:
                    chosen_idx = i
                    break
                u -= w
        chosen = members[chosen_idx]
    elif code.spare_staff:
        spares = list(code.spare_staff)
        chosen = min(spares, key=lambda s: (today.get(s, 0), spares.index(s)))
        outcome = "spare"
    elif not duty:
        quiet = state.model_copy(update={"day": day, "today": dict(sorted(today.items()))})
        return Assignment(staff_id=None, state=quiet, spare=False, outcome="no_one_on_duty")
    else:
        full = [i for i in range(len(members)) if members[i] in duty]
        shown = ", ".join(f"{members[i]}: {limits[i]}" for i in full)
        common = limits[full[0]] if len({limits[i] for i in full}) == 1 else "each member's own"
        raise DataError(
            f"channel code {code.code_id!r}: every pool member on duty reached the daily limit "
            f"of {common} ({shown}) on {day.isoformat()} and the code has no spare staff; "
            "add spare staff or raise daily_limit",
            field="daily_limit",
        )
    today[chosen] = today.get(chosen, 0) + 1
    totals = dict(state.totals)
    totals[chosen] = totals.get(chosen, 0) + 1
    loads = dict(state.loads)
    loads[chosen] = loads.get(chosen, 0) + 1
    new_state = AssignmentState(
        code_id=code.code_id,
        day=day,
        today=dict(sorted(today.items())),
        totals=dict(sorted(totals.items())),
        cursor=cursor,
        loads=dict(sorted(loads.items())),
        seed=state.seed,
        draws=draws,
    )
    return Assignment(staff_id=chosen, state=new_state, spare=outcome == "spare", outcome=outcome)


@boundary
def render_welcome(
    code: ChannelCode,
    *,
    customer_name: str | None = None,
    staff_name: str | None = None,
    missing: str = "",
) -> str | None:
    """The code's welcome message for one newcomer (``None`` when the code has none).

    Placeholders ``{customer_name}``, ``{staff_name}`` and ``{code_name}`` (the code's ``name``,
    else its id) are filled in; a value not given becomes ``missing``, and a value longer than
    64 characters is cut to 64, so the message always fits WeCom's 4000-byte limit on welcome
    text (checked against the longest possible values when the code was built). Rendering never
    fails for a valid code.

    Parameters
    ----------
    code:
        The channel code.
    customer_name, staff_name:
        The values of those placeholders.
    missing:
        What a placeholder without a value becomes (default: nothing).

    Returns
    -------
    str or None

    Examples
    --------
    >>> code = ChannelCode(code_id="fair", name="Spring fair", staff=("s1",),
    ...                    welcome="Hi {customer_name}, I am {staff_name} from {code_name}!")
    >>> render_welcome(code, customer_name="Li", staff_name="Ann")
    'Hi Li, I am Ann from Spring fair!'
    >>> render_welcome(code, staff_name="Ann", missing="there")
    'Hi there, I am Ann from Spring fair!'
    """
    check_instance(code, ChannelCode, "code")
    _name(customer_name, "customer_name")
    _name(staff_name, "staff_name")
    if not isinstance(missing, str):
        raise ArgumentError(
            f"missing must be text (what an empty placeholder becomes), got "
            f"{type(missing).__name__}",
            field="missing",
        )
    if code.welcome is None:
        return None
    parts = parse_template(code.welcome)
    filled = {
        "customer_name": customer_name,
        "staff_name": staff_name,
        "code_name": code.name or code.code_id,
    }
    assert set(filled) == set(PLACEHOLDERS)
    return render_parts(parts, filled, missing)


@boundary
def touch_of(event: Event) -> Touch | None:
    """The attribution touch an event carries (``None`` without channel code or campaign).

    Examples
    --------
    >>> import datetime as dt
    >>> e = Event(event_id="e1", type="view", channel="web", campaign="618",
    ...           timestamp=dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc))
    >>> touch_of(e).source
    '618'
    """
    check_instance(event, Event, "event")
    if event.channel_code is None and event.campaign is None:
        return None
    return Touch(
        at=event.timestamp,
        event_id=event.event_id,
        channel=event.channel,
        channel_code=event.channel_code,
        campaign=event.campaign,
        staff_id=event.staff_id,
    )


def _merge_touch(profile: Profile, first: Touch | None, last: Touch | None) -> Profile:
    new_first, new_last = profile.first_touch, profile.last_touch
    if first is not None and (new_first is None or first.sort_key() < new_first.sort_key()):
        new_first = first
    if last is not None and (new_last is None or last.sort_key() > new_last.sort_key()):
        new_last = last
    if new_first is profile.first_touch and new_last is profile.last_touch:
        return profile
    return profile.model_copy(update={"first_touch": new_first, "last_touch": new_last})


@boundary
def record_touch(profile: Profile, event: Event | Any) -> Profile:
    """Update first-touch / last-touch attribution with one event (order-independent).

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)
    >>> p = record_touch(Profile(profile_id="p"), Event(event_id="b", type="view",
    ...                  channel="web", campaign="618", timestamp=t))
    >>> p = record_touch(p, Event(event_id="a", type="view", channel="web", campaign="spring",
    ...                  timestamp=t - dt.timedelta(days=30)))
    >>> p.first_touch.source, p.last_touch.source
    ('spring', '618')
    """
    event = coerce(Event, event, "event", "event")
    touch = touch_of(event)
    if touch is None:
        return profile
    return _merge_touch(profile, touch, touch)


@boundary
def join_via_code(
    profile: Profile,
    event: Event | Any,
    code: ChannelCode,
    state: AssignmentState,
    *,
    catalog: TagCatalog | None = None,
    customer_name: str | None = None,
    staff_names: Mapping[str, str] | None = None,
) -> CodeJoin:
    """Apply a "joined via channel code" event: tags, staff relationship, attribution.

    The event's ``channel_code`` must name ``code``, and the code must be valid at the event's
    time. Fold the same event with :func:`clientmodel.profile.activity.apply` as well to count
    it; this function does the code's side effects only. Joining twice through the same code
    changes nothing the second time.

    Parameters
    ----------
    profile:
        The customer's profile.
    event:
        The join / scan event (an :class:`Event` or a mapping).
    code:
        The channel code scanned.
    state:
        The code's assignment state.
    catalog:
        Tag groups for the code's tags (exclusive groups replace, unknown tags refused).
    customer_name:
        The newcomer's name for the welcome message's ``{customer_name}``.
    staff_names:
        Display names by staff id for ``{staff_name}`` (a missing one renders empty).

    Returns
    -------
    CodeJoin
        With ``outcome == "no_one_on_duty"`` (and ``staff_id is None``) when the code's
        schedule has nobody on duty and there is no spare staff: the newcomer still gets the
        code's tags and attribution, but no relationship and no welcome message.

    Raises
    ------
    DataError
        The code was not valid at the event's time, the pool was full without spare staff, or a
        code tag is unknown to an enforced catalog.

    Examples
    --------
    >>> import datetime as dt
    >>> code = ChannelCode(code_id="c", staff=("s1",), daily_limit=1, spare_staff=("boss",))
    >>> t = dt.datetime(2024, 5, 1, 10, tzinfo=dt.timezone.utc)
    >>> st = AssignmentState(code_id="c")
    >>> ev = lambda i: Event(event_id=f"e{i}", type="scan_code", channel="wecom",
    ...                      timestamp=t, channel_code="c")
    >>> a = join_via_code(Profile(profile_id="p1"), ev(1), code, st)
    >>> b = join_via_code(Profile(profile_id="p2"), ev(2), code, a.state)
    >>> a.staff_id, b.staff_id, b.spare
    ('s1', 'boss', True)
    """
    event = coerce(Event, event, "event", "event")
    if event.channel_code != code.code_id:
        raise ArgumentError(
            f"event {event.event_id!r} came through channel code {event.channel_code!r}, not "
            f"{code.code_id!r}; pass the code the event names",
            field="channel_code",
        )
    at = event.timestamp
    if not code.is_valid_at(at):
        window = (
            f"{code.valid_from.isoformat() if code.valid_from else '-inf'} to "
            f"{code.valid_until.isoformat() if code.valid_until else '+inf'}"
        )
        raise DataError(
            f"channel code {code.code_id!r} is not valid at {at.isoformat()} (event "
            f"{event.event_id!r}); it is valid from {window} (end excluded)",
            field="channel_code",
        )
    names = dict(_text_mapping(staff_names, "staff_names") if staff_names is not None else {})
    _name(customer_name, "customer_name")
    candidates = [m.staff_id for m in code.staff] + list(code.spare_staff)
    existing = [s for s in profile.owners if s in candidates]
    staff_id: str | None
    outcome: Literal["pool", "spare", "reused", "no_one_on_duty"]
    if existing:
        staff_id = min(existing, key=candidates.index)
        new_state, reused, spare, outcome = state, True, False, "reused"
    else:
        chosen = assign_staff(code, state, at)
        staff_id, new_state, reused, spare = chosen.staff_id, chosen.state, False, chosen.spare
        outcome = chosen.outcome
    changes: list[TagChange] = []
    new = profile
    for tag in code.tags:
        if tag in new.tag_ids:
            continue
        new, ch = add_tag(
            new, tag, at=at, source="channel_code", assigned_by=code.code_id, catalog=catalog
        )
        changes.extend(ch)
    if not reused and staff_id is not None:
        new = start_relationship(new, staff_id, at=at, how="code_scan", channel_code=code.code_id)
    touch = Touch(
        at=at,
        event_id=event.event_id,
        channel=event.channel,
        channel_code=code.code_id,
        campaign=event.campaign or code.campaign,
        staff_id=staff_id,
        state=code.state,
    )
    new = _merge_touch(new, touch, touch)
    welcome = None
    if staff_id is not None:
        welcome = render_welcome(code, customer_name=customer_name, staff_name=names.get(staff_id))
    return CodeJoin(
        profile=new,
        changes=changes,
        staff_id=staff_id,
        state=new_state,
        reused=reused,
        spare=spare,
        outcome=outcome,
        welcome=welcome,
    )


def _name(value: Any, field: str) -> None:
    """A person's name is text or None; the error never echoes it (names are personal data)."""
    if value is not None and not isinstance(value, str):
        raise ArgumentError(
            f"{field} must be text (or None), got a value of type {type(value).__name__}",
            field=field,
        )


def _text_mapping(value: Any, field: str) -> dict[str, str]:
    """A mapping of text to text (e.g. staff display names), or an ArgumentError."""
    if not isinstance(value, Mapping):
        raise ArgumentError(
            f"{field} must be a mapping of staff id to display name, got {type(value).__name__}",
            field=field,
        )
    out: dict[str, str] = {}
    for key, text in value.items():
        check_text(key, f"{field} key")
        _name(text, f"{field}[{key!r}]")
        out[key] = text
    return out


@boundary
def sources_table(
    profiles: Iterable[Profile],
    *,
    touch: Literal["first", "last"] = "first",
    default: str = "organic",
    customer: str = "customer_id",
    source: str = "source",
    by: Literal["source", "state"] = "source",
) -> dict[str, Any]:
    """One row per profile with its attribution source, for ``segments.acquisition_value``.

    With ``by="source"`` the label is the touch's channel code, else its campaign, else its
    channel; with ``by="state"`` it is the WeCom ``state`` parameter the touch carries (one code
    printed on several posters, each with its own state, tells the posters apart). Profiles
    without a touch (or, by state, without a state) get ``default``.

    Examples
    --------
    >>> sources_table([Profile(profile_id="p1")])
    {'customer_id': array(['p1'], dtype=object), 'source': array(['organic'], dtype=object)}
    """
    check_choice(touch, "touch", ("first", "last"))
    check_choice(by, "by", ("source", "state"))
    ids: list[str] = []
    labels: list[str] = []
    for p in profiles:
        t = p.first_touch if touch == "first" else p.last_touch
        ids.append(p.profile_id)
        label = None if t is None else (t.source if by == "source" else t.state)
        labels.append(default if label is None else label)
    return {customer: np.array(ids, dtype=object), source: np.array(labels, dtype=object)}
