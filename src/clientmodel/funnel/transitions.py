"""Stage transitions: open, move, close, reopen and replay deals; qualify leads into deals.

Every function returns a new :class:`~clientmodel.funnel.models.Deal` and never mutates one.
A forbidden change raises :class:`TransitionError` (a subclass of
:class:`clientmodel.errors.InvalidTransition`) whose ``reason`` is one of :data:`REASONS`:

``unknown_stage``
    the target stage is not in the pipeline;
``wrong_pipeline``
    the deal belongs to another pipeline;
``same_stage``
    the deal already is in the target stage;
``move_not_allowed``
    the pipeline graph has no edge from the current stage to the target;
``criteria_unmet``
    the target's entry criteria fail (``failing`` lists the missing fields / failing clauses);
``time_backwards``
    the change is dated before the deal's last change;
``deal_closed``
    the deal is won or lost (use :func:`reopen`);
``reopen_not_allowed``
    the pipeline does not allow reopening, or the deal is open;
``reason_required``
    a deal is being lost without a reason and the pipeline requires one;
``unknown_lost_reason``
    the pipeline manages a vocabulary of lost reasons and the reason is not in it (nor
    ``"other: <text>"``);
``lead_converted``
    the lead was already converted into a deal;
``lead_disqualified``
    the lead was disqualified.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ValidationError

from clientmodel._validation import boundary, did_you_mean, validate_record, validate_records
from clientmodel.accounts.models import Account, Contact
from clientmodel.errors import ArgumentError, DataError, InvalidTransition
from clientmodel.funnel._check import check_pipeline
from clientmodel.funnel.models import Deal, Lead, Pipeline, Stage, StageChange, money

__all__ = [
    "REASONS",
    "Guard",
    "Qualified",
    "TransitionError",
    "close",
    "move",
    "open_deal",
    "qualify",
    "reopen",
    "replay",
    "unmet_criteria",
]

#: Reason codes a :class:`TransitionError` may carry.
REASONS: tuple[str, ...] = (
    "unknown_stage",
    "wrong_pipeline",
    "same_stage",
    "move_not_allowed",
    "criteria_unmet",
    "time_backwards",
    "deal_closed",
    "reopen_not_allowed",
    "reason_required",
    "unknown_lost_reason",
    "lead_converted",
    "lead_disqualified",
)


class TransitionError(InvalidTransition):
    """A forbidden stage change; ``reason`` says which rule it broke (one of :data:`REASONS`).

    ``failing`` lists the unmet entry criteria when ``reason == "criteria_unmet"``.

    Examples
    --------
    >>> err = TransitionError("no", reason="same_stage")
    >>> err.code, err.reason
    ('invalid_transition', 'same_stage')
    """

    code: ClassVar[str] = "invalid_transition"

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        failing: Sequence[str] = (),
        field: str | None = None,
    ) -> None:
        super().__init__(message, field=field)
        self.reason = reason
        self.failing = tuple(failing)

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe description including ``reason`` and ``failing``."""
        out = super().to_dict()
        out["reason"] = self.reason
        out["failing"] = list(self.failing)
        return out


def _filled(value: Any) -> bool:
    if value is None:
        return False
    return not (isinstance(value, str) and not value.strip())


#: A callable stage guard: receives the deal and the caller's context; returns ``None`` or
#: ``True`` to let the deal in, or a refusal reason (text, or ``False`` for a generic one).
Guard = Callable[[Deal, Any], "str | bool | None"]


def _run_guards(
    record: Deal | Mapping[str, Any],
    stage: Stage,
    guards: Mapping[str, Guard] | None,
    context: Any,
) -> list[str]:
    if not stage.guards:
        return []
    registry = guards or {}
    missing = [g for g in stage.guards if g not in registry]
    if missing:
        raise ArgumentError(
            f"stage {stage.id!r} names guard(s) {missing}; pass them as guards={{name: function}}"
            f" (given: {sorted(registry)})",
            field="guards",
        )
    if not isinstance(record, Deal):
        raise ArgumentError(f"stage {stage.id!r} has guards: they need a Deal", field="record")
    out = []
    for name in stage.guards:
        verdict = registry[name](record, context)
        if verdict is None or verdict is True:
            continue
        why = "refused" if verdict is False else str(verdict)
        out.append(f"guard {name!r}: {why}")
    return out


@boundary
def unmet_criteria(
    record: Deal | Mapping[str, Any],
    stage: Stage,
    *,
    as_of: Any = None,
    guards: Mapping[str, Guard] | None = None,
    context: Any = None,
) -> list[str]:
    """The entry criteria of ``stage`` that ``record`` does not meet (empty when it may enter).

    Required fields come first (``"missing field 'budget'"``), then the text of every failing
    top-level clause of each entry rule (from :func:`clientmodel.rules.failing_clauses`), then
    the refusals of the stage's callable guards (``"guard 'eb_engaged': <its reason>"``), each
    called as ``guards[name](deal, context)``.

    Examples
    --------
    >>> s = Stage(id="proposal", name="Proposal", order=2, required_fields=("budget",))
    >>> unmet_criteria({"budget": None}, s)
    ["missing field 'budget'"]
    """
    if not isinstance(record, (Deal, Mapping)):
        raise ArgumentError(
            f"record must be a Deal or a mapping of fields; got {type(record).__name__}",
            field="record",
        )
    if not isinstance(stage, Stage):
        raise ArgumentError(
            f"stage must be a Stage (e.g. pipeline.stage('proposal')); got {type(stage).__name__}",
            field="stage",
        )
    data: Mapping[str, Any] = record.record() if isinstance(record, Deal) else record
    out = [f"missing field {n!r}" for n in stage.required_fields if not _filled(data.get(n))]
    if stage.entry_rules:
        # Imported lazily: only stages with rule criteria need the rules package.
        rules = importlib.import_module("clientmodel.rules")

        for rule in stage.entry_rules:
            out.extend(rules.failing_clauses(rule, data, as_of=as_of))
    out.extend(_run_guards(record, stage, guards, context))
    return out


def _reject(reason: str, message: str, *, failing: Sequence[str] = ()) -> TransitionError:
    return TransitionError(message, reason=reason, failing=failing, field="to_stage")


def _check_lost_reason(pipeline: Pipeline, reason: str) -> None:
    vocabulary = pipeline.lost_reasons
    if vocabulary is None or reason in vocabulary:
        return
    head, _, text = reason.partition(":")
    if head.strip() == "other" and text.strip():
        return
    err = TransitionError(
        f"lost reason {reason!r} is not in pipeline {pipeline.id!r}'s vocabulary"
        f"{did_you_mean(reason, vocabulary)}; use one of {list(vocabulary)} or "
        "'other: <text>'",
        reason="unknown_lost_reason",
        field="reason",
    )
    raise err


def _known(pipeline: Pipeline, deal: Deal, stage_id: str) -> Stage:
    check_pipeline(pipeline)
    if not isinstance(deal, Deal):
        raise ArgumentError(f"deal must be a Deal; got {type(deal).__name__}", field="deal")
    if not isinstance(stage_id, str):
        raise ArgumentError(
            f"the stage must be a stage id (text); got {type(stage_id).__name__}",
            field="to_stage",
        )
    if deal.pipeline_id != pipeline.id:
        raise _reject(
            "wrong_pipeline",
            f"deal {deal.id!r} is in pipeline {deal.pipeline_id!r}, not {pipeline.id!r}",
        )
    if not pipeline.has_stage(stage_id):
        raise _reject(
            "unknown_stage",
            f"stage {stage_id!r} is not in pipeline {pipeline.id!r}; stages are "
            f"{[s.id for s in pipeline.ordered]}",
        )
    return pipeline.stage(stage_id)


def _check_time(deal: Deal, at: dt.datetime) -> None:
    if not isinstance(at, dt.datetime) or at.tzinfo is None:
        raise ArgumentError(f"at must be a timezone-aware datetime; got {at!r}", field="at")
    if at < deal.stage_entered_at:
        raise _reject(
            "time_backwards",
            f"deal {deal.id!r} last changed stage at {deal.stage_entered_at.isoformat()}; a change "
            f"at {at.isoformat()} would go back in time",
        )


def _append(
    deal: Deal,
    target: Stage,
    at: dt.datetime,
    *,
    actor: str | None,
    reason: str | None,
    extra: Mapping[str, Any],
) -> Deal:
    change = StageChange(
        at=at, from_stage=deal.stage, to_stage=target.id, actor=actor, reason=reason
    )
    update: dict[str, Any] = {"stage": target.id, "history": (*deal.history, change), **extra}
    if target.is_closed:
        update["closed"] = target.kind
        update["last_open_stage"] = deal.stage
        if target.kind == "lost":
            update["lost_reason"] = reason
        else:
            update["won_reason"] = reason
    # model_copy skips re-validation; the update keeps every Deal invariant by construction.
    return deal.model_copy(update=update)


@boundary
def move(
    deal: Deal,
    to_stage: str,
    at: dt.datetime,
    pipeline: Pipeline,
    *,
    actor: str | None = None,
    reason: str | None = None,
    check_criteria: bool = True,
    guards: Mapping[str, Guard] | None = None,
    context: Any = None,
) -> Deal:
    """Move an open deal to ``to_stage`` at time ``at``; return the new deal.

    Moving to a won/lost stage closes the deal (``reason`` becomes its won/lost reason). Raises
    :class:`TransitionError` with a reason code when the move is not allowed (see the module
    docstring); entry criteria of the target are checked on the deal's fields unless
    ``check_criteria`` is false. ``guards`` maps the target's guard names to functions called
    as ``guard(deal, context)`` (see :func:`unmet_criteria`).

    Examples
    --------
    >>> import datetime as dt
    >>> from clientmodel.datasets.deals import standard_pipeline
    >>> p = standard_pipeline()
    >>> t0 = dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)
    >>> d = open_deal("D1", p, at=t0, account_id="A1", owner="ana", amount=5000)
    >>> d = move(d, "qualified", t0 + dt.timedelta(days=3), p, actor="ana")
    >>> d.stage, len(d.history)
    ('qualified', 2)
    """
    target = _known(pipeline, deal, to_stage)
    if deal.is_closed:
        raise _reject(
            "deal_closed",
            f"deal {deal.id!r} is already {deal.closed} (stage {deal.stage!r}); reopen it first",
        )
    if to_stage == deal.stage:
        raise _reject("same_stage", f"deal {deal.id!r} already is in stage {to_stage!r}")
    _check_time(deal, at)
    if not pipeline.allows(deal.stage, to_stage):
        allowed = sorted(pipeline.graph().successors(deal.stage))
        raise _reject(
            "move_not_allowed",
            f"pipeline {pipeline.id!r} does not allow {deal.stage!r} -> {to_stage!r}; "
            f"from {deal.stage!r} a deal may move to {allowed}",
        )
    if target.kind == "lost" and pipeline.require_lost_reason and not _filled(reason):
        raise _reject(
            "reason_required",
            f"pipeline {pipeline.id!r} requires a reason to lose a deal; pass reason='...'",
        )
    if target.kind == "lost" and _filled(reason):
        _check_lost_reason(pipeline, str(reason))
    if check_criteria:
        failing = unmet_criteria(deal, target, as_of=at, guards=guards, context=context)
        if failing:
            raise _reject(
                "criteria_unmet",
                f"deal {deal.id!r} does not meet the entry criteria of {to_stage!r}: "
                + "; ".join(failing),
                failing=failing,
            )
    return _append(deal, target, at, actor=actor, reason=reason, extra={})


@boundary
def close(
    deal: Deal,
    outcome: Literal["won", "lost"],
    at: dt.datetime,
    pipeline: Pipeline,
    *,
    reason: str | None = None,
    actor: str | None = None,
    stage: str | None = None,
    guards: Mapping[str, Guard] | None = None,
    context: Any = None,
) -> Deal:
    """Close a deal as won or lost (into ``stage``, or the pipeline's first stage of that kind).

    A lost reason must come from the pipeline's ``lost_reasons`` vocabulary when it has one
    (or be ``"other: <text>"``).

    Examples
    --------
    >>> import datetime as dt
    >>> from clientmodel.datasets.deals import standard_pipeline
    >>> p = standard_pipeline()
    >>> t0 = dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)
    >>> d = open_deal("D1", p, at=t0, account_id="A1", owner="ana", amount=5000)
    >>> d = close(d, "lost", t0 + dt.timedelta(days=9), p, reason="no budget")
    >>> d.closed, d.lost_reason, d.last_open_stage
    ('lost', 'no budget', 'lead')
    """
    if outcome not in ("won", "lost"):
        raise ArgumentError(f"outcome must be 'won' or 'lost'; got {outcome!r}", field="outcome")
    candidates = pipeline.won_stages if outcome == "won" else pipeline.lost_stages
    if stage is None:
        if not candidates:
            raise _reject("unknown_stage", f"pipeline {pipeline.id!r} has no {outcome} stage")
        stage = candidates[0]
    elif stage not in candidates:
        raise ArgumentError(
            f"stage {stage!r} is not a {outcome} stage of {pipeline.id!r}; use one of "
            f"{list(candidates)}",
            field="stage",
        )
    return move(
        deal, stage, at, pipeline, actor=actor, reason=reason, guards=guards, context=context
    )


@boundary
def reopen(
    deal: Deal,
    at: dt.datetime,
    pipeline: Pipeline,
    *,
    to_stage: str | None = None,
    actor: str | None = None,
    reason: str | None = None,
) -> Deal:
    """Reopen a won/lost deal into ``to_stage`` (default: its last open stage).

    Only pipelines with ``allow_reopen=True`` allow it, and only along the pipeline's moves.

    Examples
    --------
    >>> import datetime as dt
    >>> from clientmodel.datasets.deals import standard_pipeline
    >>> p = standard_pipeline(allow_reopen=True)
    >>> t0 = dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)
    >>> d = open_deal("D1", p, at=t0, account_id="A1", owner="ana", amount=5000)
    >>> d = close(d, "lost", t0 + dt.timedelta(days=9), p, reason="timing")
    >>> reopen(d, t0 + dt.timedelta(days=40), p).stage
    'lead'
    """
    check_pipeline(pipeline)
    if not isinstance(deal, Deal):
        raise ArgumentError(f"deal must be a Deal; got {type(deal).__name__}", field="deal")
    if not deal.is_closed:
        raise _reject("reopen_not_allowed", f"deal {deal.id!r} is open; only closed deals reopen")
    if not pipeline.allow_reopen:
        raise _reject(
            "reopen_not_allowed", f"pipeline {pipeline.id!r} does not allow reopening deals"
        )
    target_id = to_stage or deal.last_open_stage or pipeline.open_stages[0]
    target = _known(pipeline, deal, target_id)
    if target.is_closed:
        raise _reject("move_not_allowed", f"a deal reopens into an open stage, not {target_id!r}")
    _check_time(deal, at)
    if not pipeline.allows(deal.stage, target_id):
        raise _reject(
            "move_not_allowed",
            f"pipeline {pipeline.id!r} does not allow reopening {deal.stage!r} -> {target_id!r}",
        )
    extra = {"closed": None, "lost_reason": None, "won_reason": None}
    return _append(deal, target, at, actor=actor, reason=reason, extra=extra)


@boundary
def open_deal(
    deal_id: str,
    pipeline: Pipeline,
    *,
    at: dt.datetime,
    account_id: str,
    owner: str,
    amount: Decimal | int | float | str,
    currency: str = "USD",
    stage: str | None = None,
    actor: str | None = None,
    check_criteria: bool = True,
    guards: Mapping[str, Guard] | None = None,
    context: Any = None,
    **attributes: Any,
) -> Deal:
    """Create a deal in ``stage`` (default: the first open stage), checking its entry criteria.

    Further keyword arguments are :class:`Deal` attributes (``name``, ``expected_close``,
    ``fields``, ``source`` ...).

    Examples
    --------
    >>> import datetime as dt
    >>> from clientmodel.datasets.deals import standard_pipeline
    >>> t0 = dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)
    >>> open_deal("D1", standard_pipeline(), at=t0, account_id="A1", owner="ana",
    ...           amount="5000.00", currency="EUR").amount
    Decimal('5000.00')
    """
    check_pipeline(pipeline)
    stage_id = stage or pipeline.open_stages[0]
    if not pipeline.has_stage(stage_id) or pipeline.stage(stage_id).is_closed:
        raise _reject(
            "unknown_stage",
            f"a deal opens in an open stage of {pipeline.id!r} "
            f"({list(pipeline.open_stages)}); got {stage_id!r}",
        )
    try:
        exact = money(amount)
    except ValueError as exc:
        raise DataError(f"deal {deal_id!r}: {exc}", field="amount") from None
    try:
        change = StageChange(at=at, to_stage=stage_id, actor=actor)
    except ValidationError as exc:
        raise ArgumentError(
            f"deal {deal_id!r}: at must be a timezone-aware datetime; got {at!r}", field="at"
        ) from exc
    deal = validate_record(
        Deal,
        {
            "id": deal_id,
            "pipeline_id": pipeline.id,
            "account_id": account_id,
            "owner": owner,
            "amount": exact,
            "currency": currency,
            "stage": stage_id,
            "history": (change,),
            **attributes,
        },
        field="deal",
        record_id=deal_id if isinstance(deal_id, str) else None,
    )
    if check_criteria:
        failing = unmet_criteria(
            deal, pipeline.stage(stage_id), as_of=at, guards=guards, context=context
        )
        if failing:
            raise _reject(
                "criteria_unmet",
                f"deal {deal_id!r} does not meet the entry criteria of {stage_id!r}: "
                + "; ".join(failing),
                failing=failing,
            )
    return deal


@boundary
def replay(history: Sequence[StageChange], pipeline: Pipeline, *, deal: Deal | None = None) -> Deal:
    """Rebuild a deal by applying ``history`` change by change with :func:`move`/:func:`reopen`.

    ``deal`` supplies the non-history attributes (id, amount, fields ...); without it a
    placeholder deal is used. Raises :class:`TransitionError` at the first change the pipeline
    would not accept, so a history that replays is one the pipeline allows.

    Examples
    --------
    >>> import datetime as dt
    >>> from clientmodel.datasets.deals import standard_pipeline
    >>> p = standard_pipeline()
    >>> t0 = dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)
    >>> d = open_deal("D1", p, at=t0, account_id="A1", owner="ana", amount=5000)
    >>> d = move(d, "qualified", t0 + dt.timedelta(days=3), p)
    >>> replay(d.history, p, deal=d) == d
    True
    """
    check_pipeline(pipeline)
    if isinstance(history, (str, bytes)) or not isinstance(history, Sequence):
        raise ArgumentError("history must be a list of StageChange records", field="history")
    history = [
        validate_record(StageChange, c, field="history", row=i) for i, c in enumerate(history)
    ]
    if deal is not None and not isinstance(deal, Deal):
        raise ArgumentError(f"deal must be a Deal; got {type(deal).__name__}", field="deal")
    if not history:
        raise ArgumentError("history is empty; a deal has at least its creation", field="history")
    first = history[0]
    if deal is None:
        base = Deal(
            id="replay",
            pipeline_id=pipeline.id,
            account_id="replay",
            owner="replay",
            amount=Decimal(0),
            stage=first.to_stage,
            history=(first,),
        )
    else:
        base = deal.model_copy(
            update={
                "stage": first.to_stage,
                "history": (first,),
                "closed": None,
                "lost_reason": None,
                "won_reason": None,
                "last_open_stage": None,
            }
        )
    if not pipeline.has_stage(first.to_stage) or pipeline.stage(first.to_stage).is_closed:
        raise _reject("unknown_stage", f"history starts in {first.to_stage!r}, not an open stage")
    current = base
    for i, change in enumerate(history[1:], start=1):
        if change.from_stage != current.stage:
            raise _reject(
                "move_not_allowed",
                f"history[{i}] starts from {change.from_stage!r} but the deal is in "
                f"{current.stage!r}",
            )
        if current.is_closed:
            current = reopen(
                current,
                change.at,
                pipeline,
                to_stage=change.to_stage,
                actor=change.actor,
                reason=change.reason,
            )
        else:
            current = move(
                current,
                change.to_stage,
                change.at,
                pipeline,
                actor=change.actor,
                reason=change.reason,
            )
    return current


class Qualified(BaseModel):
    """What qualifying a lead produces: the converted lead, the new deal, account and contact.

    Examples
    --------
    >>> Qualified.model_fields["deal"].annotation.__name__
    'Deal'
    """

    model_config = {"frozen": True, "extra": "forbid"}

    lead: Lead
    deal: Deal
    account: Account
    contact: Contact | None = None
    account_matched_by: Literal["domain", "name"] | None = None


_SUFFIXES = {"inc", "incorporated", "ltd", "limited", "llc", "gmbh", "ag", "sa", "plc", "corp",
             "corporation", "co", "company", "bv", "srl", "oy", "ab"}  # fmt: skip


def _company_key(name: str) -> str:
    """Casefolded words without punctuation or a trailing legal suffix ("Acme, Inc." -> "acme")."""
    words = "".join(c if c.isalnum() else " " for c in name.casefold()).split()
    while len(words) > 1 and words[-1] in _SUFFIXES:
        words.pop()
    return " ".join(words)


def _match_account(
    lead: Lead, accounts: Sequence[Account], match_on: Sequence[str]
) -> tuple[Account | None, Literal["domain", "name"] | None]:
    domain = None
    if lead.email and "@" in lead.email:
        domain = lead.email.rsplit("@", 1)[1].strip().casefold() or None
    for how in match_on:
        if how == "domain":
            if domain is None:
                continue
            found = [a for a in accounts if a.domain and a.domain.casefold() == domain]
        else:
            key = _company_key(lead.company)
            found = [a for a in accounts if _company_key(a.name) == key]
        if len(found) > 1:
            raise DataError(
                f"lead {lead.id!r} matches {len(found)} accounts by {how}: "
                f"{[a.id for a in found][:5]}; pass account_id= to choose",
                field="accounts",
            )
        if found:
            return found[0], "domain" if how == "domain" else "name"
    return None, None


@boundary
def qualify(
    lead: Lead,
    pipeline: Pipeline,
    *,
    at: dt.datetime,
    deal_id: str,
    amount: Decimal | int | float | str,
    currency: str = "USD",
    owner: str | None = None,
    account_id: str | None = None,
    contact_id: str | None = None,
    required: Sequence[str] = (),
    stage: str | None = None,
    accounts: Sequence[Account] = (),
    match_on: Sequence[Literal["domain", "name"]] = ("domain", "name"),
) -> Qualified:
    """Convert a lead into a deal (and the account and contact records it implies).

    The deal is linked to an existing account when one of ``accounts`` matches the lead, tried
    in the order of ``match_on``: ``"domain"`` compares the domain of the lead's email with
    ``Account.domain``, ``"name"`` compares company names casefolded without punctuation or a
    trailing legal suffix (``"Acme, Inc."`` matches ``"ACME"``). More than one match is a
    :class:`~clientmodel.errors.DataError`; ``account_id`` wins over matching; without a match a
    new account ``acct-<lead id>`` is created. ``Qualified.account_matched_by`` says how it
    was found.

    ``required`` names lead fields (e.g. BANT ``budget``, ``authority``, ``need``,
    ``timeline``) that must be filled; the first stage's entry criteria are checked on the lead's
    fields too. The deal carries the lead's source and fields.

    Examples
    --------
    >>> import datetime as dt
    >>> from clientmodel.datasets.deals import standard_pipeline
    >>> t0 = dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)
    >>> lead = Lead(id="L1", source="webinar", company="Acme", created_at=t0,
    ...             contact_name="Jo Kim", owner="ana", fields={"budget": 20000})
    >>> q = qualify(lead, standard_pipeline(), at=t0, deal_id="D1", amount=20000,
    ...             required=("budget",))
    >>> q.lead.status, q.deal.source, q.account.name, q.contact.name
    ('converted', 'webinar', 'Acme', 'Jo Kim')
    """
    lead = validate_record(Lead, lead, field="lead")
    check_pipeline(pipeline)
    if lead.status in ("disqualified", "converted"):
        raise TransitionError(
            f"lead {lead.id!r} is {lead.status}; only new, working or qualified leads convert",
            reason=f"lead_{lead.status}",
            field="status",
        )
    missing = [f"missing field {n!r}" for n in required if not _filled(lead.fields.get(n))]
    if missing:
        raise TransitionError(
            f"lead {lead.id!r} is not qualified: " + "; ".join(missing),
            reason="criteria_unmet",
            failing=missing,
            field=required[0],
        )
    deal_owner = owner or lead.owner
    if deal_owner is None:
        raise ArgumentError(f"lead {lead.id!r} has no owner; pass owner='...'", field="owner")
    unknown = [m for m in match_on if m not in ("domain", "name")]
    if isinstance(match_on, str) or unknown:
        raise ArgumentError(
            f"match_on is a sequence of 'domain' and/or 'name'; got {match_on!r}", field="match_on"
        )
    known = validate_records(Account, accounts, field="accounts")
    matched, how = (None, None) if account_id else _match_account(lead, known, match_on)
    if account_id is not None:
        matched = next((a for a in known if a.id == account_id), None)
    acc_id = account_id or (matched.id if matched else f"acct-{lead.id}")
    account = matched or Account(id=acc_id, name=lead.company)
    contact = None
    if lead.contact_name:
        contact = Contact(
            id=contact_id or f"contact-{lead.id}",
            name=lead.contact_name,
            account_ids=(acc_id,),
            title=lead.contact_title,
        )
    deal = open_deal(
        deal_id,
        pipeline,
        at=at,
        account_id=acc_id,
        owner=deal_owner,
        amount=amount,
        currency=currency,
        stage=stage,
        source=lead.source,
        fields=dict(lead.fields),
    )
    return Qualified(
        lead=lead.model_copy(update={"status": "converted"}),
        deal=deal,
        account=account,
        contact=contact,
        account_matched_by=how,
    )
