"""Hand-built scenarios shared by the view tests.

* ``vip``: Dana, a VIP consumer (12 repeat purchases) who is also the economic buyer, a
  supporter, on the open deal D1 at Acme; our Ana knows Eli, who works with Dana.
* ``once``: a one-time buyer five weeks after the first purchase (the product lasts four weeks),
  with marketing consent only on SMS.
* ``orphan``: a customer whose owner, staff member s3, has left.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from clientmodel.accounts import (
    Account,
    Contact,
    DealContext,
    Relationship,
    RoleAssignment,
    TeamMember,
)
from clientmodel.profile import (
    Profile,
    StaffMember,
    add_note,
    add_tag,
    end_relationship,
    set_consent,
    set_follow_up,
    start_relationship,
)
from clientmodel.view import Book, ContactIdentifiers, link

AS_OF = dt.datetime(2024, 6, 3, 9, tzinfo=dt.timezone.utc)
T0 = dt.datetime(2024, 1, 10, tzinfo=dt.timezone.utc)
PHONE = "+8613800138000"
SECRET_NOTE = "prefers calls after 8pm, divorced"
SECRET_TAG = "golf_buddy_of_s2"


def _vip() -> Profile:
    p = Profile(
        profile_id="p_vip",
        identifiers=[
            {"kind": "phone", "value": PHONE},
            {"kind": "email", "value": "dana@acme.com"},
        ],
    )
    p, _ = add_tag(p, "vip", at=T0)
    p = set_consent(p, "wecom", "granted", at=T0)
    p = set_consent(p, "email", "granted", at=T0)
    p = start_relationship(p, "s1", at=T0, how="code_scan")
    p = set_follow_up(p, "s1", "in_follow_up", at=T0 + dt.timedelta(days=3))
    p = add_note(p, "s1", "asked about the spring collection", at=T0 + dt.timedelta(days=3))
    p = start_relationship(p, "s2", at=T0, how="search")
    p, _ = add_tag(p, SECRET_TAG, at=T0, staff_id="s2")
    return add_note(p, "s2", SECRET_NOTE, at=T0 + dt.timedelta(days=5))


def _once() -> Profile:
    p = Profile(profile_id="p_once", identifiers=[{"kind": "phone", "value": "+8613900000002"}])
    p = set_consent(p, "sms", "granted", at=T0)
    p = set_consent(p, "email", "denied", at=T0)
    return start_relationship(p, "s1", at=T0, how="assignment")


def _orphan() -> Profile:
    p = Profile(profile_id="p_orphan")
    p = set_consent(p, "wecom", "granted", at=T0)
    p = start_relationship(p, "s3", at=T0, how="code_scan")
    return end_relationship(p, "s3", at=T0 + dt.timedelta(days=60), reason="staff_left")


STAFF = (
    StaffMember(staff_id="s1", team="north"),
    StaffMember(staff_id="s2", team="north"),
    StaffMember(staff_id="s3", team="north", active=False),
    StaffMember(staff_id="s4", team="south"),
)


def _book() -> Book:
    return Book(
        accounts=[Account(id="acme", name="Acme Corp")],
        contacts=[
            Contact(id="acme-dana", name="Dana", account_ids=("acme",), seniority="c_level"),
            Contact(id="acme-eli", name="Eli", account_ids=("acme",)),
        ],
        team=[TeamMember(id="t1", name="Ana")],
        relationships=[
            Relationship(source="t1", target="acme-eli", kind="knows", strength=0.9),
            Relationship(source="acme-eli", target="acme-dana", kind="works_with", strength=0.8),
        ],
        roles=[
            RoleAssignment(
                contact_id="acme-dana", role="economic_buyer", deal_id="D1", stance="supporter"
            ),
            RoleAssignment(contact_id="acme-eli", role="champion", deal_id="D1"),
        ],
        deals=[
            DealContext(
                id="D1",
                account_id="acme",
                stage="proposal",
                amount=Decimal("120000"),
                currency="EUR",
            )
        ],
        probabilities={"D1": 0.4},
    )


@pytest.fixture
def scenario() -> dict[str, Any]:
    profiles = {p.profile_id: p for p in (_vip(), _once(), _orphan())}
    contacts = [
        ContactIdentifiers(contact_id="acme-dana", phones=("138 0013 8000",)),
        ContactIdentifiers(contact_id="acme-eli", emails=("eli@acme.com",)),
    ]
    return {
        "profiles": profiles,
        "book": _book(),
        "links": link(contacts, profiles.values()),
        "staff": STAFF,
        "summary": {
            "p_vip": {"frequency": 12, "recency": 50, "T": 52, "monetary_value": 310.0},
            "p_once": {"frequency": 0, "recency": 0, "T": 5, "monetary_value": 60.0},
            "p_orphan": {"frequency": 3, "recency": 20, "T": 40, "monetary_value": 80.0},
        },
        "segment": {
            "p_vip": {"rfm_score": "555", "rfm_segment": "champions", "lifecycle": "active"},
            "p_once": {"rfm_score": "411", "rfm_segment": "new_customers", "lifecycle": "new"},
            "p_orphan": {"rfm_score": "232", "rfm_segment": "at_risk", "lifecycle": "at_risk"},
        },
        "scores": {
            "p_vip": {"p_alive": 0.97, "churn_risk": 0.03, "expected_purchases": 2.4, "clv": 900.0},
            "p_once": {"p_alive": 1.0, "churn_risk": 0.0, "expected_purchases": 0.3, "clv": 40.0},
            "p_orphan": {"p_alive": 0.4, "churn_risk": 0.6, "expected_purchases": 0.2, "clv": 30.0},
        },
    }
