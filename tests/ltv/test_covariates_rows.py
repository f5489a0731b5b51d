"""GGompertz/NBD with covariates in one vectorised pass (ltv15b item 2).

The fit used to evaluate the plain likelihood once per distinct covariate row: with a continuous
covariate that is one Python-level evaluation per customer (41 s for 2,000 customers in
``benchmarks/bench_ltv_covariates.py --model ggompertz --population continuous``). Now every
(covariate row, history) pair is evaluated at its own ``alpha_i``, ``beta_i`` in one pass
(``CovariateLinks.rows``). The CLVTools golden test (``test_covariates_ggompertz.py``) checks the
result on the apparel data; here:

* the per-row likelihood and gradient equal the one-parameter-set likelihood of each row on its
  own (which ``test_ggompertz_nbd.py`` checks against an independent quadrature), and the
  per-row gradients are the derivatives of the value (central differences);
* the one-pass objective equals the per-group one (value and gradient) at random points;
* a fit with a continuous covariate never falls back to one evaluation per covariate row, and
  reaches the independent likelihood's optimum (``ggomp_loglik_rows``, Simpson's rule).
"""

from __future__ import annotations

import math

import attrs
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.ltv.test_covariates_ggompertz import ggomp_loglik_rows

from clientmodel.ltv import GGompertzNBD
from clientmodel.ltv import covariates as cov_module
from clientmodel.ltv import ggompertz_nbd as gg

TRUE = GGompertzNBD(r=0.8, alpha=10.0, b=0.1, s=0.5, beta=1.0)
THETA = np.array([TRUE.r, TRUE.alpha, TRUE.b, TRUE.s, TRUE.beta])


def _population(seed: int, n: int) -> pd.DataFrame:
    """Customers with a standard normal purchase covariate and a binary dropout one."""
    rng = np.random.default_rng(seed)
    income = rng.standard_normal(n)
    app = rng.integers(0, 2, n)
    parts = []
    for i in range(n):
        model = attrs.evolve(
            TRUE,
            alpha=TRUE.alpha * math.exp(-0.4 * income[i]),
            beta=TRUE.beta * math.exp(0.5 * app[i]),
        )
        parts.append(model.simulate(1, float(rng.integers(40, 80)), seed=rng))
    frame = pd.DataFrame({k: np.concatenate([p[k] for p in parts]) for k in parts[0]})
    return frame.assign(customer_id=np.arange(n), income=income, app=app)


def _histories(seed: int, n: int) -> tuple[np.ndarray, ...]:
    data = TRUE.simulate(n, 52.0, seed=seed)
    return (
        data["frequency"].astype(float),
        data["recency"],
        np.asarray(data["T"], dtype=float) * np.ones(n),
    )


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 12))
def test_rows_equal_each_row_alone(seed: int, n: int) -> None:
    x, tx, t = _histories(seed, n)
    rng = np.random.default_rng(seed)
    theta = THETA[:, None] * np.exp(rng.normal(0.0, 0.5, size=(5, n)))
    w = rng.integers(1, 4, n).astype(float)
    value, grads = gg._row_gradients(theta, x, tx, t, w)
    total = 0.0
    for i in range(n):
        v, g = gg._loglik(theta[:, i], x[i : i + 1], tx[i : i + 1], t[i : i + 1], w[i : i + 1])
        total += v
        np.testing.assert_allclose(grads[:, i], g, rtol=1e-12, atol=1e-12)
    assert value == pytest.approx(total, rel=1e-12, abs=0.0)


def test_row_gradients_are_the_derivatives_of_the_value() -> None:
    x, tx, t = _histories(3, 6)
    w = np.ones(6)
    rng = np.random.default_rng(3)
    log_theta = np.log(THETA)[:, None] + rng.normal(0.0, 0.3, size=(5, 6))
    _, grads = gg._row_gradients(np.exp(log_theta), x, tx, t, w)
    h = 1e-6
    for j in range(5):
        for i in range(6):
            up, down = log_theta.copy(), log_theta.copy()
            up[j, i] += h
            down[j, i] -= h
            numeric = (
                gg._row_gradients(np.exp(up), x, tx, t, w)[0]
                - gg._row_gradients(np.exp(down), x, tx, t, w)[0]
            ) / (2 * h)
            assert grads[j, i] == pytest.approx(numeric, rel=1e-5, abs=1e-7), (j, i)


def test_blocks_do_not_change_the_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    x, tx, t = _histories(5, 50)
    w = np.ones(50)
    theta = THETA
    whole = gg._row_gradients(theta, x, tx, t, w)
    monkeypatch.setattr(gg, "_BLOCK", 7)
    parts = gg._row_gradients(theta, x, tx, t, w)
    assert parts[0] == pytest.approx(whole[0], rel=1e-13, abs=0.0)
    np.testing.assert_allclose(parts[1], whole[1], rtol=1e-13)


def test_one_pass_objective_equals_the_per_group_one() -> None:
    """The one-pass ``_RowProblem`` and the per-group ``_Problem`` are the same function."""
    data = _population(11, 60)
    fit = GGompertzNBD.fit(
        data, covariates=True, purchase=["income", "app"], dropout=["app"], penalty=0.01
    )
    captured: list[cov_module._Problem] = []
    original = cov_module._optimise

    def spy(problem, start, scale):  # type: ignore[no-untyped-def]
        captured.append(problem)
        return original(problem, start, scale)

    spec = GGompertzNBD.COVARIATES
    assert spec is not None
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cov_module, "_optimise", spy)
        GGompertzNBD.fit(
            data, covariates=True, purchase=["income", "app"], dropout=["app"], penalty=0.01
        )
        mp.setattr(GGompertzNBD, "COVARIATES", attrs.evolve(spec, rows=None))
        GGompertzNBD.fit(
            data, covariates=True, purchase=["income", "app"], dropout=["app"], penalty=0.01
        )
    rows, groups = captured
    assert isinstance(rows, cov_module._RowProblem)
    assert not isinstance(groups, cov_module._RowProblem)
    rng = np.random.default_rng(0)
    center = np.array(
        [
            *np.log([fit.base.params[n] for n in GGompertzNBD.PARAMS]),
            *fit.coefficients["purchase"].values(),
            *fit.coefficients["dropout"].values(),
        ]
    )
    for _ in range(4):
        p = center + rng.normal(0.0, 0.2, size=len(center))
        v1, g1, _ = rows.evaluate(p, 1)
        v2, g2, _ = groups.evaluate(p, 1)
        assert v1 == pytest.approx(v2, rel=1e-12, abs=0.0)
        np.testing.assert_allclose(g1, g2, rtol=1e-9, atol=1e-9)


def test_a_continuous_covariate_is_fitted_in_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every customer has its own covariate row; the per-group likelihood is never built
    during the fit (it was built once per customer), and the optimum is the independent
    likelihood's."""
    data = _population(7, 400)
    spec = GGompertzNBD.COVARIATES
    assert spec is not None
    calls = []

    def counting(history, w):  # type: ignore[no-untyped-def]
        calls.append(len(w))
        return spec.group(history, w)

    monkeypatch.setattr(GGompertzNBD, "COVARIATES", attrs.evolve(spec, group=counting))
    fit = GGompertzNBD.fit(data, covariates=True, purchase=["income"], dropout=["app"])
    assert calls == []
    report = fit.fit_report
    assert report.converged
    assert report.n_distinct == 400
    assert not report.at_boundary

    x, tx, t = (data[c].to_numpy(float) for c in ("frequency", "recency", "T"))

    def independent(p: np.ndarray) -> float:
        r, alpha, b, s, beta = np.exp(p[:5])
        alpha_i = alpha * np.exp(-p[5] * data["income"].to_numpy(float))
        beta_i = beta * np.exp(-p[6] * data["app"].to_numpy(float))
        return float(ggomp_loglik_rows(r, alpha_i, b, s, beta_i, x, tx, t).sum())

    est = report.estimates
    p = np.array(
        [math.log(est[n]) for n in GGompertzNBD.PARAMS]
        + [est["purchase:income"], est["dropout:app"]]
    )
    assert independent(p) == pytest.approx(report.log_likelihood, abs=1e-5)
    for i in range(len(p)):
        for step in (-1e-3, 1e-3):
            q = p.copy()
            q[i] += step
            assert independent(q) < report.log_likelihood + 1e-7, (i, step)
    # the effect's interval holds the truth (0.4 on income)
    lo, hi = report.confidence_intervals["purchase:income"]
    assert lo <= 0.4 <= hi


def test_predictions_in_one_pass_equal_the_per_group_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """P(alive) and expected purchases of customers with a continuous covariate: every row at
    its own parameters in one pass, equal to the plain model's per covariate row (the path they
    took before), table and record faces alike."""
    data = _population(3, 200)
    fit = GGompertzNBD.fit(data, covariates=True, purchase=["income"], dropout=["app"])
    calls = {
        "p_alive": lambda: fit.p_alive(data, horizon=13.0),
        "now": lambda: fit.p_alive(data),
        "expected": lambda: fit.expected_purchases(data, 26.0),
        "path": lambda: fit.predict("expected_purchases_path", data, None, [13.0, 26.0]),
        "path_kw": lambda: fit.predict("expected_purchases_path", data, times=[13.0]),
        "record": lambda: fit.expected_purchases(data.iloc[5].to_dict(), 26.0),
    }

    def no_groups(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("predicted once per covariate row")

    with monkeypatch.context() as mp:
        mp.setattr(cov_module.CovariateModel, "_groups", no_groups)
        one_pass = {k: f() for k, f in calls.items()}
    spec = GGompertzNBD.COVARIATES
    assert spec is not None
    monkeypatch.setattr(GGompertzNBD, "COVARIATES", attrs.evolve(spec, row_predictions=None))
    for key, f in calls.items():
        np.testing.assert_allclose(one_pass[key], f(), rtol=1e-12, atol=0.0, err_msg=key)
    assert isinstance(one_pass["record"], float)
    assert one_pass["path"].shape == (200, 2)


def test_log_likelihood_of_in_one_pass_is_the_fits() -> None:
    data = _population(4, 150)
    fit = GGompertzNBD.fit(data, covariates=True, purchase=["income"], dropout=["app"])
    spec = GGompertzNBD.COVARIATES
    assert spec is not None
    one_pass = fit.log_likelihood_of(data)
    assert one_pass == pytest.approx(fit.fit_report.log_likelihood, rel=1e-12, abs=0.0)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(GGompertzNBD, "COVARIATES", attrs.evolve(spec, rows=None))
        assert fit.log_likelihood_of(data) == pytest.approx(one_pass, rel=1e-12, abs=0.0)
