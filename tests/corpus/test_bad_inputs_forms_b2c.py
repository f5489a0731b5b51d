"""Bad serialised forms for the B2C result classes (issue 16, item 3), and their JSON round-trips.

Every ``from_dict`` below is read by the one reader (``clientmodel._validation.read_form``): a
bad form is an :class:`~clientmodel.errors.ArgumentError` whose message names the key path
(``RFMScorer.edges.recency``, ``Migration.counts[0][1]``...). The cases were written from the
classes' docs and their ``to_dict`` output: wrong types, missing and misspelt keys (with a "did you
mean"), a list where a mapping belongs, and forms whose parts disagree with each other.

Also the two leftovers of the issue: ``periods.parse_timestamp`` masks a value that may be an
identifier, and ``check_whole_array`` refuses counts beyond float64's whole numbers (near 2**63 a
cast to int64 wrapped to -2**63).
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.errors import ArgumentError, DataError
from clientmodel.identity import Identifier, IdentifierKind, MergeEvent, Refusal, merge_history
from clientmodel.identity import resolve as resolve_ids
from clientmodel.ltv import _discrete
from clientmodel.ltv.diagnostics import (
    CalibrationHoldout,
    FrequencyHistogram,
    HoldoutMetrics,
    LikelihoodRatioTest,
    PredictionMatrix,
    Tracking,
)
from clientmodel.ltv.report import FitReport
from clientmodel.periods import parse_timestamp
from clientmodel.profile import Profile
from clientmodel.profile.content import ContentEngagement
from clientmodel.profile.groups import GroupActivity
from clientmodel.profile.privacy import ErasurePlan, erase
from clientmodel.segments import (
    Audience,
    CohortTable,
    LifecycleWindows,
    Migration,
    RFMScorer,
    Segment,
    SegmentMap,
    cohort_table,
    default_segment_map,
    migration,
)

from .conftest import EMAIL, PHONE, assert_private, check_bad

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)

AUDIENCE = Audience("vip", "frequency >= 2")
SMAP = SegmentMap(2, [Segment("good", r=2, f=(1, 2)), Segment("bad", r=1, f=(1, 2))])
WINDOWS = LifecycleWindows(new="1M", active="3M", at_risk="6M", dormant="1Y", cadence=True)
# two January customers (one back in February), one February customer; as of 2024-03-15
COHORTS = cohort_table(
    {
        "customer_id": ["a", "a", "b", "c"],
        "timestamp": ["2024-01-05", "2024-02-07", "2024-01-20", "2024-02-01"],
        "amount": [10.0, 5.0, 7.0, 3.0],
    },
    as_of="2024-03-15",
    unit="M",
    amount="amount",
)
MIGRATION = migration(
    {"customer_id": ["a", "b", "c"], "label": ["x", "y", "x"]},
    {"customer_id": ["a", "b", "d"], "label": ["y", "y", "x"]},
)
SCORER = RFMScorer.fixed(k=3, recency=[30, 90], frequency=[1, 3], monetary=[50, 200])
CONTENT = ContentEngagement("p", 4.5, {"c1": 3.0, "c2": 1.5}, ("skincare",))
GROUP = GroupActivity("g", T0, T0 + dt.timedelta(days=30), 4, 1, 2, 1, 3, 0.25)
RESOLUTION = resolve_ids(
    [
        {"record_id": "a", "identifiers": [("member_id", "M1"), ("device_id", "D")]},
        {"record_id": "b", "identifiers": [("member_id", "M2"), ("device_id", "D")]},
        {"record_id": "c", "identifiers": [("member_id", "M1"), ("email", EMAIL)]},
    ]
)
REFUSED, JOINED = merge_history(RESOLUTION)[0], merge_history(RESOLUTION)[1]
REFUSAL = RESOLUTION.refusals[0]
CAPPED = Refusal(
    "r", Identifier(kind="device_id", value="D9"), None, IdentifierKind.DEVICE_ID,
    None, -3, None, 6, (), 5,
)  # fmt: skip
PLAN = erase(
    "p1",
    profiles=[Profile(profile_id="p1", identifiers=[{"kind": "phone", "value": "+86" + PHONE}])],
)
PLAN_WITH_RESOLUTION = erase("a", resolution=RESOLUTION)

REPORT = FitReport(
    log_likelihood=-120.5, n_observations=100.0, n_distinct=20, iterations=12,
    gradient_norm=1e-6, converged=True, method="L-BFGS-B", penalizer=0.0,
    estimates={"r": 0.2, "alpha": 4.0}, standard_errors={"r": 0.01, "alpha": None},
    confidence_intervals={"r": (0.18, 0.22), "alpha": None}, n_starts=3, starts_agreed=2,
    covariance=((1e-4, 0.0), (0.0, 1e-2)),
)  # fmt: skip
# the diagnostics results hold arrays (compared through their forms)
RESULTS = {
    "CalibrationHoldout": CalibrationHoldout(
        np.array([0.0, 1.0]), np.array([3.0, 0.0]), np.array([0.2, np.nan]),
        np.array([0.3, 0.9]), 1,
    ),
    "FrequencyHistogram": FrequencyHistogram(
        np.array([0.0, 1.0]), np.array([6.0, 4.0]), np.array([5.0, 5.0]), 0.4, 0, None
    ),
    "Tracking": Tracking(np.array([1.0, 2.0]), np.array([3.0, 5.0]), np.array([2.5, 5.5])),
    "PredictionMatrix": PredictionMatrix(
        np.array([0.0, 1.0]), np.array([0.0, 5.0]), np.array([[1.0, 1.0], [0.2, np.nan]]),
        "p_alive", 4.0, None,
    ),
    "HoldoutMetrics": HoldoutMetrics(10, 40.0, 44.0, 0.5, 0.8, None),
    "LikelihoodRatioTest": LikelihoodRatioTest(
        "ParetoNBD", "GGompertzNBD", -10.0, -8.0, 4.0, 1, 0.0455, 50.0
    ),
}  # fmt: skip

OBJECTS = {
    "Audience": AUDIENCE,
    "SegmentMap": SMAP,
    "SegmentMap-default": default_segment_map(),
    "LifecycleWindows": WINDOWS,
    "LifecycleWindows-default": LifecycleWindows(),
    "CohortTable": COHORTS,
    "Migration": MIGRATION,
    "RFMScorer": SCORER,
    "ContentEngagement": CONTENT,
    "GroupActivity": GROUP,
    "MergeEvent-refused": REFUSED,
    "MergeEvent-joined": JOINED,
    "Refusal": REFUSAL,
    "Refusal-capped": CAPPED,
    "ErasurePlan": PLAN,
    "ErasurePlan-resolution": PLAN_WITH_RESOLUTION,
    "FitReport": REPORT,
}

D = {name: obj.to_dict() for name, obj in {**OBJECTS, **RESULTS}.items()}


def edit(which, **over):
    out = copy.deepcopy(D[which])
    out.update(over)
    return out


def drop(which, key):
    out = copy.deepcopy(D[which])
    out.pop(key)
    return out


def form(case_id, cls, data, path):
    """``cls.from_dict(data)`` must raise ArgumentError whose message names ``path``."""
    return pytest.param(cls, data, path, id=case_id)


CASES = [
    # --- Audience
    form("audience-list", Audience, ["vip", "x"], "Audience"),
    form("audience-missing-rule", Audience, {"name": "vip"}, "Audience.rule"),
    form("audience-misspelt-rule", Audience, {"name": "vip", "rul": "x > 1"}, "Audience.rule"),
    form("audience-rule-int", Audience, edit("Audience", rule=5), "Audience.rule"),
    form("audience-rule-bad-text", Audience, edit("Audience", rule="r >="), "Audience.rule"),
    form("audience-name-blank", Audience, edit("Audience", name=""), "Audience.name"),
    form("audience-name-int", Audience, edit("Audience", name=7), "Audience.name"),
    form("audience-extra-key", Audience, edit("Audience", size=3), "Audience.size"),
    # --- SegmentMap
    form("segmap-none", SegmentMap, None, "SegmentMap"),
    form("segmap-k-text", SegmentMap, edit("SegmentMap", k="2"), "SegmentMap.k"),
    form("segmap-k-too-big", SegmentMap, edit("SegmentMap", k=12), "SegmentMap.k"),
    form(
        "segmap-segments-dict", SegmentMap, edit("SegmentMap", segments={}), "SegmentMap.segments"
    ),
    form(
        "segmap-missing-segments", SegmentMap, drop("SegmentMap", "segments"), "SegmentMap.segments"
    ),
    form(
        "segmap-range-text",
        SegmentMap,
        edit("SegmentMap", segments=[{"name": "a", "r": "x", "f": [1, 2]}]),
        "SegmentMap.segments[0].r",
    ),
    form(
        "segmap-range-three",
        SegmentMap,
        edit("SegmentMap", segments=[{"name": "a", "r": [1, 2, 3], "f": [1, 2]}]),
        "SegmentMap.segments[0].r",
    ),
    form(
        "segmap-range-unsorted",
        SegmentMap,
        edit("SegmentMap", segments=[{"name": "a", "r": [2, 1], "f": [1, 2]}]),
        "SegmentMap.segments[0].r",
    ),
    form(
        "segmap-overlapping",
        SegmentMap,
        edit(
            "SegmentMap",
            segments=[{"name": "a", "r": [1, 2], "f": [1, 2]}, {"name": "b", "r": 1, "f": 1}],
        ),
        "SegmentMap.segments",
    ),
    form(
        "segmap-gap",
        SegmentMap,
        edit("SegmentMap", segments=[{"name": "a", "r": [1, 1], "f": [1, 2]}]),
        "SegmentMap.segments",
    ),
    form(
        "segmap-segment-misspelt-key",
        SegmentMap,
        edit("SegmentMap", segments=[{"name": "a", "r": [1, 2], "f": [1, 2], "mm": None}]),
        "SegmentMap.segments[0].mm",
    ),
    form(
        "segmap-duplicate-names",
        SegmentMap,
        edit(
            "SegmentMap",
            segments=[{"name": "a", "r": 2, "f": [1, 2]}, {"name": "a", "r": 1, "f": [1, 2]}],
        ),
        "SegmentMap.segments",
    ),
    # --- LifecycleWindows
    form("windows-list", LifecycleWindows, [1, 2], "LifecycleWindows"),
    form(
        "windows-out-of-order",
        LifecycleWindows,
        edit(
            "LifecycleWindows",
            windows={
                "new": {"days": 90},
                "active": {"days": 30},
                "at_risk": {"days": 100},
                "dormant": {"days": 200},
            },
        ),
        "LifecycleWindows.windows",
    ),
    form(
        "windows-missing-one",
        LifecycleWindows,
        edit("LifecycleWindows", windows={"new": {"days": 7}}),
        "LifecycleWindows.windows",
    ),
    form(
        "windows-days-text",
        LifecycleWindows,
        edit(
            "LifecycleWindows", windows={**D["LifecycleWindows"]["windows"], "new": {"days": "x"}}
        ),
        "LifecycleWindows.windows.new.days",
    ),
    form(
        "windows-thresholds-short",
        LifecycleWindows,
        edit("LifecycleWindows", cadence_thresholds=[1.5, 3.0]),
        "LifecycleWindows.cadence_thresholds",
    ),
    form(
        "windows-p-alive-out-of-order",
        LifecycleWindows,
        edit("LifecycleWindows", p_alive_thresholds=[0.1, 0.2, 0.3]),
        "LifecycleWindows.p_alive_thresholds",
    ),
    form(
        "windows-threshold-text",
        LifecycleWindows,
        edit("LifecycleWindows", p_alive_thresholds=[0.5, "x", 0.1]),
        "LifecycleWindows.p_alive_thresholds[1]",
    ),
    form(
        "windows-cadence-text",
        LifecycleWindows,
        edit("LifecycleWindows", cadence="yes"),
        "LifecycleWindows.cadence",
    ),
    form(
        "windows-min-orders-one",
        LifecycleWindows,
        edit("LifecycleWindows", cadence_min_orders=1),
        "LifecycleWindows.cadence_min_orders",
    ),
    form(
        "windows-percentile-200",
        LifecycleWindows,
        edit("LifecycleWindows", cadence_percentile=200),
        "LifecycleWindows.cadence_percentile",
    ),
    form(
        "windows-misspelt-key",
        LifecycleWindows,
        edit("LifecycleWindows", cadense=True),
        "LifecycleWindows.cadense",
    ),
    form(
        "windows-field-name-not-form-key",
        LifecycleWindows,
        edit("LifecycleWindows", new={"days": 3}),
        "LifecycleWindows.new",
    ),
    # --- CohortTable
    form(
        "cohort-active-shape",
        CohortTable,
        edit("CohortTable", active=[[2, 1]]),
        "CohortTable.active",
    ),
    form(
        "cohort-active-ragged",
        CohortTable,
        edit("CohortTable", active=[[2, 1, 0], [1]]),
        "CohortTable.active",
    ),
    form(
        "cohort-active-above-size",
        CohortTable,
        edit("CohortTable", active=[[2, 5, 0], [1, 0, 0]]),
        "CohortTable.active",
    ),
    form(
        "cohort-active-in-unobserved-cell",
        CohortTable,
        edit("CohortTable", active=[[2, 1, 0], [1, 0, 1]]),
        "CohortTable.active",
    ),
    form(
        "cohort-observed-not-derived",
        CohortTable,
        edit("CohortTable", observed=[[True, True, True], [True, True, True]]),
        "CohortTable.observed",
    ),
    form(
        "cohort-sizes-text",
        CohortTable,
        edit("CohortTable", sizes=["two", 1]),
        "CohortTable.sizes[0]",
    ),
    form(
        "cohort-sizes-length",
        CohortTable,
        edit("CohortTable", sizes=[2, 1, 1]),
        "CohortTable.sizes",
    ),
    form(
        "cohort-bad-date",
        CohortTable,
        edit("CohortTable", cohorts=["January", "2024-02-01"]),
        "CohortTable.cohorts[0]",
    ),
    form(
        "cohort-dates-unsorted",
        CohortTable,
        edit("CohortTable", cohorts=["2024-02-01", "2024-01-01"]),
        "CohortTable.cohorts",
    ),
    form(
        "cohort-date-not-period-start",
        CohortTable,
        edit("CohortTable", cohorts=["2024-01-02", "2024-02-01"]),
        "CohortTable.cohorts",
    ),
    form(
        "cohort-revenue-inf",
        CohortTable,
        edit("CohortTable", revenue=[[17.0, 5.0, 1e400], [3.0, 0.0, 0.0]]),
        "CohortTable.revenue[0][2]",
    ),
    form(
        "cohort-revenue-dict", CohortTable, edit("CohortTable", revenue={}), "CohortTable.revenue"
    ),
    form(
        "cohort-unit-unknown",
        CohortTable,
        edit("CohortTable", unit="fortnight"),
        "CohortTable.unit",
    ),
    form(
        "cohort-backend-unknown",
        CohortTable,
        edit("CohortTable", backend="spark"),
        "CohortTable.backend",
    ),
    form("cohort-missing-unit", CohortTable, drop("CohortTable", "unit"), "CohortTable.unit"),
    # --- Migration
    form(
        "migration-counts-disagree",
        Migration,
        edit("Migration", counts=[[0, 0, 2], [0, 0, 0], [0, 0, 1]]),
        "Migration.counts",
    ),
    form(
        "migration-counts-text",
        Migration,
        edit("Migration", counts=[["x"]]),
        "Migration.counts[0][0]",
    ),
    form(
        "migration-counts-flat", Migration, edit("Migration", counts=[1, 2]), "Migration.counts[0]"
    ),
    form("migration-counts-shape", Migration, edit("Migration", counts=[[1]]), "Migration.counts"),
    form(
        "migration-member-twice",
        Migration,
        edit("Migration", members=[["x", "y", ["a", "a"]], ["y", "y", ["b"]]]),
        "Migration.members[0]",
    ),
    form(
        "migration-member-unknown-label",
        Migration,
        edit("Migration", members=[["zz", "y", ["a"]]]),
        "Migration.members[0]",
    ),
    form("migration-members-dict", Migration, edit("Migration", members={}), "Migration.members"),
    form(
        "migration-labels-repeat",
        Migration,
        edit("Migration", labels_from=["x", "x", "absent"]),
        "Migration.labels_from",
    ),
    form("migration-missing-members", Migration, drop("Migration", "members"), "Migration.members"),
    # --- RFMScorer
    form("scorer-none", RFMScorer, None, "RFMScorer"),
    form(
        "scorer-edges-decreasing",
        RFMScorer,
        edit("RFMScorer", edges={**D["RFMScorer"]["edges"], "recency": [90, 30]}),
        "RFMScorer.edges.recency",
    ),
    form(
        "scorer-edges-count",
        RFMScorer,
        edit("RFMScorer", edges={**D["RFMScorer"]["edges"], "recency": [30]}),
        "RFMScorer.edges.recency",
    ),
    form(
        "scorer-edge-text",
        RFMScorer,
        edit("RFMScorer", edges={**D["RFMScorer"]["edges"], "monetary": [50, "lots"]}),
        "RFMScorer.edges.monetary[1]",
    ),
    form("scorer-edges-list", RFMScorer, edit("RFMScorer", edges=[1, 2]), "RFMScorer.edges"),
    form("scorer-missing-edges", RFMScorer, drop("RFMScorer", "edges"), "RFMScorer.edges"),
    form(
        "scorer-method-misspelt",
        RFMScorer,
        edit("RFMScorer", methods={**D["RFMScorer"]["methods"], "recency": "quantil"}),
        "RFMScorer.methods.recency",
    ),
    form(
        "scorer-methods-list",
        RFMScorer,
        edit("RFMScorer", methods=["fixed"] * 3),
        "RFMScorer.methods",
    ),
    form("scorer-k-text", RFMScorer, edit("RFMScorer", k="three"), "RFMScorer.k"),
    form(
        "scorer-n-fitted-negative", RFMScorer, edit("RFMScorer", n_fitted=-1), "RFMScorer.n_fitted"
    ),
    form(
        "scorer-n-fitted-without-quantiles",
        RFMScorer,
        edit("RFMScorer", n_fitted=100),
        "RFMScorer.n_fitted",
    ),
    form("scorer-other-model", RFMScorer, edit("RFMScorer", model="BGNBD"), "RFMScorer.model"),
    form("scorer-misspelt-key", RFMScorer, edit("RFMScorer", kk=3), "RFMScorer.kk"),
    # --- ContentEngagement
    form(
        "content-score-disagrees",
        ContentEngagement,
        edit("ContentEngagement", score=9.0),
        "ContentEngagement.score",
    ),
    form(
        "content-score-text",
        ContentEngagement,
        edit("ContentEngagement", score="high"),
        "ContentEngagement.score",
    ),
    form(
        "content-by-content-list",
        ContentEngagement,
        edit("ContentEngagement", by_content=[3.0]),
        "ContentEngagement.by_content",
    ),
    form(
        "content-item-text",
        ContentEngagement,
        edit("ContentEngagement", by_content={"c1": "x", "c2": 1.5}),
        "ContentEngagement.by_content.c1",
    ),
    form(
        "content-tags-unsorted",
        ContentEngagement,
        edit("ContentEngagement", tags=["z", "a"]),
        "ContentEngagement.tags",
    ),
    form(
        "content-tags-str",
        ContentEngagement,
        edit("ContentEngagement", tags="skincare"),
        "ContentEngagement.tags",
    ),
    form(
        "content-misspelt-key",
        ContentEngagement,
        {**drop("ContentEngagement", "profile_id"), "profil_id": "p"},
        "ContentEngagement.profile_id",
    ),
    # --- GroupActivity
    form(
        "group-members-end-disagrees",
        GroupActivity,
        edit("GroupActivity", members_end=9),
        "GroupActivity.members_end",
    ),
    form(
        "group-churn-disagrees",
        GroupActivity,
        edit("GroupActivity", churn_rate=0.9),
        "GroupActivity.churn_rate",
    ),
    form(
        "group-churn-none-with-members",
        GroupActivity,
        edit("GroupActivity", churn_rate=None),
        "GroupActivity.churn_rate",
    ),
    form(
        "group-leavers-too-many",
        GroupActivity,
        edit("GroupActivity", leavers=3),
        "GroupActivity.leavers",
    ),
    form(
        "group-end-before-start",
        GroupActivity,
        edit("GroupActivity", end="2023-12-01T00:00:00+00:00"),
        "GroupActivity.end",
    ),
    form(
        "group-naive-start",
        GroupActivity,
        edit("GroupActivity", start="2024-01-01"),
        "GroupActivity.start",
    ),
    form(
        "group-joins-negative",
        GroupActivity,
        edit("GroupActivity", joins=-1),
        "GroupActivity.joins",
    ),
    form(
        "group-joins-text", GroupActivity, edit("GroupActivity", joins="1"), "GroupActivity.joins"
    ),
    form("group-list", GroupActivity, [1], "GroupActivity"),
    # --- ErasurePlan
    form("plan-not-mapping", ErasurePlan, "p1", "ErasurePlan"),
    form(
        "plan-profile-ids-str",
        ErasurePlan,
        edit("ErasurePlan", profile_ids="p1"),
        "ErasurePlan.profile_ids",
    ),
    form(
        "plan-profile-repeated",
        ErasurePlan,
        edit("ErasurePlan", profile_ids=["p1", "p1"]),
        "ErasurePlan.profile_ids",
    ),
    form(
        "plan-relationship-of-other-profile",
        ErasurePlan,
        edit("ErasurePlan", relationships=[["p9", "s1"]]),
        "ErasurePlan.relationships[0]",
    ),
    form(
        "plan-relationship-not-pair",
        ErasurePlan,
        edit("ErasurePlan", relationships=[["p1"]]),
        "ErasurePlan.relationships[0]",
    ),
    form(
        "plan-bad-identifier",
        ErasurePlan,
        edit("ErasurePlan", identifiers=[{"kind": "phone", "value": PHONE + "x"}]),
        "ErasurePlan.identifiers[0]",
    ),
    form(
        "plan-record-id-list",
        ErasurePlan,
        edit("ErasurePlan", record_ids=[[1]]),
        "ErasurePlan.record_ids[0]",
    ),
    form(
        "plan-event-id-int",
        ErasurePlan,
        edit("ErasurePlan", event_ids=[1]),
        "ErasurePlan.event_ids[0]",
    ),
    form(
        "plan-resolution-junk",
        ErasurePlan,
        edit("ErasurePlan", resolution={"x": 1}),
        "ErasurePlan.resolution",
    ),
    form(
        "plan-missing-key", ErasurePlan, drop("ErasurePlan", "event_ids"), "ErasurePlan.event_ids"
    ),
    # --- MergeEvent
    form(
        "merge-kind-unknown",
        MergeEvent,
        edit("MergeEvent-joined", kind="merged"),
        "MergeEvent.kind",
    ),
    form(
        "merge-join-with-reason",
        MergeEvent,
        edit("MergeEvent-joined", reason="because"),
        "MergeEvent.reason",
    ),
    form(
        "merge-join-without-owner",
        MergeEvent,
        edit("MergeEvent-joined", owner_record_id=None),
        "MergeEvent.owner_record_id",
    ),
    form(
        "merge-refusal-without-reason",
        MergeEvent,
        edit("MergeEvent-refused", reason=None),
        "MergeEvent.reason",
    ),
    form("merge-at-text", MergeEvent, edit("MergeEvent-joined", at="yesterday"), "MergeEvent.at"),
    form(
        "merge-record-id-float",
        MergeEvent,
        edit("MergeEvent-joined", record_id=1.5),
        "MergeEvent.record_id",
    ),
    form("merge-via-list", MergeEvent, edit("MergeEvent-joined", via=[1]), "MergeEvent.via"),
    form(
        "merge-via-bad-email",
        MergeEvent,
        edit("MergeEvent-joined", via={"kind": "email", "value": "zhang.wei@qq"}),
        "MergeEvent.via",
    ),
    form("merge-missing-keys", MergeEvent, {"kind": "joined"}, "MergeEvent"),
    # --- Refusal
    form("refusal-reason-disagrees", Refusal, edit("Refusal", reason="other"), "Refusal.reason"),
    form("refusal-kind-misspelt", Refusal, edit("Refusal", kind="membr_id"), "Refusal.kind"),
    form("refusal-limit-text", Refusal, edit("Refusal", limit="one"), "Refusal.limit"),
    form("refusal-limit-below-codes", Refusal, edit("Refusal", limit=-9), "Refusal.limit"),
    form("refusal-cap-without-cap-limit", Refusal, edit("Refusal", cap=3), "Refusal.cap"),
    form("refusal-cap-limit-without-cap", Refusal, edit("Refusal-capped", cap=None), "Refusal.cap"),
    form(
        "refusal-window-negative",
        Refusal,
        edit("Refusal", window_seconds=-1),
        "Refusal.window_seconds",
    ),
    form(
        "refusal-window-huge",
        Refusal,
        edit("Refusal", window_seconds=1e300),
        "Refusal.window_seconds",
    ),
    form("refusal-window-by-field-name", Refusal, edit("Refusal", window=5), "Refusal.window"),
    form(
        "refusal-conflicting-dict", Refusal, edit("Refusal", conflicting={}), "Refusal.conflicting"
    ),
    form(
        "refusal-identifier-bad-email",
        Refusal,
        edit("Refusal", identifier={"kind": "email", "value": "zhang.wei@qq"}),
        "Refusal.identifier",
    ),
    form("refusal-record-id-none", Refusal, edit("Refusal", record_id=None), "Refusal.record_id"),
    # --- FitReport (read under the model's key path, "fit_report" alone)
    form("report-list", FitReport, [], "fit_report"),
    form(
        "report-ll-text",
        FitReport,
        edit("FitReport", log_likelihood="high"),
        "fit_report.log_likelihood",
    ),
    form(
        "report-iterations-negative",
        FitReport,
        edit("FitReport", iterations=-1),
        "fit_report.iterations",
    ),
    form(
        "report-se-other-parameter",
        FitReport,
        edit("FitReport", standard_errors={"r": 0.01, "beta": 1.0}),
        "fit_report.standard_errors",
    ),
    form(
        "report-interval-misses-estimate",
        FitReport,
        edit("FitReport", confidence_intervals={"r": [0.3, 0.4], "alpha": None}),
        "fit_report.confidence_intervals.r",
    ),
    form(
        "report-interval-one-number",
        FitReport,
        edit("FitReport", confidence_intervals={"r": [0.3], "alpha": None}),
        "fit_report.confidence_intervals.r",
    ),
    form(
        "report-covariance-shape",
        FitReport,
        edit("FitReport", covariance=[[1.0]]),
        "fit_report.covariance",
    ),
    form(
        "report-starts-agreed-above-starts",
        FitReport,
        edit("FitReport", starts_agreed=9),
        "fit_report.starts_agreed",
    ),
    form("report-aic-disagrees", FitReport, edit("FitReport", aic=1.0), "fit_report.aic"),
    form(
        "report-level-above-one",
        FitReport,
        edit("FitReport", confidence_level=95),
        "fit_report.confidence_level",
    ),
    form(
        "report-estimates-list",
        FitReport,
        edit("FitReport", estimates=[0.2, 4.0]),
        "fit_report.estimates",
    ),
    form("report-misspelt-key", FitReport, edit("FitReport", mesage="x"), "fit_report.mesage"),
    # --- diagnostics results
    form(
        "holdout-table-lengths",
        CalibrationHoldout,
        edit("CalibrationHoldout", actual=[0.2]),
        "CalibrationHoldout.actual",
    ),
    form(
        "holdout-table-text",
        CalibrationHoldout,
        edit("CalibrationHoldout", expected=["x", 1]),
        "CalibrationHoldout.expected",
    ),
    form(
        "histogram-n-dict",
        FrequencyHistogram,
        edit("FrequencyHistogram", n={}),
        "FrequencyHistogram.n",
    ),
    form(
        "tracking-lengths",
        Tracking,
        edit("Tracking", expected_cumulative=[1.0]),
        "Tracking.expected_cumulative",
    ),
    form(
        "matrix-values-shape",
        PredictionMatrix,
        edit("PredictionMatrix", values=[[1.0, 1.0]]),
        "PredictionMatrix.values",
    ),
    form(
        "matrix-kind-misspelt",
        PredictionMatrix,
        edit("PredictionMatrix", kind="palive"),
        "PredictionMatrix.kind",
    ),
    form("metrics-mae-text", HoldoutMetrics, edit("HoldoutMetrics", mae="x"), "HoldoutMetrics.mae"),
    form(
        "lrtest-df-text",
        LikelihoodRatioTest,
        edit("LikelihoodRatioTest", df="1"),
        "LikelihoodRatioTest.df",
    ),
]


@pytest.mark.parametrize(("cls", "data", "path"), CASES)
def test_bad_form(cls, data, path):
    before = copy.deepcopy(data)
    err = check_bad(lambda: cls.from_dict(data), exc=ArgumentError, names=[path])
    # the message names the path, or (a missing or unknown key) the key with the path as field
    key = re.split(r"[.\[]", path)[-1].rstrip("]")
    named = path in str(err) or (err.field == path and repr(key) in str(err))
    assert named, f"message does not name {path!r}: field={err.field!r} {err}"
    assert data == before  # a refused form is left as it was


def test_misspelt_key_suggests_the_right_one():
    err = check_bad(
        lambda: GroupActivity.from_dict({**drop("GroupActivity", "joins"), "jions": 1}),
        exc=ArgumentError,
        names=["GroupActivity.joins"],
    )
    assert "'jions'" in str(err)
    err = check_bad(lambda: RFMScorer.from_dict(edit("RFMScorer", edgs={})), exc=ArgumentError)
    assert "edges" in str(err)


# --- nothing lost --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_json_roundtrip(name):
    obj = OBJECTS[name]
    again = type(obj).from_dict(json.loads(json.dumps(obj.to_dict())))
    assert again == obj
    assert again.to_dict() == obj.to_dict()


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_json_roundtrip_of_diagnostics(name):
    obj = RESULTS[name]
    again = type(obj).from_dict(json.loads(json.dumps(obj.to_dict())))
    assert again.to_dict() == obj.to_dict()


def test_old_forms_still_load():
    # forms as earlier versions wrote or documented them
    assert (
        RFMScorer.from_dict({k: v for k, v in D["RFMScorer"].items() if k != "n_fitted"}) == SCORER
    )
    refusal = Refusal.from_dict(
        {"record_id": "r", "identifier": {"kind": "device_id", "value": "D1"},
         "owner_record_id": "q", "kind": "member_id", "limit": 1, "count": 2}
    )  # fmt: skip
    assert refusal.window is None
    assert refusal.conflicting == ()
    assert SegmentMap.from_dict(
        {"k": 2, "segments": [{"name": "all", "r": [1, 2], "f": [1, 2]}]}
    ).names == ("all",)
    old_merge = {k: v for k, v in D["MergeEvent-joined"].items() if k != "reason"}
    assert MergeEvent.from_dict(old_merge) == JOINED


def test_from_dict_shares_nothing_with_its_input():
    data = edit("Audience", rule={"kind": "compare", "field": "r", "op": ">=", "value": 4})
    try:
        audience = Audience.from_dict(data)
    except ArgumentError:
        return  # a rule JSON of another shape: nothing to share
    data["rule"]["value"] = 1
    assert audience.rule["value"] == 4
    data = copy.deepcopy(D["Migration"])
    mig = Migration.from_dict(data)
    data["members"][0][2].append("zzz")
    assert mig == MIGRATION


def test_naive_wall_clock_merge_event_roundtrips():
    # a resolution with a tz reports wall-clock (naive) times; the form keeps them
    event = MergeEvent("joined", dt.datetime(2024, 5, 1, 9, 30), "b", None, "a", "a")
    assert MergeEvent.from_dict(json.loads(json.dumps(event.to_dict()))) == event


@st.composite
def scorers(draw):
    k = draw(st.integers(2, 9))
    edges = {
        dim: sorted(draw(st.lists(st.floats(-1e6, 1e6), min_size=k - 1, max_size=k - 1)))
        for dim in ("recency", "frequency", "monetary")
    }
    methods = tuple(draw(st.sampled_from(["fixed", "quantile"])) for _ in range(3))
    n = draw(st.integers(1, 10**6)) if "quantile" in methods else 0
    return RFMScorer(k, edges["recency"], edges["frequency"], edges["monetary"], methods, n)


@settings(max_examples=40, deadline=None)
@given(scorers())
def test_scorer_roundtrip_property(scorer):
    assert RFMScorer.from_dict(json.loads(json.dumps(scorer.to_dict()))) == scorer


@settings(max_examples=40, deadline=None)
@given(
    st.integers(2, 9).flatmap(
        lambda k: st.tuples(
            st.just(k), st.lists(st.integers(1, k - 1), unique=True, max_size=k - 1)
        )
    )
)
def test_segment_map_roundtrip_property(k_cuts):
    # a partition of the grid into bands of R scores, cut before each of ``cuts``
    k, cuts = k_cuts
    bounds = [1, *sorted(c + 1 for c in cuts), k + 1]
    segments = [
        Segment(f"s{i}", r=(lo, hi - 1), f=(1, k))
        for i, (lo, hi) in enumerate(itertools.pairwise(bounds))
    ]
    smap = SegmentMap(k, segments)
    assert SegmentMap.from_dict(json.loads(json.dumps(smap.to_dict()))) == smap


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 50),
    st.integers(0, 50),
    st.integers(0, 50),
    st.data(),
)
def test_group_activity_roundtrip_property(start, joins, leaves_beyond, data):
    leaves = min(leaves_beyond, start + joins)
    leavers = data.draw(st.integers(0, min(leaves, start)))
    activity = GroupActivity(
        "g", T0, T0 + dt.timedelta(days=7), start, joins, leaves, leavers,
        start + joins - leaves, leavers / start if start else None,
    )  # fmt: skip
    assert GroupActivity.from_dict(json.loads(json.dumps(activity.to_dict()))) == activity


@settings(max_examples=40, deadline=None)
@given(
    st.dictionaries(st.text(min_size=1, max_size=5), st.floats(0, 1e9), max_size=6),
    st.lists(st.text(min_size=1, max_size=6), unique=True, max_size=4),
)
def test_content_engagement_roundtrip_property(by_content, tags):
    total = float(sum(by_content.values()))
    engagement = ContentEngagement("p", total, by_content, tuple(sorted(tags)))
    assert ContentEngagement.from_dict(json.loads(json.dumps(engagement.to_dict()))) == engagement


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 400), min_size=4, max_size=4, unique=True))
def test_lifecycle_windows_roundtrip_property(days):
    new, active, at_risk, dormant = sorted(days)
    windows = LifecycleWindows(new=new, active=active, at_risk=at_risk, dormant=dormant)
    assert LifecycleWindows.from_dict(json.loads(json.dumps(windows.to_dict()))) == windows


# --- leftovers of issue 16 -----------------------------------------------------------------------


@pytest.mark.parametrize("text", [PHONE, EMAIL, "zhang.wei@qq", "+86" + PHONE])
def test_parse_timestamp_masks_identifier_like_text(text):
    with pytest.raises(ArgumentError) as caught:
        parse_timestamp(text, field="as_of")
    assert_private(caught.value, repr(caught.value), caught.value.to_dict())
    assert "as_of" in str(caught.value)


def test_parse_timestamp_still_shows_a_plain_bad_date():
    with pytest.raises(ArgumentError, match="2024-13-45"):
        parse_timestamp("2024-13-45")


@pytest.mark.parametrize(
    "value",
    [2.0**63, np.nextafter(2.0**63, 0.0), np.nextafter(2.0**63, np.inf), 2.0**64, 1e300, 10**400],
    ids=["2**63", "just-below-2**63", "just-above-2**63", "2**64", "1e300", "int-10**400"],
)
def test_whole_array_near_int64_limit_is_a_data_error(value):
    # float64 holds whole numbers exactly only below 2**53; near 2**63 numpy's cast to int64
    # wrapped to -9223372036854775808 (or overflowed) instead of refusing
    with pytest.raises(DataError, match="2\\*\\*53") as caught:
        _discrete.check_whole_array([3, value], "t")
    assert caught.value.field == "t"


def test_whole_array_keeps_exact_counts():
    out = _discrete.check_whole_array([0, 2**53 - 1], "t")
    assert out.tolist() == [0, 2**53 - 1]
