"""Records of the account graph: accounts, contacts, our team, relationships, buying roles, deals.

Every record is a frozen pydantic v2 model that forbids unknown fields, so it validates at the
boundary, serialises to JSON and publishes a JSON Schema (``Contact.model_json_schema()``).
Datetimes must carry a timezone; money is a ``Decimal`` with an ISO 4217 currency code.

Identifiers are plain strings and must be unique across every record kind that becomes a graph
node (accounts, contacts, team members, deals), because they are the node keys of the graph that
:func:`clientmodel.accounts.build_graph` returns.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "BUYING_ROLES",
    "DECISION_ROLES",
    "KEY_PLAYER_ROLES",
    "RELATIONSHIP_KINDS",
    "SENIORITIES",
    "STANCES",
    "Account",
    "BuyingRole",
    "Contact",
    "DealContext",
    "Relationship",
    "RelationshipKind",
    "RoleAssignment",
    "Seniority",
    "Stance",
    "TeamMember",
]

BuyingRole = Literal[
    "decision_maker",
    "economic_buyer",
    "technical_evaluator",
    "business_evaluator",
    "champion",
    "influencer",
    "user",
    "gatekeeper",
    "blocker",
    "executive_sponsor",
]
#: Every buying role a contact can hold on a deal or an account.
BUYING_ROLES: tuple[str, ...] = BuyingRole.__args__  # type: ignore[attr-defined]

#: Roles whose holders decide (used by the "green" committee status).
DECISION_ROLES: tuple[str, ...] = ("decision_maker", "economic_buyer")

#: Roles whose holders are key players (Altify-style): they can move the decision.
KEY_PLAYER_ROLES: tuple[str, ...] = (
    "decision_maker",
    "economic_buyer",
    "executive_sponsor",
    "champion",
    "technical_evaluator",
    "business_evaluator",
    "influencer",
)

Stance = Literal["supporter", "neutral", "detractor"]
#: A contact's stance towards us on a deal.
STANCES: tuple[str, ...] = Stance.__args__  # type: ignore[attr-defined]

Seniority = Literal["c_level", "vp", "director", "manager", "individual"]
#: Seniority levels, most senior first.
SENIORITIES: tuple[str, ...] = Seniority.__args__  # type: ignore[attr-defined]

RelationshipKind = Literal["reports_to", "influences", "works_with", "knows"]
#: Relationship kinds; ``works_with`` and ``knows`` are symmetric.
RELATIONSHIP_KINDS: tuple[str, ...] = RelationshipKind.__args__  # type: ignore[attr-defined]

_CONFIG = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
_Id = Field(min_length=1, max_length=200)


class Account(BaseModel):
    """A company we sell to; ``parent_id`` links a subsidiary to its parent account.

    ``domain`` is the company's web domain (``acme.com``), used to match leads to accounts.

    Examples
    --------
    >>> Account(id="acme", name="Acme Corp", tier="strategic").parent_id is None
    True
    """

    model_config = _CONFIG

    id: str = _Id
    name: str
    parent_id: str | None = None
    industry: str | None = None
    employees: int | None = Field(default=None, ge=0)
    tier: str | None = None
    domain: str | None = None


class Contact(BaseModel):
    """A person at one or more accounts.

    ``active=False`` means the person has left: they keep their history but fill no role and
    carry no path.

    Examples
    --------
    >>> Contact(id="c1", name="Dana", account_ids=("acme",), seniority="vp").active
    True
    """

    model_config = _CONFIG

    id: str = _Id
    name: str
    account_ids: tuple[str, ...] = Field(min_length=1)
    title: str | None = None
    department: str | None = None
    seniority: Seniority = "individual"
    active: bool = True


class TeamMember(BaseModel):
    """A person on our side (seller, engineer, executive).

    Examples
    --------
    >>> TeamMember(id="t1", name="Ana", role="account_executive").active
    True
    """

    model_config = _CONFIG

    id: str = _Id
    name: str
    role: str = "account_executive"
    active: bool = True


class Relationship(BaseModel):
    """A directed tie between two people (contacts or team members).

    ``reports_to``: ``source`` reports to ``target``. ``influences``: ``source`` sways ``target``.
    ``works_with`` and ``knows`` are symmetric; give each pair once. ``strength`` is in
    ``[0, 1]``; ``last_interaction`` is when the two last interacted (timezone-aware).

    Examples
    --------
    >>> Relationship(source="t1", target="c1", kind="knows", strength=0.8).strength
    0.8
    """

    model_config = _CONFIG

    source: str = _Id
    target: str = _Id
    kind: RelationshipKind
    strength: float = Field(default=0.5, ge=0.0, le=1.0)
    last_interaction: AwareDatetime | None = None


class RoleAssignment(BaseModel):
    """A contact's buying role on one deal (``deal_id``) or on every deal of an account.

    Exactly one of ``deal_id`` and ``account_id`` is given. ``primary`` marks the one primary
    contact of a deal.

    Examples
    --------
    >>> RoleAssignment(contact_id="c1", role="champion", deal_id="d1", stance="supporter").primary
    False
    """

    model_config = _CONFIG

    contact_id: str = _Id
    role: BuyingRole
    deal_id: str | None = None
    account_id: str | None = None
    stance: Stance = "neutral"
    primary: bool = False

    @model_validator(mode="after")
    def _one_scope(self) -> RoleAssignment:
        if (self.deal_id is None) == (self.account_id is None):
            raise ValueError(
                "give exactly one of deal_id (a role on one deal) or account_id (a role on "
                f"every deal of the account); got deal_id={self.deal_id!r}, "
                f"account_id={self.account_id!r}"
            )
        return self


class DealContext(BaseModel):
    """What the account graph needs to know about a deal.

    ``status`` is ``open``, ``won`` or ``lost``; ``amount`` is the deal value in ``currency``.
    The MEDDPICC fields hold the team's notes (``None`` or blank means not yet known): metrics,
    decision criteria, decision process, paper process, identified pain and competition. The
    economic buyer and champion come from the graph's buying roles.

    Examples
    --------
    >>> from decimal import Decimal
    >>> DealContext(id="d1", account_id="acme", amount=Decimal("120000"), currency="EUR").status
    'open'
    """

    model_config = _CONFIG

    id: str = _Id
    account_id: str = _Id
    name: str | None = None
    status: Literal["open", "won", "lost"] = "open"
    stage: str | None = None
    amount: Decimal = Field(default=Decimal(0), ge=0)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    close_date: AwareDatetime | None = None
    metrics: str | None = None
    decision_criteria: str | None = None
    decision_process: str | None = None
    paper_process: str | None = None
    pain: str | None = None
    competition: str | None = None
