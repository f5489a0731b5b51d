"""The table face: hand-computed folds, errors, and agreement with the record face."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.errors import DataError
from clientmodel.profile import (
    ActivityConfig,
    Event,
    Profile,
    TagCatalog,
    TagGroup,
    apply,
    events_to_table,
    fold_events,
    set_traits,
)

UTC = dt.timezone.utc
CST = dt.timezone(dt.timedelta(hours=8))
AS_OF = dt.datetime(2024, 6, 30, 12, tzinfo=UTC)
DAY = dt.timedelta(days=1)


def _table(**cols):
    n = len(next(iter(cols.values())))
    base = {"profile_id": ["p"] * n, "channel": ["app"] * n}
    base.update(cols)
    return base


def test_hand_computed_fold():
    t = [AS_OF - 30 * DAY, AS_OF - 15 * DAY, AS_OF - 15 * DAY, AS_OF - 7 * DAY]
    events = pl.DataFrame(
        {
            "profile_id": ["p", "p", "p", "q"],
            "event_id": ["1", "2", "2", "3"],  # event 2 has two topics: two rows
            "type": ["view", "like", "like", "add_to_cart"],
            "channel": ["app", "web", "web", "app"],
            "timestamp": t,
            "topic": ["a", "a", "b", None],
            "value": [None, None, None, 12.5],
        }
    )
    out = fold_events(events, as_of=AS_OF)
    prof = out.profiles.to_pandas().set_index("profile_id")
    assert isinstance(out.profiles, pl.DataFrame)
    assert prof.loc["p", "n_events"] == 2
    assert prof.loc["p", "n_like"] == 1
    assert prof.loc["p", "n_via_web"] == 1
    assert prof.loc["q", "sum_add_to_cart"] == 12.5
    # intent of q: one add_to_cart 7 days ago, half-life 7: S = 0.5
    assert prof.loc["q", "intent"] == pytest.approx(1 - math.exp(-0.5), rel=1e-12)
    interest = {(r["profile_id"], r["topic"]): r["interest"] for r in out.interest.to_dicts()}
    assert interest[("p", "a")] == pytest.approx(0.5 + 2 / math.sqrt(2), rel=1e-12)
    assert interest[("p", "b")] == pytest.approx(2 / math.sqrt(2), rel=1e-12)
    assert prof.loc["p", "top_topic"] == "a"
    assert str(out.profiles.schema["last_seen"]) == "Datetime(time_unit='us', time_zone='UTC')"


def test_replayed_rows_are_dropped():
    ev = events_to_table(
        [Event(event_id="1", type="view", channel="app", timestamp=AS_OF, topics=("a",))],
        profile_id="p",
        frame="pandas",
    )
    twice = pd.concat([ev, ev], ignore_index=True)
    a = fold_events(ev, as_of=AS_OF)
    b = fold_events(twice, as_of=AS_OF)
    pd.testing.assert_frame_equal(a.profiles, b.profiles)
    pd.testing.assert_frame_equal(a.interest, b.interest)


def test_rows_of_one_event_must_agree():
    ev = _table(
        event_id=["1", "1"], type=["view", "click"], timestamp=[AS_OF, AS_OF], topic=["a", "b"]
    )
    with pytest.raises(DataError, match="'type' differs"):
        fold_events(ev, as_of=AS_OF)


def test_events_after_as_of_are_refused_with_rows():
    ev = _table(event_id=["1", "2"], type=["view", "view"], timestamp=[AS_OF, AS_OF + DAY])
    with pytest.raises(DataError, match="after as_of") as err:
        fold_events(ev, as_of=AS_OF)
    assert err.value.rows == (1,)


def test_missing_and_null_columns_are_refused():
    with pytest.raises(DataError, match="missing required column"):
        fold_events({"profile_id": ["p"], "event_id": ["1"]}, as_of=AS_OF)
    ev = _table(event_id=["1"], type=["view"], timestamp=[None])
    with pytest.raises(DataError, match="row 0: None"):
        fold_events(ev, as_of=AS_OF)
    ev = pl.DataFrame(_table(event_id=["1", None], type=["view"] * 2, timestamp=[AS_OF] * 2))
    with pytest.raises(DataError, match="'event_id' has 1 null") as err:
        fold_events(ev, as_of=AS_OF)
    assert err.value.rows == (1,)


def test_bad_type_names_are_refused():
    ev = _table(event_id=["1"], type=["Add To Cart"], timestamp=[AS_OF])
    with pytest.raises(DataError, match="snake_case"):
        fold_events(ev, as_of=AS_OF)


def test_naive_timestamps_need_tz():
    ev = _table(event_id=["1"], type=["view"], timestamp=[dt.datetime(2024, 6, 1)])
    with pytest.raises(DataError, match="naive"):
        fold_events(ev, as_of=AS_OF)
    out = fold_events(ev, as_of=AS_OF, tz="Asia/Shanghai")
    # 2024-06-01 00:00 in Shanghai is 2024-05-31 16:00 UTC
    assert out.profiles["first_seen"][0] == np.datetime64("2024-05-31T16:00:00")


def test_profiles_table_feeds_rules_and_adds_rows():
    ev = _table(event_id=["1"], type=["purchase"], timestamp=[AS_OF], value=[80.0])
    traits = {"profile_id": ["p", "z"], "city": ["Hangzhou", "Wuhan"]}
    rules = {"hz_buyer": 'city = "Hangzhou" and n_purchase >= 1', "wuhan": 'city = "Wuhan"'}
    out = fold_events(ev, as_of=AS_OF, rules=rules, profiles=traits)
    assert out.profiles["profile_id"].tolist() == ["p", "z"]
    assert out.profiles["n_events"].tolist() == [1, 0]
    assert list(zip(out.tags["profile_id"], out.tags["tag"], strict=True)) == [
        ("p", "hz_buyer"),
        ("z", "wuhan"),
    ]
    # the record face gives the same tags
    p = set_traits(Profile(profile_id="p"), {"city": "Hangzhou"}, at=AS_OF)
    p, _ = apply(
        p,
        [Event(event_id="1", type="purchase", channel="app", timestamp=AS_OF)],
        as_of=AS_OF,
        rules=rules,
    )
    assert p.tag_ids == {"hz_buyer"}


def test_attribution_columns():
    ev = _table(
        event_id=["1", "2", "3"],
        type=["scan_code", "view", "view"],
        timestamp=[AS_OF - 9 * DAY, AS_OF - 5 * DAY, AS_OF - DAY],
        channel_code=["poster", None, None],
        campaign=[None, "618", None],
    )
    prof = fold_events(ev, as_of=AS_OF).profiles
    assert prof["first_touch_source"].tolist() == ["poster"]
    assert prof["last_touch_source"].tolist() == ["618"]
    assert prof["last_touch_code"].tolist() == [None]


# ----------------------------------------------------------------------------- record == table
_TYPES = ("view", "click", "add_to_cart", "purchase", "message")
_TOPICS = ((), ("a",), ("b",), ("a", "b"))
_SPEC = st.tuples(
    st.integers(0, 4),  # profile
    st.integers(0, 200 * 86_400),  # seconds before as_of
    st.integers(0, len(_TYPES) - 1),
    st.integers(0, 2),  # channel
    st.integers(0, len(_TOPICS) - 1),
    st.integers(-1, 300),  # value
    st.integers(0, 3),  # channel code / campaign
    st.booleans(),  # +08:00 timestamp
)
RULES = {
    "fan_a": 'count(events where topic = "a" and type != "message") within last 30 days >= 2',
    "spender": 'sum(events.value where type = "purchase") within last 2 months >= 200',
    "hot": "intent > 0.3 or interest_b >= 1.5",
    "recent": "last_seen_purchase within last 14 days",
    "vip": "n_purchase >= 2",
}
CATALOG = TagCatalog(
    groups=[TagGroup(group_id="tier", exclusive=True, tags=("vip", "spender"))], enforce=False
)


def _events(specs: list[tuple[int, ...]]) -> list[Event]:
    out = []
    for i, (p, secs, k, c, tp, v, src, z) in enumerate(specs):
        out.append(
            Event(
                event_id=f"e{i}",
                profile_id=f"p{p}",
                type=_TYPES[k],
                channel=("app", "web", "wecom")[c],
                timestamp=(AS_OF - dt.timedelta(seconds=secs)).astimezone(CST if z else UTC),
                topics=_TOPICS[tp],
                value=None if v < 0 else Decimal(v),
                channel_code="poster" if src == 1 else None,
                campaign="618" if src == 2 else None,
            )
        )
    return out


def _record_face(events: list[Event], as_of: dt.datetime, cfg: ActivityConfig):
    out = {}
    for pid in sorted({e.profile_id for e in events}):
        mine = [e for e in events if e.profile_id == pid]
        out[pid], _ = apply(
            Profile(profile_id=pid), mine, as_of=as_of, rules=RULES, config=cfg, catalog=CATALOG
        )
    return out


def _rows(table) -> list[dict]:
    if isinstance(table, pl.DataFrame):
        return table.to_dicts()
    if isinstance(table, pd.DataFrame):
        return table.to_dict("records")
    return pd.DataFrame(table).to_dict("records")


@settings(max_examples=25, deadline=None)
@given(
    st.lists(_SPEC, max_size=30),
    st.sampled_from(["pandas", "polars", "dict"]),
    st.sampled_from([UTC, CST]),
    st.randoms(use_true_random=False),
)
def test_record_and_table_faces_agree(specs, kind, tz, rnd):
    events = _events(specs)
    as_of = AS_OF.astimezone(tz)
    cfg = ActivityConfig(interest_half_life_days=20, intent_half_life_days=5)
    records = _record_face(events, as_of, cfg)
    rows = list(events)
    rnd.shuffle(rows)
    table = events_to_table(rows + rows[: len(rows) // 3], frame=kind)  # with replayed rows
    if not events:
        return
    out = fold_events(table, as_of=as_of, rules=RULES, config=cfg, catalog=CATALOG)
    profiles = _rows(out.profiles)
    assert [r["profile_id"] for r in profiles] == sorted(records)
    for row in profiles:
        act = records[row["profile_id"]].activity
        assert row["n_events"] == act.n_events
        for t in _TYPES:
            assert row.get(f"n_{t}", 0) == act.counts_by_type.get(t, 0)
            if t in act.value_by_type:
                assert row[f"sum_{t}"] == pytest.approx(float(act.value_by_type[t]))
            if t in act.last_seen_by_type:
                seen = pd.Timestamp(row[f"last_seen_{t}"])
                seen = seen.tz_localize("UTC") if seen.tzinfo is None else seen
                assert seen == pd.Timestamp(act.last_seen_by_type[t])
        assert row["intent"] == pytest.approx(act.intent, rel=1e-9, abs=1e-12)
        first = records[row["profile_id"]].first_touch
        source = row["first_touch_source"]
        source = (
            None if source is None or (isinstance(source, float) and source != source) else source
        )
        assert source == (None if first is None else first.source)
    interest = {(r["profile_id"], r["topic"]): r["interest"] for r in _rows(out.interest)}
    expected = {(pid, k): v for pid, p in records.items() for k, v in p.activity.interest.items()}
    assert interest.keys() == expected.keys()
    for key, value in expected.items():
        assert interest[key] == pytest.approx(value, rel=1e-9, abs=1e-12)
    tags = {(r["profile_id"], r["tag"]) for r in _rows(out.tags)}
    assert tags == {(pid, t) for pid, p in records.items() for t in p.tag_ids}


@pytest.mark.parametrize("kind", ["polars", "pandas", "dict"])
def test_company_tags_from_the_profiles_table(kind):
    ev = _table(event_id=["1", "2"], type=["view", "view"], timestamp=[AS_OF, AS_OF])
    ev["profile_id"] = ["a", "b"]
    prof = {"profile_id": ["a", "b", "c"], "tags": [["vip"], [], ["vip"]]}
    if kind == "polars":
        ev, prof = pl.DataFrame(ev), pl.DataFrame(prof)
    elif kind == "pandas":
        ev, prof = pd.DataFrame(ev), pd.DataFrame(prof)
    rules = {"vip_viewer": 'has tag "vip" and n_view >= 1', "vip_seen": 'has tag "vip"'}
    out = fold_events(ev, as_of=AS_OF, profiles=prof, rules=rules)
    tags = {(r["profile_id"], r["tag"]) for r in _rows(out.tags)}
    assert tags == {("a", "vip_viewer"), ("a", "vip_seen"), ("c", "vip_seen")}


def test_profiles_table_may_not_shadow_derived_fields():
    ev = _table(event_id=["1"], type=["view"], timestamp=[AS_OF])
    with pytest.raises(DataError, match="would shadow"):
        fold_events(ev, as_of=AS_OF, profiles={"profile_id": ["p"], "n_view": [3]})
