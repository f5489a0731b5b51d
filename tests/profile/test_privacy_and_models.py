"""Consent and redaction; the models' validation, JSON Schema and round trips; no PII in logs."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from pydantic import ValidationError

from clientmodel.errors import ArgumentError, ClientModelError, DataError
from clientmodel.profile import (
    Activity,
    ChannelCode,
    Event,
    Profile,
    StaffRelationship,
    TagAssignment,
    add_note,
    apply,
    can_contact,
    contactable_channels,
    join_via_code,
    merge_profiles,
    redact,
    set_consent,
    set_traits,
    start_relationship,
)
from clientmodel.profile.channels import AssignmentState

T = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
DAY = dt.timedelta(days=1)
PHONE = "+8613800138000"


def test_can_contact_needs_a_current_grant():
    p = set_consent(Profile(profile_id="p"), "sms", "granted", at=T, expires_at=T + 30 * DAY)
    p = set_consent(p, "email", "denied", at=T)
    assert can_contact(p, "sms", T)
    assert can_contact(p, "sms", T + 29 * DAY)
    assert not can_contact(p, "sms", T - DAY)  # not yet given
    assert not can_contact(p, "sms", T + 30 * DAY)  # expired
    assert not can_contact(p, "email", T + DAY)
    assert not can_contact(p, "app", T)
    assert contactable_channels(p, T) == ("sms",)
    # an older decision arriving late changes nothing
    assert set_consent(p, "email", "granted", at=T - DAY) == p
    with pytest.raises(ArgumentError, match="naive"):
        can_contact(p, "sms", dt.datetime(2024, 5, 1))


def test_redact_removes_identifiers_personal_traits_notes_and_event_properties():
    p = Profile(
        profile_id="p",
        identifiers=[{"kind": "phone", "value": PHONE}, {"kind": "email", "value": "a@b.cn"}],
    )
    p = set_traits(p, {"name": "Li Na", "city": "Wuhan", "phone": PHONE}, at=T)
    p = start_relationship(p, "s1", at=T, how="search")
    p = add_note(p, "s1", f"call {PHONE}", at=T)
    e = Event(event_id="e", type="view", channel="app", timestamp=T, properties={"ref": PHONE})
    p, _ = apply(p, [e], as_of=T)
    r = redact(p)
    assert PHONE not in r.model_dump_json()
    assert r.identifiers == ()
    assert set(r.traits) == {"city"}
    assert r.activity.counts_by_type == {"view": 1}
    hashed = redact(p, salt=b"0123456789abcdef", keep_traits=["city", "name"])
    assert all(i.hashed for i in hashed.identifiers)
    assert len(hashed.identifiers) == 2
    assert set(hashed.traits) == {"city", "name"}
    assert PHONE not in hashed.model_dump_json()
    assert Profile.model_validate_json(hashed.model_dump_json()) == hashed


def test_nothing_is_logged_and_errors_do_not_echo_identifiers(caplog):
    caplog.set_level(logging.DEBUG)
    p = Profile(profile_id="p", identifiers=[{"kind": "phone", "value": PHONE}])
    p = set_consent(p, "sms", "granted", at=T)
    code = ChannelCode(code_id="c", staff=("s1",))
    scan = Event(event_id="e", type="scan_code", channel="wecom", timestamp=T, channel_code="c")
    p = join_via_code(p, scan, code, AssignmentState(code_id="c")).profile
    p, _ = apply(p, [scan], as_of=T, rules={"x": "n_scan_code >= 1"})
    q = Profile(profile_id="q", identifiers=[{"kind": "phone", "value": PHONE}])
    merge_profiles([p, q])
    redact(p)
    for as_of, late in ((T - DAY, T), (T + DAY, T + 2 * DAY)):
        with pytest.raises(ClientModelError) as err:
            apply(p, [scan.model_copy(update={"event_id": "e2", "timestamp": late})], as_of=as_of)
        assert PHONE not in str(err.value)
        assert "138" not in str(err.value)
    assert caplog.records == []


def test_models_reject_naive_datetimes_and_unknown_fields():
    with pytest.raises(ValidationError, match="timezone"):
        TagAssignment(tag="x", at=dt.datetime(2024, 1, 1))
    with pytest.raises(ValidationError, match="Extra inputs"):
        Profile(profile_id="p", nickname="x")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="frozen"):
        Profile(profile_id="p").profile_id = "q"  # type: ignore[misc]


def test_event_validation_names_the_problem():
    base = {"event_id": "e", "type": "view", "channel": "web", "timestamp": T}
    assert Event(**base, topics=["b", "a", "b"]).topics == ("a", "b")
    with pytest.raises(ValidationError, match="list of topics"):
        Event(**base, topics="skincare")
    with pytest.raises(ValidationError, match="property name 'type'"):
        Event(**base, properties={"type": "x"})
    with pytest.raises(ValidationError, match="finite"):
        Event(**base, value="NaN")


def test_trait_names_may_not_shadow_derived_fields():
    with pytest.raises(ValidationError, match="reserved"):
        Profile(profile_id="p", traits={"n_orders": {"value": 1}})
    with pytest.raises(DataError, match="reserved"):
        set_traits(Profile(profile_id="p"), {"interest_golf": 1}, at=T)


def test_relationship_and_code_validation():
    with pytest.raises(ValidationError, match="ends"):
        StaffRelationship(
            staff_id="s",
            started_at=T,
            how="search",
            ended_at=T - DAY,
            end_reason="customer_deleted",
        )
    with pytest.raises(ValidationError, match="twice"):
        ChannelCode(code_id="c", staff=("a", "a"))
    with pytest.raises(ValidationError, match="timezone"):
        ChannelCode(code_id="c", staff=("a",), timezone="Mars/Olympus")


@pytest.mark.parametrize("model", [Profile, Event, ChannelCode, Activity, StaffRelationship])
def test_json_schemas_are_published(model):
    schema = model.model_json_schema()
    assert schema["type"] == "object"
    assert schema["properties"]
    json.dumps(schema)
