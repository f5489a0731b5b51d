"""Customer lifetime value: expected discounted margin over a horizon.

CLV combines a *transaction model* (how many purchases a customer will make, e.g.
:class:`~clientmodel.ltv.bgnbd.BGNBD` or :class:`~clientmodel.ltv.pareto_nbd.ParetoNBD`) with a
*spend model* (how much each purchase is worth, e.g. the gamma-gamma model, or a plain number)::

    CLV = margin * E[spend per purchase] * E[discounted number of purchases in (T, T + H]]

Time is in the unit the summary was built in (weeks for CDNOW); ``unit`` says what that unit is
so that an *annual* ``discount_rate`` ``d`` can be converted. With ``P`` periods per year
(52.18 for weeks, 12 for months, 365.24 for days) money received ``t`` units from now is worth
``(1 + d) ** (-t / P) = exp(-delta * t)``, ``delta = ln(1 + d) / P``.

Discrete form (``method="discrete"``): the horizon is cut into ``steps`` equal periods ending at
``t_k = k H / steps`` and each period's expected purchases are discounted from its end::

    sum_k [E X(T, T + t_k) - E X(T, T + t_{k-1})] * (1 + d) ** (-t_k / P)

Continuous form (``method="continuous"``, the discounted expected transactions, DERT)::

    integral_0^H exp(-delta t) dE X(T, T + t)

For Pareto/NBD it has a closed form (Fader, Hardie & Lee 2005, "RFM and CLV: using iso-value
curves for customer base analysis", JMR 42(4), eq. 2, there for ``H = infinity``; the finite
horizon follows in the same way)::

    P(alive) (r + x) / (alpha + T) * delta**(s-1) * (beta + T)**s
        * [U(s, s, delta (beta + T)) - exp(-delta H) U(s, s, delta (beta + T + H))]

with ``U`` the confluent hypergeometric function of the second kind. For any other model the
integral is taken numerically after an integration by parts, which needs only the conditional
expectation ``E(t) = E X(T, T + t)`` and not its derivative:
``integral_0^H exp(-delta t) dE(t) = exp(-delta H) E(H) + delta integral_0^H exp(-delta t) E(t) dt``
(composite Gauss-Legendre; for ``H = infinity`` on panels doubling in width up to where
``exp(-delta t) < exp(-40)``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from clientmodel._validation import check_choice, check_integer
from clientmodel.errors import ArgumentError, DataError
from clientmodel.ltv._base import Prediction, _as_record, non_negative
from clientmodel.ltv.contract import SpendModel, TransactionModel, model_classes
from clientmodel.periods import UNIT_DAYS, parse_unit
from clientmodel.tables import read_table

__all__ = ["clv", "clv_table", "discount_factor", "discounted_purchases"]

Array = NDArray[np.float64]
Method = Literal["discrete", "continuous"]

# Composite Gauss-Legendre for the finite-horizon integral: 16 nodes per panel.
_GL_X, _GL_W = np.polynomial.legendre.leggauss(16)
# An infinite horizon is cut where the discount kernel falls below exp(-_TAIL).
_TAIL = 40.0
# Periods of the discrete form at most (one per time unit by default).
_MAX_STEPS = 100_000


def _periods_per_year(unit: str) -> float:
    return UNIT_DAYS["Y"] / UNIT_DAYS[parse_unit(unit)]


def _check_rate(discount_rate: float) -> float:
    return non_negative(
        discount_rate, "discount_rate", "a finite annual rate >= 0 (0.1 for 10% a year)"
    )


def discount_factor(
    t: float | NDArray[np.float64], *, discount_rate: float, unit: str = "W"
) -> float | Array:
    """Present value of 1 received ``t`` units from now at an annual ``discount_rate``.

    ``(1 + d) ** (-t / P)`` with ``P`` the number of ``unit`` periods in a year (mean Gregorian
    year: 52.1775 weeks, 12 months, 365.2425 days).

    Examples
    --------
    >>> round(discount_factor(12.0, discount_rate=0.1, unit="M"), 6)
    0.909091
    """
    d = _check_rate(discount_rate)
    ts = np.asarray(t, dtype=np.float64)
    values = np.exp(-math.log1p(d) / _periods_per_year(unit) * ts)
    return float(values) if values.ndim == 0 else values


def _check_horizon(horizon: float, method: str) -> float:
    ok_type = isinstance(horizon, (int, float, np.integer, np.floating)) and not isinstance(
        horizon, bool
    )
    h = float(horizon) if ok_type else math.nan
    if not ok_type or math.isnan(h) or h <= 0 or (math.isinf(h) and method != "continuous"):
        raise ArgumentError(
            f"horizon={horizon!r} must be a number > 0 in the summary's time unit "
            "(infinity is accepted only with method='continuous')",
            field="horizon",
        )
    return h


def _path(
    model: TransactionModel, summary: Any, times: Array, columns: Mapping[str, str] | None
) -> Array:
    """Conditional expected purchases at ``times``: shape (customers, len(times))."""
    path = model.expected_purchases_path(summary, times, columns=columns)
    return np.asarray(path, dtype=np.float64).reshape(-1, len(times))


def _discrete(
    model: TransactionModel,
    summary: Any,
    horizon: float,
    delta: float,
    steps: int,
    columns: Mapping[str, str] | None,
) -> tuple[Array, Array | None]:
    """``sum_k [E(t_k) - E(t_{k-1})] v_k = sum_k E(t_k) (v_k - v_{k+1})``, ``v_{steps+1} = 0``.

    Summation by parts lets the model sum over the steps per distinct history
    (:meth:`~clientmodel.ltv.contract.TransactionModel.weighted_purchases`), without a
    (customers x steps) matrix.
    """
    times = horizon * np.arange(1, steps + 1) / steps
    v = np.exp(-delta * times)
    weights = v - np.append(v[1:], 0.0)
    out = model.weighted_purchases(summary, times, weights, columns=columns)
    return np.atleast_1d(np.asarray(out, dtype=np.float64)), None


def _continuous_numeric(
    model: Any, summary: Any, horizon: float, delta: float, columns: Mapping[str, str] | None
) -> tuple[Array, Array | None]:
    """``exp(-delta H) E(H) + delta integral_0^H exp(-delta t) E(t) dt`` by quadrature.

    Also returns ``E(H)`` (``None`` for an infinite horizon).
    """
    if delta > 0 and horizon > _TAIL / delta:
        # Beyond 40 / delta the discount kernel is below exp(-40): the rest adds nothing.
        horizon = math.inf
    infinite = math.isinf(horizon)
    if delta == 0:
        at_end = _path(model, summary, np.array([horizon]), columns)[:, 0]
        return at_end, at_end
    if infinite:
        # Beyond 40 / delta the kernel is below exp(-40); panels double in width from ~1 unit,
        # so both short model time scales near 0 and the long tail are resolved.
        end = _TAIL / delta
        k = max(1, math.ceil(math.log2(end)))
        edges = np.concatenate([[0.0], end * 2.0 ** -np.arange(k, -1, -1)])
        horizon = end
    else:
        # Panels of at most ~13 units (a quarter of a year in weeks) keep E(t) near-polynomial.
        panels = int(min(64, max(4, math.ceil(horizon / 13.0))))
        edges = np.linspace(0.0, horizon, panels + 1)
    half = np.diff(edges) / 2.0
    mid = (edges[1:] + edges[:-1]) / 2.0
    nodes = (mid[:, None] + half[:, None] * _GL_X[None, :]).ravel()
    weights = (half[:, None] * _GL_W[None, :]).ravel()
    times = np.append(nodes, horizon)
    values = _path(model, summary, times, columns)
    integral = values[:, :-1] @ (weights * np.exp(-delta * nodes))
    out: Array = math.exp(-delta * horizon) * values[:, -1] + delta * integral
    return out, None if infinite else values[:, -1]


def _spend(spend_model: Any, summary: Any, columns: Mapping[str, str] | None, n: int) -> Array:
    if isinstance(spend_model, (int, float, np.integer, np.floating)) and not isinstance(
        spend_model, bool
    ):
        value = non_negative(
            spend_model, "spend_model", "finite and >= 0 (a constant spend per purchase)"
        )
        return np.full(n, value)
    if not isinstance(spend_model, SpendModel):
        raise ArgumentError(
            f"spend_model must be a spend model (e.g. a fitted GammaGamma) or a number (spend "
            f"per purchase); got {type(spend_model).__name__}",
            field="spend_model",
        )
    spend = np.atleast_1d(
        np.asarray(spend_model.expected_spend(summary, columns=columns), dtype=np.float64)
    )
    return np.broadcast_to(spend, (n,)).astype(np.float64)


def _transaction_model(model: Any) -> TransactionModel:
    if not isinstance(model, TransactionModel):
        kinds = ", ".join(model_classes("transaction"))
        raise ArgumentError(
            f"transaction_model must be a transaction model ({kinds}), fitted or built from "
            f"parameters; got {type(model).__name__}",
            field="transaction_model",
        )
    return model


def _discounted(
    transaction_model: Any,
    summary: Any,
    horizon: float,
    discount_rate: float,
    unit: str,
    method: str,
    steps: int | None,
    columns: Mapping[str, str] | None,
) -> tuple[Array, Array | None]:
    """Discounted purchases per customer, and E(H) when it came out of the computation."""
    transaction_model = _transaction_model(transaction_model)
    check_choice(method, "method", ("discrete", "continuous"))
    h = _check_horizon(horizon, method)
    d = _check_rate(discount_rate)
    delta = math.log1p(d) / _periods_per_year(unit)
    if method == "discrete":
        if steps is None:
            if h > _MAX_STEPS:
                raise ArgumentError(
                    f"horizon={horizon!r} at one step per time unit needs more than {_MAX_STEPS} "
                    "steps: pass steps (the number of periods to cut the horizon into, at most "
                    f"{_MAX_STEPS}) or use method='continuous', which also accepts math.inf",
                    field="horizon",
                )
            n_steps = max(1, math.ceil(h - 1e-9))
        else:
            n_steps = check_integer(steps, "steps", minimum=1, maximum=_MAX_STEPS)
        return _discrete(transaction_model, summary, h, delta, n_steps, columns)
    else:
        if steps is not None:
            raise ArgumentError(
                "steps applies to method='discrete' only; the continuous form integrates exactly",
                field="steps",
            )
        if math.isinf(h) and delta == 0:
            raise ArgumentError(
                "an infinite horizon needs discount_rate > 0 (otherwise the sum has no limit)",
                field="discount_rate",
            )
        closed = None
        if delta > 0:
            closed = transaction_model.discounted_closed_form(summary, h, delta, columns=columns)
        if closed is not None:
            return closed, None
        return _continuous_numeric(transaction_model, summary, h, delta, columns)


def discounted_purchases(
    transaction_model: Any,
    summary: Any,
    *,
    horizon: float,
    discount_rate: float,
    unit: str = "W",
    method: Method = "discrete",
    steps: int | None = None,
    columns: Mapping[str, str] | None = None,
) -> Prediction:
    """Expected number of purchases in ``(T, T + horizon]``, each discounted to ``T``.

    The transaction-model part of :func:`clv` (for Pareto/NBD with ``method="continuous"`` this
    is the DERT of Fader, Hardie & Lee 2005). Parameters as in :func:`clv`.

    Examples
    --------
    >>> from clientmodel.ltv.bgnbd import BGNBD
    >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> h = {"frequency": 2, "recency": 30.43, "T": 38.86}
    >>> e = m.expected_purchases(h, 52)
    >>> 0 < discounted_purchases(m, h, horizon=52, discount_rate=0.1) < e
    True
    """
    values, _ = _discounted(
        transaction_model, summary, horizon, discount_rate, unit, method, steps, columns
    )
    if _as_record(summary) is not None:
        return float(values[0])
    return values


def clv(
    transaction_model: Any,
    spend_model: Any,
    summary: Any,
    *,
    horizon: float,
    discount_rate: float,
    margin: float = 1.0,
    unit: str = "W",
    method: Method = "discrete",
    steps: int | None = None,
    columns: Mapping[str, str] | None = None,
) -> Prediction:
    """Customer lifetime value: expected discounted margin over the next ``horizon``.

    ``margin * E[spend per purchase] * discounted_purchases(...)``.

    Discrete form, with ``t_k = k H / steps`` and ``P`` periods of ``unit`` per year::

        sum_{k=1}^{steps} [E X(T, T + t_k) - E X(T, T + t_{k-1})] (1 + d) ** (-t_k / P)

    Continuous form (DERT), ``delta = ln(1 + d) / P``::

        integral_0^H exp(-delta t) dE X(T, T + t)

    closed form for Pareto/NBD (Fader, Hardie & Lee 2005, JMR 42(4), eq. 2, with the confluent
    hypergeometric ``U``), numerical integration for other models.

    Parameters
    ----------
    transaction_model:
        A fitted transaction model with ``expected_purchases(summary, t)`` (and optionally the
        faster ``expected_purchases_path(summary, times)``), e.g. ``BGNBD``.
    spend_model:
        A spend model with ``expected_spend(summary)`` (e.g. ``GammaGamma``) or a number: the
        expected spend per purchase of every customer.
    summary:
        The customer summary (a table, or one customer as a mapping / pydantic / attrs record).
    horizon:
        Length of the future window in the summary's time unit (e.g. 52 weeks). ``math.inf``
        is accepted with ``method="continuous"`` (residual lifetime value).
    discount_rate:
        ANNUAL discount rate, e.g. 0.1 for 10% a year.
    margin:
        Share of spend that is profit (1.0 counts revenue).
    unit:
        What one unit of the summary's time is (``"D"``, ``"W"``, ``"M"``, ``"Q"``, ``"Y"``).
    method:
        ``"discrete"`` (per-period sum) or ``"continuous"`` (discounted integral, DERT).
    steps:
        Discrete form only: periods the horizon is cut into (default one per unit).
    columns:
        Renames, standard name -> your column (e.g. ``{"monetary_value": "zbar"}``).

    Returns
    -------
    A float for one record, a numpy array aligned with the rows for a table.

    Examples
    --------
    >>> from clientmodel.ltv.bgnbd import BGNBD
    >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> h = {"frequency": 2, "recency": 30.43, "T": 38.86}
    >>> value = clv(m, 35.0, h, horizon=52, discount_rate=0.1, margin=0.3)
    >>> round(value, 2) == round(0.3 * 35.0 * discounted_purchases(
    ...     m, h, horizon=52, discount_rate=0.1), 2)
    True
    """
    m = _check_margin(margin)
    purchases, _ = _discounted(
        transaction_model, summary, horizon, discount_rate, unit, method, steps, columns
    )
    spend = _spend(spend_model, summary, columns, len(purchases))
    values: Array = m * spend * purchases
    if _as_record(summary) is not None:
        return float(values[0])
    return values


def _check_margin(margin: float) -> float:
    return non_negative(
        margin,
        "margin",
        "a finite number >= 0 (the share of spend that is profit; 1.0 for revenue)",
    )


def clv_table(
    transaction_model: Any,
    spend_model: Any,
    summary: Any,
    *,
    horizon: float,
    discount_rate: float,
    margin: float = 1.0,
    unit: str = "W",
    method: Method = "discrete",
    steps: int | None = None,
    columns: Mapping[str, str] | None = None,
    customer: str | None = None,
) -> Any:
    """CLV with its ingredients, as the caller's kind of table.

    Columns: ``customer`` (copied when given), ``clv``, ``expected_purchases`` (undiscounted, in
    ``(T, T + horizon]``; the discounted ones when ``horizon`` is infinite), ``expected_spend``
    (per purchase) and ``p_alive`` (now). Arguments as in :func:`clv`. A single record gives a
    dict of floats.

    Examples
    --------
    >>> from clientmodel.ltv.bgnbd import BGNBD
    >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> summary = {"frequency": [2, 0], "recency": [30.43, 0.0], "T": [38.86, 38.86]}
    >>> out = clv_table(m, 35.0, summary, horizon=52, discount_rate=0.1)
    >>> sorted(out)
    ['clv', 'expected_purchases', 'expected_spend', 'p_alive']
    """
    m = _check_margin(margin)
    purchases, at_end = _discounted(
        transaction_model, summary, horizon, discount_rate, unit, method, steps, columns
    )
    n = len(purchases)
    spend = _spend(spend_model, summary, columns, n)
    kw: dict[str, Any] = {} if columns is None else {"columns": columns}
    if at_end is not None:
        expected = at_end
    elif math.isinf(float(horizon)):
        expected = purchases
    else:
        expected = np.atleast_1d(
            np.asarray(
                transaction_model.expected_purchases(summary, float(horizon), **kw),
                dtype=np.float64,
            )
        )
    alive = np.atleast_1d(np.asarray(transaction_model.p_alive(summary, **kw), dtype=np.float64))
    out: dict[str, Any] = {
        "clv": m * spend * purchases,
        "expected_purchases": expected,
        "expected_spend": spend,
        "p_alive": alive,
    }
    record = _as_record(summary)
    if record is not None:
        if customer is not None:
            return {customer: record.get(customer), **{k: float(v[0]) for k, v in out.items()}}
        return {k: float(v[0]) for k, v in out.items()}
    table = read_table(summary, name="summary")
    if customer is not None:
        table.require(customer)
        ids = table.raw(customer)
        _, first, counts = np.unique(ids.astype(str), return_index=True, return_counts=True)
        if (counts > 1).any():
            rows = np.sort(first[counts > 1])
            raise DataError(
                f"column {customer!r} repeats {int((counts > 1).sum())} customer id(s) (first "
                f"at rows {rows[:5].tolist()}); a summary has one row per customer",
                field=customer,
                rows=rows[:5].tolist(),
            )
        out = {customer: ids, **out}
    return table.result(out)
