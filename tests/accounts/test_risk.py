"""Key-person risk on the world, checked by hand and by brute-force component counting."""

from __future__ import annotations

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.accounts import (
    Contact,
    TeamMember,
    articulation_people,
    build_graph,
    key_person_risk,
)
from clientmodel.datasets.accounts import make_accounts

from .conftest import world_records


def test_articulation_points_by_hand(world):
    # people graph: cfo-ceo, cto-ceo, arch-cto, dev-arch, ae-arch, se-dev, cto-cfo, eu_head-ae.
    # Removing ae isolates eu_head; arch splits {ae, eu_head} / {dev, se} / {cto, ceo, cfo};
    # dev isolates se; cto cuts {ceo, cfo} off. ceo and cfo sit on the ceo-cfo-cto triangle.
    assert articulation_people(world, "acme") == ["ae", "arch", "cto", "dev"]


def test_articulation_points_match_brute_force():
    g = make_accounts(n_accounts=4, contacts_per_account=10, seed=5).graph()
    for acc in ("A0", "A1", "A2", "A3"):
        found = set(articulation_people(g, acc))
        # independent method: rebuild the same people graph and count components after removal
        members = {
            u
            for u, _, k in g.in_edges(acc, keys=True)
            if k == "belongs_to" and g.nodes[u]["active"]
        }
        ties = [
            (u, v)
            for u, v, d in g.edges(data=True)
            if d["kind"] in ("reports_to", "influences", "works_with", "knows")
            and g.nodes[u].get("active", True)
            and g.nodes[v].get("active", True)
        ]
        team = {
            x
            for u, v in ties
            for x, y in ((u, v), (v, u))
            if y in members and g.nodes[x]["kind"] == "team_member"
        }
        h = nx.Graph()
        h.add_nodes_from(members | team)
        h.add_edges_from((u, v) for u, v in ties if u in h and v in h)
        base = nx.number_connected_components(h)
        brute = set()
        for n in list(h):
            k = h.copy()
            k.remove_node(n)
            if nx.number_connected_components(k) > base:
                brute.add(n)
        assert found == brute


def test_losing_the_champion(world):
    r = key_person_risk(world, "arch")
    assert r.articulation_point
    assert r.relationships_cut == (
        ("ae", "knows", 0.9),
        ("cto", "reports_to", 1.0),
        ("cto", "works_with", 0.5),
        ("dev", "reports_to", 1.0),
    )
    assert r.roles_uncovered == (("d1", "champion"),)
    # without arch, neither ae (left with eu_head) nor se (left with dev) reaches cto or cfo
    assert r.decision_makers_unreachable == (("d1", "cfo"), ("d1", "cto"))
    assert r.severity == "high"


def test_other_departures(world):
    ceo = key_person_risk(world, "ceo")
    assert (ceo.articulation_point, ceo.roles_uncovered, ceo.decision_makers_unreachable) == (
        False,
        (),
        (),
    )
    assert ceo.severity == "low"
    dev = key_person_risk(world, "dev")
    assert dev.roles_uncovered == (("d1", "technical_evaluator"),)
    assert dev.decision_makers_unreachable == ()
    assert dev.severity == "medium"
    se = key_person_risk(world, "se")
    assert se.relationships_cut == (("dev", "knows", 0.8),)
    assert not se.articulation_point
    ae = key_person_risk(world, "ae")
    assert ae.articulation_point
    assert ae.decision_makers_unreachable == ()  # se still reaches them through dev and arch


def test_inactive_person_has_nothing_left_to_lose():
    recs = world_records()
    recs["contacts"] = [c.model_copy(update={"active": c.id != "arch"}) for c in recs["contacts"]]
    r = key_person_risk(build_graph(**recs), "arch")
    assert r.to_dict()["severity"] == "low"
    assert r.relationships_cut == ()


@settings(max_examples=10, deadline=None)
@given(person=st.sampled_from(["ceo", "cfo", "cto", "arch", "dev", "ae", "se", "eu_head"]),
       kind=st.sampled_from(["contact", "team"]))  # fmt: skip
def test_an_unconnected_person_changes_nothing(person, kind):
    recs = world_records()
    if kind == "contact":
        recs["contacts"].append(Contact(id="loner", name="L", account_ids=("acme",)))
    else:
        recs["team"].append(TeamMember(id="loner", name="L"))
    g0, g1 = build_graph(**world_records()), build_graph(**recs)
    assert key_person_risk(g0, person) == key_person_risk(g1, person)
    assert articulation_people(g0, "acme") == articulation_people(g1, "acme")


def test_account_risks_rank_the_champion_first(world):
    from clientmodel.accounts import account_risks

    risks = account_risks(world, "acme")
    # arch (high: reach to cfo and cto breaks), cto (high: cto is the articulation point between
    # the team and the ceo-cfo pair, so reach to economic buyer cfo breaks), then cfo and dev
    # (medium: sole economic buyer / technical evaluator, 2 ties each, by name), then the rest
    # (low) by ties cut: ae and ceo 2, eu_head and se 1
    assert [r.person for r in risks] == ["arch", "cto", "cfo", "dev", "ae", "ceo", "eu_head", "se"]
    assert [r.severity for r in risks] == ["high"] * 2 + ["medium"] * 2 + ["low"] * 4
    assert {r.person for r in risks} == {"ceo", "cfo", "cto", "arch", "dev", "eu_head", "ae", "se"}


def test_losing_the_decision_maker(world):
    r = key_person_risk(world, "cto")
    assert r.articulation_point
    assert r.roles_uncovered == (("d1", "decision_maker"),)
    assert r.decision_makers_unreachable == (("d1", "cfo"),)


def test_risk_can_be_limited_to_one_account(world):
    # d1 belongs to acme; acme_eu has no open deal, so nothing is at stake there
    assert key_person_risk(world, "arch", account="acme") == key_person_risk(world, "arch")
    r = key_person_risk(world, "arch", account="acme_eu")
    assert (r.roles_uncovered, r.decision_makers_unreachable) == ((), ())
    assert r.articulation_point
