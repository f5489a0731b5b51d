"""How well does a fitted transaction model describe the data? The classic Fader-Hardie checks.

* :func:`frequency_histogram`: observed vs expected number of customers with 0, 1, ..., ``max_n+``
  repeat purchases in the calibration period, with a chi-square statistic. The expected count
  of ``n`` is ``sum_i P(X(T_i) = n)`` over customers (Fader, Hardie & Lee 2005, Figure 2).
* :func:`calibration_holdout_table`: mean actual vs mean expected holdout purchases, grouped by
  calibration frequency (``E[X(T, T + t*) | x, t_x, T]``, Fader, Hardie & Lee 2005, Figure 5).
* :func:`holdout_metrics`: per-customer error of the conditional expectations (MAE, RMSE,
  correlation) and the aggregate bias.
* :func:`tracking`: cumulative and weekly repeat transactions over calendar time, expected vs
  actual; a customer who made their first purchase at ``f`` contributes ``E[X(t - f)]`` at
  calendar time ``t`` (Fader, Hardie & Lee 2005, Figures 3-4).
* :func:`prediction_matrix`: P(alive) or conditional expected purchases over a
  frequency x recency grid for a given ``T`` (the iso-value plots).
* :func:`lrtest`: likelihood-ratio test between two nested models fitted on the same data
  (e.g. Pareto/NBD inside GGompertz/NBD).

Every function returns a frozen attrs result with ``table()`` (a dict of numpy columns, ready for
``pandas.DataFrame(...)``), ``to_dict()`` and ``from_dict()`` (plain JSON-safe values).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar, Literal, TypeVar

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from clientmodel._validation import check_number, choice_reader, number_reader, read_form
from clientmodel.errors import ArgumentError, DataError, describe_rows
from clientmodel.ltv._base import ParametricModel, read_summary
from clientmodel.ltv.clv import _path
from clientmodel.periods import UNIT_DAYS, parse_unit
from clientmodel.tables import read_table

__all__ = [
    "CalibrationHoldout",
    "FrequencyHistogram",
    "HoldoutMetrics",
    "LikelihoodRatioTest",
    "PredictionMatrix",
    "Tracking",
    "calibration_holdout_table",
    "frequency_histogram",
    "holdout_metrics",
    "lrtest",
    "prediction_matrix",
    "tracking",
]

Array = NDArray[np.float64]
R = TypeVar("R", bound="_Result")

# Up to this many distinct holdout lengths, one vectorised path call serves every customer.
_FEW_DURATIONS = 16


def _plain(value: Any) -> Any:
    """numpy -> plain Python, NaN -> None (JSON has no NaN)."""
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return None if math.isnan(v) else v
    if isinstance(value, np.integer):
        return int(value)
    return value


def _unplain(value: Any) -> Any:
    if isinstance(value, list):
        return [_unplain(v) for v in value]
    return np.nan if value is None else value


class _Result:
    """JSON round-trips for the result classes (numpy arrays <-> lists, NaN <-> None)."""

    _ARRAYS: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-safe values (lists, floats, ints; missing values as ``None``)."""
        return {f.name: _plain(getattr(self, f.name)) for f in attrs.fields(type(self))}  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls: type[R], data: Mapping[str, Any]) -> R:
        """Rebuild a result written by :meth:`to_dict`.

        Shape, types and consistency are checked: ``ArgumentError`` names the key path at fault.
        """
        read: dict[str, Any] = dict.fromkeys(cls._ARRAYS, _array)
        # to_dict writes NaN as null: a plain float field reads null back as NaN
        read.update(
            (f.name, _float_or_nan)
            for f in attrs.fields(cls)  # type: ignore[arg-type]
            if f.type == "float"
        )
        return read_form(cls, data, read=read)

    def __attrs_post_init__(self) -> None:
        lengths = {name: len(getattr(self, name)) for name in self._SAME_LENGTH}
        if len(set(lengths.values())) > 1:
            first = next(iter(lengths))
            odd = next(n for n, k in lengths.items() if k != lengths[first])
            raise ArgumentError(
                f"the lists {lengths} must have the same length (one entry per row)", field=odd
            )

    #: Arrays (1-D) that must have one entry each for the same rows.
    _SAME_LENGTH: ClassVar[tuple[str, ...]] = ()


def _float_or_nan(value: Any, path: str) -> float:
    return math.nan if value is None else check_number(value, path)


def _array(value: Any, field: str) -> Array:
    """A (nested) list of numbers or nulls as a float array; ArgumentError naming ``field``."""
    if not isinstance(value, (list, tuple, np.ndarray)):
        raise ArgumentError(f"{field} must be a list of numbers, got {value!r}", field=field)
    try:
        out = np.asarray(_unplain(list(value)), dtype=np.float64)
    except (TypeError, ValueError):
        raise ArgumentError(
            f"{field} must be a list of numbers (null for missing), of one shape", field=field
        ) from None
    if np.isinf(out).any():
        raise ArgumentError(f"{field} must hold finite numbers", field=field)
    return out


def _kw(columns: Mapping[str, str] | None) -> dict[str, Any]:
    return {} if columns is None else {"columns": columns}


def _check_int(value: Any, name: str, minimum: int) -> int:
    # 100,000 frequency groups already exceed any purchase history; more only exhausts memory
    if (
        not isinstance(value, (int, np.integer))
        or isinstance(value, bool)
        or not minimum <= value <= 100_000
    ):
        raise ArgumentError(
            f"{name}={value!r} must be a whole number from {minimum} to 100,000", field=name
        )
    return int(value)


def _column_or_array(
    summary: Any, value: str | ArrayLike, name: str, n: int, *, count: bool
) -> Array:
    """A per-customer column given by name (in ``summary``) or as an aligned array."""
    if isinstance(value, str):
        table = read_table(summary, name="summary")
        arr = table.numbers(value, kind="count" if count else "float").astype(np.float64)
    else:
        arr = np.asarray(value, dtype=np.float64)
        if arr.ndim == 0:
            arr = np.full(n, float(arr))
        if arr.shape != (n,):
            raise DataError(
                f"{name} has {arr.size} value(s) but the summary has {n} row(s); give one per "
                "customer, or a column name",
                field=name,
            )
        bad = ~np.isfinite(arr) | (arr < 0)
        if count:
            bad |= arr != np.floor(arr)
        if bad.any():
            rows = np.flatnonzero(bad)
            raise DataError(
                f"{name} has invalid values: {describe_rows(rows, arr[rows].tolist())}; "
                + ("whole numbers >= 0 are accepted" if count else "finite numbers >= 0"),
                field=name,
                rows=rows.tolist(),
            )
    return arr


def _conditional(
    model: Any, summary: Any, durations: Array, columns: Mapping[str, str] | None
) -> Array:
    """E[purchases in (T, T + duration_i)] for each customer, durations per customer."""
    unique, inverse = np.unique(durations, return_inverse=True)
    if len(unique) <= _FEW_DURATIONS:
        paths = _path(model, summary, unique, columns)
        out: Array = paths[np.arange(len(durations)), inverse]
        return out
    # Many distinct lengths: one call per group of customers, so the cost stays linear.
    table = read_table(summary, name="summary")
    frame = {c: table.raw(c) for c in table.columns}
    order = np.argsort(inverse, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(inverse, minlength=len(unique)))])
    out = np.empty(len(durations))
    kw = _kw(columns)
    for k, value in enumerate(unique):
        rows = order[bounds[k] : bounds[k + 1]]
        part = {c: v[rows] for c, v in frame.items()}
        out[rows] = model.expected_purchases(part, float(value), **kw)
    return out


# ---------------------------------------------------------------------------- calibration/holdout
@attrs.frozen(eq=False)
class CalibrationHoldout(_Result):
    """Mean actual and expected holdout purchases by calibration frequency.

    ``frequency[k]`` is the calibration frequency of group ``k``; the last group is
    ``max_frequency`` *or more*. Empty groups have NaN means.

    Examples
    --------
    >>> ch = CalibrationHoldout(np.array([0.0, 1.0]), np.array([3.0, 1.0]), np.array([0.2, 1.0]),
    ...                         np.array([0.3, 0.9]), 1)
    >>> CalibrationHoldout.from_dict(ch.to_dict()).table()["expected"].tolist()
    [0.3, 0.9]
    """

    _ARRAYS = ("frequency", "n_customers", "actual", "expected")
    _SAME_LENGTH = ("frequency", "n_customers", "actual", "expected")

    frequency: Array
    n_customers: Array
    actual: Array
    expected: Array
    max_frequency: int

    def table(self) -> dict[str, Array]:
        """Columns ``frequency, n_customers, actual, expected``."""
        return {
            "frequency": self.frequency,
            "n_customers": self.n_customers,
            "actual": self.actual,
            "expected": self.expected,
        }


def calibration_holdout_table(
    model: Any,
    calibration_summary: Any,
    holdout: str | ArrayLike = "frequency_holdout",
    *,
    duration: float | str | ArrayLike = "duration_holdout",
    max_frequency: int = 7,
    columns: Mapping[str, str] | None = None,
) -> CalibrationHoldout:
    """Expected vs actual holdout purchases, grouped by calibration frequency.

    The classic validation of a buy-till-you-die model (Fader, Hardie & Lee 2005, Figure 5): for
    each calibration frequency ``x = 0, 1, ..., max_frequency+`` the mean number of purchases
    customers actually made in the holdout period next to the mean of
    ``E[X(T, T + duration) | x, t_x, T]``.

    Parameters
    ----------
    model:
        A transaction model with ``expected_purchases`` (e.g. ``BGNBD``).
    calibration_summary:
        Calibration-period summary (frequency, recency, T, ...).
    holdout:
        Holdout purchase counts: a column of the summary (default ``frequency_holdout``) or an
        array with one count per customer.
    duration:
        Holdout length in the summary's time unit: one number, a column name (default
        ``duration_holdout``) or an array.
    max_frequency:
        Customers with at least this calibration frequency share the last group.

    Examples
    --------
    >>> from clientmodel.ltv.bgnbd import BGNBD
    >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> sim = m.simulate(500, 39.0, seed=1, holdout=39.0)
    >>> out = calibration_holdout_table(m, sim, duration=39.0, max_frequency=3)
    >>> out.frequency.tolist()
    [0.0, 1.0, 2.0, 3.0]
    """
    top = _check_int(max_frequency, "max_frequency", 0)
    actual, expected, x = _holdout_pair(model, calibration_summary, holdout, duration, columns)
    group = np.minimum(x, top).astype(np.int64)
    counts = np.bincount(group, minlength=top + 1).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        act = np.bincount(group, weights=actual, minlength=top + 1) / counts
        exp = np.bincount(group, weights=expected, minlength=top + 1) / counts
    return CalibrationHoldout(
        frequency=np.arange(top + 1, dtype=np.float64),
        n_customers=counts,
        actual=np.where(counts > 0, act, np.nan),
        expected=np.where(counts > 0, exp, np.nan),
        max_frequency=top,
    )


def _holdout_pair(
    model: Any,
    summary: Any,
    holdout: str | ArrayLike,
    duration: float | str | ArrayLike,
    columns: Mapping[str, str] | None,
) -> tuple[Array, Array, Array]:
    data = read_summary(summary, ("frequency",), columns=columns, counts=("frequency",))
    n = len(data)
    actual = _column_or_array(summary, holdout, "holdout", n, count=True)
    if isinstance(duration, (int, float, np.integer, np.floating)) and not isinstance(
        duration, bool
    ):
        if not (math.isfinite(duration) and duration >= 0):
            raise ArgumentError(
                f"duration={duration!r} must be a finite number >= 0", field="duration"
            )
        durations = np.full(n, float(duration))
    else:
        durations = _column_or_array(summary, duration, "duration", n, count=False)
    expected = _conditional(model, summary, durations, columns)
    return actual, expected, data["frequency"]


@attrs.frozen
class HoldoutMetrics(_Result):
    """Per-customer accuracy of the conditional expectations on the holdout period.

    ``correlation`` is ``None`` when either side is constant.

    Examples
    --------
    >>> HoldoutMetrics(10, 40.0, 44.0, 0.5, 0.8, 0.7).bias
    0.1
    """

    n_customers: int
    total_actual: float
    total_expected: float
    mae: float
    rmse: float
    correlation: float | None

    @property
    def bias(self) -> float:
        """``(total_expected - total_actual) / total_actual`` (``inf`` if nothing was bought)."""
        if self.total_actual == 0:
            return math.inf if self.total_expected > 0 else 0.0
        return (self.total_expected - self.total_actual) / self.total_actual


def holdout_metrics(
    model: Any,
    calibration_summary: Any,
    holdout: str | ArrayLike = "frequency_holdout",
    *,
    duration: float | str | ArrayLike = "duration_holdout",
    columns: Mapping[str, str] | None = None,
) -> HoldoutMetrics:
    """Mean absolute error, RMSE and Pearson correlation of expected vs actual holdout purchases.

    Arguments as in :func:`calibration_holdout_table`.

    Examples
    --------
    >>> from clientmodel.ltv.bgnbd import BGNBD
    >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> sim = m.simulate(2000, 39.0, seed=2, holdout=39.0)
    >>> res = holdout_metrics(m, sim, duration=39.0)
    >>> res.n_customers, res.mae > 0
    (2000, True)
    """
    actual, expected, _ = _holdout_pair(model, calibration_summary, holdout, duration, columns)
    err = expected - actual
    corr: float | None = None
    if len(actual) > 1 and np.std(actual) > 0 and np.std(expected) > 0:
        corr = float(np.corrcoef(actual, expected)[0, 1])
    return HoldoutMetrics(
        n_customers=len(actual),
        total_actual=float(actual.sum()),
        total_expected=float(expected.sum()),
        mae=float(np.mean(np.abs(err))),
        rmse=float(np.sqrt(np.mean(err**2))),
        correlation=corr,
    )


# ---------------------------------------------------------------------------- frequency histogram
@attrs.frozen(eq=False)
class FrequencyHistogram(_Result):
    """Observed vs expected customers by number of repeat purchases (last bin: ``max_n+``).

    ``chi_square = sum (observed - expected)**2 / expected`` with ``degrees_of_freedom`` = bins
    - 1 - parameters; ``p_value`` is ``None`` when there are no degrees of freedom left.

    Examples
    --------
    >>> h = FrequencyHistogram(np.array([0.0, 1.0]), np.array([6.0, 4.0]), np.array([5.0, 5.0]),
    ...                        0.4, 0, None)
    >>> h.table()["observed"].tolist(), h.to_dict()["p_value"]
    ([6.0, 4.0], None)
    """

    _ARRAYS = ("n", "observed", "expected")
    _SAME_LENGTH = ("n", "observed", "expected")

    n: Array
    observed: Array
    expected: Array
    chi_square: float
    degrees_of_freedom: int
    p_value: float | None

    def table(self) -> dict[str, Array]:
        """Columns ``n, observed, expected``."""
        return {"n": self.n, "observed": self.observed, "expected": self.expected}


def frequency_histogram(
    model: Any,
    summary: Any,
    max_n: int = 7,
    *,
    columns: Mapping[str, str] | None = None,
    n_parameters: int | None = None,
) -> FrequencyHistogram:
    """Observed vs expected number of customers with 0, 1, ..., ``max_n``+ repeat purchases.

    Expected count of ``n`` repeat purchases: ``sum_i P(X(T_i) = n)`` with the model's
    ``p_purchases_new(n, T_i)`` at each customer's own observation length ``T_i`` (Fader, Hardie
    & Lee 2005, Figure 2); the last bin takes the rest of the probability, so both columns sum
    to the number of customers.

    Parameters
    ----------
    model:
        A transaction model with ``p_purchases_new(n, t)``.
    summary:
        Calibration summary with ``frequency`` and ``T`` (rename with ``columns``, e.g.
        ``{"T": "periods"}`` for BG/BB).
    max_n:
        The last bin holds customers with ``max_n`` or more repeat purchases.
    n_parameters:
        Parameters estimated from these data, for the degrees of freedom (default: the model's
        ``PARAMS``).

    Examples
    --------
    >>> from clientmodel.ltv.bgnbd import BGNBD
    >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> h = frequency_histogram(m, m.simulate(1000, 39.0, seed=3), max_n=4)
    >>> float(h.observed.sum()), round(float(h.expected.sum()), 6)
    (1000.0, 1000.0)
    """
    top = _check_int(max_n, "max_n", 1)
    data = read_summary(summary, ("frequency", "T"), columns=columns, counts=("frequency",))
    x, t = data["frequency"], data["T"]
    if np.any(t < 0):
        rows = np.flatnonzero(t < 0)
        raise DataError(
            f"T must be >= 0: {describe_rows(rows, t[rows].tolist())}",
            field="T",
            rows=rows.tolist(),
        )
    n_customers = float(len(x))
    observed = np.bincount(np.minimum(x, top).astype(np.int64), minlength=top + 1).astype(float)
    ts, counts = np.unique(t, return_counts=True)
    expected = np.zeros(top + 1)
    for k in range(top):
        probs = np.array([model.p_purchases_new(k, float(v)) for v in ts], dtype=np.float64)
        expected[k] = float(counts @ probs)
    expected[top] = max(n_customers - expected[:top].sum(), 0.0)
    if n_parameters is None:
        n_parameters = len(getattr(model, "PARAMS", ()))
    k_params = _check_int(n_parameters, "n_parameters", 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(expected > 0, (observed - expected) ** 2 / expected, 0.0)
    terms = np.where((expected == 0) & (observed > 0), np.inf, terms)
    chi = float(terms.sum())
    dof = top + 1 - 1 - k_params
    p_value = float(stats.chi2.sf(chi, dof)) if dof > 0 else None
    return FrequencyHistogram(
        n=np.arange(top + 1, dtype=np.float64),
        observed=observed,
        expected=expected,
        chi_square=chi,
        degrees_of_freedom=dof,
        p_value=p_value,
    )


# ---------------------------------------------------------------------------- tracking
@attrs.frozen(eq=False)
class Tracking(_Result):
    """Cumulative and per-period repeat transactions over calendar time, expected vs actual.

    ``times`` are calendar times in the model's unit from ``origin``; incremental values are the
    differences between consecutive times (the first one counts from the origin).

    Examples
    --------
    >>> tr = Tracking(np.array([1.0, 2.0]), np.array([3.0, 5.0]), np.array([2.5, 5.5]))
    >>> tr.actual_incremental.tolist(), tr.expected_incremental.tolist()
    ([3.0, 2.0], [2.5, 3.0])
    """

    _ARRAYS = ("times", "actual_cumulative", "expected_cumulative")
    _SAME_LENGTH = ("times", "actual_cumulative", "expected_cumulative")

    times: Array
    actual_cumulative: Array
    expected_cumulative: Array

    @property
    def actual_incremental(self) -> Array:
        """Actual repeat transactions in each interval ``(times[k-1], times[k]]``."""
        out: Array = np.diff(self.actual_cumulative, prepend=0.0)
        return out

    @property
    def expected_incremental(self) -> Array:
        """Expected repeat transactions in each interval ``(times[k-1], times[k]]``."""
        out: Array = np.diff(self.expected_cumulative, prepend=0.0)
        return out

    def table(self) -> dict[str, Array]:
        """Columns ``time``, cumulative and incremental, actual and expected."""
        return {
            "time": self.times,
            "actual_cumulative": self.actual_cumulative,
            "expected_cumulative": self.expected_cumulative,
            "actual_incremental": self.actual_incremental,
            "expected_incremental": self.expected_incremental,
        }


def _to_units(values: Any, name: str, unit: str | None, origin: Any) -> Array:
    arr = np.asarray(values)
    if arr.dtype.kind == "M" or (arr.dtype == object and arr.size and hasattr(arr.flat[0], "year")):
        if unit is None:
            raise ArgumentError(
                f"{name} holds dates: give unit= (e.g. 'W') to measure them in the model's unit",
                field="unit",
            )
        if arr.dtype == object and any(getattr(v, "tzinfo", None) is not None for v in arr.flat):
            raise DataError(
                f"{name} holds timezone-aware datetimes; convert them to one zone's wall-clock "
                "numpy datetime64 values (or to numbers in the model's unit) first",
                field=name,
            )
        stamps = arr.astype("datetime64[us]")
        days = (stamps - np.datetime64(origin, "us")) / np.timedelta64(86_400_000_000, "us")
        out: Array = np.asarray(days, dtype=np.float64) / UNIT_DAYS[parse_unit(unit)]
        return out
    out = np.asarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(out)):
        rows = np.flatnonzero(~np.isfinite(out))
        raise DataError(
            f"{name} must be finite numbers: {describe_rows(rows, out[rows].tolist())}",
            field=name,
            rows=rows.tolist(),
        )
    return out


def _origin(values: NDArray[Any]) -> Any:
    if values.dtype == object and any(getattr(v, "tzinfo", None) is not None for v in values.flat):
        return None  # _to_units rejects these with a clear message
    return values.astype("datetime64[us]").min()


def tracking(
    model: Any,
    first_purchase: ArrayLike,
    repeat_times: ArrayLike,
    *,
    times: ArrayLike | None = None,
    unit: str | None = None,
    origin: Any = None,
) -> Tracking:
    """Cumulative repeat transactions over calendar time: model vs actual.

    A customer whose first purchase was at calendar time ``f`` is expected to have made
    ``E[X(t - f)]`` repeat purchases by calendar time ``t > f`` (``expected_purchases_new``), so
    the expected total is ``sum_i E[X(t - f_i)]``; customers are grouped by first-purchase time
    (cohort) so the cost grows with the cohorts. The actual curve counts the repeat transactions
    at or before ``t``.

    Parameters
    ----------
    model:
        A transaction model with ``expected_purchases_new(t)``.
    first_purchase:
        First-purchase time of every customer (numbers in the model's unit, or dates with
        ``unit``).
    repeat_times:
        Time of every repeat transaction, same scale.
    times:
        Calendar times at which to compare (default: every whole unit from the first first
        purchase to the last transaction).
    unit, origin:
        For dates: the model's time unit and the date counted as time 0 (default the earliest
        first purchase).

    Examples
    --------
    >>> from clientmodel.ltv.bgnbd import BGNBD
    >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> out = tracking(m, [0.0, 1.0, 1.0], [3.0, 10.5], times=[5.0, 20.0])
    >>> out.actual_cumulative.tolist()
    [1.0, 2.0]
    """
    first_raw = np.asarray(first_purchase)
    if first_raw.size == 0:
        raise DataError(
            "first_purchase is empty: give one time per customer", field="first_purchase"
        )
    if origin is None and (first_raw.dtype.kind == "M" or first_raw.dtype == object):
        origin = _origin(first_raw)
    first = _to_units(first_raw, "first_purchase", unit, origin)
    repeats = _to_units(np.asarray(repeat_times).ravel(), "repeat_times", unit, origin)
    if times is None:
        end = float(max(first.max(), repeats.max() if repeats.size else first.max()))
        start = math.floor(float(first.min()))
        grid = np.arange(start + 1, math.ceil(end) + 1, dtype=np.float64)
        if grid.size == 0:
            grid = np.array([float(start + 1)])
    else:
        grid = _to_units(np.atleast_1d(np.asarray(times)), "times", unit, origin)
    cohorts, sizes = np.unique(first, return_counts=True)
    ages = np.maximum(grid[None, :] - cohorts[:, None], 0.0)
    expected_by_cohort = np.asarray(model.expected_purchases_new(ages.ravel()), dtype=np.float64)
    expected = sizes.astype(np.float64) @ expected_by_cohort.reshape(ages.shape)
    actual = np.searchsorted(np.sort(repeats), grid, side="right").astype(np.float64)
    return Tracking(times=grid, actual_cumulative=actual, expected_cumulative=expected)


# ---------------------------------------------------------------------------- matrices
@attrs.frozen(eq=False)
class PredictionMatrix(_Result):
    """A prediction over a frequency x recency grid at a fixed ``T``.

    ``values[i, j]`` is for ``frequency[i]`` and ``recency[j]``; the ``frequency = 0`` row repeats
    the single value of a customer with no repeat purchase (recency has no meaning there), and
    cells with ``recency > T`` are NaN.

    Examples
    --------
    >>> pm = PredictionMatrix(np.array([0.0, 1.0]), np.array([0.0, 5.0]),
    ...                       np.array([[1.0, 1.0], [0.2, 0.9]]), "p_alive", 10.0, None)
    >>> pm.table()["value"].tolist()
    [1.0, 1.0, 0.2, 0.9]
    """

    _ARRAYS = ("frequency", "recency", "values")

    frequency: Array
    recency: Array
    values: Array
    kind: str
    T: float
    t: float | None

    _FORM: ClassVar[dict[str, Any]] = {
        "kind": choice_reader(("p_alive", "expected_purchases")),
        "T": number_reader(minimum=0),
    }

    def __attrs_post_init__(self) -> None:
        shape = (len(self.frequency), len(self.recency))
        if np.shape(self.values) != shape:
            raise ArgumentError(
                f"values must be a frequency x recency grid of shape {shape}, got "
                f"{np.shape(self.values)}",
                field="values",
            )

    def table(self) -> dict[str, Array]:
        """Long format: columns ``frequency, recency, value``."""
        f, r = np.meshgrid(self.frequency, self.recency, indexing="ij")
        return {"frequency": f.ravel(), "recency": r.ravel(), "value": self.values.ravel()}


def prediction_matrix(
    model: Any,
    *,
    T: float,
    kind: Literal["p_alive", "expected_purchases"] = "p_alive",
    t: float | None = None,
    max_frequency: int = 20,
    recencies: ArrayLike | None = None,
) -> PredictionMatrix:
    """P(alive) or conditional expected purchases over frequency x recency, at a given ``T``.

    Parameters
    ----------
    model:
        A transaction model with ``p_alive`` / ``expected_purchases``.
    T:
        Observation length shared by the grid's customers.
    kind:
        ``"p_alive"`` or ``"expected_purchases"`` (the latter needs ``t``, the future window).
    max_frequency:
        Frequencies ``0 .. max_frequency``.
    recencies:
        Recency grid (default 21 points from 0 to ``T``).

    Examples
    --------
    >>> from clientmodel.ltv.bgnbd import BGNBD
    >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> pm = prediction_matrix(m, T=39.0, max_frequency=5)
    >>> pm.values.shape, float(pm.values[0, 0])
    ((6, 21), 1.0)
    """
    if not (isinstance(T, (int, float, np.integer, np.floating)) and math.isfinite(T) and T > 0):
        raise ArgumentError(f"T={T!r} must be a finite number > 0", field="T")
    top = _check_int(max_frequency, "max_frequency", 1)
    if kind not in ("p_alive", "expected_purchases"):
        raise ArgumentError(f"kind={kind!r}: use 'p_alive' or 'expected_purchases'", field="kind")
    if kind == "expected_purchases" and (t is None or not (math.isfinite(t) and t >= 0)):
        raise ArgumentError(
            "kind='expected_purchases' needs t, the future window length (finite, >= 0)",
            field="t",
        )
    rec = (
        np.linspace(0.0, float(T), 21)
        if recencies is None
        else np.asarray(recencies, dtype=np.float64).ravel()
    )
    if rec.size == 0 or not np.all(np.isfinite(rec) & (rec >= 0)):
        raise ArgumentError("recencies must be finite numbers >= 0", field="recencies")
    freqs = np.arange(top + 1, dtype=np.float64)
    f, r = np.meshgrid(freqs, rec, indexing="ij")
    valid = (r <= T) & (f > 0)
    cells = {
        "frequency": np.concatenate([[0.0], f[valid]]),
        "recency": np.concatenate([[0.0], r[valid]]),
        "T": np.full(int(valid.sum()) + 1, float(T)),
    }
    if kind == "p_alive":
        pred = np.asarray(model.p_alive(cells), dtype=np.float64)
    else:
        pred = np.asarray(model.expected_purchases(cells, float(t)), dtype=np.float64)  # type: ignore[arg-type]
    values = np.full(f.shape, np.nan)
    values[0, :] = pred[0]
    values[valid] = pred[1:]
    return PredictionMatrix(
        frequency=freqs,
        recency=rec,
        values=values,
        kind=kind,
        T=float(T),
        t=None if t is None else float(t),
    )


# ---------------------------------------------------------------------------- likelihood ratio
@attrs.frozen
class LikelihoodRatioTest(_Result):
    """A likelihood-ratio test between two nested fitted models.

    Attributes
    ----------
    restricted, full:
        Names of the two models (the restricted one is a special case of the full one).
    log_likelihood_restricted, log_likelihood_full:
        Their fitted log-likelihoods.
    statistic:
        ``2 (LL_full - LL_restricted)``, >= 0.
    df:
        Degrees of freedom: how many more parameters the full model estimates.
    p_value:
        ``P(chi2(df) >= statistic)``.
    n_observations:
        Customers both models were fitted on.

    Examples
    --------
    >>> t = LikelihoodRatioTest("ParetoNBD", "GGompertzNBD", -10.0, -8.0, 4.0, 1, 0.0455, 50.0)
    >>> LikelihoodRatioTest.from_dict(t.to_dict()) == t
    True
    """

    restricted: str
    full: str
    log_likelihood_restricted: float
    log_likelihood_full: float
    statistic: float
    df: int
    p_value: float
    n_observations: float


def _report(model: Any, name: str) -> Any:
    if not isinstance(model, ParametricModel):
        raise ArgumentError(
            f"{name} must be a fitted clientmodel model, got {type(model).__name__}", field=name
        )
    if model.fit_report is None:
        raise ArgumentError(
            f"{name} ({type(model).__name__}) was built from parameters, not fitted: a "
            "likelihood-ratio test compares fits; fit it first",
            field=name,
        )
    return model.fit_report


def lrtest(restricted: ParametricModel, full: ParametricModel) -> LikelihoodRatioTest:
    """Likelihood-ratio test of a restricted model against a full model that contains it.

    ``statistic = 2 (LL_full - LL_restricted)`` is compared with a chi-square distribution whose
    degrees of freedom are the extra parameters of the full model (Wilks). The pair must be
    nested: the same model with more estimated parameters (e.g. covariates), or a model the
    full one lists in its ``NESTS`` (Pareto/NBD in GGompertz/NBD). Both must be fitted on the
    same data: the same number of customers and, without covariates, of distinct histories.
    Where the restriction puts a parameter on the edge of its space (GGompertz/NBD's ``b -> 0``)
    the chi-square p-value is conservative (the exact null is a 50:50 mixture of chi2(0) and
    chi2(df)).

    Examples
    --------
    >>> from clientmodel.ltv import GGompertzNBD, ParetoNBD
    >>> data = ParetoNBD(**ParetoNBD.EXAMPLE).simulate(500, 39.0, seed=2)
    >>> test = lrtest(ParetoNBD.fit(data), GGompertzNBD.fit(data))
    >>> test.df, round(test.statistic, 4), round(test.p_value, 3)  # GGompertz at the b -> 0 limit
    (1, 0.0, 1.0)
    """
    small, large = _report(restricted, "restricted"), _report(full, "full")
    small_name, large_name = type(restricted).__name__, type(full).__name__
    if small_name != large_name and small_name not in type(full).NESTS:
        nests = type(full).NESTS
        raise ArgumentError(
            f"{small_name} is not nested in {large_name}: a likelihood-ratio test needs the "
            f"restricted model to be a special case of the full one; {large_name} contains "
            + (", ".join(nests) if nests else "no other model")
            + " (or itself with fewer parameters, e.g. without covariates)",
            field="restricted",
        )
    extra = set(small.estimates) - set(large.estimates)
    df = len(large.estimates) - len(small.estimates)
    if extra or df < 1:
        what = (
            f"estimates {sorted(extra)} the full model does not have"
            if extra
            else f"{len(small.estimates)} parameters, as many as the full model"
        )
        raise ArgumentError(
            f"restricted ({small_name}) has {what}: the full model must estimate every "
            "parameter of the restricted one and at least one more",
            field="restricted",
        )
    same_customers = math.isclose(small.n_observations, large.n_observations, rel_tol=1e-12)
    plain = set(small.estimates) == set(type(restricted).PARAMS) and set(large.estimates) == set(
        type(full).PARAMS
    )
    if not same_customers or (plain and small.n_distinct != large.n_distinct):
        raise ArgumentError(
            f"the fits are on different data: restricted ({small_name}) on "
            f"{small.n_observations:g} customers / {small.n_distinct} distinct histories, full "
            f"({large_name}) on {large.n_observations:g} / {large.n_distinct}; fit both models on "
            "the same summary",
            field="full",
        )
    statistic = 2.0 * (large.log_likelihood - small.log_likelihood)
    if statistic < 0:
        if -statistic > 2e-6 * max(1.0, abs(small.log_likelihood)):
            raise ArgumentError(
                f"the full model's fit ({large_name}, log-likelihood {large.log_likelihood:.6f}) "
                f"is below the restricted one's ({small_name}, {small.log_likelihood:.6f}), "
                "which it contains: the full fit stopped at a lower optimum; refit it with more "
                "starts (e.g. starting from the restricted estimates)",
                field="full",
            )
        statistic = 0.0  # the same optimum, up to the optimiser's tolerance
    return LikelihoodRatioTest(
        restricted=small_name,
        full=large_name,
        log_likelihood_restricted=float(small.log_likelihood),
        log_likelihood_full=float(large.log_likelihood),
        statistic=float(statistic),
        df=int(df),
        p_value=float(stats.chi2.sf(statistic, df)),
        n_observations=float(large.n_observations),
    )
