"""Moved to :mod:`clientmodel.identity.kinds`; the names stay importable from here."""

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

__all__ = [
    "DEFAULT_BLOCKED",
    "SCOPED_KINDS",
    "Identifier",
    "IdentifierKind",
    "hash_identifier",
    "is_blocked",
    "masked",
    "normalize_email",
    "normalize_phone",
    "normalize_value",
]
