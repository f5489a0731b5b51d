"""Fit and scoring speed of the continuous-time transaction models.

clientmodel's path (compressed histories; analytic gradients and Hessians with a trust-region
Newton method for BG/NBD and Pareto/NBD) against two baselines in the same run: the code a user
would write without it (a per-customer BG/NBD and Pareto/NBD log-likelihood minimised with
``scipy.optimize.minimize``, no compression), and lifetimes 0.11 from its own environment when it
exists (see ``_lifetimes.py``). Against lifetimes each fit, and the scoring of P(alive) and
E[X(52)] for every customer, runs ``--repeat`` times in fresh processes, the two libraries taking
turns, so that the medians and the peak memory (the growth of the resident set during the job)
compare. Two populations, each in a random row order: "distinct" (continuous T and recency, as
from timestamps: every history distinct) and "daily" (whole days: histories repeat); the number
of distinct histories is printed with each. Run: ``python benchmarks/bench_ltv_fit.py``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import _lifetimes
import numpy as np
import pandas as pd
from scipy import optimize, special

from clientmodel.ltv.bgnbd import BGNBD
from clientmodel.ltv.clv import clv
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


def baseline_bgnbd_scores(
    model: BGNBD, x: np.ndarray, tx: np.ndarray, T: np.ndarray, t: float
) -> tuple[np.ndarray, np.ndarray]:
    """P(alive) and E[X(T, T + t)] per customer straight from FHL (2005), eq. 10-11."""
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    odds = np.where(x > 0, a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x), 0.0)
    alive = 1.0 / (1.0 + odds)
    z = t / (alpha + T + t)
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
    bracket = 1.0 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp
    return alive, alive * (a + b + x - 1) / (a - 1) * bracket


def daily_summary(model: BGNBD | ParetoNBD, n: int, seed: int) -> dict[str, np.ndarray]:
    """A summary as transaction data at day resolution gives it: times in weeks, whole days."""
    rng = np.random.default_rng(seed)
    T = rng.integers(1, 39 * 7, size=n, endpoint=True) / 7.0
    sim = model.simulate(n, T, seed=seed + 1)
    recency = np.minimum(np.round(sim["recency"] * 7) / 7.0, T)
    recency = np.where(sim["frequency"] > 0, recency, 0.0)
    return {"frequency": sim["frequency"], "recency": recency, "T": T}


def distinct_summary(model: BGNBD | ParetoNBD, n: int, seed: int) -> dict[str, np.ndarray]:
    """Continuous T and recency, as from timestamps: (almost) every history is distinct."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(1.0 / 7.0, 39.0, size=n)
    sim = model.simulate(n, T, seed=seed + 1)
    return {"frequency": sim["frequency"], "recency": sim["recency"], "T": T}


def populations(
    model: BGNBD | ParetoNBD, n: int, seed: int
) -> list[tuple[str, dict[str, np.ndarray]]]:
    """The two populations of every measurement: distinct histories and daily data, each with
    its rows in a random order (no sortedness for either library to benefit from)."""
    order = np.random.default_rng(seed + 100).permutation(n)
    return [
        (name, {k: v[order] for k, v in make(model, n, seed).items()})
        for name, make in (("distinct", distinct_summary), ("daily", daily_summary))
    ]


def timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def main(repeat: int = 3, scale: float = 1.0) -> None:
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
    _, secs = timed(BGNBD.fit, cdnow, columns=cols)
    print(
        f"BG/NBD baseline scipy per-customer: {base_secs * 1e3:.1f} ms LL={ll_base:.2f}; "
        f"clientmodel {secs * 1e3:.1f} ms; ratio {base_secs / secs:.1f}x"
    )

    truth = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    ptruth = ParetoNBD(r=0.553, alpha=10.578, s=0.606, beta=11.669)
    n_bg, n_pareto = int(1_000_000 * scale), int(100_000 * scale)
    bg_sets = populations(truth, n_bg, seed=1)
    pareto_sets = populations(ptruth, n_pareto, seed=3)
    for name, big in bg_sets:
        print(f"\n== {n_bg:,} simulated customers (BG/NBD, CDNOW parameters, {name} histories)")
        fit_and_score_bgnbd(big)
    for name, pdata in pareto_sets:
        print(f"\n== {n_pareto:,} simulated customers (Pareto/NBD, CDNOW parameters, {name})")
        fit_pareto(pdata)

    if _lifetimes.available():
        for (name, big), (_, pdata) in zip(bg_sets, pareto_sets, strict=True):
            print(
                f"\n-- {name} histories: BG/NBD {len(big['T']):,} customers, "
                f"{_distinct(big):,} distinct; Pareto/NBD {len(pdata['T']):,} customers, "
                f"{_distinct(pdata):,} distinct (rows shuffled)"
            )
            compare_with_lifetimes(big, pdata, repeat)
            compare_scoring_with_lifetimes(big, repeat)
    else:
        print("\nlifetimes environment not found: see benchmarks/_lifetimes.py to compare with it")


def _distinct(data: dict[str, np.ndarray]) -> int:
    rows = np.column_stack([data[c].astype(float) for c in ("frequency", "recency", "T")])
    return len(np.unique(rows, axis=0))


def fit_and_score_bgnbd(big: dict[str, np.ndarray]) -> None:
    """BG/NBD fit and scoring on one population, against the per-customer baseline."""
    n = len(big["T"])
    fit, secs = timed(BGNBD.fit, big)
    rep = fit.fit_report
    print(
        f"clientmodel BGNBD.fit: {secs:.2f} s ({_distinct(big):,} distinct histories of {n:,}; "
        f"{rep.n_starts} starts, {rep.starts_agreed} agreed), LL={rep.log_likelihood:.1f}"
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
        f"scoring P(alive) + 52-week expected purchases for {n:,}: {score_secs:.2f} s "
        f"(mean P(alive) {alive.mean():.3f}, mean E52 {e52.mean():.3f})"
    )
    cols = (big[c].astype(float) for c in ("frequency", "recency", "T"))
    (_, base_e52), base_secs = timed(baseline_bgnbd_scores, fit, *cols, 52.0)
    print(
        f"baseline per-customer eq. 10-11: {base_secs:.2f} s; scoring speed ratio "
        f"{base_secs / score_secs:.1f}x; max |E52 difference| {np.max(np.abs(e52 - base_e52)):.1e}"
    )
    clv_discrete(fit, big)


def clv_discrete(fit: BGNBD, big: dict[str, np.ndarray]) -> None:
    """clv(method="discrete"), 52 weekly steps, against the rows x steps matrix a user builds."""
    n = len(big["T"])
    ours, secs = timed(clv, fit, 10.0, big, horizon=52.0, discount_rate=0.1, steps=52)
    times = np.arange(1, 53, dtype=float)

    def by_hand() -> np.ndarray:
        cumulative = np.stack([fit.expected_purchases(big, t) for t in times], axis=1)
        increments = np.diff(cumulative, axis=1, prepend=0.0)
        return 10.0 * increments @ (1.1 ** (-times / 52.1775))

    base, base_secs = timed(by_hand)
    print(
        f"clv(method='discrete') for {n:,} rows x 52 steps: {secs:.2f} s; rows x steps matrix "
        f"by hand {base_secs:.2f} s; ratio {base_secs / secs:.1f}x; "
        f"max |difference| {np.max(np.abs(ours - base)):.1e}"
    )


def fit_pareto(pdata: dict[str, np.ndarray]) -> None:
    """Pareto/NBD fit on one population, against the per-customer baseline."""
    pfit, secs = timed(ParetoNBD.fit, pdata)
    rep = pfit.fit_report
    print(
        f"clientmodel ParetoNBD.fit: {secs:.2f} s ({_distinct(pdata):,} distinct histories; "
        f"{rep.n_starts} starts, {rep.starts_agreed} agreed), LL={pfit.log_likelihood:.1f}"
    )
    (_, ll_base), base_secs = timed(
        baseline_pareto, *(pdata[c].astype(float) for c in ("frequency", "recency", "T"))
    )
    print(f"baseline scipy per-customer:  {base_secs:.2f} s, LL={ll_base:.1f}")
    print(
        f"fit speed ratio: {base_secs / secs:.1f}x; LL difference "
        f"{pfit.log_likelihood - ll_base:+.3f}"
    )


# Peak memory of a job: the growth of the resident set's high-water mark during the fit. On Linux
# writing "5" to /proc/self/clear_refs resets VmHWM to the current resident set, so the peak
# belongs to the fit alone (ru_maxrss cannot be reset: it would include loading the data).
# Elsewhere tracemalloc's peak is the fallback (it sees numpy's buffers, not the interpreter's).
_MEMORY = """
def _status_mib(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    raise KeyError(field)

def reset_peak():
    global _BASE, _METHOD
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        _BASE, _METHOD = _status_mib("VmRSS"), "VmHWM"
    except OSError:
        import tracemalloc
        tracemalloc.start()
        _BASE, _METHOD = 0.0, "tracemalloc"

def peak_growth_mib():
    if _METHOD == "VmHWM":
        return _status_mib("VmHWM") - _BASE
    import tracemalloc
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return peak
"""

_FIT_JOB = """
{imports}
x, tx, T = data["frequency"], data["recency"], data["T"]
reset_peak()
start = time.perf_counter()
{fit}
seconds = time.perf_counter() - start
peak = peak_growth_mib()
print(json.dumps({{"seconds": seconds, "peak_mib": peak, "memory": _METHOD, "params": params}}))
"""

_JOBS = {
    ("clientmodel", "BG/NBD"): (
        "from clientmodel.ltv import BGNBD",
        "m = BGNBD.fit({'frequency': x, 'recency': tx, 'T': T}); params = m.params",
    ),
    ("lifetimes", "BG/NBD"): (
        "from lifetimes import BetaGeoFitter",
        "m = BetaGeoFitter().fit(x, tx, T); "
        "params = {k: float(m.params_[k]) for k in ('r', 'alpha', 'a', 'b')}",
    ),
    ("clientmodel", "Pareto/NBD"): (
        "from clientmodel.ltv import ParetoNBD",
        "m = ParetoNBD.fit({'frequency': x, 'recency': tx, 'T': T}); params = m.params",
    ),
    ("lifetimes", "Pareto/NBD"): (
        "from lifetimes import ParetoNBDFitter",
        "m = ParetoNBDFitter().fit(x, tx, T); "
        "params = {k: float(m.params_[k]) for k in ('r', 'alpha', 's', 'beta')}",
    ),
}

_TARGETS = {"BG/NBD": 20.0, "Pareto/NBD": 50.0, "scoring": 3.0}

# P(alive) and E[X(T, T + 52)] for every customer, at the published CDNOW estimates.
_SCORE_JOB = """
{imports}
x, tx, T = data["frequency"], data["recency"], data["T"]
reset_peak()
start = time.perf_counter()
{score}
seconds = time.perf_counter() - start
peak = peak_growth_mib()
print(json.dumps({{"seconds": seconds, "peak_mib": peak, "memory": _METHOD,
                   "mean_alive": float(alive.mean()), "mean_e52": float(e52.mean())}}))
"""
_SCORE_JOBS = {
    "clientmodel": (
        "from clientmodel.ltv import BGNBD\nm = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)",
        "h = {'frequency': x, 'recency': tx, 'T': T}; "
        "alive = m.p_alive(h); e52 = m.expected_purchases(h, 52.0)",
    ),
    "lifetimes": (
        "import pandas as pd\nfrom lifetimes import BetaGeoFitter\nm = BetaGeoFitter()\n"
        "m.params_ = pd.Series({'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426})",
        "alive = m.conditional_probability_alive(x, tx, T); "
        "e52 = m.conditional_expected_number_of_purchases_up_to_time(52.0, x, tx, T)",
    ),
}


def compare_scoring_with_lifetimes(data: dict[str, np.ndarray], repeat: int) -> None:
    """P(alive) + E[X(52)] for every customer, both libraries in fresh processes, in turns."""
    runs: dict[str, list[dict]] = {"clientmodel": [], "lifetimes": []}
    for _ in range(repeat):
        for lib, (imports, score) in _SCORE_JOBS.items():
            python = _lifetimes.LIFETIMES_PYTHON if lib == "lifetimes" else None
            job = _MEMORY + _SCORE_JOB.format(imports=imports, score=score)
            runs[lib].append(_lifetimes.run(job, data, python=python))
    medians = {}
    for lib, results in runs.items():
        seconds = [r["seconds"] for r in results]
        medians[lib] = (
            float(np.median(seconds)),
            float(np.median([r["peak_mib"] for r in results])),
        )
        print(
            f"scoring    {lib:12s} {len(data['T']):>9,} customers: median {medians[lib][0]:7.2f} s "
            f"(runs {', '.join(f'{v:.2f}' for v in seconds)}), peak +{medians[lib][1]:7.1f} MiB, "
            f"mean P(alive) {results[0]['mean_alive']:.6f}, mean E52 {results[0]['mean_e52']:.6f}"
        )
    ratio = medians["lifetimes"][0] / medians["clientmodel"][0]
    print(
        f"scoring    speed-up {ratio:.1f}x (target >= {_TARGETS['scoring']:.0f}x: "
        f"{'met' if ratio >= _TARGETS['scoring'] else 'NOT met'})"
    )


def compare_with_lifetimes(  # type: ignore[no-untyped-def]
    bg_data: dict[str, np.ndarray], pareto_data: dict[str, np.ndarray], repeat: int
):
    """Each fit ``repeat`` times in fresh processes, the libraries taking turns; medians compare.

    Both libraries' estimates are scored with clientmodel's ``log_likelihood_of`` on the same
    data (lifetimes' own ``_negative_log_likelihood_`` is on another scale), so the difference
    says which found the higher likelihood.
    """
    print(f"\n== against lifetimes 0.11, each fit in a fresh process, {repeat} run(s) each")
    models = {"BG/NBD": BGNBD, "Pareto/NBD": ParetoNBD}
    for model, data in (("BG/NBD", bg_data), ("Pareto/NBD", pareto_data)):
        runs: dict[str, list[dict]] = {"clientmodel": [], "lifetimes": []}
        for _ in range(repeat):
            for lib in ("clientmodel", "lifetimes"):
                imports, fit = _JOBS[(lib, model)]
                python = _lifetimes.LIFETIMES_PYTHON if lib == "lifetimes" else None
                job = _MEMORY + _FIT_JOB.format(imports=imports, fit=fit)
                runs[lib].append(_lifetimes.run(job, data, python=python))
        summary = {}
        for lib, results in runs.items():
            params = results[0]["params"]
            ll = models[model](**params).log_likelihood_of(data)
            seconds = [r["seconds"] for r in results]
            peak = float(np.median([r["peak_mib"] for r in results]))
            summary[lib] = (float(np.median(seconds)), peak, ll)
            shown = ", ".join(f"{k}={v:.4f}" for k, v in params.items())
            print(
                f"{model:10s} {lib:12s} {len(data['T']):>9,} customers: "
                f"median {summary[lib][0]:7.2f} s (runs {', '.join(f'{v:.2f}' for v in seconds)}), "
                f"peak +{peak:7.1f} MiB ({results[0]['memory']}), LL={ll:.3f}  [{shown}]"
            )
        (ours_s, ours_m, ours_ll), (ref_s, ref_m, ref_ll) = (
            summary["clientmodel"],
            summary["lifetimes"],
        )
        ratio = ref_s / ours_s
        print(
            f"{model:10s} speed-up {ratio:.1f}x (target >= {_TARGETS[model]:.0f}x: "
            f"{'met' if ratio >= _TARGETS[model] else 'NOT met'}), "
            f"LL difference {ours_ll - ref_ll:+.3g} (ours - lifetimes, both by clientmodel), "
            f"peak memory {ours_m:.1f} vs {ref_m:.1f} MiB "
            f"({ref_m / max(ours_m, 0.1):.1f}x less)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeat", type=int, default=3, help="fresh-process runs of each fit against lifetimes"
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="population sizes times this (1: 1M and 100k)"
    )
    args = parser.parse_args()
    main(args.repeat, args.scale)
