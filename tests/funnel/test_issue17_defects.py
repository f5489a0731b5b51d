"""Issue 17 defects (and the issue-16 bad inputs of the funnel): each test failed before its fix."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import numpy as np
import pytest
from pydantic import ValidationError

from clientmodel.datasets.deals import TRUE_TRANSITIONS, make_deals, standard_pipeline
from clientmodel.errors import ArgumentError, ClientModelError, DataError
from clientmodel.funnel import (
    BookingsForecast,
    Deal,
    Lead,
    Pipeline,
    Stage,
    StageChange,
    TransitionError,
    category_rollup,
    close,
    cohort_conversion,
    conversion,
    deal_probability,
    deals_as_of,
    fit_chain,
    fit_naive_bayes,
    move,
    open_deal,
    qualify,
    simulate_bookings,
    time_in_stage,
    weighted_pipeline,
)

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 1, 1, tzinfo=UTC)
P = standard_pipeline()
RENEWALS = standard_pipeline(pipeline_id="renewals")


def _deal(i, pipeline=P, amount=1000, **kw):
    return open_deal(f"D{i}", pipeline, at=T0, account_id="A", owner="ana", amount=amount, **kw)


def _true_win_probability(stage: str) -> float:
    """Absorption probability into 'won' solved from the generator's TRUE_TRANSITIONS."""
    states = list(TRUE_TRANSITIONS)
    q = np.array([[TRUE_TRANSITIONS[a].get(b, 0.0) for b in states] for a in states])
    r = np.array([TRUE_TRANSITIONS[a].get("won", 0.0) for a in states])
    return float(np.linalg.solve(np.eye(len(states)) - q, r)[states.index(stage)])


# --- naive Bayes: reached stages, as Odoo counts them ---


def test_naive_bayes_stage_feature_is_not_biased_against_early_stages():
    data = make_deals(1500, seed=2024)
    chain = fit_chain(list(data.deals), as_of=data.as_of, pipeline=data.pipeline)
    truth = _true_win_probability("lead")
    assert truth == pytest.approx(0.165, abs=0.001)  # the figure, from the true matrix
    nb = fit_naive_bayes(data.deals, features=["stage"], pipeline=data.pipeline)
    lead = next(d for d in data.deals if d.stage == "lead")
    p = deal_probability(lead, data.pipeline, score=nb).value
    # before the fix: 0.001 (lost deals counted only at their last open stage)
    assert abs(p - truth) < 0.03
    assert abs(p - chain.win_probability("lead")) < 0.03
    # every stage lands near the chain, not just the first
    for stage in data.pipeline.open_stages:
        deal = next(d for d in data.deals if d.stage == stage)
        assert abs(nb.predict(deal)[0] - chain.win_probability(stage)) < 0.06


def test_naive_bayes_reached_counts_by_hand():
    # won deal through lead->qualified; lost deal lost from qualified; lost deal lost from lead.
    a = close(
        move(_deal(1), "qualified", T0 + dt.timedelta(days=1), P),
        "won",
        T0 + dt.timedelta(days=2),
        P,
    )
    b = close(
        move(_deal(2), "qualified", T0 + dt.timedelta(days=1), P),
        "lost",
        T0 + dt.timedelta(days=2),
        P,
        reason="x",
    )
    c = close(_deal(3), "lost", T0 + dt.timedelta(days=2), P, reason="x")
    nb = fit_naive_bayes([a, b, c], features=["stage"], pipeline=P)
    # won reached every open stage; b reached lead and qualified; c reached lead only
    assert nb.counts["stage"] == {
        "lead": (1, 2),
        "qualified": (1, 1),
        "proposal": (1, 0),
        "negotiation": (1, 0),
    }


# --- attributes and fields ---


def test_a_field_cannot_shadow_an_attribute():
    strict = Pipeline(
        id="sales",
        name="S",
        stages=(
            Stage(id="lead", name="L", order=1, entry_rules=("amount >= 10000",)),
            Stage(id="won", name="W", order=2, kind="won"),
            Stage(id="lost", name="X", order=3, kind="lost"),
        ),
    )
    with pytest.raises(DataError, match="amount"):
        open_deal(
            "D1", strict, at=T0, account_id="A", owner="o", amount=5, fields={"amount": 999999}
        )
    with pytest.raises(ValidationError, match="attribute"):
        Deal(
            id="D",
            pipeline_id="p",
            account_id="A",
            owner="o",
            amount=1,
            stage="s",
            history=(StageChange(at=T0, to_stage="s"),),
            fields={"owner": "mallory"},
        )


def test_fields_are_read_only_and_not_shared_with_the_input():
    given = {"budget": 5000}
    d = _deal(1, fields=given)
    given["budget"] = 1
    assert d.fields["budget"] == 5000
    with pytest.raises(TypeError):
        d.fields["budget"] = 0  # type: ignore[index]
    assert Deal.model_validate_json(d.model_dump_json()) == d
    lead = Lead(id="L", source="s", company="c", created_at=T0, fields={"a": 1})
    with pytest.raises(TypeError):
        lead.fields["a"] = 2  # type: ignore[index]


# --- pipelines kept apart ---


def test_deals_of_another_pipeline_are_an_error_never_summed():
    sales, renewal = _deal(1), _deal(2, pipeline=RENEWALS)
    with pytest.raises(DataError, match=r"'renewals'.*'D2'"):
        weighted_pipeline([sales, renewal], P)
    for call in (
        lambda: category_rollup(
            [sales, renewal], P, start=dt.date(2024, 1, 1), end=dt.date(2024, 3, 31)
        ),
        lambda: deals_as_of([sales, renewal], P, T0),
        lambda: deal_probability(renewal, P),
        lambda: fit_naive_bayes([sales, renewal], features=["stage"], pipeline=P),
    ):
        with pytest.raises(DataError, match="renewals"):
            call()


def test_a_stage_not_in_the_pipeline_is_a_clear_error_not_a_key_error():
    stray = Deal(
        id="X",
        pipeline_id="sales",
        account_id="A",
        owner="o",
        amount=1,
        stage="demo",
        history=(StageChange(at=T0, to_stage="demo"),),
    )
    calls = {
        "deal_probability": lambda: deal_probability(stray, P),
        "weighted_pipeline": lambda: weighted_pipeline([stray], P),
        "category_rollup": lambda: category_rollup(
            [stray], P, start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31)
        ),
        "deals_as_of": lambda: deals_as_of([stray], P, T0 + dt.timedelta(days=1)),
    }
    for name, call in calls.items():
        with pytest.raises(DataError, match="'demo'") as info:
            call()
        assert "X" in str(info.value), name


# --- pipeline validation at construction ---


def test_pipeline_without_a_reachable_won_stage_is_refused():
    with pytest.raises(ValidationError, match="won stage"):
        Pipeline(
            id="p",
            name="P",
            stages=(
                Stage(id="a", name="A", order=1),
                Stage(id="x", name="X", order=2, kind="lost"),
            ),
        )
    with pytest.raises(ValidationError, match="no move reaches a won stage"):
        Pipeline(
            id="p",
            name="P",
            stages=(
                Stage(id="a", name="A", order=1),
                Stage(id="w", name="W", order=2, kind="won"),
                Stage(id="x", name="X", order=3, kind="lost"),
            ),
            moves=(("a", "x"),),
        )


def test_malformed_entry_rule_is_refused_when_the_stage_is_built():
    with pytest.raises(ValidationError, match="entry_rules"):
        Stage(id="s", name="S", order=1, entry_rules=("amount >>> 3",))


def test_closed_must_agree_with_the_stage_kind():
    won_open = Deal(
        id="W",
        pipeline_id="sales",
        account_id="A",
        owner="o",
        amount=100,
        stage="won",
        history=(StageChange(at=T0, to_stage="won"),),
    )
    lead_won = Deal(
        id="L",
        pipeline_id="sales",
        account_id="A",
        owner="o",
        amount=100,
        stage="lead",
        closed="won",
        history=(StageChange(at=T0, to_stage="lead"),),
    )
    for d in (won_open, lead_won):
        with pytest.raises(DataError, match="closed"):
            weighted_pipeline([d], P)
        with pytest.raises(DataError, match="closed"):
            deal_probability(d, P)


# --- money ---


def test_amounts_from_floats_are_exact_and_text_is_checked():
    assert _deal(1, amount=1234.56).amount == Decimal("1234.56")
    assert _deal(1, amount="5000.10").amount == Decimal("5000.10")
    for bad in ("12k", "lots", math.nan, math.inf, -5, True, None):
        with pytest.raises(DataError, match="amount"):
            _deal(1, amount=bad)


# --- roll-up without a close date ---


def test_a_deal_without_expected_close_is_counted_once_in_its_own_bucket():
    deals = [_deal(1, amount=700), _deal(2, amount=300, expected_close=dt.date(2024, 2, 1))]
    q1 = category_rollup(deals, P, start=dt.date(2024, 1, 1), end=dt.date(2024, 3, 31))[0]
    q2 = category_rollup(deals, P, start=dt.date(2024, 4, 1), end=dt.date(2024, 6, 30))[0]
    assert (q1.pipeline, q2.pipeline) == (Decimal(300), Decimal(0))  # before: 1000 and 700
    assert q1.no_close_date == q2.no_close_date == Decimal(700)
    assert q1.open_pipeline_call == Decimal(300)


# --- time zones and the naive-time policy ---


def test_cohort_periods_of_records_follow_tz():
    berlin = dt.timezone(dt.timedelta(hours=1))
    d = open_deal(
        "D1",
        P,
        at=dt.datetime(2024, 2, 1, 0, 30, tzinfo=berlin),
        account_id="A",
        owner="o",
        amount=1,
    )
    out = cohort_conversion([d], pipeline=P, as_of="2024-03-01", tz="Europe/Berlin")
    assert str(out["cohort"][0])[:7] == "2024-02"  # before: January (read as UTC)
    utc = cohort_conversion([d], pipeline=P, as_of="2024-03-01")
    assert str(utc["cohort"][0])[:7] == "2024-01"


def test_a_naive_as_of_is_refused_across_the_funnel():
    deals = [_deal(1)]
    naive = dt.datetime(2024, 2, 1)
    for call in (
        lambda: time_in_stage(deals, as_of=naive, pipeline=P),
        lambda: conversion(deals, pipeline=P, as_of=naive),
        lambda: conversion(deals, pipeline=P, as_of="2024-02-01T00:00:00"),
        lambda: deals_as_of(deals, P, naive),
    ):
        with pytest.raises(ArgumentError, match="timezone"):
            call()


# --- leads ---


def test_requalifying_a_converted_lead_names_the_right_reason():
    lead = Lead(id="L1", source="web", company="Acme", created_at=T0, owner="ana")
    q = qualify(lead, P, at=T0, deal_id="D1", amount=10)
    with pytest.raises(TransitionError) as info:
        qualify(q.lead, P, at=T0, deal_id="D2", amount=10)
    assert info.value.reason == "lead_converted"  # before: "deal_closed"
    gone = lead.model_copy(update={"status": "disqualified"})
    with pytest.raises(TransitionError) as info:
        qualify(gone, P, at=T0, deal_id="D3", amount=10)
    assert info.value.reason == "lead_disqualified"


# --- issue 16: bad inputs ---


def test_bad_seeds_quotas_and_an_as_of_before_everything():
    data = make_deals(150, seed=1)
    chain = fit_chain(list(data.deals), as_of=data.as_of, pipeline=data.pipeline)
    with pytest.raises(ArgumentError, match="seed"):
        simulate_bookings(data.deals, data.pipeline, as_of=data.as_of, chain=chain, seed="abc")
    fc = simulate_bookings(
        data.deals, data.pipeline, as_of=data.as_of, chain=chain, n_draws=100, seed=1
    )
    for quota in ("100", math.nan, None):
        with pytest.raises(ArgumentError, match="quota"):
            fc.quota_probability(quota)
    with pytest.raises(DataError, match="as_of"):
        conversion(data.deals, pipeline=data.pipeline, as_of="1990-01-01")
    assert isinstance(fc, BookingsForecast)


def test_no_internal_exception_leaks_from_the_funnel_entry_points():
    cases = [
        lambda: weighted_pipeline(5, P),  # type: ignore[arg-type]
        lambda: weighted_pipeline([5], P),  # type: ignore[list-item]
        lambda: deal_probability(5, P),  # type: ignore[arg-type]
        lambda: open_deal("D", P, at=dt.datetime(2024, 1, 1), account_id="A", owner="o", amount=1),
        lambda: category_rollup([], P, start="2024-01-01", end=dt.date(2024, 3, 1)),  # type: ignore[arg-type]
        lambda: fit_naive_bayes([], features="stage"),  # type: ignore[arg-type]
    ]
    for i, call in enumerate(cases):
        with pytest.raises(ClientModelError):
            call()
        assert i >= 0


def test_more_bad_inputs_of_the_corpus():
    d = _deal(1)
    with pytest.raises(ArgumentError, match="at"):
        move(d, "qualified", "tomorrow", P)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="duplicate id 'D1'"):
        weighted_pipeline([d, d], P)
    with pytest.raises(ArgumentError, match="did you mean 'forecast_category'"):
        weighted_pipeline([d], P, by="forecast_categry")
    with pytest.raises(ArgumentError, match="won"):
        conversion([d], pipeline=["lead", "won", "lost"], as_of="2024-02-01", won=["closed_won"])
    with pytest.raises(ArgumentError, match="period"):
        cohort_conversion([d], pipeline=P, as_of="2024-02-01", period="fortnight")
    chain = fit_chain(list(make_deals(100, seed=1).deals), as_of="2024-12-31", pipeline=P)
    with pytest.raises(ValueError, match="read-only"):
        chain.matrix[0, 0] = 0.5
