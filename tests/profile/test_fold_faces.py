"""Record face == table face for folding: exact money, null timestamps (issue 18)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.errors import DataError
from clientmodel.profile import Event, Profile, apply, fold_events

T = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)


def _both_faces(amounts: list[float]) -> tuple[float, float]:
    events = [
        Event(event_id=str(i), type="purchase", channel="app", timestamp=T, value=Decimal(repr(v)))
        for i, v in enumerate(amounts)
    ]
    p, _ = apply(Profile(profile_id="a"), events, as_of=T)
    record = float(p.activity.value_by_type["purchase"])
    table = pl.DataFrame(
        {
            "profile_id": ["a"] * len(amounts),
            "event_id": [str(i) for i in range(len(amounts))],
            "type": ["purchase"] * len(amounts),
            "channel": ["app"] * len(amounts),
            "timestamp": [T] * len(amounts),
            "value": amounts,
        }
    )
    folded = fold_events(table, as_of=T).profiles["sum_purchase"].to_list()[0]
    return record, folded


def test_money_is_folded_exactly_on_both_faces():
    # Decimal: 0.1 + 0.2 = 0.3 exactly; float addition gives 0.30000000000000004.
    record, table = _both_faces([0.1, 0.2])
    assert record == table == 0.3


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.integers(-(10**6), 10**6).map(lambda c: c / 100),  # cents
            st.decimals(-1000, 1000, places=4).map(float),
            st.floats(-1e6, 1e6, allow_nan=False),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_record_and_table_money_sums_agree(amounts):
    record, table = _both_faces(amounts)
    assert record == table


def test_null_event_timestamps_are_refused_alike_on_both_faces():
    with pytest.raises(DataError, match="timestamp"):
        apply(
            Profile(profile_id="a"),
            [{"event_id": "1", "type": "view", "channel": "app", "timestamp": None}],
            as_of=T,
        )
    table = {
        "profile_id": ["a"],
        "event_id": ["1"],
        "type": ["view"],
        "channel": ["app"],
        "timestamp": [None],
    }
    with pytest.raises(DataError, match="timestamp"):
        fold_events(table, as_of=T)
