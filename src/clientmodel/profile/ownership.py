"""Ownership transfer: when staff members leave, who takes over each of their customers.

:func:`reassign` is a pure function that returns a :class:`ReassignmentPlan`; :func:`transfer`
applies one :class:`Move` to a profile. The strategy, for every customer with an active
relationship with a leaving staff member (customers in profile-id order, their leaving staff in
id order, so the plan does not depend on input order):

1. **prefer existing relationship** (``prefer_existing=True``): if the customer already has an
   active relationship with a remaining staff member, that member keeps the customer (the one with
   the lowest load among them, ties by staff id); no new relationship is needed and no load moves;
2. **keep team** (``keep_team=True``): otherwise the candidates are the remaining active staff of
   the leaver's team -- or, when the team has nobody left (or the leaver has no team), all
   remaining active staff;
3. **balance load**: among the candidates the one with the fewest customers takes over (ties by
   staff id), and their load goes up by one before the next customer is placed.

Loads start from ``loads`` when given, else from the active relationships in ``profiles``. If no
active staff member remains, a :class:`~clientmodel.errors.DataError` is raised rather than leaving
customers without an owner: after applying a plan every affected customer has an active owner who
is not leaving (property-tested).
"""

from __future__ import annotations

import datetime as dt
import numbers
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs
from pydantic import BaseModel, ConfigDict, Field

from clientmodel._validation import boundary
from clientmodel.errors import ArgumentError, DataError
from clientmodel.profile._common import aware, check_instance
from clientmodel.profile.models import Profile
from clientmodel.profile.relationships import end_relationship, start_relationship

__all__ = ["Move", "ReassignmentPlan", "StaffMember", "reassign", "transfer"]


class StaffMember(BaseModel):
    """A staff member who can own customers.

    Examples
    --------
    >>> StaffMember(staff_id="s1", team="north").active
    True
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    staff_id: str = Field(min_length=1, max_length=200)
    team: str | None = None
    active: bool = True


class Move(BaseModel):
    """One customer moving from a leaving staff member to a new owner.

    ``reason`` is ``existing_relationship`` (the new owner already had the customer),
    ``same_team`` or ``balance_load`` (least-loaded across all remaining staff).

    Examples
    --------
    >>> Move(profile_id="p1", from_staff="s1", to_staff="s2", reason="same_team").to_staff
    's2'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    profile_id: str
    from_staff: str
    to_staff: str
    reason: Literal["existing_relationship", "same_team", "balance_load"]


@attrs.frozen
class ReassignmentPlan:
    """The moves, and each remaining staff member's load once they are applied.

    Attributes
    ----------
    moves:
        One :class:`Move` per (customer, leaving staff member), in profile-id order.
    loads:
        Customers per remaining staff member after the plan.

    Examples
    --------
    >>> plan = reassign([], "s1", [StaffMember(staff_id="s1"), StaffMember(staff_id="s2")])
    >>> plan.moves, plan.loads
    ((), {'s2': 0})
    """

    moves: tuple[Move, ...]
    loads: dict[str, int]

    def by_staff(self) -> dict[str, list[str]]:
        """Profile ids each new owner receives (new relationships only).

        Examples
        --------
        >>> ReassignmentPlan(moves=(), loads={}).by_staff()
        {}
        """
        out: dict[str, list[str]] = {}
        for m in self.moves:
            if m.reason != "existing_relationship":
                out.setdefault(m.to_staff, []).append(m.profile_id)
        return out


def _check_loads(loads: Any) -> None:
    """Loads are a mapping of staff id -> a whole, non-negative number of customers."""
    if not isinstance(loads, Mapping):
        raise DataError(
            f"loads must map staff ids to customer counts, got {type(loads).__name__}",
            field="loads",
        )
    for staff_id, n in loads.items():
        whole = isinstance(n, numbers.Integral) and not isinstance(n, bool)
        if not whole or n < 0:
            raise DataError(
                f"loads[{staff_id!r}] is {n!r}; a load is a whole number of customers >= 0",
                field="loads",
            )


@boundary
def reassign(
    profiles: Iterable[Profile],
    leaving: str | Iterable[str],
    staff: Iterable[StaffMember],
    *,
    prefer_existing: bool = True,
    keep_team: bool = True,
    loads: Mapping[str, int] | None = None,
) -> ReassignmentPlan:
    """Plan who takes over the customers of staff members who leave.

    Parameters
    ----------
    profiles:
        The customers (at least those with an active relationship with a leaver).
    leaving:
        The staff id (or ids) leaving.
    staff:
        Every staff member, with team and whether active; leavers may be listed (they are
        excluded).
    prefer_existing, keep_team:
        The first two steps of the strategy (see the module docstring).
    loads:
        Current customers per staff member (default: counted from ``profiles``).

    Returns
    -------
    ReassignmentPlan

    Raises
    ------
    DataError
        When no active staff member remains to take the customers, a staff id is listed
        twice, or a load is not a whole number >= 0.

    Examples
    --------
    >>> import datetime as dt
    >>> from clientmodel.profile.relationships import start_relationship
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> ps = [start_relationship(Profile(profile_id=f"p{i}"), "s1", at=t, how="search")
    ...       for i in range(3)]
    >>> team = [StaffMember(staff_id="s1", team="a"), StaffMember(staff_id="s2", team="a"),
    ...         StaffMember(staff_id="s3", team="b")]
    >>> plan = reassign(ps, "s1", team)
    >>> [(m.profile_id, m.to_staff, m.reason) for m in plan.moves]
    [('p0', 's2', 'same_team'), ('p1', 's2', 'same_team'), ('p2', 's2', 'same_team')]
    >>> plan = reassign(ps, "s1", team, keep_team=False)
    >>> [m.to_staff for m in plan.moves]
    ['s2', 's3', 's2']
    """
    gone = {leaving} if isinstance(leaving, str) else set(leaving)
    if not gone:
        raise ArgumentError("leaving names no staff member", field="leaving")
    members: dict[str, StaffMember] = {}
    for i, member in enumerate(staff):
        if not isinstance(member, StaffMember):
            raise DataError(
                f"staff[{i}] is a {type(member).__name__}, not a StaffMember", field="staff"
            )
        if member.staff_id in members:
            raise DataError(
                f"staff[{i}] repeats staff_id {member.staff_id!r}; list each staff member once",
                field="staff",
                rows=[i],
            )
        members[member.staff_id] = member
    if loads is not None:
        _check_loads(loads)
    remaining = sorted(s for s, m in members.items() if m.active and s not in gone)
    items = sorted(profiles, key=lambda p: p.profile_id)
    ids = [p.profile_id for p in items]
    if len(set(ids)) != len(ids):
        raise DataError("profiles repeat a profile_id", field="profile_id")
    affected = [p for p in items if any(s in gone for s in p.owners)]
    if affected and not remaining:
        raise DataError(
            f"no active staff member remains to take the {len(affected)} customer(s) of "
            f"{sorted(gone)}; add or re-activate staff before they leave",
            field="staff",
        )
    load: dict[str, int] = dict.fromkeys(remaining, 0)
    if loads is not None:
        for s in remaining:
            load[s] = int(loads.get(s, 0))
    else:
        for p in items:
            for s in p.owners:
                if s in load:
                    load[s] += 1
    moves: list[Move] = []
    for p in affected:
        owners = [s for s in p.owners if s in load]
        for from_staff in sorted(s for s in p.owners if s in gone):
            if prefer_existing and owners:
                to = min(owners, key=lambda s: (load[s], s))
                moves.append(
                    Move(
                        profile_id=p.profile_id,
                        from_staff=from_staff,
                        to_staff=to,
                        reason="existing_relationship",
                    )
                )
                continue
            team = members[from_staff].team if from_staff in members else None
            pool = [
                s
                for s in remaining
                if keep_team and team is not None and members[s].team == team and s not in owners
            ]
            reason: Literal["same_team", "balance_load"] = "same_team"
            if not pool:
                pool = [s for s in remaining if s not in owners] or owners
                reason = "balance_load"
            to = min(pool, key=lambda s: (load[s], s))
            load[to] += 1
            owners.append(to)
            moves.append(
                Move(profile_id=p.profile_id, from_staff=from_staff, to_staff=to, reason=reason)
            )
    return ReassignmentPlan(moves=tuple(moves), loads=dict(sorted(load.items())))


#: Why a customer moves to another staff member (recorded as the ended relationship's reason).
TRANSFER_REASONS = ("staff_left", "reassigned", "customer_request")


@boundary
def transfer(
    profile: Profile,
    move: Move,
    *,
    at: dt.datetime,
    carry_private: bool = False,
    why: Literal["staff_left", "reassigned", "customer_request"] = "staff_left",
) -> Profile:
    """Apply one :class:`Move`: end the leaver's relationship, start (or keep) the new owner's.

    ``why`` is recorded as the ended relationship's ``end_reason``: ``staff_left`` (the default,
    WeCom's 离职继承), ``reassigned`` (在职继承: a manager moves the customer) or
    ``customer_request``.

    The new relationship starts ``how="assignment"`` with the leaver's follow-up state. The
    leaver's private tags and notes move along only with ``carry_private=True`` (they were
    that staff member's own).

    Examples
    --------
    >>> import datetime as dt
    >>> from clientmodel.profile.relationships import start_relationship
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> p = start_relationship(Profile(profile_id="p"), "s1", at=t, how="search")
    >>> m = Move(profile_id="p", from_staff="s1", to_staff="s2", reason="balance_load")
    >>> transfer(p, m, at=t + dt.timedelta(days=1)).owners
    ('s2',)
    """
    check_instance(profile, Profile, "profile")
    check_instance(move, Move, "move")
    at = aware(at, "at")
    if move.profile_id != profile.profile_id:
        raise ArgumentError(
            f"the move is for profile {move.profile_id!r}, not {profile.profile_id!r}",
            field="profile_id",
        )
    old = profile.relationship(move.from_staff)
    if old is None:
        raise DataError(
            f"profile {profile.profile_id!r} has no relationship with {move.from_staff!r}",
            field="from_staff",
        )
    if why not in TRANSFER_REASONS:
        raise ArgumentError(
            f"why={why!r} is not a transfer reason; use one of {list(TRANSFER_REASONS)}",
            field="why",
        )
    out = end_relationship(profile, move.from_staff, at=at, reason=why)
    existing = out.relationship(move.to_staff)
    if existing is None or not existing.active:
        out = start_relationship(
            out, move.to_staff, at=at, how="assignment", follow_up=old.follow_up
        )
    if carry_private and (old.tags or old.notes):
        rel = out.relationship(move.to_staff)
        assert rel is not None
        tags = {a.tag: a for a in old.tags} | {a.tag: a for a in rel.tags}
        notes = sorted({*rel.notes, *old.notes}, key=lambda n: (n.at, n.text))
        rel = rel.model_copy(
            update={"tags": tuple(tags[t] for t in sorted(tags)), "notes": tuple(notes)}
        )
        rels = tuple(rel if r.staff_id == rel.staff_id else r for r in out.relationships)
        out = out.model_copy(update={"relationships": rels})
    return out
