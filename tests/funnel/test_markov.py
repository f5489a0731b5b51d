"""Absorbing Markov chain: golden values solved by hand, a simulation check, recovery."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.datasets.deals import (
    STAGES,
    TRUE_SOJOURN_DAYS,
    TRUE_TRANSITIONS,
    make_deals,
    make_stage_events,
)
from clientmodel.errors import DataError
from clientmodel.funnel import AbsorbingChain, fit_chain, solve_chain

# Golden chain (Kemeny & Snell 1960, ch. III formulas, arithmetic by hand):
#   A -> B 0.6, A -> lost 0.4;  B -> A 0.2, B -> won 0.5, B -> lost 0.3
#   Q = [[0, .6], [.2, 0]], I - Q = [[1, -.6], [-.2, 1]], det = 1 - .12 = .88
#   N = (1/.88) [[1, .6], [.2, 1]] = [[25/22, 15/22], [5/22, 25/22]]
#   R = [[0, .4], [.5, .3]] (columns won, lost)
#   B = N R: A won = (15/22)(.5) = 15/44, A lost = (25/22)(.4) + (15/22)(.3) = 29/44
#            B won = (25/22)(.5) = 25/44, B lost = (5/22)(.4) + (25/22)(.3) = 19/44
#   steps N 1: A = 1.6/.88 = 20/11, B = 1.2/.88 = 15/11
#   days with m = (4, 10): A = (4 + .6*10)/.88 = 125/11, B = (.2*4 + 10)/.88 = 135/11
GOLDEN_STATES = ["A", "B", "won", "lost"]
GOLDEN_P = [[0, 0.6, 0, 0.4], [0.2, 0, 0.5, 0.3], [0, 0, 1, 0], [0, 0, 0, 1]]


def test_golden_chain_by_hand():
    c = solve_chain(GOLDEN_STATES, GOLDEN_P, sojourn_days=[4.0, 10.0])
    assert c.fundamental == pytest.approx(np.array([[25, 15], [5, 25]]) / 22)
    assert c.absorption == pytest.approx(np.array([[15, 29], [25, 19]]) / 44)
    assert c.win_probability("A") == pytest.approx(15 / 44)
    assert c.win_probability("B") == pytest.approx(25 / 44)
    assert c.expected_steps == pytest.approx([20 / 11, 15 / 11])
    assert c.expected_days == pytest.approx([125 / 11, 135 / 11])
    again = AbsorbingChain.from_dict(json.loads(json.dumps(c.to_dict())))
    assert again.expected_days == pytest.approx(c.expected_days)
    assert again.states == c.states
    assert again == c


def test_golden_chain_against_simulation():
    # Independent check: walk 20,000 deals through the golden chain with exponential sojourns.
    rng = np.random.default_rng(42)
    p = np.array(GOLDEN_P)
    means = np.array([4.0, 10.0])
    n = 20_000
    state = np.zeros(n, dtype=int)
    steps = np.zeros(n)
    days = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    while alive.any():
        i = np.flatnonzero(alive)
        days[i] += rng.exponential(means[state[i]])
        steps[i] += 1
        u = rng.random(i.size)
        state[i] = (u[:, None] >= np.cumsum(p[state[i]], axis=1)).sum(axis=1)
        alive[i] = state[i] < 2
    c = solve_chain(GOLDEN_STATES, GOLDEN_P, sojourn_days=[4.0, 10.0])
    win = (state == 2).mean()
    assert abs(win - c.win_probability("A")) < 4 * np.sqrt(win * (1 - win) / n)
    assert abs(steps.mean() - c.expected_steps[0]) < 4 * steps.std() / np.sqrt(n)
    assert abs(days.mean() - c.expected_days[0]) < 4 * days.std() / np.sqrt(n)


def test_fit_chain_counts_and_sojourns_by_hand():
    # d1: A B won; d2: A lost; d3: A B A B lost; d4: A B (open at as_of).
    # Moves: A->B 4 (d1, d3 twice, d4), A->lost 1 => row A = (B .8, lost .2)
    #        B->won 1, B->A 1, B->lost 1        => row B = 1/3 each
    # Q = [[0, .8], [1/3, 0]], det(I - Q) = 11/15, N = (15/11) [[1, .8], [1/3, 1]]
    # win: A = (12/11)(1/3) = 4/11, B = (15/11)(1/3) = 5/11; steps: A = 27/11, B = 20/11
    # Sojourn MLE: A stays all 2 days, 5 exits -> 2; B: three 4-day stays ended plus d4's
    # open 6 days -> 18 / 3 = 6. Days: A = (15*2 + 12*6)/11 = 102/11, B = (5*2 + 15*6)/11 = 100/11
    ev = {
        "deal_id": ["d1"] * 3 + ["d2"] * 2 + ["d3"] * 5 + ["d4"] * 2,
        "stage": ["A", "B", "won", "A", "lost", "A", "B", "A", "B", "lost", "A", "B"],
        "entered_at": ["2024-01-01", "2024-01-03", "2024-01-07", "2024-01-01", "2024-01-03",
                       "2024-01-01", "2024-01-03", "2024-01-07", "2024-01-09", "2024-01-13",
                       "2024-01-20", "2024-01-22"],
    }  # fmt: skip
    as_of = dt.datetime(2024, 1, 28, tzinfo=dt.timezone.utc)
    c = fit_chain(ev, as_of=as_of, pipeline=["A", "B", "won", "lost"])
    assert c.states == ("A", "B", "won", "lost")
    assert c.matrix[0] == pytest.approx([0, 0.8, 0, 0.2])
    assert c.matrix[1] == pytest.approx([1 / 3, 0, 1 / 3, 1 / 3])
    assert c.win_probabilities == pytest.approx([4 / 11, 5 / 11])
    assert c.expected_steps == pytest.approx([27 / 11, 20 / 11])
    assert c.sojourn_days == pytest.approx([2.0, 6.0])
    assert c.expected_days == pytest.approx([102 / 11, 100 / 11])
    assert c.counts[0, 1] == 4


def test_stage_nobody_left_needs_smoothing():
    ev = {"deal_id": ["a", "a", "b"], "stage": ["A", "won", "B"],
          "entered_at": ["2024-01-01", "2024-01-05", "2024-01-02"]}  # fmt: skip
    with pytest.raises(DataError, match="smoothing"):
        fit_chain(ev, as_of="2024-02-01", pipeline=["A", "B", "won", "lost"])
    c = fit_chain(ev, as_of="2024-02-01", pipeline=["A", "B", "won", "lost"], smoothing=1.0)
    # B row: one pseudo-count to each of A, won, lost -> win from B = 1/3 + 1/3 * win(A)
    assert c.win_probability("B") == pytest.approx(1 / 3 + c.win_probability("A") / 3)


def _true_chain():
    p = np.eye(len(STAGES))
    for i, s in enumerate(STAGES[:4]):
        p[i] = [TRUE_TRANSITIONS[s].get(t, 0.0) for t in STAGES]
    return solve_chain(STAGES, p, sojourn_days=[TRUE_SOJOURN_DAYS[s] for s in STAGES[:4]])


def test_recovers_true_dynamics_from_synthetic_deals():
    data = make_deals(3000, seed=5)
    c = fit_chain(list(data.deals), as_of=data.as_of, pipeline=data.pipeline)
    truth = _true_chain()
    assert c.matrix[:4] == pytest.approx(truth.matrix[:4], abs=0.04)
    assert c.sojourn_days == pytest.approx(truth.sojourn_days, rel=0.12)
    assert c.win_probabilities == pytest.approx(truth.win_probabilities, abs=0.04)
    assert c.expected_days == pytest.approx(truth.expected_days, rel=0.12)


def test_vectorised_events_give_the_same_chain_as_truth():
    ev = make_stage_events(50_000, seed=9)
    c = fit_chain(ev, as_of="2024-12-31", pipeline=list(STAGES), tz="UTC")
    truth = _true_chain()
    assert c.matrix[:4] == pytest.approx(truth.matrix[:4], abs=0.015)
    assert c.sojourn_days == pytest.approx(truth.sojourn_days, rel=0.04)


@settings(max_examples=60, deadline=None)
@given(
    weights=st.lists(st.lists(st.floats(0.0, 1.0), min_size=5, max_size=5), min_size=3, max_size=3),
    exit_floor=st.floats(0.01, 1.0),
)
def test_chain_invariants_on_random_matrices(weights, exit_floor):
    # three open stages, won, lost; every open row keeps some mass on closing so I - Q inverts
    w = np.array(weights)
    w[:, 3] += exit_floor
    for i in range(3):
        w[i, i] = 0.0
    p = np.vstack([w / w.sum(axis=1, keepdims=True), np.eye(5)[3:]])
    c = solve_chain(["a", "b", "c", "won", "lost"], p, sojourn_days=[1.0, 2.0, 3.0])
    assert np.allclose(c.absorption.sum(axis=1), 1.0)
    assert (c.absorption >= -1e-12).all()
    assert (c.expected_steps >= 1 - 1e-12).all()  # at least the current visit
    # fundamental matrix identity N (I - Q) = I
    assert np.allclose(c.fundamental @ (np.eye(3) - c.matrix[:3, :3]), np.eye(3))
    # one-step consistency: win(i) = p(i, won) + sum_j p(i, j) win(j)
    win = c.win_probabilities
    assert np.allclose(win, c.matrix[:3, 3] + c.matrix[:3, :3] @ win)
