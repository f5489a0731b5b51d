"""Bad inputs to clientmodel.plotting that leaked internal exceptions (issue 16).

Found by ``tools/probe_bad_inputs.py clientmodel.plotting``: each case below leaked an
``AttributeError`` or ``TypeError`` (``ax`` that is not matplotlib axes, a model that is not one),
numpy's ``TypeError``/``ValueError`` (text cells, a 10**20-bin histogram, "Maximum allowed size
exceeded" for a huge matrix), or matplotlib's ``ValueError`` (an unknown colour map) before the
fix, or hung (a text ``holdout_start``); each now raises a ClientModelError naming the argument.
"""

from __future__ import annotations

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from clientmodel.ltv import BGNBD
from clientmodel.ltv.diagnostics import frequency_histogram, prediction_matrix, tracking
from clientmodel.plotting import (
    plot_cohort_retention,
    plot_expected_purchases,
    plot_exposure,
    plot_frequency_histogram,
    plot_funnel,
    plot_lorenz,
    plot_p_alive_history,
    plot_p_alive_matrix,
    plot_rfm_distributions,
    plot_rfm_heatmap,
    plot_segment_sizes,
    plot_tracking,
)
from clientmodel.segments import cohort_table

from .conftest import bad, check_bad, marked, unknown_ids

XFAIL: dict[str, str] = {}

M = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)  # CDNOW, Fader, Hardie & Lee 2005
HIST = frequency_histogram(M, M.simulate(50, 39.0, seed=1))
TRACK = tracking(M, [0.0, 1.0], [2.0, 5.0], times=[1.0, 2.0, 3.0, 6.0])
RFM = {"days_since_last": [3, 40, 90], "orders": [5, 1, 2], "monetary": [120.0, 15.0, 40.0]}
FUNNEL = {"stage": ["lead", "won"], "reached": [10, 2]}
LOG = {"customer_id": [1, 1, 2], "timestamp": ["2024-01-05", "2024-02-07", "2024-02-01"]}
COHORTS = cohort_table(LOG, as_of="2024-02-29", unit="M")
EXPOSURE = {"recency": [0.0, 3.0], "T": [5.0, 12.0]}

CASES = [
    # --- ax that is not matplotlib axes (AttributeError on .bar/.plot before)
    *[
        bad(f"{name}-ax-{label}", lambda call=call, v=v: call(v), "ax")
        for name, call in (
            ("plot_frequency_histogram", lambda v: plot_frequency_histogram(HIST, ax=v)),
            ("plot_tracking", lambda v: plot_tracking(TRACK, ax=v)),
            ("plot_funnel", lambda v: plot_funnel(FUNNEL, ax=v)),
            ("plot_lorenz", lambda v: plot_lorenz([1.0, 2.0], ax=v)),
            ("plot_rfm_heatmap", lambda v: plot_rfm_heatmap([[1, 2], [3, 4]], ax=v)),
            ("plot_exposure", lambda v: plot_exposure(EXPOSURE, ax=v)),
        )
        for label, v in (("text", "ax"), ("int", 5), ("dict", {}))
    ],
    bad("plot_rfm_distributions-axs-int", lambda: plot_rfm_distributions(RFM, axs=5), "axs"),
    bad(
        "plot_rfm_distributions-axs-texts",
        lambda: plot_rfm_distributions(RFM, axs=["a", "b", "c"]),
        "axs",
    ),
    # --- numbers that are not (TypeError/ValueError inside numpy before)
    bad(
        "plot_rfm_distributions-bins-huge", lambda: plot_rfm_distributions(RFM, bins=10**20), "bins"
    ),
    bad("plot_rfm_distributions-bins-text", lambda: plot_rfm_distributions(RFM, bins="x"), "bins"),
    bad("plot_rfm_distributions-bins-neg", lambda: plot_rfm_distributions(RFM, bins=-1), "bins"),
    bad("plot_rfm_heatmap-grid-text", lambda: plot_rfm_heatmap("x"), "grid"),
    bad("plot_rfm_heatmap-grid-dict", lambda: plot_rfm_heatmap({"a": 1}), "grid"),
    bad("plot_rfm_heatmap-fmt-none", lambda: plot_rfm_heatmap([[1, 2], [3, 4]], fmt=None), "fmt"),
    bad(
        "plot_rfm_heatmap-fmt-bad-spec", lambda: plot_rfm_heatmap([[1, 2], [3, 4]], fmt="x"), "fmt"
    ),
    bad("plot_lorenz-values-text", lambda: plot_lorenz(["a", "b"]), "values"),
    bad("plot_segment_sizes-int", lambda: plot_segment_sizes(5), "segments"),
    bad("plot_segment_sizes-text-sizes", lambda: plot_segment_sizes({"a": "big"}), "segments"),
    bad(
        "plot_cohort_retention-max_periods-1e308",
        lambda: plot_cohort_retention(COHORTS, max_periods=1e308),
        "max_periods",
    ),
    bad(
        "plot_cohort_retention-max_periods-none",
        lambda: plot_cohort_retention(COHORTS, max_periods=None),
        "max_periods",
    ),
    bad(
        "plot_tracking-holdout_start-text",
        lambda: plot_tracking(TRACK, holdout_start="x"),
        "holdout_start",
    ),
    bad(
        "plot_tracking-holdout_start-dict",
        lambda: plot_tracking(TRACK, holdout_start={}),
        "holdout_start",
    ),
    # --- models and colour maps
    bad(
        "plot_p_alive_history-model-none",
        lambda: plot_p_alive_history(None, [0.0, 5.0], T=39.0),
        "model",
    ),
    bad(
        "plot_expected_purchases-model-float",
        lambda: plot_expected_purchases(1e308, t_max=10.0),
        "model",
    ),
    bad(
        "plot_p_alive_matrix-cmap-unknown",
        lambda: plot_p_alive_matrix(M, T=39.0, cmap="viridiss"),
        "cmap",
    ),
    bad(
        "plot_p_alive_matrix-cmap-list", lambda: plot_p_alive_matrix(M, T=39.0, cmap=["x"]), "cmap"
    ),
    bad(
        "plot_p_alive_matrix-max_frequency-huge",
        lambda: plot_p_alive_matrix(M, T=39.0, max_frequency=10**20),
        "max_frequency",
    ),
    bad(
        "prediction_matrix-max_frequency-huge",
        lambda: prediction_matrix(M, T=39.0, max_frequency=10**9),
        "max_frequency",
    ),
]


@pytest.mark.parametrize(("thunk", "names", "exc", "rows"), marked(CASES, XFAIL))
def test_bad_input(thunk, names, exc, rows):
    try:
        check_bad(thunk, exc=exc, names=names, rows=rows)
    finally:
        plt.close("all")


def test_xfail_ids_name_cases():
    assert unknown_ids(XFAIL, CASES) == []


def test_valid_calls_unchanged():
    """Given axes are drawn on; numpy arrays of axes are accepted; a known colour map is kept."""
    _fig, axs = plt.subplots(1, 3)
    assert plot_rfm_distributions(RFM, axs=axs)[0] is axs[0]
    ax = plot_p_alive_matrix(M, T=39.0, cmap="magma", max_frequency=3)
    assert ax.images[0].get_cmap().name == "magma"
    assert plot_rfm_heatmap([[5, 1], [2, 8]], fmt=".1f").texts[0].get_text() == "5.0"
    plt.close("all")
