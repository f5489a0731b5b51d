"""Field history (after Salesforce's OpportunityHistory): update, replay, churn, backtest."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from clientmodel.datasets.deals import make_deals, standard_pipeline
from clientmodel.errors import ArgumentError, DataError
from clientmodel.funnel import (
    Deal,
    FieldChange,
    backtest,
    deals_as_of,
    field_churn,
    fields_as_of,
    open_deal,
    update,
    weighted_pipeline,
)

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 1, 1, tzinfo=UTC)
DAY = dt.timedelta(days=1)
P = standard_pipeline()


def _deal(**kw):
    base = {"amount": 5000, "expected_close": dt.date(2024, 3, 31)}
    return open_deal("D1", P, at=T0, account_id="A", owner="ana", **{**base, **kw})


def test_update_records_who_changed_what_when():
    d = update(_deal(), T0 + 10 * DAY, amount=6500.5, probability_override=0.8, actor="mgr")
    assert [(c.field, c.old, c.new, c.actor) for c in d.field_history] == [
        ("amount", Decimal(5000), Decimal("6500.5"), "mgr"),
        ("probability_override", None, 0.8, "mgr"),
    ]
    assert (d.amount, d.probability_override) == (Decimal("6500.5"), 0.8)
    assert update(d, T0 + 11 * DAY, amount=Decimal("6500.5")) is d  # no change, nothing recorded
    d2 = update(d, T0 + 12 * DAY, fields={"budget": "approved"}, owner="ben", reason="territory")
    assert [c.field for c in d2.field_history[2:]] == ["owner", "fields.budget"]
    assert d2.fields["budget"] == "approved"
    assert d2.owner == "ben"
    assert Deal.model_validate_json(d2.model_dump_json()) == d2  # dates and money keep types


def test_update_refuses_bad_values_and_going_back_in_time():
    d = update(_deal(), T0 + 10 * DAY, amount=6000)
    with pytest.raises(ArgumentError, match="append-only"):
        update(d, T0 + 5 * DAY, amount=7000)
    with pytest.raises(DataError, match="amount"):
        update(d, T0 + 11 * DAY, amount="12k")
    with pytest.raises(DataError, match="forecast_category"):
        update(d, T0 + 11 * DAY, forecast_category="maybe")
    with pytest.raises(DataError, match="probability_override"):
        update(d, T0 + 11 * DAY, probability_override=1.5)
    with pytest.raises(ArgumentError, match="timezone"):
        update(d, dt.datetime(2024, 2, 1), amount=1)


def test_a_deal_whose_field_history_does_not_chain_is_refused():
    d = _deal()
    first = FieldChange(at=T0 + DAY, field="amount", old=4000, new=4500)
    broken = FieldChange(at=T0 + 2 * DAY, field="amount", old=4800, new=5000)  # old is not 4500
    with pytest.raises(ValidationError, match="previous change"):
        Deal.model_validate({**d.model_dump(), "field_history": (first, broken)})
    stale = FieldChange(at=T0 + DAY, field="amount", old=5000, new=6000)  # the deal holds 5000
    with pytest.raises(ValidationError, match="holds"):
        Deal.model_validate({**d.model_dump(), "field_history": (stale,)})
    with pytest.raises(ValidationError, match="new value"):
        FieldChange(at=T0, field="owner", old="a", new="a")


def test_fields_as_of_replays_each_field_to_the_cut():
    d = _deal()
    d = update(d, T0 + 10 * DAY, expected_close=dt.date(2024, 4, 30))
    d = update(d, T0 + 20 * DAY, amount=8000, fields={"budget": 1})
    d = update(d, T0 + 30 * DAY, probability_override=0.9, forecast_category="commit")
    d = update(d, T0 + 40 * DAY, expected_close=dt.date(2024, 6, 30))
    at15 = fields_as_of(d, T0 + 15 * DAY)
    assert (at15.amount, at15.expected_close) == (Decimal(5000), dt.date(2024, 4, 30))
    assert at15.probability_override is None
    assert at15.forecast_category is None
    assert "budget" not in at15.fields
    assert len(at15.field_history) == 1
    at35 = fields_as_of(d, T0 + 35 * DAY)
    assert (at35.amount, at35.probability_override, at35.forecast_category) == (
        Decimal(8000),
        0.9,
        "commit",
    )
    assert at35.expected_close == dt.date(2024, 4, 30)
    assert at35.fields["budget"] == 1
    assert fields_as_of(d, T0 + 50 * DAY) is d


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 5),
            st.sampled_from(["amount", "expected_close", "probability_override", "owner"]),
            st.integers(1, 90),
        ),
        max_size=8,
    ),
    st.integers(0, 50),
)
def test_replay_equals_applying_only_the_changes_known_at_the_cut(steps, cut_day):
    values = {
        "amount": lambda k: Decimal(1000 * k),
        "expected_close": lambda k: dt.date(2024, 1, 1) + dt.timedelta(days=k),
        "probability_override": lambda k: k / 100,
        "owner": lambda k: f"rep{k}",
    }
    full, known, day = _deal(), _deal(), 0
    cut = T0 + cut_day * DAY
    for gap, field, k in steps:
        day += gap
        at = T0 + day * DAY
        full = update(full, at, **{field: values[field](k)})
        if at <= cut:
            known = update(known, at, **{field: values[field](k)})
    assert fields_as_of(full, cut) == known


def test_deals_as_of_keeps_no_later_override_amount_or_close_date():
    d = _deal()
    later = update(d, T0 + 40 * DAY, amount=90000, probability_override=1.0,
                   expected_close=dt.date(2024, 9, 30))  # fmt: skip
    (past,) = deals_as_of([later], P, T0 + 10 * DAY)
    assert (past.amount, past.probability_override, past.expected_close) == (
        Decimal(5000),
        None,
        dt.date(2024, 3, 31),
    )
    assert weighted_pipeline([past], P) == weighted_pipeline([d], P)


def test_overrides_set_after_the_cut_do_not_move_the_backtest():
    data = make_deals(400, seed=3)
    at = dt.datetime(2024, 6, 30, tzinfo=UTC)
    base = backtest(data.deals, data.pipeline, at=at, n_draws=500, seed=1)
    # After the cut a manager marks every deal that was open then: 0.99 if it later won, else 0.01
    # (hindsight). A backtest that looked ahead would move toward the actual bookings.
    open_then = {d.id for d in deals_as_of(data.deals, data.pipeline, at) if not d.is_closed}
    when = at + dt.timedelta(days=1)
    touched = [
        update(d, max(when, d.created_at), probability_override=0.99 if d.closed == "won" else 0.01)
        if d.id in open_then
        else d
        for d in data.deals
    ]
    assert any(d.field_history for d in touched)
    again = backtest(touched, data.pipeline, at=at, n_draws=500, seed=1)
    assert again == base


def test_field_churn_per_deal_and_per_owner_by_hand():
    a = _deal()
    a = update(a, T0 + 10 * DAY, expected_close=dt.date(2024, 4, 30))  # pushed 30 days
    a = update(a, T0 + 20 * DAY, expected_close=dt.date(2024, 4, 10))  # pulled in
    a = update(a, T0 + 30 * DAY, expected_close=dt.date(2024, 5, 10), amount=4000)  # +30, -1000
    b = open_deal("D2", P, at=T0, account_id="A", owner="ana", amount=100)
    b = update(b, T0 + 5 * DAY, expected_close=dt.date(2024, 2, 1))  # first date: not a push
    b = update(b, T0 + 6 * DAY, amount=300)  # +200
    c = open_deal("D3", P, at=T0, account_id="A", owner="ben", amount=1)
    rows = {r.key: r for r in field_churn([a, b, c], P, by="deal")}
    assert (rows["D1"].close_date_pushes, rows["D1"].days_pushed) == (2, 60)
    assert rows["D1"].close_date_pulls == 1
    assert (rows["D1"].amount_changes, rows["D1"].amount_decrease) == (1, Decimal(1000))
    assert rows["D2"].close_date_pushes == 0
    assert rows["D2"].amount_increase == Decimal(200)
    owners = {r.key: r for r in field_churn([a, b, c], P, by="owner")}
    assert (owners["ana"].n_deals, owners["ana"].close_date_pushes) == (2, 2)
    assert owners["ana"].amount_changes == 2
    assert owners["ben"].amount_changes == 0
    early = {r.key: r for r in field_churn([a], P, as_of=T0 + 15 * DAY)}
    assert early["D1"].close_date_pushes == 1
    with pytest.raises(ArgumentError, match="did you mean 'owner'"):
        field_churn([a], P, by="owners")  # type: ignore[arg-type]
