"""Adding, removing and expiring tags: pure functions returning a new profile and the changes.

Company tags live on the profile (:attr:`Profile.tags`); a staff member's private tags live on
that staff member's relationship (pass ``staff_id``). With a :class:`TagCatalog`:

* a tag of an **exclusive** group replaces the group's current tag (the change list shows the
  removal, with ``reason="replaced by <tag>"``, then the addition);
* a tag of an **open** group accumulates;
* a tag in no group is refused with a :class:`~clientmodel.errors.DataError` when the catalog
  is enforced (``TagCatalog(enforce=True)``, the default), and kept ungrouped otherwise.

Without a catalog every tag is open and ungrouped. Private tags are the staff member's own
vocabulary and are never checked against the catalog. Every function returns
``(new_profile, changes)`` where ``changes`` is a list of :class:`TagChange` records (empty when
nothing changed); the profile passed in is never modified.

Examples
--------
>>> import datetime as dt
>>> from clientmodel.profile.models import Profile, TagCatalog, TagGroup
>>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
>>> cat = TagCatalog(groups=[TagGroup(group_id="tier", exclusive=True, tags=("silver", "gold"))])
>>> p, _ = add_tag(Profile(profile_id="p1"), "silver", at=t, catalog=cat)
>>> p, changes = add_tag(p, "gold", at=t, catalog=cat)
>>> sorted(p.tag_ids), [(c.action, c.tag) for c in changes]
(['gold'], [('removed', 'silver'), ('added', 'gold')])
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from clientmodel._validation import boundary
from clientmodel.errors import ArgumentError, DataError
from clientmodel.profile._common import aware, check_instance
from clientmodel.profile.models import (
    DEFAULT_MAX_TAG_LENGTH,
    TAG_SOURCES,
    Profile,
    StaffRelationship,
    TagAssignment,
    TagCatalog,
    TagSource,
)

__all__ = ["TagChange", "add_tag", "expire_tags", "remove_tag", "tags_of"]


class TagChange(BaseModel):
    """One change to a profile's tags.

    Attributes
    ----------
    profile_id:
        The profile changed.
    action:
        ``added``, ``updated`` (an existing tag got a new source, assigner or expiry),
        ``removed`` or ``expired``.
    tag, group:
        The tag and its group.
    staff_id:
        The staff member whose private tag changed (``None`` for a company tag).
    source, assigned_by:
        Source and assigner of the assignment added, or of the one removed.
    by:
        Who made the change (a staff id, a rule, a channel code ...), when known.
    at:
        When the change took effect.
    reason:
        Why, in words (``"replaced by gold"``, ``"rule no longer holds"`` ...).

    Examples
    --------
    >>> import datetime as dt
    >>> TagChange(profile_id="p", action="added", tag="vip", source="manual",
    ...           at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)).action
    'added'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    profile_id: str
    action: Literal["added", "updated", "removed", "expired"]
    tag: str
    group: str | None = None
    staff_id: str | None = None
    source: TagSource
    assigned_by: str | None = None
    by: str | None = None
    at: AwareDatetime
    reason: str | None = None


def _change(
    profile_id: str,
    action: Literal["added", "updated", "removed", "expired"],
    a: TagAssignment,
    *,
    staff_id: str | None,
    at: dt.datetime,
    by: str | None,
    reason: str | None = None,
) -> TagChange:
    return TagChange.model_construct(
        profile_id=profile_id,
        action=action,
        tag=a.tag,
        group=a.group,
        staff_id=staff_id,
        source=a.source,
        assigned_by=a.assigned_by,
        by=by,
        at=at,
        reason=reason,
    )


def _relationship(profile: Profile, staff_id: str) -> StaffRelationship:
    rel = profile.relationship(staff_id)
    if rel is None:
        raise DataError(
            f"profile {profile.profile_id!r} has no relationship with staff {staff_id!r}; "
            f"private tags need one (staff with a relationship: "
            f"{[r.staff_id for r in profile.relationships]})",
            field="staff_id",
        )
    return rel


def _with_tags(profile: Profile, staff_id: str | None, tags: tuple[TagAssignment, ...]) -> Profile:
    tags = tuple(sorted(tags, key=lambda a: a.tag))
    if staff_id is None:
        return profile.model_copy(update={"tags": tags})
    rels = tuple(
        r.model_copy(update={"tags": tags}) if r.staff_id == staff_id else r
        for r in profile.relationships
    )
    return profile.model_copy(update={"relationships": rels})


@boundary
def tags_of(profile: Profile, staff_id: str | None = None) -> tuple[TagAssignment, ...]:
    """The company tags, or ``staff_id``'s private tags on this profile.

    Examples
    --------
    >>> tags_of(Profile(profile_id="p"))
    ()
    """
    check_instance(profile, Profile, "profile")
    if staff_id is None:
        return profile.tags
    return _relationship(profile, staff_id).tags


def _resolve_group(
    tag: str, catalog: TagCatalog | None, group: str | None, staff_id: str | None
) -> tuple[str | None, bool]:
    """The group id and whether it is exclusive."""
    if staff_id is not None or catalog is None:
        return group, False
    found = catalog.group_of(tag)
    if found is None:
        if catalog.enforce:
            known = {g.group_id: list(g.tags) for g in catalog.groups}
            raise DataError(
                f"tag {tag!r} is not in any group of the tag catalog; known groups and tags: "
                f"{known}. Add the tag to a group, or use TagCatalog(enforce=False) to allow "
                "ungrouped tags",
                field="tag",
            )
        return group, False
    if group is not None and group != found.group_id:
        raise ArgumentError(
            f"tag {tag!r} belongs to group {found.group_id!r} in the catalog, not {group!r}",
            field="group",
        )
    return found.group_id, found.exclusive


@boundary
def add_tag(
    profile: Profile,
    tag: str,
    *,
    at: dt.datetime,
    source: TagSource = "manual",
    assigned_by: str | None = None,
    expires_at: dt.datetime | None = None,
    staff_id: str | None = None,
    catalog: TagCatalog | None = None,
    group: str | None = None,
) -> tuple[Profile, list[TagChange]]:
    """Add a company tag (or, with ``staff_id``, a private tag) to a profile.

    Parameters
    ----------
    profile:
        The profile; it is not modified.
    tag:
        The tag id.
    at:
        When the tag is assigned (timezone-aware).
    source:
        ``manual``, ``rule``, ``channel_code``, ``import`` or ``model``.
    assigned_by:
        Who or what assigns it (staff id, rule, code, model name).
    expires_at:
        Optional expiry (after ``at``).
    staff_id:
        Put the tag on this staff member's relationship (a private tag) instead of the profile.
    catalog:
        Tag groups: exclusive groups replace, open groups accumulate, unknown tags are refused
        when the catalog is enforced.
    group:
        The group id for tags outside a catalog (recorded only; such tags are open).

    Returns
    -------
    (Profile, list[TagChange])
        The new profile and the changes (``[]`` when the same assignment is already there).

    Raises
    ------
    DataError
        Unknown tag under an enforced catalog, or a private tag without a relationship.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> p, changes = add_tag(Profile(profile_id="p1"), "vip", at=t)
    >>> p.tag_ids, changes[0].action
    (frozenset({'vip'}), 'added')
    >>> add_tag(p, "vip", at=t)[1]
    []
    """
    at = aware(at, "at")
    if expires_at is not None:
        expires_at = aware(expires_at, "expires_at")
    if source not in TAG_SOURCES:
        raise ArgumentError(
            f"source={source!r} is not a tag source; use one of {list(TAG_SOURCES)}",
            field="source",
        )
    if not isinstance(tag, str) or not tag or tag != tag.strip():
        raise ArgumentError(
            f"tag={tag!r} is not a tag id; use non-empty text without surrounding spaces",
            field="tag",
        )
    longest = DEFAULT_MAX_TAG_LENGTH if catalog is None else catalog.max_tag_length
    if len(tag) > longest:
        raise DataError(
            f"tag {tag[:40]!r}... has {len(tag)} characters; tag names have at most {longest} "
            "(WeCom's limit is 30; raise TagCatalog.max_tag_length to allow longer names)",
            field="tag",
        )
    group_id, exclusive = _resolve_group(tag, catalog, group, staff_id)
    try:
        new = TagAssignment(
            tag=tag,
            group=group_id,
            source=source,
            assigned_by=assigned_by,
            at=at,
            expires_at=expires_at,
        )
    except ValueError as exc:
        raise ArgumentError(f"tag {tag!r} cannot be assigned: {exc}", field="tag") from None
    current = tags_of(profile, staff_id)
    by = assigned_by
    changes: list[TagChange] = []
    kept: list[TagAssignment] = []
    pid = profile.profile_id
    for old in current:
        if old.tag == tag:
            same = (old.source, old.assigned_by, old.expires_at, old.group) == (
                new.source,
                new.assigned_by,
                new.expires_at,
                new.group,
            )
            if same:
                return profile, []
            changes.append(_change(pid, "updated", new, staff_id=staff_id, at=at, by=by))
            continue
        if exclusive and old.group == group_id:
            changes.append(
                _change(
                    pid,
                    "removed",
                    old,
                    staff_id=staff_id,
                    at=at,
                    by=by,
                    reason=f"replaced by {tag}",
                )
            )
            continue
        kept.append(old)
    if not any(c.action == "updated" for c in changes):
        changes.append(_change(pid, "added", new, staff_id=staff_id, at=at, by=by))
    kept.append(new)
    return _with_tags(profile, staff_id, tuple(kept)), changes


@boundary
def remove_tag(
    profile: Profile,
    tag: str,
    *,
    at: dt.datetime,
    by: str | None = None,
    staff_id: str | None = None,
    reason: str | None = None,
) -> tuple[Profile, list[TagChange]]:
    """Remove a company tag (or ``staff_id``'s private tag); no change if it is absent.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> p, _ = add_tag(Profile(profile_id="p1"), "vip", at=t)
    >>> p, changes = remove_tag(p, "vip", at=t, by="s1")
    >>> p.tag_ids, changes[0].action
    (frozenset(), 'removed')
    """
    at = aware(at, "at")
    current = tags_of(profile, staff_id)
    kept = tuple(a for a in current if a.tag != tag)
    if len(kept) == len(current):
        return profile, []
    old = next(a for a in current if a.tag == tag)
    change = _change(
        profile.profile_id, "removed", old, staff_id=staff_id, at=at, by=by, reason=reason
    )
    return _with_tags(profile, staff_id, kept), [change]


@boundary
def expire_tags(profile: Profile, as_of: dt.datetime) -> tuple[Profile, list[TagChange]]:
    """Remove every company and private tag whose ``expires_at`` is at or before ``as_of``.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> p, _ = add_tag(Profile(profile_id="p1"), "trial", at=t,
    ...                expires_at=t + dt.timedelta(days=7))
    >>> p, changes = expire_tags(p, t + dt.timedelta(days=7))
    >>> p.tag_ids, [(c.action, c.at.day) for c in changes]
    (frozenset(), [('expired', 8)])
    """
    as_of = aware(as_of, "as_of")
    changes: list[TagChange] = []

    def sweep(tags: tuple[TagAssignment, ...], staff_id: str | None) -> tuple[TagAssignment, ...]:
        kept = []
        for a in tags:
            if a.expires_at is not None and a.expires_at <= as_of:
                changes.append(
                    _change(
                        profile.profile_id,
                        "expired",
                        a,
                        staff_id=staff_id,
                        at=a.expires_at,
                        by=None,
                        reason="expired",
                    )
                )
            else:
                kept.append(a)
        return tuple(kept)

    new_tags = sweep(profile.tags, None)
    rels = []
    for rel in profile.relationships:
        kept = sweep(rel.tags, rel.staff_id)
        rels.append(rel if len(kept) == len(rel.tags) else rel.model_copy(update={"tags": kept}))
    if not changes:
        return profile, []
    update: dict[str, Any] = {"tags": new_tags, "relationships": tuple(rels)}
    return profile.model_copy(update=update), changes
