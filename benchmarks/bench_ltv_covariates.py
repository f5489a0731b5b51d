"""Speed and peak memory of a Pareto/NBD fit with static covariates (issue 15, item 1).

Data: ``--n`` customers (100,000 by default) simulated from a Pareto/NBD whose ``alpha`` and
``beta`` depend on three binary covariates per process (six columns, 64 distinct covariate rows),
observed over one to two years in whole days (times in weeks), rows shuffled.

clientmodel's path (``ParetoNBD.fit(..., covariates=...)``: grouped by covariate row, compressed
histories, analytic gradient and Hessian by the chain rule, trust-region Newton) against the
baseline a user would write by hand in the same run: the textbook per-customer likelihood (Fader &
Hardie 2005 note, eq. 14, scipy's ``hyp2f1``) with ``alpha_i``, ``beta_i`` per customer, minimised
by ``scipy.optimize.minimize`` (L-BFGS-B, numerical gradient) from the same start (the plain
fit). Peak memory is tracemalloc's peak during each fit (numpy's allocations included), taken
in a second, untimed run.

``--model ggompertz``: the same for GGompertz/NBD (lifetimes Gompertz with ``b = 0.05``, the
gamma rate ``beta`` of the Gompertz scale moved by the dropout covariates, CLVTools' links), 20,000
customers by default. clientmodel: BFGS on the chain-rule analytic gradient of its graded
Gauss-Legendre quadrature, every (covariate row, history) pair in one vectorised pass at its own
``alpha_i``, ``beta_i``; baseline: the per-customer likelihood in CLVTools' form
(``ggomnbd_LL_ind``) with its integral on 64 Gauss-Legendre nodes per customer, L-BFGS-B with
numerical gradients, from the same start.

``--population continuous``: the first covariate of each process is a standard normal
(``income`` on purchases, ``age`` on dropout) instead of a binary one, so every customer has a
covariate row of its own (no two customers share their parameters).

Run: ``python benchmarks/bench_ltv_covariates.py [--n 100000] [--model ggompertz]
[--population continuous]``.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import optimize, special

from clientmodel.ltv import GGompertzNBD, ParetoNBD

PURCHASE = ["female", "offline", "newsletter"]
DROPOUT = ["app", "loyalty", "north"]
#: The continuous population: one standard normal covariate per process.
CONTINUOUS = {"female": "income", "app": "age"}
TRUE = ParetoNBD(r=0.8, alpha=12.0, s=0.6, beta=30.0)
G_P = np.array([0.3, 0.6, -0.2])
G_D = np.array([-0.5, 0.4, 0.2])


def covariate_names(continuous: bool) -> tuple[list[str], list[str]]:
    """The purchase and dropout covariate columns of the population."""
    if not continuous:
        return PURCHASE, DROPOUT
    return [CONTINUOUS.get(c, c) for c in PURCHASE], [CONTINUOUS.get(c, c) for c in DROPOUT]


def draw_covariates(
    rng: np.random.Generator, n: int, continuous: bool
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Binary covariates (or, with ``continuous``, a standard normal first one per process) and
    the purchase and dropout design matrices."""
    purchase, dropout = covariate_names(continuous)
    cov: dict[str, np.ndarray] = {c: rng.integers(0, 2, n) for c in (*purchase, *dropout)}
    for c in CONTINUOUS.values() if continuous else ():
        cov[c] = rng.standard_normal(n)
    xp = np.column_stack([cov[c] for c in purchase]).astype(float)
    xd = np.column_stack([cov[c] for c in dropout]).astype(float)
    return cov, xp, xd


def simulate(n: int, seed: int, continuous: bool = False) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    cov, xp, xd = draw_covariates(rng, n, continuous)
    alpha = TRUE.alpha * np.exp(-xp @ G_P)
    beta = TRUE.beta * np.exp(-xd @ G_D)
    lam = rng.gamma(TRUE.r, 1.0 / alpha)
    mu = rng.gamma(TRUE.s, 1.0 / beta)
    t = rng.integers(52 * 7, 104 * 7, n) / 7.0  # whole days, in weeks
    life = rng.exponential(1.0, n) / mu
    active = np.minimum(life, t)
    x = rng.poisson(lam * active)
    recency = np.zeros(n)
    pos = x > 0
    recency[pos] = np.floor(active[pos] * rng.beta(x[pos], 1.0) * 7.0) / 7.0
    order = rng.permutation(n)
    out = {"customer_id": np.arange(n), "frequency": x, "recency": recency, "T": t, **cov}
    return {k: v[order] for k, v in out.items()}


TRUE_GG = GGompertzNBD(r=0.8, alpha=12.0, b=0.05, s=0.6, beta=2.0)


def simulate_gg(n: int, seed: int, continuous: bool = False) -> dict[str, np.ndarray]:
    """GGompertz/NBD customers; Gompertz lifetimes by inversion, ``log(1 + E / eta) / b``."""
    rng = np.random.default_rng(seed)
    cov, xp, xd = draw_covariates(rng, n, continuous)
    lam = rng.gamma(TRUE_GG.r, 1.0 / (TRUE_GG.alpha * np.exp(-xp @ G_P)))
    eta = rng.gamma(TRUE_GG.s, 1.0 / (TRUE_GG.beta * np.exp(-xd @ G_D)))
    t = rng.integers(52 * 7, 104 * 7, n) / 7.0
    life = np.log1p(rng.exponential(1.0, n) / eta) / TRUE_GG.b
    active = np.minimum(life, t)
    x = rng.poisson(lam * active)
    recency = np.zeros(n)
    pos = x > 0
    recency[pos] = np.floor(active[pos] * rng.beta(x[pos], 1.0) * 7.0) / 7.0
    order = rng.permutation(n)
    out = {"customer_id": np.arange(n), "frequency": x, "recency": recency, "T": t, **cov}
    return {k: v[order] for k, v in out.items()}


def baseline_gg(
    data: dict[str, np.ndarray], start: np.ndarray, continuous: bool = False
) -> tuple[np.ndarray, float]:
    """Per-customer GGompertz/NBD likelihood (CLVTools' form), 64-node Gauss-Legendre integral
    on ``[t_x, T]``, numerical gradients."""
    x, tx, t = data["frequency"].astype(float), data["recency"], data["T"]
    purchase, dropout = covariate_names(continuous)
    xp = np.column_stack([data[c] for c in purchase]).astype(float)
    xd = np.column_stack([data[c] for c in dropout]).astype(float)
    nodes, weights = np.polynomial.legendre.leggauss(64)
    half = (t - tx)[:, None] / 2.0
    tau = tx[:, None] + half * (nodes[None, :] + 1.0)

    def nll(p: np.ndarray) -> float:
        r, alpha0, b, s, beta0 = np.exp(p[:5])
        alpha = alpha0 * np.exp(-xp @ p[5:8])
        beta = beta0 * np.exp(-xd @ p[8:11])
        with np.errstate(all="ignore"):
            log_f = (
                b * tau
                - (r + x)[:, None] * np.log(alpha[:, None] + tau)
                - (s + 1.0) * np.log(beta[:, None] - 1.0 + np.exp(b * tau))
            )
            log_int = special.logsumexp(log_f, axis=1, b=weights[None, :] * half)
            common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
            alive = -(r + x) * np.log(alpha + t) + s * (
                np.log(beta) - np.log(beta - 1.0 + np.exp(b * t))
            )
            dead = np.log(b * s) + s * np.log(beta) + log_int
            ll = common + np.logaddexp(alive, dead)
        value = -float(np.sum(ll))
        return value if np.isfinite(value) else 1e300

    res = optimize.minimize(nll, start, method="L-BFGS-B")
    return res.x, -float(res.fun)


def baseline(
    data: dict[str, np.ndarray], start: np.ndarray, continuous: bool = False
) -> tuple[np.ndarray, float]:
    """The straightforward fit: textbook per-customer likelihood, numerical gradients."""
    x, tx, t = data["frequency"].astype(float), data["recency"], data["T"]
    purchase, dropout = covariate_names(continuous)
    xp = np.column_stack([data[c] for c in purchase]).astype(float)
    xd = np.column_stack([data[c] for c in dropout]).astype(float)

    def nll(p: np.ndarray) -> float:
        r, alpha0, s, beta0 = np.exp(p[:4])
        alpha = alpha0 * np.exp(-xp @ p[4:7])
        beta = beta0 * np.exp(-xd @ p[7:10])
        m = r + s + x
        first = alpha >= beta
        big = np.where(first, alpha, beta)
        b2 = np.where(first, s + 1.0, r + x)
        z0 = np.abs(alpha - beta)
        with np.errstate(all="ignore"):
            f1 = special.hyp2f1(m, b2, m + 1.0, z0 / (big + tx)) / (big + tx) ** m
            f2 = special.hyp2f1(m, b2, m + 1.0, z0 / (big + t)) / (big + t) ** m
            inner = 1.0 / ((alpha + t) ** (r + x) * (beta + t) ** s) + s / m * (f1 - f2)
            ll = (
                special.gammaln(r + x)
                - special.gammaln(r)
                + r * np.log(alpha)
                + s * np.log(beta)
                + np.log(inner)
            )
        value = -float(np.sum(ll))
        return value if np.isfinite(value) else 1e300

    res = optimize.minimize(nll, start, method="L-BFGS-B")
    return res.x, -float(res.fun)


def measure(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """The result, the wall time of a plain run, and tracemalloc's peak (MiB) in a second run
    (tracemalloc slows allocation-heavy code, so it stays out of the timed run)."""
    t0 = time.perf_counter()
    out = fn()
    elapsed = time.perf_counter() - t0
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out, elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--model", choices=("pareto", "ggompertz"), default="pareto")
    parser.add_argument("--population", choices=("binary", "continuous"), default="binary")
    args = parser.parse_args()
    continuous = args.population == "continuous"
    if args.model == "ggompertz":
        n = 20_000 if args.n is None else args.n
        data = simulate_gg(n, args.seed, continuous)
        run("GGompertz/NBD", GGompertzNBD, data, continuous, baseline_gg)
    else:
        n = 100_000 if args.n is None else args.n
        run("Pareto/NBD", ParetoNBD, simulate(n, args.seed, continuous), continuous, baseline)


def run(
    label: str,
    cls: Any,
    data: dict[str, np.ndarray],
    continuous: bool,
    by_hand: Callable[..., tuple[np.ndarray, float]],
) -> None:
    purchase, dropout = covariate_names(continuous)
    fit, ours_s, ours_mb = measure(
        lambda: cls.fit(
            data, covariates=True, purchase=purchase, dropout=dropout, customer="customer_id"
        )
    )
    report = fit.fit_report
    t0 = time.perf_counter()
    plain = cls.fit(data)
    plain_s = time.perf_counter() - t0
    start = np.concatenate([np.log(list(plain.params.values())), np.zeros(6)])
    (p, ll), base_s, base_mb = measure(lambda: by_hand(data, start, continuous))
    ours = [fit.coefficients["purchase"][c] for c in purchase]
    ours += [fit.coefficients["dropout"][c] for c in dropout]
    n = len(data["customer_id"])
    cov_rows = len({tuple(data[c][i] for c in (*purchase, *dropout)) for i in range(n)})
    kind = "1 normal + 2 binary" if continuous else "3 binary"
    print(
        f"{label} with {kind} covariates per process: {n:,} customers (shuffled), "
        f"{report.n_distinct:,} distinct (covariate row, history) pairs, {cov_rows:,} "
        "distinct covariate rows"
    )
    print(
        f"  clientmodel  {ours_s:8.2f} s  peak {ours_mb:8.1f} MiB  LL {report.log_likelihood:.4f}"
    )
    print(f"  baseline     {base_s:8.2f} s  peak {base_mb:8.1f} MiB  LL {ll:.4f}")
    print(
        f"  ratio (baseline / ours): time {base_s / ours_s:.1f}x, memory {base_mb / ours_mb:.1f}x"
    )
    print(
        f"  (ours includes its start, a plain fit from one start; the baseline's start, "
        f"{cls.__name__}.fit on the plain data from all its starts, took {plain_s:.2f} s and is "
        "not in its time)"
    )
    print("  coefficients ours     ", np.round(ours, 4).tolist())
    print("  coefficients baseline ", np.round(p[len(plain.params) :], 4).tolist())
    print("  true                  ", np.concatenate([G_P, G_D]).tolist())


if __name__ == "__main__":
    main()
