"""Group-chat churn: ``group_activity_table`` against the pandas a user would write by hand.

Data: ``n_groups`` customer groups with 400 members each over a year; every (group, member)
pair joins, and may leave, rejoin and leave again (1 to 4 events), about 1,000 events per
group; rows shuffled. Twelve monthly periods. Both run on the same pandas frame in the same
process and their numbers are checked to agree.

The baseline computes members at each period start (``groupby().sum()`` of +1/-1 up to it), joins
and leaves in the period, and leavers (a leave whose previous event, found with
``groupby().shift()``, was at or before the start) -- it does **not** check the events (join twice,
leave without join, same instant, member limit), which clientmodel does. The ratio is baseline
time / clientmodel time (> 1 = faster).

Usage: ``python benchmarks/bench_groups.py [n_groups]`` (default 1000: ~1,000,000 events)
"""

from __future__ import annotations

import datetime as dt
import itertools
import sys
import time

import numpy as np
import pandas as pd

from clientmodel.profile import GroupChat, group_activity_table

START = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
BOUNDS = [dt.datetime(2024, m, 1, tzinfo=dt.timezone.utc) for m in range(1, 13)] + [
    dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
]


def make_events(n_groups: int, per_group: int = 400, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_pairs = n_groups * per_group
    group = np.repeat(np.arange(n_groups), per_group)
    member = (
        rng.integers(0, 20 * per_group, size=(n_groups, 20 * per_group))
        .argsort(axis=1)[:, :per_group]
        .reshape(-1)
    )  # distinct members within a group
    n_ev = rng.integers(1, 5, n_pairs)
    pair = np.repeat(np.arange(n_pairs), n_ev)
    seconds = rng.integers(0, 366 * 86_400, len(pair))
    order = np.lexsort((seconds, pair))
    pair, seconds = pair[order], seconds[order]
    first = np.ones(len(pair), dtype=bool)
    first[1:] = pair[1:] != pair[:-1]
    k = np.arange(len(pair)) - np.flatnonzero(first)[np.cumsum(first) - 1]
    # equal seconds within a pair would be one instant twice: nudge by microseconds of position
    stamps = (
        np.datetime64("2024-01-01T00:00:00", "us")
        + seconds.astype("timedelta64[s]")
        + k.astype("timedelta64[us]")
    )
    df = pd.DataFrame(
        {
            "group_id": pd.Series([f"g{g}" for g in group[pair]], dtype="str"),
            "member_id": pd.Series([f"m{m}" for m in member[pair]], dtype="str"),
            "kind": pd.Series(np.where(k % 2 == 0, "join", "leave"), dtype="str"),
            "at": pd.to_datetime(stamps).tz_localize("UTC"),
        }
    )
    return df.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def pandas_activity(df: pd.DataFrame, bounds: list[dt.datetime]) -> pd.DataFrame:
    df = df.sort_values(["group_id", "member_id", "at"])
    join = (df["kind"] == "join").to_numpy()
    delta = pd.Series(np.where(join, 1, -1), index=df.index)
    prev_at = df.groupby(["group_id", "member_id"], sort=False)["at"].shift(1)
    groups = np.sort(df["group_id"].unique())
    out = []
    for b0, b1 in itertools.pairwise(bounds):
        t0, t1 = pd.Timestamp(b0), pd.Timestamp(b1)
        before = (df["at"] <= t0).to_numpy()
        inside = ((df["at"] > t0) & (df["at"] <= t1)).to_numpy()
        m0 = delta[before].groupby(df["group_id"][before]).sum()
        joins = df["group_id"][inside & join].value_counts()
        leaves = df["group_id"][inside & ~join].value_counts()
        left = inside & ~join & (prev_at <= t0).to_numpy()
        leavers = df["group_id"][left].value_counts()
        part = pd.DataFrame(
            {
                "group_id": groups,
                "members_start": m0.reindex(groups, fill_value=0).to_numpy(),
                "joins": joins.reindex(groups, fill_value=0).to_numpy(),
                "leaves": leaves.reindex(groups, fill_value=0).to_numpy(),
                "leavers": leavers.reindex(groups, fill_value=0).to_numpy(),
            }
        )
        part["start"] = t0
        out.append(part)
    res = pd.concat(out).sort_values(["group_id", "start"], kind="stable")
    res["members_end"] = res["members_start"] + res["joins"] - res["leaves"]
    return res.reset_index(drop=True)


def main() -> None:
    n_groups = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    df = make_events(n_groups)
    chats = [
        GroupChat(group_id=f"g{g}", name=f"Group {g}", owner="s1", created_at=START)
        for g in range(n_groups)
    ]
    print(
        f"{len(df):,} events, {n_groups:,} groups, {df['member_id'].nunique():,} distinct "
        f"members, rows shuffled, {len(BOUNDS) - 1} monthly periods"
    )

    t = time.perf_counter()
    ours = group_activity_table(chats, df, BOUNDS)
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    base = pandas_activity(df, BOUNDS)
    t_base = time.perf_counter() - t

    ours = ours.sort_values(["group_id", "start"], kind="stable").reset_index(drop=True)
    for col in ("members_start", "joins", "leaves", "leavers", "members_end"):
        assert (ours[col].to_numpy() == base[col].to_numpy()).all(), col
    print(f"clientmodel group_activity_table: {t_ours:8.2f} s (checks the events too)")
    print(f"pandas by hand (no checks):       {t_base:8.2f} s")
    print(f"ratio (baseline / clientmodel):   {t_base / t_ours:8.2f}")


if __name__ == "__main__":
    main()
