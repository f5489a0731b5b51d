"""Key-person risk: what we lose if one contact or one of our team leaves.

Removing a person $v$ from the people graph $G$ (active contacts and team members joined by any
person-to-person tie) can cost three things:

* the **relationships** $v$ carried (every tie incident to $v$);
* the **roles** $v$ alone filled on open deals (no other active holder of the same role);
* **reach**: other decision-role holders
  (:data:`~clientmodel.accounts.models.DECISION_ROLES`) of open deals that some active team
  member could reach through $G$ before and none can after.

A person who only *relays* reach breaks it when they are an *articulation point* (cut vertex)
of $G$: a vertex whose removal disconnects its connected component (Hopcroft & Tarjan 1973,
"Efficient algorithms for graph manipulation", CACM 16(6)); :func:`articulation_people` lists
those people for an account. A team member is also a *source* of reach, so a leaf team member
(the only seller who knows anyone there) breaks reach without being an articulation point;
:func:`key_person_risk` therefore recomputes reach without the person and reports the three
losses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import networkx as nx  # type: ignore[import-untyped]

from clientmodel._validation import boundary, read_form
from clientmodel.accounts._common import check_node, committee, person_graph
from clientmodel.accounts.graph import (
    ATTR_ACTIVE,
    ATTR_RECORD,
    ATTR_STRENGTH,
    EDGE_BELONGS_TO,
    EDGE_KIND,
    KIND_ACCOUNT,
    KIND_CONTACT,
    KIND_DEAL,
    KIND_TEAM,
    NODE_KIND,
    PERSON_EDGES,
    nodes_of_kind,
)
from clientmodel.accounts.models import DECISION_ROLES

__all__ = ["PersonRisk", "account_risks", "articulation_people", "key_person_risk"]


@attrs.frozen
class PersonRisk:
    """What leaving costs (see the module notes).

    ``relationships_cut`` holds ``(other person, kind, strength)``; ``roles_uncovered`` holds
    ``(deal, role)``; ``decision_makers_unreachable`` holds ``(deal, contact)``.

    Examples
    --------
    >>> PersonRisk("c1", False, (("t1", "knows", 0.8),), (), ()).severity
    'low'
    """

    person: str
    articulation_point: bool
    relationships_cut: tuple[tuple[str, str, float], ...]
    roles_uncovered: tuple[tuple[str, str], ...]
    decision_makers_unreachable: tuple[tuple[str, str], ...]

    @property
    def severity(self) -> str:
        """``high`` if reach to a decision maker breaks, ``medium`` if a role goes uncovered,
        else ``low``."""
        if self.decision_makers_unreachable:
            return "high"
        return "medium" if self.roles_uncovered else "low"

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form.

        Examples
        --------
        >>> PersonRisk("c1", False, (), (), ()).to_dict()["severity"]
        'low'
        """
        return {
            "person": self.person,
            "articulation_point": self.articulation_point,
            "relationships_cut": [list(r) for r in self.relationships_cut],
            "roles_uncovered": [list(r) for r in self.roles_uncovered],
            "decision_makers_unreachable": [list(r) for r in self.decision_makers_unreachable],
            "severity": self.severity,
        }

    @classmethod
    @boundary
    def from_dict(cls, data: Mapping[str, Any]) -> PersonRisk:
        """Rebuild from :meth:`to_dict` output.

        Examples
        --------
        >>> r = PersonRisk("c1", True, (("t1", "knows", 0.5),), (("d1", "champion"),), ())
        >>> PersonRisk.from_dict(r.to_dict()) == r
        True
        """
        return read_form(cls, data)


def _open_deals(graph: Any, account: str | None) -> list[str]:
    return [
        d
        for d in nodes_of_kind(graph, KIND_DEAL)
        if getattr(graph.nodes[d].get(ATTR_RECORD), "status", "open") == "open"
        and (account is None or graph.nodes[d][ATTR_RECORD].account_id == account)
    ]


def _reach(people: Any) -> set[str]:
    reached: set[str] = set()
    for n, kind in people.nodes(data=NODE_KIND):
        if kind == KIND_TEAM and n not in reached:
            reached |= nx.node_connected_component(people, n)
    return reached


@boundary
def key_person_risk(graph: Any, person: str, *, account: str | None = None) -> PersonRisk:
    """What we lose if ``person`` (a contact or a team member) leaves.

    Only open deals count for roles and reach: every open deal, or only those of ``account``
    when given. An inactive person has already left: nothing more is lost.

    Examples
    --------
    >>> from clientmodel.accounts import Account, Contact, Relationship, TeamMember, build_graph
    >>> g = build_graph(
    ...     [Account(id="acme", name="Acme")],
    ...     [Contact(id="c1", name="Dana", account_ids=("acme",))],
    ...     [TeamMember(id="t1", name="Ana")],
    ...     [Relationship(source="t1", target="c1", kind="knows", strength=0.8)],
    ... )
    >>> key_person_risk(g, "t1").relationships_cut
    (('c1', 'knows', 0.8),)
    """
    person = check_node(graph, person, (KIND_CONTACT, KIND_TEAM), "person")
    if account is not None:
        account = check_node(graph, account, (KIND_ACCOUNT,), "account")
    if not graph.nodes[person].get(ATTR_ACTIVE, True):
        return PersonRisk(person, False, (), (), ())
    people = person_graph(graph)
    cut = sorted(
        (str(v if u == person else u), str(d[EDGE_KIND]), float(d[ATTR_STRENGTH]))
        for u, v, d in (*graph.out_edges(person, data=True), *graph.in_edges(person, data=True))
        if d.get(EDGE_KIND) in PERSON_EDGES
        and graph.nodes[v if u == person else u].get(ATTR_ACTIVE, True)
    )
    uncovered: list[tuple[str, str]] = []
    deciders: list[tuple[str, str]] = []
    for deal in _open_deals(graph, account):
        seats = committee(graph, deal)
        for s in seats:
            if s.contact == person and not any(
                o.role == s.role and o.contact != person for o in seats
            ):
                uncovered.append((deal, s.role))
        deciders.extend((deal, s.contact) for s in seats if s.role in DECISION_ROLES)
    before = _reach(people)
    after_graph = people.copy()
    after_graph.remove_node(person)
    after = _reach(after_graph)
    lost = sorted({(d, c) for d, c in deciders if c != person and c in before and c not in after})
    component = nx.node_connected_component(people, person)
    sub = people.subgraph(component)
    is_cut = len(component) > 2 and person in set(nx.articulation_points(sub))
    return PersonRisk(person, is_cut, tuple(cut), tuple(sorted(set(uncovered))), tuple(lost))


@boundary
def articulation_people(graph: Any, account: str) -> list[str]:
    """People whose departure splits the web of ties around an account.

    The web is the active contacts of the account, the active team members tied to them, and
    every tie among those people. Returns the articulation points of that graph, sorted.

    Examples
    --------
    >>> from clientmodel.accounts import Account, Contact, Relationship, TeamMember, build_graph
    >>> g = build_graph(
    ...     [Account(id="acme", name="Acme")],
    ...     [Contact(id=c, name=c, account_ids=("acme",)) for c in ("c1", "c2")],
    ...     [TeamMember(id="t1", name="Ana")],
    ...     [Relationship(source="t1", target="c1", kind="knows"),
    ...      Relationship(source="c1", target="c2", kind="works_with")],
    ... )
    >>> articulation_people(g, "acme")
    ['c1']
    """
    account = check_node(graph, account, (KIND_ACCOUNT,), "account")
    people = person_graph(graph)
    members = {
        u for u, _, k in graph.in_edges(account, keys=True) if k == EDGE_BELONGS_TO and u in people
    }
    team = {n for c in members for n in people[c] if graph.nodes[n][NODE_KIND] == KIND_TEAM}
    return sorted(str(n) for n in nx.articulation_points(people.subgraph(members | team)))


_SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


@boundary
def account_risks(graph: Any, account: str) -> list[PersonRisk]:
    """Key-person risk of every active person in the web around an account, worst first.

    The web is the account's active contacts and the active team members tied to them (as in
    :func:`articulation_people`); only the account's open deals count. People are ordered by
    severity, then by how many decision makers and roles they put at risk, then by ties cut.

    Examples
    --------
    >>> from clientmodel.datasets.accounts import make_accounts
    >>> data = make_accounts(n_accounts=2, seed=4)
    >>> risks = account_risks(data.graph(), "A0")
    >>> [r.severity for r in risks] == sorted((r.severity for r in risks),
    ...                                       key=["high", "medium", "low"].index)
    True
    """
    account = check_node(graph, account, (KIND_ACCOUNT,), "account")
    people = person_graph(graph)
    members = {
        u for u, _, k in graph.in_edges(account, keys=True) if k == EDGE_BELONGS_TO and u in people
    }
    team = {n for c in members for n in people[c] if graph.nodes[n][NODE_KIND] == KIND_TEAM}
    risks = [key_person_risk(graph, p, account=account) for p in sorted(members | team)]
    return sorted(
        risks,
        key=lambda r: (
            _SEVERITY_ORDER[r.severity],
            -len(r.decision_makers_unreachable),
            -len(r.roles_uncovered),
            -len(r.relationships_cut),
            r.person,
        ),
    )
