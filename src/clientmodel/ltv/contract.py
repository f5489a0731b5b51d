"""The contract every lifetime-value model keeps, in code (after scikit-learn's ``BaseEstimator``).

Three kinds of model, each an abstract base:

* :class:`TransactionModel` -- how many purchases a customer makes and whether they are still
  alive (BG/NBD, MBG/NBD, Pareto/NBD in continuous time; BG/BB in discrete opportunities).
  ``horizon`` is the time *after the end of observation* (``T``, or ``n`` opportunities), in the
  summary's own time unit: ``p_alive(summary, horizon=h)`` is P(alive at ``T + h``).
* :class:`SpendModel` -- how much each purchase is worth (gamma-gamma).
* :class:`RetentionModel` -- contractual renewals (shifted beta-geometric). ``horizon`` is the
  number of *renewal decisions ahead*: ``p_retained(summary, horizon=h)`` is P(still subscribed
  after ``h`` more decisions).

All of them are frozen attrs classes with their parameters as attributes (named as in the
papers), fitted by one template :meth:`~clientmodel.ltv._base.ParametricModel.fit` (each model
gives only its likelihood), carry a :class:`~clientmodel.ltv.report.FitReport`, and turn into a
JSON-safe dict and back. ``churn_risk`` is defined once per kind from the probability of staying.
Callers find a model class by name or kind in the registry (:func:`model_classes`), which is
derived from the classes themselves; nothing dispatches on a class name or ``hasattr``.
"""

from __future__ import annotations

import inspect
from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from clientmodel._validation import check_choice, check_mapping, key_path
from clientmodel.errors import ArgumentError
from clientmodel.ltv._base import REGISTRY, ParametricModel, Prediction

__all__ = [
    "Kind",
    "ParametricModel",
    "RetentionModel",
    "SpendModel",
    "TransactionModel",
    "model_classes",
    "model_from_dict",
]

Kind = Literal["transaction", "spend", "retention"]
_KINDS = ("transaction", "spend", "retention")


class TransactionModel(ParametricModel):
    """A model of repeat purchases and dropout, read from a (frequency, recency, T) summary.

    ``horizon`` and ``t`` are lengths of time after the end of observation, in the summary's unit
    (opportunities for the discrete-time BG/BB).
    """

    KIND: ClassVar[str] = "transaction"
    #: The summary columns the model reads.
    SUMMARY: ClassVar[tuple[str, ...]] = ("frequency", "recency", "T")
    #: A typical observation length (weeks; opportunities for discrete time) for examples.
    EXAMPLE_PERIOD: ClassVar[float] = 39.0
    #: Time counts whole opportunities (BG/BB), not a continuous length.
    DISCRETE_TIME: ClassVar[bool] = False

    @abstractmethod
    def p_alive(
        self, summary: Any, *, horizon: float = 0.0, columns: Mapping[str, str] | None = None
    ) -> Prediction:
        """P(the customer is alive at the end of observation + ``horizon``) given the history."""

    @abstractmethod
    def expected_purchases(
        self, summary: Any, t: float, *, columns: Mapping[str, str] | None = None
    ) -> Prediction:
        """E[purchases in the next ``t``] given the history."""

    @abstractmethod
    def expected_purchases_path(
        self, summary: Any, times: ArrayLike, *, columns: Mapping[str, str] | None = None
    ) -> NDArray[np.float64]:
        """Conditional expected purchases at several horizons: shape (customers, len(times))."""

    @abstractmethod
    def expected_purchases_new(self, t: ArrayLike) -> Prediction:
        """E[purchases by ``t``] of a customer who just made a first purchase."""

    @abstractmethod
    def p_purchases(
        self, summary: Any, n: int, t: float, *, columns: Mapping[str, str] | None = None
    ) -> Prediction:
        """P(exactly ``n`` purchases in the next ``t``) given the history."""

    @abstractmethod
    def p_purchases_new(self, n: int, t: float) -> float:
        """P(exactly ``n`` purchases by ``t``) for a new customer."""

    @abstractmethod
    def simulate(
        self,
        n_customers: int,
        T: ArrayLike,
        *,
        seed: int | np.random.Generator | None = None,
        holdout: float = 0.0,
    ) -> dict[str, NDArray[Any]]:
        """Customer summaries drawn from the model (``frequency_holdout`` with a holdout)."""

    @abstractmethod
    def log_likelihood_of(
        self,
        summary: Any,
        *,
        weights: str | ArrayLike | None = None,
        columns: Mapping[str, str] | None = None,
    ) -> float:
        """Total (weighted) log-likelihood of a summary at this model's parameters."""

    def churn_risk(
        self, summary: Any, *, horizon: float = 0.0, columns: Mapping[str, str] | None = None
    ) -> Prediction:
        """``1 - p_alive``: the probability the customer has left by the end + ``horizon``.

        Examples
        --------
        >>> from clientmodel.ltv import BGNBD
        >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> round(m.churn_risk({"frequency": 2, "recency": 30.43, "T": 38.86}), 4)
        0.2734
        """
        alive = self.p_alive(summary, horizon=horizon, columns=columns)
        return 1.0 - alive

    def weighted_purchases(
        self,
        summary: Any,
        times: ArrayLike,
        weights: ArrayLike,
        *,
        columns: Mapping[str, str] | None = None,
    ) -> NDArray[np.float64]:
        """``sum_k weights[k] E[X(T, T + times[k])]`` per customer (discounted sums of CLV).

        The default contracts :meth:`expected_purchases_path`; a model may compute it without
        the (customers x times) matrix.

        Examples
        --------
        >>> from clientmodel.ltv import BGNBD
        >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> h = {"frequency": [2], "recency": [30.43], "T": [38.86]}
        >>> bool(m.weighted_purchases(h, [39.0], [1.0])[0] == m.expected_purchases(h, 39.0)[0])
        True
        """
        w = np.asarray(weights, dtype=np.float64)
        path = self.expected_purchases_path(summary, times, columns=columns)
        out: NDArray[np.float64] = path @ w
        return out

    def discounted_closed_form(
        self,
        summary: Any,
        horizon: float,
        delta: float,
        *,
        columns: Mapping[str, str] | None = None,
    ) -> NDArray[np.float64] | None:
        """``integral_0^H exp(-delta t) dE X(T, T + t)`` in closed form, or ``None``.

        ``None`` (the default) lets :func:`~clientmodel.ltv.clv.clv` integrate numerically; a
        model with a closed form (Pareto/NBD) returns it per customer.
        """
        return None

    def p_any_purchase(
        self, summary: Any, t: float, *, columns: Mapping[str, str] | None = None
    ) -> Prediction:
        """P(at least one purchase in the next ``t``) given the history: ``1 - P(X = 0)``.

        Examples
        --------
        >>> from clientmodel.ltv import BGNBD
        >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> round(m.p_any_purchase({"frequency": 0, "recency": 0, "T": 38.86}, 39), 4)
        0.1446
        """
        none = self.p_purchases(summary, 0, t, columns=columns)
        return 1.0 - none


class SpendModel(ParametricModel):
    """A model of the value of each purchase, read from (frequency, monetary_value)."""

    KIND: ClassVar[str] = "spend"
    SUMMARY: ClassVar[tuple[str, ...]] = ("frequency", "monetary_value")

    @abstractmethod
    def expected_spend(
        self, summary: Any, *, columns: Mapping[str, str] | None = None
    ) -> Prediction:
        """Expected spend per purchase of each customer, given their purchases so far."""

    @abstractmethod
    def expected_spend_new(self) -> float:
        """Expected spend per purchase of a new customer."""

    @abstractmethod
    def log_likelihood_of(
        self,
        summary: Any,
        *,
        weights: str | ArrayLike | None = None,
        columns: Mapping[str, str] | None = None,
    ) -> float:
        """Total (weighted) log-likelihood of a summary at this model's parameters."""


class RetentionModel(ParametricModel):
    """A model of contractual renewals; ``horizon`` counts renewal decisions ahead."""

    KIND: ClassVar[str] = "retention"
    SUMMARY: ClassVar[tuple[str, ...]] = ("renewals",)

    @abstractmethod
    def survival(self, t: ArrayLike) -> float | NDArray[np.float64]:
        """P(a new customer is still subscribed after ``t`` renewal decisions)."""

    @abstractmethod
    def simulate_cohort(
        self, cohort_size: int, periods: int, *, seed: int | np.random.Generator | None = None
    ) -> NDArray[np.int64]:
        """Survivor counts ``[n_0, ..., n_periods]`` of one cohort drawn from the model."""

    @abstractmethod
    def p_retained(
        self, summary: Any, *, horizon: int = 1, columns: Mapping[str, str] | None = None
    ) -> Prediction:
        """P(still subscribed after ``horizon`` more decisions) given the renewals so far."""

    def churn_risk(
        self, summary: Any, *, horizon: int = 1, columns: Mapping[str, str] | None = None
    ) -> Prediction:
        """``1 - p_retained``: the probability of cancelling within ``horizon`` more decisions.

        Examples
        --------
        >>> from clientmodel.ltv import ShiftedBetaGeometric
        >>> m = ShiftedBetaGeometric(alpha=0.704, beta=1.182)
        >>> m.churn_risk({"renewals": [0, 6]}).round(3).tolist()
        [0.373, 0.089]
        """
        kept = self.p_retained(summary, horizon=horizon, columns=columns)
        return 1.0 - kept


def model_classes(kind: str | None = None) -> dict[str, type[ParametricModel]]:
    """Every concrete model class by name, optionally of one kind only.

    Derived from the classes themselves (each registers when it is defined), so a new model is
    found by scoring plans, ``clv`` and the check suite without a list to update.

    Examples
    --------
    >>> sorted(model_classes("transaction"))
    ['BGBB', 'BGNBD', 'GGompertzNBD', 'MBGNBD', 'ParetoNBD']
    """
    import clientmodel.ltv  # noqa: F401  (defines, and so registers, every model)

    if kind is not None:
        check_choice(kind, "kind", _KINDS)
    return {
        name: cls
        for name, cls in sorted(REGISTRY.items())
        if not inspect.isabstract(cls) and (kind is None or kind == cls.KIND)
    }


def model_from_dict(
    data: Mapping[str, Any], kind: str | None = None, *, path: str = "model"
) -> ParametricModel:
    """Rebuild any model (of ``kind``) from its ``to_dict()`` output, found by its name.

    ``path`` names the description in errors (e.g. ``"ScoringPlan.model"``).

    Examples
    --------
    >>> from clientmodel.ltv import BGNBD
    >>> model_from_dict(BGNBD(r=0.24, alpha=4.4, a=0.79, b=2.43).to_dict()).params["r"]
    0.24
    """
    check_mapping(data, path, required=("model",))
    classes = model_classes(kind)
    name = data["model"]
    if not isinstance(name, str) or name not in classes:
        raise ArgumentError(
            f"{key_path(path, 'model')}={name!r} is not a known "
            f"{'' if kind is None else kind + ' '}model; accepted: {', '.join(classes)}",
            field=key_path(path, "model"),
        )
    return classes[name].from_dict(data)
