"""Censoring-aware sojourn laws of the Monte Carlo close dates (Kaplan-Meier, exponential tail)."""

from __future__ import annotations

import numpy as np
import pytest

from clientmodel.datasets.deals import TRUE_SOJOURN_DAYS, make_deals
from clientmodel.funnel import stage_durations
from clientmodel.funnel.forecast import SojournLaw, _stay_samples


def test_kaplan_meier_by_hand():
    # stays 1 (ended), 2 (ended), 3 (open): S(1) = 2/3, S(2) = 2/3 * 1/2 = 1/3
    law = SojournLaw.fit(np.array([3.0, 1.0, 2.0]), np.array([False, True, True]))
    assert law.times.tolist() == [1.0, 2.0]
    assert law.cdf.tolist() == pytest.approx([1 / 3, 2 / 3])
    assert law.tail_mean == pytest.approx(6.0 / 2)  # total time / completed stays
    # mean: 1/3 * 1 + 1/3 * 2 + 1/3 * (2 + 3) by hand
    assert law.mean == pytest.approx((1 + 2 + 5) / 3)
    draws = law.sample(np.random.default_rng(0), 60_000)
    assert (draws == 1.0).mean() == pytest.approx(1 / 3, abs=0.01)
    assert (draws == 2.0).mean() == pytest.approx(1 / 3, abs=0.01)
    assert draws[draws > 2].mean() == pytest.approx(5.0, abs=0.1)


def test_sojourns_on_a_young_book_are_not_drawn_early():
    # 120 days of history: long proposal stays are still running at as_of (right-censored)
    data = make_deals(1500, seed=5, days=120)
    laws = _stay_samples(list(data.deals), data.pipeline, data.as_of)
    completed = stage_durations(list(data.deals), as_of=data.as_of, pipeline=data.pipeline)
    proposal = list(completed["stage"]).index("proposal")
    naive_mean = completed["mean"][proposal]
    truth = TRUE_SOJOURN_DAYS["proposal"]  # the generator's exponential mean
    assert naive_mean < 0.8 * truth  # what resampling completed stays used to draw
    assert laws["proposal"].mean == pytest.approx(truth, rel=0.1)
    drawn = laws["proposal"].sample(np.random.default_rng(1), 100_000).mean()
    assert drawn == pytest.approx(truth, rel=0.1)
    for stage, law in laws.items():
        assert law.mean == pytest.approx(TRUE_SOJOURN_DAYS[stage], rel=0.15)
