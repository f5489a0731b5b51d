"""Customer summary of ~2.4 million transactions for 200,000 customers, rows in random order.

The log arrives shuffled (as a real export does, not grouped by customer) with integer
customer ids; the string-id run uses the same log with the ids as text. Baselines, run here on
the same data: the pandas code a user would write (floor to the day, merge same-day purchases,
groupby first/last/count, repeat-purchase mean), and lifetimes 0.11's
``summary_data_from_transaction_data`` when its environment exists (see ``_lifetimes.py``). The
script checks that clientmodel and the pandas baseline agree and prints the ratios with the
data's shape.
"""

from __future__ import annotations

import time

import _lifetimes
import numpy as np
import pandas as pd
import polars as pl

from clientmodel.datasets.transactions import make_transactions
from clientmodel.transactions import summarize

AS_OF = "2025-06-29"


def pandas_baseline(log: pd.DataFrame) -> pd.DataFrame:
    df = log.copy()
    df["day"] = df["timestamp"].dt.floor("D")
    daily = df.groupby(["customer_id", "day"], sort=True)["amount"].sum().reset_index()
    g = daily.groupby("customer_id")
    first, last, n = g["day"].min(), g["day"].max(), g["day"].count()
    as_of = pd.Timestamp(AS_OF, tz="UTC")
    out = pd.DataFrame(
        {
            "frequency": n - 1,
            "recency": (last - first).dt.days / 7.0,
            "T": (as_of - first).dt.days / 7.0,
        }
    )
    first_value = daily.groupby("customer_id")["amount"].first()
    total = g["amount"].sum()
    out["monetary_value"] = np.where(
        out["frequency"] > 0, (total - first_value) / out["frequency"].clip(lower=1), 0.0
    )
    return out.reset_index()


def timed(label: str, fn, repeat: int = 5):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    print(f"{label:<44} {best:8.3f} s (best of {repeat})")
    return best, result


def main() -> None:
    busy = {"r": 2.2, "alpha": 8.0, "a": 0.6, "b": 4.0}  # ~12 purchases per customer
    log = make_transactions(
        200_000, seed=1, acquisition_weeks=26, observation_weeks=78, params=busy, frame="pandas"
    )
    rng = np.random.default_rng(7)
    log = log.iloc[rng.permutation(len(log))].reset_index(drop=True)  # rows in random order
    codes, _ = pd.factorize(log["customer_id"])
    int_log = log.assign(customer_id=(100_000 + rng.permutation(codes.max() + 1)[codes]))
    text_log = int_log.assign(customer_id=int_log["customer_id"].astype(str))
    print(
        f"data: {len(log):,} rows, {log['customer_id'].nunique():,} customers, daily "
        "timestamps (UTC), rows shuffled (not grouped by customer); int64 ids unless stated"
    )
    polars_log = pl.from_pandas(int_log)
    base, expected = timed("pandas groupby baseline (int ids)", lambda: pandas_baseline(int_log))
    ours_pd, got = timed(
        "clientmodel.summarize (pandas in, int ids)",
        lambda: summarize(int_log, as_of=AS_OF, unit="W", amount="amount"),
    )
    ours_text, _ = timed(
        "clientmodel.summarize (pandas in, text ids)",
        lambda: summarize(text_log, as_of=AS_OF, unit="W", amount="amount"),
    )
    ours_pl, _ = timed(
        "clientmodel.summarize (polars in, int ids)",
        lambda: summarize(polars_log, as_of=AS_OF, unit="W", amount="amount"),
    )
    for column in ("frequency", "recency", "T", "monetary_value"):
        assert np.allclose(got[column].to_numpy(), expected[column].to_numpy()), column
    print(
        f"speed-up over the pandas groupby: pandas input {base / ours_pd:5.1f}x, "
        f"polars input {base / ours_pl:5.1f}x; text ids cost {ours_text / ours_pd:4.2f}x int ids"
    )
    if _lifetimes.available():
        ref = _lifetimes.run(LIFETIMES_JOB, _as_arrays(int_log), python=_lifetimes.LIFETIMES_PYTHON)
        print(f"{'lifetimes 0.11 summary_data_from_transaction_data':<44} {ref['seconds']:8.3f} s")
        print(
            f"speed-up over lifetimes: pandas input {ref['seconds'] / ours_pd:5.1f}x, "
            f"polars input {ref['seconds'] / ours_pl:5.1f}x"
        )
    else:
        print("lifetimes environment not found: see benchmarks/_lifetimes.py to compare with it")


LIFETIMES_JOB = """
import pandas as pd
from lifetimes.utils import summary_data_from_transaction_data
log = pd.DataFrame({
    "customer_id": data["customer_id"],
    "timestamp": pd.to_datetime(data["timestamp"], unit="us"),
    "amount": data["amount"],
})
start = time.perf_counter()
summary_data_from_transaction_data(
    log, "customer_id", "timestamp", monetary_value_col="amount",
    observation_period_end="2025-06-29", freq="W",
)
print(json.dumps({"seconds": time.perf_counter() - start}))
"""


def _as_arrays(log: pd.DataFrame) -> dict[str, np.ndarray]:
    stamps = log["timestamp"].dt.tz_convert("UTC").dt.tz_localize(None)
    return {
        "customer_id": log["customer_id"].to_numpy(),
        "timestamp": stamps.to_numpy().astype("datetime64[us]").astype(np.int64),
        "amount": log["amount"].to_numpy(),
    }


if __name__ == "__main__":
    main()
