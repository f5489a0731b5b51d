"""The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987, "Counting your customers: who are
they and what will they do next?", Management Science 33(1)).

While alive, a customer buys at the rate ``lambda`` of a Poisson process; their unobserved
lifetime is exponential with rate ``mu``. Across customers ``lambda ~ Gamma(r, alpha)`` and
``mu ~ Gamma(s, beta)``, independently. The likelihood follows Fader & Hardie (2005), "A note on
deriving the Pareto/NBD model and related expressions", with the hypergeometric terms evaluated
in a stable, log-space form (see :mod:`clientmodel.ltv._special`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special
from typing_extensions import Self

from clientmodel.errors import ArgumentError
from clientmodel.ltv import _special
from clientmodel.ltv._base import ParametricModel, Prediction, SummaryData, output, positive
from clientmodel.ltv._fitting import FitReport, maximize
from clientmodel.ltv.bgnbd import _check_count, _check_time, _fit_data, _read, _sim_setup

__all__ = ["ParetoNBD"]

Array = NDArray[np.float64]

# Gauss-Legendre nodes for the P(X(t) = n) integral over the dropout time.
_GL_X, _GL_W = np.polynomial.legendre.leggauss(64)


def _pareto_terms(theta: Array, x: Array, tx: Array, t: Array) -> tuple[Array, Array, Array]:
    """Per-row log-likelihood pieces: (common log factor, log alive term, log dead term).

    ``L = Gamma(r+x) alpha^r beta^s / Gamma(r) * [ (alpha+T)^-(r+x) (beta+T)^-s
    + s * integral_{t_x}^{T} (alpha+u)^-(r+x) (beta+u)^-(s+1) du ]``: the first bracket term is
    "alive at T", the second "died at some u in (t_x, T]".
    """
    r, alpha, s, beta = (float(v) for v in theta)
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + t) - s * np.log(beta + t)
    upper = _special.log_pareto_tail(tx, r, alpha, s, beta, x)
    lower = _special.log_pareto_tail(t, r, alpha, s, beta, x)
    with np.errstate(divide="ignore"):
        dead = np.log(s) + upper + np.log(-np.expm1(np.minimum(lower - upper, 0.0)))
    return common, alive, dead


@attrs.frozen(kw_only=True)
class ParetoNBD(ParametricModel):
    """Pareto/NBD model: Poisson purchases while alive, exponential lifetimes, gamma mixing.

    Parameters
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
    r: float = attrs.field(validator=positive)
    alpha: float = attrs.field(validator=positive)
    s: float = attrs.field(validator=positive)
    beta: float = attrs.field(validator=positive)
    fit_report: FitReport | None = attrs.field(default=None, eq=False, repr=False)

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

        Parameters are as for :meth:`clientmodel.ltv.bgnbd.BGNBD.fit`; ``starts`` are
        ``[r, alpha, s, beta]``. The gradient is taken numerically (the derivatives of the
        hypergeometric terms with respect to their parameters have no convenient closed form).

        Examples
        --------
        >>> from clientmodel.ltv.pareto_nbd import ParetoNBD
        >>> data = ParetoNBD(r=0.55, alpha=10.0, s=0.6, beta=12.0).simulate(2000, 39.0, seed=2)
        >>> ParetoNBD.fit(data).fit_report.converged
        True
        """
        x, tx, t, w = _fit_data(summary, weights, columns, cls.__name__)

        def loglik(z: Array) -> tuple[float, Array | None]:
            common, alive, dead = _pareto_terms(np.exp(z), x, tx, t)
            return float(np.dot(w, common + np.logaddexp(alive, dead))), None

        scale = float(np.average(t, weights=w)) or 1.0
        default = [
            [1.0, scale, 1.0, scale],
            [0.5, scale / 4.0, 0.5, scale / 4.0],
            [1.0, 1.0, 1.0, 1.0],
            [0.1, scale * 5, 2.0, scale * 5],
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
        return cls(**estimates, fit_report=report)

    def _theta(self) -> Array:
        return np.array([self.r, self.alpha, self.s, self.beta])

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
        if weights is None:
            w = np.ones(len(x))
        elif isinstance(weights, str):
            from clientmodel.ltv._base import read_summary

            w = read_summary(summary, ("weights",), columns={"weights": weights})["weights"]
        else:
            w = np.asarray(weights, dtype=np.float64).reshape(-1)
        common, alive, dead = _pareto_terms(self._theta(), x, tx, t)
        return float(np.dot(w, common + np.logaddexp(alive, dead)))

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
            alive = alive * np.exp(self.s * (np.log(bt) - np.log(bt + horizon)))
        return output(alive, data)

    def churn_risk(
        self, summary: Any, *, horizon: float = 0.0, columns: Mapping[str, str] | None = None
    ) -> Prediction:
        """``1 - p_alive``.

        Examples
        --------
        >>> from clientmodel.ltv.pareto_nbd import ParetoNBD
        >>> m = ParetoNBD(r=0.553, alpha=10.578, s=0.606, beta=11.669)
        >>> 0 < m.churn_risk({"frequency": 0, "recency": 0.0, "T": 38.86}) < 1
        True
        """
        alive = self.p_alive(summary, horizon=horizon, columns=columns)
        return 1.0 - alive

    def _alive_expected(self, t: Any, r: Any, alpha: Any, beta: Any) -> Array:
        """E[purchases in (0, t]] for a customer alive at 0 with lambda ~ Gamma(r, alpha),
        mu ~ Gamma(s, beta): ``r/alpha * beta * [1 - (beta/(beta+t))**(s-1)] / (s-1)``."""
        t, r, alpha, beta = np.broadcast_arrays(
            np.asarray(t, dtype=np.float64), r, alpha, np.asarray(beta, dtype=np.float64)
        )
        log_base = np.log(beta) - np.log(beta + t)
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
        ts = np.atleast_1d(np.asarray(times, dtype=np.float64))
        for v in ts:
            _check_time(float(v), "times")
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
        ts = np.asarray(t, dtype=np.float64)
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

        The integral is taken by 64-point Gauss-Legendre quadrature on ``[0, t]``.
        """

        def log_nb(u: Array, rr: Array, aa: Array) -> Array:
            with np.errstate(divide="ignore"):
                tail = np.where(n > 0, n * (np.log(u) - np.log(aa + u)), 0.0)
            value: Array = (
                special.gammaln(rr + n)
                - special.gammaln(rr)
                - special.gammaln(n + 1.0)
                + rr * (np.log(aa) - np.log(aa + u))
                + tail
            )
            return value

        if t == 0:
            return np.full(r.shape, float(n == 0))
        s = self.s
        alive_term = np.exp(log_nb(np.asarray(t), r, alpha) + s * (np.log(beta) - np.log(beta + t)))
        u = (_GL_X + 1.0) * (t / 2.0)  # nodes on [0, t]
        dens = (s + 1.0) * (np.log(beta[:, None]) - np.log(beta[:, None] + u[None, :]))
        integrand = np.exp(
            np.log(s)
            - np.log(beta[:, None])
            + dens
            + log_nb(u[None, :], r[:, None], alpha[:, None])
        )
        dead_term = (t / 2.0) * integrand @ _GL_W
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
