"""Maximum likelihood on log-parameters, shared by every model in :mod:`clientmodel.ltv`.

A model hands :func:`maximize` a function of the log-parameters that returns the *total* weighted
log-likelihood and, where the maths gives it, its gradient with respect to the log-parameters.
Optimising on the log scale keeps every parameter positive without bounds the optimiser could
stick to. The fit report carries the standard errors from the observed information (the Hessian
of the log-likelihood, by central differences of the gradient) and confidence intervals built on
the log scale, so they never cross zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray
from scipy import optimize, stats

from clientmodel.errors import ConvergenceError

__all__ = ["FitReport", "LogLikelihood", "compress", "maximize"]

#: f(log_params) -> (total log-likelihood, gradient w.r.t. log_params or None)
LogLikelihood = Callable[[NDArray[np.float64]], tuple[float, NDArray[np.float64] | None]]

# Log-parameters beyond this are treated as a runaway fit (e^30 ~ 1e13).
_LOG_BOUND = 30.0


@attrs.frozen
class FitReport:
    """How a fit went: the optimum, its quality and the uncertainty of each parameter.

    ``standard_errors`` and ``confidence_intervals`` are ``None`` for a parameter when the observed
    information is singular there (the data do not identify it).
    """

    log_likelihood: float
    n_observations: float
    n_distinct: int
    iterations: int
    gradient_norm: float
    converged: bool
    method: str
    penalizer: float
    estimates: Mapping[str, float]
    standard_errors: Mapping[str, float | None]
    confidence_intervals: Mapping[str, tuple[float, float] | None]
    confidence_level: float = 0.95
    message: str = ""

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
            "aic": float(self.aic),
            "bic": float(self.bic),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FitReport:
        """Rebuild a report written by :meth:`to_dict`."""
        return cls(
            log_likelihood=float(data["log_likelihood"]),
            n_observations=float(data["n_observations"]),
            n_distinct=int(data["n_distinct"]),
            iterations=int(data["iterations"]),
            gradient_norm=float(data["gradient_norm"]),
            converged=bool(data["converged"]),
            method=str(data["method"]),
            penalizer=float(data["penalizer"]),
            estimates={k: float(v) for k, v in data["estimates"].items()},
            standard_errors={
                k: (None if v is None else float(v)) for k, v in data["standard_errors"].items()
            },
            confidence_intervals={
                k: (None if v is None else (float(v[0]), float(v[1])))
                for k, v in data["confidence_intervals"].items()
            },
            confidence_level=float(data.get("confidence_level", 0.95)),
            message=str(data.get("message", "")),
        )


def compress(
    *columns: NDArray[Any], weights: NDArray[Any] | None = None
) -> tuple[tuple[NDArray[Any], ...], NDArray[np.float64]]:
    """Collapse identical rows into distinct rows with summed weights.

    A likelihood evaluated on the distinct histories with their counts equals the one on every
    customer, and costs time in proportion to the distinct histories only.

    Examples
    --------
    >>> (x, t), w = compress(np.array([1, 1, 2]), np.array([5.0, 5.0, 6.0]))
    >>> x.tolist(), t.tolist(), w.tolist()
    ([1, 2], [5.0, 6.0], [2.0, 1.0])
    """
    n = len(columns[0])
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if n == 0:
        return tuple(c[:0] for c in columns), w[:0]
    order = np.lexsort(columns[::-1])
    sorted_cols = [c[order] for c in columns]
    new = np.zeros(n, dtype=bool)
    new[0] = True
    for c in sorted_cols:
        new[1:] |= c[1:] != c[:-1]
    starts = np.flatnonzero(new)
    summed = np.add.reduceat(w[order], starts)
    return tuple(c[starts] for c in sorted_cols), summed


def _numeric_gradient(f: LogLikelihood, x: NDArray[np.float64]) -> NDArray[np.float64]:
    g = np.empty_like(x)
    for i in range(len(x)):
        h = 1e-5 * max(1.0, abs(x[i]))
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e)[0] - f(x - e)[0]) / (2 * h)
    return g


def _gradient(f: LogLikelihood, x: NDArray[np.float64]) -> NDArray[np.float64]:
    g = f(x)[1]
    return _numeric_gradient(f, x) if g is None else np.asarray(g, dtype=np.float64)


def _hessian(f: LogLikelihood, x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Hessian of the log-likelihood w.r.t. the log-parameters, by central differences."""
    k = len(x)
    h = np.empty((k, k))
    for i in range(k):
        step = 1e-4 * max(1.0, abs(x[i]))
        e = np.zeros(k)
        e[i] = step
        h[:, i] = (_gradient(f, x + e) - _gradient(f, x - e)) / (2 * step)
    sym: NDArray[np.float64] = 0.5 * (h + h.T)
    return sym


def maximize(
    loglik: LogLikelihood,
    *,
    names: Sequence[str],
    starts: Sequence[Sequence[float]],
    n_observations: float,
    n_distinct: int,
    penalizer: float = 0.0,
    confidence_level: float = 0.95,
    model: str = "model",
    max_iterations: int = 2000,
) -> tuple[dict[str, float], FitReport]:
    """Maximise a log-likelihood over positive parameters, trying several starts.

    Parameters
    ----------
    loglik:
        Function of the log-parameters returning the total log-likelihood and its gradient
        (or ``None`` for the gradient, which is then taken by central differences).
    names:
        Parameter names, in the order of the log-parameter vector.
    starts:
        Starting points on the *natural* scale, tried in order until one converges (a start
        converges when the per-customer gradient norm falls below 1e-4).
    penalizer:
        L2 penalty ``penalizer * sum(theta**2)`` subtracted from the log-likelihood (shrinks
        runaway parameters on small or degenerate data).

    Returns
    -------
    The estimates (natural scale) and a :class:`FitReport`. Raises :class:`ConvergenceError`
    when no start reaches a finite optimum with a small gradient.
    """

    def objective(z: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        if np.any(np.abs(z) > _LOG_BOUND):
            return 1e300, np.zeros_like(z)
        value, grad = loglik(z)
        if grad is None:
            grad = _numeric_gradient(loglik, z)
        if penalizer:
            theta = np.exp(z)
            value -= penalizer * float(np.sum(theta**2))
            grad = grad - penalizer * 2.0 * theta**2
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return 1e300, np.zeros_like(z)
        scale = max(n_observations, 1.0)  # per-customer scale keeps tolerances meaningful
        return -value / scale, -grad / scale

    best: optimize.OptimizeResult | None = None
    best_method = ""
    attempts: list[str] = []
    for start in starts:
        x0 = np.log(np.asarray(start, dtype=np.float64))
        for method in ("L-BFGS-B", "BFGS"):
            with np.errstate(all="ignore"):
                res = optimize.minimize(
                    objective,
                    x0,
                    jac=True,
                    method=method,
                    options={"maxiter": max_iterations, "gtol": 1e-9}
                    if method == "BFGS"
                    else {"maxiter": max_iterations, "ftol": 1e-15, "gtol": 1e-10},
                )
            ok = bool(
                np.isfinite(res.fun) and res.fun < 1e299 and np.all(np.abs(res.x) < _LOG_BOUND)
            )
            grad_norm = float(np.linalg.norm(res.jac)) if ok else math.inf
            attempts.append(f"{method} from {list(map(float, start))}: {res.message}")
            if ok and grad_norm < 1e-4:
                best, best_method = res, method
                break
            x0 = res.x if ok else x0
        if best is not None:
            break
    if best is None:
        raise ConvergenceError(
            f"{model} fit did not converge from any of {len(starts)} starting point(s). "
            + "Try: a penalizer (e.g. penalizer=0.001), a larger time unit (weeks, not days), "
            + "checking the data for outliers, or your own starting values. Attempts: "
            + "; ".join(attempts[-4:])
        )
    z = np.asarray(best.x, dtype=np.float64)
    theta = np.exp(z)
    with np.errstate(all="ignore"):
        value = float(loglik(z)[0])
        hess = _hessian(loglik, z)
        if penalizer:
            hess = hess - np.diag(penalizer * 4.0 * theta**2)
    se, ci = _uncertainty(hess, z, names, confidence_level)
    grad = _gradient(loglik, z)
    if penalizer:
        grad = grad - penalizer * 2.0 * theta**2
    estimates = {n: float(t) for n, t in zip(names, theta, strict=True)}
    report = FitReport(
        log_likelihood=value,
        n_observations=float(n_observations),
        n_distinct=int(n_distinct),
        iterations=int(best.nit),
        gradient_norm=float(np.linalg.norm(grad)),
        converged=True,
        method=best_method,
        penalizer=float(penalizer),
        estimates=estimates,
        standard_errors=se,
        confidence_intervals=ci,
        confidence_level=confidence_level,
        message=str(best.message),
    )
    return estimates, report


def _uncertainty(
    hess: NDArray[np.float64], z: NDArray[np.float64], names: Sequence[str], level: float
) -> tuple[dict[str, float | None], dict[str, tuple[float, float] | None]]:
    """Standard errors (delta method) and log-scale confidence intervals from the Hessian."""
    se: dict[str, float | None] = dict.fromkeys(names)
    ci: dict[str, tuple[float, float] | None] = dict.fromkeys(names)
    if not np.all(np.isfinite(hess)):
        return se, ci
    try:
        cov_log = np.linalg.inv(-hess)
    except np.linalg.LinAlgError:
        return se, ci
    zq = float(stats.norm.ppf(0.5 + level / 2))
    for i, name in enumerate(names):
        var = cov_log[i, i]
        if not np.isfinite(var) or var <= 0:
            continue
        sd_log = math.sqrt(var)
        theta = math.exp(z[i])
        se[name] = theta * sd_log
        ci[name] = (math.exp(z[i] - zq * sd_log), math.exp(z[i] + zq * sd_log))
    return se, ci
