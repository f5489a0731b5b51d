"""Configuration objects, two forms and GGompertz/NBD predictions that leaked internal errors
(issue 16).

Found by ``tools/probe_bad_inputs.py clientmodel.segments clientmodel.ltv`` after this round's
``from_dict`` work: building a ``SegmentMap``, ``RFMScorer`` or ``LifecycleWindows`` directly
(what a user does to configure segments) with a number where a list belongs, or with a window of
10**20 days, leaked ``TypeError``, ``AttributeError`` or dateutil's ``OverflowError``;
GGompertz/NBD's new-customer expectation leaked numpy's ``ValueError`` on text and
``expected_purchases_path`` numpy's "need at least one array" on no horizons.
``Resolution.from_dict`` indexed its records freely (93 of 934 spoiled forms leaked ``TypeError``,
``KeyError`` or pydantic's ``ValidationError``); a ``PredictionIntervals`` form with a lower bound
above its upper bound was believed.
"""

from __future__ import annotations

import copy

import pytest

from clientmodel.identity import resolve
from clientmodel.identity.resolution import Resolution
from clientmodel.ltv import BGNBD, GGompertzNBD, prediction_intervals
from clientmodel.ltv.intervals import PredictionIntervals
from clientmodel.segments import LifecycleWindows, RFMScorer, Segment, SegmentMap

from .conftest import bad, check_bad, marked, unknown_ids

XFAIL: dict[str, str] = {}

GG = GGompertzNBD(r=0.7, alpha=6.0, b=0.03, s=0.6, beta=1.5)
ROW = {"frequency": [2], "recency": [30.0], "T": [39.0]}
SCORER = {"k": 3, "recency": (10.0, 20.0), "frequency": (1.0, 2.0), "monetary": (5.0, 9.0)}

RES = resolve(
    [
        {"record_id": "a", "identifiers": [("email", "x@y.io")]},
        {"record_id": "b", "identifiers": [("email", "x@y.io")]},
    ]
).to_dict()
_BG = BGNBD(r=0.24, alpha=4.4, a=0.79, b=2.4)
PI = prediction_intervals(
    BGNBD.fit(_BG.simulate(300, 39.0, seed=1)), ROW, "p_alive", seed=0, draws=20
).to_dict()


def spoiled(form, *path, value=None, drop=False):
    out = copy.deepcopy(form)
    cur = out
    for key in path[:-1]:
        cur = cur[key]
    if drop:
        del cur[path[-1]]
    else:
        cur[path[-1]] = value
    return out


CASES = [
    bad("segment_map-int-segments", lambda: SegmentMap(k=5, segments=5), "segments"),
    bad("segment_map-none-segments", lambda: SegmentMap(k=5, segments=None), "segments"),
    bad("segment_map-text-items", lambda: SegmentMap(k=5, segments=["champions"]), "segments[0]"),
    bad("rfm_scorer-none-methods", lambda: RFMScorer(**SCORER, methods=None), "methods"),
    bad("rfm_scorer-int-methods", lambda: RFMScorer(**SCORER, methods=5), "methods"),
    bad("lifecycle-huge-new", lambda: LifecycleWindows(new=10**20), "new"),
    bad("lifecycle-5000-years", lambda: LifecycleWindows(dormant="5000Y"), "dormant"),
    bad("lifecycle-40000-days", lambda: LifecycleWindows(active=40_000), "active"),
    bad("ggompertz-new-text-t", lambda: GG.expected_purchases_new("x"), "t"),
    bad("ggompertz-new-dict-t", lambda: GG.expected_purchases_new({"t": 1}), "t"),
    bad("ggompertz-path-no-times", lambda: GG.expected_purchases_path(ROW, []), "times"),
    bad(
        "resolution-records-none",
        lambda: Resolution.from_dict(spoiled(RES, "records", value=None)),
        "Resolution.records",
    ),
    bad(
        "resolution-records-text",
        lambda: Resolution.from_dict(spoiled(RES, "records", value="x")),
        "Resolution.records",
    ),
    bad(
        "resolution-record-int",
        lambda: Resolution.from_dict(spoiled(RES, "records", 0, value=5)),
        "Resolution.records[0]",
    ),
    bad(
        "resolution-no-identifiers",
        lambda: Resolution.from_dict(spoiled(RES, "records", 0, "identifiers", drop=True)),
        "identifiers",
    ),
    bad(
        "resolution-unknown-kind",
        lambda: Resolution.from_dict(
            spoiled(RES, "records", 0, "identifiers", 0, "kind", value="x")
        ),
        "Resolution.records[0].identifiers[0]",
    ),
    bad(
        "resolution-bad-status",
        lambda: Resolution.from_dict(
            spoiled(RES, "records", 0, "identifiers", 0, "status", value="x")
        ),
        "status",
    ),
    bad(
        "resolution-bad-timestamp",
        lambda: Resolution.from_dict(spoiled(RES, "records", 0, "timestamp", value="noon")),
        "timestamp",
    ),
    bad(
        "resolution-profile-names-nobody",
        lambda: Resolution.from_dict(spoiled(RES, "records", 1, "profile_id", value="zz")),
        "profile_id",
    ),
    bad(
        "resolution-refusals-int",
        lambda: Resolution.from_dict(spoiled(RES, "refusals", value=5)),
        "Resolution.refusals",
    ),
    bad(
        "intervals-lower-above-upper",
        lambda: PredictionIntervals.from_dict(spoiled(PI, "lower", 0, value=2.0)),
        "lower[0]",
    ),
    bad(
        "intervals-total-lower-above-upper",
        lambda: PredictionIntervals.from_dict(spoiled(PI, "total_lower", value=1e9)),
        "total_lower",
    ),
    bad(
        "bgnbd-path-no-times",
        lambda: BGNBD(r=0.24, alpha=4.4, a=0.79, b=2.4).expected_purchases_path(ROW, []),
        "times",
    ),
]


@pytest.mark.parametrize(("thunk", "names", "exc", "rows"), marked(CASES, XFAIL))
def test_bad_input(thunk, names, exc, rows):
    check_bad(thunk, exc=exc, names=names, rows=rows)


def test_xfail_ids_name_cases():
    assert unknown_ids(XFAIL, CASES) == []


def test_forms_still_round_trip():
    assert Resolution.from_dict(RES).to_dict() == RES
    assert PredictionIntervals.from_dict(PI).to_dict() == PI


def test_valid_configurations_unchanged():
    """A century is still a window (the cap is 100 years); segments and methods as before."""
    assert LifecycleWindows(dormant="100Y").dormant.years == 100
    assert LifecycleWindows(new=30).new.days == 30
    seg = SegmentMap(k=2, segments=[Segment(name="all", r=(1, 2), f=(1, 2))])
    assert seg.segments[0].name == "all"
    assert RFMScorer(**SCORER, methods=("fixed", "fixed", "fixed")).methods == ("fixed",) * 3
