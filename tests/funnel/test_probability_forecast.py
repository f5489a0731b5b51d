"""Probability layers, naive-Bayes score, weighted pipeline, roll-ups, Monte Carlo, backtest."""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal

import numpy as np
import pytest

from clientmodel.datasets.deals import make_deals, standard_pipeline
from clientmodel.errors import ArgumentError, DataError
from clientmodel.funnel import (
    BookingsForecast,
    NaiveBayesScore,
    backtest,
    category_rollup,
    close,
    deal_probability,
    deals_as_of,
    fit_naive_bayes,
    move,
    open_deal,
    simulate_bookings,
    solve_chain,
    weighted_pipeline,
)

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 1, 1, tzinfo=UTC)
P = standard_pipeline()


def _deal(i, amount=1000, stage="lead", source="inbound", currency="USD", **kw):
    d = open_deal(
        f"D{i}", P, at=T0, account_id="A", owner="ana", amount=amount, currency=currency,
        source=source, **kw,
    )  # fmt: skip
    if stage != "lead":
        d = move(d, stage, T0 + dt.timedelta(days=1), P)
    return d


def _closed(i, outcome, source):
    return close(_deal(i, source=source), outcome, T0 + dt.timedelta(days=5), P, reason="r")


def test_naive_bayes_by_hand():
    # inbound: 3 won, 1 lost; outbound: 1 won, 3 lost. alpha = 1, K = 2 values + 1 unseen = 3.
    # P(inbound|won) = (3+1)/(4+3) = 4/7, P(inbound|lost) = (1+1)/7 = 2/7 -> log-odds log 2.
    # prior log(4/4) = 0, so P(won | inbound) = 2/(1+2) = 2/3; unseen source -> 1/7 vs 1/7 -> 1/2.
    deals = [_closed(i, "won", "inbound") for i in range(3)]
    deals += [_closed(3, "lost", "inbound"), _closed(4, "won", "outbound")]
    deals += [_closed(i, "lost", "outbound") for i in range(5, 8)]
    deals.append(_deal(99, source="inbound"))  # open deals are not training data
    nb = fit_naive_bayes(deals, features=["source"])
    assert (nb.n_won, nb.n_lost) == (4, 4)
    p, why = nb.predict(_deal(100, source="inbound"))
    assert p == pytest.approx(2 / 3)
    assert why == pytest.approx({"prior": 0.0, "source": math.log(2)})
    assert nb.predict(_deal(101, source="outbound"))[0] == pytest.approx(1 / 3)
    assert nb.predict(_deal(102, source="partner"))[0] == pytest.approx(0.5)
    assert NaiveBayesScore.from_dict(json.loads(json.dumps(nb.to_dict()))) == nb
    with pytest.raises(DataError, match="won and lost"):
        fit_naive_bayes(deals[:3], features=["source"])


def test_naive_bayes_recovers_a_known_likelihood_ratio():
    # champion is drawn with P(yes | won) = 0.8 and P(yes | lost) = 0.3 (TRUE_CHAMPION_RATE), so
    # the true contributions are log(.8/.3) = 0.981 for True and log(.2/.7) = -1.253 for False.
    data = make_deals(4000, seed=21)
    nb = fit_naive_bayes(data.deals, features=["champion"])
    yes = next(d for d in data.deals if d.fields["champion"])
    no = next(d for d in data.deals if not d.fields["champion"])
    assert nb.contributions(yes)["champion"] == pytest.approx(math.log(0.8 / 0.3), abs=0.12)
    assert nb.contributions(no)["champion"] == pytest.approx(math.log(0.2 / 0.7), abs=0.12)


def test_probability_layers_precedence():
    chain = solve_chain(
        ["lead", "qualified", "proposal", "negotiation", "won", "lost"],
        [
            [0, 0.5, 0, 0, 0, 0.5],
            [0, 0, 0.5, 0, 0, 0.5],
            [0, 0, 0, 0.5, 0, 0.5],
            [0, 0, 0, 0, 0.5, 0.5],
            [0, 0, 0, 0, 1, 0],
            [0, 0, 0, 0, 0, 1],
        ],
    )
    d = _deal(1, stage="proposal")
    assert deal_probability(d, P).model_dump(include={"value", "layer"}) == {
        "value": 0.5,
        "layer": "stage_default",
    }
    by_chain = deal_probability(d, P, chain=chain)
    assert by_chain.layer == "chain"
    assert by_chain.value == pytest.approx(0.25)  # .5 to negotiation x .5 to won
    nb = fit_naive_bayes(
        [_closed(1, "won", "inbound"), _closed(2, "lost", "outbound")], features=["source"]
    )
    assert deal_probability(d, P, chain=chain, score=nb).layer == "score"
    manual = d.model_copy(update={"probability_override": 0.9})
    assert deal_probability(manual, P, chain=chain, score=nb).layer == "override"
    won = close(d, "won", T0 + dt.timedelta(days=3), P)
    assert deal_probability(won, P, score=nb).model_dump(include={"value", "layer"}) == {
        "value": 1.0,
        "layer": "closed",
    }


def test_weighted_pipeline_and_category_rollup_by_hand():
    deals = [
        _deal(1, 1000, "proposal"),  # best_case, p .5 -> 500
        _deal(2, 2000, "negotiation", expected_close=dt.date(2024, 3, 1)),  # commit .75 -> 1500
        _deal(3, 400, "negotiation", expected_close=dt.date(2024, 9, 1)),  # commit, next quarter
        _deal(4, 300, "lead", currency="EUR"),  # pipeline .1 -> 30
        close(_deal(5, 5000, "negotiation"), "won", T0 + dt.timedelta(days=10), P),
    ]
    rows = {(r.currency, r.group): r for r in weighted_pipeline(deals, P)}
    assert rows["USD", "best_case"].weighted == Decimal("500.00")
    assert rows["USD", "commit"].amount == Decimal(2400)
    assert rows["USD", "commit"].weighted == Decimal("1800.00")  # (2000 + 400) x .75
    assert rows["EUR", "pipeline"].weighted == Decimal("30.00")
    assert sum(r.n_deals for r in rows.values()) == 4
    q1 = {
        r.currency: r
        for r in category_rollup(deals, P, start=dt.date(2024, 1, 1), end=dt.date(2024, 3, 31))
    }
    usd = q1["USD"]
    # deal 1 has no expected close: it sits in the explicit bucket, in no category of the period
    assert (usd.closed, usd.commit, usd.best_case) == (Decimal(5000), Decimal(2000), Decimal(0))
    assert (usd.no_close_date, usd.n_no_close_date) == (Decimal(1000), 1)
    assert usd.commit_call == Decimal(7000)
    assert usd.best_case_call == Decimal(7000)
    assert usd.open_pipeline_call == Decimal(7000)
    assert (q1["EUR"].pipeline, q1["EUR"].no_close_date) == (Decimal(0), Decimal(300))


def test_monte_carlo_matches_exact_distribution():
    # Two deals, 100 and 200 with p = 1/2 each, closing well inside the horizon: the total is
    # 0, 100, 200 or 300 with probability 1/4 each (independent wins).
    deals = [_deal(1, 100, "negotiation"), _deal(2, 200, "negotiation")]
    chain = solve_chain(
        ["lead", "qualified", "proposal", "negotiation", "won", "lost"],
        np.vstack([np.eye(6)[[4, 4, 4, 4]], np.eye(6)[4:]]),
        sojourn_days=[1.0, 1.0, 1.0, 1.0],
    )
    fc = simulate_bookings(
        deals,
        P,
        as_of=T0 + dt.timedelta(days=2),
        chain=chain,
        probabilities={"D1": 0.5, "D2": 0.5},
        periods=12,
        n_draws=20_000,
        seed=3,
    )
    total = fc.draws.sum(axis=1)
    for value in (0, 100, 200, 300):
        share = (total == value).mean()
        assert abs(share - 0.25) < 4 * math.sqrt(0.25 * 0.75 / 20_000)
    assert sum(fc.expected) == pytest.approx(150, abs=4 * 111.8 / math.sqrt(20_000))
    assert fc.quota_probability(200) == pytest.approx(0.5, abs=0.015)
    again = simulate_bookings(
        deals, P, as_of=T0 + dt.timedelta(days=2), chain=chain,
        probabilities={"D1": 0.5, "D2": 0.5}, periods=12, n_draws=20_000, seed=3,
    )  # fmt: skip
    assert np.array_equal(again.draws, fc.draws)
    rebuilt = BookingsForecast.from_dict(json.loads(json.dumps(fc.to_dict())))
    assert rebuilt == fc
    with pytest.raises(ArgumentError, match="currencies"):
        simulate_bookings([*deals, _deal(3, currency="EUR")], P, as_of=T0, chain=chain)


def test_monte_carlo_close_times_follow_the_chain():
    # One stage straight to won with exponential sojourn, mean 30 days; p = 1.
    stages = ["lead", "qualified", "proposal", "negotiation", "won", "lost"]
    chain = solve_chain(
        stages,
        np.vstack([np.eye(6)[[4, 4, 4, 4]], np.eye(6)[4:]]),
        sojourn_days=[30.0, 30.0, 30.0, 30.0],
    )
    fc30 = simulate_bookings(
        [_deal(1, 1, "proposal")], P, as_of=T0, chain=chain, probabilities={"D1": 1.0},
        periods=1, unit="M", n_draws=20_000, n_paths=20_000, seed=5,
    )  # fmt: skip
    # January has 31 days: P(T <= 31) = 1 - exp(-31/30)
    assert fc30.expected[0] == pytest.approx(1 - math.exp(-31 / 30), abs=0.02)


def test_deals_as_of_and_backtest_on_synthetic_history():
    data = make_deals(1500, seed=11)
    at = dt.datetime(2024, 6, 30, tzinfo=UTC)
    past = deals_as_of(data.deals, data.pipeline, at)
    assert all(d.created_at <= at for d in past)
    for d in past:
        assert d.history[-1].at <= at
        assert d.is_closed == data.pipeline.stage(d.stage).is_closed
    covered = 0
    for month in (3, 6, 9):
        cut = dt.datetime(2024, month, 30, tzinfo=UTC)
        bt = backtest(data.deals, data.pipeline, at=cut, n_draws=1000, seed=month)
        # actual bookings recomputed independently from the full records
        open_then = {d.id for d in deals_as_of(data.deals, data.pipeline, cut) if not d.is_closed}
        end = dt.datetime.fromisoformat(bt.end)
        actual = sum(
            float(d.amount)
            for d in data.deals
            if d.id in open_then and d.closed == "won" and d.closed_at < end
        )
        assert bt.actual == pytest.approx(actual)
        assert bt.p10 <= bt.p50 <= bt.p90
        covered += bt.p10 * 0.8 <= bt.actual <= bt.p90 * 1.2
    # the synthetic process is the chain the forecast assumes: actuals land near the band
    assert covered >= 2
