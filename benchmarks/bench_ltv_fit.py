"""Fit and scoring speed of the continuous-time transaction models.

clientmodel's path (compressed histories, analytic gradient for BG/NBD) against the baseline a
user would write without it: a per-customer BG/NBD (and Pareto/NBD) log-likelihood minimised with
``scipy.optimize.minimize`` and no compression. (``lifetimes`` is not installed here; it needs an
older pandas/numpy stack.) Run: ``python benchmarks/bench_ltv_fit.py``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, special

from clientmodel.ltv.bgnbd import BGNBD
from clientmodel.ltv.mbgnbd import MBGNBD
from clientmodel.ltv.pareto_nbd import ParetoNBD

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"


def baseline_bgnbd(x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, float]:
    """The straightforward implementation: one term per customer, numerical gradient."""

    def nll(log_params: np.ndarray) -> float:
        r, alpha, a, b = np.exp(log_params)
        a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
        a2 = (
            special.gammaln(a + b)
            + special.gammaln(b + x)
            - special.gammaln(b)
            - special.gammaln(a + b + x)
        )
        a3 = -(r + x) * np.log(alpha + T)
        a4 = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-12)) - (r + x) * np.log(alpha + tx),
            -np.inf,
        )
        return -float(np.sum(a1 + a2 + np.logaddexp(a3, a4)))

    res = optimize.minimize(nll, np.zeros(4), method="L-BFGS-B")
    return np.exp(res.x), -float(res.fun)


def baseline_pareto(x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, float]:
    """Per-customer Pareto/NBD likelihood with the textbook 2F1 terms (alpha >= beta or not)."""

    def nll(log_params: np.ndarray) -> float:
        r, alpha, s, beta = np.exp(log_params)
        big = r + s + x
        if alpha >= beta:
            f1 = special.hyp2f1(big, s + 1, big + 1, (alpha - beta) / (alpha + tx))
            f2 = special.hyp2f1(big, s + 1, big + 1, (alpha - beta) / (alpha + T))
            a0 = f1 / (alpha + tx) ** big - f2 / (alpha + T) ** big
        else:
            f1 = special.hyp2f1(big, r + x, big + 1, (beta - alpha) / (beta + tx))
            f2 = special.hyp2f1(big, r + x, big + 1, (beta - alpha) / (beta + T))
            a0 = f1 / (beta + tx) ** big - f2 / (beta + T) ** big
        with np.errstate(all="ignore"):
            inner = 1 / ((alpha + T) ** (r + x) * (beta + T) ** s) + s / big * a0
            ll = (
                special.gammaln(r + x)
                - special.gammaln(r)
                + r * np.log(alpha)
                + s * np.log(beta)
                + np.log(inner)
            )
        value = -float(np.sum(ll))
        return value if np.isfinite(value) else 1e300

    res = optimize.minimize(nll, np.zeros(4), method="L-BFGS-B")
    return np.exp(res.x), -float(res.fun)


def daily_summary(model: BGNBD | ParetoNBD, n: int, seed: int) -> dict[str, np.ndarray]:
    """A summary as transaction data at day resolution gives it: times in weeks, whole days."""
    rng = np.random.default_rng(seed)
    T = rng.integers(1, 39 * 7, size=n, endpoint=True) / 7.0
    sim = model.simulate(n, T, seed=seed + 1)
    recency = np.minimum(np.round(sim["recency"] * 7) / 7.0, T)
    recency = np.where(sim["frequency"] > 0, recency, 0.0)
    return {"frequency": sim["frequency"], "recency": recency, "T": T}


def timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def main() -> None:
    cdnow = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")
    cols = {"frequency": "x", "recency": "t_x"}
    x, tx, T = (cdnow[c].to_numpy(float) for c in ("x", "t_x", "T"))
    print("== CDNOW (2,357 customers, weeks)")
    for cls in (BGNBD, MBGNBD, ParetoNBD):
        model, secs = timed(cls.fit, cdnow, columns=cols)
        print(
            f"{cls.__name__:10s} fit {secs * 1e3:8.1f} ms  LL={model.log_likelihood:.2f}  "
            f"{ {k: round(v, 4) for k, v in model.params.items()} }"
        )
    (_, ll_base), base_secs = timed(baseline_bgnbd, x, tx, T)
    fit, secs = timed(BGNBD.fit, cdnow, columns=cols)
    print(
        f"BG/NBD baseline scipy per-customer: {base_secs * 1e3:.1f} ms LL={ll_base:.2f}; "
        f"clientmodel {secs * 1e3:.1f} ms; ratio {base_secs / secs:.1f}x"
    )

    print("\n== 1,000,000 simulated customers (BG/NBD, CDNOW parameters, day resolution)")
    truth = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    big = daily_summary(truth, 1_000_000, seed=1)
    fit, secs = timed(BGNBD.fit, big)
    rep = fit.fit_report
    print(
        f"clientmodel BGNBD.fit: {secs:.2f} s ({rep.n_distinct} distinct histories), "
        f"LL={rep.log_likelihood:.1f}"
    )
    (_, ll_base), base_secs = timed(
        baseline_bgnbd, *(big[c].astype(float) for c in ("frequency", "recency", "T"))
    )
    print(f"baseline scipy per-customer:  {base_secs:.2f} s, LL={ll_base:.1f}")
    print(
        f"fit speed ratio: {base_secs / secs:.1f}x; "
        f"LL difference {rep.log_likelihood - ll_base:+.3f}"
    )

    start = time.perf_counter()
    alive = fit.p_alive(big)
    e52 = fit.expected_purchases(big, 52.0)
    score_secs = time.perf_counter() - start
    print(
        f"scoring P(alive) + 52-week expected purchases for 1,000,000: {score_secs:.2f} s "
        f"(mean P(alive) {alive.mean():.3f}, mean E52 {e52.mean():.3f})"
    )

    print("\n== 100,000 simulated customers (Pareto/NBD, CDNOW parameters, day resolution)")
    ptruth = ParetoNBD(r=0.553, alpha=10.578, s=0.606, beta=11.669)
    pdata = daily_summary(ptruth, 100_000, seed=3)
    pfit, secs = timed(ParetoNBD.fit, pdata)
    print(
        f"clientmodel ParetoNBD.fit: {secs:.2f} s ({pfit.fit_report.n_distinct} distinct), "
        f"LL={pfit.log_likelihood:.1f}"
    )
    (_, ll_base), base_secs = timed(
        baseline_pareto, *(pdata[c].astype(float) for c in ("frequency", "recency", "T"))
    )
    print(f"baseline scipy per-customer:  {base_secs:.2f} s, LL={ll_base:.1f}")
    print(
        f"fit speed ratio: {base_secs / secs:.1f}x; LL difference "
        f"{pfit.log_likelihood - ll_base:+.3f}"
    )


if __name__ == "__main__":
    main()
