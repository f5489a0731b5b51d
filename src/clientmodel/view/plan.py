"""A day plan for a whole base: each person's best actions, as a task list per staff member.

:func:`day_plan` runs :func:`~clientmodel.view.next_actions` for every view, keeps each person's
best ``per_person`` actions, and hands them out:

* actions worth nothing (``min_value``) are left out;
* a person with an owner who is still here: to that owner (nobody else contacts someone's
  customer), up to ``capacity`` tasks a day, before any handover; the owner's lowest-value tasks
  beyond it are deferred;
* a person without one (never owned, or the owner left): to one active staff member for all of
  that person's tasks, with the strategy of :func:`clientmodel.profile.reassign` -- same team as
  the previous owner when one is known and has room (``same_team``), else the least loaded
  (``balance_load``), ties by staff id. Load is counted in today's tasks.

Tasks are handed out highest value first, so capacity goes to the most valuable work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

import attrs

from clientmodel._validation import (
    boundary,
    check_mapping,
    check_text,
    key_path,
    read_form,
    validate_records,
)
from clientmodel.errors import ArgumentError, DataError
from clientmodel.profile import StaffMember
from clientmodel.view._common import aware
from clientmodel.view.actions import Action, ContactPressure, Play, Suppressed, next_actions
from clientmodel.view.evaluation import Holdout
from clientmodel.view.record import CustomerView

__all__ = ["DayPlan", "Handover", "assign", "day_plan"]


@attrs.frozen
class Handover:
    """A person without an owner whose tasks went to a staff member today, and why.

    Examples
    --------
    >>> Handover("p1", "s2", "same_team").to_dict()["reason"]
    'same_team'
    """

    person_id: str
    staff_id: str
    reason: str

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form.

        Examples
        --------
        >>> Handover("p", "s", "balance_load").to_dict()["staff_id"]
        's'
        """
        return attrs.asdict(self)

    @classmethod
    @boundary
    def from_dict(cls, data: Mapping[str, Any]) -> Handover:
        """Rebuild from :meth:`to_dict` output.

        Examples
        --------
        >>> h = Handover("p", "s", "balance_load")
        >>> Handover.from_dict(h.to_dict()) == h
        True
        """
        return read_form(cls, data)


def _read_actions(value: Any, path: str) -> list[Action]:
    try:
        return validate_records(Action, value, field=path)
    except DataError as exc:
        raise ArgumentError(f"{path}: {exc}", field=exc.field) from exc


def _read_tasks(value: Any, path: str) -> tuple[tuple[str, tuple[Action, ...]], ...]:
    out = []
    for staff, tasks in check_mapping(value, path).items():
        where = key_path(path, str(staff))
        out.append((check_text(staff, where), tuple(_read_actions(tasks, where))))
    return tuple(out)


@attrs.frozen
class DayPlan:
    """The day's tasks per staff member, what was deferred or suppressed, and the handovers.

    Attributes
    ----------
    as_of:
        The day's start (the moment the plan was made for).
    tasks:
        ``(staff id, tasks highest value first)`` per active staff member, by staff id.
    deferred:
        Tasks beyond their staff member's capacity.
    suppressed:
        Plays the contact-pressure caps or missing consent suppressed.
    handovers:
        People without an owner and who took their tasks.

    Examples
    --------
    >>> import datetime as dt
    >>> plan = DayPlan(dt.datetime(2024, 6, 3, tzinfo=dt.timezone.utc), (("s1", ()),), (), (), ())
    >>> plan.tasks_of("s1"), plan.n_tasks
    ((), 0)
    """

    as_of: dt.datetime
    tasks: tuple[tuple[str, tuple[Action, ...]], ...]
    deferred: tuple[Action, ...]
    suppressed: tuple[Suppressed, ...]
    handovers: tuple[Handover, ...]

    # serialised as {staff id: [tasks]}, a mapping a reader of JSON can index by staff id
    _FORM: ClassVar[dict[str, Any]] = {
        "tasks": lambda value, path: tuple(
            (
                check_text(staff, key_path(path, str(staff))),
                tuple(_read_actions(ts, key_path(path, str(staff)))),
            )
            for staff, ts in check_mapping(value, path).items()
        )
    }

    @property
    def n_tasks(self) -> int:
        """Tasks planned across staff."""
        return sum(len(t) for _, t in self.tasks)

    @boundary
    def tasks_of(self, staff_id: str) -> tuple[Action, ...]:
        """One staff member's tasks (empty when none).

        Examples
        --------
        >>> import datetime as dt
        >>> DayPlan(dt.datetime(2024, 6, 3, tzinfo=dt.timezone.utc), (), (), (), ()).tasks_of("x")
        ()
        """
        return next((t for s, t in self.tasks if s == staff_id), ())

    @boundary
    def render(self, *, limit: int = 5) -> str:
        """A short plain-text plan: per staff member, their top tasks and why.

        Examples
        --------
        >>> import datetime as dt
        >>> print(DayPlan(dt.datetime(2024, 6, 3, tzinfo=dt.timezone.utc), (), (), (), ()).render())
        Day plan for 2024-06-03: 0 tasks, 0 deferred, 0 suppressed, 0 handovers
        """
        lines = [
            f"Day plan for {self.as_of.date().isoformat()}: {self.n_tasks} tasks, "
            f"{len(self.deferred)} deferred, {len(self.suppressed)} suppressed, "
            f"{len(self.handovers)} handovers"
        ]
        for staff, tasks in self.tasks:
            if not tasks:
                continue
            total = sum(t.value for t in tasks)
            lines.append(f"  {staff}: {len(tasks)} tasks, expected value {total:,.2f}")
            for t in tasks[:limit]:
                why = "; ".join(t.reasons[:2])
                lines.append(
                    f"    {t.send_at.strftime('%H:%M')} {t.action:<24} {t.person_id:<10} "
                    f"via {t.channel:<8} value {t.value:>10,.2f}  ({why})"
                )
            if len(tasks) > limit:
                lines.append(f"    ... and {len(tasks) - limit} more")
        return "\n".join(lines)

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form.

        Examples
        --------
        >>> import datetime as dt
        >>> d = DayPlan(dt.datetime(2024, 6, 3, tzinfo=dt.timezone.utc), (), (), (), ())
        >>> d.to_dict()["as_of"]
        '2024-06-03T00:00:00+00:00'
        """
        return {
            "as_of": self.as_of.isoformat(),
            "tasks": {s: [t.model_dump(mode="json") for t in ts] for s, ts in self.tasks},
            "deferred": [t.model_dump(mode="json") for t in self.deferred],
            "suppressed": [s.model_dump(mode="json") for s in self.suppressed],
            "handovers": [h.to_dict() for h in self.handovers],
        }

    @classmethod
    @boundary
    def from_dict(cls, data: Mapping[str, Any]) -> DayPlan:
        """Rebuild from :meth:`to_dict` output.

        Examples
        --------
        >>> import datetime as dt
        >>> d = DayPlan(dt.datetime(2024, 6, 3, tzinfo=dt.timezone.utc), (("s", ()),), (), (), ())
        >>> DayPlan.from_dict(d.to_dict()) == d
        True
        """
        return read_form(cls, data)


def _previous_owner(view: CustomerView) -> str | None:
    return None if view.relationships is None else view.relationships.previous_owner


@boundary
def day_plan(
    views: Iterable[CustomerView],
    playbook: Iterable[Play],
    *,
    as_of: dt.datetime,
    staff: Iterable[StaffMember],
    capacity: int = 20,
    per_person: int = 1,
    pressure: ContactPressure | None = None,
    touches: Mapping[str, Iterable[dt.datetime]] | None = None,
    holdout: Holdout | None = None,
    min_value: float = 0.0,
) -> DayPlan:
    """Plan a day for a whole base (see the module notes for who gets what).

    Parameters
    ----------
    views:
        One :class:`~clientmodel.view.CustomerView` per person.
    playbook:
        The plays.
    as_of:
        The start of the day (timezone-aware).
    staff:
        Every staff member, with team and whether active.
    capacity:
        Tasks per staff member per day.
    per_person:
        Actions kept per person (their most valuable ones).
    pressure, touches:
        Contact-pressure caps and each person's earlier touches (by person id).
    min_value:
        Actions worth no more than this are not planned (by default: those worth nothing).
    holdout:
        People it holds get no task; their plays are reported as suppressed (``holdout``), so
        :func:`~clientmodel.view.play_evaluation` can measure uplift against them.

    Examples
    --------
    >>> import datetime as dt
    >>> from clientmodel.profile import StaffMember
    >>> from clientmodel.view import DEFAULT_PLAYBOOK, customer_view
    >>> t = dt.datetime(2024, 6, 3, 10, tzinfo=dt.timezone.utc)
    >>> views = [customer_view("p1", as_of=t, segment={"lifecycle": "new"}, scores={"clv": 9})]
    >>> plan = day_plan(views, DEFAULT_PLAYBOOK, as_of=t, staff=[StaffMember(staff_id="s1")])
    >>> plan.n_tasks, [s.play_id for s in plan.suppressed]
    (0, ['nurture_new'])
    """
    as_of = aware(as_of, "as_of")
    if not isinstance(capacity, int) or capacity < 0:
        raise ArgumentError(f"capacity={capacity!r} must be an int >= 0", field="capacity")
    if not isinstance(per_person, int) or per_person < 1:
        raise ArgumentError(f"per_person={per_person!r} must be an int >= 1", field="per_person")
    plays = tuple(playbook)
    staff_list = list(staff)
    active = sorted(s.staff_id for s in staff_list if s.active)
    if not active:
        raise DataError("no active staff member to plan for", field="staff")
    touches = touches or {}
    chosen: list[tuple[Action, CustomerView]] = []
    suppressed: list[Suppressed] = []
    seen: set[str] = set()
    for view in views:
        if view.person_id in seen:
            raise DataError(f"views repeat person {view.person_id!r}", field="person_id")
        seen.add(view.person_id)
        res = next_actions(
            view, plays, as_of=as_of, pressure=pressure, touches=touches.get(view.person_id, ())
        )
        suppressed.extend(res.suppressed)
        if holdout is not None and holdout.holds(view.person_id):
            suppressed.extend(
                Suppressed(
                    person_id=a.person_id,
                    play_id=a.play_id,
                    reason="holdout",
                    detail=f"held out (seed {holdout.seed}, share {holdout.share}) to measure "
                    "uplift",
                    value=a.value,
                )
                for a in res.actions[:per_person]
            )
            continue
        chosen.extend((a, view) for a in res.actions[:per_person] if a.value > min_value)
    members = {s.staff_id: s for s in staff_list}
    rows = [(a.value, a.person_id, a.play_id, a.owner, _previous_owner(v)) for a, v in chosen]
    placed = assign(rows, members, capacity)
    tasks: dict[str, list[Action]] = {s: [] for s in active}
    deferred: list[Action] = []
    handovers: dict[str, Handover] = {}
    for (action, _), (staff_id, how) in zip(chosen, placed, strict=True):
        if staff_id is None:
            deferred.append(action)
            continue
        if how != "owner":
            handovers.setdefault(action.person_id, Handover(action.person_id, staff_id, how))
            action = action.model_copy(update={"owner": staff_id})
        tasks[staff_id].append(action)
    for staff_id in tasks:
        tasks[staff_id].sort(key=lambda a: (-a.value, a.person_id, a.play_id))
    deferred.sort(key=lambda a: (-a.value, a.person_id, a.play_id))
    return DayPlan(
        as_of=as_of,
        tasks=tuple((s, tuple(tasks[s])) for s in active),
        deferred=tuple(deferred),
        suppressed=tuple(sorted(suppressed, key=lambda s: (s.person_id, s.play_id))),
        handovers=tuple(sorted(handovers.values(), key=lambda h: h.person_id)),
    )


@boundary
def assign(
    rows: Sequence[tuple[float, str, str, str | None, str | None]],
    members: Mapping[str, StaffMember],
    capacity: int,
) -> list[tuple[str | None, str]]:
    """Hand out tasks ``(value, person, play, owner, previous owner)``; the rule of the module.

    Owners take their own customers' tasks first, highest value first, up to ``capacity``; then
    the tasks of people without an (active) owner go out, highest value first, to a member of the
    previous owner's team with room, else to the least loaded (ties by staff id); a person's
    further tasks follow their first (``handover``). Ties in value by person, then play. Returns,
    per input row, the staff member (``None``: deferred) and how: ``owner``, ``same_team``,
    ``balance_load``, ``handover`` or ``deferred``. Shared by the record and the table face, so
    they hand out alike.

    Examples
    --------
    >>> team = {"s1": StaffMember(staff_id="s1", team="a"), "s2": StaffMember(staff_id="s2")}
    >>> assign([(5.0, "p1", "x", "s1", None), (9.0, "p2", "x", None, "s9")], team, 1)
    [('s1', 'owner'), ('s2', 'balance_load')]
    """
    active = sorted(s for s, m in members.items() if m.active)
    load = dict.fromkeys(active, 0)
    taken: dict[str, str] = {}
    out: list[tuple[str | None, str]] = [(None, "deferred")] * len(rows)
    order = sorted(range(len(rows)), key=lambda i: (-rows[i][0], rows[i][1], rows[i][2]))
    # owners' own customers first, so a handover never pushes an owner's own work out
    for i in order:
        owner = rows[i][3]
        if owner is not None and owner in load and load[owner] < capacity:
            load[owner] += 1
            out[i] = (owner, "owner")
    for i in order:
        _, person, _, owner, previous = rows[i]
        if owner is not None and owner in load:
            continue  # owned: placed above, or deferred when the owner is full
        if person in taken:
            staff_id, how = taken[person], "handover"
        else:
            found, how = _pick(previous, members, load, capacity)
            if found is None:
                continue
            staff_id = taken[person] = found
        if load[staff_id] >= capacity:
            continue
        load[staff_id] += 1
        out[i] = (staff_id, how)
    return out


def _pick(
    previous: str | None,
    members: Mapping[str, StaffMember],
    load: Mapping[str, int],
    capacity: int,
) -> tuple[str | None, str]:
    """The staff member who takes an ownerless person today (same team first, then least
    loaded; ties by staff id), or ``None`` when everybody is full."""
    room = [s for s in sorted(load) if load[s] < capacity]
    if not room:
        return None, "deferred"
    team = members[previous].team if previous is not None and previous in members else None
    if team is not None:
        mates = [s for s in room if members[s].team == team]
        if mates:
            return min(mates, key=lambda s: (load[s], s)), "same_team"
    return min(room, key=lambda s: (load[s], s)), "balance_load"
