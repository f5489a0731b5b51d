"""Consent per channel and purpose, contactability, redaction and erasure.

* :func:`set_consent` records the person's decision for one channel, optionally for one purpose
  (``marketing``, ``analytics``, ``personalisation`` ...; channel ``any`` for every channel),
  with its source, time and legal basis; a decision older than the one on file is ignored, and a
  decision newer than every disagreeing record resolves a merge conflict (see
  :mod:`clientmodel.profile.merge`).
* :func:`can_contact` is true only for a granted, started, unexpired consent with no open
  conflict: unknown means no. For a purpose, the most specific record decides:
  ``channel:purpose``, then ``any:purpose``, then the channel's own record.
* :func:`redact` strips what identifies a person before a profile leaves your system: identifiers
  (removed, or replaced by salted HMAC hashes so exports can still be joined), personal traits,
  staff notes and event properties.
* :func:`erase` plans a right-to-erasure request: what to delete across profiles, identity
  records, events and staff relationships (the library holds no storage, so it returns the plan),
  and the identity resolution without the erased records.

Nothing in :mod:`clientmodel.profile` logs anything, and error messages name profile ids, event
ids and field names -- never identifier values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from typing import Any, ClassVar, Literal

import attrs
from pydantic import ValidationError

from clientmodel._validation import boundary, check_choice, check_sequence, key_path, read_form
from clientmodel.errors import ArgumentError, ClientModelError
from clientmodel.identity.kinds import Identifier, hash_identifier
from clientmodel.profile._common import aware, check_instance
from clientmodel.profile.models import Activity, Consent, Event, LegalBasis, Profile

__all__ = [
    "PERSONAL_TRAITS",
    "PURPOSES",
    "ErasurePlan",
    "can_contact",
    "contactable_channels",
    "erase",
    "redact",
    "set_consent",
]

#: Purposes named in the docs (Segment's consent categories); any snake_case name is accepted.
PURPOSES: tuple[str, ...] = (
    "marketing",
    "analytics",
    "personalisation",
    "advertising",
    "service",
)
#: The channel of a purpose decision that holds on every channel.
ANY_CHANNEL = "any"

#: Trait names :func:`redact` drops by default: they identify or locate a person.
PERSONAL_TRAITS: frozenset[str] = frozenset(
    {
        "name",
        "real_name",
        "full_name",
        "first_name",
        "last_name",
        "nickname",
        "wechat_nickname",
        "avatar",
        "avatar_url",
        "phone",
        "phone_number",
        "mobile",
        "mobile_phone",
        "email",
        "email_address",
        "wechat_id",
        "address",
        "street",
        "postcode",
        "zip",
        "birthday",
        "birth_date",
        "date_of_birth",
        "id_card",
        "id_number",
        "passport",
        "ip",
        "ip_address",
        "location",
        "latitude",
        "longitude",
    }
)


def _channel(channel: str) -> str:
    if not isinstance(channel, str) or not channel:
        raise ArgumentError(f"channel={channel!r} is not a channel name", field="channel")
    return channel


def _key(channel: str, purpose: str | None) -> str:
    """The consent key: ``channel`` or ``channel:purpose``."""
    channel = _channel(channel)
    if purpose is None:
        return channel
    if not isinstance(purpose, str) or not purpose or ":" in purpose:
        raise ArgumentError(
            f"purpose={purpose!r} is not a purpose name; use a snake_case name such as "
            f"{list(PURPOSES)}",
            field="purpose",
        )
    return f"{channel}:{purpose}"


@boundary
def set_consent(
    profile: Profile,
    channel: str,
    status: Literal["granted", "denied"],
    *,
    at: dt.datetime,
    source: str | None = None,
    expires_at: dt.datetime | None = None,
    purpose: str | None = None,
    legal_basis: LegalBasis | None = None,
) -> Profile:
    """Record the person's consent decision for ``channel`` (and ``purpose``) at ``at``.

    Returns the profile unchanged when a newer decision is already on file (updates may arrive in
    any order). A decision at or after every record of an open conflict resolves it.

    Parameters
    ----------
    profile:
        The profile (not modified).
    channel:
        A contact channel (``sms``, ``email``, ``wecom`` ...), or ``any`` with a purpose.
    status:
        ``granted`` or ``denied``.
    at:
        When the person decided (timezone-aware).
    source:
        Where the decision was collected (a form, a channel code, a call).
    expires_at:
        When a grant lapses.
    purpose:
        The purpose the decision covers (``marketing``, ``analytics``, ...; see
        :data:`PURPOSES`); ``None`` for the channel as a whole.
    legal_basis:
        The ground of processing (``consent``, ``contract``, ``legitimate_interests`` ...).

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> p = set_consent(Profile(profile_id="p"), "sms", "granted", at=t)
    >>> can_contact(p, "sms", t), can_contact(p, "email", t)
    (True, False)
    >>> p = set_consent(p, "sms", "denied", at=t, purpose="marketing", source="unsubscribe")
    >>> can_contact(p, "sms", "marketing", t), can_contact(p, "sms", "service", t)
    (False, True)
    """
    at = aware(at, "at")
    check_choice(status, "status", ("granted", "denied"))
    try:
        record = Consent(
            status=status,
            at=at,
            source=source,
            expires_at=None if expires_at is None else aware(expires_at, "expires_at"),
            legal_basis=legal_basis,
        )
    except ValueError as exc:
        field = "legal_basis" if "legal_basis" in str(exc) else "expires_at"
        raise ArgumentError(f"consent for {channel!r}: {exc}", field=field) from None
    key = _key(channel, purpose)
    conflicts = dict(profile.consent_conflicts)
    if key in conflicts:
        if at < max(c.at for c in conflicts[key]):
            return profile
        del conflicts[key]
    else:
        old = profile.consent.get(key)
        if old is not None and old.at > at:
            return profile
    consent = dict(profile.consent)
    consent[key] = record
    try:
        return Profile.model_validate(
            {
                **{name: getattr(profile, name) for name in Profile.model_fields},
                "consent": consent,
                "consent_conflicts": conflicts,
            }
        )
    except ValidationError as exc:
        raise ArgumentError(
            f"consent key {key!r} is not accepted: use snake_case channel and purpose names",
            field="channel",
        ) from exc


def _allows(profile: Profile, key: str, as_of: dt.datetime) -> bool | None:
    """What the record under ``key`` says at ``as_of`` (``None``: no record)."""
    if key in profile.consent_conflicts:
        return False
    c = profile.consent.get(key)
    if c is None:
        return None
    if c.status != "granted" or c.at > as_of:
        return False
    return c.expires_at is None or as_of < c.expires_at


@boundary
def can_contact(
    profile: Profile,
    channel: str,
    purpose: str | dt.datetime | None = None,
    as_of: dt.datetime | None = None,
) -> bool:
    """Whether the person may be contacted on ``channel`` (for ``purpose``) at ``as_of``.

    Called as ``can_contact(profile, channel, as_of)`` or
    ``can_contact(profile, channel, purpose, as_of)``. True only when the deciding record is
    ``granted``, given at or before ``as_of``, not expired (``as_of < expires_at``), and not in
    conflict after a merge. For a purpose the most specific record decides: ``channel:purpose``,
    then ``any:purpose``, then the channel's own record; no record means no.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> p = set_consent(Profile(profile_id="p"), "email", "granted", at=t,
    ...                 expires_at=t + dt.timedelta(days=365))
    >>> day = dt.timedelta(days=1)
    >>> can_contact(p, "email", t + 10 * day), can_contact(p, "email", t - day)
    (True, False)
    >>> can_contact(p, "email", "marketing", t + day)
    True
    """
    check_instance(profile, Profile, "profile")
    if isinstance(purpose, dt.datetime) or (purpose is not None and as_of is None):
        if as_of is not None:
            raise ArgumentError(
                "give can_contact(profile, channel, as_of) or (profile, channel, purpose, as_of)",
                field="purpose",
            )
        purpose, as_of = None, purpose
    if as_of is None:
        raise ArgumentError("can_contact needs as_of (a timezone-aware datetime)", field="as_of")
    as_of = aware(as_of, "as_of")
    keys = [_key(channel, None)]
    if purpose is not None:
        assert isinstance(purpose, str) or purpose is None
        keys = [_key(channel, purpose), _key(ANY_CHANNEL, purpose), *keys]
    for key in keys:
        said = _allows(profile, key, as_of)
        if said is not None:
            return said
    return False


@boundary
def contactable_channels(
    profile: Profile, as_of: dt.datetime, purpose: str | None = None
) -> tuple[str, ...]:
    """The channels :func:`can_contact` allows at ``as_of`` (for ``purpose``), sorted.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> contactable_channels(set_consent(Profile(profile_id="p"), "sms", "granted", at=t), t)
    ('sms',)
    """
    check_instance(profile, Profile, "profile")
    channels = {k.partition(":")[0] for k in profile.consent} - {ANY_CHANNEL}
    if purpose is None:
        return tuple(c for c in sorted(channels) if can_contact(profile, c, as_of))
    return tuple(c for c in sorted(channels) if can_contact(profile, c, purpose, as_of))


@boundary
def redact(
    profile: Profile,
    *,
    salt: bytes | None = None,
    keep_traits: Collection[str] | None = None,
    drop_traits: Collection[str] = PERSONAL_TRAITS,
) -> Profile:
    """A copy of the profile that is safe to export.

    * identifiers: replaced by their salted HMAC-SHA256 (with ``salt``, at least 16 bytes; the
      same salt gives the same hashes, so exports still join) or removed (without ``salt``);
    * traits: only ``keep_traits`` when given, otherwise all but ``drop_traits``
      (:data:`PERSONAL_TRAITS` by default);
    * staff notes: removed (free text may say anything); private tags are kept;
    * events kept for rules: their free-form ``properties`` are removed.

    Counters, scores, tags, consent, relationships and attribution are kept.

    Examples
    --------
    >>> p = Profile(profile_id="p", identifiers=[{"kind": "phone", "value": "+8613800138000"}],
    ...             traits={"name": {"value": "Li Na"}, "tier": {"value": "gold"}})
    >>> r = redact(p)
    >>> r.identifiers, sorted(r.traits)
    ((), ['tier'])
    >>> redact(p, salt=b"0123456789abcdef").identifiers[0].hashed
    True
    """
    identifiers: tuple[Identifier, ...] = ()
    if salt is not None:
        hashed = [hash_identifier(i, salt) for i in profile.identifiers]
        identifiers = tuple(sorted(hashed, key=lambda i: i.key))
    if keep_traits is not None:
        keep = set(keep_traits)
        traits = {k: v for k, v in profile.traits.items() if k in keep}
    else:
        drop = set(drop_traits)
        traits = {k: v for k, v in profile.traits.items() if k not in drop}
    rels = tuple(
        r.model_copy(update={"notes": ()}) if r.notes else r for r in profile.relationships
    )
    act = profile.activity
    events = tuple(
        e.model_copy(update={"properties": {}}) if e.properties else e for e in act.recent_events
    )
    activity: Activity = act.model_copy(update={"recent_events": events})
    return profile.model_copy(
        update={
            "identifiers": identifiers,
            "traits": traits,
            "relationships": rels,
            "activity": activity,
        }
    )


@attrs.frozen
class ErasurePlan:
    """What to delete to erase people, across every store that may hold them.

    The library holds no storage, so an erasure is a plan the caller carries out (and can keep as
    evidence of what was deleted). Identifier values appear in :meth:`to_dict` (the caller needs
    them to delete the links) but never in the ``repr``.

    Attributes
    ----------
    profile_ids:
        The profiles to delete.
    record_ids:
        The identity records (CRM rows, app installs, web sessions ...) that resolved into them.
    identifiers:
        Every identifier of those profiles and records: the identity links to delete.
    event_ids:
        The events of those profiles (from ``profiles`` and ``events``).
    relationships:
        ``(profile_id, staff_id)`` pairs: staff relationships, with their notes and private tags.
    resolution:
        The identity resolution without the erased records (``None`` when none was given), equal
        to resolving the remaining records from scratch.

    Examples
    --------
    >>> plan = erase("p1", profiles=[Profile(profile_id="p1")])
    >>> plan.profile_ids, plan.event_ids
    (('p1',), ())
    """

    profile_ids: tuple[str, ...]
    record_ids: tuple[Any, ...]
    identifiers: tuple[Identifier, ...]
    event_ids: tuple[str, ...]
    relationships: tuple[tuple[str, str], ...]
    resolution: Any = None

    _FORM: ClassVar[dict[str, Any]] = {
        "record_ids": lambda value, path: tuple(
            _record_id(v, key_path(path, i)) for i, v in enumerate(check_sequence(value, path))
        ),
        "resolution": lambda value, path: _read_resolution(value, path),
    }

    def __attrs_post_init__(self) -> None:
        for name in ("profile_ids", "record_ids", "event_ids", "relationships"):
            items = getattr(self, name)
            if len(set(items)) != len(items):
                raise ArgumentError(f"{name} must not repeat an entry", field=name)
        keys = [i.key for i in self.identifiers]
        if len(set(keys)) != len(keys):
            raise ArgumentError("identifiers must not repeat an identifier", field="identifiers")
        for n, (profile_id, _) in enumerate(self.relationships):
            if profile_id not in self.profile_ids:
                raise ArgumentError(
                    f"relationships[{n}] names profile {profile_id!r}, which is not among the "
                    "erased profile_ids",
                    field=f"relationships[{n}]",
                )

    def __repr__(self) -> str:
        return (
            f"ErasurePlan(profiles={len(self.profile_ids)}, records={len(self.record_ids)}, "
            f"identifiers={len(self.identifiers)}, events={len(self.event_ids)}, "
            f"relationships={len(self.relationships)})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (the resolution as its own export, or ``None``).

        Examples
        --------
        >>> erase("p1").to_dict()["profile_ids"]
        ['p1']
        """
        return {
            "profile_ids": list(self.profile_ids),
            "record_ids": list(self.record_ids),
            "identifiers": [i.model_dump(mode="json") for i in self.identifiers],
            "event_ids": list(self.event_ids),
            "relationships": [list(r) for r in self.relationships],
            "resolution": None if self.resolution is None else self.resolution.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ErasurePlan:
        """Rebuild from :meth:`to_dict` output.

        Examples
        --------
        >>> plan = erase("p1")
        >>> ErasurePlan.from_dict(plan.to_dict()) == plan
        True
        """
        return read_form(cls, data)


def _record_id(value: Any, path: str) -> str | int:
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ArgumentError(
        f"{path} must be a record id (text or an integer), got {type(value).__name__}",
        field=path,
    )


def _read_resolution(value: Any, path: str) -> Any:
    """The resolution's own export (or ``None``), read by ``Resolution.from_dict``."""
    from clientmodel.identity.resolution import Resolution

    if value is None:
        return None
    try:
        return Resolution.from_dict(value)
    except ClientModelError as exc:
        raise ArgumentError(f"{path}: {exc}", field=path) from exc


def _subject_ids(subject: Any) -> list[str]:
    items = [subject] if isinstance(subject, (str, Profile)) else subject
    try:
        items = list(items)
    except TypeError:
        raise ArgumentError(
            f"erase needs a profile, a profile id or a list of them, got {type(subject).__name__}",
            field="subject",
        ) from None
    out = []
    for i, item in enumerate(items):
        pid = item.profile_id if isinstance(item, Profile) else item
        if not isinstance(pid, str) or not pid:
            raise ArgumentError(
                f"subject[{i}] is {type(item).__name__}, not a profile or a profile id",
                field="subject",
            )
        out.append(pid)
    if not out:
        raise ArgumentError("erase needs at least one profile", field="subject")
    return out


@boundary
def erase(
    subject: Profile | str | Iterable[Profile | str],
    *,
    profiles: Iterable[Profile] = (),
    events: Iterable[Event | Mapping[str, Any]] = (),
    resolution: Any = None,
) -> ErasurePlan:
    """Plan the erasure of one or more people (GDPR art. 17, PIPL art. 47).

    Parameters
    ----------
    subject:
        The profile(s) to erase, or their ids. With ``resolution``, ids are its profile ids.
    profiles:
        Profile records that may hold the subject's identifiers, relationships and events.
    events:
        Event records (or mappings with ``profile_id`` and ``event_id``) to search for the
        subject's events.
    resolution:
        A :class:`~clientmodel.identity.resolution.Resolution`: every record of the subject's
        profiles is erased, and the plan carries the resolution without them.

    Returns
    -------
    ErasurePlan

    Examples
    --------
    >>> from clientmodel.identity.resolution import resolve
    >>> res = resolve([
    ...     {"record_id": "crm-1", "identifiers": [("email", "li.na@example.com")]},
    ...     {"record_id": "app-7", "identifiers": [("email", "li.na@example.com")]},
    ...     {"record_id": "crm-2", "identifiers": [("email", "wang@example.com")]},
    ... ])
    >>> plan = erase("app-7", resolution=res)
    >>> plan.record_ids, plan.resolution.record_ids.tolist()
    (('app-7', 'crm-1'), ['crm-2'])
    """
    wanted = _subject_ids(subject)
    given = [subject] if isinstance(subject, Profile) else []
    if not isinstance(subject, (str, Profile)):
        given = [s for s in subject if isinstance(s, Profile)]
    ids = set(wanted)
    identifiers: dict[str, Identifier] = {}
    event_ids: set[str] = set()
    relationships: set[tuple[str, str]] = set()
    record_ids: list[Any] = []
    new_resolution = None
    if resolution is not None:
        from clientmodel.identity.resolution import Resolution, without_records

        if not isinstance(resolution, Resolution):
            raise ArgumentError(
                f"resolution must be a Resolution, got {type(resolution).__name__}",
                field="resolution",
            )
        resolved = {}
        for pid in wanted:
            try:
                resolved[pid] = resolution.profile(resolution.profile_of(pid))
            except ArgumentError:
                raise ArgumentError(
                    f"{pid!r} is not a record or profile id of the resolution", field="subject"
                ) from None
        for rp in resolved.values():
            ids.add(str(rp.profile_id))
            record_ids.extend(rp.record_ids)
            for ident in rp.identifiers:
                identifiers[ident.key] = ident
        record_ids = sorted(set(record_ids), key=lambda r: (str(type(r)), r))
        new_resolution = without_records(resolution, record_ids)
    for i, p in enumerate([*given, *profiles]):
        if not isinstance(p, Profile):
            raise ArgumentError(f"profiles[{i}] is not a Profile", field="profiles")
        if p.profile_id not in ids:
            continue
        for ident in p.identifiers:
            identifiers[ident.key] = ident
        event_ids.update(e.event_id for e in p.activity.recent_events)
        relationships.update((p.profile_id, r.staff_id) for r in p.relationships)
    for i, e in enumerate(events):
        fields: Mapping[str, Any] = (
            e.model_dump() if isinstance(e, Event) else e if isinstance(e, Mapping) else {}
        )
        owner, eid = fields.get("profile_id"), fields.get("event_id")
        if owner is None or eid is None:
            raise ArgumentError(
                f"events[{i}] has no profile_id and event_id; erasure matches events by profile",
                field="events",
            )
        if owner in ids:
            event_ids.add(str(eid))
    return ErasurePlan(
        profile_ids=tuple(sorted(ids)),
        record_ids=tuple(record_ids),
        identifiers=tuple(identifiers[k] for k in sorted(identifiers)),
        event_ids=tuple(sorted(event_ids)),
        relationships=tuple(sorted(relationships)),
        resolution=new_resolution,
    )
