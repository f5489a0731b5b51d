"""Fit speed of the spend and discrete-time models: gamma-gamma, BG/BB and sBG.

clientmodel's path (compressed histories, analytic gradients, lookup tables of log-gamma values
for BG/BB) against the code a user would write without it, in the same run: the per-customer
log-likelihood minimised with ``scipy.optimize.minimize`` (L-BFGS-B, numerical gradient, no
compression). Both reach the same optimum; the ratio is the point.
Run: ``python benchmarks/bench_ltv_more.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import optimize, special

from clientmodel.ltv.bgbb import BGBB
from clientmodel.ltv.gamma_gamma import GammaGamma
from clientmodel.ltv.sbg import ShiftedBetaGeometric


def baseline_gamma_gamma(x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, float]:
    """Per-customer gamma-gamma likelihood of the mean spend, numerical gradient."""

    def nll(log_params: np.ndarray) -> float:
        p, q, g = np.exp(log_params)
        ll = (
            special.gammaln(p * x + q)
            - special.gammaln(p * x)
            - special.gammaln(q)
            + q * np.log(g)
            + p * x * np.log(x)
            + (p * x - 1) * np.log(z)
            - (p * x + q) * np.log(g + x * z)
        )
        return -float(np.sum(ll))

    start = np.log([1.0, 2.0, float(np.mean(z))])
    res = optimize.minimize(nll, start, method="L-BFGS-B")
    return np.exp(res.x), -float(res.fun)


def baseline_bgbb(x: np.ndarray, tx: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, float]:
    """Per-customer BG/BB likelihood (FHB 2010, eq. 5) with a Python loop over the sum."""

    def nll(log_params: np.ndarray) -> float:
        a, b, g, d = np.exp(log_params)
        bab, bgd = special.betaln(a, b), special.betaln(g, d)
        total = np.exp(special.betaln(a + x, b + n - x) - bab + special.betaln(g, d + n) - bgd)
        for i in range(int((n - tx).max())):
            term = np.exp(
                special.betaln(a + x, b + tx - x + i)
                - bab
                + special.betaln(g + 1, d + tx + i)
                - bgd
            )
            total += np.where(i < n - tx, term, 0.0)
        value = -float(np.sum(np.log(total)))
        return value if np.isfinite(value) else 1e300

    res = optimize.minimize(nll, np.zeros(4), method="L-BFGS-B")
    return np.exp(res.x), -float(res.fun)


def baseline_sbg(renewals: np.ndarray, churned: np.ndarray) -> tuple[np.ndarray, float]:
    """Per-customer sBG likelihood (FH 2007, eq. 3-4), numerical gradient."""

    def nll(log_params: np.ndarray) -> float:
        a, b = np.exp(log_params)
        e = churned.astype(float)
        return -float(np.sum(special.betaln(a + e, b + renewals) - special.betaln(a, b)))

    res = optimize.minimize(nll, np.zeros(2), method="L-BFGS-B")
    return np.exp(res.x), -float(res.fun)


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def report(name: str, ours: tuple[Any, float], base: tuple[Any, float]) -> None:
    (model, secs), ((_, base_ll), base_secs) = ours, base
    print(f"== {name}")
    print(
        "clientmodel: "
        + ", ".join(f"{k}={v:.4f}" for k, v in model.params.items())
        + f", LL={model.log_likelihood:.2f}, {secs:.3f} s"
    )
    print(f"baseline scipy per-customer: LL={base_ll:.2f}, {base_secs:.3f} s")
    print(f"speed-up: {base_secs / secs:.1f}x\n")


def main() -> None:
    n = 1_000_000
    gg = GammaGamma(p=6.25, q=3.74, gamma=15.44)
    freq = np.random.default_rng(0).integers(1, 15, size=n)
    spend = gg.simulate(n, freq, seed=1)
    spend["monetary_value"] = np.round(spend["monetary_value"], 2)  # cents, as in real data
    ours = timed(GammaGamma.fit, spend)
    base = timed(
        baseline_gamma_gamma,
        spend["frequency"].astype(float),
        spend["monetary_value"],
    )
    report(f"gamma-gamma, {n:,} repeat buyers (CDNOW parameters, spends in cents)", ours, base)

    bb = BGBB(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
    n_bb = 100_000  # the per-customer baseline takes minutes on a million
    opportunities = np.random.default_rng(2).integers(6, 25, size=n_bb)
    hist = bb.simulate(n_bb, opportunities, seed=3)
    ours = timed(BGBB.fit, hist)
    base = timed(
        baseline_bgbb,
        hist["frequency"].astype(float),
        hist["recency"].astype(float),
        hist["n"].astype(float),
    )
    report(f"BG/BB, {n_bb:,} customers, 6-24 opportunities (donations parameters)", ours, base)

    sbg = ShiftedBetaGeometric(alpha=0.704, beta=1.182)
    tenures = sbg.simulate(n, 12, seed=4)
    ours = timed(ShiftedBetaGeometric.fit_tenures, tenures)
    base = timed(baseline_sbg, tenures["renewals"].astype(float), tenures["churned"].astype(bool))
    report(f"sBG, {n:,} subscribers over 12 renewals (regular-cohort parameters)", ours, base)


if __name__ == "__main__":
    main()
