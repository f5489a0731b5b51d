"""Consumer profiles: identities, events, tags, channel codes, interest and intent, owners.

The person-centred core of private-domain customer management. Every record is a frozen pydantic
model; every operation is a pure function returning new records.

Modules:

* :mod:`~clientmodel.profile.models` -- :class:`Profile`, :class:`Event`, tags and tag groups,
  staff relationships, channel codes;
* :mod:`~clientmodel.identity.kinds` -- identifier kinds, normalisation, hashing;
* :mod:`~clientmodel.identity.resolution` -- identity resolution: records -> resolved profiles,
  with limits, explanations and unmerge;
* :mod:`~clientmodel.profile.tags` -- add / remove / expire tags (exclusive and open groups);
* :mod:`~clientmodel.profile.relationships` -- staff relationships, follow-up, private notes;
* :mod:`~clientmodel.profile.channels` -- channel codes, schedules, staff assignment, welcome
  messages, attribution;
* :mod:`~clientmodel.profile.groups` -- group chats: membership, joins, leaves, churn, group tags;
* :mod:`~clientmodel.profile.content` -- content engagement ("interaction radar"): score, auto-tags;
* :mod:`~clientmodel.profile.activity` -- folding events: counters, interest, intent, rule tags;
* :mod:`~clientmodel.profile.computed` -- computed traits (count, sum, first, most frequent ...);
* :mod:`~clientmodel.profile.table` -- the same over an event table (millions of rows);
* :mod:`~clientmodel.profile.merge` -- traits and merging profiles;
* :mod:`~clientmodel.profile.ownership` -- reassigning the customers of staff who leave;
* :mod:`~clientmodel.profile.privacy` -- consent, contactability, redaction.

Examples
--------
>>> import datetime as dt
>>> from clientmodel import profile as cp
>>> t = dt.datetime(2024, 5, 1, 12, tzinfo=dt.timezone.utc)
>>> p = cp.Profile(profile_id="p1")
>>> e = cp.Event(event_id="e1", type="add_to_cart", channel="mini_program", timestamp=t,
...              topics=("skincare",))
>>> p, _ = cp.apply(p, [e], as_of=t)
>>> p.activity.interest, round(p.activity.intent, 3)
({'skincare': 5.0}, 0.632)
"""

from clientmodel.identity.config import (
    DEFAULT_RULES,
    IdentityConfig,
    IdentityRecord,
    KindRule,
)
from clientmodel.identity.kinds import (
    Identifier,
    IdentifierKind,
    hash_identifier,
    is_blocked,
    normalize_email,
    normalize_phone,
)

# Identity resolution: records carrying identifiers -> resolved profiles.
from clientmodel.identity.resolution import Resolution, resolve, resolve_table, unmerge
from clientmodel.identity.results import (
    IdentifierStatus,
    IdentifierUse,
    Link,
    ProfileExplanation,
    Refusal,
    ResolvedProfile,
)
from clientmodel.profile.activity import (
    DEFAULT_INTENT_WEIGHTS,
    DEFAULT_INTEREST_WEIGHTS,
    ActivityConfig,
    apply,
    evaluate_tag_rules,
    event_entries,
    intent_at,
    interest_at,
    rule_record,
)
from clientmodel.profile.channels import (
    Assignment,
    AssignmentState,
    CodeJoin,
    assign_staff,
    join_via_code,
    on_duty,
    record_touch,
    render_welcome,
    sources_table,
    touch_of,
)
from clientmodel.profile.computed import (
    ComputedTrait,
    compute_traits,
    compute_traits_table,
)
from clientmodel.profile.content import (
    ContentConfig,
    ContentEngagement,
    ContentItem,
    Engagement,
    apply_content_tags,
    content_engagement,
    content_engagement_table,
)
from clientmodel.profile.groups import (
    GroupActivity,
    GroupChat,
    GroupEvent,
    group_activity,
    group_activity_table,
    member_group_tags,
    members_at,
)
from clientmodel.profile.merge import (
    TRAIT_STRATEGIES,
    MergeConflict,
    MergeResult,
    TraitStrategy,
    merge_profiles,
    set_traits,
)
from clientmodel.profile.models import (
    CHANNELS,
    EVENT_FIELDS,
    EVENT_TYPES,
    FOLLOW_UP_STATES,
    TAG_SOURCES,
    Activity,
    ChannelCode,
    Consent,
    Event,
    Note,
    PoolMember,
    Profile,
    Shift,
    StaffRelationship,
    TagAssignment,
    TagCatalog,
    TagGroup,
    Touch,
    Trait,
)
from clientmodel.profile.ownership import (
    Move,
    ReassignmentPlan,
    StaffMember,
    reassign,
    transfer,
)
from clientmodel.profile.privacy import (
    PERSONAL_TRAITS,
    PURPOSES,
    ErasurePlan,
    can_contact,
    contactable_channels,
    erase,
    redact,
    set_consent,
)
from clientmodel.profile.relationships import (
    add_note,
    end_relationship,
    set_follow_up,
    start_relationship,
)
from clientmodel.profile.table import FoldedEvents, events_to_table, fold_events
from clientmodel.profile.tags import TagChange, add_tag, expire_tags, remove_tag, tags_of

__all__ = [
    "CHANNELS",
    "DEFAULT_INTENT_WEIGHTS",
    "DEFAULT_INTEREST_WEIGHTS",
    "DEFAULT_RULES",
    "EVENT_FIELDS",
    "EVENT_TYPES",
    "FOLLOW_UP_STATES",
    "PERSONAL_TRAITS",
    "PURPOSES",
    "TAG_SOURCES",
    "TRAIT_STRATEGIES",
    "Activity",
    "ActivityConfig",
    "Assignment",
    "AssignmentState",
    "ChannelCode",
    "CodeJoin",
    "ComputedTrait",
    "Consent",
    "ContentConfig",
    "ContentEngagement",
    "ContentItem",
    "Engagement",
    "ErasurePlan",
    "Event",
    "FoldedEvents",
    "GroupActivity",
    "GroupChat",
    "GroupEvent",
    "Identifier",
    "IdentifierKind",
    "IdentifierStatus",
    "IdentifierUse",
    "IdentityConfig",
    "IdentityRecord",
    "KindRule",
    "Link",
    "MergeConflict",
    "MergeResult",
    "Move",
    "Note",
    "PoolMember",
    "Profile",
    "ProfileExplanation",
    "ReassignmentPlan",
    "Refusal",
    "Resolution",
    "ResolvedProfile",
    "Shift",
    "StaffMember",
    "StaffRelationship",
    "TagAssignment",
    "TagCatalog",
    "TagChange",
    "TagGroup",
    "Touch",
    "Trait",
    "TraitStrategy",
    "add_note",
    "add_tag",
    "apply",
    "apply_content_tags",
    "assign_staff",
    "can_contact",
    "compute_traits",
    "compute_traits_table",
    "contactable_channels",
    "content_engagement",
    "content_engagement_table",
    "end_relationship",
    "erase",
    "evaluate_tag_rules",
    "event_entries",
    "events_to_table",
    "expire_tags",
    "fold_events",
    "group_activity",
    "group_activity_table",
    "hash_identifier",
    "intent_at",
    "interest_at",
    "is_blocked",
    "join_via_code",
    "member_group_tags",
    "members_at",
    "merge_profiles",
    "normalize_email",
    "normalize_phone",
    "on_duty",
    "reassign",
    "record_touch",
    "redact",
    "remove_tag",
    "render_welcome",
    "resolve",
    "resolve_table",
    "rule_record",
    "set_consent",
    "set_follow_up",
    "set_traits",
    "sources_table",
    "start_relationship",
    "tags_of",
    "touch_of",
    "transfer",
    "unmerge",
]
