"""Prediction intervals: how much a prediction moves with the uncertainty of the parameters.

A fitted model gives one number per customer (P(alive), expected purchases, DERT, CLV), computed
at the estimates ``theta_hat``. The estimates are uncertain: their sampling distribution is
approximately normal on the log scale, ``log theta ~ N(log theta_hat, Sigma)`` with ``Sigma`` the
inverse observed information (kept in the fit report as ``covariance``). Drawing ``theta_1 ..
theta_B`` from it and predicting with each gives ``B`` values per customer; their ``(1 - level)/2``
and ``(1 + level)/2`` quantiles are the interval. The same draws summed over customers give the
interval of the total. A parametric bootstrap (simulate from the fitted model, refit, predict) is
the alternative that does not lean on the normal approximation.

The interval covers the uncertainty of the parameters only: not the randomness of the customer's
own future purchases (a customer with E[X] = 1.2 may well make 0 or 3), and not a wrong model.

For a model fitted with covariates the free parameters are the log base parameters and the
coefficients, drawn jointly; each draw gives every customer its parameters through its
covariate row. Predictions depend on a customer only through the covariate row and the summary
columns, so they are made once per distinct (covariate row, history), on rows read and checked
once; the (draws x histories) block is held a chunk of histories at a time, so
1,000 draws over a million customers fit in memory.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from clientmodel._validation import (
    check_choice,
    check_integer,
    check_mapping,
    check_number,
    check_seed,
    check_text,
    key_path,
    read_key,
)
from clientmodel.errors import ArgumentError, ConvergenceError, DataError, describe_rows
from clientmodel.ltv._base import ParametricModel, SummaryData, _as_record, read_summary
from clientmodel.ltv._fitting import distinct_rows
from clientmodel.ltv.clv import clv, discounted_purchases
from clientmodel.ltv.contract import SpendModel, TransactionModel, model_classes
from clientmodel.ltv.covariates import CovariateModel
from clientmodel.tables import read_table

__all__ = [
    "PredictionIntervals",
    "draw_parameters",
    "prediction_interval_table",
    "prediction_intervals",
]

Array = NDArray[np.float64]
Quantity = Literal["p_alive", "expected_purchases", "dert", "clv"]
Sampling = Literal["normal", "bootstrap"]
QUANTITIES = ("p_alive", "expected_purchases", "dert", "clv")
SAMPLINGS = ("normal", "bootstrap")

# At most this many predictions (draws x distinct histories) are held at once: 64 MB.
_BLOCK = 2**23
# Bootstrap refits that fail to converge are redrawn, up to this many times the replicates.
_REDRAWS = 2


def _frozen(values: Any) -> Array:
    out = np.array(values, dtype=np.float64).reshape(-1)
    out.flags.writeable = False
    return out


_ARRAY_EQ = attrs.cmp_using(eq=np.array_equal)


@attrs.frozen
class PredictionIntervals:
    """Per-customer and total prediction intervals from the parameters' sampling distribution.

    Attributes
    ----------
    quantity:
        What was predicted: ``"p_alive"``, ``"expected_purchases"``, ``"dert"`` or ``"clv"``.
    level:
        Coverage of each interval (0.95 for 95%).
    sampling:
        ``"normal"`` (draws from the asymptotic normal of the log-parameters) or
        ``"bootstrap"`` (parametric bootstrap: simulate, refit, predict).
    draws:
        Parameter draws (bootstrap replicates) the intervals are built from.
    estimate, lower, upper:
        Per customer, in the rows' order: the prediction at the estimates and the interval.
    total_estimate, total_lower, total_upper:
        The sum over customers and its interval (the quantiles of the per-draw sums).
    failed:
        Bootstrap refits that did not converge and were replaced by new simulations.

    Examples
    --------
    >>> from clientmodel.ltv import BGNBD
    >>> model = BGNBD.fit(BGNBD(r=0.25, alpha=4.0, a=0.8, b=2.5).simulate(2000, 39.0, seed=1))
    >>> pi = prediction_intervals(model, {"frequency": 2, "recency": 30.0, "T": 39.0}, seed=0)
    >>> bool(pi.lower[0] <= pi.estimate[0] <= pi.upper[0])
    True
    >>> PredictionIntervals.from_dict(pi.to_dict()) == pi
    True
    """

    quantity: str
    level: float
    sampling: str
    draws: int
    estimate: Array = attrs.field(converter=_frozen, eq=_ARRAY_EQ)
    lower: Array = attrs.field(converter=_frozen, eq=_ARRAY_EQ)
    upper: Array = attrs.field(converter=_frozen, eq=_ARRAY_EQ)
    total_estimate: float
    total_lower: float
    total_upper: float
    failed: int = 0

    def __len__(self) -> int:
        return len(self.estimate)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-safe values (lists of floats, no numpy types)."""
        return {
            "quantity": self.quantity,
            "level": float(self.level),
            "sampling": self.sampling,
            "draws": int(self.draws),
            "estimate": self.estimate.tolist(),
            "lower": self.lower.tolist(),
            "upper": self.upper.tolist(),
            "total_estimate": float(self.total_estimate),
            "total_lower": float(self.total_lower),
            "total_upper": float(self.total_upper),
            "failed": int(self.failed),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PredictionIntervals:
        """Rebuild from :meth:`to_dict`; ``ArgumentError`` names a bad key path.

        Examples
        --------
        >>> pi = PredictionIntervals(quantity="p_alive", level=0.9, sampling="normal", draws=100,
        ...                          estimate=[0.5], lower=[0.4], upper=[0.6], total_estimate=0.5,
        ...                          total_lower=0.4, total_upper=0.6)
        >>> PredictionIntervals.from_dict(pi.to_dict()) == pi
        True
        """
        path = "PredictionIntervals"
        keys = (
            "quantity",
            "level",
            "sampling",
            "draws",
            "estimate",
            "lower",
            "upper",
            "total_estimate",
            "total_lower",
            "total_upper",
        )
        check_mapping(data, path, required=keys, optional=("failed",))
        columns = {k: _numbers(data[k], key_path(path, k)) for k in ("estimate", "lower", "upper")}
        sizes = {len(v) for v in columns.values()}
        if len(sizes) != 1:
            raise ArgumentError(
                f"{path}.estimate, .lower and .upper must have the same length, got "
                f"{[len(v) for v in columns.values()]}",
                field=key_path(path, "lower"),
            )

        def number(key: str) -> float:
            return read_key(data, key, path, check_number)

        low, high = np.asarray(columns["lower"]), np.asarray(columns["upper"])
        crossed = np.flatnonzero(low > high)
        if crossed.size:
            where = key_path(key_path(path, "lower"), int(crossed[0]))
            raise ArgumentError(f"{where} is above its upper bound", field=where)
        if number("total_lower") > number("total_upper"):
            where = key_path(path, "total_lower")
            raise ArgumentError(f"{where} is above total_upper", field=where)
        return cls(
            quantity=read_key(data, "quantity", path, lambda v, f: check_choice(v, f, QUANTITIES)),
            level=read_key(
                data,
                "level",
                path,
                lambda v, f: check_number(v, f, minimum=0, maximum=1, exclusive_minimum=True),
            ),
            sampling=read_key(data, "sampling", path, lambda v, f: check_choice(v, f, SAMPLINGS)),
            draws=read_key(data, "draws", path, lambda v, f: check_integer(v, f, minimum=1)),
            total_estimate=number("total_estimate"),
            total_lower=number("total_lower"),
            total_upper=number("total_upper"),
            failed=read_key(data, "failed", path, lambda v, f: check_integer(v, f, minimum=0))
            if "failed" in data
            else 0,
            **columns,
        )


def _numbers(value: Any, path: str) -> list[float]:
    if not isinstance(value, (list, tuple)):
        raise ArgumentError(f"{path} must be a list of numbers, got {value!r}", field=path)
    return [check_number(v, key_path(path, i)) for i, v in enumerate(value)]


def _name(model: Any) -> str:
    if isinstance(model, CovariateModel):
        return f"CovariateModel({type(model.base).__name__})"
    return type(model).__name__


def _base_of(model: Any) -> Any:
    return model.base if isinstance(model, CovariateModel) else model


def _free_coefficients(model: CovariateModel) -> tuple[str, ...]:
    """The free coefficients (``purchase:x``, ``dropout:z``, ``both:c``) in the order of the fit
    report, which follow the base model's parameters there."""
    assert model.fit_report is not None
    return tuple(model.fit_report.estimates)[len(model.base.PARAMS) :]


def _coefficients(names: tuple[str, ...], values: Array) -> dict[str, dict[str, float]]:
    """``{"purchase": {x: gamma}, "dropout": {z: gamma}}`` from free coefficients; a shared
    (``both:c``) one acts on both processes."""
    out: dict[str, dict[str, float]] = {"purchase": {}, "dropout": {}}
    for name, value in zip(names, values, strict=True):
        process, column = name.split(":", 1)
        for p in ("purchase", "dropout") if process == "both" else (process,):
            out[p][column] = float(value)
    return out


def _log_covariance(model: Any, role: str) -> tuple[Array, Array]:
    """The free parameters at the estimates and their covariance, or an error saying why there
    are none. The free parameters are the logs of the base parameters (``PARAMS``) and, for a
    model with covariates, the free coefficients after them."""
    report = model.fit_report
    name = _name(model)
    if report is None:
        raise ArgumentError(
            f"{role} {name} was built from parameters, not fitted: it has no sampling "
            "distribution to draw from; fit it, or pass sampling='bootstrap' (which simulates "
            "from the model and refits)",
            field=role,
        )
    if report.covariance is None:
        reason = report.uncertainty_note or (
            "the observed information at the estimates is not positive definite"
        )
        raise ArgumentError(
            f"{role} {name} has no covariance of its estimates ({reason}); normal draws are not "
            "possible: pass sampling='bootstrap', which simulates from the model and refits",
            field=role,
        )
    base = _base_of(model)
    z = np.log(np.array([getattr(base, p) for p in base.PARAMS], dtype=np.float64))
    if isinstance(model, CovariateModel):
        names = _free_coefficients(model)
        expected = {
            *(f"purchase:{n}" for n in model.purchase if n not in model.constrain),
            *(f"dropout:{n}" for n in model.dropout if n not in model.constrain),
            *(f"both:{n}" for n in model.constrain),
        }
        heads = tuple(report.estimates)[: len(base.PARAMS)]
        if heads != tuple(base.PARAMS) or set(names) != expected or len(names) != len(expected):
            raise ArgumentError(
                f"{role} {name} has a fit report whose estimates {list(report.estimates)} are "
                f"not its parameters {list(base.PARAMS)} followed by its free coefficients "
                f"{sorted(expected)}; it cannot be drawn from",
                field=role,
            )
        centre = [
            model.coefficients["purchase" if n.startswith("both:") else n.split(":", 1)[0]][
                n.split(":", 1)[1]
            ]
            for n in names
        ]
        z = np.concatenate([z, np.array(centre, dtype=np.float64)])
    cov = np.array(report.covariance, dtype=np.float64)
    if cov.shape != (len(z), len(z)):
        raise ArgumentError(
            f"{role} {name} has a fit report whose covariance is {cov.shape[0]} x {cov.shape[1]}, "
            f"not {len(z)} x {len(z)} (one row per free parameter: {list(report.estimates)})",
            field=role,
        )
    return z, cov


def _standard_normals(model: Any, n: int, rng: np.random.Generator) -> Array:
    return rng.standard_normal((n, len(_base_of(model).PARAMS)))


def _free_draws(model: Any, base_normals: Array, rng: np.random.Generator) -> Array:
    """Draws of the free parameters, ``z_hat + L e`` with ``L`` the Cholesky factor of the
    covariance. ``L`` is lower triangular and the base parameters come first, so their draws
    use only the first normals: a model with covariates draws, for the same seed, the base
    parameters a plain model with the same covariance block would (the coefficients' normals
    are drawn after everything else)."""
    z, cov = _log_covariance(model, "model")
    n, m = base_normals.shape
    normals = base_normals
    if len(z) > m:
        normals = np.hstack([base_normals, rng.standard_normal((n, len(z) - m))])
    try:
        chol = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise ArgumentError(
            f"model {_name(model)} has a covariance of its estimates that is not positive "
            "definite; normal draws are not possible: pass sampling='bootstrap'",
            field="model",
        ) from None
    out: Array = normals @ chol.T + z
    return out


def draw_parameters(
    model: Any, draws: int = 1000, *, seed: int | np.random.Generator | None = None
) -> Array:
    """Parameter draws from the asymptotic normal of a fitted model's free parameters.

    ``exp(z)`` with ``z ~ N(log theta_hat, Sigma)``, ``Sigma`` the fit report's ``covariance``.
    For a :class:`~clientmodel.ltv.covariates.CovariateModel` the covariate coefficients are
    drawn jointly with the log base parameters (they are on their own scale: not exponentiated).

    Parameters
    ----------
    model:
        A fitted model (its ``fit_report`` holds the covariance).
    draws:
        Number of draws.
    seed:
        Seed or generator: the same seed gives the same draws.

    Returns
    -------
    An array of shape ``(draws, parameters)``, columns in the order of the fit report's
    ``estimates``: ``PARAMS``, then the free coefficients of a model with covariates.

    Examples
    --------
    >>> from clientmodel.ltv import BGNBD
    >>> model = BGNBD.fit(BGNBD(r=0.25, alpha=4.0, a=0.8, b=2.5).simulate(2000, 39.0, seed=1))
    >>> draw_parameters(model, 5, seed=0).shape
    (5, 4)
    """
    if not isinstance(model, (ParametricModel, CovariateModel)):
        raise ArgumentError(
            f"model must be a fitted clientmodel model, got {type(model).__name__}",
            field="model",
        )
    n = check_integer(draws, "draws", minimum=1)
    rng = check_seed(seed)
    _log_covariance(model, "model")
    out = _free_draws(model, _standard_normals(model, n, rng), rng)
    m = len(_base_of(model).PARAMS)
    out[:, :m] = np.exp(out[:, :m])
    return out


def _rebuild(model: ParametricModel, theta: Array) -> Any:
    return type(model)(**dict(zip(model.PARAMS, (float(v) for v in theta), strict=True)))


def _drawn(model: Any, free: Array) -> Any:
    """The model at one draw of the free parameters (log base parameters, coefficients)."""
    try:
        with np.errstate(over="ignore"):
            if not isinstance(model, CovariateModel):
                return _rebuild(model, np.exp(free))
            m = len(model.base.PARAMS)
            coefficients = _coefficients(_free_coefficients(model), free[m:])
            base = _rebuild(model.base, np.exp(free[:m]))
    except ArgumentError as err:
        raise _out_of_range(model, "every customer", err) from None
    return attrs.evolve(model, base=base, coefficients=coefficients)


def _at(model: Any, row: Mapping[str, float]) -> Any:
    """The plain model of customers with covariate row ``row`` (the model itself without
    covariates)."""
    if not isinstance(model, CovariateModel):
        return model
    try:
        with np.errstate(over="ignore", under="ignore"):
            return model.model_for(row)
    except ArgumentError as err:
        raise _out_of_range(model, f"customers with covariates {dict(row)}", err) from None


def _out_of_range(model: Any, who: str, err: ArgumentError) -> DataError:
    """A draw far in the tail of a very wide normal puts a parameter beyond float64."""
    return DataError(
        f"a drawn {_name(model)} has no valid parameters for {who} ({err}): the normal "
        "approximation of the fit is very wide here (see the standard errors of its report); "
        "use sampling='bootstrap' or more data",
        field="model",
    )


# -- what is predicted -------------------------------------------------------------------------

Predict = Callable[[TransactionModel, Any, Any], Array]


@attrs.frozen
class _Task:
    """One quantity with its options: the columns it reads and how to predict it."""

    quantity: str
    needed: tuple[str, ...]
    predict: Predict


def _task(
    quantity: str,
    model: TransactionModel,
    spend_model: Any,
    horizon: float | None,
    discount_rate: float | None,
    margin: float,
    unit: str,
    method: str,
) -> _Task:
    needed = tuple(model.SUMMARY)
    if quantity == "p_alive":
        h = 0.0 if horizon is None else check_number(horizon, "horizon", minimum=0)
        if spend_model is not None:
            _unused("spend_model", quantity)
        return _Task(quantity, needed, lambda m, s, rows: _array(m.p_alive(rows, horizon=h)))
    if quantity == "expected_purchases":
        if horizon is None:
            raise ArgumentError(
                "expected_purchases needs horizon: the length of the future window in the "
                "summary's time unit (e.g. 52 for a year in weeks)",
                field="horizon",
            )
        t = check_number(horizon, "horizon", minimum=0)
        if spend_model is not None:
            _unused("spend_model", quantity)
        return _Task(quantity, needed, lambda m, s, rows: _array(m.expected_purchases(rows, t)))
    if discount_rate is None:
        raise ArgumentError(
            f"{quantity} needs discount_rate: the annual discount rate (0.1 for 10% a year)",
            field="discount_rate",
        )
    rate = discount_rate
    if quantity == "dert":
        h = math.inf if horizon is None else horizon
        if spend_model is not None:
            _unused("spend_model", quantity)

        def dert(m: TransactionModel, s: Any, rows: Mapping[str, Array]) -> Array:
            return _array(
                discounted_purchases(
                    m, rows, horizon=h, discount_rate=rate, unit=unit, method="continuous"
                )
            )

        return _Task(quantity, needed, dert)
    if horizon is None:
        raise ArgumentError(
            "clv needs horizon: the length of the future window in the summary's time unit "
            "(math.inf with method='continuous' for the residual value)",
            field="horizon",
        )
    if spend_model is None:
        raise ArgumentError(
            "clv needs spend_model: a fitted spend model (e.g. GammaGamma) or the spend per "
            "purchase as a number",
            field="spend_model",
        )
    if isinstance(spend_model, SpendModel):
        needed = (*needed, *(c for c in spend_model.SUMMARY if c not in needed))

    def value(m: TransactionModel, s: Any, rows: Mapping[str, Array]) -> Array:
        return _array(
            clv(
                m,
                s,
                rows,
                horizon=horizon,
                discount_rate=rate,
                margin=margin,
                unit=unit,
                method=method,  # type: ignore[arg-type]
            )
        )

    return _Task(quantity, needed, value)


def _unused(name: str, quantity: str) -> None:
    raise ArgumentError(f"{name} applies to quantity='clv' only, not {quantity!r}", field=name)


def _array(values: Any) -> Array:
    return np.atleast_1d(np.asarray(values, dtype=np.float64))


def _transaction_model(model: Any) -> TransactionModel:
    """The plain transaction model behind ``model`` (its base, for a model with covariates)."""
    base = _base_of(model)
    if not isinstance(base, TransactionModel):
        kinds = ", ".join(model_classes("transaction"))
        raise ArgumentError(
            f"model must be a transaction model ({kinds}), or one of them fitted with "
            f"covariates, got {_name(model)}",
            field="model",
        )
    return base


# -- the customers -----------------------------------------------------------------------------


@attrs.frozen
class _Customers:
    """The rows to predict for, read and checked once.

    Customers with the same covariate row (a *group*) share their parameters, and a prediction
    depends on a customer only through the group and the summary columns: it is made once per
    distinct (group, history) row. Those rows are sorted by group.
    """

    rows: dict[str, Array]  # the distinct histories
    group: NDArray[np.intp]  # the group of each distinct row
    count: Array  # customers per distinct row
    index: NDArray[np.intp]  # each customer's distinct row
    covariates: list[dict[str, float]]  # the covariate row of each group ({} without covariates)
    customer_group: NDArray[np.intp]  # each customer's group

    def runs(self, start: int, stop: int) -> list[tuple[int, int, int]]:
        """``(first, end, group)`` of each group's run of distinct rows in ``[start, stop)``."""
        groups = self.group[start:stop]
        cuts = [0, *(np.flatnonzero(groups[1:] != groups[:-1]) + 1).tolist(), stop - start]
        return [(start + a, start + b, int(groups[a])) for a, b in itertools.pairwise(cuts)]

    def part(self, first: int, end: int) -> SummaryData:
        """Distinct rows ``[first, end)``, handed to the models as rows checked already."""
        return SummaryData({k: v[first:end] for k, v in self.rows.items()}, False)


def _customers(
    model: Any,
    standard: Mapping[str, Array],
    covariate_rows: Array | None,
    names: tuple[str, ...],
) -> _Customers:
    n = len(next(iter(standard.values())))
    if covariate_rows is None:
        customer_group = np.zeros(n, dtype=np.intp)
        groups: list[dict[str, float]] = [{}]
    else:
        distinct_cov, customer_group = distinct_rows(*covariate_rows.T)
        groups = [
            dict(zip(names, map(float, row), strict=True))
            for row in zip(*distinct_cov, strict=True)
        ]
    distinct, index = distinct_rows(customer_group, *standard.values())
    return _Customers(
        rows=dict(zip(standard, distinct[1:], strict=True)),
        group=distinct[0],
        count=np.bincount(index, minlength=len(distinct[0])).astype(np.float64),
        index=index,
        covariates=groups,
        customer_group=customer_group,
    )


def _covariate_rows(
    model: CovariateModel, summary: Any, covariates: Any, customer: str
) -> tuple[Array, tuple[str, ...]]:
    """Each customer's covariate row: from ``summary`` itself, or from ``covariates`` (one row
    per customer) joined on the ``customer`` column."""
    names = tuple(dict.fromkeys((*model.purchase, *model.dropout)))
    record = _as_record(summary)
    table = read_table(
        {k: [v] for k, v in record.items()} if record is not None else summary, name="summary"
    )
    if covariates is None:
        table.require(*names)
        return np.column_stack([table.numbers(c) for c in names]), names
    other = read_table(covariates, name="covariates")
    other.require(customer, *names)
    table.require(customer)
    position: dict[Any, int] = {}
    for i, key in enumerate(other.ids(customer).tolist()):
        if key in position:
            raise DataError(
                f"covariates column {customer!r} holds the customer {describe_rows([i], [key])} "
                f"twice (first at row {position[key]}); give one row per customer",
                field=customer,
                rows=[i],
            )
        position[key] = i
    keys = table.ids(customer).tolist()
    where = np.fromiter((position.get(k, -1) for k in keys), dtype=np.intp, count=len(keys))
    missing = np.flatnonzero(where < 0)
    if missing.size:
        raise DataError(
            f"{missing.size} customer(s) of the summary have no row in the covariates table "
            f"({describe_rows(missing.tolist(), [keys[i] for i in missing[:5]])}); every "
            f"customer needs its covariates (joined on column {customer!r})",
            field=customer,
            rows=missing[:5].tolist(),
        )
    values: Array = np.column_stack([other.numbers(c) for c in names])[where]
    return values, names


# -- the draws ---------------------------------------------------------------------------------


def _normal_draws(
    model: Any, spend_model: Any, n: int, rng: np.random.Generator
) -> tuple[list[Any], list[Any], int]:
    normals = _standard_normals(model, n, rng)
    if isinstance(spend_model, SpendModel):
        spends = [_rebuild(spend_model, th) for th in draw_parameters(spend_model, n, seed=rng)]
    else:
        spends = [spend_model] * n
    models = [_drawn(model, free) for free in _free_draws(model, normals, rng)]
    return models, spends, 0


def _simulate(
    model: Any,
    size: int,
    rng: np.random.Generator,
    times: Array,
    customers: _Customers,
    covariate_rows: Array | None,
    names: tuple[str, ...],
) -> dict[str, Array]:
    """Data like the fit's, from the model: ``size`` customers with the observation lengths
    (and, with covariates, the covariate rows, drawn together with them) of the summary's."""
    if not isinstance(model, CovariateModel):
        sim: dict[str, Array] = model.simulate(size, rng.choice(times, size=size), seed=rng)
        return sim
    assert covariate_rows is not None
    pick = np.sort(rng.integers(0, len(times), size))
    group = customers.customer_group[pick]
    parts: list[dict[str, Array]] = []
    for g in np.unique(group):
        rows = pick[group == g]
        part = model.model_for(customers.covariates[g]).simulate(len(rows), times[rows], seed=rng)
        parts.append({**part, **{c: covariate_rows[rows, j] for j, c in enumerate(names)}})
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _refit(model: Any, data: dict[str, Array]) -> Any:
    if not isinstance(model, CovariateModel):
        return type(model).fit(data)
    report = model.fit_report
    return type(model.base).fit(
        data,
        covariates=True,
        purchase=model.purchase,
        dropout=model.dropout,
        constrain=model.constrain,
        penalty=0.0 if report is None else report.penalizer,
    )


def _bootstrap_draws(
    model: Any,
    spend_model: Any,
    n: int,
    rng: np.random.Generator,
    times: Array,
    frequency: Array | None,
    customers: _Customers,
    covariate_rows: Array | None,
    names: tuple[str, ...],
) -> tuple[list[Any], list[Any], int]:
    """Refits on data simulated from the model: as many customers as the fit had, with
    observation lengths (and covariate rows) drawn from the summary's."""
    report = model.fit_report
    size = len(times) if report is None else max(1, round(report.n_observations))
    models: list[Any] = []
    spends: list[Any] = []
    failed = 0
    while len(models) < n:
        if failed > _REDRAWS * n:
            raise ConvergenceError(
                f"{failed} of the bootstrap refits of {_name(model)} did not converge "
                "(the fitted model generates data on which it is not identified); use "
                "sampling='normal' or more data",
                field="sampling",
            )
        sim = _simulate(model, size, rng, times, customers, covariate_rows, names)
        try:
            refit = _refit(model, sim)
            spend = spend_model
            if isinstance(spend_model, SpendModel) and frequency is not None:
                # The spend model is refitted on its own data size, with numbers of purchases
                # resampled from the summary's repeat buyers.
                fitted = spend_model.fit_report
                buyers = len(frequency) if fitted is None else round(fitted.n_observations)
                freq = rng.choice(frequency, max(buyers, 1))
                simulator: Any = spend_model
                spend = type(spend_model).fit(simulator.simulate(len(freq), freq, seed=rng))
        except ConvergenceError:
            failed += 1
            continue
        except DataError:
            # A replicate in which a covariate happens to be constant cannot be fitted.
            if not isinstance(model, CovariateModel):
                raise
            failed += 1
            continue
        models.append(refit)
        spends.append(spend)
    return models, spends, failed


# -- the intervals -----------------------------------------------------------------------------


def _compute(
    model: Any,
    summary: Any,
    quantity: str,
    *,
    horizon: float | None,
    discount_rate: float | None,
    spend_model: Any,
    margin: float,
    unit: str,
    method: str,
    level: float,
    draws: int | None,
    sampling: str,
    seed: int | np.random.Generator | None,
    columns: Mapping[str, str] | None,
    covariates: Any,
    customer: str | None,
) -> PredictionIntervals:
    base = _transaction_model(model)
    with_covariates = isinstance(model, CovariateModel)
    if covariates is not None and not with_covariates:
        raise ArgumentError(
            f"covariates apply to a model fitted with covariates (a CovariateModel), not to "
            f"{type(model).__name__}",
            field="covariates",
        )
    check_choice(quantity, "quantity", QUANTITIES)
    check_choice(sampling, "sampling", SAMPLINGS)
    lev = check_number(level, "level", minimum=0, maximum=1, exclusive_minimum=True)
    if lev >= 1:
        raise ArgumentError(f"level must be below 1, got {level!r}", field="level")
    n = check_integer(
        (1000 if sampling == "normal" else 100) if draws is None else draws,
        "draws",
        minimum=2,
        maximum=1_000_000,
    )
    rng = check_seed(seed)
    if isinstance(spend_model, SpendModel) and quantity == "clv" and sampling == "normal":
        _log_covariance(spend_model, "spend_model")
    task = _task(quantity, base, spend_model, horizon, discount_rate, margin, unit, method)
    if sampling == "normal":
        _log_covariance(model, "model")
    # The one validation of the rows: a prediction on the caller's rows, whose errors name the
    # caller's row numbers. Every later prediction is on distinct rows of these, checked already.
    rename = None if columns is None else dict(check_mapping(columns, "columns"))
    data = read_summary(summary, task.needed, columns=rename)
    standard = {name: data[name] for name in task.needed}
    checked = task.predict(base, spend_model, standard)
    covariate_rows: Array | None = None
    names: tuple[str, ...] = ()
    if with_covariates:
        key = model.customer if customer is None else check_text(customer, "customer")
        covariate_rows, names = _covariate_rows(model, summary, covariates, key)
    customers = _customers(model, standard, covariate_rows, names)
    if with_covariates:
        at_estimates = _predict_rows(
            task.predict, model, spend_model, customers, 0, len(customers.count)
        )
        estimate = at_estimates[customers.index]
    else:
        estimate = checked
    if not np.all(np.isfinite(estimate)):
        rows_bad = np.flatnonzero(~np.isfinite(estimate))
        first = {k: float(v[rows_bad[0]]) for k, v in standard.items()}
        group = customers.covariates[customers.customer_group[rows_bad[0]]]
        _not_finite(_at(model, group), first, "the model", rows_bad)
    if sampling == "normal":
        models, spends, failed = _normal_draws(model, spend_model, n, rng)
    else:
        times = standard[base.SUMMARY[-1]]
        freq = None
        if isinstance(spend_model, SpendModel):
            freq = standard["frequency"][standard["frequency"] > 0]
            if freq.size == 0:
                raise DataError(
                    "the bootstrap of the spend model needs repeat buyers (frequency > 0) in the "
                    "summary, to simulate spend data like the fit's",
                    field="frequency",
                )
        models, spends, failed = _bootstrap_draws(
            model, spend_model, n, rng, times, freq, customers, covariate_rows, names
        )
    lower, upper, totals = _quantiles(task.predict, models, spends, customers, lev)
    tail = (1.0 - lev) / 2.0
    total_low, total_high = np.quantile(totals, [tail, 1.0 - tail])
    return PredictionIntervals(
        quantity=quantity,
        level=lev,
        sampling=sampling,
        draws=n,
        estimate=estimate,
        lower=lower[customers.index],
        upper=upper[customers.index],
        total_estimate=float(np.sum(estimate)),
        total_lower=float(total_low),
        total_upper=float(total_high),
        failed=failed,
    )


def _predict_rows(
    predict: Predict, model: Any, spend: Any, customers: _Customers, start: int, stop: int
) -> Array:
    """Predictions for the distinct rows ``[start, stop)``, each group at its own parameters."""
    out = np.empty(stop - start)
    for first, end, group in customers.runs(start, stop):
        plain = _at(model, customers.covariates[group])
        out[first - start : end - start] = predict(plain, spend, customers.part(first, end))
    return out


def _quantiles(
    predict: Predict,
    models: list[Any],
    spends: list[Any],
    customers: _Customers,
    level: float,
) -> tuple[Array, Array, Array]:
    """Per distinct row the quantiles over the draws, and per draw the total over customers.

    The (draws x rows) block is built a chunk of rows at a time, small enough to hold.
    """
    count = customers.count
    n_rows, n_draws = len(count), len(models)
    chunk = max(1, _BLOCK // n_draws)
    tail = (1.0 - level) / 2.0
    lower, upper = np.empty(n_rows), np.empty(n_rows)
    totals = np.zeros(n_draws)
    block = np.empty((n_draws, min(chunk, n_rows)))
    for start in range(0, n_rows, chunk):
        stop = min(start + chunk, n_rows)
        values = block[:, : stop - start]
        for d, (m, s) in enumerate(zip(models, spends, strict=True)):
            values[d] = _predict_rows(predict, m, s, customers, start, stop)
        bad = ~np.isfinite(values)
        if bad.any():
            d, j = (int(v[0]) for v in np.nonzero(bad))
            row = start + j
            _not_finite(
                _at(models[d], customers.covariates[customers.group[row]]),
                {k: float(v[row]) for k, v in customers.rows.items()},
                "a drawn model",
            )
        totals += values @ count[start:stop]
        lower[start:stop], upper[start:stop] = _quantiles_of_columns(values, tail)
    return lower, upper, totals


def _not_finite(
    model: Any,
    history: Mapping[str, float],
    which: str,
    rows: NDArray[np.intp] | None = None,
) -> None:
    """Refuse a prediction that is not a finite number (never hand back NaN)."""
    params = ", ".join(f"{k}={v:.4g}" for k, v in model.params.items())
    raise DataError(
        f"{which} ({type(model).__name__} {params}) gives a prediction that is not a finite "
        f"number for the history {history}; the parameters are where this quantity cannot be "
        "computed (e.g. a fit on the boundary of the parameter space)",
        field="model",
        rows=() if rows is None else rows[:5].tolist(),
    )


def _quantiles_of_columns(values: Array, tail: float) -> tuple[Array, Array]:
    """The ``tail`` and ``1 - tail`` quantiles of each column, as ``np.quantile`` (linear
    interpolation between order statistics) but partitioning for those four order statistics
    only, which is about twice as fast on a (draws x histories) block."""
    n = values.shape[0]
    pos = np.array([tail, 1.0 - tail]) * (n - 1)
    below = np.floor(pos).astype(np.intp)
    above = np.minimum(below + 1, n - 1)
    ordered = np.partition(values, np.unique(np.concatenate([below, above])), axis=0)
    frac = pos - below
    low, high = (
        ordered[below[i]] + frac[i] * (ordered[above[i]] - ordered[below[i]]) for i in range(2)
    )
    return low, high


def prediction_intervals(
    model: Any,
    summary: Any,
    quantity: Quantity = "p_alive",
    *,
    horizon: float | None = None,
    discount_rate: float | None = None,
    spend_model: Any = None,
    margin: float = 1.0,
    unit: str = "W",
    method: Literal["discrete", "continuous"] = "discrete",
    level: float = 0.95,
    draws: int | None = None,
    sampling: Sampling = "normal",
    seed: int | np.random.Generator | None = None,
    columns: Mapping[str, str] | None = None,
    covariates: Any = None,
    customer: str | None = None,
) -> PredictionIntervals:
    """Prediction intervals per customer and for the total, from the parameters' uncertainty.

    Parameters
    ----------
    model:
        A fitted transaction model (``BGNBD``, ``ParetoNBD``, ...).
    summary:
        The customers: a table or one record with the model's summary columns (and
        ``monetary_value`` for ``clv`` with a spend model).
    quantity:
        ``"p_alive"`` (at the end of observation + ``horizon``, default 0),
        ``"expected_purchases"`` (in the next ``horizon``), ``"dert"`` (discounted expected
        residual transactions over ``horizon``, default infinite, continuous discounting) or
        ``"clv"`` (as :func:`~clientmodel.ltv.clv.clv`).
    horizon, discount_rate, spend_model, margin, unit, method:
        As in :func:`~clientmodel.ltv.clv.clv`, where the quantity uses them. A fitted spend
        model's parameters are drawn too (independently: the two models are fitted separately).
    level:
        Coverage of each interval, in (0, 1).
    draws:
        Parameter draws (default 1,000) or bootstrap replicates (default 100).
    sampling:
        ``"normal"``: draws from the asymptotic normal of the log-parameters (needs the fit
        report's covariance). ``"bootstrap"``: simulate data of the fit's size from the model
        (observation lengths drawn from the summary's), refit, predict -- slower, no normal
        approximation.
    seed:
        Seed or generator: the same seed gives the same intervals.
    columns:
        Renames, standard name -> your column.
    covariates:
        For a model fitted with covariates (a
        :class:`~clientmodel.ltv.covariates.CovariateModel`): a table with one row per
        customer holding the covariate columns, joined on ``customer``; without it the
        covariate columns are read from ``summary``. Each draw then gives every customer its own
        parameters (the coefficients are drawn jointly with the base parameters).
    customer:
        The customer id column joining ``covariates`` to ``summary`` (default: the fit's).

    Returns
    -------
    PredictionIntervals
        Per row the estimate (at the fitted parameters), lower and upper bounds; the total over
        rows and its interval.

    Examples
    --------
    >>> from clientmodel.ltv import BGNBD
    >>> model = BGNBD.fit(BGNBD(r=0.25, alpha=4.0, a=0.8, b=2.5).simulate(2000, 39.0, seed=1))
    >>> summary = {"frequency": [2, 0], "recency": [30.0, 0.0], "T": [39.0, 39.0]}
    >>> pi = prediction_intervals(model, summary, "expected_purchases", horizon=52, seed=0)
    >>> bool((pi.lower <= pi.estimate).all() and (pi.estimate <= pi.upper).all())
    True
    >>> bool(pi.total_lower <= pi.total_estimate <= pi.total_upper)
    True

    With covariates, each customer at its own parameters:

    >>> import numpy as np
    >>> data = {**BGNBD(r=0.25, alpha=4.0, a=0.8, b=2.5).simulate(2000, 39.0, seed=2),
    ...         "vip": np.arange(2000) % 2}
    >>> with_vip = BGNBD.fit(data, covariates=True, purchase=["vip"])
    >>> rows = {"frequency": [2, 2], "recency": [30.0, 30.0], "T": [39.0, 39.0], "vip": [0, 1]}
    >>> prediction_intervals(with_vip, rows, draws=200, seed=0).lower.shape
    (2,)
    """
    return _compute(
        model,
        summary,
        quantity,
        horizon=horizon,
        discount_rate=discount_rate,
        spend_model=spend_model,
        margin=margin,
        unit=unit,
        method=method,
        level=level,
        draws=draws,
        sampling=sampling,
        seed=seed,
        columns=columns,
        covariates=covariates,
        customer=customer,
    )


def prediction_interval_table(
    model: Any,
    summary: Any,
    quantity: Quantity = "p_alive",
    *,
    horizon: float | None = None,
    discount_rate: float | None = None,
    spend_model: Any = None,
    margin: float = 1.0,
    unit: str = "W",
    method: Literal["discrete", "continuous"] = "discrete",
    level: float = 0.95,
    draws: int | None = None,
    sampling: Sampling = "normal",
    seed: int | np.random.Generator | None = None,
    columns: Mapping[str, str] | None = None,
    covariates: Any = None,
    customer: str | None = None,
) -> Any:
    """:func:`prediction_intervals` per customer as the caller's kind of table.

    Columns ``customer`` (copied when given; it also joins a ``covariates`` table),
    ``estimate``, ``lower`` and ``upper``; a single record gives a dict of floats. Arguments as
    in :func:`prediction_intervals`.

    Examples
    --------
    >>> import pandas as pd
    >>> from clientmodel.ltv import BGNBD
    >>> model = BGNBD.fit(BGNBD(r=0.25, alpha=4.0, a=0.8, b=2.5).simulate(2000, 39.0, seed=1))
    >>> table = pd.DataFrame({"id": ["a", "b"], "frequency": [2, 0], "recency": [30.0, 0.0],
    ...                       "T": [39.0, 39.0]})
    >>> prediction_interval_table(model, table, seed=0, customer="id").columns.tolist()
    ['id', 'estimate', 'lower', 'upper']
    """
    if customer is not None:
        check_text(customer, "customer")
    result = _compute(
        model,
        summary,
        quantity,
        horizon=horizon,
        discount_rate=discount_rate,
        spend_model=spend_model,
        margin=margin,
        unit=unit,
        method=method,
        level=level,
        draws=draws,
        sampling=sampling,
        seed=seed,
        columns=columns,
        covariates=covariates,
        customer=customer,
    )
    out: dict[str, Any] = {
        "estimate": np.array(result.estimate),
        "lower": np.array(result.lower),
        "upper": np.array(result.upper),
    }
    record = _as_record(summary)
    if record is not None:
        values = {k: float(v[0]) for k, v in out.items()}
        return values if customer is None else {customer: record.get(customer), **values}
    table = read_table(summary, name="summary")
    if customer is not None:
        table.require(customer)
        out = {customer: table.raw(customer), **out}
    return table.result(out)
