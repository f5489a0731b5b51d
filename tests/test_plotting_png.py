"""Every figure function renders a real PNG (read back: size, not blank) and draws its numbers."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from scipy import stats

matplotlib.use("Agg")
import matplotlib.image as mpimg
import matplotlib.pyplot as plt

import clientmodel.plotting as cp
from clientmodel.datasets import load_cdnow, make_deals, make_transactions
from clientmodel.errors import ArgumentError
from clientmodel.funnel import conversion, fit_chain, simulate_bookings, stage_events
from clientmodel.ltv import BGNBD, GammaGamma, ParetoNBD
from clientmodel.ltv.diagnostics import calibration_holdout_table, frequency_histogram, tracking
from clientmodel.segments import cohort_table, fit_rfm, rf_grid, rfm_values

BG = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)  # Fader, Hardie & Lee (2005), CDNOW
GG = GammaGamma(p=6.25, q=3.74, gamma=15.44)  # Fader & Hardie (2013), CDNOW
SIM = BG.simulate(400, 39.0, seed=4, holdout=39.0)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _rfm():
    log = make_transactions(400, seed=2, frame="pandas")
    values = rfm_values(log, as_of="2025-06-30")
    scored = fit_rfm(values).score(values, segments="default")
    return values, scored


def _deals():
    data = make_deals(200, seed=3)
    events = stage_events(list(data.deals))
    table = conversion(events, pipeline=data.pipeline, as_of=data.as_of, tz="UTC")
    chain = fit_chain(list(data.deals), as_of=data.as_of, pipeline=data.pipeline)
    fc = simulate_bookings(
        data.deals, data.pipeline, as_of=data.as_of, chain=chain, n_draws=200, seed=2
    )
    return table, fc


def _intervals():
    from clientmodel.ltv import prediction_intervals

    model = BGNBD.fit(BG.simulate(1000, 39.0, seed=8))
    return prediction_intervals(model, SIM, "expected_purchases", horizon=39.0, draws=100, seed=0)


def _figure(name):
    values, scored = _rfm() if name in {"rfm", "summary", "sizes", "heatmap"} else (None, None)
    if name == "histogram":
        return cp.plot_frequency_histogram(frequency_histogram(BG, SIM, max_n=6))
    if name == "holdout":
        return cp.plot_calibration_holdout(calibration_holdout_table(BG, SIM, duration=39.0))
    if name == "tracking":
        track = tracking(BG, [0.0, 1.0, 2.0], [3.0, 5.0, 9.0], times=np.arange(1.0, 13.0))
        return cp.plot_tracking(track, holdout_start=6.0, unit="W")
    if name == "matrix":
        return cp.plot_p_alive_matrix(BG, T=39.0, max_frequency=10, unit="W")
    if name == "history":
        return cp.plot_p_alive_history(BG, [0.0, 3.0, 4.5, 20.0], T=39.0, unit="W")
    if name == "heterogeneity":
        return cp.plot_heterogeneity(BG, unit="W")
    if name == "expected":
        return cp.plot_expected_purchases(BG, t_max=78.0, unit="W")
    if name == "exposure":
        return cp.plot_exposure(SIM, unit="W")
    if name == "spend":
        return cp.plot_spend_density(GG, GG.simulate(400, SIM["frequency"], seed=3))
    if name == "intervals":
        return cp.plot_prediction_intervals(_intervals())
    if name == "lorenz":
        return cp.plot_lorenz(np.random.default_rng(1).pareto(1.5, 500))
    if name == "rfm":
        return cp.plot_rfm_distributions(values)[0]
    if name == "summary":
        return cp.plot_segment_summary({**values, "segment": scored["segment"]})
    if name == "sizes":
        return cp.plot_segment_sizes(scored["segment"].tolist())
    if name == "heatmap":
        return cp.plot_rfm_heatmap(rf_grid(scored))
    if name == "cohorts":
        log = make_transactions(600, seed=1, frame="pandas")
        return cp.plot_cohort_retention(
            cohort_table(log, as_of="2024-09-30", unit="W", after_as_of="exclude")
        )
    table, fc = _deals()
    if name == "funnel":
        return cp.plot_funnel(table)
    return cp.plot_forecast_fan(fc)


FIGURES = ["histogram", "holdout", "tracking", "matrix", "history", "heterogeneity", "expected",
           "lorenz", "rfm", "summary", "sizes", "heatmap", "cohorts", "funnel", "fan",
           "exposure", "spend", "intervals"]  # fmt: skip


def test_every_public_figure_is_covered():
    # One PNG test per function in clientmodel.plotting (a new function needs a new case).
    assert len([n for n in cp.__all__ if n.startswith("plot_")]) == len(FIGURES)


@pytest.mark.parametrize("name", FIGURES)
def test_figure_renders_a_png(name, tmp_path):
    ax = _figure(name)
    path = tmp_path / f"{name}.png"
    ax.figure.savefig(path, dpi=60)
    pixels = mpimg.imread(path)
    height, width = pixels.shape[:2]
    assert width >= 300
    assert height >= 200
    rgb = pixels[..., :3]
    # Not blank: many pixels differ from white, and there is real contrast.
    assert (rgb.min(axis=2) < 0.9).mean() > 0.02
    assert rgb.std() > 0.1
    for axes in ax.figure.axes:
        if axes.get_label() == "<colorbar>":
            assert axes.get_ylabel(), f"{name}: colour bar without a label"
    assert ax.get_xlabel() or name in {"funnel"}, f"{name}: x axis without a label"


# -- the numbers of the new figures ------------------------------------------------------------


def test_p_alive_history_drops_between_purchases_and_matches_the_model():
    ax = cp.plot_p_alive_history(BG, [2.0, 5.0, 7.0], T=41.0, unit="W")
    x, y = ax.lines[0].get_xdata(), ax.lines[0].get_ydata()
    # Times are counted from the first purchase: the curve ends at T - 2 = 39 weeks.
    assert x[-1] == pytest.approx(39.0)
    expected_end = BG.p_alive({"frequency": 2, "recency": 5.0, "T": 39.0})
    assert y[-1] == pytest.approx(float(expected_end))
    # BG/NBD right after the 2nd repeat purchase (t_x = T): 1 / (1 + a / (b + x - 1))
    # = 1 / (1 + 0.793 / 3.426) = 0.81204 (FHL 2005, eq. 11), then decaying until T.
    after = np.searchsorted(x, 5.0)
    assert y[after] == pytest.approx(0.81204, abs=1e-5)
    assert y[after - 1] < y[after]  # the purchase lifts it
    assert np.all(np.diff(y[x > 5.0]) <= 1e-12)
    with pytest.raises(ArgumentError, match="T"):
        cp.plot_p_alive_history(BG, [0.0, 10.0], T=5.0)


def test_heterogeneity_densities_are_the_mixing_distributions():
    ax = cp.plot_heterogeneity(BG, which="dropout")
    x, y = ax.lines[0].get_xdata(), ax.lines[0].get_ydata()
    np.testing.assert_allclose(y, stats.beta(0.793, 2.426).pdf(x))
    ax = cp.plot_heterogeneity(ParetoNBD(r=0.55, alpha=10.58, s=0.61, beta=11.67), which="dropout")
    x, y = ax.lines[0].get_xdata(), ax.lines[0].get_ydata()
    np.testing.assert_allclose(y, stats.gamma(0.61, scale=1 / 11.67).pdf(x))
    # Mean spend per purchase p/nu with nu ~ Gamma(q, gamma): mean p * gamma / (q - 1).
    ax = cp.plot_heterogeneity(GG, which="spend")
    assert float(ax.lines[1].get_xdata()[0]) == pytest.approx(6.25 * 15.44 / 2.74)
    with pytest.raises(ArgumentError, match="which"):
        cp.plot_heterogeneity(GG, which="dropout")


def test_expected_purchases_curve_is_the_new_customer_expectation():
    ax = cp.plot_expected_purchases(BG, t_max=39.0, unit="W")
    y = ax.lines[0].get_ydata()
    # The curve ends at the model's own E[X(39)] for a new customer, rising all the way.
    assert y[-1] == pytest.approx(float(BG.expected_purchases_new(39.0)))
    assert np.all(np.diff(y) >= 0)
    assert "weeks" in ax.get_xlabel()


def test_lorenz_curve_and_gini_by_hand():
    # Four customers 1, 1, 1, 7: the curve passes (0.75, 0.3); Gini = 1 - sum of trapezoids
    # = 1 - 0.25 * (0.1 + 0.3 + 0.5 + 1.3) = 0.45.
    ax = cp.plot_lorenz([7.0, 1.0, 1.0, 1.0])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.0, 0.1, 0.2, 0.3, 1.0])
    assert "Gini 0.45" in ax.lines[0].get_label()
    # At 80% of customers the curve is at 0.3 + (0.05 / 0.25) * 0.7 = 0.44: the top 20% hold 56%.
    assert "top 20% hold 56%" in ax.texts[0].get_text()
    with pytest.raises(ArgumentError):
        cp.plot_lorenz([1.0, -2.0])


def test_segment_summary_shares_by_hand():
    t = {"segment": ["A", "A", "B", "C"], "monetary": [10.0, 30.0, 50.0, 10.0]}
    ax = cp.plot_segment_summary(t)
    widths = [p.get_width() for p in ax.patches]
    # Bottom-up by value share: C (25% of customers, 10%), A (50%, 40%), B (25%, 50%).
    assert widths == pytest.approx([0.25, 0.5, 0.25, 0.1, 0.4, 0.5])


def test_rfm_distributions_one_bar_per_order_count():
    axs = cp.plot_rfm_distributions({"days_since_last": [3, 40, 90], "orders": [1, 1, 3],
                                     "monetary": [10.0, 15.0, 40.0]})  # fmt: skip
    heights = [p.get_height() for p in axs[1].patches]
    assert heights == [2, 0, 1]


def test_tracking_from_the_cdnow_log_has_units():
    cdnow = load_cdnow()
    ax = cp.plot_tracking(tracking(BG, [0.0, 1.0], [2.0, 3.0], times=[1.0, 2.0, 3.0]), unit="W")
    assert ax.get_xlabel() == "Time since the origin (weeks)"
    assert len(cdnow.summary["T"]) == 2357
