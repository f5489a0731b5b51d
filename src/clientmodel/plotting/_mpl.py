"""The one place matplotlib is imported, lazily, with a helpful message when it is missing."""

from __future__ import annotations

from typing import Any

from clientmodel.errors import ClientModelError

__all__ = ["MissingDependencyError", "axes", "pyplot"]


class MissingDependencyError(ClientModelError, ImportError):
    """An optional dependency (here matplotlib) is not installed.

    Also an :class:`ImportError`, so ``except ImportError`` catches it.
    """

    code = "missing_dependency"


def pyplot() -> Any:
    """``matplotlib.pyplot``, or a :class:`MissingDependencyError` saying what to install."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise MissingDependencyError(
            "clientmodel.plotting needs matplotlib, which is not installed; install the 'plot' "
            "extra: pip install 'clientmodel[plot]' (or pip install matplotlib)",
            field="matplotlib",
        ) from exc
    return plt


def axes(ax: Any) -> Any:
    """The caller's axes, or the axes of a new figure."""
    plt = pyplot()
    if ax is None:
        _, ax = plt.subplots()
    return ax
