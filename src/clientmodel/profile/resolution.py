"""Moved to :mod:`clientmodel.identity.resolution`; the names stay importable from here."""

from clientmodel.identity.resolution import (
    Resolution,
    resolve,
    resolve_table,
    unmerge,
    unmerge_many,
    without_records,
)

__all__ = [
    "Resolution",
    "resolve",
    "resolve_table",
    "unmerge",
    "unmerge_many",
    "without_records",
]
