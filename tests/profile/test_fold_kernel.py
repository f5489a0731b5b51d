"""One event-folding kernel for both faces (issue 18 item 3).

``apply`` (record face) and ``fold_events`` (table face) both run ``profile._folding.fold``. The
property test below checks that the faces agree on everything they report, exactly where the
numbers are exact (counts, times, money) and to rounding where they are sums of floats in a
different order (interest, intent), over amounts such as 0.1, 1e15 and decimal strings, timestamps
that tie (also across timezones), windowed rules and replayed events. Expected money totals are
decimal arithmetic (``Decimal``), independent of the code under test.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.profile import ActivityConfig, Event, Profile, apply, events_to_table, fold_events
from clientmodel.profile._folding import EventColumns, exact_sums, fold

UTC = dt.timezone.utc
CST = dt.timezone(dt.timedelta(hours=8))
AS_OF = dt.datetime(2024, 6, 30, 12, tzinfo=UTC)
DAY = dt.timedelta(days=1)
_TYPES = ("view", "add_to_cart", "purchase", "message")
_CHANNELS = ("app", "web", "wecom")
_TOPICS = ((), ("a",), ("b",), ("a", "b"))
# amounts as a shop spells them: cents, 0.1-style binary-inexact values, 1e15, sub-cent prices,
# refunds; each is its float's shortest spelling, so the table face (floats) sees the same amount
_AMOUNTS = st.one_of(
    st.sampled_from(
        [None, "0.1", "0.2", "0.3", "1e15", "999999999999999.9", "0.001", "19.99", "-5.25"]
    ),
    st.integers(-(10**8), 10**8).map(lambda c: str(Decimal(c).scaleb(-2))),
    st.floats(-1e9, 1e9, allow_nan=False).map(repr),
)
# few distinct instants (ties), each in UTC or +08:00
_SPEC = st.tuples(
    st.integers(0, 2),  # profile
    st.sampled_from([0, 1, 3600, 86_400, 6 * 86_400, 20 * 86_400, 45 * 86_400]),
    st.sampled_from([0, 1, 2, 2, 2, 3]),  # type: mostly purchases, so amounts add up
    st.integers(0, len(_CHANNELS) - 1),
    st.integers(0, len(_TOPICS) - 1),
    _AMOUNTS,
    st.booleans(),
)
RULES = {
    "recent_buyer": 'count(events where type = "purchase") within last 7 days >= 1',
    "spender": "sum(events.value) within last 1 month >= 0.3",
    "big": "sum_purchase >= 1000000000000000",
    "a_fan": 'count(events where topic = "a") within last 2 days >= 2 or interest_a > 1.5',
}


def _events(specs) -> list[Event]:
    return [
        Event(
            event_id=f"e{i}",
            profile_id=f"p{p}",
            type=_TYPES[k],
            channel=_CHANNELS[c],
            timestamp=(AS_OF - dt.timedelta(seconds=secs)).astimezone(CST if z else UTC),
            topics=_TOPICS[tp],
            value=None if v is None else Decimal(v),
        )
        for i, (p, secs, k, c, tp, v, z) in enumerate(specs)
    ]


def _rows(table) -> list[dict]:
    if isinstance(table, pl.DataFrame):
        return table.to_dicts()
    return pd.DataFrame(table).to_dict("records")


def _instant(value) -> dt.datetime | None:
    if value is None or (isinstance(value, float) and value != value) or pd.isna(value):
        return None
    stamp = pd.Timestamp(value)
    return (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp).to_pydatetime()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(_SPEC, min_size=1, max_size=30),
    st.sampled_from(["pandas", "polars", "dict"]),
    st.randoms(use_true_random=False),
)
def test_record_and_table_faces_agree_on_money_ties_windows_and_replays(specs, kind, rnd):
    events = _events(specs)
    cfg = ActivityConfig(interest_half_life_days=10, intent_half_life_days=3)
    records = {}
    for pid in sorted({e.profile_id for e in events}):
        mine = [e for e in events if e.profile_id == pid]
        rnd.shuffle(mine)
        cut = rnd.randint(0, len(mine))
        # two requests: the second replays part of the first
        p, _ = apply(Profile(profile_id=pid), mine[:cut], as_of=AS_OF, rules=RULES, config=cfg)
        replay = mine[: rnd.randint(0, cut)]
        records[pid], _ = apply(p, mine[cut:] + replay, as_of=AS_OF, rules=RULES, config=cfg)
    rows = list(events)
    rnd.shuffle(rows)
    table = events_to_table(rows + rows[: len(rows) // 2], frame=kind)  # replayed rows
    out = fold_events(table, as_of=AS_OF, rules=RULES, config=cfg)
    for row in _rows(out.profiles):
        pid = row["profile_id"]
        act = records[pid].activity
        mine = [e for e in events if e.profile_id == pid]
        assert row["n_events"] == act.n_events == len(mine)
        assert _instant(row["first_seen"]) == act.first_seen == min(e.timestamp for e in mine)
        assert _instant(row["last_seen"]) == act.last_seen == max(e.timestamp for e in mine)
        for t in _TYPES:
            assert row.get(f"n_{t}", 0) == act.counts_by_type.get(t, 0)
            assert _instant(row.get(f"last_seen_{t}")) == act.last_seen_by_type.get(t)
            amounts = [e.value for e in mine if e.type == t and e.value is not None]
            expected = sum(amounts, Decimal(0))  # decimal arithmetic by hand
            assert act.value_by_type.get(t, Decimal(0)) == expected
            assert row.get(f"sum_{t}", 0.0) == float(expected)  # exact, not approx
        for c in _CHANNELS:
            assert row.get(f"n_via_{c}", 0) == act.counts_by_channel.get(c, 0)
            assert _instant(row.get(f"last_seen_via_{c}")) == act.last_seen_by_channel.get(c)
        assert row["intent"] == pytest.approx(act.intent, rel=1e-12, abs=1e-15)
    interest = {(r["profile_id"], r["topic"]): r["interest"] for r in _rows(out.interest)}
    expected = {(pid, k): v for pid, p in records.items() for k, v in p.activity.interest.items()}
    assert interest.keys() == expected.keys()
    for key, value in expected.items():
        assert interest[key] == pytest.approx(value, rel=1e-12)
    tags = {(r["profile_id"], r["tag"]) for r in _rows(out.tags)}
    assert tags == {(pid, t) for pid, p in records.items() for t in p.tag_ids}


def test_tied_times_keep_the_first_event_in_time_then_id_order():
    # e1 (+08:00) and e2 (UTC) happen at the same instant: last_seen keeps e1's own datetime,
    # with its offset, whichever order they arrive in (as the per-event loop did)
    at = AS_OF - DAY
    e1 = Event(event_id="e1", type="view", channel="app", timestamp=at.astimezone(CST))
    e2 = Event(event_id="e2", type="view", channel="app", timestamp=at)
    for batch in ([e1, e2], [e2, e1]):
        p, _ = apply(Profile(profile_id="p"), batch, as_of=AS_OF)
        assert p.activity.last_seen_by_type["view"].utcoffset() == dt.timedelta(hours=8)
        assert p.activity.first_seen.utcoffset() == dt.timedelta(hours=8)


def test_kernel_by_hand():
    # two profiles; profile 0: view (t=0 d, topic 0) and purchase 0.1 + 0.2 (t=-1 d, -2 d);
    # profile 1: a message 2 days before as_of. Half-lives 1 day (intent) and 2 days (interest)
    us = 86_400_000_000
    ev = EventColumns(
        n_profiles=2,
        type_names=["view", "purchase", "message"],
        n_channels=2,
        n_topics=2,
        profile=np.array([0, 0, 0, 1]),
        type=np.array([0, 1, 1, 2]),
        channel=np.array([0, 1, 1, 0]),
        t_us=np.array([10 * us, 9 * us, 8 * us, 8 * us]),
        value=np.array([np.nan, 0.1, 0.2, np.nan]),
        topic_event=np.array([0, 1]),
        topic=np.array([0, 1]),
    )
    f = fold(
        ev,
        10 * us,
        interest_half_life=2.0,
        interest_weights={"view": 1.0, "purchase": 6.0},
        default_interest_weight=1.0,
        intent_half_life=1.0,
        intent_weights={"message": 0.5},
    )
    assert f.counts_by_type.tolist() == [[1, 2, 0], [0, 0, 1]]
    assert f.counts_by_channel.tolist() == [[1, 2], [1, 0]]
    assert f.last_by_type[0].tolist()[:2] == [10 * us, 9 * us]
    assert f.first_seen.tolist() == [8 * us, 8 * us]
    assert f.last_seen.tolist() == [10 * us, 8 * us]
    assert f.value_by_type[0, 1] == 0.3  # decimal 0.1 + 0.2, not 0.30000000000000004
    assert f.valued_by_type.tolist() == [[0, 2, 0], [0, 0, 0]]
    assert f.intent_mass.tolist() == [0.0, 0.5 * 2**-2]  # 0.5 * 2^(-2 days / 1 day)
    # interest: view weight 1 now (1.0) on topic 0; purchase weight 6 a day ago on topic 1
    assert f.interest_profile.tolist() == [0, 0]
    assert f.interest_topic.tolist() == [0, 1]
    assert f.interest.tolist() == pytest.approx([1.0, 6 * 2**-0.5], rel=1e-15)


def test_exact_sums_of_large_and_inexact_amounts():
    keys = np.array([0, 0, 1, 1, 1])
    values = np.array([1e15, 0.1, 0.1, 0.2, 1e-10])
    by_hand = [
        float(Decimal("1e15") + Decimal("0.1")),
        float(Decimal("0.1") + Decimal("0.2") + Decimal("1e-10")),
    ]
    assert exact_sums(keys, values, 2).tolist() == by_hand
