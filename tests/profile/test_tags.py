"""Tags and tag groups: exclusive groups replace, open groups accumulate, private tags, expiry."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.errors import ArgumentError, DataError
from clientmodel.profile import (
    Profile,
    TagCatalog,
    TagGroup,
    add_tag,
    expire_tags,
    remove_tag,
    start_relationship,
    tags_of,
)

T = dt.datetime(2024, 5, 1, 9, tzinfo=dt.timezone.utc)
DAY = dt.timedelta(days=1)
CATALOG = TagCatalog(
    groups=[
        TagGroup(group_id="tier", exclusive=True, tags=("silver", "gold", "vip")),
        TagGroup(group_id="lifecycle", exclusive=True, tags=("new", "active", "lost")),
        TagGroup(group_id="interest", tags=("golf", "tea", "skincare")),
    ]
)


def test_exclusive_group_replaces_and_reports_both_changes():
    p, first = add_tag(Profile(profile_id="p"), "silver", at=T, catalog=CATALOG)
    assert [(c.action, c.tag, c.group) for c in first] == [("added", "silver", "tier")]
    p, changes = add_tag(p, "gold", at=T + DAY, catalog=CATALOG, assigned_by="s1")
    assert p.tag_ids == {"gold"}
    assert [(c.action, c.tag, c.reason) for c in changes] == [
        ("removed", "silver", "replaced by gold"),
        ("added", "gold", None),
    ]
    assert changes[0].by == "s1"


def test_open_group_accumulates_and_tags_are_ids_not_strings():
    p = Profile(profile_id="p")
    for tag in ("golf", "tea", "golf"):
        p, _ = add_tag(p, tag, at=T, catalog=CATALOG)
    assert p.tag_ids == {"golf", "tea"}
    assert [a.tag for a in p.tags] == ["golf", "tea"]  # a sorted tuple of assignments
    assert [t["tag"] for t in p.model_dump(mode="json")["tags"]] == ["golf", "tea"]


def test_unknown_tag_under_an_enforced_catalog_is_a_clear_error():
    with pytest.raises(DataError, match="'platinum' is not in any group") as err:
        add_tag(Profile(profile_id="p"), "platinum", at=T, catalog=CATALOG)
    assert "tier" in err.value.message
    assert err.value.field == "tag"
    lax = CATALOG.model_copy(update={"enforce": False})
    p, _ = add_tag(Profile(profile_id="p"), "platinum", at=T, catalog=lax)
    assert p.tags[0].group is None


def test_group_argument_must_match_the_catalog():
    with pytest.raises(ArgumentError, match="belongs to group 'tier'"):
        add_tag(Profile(profile_id="p"), "gold", at=T, catalog=CATALOG, group="interest")


def test_catalog_rejects_a_tag_in_two_groups():
    with pytest.raises(ValueError, match="belongs to one group"):
        TagCatalog(
            groups=[TagGroup(group_id="a", tags=("x",)), TagGroup(group_id="b", tags=("x",))]
        )


def test_re_adding_updates_source_or_expiry_only_when_different():
    p, _ = add_tag(Profile(profile_id="p"), "golf", at=T, source="rule", assigned_by="rule:golf")
    assert add_tag(p, "golf", at=T + DAY, source="rule", assigned_by="rule:golf")[1] == []
    q, changes = add_tag(p, "golf", at=T + DAY, source="manual", assigned_by="s1")
    assert [c.action for c in changes] == ["updated"]
    assert q.tags[0].source == "manual"


def test_remove_absent_tag_changes_nothing():
    p = Profile(profile_id="p")
    q, changes = remove_tag(p, "golf", at=T)
    assert q is p
    assert changes == []


def test_private_tags_live_on_the_staff_relationship():
    p = start_relationship(Profile(profile_id="p"), "s1", at=T, how="code_scan")
    p, changes = add_tag(p, "price_sensitive", at=T, staff_id="s1", catalog=CATALOG)
    assert p.tag_ids == frozenset()  # not a company tag, and the catalog does not apply
    assert [a.tag for a in tags_of(p, "s1")] == ["price_sensitive"]
    assert changes[0].staff_id == "s1"
    with pytest.raises(DataError, match="no relationship with staff 's2'"):
        add_tag(p, "x", at=T, staff_id="s2")
    p, changes = remove_tag(p, "price_sensitive", at=T, staff_id="s1")
    assert tags_of(p, "s1") == ()
    assert changes[0].action == "removed"


def test_expire_company_and_private_tags():
    p = start_relationship(Profile(profile_id="p"), "s1", at=T, how="search")
    p, _ = add_tag(p, "trial", at=T, expires_at=T + 7 * DAY)
    p, _ = add_tag(p, "follow_up_soon", at=T, expires_at=T + 2 * DAY, staff_id="s1")
    p, _ = add_tag(p, "golf", at=T)
    same, changes = expire_tags(p, T + DAY)
    assert same is p
    assert changes == []
    q, changes = expire_tags(p, T + 7 * DAY)
    assert q.tag_ids == {"golf"}
    assert tags_of(q, "s1") == ()
    assert sorted((c.tag, c.staff_id, c.at) for c in changes) == [
        ("follow_up_soon", "s1", T + 2 * DAY),
        ("trial", None, T + 7 * DAY),
    ]


def test_expiry_must_follow_assignment_and_times_must_be_aware():
    with pytest.raises(ArgumentError, match="expires_at"):
        add_tag(Profile(profile_id="p"), "golf", at=T, expires_at=T)
    with pytest.raises(ArgumentError, match="naive"):
        add_tag(Profile(profile_id="p"), "golf", at=dt.datetime(2024, 1, 1))
    with pytest.raises(ArgumentError, match="tag source"):
        add_tag(Profile(profile_id="p"), "golf", at=T, source="gossip")  # type: ignore[arg-type]


_ALL = [t for g in CATALOG.groups for t in g.tags]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["add", "remove"]), st.sampled_from(_ALL), st.integers(0, 50)),
        max_size=30,
    )
)
def test_exclusive_groups_hold_at_most_one_tag(ops):
    p = Profile(profile_id="p")
    for op, tag, day in ops:
        if op == "add":
            p, _ = add_tag(p, tag, at=T + day * DAY, catalog=CATALOG)
        else:
            p, _ = remove_tag(p, tag, at=T + day * DAY)
        for group in CATALOG.groups:
            if group.exclusive:
                assert len(p.tag_ids & set(group.tags)) <= 1
        assert len({a.tag for a in p.tags}) == len(p.tags)
        assert Profile.model_validate_json(p.model_dump_json()) == p
