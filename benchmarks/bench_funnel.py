"""Funnel analytics at volume: clientmodel vs the pandas code a user would write.

1. Time in stage + reached-stage conversion + absorbing Markov chain over ~1,000,000 stage events
   (a pandas DataFrame with timezone-aware timestamps) against a pandas sort/groupby/shift
   implementation of the same numbers (results are checked to agree).
2. Monte Carlo bookings: 10,000 draws over 50,000 open deals against a fully vectorised numpy
   version written here (win and close-time matrices drawn in chunks of deals).

Run: ``python benchmarks/bench_funnel.py`` (full size) or ``python benchmarks/bench_funnel.py 0.1``
(a tenth of the rows and deals, while developing). Both inputs arrive shuffled.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import numpy as np
import pandas as pd

from clientmodel.datasets.deals import STAGES, make_stage_events, standard_pipeline
from clientmodel.funnel import (
    Deal,
    StageChange,
    conversion,
    fit_chain,
    simulate_bookings,
    stage_history,
    time_in_stage,
)

AS_OF = "2024-12-31"
OPEN = list(STAGES[:4])


def clientmodel_analytics(df: pd.DataFrame, pipeline, *, prepared: bool):
    # prepared: read, validate and sort the table once (stage_history), then analyse
    events = stage_history(df, as_of=AS_OF, pipeline=pipeline) if prepared else df
    stays = time_in_stage(events, as_of=AS_OF, pipeline=pipeline)
    conv = conversion(events, pipeline=pipeline, as_of=AS_OF)
    chain = fit_chain(events, as_of=AS_OF, pipeline=pipeline)
    return stays, conv, chain


def pandas_analytics(df: pd.DataFrame):
    cut = pd.Timestamp(AS_OF, tz="UTC") + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    df = df[df["entered_at"] <= cut].sort_values(["deal_id", "entered_at"], kind="stable")
    g = df.groupby("deal_id", sort=False)
    df = df.assign(next_at=g["entered_at"].shift(-1), next_stage=g["stage"].shift(-1))
    stays = df[df["stage"].isin(OPEN)].copy()
    stays["open"] = stays["next_at"].isna()
    stays["duration"] = (stays["next_at"].fillna(cut) - stays["entered_at"]).dt.total_seconds() / (
        86_400
    )
    # conversion: furthest rank per deal (won counts as past every open stage)
    rank = {s: i for i, s in enumerate(OPEN)} | {"won": len(OPEN), "lost": -1}
    best = df["stage"].map(rank).groupby(df["deal_id"]).max()
    reached = [(best >= r).sum() for r in range(len(OPEN) + 1)]
    # chain: transition counts -> probabilities -> N, B, steps, days
    moves = stays.dropna(subset=["next_stage"])
    counts = pd.crosstab(moves["stage"], moves["next_stage"]).reindex(
        index=OPEN, columns=list(STAGES), fill_value=0
    )
    p = counts.div(counts.sum(axis=1), axis=0).to_numpy()
    q, r = p[:, :4], p[:, 4:]
    n = np.linalg.inv(np.eye(4) - q)
    exposure = stays.groupby("stage")["duration"].sum().reindex(OPEN)
    exits = (~stays["open"]).groupby(stays["stage"]).sum().reindex(OPEN)
    sojourn = (exposure / exits).to_numpy()
    return stays, reached, (n @ r, n.sum(axis=1), n @ sojourn)


def bench_analytics(scale: float = 1.0) -> None:
    ev = make_stage_events(int(320_000 * scale), seed=1)
    df = pd.DataFrame(ev)
    df["entered_at"] = df["entered_at"].dt.tz_localize("UTC")
    df = df.sample(frac=1.0, random_state=0).reset_index(drop=True)  # arrive unsorted
    pipeline = standard_pipeline()
    print(f"analytics over {len(df):,} stage events ({df['deal_id'].nunique():,} deals)")
    t0 = time.perf_counter()
    clientmodel_analytics(df, pipeline, prepared=False)
    t_each = time.perf_counter() - t0
    t0 = time.perf_counter()
    stays, conv, chain = clientmodel_analytics(df, pipeline, prepared=True)
    t_cm = time.perf_counter() - t0
    t0 = time.perf_counter()
    p_stays, p_reached, (p_b, p_steps, p_days) = pandas_analytics(df)
    t_pd = time.perf_counter() - t0
    assert len(stays) == len(p_stays)
    assert np.isclose(stays["duration"].sum(), p_stays["duration"].sum())
    assert conv["reached"].tolist() == [int(x) for x in p_reached]
    assert np.allclose(chain.absorption, p_b)
    assert np.allclose(chain.expected_steps, p_steps)
    assert np.allclose(chain.expected_days, p_days)
    print(f"  clientmodel, each call reads the table:            {t_each:6.2f} s")
    print(f"  clientmodel, stage_history once then the 3 calls:  {t_cm:6.2f} s")
    print(f"  pandas sort/groupby/shift/crosstab + numpy linalg: {t_pd:6.2f} s")
    print(f"  ratio pandas / clientmodel: {t_pd / t_cm:.2f}x prepared, {t_pd / t_each:.2f}x "
          "per call (results agree)")  # fmt: skip


def bench_monte_carlo(scale: float = 1.0) -> None:
    pipeline = standard_pipeline()
    ev = make_stage_events(20_000, seed=2)
    hist = pd.DataFrame(ev)
    hist["entered_at"] = hist["entered_at"].dt.tz_localize("UTC")
    chain = fit_chain(hist, as_of=AS_OF, pipeline=pipeline)
    as_of = dt.datetime(2024, 12, 31, tzinfo=dt.timezone.utc)
    rng = np.random.default_rng(3)
    n_deals, n_draws = int(50_000 * scale), 10_000
    stages = rng.choice(OPEN, n_deals)
    amounts = np.round(rng.lognormal(9.5, 0.8, n_deals), -2) + 100
    t0 = time.perf_counter()
    deals = [
        Deal(id=f"D{i}", pipeline_id="sales", account_id="A", owner="o",
             amount=Decimal(int(a)), stage=s,
             history=(StageChange(at=as_of - dt.timedelta(days=3), to_stage=s),))
        for i, (s, a) in enumerate(zip(stages, amounts, strict=True))
    ]  # fmt: skip
    t_build = time.perf_counter() - t0
    print(f"Monte Carlo: {n_draws:,} draws x {n_deals:,} open deals, 3 monthly periods")
    t0 = time.perf_counter()
    fc = simulate_bookings(deals, pipeline, as_of=as_of, chain=chain, history=hist, periods=3,
                           n_draws=n_draws, seed=4)  # fmt: skip
    t_cm = time.perf_counter() - t0
    # Baseline: the fully vectorised numpy a user would write, reusing clientmodel's win
    # probabilities and a pool of simulated close times per stage (not timed: same inputs).
    prob = np.array([chain.win_probability(s) for s in stages])
    edges = np.array([0.0, 31.0, 59.0, 90.0])
    code = np.array([OPEN.index(s) for s in stages])
    pools = np.stack([np.random.default_rng(5).exponential(chain.expected_days[i], 4000)
                      for i in range(len(OPEN))])  # fmt: skip
    t0 = time.perf_counter()
    base = np.zeros((n_draws, 3))
    brng = np.random.default_rng(6)
    chunk = max(1, 4_000_000 // n_draws)  # the same memory bound as clientmodel's chunks
    for lo in range(0, n_deals, chunk):
        hi = min(lo + chunk, n_deals)
        won = brng.random((n_draws, hi - lo)) < prob[lo:hi]
        t = pools[code[lo:hi], brng.integers(0, 4000, (n_draws, hi - lo))]
        period = np.searchsorted(edges, t, side="right") - 1
        for k in range(3):
            base[:, k] += ((period == k) & won) @ amounts[lo:hi]
    t_np = time.perf_counter() - t0
    print(f"  building {n_deals:,} Deal records: {t_build:6.2f} s (not in the timings below)")
    print(
        f"  clientmodel simulate_bookings: {t_cm:6.2f} s  (P50 total {fc.total_quantiles[1]:,.0f})"
    )
    print(f"  vectorised numpy (chunks):     {t_np:6.2f} s  (P50 total "
          f"{np.median(base.sum(axis=1)):,.0f})")  # fmt: skip
    print(f"  ratio numpy / clientmodel: {t_np / t_cm:.2f}x")


def main() -> None:
    import sys

    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0  # e.g. 0.1 while developing
    bench_analytics(scale)
    bench_monte_carlo(scale)


if __name__ == "__main__":
    main()
