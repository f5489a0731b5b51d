"""One customer history through every door: summarize, RFM, lifecycle, cohorts and acquisition
read the same kernel, so a customer has the same orders, first and last purchase and revenue
whichever function is asked (issue 13). Expected values are counted by hand or, in the property
test, by a plain-Python reference written from the documented rules."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientmodel.errors import ArgumentError, DataError
from clientmodel.segments import (
    CohortTable,
    LifecycleWindows,
    acquisition_value,
    cohort_table,
    lifecycle_stage,
    lifecycle_stages,
    rfm_from_summary,
    rfm_values,
)
from clientmodel.transactions import calibration_holdout, customer_history, summarize

# A purchase of 100 on 1 January and its refund on 25 March.
REFUNDED = {
    "customer_id": ["a", "a"],
    "timestamp": ["2024-01-01", "2024-03-25"],
    "amount": [100.0, -100.0],
}
AS_OF = "2024-03-31"  # 90 days after 2024-01-01 (31 + 29 + 30)


def test_a_refund_is_not_an_order_through_every_door():
    s = summarize(REFUNDED, as_of=AS_OF, amount="amount")
    assert s["orders"].tolist() == [1]
    assert s["frequency"].tolist() == [0]
    assert s["recency"].tolist() == [0.0]
    assert s["T"].tolist() == [90.0]
    assert s["revenue"].tolist() == [0.0]
    # Before: rfm_values counted the refund as a second order, 6 days ago.
    v = rfm_values(REFUNDED, as_of=AS_OF)
    assert v["orders"].tolist() == [1]
    assert v["days_since_last"].tolist() == [90]
    assert v["monetary"].tolist() == [0.0]
    via = rfm_from_summary(s, unit="D")
    assert via["orders"].tolist() == [1]
    assert via["days_since_last"].tolist() == [90.0]
    # Before: the refund made the customer 'repeat'. One order exactly 90 days ago is outside
    # the 90-day active window: at risk.
    stages = lifecycle_stages(REFUNDED, as_of=AS_OF, amount="amount")
    assert stages["stage"].tolist() == ["at_risk"]
    assert stages["orders"].tolist() == [1]
    # Before: the refund month counted as retained. January cohort: active only in month 0;
    # the refund is netted into March's revenue.
    ct = cohort_table(REFUNDED, as_of=AS_OF, unit="M", amount="amount")
    assert ct.active.tolist() == [[1, 0, 0]]
    assert ct.revenue.tolist() == [[100.0, 0.0, -100.0]]
    av = acquisition_value(REFUNDED, {"customer_id": ["a"], "source": ["ads"]}, as_of=AS_OF)
    assert av["buyers"].tolist() == [1]
    assert av["revenue"].tolist() == [0.0]


def test_refund_only_customer_is_an_error_everywhere_unless_excluded():
    log = {
        "customer_id": ["a", "b"],
        "timestamp": ["2024-01-01", "2024-02-01"],
        "amount": [10.0, -5.0],
    }
    calls = [
        lambda: summarize(log, as_of=AS_OF, amount="amount"),
        lambda: rfm_values(log, as_of=AS_OF),
        lambda: lifecycle_stages(log, as_of=AS_OF, amount="amount"),
        lambda: cohort_table(log, as_of=AS_OF, amount="amount"),
        lambda: acquisition_value(log, {"customer_id": ["a"], "source": ["x"]}, as_of=AS_OF),
    ]
    for call in calls:
        with pytest.raises(DataError, match="refunds"):
            call()
    h = customer_history(log, as_of=AS_OF, amount="amount", refund_only="exclude")
    assert h.ids.tolist() == ["a"]
    assert h.refund_only_excluded == 1


@pytest.mark.parametrize(
    "call",
    [
        lambda log, **kw: summarize(log, **kw),
        lambda log, **kw: rfm_values(log, **kw),
        lambda log, **kw: lifecycle_stages(log, **kw),
        lambda log, **kw: cohort_table(log, **kw),
        lambda log, **kw: acquisition_value(log, {"customer_id": [], "source": []}, **kw),
    ],
)
def test_empty_and_early_as_of_are_errors_not_empty_tables(call):
    log = {"customer_id": ["a"], "timestamp": ["2024-01-05"], "amount": [3.0]}
    empty = {"customer_id": [], "timestamp": [], "amount": []}
    with pytest.raises(DataError, match="empty"):
        call(empty, as_of=AS_OF)
    with pytest.raises(DataError, match="after as_of"):
        call(log, as_of="2023-12-31")
    with pytest.raises(DataError, match="no transaction falls at or before"):
        call(log, as_of="2023-12-31", after_as_of="exclude")


def test_after_as_of_policy_is_one_and_checked():
    log = {"customer_id": ["a", "a"], "timestamp": ["2024-01-01", "2024-05-01"]}
    h = customer_history(log, as_of=AS_OF, after_as_of="exclude")
    assert h.excluded_after_as_of.tolist() == [1]
    lazy = pl.DataFrame(log).with_columns(pl.col("timestamp").str.to_date()).lazy()
    calls = [
        lambda: summarize(log, as_of=AS_OF, after_as_of="nah"),
        lambda: summarize(lazy, as_of=AS_OF, after_as_of="nah"),
        lambda: calibration_holdout(
            log, calibration_end="2024-02-01", holdout_end=AS_OF, after_as_of="nah"
        ),
        lambda: rfm_values(log, as_of=AS_OF, amount=None, after_as_of="nah"),
        lambda: lifecycle_stages(log, as_of=AS_OF, after_as_of="nah"),
        lambda: cohort_table(log, as_of=AS_OF, after_as_of="nah"),
        lambda: customer_history(log, as_of=AS_OF, refund_only="nah"),
    ]
    for call in calls:
        with pytest.raises(ArgumentError, match="'error', 'exclude'"):
            call()


def test_unknown_time_zone_refused_even_for_dates():
    log = {"customer_id": ["a"], "timestamp": ["2024-01-05"], "amount": [3.0]}
    with pytest.raises(ArgumentError, match="Mars/Olympus"):
        summarize(log, as_of=AS_OF, tz="Mars/Olympus")
    with pytest.raises(ArgumentError, match="Mars/Olympus"):
        rfm_values(log, as_of=AS_OF, tz="Mars/Olympus")
    from clientmodel.segments import lifecycle_from_summary

    summary = {"customer_id": ["a"], "orders": [1], "first_purchase": ["2024-01-05"]}
    summary["last_purchase"] = ["2024-01-05"]
    with pytest.raises(ArgumentError, match="Mars/Olympus"):
        lifecycle_from_summary(summary, as_of=AS_OF, tz="Mars/Olympus")


def test_overflowing_revenue_is_an_error_not_inf():
    log = {"customer_id": ["a", "a"], "timestamp": ["2024-01-01", "2024-01-02"]}
    log["amount"] = [1e308, 1e308]
    with pytest.raises(DataError, match="float64's range"):
        summarize(log, as_of=AS_OF, amount="amount")
    with pytest.raises(DataError, match="float64's range"):
        rfm_values(log, as_of=AS_OF)
    # Finite per customer, infinite once two customers are added up.
    two = {"customer_id": ["a", "b"], "timestamp": ["2024-01-01", "2024-01-02"]}
    two["amount"] = [1e308, 1e308]
    with pytest.raises(DataError, match="float64's range"):
        cohort_table(two, as_of=AS_OF, amount="amount")
    with pytest.raises(DataError, match="float64's range"):
        acquisition_value(two, {"customer_id": ["a", "b"], "source": ["x", "x"]}, as_of=AS_OF)


def test_mismatched_id_kinds_name_both_columns():
    log = {"customer_id": ["1", "2"], "timestamp": ["2024-01-01", "2024-02-01"]}
    with pytest.raises(DataError, match=r"transactions\['customer_id'\].*customers"):
        lifecycle_stages(log, as_of=AS_OF, customers=[1, 2, 3])
    sales = {**log, "amount": [1.0, 2.0]}
    with pytest.raises(DataError, match=r"sources\['customer_id'\]"):
        acquisition_value(sales, {"customer_id": [1, 2], "source": ["x", "y"]}, as_of=AS_OF)
    with pytest.raises(DataError, match="clv"):
        acquisition_value(
            sales,
            {"customer_id": ["1", "2"], "source": ["x", "y"]},
            as_of=AS_OF,
            clv={"customer_id": [1, 2], "clv": [5.0, 6.0]},
        )
    # Same kinds: prospects found, no double count.
    out = lifecycle_stages(log, as_of=AS_OF, customers=["1", "2", "3"])
    assert out["customer_id"].tolist() == ["1", "2", "3"]


def test_nan_or_text_cost_is_refused():
    sales = {"customer_id": [1], "timestamp": ["2024-01-01"], "amount": [1.0]}
    src = {"customer_id": [1], "source": ["ads"]}
    for cost in (float("nan"), "lots", -1.0):
        with pytest.raises(ArgumentError, match="costs"):
            acquisition_value(sales, src, as_of=AS_OF, costs={"ads": cost})


def test_segment_columns_say_their_unit():
    log = {"customer_id": ["a"], "timestamp": ["2024-01-05"], "amount": [3.0]}
    values = rfm_values(log, as_of=AS_OF)
    summary = summarize(log, as_of=AS_OF, amount="amount")
    # The BTYD names stay in the summary only: a join cannot mix the two meanings.
    assert {"frequency", "recency"} <= set(summary)
    assert not {"frequency", "recency"} & set(values)
    assert not {"frequency", "recency"} & set(lifecycle_stages(log, as_of=AS_OF))


def test_one_order_customers_silent_for_a_year_are_not_active_under_bgnbd():
    from clientmodel.ltv.bgnbd import BGNBD

    # CDNOW estimates of Fader, Hardie & Lee (2005), section 5.
    model = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    log = {
        "customer_id": ["year", "months", "regular", "regular"],
        "timestamp": ["2023-06-01", "2023-09-01", "2024-05-01", "2024-06-20"],
    }
    as_of = "2024-06-30"
    # P(alive) is 1 for x = 0 whatever the silence: BG/NBD cannot see that dropout.
    p = model.p_alive({"frequency": [0, 0], "recency": [0.0, 0.0], "T": [56.0, 43.0]})
    assert np.allclose(p, 1.0)
    out = lifecycle_stages(log, as_of=as_of, model=model, unit="W")
    got = dict(zip(out["customer_id"].tolist(), out["stage"].tolist(), strict=True))
    # 2023-06-01 is 395 days before as_of (> 365: churned); 2023-09-01 is 303 days (dormant).
    assert got["year"] == "churned"
    assert got["months"] == "dormant"
    assert lifecycle_stage(["2023-06-01"], as_of=as_of, p_alive=1.0) == "churned"


def test_record_face_refuses_bad_input():
    with pytest.raises(ArgumentError, match="purchases"):
        lifecycle_stage(5, as_of=AS_OF)  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="p_alive"):
        lifecycle_stage(["2024-01-01"], as_of=AS_OF, p_alive="high")  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="windows"):
        lifecycle_stage(["2024-01-01"], as_of=AS_OF, windows={"new": 3})  # type: ignore[arg-type]


def test_windows_and_audiences_refuse_wrong_types():
    from clientmodel.segments import audience_table

    for kw in ({"cadence": "yes"}, {"cadence_min_orders": "3"}, {"p_alive_at_risk": "half"}):
        with pytest.raises(ArgumentError, match=next(iter(kw))):
            LifecycleWindows(**kw)
    with pytest.raises(ArgumentError, match="audiences"):
        audience_table({"r": [1]}, 5)


def test_cadence_percentile_by_hand():
    # Gaps 10, 10 and 40 days; last purchase 2024-06-01 -> 29 days before as_of.
    log = {
        "customer_id": ["c"] * 4,
        "timestamp": ["2024-04-12", "2024-04-22", "2024-05-02", "2024-06-11"],
    }
    as_of = "2024-06-30"  # 19 days after the last purchase
    median = lifecycle_stages(log, as_of=as_of, windows=LifecycleWindows(cadence=True))
    # Median gap 10: overdue 1.9 (at risk, 1.5 < 1.9 <= 3).
    assert median["overdue"].tolist() == [1.9]
    p80 = LifecycleWindows(cadence=True, cadence_percentile=80)
    # 80th percentile of (10, 10, 40): position 0.8 * 2 = 1.6 -> 10 + 0.6 * 30 = 28.
    out = lifecycle_stages(log, as_of=as_of, windows=p80)
    assert out["overdue"].tolist() == pytest.approx([19 / 28])
    assert out["stage"].tolist() == ["repeat"]
    with pytest.raises(ArgumentError, match="cadence_percentile"):
        LifecycleWindows(cadence_percentile=120)


def test_from_dict_refuses_bad_shapes_naming_the_key_path():
    with pytest.raises(ArgumentError, match="LifecycleWindows must be a mapping"):
        LifecycleWindows.from_dict([1])  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="dormant"):
        LifecycleWindows.from_dict({"windows": {"new": {"days": 7}}})
    with pytest.raises(ArgumentError, match=r"windows\.new\.days"):
        LifecycleWindows.from_dict(
            {
                "windows": {
                    "new": {"days": "x"},
                    "active": {"days": 30},
                    "at_risk": {"days": 60},
                    "dormant": {"days": 90},
                }
            }
        )
    good = {
        "unit": "M",
        "cohorts": ["2024-01-01"],
        "sizes": [2],
        "active": [[2, 1]],
        "revenue": [[9.5, 1.0]],
        "observed": [[True, True]],
    }
    assert CohortTable.from_dict(good).active.tolist() == [[2, 1]]
    for key, value, where in [
        ("active", [[2], [1]], "CohortTable.active"),
        ("revenue", [[9.5]], "CohortTable.revenue"),
        ("active", [[3, 1]], "CohortTable"),
        ("sizes", ["two"], "CohortTable.sizes"),
        ("cohorts", ["January"], "CohortTable.cohorts"),
    ]:
        with pytest.raises(ArgumentError, match=where):
            CohortTable.from_dict({**good, key: value})


def test_from_dict_of_scorer_map_and_audience_name_the_key_path():
    from clientmodel.segments import Audience, RFMScorer, SegmentMap

    scorer = RFMScorer.fixed(k=2, recency=[30], frequency=[1], monetary=[9]).to_dict()
    for change, where in [
        ({"k": "two"}, r"RFMScorer\.k"),
        ({"edges": [1, 2]}, r"RFMScorer\.edges"),
        ({"edges": {**scorer["edges"], "monetary": ["x"]}}, r"RFMScorer\.edges\.monetary\[0\]"),
        ({"methods": {**scorer["methods"], "recency": "guess"}}, r"RFMScorer\.methods\.recency"),
        ({"n_fitted": -1}, r"RFMScorer\.n_fitted"),
    ]:
        with pytest.raises(ArgumentError, match=where):
            RFMScorer.from_dict({**scorer, **change})
    smap = {"k": 2, "segments": [{"name": "all", "r": [1, 2], "f": [1, 2]}]}
    assert SegmentMap.from_dict(smap).names == ("all",)
    for change, where in [
        ({"segments": {"name": "all"}}, r"SegmentMap\.segments"),
        ({"segments": [{"name": "all", "r": "1-2", "f": [1, 2]}]}, r"segments\[0\]\.r"),
        ({"segments": [{"r": [1, 2], "f": [1, 2]}]}, r"segments\[0\]"),
        ({"k": 2.5}, r"SegmentMap\.k"),
    ]:
        with pytest.raises(ArgumentError, match=where):
            SegmentMap.from_dict({**smap, **change})
    with pytest.raises(ArgumentError, match=r"Audience\.rule"):
        Audience.from_dict({"name": "x", "rule": 5})
    with pytest.raises(ArgumentError, match="missing key"):
        Audience.from_dict({"name": "x"})


def test_cohort_rows_in_the_callers_kind():
    frame = pd.DataFrame({"customer_id": [1, 2], "timestamp": ["2024-01-05", "2024-02-01"]})
    rows = cohort_table(frame, as_of="2024-02-29").rows()
    assert isinstance(rows, pd.DataFrame)
    assert rows["period"].tolist() == [0, 1, 0]
    ct = cohort_table(pl.from_pandas(frame), as_of="2024-02-29")
    assert isinstance(ct.rows(), pl.DataFrame)
    assert isinstance(CohortTable.from_dict(ct.to_dict()).rows(), pl.DataFrame)


# ------------------------------------------------------------------------------ property test

# Europe/Paris changes to summer time on 31 March 2024, inside the generated window. (Zones
# with an underscore, e.g. America/New_York, are not recognised by narwhals 2.29 on pandas
# frames and are read through a slower path: reported, not tested here.)
ZONES = ["UTC", "Asia/Shanghai", "Europe/Paris"]
START = dt.datetime(2024, 1, 1)
END = dt.date(2024, 3, 31)

rows_strategy = st.lists(
    st.tuples(
        st.integers(0, 4),  # customer
        st.integers(0, 95 * 24),  # hours after START (some fall on the same local day)
        st.sampled_from([25.0, 10.0, 0.0, -5.0, -10.0]),  # negative: refund
    ),
    min_size=1,
    max_size=30,
)


def _reference(rows, zone):
    """Orders, first/last purchase day and revenue per customer by plain Python loops."""
    tz = ZoneInfo(zone)
    kept: dict[str, list[tuple[dt.date, float]]] = {}
    for c, hours, amount in rows:
        local = (START.replace(tzinfo=dt.UTC) + dt.timedelta(hours=hours)).astimezone(tz)
        if local.date() <= END:
            kept.setdefault(f"c{c}", []).append((local.date(), amount))
    out = {}
    for c, items in kept.items():
        days = sorted({d for d, a in items if a >= 0})
        if days:  # refund-only customers are taken out of the log by the test
            out[c] = (len(days), days[0], days[-1], sum(a for _, a in items))
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows_strategy, st.sampled_from(ZONES))
def test_every_door_agrees_with_the_reference(rows, zone):
    ref = _reference(rows, zone)
    keep = [r for r in rows if f"c{r[0]}" in ref]
    if not ref:
        return
    stamps = pd.DatetimeIndex(
        [START + dt.timedelta(hours=h) for _, h, _ in keep], tz="UTC"
    ).tz_convert(zone)
    log = pd.DataFrame(
        {
            "customer_id": [f"c{c}" for c, _, _ in keep],
            "timestamp": stamps,
            "amount": [a for _, _, a in keep],
        }
    )
    kw = {"as_of": END.isoformat(), "after_as_of": "exclude"}
    ids = sorted(ref)
    orders = [ref[c][0] for c in ids]
    first = [ref[c][1] for c in ids]
    last = [ref[c][2] for c in ids]
    revenue = [ref[c][3] for c in ids]
    since = [(END - d).days for d in last]

    s = summarize(log, amount="amount", **kw)
    assert s["customer_id"].tolist() == ids
    assert s["orders"].tolist() == orders
    assert [t.date() for t in s["first_purchase"]] == first
    assert [t.date() for t in s["last_purchase"]] == last
    np.testing.assert_allclose(s["revenue"], revenue)

    v = rfm_values(log, **kw)
    assert v["orders"].tolist() == orders
    assert v["days_since_last"].tolist() == since
    np.testing.assert_allclose(v["monetary"], revenue)
    via = rfm_from_summary(summarize(log, amount="amount", **kw), unit="D")
    assert via["orders"].tolist() == orders
    np.testing.assert_allclose(via["days_since_last"], since)

    stages = lifecycle_stages(log, amount="amount", **kw)
    assert stages["orders"].tolist() == orders
    assert stages["days_since_last"].tolist() == since

    ct = cohort_table(log, unit="D", amount="amount", **kw)
    # Daily periods: every order is one active (customer, day) cell.
    assert int(ct.active.sum()) == sum(orders)
    assert int(ct.sizes.sum()) == len(ids)
    cohort_days = [str(d) for d in ct.cohorts]
    assert cohort_days == sorted({d.isoformat() for d in first})
    np.testing.assert_allclose(ct.revenue.sum(), sum(revenue))

    src = {"customer_id": ids, "source": ["x"] * len(ids)}
    av = acquisition_value(log, src, **kw)
    assert av["buyers"].tolist() == [len(ids)]
    np.testing.assert_allclose(av["revenue"], [sum(revenue)])

    # The polars face of the same log agrees.
    pv = rfm_values(pl.from_pandas(log), **kw)
    assert pv["orders"].to_list() == orders
    assert pv["days_since_last"].to_list() == since
