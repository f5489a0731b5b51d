"""Synthetic transaction logs: deterministic, and faithful to the process they are drawn from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
from scipy import special

from clientmodel.datasets.transactions import make_transactions
from clientmodel.errors import ArgumentError
from clientmodel.transactions import summarize


def bgnbd_expected_repeats(t: np.ndarray, r: float, alpha: float, a: float, b: float):
    # Fader, Hardie & Lee (2005), eq. 7: E[X(t)] for a customer observed for t periods.
    z = t / (alpha + t)
    return (
        (a + b - 1)
        / (a - 1)
        * (1 - (alpha / (alpha + t)) ** r * special.hyp2f1(r, b, a + b - 1, z))
    )


def test_same_seed_same_log():
    one, two = make_transactions(300, seed=7), make_transactions(300, seed=7)
    assert all(np.array_equal(one[c], two[c]) for c in one)
    assert not np.array_equal(one["amount"], make_transactions(300, seed=8)["amount"])


def test_mean_repeat_purchases_match_the_closed_form():
    params = {"r": 0.5, "alpha": 6.0, "a": 1.5, "b": 3.0}
    log = make_transactions(
        40_000, seed=11, params=params, acquisition_weeks=20, observation_weeks=60
    )
    # Count every row (no same-day merging) and measure T exactly, as the process does.
    s = summarize(log, as_of="2025-02-23", unit="W", tz="UTC", merge=None)
    expected = bgnbd_expected_repeats(s["T"], **params)
    # Standard error of the mean of ~40k customers' counts is ~0.01; allow 4 of them.
    assert s["frequency"].mean() == pytest.approx(expected.mean(), abs=0.04)


def test_spend_mean_matches_gamma_gamma():
    # Each purchase is Gamma(p, nu), nu ~ Gamma(q, gamma): E[z] = p * gamma / (q - 1).
    spend = {"p": 6.0, "q": 4.0, "gamma": 15.0}
    log = make_transactions(30_000, seed=5, spend=spend)
    per_customer = pd.DataFrame(log).groupby("customer_id")["amount"].first()
    assert per_customer.mean() == pytest.approx(6.0 * 15.0 / 3.0, rel=0.03)


def test_frames_carry_utc_timestamps():
    assert str(make_transactions(5, seed=1, frame="pandas")["timestamp"].dt.tz) == "UTC"
    assert make_transactions(5, seed=1, frame="polars").schema["timestamp"] == pl.Datetime(
        "us", "UTC"
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_customers": 0},
        {"acquisition_weeks": 80.0, "observation_weeks": 52.0},
        {"params": {"r": -1.0, "alpha": 1.0, "a": 1.0, "b": 1.0}},
        {"frame": "excel"},
    ],
)
def test_bad_arguments(kwargs):
    with pytest.raises(ArgumentError):
        make_transactions(**{"n_customers": 10, **kwargs})
