"""Pipeline hygiene: stalled deals, close-date slippage and overdue follow-ups.

A deal is *stalled* when it has sat in its current stage longer than a threshold: the stage's
fixed ``stale_after_days``, or a *learned* threshold, the ``percentile`` of the completed stays in
that stage across a history of deals. *Slippage* is how far a deal's close moved past its
expected close date (closed deals: actual minus expected; open deals past their date: ``as_of``
minus expected). A *follow-up is overdue* when an open deal's ``next_follow_up`` is before
``as_of``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from clientmodel._validation import boundary, check_number
from clientmodel.errors import ArgumentError
from clientmodel.funnel._check import aware, check_deals, deal_list
from clientmodel.funnel._events import load
from clientmodel.funnel.history import _stays
from clientmodel.funnel.models import Deal, Pipeline

__all__ = ["Flag", "overdue_follow_ups", "slippage", "stalled"]

_US_PER_DAY = 86_400_000_000


class Flag(BaseModel):
    """A hygiene finding on one deal.

    ``days`` is the measured quantity (days in stage, days slipped, days overdue) and
    ``threshold`` what it was compared with (``None`` when the check has no threshold).

    Examples
    --------
    >>> Flag(deal_id="D1", kind="stalled", stage="proposal", days=50.0, threshold=45.0).kind
    'stalled'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    deal_id: str
    kind: Literal["stalled", "slipped", "follow_up_overdue"]
    stage: str
    days: float
    threshold: float | None = None


def _check_as_of(as_of: dt.datetime) -> None:
    aware(as_of, "as_of")


def _learned(history: Any, pipeline: Pipeline, as_of: dt.datetime, q: float) -> dict[str, float]:
    ev = load(
        history, pipeline=pipeline, won=(), lost=(), as_of=as_of, deal="deal_id",
        stage="stage", time="entered_at", tz=None,
    )  # fmt: skip
    idx, end, is_open = _stays(ev)
    days = (end - ev.at[idx]) / _US_PER_DAY
    codes = ev.stage[idx]
    out = {}
    for i, s in enumerate(ev.layout.stages):
        done = days[(codes == i) & ~is_open]
        if done.size:
            out[s] = float(np.quantile(done, q / 100))
    return out


@boundary
def stalled(
    deals: Sequence[Deal],
    pipeline: Pipeline,
    *,
    as_of: dt.datetime,
    percentile: float | None = None,
    history: Any = None,
) -> list[Flag]:
    """Open deals that have been in their stage longer than the threshold, longest first.

    With ``percentile`` (e.g. 90) the threshold of each stage is that percentile of the completed
    stays in ``history`` (deals or an event table; default ``deals``); otherwise it is the
    stage's ``stale_after_days`` (stages without one are not checked).

    Examples
    --------
    >>> from clientmodel.datasets.deals import make_deals
    >>> data = make_deals(300, seed=1)
    >>> flags = stalled(data.deals, data.pipeline, as_of=data.as_of, percentile=90)
    >>> all(f.days > f.threshold for f in flags)
    True
    """
    _check_as_of(as_of)
    deals = check_deals(deals, pipeline)
    if percentile is not None:
        percentile = check_number(percentile, "percentile")
        if not 0 < percentile < 100:
            raise ArgumentError(f"percentile must be in (0, 100); got {percentile}")
        limits = _learned(history if history is not None else list(deals), pipeline, as_of,
                          percentile)  # fmt: skip
    else:
        limits = {
            s.id: s.stale_after_days for s in pipeline.stages if s.stale_after_days is not None
        }
    out = []
    for d in deals:
        if d.is_closed or d.stage not in limits or d.stage_entered_at > as_of:
            continue
        days = (as_of - d.stage_entered_at).total_seconds() / 86_400
        if days > limits[d.stage]:
            out.append(
                Flag(
                    deal_id=d.id,
                    kind="stalled",
                    stage=d.stage,
                    days=days,
                    threshold=limits[d.stage],
                )
            )
    return sorted(out, key=lambda f: -f.days)


@boundary
def slippage(deals: Sequence[Deal], *, as_of: dt.datetime) -> list[Flag]:
    """Deals whose close slipped past their expected close date, most slipped first.

    Closed deals count the days from the expected close date to the actual close; open deals
    past their date count the days to ``as_of``. Deals without an expected close are skipped.

    Examples
    --------
    >>> from clientmodel.datasets.deals import make_deals
    >>> data = make_deals(300, seed=1)
    >>> flags = slippage(data.deals, as_of=data.as_of)
    >>> all(f.days > 0 for f in flags)
    True
    """
    _check_as_of(as_of)
    deals = deal_list(deals)
    out = []
    for d in deals:
        if d.expected_close is None:
            continue
        due = dt.datetime.combine(d.expected_close, dt.time.max, tzinfo=as_of.tzinfo)
        end = d.closed_at if d.closed_at is not None and d.closed_at <= as_of else as_of
        if end > due:
            days = (end - due).total_seconds() / 86_400
            out.append(Flag(deal_id=d.id, kind="slipped", stage=d.stage, days=days))
    return sorted(out, key=lambda f: -f.days)


@boundary
def overdue_follow_ups(deals: Sequence[Deal], *, as_of: dt.datetime) -> list[Flag]:
    """Open deals whose ``next_follow_up`` is before ``as_of``, most overdue first.

    Examples
    --------
    >>> from clientmodel.datasets.deals import make_deals
    >>> data = make_deals(300, seed=1)
    >>> all(f.kind == "follow_up_overdue" for f in overdue_follow_ups(data.deals,
    ...                                                            as_of=data.as_of))
    True
    """
    _check_as_of(as_of)
    deals = deal_list(deals)
    out = []
    for d in deals:
        if d.is_closed or d.next_follow_up is None or d.next_follow_up >= as_of:
            continue
        days = (as_of - d.next_follow_up).total_seconds() / 86_400
        out.append(Flag(deal_id=d.id, kind="follow_up_overdue", stage=d.stage, days=days))
    return sorted(out, key=lambda f: -f.days)
