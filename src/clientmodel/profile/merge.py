"""Setting traits and merging profiles (e.g. after identity resolution found them to be one person).

:func:`merge_profiles` combines several profiles into one. The result does not depend on the order
the profiles are given in:

* **identifiers** -- the union;
* **traits** -- by a per-trait strategy: ``latest`` (the most recently observed *non-empty* value;
  ``None``, ``""`` and ``[]`` are empty), ``sum``, ``min``, ``max`` (numbers, or texts for min/max)
  or ``union`` (the sorted distinct items of list and scalar values);
* **company tags** -- the union (the earliest assignment of a tag is kept); with a catalog, two
  tags of one *exclusive* group keep the most recently assigned one and report a conflict;
* **consent** -- records that agree merge into the latest one; records that **disagree** (granted
  on one profile, denied on another) are *not* resolved: the channel moves to
  ``consent_conflicts`` with every disagreeing record, and
  :func:`~clientmodel.profile.privacy.can_contact` says no until the person decides again
  (:func:`~clientmodel.profile.privacy.set_consent`);
* **staff relationships** -- one per staff member: the earliest start, the latest follow-up
  state, private tags and notes united, active if any was active;
* **attribution** -- the earliest first touch and the latest last touch;
* **activity** -- scores are decayed to the latest ``as_of`` among the profiles and added;
  counters are added, first/last-seen times take the min/max. An event folded into two of the
  profiles would be counted twice, so it is refused.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Literal

import attrs
from pydantic import BaseModel, ConfigDict, ValidationError

from clientmodel._validation import boundary, check_mapping, did_you_mean
from clientmodel.errors import ArgumentError, DataError
from clientmodel.profile._common import aware, check_instance, short_validation
from clientmodel.profile.activity import ActivityConfig, _fold
from clientmodel.profile.models import (
    Activity,
    Consent,
    Event,
    Profile,
    StaffRelationship,
    TagAssignment,
    TagCatalog,
    Touch,
    Trait,
)

__all__ = [
    "TRAIT_STRATEGIES",
    "MergeConflict",
    "MergeResult",
    "TraitStrategy",
    "merge_profiles",
    "set_traits",
]

TraitStrategy = Literal["latest", "sum", "min", "max", "union"]
#: The ways a trait can be combined when profiles merge.
TRAIT_STRATEGIES: tuple[str, ...] = TraitStrategy.__args__  # type: ignore[attr-defined]

_OLDEST = dt.datetime.min.replace(tzinfo=dt.timezone.utc)


class MergeConflict(BaseModel):
    """Something the merge did not silently decide.

    ``kind`` is ``consent`` (disagreeing consent on ``key``, a channel) or ``exclusive_tag``
    (several tags of the exclusive group ``key``; ``kept`` names the one kept).

    Examples
    --------
    >>> MergeConflict(kind="consent", key="sms", values=("granted", "denied"),
    ...               profiles=("p1", "p2")).kind
    'consent'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["consent", "exclusive_tag"]
    key: str
    values: tuple[str, ...]
    profiles: tuple[str, ...]
    kept: str | None = None


@attrs.frozen
class MergeResult:
    """The merged profile and the conflicts left visible (see :class:`MergeConflict`).

    Examples
    --------
    >>> m = merge_profiles([Profile(profile_id="b"), Profile(profile_id="a")])
    >>> m.profile.profile_id, m.conflicts
    ('a', ())
    """

    profile: Profile
    conflicts: tuple[MergeConflict, ...]


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


@boundary
def set_traits(
    profile: Profile, values: Mapping[str, Any], *, at: dt.datetime, source: str | None = None
) -> Profile:
    """Set traits observed at ``at``; a value older than the stored one is ignored.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> p = set_traits(Profile(profile_id="p"), {"city": "Hangzhou"}, at=t)
    >>> p = set_traits(p, {"city": "Suzhou"}, at=t - dt.timedelta(days=1))  # older: ignored
    >>> p.traits["city"].value
    'Hangzhou'
    """
    check_instance(profile, Profile, "profile")
    check_mapping(values, "values")
    at = aware(at, "at")
    traits = dict(profile.traits)
    for name, value in values.items():
        old = traits.get(name)
        if old is not None and old.at is not None and old.at > at:
            continue
        try:
            traits[name] = Trait(value=value, at=at, source=source)
        except ValidationError as exc:
            raise DataError(f"trait {name!r}: {short_validation(exc)}", field=str(name)) from None
    try:
        return Profile.model_validate({**_shallow(profile), "traits": traits})
    except ValidationError as exc:
        raise DataError(f"traits: {short_validation(exc)}", field="traits") from None


def _shallow(profile: Profile) -> dict[str, Any]:
    return {name: getattr(profile, name) for name in Profile.model_fields}


def _merge_trait(name: str, strategy: str, items: list[tuple[Trait, str]]) -> Trait:
    at = max((t.at for t, _ in items if t.at is not None), default=None)
    full = [(t, pid) for t, pid in items if not _empty(t.value)]
    if strategy == "latest":
        pool = full or items
        best = max(pool, key=lambda x: (x[0].at or _OLDEST, _canon(x[0].value)))
        return best[0]
    if not full:
        return Trait(value=None, at=at)
    if strategy == "union":
        flat: dict[str, Any] = {}
        for t, _ in full:
            for v in t.value if isinstance(t.value, list) else [t.value]:
                flat[_canon(v)] = v
        return Trait(value=[flat[k] for k in sorted(flat)], at=at)
    values = [t.value for t, _ in full]
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    texts = all(isinstance(v, str) for v in values)
    if strategy == "sum":
        if not numeric:
            raise DataError(
                f"trait {name!r} is merged by 'sum' but holds non-numbers "
                f"({sorted({type(v).__name__ for v in values})}); use numbers or another strategy",
                field=name,
            )
        numbers = [v for v in values if isinstance(v, (int, float))]
        total: Any = (
            math.fsum(numbers) if any(isinstance(v, float) for v in numbers) else sum(numbers)
        )
        return Trait(value=total, at=at)
    if not (numeric or texts):
        raise DataError(
            f"trait {name!r} is merged by {strategy!r} but holds values of mixed or unordered "
            f"kinds ({sorted({type(v).__name__ for v in values})}); use numbers or texts",
            field=name,
        )
    pick = min(values) if strategy == "min" else max(values)  # type: ignore[type-var]
    return Trait(value=pick, at=at)


def _merge_tags(
    profiles: list[Profile], catalog: TagCatalog | None, conflicts: list[MergeConflict]
) -> tuple[TagAssignment, ...]:
    by_tag: dict[str, TagAssignment] = {}
    owners: dict[str, list[str]] = {}
    for p in profiles:
        for a in p.tags:
            owners.setdefault(a.tag, []).append(p.profile_id)
            old = by_tag.get(a.tag)
            if old is None or (a.at, _canon(a.model_dump(mode="json"))) < (
                old.at,
                _canon(old.model_dump(mode="json")),
            ):
                by_tag[a.tag] = a
    if catalog is not None:
        for group in catalog.groups:
            if not group.exclusive:
                continue
            present = [by_tag[t] for t in group.tags if t in by_tag]
            if len(present) > 1:
                keep = max(present, key=lambda a: (a.at, a.tag))
                for a in present:
                    if a is not keep:
                        del by_tag[a.tag]
                conflicts.append(
                    MergeConflict(
                        kind="exclusive_tag",
                        key=group.group_id,
                        values=tuple(sorted(a.tag for a in present)),
                        profiles=tuple(sorted({p for a in present for p in owners[a.tag]})),
                        kept=keep.tag,
                    )
                )
    return tuple(by_tag[t] for t in sorted(by_tag))


def _merge_consent(
    profiles: list[Profile], conflicts: list[MergeConflict]
) -> tuple[dict[str, Consent], dict[str, tuple[Consent, ...]]]:
    records: dict[str, list[tuple[Consent, str]]] = {}
    standing: dict[str, set[Consent]] = {}
    for p in profiles:
        for channel, c in p.consent.items():
            records.setdefault(channel, []).append((c, p.profile_id))
        for channel, cs in p.consent_conflicts.items():
            standing.setdefault(channel, set()).update(cs)
    consent: dict[str, Consent] = {}
    disputes: dict[str, tuple[Consent, ...]] = {}
    for channel in sorted({*records, *standing}):
        recs = records.get(channel, [])
        statuses = {c.status for c, _ in recs} | {c.status for c in standing.get(channel, ())}
        if len(statuses) <= 1 and channel not in standing:
            consent[channel] = max(
                (c for c, _ in recs), key=lambda c: (c.at, _canon(c.model_dump(mode="json")))
            )
            continue
        every = {*(c for c, _ in recs), *standing.get(channel, ())}
        ordered = tuple(sorted(every, key=lambda c: (c.at, _canon(c.model_dump(mode="json")))))
        disputes[channel] = ordered
        if len({c.status for c in ordered}) > 1:
            conflicts.append(
                MergeConflict(
                    kind="consent",
                    key=channel,
                    values=tuple(c.status for c in ordered),
                    profiles=tuple(sorted({pid for _, pid in recs})),
                )
            )
    return consent, disputes


def _merge_relationships(profiles: list[Profile]) -> tuple[StaffRelationship, ...]:
    by_staff: dict[str, list[StaffRelationship]] = {}
    for p in profiles:
        for r in p.relationships:
            by_staff.setdefault(r.staff_id, []).append(r)
    out = []
    for staff_id in sorted(by_staff):
        rels = by_staff[staff_id]
        if len(rels) == 1:
            out.append(rels[0])
            continue
        first = min(rels, key=lambda r: (r.started_at, r.how, r.channel_code or ""))
        follow = max(rels, key=lambda r: (r.follow_up_at or _OLDEST, r.follow_up))
        tags: dict[str, TagAssignment] = {}
        for r in rels:
            for a in r.tags:
                if a.tag not in tags or a.at < tags[a.tag].at:
                    tags[a.tag] = a
        notes = sorted({n for r in rels for n in r.notes}, key=lambda n: (n.at, n.text))
        active = any(r.active for r in rels)
        ended = None if active else max(rels, key=lambda r: (r.ended_at, r.end_reason))
        out.append(
            StaffRelationship(
                staff_id=staff_id,
                started_at=first.started_at,
                how=first.how,
                channel_code=first.channel_code,
                follow_up=follow.follow_up,
                follow_up_at=follow.follow_up_at,
                tags=tuple(tags[t] for t in sorted(tags)),
                notes=tuple(notes),
                ended_at=None if ended is None else ended.ended_at,
                end_reason=None if ended is None else ended.end_reason,
            )
        )
    return tuple(out)


def _merge_activity(profiles: list[Profile], cfg: ActivityConfig) -> Activity:
    folded = [p.activity for p in profiles if p.activity.as_of is not None]
    if not folded:
        return Activity()
    as_of = max(a.as_of for a in folded if a.as_of is not None)
    moved = [_fold(a, [], as_of, cfg) for a in folded]
    seen: dict[str, tuple[Event, str]] = {}
    for p, a in zip([p for p in profiles if p.activity.as_of is not None], moved, strict=True):
        for e in a.recent_events:
            if e.event_id in seen:
                raise DataError(
                    f"event {e.event_id!r} was folded into both profiles "
                    f"{seen[e.event_id][1]!r} and {p.profile_id!r}; merging would count it "
                    "twice. Fold each event into one profile only",
                    field="event_id",
                )
            seen[e.event_id] = (e, p.profile_id)

    def add(dicts: Iterable[Mapping[str, Any]], zero: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for d in dicts:
            for k, v in d.items():
                out[k] = out.get(k, zero) + v
        return dict(sorted(out.items()))

    def latest(dicts: Iterable[Mapping[str, dt.datetime]]) -> dict[str, dt.datetime]:
        out: dict[str, dt.datetime] = {}
        for d in dicts:
            for k, v in d.items():
                if k not in out or v > out[k]:
                    out[k] = v
        return dict(sorted(out.items()))

    interest: dict[str, float] = {}
    for topic in sorted({k for a in moved for k in a.interest}):
        interest[topic] = math.fsum(a.interest.get(topic, 0.0) for a in moved)
    firsts = [a.first_seen for a in moved if a.first_seen is not None]
    lasts = [a.last_seen for a in moved if a.last_seen is not None]
    starts = [a.history_start for a in moved if a.history_start is not None]
    return Activity.model_construct(
        as_of=as_of,
        history_start=max(starts) if starts else None,
        n_events=sum(a.n_events for a in moved),
        first_seen=min(firsts) if firsts else None,
        last_seen=max(lasts) if lasts else None,
        counts_by_type=add((a.counts_by_type for a in moved), 0),
        counts_by_channel=add((a.counts_by_channel for a in moved), 0),
        last_seen_by_type=latest(a.last_seen_by_type for a in moved),
        last_seen_by_channel=latest(a.last_seen_by_channel for a in moved),
        value_by_type=add((a.value_by_type for a in moved), Decimal(0)),
        interest=interest,
        intent_mass=math.fsum(a.intent_mass for a in moved),
        recent_events=tuple(
            sorted((e for e, _ in seen.values()), key=lambda e: (e.timestamp, e.event_id))
        ),
    )


@boundary
def merge_profiles(
    profiles: Iterable[Profile],
    *,
    strategies: Mapping[str, TraitStrategy] | None = None,
    default: TraitStrategy = "latest",
    profile_id: str | None = None,
    catalog: TagCatalog | None = None,
    config: ActivityConfig | None = None,
) -> MergeResult:
    """Merge profiles of one person into one profile (order of the inputs does not matter).

    Parameters
    ----------
    profiles:
        The profiles to merge (at least one).
    strategies:
        Strategy per trait name: ``latest``, ``sum``, ``min``, ``max`` or ``union``.
    default:
        Strategy of traits not named in ``strategies``.
    profile_id:
        Id of the merged profile (default: the smallest of the ids merged).
    catalog:
        Tag groups, to detect two tags of one exclusive group.
    config:
        Half-lives used to bring scores to a common ``as_of``.

    Returns
    -------
    MergeResult
        The merged profile and the conflicts (disagreeing consent, exclusive-tag clashes).

    Examples
    --------
    >>> import datetime as dt
    >>> from clientmodel.profile.privacy import set_consent, can_contact
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> a = set_traits(Profile(profile_id="a"), {"orders": 2, "city": "Xi'an"}, at=t)
    >>> b = set_traits(Profile(profile_id="b"), {"orders": 3, "city": ""}, at=t)
    >>> a = set_consent(a, "sms", "granted", at=t)
    >>> b = set_consent(b, "sms", "denied", at=t)
    >>> m = merge_profiles([a, b], strategies={"orders": "sum"})
    >>> m.profile.traits["orders"].value, m.profile.traits["city"].value
    (5, "Xi'an")
    >>> [c.kind for c in m.conflicts], can_contact(m.profile, "sms", t)
    (['consent'], False)
    """
    if not isinstance(profiles, Iterable) or isinstance(profiles, (str, Mapping)):
        raise ArgumentError(
            f"profiles must be a list of Profile records, got {type(profiles).__name__}",
            field="profiles",
        )
    given = list(profiles)
    for i, p in enumerate(given):
        if not isinstance(p, Profile):
            raise ArgumentError(
                f"profiles[{i}] must be a Profile, got {type(p).__name__}; "
                "build it with Profile(...) or Profile.model_validate(...)",
                field="profiles",
            )
    items = sorted(given, key=lambda p: p.profile_id)
    if not items:
        raise ArgumentError("merge_profiles needs at least one profile", field="profiles")
    ids = [p.profile_id for p in items]
    if len(set(ids)) != len(ids):
        raise DataError(f"profile ids to merge repeat: {ids}", field="profile_id")
    chosen = dict(check_mapping(strategies or {}, "strategies"))
    for name, strat in [*chosen.items(), ("default", default)]:
        if strat not in TRAIT_STRATEGIES:
            raise ArgumentError(
                f"strategy {strat!r} for {name!r} is not accepted; use one of "
                f"{list(TRAIT_STRATEGIES)}{did_you_mean(strat, TRAIT_STRATEGIES)}",
                field=name,
            )
    cfg = ActivityConfig() if config is None else config
    conflicts: list[MergeConflict] = []
    traits: dict[str, Trait] = {}
    names = sorted({n for p in items for n in p.traits})
    for name in names:
        collected = [(p.traits[name], p.profile_id) for p in items if name in p.traits]
        traits[name] = _merge_trait(name, chosen.get(name, default), collected)
    consent, disputes = _merge_consent(items, conflicts)
    firsts = [p.first_touch for p in items if p.first_touch is not None]
    lasts = [p.last_touch for p in items if p.last_touch is not None]
    merged = Profile(
        profile_id=profile_id or ids[0],
        identifiers=tuple(i for p in items for i in p.identifiers),
        traits=traits,
        tags=_merge_tags(items, catalog, conflicts),
        consent=consent,
        consent_conflicts=disputes,
        relationships=_merge_relationships(items),
        first_touch=min(firsts, key=Touch.sort_key) if firsts else None,
        last_touch=max(lasts, key=Touch.sort_key) if lasts else None,
        activity=_merge_activity(items, cfg),
    )
    return MergeResult(profile=merged, conflicts=tuple(conflicts))
