"""RFM values on the CDNOW sample agree with the published calibration summary.

`cdnow_customers_summary_with_transactions.csv` is the summary of the 2,357-customer CDNOW
sample over 1997-01-01..1997-09-30 used by Fader, Hardie & Lee (2005), in weeks with same-day
purchases merged (B. Hardie's data page). Its x (repeat purchases) must equal our orders - 1 and
T - t_x (weeks from the last purchase to the end of calibration) our recency in days / 7.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from clientmodel.segments import (
    LifecycleWindows,
    fit_rfm,
    lifecycle_stages,
    rfm_from_summary,
    rfm_values,
)

DATA = Path(__file__).resolve().parents[1] / "data"


def _log():
    raw = np.loadtxt(DATA / "CDNOW_sample.txt", dtype=str)
    dates = np.array([f"{d[:4]}-{d[4:6]}-{d[6:]}" for d in raw[:, 2]], dtype="datetime64[D]")
    return {
        "customer_id": raw[:, 1].astype(int),
        "timestamp": dates,
        "amount": raw[:, 4].astype(float),
    }


def test_values_match_published_summary():
    published = np.genfromtxt(
        DATA / "cdnow_customers_summary_with_transactions.csv", delimiter=",", names=True
    )
    ours = rfm_values(_log(), as_of="1997-09-30", after_as_of="exclude")
    assert ours["customer_id"].tolist() == published["ID"].astype(int).tolist()
    np.testing.assert_array_equal(ours["orders"] - 1, published["x"])
    # The CSV rounds T and t_x to 2 decimals of a week: their difference is off by up to
    # 0.01 weeks = 0.07 days.
    np.testing.assert_allclose(
        ours["days_since_last"], (published["T"] - published["t_x"]) * 7, atol=0.075
    )
    summary = {
        "customer_id": published["ID"].astype(int),
        "frequency": published["x"].astype(int),
        "recency": published["t_x"],
        "T": published["T"],
        "monetary_value": published["zbar"],
    }
    from_summary = rfm_from_summary(summary, unit="W")
    np.testing.assert_allclose(from_summary["days_since_last"], ours["days_since_last"], atol=0.075)
    s = fit_rfm(ours)
    # 1,411 of 2,357 customers (59.86 %) made no repeat purchase by 1997-09-30 in the
    # published summary: the 20 % and 40 % quantiles of orders are 1 but the 60 % one is not
    # (F(1) = 0.5986 < 0.6), so the edges start 1, 1, 2 and every one-order customer scores 1.
    assert int((published["x"] == 0).sum()) == 1411
    assert s.frequency[:3] == (1.0, 1.0, 2.0)
    scored = s.score(ours)
    assert set(scored["f"][ours["orders"] == 1].tolist()) == {1}


def test_lifecycle_with_bgnbd_p_alive():
    bgnbd = pytest.importorskip("clientmodel.ltv.bgnbd")
    # BG/NBD estimates for the CDNOW sample, Fader, Hardie & Lee (2005), "Counting Your
    # Customers the Easy Way", section 5: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426.
    model = bgnbd.BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    published = np.genfromtxt(
        DATA / "cdnow_customers_summary_with_transactions.csv", delimiter=",", names=True
    )
    p = np.asarray(
        model.p_alive(
            {"frequency": published["x"], "recency": published["t_x"], "T": published["T"]}
        )
    )
    w = LifecycleWindows()
    out = lifecycle_stages(
        _log(), as_of="1997-09-30", model=model, unit="W", windows=w, after_as_of="exclude"
    )
    stage = np.asarray(out["stage"], dtype=object)
    # Away from the thresholds (the CSV rounds weeks to 2 decimals) the stage follows the
    # published P(alive): >= 0.5 alive (repeat with 2+ orders), 0.25..0.5 at risk, ...
    far = np.min(np.abs(p[:, None] - np.array([0.5, 0.25, 0.1])[None, :]), axis=1) > 0.01
    expected = np.select(
        [p >= 0.5, p >= 0.25, p >= 0.1], ["alive", "at_risk", "dormant"], default="churned"
    )
    expected = np.where(expected == "alive", "repeat", expected)
    # BG/NBD gives P(alive) = 1 to every customer without a repeat purchase (x = 0): those keep
    # the fixed windows. Their one purchase was in Q1 1997, more than 180 days (at-risk window)
    # and less than 365 days (dormant window) before 1997-09-30: all dormant, none active.
    assert np.all(p[published["x"] == 0] == 1.0)
    expected = np.where(published["x"] == 0, "dormant", expected)
    # Nobody is new on 1997-09-30 (all first purchases were in Q1 1997); reactivated customers
    # (bought in the last 90 days after a 180-day silence) override the model.
    keep = far & (stage != "reactivated")
    assert keep.sum() > 2000
    np.testing.assert_array_equal(stage[keep], expected[keep])
