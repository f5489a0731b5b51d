"""Append-only arrays shared between versions of a resolution.

Adding records to a resolution adds keys after the old ones, and the old resolution must not
change. Copying every key array on each addition costs time linear in the resolution (and, for
arrays of tens of megabytes, page faults), so key arrays live in buffers with room to grow: a
version holds a view of the buffer's first ``n`` items, and an addition writes past them in place
when the version is the buffer's newest (nothing else has been appended); otherwise it copies into
a new, larger buffer. Views of earlier versions never see the writes, which are past their end.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

import numpy as np
from numpy.typing import NDArray

_IN_USE: dict[int, int] = {}  # id of a buffer with room -> the length its newest version uses
_LOCK = threading.Lock()  # two additions onto one version: only one may write in place
_ROOM = 0.25  # spare capacity of a new buffer, as a share of its length


def _register(buffer: NDArray[Any], used: int) -> None:
    key = id(buffer)
    _IN_USE[key] = used
    weakref.finalize(buffer, _IN_USE.pop, key, None)


def with_room(values: NDArray[Any]) -> NDArray[Any]:
    """``values`` as the first items of a buffer with room for later :func:`appended` calls."""
    n = len(values)
    buffer = np.empty(n + max(16, int(n * _ROOM)), dtype=values.dtype)
    buffer[:n] = values
    with _LOCK:
        _register(buffer, n)
    return buffer[:n]


def appended(values: NDArray[Any], more: NDArray[Any]) -> NDArray[Any]:
    """``values`` followed by ``more``: in place past the end of ``values`` when it is the newest
    view of a buffer with room (no copy of ``values``), else in a new buffer with room."""
    n, m = len(values), len(more)
    buffer = values.base
    if (
        m
        and isinstance(buffer, np.ndarray)
        and buffer.dtype == values.dtype == np.result_type(values, more)
        and values.ctypes.data == buffer.ctypes.data
        and values.strides == buffer.strides
        and n + m <= len(buffer)
    ):
        with _LOCK:
            if _IN_USE.get(id(buffer)) == n:
                buffer[n : n + m] = more
                _IN_USE[id(buffer)] = n + m
                return buffer[: n + m]
    grown = np.empty(n + m + max(16, int((n + m) * _ROOM)), dtype=np.result_type(values, more))
    grown[:n] = values
    grown[n : n + m] = more
    with _LOCK:
        _register(grown, n + m)
    return grown[: n + m]
