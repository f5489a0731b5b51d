"""B2B sales funnel: pipelines, stages, deals, transitions, histories, analytics and forecasts.

Records (:mod:`~clientmodel.funnel.models`) say where each deal stands and how it may move;
:mod:`~clientmodel.funnel.transitions` moves deals and enforces the pipeline's allowed moves and
entry criteria; the analytics modules read many deals' stage histories (as records or as an event
table in any frame kind) to measure time in stage, conversion, an absorbing Markov chain of win
probabilities and days to close, and forecasts.
"""

from __future__ import annotations

from clientmodel.funnel.committee import (
    NOTE_FIELDS,
    CommitteeView,
    GraphContext,
    committee_view,
    deal_context,
    economic_buyer_engaged,
    meddpicc_at_least,
    with_deal,
)
from clientmodel.funnel.conversion import cohort_conversion, conversion
from clientmodel.funnel.currency import ExchangeRates
from clientmodel.funnel.field_history import FieldChurn, field_churn, fields_as_of, update
from clientmodel.funnel.forecast import (
    Backtest,
    BookingsForecast,
    CategoryRollup,
    DealCategory,
    Rollup,
    SojournLaw,
    backtest,
    category_rollup,
    deal_category,
    deals_as_of,
    simulate_bookings,
    weighted_pipeline,
)
from clientmodel.funnel.history import (
    StageHistory,
    StageStay,
    stage_durations,
    stage_events,
    stage_history,
    time_in_stage,
)
from clientmodel.funnel.hygiene import Flag, overdue_follow_ups, slippage, stalled
from clientmodel.funnel.markov import AbsorbingChain, fit_chain, solve_chain, transition_counts
from clientmodel.funnel.models import (
    FORECAST_CATEGORIES,
    LEAD_STATUSES,
    STAGE_KINDS,
    TRACKED_FIELDS,
    Deal,
    FieldChange,
    Lead,
    Pipeline,
    Stage,
    StageChange,
)
from clientmodel.funnel.pipelines import by_pipeline
from clientmodel.funnel.probability import (
    LAYERS,
    NaiveBayesScore,
    Probability,
    deal_probability,
    fit_naive_bayes,
)
from clientmodel.funnel.rollup import CALLS, Adjustment, ForecastCall, forecast_call
from clientmodel.funnel.transitions import (
    REASONS,
    Guard,
    Qualified,
    TransitionError,
    close,
    move,
    open_deal,
    qualify,
    reopen,
    replay,
    unmet_criteria,
)
from clientmodel.funnel.velocity import Velocity, sales_velocity, win_rates

__all__ = [
    "CALLS",
    "FORECAST_CATEGORIES",
    "LAYERS",
    "LEAD_STATUSES",
    "NOTE_FIELDS",
    "REASONS",
    "STAGE_KINDS",
    "TRACKED_FIELDS",
    "AbsorbingChain",
    "Adjustment",
    "Backtest",
    "BookingsForecast",
    "CategoryRollup",
    "CommitteeView",
    "Deal",
    "DealCategory",
    "ExchangeRates",
    "FieldChange",
    "FieldChurn",
    "Flag",
    "ForecastCall",
    "GraphContext",
    "Guard",
    "Lead",
    "NaiveBayesScore",
    "Pipeline",
    "Probability",
    "Qualified",
    "Rollup",
    "SojournLaw",
    "Stage",
    "StageChange",
    "StageHistory",
    "StageStay",
    "TransitionError",
    "Velocity",
    "backtest",
    "by_pipeline",
    "category_rollup",
    "close",
    "cohort_conversion",
    "committee_view",
    "conversion",
    "deal_category",
    "deal_context",
    "deal_probability",
    "deals_as_of",
    "economic_buyer_engaged",
    "field_churn",
    "fields_as_of",
    "fit_chain",
    "fit_naive_bayes",
    "forecast_call",
    "meddpicc_at_least",
    "move",
    "open_deal",
    "overdue_follow_ups",
    "qualify",
    "reopen",
    "replay",
    "sales_velocity",
    "simulate_bookings",
    "slippage",
    "solve_chain",
    "stage_durations",
    "stage_events",
    "stage_history",
    "stalled",
    "time_in_stage",
    "transition_counts",
    "unmet_criteria",
    "update",
    "weighted_pipeline",
    "win_rates",
    "with_deal",
]
