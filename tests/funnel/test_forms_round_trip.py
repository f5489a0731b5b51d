"""JSON round-trips of the funnel results, MEDDPICC and the scoring plan (issue 16, item 3).

Any valid result (built by hand from random but consistent parts) survives
``from_dict(json.loads(json.dumps(x.to_dict())))`` unchanged, and the forms written before the
move onto the one reader (``read_form``) still load.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.accounts import Meddpicc
from clientmodel.accounts.meddpicc import ELEMENTS
from clientmodel.funnel import AbsorbingChain, Backtest, BookingsForecast, NaiveBayesScore
from clientmodel.funnel.markov import solve_chain
from clientmodel.ltv import BGNBD
from clientmodel.scoring import ScoringPlan

SETTINGS = settings(max_examples=40, deadline=None)
AMOUNTS = st.floats(min_value=0, max_value=1e9, allow_nan=False)


def json_round_trip(x):
    return type(x).from_dict(json.loads(json.dumps(x.to_dict())))


@SETTINGS
@given(
    flags=st.lists(st.booleans(), min_size=8, max_size=8),
    weights=st.none() | st.lists(st.floats(0, 10, allow_nan=False), min_size=8, max_size=8),
)
def test_meddpicc(flags, weights):
    elements = dict(zip(ELEMENTS, flags, strict=True))
    w = dict(zip(ELEMENTS, weights or [1.0] * 8, strict=True))
    if sum(w.values()) <= 0:
        w["metrics"] = 1.0
    score = sum(w[e] for e in ELEMENTS if elements[e]) / sum(w.values())
    m = Meddpicc("d1", elements, score, None if weights is None else w)
    assert json_round_trip(m) == m


def _sorted3(values):
    a, b, c = sorted(values)
    return a, b, c


@SETTINGS
@given(
    days=st.integers(1, 3650),
    n_open=st.integers(0, 10**6),
    quantiles=st.lists(AMOUNTS, min_size=3, max_size=3),
    expected=AMOUNTS,
    actual=AMOUNTS,
)
def test_backtest(days, n_open, quantiles, expected, actual):
    at = dt.datetime(2024, 6, 30, tzinfo=dt.timezone.utc)
    b = Backtest(
        at.isoformat(),
        (at + dt.timedelta(days=days)).isoformat(),
        n_open,
        expected,
        *_sorted3(quantiles),
        actual,
    )
    assert json_round_trip(b) == b


@SETTINGS
@given(
    periods=st.lists(st.lists(AMOUNTS, min_size=4, max_size=4), min_size=1, max_size=5),
    total=st.lists(AMOUNTS, min_size=3, max_size=3),
    n_draws=st.integers(1, 10**6),
)
def test_bookings_forecast(periods, total, n_draws):
    starts = tuple(f"2025-{m:02d}-01T00:00:00+08:00" for m in range(1, len(periods) + 2))
    triples = [_sorted3(p[1:]) for p in periods]
    fc = BookingsForecast(
        "CNY",
        starts,
        tuple(p[0] for p in periods),
        tuple(t[0] for t in triples),
        tuple(t[1] for t in triples),
        tuple(t[2] for t in triples),
        _sorted3(total),
        n_draws,
    )
    assert json_round_trip(fc) == fc


@st.composite
def chains(draw):
    """A chain whose every open stage closes: each open row puts some mass on a closed state."""
    k = draw(st.integers(1, 4))
    m = draw(st.integers(1, 3))
    n = k + m
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    rows = rng.dirichlet(np.ones(n), size=k)
    rows[:, k:] += 0.05  # reach a closed state from anywhere
    rows /= rows.sum(axis=1, keepdims=True)
    matrix = np.vstack([rows, np.hstack([np.zeros((m, k)), np.eye(m)])])
    states = [f"s{i}" for i in range(n)]
    kinds = draw(st.lists(st.sampled_from(["won", "lost"]), min_size=m, max_size=m))
    sojourn = [draw(st.none() | st.floats(0, 400, allow_nan=False)) for _ in range(k)]
    counts = rng.integers(0, 50, size=(n, n))
    return solve_chain(
        states,
        matrix,
        won=[s for s, kind in zip(states[k:], kinds, strict=True) if kind == "won"],
        lost=[s for s, kind in zip(states[k:], kinds, strict=True) if kind == "lost"],
        sojourn_days=[np.nan if s is None else s for s in sojourn],
        counts=counts,
    )


@SETTINGS
@given(chain=chains())
def test_absorbing_chain(chain):
    again = json_round_trip(chain)
    assert again == chain
    # the solved quantities are re-derived, not read: they agree with the original solve
    np.testing.assert_allclose(again.win_probabilities, chain.win_probabilities, rtol=1e-12)
    np.testing.assert_allclose(again.fundamental, chain.fundamental, rtol=1e-12)


@st.composite
def scores(draw):
    values = draw(st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=4, unique=True))
    cells = draw(
        st.lists(
            st.tuples(st.integers(0, 30), st.integers(0, 30)),
            min_size=len(values),
            max_size=len(values),
        )
    )
    n_won = sum(c[0] for c in cells) or 1
    n_lost = sum(c[1] for c in cells) or 1
    if n_won != sum(c[0] for c in cells) or n_lost != sum(c[1] for c in cells):
        cells[0] = (cells[0][0] + n_won - sum(c[0] for c in cells),
                    cells[0][1] + n_lost - sum(c[1] for c in cells))  # fmt: skip
    counts = {"source": {v: list(c) for v, c in zip(values, cells, strict=True)}}
    # "stage" counts the stages each deal reached: any cell up to the class sizes
    stages = draw(st.lists(st.tuples(st.integers(0, n_won), st.integers(0, n_lost)), max_size=4))
    counts["stage"] = {f"st{i}": list(c) for i, c in enumerate(stages)}
    alpha = draw(st.floats(0.01, 10))
    return NaiveBayesScore(("source", "stage"), counts, n_won, n_lost, alpha)


@SETTINGS
@given(nb=scores())
def test_naive_bayes_score(nb):
    assert json_round_trip(nb) == nb


@SETTINGS
@given(
    horizon=st.floats(0.5, 520),
    rate=st.floats(0, 1),
    margin=st.floats(0, 1),
    steps=st.none() | st.integers(1, 1000),
    monetary=st.sampled_from(["total", "mean"]),
    tz=st.sampled_from([None, "UTC", "Asia/Shanghai"]),
    unit=st.sampled_from(["D", "W", "M"]),
)
def test_scoring_plan(horizon, rate, margin, steps, monetary, tz, unit):
    plan = ScoringPlan(
        model=BGNBD(r=0.24, alpha=4.4, a=0.79, b=2.43),
        spend=20.0,
        horizon=horizon,
        discount_rate=rate,
        margin=margin,
        steps=steps,
        monetary=monetary,
        tz=tz,
        unit=unit,
    )
    assert json_round_trip(plan) == plan


# Forms as the code before the move onto read_form wrote them (commit ad324d2).
OLD_FORMS = [
    (
        AbsorbingChain,
        {
            "states": ["a", "won", "lost"],
            "kinds": ["open", "won", "lost"],
            "matrix": [[0.0, 0.2, 0.8], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
            "counts": [[0.0, 2.0, 8.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]],
            "sojourn_days": [None],
        },
    ),
    (
        Meddpicc,
        {
            "deal": "d1",
            **dict.fromkeys(ELEMENTS, False),
            "metrics": True,
            "score": 0.125,
            "complete": False,
        },
    ),
    (
        ScoringPlan,
        {
            "model": {
                "model": "BGNBD",
                "format_version": 1,
                "library_version": "0.1.0",
                "params": {"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.43},
                "fit_report": None,
            },
            "spend": 20.0,
            "rfm": None,
            "segments": None,
            "lifecycle": None,
            "lifecycle_uses_model": False,
            "as_of": None,
            "unit": "W",
            "horizon": 52.0,
            "discount_rate": 0.0,
            "margin": 1.0,
            "steps": None,
            "monetary": "total",
            "customer": "customer_id",
            "tz": None,
            "format": 1,
            "plan": "ScoringPlan",
        },
    ),
]


def test_old_forms_still_load():
    for cls, form in OLD_FORMS:
        assert cls.from_dict(form).to_dict() == form
    chain = AbsorbingChain.from_dict(OLD_FORMS[0][1])
    assert chain.win_probability("a") == 0.2  # by hand: the one open row's mass on "won"


def test_naive_bayes_counts_share_nothing_with_the_input():
    # Before: counts was the caller's dict of lists, so editing either changed the other.
    given_counts = {"source": {"web": [3, 1], "ads": [1, 3]}}
    nb = NaiveBayesScore(("source",), given_counts, 4, 4, 1.0)
    given_counts["source"]["web"][0] = 99
    given_counts["source"]["new"] = [0, 0]
    assert dict(nb.counts["source"]) == {"web": (3, 1), "ads": (1, 3)}
    with pytest.raises(TypeError):
        nb.counts["source"]["web"] = (0, 0)  # type: ignore[index]
