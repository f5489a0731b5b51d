"""Content radar: ``content_engagement_table`` against the pandas a user would write by hand.

Data: ``n`` engagement events (open / view with seconds / share / forward) by 100,000 profiles on
500 content items over a year, rows shuffled. The baseline maps action weights, caps the
minutes, multiplies by ``2 ** (-age / 30)`` and sums per (profile, content) with
``groupby().agg()``; it does not check the events (unknown items, times after ``as_of``, a
duration on a share), which clientmodel does. Both run on the same pandas frame in the same
process and their scores are checked to agree (1e-9 relative; the summation order differs). The
ratio is baseline time / clientmodel time (> 1 = faster).

Usage: ``python benchmarks/bench_content.py [n_events]`` (default 2,000,000)
"""

from __future__ import annotations

import datetime as dt
import sys
import time

import numpy as np
import pandas as pd

from clientmodel.profile import ContentItem, content_engagement_table

AS_OF = dt.datetime(2024, 12, 31, tzinfo=dt.timezone.utc)
ACTIONS = np.array(["open", "view", "share", "forward"])
WEIGHTS = {"open": 1.0, "view": 1.0, "share": 3.0, "forward": 3.0}


def make_events(n: int, n_profiles: int = 100_000, n_items: int = 500, seed: int = 9):
    rng = np.random.default_rng(seed)
    action = ACTIONS[rng.choice(4, size=n, p=[0.4, 0.45, 0.1, 0.05])]
    seconds = np.where(np.isin(action, ["open", "view"]), rng.exponential(90.0, n), np.nan)
    stamps = np.datetime64("2024-12-31T00:00:00", "us") - rng.integers(
        0, 365 * 86_400_000_000, n
    ).astype("timedelta64[us]")
    df = pd.DataFrame(
        {
            "profile_id": pd.Series([f"p{i}" for i in rng.integers(0, n_profiles, n)], dtype="str"),
            "content_id": pd.Series([f"c{i}" for i in rng.integers(0, n_items, n)], dtype="str"),
            "action": pd.Series(action, dtype="str"),
            "at": pd.to_datetime(stamps).tz_localize("UTC"),
            "duration_seconds": seconds,
        }
    )
    items = [
        ContentItem(content_id=f"c{i}", kind="article", title=f"Item {i}", tags=(f"t{i % 40}",))
        for i in range(n_items)
    ]
    return df, items


def pandas_scores(df: pd.DataFrame) -> pd.DataFrame:
    weight = df["action"].map(WEIGHTS).to_numpy()
    minutes = np.minimum(df["duration_seconds"].fillna(0.0).to_numpy() / 60.0, 10.0)
    age = (pd.Timestamp(AS_OF) - df["at"]).dt.total_seconds().to_numpy() / 86_400.0
    contrib = (weight + minutes) * 2.0 ** (-age / 30.0)
    out = (
        pd.DataFrame({"profile_id": df["profile_id"], "content_id": df["content_id"], "s": contrib})
        .groupby(["profile_id", "content_id"], sort=True)["s"]
        .agg(["sum", "size"])
        .reset_index()
    )
    out["tagged"] = out["sum"] >= 3.0
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    df, items = make_events(n)
    print(
        f"{len(df):,} events, {df['profile_id'].nunique():,} profiles, {len(items)} items, "
        "rows shuffled (random draws)"
    )
    t = time.perf_counter()
    ours = content_engagement_table(items, df, as_of=AS_OF)
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    base = pandas_scores(df)
    t_base = time.perf_counter() - t
    assert len(ours) == len(base)
    assert (ours["profile_id"].to_numpy() == base["profile_id"].to_numpy()).all()
    assert np.allclose(ours["score"].to_numpy(), base["sum"].to_numpy(), rtol=1e-9, atol=0)
    print(f"clientmodel content_engagement_table: {t_ours:8.2f} s (checks the events too)")
    print(f"pandas by hand (no checks):           {t_base:8.2f} s")
    print(f"ratio (baseline / clientmodel):       {t_base / t_ours:8.2f}")


if __name__ == "__main__":
    main()
