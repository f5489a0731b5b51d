"""Reached-stage conversion rates: snapshot and by creation cohort.

A deal *reached* an open stage when it entered that stage or any later open stage, or was won:
skipped stages count as reached, so the reached counts fall monotonically down the funnel and the
rate from one stage to the next is a proportion. A lost deal reached the furthest open stage it
entered. The final row (the won stage) counts won deals.

*Snapshot* rates use every deal seen by ``as_of``; deals still open are in the denominators, so
recent deals pull late-stage rates down. *Cohort* rates group deals by the period they were
created in and report, per cohort, how many are still open (right-censored): a young cohort's
rates are lower bounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from clientmodel._validation import boundary
from clientmodel.errors import ArgumentError, DataError
from clientmodel.funnel._events import Events, load
from clientmodel.funnel.models import Pipeline
from clientmodel.periods import parse_unit, period_start

__all__ = ["cohort_conversion", "conversion"]

_WON: tuple[str, ...] = ("won",)
_LOST: tuple[str, ...] = ("lost",)


def _per_deal(ev: Events) -> tuple[NDArray[np.int64], NDArray[np.int64], list[str]]:
    """Furthest rank reached per deal, outcome per deal (0 open, 1 won, 2 lost), row labels."""
    lay = ev.layout
    if not lay.ordered:
        raise ArgumentError(
            "conversion needs the funnel order: pass pipeline= a Pipeline or a sequence of "
            "stage ids in order",
            field="pipeline",
        )
    open_idx = lay.open_idx
    n_open = len(open_idx)
    rank_of = np.full(len(lay.stages), -1, dtype=np.int64)
    rank_of[open_idx] = np.arange(n_open)
    rank_of[lay.won_idx] = n_open
    kind_code = np.array([{"open": 0, "won": 1, "lost": 2}[k] for k in lay.kinds])
    starts = np.flatnonzero(ev.first())
    if not len(starts):
        raise DataError(
            "events has no rows: conversion needs the stage events of at least one deal",
            field="events",
        )
    best = np.maximum.reduceat(rank_of[ev.stage], starts)
    last = np.append(starts[1:], len(ev.stage)) - 1
    outcome = kind_code[ev.stage[last]]
    labels = [lay.stages[i] for i in open_idx]
    labels.append(lay.stages[lay.won_idx[0]] if len(lay.won_idx) else "won")
    return best.astype(np.int64), outcome.astype(np.int64), labels


def _rates(reached: NDArray[np.int64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    prev = np.concatenate([[reached[0]], reached[:-1]]).astype(np.float64)
    nan = np.full(len(reached), np.nan)
    step = np.divide(reached, prev, out=nan.copy(), where=prev > 0)
    first = np.divide(reached, float(reached[0]), out=nan.copy(), where=reached[0] > 0)
    return step, first


@boundary
def conversion(
    events: Any,
    *,
    pipeline: Pipeline | Sequence[str],
    as_of: Any,
    won: Sequence[str] = _WON,
    lost: Sequence[str] = _LOST,
    deal: str = "deal_id",
    stage: str = "stage",
    time: str = "entered_at",
    tz: str | None = None,
) -> Any:
    """Snapshot reached-stage conversion through the funnel as of ``as_of``.

    Returns the caller's kind of table (a dict of numpy arrays for records or mappings), one row
    per open stage in order plus a final won row, with columns ``stage``, ``reached``,
    ``rate_from_previous``, ``rate_from_first``, ``won``, ``lost``, ``open`` (of the deals that
    reached the stage, how many are won / lost / still open) and ``win_rate``
    (``won / (won + lost)``, NaN when none closed).

    Examples
    --------
    >>> ev = {"deal_id": ["a", "a", "b", "b", "c"],
    ...       "stage": ["lead", "proposal", "lead", "lost", "lead"],
    ...       "entered_at": ["2024-01-01", "2024-01-05", "2024-01-02", "2024-01-09",
    ...                      "2024-01-03"]}
    >>> out = conversion(ev, pipeline=["lead", "qualified", "proposal", "won", "lost"],
    ...                  as_of="2024-02-01")
    >>> out["stage"].tolist(), out["reached"].tolist()
    (['lead', 'qualified', 'proposal', 'won'], [3, 1, 1, 0])
    """
    ev = load(
        events,
        pipeline=pipeline,
        won=won,
        lost=lost,
        as_of=as_of,
        deal=deal,
        stage=stage,
        time=time,
        tz=tz,
    )
    best, outcome, labels = _per_deal(ev)
    n_rows = len(labels)
    ranks = np.arange(n_rows)
    hit = best[None, :] >= ranks[:, None]  # rows: funnel step, cols: deals
    reached = hit.sum(axis=1).astype(np.int64)
    n_won = (hit & (outcome == 1)).sum(axis=1).astype(np.int64)
    n_lost = (hit & (outcome == 2)).sum(axis=1).astype(np.int64)
    n_open = reached - n_won - n_lost
    step, first = _rates(reached)
    closed = (n_won + n_lost).astype(np.float64)
    win_rate = np.divide(n_won, closed, out=np.full(n_rows, np.nan), where=closed > 0)
    return ev.result(
        {
            "stage": np.asarray(labels, dtype=object),
            "reached": reached,
            "rate_from_previous": step,
            "rate_from_first": first,
            "won": n_won,
            "lost": n_lost,
            "open": n_open,
            "win_rate": win_rate,
        }
    )


@boundary
def cohort_conversion(
    events: Any,
    *,
    pipeline: Pipeline | Sequence[str],
    as_of: Any,
    period: str = "M",
    won: Sequence[str] = _WON,
    lost: Sequence[str] = _LOST,
    deal: str = "deal_id",
    stage: str = "stage",
    time: str = "entered_at",
    tz: str | None = None,
) -> Any:
    """Reached-stage conversion by creation cohort (the period of a deal's first stage entry).

    Returns the caller's kind of table, one row per cohort and funnel step, with columns
    ``cohort`` (period start), ``stage``, ``deals`` (cohort size), ``reached``,
    ``rate_from_first``, ``open`` (deals of the cohort still open at ``as_of``: right-censored)
    and ``censored_share`` (``open / deals``; rates of cohorts with a high share are lower
    bounds).

    Examples
    --------
    >>> ev = {"deal_id": ["a", "a", "b"], "stage": ["lead", "won", "lead"],
    ...       "entered_at": ["2024-01-01", "2024-01-05", "2024-02-02"]}
    >>> out = cohort_conversion(ev, pipeline=["lead", "won", "lost"], as_of="2024-03-01")
    >>> out["reached"].tolist(), out["censored_share"].tolist()
    ([1, 1, 1, 0], [0.0, 0.0, 1.0, 1.0])
    """
    ev = load(
        events,
        pipeline=pipeline,
        won=won,
        lost=lost,
        as_of=as_of,
        deal=deal,
        stage=stage,
        time=time,
        tz=tz,
    )
    parse_unit(period, field="period")
    best, outcome, labels = _per_deal(ev)
    created = ev.at[ev.first()].astype("datetime64[us]")
    cohort = period_start(created, period)
    keys, inv = np.unique(cohort, return_inverse=True)
    n_rows = len(labels)
    n_c = len(keys)
    size = np.bincount(inv, minlength=n_c)
    still_open = np.bincount(inv, weights=outcome == 0, minlength=n_c)
    reached = np.zeros((n_c, n_rows), dtype=np.int64)
    for r in range(n_rows):
        reached[:, r] = np.bincount(inv, weights=best >= r, minlength=n_c).astype(np.int64)
    first = np.divide(
        reached,
        size[:, None].astype(np.float64),
        out=np.zeros((n_c, n_rows)),
        where=size[:, None] > 0,
    )
    return ev.result(
        {
            "cohort": np.repeat(keys, n_rows),
            "stage": np.tile(np.asarray(labels, dtype=object), n_c),
            "deals": np.repeat(size, n_rows).astype(np.int64),
            "reached": reached.ravel(),
            "rate_from_first": first.ravel(),
            "open": np.repeat(still_open, n_rows).astype(np.int64),
            "censored_share": np.repeat(still_open / size, n_rows),
        }
    )
