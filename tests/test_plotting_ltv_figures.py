"""Figures of issue 15 (item 5): P(alive) from purchase dates, exposure, spend density and
prediction intervals. Each test checks the numbers in the artists against a computation made
here, independently of the plotting code."""

from __future__ import annotations

import datetime as dt

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import stats

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import clientmodel.plotting as cp
from clientmodel.errors import ArgumentError, DataError
from clientmodel.ltv import BGNBD, GammaGamma, prediction_intervals

BG = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)  # Fader, Hardie & Lee (2005), CDNOW
GG = GammaGamma(p=6.25, q=3.74, gamma=15.44)  # Fader & Hardie (2013), CDNOW


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# -- P(alive) along one customer's history, from dates -----------------------------------------


@pytest.mark.parametrize(
    "dates",
    [
        [dt.date(2024, 1, 1), dt.date(2024, 2, 5), dt.date(2024, 2, 5), dt.date(2024, 3, 4)],
        [
            dt.datetime(2024, 1, 1, 9, tzinfo=dt.timezone.utc),
            dt.datetime(2024, 2, 5, 8, tzinfo=dt.timezone.utc),
            dt.datetime(2024, 2, 5, 20, tzinfo=dt.timezone.utc),
            dt.datetime(2024, 3, 4, 12, tzinfo=dt.timezone.utc),
        ],
        pd.to_datetime(["2024-03-04", "2024-01-01", "2024-02-05", "2024-02-05"]).to_numpy(),
        pd.Series(
            pd.to_datetime(
                ["2024-01-01 00:00", "2024-02-05 09:00", "2024-02-05 18:00", "2024-03-04 00:00"]
            )
        ),
    ],
    ids=["dates", "aware-datetimes", "datetime64", "series"],
)
def test_p_alive_history_from_dates_merges_same_day_purchases(dates):
    ax = cp.plot_p_alive_history(BG, dates, T=dt.date(2024, 9, 30), unit="W")
    x, y = ax.lines[0].get_xdata(), ax.lines[0].get_ydata()
    # 2024-01-01 -> 2024-02-05 is 35 days = 5 weeks, -> 2024-03-04 is 63 days = 9 weeks and
    # -> 2024-09-30 is 273 days = 39 weeks; the two purchases of 5 Feb are one order.
    np.testing.assert_allclose(ax.lines[1].get_xdata(), [0.0, 5.0, 9.0])
    assert x[-1] == pytest.approx(39.0)
    # FHL (2005) eq. 11 with x = 2, t_x = 9, T = 39, by hand:
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    by_hand = 1.0 / (1.0 + a / (b + 1.0) * ((alpha + 39.0) / (alpha + 9.0)) ** (r + 2.0))
    assert y[-1] == pytest.approx(by_hand, rel=1e-12)


def test_p_alive_history_from_dates_needs_a_unit_and_a_date_t():
    days = [dt.date(2024, 1, 1), dt.date(2024, 2, 5)]
    with pytest.raises(ArgumentError) as err:
        cp.plot_p_alive_history(BG, days, T=dt.date(2024, 9, 30))
    assert err.value.field == "unit"
    with pytest.raises(ArgumentError) as err:
        cp.plot_p_alive_history(BG, days, T=39.0, unit="W")
    assert err.value.field == "T"
    with pytest.raises(ArgumentError) as err:
        cp.plot_p_alive_history(BG, days, T=dt.date(2024, 1, 15), unit="W")
    assert err.value.field == "T"


# -- exposure ----------------------------------------------------------------------------------


def test_exposure_histograms_count_t_and_recency_on_shared_bins():
    sim = BG.simulate(500, np.random.default_rng(1).uniform(1.0, 52.0, 500), seed=2)
    ax = cp.plot_exposure(sim, unit="W", bins=12)
    heights = np.array([p.get_height() for p in ax.patches])
    edges = np.linspace(0.0, sim["T"].max(), 13)
    np.testing.assert_array_equal(heights[:12], np.histogram(sim["T"], edges)[0])
    np.testing.assert_array_equal(heights[12:], np.histogram(sim["recency"], edges)[0])
    assert ax.get_xlabel() == "Time since the first purchase (weeks)"
    assert ax.get_ylabel() == "Customers"


def test_exposure_refuses_recency_beyond_t_naming_the_row():
    with pytest.raises(DataError) as err:
        cp.plot_exposure({"recency": [1.0, 9.0], "T": [5.0, 4.0]})
    assert err.value.rows == (1,)


# -- spend density -----------------------------------------------------------------------------


def test_spend_density_is_the_beta_prime_mixture_over_frequencies():
    freq = np.repeat([1, 2, 5], [300, 200, 100])
    data = GG.simulate(len(freq), freq, seed=4)
    ax = cp.plot_spend_density(GG, data, bins=20)
    z, f = ax.lines[0].get_xdata(), ax.lines[0].get_ydata()
    # x zbar / gamma ~ BetaPrime(p x, q): nu gamma ~ Gamma(q) and x zbar nu ~ Gamma(p x).
    mix = sum(
        share * (x / 15.44) * stats.betaprime(6.25 * x, 3.74).pdf(x * z / 15.44)
        for x, share in ((1, 0.5), (2, 1 / 3), (5, 1 / 6))
    )
    np.testing.assert_allclose(f, mix, rtol=1e-10)
    heights = [p.get_height() for p in ax.patches]
    edges = np.linspace(0.0, np.percentile(data["monetary_value"], 99), 21)
    np.testing.assert_allclose(
        heights, np.histogram(data["monetary_value"], edges, density=True)[0]
    )
    assert "Mean spend per purchase" in ax.get_xlabel()


def test_spend_density_model_matches_simulated_means():
    """The model line against an independent simulation of 200,000 customers with 3 purchases:
    the histogram of their means (rescaled: np.histogram's density leaves out the 1% above the
    99th percentile) is the model density within sampling and binning error."""
    data = GG.simulate(200_000, 3, seed=5)
    ax = cp.plot_spend_density(GG, data, bins=40)
    z, f = ax.lines[0].get_xdata(), ax.lines[0].get_ydata()
    heights = np.array([p.get_height() for p in ax.patches]) * 0.99
    centres = np.array([p.get_x() + p.get_width() / 2 for p in ax.patches])
    model = np.interp(centres, z, f)
    bulk = heights > 0.1 * heights.max()
    np.testing.assert_allclose(heights[bulk], model[bulk], rtol=0.06)


def test_spend_density_needs_a_gamma_gamma_and_repeat_buyers():
    with pytest.raises(ArgumentError) as err:
        cp.plot_spend_density(BG, {"frequency": [1], "monetary_value": [2.0]})
    assert err.value.field == "model"
    with pytest.raises(DataError) as err:
        cp.plot_spend_density(GG, {"frequency": [1, 2], "monetary_value": [2.0, 0.0]})
    assert err.value.rows == (1,)


# -- prediction intervals as error bars --------------------------------------------------------


def test_prediction_interval_error_bars_are_the_intervals():
    model = BGNBD.fit(BG.simulate(1500, 39.0, seed=8))
    rows = {"frequency": [2, 0, 5, 1], "recency": [30.0, 0.0, 35.0, 2.0], "T": [39.0] * 4}
    pi = prediction_intervals(model, rows, "expected_purchases", horizon=52.0, draws=200, seed=0)
    ax = cp.plot_prediction_intervals(pi, labels=np.array(["a", "b", "c", "d"]), max_customers=3)
    points = ax.lines[0]
    np.testing.assert_allclose(points.get_ydata(), pi.estimate[:3])
    segments = ax.collections[0].get_segments()
    np.testing.assert_allclose([s[0][1] for s in segments], pi.lower[:3])
    np.testing.assert_allclose([s[1][1] for s in segments], pi.upper[:3])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert ax.get_xlabel() == "Customer (first 3 of 4)"
    assert ax.get_ylabel() == "Expected purchases, 95% interval"
    assert f"{pi.total_estimate:.4g}" in ax.get_title()
    with pytest.raises(ArgumentError) as err:
        cp.plot_prediction_intervals(pi, labels=["a"])
    assert err.value.field == "labels"
    with pytest.raises(ArgumentError) as err:
        cp.plot_prediction_intervals(pi.to_dict())
    assert err.value.field == "intervals"
