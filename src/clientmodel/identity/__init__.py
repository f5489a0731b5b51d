"""Identity resolution: which records belong to the same person.

Modules, one concept each:

* :mod:`~clientmodel.identity.kinds` -- identifier kinds, normalisation, placeholders, hashing;
* :mod:`~clientmodel.identity.config` -- per-kind rules (priority, limits, bridging, blocked
  values) and the input records;
* :mod:`~clientmodel.identity.resolution` -- resolving records or a long table into profiles,
  unmerging, removing records;
* :mod:`~clientmodel.identity.history` -- merge history: joins and refusals as events;
* :mod:`~clientmodel.identity.incremental` -- new records onto an existing resolution;
* :mod:`~clientmodel.identity.results` -- refusals, links, resolved profiles and explanations;
* ``_prepare`` (records and tables as arrays) and ``_engine`` (the graph pass and the
  sequential pass) are private.

The same names stay importable from :mod:`clientmodel.profile` (and its old module paths
``clientmodel.profile.identifiers``, ``.resolution``, ``.resolution_rules``,
``.resolution_results``).

Examples
--------
>>> from clientmodel import identity
>>> res = identity.resolve([
...     {"record_id": "crm-1", "identifiers": [("phone", "+86 138 0013 8000")]},
...     {"record_id": "app-9", "identifiers": [("phone", "+8613800138000")]},
... ])
>>> res.profile_of("app-9")
'app-9'
"""

from clientmodel.identity.config import (
    DEFAULT_RULES,
    IdentityConfig,
    IdentityRecord,
    KindRule,
    check_pattern,
)
from clientmodel.identity.history import MergeEvent, merge_history
from clientmodel.identity.incremental import add_records, add_table
from clientmodel.identity.kinds import (
    DEFAULT_BLOCKED,
    SCOPED_KINDS,
    Identifier,
    IdentifierKind,
    hash_identifier,
    is_blocked,
    masked,
    normalize_email,
    normalize_phone,
    normalize_value,
)
from clientmodel.identity.resolution import (
    Resolution,
    resolve,
    resolve_table,
    unmerge,
    unmerge_many,
    without_records,
)
from clientmodel.identity.results import (
    IdentifierStatus,
    IdentifierUse,
    Link,
    ProfileExplanation,
    Refusal,
    ResolvedProfile,
)

__all__ = [
    "DEFAULT_BLOCKED",
    "DEFAULT_RULES",
    "SCOPED_KINDS",
    "Identifier",
    "IdentifierKind",
    "IdentifierStatus",
    "IdentifierUse",
    "IdentityConfig",
    "IdentityRecord",
    "KindRule",
    "Link",
    "MergeEvent",
    "ProfileExplanation",
    "Refusal",
    "Resolution",
    "ResolvedProfile",
    "add_records",
    "add_table",
    "check_pattern",
    "hash_identifier",
    "is_blocked",
    "masked",
    "merge_history",
    "normalize_email",
    "normalize_phone",
    "normalize_value",
    "resolve",
    "resolve_table",
    "unmerge",
    "unmerge_many",
    "without_records",
]
