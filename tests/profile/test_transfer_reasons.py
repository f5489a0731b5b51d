"""Transfer reasons (issue 18 item 6): a transfer records why, not always ``staff_left``."""

from __future__ import annotations

import datetime as dt

import pytest

from clientmodel.errors import ArgumentError
from clientmodel.profile import Move, Profile, start_relationship, transfer

T = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("why", ["staff_left", "reassigned", "customer_request"])
def test_the_ended_relationship_records_the_reason(why):
    p = start_relationship(Profile(profile_id="p"), "s1", at=T, how="search")
    m = Move(profile_id="p", from_staff="s1", to_staff="s2", reason="balance_load")
    out = transfer(p, m, at=T + dt.timedelta(days=1), why=why)
    assert out.relationship("s1").end_reason == why
    assert out.owners == ("s2",)


def test_staff_left_stays_the_default_and_nonsense_is_refused():
    p = start_relationship(Profile(profile_id="p"), "s1", at=T, how="search")
    m = Move(profile_id="p", from_staff="s1", to_staff="s2", reason="balance_load")
    assert transfer(p, m, at=T).relationship("s1").end_reason == "staff_left"
    with pytest.raises(ArgumentError, match="why"):
        transfer(p, m, at=T, why="bored")
