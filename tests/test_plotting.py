"""Plotting: each figure draws the numbers of its diagnostics result (Agg backend, no display)."""

from __future__ import annotations

import subprocess
import sys

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from clientmodel.errors import ArgumentError, ClientModelError
from clientmodel.ltv.bgnbd import BGNBD
from clientmodel.ltv.diagnostics import (
    calibration_holdout_table,
    frequency_histogram,
    prediction_matrix,
    tracking,
)
from clientmodel.plotting import (
    MissingDependencyError,
    plot_calibration_holdout,
    plot_frequency_histogram,
    plot_p_alive_matrix,
    plot_tracking,
)

BG = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)  # Fader, Hardie & Lee (2005), CDNOW
SIM = BG.simulate(1000, 39.0, seed=4, holdout=39.0)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_frequency_histogram_bars():
    hist = frequency_histogram(BG, SIM, max_n=5)
    ax = plot_frequency_histogram(hist)
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(heights[:6], hist.observed)
    np.testing.assert_allclose(heights[6:], hist.expected)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["0", "1", "2", "3", "4", "5+"]
    assert "chi-square" in ax.get_title()


def test_calibration_holdout_lines_on_given_axes():
    table = calibration_holdout_table(BG, SIM, duration=39.0, max_frequency=4)
    _, given = plt.subplots()
    ax = plot_calibration_holdout(table, ax=given, title="CDNOW-like")
    assert ax is given
    np.testing.assert_allclose(ax.lines[0].get_ydata(), table.actual)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), table.expected)
    assert ax.get_title() == "CDNOW-like"
    assert [t.get_text() for t in ax.get_xticklabels()][-1] == "4+"


def test_tracking_cumulative_and_incremental():
    track = tracking(BG, [0.0, 0.0, 2.0], [1.0, 3.5, 4.0], times=[1.0, 2.0, 3.0, 4.0])
    ax = plot_tracking(track, holdout_start=2.5)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [1.0, 1.0, 1.0, 3.0])
    np.testing.assert_allclose(ax.lines[1].get_ydata(), track.expected_cumulative)
    ax = plot_tracking(track, cumulative=False)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [1.0, 0.0, 0.0, 2.0])


def test_p_alive_matrix_heatmap():
    matrix = prediction_matrix(BG, T=39.0, max_frequency=8)
    ax = plot_p_alive_matrix(matrix)
    shown = ax.images[0].get_array()
    np.testing.assert_allclose(np.ma.filled(shown, np.nan), matrix.values)
    ax = plot_p_alive_matrix(BG, T=39.0, max_frequency=8)
    np.testing.assert_allclose(np.ma.filled(ax.images[0].get_array(), np.nan), matrix.values)


def test_wrong_inputs_are_argument_errors():
    with pytest.raises(ArgumentError, match="frequency_histogram"):
        plot_frequency_histogram({"n": [0, 1]})
    with pytest.raises(ArgumentError, match="needs T"):
        plot_p_alive_matrix(BG)
    with pytest.raises(ArgumentError, match="PredictionMatrix"):
        plot_p_alive_matrix(42)


def test_missing_matplotlib_says_to_install_the_plot_extra():
    # A fresh interpreter where importing matplotlib fails: the package still imports and a
    # plotting call raises an ImportError that names the extra.
    code = (
        "import sys; sys.modules['matplotlib'] = None; sys.modules['matplotlib.pyplot'] = None\n"
        "import clientmodel.plotting as p\n"
        "from clientmodel.ltv.bgnbd import BGNBD\n"
        "try:\n"
        "    p.plot_p_alive_matrix(BGNBD(r=0.2, alpha=4.0, a=0.8, b=2.4), T=39.0)\n"
        "except ImportError as e:\n"
        "    print(type(e).__name__, e.code, e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert out.startswith("MissingDependencyError missing_dependency")
    assert "clientmodel[plot]" in out
    assert issubclass(MissingDependencyError, ClientModelError)
