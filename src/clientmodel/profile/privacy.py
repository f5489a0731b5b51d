"""Consent per channel, contactability, and redaction of profiles for export.

* :func:`set_consent` records the person's decision for one channel; a decision older than the
  one on file is ignored, and a decision newer than every disagreeing record resolves a merge
  conflict (see :mod:`clientmodel.profile.merge`).
* :func:`can_contact` is true only for a granted, started, unexpired consent on the channel with
  no open conflict: unknown means no.
* :func:`redact` strips what identifies a person before a profile leaves your system: identifiers
  (removed, or replaced by salted HMAC hashes so exports can still be joined), personal traits,
  staff notes and event properties.

Nothing in :mod:`clientmodel.profile` logs anything, and error messages name profile ids, event
ids and field names -- never identifier values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Literal

from clientmodel.errors import ArgumentError
from clientmodel.profile._common import aware
from clientmodel.profile.identifiers import Identifier, hash_identifier
from clientmodel.profile.models import Activity, Consent, Profile

__all__ = ["PERSONAL_TRAITS", "can_contact", "contactable_channels", "redact", "set_consent"]

#: Trait names :func:`redact` drops by default: they identify or locate a person.
PERSONAL_TRAITS: frozenset[str] = frozenset(
    {
        "name",
        "full_name",
        "first_name",
        "last_name",
        "nickname",
        "wechat_nickname",
        "avatar",
        "avatar_url",
        "phone",
        "mobile",
        "email",
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


def set_consent(
    profile: Profile,
    channel: str,
    status: Literal["granted", "denied"],
    *,
    at: dt.datetime,
    source: str | None = None,
    expires_at: dt.datetime | None = None,
) -> Profile:
    """Record the person's consent decision for ``channel`` at ``at``.

    Returns the profile unchanged when a newer decision is already on file (updates may arrive in
    any order). A decision at or after every record of an open conflict resolves it.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> p = set_consent(Profile(profile_id="p"), "sms", "granted", at=t)
    >>> can_contact(p, "sms", t), can_contact(p, "email", t)
    (True, False)
    """
    at = aware(at, "at")
    if status not in ("granted", "denied"):
        raise ArgumentError(
            f"status={status!r} is not accepted; use 'granted' or 'denied'", field="status"
        )
    try:
        record = Consent(
            status=status,
            at=at,
            source=source,
            expires_at=None if expires_at is None else aware(expires_at, "expires_at"),
        )
    except ValueError as exc:
        raise ArgumentError(f"consent for {channel!r}: {exc}", field="expires_at") from None
    channel = _channel(channel)
    conflicts = dict(profile.consent_conflicts)
    if channel in conflicts:
        if at < max(c.at for c in conflicts[channel]):
            return profile
        del conflicts[channel]
    else:
        old = profile.consent.get(channel)
        if old is not None and old.at > at:
            return profile
    consent = dict(profile.consent)
    consent[channel] = record
    return Profile.model_validate(
        {
            **{name: getattr(profile, name) for name in Profile.model_fields},
            "consent": consent,
            "consent_conflicts": conflicts,
        }
    )


def can_contact(profile: Profile, channel: str, as_of: dt.datetime) -> bool:
    """Whether the person may be contacted on ``channel`` at ``as_of``.

    True only when the channel's consent is ``granted``, given at or before ``as_of``, not
    expired (``as_of < expires_at``), and not in conflict after a merge.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> p = set_consent(Profile(profile_id="p"), "email", "granted", at=t,
    ...                 expires_at=t + dt.timedelta(days=365))
    >>> day = dt.timedelta(days=1)
    >>> can_contact(p, "email", t + 10 * day), can_contact(p, "email", t - day)
    (True, False)
    """
    as_of = aware(as_of, "as_of")
    channel = _channel(channel)
    if channel in profile.consent_conflicts:
        return False
    c = profile.consent.get(channel)
    if c is None or c.status != "granted" or c.at > as_of:
        return False
    return c.expires_at is None or as_of < c.expires_at


def contactable_channels(profile: Profile, as_of: dt.datetime) -> tuple[str, ...]:
    """The channels :func:`can_contact` allows at ``as_of`` (sorted).

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> contactable_channels(set_consent(Profile(profile_id="p"), "sms", "granted", at=t), t)
    ('sms',)
    """
    return tuple(c for c in sorted(profile.consent) if can_contact(profile, c, as_of))


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
