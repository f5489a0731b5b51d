"""Warm paths: hand-computed best paths on the world and brute force on random graphs."""

from __future__ import annotations

import math

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.accounts import (
    Account,
    Contact,
    Relationship,
    TeamMember,
    build_graph,
    warm_paths,
)
from clientmodel.errors import ArgumentError


def test_ranked_paths_by_hand(world):
    # Strongest tie per pair; products by hand:
    #  ae-arch-cto-ceo-cfo     0.9*1*1*1   = 0.90
    #  se-dev-arch-cto-ceo-cfo 0.8*1*1*1*1 = 0.80
    #  ae-arch-cto-cfo         0.9*1*0.6   = 0.54
    #  se-dev-arch-cto-cfo     0.8*1*1*0.6 = 0.48
    paths = warm_paths(world, "cfo", k=5)
    assert [p.people for p in paths] == [
        ("ae", "arch", "cto", "ceo", "cfo"),
        ("se", "dev", "arch", "cto", "ceo", "cfo"),
        ("ae", "arch", "cto", "cfo"),
        ("se", "dev", "arch", "cto", "cfo"),
    ]
    assert [round(p.strength, 6) for p in paths] == [0.9, 0.8, 0.54, 0.48]
    assert paths[0].explanation == (
        "Ana (our team) knows Arun (0.90) -> Arun reports to Tess (1.00) -> "
        "Tess reports to Carla (1.00) -> Carla manages Finn (1.00); combined strength 0.900"
    )
    assert warm_paths(world, "cfo", sources=["se"], k=1)[0].source == "se"


def test_min_strength_and_no_path(world):
    paths = warm_paths(world, "cfo", min_strength=0.85, k=5)
    assert [p.people for p in paths] == [("ae", "arch", "cto", "ceo", "cfo")]
    g = build_graph(
        [Account(id="a", name="A")],
        [Contact(id="c", name="C", account_ids=("a",))],
        [TeamMember(id="t", name="T")],
    )
    assert warm_paths(g, "c") == []


def test_bad_arguments(world):
    with pytest.raises(ArgumentError, match="target"):
        warm_paths(world, "ae")
    with pytest.raises(ArgumentError, match="k must be"):
        warm_paths(world, "cfo", k=0)
    with pytest.raises(ArgumentError, match="sources"):
        warm_paths(world, "cfo", sources=["cfo"])


_KINDS = ["knows", "works_with", "influences"]  # no reports_to, so no cycles can be drawn


@st.composite
def random_world(draw):
    n_c = draw(st.integers(2, 6))
    people = [f"c{i}" for i in range(n_c)] + ["t0", "t1"]
    ties = draw(
        st.lists(
            st.tuples(
                st.sampled_from(people),
                st.sampled_from(people),
                st.sampled_from(_KINDS),
                st.floats(0.0, 1.0),
            ),
            max_size=14,
        )
    )
    rels, seen = [], set()
    for u, v, kind, s in ties:
        if u == v:
            continue
        key = (frozenset((u, v)), kind) if kind != "influences" else ((u, v), kind)
        if key in seen:
            continue
        seen.add(key)
        rels.append(Relationship(source=u, target=v, kind=kind, strength=round(s, 3)))
    g = build_graph(
        [Account(id="a", name="A")],
        [Contact(id=c, name=c, account_ids=("a",)) for c in people if c.startswith("c")],
        [TeamMember(id=t, name=t) for t in ("t0", "t1")],
        rels,
    )
    return g, rels


def _brute_best(rels, target):
    """Independent method: enumerate all simple paths from each team member over every tie."""
    m = nx.MultiGraph()
    for r in rels:
        m.add_edge(r.source, r.target, strength=r.strength)
    best = 0.0
    for t in ("t0", "t1"):
        if t not in m or target not in m:
            continue
        for path in nx.all_simple_edge_paths(m, t, target):
            prod = math.prod(m.edges[e]["strength"] for e in path)
            best = max(best, prod)
    return best


@settings(max_examples=60, deadline=None)
@given(random_world())
def test_paths_use_existing_ties_and_the_best_is_optimal(case):
    g, rels = case
    ties = {(r.source, r.target, r.kind): r.strength for r in rels}
    paths = warm_paths(g, "c0", k=3)
    for p in paths:
        assert p.people[0] in ("t0", "t1")
        assert p.people[-1] == "c0"
        assert len(set(p.people)) == len(p.people)
        for a, b, hop in zip(p.people, p.people[1:], p.hops, strict=False):
            assert {hop.source, hop.target} == {a, b}
            assert ties[(hop.source, hop.target, hop.kind)] == hop.strength
            assert hop.strength > 0
        assert p.strength == pytest.approx(math.prod(h.strength for h in p.hops))
    strengths = [p.strength for p in paths]
    assert strengths == sorted(strengths, reverse=True)
    best = _brute_best(rels, "c0")
    if best > 0:
        assert paths
        assert paths[0].strength == pytest.approx(best)
    else:
        assert paths == []  # ties of strength 0 are unusable


@settings(max_examples=20, deadline=None)
@given(random_world(), st.sampled_from(["contact", "team"]))
def test_an_unconnected_person_changes_no_path(case, kind):
    g, _ = case
    before = warm_paths(g, "c0", k=3)
    g2 = g.copy()
    if kind == "contact":
        g2.add_node("loner", kind="contact", name="L", active=True, seniority="individual")
        g2.add_edge("loner", "a", key="belongs_to", kind="belongs_to")
    else:
        g2.add_node("loner", kind="team_member", name="L", active=True)
    assert warm_paths(g2, "c0", k=3) == before
