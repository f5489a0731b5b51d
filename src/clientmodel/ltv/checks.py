"""The executable contract: :func:`check_model` runs every check on one model class.

After scikit-learn's ``check_estimator``: a model that passes keeps the promises of
:mod:`clientmodel.ltv.contract` --

* its JSON form rebuilds the same model;
* a customer scored as a record gets the number their row gets in a table (record == table), and
  a row scored in any subset of the table gets the same number (subset invariance);
* fitting distinct rows with weights equals fitting the expanded rows;
* fitting data simulated from the model recovers it (the fitted log-likelihood is at least the
  true parameters' one, and the predictions agree);
* predictions are finite on valid data, probabilities lie in [0, 1];
* predictions move the way theory says (expected purchases grow with the window, the chance of
  being alive falls with the horizon, the expected spend grows with the observed spend, survival
  falls with tenure).

Each check raises ``AssertionError`` saying what broke. The tests run :func:`check_model` over
every class of :func:`~clientmodel.ltv.contract.model_classes`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from clientmodel.ltv._base import ParametricModel
from clientmodel.ltv.contract import RetentionModel, SpendModel, TransactionModel

__all__ = [
    "check_finite",
    "check_json_round_trip",
    "check_model",
    "check_monotone",
    "check_record_equals_table",
    "check_recovery",
    "check_subset_invariance",
    "check_weights_equal_expanded_rows",
    "predictions",
    "sample",
]

Array = NDArray[np.float64]
Table = dict[str, NDArray[Any]]

# Probabilities among the predictions (checked to lie in [0, 1]).
_PROBABILITIES = ("p_alive", "p_alive_later", "p_none", "p_any", "churn_risk", "p_retained")


def sample(model: ParametricModel, n_customers: int, *, seed: int = 0) -> Table:
    """Data drawn from ``model`` in the shape its predictions and fit read.

    Examples
    --------
    >>> from clientmodel.ltv import BGNBD
    >>> sorted(sample(BGNBD(**BGNBD.EXAMPLE), 5))
    ['T', 'frequency', 'recency']
    """
    if isinstance(model, TransactionModel):
        return dict(model.simulate(n_customers, type(model).EXAMPLE_PERIOD, seed=seed))
    if isinstance(model, SpendModel):
        rng = np.random.default_rng(seed)
        frequency = rng.integers(1, 8, size=n_customers)
        return dict(model.simulate(n_customers, frequency, seed=rng))  # type: ignore[attr-defined]
    if isinstance(model, RetentionModel):
        return dict(model.simulate(n_customers, 8, seed=seed))  # type: ignore[attr-defined]
    raise AssertionError(f"{type(model).__name__} is of no known kind of model")


def predictions(model: ParametricModel, summary: Any) -> dict[str, Any]:
    """Every per-customer prediction of the model's kind, by name (floats for a record).

    Examples
    --------
    >>> from clientmodel.ltv import GammaGamma
    >>> m = GammaGamma(**GammaGamma.EXAMPLE)
    >>> round(predictions(m, {"frequency": 2, "monetary_value": 22.35})["spend"], 2)
    24.66
    """
    if isinstance(model, TransactionModel):
        t = type(model).EXAMPLE_PERIOD
        return {
            "p_alive": model.p_alive(summary),
            "p_alive_later": model.p_alive(summary, horizon=t),
            "churn_risk": model.churn_risk(summary),
            "expected": model.expected_purchases(summary, t),
            "p_none": model.p_purchases(summary, 0, t),
            "p_any": model.p_any_purchase(summary, t),
        }
    if isinstance(model, SpendModel):
        return {"spend": model.expected_spend(summary)}
    if isinstance(model, RetentionModel):
        return {
            "p_retained": model.p_retained(summary, horizon=1),
            "churn_risk": model.churn_risk(summary, horizon=3),
        }
    raise AssertionError(f"{type(model).__name__} is of no known kind of model")


def check_json_round_trip(model: ParametricModel) -> None:
    """``from_dict(json(to_dict()))`` rebuilds an equal model, fit report included.

    Examples
    --------
    >>> from clientmodel.ltv import BGNBD
    >>> model = BGNBD(**BGNBD.EXAMPLE)
    >>> check_json_round_trip(model)
    """
    text = json.dumps(model.to_dict())
    again = type(model).from_dict(json.loads(text))
    assert again == model, f"{type(model).__name__}: JSON round-trip changed the parameters"
    assert again.fit_report == model.fit_report, "JSON round-trip changed the fit report"


def check_record_equals_table(model: ParametricModel, table: Table, rows: int = 8) -> None:
    """A customer scored as a record gets the value of their row in the table.

    Examples
    --------
    >>> from clientmodel.ltv import BGNBD
    >>> model = BGNBD(**BGNBD.EXAMPLE)
    >>> check_record_equals_table(model, sample(model, 200, seed=1))
    """
    whole = predictions(model, table)
    for i in range(min(rows, len(next(iter(table.values()))))):
        record = {k: v[i].item() for k, v in table.items()}
        one = predictions(model, record)
        for name, value in one.items():
            assert isinstance(value, float), f"{name} of a record must be a float"
            _close(value, whole[name][i], f"{name}: record != table row {i}")


def check_subset_invariance(model: ParametricModel, table: Table, *, seed: int = 0) -> None:
    """Scoring a shuffled subset gives each row what it gets in the whole table.

    Examples
    --------
    >>> from clientmodel.ltv import BGNBD
    >>> model = BGNBD(**BGNBD.EXAMPLE)
    >>> check_subset_invariance(model, sample(model, 200, seed=1))
    """
    n = len(next(iter(table.values())))
    pick = np.random.default_rng(seed).permutation(n)[: max(1, n // 3)]
    whole = predictions(model, table)
    part = predictions(model, {k: v[pick] for k, v in table.items()})
    for name, values in part.items():
        np.testing.assert_allclose(
            values, whole[name][pick], rtol=1e-12, atol=1e-300, err_msg=f"{name}: subset"
        )


def check_finite(model: ParametricModel, table: Table) -> None:
    """Every prediction is finite; probabilities lie in [0, 1].

    Examples
    --------
    >>> from clientmodel.ltv import BGNBD
    >>> model = BGNBD(**BGNBD.EXAMPLE)
    >>> check_finite(model, sample(model, 200, seed=1))
    """
    for name, values in predictions(model, table).items():
        arr = np.asarray(values, dtype=np.float64)
        assert np.all(np.isfinite(arr)), f"{name} is not finite for some valid rows"
        if name in _PROBABILITIES:
            assert np.all((arr >= 0) & (arr <= 1)), f"{name} leaves [0, 1]"


def check_monotone(model: ParametricModel, table: Table) -> None:
    """Predictions move the way the model's theory says they do.

    Examples
    --------
    >>> from clientmodel.ltv import BGNBD
    >>> model = BGNBD(**BGNBD.EXAMPLE)
    >>> check_monotone(model, sample(model, 200, seed=1))
    """
    tol = 1e-12
    if isinstance(model, TransactionModel):
        t = type(model).EXAMPLE_PERIOD
        short, long = model.expected_purchases(table, t), model.expected_purchases(table, 2 * t)
        assert np.all(np.asarray(long) >= np.asarray(short) - tol), "E[X(t)] falls as t grows"
        now, later = model.p_alive(table), model.p_alive(table, horizon=t)
        assert np.all(np.asarray(later) <= np.asarray(now) + tol), "P(alive) rises with horizon"
        grid = np.unique(np.round([0.0, t / 4, t / 2, t, 2 * t]))  # whole: fits discrete time
        new = np.asarray(model.expected_purchases_new(grid))
        assert np.all(np.diff(new) >= -tol), "E[X(t)] of a new customer falls as t grows"
    elif isinstance(model, SpendModel):
        richer = {**table, "monetary_value": table["monetary_value"] * 1.5}
        low, high = model.expected_spend(table), model.expected_spend(richer)
        assert np.all(np.asarray(high) >= np.asarray(low) - tol), "spend falls as spends grow"
    elif isinstance(model, RetentionModel):
        survival = np.asarray(model.survival(np.arange(0, 13)))
        assert np.all(np.diff(survival) <= tol), "survival rises with tenure"
        one = model.p_retained(table, horizon=1)
        three = model.p_retained(table, horizon=3)
        assert np.all(np.asarray(three) <= np.asarray(one) + tol), "P(retained) rises"


def check_weights_equal_expanded_rows(cls: type[ParametricModel], table: Table) -> None:
    """Fitting distinct rows with weights equals fitting every row.

    Examples
    --------
    >>> from clientmodel.ltv import ShiftedBetaGeometric
    >>> model = ShiftedBetaGeometric(**ShiftedBetaGeometric.EXAMPLE)
    >>> check_weights_equal_expanded_rows(type(model), sample(model, 300, seed=1))
    """
    if issubclass(cls, RetentionModel):
        return  # its fit reads cohort counts, which are weights already
    names = [k for k in cls.SUMMARY if k in table]  # type: ignore[attr-defined]
    stacked = np.column_stack([np.asarray(table[k], dtype=np.float64) for k in names])
    distinct, counts = np.unique(stacked, axis=0, return_counts=True)
    compressed = {k: distinct[:, j] for j, k in enumerate(names)}
    expanded = cls.fit({k: table[k] for k in names})
    weighted = cls.fit(compressed, weights=counts.astype(np.float64))
    a, b = expanded.fit_report, weighted.fit_report
    assert a is not None
    assert b is not None
    _close(a.log_likelihood, b.log_likelihood, "log-likelihood: weights != rows", rtol=1e-9)
    for name in cls.PARAMS:
        _close(a.estimates[name], b.estimates[name], f"{name}: weights != rows", rtol=1e-4)


def check_recovery(model: ParametricModel, table: Table, cohort_size: int = 5000) -> None:
    """Fitting data simulated from the model finds at least its likelihood and its predictions.

    Examples
    --------
    >>> from clientmodel.ltv import ShiftedBetaGeometric
    >>> model = ShiftedBetaGeometric(**ShiftedBetaGeometric.EXAMPLE)
    >>> check_recovery(model, sample(model, 500, seed=1))
    """
    cls = type(model)
    if isinstance(model, RetentionModel):
        cohort = model.simulate_cohort(cohort_size, 8, seed=1)
        fitted = cls.fit(cohort)
        truth = model.log_likelihood_of(cohort)  # type: ignore[attr-defined]
        assert fitted.fit_report is not None
        assert fitted.fit_report.log_likelihood >= truth - 1e-6, "the fit is below the truth"
        grid = np.arange(9)
        fitted_survival = np.asarray(fitted.survival(grid))  # type: ignore[attr-defined]
        gap = float(np.max(np.abs(fitted_survival - model.survival(grid))))
        assert gap < 0.03, f"fitted survival is {gap:.3f} off the truth"
        return
    fitted = cls.fit(table)
    truth = model.log_likelihood_of(table)  # type: ignore[attr-defined]
    report = fitted.fit_report
    assert report is not None, "a fit carries its report"
    assert report.converged, "the fit on simulated data did not converge"
    assert report.log_likelihood >= truth - 1e-6, "the fit is below the true parameters"
    if isinstance(model, TransactionModel):
        t = cls.EXAMPLE_PERIOD  # type: ignore[attr-defined]
        _close(
            float(fitted.expected_purchases_new(t)),  # type: ignore[attr-defined]
            float(model.expected_purchases_new(t)),
            "E[X(t)] of the fit vs the truth",
            rtol=0.1,
        )
    elif isinstance(model, SpendModel):
        _close(
            fitted.expected_spend_new(),  # type: ignore[attr-defined]
            model.expected_spend_new(),
            "mean spend of the fit vs the truth",
            rtol=0.1,
        )


def check_model(cls: type[ParametricModel], *, n_customers: int = 3000, seed: int = 0) -> None:
    """Run every check of the contract on ``cls`` (at its published ``EXAMPLE`` parameters).

    Examples
    --------
    >>> from clientmodel.ltv import ShiftedBetaGeometric
    >>> check_model(ShiftedBetaGeometric, n_customers=500)
    """
    model = cls(**cls.EXAMPLE)
    check_json_round_trip(model)
    table = sample(model, n_customers, seed=seed)
    checks: list[Callable[[], None]] = [
        lambda: check_record_equals_table(model, table),
        lambda: check_subset_invariance(model, table, seed=seed),
        lambda: check_finite(model, table),
        lambda: check_monotone(model, table),
        lambda: check_weights_equal_expanded_rows(cls, {k: v[:400] for k, v in table.items()}),
        lambda: check_recovery(model, table),
    ]
    for check in checks:
        check()
    fitted = cls.fit(table) if not isinstance(model, RetentionModel) else None
    if fitted is not None:
        check_json_round_trip(fitted)


def _close(got: float, want: float, what: str, *, rtol: float = 1e-12) -> None:
    ok = math.isclose(float(got), float(want), rel_tol=rtol, abs_tol=1e-300)
    assert ok, f"{what}: {got!r} != {want!r}"
