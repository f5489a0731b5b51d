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
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from clientmodel.accounts import (
    Account,
    Contact,
    DealContext,
    Relationship,
    RoleAssignment,
    TeamMember,
    build_graph,
    committee_coverage,
    warm_paths,
)
from clientmodel.errors import ArgumentError
from clientmodel.view._common import probability

__all__ = ["Book"]


def _probabilities(values: Mapping[str, Any]) -> dict[str, float]:
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

    accounts: tuple[Account, ...] = attrs.field(converter=tuple)
    contacts: tuple[Contact, ...] = attrs.field(converter=tuple)
    team: tuple[TeamMember, ...] = attrs.field(converter=tuple, default=())
    relationships: tuple[Relationship, ...] = attrs.field(converter=tuple, default=())
    roles: tuple[RoleAssignment, ...] = attrs.field(converter=tuple, default=())
    deals: tuple[DealContext, ...] = attrs.field(converter=tuple, default=())
    probabilities: Mapping[str, float] = attrs.field(converter=_probabilities, factory=dict)
    graph: Any = attrs.field(init=False)
    _contact: dict[str, Contact] = attrs.field(init=False)
    _deal: dict[str, DealContext] = attrs.field(init=False)
    _cache: dict[tuple[str, dt.datetime], str] = attrs.field(init=False, factory=dict)

    def __attrs_post_init__(self) -> None:
        graph = build_graph(
            self.accounts, self.contacts, self.team, self.relationships, self.roles, self.deals
        )
        object.__setattr__(self, "graph", graph)
        object.__setattr__(self, "_contact", {c.id: c for c in self.contacts})
        object.__setattr__(self, "_deal", {d.id: d for d in self.deals})

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

    def seats(self, contact_ids: Iterable[str]) -> list[tuple[str, DealContext, RoleAssignment]]:
        """(contact id, open deal, role) for every committee seat the contacts hold.

        A role given on an account counts for every open deal of that account.

        Examples
        --------
        >>> from clientmodel.accounts import Account, Contact
        >>> Book([Account(id="a", name="A")], []).seats([])
        []
        """
        wanted = set(contact_ids)
        out = []
        for role in self.roles:
            if role.contact_id not in wanted:
                continue
            for deal in self.deals:
                if deal.status != "open":
                    continue
                if role.deal_id == deal.id or role.account_id == deal.account_id:
                    out.append((role.contact_id, deal, role))
        out.sort(key=lambda s: (s[1].id, s[0], s[2].role))
        return out

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
        for role in self.roles:
            if role.contact_id != contact_id:
                continue
            account = role.account_id
            if account is None and role.deal_id in self._deal:
                account = self._deal[role.deal_id].account_id
            if account is not None:
                found.setdefault(account, set()).add(role.role)
        return {a: tuple(sorted(r)) for a, r in sorted(found.items())}

    def best_path(self, contact_ids: Iterable[str]) -> tuple[str, Any] | None:
        """The strongest warm path from our team to any of the contacts, with its contact.

        Examples
        --------
        >>> from clientmodel.accounts import Account, Contact
        >>> b = Book([Account(id="a", name="A")], [Contact(id="c", name="C", account_ids=("a",))])
        >>> b.best_path(["c"]) is None
        True
        """
        best: tuple[str, Any] | None = None
        for cid in sorted(set(contact_ids)):
            self.contact(cid)
            paths = warm_paths(self.graph, cid, k=1)
            if paths and (best is None or paths[0].strength > best[1].strength):
                best = (cid, paths[0])
        return best
