"""GGompertz/NBD with time-invariant covariates (issue 15; ggcov15 item 2).

Links (CLVTools 0.12.1, ``ggomnbd_staticcov_alpha_i`` / ``ggomnbd_staticcov_beta_i`` in its
``src/ggomnbd.cpp``): ``alpha_i = alpha exp(-g_p . x_i)``, ``beta_i = beta exp(-g_d . z_i)``.

Yardsticks:

* CLVTools 0.12.1 on its apparel data, ``ggomnbd()`` with Gender and Channel on both processes
  (``tests/data/clvtools/clvtools_static_cov.R``, output quoted below);
* an independent per-customer likelihood written here from Bemmaor & Glady (2012) eq. (3)
  in CLVTools' form (``ggomnbd_LL_ind``), its integral by composite Simpson's rule on a fine grid
  (clientmodel uses graded Gauss-Legendre nodes);
* parameter recovery and interval coverage on data simulated with known effects.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special

from clientmodel.errors import ArgumentError
from clientmodel.ltv import GGompertzNBD, ParetoNBD
from clientmodel.ltv.covariates import CovariateModel
from clientmodel.transactions import summarize

DATA = Path(__file__).parents[1] / "data" / "clvtools"
BOTH = ["Gender", "Channel"]

# Golden values: CLVTools 0.12.1 (release commit 1b06356, R 4.2.2), ggomnbd(clv.static) by
# tests/data/clvtools/clvtools_static_cov.R: coef(), logLik(), sqrt(diag(vcov())). Its fit ends
# on the boundary b -> 0 (b = 1.4e-6, "KKT 2 FALSE" in its summary): the limit b -> 0 with
# beta / b fixed is Pareto/NBD with the same covariate links, and there the log-likelihood is
# the yardstick (issue 15).
CLVTOOLS_GGOMP = {
    "loglik": -5821.062833,
    "trans.Gender": (0.2864477411, 0.104159506172),
    "trans.Channel": (0.6238738315, 0.104966664186),
    "life.Gender": (-0.6413409564, 0.295463311229),
    "life.Channel": (0.7910542199, 0.305920383435),
    "r": 1.837294522,
    "alpha": 92.89600490,
    "s": 0.5921214176,
    "b": 1.445125162e-06,
}
# The same script, ggomnbd(clv.apparel) without covariates: also at b -> 0.
CLVTOOLS_GGOMP_NOCOV = {"loglik": -5848.097926, "r": 1.449009504, "alpha": 48.62811577}


@pytest.fixture(scope="module")
def apparel() -> tuple[pd.DataFrame, pd.DataFrame]:
    """CLVTools' apparel data: the 104-week estimation summary (weeks) and the covariates."""
    trans = pd.read_csv(DATA / "apparelTrans.csv.gz")
    summary = summarize(
        trans,
        as_of="2006-12-31",
        unit="W",
        customer="Id",
        time="Date",
        after_as_of="exclude",
        tz="UTC",
    )
    return summary, pd.read_csv(DATA / "apparelStaticCov.csv")


@pytest.fixture(scope="module")
def ggomp_fit(apparel):
    summary, cov = apparel
    return GGompertzNBD.fit(summary, covariates=cov, purchase=BOTH, dropout=BOTH, customer="Id")


def _ours(fit, name):
    process, column = name.split(".")
    return fit.coefficients["purchase" if process == "trans" else "dropout"][column]


def test_apparel_reaches_clvtools(ggomp_fit):
    """CLVTools' log-likelihood or better, its coefficients to three digits, its signs."""
    report = ggomp_fit.fit_report
    assert report.log_likelihood >= CLVTOOLS_GGOMP["loglik"] - 1e-6
    assert report.log_likelihood == pytest.approx(CLVTOOLS_GGOMP["loglik"], abs=1e-3)
    for name in ("trans.Gender", "trans.Channel", "life.Gender", "life.Channel"):
        estimate, _ = CLVTOOLS_GGOMP[name]
        assert _ours(ggomp_fit, name) == pytest.approx(estimate, abs=1.5e-3), name
    for p in ("r", "alpha", "s"):
        assert report.estimates[p] == pytest.approx(CLVTOOLS_GGOMP[p], rel=3e-3), p
    # at the boundary, as CLVTools' fit; said in plain words, no normal-theory SEs
    assert report.at_boundary
    assert any("Pareto/NBD limit" in w for w in report.warnings)
    assert report.estimates["b"] < CLVTOOLS_GGOMP["b"]


def test_apparel_is_pareto_nbd_with_covariates_in_the_limit(apparel, ggomp_fit):
    """b -> 0 with beta / b fixed is the Pareto/NBD (module docstring of ggompertz_nbd): the
    GGompertz/NBD fit with covariates reaches the Pareto/NBD fit with the same covariates (itself
    checked against CLVTools' pnbd in test_covariates.py), with beta / b its beta."""
    summary, cov = apparel
    pareto = ParetoNBD.fit(summary, covariates=cov, purchase=BOTH, dropout=BOTH, customer="Id")
    assert ggomp_fit.fit_report.log_likelihood == pytest.approx(
        pareto.fit_report.log_likelihood, abs=1e-5
    )
    for process in ("purchase", "dropout"):
        for c in BOTH:
            assert ggomp_fit.coefficients[process][c] == pytest.approx(
                pareto.coefficients[process][c], abs=1e-4
            )
    base = ggomp_fit.base
    assert base.beta / base.b == pytest.approx(pareto.base.beta, rel=1e-3)
    # CLVTools' SEs of the GGompertz/NBD coefficients are its Pareto/NBD ones (to 1e-3):
    for name, key in (("trans.Channel", "purchase:Channel"), ("life.Gender", "dropout:Gender")):
        se = pareto.fit_report.standard_errors[key]
        assert se == pytest.approx(CLVTOOLS_GGOMP[name][1], rel=3e-3)


def test_apparel_effects_and_json(apparel, ggomp_fit):
    summary, cov = apparel
    data = json.loads(json.dumps(ggomp_fit.to_dict()))
    assert data["model"] == "GGompertzNBD"
    assert (
        data["coefficients"]["dropout"]["Channel"] == ggomp_fit.coefficients["dropout"]["Channel"]
    )
    assert data["effects"]["covariate"] == BOTH + BOTH
    back = CovariateModel.from_dict(data)
    assert back == ggomp_fit
    assert back.fit_report == ggomp_fit.fit_report
    np.testing.assert_array_equal(back.p_alive(summary, cov), ggomp_fit.p_alive(summary, cov))
    assert ggomp_fit.log_likelihood_of(summary, cov) == pytest.approx(
        ggomp_fit.fit_report.log_likelihood, abs=1e-6
    )


# --- an independent likelihood ------------------------------------------------------------------


def ggomp_loglik_rows(r, alpha, b, s, beta, x, tx, t, nodes=2001):
    """Per customer (arrays of alpha, beta): Bemmaor & Glady (2012) in CLVTools' form,

    ``log[ G(r+x)/G(r) alpha^r ((alpha+T)^-(r+x) (beta/(beta-1+e^(bT)))^s
    + b s beta^s integral_tx^T e^(b tau) (alpha+tau)^-(r+x) (beta-1+e^(b tau))^-(s+1) dtau) ]``,
    the integral by composite Simpson's rule on ``nodes`` equally spaced points."""
    u = np.linspace(0.0, 1.0, nodes)
    tau = tx[:, None] + (t - tx)[:, None] * u[None, :]
    k = (r + x)[:, None]
    a_, b_ = alpha[:, None], beta[:, None]
    log_f = b * tau - k * np.log(a_ + tau) - (s + 1) * np.log(b_ - 1 + np.exp(b * tau))
    simpson = np.ones(nodes)
    simpson[1:-1:2], simpson[2:-1:2] = 4.0, 2.0
    with np.errstate(divide="ignore"):  # (alpha+tau)^-(r+x) underflows: sum in log space
        log_integral = special.logsumexp(log_f, axis=1, b=simpson[None, :]) + np.log(
            (t - tx) / (3.0 * (nodes - 1))
        )
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    alive = -(r + x) * np.log(alpha + t) + s * (np.log(beta) - np.log(beta - 1 + np.exp(b * t)))
    dead = np.log(b * s) + s * np.log(beta) + log_integral
    return common + np.logaddexp(alive, dead)


TRUE = GGompertzNBD(r=1.2, alpha=5.0, b=0.05, s=1.0, beta=2.0)
G_P, G_D = 0.6, -0.5


def simulate(seed: int, n: int = 2000) -> pd.DataFrame:
    """GGompertz/NBD customers (78 weeks) with one binary covariate per process, known effects."""
    rng = np.random.default_rng(seed)
    vip = rng.integers(0, 2, n)
    app = rng.integers(0, 2, n)
    parts = []
    for v in (0, 1):
        for a in (0, 1):
            k = int(((vip == v) & (app == a)).sum())
            model = GGompertzNBD(
                r=TRUE.r,
                alpha=TRUE.alpha * math.exp(-G_P * v),
                b=TRUE.b,
                s=TRUE.s,
                beta=TRUE.beta * math.exp(-G_D * a),
            )
            parts.append(pd.DataFrame({**model.simulate(k, 78.0, seed=rng), "vip": v, "app": a}))
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def simulated():
    data = simulate(1, 800)
    return data, GGompertzNBD.fit(data, covariates=True, purchase=["vip"], dropout=["app"])


def _independent_total(p, data):
    x, tx, t = (data[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    r, alpha, b, s, beta = np.exp(p[:5])
    alpha_i = alpha * np.exp(-p[5] * data["vip"].to_numpy(float))
    beta_i = beta * np.exp(-p[6] * data["app"].to_numpy(float))
    return float(ggomp_loglik_rows(r, alpha_i, b, s, beta_i, x, tx, t).sum())


def test_simulated_fit_is_the_independent_optimum(simulated):
    """Our log-likelihood equals the independent one at our estimates, and no step of 1e-3 in
    any parameter (log scale for the model's, plain for the coefficients) raises the independent
    likelihood: the optimum is the independent likelihood's."""
    data, fit = simulated
    est = fit.fit_report.estimates
    p = np.array(
        [math.log(est[n]) for n in GGompertzNBD.PARAMS] + [est["purchase:vip"], est["dropout:app"]]
    )
    ours = fit.fit_report.log_likelihood
    assert _independent_total(p, data) == pytest.approx(ours, abs=1e-5)
    for i in range(len(p)):
        for step in (-1e-3, 1e-3):
            q = p.copy()
            q[i] += step
            assert _independent_total(q, data) < ours + 1e-7, (i, step)


def test_simulated_predictions_are_the_plain_models_per_customer(simulated):
    """Record face == table face: each customer's predictions are the plain model's at
    ``alpha exp(-g.x)``, ``beta exp(-g.z)``, computed here by hand."""
    data, fit = simulated
    alive = fit.p_alive(data)
    expected = fit.expected_purchases(data, 26.0)
    gp, gd = fit.coefficients["purchase"]["vip"], fit.coefficients["dropout"]["app"]
    b = fit.base
    for i in (0, 7, 500, 799):
        row = data.iloc[i]
        plain = GGompertzNBD(
            r=b.r,
            alpha=b.alpha * math.exp(-gp * row["vip"]),
            b=b.b,
            s=b.s,
            beta=b.beta * math.exp(-gd * row["app"]),
        )
        record = {"frequency": int(row["frequency"]), "recency": row["recency"], "T": row["T"]}
        assert alive[i] == pytest.approx(plain.p_alive(record), rel=1e-12)
        assert expected[i] == pytest.approx(plain.expected_purchases(record, 26.0), rel=1e-12)
        assert fit.model_for({"vip": row["vip"], "app": row["app"]}) == plain
    path = fit.predict("expected_purchases_path", data, None, [13.0, 26.0])
    np.testing.assert_allclose(path[:, 1], expected, rtol=1e-12)
    with pytest.raises(ArgumentError, match="method"):
        fit.predict("discounted_closed_form", data, None, 52.0, 0.01)


def test_recovery_and_interval_coverage():
    """True effects inside the 95% intervals: 8 data sets x 2 effects, at least 13 of 16 (a
    correct 95% coverage gives fewer with probability < 0.7%); estimates average near the truth."""
    hits = 0
    estimates = []
    for seed in range(10, 18):
        fit = GGompertzNBD.fit(simulate(seed), covariates=True, purchase=["vip"], dropout=["app"])
        report = fit.fit_report
        assert report.converged, seed
        assert not report.at_boundary, seed
        ci = report.confidence_intervals
        hits += ci["purchase:vip"][0] <= G_P <= ci["purchase:vip"][1]
        hits += ci["dropout:app"][0] <= G_D <= ci["dropout:app"][1]
        estimates.append((fit.coefficients["purchase"]["vip"], fit.coefficients["dropout"]["app"]))
    assert hits >= 13, hits
    mean = np.mean(estimates, axis=0)
    assert abs(mean[0] - G_P) < 0.05
    assert abs(mean[1] - G_D) < 0.15


def test_constrain_and_penalty(simulated):
    data, fit = simulated
    shared = GGompertzNBD.fit(
        data.assign(both=data["vip"]),
        covariates=True,
        purchase=["both"],
        dropout=["both"],
        constrain=["both"],
    )
    assert shared.coefficients["purchase"]["both"] == shared.coefficients["dropout"]["both"]
    assert "both:both" in shared.fit_report.estimates
    strong = GGompertzNBD.fit(data, covariates=True, purchase=["vip"], dropout=["app"], penalty=1e3)
    assert abs(strong.coefficients["purchase"]["vip"]) < 1e-3
    assert strong.fit_report.log_likelihood < fit.fit_report.log_likelihood
