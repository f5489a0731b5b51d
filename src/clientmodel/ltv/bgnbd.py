"""The BG/NBD model of repeat buying (Fader, Hardie & Lee 2005, "Counting your customers the
easy way").

While alive, a customer buys at the rate ``lambda`` of a Poisson process; right after each repeat
purchase they become inactive for good with probability ``p``. Across customers ``lambda`` follows
a gamma distribution (shape ``r``, rate ``alpha``) and ``p`` a beta distribution (``a``, ``b``).
The model needs only each customer's frequency (repeat purchases), recency (time of the last
purchase, from the first) and ``T`` (time from the first purchase to the end of observation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special
from typing_extensions import Self

from clientmodel.errors import ArgumentError, DataError, describe_rows
from clientmodel.ltv import _special
from clientmodel.ltv._base import (
    ParametricModel,
    Prediction,
    SummaryData,
    check_btyd,
    output,
    positive,
    read_summary,
)
from clientmodel.ltv._fitting import FitReport, compress, maximize

__all__ = ["BGNBD"]

Array = NDArray[np.float64]
_SUMMARY = ("frequency", "recency", "T")


def _read(summary: Any, columns: Mapping[str, str] | None) -> SummaryData:
    data = read_summary(summary, _SUMMARY, columns=columns, counts=("frequency",))
    check_btyd(data)
    return data


def _fit_data(
    summary: Any,
    weights: str | ArrayLike | None,
    columns: Mapping[str, str] | None,
    model: str,
) -> tuple[Array, Array, Array, Array]:
    """Read, validate and compress (frequency, recency, T) with weights for a fit."""
    rename = dict(columns or {})
    if isinstance(weights, str):
        rename["weights"] = weights
        data = read_summary(summary, (*_SUMMARY, "weights"), columns=rename, counts=("frequency",))
    else:
        data = read_summary(
            summary, _SUMMARY, columns=rename, counts=("frequency",), optional=("weights",)
        )
    check_btyd(data)
    x, tx, t = data["frequency"], data["recency"], data["T"]
    if weights is None or isinstance(weights, str):
        w = data.columns.get("weights", np.ones(len(x)))
    else:
        w = np.asarray(weights, dtype=np.float64).reshape(-1)
        if len(w) != len(x):
            raise ArgumentError(
                f"weights has {len(w)} value(s) but the summary has {len(x)} row(s); give one "
                "weight per row",
                field="weights",
            )
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise DataError(
            f"weights has {len(rows)} invalid value(s): {describe_rows(rows, w[rows].tolist())}; "
            "weights are counts of customers, finite and >= 0",
            field="weights",
            rows=rows.tolist(),
        )
    keep = w > 0
    if not keep.any():
        raise DataError("every weight is 0: there is nothing to fit", field="weights")
    if not (x[keep] > 0).any():
        rows = np.flatnonzero(keep)[:5]
        raise DataError(
            f"every customer has frequency 0 (e.g. {describe_rows(rows, x[rows].tolist())}): "
            f"{model} cannot separate purchase rate from dropout without repeat purchases; "
            "use a longer observation period or a summary that includes repeat buyers",
            field="frequency",
            rows=rows.tolist(),
        )
    (cx, ctx, ct), cw = compress(x[keep], tx[keep], t[keep], weights=w[keep])
    return cx, ctx, ct, cw


Factors = tuple[Array, NDArray[np.intp], Array, NDArray[np.intp], Array, NDArray[np.intp]]


def _factorize(x: Array, tx: Array, t: Array) -> Factors:
    """Distinct values of each column and the row -> value index (few distinct x, t_x, T)."""
    ux, ix = np.unique(x, return_inverse=True)
    utx, itx = np.unique(tx, return_inverse=True)
    ut, it = np.unique(t, return_inverse=True)
    return ux, ix, utx, itx, ut, it


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

    The gradient is with respect to the log-parameters. Special functions are evaluated once
    per distinct ``x`` (and logs once per distinct ``t_x`` and ``T``), then gathered per row.
    """
    r, alpha, a, b = theta
    ux, ix, utx, itx, ut, it = _factorize(x, tx, t) if factors is None else factors
    uk = ux + shift
    has2_u = uk > 0
    lat_u = np.log(alpha + ut)
    latx_u = np.log(alpha + utx)
    bab = special.betaln(a, b)
    common_u = special.gammaln(r + ux) - special.gammaln(r) + r * np.log(alpha)
    b1_u = special.betaln(a, b + uk) - bab
    with np.errstate(all="ignore"):
        b2_u = np.where(has2_u, special.betaln(a + 1, b + uk - 1) - bab, -np.inf)
    rx = (r + ux)[ix]
    lat = lat_u[it]
    latx = latx_u[itx]
    l1 = b1_u[ix] - rx * lat
    l2 = b2_u[ix] - rx * latx
    lse = np.logaddexp(l1, l2)
    value = float(np.dot(w, common_u[ix] + lse))
    if not gradient:
        return value, None
    w1 = np.exp(l1 - lse)
    w2 = 1.0 - w1
    dg = special.digamma
    d_ab = dg(a + b)
    d_abk = dg(a + b + uk)
    with np.errstate(all="ignore"):
        d_b2_u = np.where(has2_u, dg(b + uk - 1), 0.0) - d_abk - dg(b) + d_ab
    d_a1_u = d_ab - d_abk
    d_a2_u = np.where(has2_u, dg(a + 1) - dg(a) + d_a1_u, 0.0)
    d_b1_u = dg(b + uk) - d_abk - dg(b) + d_ab
    d_r = (dg(r + ux) - dg(r) + np.log(alpha))[ix] - w1 * lat - w2 * latx
    d_alpha = r / alpha - rx * (w1 / (alpha + t) + w2 / (alpha + tx))
    d_a = w1 * d_a1_u[ix] + w2 * d_a2_u[ix]
    d_b = w1 * d_b1_u[ix] + w2 * d_b2_u[ix]
    grad = np.array([np.dot(w, d) for d in (d_r, d_alpha, d_a, d_b)]) * theta
    return value, grad


class _BetaGeometricFamily(ParametricModel):
    """Predictions shared by BG/NBD (``_SHIFT = 0``) and MBG/NBD (``_SHIFT = 1``).

    A customer alive at ``T`` with history ``(x, t_x, T)`` behaves from then on like a new, alive
    BG/NBD customer with parameters ``(r + x, alpha + T, a, b + x + shift)``: the posterior of
    ``lambda`` is ``Gamma(r + x, alpha + T)`` and that of ``p`` is ``Beta(a, b + x + shift)``.
    Every conditional prediction is therefore P(alive) times a new-customer quantity.
    """

    PARAMS: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    _SHIFT: ClassVar[int] = 0
    r: float
    alpha: float
    a: float
    b: float

    # -- fitting -----------------------------------------------------------------------------

    @classmethod
    def fit(
        cls,
        summary: Any,
        *,
        weights: str | ArrayLike | None = None,
        penalizer: float = 0.0,
        columns: Mapping[str, str] | None = None,
        starts: Sequence[Sequence[float]] | None = None,
    ) -> Self:
        """Fit by maximum likelihood on the compressed customer summary.

        Parameters
        ----------
        summary:
            A table (pandas / polars / pyarrow / mapping of columns) with ``frequency``,
            ``recency`` and ``T`` (one row per customer, or per distinct history with weights).
        weights:
            Column name or array of per-row customer counts; by default a ``weights`` column is
            used when present, else every row counts once.
        penalizer:
            L2 penalty on the parameters (helps on small or degenerate data).
        columns:
            Renames, e.g. ``{"frequency": "x", "recency": "t_x"}``.
        starts:
            Starting points ``[r, alpha, a, b]`` tried in order (defaults are sensible).

        Returns
        -------
        A new model with the estimates and ``fit_report``. Raises ``ConvergenceError`` when no
        start converges and ``DataError`` for invalid data (including no repeat purchases).

        Examples
        --------
        >>> from clientmodel.ltv.bgnbd import BGNBD
        >>> data = BGNBD(r=0.25, alpha=4.0, a=0.8, b=2.5).simulate(2000, 39.0, seed=1)
        >>> model = BGNBD.fit(data)
        >>> model.fit_report.converged
        True
        """
        x, tx, t, w = _fit_data(summary, weights, columns, cls.__name__)
        shift = cls._SHIFT
        factors = _factorize(x, tx, t)

        def loglik(z: Array) -> tuple[float, Array | None]:
            return _bg_loglik(np.exp(z), x, tx, t, w, shift, factors=factors)

        scale = float(np.average(t, weights=w)) or 1.0
        default = [
            [1.0, scale, 1.0, 1.0],
            [0.5, scale / 5.0, 0.5, 2.0],
            [1.0, 1.0, 1.0, 1.0],
            [0.1, scale * 5, 2.0, 5.0],
        ]
        estimates, report = maximize(
            loglik,
            names=cls.PARAMS,
            starts=default if starts is None else starts,
            n_observations=float(w.sum()),
            n_distinct=len(x),
            penalizer=penalizer,
            model=cls.__name__,
        )
        return cls(**estimates, fit_report=report)  # type: ignore[call-arg]

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
        if weights is None:
            w = np.ones(len(x))
        elif isinstance(weights, str):
            w = read_summary(summary, ("weights",), columns={"weights": weights})["weights"]
        else:
            w = np.asarray(weights, dtype=np.float64).reshape(-1)
        theta = np.array([self.r, self.alpha, self.a, self.b])
        return _bg_loglik(theta, x, tx, t, w, self._SHIFT, gradient=False)[0]

    # -- predictions -------------------------------------------------------------------------

    def _posterior(self, data: SummaryData) -> tuple[Array, Array, Array, Array]:
        """P(alive at T) and the posterior (r, alpha, b) of an alive customer."""
        x, tx, t = data["frequency"], data["recency"], data["T"]
        k = x + self._SHIFT
        with np.errstate(all="ignore"):
            log_odds = (
                np.log(self.a)
                - np.log(np.maximum(self.b + k - 1, 1e-300))
                + (self.r + x) * (np.log(self.alpha + t) - np.log(self.alpha + tx))
            )
        log_odds = np.where(k > 0, log_odds, -np.inf)
        alive = np.exp(-np.logaddexp(0.0, log_odds))
        return alive, self.r + x, self.alpha + t, self.b + k

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
        if not (np.isfinite(horizon) and horizon >= 0):
            raise ArgumentError(
                f"horizon={horizon!r} must be a finite number >= 0", field="horizon"
            )
        data = _read(summary, columns)
        alive, r, alpha, b = self._posterior(data)
        if horizon > 0:
            alive = alive * _special.bg_alive_survival(horizon, r, alpha, self.a, b)
        return output(alive, data)

    def churn_risk(
        self, summary: Any, *, horizon: float = 0.0, columns: Mapping[str, str] | None = None
    ) -> Prediction:
        """``1 - p_alive``: the probability the customer has already (or by then) dropped out.

        Examples
        --------
        >>> from clientmodel.ltv.bgnbd import BGNBD
        >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> round(m.churn_risk({"frequency": 2, "recency": 30.43, "T": 38.86}), 4)
        0.2734
        """
        alive = self.p_alive(summary, horizon=horizon, columns=columns)
        return 1.0 - alive

    def expected_purchases(
        self, summary: Any, t: float, *, columns: Mapping[str, str] | None = None
    ) -> Prediction:
        """E[purchases in ``(T, T + t]``] given frequency, recency and ``T``.

        Fader, Hardie & Lee (2005), eq. 10: P(alive) times the new-customer expectation with the
        posterior parameters ``(r + x, alpha + T, a, b + x)``.

        Examples
        --------
        >>> from clientmodel.ltv.bgnbd import BGNBD
        >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> round(m.expected_purchases({"frequency": 2, "recency": 30.43, "T": 38.86}, 39), 3)
        1.226
        """
        _check_time(t, "t")
        data = _read(summary, columns)
        alive, r, alpha, b = self._posterior(data)
        values = alive * _special.bg_alive_expected(t, r, alpha, self.a, b)
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
        ts = np.atleast_1d(np.asarray(times, dtype=np.float64))
        for v in ts:
            _check_time(float(v), "times")
        data = _read(summary, columns)
        alive, r, alpha, b = self._posterior(data)
        values = _special.bg_alive_expected(
            ts[None, :], r[:, None], alpha[:, None], self.a, b[:, None]
        )
        path: NDArray[np.float64] = alive[:, None] * values
        return path

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
        alive, r, alpha, b = self._posterior(new)
        values = alive[0] * _special.bg_alive_expected(ts, r[0], alpha[0], self.a, b[0])
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
        alive, r, alpha, b = self._posterior(data)
        pmf = _special.bg_alive_pmf(n, t, r, alpha, self.a, b)
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
        alive, r, alpha, b = self._posterior(new)
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


def _sim_setup(
    n_customers: int, T: ArrayLike, seed: int | np.random.Generator | None, holdout: float
) -> tuple[int, Array, np.random.Generator]:
    if not isinstance(n_customers, (int, np.integer)) or n_customers < 1:
        raise ArgumentError(
            f"n_customers={n_customers!r} must be a whole number >= 1", field="n_customers"
        )
    n = int(n_customers)
    times = np.broadcast_to(np.asarray(T, dtype=np.float64), (n,)).copy()
    if not np.all(np.isfinite(times) & (times >= 0)):
        raise ArgumentError("T must be finite and >= 0 (one value or one per customer)", field="T")
    if not (np.isfinite(holdout) and holdout >= 0):
        raise ArgumentError(f"holdout={holdout!r} must be finite and >= 0", field="holdout")
    return n, times, np.random.default_rng(seed)


def _check_time(t: float, name: str) -> None:
    if not isinstance(t, (int, float, np.integer, np.floating)) or not (np.isfinite(t) and t >= 0):
        raise ArgumentError(f"{name}={t!r} must be a finite number >= 0", field=name)


def _check_count(n: int) -> None:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ArgumentError(f"n={n!r} must be a whole number >= 0", field="n")


@attrs.frozen(kw_only=True)
class BGNBD(_BetaGeometricFamily):
    """BG/NBD model (Fader, Hardie & Lee 2005): gamma purchase rates, beta-geometric dropout.

    Parameters
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
    _SHIFT: ClassVar[int] = 0
    r: float = attrs.field(validator=positive)
    alpha: float = attrs.field(validator=positive)
    a: float = attrs.field(validator=positive)
    b: float = attrs.field(validator=positive)
    fit_report: FitReport | None = attrs.field(default=None, eq=False, repr=False)
