"""Folding events into a profile: hand-computed decay and intent, errors, and invariants."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.errors import ArgumentError, DataError, RuleError
from clientmodel.profile import (
    ActivityConfig,
    Event,
    Profile,
    TagCatalog,
    TagGroup,
    add_tag,
    apply,
    evaluate_tag_rules,
    intent_at,
    interest_at,
    rule_record,
)

UTC = dt.timezone.utc
CST = dt.timezone(dt.timedelta(hours=8))
AS_OF = dt.datetime(2024, 6, 30, 12, tzinfo=UTC)
DAY = dt.timedelta(days=1)


def ev(i: int | str, type_: str, ago_days: float, topics=(), **kw) -> Event:
    return Event(
        event_id=str(i),
        type=type_,
        channel=kw.pop("channel", "app"),
        timestamp=AS_OF - dt.timedelta(days=ago_days),
        topics=topics,
        **kw,
    )


# ----------------------------------------------------------------------------- hand-computed
def test_interest_decay_by_hand():
    # view (weight 1) 30 days ago and like (weight 2) 15 days ago, half-life 30 days:
    # I_a = 1 * 2^(-30/30) + 2 * 2^(-15/30) = 0.5 + 2 / sqrt(2);  I_b = 2 / sqrt(2)
    events = [ev(1, "view", 30, ("a",)), ev(2, "like", 15, ("a", "b"))]
    p, changes = apply(Profile(profile_id="p"), events, as_of=AS_OF)
    assert changes == []
    assert p.activity.interest["a"] == pytest.approx(0.5 + 2 / math.sqrt(2), rel=1e-12)
    assert p.activity.interest["b"] == pytest.approx(2 / math.sqrt(2), rel=1e-12)
    assert p.activity.intent == 0.0


def test_intent_by_hand():
    # add_to_cart (v=1) 7 days ago and a message (v=0.5) now, half-life 7 days:
    # S = 1 * 2^(-1) + 0.5 * 2^0 = 1.0;  intent = 1 - e^(-1) = 0.6321...
    p, _ = apply(
        Profile(profile_id="p"), [ev(1, "add_to_cart", 7), ev(2, "message", 0)], as_of=AS_OF
    )
    assert p.activity.intent_mass == pytest.approx(1.0, rel=1e-12)
    assert p.activity.intent == pytest.approx(1 - math.exp(-1.0), rel=1e-12)
    # a week later nothing new: S = 1.0 * 2^(-1) = 0.5
    assert intent_at(p, AS_OF + 7 * DAY) == pytest.approx(1 - math.exp(-0.5), rel=1e-12)


def test_one_decay_and_intent_formula_for_floats_and_columns():
    # the record face calls the kernel per event, the table face on columns: same numbers
    import numpy as np

    from clientmodel.profile._common import decay, intent_score

    ages = [0.0, 0.3, 7.0, 29.9, 400.0]
    column = decay(np.array(ages), 7.0)
    assert column.tolist() == [decay(a, 7.0) for a in ages]
    assert decay(7.0, 7.0) == 0.5
    masses = [0.0, 1e-12, 1.0, 50.0]
    assert intent_score(np.array(masses)).tolist() == [intent_score(m) for m in masses]
    assert intent_score(1e-12) == pytest.approx(1e-12, rel=1e-9)  # no cancellation near 0


def test_configured_half_life_and_weights():
    cfg = ActivityConfig(interest_half_life_days=10, interest_weights={"view": 3.0})
    p, _ = apply(Profile(profile_id="p"), [ev(1, "view", 20, ("a",))], as_of=AS_OF, config=cfg)
    assert p.activity.interest["a"] == pytest.approx(3.0 * 2 ** (-20 / 10), rel=1e-12)
    # types not listed weigh default_interest_weight (1.0)
    p, _ = apply(Profile(profile_id="p"), [ev(1, "purchase", 0, ("a",))], as_of=AS_OF, config=cfg)
    assert p.activity.interest["a"] == 1.0


def test_counters_and_last_seen():
    events = [
        ev(1, "view", 3, channel="app"),
        ev(2, "view", 1, channel="web"),
        ev(3, "purchase", 2, channel="app", value=Decimal("19.90")),
        ev(4, "purchase", 5, channel="store", value=Decimal("10.10")),
    ]
    p, _ = apply(Profile(profile_id="p"), events, as_of=AS_OF)
    a = p.activity
    assert a.n_events == 4
    assert a.counts_by_type == {"purchase": 2, "view": 2}
    assert a.counts_by_channel == {"app": 2, "store": 1, "web": 1}
    assert a.last_seen_by_type["view"] == AS_OF - DAY
    assert a.last_seen_by_channel["app"] == AS_OF - 2 * DAY
    assert a.value_by_type == {"purchase": Decimal("30.00")}
    assert a.first_seen == AS_OF - 5 * DAY
    assert a.last_seen == AS_OF - DAY
    record = rule_record(p)
    assert record["n_purchase"] == 2
    assert record["sum_purchase"] == 30.0
    assert record["n_via_store"] == 1
    assert record["n_like"] == 0


def test_later_fold_decays_stored_scores_exactly():
    p, _ = apply(Profile(profile_id="p"), [ev(1, "view", 0, ("a",))], as_of=AS_OF)
    later = AS_OF + 30 * DAY
    assert interest_at(p, later) == {"a": pytest.approx(0.5, rel=1e-12)}
    q, _ = apply(p, [], as_of=later)
    assert q.activity.interest["a"] == pytest.approx(0.5, rel=1e-12)
    assert q.activity.as_of == later


def test_mappings_are_accepted_and_validated():
    p, _ = apply(
        Profile(profile_id="p"),
        [
            {
                "event_id": "e1",
                "type": "view",
                "channel": "web",
                "timestamp": "2024-06-01T10:00:00+08:00",
            }
        ],
        as_of=AS_OF,
    )
    assert p.activity.n_events == 1


# ----------------------------------------------------------------------------- errors
def test_event_without_timestamp_is_a_clear_error():
    with pytest.raises(DataError, match="no timestamp") as err:
        apply(
            Profile(profile_id="p"),
            [{"event_id": "e1", "type": "view", "channel": "web"}],
            as_of=AS_OF,
        )
    assert err.value.rows == (0,)


def test_naive_timestamp_is_refused():
    with pytest.raises(DataError, match="timezone"):
        apply(
            Profile(profile_id="p"),
            [
                {
                    "event_id": "e",
                    "type": "view",
                    "channel": "web",
                    "timestamp": dt.datetime(2024, 1, 1),
                }
            ],
            as_of=AS_OF,
        )


def test_event_after_as_of_is_a_clear_error():
    with pytest.raises(DataError, match="after as_of") as err:
        apply(Profile(profile_id="p"), [ev("late", "view", -1)], as_of=AS_OF)
    assert err.value.field == "timestamp"
    assert "'late'" in err.value.message


def test_naive_or_missing_as_of_is_refused():
    with pytest.raises(ArgumentError, match="naive"):
        apply(Profile(profile_id="p"), [], as_of=dt.datetime(2024, 1, 1))


def test_as_of_may_not_go_backwards():
    p, _ = apply(Profile(profile_id="p"), [], as_of=AS_OF)
    with pytest.raises(ArgumentError, match="only move forward"):
        apply(p, [], as_of=AS_OF - DAY)


def test_one_id_two_events_is_refused():
    with pytest.raises(DataError, match="two different events"):
        apply(Profile(profile_id="p"), [ev(1, "view", 1), ev(1, "click", 1)], as_of=AS_OF)


def test_event_of_another_profile_is_refused():
    with pytest.raises(DataError, match="belongs to profile"):
        apply(Profile(profile_id="p"), [ev(1, "view", 1, profile_id="q")], as_of=AS_OF)


def test_event_older_than_history_is_refused_after_the_first_fold():
    cfg = ActivityConfig(history_days=30)
    p, _ = apply(Profile(profile_id="p"), [ev(1, "view", 100)], as_of=AS_OF, config=cfg)
    assert p.activity.recent_events == ()  # folded, but older than the kept history
    with pytest.raises(DataError, match="history_start"):
        apply(p, [ev(2, "view", 40)], as_of=AS_OF, config=cfg)
    q, _ = apply(p, [ev(3, "view", 10)], as_of=AS_OF, config=cfg)
    assert q.activity.n_events == 2


def test_unknown_event_type_name_is_refused():
    with pytest.raises(ValueError, match="snake_case"):
        ev(1, "Add To Cart", 1)


# ----------------------------------------------------------------------------- rules
SKIN = 'count(events where type = "view" and topic = "skincare") within last 30 days >= 2'


def test_rule_tag_added_then_removed_when_the_window_passes():
    views = [ev(1, "view", 10, ("skincare",)), ev(2, "view", 5, ("skincare", "makeup"))]
    p, changes = apply(Profile(profile_id="p"), views, as_of=AS_OF, rules={"skin_fan": SKIN})
    assert [(c.action, c.tag, c.source) for c in changes] == [("added", "skin_fan", "rule")]
    assert p.tags[0].assigned_by == "rule:skin_fan"
    assert p.tags[0].at == AS_OF
    # 26 days later the first view has left the 30-day window
    q, changes = apply(p, [], as_of=AS_OF + 26 * DAY, rules={"skin_fan": SKIN})
    assert [(c.action, c.reason) for c in changes] == [("removed", "rule no longer holds")]
    assert q.tag_ids == frozenset()


def test_multi_topic_event_counts_once():
    # one event with two topics matching the filter is one event
    rule = 'count(events where topic = "a" or topic = "b") within last 7 days >= 2'
    p, _ = apply(
        Profile(profile_id="p"), [ev(1, "view", 1, ("a", "b"))], as_of=AS_OF, rules={"t": rule}
    )
    assert p.tag_ids == frozenset()


def test_rule_does_not_remove_a_manual_tag():
    p, _ = add_tag(Profile(profile_id="p"), "skin_fan", at=AS_OF - DAY)
    q, changes = apply(p, [], as_of=AS_OF, rules={"skin_fan": SKIN})
    assert changes == []
    assert q.tag_ids == {"skin_fan"}


def test_rules_over_profile_fields_and_sums():
    events = [
        ev(1, "purchase", 3, value=Decimal(120)),
        ev(2, "purchase", 40, value=Decimal(90)),
        ev(3, "add_to_cart", 0),
    ]
    rules = {
        "big_month": 'sum(events.value where type = "purchase") within last 1 month >= 100',
        "huge_month": 'sum(events.value where type = "purchase") within last 1 month >= 200',
        "hot": "intent > 0.6 and n_purchase >= 2 and last_seen_purchase within last 7 days",
        "golfer": "interest_golf > 0",
    }
    p, _ = apply(Profile(profile_id="p"), events, as_of=AS_OF, rules=rules)
    assert p.tag_ids == {"big_month", "hot"}
    assert evaluate_tag_rules(p, rules) == {
        "big_month": True,
        "huge_month": False,
        "hot": True,
        "golfer": False,
    }


def test_exclusive_group_first_rule_wins():
    catalog = TagCatalog(groups=[TagGroup(group_id="life", exclusive=True, tags=("vip", "active"))])
    rules = {"vip": "n_purchase >= 1", "active": "n_events >= 1"}
    p, _ = apply(
        Profile(profile_id="p"), [ev(1, "purchase", 1)], as_of=AS_OF, rules=rules, catalog=catalog
    )
    assert p.tag_ids == {"vip"}
    # swap the priority: active comes first and replaces vip in the exclusive group
    q, changes = apply(
        p, [], as_of=AS_OF, rules={"active": rules["active"], "vip": rules["vip"]}, catalog=catalog
    )
    assert q.tag_ids == {"active"}
    assert [(c.action, c.tag) for c in changes] == [("removed", "vip"), ("added", "active")]


def test_aggregate_window_must_fit_the_history():
    with pytest.raises(ArgumentError, match="history_days"):
        apply(
            Profile(profile_id="p"),
            [],
            as_of=AS_OF,
            rules={"x": 'count(events where type = "view") >= 1'},
        )
    with pytest.raises(ArgumentError, match="400"):
        apply(
            Profile(profile_id="p"),
            [],
            as_of=AS_OF,
            rules={"x": "count(events) within last 2 years >= 1"},
        )


def test_bad_rule_text_is_a_rule_error_naming_the_tag():
    with pytest.raises(RuleError, match="'broken'"):
        apply(Profile(profile_id="p"), [], as_of=AS_OF, rules={"broken": "n_view >>= 2"})


# ----------------------------------------------------------------------------- invariants
_TYPES = ("view", "click", "like", "add_to_cart", "purchase", "message")


_TOPICS = ((), ("a",), ("b",), ("c",), ("a", "b"), ("a", "c"), ("b", "c"), ("a", "b", "c"))
# one compact tuple per event (seconds before AS_OF, type, channel, topics, value, campaign, tz):
# hypothesis draws small integers fast; the events are built from them afterwards
_SPEC = st.tuples(
    st.integers(0, 300 * 86_400),
    st.integers(0, len(_TYPES) - 1),
    st.integers(0, 2),
    st.integers(0, len(_TOPICS) - 1),
    st.integers(-1, 500),
    st.integers(0, 2),
    st.booleans(),
)


def _build(specs: list[tuple[int, int, int, int, int, int, bool]]) -> list[Event]:
    return [
        Event(
            event_id=f"e{i}",
            type=_TYPES[k],
            channel=("app", "web", "wecom")[c],
            timestamp=(AS_OF - dt.timedelta(seconds=secs)).astimezone(CST if z else UTC),
            topics=_TOPICS[tp],
            value=None if v < 0 else Decimal(v),
            campaign=(None, "618", "fair")[cp],
        )
        for i, (secs, k, c, tp, v, cp, z) in enumerate(specs)
    ]


def event_lists(n_max: int = 25) -> st.SearchStrategy[list[Event]]:
    return st.lists(_SPEC, max_size=n_max).map(_build)


RULES = {
    "fan_a": 'count(events where topic = "a") within last 30 days >= 2',
    "buyer": "n_purchase >= 1 and intent > 0.1",
}


@settings(max_examples=60, deadline=None)
@given(event_lists(), st.randoms(use_true_random=False))
def test_order_of_arrival_does_not_matter(events, rnd):
    shuffled = list(events)
    rnd.shuffle(shuffled)
    a = apply(Profile(profile_id="p"), events, as_of=AS_OF, rules=RULES)
    b = apply(Profile(profile_id="p"), shuffled, as_of=AS_OF, rules=RULES)
    assert a[0] == b[0]
    assert a[1] == b[1]


@settings(max_examples=60, deadline=None)
@given(event_lists(), st.randoms(use_true_random=False))
def test_replaying_events_is_idempotent(events, rnd):
    p, _ = apply(Profile(profile_id="p"), events, as_of=AS_OF, rules=RULES)
    replay = [e for e in events if rnd.random() < 0.7] + events[: rnd.randint(0, len(events))]
    q, changes = apply(p, replay, as_of=AS_OF, rules=RULES)
    assert q == p
    assert changes == []


@settings(max_examples=40, deadline=None)
@given(event_lists(), st.integers(0, 60))
def test_folding_in_two_batches_matches_one_batch(events, gap_days):
    cut = AS_OF - dt.timedelta(days=gap_days)
    early = [e for e in events if e.timestamp <= cut]
    late = [e for e in events if e.timestamp > cut]
    one, _ = apply(Profile(profile_id="p"), events, as_of=AS_OF)
    two, _ = apply(Profile(profile_id="p"), early, as_of=cut)
    two, _ = apply(two, late, as_of=AS_OF)
    a, b = one.activity, two.activity
    assert a.counts_by_type == b.counts_by_type
    assert a.value_by_type == b.value_by_type
    assert a.last_seen_by_channel == b.last_seen_by_channel
    assert a.recent_events == b.recent_events
    assert a.interest.keys() == b.interest.keys()
    for k, v in a.interest.items():
        assert b.interest[k] == pytest.approx(v, rel=1e-9, abs=1e-12)
    assert b.intent_mass == pytest.approx(a.intent_mass, rel=1e-9, abs=1e-12)
    assert one.first_touch == two.first_touch
    assert one.last_touch == two.last_touch


@settings(max_examples=40, deadline=None)
@given(event_lists())
def test_json_round_trip_loses_nothing(events):
    p, _ = apply(Profile(profile_id="p"), events, as_of=AS_OF, rules=RULES)
    assert Profile.model_validate_json(p.model_dump_json()) == p
    assert Profile.model_validate(p.model_dump()) == p
