"""A small hand-built account world shared by the accounts tests.

acme (parent) and acme_eu (subsidiary). People and ties (strength, days before AS_OF):

    ceo <- cfo (reports_to)      ceo <- cto (reports_to)     cto <- arch <- dev (reports_to)
    ae (our AE)  knows arch  0.9, 10 days ago
    se (our SE)  knows dev   0.8, 200 days ago (outside a 90-day window)
    arch works_with cto 0.5;  cto influences cfo 0.6
    eu_head (acme_eu, also in acme) knows ae 0.4, 5 days ago

Deal d1 (acme, open, 100 000 USD): cfo economic_buyer neutral, cto decision_maker detractor,
arch champion supporter (primary), dev technical_evaluator supporter.
Deal d2 (acme_eu, won, 40 000 USD), no roles.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from clientmodel.accounts import (
    Account,
    Contact,
    DealContext,
    Relationship,
    RoleAssignment,
    TeamMember,
    build_graph,
)

AS_OF = dt.datetime(2025, 6, 30, 12, tzinfo=dt.timezone.utc)


def ago(days: float) -> dt.datetime:
    return AS_OF - dt.timedelta(days=days)


def world_records() -> dict[str, list]:
    accounts = [
        Account(id="acme", name="Acme", tier="strategic"),
        Account(id="acme_eu", name="Acme EU", parent_id="acme"),
    ]
    contacts = [
        Contact(id="ceo", name="Carla", account_ids=("acme",), seniority="c_level"),
        Contact(id="cfo", name="Finn", account_ids=("acme",), seniority="c_level"),
        Contact(id="cto", name="Tess", account_ids=("acme",), seniority="vp"),
        Contact(id="arch", name="Arun", account_ids=("acme",), seniority="manager"),
        Contact(id="dev", name="Dev", account_ids=("acme",), seniority="individual"),
        Contact(id="eu_head", name="Eva", account_ids=("acme_eu", "acme"), seniority="vp"),
    ]
    team = [
        TeamMember(id="ae", name="Ana", role="account_executive"),
        TeamMember(id="se", name="Sam", role="sales_engineer"),
    ]
    rel = Relationship
    rels = [
        Relationship(source="cfo", target="ceo", kind="reports_to", strength=1.0),
        Relationship(source="cto", target="ceo", kind="reports_to", strength=1.0),
        Relationship(source="arch", target="cto", kind="reports_to", strength=1.0),
        Relationship(source="dev", target="arch", kind="reports_to", strength=1.0),
        rel(source="ae", target="arch", kind="knows", strength=0.9, last_interaction=ago(10)),
        rel(source="se", target="dev", kind="knows", strength=0.8, last_interaction=ago(200)),
        Relationship(source="arch", target="cto", kind="works_with", strength=0.5),
        Relationship(source="cto", target="cfo", kind="influences", strength=0.6),
        rel(source="eu_head", target="ae", kind="knows", strength=0.4, last_interaction=ago(5)),
    ]  # fmt: skip
    roles = [
        RoleAssignment(contact_id="cfo", role="economic_buyer", deal_id="d1", stance="neutral"),
        RoleAssignment(contact_id="cto", role="decision_maker", deal_id="d1", stance="detractor"),
        RoleAssignment(
            contact_id="arch", role="champion", deal_id="d1", stance="supporter", primary=True
        ),
        RoleAssignment(
            contact_id="dev", role="technical_evaluator", deal_id="d1", stance="supporter"
        ),
    ]
    deals = [
        DealContext(id="d1", account_id="acme", amount=Decimal("100000"), metrics="30% faster",
                    pain="manual work", competition="status quo"),
        DealContext(id="d2", account_id="acme_eu", status="won", amount=Decimal("40000")),
    ]  # fmt: skip
    return {
        "accounts": accounts,
        "contacts": contacts,
        "team": team,
        "relationships": rels,
        "roles": roles,
        "deals": deals,
    }


@pytest.fixture
def records() -> dict[str, list]:
    return world_records()


@pytest.fixture
def world(records):
    return build_graph(**records)
