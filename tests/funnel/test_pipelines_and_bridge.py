"""Pipelines side by side, lost-reason vocabulary, lead-to-account matching, callable guards and
the bridge from a funnel deal to its buying committee."""

from __future__ import annotations

import datetime as dt

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
from clientmodel.datasets.deals import standard_pipeline
from clientmodel.errors import ArgumentError, DataError
from clientmodel.funnel import (
    CommitteeView,
    GraphContext,
    Lead,
    Pipeline,
    Stage,
    TransitionError,
    by_pipeline,
    close,
    committee_view,
    deal_context,
    economic_buyer_engaged,
    meddpicc_at_least,
    move,
    open_deal,
    qualify,
    weighted_pipeline,
)

UTC = dt.timezone.utc
T0 = dt.datetime(2025, 3, 1, tzinfo=UTC)
DAY = dt.timedelta(days=1)
SALES, RENEWALS = standard_pipeline(), standard_pipeline(pipeline_id="renewals")


def _deal(i, p=SALES, **kw):
    return open_deal(i, p, at=T0, account_id="acme", owner="ae", amount=1000, **kw)


def test_pipelines_side_by_side_never_mixed():
    book = [_deal("S1"), _deal("R1", RENEWALS), _deal("S2")]
    groups = by_pipeline(book, [SALES, RENEWALS])
    assert {k: [d.id for d in v[1]] for k, v in groups.items()} == {
        "sales": ["S1", "S2"],
        "renewals": ["R1"],
    }
    per = {pid: weighted_pipeline(ds, p) for pid, (p, ds) in groups.items()}
    assert [r.n_deals for r in per["sales"]] == [2]
    with pytest.raises(DataError, match="'renewals': \\['R1'\\]"):
        by_pipeline(book, [SALES])


def test_lost_reasons_come_from_a_managed_vocabulary():
    p = SALES.model_copy(update={"lost_reasons": ("price", "competitor", "no budget")})
    p = Pipeline.model_validate(p.model_dump())
    d = _deal("S1", p)
    assert close(d, "lost", T0 + DAY, p, reason="price").lost_reason == "price"
    assert close(d, "lost", T0 + DAY, p, reason="other: merger froze spend").is_closed
    with pytest.raises(TransitionError, match="did you mean 'competitor'") as info:
        close(d, "lost", T0 + DAY, p, reason="competiton")
    assert info.value.reason == "unknown_lost_reason"
    with pytest.raises(TransitionError, match="vocabulary"):
        close(d, "lost", T0 + DAY, p, reason="other:   ")
    with pytest.raises(ValueError, match="lost_reasons"):
        Pipeline.model_validate({**SALES.model_dump(), "lost_reasons": ["price", " "]})


def test_qualify_links_to_an_existing_account_by_domain_or_name():
    accounts = [
        Account(id="acme", name="ACME Corporation", domain="acme.com"),
        Account(id="globex", name="Globex, Inc."),
    ]
    lead = Lead(
        id="L1", source="web", company="Acme", created_at=T0, owner="ae", email="jo@acme.com"
    )
    q = qualify(lead, SALES, at=T0, deal_id="D1", amount=10, accounts=accounts)
    assert (q.account.id, q.account_matched_by, q.deal.account_id) == ("acme", "domain", "acme")
    by_name = Lead(id="L2", source="web", company="globex inc", created_at=T0, owner="ae")
    q2 = qualify(by_name, SALES, at=T0, deal_id="D2", amount=10, accounts=accounts)
    assert (q2.account.id, q2.account_matched_by) == ("globex", "name")
    q3 = qualify(
        by_name, SALES, at=T0, deal_id="D3", amount=10, accounts=accounts, match_on=("domain",)
    )
    assert (q3.account.id, q3.account_matched_by) == ("acct-L2", None)
    twins = [*accounts, Account(id="globex2", name="Globex")]
    with pytest.raises(DataError, match="matches 2 accounts by name"):
        qualify(by_name, SALES, at=T0, deal_id="D4", amount=10, accounts=twins)


def _world(eb_stance="neutral", touched=T0 - 10 * DAY):
    return build_graph(
        [Account(id="acme", name="Acme")],
        [Contact(id=c, name=c, account_ids=("acme",)) for c in ("cfo", "arch")],
        [TeamMember(id="ae", name="Ana")],
        [
            Relationship(source="ae", target="cfo", kind="knows", last_interaction=touched),
            Relationship(source="ae", target="arch", kind="knows", last_interaction=T0 - DAY),
        ],
        [
            RoleAssignment(contact_id="cfo", role="economic_buyer", deal_id="S1", stance=eb_stance),
            RoleAssignment(contact_id="arch", role="champion", deal_id="S1", stance="supporter"),
        ],
        # the CRM's record of S1 in the graph; with_deal replaces it by the funnel deal's view
        [DealContext(id="S1", account_id="acme")],
    )


def test_the_bridge_reads_the_committee_of_a_funnel_deal():
    deal = _deal("S1", fields={"metrics": "2h/day saved", "pain": "manual", "budget": 5})
    ctx = deal_context(deal)
    assert (ctx.status, ctx.metrics, ctx.pain, ctx.decision_process) == (
        "open",
        "2h/day saved",
        "manual",
        None,
    )
    view = committee_view(_world(), deal, as_of=T0)
    assert view.economic_buyer_engaged
    assert view.meddpicc.elements["champion"]
    assert view.meddpicc.elements["metrics"]
    assert view.threading.engaged_contacts == ("arch", "cfo")
    assert CommitteeView.from_dict(view.to_dict()) == view
    assert not committee_view(_world(eb_stance="detractor"), deal, as_of=T0).economic_buyer_engaged
    stale = _world(touched=T0 - 200 * DAY)
    assert not committee_view(stale, deal, as_of=T0).economic_buyer_engaged
    with pytest.raises(DataError, match="not an account of the graph"):
        committee_view(_world(), _deal("S1").model_copy(update={"account_id": "nope"}), as_of=T0)


def test_a_graph_reading_guard_is_a_stage_entry_criterion():
    gated = Pipeline(
        id="sales",
        name="Sales",
        stages=(
            Stage(id="lead", name="Lead", order=1),
            Stage(id="proposal", name="Proposal", order=2, guards=("eb", "meddpicc")),
            Stage(id="won", name="Won", order=3, kind="won"),
            Stage(id="lost", name="Lost", order=4, kind="lost"),
        ),
    )
    guards = {"eb": economic_buyer_engaged, "meddpicc": meddpicc_at_least(0.25)}
    deal = open_deal("S1", gated, at=T0, account_id="acme", owner="ae", amount=1)
    ok = move(
        deal, "proposal", T0 + DAY, gated, guards=guards, context=GraphContext(_world(), T0 + DAY)
    )
    assert ok.stage == "proposal"
    stale = GraphContext(_world(touched=T0 - 200 * DAY), T0 + DAY)
    with pytest.raises(TransitionError) as info:
        move(deal, "proposal", T0 + DAY, gated, guards=guards, context=stale)
    assert info.value.reason == "criteria_unmet"
    assert info.value.failing == ("guard 'eb': economic buyer ['cfo'] not engaged within 90 days",)
    with pytest.raises(ArgumentError, match="guards"):
        move(deal, "proposal", T0 + DAY, gated)  # the stage names guards nobody passed
    with pytest.raises(ArgumentError, match="GraphContext"):
        move(deal, "proposal", T0 + DAY, gated, guards=guards, context=None)
    plain = {"eb": lambda d, c: None, "meddpicc": lambda d, c: False}
    with pytest.raises(TransitionError) as info:
        move(deal, "proposal", T0 + DAY, gated, guards=plain)
    assert info.value.failing == ("guard 'meddpicc': refused",)
