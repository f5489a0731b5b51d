"""The BG/BB model of repeat transactions at discrete opportunities (Fader, Hardie & Shang 2010,
"Customer-Base Analysis in a Discrete-Time Noncontractual Setting", Marketing Science 29(6)).

Some transactions can only happen at discrete occasions: a yearly donation drive, an annual
conference, a weekly class. After the first transaction a customer faces opportunities
``1, 2, ..., n``. At each one, a customer who is still *alive* first survives with probability
``1 - theta`` (or leaves for good with probability ``theta``), and if still alive transacts with
probability ``p``. Across customers ``p ~ Beta(alpha, beta)`` and ``theta ~ Beta(gamma, delta)``,
independently. A customer is summarised by ``frequency`` ``x`` (transactions in the ``n``
opportunities), ``recency`` ``t_x`` (the opportunity of the last one, 0 when ``x = 0``) and ``n``.

"Alive at opportunity ``k``" means the customer survived the dropout draws of opportunities
``1..k``; a customer who transacted at ``t_x`` was alive then. ``p_alive(horizon=0)`` is the
probability of being alive at ``n``; the paper's ``P(alive in period n + 1)`` (eq. 11) is
``p_alive(horizon=1)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from clientmodel._validation import check_seed
from clientmodel.errors import ArgumentError, DataError, describe_rows
from clientmodel.ltv import _discrete
from clientmodel.ltv._base import (
    Prediction,
    SummaryData,
    check_n_customers,
    output,
    positive,
    read_summary,
    read_weights,
)
from clientmodel.ltv._fitting import FitReport, Likelihood, compress, distinct_rows
from clientmodel.ltv.contract import TransactionModel

__all__ = ["BGBB"]

Array = NDArray[np.float64]
_SUMMARY = ("frequency", "recency", "n")
# Cells (rows x terms) evaluated at once in the likelihood.
_CELLS = 1 << 21


def _check_bgbb(data: SummaryData) -> None:
    """Validate (frequency, recency, n): 0 <= x <= t_x <= n, t_x = 0 exactly when x = 0."""
    x, tx, n = data["frequency"], data["recency"], data["n"]
    problems = [
        (tx > n, "recency > n", "recency is the opportunity of the last transaction, <= n"),
        (
            x > tx,
            "frequency > recency",
            "x transactions need at least x opportunities up to the last one (x <= recency)",
        ),
    ]
    for mask, what, rule in problems:
        if mask.any():
            rows = np.flatnonzero(mask)
            shown = [
                {"frequency": int(x[i]), "recency": int(tx[i]), "n": int(n[i])} for i in rows[:5]
            ]
            raise DataError(
                f"summary has {len(rows)} row(s) with {what}: {describe_rows(rows, shown)}; {rule}",
                field="recency",
                rows=rows[:5].tolist(),
            )
    bad = (x == 0) & (tx > 0)
    if bad.any():
        rows = np.flatnonzero(bad)
        shown = [{"frequency": 0, "recency": int(tx[i]), "n": int(n[i])} for i in rows[:5]]
        raise DataError(
            f"summary has {len(rows)} row(s) with frequency 0 and recency > 0: "
            f"{describe_rows(rows, shown)}; without a transaction, recency = 0",
            field="recency",
            rows=rows[:5].tolist(),
        )


def _read(
    summary: Any, columns: Mapping[str, str] | None, *, optional: Sequence[str] = ()
) -> SummaryData:
    data = read_summary(summary, _SUMMARY, columns=columns, counts=_SUMMARY, optional=optional)
    _check_bgbb(data)
    return data


def _row_loglik(
    theta: Array, x: Array, tx: Array, n: Array, gradient: bool
) -> tuple[Array, Array | None]:
    """Per-row log-likelihood and (optionally) its gradient w.r.t. the natural parameters.

    Fader, Hardie & Shang (2010), eq. 5::

        L = B(alpha+x, beta+n-x)/B(alpha, beta) * B(gamma, delta+n)/B(gamma, delta)
            + sum_{i=0}^{n-t_x-1} B(alpha+x, beta+t_x-x+i)/B(alpha, beta)
                                  * B(gamma+1, delta+t_x+i)/B(gamma, delta)

    The first term is "alive through n", the others "alive through t_x + i, gone at the next
    opportunity". Every term has the form ``B(alpha+x, beta+m-x) B(gamma+e, delta+m)`` with
    ``(m, e) = (n, 0)`` or ``(t_x + i, 1)``, so all log-gamma and digamma values come from
    tables indexed by whole numbers ``0..max(n)+1``; the terms are combined with logsumexp.
    """
    a, b, g, d = (float(v) for v in theta)
    xi, txi, ni = x.astype(np.int64), tx.astype(np.int64), n.astype(np.int64)
    top = int(ni.max()) + 2 if len(ni) else 2
    k = np.arange(top, dtype=np.float64)
    gl = special.gammaln
    ta, tb, tab = gl(a + k), gl(b + k), gl(a + b + k)
    tg, td, tgd = gl(g + k), gl(d + k), gl(g + d + k)
    base = (ta[0] + tb[0] - tab[0]) + (tg[0] + td[0] - tgd[0])
    if gradient:
        dg = special.digamma
        da, db, dab = dg(a + k), dg(b + k), dg(a + b + k)
        dgg, dd, dgd = dg(g + k), dg(d + k), dg(g + d + k)
    rows = len(xi)
    ll = np.empty(rows)
    grads = np.empty((rows, 4)) if gradient else None
    width = int((ni - txi).max()) + 1 if rows else 1
    step = max(1, _CELLS // width)
    j = np.arange(width)
    for lo in range(0, rows, step):
        sl = slice(lo, min(rows, lo + step))
        xs, ts, ns = xi[sl, None], txi[sl, None], ni[sl, None]
        # column 0: (m, e) = (n, 0); column j >= 1: (t_x + j - 1, 1), valid while j <= n - t_x
        m = np.where(j == 0, ns, ts + j - 1)
        e = (j > 0).astype(np.int64)[None, :] + np.zeros_like(m)
        valid = (j == 0) | (j <= ns - ts)
        m = np.where(valid, m, ns)
        terms = ta[xs] + tb[m - xs] - tab[m] + tg[e] + td[m] - tgd[e + m] - base
        terms = np.where(valid, terms, -np.inf)
        lse = special.logsumexp(terms, axis=1)
        ll[sl] = lse
        if grads is not None:
            share = np.exp(terms - lse[:, None])
            grads[sl, 0] = np.sum(share * (da[xs] - dab[m]), axis=1) - da[0] + dab[0]
            grads[sl, 1] = np.sum(share * (db[m - xs] - dab[m]), axis=1) - db[0] + dab[0]
            grads[sl, 2] = np.sum(share * (dgg[e] - dgd[e + m]), axis=1) - dgg[0] + dgd[0]
            grads[sl, 3] = np.sum(share * (dd[m] - dgd[e + m]), axis=1) - dd[0] + dgd[0]
    return ll, grads


@attrs.frozen(kw_only=True)
class BGBB(TransactionModel):
    """BG/BB model: beta-Bernoulli transactions, beta-geometric dropout, in discrete time.

    Attributes
    ----------
    alpha : float
        First parameter of the beta distribution of the transaction probability ``p`` (per
        opportunity, while alive).
    beta : float
        Second parameter of that beta distribution; the mean of ``p`` is
        ``alpha / (alpha + beta)``.
    gamma : float
        First parameter of the beta distribution of the dropout probability ``theta`` (per
        opportunity).
    delta : float
        Second parameter of that beta distribution; the mean of ``theta`` is
        ``gamma / (gamma + delta)``.
    fit_report : FitReport or None
        How the fit went (``None`` for a model built from known parameters).

    Examples
    --------
    >>> from clientmodel.ltv.bgbb import BGBB
    >>> m = BGBB(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
    >>> round(m.p_alive({"frequency": 6, "recency": 6, "n": 6}), 3)
    1.0
    >>> round(m.expected_purchases({"frequency": 3, "recency": 4, "n": 6}, 5), 3)
    1.034
    """

    PARAMS: ClassVar[tuple[str, ...]] = ("alpha", "beta", "gamma", "delta")
    #: Published estimates, the example of the check suite (Fader, Hardie & Shang 2010):
    EXAMPLE: ClassVar[dict[str, float]] = {
        "alpha": 1.204,
        "beta": 0.750,
        "gamma": 0.657,
        "delta": 2.783,
    }
    SUMMARY: ClassVar[tuple[str, ...]] = _SUMMARY
    EXAMPLE_PERIOD: ClassVar[float] = 6
    DISCRETE_TIME: ClassVar[bool] = True
    GAMMA_MIXTURES: ClassVar[tuple[tuple[str, str, str], ...]] = ()
    BETA_MIXTURES: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("alpha", "beta", "purchase probability per opportunity"),
        ("gamma", "delta", "dropout probability per opportunity"),
    )
    alpha: float = attrs.field(validator=positive)
    beta: float = attrs.field(validator=positive)
    gamma: float = attrs.field(validator=positive)
    delta: float = attrs.field(validator=positive)
    fit_report: FitReport | None = attrs.field(default=None, eq=False, repr=False)

    def _theta(self) -> Array:
        return np.array([self.alpha, self.beta, self.gamma, self.delta])

    # -- fitting -----------------------------------------------------------------------------

    @classmethod
    def _likelihood(
        cls, summary: Any, *, weights: str | ArrayLike | None, columns: Mapping[str, str] | None
    ) -> Likelihood:
        """Compressed whole-number (frequency, recency, n) histories; analytic gradient."""
        data = _read(summary, columns, optional=("weights",))
        w = read_weights(summary, data, weights, columns)
        x, tx, n = data["frequency"], data["recency"], data["n"]
        keep = w > 0
        if not keep.any():
            raise DataError("every weight is 0: there is nothing to fit", field="weights")
        if not (x[keep] > 0).any():
            rows = np.flatnonzero(keep)[:5]
            raise DataError(
                f"every customer has frequency 0 (e.g. {describe_rows(rows, x[rows].tolist())}): "
                "BG/BB cannot separate the transaction probability from dropout without repeat "
                "transactions",
                field="frequency",
                rows=rows.tolist(),
            )
        (cx, ctx, cn), cw = compress(x[keep], tx[keep], n[keep], weights=w[keep])

        def loglik(z: Array) -> tuple[float, Array | None]:
            theta = np.exp(z)
            ll, grads = _row_loglik(theta, cx, ctx, cn, True)
            assert grads is not None
            return float(np.dot(cw, ll)), (cw @ grads) * theta

        default = [
            [1.0, 1.0, 1.0, 1.0],
            [1.0, 0.5, 0.5, 3.0],
            [0.5, 2.0, 2.0, 0.5],
            [3.0, 3.0, 0.2, 5.0],
        ]
        return Likelihood(loglik, default, float(cw.sum()), len(cx))

    def log_likelihood_of(
        self,
        summary: Any,
        *,
        weights: str | ArrayLike | None = None,
        columns: Mapping[str, str] | None = None,
    ) -> float:
        """Total (weighted) log-likelihood of a summary at this model's parameters.

        Examples
        --------
        >>> import pandas as pd
        >>> from clientmodel.ltv.bgbb import BGBB
        >>> m = BGBB(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
        >>> round(m.log_likelihood_of({"frequency": 0, "recency": 0, "n": 6}), 4)
        -1.1673
        """
        data = _read(summary, columns)
        w = read_weights(summary, data, weights, columns)
        ll, _ = _row_loglik(self._theta(), data["frequency"], data["recency"], data["n"], False)
        return float(np.dot(w, ll))

    # -- predictions -------------------------------------------------------------------------

    def _posterior(self, data: SummaryData) -> tuple[Array, Array, Array, Array, Array]:
        """P(alive at n | history) and the posterior (a, b) of p and (g, d) of theta when alive.

        ``P(alive at n) = B(alpha+x, beta+n-x)/B(alpha, beta) B(gamma, delta+n)/B(gamma, delta)
        / L``; given alive, ``p ~ Beta(alpha+x, beta+n-x)`` and ``theta ~ Beta(gamma, delta+n)``.
        """
        x, tx, n = data["frequency"], data["recency"], data["n"]
        (ux, utx, un), idx = distinct_rows(x, tx, n)
        ll, _ = _row_loglik(self._theta(), ux, utx, un, False)
        a, b, g, d = self.alpha, self.beta, self.gamma, self.delta
        first = (
            special.betaln(a + ux, b + un - ux)
            - special.betaln(a, b)
            + special.betaln(g, d + un)
            - special.betaln(g, d)
        )
        # Transacting at the last opportunity means alive now: the likelihood has one term.
        alive = np.where(utx == un, 1.0, np.clip(np.exp(first - ll), 0.0, 1.0))[idx]
        return alive, a + x, b + n - x, np.full(len(x), g), d + n

    def p_alive(
        self, summary: Any, *, horizon: float = 0, columns: Mapping[str, str] | None = None
    ) -> Prediction:
        """P(the customer is alive at opportunity ``n + horizon``) given their history.

        ``horizon=1`` is Fader, Hardie & Shang (2010), eq. 11 ("alive in period n + 1")::

            B(alpha+x, beta+n-x)/B(alpha, beta) * B(gamma, delta+n+1)/B(gamma, delta) / L

        and ``horizon=0`` is the same with ``delta + n``: alive now (1 for a customer who
        transacted at the last opportunity, ``t_x = n``).

        Examples
        --------
        >>> from clientmodel.ltv.bgbb import BGBB
        >>> m = BGBB(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
        >>> h = {"frequency": 2, "recency": 3, "n": 6}
        >>> round(m.p_alive(h), 4), round(m.p_alive(h, horizon=1), 4)
        (0.3211, 0.2988)
        """
        steps = _discrete.check_whole(horizon, "horizon")
        data = _read(summary, columns)
        alive, _, _, g, d = self._posterior(data)
        if steps > 0:
            alive = alive * np.exp(special.betaln(g, d + steps) - special.betaln(g, d))
        return output(alive, data)

    def expected_purchases(
        self, summary: Any, t: float, *, columns: Mapping[str, str] | None = None
    ) -> Prediction:
        """E[transactions in the next ``t`` opportunities, ``n+1 .. n+t``] given the history.

        Fader, Hardie & Shang (2010), eq. 13::

            1/L * B(alpha+x+1, beta+n-x)/B(alpha, beta) * delta/(gamma-1)
                * Gamma(gamma+delta)/Gamma(1+delta)
                * [Gamma(1+delta+n)/Gamma(gamma+delta+n)
                   - Gamma(1+delta+n+t)/Gamma(gamma+delta+n+t)]

        computed as ``P(alive at n) * (alpha+x)/(alpha+beta+n) * S(t)``, with ``S(t)`` the
        expected number of the next ``t`` opportunities survived under ``Beta(gamma, delta+n)``.

        Examples
        --------
        >>> from clientmodel.ltv.bgbb import BGBB
        >>> m = BGBB(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
        >>> round(m.expected_purchases({"frequency": 6, "recency": 6, "n": 6}, 5), 3)
        3.752
        """
        steps = _discrete.check_whole(t, "t")
        data = _read(summary, columns)
        alive, a, b, g, d = self._posterior(data)
        values = alive * a / (a + b) * _discrete.survival_sum(steps, g, d)
        return output(values, data)

    def expected_purchases_path(
        self, summary: Any, times: ArrayLike, *, columns: Mapping[str, str] | None = None
    ) -> NDArray[np.float64]:
        """Conditional expected transactions at several horizons: shape (customers, len(times)).

        Examples
        --------
        >>> from clientmodel.ltv.bgbb import BGBB
        >>> m = BGBB(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
        >>> m.expected_purchases_path({"frequency": [3], "recency": [4], "n": [6]},
        ...                           [1, 5, 10]).round(3).tolist()
        [[0.232, 1.034, 1.848]]
        """
        ts = _discrete.check_whole_array(np.atleast_1d(np.asarray(times)), "times")
        data = _read(summary, columns)
        alive, a, b, g, d = self._posterior(data)
        sums = _discrete.survival_sum(ts[None, :], g[:, None], d[:, None])
        path: NDArray[np.float64] = (alive * a / (a + b))[:, None] * sums
        return path

    def expected_purchases_new(self, t: ArrayLike) -> Prediction:
        """E[X(t)]: expected transactions in the first ``t`` opportunities of a new customer.

        Fader, Hardie & Shang (2010), eq. 8::

            alpha/(alpha+beta) * delta/(gamma-1)
                * [1 - Gamma(gamma+delta) Gamma(1+delta+t) / (Gamma(gamma+delta+t) Gamma(1+delta))]

        (with its limit at ``gamma = 1``).

        Examples
        --------
        >>> from clientmodel.ltv.bgbb import BGBB
        >>> m = BGBB(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
        >>> round(m.expected_purchases_new(6), 4)
        2.2196
        """
        ts = _discrete.check_whole_array(t, "t")
        values = (
            self.alpha
            / (self.alpha + self.beta)
            * _discrete.survival_sum(ts, self.gamma, self.delta)
        )
        return float(values) if values.ndim == 0 else values

    def _alive_pmf(self, k: int, t: int, a: Array, b: Array, g: Array, d: Array) -> Array:
        """P(k transactions in t opportunities) for a customer alive at 0 with p ~ Beta(a, b),
        theta ~ Beta(g, d) (Fader, Hardie & Shang 2010, eq. 7)::

            C(t, k) B(a+k, b+t-k)/B(a, b) B(g, d+t)/B(g, d)
            + sum_{i=k}^{t-1} C(i, k) B(a+k, b+i-k)/B(a, b) B(g+1, d+i)/B(g, d)
        """
        if k > t:
            return np.zeros(a.shape)

        def log_choose(top: float) -> float:
            return math.lgamma(top + 1) - math.lgamma(k + 1) - math.lgamma(top - k + 1)

        bab, bgd = special.betaln(a, b), special.betaln(g, d)
        total = np.exp(
            log_choose(t) + special.betaln(a + k, b + t - k) - bab + special.betaln(g, d + t) - bgd
        )
        for i in range(k, t):
            total += np.exp(
                log_choose(i)
                + special.betaln(a + k, b + i - k)
                - bab
                + special.betaln(g + 1, d + i)
                - bgd
            )
        out: Array = np.clip(total, 0.0, 1.0)
        return out

    def p_purchases(
        self, summary: Any, n: int, t: float, *, columns: Mapping[str, str] | None = None
    ) -> Prediction:
        """P(exactly ``n`` transactions in the next ``t`` opportunities) given the history.

        ``P(alive at n) * P_new(n, t | alpha+x, beta+n-x, gamma, delta+n)
        + (1 - P(alive at n)) [n = 0]``: an alive customer starts afresh with the posterior
        parameters.

        Examples
        --------
        >>> from clientmodel.ltv.bgbb import BGBB
        >>> m = BGBB(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
        >>> h = {"frequency": 3, "recency": 4, "n": 6}
        >>> round(sum(m.p_purchases(h, k, 5) for k in range(6)), 10)
        1.0
        """
        k = _discrete.check_whole(n, "n")
        steps = _discrete.check_whole(t, "t", maximum=_discrete.MAX_PERIODS)
        data = _read(summary, columns)
        alive, a, b, g, d = self._posterior(data)
        pmf = self._alive_pmf(k, steps, a, b, g, d)
        values = alive * pmf + (1.0 - alive) * float(k == 0)
        return output(np.clip(values, 0.0, 1.0), data)

    def p_purchases_new(self, n: int, t: float) -> float:
        """P(X(t) = n): exactly ``n`` transactions in the first ``t`` opportunities (eq. 7).

        Examples
        --------
        >>> from clientmodel.ltv.bgbb import BGBB
        >>> m = BGBB(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
        >>> round(m.p_purchases_new(0, 6), 4)
        0.3112
        """
        k = _discrete.check_whole(n, "n")
        steps = _discrete.check_whole(t, "t", maximum=_discrete.MAX_PERIODS)
        one = np.ones(1)
        pmf = self._alive_pmf(
            k, steps, self.alpha * one, self.beta * one, self.gamma * one, self.delta * one
        )
        return float(pmf[0])

    def dert(
        self,
        summary: Any,
        discount_rate: float,
        *,
        columns: Mapping[str, str] | None = None,
    ) -> Prediction:
        """Discounted expected residual transactions: future transactions valued at ``n``.

        Fader, Hardie & Shang (2010), eq. 14, with ``d`` the discount rate *per opportunity*
        and the transaction at opportunity ``n + k`` discounted by ``(1 + d)**-k``::

            DERT = 1/L * B(alpha+x+1, beta+n-x)/B(alpha, beta) * B(gamma, delta+n+1)
                   / (B(gamma, delta) (1+d)) * 2F1(1, delta+n+1; gamma+delta+n+1; 1/(1+d))

        The hypergeometric series is summed directly (positive terms; scipy's ``hyp2f1`` is
        unreliable at these arguments). Multiply by the value of a transaction for the
        residual value. ``discount_rate=0`` gives the expected number of all future
        transactions, finite only when ``gamma > 1``.

        Examples
        --------
        >>> from clientmodel.ltv.bgbb import BGBB
        >>> m = BGBB(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
        >>> round(m.dert({"frequency": 6, "recency": 6, "n": 6}, 0.1), 3)
        5.909
        """
        c = _discrete.check_rate(discount_rate)
        data = _read(summary, columns)
        alive, a, b, _, d = self._posterior(data)
        sums = _discrete.discounted_survival_sum(self.gamma, d, c)
        return output(alive * a / (a + b) * sums, data)

    def simulate(
        self,
        n_customers: int,
        n: ArrayLike,
        *,
        seed: int | np.random.Generator | None = None,
        holdout: float = 0,
    ) -> dict[str, NDArray[Any]]:
        """Draw customer histories over ``n`` opportunities (one value or one per customer).

        Each customer gets ``p ~ Beta(alpha, beta)`` and ``theta ~ Beta(gamma, delta)``; the
        number ``K`` of opportunities survived is geometric (``P(K >= k) = (1-theta)**k``), and
        the customer transacts with probability ``p`` at each of the first ``min(K, n)``. The
        recency is drawn exactly: counting back from the last alive opportunity, the first
        transaction is geometric in ``p``; the ones before it are binomial. With ``holdout > 0``
        the transactions in the next ``holdout`` opportunities are returned as
        ``frequency_holdout``.

        Examples
        --------
        >>> from clientmodel.ltv.bgbb import BGBB
        >>> sim = BGBB(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783).simulate(4, 6, seed=2)
        >>> sorted(sim)
        ['frequency', 'n', 'recency']
        """
        size = check_n_customers(n_customers)
        opportunities = _discrete.check_whole_array(n, "n")
        try:
            opportunities = np.broadcast_to(opportunities, (size,)).copy()
        except ValueError as exc:
            raise ArgumentError(
                "n must be one whole number or one per customer", field="n"
            ) from exc
        extra = _discrete.check_whole(holdout, "holdout", maximum=_discrete.MAX_PERIODS)
        rng = check_seed(seed)
        p = rng.beta(self.alpha, self.beta, size=size)
        theta = rng.beta(self.gamma, self.delta, size=size)
        cap = float(opportunities.max() + extra + 1)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            # K = floor(log U / log(1 - theta)): P(K >= k) = (1 - theta)^k
            survived = np.floor(np.log(rng.random(size)) / np.log1p(-theta))
            survived = np.nan_to_num(np.minimum(survived, cap), nan=cap, posinf=cap)
            alive = np.minimum(survived, opportunities).astype(np.int64)
            # Trailing non-transactions before the last transaction, counted back from `alive`.
            gap = np.floor(np.log(rng.random(size)) / np.log1p(-p))
            gap = np.nan_to_num(np.minimum(gap, cap), nan=cap, posinf=cap).astype(np.int64)
        bought = gap < alive
        recency = np.where(bought, alive - gap, 0)
        before = np.maximum(recency - 1, 0)
        frequency = np.where(bought, 1 + rng.binomial(before, p), 0)
        out: dict[str, NDArray[Any]] = {
            "frequency": frequency.astype(np.int64),
            "recency": recency.astype(np.int64),
            "n": opportunities,
        }
        if extra > 0:
            future = np.clip(np.minimum(survived, opportunities + extra) - opportunities, 0, extra)
            out["frequency_holdout"] = rng.binomial(future.astype(np.int64), p)
        return out
