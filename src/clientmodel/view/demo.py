"""The day's plan for a small company, both halves joined, from the caller's synthetic data.

:func:`demo_day_plan` takes what :func:`clientmodel.datasets.consumers.make_consumers` and
:func:`clientmodel.datasets.accounts.make_accounts` draw (it does not import
:mod:`clientmodel.datasets`, which sits above this package) and runs the whole flow: fold the
events into profiles, give each consumer an owner (and let one staff member leave), summarise the
purchases, fit a BG/NBD model, score RFM and lifecycle, time the next purchase, link a few
consumers to B2B contacts (the same phone number, spelled differently), build every view and plan
the day with :data:`~clientmodel.view.DEFAULT_PLAYBOOK` and a 10 % holdout.

The command-line demo prints it::

    from clientmodel.datasets.accounts import make_accounts
    from clientmodel.datasets.consumers import make_consumers
    from clientmodel.view import demo_day_plan

    consumers = make_consumers(300, seed=0)
    accounts = make_accounts(8, seed=0, as_of=consumers.as_of)
    print(demo_day_plan(consumers, accounts).render())
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np

from clientmodel._validation import boundary
from clientmodel.errors import ArgumentError, ClientModelError
from clientmodel.ltv import BGNBD
from clientmodel.profile import (
    Event,
    Profile,
    StaffMember,
    apply,
    end_relationship,
    normalize_phone,
    start_relationship,
)
from clientmodel.segments import (
    default_segment_map,
    fit_rfm,
    lifecycle_from_summary,
    rfm_from_summary,
)
from clientmodel.transactions import summarize
from clientmodel.view.actions import DEFAULT_PLAYBOOK, ContactPressure
from clientmodel.view.book import Book
from clientmodel.view.evaluation import Holdout
from clientmodel.view.link import ContactIdentifiers, link
from clientmodel.view.plan import DayPlan, day_plan
from clientmodel.view.record import CustomerView, customer_view
from clientmodel.view.timing import Timing, engagement_hours, timing_table
from clientmodel.view.viewer import SYSTEM, Viewer

__all__ = ["DEMO_STAGE_PROBABILITY", "demo_day_plan", "demo_views"]

#: Win probability by stage of the synthetic deals (the stage-default layer of a funnel).
DEMO_STAGE_PROBABILITY: Mapping[str, float] = {
    "qualify": 0.1,
    "discover": 0.25,
    "propose": 0.5,
    "negotiate": 0.75,
}


def _column(table: Any, name: str) -> list[Any]:
    return list(np.asarray(table[name]).tolist())


_CONSUMER_PARTS = ("as_of", "event_records", "events", "identifiers", "profiles", "staff")
_ACCOUNT_PARTS = ("accounts", "contacts", "team", "relationships", "roles", "deals")


def _check_dataset(value: Any, field: str, maker: str, parts: tuple[str, ...]) -> None:
    # duck-typed: this package sits below clientmodel.datasets and cannot import its classes
    missing = [p for p in parts if not hasattr(value, p)]
    if missing:
        raise ArgumentError(
            f"{field} must be what clientmodel.datasets.{maker} returns, got "
            f"{type(value).__name__} (it has no {', '.join(missing)})",
            field=field,
        )


@boundary
def demo_day_plan(
    consumers: Any,
    accounts: Any,
    *,
    seed: int = 0,
    capacity: int = 15,
    tz: str = "Asia/Shanghai",
) -> DayPlan:
    """Plan the synthetic company's day (see the module notes for the flow).

    Parameters
    ----------
    consumers:
        A ``ConsumerDataset`` (``make_consumers``).
    accounts:
        An ``AccountsDataset`` (``make_accounts``), ideally drawn for the consumers' ``as_of``.
    seed:
        Seed of the holdout group.
    capacity:
        Tasks per staff member.
    tz:
        The customers' time zone (engagement hours, quiet hours).

    Examples
    --------
    >>> from clientmodel.datasets.accounts import make_accounts
    >>> from clientmodel.datasets.consumers import make_consumers
    >>> consumers = make_consumers(120, seed=0)
    >>> plan = demo_day_plan(consumers, make_accounts(4, seed=0, as_of=consumers.as_of))
    >>> plan.n_tasks > 0 and plan.render().startswith("Day plan for 2024-06-29")
    True
    """
    views, staff = demo_views(consumers, accounts, tz=tz)  # checks both datasets
    return day_plan(
        views,
        DEFAULT_PLAYBOOK,
        as_of=consumers.as_of + dt.timedelta(hours=1),  # 09:00 in Shanghai
        staff=staff,
        capacity=capacity,
        pressure=ContactPressure(tz=tz),
        holdout=Holdout(seed=seed, share=0.1),
    )


@boundary
def demo_views(
    consumers: Any,
    accounts: Any,
    *,
    viewer: Viewer = SYSTEM,
    tz: str = "Asia/Shanghai",
) -> tuple[list[CustomerView], list[StaffMember]]:
    """Every consumer's view of the synthetic company for ``viewer``, and the staff list.

    The staff list is the consumers' staff with the first member marked as having left.

    Examples
    --------
    >>> from clientmodel.datasets.accounts import make_accounts
    >>> from clientmodel.datasets.consumers import make_consumers
    >>> consumers = make_consumers(60, seed=0)
    >>> views, staff = demo_views(consumers, make_accounts(3, seed=0, as_of=consumers.as_of))
    >>> len(views), staff[0].active
    (60, False)
    """
    _check_dataset(consumers, "consumers", "make_consumers", _CONSUMER_PARTS)
    _check_dataset(accounts, "accounts", "make_accounts", _ACCOUNT_PARTS)
    as_of: dt.datetime = consumers.as_of
    by_person: dict[str, list[Event]] = {}
    for event in consumers.event_records():
        by_person.setdefault(str(event.profile_id), []).append(event)
    phones = _crm_phones(consumers.identifiers)

    # ---- staff: one pool member has left; their customers need a new owner
    staff = list(consumers.staff)
    leaver = staff[0].staff_id
    staff[0] = StaffMember(staff_id=leaver, team=staff[0].team, active=False)
    pool = [s.staff_id for s in consumers.staff if s.staff_id != "lead"]
    profiles: dict[str, Profile] = {}
    for i, bare in enumerate(consumers.profiles):
        pid = bare.profile_id
        events = by_person.get(pid, [])
        data = bare.model_dump()
        if pid in phones:
            data["identifiers"] = [{"kind": "phone", "value": phones[pid]}]
        profile = Profile.model_validate(data)
        joined = events[0].timestamp if events else as_of - dt.timedelta(days=30)
        owner = pool[i % len(pool)]
        profile = start_relationship(profile, owner, at=joined, how="code_scan")
        if owner == leaver:
            profile = end_relationship(
                profile, owner, at=as_of - dt.timedelta(days=1), reason="staff_left"
            )
        profile, _ = apply(profile, events, as_of=as_of)
        profiles[pid] = profile

    # ---- purchases: summary, model, scores, segments, timing
    ev = consumers.events
    bought = np.flatnonzero(ev["type"] == "purchase")
    seen: set[str] = set()
    keep = []
    for r in bought.tolist():  # one row per purchase event (a purchase may carry two topics)
        if ev["event_id"][r] not in seen:
            seen.add(ev["event_id"][r])
            keep.append(r)
    log = {
        "customer_id": ev["profile_id"][keep],
        "timestamp": ev["timestamp"][keep],
        "amount": ev["value"][keep],
    }
    summary = summarize(log, as_of=as_of, unit="W", amount="amount", tz="UTC")
    ids = [str(v) for v in _column(summary, "customer_id")]
    model: BGNBD | None
    try:
        # these consumers never drop out (a -> 0 at the boundary): a light penalty keeps the
        # fit inside, where its standard errors exist
        model = BGNBD.fit(summary, penalizer=0.01)
    except (ClientModelError, OverflowError):
        # OverflowError: ltv's interval code can overflow on a tiny base (reported upstream);
        # the views then say the prediction and the model window are missing
        model = None
    scores: dict[str, dict[str, float]] = {}
    if model is not None:
        alive = np.asarray(model.p_alive(summary))
        month = np.asarray(model.expected_purchases(summary, 4.0))
        year = np.asarray(model.expected_purchases(summary, 52.0))
        money = np.nan_to_num(np.asarray(summary["monetary_value"], dtype=float))
        for k, pid in enumerate(ids):
            scores[pid] = {
                "p_alive": float(alive[k]),
                "churn_risk": float(1.0 - alive[k]),
                "expected_purchases": float(month[k]),
                # a simple one-year, undiscounted CLV: expected purchases x mean order value
                "clv": float(year[k] * money[k]),
            }
    rfm = fit_rfm(rfm_from_summary(summary, unit="W"), k=5)
    scored = rfm.score(rfm_from_summary(summary, unit="W"), segments=default_segment_map())
    stages = lifecycle_from_summary(summary, as_of=as_of, tz="UTC")
    segments = {
        pid: {"rfm_score": str(code), "rfm_segment": str(seg), "lifecycle": str(stage)}
        for pid, code, seg, stage in zip(
            ids,
            _column(scored, "rfm"),
            _column(scored, "segment"),
            _column(stages, "stage"),
            strict=True,
        )
    }
    timing_rows = timing_table(summary, model=model, typical_gap=4.0, key="customer_id")
    timings: dict[str, Timing] = {}
    for k, pid in enumerate(ids):
        row = {c: _column(timing_rows, c)[k] for c in ("q25", "next_purchase_median", "q75")}
        gap = _column(timing_rows, "cadence_gap")[k]
        timings[pid] = Timing(
            q25=_num(row["q25"]),
            median=_num(row["next_purchase_median"]),
            q75=_num(row["q75"]),
            cadence_gap=_num(gap),
            due_in=_num(_column(timing_rows, "due_in")[k]),
            due=_column(timing_rows, "due")[k],
            overdue=_column(timing_rows, "overdue")[k],
            engagement_hours=engagement_hours(by_person.get(pid, []), tz=tz),
        )

    # ---- the B2B side: a few consumers are also contacts at an account
    book = Book(
        accounts.accounts,
        accounts.contacts,
        accounts.team,
        accounts.relationships,
        accounts.roles,
        accounts.deals,
        probabilities={
            d.id: DEMO_STAGE_PROBABILITY.get(str(d.stage), 0.1)
            for d in accounts.deals
            if d.status == "open"
        },
    )
    committee = sorted({r.contact_id for r in accounts.roles})
    linked = sorted(phones)[:: max(1, len(phones) // 8)][: len(committee)]
    cards = [
        ContactIdentifiers(contact_id=cid, phones=("0" + phones[pid][3:],))  # national spelling
        for cid, pid in zip(committee, linked, strict=False)
    ]
    links = link(cards, profiles.values())

    views = [
        customer_view(
            pid,
            as_of=as_of,
            viewer=viewer,
            profile=profile,
            summary=_row(summary, ids, pid),
            segment=segments.get(pid),
            scores=scores.get(pid),
            timing=timings.get(pid),
            book=book,
            links=links,
            staff=staff,
        )
        for pid, profile in sorted(profiles.items())
    ]
    return views, staff


def _num(value: Any) -> float | None:
    return None if value is None or value != value else float(value)


def _row(summary: Any, ids: list[str], pid: str) -> dict[str, float] | None:
    if pid not in ids:
        return None
    k = ids.index(pid)
    return {c: float(_column(summary, c)[k]) for c in ("frequency", "recency", "T")} | {
        "monetary_value": float(np.nan_to_num(_column(summary, "monetary_value")[k]))
    }


def _crm_phones(identifiers: Mapping[str, Any]) -> dict[str, str]:
    """person id -> normalised CRM phone number."""
    out: dict[str, str] = {}
    for rec, kind, value in zip(
        identifiers["record_id"], identifiers["kind"], identifiers["value"], strict=True
    ):
        if kind == "phone" and str(rec).startswith("crm-"):
            out[str(rec)[4:]] = normalize_phone(str(value))
    return out
