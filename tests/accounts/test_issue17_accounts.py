"""Issue 17 defects of the accounts (and the issue-16 bad inputs there): each failed before."""

from __future__ import annotations

import datetime as dt

import pytest

from clientmodel.accounts import (
    Account,
    Contact,
    DealContext,
    Relationship,
    RoleAssignment,
    TeamMember,
    build_graph,
    committee_coverage,
    committee_table,
    key_person_risk,
    nodes_of_kind,
)
from clientmodel.errors import ArgumentError, DataError

from .conftest import AS_OF

ROLES = {
    "deal_id": ["d1", "d1"],
    "contact_id": ["a", "b"],
    "role": ["champion", "decision_maker"],
    "stance": ["supporter", "neutral"],
}
TOUCHES = {"contact_id": ["a"], "last_interaction": ["2025-06-01T00:00:00+00:00"]}


def test_misspelt_roles_are_refused_with_a_suggestion(world):
    with pytest.raises(ArgumentError, match="did you mean 'decision_maker'"):
        committee_coverage(world, "d1", as_of=AS_OF, required_roles=["decison_maker"])
    with pytest.raises(ArgumentError, match="did you mean 'champion'"):
        committee_coverage(world, "d1", as_of=AS_OF, key_roles=["champoin"])
    with pytest.raises(ArgumentError, match="did you mean 'champion'"):
        committee_table(ROLES, TOUCHES, as_of=AS_OF, key_roles=["champoin"])


def test_committee_table_refuses_unknown_roles_and_stances():
    bad_role = {**ROLES, "role": ["champion", "decison_maker"]}
    with pytest.raises(DataError, match=r"role.*row 1.*did you mean 'decision_maker'"):
        committee_table(bad_role, TOUCHES, as_of=AS_OF)
    bad_stance = {**ROLES, "stance": ["supporter", "netural"]}
    with pytest.raises(DataError, match=r"stance.*did you mean 'neutral'"):
        committee_table(bad_stance, TOUCHES, as_of=AS_OF)


def test_one_contact_is_not_supporter_and_detractor_on_one_deal(records):
    records["roles"].append(
        RoleAssignment(contact_id="arch", role="influencer", deal_id="d1", stance="detractor")
    )
    with pytest.raises(DataError, match="'arch' is a detractor here but a supporter"):
        build_graph(**records)
    both = {
        "deal_id": ["d1", "d1"],
        "contact_id": ["a", "a"],
        "role": ["champion", "influencer"],
        "stance": ["supporter", "detractor"],
    }
    with pytest.raises(DataError, match="both a supporter and a detractor"):
        committee_table(both, TOUCHES, as_of=AS_OF)


def test_unknown_node_kind_and_non_list_inputs(world):
    with pytest.raises(ArgumentError, match="kind"):
        nodes_of_kind(world, "planet")
    with pytest.raises(ArgumentError, match="did you mean 'contact'"):
        nodes_of_kind(world, "contacts")
    with pytest.raises(DataError, match="accounts"):
        build_graph(5)  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"contacts\[0\]"):
        build_graph([Account(id="a", name="A")], [5])  # type: ignore[list-item]


def test_reach_breaks_at_a_leaf_team_member_that_is_no_articulation_point():
    # t1 - c1 - dm: t1 is a leaf, yet it is our only way to the decision maker (docs corrected)
    utc = dt.timezone.utc
    g = build_graph(
        [Account(id="acme", name="Acme")],
        [Contact(id=c, name=c, account_ids=("acme",)) for c in ("c1", "dm")],
        [TeamMember(id="t1", name="Ana")],
        [
            Relationship(source="t1", target="c1", kind="knows"),
            Relationship(source="c1", target="dm", kind="works_with"),
        ],
        [RoleAssignment(contact_id="dm", role="decision_maker", deal_id="d1")],
        [DealContext(id="d1", account_id="acme", close_date=dt.datetime(2025, 1, 1, tzinfo=utc))],
    )
    risk = key_person_risk(g, "t1")
    assert not risk.articulation_point
    assert risk.decision_makers_unreachable == (("d1", "dm"),)


def test_naive_as_of_is_refused_like_in_the_funnel(world):
    with pytest.raises(ArgumentError, match="timezone"):
        committee_coverage(world, "d1", as_of=dt.datetime(2025, 6, 30))


def test_more_bad_inputs_of_the_corpus(world):
    import math

    from clientmodel.accounts import Meddpicc, decayed_strengths, influence, meddpicc, power_map

    with pytest.raises(ArgumentError, match="max_iter"):
        influence(world, "acme", max_iter=0)
    with pytest.raises(ArgumentError, match="tol"):
        influence(world, "acme", tol=-1.0)
    with pytest.raises(DataError, match="days_since") as info:
        decayed_strengths([0.5, 0.5], [1, -2], half_life=dt.timedelta(days=90))
    assert info.value.rows == (1,)
    with pytest.raises(DataError, match="strengths"):
        decayed_strengths([0.5, math.nan], [1, 2], half_life=dt.timedelta(days=90))
    m = meddpicc(world, "d1").to_dict()
    with pytest.raises(ArgumentError, match="disagrees"):
        Meddpicc.from_dict({**m, "score": 0.99})
    pm = power_map(world, "d1")
    with pytest.raises(TypeError):
        pm.stance_share["supporter"] = 1.0  # type: ignore[index]
