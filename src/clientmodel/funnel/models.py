"""Records of the sales funnel: stages, pipelines, leads, deals and their stage changes.

Every record is a frozen pydantic v2 model that forbids unknown fields: it validates at the
boundary, serialises to JSON and publishes a JSON Schema (``Deal.model_json_schema()``).
Datetimes must carry a timezone; money is a ``Decimal`` with an ISO 4217 currency code.

A :class:`Pipeline` is an ordered list of :class:`Stage` records plus the allowed moves between
them, exposed as a :class:`networkx.DiGraph` (:meth:`Pipeline.graph`). Validation guarantees that
stage ids are unique, that won/lost stages are absorbing unless the pipeline allows reopening, and
that every open stage can reach a closed stage.

A :class:`Deal` carries its own append-only stage history (:class:`StageChange` records); the
functions of :mod:`clientmodel.funnel.transitions` return new deals and never mutate one.
"""

from __future__ import annotations

import datetime as dt
import importlib
import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from functools import cached_property
from types import MappingProxyType
from typing import Annotated, Any, Literal

import networkx as nx  # type: ignore[import-untyped]
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from clientmodel._validation import boundary, check_choice
from clientmodel.errors import ArgumentError, RuleError

__all__ = [
    "FORECAST_CATEGORIES",
    "LEAD_STATUSES",
    "STAGE_KINDS",
    "TRACKED_FIELDS",
    "Deal",
    "FieldChange",
    "FieldValue",
    "Fields",
    "ForecastCategory",
    "Lead",
    "LeadStatus",
    "Pipeline",
    "Stage",
    "StageChange",
    "StageKind",
    "money",
]

StageKind = Literal["open", "won", "lost"]
#: The kinds of stage: open stages hold live deals, won and lost stages close them.
STAGE_KINDS: tuple[str, ...] = StageKind.__args__  # type: ignore[attr-defined]

ForecastCategory = Literal["pipeline", "best_case", "commit", "closed", "omitted"]
#: Forecast categories, least to most certain, then closed and omitted.
FORECAST_CATEGORIES: tuple[str, ...] = ForecastCategory.__args__  # type: ignore[attr-defined]

LeadStatus = Literal["new", "working", "qualified", "disqualified", "converted"]
#: Lead statuses.
LEAD_STATUSES: tuple[str, ...] = LeadStatus.__args__  # type: ignore[attr-defined]

#: A JSON scalar a deal or lead field may hold (used by entry criteria and scores).
FieldValue = str | int | float | bool | None


def _read_only(value: Mapping[str, FieldValue]) -> Mapping[str, FieldValue]:
    # A copy behind a read-only view: a frozen record shares no mutable state with its input.
    return MappingProxyType(dict(value))


#: ``fields`` of a lead or deal: a read-only mapping that serialises as a JSON object.
Fields = Annotated[
    Mapping[str, FieldValue],
    AfterValidator(_read_only),
    PlainSerializer(dict, return_type=dict[str, FieldValue]),
]


def _no_fields() -> Mapping[str, FieldValue]:
    return MappingProxyType({})


@boundary
def money(value: Any, *, field: str = "amount") -> Decimal:
    """An exact ``Decimal`` amount from a Decimal, an int, a float or numeric text.

    A float becomes the decimal of its shortest repr (``1234.56`` -> ``Decimal('1234.56')``,
    not the binary expansion ``1234.559999...``). Text must be a plain number (``"12k"`` is
    refused); NaN, infinities, booleans and negative amounts are refused with a ``ValueError``
    naming ``field``.

    Examples
    --------
    >>> money(1234.56), money("5000.00"), money(7)
    (Decimal('1234.56'), Decimal('5000.00'), Decimal('7'))
    """
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, float, str)):
        raise ValueError(
            f"{field} must be a number or numeric text such as '12000.50'; "
            f"got {type(value).__name__} {value!r}"
        )
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{field} must be a finite amount; got {value!r}")
        value = repr(value)
    try:
        out = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise ValueError(
            f"{field}={value!r} is not a number; write the amount in digits, e.g. '12000' "
            "rather than '12k'"
        ) from None
    if not out.is_finite():
        raise ValueError(f"{field} must be a finite amount; got {value!r}")
    if out < 0:
        raise ValueError(f"{field} must be >= 0; got {value!r}")
    return out


_CONFIG = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
_Id = Field(min_length=1, max_length=200)


class Stage(BaseModel):
    """One stage of a pipeline.

    Attributes
    ----------
    id:
        Stable identifier.
    name:
        Display name.
    order:
        Position in the funnel (lower comes first); unique within a pipeline.
    kind:
        ``"open"``, ``"won"`` or ``"lost"``.
    probability:
        The stage's default win probability (the "stage default" probability layer).
    forecast_category:
        ``pipeline``, ``best_case``, ``commit``, ``closed`` or ``omitted``. Defaults to
        ``closed`` for won stages, ``omitted`` for lost stages and ``pipeline`` otherwise.
    required_fields:
        Deal fields (attributes or keys of ``Deal.fields``) that must be filled to enter.
    entry_rules:
        :mod:`clientmodel.rules` predicates a deal must satisfy to enter, given as text or as
        ``Rule`` objects (stored as their text, so the stage stays JSON-clean).
    stale_after_days:
        A deal sitting longer than this in the stage is stalled (see ``hygiene.stalled``).
    guards:
        Names of callable entry guards (plain functions given to ``move``/``open_deal`` as
        ``guards={name: function}``); a stage stays JSON-clean by naming them only.

    Examples
    --------
    >>> Stage(id="proposal", name="Proposal", order=3, probability=0.4).forecast_category
    'pipeline'
    """

    model_config = _CONFIG

    id: str = _Id
    name: str
    order: int
    kind: StageKind = "open"
    probability: float = Field(default=0.0, ge=0.0, le=1.0)
    forecast_category: ForecastCategory | None = None
    required_fields: tuple[str, ...] = ()
    entry_rules: tuple[str, ...] = ()
    stale_after_days: float | None = Field(default=None, gt=0)
    guards: tuple[str, ...] = ()

    @field_validator("entry_rules", mode="before")
    @classmethod
    def _rules_as_text(cls, value: Any) -> Any:
        # Rules are stored as text so stages stay JSON-clean; a Rule object is printed back.
        if isinstance(value, (str, BaseModel)):
            value = (value,)
        if not isinstance(value, (list, tuple)):
            return value
        if not any(isinstance(v, BaseModel) for v in value):
            return value
        rules = importlib.import_module("clientmodel.rules")
        return tuple(rules.to_text(v) if isinstance(v, BaseModel) else v for v in value)

    @field_validator("entry_rules")
    @classmethod
    def _rules_parse(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # A malformed rule is refused when the stage is built, not at the first move.
        rules = importlib.import_module("clientmodel.rules")
        for i, text in enumerate(value):
            try:
                rules.parse(text)
            except RuleError as exc:
                raise ValueError(f"entry_rules[{i}] {text!r} is not a valid rule: {exc}") from None
        return value

    @model_validator(mode="after")
    def _defaults(self) -> Stage:
        if self.forecast_category is None:
            cat = {"won": "closed", "lost": "omitted"}.get(self.kind, "pipeline")
            object.__setattr__(self, "forecast_category", cat)
        fixed = {"won": 1.0, "lost": 0.0}.get(self.kind)
        if fixed is not None and self.probability != fixed:
            if "probability" in self.model_fields_set:
                raise ValueError(
                    f"a {self.kind} stage has probability {fixed}; got {self.probability}"
                )
            object.__setattr__(self, "probability", fixed)
        return self

    @property
    def is_closed(self) -> bool:
        """Whether the stage closes a deal (won or lost)."""
        return self.kind != "open"


class Pipeline(BaseModel):
    """An ordered set of stages and the moves allowed between them.

    ``moves`` lists the allowed ``(from, to)`` stage pairs. When it is ``None`` every open stage
    may move to any other stage (forward, back, or to a closed stage). Moves out of a won/lost
    stage are only allowed when ``allow_reopen`` is true; with ``allow_reopen`` and no explicit
    moves, a closed deal may reopen into any open stage.

    ``lost_reasons`` is the managed vocabulary of reasons to lose a deal (``None``: free text).
    With a vocabulary, a lost reason is one of its entries or ``"other: <text>"``.

    Examples
    --------
    >>> p = Pipeline(id="sales", name="Sales", stages=(
    ...     Stage(id="lead", name="Lead", order=1, probability=0.1),
    ...     Stage(id="won", name="Won", order=2, kind="won"),
    ...     Stage(id="lost", name="Lost", order=3, kind="lost")))
    >>> sorted(p.graph().successors("lead"))
    ['lost', 'won']
    """

    model_config = _CONFIG

    id: str = _Id
    name: str
    stages: tuple[Stage, ...] = Field(min_length=2)
    moves: tuple[tuple[str, str], ...] | None = None
    allow_reopen: bool = False
    require_lost_reason: bool = True
    lost_reasons: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _check(self) -> Pipeline:
        ids = [s.id for s in self.stages]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"stage ids must be unique; repeated: {dupes}")
        orders = [s.order for s in self.stages]
        if len(set(orders)) != len(orders):
            raise ValueError(f"stage orders must be unique; got {orders}")
        kinds = {s.kind for s in self.stages}
        if "open" not in kinds or kinds == {"open"}:
            raise ValueError("a pipeline needs at least one open stage and one won or lost stage")
        known = set(ids)
        closed = {s.id for s in self.stages if s.is_closed}
        if self.moves is not None:
            unknown = sorted({x for m in self.moves for x in m if x not in known})
            if unknown:
                raise ValueError(f"moves name unknown stage(s) {unknown}; stages are {ids}")
            loops = sorted({a for a, b in self.moves if a == b})
            if loops:
                raise ValueError(f"a stage cannot move to itself: {loops}")
            out_of_closed = sorted({(a, b) for a, b in self.moves if a in closed})
            if out_of_closed and not self.allow_reopen:
                raise ValueError(
                    f"won/lost stages are absorbing: moves {out_of_closed} leave a closed stage; "
                    "set allow_reopen=True to allow reopening"
                )
            bad = sorted({(a, b) for a, b in self.moves if a in closed and b in closed})
            if bad:
                raise ValueError(f"moves {bad} go from a closed stage to a closed stage")
        if self.lost_reasons is not None:
            blank = [r for r in self.lost_reasons if not r.strip() or r.startswith("other")]
            if blank or not self.lost_reasons:
                raise ValueError(
                    "lost_reasons is a non-empty vocabulary of non-blank reasons; 'other: <text>' "
                    f"is always accepted and is not listed; got {list(self.lost_reasons)}"
                )
        if "won" not in kinds:
            raise ValueError(
                "a pipeline needs at least one won stage (kind='won'); stages are "
                f"{[(s.id, s.kind) for s in self.stages]}"
            )
        graph = self._build_graph()
        stuck = [
            s.id
            for s in self.stages
            if not s.is_closed and not (nx.descendants(graph, s.id) & closed)
        ]
        if stuck:
            raise ValueError(f"open stage(s) {stuck} cannot reach a won or lost stage")
        open_ids = {s.id for s in self.stages if not s.is_closed}
        unreachable = [
            s.id for s in self.stages if s.is_closed and not (nx.ancestors(graph, s.id) & open_ids)
        ]
        won_ids = {s.id for s in self.stages if s.kind == "won"}
        if won_ids <= set(unreachable):
            raise ValueError(
                f"no move reaches a won stage {sorted(won_ids)}; add a move into one, e.g. "
                f"({self.ordered[0].id!r}, {sorted(won_ids)[0]!r})"
            )
        if unreachable:
            raise ValueError(f"no move from an open stage reaches stage(s) {unreachable}")
        return self

    def _build_graph(self) -> nx.DiGraph:
        graph: nx.DiGraph = nx.DiGraph(pipeline=self.id)
        for s in sorted(self.stages, key=lambda s: s.order):
            graph.add_node(s.id, stage=s, kind=s.kind, order=s.order)
        if self.moves is not None:
            graph.add_edges_from(self.moves)
        else:
            for a in self.stages:
                for b in self.stages:
                    if a.id == b.id:
                        continue
                    if not a.is_closed or (self.allow_reopen and not b.is_closed):
                        graph.add_edge(a.id, b.id)
        return graph

    @cached_property
    def _graph(self) -> nx.DiGraph:
        return self._build_graph()

    @cached_property
    def _by_id(self) -> dict[str, Stage]:
        return {s.id: s for s in self.stages}

    @boundary
    def graph(self) -> nx.DiGraph:
        """The allowed moves as a new :class:`networkx.DiGraph` (node attr ``stage``, ``kind``).

        Examples
        --------
        >>> from clientmodel.datasets.deals import standard_pipeline
        >>> standard_pipeline().graph().has_edge("qualified", "won")
        True
        """
        return self._graph.copy()

    @boundary
    def stage(self, stage_id: str) -> Stage:
        """The stage with this id (an :class:`~clientmodel.errors.ArgumentError` if unknown).

        Examples
        --------
        >>> from clientmodel.datasets.deals import standard_pipeline
        >>> standard_pipeline().stage("won").kind
        'won'
        """
        found = self._by_id.get(stage_id) if isinstance(stage_id, str) else None
        if found is None:
            check_choice(stage_id, "stage_id", self._by_id)
        return self._by_id[stage_id]

    @boundary
    def has_stage(self, stage_id: str) -> bool:
        """Whether the pipeline has a stage with this id."""
        return stage_id in self._by_id

    @boundary
    def allows(self, from_stage: str, to_stage: str) -> bool:
        """Whether the move ``from_stage -> to_stage`` is an edge of the pipeline graph."""
        return bool(self._graph.has_edge(from_stage, to_stage))

    @property
    def ordered(self) -> tuple[Stage, ...]:
        """Stages sorted by ``order``."""
        return tuple(sorted(self.stages, key=lambda s: s.order))

    @property
    def open_stages(self) -> tuple[str, ...]:
        """Ids of the open stages in funnel order."""
        return tuple(s.id for s in self.ordered if not s.is_closed)

    @property
    def won_stages(self) -> tuple[str, ...]:
        """Ids of the won stages in order."""
        return tuple(s.id for s in self.ordered if s.kind == "won")

    @property
    def lost_stages(self) -> tuple[str, ...]:
        """Ids of the lost stages in order."""
        return tuple(s.id for s in self.ordered if s.kind == "lost")


class StageChange(BaseModel):
    """One entry of a deal's stage history: the deal entered ``to_stage`` at ``at``.

    ``from_stage`` is ``None`` for the first entry (the deal was created in ``to_stage``).

    Examples
    --------
    >>> import datetime as dt
    >>> StageChange(at=dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc), to_stage="lead").from_stage
    """

    model_config = _CONFIG

    at: AwareDatetime
    from_stage: str | None = None
    to_stage: str = _Id
    actor: str | None = None
    reason: str | None = None


#: Deal attributes whose changes :func:`clientmodel.funnel.update` records in ``field_history``
#: (``fields.<key>`` entries of ``Deal.fields`` are tracked too).
TRACKED_FIELDS: tuple[str, ...] = (
    "amount",
    "expected_close",
    "probability_override",
    "forecast_category",
    "owner",
)

FieldChangeValue = Decimal | dt.date | float | int | bool | str | None


@boundary
def tracked_value(name: str, value: Any) -> Any:
    """``value`` in the type the tracked field ``name`` holds (``ValueError`` when it cannot be)."""
    if value is None:
        if name in ("amount", "owner"):
            raise ValueError(f"{name} cannot be empty")
        return None
    if name == "amount":
        return money(value)
    if name == "expected_close":
        if isinstance(value, dt.datetime):
            raise ValueError(f"expected_close is a date, not a datetime; got {value!r}")
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"expected_close={value!r} is not an ISO date") from None
        if not isinstance(value, dt.date):
            raise ValueError(f"expected_close must be a date; got {type(value).__name__}")
        return value
    if name == "probability_override":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"probability_override must be a number in [0, 1]; got {value!r}")
        if not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"probability_override must be in [0, 1]; got {value!r}")
        return float(value)
    if name == "forecast_category":
        if value not in FORECAST_CATEGORIES:
            raise ValueError(
                f"forecast_category must be one of {list(FORECAST_CATEGORIES)}; got {value!r}"
            )
        return value
    if name == "owner":
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"owner must be non-blank text; got {value!r}")
        return value
    if name.startswith("fields.") and len(name) > 7:
        if not isinstance(value, (str, int, float, bool)):
            raise ValueError(f"{name} must be a JSON scalar; got {type(value).__name__}")
        return value
    raise ValueError(
        f"field {name!r} is not tracked; use one of {list(TRACKED_FIELDS)} or 'fields.<key>'"
    )


class FieldChange(BaseModel):
    """One entry of a deal's field history (after Salesforce's OpportunityHistory).

    ``field`` is one of :data:`TRACKED_FIELDS` or ``"fields.<key>"``; ``old`` and ``new`` are the
    values before and after (``None`` for unset), in the field's own type.

    Examples
    --------
    >>> import datetime as dt
    >>> c = FieldChange(at=dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc), field="amount",
    ...                 old="10000", new=12500.5, actor="ana")
    >>> c.old, c.new
    (Decimal('10000'), Decimal('12500.5'))
    """

    model_config = _CONFIG

    at: AwareDatetime
    field: str = _Id
    old: FieldChangeValue = None
    new: FieldChangeValue = None
    actor: str | None = None
    reason: str | None = None

    @model_validator(mode="after")
    def _typed(self) -> FieldChange:
        # JSON gives text for money and dates: read both values back in the field's type.
        for side in ("old", "new"):
            object.__setattr__(self, side, tracked_value(self.field, getattr(self, side)))
        if self.old == self.new:
            raise ValueError(f"a change of {self.field} needs a new value; got {self.new!r} twice")
        return self


class Lead(BaseModel):
    """A lead before qualification: where it came from, its status and qualification notes.

    ``fields`` holds the qualification fields (BANT: budget, authority, need, timeline; or
    MEDDPICC notes) and anything else entry criteria may test.

    Examples
    --------
    >>> import datetime as dt
    >>> Lead(id="L1", source="webinar", company="Acme",
    ...      created_at=dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)).status
    'new'
    """

    model_config = _CONFIG

    id: str = _Id
    source: str
    company: str
    created_at: AwareDatetime
    status: LeadStatus = "new"
    contact_name: str | None = None
    contact_title: str | None = None
    email: str | None = None
    owner: str | None = None
    fields: Fields = Field(default_factory=_no_fields)


def _check_currency(value: str) -> str:
    if len(value) != 3 or not value.isalpha() or not value.isupper():
        raise ValueError(f"currency must be an ISO 4217 code such as 'USD'; got {value!r}")
    return value


class Deal(BaseModel):
    """A deal (opportunity) moving through a pipeline, with its append-only stage history.

    ``stage`` is the current stage and must equal the last history entry's ``to_stage``; the
    history starts with ``from_stage=None``, chains ``from_stage`` to the previous ``to_stage``
    and never goes back in time. ``fields`` holds any further attributes entry criteria, scores
    and group-bys may use (e.g. ``source``, ``segment``, BANT/MEDDPICC fields) as a read-only
    mapping; a key with the name of an attribute is refused (attributes are never shadowed).

    ``forecast_category`` overrides the stage's forecast category for this deal (``None``: the
    stage's). ``field_history`` is the append-only history of the tracked fields
    (:data:`TRACKED_FIELDS` and ``fields.<key>``), written by :func:`clientmodel.funnel.update`;
    each change's ``old`` is the previous change's ``new`` and the last ``new`` is the current
    value, so :func:`clientmodel.funnel.deals_as_of` can replay every field to a past date.

    Examples
    --------
    >>> import datetime as dt
    >>> from decimal import Decimal
    >>> t0 = dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)
    >>> d = Deal(id="D1", pipeline_id="sales", account_id="A1", owner="ana",
    ...          amount=Decimal("12000"), currency="EUR", stage="lead",
    ...          history=(StageChange(at=t0, to_stage="lead"),))
    >>> d.created_at == t0, d.is_closed
    (True, False)
    """

    model_config = _CONFIG

    id: str = _Id
    pipeline_id: str = _Id
    account_id: str = _Id
    owner: str
    name: str | None = None
    amount: Decimal = Field(ge=0)
    currency: str = "USD"
    stage: str = _Id
    history: tuple[StageChange, ...] = Field(min_length=1)
    closed: Literal["won", "lost"] | None = None
    expected_close: dt.date | None = None
    lost_reason: str | None = None
    won_reason: str | None = None
    last_open_stage: str | None = None
    next_follow_up: AwareDatetime | None = None
    probability_override: float | None = Field(default=None, ge=0.0, le=1.0)
    source: str | None = None
    fields: Fields = Field(default_factory=_no_fields)
    forecast_category: ForecastCategory | None = None
    field_history: tuple[FieldChange, ...] = ()

    _check_currency = field_validator("currency")(_check_currency)

    @field_validator("amount", mode="before")
    @classmethod
    def _exact_amount(cls, value: Any) -> Any:
        return money(value) if isinstance(value, float) else value

    @field_validator("fields")
    @classmethod
    def _no_shadowing(cls, value: Mapping[str, FieldValue]) -> Mapping[str, FieldValue]:
        # An attribute and a field of the same name would make entry criteria ambiguous
        # (``amount >= 10000`` reading fields["amount"]): such a deal is refused.
        clash = sorted(k for k in value if k in cls.model_fields)
        if clash:
            raise ValueError(
                f"fields {clash} have the names of Deal attributes; set the attribute itself "
                "or rename the field"
            )
        return value

    @model_validator(mode="after")
    def _check_history(self) -> Deal:
        if self.history[0].from_stage is not None:
            raise ValueError("the first stage change must have from_stage=None (deal created)")
        for i in range(1, len(self.history)):
            prev, cur = self.history[i - 1], self.history[i]
            if cur.from_stage != prev.to_stage:
                raise ValueError(
                    f"history[{i}].from_stage={cur.from_stage!r} does not follow "
                    f"history[{i - 1}].to_stage={prev.to_stage!r}"
                )
            if cur.at < prev.at:
                raise ValueError(
                    f"history[{i}].at={cur.at.isoformat()} is before history[{i - 1}].at="
                    f"{prev.at.isoformat()}; the stage history cannot go back in time"
                )
        if self.history[-1].to_stage != self.stage:
            raise ValueError(
                f"stage={self.stage!r} but the last history entry entered "
                f"{self.history[-1].to_stage!r}"
            )
        self._check_field_history()
        return self

    def _check_field_history(self) -> None:
        """Field changes go forward in time and chain: each ``old`` is the previous ``new``."""
        last: dict[str, Any] = {}
        for i, c in enumerate(self.field_history):
            if c.at < self.created_at:
                raise ValueError(f"field_history[{i}] is dated before the deal was created")
            if i and c.at < self.field_history[i - 1].at:
                raise ValueError(f"field_history[{i}].at goes back in time")
            if c.field in last and c.old != last[c.field]:
                raise ValueError(
                    f"field_history[{i}].old={c.old!r} but the previous change of {c.field!r} "
                    f"set {last[c.field]!r}"
                )
            last[c.field] = c.new
        for name, value in last.items():
            if value != self.tracked(name):
                raise ValueError(
                    f"the last change of {name!r} set {value!r} but the deal holds "
                    f"{self.tracked(name)!r}"
                )

    @boundary
    def tracked(self, name: str) -> Any:
        """The current value of a tracked field (an attribute or ``fields.<key>``).

        Examples
        --------
        >>> import datetime as dt
        >>> t0 = dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)
        >>> d = Deal(id="D1", pipeline_id="p", account_id="A", owner="o", amount=1, stage="s",
        ...          history=(StageChange(at=t0, to_stage="s"),), fields={"budget": 5})
        >>> d.tracked("owner"), d.tracked("fields.budget")
        ('o', 5)
        """
        if name.startswith("fields.") and len(name) > 7:
            return self.fields.get(name[7:])
        if name not in TRACKED_FIELDS:
            raise ArgumentError(
                f"field {name!r} is not tracked; use one of {list(TRACKED_FIELDS)} or "
                "'fields.<key>'",
                field="name",
            )
        return getattr(self, name)

    @property
    def created_at(self) -> dt.datetime:
        """When the deal entered its first stage."""
        return self.history[0].at

    @property
    def stage_entered_at(self) -> dt.datetime:
        """When the deal entered its current stage."""
        return self.history[-1].at

    @property
    def is_closed(self) -> bool:
        """Whether the deal is won or lost."""
        return self.closed is not None

    @property
    def closed_at(self) -> dt.datetime | None:
        """When the deal was closed, or ``None`` while it is open."""
        return self.history[-1].at if self.closed is not None else None

    @boundary
    def field(self, name: str) -> Any:
        """A deal attribute or, failing that, an entry of ``fields`` (``None`` when absent).

        Examples
        --------
        >>> import datetime as dt
        >>> t0 = dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)
        >>> d = Deal(id="D1", pipeline_id="p", account_id="A", owner="o", amount=1, stage="s",
        ...          history=(StageChange(at=t0, to_stage="s"),), fields={"budget": 5000})
        >>> d.field("owner"), d.field("budget"), d.field("nothing")
        ('o', 5000, None)
        """
        if name in type(self).model_fields and name != "fields":
            return getattr(self, name)
        return self.fields.get(name)

    @boundary
    def record(self) -> dict[str, Any]:
        """The flat mapping entry criteria are evaluated on: attributes merged with ``fields``.

        Examples
        --------
        >>> import datetime as dt
        >>> t0 = dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)
        >>> d = Deal(id="D1", pipeline_id="p", account_id="A", owner="o", amount=1, stage="s",
        ...          history=(StageChange(at=t0, to_stage="s"),), fields={"budget": 5000})
        >>> d.record()["budget"], d.record()["owner"]
        (5000, 'o')
        """
        out: dict[str, Any] = {k: getattr(self, k) for k in type(self).model_fields}
        del out["fields"], out["history"], out["field_history"]
        out.update(self.fields)
        return out
