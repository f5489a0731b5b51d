"""Time in stage, stage durations and reached-stage conversion; record and table faces agree."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.datasets.deals import standard_pipeline
from clientmodel.errors import ArgumentError, DataError
from clientmodel.funnel import (
    Deal,
    StageChange,
    cohort_conversion,
    conversion,
    fit_chain,
    stage_durations,
    stage_events,
    stage_history,
    time_in_stage,
    transition_counts,
)

ORDER = ["lead", "qualified", "proposal", "won", "lost"]
UTC = dt.timezone.utc

# Hand-built history (dates, as_of 2024-03-01 end of day):
#   a: lead 01-01 -> qualified 01-11 -> proposal 01-21 -> won 02-10
#   b: lead 01-05 -> proposal 01-15 (skips qualified) -> lost 01-25
#   c: lead 02-01 (still open)
#   d: lead 02-10 -> qualified 02-20 (still open)
EVENTS = {
    "deal_id": ["a", "a", "a", "a", "b", "b", "b", "c", "d", "d"],
    "stage": ["lead", "qualified", "proposal", "won", "lead", "proposal", "lost", "lead", "lead",
              "qualified"],
    "entered_at": ["2024-01-01", "2024-01-11", "2024-01-21", "2024-02-10", "2024-01-05",
                   "2024-01-15", "2024-01-25", "2024-02-01", "2024-02-10", "2024-02-20"],
}  # fmt: skip
AS_OF = "2024-03-01"


def test_time_in_stage_by_hand():
    out = time_in_stage(EVENTS, as_of=AS_OF, pipeline=ORDER)
    cols = zip(out["deal_id"], out["stage"], out["duration"], strict=True)
    got = {(d, s): round(float(x), 3) for d, s, x in cols}
    # closed stays: a lead 10, qualified 10, proposal 20; b lead 10, proposal 10; d lead 10.
    # open stays run to the end of 2024-03-01: c lead from 02-01 = 29 + 1 days = 30 days (minus
    # 1 microsecond); d qualified from 02-20: 9 days to 02-29 (leap year), 1 to 03-01, +1 = 11.
    assert got == {
        ("a", "lead"): 10.0, ("a", "qualified"): 10.0, ("a", "proposal"): 20.0,
        ("b", "lead"): 10.0, ("b", "proposal"): 10.0, ("c", "lead"): 30.0,
        ("d", "lead"): 10.0, ("d", "qualified"): 11.0,
    }  # fmt: skip
    assert out["open"].sum() == 2
    assert np.isnat(out["left_at"][out["open"]]).all()
    # cutting at an earlier as_of ignores later events: a is still in qualified on 01-15
    early = time_in_stage(EVENTS, as_of="2024-01-15", pipeline=ORDER)
    a = early["deal_id"] == "a"
    assert early["stage"][a].tolist() == ["lead", "qualified"]
    assert early["open"][a].tolist() == [False, True]
    weeks = time_in_stage(EVENTS, as_of=AS_OF, pipeline=ORDER, unit="W")
    assert np.allclose(weeks["duration"] * 7, out["duration"])


def test_stage_durations_by_hand():
    out = stage_durations(EVENTS, as_of=AS_OF, pipeline=ORDER)
    assert out["stage"].tolist() == ["lead", "qualified", "proposal"]
    assert out["stays"].tolist() == [4, 2, 2]
    assert out["open"].tolist() == [1, 1, 0]
    # lead: completed 10, 10, 10 -> mean 10; exposure 10+10+10+30 = 60 over 3 exits -> 20
    assert out["mean"][0] == pytest.approx(10.0)
    assert out["mean_sojourn"][0] == pytest.approx(20.0, abs=1e-6)
    # qualified: completed 10; exposure 10 + 11 (open) over 1 exit -> 21
    assert out["mean_sojourn"][1] == pytest.approx(21.0, abs=1e-6)
    assert out["median"][2] == pytest.approx(15.0)


def test_snapshot_conversion_counts_skipped_stages():
    out = conversion(EVENTS, pipeline=ORDER, as_of=AS_OF)
    assert out["stage"].tolist() == ["lead", "qualified", "proposal", "won"]
    # reached lead: a b c d = 4; qualified: a, b (skipped it), d = 3; proposal: a, b = 2; won: a
    assert out["reached"].tolist() == [4, 3, 2, 1]
    assert out["rate_from_previous"].tolist() == pytest.approx([1.0, 0.75, 2 / 3, 0.5])
    assert out["rate_from_first"].tolist() == pytest.approx([1.0, 0.75, 0.5, 0.25])
    assert out["won"].tolist() == [1, 1, 1, 1]
    assert out["lost"].tolist() == [1, 1, 1, 0]
    assert out["open"].tolist() == [2, 1, 0, 0]
    assert out["win_rate"].tolist() == pytest.approx([0.5, 0.5, 0.5, 1.0])


def test_cohort_conversion_notes_censoring():
    out = cohort_conversion(EVENTS, pipeline=ORDER, as_of=AS_OF, period="M")
    cohorts = out["cohort"].astype("datetime64[D]").astype(str)
    jan = cohorts == "2024-01-01"
    feb = cohorts == "2024-02-01"
    assert out["reached"][jan].tolist() == [2, 2, 2, 1]  # a and b
    assert out["reached"][feb].tolist() == [2, 1, 0, 0]  # c and d
    assert set(out["censored_share"][jan]) == {0.0}
    assert set(out["censored_share"][feb]) == {1.0}


def test_bad_input_is_reported():
    with pytest.raises(DataError, match="not in the pipeline"):
        conversion({**EVENTS, "stage": [*EVENTS["stage"][:-1], "typo"]}, pipeline=ORDER,
                   as_of=AS_OF)  # fmt: skip
    with pytest.raises(DataError, match="missing required column"):
        time_in_stage({"deal": [1], "stage": ["lead"], "entered_at": ["2024-01-01"]}, as_of=AS_OF)
    with pytest.raises(ArgumentError, match="funnel order"):
        conversion(EVENTS, pipeline=None, as_of=AS_OF)  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="as_of"):
        time_in_stage(EVENTS, as_of=None)
    naive = pd.DataFrame({**EVENTS, "entered_at": pd.to_datetime(EVENTS["entered_at"])})
    naive["entered_at"] = naive["entered_at"] + pd.Timedelta(hours=1)
    with pytest.raises(DataError, match="naive"):
        time_in_stage(naive, as_of=AS_OF)
    assert len(time_in_stage(naive, as_of=AS_OF, tz="UTC")) == 8


@pytest.mark.parametrize("kind", ["pandas", "polars", "pyarrow"])
def test_frames_in_frames_out(kind):
    df = pd.DataFrame(EVENTS)
    df["entered_at"] = pd.to_datetime(df["entered_at"]).dt.tz_localize("UTC")
    frame = {"pandas": df, "polars": pl.from_pandas(df), "pyarrow": pa.Table.from_pandas(df)}[kind]
    out = conversion(frame, pipeline=ORDER, as_of=AS_OF)
    assert type(out) is type(frame)
    reached = out["reached"].to_pylist() if kind == "pyarrow" else list(out["reached"])
    assert reached == [4, 3, 2, 1]
    stays = time_in_stage(frame, as_of=AS_OF, pipeline=ORDER)
    assert type(stays) is type(frame)
    assert len(stays) == 8


# ---------------------------------------------------------------- records == tables

_PATH_STAGES = ("lead", "qualified", "proposal", "negotiation")
_deal_paths = st.lists(
    st.tuples(
        st.lists(
            st.tuples(st.sampled_from(_PATH_STAGES), st.integers(0, 40 * 24)), min_size=0,
            max_size=5,
        ),
        st.sampled_from((None, "won", "lost")),
        st.integers(0, 60 * 24),
        st.integers(1, 40 * 24),
    ),
    min_size=1,
    max_size=8,
)  # fmt: skip


def _build_deals(paths) -> list[Deal]:
    t0 = dt.datetime(2024, 1, 1, tzinfo=UTC)
    deals = []
    for i, (steps, outcome, start_h, close_h) in enumerate(paths):
        seq = [("lead", start_h)]
        for stage, gap in steps:
            if stage != seq[-1][0]:
                seq.append((stage, seq[-1][1] + gap))
        if outcome:
            seq.append((outcome, seq[-1][1] + close_h))
        history = tuple(
            StageChange(
                at=t0 + dt.timedelta(hours=h),
                from_stage=seq[j - 1][0] if j else None,
                to_stage=s,
            )
            for j, (s, h) in enumerate(seq)
        )
        deals.append(
            Deal(
                id=f"D{i}",
                pipeline_id="sales",
                account_id="A",
                owner="o",
                amount=1,
                stage=seq[-1][0],
                history=history,
                closed=outcome,
            )
        )
    return deals


@settings(max_examples=60, deadline=None)
@given(paths=_deal_paths, as_of_days=st.integers(1, 150))
def test_records_and_tables_agree(paths, as_of_days):
    deals = _build_deals(paths)
    p = standard_pipeline()
    as_of = dt.datetime(2024, 1, 1, tzinfo=UTC) + dt.timedelta(days=as_of_days)
    table = pd.DataFrame(stage_events(deals))
    table["entered_at"] = table["entered_at"].dt.tz_localize("UTC")
    if (table["entered_at"] > pd.Timestamp(as_of)).groupby(table["deal_id"]).all().all():
        return  # every deal starts after as_of: nothing to compare
    recs = time_in_stage(deals, as_of=as_of, pipeline=p)
    tab = time_in_stage(table, as_of=as_of, pipeline=p)
    assert [(r.deal_id, r.stage, r.open) for r in recs] == list(
        zip(tab["deal_id"], tab["stage"], tab["open"], strict=False)
    )
    assert np.allclose([r.duration for r in recs], tab["duration"].to_numpy())
    assert all(r.duration >= 0 for r in recs)
    c_rec = conversion(deals, pipeline=p, as_of=as_of)
    c_tab = conversion(table, pipeline=p, as_of=as_of)
    assert c_rec["reached"].tolist() == c_tab["reached"].tolist()
    assert all(np.diff(c_rec["reached"]) <= 0)  # reached counts fall down the funnel
    t_rec = transition_counts(deals, as_of=as_of, pipeline=p)
    t_tab = transition_counts(table, as_of=as_of, pipeline=p)
    assert t_rec["count"].tolist() == t_tab["count"].tolist()
    try:
        chain = fit_chain(deals, as_of=as_of, pipeline=p, smoothing=0.5)
    except DataError:
        return
    win = chain.win_probabilities
    assert ((win >= -1e-12) & (win <= 1 + 1e-12)).all()
    assert np.allclose(chain.absorption.sum(axis=1), 1.0)


def test_prepared_history_gives_the_same_answers_and_recuts():
    h = stage_history(EVENTS, as_of=AS_OF, pipeline=ORDER)
    direct = time_in_stage(EVENTS, as_of=AS_OF, pipeline=ORDER)
    reused = time_in_stage(h, as_of=AS_OF)
    assert np.array_equal(direct["duration"], reused["duration"])
    assert conversion(h, pipeline=ORDER, as_of=AS_OF)["reached"].tolist() == [4, 3, 2, 1]
    early = time_in_stage(EVENTS, as_of="2024-01-15", pipeline=ORDER)
    assert np.array_equal(time_in_stage(h, as_of="2024-01-15")["duration"], early["duration"])
    with pytest.raises(ArgumentError, match="later"):
        time_in_stage(h, as_of="2024-06-01")
    with pytest.raises(ArgumentError, match="prepared with stages"):
        conversion(h, pipeline=["lead", "won", "lost"], as_of=AS_OF)
