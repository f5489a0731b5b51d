"""Customer segments: RFM scores and named segments, lifecycle stages, audiences, migration and
cohort tables, acquisition value, and the reports beside them (segment summaries, value tiers,
purchase gaps, churn by number of purchases).

Each concept lives in its own module (``rfm``, ``segment_map``, ``lifecycle``, ``movement``,
``cohorts``, ``audiences``, ``acquisition``, ``reports``); the most used names are re-exported here.
"""

from __future__ import annotations

from clientmodel.segments.acquisition import acquisition_value
from clientmodel.segments.audiences import (
    Audience,
    AudienceOverlap,
    audience_changes,
    audience_overlap,
    audience_table,
    audiences_of,
)
from clientmodel.segments.cohorts import CohortTable, cohort_table
from clientmodel.segments.lifecycle import (
    STAGES,
    LifecycleWindows,
    lifecycle_from_summary,
    lifecycle_stage,
    lifecycle_stages,
)
from clientmodel.segments.movement import Migration, migration, migration_between
from clientmodel.segments.reports import (
    churn_by_orders,
    purchase_gaps,
    segment_summary,
    value_tiers,
)
from clientmodel.segments.rfm import (
    RFMScore,
    RFMScorer,
    fit_rfm,
    rf_grid,
    rfm_from_summary,
    rfm_values,
)
from clientmodel.segments.segment_map import Segment, SegmentMap, default_segment_map

__all__ = [
    "STAGES",
    "Audience",
    "AudienceOverlap",
    "CohortTable",
    "LifecycleWindows",
    "Migration",
    "RFMScore",
    "RFMScorer",
    "Segment",
    "SegmentMap",
    "acquisition_value",
    "audience_changes",
    "audience_overlap",
    "audience_table",
    "audiences_of",
    "churn_by_orders",
    "cohort_table",
    "default_segment_map",
    "fit_rfm",
    "lifecycle_from_summary",
    "lifecycle_stage",
    "lifecycle_stages",
    "migration",
    "migration_between",
    "purchase_gaps",
    "rf_grid",
    "rfm_from_summary",
    "rfm_values",
    "segment_summary",
    "value_tiers",
]
