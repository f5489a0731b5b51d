"""Win rates, cycle lengths, sales velocity, stalled deals, slippage, overdue follow-ups."""

from __future__ import annotations

import datetime as dt
import runpy
from pathlib import Path

import numpy as np
import pytest

from clientmodel.datasets.deals import make_deals, standard_pipeline
from clientmodel.errors import ArgumentError
from clientmodel.funnel import (
    close,
    move,
    open_deal,
    overdue_follow_ups,
    replay,
    sales_velocity,
    slippage,
    stalled,
    win_rates,
)

ROOT = Path(__file__).resolve().parents[2]
UTC = dt.timezone.utc
T0 = dt.datetime(2024, 1, 1, tzinfo=UTC)
P = standard_pipeline()
DAY = dt.timedelta(days=1)


def _book():
    # ana: won after 10 days (1000), lost after 20; ben: won after 30 days (3000);
    # cara: open in proposal since day 2 (entered proposal at T0 + 2 days).
    a1 = close(open_deal("a1", P, at=T0, account_id="A", owner="ana", amount=1000), "won",
               T0 + 10 * DAY, P)  # fmt: skip
    a2 = close(open_deal("a2", P, at=T0, account_id="A", owner="ana", amount=500), "lost",
               T0 + 20 * DAY, P, reason="price")  # fmt: skip
    b1 = close(open_deal("b1", P, at=T0, account_id="B", owner="ben", amount=3000), "won",
               T0 + 30 * DAY, P)  # fmt: skip
    c1 = move(open_deal("c1", P, at=T0, account_id="C", owner="cara", amount=700,
                        expected_close=dt.date(2024, 1, 20),
                        next_follow_up=T0 + 40 * DAY), "proposal", T0 + 2 * DAY, P)  # fmt: skip
    return [a1, a2, b1, c1]


def test_win_rates_and_cycle_by_hand():
    out = win_rates(_book(), as_of=T0 + 60 * DAY, by="owner")
    assert out["owner"].tolist() == ["ana", "ben"]
    assert out["closed"].tolist() == [2, 1]
    assert out["win_rate"].tolist() == [0.5, 1.0]
    assert out["mean_cycle_days"].tolist() == [10.0, 30.0]
    # before day 15 only a1 has closed
    early = win_rates(_book(), as_of=T0 + 15 * DAY, by="owner")
    assert early["closed"].tolist() == [1]


def test_sales_velocity_by_hand():
    v = sales_velocity(_book(), as_of=T0 + 60 * DAY)
    # open 1 (c1); mean won amount (1000 + 3000)/2 = 2000; win rate 2/3; cycle (10 + 30)/2 = 20
    assert (v.open_deals, v.mean_won_amount, v.mean_cycle_days) == (1, 2000.0, 20.0)
    assert v.win_rate == pytest.approx(2 / 3)
    assert v.per_day == pytest.approx(1 * 2000 * (2 / 3) / 20)


def test_stalled_slippage_and_follow_ups_by_hand():
    book = _book()
    as_of = T0 + 50 * DAY
    # c1 in proposal since day 2: 48 days > proposal stale_after_days 45
    flags = stalled(book, P, as_of=as_of)
    assert [(f.deal_id, f.days, f.threshold) for f in flags] == [("c1", 48.0, 45.0)]
    assert stalled(book, P, as_of=T0 + 40 * DAY) == []
    # learned threshold: the 50th percentile of completed proposal stays in a history where
    # stays lasted 10 and 30 days = 20; c1 at day 30 has been there 28 days
    hist = [
        close(move(open_deal(f"h{i}", P, at=T0, account_id="A", owner="o", amount=1), "proposal",
                   T0, P), "won", T0 + d * DAY, P)
        for i, d in enumerate((10, 30))
    ]  # fmt: skip
    learned = stalled(book, P, as_of=T0 + 30 * DAY, percentile=50, history=hist)
    assert [(f.deal_id, f.threshold) for f in learned] == [("c1", 20.0)]
    # c1 expected 2024-01-20 (end of day): at day 50 (Feb 20 00:00) it slipped 30 days + 1 us
    slipped = slippage(book, as_of=as_of)
    assert [f.deal_id for f in slipped] == ["c1"]
    assert slipped[0].days == pytest.approx(30.0)
    overdue = overdue_follow_ups(book, as_of=as_of)
    assert [(f.deal_id, f.days) for f in overdue] == [("c1", 10.0)]
    with pytest.raises(ArgumentError):
        stalled(book, P, as_of=dt.datetime(2024, 1, 1))


def test_synthetic_deals_are_seeded_and_valid():
    a = make_deals(200, seed=7)
    assert a == make_deals(200, seed=7)
    assert a != make_deals(200, seed=8)
    for d in a.deals:
        assert replay(d.history, a.pipeline, deal=d) == d
    outcomes = {d.closed for d in a.deals}
    assert outcomes == {"won", "lost", None}
    assert np.isclose(sum(a.true_transitions["proposal"].values()), 1.0)


def test_pipeline_review_example_runs(capsys):
    runpy.run_path(str(ROOT / "examples" / "pipeline_review.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "Pipeline review" in out
    assert "win probability" in out
