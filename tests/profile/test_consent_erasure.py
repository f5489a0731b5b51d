"""Consent per channel and purpose, the broader redact list and erasure plans (issue 18 item 4).

Expected values are worked out by hand from the documented rules.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from clientmodel.errors import ArgumentError
from clientmodel.profile import (
    PERSONAL_TRAITS,
    ErasurePlan,
    Event,
    Profile,
    can_contact,
    contactable_channels,
    erase,
    merge_profiles,
    redact,
    set_consent,
    start_relationship,
)
from clientmodel.profile.resolution import resolve

T = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
DAY = dt.timedelta(days=1)


def test_the_most_specific_record_decides():
    p = set_consent(Profile(profile_id="p"), "sms", "granted", at=T, legal_basis="contract")
    p = set_consent(p, "sms", "denied", at=T + DAY, purpose="marketing", source="reply_td")
    p = set_consent(p, "any", "granted", at=T, purpose="analytics", legal_basis="consent")
    at = T + 2 * DAY
    assert can_contact(p, "sms", at)  # the channel as a whole: granted (service messages)
    assert not can_contact(p, "sms", "marketing", at)  # sms:marketing denied
    assert can_contact(p, "sms", "service", at)  # no purpose record: the channel decides
    assert can_contact(p, "email", "analytics", at)  # any:analytics granted
    assert not can_contact(p, "email", "marketing", at)  # nothing on file: no
    assert p.consent["sms"].legal_basis == "contract"
    assert p.consent["sms:marketing"].source == "reply_td"
    assert contactable_channels(p, at) == ("sms",)
    assert contactable_channels(p, at, purpose="marketing") == ()


def test_a_purpose_conflict_after_a_merge_stays_visible():
    a = set_consent(Profile(profile_id="a"), "sms", "granted", at=T, purpose="marketing")
    b = set_consent(Profile(profile_id="b"), "sms", "denied", at=T + DAY, purpose="marketing")
    merged = merge_profiles([a, b])
    assert "sms:marketing" in merged.profile.consent_conflicts
    assert [c.key for c in merged.conflicts if c.kind == "consent"] == ["sms:marketing"]
    assert not can_contact(merged.profile, "sms", "marketing", T + 2 * DAY)
    resolved = set_consent(merged.profile, "sms", "granted", at=T + 3 * DAY, purpose="marketing")
    assert can_contact(resolved, "sms", "marketing", T + 3 * DAY)


def test_bad_purposes_and_bases_are_refused():
    with pytest.raises(ArgumentError, match="purpose"):
        set_consent(Profile(profile_id="p"), "sms", "granted", at=T, purpose="a:b")
    with pytest.raises(ArgumentError, match="legal_basis"):
        set_consent(Profile(profile_id="p"), "sms", "granted", at=T, legal_basis="because")


def test_redact_drops_the_common_spellings_of_personal_fields():
    names = ["phone_number", "mobile_phone", "email_address", "wechat_id", "real_name"]
    assert set(names) <= PERSONAL_TRAITS
    p = Profile(profile_id="p", traits={n: {"value": "x"} for n in [*names, "tier"]})
    assert sorted(redact(p).traits) == ["tier"]


def test_erasure_plan_across_profiles_events_relationships_and_identity():
    records = [
        {"record_id": "crm-1", "identifiers": [("email", "li.na@example.com")]},
        {"record_id": "app-7", "identifiers": [("email", "li.na@example.com"),
                                               ("cookie_id", "c-1")]},
        {"record_id": "crm-2", "identifiers": [("email", "wang@example.com")]},
    ]  # fmt: skip
    res = resolve(records)
    person = start_relationship(
        Profile(profile_id="crm-1", identifiers=[{"kind": "email", "value": "li.na@example.com"}]),
        "s1",
        at=T,
        how="search",
    )
    other = Profile(profile_id="crm-2")
    events = [
        Event(event_id="e1", profile_id="crm-1", type="view", channel="app", timestamp=T),
        Event(event_id="e2", profile_id="crm-2", type="view", channel="app", timestamp=T),
        {"event_id": "e3", "profile_id": "crm-1"},
    ]
    plan = erase("crm-1", profiles=[person, other], events=events, resolution=res)
    # the id given and the resolved profile's id (its oldest record: no times, so by id)
    assert plan.profile_ids == ("app-7", "crm-1")
    assert plan.record_ids == ("app-7", "crm-1")
    assert plan.event_ids == ("e1", "e3")
    assert plan.relationships == (("crm-1", "s1"),)
    assert sorted((i.kind.value, i.value) for i in plan.identifiers) == [
        ("cookie_id", "c-1"),
        ("email", "li.na@example.com"),
    ]
    # the resolution without them equals resolving what is left
    assert plan.resolution == resolve(records[2:])
    assert "li.na" not in repr(plan)
    again = ErasurePlan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert again == plan


def test_erase_refuses_nonsense():
    with pytest.raises(ArgumentError):
        erase(5)
    with pytest.raises(ArgumentError):
        erase([])
    with pytest.raises(ArgumentError, match="not a record or profile id"):
        erase("nobody", resolution=resolve([]))
