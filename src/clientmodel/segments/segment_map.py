"""Named RFM segments as data: a partition of the score grid.

A :class:`SegmentMap` names regions of the R x F (or R x F x M) score grid. It is a *partition*,
not an ordered list of first-match rules: every score combination must land in exactly one
segment. A map that leaves combinations uncovered, or covers some twice, is rejected with an
:class:`~clientmodel.errors.ArgumentError` that lists them, so no segment is silently unreachable.

The default map (:func:`default_segment_map`) is the widely used R x F grid of eleven segments on
scores 1..5:

| segment | R | F |
|---|---|---|
| Champions | 5 | 4-5 |
| Loyal | 3-4 | 4-5 |
| Potential Loyalist | 4-5 | 2-3 |
| New | 5 | 1 |
| Promising | 4 | 1 |
| Need Attention | 3 | 3 |
| About to Sleep | 3 | 1-2 |
| At Risk | 1-2 | 3-4 |
| Can't Lose Them | 1-2 | 5 |
| Hibernating | 2 | 1-2 |
| Lost | 1 | 1-2 |
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import attrs
import numpy as np
from numpy.typing import NDArray

from clientmodel._validation import (
    boundary,
    check_integer,
    check_sequence,
    key_path,
    read_form,
)
from clientmodel.errors import ArgumentError

__all__ = ["DEFAULT_SEGMENTS", "Segment", "SegmentMap", "default_segment_map"]

_FORMAT = 1


def _range(value: Any, field: str) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value), int(value)
    try:
        low, high = value
        return int(low), int(high)
    except (TypeError, ValueError) as exc:
        raise ArgumentError(
            f"{field}={value!r} must be a score or a (low, high) pair of scores", field=field
        ) from exc


def _r_range(value: Any) -> tuple[int, int]:
    return _range(value, "r")


def _f_range(value: Any) -> tuple[int, int]:
    return _range(value, "f")


def _m_range(value: Any) -> tuple[int, int] | None:
    return None if value is None else _range(value, "m")


def _segments(value: Any) -> tuple[Segment, ...]:
    items = tuple(check_sequence(value, "segments"))
    for i, item in enumerate(items):
        if not isinstance(item, Segment):
            raise ArgumentError(
                f"segments[{i}] must be a Segment, got {type(item).__name__}",
                field=f"segments[{i}]",
            )
    return items


def _scores(value: Any, path: str) -> tuple[int, int]:
    """A score or a ``[low, high]`` pair of scores from a serialised form."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (Sequence, int)):
        raise ArgumentError(
            f"{path} must be a score or a [low, high] pair, got {value!r}", field=path
        )
    if isinstance(value, int):
        score = check_integer(value, path)
        return score, score
    if len(value) != 2:
        raise ArgumentError(
            f"{path} must be a [low, high] pair, got {len(value)} values", field=path
        )
    return check_integer(value[0], key_path(path, 0)), check_integer(value[1], key_path(path, 1))


def _maybe_scores(value: Any, path: str) -> tuple[int, int] | None:
    return None if value is None else _scores(value, path)


def _score_array(value: Any, name: str, k: int) -> NDArray[np.int64]:
    """Whole-number scores in 1..k (text, booleans, NaN and fractions are refused)."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf":
        raise ArgumentError(
            f"{name} scores must be in 1..{k} (whole numbers); got {arr.dtype} values "
            f"{arr.reshape(-1)[:5].tolist()!r:.60}",
            field=name,
        )
    with np.errstate(invalid="ignore"):
        bad = ~np.isin(arr, np.arange(1, k + 1))
    if bad.any():
        raise ArgumentError(
            f"{name} scores must be in 1..{k} (whole numbers); got {arr[bad][:5].tolist()}",
            field=name,
        )
    return arr.astype(np.int64)


@attrs.frozen
class Segment:
    """One named region of the score grid: inclusive score ranges per dimension.

    ``m=None`` means every monetary score.

    Examples
    --------
    >>> Segment("Champions", r=(5, 5), f=(4, 5)).covers(5, 4, 1)
    True
    """

    name: str
    r: tuple[int, int] = attrs.field(converter=_r_range)
    f: tuple[int, int] = attrs.field(converter=_f_range)
    m: tuple[int, int] | None = attrs.field(default=None, converter=_m_range)

    _FORM: ClassVar[dict[str, Any]] = {"r": _scores, "f": _scores, "m": _maybe_scores}

    @boundary
    def covers(self, r: int, f: int, m: int) -> bool:
        """Whether the score combination (r, f, m) falls in this segment.

        Examples
        --------
        >>> Segment("Lost", r=1, f=(1, 2)).covers(1, 3, 1)
        False
        """
        ok = self.r[0] <= r <= self.r[1] and self.f[0] <= f <= self.f[1]
        return ok and (self.m is None or self.m[0] <= m <= self.m[1])

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form: ``{"name": ..., "r": [lo, hi], "f": [lo, hi], "m": [lo, hi] | None}``.

        Examples
        --------
        >>> Segment("New", r=5, f=1).to_dict()
        {'name': 'New', 'r': [5, 5], 'f': [1, 1], 'm': None}
        """
        return {
            "name": self.name,
            "r": list(self.r),
            "f": list(self.f),
            "m": None if self.m is None else list(self.m),
        }


#: The default segments as plain data: (name, R range, F range), scores 1..5.
DEFAULT_SEGMENTS: tuple[tuple[str, tuple[int, int], tuple[int, int]], ...] = (
    ("Champions", (5, 5), (4, 5)),
    ("Loyal", (3, 4), (4, 5)),
    ("Potential Loyalist", (4, 5), (2, 3)),
    ("New", (5, 5), (1, 1)),
    ("Promising", (4, 4), (1, 1)),
    ("Need Attention", (3, 3), (3, 3)),
    ("About to Sleep", (3, 3), (1, 2)),
    ("At Risk", (1, 2), (3, 4)),
    ("Can't Lose Them", (1, 2), (5, 5)),
    ("Hibernating", (2, 2), (1, 2)),
    ("Lost", (1, 1), (1, 2)),
)


def _grid_problems(
    k: int, segments: Sequence[Segment]
) -> tuple[list[tuple[int, ...]], dict[tuple[int, ...], list[str]], bool]:
    uses_m = any(s.m is not None for s in segments)
    m_values = range(1, k + 1) if uses_m else range(1, 2)
    uncovered: list[tuple[int, ...]] = []
    doubled: dict[tuple[int, ...], list[str]] = {}
    for r in range(1, k + 1):
        for f in range(1, k + 1):
            for m in m_values:
                names = [s.name for s in segments if s.covers(r, f, m)]
                cell = (r, f, m) if uses_m else (r, f)
                if not names:
                    uncovered.append(cell)
                elif len(names) > 1:
                    doubled[cell] = names
    return uncovered, doubled, uses_m


def _fmt(cell: tuple[int, ...]) -> str:
    return "".join(f"{d}{v}" for d, v in zip("RFM", cell, strict=False))


@attrs.frozen
class SegmentMap:
    """A validated partition of the RFM score grid into named segments.

    Building one checks that every (R, F) combination -- or (R, F, M) when any segment restricts
    M -- lies in exactly one segment, and raises :class:`~clientmodel.errors.ArgumentError`
    listing the uncovered and the doubly covered combinations otherwise.

    Examples
    --------
    >>> sm = SegmentMap(k=2, segments=[Segment("good", r=2, f=(1, 2)),
    ...                                Segment("bad", r=1, f=(1, 2))])
    >>> sm.assign(np.array([2, 1]), np.array([1, 2])).tolist()
    ['good', 'bad']
    """

    k: int
    segments: tuple[Segment, ...] = attrs.field(converter=_segments)
    _lut: NDArray[np.object_] = attrs.field(init=False, eq=False, repr=False)
    _uses_m: bool = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if isinstance(self.k, bool) or not isinstance(self.k, int) or not 2 <= self.k <= 9:
            raise ArgumentError(f"k={self.k!r} must be an integer from 2 to 9", field="k")
        if not self.segments:
            raise ArgumentError("a segment map needs at least one segment", field="segments")
        names = [s.name for s in self.segments]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ArgumentError(f"segment names must be unique; repeated: {dup}", field="segments")
        for i, s in enumerate(self.segments):
            for dim, rng in (("r", s.r), ("f", s.f), ("m", s.m)):
                if rng is not None and not 1 <= rng[0] <= rng[1] <= self.k:
                    raise ArgumentError(
                        f"segment {s.name!r} has {dim} range {list(rng)}; ranges are "
                        f"[low, high] with 1 <= low <= high <= {self.k}",
                        field=f"segments[{i}].{dim}",
                    )
        uncovered, doubled, uses_m = _grid_problems(self.k, self.segments)
        if uncovered or doubled:
            parts = []
            if uncovered:
                parts.append(
                    f"{len(uncovered)} uncovered combination(s): "
                    + ", ".join(_fmt(c) for c in uncovered)
                )
            if doubled:
                parts.append(
                    f"{len(doubled)} doubly covered combination(s): "
                    + ", ".join(f"{_fmt(c)} in {v}" for c, v in doubled.items())
                )
            raise ArgumentError(
                "segment map is not a partition of the score grid: "
                + "; ".join(parts)
                + ". Every combination must be in exactly one segment.",
                field="segments",
            )
        k = self.k
        lut = np.empty((k, k, k), dtype=object)
        for r in range(1, k + 1):
            for f in range(1, k + 1):
                for m in range(1, k + 1):
                    lut[r - 1, f - 1, m - 1] = next(
                        s.name for s in self.segments if s.covers(r, f, m)
                    )
        object.__setattr__(self, "_lut", lut.ravel())
        object.__setattr__(self, "_uses_m", uses_m)

    @property
    def names(self) -> tuple[str, ...]:
        """Segment names in map order."""
        return tuple(s.name for s in self.segments)

    @boundary
    def assign(
        self, r: NDArray[Any], f: NDArray[Any], m: NDArray[Any] | None = None
    ) -> NDArray[np.object_]:
        """Segment name for arrays of scores (``m`` may be omitted for an R x F map).

        Examples
        --------
        >>> default_segment_map().assign(np.array([5, 1]), np.array([5, 1])).tolist()
        ['Champions', 'Lost']
        """
        k = self.k
        r_i = _score_array(r, "r", k)
        f_i = _score_array(f, "f", k)
        if m is None:
            if self._uses_m:
                raise ArgumentError("this segment map uses M scores; pass m", field="m")
            m_i = np.ones_like(r_i)
        else:
            m_i = _score_array(m, "m", k)
        if not r_i.shape == f_i.shape == m_i.shape:
            raise ArgumentError(
                f"r, f and m must have the same shape, got {r_i.shape}, {f_i.shape}, {m_i.shape}",
                field="f" if r_i.shape != f_i.shape else "m",
            )
        return np.asarray(self._lut[((r_i - 1) * k + (f_i - 1)) * k + (m_i - 1)], dtype=object)

    @boundary
    def segment_of(self, r: int, f: int, m: int = 1) -> str:
        """Segment name of one score combination.

        Examples
        --------
        >>> default_segment_map().segment_of(2, 5)
        "Can't Lose Them"
        """
        return str(self.assign(np.array([r]), np.array([f]), np.array([m]))[0])

    @boundary
    def grid(self) -> list[list[str]]:
        """The R x F grid of names (row = R score 1..k, column = F score 1..k; M = 1).

        Examples
        --------
        >>> default_segment_map().grid()[4][0]
        'New'
        """
        k = self.k
        return [[self.segment_of(r, f) for f in range(1, k + 1)] for r in range(1, k + 1)]

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form that :meth:`from_dict` rebuilds.

        Examples
        --------
        >>> SegmentMap.from_dict(default_segment_map().to_dict()) == default_segment_map()
        True
        """
        return {
            "model": "SegmentMap",
            "format": _FORMAT,
            "k": self.k,
            "segments": [s.to_dict() for s in self.segments],
        }

    @classmethod
    @boundary
    def from_dict(cls, data: Mapping[str, Any]) -> SegmentMap:
        """Rebuild (and validate) a map from :meth:`to_dict` output.

        Examples
        --------
        >>> d = {"k": 2, "segments": [{"name": "all", "r": [1, 2], "f": [1, 2]}]}
        >>> SegmentMap.from_dict(d).names
        ('all',)
        """
        return read_form(cls, data)


@functools.lru_cache(maxsize=1)
@boundary
def default_segment_map() -> SegmentMap:
    """The standard eleven RFM segments over R and F scores 1..5 (see the module table).

    Examples
    --------
    >>> len(default_segment_map().names)
    11
    """
    return SegmentMap(5, [Segment(n, r, f) for n, r, f in DEFAULT_SEGMENTS])
