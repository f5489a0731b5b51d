"""Reassigning the customers of staff who leave: the documented strategy, and nobody unowned."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.errors import DataError
from clientmodel.profile import (
    Move,
    Profile,
    StaffMember,
    add_note,
    add_tag,
    reassign,
    set_follow_up,
    start_relationship,
    transfer,
)

T = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
STAFF = [
    StaffMember(staff_id="n1", team="north"),
    StaffMember(staff_id="n2", team="north"),
    StaffMember(staff_id="n3", team="north"),
    StaffMember(staff_id="s1", team="south"),
    StaffMember(staff_id="s2", team="south", active=False),
]


def owned(pid: str, *staff: str) -> Profile:
    p = Profile(profile_id=pid)
    for s in staff:
        p = start_relationship(p, s, at=T, how="search")
    return p


def test_strategy_existing_then_team_then_load():
    profiles = [
        owned("c1", "n1"),
        owned("c2", "n1", "s1"),  # already with s1: s1 keeps the customer
        owned("c3", "n1"),
        owned("c4", "n2"),  # n2 starts with one more customer than n3
        owned("c5", "n2"),
    ]
    plan = reassign(profiles, "n1", STAFF)
    assert [(m.profile_id, m.to_staff, m.reason) for m in plan.moves] == [
        ("c1", "n3", "same_team"),
        ("c2", "s1", "existing_relationship"),
        ("c3", "n3", "same_team"),
    ]
    assert plan.loads == {"n2": 2, "n3": 2, "s1": 1}
    assert plan.by_staff() == {"n3": ["c1", "c3"]}


def test_without_team_everyone_remaining_shares_the_load():
    profiles = [owned(f"c{i}", "n1") for i in range(4)]
    plan = reassign(profiles, "n1", STAFF, keep_team=False)
    assert [m.to_staff for m in plan.moves] == ["n2", "n3", "s1", "n2"]
    assert all(m.reason == "balance_load" for m in plan.moves)


def test_team_with_nobody_left_falls_back_to_everyone():
    plan = reassign([owned("c1", "s1")], "s1", STAFF)  # s2 is inactive
    assert plan.moves[0].to_staff == "n1"
    assert plan.moves[0].reason == "balance_load"


def test_explicit_loads_are_used():
    plan = reassign([owned("c1", "n1")], "n1", STAFF, loads={"n2": 0, "n3": 9})
    assert plan.moves[0].to_staff == "n2"


def test_nobody_left_is_a_clear_error():
    with pytest.raises(DataError, match="no active staff member remains"):
        reassign([owned("c1", "n1")], ["n1", "n2", "n3", "s1"], STAFF)


def test_transfer_moves_the_relationship():
    p = owned("c1", "n1")
    p = set_follow_up(p, "n1", "in_follow_up", at=T)
    p, _ = add_tag(p, "vip_candidate", at=T, staff_id="n1")
    p = add_note(p, "n1", "call after 6pm", at=T)
    move = Move(profile_id="c1", from_staff="n1", to_staff="n3", reason="same_team")
    later = T + dt.timedelta(days=3)
    q = transfer(p, move, at=later)
    old, new = q.relationship("n1"), q.relationship("n3")
    assert old is not None
    assert new is not None
    assert (old.ended_at, old.end_reason) == (later, "staff_left")
    assert (new.how, new.follow_up, new.tags, new.notes) == ("assignment", "in_follow_up", (), ())
    carried = transfer(p, move, at=later, carry_private=True).relationship("n3")
    assert carried is not None
    assert [a.tag for a in carried.tags] == ["vip_candidate"]
    assert len(carried.notes) == 1


_NAMES = ["a", "b", "c", "d", "e"]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(_NAMES), min_size=0, max_size=3, unique=True),
        min_size=1,
        max_size=12,
    ),
    st.lists(st.sampled_from(["x", "y", None]), min_size=5, max_size=5),
    st.lists(st.sampled_from(_NAMES), min_size=1, max_size=3, unique=True),
    st.booleans(),
    st.booleans(),
)
def test_nobody_is_left_without_an_owner(owners, teams, leaving, prefer, keep):
    staff = [StaffMember(staff_id=n, team=t) for n, t in zip(_NAMES, teams, strict=True)]
    profiles = [owned(f"c{i:02d}", *o) for i, o in enumerate(owners)]
    affected = [p for p in profiles if set(p.owners) & set(leaving)]
    remaining = set(_NAMES) - set(leaving)
    plan = reassign(profiles, leaving, staff, prefer_existing=prefer, keep_team=keep)
    moves = {}
    for m in plan.moves:
        assert m.to_staff in remaining
        assert m.from_staff in leaving
        moves.setdefault(m.profile_id, []).append(m)
    assert set(moves) == {p.profile_id for p in affected}
    for p in affected:
        for m in moves[p.profile_id]:
            p = transfer(p, m, at=T + dt.timedelta(days=1))
        assert p.owners
        assert not set(p.owners) & set(leaving)
    # a plan does not depend on the order profiles come in
    assert (
        reassign(list(reversed(profiles)), leaving, staff, prefer_existing=prefer, keep_team=keep)
        == plan
    )
