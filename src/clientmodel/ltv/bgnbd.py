"""The BG/NBD model of repeat buying (Fader, Hardie & Lee 2005, "Counting your customers the
easy way").

While alive, a customer buys at the rate ``lambda`` of a Poisson process; right after each repeat
purchase they become inactive for good with probability ``p``. Across customers ``lambda`` follows
a gamma distribution (shape ``r``, rate ``alpha``) and ``p`` a beta distribution (``a``, ``b``).
The model needs only each customer's frequency (repeat purchases), recency (time of the last
purchase, from the first) and ``T`` (time from the first purchase to the end of observation).
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
from clientmodel.ltv import _special
from clientmodel.ltv._base import (
    Prediction,
    SummaryData,
    non_negative,
    output,
    positive,
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
    factor,
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
from clientmodel.ltv._fitting import FitReport, Likelihood, Objective, distinct_rows
from clientmodel.ltv._smooth import codes as _count_codes
from clientmodel.ltv._smooth import per_x_smooth_in_rate
from clientmodel.ltv.contract import TransactionModel
from clientmodel.ltv.covariates import CovariateLinks

__all__ = ["BGNBD"]

Array = NDArray[np.float64]


Factors = tuple[Array, NDArray[np.intp], Array, NDArray[np.intp], Array, NDArray[np.intp]]


def _factorize(x: Array, tx: Array, t: Array) -> Factors:
    """Values of each column to compute with and the row -> value index (see ``factor``)."""
    ux, ix = _count_codes(x)
    utx, itx = factor(tx)
    ut, it = factor(t)
    return ux, ix, utx, itx, ut, it


class _BGData:
    """Weighted histories laid out for repeated evaluation of the BG/NBD (MBG/NBD) likelihood.

    With ``k = x + shift``, a row with ``k = 0`` (a BG/NBD customer without repeat purchases) has
    one likelihood term, which depends on ``T`` only: those rows are summed per distinct ``T``.
    Every other ("mixed") row keeps its own entry, but whatever depends on ``x`` or ``t_x`` alone
    is summed per distinct value once, here, so that an evaluation touches each mixed row only
    for the part that depends on its combination of ``x``, ``t_x`` and ``T``.
    """

    __slots__ = (
        "it_m",
        "itx_m",
        "ix_m",
        "k_u",
        "t_u",
        "total",
        "tx_u",
        "w0_t",
        "w_m",
        "w_tx",
        "w_x",
        "wm_x",
        "wx_tx",
        "x_m",
        "x_u",
    )

    def __init__(self, x: Array, tx: Array, t: Array, w: Array, shift: int, factors: Factors):
        x_u, ix, tx_u, itx, t_u, it = factors
        self.x_u, self.tx_u, self.t_u = x_u, tx_u, t_u
        self.k_u = x_u + shift
        self.total = float(np.sum(w))
        self.w_x = np.bincount(ix, weights=w, minlength=len(x_u))
        single = (x + shift) == 0
        self.w0_t = np.bincount(it[single], weights=w[single], minlength=len(t_u))
        mixed = ~single
        self.w_m, self.x_m = w[mixed], x[mixed]
        self.ix_m, self.itx_m, self.it_m = ix[mixed], itx[mixed], it[mixed]
        self.wm_x = np.bincount(self.ix_m, weights=self.w_m, minlength=len(x_u))
        self.w_tx = np.bincount(self.itx_m, weights=self.w_m, minlength=len(tx_u))
        self.wx_tx = np.bincount(self.itx_m, weights=self.w_m * self.x_m, minlength=len(tx_u))


def _bg_eval(theta: Array, d: _BGData, order: int) -> tuple[float, Array | None, Array | None]:
    """Total log-likelihood and, for ``order`` >= 1 / 2, its gradient / Hessian w.r.t. log-params.

    A mixed row's likelihood is ``c(x) + l2 + softplus(l1 - l2)`` with (FHL 2005, eq. 6)::

        c  = log Gamma(r+x) - log Gamma(r) + r log alpha
        l1 = log B(a, b+k) - log B(a, b) - (r+x) log(alpha+T)        (still alive at T)
        l2 = log B(a+1, b+k-1) - log B(a, b) - (r+x) log(alpha+t_x)  (dropped out after t_x)

    so ``l1 - l2 = log((b+k-1)/a) - (r+x) log((alpha+T)/(alpha+t_x))``. Writing ``pi`` for the
    posterior weight of the first term, ``sigmoid(l1 - l2)``, the gradient is
    ``grad c + pi grad l1 + (1-pi) grad l2`` and the Hessian
    ``hess c + pi hess l1 + (1-pi) hess l2 + pi (1-pi) (grad l1 - grad l2)(grad l1 - grad l2)'``;
    on the log scale ``H_z = diag(theta) H diag(theta) + diag(theta * g)``.
    """
    r, alpha, a, b = (float(v) for v in theta)
    dg, tg = special.digamma, _trigamma
    k_u = d.k_u
    has2 = k_u > 0
    km1 = np.where(has2, k_u - 1.0, 0.0)
    lat_t = np.log(alpha + d.t_u)
    lat_tx = np.log(alpha + d.tx_u)
    b1_u = special.betaln(a, b + k_u) - special.betaln(a, b)
    # log B(a+1, b+k-1) - log B(a, b) = b1 - log((b+k-1)/a), defined for k > 0 only.
    gap_u = np.log(b + km1) - math.log(a)
    c_u = special.gammaln(r + d.x_u) - special.gammaln(r) + r * math.log(alpha)
    rx_tx = r * d.w_tx + d.wx_tx  # sum of w (r + x) per distinct t_x over mixed rows
    # Mixed rows: only l1 - l2 needs the row's own (x, t_x, T).
    p = r + d.x_m
    dl = lat_t[d.it_m] - lat_tx[d.itx_m]  # log((alpha+T)/(alpha+t_x)) >= 0
    delta = gap_u[d.ix_m] - p * dl
    e = np.exp(-np.abs(delta))
    soft = np.maximum(delta, 0.0) + np.log1p(e)
    b2_sum = _wsum(d.wm_x, np.where(has2, b1_u - gap_u, 0.0))
    value = (
        _wsum(d.w_x, c_u)
        - r * _wsum(d.w0_t, lat_t)
        + b2_sum
        - _wsum(rx_tx, lat_tx)
        + _wsum(d.w_m, soft)
    )
    if order < 1:
        return value, None, None
    pi = np.where(delta >= 0, 1.0, e) / (1.0 + e)
    wpi = d.w_m * pi
    inv_t = 1.0 / (alpha + d.t_u)
    inv_tx = 1.0 / (alpha + d.tx_u)
    row_inv_t = inv_t[d.it_m]
    row_inv_tx = inv_tx[d.itx_m]
    di = row_inv_t - row_inv_tx  # <= 0
    n_x = len(d.x_u)
    pi_x = np.bincount(d.ix_m, weights=wpi, minlength=n_x)
    rest_x = d.wm_x - pi_x
    d_ab = float(dg(a + b))
    d_abk = dg(a + b + k_u)
    b1a = d_ab - d_abk
    b1b = dg(b + k_u) - d_abk - float(dg(b)) + d_ab
    gap_b = 1.0 / (b + km1)  # d(l1 - l2)/db; d(l1 - l2)/da = -1/a
    g = np.array(
        [
            _wsum(d.w_x, dg(r + d.x_u) - float(dg(r)) + math.log(alpha))
            - _wsum(d.w0_t, lat_t)
            - _wsum(d.w_tx, lat_tx)
            - _wsum(wpi, dl),
            r * d.total / alpha
            - r * _wsum(d.w0_t, inv_t)
            - _wsum(rx_tx, inv_tx)
            - _wsum(wpi, p * di),
            _wsum(d.wm_x, b1a) + float(np.sum(rest_x)) / a,
            _wsum(d.wm_x, b1b) - _wsum(rest_x, np.where(has2, gap_b, 0.0)),
        ]
    )
    grad = g * theta
    if order < 2:
        return value, grad, None
    v = wpi * (np.where(delta >= 0, e, 1.0) / (1.0 + e))  # w pi (1 - pi), without cancelling
    v_x = np.bincount(d.ix_m, weights=v, minlength=n_x)
    v_dl = v * dl
    v_pdi = v * p * di
    vdl_x = np.bincount(d.ix_m, weights=v_dl, minlength=n_x)
    vpdi_x = np.bincount(d.ix_m, weights=v_pdi, minlength=n_x)
    gb = np.where(has2, gap_b, 0.0)
    t_ab = float(tg(a + b))
    t_abk = tg(a + b + k_u)
    b1aa = t_ab - t_abk
    b1bb = tg(b + k_u) - t_abk - float(tg(b)) + t_ab
    b2bb = np.where(has2, tg(b + km1) - t_abk - float(tg(b)) + t_ab, 0.0)
    h = np.empty((4, 4))
    h[0, 0] = _wsum(d.w_x, tg(r + d.x_u) - float(tg(r))) + _wsum(v_dl, dl)
    h[0, 1] = (
        d.total / alpha
        - _wsum(d.w0_t, inv_t)
        - _wsum(d.w_tx, inv_tx)
        - _wsum(wpi, di)
        + _wsum(v_dl, p * di)
    )
    h[1, 1] = (
        -r * d.total / alpha**2
        + r * _wsum(d.w0_t, inv_t**2)
        + _wsum(rx_tx, inv_tx**2)
        + _wsum(wpi * p, di * (row_inv_t + row_inv_tx))
        + _wsum(v_pdi, p * di)
    )
    h[0, 2] = float(np.sum(vdl_x)) / a
    h[0, 3] = -_wsum(vdl_x, gb)
    h[1, 2] = float(np.sum(vpdi_x)) / a
    h[1, 3] = -_wsum(vpdi_x, gb)
    h[2, 2] = (
        _wsum(d.wm_x, b1aa)
        + float(np.sum(rest_x)) * float(tg(a + 1.0) - tg(a))
        + float(np.sum(v_x)) / a**2
    )
    h[2, 3] = _wsum(d.wm_x, b1aa) - _wsum(v_x, gb) / a
    h[3, 3] = _wsum(pi_x, b1bb) + _wsum(rest_x, b2bb) + _wsum(v_x, gb**2)
    il = np.tril_indices(4, -1)
    h[il] = h.T[il]
    hess = h * np.outer(theta, theta) + np.diag(g * theta)
    return value, grad, hess


def _trigamma(v: Any) -> Any:
    return special.polygamma(1, v)


def _bg_loglik(
    theta: Array,
    x: Array,
    tx: Array,
    t: Array,
    w: Array,
    shift: int,
    gradient: bool = True,
    factors: Factors | None = None,
) -> tuple[float, Array | None]:
    """Total weighted log-likelihood of the BG/NBD (shift 0) or MBG/NBD (shift 1).

    With ``k = x + shift`` (opportunities to drop out that the customer survived, if alive)::

        L = Gamma(r+x) alpha^r / Gamma(r) * [ B(a, b+k)/B(a, b) (alpha+T)^-(r+x)
              + [k > 0] B(a+1, b+k-1)/B(a, b) (alpha+t_x)^-(r+x) ]

    The gradient is with respect to the log-parameters (see :func:`_bg_eval`).
    """
    data = _BGData(x, tx, t, w, shift, _factorize(x, tx, t) if factors is None else factors)
    value, grad, _ = _bg_eval(np.asarray(theta, dtype=np.float64), data, 1 if gradient else 0)
    return value, grad


class _BetaGeometricFamily(TransactionModel):
    """Predictions shared by BG/NBD (``_SHIFT = 0``) and MBG/NBD (``_SHIFT = 1``).

    A customer alive at ``T`` with history ``(x, t_x, T)`` behaves from then on like a new, alive
    BG/NBD customer with parameters ``(r + x, alpha + T, a, b + x + shift)``: the posterior of
    ``lambda`` is ``Gamma(r + x, alpha + T)`` and that of ``p`` is ``Beta(a, b + x + shift)``.
    Every conditional prediction is therefore P(alive) times a new-customer quantity.
    """

    PARAMS: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    GAMMA_MIXTURES: ClassVar[tuple[tuple[str, str, str], ...]] = (("r", "alpha", "purchase rates"),)
    BETA_MIXTURES: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("a", "b", "dropout probability after a purchase"),
    )
    _SHIFT: ClassVar[int] = 0
    r: float
    alpha: float
    a: float
    b: float

    # -- fitting -----------------------------------------------------------------------------

    @classmethod
    def _likelihood(
        cls, summary: Any, *, weights: str | ArrayLike | None, columns: Mapping[str, str] | None
    ) -> Likelihood:
        """Compressed (frequency, recency, T) histories; analytic gradient and Hessian."""
        x, tx, t, w = _fit_data(summary, weights, columns, cls.__name__)
        shift = cls._SHIFT
        scale = float(np.average(t, weights=w)) or 1.0
        default = [
            [1.0, scale, 1.0, 1.0],
            [0.5, scale / 5.0, 0.5, 2.0],
            [1.0, 1.0, 1.0, 1.0],
            [0.1, scale * 5, 2.0, 5.0],
        ]

        def likelihood(x: Array, tx: Array, t: Array, w: Array) -> Likelihood:
            data = _BGData(x, tx, t, w, shift, _factorize(x, tx, t))
            objective = Objective(lambda theta, order: _bg_eval(theta, data, order))
            return Likelihood(
                objective.loglik, default, float(w.sum()), len(x), hessian=objective.hessian
            )

        return with_binned_copies(likelihood(x, tx, t, w), x, tx, t, w, likelihood)

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
        >>> from clientmodel.ltv.bgnbd import BGNBD
        >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> round(m.log_likelihood_of({"frequency": 2, "recency": 30.43, "T": 38.86}), 4)
        -9.4586
        """
        data = _read(summary, columns)
        x, tx, t = data["frequency"], data["recency"], data["T"]
        w = read_weights(summary, data, weights, columns)
        theta = np.array([self.r, self.alpha, self.a, self.b])
        return _bg_loglik(theta, x, tx, t, w, self._SHIFT, gradient=False)[0]

    # -- predictions -------------------------------------------------------------------------

    def _p_alive(self, data: SummaryData) -> Array:
        """P(alive at T) of each row: ``1 / (1 + odds)``, with the odds of having dropped out
        ``[k > 0] a / (b + k - 1) ((alpha + T) / (alpha + t_x))**(r + x)`` (one log and one exp
        per row; an overflowing odds gives 0)."""
        x, tx, t = data["frequency"], data["recency"], data["T"]
        k = x + self._SHIFT
        with np.errstate(all="ignore"):
            log_odds = (self.r + x) * np.log((self.alpha + t) / (self.alpha + tx))
            log_odds += math.log(self.a)
            log_odds -= np.log(np.maximum(self.b + k - 1.0, 1e-300))
            odds = np.exp(log_odds, out=log_odds)
            odds += 1.0
            alive: Array = np.reciprocal(odds, out=odds)
        alive[k == 0] = 1.0
        return alive

    def _alive_params(self, data: SummaryData) -> tuple[Array, Array, Array, NDArray[np.intp]]:
        """Posterior ``(r + x, alpha + T, b + k)`` of an alive customer per distinct ``(x, T)``,
        and the row -> pair index: a prediction for an alive customer depends on nothing else,
        so its special functions are evaluated once per pair (far fewer than rows)."""
        (x, t), index = distinct_rows(data["frequency"], data["T"])
        return self.r + x, self.alpha + t, self.b + x + self._SHIFT, index

    def _new(self) -> SummaryData:
        zero = np.zeros(1)
        return SummaryData({"frequency": zero, "recency": zero, "T": zero}, True)

    def p_alive(
        self, summary: Any, *, horizon: float = 0.0, columns: Mapping[str, str] | None = None
    ) -> Prediction:
        """P(the customer is alive at ``T + horizon``) given their history.

        ``1 / (1 + [k > 0] a / (b + k - 1) ((alpha + T) / (alpha + t_x))**(r + x))`` with
        ``k = x`` (BG/NBD, Fader, Hardie & Lee 2005 eq. 11; 1 for ``x = 0``) or ``k = x + 1``
        (MBG/NBD), times the chance of surviving the purchases of the next ``horizon``.

        Examples
        --------
        >>> from clientmodel.ltv.bgnbd import BGNBD
        >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> round(m.p_alive({"frequency": 2, "recency": 30.43, "T": 38.86}), 4)
        0.7266
        """
        horizon = non_negative(horizon, "horizon")
        data = _read(summary, columns)
        alive = self._p_alive(data)
        if horizon > 0:
            r, alpha, b, index = self._alive_params(data)
            alive = alive * _special.bg_alive_survival(horizon, r, alpha, self.a, b)[index]
        return output(alive, data)

    def expected_purchases(
        self, summary: Any, t: float, *, columns: Mapping[str, str] | None = None
    ) -> Prediction:
        """E[purchases in ``(T, T + t]``] given frequency, recency and ``T``.

        Fader, Hardie & Lee (2005), eq. 10: P(alive) times the new-customer expectation with the
        posterior parameters ``(r + x, alpha + T, a, b + x)``. That expectation depends on the
        history only through ``(x, T)``: it is evaluated once per distinct pair, or, when ``T``
        is continuous, at Chebyshev nodes in ``log(alpha + T)`` per distinct ``x`` and
        interpolated (see :mod:`clientmodel.ltv._smooth`).

        Examples
        --------
        >>> from clientmodel.ltv.bgnbd import BGNBD
        >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> round(m.expected_purchases({"frequency": 2, "recency": 30.43, "T": 38.86}, 39), 3)
        1.226
        """
        _check_time(t, "t")
        data = _read(summary, columns)
        shift = self._SHIFT

        def alive_expected(x: Array, t_obs: Array) -> Array:
            r, alpha, b = self.r + x, self.alpha + t_obs, self.b + x + shift
            return _special.bg_alive_expected(t, r, alpha, self.a, b)

        expected = per_x_smooth_in_rate(alive_expected, data["frequency"], data["T"], self.alpha)
        values = self._p_alive(data) * expected
        return output(values, data)

    def expected_purchases_path(
        self, summary: Any, times: ArrayLike, *, columns: Mapping[str, str] | None = None
    ) -> NDArray[np.float64]:
        """Conditional expected purchases at several horizons: shape (customers, len(times)).

        Examples
        --------
        >>> from clientmodel.ltv.bgnbd import BGNBD
        >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> m.expected_purchases_path({"frequency": [2], "recency": [30.43], "T": [38.86]},
        ...                           [13, 26, 39]).shape
        (1, 3)
        """
        ts = check_times(times)
        data = _read(summary, columns)
        r, alpha, b, index = self._alive_params(data)
        values = _special.bg_alive_expected(
            ts[None, :], r[:, None], alpha[:, None], self.a, b[:, None]
        )
        path: NDArray[np.float64] = self._p_alive(data)[:, None] * values[index]
        return path

    def weighted_purchases(
        self,
        summary: Any,
        times: ArrayLike,
        weights: ArrayLike,
        *,
        columns: Mapping[str, str] | None = None,
    ) -> NDArray[np.float64]:
        """``sum_k weights[k] E[X(T, T + times[k])]`` per customer, without a (rows x times) matrix.

        The alive part depends on ``(x, alpha + T)`` only: it is summed over the times once per
        distinct pair, or, when ``T`` is continuous and the pairs are as many as the rows, at
        Chebyshev nodes in ``log(alpha + T)`` per distinct ``x`` and interpolated.

        Examples
        --------
        >>> from clientmodel.ltv.bgnbd import BGNBD
        >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> h = {"frequency": [2], "recency": [30.43], "T": [38.86]}
        >>> round(float(m.weighted_purchases(h, [13.0, 26.0], [1.0, -1.0])[0]), 4)
        -0.4044
        """
        ts = check_times(times)
        w = np.asarray(weights, dtype=np.float64).reshape(-1)
        data = _read(summary, columns)
        shift = self._SHIFT

        def alive_sum(x: Array, t: Array) -> Array:
            values = _special.bg_alive_expected(
                ts[None, :],
                (self.r + x)[:, None],
                (self.alpha + t)[:, None],
                self.a,
                (self.b + x + shift)[:, None],
            )
            out: Array = values @ w
            return out

        summed = per_x_smooth_in_rate(alive_sum, data["frequency"], data["T"], self.alpha)
        result: Array = self._p_alive(data) * summed
        return result

    def expected_purchases_new(self, t: ArrayLike) -> Prediction:
        """E[X(t)]: expected repeat purchases by ``t`` of a customer who just made a first one.

        BG/NBD: ``(a + b - 1)/(a - 1) [1 - (alpha/(alpha+t))**r 2F1(r, b; a+b-1; t/(alpha+t))]``
        (Fader, Hardie & Lee 2005, eq. 9).

        Examples
        --------
        >>> from clientmodel.ltv.bgnbd import BGNBD
        >>> round(BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426).expected_purchases_new(39), 4)
        1.1967
        """
        ts = np.asarray(t, dtype=np.float64)
        if not np.all(np.isfinite(ts) & (ts >= 0)):
            raise ArgumentError(f"t={t!r} must be finite and >= 0", field="t")
        new = self._new()
        r, alpha, b, _ = self._alive_params(new)
        values = self._p_alive(new)[0] * _special.bg_alive_expected(
            ts, r[0], alpha[0], self.a, b[0]
        )
        return float(values) if values.ndim == 0 else values

    def p_purchases(
        self, summary: Any, n: int, t: float, *, columns: Mapping[str, str] | None = None
    ) -> Prediction:
        """P(exactly ``n`` purchases in ``(T, T + t]``) given the customer's history.

        ``P(alive) * P_new(n, t | r + x, alpha + T, a, b + k) + (1 - P(alive)) [n = 0]``.

        Examples
        --------
        >>> from clientmodel.ltv.bgnbd import BGNBD
        >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> round(m.p_purchases({"frequency": 0, "recency": 0, "T": 38.86}, 0, 39), 4)
        0.8554
        """
        _check_count(n)
        _check_time(t, "t")
        data = _read(summary, columns)
        alive = self._p_alive(data)
        r, alpha, b, index = self._alive_params(data)
        pmf = _special.bg_alive_pmf(n, t, r, alpha, self.a, b)[index]
        values = alive * pmf + (1.0 - alive) * float(n == 0)
        return output(np.clip(values, 0.0, 1.0), data)

    def p_purchases_new(self, n: int, t: float) -> float:
        """P(X(t) = n) for a new customer (Fader, Hardie & Lee 2005, eq. 8 for BG/NBD).

        Examples
        --------
        >>> from clientmodel.ltv.bgnbd import BGNBD
        >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> round(sum(m.p_purchases_new(n, 39) for n in range(200)), 6)
        1.0
        """
        _check_count(n)
        _check_time(t, "t")
        new = self._new()
        alive = self._p_alive(new)
        r, alpha, b, _ = self._alive_params(new)
        pmf = _special.bg_alive_pmf(n, t, r, alpha, self.a, b)
        return float(np.clip(alive * pmf + (1.0 - alive) * float(n == 0), 0.0, 1.0)[0])

    def simulate(
        self,
        n_customers: int,
        T: ArrayLike,
        *,
        seed: int | np.random.Generator | None = None,
        holdout: float = 0.0,
    ) -> dict[str, NDArray[Any]]:
        """Draw customer summaries from the model's generative story.

        Each customer gets ``lambda ~ Gamma(r, rate alpha)`` and ``p ~ Beta(a, b)``; the number of
        repeat purchases before dropping out is geometric (from 1 for BG/NBD, from 0 for MBG/NBD,
        which also allows dropout at time 0). Purchases follow a Poisson process, so the observed
        frequency is ``min(Poisson(lambda T), K)`` and the recency is an order statistic of
        uniform times.

        Examples
        --------
        >>> from clientmodel.ltv.bgnbd import BGNBD
        >>> sim = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426).simulate(5, 39.0, seed=7)
        >>> sorted(sim)
        ['T', 'frequency', 'recency']
        """
        n, times, rng = _sim_setup(n_customers, T, seed, holdout)
        lam = rng.gamma(self.r, 1.0 / self.alpha, size=n)
        p = np.clip(rng.beta(self.a, self.b, size=n), 1e-300, 1.0)
        # Repeat purchases made before dropping out (the last one is followed by dropout).
        k = rng.geometric(p) - self._SHIFT
        count = rng.poisson(lam * times)
        x = np.minimum(count, k)
        # The x-th of `count` uniform event times on [0, T] is T * Beta(x, count - x + 1).
        pos = x > 0
        recency = np.zeros(n)
        recency[pos] = times[pos] * rng.beta(x[pos], count[pos] - x[pos] + 1)
        out: dict[str, NDArray[Any]] = {"frequency": x, "recency": recency, "T": times}
        if holdout > 0:
            remaining = np.maximum(k - count, 0)  # > 0 only for customers alive at T
            out["frequency_holdout"] = np.minimum(rng.poisson(lam * holdout), remaining)
        return out


def _group_likelihood(
    history: Sequence[Array], w: Array
) -> Callable[[Array, int], tuple[float, Array | None, Array | None]]:
    """The likelihood of customers sharing one set of parameters (fits with covariates)."""
    x, tx, t = history
    data = _BGData(x, tx, t, w, 0, _factorize(x, tx, t))
    return lambda theta, order: _bg_eval(theta, data, order)


@attrs.frozen(kw_only=True)
class BGNBD(_BetaGeometricFamily):
    """BG/NBD model (Fader, Hardie & Lee 2005): gamma purchase rates, beta-geometric dropout.

    Attributes
    ----------
    r, alpha:
        Shape and rate of the gamma distribution of purchase rates (time in the summary's unit).
    a, b:
        Parameters of the beta distribution of the dropout probability ``p``.

    Examples
    --------
    >>> from clientmodel.ltv.bgnbd import BGNBD
    >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> round(m.p_alive({"frequency": 0, "recency": 0.0, "T": 30.0}), 3)
    1.0
    """

    PARAMS: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    #: Published estimates, the example of the check suite (Fader, Hardie & Lee (2005), CDNOW):
    EXAMPLE: ClassVar[dict[str, float]] = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    _SHIFT: ClassVar[int] = 0
    #: CLVTools' links: alpha_i = alpha exp(-g.x); a_i, b_i = a, b exp(g.z) (the mean dropout
    #: probability stays, its concentration moves).
    COVARIATES: ClassVar[CovariateLinks | None] = CovariateLinks(
        links=(None, ("purchase", -1.0), ("dropout", 1.0), ("dropout", 1.0)),
        group=_group_likelihood,
    )
    r: float = attrs.field(validator=positive)
    alpha: float = attrs.field(validator=positive)
    a: float = attrs.field(validator=positive)
    b: float = attrs.field(validator=positive)
    fit_report: FitReport | None = attrs.field(default=None, eq=False, repr=False)
