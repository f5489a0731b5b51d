"""The one place matplotlib is imported, lazily, with a helpful message when it is missing."""

from __future__ import annotations

from typing import Any

from clientmodel.errors import ArgumentError, ClientModelError

__all__ = ["MissingDependencyError", "axes", "colormap", "needs", "pyplot", "unit_name"]


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


def axes(ax: Any, size: tuple[float, float] | None = None, *, field: str = "ax") -> Any:
    """The caller's axes, or the axes of a new figure (of ``size`` inches) laid out to fit."""
    plt = pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    else:
        from matplotlib.axes import Axes

        if not isinstance(ax, Axes):
            raise ArgumentError(
                f"{field} must be matplotlib Axes (as plt.subplots() returns them) or None, got "
                f"{type(ax).__name__}",
                field=field,
            )
    return ax


def colormap(name: Any) -> str:
    """``name`` if matplotlib knows the colour map, else an error with the closest names."""
    from clientmodel._validation import check_choice

    return check_choice(name, "cmap", sorted(pyplot().colormaps()))


def needs(value: Any, methods: tuple[str, ...], field: str, what: str) -> None:
    """Refuse ``value`` unless it has every method of ``methods`` (a fitted model's)."""
    if not all(callable(getattr(value, m, None)) for m in methods):
        raise ArgumentError(
            f"{field} must be {what} (with {', '.join(methods)}), got {type(value).__name__}",
            field=field,
        )


_UNITS = {"D": "days", "W": "weeks", "M": "months", "Q": "quarters", "Y": "years"}


def unit_name(unit: str | None, *, one: bool = False) -> str:
    """``"weeks"`` for ``"W"`` (``"week"`` with ``one``); ``"time units"`` when it is not known."""
    if unit is None:
        return "time unit" if one else "time units"
    from clientmodel.periods import parse_unit

    name = _UNITS[parse_unit(unit)]
    return name[:-1] if one else name
