"""Merging profiles: trait strategies, visible consent conflicts, activity, order independence."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.errors import ArgumentError, DataError
from clientmodel.profile import (
    Event,
    Profile,
    TagCatalog,
    TagGroup,
    add_note,
    add_tag,
    apply,
    can_contact,
    merge_profiles,
    set_consent,
    set_follow_up,
    set_traits,
    start_relationship,
)

UTC = dt.timezone.utc
T = dt.datetime(2024, 5, 1, tzinfo=UTC)
DAY = dt.timedelta(days=1)


def test_trait_strategies():
    a = set_traits(
        Profile(profile_id="a"),
        {"city": "Hangzhou", "orders": 2, "first_order": 10.0, "best": 3, "brands": ["x", "y"]},
        at=T,
    )
    b = set_traits(
        Profile(profile_id="b"),
        {"city": "", "orders": 5, "first_order": 4.5, "best": 9, "brands": "z"},
        at=T + DAY,
    )
    m = merge_profiles(
        [b, a],
        strategies={"orders": "sum", "first_order": "min", "best": "max", "brands": "union"},
    )
    tr = m.profile.traits
    assert tr["city"].value == "Hangzhou"  # latest *non-empty*
    assert tr["orders"].value == 7
    assert isinstance(tr["orders"].value, int)
    assert tr["first_order"].value == 4.5
    assert tr["best"].value == 9
    assert tr["brands"].value == ["x", "y", "z"]
    assert m.profile.profile_id == "a"
    assert m.conflicts == ()


def test_latest_prefers_the_newest_non_empty_value():
    a = set_traits(Profile(profile_id="a"), {"city": "Hangzhou"}, at=T)
    b = set_traits(Profile(profile_id="b"), {"city": "Wuhan"}, at=T + DAY)
    assert merge_profiles([a, b]).profile.traits["city"].value == "Wuhan"


def test_sum_of_text_is_a_clear_error():
    a = set_traits(Profile(profile_id="a"), {"x": "1"}, at=T)
    b = set_traits(Profile(profile_id="b"), {"x": 2}, at=T)
    with pytest.raises(DataError, match="'x' is merged by 'sum'"):
        merge_profiles([a, b], strategies={"x": "sum"})
    with pytest.raises(ArgumentError, match="strategy 'avg'"):
        merge_profiles([a, b], strategies={"x": "avg"})  # type: ignore[dict-item]


def test_disagreeing_consent_stays_visible_until_the_person_decides():
    a = set_consent(Profile(profile_id="a"), "sms", "granted", at=T)
    b = set_consent(Profile(profile_id="b"), "sms", "denied", at=T + DAY)
    a = set_consent(a, "email", "granted", at=T)
    b = set_consent(b, "email", "granted", at=T + DAY)
    m = merge_profiles([a, b])
    assert [(c.kind, c.key, c.values) for c in m.conflicts] == [
        ("consent", "sms", ("granted", "denied"))
    ]
    p = m.profile
    assert "sms" not in p.consent
    assert len(p.consent_conflicts["sms"]) == 2
    assert not can_contact(p, "sms", T + 2 * DAY)
    assert p.consent["email"].at == T + DAY
    assert can_contact(p, "email", T + 2 * DAY)
    # an older decision does not settle it; a newer one does
    assert set_consent(p, "sms", "granted", at=T) == p
    q = set_consent(p, "sms", "granted", at=T + 2 * DAY)
    assert q.consent_conflicts == {}
    assert can_contact(q, "sms", T + 2 * DAY)
    # merging a profile that still has an open conflict keeps it open
    assert "sms" in merge_profiles([p, Profile(profile_id="c")]).profile.consent_conflicts


def test_exclusive_tag_clash_keeps_the_latest_and_reports_it():
    cat = TagCatalog(groups=[TagGroup(group_id="tier", exclusive=True, tags=("silver", "gold"))])
    a, _ = add_tag(Profile(profile_id="a"), "silver", at=T, catalog=cat)
    b, _ = add_tag(Profile(profile_id="b"), "gold", at=T + DAY, catalog=cat)
    m = merge_profiles([a, b], catalog=cat)
    assert m.profile.tag_ids == {"gold"}
    assert [(c.kind, c.kept, c.profiles) for c in m.conflicts] == [
        ("exclusive_tag", "gold", ("a", "b"))
    ]


def test_relationships_merge_per_staff_member():
    a = start_relationship(Profile(profile_id="a"), "s1", at=T, how="code_scan")
    a = add_note(a, "s1", "likes tea", at=T)
    b = start_relationship(Profile(profile_id="b"), "s1", at=T + DAY, how="search")
    b = set_follow_up(b, "s1", "won", at=T + 2 * DAY)
    b = start_relationship(b, "s2", at=T, how="share")
    rel = merge_profiles([a, b]).profile.relationship("s1")
    assert rel is not None
    assert (rel.started_at, rel.how, rel.follow_up) == (T, "code_scan", "won")
    assert [n.text for n in rel.notes] == ["likes tea"]


def _view(i: str, day: float, topic: str) -> Event:
    return Event(event_id=i, type="view", channel="app", timestamp=T + day * DAY, topics=(topic,))


def test_activity_merge_equals_folding_everything_into_one_profile():
    ea = [_view("a1", 1, "tea"), _view("a2", 5, "golf")]
    eb = [
        _view("b1", 3, "tea"),
        Event(
            event_id="b2",
            type="purchase",
            channel="store",
            timestamp=T + 4 * DAY,
            value=Decimal(30),
        ),
    ]
    a, _ = apply(Profile(profile_id="a"), ea, as_of=T + 6 * DAY)
    b, _ = apply(Profile(profile_id="b"), eb, as_of=T + 10 * DAY)
    merged = merge_profiles([a, b]).profile.activity
    whole, _ = apply(Profile(profile_id="a"), ea + eb, as_of=T + 10 * DAY)
    w = whole.activity
    assert merged.counts_by_type == w.counts_by_type
    assert merged.value_by_type == w.value_by_type
    assert merged.recent_events == w.recent_events
    assert merged.as_of == w.as_of
    for k, v in w.interest.items():
        assert merged.interest[k] == pytest.approx(v, rel=1e-12)


def test_an_event_folded_into_both_profiles_is_refused():
    a, _ = apply(Profile(profile_id="a"), [_view("x", 1, "tea")], as_of=T + 2 * DAY)
    b, _ = apply(Profile(profile_id="b"), [_view("x", 1, "tea")], as_of=T + 2 * DAY)
    with pytest.raises(DataError, match="folded into both"):
        merge_profiles([a, b])


def test_merge_needs_distinct_profiles():
    with pytest.raises(ArgumentError):
        merge_profiles([])
    with pytest.raises(DataError, match="repeat"):
        merge_profiles([Profile(profile_id="a"), Profile(profile_id="a")])


_VALUES = st.one_of(
    st.none(), st.integers(-5, 5), st.sampled_from(["", "x", "y"]), st.lists(st.sampled_from("ab"))
)


@st.composite
def profiles(draw, pid: str):
    p = Profile(profile_id=pid)
    values = draw(st.dictionaries(st.sampled_from(["t1", "t2", "t3"]), _VALUES, max_size=3))
    p = set_traits(p, values, at=T + draw(st.integers(0, 5)) * DAY)
    for channel in draw(st.lists(st.sampled_from(["sms", "email"]), max_size=2, unique=True)):
        status = draw(st.sampled_from(["granted", "denied"]))
        p = set_consent(p, channel, status, at=T + draw(st.integers(0, 5)) * DAY)
    for tag in draw(st.lists(st.sampled_from(["a", "b", "c"]), max_size=2, unique=True)):
        p, _ = add_tag(p, tag, at=T + draw(st.integers(0, 5)) * DAY)
    for staff in draw(st.lists(st.sampled_from(["s1", "s2"]), max_size=2, unique=True)):
        p = start_relationship(p, staff, at=T + draw(st.integers(0, 5)) * DAY, how="search")
    n = draw(st.integers(0, 3))
    events = [
        _view(f"{pid}{i}", draw(st.integers(0, 9)), draw(st.sampled_from("xy"))) for i in range(n)
    ]
    p, _ = apply(p, events, as_of=T + draw(st.integers(10, 20)) * DAY)
    return p


@settings(max_examples=50, deadline=None)
@given(profiles("p1"), profiles("p2"), profiles("p3"), st.randoms(use_true_random=False))
def test_merge_does_not_depend_on_input_order(a, b, c, rnd):
    items = [a, b, c]
    strategies = {"t1": "union", "t2": "latest", "t3": "union"}
    first = merge_profiles(items, strategies=strategies)
    rnd.shuffle(items)
    again = merge_profiles(items, strategies=strategies)
    assert first.profile == again.profile
    assert first.conflicts == again.conflicts
    merged = first.profile
    assert Profile.model_validate_json(merged.model_dump_json()) == merged
    for channel in {ch for p in (a, b, c) for ch in p.consent}:
        statuses = {p.consent[channel].status for p in (a, b, c) if channel in p.consent}
        assert (len(statuses) > 1) == (channel in merged.consent_conflicts)
