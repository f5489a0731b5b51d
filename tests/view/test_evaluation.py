"""The loop back: outcome events fold into profiles; holdouts are deterministic; Wilson and
Newcombe intervals against published values; the evaluation table by hand."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.errors import ClientModelError
from clientmodel.profile import apply
from clientmodel.view import (
    DEFAULT_PLAYBOOK,
    Holdout,
    Play,
    customer_view,
    day_plan,
    newcombe_interval,
    next_actions,
    outcome_event,
    play_evaluation,
    wilson_interval,
)

from .conftest import AS_OF


def test_wilson_against_published_values() -> None:
    # Newcombe (1998), Stat. Med. 17:857, Table I: 81/263 -> 0.2553 to 0.3662 (method 3);
    # 0/10 -> 0 to 0.2775; 3/10 (Agresti & Coull 1998 style check) -> 0.1078 to 0.6032.
    for (x, n), (lo, hi) in {
        (81, 263): (0.2553, 0.3662),
        (0, 10): (0.0, 0.2775),
        (3, 10): (0.1078, 0.6032),
    }.items():
        got = wilson_interval(x, n)
        assert got is not None
        assert got[0] == pytest.approx(lo, abs=1e-4)
        assert got[1] == pytest.approx(hi, abs=1e-4)
    assert wilson_interval(0, 0) is None


def test_newcombe_against_published_values() -> None:
    # Newcombe (1998), Stat. Med. 17:873, Table II, method 10: (a) 56/70 - 48/80 -> 0.0524,
    # 0.3339; (d) 10/10 - 0/10 (boundary) -> 0.6075, 1.0
    lo, hi = newcombe_interval(56, 70, 48, 80) or (math.nan, math.nan)
    assert (lo, hi) == (pytest.approx(0.0524, abs=1e-4), pytest.approx(0.3339, abs=1e-4))
    lo, hi = newcombe_interval(10, 10, 0, 10) or (math.nan, math.nan)
    assert (lo, hi) == (pytest.approx(0.6075, abs=1e-4), pytest.approx(1.0, abs=1e-4))


def test_outcome_events_fold_into_the_profile(scenario: dict[str, Any]) -> None:
    view = customer_view(
        "p_once",
        as_of=AS_OF,
        profile=scenario["profiles"]["p_once"],
        summary=scenario["summary"]["p_once"],
        segment={"lifecycle": "active"},
        scores={"clv": 40.0, "churn_risk": 0.9},
    )
    (action,) = next_actions(view, DEFAULT_PLAYBOOK, as_of=AS_OF).actions
    later = AS_OF + dt.timedelta(hours=3)
    events = [outcome_event(action, o, at=later) for o in ("sent", "opened", "replied")]
    events.append(outcome_event(action, "replied", at=later))  # the same outcome twice
    profile, _ = apply(scenario["profiles"]["p_once"], events, as_of=later)
    assert profile.activity.counts_by_type == {
        "action_opened": 1,
        "action_replied": 1,
        "action_sent": 1,
    }
    assert profile.last_touch is not None
    assert profile.last_touch.source == action.play_id


@settings(max_examples=30)
@given(
    ids=st.lists(st.text(min_size=1, max_size=8), unique=True, max_size=30),
    seed=st.integers(0, 2**31),
)
def test_holdout_is_deterministic_and_order_free(ids: list[str], seed: int) -> None:
    h = Holdout(seed=seed, share=0.3)
    forward = {i: h.holds(i) for i in ids}
    backward = {i: Holdout(seed=seed, share=0.3).holds(i) for i in reversed(ids)}
    assert forward == backward


def test_holdout_share_is_respected_and_seeds_differ() -> None:
    ids = [f"c{i:05d}" for i in range(20_000)]
    a = [Holdout(seed=1, share=0.2).holds(i) for i in ids]
    b = [Holdout(seed=2, share=0.2).holds(i) for i in ids]
    assert sum(a) / len(ids) == pytest.approx(0.2, abs=0.01)  # 5 sd of Binomial(20000, .2)
    both = sum(x and y for x, y in zip(a, b, strict=True)) / len(ids)
    assert both == pytest.approx(0.04, abs=0.007)  # independent seeds: 0.2 x 0.2


def test_day_plan_leaves_the_holdout_alone(scenario: dict[str, Any]) -> None:
    views = [
        customer_view(
            f"x{i}",
            as_of=AS_OF,
            scores={"churn_risk": 0.9, "clv": 10.0},
            segment={"lifecycle": "active"},
        )
        for i in range(40)
    ]
    h = Holdout(seed=11, share=0.25)
    call = Play(
        play_id="call",
        action="call",
        rule="churn_risk > 0.5",
        channels=("phone",),
        need_consent=False,
        p_response=0.2,
    )
    plan = day_plan(views, [call], as_of=AS_OF, staff=scenario["staff"], holdout=h)
    held = {s.person_id for s in plan.suppressed if s.reason == "holdout"}
    assert held == {v.person_id for v in views if h.holds(v.person_id)}
    assert held
    planned = {a.person_id for _, tasks in plan.tasks for a in tasks}
    assert not planned & held


@pytest.mark.parametrize("kind", ["pandas", "polars"])
def test_evaluation_table_by_hand(kind: str) -> None:
    h = Holdout(seed=5, share=0.5)
    ids = [f"c{i}" for i in range(40)]
    held = [h.holds(i) for i in ids]
    rows = pd.DataFrame(
        {
            "person_id": ids,
            "play_id": ["win_back"] * 20 + ["vip_care"] * 20,
            "segment": (["a"] * 10 + ["b"] * 10) * 2,
            "responded": [not x and i % 2 == 0 for i, x in enumerate(held)],
            "converted": [i % 3 == 0 for i in range(40)],
        }
    )
    frame = pl.from_pandas(rows) if kind == "polars" else rows
    out = play_evaluation(frame, holdout=h)
    got = out.to_dicts() if kind == "polars" else out.to_dict("records")
    assert [(r["play_id"], r["segment"]) for r in got] == [
        ("vip_care", "a"),
        ("vip_care", "b"),
        ("win_back", "a"),
        ("win_back", "b"),
    ]
    for r in got:
        part = rows[(rows.play_id == r["play_id"]) & (rows.segment == r["segment"])]
        mask = [h.holds(i) for i in part.person_id]
        contacted = part[[not m for m in mask]]
        held_out = part[mask]
        assert r["n_contacted"] == len(contacted)
        assert r["n_held_out"] == len(held_out)
        assert r["response_rate"] == pytest.approx(contacted.responded.mean())
        want = contacted.converted.mean() - held_out.converted.mean()
        assert r["uplift"] == pytest.approx(want)
        lo, hi = newcombe_interval(
            int(contacted.converted.sum()),
            len(contacted),
            int(held_out.converted.sum()),
            len(held_out),
        ) or (None, None)
        assert (r["uplift_low"], r["uplift_high"]) == (pytest.approx(lo), pytest.approx(hi))


def test_evaluation_errors() -> None:
    h = Holdout(seed=1)
    bad = pd.DataFrame(
        {
            "person_id": ["a"],
            "play_id": ["x"],
            "segment": ["s"],
            "responded": [None],
            "converted": [True],
        }
    )
    with pytest.raises(ClientModelError, match="responded"):
        play_evaluation(bad, holdout=h)
    with pytest.raises(ClientModelError, match="segment"):
        play_evaluation(bad.drop(columns="segment"), holdout=h)
    with pytest.raises(ClientModelError, match="n="):
        wilson_interval(3, 2)
