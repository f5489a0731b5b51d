r"""Folding events into a profile: counters, interest and intent scores, rule-based tags.

:func:`apply` folds a batch of events into a profile *as of* a moment:

* **counters** -- events per type and per channel, last seen per type and channel, first and
  last event, the sum of ``value`` per type;
* **interest** per content topic, an exponentially decayed, weighted count

  .. math:: I_k(A) = \sum_{e:\,k \in \mathrm{topics}(e)} w(\mathrm{type}_e)\,
            2^{-(A - t_e)/h}

  with ``A`` = ``as_of``, ``t_e`` the event time, ``h`` the half-life in days
  (``interest_half_life_days``, default 30) and ``w`` the weight of the event type
  (``interest_weights``; an event with several topics gives its full weight to each);
* **intent**, from recent high-intent actions: the decayed mass
  :math:`S(A) = \sum_e v(\mathrm{type}_e)\, 2^{-(A - t_e)/h_I}` with short half-life
  :math:`h_I` (``intent_half_life_days``, default 7) and weights ``intent_weights`` (add to cart
  1, message 0.5, scan code 0.3, comment 0.2, click 0.1; other types 0), squashed into
  :math:`[0, 1)` by :math:`\mathrm{intent} = 1 - e^{-S}` (one add-to-cart today: 0.632; the same
  a week ago: :math:`1 - e^{-1/2}` = 0.393);
* **auto-tags** from :mod:`clientmodel.rules` predicates (``rules={"skincare_fan":
  'count(events where type = "view" and topic = "skincare") within last 30 days >= 3'}``).

Decay is always measured from ``as_of``, never from "now" or from the previous event, so the
result does not depend on the order events arrive in: events are deduplicated by ``event_id``,
sorted by (time, id) and summed -- by the event-folding kernel that the table face
(:func:`clientmodel.profile.table.fold_events`) runs too: the new events become columns, the
kernel folds them, and the result is added to the profile's decayed state. The profile stores
its scores at the ``as_of`` of the last fold; a later fold first multiplies them by
:math:`2^{-(A' - A)/h}` -- exact because the decay is exponential -- then adds the new events.
Replaying events changes nothing (idempotent).

The profile keeps the events of the last ``history_days`` (default 400) in
``activity.recent_events``: windowed rules count them, and replays are recognised by their id.
An event at or before ``activity.history_start`` can no longer be checked for replay and is
refused with a :class:`~clientmodel.errors.DataError` (fold such backfills into a fresh profile).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from clientmodel._validation import boundary
from clientmodel.errors import ArgumentError, DataError
from clientmodel.profile._common import (
    aware,
    check_instance,
    days_between,
    decay,
    micros,
    short_validation,
)
from clientmodel.profile._folding import EventColumns, Folded, fold
from clientmodel.profile._rulesupport import (
    PreparedRule,
    field_default,
    prepare_rules,
    window_days,
)
from clientmodel.profile.channels import touch_of
from clientmodel.profile.models import (
    CHANNELS,
    EVENT_TYPES,
    Activity,
    Event,
    Profile,
    TagCatalog,
    Touch,
)
from clientmodel.profile.tags import TagChange, add_tag, expire_tags, remove_tag
from clientmodel.rules import evaluate as evaluate_rule

__all__ = [
    "DEFAULT_INTENT_WEIGHTS",
    "DEFAULT_INTEREST_WEIGHTS",
    "ActivityConfig",
    "apply",
    "evaluate_tag_rules",
    "event_entries",
    "intent_at",
    "interest_at",
    "rule_record",
]

#: Interest weight per event type (types not listed weigh ``default_interest_weight``).
DEFAULT_INTEREST_WEIGHTS: Mapping[str, float] = {
    "view": 1.0,
    "click": 1.5,
    "like": 2.0,
    "comment": 3.0,
    "share": 4.0,
    "add_to_cart": 5.0,
    "purchase": 6.0,
    "message": 2.0,
    "join_group": 1.0,
    "scan_code": 1.0,
}
#: Intent weight per event type (types not listed weigh 0: they carry no purchase intent).
DEFAULT_INTENT_WEIGHTS: Mapping[str, float] = {
    "add_to_cart": 1.0,
    "message": 0.5,
    "scan_code": 0.3,
    "comment": 0.2,
    "click": 0.1,
}


class ActivityConfig(BaseModel):
    """How events become scores (JSON-safe; store it with your rules).

    Attributes
    ----------
    interest_half_life_days:
        Half-life of interest, in days.
    interest_weights, default_interest_weight:
        Interest weight per event type, and for types not listed.
    intent_half_life_days:
        Half-life of intent, in days.
    intent_weights:
        Intent weight per event type (types not listed: 0).
    history_days:
        How many days of events a profile keeps for windowed rules and replay detection; must
        cover the longest rule window.

    Examples
    --------
    >>> ActivityConfig(interest_half_life_days=14).interest_weight("view")
    1.0
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    interest_half_life_days: float = Field(default=30.0, gt=0, allow_inf_nan=False)
    interest_weights: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_INTEREST_WEIGHTS)
    )
    default_interest_weight: float = Field(default=1.0, ge=0, allow_inf_nan=False)
    intent_half_life_days: float = Field(default=7.0, gt=0, allow_inf_nan=False)
    intent_weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_INTENT_WEIGHTS))
    history_days: float = Field(default=400.0, gt=0, allow_inf_nan=False)

    @field_validator("interest_weights", "intent_weights")
    @classmethod
    def _weights(cls, value: dict[str, float]) -> dict[str, float]:
        for key, w in value.items():
            if not (isinstance(w, (int, float)) and math.isfinite(w) and w >= 0):
                raise ValueError(f"weight of {key!r} is {w!r}; weights are finite and >= 0")
        return value

    @boundary
    def interest_weight(self, event_type: str) -> float:
        """The interest weight of an event type.

        Examples
        --------
        >>> ActivityConfig().interest_weight("share"), ActivityConfig().interest_weight("rsvp")
        (4.0, 1.0)
        """
        return self.interest_weights.get(event_type, self.default_interest_weight)

    @boundary
    def intent_weight(self, event_type: str) -> float:
        """The intent weight of an event type (0 for types not listed).

        Examples
        --------
        >>> ActivityConfig().intent_weight("add_to_cart"), ActivityConfig().intent_weight("view")
        (1.0, 0.0)
        """
        return self.intent_weights.get(event_type, 0.0)


_DEFAULT_CONFIG = ActivityConfig()


def _events(profile: Profile, events: Any, as_of: dt.datetime) -> list[Event]:
    if isinstance(events, (Event, Mapping, str, bytes)) or not isinstance(events, Iterable):
        raise ArgumentError(
            f"events must be a list of Event records (or mappings), got {type(events).__name__}",
            field="events",
        )
    out: list[Event] = []
    for i, e in enumerate(events):
        if not isinstance(e, Event):
            if not isinstance(e, Mapping):
                raise DataError(
                    f"event {i} is a {type(e).__name__}; pass Event records or mappings",
                    field="events",
                    rows=[i],
                )
            try:
                e = Event.model_validate(dict(e))
            except ValidationError as exc:
                raise DataError(
                    f"event {i} is not valid: {short_validation(exc)}", field="events", rows=[i]
                ) from None
        if e.timestamp > as_of:
            raise DataError(
                f"event {e.event_id!r} (row {i}) is at {e.timestamp.isoformat()}, after "
                f"as_of={as_of.isoformat()}; fold events up to as_of only (or pass a later as_of)",
                field="timestamp",
                rows=[i],
            )
        if e.profile_id is not None and e.profile_id != profile.profile_id:
            raise DataError(
                f"event {e.event_id!r} (row {i}) belongs to profile {e.profile_id!r}, not "
                f"{profile.profile_id!r}",
                field="profile_id",
                rows=[i],
            )
        out.append(e)
    return out


def _new_events(activity: Activity, batch: list[Event]) -> list[Event]:
    """The events of ``batch`` not yet folded, deduplicated and sorted by (time, id)."""
    known = {e.event_id: e for e in activity.recent_events}
    fresh: dict[str, Event] = {}
    for e in batch:
        seen = known.get(e.event_id) or fresh.get(e.event_id)
        if seen is not None:
            if seen != e:
                raise DataError(
                    f"event id {e.event_id!r} is used by two different events; event ids must "
                    "identify one event (a replay must repeat the event exactly)",
                    field="event_id",
                )
            continue
        if activity.history_start is not None and e.timestamp <= activity.history_start:
            raise DataError(
                f"event {e.event_id!r} at {e.timestamp.isoformat()} is at or before the "
                f"profile's history_start {activity.history_start.isoformat()}: events that old "
                "are no longer kept, so a replay could not be recognised. Fold such backfills "
                "into a fresh profile, or raise ActivityConfig.history_days",
                field="timestamp",
            )
        fresh[e.event_id] = e
    return sorted(fresh.values(), key=lambda e: (e.timestamp, e.event_id))


def _fold(
    activity: Activity, new: list[Event], as_of: dt.datetime, cfg: ActivityConfig
) -> Activity:
    """``activity`` moved to ``as_of`` with the (deduplicated, sorted) ``new`` events added."""
    interest = dict(activity.interest)
    intent = activity.intent_mass
    if activity.as_of is not None and activity.as_of != as_of:
        gap = days_between(activity.as_of, as_of)
        f, f_i = decay(gap, cfg.interest_half_life_days), decay(gap, cfg.intent_half_life_days)
        interest = {k: v * f for k, v in interest.items()}
        intent *= f_i
    counts_t = dict(activity.counts_by_type)
    counts_c = dict(activity.counts_by_channel)
    last_t = dict(activity.last_seen_by_type)
    last_c = dict(activity.last_seen_by_channel)
    values = dict(activity.value_by_type)
    first_seen, last_seen = activity.first_seen, activity.last_seen
    if new:
        folded, names = _fold_new(new, as_of, cfg)
        when = names.when
        by_type = zip(
            names.types,
            folded.counts_by_type[0].tolist(),
            folded.last_by_type[0].tolist(),
            folded.valued_by_type[0].tolist(),
            folded.value_by_type[0].tolist(),
            strict=True,
        )
        for t, n, latest, valued, total in by_type:
            counts_t[t] = counts_t.get(t, 0) + n
            _keep_latest(last_t, t, when[latest])
            if valued:
                values[t] = values.get(t, Decimal(0)) + total
        by_channel = zip(
            names.channels,
            folded.counts_by_channel[0].tolist(),
            folded.last_by_channel[0].tolist(),
            strict=True,
        )
        for c, n, latest in by_channel:
            counts_c[c] = counts_c.get(c, 0) + n
            _keep_latest(last_c, c, when[latest])
        for j, score in zip(folded.interest_topic.tolist(), folded.interest.tolist(), strict=True):
            topic = names.topics[j]
            interest[topic] = interest.get(topic, 0.0) + score
        intent += float(folded.intent_mass[0])
        first, last = when[int(folded.first_seen[0])], when[int(folded.last_seen[0])]
        first_seen = first if first_seen is None or first < first_seen else first_seen
        last_seen = last if last_seen is None or last > last_seen else last_seen
    cutoff = as_of - dt.timedelta(days=cfg.history_days)
    if activity.history_start is not None and activity.history_start > cutoff:
        cutoff = activity.history_start
    # both runs are sorted by (time, id): sorting their concatenation merges them
    merged = (
        sorted([*activity.recent_events, *new], key=_event_key) if new else activity.recent_events
    )
    start = bisect.bisect_right(merged, cutoff, key=_event_time)
    return activity.model_copy(
        update={
            "as_of": as_of,
            "history_start": cutoff,
            "n_events": activity.n_events + len(new),
            "first_seen": first_seen,
            "last_seen": last_seen,
            "counts_by_type": _sorted_keys(counts_t, activity.counts_by_type),
            "counts_by_channel": _sorted_keys(counts_c, activity.counts_by_channel),
            "last_seen_by_type": _sorted_keys(last_t, activity.last_seen_by_type),
            "last_seen_by_channel": _sorted_keys(last_c, activity.last_seen_by_channel),
            "value_by_type": _sorted_keys(values, activity.value_by_type),
            "interest": _sorted_keys(interest, activity.interest),
            "intent_mass": intent,
            "recent_events": tuple(merged[start:]),
        }
    )


@attrs.frozen(eq=False)
class _Names:
    """What the kernel's codes stand for on the record face: type, channel and topic names, and
    the event time (as given, with its timezone) of each UTC microsecond value."""

    types: list[str]
    channels: list[str]
    topics: list[str]
    when: dict[int, dt.datetime]


def _fold_new(new: list[Event], as_of: dt.datetime, cfg: ActivityConfig) -> tuple[Folded, _Names]:
    """The new events of one profile as columns, folded by the shared kernel."""
    types: dict[str, int] = {}
    channels: dict[str, int] = {}
    topics: dict[str, int] = {}
    t_us = [micros(e.timestamp) for e in new]
    when: dict[int, dt.datetime] = {}
    for us, e in zip(t_us, new, strict=True):  # ties: the first in (time, id) order, as before
        when.setdefault(us, e.timestamp)
    type_codes = [types.setdefault(e.type, len(types)) for e in new]
    channel_codes = [channels.setdefault(e.channel, len(channels)) for e in new]
    topic_event: list[int] = []
    topic: list[int] = []
    for i, e in enumerate(new):
        for k in e.topics:
            topic_event.append(i)
            topic.append(topics.setdefault(k, len(topics)))
    codes = np.array([type_codes, channel_codes, t_us], dtype=np.int64).reshape(3, len(new))
    pairs = np.array([topic_event, topic], dtype=np.int64).reshape(2, len(topic))
    columns = EventColumns(
        n_profiles=1,
        type_names=list(types),
        n_channels=len(channels),
        n_topics=len(topics),
        profile=np.zeros(len(new), dtype=np.int64),
        type=codes[0],
        channel=codes[1],
        t_us=codes[2],
        value=[e.value for e in new],
        topic_event=pairs[0],
        topic=pairs[1],
    )
    folded = fold(
        columns,
        micros(as_of),
        interest_half_life=cfg.interest_half_life_days,
        interest_weights=cfg.interest_weights,
        default_interest_weight=cfg.default_interest_weight,
        intent_half_life=cfg.intent_half_life_days,
        intent_weights=cfg.intent_weights,
    )
    return folded, _Names(list(types), list(channels), list(topics), when)


def _keep_latest(latest: dict[str, dt.datetime], key: str, t: dt.datetime) -> None:
    if key not in latest or t > latest[key]:
        latest[key] = t


def _event_key(e: Event) -> tuple[dt.datetime, str]:
    return (e.timestamp, e.event_id)


def _event_time(e: Event) -> dt.datetime:
    return e.timestamp


def _sorted_keys(d: dict[str, Any], before: Mapping[str, Any]) -> dict[str, Any]:
    """``d`` with its keys in sorted order (a canonical form, so equal states compare equal).

    ``d`` started as a copy of the sorted ``before``; only new keys can break the order.
    """
    return d if len(d) == len(before) else dict(sorted(d.items()))


def _touches(profile: Profile, new: list[Event]) -> Profile:
    touches = [t for t in (touch_of(e) for e in new) if t is not None]
    if not touches:
        return profile
    first: Touch | None = min(touches, key=Touch.sort_key)
    last: Touch | None = max(touches, key=Touch.sort_key)
    cur_first, cur_last = profile.first_touch, profile.last_touch
    if cur_first is not None and first is not None and cur_first.sort_key() <= first.sort_key():
        first = cur_first
    if cur_last is not None and last is not None and cur_last.sort_key() >= last.sort_key():
        last = cur_last
    return profile.model_copy(update={"first_touch": first, "last_touch": last})


@boundary
def apply(
    profile: Profile,
    events: Iterable[Event | Mapping[str, Any]],
    *,
    as_of: dt.datetime,
    rules: Mapping[str, Any] | None = None,
    config: ActivityConfig | None = None,
    catalog: TagCatalog | None = None,
) -> tuple[Profile, list[TagChange]]:
    """Fold events into a profile as of ``as_of`` and re-evaluate rule-based tags.

    Parameters
    ----------
    profile:
        The profile (not modified).
    events:
        :class:`Event` records or mappings of their fields, in any order; duplicates (same
        ``event_id`` and content) and events already folded are skipped.
    as_of:
        The moment of the fold (timezone-aware): scores are decayed to it, rule windows end at it.
        It may not be before the profile's ``activity.as_of``; every event must be at or before it.
    rules:
        ``{tag: rule}`` with :mod:`clientmodel.rules` text or parsed rules over the fields of
        :func:`rule_record` and event aggregates over ``events``. A tag is added (source
        ``rule``) when its rule holds and removed when a tag the rule gave no longer holds; tags
        given by hand are left alone. In an exclusive group, a tag given by hand (any source but
        ``rule``) takes precedence: no rule replaces it; otherwise the first rule (in mapping
        order) that holds wins. Tags whose ``expires_at`` is at or before ``as_of`` are expired
        first (reported as ``expired`` changes), so they never satisfy ``has tag``.
    config:
        Half-lives, weights and retained history (:class:`ActivityConfig`).
    catalog:
        Tag groups for rule tags.

    Returns
    -------
    (Profile, list[TagChange])
        The new profile and the tag changes rules made.

    Raises
    ------
    DataError
        Invalid events, an event after ``as_of``, two different events with one id, or an
        event older than the retained history.

    Examples
    --------
    >>> import datetime as dt
    >>> t0 = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> views = [Event(event_id=f"v{i}", type="view", channel="mini_program",
    ...                timestamp=t0 + dt.timedelta(days=i), topics=("skincare",))
    ...          for i in range(3)]
    >>> p, changes = apply(Profile(profile_id="p1"), views, as_of=t0 + dt.timedelta(days=2),
    ...     rules={"skincare_fan":
    ...            'count(events where topic = "skincare") within last 30 days >= 3'})
    >>> p.activity.counts_by_type, round(p.activity.interest["skincare"], 4)
    ({'view': 3}, 2.932)
    >>> [(c.action, c.tag) for c in changes]
    [('added', 'skincare_fan')]
    >>> apply(p, views, as_of=t0 + dt.timedelta(days=2))[0] == p  # replay: nothing changes
    True
    """
    as_of = aware(as_of, "as_of")
    cfg = _activity_config(config)
    prepared = prepare_rules(rules)
    previous = profile.activity.as_of
    if previous is not None and as_of < previous:
        raise ArgumentError(
            f"as_of={as_of.isoformat()} is before the profile's last fold "
            f"({previous.isoformat()}); profiles only move forward in time",
            field="as_of",
        )
    _check_windows(prepared, cfg)
    batch = _events(profile, events, as_of)
    new = _new_events(profile.activity, batch)
    activity = _fold(profile.activity, new, as_of, cfg)
    out = profile.model_copy(update={"activity": activity})
    out = _touches(out, new)
    out, expired = expire_tags(out, as_of)  # an expired tag never satisfies `has tag`
    if not prepared:
        return out, expired
    out, changes = _apply_rules(out, prepared, as_of, catalog)
    return out, [*expired, *changes]


def _check_windows(prepared: tuple[PreparedRule, ...], cfg: ActivityConfig) -> None:
    for rule in prepared:
        for agg in rule.aggregates:
            if agg.window is None or agg.window[0] == "older":
                problem = "without a 'within last ...' window"
            elif agg.window[0] == "last":
                days = window_days(agg.window)
                if days <= cfg.history_days:
                    continue
                problem = f"over up to {days:g} days"
            else:  # "next": events after as_of never exist, the count is 0
                continue
            raise ArgumentError(
                f"rule for tag {rule.tag!r} counts events {problem}, but profiles keep only the "
                f"last {cfg.history_days:g} days of events (ActivityConfig.history_days). Give "
                "the aggregate a 'within last ...' window that fits, or test the counters "
                "instead (e.g. n_purchase >= 3)",
                field=rule.tag,
            )


def event_entries(event: Event) -> list[dict[str, Any]]:
    """The entries a rule sees for one event: one per topic (one with ``topic`` null if none).

    Each entry holds the fields of :data:`~clientmodel.profile.models.EVENT_FIELDS` plus the
    event's properties; ``value`` is a float.

    Examples
    --------
    >>> import datetime as dt
    >>> e = Event(event_id="e1", type="view", channel="web", topics=("a", "b"),
    ...           timestamp=dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc))
    >>> [x["topic"] for x in event_entries(e)]
    ['a', 'b']
    """
    check_instance(event, Event, "event")
    base: dict[str, Any] = {
        "event_id": event.event_id,
        "profile_id": event.profile_id,
        "type": event.type,
        "channel": event.channel,
        "timestamp": event.timestamp,
        "value": None if event.value is None else float(event.value),
        "channel_code": event.channel_code,
        "campaign": event.campaign,
        "staff_id": event.staff_id,
    }
    base.update(event.properties)
    topics: tuple[str | None, ...] = event.topics or (None,)
    return [{**base, "topic": t} for t in topics]


def _aggregate_value(
    agg: Any, events: tuple[Event, ...], as_of: dt.datetime, evaluate: Any
) -> float | int:
    count = 0
    total: list[float] = []
    if agg.window is not None:
        if agg.window[0] != "last":  # "next": no event lies after as_of
            return 0 if agg.func == "count" else 0.0
        # a cheap, conservative cut before the exact window test of clientmodel.rules
        horizon = as_of - dt.timedelta(days=window_days(agg.window) + 2)
        events = tuple(e for e in events if e.timestamp > horizon)
    for e in events:
        entries = event_entries(e)
        if agg.predicate is not None and not any(
            evaluate(agg.predicate, x, as_of=as_of) for x in entries
        ):
            continue
        if agg.func == "count":
            count += 1
            continue
        amount = entries[0].get(agg.value_field)
        if amount is None:
            continue
        if isinstance(amount, bool) or not isinstance(amount, (int, float)):
            raise DataError(
                f"sum over events.{agg.value_field}: event {e.event_id!r} holds {amount!r}, "
                "which is not a number",
                field=agg.value_field,
            )
        total.append(float(amount))
    # money adds as decimals (each float as its shortest spelling), as the table face does
    return (
        count if agg.func == "count" else float(sum((Decimal(repr(a)) for a in total), Decimal(0)))
    )


def _touch_fields(prefix: str, touch: Touch | None) -> dict[str, Any]:
    return {
        f"{prefix}_source": None if touch is None else touch.source,
        f"{prefix}_channel": None if touch is None else touch.channel,
        f"{prefix}_code": None if touch is None else touch.channel_code,
        f"{prefix}_campaign": None if touch is None else touch.campaign,
    }


def rule_record(profile: Profile, *, fields: Iterable[str] = ()) -> dict[str, Any]:
    """The fields tag rules see on a profile (the table face builds the same columns).

    * ``profile_id``; ``tags`` (company tag ids); ``staff`` (staff with an active relationship);
    * every trait by its name;
    * ``n_events``, ``first_seen``, ``last_seen``, ``intent`` (at ``activity.as_of``);
    * per event type ``T``: ``n_T``, ``last_seen_T``, ``sum_T`` (sum of values); per channel
      ``C``: ``n_via_C``, ``last_seen_via_C`` -- for every known type and channel and every one
      seen;
    * ``interest_K`` per topic ``K`` seen (at ``activity.as_of``);
    * ``first_touch_source`` / ``_channel`` / ``_code`` / ``_campaign`` and the same for
      ``last_touch``.

    ``fields`` names further derived fields to fill with their "never seen" value (0 for
    counts, 0.0 for sums and scores, null for times), e.g. ``interest_golf``.

    Examples
    --------
    >>> r = rule_record(Profile(profile_id="p1"), fields=["interest_golf"])
    >>> r["n_view"], r["interest_golf"], r["last_seen_purchase"], r["tags"]
    (0, 0.0, None, [])
    """
    check_instance(profile, Profile, "profile")
    if isinstance(fields, (str, bytes)) or not isinstance(fields, Iterable):
        raise ArgumentError(
            f"fields must be a list of field names, got {type(fields).__name__}", field="fields"
        )
    act = profile.activity
    record: dict[str, Any] = {
        "profile_id": profile.profile_id,
        "tags": sorted(profile.tag_ids),
        "staff": list(profile.owners),
    }
    for name, trait in profile.traits.items():
        record[name] = trait.value
    record["n_events"] = act.n_events
    record["first_seen"] = act.first_seen
    record["last_seen"] = act.last_seen
    record["intent"] = act.intent
    for t in sorted({*EVENT_TYPES, *act.counts_by_type}):
        record[f"n_{t}"] = act.counts_by_type.get(t, 0)
        record[f"last_seen_{t}"] = act.last_seen_by_type.get(t)
        v = act.value_by_type.get(t)
        record[f"sum_{t}"] = 0.0 if v is None else float(v)
    for c in sorted({*CHANNELS, *act.counts_by_channel}):
        record[f"n_via_{c}"] = act.counts_by_channel.get(c, 0)
        record[f"last_seen_via_{c}"] = act.last_seen_by_channel.get(c)
    for k, score in act.interest.items():
        record[f"interest_{k}"] = score
    record.update(_touch_fields("first_touch", profile.first_touch))
    record.update(_touch_fields("last_touch", profile.last_touch))
    for name in fields:
        if name not in record and name not in profile.traits:
            record[name] = field_default(name)
    return record


@boundary
def evaluate_tag_rules(
    profile: Profile,
    rules: Mapping[str, Any],
    *,
    as_of: dt.datetime | None = None,
    config: ActivityConfig | None = None,
) -> dict[str, bool]:
    """Whether each tag rule holds for the profile (without changing it).

    ``as_of`` defaults to the profile's last fold; it may not be earlier than that.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> evaluate_tag_rules(Profile(profile_id="p1"), {"new": "n_events = 0"}, as_of=t)
    {'new': True}
    """
    prepared = prepare_rules(rules)
    moment = profile.activity.as_of if as_of is None else aware(as_of, "as_of")
    if moment is None:
        raise ArgumentError(
            "the profile was never folded; pass as_of= to evaluate its rules", field="as_of"
        )
    if profile.activity.as_of is not None and moment < profile.activity.as_of:
        raise ArgumentError(
            f"as_of={moment.isoformat()} is before the profile's last fold "
            f"({profile.activity.as_of.isoformat()})",
            field="as_of",
        )
    if profile.activity.as_of is not None and moment != profile.activity.as_of:
        profile = profile.model_copy(update={"activity": _moved(profile, moment, config)})
    return _holds(profile, prepared, moment)


def _holds(
    profile: Profile, prepared: tuple[PreparedRule, ...], as_of: dt.datetime
) -> dict[str, bool]:
    evaluate = evaluate_rule
    fields: set[str] = set()
    for rule in prepared:
        fields |= rule.fields
    base = rule_record(profile, fields=fields)
    out: dict[str, bool] = {}
    events = profile.activity.recent_events
    for rule in prepared:
        record = base
        if rule.aggregates:
            record = dict(base)
            for agg in rule.aggregates:
                record[agg.name] = _aggregate_value(agg, events, as_of, evaluate)
        out[rule.tag] = bool(evaluate(rule.rule, record, as_of=as_of))
    return out


def _apply_rules(
    profile: Profile,
    prepared: tuple[PreparedRule, ...],
    as_of: dt.datetime,
    catalog: TagCatalog | None,
) -> tuple[Profile, list[TagChange]]:
    holds = _holds(profile, prepared, as_of)
    changes: list[TagChange] = []
    fired_groups: set[str] = set()
    out = profile
    for rule in prepared:
        tag = rule.tag
        group = catalog.group_of(tag) if catalog is not None else None
        current = next((a for a in out.tags if a.tag == tag), None)
        if holds[tag]:
            exclusive_taken = (
                group is not None and group.exclusive and (group.group_id in fired_groups)
            ) or (group is not None and group.exclusive and _hand_given_in(out, group.tags))
            if group is not None and group.exclusive and not exclusive_taken:
                fired_groups.add(group.group_id)
            if current is not None or exclusive_taken:
                continue
            out, ch = add_tag(
                out, tag, at=as_of, source="rule", assigned_by=f"rule:{tag}", catalog=catalog
            )
            changes.extend(ch)
        elif current is not None and current.source == "rule":
            out, ch = remove_tag(
                out, tag, at=as_of, by=f"rule:{tag}", reason="rule no longer holds"
            )
            changes.extend(ch)
    return out, changes


def _hand_given_in(profile: Profile, tags: tuple[str, ...]) -> bool:
    """Whether the profile holds one of ``tags`` not given by a rule (rules never replace it)."""
    return any(a.tag in tags and a.source != "rule" for a in profile.tags)


@boundary
def interest_at(
    profile: Profile, as_of: dt.datetime, config: ActivityConfig | None = None
) -> dict[str, float]:
    """Interest scores decayed to ``as_of`` (at or after the profile's last fold).

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> e = Event(event_id="e", type="view", channel="app", timestamp=t, topics=("golf",))
    >>> p, _ = apply(Profile(profile_id="p"), [e], as_of=t)
    >>> interest_at(p, t + dt.timedelta(days=30))  # one half-life later
    {'golf': 0.5}
    """
    act = _moved(profile, as_of, config)
    return dict(act.interest)


@boundary
def intent_at(profile: Profile, as_of: dt.datetime, config: ActivityConfig | None = None) -> float:
    """The intent score :math:`1 - e^{-S}` at ``as_of`` (at or after the profile's last fold).

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> e = Event(event_id="e", type="add_to_cart", channel="app", timestamp=t)
    >>> p, _ = apply(Profile(profile_id="p"), [e], as_of=t)
    >>> round(intent_at(p, t), 3), round(intent_at(p, t + dt.timedelta(days=7)), 3)
    (0.632, 0.393)
    """
    return _moved(profile, as_of, config).intent


def _activity_config(config: Any) -> ActivityConfig:
    """``config``, or the default half-lives and weights when it is ``None``."""
    if config is None:
        return _DEFAULT_CONFIG
    return check_instance(config, ActivityConfig, "config")


def _moved(profile: Profile, as_of: dt.datetime, config: ActivityConfig | None) -> Activity:
    as_of = aware(as_of, "as_of")
    config = _activity_config(config)
    act = profile.activity
    if act.as_of is None:
        return act
    if as_of < act.as_of:
        raise ArgumentError(
            f"as_of={as_of.isoformat()} is before the profile's last fold "
            f"({act.as_of.isoformat()}); scores can only be read forward in time",
            field="as_of",
        )
    return _fold(act, [], as_of, _activity_config(config))
