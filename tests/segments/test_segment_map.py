"""Segment maps are partitions of the score grid."""

from __future__ import annotations

import json

import numpy as np
import pytest

from clientmodel.errors import ArgumentError
from clientmodel.segments import Segment, SegmentMap, default_segment_map
from clientmodel.segments.segment_map import DEFAULT_SEGMENTS


def test_default_map_is_a_partition_of_the_5x5_grid():
    # Independent count straight from the data: each (R, F) cell in exactly one segment.
    for r in range(1, 6):
        for f in range(1, 6):
            hits = [
                n for n, (r0, r1), (f0, f1) in DEFAULT_SEGMENTS if r0 <= r <= r1 and f0 <= f <= f1
            ]
            assert len(hits) == 1, (r, f, hits)
    sm = default_segment_map()
    names = {name for row in sm.grid() for name in row}
    assert names == {
        "Champions",
        "Loyal",
        "Potential Loyalist",
        "New",
        "Promising",
        "Need Attention",
        "About to Sleep",
        "At Risk",
        "Can't Lose Them",
        "Hibernating",
        "Lost",
    }  # every segment is reachable


@pytest.mark.parametrize(
    ("r", "f", "name"),
    [
        (5, 5, "Champions"),
        (5, 1, "New"),
        (4, 1, "Promising"),
        (4, 4, "Loyal"),
        (3, 3, "Need Attention"),
        (3, 2, "About to Sleep"),
        (2, 3, "At Risk"),
        (1, 5, "Can't Lose Them"),
        (2, 1, "Hibernating"),
        (1, 1, "Lost"),
        (5, 2, "Potential Loyalist"),
    ],
)
def test_default_cells(r, f, name):
    assert default_segment_map().segment_of(r, f) == name


def test_gaps_and_overlaps_are_listed():
    segs = [
        Segment("top", r=(2, 3), f=(1, 3)),
        Segment("mid", r=2, f=(2, 3)),
        Segment("low", r=1, f=(1, 2)),
    ]
    with pytest.raises(ArgumentError) as info:
        SegmentMap(3, segs)
    msg = str(info.value)
    assert "1 uncovered combination(s): R1F3" in msg
    assert "R2F2 in ['top', 'mid']" in msg
    assert "R2F3 in ['top', 'mid']" in msg


def test_rfm_map_with_monetary_ranges():
    segs = [
        Segment("big", r=(1, 2), f=(1, 2), m=2),
        Segment("small", r=(1, 2), f=(1, 2), m=1),
    ]
    sm = SegmentMap(2, segs)
    assert sm.assign(np.array([1, 2]), np.array([2, 2]), np.array([2, 1])).tolist() == [
        "big",
        "small",
    ]
    with pytest.raises(ArgumentError, match="pass m"):
        sm.assign(np.array([1]), np.array([1]))
    with pytest.raises(ArgumentError, match="uncovered"):
        SegmentMap(2, segs[:1])


def test_bad_segments():
    with pytest.raises(ArgumentError, match="unique"):
        SegmentMap(2, [Segment("x", r=(1, 2), f=1), Segment("x", r=(1, 2), f=2)])
    with pytest.raises(ArgumentError, match="1 <= low <= high <= 2"):
        SegmentMap(2, [Segment("x", r=(1, 3), f=(1, 2))])
    with pytest.raises(ArgumentError, match=r"scores must be in 1\.\.5"):
        default_segment_map().assign(np.array([6]), np.array([1]))


def test_json_round_trip():
    sm = default_segment_map()
    assert SegmentMap.from_dict(json.loads(json.dumps(sm.to_dict()))) == sm
