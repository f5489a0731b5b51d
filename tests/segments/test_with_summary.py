"""The summary faces agree with the log faces on CDNOW (needs clientmodel.transactions)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from clientmodel.segments import (
    lifecycle_from_summary,
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


pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("clientmodel.transactions") is None,
    reason="clientmodel.transactions is not available yet",
)


def test_rfm_and_lifecycle_from_summarize():
    from clientmodel.transactions import summarize

    log = _log()
    summary = summarize(log, as_of="1997-12-31", unit="D", amount="amount", after_as_of="exclude")
    direct = rfm_values(log, as_of="1997-12-31", after_as_of="exclude")
    via = rfm_from_summary(summary, unit="D")
    np.testing.assert_array_equal(via["customer_id"], direct["customer_id"])
    np.testing.assert_allclose(via["days_since_last"], direct["days_since_last"], atol=1e-6)
    np.testing.assert_array_equal(via["orders"], direct["orders"])
    np.testing.assert_allclose(via["monetary"], direct["monetary"])
    stages = lifecycle_stages(log, as_of="1997-12-31", after_as_of="exclude")["stage"]
    from_summary = lifecycle_from_summary(summary, as_of="1997-12-31")["stage"]
    expected = np.where(stages == "reactivated", "repeat", stages)
    assert list(from_summary) == list(expected)
