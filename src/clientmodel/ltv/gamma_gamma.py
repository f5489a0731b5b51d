"""The gamma-gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV: using
iso-value curves for customer base analysis", JMR 42(4); Fader & Hardie 2013, "The Gamma-Gamma
Model of Monetary Value").

Each transaction of a customer is worth ``z ~ Gamma(p, nu)`` (shape ``p``, rate ``nu``), so the
customer's mean spend per transaction is ``p / nu``; across customers ``nu ~ Gamma(q, gamma)``.
The model sees each customer through ``x`` (the number of transactions whose value is averaged,
``frequency``) and ``zbar`` (their mean value, ``monetary_value``): given ``nu`` the mean of ``x``
values is ``Gamma(p x, nu x)``, and integrating ``nu`` out gives the likelihood.

**Independence.** The model assumes that how much a customer spends per transaction does not
depend on how often they buy; :func:`frequency_spend_correlation` reports the correlation of
``frequency`` and ``monetary_value`` among repeat buyers to check it (0.11 on CDNOW, which
Fader & Hardie judge small enough).

**Customers with frequency 0.** A customer without a repeat transaction has no observed repeat
spend: their likelihood is 1 (they contribute nothing to the fit and are not counted in
``fit_report.n_observations``), and their expected spend is the population mean
``p gamma / (q - 1)``. Their ``monetary_value`` is ignored (0 by convention).
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
from clientmodel.ltv._base import (
    Prediction,
    SummaryData,
    check_n_customers,
    output,
    positive,
    read_summary,
    read_weights,
)
from clientmodel.ltv._fitting import FitReport, Likelihood, compress
from clientmodel.ltv.contract import SpendModel

__all__ = ["GammaGamma", "frequency_spend_correlation"]

Array = NDArray[np.float64]
_SUMMARY = ("frequency", "monetary_value")


def _read(
    summary: Any, columns: Mapping[str, str] | None, *, optional: Sequence[str] = ()
) -> SummaryData:
    """Read (frequency, monetary_value); repeat buyers must have a spend > 0."""
    data = read_summary(
        summary, _SUMMARY, columns=columns, counts=("frequency",), optional=optional
    )
    x, m = data["frequency"], data["monetary_value"]
    bad = (x > 0) & ~(m > 0)
    if bad.any():
        rows = np.flatnonzero(bad)
        shown = [{"frequency": float(x[i]), "monetary_value": float(m[i])} for i in rows[:5]]
        raise DataError(
            f"summary has {len(rows)} row(s) with frequency > 0 and monetary_value <= 0: "
            f"{describe_rows(rows, shown)}; a repeat buyer's mean spend per transaction must be "
            "> 0 (drop refunds/zero-value orders before summarising, or model them separately)",
            field="monetary_value",
            rows=rows[:5].tolist(),
        )
    return data


#: Per-likelihood constants: distinct x and their total weights, per-row ``w x`` and ``x zbar``,
#: and the weighted sums of log zbar that do not depend on the parameters.
Prepared = tuple[Array, Array, Array, Array, float, float]


def _prepare(x: Array, z: Array, w: Array) -> Prepared:
    """Split the likelihood into per-distinct-x terms and parameter-free sums."""
    ux, ix = np.unique(x, return_inverse=True)
    wx = np.bincount(ix.reshape(-1), weights=w, minlength=len(ux)).astype(np.float64)
    log_z = np.log(z)
    return ux, wx, x * w, x * z, float(np.dot(w * x, log_z)), float(np.dot(w, log_z))


def _gg_loglik(
    theta: Array,
    x: Array,
    z: Array,
    w: Array,
    gradient: bool = True,
    prepared: Prepared | None = None,
) -> tuple[float, Array | None]:
    """Total weighted log-likelihood of repeat buyers (``x > 0``) and its log-scale gradient.

    The density of the mean ``zbar`` of ``x`` transactions (Fader & Hardie 2013, eq. 3)::

        f(zbar | p, q, gamma, x) = Gamma(p x + q) / (Gamma(p x) Gamma(q))
            * gamma^q x^(p x) zbar^(p x - 1) / (gamma + x zbar)^(p x + q)

    The special functions depend on ``x`` only and are evaluated once per distinct ``x``; the
    ``log zbar`` sums do not depend on the parameters. Per row only ``log(gamma + x zbar)`` is
    left.
    """
    p, q, g = (float(v) for v in theta)
    ux, wx, wxr, xz, sum_wx_logz, sum_w_logz = _prepare(x, z, w) if prepared is None else prepared
    pux = p * ux
    log_ux = np.log(ux)
    per_x = special.gammaln(pux + q) - special.gammaln(pux) + pux * log_ux
    total_w = float(wx.sum())
    log_gxz = np.log(g + xz)
    value = (
        float(np.dot(wx, per_x))
        + total_w * (q * math.log(g) - float(special.gammaln(q)))
        + p * sum_wx_logz
        - sum_w_logz
        - p * float(np.dot(wxr, log_gxz))
        - q * float(np.dot(w, log_gxz))
    )
    if not gradient:
        return value, None
    d_pxq = special.digamma(pux + q)
    d_p = (
        float(np.dot(wx, ux * (d_pxq - special.digamma(pux) + log_ux)))
        + sum_wx_logz
        - float(np.dot(wxr, log_gxz))
    )
    d_q = (
        float(np.dot(wx, d_pxq))
        + total_w * (math.log(g) - float(special.digamma(q)))
        - float(np.dot(w, log_gxz))
    )
    inv = 1.0 / (g + xz)
    d_g = total_w * q / g - p * float(np.dot(wxr, inv)) - q * float(np.dot(w, inv))
    grad = np.array([d_p, d_q, d_g]) * theta
    return value, grad


def frequency_spend_correlation(
    summary: Any,
    *,
    columns: Mapping[str, str] | None = None,
    method: str = "pearson",
) -> float:
    """Correlation of ``frequency`` and ``monetary_value`` among repeat buyers.

    The gamma-gamma model assumes spend per transaction is independent of the number of
    transactions. Fader & Hardie (2013) report 0.11 on CDNOW and treat it as small; a large
    value (say above 0.3 in absolute value) means the model's expected spend is biased for
    frequent (or infrequent) buyers and a model that links the two is needed.

    Parameters
    ----------
    summary:
        A table with ``frequency`` and ``monetary_value`` (frequency-0 rows are left out).
    method:
        ``"pearson"`` (linear) or ``"spearman"`` (rank) correlation.

    Examples
    --------
    >>> summary = {"frequency": [1, 2, 3, 0], "monetary_value": [10.0, 12.0, 11.0, 0.0]}
    >>> round(frequency_spend_correlation(summary), 3)
    0.5
    """
    if method not in ("pearson", "spearman"):
        raise ArgumentError(
            f"method={method!r} is not known; use 'pearson' or 'spearman'", field="method"
        )
    data = _read(summary, columns)
    keep = data["frequency"] > 0
    x, m = data["frequency"][keep], data["monetary_value"][keep]
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(m) == 0:
        raise DataError(
            f"the correlation needs at least 3 repeat buyers with varying frequency and spend; "
            f"got {len(x)} repeat buyer(s)",
            field="frequency",
        )
    if method == "spearman":
        from scipy import stats

        return float(stats.spearmanr(x, m).statistic)
    return float(np.corrcoef(x, m)[0, 1])


def _check_mean(q: float) -> None:
    if q <= 1.0:
        raise ArgumentError(
            f"GammaGamma has q={q!r} <= 1: the mixing distribution of spend has no mean, so the "
            "expected spend per transaction of a new customer is infinite (not a number this "
            "library will return). The data have a very heavy right tail of spend: cap or remove "
            "outlying spends, model large orders separately, or use a penalizer when fitting",
            field="q",
        )


@attrs.frozen(kw_only=True)
class GammaGamma(SpendModel):
    """Gamma-gamma spend model: gamma transaction values with a gamma-distributed rate.

    Attributes
    ----------
    p : float
        Shape of the gamma distribution of one transaction's value (given ``nu``).
    q : float
        Shape of the gamma distribution of ``nu`` across customers. The mean spend per
        transaction of a random customer is ``p gamma / (q - 1)``, finite only when ``q > 1``.
    gamma : float
        Rate of the gamma distribution of ``nu`` (in the currency's unit).
    fit_report : FitReport or None
        How the fit went (``None`` for a model built from known parameters).

    Examples
    --------
    >>> from clientmodel.ltv.gamma_gamma import GammaGamma
    >>> m = GammaGamma(p=6.25, q=3.74, gamma=15.44)
    >>> round(m.expected_spend_new(), 2)
    35.22
    >>> round(m.expected_spend({"frequency": 2, "monetary_value": 22.35}), 2)
    24.66
    """

    PARAMS: ClassVar[tuple[str, ...]] = ("p", "q", "gamma")
    #: Published estimates, the example of the check suite (Fader & Hardie (2013), CDNOW):
    EXAMPLE: ClassVar[dict[str, float]] = {"p": 6.25, "q": 3.74, "gamma": 15.44}
    GAMMA_MIXTURES: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("q", "gamma", "spending rates (nu)"),
    )
    BETA_MIXTURES: ClassVar[tuple[tuple[str, str, str], ...]] = ()
    p: float = attrs.field(validator=positive)
    q: float = attrs.field(validator=positive)
    gamma: float = attrs.field(validator=positive)
    fit_report: FitReport | None = attrs.field(default=None, eq=False, repr=False)

    @classmethod
    def _likelihood(
        cls, summary: Any, *, weights: str | ArrayLike | None, columns: Mapping[str, str] | None
    ) -> Likelihood:
        """(frequency, monetary_value) of the repeat buyers, compressed; analytic gradient.

        Rows with ``frequency == 0`` have no observed repeat spend and contribute nothing (their
        likelihood is 1); they may stay in the table.
        """
        data = _read(summary, columns, optional=("weights",))
        w = read_weights(summary, data, weights, columns)
        x, m = data["frequency"], data["monetary_value"]
        keep = (x > 0) & (w > 0)
        if not keep.any():
            raise DataError(
                "no row has frequency > 0 (with a weight > 0): the gamma-gamma model learns from "
                "the spend of repeat transactions, so it needs customers who came back",
                field="frequency",
            )
        (cx, cm), cw = compress(x[keep], m[keep], weights=w[keep])
        prepared = _prepare(cx, cm, cw)

        def loglik(z: Array) -> tuple[float, Array | None]:
            return _gg_loglik(np.exp(z), cx, cm, cw, prepared=prepared)

        mean = float(np.average(cm, weights=cw))
        default = [
            [1.0, 2.0, mean],
            [5.0, 4.0, 3.0 * mean / 5.0],
            [1.0, 1.0, 1.0],
            [0.5, 10.0, 20.0 * mean],
        ]
        return Likelihood(loglik, default, float(cw.sum()), len(cx))

    def log_likelihood_of(
        self,
        summary: Any,
        *,
        weights: str | ArrayLike | None = None,
        columns: Mapping[str, str] | None = None,
    ) -> float:
        """Total (weighted) log-likelihood of the repeat buyers' mean spends at these parameters.

        Frequency-0 rows contribute 0.

        Examples
        --------
        >>> from clientmodel.ltv.gamma_gamma import GammaGamma
        >>> m = GammaGamma(p=6.25, q=3.74, gamma=15.44)
        >>> round(m.log_likelihood_of({"frequency": 2, "monetary_value": 22.35}), 4)
        -3.5513
        """
        data = _read(summary, columns)
        w = read_weights(summary, data, weights, columns)
        x, m = data["frequency"], data["monetary_value"]
        keep = x > 0
        theta = np.array([self.p, self.q, self.gamma])
        return _gg_loglik(theta, x[keep], m[keep], w[keep], gradient=False)[0]

    def expected_spend(
        self, summary: Any, *, columns: Mapping[str, str] | None = None
    ) -> Prediction:
        """Expected spend per transaction of each customer, given their repeat transactions.

        Fader & Hardie (2013), eq. 5: the posterior of ``nu`` is ``Gamma(p x + q, gamma + x
        zbar)``, so::

            E[Z | x, zbar] = p (gamma + x zbar) / (p x + q - 1)
                           = w * p gamma / (q - 1) + (1 - w) * zbar,  w = (q - 1) / (p x + q - 1)

        a weighted average of the population mean and the customer's own mean. A customer with
        ``frequency == 0`` gets the population mean.

        ``E[1 / nu]`` under ``Gamma(k, rate)`` is ``rate / (k - 1)`` for ``k > 1`` and infinite
        otherwise, so the conditional mean is finite wherever ``p x + q > 1`` -- for ``q <= 1``
        too, once a customer has enough transactions. Rows where it is infinite (``p x + q <=
        1``, e.g. new customers when ``q <= 1``) raise ``DataError`` naming them.

        Examples
        --------
        >>> from clientmodel.ltv.gamma_gamma import GammaGamma
        >>> m = GammaGamma(p=6.25, q=3.74, gamma=15.44)
        >>> m.expected_spend({"frequency": [2, 0], "monetary_value": [22.35, 0.0]}).round(2)
        array([24.66, 35.22])
        """
        data = _read(summary, columns)
        x, m = data["frequency"], np.where(data["frequency"] > 0, data["monetary_value"], 0.0)
        shape = self.p * x + self.q  # posterior shape of nu; E[1/nu] is finite iff it is > 1
        infinite = shape <= 1.0
        if infinite.any():
            rows = np.flatnonzero(infinite)
            raise DataError(
                f"the expected spend is infinite for {len(rows)} customer(s) "
                f"({describe_rows(rows, x[rows].tolist())} transactions): with q={self.q:.4g} "
                f"and p={self.p:.4g} the posterior of the spending rate has shape p x + q <= 1, "
                "which has no mean; such customers need more transactions (p x + q > 1) or a "
                "spend model with q > 1",
                field="frequency",
                rows=rows[:5].tolist(),
            )
        # E[Z | x, zbar] = p (gamma + x zbar) / (p x + q - 1): amounts so large that the
        # customer's total p (gamma + x zbar) leaves float64 are refused, not turned into inf.
        with np.errstate(over="ignore"):
            values = self.p * (self.gamma + x * m) / (shape - 1.0)
        overflow = ~np.isfinite(values)
        if overflow.any():
            rows = np.flatnonzero(overflow)
            raise DataError(
                f"the expected spend overflows float64 for {len(rows)} customer(s) "
                f"({describe_rows(rows, m[rows].tolist())}): monetary_value is too large; "
                "rescale the amounts (e.g. to thousands)",
                field="monetary_value",
                rows=rows[:5].tolist(),
            )
        return output(values, data)

    def expected_spend_new(self) -> float:
        """Mean spend per transaction of a random (new) customer: ``p gamma / (q - 1)``.

        Examples
        --------
        >>> from clientmodel.ltv.gamma_gamma import GammaGamma
        >>> round(GammaGamma(p=6.25, q=3.74, gamma=15.44).expected_spend_new(), 4)
        35.219
        """
        _check_mean(self.q)
        return self.p * self.gamma / (self.q - 1.0)

    def simulate(
        self,
        n_customers: int,
        frequency: ArrayLike,
        *,
        seed: int | np.random.Generator | None = None,
    ) -> dict[str, NDArray[Any]]:
        """Draw mean spends for customers with the given numbers of transactions.

        Each customer gets ``nu ~ Gamma(q, rate gamma)``; the mean of ``x`` transaction values
        ``Gamma(p, rate nu)`` is ``Gamma(p x, rate x nu)``. Customers with ``frequency == 0`` get
        ``monetary_value == 0``.

        Parameters
        ----------
        n_customers:
            Number of customers.
        frequency:
            One whole number >= 0 for everyone, or one per customer.
        seed:
            Seed or generator for reproducible draws.

        Examples
        --------
        >>> from clientmodel.ltv.gamma_gamma import GammaGamma
        >>> sim = GammaGamma(p=6.25, q=3.74, gamma=15.44).simulate(3, [1, 2, 0], seed=4)
        >>> sorted(sim), float(sim["monetary_value"][2])
        (['frequency', 'monetary_value'], 0.0)
        """
        n = check_n_customers(n_customers)
        try:
            freq_f = np.broadcast_to(np.asarray(frequency, dtype=np.float64), (n,)).copy()
        except (TypeError, ValueError) as exc:
            raise ArgumentError(
                "frequency must be one whole number or one per customer", field="frequency"
            ) from exc
        if not np.all(np.isfinite(freq_f) & (freq_f >= 0) & (freq_f == np.round(freq_f))):
            raise ArgumentError(
                "frequency must hold whole numbers >= 0 (one value or one per customer)",
                field="frequency",
            )
        freq = freq_f.astype(np.int64)
        rng = check_seed(seed)
        nu = rng.gamma(self.q, 1.0 / self.gamma, size=n)
        pos = freq > 0
        monetary = np.zeros(n)
        shape = self.p * freq[pos]
        monetary[pos] = rng.gamma(shape, 1.0 / (freq[pos] * nu[pos]))
        return {"frequency": freq, "monetary_value": monetary}
