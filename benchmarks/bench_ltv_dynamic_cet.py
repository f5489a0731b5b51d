"""Speed of the expected purchases (CLVTools' CET) with time-varying covariates (issue 15).

Data: CLVTools' apparel data (``tests/data/clvtools``, from CLVTools, GPL-3): ``--n`` customers
drawn (with replacement, new ids) from its 600, rows of both tables shuffled; weekly High.Season,
Gender and Channel on both processes; the 104-week estimation period to 2006-12-31 and the
prediction period to 2010-12-20 (207 weeks, CLVTools' holdout end).

clientmodel's path (``DynamicCovariateModel.expected_purchases``: P(alive) from the likelihood's
pieces, the prediction integral in closed form per covariate period, vectorised over all
customers) against the baseline a user would write by hand in the same run: per customer, the
exposures by a loop over the weeks, P(alive) with the likelihood's dropout integral by
``scipy.integrate.quad``, and the expected purchases by ``quad`` over the prediction period (run
on the first ``--baseline`` customers only and scaled per customer). CLVTools 0.12.1's
``predict()`` on the 600 customers (50.9 s, recorded in
``tests/data/clvtools/clvtools_dynamic_cov.out``) is printed for reference.

Run: ``python benchmarks/bench_ltv_dynamic_cet.py [--n 6000] [--baseline 3]``.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import pandas as pd
from bench_ltv_dynamic_covariates import AS_OF, BASE, ByHand, benchmark_model, by_hand, load
from scipy import integrate

UNTIL = "2010-12-20"


def baseline(trans: pd.DataFrame, cov: pd.DataFrame) -> dict[int, float]:
    """By hand, per customer: weeks looped over, quad for both integrals."""
    r, alpha, s, beta = BASE.r, BASE.alpha, BASE.s, BASE.beta
    end = pd.Timestamp(AS_OF).toordinal()
    until = float(pd.Timestamp(UNTIL).toordinal())
    out = {}
    for cid, one in by_hand(trans, cov, end):
        a_t, b_t = one.exposure(end, one.c_p), one.exposure(end, one.c_d)
        alive_term = (alpha + a_t) ** -(r + one.x) * (beta + b_t) ** -s
        p_alive = alive_term / (alive_term + s * one.integral)

        def buying(day: float, one: ByHand = one, b_t: float = b_t) -> float:
            b = one.exposure(day, one.c_d)
            return one.c_p[one.week(day)] * ((beta + b_t) / (beta + b)) ** s / 7.0

        ahead = [d for d in one.starts if end < d < until] or None
        later = integrate.quad(buying, end, until, points=ahead, limit=400)[0]
        out[cid] = p_alive * (r + one.x) / (alpha + a_t) * later
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=6000)
    parser.add_argument("--baseline", type=int, default=3)
    args = parser.parse_args()
    trans, cov = load(args.n, seed=1, cov_until=UNTIL)
    model = benchmark_model()
    start = time.perf_counter()
    ours = model.expected_purchases(trans, cov, as_of=AS_OF, until=UNTIL)
    t_ours = time.perf_counter() - start
    tracemalloc.start()  # a second run for the memory (tracing slows it down)
    model.expected_purchases(trans, cov, as_of=AS_OF, until=UNTIL)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    few = set(range(args.baseline))
    sub_t, sub_c = trans[trans["Id"].isin(few)], cov[cov["Id"].isin(few)]
    start = time.perf_counter()
    hand = baseline(sub_t, sub_c)
    t_hand = (time.perf_counter() - start) * args.n / args.baseline
    mine = ours.set_index("Id")["expected_purchases"]
    worst = max(abs(mine[c] - v) / v for c, v in hand.items())
    print(
        f"customers {args.n:,} (from 600 apparel customers, shuffled rows), "
        f"covariate rows {len(cov):,}, transactions {len(trans):,}"
    )
    print(
        f"expected purchases to {UNTIL}: clientmodel {t_ours:.3f} s (peak traced memory "
        f"{peak / 2**20:.0f} MiB); by hand (scaled from {args.baseline}) {t_hand:.1f} s; "
        f"ratio {t_hand / t_ours:.0f}x; largest relative difference on those "
        f"{args.baseline}: {worst:.1e}"
    )
    print("CLVTools 0.12.1 predict() on the 600 customers recorded 50.9 s (PAlive, CET, DECT)")


if __name__ == "__main__":
    main()
