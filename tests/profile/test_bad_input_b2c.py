"""Issue 16 in the profile and identity area: bad input gets a library error naming the field and
record; returned records share nothing mutable with their inputs."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from clientmodel.errors import ClientModelError, DataError
from clientmodel.profile import Event, Profile, StaffMember, reassign, start_relationship
from clientmodel.profile.merge import set_traits
from clientmodel.profile.resolution import resolve, resolve_table

T = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("records", [5, None, "abc", {"record_id": "a"}])
def test_resolve_refuses_what_is_not_a_list_of_records(records):
    with pytest.raises(ClientModelError, match="records"):
        resolve(records)


def test_a_naive_timestamp_names_the_field_and_the_record():
    with pytest.raises(DataError) as info:
        resolve([{"record_id": "crm-7", "timestamp": dt.datetime(2024, 1, 1)}])
    assert "timestamp" in info.value.message
    assert "crm-7" in info.value.message


def test_an_extra_key_names_the_key_and_the_record():
    with pytest.raises(DataError) as info:
        resolve([{"record_id": "crm-7", "identifers": []}])
    assert "identifers" in info.value.message
    assert "crm-7" in info.value.message


def test_a_returned_profile_shares_no_mutable_mapping_with_its_input():
    p = Profile(profile_id="p", traits={"city": {"value": "Lyon"}, "age": {"value": 30}})
    q = set_traits(p, {"age": 31}, at=T)
    with pytest.raises(TypeError):
        q.traits.pop("city")
    with pytest.raises(TypeError):
        p.traits["x"] = p.traits["city"]
    assert set(p.traits) == {"age", "city"}
    assert p.traits["age"].value == 30


def test_event_properties_are_read_only():
    e = Event(event_id="e", type="view", channel="app", timestamp=T, properties={"sku": "A1"})
    with pytest.raises(TypeError):
        e.properties["sku"] = "B2"
    assert e.model_dump()["properties"] == {"sku": "A1"}
    assert Event.model_validate_json(e.model_dump_json()) == e


def _owned(n: int, staff: str) -> list[Profile]:
    return [
        start_relationship(Profile(profile_id=f"p{i}"), staff, at=T, how="search") for i in range(n)
    ]


def test_reassign_refuses_negative_loads():
    team = [StaffMember(staff_id="s1"), StaffMember(staff_id="s2")]
    with pytest.raises(DataError, match=r"loads.*s2.*-3"):
        reassign(_owned(2, "s1"), "s1", team, loads={"s2": -3})


def test_reassign_refuses_duplicate_staff_ids():
    team = [StaffMember(staff_id="s1"), StaffMember(staff_id="s2", team="a"),
            StaffMember(staff_id="s2", team="b")]  # fmt: skip
    with pytest.raises(DataError, match="s2"):
        reassign(_owned(1, "s1"), "s1", team)


def test_no_clear_identifier_in_resolution_error_messages():
    fed = ["13912345678x", "zhang.wei@qq", "139-1234-5678"]
    messages = []
    for value, kind in zip(fed, ["phone", "email", "phone"], strict=True):
        with pytest.raises(ClientModelError) as info:
            resolve([{"record_id": "r1", "identifiers": [(kind, value)]}])
        messages += [str(info.value), repr(info.value)]
    table = {"record_id": ["r1", "r2"], "kind": ["phone", "email"], "value": fed[:2]}
    with pytest.raises(ClientModelError) as info:
        resolve_table(table)
    messages += [str(info.value), repr(info.value)]
    for message in messages:
        runs = re.findall(r"\d+", message)
        for value in fed:
            assert value not in message, message
            digits = re.sub(r"\D", "", value)
            assert not digits or not any(digits in run for run in runs), message


def test_validation_errors_mask_identifiers_but_keep_the_input_for_code():
    # str/repr of pydantic's ValidationError hide the raw input (hide_input_in_errors); our
    # validator's message shows the masked value; programs can still read the input from errors()
    from pydantic import ValidationError

    from clientmodel.profile import Identifier

    with pytest.raises(ValidationError) as info:
        Identifier(kind="email", value="li.na@example")
    shown = str(info.value) + repr(info.value)
    assert "li.na@example" not in shown
    assert "l***@example" in shown
    assert info.value.errors()[0]["input"] == {"kind": "email", "value": "li.na@example"}
    with pytest.raises(ValidationError) as info:
        Profile(profile_id="p", identifiers=[{"kind": "phone", "value": "13912345678"}])
    assert "13912345678" not in str(info.value) + repr(info.value)


def test_is_blocked_takes_any_collection_but_not_a_number():
    from clientmodel.identity.kinds import is_blocked

    assert is_blocked("n/a", blocked=(x for x in ["n/a"]))
    assert is_blocked("n/a", blocked=["n/a"])
    with pytest.raises(ClientModelError, match="blocked"):
        is_blocked("n/a", blocked=5)
