"""The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987, "Counting your customers: who are
they and what will they do next?", Management Science 33(1)).

While alive, a customer buys at the rate ``lambda`` of a Poisson process; their unobserved
lifetime is exponential with rate ``mu``. Across customers ``lambda ~ Gamma(r, alpha)`` and
``mu ~ Gamma(s, beta)``, independently. The likelihood follows Fader & Hardie (2005), "A note on
deriving the Pareto/NBD model and related expressions", with the hypergeometric terms evaluated
in a stable, log-space form (see :mod:`clientmodel.ltv._special`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from clientmodel._validation import check_number
from clientmodel.errors import ArgumentError
from clientmodel.ltv import _special
from clientmodel.ltv._base import (
    Prediction,
    SummaryData,
    output,
    positive,
    read_summary,
    read_weights,
)
from clientmodel.ltv._btyd import (
    check_count as _check_count,
)
from clientmodel.ltv._btyd import (
    check_time as _check_time,
)
from clientmodel.ltv._btyd import (
    check_times,
    with_binned_copies,
)
from clientmodel.ltv._btyd import (
    fit_data as _fit_data,
)
from clientmodel.ltv._btyd import (
    read_btyd as _read,
)
from clientmodel.ltv._btyd import (
    sim_setup as _sim_setup,
)
from clientmodel.ltv._btyd import (
    wsum as _wsum,
)
from clientmodel.ltv._fitting import FitReport, Likelihood, Objective
from clientmodel.ltv.contract import TransactionModel
from clientmodel.ltv.covariates import _TRANSACTION_PREDICTIONS, CovariateLinks

__all__ = ["ParetoNBD"]

Array = NDArray[np.float64]

# Gauss-Laguerre nodes of the DERT's fallback, and the distance from an integer within which
# scipy's U(s, s, z) is unreliable.
_GLAG_NODES = 64
_NEAR_INTEGER = 5e-3
# Gauss-Legendre panels for the P(X(t) = n) integral over the dropout time (in log time).
_PANEL_X, _PANEL_W = np.polynomial.legendre.leggauss(32)
_PANEL_WIDTH = 1.0
# Grids of the binned copies a large fit starts on (finest first).
_BINNED_LEVELS = (128, 36)
# Rows per block of a likelihood evaluation (bounds the memory of the Hessian's pieces).
_BLOCK = 4_096


class _ParetoData:
    """Histories laid out for repeated evaluation of the Pareto/NBD likelihood.

    The tail integrals ``I(tau)`` (see :func:`clientmodel.ltv._special.pareto_tail`) depend on
    the row only through ``(x, tau)`` with ``tau`` = ``t_x`` or ``T``; there are far fewer
    distinct such pairs than rows (times come in whole days, frequencies are small), so the
    hypergeometric work is done once per pair and gathered.
    """

    __slots__ = (
        "i_low",
        "i_up",
        "it",
        "ix",
        "n_pairs",
        "pair_tau",
        "pair_x",
        "t_u",
        "total",
        "w",
        "w_x",
        "x",
        "x_u",
    )

    def __init__(self, x: Array, tx: Array, t: Array, w: Array):
        n = len(x)
        self.x, self.w = x, w
        self.x_u, ix = np.unique(x, return_inverse=True)
        self.ix = ix.reshape(-1)
        self.t_u, it = np.unique(t, return_inverse=True)
        self.it = it.reshape(-1)
        tau_u, itau = np.unique(np.concatenate([tx, t]), return_inverse=True)
        key = np.concatenate([self.ix, self.ix]).astype(np.int64) * len(tau_u) + itau.reshape(-1)
        pairs, ipair = np.unique(key, return_inverse=True)
        ipair = ipair.reshape(-1)
        self.pair_x = self.x_u[pairs // len(tau_u)]
        self.pair_tau = tau_u[pairs % len(tau_u)]
        self.n_pairs = len(pairs)
        self.i_up, self.i_low = ipair[:n], ipair[n:]
        self.w_x = np.bincount(self.ix, weights=w, minlength=len(self.x_u))
        self.total = float(np.sum(w))


class _Rows(NamedTuple):
    common: Array  # log Gamma(r+x) - log Gamma(r) + r log alpha + s log beta
    alive: Array  # log of (alpha+T)^-(r+x) (beta+T)^-s
    dead: Array  # log of s (I(t_x) - I(T))
    gap: Array  # log(I(T) / I(t_x)), clipped at 0
    tail: _special.ParetoTail  # log I per pair, with its gradient / Hessian when asked


def _pareto_rows(theta: Array, d: _ParetoData, order: int) -> _Rows:
    """The per-row pieces of the likelihood and the pairs' tail integrals.

    ``L = Gamma(r+x) alpha^r beta^s / Gamma(r) * [ (alpha+T)^-(r+x) (beta+T)^-s
    + s * integral_{t_x}^{T} (alpha+u)^-(r+x) (beta+u)^-(s+1) du ]``: the first bracket term is
    "alive at T", the second "died at some u in (t_x, T]", ``s (I(t_x) - I(T))``.
    """
    r, alpha, s, beta = (float(v) for v in theta)
    tail = _special.pareto_tail(d.pair_tau, d.pair_x, r, alpha, s, beta, order=order)
    common = (
        special.gammaln(r + d.x_u) - special.gammaln(r) + r * math.log(alpha) + s * math.log(beta)
    )[d.ix]
    alive = -(r + d.x) * np.log(alpha + d.t_u)[d.it] - s * np.log(beta + d.t_u)[d.it]
    upper = tail.log[d.i_up]
    gap = np.minimum(tail.log[d.i_low] - upper, 0.0)
    with np.errstate(divide="ignore"):
        dead = math.log(s) + upper + np.log(-np.expm1(gap))
    return _Rows(common, alive, dead, gap, tail)


def _pareto_terms(theta: Array, x: Array, tx: Array, t: Array) -> tuple[Array, Array, Array]:
    """Per-row (common log factor, log alive term, log dead term); see :func:`_pareto_rows`."""
    rows = _pareto_rows(theta, _ParetoData(x, tx, t, np.ones(len(x))), 0)
    return rows.common, rows.alive, rows.dead


def _pareto_loglik(
    theta: Array, d: _ParetoData, order: int
) -> tuple[float, Array | None, Array | None]:
    """Total weighted log-likelihood, and its gradient / Hessian w.r.t. the log-parameters.

    A row's ``log L = common + log(e^A + e^D)`` (``A``: alive, ``D``: dead). With ``p`` the
    posterior probability of "alive at T", the gradient is ``g_c + p g_A + (1-p) g_D`` and the
    Hessian ``H_c + p H_A + (1-p) H_D + p (1-p) (g_A - g_D)(g_A - g_D)'``. In terms of
    ``U = log I(t_x)``, ``L = log I(T)`` and ``rho = e^(L-U)``::

        g_D = e_s / s + G,  G = (g_U - rho g_L) / (1 - rho)
        H_D = -e_s e_s' / s^2 + (M_U - rho M_L) / (1 - rho) - G G',  M = H + g g'

    The rows' weights are summed per pair (for the tail pieces), per ``T`` or per ``x`` before
    they meet the pieces' derivatives. On the log scale ``H_z = diag(theta) H diag(theta) +
    diag(theta * g)``.
    """
    r, alpha, s, beta = (float(v) for v in theta)
    rows = _pareto_rows(theta, d, order)
    alive, dead = rows.alive, rows.dead
    hi = np.maximum(alive, dead)
    e = np.exp(-np.abs(alive - dead))
    value = _wsum(d.w, rows.common + hi + np.log1p(e))
    if order < 1:
        return value, None, None
    tail_grad = rows.tail.grad
    assert tail_grad is not None
    first = alive >= dead
    p_alive = np.where(first, 1.0, e) / (1.0 + e)
    p_dead = np.where(first, e, 1.0) / (1.0 + e)  # not 1 - p_alive: no cancellation
    w_alive = d.w * p_alive
    w_dead = d.w * p_dead
    with np.errstate(divide="ignore"):
        c_up = np.where(rows.gap < 0.0, 1.0 / -np.expm1(rows.gap), 0.0)  # 1 / (1 - rho)
    c_low = c_up * np.exp(rows.gap)  # rho / (1 - rho)
    per_pair = np.bincount(d.i_up, weights=w_dead * c_up, minlength=d.n_pairs) - np.bincount(
        d.i_low, weights=w_dead * c_low, minlength=d.n_pairs
    )
    n_t = len(d.t_u)
    wa_t = np.bincount(d.it, weights=w_alive, minlength=n_t)
    wax_t = np.bincount(d.it, weights=w_alive * d.x, minlength=n_t)
    la_t, lb_t = np.log(alpha + d.t_u), np.log(beta + d.t_u)
    ia_t, ib_t = 1.0 / (alpha + d.t_u), 1.0 / (beta + d.t_u)
    dg = special.digamma
    g = np.einsum("ij,j->i", tail_grad, per_pair) + np.array(
        [
            _wsum(d.w_x, dg(r + d.x_u) - float(dg(r)))
            + d.total * math.log(alpha)
            - _wsum(wa_t, la_t),
            d.total * r / alpha - r * _wsum(wa_t, ia_t) - _wsum(wax_t, ia_t),
            d.total * math.log(beta) - _wsum(wa_t, lb_t) + float(np.sum(w_dead)) / s,
            d.total * s / beta - s * _wsum(wa_t, ib_t),
        ]
    )
    if order < 2:
        return value, g * theta, None
    tail_hess = rows.tail.hess
    assert tail_hess is not None
    tg = special.polygamma
    h = np.einsum("ijn,n->ij", tail_hess, per_pair) + np.einsum(
        "in,jn,n->ij", tail_grad, tail_grad, per_pair
    )
    h[0, 0] += _wsum(d.w_x, tg(1, r + d.x_u) - float(tg(1, r)))
    h[0, 1] += d.total / alpha - _wsum(wa_t, ia_t)
    h[1, 1] += -d.total * r / alpha**2 + _wsum(r * wa_t + wax_t, ia_t * ia_t)
    h[2, 3] += d.total / beta - _wsum(wa_t, ib_t)
    h[3, 3] += -d.total * s / beta**2 + s * _wsum(wa_t, ib_t * ib_t)
    h[2, 2] -= float(np.sum(w_dead)) / s**2
    h[1, 0], h[3, 2] = h[0, 1], h[2, 3]
    # Row by row: -(1-p) G G' and p (1-p) (g_A - g_D)(g_A - g_D)'.
    big_g = tail_grad[:, d.i_up] * c_up - tail_grad[:, d.i_low] * c_low
    delta = -big_g
    delta[0] -= la_t[d.it]
    delta[1] -= (r + d.x) * ia_t[d.it]
    delta[2] -= lb_t[d.it] + 1.0 / s
    delta[3] -= s * ib_t[d.it]
    h += np.einsum("in,jn,n->ij", delta, delta, w_alive * p_dead) - np.einsum(
        "in,jn,n->ij", big_g, big_g, w_dead
    )
    hess = h * np.outer(theta, theta) + np.diag(g * theta)
    return value, g * theta, hess


def _summed(
    theta: Array, blocks: list[_ParetoData], order: int
) -> tuple[float, Array | None, Array | None]:
    """:func:`_pareto_loglik` summed over blocks of rows."""
    value, grad, hess = _pareto_loglik(theta, blocks[0], order)
    for block in blocks[1:]:
        v, g, h = _pareto_loglik(theta, block, order)
        value += v
        grad = None if grad is None or g is None else grad + g
        hess = None if hess is None or h is None else hess + h
    return value, grad, hess


def _g(s: float, z: Array) -> Array:
    """``z**s U(s, s, z) = E[z / (z + G)]`` with ``G ~ Gamma(s, 1)``, in [0, 1]."""
    n = round(s)
    if n >= 1 and 0 < abs(s - n) < _NEAR_INTEGER:
        # scipy's U(a, a, z) is wrong for a within ~1e-3 of an integer (even by orders of
        # magnitude) but right at the integer and 5e-3 away: interpolate quadratically in s.
        h = _NEAR_INTEGER
        lo, mid, hi = (_g_direct(v, z) for v in (n - h, float(n), n + h))
        u = (s - n) / h
        out: Array = mid + u * (hi - lo) / 2.0 + u * u * (hi - 2.0 * mid + lo) / 2.0
        return np.clip(out, 0.0, 1.0)
    return _g_direct(s, z)


def _g_direct(s: float, z: Array) -> Array:
    with np.errstate(all="ignore"):
        out = np.exp(s * np.log(z)) * special.hyperu(s, s, z)
    bad = ~np.isfinite(out)
    if bad.any():
        # scipy's U fails for large s and small z; the expectation is then smooth in G.
        x, w = special.roots_genlaguerre(_GLAG_NODES, s - 1.0)
        zb = z[bad]
        out[bad] = (zb[:, None] / (zb[:, None] + x[None, :])) @ w / math.exp(special.gammaln(s))
    result: Array = np.clip(out, 0.0, 1.0)
    return result


def _pareto_dert(
    model: ParetoNBD,
    summary: Any,
    horizon: float,
    delta: float,
    columns: Mapping[str, str] | None,
) -> Array:
    """Closed-form DERT of Pareto/NBD (Fader, Hardie & Lee 2005, JMR, eq. 2, finite horizon)."""
    horizon = float(horizon) if horizon == math.inf else check_number(horizon, "horizon", minimum=0)
    delta = check_number(delta, "delta", minimum=0, exclusive_minimum=True)
    data = read_summary(summary, ("frequency", "T"), columns=columns, counts=("frequency",))
    x, t = data["frequency"], data["T"]
    kw: dict[str, Any] = {} if columns is None else {"columns": columns}
    alive = np.atleast_1d(np.asarray(model.p_alive(summary, **kw), dtype=np.float64))
    s, beta = float(model.s), float(model.beta)
    rate = (model.r + x) / (model.alpha + t)  # posterior mean purchase rate of an alive customer
    b = beta + t
    # E_mu[(1 - exp(-(delta + mu) H)) / (delta + mu)], mu ~ Gamma(s, b), written with
    # g(z) = z**s U(s, s, z): [g(delta b) - exp(-delta H) (b / (b + H))**s g(delta (b + H))] / delta
    bracket = _g(s, delta * b)
    if not math.isinf(horizon):
        tail = np.exp(-delta * horizon - s * np.log1p(horizon / b))
        bracket = bracket - tail * _g(s, delta * (b + horizon))
    out: Array = alive * rate * np.maximum(bracket, 0.0) / delta
    return out


def _group_likelihood(
    history: Sequence[Array], w: Array
) -> Callable[[Array, int], tuple[float, Array | None, Array | None]]:
    """The likelihood of customers sharing one set of parameters (fits with covariates)."""
    x, tx, t = history
    data = _ParetoData(x, tx, t, w)
    return lambda theta, order: _pareto_loglik(theta, data, order)


@attrs.frozen(kw_only=True)
class ParetoNBD(TransactionModel):
    """Pareto/NBD model: Poisson purchases while alive, exponential lifetimes, gamma mixing.

    Attributes
    ----------
    r, alpha:
        Shape and rate of the gamma distribution of purchase rates ``lambda``.
    s, beta:
        Shape and rate of the gamma distribution of dropout rates ``mu``.

    Examples
    --------
    >>> from clientmodel.ltv.pareto_nbd import ParetoNBD
    >>> m = ParetoNBD(r=0.553, alpha=10.578, s=0.606, beta=11.669)
    >>> round(m.expected_purchases_new(39.0), 4)
    1.213
    """

    PARAMS: ClassVar[tuple[str, ...]] = ("r", "alpha", "s", "beta")
    #: Published estimates, the example of the check suite (Fader, Hardie & Lee (2005), CDNOW):
    EXAMPLE: ClassVar[dict[str, float]] = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    GAMMA_MIXTURES: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("r", "alpha", "purchase rates"),
        ("s", "beta", "dropout rates"),
    )
    BETA_MIXTURES: ClassVar[tuple[tuple[str, str, str], ...]] = ()
    #: CLVTools' links: alpha_i = alpha exp(-g.x), beta_i = beta exp(-g.z).
    COVARIATES: ClassVar[CovariateLinks | None] = CovariateLinks(
        links=(None, ("purchase", -1.0), None, ("dropout", -1.0)),
        group=_group_likelihood,
        predictions=(*_TRANSACTION_PREDICTIONS, "discounted_closed_form"),
    )
    r: float = attrs.field(validator=positive)
    alpha: float = attrs.field(validator=positive)
    s: float = attrs.field(validator=positive)
    beta: float = attrs.field(validator=positive)
    fit_report: FitReport | None = attrs.field(default=None, eq=False, repr=False)

    @classmethod
    def _likelihood(
        cls, summary: Any, *, weights: str | ArrayLike | None, columns: Mapping[str, str] | None
    ) -> Likelihood:
        """Compressed (frequency, recency, T) histories; analytic gradient and Hessian.

        The hypergeometric terms and their derivatives with respect to their parameters are
        summed as series (see :func:`clientmodel.ltv._special.hyp2f1_one`), once per distinct
        ``(x, t_x)`` and ``(x, T)``, so a trust-region Newton method needs a handful of
        evaluations.
        """
        x, tx, t, w = _fit_data(summary, weights, columns, cls.__name__)
        scale = float(np.average(t, weights=w)) or 1.0
        default = [
            [1.0, scale, 1.0, scale],
            [0.5, scale / 4.0, 0.5, scale / 4.0],
            [1.0, 1.0, 1.0, 1.0],
            [0.1, scale * 5, 2.0, scale * 5],
        ]

        def likelihood(x: Array, tx: Array, t: Array, w: Array) -> Likelihood:
            # In blocks of rows: the Hessian's per-pair pieces stay small in memory.
            blocks = [
                _ParetoData(
                    x[i : i + _BLOCK], tx[i : i + _BLOCK], t[i : i + _BLOCK], w[i : i + _BLOCK]
                )
                for i in range(0, len(x), _BLOCK)
            ]
            objective = Objective(lambda theta, order: _summed(theta, blocks, order))
            return Likelihood(
                objective.loglik, default, float(w.sum()), len(x), hessian=objective.hessian
            )

        # Dropout rates hinge on the gap T - t_x: a grid finer than BG/NBD's keeps it.
        return with_binned_copies(
            likelihood(x, tx, t, w), x, tx, t, w, likelihood, levels=_BINNED_LEVELS
        )

    def _theta(self) -> Array:
        return np.array([self.r, self.alpha, self.s, self.beta])

    def discounted_closed_form(
        self,
        summary: Any,
        horizon: float,
        delta: float,
        *,
        columns: Mapping[str, str] | None = None,
    ) -> Array:
        """DERT in closed form (Fader, Hardie & Lee 2005, JMR 42(4), eq. 2; finite horizon).

        Examples
        --------
        >>> m = ParetoNBD(r=0.553, alpha=10.578, s=0.606, beta=11.669)
        >>> h = {"frequency": [2], "recency": [30.43], "T": [38.86]}
        >>> bool(0 < m.discounted_closed_form(h, 52.0, 0.002)[0] < 2)
        True
        """
        return _pareto_dert(self, summary, horizon, delta, columns)

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
        >>> from clientmodel.ltv.pareto_nbd import ParetoNBD
        >>> m = ParetoNBD(r=0.553, alpha=10.578, s=0.606, beta=11.669)
        >>> round(m.log_likelihood_of({"frequency": 0, "recency": 0.0, "T": 38.86}), 4)
        -0.521
        """
        data = _read(summary, columns)
        x, tx, t = data["frequency"], data["recency"], data["T"]
        w = read_weights(summary, data, weights, columns)
        return _pareto_loglik(self._theta(), _ParetoData(x, tx, t, w), 0)[0]

    def _posterior(self, data: SummaryData) -> tuple[Array, Array, Array]:
        """P(alive at T) and the posterior gamma parameters (r + x, alpha + T) of lambda."""
        x, tx, t = data["frequency"], data["recency"], data["T"]
        _, alive, dead = _pareto_terms(self._theta(), x, tx, t)
        p = np.exp(alive - np.logaddexp(alive, dead))
        return np.clip(p, 0.0, 1.0), self.r + x, self.alpha + t

    def p_alive(
        self, summary: Any, *, horizon: float = 0.0, columns: Mapping[str, str] | None = None
    ) -> Prediction:
        """P(alive at ``T + horizon``) given the history.

        ``P(alive at T) = (alpha+T)^-(r+x) (beta+T)^-s / [bracket of the likelihood]``
        (Fader & Hardie 2005 note, eq. 18); surviving ``horizon`` more has probability
        ``((beta+T)/(beta+T+horizon))**s`` under the posterior ``mu ~ Gamma(s, beta+T)``.

        Examples
        --------
        >>> from clientmodel.ltv.pareto_nbd import ParetoNBD
        >>> m = ParetoNBD(r=0.553, alpha=10.578, s=0.606, beta=11.669)
        >>> round(m.p_alive({"frequency": 0, "recency": 0.0, "T": 0.0}), 4)
        1.0
        """
        _check_time(horizon, "horizon")
        data = _read(summary, columns)
        alive, _, _ = self._posterior(data)
        if horizon > 0:
            bt = self.beta + data["T"]
            alive = alive * np.exp(-self.s * np.log1p(horizon / bt))
        return output(alive, data)

    def _alive_expected(self, t: Any, r: Any, alpha: Any, beta: Any) -> Array:
        """E[purchases in (0, t]] for a customer alive at 0 with lambda ~ Gamma(r, alpha),
        mu ~ Gamma(s, beta): ``r/alpha * beta * [1 - (beta/(beta+t))**(s-1)] / (s-1)``."""
        t, r, alpha, beta = np.broadcast_arrays(
            np.asarray(t, dtype=np.float64), r, alpha, np.asarray(beta, dtype=np.float64)
        )
        # log(beta / (beta + t)) by log1p: log(beta) - log(beta + t) cancels for small t
        # (0 at t = 1e-296) and 1 - power takes the cancellation as a relative error.
        log_base = -np.log1p(t / beta)
        value: Array = r / alpha * beta * _special.one_minus_power_over(self.s - 1.0, log_base)
        return value

    def expected_purchases(
        self, summary: Any, t: float, *, columns: Mapping[str, str] | None = None
    ) -> Prediction:
        """E[purchases in ``(T, T + t]``] given the history.

        ``P(alive) (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))**(s-1)]``
        (Schmittlein et al. 1987; Fader & Hardie 2005 note, eq. 22), with the ``s = 1`` limit.

        Examples
        --------
        >>> from clientmodel.ltv.pareto_nbd import ParetoNBD
        >>> m = ParetoNBD(r=0.553, alpha=10.578, s=0.606, beta=11.669)
        >>> m.expected_purchases({"frequency": 2, "recency": 30.43, "T": 38.86}, 39) > 0
        True
        """
        _check_time(t, "t")
        data = _read(summary, columns)
        alive, r, alpha = self._posterior(data)
        values = alive * self._alive_expected(t, r, alpha, self.beta + data["T"])
        return output(values, data)

    def expected_purchases_path(
        self, summary: Any, times: ArrayLike, *, columns: Mapping[str, str] | None = None
    ) -> NDArray[np.float64]:
        """Conditional expected purchases at several horizons: shape (customers, len(times)).

        Examples
        --------
        >>> from clientmodel.ltv.pareto_nbd import ParetoNBD
        >>> m = ParetoNBD(r=0.553, alpha=10.578, s=0.606, beta=11.669)
        >>> m.expected_purchases_path({"frequency": [2, 0], "recency": [30.43, 0.0],
        ...                            "T": [38.86, 38.86]}, [13, 26, 39]).shape
        (2, 3)
        """
        ts = check_times(times)
        data = _read(summary, columns)
        alive, r, alpha = self._posterior(data)
        values = self._alive_expected(
            ts[None, :], r[:, None], alpha[:, None], (self.beta + data["T"])[:, None]
        )
        path: NDArray[np.float64] = alive[:, None] * values
        return path

    def expected_purchases_new(self, t: ArrayLike) -> Prediction:
        """E[X(t)] for a new customer: ``r beta / (alpha (s-1)) [1 - (beta/(beta+t))**(s-1)]``.

        Examples
        --------
        >>> from clientmodel.ltv.pareto_nbd import ParetoNBD
        >>> m = ParetoNBD(r=0.553, alpha=10.578, s=0.606, beta=11.669)
        >>> m.expected_purchases_new([0.0, 39.0]).round(4).tolist()
        [0.0, 1.213]
        """
        try:
            ts = np.asarray(t, dtype=np.float64)
        except (TypeError, ValueError):
            ts = np.asarray(np.nan)  # refused just below, naming t
        if not np.all(np.isfinite(ts) & (ts >= 0)):
            raise ArgumentError(f"t={t!r} must be finite and >= 0", field="t")
        values = self._alive_expected(ts, self.r, self.alpha, self.beta)
        return float(values) if values.ndim == 0 else values

    def _alive_pmf(self, n: int, t: float, r: Array, alpha: Array, beta: Array) -> Array:
        """P(n purchases in (0, t]) for a customer alive at 0 (posterior parameters per row).

        Alive throughout ``(0, t]`` with a negative binomial count, or dead at ``u < t`` having
        made ``n`` purchases by then::

            NB(n; r, alpha/(alpha+t)) (beta/(beta+t))^s
            + integral_0^t s/beta (beta/(beta+u))^(s+1) NB(n; r, alpha/(alpha+u)) du

        The integral is taken in ``y = log(m + u)``, ``m = min(alpha, beta)``: the integrand
        ``s (m+u)/beta (beta/(beta+u))^(s+1) NB(...)`` is analytic in ``y`` with its
        singularities (``u = -alpha``, ``u = -beta``) at imaginary distance ``pi`` or at
        ``-infinity``, so Gauss-Legendre panels of width at most 1 in ``y`` converge to rounding
        for any ``t`` (a fixed rule on ``[0, t]`` misses the mass near ``u = 0`` once ``t`` is
        large against ``beta``).
        """

        def log_nb(u: Array, rr: Array, aa: Array) -> Array:
            with np.errstate(divide="ignore"):
                tail = np.where(n > 0, n * (np.log(u) - np.log(aa + u)), 0.0)
            value: Array = (
                special.gammaln(rr + n)
                - special.gammaln(rr)
                - special.gammaln(n + 1.0)
                - rr * np.log1p(u / aa)
                + tail
            )
            return value

        if t == 0:
            return np.full(r.shape, float(n == 0))
        s = self.s
        alive_term = np.exp(log_nb(np.asarray(t), r, alpha) - s * np.log1p(t / beta))
        m = np.minimum(alpha, beta)
        lo = np.log(m)
        width = np.log(m + t) - lo
        panels = max(1, math.ceil(float(np.max(width)) / _PANEL_WIDTH))
        step = width / panels
        dead_term = np.zeros(r.shape)
        for k in range(panels):
            # Nodes of panel k of each row: y in [lo + k step, lo + (k + 1) step].
            y = lo[:, None] + step[:, None] * (k + (_PANEL_X[None, :] + 1.0) / 2.0)
            u = np.maximum(np.exp(y) - m[:, None], 0.0)
            log_integrand = (
                math.log(s)
                + y
                - np.log(beta[:, None])
                - (s + 1.0) * np.log1p(u / beta[:, None])
                + log_nb(u, r[:, None], alpha[:, None])
            )
            dead_term += (step / 2.0) * (np.exp(log_integrand) @ _PANEL_W)
        out: Array = np.clip(alive_term + dead_term, 0.0, 1.0)
        return out

    def p_purchases(
        self, summary: Any, n: int, t: float, *, columns: Mapping[str, str] | None = None
    ) -> Prediction:
        """P(exactly ``n`` purchases in ``(T, T + t]``) given the history.

        ``P(alive) * P_new(n, t | r + x, alpha + T, s, beta + T) + (1 - P(alive)) [n = 0]``.

        Examples
        --------
        >>> from clientmodel.ltv.pareto_nbd import ParetoNBD
        >>> m = ParetoNBD(r=0.553, alpha=10.578, s=0.606, beta=11.669)
        >>> h = {"frequency": 1, "recency": 5.0, "T": 30.0}
        >>> round(sum(m.p_purchases(h, n, 10.0) for n in range(60)), 6)
        1.0
        """
        _check_count(n)
        _check_time(t, "t")
        data = _read(summary, columns)
        alive, r, alpha = self._posterior(data)
        pmf = self._alive_pmf(int(n), float(t), r, alpha, self.beta + data["T"])
        values = alive * pmf + (1.0 - alive) * float(n == 0)
        return output(np.clip(values, 0.0, 1.0), data)

    def p_purchases_new(self, n: int, t: float) -> float:
        """P(X(t) = n) for a new customer.

        Examples
        --------
        >>> from clientmodel.ltv.pareto_nbd import ParetoNBD
        >>> m = ParetoNBD(r=0.553, alpha=10.578, s=0.606, beta=11.669)
        >>> round(sum(m.p_purchases_new(n, 39.0) for n in range(100)), 6)
        1.0
        """
        _check_count(n)
        _check_time(t, "t")
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
        """Draw customer summaries: ``lambda``, ``mu`` from their gammas, an exponential lifetime,
        a Poisson count over the observed part of the lifetime and the last of those uniform
        purchase times as the recency.

        Examples
        --------
        >>> from clientmodel.ltv.pareto_nbd import ParetoNBD
        >>> sim = ParetoNBD(r=0.55, alpha=10.0, s=0.6, beta=12.0).simulate(4, 39.0, seed=3)
        >>> len(sim["frequency"])
        4
        """
        n, times, rng = _sim_setup(n_customers, T, seed, holdout)
        lam = rng.gamma(self.r, 1.0 / self.alpha, size=n)
        mu = rng.gamma(self.s, 1.0 / self.beta, size=n)
        with np.errstate(divide="ignore", over="ignore"):
            lifetime = rng.exponential(1.0, size=n) / mu
        active = np.minimum(lifetime, times)
        x = rng.poisson(lam * active)
        recency = np.zeros(n)
        pos = x > 0
        # The largest of x uniform times on [0, active] is active * Beta(x, 1).
        recency[pos] = active[pos] * rng.beta(x[pos], 1.0)
        out: dict[str, NDArray[Any]] = {"frequency": x, "recency": recency, "T": times}
        if holdout > 0:
            extra = np.clip(lifetime - times, 0.0, holdout)
            out["frequency_holdout"] = rng.poisson(lam * extra)
        return out
