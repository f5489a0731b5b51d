"""Next best actions and the day plan on the hand-built scenarios (values computed by hand:
value = p_response x value at stake, with the DEFAULT_PLAYBOOK numbers)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.errors import ClientModelError
from clientmodel.profile import StaffMember
from clientmodel.view import (
    DEFAULT_PLAYBOOK,
    ContactPressure,
    CustomerView,
    DayPlan,
    Play,
    Timing,
    customer_view,
    day_plan,
    next_actions,
    purchase_timing,
)

from .conftest import AS_OF


def _view(s: dict[str, Any], pid: str, **extra: Any) -> CustomerView:
    return customer_view(
        pid,
        as_of=AS_OF,
        profile=s["profiles"][pid],
        summary=s["summary"][pid],
        segment=s["segment"][pid],
        scores=s["scores"][pid],
        book=s["book"],
        links=s["links"],
        staff=s["staff"],
        **extra,
    )


def _once(s: dict[str, Any]) -> CustomerView:
    return _view(s, "p_once", timing=purchase_timing(s["summary"]["p_once"], typical_gap=4))


def test_vip_economic_buyer_gets_deal_care_then_vip_care(scenario: dict[str, Any]) -> None:
    res = next_actions(_view(scenario, "p_vip"), DEFAULT_PLAYBOOK, as_of=AS_OF)
    assert [a.play_id for a in res.actions] == ["economic_buyer_care", "vip_care"]
    deal, vip = res.actions
    # 0.5 x (120000 x 0.4) and 0.3 x 900
    assert deal.value == pytest.approx(24000.0)
    assert vip.value == pytest.approx(270.0)
    assert (deal.channel, vip.channel, deal.owner) == ("meeting", "wecom", "s1")
    assert deal.reasons == ("decision_maker = true", "n_open_deals >= 1")
    numbers = dict(deal.numbers)
    assert numbers["decision_maker"] is True
    assert numbers["value_at_stake"] == pytest.approx(48000.0)
    assert res.suppressed == ()


def test_pressure_cap_suppresses_and_reports(scenario: dict[str, Any]) -> None:
    earlier = [AS_OF - dt.timedelta(days=2)]
    res = next_actions(
        _view(scenario, "p_vip"),
        DEFAULT_PLAYBOOK,
        as_of=AS_OF,
        pressure=ContactPressure(max_touches=2),
        touches=earlier,
    )
    assert [a.play_id for a in res.actions] == ["economic_buyer_care"]
    (sup,) = res.suppressed
    assert (sup.play_id, sup.reason) == ("vip_care", "pressure_cap")
    # a touch older than the period does not count
    old = [AS_OF - dt.timedelta(days=8)]
    res = next_actions(_view(scenario, "p_vip"), DEFAULT_PLAYBOOK, as_of=AS_OF, touches=old)
    assert len(res.actions) == 2


def test_one_time_buyer_gets_a_repurchase_reminder_by_sms(scenario: dict[str, Any]) -> None:
    res = next_actions(_once(scenario), DEFAULT_PLAYBOOK, as_of=AS_OF)
    (action,) = res.actions
    assert (action.play_id, action.channel) == ("repurchase", "sms")
    assert action.value == pytest.approx(0.15 * 60.0)
    assert action.reasons == ("due = true", "not overdue = true")
    assert res.suppressed == ()


def test_sms_consent_missing_means_suppressed_not_sent(scenario: dict[str, Any]) -> None:
    play = Play(
        play_id="mail_only",
        action="newsletter",
        rule="frequency >= 0",
        channels=("email",),
        p_response=0.1,
    )
    res = next_actions(_once(scenario), [play], as_of=AS_OF)
    assert res.actions == ()
    (sup,) = res.suppressed
    assert sup.reason == "no_consent"
    assert "sms" in sup.detail


def test_orphan_is_taken_over_and_won_back(scenario: dict[str, Any]) -> None:
    res = next_actions(_view(scenario, "p_orphan"), DEFAULT_PLAYBOOK, as_of=AS_OF)
    assert [a.play_id for a in res.actions] == ["take_over", "win_back"]
    assert res.actions[0].owner is None
    assert res.actions[0].value == pytest.approx(30.0)
    assert res.actions[1].value == pytest.approx(0.05 * 30.0)


def test_quiet_hours_and_engagement_hours_schedule_the_action(scenario: dict[str, Any]) -> None:
    night = dt.datetime(2024, 6, 3, 22, tzinfo=dt.timezone.utc)
    res = next_actions(_once(scenario), DEFAULT_PLAYBOOK, as_of=night)
    assert res.actions[0].send_at == dt.datetime(2024, 6, 4, 9, tzinfo=dt.timezone.utc)
    assert "moved out of quiet hours" in res.actions[0].reasons
    # the customer engages on Mondays 14:00 (hour of week 14): 09:00 Monday moves there
    timing = Timing(cadence_gap=4.0, due_in=-1.0, due=True, overdue=False, engagement_hours=(14,))
    res = next_actions(_view(scenario, "p_once", timing=timing), DEFAULT_PLAYBOOK, as_of=AS_OF)
    assert res.actions[0].send_at.hour == 14


@settings(max_examples=20)
@given(order=st.permutations(range(len(DEFAULT_PLAYBOOK))))
def test_playbook_order_does_not_matter(order: list[int]) -> None:
    view = customer_view(
        "x",
        as_of=AS_OF,
        scores={"clv": 100.0, "churn_risk": 0.9, "p_alive": 0.1},
        summary={"frequency": 3, "recency": 5, "T": 30, "monetary_value": 50},
    )
    a = next_actions(view, DEFAULT_PLAYBOOK, as_of=AS_OF)
    b = next_actions(view, [DEFAULT_PLAYBOOK[i] for i in order], as_of=AS_OF)
    assert a == b


def test_day_plan_balances_and_hands_over(scenario: dict[str, Any]) -> None:
    views = [_view(scenario, "p_vip"), _once(scenario), _view(scenario, "p_orphan")]
    plan = day_plan(
        views, DEFAULT_PLAYBOOK, as_of=AS_OF, staff=scenario["staff"], capacity=5, per_person=2
    )
    # s1 owns Dana and the one-time buyer; the orphan (previous owner s3, team north) goes to
    # the least-loaded north colleague: s2 (0 tasks) rather than s1 (3 tasks).
    assert [a.play_id for a in plan.tasks_of("s1")] == [
        "economic_buyer_care",
        "vip_care",
        "repurchase",
    ]
    assert [a.play_id for a in plan.tasks_of("s2")] == ["take_over", "win_back"]
    (handover,) = plan.handovers
    assert (handover.person_id, handover.staff_id, handover.reason) == (
        "p_orphan",
        "s2",
        "same_team",
    )
    assert "s3" not in dict(plan.tasks)
    assert DayPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan
    assert "economic_buyer_care" in plan.render()


def test_day_plan_capacity_defers_the_least_valuable(scenario: dict[str, Any]) -> None:
    views = [_view(scenario, "p_vip"), _once(scenario)]
    staff = [StaffMember(staff_id="s1")]
    plan = day_plan(views, DEFAULT_PLAYBOOK, as_of=AS_OF, staff=staff, capacity=1)
    assert [a.play_id for a in plan.tasks_of("s1")] == ["economic_buyer_care"]
    assert [a.play_id for a in plan.deferred] == ["repurchase"]


def test_bad_plays_are_refused() -> None:
    with pytest.raises(ValueError, match="does not parse"):
        Play(play_id="x", action="x", rule="clv >", channels=("sms",), p_response=0.1)
    with pytest.raises(ValueError, match="fixed"):
        Play(play_id="x", action="x", rule="clv > 1", channels=("sms",), p_response=0.1, value=3)
    view = customer_view("x", as_of=AS_OF)
    with pytest.raises(ClientModelError, match="twice"):
        next_actions(view, [DEFAULT_PLAYBOOK[0]] * 2, as_of=AS_OF)
    with pytest.raises(ClientModelError, match="staff"):
        day_plan([view], DEFAULT_PLAYBOOK, as_of=AS_OF, staff=[])
