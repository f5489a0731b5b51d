"""Invariants checked against brute-force reference implementations written independently
(plain Python loops over dates) on random logs."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd
import polars as pl
import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from clientmodel.errors import ArgumentError
from clientmodel.segments import (
    Segment,
    SegmentMap,
    cohort_table,
    lifecycle_from_summary,
    lifecycle_stages,
    migration,
    rfm_values,
)

BASE = dt.date(2023, 1, 1)
AS_OF = dt.date(2024, 6, 30)

logs = st.lists(
    st.tuples(st.integers(0, 5), st.integers(0, 600), st.integers(1, 500)),
    min_size=1,
    max_size=40,
)


def _frame(rows):
    return {
        "customer_id": [f"c{c}" for c, _, _ in rows],
        "timestamp": [(BASE + dt.timedelta(days=d)).isoformat() for _, d, _ in rows],
        "amount": [float(a) for _, _, a in rows],
    }


def _histories(rows, as_of=AS_OF):
    out: dict[str, list[dt.date]] = {}
    for c, d, _ in rows:
        day = BASE + dt.timedelta(days=d)
        if day <= as_of:
            out.setdefault(f"c{c}", []).append(day)
    return {k: sorted(set(v)) for k, v in out.items()}


def _reference_stage(days: list[dt.date], as_of: dt.date) -> str:
    # Default windows: new 30 days, active 90, at risk 180, dormant 365 (module docstring).
    def within(day, n):
        return day > as_of - relativedelta(days=n)

    first, last = days[0], days[-1]
    if within(first, 30):
        return "new"
    if within(last, 90):
        recent = [d for d in days if within(d, 90)]
        earlier = [d for d in days if not within(d, 90)]
        if earlier and earlier[-1] <= recent[0] - relativedelta(days=180):
            return "reactivated"
        return "repeat" if len(days) >= 2 else "active"
    if within(last, 180):
        return "at_risk"
    if within(last, 365):
        return "dormant"
    return "churned"


@settings(max_examples=60, deadline=None)
@given(logs)
def test_lifecycle_matches_reference(rows):
    hist = _histories(rows)
    assume(hist)
    out = lifecycle_stages(_frame(rows), as_of=AS_OF.isoformat(), after_as_of="exclude")
    got = dict(zip(out["customer_id"].tolist(), out["stage"].tolist(), strict=True))
    assert got == {c: _reference_stage(days, AS_OF) for c, days in hist.items()}


@settings(max_examples=60, deadline=None)
@given(logs, st.sampled_from(["D", "W", "M", "Q"]))
def test_cohorts_match_reference(rows, unit):
    def period(day: dt.date) -> int:
        if unit == "D":
            return day.toordinal()
        if unit == "W":
            return (day.toordinal() - 1) // 7  # ordinal 1 (0001-01-01) was a Monday
        months = day.year * 12 + day.month - 1
        return months if unit == "M" else months // 3

    as_of = dt.date(2024, 3, 31)
    hist = _histories(rows, as_of)
    assume(hist)
    frame = _frame(rows)
    ct = cohort_table(
        frame, as_of=as_of.isoformat(), unit=unit, amount="amount", after_as_of="exclude"
    )
    cohorts = sorted({period(days[0]) for days in hist.values()})
    assert ct.sizes.tolist() == [
        sum(period(days[0]) == c for days in hist.values()) for c in cohorts
    ]
    revenue: dict[tuple[int, int], float] = {}
    buyers: dict[tuple[int, int], set[str]] = {}
    for c, d, a in rows:
        day = BASE + dt.timedelta(days=d)
        if day > as_of:
            continue
        key = f"c{c}"
        ci = cohorts.index(period(hist[key][0]))
        p = period(day) - period(hist[key][0])
        revenue[ci, p] = revenue.get((ci, p), 0.0) + a
        buyers.setdefault((ci, p), set()).add(key)
    for (ci, p), v in revenue.items():
        assert ct.revenue[ci, p] == v
        assert ct.active[ci, p] == len(buyers[ci, p])
    assert ct.active.sum() == sum(len(v) for v in buyers.values())
    if len(cohorts):
        assert np.all(ct.retention[:, 0] == 1.0)
    last = period(as_of)
    for ci, c in enumerate(cohorts):
        assert ct.observed[ci].sum() == last - c + 1


@settings(max_examples=30, deadline=None)
@given(logs)
def test_rfm_values_pandas_polars_agree(rows):
    hist = _histories(rows)
    assume(hist)
    frame = _frame(rows)
    a = rfm_values(pd.DataFrame(frame), as_of=AS_OF.isoformat(), after_as_of="exclude")
    b = rfm_values(pl.DataFrame(frame), as_of=AS_OF.isoformat(), after_as_of="exclude")
    c = rfm_values(frame, as_of=AS_OF.isoformat(), after_as_of="exclude")
    assert a["customer_id"].tolist() == b["customer_id"].to_list() == c["customer_id"].tolist()
    since = a["days_since_last"].tolist()
    assert since == b["days_since_last"].to_list() == c["days_since_last"].tolist()
    for cid, rec, freq in zip(c["customer_id"], c["days_since_last"], c["orders"], strict=True):
        assert rec == (AS_OF - hist[cid][-1]).days
        assert freq == len(hist[cid])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sampled_from("abc"), min_size=1, max_size=20),
    st.lists(st.sampled_from("abcd"), min_size=1, max_size=20),
)
def test_migration_cells_partition_customers(before, after):
    m = migration(
        {"customer_id": list(range(len(before))), "label": before},
        {"customer_id": list(range(len(after))), "label": after},
    )
    everyone = sorted(i for ids in m.members.values() for i in ids)
    assert everyone == list(range(max(len(before), len(after))))
    for (a, b), ids in m.members.items():
        assert m.counts[m.labels_from.index(a), m.labels_to.index(b)] == len(ids)
    assert m.counts.sum() == max(len(before), len(after))


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 6), st.data())
def test_random_partitions_accepted_and_holes_reported(k, data):
    # Split the R axis into random bands, each band into random F bands: a true partition.
    cuts = sorted(data.draw(st.sets(st.integers(2, k), max_size=k - 1)))
    bounds = [1, *cuts, k + 1]
    segs = []
    for lo, hi in itertools.pairwise(bounds):
        fcuts = sorted(data.draw(st.sets(st.integers(2, k), max_size=k - 1)))
        fb = [1, *fcuts, k + 1]
        for flo, fhi in itertools.pairwise(fb):
            segs.append(Segment(f"s{len(segs)}", r=(lo, hi - 1), f=(flo, fhi - 1)))
    sm = SegmentMap(k, segs)
    assert {n for row in sm.grid() for n in row} == {s.name for s in segs}
    if len(segs) > 1:
        gone = data.draw(st.sampled_from(segs))
        n_cells = (gone.r[1] - gone.r[0] + 1) * (gone.f[1] - gone.f[0] + 1)
        with pytest.raises(ArgumentError, match=rf"{n_cells} uncovered combination\(s\)"):
            SegmentMap(k, [s for s in segs if s is not gone])


@settings(max_examples=40, deadline=None)
@given(logs)
def test_lifecycle_from_summary_matches_reference(rows):
    hist = _histories(rows)
    if not hist:
        return
    ids = sorted(hist)
    summary = pl.DataFrame(
        {
            "customer_id": ids,
            "orders": [len(hist[c]) for c in ids],
            "first_purchase": [hist[c][0] for c in ids],
            "last_purchase": [hist[c][-1] for c in ids],
        }
    )
    out = lifecycle_from_summary(summary, as_of=AS_OF.isoformat())
    assert isinstance(out, pl.DataFrame)
    # Without the purchase history reactivated customers show as repeat.
    expected = [
        {"reactivated": "repeat"}.get(s, s) for s in (_reference_stage(hist[c], AS_OF) for c in ids)
    ]
    assert out["stage"].to_list() == expected


def test_timezone_aware_frames():
    # 23:30 in Shanghai on 2024-06-29 is still the 29th there (15:30 UTC): one day before as_of.
    ts = pd.to_datetime(["2024-06-29 23:30", "2024-03-01 08:00"]).tz_localize("Asia/Shanghai")
    frame = pd.DataFrame({"customer_id": ["a", "b"], "timestamp": ts, "amount": [1.0, 2.0]})
    out = rfm_values(frame, as_of="2024-06-30")
    assert out["days_since_last"].tolist() == [1, 121]
    stages = lifecycle_stages(frame, as_of="2024-06-30")
    assert stages["stage"].tolist() == ["new", "at_risk"]
