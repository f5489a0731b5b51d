"""The shifted-beta-geometric (sBG) model of contractual retention (Fader & Hardie 2007, "How to
Project Customer Retention", Journal of Interactive Marketing 21(1)), and the customer-base
valuation built on it (Fader & Hardie 2010, "Customer-Base Valuation in a Contractual Setting:
The Perils of Ignoring Heterogeneity", Marketing Science 29(1)).

Subscribers sign up at time 0 and, at the end of every period, renew or cancel. A customer
cancels at each renewal with her own probability ``theta`` (so her lifetime is geometric), and
``theta ~ Beta(alpha, beta)`` across customers. Because the customers with a high ``theta`` leave
first, the retention rate of a cohort *rises* with tenure even though no individual's changes.

Two ways to describe the data, equivalent for fitting:

* **survival counts** of a cohort: ``n_0, n_1, ..., n_k`` customers still subscribed at the
  start and after each of ``k`` renewal decisions (e.g. 1000, 631, 468, ...);
* **per-customer tenures**: ``renewals`` (how many times the customer renewed) and ``churned``
  (whether they have cancelled). A customer who cancelled at the first renewal decision has
  ``renewals = 0, churned = True``; one still subscribed after ``k`` renewals has
  ``renewals = k, churned = False`` (right-censored). A cohort's counts are ``n_{t-1} - n_t``
  customers with ``(t - 1, True)`` and ``n_k`` with ``(k, False)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, overload

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special
from typing_extensions import Self

from clientmodel._validation import check_number, check_seed
from clientmodel.errors import ArgumentError, DataError, describe_rows
from clientmodel.ltv import _discrete
from clientmodel.ltv._base import (
    MAX_CUSTOMERS,
    Prediction,
    SummaryData,
    check_n_customers,
    check_starts,
    non_negative,
    output,
    positive,
    read_summary,
    read_weights,
)
from clientmodel.ltv._fitting import FitReport, Likelihood, compress
from clientmodel.ltv.contract import RetentionModel
from clientmodel.ltv.covariates import CovariateLinks

if TYPE_CHECKING:
    from clientmodel.ltv.covariates import CovariateModel

__all__ = ["ShiftedBetaGeometric"]

Array = NDArray[np.float64]


def _cohorts(survivors: Any) -> list[NDArray[np.int64]]:
    """Validate survival counts: one cohort (a sequence) or several (a sequence of sequences)."""
    if isinstance(survivors, Mapping):
        survivors = list(survivors.values())
    if isinstance(survivors, (str, bytes)) or not hasattr(survivors, "__len__"):
        raise DataError(
            "survivors must be a sequence of counts (one cohort) or a sequence of such sequences "
            f"(several cohorts); got {type(survivors).__name__}",
            field="survivors",
        )
    items = list(survivors)
    if not items:
        raise DataError("survivors is empty: give at least n_0 and n_1", field="survivors")
    nested = all(np.ndim(v) == 1 for v in items)
    if not nested and any(np.ndim(v) != 0 for v in items):
        raise DataError(
            "survivors mixes numbers and sequences; give one cohort's counts or a list of cohorts",
            field="survivors",
        )
    raw = items if nested else [items]
    out: list[NDArray[np.int64]] = []
    for c, cohort in enumerate(raw):
        name = f"cohort {c}" if nested else "survivors"
        try:
            values = np.asarray(cohort, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError) as exc:
            raise DataError(f"{name} holds values that are not numbers", field="survivors") from exc
        bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values))
        if bad.any():
            pos = np.flatnonzero(bad)
            raise DataError(
                f"{name} has {len(pos)} count(s) that are not whole numbers >= 0: "
                f"{_describe_periods(pos, values[pos])}; survivors are numbers of customers",
                field="survivors",
                rows=pos[:5].tolist(),
            )
        if len(values) < 2:
            raise DataError(
                f"{name} has {len(values)} count(s); give at least the starting size n_0 and the "
                "number left after the first renewal, n_1",
                field="survivors",
            )
        if values[0] <= 0:
            raise DataError(
                f"{name} starts with n_0 = {values[0]:g}; a cohort needs at least one customer",
                field="survivors",
                rows=[0],
            )
        rising = np.flatnonzero(np.diff(values) > 0) + 1
        if len(rising):
            shown = [f"n_{p - 1}={values[p - 1]:g} -> n_{p}={values[p]:g}" for p in rising[:5]]
            raise DataError(
                f"{name} increases at period(s) {rising[:5].tolist()} ({', '.join(shown)}); "
                "survival counts of one cohort can only stay the same or fall (new sign-ups "
                "belong to a new cohort)",
                field="survivors",
                rows=rising[:5].tolist(),
            )
        out.append(values.astype(np.int64))
    return out


def _describe_periods(positions: NDArray[np.intp], values: Array) -> str:
    return ", ".join(
        f"period {int(p)}: {v!r}" for p, v in zip(positions[:5], values[:5].tolist(), strict=True)
    )


def _tenures_from_cohorts(
    cohorts: list[NDArray[np.int64]],
) -> tuple[Array, Array, Array]:
    """(renewals, churned, weights) rows equivalent to the survival counts."""
    renewals: list[Array] = []
    churned: list[Array] = []
    weights: list[Array] = []
    for values in cohorts:
        k = len(values) - 1
        lost = (values[:-1] - values[1:]).astype(np.float64)
        renewals += [np.arange(k, dtype=np.float64), np.array([float(k)])]
        churned += [np.ones(k), np.zeros(1)]
        weights += [lost, np.array([float(values[-1])])]
    return np.concatenate(renewals), np.concatenate(churned), np.concatenate(weights)


def _read_tenures(
    summary: Any, columns: Mapping[str, str] | None, *, require_churned: bool
) -> SummaryData:
    optional: tuple[str, ...] = ("weights",) if require_churned else ("churned", "weights")
    required: tuple[str, ...] = ("renewals", "churned") if require_churned else ("renewals",)
    data = read_summary(summary, required, columns=columns, counts=("renewals",), optional=optional)
    if "churned" in data.columns:
        flag = data["churned"]
        bad = (flag != 0) & (flag != 1)
        if bad.any():
            rows = np.flatnonzero(bad)
            raise DataError(
                f"churned has {len(rows)} value(s) that are not true/false (1/0): "
                f"{describe_rows(rows, flag[rows].tolist())}",
                field="churned",
                rows=rows[:5].tolist(),
            )
    return data


def _sbg_loglik(
    theta: Array, renewals: Array, churned: Array, w: Array, gradient: bool = True
) -> tuple[float, Array | None]:
    """Total weighted log-likelihood and its gradient w.r.t. the log-parameters.

    Fader & Hardie (2007), eq. 3-4 in the renewal count ``r``::

        P(cancel at renewal decision r + 1) = B(alpha + 1, beta + r) / B(alpha, beta)
        P(still subscribed after r renewals) = B(alpha, beta + r) / B(alpha, beta)
    """
    a, b = (float(v) for v in theta)
    c = churned > 0
    e = c.astype(np.float64)  # alpha + 1 for a cancellation, alpha for a survivor
    ll = special.betaln(a + e, b + renewals) - special.betaln(a, b)
    value = float(np.dot(w, ll))
    if not gradient:
        return value, None
    dg = special.digamma
    d_ab = dg(a + b)
    d_end = dg(a + b + renewals + e)
    d_a = dg(a + e) - d_end - dg(a) + d_ab
    d_b = dg(b + renewals) - d_end - dg(b) + d_ab
    return value, np.array([np.dot(w, d_a), np.dot(w, d_b)]) * theta


def _scalar_or_array(values: Array) -> float | Array:
    return float(values) if values.ndim == 0 else values


def _sbg_eval(
    theta: Array, renewals: Array, churned: Array, w: Array, order: int
) -> tuple[float, Array | None, Array | None]:
    """sBG log-likelihood (Fader & Hardie 2007, eq. 3-4), gradient and Hessian w.r.t. the
    log-parameters: ``log B(alpha + e, beta + k) - log B(alpha, beta)`` per row, ``e`` = churned.
    """
    a, b = (float(v) for v in theta)
    e = (churned > 0).astype(np.float64)
    value = float(np.dot(w, special.betaln(a + e, b + renewals) - special.betaln(a, b)))
    if order < 1:
        return value, None, None
    dg = special.digamma

    def tg(v: Any) -> Array:
        out: Array = special.polygamma(1, v)
        return out

    end = a + b + renewals + e
    g = np.array(
        [
            np.dot(w, dg(a + e) - dg(end)) + w.sum() * (dg(a + b) - dg(a)),
            np.dot(w, dg(b + renewals) - dg(end)) + w.sum() * (dg(a + b) - dg(b)),
        ]
    )
    if order < 2:
        return value, g * theta, None
    t_end = float(np.dot(w, tg(end)))
    t_ab = w.sum() * float(tg(a + b))
    h = np.array(
        [
            [float(np.dot(w, tg(a + e))) - t_end - w.sum() * float(tg(a)) + t_ab, t_ab - t_end],
            [
                t_ab - t_end,
                float(np.dot(w, tg(b + renewals))) - t_end - w.sum() * float(tg(b)) + t_ab,
            ],
        ]
    )
    return value, g * theta, h * np.outer(theta, theta) + np.diag(g * theta)


def _group_likelihood(
    history: Sequence[Array], w: Array
) -> Callable[[Array, int], tuple[float, Array | None, Array | None]]:
    """The likelihood of customers sharing one set of parameters (fits with covariates)."""
    renewals, churned = history
    return lambda theta, order: _sbg_eval(theta, renewals, churned, w, order)


@attrs.frozen(kw_only=True)
class ShiftedBetaGeometric(RetentionModel):
    """Shifted-beta-geometric retention model (Fader & Hardie 2007).

    Attributes
    ----------
    alpha : float
        First parameter of the beta distribution of the per-period cancellation probability
        ``theta``.
    beta : float
        Second parameter; the mean ``alpha / (alpha + beta)`` is the first-period churn rate.
    fit_report : FitReport or None
        How the fit went (``None`` for a model built from known parameters).

    Examples
    --------
    >>> from clientmodel.ltv.sbg import ShiftedBetaGeometric
    >>> m = ShiftedBetaGeometric(alpha=0.704, beta=1.182)
    >>> m.survival([0, 1, 7]).round(3).tolist()
    [1.0, 0.627, 0.239]
    >>> round(m.retention_rate(7), 3)
    0.911
    """

    PARAMS: ClassVar[tuple[str, ...]] = ("alpha", "beta")
    #: Published estimates, the example of the check suite (Fader & Hardie 2007, regular):
    EXAMPLE: ClassVar[dict[str, float]] = {"alpha": 0.704, "beta": 1.182}
    GAMMA_MIXTURES: ClassVar[tuple[tuple[str, str, str], ...]] = ()
    BETA_MIXTURES: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("alpha", "beta", "dropout probability per period"),
    )
    #: theta ~ Beta(alpha, beta_i), beta_i = beta exp(-g.z): a positive g raises the churn.
    COVARIATES: ClassVar[CovariateLinks | None] = CovariateLinks(
        links=(None, ("dropout", -1.0)),
        group=_group_likelihood,
        predictions=("p_retained", "churn_risk", "derl"),
        history=("renewals", "churned"),
        read=lambda summary, columns, fit: _read_tenures(summary, columns, require_churned=fit),
        plain=lambda cls, history: cls.fit_tenures(dict(history)),
        tenures=True,
    )
    alpha: float = attrs.field(validator=positive)
    beta: float = attrs.field(validator=positive)
    fit_report: FitReport | None = attrs.field(default=None, eq=False, repr=False)

    # -- fitting -----------------------------------------------------------------------------

    @classmethod
    def _rows_likelihood(cls, renewals: Array, churned: Array, w: Array) -> Likelihood:
        keep = w > 0
        if not keep.any():
            raise DataError("there are no customers to fit (all counts are 0)", field="weights")
        if not (churned[keep] > 0).any():
            raise DataError(
                "no customer cancelled: the data say nothing about how fast customers leave "
                "(the fit would put the churn probability at 0); wait for a renewal decision "
                "with cancellations",
                field="churned",
            )
        if not ((churned[keep] == 0) | (renewals[keep] > 0)).any():
            raise DataError(
                "every customer cancelled at the first renewal decision: the data cannot tell "
                "how retention changes with tenure",
                field="churned",
            )
        (cr, cc), cw = compress(renewals[keep], churned[keep], weights=w[keep])

        def loglik(z: Array) -> tuple[float, Array | None]:
            return _sbg_loglik(np.exp(z), cr, cc, cw)

        default = [[1.0, 1.0], [0.5, 2.0], [2.0, 0.5], [0.1, 0.1], [5.0, 20.0]]
        return Likelihood(loglik, default, float(cw.sum()), len(cr))

    @classmethod
    def _likelihood(
        cls, summary: Any, *, weights: str | ArrayLike | None, columns: Mapping[str, str] | None
    ) -> Likelihood:
        """Cohort survival counts ``[n_0, n_1, ..., n_k]`` (one cohort, a list of cohorts, or a
        mapping of cohort name -> counts; counts never increase). The counts are the weights,
        so ``weights`` and ``columns`` do not apply: per-customer tenures go to
        :meth:`fit_tenures`."""
        for name, value in (("weights", weights), ("columns", columns)):
            if value is not None:
                raise ArgumentError(
                    f"{name} does not apply to ShiftedBetaGeometric.fit, which reads cohort "
                    "survival counts; fit per-customer tenures with fit_tenures",
                    field=name,
                )
        renewals, churned, w = _tenures_from_cohorts(_cohorts(summary))
        return cls._rows_likelihood(renewals, churned, w)

    @overload
    @classmethod
    def fit_tenures(
        cls,
        summary: Any,
        *,
        weights: str | ArrayLike | None = None,
        penalizer: float = 0.0,
        columns: Mapping[str, str] | None = None,
        starts: Sequence[Sequence[float]] | None = None,
        covariates: None = None,
    ) -> Self: ...

    @overload
    @classmethod
    def fit_tenures(
        cls,
        summary: Any,
        *,
        weights: str | ArrayLike | None = None,
        penalizer: float = 0.0,
        columns: Mapping[str, str] | None = None,
        starts: Sequence[Sequence[float]] | None = None,
        covariates: Any,
        dropout: Sequence[str] = (),
        customer: str = "customer_id",
        penalty: float = 0.0,
    ) -> CovariateModel: ...

    @classmethod
    def fit_tenures(
        cls,
        summary: Any,
        *,
        weights: str | ArrayLike | None = None,
        penalizer: float = 0.0,
        columns: Mapping[str, str] | None = None,
        starts: Sequence[Sequence[float]] | None = None,
        covariates: Any = None,
        dropout: Sequence[str] = (),
        customer: str = "customer_id",
        penalty: float = 0.0,
    ) -> Self | CovariateModel:
        """Fit by maximum likelihood on per-customer tenures with right-censoring.

        Parameters
        ----------
        summary:
            A table with ``renewals`` (whole number >= 0) and ``churned`` (true/false or 1/0):
            one row per customer, or per distinct (renewals, churned) with ``weights``.
        weights:
            Column name or array of per-row customer counts; by default a ``weights`` column is
            used when present.
        penalizer, starts:
            As for :meth:`fit`.
        columns:
            Renames, e.g. ``{"renewals": "n_renewals", "churned": "cancelled"}``.
        covariates, dropout, customer, penalty:
            Time-invariant covariates of the churn probability (a table joined on
            ``customer``, or ``True`` for columns of ``summary``): ``beta_i = beta
            exp(-gamma . z_i)``, see :mod:`clientmodel.ltv.covariates`. The result is then a
            :class:`~clientmodel.ltv.covariates.CovariateModel`.

        Examples
        --------
        >>> from clientmodel.ltv.sbg import ShiftedBetaGeometric
        >>> data = ShiftedBetaGeometric(alpha=0.7, beta=1.2).simulate(5000, 8, seed=1)
        >>> ShiftedBetaGeometric.fit_tenures(data).fit_report.converged
        True
        """
        if covariates is not None:
            from clientmodel.ltv.covariates import fit_with_covariates

            return fit_with_covariates(
                cls,
                summary,
                penalizer=penalizer,
                starts=starts,
                covariates=None if covariates is True else covariates,
                dropout=dropout,
                customer=customer,
                penalty=penalty,
                weights=weights,
                columns=columns,
                tenures=True,
            )
        penalty = check_number(penalizer, "penalizer", minimum=0)
        chosen = None if starts is None else check_starts(starts, cls.PARAMS)
        data = _read_tenures(summary, columns, require_churned=True)
        w = read_weights(summary, data, weights, columns)
        problem = cls._rows_likelihood(data["renewals"], data["churned"], w)
        return cls._maximize(problem, penalty, chosen)

    def log_likelihood_of(self, survivors: Any) -> float:
        """Log-likelihood of cohort survival counts at this model's parameters.

        Examples
        --------
        >>> from clientmodel.ltv.sbg import ShiftedBetaGeometric
        >>> m = ShiftedBetaGeometric(alpha=0.704, beta=1.182)
        >>> round(m.log_likelihood_of([1000, 631, 468, 382, 326, 289, 262, 241]), 1)
        -1680.3
        """
        renewals, churned, w = _tenures_from_cohorts(_cohorts(survivors))
        theta = np.array([self.alpha, self.beta])
        return _sbg_loglik(theta, renewals, churned, w, gradient=False)[0]

    def log_likelihood_of_tenures(
        self,
        summary: Any,
        *,
        weights: str | ArrayLike | None = None,
        columns: Mapping[str, str] | None = None,
    ) -> float:
        """Log-likelihood of per-customer (renewals, churned) rows at these parameters.

        Examples
        --------
        >>> from clientmodel.ltv.sbg import ShiftedBetaGeometric
        >>> m = ShiftedBetaGeometric(alpha=0.704, beta=1.182)
        >>> round(m.log_likelihood_of_tenures({"renewals": 0, "churned": True}), 4)
        -0.9854
        """
        data = _read_tenures(summary, columns, require_churned=True)
        w = read_weights(summary, data, weights, columns)
        theta = np.array([self.alpha, self.beta])
        return _sbg_loglik(theta, data["renewals"], data["churned"], w, gradient=False)[0]

    # -- the retention curve -----------------------------------------------------------------

    def survival(self, t: ArrayLike) -> float | Array:
        """S(t): share of a new cohort still subscribed after ``t`` renewal decisions.

        ``S(t) = B(alpha, beta + t) / B(alpha, beta)`` (Fader & Hardie 2007, eq. 4).

        Examples
        --------
        >>> from clientmodel.ltv.sbg import ShiftedBetaGeometric
        >>> round(ShiftedBetaGeometric(alpha=0.668, beta=3.806).survival(7), 3)
        0.489
        """
        ts = _discrete.check_whole_array(t, "t").astype(np.float64)
        a, b = self.alpha, self.beta
        values = np.exp(special.betaln(a, b + ts) - special.betaln(a, b))
        return _scalar_or_array(np.clip(values, 0.0, 1.0))

    def churn_probability(self, t: ArrayLike) -> float | Array:
        """P(T = t): share of a new cohort that cancels at the ``t``-th renewal decision.

        ``B(alpha + 1, beta + t - 1) / B(alpha, beta)`` for ``t >= 1`` (eq. 3).

        Examples
        --------
        >>> from clientmodel.ltv.sbg import ShiftedBetaGeometric
        >>> round(ShiftedBetaGeometric(alpha=0.704, beta=1.182).churn_probability(1), 4)
        0.3733
        """
        ts = _discrete.check_whole_array(t, "t", minimum=1).astype(np.float64)
        a, b = self.alpha, self.beta
        values = np.exp(special.betaln(a + 1.0, b + ts - 1.0) - special.betaln(a, b))
        return _scalar_or_array(np.clip(values, 0.0, 1.0))

    def retention_rate(self, t: ArrayLike) -> float | Array:
        """r(t) = S(t) / S(t - 1): share of those still subscribed at ``t - 1`` who renew at ``t``.

        ``(beta + t - 1) / (alpha + beta + t - 1)`` (Fader & Hardie 2007, eq. 5), increasing in
        ``t`` towards 1.

        Examples
        --------
        >>> from clientmodel.ltv.sbg import ShiftedBetaGeometric
        >>> ShiftedBetaGeometric(alpha=0.704, beta=1.182).retention_rate([1, 2]).round(3).tolist()
        [0.627, 0.756]
        """
        ts = _discrete.check_whole_array(t, "t", minimum=1).astype(np.float64)
        values = (self.beta + ts - 1.0) / (self.alpha + self.beta + ts - 1.0)
        return _scalar_or_array(values)

    def expected_survivors(self, cohort_size: float, periods: int) -> Array:
        """Projected survivors ``cohort_size * S(t)`` for ``t = 0, 1, ..., periods``.

        Examples
        --------
        >>> from clientmodel.ltv.sbg import ShiftedBetaGeometric
        >>> m = ShiftedBetaGeometric(alpha=0.704, beta=1.182)
        >>> m.expected_survivors(1000, 3).round(1).tolist()
        [1000.0, 626.7, 473.8, 388.0]
        """
        size = non_negative(cohort_size, "cohort_size")
        k = _discrete.check_whole(periods, "periods", maximum=_discrete.MAX_PERIODS)
        curve = np.asarray(self.survival(np.arange(k + 1)), dtype=np.float64)
        out: Array = size * curve
        return out

    def expected_lifetime(self) -> float:
        """E[T]: expected number of periods a new customer pays for, ``(alpha+beta-1)/(alpha-1)``.

        Infinite when ``alpha <= 1`` (the tail of long-lived customers is too heavy): raises
        ``ArgumentError`` then; use :meth:`discounted_expected_lifetime`.

        Examples
        --------
        >>> from clientmodel.ltv.sbg import ShiftedBetaGeometric
        >>> ShiftedBetaGeometric(alpha=3.0, beta=6.0).expected_lifetime()
        4.0
        """
        if self.alpha <= 1:
            raise ArgumentError(
                f"alpha={self.alpha!r} <= 1: the expected lifetime is infinite (some customers "
                "almost never cancel); use discounted_expected_lifetime(discount_rate)",
                field="alpha",
            )
        return (self.alpha + self.beta - 1.0) / (self.alpha - 1.0)

    def discounted_expected_lifetime(self, discount_rate: float) -> float:
        """DEL: expected discounted number of payments of a new customer, the first at time 0.

        ``sum_{t>=0} S(t) / (1 + d)**t = 2F1(1, beta; alpha + beta; 1 / (1 + d))``
        (Fader & Hardie 2010); multiply by the margin per period for the expected CLV. ``d`` is
        the discount rate per period.

        Examples
        --------
        >>> from clientmodel.ltv.sbg import ShiftedBetaGeometric
        >>> m = ShiftedBetaGeometric(alpha=0.704, beta=1.182)
        >>> round(m.discounted_expected_lifetime(0.1), 3)
        3.695
        """
        c = _discrete.check_rate(discount_rate)
        tail = _discrete.discounted_survival_sum(self.alpha, np.array([self.beta]), c)
        return 1.0 + float(tail[0])

    # -- current customers -------------------------------------------------------------------

    def _current(
        self, summary: Any, columns: Mapping[str, str] | None
    ) -> tuple[SummaryData, Array, NDArray[np.bool_]]:
        data = _read_tenures(summary, columns, require_churned=False)
        churned = data.columns.get("churned", np.zeros(len(data))) > 0
        return data, data["renewals"], churned

    def p_retained(
        self, summary: Any, *, horizon: int = 1, columns: Mapping[str, str] | None = None
    ) -> Prediction:
        """P(still subscribed after ``horizon`` more renewal decisions) given ``renewals``.

        ``B(alpha, beta + k + h) / B(alpha, beta + k)`` for a customer with ``k`` renewals
        (the posterior of ``theta`` is ``Beta(alpha, beta + k)``); 0 for a customer with
        ``churned`` true.

        Examples
        --------
        >>> from clientmodel.ltv.sbg import ShiftedBetaGeometric
        >>> m = ShiftedBetaGeometric(alpha=0.704, beta=1.182)
        >>> round(m.p_retained({"renewals": 6}), 3) == round(m.retention_rate(7), 3)
        True
        """
        h = _discrete.check_whole(horizon, "horizon")
        data, k, churned = self._current(summary, columns)
        a, b = self.alpha, self.beta
        values = np.exp(special.betaln(a, b + k + h) - special.betaln(a, b + k))
        values = np.where(churned, 0.0, np.clip(values, 0.0, 1.0))
        return output(values, data)

    def derl(
        self, summary: Any, discount_rate: float, *, columns: Mapping[str, str] | None = None
    ) -> Prediction:
        """Discounted expected residual lifetime of current subscribers.

        Fader & Hardie (2010), eq. 6: for a customer who has renewed ``k`` times (``n - 1`` in
        the paper), valued just before the next renewal decision, with the discount rate ``d``
        per period::

            DERL = (beta + k) / (alpha + beta + k) * 2F1(1, beta + k + 1; alpha + beta + k + 1;
                                                         1 / (1 + d))

        i.e. ``sum_{j>=0} S(k + 1 + j) / S(k) / (1 + d)**j``: the expected discounted number of
        payments still to come, the next one undiscounted. Multiply by the margin per period for
        the residual value; sum over the customers for the residual value of the base. Churned
        customers get 0.

        Examples
        --------
        >>> from clientmodel.ltv.sbg import ShiftedBetaGeometric
        >>> m = ShiftedBetaGeometric(alpha=0.704, beta=1.182)
        >>> m.derl({"renewals": [0, 4]}, 0.1).round(3).tolist()
        [2.965, 5.894]
        """
        c = _discrete.check_rate(discount_rate)
        data, k, churned = self._current(summary, columns)
        sums = _discrete.discounted_survival_sum(self.alpha, self.beta + k, c)
        values = np.where(churned, 0.0, (1.0 + c) * sums)
        return output(values, data)

    # -- simulation --------------------------------------------------------------------------

    def simulate(
        self,
        n_customers: int,
        periods: int,
        *,
        seed: int | np.random.Generator | None = None,
    ) -> dict[str, NDArray[Any]]:
        """Draw per-customer tenures observed over ``periods`` renewal decisions.

        Each customer gets ``theta ~ Beta(alpha, beta)`` and cancels at decision
        ``T ~ Geometric(theta)``; customers with ``T > periods`` are still subscribed
        (``churned`` false, ``renewals = periods``), the others have ``renewals = T - 1``.

        Examples
        --------
        >>> from clientmodel.ltv.sbg import ShiftedBetaGeometric
        >>> sim = ShiftedBetaGeometric(alpha=0.704, beta=1.182).simulate(5, 7, seed=3)
        >>> sorted(sim)
        ['churned', 'renewals']
        """
        size = check_n_customers(n_customers)
        k = _discrete.check_whole(periods, "periods", maximum=_discrete.MAX_PERIODS)
        rng = check_seed(seed)
        theta = rng.beta(self.alpha, self.beta, size=size)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            survived = np.floor(np.log(rng.random(size)) / np.log1p(-theta))
            survived = np.nan_to_num(np.minimum(survived, k + 1.0), nan=k + 1.0, posinf=k + 1.0)
        churned = survived < k  # cancelled at decision survived + 1 <= periods
        renewals = np.where(churned, survived, k).astype(np.int64)
        return {"renewals": renewals, "churned": churned}

    def simulate_cohort(
        self,
        cohort_size: int,
        periods: int,
        *,
        seed: int | np.random.Generator | None = None,
    ) -> NDArray[np.int64]:
        """Draw one cohort's survival counts ``n_0 = cohort_size, n_1, ..., n_periods``.

        Examples
        --------
        >>> from clientmodel.ltv.sbg import ShiftedBetaGeometric
        >>> counts = ShiftedBetaGeometric(alpha=0.704, beta=1.182).simulate_cohort(1000, 7, seed=1)
        >>> int(counts[0]), len(counts), bool(all(counts[1:] <= counts[:-1]))
        (1000, 8, True)
        """
        k = _discrete.check_whole(periods, "periods", maximum=_discrete.MAX_PERIODS)
        if (
            isinstance(cohort_size, bool)
            or not isinstance(cohort_size, (int, np.integer))
            or not 1 <= cohort_size <= MAX_CUSTOMERS
        ):
            raise ArgumentError(
                f"cohort_size={cohort_size!r} must be a whole number between 1 and {MAX_CUSTOMERS}",
                field="cohort_size",
            )
        sim = self.simulate(cohort_size, k, seed=seed)
        renewals, churned = sim["renewals"], sim["churned"]
        # alive after t decisions: not churned, or churned with renewals >= t
        lasted = np.where(churned, renewals, k + 1)
        counts = np.array([(lasted >= t).sum() for t in range(k + 1)], dtype=np.int64)
        return counts
