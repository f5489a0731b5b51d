"""Warm introduction paths from our team to a target contact.

Take the undirected graph of active people (contacts and our team) whose edges are the
person-to-person ties, keeping the strongest tie of each pair. A path's combined strength is the
product of its tie strengths, the chance that every hand-off along it works if each works
independently with probability equal to its strength. Maximising a product is minimising
$\\sum_e -\\ln s_e$, a shortest-path problem with non-negative edge costs (Dijkstra 1959); the $k$
best simple paths come from Yen's algorithm (Yen 1971) as implemented by
``networkx.shortest_simple_paths``. Ties of strength 0 (or below ``min_strength``) are unusable.

Decay strengths first (:func:`clientmodel.accounts.decay_graph`) to prefer live ties.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from itertools import islice, pairwise
from typing import Any, ClassVar

import attrs
import networkx as nx  # type: ignore[import-untyped]

from clientmodel._validation import boundary, check_integer, choice_reader, number_reader, read_form
from clientmodel.accounts._common import check_node, person_graph
from clientmodel.accounts.graph import ATTR_ACTIVE, ATTR_NAME, KIND_CONTACT, KIND_TEAM, NODE_KIND
from clientmodel.accounts.models import RELATIONSHIP_KINDS
from clientmodel.errors import ArgumentError

__all__ = ["Hop", "IntroPath", "warm_paths"]

_START = ("__clientmodel_start__",)  # a tuple cannot clash with a string node id


@attrs.frozen
class Hop:
    """One tie along a path, as recorded (``source`` -> ``target`` with its kind).

    Examples
    --------
    >>> Hop("t1", "c1", "knows", 0.8).strength
    0.8
    """

    source: str
    target: str
    kind: str
    strength: float

    _FORM: ClassVar[dict[str, Any]] = {
        "kind": choice_reader(RELATIONSHIP_KINDS),
        "strength": number_reader(minimum=0, maximum=1),
    }

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form.

        Examples
        --------
        >>> Hop("t1", "c1", "knows", 0.8).to_dict()["kind"]
        'knows'
        """
        return attrs.asdict(self)

    @classmethod
    @boundary
    def from_dict(cls, data: Mapping[str, Any]) -> Hop:
        """Rebuild from :meth:`to_dict` output.

        Examples
        --------
        >>> h = Hop("t1", "c1", "knows", 0.8)
        >>> Hop.from_dict(h.to_dict()) == h
        True
        """
        return read_form(cls, data)


@attrs.frozen
class IntroPath:
    """A warm path: the people from our team member to the target, the ties, and why.

    Examples
    --------
    >>> p = IntroPath(("t1", "c1"), (Hop("t1", "c1", "knows", 0.8),), "Ana knows Dana (0.80)")
    >>> p.strength
    0.8
    """

    people: tuple[str, ...]
    hops: tuple[Hop, ...]
    explanation: str

    @property
    def strength(self) -> float:
        """Combined strength: the product of the tie strengths (1 for an empty path)."""
        return math.prod(h.strength for h in self.hops)

    @property
    def source(self) -> str:
        """The team member the path starts from."""
        return self.people[0]

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form.

        Examples
        --------
        >>> IntroPath(("t1",), (), "").to_dict()["strength"]
        1.0
        """
        return {
            "people": list(self.people),
            "hops": [h.to_dict() for h in self.hops],
            "strength": float(self.strength),
            "explanation": self.explanation,
        }

    @classmethod
    @boundary
    def from_dict(cls, data: Mapping[str, Any]) -> IntroPath:
        """Rebuild from :meth:`to_dict` output.

        Examples
        --------
        >>> p = IntroPath(("t1",), (), "x")
        >>> IntroPath.from_dict(p.to_dict()) == p
        True
        """
        return read_form(cls, data)


_VERBS = {
    ("reports_to", True): "reports to",
    ("reports_to", False): "manages",
    ("influences", True): "influences",
    ("influences", False): "is influenced by",
    ("works_with", True): "works with",
    ("works_with", False): "works with",
    ("knows", True): "knows",
    ("knows", False): "knows",
}


def _explain(graph: Any, people: list[str], hops: list[Hop]) -> str:
    def name(n: str) -> str:
        label = str(graph.nodes[n].get(ATTR_NAME, n))
        return f"{label} (our team)" if graph.nodes[n].get(NODE_KIND) == KIND_TEAM else label

    parts = []
    for a, hop in zip(people, hops, strict=False):
        b = hop.target if hop.source == a else hop.source
        verb = _VERBS.get((hop.kind, hop.source == a), hop.kind)
        parts.append(f"{name(a)} {verb} {name(b)} ({hop.strength:.2f})")
    return " -> ".join(parts) + f"; combined strength {math.prod(h.strength for h in hops):.3f}"


@boundary
def warm_paths(
    graph: Any,
    target: str,
    *,
    sources: Iterable[str] | None = None,
    k: int = 3,
    min_strength: float = 0.0,
) -> list[IntroPath]:
    """The ``k`` strongest introduction paths from our team to ``target``, strongest first.

    Parameters
    ----------
    graph:
        A graph from :func:`~clientmodel.accounts.build_graph` (decayed or not).
    target:
        The contact to reach.
    sources:
        Team members who may start a path (default: every active team member).
    k:
        How many paths (simple paths, distinct people sequences).
    min_strength:
        Ties weaker than this (and ties of strength 0) are not used.

    Returns
    -------
    list of IntroPath
        Empty when no path exists.

    Examples
    --------
    >>> from clientmodel.accounts import Account, Contact, Relationship, TeamMember, build_graph
    >>> g = build_graph(
    ...     [Account(id="acme", name="Acme")],
    ...     [Contact(id="c1", name="Dana", account_ids=("acme",)),
    ...      Contact(id="c2", name="Eli", account_ids=("acme",))],
    ...     [TeamMember(id="t1", name="Ana")],
    ...     [Relationship(source="t1", target="c1", kind="knows", strength=0.8),
    ...      Relationship(source="c1", target="c2", kind="works_with", strength=0.5)],
    ... )
    >>> best = warm_paths(g, "c2")[0]
    >>> best.people, round(best.strength, 2)
    (('t1', 'c1', 'c2'), 0.4)
    >>> best.explanation
    'Ana (our team) knows Dana (0.80) -> Dana works with Eli (0.50); combined strength 0.400'
    """
    target = check_node(graph, target, (KIND_CONTACT,), "target")
    k = check_integer(k, "k", minimum=1)
    if not 0.0 <= min_strength <= 1.0:
        raise ArgumentError(
            f"min_strength={min_strength!r} must be in [0, 1]", field="min_strength"
        )
    if sources is None:
        starts = [
            n
            for n, d in graph.nodes(data=True)
            if d.get(NODE_KIND) == KIND_TEAM and d.get(ATTR_ACTIVE, True)
        ]
    else:
        starts = [check_node(graph, s, (KIND_TEAM,), "sources") for s in dict.fromkeys(sources)]
        starts = [s for s in starts if graph.nodes[s].get(ATTR_ACTIVE, True)]
    if not graph.nodes[target].get(ATTR_ACTIVE, True) or not starts:
        return []
    people = person_graph(graph)
    usable = nx.Graph()
    usable.add_nodes_from(people.nodes)
    for u, v, d in people.edges(data=True):
        s = d["strength"]
        if s > 0.0 and s >= min_strength:
            usable.add_edge(u, v, cost=-math.log(s), **d)
    for s in starts:
        usable.add_edge(_START, s, cost=0.0)
    try:
        found = list(islice(nx.shortest_simple_paths(usable, _START, target, weight="cost"), k))
    except nx.NetworkXNoPath:
        return []
    out = []
    for path in found:
        nodes = [str(n) for n in path[1:]]
        hops = []
        for a, b in pairwise(nodes):
            d = usable[a][b]
            hops.append(
                Hop(str(d["source"]), str(d["target"]), str(d["kind"]), float(d["strength"]))
            )
        out.append(IntroPath(tuple(nodes), tuple(hops), _explain(graph, nodes, hops)))
    return out
