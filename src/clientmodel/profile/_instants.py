"""Instants as integer UTC microseconds, for the table faces of groups and content (private)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from clientmodel.profile._common import zone

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_NAIVE_EPOCH = dt.datetime(1970, 1, 1)
_US = dt.timedelta(microseconds=1)


def micros(moment: dt.datetime) -> int:
    """An aware datetime as microseconds since the Unix epoch (UTC)."""
    return (moment - _EPOCH) // _US


def _offset_us(moment: dt.datetime) -> int:
    offset = moment.utcoffset()
    return 0 if offset is None else offset // _US


def utc_micros(wall_us: Any, tz_name: str) -> Any:
    """Wall-clock microseconds in ``tz_name`` as UTC microseconds.

    One offset per distinct wall-clock minute (zone changes fall on whole minutes), so the cost
    grows with the span of time covered, not with the rows. An ambiguous wall time (the hour
    repeated when clocks go back) reads as its first occurrence, as ``datetime`` does.
    """
    info = zone(tz_name)
    fixed = info.utcoffset(None)
    if fixed is not None:
        return wall_us - fixed // _US
    if len(wall_us) == 0:
        return wall_us
    minutes, inverse = np.unique(wall_us // 60_000_000, return_inverse=True)
    offsets = np.array(
        [
            _offset_us((_NAIVE_EPOCH + dt.timedelta(minutes=int(m))).replace(tzinfo=info))
            for m in minutes.tolist()
        ],
        dtype=np.int64,
    )
    return wall_us - offsets[inverse.reshape(-1)]


def sorted_codes(codes: Any, uniques: Any) -> tuple[Any, Any]:
    """Codes into the ids as text, sorted as text (integer ids sort like their text)."""
    text = np.array([str(u) for u in uniques.tolist()], dtype=object)
    perm = np.argsort(text, kind="stable")
    rank = np.empty(len(perm), dtype=np.int64)
    rank[perm] = np.arange(len(perm))
    return rank[codes] if len(codes) else np.zeros(0, dtype=np.int64), text[perm]
