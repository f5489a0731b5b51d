"""Maximum likelihood on log-parameters, shared by every model in :mod:`clientmodel.ltv`.

A model hands :func:`maximize` a function of the log-parameters that returns the *total* weighted
log-likelihood and, where the maths gives it, its gradient with respect to the log-parameters.
Optimising on the log scale keeps every parameter positive without bounds the optimiser could
stick to. A model that also gives the Hessian (see :class:`Objective`) is fitted by a trust-region
Newton method, which needs a handful of evaluations; otherwise L-BFGS-B and BFGS work from the
gradient. The fit report carries the standard errors from the observed information (the analytic
Hessian, or central differences of the gradient) and confidence intervals built on the log
scale, so they never cross zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray
from scipy import optimize, stats

from clientmodel.errors import ConvergenceError
from clientmodel.ltv.report import FitReport

__all__ = [
    "Boundary",
    "FitReport",
    "Hessian",
    "Likelihood",
    "LogLikelihood",
    "Objective",
    "compress",
    "distinct_rows",
    "maximize",
]

#: f(log_params) -> (total log-likelihood, gradient w.r.t. log_params or None)
LogLikelihood = Callable[[NDArray[np.float64]], tuple[float, NDArray[np.float64] | None]]

# Log-parameters beyond this are treated as a runaway fit (e^30 ~ 1e13).
_LOG_BOUND = 30.0


def compress(
    *columns: NDArray[Any], weights: NDArray[Any] | None = None
) -> tuple[tuple[NDArray[Any], ...], NDArray[np.float64]]:
    """Collapse identical rows into distinct rows with summed weights.

    A likelihood evaluated on the distinct histories with their counts equals the one on every
    customer, and costs time in proportion to the distinct histories only. The distinct rows come
    out in lexicographic order (first column first) and each weight is the sum of its rows'
    weights taken in row order.

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
    maybe = [_column_codes(np.asarray(c)) for c in columns]
    coded = [cc for cc in maybe if cc is not None]
    sizes = [len(values) for values, _ in coded]
    if len(coded) < len(columns) or math.prod(sizes) >= 2**62:
        return _compress_lexsort(columns, w)
    # One int64 key per row whose order is the lexicographic order of the rows.
    key = coded[0][1].astype(np.int64)
    for (_, codes), size in zip(coded[1:], sizes[1:], strict=True):
        key *= size
        key += codes
    unit = weights is None or bool(np.all(w == 1.0))
    if unit:
        # Counts only: a sort of the keys gives the distinct keys and the size of each run.
        ordered = key
        ordered.sort()
        new = np.empty(n, dtype=bool)
        new[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
        starts = np.flatnonzero(new)
        distinct = ordered[starts]
        summed = np.diff(np.append(starts, n)).astype(np.float64)
    else:
        # Sum each run in the same (stable, row) order as a lexicographic sort would.
        order = np.argsort(key, kind="stable")
        ordered = key[order]
        new = np.empty(n, dtype=bool)
        new[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
        starts = np.flatnonzero(new)
        distinct = ordered[starts]
        summed = np.add.reduceat(w[order], starts)
    # Decode the distinct keys back into the columns' values.
    out: list[NDArray[Any]] = []
    rest = distinct
    for (values, _), size in zip(reversed(coded), reversed(sizes), strict=True):
        rest, code = np.divmod(rest, size)
        out.append(values[code])
    return tuple(reversed(out)), summed


def distinct_rows(*columns: NDArray[Any]) -> tuple[tuple[NDArray[Any], ...], NDArray[np.intp]]:
    """Distinct rows (in lexicographic order) and each row's index into them.

    Predictions that depend on a row only through a few of its columns are computed once per
    distinct combination and gathered back with the index.

    Examples
    --------
    >>> (x, t), index = distinct_rows(np.array([2, 1, 2]), np.array([5.0, 5.0, 5.0]))
    >>> x.tolist(), t.tolist(), index.tolist()
    ([1, 2], [5.0, 5.0], [1, 0, 1])
    """
    n = len(columns[0])
    order = np.lexsort(columns[::-1])
    ordered = [c[order] for c in columns]
    new = np.zeros(n, dtype=bool)
    new[:1] = True
    for c in ordered:
        new[1:] |= c[1:] != c[:-1]
    index = np.empty(n, dtype=np.intp)
    index[order] = np.cumsum(new) - 1
    return tuple(c[new] for c in ordered), index


# Odd 64-bit multipliers for multiplicative hashing of float bit patterns (fixed: deterministic).
_HASH_MULTIPLIERS = (
    np.uint64(0x9E3779B97F4A7C15),
    np.uint64(0xC2B2AE3D27D4EB4F),
    np.uint64(0x165667B19E3779F9),
    np.uint64(0xD6E8FEB86659FD93),
)
_HASH_MAX_DISTINCT = 1024


def _column_codes(c: NDArray[Any]) -> tuple[NDArray[Any], NDArray[np.integer[Any]]] | None:
    """Sorted candidate values of a column and each row's index into them (``None``: unsupported).

    The candidate values include every value of the column (integer columns may include absent
    values in between, which never show up in the result).
    """
    kind = c.dtype.kind
    if kind == "b":
        return np.array([False, True]), c.astype(np.int64)
    if kind in "iu":
        lo, hi = c.min(), c.max()
        if int(hi) - int(lo) < max(2 * len(c), 1024):
            values = np.arange(int(lo), int(hi) + 1).astype(c.dtype)
            return values, (c - lo).astype(np.int64)
        values, inverse = np.unique(c, return_inverse=True)
        return values, inverse.reshape(-1).astype(np.int64)
    if kind != "f" or c.ndim != 1 or bool(np.isnan(c).any()):
        return None
    if c.dtype == np.float64:
        # Distinct values from a sample first; a value it missed fails the hash's check.
        step = max(1, len(c) // _SAMPLE)
        values = np.unique(c[::step])
        codes = _hash_codes(c, values)
        if codes is None and step > 1:
            values = np.unique(c)
            codes = _hash_codes(c, values)
        if codes is not None:
            return values, codes
    else:
        values = np.unique(c)
    return values, np.searchsorted(values, c).astype(np.int64)


_SAMPLE = 1 << 16
_CHUNK = 1 << 15  # rows hashed at a time: the temporaries stay in cache


def _hash_codes(c: NDArray[Any], values: NDArray[Any]) -> NDArray[np.int32] | None:
    """Row -> index into ``values`` by a collision-free multiplicative hash of the bit patterns.

    Cheaper than a binary search per row when there are few distinct values. Every code is
    checked against the row's value, so ``None`` (fall back) is returned when a value is not
    among ``values`` (or is ``-0.0`` where ``values`` holds ``0.0``) or no collision-free
    multiplier is found.
    """
    m = len(values)
    if m > _HASH_MAX_DISTINCT:
        return None
    bits = min(20, 2 * max(1, math.ceil(math.log2(m))) + 2)
    shift = np.uint64(64 - bits)
    known = values.view(np.uint64)
    for mult in _HASH_MULTIPLIERS:
        slots = (known * mult) >> shift
        if len(np.unique(slots)) == m:
            break
    else:
        return None
    table = np.zeros(1 << bits, dtype=np.int32)
    table[slots] = np.arange(m, dtype=np.int32)
    n = len(c)
    codes = np.empty(n, dtype=np.int32)
    raw = c.view(np.uint64)
    hashed = np.empty(min(n, _CHUNK), dtype=np.uint64)
    back = np.empty(min(n, _CHUNK), dtype=c.dtype)
    for lo in range(0, n, _CHUNK):
        hi = min(n, lo + _CHUNK)
        h, b = hashed[: hi - lo], back[: hi - lo]
        np.multiply(raw[lo:hi], mult, out=h)
        np.right_shift(h, shift, out=h)
        np.take(table, h, out=codes[lo:hi])
        np.take(values, codes[lo:hi], out=b)
        if not np.array_equal(b, c[lo:hi]):
            return None
    return codes


def _compress_lexsort(
    columns: Sequence[NDArray[Any]], w: NDArray[np.float64]
) -> tuple[tuple[NDArray[Any], ...], NDArray[np.float64]]:
    """:func:`compress` by a lexicographic sort of the rows (any dtypes, NaN included)."""
    n = len(columns[0])
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


_Method = Literal["trust-exact", "L-BFGS-B", "BFGS"]

#: f(log_params) -> Hessian of the total log-likelihood w.r.t. the log-parameters
Hessian = Callable[[NDArray[np.float64]], NDArray[np.float64]]


#: f(estimates) -> plain-language warnings when the estimates lie on the edge of the model
Boundary = Callable[[Mapping[str, float]], list[str]]

# A log-parameter beyond this (a parameter above ~1e8 or below ~1e-8) has run to the edge.
_EDGE = 18.5


@attrs.frozen
class Likelihood:
    """What a model hands the template fit: its log-likelihood on the compressed data.

    ``loglik`` (and the optional ``hessian``) take the log-parameters; ``starts`` are the
    model's default starting points (natural scale).
    """

    loglik: LogLikelihood
    starts: Sequence[Sequence[float]]
    n_observations: float
    n_distinct: int
    hessian: Hessian | None = None
    #: The same likelihood on a coarsened (binned) copy of the data, with few distinct rows:
    #: when given, the starts run there and the best optimum is polished on the full data.
    coarse: Likelihood | None = None


@attrs.frozen
class _Optimum:
    z: NDArray[np.float64]
    value: float  # penalised log-likelihood (what is maximised)
    method: str
    iterations: int
    message: str
    converged: bool  # the gradient vanished (False: a supremum on the edge)


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
    hessian: Hessian | None = None,
    boundary: Boundary | None = None,
    coarse: Likelihood | None = None,
    ridges: Sequence[tuple[str, str, str]] = (),
) -> tuple[dict[str, float], FitReport]:
    """Maximise a log-likelihood over positive parameters from every start; keep the best.

    Parameters
    ----------
    loglik:
        Function of the log-parameters returning the total log-likelihood and its gradient
        (or ``None`` for the gradient, which is then taken by central differences).
    names:
        Parameter names, in the order of the log-parameter vector.
    starts:
        Starting points on the *natural* scale. Every start is run (a start converges when the
        per-customer gradient norm falls below 1e-4); the highest log-likelihood is kept and the
        report says how many starts reached it.
    penalizer:
        L2 penalty ``penalizer * sum(theta**2)`` subtracted from the log-likelihood (shrinks
        runaway parameters on small or degenerate data).
    hessian:
        Optional analytic Hessian of the log-likelihood w.r.t. the log-parameters. With it each
        start is first run by a trust-region Newton method (few evaluations near the optimum),
        and the standard errors use it instead of differences of the gradient.
    boundary:
        The model's reading of estimates on the edge of its parameter space: plain-language
        warnings (empty when the estimates are interior).
    coarse:
        The same likelihood on a binned copy of the data (few distinct rows). The starts then
        run there, and the best of them is polished by Newton steps on the full likelihood; the
        report counts the coarse starts that agreed and says so in its message. If the coarse
        optimum is not interior or the polish fails, every start runs on the full data.

    ridges:
        ``(shape, rate, what)`` pairs of a mixing distribution (gamma shape and rate, or beta
        a and b): when multiplying both by 10 (same mean, ten times less spread) does not lower
        the likelihood, the optimum lies at infinity along that ridge and the fit is reported on
        the boundary ("``what`` does not vary between customers"), wherever the search stopped.

    Returns
    -------
    The estimates (natural scale) and a :class:`FitReport`. Raises :class:`ConvergenceError`
    when no start reaches a finite optimum with a small gradient.

    Examples
    --------
    >>> data = np.array([0.5, 1.5, 1.0])
    >>> def loglik(z):  # exponential rate exp(z)
    ...     lam = float(np.exp(z[0]))
    ...     return 3 * z[0] - lam * data.sum(), np.array([3 - lam * data.sum()])
    >>> est, report = maximize(loglik, names=["lam"], starts=[[0.1], [5.0]],
    ...                        n_observations=3, n_distinct=3)
    >>> round(est["lam"], 6), report.n_starts, report.starts_agreed
    (1.0, 2, 2)
    """
    scale = max(n_observations, 1.0)  # per-customer scale keeps tolerances meaningful
    objective, objective_hessian = _objectives(loglik, hessian, penalizer, scale)
    methods: tuple[_Method, ...] = (
        ("trust-exact", "L-BFGS-B", "BFGS") if hessian is not None else ("L-BFGS-B", "BFGS")
    )
    attempts: list[str] = []
    found = None
    if coarse is not None:
        found = _coarse_then_full(
            coarse,
            objective,
            objective_hessian,
            starts,
            penalizer,
            scale,
            names,
            boundary,
            max_iterations,
            attempts,
            n_distinct,
        )
    if found is None:
        optima = _search(
            objective,
            objective_hessian,
            starts,
            methods,
            max_iterations,
            attempts,
            names,
            boundary,
            scale,
            polish=hessian is not None,
        )
        if optima:
            best = max(optima, key=lambda o: o.value)
            found = best, _agreed(optima, best.value), len(optima)
    if found is None:
        raise ConvergenceError(
            f"{model} fit did not converge from any of {len(starts)} starting point(s). "
            + "Try: a penalizer (e.g. penalizer=0.001), a larger time unit (weeks, not days), "
            + "checking the data for outliers, or your own starting values. Attempts: "
            + "; ".join(attempts[-4:])
        )
    best, agreed, n_optima = found
    z = best.z
    theta = np.exp(z)
    estimates = _natural(names, z)
    warnings = [
        f"{n} = {v:.6g} ran to the edge of the search: the data do not pin it down"
        for n, v, zi in zip(names, theta, z, strict=True)
        if abs(zi) > _EDGE
    ]
    if boundary is not None:
        warnings += boundary(estimates)
    warnings += _ridge_warnings(objective, z, names, ridges, warnings)
    if n_distinct <= len(names):
        warnings.append(
            f"only {n_distinct} distinct histor{'y' if n_distinct == 1 else 'ies'} for "
            f"{len(names)} parameters: the estimates are not identified by this data"
        )
    if not best.converged:
        warnings.append(
            "no start found an interior maximum: the likelihood keeps rising towards the edge "
            "of the parameter space, so the estimates are where the search stopped"
        )
    at_boundary = bool(warnings)
    with np.errstate(all="ignore"):
        value, grad_at = loglik(z)
        if at_boundary:
            hess = np.full((len(z), len(z)), np.nan)
        else:
            hess = _hessian(loglik, z) if hessian is None else hessian(z)
            if penalizer:
                hess = hess - np.diag(penalizer * 4.0 * theta**2)
    if at_boundary:
        se: dict[str, float | None] = dict.fromkeys(names)
        ci: dict[str, tuple[float, float] | None] = dict.fromkeys(names)
        note = (
            "not computed: the optimum is on the boundary of the parameter space, where the "
            "normal approximation behind standard errors does not hold"
        )
    else:
        se, ci, note = _uncertainty(hess, z, names, confidence_level)
    with np.errstate(all="ignore"):
        grad = _numeric_gradient(loglik, z) if grad_at is None else np.asarray(grad_at)
    if penalizer:
        grad = grad - penalizer * 2.0 * theta**2
    if agreed < n_optima:
        warnings.append(
            f"{n_optima - agreed} of {n_optima} starts stopped at a lower log-likelihood "
            "(the likelihood has several optima); the best one is kept"
        )
    report = FitReport(
        log_likelihood=float(value),
        n_observations=float(n_observations),
        n_distinct=int(n_distinct),
        iterations=best.iterations,
        gradient_norm=float(np.linalg.norm(grad)),
        converged=best.converged,
        method=best.method,
        penalizer=float(penalizer),
        estimates=estimates,
        standard_errors=se,
        confidence_intervals=ci,
        confidence_level=confidence_level,
        message=best.message,
        n_starts=n_optima,
        starts_agreed=agreed,
        at_boundary=at_boundary,
        warnings=tuple(warnings),
        uncertainty_note=note,
        covariance=None if at_boundary else _log_covariance(hess),
    )
    return estimates, report


def _ridge_warnings(
    objective: Callable[[NDArray[np.float64]], tuple[float, NDArray[np.float64]]],
    z: NDArray[np.float64],
    names: Sequence[str],
    ridges: Sequence[tuple[str, str, str]],
    already: Sequence[str],
) -> list[str]:
    """Mixing distributions whose likelihood keeps rising as they collapse to their mean.

    A flat ridge to infinity (shape and rate growing together) has a small gradient everywhere,
    so the search stops somewhere on it and calls that convergence; one step of ten along the
    ridge tells the two apart.
    """
    out: list[str] = []
    here = objective(z)[0]
    for shape, rate, what in ridges:
        if any(shape in w and "infinity" in w for w in already):
            continue  # the boundary hook has said it
        i, j = names.index(shape), names.index(rate)
        step = z.copy()
        step[[i, j]] += math.log(10.0)
        if objective(step)[0] <= here + 1e-12:
            out.append(
                f"the {what} do not vary between customers in this data ({shape} and {rate} run "
                "to infinity together; the likelihood only rises as they grow): every customer "
                f"has the same mean, {shape}/{rate} = {float(np.exp(z[i] - z[j])):.4g}"
            )
    return out


def _objectives(
    loglik: LogLikelihood, hessian: Hessian | None, penalizer: float, scale: float
) -> tuple[
    Callable[[NDArray[np.float64]], tuple[float, NDArray[np.float64]]],
    Callable[[NDArray[np.float64]], NDArray[np.float64]],
]:
    """The minimised objective (penalised, per customer) and its Hessian."""

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
        return -value / scale, -grad / scale

    def objective_hessian(z: NDArray[np.float64]) -> NDArray[np.float64]:
        if hessian is None:
            raise _NonFiniteHessian("no Hessian was given")
        hess = hessian(z)
        if penalizer:
            hess = hess - np.diag(penalizer * 4.0 * np.exp(2.0 * z))
        if not np.all(np.isfinite(hess)):
            raise _NonFiniteHessian
        out: NDArray[np.float64] = -hess / scale
        return out

    return objective, objective_hessian


def _search(
    objective: Callable[[NDArray[np.float64]], tuple[float, NDArray[np.float64]]],
    objective_hessian: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    starts: Sequence[Sequence[float]],
    methods: Sequence[_Method],
    max_iterations: int,
    attempts: list[str],
    names: Sequence[str],
    boundary: Boundary | None,
    scale: float,
    *,
    polish: bool,
) -> list[_Optimum]:
    """Every start run to its optimum (unexplained runaways left out)."""
    optima: list[_Optimum] = []
    for start in starts:
        found = _run_start(objective, objective_hessian, start, methods, max_iterations, attempts)
        if found is None:
            continue
        z, f, method, nit, message, converged = found
        if polish and converged:
            with np.errstate(all="ignore"):
                z, polished = _newton_polish(objective, objective_hessian, z)
            f, nit = objective(z)[0], nit + polished
        if not converged and not (boundary and boundary(_natural(names, z))):
            # A runaway the model cannot interpret (no known meaning of its edge) is a failure.
            continue
        optima.append(_Optimum(z, -f * scale, method, nit, message, converged))
    return optima


def _agreed(optima: Sequence[_Optimum], best: float) -> int:
    tolerance = 1e-6 * max(1.0, abs(best))
    return sum(1 for o in optima if best - o.value <= tolerance)


def _coarse_then_full(
    coarse: Likelihood,
    objective: Callable[[NDArray[np.float64]], tuple[float, NDArray[np.float64]]],
    objective_hessian: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    starts: Sequence[Sequence[float]],
    penalizer: float,
    scale: float,
    names: Sequence[str],
    boundary: Boundary | None,
    max_iterations: int,
    attempts: list[str],
    n_distinct: int,
    *,
    final: bool = True,
) -> tuple[_Optimum, int, int] | None:
    """Every start on the binned data, then Newton steps from the best on the full data.

    A binned likelihood with a coarser copy of its own is itself solved this way first (starts
    on the coarsest copy, polished level by level). ``final``: the full data are the fit's
    own, whose Hessian at the optimum is then needed anyway. ``None`` when the coarse optimum
    is not interior or the full-data steps do not bring the gradient down to the convergence
    tolerance (the caller then runs every start on the full data).
    """
    c_obj, c_hess = _objectives(coarse.loglik, coarse.hessian, penalizer, scale)
    inner = None
    if coarse.coarse is not None:  # a coarser copy still: the starts run there
        inner = _coarse_then_full(
            coarse.coarse,
            c_obj,
            c_hess,
            starts,
            penalizer,
            scale,
            names,
            boundary,
            max_iterations,
            attempts,
            coarse.n_distinct,
            final=False,
        )
    if inner is not None:
        best, agreed, n_optima = inner
        head = best.message
    else:
        methods: tuple[_Method, ...] = (
            ("trust-exact", "L-BFGS-B", "BFGS")
            if coarse.hessian is not None
            else ("L-BFGS-B", "BFGS")
        )
        optima = _search(
            c_obj,
            c_hess,
            starts,
            methods,
            max_iterations,
            attempts,
            names,
            boundary,
            scale,
            polish=False,
        )
        if not optima:
            return None
        best = max(optima, key=lambda o: o.value)
        agreed, n_optima = _agreed(optima, best.value), len(optima)
        head = (
            f"{n_optima} start(s) on {coarse.n_distinct:,} binned histories ({agreed} at the "
            "best log-likelihood there)"
        )
    if not best.converged or np.any(np.abs(best.z) > _EDGE):
        return None
    with np.errstate(all="ignore"):
        refined = _steps_with_fixed_hessian(
            objective, c_hess, best.z, objective_hessian if final else None
        )
        if refined is None:
            refined = _newton_to_optimum(objective, objective_hessian, best.z)
    if refined is None:
        attempts.append("Newton steps from the binned optimum did not converge")
        return None
    z, f, steps = refined
    where = f"all {n_distinct:,} histories" if final else f"{n_distinct:,} binned histories"
    message = f"{head}; the best polished by {steps} Newton step(s) on {where}"
    method = best.method if best.method.endswith("+newton") else f"{best.method}+newton"
    full = _Optimum(z, -f * scale, method, best.iterations + steps, message, True)
    return full, agreed, n_optima


def _steps_with_fixed_hessian(
    objective: Callable[[NDArray[np.float64]], tuple[float, NDArray[np.float64]]],
    coarse_hessian: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    z: NDArray[np.float64],
    full_hessian: Callable[[NDArray[np.float64]], NDArray[np.float64]] | None = None,
    max_steps: int = 10,
) -> tuple[NDArray[np.float64], float, int] | None:
    """Quasi-Newton steps on the full data from the binned optimum and the binned Hessian.

    The binned likelihood's curvature is the full one's up to the binning error, so steps with
    it converge fast while each needs only the full gradient (a cheaper pass than the
    Hessian); a BFGS update with each step's change of the gradient corrects the remaining
    curvature error. Once the gradient is small, the next point is likely the last, and with
    ``full_hessian`` it is evaluated with its Hessian in the same pass (the fit needs it there
    for the standard errors). Stops at a gradient norm (per customer) below 1e-8, or when a
    step fails to halve it once below 1e-4; ``None`` (full Newton then) when a step does not
    lower the objective or the convergence tolerance 1e-4 is not met.
    """
    try:
        h = coarse_hessian(z)
        np.linalg.cholesky(h)
    except (np.linalg.LinAlgError, _NonFiniteHessian):
        return None
    f, g = objective(z)
    norm = float(np.linalg.norm(g))
    steps = 0
    while norm >= 1e-8 and steps < max_steps:
        step = np.linalg.solve(h, -g)
        trial = z + step
        if full_hessian is not None and norm < 1e-5:
            try:
                full_hessian(trial)  # one pass for the value, gradient and Hessian
            except (np.linalg.LinAlgError, _NonFiniteHessian):
                return None
        f_new, g_new = objective(trial)
        new_norm = float(np.linalg.norm(g_new))
        if not (np.isfinite(f_new) and f_new <= f + 1e-13 * max(1.0, abs(f))):
            return None
        if new_norm > 0.5 * norm:
            if norm < 1e-4:
                break  # rounding limits the gradient from here
            return None
        change = g_new - g
        curvature = float(change @ step)
        if curvature > 0:  # BFGS update: keeps h positive definite
            hs = h @ step
            h = h - np.outer(hs, hs) / float(step @ hs) + np.outer(change, change) / curvature
        z, f, g, norm = trial, f_new, g_new, new_norm
        steps += 1
    if not norm < 1e-4:
        return None
    return z, f, steps


def _newton_to_optimum(
    objective: Callable[[NDArray[np.float64]], tuple[float, NDArray[np.float64]]],
    hessian: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    z: NDArray[np.float64],
    max_steps: int = 8,
) -> tuple[NDArray[np.float64], float, int] | None:
    """Newton's method (step halving on a rise of the objective) from a point near the optimum.

    Stops once the gradient norm (per customer) is below 1e-10, or when a step no longer
    lowers it after the convergence tolerance (1e-4) is met; ``None`` if that tolerance is
    never met or the Hessian is not positive definite on the way.
    """
    steps = 0
    while True:
        try:
            h = hessian(z)  # first: the objective then evaluates everything in one pass
            f, g = objective(z)
            norm = float(np.linalg.norm(g))
            if norm < 1e-10 or steps == max_steps:
                break
            np.linalg.cholesky(h)
            step = np.linalg.solve(h, -g)
        except (np.linalg.LinAlgError, _NonFiniteHessian):
            return None
        for _ in range(6):
            trial = z + step
            f_new, g_new = objective(trial)
            if np.isfinite(f_new) and f_new <= f + 1e-13 * max(1.0, abs(f)):
                break
            step = step / 2.0
        else:
            break
        if norm < 1e-4 and float(np.linalg.norm(g_new)) > 0.5 * norm:
            break  # converged: rounding now limits the gradient
        z = trial
        steps += 1
    if not norm < 1e-4:
        return None
    return z, f, steps


def _natural(names: Sequence[str], z: NDArray[np.float64]) -> dict[str, float]:
    return {n: float(t) for n, t in zip(names, np.exp(z), strict=True)}


def _run_start(
    objective: Callable[[NDArray[np.float64]], tuple[float, NDArray[np.float64]]],
    objective_hessian: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    start: Sequence[float],
    methods: Sequence[_Method],
    max_iterations: int,
    attempts: list[str],
) -> tuple[NDArray[np.float64], float, str, int, str, bool] | None:
    """One start run through the methods in turn until one converges.

    Returns the optimum, the objective there, the method, its iterations, its message and
    whether the gradient vanished there; a run that did not converge but ran to the edge of
    the parameter space is returned with ``False`` (a boundary supremum); ``None`` otherwise.
    """
    with np.errstate(all="ignore"):
        x0 = np.log(np.asarray(start, dtype=np.float64))
    shown = list(map(float, start))
    edge: tuple[NDArray[np.float64], float, str, int] | None = None
    if x0.shape != (len(shown),) or not np.all(np.isfinite(x0)):
        attempts.append(f"start {shown}: not all finite and > 0")
        return None
    for method in methods:
        try:
            with np.errstate(all="ignore"):
                res = _minimize(objective, objective_hessian, x0, method, max_iterations)
        except (_NonFiniteHessian, np.linalg.LinAlgError, ValueError, OverflowError) as exc:
            attempts.append(f"{method} from {shown}: {exc!r}")
            continue
        ok = bool(np.isfinite(res.fun) and res.fun < 1e299 and np.all(np.abs(res.x) < _LOG_BOUND))
        grad_norm = float(np.linalg.norm(res.jac)) if ok else math.inf
        attempts.append(f"{method} from {shown}: {res.message}")
        if ok and grad_norm < 1e-4:
            z = np.asarray(res.x, dtype=np.float64)
            return z, float(res.fun), method, int(res.nit), str(res.message), True
        if ok and (edge is None or res.fun < edge[1]) and np.any(np.abs(res.x) > _EDGE):
            # Still climbing towards the edge of the parameter space: no interior maximum.
            edge = (np.asarray(res.x, dtype=np.float64), float(res.fun), method, int(res.nit))
        x0 = res.x if ok else x0
    if edge is not None:
        return *edge, "the likelihood keeps rising towards the edge of the parameter space", False
    return None


def _newton_polish(
    objective: Callable[[NDArray[np.float64]], tuple[float, NDArray[np.float64]]],
    hessian: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    z: NDArray[np.float64],
    max_steps: int = 3,
) -> tuple[NDArray[np.float64], int]:
    """Plain Newton steps from a converged point while they shrink the gradient.

    A trust-region method judges steps by the change of the objective, which stalls once that
    change is below rounding (parameters then agree to about the square root of the machine
    precision); a Newton step judged by the gradient takes them the rest of the way. A step is
    kept only if the Hessian is positive definite there, the gradient norm at least halves and
    the objective does not rise beyond rounding.
    """
    f, g = objective(z)
    steps = 0
    for _ in range(max_steps):
        try:
            h = hessian(z)
            np.linalg.cholesky(h)
            step = np.linalg.solve(h, -g)
        except (np.linalg.LinAlgError, _NonFiniteHessian):
            break
        trial = z + step
        f_new, g_new = objective(trial)
        if not (
            np.isfinite(f_new)
            and f_new <= f + 1e-13 * max(1.0, abs(f))
            and np.linalg.norm(g_new) <= 0.5 * np.linalg.norm(g)
        ):
            break
        z, f, g = trial, f_new, g_new
        steps += 1
    return z, steps


class Objective:
    """A log-likelihood whose value, gradient and Hessian can be evaluated together.

    ``evaluate(theta, order)`` takes the *natural* parameters and returns the total
    log-likelihood with, for ``order`` 1 and 2, its gradient and Hessian w.r.t. the
    log-parameters (``None`` for what was not asked). :meth:`loglik` and :meth:`hessian` are what
    :func:`maximize` takes. They share the evaluation at the last point: once the Hessian has
    been asked for at a point (a Newton method asks at every point), later points are evaluated
    with it straight away; a gradient method, which never asks, only pays for gradients.
    """

    def __init__(
        self,
        evaluate: Callable[
            [NDArray[np.float64], int],
            tuple[float, NDArray[np.float64] | None, NDArray[np.float64] | None],
        ],
    ):
        self._evaluate = evaluate
        self._z: NDArray[np.float64] | None = None
        self._order = 0
        self._value = 0.0
        self._grad: NDArray[np.float64] | None = None
        self._hess: NDArray[np.float64] | None = None
        self._eager = False

    def _at(self, z: NDArray[np.float64], order: int) -> None:
        if self._z is None or not np.array_equal(z, self._z) or self._order < order:
            order = 2 if self._eager else order
            self._value, self._grad, self._hess = self._evaluate(np.exp(z), order)
            self._z = np.array(z, dtype=np.float64)
            self._order = order

    def loglik(self, z: NDArray[np.float64]) -> tuple[float, NDArray[np.float64] | None]:
        """Total log-likelihood and its gradient at the log-parameters ``z``."""
        self._at(z, 1)
        return self._value, self._grad

    def hessian(self, z: NDArray[np.float64]) -> NDArray[np.float64]:
        """Hessian of the total log-likelihood at the log-parameters ``z``."""
        self._eager = True
        self._at(z, 2)
        if self._hess is None:
            raise _NonFiniteHessian("no Hessian was evaluated")
        return self._hess


class _NonFiniteHessian(ArithmeticError):
    """The analytic Hessian is not finite at an accepted point: leave Newton to the others."""


def _minimize(
    objective: Callable[[NDArray[np.float64]], tuple[float, NDArray[np.float64]]],
    hessian: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    x0: NDArray[np.float64],
    method: _Method,
    max_iterations: int,
) -> optimize.OptimizeResult:
    res: optimize.OptimizeResult
    if method == "trust-exact":
        res = optimize.minimize(
            objective,
            x0,
            jac=True,
            hess=hessian,
            method=method,
            options={"maxiter": min(max_iterations, 200), "gtol": 1e-10},
        )
    elif method == "BFGS":
        res = optimize.minimize(
            objective,
            x0,
            jac=True,
            method=method,
            options={"maxiter": max_iterations, "gtol": 1e-9},
        )
    else:
        res = optimize.minimize(
            objective,
            x0,
            jac=True,
            method=method,
            options={"maxiter": max_iterations, "ftol": 1e-15, "gtol": 1e-10},
        )
    return res


def _log_covariance(hess: NDArray[np.float64]) -> NDArray[np.float64] | None:
    """Inverse observed information of the log-parameters, if finite and positive definite."""
    if not np.all(np.isfinite(hess)):
        return None
    try:
        inverse = np.asarray(np.linalg.inv(-hess), dtype=np.float64)
        cov = (inverse + inverse.T) / 2.0
        np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        return None
    return cov if bool(np.all(np.isfinite(cov))) else None


def _uncertainty(
    hess: NDArray[np.float64], z: NDArray[np.float64], names: Sequence[str], level: float
) -> tuple[dict[str, float | None], dict[str, tuple[float, float] | None], str]:
    """Standard errors (delta method) and log-scale confidence intervals from the Hessian.

    Whatever cannot be computed is ``None``, with the reason as the third value; nothing here
    raises (a near-singular information gives variances whose intervals overflow float64).
    """
    se: dict[str, float | None] = dict.fromkeys(names)
    ci: dict[str, tuple[float, float] | None] = dict.fromkeys(names)
    if not np.all(np.isfinite(hess)):
        return se, ci, "not computed: the observed information is not finite at the estimates"
    try:
        cov_log = np.linalg.inv(-hess)
    except np.linalg.LinAlgError:
        return se, ci, "not computed: the observed information is singular (the data do not "
        "identify the parameters)"
    zq = float(stats.norm.ppf(0.5 + level / 2))
    missing: list[str] = []
    for i, name in enumerate(names):
        var = float(cov_log[i, i])
        with np.errstate(all="ignore"):
            sd_log = np.sqrt(var) if var > 0 else math.nan
            theta = np.exp(z[i])
            bounds = np.exp(np.array([z[i] - zq * sd_log, z[i] + zq * sd_log]))
            error = theta * sd_log
        if not (np.isfinite(error) and np.all(np.isfinite(bounds)) and bounds[0] > 0):
            missing.append(name)
            continue
        se[name] = float(error)
        ci[name] = (float(bounds[0]), float(bounds[1]))
    note = ""
    if missing:
        note = (
            f"no standard error for {', '.join(missing)}: the observed information gives a "
            "variance that is not positive or an interval beyond float64 (the data hardly "
            "identify these parameters)"
        )
    return se, ci, note
