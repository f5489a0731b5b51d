"""Build the account graph: one ``networkx.MultiDiGraph`` holding accounts, people and deals.

Node kinds (node attribute :data:`NODE_KIND`)
---------------------------------------------
``account`` (:data:`KIND_ACCOUNT`), ``contact`` (:data:`KIND_CONTACT`), ``team_member``
(:data:`KIND_TEAM`), ``deal`` (:data:`KIND_DEAL`). Every node also has :data:`ATTR_RECORD` (the
pydantic record it came from) and :data:`ATTR_NAME`; people have :data:`ATTR_ACTIVE`; contacts
have :data:`ATTR_SENIORITY`.

Edges (edge attribute :data:`EDGE_KIND`; the edge key is the kind, or ``role:<role>``)
-------------------------------------------------------------------------------------
* ``belongs_to``: contact -> account (one per account the contact sits in);
* ``subsidiary_of``: account -> parent account;
* ``deal_of``: deal -> account;
* ``reports_to`` / ``influences`` / ``works_with`` / ``knows``: person -> person, as given, with
  :data:`ATTR_STRENGTH` (0..1), :data:`ATTR_LAST_INTERACTION` (aware datetime or ``None``) and
  :data:`ATTR_SYMMETRIC` (``True`` for ``works_with`` and ``knows``);
* ``has_role``: contact -> deal (or -> account for an account-wide role) with :data:`ATTR_ROLE`,
  :data:`ATTR_STANCE` and :data:`ATTR_PRIMARY`.

The graph is a plain networkx graph: keep it, add to it, run any networkx algorithm on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import networkx as nx  # type: ignore[import-untyped]
from pydantic import BaseModel, ValidationError

from clientmodel._validation import boundary, check_choice
from clientmodel.accounts.models import (
    Account,
    Contact,
    DealContext,
    Relationship,
    RoleAssignment,
    TeamMember,
)
from clientmodel.errors import ArgumentError, DataError

__all__ = [
    "ATTR_ACTIVE",
    "ATTR_LAST_INTERACTION",
    "ATTR_NAME",
    "ATTR_PRIMARY",
    "ATTR_RECORD",
    "ATTR_ROLE",
    "ATTR_SENIORITY",
    "ATTR_STANCE",
    "ATTR_STRENGTH",
    "ATTR_SYMMETRIC",
    "EDGE_BELONGS_TO",
    "EDGE_DEAL_OF",
    "EDGE_HAS_ROLE",
    "EDGE_KIND",
    "EDGE_SUBSIDIARY_OF",
    "KIND_ACCOUNT",
    "KIND_CONTACT",
    "KIND_DEAL",
    "KIND_TEAM",
    "NODE_KIND",
    "NODE_KINDS",
    "PERSON_EDGES",
    "build_graph",
    "nodes_of_kind",
]

#: Node attribute naming the node kind.
NODE_KIND = "kind"
KIND_ACCOUNT = "account"
KIND_CONTACT = "contact"
KIND_TEAM = "team_member"
KIND_DEAL = "deal"
#: Every node kind.
NODE_KINDS: tuple[str, ...] = (KIND_ACCOUNT, KIND_CONTACT, KIND_TEAM, KIND_DEAL)

#: Node attributes.
ATTR_RECORD = "record"
ATTR_NAME = "name"
ATTR_ACTIVE = "active"
ATTR_SENIORITY = "seniority"

#: Edge attribute naming the edge kind.
EDGE_KIND = "kind"
EDGE_BELONGS_TO = "belongs_to"
EDGE_SUBSIDIARY_OF = "subsidiary_of"
EDGE_DEAL_OF = "deal_of"
EDGE_HAS_ROLE = "has_role"
#: Edge kinds between two people.
PERSON_EDGES: tuple[str, ...] = ("reports_to", "influences", "works_with", "knows")

#: Edge attributes.
ATTR_STRENGTH = "strength"
ATTR_LAST_INTERACTION = "last_interaction"
ATTR_SYMMETRIC = "symmetric"
ATTR_ROLE = "role"
ATTR_STANCE = "stance"
ATTR_PRIMARY = "primary"

_M = TypeVar("_M", bound=BaseModel)
_SHOWN = 20


def _records(items: Iterable[Any], model: type[_M], field: str, problems: list[str]) -> list[_M]:
    if isinstance(items, (str, bytes, Mapping, BaseModel)) or not isinstance(items, Iterable):
        raise DataError(
            f"{field} must be a list of {model.__name__} records or mappings; got "
            f"{type(items).__name__}",
            field=field,
        )
    out: list[_M] = []
    for i, item in enumerate(items):
        if isinstance(item, model):
            out.append(item)
            continue
        if not isinstance(item, Mapping):
            problems.append(f"{field}[{i}]: a {type(item).__name__}, not a {model.__name__}")
            continue
        try:
            out.append(model.model_validate(dict(item)))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            problems.append(f"{field}[{i}]: {where}: {first['msg']}")
    return out


@boundary
def build_graph(
    accounts: Iterable[Account | Mapping[str, Any]],
    contacts: Iterable[Contact | Mapping[str, Any]] = (),
    team: Iterable[TeamMember | Mapping[str, Any]] = (),
    relationships: Iterable[Relationship | Mapping[str, Any]] = (),
    roles: Iterable[RoleAssignment | Mapping[str, Any]] = (),
    deals: Iterable[DealContext | Mapping[str, Any]] = (),
) -> Any:
    """Build the account graph from records (or mappings that validate as records).

    Every bad reference is collected and reported together in one
    :class:`~clientmodel.errors.DataError`: duplicate ids, a contact, deal or role of an unknown
    account, a relationship or role naming an unknown person or deal, self-loops, ``reports_to``
    across our side and theirs, ``reports_to`` or parent-account cycles, duplicate relationships
    or roles, and more than one primary contact on a deal.

    Parameters
    ----------
    accounts, contacts, team, relationships, roles, deals:
        The records (see :mod:`clientmodel.accounts.models`).

    Returns
    -------
    networkx.MultiDiGraph
        Nodes and edges as described in the module notes.

    Examples
    --------
    >>> g = build_graph(
    ...     [Account(id="acme", name="Acme")],
    ...     [Contact(id="c1", name="Dana", account_ids=("acme",))],
    ...     [TeamMember(id="t1", name="Ana")],
    ...     [Relationship(source="t1", target="c1", kind="knows", strength=0.7)],
    ... )
    >>> g.nodes["c1"]["kind"], g.edges["t1", "c1", "knows"]["strength"]
    ('contact', 0.7)
    """
    problems: list[str] = []
    acc = _records(accounts, Account, "accounts", problems)
    con = _records(contacts, Contact, "contacts", problems)
    tm = _records(team, TeamMember, "team", problems)
    rel = _records(relationships, Relationship, "relationships", problems)
    rol = _records(roles, RoleAssignment, "roles", problems)
    dls = _records(deals, DealContext, "deals", problems)

    g = nx.MultiDiGraph()
    kinds: dict[str, str] = {}
    parents: list[tuple[str, str]] = []
    reports: list[tuple[str, str]] = []

    def add_node(node_id: str, kind: str, record: BaseModel, **attrs: Any) -> None:
        if node_id in kinds:
            problems.append(f"duplicate id {node_id!r} ({kinds[node_id]} and {kind})")
            return
        kinds[node_id] = kind
        g.add_node(node_id, **{NODE_KIND: kind, ATTR_RECORD: record, **attrs})

    for a in acc:
        add_node(a.id, KIND_ACCOUNT, a, **{ATTR_NAME: a.name})
    for c in con:
        add_node(
            c.id,
            KIND_CONTACT,
            c,
            **{ATTR_NAME: c.name, ATTR_ACTIVE: c.active, ATTR_SENIORITY: c.seniority},
        )
    for t in tm:
        add_node(t.id, KIND_TEAM, t, **{ATTR_NAME: t.name, ATTR_ACTIVE: t.active})
    for d in dls:
        add_node(d.id, KIND_DEAL, d, **{ATTR_NAME: d.name or d.id})

    def kind_of(node_id: str | None) -> str | None:
        return None if node_id is None else kinds.get(node_id)

    for a in acc:
        if a.parent_id is None:
            continue
        if kind_of(a.parent_id) != KIND_ACCOUNT:
            problems.append(f"account {a.id!r}: parent_id {a.parent_id!r} is not a known account")
        elif a.parent_id == a.id:
            problems.append(f"account {a.id!r} is its own parent")
        else:
            g.add_edge(a.id, a.parent_id, key=EDGE_SUBSIDIARY_OF, **{EDGE_KIND: EDGE_SUBSIDIARY_OF})
            parents.append((a.id, a.parent_id))
    for c in con:
        for account_id in dict.fromkeys(c.account_ids):
            if kind_of(account_id) != KIND_ACCOUNT:
                problems.append(f"contact {c.id!r}: account {account_id!r} is not a known account")
            else:
                g.add_edge(c.id, account_id, key=EDGE_BELONGS_TO, **{EDGE_KIND: EDGE_BELONGS_TO})
    for d in dls:
        if kind_of(d.account_id) != KIND_ACCOUNT:
            problems.append(f"deal {d.id!r}: account {d.account_id!r} is not a known account")
        else:
            g.add_edge(d.id, d.account_id, key=EDGE_DEAL_OF, **{EDGE_KIND: EDGE_DEAL_OF})

    people = (KIND_CONTACT, KIND_TEAM)
    seen_pairs: dict[tuple[str, str, str], int] = {}
    for i, r in enumerate(rel):
        label = f"relationships[{i}] ({r.source!r} {r.kind} {r.target!r})"
        ks, kt = kind_of(r.source), kind_of(r.target)
        bad = [n for n, k in ((r.source, ks), (r.target, kt)) if k not in people]
        if bad:
            problems.append(
                f"{label}: {', '.join(map(repr, bad))} is not a known contact or team member"
            )
            continue
        if r.source == r.target:
            problems.append(f"{label}: self-loop (a person related to themself)")
            continue
        if r.kind == "reports_to" and ks != kt:
            problems.append(
                f"{label}: reports_to must stay on one side (contact to contact or "
                "team member to team member)"
            )
            continue
        symmetric = r.kind in ("works_with", "knows")
        key = (*sorted((r.source, r.target)), r.kind) if symmetric else (r.source, r.target, r.kind)
        if key in seen_pairs:
            problems.append(f"{label}: duplicate of relationships[{seen_pairs[key]}]")
            continue
        seen_pairs[key] = i  # type: ignore[index]
        if r.kind == "reports_to":
            reports.append((r.source, r.target))
        g.add_edge(
            r.source,
            r.target,
            key=r.kind,
            **{
                EDGE_KIND: r.kind,
                ATTR_STRENGTH: r.strength,
                ATTR_LAST_INTERACTION: r.last_interaction,
                ATTR_SYMMETRIC: symmetric,
            },
        )

    seen_roles: dict[tuple[str, str, str], int] = {}
    stances: dict[tuple[str, str], dict[str, int]] = {}
    primaries: dict[str, list[str]] = {}
    for i, ra in enumerate(rol):
        scope = ra.deal_id if ra.deal_id is not None else ra.account_id
        assert scope is not None
        wanted = KIND_DEAL if ra.deal_id is not None else KIND_ACCOUNT
        label = f"roles[{i}] ({ra.contact_id!r} {ra.role} on {scope!r})"
        if kind_of(ra.contact_id) != KIND_CONTACT:
            problems.append(f"{label}: {ra.contact_id!r} is not a known contact")
            continue
        if kind_of(scope) != wanted:
            problems.append(f"{label}: {scope!r} is not a known {wanted}")
            continue
        rkey = (ra.contact_id, ra.role, scope)
        if rkey in seen_roles:
            problems.append(f"{label}: duplicate of roles[{seen_roles[rkey]}]")
            continue
        seen_roles[rkey] = i
        held = stances.setdefault((ra.contact_id, scope), {})
        opposite = {"supporter": "detractor", "detractor": "supporter"}.get(ra.stance)
        if opposite in held:
            problems.append(
                f"{label}: {ra.contact_id!r} is a {ra.stance} here but a {opposite} in "
                f"roles[{held[opposite]}] on the same {wanted}; give one stance per {wanted}"
            )
            continue
        held.setdefault(ra.stance, i)
        if ra.primary:
            primaries.setdefault(scope, []).append(ra.contact_id)
        g.add_edge(
            ra.contact_id,
            scope,
            key=f"role:{ra.role}",
            **{
                EDGE_KIND: EDGE_HAS_ROLE,
                ATTR_ROLE: ra.role,
                ATTR_STANCE: ra.stance,
                ATTR_PRIMARY: ra.primary,
            },
        )
    for scope, holders in primaries.items():
        distinct = list(dict.fromkeys(holders))
        if len(distinct) > 1:
            problems.append(
                f"{scope!r} has {len(distinct)} primary contacts {distinct}; mark exactly one"
            )

    problems.extend(_cycles(reports, "reports_to cycle"))
    problems.extend(_cycles(parents, "parent-account cycle"))
    if problems:
        shown = "\n  ".join(problems[:_SHOWN])
        more = f"\n  (and {len(problems) - _SHOWN} more)" if len(problems) > _SHOWN else ""
        raise DataError(
            f"account graph has {len(problems)} problem(s):\n  {shown}{more}\n"
            "every id must be unique and every reference must name a known record",
            field="graph",
        )
    return g


def _cycles(arcs: list[tuple[str, str]], what: str) -> list[str]:
    sub = nx.DiGraph()
    sub.add_edges_from(arcs)
    out = []
    for comp in nx.strongly_connected_components(sub):
        if len(comp) > 1:
            cycle = nx.find_cycle(sub.subgraph(comp))
            out.append(f"{what}: " + " -> ".join([str(u) for u, _ in cycle] + [str(cycle[0][0])]))
    return out


@boundary
def nodes_of_kind(graph: Any, kind: str) -> list[str]:
    """Ids of the nodes of one kind, in insertion order.

    Examples
    --------
    >>> g = build_graph([Account(id="acme", name="Acme")])
    >>> nodes_of_kind(g, "account")
    ['acme']
    """
    if not isinstance(graph, nx.Graph):
        raise ArgumentError(
            f"graph must be an account graph from build_graph; got {type(graph).__name__}",
            field="graph",
        )
    check_choice(kind, "kind", NODE_KINDS)
    return [n for n, k in graph.nodes(data=NODE_KIND) if k == kind]
