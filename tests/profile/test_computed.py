"""Computed traits (issue 18 item 3): hand-checked values and record face == table face."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.errors import ArgumentError, DataError
from clientmodel.profile import ComputedTrait, Event, compute_traits, compute_traits_table

T = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
DAY = dt.timedelta(days=1)
ALL = [
    {"name": "n", "func": "count"},
    {"name": "n_buy_30d", "func": "count", "event_type": "purchase", "window_days": 30},
    {"name": "spend", "func": "sum", "field": "value"},
    {"name": "spend_30d", "func": "sum", "field": "value", "window_days": 30},
    {"name": "low", "func": "min", "field": "value"},
    {"name": "high", "func": "max", "field": "value"},
    {"name": "first_channel", "func": "first", "field": "channel"},
    {"name": "last_channel", "func": "last", "field": "channel"},
    {"name": "top_channel", "func": "most_frequent", "field": "channel"},
    {"name": "channels", "func": "unique_list", "field": "channel"},
    {"name": "n_channels", "func": "unique_count", "field": "channel"},
    {"name": "sku_last", "func": "last", "field": "sku"},
]


def _events():
    rows = [  # (id, type, channel, days before T, value, sku)
        ("e1", "view", "web", 60, None, None),
        ("e2", "purchase", "app", 40, "10.10", "A"),
        ("e3", "purchase", "app", 3, "0.1", "B"),
        ("e4", "purchase", "web", 1, "0.2", None),
        ("e5", "view", "web", 0, None, "C"),
    ]
    return [
        Event(event_id=i, profile_id="p", type=ty, channel=ch, timestamp=T - d * DAY,
              value=None if v is None else Decimal(v), properties={} if s is None else {"sku": s})
        for i, ty, ch, d, v, s in rows
    ]  # fmt: skip


def test_hand_checked_values():
    got = compute_traits(_events(), ALL, as_of=T)
    assert got == {
        "n": 5,
        "n_buy_30d": 2,  # e3, e4 (e2 is 40 days old)
        "spend": 10.4,  # 10.10 + 0.1 + 0.2 exactly
        "spend_30d": 0.3,  # 0.1 + 0.2 as decimals, not 0.30000000000000004
        "low": 0.1,
        "high": 10.1,
        "first_channel": "web",  # e1
        "last_channel": "web",  # e5
        "top_channel": "web",  # web 3, app 2
        "channels": ["app", "web"],
        "n_channels": 2,
        "sku_last": "C",
    }


def test_empty_and_ties():
    traits = [
        {"name": "top", "func": "most_frequent", "field": "channel"},
        {"name": "first", "func": "first", "field": "channel"},
        {"name": "spend", "func": "sum", "field": "value"},
        {"name": "u", "func": "unique_list", "field": "channel"},
    ]
    assert compute_traits([], traits, as_of=T) == {"top": None, "first": None, "spend": 0.0,
                                                   "u": []}  # fmt: skip
    tie = [
        Event(event_id="b", type="view", channel="web", timestamp=T),
        Event(event_id="a", type="view", channel="app", timestamp=T),
    ]
    # one each: the smallest value wins the tie; same time: the smallest event id is first
    assert compute_traits(tie, traits, as_of=T)["top"] == "app"
    assert compute_traits(tie, traits, as_of=T)["first"] == "app"


def test_bad_definitions_and_late_events():
    with pytest.raises(ValueError, match="needs a field"):
        ComputedTrait(name="x", func="sum")
    with pytest.raises(DataError, match="func"):
        compute_traits([], [{"name": "x", "func": "median", "field": "value"}], as_of=T)
    with pytest.raises(ArgumentError):
        compute_traits([], "count", as_of=T)
    late = [Event(event_id="e", type="view", channel="web", timestamp=T + DAY)]
    with pytest.raises(DataError, match="after as_of"):
        compute_traits(late, ALL[:1], as_of=T)


def _table(events, people):
    return {
        "profile_id": people,
        "event_id": [e.event_id for e in events],
        "type": [e.type for e in events],
        "channel": [e.channel for e in events],
        "timestamp": [e.timestamp for e in events],
        "value": [None if e.value is None else float(e.value) for e in events],
        "sku": [e.properties.get("sku") for e in events],
    }


event_strategy = st.builds(
    lambda i, ty, ch, d, cents, sku: Event(
        event_id=f"e{i}", type=ty, channel=ch, timestamp=T - d * DAY,
        value=None if cents is None else Decimal(cents) / 100,
        properties={} if sku is None else {"sku": sku},
    ),
    st.integers(0, 10**6),
    st.sampled_from(["view", "purchase"]),
    st.sampled_from(["app", "web", "wecom"]),
    st.integers(0, 90),
    st.none() | st.integers(0, 10**6),
    st.none() | st.sampled_from(["A", "B", "C"]),
)  # fmt: skip


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(event_strategy, st.sampled_from(["p1", "p2", "p3"])), min_size=1,
                max_size=12, unique_by=lambda x: x[0].event_id))  # fmt: skip
def test_record_face_equals_table_face(items):
    events = [e for e, _ in items]
    people = [p for _, p in items]
    table = _table(events, people)
    expected = {
        p: compute_traits([e for e, q in items if q == p], ALL, as_of=T)
        for p in sorted(set(people))
    }
    for kind, frame in {
        "polars": pl.DataFrame(table),
        "pandas": pd.DataFrame(table),
        "mapping": table,
    }.items():
        out = compute_traits_table(frame, ALL, as_of=T)
        rows = pl.DataFrame(out).to_dicts() if kind == "mapping" else (
            out.to_dicts() if kind == "polars" else out.to_dict("records"))  # fmt: skip
        got = {r["profile_id"]: {k: _plain(r[k]) for k in expected[r["profile_id"]]} for r in rows}
        assert got == expected, kind


def _plain(v):
    if isinstance(v, float) and v != v:
        return None
    return list(v) if hasattr(v, "__len__") and not isinstance(v, str) else v


def test_polars_output_writes_parquet():
    events = _events()
    out = compute_traits_table(pl.DataFrame(_table(events, ["p"] * len(events))), ALL, as_of=T)
    assert pl.Object not in out.schema.values()
    out.write_parquet(io.BytesIO())
