"""A consumer transaction log drawn from a known buy-till-you-die process.

Each customer is acquired (makes a first purchase) at a uniform time in the acquisition window,
then buys as a Poisson process with rate ``lambda ~ Gamma(r, alpha)`` (per week) and, after each
purchase, drops out for good with probability ``p ~ Beta(a, b)``: the BG/NBD story of Fader,
Hardie & Lee (2005). The value of each purchase is ``Gamma(p_spend, nu)`` with
``nu ~ Gamma(q, gamma)`` per customer: the gamma-gamma story. So a model fitted to the summary
of this log should recover the parameters it was drawn with.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal, cast

import numpy as np
from numpy.typing import NDArray

from clientmodel._validation import (
    boundary,
    check_choice,
    check_integer,
    check_mapping,
    check_number,
    check_seed,
)
from clientmodel.errors import ArgumentError
from clientmodel.periods import parse_timestamp

__all__ = ["DEFAULT_BGNBD", "DEFAULT_SPEND", "make_transactions"]

#: Purchase process per week, close to the CDNOW estimates of Fader, Hardie & Lee (2005).
DEFAULT_BGNBD: Mapping[str, float] = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
#: Spend per purchase, close to the CDNOW gamma-gamma estimates (Fader & Hardie 2013).
DEFAULT_SPEND: Mapping[str, float] = {"p": 6.0, "q": 4.0, "gamma": 15.0}

_US_PER_WEEK = 7 * 86_400_000_000
#: More customers than this would not fit in memory as a transaction log.
_MAX_CUSTOMERS = 100_000_000
#: Two centuries of weeks: timestamps stay well inside what every frame library can hold.
_MAX_WEEKS = 52 * 200


def _positive_params(values: Any, field: str, defaults: Mapping[str, float]) -> dict[str, float]:
    """``values`` as a dict of the keys of ``defaults``, each a finite number > 0."""
    checked = check_mapping(values, field, required=defaults, optional=())
    return {
        name: check_number(checked[name], name, minimum=0, exclusive_minimum=True)
        for name in defaults
    }


def _start_day(start: Any) -> np.datetime64:
    """``start`` (a date, or an ISO 8601 date string) as a ``datetime64[us]`` midnight."""
    if isinstance(start, str):
        start = parse_timestamp(start, field="start")
    if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
        raise ArgumentError(
            f"start must be a date (or an ISO 8601 date such as '2024-01-01'), got {start!r}",
            field="start",
        )
    return np.datetime64(start, "us")


@boundary
def make_transactions(
    n_customers: int = 2000,
    *,
    seed: int | np.random.Generator | None = None,
    start: dt.date | str = dt.date(2024, 1, 1),
    acquisition_weeks: float = 12.0,
    observation_weeks: float = 78.0,
    params: Mapping[str, float] = DEFAULT_BGNBD,
    spend: Mapping[str, float] = DEFAULT_SPEND,
    frame: Literal["dict", "pandas", "polars"] = "dict",
) -> Any:
    """Draw a transaction log with columns ``customer_id``, ``timestamp`` (UTC) and ``amount``.

    Parameters
    ----------
    n_customers:
        Customers to draw; each has at least its first purchase.
    seed:
        Seed or generator; the same seed gives the same log.
    start:
        First day of the acquisition window (UTC midnight): a date or an ISO 8601 date.
    acquisition_weeks, observation_weeks:
        First purchases fall uniformly in ``[start, start + acquisition_weeks)``; purchases stop
        at ``start + observation_weeks``.
    params:
        BG/NBD parameters ``r, alpha, a, b`` with time in weeks.
    spend:
        Gamma-gamma parameters ``p, q, gamma``.
    frame:
        ``"dict"`` (numpy arrays; timestamps as UTC ``datetime64[us]``, so pass ``tz="UTC"`` to
        the summary), ``"pandas"`` or ``"polars"`` (timezone-aware UTC timestamps).

    Examples
    --------
    >>> log = make_transactions(100, seed=1)
    >>> sorted(log), len(set(log["customer_id"].tolist()))
    (['amount', 'customer_id', 'timestamp'], 100)
    """
    n_customers = check_integer(n_customers, "n_customers", minimum=1, maximum=_MAX_CUSTOMERS)
    frame = cast(Any, check_choice(frame, "frame", ("dict", "pandas", "polars")))
    rng = check_seed(seed)
    origin = _start_day(start)
    acquisition_weeks = check_number(
        acquisition_weeks, "acquisition_weeks", minimum=0, maximum=_MAX_WEEKS
    )
    observation_weeks = check_number(
        observation_weeks, "observation_weeks", minimum=0, maximum=_MAX_WEEKS
    )
    if not acquisition_weeks < observation_weeks:
        raise ArgumentError(
            "need 0 <= acquisition_weeks < observation_weeks, got "
            f"{acquisition_weeks} and {observation_weeks}",
            field="acquisition_weeks",
        )
    params = _positive_params(params, "params", DEFAULT_BGNBD)
    spend = _positive_params(spend, "spend", DEFAULT_SPEND)
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n_customers)
    p_drop = rng.beta(params["a"], params["b"], n_customers)
    nu = rng.gamma(spend["q"], 1.0 / spend["gamma"], n_customers)
    first = rng.uniform(0.0, acquisition_weeks, n_customers)

    who: list[NDArray[np.int64]] = [np.arange(n_customers)]
    when: list[NDArray[np.float64]] = [first]
    # Draw repeat purchase after repeat purchase for every customer still alive, all at once;
    # dropout happens right after a repeat purchase (never at the first one, as in BG/NBD).
    alive = np.arange(n_customers)
    clock = first.copy()
    while alive.size:
        with np.errstate(divide="ignore"):  # a rate that underflows to 0 never buys again
            clock = clock + rng.exponential(1.0, alive.size) / lam[alive]
        inside = clock < observation_weeks
        alive, clock = alive[inside], clock[inside]
        who.append(alive)
        when.append(clock)
        survives = rng.random(alive.size) >= p_drop[alive]
        alive, clock = alive[survives], clock[survives]
    customer = np.concatenate(who)
    weeks = np.concatenate(when)
    order = np.lexsort((weeks, customer))
    customer, weeks = customer[order], weeks[order]
    amount = np.round(rng.gamma(spend["p"], 1.0 / nu[customer]), 2)
    stamps = origin + (weeks * _US_PER_WEEK).astype("timedelta64[us]")
    ids = np.char.add("C", np.char.zfill((customer + 1).astype(str), len(str(n_customers))))
    columns: dict[str, Any] = {"customer_id": ids, "timestamp": stamps, "amount": amount}
    if frame == "dict":
        return columns
    if frame == "pandas":
        import pandas as pd

        out = pd.DataFrame(columns)
        out["timestamp"] = out["timestamp"].dt.tz_localize("UTC")
        return out
    import polars as pl

    return pl.DataFrame(columns).with_columns(pl.col("timestamp").dt.replace_time_zone("UTC"))
