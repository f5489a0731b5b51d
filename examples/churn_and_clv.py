"""Churn risk and 12-month customer lifetime value for the CDNOW customers.

Fits BG/NBD (how often and how long customers keep buying) and gamma-gamma (how much they spend
per purchase) on the CDNOW calibration summary (39 weeks, Fader, Hardie & Lee 2005), then prices
the next 52 weeks of each customer at a 10% annual discount rate and a 30% margin.

Run: python examples/churn_and_clv.py
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from clientmodel.ltv.bgnbd import BGNBD
from clientmodel.ltv.clv import clv_table
from clientmodel.ltv.gamma_gamma import GammaGamma

DATA = Path(__file__).parents[1] / "tests/data/cdnow_customers_summary_with_transactions.csv"
# The file's own column names: x repeat purchases, t_x recency and T in weeks, zbar mean spend.
COLUMNS = {"frequency": "x", "recency": "t_x", "monetary_value": "zbar"}


def main() -> None:
    summary = pd.read_csv(DATA)
    purchases = BGNBD.fit(summary, columns=COLUMNS)
    # Spend is observed only for customers who came back (zbar is 0 for the others).
    spend = GammaGamma.fit(summary[summary["x"] > 0], columns=COLUMNS)
    print(f"{len(summary)} customers, 39 weeks of history")
    print("BG/NBD     " + ", ".join(f"{k}={v:.3f}" for k, v in purchases.params.items()))
    print("gamma-gamma " + ", ".join(f"{k}={v:.3f}" for k, v in spend.params.items()))

    table = clv_table(
        purchases,
        spend,
        summary,
        horizon=52,  # weeks
        discount_rate=0.10,  # per year
        margin=0.30,
        unit="W",
        columns=COLUMNS,
        customer="ID",
    )
    table["churn_risk"] = 1.0 - table["p_alive"]
    at_risk = int((table["churn_risk"] > 0.5).sum())
    print(f"customers more likely gone than alive: {at_risk}")
    print(f"52-week margin of the whole base: ${table['clv'].sum():,.0f}")
    top = table.sort_values("clv", ascending=False).head(5)
    print("top customers by 52-week CLV:")
    print(top.round(3).to_string(index=False))


if __name__ == "__main__":
    main()
