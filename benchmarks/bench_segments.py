"""RFM scoring + segment naming on 1,000,000 customers: clientmodel vs plain pandas.

The baseline is the code a user typically writes: ``pandas.qcut`` on ranks for each score, an
``"RFM"`` string column and a ``map`` of the R-F string to the segment name. Both run on the
same data in the same process; the ratio is baseline time / clientmodel time (> 1 = faster).
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from clientmodel.segments import cohort_table, fit_rfm
from clientmodel.segments.segment_map import DEFAULT_SEGMENTS

N = 1_000_000


def make_data(n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "days_since_last": rng.integers(0, 730, n),
            "orders": rng.geometric(0.35, n),
            "monetary": np.round(rng.lognormal(4.0, 1.0, n), 2),
        }
    )


def clientmodel_path(df) -> object:
    scorer = fit_rfm(df, k=5)
    return scorer.score(df, segments="default")


def pandas_path(df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({"customer_id": df["customer_id"]})
    out["r"] = pd.qcut(
        df["days_since_last"].rank(method="first"), 5, labels=[5, 4, 3, 2, 1]
    ).astype(int)
    out["f"] = pd.qcut(df["orders"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5]).astype(int)
    out["m"] = pd.qcut(df["monetary"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5]).astype(int)
    rf = out["r"].astype(str) + out["f"].astype(str)
    out["rfm"] = rf + out["m"].astype(str)
    seg = {
        f"{r}{f}": name
        for name, (r0, r1), (f0, f1) in DEFAULT_SEGMENTS
        for r in range(r0, r1 + 1)
        for f in range(f0, f1 + 1)
    }
    out["segment"] = rf.map(seg)
    return out


def make_log(n: int, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = rng.integers(0, 900, n).astype("timedelta64[D]")
    return pd.DataFrame(
        {
            "customer_id": rng.integers(0, n // 5, n),
            "timestamp": pd.to_datetime(np.datetime64("2022-01-01") + days).tz_localize("UTC"),
            "amount": np.round(rng.gamma(2.0, 20.0, n), 2),
        }
    )


def pandas_cohorts(log: pd.DataFrame) -> pd.DataFrame:
    month = log["timestamp"].dt.tz_localize(None).dt.to_period("M")
    first = month.groupby(log["customer_id"]).transform("min")
    period = (month - first).apply(lambda d: d.n)
    frame = pd.DataFrame({"cohort": first, "period": period, "customer_id": log["customer_id"]})
    active = frame.groupby(["cohort", "period"])["customer_id"].nunique().unstack()
    return active.div(active[0], axis=0)


def best_of(fn, arg, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(arg)
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    # Optional first argument: number of customers (the 10,000,000 needs ~6 GB RAM).
    n = int(sys.argv[1]) if len(sys.argv) > 1 else N
    df = make_data(n)
    t_pd = best_of(pandas_path, df)
    t_cm = best_of(clientmodel_path, df)
    print(f"RFM scoring + segment naming, {n:,} customers (best of 3)")
    print(f"  pandas qcut + map baseline : {t_pd:8.3f} s")
    print(f"  clientmodel (pandas in/out): {t_cm:8.3f} s   ratio {t_pd / t_cm:5.2f}x")
    try:
        import polars as pl
    except ImportError:  # pragma: no cover - polars is optional
        return
    pdf = pl.from_pandas(df)
    t_pl = best_of(clientmodel_path, pdf)
    print(f"  clientmodel (polars in/out): {t_pl:8.3f} s   ratio {t_pd / t_pl:5.2f}x")

    log = make_log(n)
    t_base = best_of(pandas_cohorts, log, repeat=1)
    t_ct = best_of(lambda x: cohort_table(x, as_of="2024-06-30", unit="M"), log)
    # Same answer both ways (the baseline leaves unobserved cells NaN too).
    ours = cohort_table(log, as_of="2024-06-30", unit="M").retention
    theirs = pandas_cohorts(log).to_numpy(dtype=float)
    np.testing.assert_allclose(ours, theirs[:, : ours.shape[1]], equal_nan=True)
    print(f"Monthly cohort retention table, {n:,} transactions")
    print(f"  pandas groupby/nunique baseline: {t_base:8.3f} s")
    print(f"  clientmodel cohort_table       : {t_ct:8.3f} s   ratio {t_base / t_ct:5.2f}x")


if __name__ == "__main__":
    main()
