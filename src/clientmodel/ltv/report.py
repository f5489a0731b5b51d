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
from typing import Any

import attrs

from clientmodel._validation import (
    check_bool,
    check_integer,
    check_mapping,
    check_number,
    check_text,
    key_path,
    read_key,
)
from clientmodel.errors import ArgumentError

__all__ = ["FitReport"]

_PATH = "fit_report"
_REQUIRED = (
    "log_likelihood",
    "n_observations",
    "n_distinct",
    "iterations",
    "gradient_norm",
    "converged",
    "method",
    "penalizer",
    "estimates",
    "standard_errors",
    "confidence_intervals",
)
_OPTIONAL = (
    "confidence_level",
    "message",
    "n_starts",
    "starts_agreed",
    "at_boundary",
    "warnings",
    "uncertainty_note",
    "aic",
    "bic",
    "covariance",
)


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
        check_mapping(data, path, required=_REQUIRED, optional=_OPTIONAL)

        def number(key: str) -> float:
            return read_key(data, key, path, check_number)

        def count(key: str) -> int:
            return read_key(data, key, path, lambda v, f: check_integer(v, f, minimum=0))

        estimates = _numbers(data["estimates"], key_path(path, "estimates"))
        return cls(
            log_likelihood=number("log_likelihood"),
            n_observations=number("n_observations"),
            n_distinct=count("n_distinct"),
            iterations=count("iterations"),
            gradient_norm=number("gradient_norm"),
            converged=read_key(data, "converged", path, check_bool),
            method=read_key(data, "method", path, check_text),
            penalizer=number("penalizer"),
            estimates=estimates,
            standard_errors=_numbers(
                data["standard_errors"], key_path(path, "standard_errors"), optional=True
            ),
            confidence_intervals=_intervals(
                data["confidence_intervals"], key_path(path, "confidence_intervals")
            ),
            confidence_level=number("confidence_level") if "confidence_level" in data else 0.95,
            message=_text(data, "message", path),
            n_starts=count("n_starts") if "n_starts" in data else 1,
            starts_agreed=count("starts_agreed") if "starts_agreed" in data else 1,
            at_boundary=(
                read_key(data, "at_boundary", path, check_bool) if "at_boundary" in data else False
            ),
            warnings=_texts(data.get("warnings", []), key_path(path, "warnings")),
            uncertainty_note=_text(data, "uncertainty_note", path),
            covariance=_covariance(data.get("covariance"), len(estimates), path),
        )


def _covariance(value: Any, size: int, path: str) -> tuple[tuple[float, ...], ...] | None:
    if value is None:
        return None
    field = key_path(path, "covariance")
    rows = value if isinstance(value, (list, tuple)) else None
    if (
        rows is None
        or len(rows) != size
        or any(not isinstance(row, (list, tuple)) or len(row) != size for row in rows)
    ):
        raise ArgumentError(
            f"{field} must be null or a {size} x {size} list of lists (one row and column per "
            f"estimate), got {value!r}",
            field=field,
        )
    return tuple(
        tuple(check_number(v, key_path(field, i, j)) for j, v in enumerate(row))
        for i, row in enumerate(rows)
    )


def _text(data: Mapping[str, Any], key: str, path: str) -> str:
    if key not in data:
        return ""
    return read_key(data, key, path, lambda v, f: check_text(v, f, allow_blank=True))


def _texts(value: Any, path: str) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)):
        raise ArgumentError(f"{path} must be a list of texts, got {value!r}", field=path)
    return tuple(check_text(v, key_path(path, i), allow_blank=True) for i, v in enumerate(value))


def _numbers(value: Any, path: str, *, optional: bool = False) -> dict[str, Any]:
    mapping = check_mapping(value, path)
    out: dict[str, Any] = {}
    for key, v in mapping.items():
        field = key_path(path, str(key))
        out[str(key)] = None if optional and v is None else check_number(v, field)
    return out


def _intervals(value: Any, path: str) -> dict[str, tuple[float, float] | None]:
    mapping = check_mapping(value, path)
    out: dict[str, tuple[float, float] | None] = {}
    for key, v in mapping.items():
        field = key_path(path, str(key))
        if v is None:
            out[str(key)] = None
            continue
        if not isinstance(v, (list, tuple)) or len(v) != 2:
            raise ArgumentError(
                f"{field} must be a pair [low, high] or null, got {v!r}", field=field
            )
        out[str(key)] = (
            check_number(v[0], key_path(field, 0)),
            check_number(v[1], key_path(field, 1)),
        )
    return out
