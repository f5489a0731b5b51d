"""Funnel records and stage transitions: validation, every rejection reason, replay property."""

from __future__ import annotations

import datetime as dt
import json
import sys
import types
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from clientmodel.datasets.deals import standard_pipeline
from clientmodel.errors import InvalidTransition
from clientmodel.funnel import (
    Deal,
    Lead,
    Pipeline,
    Stage,
    StageChange,
    TransitionError,
    close,
    move,
    open_deal,
    qualify,
    reopen,
    replay,
    unmet_criteria,
)

T0 = dt.datetime(2024, 1, 1, 9, tzinfo=dt.timezone.utc)
DAY = dt.timedelta(days=1)


def _stages(*extra: Stage) -> tuple[Stage, ...]:
    return (
        Stage(id="lead", name="Lead", order=1),
        Stage(id="demo", name="Demo", order=2, required_fields=("budget",)),
        Stage(id="won", name="Won", order=3, kind="won"),
        Stage(id="lost", name="Lost", order=4, kind="lost"),
        *extra,
    )


def _deal(pipeline: Pipeline, **kw) -> Deal:
    return open_deal("D1", pipeline, at=T0, account_id="A1", owner="ana", amount="1000", **kw)


# ---------------------------------------------------------------- pipeline validation


def test_pipeline_graph_and_defaults():
    p = Pipeline(id="p", name="P", stages=_stages())
    g = p.graph()
    assert set(g.nodes) == {"lead", "demo", "won", "lost"}
    # default moves: any open stage to any other stage; closed stages absorbing
    assert g.has_edge("demo", "lead")
    assert g.has_edge("lead", "won")
    assert g.out_degree("won") == 0
    assert g.out_degree("lost") == 0
    assert p.stage("won").probability == 1.0
    assert p.stage("won").forecast_category == "closed"
    assert p.stage("lost").forecast_category == "omitted"


def test_pipeline_rejects_duplicates_reopening_edges_and_dead_ends():
    with pytest.raises(ValidationError, match="unique"):
        Pipeline(id="p", name="P", stages=(*_stages(), Stage(id="lead", name="X", order=9)))
    with pytest.raises(ValidationError, match="absorbing"):
        Pipeline(id="p", name="P", stages=_stages(), moves=(("lead", "won"), ("won", "lead")))
    # with reopening allowed the same moves are fine
    Pipeline(
        id="p",
        name="P",
        stages=_stages(),
        moves=(("lead", "won"), ("won", "lead"), ("demo", "lost")),
        allow_reopen=True,
    )
    with pytest.raises(ValidationError, match="cannot reach"):
        Pipeline(id="p", name="P", stages=_stages(), moves=(("lead", "demo"), ("demo", "lead")))
    with pytest.raises(ValidationError, match="unknown stage"):
        Pipeline(id="p", name="P", stages=_stages(), moves=(("lead", "nope"),))
    with pytest.raises(ValidationError, match="probability"):
        Stage(id="w", name="W", order=1, kind="won", probability=0.5)


def test_deal_validation_and_json_round_trip():
    p = standard_pipeline()
    d = move(_deal(p), "qualified", T0 + DAY, p)
    again = Deal.model_validate_json(d.model_dump_json())
    assert again == d
    json.dumps(Deal.model_json_schema())
    json.dumps(Pipeline.model_json_schema())
    assert Pipeline.model_validate_json(p.model_dump_json()) == p
    bad = d.model_dump()
    bad["history"] = list(reversed(bad["history"]))
    with pytest.raises(ValidationError):
        Deal.model_validate(bad)
    with pytest.raises(ValidationError, match="ISO 4217"):
        Deal.model_validate({**d.model_dump(), "currency": "usd"})
    with pytest.raises(ValidationError):
        StageChange(at=dt.datetime(2024, 1, 1), to_stage="lead")  # naive datetime
    with pytest.raises(ValidationError):
        Deal.model_validate({**d.model_dump(), "amount": Decimal("-1")})
    with pytest.raises(ValidationError, match="extra"):
        Deal.model_validate({**d.model_dump(), "colour": "red"})


# ---------------------------------------------------------------- transitions


def test_every_rejection_reason():
    p = Pipeline(
        id="p",
        name="P",
        stages=_stages(),
        moves=(("lead", "demo"), ("lead", "lost"), ("demo", "won"), ("demo", "lost")),
    )
    d = _deal(p)

    def reason(fn, *a, **kw):
        with pytest.raises(TransitionError) as info:
            fn(*a, **kw)
        assert isinstance(info.value, InvalidTransition)
        assert info.value.to_dict()["reason"] == info.value.reason
        return info.value

    assert reason(move, d, "nowhere", T0, p).reason == "unknown_stage"
    assert reason(move, d, "lead", T0 + DAY, p).reason == "same_stage"
    err = reason(move, d, "won", T0 + DAY, p)
    assert err.reason == "move_not_allowed"
    assert "['demo', 'lost']" in err.message
    err = reason(move, d, "demo", T0 + DAY, p)
    assert err.reason == "criteria_unmet"
    assert err.failing == ("missing field 'budget'",)
    assert reason(move, d, "lost", T0 + DAY, p).reason == "reason_required"
    ok = move(d.model_copy(update={"fields": {"budget": 5}}), "demo", T0 + DAY, p)
    assert reason(move, ok, "won", T0, p).reason == "time_backwards"
    won = close(ok, "won", T0 + 2 * DAY, p, reason="best fit")
    assert won.closed == "won"
    assert won.won_reason == "best fit"
    assert won.last_open_stage == "demo"
    assert reason(move, won, "lost", T0 + 3 * DAY, p, reason="x").reason == "deal_closed"
    assert reason(reopen, won, T0 + 3 * DAY, p).reason == "reopen_not_allowed"
    assert reason(reopen, ok, T0 + 3 * DAY, p).reason == "reopen_not_allowed"
    other = standard_pipeline()
    assert reason(move, d, "won", T0 + DAY, other).reason == "wrong_pipeline"


def test_moves_never_mutate_and_reopen_restores_last_open_stage():
    p = standard_pipeline(allow_reopen=True)
    d = _deal(p)
    d2 = move(d, "proposal", T0 + DAY, p, actor="ana", reason="demo done")
    assert d.stage == "lead"
    assert len(d.history) == 1
    assert d2.history[-1] == StageChange(
        at=T0 + DAY, from_stage="lead", to_stage="proposal", actor="ana", reason="demo done"
    )
    lost = close(d2, "lost", T0 + 5 * DAY, p, reason="budget frozen")
    assert lost.lost_reason == "budget frozen"
    assert lost.closed_at == T0 + 5 * DAY
    back = reopen(lost, T0 + 30 * DAY, p, actor="ben")
    assert back.stage == "proposal"
    assert back.closed is None
    assert back.lost_reason is None
    assert replay(back.history, p, deal=back) == back


def test_qualify_creates_deal_account_and_contact():
    p = standard_pipeline()
    lead = Lead(
        id="L9",
        source="event",
        company="Globex",
        created_at=T0,
        contact_name="Hana Ito",
        contact_title="CTO",
        owner="eli",
        fields={"budget": 50000, "authority": "cto", "need": "", "timeline": "Q3"},
    )
    with pytest.raises(TransitionError) as info:
        qualify(lead, p, at=T0, deal_id="D9", amount=50000, required=("budget", "need"))
    assert info.value.reason == "criteria_unmet"
    assert info.value.failing == ("missing field 'need'",)
    q = qualify(lead, p, at=T0, deal_id="D9", amount=50000, currency="EUR", required=("budget",))
    assert q.lead.status == "converted"
    assert lead.status == "new"
    assert q.deal.account_id == q.account.id
    assert q.contact.account_ids == (q.account.id,)
    assert q.deal.owner == "eli"
    assert q.deal.fields["timeline"] == "Q3"
    with pytest.raises(TransitionError):
        qualify(q.lead, p, at=T0, deal_id="D10", amount=1)


def test_required_fields_accept_attributes_and_fields():
    s = Stage(id="s", name="S", order=1, required_fields=("expected_close", "champion"))
    d = _deal(standard_pipeline())
    assert unmet_criteria(d, s) == ["missing field 'expected_close'", "missing field 'champion'"]
    d2 = d.model_copy(update={"expected_close": dt.date(2024, 3, 1), "fields": {"champion": "x"}})
    assert unmet_criteria(d2, s) == []


def test_rule_criteria_are_passed_to_rules_failing_clauses(monkeypatch):
    """Wiring test with a stand-in rules module (works whether or not clientmodel.rules exists)."""
    calls = []

    def failing_clauses(rule, record, *, as_of=None):
        calls.append((rule, record["amount"], as_of))
        return ["amount >= 10000"] if record["amount"] < 10000 else []

    fake = types.ModuleType("clientmodel.rules")
    fake.failing_clauses = failing_clauses
    fake.parse = lambda text: text  # stages parse their rules when built
    monkeypatch.setitem(sys.modules, "clientmodel.rules", fake)
    p = Pipeline(
        id="p",
        name="P",
        stages=(
            Stage(id="lead", name="Lead", order=1),
            Stage(id="big", name="Big", order=2, entry_rules=("amount >= 10000",)),
            Stage(id="won", name="Won", order=3, kind="won"),
        ),
    )
    d = _deal(p)
    with pytest.raises(TransitionError) as info:
        move(d, "big", T0 + DAY, p)
    assert info.value.failing == ("amount >= 10000",)
    assert calls == [("amount >= 10000", Decimal("1000"), T0 + DAY)]
    ok = move(d.model_copy(update={"amount": Decimal(20000)}), "big", T0 + DAY, p)
    assert ok.stage == "big"


def _real_rules():
    try:
        import clientmodel.rules as rules
    except ImportError:
        pytest.skip("clientmodel.rules is not available yet")
    if not hasattr(rules, "failing_clauses") or not hasattr(rules, "parse"):
        pytest.skip("clientmodel.rules lacks failing_clauses/parse")
    return rules


def test_rule_criteria_with_the_real_rules_package():
    rules = _real_rules()
    rule_text = "amount >= 10000 and source == 'partner'"
    for criterion in (rule_text, rules.parse(rule_text)):
        p = Pipeline(
            id="p",
            name="P",
            stages=(
                Stage(id="lead", name="Lead", order=1),
                Stage(id="big", name="Big", order=2, entry_rules=(criterion,)),
                Stage(id="won", name="Won", order=3, kind="won"),
            ),
        )
        d = _deal(p, source="partner")
        with pytest.raises(TransitionError) as info:
            move(d, "big", T0 + DAY, p)
        assert info.value.reason == "criteria_unmet"
        assert len(info.value.failing) == 1
        assert "amount" in info.value.failing[0]
        assert move(d.model_copy(update={"amount": Decimal(12000)}), "big", T0 + DAY, p)


# ---------------------------------------------------------------- replay property

_STAGE_IDS = ("lead", "qualified", "proposal", "negotiation", "won", "lost")
_actions = st.lists(
    st.tuples(
        st.sampled_from(("move", "move", "close", "reopen")),
        st.sampled_from(_STAGE_IDS),
        st.integers(min_value=-5, max_value=200),  # hours; negative tries to go back in time
        st.sampled_from((None, "why")),
    ),
    max_size=25,
)
_restricted = (
    ("lead", "qualified"),
    ("lead", "lost"),
    ("qualified", "proposal"),
    ("qualified", "lead"),
    ("qualified", "lost"),
    ("proposal", "negotiation"),
    ("proposal", "won"),
    ("proposal", "lost"),
    ("negotiation", "won"),
    ("negotiation", "lost"),
    ("negotiation", "proposal"),
    ("lost", "lead"),
    ("lost", "proposal"),
    ("won", "negotiation"),
)


@settings(max_examples=80, deadline=None)
@given(actions=_actions, restricted=st.booleans(), allow_reopen=st.booleans())
def test_any_accepted_sequence_replays(actions, restricted, allow_reopen):
    base = standard_pipeline(allow_reopen=True)
    moves = _restricted if restricted else None
    if restricted and not allow_reopen:
        moves = tuple(m for m in _restricted if m[0] not in ("won", "lost"))
    p = Pipeline(
        id="sales",
        name="S",
        stages=base.stages,
        moves=moves,
        allow_reopen=allow_reopen,
        require_lost_reason=True,
    )
    deal = _deal(p)
    at = T0
    for action, stage, hours, why in actions:
        when = at + dt.timedelta(hours=hours)
        try:
            if action == "move":
                deal = move(deal, stage, when, p, reason=why)
            elif action == "close":
                outcome = "won" if stage in ("won", "proposal") else "lost"
                deal = close(deal, outcome, when, p, reason=why)
            else:
                deal = reopen(
                    deal, when, p, to_stage=stage if stage not in ("won", "lost") else None
                )
        except TransitionError as exc:
            reason = exc.reason
            assert reason in {
                "unknown_stage",
                "same_stage",
                "move_not_allowed",
                "time_backwards",
                "deal_closed",
                "reopen_not_allowed",
                "reason_required",
            }
            continue
        at = when
        # invariants of every accepted change
        assert deal.history[-1].to_stage == deal.stage
        assert all(a.at <= b.at for a, b in zip(deal.history, deal.history[1:], strict=False))
        assert (deal.closed is not None) == p.stage(deal.stage).is_closed
    assert replay(deal.history, p, deal=deal) == deal
