"""End to end beyond memory: parquet log -> summary -> fit -> score -> parquet, on dask.

For ``--customers`` customers (50,000,000 by default) the script

1. draws a BG/NBD + gamma-gamma transaction log chunk by chunk (``--chunk`` customers at a time,
   so generation itself stays in bounded memory) and writes each chunk as a parquet file;
2. summarises it with :func:`clientmodel.transactions.summarize` on a dask DataFrame read from
   those files and writes the summary to parquet;
3. fits BG/NBD on :func:`~clientmodel.transactions.distinct_histories` of the summary,
   gamma-gamma on a sample of repeat buyers and RFM quantiles (counted on the engine);
4. scores every customer (P(alive), expected purchases, CLV, RFM segment, lifecycle stage) per
   partition with :func:`clientmodel.scoring.score` (``map_partitions``, models travelling as
   JSON) and writes the scores to parquet.

All in one process on dask's threaded scheduler, so the peak resident set (``VmHWM``, reset
between phases through ``/proc/self/clear_refs``) covers every worker thread. Before that, the
same pipeline runs in memory (pandas) on ``--memory-customers`` customers, and on dask on the
same data, to compare wall time and memory and to check that the dask fit gives the same
parameters. Figures are printed; the work directory is removed at the end unless ``--keep``.

    python benchmarks/bench_scale.py                        # 50 million customers
    python benchmarks/bench_scale.py --customers 5000000    # a quicker run
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
import warnings
from pathlib import Path
from typing import Any

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from clientmodel.ltv import BGNBD, GammaGamma
from clientmodel.scoring import ScoringPlan, score
from clientmodel.segments import LifecycleWindows, fit_rfm, rfm_from_summary
from clientmodel.transactions import distinct_histories, summarize

warnings.filterwarnings("ignore", category=FutureWarning)  # narwhals: dask moving to a plugin

AS_OF = "2025-06-30"  # 78 weeks after 2024-01-01, the end of the simulated window
PARAMS = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
SPEND = {"p": 6.0, "q": 4.0, "gamma": 15.0}
US_PER_WEEK = 7 * 86_400_000_000
START = np.datetime64("2024-01-01", "us")


# ------------------------------------------------------------------------------- data
def draw_chunk(first_id: int, n: int, seed: int) -> pa.Table:
    """``n`` customers from ``first_id`` on, as in clientmodel.datasets.make_transactions."""
    rng = np.random.default_rng([seed, first_id])
    lam = rng.gamma(PARAMS["r"], 1 / PARAMS["alpha"], n)
    p_drop = rng.beta(PARAMS["a"], PARAMS["b"], n)
    nu = rng.gamma(SPEND["q"], 1 / SPEND["gamma"], n)
    first = rng.uniform(0.0, 12.0, n)
    who, when = [np.arange(n)], [first]
    alive, clock = np.arange(n), first.copy()
    while alive.size:
        clock = clock + rng.exponential(1.0, alive.size) / lam[alive]
        inside = clock < 78.0
        alive, clock = alive[inside], clock[inside]
        who.append(alive)
        when.append(clock)
        survives = rng.random(alive.size) >= p_drop[alive]
        alive, clock = alive[survives], clock[survives]
    customer, weeks = np.concatenate(who), np.concatenate(when)
    order = np.lexsort((weeks, customer))
    customer, weeks = customer[order], weeks[order]
    amount = np.round(rng.gamma(SPEND["p"], 1 / nu[customer]), 2)
    stamps = START + (weeks * US_PER_WEEK).astype("timedelta64[us]")
    return pa.table(
        {
            "customer_id": pa.array(customer + first_id, pa.int64()),
            "timestamp": pa.array(stamps, pa.timestamp("us", tz="UTC")),
            "amount": pa.array(amount),
        }
    )


def write_log(folder: Path, n_customers: int, chunk: int, seed: int) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    rows = 0
    for i, first in enumerate(range(0, n_customers, chunk)):
        table = draw_chunk(first, min(chunk, n_customers - first), seed)
        rows += table.num_rows
        pq.write_table(table, folder / f"part-{i:05d}.parquet")
    return rows


# ------------------------------------------------------------------------------- memory
def reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak_mb() -> float:
    return _status("VmHWM")


def rss_mb() -> float:
    return _status("VmRSS")


def _status(key: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    return float("nan")


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


class Phase:
    """Times a phase and records the peak resident set reached during it."""

    def __init__(self, report: dict[str, Any], name: str) -> None:
        self.report, self.name = report, name

    def __enter__(self) -> Phase:
        reset_peak()
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        seconds = time.perf_counter() - self.start
        self.report[self.name] = (seconds, peak_mb())
        print(f"  {self.name:<34} {seconds:9.1f} s   peak RSS {peak_mb():8.0f} MB", flush=True)


# ------------------------------------------------------------------------------- pipelines
def plan_for(model: BGNBD, spend: GammaGamma, scorer: Any) -> ScoringPlan:
    return ScoringPlan(
        model=model,
        spend=spend,
        rfm=scorer,
        segments="default",
        lifecycle=LifecycleWindows(),
        as_of=AS_OF,
        unit="W",
        horizon=52.0,
        discount_rate=0.1,
        steps=4,  # quarterly discounting
    )


def in_memory(log_dir: Path, out: Path, report: dict[str, Any]) -> BGNBD:
    with Phase(report, "memory: read log"):
        log = pd.read_parquet(log_dir)
    with Phase(report, "memory: summary"):
        summary = summarize(log, as_of=AS_OF, unit="W", amount="amount")
    del log
    with Phase(report, "memory: fit BG/NBD, GG, RFM"):
        model = BGNBD.fit(summary)
        repeat = summary[summary["frequency"] > 0]
        spend = GammaGamma.fit(repeat.sample(n=min(len(repeat), 200_000), random_state=1))
        scorer = fit_rfm(rfm_from_summary(summary, unit="W"))
    with Phase(report, "memory: score + write parquet"):
        plan_for(model, spend, scorer).score_table(summary).to_parquet(out / "scores.parquet")
    return model


def on_dask(log_dir: Path, out: Path, report: dict[str, Any], tag: str) -> BGNBD:
    with Phase(report, f"{tag}: summary -> parquet"):
        log = dd.read_parquet(log_dir)
        summarize(log, as_of=AS_OF, unit="W", amount="amount").to_parquet(out / "summary")
    summary = dd.read_parquet(out / "summary")
    with Phase(report, f"{tag}: fit BG/NBD, GG, RFM"):
        histories = distinct_histories(summary)
        report[f"{tag}: distinct histories"] = len(histories)
        model = BGNBD.fit(histories, weights="weights")
        repeat = summary[summary["frequency"] > 0][["frequency", "monetary_value"]]
        n_repeat = len(repeat)
        sample = repeat.sample(frac=min(1.0, 200_000 / max(n_repeat, 1)), random_state=1)
        spend = GammaGamma.fit(sample.compute())
        scorer = fit_rfm(rfm_from_summary(summary, unit="W"))
    with Phase(report, f"{tag}: score -> parquet"):
        score(summary, plan_for(model, spend, scorer)).to_parquet(out / "scores")
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=50_000_000)
    parser.add_argument("--memory-customers", type=int, default=2_000_000)
    parser.add_argument("--chunk", type=int, default=500_000, help="customers per parquet file")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/clientmodel_bench_scale"))
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--keep", action="store_true", help="keep the parquet files")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    dask.config.set(scheduler="threads")
    print(f"dask {dask.__version__}, threaded scheduler, {os.cpu_count()} cores")
    free = shutil.disk_usage(args.workdir.parent).free / 2**30
    print(f"disk free in {args.workdir.parent}: {free:.0f} GB")
    report: dict[str, Any] = {}
    try:
        if not args.skip_memory:
            small = args.workdir / "small"
            print(f"\n== {args.memory_customers:,} customers: in memory (pandas) and on dask")
            with Phase(report, "small: generate parquet"):
                rows = write_log(small / "log", args.memory_customers, args.chunk, args.seed)
            print(f"  {rows:,} transactions, {size_mb(small / 'log'):.0f} MB of parquet")
            eager = in_memory(small / "log", small, report)
            lazy = on_dask(small / "log", small, report, "small dask")
            a, b = np.array(list(eager.params.values())), np.array(list(lazy.params.values()))
            print(f"  BG/NBD in memory {eager.params}")
            print(f"  BG/NBD on dask   {lazy.params}")
            print(f"  largest relative difference: {np.max(np.abs(a - b) / np.abs(a)):.2e}")
            shutil.rmtree(small)
        big = args.workdir / "big"
        print(f"\n== {args.customers:,} customers on dask")
        with Phase(report, "big: generate parquet"):
            rows = write_log(big / "log", args.customers, args.chunk, args.seed)
        raw = rows * (8 + 8 + 8) / 2**20
        print(
            f"  {rows:,} transactions: {size_mb(big / 'log'):.0f} MB of parquet, "
            f"{raw:.0f} MB as raw int64/timestamp/float64 columns; "
            f"{args.customers // args.chunk} partitions; RSS now {rss_mb():.0f} MB"
        )
        model = on_dask(big / "log", big, report, "big dask")
        print(f"  BG/NBD {model.params}")
        print(f"  distinct histories: {report['big dask: distinct histories']:,}")
        print(
            f"  summary {size_mb(big / 'summary'):.0f} MB, scores {size_mb(big / 'scores'):.0f} MB "
            "of parquet"
        )
        phases = [k for k in report if k.startswith("big dask") and isinstance(report[k], tuple)]
        total = sum(report[k][0] for k in phases)
        worst = max(report[k][1] for k in phases)
        print(
            f"\nend to end on dask (summary + fit + score, generation excluded): {total:.0f} s, "
            f"peak RSS {worst:.0f} MB for {args.customers:,} customers / {rows:,} transactions"
        )
    finally:
        if not args.keep:
            shutil.rmtree(args.workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
