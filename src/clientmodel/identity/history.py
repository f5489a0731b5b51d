"""Merge history: which records joined which profile when, and which merges were refused.

:func:`merge_history` replays the resolution with tracing (the same algorithm, so it tells
exactly what happened) and returns one :class:`MergeEvent` per join and per refusal, in
processing order -- the events a CDP would emit ("profile merged", "merge refused") for a
downstream system to follow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import attrs
import numpy as np

from clientmodel._validation import check_text, mask_identifier, read_form
from clientmodel.errors import ArgumentError
from clientmodel.identity import _engine as engine
from clientmodel.identity.kinds import Identifier, _mask
from clientmodel.identity.resolution import Resolution
from clientmodel.identity.results import RecordId

__all__ = ["MergeEvent", "merge_history"]


@attrs.frozen(repr=False)
class MergeEvent:
    """One step of a resolution: a record joined a profile, or a join was refused.

    Attributes
    ----------
    kind:
        ``joined`` or ``refused``.
    at:
        The record's timestamp (``None`` for a record without one).
    record_id:
        The record that joined (or whose identifier was refused).
    via:
        The identifier it joined through (or the refused identifier); ``None`` for a record
        joined by a manual merge rule (``IdentityConfig.always_merge``).
    owner_record_id:
        The record that brought ``via`` into the profile (``None`` for a refused claim).
    profile_id:
        The profile the record belongs to at the end.
    reason:
        For a refusal, why (without identifier values); ``None`` for a join.

    Examples
    --------
    >>> from clientmodel.identity import resolve
    >>> res = resolve([{"record_id": "a", "identifiers": [("email", "x@y.io")]},
    ...                {"record_id": "b", "identifiers": [("email", "x@y.io")]}])
    >>> [(e.kind, e.record_id, e.owner_record_id) for e in merge_history(res)]
    [('joined', 'b', 'a')]
    """

    kind: Literal["joined", "refused"]
    at: dt.datetime | None
    record_id: RecordId
    via: Identifier | None
    owner_record_id: RecordId | None
    profile_id: RecordId
    reason: str | None = None

    _FORM: ClassVar[dict[str, Any]] = {"at": lambda value, path: _read_at(value, path)}

    def __attrs_post_init__(self) -> None:
        if self.kind == "joined":
            if self.reason is not None:
                raise ArgumentError("a join has no reason (reason must be None)", field="reason")
            if self.owner_record_id is None:
                raise ArgumentError(
                    "a join names the record that brought the identifier (owner_record_id)",
                    field="owner_record_id",
                )
        elif self.kind == "refused":
            if self.reason is None or self.via is None:
                raise ArgumentError(
                    "a refusal names the refused identifier (via) and why (reason)",
                    field="reason" if self.reason is None else "via",
                )
        else:
            raise ArgumentError(
                f"kind must be 'joined' or 'refused', got {self.kind!r}", field="kind"
            )

    def __repr__(self) -> str:
        via = (
            "manual merge"
            if self.via is None
            else f"{self.via.kind.value} {_mask(self.via.value)!r}"
        )
        return (
            f"MergeEvent({self.kind}, record_id={self.record_id!r}, via={via}, "
            f"owner_record_id={self.owner_record_id!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (with the identifier value: it is an export).

        Examples
        --------
        >>> from clientmodel.identity import Identifier
        >>> e = MergeEvent("joined", None, "b", Identifier(kind="member_id", value="M1"), "a", "a")
        >>> MergeEvent.from_dict(e.to_dict()) == e
        True
        """
        return {
            "kind": self.kind,
            "at": None if self.at is None else self.at.isoformat(),
            "record_id": self.record_id,
            "via": None if self.via is None else self.via.model_dump(mode="json"),
            "owner_record_id": self.owner_record_id,
            "profile_id": self.profile_id,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MergeEvent:
        """Rebuild from :meth:`to_dict` output.

        Examples
        --------
        >>> MergeEvent.from_dict({"kind": "joined", "at": None, "record_id": "b",
        ...     "via": {"kind": "member_id", "value": "M1"}, "owner_record_id": "a",
        ...     "profile_id": "a"}).owner_record_id
        'a'
        """
        return read_form(cls, data)


def _read_at(value: Any, path: str) -> dt.datetime | None:
    """An ISO timestamp or ``None`` (wall-clock times of a resolution with a ``tz`` are naive)."""
    if value is None or isinstance(value, dt.datetime):
        return value
    try:
        return dt.datetime.fromisoformat(check_text(value, path))
    except ValueError:
        raise ArgumentError(
            f"{path} must be an ISO timestamp such as '2024-01-01T09:30:00+00:00' or None, "
            f"got {mask_identifier(value)}",
            field=path,
        ) from None


def _time(value: np.datetime64, tz: str | None) -> dt.datetime | None:
    if np.isnat(value):
        return None
    wall = value.astype("datetime64[us]").item()
    assert isinstance(wall, dt.datetime)
    return wall.replace(tzinfo=dt.timezone.utc) if tz in (None, "UTC") else wall


def merge_history(resolution: Resolution) -> tuple[MergeEvent, ...]:
    """Every join and refusal of a resolution, in processing order.

    Parameters
    ----------
    resolution:
        The resolution to replay.

    Returns
    -------
    tuple of MergeEvent
        Joins (a record joining another record's profile through an identifier) and refusals,
        ordered by the processing order of their record.

    Examples
    --------
    >>> from clientmodel.identity import resolve
    >>> res = resolve([
    ...     {"record_id": "a", "identifiers": [("member_id", "M1"), ("device_id", "D")]},
    ...     {"record_id": "b", "identifiers": [("member_id", "M2"), ("device_id", "D")]}])
    >>> [(e.kind, e.record_id) for e in merge_history(res)]
    [('refused', 'b')]
    """
    if not isinstance(resolution, Resolution):
        raise ArgumentError(
            f"resolution must be a Resolution, got {type(resolution).__name__}",
            field="resolution",
        )
    prep = resolution._prep
    rules = resolution.config._arrays()
    active = engine.initial_status(prep, rules) == engine.MATCHED
    # components of one record have no history; the others are replayed with tracing
    sizes = np.bincount(resolution._component, minlength=max(prep.n_records, 1))
    records = np.flatnonzero(sizes[resolution._component] > 1)
    replay = engine.sequential(prep, rules, records, active, trace=True)
    ids = prep.record_ids.tolist()
    position = {rid: i for i, rid in enumerate(ids)}
    profile_of = resolution._profile_ids[resolution._record_profile].tolist()
    events: list[tuple[int, int, MergeEvent]] = []
    for n, link in enumerate(replay.links):
        via = None
        if link.key >= 0:  # -1: a manual merge rule
            kind, scope, value, hashed = prep.identifier_tuple(link.key)
            via = Identifier.model_validate(
                {"kind": kind, "value": value, "scope": scope, "hashed": hashed}
            )
        events.append(
            (
                link.record,
                n,
                MergeEvent(
                    "joined",
                    _time(prep.record_times[link.record], prep.tz),
                    ids[link.record],
                    via,
                    ids[link.owner],
                    profile_of[link.record],
                ),
            )
        )
    for n, ref in enumerate(resolution.refusals):
        r = position[ref.record_id]
        events.append(
            (
                r,
                len(replay.links) + n,
                MergeEvent(
                    "refused",
                    _time(prep.record_times[r], prep.tz),
                    ref.record_id,
                    ref.identifier,
                    ref.owner_record_id,
                    profile_of[r],
                    ref.reason,
                ),
            )
        )
    return tuple(e for _, _, e in sorted(events, key=lambda item: (item[0], item[1])))
