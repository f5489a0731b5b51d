"""Records of a consumer profile: events, tags and tag groups, staff relationships, channel codes.

Every record is a frozen pydantic v2 model that forbids unknown fields, accepts only
timezone-aware datetimes, serialises to JSON and publishes a JSON Schema
(``Profile.model_json_schema()``). Functions in the sibling modules take these records and return
new ones; nothing is ever mutated.

* :class:`Event` -- one thing a person did on one channel at one moment (view, click, like,
  comment, share, add_to_cart, purchase, message, join_group, scan_code, ...).
* :class:`TagGroup` / :class:`TagCatalog` -- the company's tag vocabulary; a group is
  *exclusive* (at most one of its tags at a time: lifecycle, member tier) or *open*.
* :class:`TagAssignment` -- one tag on a profile (or on one staff member's relationship) with its
  source, who assigned it, when, and an optional expiry.
* :class:`StaffRelationship` -- one staff member's relationship with the customer: how and when it
  started, the channel code, the follow-up state, private tags and notes, when it ended.
* :class:`ChannelCode` -- a "live QR code": channel, tags it gives, the staff pool and its
  assignment strategy, per-staff daily limit, spare staff, validity window.
* :class:`Profile` -- the person: identifiers, traits, company tags, consent per channel,
  relationships, first/last-touch attribution and the folded :class:`Activity` (counters,
  interest and intent state, recent events).

Tags are always kept as tuples of assignments keyed by tag id, sorted by id: never a
concatenated string. Identifiers are :class:`clientmodel.identity.kinds.Identifier` records.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from clientmodel._validation import boundary
from clientmodel.identity.kinds import Identifier
from clientmodel.profile._common import FrozenRecord, intent_score, zone
from clientmodel.profile._welcome import parse_template

__all__ = [
    "CHANNELS",
    "EVENT_FIELDS",
    "EVENT_TYPES",
    "FOLLOW_UP_STATES",
    "RESERVED_TRAIT_PREFIXES",
    "STATE_MAX_LENGTH",
    "TAG_SOURCES",
    "WEEKDAYS",
    "Activity",
    "ChannelCode",
    "Consent",
    "Event",
    "FollowUpState",
    "LegalBasis",
    "Note",
    "PoolMember",
    "Profile",
    "RelationshipStart",
    "Shift",
    "StaffRelationship",
    "TagAssignment",
    "TagCatalog",
    "TagGroup",
    "TagSource",
    "Touch",
    "Trait",
    "TraitValue",
    "Weekday",
]

# hide_input_in_errors: a ValidationError must not echo a phone or an email in full (the
# messages of our validators mask them; pydantic would otherwise print the raw input after them)
_CONFIG = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

#: Event types the library knows (weights in :class:`~clientmodel.profile.activity.ActivityConfig`
#: refer to them); any other lower-case snake_case name is accepted too.
EVENT_TYPES: tuple[str, ...] = (
    "view",
    "click",
    "like",
    "comment",
    "share",
    "add_to_cart",
    "purchase",
    "message",
    "join_group",
    "scan_code",
)
#: Channels the library knows; any other lower-case snake_case name is accepted too.
CHANNELS: tuple[str, ...] = (
    "wechat",
    "wecom",
    "mini_program",
    "app",
    "web",
    "sms",
    "email",
    "store",
    "phone",
)

TagSource = Literal["manual", "rule", "channel_code", "import", "model"]
#: Where a tag assignment came from.
TAG_SOURCES: tuple[str, ...] = TagSource.__args__  # type: ignore[attr-defined]

FollowUpState = Literal["awaiting", "in_follow_up", "won", "no_intent", "lost"]
#: Follow-up states of a staff relationship, in their usual order.
FOLLOW_UP_STATES: tuple[str, ...] = FollowUpState.__args__  # type: ignore[attr-defined]

RelationshipStart = Literal["code_scan", "search", "share", "assignment"]

#: Trait names may not start with these: the rule record uses them for derived fields
#: (``n_view``, ``sum_purchase``, ``last_seen_view``, ``interest_skincare``, ``intent``, ...).
RESERVED_TRAIT_PREFIXES: tuple[str, ...] = (
    "n_",
    "sum_",
    "last_seen",
    "first_seen",
    "interest_",
    "intent",
    "first_touch",
    "last_touch",
)
_RESERVED_TRAITS = frozenset({"profile_id", "tags", "events", "staff"})

#: The fields of an event as rules and tables see them (properties come on top).
EVENT_FIELDS: tuple[str, ...] = (
    "event_id",
    "profile_id",
    "type",
    "channel",
    "timestamp",
    "topic",
    "value",
    "channel_code",
    "campaign",
    "staff_id",
)

_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_TRAIT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

Id = Annotated[str, Field(min_length=1, max_length=200)]

#: A JSON value a trait may hold: a scalar or a flat list of scalars.
TraitValue: TypeAlias = str | int | float | bool | list[str | int | float | bool] | None
#: A JSON scalar an event property may hold.
PropertyValue: TypeAlias = str | int | float | bool | None


def _check_id(value: str, what: str) -> str:
    if value != value.strip() or _CONTROL.search(value):
        raise ValueError(f"{what} {value!r} must not have surrounding spaces or control characters")
    return value


def _check_name(value: str, what: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(
            f"{what} {value!r} is not accepted; use a lower-case snake_case name such as "
            "'add_to_cart' or 'mini_program' (letters, digits, '_', at most 64 characters)"
        )
    return value


# ----------------------------------------------------------------------------------- events
class Event(FrozenRecord):
    """One thing a person did, on one channel, at one moment.

    Attributes
    ----------
    event_id:
        Unique id of the event; folding deduplicates by it, so replaying events is harmless.
    type:
        ``view``, ``click``, ``like``, ``comment``, ``share``, ``add_to_cart``, ``purchase``,
        ``message``, ``join_group``, ``scan_code`` (see :data:`EVENT_TYPES`) or any other
        lower-case snake_case name.
    channel:
        ``wechat``, ``wecom``, ``mini_program``, ``app``, ``web``, ``sms``, ``email``,
        ``store``, ``phone`` (see :data:`CHANNELS`) or another snake_case name.
    timestamp:
        When it happened (timezone-aware; required).
    topics:
        Content topics of what was seen or bought (stored sorted and unique). Each topic gets the
        event's full weight in the interest scores.
    value:
        A number attached to the event, e.g. the order amount of a purchase, in the caller's
        one accounting currency.
    profile_id:
        The profile the event belongs to (optional on the record face; the table face needs it).
    channel_code, campaign:
        The channel code (live QR code) or campaign the event came through; events carrying
        either update first-touch / last-touch attribution.
    staff_id:
        The staff member involved (e.g. the one messaged), when there is one.
    properties:
        Further JSON scalars (e.g. ``{"sku": "A12"}``); rules see them as event fields, so they
        may not reuse the names in :data:`EVENT_FIELDS`.

    Examples
    --------
    >>> import datetime as dt
    >>> e = Event(event_id="e1", type="view", channel="mini_program",
    ...           timestamp=dt.datetime(2024, 5, 1, 9, tzinfo=dt.timezone.utc),
    ...           topics=("skincare", "serum", "skincare"))
    >>> e.topics
    ('serum', 'skincare')
    """

    model_config = _CONFIG

    event_id: Id
    type: str
    channel: str
    timestamp: AwareDatetime
    topics: tuple[str, ...] = ()
    value: Decimal | None = None
    profile_id: Id | None = None
    channel_code: Id | None = None
    campaign: Id | None = None
    staff_id: Id | None = None
    properties: dict[str, PropertyValue] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _needs_timestamp(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("timestamp") is None:
            raise ValueError(
                f"event {data.get('event_id')!r} has no timestamp; every event needs a "
                "timezone-aware timestamp such as '2024-05-01T09:00:00+08:00'"
            )
        return data

    @field_validator("event_id", "profile_id", "channel_code", "campaign", "staff_id")
    @classmethod
    def _ids(cls, value: str | None) -> str | None:
        return None if value is None else _check_id(value, "id")

    @field_validator("type")
    @classmethod
    def _type(cls, value: str) -> str:
        return _check_name(value, "event type")

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        return _check_name(value, "channel")

    @field_validator("topics", mode="before")
    @classmethod
    def _topics(cls, value: Any) -> Any:
        if isinstance(value, str):
            raise ValueError(
                f"topics={value!r} is a string; pass a list of topics such as ['skincare']"
            )
        if isinstance(value, (list, tuple, set, frozenset)):
            out = set()
            for topic in value:
                if not isinstance(topic, str) or not topic.strip() or _CONTROL.search(topic):
                    raise ValueError(
                        f"topic {topic!r} is not accepted; topics are non-empty text without "
                        "control characters"
                    )
                if len(topic) > 100:
                    raise ValueError(f"topic {topic[:20]!r}... is longer than 100 characters")
                out.add(topic.strip())
            return tuple(sorted(out))
        return value

    @field_validator("value")
    @classmethod
    def _finite(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and not value.is_finite():
            raise ValueError(f"value {value} is not a finite number")
        return value

    @field_validator("properties")
    @classmethod
    def _props(cls, value: dict[str, PropertyValue]) -> dict[str, PropertyValue]:
        for key, item in value.items():
            if key in EVENT_FIELDS or key == "topics" or not _TRAIT.fullmatch(key):
                raise ValueError(
                    f"property name {key!r} is not accepted; use a name of letters, digits and "
                    f"'_' that is not one of the event's own fields {list(EVENT_FIELDS)}"
                )
            if isinstance(item, float) and not math.isfinite(item):
                raise ValueError(f"property {key!r} holds {item!r}; use a finite number")
        return value


# ----------------------------------------------------------------------------------- tags
class TagGroup(BaseModel):
    """A group of company tags: exclusive (at most one tag at a time) or open.

    Examples
    --------
    >>> TagGroup(group_id="tier", exclusive=True, tags=("silver", "gold")).tags
    ('silver', 'gold')
    """

    model_config = _CONFIG

    group_id: Id
    name: str | None = None
    exclusive: bool = False
    tags: tuple[Id, ...] = Field(min_length=1)

    @field_validator("tags")
    @classmethod
    def _unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        seen: set[str] = set()
        for tag in value:
            _check_id(tag, "tag id")
            if tag in seen:
                raise ValueError(f"tag {tag!r} is listed twice in the group")
            seen.add(tag)
        return value


#: The longest tag name accepted by default (WeCom's customer tags: 30 characters).
DEFAULT_MAX_TAG_LENGTH = 30


class TagCatalog(BaseModel):
    """The company's tag groups. With ``enforce=True`` every tag must belong to a group.

    Tag ids are unique across groups, so a tag id names its group. ``max_tag_length`` bounds
    tag names (default 30 characters, WeCom's limit; it applies to every tag added under the
    catalog, and without a catalog too); ``max_tags_per_group`` bounds the tags of one group
    (``None``: no bound).

    Examples
    --------
    >>> cat = TagCatalog(groups=(TagGroup(group_id="tier", exclusive=True, tags=("gold",)),))
    >>> cat.group_of("gold").group_id
    'tier'
    """

    model_config = _CONFIG

    groups: tuple[TagGroup, ...] = ()
    enforce: bool = True
    max_tag_length: int = Field(default=DEFAULT_MAX_TAG_LENGTH, ge=1, le=200)
    max_tags_per_group: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _unique_tags(self) -> TagCatalog:
        owner: dict[str, str] = {}
        ids: set[str] = set()
        for group in self.groups:
            if self.max_tags_per_group is not None and len(group.tags) > self.max_tags_per_group:
                raise ValueError(
                    f"tag group {group.group_id!r} has {len(group.tags)} tags; at most "
                    f"{self.max_tags_per_group} tags per group (max_tags_per_group)"
                )
            for tag in group.tags:
                if len(tag) > self.max_tag_length:
                    raise ValueError(
                        f"tag {tag[:40]!r} in group {group.group_id!r} has {len(tag)} characters;"
                        f" at most {self.max_tag_length} (max_tag_length; WeCom allows 30)"
                    )
            if group.group_id in ids:
                raise ValueError(f"tag group {group.group_id!r} is defined twice")
            ids.add(group.group_id)
            for tag in group.tags:
                if tag in owner:
                    raise ValueError(
                        f"tag {tag!r} is in groups {owner[tag]!r} and {group.group_id!r}; a tag "
                        "belongs to one group"
                    )
                owner[tag] = group.group_id
        return self

    def group_of(self, tag: str) -> TagGroup | None:
        """The group holding ``tag`` (``None`` when no group lists it).

        Examples
        --------
        >>> TagCatalog().group_of("x") is None
        True
        """
        for group in self.groups:
            if tag in group.tags:
                return group
        return None

    def group(self, group_id: str) -> TagGroup | None:
        """The group with this id, or ``None``.

        Examples
        --------
        >>> TagCatalog().group("tier") is None
        True
        """
        for group in self.groups:
            if group.group_id == group_id:
                return group
        return None


class TagAssignment(FrozenRecord):
    """One tag on a profile (company tag) or on a staff relationship (private tag).

    Attributes
    ----------
    tag:
        The tag id.
    group:
        Its group id (``None`` for tags outside any catalog).
    source:
        ``manual``, ``rule``, ``channel_code``, ``import`` or ``model``.
    assigned_by:
        Who or what assigned it: a staff id, a rule's tag id, a channel code id, a model name.
    at:
        When it was assigned.
    expires_at:
        When it lapses (``expire_tags`` removes it at or after that moment).

    Examples
    --------
    >>> import datetime as dt
    >>> TagAssignment(tag="vip", at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)).source
    'manual'
    """

    model_config = _CONFIG

    tag: Id
    group: Id | None = None
    source: TagSource = "manual"
    assigned_by: Id | None = None
    at: AwareDatetime
    expires_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _expiry_after(self) -> TagAssignment:
        _check_id(self.tag, "tag id")
        if self.expires_at is not None and self.expires_at <= self.at:
            raise ValueError(
                f"tag {self.tag!r}: expires_at {self.expires_at.isoformat()} must be after "
                f"at {self.at.isoformat()}"
            )
        return self


def _sorted_unique_tags(value: tuple[TagAssignment, ...], where: str) -> tuple[TagAssignment, ...]:
    seen: set[str] = set()
    for item in value:
        if item.tag in seen:
            raise ValueError(f"tag {item.tag!r} appears twice in {where}")
        seen.add(item.tag)
    return tuple(sorted(value, key=lambda a: a.tag))


# ----------------------------------------------------------------------------------- staff
class Note(BaseModel):
    """A staff member's private note on a customer.

    Examples
    --------
    >>> import datetime as dt
    >>> Note(text="prefers evening calls", at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)).text
    'prefers evening calls'
    """

    model_config = _CONFIG

    text: str = Field(min_length=1, max_length=10_000)
    at: AwareDatetime


class StaffRelationship(FrozenRecord):
    """One staff member's relationship with the customer (one per staff member).

    Attributes
    ----------
    staff_id:
        The staff member.
    started_at, how:
        When and how it started: ``code_scan``, ``search``, ``share`` or ``assignment``.
    channel_code:
        The channel code scanned, when ``how="code_scan"``.
    follow_up, follow_up_at:
        ``awaiting``, ``in_follow_up``, ``won``, ``no_intent`` or ``lost``, and when it was set.
    tags, notes:
        The staff member's private tags and notes (never shown as company tags).
    ended_at, end_reason:
        When it ended and why (``customer_deleted``: the customer removed the staff member;
        ``staff_deleted``; ``staff_left``; ``transferred``; ``reassigned``; ``customer_request``).
        Churn is per relationship.

    Examples
    --------
    >>> import datetime as dt
    >>> r = StaffRelationship(staff_id="s1", how="code_scan",
    ...                       started_at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))
    >>> r.active, r.follow_up
    (True, 'awaiting')
    """

    model_config = _CONFIG

    staff_id: Id
    started_at: AwareDatetime
    how: RelationshipStart
    channel_code: Id | None = None
    follow_up: FollowUpState = "awaiting"
    follow_up_at: AwareDatetime | None = None
    tags: tuple[TagAssignment, ...] = ()
    notes: tuple[Note, ...] = ()
    ended_at: AwareDatetime | None = None
    end_reason: (
        Literal[
            "customer_deleted",
            "staff_deleted",
            "staff_left",
            "transferred",
            "reassigned",
            "customer_request",
        ]
        | None
    ) = None

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: tuple[TagAssignment, ...]) -> tuple[TagAssignment, ...]:
        return _sorted_unique_tags(value, "a relationship's private tags")

    @model_validator(mode="after")
    def _ended(self) -> StaffRelationship:
        if self.ended_at is not None and self.ended_at < self.started_at:
            raise ValueError(
                f"relationship with {self.staff_id!r} ends ({self.ended_at.isoformat()}) before "
                f"it starts ({self.started_at.isoformat()})"
            )
        if (self.ended_at is None) != (self.end_reason is None):
            raise ValueError("ended_at and end_reason go together: set both or neither")
        return self

    @property
    def active(self) -> bool:
        """Whether the relationship is ongoing (not ended)."""
        return self.ended_at is None


class PoolMember(BaseModel):
    """A staff member in a channel code's pool, with a weight for the ``weighted`` strategy.

    Examples
    --------
    >>> PoolMember(staff_id="s1", weight=2).weight
    2
    """

    model_config = _CONFIG

    staff_id: Id
    weight: int = Field(default=1, ge=1, le=1_000_000)
    daily_limit: int | None = Field(default=None, ge=1)


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
#: Weekday names of a :class:`Shift`, Monday first (``WEEKDAYS[d.weekday()]``).
WEEKDAYS: tuple[str, ...] = Weekday.__args__  # type: ignore[attr-defined]

#: WeCom's limit on the ``state`` parameter of a "contact me" code: at most 30 characters.
STATE_MAX_LENGTH = 30


class Shift(BaseModel):
    """Staff on duty on some weekdays between two wall-clock times of the code's timezone.

    ``start <= t < end`` on each of ``days``. A shift with ``end <= start`` runs past midnight:
    it covers ``t >= start`` on each of ``days`` and ``t < end`` on the day after (so
    ``start == end`` is 24 hours from ``start``). Times are local to the channel code's
    ``timezone`` and follow its daylight-saving changes (09:00 stays 09:00 on the wall clock).

    Examples
    --------
    >>> import datetime as dt
    >>> s = Shift(staff=("s1",), days=("mon", "tue"), start="09:00", end="18:00")
    >>> s.covers(dt.datetime(2024, 5, 6, 9, 0)), s.covers(dt.datetime(2024, 5, 6, 18, 0))
    (True, False)
    """

    model_config = _CONFIG

    staff: tuple[Id, ...] = Field(min_length=1)
    days: tuple[Weekday, ...] = Field(min_length=1)
    start: dt.time
    end: dt.time

    @field_validator("start", "end")
    @classmethod
    def _local(cls, value: dt.time) -> dt.time:
        if value.tzinfo is not None:
            raise ValueError(
                "shift times are wall-clock times of the code's timezone; give them without a "
                "timezone (e.g. '09:00')"
            )
        return value

    @model_validator(mode="after")
    def _unique(self) -> Shift:
        if len(set(self.staff)) != len(self.staff):
            raise ValueError(f"shift lists a staff member twice: {list(self.staff)}")
        if len(set(self.days)) != len(self.days):
            raise ValueError(f"shift lists a day twice: {list(self.days)}")
        return self

    @boundary
    def covers(self, local: dt.datetime) -> bool:
        """Whether the naive wall-clock time ``local`` (code timezone) falls in this shift."""
        t = local.time().replace(tzinfo=None)
        today = WEEKDAYS[local.weekday()] in self.days
        if self.start < self.end:
            return today and self.start <= t < self.end
        yesterday = WEEKDAYS[(local.weekday() - 1) % 7] in self.days
        return (today and t >= self.start) or (yesterday and t < self.end)


class ChannelCode(FrozenRecord):
    """A channel code ("live QR code"): where newcomers come from and who receives them.

    Attributes
    ----------
    code_id, name:
        Identity and display name.
    channel:
        The channel it belongs to (default ``wecom``).
    campaign:
        Optional campaign label, used in source attribution.
    tags:
        Company tags every newcomer through this code receives (source ``channel_code``).
    staff:
        The pool of staff newcomers are assigned to (a list of staff ids or
        :class:`PoolMember` records with weights).
    strategy:
        ``round_robin`` (take turns in pool order), ``least_loaded`` (fewest current customers,
        ties in pool order), ``weighted`` (each member's share of the code's newcomers follows
        its weight: the member with the smallest ``(assigned + 1) / weight`` is next, ties in pool
        order) or ``random`` (a seeded draw with probability proportional to weight; see
        :func:`clientmodel.profile.channels.assign_staff`).
    daily_limit:
        At most this many newcomers per pool member per calendar day (in ``timezone``); a
        member's own :attr:`PoolMember.daily_limit` overrides it. When every member on duty is
        full the newcomer goes to the spare staff.
    spare_staff:
        Fallback staff (no daily limit, no schedule), chosen by fewest newcomers today, ties in
        list order: they take newcomers when every member on duty is full and when nobody is on
        duty.
    valid_from, valid_until:
        Validity window ``valid_from <= t < valid_until`` (either end open when ``None``).
    timezone:
        IANA timezone of the "day" used by daily limits and of the schedule's wall clock.
    schedule:
        :class:`Shift` records: who of the pool is on duty when. Empty (the default): the whole
        pool is always on duty. Every shift's staff must be pool members.
    welcome:
        Welcome message template sent to each newcomer, with placeholders ``{customer_name}``,
        ``{staff_name}`` and ``{code_name}`` (``{{`` and ``}}`` for literal braces). Any other
        placeholder is refused when the code is built, and the longest possible rendering must
        fit WeCom's 4000 bytes (see :func:`clientmodel.profile.channels.render_welcome`).
    state:
        WeCom's ``state`` parameter of a "contact me" code (at most 30 characters), copied onto
        the touch of every join so that sources can be told apart downstream.

    Examples
    --------
    >>> code = ChannelCode(code_id="spring", staff=("s1", "s2"), tags=("fair_2024",),
    ...                    daily_limit=50)
    >>> [m.staff_id for m in code.staff], code.strategy
    (['s1', 's2'], 'round_robin')
    """

    model_config = _CONFIG

    code_id: Id
    name: str | None = None
    channel: str = "wecom"
    campaign: Id | None = None
    tags: tuple[Id, ...] = ()
    staff: tuple[PoolMember, ...] = Field(min_length=1)
    strategy: Literal["round_robin", "least_loaded", "weighted", "random"] = "round_robin"
    daily_limit: int | None = Field(default=None, ge=1)
    spare_staff: tuple[Id, ...] = ()
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None
    timezone: str = "UTC"
    schedule: tuple[Shift, ...] = ()
    welcome: str | None = None
    state: str | None = Field(default=None, min_length=1, max_length=STATE_MAX_LENGTH)

    def __init__(self, /, **data: Any) -> None:
        # A bad welcome template is the caller's argument error (pydantic would wrap it).
        if data.get("welcome") is not None:
            parse_template(data["welcome"], field="welcome")
        super().__init__(**data)

    @field_validator("welcome")
    @classmethod
    def _welcome(cls, value: str | None) -> str | None:
        if value is not None:
            parse_template(value, field="welcome")
        return value

    @field_validator("staff", mode="before")
    @classmethod
    def _members(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return tuple({"staff_id": v} if isinstance(v, str) else v for v in value)
        return value

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        return _check_name(value, "channel")

    @model_validator(mode="after")
    def _consistent(self) -> ChannelCode:
        ids = [m.staff_id for m in self.staff]
        if len(set(ids)) != len(ids):
            raise ValueError(f"channel code {self.code_id!r} lists a staff member twice: {ids}")
        if len(set(self.spare_staff)) != len(self.spare_staff):
            raise ValueError(f"channel code {self.code_id!r} lists a spare staff member twice")
        if len(set(self.tags)) != len(self.tags):
            raise ValueError(f"channel code {self.code_id!r} lists a tag twice")
        strangers = sorted({s for shift in self.schedule for s in shift.staff} - set(ids))
        if strangers:
            raise ValueError(
                f"channel code {self.code_id!r}: schedule names staff {strangers} outside the "
                f"pool {ids}; add them to staff (spare staff need no schedule)"
            )
        if (
            self.valid_from is not None
            and self.valid_until is not None
            and self.valid_until <= self.valid_from
        ):
            raise ValueError(f"channel code {self.code_id!r}: valid_until must be after valid_from")
        zone(self.timezone)
        return self

    def is_valid_at(self, at: dt.datetime) -> bool:
        """Whether the code may be used at ``at`` (``valid_from <= at < valid_until``).

        Examples
        --------
        >>> import datetime as dt
        >>> t = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
        >>> ChannelCode(code_id="c", staff=("s",), valid_until=t).is_valid_at(t)
        False
        """
        if self.valid_from is not None and at < self.valid_from:
            return False
        return not (self.valid_until is not None and at >= self.valid_until)


# ----------------------------------------------------------------------------------- profile
class Trait(FrozenRecord):
    """A trait value with when it was observed and where it came from.

    Examples
    --------
    >>> Trait(value="Shanghai").value
    'Shanghai'
    """

    model_config = _CONFIG

    value: TraitValue
    at: AwareDatetime | None = None
    source: str | None = None

    @field_validator("value")
    @classmethod
    def _finite(cls, value: TraitValue) -> TraitValue:
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, float) and not math.isfinite(item):
                raise ValueError(f"trait value {item!r} is not a finite number")
        return value


#: Legal bases of processing (GDPR art. 6(1)), as Snowplow's consent events name them.
LegalBasis: TypeAlias = Literal[
    "consent",
    "contract",
    "legal_obligation",
    "vital_interests",
    "public_task",
    "legitimate_interests",
]


class Consent(FrozenRecord):
    """The person's consent to be contacted on one channel (optionally for one purpose).

    ``status`` is ``granted`` or ``denied``; ``at`` is when it was given; ``source`` where it
    was collected (a form, a channel code, a call); ``expires_at`` (for a grant) is when it
    lapses; ``legal_basis`` the ground of processing (``consent``, ``contract``,
    ``legitimate_interests``, ...) when recorded.

    Examples
    --------
    >>> import datetime as dt
    >>> Consent(status="granted", at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)).status
    'granted'
    """

    model_config = _CONFIG

    status: Literal["granted", "denied"]
    at: AwareDatetime
    source: str | None = None
    expires_at: AwareDatetime | None = None
    legal_basis: LegalBasis | None = None

    @model_validator(mode="after")
    def _expiry(self) -> Consent:
        if self.expires_at is not None and self.expires_at <= self.at:
            raise ValueError("consent expires_at must be after at")
        return self


class Touch(BaseModel):
    """A marketing touch used for source attribution (first touch, last touch).

    Examples
    --------
    >>> import datetime as dt
    >>> Touch(channel="wecom", channel_code="spring", event_id="e1",
    ...       at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)).source
    'spring'
    """

    model_config = _CONFIG

    at: AwareDatetime
    event_id: Id
    channel: str
    channel_code: Id | None = None
    campaign: Id | None = None
    staff_id: Id | None = None
    state: str | None = Field(default=None, max_length=STATE_MAX_LENGTH)

    @property
    def source(self) -> str:
        """The attribution label: the channel code, else the campaign, else the channel."""
        return self.channel_code or self.campaign or self.channel

    def sort_key(self) -> tuple[dt.datetime, str]:
        """Order of touches: by time, then event id (a total, input-order-free order).

        Examples
        --------
        >>> import datetime as dt
        >>> t = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
        >>> Touch(at=t, event_id="e9", channel="web").sort_key()[1]
        'e9'
        """
        return (self.at, self.event_id)


class Activity(FrozenRecord):
    """What folding events left on a profile: counters, score state and recent events.

    Scores are stored *at* ``as_of`` (the moment of the last fold); read them at a later moment
    with :func:`clientmodel.profile.activity.interest_at` / ``intent_at``, which apply the
    decay. ``intent_mass`` is the decayed sum :math:`S` behind the intent score
    :math:`1 - e^{-S}`.

    Attributes
    ----------
    as_of:
        The moment the scores refer to (``None`` before the first fold).
    history_start:
        Events at or before this moment are no longer kept in ``recent_events`` and cannot be
        checked for replay; folding one is refused.
    n_events, first_seen, last_seen:
        Distinct events folded, and the first and last event times.
    counts_by_type, counts_by_channel, last_seen_by_type, last_seen_by_channel, value_by_type:
        Counters per event type and channel, and the sum of ``value`` per event type.
    interest:
        Interest score per content topic at ``as_of``.
    intent_mass:
        Decayed high-intent mass at ``as_of``.
    recent_events:
        Events after ``history_start``, sorted by time then id (what windowed rules look at).

    Examples
    --------
    >>> Activity().n_events
    0
    """

    model_config = _CONFIG

    as_of: AwareDatetime | None = None
    history_start: AwareDatetime | None = None
    n_events: int = Field(default=0, ge=0)
    first_seen: AwareDatetime | None = None
    last_seen: AwareDatetime | None = None
    counts_by_type: dict[str, int] = Field(default_factory=dict)
    counts_by_channel: dict[str, int] = Field(default_factory=dict)
    last_seen_by_type: dict[str, AwareDatetime] = Field(default_factory=dict)
    last_seen_by_channel: dict[str, AwareDatetime] = Field(default_factory=dict)
    value_by_type: dict[str, Decimal] = Field(default_factory=dict)
    interest: dict[str, float] = Field(default_factory=dict)
    intent_mass: float = Field(default=0.0, ge=0.0)
    recent_events: tuple[Event, ...] = ()

    @property
    def intent(self) -> float:
        """The intent score :math:`1 - e^{-S}` at ``as_of`` (0 before any high-intent action)."""
        return intent_score(self.intent_mass)


class Profile(FrozenRecord):
    """A person: identifiers, traits, tags, consent, staff relationships, attribution, activity.

    Attributes
    ----------
    profile_id:
        Stable id of the profile.
    identifiers:
        The person's identifiers (unique by :attr:`Identifier.key`, stored sorted by key).
    traits:
        Named traits (``city``, ``birthday``, ``member_tier`` ...), each a :class:`Trait` with
        the time it was observed. Names are letters, digits and ``_`` and may not start with a
        prefix in :data:`RESERVED_TRAIT_PREFIXES`.
    tags:
        Company tags (unique by tag id, sorted by id).
    consent:
        Consent per channel (key ``"sms"``) and per channel and purpose (key
        ``"sms:marketing"``; channel ``any`` for a purpose on every channel).
    consent_conflicts:
        Channels (or channel:purpose keys) whose consent records disagree (after a merge), with
        every disagreeing record; :func:`clientmodel.profile.privacy.can_contact` says no until
        the person decides again.
    relationships:
        One :class:`StaffRelationship` per staff member (sorted by staff id).
    first_touch, last_touch:
        Source attribution: the earliest and latest events that came through a channel code or
        campaign.
    activity:
        Counters, scores and recent events (see :class:`Activity`).

    Examples
    --------
    >>> p = Profile(profile_id="p1", identifiers=[{"kind": "email", "value": "Li@Example.com"}])
    >>> p.identifiers[0].value, p.tag_ids
    ('li@example.com', frozenset())
    >>> Profile.model_validate_json(p.model_dump_json()) == p
    True
    """

    model_config = _CONFIG

    profile_id: Id
    identifiers: tuple[Identifier, ...] = ()
    traits: dict[str, Trait] = Field(default_factory=dict)
    tags: tuple[TagAssignment, ...] = ()
    consent: dict[str, Consent] = Field(default_factory=dict)
    consent_conflicts: dict[str, tuple[Consent, ...]] = Field(default_factory=dict)
    relationships: tuple[StaffRelationship, ...] = ()
    first_touch: Touch | None = None
    last_touch: Touch | None = None
    activity: Activity = Field(default_factory=Activity)

    @field_validator("profile_id")
    @classmethod
    def _pid(cls, value: str) -> str:
        return _check_id(value, "profile_id")

    @field_validator("identifiers")
    @classmethod
    def _identifiers(cls, value: tuple[Identifier, ...]) -> tuple[Identifier, ...]:
        unique = {i.key + (":h" if i.hashed else ""): i for i in value}
        return tuple(unique[k] for k in sorted(unique))

    @field_validator("traits")
    @classmethod
    def _traits(cls, value: dict[str, Trait]) -> dict[str, Trait]:
        for name in value:
            if not _TRAIT.fullmatch(name):
                raise ValueError(
                    f"trait name {name!r} is not accepted; use letters, digits and '_' "
                    "(at most 64 characters, not starting with a digit)"
                )
            if name in _RESERVED_TRAITS or name.startswith(RESERVED_TRAIT_PREFIXES):
                raise ValueError(
                    f"trait name {name!r} is reserved for derived fields (names "
                    f"{sorted(_RESERVED_TRAITS)} and prefixes {list(RESERVED_TRAIT_PREFIXES)}); "
                    "rename the trait"
                )
        return dict(sorted(value.items()))

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: tuple[TagAssignment, ...]) -> tuple[TagAssignment, ...]:
        return _sorted_unique_tags(value, "the profile's tags")

    @field_validator("consent", "consent_conflicts")
    @classmethod
    def _channels(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:  # "channel" or "channel:purpose"
            channel, _, purpose = key.partition(":")
            _check_name(channel, "consent channel")
            if purpose:
                _check_name(purpose, "consent purpose")
        return dict(sorted(value.items()))

    @field_validator("relationships")
    @classmethod
    def _relationships(cls, value: tuple[StaffRelationship, ...]) -> tuple[StaffRelationship, ...]:
        ids = [r.staff_id for r in value]
        if len(set(ids)) != len(ids):
            raise ValueError("a profile holds one relationship per staff member")
        return tuple(sorted(value, key=lambda r: r.staff_id))

    @property
    def tag_ids(self) -> frozenset[str]:
        """The company tag ids as a set."""
        return frozenset(a.tag for a in self.tags)

    @property
    def owners(self) -> tuple[str, ...]:
        """Staff ids with an active relationship (sorted)."""
        return tuple(r.staff_id for r in self.relationships if r.active)

    def relationship(self, staff_id: str) -> StaffRelationship | None:
        """The relationship with ``staff_id`` (active or ended), or ``None``.

        Examples
        --------
        >>> Profile(profile_id="p").relationship("s1") is None
        True
        """
        for rel in self.relationships:
            if rel.staff_id == staff_id:
                return rel
        return None
