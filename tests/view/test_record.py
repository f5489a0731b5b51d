"""The customer view on the hand-built scenarios (expected values written by hand from the
scenario descriptions in conftest.py)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from clientmodel.errors import ClientModelError
from clientmodel.view import (
    PARTS,
    CustomerView,
    Viewer,
    customer_view,
    flatten,
    purchase_timing,
)

from .conftest import AS_OF


def _view(s: dict[str, Any], pid: str, viewer: Viewer | None = None, **extra: Any) -> CustomerView:
    return customer_view(
        pid,
        as_of=AS_OF,
        viewer=viewer or Viewer(staff_id="s1", roles=("sales",)),
        profile=s["profiles"][pid],
        summary=s["summary"][pid],
        segment=s["segment"][pid],
        scores=s["scores"][pid],
        book=s["book"],
        links=s["links"],
        staff=s["staff"],
        **extra,
    )


def test_vip_consumer_who_is_economic_buyer_on_an_open_deal(scenario: dict[str, Any]) -> None:
    v = _view(scenario, "p_vip")
    assert v.identity is not None
    assert v.identity.contact_ids == ("acme-dana",)
    assert v.tags == ("vip",)
    assert v.contact is not None
    assert v.contact.channels == ("email", "wecom")
    (seat,) = [d for d in v.deals or () if d.contact_id == "acme-dana"]
    assert (seat.deal_id, seat.role, seat.stage, seat.win_probability) == (
        "D1",
        "economic_buyer",
        "proposal",
        0.4,
    )
    # a supporting economic buyer makes the committee green (accounts.committee rules)
    assert seat.committee_status == "green"
    assert v.warm_path is not None
    assert v.warm_path.people == ("t1", "acme-eli", "acme-dana")
    assert v.warm_path.strength == pytest.approx(0.9 * 0.8)
    flat = flatten(v)
    assert flat["decision_maker"] is True
    assert flat["open_deal_amount"] == 120000.0
    assert flat["rfm_segment"] == "champions"
    assert flat["owner"] == "s1"
    assert flat["follow_up"] == "in_follow_up"
    assert v.missing == ("timing",)


def test_one_time_buyer_due_with_sms_consent_only(scenario: dict[str, Any]) -> None:
    timing = purchase_timing(scenario["summary"]["p_once"], typical_gap=4)
    v = _view(scenario, "p_once", timing=timing)
    assert v.contact is not None
    assert v.contact.channels == ("sms",)
    assert {c.channel: c.status for c in v.contact.consent} == {"email": "denied", "sms": "granted"}
    flat = flatten(v)
    # five weeks since the only purchase, a four-week product: due (5 >= 4), not overdue (5 < 6)
    assert (flat["due"], flat["overdue"], flat["cadence_gap"]) == (True, False, 4.0)
    assert flat["n_accounts"] == 0
    assert flat["decision_maker"] is False
    assert v.accounts == ()
    assert v.deals == ()
    assert "warm_path" in v.missing


def test_customer_whose_owner_left(scenario: dict[str, Any]) -> None:
    v = _view(scenario, "p_orphan")
    assert v.relationships is not None
    assert v.relationships.owners == ()
    assert v.relationships.owner_left is True
    (rel,) = v.relationships.relationships
    assert (rel.staff_id, rel.active, rel.end_reason, rel.staff_active) == (
        "s3",
        False,
        "staff_left",
        False,
    )
    flat = flatten(v)
    assert flat["owner"] is None
    assert flat["owner_left"] is True


def test_active_relationship_with_inactive_staff_is_not_an_owner(
    scenario: dict[str, Any],
) -> None:
    from clientmodel.profile import StaffMember

    staff = [StaffMember(staff_id="s1", active=False), StaffMember(staff_id="s2")]
    v = customer_view("p_once", as_of=AS_OF, profile=scenario["profiles"]["p_once"], staff=staff)
    assert v.relationships is not None
    assert v.relationships.owners == ()
    assert v.relationships.owner_left is True


def test_missing_parts_are_named_not_invented() -> None:
    v = customer_view("x", as_of=AS_OF)
    assert v.missing == PARTS
    assert all(value is None for key, value in flatten(v).items() if key != "person_id")


def test_view_is_frozen_json_round_trips_and_has_a_schema(scenario: dict[str, Any]) -> None:
    v = _view(scenario, "p_vip")
    assert CustomerView.model_validate_json(v.model_dump_json()) == v
    schema = CustomerView.model_json_schema()
    assert set(PARTS) <= set(schema["properties"])
    with pytest.raises(Exception, match="frozen"):
        v.person_id = "other"  # type: ignore[misc]
    json.dumps(flatten(v))


def test_bad_inputs_are_library_errors() -> None:
    with pytest.raises(ClientModelError, match="as_of"):
        customer_view("x", as_of=dt.datetime(2024, 1, 1))
    with pytest.raises(ClientModelError, match="summary"):
        customer_view("x", as_of=AS_OF, summary={"frequency": 1, "recency": 2})
    with pytest.raises(ClientModelError, match="p_alive"):
        customer_view("x", as_of=AS_OF, scores={"p_alive": float("inf")})
    with pytest.raises(ClientModelError, match="p_alive"):
        customer_view("x", as_of=AS_OF, scores={"p_alive": 1.5})
