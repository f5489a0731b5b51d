"""What every lifetime-value model shares: parameters as attributes, JSON round-trips, and the
reading of a customer summary given as a table or as one record.

A *record* is one customer: a mapping of field -> scalar, a pydantic model or any object with the
fields as attributes. Predictions for a record are plain floats; for a table they are numpy arrays
aligned with the table's rows.
"""

from __future__ import annotations

import abc
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias, TypeVar, overload

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray
from typing_extensions import Self

from clientmodel._validation import (
    check_exact_counts,
    check_mapping,
    check_number,
    check_sequence,
    key_path,
)
from clientmodel.errors import ArgumentError, DataError, describe_rows
from clientmodel.ltv._fitting import Likelihood, maximize
from clientmodel.ltv.report import FitReport
from clientmodel.tables import read_table

if TYPE_CHECKING:
    from clientmodel.ltv.covariates import CovariateLinks, CovariateModel

__all__ = [
    "FORMAT_VERSION",
    "REGISTRY",
    "ParametricModel",
    "Prediction",
    "SummaryData",
    "check_btyd",
    "check_n_customers",
    "check_starts",
    "non_negative",
    "output",
    "positive",
    "read_summary",
    "read_weights",
]

#: Version of the ``to_dict`` layout; bumped when it changes incompatibly.
FORMAT_VERSION = 1

M = TypeVar("M", bound="ParametricModel")

# A mixing shape beyond this leaves a coefficient of variation below 1%: no heterogeneity.
_HOMOGENEOUS = 1e4
# A mean dropout probability below this is read as "no dropout".
_NO_DROPOUT = 1e-6

#: A prediction: a float for one record, an array aligned with the rows for a table.
Prediction: TypeAlias = "float | NDArray[np.float64]"


def positive(instance: Any, attribute: attrs.Attribute[float], value: float) -> None:
    """attrs validator: a model parameter must be a finite number > 0."""
    if not isinstance(value, (int, float, np.floating, np.integer)) or not (
        math.isfinite(value) and value > 0
    ):
        raise ArgumentError(
            f"{type(instance).__name__} parameter {attribute.name}={value!r} must be a finite "
            "number > 0",
            field=attribute.name,
        )


#: Every model class by name, filled as the classes are defined (see ``contract.model_classes``).
REGISTRY: dict[str, type[ParametricModel]] = {}


class ParametricModel(abc.ABC):
    """Base of every model: parameters listed in ``PARAMS``, one template ``fit``, JSON forms.

    A model class gives its likelihood (``_likelihood``) and the template :meth:`fit` does the
    rest: validation of the options, several starts, the optimiser, uncertainty and the report.
    """

    PARAMS: ClassVar[tuple[str, ...]] = ()
    #: "transaction", "spend" or "retention" (see :mod:`clientmodel.ltv.contract`)
    KIND: ClassVar[str] = ""
    #: Published parameter values: the example of the docs and of the check suite.
    EXAMPLE: ClassVar[dict[str, float]] = {}
    #: (shape, rate, what varies) of each gamma mixing distribution of the model
    GAMMA_MIXTURES: ClassVar[tuple[tuple[str, str, str], ...]] = ()
    #: (a, b, what the probability is) of each beta mixing distribution of the model
    BETA_MIXTURES: ClassVar[tuple[tuple[str, str, str], ...]] = ()
    #: Names of the models this one contains as a special case (for a likelihood-ratio test).
    NESTS: ClassVar[tuple[str, ...]] = ()
    #: How time-invariant covariates enter the model (``None``: the model takes none).
    COVARIATES: ClassVar[CovariateLinks | None] = None
    fit_report: FitReport | None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            REGISTRY[cls.__name__] = cls  # attrs' slotted rebuild replaces the first entry

    @overload
    @classmethod
    def fit(
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
    def fit(
        cls,
        summary: Any,
        *,
        weights: str | ArrayLike | None = None,
        penalizer: float = 0.0,
        columns: Mapping[str, str] | None = None,
        starts: Sequence[Sequence[float]] | None = None,
        covariates: Any,
        purchase: Sequence[str] = (),
        dropout: Sequence[str] = (),
        customer: str = "customer_id",
        constrain: Sequence[str] = (),
        penalty: float = 0.0,
    ) -> CovariateModel: ...

    @classmethod
    def fit(
        cls,
        summary: Any,
        *,
        weights: str | ArrayLike | None = None,
        penalizer: float = 0.0,
        columns: Mapping[str, str] | None = None,
        starts: Sequence[Sequence[float]] | None = None,
        covariates: Any = None,
        purchase: Sequence[str] = (),
        dropout: Sequence[str] = (),
        customer: str = "customer_id",
        constrain: Sequence[str] = (),
        penalty: float = 0.0,
    ) -> Self | CovariateModel:
        """Fit by maximum likelihood on the compressed data; the one fit of every model.

        Parameters
        ----------
        summary:
            The model's data: a table (pandas / polars / pyarrow / mapping of columns) with the
            columns of ``SUMMARY`` (one row per customer, or per distinct history with
            weights); cohort survival counts for the shifted beta-geometric.
        weights:
            Column name or array of per-row customer counts; by default a ``weights`` column is
            used when present, else every row counts once.
        penalizer:
            L2 penalty ``penalizer * sum(theta**2)`` (helps on small or degenerate data).
        columns:
            Renames, standard name -> your column, e.g. ``{"frequency": "x"}``.
        starts:
            Starting points (one value per parameter of ``PARAMS``, all > 0). Every start is
            run and the best log-likelihood kept; the default starts suit most data.
        covariates:
            Time-invariant covariates (Pareto/NBD, BG/NBD, GGompertz/NBD): a table with one
            row per customer, joined to ``summary`` on the ``customer`` column; or ``True`` when the
            covariate columns are in ``summary`` itself. The result is then a
            :class:`~clientmodel.ltv.covariates.CovariateModel` (see that module for the
            parametrisation, CLVTools' sign convention).
        purchase, dropout:
            Covariate columns acting on the purchase and on the dropout process.
        customer:
            The customer id column of both tables.
        constrain:
            Covariates (named in both ``purchase`` and ``dropout``) whose effect is one
            coefficient shared by both processes.
        penalty:
            L2 penalty on the covariate coefficients, on CLVTools' scale (its ``reg.lambdas``):
            the fit maximises the mean log-likelihood per customer minus
            ``penalty * sum(gamma**2)``.

        Returns
        -------
        A new model with the estimates and its ``fit_report`` (how many starts agreed,
        boundary warnings, standard errors). Raises ``DataError`` for invalid data and
        ``ConvergenceError`` (saying what to try) when no start reaches an optimum.

        Examples
        --------
        >>> from clientmodel.ltv import BGNBD
        >>> data = BGNBD(r=0.25, alpha=4.0, a=0.8, b=2.5).simulate(2000, 39.0, seed=1)
        >>> model = BGNBD.fit(data)
        >>> model.fit_report.converged, model.fit_report.at_boundary
        (True, False)
        """
        if covariates is not None:
            from clientmodel.ltv.covariates import fit_with_covariates

            return fit_with_covariates(
                cls,
                summary,
                penalizer=penalizer,
                starts=starts,
                covariates=None if covariates is True else covariates,
                purchase=purchase,
                dropout=dropout,
                customer=customer,
                constrain=constrain,
                penalty=penalty,
                weights=weights,
                columns=columns,
            )
        penalty = check_number(penalizer, "penalizer", minimum=0)
        chosen = None if starts is None else check_starts(starts, cls.PARAMS)
        return cls._maximize(
            cls._likelihood(summary, weights=weights, columns=columns), penalty, chosen
        )

    @classmethod
    def _maximize(
        cls, problem: Likelihood, penalty: float, chosen: Sequence[Sequence[float]] | None
    ) -> Self:
        """The optimiser, uncertainty and report of :meth:`fit` on a model's likelihood."""
        estimates, report = maximize(
            problem.loglik,
            names=cls.PARAMS,
            starts=problem.starts if chosen is None else chosen,
            n_observations=problem.n_observations,
            n_distinct=problem.n_distinct,
            penalizer=penalty,
            model=cls.__name__,
            hessian=problem.hessian,
            boundary=cls.boundary_warnings,
            coarse=problem.coarse,
            ridges=tuple((k, c, what) for k, c, what in cls.GAMMA_MIXTURES),
        )
        return cls(**estimates, fit_report=report)  # type: ignore[call-arg]

    @classmethod
    @abc.abstractmethod
    def _likelihood(
        cls, summary: Any, *, weights: str | ArrayLike | None, columns: Mapping[str, str] | None
    ) -> Likelihood:
        """The model's hook: read and validate the data, compress it, give the likelihood."""

    @classmethod
    def boundary_warnings(cls, estimates: Mapping[str, float]) -> list[str]:
        """What estimates on the edge of the parameter space mean, in plain words.

        A gamma or beta mixing distribution whose shape runs to infinity has collapsed to one
        value: the data show no variation between customers in that quantity. A beta
        distribution of a dropout probability whose mean runs to 0 means no evidence of
        dropout. Empty for interior estimates.

        Examples
        --------
        >>> from clientmodel.ltv import BGNBD
        >>> BGNBD.boundary_warnings({"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.43})
        []
        >>> BGNBD.boundary_warnings({"r": 0.24, "alpha": 4.4, "a": 2.0, "b": 3e7})[0][:40]
        'no evidence of dropout in this data: the'
        """
        out: list[str] = []
        for shape, rate, what in cls.GAMMA_MIXTURES:
            k, c = estimates[shape], estimates[rate]
            if k > _HOMOGENEOUS:
                out.append(
                    f"{what} do not vary between customers in this data ({shape} = {k:.4g} -> "
                    f"infinity): every customer has the same value, {shape}/{rate} = {k / c:.4g}"
                )
        for a_name, b_name, what in cls.BETA_MIXTURES:
            a, b = estimates[a_name], estimates[b_name]
            mean = a / (a + b)
            collapsed = a + b > _HOMOGENEOUS
            if "dropout" in what and (mean < _NO_DROPOUT or (collapsed and mean < 1e-2)):
                out.append(
                    f"no evidence of dropout in this data: the {what} has mean "
                    f"{a_name}/({a_name}+{b_name}) = {mean:.3g} -> 0, so the model sees customers "
                    "who never leave; predictions of churn from this fit are not meaningful"
                )
            elif collapsed:
                out.append(
                    f"the {what} does not vary between customers in this data ({a_name} + "
                    f"{b_name} = {a + b:.4g} -> infinity): every customer has the same "
                    f"value, {mean:.4g}"
                )
        return out

    def heterogeneity(self) -> dict[str, Any]:
        """The population's mixing distributions, by what varies between customers.

        Each is a scipy frozen distribution (``pdf``, ``cdf``, ``mean``, ``rvs`` ...): a gamma
        with shape ``k`` and rate ``c`` (mean ``k / c``) for each rate of the model, a beta with
        ``a, b`` (mean ``a / (a + b)``) for each probability.

        Examples
        --------
        >>> from clientmodel.ltv import BGNBD
        >>> mixing = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426).heterogeneity()
        >>> sorted(mixing)
        ['dropout probability after a purchase', 'purchase rates']
        >>> round(float(mixing["purchase rates"].mean()), 4)  # r / alpha
        0.0551
        """
        from scipy import stats

        out: dict[str, Any] = {}
        for shape, rate, what in self.GAMMA_MIXTURES:
            k, c = float(getattr(self, shape)), float(getattr(self, rate))
            out[what] = stats.gamma(a=k, scale=1.0 / c)
        for a_name, b_name, what in self.BETA_MIXTURES:
            out[what] = stats.beta(float(getattr(self, a_name)), float(getattr(self, b_name)))
        return out

    @property
    def params(self) -> dict[str, float]:
        """The parameters as a plain dict, named as in the paper."""
        return {name: float(getattr(self, name)) for name in self.PARAMS}

    @property
    def log_likelihood(self) -> float:
        """Total log-likelihood at the fitted parameters (raises for a model built by hand)."""
        if self.fit_report is None:
            raise ArgumentError(
                f"this {type(self).__name__} was built from parameters, not fitted; "
                "call .log_likelihood_of(data) or fit it first",
                field="fit_report",
            )
        return self.fit_report.log_likelihood

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-safe description: model name, format version, parameters, fit report.

        Examples
        --------
        >>> from clientmodel.ltv import BGNBD
        >>> BGNBD(r=0.24, alpha=4.4, a=0.79, b=2.43).to_dict()["params"]
        {'r': 0.24, 'alpha': 4.4, 'a': 0.79, 'b': 2.43}
        """
        from clientmodel import __version__

        return {
            "model": type(self).__name__,
            "format_version": FORMAT_VERSION,
            "library_version": __version__,
            "params": self.params,
            "fit_report": None if self.fit_report is None else self.fit_report.to_dict(),
        }

    @classmethod
    def from_dict(cls: type[M], data: Mapping[str, Any]) -> M:
        """Rebuild a model from :meth:`to_dict` output (e.g. read back from a database).

        ``ArgumentError`` names the key path of anything missing, mistyped or out of range.

        Examples
        --------
        >>> from clientmodel.ltv import BGNBD
        >>> m = BGNBD(r=0.24, alpha=4.4, a=0.79, b=2.43)
        >>> BGNBD.from_dict(m.to_dict()) == m
        True
        """
        path = cls.__name__
        check_mapping(
            data,
            path,
            required=("model", "format_version", "params"),
            optional=("library_version", "fit_report"),
        )
        name = data["model"]
        if name != cls.__name__:
            raise ArgumentError(
                f"this dict describes a {name!r} model, not {cls.__name__}",
                field=key_path(path, "model"),
            )
        version = data["format_version"]
        if version != FORMAT_VERSION:
            raise ArgumentError(
                f"format_version {version!r} is not supported (this library reads "
                f"{FORMAT_VERSION})",
                field=key_path(path, "format_version"),
            )
        params_path = key_path(path, "params")
        params = check_mapping(data["params"], params_path, required=cls.PARAMS, optional=())
        values = {
            p: check_number(params[p], key_path(params_path, p), minimum=0, exclusive_minimum=True)
            for p in cls.PARAMS
        }
        report = data.get("fit_report")
        return cls(  # type: ignore[call-arg]
            **values,
            fit_report=None
            if report is None
            else FitReport.from_dict(report, key_path(path, "fit_report")),
        )


@attrs.frozen
class SummaryData:
    """Summary columns as float arrays plus whether they came from a single record."""

    columns: dict[str, NDArray[np.float64]]
    record: bool

    def __getitem__(self, name: str) -> NDArray[np.float64]:
        return self.columns[name]

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())))


def _as_record(summary: Any) -> Mapping[str, Any] | None:
    if isinstance(summary, SummaryData):  # columns read already (see read_summary)
        return None
    if hasattr(summary, "model_dump"):  # pydantic
        dumped: Mapping[str, Any] = summary.model_dump()
        return dumped
    if attrs.has(type(summary)):
        return attrs.asdict(summary)
    if (
        isinstance(summary, Mapping)
        and summary
        and all(np.ndim(v) == 0 and not isinstance(v, (list, tuple)) for v in summary.values())
    ):
        return summary
    return None


def read_summary(
    summary: Any,
    required: Sequence[str],
    *,
    columns: Mapping[str, str] | None = None,
    counts: Sequence[str] = (),
    optional: Sequence[str] = (),
) -> SummaryData:
    """Read the named summary columns from a table or a single record.

    ``columns`` renames: ``{"frequency": "x", "recency": "t_x"}`` reads the caller's ``x`` as
    ``frequency``. ``counts`` must be whole numbers >= 0. Optional columns missing from the input
    are left out of the result.

    A ``SummaryData`` with the required columns is returned as it is: the library hands on
    rows it has read and checked already (prediction intervals predict on them once per draw).
    """
    if isinstance(summary, SummaryData) and not columns and set(required) <= set(summary.columns):
        return summary
    rename = dict(check_mapping(columns, "columns")) if columns is not None else {}
    record = _as_record(summary)
    source = {k: [v] for k, v in record.items()} if record is not None else summary
    table = read_table(source, name="summary")
    if table.n_rows == 0:
        raise DataError("summary is empty: it needs at least one customer row")
    out: dict[str, NDArray[np.float64]] = {}
    for name in (*required, *optional):
        col = rename.get(name, name)
        if name in optional and col not in table.columns:
            continue
        numbers = table.numbers(col)
        if name in counts:
            if ((numbers < 0) | (numbers != np.floor(numbers))).any():
                table.numbers(col, kind="count")  # raises, naming the negative / fractional rows
            # Counts are refused from 2**53 on, where float64 stops holding every whole number.
            numbers = check_exact_counts(numbers, col)
        out[name] = numbers
    return SummaryData(out, record is not None)


def read_weights(
    summary: Any,
    data: SummaryData,
    weights: str | Any | None,
    columns: Mapping[str, str] | None = None,
) -> NDArray[np.float64]:
    """Caller-given weights (customers per row, e.g. the donations data), validated.

    ``weights`` is a column name, an array with one value per row, or ``None`` to use a
    ``weights`` column read into ``data`` if there is one, else 1 for every row. Weights must
    be finite and >= 0.
    """
    n = len(data)
    if weights is None:
        w = data.columns.get("weights", np.ones(n))
    elif isinstance(weights, str):
        rename = {**(columns or {}), "weights": weights}
        w = read_summary(summary, ("weights",), columns=rename)["weights"]
    else:
        given = (
            check_sequence(weights, "weights") if not isinstance(weights, np.ndarray) else weights
        )
        try:
            w = np.asarray(given, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            w = np.full(len(given), np.nan)
            for i, v in enumerate(given):
                if isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)):
                    w[i] = float(v)
            rows = np.flatnonzero(np.isnan(w))
            raise DataError(
                f"weights has {len(rows)} value(s) that are not numbers: "
                f"{describe_rows(rows, [given[i] for i in rows[:5]])}; weights are counts of "
                "customers, finite numbers >= 0",
                field="weights",
                rows=rows[:5].tolist(),
            ) from None
        if len(w) != n:
            raise ArgumentError(
                f"weights has {len(w)} value(s) but the summary has {n} row(s); give one weight "
                "per row",
                field="weights",
            )
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise DataError(
            f"weights has {len(rows)} invalid value(s): {describe_rows(rows, w[rows].tolist())}; "
            "weights are counts of customers, finite and >= 0",
            field="weights",
            rows=rows[:5].tolist(),
        )
    return w


def check_btyd(data: SummaryData, *, recency: str = "recency") -> None:
    """Validate (frequency, recency, T): counts >= 0, 0 <= recency <= T, recency = 0 if x = 0."""
    x, tx, t = data["frequency"], data[recency], data["T"]
    problems = [
        (tx < 0, f"{recency} < 0", f"{recency} is time from first to last purchase, >= 0"),
        (t < 0, "T < 0", "T is time from first purchase to as_of, >= 0"),
        (tx > t * (1 + 1e-9) + 1e-12, f"{recency} > T", f"{recency} must not exceed T"),
        (
            (x == 0) & (tx > 0),
            f"frequency == 0 with {recency} > 0",
            f"with no repeat purchase, {recency} = 0",
        ),
    ]
    for mask, what, rule in problems:
        if mask.any():
            rows = np.flatnonzero(mask)
            shown = [
                {"frequency": float(x[i]), recency: float(tx[i]), "T": float(t[i])}
                for i in rows[:5]
            ]
            raise DataError(
                f"summary has {len(rows)} row(s) with {what}: {describe_rows(rows, shown)}; {rule}",
                field=recency,
                rows=rows[:5].tolist(),
            )


def check_starts(starts: Any, names: Sequence[str]) -> list[list[float]]:
    """Starting points: a list of lists of one number > 0 per parameter."""
    rows = check_sequence(starts, "starts")
    if not rows:
        raise ArgumentError("starts must hold at least one starting point", field="starts")
    out: list[list[float]] = []
    for i, row in enumerate(rows):
        values = check_sequence(row, key_path("starts", i))
        if len(values) != len(names):
            raise ArgumentError(
                f"starts[{i}] has {len(values)} value(s); give one per parameter {list(names)}",
                field=key_path("starts", i),
            )
        out.append(
            [
                check_number(v, key_path("starts", i, j), minimum=0, exclusive_minimum=True)
                for j, v in enumerate(values)
            ]
        )
    return out


def non_negative(value: Any, name: str, accepted: str = "a finite number >= 0") -> float:
    """A real number (not a bool) that is finite and >= 0, else ``ArgumentError`` naming it.

    ``accepted`` completes the message ``"{name}={value!r} must be ..."``.
    """
    if (
        not isinstance(value, (int, float, np.integer, np.floating))
        or isinstance(value, bool)
        or not (math.isfinite(value) and value >= 0)
    ):
        raise ArgumentError(f"{name}={value!r} must be {accepted}", field=name)
    return float(value)


#: Most customers one ``simulate`` call draws: a few arrays of this length fit in memory.
MAX_CUSTOMERS = 100_000_000


def check_n_customers(n_customers: Any) -> int:
    """The ``n_customers`` of a ``simulate``: a whole number from 1 to :data:`MAX_CUSTOMERS`."""
    if (
        isinstance(n_customers, bool)
        or not isinstance(n_customers, (int, np.integer))
        or not 1 <= n_customers <= MAX_CUSTOMERS
    ):
        raise ArgumentError(
            f"n_customers={n_customers!r} must be a whole number between 1 and {MAX_CUSTOMERS}",
            field="n_customers",
        )
    return int(n_customers)


def output(values: NDArray[np.float64], data: SummaryData) -> Prediction:
    """A float for a record, the array for a table."""
    if data.record:
        return float(values[0])
    return values
