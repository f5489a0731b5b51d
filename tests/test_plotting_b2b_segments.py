"""Segment and funnel figures draw exactly the numbers they are given (Agg backend)."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from clientmodel.datasets.deals import make_deals
from clientmodel.errors import ArgumentError
from clientmodel.funnel import conversion, fit_chain, simulate_bookings, stage_events
from clientmodel.plotting import (
    plot_cohort_retention,
    plot_forecast_fan,
    plot_funnel,
    plot_rfm_heatmap,
    plot_segment_sizes,
)
from clientmodel.segments import cohort_table


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_rfm_heatmap_cells_and_orientation():
    grid = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
    ax = plot_rfm_heatmap(grid)
    image = ax.images[0]
    np.testing.assert_array_equal(image.get_array(), grid)
    assert image.origin == "lower"  # R score 1 at the bottom, 5 at the top
    assert [t.get_text() for t in ax.texts] == [str(int(v)) for v in grid.ravel()]


def test_rfm_heatmap_colorbar_says_what_the_cells_hold():
    ax = plot_rfm_heatmap([[1.0, 2.0], [3.0, 4.0]])
    assert ax.images[0].colorbar.ax.get_ylabel() == "Customers"
    ax = plot_rfm_heatmap([[1.0, 2.0], [3.0, 4.0]], label="Revenue (EUR)")
    assert ax.images[0].colorbar.ax.get_ylabel() == "Revenue (EUR)"


def test_rfm_heatmap_rejects_a_non_square_grid():
    with pytest.raises(ArgumentError, match="square"):
        plot_rfm_heatmap([[1, 2, 3]])


def test_segment_sizes_largest_on_top_with_shares():
    ax = plot_segment_sizes({"Lost": 50, "Champions": 30, "New": 20})
    widths = [p.get_width() for p in ax.patches]
    assert widths == [20, 30, 50]  # bottom-up
    assert ax.texts[-1].get_text().strip() == "50 (50%)"
    with pytest.raises(ArgumentError):
        plot_segment_sizes([])


def test_cohort_retention_by_hand():
    # Cohort Jan: customers 1, 2; customer 1 buys again in Feb. Cohort Feb: customer 3.
    log = {
        "customer_id": [1, 2, 1, 3],
        "timestamp": ["2024-01-05", "2024-01-20", "2024-02-07", "2024-02-01"],
    }
    ax = plot_cohort_retention(cohort_table(log, as_of="2024-02-29", unit="M"))
    shown = np.ma.filled(ax.images[0].get_array(), np.nan)
    np.testing.assert_allclose(shown, [[1.0, 0.5], [1.0, np.nan]])
    assert [t.get_text() for t in ax.texts] == ["100%", "50%", "100%"]
    # Period 0 (always 100%) does not set the colour scale; a labelled colour bar gives it.
    assert ax.images[0].get_clim() == (0.0, 0.5)
    assert "Share of the cohort" in ax.images[0].colorbar.ax.get_ylabel()
    assert ax.get_xlabel() == "Months since acquisition"


def test_funnel_bars_and_conversion_labels():
    ax = plot_funnel({"stage": ["lead", "qualified", "won"], "reached": [200, 50, 10]})
    assert [p.get_width() for p in ax.patches] == [200, 50, 10]
    ticks = {t.get_text(): y for t, y in zip(ax.get_yticklabels(), ax.get_yticks(), strict=True)}
    assert ticks["lead"] > ticks["qualified"] > ticks["won"]  # the first stage on top
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["200", "50", "25% of previous", "10", "20% of previous"]
    # Every label lies within the axes (once: "2 (65% of previou" cut inside a narrow bar).
    ax.figure.canvas.draw()
    box = ax.get_window_extent()
    for text in ax.texts:
        extent = text.get_window_extent()
        assert box.x0 <= extent.x0, text.get_text()
        assert extent.x1 <= box.x1 + 1, text.get_text()


def test_funnel_from_the_conversion_table_and_forecast_fan():
    data = make_deals(300, seed=3)
    events = stage_events(list(data.deals))
    table = conversion(events, pipeline=data.pipeline, as_of=data.as_of, tz="UTC")
    ax = plot_funnel(table)
    np.testing.assert_array_equal([p.get_width() for p in ax.patches], table["reached"])

    chain = fit_chain(list(data.deals), as_of=data.as_of, pipeline=data.pipeline)
    fc = simulate_bookings(
        data.deals, data.pipeline, as_of=data.as_of, chain=chain, n_draws=400, seed=2
    )
    fan = plot_forecast_fan(fc)
    np.testing.assert_allclose(fan.lines[0].get_ydata(), np.cumsum(fc.expected))
    # The band comes from cumulative draws, so P10 <= P50 <= P90 at every period.
    p50 = fan.lines[1].get_ydata()
    assert np.all(np.diff(p50) >= 0)
    with pytest.raises(ArgumentError):
        plot_forecast_fan("not a forecast")
