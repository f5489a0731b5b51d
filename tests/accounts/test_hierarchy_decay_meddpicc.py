"""Org chart, account roll-ups, decay and MEDDPICC on hand-checked cases."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.accounts import (
    Account,
    DealContext,
    account_rollup,
    build_graph,
    decay_graph,
    decayed_strength,
    decayed_strengths,
    meddpicc,
    meets_meddpicc,
    org_chart,
    render_org_chart,
)
from clientmodel.accounts.meddpicc import ELEMENTS
from clientmodel.errors import ArgumentError, DataError

from .conftest import AS_OF, world_records


def test_org_chart(world):
    chart = org_chart(world, "acme")
    assert sorted(chart.edges) == [("arch", "dev"), ("ceo", "cfo"), ("ceo", "cto"), ("cto", "arch")]
    assert render_org_chart(chart).splitlines() == [
        "Carla", "  Finn", "  Tess", "    Arun", "      Dev", "Eva",
    ]  # fmt: skip


def test_rollup_by_hand(world):
    r = account_rollup(world)
    # acme: own open d1 100 000; acme_eu: won d2 40 000; eu_head sits in both (counted once)
    assert r["acme"].total_open_pipeline == Decimal("100000")
    assert r["acme"].total_won_revenue == Decimal("40000")
    assert r["acme"].won_revenue == Decimal(0)
    assert (r["acme"].contacts, r["acme"].total_contacts) == (6, 6)
    assert (r["acme_eu"].contacts, r["acme_eu"].total_contacts) == (1, 1)
    assert r["acme"].subsidiaries == ("acme_eu",)
    assert r["acme_eu"].parent == "acme"
    d = r["acme"].to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["total_won_revenue"] == "40000"


def test_rollup_three_levels_and_mixed_currency():
    accounts = [
        Account(id="g", name="G"),
        Account(id="s", name="S", parent_id="g"),
        Account(id="ss", name="SS", parent_id="s"),
    ]
    deals = [
        DealContext(id="d1", account_id="ss", amount=Decimal("1.10")),
        DealContext(id="d2", account_id="s", amount=Decimal("2.20")),
        DealContext(id="d3", account_id="g", amount=Decimal("5"), status="lost"),
    ]
    r = account_rollup(build_graph(accounts, deals=deals))
    assert r["g"].total_open_pipeline == Decimal("3.30")  # exact decimal addition
    assert r["g"].total_open_deals == 2
    assert r["s"].total_open_pipeline == Decimal("3.30")
    deals.append(DealContext(id="d4", account_id="ss", amount=Decimal(1), currency="EUR"))
    with pytest.raises(DataError, match="different currencies"):
        account_rollup(build_graph(accounts, deals=deals))


def test_decay_by_hand():
    t0 = AS_OF - dt.timedelta(days=45)
    # 0.6 * 2^(-45/90) = 0.6 / sqrt(2) = 0.424264...
    assert decayed_strength(0.6, t0, as_of=AS_OF, half_life=dt.timedelta(days=90)) == (
        pytest.approx(0.6 / np.sqrt(2))
    )
    assert decayed_strength(0.6, None, as_of=AS_OF, half_life=dt.timedelta(days=1)) == 0.6
    future = AS_OF + dt.timedelta(days=3)
    assert decayed_strength(0.6, future, as_of=AS_OF, half_life=dt.timedelta(days=1)) == 0.6
    with pytest.raises(ArgumentError, match="half_life"):
        decayed_strength(0.6, t0, as_of=AS_OF, half_life=dt.timedelta(0))


@settings(max_examples=50, deadline=None)
@given(
    s=st.floats(0, 1),
    d1=st.floats(0, 1000),
    d2=st.floats(0, 1000),
    h=st.floats(0.5, 500),
)
def test_decay_is_monotone_and_agrees_with_the_vector_form(s, d1, d2, h):
    half = dt.timedelta(days=h)
    a = decayed_strength(s, AS_OF - dt.timedelta(days=d1), as_of=AS_OF, half_life=half)
    b = decayed_strength(s, AS_OF - dt.timedelta(days=d2), as_of=AS_OF, half_life=half)
    if d1 <= d2:
        assert a >= b - 1e-12
    assert 0.0 <= a <= s
    vec = decayed_strengths([s, s], [d1, d2], half_life=half)
    assert vec == pytest.approx([a, b], rel=1e-6, abs=1e-12)


def test_decay_graph_halves_after_one_half_life(world):
    g = decay_graph(world, as_of=AS_OF, half_life=dt.timedelta(days=10))
    e = g.edges["ae", "arch", "knows"]  # 10 days ago
    assert e["strength"] == pytest.approx(0.45)
    assert e["base_strength"] == 0.9
    assert world.edges["ae", "arch", "knows"]["strength"] == 0.9  # the input is untouched


def test_meddpicc_by_hand(world):
    m = meddpicc(world, "d1")
    # metrics, pain, competition noted; economic buyer cfo is neutral (not a detractor);
    # champion arch supports; decision criteria / process and paper process unknown: 5 of 8
    assert m.score == pytest.approx(5 / 8)
    assert m.missing == ("decision_criteria", "decision_process", "paper_process")
    d = m.to_dict()
    assert set(d) == {"deal", *ELEMENTS, "score", "complete"}
    assert all(isinstance(d[e], bool) for e in ELEMENTS)
    assert m.to_record()["meddpicc_score"] == pytest.approx(0.625)
    assert not meets_meddpicc(world, "d1")
    assert meets_meddpicc(world, "d1", threshold=0.6, require=("champion",))
    assert not meets_meddpicc(world, "d1", threshold=0.6, require=("paper_process",))
    weighted = meddpicc(world, "d1", weights={"champion": 3, "economic_buyer": 1})
    assert weighted.score == pytest.approx(1.0)


def test_meddpicc_detractor_buyer_and_blank_notes():
    recs = world_records()
    recs["roles"] = [
        r.model_copy(update={"stance": "detractor"}) if r.role == "economic_buyer" else r
        for r in recs["roles"]
    ]
    recs["deals"][0] = recs["deals"][0].model_copy(update={"metrics": "   "})
    m = meddpicc(build_graph(**recs), "d1")
    assert not m.elements["economic_buyer"]
    assert not m.elements["metrics"]
    assert m.score == pytest.approx(3 / 8)


def test_meddpicc_feeds_a_rule():
    rules = pytest.importorskip("clientmodel.rules")
    g = build_graph(**world_records())
    record = meddpicc(g, "d1").to_record()
    assert rules.evaluate("meddpicc_score >= 0.5", record)
    assert not rules.evaluate("meddpicc_score >= 0.75", record)
