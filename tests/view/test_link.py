"""Person <-> contact links on hand-built cases (expected answers written by hand)."""

from __future__ import annotations

import json

import pytest

from clientmodel.errors import DataError
from clientmodel.profile import Profile
from clientmodel.view import ContactIdentifiers, Links, link

PHONE = "+8613800138000"


def _profile(pid: str, **idents: str) -> Profile:
    return Profile(profile_id=pid, identifiers=[{"kind": k, "value": v} for k, v in idents.items()])


PROFILES = [
    _profile("p1", phone=PHONE, email="dana@acme.com"),
    _profile("p2", email="eli@beta.io", wecom_external_userid="wmABCDEF123"),
    _profile("p3", phone="+8613900000001"),
]


def test_spellings_meet_after_normalisation() -> None:
    contacts = [
        ContactIdentifiers(contact_id="A-1", phones=("138 0013 8000",), emails=("DANA@Acme.COM",)),
        ContactIdentifiers(contact_id="B-1", wecom_ids=(" wmABCDEF123 ",)),
    ]
    res = link(contacts, PROFILES)
    assert res.mapping == {"A-1": "p1", "B-1": "p2"}
    assert res.links[0].joined_by == ("email d***@acme.com", "phone +86****8000")
    assert res.refusals == ()


def test_contact_matching_two_profiles_is_refused() -> None:
    c = ContactIdentifiers(contact_id="X", phones=(PHONE,), emails=("eli@beta.io",))
    res = link([c], PROFILES)
    assert res.links == ()
    (ref,) = res.refusals
    assert ref.reason == "ambiguous"
    assert "p1" in ref.detail
    assert "p2" in ref.detail


def test_placeholders_and_unreadable_values_are_reported_not_used() -> None:
    c = ContactIdentifiers(contact_id="Y", phones=("null", "12"), emails=("not-an-email",))
    res = link([c], [*PROFILES, _profile("p9", phone="null")])
    assert res.links == ()
    assert sorted(r.reason for r in res.refusals) == [
        "no_match",
        "placeholder",
        "unreadable",
        "unreadable",
    ]
    text = json.dumps(res.to_dict())
    assert "not-an-email" not in text


def test_no_identifier_value_leaks_into_the_result() -> None:
    contacts = [ContactIdentifiers(contact_id="A-1", phones=(PHONE,), emails=("dana@acme.com",))]
    text = json.dumps(link(contacts, PROFILES).to_dict()) + repr(contacts[0])
    assert PHONE not in text
    assert "13800138000" not in text
    assert "dana@acme.com" not in text


def test_order_of_inputs_does_not_matter() -> None:
    contacts = [
        {"contact_id": "A-1", "phones": [PHONE]},
        {"contact_id": "B-1", "emails": ["eli@beta.io"]},
        {"contact_id": "C-1", "emails": ["nobody@x.org"]},
    ]
    a = link(contacts, PROFILES)
    b = link(list(reversed(contacts)), list(reversed(PROFILES)))
    assert a == b
    assert Links.from_dict(json.loads(json.dumps(a.to_dict()))) == a
    assert a.contacts_of("p1") == ("A-1",)
    assert a.profile_of("C-1") is None


def test_one_person_contact_at_two_accounts() -> None:
    contacts = [
        {"contact_id": "A-1", "phones": [PHONE]},
        {"contact_id": "B-7", "emails": ["dana@acme.com"]},
    ]
    assert link(contacts, PROFILES).contacts_of("p1") == ("A-1", "B-7")


def test_bad_input_is_a_library_error() -> None:
    with pytest.raises(DataError, match="ContactIdentifiers at row 0"):
        link([{"contact_id": "", "phones": []}], PROFILES)
    with pytest.raises(DataError, match="twice"):
        link([{"contact_id": "a"}, {"contact_id": "a"}], PROFILES)
    with pytest.raises(DataError, match="Profile"):
        link([], [{"profile_id": "p"}])  # type: ignore[list-item]
