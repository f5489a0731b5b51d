"""Optional matplotlib figures (install the ``plot`` extra: ``pip install 'clientmodel[plot]'``).

matplotlib is imported only when a plotting function is called, so importing this package costs
nothing and works without matplotlib. Every function draws on the ``ax`` it is given (or on a new
figure's axes) and returns that :class:`matplotlib.axes.Axes`.
"""

from clientmodel.plotting._mpl import MissingDependencyError
from clientmodel.plotting.funnel import plot_forecast_fan, plot_funnel
from clientmodel.plotting.ltv import (
    plot_calibration_holdout,
    plot_expected_purchases,
    plot_exposure,
    plot_frequency_histogram,
    plot_heterogeneity,
    plot_lorenz,
    plot_p_alive_history,
    plot_p_alive_matrix,
    plot_prediction_intervals,
    plot_spend_density,
    plot_tracking,
)
from clientmodel.plotting.segments import (
    plot_cohort_retention,
    plot_rfm_distributions,
    plot_rfm_heatmap,
    plot_segment_sizes,
    plot_segment_summary,
)

__all__ = [
    "MissingDependencyError",
    "plot_calibration_holdout",
    "plot_cohort_retention",
    "plot_expected_purchases",
    "plot_exposure",
    "plot_forecast_fan",
    "plot_frequency_histogram",
    "plot_funnel",
    "plot_heterogeneity",
    "plot_lorenz",
    "plot_p_alive_history",
    "plot_p_alive_matrix",
    "plot_prediction_intervals",
    "plot_rfm_distributions",
    "plot_rfm_heatmap",
    "plot_segment_sizes",
    "plot_segment_summary",
    "plot_spend_density",
    "plot_tracking",
]
