"""Channel codes: deterministic staff assignment, daily limits, spare staff, joins, attribution."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.errors import ArgumentError, DataError
from clientmodel.profile import (
    AssignmentState,
    ChannelCode,
    Event,
    Profile,
    TagCatalog,
    TagGroup,
    apply,
    assign_staff,
    join_via_code,
    record_touch,
    sources_table,
    start_relationship,
)

T = dt.datetime(2024, 5, 1, 9, tzinfo=dt.timezone.utc)
DAY = dt.timedelta(days=1)


def run(code: ChannelCode, n: int, state: AssignmentState | None = None, at=T):
    state = state or AssignmentState(code_id=code.code_id)
    out = []
    for _ in range(n):
        a = assign_staff(code, state, at)
        out.append(a.staff_id)
        state = a.state
    return out, state


def test_round_robin_takes_turns():
    code = ChannelCode(code_id="c", staff=("a", "b", "c"))
    picks, state = run(code, 7)
    assert picks == ["a", "b", "c", "a", "b", "c", "a"]
    assert state.cursor == 1
    assert state.totals == {"a": 3, "b": 2, "c": 2}


def test_least_loaded_uses_the_loads_passed_in():
    code = ChannelCode(code_id="c", staff=("a", "b"), strategy="least_loaded")
    picks, state = run(code, 4, AssignmentState(code_id="c", loads={"a": 3, "b": 0}))
    assert picks == ["b", "b", "b", "a"]  # b catches up with a, then ties go in pool order
    assert state.loads == {"a": 4, "b": 3}


def test_weighted_shares_follow_weights():
    code = ChannelCode(
        code_id="c",
        strategy="weighted",
        staff=({"staff_id": "a", "weight": 3}, {"staff_id": "b", "weight": 1}),
    )
    picks, _ = run(code, 40)
    assert Counter(picks) == {"a": 30, "b": 10}
    # (assigned + 1) / weight: a 1/3, 2/3, 3/3 (ties with b's 1/1 go to a), then b
    assert picks[:4] == ["a", "a", "a", "b"]


def test_daily_limit_falls_back_to_spare_then_resets_next_day():
    code = ChannelCode(code_id="c", staff=("a", "b"), daily_limit=2, spare_staff=("x", "y"))
    picks, state = run(code, 7)
    assert picks == ["a", "b", "a", "b", "x", "y", "x"]
    next_day, _ = run(code, 2, state, at=T + DAY)
    assert next_day == ["a", "b"]


def test_daily_limit_without_spare_is_a_clear_error():
    code = ChannelCode(code_id="c", staff=("a",), daily_limit=1)
    _, state = run(code, 1)
    with pytest.raises(DataError, match=r"daily limit of 1 .* no spare staff"):
        assign_staff(code, state, T)


def test_the_day_follows_the_code_timezone():
    code = ChannelCode(code_id="c", staff=("a", "b"), daily_limit=1, timezone="Asia/Shanghai")
    # 15:00 and 17:00 UTC are two different days in Shanghai (23:00 and 01:00)
    _, state = run(code, 2, at=dt.datetime(2024, 5, 1, 15, tzinfo=dt.timezone.utc))
    assert state.day == dt.date(2024, 5, 1)
    picks, state = run(code, 2, state, at=dt.datetime(2024, 5, 1, 17, tzinfo=dt.timezone.utc))
    assert picks == ["a", "b"]
    assert state.day == dt.date(2024, 5, 2)


def test_assignments_may_not_go_back_a_day():
    code = ChannelCode(code_id="c", staff=("a",))
    _, state = run(code, 1, at=T + DAY)
    with pytest.raises(DataError, match="time order"):
        assign_staff(code, state, T)


def test_state_of_another_code_is_refused():
    code = ChannelCode(code_id="c", staff=("a",))
    with pytest.raises(ArgumentError, match="belongs to code 'd'"):
        assign_staff(code, AssignmentState(code_id="d"), T)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 4), st.integers(1, 5), st.integers(0, 2), st.integers(1, 40))
def test_limits_are_never_exceeded_and_the_plan_is_reproducible(n_staff, limit, n_spare, n):
    code = ChannelCode(
        code_id="c",
        staff=tuple(f"s{i}" for i in range(n_staff)),
        daily_limit=limit,
        spare_staff=tuple(f"x{i}" for i in range(n_spare)),
    )
    try:
        picks, state = run(code, n)
    except DataError:
        assert n > n_staff * limit
        assert n_spare == 0
        return
    counts = Counter(picks)
    assert all(counts[s.staff_id] <= limit for s in code.staff)
    assert run(code, n) == (picks, state)


CATALOG = TagCatalog(
    groups=[
        TagGroup(group_id="source", tags=("src_poster", "src_fair")),
        TagGroup(group_id="stage", exclusive=True, tags=("lead", "customer")),
    ]
)


def scan(i: int, code: str, at=T, **kw) -> Event:
    return Event(
        event_id=f"e{i}",
        type="scan_code",
        channel="wecom",
        timestamp=at,
        channel_code=code,
        **kw,
    )


def test_join_applies_tags_relationship_and_attribution():
    code = ChannelCode(
        code_id="poster", staff=("a", "b"), tags=("src_poster", "lead"), campaign="spring"
    )
    joined = join_via_code(
        Profile(profile_id="p"),
        scan(1, "poster"),
        code,
        AssignmentState(code_id="poster"),
        catalog=CATALOG,
    )
    p = joined.profile
    assert joined.staff_id == "a"
    assert not joined.reused
    assert not joined.spare
    assert p.tag_ids == {"src_poster", "lead"}
    assert {(a.source, a.assigned_by) for a in p.tags} == {("channel_code", "poster")}
    rel = p.relationship("a")
    assert rel is not None
    assert (rel.how, rel.channel_code, rel.follow_up) == ("code_scan", "poster", "awaiting")
    assert p.first_touch is not None
    assert p.first_touch.source == "poster"
    assert p.first_touch.campaign == "spring"
    assert p.first_touch.staff_id == "a"
    # the same scan again changes nothing and uses no slot
    again = join_via_code(p, scan(1, "poster"), code, joined.state, catalog=CATALOG)
    assert again.reused
    assert again.profile == p
    assert again.state == joined.state
    assert again.changes == []


def test_join_prefers_an_existing_relationship_with_a_pool_member():
    code = ChannelCode(code_id="poster", staff=("a", "b"))
    p = start_relationship(Profile(profile_id="p"), "b", at=T - DAY, how="search")
    joined = join_via_code(p, scan(1, "poster"), code, AssignmentState(code_id="poster"))
    assert joined.staff_id == "b"
    assert joined.reused
    assert joined.state == AssignmentState(code_id="poster")


def test_expired_or_future_code_is_refused():
    code = ChannelCode(code_id="fair", staff=("a",), valid_from=T, valid_until=T + 3 * DAY)
    state = AssignmentState(code_id="fair")
    with pytest.raises(DataError, match="not valid at"):
        join_via_code(Profile(profile_id="p"), scan(1, "fair", at=T + 3 * DAY), code, state)
    with pytest.raises(DataError, match="not valid at"):
        join_via_code(Profile(profile_id="p"), scan(1, "fair", at=T - DAY), code, state)
    with pytest.raises(ArgumentError, match="came through channel code 'other'"):
        join_via_code(Profile(profile_id="p"), scan(1, "other"), code, state)


def test_join_with_unknown_code_tag_is_refused_under_the_catalog():
    code = ChannelCode(code_id="c", staff=("a",), tags=("mystery",))
    with pytest.raises(DataError, match="'mystery' is not in any group"):
        join_via_code(
            Profile(profile_id="p"),
            scan(1, "c"),
            code,
            AssignmentState(code_id="c"),
            catalog=CATALOG,
        )


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 60), st.sampled_from(["fair", "poster", "618"])),
        min_size=1,
        max_size=8,
    ),
    st.randoms(use_true_random=False),
)
def test_attribution_is_first_and_last_touch_whatever_the_order(touches, rnd):
    events = [
        Event(
            event_id=f"e{i}",
            type="view",
            channel="web",
            timestamp=T + day * DAY,
            **({"campaign": src} if src == "618" else {"channel_code": src}),
        )
        for i, (day, src) in enumerate(touches)
    ]
    shuffled = list(events)
    rnd.shuffle(shuffled)
    a = Profile(profile_id="p")
    for e in shuffled:
        a = record_touch(a, e)
    b, _ = apply(Profile(profile_id="p"), events, as_of=T + 61 * DAY)
    key = lambda e: (e.timestamp, e.event_id)  # noqa: E731
    first, last = min(events, key=key), max(events, key=key)
    assert a.first_touch == b.first_touch
    assert a.last_touch == b.last_touch
    assert a.first_touch is not None
    assert a.first_touch.event_id == first.event_id
    assert a.last_touch is not None
    assert a.last_touch.event_id == last.event_id


def test_sources_table_feeds_acquisition_value():
    segments = pytest.importorskip("clientmodel.segments")
    code = ChannelCode(code_id="poster", staff=("a",))
    p1 = join_via_code(
        Profile(profile_id="c1"), scan(1, "poster"), code, AssignmentState(code_id="poster")
    ).profile
    p2 = Profile(profile_id="c2")
    sources = sources_table([p1, p2])
    assert sources["source"].tolist() == ["poster", "organic"]
    tx = {"customer_id": ["c1", "c2", "c1"], "timestamp": ["2024-05-02"] * 3, "amount": [10, 5, 7]}
    out = segments.acquisition_value(tx, sources, as_of="2024-06-30", costs={"poster": 4.0})
    rows = dict(zip(out["source"].tolist(), out["revenue"].tolist(), strict=True))
    assert rows == {"organic": 5.0, "poster": 17.0}
