"""The synthetic company's day plan: both halves present, deterministic, plan invariants."""

from __future__ import annotations

from clientmodel.datasets.accounts import make_accounts
from clientmodel.datasets.consumers import make_consumers
from clientmodel.view import DayPlan, Holdout, demo_day_plan


def _plan() -> DayPlan:
    consumers = make_consumers(150, seed=2)
    return demo_day_plan(consumers, make_accounts(5, seed=2, as_of=consumers.as_of), seed=4)


def test_demo_plan_is_deterministic_and_joins_both_halves() -> None:
    plan = _plan()
    assert plan == _plan()
    plays = {a.play_id for _, tasks in plan.tasks for a in tasks}
    assert plays & {"economic_buyer_care", "multi_thread"}  # the process half
    assert plays & {"win_back", "follow_up", "repurchase", "cross_sell"}  # the people half
    assert plan.handovers  # the leaver's customers were handed over


def test_demo_plan_invariants() -> None:
    plan = _plan()
    # the first staff member left: no task for them; capacity respected; each person once
    assert "s01" not in dict(plan.tasks)
    assert all(len(tasks) <= 15 for _, tasks in plan.tasks)
    people = [a.person_id for _, tasks in plan.tasks for a in tasks]
    assert len(people) == len(set(people))
    held = {p for p in people if Holdout(seed=4, share=0.1).holds(p)}
    assert held == set()
    assert all(a.value > 0 for _, tasks in plan.tasks for a in tasks)
