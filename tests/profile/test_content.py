"""Content engagement ("interaction radar", issue 18 item 6): score, auto-tags, both faces.

Golden scores are worked by hand from the formula in the module docs:
``(w_action + minutes capped at 10) * 2 ** (-age_days / 30)`` with weights open 1, view 1,
share 3, forward 3 and a tag threshold of 3.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from clientmodel.errors import ArgumentError, DataError
from clientmodel.profile import (
    ContentConfig,
    ContentEngagement,
    ContentItem,
    Engagement,
    Profile,
    add_tag,
    apply_content_tags,
    content_engagement,
    content_engagement_table,
)

UTC = dt.timezone.utc
AS_OF = dt.datetime(2024, 6, 30, 12, tzinfo=UTC)
DAY = dt.timedelta(days=1)
ITEMS = [
    ContentItem(content_id="guide", kind="pdf", title="Skincare guide", tags=("skincare",)),
    ContentItem(content_id="sale", kind="link", title="618 sale", tags=("deal_seeker", "618")),
    ContentItem(content_id="shop", kind="mini_program_page", title="Shop", tags=("shopper",)),
    ContentItem(content_id="story", kind="article", title="Our story"),
]


def eng(pid, cid, action, days_ago, seconds=None):
    return Engagement(
        profile_id=pid,
        content_id=cid,
        action=action,
        at=AS_OF - days_ago * DAY,
        duration_seconds=seconds,
    )


EVENTS = [
    eng("p1", "guide", "view", 0, 150),  # 1 + 2.5 = 3.5
    eng("p1", "sale", "share", 30, None),  # 3 * 1/2 = 1.5
    eng("p1", "shop", "open", 0, 1200),  # 1 + min(20, 10) = 11
    eng("p2", "sale", "forward", 60, None),  # 3 * 1/4 = 0.75
    eng("p2", "sale", "share", 0, None),  # 3
    eng("p2", "story", "view", 0, 600),  # 1 + 10 = 11, but the item has no tags
]


def test_scores_and_tags_by_hand():
    out = content_engagement(ITEMS, EVENTS, as_of=AS_OF)
    assert list(out) == ["p1", "p2"]
    p1, p2 = out["p1"], out["p2"]
    assert dict(p1.by_content) == {"guide": 3.5, "sale": 1.5, "shop": 11.0}
    assert p1.score == 16.0
    assert p1.tags == ("shopper", "skincare")  # sale (1.5) is below the threshold of 3
    assert dict(p2.by_content) == {"sale": 3.75, "story": 11.0}
    assert p2.score == 14.75
    assert p2.tags == ("618", "deal_seeker")


def test_threshold_is_inclusive_and_configurable():
    one_share = [eng("p", "sale", "share", 0)]
    assert content_engagement(ITEMS, one_share, as_of=AS_OF)["p"].tags == ("618", "deal_seeker")
    strict = ContentConfig(tag_threshold=3.5)
    assert content_engagement(ITEMS, one_share, as_of=AS_OF, config=strict)["p"].tags == ()
    heavy = ContentConfig(share_weight=10, half_life_days=15)
    old = [eng("p", "sale", "share", 30)]
    assert content_engagement(ITEMS, old, as_of=AS_OF, config=heavy)["p"].score == 2.5


def test_the_result_is_read_only_and_round_trips_through_json():
    out = content_engagement(ITEMS, EVENTS, as_of=AS_OF)["p1"]
    with pytest.raises(TypeError):
        out.by_content["guide"] = 0.0  # type: ignore[index]
    back = ContentEngagement.from_dict(json.loads(json.dumps(out.to_dict())))
    assert back == out


def test_auto_tags_go_on_the_profile_as_rule_tags():
    radar = content_engagement(ITEMS, EVENTS, as_of=AS_OF)["p1"]
    p, _ = add_tag(Profile(profile_id="p1"), "skincare", at=AS_OF - DAY, source="manual")
    tagged, changes = apply_content_tags(p, radar, at=AS_OF)
    assert tagged.tag_ids == {"skincare", "shopper"}
    by_id = {a.tag: a for a in tagged.tags}
    assert by_id["skincare"].source == "manual"  # a tag already there stays as it was
    assert (by_id["shopper"].source, by_id["shopper"].assigned_by) == ("rule", "content_radar")
    assert len(changes) == 1
    with pytest.raises(ArgumentError, match="belongs to profile 'p1'"):
        apply_content_tags(Profile(profile_id="p2"), radar, at=AS_OF)


def test_bad_engagements_are_refused_with_their_row():
    with pytest.raises(DataError, match="not among the items") as info:
        content_engagement(ITEMS, [*EVENTS, eng("p3", "nope", "open", 1)], as_of=AS_OF)
    assert info.value.rows == (6,)
    with pytest.raises(DataError, match="after as_of") as info:
        content_engagement(ITEMS, [eng("p3", "guide", "open", -1)], as_of=AS_OF)
    assert info.value.rows == (0,)
    with pytest.raises(ValidationError, match="a share has no duration"):
        eng("p", "sale", "share", 0, 30)
    with pytest.raises(DataError, match="twice"):
        content_engagement([*ITEMS, ITEMS[0]], EVENTS, as_of=AS_OF)


# ------------------------------------------------------------------------------ properties
ACTIONS = ("open", "view", "share", "forward")
events_strategy = st.lists(
    st.tuples(
        st.sampled_from(["p1", "p2", "p3"]),
        st.sampled_from(["guide", "sale", "shop", "story"]),
        st.sampled_from(ACTIONS),
        st.integers(0, 400 * 24 * 60),
        st.one_of(st.none(), st.floats(0, 7200, allow_nan=False)),
    ),
    max_size=30,
)


def _records(rows):
    return [
        Engagement(
            profile_id=p,
            content_id=c,
            action=a,
            at=AS_OF - dt.timedelta(minutes=m),
            duration_seconds=s if a in ("open", "view") else None,
        )
        for p, c, a, m, s in rows
    ]


def _frame(records, backend):
    cols = {
        "profile_id": [e.profile_id for e in records],
        "content_id": [e.content_id for e in records],
        "action": [e.action for e in records],
        "at": [e.at for e in records],
        "duration_seconds": [e.duration_seconds for e in records],
    }
    if backend == "dict":
        cols["at"] = [t.isoformat() for t in cols["at"]]
        cols["duration_seconds"] = [
            float("nan") if s is None else s for s in cols["duration_seconds"]
        ]
        return cols
    if backend == "pandas":
        pd = pytest.importorskip("pandas")
        return pd.DataFrame(cols).astype({"at": "datetime64[us, UTC]", "duration_seconds": float})
    if backend == "polars":
        pl = pytest.importorskip("polars")
        return pl.DataFrame(
            cols,
            schema_overrides={"at": pl.Datetime("us", "UTC"), "duration_seconds": pl.Float64},
        )
    pa = pytest.importorskip("pyarrow")
    return pa.table(
        {
            **cols,
            "at": pa.array(cols["at"], type=pa.timestamp("us", "UTC")),
            "duration_seconds": pa.array(cols["duration_seconds"], type=pa.float64()),
        }
    )


def _column(out, name):
    col = out[name]
    for method in ("to_list", "to_pylist", "tolist"):
        if hasattr(col, method):
            return list(getattr(col, method)())
    raise AssertionError(type(col))


@settings(max_examples=40, deadline=None)
@given(events_strategy, st.sampled_from(["dict", "pandas", "polars", "pyarrow"]))
def test_table_face_equals_record_face(rows, backend):
    records = _records(rows)
    by_profile = content_engagement(ITEMS, records, as_of=AS_OF)
    out = content_engagement_table(ITEMS, _frame(records, backend), as_of=AS_OF)
    expected = [
        (pid, cid, score) for pid, r in by_profile.items() for cid, score in r.by_content.items()
    ]
    pids, cids = _column(out, "profile_id"), _column(out, "content_id")
    scores, tagged = _column(out, "score"), _column(out, "tagged")
    assert list(zip(pids, cids, scores, strict=True)) == expected  # equal to the last bit
    tags = {i.content_id: i.tags for i in ITEMS}
    counts = _column(out, "events")
    for pid, r in by_profile.items():
        rows = [k for k, p in enumerate(pids) if p == pid]
        assert r.tags == tuple(sorted({t for k in rows if tagged[k] for t in tags[cids[k]]}))
        for k in rows:
            assert tagged[k] == (scores[k] >= 3.0)
            n = sum(1 for e in records if (e.profile_id, e.content_id) == (pid, cids[k]))
            assert counts[k] == n


@settings(max_examples=60, deadline=None)
@given(events_strategy, st.randoms(use_true_random=False))
def test_order_of_events_changes_nothing(rows, rnd):
    records = _records(rows)
    shuffled = list(records)
    rnd.shuffle(shuffled)
    assert content_engagement(ITEMS, records, as_of=AS_OF) == content_engagement(
        ITEMS, shuffled, as_of=AS_OF
    )


@settings(max_examples=40, deadline=None)
@given(events_strategy)
def test_scores_only_decay_as_time_passes(rows):
    records = _records(rows)
    now = content_engagement(ITEMS, records, as_of=AS_OF)
    later = content_engagement(ITEMS, records, as_of=AS_OF + 30 * DAY)
    for pid, r in now.items():
        assert later[pid].score == pytest.approx(r.score / 2, rel=1e-12)
