"""Merge history (issue 18 item 2): joins and refusals as events, worked out by hand."""

from __future__ import annotations

import datetime as dt
import json

from clientmodel.identity import MergeEvent, merge_history, resolve

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


def test_history_of_a_shared_device():
    records = [
        {"record_id": "a", "identifiers": [("member_id", "M1"), ("device_id", "D")],
         "timestamp": T0},
        {"record_id": "b", "identifiers": [("member_id", "M2"), ("device_id", "D")],
         "timestamp": T0 + dt.timedelta(days=1)},
        {"record_id": "c", "identifiers": [("device_id", "D")],
         "timestamp": T0 + dt.timedelta(days=2)},
        {"record_id": "z", "identifiers": [("email", "solo@x.io")]},
    ]  # fmt: skip
    events = merge_history(resolve(records))
    # b's device is refused (2 member ids); c joins a's profile through the device
    assert [(e.kind, e.record_id, e.via.kind.value, e.owner_record_id, e.profile_id)
            for e in events] == [("refused", "b", "device_id", "a", "b"),
                                 ("joined", "c", "device_id", "a", "a")]  # fmt: skip
    assert events[1].at == T0 + dt.timedelta(days=2)
    assert "member_id" in events[0].reason
    back = [MergeEvent.from_dict(json.loads(json.dumps(e.to_dict()))) for e in events]
    assert back == list(events)
    assert "D'" not in repr(events[1])
