"""Bad inputs to profile/ and identity/ entry points that leaked internal exceptions (issue 16).

Found by ``tools/probe_bad_inputs.py clientmodel.profile``: these functions were not behind
``@boundary``, so a number or None where a profile, a staff list or a resolution belongs leaked an
``AttributeError`` ("'float' object has no attribute 'relationship'") or a ``TypeError`` ("'int'
object is not iterable"). Each case now raises a ClientModelError naming the argument.
"""

from __future__ import annotations

import datetime as dt

import pytest

from clientmodel.identity import normalize_phone, resolve, unmerge
from clientmodel.profile import (
    Profile,
    Shift,
    StaffMember,
    merge_profiles,
    reassign,
    record_touch,
    redact,
    set_consent,
    set_follow_up,
    sources_table,
    start_relationship,
)

from .conftest import bad, check_bad, marked, unknown_ids

XFAIL: dict[str, str] = {}

T = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
P = Profile(profile_id="p")
STAFF = [StaffMember(staff_id="s1"), StaffMember(staff_id="s2")]
RES = resolve([{"record_id": "a", "identifiers": [("email", "x@y.io")]}])
SHIFT = Shift(staff=("s1",), days=("mon",), start="09:00", end="18:00")

CASES = [
    bad(
        "start_relationship-float-profile",
        lambda: start_relationship(1.5, "s1", at=T, how="search"),
        "profile",
    ),
    bad(
        "start_relationship-none-profile",
        lambda: start_relationship(None, "s1", at=T, how="search"),
        "profile",
    ),
    bad("set_follow_up-int-profile", lambda: set_follow_up(3, "s1", "awaiting", at=T), "profile"),
    bad("set_consent-int-profile", lambda: set_consent(3, "sms", "granted", at=T), "profile"),
    bad("redact-int-profile", lambda: redact(5), "profile"),
    bad("redact-int-keep_traits", lambda: redact(P, keep_traits=5), "keep_traits"),
    bad("redact-float-drop_traits", lambda: redact(P, drop_traits=1.5), "drop_traits"),
    bad(
        "record_touch-int-profile",
        lambda: record_touch(
            4, {"event_id": "e", "type": "scan_code", "channel": "wecom", "timestamp": T}
        ),
        "profile",
    ),
    bad("sources_table-int-profiles", lambda: sources_table(7), "profiles"),
    bad("reassign-int-staff", lambda: reassign([P], "s1", 5), "staff"),
    bad("reassign-float-profiles", lambda: reassign(1.5, "s1", STAFF), "profiles"),
    bad("reassign-int-leaving", lambda: reassign([P], 5, STAFF), "leaving"),
    bad("merge_profiles-float-catalog", lambda: merge_profiles([P], catalog=1.5), "catalog"),
    bad("unmerge-float-resolution", lambda: unmerge(1.5, record="a"), "resolution"),
    bad(
        "normalize_phone-int-country",
        lambda: normalize_phone("13800138000", default_country_code=86),
        "default_country_code",
    ),
    bad("shift-covers-text", lambda: SHIFT.covers("09:30"), "local"),
    bad("shift-covers-none", lambda: SHIFT.covers(None), "local"),
]


@pytest.mark.parametrize(("thunk", "names", "exc", "rows"), marked(CASES, XFAIL))
def test_bad_input(thunk, names, exc, rows):
    check_bad(thunk, exc=exc, names=names, rows=rows)


def test_xfail_ids_name_cases():
    assert unknown_ids(XFAIL, CASES) == []


def test_valid_calls_unchanged():
    """Monday 2024-04-29 09:30 is inside a Monday 09:00-18:00 shift; a Chinese mobile number gets
    its +86 prefix (the documented default)."""
    assert SHIFT.covers(dt.datetime(2024, 4, 29, 9, 30)) is True
    assert normalize_phone("13800138000") == "+8613800138000"
    owned = start_relationship(P, "s1", at=T, how="search")
    assert owned.relationship is not None
