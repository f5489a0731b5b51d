"""A seeded synthetic sales pipeline: deals moving through stages with known true dynamics.

Deals are created uniformly over a window before ``as_of``. In each open stage a deal waits an
exponential sojourn time (mean :data:`TRUE_SOJOURN_DAYS`) and then jumps to the next stage drawn
from the true transition matrix :data:`TRUE_TRANSITIONS` (which includes backward moves, skips and
losses from every stage). Deals still open at ``as_of`` are right-censored in their stage. Because
the dynamics are known, tests can check that the funnel analytics recover them.

:func:`make_deals` returns :class:`~clientmodel.funnel.models.Deal` records;
:func:`make_stage_events` simulates the same process vectorised and returns a plain event table
(``deal_id``, ``stage``, ``entered_at``) for volume benchmarks.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from clientmodel._validation import (
    boundary,
    check_bool,
    check_integer,
    check_number,
    check_seed,
    check_text,
)
from clientmodel.errors import ArgumentError
from clientmodel.funnel.models import Deal, Pipeline, Stage, StageChange
from clientmodel.periods import parse_timestamp

__all__ = [
    "STAGES",
    "TRUE_CHAMPION_RATE",
    "TRUE_SOJOURN_DAYS",
    "TRUE_TRANSITIONS",
    "DealsDataset",
    "make_deals",
    "make_stage_events",
    "standard_pipeline",
]

#: Stage ids of :func:`standard_pipeline` in funnel order.
STAGES: tuple[str, ...] = ("lead", "qualified", "proposal", "negotiation", "won", "lost")

#: True one-step transition probabilities of the simulated process (rows sum to 1).
TRUE_TRANSITIONS: dict[str, dict[str, float]] = {
    "lead": {"qualified": 0.55, "lost": 0.45},
    "qualified": {"proposal": 0.60, "lead": 0.05, "lost": 0.35},
    "proposal": {"negotiation": 0.55, "qualified": 0.10, "won": 0.10, "lost": 0.25},
    "negotiation": {"won": 0.60, "proposal": 0.10, "lost": 0.30},
}

#: True mean sojourn time (days, exponential) in each open stage.
TRUE_SOJOURN_DAYS: dict[str, float] = {
    "lead": 7.0,
    "qualified": 14.0,
    "proposal": 21.0,
    "negotiation": 10.0,
}

#: P(the deal has a named champion | outcome): an outcome-informative field with a known
#: likelihood ratio, so a naive-Bayes score can be checked for recovery (open deals: 0.5).
TRUE_CHAMPION_RATE: dict[str, float] = {"won": 0.8, "lost": 0.3}

_OWNERS = ("ana", "ben", "chen", "dana", "eli", "fatima")
_SOURCES = ("inbound", "outbound", "partner", "event")
_SEGMENTS = ("smb", "mid_market", "enterprise")
_LOST_REASONS = ("no budget", "competitor", "no decision", "timing", "price")
_UTC = dt.timezone.utc


@boundary
def standard_pipeline(*, allow_reopen: bool = False, pipeline_id: str = "sales") -> Pipeline:
    """The four-open-stage B2B pipeline the synthetic data moves through.

    Stages: lead (10 %), qualified (25 %), proposal (50 %, best case), negotiation (75 %,
    commit), won, lost. Every open stage may move to any other stage.

    Examples
    --------
    >>> [s.id for s in standard_pipeline().ordered]
    ['lead', 'qualified', 'proposal', 'negotiation', 'won', 'lost']
    """
    return Pipeline(
        id=check_text(pipeline_id, "pipeline_id"),
        name="Sales",
        allow_reopen=check_bool(allow_reopen, "allow_reopen"),
        stages=(
            Stage(id="lead", name="Lead", order=1, probability=0.10, stale_after_days=21),
            Stage(id="qualified", name="Qualified", order=2, probability=0.25, stale_after_days=30),
            Stage(
                id="proposal",
                name="Proposal",
                order=3,
                probability=0.50,
                forecast_category="best_case",
                stale_after_days=45,
            ),
            Stage(
                id="negotiation",
                name="Negotiation",
                order=4,
                probability=0.75,
                forecast_category="commit",
                stale_after_days=30,
            ),
            Stage(id="won", name="Closed won", order=5, kind="won"),
            Stage(id="lost", name="Closed lost", order=6, kind="lost"),
        ),
    )


#: Deals are created over at most this many days (a century) before ``as_of``.
_MAX_DAYS = 36_525


def _checked(n_deals: Any, days: Any) -> tuple[int, float]:
    """The deal count and the creation window, checked (shared by both generators)."""
    n = check_integer(n_deals, "n_deals", minimum=1, maximum=10_000_000)
    return n, check_number(days, "days", minimum=0, maximum=_MAX_DAYS, exclusive_minimum=True)


def _aware_as_of(as_of: Any) -> dt.datetime:
    """``as_of`` as a timezone-aware datetime (an ISO 8601 string with an offset is read)."""
    value = parse_timestamp(as_of, field="as_of") if isinstance(as_of, str) else as_of
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ArgumentError(
            f"as_of must be a timezone-aware datetime (e.g. '2024-12-31T00:00:00Z'), got {as_of!r}",
            field="as_of",
        )
    return value


def _as_of_day(as_of: Any) -> np.datetime64:
    """The calendar day of ``as_of`` (a date, datetime, ``datetime64`` or ISO 8601 string)."""
    value = parse_timestamp(as_of, field="as_of") if isinstance(as_of, str) else as_of
    if isinstance(value, np.datetime64) and not np.isnat(value):
        day: np.datetime64 = value.astype("datetime64[D]")
        return day
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        raise ArgumentError(
            f"as_of must be a date or an ISO 8601 date such as '2024-12-31', got {as_of!r}",
            field="as_of",
        )
    return np.datetime64(value, "D")


def _simulate(
    n_deals: int, rng: np.random.Generator, horizon_days: float
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Vectorised chain: (deal index, stage code, entry time in days since start, created)."""
    n_open = len(TRUE_SOJOURN_DAYS)
    cum = np.zeros((n_open, len(STAGES)))
    for i, s in enumerate(STAGES[:n_open]):
        row = np.array([TRUE_TRANSITIONS[s].get(t, 0.0) for t in STAGES])
        cum[i] = np.cumsum(row)
    cum[:, -1] = 1.0  # guard against rounding
    means = np.array([TRUE_SOJOURN_DAYS[s] for s in STAGES[:n_open]])
    created = np.sort(rng.uniform(0.0, horizon_days, n_deals))
    idx = [np.arange(n_deals)]
    codes = [np.zeros(n_deals, dtype=np.int64)]
    times = [created]
    active = np.arange(n_deals)
    state = np.zeros(n_deals, dtype=np.int64)
    now = created.copy()
    while active.size:
        t_next = now + rng.exponential(means[state])
        keep = t_next <= horizon_days  # the rest are censored in their current stage
        active, state, t_next = active[keep], state[keep], t_next[keep]
        u = rng.random(active.size)
        nxt = (u[:, None] >= cum[state]).sum(axis=1)
        idx.append(active)
        codes.append(nxt)
        times.append(t_next)
        still = nxt < n_open
        active, state, now = active[still], nxt[still], t_next[still]
    deal = np.concatenate(idx)
    code = np.concatenate(codes)
    when = np.concatenate(times)
    order = np.lexsort((when, deal))
    return deal[order], code[order], when[order], created


@attrs.frozen
class DealsDataset:
    """A synthetic pipeline: the pipeline, its deals and the true dynamics behind them.

    Examples
    --------
    >>> data = make_deals(n_deals=20, seed=1)
    >>> len(data.deals), data.pipeline.id
    (20, 'sales')
    """

    pipeline: Pipeline
    deals: tuple[Deal, ...]
    as_of: dt.datetime
    true_transitions: dict[str, dict[str, float]]
    true_sojourn_days: dict[str, float]

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict of the dataset (deals and pipeline as JSON-mode dumps)."""
        return {
            "pipeline": self.pipeline.model_dump(mode="json"),
            "deals": [d.model_dump(mode="json") for d in self.deals],
            "as_of": self.as_of.isoformat(),
            "true_transitions": self.true_transitions,
            "true_sojourn_days": self.true_sojourn_days,
        }


@boundary
def make_deals(
    n_deals: int = 300,
    *,
    seed: int | np.random.Generator | None = None,
    as_of: dt.datetime | str = dt.datetime(2024, 12, 31, tzinfo=_UTC),
    days: float = 540.0,
) -> DealsDataset:
    """Simulate ``n_deals`` deals created over the ``days`` before ``as_of``.

    Each deal has an owner, a source, a segment, a ``champion`` flag (drawn with
    :data:`TRUE_CHAMPION_RATE` given the outcome), an amount in USD, an expected close date (some
    of which slip), a stage history that the pipeline accepts on replay, a lost reason when
    lost, and a next follow-up date while open.

    Examples
    --------
    >>> data = make_deals(n_deals=50, seed=3)
    >>> sorted({d.closed or "open" for d in data.deals})
    ['lost', 'open', 'won']
    """
    n_deals, days = _checked(n_deals, days)
    as_of = _aware_as_of(as_of)
    rng = check_seed(seed)
    pipeline = standard_pipeline()
    deal_idx, codes, when, _ = _simulate(n_deals, rng, days)
    start = as_of - dt.timedelta(days=days)
    bounds = np.searchsorted(deal_idx, np.arange(n_deals + 1))
    deals = []
    for i in range(n_deals):
        lo, hi = int(bounds[i]), int(bounds[i + 1])
        at = [start + dt.timedelta(days=float(np.floor(t * 24)) / 24) for t in when[lo:hi]]
        stages = [STAGES[c] for c in codes[lo:hi]]
        owner = _OWNERS[int(rng.integers(len(_OWNERS)))]
        final = stages[-1]
        lost_reason = _LOST_REASONS[int(rng.integers(len(_LOST_REASONS)))]
        history = []
        for j, (t, s) in enumerate(zip(at, stages, strict=True)):
            history.append(
                StageChange(
                    at=t,
                    from_stage=stages[j - 1] if j else None,
                    to_stage=s,
                    actor=owner,
                    reason=lost_reason if s == "lost" else None,
                )
            )
        closed = final if final in ("won", "lost") else None
        # planned cycle of ~60 days; a third of deals slip past it
        expected = (at[0] + dt.timedelta(days=float(rng.normal(60, 15)))).date()
        follow_up = None
        if closed is None:
            follow_up = as_of + dt.timedelta(days=float(rng.integers(-20, 15)))
        deals.append(
            Deal(
                id=f"D{i + 1:05d}",
                pipeline_id=pipeline.id,
                account_id=f"A{int(rng.integers(1, max(2, n_deals // 3) + 1)):04d}",
                owner=owner,
                amount=Decimal(int(np.round(rng.lognormal(9.5, 0.8), -2)) + 100),
                currency="USD",
                stage=final,
                history=tuple(history),
                closed=closed,
                expected_close=expected,
                lost_reason=lost_reason if closed == "lost" else None,
                last_open_stage=stages[-2] if closed else None,
                next_follow_up=follow_up,
                source=_SOURCES[int(rng.integers(len(_SOURCES)))],
                fields={
                    "segment": _SEGMENTS[int(rng.integers(len(_SEGMENTS)))],
                    "champion": bool(rng.random() < TRUE_CHAMPION_RATE.get(closed or "", 0.5)),
                },
            )
        )
    return DealsDataset(
        pipeline=pipeline,
        deals=tuple(deals),
        as_of=as_of,
        true_transitions={k: dict(v) for k, v in TRUE_TRANSITIONS.items()},
        true_sojourn_days=dict(TRUE_SOJOURN_DAYS),
    )


@boundary
def make_stage_events(
    n_deals: int,
    *,
    seed: int | np.random.Generator | None = None,
    as_of: str | dt.date = "2024-12-31",
    days: float = 540.0,
) -> dict[str, NDArray[Any]]:
    """Simulate the process for many deals at once and return a stage-event table.

    Returns a dict of numpy columns ``deal_id`` (int64), ``stage`` (str) and ``entered_at``
    (``datetime64[us]`` wall-clock UTC: pass ``tz="UTC"`` to the analytics), sorted by deal and
    time. About 3.4 events per deal.

    Examples
    --------
    >>> ev = make_stage_events(100, seed=0)
    >>> sorted(ev), ev["stage"][0]
    (['deal_id', 'entered_at', 'stage'], 'lead')
    """
    n_deals, days = _checked(n_deals, days)
    day = _as_of_day(as_of)
    rng = check_seed(seed)
    deal_idx, codes, when, _ = _simulate(n_deals, rng, days)
    start = day.astype("datetime64[us]") + np.timedelta64(1, "D")
    start = start - np.timedelta64(int(days * 86_400_000_000), "us")
    offsets = np.round(when * 86_400_000_000).astype(np.int64).astype("timedelta64[us]")
    return {
        "deal_id": deal_idx.astype(np.int64),
        "stage": np.asarray(STAGES, dtype=object)[codes],
        "entered_at": start + offsets,
    }
