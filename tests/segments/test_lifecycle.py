"""Lifecycle stages: one hand-built customer per stage, cadence and P(alive) variants."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import polars as pl
import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from clientmodel.errors import ArgumentError
from clientmodel.segments import STAGES, LifecycleWindows, lifecycle_stage, lifecycle_stages

AS_OF = "2024-06-30"
# Default windows as of 2024-06-30 (hand-computed): new after 2024-05-31, active after
# 2024-04-01, at risk after 2024-01-02, dormant after 2023-07-01.
HISTORIES = {
    "new1": ["2024-06-15"],
    "new2": ["2024-06-01", "2024-06-20"],
    "act": ["2024-05-01"],
    "rep": ["2024-02-01", "2024-05-15"],  # gap 104 days < 180: never dormant
    "react": ["2023-08-01", "2024-05-15"],  # 2023-08-01 <= 2024-05-15 - 180 days = 2023-11-17
    "edge90": ["2024-04-01"],  # exactly 90 days ago: outside the active window
    "risk": ["2024-03-01"],
    "dorm": ["2023-10-01"],
    "dorm2": ["2023-07-02"],
    "churn": ["2023-06-30"],
    "future": ["2024-07-05"],  # first purchase after as_of: not a customer yet
}
EXPECTED = {
    "new1": "new",
    "new2": "new",
    "act": "active",
    "rep": "repeat",
    "react": "reactivated",
    "edge90": "at_risk",
    "risk": "at_risk",
    "dorm": "dormant",
    "dorm2": "dormant",
    "churn": "churned",
    "future": "prospect",
    "nobody": "prospect",
}


def _log(histories):
    ids, times = [], []
    for c, days in histories.items():
        ids += [c] * len(days)
        times += days
    return {"customer_id": ids, "timestamp": times}


def test_each_stage_by_hand():
    out = lifecycle_stages(
        _log(HISTORIES), as_of=AS_OF, customers=[*HISTORIES, "nobody"], after_as_of="exclude"
    )
    got = dict(zip(out["customer_id"].tolist(), out["stage"].tolist(), strict=True))
    assert got == EXPECTED
    assert sorted(out["customer_id"].tolist()) == sorted([*HISTORIES, "nobody"])  # once each
    for c, stage in EXPECTED.items():
        assert lifecycle_stage(HISTORIES.get(c, []), as_of=AS_OF, after_as_of="exclude") == stage


def test_calendar_month_windows():
    w = LifecycleWindows(new="1M", active="3M", at_risk="6M", dormant="1Y")
    # 2024-06-30 minus 3 calendar months is 2024-03-30 (dateutil keeps the day of month):
    # a purchase that day is outside the active window, the next day inside.
    assert lifecycle_stage(["2024-03-30"], as_of=AS_OF, windows=w) == "at_risk"
    assert lifecycle_stage(["2024-03-31"], as_of=AS_OF, windows=w) == "active"
    # The default 90-day window ends elsewhere: 2024-04-01 is 90 days back.
    assert lifecycle_stage(["2024-03-31"], as_of=AS_OF) == "at_risk"
    assert w.active == relativedelta(months=3)


def test_cadence_overdue():
    hist = {
        # Every 10 days; last 2024-05-21 -> 40 days ago = 4 usual gaps: dormant (3 < 4 <= 6)
        # under cadence, repeat under the fixed 90-day window.
        "fast": ["2024-05-01", "2024-05-11", "2024-05-21"],
        # Every 100 days; last 2023-12-18 -> 195 days ago = 1.95 gaps: at risk (1.5 < 1.95 <= 3)
        # under cadence, dormant under the fixed windows.
        "slow": ["2023-06-01", "2023-09-09", "2023-12-18"],
        "single": ["2024-05-01"],  # too few orders for a cadence: fixed windows
    }
    fixed = lifecycle_stages(_log(hist), as_of=AS_OF)
    cad = lifecycle_stages(_log(hist), as_of=AS_OF, windows=LifecycleWindows(cadence=True))
    assert fixed["stage"].tolist() == ["repeat", "active", "dormant"]
    assert cad["stage"].tolist() == ["dormant", "active", "at_risk"]
    np.testing.assert_allclose(cad["overdue"][[0, 2]], [4.0, 1.95])
    assert np.isnan(cad["overdue"][1])


class FakeModel:
    """Duck-typed LTV model: P(alive) from a table, recording the summary it was given."""

    def __init__(self, p):
        self.p = p
        self.seen = None

    def p_alive(self, summary):
        self.seen = summary
        return np.array([self.p[c] for c in summary["customer_id"]])


def test_p_alive_model():
    hist = {"rep": HISTORIES["rep"], "risk": HISTORIES["risk"], "n": ["2024-06-20"]}
    model = FakeModel({"rep": 0.1, "risk": 0.9, "n": 0.0})
    out = lifecycle_stages(_log(hist), as_of=AS_OF, model=model, unit="W")
    # n is new whatever the model says; rep drops to dormant (0.1 <= p < 0.25); risk has one
    # order, so the fixed windows decide (last purchase 2024-03-01, 121 days ago: at risk).
    assert out["stage"].tolist() == ["new", "dormant", "at_risk"]
    # rep: first 2024-02-01, last 2024-05-15 -> 104 days = 104/7 weeks of recency, 1 repeat.
    i = list(model.seen["customer_id"]).index("rep")
    assert model.seen["frequency"][i] == 1
    assert model.seen["recency"][i] == pytest.approx(104 / 7)
    assert lifecycle_stage(hist["rep"], as_of=AS_OF, p_alive=0.1) == "dormant"
    with pytest.raises(ArgumentError, match="p_alive"):
        lifecycle_stages(_log(hist), as_of=AS_OF, model=object())


def test_windows_validation_and_round_trip():
    with pytest.raises(ArgumentError, match="new <= active < at_risk < dormant"):
        LifecycleWindows(active="1Y")
    with pytest.raises(ArgumentError, match="not a window"):
        LifecycleWindows(new="soon")
    w = LifecycleWindows(new="2W", active="2M", at_risk="1Q", dormant="1Y", cadence=True)
    assert LifecycleWindows.from_dict(json.loads(json.dumps(w.to_dict()))) == w


def test_frames_keep_their_kind():
    log = _log(HISTORIES)
    a = lifecycle_stages(pd.DataFrame(log), as_of=AS_OF, after_as_of="exclude")
    b = lifecycle_stages(pl.DataFrame(log), as_of=AS_OF, after_as_of="exclude")
    assert isinstance(a, pd.DataFrame)
    assert isinstance(b, pl.DataFrame)
    assert a["stage"].tolist() == b["stage"].to_list()


day_lists = st.lists(st.integers(0, 800), min_size=0, max_size=6)


@settings(max_examples=40, deadline=None)
@given(st.lists(day_lists, min_size=1, max_size=12), st.booleans())
def test_record_and_table_agree(histories, cadence):
    # The table face refuses a log with no purchase up to as_of (day 730): nothing to stage.
    assume(any(d <= 730 for days in histories for d in days))
    base = dt.date(2023, 1, 1)
    hist = {
        f"c{i}": [(base + dt.timedelta(days=d)).isoformat() for d in days]
        for i, days in enumerate(histories)
    }
    w = LifecycleWindows(cadence=cadence)
    as_of = "2024-12-31"
    out = lifecycle_stages(
        _log(hist), as_of=as_of, windows=w, customers=list(hist), after_as_of="exclude"
    )
    got = dict(zip(out["customer_id"].tolist(), out["stage"].tolist(), strict=True))
    assert set(got) == set(hist)  # every customer exactly once
    for c, days in hist.items():
        assert got[c] in STAGES
        assert lifecycle_stage(days, as_of=as_of, windows=w, after_as_of="exclude") == got[c]
