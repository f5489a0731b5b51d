"""Prediction intervals: 1,000 parameter draws over 1,000,000 customers, time and peak memory.

clientmodel's path (``prediction_intervals``: one prediction per *distinct* history, the draws x
histories block held a chunk of histories at a time, quantiles per chunk, per-draw totals
accumulated) against the code a user would write by hand, in the same run and on the same
draws: loop over the draws, predict for every customer, stack the (draws x customers) matrix and
take ``np.quantile`` per customer and of the per-draw sums. The hand-written code needs
8 bytes x draws x customers (8 GB for the full size), so it runs on a size it can hold
(``--baseline-customers``, default 100,000) and clientmodel runs on that size too for the ratio.

Two populations, histories drawn from a BG/NBD in random order:

* continuous: ``T`` uniform on (1, 104) weeks, every history distinct;
* daily: time in whole days (``T`` uniform on 1..730 days), so many customers share a history.

A third population has covariates: a Pareto/NBD fitted with three binary covariates on each
process (64 covariate groups), intervals per customer at its own parameters; the hand-written
code loops over the draws, builds the drawn ``CovariateModel`` and predicts for every customer
(``CovariateModel.p_alive``, which groups the customers by covariate row itself).

Peak memory is the resident set's high-water mark (``VmHWM``, reset before each phase).
Run: ``python benchmarks/bench_ltv_intervals.py [--customers N] [--draws B] [--part P]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from clientmodel.ltv import BGNBD, ParetoNBD
from clientmodel.ltv._fitting import distinct_rows
from clientmodel.ltv.covariates import CovariateModel
from clientmodel.ltv.intervals import draw_parameters, prediction_intervals


def reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _status(key: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    return float("nan")


def measure(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """Result, seconds and peak resident MB above the resident size before the call."""
    before = _status("VmRSS")
    reset_peak()
    start = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - start
    return out, seconds, _status("VmHWM") - before


def baseline(model: BGNBD, summary: dict[str, np.ndarray], draws: int, seed: int) -> Any:
    """What a user writes by hand: predict with every draw for every customer, then quantiles."""
    thetas = draw_parameters(model, draws, seed=seed)
    stacked = np.empty((draws, len(summary["T"])))
    for b, theta in enumerate(thetas):
        stacked[b] = BGNBD(r=theta[0], alpha=theta[1], a=theta[2], b=theta[3]).p_alive(summary)
    lower, upper = np.quantile(stacked, [0.025, 0.975], axis=0)
    totals = np.quantile(stacked.sum(axis=1), [0.025, 0.975])
    return lower, upper, totals


def ours(model: BGNBD, summary: dict[str, np.ndarray], draws: int, seed: int) -> Any:
    return prediction_intervals(model, summary, "p_alive", draws=draws, seed=seed)


def population(truth: BGNBD, n: int, daily: bool, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    if daily:
        times = rng.integers(1, 731, n).astype(np.float64)
        sim = truth.simulate(n, times, seed=rng)
        sim["recency"] = np.floor(sim["recency"])
    else:
        sim = truth.simulate(n, rng.uniform(1.0, 104.0, n), seed=rng)
    return {k: np.asarray(v, dtype=np.float64) for k, v in sim.items()}


def run(name: str, truth: BGNBD, args: argparse.Namespace, daily: bool) -> None:
    model = BGNBD.fit(population(truth, 20_000, daily, seed=1))
    big = population(truth, args.customers, daily, seed=2)
    small = {k: v[: args.baseline_customers] for k, v in big.items()}
    n_big = len(distinct_rows(big["frequency"], big["recency"], big["T"])[0][0])
    n_small = len(distinct_rows(small["frequency"], small["recency"], small["T"])[0][0])
    print(f"\n{name}: {args.draws} draws of P(alive), 95% intervals")
    mine, t_ours, m_ours = measure(lambda: ours(model, small, args.draws, 7))
    hand, t_base, m_base = measure(lambda: baseline(model, small, args.draws, 7))
    gap = max(
        float(np.max(np.abs(mine.lower - hand[0]))), float(np.max(np.abs(mine.upper - hand[1])))
    )
    print(
        f"  {args.baseline_customers:>9,} customers ({n_small:,} distinct histories): "
        f"clientmodel {t_ours:7.1f} s {m_ours:6.0f} MB | by hand {t_base:7.1f} s "
        f"{m_base:6.0f} MB | time ratio {t_base / t_ours:5.1f}x, memory ratio "
        f"{m_base / max(m_ours, 1.0):5.1f}x | max |difference| {gap:.1e}"
    )
    full, t_full, m_full = measure(lambda: ours(model, big, args.draws, 7))
    need = 8 * args.draws * args.customers / 2**20
    print(
        f"  {args.customers:>9,} customers ({n_big:,} distinct histories): "
        f"clientmodel {t_full:7.1f} s {m_full:6.0f} MB (by hand would stack {need:,.0f} MB); "
        f"total {full.total_estimate:,.0f} [{full.total_lower:,.0f}, {full.total_upper:,.0f}]"
    )


PURCHASE = ("vip", "app", "promo")
DROPOUT = ("web", "city", "gift")


def covariate_population(n: int, seed: int) -> dict[str, np.ndarray]:
    """Three binary covariates per process, effects +-0.3, ``T`` in whole weeks 1..104."""
    rng = np.random.default_rng(seed)
    cols = {c: rng.integers(0, 2, n).astype(np.float64) for c in (*PURCHASE, *DROPOUT)}
    eta_p = 0.3 * cols["vip"] - 0.3 * cols["app"] + 0.2 * cols["promo"]
    eta_d = -0.3 * cols["web"] + 0.3 * cols["city"] - 0.2 * cols["gift"]
    times = rng.integers(1, 105, n).astype(np.float64)
    out = {k: np.empty(n) for k in ("frequency", "recency", "T")}
    keys, index = distinct_rows(eta_p, eta_d)
    for g in range(len(keys[0])):
        rows = np.flatnonzero(index == g)
        truth = ParetoNBD(
            r=0.55, alpha=10.0 * np.exp(-keys[0][g]), s=0.6, beta=12.0 * np.exp(-keys[1][g])
        )
        sim = truth.simulate(len(rows), times[rows], seed=rng)
        for k in out:
            out[k][rows] = sim[k]
    order = rng.permutation(n)  # shuffled: no sorted runs of a group
    return {k: v[order] for k, v in {**out, **cols}.items()}


def covariate_baseline(model: CovariateModel, summary: dict[str, np.ndarray], draws: int) -> Any:
    """By hand: per draw, the drawn covariate model predicts for every customer; then quantiles."""
    thetas = draw_parameters(model, draws, seed=7)
    names = list(model.fit_report.estimates)[4:] if model.fit_report else []
    stacked = np.empty((draws, len(summary["T"])))
    for b, theta in enumerate(thetas):
        coefficients: dict[str, dict[str, float]] = {"purchase": {}, "dropout": {}}
        for name, value in zip(names, theta[4:], strict=True):
            process, column = name.split(":")
            coefficients[process][column] = float(value)
        drawn = CovariateModel(
            base=ParetoNBD(**dict(zip(ParetoNBD.PARAMS, theta[:4], strict=True))),
            purchase=model.purchase,
            dropout=model.dropout,
            coefficients=coefficients,
        )
        stacked[b] = drawn.p_alive(summary)
    lower, upper = np.quantile(stacked, [0.025, 0.975], axis=0)
    totals = np.quantile(stacked.sum(axis=1), [0.025, 0.975])
    return lower, upper, totals


def run_covariates(args: argparse.Namespace) -> None:
    start = time.perf_counter()
    model = ParetoNBD.fit(
        covariate_population(20_000, seed=1), covariates=True, purchase=PURCHASE, dropout=DROPOUT
    )
    print(
        "\ncovariates (Pareto/NBD, 3 + 3 binary covariates, "
        f"fit {time.perf_counter() - start:.1f} s): {args.draws} draws of P(alive)"
    )
    big = covariate_population(args.customers, seed=2)
    small = {k: v[: args.baseline_customers] for k, v in big.items()}

    def ours_cov(data: dict[str, np.ndarray]) -> Any:
        return prediction_intervals(model, data, "p_alive", draws=args.draws, seed=7)

    mine, t_ours, m_ours = measure(lambda: ours_cov(small))
    hand, t_base, m_base = measure(lambda: covariate_baseline(model, small, args.draws))
    gap = max(
        float(np.max(np.abs(mine.lower - hand[0]))), float(np.max(np.abs(mine.upper - hand[1])))
    )
    print(
        f"  {args.baseline_customers:>9,} customers: clientmodel {t_ours:7.1f} s {m_ours:6.0f} MB"
        f" | by hand {t_base:7.1f} s {m_base:6.0f} MB | time ratio {t_base / t_ours:5.1f}x, "
        f"memory ratio {m_base / max(m_ours, 1.0):5.1f}x | max |difference| {gap:.1e}"
    )
    full, t_full, m_full = measure(lambda: ours_cov(big))
    need = 8 * args.draws * args.customers / 2**20
    keys = [big[c] for c in (*PURCHASE, *DROPOUT, "frequency", "recency", "T")]
    n_big = len(distinct_rows(*keys)[0][0])
    print(
        f"  {args.customers:>9,} customers ({n_big:,} distinct rows): "
        f"clientmodel {t_full:7.1f} s {m_full:6.0f} MB "
        f"(by hand would stack {need:,.0f} MB); total {full.total_estimate:,.0f} "
        f"[{full.total_lower:,.0f}, {full.total_upper:,.0f}]"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--baseline-customers", type=int, default=100_000)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--part", choices=("all", "plain", "covariates"), default="all")
    args = parser.parse_args()
    args.baseline_customers = min(args.baseline_customers, args.customers)
    if args.part != "covariates":
        run("continuous (weeks)", BGNBD(r=0.25, alpha=4.0, a=0.8, b=2.5), args, daily=False)
        run("daily (days)", BGNBD(r=0.25, alpha=28.0, a=0.8, b=2.5), args, daily=True)
    if args.part != "plain":
        run_covariates(args)


if __name__ == "__main__":
    main()
