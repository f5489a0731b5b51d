"""The customer 360 view: one frozen record per person, joining the process and the people halves.

:class:`CustomerView` has one optional part per question the front line asks:

=================  =====================================================================
part               what it says (and where it comes from)
=================  =====================================================================
``identity``       profile id, linked contact ids, identifiers (masked unless the viewer
                   may see them) -- :class:`~clientmodel.profile.Profile`, :class:`Links`
``contact``        consent per channel and the channels contactable at ``as_of``
``relationships``  owners and every staff relationship with its follow-up state; private
                   tags and notes of the viewer's own relationship only
``tags``           company tags
``interests``      top interests (decayed to ``as_of``) and the intent score
``sources``        first-touch and last-touch source
``purchases``      the purchase summary: frequency, recency, ``T``, monetary value
``segment``        RFM score and segment, lifecycle stage
``prediction``     P(alive), churn risk, expected purchases next period, CLV
``timing``         the right moment (:mod:`clientmodel.view.timing`)
``accounts``       accounts and buying roles of the linked contacts
``deals``          open deals whose committee the person sits on: stage, win probability,
                   committee status
``warm_path``      the strongest introduction path from our team
=================  =====================================================================

:func:`customer_view` builds it from whatever the caller has; a part whose inputs were not given
is ``None`` and named in ``missing`` -- never invented. :func:`flatten` turns a view into the
flat record (:data:`FLAT_FIELDS`) that rules, playbooks and the table face
(:func:`clientmodel.view.view_table`) use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from clientmodel._validation import boundary, check_number
from clientmodel.accounts import DECISION_ROLES
from clientmodel.errors import ArgumentError, DataError
from clientmodel.profile import Profile, StaffMember, can_contact, interest_at
from clientmodel.view._common import aware, mask
from clientmodel.view.book import Book
from clientmodel.view.link import Links
from clientmodel.view.timing import Timing
from clientmodel.view.viewer import SYSTEM, Viewer

__all__ = [
    "FLAT_FIELDS",
    "PARTS",
    "AccountSeat",
    "ChannelConsent",
    "Contactability",
    "CustomerView",
    "DealSeat",
    "Identity",
    "Interests",
    "Prediction",
    "Purchases",
    "Relationships",
    "SegmentPart",
    "Sources",
    "StaffLink",
    "TopicScore",
    "ViewIdentifier",
    "WarmPath",
    "customer_view",
    "flatten",
]

_CONFIG = ConfigDict(frozen=True, extra="forbid")
_Prob = Field(ge=0.0, le=1.0)


class ViewIdentifier(BaseModel):
    """An identifier as the viewer sees it: its kind and its value, masked or in clear."""

    model_config = _CONFIG

    kind: str
    value: str
    masked: bool


class Identity(BaseModel):
    """Who the person is: profile id, linked B2B contacts and identifiers."""

    model_config = _CONFIG

    profile_id: str | None = None
    contact_ids: tuple[str, ...] = ()
    identifiers: tuple[ViewIdentifier, ...] = ()


class ChannelConsent(BaseModel):
    """Consent on one channel: ``granted``, ``denied``, ``expired``, ``pending`` or ``conflict``."""

    model_config = _CONFIG

    channel: str
    status: str


class Contactability(BaseModel):
    """Consent per channel and the channels the person may be contacted on at ``as_of``."""

    model_config = _CONFIG

    consent: tuple[ChannelConsent, ...] = ()
    channels: tuple[str, ...] = ()


class StaffLink(BaseModel):
    """One staff member's relationship as the viewer may see it.

    ``private_tags`` and ``notes`` are filled only for the viewer's own relationship.
    ``staff_active`` is ``False`` when the staff list says the member left.
    """

    model_config = _CONFIG

    staff_id: str
    active: bool
    follow_up: str
    follow_up_at: AwareDatetime | None = None
    started_at: AwareDatetime
    end_reason: str | None = None
    staff_active: bool | None = None
    private_tags: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


class Relationships(BaseModel):
    """Owners (active relationships with staff still here) and every relationship.

    ``owner_left``: the person had an owner who left (relationship ended with ``staff_left``, or
    the staff member is inactive) and has no owner now -- somebody must take them over;
    ``previous_owner`` is then the last such owner (by start of the relationship).
    """

    model_config = _CONFIG

    owners: tuple[str, ...] = ()
    owner_left: bool = False
    previous_owner: str | None = None
    relationships: tuple[StaffLink, ...] = ()


class TopicScore(BaseModel):
    """An interest topic and its decayed score."""

    model_config = _CONFIG

    topic: str
    score: float


class Interests(BaseModel):
    """Top interests (highest first) and the intent score at ``as_of``."""

    model_config = _CONFIG

    top: tuple[TopicScore, ...] = ()
    intent: float = _Prob


class Sources(BaseModel):
    """First-touch and last-touch source (channel code, else campaign, else channel)."""

    model_config = _CONFIG

    first_touch: str | None = None
    first_touch_at: AwareDatetime | None = None
    last_touch: str | None = None
    last_touch_at: AwareDatetime | None = None


class Purchases(BaseModel):
    """The purchase summary in the caller's time unit (``since_purchase`` = ``T - recency``)."""

    model_config = _CONFIG

    frequency: float = Field(ge=0)
    recency: float = Field(ge=0)
    T: float = Field(ge=0)
    monetary_value: float | None = None

    @property
    def since_purchase(self) -> float:
        """Time since the last purchase (``T - recency``)."""
        return self.T - self.recency


class SegmentPart(BaseModel):
    """RFM score and segment name, lifecycle stage."""

    model_config = _CONFIG

    rfm_score: str | None = None
    rfm_segment: str | None = None
    lifecycle: str | None = None


class Prediction(BaseModel):
    """What the transaction model says: P(alive), churn risk, expected purchases, CLV."""

    model_config = _CONFIG

    p_alive: float | None = Field(default=None, ge=0.0, le=1.0)
    churn_risk: float | None = Field(default=None, ge=0.0, le=1.0)
    expected_purchases: float | None = Field(default=None, ge=0.0)
    clv: float | None = None


class AccountSeat(BaseModel):
    """An account the person works at (through a linked contact) and their buying roles there."""

    model_config = _CONFIG

    contact_id: str
    account_id: str
    roles: tuple[str, ...] = ()


class DealSeat(BaseModel):
    """An open deal whose buying committee the person sits on."""

    model_config = _CONFIG

    deal_id: str
    account_id: str
    contact_id: str
    role: str
    stance: str
    stage: str | None = None
    amount: Decimal
    currency: str
    win_probability: float | None = Field(default=None, ge=0.0, le=1.0)
    committee_status: str


class WarmPath(BaseModel):
    """The strongest warm introduction path from our team to one of the person's contacts."""

    model_config = _CONFIG

    contact_id: str
    people: tuple[str, ...]
    strength: float = _Prob
    explanation: str


#: The optional parts of a view, in order.
PARTS: tuple[str, ...] = (
    "identity",
    "contact",
    "relationships",
    "tags",
    "interests",
    "sources",
    "purchases",
    "segment",
    "prediction",
    "timing",
    "accounts",
    "deals",
    "warm_path",
)


class CustomerView(BaseModel):
    """One person seen whole, for one viewer at one moment (see the module notes).

    Every part is optional; ``missing`` names the parts whose inputs were not given.

    Examples
    --------
    >>> import datetime as dt
    >>> v = CustomerView(person_id="p1", as_of=dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc),
    ...                  missing=PARTS)
    >>> v.purchases is None, "purchases" in v.missing
    (True, True)
    >>> CustomerView.model_validate_json(v.model_dump_json()) == v
    True
    """

    model_config = _CONFIG

    person_id: str = Field(min_length=1, max_length=200)
    as_of: AwareDatetime
    viewer: str | None = None
    identity: Identity | None = None
    contact: Contactability | None = None
    relationships: Relationships | None = None
    tags: tuple[str, ...] | None = None
    interests: Interests | None = None
    sources: Sources | None = None
    purchases: Purchases | None = None
    segment: SegmentPart | None = None
    prediction: Prediction | None = None
    timing: Timing | None = None
    accounts: tuple[AccountSeat, ...] | None = None
    deals: tuple[DealSeat, ...] | None = None
    warm_path: WarmPath | None = None
    missing: tuple[str, ...] = ()


# ------------------------------------------------------------------------- the parts of a profile
def _consent(profile: Profile, as_of: dt.datetime) -> Contactability:
    rows = []
    for channel in sorted({*profile.consent, *profile.consent_conflicts}):
        if channel in profile.consent_conflicts:
            status = "conflict"
        else:
            c = profile.consent[channel]
            if c.at > as_of:
                status = "pending"
            elif c.status == "granted" and c.expires_at is not None and as_of >= c.expires_at:
                status = "expired"
            else:
                status = c.status
        rows.append(ChannelConsent(channel=channel, status=status))
    channels = tuple(c.channel for c in rows if can_contact(profile, c.channel, as_of=as_of))
    return Contactability(consent=tuple(rows), channels=channels)


def _relationships(
    profile: Profile, viewer: Viewer, staff: Mapping[str, StaffMember] | None
) -> Relationships:
    links = []
    for rel in profile.relationships:
        here = None if staff is None or rel.staff_id not in staff else staff[rel.staff_id].active
        own = viewer.sees_private(rel.staff_id)
        links.append(
            StaffLink(
                staff_id=rel.staff_id,
                active=rel.active,
                follow_up=rel.follow_up,
                follow_up_at=rel.follow_up_at,
                started_at=rel.started_at,
                end_reason=rel.end_reason,
                staff_active=here,
                private_tags=tuple(t.tag for t in rel.tags) if own else (),
                notes=tuple(n.text for n in rel.notes) if own else (),
            )
        )
    owners = tuple(x.staff_id for x in links if x.active and x.staff_active is not False)
    gone = [x for x in links if x.end_reason == "staff_left" or x.staff_active is False]
    orphan = bool(gone) and not owners
    previous = max(gone, key=lambda x: (x.started_at, x.staff_id)).staff_id if orphan else None
    return Relationships(
        owners=owners, owner_left=orphan, previous_owner=previous, relationships=tuple(links)
    )


def _interests(profile: Profile, as_of: dt.datetime, top: int) -> Interests:
    act = profile.activity
    scores = interest_at(profile, as_of) if act.as_of is not None else {}
    best = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    intent = 0.0
    if act.as_of is not None and act.intent_mass > 0:
        # the same decay the profile applies to its interest scores, read at as_of
        from clientmodel.profile import intent_at

        intent = intent_at(profile, as_of)
    return Interests(
        top=tuple(TopicScore(topic=k, score=float(v)) for k, v in best if v > 0), intent=intent
    )


def _sources(profile: Profile) -> Sources:
    ft, lt = profile.first_touch, profile.last_touch
    return Sources(
        first_touch=None if ft is None else ft.source,
        first_touch_at=None if ft is None else ft.at,
        last_touch=None if lt is None else lt.source,
        last_touch_at=None if lt is None else lt.at,
    )


def _identity(profile: Profile | None, contact_ids: tuple[str, ...], viewer: Viewer) -> Identity:
    clear = viewer.sees_identifiers
    idents: tuple[ViewIdentifier, ...] = ()
    if profile is not None:
        idents = tuple(
            ViewIdentifier(
                kind=i.kind.value,
                value=i.value if clear or i.hashed else mask(i.value),
                masked=not (clear or i.hashed),
            )
            for i in profile.identifiers
        )
    return Identity(
        profile_id=None if profile is None else profile.profile_id,
        contact_ids=contact_ids,
        identifiers=idents,
    )


# ------------------------------------------------------------------------- the B2B parts
def _b2b(
    book: Book, contact_ids: tuple[str, ...], as_of: dt.datetime
) -> tuple[tuple[AccountSeat, ...], tuple[DealSeat, ...], WarmPath | None]:
    seats = tuple(
        AccountSeat(contact_id=cid, account_id=acc, roles=roles)
        for cid in contact_ids
        for acc, roles in book.account_roles(cid).items()
    )
    deals = tuple(
        DealSeat(
            deal_id=deal.id,
            account_id=deal.account_id,
            contact_id=cid,
            role=role.role,
            stance=role.stance,
            stage=deal.stage,
            amount=deal.amount,
            currency=deal.currency,
            win_probability=book.probabilities.get(deal.id),
            committee_status=book.committee_status(deal.id, as_of),
        )
        for cid, deal, role in book.seats(contact_ids)
    )
    best = book.best_path(c for c in contact_ids if book.contact(c).active)
    path = None
    if best is not None:
        cid, (people, strength, text) = best
        path = WarmPath(
            contact_id=cid, people=people, strength=min(1.0, strength), explanation=text
        )
    return seats, deals, path


# ------------------------------------------------------------------------- inputs
def _numbers(
    data: Mapping[str, Any] | None, names: tuple[str, ...], what: str, optional: tuple[str, ...]
) -> dict[str, float | None] | None:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise ArgumentError(
            f"{what} must be a mapping of {list(names)}; got {type(data).__name__}", field=what
        )
    out: dict[str, float | None] = {}
    for name in names:
        value = data.get(name)
        if value is None or (isinstance(value, float) and value != value):
            if name in optional:
                out[name] = None
                continue
            raise ArgumentError(
                f"{what}[{name!r}] is missing; {what} needs "
                f"{[n for n in names if n not in optional]}",
                field=f"{what}.{name}",
            )
        out[name] = check_number(value, f"{what}.{name}")
    return out


def _text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None or (isinstance(value, float) and value != value):
        return None
    return str(value)


@boundary
def customer_view(
    person_id: str,
    *,
    as_of: dt.datetime,
    viewer: Viewer = SYSTEM,
    profile: Profile | None = None,
    summary: Mapping[str, Any] | None = None,
    segment: Mapping[str, Any] | None = None,
    scores: Mapping[str, Any] | None = None,
    timing: Timing | None = None,
    book: Book | None = None,
    links: Links | None = None,
    contact_ids: Iterable[str] | None = None,
    staff: Iterable[StaffMember] | None = None,
    top_interests: int = 3,
) -> CustomerView:
    """Build the view of one person from whatever the caller has.

    Parameters
    ----------
    person_id:
        The person (normally the profile id).
    as_of:
        The moment the view describes (timezone-aware); consent, interest decay and committee
        engagement are read at it.
    viewer:
        Who will see the view (default: a system viewer that sees no identifier and no private
        note). See :class:`~clientmodel.view.Viewer`.
    profile:
        The consumer profile: identity, contact, relationships, tags, interests, sources.
    summary:
        ``frequency``, ``recency``, ``T`` and optionally ``monetary_value`` (one row of
        :func:`clientmodel.transactions.summarize`).
    segment:
        ``rfm_score``, ``rfm_segment``, ``lifecycle`` (any may be absent).
    scores:
        ``p_alive``, ``churn_risk``, ``expected_purchases``, ``clv`` (any may be absent), e.g.
        from a fitted :mod:`clientmodel.ltv` model.
    timing:
        The right moment, from :func:`clientmodel.view.purchase_timing`.
    book, links, contact_ids:
        The B2B side: the account book, and the person's contacts (``contact_ids``, or those
        ``links`` maps to ``person_id``).
    staff:
        The staff list, to tell owners who left from owners still here.
    top_interests:
        How many interests to show.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)
    >>> v = customer_view("p1", as_of=t, summary={"frequency": 2, "recency": 30, "T": 40},
    ...                   scores={"p_alive": 0.8})
    >>> v.purchases.since_purchase, v.prediction.p_alive, v.prediction.churn_risk
    (10.0, 0.8, None)
    >>> v.missing[:3]
    ('identity', 'contact', 'relationships')
    """
    as_of = aware(as_of, "as_of")
    if not isinstance(viewer, Viewer):
        raise ArgumentError(
            f"viewer must be a clientmodel.view.Viewer, got {type(viewer).__name__}",
            field="viewer",
        )
    if profile is not None and not isinstance(profile, Profile):
        raise ArgumentError(
            f"profile must be a clientmodel.profile.Profile, got {type(profile).__name__}",
            field="profile",
        )
    if contact_ids is not None:
        cids = tuple(sorted(set(contact_ids)))
    elif links is not None:
        cids = links.contacts_of(person_id)
    else:
        cids = ()
    staff_map = None if staff is None else {s.staff_id: s for s in staff}
    parts: dict[str, Any] = {}
    if profile is not None or cids:
        parts["identity"] = _identity(profile, cids, viewer)
    if profile is not None:
        parts["contact"] = _consent(profile, as_of)
        parts["relationships"] = _relationships(profile, viewer, staff_map)
        parts["tags"] = tuple(sorted(profile.tag_ids))
        parts["interests"] = _interests(profile, as_of, top_interests)
        parts["sources"] = _sources(profile)
    numbers = _numbers(
        summary, ("frequency", "recency", "T", "monetary_value"), "summary", ("monetary_value",)
    )
    if numbers is not None:
        parts["purchases"] = numbers
    if segment is not None:
        parts["segment"] = SegmentPart(
            rfm_score=_text(segment, "rfm_score"),
            rfm_segment=_text(segment, "rfm_segment"),
            lifecycle=_text(segment, "lifecycle"),
        )
    names = ("p_alive", "churn_risk", "expected_purchases", "clv")
    predicted = _numbers(scores, names, "scores", names)
    if predicted is not None:
        parts["prediction"] = predicted
    if timing is not None:
        parts["timing"] = timing
    if book is not None and (links is not None or contact_ids is not None):
        parts["accounts"], parts["deals"], parts["warm_path"] = _b2b(book, cids, as_of)
        if parts["warm_path"] is None:
            del parts["warm_path"]
    missing = tuple(p for p in PARTS if p not in parts)
    try:
        return CustomerView(
            person_id=person_id, as_of=as_of, viewer=viewer.staff_id, missing=missing, **parts
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise DataError(
            f"customer_view({person_id!r}): {problems}", field=str(exc.errors()[0]["loc"][0])
        ) from None


# ------------------------------------------------------------------------- the flat record
#: The fields of the flat record (:func:`flatten`), the columns of the table face, and the
#: names playbook rules may use.
FLAT_FIELDS: tuple[str, ...] = (
    "person_id",
    "owner",
    "owner_left",
    "previous_owner",
    "follow_up",
    "tags",
    "contactable",
    "top_interest",
    "intent",
    "first_touch",
    "last_touch",
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "since_purchase",
    "rfm_score",
    "rfm_segment",
    "lifecycle",
    "p_alive",
    "churn_risk",
    "expected_purchases",
    "clv",
    "next_purchase_median",
    "cadence_gap",
    "due",
    "overdue",
    "n_accounts",
    "n_open_deals",
    "open_deal_amount",
    "best_win_probability",
    "decision_maker",
    "committee_status",
    "warm_path_strength",
)

_STATUS_RANK = {"red": 0, "amber": 1, "green": 2}


@boundary
def b2b_fields(
    accounts: tuple[AccountSeat, ...] | None,
    deals: tuple[DealSeat, ...] | None,
    path: WarmPath | None,
) -> dict[str, Any]:
    """The flat B2B fields of a view's accounts, deals and warm path (shared by both faces)."""
    if accounts is None or deals is None:
        return dict.fromkeys(
            (
                "n_accounts",
                "n_open_deals",
                "open_deal_amount",
                "best_win_probability",
                "decision_maker",
                "committee_status",
                "warm_path_strength",
            )
        )
    by_deal: dict[str, DealSeat] = {}
    for seat in deals:
        by_deal.setdefault(seat.deal_id, seat)
    probs = [s.win_probability for s in by_deal.values() if s.win_probability is not None]
    statuses = [s.committee_status for s in by_deal.values()]
    return {
        "n_accounts": len({a.account_id for a in accounts}),
        "n_open_deals": len(by_deal),
        "open_deal_amount": float(sum(s.amount for s in by_deal.values())),
        "best_win_probability": max(probs) if probs else None,
        "decision_maker": any(s.role in DECISION_ROLES for s in deals),
        # the weakest committee among the person's open deals: the one that needs help
        "committee_status": min(statuses, key=_STATUS_RANK.__getitem__) if statuses else None,
        "warm_path_strength": None if path is None else path.strength,
    }


@boundary
def flatten(view: CustomerView) -> dict[str, Any]:
    """The flat record of a view: JSON scalars and lists, one key per :data:`FLAT_FIELDS`.

    Absent parts give ``None``. ``owner`` is the first owner (by staff id) and ``follow_up``
    that owner's follow-up state.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)
    >>> flat = flatten(customer_view("p1", as_of=t, scores={"clv": 120.0}))
    >>> flat["clv"], flat["p_alive"], len(flat) == len(FLAT_FIELDS)
    (120.0, None, True)
    """
    out: dict[str, Any] = dict.fromkeys(FLAT_FIELDS)
    out["person_id"] = view.person_id
    rel = view.relationships
    if rel is not None:
        out["owner"] = rel.owners[0] if rel.owners else None
        out["owner_left"] = rel.owner_left
        out["previous_owner"] = rel.previous_owner
        owner = next((r for r in rel.relationships if r.staff_id == out["owner"]), None)
        out["follow_up"] = None if owner is None else owner.follow_up
    if view.tags is not None:
        out["tags"] = list(view.tags)
    if view.contact is not None:
        out["contactable"] = list(view.contact.channels)
    if view.interests is not None:
        out["top_interest"] = view.interests.top[0].topic if view.interests.top else None
        out["intent"] = view.interests.intent
    if view.sources is not None:
        out["first_touch"] = view.sources.first_touch
        out["last_touch"] = view.sources.last_touch
    if view.purchases is not None:
        p = view.purchases
        out.update(
            frequency=p.frequency,
            recency=p.recency,
            T=p.T,
            monetary_value=p.monetary_value,
            since_purchase=p.since_purchase,
        )
    if view.segment is not None:
        out.update(view.segment.model_dump())
    if view.prediction is not None:
        out.update(view.prediction.model_dump())
    if view.timing is not None:
        out["next_purchase_median"] = view.timing.median
        out["cadence_gap"] = view.timing.cadence_gap
        out["due"] = view.timing.due
        out["overdue"] = view.timing.overdue
    out.update(b2b_fields(view.accounts, view.deals, view.warm_path))
    return out
