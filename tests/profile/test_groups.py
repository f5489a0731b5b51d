"""Group chats (社群, issue 18 item 6): membership over time, joins, leaves, churn, group tags.

Golden numbers are counted by hand from the event lists written out in each test.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.errors import ArgumentError, DataError
from clientmodel.profile import (
    GroupActivity,
    GroupChat,
    GroupEvent,
    group_activity,
    group_activity_table,
    member_group_tags,
    members_at,
)
from clientmodel.profile.groups import DEFAULT_MAX_MEMBERS

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 5, 1, 9, tzinfo=UTC)
DAY = dt.timedelta(days=1)
CLUB = GroupChat(
    group_id="club", name="Skincare club", owner="s1", tags=("skincare",), created_at=T0
)


def ev(member, kind, at, group="club"):
    return GroupEvent(group_id=group, member_id=member, kind=kind, at=at)


# a, b, c, d join at T0; in the week after: a leaves, e joins, a rejoins, a leaves, b leaves
WEEK = [ev(m, "join", T0) for m in "abcd"] + [
    ev("a", "leave", T0 + 1 * DAY),
    ev("e", "join", T0 + 2 * DAY),
    ev("a", "join", T0 + 3 * DAY),
    ev("a", "leave", T0 + 4 * DAY),
    ev("b", "leave", T0 + 5 * DAY),
]


def test_membership_as_of_a_time():
    assert members_at([CLUB], WEEK, T0) == {"club": ("a", "b", "c", "d")}
    assert members_at([CLUB], WEEK, T0 + 3.5 * DAY) == {"club": ("a", "b", "c", "d", "e")}
    assert members_at([CLUB], WEEK, T0 + 4 * DAY) == {"club": ("b", "c", "d", "e")}
    assert members_at([CLUB], WEEK, T0 - DAY) == {"club": ()}


def test_joins_leaves_leavers_and_churn_by_hand():
    (week,) = group_activity([CLUB], WEEK, [T0, T0 + 7 * DAY])
    assert (week.members_start, week.joins, week.leaves) == (4, 2, 3)
    assert week.leavers == 2  # a (counted once, though she left twice) and b
    assert week.members_end == 3  # c, d, e
    assert week.churn_rate == 0.5


def test_periods_are_half_open_on_the_left():
    days = [T0 + k * DAY for k in range(6)]
    rows = group_activity([CLUB], WEEK, days)
    # (T0, T0+1d]: a leaves exactly at the end -> in this period; T0's joins are before it
    assert [(r.joins, r.leaves, r.leavers) for r in rows] == [
        (0, 1, 1),
        (1, 0, 0),
        (1, 0, 0),
        (0, 1, 1),
        (0, 1, 1),
    ]
    assert rows[0].churn_rate == 0.25
    assert [r.members_end for r in rows] == [3, 4, 5, 4, 3]


def test_empty_group_has_no_churn_rate():
    (row,) = group_activity([CLUB], [], [T0, T0 + DAY])
    assert row.members_start == 0
    assert row.churn_rate is None


def test_group_tags_apply_to_members_while_they_are_in():
    vip = GroupChat(group_id="vip", name="VIP", owner="s2", tags=("vip", "skincare"), created_at=T0)
    plain = GroupChat(group_id="plain", name="Plain", owner="s2", created_at=T0)
    events = [*WEEK, ev("c", "join", T0, "vip"), ev("c", "join", T0, "plain")]
    tags = member_group_tags([CLUB, vip, plain], events, T0 + 6 * DAY)
    assert tags == {"c": ("skincare", "vip"), "d": ("skincare",), "e": ("skincare",)}


@pytest.mark.parametrize(
    ("events", "match", "field"),
    [
        ([ev("a", "join", T0), ev("a", "join", T0 + DAY)], "already a member", "kind"),
        ([ev("a", "leave", T0)], "without being a member", "kind"),
        ([ev("a", "join", T0), ev("a", "leave", T0)], "at most one event per instant", "at"),
        ([ev("a", "join", T0 - DAY)], "before the group was created", "at"),
        ([ev("a", "join", T0, group="other")], "not among the groups", "group_id"),
    ],
)
def test_inconsistent_events_are_refused_with_their_row(events, match, field):
    with pytest.raises(DataError, match=match) as info:
        members_at([CLUB], events, T0 + DAY)
    assert info.value.field == field
    assert info.value.rows
    # the table face refuses the same events, naming the same field (its own column names)
    table = _frame(events, "dict")
    with pytest.raises(DataError) as info:
        group_activity_table([CLUB], table, [T0 - 2 * DAY, T0 + DAY])
    assert info.value.field == field
    assert info.value.rows


def test_member_limit_defaults_to_wecoms_500_and_is_configurable():
    assert DEFAULT_MAX_MEMBERS == 500
    full = [ev(f"m{i}", "join", T0) for i in range(500)]
    assert len(members_at([CLUB], full, T0)["club"]) == 500
    with pytest.raises(DataError, match="max_members is 500") as info:
        members_at([CLUB], [*full, ev("late", "join", T0 + DAY)], T0 + DAY)
    assert info.value.rows == (500,)
    small = CLUB.model_copy(update={"max_members": 2})
    with pytest.raises(DataError, match="max_members is 2"):
        members_at([small], full[:3], T0)
    # a leave makes room
    swap = [*full[:2], ev("m0", "leave", T0 + DAY), ev("m2", "join", T0 + DAY)]
    assert members_at([small], swap, T0 + DAY) == {"club": ("m1", "m2")}
    # the table face: three members ever, never more than two at once
    out = group_activity_table([small], _frame(swap, "dict"), [T0, T0 + DAY])
    assert out["members_end"].tolist() == [2]
    with pytest.raises(DataError, match="max_members is 2") as info:
        group_activity_table([small], _frame(full[:3], "dict"), [T0, T0 + DAY])
    assert info.value.rows == (2,)


def test_periods_must_increase():
    with pytest.raises(ArgumentError, match="must increase"):
        group_activity([CLUB], WEEK, [T0, T0])
    with pytest.raises(ArgumentError, match="at least two"):
        group_activity([CLUB], WEEK, [T0])


def test_activity_round_trips_through_json():
    rows = group_activity([CLUB], WEEK, [T0, T0 + DAY, T0 + 7 * DAY])
    for row in rows:
        assert GroupActivity.from_dict(json.loads(json.dumps(row.to_dict()))) == row


# ------------------------------------------------------------------------------ properties
GROUPS = [
    GroupChat(group_id=f"g{i}", name=f"G{i}", owner="s", created_at=T0, tags=(f"t{i}",))
    for i in range(3)
]


@st.composite
def histories(draw):
    """Consistent event lists: each (group, member) alternates join, leave, join ..."""
    toggles = draw(
        st.lists(
            st.tuples(st.integers(0, 2), st.integers(0, 5), st.integers(0, 500)),
            max_size=40,
            unique=True,
        )
    )
    events = []
    state: dict[tuple[int, int], bool] = {}
    for g, m, minute in sorted(toggles, key=lambda x: x[2]):
        inside = state.get((g, m), False)
        state[(g, m)] = not inside
        events.append(
            GroupEvent(
                group_id=f"g{g}",
                member_id=f"m{m}",
                kind="leave" if inside else "join",
                at=T0 + dt.timedelta(minutes=minute),
            )
        )
    cuts = draw(st.lists(st.integers(-10, 510), min_size=2, max_size=5, unique=True))
    periods = [T0 + dt.timedelta(minutes=c) for c in sorted(cuts)]
    return events, periods


def _frame(events, backend):
    cols = {
        "group_id": [e.group_id for e in events],
        "member_id": [e.member_id for e in events],
        "kind": [e.kind for e in events],
        "at": [e.at for e in events],
    }
    if backend == "dict":
        return {k: [v.isoformat() for v in vs] if k == "at" else vs for k, vs in cols.items()}
    if backend == "pandas":
        pd = pytest.importorskip("pandas")
        return pd.DataFrame(cols).astype({"at": "datetime64[us, UTC]"})
    if backend == "polars":
        pl = pytest.importorskip("polars")
        return pl.DataFrame(cols, schema_overrides={"at": pl.Datetime("us", "UTC")})
    pa = pytest.importorskip("pyarrow")
    return pa.table({k: pa.array(v, type=pa.timestamp("us", "UTC")) if k == "at" else v
                     for k, v in cols.items()})  # fmt: skip


def _column(out, name):
    col = out[name]
    for method in ("to_list", "to_pylist", "tolist"):
        if hasattr(col, method):
            return list(getattr(col, method)())
    raise AssertionError(type(col))


@settings(max_examples=40, deadline=None)
@given(histories(), st.sampled_from(["dict", "pandas", "polars", "pyarrow"]))
def test_table_face_equals_record_face(history, backend):
    events, periods = history
    records = group_activity(GROUPS, events, periods)
    out = group_activity_table(GROUPS, _frame(events, backend), periods)
    assert _column(out, "group_id") == [r.group_id for r in records]
    for name in ("members_start", "joins", "leaves", "leavers", "members_end"):
        assert _column(out, name) == [getattr(r, name) for r in records], name
    rates = _column(out, "churn_rate")
    for got, r in zip(rates, records, strict=True):
        if r.churn_rate is None:
            assert got is None or math.isnan(got)
        else:
            assert got == r.churn_rate


@settings(max_examples=60, deadline=None)
@given(histories(), st.randoms(use_true_random=False))
def test_counts_balance_and_do_not_depend_on_event_order(history, rnd):
    events, periods = history
    shuffled = list(events)
    rnd.shuffle(shuffled)
    rows = group_activity(GROUPS, events, periods)
    assert rows == group_activity(GROUPS, shuffled, periods)
    for r in rows:
        assert r.members_end == r.members_start + r.joins - r.leaves
        assert r.members_end == len(members_at(GROUPS, events, r.end)[r.group_id])
        assert r.leavers <= min(r.leaves, r.members_start)


def test_random_history_smoke():
    rnd = random.Random(4)
    events = [ev(f"m{i}", "join", T0 + rnd.randint(0, 100) * DAY / 100) for i in range(50)]
    assert len(members_at([CLUB], events, T0 + DAY)["club"]) == 50
