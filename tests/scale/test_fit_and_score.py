"""Fitting on compressed statistics from a dask summary, and scoring per partition with the
models travelling as JSON, give the in-memory results."""

from __future__ import annotations

import json
import math

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from clientmodel.errors import ArgumentError
from clientmodel.ltv import BGNBD, GammaGamma, ParetoNBD
from clientmodel.scoring import ScoringPlan, score, score_batches
from clientmodel.segments import LifecycleWindows, fit_rfm, rfm_from_summary
from clientmodel.transactions import distinct_histories, summarize

AS_OF = "2025-06-30"

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


@pytest.fixture(scope="module")
def summaries(log, dask_log):
    eager = summarize(log, as_of=AS_OF, unit="W", amount="amount")
    lazy = summarize(dask_log, as_of=AS_OF, unit="W", amount="amount")
    return eager, lazy


@pytest.mark.parametrize("model", [BGNBD, ParetoNBD])
def test_fit_from_a_dask_summary_equals_the_in_memory_fit(summaries, model):
    eager, lazy = summaries
    histories = distinct_histories(lazy)
    assert len(histories) < len(eager)
    in_memory = model.fit(eager)
    compressed = model.fit(histories, weights="weights")
    np.testing.assert_allclose(
        list(compressed.params.values()), list(in_memory.params.values()), rtol=1e-9
    )
    assert compressed.log_likelihood == pytest.approx(in_memory.log_likelihood, rel=1e-12)


@pytest.fixture(scope="module")
def plan(summaries):
    eager, _ = summaries
    repeat = eager[eager["frequency"] > 0]
    return ScoringPlan(
        model=BGNBD.fit(eager),
        spend=GammaGamma.fit(repeat),
        rfm=fit_rfm(rfm_from_summary(eager, unit="W")),
        segments="default",
        lifecycle=LifecycleWindows(),
        as_of=AS_OF,
        unit="W",
        horizon=26.0,
        discount_rate=0.1,
        steps=4,
    )


def test_scoring_per_partition_equals_scoring_in_memory(summaries, plan):
    eager, lazy = summaries
    expected = plan.score_table(eager)
    scored = score(lazy, plan)
    assert isinstance(scored, dd.DataFrame)
    assert tuple(scored.columns) == plan.columns
    got = scored.compute().sort_values("customer_id").reset_index(drop=True)
    expected = expected.sort_values("customer_id").reset_index(drop=True)
    for column in plan.columns:
        a, b = expected[column], got[column]
        if a.dtype.kind == "f":
            np.testing.assert_allclose(b.to_numpy(), a.to_numpy(), rtol=1e-12)
        else:
            assert a.astype(object).tolist() == b.astype(object).tolist(), column
    assert set(got["stage"]) <= {"new", "active", "repeat", "at_risk", "dormant", "churned"}


def test_only_json_travels_to_the_workers(summaries, plan):
    _, lazy = summaries
    graph = score(lazy, plan).__dask_graph__()
    text = repr(dict(graph))
    for name in ("BGNBD(", "GammaGamma(", "RFMScorer(", "SegmentMap("):
        assert name not in text
    description = plan.to_dict()
    assert ScoringPlan.from_dict(json.loads(json.dumps(description))) == plan


def test_empty_partitions_and_batches(summaries, plan):
    eager, lazy = summaries
    filtered = lazy[lazy["frequency"] > 1000]  # every partition empty
    out = score(filtered, plan).compute()
    assert len(out) == 0
    assert tuple(out.columns) == plan.columns
    batches = [eager.iloc[:10], eager.iloc[:0], eager.iloc[10:25]]
    scored = list(score_batches(batches, plan.to_dict()))
    assert [len(b) for b in scored] == [10, 0, 15]
    pd.testing.assert_frame_equal(
        pd.concat(scored, ignore_index=True), plan.score_table(eager.iloc[:25])
    )


def test_plans_are_checked():
    with pytest.raises(ArgumentError, match="scores nothing"):
        ScoringPlan()
    with pytest.raises(ArgumentError, match="transaction model"):
        ScoringPlan(spend=20.0, lifecycle=LifecycleWindows(), as_of=AS_OF)
    with pytest.raises(ArgumentError, match="as_of"):
        ScoringPlan(lifecycle=LifecycleWindows())
    with pytest.raises(ArgumentError, match="not a ScoringPlan"):
        ScoringPlan.from_dict({"plan": "other"})
    import polars as pl

    with pytest.raises(ArgumentError, match="score_batches"):
        score(pl.LazyFrame({"customer_id": [1]}), ScoringPlan(model=BGNBD(r=1, alpha=1, a=1, b=1)))


def test_plan_options_are_checked_at_construction():
    # Before: ScoringPlan(horizon=-52) was accepted and failed only when scoring.
    model = BGNBD(r=0.24, alpha=4.4, a=0.79, b=2.43)
    for field, value in [
        ("horizon", -52),
        ("horizon", math.inf),
        ("discount_rate", -0.1),
        ("margin", "lots"),
        ("steps", 0),
        ("monetary", "median"),
    ]:
        with pytest.raises(ArgumentError) as info:
            ScoringPlan(model=model, **{field: value})
        assert info.value.field == field


def test_plan_from_dict_names_the_key_path():
    from clientmodel.ltv import BGBB

    good = ScoringPlan(model=BGNBD(r=0.24, alpha=4.4, a=0.79, b=2.43), spend=20.0).to_dict()
    cases = [
        ({**good, "horizon": "x"}, "ScoringPlan.horizon"),
        ({**good, "model": [1]}, "ScoringPlan.model"),
        ({**good, "model": {**good["model"], "params": {"r": "x"}}}, "ScoringPlan.model.params"),
        ({**good, "model": {**good["model"], "model": "Nope"}}, "ScoringPlan.model.model"),
        ({**good, "spend": {"model": "BGNBD"}}, "ScoringPlan.spend.model"),
        ({**good, "colour": 1}, "ScoringPlan.colour"),
        ([1], "ScoringPlan"),
    ]
    for data, field in cases:
        with pytest.raises(ArgumentError) as info:
            ScoringPlan.from_dict(data)
        assert str(info.value.field).startswith(field), (data, info.value.field)
    # Every transaction model of the registry travels in a plan, BG/BB included.
    bgbb = ScoringPlan(model=BGBB(alpha=1.2, beta=0.75, gamma=0.66, delta=2.8), horizon=5)
    assert ScoringPlan.from_dict(bgbb.to_dict()) == bgbb
    gg = ScoringPlan(model=bgbb.model, spend=GammaGamma(p=6.25, q=3.74, gamma=15.44))
    assert ScoringPlan.from_dict(json.loads(json.dumps(gg.to_dict()))) == gg
