"""The two halves joined: person <-> contact links, the customer 360 view, the right moment to
reach out, next best actions with their reasons, and the loop back.

This is the one package that reads both the process half (:mod:`clientmodel.funnel`,
:mod:`clientmodel.accounts`) and the people half (:mod:`clientmodel.profile`,
:mod:`clientmodel.segments`, :mod:`clientmodel.ltv`); none of them imports it.
"""

from __future__ import annotations

from clientmodel.view.actions import (
    DEFAULT_PLAYBOOK,
    Action,
    ContactPressure,
    NextActions,
    Play,
    Suppressed,
    next_actions,
    play_value,
)
from clientmodel.view.book import Book
from clientmodel.view.demo import demo_day_plan, demo_views
from clientmodel.view.evaluation import (
    OUTCOMES,
    Holdout,
    newcombe_interval,
    outcome_event,
    play_evaluation,
    wilson_interval,
)
from clientmodel.view.link import ContactIdentifiers, LinkRefusal, Links, PersonLink, link
from clientmodel.view.plan import DayPlan, Handover, day_plan
from clientmodel.view.plan_table import day_plan_table, plan_table
from clientmodel.view.record import (
    FLAT_FIELDS,
    PARTS,
    CustomerView,
    customer_view,
    flatten,
)
from clientmodel.view.table import view_table
from clientmodel.view.timing import (
    QUANTILES,
    Timing,
    engagement_hours,
    purchase_timing,
    timing_table,
    window_quantiles,
)
from clientmodel.view.viewer import IDENTIFIER_ROLES, SYSTEM, Viewer

__all__ = [
    "DEFAULT_PLAYBOOK",
    "FLAT_FIELDS",
    "IDENTIFIER_ROLES",
    "OUTCOMES",
    "PARTS",
    "QUANTILES",
    "SYSTEM",
    "Action",
    "Book",
    "ContactIdentifiers",
    "ContactPressure",
    "CustomerView",
    "DayPlan",
    "Handover",
    "Holdout",
    "LinkRefusal",
    "Links",
    "NextActions",
    "PersonLink",
    "Play",
    "Suppressed",
    "Timing",
    "Viewer",
    "customer_view",
    "day_plan",
    "day_plan_table",
    "demo_day_plan",
    "demo_views",
    "engagement_hours",
    "flatten",
    "link",
    "newcombe_interval",
    "next_actions",
    "outcome_event",
    "plan_table",
    "play_evaluation",
    "play_value",
    "purchase_timing",
    "timing_table",
    "view_table",
    "wilson_interval",
    "window_quantiles",
]
