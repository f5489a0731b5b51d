"""Moved to :mod:`clientmodel.identity.config`; the names stay importable from here."""

from clientmodel.identity.config import (
    DEFAULT_RULES,
    IdentityConfig,
    IdentityRecord,
    KindRule,
    check_pattern,
)

__all__ = [
    "DEFAULT_RULES",
    "IdentityConfig",
    "IdentityRecord",
    "KindRule",
    "check_pattern",
]
