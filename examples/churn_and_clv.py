"""Churn risk and 12-month customer lifetime value, from a raw purchase log.

Starts from a transaction CSV as a shop would export it (CDNOW: one row per purchase, 2,357
customers, 1997-1998; shipped with the package), summarises the first 39 weeks per customer,
fits BG/NBD (how often and how long customers keep buying) and gamma-gamma (how much they spend
per purchase), then prices the next 52 weeks of each customer at a 10% annual discount rate and
a 30% margin, and checks the forecast against what the customers really bought afterwards.

Run: python examples/churn_and_clv.py
"""

from __future__ import annotations

import pandas as pd

from clientmodel.datasets import data_path
from clientmodel.ltv.bgnbd import BGNBD
from clientmodel.ltv.clv import clv_table
from clientmodel.ltv.gamma_gamma import GammaGamma
from clientmodel.transactions import calibration_holdout

CALIBRATION_END = "1997-09-30"  # 39 weeks after the first purchases, as in the papers
HOLDOUT_END = "1998-06-30"  # the end of the log: 39 more weeks


def main() -> None:
    log = pd.read_csv(data_path("cdnow_transactions.csv"), dtype={"customer_id": str})
    print(f"{len(log)} purchases by {log['customer_id'].nunique()} customers")

    # One row per customer: repeat purchases, recency and age in weeks, mean repeat spend, and
    # what each customer bought in the holdout weeks (to check the forecast against).
    summary = calibration_holdout(
        log,
        calibration_end=CALIBRATION_END,
        holdout_end=HOLDOUT_END,
        unit="W",
        time="date",
        amount="amount",
    )
    purchases = BGNBD.fit(summary)
    # Spend is observed only for customers who came back (monetary_value is 0 for the others).
    spend = GammaGamma.fit(summary[summary["frequency"] > 0])
    print("BG/NBD      " + ", ".join(f"{k}={v:.3f}" for k, v in purchases.params.items()))
    print("gamma-gamma " + ", ".join(f"{k}={v:.3f}" for k, v in spend.params.items()))

    table = clv_table(
        purchases,
        spend,
        summary,
        horizon=52,  # weeks
        discount_rate=0.10,  # per year
        margin=0.30,
        unit="W",
        customer="customer_id",
    )
    table["churn_risk"] = 1.0 - table["p_alive"]
    # BG/NBD says a customer who never came back is certainly alive (p_alive = 1): their churn
    # risk is not informative, so count only the customers with a repeat purchase.
    repeat = summary["frequency"].to_numpy() > 0
    at_risk = int((table["churn_risk"][repeat] > 0.5).sum())
    print(f"repeat customers more likely gone than alive: {at_risk} of {int(repeat.sum())}")
    print(f"52-week margin of the whole base: ${table['clv'].sum():,.0f}")

    forecast = purchases.expected_purchases(summary, 39).sum()
    print(
        f"purchases in the 39 holdout weeks: forecast {forecast:,.0f}, "
        f"actual {int(summary['frequency_holdout'].sum()):,}"
    )
    top = table.sort_values("clv", ascending=False).head(5)
    print("top customers by 52-week CLV:")
    print(top.round(3).to_string(index=False))


if __name__ == "__main__":
    main()
