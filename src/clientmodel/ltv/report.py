"""How a model fit went: :class:`FitReport`, the record every fitted model carries.

A fit tries several starting points, keeps the best log-likelihood and says how many starts
reached it (``n_starts``, ``starts_agreed``). An optimum on the edge of the parameter space (for
example ``a, b -> infinity`` in the BG/NBD: no evidence of dropout in this data) is flagged with
``at_boundary`` and explained in ``warnings``. Uncertainty that cannot be computed (a singular or
non-finite observed information) is ``None`` per parameter, with the reason in
``uncertainty_note``, never an exception.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import attrs

from clientmodel._validation import count_reader, read_form
from clientmodel.errors import ArgumentError

__all__ = ["FitReport"]

_PATH = "fit_report"


def _read_only(value: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only copy: a frozen report shares no mutable state with its input."""
    return MappingProxyType(dict(value))


def _matrix(value: Any) -> tuple[tuple[float, ...], ...]:
    """A read-only copy of a square matrix as nested tuples of floats."""
    return tuple(tuple(float(v) for v in row) for row in value)


@attrs.frozen
class FitReport:
    """How a fit went: the optimum, its quality and the uncertainty of each parameter.

    Attributes
    ----------
    log_likelihood:
        Total (weighted) log-likelihood at the estimates.
    n_observations:
        Customers (sum of weights) the model was fitted on.
    n_distinct:
        Distinct histories the likelihood was evaluated on.
    iterations:
        Optimiser iterations of the kept start.
    gradient_norm:
        Norm of the gradient w.r.t. the log-parameters at the estimates.
    converged:
        The optimiser reached a point where the gradient vanishes (possibly on the boundary:
        see ``at_boundary``).
    method:
        The optimiser of the kept start.
    penalizer:
        L2 penalty used.
    estimates:
        Parameter -> estimate.
    standard_errors, confidence_intervals:
        Parameter -> value, or ``None`` when the data do not identify it (see
        ``uncertainty_note``).
    confidence_level:
        Level of the intervals.
    message:
        The optimiser's message.
    n_starts:
        Starting points that reached an optimum.
    starts_agreed:
        Of those, how many reached the kept (best) log-likelihood; fewer than ``n_starts``
        means the likelihood has several local optima.
    at_boundary:
        The optimum lies on the edge of the parameter space (a parameter ran to 0 or infinity);
        ``warnings`` says what that means for the data.
    warnings:
        Plain-language warnings about the fit.
    uncertainty_note:
        Why standard errors are missing, when they are.
    covariance:
        Asymptotic covariance of the log-parameters (the inverse observed information), rows
        and columns in the order of ``estimates``; ``None`` when it cannot be computed (see
        ``uncertainty_note``). Prediction intervals draw parameters from it.

    Examples
    --------
    >>> from clientmodel.ltv import BGNBD
    >>> sim = BGNBD(r=0.25, alpha=4.0, a=0.8, b=2.5).simulate(1000, 39.0, seed=3)
    >>> report = BGNBD.fit(sim).fit_report
    >>> report.at_boundary, report.starts_agreed >= 1
    (False, True)
    >>> FitReport.from_dict(report.to_dict()) == report
    True
    """

    log_likelihood: float
    n_observations: float
    n_distinct: int
    iterations: int
    gradient_norm: float
    converged: bool
    method: str
    penalizer: float
    estimates: Mapping[str, float] = attrs.field(converter=_read_only)
    standard_errors: Mapping[str, float | None] = attrs.field(converter=_read_only)
    confidence_intervals: Mapping[str, tuple[float, float] | None] = attrs.field(
        converter=_read_only
    )
    confidence_level: float = 0.95
    message: str = ""
    n_starts: int = 1
    starts_agreed: int = 1
    at_boundary: bool = False
    warnings: tuple[str, ...] = ()
    uncertainty_note: str = ""
    covariance: tuple[tuple[float, ...], ...] | None = attrs.field(
        default=None, converter=attrs.converters.optional(_matrix)
    )

    _FORM: ClassVar[dict[str, Any]] = {
        "n_distinct": count_reader,
        "iterations": count_reader,
        "n_starts": count_reader,
        "starts_agreed": count_reader,
    }

    def __attrs_post_init__(self) -> None:
        names = list(self.estimates)
        for key in ("standard_errors", "confidence_intervals"):
            if list(getattr(self, key)) != names:
                raise ArgumentError(
                    f"{key} must name the parameters of estimates, {names}, in that order; got "
                    f"{list(getattr(self, key))}",
                    field=key,
                )
        for name, pair in self.confidence_intervals.items():
            if pair is not None and not pair[0] <= self.estimates[name] <= pair[1]:
                raise ArgumentError(
                    f"confidence_intervals.{name} = {list(pair)} must hold the estimate "
                    f"{self.estimates[name]} between low and high",
                    field=f"confidence_intervals.{name}",
                )
        if self.covariance is not None and (
            len(self.covariance) != len(names)
            or any(len(row) != len(names) for row in self.covariance)
        ):
            raise ArgumentError(
                f"covariance must be {len(names)} x {len(names)} (one row and column per estimate)",
                field="covariance",
            )
        if self.starts_agreed > self.n_starts:
            raise ArgumentError(
                f"starts_agreed={self.starts_agreed} exceeds n_starts={self.n_starts}",
                field="starts_agreed",
            )
        if not 0 < self.confidence_level < 1:
            raise ArgumentError(
                f"confidence_level={self.confidence_level} must be between 0 and 1",
                field="confidence_level",
            )

    @property
    def n_parameters(self) -> int:
        """Number of free parameters."""
        return len(self.estimates)

    @property
    def aic(self) -> float:
        """Akaike information criterion, ``2k - 2 LL``."""
        return 2.0 * self.n_parameters - 2.0 * self.log_likelihood

    @property
    def bic(self) -> float:
        """Bayesian information criterion, ``k ln n - 2 LL`` with ``n`` the customers (weights)."""
        return (
            self.n_parameters * math.log(max(self.n_observations, 1.0)) - 2.0 * self.log_likelihood
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-safe values (no numpy types)."""
        return {
            "log_likelihood": float(self.log_likelihood),
            "n_observations": float(self.n_observations),
            "n_distinct": int(self.n_distinct),
            "iterations": int(self.iterations),
            "gradient_norm": float(self.gradient_norm),
            "converged": bool(self.converged),
            "method": self.method,
            "penalizer": float(self.penalizer),
            "estimates": {k: float(v) for k, v in self.estimates.items()},
            "standard_errors": {
                k: (None if v is None else float(v)) for k, v in self.standard_errors.items()
            },
            "confidence_intervals": {
                k: (None if v is None else [float(v[0]), float(v[1])])
                for k, v in self.confidence_intervals.items()
            },
            "confidence_level": float(self.confidence_level),
            "message": self.message,
            "n_starts": int(self.n_starts),
            "starts_agreed": int(self.starts_agreed),
            "at_boundary": bool(self.at_boundary),
            "warnings": list(self.warnings),
            "uncertainty_note": self.uncertainty_note,
            "aic": float(self.aic),
            "bic": float(self.bic),
            "covariance": None
            if self.covariance is None
            else [list(row) for row in self.covariance],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: str = _PATH) -> FitReport:
        """Rebuild a report written by :meth:`to_dict`; ``ArgumentError`` names a bad key path."""
        return read_form(cls, data, path=path)
