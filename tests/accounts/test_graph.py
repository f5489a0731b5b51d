from __future__ import annotations

import datetime as dt
import json

import networkx as nx
import pytest
from pydantic import ValidationError

from clientmodel.accounts import (
    Account,
    Contact,
    Relationship,
    RoleAssignment,
    TeamMember,
    build_graph,
    nodes_of_kind,
)
from clientmodel.accounts import graph as G
from clientmodel.errors import DataError


def test_graph_is_a_multidigraph_with_documented_kinds(world):
    assert isinstance(world, nx.MultiDiGraph)
    assert world.nodes["ceo"][G.NODE_KIND] == G.KIND_CONTACT
    assert world.nodes["ae"][G.NODE_KIND] == G.KIND_TEAM
    assert world.nodes["d1"][G.NODE_KIND] == G.KIND_DEAL
    assert world.nodes["acme"][G.NODE_KIND] == G.KIND_ACCOUNT
    e = world.edges["ae", "arch", "knows"]
    assert e[G.EDGE_KIND] == "knows"
    assert e[G.ATTR_STRENGTH] == 0.9
    assert e[G.ATTR_SYMMETRIC] is True
    assert world.edges["arch", "d1", "role:champion"][G.ATTR_STANCE] == "supporter"
    assert world.has_edge("acme_eu", "acme", G.EDGE_SUBSIDIARY_OF)
    assert world.has_edge("eu_head", "acme", G.EDGE_BELONGS_TO)
    assert world.has_edge("eu_head", "acme_eu", G.EDGE_BELONGS_TO)
    assert world.has_edge("d1", "acme", G.EDGE_DEAL_OF)
    assert sorted(nodes_of_kind(world, "account")) == ["acme", "acme_eu"]


def test_mappings_validate_like_records(records):
    as_dicts = {k: [json.loads(r.model_dump_json()) for r in v] for k, v in records.items()}
    g = build_graph(**as_dicts)
    assert sorted(g.edges(keys=True)) == sorted(build_graph(**records).edges(keys=True))


def test_every_bad_reference_is_listed_in_one_error():
    t = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    with pytest.raises(DataError) as info:
        build_graph(
            [Account(id="a", name="A"), Account(id="b", name="B", parent_id="nope")],
            [
                Contact(id="x", name="X", account_ids=("a",)),
                Contact(id="y", name="Y", account_ids=("ghost",)),
                Contact(id="z", name="Z", account_ids=("a",)),
                Contact(id="x", name="X again", account_ids=("a",)),
            ],
            [TeamMember(id="t", name="T")],
            [
                Relationship(source="x", target="x", kind="knows", last_interaction=t),
                Relationship(source="x", target="z", kind="reports_to"),
                Relationship(source="z", target="x", kind="reports_to"),
                Relationship(source="t", target="x", kind="reports_to"),
                Relationship(source="x", target="who", kind="knows"),
            ],
            [RoleAssignment(contact_id="x", role="champion", deal_id="no_deal")],
        )
    msg = str(info.value)
    for needle in (
        "parent_id 'nope'",
        "account 'ghost'",
        "duplicate id 'x'",
        "self-loop",
        "reports_to cycle",
        "must stay on one side",
        "'who' is not a known",
        "'no_deal' is not a known deal",
    ):
        assert needle in msg, needle
    assert "8 problem(s)" in msg
    assert info.value.code == "bad_data"


def test_parent_cycle_and_two_primaries_are_reported():
    with pytest.raises(DataError, match="parent-account cycle") as info:
        build_graph(
            [Account(id="a", name="A", parent_id="b"), Account(id="b", name="B", parent_id="a")],
            [Contact(id=c, name=c, account_ids=("a",)) for c in ("c1", "c2")],
            roles=[
                RoleAssignment(contact_id="c1", role="champion", account_id="a", primary=True),
                RoleAssignment(contact_id="c2", role="user", account_id="a", primary=True),
            ],
        )
    assert "2 primary contacts" in str(info.value)


def test_bad_mapping_is_reported_with_its_position():
    with pytest.raises(DataError, match=r"contacts\[0\]: account_ids"):
        build_graph([{"id": "a", "name": "A"}], [{"id": "c", "name": "C", "account_ids": []}])


def test_records_are_frozen_strict_and_timezone_aware():
    with pytest.raises(ValidationError):
        Relationship(source="a", target="b", kind="knows", last_interaction=dt.datetime(2025, 1, 1))
    with pytest.raises(ValidationError):
        Relationship(source="a", target="b", kind="knows", strength=1.5)
    with pytest.raises(ValidationError):
        Contact(id="c", name="C", account_ids=("a",), colour="red")
    with pytest.raises(ValidationError):
        RoleAssignment(contact_id="c", role="champion")  # neither deal nor account
    c = Contact(id="c", name="C", account_ids=("a",))
    with pytest.raises(ValidationError):
        c.name = "D"
    assert Contact.model_validate_json(c.model_dump_json()) == c
