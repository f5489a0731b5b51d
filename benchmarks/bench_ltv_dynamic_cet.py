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
import math
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import integrate

from clientmodel.ltv import DynamicCovariateModel, ParetoNBD

DATA = Path(__file__).parents[1] / "tests" / "data" / "clvtools"
COVS = ["High.Season", "Gender", "Channel"]
AS_OF = "2006-12-31"
UNTIL = "2010-12-20"
G_P = {"High.Season": 0.7, "Gender": 0.26, "Channel": 0.6}
G_D = {"High.Season": -0.5, "Gender": -0.6, "Channel": 0.6}
BASE = ParetoNBD(r=2.1, alpha=123.0, s=0.8, beta=60.0)


def load(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    trans = pd.read_csv(DATA / "apparelTrans.csv.gz")
    trans = trans[trans["Date"] <= AS_OF]
    cov = pd.read_csv(DATA / "apparelDynCov.csv.gz")
    rng = np.random.default_rng(seed)
    picks = rng.choice(trans["Id"].unique(), n)
    by_t, by_c = dict(list(trans.groupby("Id"))), dict(list(cov.groupby("Id")))
    t = pd.concat([by_t[p].assign(Id=i) for i, p in enumerate(picks)], ignore_index=True)
    c = pd.concat([by_c[p].assign(Id=i) for i, p in enumerate(picks)], ignore_index=True)
    return t.sample(frac=1.0, random_state=seed), c.sample(frac=1.0, random_state=seed + 1)


def baseline(trans: pd.DataFrame, cov: pd.DataFrame) -> dict[int, float]:
    """By hand, per customer: weeks looped over, quad for both integrals."""
    r, alpha, s, beta = BASE.r, BASE.alpha, BASE.s, BASE.beta
    end = float(pd.Timestamp(AS_OF).toordinal())
    until = float(pd.Timestamp(UNTIL).toordinal())
    out = {}
    for cid, rows in cov.groupby("Id"):
        rows = rows.sort_values("Cov.Date")
        starts = [pd.Timestamp(d).toordinal() for d in rows["Cov.Date"]]
        c_p = [math.exp(sum(G_P[k] * row[k] for k in COVS)) for _, row in rows.iterrows()]
        c_d = [math.exp(sum(G_D[k] * row[k] for k in COVS)) for _, row in rows.iterrows()]
        days = sorted({pd.Timestamp(d).toordinal() for d in trans.loc[trans["Id"] == cid, "Date"]})
        first, x = days[0], len(days) - 1

        def week(day: float, starts: list[int] = starts) -> int:
            return int(np.searchsorted(starts, day, side="right")) - 1

        def exposure(
            day_end: float, c: list[float], first: int = first, starts: list[int] = starts
        ) -> float:
            total, day = 0.0, float(first)
            while day < day_end:
                k = week(day)
                stop = min(starts[k] + 7.0, day_end)
                total += c[k] * (stop - day) / 7.0
                day = stop
            return total

        def dropout(
            day: float, x: int = x, c_p: list[float] = c_p, c_d: list[float] = c_d
        ) -> float:
            a, b = exposure(day, c_p), exposure(day, c_d)
            return c_d[week(day)] * (alpha + a) ** -(r + x) * (beta + b) ** -(s + 1) / 7.0

        before = [d for d in starts if days[-1] < d < end] or None
        integral = (
            integrate.quad(dropout, days[-1], end, points=before, limit=400)[0]
            if days[-1] < end
            else 0.0
        )
        a_t, b_t = exposure(end, c_p), exposure(end, c_d)
        alive_term = (alpha + a_t) ** -(r + x) * (beta + b_t) ** -s
        p_alive = alive_term / (alive_term + s * integral)

        def buying(
            day: float, c_p: list[float] = c_p, c_d: list[float] = c_d, b_t: float = b_t
        ) -> float:
            b = exposure(day, c_d)
            return c_p[week(day)] * ((beta + b_t) / (beta + b)) ** s / 7.0

        ahead = [d for d in starts if end < d < until] or None
        later = integrate.quad(buying, end, until, points=ahead, limit=400)[0]
        out[int(cid)] = p_alive * (r + x) / (alpha + a_t) * later
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=6000)
    parser.add_argument("--baseline", type=int, default=3)
    args = parser.parse_args()
    trans, cov = load(args.n, seed=1)
    model = DynamicCovariateModel(
        base=BASE,
        purchase=tuple(COVS),
        dropout=tuple(COVS),
        coefficients={"purchase": G_P, "dropout": G_D},
        customer="Id",
        time="Date",
        period="Cov.Date",
    )
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
