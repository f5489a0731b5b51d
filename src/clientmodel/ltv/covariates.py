"""Time-invariant covariates for Pareto/NBD and BG/NBD (Fader & Hardie 2007, "Incorporating
time-invariant covariates into the Pareto/NBD and BG/NBD models") and GGompertz/NBD, in CLVTools'
parametrisation, and for the shifted beta-geometric (``theta ~ Beta(alpha, beta exp(-gamma_d .
z_i))``).

Each customer ``i`` has a row ``x_i`` of purchase covariates and ``z_i`` of dropout covariates;
the models' scale parameters become per-customer values::

    Pareto/NBD  alpha_i = alpha exp(-gamma_p . x_i)    beta_i = beta exp(-gamma_d . z_i)
    BG/NBD      alpha_i = alpha exp(-gamma_p . x_i)    a_i = a exp(gamma_d . z_i),
                                                       b_i = b exp(gamma_d . z_i)
    GGompertz   alpha_i = alpha exp(-gamma_p . x_i)    beta_i = beta exp(-gamma_d . z_i)

Each model class says how in its ``COVARIATES`` (a :class:`CovariateLinks`); this module names no
model.

so a positive ``gamma_p`` raises the mean purchase rate ``r / alpha_i`` (by the factor
``exp(gamma_p)`` per unit of the covariate: ``gamma_p`` is the elasticity of the rate to the
covariate on the log scale), and a positive ``gamma_d`` raises the mean dropout rate
``s / beta_i`` (Pareto/NBD). In the BG/NBD ``a_i`` and ``b_i`` move together, so the mean dropout
probability ``a / (a + b)`` stays and ``gamma_d`` changes its concentration (CLVTools' choice).

The likelihood of a customer is the plain model's at its own parameters. Customers with the same
covariate row share those parameters, so the fit evaluates the plain model's compressed
likelihood (with its analytic gradient and Hessian) once per distinct covariate row and sums:
``log theta_g = log theta + D_g c`` is linear in the free parameters, so the gradient is
``sum_g J_g' grad_g`` and the Hessian ``sum_g J_g' H_g J_g`` exactly (``J_g = [I | D_g]``).
A model whose likelihood has no analytic Hessian (GGompertz/NBD) is fitted by BFGS on the
exact gradient, its standard errors from central differences of that gradient.
The cost grows with the distinct (covariate row, history) pairs: categorical covariates are
cheap, a continuous covariate with a distinct value per customer costs one evaluation of the
plain likelihood per customer, unless the model's likelihood takes one parameter set per row
(``CovariateLinks.rows``, GGompertz/NBD): then every pair is evaluated in one vectorised pass,
row ``i`` at ``log theta + D_i c``, its gradient mapped back by ``J_i'``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, cast

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats

from clientmodel._validation import (
    check_mapping,
    check_number,
    check_sequence,
    check_text,
    did_you_mean,
    key_path,
)
from clientmodel.errors import ArgumentError, ConvergenceError, DataError, describe_rows
from clientmodel.ltv._base import (
    FORMAT_VERSION,
    REGISTRY,
    ParametricModel,
    SummaryData,
    _as_record,
    check_btyd,
    read_summary,
    read_weights,
)
from clientmodel.ltv._effects import (
    PROCESSES,
    coefficients_form,
    covariate_names,
    effects_table,
    read_coefficients,
)
from clientmodel.ltv._fitting import _log_covariance, compress, distinct_rows
from clientmodel.ltv.report import FitReport
from clientmodel.tables import read_table

__all__ = ["PROCESSES", "CovariateLinks", "CovariateModel", "fit_with_covariates"]

Array = NDArray[np.float64]
_SUMMARY = ("frequency", "recency", "T")
#: The per-customer predictions of a transaction model that ``CovariateModel.predict`` applies.
_TRANSACTION_PREDICTIONS = (
    "p_alive",
    "churn_risk",
    "expected_purchases",
    "expected_purchases_path",
    "weighted_purchases",
    "p_purchases",
    "p_any_purchase",
)
#: ``evaluator(theta, order) -> (value, gradient, Hessian)`` of one group's log-likelihood.
_Eval = Callable[[Array, int], tuple[float, Array | None, Array | None]]
#: ``evaluator(theta_rows) -> (value, per-row gradient)``: parameters of shape (params, rows).
_RowEval = Callable[[Array], tuple[float, Array]]
#: ``predict(base, method, params, data, args, kwargs) -> values or None`` (see CovariateLinks).
_RowPredict = Callable[
    [Any, str, Mapping[str, Array], SummaryData, tuple[Any, ...], dict[str, Any]], Array | None
]


def _read_transactions(summary: Any, columns: Mapping[str, str] | None, fit: bool) -> SummaryData:
    """The ``frequency, recency, T`` history (and ``weights`` when fitting), checked as the plain
    transaction models' fit does."""
    data = read_summary(
        summary,
        _SUMMARY,
        columns=columns,
        counts=("frequency",),
        optional=("weights",) if fit else (),
    )
    check_btyd(data)
    return data


def _fit_plain(cls: Any, history: Mapping[str, Array]) -> Any:
    """The plain model's fit on compressed rows (with ``weights``): from its first default start
    (all of them only if that one fails)."""
    likelihood = cls._likelihood(dict(history), weights=None, columns=None)
    try:
        return cls._maximize(likelihood, 0.0, likelihood.starts[:1])
    except ConvergenceError:
        return cls.fit(dict(history))


@attrs.frozen(kw_only=True)
class CovariateLinks:
    """How time-invariant covariates enter a model: a model class's ``COVARIATES``.

    Adding covariates to a model is giving its class this description; nothing in
    :mod:`clientmodel.ltv.covariates` names a model.

    Attributes
    ----------
    links:
        One entry per parameter of the model's ``PARAMS``: ``(process, sign)`` when that
        process's linear predictor moves the parameter, ``theta_i = theta exp(sign eta_i)``, or
        ``None`` when the parameter is common to all customers.
    group:
        ``group(history, weights)``: the plain model's compressed log-likelihood of customers
        sharing one set of parameters, as a function ``(theta, order)`` of the natural
        parameters returning the value and, up to ``order``, the gradient and the Hessian with
        respect to the log-parameters.
    predictions:
        The per-customer prediction methods :meth:`CovariateModel.predict` applies.
    history:
        The history columns the model reads (counts first).
    read:
        ``read(summary, columns, fit)``: those columns, checked (``weights`` too when fitting).
    plain:
        ``plain(cls, history)``: the plain model's fit on compressed rows with ``weights``, the
        start of the fit with covariates (coefficients 0).
    hessian:
        Whether ``group`` gives the Hessian; if not the fit uses BFGS on the analytic gradient
        and the standard errors come from central differences of that gradient.
    tenures:
        The per-customer data of the model are read by ``fit_tenures`` (``fit`` reads
        something else, e.g. cohort counts).
    rows:
        Optional ``rows(history, weights)``: the plain model's log-likelihood with one set of
        natural parameters per row (an array of shape ``(parameters, rows)``) returning the
        weighted total and each row's weighted gradient with respect to its own
        log-parameters, shape ``(parameters, rows)``. When given, the fit evaluates every
        (covariate row, history) pair in one vectorised pass instead of once per covariate
        row (``group``), which matters when a covariate is continuous.
    row_predictions:
        Optional ``row_predictions(base, method, params, data, args, kwargs)``: the prediction
        ``method`` of the plain model ``base`` for every row at once, ``params`` holding each
        model parameter per row, ``data`` the rows' checked history; ``None`` for a method it
        does not cover (then the prediction is made once per covariate row).

    Examples
    --------
    >>> from clientmodel.ltv import ParetoNBD
    >>> ParetoNBD.COVARIATES.links
    (None, ('purchase', -1.0), None, ('dropout', -1.0))
    """

    links: tuple[tuple[str, float] | None, ...]
    group: Callable[[Sequence[Array], Array], _Eval]
    predictions: tuple[str, ...] = _TRANSACTION_PREDICTIONS
    history: tuple[str, ...] = _SUMMARY
    read: Callable[[Any, Mapping[str, str] | None, bool], SummaryData] = _read_transactions
    plain: Callable[[Any, Mapping[str, Array]], Any] = _fit_plain
    hessian: bool = True
    tenures: bool = False
    rows: Callable[[Sequence[Array], Array], _RowEval] | None = None
    row_predictions: _RowPredict | None = None

    @property
    def processes(self) -> tuple[str, ...]:
        """The processes some parameter depends on."""
        return tuple(p for p in PROCESSES if any(link and link[0] == p for link in self.links))


def _covariate_models() -> list[str]:
    """Names of the registered models that take covariates."""
    return sorted(n for n, c in REGISTRY.items() if c.COVARIATES is not None)


def _name(model: Any) -> str:
    return model if isinstance(model, str) else str(model.__name__)


def _links_of(cls: Any) -> CovariateLinks:
    """A model class's covariate description (a class or its registered name)."""
    model = REGISTRY.get(cls) if isinstance(cls, str) else cls
    spec = None if model is None else model.COVARIATES
    if spec is None:
        raise ArgumentError(
            f"covariates are supported for {', '.join(_covariate_models())}, not {_name(cls)}",
            field="covariates",
        )
    return spec


_LOG_BOUND = 30.0
_START_BOUND = 25.0


# ------------------------------------------------------------------------------ the data


@attrs.frozen
class _Design:
    """Which covariates act where, and the map from free coefficients to each process."""

    purchase: tuple[str, ...]
    dropout: tuple[str, ...]
    constrain: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Free coefficients: ``purchase:x``, ``dropout:z`` and ``both:c`` for shared ones."""
        return (
            *(f"purchase:{n}" for n in self.purchase if n not in self.constrain),
            *(f"dropout:{n}" for n in self.dropout if n not in self.constrain),
            *(f"both:{n}" for n in self.constrain),
        )

    @property
    def columns(self) -> tuple[str, ...]:
        """Every covariate column, once, purchase ones first."""
        return tuple(dict.fromkeys((*self.purchase, *self.dropout)))

    def maps(self) -> tuple[Array, Array]:
        """``A_p`` (purchase covariates x free) and ``A_d``: ``gamma_p = A_p c``."""
        names = self.names
        a_p = np.zeros((len(self.purchase), len(names)))
        a_d = np.zeros((len(self.dropout), len(names)))
        for i, n in enumerate(self.purchase):
            a_p[i, names.index(f"both:{n}" if n in self.constrain else f"purchase:{n}")] = 1.0
        for i, n in enumerate(self.dropout):
            a_d[i, names.index(f"both:{n}" if n in self.constrain else f"dropout:{n}")] = 1.0
        return a_p, a_d

    def coefficients(self, c: Array) -> dict[str, dict[str, float]]:
        a_p, a_d = self.maps()
        return {
            "purchase": dict(zip(self.purchase, map(float, a_p @ c), strict=True)),
            "dropout": dict(zip(self.dropout, map(float, a_d @ c), strict=True)),
        }


def _design(model: Any, purchase: Any, dropout: Any, constrain: Any) -> _Design:
    """The checked covariate names of ``model`` (a model class or its name)."""
    spec = _links_of(model)
    for process, names in (("purchase", purchase), ("dropout", dropout)):
        if process not in spec.processes and check_sequence(names, process):
            other = next(p for p in spec.processes if p != process)
            raise ArgumentError(
                f"{_name(model)} has no {process} process: name its covariates in {other}=[...]",
                field=process,
            )
    p, d, c = (
        covariate_names(purchase, "purchase"),
        covariate_names(dropout, "dropout"),
        covariate_names(constrain, "constrain"),
    )
    if not p and not d:
        raise ArgumentError(
            "covariates were given but neither purchase=[...] nor dropout=[...] names a column",
            field="purchase",
        )
    for n in c:
        if n not in p or n not in d:
            raise ArgumentError(
                f"constrain names {n!r}, which must be among both purchase={list(p)} and "
                f"dropout={list(d)} (a shared effect acts on both processes)",
                field="constrain",
            )
    return _Design(p, d, c)


def _covariate_matrix(
    summary: Any,
    covariates: Any,
    design: _Design,
    customer: str,
    n_rows: int,
) -> Array:
    """The covariate columns aligned with the summary's rows (joined on ``customer``)."""
    names = design.columns
    if covariates is None:
        record = _as_record(summary)
        table = read_table(
            {k: [v] for k, v in record.items()} if record is not None else summary, name="summary"
        )
        table.require(*names)
        return (
            np.column_stack([table.numbers(n) for n in names]) if names else np.empty((n_rows, 0))
        )
    cov = read_table(covariates, name="covariates")
    cov.require(customer, *names)
    cov_ids = cov.ids(customer)
    record = _as_record(summary)
    stable = read_table(
        {k: [v] for k, v in record.items()} if record is not None else summary, name="summary"
    )
    ids = stable.ids(customer)
    position: dict[Any, int] = {}
    for i, v in enumerate(cov_ids.tolist()):
        if v in position:
            raise DataError(
                f"covariates column {customer!r} holds the customer "
                f"{describe_rows([i], [v])} twice (first at row {position[v]}); give one row per "
                "customer",
                field=customer,
                rows=[i],
            )
        position[v] = i
    listed = ids.tolist()
    index = np.fromiter((position.get(v, -1) for v in listed), dtype=np.intp, count=len(listed))
    missing = np.flatnonzero(index < 0)
    if missing.size:
        raise DataError(
            f"{missing.size} customer(s) of the summary have no row in the covariates table "
            f"({describe_rows(missing.tolist(), [listed[i] for i in missing[:5]])}); every "
            f"customer needs its covariates (joined on column {customer!r})",
            field=customer,
            rows=missing[:5].tolist(),
        )
    values = np.column_stack([cov.numbers(n) for n in names])
    out: Array = values[index]
    return out


def _check_identified(matrix: Array, names: Sequence[str], process: str) -> None:
    """A constant column (or one that is a combination of others) has no effect of its own."""
    for j, n in enumerate(names):
        col = matrix[:, j]
        if col.min() == col.max():
            raise DataError(
                f"{process} covariate {n!r} has the same value ({float(col[0])!r}) for every "
                "customer fitted: its effect cannot be told apart from the baseline rate; "
                "leave it out",
                field=n,
            )
    if names:
        rows, _ = distinct_rows(*matrix.T)
        full = np.column_stack([np.ones(len(rows[0])), *rows])
        if np.linalg.matrix_rank(full) < full.shape[1]:
            raise DataError(
                f"{process} covariates {list(names)} are linearly dependent (with the intercept): "
                "one of them is a combination of the others; leave one out",
                field=names[-1],
            )


# ------------------------------------------------------------------------------ the fit


def _runs(index: NDArray[np.intp], n_groups: int) -> list[NDArray[np.intp]]:
    """The rows of each group (``index`` gives each row's group), in one sort."""
    order = np.argsort(index, kind="stable")
    bounds = np.searchsorted(index[order], np.arange(n_groups + 1))
    return [order[bounds[g] : bounds[g + 1]] for g in range(n_groups)]


def _group_evaluators(model: Any, history: Sequence[Array], w: Array) -> _Eval:
    """The plain model's compressed likelihood of one group of customers."""
    return _links_of(model).group(history, w)


class _Problem:
    """Total log-likelihood over the groups of equal covariate rows, by the chain rule."""

    def __init__(
        self,
        model: Any,
        evaluators: list[_Eval],
        shifts: Array,
        penalty: float,
    ):
        self.model = model  # the model class (or its name)
        self.hessian = _links_of(model).hessian
        self.evaluators = evaluators
        self.shifts = shifts  # (groups, model parameters, free coefficients): D_g
        self.penalty = penalty
        self.m = shifts.shape[1]
        self.k = self.m + shifts.shape[2]
        self._last: tuple[Array, int, tuple[float, Array, Array]] | None = None

    def evaluate(self, p: Array, order: int) -> tuple[float, Array, Array]:
        """Value, gradient and Hessian (zeros beyond ``order``); the last point is kept, so a
        Newton method asking for the value and then the Hessian at one point pays once."""
        last = self._last
        if last is not None and last[1] >= order and np.array_equal(last[0], p):
            return last[2]
        result = self._evaluate(p, order)
        self._last = (np.array(p, dtype=np.float64), order, result)
        return result

    def _evaluate(self, p: Array, order: int) -> tuple[float, Array, Array]:
        if order >= 2 and not self.hessian:
            value, grad, _ = self._evaluate(p, 1)
            return value, grad, self._numeric_hessian(p)
        m = self.m
        base, c = p[:m], p[m:]
        value = 0.0
        grad = np.zeros(self.k)
        hess = np.zeros((self.k, self.k))
        for ev, d in zip(self.evaluators, self.shifts, strict=True):
            v, g, h = ev(np.exp(base + d @ c), order)
            value += v
            if order >= 1:
                assert g is not None
                grad[:m] += g
                grad[m:] += d.T @ g
            if order >= 2:
                assert h is not None
                hd = h @ d
                hess[:m, :m] += h
                hess[:m, m:] += hd
                hess[m:, m:] += d.T @ hd
        hess[m:, :m] = hess[:m, m:].T
        value -= self.penalty * float(c @ c)
        grad[m:] -= 2.0 * self.penalty * c
        hess[m:, m:] -= 2.0 * self.penalty * np.eye(len(c))
        return value, grad, hess

    def _numeric_hessian(self, p: Array) -> Array:
        """Central differences of the analytic gradient (models without a Hessian)."""
        h = np.empty((self.k, self.k))
        for i in range(self.k):
            step = 1e-4 * max(1.0, abs(float(p[i])))
            e = np.zeros(self.k)
            e[i] = step
            h[:, i] = (self._evaluate(p + e, 1)[1] - self._evaluate(p - e, 1)[1]) / (2.0 * step)
        out: Array = 0.5 * (h + h.T)
        return out


class _RowProblem(_Problem):
    """The same objective from one per-row evaluation: row ``i`` has the log-parameters
    ``log theta + D_i c`` (``D_i`` from its covariate row), and the chain rule sums
    ``D_i' g_i`` over the rows. Only the gradient is analytic (``CovariateLinks.rows``)."""

    def __init__(
        self,
        model: Any,
        evaluate_rows: _RowEval,
        signs: Array,
        processes: Sequence[int],
        designs: tuple[Array, Array],
        penalty: float,
    ):
        super().__init__(model, [], np.zeros((0, len(signs), designs[0].shape[1])), penalty)
        self.hessian = False
        self.evaluate_rows = evaluate_rows
        self.signs = signs  # per model parameter: the sign of its link, 0 when unlinked
        self.processes = processes  # per model parameter: 0 purchase, 1 dropout
        self.designs = designs  # per process: (rows, free coefficients), eta_i = E_i c

    def _evaluate(self, p: Array, order: int) -> tuple[float, Array, Array]:
        if order >= 2:
            value, grad, _ = self._evaluate(p, 1)
            return value, grad, self._numeric_hessian(p)
        m = self.m
        base, c = p[:m], p[m:]
        etas = [e @ c for e in self.designs]
        log_theta = np.stack(
            [
                np.full(len(etas[0]), base[j]) + self.signs[j] * etas[self.processes[j]]
                for j in range(m)
            ]
        )
        value, g = self.evaluate_rows(np.exp(log_theta))
        grad = np.zeros(self.k)
        grad[:m] = g.sum(axis=1)
        for j in range(m):
            if self.signs[j]:
                grad[m:] += self.signs[j] * (self.designs[self.processes[j]].T @ g[j])
        value -= self.penalty * float(c @ c)
        grad[m:] -= 2.0 * self.penalty * c
        return value, grad, np.zeros((self.k, self.k))


def _optimise(problem: _Problem, start: Array, scale: float) -> tuple[Array, str, int, str, bool]:
    """Trust-region Newton from the plain fit (coefficients 0), BFGS if that fails."""

    newton = [True]  # while the Newton method runs, evaluate the Hessian with the gradient

    def f(p: Array) -> tuple[float, Array]:
        if np.any(np.abs(p[: problem.m]) > _LOG_BOUND):
            return 1e300, np.zeros_like(p)
        with np.errstate(all="ignore"):
            v, g, _ = problem.evaluate(p, 2 if newton[0] else 1)
        if not (math.isfinite(v) and np.all(np.isfinite(g))):
            return 1e300, np.zeros_like(p)
        return -v / scale, -g / scale

    def hess(p: Array) -> Array:
        with np.errstate(all="ignore"):
            h = problem.evaluate(p, 2)[2]
        if not np.all(np.isfinite(h)):
            raise ArithmeticError("non-finite Hessian")
        out: Array = -h / scale
        return out

    x0 = start
    last: optimize.OptimizeResult | None = None
    for method in ("trust-exact", "BFGS") if problem.hessian else ("BFGS",):
        newton[0] = method == "trust-exact"
        try:
            if method == "trust-exact":
                res = optimize.minimize(
                    f,
                    x0,
                    jac=True,
                    hess=hess,
                    method=method,
                    options={"gtol": 1e-9, "maxiter": 300},
                )
            else:
                res = optimize.minimize(
                    f, x0, jac=True, method=method, options={"gtol": 1e-8, "maxiter": 5000}
                )
        except (ArithmeticError, np.linalg.LinAlgError, ValueError):
            continue
        ok = bool(np.isfinite(res.fun) and res.fun < 1e299)
        if ok and float(np.linalg.norm(res.jac)) < 1e-5:
            return np.asarray(res.x, dtype=np.float64), method, int(res.nit), str(res.message), True
        if ok:
            last, x0 = res, np.asarray(res.x, dtype=np.float64)
    if last is not None and np.any(np.abs(last.x[: problem.m]) > 18.5):
        x = np.asarray(last.x, dtype=np.float64)
        return x, "BFGS", int(last.nit), "the likelihood keeps rising towards the edge", False
    raise ConvergenceError(
        "the fit with covariates did not converge from the plain model's estimates; try "
        "penalty=... (an L2 penalty on the coefficients) or fewer covariates",
        field="covariates",
    )


def _read_history(model: Any, summary: Any, columns: Mapping[str, str] | None, *, fit: bool) -> Any:
    """The model's history columns (and ``weights`` when fitting), checked as the plain fit does."""
    return _links_of(model).read(summary, columns, fit)


def _plain_fit(cls: Any, history: dict[str, Array], w: Array) -> Any:
    """The plain model's fit on the compressed rows (the start of the fit with covariates)."""
    return _links_of(cls).plain(cls, {**history, "weights": w})


def fit_with_covariates(
    cls: type[ParametricModel],
    summary: Any,
    *,
    covariates: Any,
    purchase: Sequence[str] = (),
    dropout: Sequence[str] = (),
    customer: str = "customer_id",
    constrain: Sequence[str] = (),
    penalty: float = 0.0,
    weights: str | ArrayLike | None = None,
    columns: Mapping[str, str] | None = None,
    confidence_level: float = 0.95,
    tenures: bool = False,
    penalizer: float = 0.0,
    starts: Any = None,
) -> CovariateModel:
    """Fit ``cls`` with static covariates; see :meth:`ParametricModel.fit` (Pareto/NBD, BG/NBD,
    GGompertz/NBD) and :meth:`ShiftedBetaGeometric.fit_tenures` (``tenures=True``)."""
    if penalizer or starts is not None:
        raise ArgumentError(
            "with covariates, use penalty= (on the coefficients); penalizer= and "
            "starts= apply to the plain fit only",
            field="penalizer" if penalizer else "starts",
        )
    spec = _links_of(cls)
    if spec.tenures != tenures:
        raise ArgumentError(
            "covariates need one row per customer: "
            f"{cls.__name__}.{'fit_tenures' if spec.tenures else 'fit'} takes them",
            field="covariates",
        )
    design = _design(cls, purchase, dropout, constrain)
    lam = check_number(penalty, "penalty", minimum=0)
    customer = check_text(customer, "customer")
    data = spec.read(summary, columns, True)
    w = read_weights(summary, data, weights, columns)
    matrix = _covariate_matrix(summary, covariates, design, customer, len(data))
    keep = w > 0
    if not keep.any():
        raise DataError("every weight is 0: there is nothing to fit", field="weights")
    cols = design.columns
    xs = matrix[keep][:, [cols.index(n) for n in design.purchase]]
    zs = matrix[keep][:, [cols.index(n) for n in design.dropout]]
    _check_identified(xs, design.purchase, "purchase")
    _check_identified(zs, design.dropout, "dropout")
    history = [data[n][keep] for n in spec.history]
    # Compress on (covariate row, history); the covariate columns come first, so each group of
    # equal covariate rows is one run of the sorted distinct rows.
    compressed, cw = compress(*matrix[keep].T, *history, weights=w[keep])
    k = len(cols)
    cov_rows = np.column_stack(compressed[:k]) if k else np.empty((len(cw), 0))
    hist = compressed[k:]
    a_p, a_d = design.maps()
    m = len(cls.PARAMS)
    n_obs = float(cw.sum())
    # CLVTools' scale: the mean log-likelihood per customer minus lam * sum(gamma**2).
    problem: _Problem
    if spec.rows is not None:
        # One pass over every (covariate row, history) pair, each at its own parameters.
        designs = (
            cov_rows[:, [cols.index(n) for n in design.purchase]] @ a_p,
            cov_rows[:, [cols.index(n) for n in design.dropout]] @ a_d,
        )
        signs = np.array([0.0 if link is None else link[1] for link in spec.links])
        processes = [0 if link is None else PROCESSES.index(link[0]) for link in spec.links]
        evaluate_rows = spec.rows(hist, cw)
        problem = _RowProblem(cls, evaluate_rows, signs, processes, designs, lam * n_obs)
    else:
        groups, index = distinct_rows(*cov_rows.T)
        group_rows = np.column_stack(groups)
        eta_p = group_rows[:, [cols.index(n) for n in design.purchase]] @ a_p
        eta_d = group_rows[:, [cols.index(n) for n in design.dropout]] @ a_d
        shifts = np.zeros((len(group_rows), m, len(design.names)))
        for j, link in enumerate(spec.links):
            if link is not None:
                process, sign = link
                shifts[:, j, :] = sign * (eta_p if process == "purchase" else eta_d)
        evaluators = []
        for rows in _runs(index, len(group_rows)):
            evaluators.append(spec.group([h[rows] for h in hist], cw[rows]))
        problem = _Problem(cls, evaluators, shifts, lam * n_obs)
    # The plain model's optimum (every coefficient 0) is the start: from its first default
    # start (all of them only if that one fails).
    plain = _plain_fit(cls, dict(zip(spec.history, hist, strict=True)), cw)
    # A plain fit run to an edge (GGompertz/NBD's b -> 0) starts inside the objective's bounds.
    logs = np.clip(np.log([plain.params[p] for p in cls.PARAMS]), -_START_BOUND, _START_BOUND)
    start = np.concatenate([logs, np.zeros(len(design.names))])
    p, method, nit, message, converged = _optimise(problem, start, n_obs)
    report = _report(
        cls,
        problem,
        design,
        p,
        n_obs,
        len(cw),
        method,
        nit,
        message,
        converged,
        lam,
        confidence_level,
    )
    base = cls(**dict(zip(cls.PARAMS, map(float, np.exp(p[:m])), strict=True)))
    return CovariateModel(
        base=base,
        purchase=design.purchase,
        dropout=design.dropout,
        constrain=design.constrain,
        coefficients=design.coefficients(p[m:]),
        customer=customer,
        fit_report=report,
    )


def _report(
    cls: type[ParametricModel],
    problem: _Problem,
    design: _Design,
    p: Array,
    n_obs: float,
    n_distinct: int,
    method: str,
    nit: int,
    message: str,
    converged: bool,
    penalty: float,
    level: float,
) -> FitReport:
    names = (*cls.PARAMS, *design.names)
    with np.errstate(all="ignore"):
        value, grad, hess = problem.evaluate(p, 2)
    m = len(cls.PARAMS)
    loglik = value + problem.penalty * float(p[m:] @ p[m:])  # report the likelihood itself
    natural = np.concatenate([np.exp(p[:m]), p[m:]])
    estimates = dict(zip(names, map(float, natural), strict=True))
    se: dict[str, float | None] = dict.fromkeys(names)
    ci: dict[str, tuple[float, float] | None] = dict.fromkeys(names)
    warnings = cls.boundary_warnings(dict(zip(cls.PARAMS, np.exp(p[:m]), strict=True)))
    at_boundary = bool(warnings) or not converged
    note = ""
    if at_boundary:
        note = (
            "not computed: the optimum is on the boundary of the parameter space, where the "
            "normal approximation behind standard errors does not hold"
        )
        if not warnings:
            warnings = ["the likelihood keeps rising towards the edge of the parameter space"]
    else:
        try:
            cov = np.linalg.inv(-hess)
        except np.linalg.LinAlgError:
            cov = np.full(hess.shape, np.nan)
            note = "not computed: the observed information is singular"
        zq = float(stats.norm.ppf(0.5 + level / 2))
        for i, n in enumerate(names):
            var = float(cov[i, i])
            if not (var > 0 and math.isfinite(var)):
                note = note or f"no standard error for {n}: the variance is not positive"
                continue
            sd = math.sqrt(var)
            if i < m:  # log scale: delta method, interval that never crosses 0
                se[n] = float(natural[i] * sd)
                ci[n] = (float(math.exp(p[i] - zq * sd)), float(math.exp(p[i] + zq * sd)))
            else:
                se[n] = sd
                ci[n] = (float(p[i] - zq * sd), float(p[i] + zq * sd))
    return FitReport(
        log_likelihood=float(loglik),
        n_observations=n_obs,
        n_distinct=int(n_distinct),
        iterations=nit,
        gradient_norm=float(np.linalg.norm(grad)),
        converged=converged,
        method=method,
        penalizer=penalty,
        estimates=estimates,
        standard_errors=se,
        confidence_intervals=ci,
        confidence_level=level,
        message=message,
        at_boundary=at_boundary,
        warnings=tuple(warnings),
        uncertainty_note=note,
        covariance=None if at_boundary else _log_covariance(hess),
    )


# ------------------------------------------------------------------------------ the model


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _frozen_coefficients(
    value: Mapping[str, Mapping[str, float]],
) -> Mapping[str, Mapping[str, float]]:
    return MappingProxyType({k: MappingProxyType(dict(v)) for k, v in value.items()})


@attrs.frozen(kw_only=True)
class CovariateModel:
    """A model (Pareto/NBD, BG/NBD, GGompertz/NBD, sBG) fitted with time-invariant covariates.

    Attributes
    ----------
    base:
        The plain model at covariates all 0 (``alpha``, ``beta`` / ``a``, ``b`` are the baseline
        ``alpha_0``, ``beta_0`` / ``a_0``, ``b_0``).
    purchase, dropout:
        Covariate columns acting on the purchase and on the dropout process.
    constrain:
        Covariates whose effect is shared by both processes.
    coefficients:
        ``{"purchase": {column: gamma}, "dropout": {column: gamma}}`` in CLVTools' sign
        convention: a positive value raises that process's rate.
    customer:
        The customer id column used to join a covariate table to a summary.
    fit_report:
        The fit's report: estimates, standard errors and intervals of the model's parameters
        and of the free coefficients (``purchase:x``, ``dropout:z``, ``both:c``).

    Examples
    --------
    >>> from clientmodel.ltv import ParetoNBD
    >>> m = ParetoNBD(r=0.55, alpha=10.0, s=0.6, beta=12.0)
    >>> cm = CovariateModel(base=m, purchase=("vip",), dropout=(),
    ...                     coefficients={"purchase": {"vip": 0.5}, "dropout": {}})
    >>> round(cm.model_for({"vip": 1.0}).alpha, 4)
    6.0653
    """

    base: ParametricModel
    purchase: tuple[str, ...] = attrs.field(converter=_strings)
    dropout: tuple[str, ...] = attrs.field(converter=_strings)
    constrain: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    coefficients: Mapping[str, Mapping[str, float]] = attrs.field(converter=_frozen_coefficients)
    customer: str = "customer_id"
    fit_report: FitReport | None = attrs.field(default=None, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        _design(type(self.base), self.purchase, self.dropout, self.constrain)
        for process, names in (("purchase", self.purchase), ("dropout", self.dropout)):
            given = self.coefficients.get(process, {})
            if sorted(given) != sorted(names):
                raise ArgumentError(
                    f"coefficients[{process!r}] must name exactly {list(names)}, "
                    f"got {sorted(given)}",
                    field=f"coefficients.{process}",
                )
            for n, v in given.items():
                check_number(v, f"coefficients.{process}.{n}")

    # -- per-customer parameters ------------------------------------------------------------

    def _shifted(self, eta_p: Array, eta_d: Array) -> dict[str, Array]:
        """Each parameter of the base model per row, given the rows' linear predictors."""
        out: dict[str, Array] = {}
        eta = {"purchase": eta_p, "dropout": eta_d}
        links = _links_of(type(self.base)).links
        for name, link in zip(self.base.PARAMS, links, strict=True):
            value = float(getattr(self.base, name))
            if link is None:
                out[name] = np.full(len(eta_p), value)
            else:
                process, sign = link
                out[name] = value * np.exp(sign * eta[process])
        return out

    def _etas(self, matrix: Array, cols: Sequence[str]) -> tuple[Array, Array]:
        gp = np.array([self.coefficients["purchase"][n] for n in self.purchase])
        gd = np.array([self.coefficients["dropout"][n] for n in self.dropout])
        xp = matrix[:, [cols.index(n) for n in self.purchase]]
        xd = matrix[:, [cols.index(n) for n in self.dropout]]
        return xp @ gp, xd @ gd

    def model_for(self, covariates: Mapping[str, Any]) -> Any:
        """The plain model of one customer: the base model at that customer's covariates.

        Every prediction of the plain model (CLV, DERT, P(X(t) = n), ...) then applies to that
        customer.

        Examples
        --------
        >>> from clientmodel.ltv import BGNBD
        >>> cm = CovariateModel(base=BGNBD(r=0.6, alpha=20.0, a=1.2, b=8.0), purchase=(),
        ...                     dropout=("offline",), coefficients={"purchase": {},
        ...                     "dropout": {"offline": 0.7}})
        >>> m = cm.model_for({"offline": 1})
        >>> round(m.a / m.b, 6) == round(1.2 / 8.0, 6)
        True
        """
        check_mapping(covariates, "covariates")
        cols = self._columns()
        missing = [n for n in cols if n not in covariates]
        if missing:
            raise ArgumentError(
                f"covariates is missing {missing}; it needs {list(cols)}", field=missing[0]
            )
        row = np.array(
            [[check_number(covariates[n], f"covariates.{n}") for n in cols]], dtype=np.float64
        )
        params = self._shifted(*self._etas(row, cols))
        return attrs.evolve(cast(Any, self.base), **{k: float(v[0]) for k, v in params.items()})

    def _columns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.purchase, *self.dropout)))

    # -- predictions ------------------------------------------------------------------------

    def _groups(
        self,
        summary: Any,
        covariates: Any,
        customer: str | None,
        columns: Mapping[str, str] | None,
        *,
        fit: bool = False,
    ) -> tuple[Any, list[tuple[NDArray[np.intp], Any, dict[str, Array]]]]:
        """The summary and, per group of customers with equal parameters, (rows, plain model at
        those parameters, the rows' summary); ``fit``: the history as the fit reads it."""
        spec = _links_of(type(self.base))
        data, (eta_p, eta_d) = self._read(summary, covariates, customer, columns, fit=fit)
        groups, index = distinct_rows(eta_p, eta_d)
        params = self._shifted(*groups)
        out = []
        base = cast(Any, self.base)
        for g, rows in enumerate(_runs(index, len(groups[0]))):
            model = attrs.evolve(base, **{k: float(v[g]) for k, v in params.items()})
            part = {n: data[n][rows] for n in spec.history if n in data.columns}
            out.append((rows, model, part))
        return data, out

    def _read(
        self,
        summary: Any,
        covariates: Any,
        customer: str | None,
        columns: Mapping[str, str] | None,
        *,
        fit: bool = False,
    ) -> tuple[Any, tuple[Array, Array]]:
        """The checked history and each row's linear predictors (purchase, dropout)."""
        data = _links_of(type(self.base)).read(summary, columns, fit)
        design = _Design(self.purchase, self.dropout, self.constrain)
        key = self.customer if customer is None else check_text(customer, "customer")
        matrix = _covariate_matrix(summary, covariates, design, key, len(data))
        return data, self._etas(matrix, self._columns())

    def _predict(
        self,
        method: str,
        summary: Any,
        covariates: Any,
        customer: str | None,
        columns: Mapping[str, str] | None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """Apply the plain model's ``method`` to every row at its own parameters: in one pass
        where the model says how (``CovariateLinks.row_predictions``), else per group of
        customers with equal covariates."""
        row_predictions = _links_of(type(self.base)).row_predictions
        if row_predictions is not None:
            data, etas = self._read(summary, covariates, customer, columns)
            values = row_predictions(self.base, method, self._shifted(*etas), data, args, kwargs)
            if values is not None:
                return float(values[0]) if data.record and values.ndim == 1 else values
        data, groups = self._groups(summary, covariates, customer, columns)
        out: Array | None = None
        for rows, model, part in groups:
            values = np.asarray(getattr(model, method)(part, *args, **kwargs), dtype=np.float64)
            if out is None:
                out = np.empty((len(data), *values.shape[1:]))
            out[rows] = values
        assert out is not None
        return float(out[0]) if data.record and out.ndim == 1 else out

    def predict(
        self,
        method: str,
        summary: Any,
        covariates: Any = None,
        *args: Any,
        customer: str | None = None,
        columns: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Any per-customer prediction of the plain model (``method``, e.g. ``"p_alive"``,
        ``"expected_purchases"``, ``"p_retained"``, ``"derl"``), each customer at its own
        parameters; ``args`` and ``kwargs`` go to that method.

        Examples
        --------
        >>> from clientmodel.ltv import ShiftedBetaGeometric
        >>> cm = CovariateModel(base=ShiftedBetaGeometric(alpha=0.7, beta=1.2), purchase=(),
        ...                     dropout=("annual",),
        ...                     coefficients={"purchase": {}, "dropout": {"annual": -1.0}})
        >>> h = {"renewals": [3, 3], "annual": [0, 1]}
        >>> monthly, annual = cm.predict("p_retained", h, horizon=2)
        >>> bool(annual > monthly)
        True
        """
        allowed = _links_of(type(self.base)).predictions
        if method not in allowed:
            raise ArgumentError(
                f"method must be one of {', '.join(allowed)}, got {method!r}"
                f"{did_you_mean(method, allowed)}",
                field="method",
            )
        return self._predict(method, summary, covariates, customer, columns, *args, **kwargs)

    def p_alive(
        self,
        summary: Any,
        covariates: Any = None,
        *,
        customer: str | None = None,
        horizon: float = 0.0,
        columns: Mapping[str, str] | None = None,
    ) -> Any:
        """P(alive) per customer at its own parameters (see the plain model's ``p_alive``).

        ``covariates`` is a table with one row per customer, joined on the ``customer`` column
        (by default the one used in the fit); without it the covariate columns are read from
        ``summary`` itself.

        Examples
        --------
        >>> from clientmodel.ltv import ParetoNBD
        >>> cm = CovariateModel(base=ParetoNBD(r=0.55, alpha=10.0, s=0.6, beta=12.0),
        ...                     purchase=(), dropout=("offline",),
        ...                     coefficients={"purchase": {}, "dropout": {"offline": 1.0}})
        >>> h = {"frequency": [2, 2], "recency": [10.0, 10.0], "T": [40.0, 40.0],
        ...      "offline": [0, 1]}
        >>> a, b = cm.p_alive(h)
        >>> bool(a > b)
        True
        """
        return self._predict("p_alive", summary, covariates, customer, columns, horizon=horizon)

    def expected_purchases(
        self,
        summary: Any,
        t: float,
        covariates: Any = None,
        *,
        customer: str | None = None,
        columns: Mapping[str, str] | None = None,
    ) -> Any:
        """Expected purchases in ``(T, T + t]`` per customer at its own parameters.

        Examples
        --------
        >>> from clientmodel.ltv import ParetoNBD
        >>> cm = CovariateModel(base=ParetoNBD(r=0.55, alpha=10.0, s=0.6, beta=12.0),
        ...                     purchase=("vip",), dropout=(),
        ...                     coefficients={"purchase": {"vip": 0.5}, "dropout": {}})
        >>> h = {"frequency": [2, 2], "recency": [30.0, 30.0], "T": [40.0, 40.0], "vip": [0, 1]}
        >>> low, high = cm.expected_purchases(h, 10.0)
        >>> bool(high > low)
        True
        """
        return self._predict("expected_purchases", summary, covariates, customer, columns, t)

    def log_likelihood_of(
        self,
        summary: Any,
        covariates: Any = None,
        *,
        customer: str | None = None,
        columns: Mapping[str, str] | None = None,
    ) -> float:
        """Total log-likelihood of a summary at this model's per-customer parameters: the
        likelihood the fit maximises (a ``weights`` column counts customers as in the fit).

        Examples
        --------
        >>> from clientmodel.ltv import ParetoNBD
        >>> base = ParetoNBD(r=0.55, alpha=10.0, s=0.6, beta=12.0)
        >>> cm = CovariateModel(base=base, purchase=("vip",), dropout=(),
        ...                     coefficients={"purchase": {"vip": 0.0}, "dropout": {}})
        >>> h = {"frequency": [2], "recency": [30.0], "T": [40.0], "vip": [1]}
        >>> cm.log_likelihood_of(h) == base.log_likelihood_of(h)
        True
        """
        # The fit's own per-group likelihood: a plain model's log_likelihood_of may read other
        # data (the sBG's reads cohort counts, not tenures).
        spec = _links_of(type(self.base))
        if spec.rows is not None:  # every row at its own parameters, in one pass
            data, etas = self._read(summary, covariates, customer, columns, fit=True)
            w = read_weights(summary, data, None, columns)
            params = self._shifted(*etas)
            theta = np.stack([params[n] for n in self.base.PARAMS])
            return float(spec.rows([data[n] for n in spec.history], w)(theta)[0])
        data, groups = self._groups(summary, covariates, customer, columns, fit=True)
        w = read_weights(summary, data, None, columns)
        total = 0.0
        for rows, model, part in groups:
            theta = np.array([getattr(model, n) for n in model.PARAMS], dtype=np.float64)
            total += spec.group([part[n] for n in spec.history], w[rows])(theta, 0)[0]
        return float(total)

    # -- effects table and JSON -------------------------------------------------------------

    def effects(self) -> dict[str, list[Any]]:
        """The covariate effects as a table (a dict of columns): process, covariate, estimate,
        standard error, z, two-sided p-value and the interval (``None`` where not computed).

        Examples
        --------
        >>> from clientmodel.ltv import ParetoNBD
        >>> cm = CovariateModel(base=ParetoNBD(r=0.55, alpha=10.0, s=0.6, beta=12.0),
        ...                     purchase=("vip",), dropout=(),
        ...                     coefficients={"purchase": {"vip": 0.5}, "dropout": {}})
        >>> cm.effects()["estimate"]
        [0.5]
        """
        constrained = set(self.constrain)
        return effects_table(
            self.coefficients,
            {"purchase": self.purchase, "dropout": self.dropout},
            self.fit_report,
            lambda process, n: f"both:{n}" if n in constrained else f"{process}:{n}",
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-safe description: the base model, the covariates, coefficients, effects.

        Examples
        --------
        >>> from clientmodel.ltv import ParetoNBD
        >>> cm = CovariateModel(base=ParetoNBD(r=0.55, alpha=10.0, s=0.6, beta=12.0),
        ...                     purchase=("vip",), dropout=(),
        ...                     coefficients={"purchase": {"vip": 0.5}, "dropout": {}})
        >>> CovariateModel.from_dict(cm.to_dict()) == cm
        True
        """
        from clientmodel import __version__

        return {
            "model": type(self.base).__name__,
            "format_version": FORMAT_VERSION,
            "library_version": __version__,
            "params": self.base.params,
            "covariates": {
                "purchase": list(self.purchase),
                "dropout": list(self.dropout),
                "constrain": list(self.constrain),
                "customer": self.customer,
            },
            "coefficients": coefficients_form(self.coefficients),
            "effects": self.effects(),
            "fit_report": None if self.fit_report is None else self.fit_report.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CovariateModel:
        """Rebuild from :meth:`to_dict` output; ``ArgumentError`` names a bad key path.

        The ``effects`` table is derived from the rest and not read back.

        Examples
        --------
        >>> from clientmodel.ltv import ParetoNBD
        >>> cm = CovariateModel(base=ParetoNBD(r=0.55, alpha=10.0, s=0.6, beta=12.0),
        ...                     purchase=("vip",), dropout=(),
        ...                     coefficients={"purchase": {"vip": 0.5}, "dropout": {}})
        >>> CovariateModel.from_dict(cm.to_dict()).coefficients["purchase"]["vip"]
        0.5
        """
        path = "CovariateModel"
        check_mapping(
            data,
            path,
            required=("model", "format_version", "params", "covariates", "coefficients"),
            optional=("library_version", "effects", "fit_report"),
        )
        name = data["model"]
        if name not in _covariate_models():
            raise ArgumentError(
                f"model {name!r} has no covariate form; expected one of {_covariate_models()}",
                field=key_path(path, "model"),
            )
        model_cls = REGISTRY[name]
        base = model_cls.from_dict(
            {"model": name, "format_version": data["format_version"], "params": data["params"]}
        )
        cov_path = key_path(path, "covariates")
        spec = check_mapping(
            data["covariates"],
            cov_path,
            required=("purchase", "dropout"),
            optional=("constrain", "customer"),
        )
        coefficients = read_coefficients(data["coefficients"], key_path(path, "coefficients"))
        report = data.get("fit_report")
        return cls(
            base=base,
            purchase=covariate_names(spec["purchase"], key_path(cov_path, "purchase")),
            dropout=covariate_names(spec["dropout"], key_path(cov_path, "dropout")),
            constrain=covariate_names(spec.get("constrain", []), key_path(cov_path, "constrain")),
            coefficients=coefficients,
            customer=check_text(
                spec.get("customer", "customer_id"), key_path(cov_path, "customer")
            ),
            fit_report=None
            if report is None
            else FitReport.from_dict(report, key_path(path, "fit_report")),
        )
