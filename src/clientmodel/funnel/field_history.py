r"""Field history: tracked changes of amount, close date, override, category and owner.

After Salesforce's OpportunityHistory, a deal keeps beside its stage history an append-only
``field_history`` of :class:`~clientmodel.funnel.models.FieldChange` entries: when, who, which
field, the value before and after. :func:`update` is the one way to change a tracked field (it
appends the entries); :func:`fields_as_of` replays a deal's tracked fields to what was known at a
past instant, which :func:`~clientmodel.funnel.forecast.deals_as_of` and the backtest use so a
backtest never sees a later override, amount or close date.

Replay reads the history backwards: the value at a cut :math:`c` of a field with changes
:math:`(t_k, \text{old}_k, \text{new}_k)` is :math:`\text{old}_j` of the first change with
:math:`t_j > c`, or the current value when none is later.

:func:`field_churn` counts, per deal or per owner, how often the expected close was pushed out
(and by how many days in total), pulled in, and how often and by how much the amount changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from clientmodel._validation import boundary, check_choice
from clientmodel.errors import ArgumentError, DataError
from clientmodel.funnel._check import check_deals
from clientmodel.funnel.models import (
    Deal,
    FieldChange,
    FieldValue,
    Pipeline,
    tracked_value,
)

__all__ = ["FieldChurn", "field_churn", "fields_as_of", "update"]


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


_UNSET: Any = _Unset()


def _aware(value: Any, field: str) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ArgumentError(
            f"{field} must be a timezone-aware datetime; got {value!r}", field=field
        )
    return value


@boundary
def update(
    deal: Deal,
    at: dt.datetime,
    *,
    amount: Any = _UNSET,
    expected_close: Any = _UNSET,
    probability_override: Any = _UNSET,
    forecast_category: Any = _UNSET,
    owner: Any = _UNSET,
    fields: Mapping[str, FieldValue] | None = None,
    actor: str | None = None,
    reason: str | None = None,
) -> Deal:
    """Change tracked fields of a deal at ``at``; return the new deal with the changes recorded.

    Only the arguments given are changed (``None`` clears an optional field such as
    ``probability_override``); a value equal to the current one records nothing. ``fields``
    sets keys of ``Deal.fields`` (tracked as ``fields.<key>``). ``at`` may not be before the
    deal's creation or its last field change.

    Examples
    --------
    >>> import datetime as dt
    >>> from clientmodel.datasets.deals import standard_pipeline
    >>> from clientmodel.funnel.transitions import open_deal
    >>> t0 = dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)
    >>> d = open_deal("D1", standard_pipeline(), at=t0, account_id="A", owner="ana", amount=5000,
    ...               expected_close=dt.date(2024, 3, 31))
    >>> d = update(d, t0 + dt.timedelta(days=30), expected_close=dt.date(2024, 5, 31),
    ...            amount=6500, actor="ana")
    >>> [(c.field, str(c.old), str(c.new)) for c in d.field_history]
    [('amount', '5000', '6500'), ('expected_close', '2024-03-31', '2024-05-31')]
    """
    if not isinstance(deal, Deal):
        raise ArgumentError(f"deal must be a Deal; got {type(deal).__name__}", field="deal")
    at = _aware(at, "at")
    if at < deal.created_at:
        raise ArgumentError(
            f"at={at.isoformat()} is before deal {deal.id!r} was created "
            f"({deal.created_at.isoformat()})",
            field="at",
        )
    if deal.field_history and at < deal.field_history[-1].at:
        raise ArgumentError(
            f"at={at.isoformat()} is before the last field change of deal {deal.id!r} "
            f"({deal.field_history[-1].at.isoformat()}); the field history is append-only",
            field="at",
        )
    given = {
        "amount": amount,
        "expected_close": expected_close,
        "probability_override": probability_override,
        "forecast_category": forecast_category,
        "owner": owner,
    }
    wanted: dict[str, Any] = {k: v for k, v in given.items() if v is not _UNSET}
    if fields is not None:
        if not isinstance(fields, Mapping):
            raise ArgumentError(
                f"fields must be a mapping of field names to values; got {type(fields).__name__}",
                field="fields",
            )
        wanted.update({f"fields.{k}": v for k, v in fields.items()})
    changes: list[FieldChange] = []
    attrs_update: dict[str, Any] = {}
    new_fields = dict(deal.fields)
    for name, raw in wanted.items():
        try:
            value = tracked_value(name, raw)
        except ValueError as exc:
            raise DataError(f"deal {deal.id!r}: {exc}", field=name) from None
        old = deal.tracked(name)
        if value == old:
            continue
        changes.append(
            FieldChange(at=at, field=name, old=old, new=value, actor=actor, reason=reason)
        )
        if name.startswith("fields."):
            new_fields[name[7:]] = value
        else:
            attrs_update[name] = value
    if not changes:
        return deal
    data = deal.model_dump()
    data.update(attrs_update)
    data["fields"] = new_fields
    data["field_history"] = (*deal.field_history, *changes)
    try:
        return Deal.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DataError(f"deal {deal.id!r}: {where}: {first['msg']}", field=where) from exc


@boundary
def fields_as_of(deal: Deal, at: dt.datetime) -> Deal:
    """The deal with every tracked field as it was known at ``at`` (later changes dropped).

    The stage history is left as is (:func:`~clientmodel.funnel.forecast.deals_as_of` cuts both).

    Examples
    --------
    >>> import datetime as dt
    >>> from clientmodel.datasets.deals import standard_pipeline
    >>> from clientmodel.funnel.transitions import open_deal
    >>> t0 = dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)
    >>> d = open_deal("D1", standard_pipeline(), at=t0, account_id="A", owner="ana", amount=5000)
    >>> d = update(d, t0 + dt.timedelta(days=30), probability_override=0.9)
    >>> fields_as_of(d, t0 + dt.timedelta(days=1)).probability_override is None
    True
    """
    if not isinstance(deal, Deal):
        raise ArgumentError(f"deal must be a Deal; got {type(deal).__name__}", field="deal")
    at = _aware(at, "at")
    keep = tuple(c for c in deal.field_history if c.at <= at)
    if len(keep) == len(deal.field_history):
        return deal
    earlier: dict[str, Any] = {}
    for c in deal.field_history[len(keep) :]:
        earlier.setdefault(c.field, c.old)  # the first later change holds the value at the cut
    update_: dict[str, Any] = {"field_history": keep}
    fields = dict(deal.fields)
    for name, value in earlier.items():
        if name.startswith("fields."):
            if value is None:
                fields.pop(name[7:], None)
            else:
                fields[name[7:]] = value
        else:
            update_[name] = value
    update_["fields"] = fields
    data = deal.model_dump()
    data.update(update_)
    return Deal.model_validate(data)


def _as_date(value: Any) -> dt.date:
    # FieldChange stores expected_close values as dates (its validator converts them).
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


class FieldChurn(BaseModel):
    """Close-date pushes and amount changes of one deal or one owner.

    ``close_date_pushes`` counts changes of ``expected_close`` to a later date (``days_pushed``
    their total), ``close_date_pulls`` changes to an earlier date; setting a first date or
    clearing it counts as neither. ``amount_changes`` counts amount changes, ``amount_increase``
    and ``amount_decrease`` sum them (both non-negative).

    Examples
    --------
    >>> from decimal import Decimal
    >>> FieldChurn(key="ana", n_deals=1, close_date_pushes=2, days_pushed=45, close_date_pulls=0,
    ...            amount_changes=1, amount_increase=Decimal(500),
    ...            amount_decrease=Decimal(0)).days_pushed
    45
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    n_deals: int
    close_date_pushes: int
    days_pushed: int
    close_date_pulls: int
    amount_changes: int
    amount_increase: Decimal
    amount_decrease: Decimal


@boundary
def field_churn(
    deals: Sequence[Deal],
    pipeline: Pipeline,
    *,
    by: Literal["deal", "owner"] = "deal",
    as_of: dt.datetime | None = None,
) -> list[FieldChurn]:
    """Close-date pushes and amount changes per deal or per (current) owner, sorted by key.

    Only changes at or before ``as_of`` count when it is given.

    Examples
    --------
    >>> import datetime as dt
    >>> from clientmodel.datasets.deals import standard_pipeline
    >>> from clientmodel.funnel.transitions import open_deal
    >>> p = standard_pipeline()
    >>> t0 = dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)
    >>> d = open_deal("D1", p, at=t0, account_id="A", owner="ana", amount=5000,
    ...               expected_close=dt.date(2024, 3, 31))
    >>> d = update(d, t0 + dt.timedelta(days=60), expected_close=dt.date(2024, 4, 30))
    >>> [(r.key, r.close_date_pushes, r.days_pushed) for r in field_churn([d], p, by="owner")]
    [('ana', 1, 30)]
    """
    check_choice(by, "by", ("deal", "owner"))
    deals = check_deals(deals, pipeline)
    if as_of is not None:
        as_of = _aware(as_of, "as_of")
    cells: dict[str, dict[str, Any]] = {}
    for d in deals:
        key = d.id if by == "deal" else d.owner
        cell = cells.setdefault(
            key,
            {
                "n_deals": 0,
                "close_date_pushes": 0,
                "days_pushed": 0,
                "close_date_pulls": 0,
                "amount_changes": 0,
                "amount_increase": Decimal(0),
                "amount_decrease": Decimal(0),
            },
        )
        cell["n_deals"] += 1
        for c in d.field_history:
            if as_of is not None and c.at > as_of:
                break
            if c.field == "expected_close" and c.old is not None and c.new is not None:
                days = (_as_date(c.new) - _as_date(c.old)).days
                if days > 0:
                    cell["close_date_pushes"] += 1
                    cell["days_pushed"] += days
                elif days < 0:
                    cell["close_date_pulls"] += 1
            elif c.field == "amount":
                delta = Decimal(str(c.new)) - Decimal(str(c.old))
                cell["amount_changes"] += 1
                cell["amount_increase" if delta > 0 else "amount_decrease"] += abs(delta)
    return [FieldChurn(key=k, **v) for k, v in sorted(cells.items())]
