"""RFM segments, lifecycle stages and cohort retention for the CDNOW customers.

The CDNOW sample (2,357 customers who first bought in Q1 1997) is scored as of the end of
September 1997: quantile thresholds are fitted once, saved as JSON, and reused to score one
customer the way a CRM request would. Then lifecycle stages and monthly cohort retention.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np

from clientmodel.segments import (
    RFMScorer,
    cohort_table,
    fit_rfm,
    lifecycle_stages,
    rfm_values,
)

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "CDNOW_sample.txt"


def load_cdnow() -> dict[str, np.ndarray]:
    raw = np.loadtxt(DATA, dtype=str)
    dates = np.array([f"{d[:4]}-{d[4:6]}-{d[6:]}" for d in raw[:, 2]], dtype="datetime64[D]")
    return {
        "customer_id": raw[:, 1].astype(int),
        "timestamp": dates,
        "amount": raw[:, 4].astype(float),
    }


def main() -> None:
    log = load_cdnow()
    values = rfm_values(log, as_of="1997-09-30", after_as_of="exclude")
    scorer = fit_rfm(values, k=5)
    print("recency score ranges (days):", scorer.score_ranges()["recency"][:2], "...")
    scored = scorer.score(values, segments="default")
    counts = Counter(scored["segment"].tolist())
    print(f"{len(scored['segment'])} customers as of 1997-09-30:")
    for name, n in counts.most_common():
        print(f"  {name:<20} {n:5d}")

    # A CRM backend stores the thresholds as JSON and scores one customer per request.
    saved = json.dumps(scorer.to_dict())
    crm = RFMScorer.from_dict(json.loads(saved))
    one = crm.score_record(
        {"days_since_last": 12, "orders": 4, "monetary": 180.0}, segments="default"
    )
    print("one customer:", one.model_dump())

    stages = lifecycle_stages(log, as_of="1998-06-30")
    print("lifecycle on 1998-06-30:", dict(Counter(stages["stage"].tolist())))

    ct = cohort_table(log, as_of="1997-12-31", unit="M", amount="amount", after_as_of="exclude")
    for cohort, size, row in zip(ct.cohorts, ct.sizes, ct.retention, strict=True):
        shares = " ".join(f"{v:4.0%}" for v in row[1:7])
        print(f"cohort {str(cohort)[:7]} ({size} customers) months 1-6 retention: {shares}")


if __name__ == "__main__":
    main()
