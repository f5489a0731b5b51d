"""Windowed sums in tag rules add money exactly on both faces (issue 18 item 3).

The record face summed windowed amounts with ``math.fsum`` of floats and the table face with
``numpy.bincount`` (a running float sum), while ``sum_<type>`` columns add amounts as decimals on
both faces. Expected values are decimal arithmetic by hand: ten purchases of 0.1 make 1.0; 0.1 and
0.2 make 0.3 (binary floats give 0.9999999999999999 and 0.30000000000000004).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from clientmodel.profile import Event, Profile, apply, events_to_table, fold_events

UTC = dt.timezone.utc
AS_OF = dt.datetime(2024, 6, 30, 12, tzinfo=UTC)


def purchases(amounts):
    return [
        Event(event_id=str(i), type="purchase", channel="app",
              timestamp=AS_OF - dt.timedelta(days=1 + i % 5), value=Decimal(a))
        for i, a in enumerate(amounts)
    ]  # fmt: skip


CASES = [
    (["0.1"] * 10, 'sum(events.value where type = "purchase") within last 1 month >= 1'),
    (["0.1", "0.2"], 'sum(events.value where type = "purchase") within last 1 month >= 0.3'),
    (["0.7", "0.1"], "sum(events.value) within last 7 days >= 0.8"),
]


@pytest.mark.parametrize(("amounts", "rule"), CASES)
def test_windowed_sums_are_exact_on_both_faces(amounts, rule):
    events = purchases(amounts)
    record, _ = apply(Profile(profile_id="p"), events, as_of=AS_OF, rules={"big": rule})
    assert record.tag_ids == {"big"}
    table = events_to_table(events, profile_id="p")
    folded = fold_events(table, as_of=AS_OF, rules={"big": rule})
    assert folded.tags["tag"].tolist() == ["big"]
    # and the sum column agrees with hand arithmetic too
    assert folded.profiles["sum_purchase"].tolist() == [float(sum(map(Decimal, amounts)))]
