"""Predictions for a customer not yet seen: acquired at one date, counted until another.

A transaction model's :meth:`~clientmodel.ltv.contract.TransactionModel.expected_purchases_new`
takes a length of time in the unit the model was fitted in. :func:`new_customer_purchases`
takes calendar dates instead (the acquisition date and the end of the window, one pair or one per
customer) and converts them with the same unit, so a plan written in dates ("customers we acquire
on 1 March, purchases by year end") needs no arithmetic on the caller's side. The population's
mixing distributions behind these predictions are on every model:
:meth:`~clientmodel.ltv._base.ParametricModel.heterogeneity`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from numpy.typing import NDArray

from clientmodel._validation import check_sequence, key_path
from clientmodel.errors import ArgumentError
from clientmodel.ltv._base import Prediction
from clientmodel.ltv.contract import TransactionModel
from clientmodel.periods import UNIT_DAYS, as_of_value, parse_timestamp, parse_unit

__all__ = ["new_customer_purchases"]

_US_PER_DAY = 86_400_000_000


def _instant(value: Any, field: str) -> np.datetime64:
    """A date (its end), a timezone-aware datetime (in UTC) or an ISO string of either."""
    if isinstance(value, str):
        value = parse_timestamp(value, field=field)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc)
    return as_of_value(value, tz=None, field=field)


def _instants(value: Any, field: str) -> tuple[NDArray[Any], bool]:
    """One instant or a list of them, as ``datetime64[us]``, and whether it was one."""
    if isinstance(value, (str, dt.date, np.datetime64)):
        return np.array([_instant(value, field)]), True
    items = check_sequence(value, field)
    if not items:
        raise ArgumentError(f"{field} is empty: give a date or a list of dates", field=field)
    return np.array([_instant(v, key_path(field, i)) for i, v in enumerate(items)]), False


def new_customer_purchases(
    model: TransactionModel, acquired: Any, until: Any, *, unit: str = "W"
) -> Prediction:
    """Expected repeat purchases between acquisition and ``until`` of customers not yet seen.

    ``E[X(t)]`` of the model (:meth:`~clientmodel.ltv.contract.TransactionModel.
    expected_purchases_new`) with ``t`` the time from ``acquired`` to ``until`` in ``unit``,
    the unit the model was fitted in. For a discrete-time model (BG/BB) ``t`` is the number of
    whole periods elapsed. Dates stand for the end of that day; datetimes must carry a timezone.

    Parameters
    ----------
    model:
        A fitted (or hand-built) transaction model.
    acquired, until:
        Dates, timezone-aware datetimes or ISO 8601 strings: one each, or lists of the same
        length (one pair per customer), or one of them a single value for every customer.
    unit:
        The model's time unit: ``"D"``, ``"W"`` (default), ``"M"``, ``"Q"`` or ``"Y"``.

    Returns
    -------
    A float for one pair, else an array with one value per pair.

    Examples
    --------
    >>> from clientmodel.ltv import ParetoNBD
    >>> m = ParetoNBD(r=0.553, alpha=10.578, s=0.606, beta=11.669)
    >>> round(new_customer_purchases(m, "2024-01-01", "2024-09-30", unit="W"), 4)
    1.213
    >>> new_customer_purchases(m, ["2024-01-01", "2024-07-01"], "2024-09-30").round(3).tolist()
    [1.213, 0.531]
    """
    if not isinstance(model, TransactionModel):
        raise ArgumentError(
            f"model must be a transaction model (BG/NBD, Pareto/NBD, ...), got "
            f"{type(model).__name__}",
            field="model",
        )
    days = UNIT_DAYS[parse_unit(unit)]
    start, one_start = _instants(acquired, "acquired")
    end, one_end = _instants(until, "until")
    if len(start) != len(end) and not (one_start or one_end):
        raise ArgumentError(
            f"acquired has {len(start)} dates and until has {len(end)}: give one date or the "
            "same number of each",
            field="until",
        )
    gap = (end - start).astype(np.int64) / _US_PER_DAY  # days, broadcast over the pairs
    before = np.flatnonzero(gap < 0)
    if before.size:
        i = int(before[0])
        raise ArgumentError(
            f"until is before acquired for {before.size} pair(s), e.g. pair {i}: "
            f"{start[min(i, len(start) - 1)]} -> {end[min(i, len(end) - 1)]}; until must be on "
            "or after the acquisition",
            field="until",
        )
    t = gap / days
    if type(model).DISCRETE_TIME:
        t = np.floor(t + 1e-9)  # whole opportunities elapsed
    values = np.asarray(model.expected_purchases_new(t), dtype=np.float64)
    if one_start and one_end:
        return float(values[0])
    return values
