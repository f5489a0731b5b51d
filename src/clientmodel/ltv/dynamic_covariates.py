"""Time-varying covariates for the Pareto/NBD (Bachmann, Meierer & Näf 2021, "The role of
time-varying contextual factors in latent attrition models for customer base analysis",
Marketing Science 40(4)), in CLVTools' parametrisation.

Each customer's covariates are piecewise constant over calendar periods of one time unit (a
table with one row per customer and period start). With ``x(t)`` the purchase covariates and
``z(t)`` the dropout covariates in force at time ``t`` (measured from the customer's first
purchase), a customer with rates ``lambda ~ Gamma(r, alpha)`` and ``mu ~ Gamma(s, beta)``
buys at rate ``lambda exp(gamma_p . x(t))`` while alive and drops out at rate
``mu exp(gamma_d . z(t))``. With the cumulative exposures::

    A(t) = integral_0^t exp(gamma_p . x(u)) du      B(t) = integral_0^t exp(gamma_d . z(u)) du

the likelihood of ``k`` repeat purchases at ``t_1 .. t_k = t_x`` in ``(0, T]`` given the
rates is ``prod_j lambda e^{gamma_p . x(t_j)}`` times
``exp(-lambda A(T) - mu B(T)) + integral_{t_x}^T mu e^{gamma_d . z(u)}
exp(-lambda A(u) - mu B(u)) du``; integrating the gammas out::

    L = exp(gamma_p . sum_j x(t_j)) Gamma(r+k)/Gamma(r) alpha^r beta^s
        [ (alpha+A(T))^-(r+k) (beta+B(T))^-s
          + s integral_{t_x}^T e^{gamma_d . z(u)} (alpha+A(u))^-(r+k) (beta+B(u))^-(s+1) du ]

On a piece where the covariates do not change, ``A`` and ``B`` are linear in ``u`` and the
integral is the plain Pareto/NBD's (Fader & Hardie 2005) after a change of variable, a difference
of two Gauss hypergeometric tails. With constant covariates this is exactly the static-covariate
likelihood (``alpha_i = alpha exp(-gamma_p . x)``, ``beta_i = beta exp(-gamma_d . z)``), so a
positive coefficient raises that process's rate: CLVTools' sign.

Expected purchases over a prediction period ``(T, T + t]`` (CLVTools' ``CET``) integrate the
purchase rate over that period's covariates against the posterior chance of being alive (see
``_expected_purchases``).
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray
from scipy import optimize, special, stats

from clientmodel._validation import (
    check_choice,
    check_mapping,
    check_number,
    check_text,
    key_path,
)
from clientmodel.errors import ArgumentError, ConvergenceError, DataError, describe_rows
from clientmodel.ltv._effects import (
    coefficients_form,
    covariate_names,
    effects_table,
    read_coefficients,
)
from clientmodel.ltv._special import hyp2f1_safe
from clientmodel.ltv.pareto_nbd import ParetoNBD
from clientmodel.ltv.report import FitReport
from clientmodel.periods import UNIT_DAYS, as_of_value, parse_unit
from clientmodel.tables import read_table
from clientmodel.transactions import CustomerHistory, customer_history

__all__ = ["DynamicCovariateModel", "fit_dynamic_covariates"]

Array = NDArray[np.float64]
_BASE = ("r", "alpha", "s", "beta")
#: Covariate periods must have a fixed length in days: one unit.
_UNITS = ("D", "W")
_US_PER_DAY = 86_400_000_000
#: ``until`` of the paths when there is no prediction period (``None`` is a caller's mistake).
_NO_PREDICTION: Any = object()
# Search limits: |log parameter| and |coefficient|. A coefficient of 10 multiplies a rate by
# exp(10) ~ 22,000 per unit of its covariate; an estimate at the limit means the data put no
# finite bound on it (the likelihood keeps rising towards the limit), reported as a boundary.
_LOG_BOUND = 15.0
_COEF_BOUND = 10.0


# ------------------------------------------------------------------------------ the data


@attrs.frozen(eq=False)
class _Paths:
    """Every customer's history and covariate path, as flat arrays.

    Pieces are sorted by customer then time; each lies in one covariate period, on one side of
    ``t_x`` and inside ``[0, T]`` (consecutive equal periods merged).
    """

    ids: NDArray[Any]
    x: Array
    tx: Array
    t: Array
    trans_sum: Array  # (customers, purchase covariates): sum over repeat purchases of x(t_j)
    owner: NDArray[np.intp]  # piece -> customer
    length: Array
    after: NDArray[np.bool_]  # piece lies in [t_x, T]
    zp: Array  # (pieces, purchase covariates)
    zd: Array  # (pieces, dropout covariates)
    first: NDArray[np.intp]  # customer -> its first piece
    history: CustomerHistory
    # the prediction period (T, T + horizon]: pieces sorted by customer then time, one per
    # covariate period (none without a prediction period)
    ahead_owner: NDArray[np.intp]
    ahead_length: Array
    ahead_zp: Array
    ahead_zd: Array


def _days(values: NDArray[np.datetime64]) -> Array:
    out: Array = values.astype("datetime64[us]").astype(np.int64) / _US_PER_DAY
    return out


def _read_paths(
    transactions: Any,
    covariates: Any,
    *,
    as_of: Any,
    purchase: Sequence[str],
    dropout: Sequence[str],
    customer: str,
    time: str,
    period: str,
    unit: str,
    tz: str | None,
    after_as_of: Any,
    until: Any = _NO_PREDICTION,
) -> _Paths:
    """Join the purchase log and the covariate table into per-customer paths (see ``_Paths``);
    with ``until``, also the paths over the prediction period from ``as_of`` to ``until``."""
    step = UNIT_DAYS[unit]
    history = customer_history(
        transactions, as_of=as_of, customer=customer, time=time, tz=tz, after_as_of=after_as_of
    )
    end_day = float(history.days(np.array([history.as_of_period]))[0])
    horizon = 0.0 if until is _NO_PREDICTION else _horizon(until, history, end_day, step, unit)
    names = tuple(dict.fromkeys((*purchase, *dropout)))
    cov = read_table(covariates, name="covariates")
    cov.require(customer, period, *names)
    values = np.column_stack([cov.numbers(n) for n in names]) if names else np.empty((0, 0))
    starts = _days(cov.timestamps(period, tz=history.tz).values)
    cov_ids = cov.ids(customer)
    position = {v: i for i, v in enumerate(history.ids.tolist())}
    code = np.fromiter((position.get(v, -1) for v in cov_ids.tolist()), np.intp, len(cov_ids))
    rows = np.flatnonzero(code >= 0)
    rows = rows[np.lexsort((starts[rows], code[rows]))]
    code, starts, values = code[rows], starts[rows], values[rows]
    n = history.n_customers
    first_row = np.searchsorted(code, np.arange(n))
    end_row = np.searchsorted(code, np.arange(n), side="right")
    missing = np.flatnonzero(first_row == end_row)
    if missing.size:
        shown = [history.ids[i] for i in missing[:5]]
        raise DataError(
            f"{missing.size} customer(s) with purchases have no row in the covariates table "
            f"(customers {describe_rows(missing.tolist(), shown)}); every customer needs its "
            f"covariates for each period from its first purchase to as_of "
            f"(joined on column {customer!r})",
            field=customer,
        )
    same = code[1:] == code[:-1]
    gap = starts[1:] - starts[:-1]
    bad = np.flatnonzero(same & (gap != step))
    if bad.size:
        i = int(bad[0])
        who = history.ids[code[i]]
        day0 = np.datetime64(round(starts[i] * _US_PER_DAY), "us")
        day1 = np.datetime64(round(starts[i + 1] * _US_PER_DAY), "us")
        what = "twice" if gap[i] == 0 else f"{gap[i]:g} days after the previous one"
        raise DataError(
            f"covariates column {period!r}: customer {describe_rows([rows[i + 1]], [who])} has "
            f"a period starting {str(day1)[:19]} {what} (previous {str(day0)[:19]}); periods "
            f"must follow each other one {unit!r} unit ({step:g} days) apart, without gaps "
            "or repeats",
            field=period,
            rows=[int(rows[i + 1])],
        )
    first_day = history.days(history.first_period)
    late = np.flatnonzero(starts[first_row] > first_day)
    short = np.flatnonzero(starts[end_row - 1] + step <= end_day)
    for bad_customers, what in ((late, "first purchase"), (short, "as_of")):
        if bad_customers.size:
            shown = [history.ids[i] for i in bad_customers[:5]]
            raise DataError(
                f"{bad_customers.size} customer(s) have no covariates for the period of their "
                f"{what} (customers {describe_rows(bad_customers.tolist(), shown)}); the "
                f"covariates table must cover every period from a customer's first purchase "
                "to as_of",
                field=period,
            )
    # (the same rounding as the horizon of a date: a period ending on ``until`` covers it)
    uncovered = np.flatnonzero((starts[end_row - 1] + step - end_day) / step < horizon)
    if uncovered.size:
        i = int(uncovered[0])
        need = str(np.datetime64(round((starts[end_row[i] - 1] + step) * _US_PER_DAY), "us"))
        need = need[:10] if need.endswith("T00:00:00.000000") else need[:19]
        shown = history.ids[uncovered[:5]].tolist()
        raise DataError(
            f"{uncovered.size} customer(s) have no covariates for part of the prediction period "
            f"(customers {describe_rows(uncovered.tolist(), shown)}); the first of them has "
            f"none for the period starting {need}; the covariates table must cover "
            f"every period from as_of to until={until!r}",
            field=period,
        )
    # model time (units since the customer's first purchase) of each period
    lo_all = (starts - first_day[code]) / step
    orders = history.order_customer
    order_t = (history.days(history.order_period) - first_day[orders]) / step
    x = np.bincount(orders, minlength=n).astype(np.float64) - 1.0
    tx = np.zeros(n)
    np.maximum.at(tx, orders, order_t)
    t = (end_day - first_day) / step
    # the period of each repeat purchase (the first purchase is not modelled)
    repeat = np.ones(len(orders), dtype=bool)
    repeat[np.searchsorted(orders, np.arange(n))] = False
    key_rows = code * 4.0e6 + lo_all
    key_orders = orders[repeat] * 4.0e6 + order_t[repeat]
    which = np.searchsorted(key_rows, key_orders, side="right") - 1
    k_p = len(purchase)
    trans_sum = np.zeros((n, k_p))
    pcols = [names.index(c) for c in purchase]
    dcols = [names.index(c) for c in dropout]
    np.add.at(trans_sum, orders[repeat], values[which][:, pcols])
    # pieces: each period clipped to [0, T] and cut at t_x
    lo = np.maximum(lo_all, 0.0)
    hi = np.minimum(lo_all + 1.0, t[code])
    cut = (lo < tx[code]) & (tx[code] < hi)
    idx = np.concatenate([np.arange(len(lo)), np.flatnonzero(cut)])
    p_lo = np.concatenate([lo, tx[code][cut]])
    p_hi = np.concatenate([np.where(cut, tx[code], hi), hi[cut]])
    keep = p_hi > p_lo
    idx, p_lo, p_hi = idx[keep], p_lo[keep], p_hi[keep]
    owner = code[idx]
    order = np.lexsort((p_lo, owner))
    idx, p_lo, p_hi, owner = idx[order], p_lo[order], p_hi[order], owner[order]
    after = p_lo >= tx[owner]
    vals = values[idx]
    # merge a piece into the previous one when nothing changes between them
    cont = np.zeros(len(idx), dtype=bool)
    if len(idx) > 1:
        cont[1:] = (
            (owner[1:] == owner[:-1])
            & (after[1:] == after[:-1])
            & np.all(vals[1:] == vals[:-1], axis=1)
            & (p_lo[1:] == p_hi[:-1])
        )
    head = np.flatnonzero(~cont)
    tail = np.append(head[1:], len(idx)) - 1
    length = p_hi[tail] - p_lo[head]
    owner = owner[head]
    vals = vals[head]
    # the prediction period: each period clipped to [T, T + horizon], in units after T (exact
    # for a short horizon; rows sorted by customer then period start already)
    after_t = (starts - end_day) / step
    a_lo = np.maximum(after_t, 0.0)
    a_hi = np.minimum(after_t + 1.0, horizon)
    ahead = np.flatnonzero(a_hi > a_lo)
    return _Paths(
        ids=history.ids,
        x=x,
        tx=tx,
        t=t,
        trans_sum=trans_sum,
        owner=owner,
        length=length,
        after=after[head],
        zp=vals[:, pcols],
        zd=vals[:, dcols],
        first=np.searchsorted(owner, np.arange(n)).astype(np.intp),
        history=history,
        ahead_owner=code[ahead],
        ahead_length=a_hi[ahead] - a_lo[ahead],
        ahead_zp=values[ahead][:, pcols],
        ahead_zd=values[ahead][:, dcols],
    )


def _horizon(until: Any, history: CustomerHistory, end_day: float, step: float, unit: str) -> float:
    """The length of the prediction period in units: ``until`` is a number of periods after
    ``as_of`` or a date (counted from its start, as ``as_of`` is)."""
    if isinstance(until, (bool, np.bool_)) or not isinstance(
        until, (numbers.Real, str, dt.date, np.datetime64)
    ):
        raise ArgumentError(
            f"until must be a date (the end of the prediction period) or a number of {unit!r} "
            f"periods after as_of, got {type(until).__name__}",
            field="until",
        )
    if isinstance(until, numbers.Real):
        return check_number(until, "until", minimum=0.0)
    last = as_of_value(until, tz=history.tz, field="until")
    day = float(last.astype("datetime64[D]").astype(np.int64))
    if day < end_day:
        raise ArgumentError(
            f"until={until!r} is before as_of ({str(history.as_of)[:10]}); the prediction "
            "period runs from as_of to until",
            field="until",
        )
    return (day - end_day) / step


# ------------------------------------------------------------------------------ the likelihood


def _log_tail(tau: Array, a: Array, b: Array, rx: Array, s: float) -> Array:
    """``log integral_tau^inf (a+u)^-rx (b+u)^-(s+1) du`` (Fader & Hardie 2005's 2F1 form after
    Euler's transformation, so the series has positive terms; arrays ``a``, ``b``)."""
    m = rx + s
    ge = a >= b
    z = np.where(ge, (a - b) / (a + tau), (b - a) / (b + tau))
    hyp = hyp2f1_safe(1.0, np.where(ge, rx, s + 1.0), m + 1.0, z)
    la, lb = np.log(a + tau), np.log(b + tau)
    out: Array = (
        np.where(ge, -rx * la - s * lb, -(rx - 1.0) * la - (s + 1.0) * lb) - np.log(m) + np.log(hyp)
    )
    return out


def _customer_loglik(p: Array, d: _Paths) -> tuple[Array, Array]:
    """Per-customer log-likelihood and log P(alive at T | history) at the free vector ``p``
    (``log r, log alpha, log s, log beta``, purchase then dropout coefficients)."""
    r, alpha, s, beta = np.exp(p[:4])
    k_p = d.zp.shape[1]
    g_p, g_d = p[4 : 4 + k_p], p[4 + k_p :]
    c_p = np.exp(d.zp @ g_p)
    c_d = np.exp(d.zd @ g_d)
    inc_a, inc_b = c_p * d.length, c_d * d.length
    cum_a, cum_b = np.cumsum(inc_a), np.cumsum(inc_b)
    start = d.first[d.owner]  # (a customer without a piece has no valid first piece)
    base_a = (cum_a - inc_a)[start]
    base_b = (cum_b - inc_b)[start]
    a0 = cum_a - inc_a - base_a  # A at the start of each piece
    b0 = cum_b - inc_b - base_b
    # exposures at T (a customer first seen on the as_of day has no piece: 0)
    a_t = np.bincount(d.owner, weights=inc_a, minlength=len(d.x))
    b_t = np.bincount(d.owner, weights=inc_b, minlength=len(d.x))
    rx = r + d.x
    # integral over a piece after t_x: with w = c_d u and k = c_p / c_d it is
    # k^-(r+x) [tail(0) - tail(c_d L)] of (a' + w)^-(r+x) (b' + w)^-(s+1), a' = (alpha+A0)/k
    on = np.flatnonzero(d.after)
    who = d.owner[on]
    k = c_p[on] / c_d[on]
    a1 = (alpha + a0[on]) / k
    b1 = beta + b0[on]
    rx_on = rx[who]
    t0 = _log_tail(np.zeros(len(on)), a1, b1, rx_on, s)
    t1 = _log_tail(inc_b[on], a1, b1, rx_on, s)
    with np.errstate(divide="ignore"):
        log_piece = -rx_on * np.log(k) + t0 + np.log(-np.expm1(t1 - t0))
    n = len(d.x)
    top = np.full(n, -np.inf)
    np.maximum.at(top, who, log_piece)
    safe = np.where(np.isfinite(top), top, 0.0)
    acc = np.zeros(n)
    np.add.at(acc, who, np.exp(log_piece - safe[who]))
    with np.errstate(divide="ignore"):
        log_integral = math.log(s) + safe + np.log(acc)
    log_alive = -rx * np.log(alpha + a_t) - s * np.log(beta + b_t)
    log_bracket = np.logaddexp(log_alive, log_integral)
    ll = (
        d.trans_sum @ g_p
        + special.gammaln(rx)
        - special.gammaln(r)
        + r * math.log(alpha)
        + s * math.log(beta)
        + log_bracket
    )
    return ll, log_alive - log_bracket


def _expected_purchases(p: Array, d: _Paths) -> Array:
    """Conditional expected purchases over the prediction period ``(T, T + horizon]``.

    Given the history and alive at ``T``, ``lambda ~ Gamma(r+x, alpha+A(T))`` and
    ``mu ~ Gamma(s, beta+B(T))`` independently, and a customer alive at ``T`` is still alive at
    ``u`` with probability ``exp(-mu (B(u) - B(T)))``. So::

        CET = P(alive) (r+x)/(alpha+A(T)) integral_T^{T+t} e^{gamma_p . x(u)}
              ((beta+B(T)) / (beta+B(u)))^s du

    On a piece of length ``L`` with constant rates ``c_p``, ``c_d`` and ``beta+B = b0`` at its
    start, the integral is ``c_p/c_d (beta+B(T))^s [b0^(1-s) - (b0+c_d L)^(1-s)] / (s-1)``
    (``log((b0+c_d L)/b0)`` in place of the bracket over ``s-1`` when ``s = 1``).
    """
    r, alpha, s, beta = np.exp(p[:4])
    k_p = d.zp.shape[1]
    g_p, g_d = p[4 : 4 + k_p], p[4 + k_p :]
    n = len(d.x)
    a_t = np.bincount(d.owner, weights=np.exp(d.zp @ g_p) * d.length, minlength=n)
    b_t = np.bincount(d.owner, weights=np.exp(d.zd @ g_d) * d.length, minlength=n)
    log_alive = _customer_loglik(p, d)[1]
    who = d.ahead_owner
    c_p = np.exp(d.ahead_zp @ g_p)
    c_d = np.exp(d.ahead_zd @ g_d)
    inc_b = c_d * d.ahead_length
    cum_b = np.cumsum(inc_b)
    first = np.searchsorted(who, who)  # each piece's customer's first piece
    b_start = beta + b_t[who] + (cum_b - inc_b) - (cum_b - inc_b)[first]
    q = np.log1p(inc_b / b_start)  # log of (beta+B) at the piece's end over its start
    bracket = q if s == 1.0 else -np.expm1((1.0 - s) * q) / (s - 1.0)
    piece = c_p / c_d * b_start * np.exp(s * (np.log(beta + b_t[who]) - np.log(b_start))) * bracket
    integral = np.bincount(who, weights=piece, minlength=n)
    out: Array = np.exp(log_alive) * (r + d.x) / (alpha + a_t) * integral
    return out


def _total(p: Array, d: _Paths) -> float:
    value = float(np.sum(_customer_loglik(p, d)[0]))
    return value if math.isfinite(value) else -math.inf


def _check_identified(d: _Paths, purchase: Sequence[str], dropout: Sequence[str]) -> None:
    """A covariate that never changes has no effect of its own (nor one that is a combination
    of the others, with the intercept)."""
    for process, names, z in (("purchase", purchase, d.zp), ("dropout", dropout, d.zd)):
        if not names:
            continue
        for j, n in enumerate(names):
            if z[:, j].min() == z[:, j].max():
                raise DataError(
                    f"{process} covariate {n!r} is {float(z[0, j])!r} for every customer and "
                    "period fitted: its effect cannot be told apart from the baseline rate; "
                    "leave it out",
                    field=n,
                )
        distinct = np.unique(z, axis=0)
        full = np.column_stack([np.ones(len(distinct)), distinct])
        if np.linalg.matrix_rank(full) < full.shape[1]:
            raise DataError(
                f"{process} covariates {list(names)} are linearly dependent (with the "
                "intercept): one of them is a combination of the others; leave one out",
                field=names[-1],
            )


def _gradient(p: Array, d: _Paths, step: float = 1e-6) -> Array:
    """Central differences of the total log-likelihood."""
    g = np.empty(len(p))
    for i in range(len(p)):
        e = np.zeros(len(p))
        e[i] = step
        g[i] = (_total(p + e, d) - _total(p - e, d)) / (2.0 * step)
    return g


def _hessian(p: Array, d: _Paths, step: float = 1e-4) -> Array:
    """Central differences of the total log-likelihood (observed information = -H)."""
    k = len(p)
    h = np.empty((k, k))
    f0 = _total(p, d)
    eye = np.eye(k) * step
    for i in range(k):
        for j in range(i, k):
            if i == j:
                v = (_total(p + eye[i], d) - 2.0 * f0 + _total(p - eye[i], d)) / step**2
            else:
                v = (
                    _total(p + eye[i] + eye[j], d)
                    - _total(p + eye[i] - eye[j], d)
                    - _total(p - eye[i] + eye[j], d)
                    + _total(p - eye[i] - eye[j], d)
                ) / (4.0 * step**2)
            h[i, j] = h[j, i] = v
    return h


def _report(
    p: Array,
    d: _Paths,
    names: Sequence[str],
    result: Any,
    bounds: Sequence[tuple[float, float]],
    level: float = 0.95,
) -> FitReport:
    """The fit report: estimates on the natural scale, SEs by the delta method for the base
    parameters (they are fitted on the log scale) and directly for the coefficients."""
    loglik = _total(p, d)
    grad = _gradient(p, d)
    lows = np.array([b[0] for b in bounds])
    highs = np.array([b[1] for b in bounds])
    edge = (np.isclose(p, lows, atol=1e-6) & (grad < 0)) | (
        np.isclose(p, highs, atol=1e-6) & (grad > 0)
    )
    free_grad = np.where(edge, 0.0, grad)
    warnings = [
        f"{n} ran to the search limit {p[i]:+.3g}: the likelihood keeps rising in that "
        "direction, so the data put no finite bound on it (its standard error is not "
        "meaningful); consider leaving that covariate out of that process"
        for i, n in enumerate(names)
        if edge[i]
    ]
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    estimates = {
        n: float(math.exp(v)) if i < 4 else float(v)
        for i, (n, v) in enumerate(zip(names, p, strict=True))
    }
    se: dict[str, float | None] = dict.fromkeys(names)
    ci: dict[str, tuple[float, float] | None] = dict.fromkeys(names)
    note = ""
    cov: Array | None = None
    info = -_hessian(p, d)
    try:
        eig = np.linalg.eigvalsh(info)
        if not np.all(np.isfinite(info)) or eig.min() <= 0.0:
            raise np.linalg.LinAlgError("not positive definite")
        cov = np.asarray(np.linalg.inv(info), dtype=np.float64)
    except np.linalg.LinAlgError:
        note = (
            "the observed information is not positive definite at the optimum: the data do "
            "not identify every parameter, so no standard errors are given"
        )
    if cov is not None:
        for i, n in enumerate(names):
            s = math.sqrt(cov[i, i])
            if i < 4:
                se[n] = estimates[n] * s
                ci[n] = (math.exp(p[i] - z * s), math.exp(p[i] + z * s))
            else:
                se[n] = s
                ci[n] = (float(p[i] - z * s), float(p[i] + z * s))
    return FitReport(
        log_likelihood=loglik,
        n_observations=float(len(d.x)),
        n_distinct=len(d.x),
        iterations=int(result.nit),
        gradient_norm=float(np.linalg.norm(free_grad)),
        converged=bool(np.linalg.norm(free_grad) < 1e-2),
        method="L-BFGS-B",
        penalizer=0.0,
        estimates=estimates,
        standard_errors=se,
        confidence_intervals=ci,
        confidence_level=level,
        message=str(result.message),
        at_boundary=bool(edge.any()),
        warnings=tuple(warnings),
        uncertainty_note=note,
        covariance=None if cov is None else cov.tolist(),
    )


# ------------------------------------------------------------------------------ the model


def _read_only(value: Mapping[str, Mapping[str, float]]) -> Mapping[str, Mapping[str, float]]:
    return MappingProxyType({k: MappingProxyType(dict(v)) for k, v in value.items()})


@attrs.frozen
class DynamicCovariateModel:
    """A Pareto/NBD with time-varying covariates (see the module notes for the likelihood).

    Build it with :func:`fit_dynamic_covariates`, or directly from known parameters.

    Attributes
    ----------
    base:
        The Pareto/NBD at covariates 0 (``r``, ``alpha``, ``s``, ``beta``).
    purchase, dropout:
        The covariate columns acting on the purchase and on the dropout process.
    coefficients:
        ``{"purchase": {name: gamma}, "dropout": {name: gamma}}``; a positive coefficient
        raises that process's rate by the factor ``exp(gamma)`` per unit of the covariate
        (CLVTools' sign).
    customer, time, period:
        Column names: customer id (in both tables), purchase time (log), period start
        (covariates).
    unit:
        Time unit of the model and length of a covariate period (``"D"`` or ``"W"``).
    fit_report:
        How the fit went (``None`` for a model built by hand).

    Examples
    --------
    >>> m = DynamicCovariateModel(base=ParetoNBD(r=0.6, alpha=10.0, s=0.5, beta=12.0),
    ...                           purchase=("season",), dropout=(),
    ...                           coefficients={"purchase": {"season": 0.4}, "dropout": {}})
    >>> DynamicCovariateModel.from_dict(m.to_dict()) == m
    True
    """

    base: ParetoNBD
    purchase: tuple[str, ...]
    dropout: tuple[str, ...]
    coefficients: Mapping[str, Mapping[str, float]] = attrs.field(converter=_read_only)
    customer: str = "customer_id"
    time: str = "timestamp"
    period: str = "period"
    unit: str = "W"
    fit_report: FitReport | None = None

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.base, ParetoNBD):
            raise ArgumentError(
                f"base must be a ParetoNBD, got {type(self.base).__name__}", field="base"
            )
        for process, names in (("purchase", self.purchase), ("dropout", self.dropout)):
            covariate_names(names, process)
            given = self.coefficients.get(process, {})
            if sorted(given) != sorted(names):
                raise ArgumentError(
                    f"coefficients[{process!r}] must name exactly {list(names)}, "
                    f"got {sorted(given)}",
                    field=f"coefficients.{process}",
                )
            for n, v in given.items():
                check_number(v, f"coefficients.{process}.{n}")
        check_choice(self.unit, "unit", _UNITS)

    def _vector(self) -> Array:
        b = self.base
        logs = [math.log(float(getattr(b, n))) for n in _BASE]
        coefs = [
            float(self.coefficients[p][n])
            for p in ("purchase", "dropout")
            for n in (self.purchase if p == "purchase" else self.dropout)
        ]
        return np.array(logs + coefs)

    def _paths(
        self,
        transactions: Any,
        covariates: Any,
        as_of: Any,
        tz: Any,
        after: Any,
        until: Any = _NO_PREDICTION,
    ) -> _Paths:
        return _read_paths(
            transactions,
            covariates,
            as_of=as_of,
            purchase=self.purchase,
            dropout=self.dropout,
            customer=self.customer,
            time=self.time,
            period=self.period,
            unit=self.unit,
            tz=tz,
            after_as_of=after,
            until=until,
        )

    def log_likelihood_of(
        self,
        transactions: Any,
        covariates: Any,
        *,
        as_of: Any,
        tz: str | None = None,
        after_as_of: str = "error",
    ) -> float:
        """Total log-likelihood of a purchase log and its covariate paths at this model.

        Parameters
        ----------
        transactions:
            Purchase log (any table kind), columns ``customer`` and ``time``; same-day
            purchases are one (the rule of :func:`clientmodel.transactions.customer_history`).
        covariates:
            One row per customer and period start (column ``period``), covering every period
            from the customer's first purchase to ``as_of``, with the covariate columns.
        as_of:
            End of the observation window (a date counts from its start: ``T`` runs to it).
        tz, after_as_of:
            As in :func:`clientmodel.transactions.summarize`.

        Examples
        --------
        >>> m = DynamicCovariateModel(base=ParetoNBD(r=0.6, alpha=10.0, s=0.5, beta=12.0),
        ...                           purchase=("season",), dropout=(),
        ...                           coefficients={"purchase": {"season": 0.0}, "dropout": {}})
        >>> log = {"customer_id": [1, 1], "timestamp": ["2024-01-01", "2024-01-15"]}
        >>> cov = {"customer_id": [1] * 5, "season": [0, 1, 1, 0, 0],
        ...        "period": ["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22",
        ...                   "2024-01-29"]}
        >>> ll = m.log_likelihood_of(log, cov, as_of="2024-01-29")
        >>> summary = {"frequency": [1], "recency": [2.0], "T": [4.0]}
        >>> bool(abs(ll - m.base.log_likelihood_of(summary)) < 1e-10)
        True
        """
        d = self._paths(transactions, covariates, as_of, tz, after_as_of)
        return float(np.sum(_customer_loglik(self._vector(), d)[0]))

    def p_alive(
        self,
        transactions: Any,
        covariates: Any,
        *,
        as_of: Any,
        tz: str | None = None,
        after_as_of: str = "error",
    ) -> Any:
        """P(alive at ``as_of``) per customer given its history and covariate path.

        Returns the caller's kind of table with the ``customer`` column and ``p_alive``.

        Examples
        --------
        >>> m = DynamicCovariateModel(base=ParetoNBD(r=0.6, alpha=10.0, s=0.5, beta=12.0),
        ...                           purchase=(), dropout=("season",),
        ...                           coefficients={"purchase": {}, "dropout": {"season": 1.0}})
        >>> log = {"customer_id": [1, 1, 2, 2], "timestamp": ["2024-01-01", "2024-01-08"] * 2}
        >>> cov = {"customer_id": [1, 1, 1, 2, 2, 2], "season": [0, 0, 0, 0, 1, 1],
        ...        "period": ["2024-01-01", "2024-01-08", "2024-01-15"] * 2}
        >>> out = m.p_alive(log, cov, as_of="2024-01-21")
        >>> bool(out["p_alive"][0] > out["p_alive"][1])
        True
        """
        d = self._paths(transactions, covariates, as_of, tz, after_as_of)
        log_alive = _customer_loglik(self._vector(), d)[1]
        return d.history.result({self.customer: d.ids, "p_alive": np.exp(log_alive)})

    def expected_purchases(
        self,
        transactions: Any,
        covariates: Any,
        *,
        as_of: Any,
        until: Any,
        tz: str | None = None,
        after_as_of: str = "error",
    ) -> Any:
        """Expected purchases per customer from ``as_of`` to ``until`` given its history and
        its covariates over both periods (CLVTools' ``CET``).

        ``P(alive) (r+x)/(alpha+A(T))`` times the integral over the prediction period of the
        purchase covariates' factor and the chance of still being alive, each period at its
        own covariates (the formula is in the docs page on time-varying covariates).

        Parameters
        ----------
        transactions, covariates, as_of, tz, after_as_of:
            As in :meth:`p_alive`; the covariates must also cover every period from ``as_of``
            to ``until`` (a ``DataError`` names the customer and the first period missing).
        until:
            End of the prediction period: a date (counted from its start, as ``as_of`` is:
            ``until = as_of`` predicts nothing) or a number of ``unit`` periods after ``as_of``
            (``52`` with weeks: one year).

        Returns
        -------
        table
            The caller's kind of table with the ``customer`` column and ``expected_purchases``.

        Examples
        --------
        >>> m = DynamicCovariateModel(base=ParetoNBD(r=0.6, alpha=10.0, s=0.5, beta=12.0),
        ...                           purchase=("promo",), dropout=(),
        ...                           coefficients={"purchase": {"promo": 0.7}, "dropout": {}})
        >>> log = {"customer_id": [1, 1, 2, 2], "timestamp": ["2024-01-01", "2024-01-08"] * 2}
        >>> cov = {"customer_id": [1] * 4 + [2] * 4, "promo": [0, 0, 0, 0, 0, 0, 1, 1],
        ...        "period": ["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22"] * 2}
        >>> out = m.expected_purchases(log, cov, as_of="2024-01-15", until=2)
        >>> bool(out["expected_purchases"][1] > out["expected_purchases"][0])
        True
        """
        d = self._paths(transactions, covariates, as_of, tz, after_as_of, until)
        values = _expected_purchases(self._vector(), d)
        return d.history.result({self.customer: d.ids, "expected_purchases": values})

    # -- effects table and JSON -------------------------------------------------------------

    def effects(self) -> dict[str, list[Any]]:
        """The covariate effects as a table (a dict of columns): process, covariate, estimate,
        standard error, z, two-sided p-value and the interval (``None`` where not computed).

        Examples
        --------
        >>> m = DynamicCovariateModel(base=ParetoNBD(r=0.6, alpha=10.0, s=0.5, beta=12.0),
        ...                           purchase=("season",), dropout=(),
        ...                           coefficients={"purchase": {"season": 0.4}, "dropout": {}})
        >>> m.effects()["estimate"]
        [0.4]
        """
        return effects_table(
            self.coefficients,
            {"purchase": self.purchase, "dropout": self.dropout},
            self.fit_report,
            lambda process, n: f"{process}:{n}",
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-safe description: base parameters, covariates, coefficients, effects."""
        from clientmodel import __version__
        from clientmodel.ltv._base import FORMAT_VERSION

        return {
            "model": "DynamicCovariateParetoNBD",
            "format_version": FORMAT_VERSION,
            "library_version": __version__,
            "params": {n: float(getattr(self.base, n)) for n in _BASE},
            "covariates": {
                "purchase": list(self.purchase),
                "dropout": list(self.dropout),
                "customer": self.customer,
                "time": self.time,
                "period": self.period,
                "unit": self.unit,
            },
            "coefficients": coefficients_form(self.coefficients),
            "effects": self.effects(),
            "fit_report": None if self.fit_report is None else self.fit_report.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DynamicCovariateModel:
        """Rebuild from :meth:`to_dict` output; ``ArgumentError`` names a bad key path.

        The ``effects`` table is derived from the rest and not read back.

        Examples
        --------
        >>> m = DynamicCovariateModel(base=ParetoNBD(r=0.6, alpha=10.0, s=0.5, beta=12.0),
        ...                           purchase=("season",), dropout=(),
        ...                           coefficients={"purchase": {"season": 0.4}, "dropout": {}})
        >>> DynamicCovariateModel.from_dict(m.to_dict()).coefficients["purchase"]["season"]
        0.4
        """
        path = "DynamicCovariateModel"
        check_mapping(
            data,
            path,
            required=("model", "format_version", "params", "covariates", "coefficients"),
            optional=("library_version", "effects", "fit_report"),
        )
        if data["model"] != "DynamicCovariateParetoNBD":
            raise ArgumentError(
                f"model must be 'DynamicCovariateParetoNBD', got {data['model']!r}",
                field=key_path(path, "model"),
            )
        base = ParetoNBD.from_dict(
            {
                "model": "ParetoNBD",
                "format_version": data["format_version"],
                "params": data["params"],
            }
        )
        cov_path = key_path(path, "covariates")
        spec = check_mapping(
            data["covariates"],
            cov_path,
            required=("purchase", "dropout"),
            optional=("customer", "time", "period", "unit"),
        )
        coefficients = read_coefficients(data["coefficients"], key_path(path, "coefficients"))
        report = data.get("fit_report")
        return cls(
            base=base,
            purchase=covariate_names(spec["purchase"], key_path(cov_path, "purchase")),
            dropout=covariate_names(spec["dropout"], key_path(cov_path, "dropout")),
            coefficients=coefficients,
            customer=check_text(
                spec.get("customer", "customer_id"), key_path(cov_path, "customer")
            ),
            time=check_text(spec.get("time", "timestamp"), key_path(cov_path, "time")),
            period=check_text(spec.get("period", "period"), key_path(cov_path, "period")),
            unit=check_choice(spec.get("unit", "W"), key_path(cov_path, "unit"), _UNITS),
            fit_report=None
            if report is None
            else FitReport.from_dict(report, key_path(path, "fit_report")),
        )


def fit_dynamic_covariates(
    transactions: Any,
    covariates: Any,
    *,
    as_of: Any,
    purchase: Sequence[str] = (),
    dropout: Sequence[str] = (),
    customer: str = "customer_id",
    time: str = "timestamp",
    period: str = "period",
    unit: str = "W",
    tz: str | None = None,
    after_as_of: str = "error",
) -> DynamicCovariateModel:
    """Fit a Pareto/NBD with time-varying covariates by maximum likelihood.

    Parameters
    ----------
    transactions:
        Purchase log (pandas / polars / pyarrow / mapping of columns), one row per purchase;
        purchases of one customer on one day count once.
    covariates:
        One row per customer and period (``period``: the period's start date); periods are one
        ``unit`` long, follow each other without gaps and cover each customer from the period of
        its first purchase to the period of ``as_of``. Rows outside that span are ignored.
    as_of:
        End of the estimation period (a date: ``T`` runs to its start, as in CLVTools).
    purchase, dropout:
        Covariate columns acting on the purchase and on the dropout process.
    customer, time, period:
        Column names: customer id (both tables), purchase time, period start.
    unit:
        ``"W"`` (default) or ``"D"``: the model's time unit and the covariate period length.
    tz, after_as_of:
        As in :func:`clientmodel.transactions.summarize`.

    Returns
    -------
    DynamicCovariateModel
        With ``fit_report`` (log-likelihood, standard errors, intervals) and ``effects()``.

    Examples
    --------
    Simulated customers who buy at a rate ``exp(0.7)`` times higher in promotion weeks:

    >>> import numpy as np
    >>> rng = np.random.default_rng(7)
    >>> weeks = np.datetime64("2024-01-07") + 7 * np.arange(52)
    >>> promo = (np.arange(52) % 4 == 0).astype(float)  # every fourth week
    >>> ids, days = [], []
    >>> for c in range(200):
    ...     lam, life = rng.gamma(1.0, 0.3), rng.exponential(1.0 / rng.gamma(1.0, 1 / 40))
    ...     buys = [rng.poisson(lam * np.exp(0.7 * promo[w])) * (w < life) for w in range(52)]
    ...     when = [weeks[w] + rng.integers(0, 7) for w in range(52) for _ in range(buys[w])]
    ...     ids += [c] * (1 + len(when))
    ...     days += [weeks[0], *when]
    >>> cov = {"customer_id": np.repeat(np.arange(200), 52), "period": np.tile(weeks, 200),
    ...        "promo": np.tile(promo, 200)}
    >>> m = fit_dynamic_covariates({"customer_id": ids, "timestamp": days}, cov,
    ...                            as_of="2025-01-04", purchase=["promo"])
    >>> bool(0.4 < m.coefficients["purchase"]["promo"] < 1.0), m.fit_report.at_boundary
    (True, False)
    """
    purchase = covariate_names(purchase, "purchase")
    dropout = covariate_names(dropout, "dropout")
    if not purchase and not dropout:
        raise ArgumentError(
            "neither purchase=[...] nor dropout=[...] names a covariate column", field="purchase"
        )
    unit = check_choice(parse_unit(check_text(unit, "unit")), "unit", _UNITS)
    for name, value in (("customer", customer), ("time", time), ("period", period)):
        check_text(value, name)
    d = _read_paths(
        transactions,
        covariates,
        as_of=as_of,
        purchase=purchase,
        dropout=dropout,
        customer=customer,
        time=time,
        period=period,
        unit=unit,
        tz=tz,
        after_as_of=after_as_of,
    )
    _check_identified(d, purchase, dropout)
    # start: the plain Pareto/NBD's estimate, coefficients 0
    plain = ParetoNBD.fit({"frequency": d.x, "recency": d.tx, "T": d.t})
    start = np.concatenate(
        [np.log([float(getattr(plain, n)) for n in _BASE]), np.zeros(len(purchase) + len(dropout))]
    )
    k = len(purchase) + len(dropout)
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * 4 + [(-_COEF_BOUND, _COEF_BOUND)] * k

    def objective(q: Array) -> float:
        return -_total(q, d)

    def jacobian(q: Array) -> Array:
        return -_gradient(q, d)

    result = optimize.minimize(
        objective,
        start,
        jac=jacobian,
        method="L-BFGS-B",
        bounds=bounds,
        options={"ftol": 1e-13, "gtol": 1e-6, "maxiter": 1000},
    )
    p = np.asarray(result.x, dtype=np.float64)
    if not math.isfinite(_total(p, d)):
        raise ConvergenceError(
            "the dynamic-covariate Pareto/NBD fit reached no finite log-likelihood; check the "
            "covariates for extreme values (scale them)"
        )
    names = (*_BASE, *(f"purchase:{n}" for n in purchase), *(f"dropout:{n}" for n in dropout))
    report = _report(p, d, names, result, bounds)
    theta = np.exp(p[:4])
    k = len(purchase)
    return DynamicCovariateModel(
        base=ParetoNBD(
            r=float(theta[0]), alpha=float(theta[1]), s=float(theta[2]), beta=float(theta[3])
        ),
        purchase=purchase,
        dropout=dropout,
        coefficients={
            "purchase": {n: float(v) for n, v in zip(purchase, p[4 : 4 + k], strict=True)},
            "dropout": {n: float(v) for n, v in zip(dropout, p[4 + k :], strict=True)},
        },
        customer=customer,
        time=time,
        period=period,
        unit=unit,
        fit_report=report,
    )
