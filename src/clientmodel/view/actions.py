r"""Next best actions: playbooks as data, ranked plays with their reasons, contact-pressure caps.

A **play** is data, not code: a rule in :mod:`clientmodel.rules` over the view's flat record
(:data:`~clientmodel.view.FLAT_FIELDS`), an action name, an owner rule, channel preferences and a
value. A **playbook** is a tuple of plays; :data:`DEFAULT_PLAYBOOK` holds ten common ones
(repurchase reminder, win-back, VIP care, cross-sell by interest, multi-thread a deal, economic
buyer care, overdue follow-up, take over an orphan, consent refresh, nurture a new customer).

**Value.** A play's value is the expected value of doing it,

.. math:: v = P(\text{response}) \times \text{value at stake},

where ``p_response`` is the play's (caller-overridable) response probability and the value at
stake is the flat field named by ``value_from`` -- ``clv`` (the customer's lifetime value),
``open_deal_amount`` times ``best_win_probability`` (the expected deal value), ``monetary_value``
(one average order) -- or the play's fixed ``value``. A missing field counts as 0, and the
explanation says so.

**Pressure.** :class:`ContactPressure` caps touches: at most ``max_touches`` in the last
``period`` (counting the touches the caller reports and the plays already chosen), never in the
quiet hours (local time; an action planned then is moved to the next allowed hour, preferring the
hours the customer engages in), and only on a channel with consent (plays that ``need_consent``).
What a cap suppresses is reported with the reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from clientmodel import rules
from clientmodel._validation import boundary
from clientmodel.errors import ArgumentError, ClientModelError
from clientmodel.view._common import aware
from clientmodel.view.record import CustomerView, flatten
from clientmodel.view.timing import _zone

__all__ = [
    "DEFAULT_PLAYBOOK",
    "Action",
    "ContactPressure",
    "NextActions",
    "Play",
    "Suppressed",
    "next_actions",
    "play_value",
]

_CONFIG = ConfigDict(frozen=True, extra="forbid")
ValueFrom = Literal["clv", "expected_deal_value", "monetary_value", "fixed"]


class Play(BaseModel):
    """One play of a playbook.

    Attributes
    ----------
    play_id:
        Stable id.
    action:
        What to do (``repurchase_reminder``, ``win_back``, ...).
    rule:
        When it applies: rule text over the flat view fields (checked when the play is built).
    owner:
        Who does it: ``"owner"`` (the customer's owner; nobody when they have none, and the day
        plan balances it) or ``"staff:<id>"`` (always that staff member).
    channels:
        Preferred channels, best first; the first one allowed is used.
    need_consent:
        Whether the channel needs the person's consent (marketing); business follow-ups on a deal
        or an internal task (a takeover) do not.
    touch:
        Whether doing it counts as a touch against the contact-pressure cap.
    p_response:
        Probability the person responds.
    value_from:
        The value at stake: ``clv``, ``expected_deal_value`` (open deal amount times best win
        probability), ``monetary_value`` or ``fixed`` (``value``).
    value:
        The fixed value at stake, for ``value_from="fixed"``.

    Examples
    --------
    >>> p = Play(play_id="vip", action="vip_care", rule='has tag "vip"', channels=("wecom",),
    ...          p_response=0.3)
    >>> p.value_from, p.owner
    ('clv', 'owner')
    """

    model_config = _CONFIG

    play_id: str = Field(min_length=1, max_length=100)
    action: str = Field(min_length=1, max_length=100)
    rule: str = Field(min_length=1)
    owner: str = "owner"
    channels: tuple[str, ...] = Field(min_length=1)
    need_consent: bool = True
    touch: bool = True
    p_response: float = Field(ge=0.0, le=1.0)
    value_from: ValueFrom = "clv"
    value: float | None = Field(default=None, ge=0.0, allow_inf_nan=False)

    @field_validator("rule")
    @classmethod
    def _parses(cls, value: str) -> str:
        try:
            rules.parse(value)
        except ClientModelError as exc:
            raise ValueError(f"rule {value!r} does not parse: {exc}") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Play:
        if self.owner != "owner" and not (self.owner.startswith("staff:") and len(self.owner) > 6):
            raise ValueError(f"owner={self.owner!r}: use 'owner' or 'staff:<staff id>'")
        if (self.value_from == "fixed") != (self.value is not None):
            raise ValueError("give value exactly when value_from='fixed'")
        return self


class ContactPressure(BaseModel):
    """Caps on contacting one person.

    Attributes
    ----------
    max_touches:
        At most this many touches in any ``period`` (counting the planned ones).
    period:
        The window of the cap (default 7 days).
    quiet_start, quiet_end:
        Quiet hours in the person's local time, ``quiet_start <= hour < quiet_end`` (wrapping
        past midnight when ``quiet_start > quiet_end``; equal means none).
    tz:
        The person's time zone.

    Examples
    --------
    >>> ContactPressure().max_touches, ContactPressure().quiet_start
    (2, 21)
    """

    model_config = _CONFIG

    max_touches: int = Field(default=2, ge=0)
    period: dt.timedelta = dt.timedelta(days=7)
    quiet_start: int = Field(default=21, ge=0, le=23)
    quiet_end: int = Field(default=9, ge=0, le=23)
    tz: str = "UTC"

    @field_validator("tz")
    @classmethod
    def _tz(cls, value: str) -> str:
        _zone(value)
        return value

    @boundary
    def quiet(self, at: dt.datetime) -> bool:
        """Whether ``at`` falls in the quiet hours (local time).

        Examples
        --------
        >>> import datetime as dt
        >>> ContactPressure().quiet(dt.datetime(2024, 6, 1, 22, tzinfo=dt.timezone.utc))
        True
        """
        hour = at.astimezone(_zone(self.tz)).hour
        a, b = self.quiet_start, self.quiet_end
        if a == b:
            return False
        return a <= hour < b if a < b else (hour >= a or hour < b)


class Action(BaseModel):
    """A play chosen for a person, with everything that explains it.

    Attributes
    ----------
    reasons:
        The clauses of the play's rule that held (rule text).
    numbers:
        The numbers used, as ``(name, value)`` pairs: the fields the rule read, the response
        probability, the value at stake and the value.
    """

    model_config = _CONFIG

    person_id: str
    play_id: str
    action: str
    owner: str | None
    channel: str
    send_at: AwareDatetime
    value: float
    p_response: float
    value_at_stake: float
    value_from: str
    touch: bool
    reasons: tuple[str, ...]
    numbers: tuple[tuple[str, float | int | str | bool | None], ...]


class Suppressed(BaseModel):
    """A play that applied but was not done, and why (``no_consent``, ``pressure_cap`` or, in a
    day plan, ``holdout``)."""

    model_config = _CONFIG

    person_id: str
    play_id: str
    reason: Literal["no_consent", "pressure_cap", "holdout"]
    detail: str
    value: float


class NextActions(BaseModel):
    """The ranked actions for one person (highest value first) and the suppressed plays."""

    model_config = _CONFIG

    person_id: str
    as_of: AwareDatetime
    actions: tuple[Action, ...] = ()
    suppressed: tuple[Suppressed, ...] = ()


@boundary
def play_value(play: Play, flat: Mapping[str, Any]) -> tuple[float, float]:
    """``(value at stake, value)`` of a play for one flat view record (missing fields count 0).

    Examples
    --------
    >>> p = Play(play_id="x", action="x", rule="clv > 0", channels=("sms",), p_response=0.2)
    >>> play_value(p, {"clv": 500.0})
    (500.0, 100.0)
    """
    if play.value_from == "fixed":
        stake = float(play.value or 0.0)
    elif play.value_from == "expected_deal_value":
        amount = flat.get("open_deal_amount") or 0.0
        stake = float(amount) * float(flat.get("best_win_probability") or 0.0)
    else:
        stake = float(flat.get(play.value_from) or 0.0)
    stake = max(stake, 0.0)
    return stake, play.p_response * stake


def _fields(rule: Any) -> list[str]:
    names: list[str] = []
    for node, _depth in rules.iter_nodes(rule):
        name = getattr(node, "field", None)
        if isinstance(name, str) and name not in names:
            names.append(name)
    return names


def _held(rule: Any, flat: Mapping[str, Any], as_of: dt.datetime) -> tuple[str, ...]:
    clauses = rule.rules if isinstance(rule, rules.And) else (rule,)
    return tuple(rules.to_text(c) for c in clauses if rules.evaluate(c, flat, as_of=as_of))


def _send_at(
    as_of: dt.datetime, pressure: ContactPressure, hours: Sequence[int]
) -> tuple[dt.datetime, str | None]:
    """When to act: now, unless now is quiet or the customer engages at other hours.

    The first allowed whole hour in the next two days in which the customer engages wins; then
    now if allowed; then the first allowed whole hour.
    """
    start = as_of.astimezone(_zone(pressure.tz))
    wanted = set(hours)
    if not pressure.quiet(start) and (not wanted or start.weekday() * 24 + start.hour in wanted):
        return start, None
    top = start.replace(minute=0, second=0, microsecond=0)
    later = [top + dt.timedelta(hours=k) for k in range(1, 48 + 1)]
    allowed = [c for c in later if not pressure.quiet(c)]
    engaged = [c for c in allowed if c.weekday() * 24 + c.hour in wanted]
    if engaged:
        return engaged[0], "moved to an hour the customer engages in"
    if not pressure.quiet(start):
        return start, None
    if allowed:
        return allowed[0], "moved out of quiet hours"
    return start, None


@boundary
def next_actions(
    view: CustomerView,
    playbook: Iterable[Play],
    *,
    as_of: dt.datetime,
    pressure: ContactPressure | None = None,
    touches: Iterable[dt.datetime] = (),
) -> NextActions:
    """The plays that apply to a person, ranked by value, with reasons; caps enforced.

    Parameters
    ----------
    view:
        The person's :class:`~clientmodel.view.CustomerView`.
    playbook:
        The plays (e.g. :data:`DEFAULT_PLAYBOOK`).
    as_of:
        Now (timezone-aware): rule windows and the pressure period are measured from it.
    pressure:
        The caps (default :class:`ContactPressure()`).
    touches:
        When the person was touched before (for the ``max_touches`` cap).

    Examples
    --------
    >>> import datetime as dt
    >>> from clientmodel.view import customer_view
    >>> t = dt.datetime(2024, 6, 3, 10, tzinfo=dt.timezone.utc)
    >>> v = customer_view("p1", as_of=t, scores={"clv": 800.0, "churn_risk": 0.7})
    >>> res = next_actions(v, DEFAULT_PLAYBOOK, as_of=t)
    >>> [(s.play_id, s.reason) for s in res.suppressed]
    [('win_back', 'no_consent')]
    """
    as_of = aware(as_of, "as_of")
    pressure = pressure or ContactPressure()
    flat = flatten(view)
    contactable = set(flat.get("contactable") or ())
    engaged = view.timing.engagement_hours if view.timing is not None else ()
    recent = sum(1 for t in touches if as_of - pressure.period < aware(t, "touches") <= as_of)
    candidates: list[tuple[float, str, Action | Suppressed]] = []
    seen: set[str] = set()
    for play in playbook:
        if not isinstance(play, Play):
            raise ArgumentError(
                f"playbook holds a {type(play).__name__}; pass Play records", field="playbook"
            )
        if play.play_id in seen:
            raise ArgumentError(f"play_id {play.play_id!r} appears twice", field="playbook")
        seen.add(play.play_id)
        rule = rules.parse(play.rule)
        if not rules.evaluate(rule, flat, as_of=as_of):
            continue
        stake, value = play_value(play, flat)
        allowed = [c for c in play.channels if not play.need_consent or c in contactable]
        if not allowed:
            candidates.append(
                (
                    value,
                    play.play_id,
                    Suppressed(
                        person_id=view.person_id,
                        play_id=play.play_id,
                        reason="no_consent",
                        detail=f"no consent on any of {list(play.channels)} "
                        f"(contactable: {sorted(contactable)})",
                        value=value,
                    ),
                )
            )
            continue
        send_at, moved = _send_at(as_of, pressure, engaged)
        numbers: list[tuple[str, Any]] = [(f, flat.get(f)) for f in _fields(rule) if f in flat]
        numbers += [
            ("p_response", play.p_response),
            ("value_at_stake", stake),
            ("value", value),
        ]
        reasons = _held(rule, flat, as_of)
        if moved:
            reasons += (moved,)
        owner = flat.get("owner") if play.owner == "owner" else play.owner[len("staff:") :]
        action = Action(
            person_id=view.person_id,
            play_id=play.play_id,
            action=play.action,
            owner=owner,
            channel=allowed[0],
            send_at=send_at,
            value=value,
            p_response=play.p_response,
            value_at_stake=stake,
            value_from=play.value_from,
            touch=play.touch,
            reasons=reasons,
            numbers=tuple((k, v if not isinstance(v, list) else ",".join(v)) for k, v in numbers),
        )
        candidates.append((value, play.play_id, action))
    candidates.sort(key=lambda c: (-c[0], c[1]))
    actions: list[Action] = []
    suppressed: list[Suppressed] = []
    budget = pressure.max_touches - recent
    for value, _, item in candidates:
        if isinstance(item, Suppressed):
            suppressed.append(item)
        elif item.touch and budget <= 0:
            suppressed.append(
                Suppressed(
                    person_id=view.person_id,
                    play_id=item.play_id,
                    reason="pressure_cap",
                    detail=f"at most {pressure.max_touches} touches per {pressure.period}; "
                    f"{recent} already and {len(actions)} planned",
                    value=value,
                )
            )
        else:
            budget -= int(item.touch)
            actions.append(item)
    return NextActions(
        person_id=view.person_id,
        as_of=as_of,
        actions=tuple(actions),
        suppressed=tuple(suppressed),
    )


#: Ten common plays; copy and change them (``play.model_copy(update=...)``) to fit a business.
DEFAULT_PLAYBOOK: tuple[Play, ...] = (
    Play(
        play_id="take_over",
        action="take_over_orphan",
        rule="owner_left",
        channels=("wecom", "phone", "sms", "email"),
        need_consent=False,
        touch=False,
        p_response=1.0,
        value_from="clv",
    ),
    Play(
        play_id="economic_buyer_care",
        action="economic_buyer_care",
        rule="decision_maker and n_open_deals >= 1",
        channels=("meeting", "phone", "email"),
        need_consent=False,
        p_response=0.5,
        value_from="expected_deal_value",
    ),
    Play(
        play_id="multi_thread",
        action="multi_thread_deal",
        rule='n_open_deals >= 1 and committee_status in ["red", "amber"]',
        channels=("meeting", "email"),
        need_consent=False,
        p_response=0.3,
        value_from="expected_deal_value",
    ),
    Play(
        play_id="vip_care",
        action="vip_care",
        rule='has tag "vip" and p_alive >= 0.5',
        channels=("wecom", "phone", "sms"),
        p_response=0.3,
        value_from="clv",
    ),
    Play(
        play_id="repurchase",
        action="repurchase_reminder",
        rule="due and not overdue",
        channels=("wecom", "sms", "email"),
        p_response=0.15,
        value_from="monetary_value",
    ),
    Play(
        play_id="win_back",
        action="win_back",
        rule="overdue or churn_risk >= 0.5",
        channels=("wecom", "sms", "email"),
        p_response=0.05,
        value_from="clv",
    ),
    Play(
        play_id="cross_sell",
        action="cross_sell_by_interest",
        rule="top_interest is not null and intent >= 0.3",
        channels=("wecom", "email"),
        p_response=0.1,
        value_from="monetary_value",
    ),
    Play(
        play_id="follow_up",
        action="overdue_follow_up",
        rule='follow_up = "awaiting" and frequency >= 1',
        channels=("wecom", "phone"),
        p_response=0.2,
        value_from="monetary_value",
    ),
    Play(
        play_id="consent_refresh",
        action="consent_refresh",
        rule='contactable is not null and not contactable has tag "wecom" and frequency >= 1',
        channels=("store", "wecom"),
        need_consent=False,
        touch=False,
        p_response=0.1,
        value_from="fixed",
        value=5.0,
    ),
    Play(
        play_id="nurture_new",
        action="nurture_new_customer",
        rule='lifecycle = "new" and not due',
        channels=("wecom", "sms", "email"),
        p_response=0.25,
        value_from="monetary_value",
    ),
)
