"""Staff relationships: starting and ending them, follow-up states and private notes.

A profile holds one :class:`~clientmodel.profile.models.StaffRelationship` per staff member who
added the customer. Starting a relationship that already exists and is active changes nothing;
starting one that has ended re-opens it (new ``started_at`` and ``how``, private tags and notes
kept). Ending one records when and why -- churn is per relationship: a customer who deletes one
staff member may still be another's. All functions are pure: they return a new profile.

Examples
--------
>>> import datetime as dt
>>> from clientmodel.profile.models import Profile
>>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
>>> p = start_relationship(Profile(profile_id="p1"), "s1", at=t, how="search")
>>> p = set_follow_up(p, "s1", "in_follow_up", at=t)
>>> p.owners, p.relationship("s1").follow_up
(('s1',), 'in_follow_up')
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, get_args

from clientmodel._validation import boundary, check_choice
from clientmodel.errors import ArgumentError, DataError
from clientmodel.profile._common import aware
from clientmodel.profile.models import (
    FOLLOW_UP_STATES,
    FollowUpState,
    Note,
    Profile,
    RelationshipStart,
    StaffRelationship,
)

__all__ = ["add_note", "end_relationship", "set_follow_up", "start_relationship"]

EndReason = Literal[
    "customer_deleted",
    "staff_deleted",
    "staff_left",
    "transferred",
    "reassigned",
    "customer_request",
]
_HOWS = ("code_scan", "search", "share", "assignment")


def _replace(profile: Profile, rel: StaffRelationship) -> Profile:
    others = [r for r in profile.relationships if r.staff_id != rel.staff_id]
    rels = tuple(sorted([*others, rel], key=lambda r: r.staff_id))
    return profile.model_copy(update={"relationships": rels})


def _existing(profile: Profile, staff_id: str) -> StaffRelationship:
    rel = profile.relationship(staff_id)
    if rel is None:
        raise DataError(
            f"profile {profile.profile_id!r} has no relationship with staff {staff_id!r} "
            f"(staff with one: {[r.staff_id for r in profile.relationships]})",
            field="staff_id",
        )
    return rel


@boundary
def start_relationship(
    profile: Profile,
    staff_id: str,
    *,
    at: dt.datetime,
    how: RelationshipStart,
    channel_code: str | None = None,
    follow_up: FollowUpState = "awaiting",
) -> Profile:
    """Start (or re-open) ``staff_id``'s relationship with the customer.

    Parameters
    ----------
    staff_id:
        The staff member.
    at:
        When it started (timezone-aware).
    how:
        ``code_scan``, ``search``, ``share`` or ``assignment``.
    channel_code:
        The channel code scanned, if any.
    follow_up:
        Initial follow-up state (default ``awaiting``).

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> start_relationship(Profile(profile_id="p"), "s1", at=t, how="share").owners
    ('s1',)
    """
    at = aware(at, "at")
    check_choice(how, "how", _HOWS)
    if follow_up not in FOLLOW_UP_STATES:
        raise ArgumentError(
            f"follow_up={follow_up!r} is not a follow-up state; use one of "
            f"{list(FOLLOW_UP_STATES)}",
            field="follow_up",
        )
    if not isinstance(staff_id, str) or not staff_id or staff_id != staff_id.strip():
        raise ArgumentError(f"staff_id={staff_id!r} is not a staff id", field="staff_id")
    old = profile.relationship(staff_id)
    if old is not None and old.active:
        return profile
    if old is None:
        rel = StaffRelationship(
            staff_id=staff_id,
            started_at=at,
            how=how,
            channel_code=channel_code,
            follow_up=follow_up,
            follow_up_at=at,
        )
    else:
        rel = old.model_copy(
            update={
                "started_at": at,
                "how": how,
                "channel_code": channel_code,
                "follow_up": follow_up,
                "follow_up_at": at,
                "ended_at": None,
                "end_reason": None,
            }
        )
    return _replace(profile, rel)


@boundary
def end_relationship(
    profile: Profile, staff_id: str, *, at: dt.datetime, reason: EndReason = "customer_deleted"
) -> Profile:
    """End ``staff_id``'s relationship (``customer_deleted``, ``staff_deleted``, ``staff_left``,
    ``transferred``, ``reassigned``, ``customer_request``). Ending an already ended relationship
    changes nothing.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> p = start_relationship(Profile(profile_id="p"), "s1", at=t, how="search")
    >>> end_relationship(p, "s1", at=t).owners
    ()
    """
    at = aware(at, "at")
    reasons = get_args(EndReason)
    if reason not in reasons:
        raise ArgumentError(
            f"reason={reason!r} is not accepted; use one of {list(reasons)}", field="reason"
        )
    rel = _existing(profile, staff_id)
    if not rel.active:
        return profile
    if at < rel.started_at:
        raise DataError(
            f"relationship with {staff_id!r} started {rel.started_at.isoformat()}; it cannot "
            f"end earlier ({at.isoformat()})",
            field="at",
        )
    return _replace(profile, rel.model_copy(update={"ended_at": at, "end_reason": reason}))


@boundary
def set_follow_up(
    profile: Profile, staff_id: str, state: FollowUpState, *, at: dt.datetime
) -> Profile:
    """Set the follow-up state of ``staff_id``'s relationship.

    States: ``awaiting``, ``in_follow_up``, ``won``, ``no_intent``, ``lost``. An update older
    than the current state's time is ignored (the newer state stands), so updates may arrive in
    any order.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> p = start_relationship(Profile(profile_id="p"), "s1", at=t, how="search")
    >>> set_follow_up(p, "s1", "won", at=t).relationship("s1").follow_up
    'won'
    """
    at = aware(at, "at")
    if state not in FOLLOW_UP_STATES:
        raise ArgumentError(
            f"state={state!r} is not a follow-up state; use one of {list(FOLLOW_UP_STATES)}",
            field="state",
        )
    rel = _existing(profile, staff_id)
    if rel.follow_up_at is not None and at < rel.follow_up_at:
        return profile
    return _replace(profile, rel.model_copy(update={"follow_up": state, "follow_up_at": at}))


@boundary
def add_note(profile: Profile, staff_id: str, text: str, *, at: dt.datetime) -> Profile:
    """Add ``staff_id``'s private note to their relationship with the customer.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> p = start_relationship(Profile(profile_id="p"), "s1", at=t, how="search")
    >>> len(add_note(p, "s1", "asked about the serum", at=t).relationship("s1").notes)
    1
    """
    at = aware(at, "at")
    if not isinstance(text, str) or not text.strip():
        raise ArgumentError("a note needs non-empty text", field="text")
    rel = _existing(profile, staff_id)
    note = Note(text=text, at=at)
    notes = tuple(sorted([*rel.notes, note], key=lambda n: (n.at, n.text)))
    return _replace(profile, rel.model_copy(update={"notes": notes}))
