"""WeCom-grade channel codes (issue 18, item 6): schedules, welcome messages, ``state``,
the random strategy and per-staff daily limits.

Every test here failed before the feature existed (the fields and functions were missing).
Golden on-duty answers are hand-calculated from the published UTC offsets of the zones
(America/New_York: EST = UTC-5, EDT = UTC-4 from 2024-03-10 02:00 to 2024-11-03 02:00 local).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest
from dateutil import tz as dateutil_tz
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from clientmodel.errors import ArgumentError, DataError
from clientmodel.profile import (
    AssignmentState,
    ChannelCode,
    Event,
    Profile,
    Shift,
    assign_staff,
    join_via_code,
    on_duty,
    render_welcome,
    sources_table,
)
from clientmodel.profile._welcome import VALUE_MAX_CHARS, WELCOME_MAX_BYTES

UTC = dt.timezone.utc
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


MAY_DAY = utc(2024, 5, 1, 9)


def run(code, n, state=None, at=MAY_DAY):
    state = state or AssignmentState(code_id=code.code_id)
    out = []
    for _ in range(n):
        a = assign_staff(code, state, at)
        out.append(a.staff_id)
        state = a.state
    return out, state


# ------------------------------------------------------------------------------ schedules
OFFICE = ChannelCode(
    code_id="office",
    staff=("ann", "bo"),
    timezone="America/New_York",
    schedule=[
        {"staff": ["ann"], "days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00",
         "end": "17:00"},
        {"staff": ["bo"], "days": ["fri"], "start": "22:00", "end": "06:00"},
    ],
)  # fmt: skip


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (utc(2024, 3, 8, 13, 30), ()),  # Fri 08:30 EST: before the shift
        (utc(2024, 3, 8, 14, 0), ("ann",)),  # Fri 09:00 EST: the shift starts
        (utc(2024, 3, 11, 13, 30), ("ann",)),  # Mon 09:30 EDT (DST began on the 10th)
        (utc(2024, 3, 11, 21, 0), ()),  # Mon 17:00 EDT: the end is excluded
        (utc(2024, 11, 1, 13, 30), ("ann",)),  # Fri 09:30 EDT
        (utc(2024, 11, 4, 13, 30), ()),  # Mon 08:30 EST (DST ended on the 3rd)
        (utc(2024, 11, 4, 14, 0), ("ann",)),  # Mon 09:00 EST
        (utc(2024, 3, 9, 3, 0), ("bo",)),  # Fri 22:00 EST: the night shift starts
        (utc(2024, 3, 9, 10, 59), ("bo",)),  # Sat 05:59 EST: still Friday's night shift
        (utc(2024, 3, 9, 11, 0), ()),  # Sat 06:00 EST: over
        (utc(2024, 3, 10, 3, 0), ()),  # Sat 22:00: no Saturday night shift
    ],
)
def test_on_duty_follows_the_wall_clock_of_the_code_zone(at, expected):
    assert on_duty(OFFICE, at) == expected


def test_no_schedule_means_the_whole_pool_is_always_on_duty():
    code = ChannelCode(code_id="c", staff=("a", "b"))
    assert on_duty(code, utc(2024, 1, 1, 3)) == ("a", "b")


def test_schedule_staff_must_be_in_the_pool():
    with pytest.raises(ValidationError, match=r"outside the pool"):
        ChannelCode(
            code_id="c",
            staff=("a",),
            schedule=[Shift(staff=("zed",), days=("mon",), start="09:00", end="10:00")],
        )


def test_shift_times_are_wall_clock_times():
    with pytest.raises(ValidationError, match="wall-clock"):
        Shift(staff=("a",), days=("mon",), start=dt.time(9, tzinfo=UTC), end="10:00")


def _oracle_on_duty(shifts, members, zone_name, at):
    """Independent reading: dateutil's zone data, shifts as minute ranges of the week."""
    local = at.astimezone(dateutil_tz.gettz(zone_name))
    minute = local.weekday() * 1440 + local.hour * 60 + local.minute
    on = set()
    for staff, days, start, end in shifts:
        length = (end - start) % 1440 or 1440
        for d in days:
            begin = WEEKDAYS.index(d) * 1440 + start
            if (minute - begin) % (7 * 1440) < length:
                on.update(staff)
    return tuple(m for m in members if m in on)


ZONES = ("America/New_York", "Europe/London", "Australia/Sydney", "Asia/Shanghai")
# the DST changes of 2024 in those zones (UTC), +-3 days around each
CHANGES = (
    utc(2024, 3, 10, 7),
    utc(2024, 11, 3, 6),
    utc(2024, 3, 31, 1),
    utc(2024, 10, 27, 1),
    utc(2024, 4, 6, 16),
    utc(2024, 10, 5, 16),
)


@settings(max_examples=150, deadline=None)
@given(
    zone_name=st.sampled_from(ZONES),
    change=st.sampled_from(CHANGES),
    offset_min=st.integers(-3 * 1440, 3 * 1440),
    shifts=st.lists(
        st.tuples(
            st.sets(st.sampled_from(["a", "b", "c"]), min_size=1),
            st.sets(st.sampled_from(WEEKDAYS), min_size=1),
            st.integers(0, 1439),
            st.integers(0, 1439),
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_schedules_agree_with_an_independent_reading_across_dst(
    zone_name, change, offset_min, shifts
):
    code = ChannelCode(
        code_id="c",
        staff=("a", "b", "c"),
        timezone=zone_name,
        schedule=[
            Shift(
                staff=tuple(sorted(s)),
                days=tuple(sorted(d, key=WEEKDAYS.index)),
                start=dt.time(start // 60, start % 60),
                end=dt.time(end // 60, end % 60),
            )
            for s, d, start, end in shifts
        ],
    )
    at = change + dt.timedelta(minutes=offset_min)
    assert on_duty(code, at) == _oracle_on_duty(shifts, ("a", "b", "c"), zone_name, at)


def test_nobody_on_duty_is_a_result_not_an_error():
    code = OFFICE
    state = AssignmentState(code_id="office")
    night = assign_staff(code, state, utc(2024, 3, 11, 2))  # Sun 22:00 EDT: nobody
    assert night.staff_id is None
    assert night.outcome == "no_one_on_duty"
    assert night.state.today == {}
    assert night.state.totals == state.totals
    day = assign_staff(code, night.state, utc(2024, 3, 11, 14))
    assert (day.staff_id, day.outcome) == ("ann", "pool")


def test_spare_staff_take_over_outside_the_schedule():
    code = OFFICE.model_copy(update={"spare_staff": ("duty_phone",)})
    a = assign_staff(code, AssignmentState(code_id="office"), utc(2024, 3, 11, 2))
    assert (a.staff_id, a.outcome, a.spare) == ("duty_phone", "spare", True)


def test_join_when_nobody_is_on_duty_keeps_tags_and_attribution():
    code = OFFICE.model_copy(update={"tags": ("office_code",), "state": "poster-b3"})
    e = Event(
        event_id="e1",
        type="scan_code",
        channel="wecom",
        timestamp=utc(2024, 3, 11, 2),
        channel_code="office",
    )
    j = join_via_code(Profile(profile_id="p"), e, code, AssignmentState(code_id="office"))
    assert j.staff_id is None
    assert j.outcome == "no_one_on_duty"
    assert j.profile.owners == ()
    assert j.profile.tag_ids == {"office_code"}
    assert j.profile.first_touch is not None
    assert j.profile.first_touch.state == "poster-b3"
    assert j.welcome is None


# ------------------------------------------------------------------------ per-staff limits
def test_a_members_own_daily_limit_overrides_the_codes():
    code = ChannelCode(
        code_id="c",
        staff=({"staff_id": "junior", "daily_limit": 1}, "senior"),
        daily_limit=3,
        spare_staff=("lead",),
    )
    picks, state = run(code, 6)
    assert picks == ["junior", "senior", "senior", "senior", "lead", "lead"]
    assert state.today == {"junior": 1, "lead": 2, "senior": 3}


def test_limits_count_days_in_the_code_zone_across_dst():
    # 2024-03-10 in New York: 04:30 UTC is Sat 23:30 EST, 05:30 UTC is Sun 00:30 EST
    code = ChannelCode(
        code_id="c", staff=("a",), daily_limit=1, timezone="America/New_York", spare_staff=("x",)
    )
    picks, state = run(code, 2, at=utc(2024, 3, 10, 4, 30))
    assert picks == ["a", "x"]
    picks, state = run(code, 1, state, at=utc(2024, 3, 10, 5, 30))
    assert picks == ["a"]
    assert state.day == dt.date(2024, 3, 10)


def test_full_members_on_duty_without_spare_is_a_clear_error():
    code = ChannelCode(code_id="c", staff=({"staff_id": "a", "daily_limit": 2}, "b"), daily_limit=1)
    _, state = run(code, 3)
    with pytest.raises(DataError, match=r"a: 2, b: 1") as info:
        assign_staff(code, state, utc(2024, 5, 1, 9))
    assert info.value.field == "daily_limit"


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.integers(1, 4)), min_size=1, max_size=5),
    st.one_of(st.none(), st.integers(1, 4)),
    st.integers(0, 30),
    st.integers(0, 4),
)
def test_round_robin_is_fair_within_limits(own_limits, code_limit, n, cursor):
    staff = tuple({"staff_id": f"s{i}", "daily_limit": lim} for i, lim in enumerate(own_limits))
    code = ChannelCode(code_id="c", staff=staff, daily_limit=code_limit, spare_staff=("x",))
    limits = [code_limit if lim is None else lim for lim in own_limits]
    picks, _ = run(code, n, AssignmentState(code_id="c", cursor=cursor))
    counts = Counter(picks)
    capacity = None if None in limits else sum(limits)
    assert sum(counts[f"s{i}"] for i in range(len(staff))) == (
        n if capacity is None else min(n, capacity)
    )
    for i, lim in enumerate(limits):
        assert lim is None or counts[f"s{i}"] <= lim
    # members still below their limit never trail anybody by more than one newcomer
    below = [
        counts[f"s{i}"] for i, lim in enumerate(limits) if lim is None or counts[f"s{i}"] < lim
    ]
    pool = [counts[f"s{i}"] for i in range(len(staff))]
    for c in below:
        assert max(pool) - c <= 1


# --------------------------------------------------------------------------- random strategy
RANDOM = ChannelCode(
    code_id="r",
    strategy="random",
    staff=({"staff_id": "a", "weight": 1}, {"staff_id": "b", "weight": 2}, "c"),
)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**63), st.integers(1, 25), st.integers(0, 25))
def test_random_is_deterministic_given_the_seed_and_resumes_from_stored_state(seed, n, cut):
    cut = min(cut, n)
    picks, state = run(RANDOM, n, AssignmentState(code_id="r", seed=seed))
    assert run(RANDOM, n, AssignmentState(code_id="r", seed=seed)) == (picks, state)
    # store the state as JSON half way and carry on: the same picks
    first, mid = run(RANDOM, cut, AssignmentState(code_id="r", seed=seed))
    stored = AssignmentState.model_validate(json.loads(mid.model_dump_json()))
    rest, end = run(RANDOM, n - cut, stored)
    assert (first + rest, end) == (picks, state)
    assert state.draws == n


def test_random_shares_follow_the_weights():
    picks, _ = run(RANDOM, 3000, AssignmentState(code_id="r", seed=11))
    counts = Counter(picks)
    expected = {"a": 750.0, "b": 1500.0, "c": 750.0}  # weights 1 : 2 : 1
    chi2 = sum((counts[k] - v) ** 2 / v for k, v in expected.items())
    assert chi2 < 13.8  # chi-square, 2 degrees of freedom, p = 0.001


def test_random_seeds_give_different_streams_and_skip_full_members():
    a, _ = run(RANDOM, 20, AssignmentState(code_id="r", seed=1))
    b, _ = run(RANDOM, 20, AssignmentState(code_id="r", seed=2))
    assert a != b
    limited = RANDOM.model_copy(update={"daily_limit": 2, "spare_staff": ("x",)})
    picks, _ = run(limited, 8, AssignmentState(code_id="r", seed=3))
    assert Counter(picks) == {"a": 2, "b": 2, "c": 2, "x": 2}
    assert picks[-2:] == ["x", "x"]


# ------------------------------------------------------------------------------ welcome
def test_welcome_template_renders_with_every_placeholder():
    code = ChannelCode(
        code_id="fair",
        name="Spring fair",
        staff=("s1",),
        welcome="Hello {customer_name}! {staff_name} here ({code_name}). {{braces}}",
    )
    text = render_welcome(code, customer_name="Li Lei", staff_name="Ann")
    assert text == "Hello Li Lei! Ann here (Spring fair). {braces}"
    assert render_welcome(code) == "Hello !  here (Spring fair). {braces}"


@pytest.mark.parametrize(
    ("template", "match"),
    [
        ("Hi {customer}", r"'\{customer\}'.*did you mean 'customer_name'"),
        ("Hi {customer_name!r}", r"conversions"),
        ("Hi {staff_name:>10}", r"format specs"),
        ("Hi {}", r"accepted placeholders"),
        ("Hi {customer_name", r"malformed"),
        ("Hi }", r"malformed"),
        ("x" * 3745 + "{customer_name}", r"4001 bytes.*at most 4000"),
    ],
)
def test_bad_welcome_templates_are_argument_errors_at_construction(template, match):
    with pytest.raises(ArgumentError, match=match) as info:
        ChannelCode(code_id="c", staff=("s",), welcome=template)
    assert info.value.field == "welcome"


def test_the_longest_allowed_template_fits_and_renders_within_the_limit():
    template = "x" * (WELCOME_MAX_BYTES - 4 * VALUE_MAX_CHARS) + "{customer_name}"
    code = ChannelCode(code_id="c", staff=("s",), welcome=template)
    text = render_welcome(code, customer_name="\U0001f600" * 500)
    assert text is not None
    assert len(text.encode("utf-8")) == WELCOME_MAX_BYTES


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=400),
            st.sampled_from(["{customer_name}", "{staff_name}", "{code_name}", "{{", "}}"]),
        ),
        max_size=12,
    ),
    st.one_of(st.none(), st.text(max_size=300)),
    st.one_of(st.none(), st.text(max_size=300)),
    st.text(max_size=100),
)
def test_rendering_never_fails_and_never_exceeds_the_limit(pieces, customer, staff, missing):
    template = "".join(pieces)
    try:
        code = ChannelCode(code_id="c", name="n" * 200, staff=("s",), welcome=template)
    except ArgumentError:
        return  # too long for the worst case: refused when built
    text = render_welcome(code, customer_name=customer, staff_name=staff, missing=missing)
    assert text is not None
    assert len(text.encode("utf-8")) <= WELCOME_MAX_BYTES


def test_join_renders_the_welcome_for_the_assigned_staff():
    code = ChannelCode(
        code_id="c", staff=("s1", "s2"), welcome="Hi {customer_name}, I'm {staff_name}"
    )
    e = Event(
        event_id="e1",
        type="scan_code",
        channel="wecom",
        timestamp=utc(2024, 5, 1),
        channel_code="c",
    )
    j = join_via_code(
        Profile(profile_id="p"),
        e,
        code,
        AssignmentState(code_id="c"),
        customer_name="Mei",
        staff_names={"s1": "Ann"},
    )
    assert j.welcome == "Hi Mei, I'm Ann"


# ------------------------------------------------------------------------------ state
def test_state_parameter_is_at_most_30_characters_and_travels_with_the_touch():
    ChannelCode(code_id="c", staff=("s",), state="s" * 30)
    with pytest.raises(ValidationError, match="at most 30 characters"):
        ChannelCode(code_id="c", staff=("s",), state="s" * 31)
    code = ChannelCode(code_id="c", staff=("s",), state="mall-b2-poster")
    e = Event(
        event_id="e1",
        type="scan_code",
        channel="wecom",
        timestamp=utc(2024, 5, 1),
        channel_code="c",
    )
    p = join_via_code(Profile(profile_id="p"), e, code, AssignmentState(code_id="c")).profile
    assert p.first_touch is not None
    assert p.first_touch.state == "mall-b2-poster"
    back = Profile.model_validate_json(p.model_dump_json())
    assert back == p
    by_state = sources_table([p, Profile(profile_id="q")], by="state")
    assert by_state["source"].tolist() == ["mall-b2-poster", "organic"]
    assert sources_table([p])["source"].tolist() == ["c"]


def test_codes_with_every_new_field_round_trip_through_json():
    code = OFFICE.model_copy(
        update={"welcome": "Hi {customer_name}", "state": "st", "strategy": "random"}
    )
    back = ChannelCode.model_validate_json(code.model_dump_json())
    assert back == code
    assert "schedule" in ChannelCode.model_json_schema()["properties"]
