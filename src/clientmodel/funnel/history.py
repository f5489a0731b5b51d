"""Stage histories of many deals: event tables, time in stage and per-stage duration summaries.

A *stay* is one visit of a deal to an open stage: it starts when the deal enters the stage and ends
when the deal enters its next stage. A stay that has not ended by ``as_of`` is *open* (right-
censored) and counts up to ``as_of``. Won/lost stages are absorbing and have no stay.

Every function accepts either a sequence of :class:`~clientmodel.funnel.models.Deal` records or an
event table (columns ``deal_id``, ``stage``, ``entered_at``, names configurable) in any frame kind
:func:`clientmodel.tables.read_table` understands, and answers in kind: records for records, the
caller's frame kind for tables.

The mean sojourn time of a stage is estimated with censoring taken into account: under an
exponential sojourn the maximum-likelihood mean is the total time spent in the stage (closed and
open stays) divided by the number of stays that ended (Cox & Oakes 1984, *Analysis of Survival
Data*, sec. 3.2).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import AwareDatetime, BaseModel, ConfigDict

from clientmodel._validation import boundary
from clientmodel.funnel._check import deal_list
from clientmodel.funnel._events import Events, is_records, load
from clientmodel.funnel.models import Deal, Pipeline
from clientmodel.periods import UNIT_DAYS, parse_unit, timezone

#: A stage history read once (sorted numpy columns cut at ``as_of``); every analytics function
#: accepts it in place of deals or an event table, so a large table is parsed and sorted once.
StageHistory = Events

__all__ = [
    "StageHistory",
    "StageStay",
    "stage_durations",
    "stage_events",
    "stage_history",
    "time_in_stage",
]

_US_PER_DAY = 86_400_000_000
_WON: tuple[str, ...] = ("won",)
_LOST: tuple[str, ...] = ("lost",)


class StageStay(BaseModel):
    """One visit of a deal to an open stage (the record face of :func:`time_in_stage`).

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    >>> StageStay(deal_id="D1", stage="lead", entered_at=t, left_at=None, duration=3.0,
    ...           open=True).open
    True
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    deal_id: str
    stage: str
    entered_at: AwareDatetime
    left_at: AwareDatetime | None
    duration: float
    open: bool


@boundary
def stage_events(deals: Sequence[Deal]) -> dict[str, NDArray[Any]]:
    """Flatten deals' stage histories into an event table (a dict of numpy columns).

    Columns: ``deal_id``, ``stage``, ``from_stage`` (``None`` for the creation), ``entered_at``
    (``datetime64[us]`` wall-clock **UTC**: pass ``tz="UTC"`` when reading it back), ``actor``.

    Examples
    --------
    >>> from clientmodel.datasets.deals import make_deals
    >>> ev = stage_events(make_deals(5, seed=1).deals)
    >>> sorted(ev)
    ['actor', 'deal_id', 'entered_at', 'from_stage', 'stage']
    """
    rows = [(d.id, c) for d in deal_list(deals) for c in d.history]
    return {
        "deal_id": np.array([r[0] for r in rows], dtype=object),
        "stage": np.array([r[1].to_stage for r in rows], dtype=object),
        "from_stage": np.array([r[1].from_stage for r in rows], dtype=object),
        "entered_at": np.array(
            [r[1].at.astimezone(dt.timezone.utc).replace(tzinfo=None) for r in rows],
            dtype="datetime64[us]",
        ),
        "actor": np.array([r[1].actor for r in rows], dtype=object),
    }


@boundary
def stage_history(
    events: Any,
    *,
    as_of: Any,
    pipeline: Pipeline | Sequence[str] | None = None,
    won: Sequence[str] = _WON,
    lost: Sequence[str] = _LOST,
    deal: str = "deal_id",
    stage: str = "stage",
    time: str = "entered_at",
    tz: str | None = None,
) -> Events:
    """Read deals or an event table once, for several analytics calls.

    The result can be passed as ``events`` to :func:`time_in_stage`, :func:`stage_durations`,
    the conversion and Markov functions; table results keep the kind of the original table. A
    later call may use an earlier ``as_of`` (events are cut again) but not a later one.

    Examples
    --------
    >>> ev = {"deal_id": ["a", "a", "b"], "stage": ["lead", "won", "lead"],
    ...       "entered_at": ["2024-01-01", "2024-01-11", "2024-01-05"]}
    >>> h = stage_history(ev, as_of="2024-01-20", pipeline=["lead", "won", "lost"])
    >>> time_in_stage(h, as_of="2024-01-20")["duration"].round(1).tolist()
    [10.0, 16.0]
    """
    return load(
        events, pipeline=pipeline, won=won, lost=lost, as_of=as_of, deal=deal, stage=stage,
        time=time, tz=tz,
    )  # fmt: skip


def _stays(ev: Events) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    """Indices of stays (events in open stages), their end (us) and whether they are open."""
    closed = ev.layout.closed_mask[ev.stage]
    nxt = ev.next_same()
    idx = np.flatnonzero(~closed)
    ends = np.empty(len(ev.at), dtype=np.int64)
    ends[:-1] = ev.at[1:]
    if len(ends):
        ends[-1] = 0
    is_open = ~nxt[idx]
    end = np.where(is_open, ev.as_of if ev.as_of is not None else 0, ends[idx])
    return idx, end, is_open


def _load(
    data: Any,
    pipeline: Pipeline | Sequence[str] | None,
    won: Sequence[str],
    lost: Sequence[str],
    as_of: Any,
    deal: str,
    stage: str,
    time: str,
    tz: str | None,
) -> Events:
    return load(
        data,
        pipeline=pipeline,
        won=won,
        lost=lost,
        as_of=as_of,
        deal=deal,
        stage=stage,
        time=time,
        tz=tz,
    )


@boundary
def time_in_stage(
    events: Any,
    *,
    as_of: Any,
    pipeline: Pipeline | Sequence[str] | None = None,
    unit: str = "D",
    won: Sequence[str] = _WON,
    lost: Sequence[str] = _LOST,
    deal: str = "deal_id",
    stage: str = "stage",
    time: str = "entered_at",
    tz: str | None = None,
) -> Any:
    """Every stay of every deal in an open stage, with its duration up to ``as_of``.

    Parameters
    ----------
    events:
        A sequence of :class:`Deal` records, or an event table with columns ``deal``, ``stage``
        and ``time`` (one row per stage entry).
    as_of:
        The cut-off: later events are ignored and open stays run up to it.
    pipeline:
        A :class:`Pipeline` or a sequence of stage ids in funnel order (stage ids in ``won`` and
        ``lost`` are closed); ``None`` takes the stages seen in the data.
    unit:
        Unit of ``duration`` (``D``, ``W``, ``M``, ``Q``, ``Y``).

    Returns
    -------
    For records, a list of :class:`StageStay`; for a table, the caller's kind of table with
    columns ``deal_id``, ``stage``, ``entered_at``, ``left_at`` (null while open), ``duration``
    and ``open``.

    Examples
    --------
    >>> ev = {"deal_id": ["a", "a", "b"], "stage": ["lead", "won", "lead"],
    ...       "entered_at": ["2024-01-01", "2024-01-11", "2024-01-05"]}
    >>> out = time_in_stage(ev, as_of="2024-01-20")
    >>> out["duration"].round(2).tolist(), out["open"].tolist()
    ([10.0, 16.0], [False, True])
    """
    ev = _load(events, pipeline, won, lost, as_of, deal, stage, time, tz)
    u = parse_unit(unit)
    idx, end, is_open = _stays(ev)
    duration = (end - ev.at[idx]) / (_US_PER_DAY * UNIT_DAYS[u])
    if is_records(events):
        utc = dt.timezone.utc if ev.tz is None else timezone(ev.tz)
        entered = ev.at[idx].astype("datetime64[us]").tolist()
        left = end.astype("datetime64[us]").tolist()
        return [
            StageStay(
                deal_id=str(ev.deal_ids[ev.deal[i]]),
                stage=ev.layout.stages[ev.stage[i]],
                entered_at=entered[k].replace(tzinfo=utc),
                left_at=None if is_open[k] else left[k].replace(tzinfo=utc),
                duration=float(duration[k]),
                open=bool(is_open[k]),
            )
            for k, i in enumerate(idx)
        ]
    left_at = end.astype("datetime64[us]")
    left_at[is_open] = np.datetime64("NaT")
    return ev.result(
        {
            "deal_id": ev.deal_ids[ev.deal[idx]],
            "stage": np.asarray(ev.layout.stages, dtype=object)[ev.stage[idx]],
            "entered_at": ev.at[idx].astype("datetime64[us]"),
            "left_at": left_at,
            "duration": duration,
            "open": is_open,
        }
    )


def _durations_by_stage(
    ev: Events,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """Per layout stage: total exposure (days), exits, stays, open stays. Private helper."""
    idx, end, is_open = _stays(ev)
    days = (end - ev.at[idx]) / _US_PER_DAY
    n = len(ev.layout.stages)
    codes = ev.stage[idx]
    exposure: NDArray[np.float64] = np.asarray(
        np.bincount(codes, weights=days, minlength=n), dtype=np.float64
    )
    exits = np.bincount(codes, weights=~is_open, minlength=n).astype(np.int64)
    stays = np.bincount(codes, minlength=n).astype(np.int64)
    n_open = stays - exits
    return exposure, exits.astype(np.float64), stays, n_open.astype(np.int64)


@boundary
def stage_durations(
    events: Any,
    *,
    as_of: Any,
    pipeline: Pipeline | Sequence[str] | None = None,
    unit: str = "D",
    won: Sequence[str] = _WON,
    lost: Sequence[str] = _LOST,
    deal: str = "deal_id",
    stage: str = "stage",
    time: str = "entered_at",
    tz: str | None = None,
) -> Any:
    """Per open stage: number of stays, open stays, mean/median/P90 of completed stays, and the
    censoring-aware mean sojourn (total time in stage / stays that ended).

    Returns the caller's kind of table (a dict of numpy arrays for records or mappings) with
    columns ``stage``, ``stays``, ``open``, ``mean``, ``median``, ``p90``, ``exposure`` and
    ``mean_sojourn`` (NaN where no stay has ended), all durations in ``unit``.

    Examples
    --------
    >>> ev = {"deal_id": ["a", "a", "b"], "stage": ["lead", "won", "lead"],
    ...       "entered_at": ["2024-01-01", "2024-01-11", "2024-01-05"]}
    >>> out = stage_durations(ev, as_of="2024-01-20", pipeline=["lead", "won"])
    >>> out["stays"].tolist(), out["mean_sojourn"].round(1).tolist()
    ([2], [26.0])
    """
    ev = _load(events, pipeline, won, lost, as_of, deal, stage, time, tz)
    scale = UNIT_DAYS[parse_unit(unit)]
    idx, end, is_open = _stays(ev)
    days = (end - ev.at[idx]) / _US_PER_DAY / scale
    codes = ev.stage[idx]
    open_stages = ev.layout.open_idx
    cols: dict[str, list[Any]] = {k: [] for k in ("stays", "open", "mean", "median", "p90")}
    exposure, exits, stays, n_open = _durations_by_stage(ev)
    for s in open_stages:
        done = days[(codes == s) & ~is_open]
        cols["stays"].append(int(stays[s]))
        cols["open"].append(int(n_open[s]))
        if done.size:
            cols["mean"].append(float(done.mean()))
            cols["median"].append(float(np.median(done)))
            cols["p90"].append(float(np.quantile(done, 0.9)))
        else:
            for k in ("mean", "median", "p90"):
                cols[k].append(float("nan"))
    exp = exposure[open_stages] / scale
    ex = exits[open_stages]
    mean_sojourn = np.divide(exp, ex, out=np.full(len(ex), np.nan), where=ex > 0)
    return ev.result(
        {
            "stage": np.asarray(ev.layout.stages, dtype=object)[open_stages],
            "stays": np.asarray(cols["stays"], dtype=np.int64),
            "open": np.asarray(cols["open"], dtype=np.int64),
            "mean": np.asarray(cols["mean"]),
            "median": np.asarray(cols["median"]),
            "p90": np.asarray(cols["p90"]),
            "exposure": exp,
            "mean_sojourn": mean_sojourn,
        }
    )
