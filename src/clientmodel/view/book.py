"""The B2B side of a person: the account records, built once into a graph, with win probabilities.

A :class:`Book` holds what :mod:`clientmodel.accounts` knows (accounts, contacts, our team,
relationships, buying roles, deals) plus each open deal's win probability (from
:func:`clientmodel.funnel.deal_probability`, a Markov chain or the caller's own), and answers,
for the contacts behind one person, what the customer view needs: the accounts and buying roles,
the open deals whose committee the person sits on (with stage, win probability and the
committee's status from :func:`clientmodel.accounts.committee_coverage`), and the strongest warm
path from our team (:func:`clientmodel.accounts.warm_paths`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from itertools import pairwise
from typing import Any, TypeVar

import attrs
import networkx as nx  # type: ignore[import-untyped]
from pydantic import BaseModel

from clientmodel._validation import boundary, validate_records
from clientmodel.accounts import (
    Account,
    Contact,
    DealContext,
    Relationship,
    RoleAssignment,
    TeamMember,
    build_graph,
    committee_coverage,
)
from clientmodel.errors import ArgumentError
from clientmodel.view._common import probability

__all__ = ["Book"]

_R = TypeVar("_R", bound=BaseModel)
#: A warm path: the people from our team member to the contact, its strength, its explanation.
_Path = tuple[tuple[str, ...], float, str]


def _records(model: type[_R], values: Any, field: str) -> tuple[_R, ...]:
    """The records (or their dicts) as a tuple, errors naming the item."""
    return tuple(validate_records(model, values, field=field))


def _accounts(values: Any) -> tuple[Account, ...]:
    return _records(Account, values, "accounts")


def _contacts(values: Any) -> tuple[Contact, ...]:
    return _records(Contact, values, "contacts")


def _team(values: Any) -> tuple[TeamMember, ...]:
    return _records(TeamMember, values, "team")


def _relationships(values: Any) -> tuple[Relationship, ...]:
    return _records(Relationship, values, "relationships")


def _roles(values: Any) -> tuple[RoleAssignment, ...]:
    return _records(RoleAssignment, values, "roles")


def _deals(values: Any) -> tuple[DealContext, ...]:
    return _records(DealContext, values, "deals")


def _probabilities(values: Mapping[str, Any]) -> dict[str, float]:
    if not isinstance(values, Mapping):
        raise ArgumentError(
            f"probabilities must map deal ids to win probabilities, got {type(values).__name__}",
            field="probabilities",
        )
    out: dict[str, float] = {}
    for deal, value in values.items():
        number = getattr(value, "value", value)  # a funnel.Probability or a number
        out[str(deal)] = probability(number, f"probabilities[{deal!r}]")
    return out


@attrs.frozen(eq=False)
class Book:
    """The account records and win probabilities, with the graph built once.

    Attributes
    ----------
    accounts, contacts, team, relationships, roles, deals:
        The records of :mod:`clientmodel.accounts.models`.
    probabilities:
        Win probability per deal id (numbers in [0, 1] or ``funnel.Probability`` records).

    Examples
    --------
    >>> from clientmodel.datasets.accounts import make_accounts
    >>> d = make_accounts(n_accounts=2, seed=0)
    >>> book = Book(d.accounts, d.contacts, d.team, d.relationships, d.roles, d.deals)
    >>> book.graph.number_of_nodes() > 0
    True
    """

    accounts: tuple[Account, ...] = attrs.field(converter=_accounts)
    contacts: tuple[Contact, ...] = attrs.field(converter=_contacts)
    team: tuple[TeamMember, ...] = attrs.field(converter=_team, default=())
    relationships: tuple[Relationship, ...] = attrs.field(converter=_relationships, default=())
    roles: tuple[RoleAssignment, ...] = attrs.field(converter=_roles, default=())
    deals: tuple[DealContext, ...] = attrs.field(converter=_deals, default=())
    probabilities: Mapping[str, float] = attrs.field(converter=_probabilities, factory=dict)
    graph: Any = attrs.field(init=False)
    _contact: dict[str, Contact] = attrs.field(init=False)
    _deal: dict[str, DealContext] = attrs.field(init=False)
    _cache: dict[tuple[str, dt.datetime], str] = attrs.field(init=False, factory=dict)
    _roles_of: dict[str, list[RoleAssignment]] = attrs.field(init=False)
    _open_deals: dict[str, list[DealContext]] = attrs.field(init=False)
    _paths: dict[str, _Path] | None = attrs.field(init=False, default=None)

    def __attrs_post_init__(self) -> None:
        graph = build_graph(
            self.accounts, self.contacts, self.team, self.relationships, self.roles, self.deals
        )
        object.__setattr__(self, "graph", graph)
        object.__setattr__(self, "_contact", {c.id: c for c in self.contacts})
        object.__setattr__(self, "_deal", {d.id: d for d in self.deals})
        roles_of: dict[str, list[RoleAssignment]] = {}
        for role in self.roles:
            roles_of.setdefault(role.contact_id, []).append(role)
        open_deals: dict[str, list[DealContext]] = {}
        for deal in self.deals:
            if deal.status == "open":
                open_deals.setdefault(deal.account_id, []).append(deal)
        object.__setattr__(self, "_roles_of", roles_of)
        object.__setattr__(self, "_open_deals", open_deals)

    @boundary
    def contact(self, contact_id: str) -> Contact:
        """The contact record, or an :class:`ArgumentError` naming the unknown id.

        Examples
        --------
        >>> from clientmodel.accounts import Account, Contact
        >>> b = Book([Account(id="a", name="A")], [Contact(id="c", name="C", account_ids=("a",))])
        >>> b.contact("c").name
        'C'
        """
        try:
            return self._contact[contact_id]
        except KeyError:
            raise ArgumentError(
                f"contact {contact_id!r} is not in the book; link only contacts of this book",
                field="contact_id",
            ) from None

    @boundary
    def committee_status(self, deal_id: str, as_of: dt.datetime) -> str:
        """The deal committee's status (``red``/``amber``/``green``) at ``as_of``, cached.

        Examples
        --------
        >>> import datetime as dt
        >>> from clientmodel.datasets.accounts import make_accounts
        >>> d = make_accounts(n_accounts=2, seed=0)
        >>> b = Book(d.accounts, d.contacts, d.team, d.relationships, d.roles, d.deals)
        >>> b.committee_status(d.deals[0].id, d.as_of) in ("red", "amber", "green")
        True
        """
        key = (deal_id, as_of)
        if key not in self._cache:
            self._cache[key] = committee_coverage(self.graph, deal_id, as_of=as_of).status
        return self._cache[key]

    @boundary
    def seats(self, contact_ids: Iterable[str]) -> list[tuple[str, DealContext, RoleAssignment]]:
        """(contact id, open deal, role) for every committee seat the contacts hold.

        A role given on an account counts for every open deal of that account.

        Examples
        --------
        >>> from clientmodel.accounts import Account, Contact
        >>> Book([Account(id="a", name="A")], []).seats([])
        []
        """
        out: list[tuple[str, DealContext, RoleAssignment]] = []
        for cid in sorted(set(contact_ids)):
            for role in self._roles_of.get(cid, ()):
                if role.deal_id is not None:
                    deal = self._deal.get(role.deal_id)
                    deals = [deal] if deal is not None and deal.status == "open" else []
                else:
                    deals = self._open_deals.get(str(role.account_id), [])
                out.extend((cid, deal, role) for deal in deals)
        out.sort(key=lambda s: (s[1].id, s[0], s[2].role))
        return out

    @boundary
    def account_roles(self, contact_id: str) -> dict[str, tuple[str, ...]]:
        """Account id -> the contact's buying roles there (account-wide and per deal).

        Examples
        --------
        >>> from clientmodel.accounts import Account, Contact
        >>> b = Book([Account(id="a", name="A")], [Contact(id="c", name="C", account_ids=("a",))])
        >>> b.account_roles("c")
        {'a': ()}
        """
        contact = self.contact(contact_id)
        found: dict[str, set[str]] = {a: set() for a in contact.account_ids}
        for role in self._roles_of.get(contact_id, ()):
            account = role.account_id
            if account is None and role.deal_id in self._deal:
                account = self._deal[role.deal_id].account_id
            if account is not None:
                found.setdefault(account, set()).add(role.role)
        return {a: tuple(sorted(r)) for a, r in sorted(found.items())}

    @boundary
    def best_path(
        self, contact_ids: Iterable[str]
    ) -> tuple[str, tuple[tuple[str, ...], float, str]] | None:
        """The strongest warm path from our team to any of the contacts, with its contact.

        Returns ``(contact id, (people, strength, explanation))`` or ``None`` when no active
        team member reaches any of them.

        Examples
        --------
        >>> from clientmodel.accounts import Account, Contact
        >>> b = Book([Account(id="a", name="A")], [Contact(id="c", name="C", account_ids=("a",))])
        >>> b.best_path(["c"]) is None
        True
        """
        paths = self._all_paths()
        best: tuple[str, _Path] | None = None
        for cid in sorted(set(contact_ids)):
            self.contact(cid)
            found = paths.get(cid)
            if found is not None and (best is None or found[1] > best[1][1]):
                best = (cid, found)
        return best

    def _all_paths(self) -> dict[str, _Path]:
        if self._paths is not None:
            return self._paths
        names = {c.id: c.name for c in self.contacts if c.active}
        team = {t.id: t.name for t in self.team if t.active}
        names.update(team)
        ties: dict[frozenset[str], Relationship] = {}
        for rel in self.relationships:
            if rel.source in names and rel.target in names and rel.strength > 0:
                key = frozenset((rel.source, rel.target))
                if key not in ties or ties[key].strength < rel.strength:
                    ties[key] = rel
        g = nx.Graph()
        start = ("__start__",)  # a tuple never clashes with a string id
        for rel in ties.values():
            g.add_edge(rel.source, rel.target, cost=-math.log(rel.strength), tie=rel)
        for member in team:
            g.add_edge(start, member, cost=0.0)
        paths: dict[str, _Path] = {}
        if team:
            dist, route = nx.single_source_dijkstra(g, start, weight="cost")
            for node, people in route.items():
                if node == start or node in team:
                    continue
                pairs = list(pairwise(people[1:]))  # people[0] is the virtual start
                hops = [g[a][b]["tie"] for a, b in pairs]
                steps = " -> ".join(
                    f"{names[a]} {h.kind.replace('_', ' ')} {names[b]} ({h.strength:.2f})"
                    for (a, b), h in zip(pairs, hops, strict=True)
                )
                strength = math.exp(-dist[node])
                text = f"{steps}; combined strength {strength:.3f}"
                paths[node] = (tuple(people[1:]), strength, text)
        object.__setattr__(self, "_paths", paths)
        return paths
