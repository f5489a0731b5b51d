"""Optional matplotlib figures (install the ``plot`` extra: ``pip install 'clientmodel[plot]'``).

matplotlib is imported only when a plotting function is called, so importing this package costs
nothing and works without matplotlib. Every function draws on the ``ax`` it is given (or on a new
figure's axes) and returns that :class:`matplotlib.axes.Axes`.
"""

from clientmodel.plotting._mpl import MissingDependencyError
from clientmodel.plotting.ltv import (
    plot_calibration_holdout,
    plot_frequency_histogram,
    plot_p_alive_matrix,
    plot_tracking,
)

__all__ = [
    "MissingDependencyError",
    "plot_calibration_holdout",
    "plot_frequency_histogram",
    "plot_p_alive_matrix",
    "plot_tracking",
]
