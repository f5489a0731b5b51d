"""The synthetic consumer base: reproducible, consistent, and its truth recoverable."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from clientmodel.datasets.consumers import TOPICS, make_consumers
from clientmodel.errors import ArgumentError
from clientmodel.profile import Identifier, apply, fold_events


@pytest.fixture(scope="module")
def data():
    return make_consumers(300, seed=11)


def test_same_seed_same_data(data):
    again = make_consumers(300, seed=11)
    for key in data.events:
        assert np.array_equal(again.events[key], data.events[key], equal_nan=key == "value")
    assert again.profiles == data.profiles
    assert not np.array_equal(
        make_consumers(300, seed=12).events["type"][:50], data.events["type"][:50]
    )


def test_events_are_consistent(data):
    ev = data.events
    as_of = np.datetime64(data.as_of.replace(tzinfo=None), "us")
    assert (ev["timestamp"] <= as_of).all()
    assert set(ev["topic"][ev["topic"] != None]) <= set(TOPICS)  # noqa: E711
    scans = ev["type"] == "scan_code"
    assert (ev["channel_code"][scans] != None).all()  # noqa: E711
    # every consumer joins exactly once, as their first event
    first = pd.DataFrame(ev).sort_values(["timestamp", "event_id"]).groupby("profile_id").first()
    assert set(first["type"]) <= {"scan_code", "message"}
    # each join came through a code that was valid then
    codes = {c.code_id: c for c in data.codes}
    for row in pd.DataFrame(ev)[scans].itertuples():
        stamp = pd.Timestamp(row.timestamp).tz_localize("UTC").to_pydatetime()
        assert codes[row.channel_code].is_valid_at(stamp)


def test_tables_and_records_agree(data):
    table = data.events_table("polars")
    assert table.schema["timestamp"] == pl.Datetime("us", "UTC")
    out = fold_events(table, as_of=data.as_of)
    one = data.profiles[0]
    folded, _ = apply(one, data.event_records(one.profile_id), as_of=data.as_of)
    row = out.profiles.filter(pl.col("profile_id") == one.profile_id).to_dicts()[0]
    assert row["n_events"] == folded.activity.n_events
    assert row["intent"] == pytest.approx(folded.activity.intent)


def test_interest_scores_recover_the_favourite_topic(data):
    out = fold_events(data.events_table(), as_of=data.as_of, tz="UTC")
    top = dict(zip(out.profiles["profile_id"], out.profiles["top_topic"], strict=True))
    truth = dict(zip(data.truth["person_id"], data.truth["favourite_topic"], strict=True))
    active = data.truth["person_id"][data.truth["rate"] > 0.5]
    hits = np.mean([top[p] == truth[p] for p in active if top.get(p) is not None])
    assert hits > 0.7


def test_identifier_records_parse_and_carry_the_mess(data):
    ids = data.identifiers_table("pandas")
    assert {"record_id", "kind", "value", "scope", "timestamp", "person_id"} <= set(ids.columns)
    sample = ids.sample(200, random_state=1)
    for row in sample.itertuples():
        if row.value in ("null", "00000000-0000-0000-0000-000000000000"):
            continue
        Identifier(kind=row.kind, value=row.value, scope=None if pd.isna(row.scope) else row.scope)
    shared = ids[ids["value"].str.startswith("dev-shared")]
    assert shared.groupby("value")["person_id"].nunique().eq(2).all()


def test_arguments_are_checked():
    with pytest.raises(ArgumentError):
        make_consumers(0)
    with pytest.raises(ArgumentError):
        make_consumers(10, days=5)
