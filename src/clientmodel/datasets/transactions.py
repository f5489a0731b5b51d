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
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from clientmodel.errors import ArgumentError

__all__ = ["DEFAULT_BGNBD", "DEFAULT_SPEND", "make_transactions"]

#: Purchase process per week, close to the CDNOW estimates of Fader, Hardie & Lee (2005).
DEFAULT_BGNBD: Mapping[str, float] = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
#: Spend per purchase, close to the CDNOW gamma-gamma estimates (Fader & Hardie 2013).
DEFAULT_SPEND: Mapping[str, float] = {"p": 6.0, "q": 4.0, "gamma": 15.0}

_US_PER_WEEK = 7 * 86_400_000_000


def make_transactions(
    n_customers: int = 2000,
    *,
    seed: int | np.random.Generator | None = None,
    start: dt.date = dt.date(2024, 1, 1),
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
        First day of the acquisition window (UTC midnight).
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
    if n_customers < 1:
        raise ArgumentError(f"n_customers={n_customers} must be >= 1", field="n_customers")
    if not 0 <= acquisition_weeks < observation_weeks:
        raise ArgumentError(
            "need 0 <= acquisition_weeks < observation_weeks, got "
            f"{acquisition_weeks} and {observation_weeks}",
            field="acquisition_weeks",
        )
    for name, value in (*params.items(), *spend.items()):
        if not value > 0:
            raise ArgumentError(f"parameter {name}={value} must be > 0", field=name)
    rng = np.random.default_rng(seed)
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
    origin = np.datetime64(start, "us")
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
    if frame == "polars":
        import polars as pl

        return pl.DataFrame(columns).with_columns(pl.col("timestamp").dt.replace_time_zone("UTC"))
    raise ArgumentError(f"frame={frame!r}; use 'dict', 'pandas' or 'polars'", field="frame")
