"""Moved to :mod:`clientmodel.identity.results`; the names stay importable from here."""

from clientmodel.identity.results import (
    IdentifierStatus,
    IdentifierUse,
    Link,
    ProfileExplanation,
    Refusal,
    ResolvedProfile,
)

__all__ = [
    "IdentifierStatus",
    "IdentifierUse",
    "Link",
    "ProfileExplanation",
    "Refusal",
    "ResolvedProfile",
]
