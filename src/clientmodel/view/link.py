"""Person <-> contact: one person who is both a consumer and a buyer at an account is one person.

A B2B contact (a person at an account, :class:`clientmodel.accounts.Contact`) and a consumer
profile (:class:`clientmodel.profile.Profile`) are the same person when they share an identifier:
an email address, a phone number or a WeCom external user id. Both sides are normalised with the
identity machinery's own rules (:class:`clientmodel.profile.Identifier`: phones to E.164, emails
lower-cased, ids trimmed; placeholders such as ``"null"`` never join anybody), so
``"+86 138-0013-8000"`` on a business card meets ``"+8613800138000"`` in the CRM.

The account records carry no identifiers of their own, so they come in as
:class:`ContactIdentifiers` records (contact id plus the raw emails, phones and WeCom ids).

A contact is linked only when every identifier that matches points at the same profile; a
contact whose identifiers point at two different profiles is refused (those profiles were kept
apart by identity resolution, and a business card is no reason to overrule it). Every refusal is
reported with its reason; identifier values appear only masked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from clientmodel._validation import (
    boundary,
    read_form,
    validate_record,
)
from clientmodel.errors import ClientModelError, DataError
from clientmodel.profile import Identifier, IdentifierKind, Profile, normalize_phone
from clientmodel.view._common import mask

__all__ = ["ContactIdentifiers", "LinkRefusal", "Links", "PersonLink", "link"]

#: The identifier kinds a contact can carry, by the field that holds them.
_FIELDS: tuple[tuple[str, IdentifierKind], ...] = (
    ("emails", IdentifierKind.EMAIL),
    ("phones", IdentifierKind.PHONE),
    ("wecom_ids", IdentifierKind.WECOM_EXTERNAL_USERID),
)


class ContactIdentifiers(BaseModel):
    """The identifiers known for one B2B contact (raw, as typed; normalised when linking).

    Examples
    --------
    >>> ContactIdentifiers(contact_id="A1-C001", emails=("Dana@Acme.com",)).emails
    ('Dana@Acme.com',)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    contact_id: str = Field(min_length=1, max_length=200)
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    wecom_ids: tuple[str, ...] = ()

    def __repr__(self) -> str:
        counts = ", ".join(f"{name}={len(getattr(self, name))}" for name, _ in _FIELDS)
        return f"ContactIdentifiers(contact_id={self.contact_id!r}, {counts})"


@attrs.frozen
class PersonLink:
    """One contact linked to one profile, and the identifiers (kind and masked value) that did it.

    Attributes
    ----------
    contact_id:
        The B2B contact.
    profile_id:
        The consumer profile.
    joined_by:
        ``"kind masked-value"`` of every identifier the two share, sorted.

    Examples
    --------
    >>> PersonLink("A1-C001", "p1", ("email d***@acme.com",)).to_dict()["profile_id"]
    'p1'
    """

    contact_id: str
    profile_id: str
    joined_by: tuple[str, ...]

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form.

        Examples
        --------
        >>> PersonLink("c", "p", ("phone +86****8000",)).to_dict()["joined_by"]
        ['phone +86****8000']
        """
        return {
            "contact_id": self.contact_id,
            "profile_id": self.profile_id,
            "joined_by": list(self.joined_by),
        }

    @classmethod
    @boundary
    def from_dict(cls, data: Mapping[str, Any]) -> PersonLink:
        """Rebuild from :meth:`to_dict` output.

        Examples
        --------
        >>> x = PersonLink("c", "p", ("phone +86****8000",))
        >>> PersonLink.from_dict(x.to_dict()) == x
        True
        """
        return read_form(cls, data)


_LINK_KEYS = ("contact_id", "profile_id", "joined_by")
_REFUSAL_KEYS = ("contact_id", "reason", "detail")

RefusalReason = Literal["ambiguous", "unreadable", "placeholder", "no_match"]


@attrs.frozen
class LinkRefusal:
    """Why a contact (or one of its identifiers) was not linked.

    Attributes
    ----------
    contact_id:
        The contact.
    reason:
        ``ambiguous`` (its identifiers match several profiles: not linked), ``unreadable`` (an
        identifier is not a valid value of its kind: skipped), ``placeholder`` (a placeholder such
        as ``"null"``: skipped) or ``no_match`` (no identifier matches any profile).
    detail:
        A sentence with the identifier kinds, masked values and profile ids involved.

    Examples
    --------
    >>> LinkRefusal("c1", "no_match", "no identifier of contact 'c1' is on a profile").reason
    'no_match'
    """

    contact_id: str
    reason: RefusalReason
    detail: str

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form.

        Examples
        --------
        >>> LinkRefusal("c", "no_match", "x").to_dict()["reason"]
        'no_match'
        """
        return {"contact_id": self.contact_id, "reason": self.reason, "detail": self.detail}

    @classmethod
    @boundary
    def from_dict(cls, data: Mapping[str, Any]) -> LinkRefusal:
        """Rebuild from :meth:`to_dict` output.

        Examples
        --------
        >>> r = LinkRefusal("c", "no_match", "x")
        >>> LinkRefusal.from_dict(r.to_dict()) == r
        True
        """
        return read_form(cls, data)


@attrs.frozen
class Links:
    """The result of :func:`link`: the links, one per linked contact, and every refusal.

    Attributes
    ----------
    links:
        Linked contacts, sorted by contact id.
    refusals:
        Refusals, sorted by contact id then reason.

    Examples
    --------
    >>> ls = Links((PersonLink("c1", "p1", ()),), ())
    >>> ls.profile_of("c1"), ls.contacts_of("p1")
    ('p1', ('c1',))
    """

    links: tuple[PersonLink, ...]
    refusals: tuple[LinkRefusal, ...]

    @property
    def mapping(self) -> dict[str, str]:
        """Contact id -> profile id (a new dict each time)."""
        return {x.contact_id: x.profile_id for x in self.links}

    @boundary
    def profile_of(self, contact_id: str) -> str | None:
        """The profile a contact is linked to, or ``None``.

        Examples
        --------
        >>> Links((), ()).profile_of("c1") is None
        True
        """
        return next((x.profile_id for x in self.links if x.contact_id == contact_id), None)

    @boundary
    def contacts_of(self, profile_id: str) -> tuple[str, ...]:
        """The contacts linked to a profile (a person may be a contact at several accounts).

        Examples
        --------
        >>> Links((), ()).contacts_of("p1")
        ()
        """
        return tuple(x.contact_id for x in self.links if x.profile_id == profile_id)

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form.

        Examples
        --------
        >>> Links((), ()).to_dict()
        {'links': [], 'refusals': []}
        """
        return {
            "links": [x.to_dict() for x in self.links],
            "refusals": [r.to_dict() for r in self.refusals],
        }

    @classmethod
    @boundary
    def from_dict(cls, data: Mapping[str, Any]) -> Links:
        """Rebuild from :meth:`to_dict` output.

        Examples
        --------
        >>> x = Links((PersonLink("c", "p", ()),), (LinkRefusal("d", "no_match", "x"),))
        >>> Links.from_dict(x.to_dict()) == x
        True
        """
        return read_form(cls, data)


def _match_key(ident: Identifier) -> tuple[str, str]:
    # scope is ignored on purpose: a WeCom id written on a contact carries no corp id
    return (ident.kind.value, ident.value)


def _contact_record(item: Any, row: int) -> ContactIdentifiers:
    return validate_record(ContactIdentifiers, item, field="contacts", row=row)


@boundary
def link(
    contacts: Iterable[ContactIdentifiers | Mapping[str, Any]],
    profiles: Iterable[Profile],
    *,
    default_country_code: str | None = "86",
) -> Links:
    """Link B2B contacts to consumer profiles that share an email, phone or WeCom id.

    Parameters
    ----------
    contacts:
        :class:`ContactIdentifiers` records (or mappings of their fields).
    profiles:
        Resolved consumer profiles (one per person), e.g. from
        :meth:`clientmodel.profile.Resolution.profiles`.
    default_country_code:
        Country calling code for phone numbers written without one (see
        :func:`clientmodel.profile.normalize_phone`); ``None`` refuses them.

    Returns
    -------
    Links
        The links and the refusals (ambiguous contacts, unreadable identifiers, placeholders,
        contacts without a match). Order of the inputs does not matter.

    Examples
    --------
    >>> from clientmodel.profile import Profile
    >>> p = Profile(profile_id="p1", identifiers=[{"kind": "phone", "value": "+8613800138000"}])
    >>> c = ContactIdentifiers(contact_id="A1-C001", phones=("138 0013 8000",))
    >>> res = link([c], [p])
    >>> res.mapping, res.links[0].joined_by
    ({'A1-C001': 'p1'}, ('phone +86****8000',))
    """
    owners: dict[tuple[str, str], set[str]] = {}
    for profile in profiles:
        if not isinstance(profile, Profile):
            raise DataError(
                f"profiles holds a {type(profile).__name__}; pass clientmodel.profile.Profile "
                "records",
                field="profiles",
            )
        for ident in profile.identifiers:
            if not ident.hashed and not ident.is_placeholder:
                owners.setdefault(_match_key(ident), set()).add(profile.profile_id)
    links: list[PersonLink] = []
    refusals: list[LinkRefusal] = []
    seen: set[str] = set()
    for row, item in enumerate(contacts):
        record = _contact_record(item, row)
        cid = record.contact_id
        if cid in seen:
            raise DataError(
                f"contact_id {cid!r} appears twice in contacts (row {row}); give each contact "
                "once with all its identifiers",
                field="contact_id",
                rows=[row],
            )
        seen.add(cid)
        hits: dict[str, set[str]] = {}
        for name, kind in _FIELDS:
            for raw in getattr(record, name):
                shown = mask(str(raw))
                value = raw
                if kind is IdentifierKind.PHONE and isinstance(raw, str):
                    try:
                        value = normalize_phone(raw, default_country_code)
                    except ClientModelError:
                        value = raw
                try:
                    ident = Identifier(kind=kind, value=value)
                except (ValidationError, ClientModelError):
                    refusals.append(
                        LinkRefusal(
                            cid,
                            "unreadable",
                            f"{kind.value} {shown} of contact {cid!r} is not a valid "
                            f"{kind.value}; it was skipped",
                        )
                    )
                    continue
                if ident.is_placeholder:
                    refusals.append(
                        LinkRefusal(
                            cid,
                            "placeholder",
                            f"{kind.value} {shown} of contact {cid!r} is a placeholder value and "
                            "never joins anybody; it was skipped",
                        )
                    )
                    continue
                for pid in owners.get(_match_key(ident), ()):
                    hits.setdefault(pid, set()).add(f"{kind.value} {mask(ident.value)}")
        if len(hits) > 1:
            found = sorted(hits.items())
            detail = "; ".join(f"{pid} by {', '.join(sorted(v))}" for pid, v in found)
            refusals.append(
                LinkRefusal(
                    cid,
                    "ambiguous",
                    f"contact {cid!r} matches {len(hits)} different profiles ({detail}); identity "
                    "resolution keeps them apart, so the contact is not linked",
                )
            )
        elif hits:
            ((pid, joined),) = hits.items()
            links.append(PersonLink(cid, pid, tuple(sorted(joined))))
        else:
            refusals.append(
                LinkRefusal(cid, "no_match", f"no identifier of contact {cid!r} is on a profile")
            )
    links.sort(key=lambda x: x.contact_id)
    refusals.sort(key=lambda r: (r.contact_id, r.reason, r.detail))
    return Links(tuple(links), tuple(refusals))
