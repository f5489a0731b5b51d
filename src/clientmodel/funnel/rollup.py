"""The forecast call up an owner hierarchy: rep -> manager -> VP, with adjustments as a layer.

Every owner's number for a period is built from the bottom up. For owner :math:`o` with own deals
:math:`D_o` and direct reports :math:`R_o`, each cumulative call :math:`k` (``commit``,
``best_case``, ``open_pipeline``; see :func:`~clientmodel.funnel.forecast.category_rollup`) is

.. math::
    \\text{computed}_k(o) = \\text{call}_k(D_o) + \\sum_{r \\in R_o} \\text{submitted}_k(r),
    \\qquad
    \\text{submitted}_k(o) = \\begin{cases} a & \\text{the latest adjustment } a \\text{ of } k
    \\text{ at } o \\\\ \\text{computed}_k(o) & \\text{otherwise.} \\end{cases}

An :class:`Adjustment` is a judgement (a manager's, or the owner's own) kept as its own layer: it
replaces the number that rolls up from that owner, while the computed number stays beside it, so
the call shows both what the deals say and what the managers say (as in Salesforce's forecast
adjustments). Only the owner or one of their managers may adjust an owner's number; adjustments
made after ``as_of`` are ignored (no look-ahead). Closed-won bookings are facts and never adjusted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from clientmodel._validation import boundary, validate_records
from clientmodel.errors import ArgumentError, DataError
from clientmodel.funnel._check import check_deals
from clientmodel.funnel.currency import ExchangeRates
from clientmodel.funnel.forecast import category_rollup
from clientmodel.funnel.models import Deal, Pipeline, money

__all__ = ["CALLS", "Adjustment", "ForecastCall", "forecast_call"]

Call = Literal["commit", "best_case", "open_pipeline"]
#: The cumulative calls an adjustment may set.
CALLS: tuple[str, ...] = Call.__args__  # type: ignore[attr-defined]

_CONFIG = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Adjustment(BaseModel):
    """A judgement on one owner's call: the amount ``by`` says ``owner``'s ``call`` should be.

    Examples
    --------
    >>> import datetime as dt
    >>> Adjustment(owner="ana", call="commit", amount=120000.0, by="maria",
    ...            at=dt.datetime(2024, 3, 10, tzinfo=dt.timezone.utc)).amount
    Decimal('120000.0')
    """

    model_config = _CONFIG

    owner: str = Field(min_length=1)
    call: Call
    amount: Decimal
    by: str = Field(min_length=1)
    at: AwareDatetime
    reason: str | None = None

    @field_validator("amount", mode="before")
    @classmethod
    def _exact(cls, value: object) -> Decimal:
        return money(value)


class ForecastCall(BaseModel):
    """One owner's forecast call for a period (their deals and everyone below them).

    ``commit``, ``best_case`` and ``open_pipeline`` are the *computed* cumulative calls (own
    deals plus the submitted calls of direct reports); ``submitted_*`` are what rolls up to the
    manager, and ``*_layer`` says whether it is the computed number (``"deals"``) or an
    adjustment (``"adjustment"``, with ``adjusted_by``). ``closed`` is closed-won bookings in the
    period, ``no_close_date`` the open amount without an expected close (in no call).
    ``attainment`` is ``closed / quota`` (``None`` without a quota); ``converted_at`` says how
    amounts were converted into ``currency`` (``None``: not converted).

    Examples
    --------
    >>> from decimal import Decimal
    >>> z = Decimal(0)
    >>> ForecastCall(owner="ana", manager=None, level=0, currency="USD", n_deals=0, closed=z,
    ...              commit=z, best_case=z, open_pipeline=z, no_close_date=z,
    ...              submitted_commit=z, submitted_best_case=z, submitted_open_pipeline=z,
    ...              ).commit_layer
    'deals'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    owner: str
    manager: str | None
    level: int
    currency: str
    n_deals: int
    closed: Decimal
    commit: Decimal
    best_case: Decimal
    open_pipeline: Decimal
    no_close_date: Decimal
    submitted_commit: Decimal
    submitted_best_case: Decimal
    submitted_open_pipeline: Decimal
    commit_layer: Literal["deals", "adjustment"] = "deals"
    best_case_layer: Literal["deals", "adjustment"] = "deals"
    open_pipeline_layer: Literal["deals", "adjustment"] = "deals"
    adjusted_by: tuple[str, ...] = ()
    quota: Decimal | None = None
    attainment: float | None = None
    converted_at: str | None = None


def _tree(hierarchy: Mapping[str, str | None], owners: set[str]) -> dict[str, str | None]:
    if not isinstance(hierarchy, Mapping):
        raise ArgumentError(
            "hierarchy must map each owner to their manager (None at the top), e.g. "
            "{'ana': 'maria', 'maria': None}",
            field="hierarchy",
        )
    tree: dict[str, str | None] = {}
    for owner, manager in hierarchy.items():
        if not isinstance(owner, str) or not (manager is None or isinstance(manager, str)):
            raise ArgumentError(
                f"hierarchy entries are owner -> manager names; got {owner!r} -> {manager!r}",
                field="hierarchy",
            )
        if owner == manager:
            raise ArgumentError(f"{owner!r} cannot manage themself", field="hierarchy")
        tree[owner] = manager
    for manager in list(tree.values()):
        if manager is not None and manager not in tree:
            tree[manager] = None  # a manager named only as a manager is at the top
    missing = sorted(owners - set(tree))
    if missing:
        raise DataError(
            f"deal owner(s) {missing[:5]} are not in the hierarchy; add them with their manager",
            field="hierarchy",
        )
    for start in tree:
        seen = [start]
        node = tree[start]
        while node is not None:
            if node in seen:
                raise ArgumentError(
                    "the hierarchy has a cycle: " + " -> ".join([*seen, node]), field="hierarchy"
                )
            seen.append(node)
            node = tree[node]
    return tree


def _managers(tree: Mapping[str, str | None], owner: str) -> list[str]:
    out, node = [], tree[owner]
    while node is not None:
        out.append(node)
        node = tree[node]
    return out


@boundary
def forecast_call(
    deals: Sequence[Deal],
    pipeline: Pipeline,
    *,
    start: dt.date,
    end: dt.date,
    hierarchy: Mapping[str, str | None],
    adjustments: Sequence[Adjustment | Mapping[str, object]] = (),
    quotas: Mapping[str, Decimal | int | float | str] | None = None,
    as_of: dt.datetime | None = None,
    rates: ExchangeRates | None = None,
    convert_at: Literal["close_date"] | dt.date = "close_date",
) -> list[ForecastCall]:
    """The period's forecast call of every owner of ``hierarchy``, top-down (see module notes).

    Parameters
    ----------
    deals:
        The deals of one pipeline and one currency (each deal counts for its ``owner``).
    start, end:
        The period (dates, inclusive), as in :func:`~clientmodel.funnel.forecast.category_rollup`.
    hierarchy:
        ``owner -> manager`` (``None`` at the top); a manager named only as a manager is at the top.
    adjustments:
        :class:`Adjustment` records (or mappings); the latest per owner and call wins.
    quotas:
        Optional ``owner -> quota`` for the period.
    as_of:
        Ignore adjustments made after this instant.
    rates, convert_at:
        Convert deals of several currencies into ``rates.base`` (see
        :func:`~clientmodel.funnel.forecast.category_rollup`); adjustments and quotas are in the
        base currency. Without rates all deals must share one currency.

    Examples
    --------
    >>> import datetime as dt
    >>> from clientmodel.datasets.deals import standard_pipeline
    >>> from clientmodel.funnel.transitions import move, open_deal
    >>> p = standard_pipeline()
    >>> t0 = dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)
    >>> d = move(open_deal("D1", p, at=t0, account_id="A", owner="ana", amount=50000,
    ...                    expected_close=dt.date(2024, 3, 15)), "negotiation", t0, p)
    >>> calls = forecast_call([d], p, start=dt.date(2024, 1, 1), end=dt.date(2024, 3, 31),
    ...     hierarchy={"ana": "maria"},
    ...     adjustments=[Adjustment(owner="ana", call="commit", amount=30000, by="maria", at=t0)])
    >>> [(c.owner, str(c.commit), str(c.submitted_commit), c.commit_layer) for c in calls]
    [('maria', '30000', '30000', 'deals'), ('ana', '50000', '30000', 'adjustment')]
    """
    deals = check_deals(deals, pipeline)
    currencies = sorted({d.currency for d in deals}) if rates is None else [rates.base]
    if len(currencies) > 1:
        raise DataError(
            f"deals are in several currencies {currencies}; a forecast call is in one currency",
            field="currency",
        )
    currency = currencies[0] if currencies else "USD"
    if as_of is not None and (not isinstance(as_of, dt.datetime) or as_of.tzinfo is None):
        raise ArgumentError(
            f"as_of must be a timezone-aware datetime; got {as_of!r}", field="as_of"
        )
    tree = _tree(hierarchy, {d.owner for d in deals})
    adj = validate_records(Adjustment, adjustments, field="adjustments")
    latest: dict[tuple[str, str], Adjustment] = {}
    for i, a in enumerate(adj):
        if a.owner not in tree:
            raise DataError(
                f"adjustments[{i}]: owner {a.owner!r} is not in the hierarchy",
                field="adjustments",
                rows=[i],
            )
        if a.by != a.owner and a.by not in _managers(tree, a.owner):
            raise DataError(
                f"adjustments[{i}]: {a.by!r} is not {a.owner!r} or one of their managers "
                f"{_managers(tree, a.owner)}; only they may adjust that call",
                field="adjustments",
                rows=[i],
            )
        if as_of is not None and a.at > as_of:
            continue
        key = (a.owner, a.call)
        if key not in latest or a.at >= latest[key].at:
            latest[key] = a
    quota: dict[str, Decimal] = {}
    if quotas is not None and not isinstance(quotas, Mapping):
        raise ArgumentError("quotas must map owners to amounts", field="quotas")
    strangers = sorted(str(o) for o in (quotas or {}) if o not in tree)
    if strangers:
        raise ArgumentError(
            f"quotas name owner(s) {strangers} not in the hierarchy", field="quotas"
        )
    for owner, value in (quotas or {}).items():
        try:
            quota[owner] = money(value, field=f"quotas[{owner!r}]")
        except ValueError as exc:
            raise ArgumentError(str(exc), field="quotas") from None
    by_owner: dict[str, list[Deal]] = {}
    for d in deals:
        by_owner.setdefault(d.owner, []).append(d)
    children: dict[str, list[str]] = {o: [] for o in tree}
    for o, m in tree.items():
        if m is not None:
            children[m].append(o)
    zero = Decimal(0)
    results: dict[str, ForecastCall] = {}

    def solve(owner: str, level: int) -> ForecastCall:
        for child in sorted(children[owner]):
            solve(child, level + 1)
        rows = category_rollup(
            by_owner.get(owner, []),
            pipeline,
            start=start,
            end=end,
            rates=rates,
            convert_at=convert_at,
        )
        own = rows[0] if rows else None
        kids = [results[c] for c in children[owner]]
        closed = (own.closed if own else zero) + sum((k.closed for k in kids), zero)
        computed = {
            "commit": (own.commit_call if own else zero)
            + sum((k.submitted_commit for k in kids), zero),
            "best_case": (own.best_case_call if own else zero)
            + sum((k.submitted_best_case for k in kids), zero),
            "open_pipeline": (own.open_pipeline_call if own else zero)
            + sum((k.submitted_open_pipeline for k in kids), zero),
        }
        submitted, layers, by = {}, {}, []
        for call in CALLS:
            a = latest.get((owner, call))
            submitted[call] = a.amount if a is not None else computed[call]
            layers[call] = "adjustment" if a is not None else "deals"
            if a is not None:
                by.append(a.by)
        q = quota.get(owner)
        results[owner] = ForecastCall(
            owner=owner,
            manager=tree[owner],
            level=level,
            currency=currency,
            n_deals=len(by_owner.get(owner, [])) + sum(k.n_deals for k in kids),
            closed=closed,
            commit=computed["commit"],
            best_case=computed["best_case"],
            open_pipeline=computed["open_pipeline"],
            no_close_date=(own.no_close_date if own else zero)
            + sum((k.no_close_date for k in kids), zero),
            submitted_commit=submitted["commit"],
            submitted_best_case=submitted["best_case"],
            submitted_open_pipeline=submitted["open_pipeline"],
            commit_layer=layers["commit"],
            best_case_layer=layers["best_case"],
            open_pipeline_layer=layers["open_pipeline"],
            adjusted_by=tuple(dict.fromkeys(by)),
            quota=q,
            attainment=None if q is None or q == 0 else float(closed / q),
            converted_at=None
            if rates is None
            else (convert_at if isinstance(convert_at, str) else convert_at.isoformat()),
        )
        return results[owner]

    order: list[str] = []

    def walk(owner: str) -> None:
        order.append(owner)
        for child in sorted(children[owner]):
            walk(child)

    for root in sorted(o for o, m in tree.items() if m is None):
        solve(root, 0)
        walk(root)
    return [results[o] for o in order]
