"""Invariants of the forecast call and the pipeline split (hypothesis)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.datasets.deals import standard_pipeline
from clientmodel.funnel import (
    Adjustment,
    ForecastCall,
    by_pipeline,
    category_rollup,
    forecast_call,
    move,
    open_deal,
)

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 1, 2, tzinfo=UTC)
P, R = standard_pipeline(), standard_pipeline(pipeline_id="renewals")
OWNERS = ("a", "b", "c", "d")
Q1 = {"start": dt.date(2024, 1, 1), "end": dt.date(2024, 3, 31)}

deal_specs = st.lists(
    st.tuples(
        st.sampled_from(OWNERS),
        st.integers(0, 10_000),
        st.sampled_from(["lead", "qualified", "proposal", "negotiation"]),
        st.one_of(st.none(), st.integers(0, 150)),
        st.booleans(),
    ),
    max_size=12,
)


def _book(specs, pipeline=P):
    out = []
    for i, (owner, amount, stage, day, renewal) in enumerate(specs):
        p = R if renewal and pipeline is None else P
        closes = None if day is None else dt.date(2024, 1, 1) + dt.timedelta(days=day)
        d = open_deal(
            f"D{i}", p, at=T0, account_id="A", owner=owner, amount=amount, expected_close=closes
        )
        out.append(d if stage == "lead" else move(d, stage, T0, p))
    return out


@settings(max_examples=40, deadline=None)
@given(deal_specs, st.permutations(OWNERS), st.integers(0, 3))
def test_the_top_of_an_unadjusted_call_is_the_roll_up_of_every_deal(specs, order, depth):
    deals = _book(specs)
    # a chain of managers of random depth over a random order of the owners
    tree = {order[i]: (order[i - 1] if 0 < i <= depth else None) for i in range(len(order))}
    calls = forecast_call(deals, P, **Q1, hierarchy=tree)
    roots = [c for c in calls if c.manager is None]
    totals = category_rollup(deals, P, **Q1)
    expected = totals[0].commit_call if totals else 0
    assert sum(c.commit for c in roots) == expected
    assert sum(c.n_deals for c in roots) == len(deals)
    for c in calls:
        assert c.commit <= c.best_case <= c.open_pipeline
        assert ForecastCall.model_validate_json(c.model_dump_json()) == c


@settings(max_examples=30, deadline=None)
@given(deal_specs, st.integers(0, 10_000))
def test_an_adjustment_changes_only_its_owner_and_those_above(specs, amount):
    deals = _book(specs)
    tree = {"a": "b", "b": "c", "d": "c"}
    adj = Adjustment(owner="a", call="commit", amount=amount, by="c", at=T0)
    before = {c.owner: c for c in forecast_call(deals, P, **Q1, hierarchy=tree)}
    after = {c.owner: c for c in forecast_call(deals, P, **Q1, hierarchy=tree, adjustments=[adj])}
    delta = amount - before["a"].submitted_commit
    assert after["a"].commit == before["a"].commit  # the deals' layer is kept
    assert after["b"].commit - before["b"].commit == delta
    assert after["c"].commit - before["c"].commit == delta
    assert after["d"] == before["d"]
    assert Adjustment.model_validate_json(adj.model_dump_json()) == adj


@settings(max_examples=30, deadline=None)
@given(deal_specs, st.randoms(use_true_random=False))
def test_splitting_by_pipeline_loses_nothing_and_ignores_order(specs, rnd):
    deals = _book(specs, pipeline=None)
    shuffled = list(deals)
    rnd.shuffle(shuffled)
    a = by_pipeline(deals, [P, R])
    b = by_pipeline(shuffled, [P, R])
    assert sorted(d.id for _, ds in a.values() for d in ds) == sorted(d.id for d in deals)
    for pid in ("sales", "renewals"):
        assert sorted(d.id for d in a[pid][1]) == sorted(d.id for d in b[pid][1])
        assert all(d.pipeline_id == pid for d in a[pid][1])
