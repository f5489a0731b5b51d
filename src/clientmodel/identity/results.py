"""What identity resolution reports: statuses, refusals, links, explanations, profiles.

These are the result values of :mod:`clientmodel.identity.resolution`: frozen ``attrs`` classes
with JSON-safe ``to_dict`` forms. Their ``repr`` masks identifier values, so they can be logged
without leaking personal data; the values themselves are on the
:class:`~clientmodel.identity.kinds.Identifier` objects they hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import Enum
from typing import Any, ClassVar

import attrs
import numpy as np

from clientmodel._validation import check_integer, check_number, read_form
from clientmodel.errors import ArgumentError
from clientmodel.identity import _prepare as prepare
from clientmodel.identity.kinds import Identifier, IdentifierKind, _mask

__all__ = [
    "IdentifierStatus",
    "IdentifierUse",
    "Link",
    "ProfileExplanation",
    "Refusal",
    "ResolvedProfile",
]

#: A record id: a string or an integer.
RecordId = str | int

#: A refusal window longer than this (about 270 years) is not a window (timedelta's own limit
#: is 999999999 days).
_MAX_WINDOW_SECONDS = 1e10


class IdentifierStatus(str, Enum):
    """What identity resolution did with an identifier.

    ``matched``: used to match (it joined records, or was claimed by its profile); ``blocked``: a
    placeholder or configured blocked value; ``not_joining``: its kind does not join;
    ``refused``: dropped from matching because it would have broken a limit (see the refusals).

    Examples
    --------
    >>> IdentifierStatus("refused").value
    'refused'
    """

    MATCHED = "matched"
    BLOCKED = "blocked"
    NOT_JOINING = "not_joining"
    REFUSED = "refused"

    def __str__(self) -> str:
        return self.value


_STATUS = (
    IdentifierStatus.MATCHED,
    IdentifierStatus.BLOCKED,
    IdentifierStatus.NOT_JOINING,
    IdentifierStatus.REFUSED,
)
_STATUS_CODE = {s: i for i, s in enumerate(_STATUS)}


def _ident_dict(ident: Identifier) -> dict[str, Any]:
    return {
        "kind": ident.kind.value,
        "value": ident.value,
        "scope": ident.scope,
        "hashed": ident.hashed,
    }


def _ident_load(data: Mapping[str, Any]) -> Identifier:
    return Identifier.model_validate(
        {
            "kind": data["kind"],
            "value": data["value"],
            "scope": data.get("scope"),
            "hashed": bool(data.get("hashed", False)),
        }
    )


def _plain_id(value: Any) -> RecordId:
    return value.item() if isinstance(value, np.generic) else value  # type: ignore[no-any-return]


@attrs.frozen(repr=False)
class Refusal:
    """A merge (or claim) refused because the profile would have broken a limit.

    Attributes
    ----------
    record_id:
        The record whose identifier was refused (it stays on that record's profile).
    identifier:
        The refused identifier, dropped from matching for this record.
    owner_record_id:
        The record that brought the identifier into the profile it would have joined, or
        ``None`` when the record's own profile could not take it (e.g. a second member id).
    kind, scope, limit, window:
        The limit that would have been broken. ``limit`` is -1 when the merge would have joined
        two profiles holding values of one kind through a kind that does not bridge them
        (``KindRule.bridges``), -2
        when a never-merge rule forbids it (``IdentityConfig.never_merge``), -3 when the
        profile would have held more records than ``IdentityConfig.max_records``, -4 more
        matched identifiers than ``IdentityConfig.max_identifiers``; then ``kind`` is the
        refused identifier's kind.
    count:
        How many values of that kind the profile would have held (within the window); for a
        cap, how many records or identifiers.
    conflicting:
        Those values.
    cap:
        The cap that would have been broken (limit -3 or -4), else ``None``.

    Examples
    --------
    >>> from clientmodel.identity.resolution import resolve
    >>> res = resolve([{"record_id": "a",
    ...                 "identifiers": [("member_id", "M1"), ("member_id", "M2")]}])
    >>> print(res.refusals[0].reason)  # doctest: +NORMALIZE_WHITESPACE
    member_id of record 'a': adding it to the record's profile would give the profile
    2 member_id values (limit 1)
    """

    record_id: RecordId
    identifier: Identifier
    owner_record_id: RecordId | None
    kind: IdentifierKind
    scope: str | None
    limit: int
    window: dt.timedelta | None
    count: int
    conflicting: tuple[Identifier, ...]
    cap: int | None = None

    # the form writes the window in seconds and the reason derived from the rest
    _FORM: ClassVar[dict[str, Any]] = {"window": lambda value, path: _read_window(value, path)}
    _FORM_KEYS: ClassVar[dict[str, str]] = {"window_seconds": "window"}

    def __attrs_post_init__(self) -> None:
        check_integer(self.limit, "limit", minimum=-4)
        check_integer(self.count, "count", minimum=0)
        if (self.cap is not None) != (self.limit in (-3, -4)):
            raise ArgumentError(
                f"cap={self.cap!r} disagrees with limit={self.limit}: a cap is given exactly "
                "when limit is -3 (records) or -4 (identifiers)",
                field="cap",
            )

    @property
    def reason(self) -> str:
        """Why it was refused, in words, without identifier values.

        Examples
        --------
        >>> print(Refusal("r", Identifier(kind="device_id", value="D1"), "q",
        ...               IdentifierKind.MEMBER_ID, None, 1, None, 2, ()).reason)
        ... # doctest: +NORMALIZE_WHITESPACE
        device_id of record 'r': joining the profile of record 'q' would give the profile
        2 member_id values (limit 1)
        """
        if self.owner_record_id is None:
            what = "adding it to the record's profile"
        else:
            what = f"joining the profile of record {self.owner_record_id!r}"
        if self.limit in (-3, -4):
            what_cap = "records" if self.limit == -3 else "matched identifiers"
            return (
                f"{self.identifier.kind.value} of record {self.record_id!r}: {what} would give "
                f"the profile {self.count} {what_cap} (cap {self.cap})"
            )
        if self.limit == -2:
            return (
                f"{self.identifier.kind.value} of record {self.record_id!r}: {what} would put "
                "two records that a never-merge rule keeps apart in one profile"
            )
        if self.limit < 0:
            return (
                f"{self.identifier.kind.value} of record {self.record_id!r}: {what} would join "
                f"two profiles that each hold an identifying value of the same kind through a "
                f"{self.kind.value}, which does not bridge them"
            )
        scope = f" in scope {self.scope!r}" if self.scope else ""
        within = f" first seen within {self.window}" if self.window else ""
        return (
            f"{self.identifier.kind.value} of record {self.record_id!r}: {what} would give the "
            f"profile {self.count} {self.kind.value} values{scope}{within} (limit {self.limit})"
        )

    def __repr__(self) -> str:
        return (
            f"Refusal(record_id={self.record_id!r}, identifier={self.identifier!r}, "
            f"owner_record_id={self.owner_record_id!r}, kind={self.kind.value!r}, "
            f"count={self.count}, limit={self.limit})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (with values: it is an export).

        Examples
        --------
        >>> r = Refusal("r", Identifier(kind="device_id", value="D1"), "q",
        ...             IdentifierKind.MEMBER_ID, None, 1, None, 2, ())
        >>> Refusal.from_dict(r.to_dict()) == r
        True
        """
        return {
            "record_id": self.record_id,
            "identifier": _ident_dict(self.identifier),
            "owner_record_id": self.owner_record_id,
            "kind": self.kind.value,
            "scope": self.scope,
            "limit": self.limit,
            "window_seconds": None if self.window is None else self.window.total_seconds(),
            "count": self.count,
            "conflicting": [_ident_dict(c) for c in self.conflicting],
            "cap": self.cap,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Refusal:
        """Rebuild from :meth:`to_dict` output.

        Examples
        --------
        >>> data = {"record_id": "r", "identifier": {"kind": "device_id", "value": "D1"},
        ...         "owner_record_id": "q", "kind": "member_id", "limit": 1, "count": 2}
        >>> Refusal.from_dict(data).owner_record_id
        'q'
        """
        if isinstance(data, Mapping):  # keys older forms could leave out
            data = {**_REFUSAL_OPTIONAL, **data}
        return read_form(cls, data)


_REFUSAL_OPTIONAL: dict[str, Any] = {
    "owner_record_id": None,
    "scope": None,
    "window_seconds": None,
    "conflicting": [],
}


def _read_window(value: Any, path: str) -> dt.timedelta | None:
    if value is None:
        return None
    return dt.timedelta(seconds=check_number(value, path, minimum=0, maximum=_MAX_WINDOW_SECONDS))


IdentTuple = tuple[str, str | None, str, bool]


def _ident_of(t: IdentTuple) -> Identifier:
    return Identifier.model_construct(
        kind=IdentifierKind(t[0]), value=t[2], scope=t[1], hashed=t[3]
    )


def _tuple_of(ident: Identifier) -> IdentTuple:
    return (ident.kind.value, ident.scope, ident.value, ident.hashed)


@attrs.frozen
class _RefusalData:
    """A refusal as plain values; :class:`Refusal` objects are built from it on first use."""

    record_id: Any
    ident: IdentTuple
    owner_record_id: Any
    kind: str
    scope: str | None
    limit: int
    window: int
    count: int
    conflicting: tuple[IdentTuple, ...]
    cap: int | None = None

    def public(self) -> Refusal:
        return Refusal(
            record_id=self.record_id,
            identifier=_ident_of(self.ident),
            owner_record_id=self.owner_record_id,
            kind=IdentifierKind(self.kind),
            scope=self.scope,
            limit=self.limit,
            window=None if not self.window else dt.timedelta(microseconds=self.window),
            count=self.count,
            conflicting=tuple(_ident_of(c) for c in self.conflicting),
            cap=self.cap,
        )

    @classmethod
    def of(cls, ref: Refusal) -> _RefusalData:
        return cls(
            ref.record_id,
            _tuple_of(ref.identifier),
            ref.owner_record_id,
            ref.kind.value,
            ref.scope,
            ref.limit,
            0 if ref.window is None else prepare.micros(ref.window),
            ref.count,
            tuple(_tuple_of(c) for c in ref.conflicting),
            ref.cap,
        )


@attrs.frozen(repr=False)
class Link:
    """Record ``record_id`` joined the records of the profile via ``via``, an identifier that
    record ``owner_record_id`` had brought in -- or, with ``via`` ``None``, by a manual merge
    rule (``IdentityConfig.always_merge``) that put it in the group of ``owner_record_id``.

    Examples
    --------
    >>> Link("b", Identifier(kind="phone", value="+8613800138000"), "a")
    Link(record_id='b', via=phone '+8…00', owner_record_id='a')
    >>> Link("c", None, "a")
    Link(record_id='c', via=manual merge, owner_record_id='a')
    """

    record_id: RecordId
    via: Identifier | None
    owner_record_id: RecordId

    def __repr__(self) -> str:
        via = (
            "manual merge"
            if self.via is None
            else f"{self.via.kind.value} {_mask(self.via.value)!r}"
        )
        return (
            f"Link(record_id={self.record_id!r}, via={via}, "
            f"owner_record_id={self.owner_record_id!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form.

        Examples
        --------
        >>> Link("b", Identifier(kind="member_id", value="M1"), "a").to_dict()["via"]["kind"]
        'member_id'
        """
        return {
            "record_id": self.record_id,
            "via": None if self.via is None else _ident_dict(self.via),
            "owner_record_id": self.owner_record_id,
        }


@attrs.frozen(repr=False)
class IdentifierUse:
    """One identifier of a profile: its status on the profile and the records that carry it.

    Examples
    --------
    >>> blocked = IdentifierStatus.BLOCKED
    >>> use = IdentifierUse(Identifier(kind="phone", value="null"), blocked, ("a",))
    >>> use.status.value
    'blocked'
    """

    identifier: Identifier
    status: IdentifierStatus
    record_ids: tuple[RecordId, ...]

    def __repr__(self) -> str:
        return (
            f"IdentifierUse({self.identifier.kind.value} {_mask(self.identifier.value)!r}, "
            f"{self.status.value}, records={list(self.record_ids)!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form.

        Examples
        --------
        >>> IdentifierUse(Identifier(kind="phone", value="null"), IdentifierStatus.BLOCKED,
        ...               ("a",)).to_dict()["status"]
        'blocked'
        """
        return {
            "identifier": _ident_dict(self.identifier),
            "status": self.status.value,
            "record_ids": list(self.record_ids),
        }


@attrs.frozen(repr=False)
class ResolvedProfile:
    """A resolved profile: its id, records and identifiers -- what building a Profile needs.

    ``identifiers`` holds every distinct identifier of the profile's records (normalised, in
    priority order), including those not used for matching; ``statuses`` says, for each, what
    resolution did with it on this profile.

    Examples
    --------
    >>> from clientmodel.identity.resolution import resolve
    >>> res = resolve([{"record_id": "a", "identifiers": [("phone", "+8613800138000")]},
    ...                {"record_id": "b", "identifiers": [("phone", "+86 138 0013 8000"),
    ...                                                   ("email", "A@B.CO")]}])
    >>> p = res.profiles()[0]
    >>> p.profile_id, p.record_ids, [i.kind.value for i in p.identifiers]
    ('a', ('a', 'b'), ['phone', 'email'])
    """

    profile_id: RecordId
    record_ids: tuple[RecordId, ...]
    identifiers: tuple[Identifier, ...]
    statuses: tuple[IdentifierStatus, ...]

    @property
    def matched(self) -> tuple[Identifier, ...]:
        """The identifiers used for matching on this profile.

        Examples
        --------
        >>> from clientmodel.identity.resolution import resolve
        >>> res = resolve([{"record_id": "a", "identifiers": [("phone", "null")]}])
        >>> res.profiles()[0].matched
        ()
        """
        return tuple(
            i
            for i, s in zip(self.identifiers, self.statuses, strict=True)
            if s is IdentifierStatus.MATCHED
        )

    def __repr__(self) -> str:
        return (
            f"ResolvedProfile(profile_id={self.profile_id!r}, records={len(self.record_ids)}, "
            f"identifiers={len(self.identifiers)})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form.

        Examples
        --------
        >>> from clientmodel.identity.resolution import resolve
        >>> resolve([{"record_id": 1, "identifiers": []}]).profiles()[0].to_dict()
        {'profile_id': 1, 'record_ids': [1], 'identifiers': []}
        """
        return {
            "profile_id": self.profile_id,
            "record_ids": list(self.record_ids),
            "identifiers": [
                {**_ident_dict(i), "status": s.value}
                for i, s in zip(self.identifiers, self.statuses, strict=True)
            ],
        }


@attrs.frozen(repr=False)
class ProfileExplanation:
    """How one profile came together: its records, identifiers, links and refusals.

    Attributes
    ----------
    profile_id:
        The profile.
    record_ids:
        Its records in processing order (timestamp, then id).
    identifiers:
        Every identifier of its records with its status and carrying records.
    links:
        Each time a record joined records already seen, in processing order, and via which
        identifier. Records that appear in no link as ``record_id`` started a group of their own.
    refusals:
        The refused merges and claims that involve this profile (on either side).

    Examples
    --------
    >>> from clientmodel.identity.resolution import resolve
    >>> res = resolve([{"record_id": "a", "identifiers": [("member_id", "M1"), ("device_id", "D")]},
    ...                {"record_id": "b", "identifiers": [("device_id", "D")]}])
    >>> print(res.explain("a").describe())
    profile 'a': 2 records, 2 identifiers, 0 refusals
      record 'a' starts the profile
      record 'b' joins via device_id, brought by record 'a'
      member_id: matched (records 'a')
      device_id: matched (records 'a', 'b')
    """

    profile_id: RecordId
    record_ids: tuple[RecordId, ...]
    identifiers: tuple[IdentifierUse, ...]
    links: tuple[Link, ...]
    refusals: tuple[Refusal, ...]

    def __repr__(self) -> str:
        return (
            f"ProfileExplanation(profile_id={self.profile_id!r}, records={len(self.record_ids)}, "
            f"identifiers={len(self.identifiers)}, links={len(self.links)}, "
            f"refusals={len(self.refusals)})"
        )

    def describe(self, *, show_values: bool = False) -> str:
        """The story in words; identifier values are masked unless ``show_values``.

        Examples
        --------
        See :class:`ProfileExplanation`.
        """

        def val(ident: Identifier) -> str:
            return f" {ident.value!r}" if show_values else ""

        def count(n: int, word: str) -> str:
            return f"{n} {word}{'' if n == 1 else 's'}"

        lines = [
            f"profile {self.profile_id!r}: {count(len(self.record_ids), 'record')}, "
            f"{count(len(self.identifiers), 'identifier')}, "
            f"{count(len(self.refusals), 'refusal')}"
        ]
        joined = {link.record_id: link for link in self.links}
        seen: set[RecordId] = set()
        by_record: dict[RecordId, list[Link]] = {}
        for link in self.links:
            by_record.setdefault(link.record_id, []).append(link)
        for rid in self.record_ids:
            if rid not in joined:
                lines.append(
                    f"  record {rid!r} starts the profile"
                    if not seen
                    else f"  record {rid!r} starts a group of its own"
                )
            for link in by_record.get(rid, []):
                if link.via is None:
                    lines.append(
                        f"  record {rid!r} joins by a manual merge rule, with record "
                        f"{link.owner_record_id!r}"
                    )
                    continue
                lines.append(
                    f"  record {rid!r} joins via {link.via.kind.value}{val(link.via)}, "
                    f"brought by record {link.owner_record_id!r}"
                )
            seen.add(rid)
        for use in self.identifiers:
            records = ", ".join(repr(r) for r in use.record_ids)
            lines.append(
                f"  {use.identifier.kind.value}{val(use.identifier)}: {use.status.value} "
                f"(records {records})"
            )
        for ref in self.refusals:
            lines.append(f"  refused: {ref.reason}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form.

        Examples
        --------
        >>> from clientmodel.identity.resolution import resolve
        >>> resolve([{"record_id": "a"}]).explain("a").to_dict()["record_ids"]
        ['a']
        """
        return {
            "profile_id": self.profile_id,
            "record_ids": list(self.record_ids),
            "identifiers": [u.to_dict() for u in self.identifiers],
            "links": [link.to_dict() for link in self.links],
            "refusals": [r.to_dict() for r in self.refusals],
        }
