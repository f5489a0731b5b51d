"""Acquisition value per source, checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clientmodel.errors import ArgumentError, DataError
from clientmodel.segments.acquisition import UNKNOWN_SOURCE, acquisition_value

LOG = {
    "customer_id": [1, 1, 1, 2, 3, 4, 5],
    "timestamp": [
        "2024-01-10",
        "2024-02-10",
        "2024-03-10",
        "2024-01-20",
        "2024-02-05",
        "2024-02-07",
        "2024-04-15",  # after as_of: excluded
    ],
    "amount": [50.0, 30.0, 40.0, 20.0, 15.0, 9.0, 500.0],
}
SOURCES = pd.DataFrame(
    {"customer_id": [1, 2, 3, 6], "source": ["ads", "ads", "referral", "referral"]}
)


def test_by_hand():
    out = acquisition_value(
        LOG,
        SOURCES,
        as_of="2024-03-31",
        after_as_of="exclude",
        costs={"ads": 100.0, "referral": 40.0},
        clv={"customer_id": [1, 2, 3], "clv": [300.0, 50.0, 25.0]},
        margin=0.5,
    )
    assert isinstance(out, pd.DataFrame)
    out = out.set_index("source")
    # Customer 4 bought but has no source; customer 6 has a source but never bought.
    assert out.index.tolist() == ["ads", "referral", UNKNOWN_SOURCE]
    assert out["customers"].tolist() == [2, 2, 1]
    assert out["buyers"].tolist() == [2, 1, 1]
    # ads: 50 + 30 + 40 + 20 = 140; referral: 15; unknown: 9.
    assert out["revenue"].tolist() == [140.0, 15.0, 9.0]
    assert out["clv"].tolist() == [350.0, 25.0, 0.0]
    # Customers 6 (referral) and 4 (unknown) have no CLV row: reported, not silently 0.
    assert out["clv_missing"].tolist() == [0, 1, 1]
    # ROI with margin 0.5: ads (70 - 100) / 100 = -0.3; referral (7.5 - 40) / 40 = -0.8125.
    np.testing.assert_allclose(out["roi"].iloc[:2], [-0.3, -0.8125])
    np.testing.assert_allclose(out["clv_roi"].iloc[:2], [2.5, -0.375])
    # Payback (monthly, margin 0.5): ads month 0 = 0.5 * (50 + 20) = 35, month 1 +15 = 50,
    # month 2 +20 = 70 < 100: never; referral 7.5 < 40: never. With margin 1 and cost 100:
    # 70, 100 -> month 1.
    assert np.isnan(out.loc["ads", "payback_periods"])
    assert np.isnan(out.loc[UNKNOWN_SOURCE, "cost"])
    again = acquisition_value(
        LOG, SOURCES, as_of="2024-03-31", after_as_of="exclude", costs={"ads": 100.0}
    )
    assert again.set_index("source").loc["ads", "payback_periods"] == 1.0


def test_errors():
    with pytest.raises(ArgumentError, match="no customers"):
        acquisition_value(
            LOG, SOURCES, as_of="2024-03-31", after_as_of="exclude", costs={"tv": 5.0}
        )
    with pytest.raises(ArgumentError, match="margin"):
        acquisition_value(LOG, SOURCES, as_of="2024-03-31", after_as_of="exclude", margin=0.0)
    dup = {"customer_id": [1, 1], "source": ["a", "b"]}
    with pytest.raises(DataError, match="more than once"):
        acquisition_value(LOG, dup, as_of="2024-03-31", after_as_of="exclude")
