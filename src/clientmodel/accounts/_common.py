"""Shared private helpers: argument checks, a deal's committee, engagement by our team."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

import networkx as nx  # type: ignore[import-untyped]

from clientmodel.accounts.graph import (
    ATTR_ACTIVE,
    ATTR_LAST_INTERACTION,
    ATTR_PRIMARY,
    ATTR_ROLE,
    ATTR_STANCE,
    EDGE_DEAL_OF,
    EDGE_HAS_ROLE,
    EDGE_KIND,
    KIND_CONTACT,
    KIND_TEAM,
    NODE_KIND,
    PERSON_EDGES,
)
from clientmodel.errors import ArgumentError


class Seat(NamedTuple):
    contact: str
    role: str
    stance: str
    primary: bool


def check_as_of(as_of: Any, field: str = "as_of") -> dt.datetime:
    if not isinstance(as_of, dt.datetime) or as_of.tzinfo is None:
        raise ArgumentError(
            f"{field}={as_of!r} must be a timezone-aware datetime "
            "(e.g. datetime(2025, 3, 31, tzinfo=timezone.utc))",
            field=field,
        )
    return as_of


def check_window(window: Any, field: str = "window") -> dt.timedelta:
    if not isinstance(window, dt.timedelta) or window <= dt.timedelta(0):
        raise ArgumentError(
            f"{field}={window!r} must be a positive datetime.timedelta (e.g. timedelta(days=90))",
            field=field,
        )
    return window


def check_graph(graph: Any, field: str = "graph") -> Any:
    """An account graph (a networkx graph from ``build_graph``), else an ArgumentError."""
    if not isinstance(graph, nx.Graph):
        raise ArgumentError(
            f"{field} must be an account graph from build_graph; got {type(graph).__name__}",
            field=field,
        )
    return graph


def check_node(graph: Any, node: Any, kinds: tuple[str, ...], field: str) -> str:
    check_graph(graph)
    if not isinstance(node, str):
        raise ArgumentError(
            f"{field} must be a node id (text); got {type(node).__name__}", field=field
        )
    if node not in graph or graph.nodes[node].get(NODE_KIND) not in kinds:
        raise ArgumentError(
            f"{field}={node!r} is not a {' or '.join(kinds)} in the graph",
            field=field,
        )
    return str(node)


def deal_account(graph: Any, deal: str) -> str:
    for _, v, k in graph.out_edges(deal, keys=True):
        if k == EDGE_DEAL_OF:
            return str(v)
    raise ArgumentError(f"deal {deal!r} has no account", field="deal")  # pragma: no cover


def committee(graph: Any, deal: str) -> list[Seat]:
    """Active contacts with a role on the deal or on the deal's account (deal-level wins).

    A contact's stance on the deal, when it has a deal-level role, is its stance on every seat it
    holds there (one person is not both a supporter and a detractor of one deal).
    """
    seats: dict[tuple[str, str], Seat] = {}
    deal_stance: dict[str, str] = {}
    account = deal_account(graph, deal)
    for scope in (account, deal):  # deal-level roles overwrite account-wide ones
        for u, _, data in graph.in_edges(scope, data=True):
            if data.get(EDGE_KIND) != EDGE_HAS_ROLE or not graph.nodes[u].get(ATTR_ACTIVE, True):
                continue
            role = data[ATTR_ROLE]
            seats[(u, role)] = Seat(u, role, data[ATTR_STANCE], bool(data[ATTR_PRIMARY]))
            if scope == deal:
                deal_stance[u] = data[ATTR_STANCE]
    return sorted(s._replace(stance=deal_stance.get(s.contact, s.stance)) for s in seats.values())


def engaged_by(
    graph: Any, contacts: set[str], as_of: dt.datetime, window: dt.timedelta
) -> dict[str, set[str]]:
    """For each contact, the active team members who interacted within (as_of - window, as_of]."""
    start = as_of - window
    out: dict[str, set[str]] = {}
    for c in contacts:
        for u, v, data in (*graph.in_edges(c, data=True), *graph.out_edges(c, data=True)):
            if data.get(EDGE_KIND) not in PERSON_EDGES:
                continue
            other = u if v == c else v
            node = graph.nodes[other]
            if node.get(NODE_KIND) != KIND_TEAM or not node.get(ATTR_ACTIVE, True):
                continue
            when = data.get(ATTR_LAST_INTERACTION)
            if when is not None and start < when <= as_of:
                out.setdefault(c, set()).add(str(other))
    return out


def person_graph(graph: Any, *, active_only: bool = True) -> Any:
    """Undirected simple graph of people; an edge keeps its strongest tie and that tie's kind."""
    g = nx.Graph()
    for n, data in graph.nodes(data=True):
        if data.get(NODE_KIND) in (KIND_CONTACT, KIND_TEAM) and (
            not active_only or data.get(ATTR_ACTIVE, True)
        ):
            g.add_node(n, **{NODE_KIND: data[NODE_KIND]})
    for u, v, data in graph.edges(data=True):
        if data.get(EDGE_KIND) not in PERSON_EDGES or u not in g or v not in g:
            continue
        s = float(data.get("strength", 0.0))
        if not g.has_edge(u, v) or g[u][v]["strength"] < s:
            g.add_edge(u, v, strength=s, kind=data[EDGE_KIND], source=u, target=v)
    return g


__all__: list[str] = []
