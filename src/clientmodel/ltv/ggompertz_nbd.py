"""The GGompertz/NBD model (Bemmaor & Glady 2012, "Modeling purchasing behavior with sudden
'death': a flexible customer lifetime model", Management Science 58(5)).

While alive, a customer buys at the rate ``lambda`` of a Poisson process, with
``lambda ~ Gamma(r, alpha)`` across customers (the NBD part, as in Pareto/NBD). Their lifetime
``tau`` is Gompertz, ``P(tau > t | eta) = exp(-eta (e^(b t) - 1))``, with the scale
``eta ~ Gamma(s, beta)`` across customers, so that the population survival is

    S(t) = (beta / (beta + e^(b t) - 1))^s.

``b > 0`` lets the hazard of dropping out grow (or, through the mixing, fall) with age; as
``b -> 0`` with ``beta / b`` held fixed the lifetime tends to Pareto/NBD's exponential-gamma one,
so Pareto/NBD is the limit ``b -> 0`` of this model.

The likelihood of a history ``(x, t_x, T)`` is

    L = Gamma(r+x) alpha^r / Gamma(r) * [ (alpha+T)^-(r+x) S(T)
        + integral_{t_x}^{T} (alpha+tau)^-(r+x) f(tau) dtau ],   f = -S',

"alive at ``T``" plus "died at some ``tau`` in ``(t_x, T]``". The integral has no closed form:
it is taken by Gauss-Legendre quadrature on nodes graded towards ``t_x`` (where the integrand is
largest), vectorised over the distinct histories, in log space.

Given survival to ``T`` the remaining lifetime is again a GGompertz lifetime with the same ``b``
and ``s`` and the scale ``beta_T = (beta + e^(b T) - 1) e^(-b T)``: the conditional predictions
reuse the new-customer formulas with ``(r + x, alpha + T, beta_T)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from clientmodel.errors import ArgumentError
from clientmodel.ltv._base import Prediction, SummaryData, output, positive, read_weights
from clientmodel.ltv._btyd import (
    check_count,
    check_time,
    check_times,
    fit_data,
    read_btyd,
    sim_setup,
)
from clientmodel.ltv._fitting import FitReport, Likelihood, distinct_rows
from clientmodel.ltv.contract import TransactionModel
from clientmodel.ltv.covariates import CovariateLinks

__all__ = ["GGompertzNBD"]

Array = NDArray[np.float64]

# Gauss-Legendre nodes of every integral over a time interval (see _graded).
_NODES = 64
_GL_X, _GL_W = np.polynomial.legendre.leggauss(_NODES)
_LOG_GL_W = np.log(_GL_W / 2.0)
# Beyond this exponent e^v overflows float64.
_EXP_MAX = 700.0
# A parameter b below this is the Pareto/NBD limit.
_PARETO_LIMIT_B = 1e-7
# Rows per block of the likelihood: its (rows x nodes) arrays stay at a few MiB.
_BLOCK = 8192


def _log_bq(v: Array, beta: Any) -> Array:
    """``log(beta + e^v - 1)`` for ``v >= 0``: a sum of two positive terms (no cancellation),
    rewritten as ``v + log1p((beta - 1) e^-v)`` only where ``e^v`` would overflow."""
    far = v > _EXP_MAX
    out: Array
    if not far.any():
        out = np.log(beta + np.expm1(v))
        return out
    with np.errstate(over="ignore"):
        near = np.log(beta + np.expm1(np.minimum(v, _EXP_MAX)))
    out = np.where(far, v + np.log1p((beta - 1.0) * np.exp(-v)), near)
    return out


def _graded(lo: Array, length: Array, h: Array) -> tuple[Array, Array]:
    """Nodes (rows x nodes) on ``[lo, lo + length]`` and their log weights.

    ``tau = lo + h (e^y - 1)`` with ``y`` on Gauss-Legendre nodes in ``[0, log(1 + length/h)]``:
    nodes are spaced about ``h`` apart near ``lo`` and in proportion to the distance from ``lo``
    further out, so an integrand that falls like a power or an exponential of scale ``h`` from
    ``lo`` is smooth in ``y`` and the rule converges fast. A row of length 0 gets weights of
    ``-inf`` (an integral of 0).
    """
    h = np.maximum(h, 1e-12 * (1.0 + length))
    span = np.log1p(length / h)
    y = (_GL_X[None, :] + 1.0) * (span[:, None] / 2.0)
    d = np.expm1(y)
    d *= h[:, None]
    # d tau / d y = h e^y: log w = log(GL weight) + log(span) + log(h) + y
    with np.errstate(divide="ignore"):
        y += (np.log(span) + np.log(h))[:, None]
    y += _LOG_GL_W[None, :]
    d += lo[:, None]
    return d, y


def _exp_rows(z: Array) -> tuple[Array, Array, Array]:
    """Row-wise log-sum-exp, the terms scaled by each row's largest (``z`` is overwritten with
    them) and their row sums (rows of ``-inf`` give ``-inf``, zeros and 0)."""
    top = np.max(z, axis=1)
    safe = np.where(np.isfinite(top), top, 0.0)
    z -= safe[:, None]
    with np.errstate(under="ignore"):
        e = np.exp(z, out=z)
    total = e.sum(axis=1)
    with np.errstate(divide="ignore"):
        lse = safe + np.log(total)
    return lse, e, total


def _lifetime_scale(b: float, s: float, beta_t: Array) -> Array:
    """The time over which the dropout density of a lifetime with scale ``beta_t`` changes."""
    return beta_t / ((s + 1.0) * b * (1.0 + beta_t))


class _Terms:
    """Per-row pieces of the log-likelihood and, when asked, their gradients (natural scale).

    ``theta`` holds the five parameters, each one number or one value per row (shape
    ``(5, rows)``): a fit with covariates evaluates every customer at its own ``alpha_i``,
    ``beta_i`` in one pass.
    """

    __slots__ = ("alive", "common", "dead", "g_alive", "g_common", "g_dead")

    def __init__(self, theta: Array, x: Array, tx: Array, t: Array, gradient: bool):
        per_row = np.broadcast_to(np.asarray(theta, dtype=np.float64).reshape(5, -1), (5, len(x)))
        r, alpha, b, s, beta = per_row
        k = r + x
        log_alpha, log_beta = np.log(alpha), np.log(beta)
        lb_t = _log_bq(b * t, beta)
        self.common = special.gammaln(k) - special.gammaln(r) + r * log_alpha
        self.alive = -k * np.log(alpha + t) + s * (log_beta - lb_t)
        # "died at tau in (t_x, T]": graded towards t_x, where (alpha+tau)^-(r+x) is largest.
        beta_tx = np.exp(_log_bq(b * tx, beta) - b * tx)
        h = np.minimum((alpha + tx) / (k + 1.0), _lifetime_scale(b, s, beta_tx))
        tau, ell = _graded(tx, t - tx, h)  # ell starts as the log weights
        bt = b[:, None] * tau
        lb = _log_bq(bt, beta[:, None])
        at = alpha[:, None] + tau
        log_at = np.log(at)
        # log of the integrand: -(r+x) log(alpha+tau) + b tau - (s+1) log(beta + e^(b tau) - 1)
        # + log(s b) + s log(beta), in place (these are rows x nodes arrays)
        ell += bt
        ell -= log_at * k[:, None]
        ell -= lb * (s + 1.0)[:, None]
        ell += (np.log(s * b) + s * log_beta)[:, None]
        self.dead, e, total = _exp_rows(ell)
        self.g_common = self.g_alive = self.g_dead = np.empty((0, 0))
        if not gradient:
            return
        zero = np.zeros_like(x, dtype=np.float64)
        self.g_common = np.stack(
            [special.digamma(k) - special.digamma(r) + log_alpha, r / alpha, zero, zero, zero]
        )
        self.g_alive = np.stack(
            [
                -np.log(alpha + t),
                -k / (alpha + t),
                -s * t * np.exp(b * t - lb_t),
                log_beta - lb_t,
                s / beta - s * np.exp(-lb_t),
            ]
        )

        scale = 1.0 / np.where(total > 0, total, 1.0)

        def mean(values: Array) -> Array:
            """Average over the nodes, the integrand as weights."""
            out: Array = np.einsum("ij,ij->i", e, values) * scale
            return out

        # 1 / (beta + e^(bt) - 1) and e^(bt) / (beta + e^(bt) - 1), in (0, 1/beta] and (0, 1)
        inv = np.exp(-lb)
        np.reciprocal(at, out=at)
        with np.errstate(over="ignore"):
            ratio = np.exp(bt - lb)
        ratio *= tau
        self.g_dead = np.stack(
            [
                -mean(log_at),
                -k * mean(at),
                1.0 / b + mean(tau) - (s + 1.0) * mean(ratio),
                1.0 / s + log_beta - mean(lb),
                s / beta - (s + 1.0) * mean(inv),
            ]
        )


def _row_gradients(theta: Array, x: Array, tx: Array, t: Array, w: Array) -> tuple[float, Array]:
    """Total weighted log-likelihood and each row's weighted gradient w.r.t. its own
    log-parameters (shape ``(5, rows)``); ``theta`` as in :class:`_Terms`. Rows are taken in
    blocks, so the quadrature's (rows x nodes) arrays stay small.

    ``log L = common + log(e^A + e^D)``; with ``p = e^A / (e^A + e^D)`` (alive at ``T``) the
    gradient is ``g_common + p g_A + (1 - p) g_D``, where ``g_D`` is the derivative of the
    log of the integral: the integrand's log-derivative averaged over the quadrature nodes with
    the integrand as weights (differentiating under the integral sign).
    """
    per_row = np.broadcast_to(np.asarray(theta, dtype=np.float64).reshape(5, -1), (5, len(x)))
    out = np.empty((5, len(x)))
    value = 0.0
    for lo in range(0, len(x), _BLOCK):
        sl = slice(lo, lo + _BLOCK)
        with np.errstate(all="ignore"):  # a non-finite value is refused by the optimiser
            terms = _Terms(per_row[:, sl], x[sl], tx[sl], t[sl], gradient=True)
            total = np.logaddexp(terms.alive, terms.dead)
            value += float(np.dot(w[sl], terms.common + total))
            p = np.exp(terms.alive - total)
            grad = terms.g_common + p * terms.g_alive + (1.0 - p) * np.nan_to_num(terms.g_dead)
        out[:, sl] = grad * w[sl] * per_row[:, sl]
    return value, out


def _loglik(theta: Array, x: Array, tx: Array, t: Array, w: Array) -> tuple[float, Array | None]:
    """Total weighted log-likelihood and its gradient w.r.t. the log-parameters (one set)."""
    value, rows = _row_gradients(theta, x, tx, t, w)
    return value, rows.sum(axis=1)


def _survival_integral(t: float, b: float, s: float, beta_t: Array) -> Array:
    """``integral_0^t (beta_t / (beta_t + e^(b u) - 1))^s du`` per value of ``beta_t``."""
    n = len(beta_t)
    if t == 0:
        return np.zeros(n)
    lo, length = np.zeros(n), np.full(n, float(t))
    h = beta_t / (s * b * (1.0 + beta_t))
    u, log_w = _graded(lo, length, h)
    log_s = s * (np.log(beta_t)[:, None] - _log_bq(b * u, beta_t[:, None]))
    out: Array = np.exp(log_w + log_s).sum(axis=1)
    return out


def _rows_likelihood(history: Sequence[Array], w: Array) -> Callable[[Array], tuple[float, Array]]:
    """The likelihood with one set of parameters per row (fits with covariates: every
    customer at its own ``alpha_i``, ``beta_i``, in one pass) and each row's gradient."""
    x, tx, t = history
    return lambda theta: _row_gradients(theta, x, tx, t, w)


def _row_predictions(
    base: Any,
    method: str,
    params: Mapping[str, Array],
    data: SummaryData,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Array | None:
    """P(alive) and expected purchases (one horizon or a path) of customers with covariates,
    every row at its own ``alpha_i``, ``beta_i`` in one pass; ``None`` for other methods."""
    alpha, beta = params["alpha"], params["beta"]
    if method == "p_alive" and not args and set(kwargs) <= {"horizon"}:
        horizon = kwargs.get("horizon", 0.0)
        check_time(horizon, "horizon")
        out: Array = base._p_alive_rows(data, float(horizon), alpha, beta)
        return out
    name = {"expected_purchases": "t", "expected_purchases_path": "times"}.get(method)
    if name is None or len(args) + len(kwargs) != 1 or set(kwargs) - {name}:
        return None  # another method, or arguments the plain method will judge
    value = args[0] if args else kwargs[name]
    if method == "expected_purchases":
        check_time(value, "t")
        out = base._expected_rows(data, np.array([float(value)]), alpha, beta)[:, 0]
        return out
    out = base._expected_rows(data, check_times(value), alpha, beta)
    return out


def _group_likelihood(
    history: Sequence[Array], w: Array
) -> Callable[[Array, int], tuple[float, Array | None, Array | None]]:
    """The likelihood of customers sharing one set of parameters (fits with covariates): the
    value and the analytic gradient (the quadrature has no Hessian)."""
    x, tx, t = history

    def evaluate(theta: Array, order: int) -> tuple[float, Array | None, Array | None]:
        value, grad = _loglik(theta, x, tx, t, w)
        return value, grad, None

    return evaluate


@attrs.frozen(kw_only=True)
class GGompertzNBD(TransactionModel):
    """GGompertz/NBD: Poisson purchases while alive, gamma-mixed Gompertz lifetimes.

    Attributes
    ----------
    r, alpha:
        Shape and rate of the gamma distribution of purchase rates ``lambda``.
    b:
        Gompertz rate of ageing: the individual hazard is ``eta b e^(b t)``.
    s, beta:
        Shape and rate of the gamma distribution of the Gompertz scale ``eta``.

    Examples
    --------
    >>> m = GGompertzNBD(r=0.7, alpha=6.0, b=0.03, s=0.6, beta=1.5)
    >>> round(m.expected_purchases_new(39.0), 4)
    3.5485
    """

    PARAMS: ClassVar[tuple[str, ...]] = ("r", "alpha", "b", "s", "beta")
    #: Parameters of the check suite and the docs' example (chosen, not published: a population
    #: with about half its customers gone within a year of weeks).
    EXAMPLE: ClassVar[dict[str, float]] = {"r": 0.7, "alpha": 6.0, "b": 0.03, "s": 0.6, "beta": 1.5}
    GAMMA_MIXTURES: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("r", "alpha", "purchase rates"),
        ("s", "beta", "Gompertz lifetime scales"),
    )
    BETA_MIXTURES: ClassVar[tuple[tuple[str, str, str], ...]] = ()
    #: Pareto/NBD is the limit b -> 0 (with beta / b fixed): on the edge, see ``lrtest``.
    NESTS: ClassVar[tuple[str, ...]] = ("ParetoNBD",)
    #: CLVTools' links: alpha_i = alpha exp(-g.x), beta_i = beta exp(-g.z) (the rate of the
    #: gamma of the Gompertz scale eta); the analytic gradient, no Hessian; every customer in
    #: one pass at its own parameters (``rows``).
    COVARIATES: ClassVar[CovariateLinks | None] = CovariateLinks(
        links=(None, ("purchase", -1.0), None, None, ("dropout", -1.0)),
        group=_group_likelihood,
        hessian=False,
        rows=_rows_likelihood,
        row_predictions=_row_predictions,
    )
    r: float = attrs.field(validator=positive)
    alpha: float = attrs.field(validator=positive)
    b: float = attrs.field(validator=positive)
    s: float = attrs.field(validator=positive)
    beta: float = attrs.field(validator=positive)
    fit_report: FitReport | None = attrs.field(default=None, eq=False, repr=False)

    @classmethod
    def _likelihood(
        cls, summary: Any, *, weights: str | ArrayLike | None, columns: Mapping[str, str] | None
    ) -> Likelihood:
        """Compressed (frequency, recency, T) histories; analytic gradient of the quadrature.

        Starts cover a short and a long lifetime scale and the Pareto/NBD-like corner (small
        ``b`` with ``beta / b`` of the order of the observation length).
        """
        x, tx, t, w = fit_data(summary, weights, columns, cls.__name__)

        def loglik(z: Array) -> tuple[float, Array | None]:
            return _loglik(np.exp(z), x, tx, t, w)

        scale = float(np.average(t, weights=w)) or 1.0
        default = [
            [1.0, scale, 1.0 / scale, 1.0, 1.0],
            [0.5, scale / 4.0, 0.1 / scale, 0.5, 0.5],
            [0.5, scale / 4.0, 0.01 / scale, 0.5, 0.0025],
            [1.0, 1.0, 3.0 / scale, 2.0, 10.0],
        ]
        return Likelihood(loglik, default, float(w.sum()), len(x))

    @classmethod
    def boundary_warnings(cls, estimates: Mapping[str, float]) -> list[str]:
        """The gamma-mixing warnings of every model, and ``b -> 0``: the Pareto/NBD limit.

        Examples
        --------
        >>> GGompertzNBD.boundary_warnings({"r": 0.5, "alpha": 5, "b": 1e-9, "s": 0.6,
        ...                                 "beta": 1e-8})[0][:32]
        'b = 1e-09 -> 0: the Pareto/NBD l'
        """
        out = super().boundary_warnings(estimates)
        if estimates["b"] < _PARETO_LIMIT_B:
            out.insert(
                0,
                f"b = {estimates['b']:.3g} -> 0: the Pareto/NBD limit (lifetimes do not age in "
                "this data); fit ParetoNBD instead, whose s and beta/b are the limit's "
                "parameters",
            )
        return out

    def _theta(self) -> Array:
        return np.array([self.r, self.alpha, self.b, self.s, self.beta])

    def log_likelihood_of(
        self,
        summary: Any,
        *,
        weights: str | ArrayLike | None = None,
        columns: Mapping[str, str] | None = None,
    ) -> float:
        """Total (weighted) log-likelihood of a customer summary at this model's parameters.

        Examples
        --------
        >>> m = GGompertzNBD(r=0.7, alpha=6.0, b=0.03, s=0.6, beta=1.5)
        >>> round(m.log_likelihood_of({"frequency": 0, "recency": 0.0, "T": 38.86}), 4)
        -1.1209
        """
        data = read_btyd(summary, columns)
        w = read_weights(summary, data, weights, columns)
        terms = _Terms(self._theta(), data["frequency"], data["recency"], data["T"], False)
        return float(np.dot(w, terms.common + np.logaddexp(terms.alive, terms.dead)))

    def _alive_now(self, data: SummaryData, alpha: Any = None, beta: Any = None) -> Array:
        """P(alive at T) given the history, computed once per distinct history (and per-row
        ``alpha``, ``beta`` when given: a customer with covariates)."""
        n = len(data["T"])
        a = np.broadcast_to(np.asarray(self.alpha if alpha is None else alpha, np.float64), (n,))
        be = np.broadcast_to(np.asarray(self.beta if beta is None else beta, np.float64), (n,))
        (x, tx, t, a, be), index = distinct_rows(
            data["frequency"], data["recency"], data["T"], a, be
        )
        theta = np.stack(
            [np.full(len(x), self.r), a, np.full(len(x), self.b), np.full(len(x), self.s), be]
        )
        terms = _Terms(theta, x, tx, t, False)
        p = np.exp(terms.alive - np.logaddexp(terms.alive, terms.dead))
        out: Array = np.clip(p, 0.0, 1.0)[index]
        return out

    def _beta_at(self, t: Array, beta: Any = None) -> Array:
        """Gompertz scale rate of a customer alive at age ``t``: ``(beta + e^(bt) - 1) e^(-bt)``."""
        bt = self.b * np.asarray(t, dtype=np.float64)
        out: Array = np.exp(_log_bq(bt, self.beta if beta is None else beta) - bt)
        return out

    def _mean_alive_time(self, t: float, beta_t: Array) -> Array:
        """Expected time alive in the next ``t`` of customers alive now with Gompertz scale
        rates ``beta_t`` (see :meth:`_beta_at`), once per distinct rate."""
        distinct, index = np.unique(beta_t, return_inverse=True)
        out: Array = _survival_integral(t, self.b, self.s, distinct)[index.reshape(-1)]
        return out

    def _p_alive_rows(self, data: SummaryData, horizon: float, alpha: Any, beta: Any) -> Array:
        """P(alive at ``T + horizon``) per row, at per-row (or common) ``alpha``, ``beta``."""
        alive = self._alive_now(data, alpha, beta)
        if horizon > 0:
            beta_t = self._beta_at(data["T"], beta)
            alive = alive * np.exp(
                self.s * (np.log(beta_t) - _log_bq(np.asarray(self.b * horizon), beta_t))
            )
        return alive

    def _expected_rows(self, data: SummaryData, times: Array, alpha: Any, beta: Any) -> Array:
        """Expected purchases in ``(T, T + t]`` per row (axis 0) and horizon (axis 1)."""
        factor = self._alive_now(data, alpha, beta) * (self.r + data["frequency"])
        factor = factor / (alpha + data["T"])
        beta_t = self._beta_at(data["T"], beta)
        path = np.column_stack([self._mean_alive_time(float(v), beta_t) for v in times])
        out: Array = factor[:, None] * path
        return out

    def p_alive(
        self, summary: Any, *, horizon: float = 0.0, columns: Mapping[str, str] | None = None
    ) -> Prediction:
        """P(alive at ``T + horizon``) given the history.

        ``P(alive at T) = (alpha+T)^-(r+x) S(T) / [bracket of the likelihood]``; surviving
        ``horizon`` more has probability ``(beta_T / (beta_T + e^(b horizon) - 1))^s``.

        Examples
        --------
        >>> m = GGompertzNBD(r=0.7, alpha=6.0, b=0.03, s=0.6, beta=1.5)
        >>> round(m.p_alive({"frequency": 0, "recency": 0.0, "T": 0.0}), 4)
        1.0
        """
        check_time(horizon, "horizon")
        data = read_btyd(summary, columns)
        return output(self._p_alive_rows(data, float(horizon), self.alpha, self.beta), data)

    def expected_purchases(
        self, summary: Any, t: float, *, columns: Mapping[str, str] | None = None
    ) -> Prediction:
        """E[purchases in ``(T, T + t]``] given the history.

        ``P(alive at T) (r+x)/(alpha+T) integral_0^t (beta_T / (beta_T + e^(b u) - 1))^s du``:
        the posterior mean purchase rate times the expected time alive in the window.

        Examples
        --------
        >>> m = GGompertzNBD(r=0.7, alpha=6.0, b=0.03, s=0.6, beta=1.5)
        >>> m.expected_purchases({"frequency": 2, "recency": 30.43, "T": 38.86}, 39) > 0
        True
        """
        check_time(t, "t")
        data = read_btyd(summary, columns)
        values = self._expected_rows(data, np.array([float(t)]), self.alpha, self.beta)[:, 0]
        return output(values, data)

    def expected_purchases_path(
        self, summary: Any, times: ArrayLike, *, columns: Mapping[str, str] | None = None
    ) -> NDArray[np.float64]:
        """Conditional expected purchases at several horizons: shape (customers, len(times)).

        Examples
        --------
        >>> m = GGompertzNBD(r=0.7, alpha=6.0, b=0.03, s=0.6, beta=1.5)
        >>> m.expected_purchases_path({"frequency": [2, 0], "recency": [30.43, 0.0],
        ...                            "T": [38.86, 38.86]}, [13, 26, 39]).shape
        (2, 3)
        """
        ts = check_times(times)
        data = read_btyd(summary, columns)
        return self._expected_rows(data, ts, self.alpha, self.beta)

    def expected_purchases_new(self, t: ArrayLike) -> Prediction:
        """E[X(t)] for a new customer: ``r/alpha integral_0^t S(u) du``.

        Examples
        --------
        >>> m = GGompertzNBD(r=0.7, alpha=6.0, b=0.03, s=0.6, beta=1.5)
        >>> m.expected_purchases_new([0.0, 39.0]).round(4).tolist()
        [0.0, 3.5485]
        """
        try:
            ts = np.asarray(t, dtype=np.float64)
        except (TypeError, ValueError):
            ts = np.array(np.nan)  # refused just below, naming t
        if not np.all(np.isfinite(ts) & (ts >= 0)):
            raise ArgumentError(f"t={t!r} must be finite numbers >= 0", field="t")
        one = np.array([self.beta])
        flat = np.array(
            [_survival_integral(float(v), self.b, self.s, one)[0] for v in ts.reshape(-1)]
        )
        values = self.r / self.alpha * flat.reshape(ts.shape)
        return float(values) if values.ndim == 0 else values

    def _alive_pmf(self, n: int, t: float, r: Array, alpha: Array, beta_t: Array) -> Array:
        """P(n purchases in (0, t]) for a customer alive at 0 (posterior parameters per row).

        ``NB(n; r, alpha/(alpha+t)) S(t) + integral_0^t f(u) NB(n; r, alpha/(alpha+u)) du``:
        alive throughout, or dead at ``u`` having made ``n`` purchases by then.
        """
        if t == 0:
            return np.full(r.shape, float(n == 0))
        b, s = self.b, self.s

        def log_nb(u: Array, rr: Array, aa: Array) -> Array:
            with np.errstate(divide="ignore", invalid="ignore"):
                tail = np.where(n > 0, n * (np.log(u) - np.log(aa + u)), 0.0)
            out: Array = (
                special.gammaln(rr + n)
                - special.gammaln(rr)
                - special.gammaln(n + 1.0)
                - rr * np.log1p(u / aa)
                + tail
            )
            return out

        log_b0 = np.log(beta_t)
        tt = np.full(r.shape, float(t))
        alive = np.exp(log_nb(tt, r, alpha) + s * (log_b0 - _log_bq(np.asarray(b * t), beta_t)))
        h = np.minimum(_lifetime_scale(b, s, beta_t), (alpha + t) / (r + n + 1.0))
        u, log_w = _graded(np.zeros(r.shape), tt, h)
        bu = b * u
        log_f = (
            math.log(s * b) + bu + s * log_b0[:, None] - (s + 1.0) * _log_bq(bu, beta_t[:, None])
        )
        dead = np.exp(log_w + log_f + log_nb(u, r[:, None], alpha[:, None])).sum(axis=1)
        out: Array = np.clip(alive + dead, 0.0, 1.0)
        return out

    def p_purchases(
        self, summary: Any, n: int, t: float, *, columns: Mapping[str, str] | None = None
    ) -> Prediction:
        """P(exactly ``n`` purchases in ``(T, T + t]``) given the history.

        ``P(alive) * P_new(n, t | r + x, alpha + T, b, s, beta_T) + (1 - P(alive)) [n = 0]``.

        Examples
        --------
        >>> m = GGompertzNBD(r=0.7, alpha=6.0, b=0.03, s=0.6, beta=1.5)
        >>> h = {"frequency": 1, "recency": 5.0, "T": 30.0}
        >>> round(sum(m.p_purchases(h, n, 10.0) for n in range(60)), 6)
        1.0
        """
        check_count(n)
        check_time(t, "t")
        data = read_btyd(summary, columns)
        alive = self._alive_now(data)
        pmf = self._alive_pmf(
            int(n),
            float(t),
            self.r + data["frequency"],
            self.alpha + data["T"],
            self._beta_at(data["T"]),
        )
        values = alive * pmf + (1.0 - alive) * float(n == 0)
        return output(np.clip(values, 0.0, 1.0), data)

    def p_purchases_new(self, n: int, t: float) -> float:
        """P(X(t) = n) for a new customer.

        Examples
        --------
        >>> m = GGompertzNBD(r=0.7, alpha=6.0, b=0.03, s=0.6, beta=1.5)
        >>> round(sum(m.p_purchases_new(n, 39.0) for n in range(200)), 6)
        1.0
        """
        check_count(n)
        check_time(t, "t")
        one = np.ones(1)
        pmf = self._alive_pmf(int(n), float(t), self.r * one, self.alpha * one, self.beta * one)
        return float(pmf[0])

    def simulate(
        self,
        n_customers: int,
        T: ArrayLike,
        *,
        seed: int | np.random.Generator | None = None,
        holdout: float = 0.0,
    ) -> dict[str, NDArray[Any]]:
        """Draw customer summaries: ``lambda``, ``eta`` from their gammas, a Gompertz lifetime
        ``log(1 + E / eta) / b`` (``E`` standard exponential), a Poisson count over the observed
        part of the lifetime and the last of those uniform purchase times as the recency.

        Examples
        --------
        >>> m = GGompertzNBD(r=0.7, alpha=6.0, b=0.03, s=0.6, beta=1.5)
        >>> len(m.simulate(4, 39.0, seed=3)["frequency"])
        4
        """
        n, times, rng = sim_setup(n_customers, T, seed, holdout)
        lam = rng.gamma(self.r, 1.0 / self.alpha, size=n)
        eta = rng.gamma(self.s, 1.0 / self.beta, size=n)
        with np.errstate(divide="ignore", over="ignore"):
            lifetime = np.log1p(rng.exponential(1.0, size=n) / eta) / self.b
        active = np.minimum(lifetime, times)
        x = rng.poisson(lam * active)
        recency = np.zeros(n)
        pos = x > 0
        recency[pos] = active[pos] * rng.beta(x[pos], 1.0)
        out: dict[str, NDArray[Any]] = {"frequency": x, "recency": recency, "T": times}
        if holdout > 0:
            extra = np.clip(lifetime - times, 0.0, holdout)
            out["frequency_holdout"] = rng.poisson(lam * extra)
        return out
