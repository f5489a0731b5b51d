"""Shifted-beta-geometric: golden values from Fader & Hardie (2007), independent sums and
quadrature, the homogeneous limit of Fader & Hardie (2010), simulation, properties and
robustness."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special, stats

from clientmodel.errors import ArgumentError, DataError
from clientmodel.ltv import ShiftedBetaGeometric as PublicSBG
from clientmodel.ltv.sbg import ShiftedBetaGeometric, _sbg_loglik

DATA = Path(__file__).resolve().parents[1] / "data"


def _retention_table() -> dict[str, list[int]]:
    """Fader & Hardie (2007), Table 1: customers still active at the start of years 0..7 of two
    cohorts of 1000 ("regular" and "high end"), the calibration data of the paper."""
    with (DATA / "retention_fader_hardie_2007.csv").open() as fh:
        rows = list(csv.DictReader(row for row in fh if not row.startswith("#")))
    return {name: [int(r[name]) for r in rows] for name in ("regular", "high_end")}


TABLE = _retention_table()
REGULAR = TABLE["regular"]
HIGH_END = TABLE["high_end"]


def test_data_file_is_the_paper_table():
    assert REGULAR == [1000, 631, 468, 382, 326, 289, 262, 241]
    assert HIGH_END == [1000, 869, 743, 653, 593, 551, 517, 491]


@pytest.mark.parametrize(
    ("cohort", "alpha", "beta"),
    [("regular", 0.704, 1.182), ("high_end", 0.668, 3.806)],
)
def test_estimates_match_fader_hardie_2007(cohort, alpha, beta):
    # Fader & Hardie (2007), "How to project customer retention", estimates on years 1-7:
    # regular alpha = 0.704, beta = 1.182; high end alpha = 0.668, beta = 3.806.
    m = ShiftedBetaGeometric.fit(TABLE[cohort])
    assert m.alpha == pytest.approx(alpha, abs=6e-4)
    assert m.beta == pytest.approx(beta, abs=6e-4)
    report = m.fit_report
    assert report.converged
    assert report.n_observations == 1000
    for name in m.PARAMS:
        low, high = report.confidence_intervals[name]
        assert low < m.params[name] < high
    # the log-likelihood, written out by hand from the paper's eq. (3)-(4)
    counts = np.array(TABLE[cohort], dtype=float)
    t = np.arange(1, len(counts))
    a, b = m.alpha, m.beta
    by_hand = np.dot(
        counts[:-1] - counts[1:],
        special.betaln(a + 1, b + t - 1) - special.betaln(a, b),
    ) + counts[-1] * (special.betaln(a, b + t[-1]) - special.betaln(a, b))
    assert m.log_likelihood == pytest.approx(by_hand, rel=1e-12)


def test_survival_and_retention_by_quadrature():
    m = ShiftedBetaGeometric(alpha=0.704, beta=1.182)
    # S(t) = E[(1 - theta)^t], r(t) = S(t) / S(t - 1), P(T = t) = E[theta (1 - theta)^(t - 1)]
    for t in (0, 1, 2, 7, 30):
        s = integrate.quad(lambda th, t=t: (1 - th) ** t * stats.beta.pdf(th, 0.704, 1.182), 0, 1)
        assert m.survival(t) == pytest.approx(s[0], rel=1e-7)
    for t in (1, 4, 12):
        assert m.retention_rate(t) == pytest.approx(m.survival(t) / m.survival(t - 1), rel=1e-12)
        assert m.churn_probability(t) == pytest.approx(m.survival(t - 1) - m.survival(t), rel=1e-10)
    np.testing.assert_allclose(
        m.expected_survivors(1000, 7), 1000 * np.asarray(m.survival(np.arange(8))), rtol=1e-14
    )
    # retention rises with tenure (the sorting effect), towards 1
    rates = m.retention_rate(np.arange(1, 50))
    assert np.all(np.diff(rates) > 0)
    assert rates[-1] < 1


def _del_by_sum(m, d, start=0, terms=4000):
    """Sum_{t >= start+1} S(t)/S(start) / (1+d)^(t-start-1) term by term (independent of the
    model's series code: S from betaln directly)."""
    t = np.arange(start + 1, start + 1 + terms)
    s = np.exp(special.betaln(m.alpha, m.beta + t) - special.betaln(m.alpha, m.beta + start))
    return float(np.sum(s * np.exp(-(t - start - 1) * math.log1p(d))))


@pytest.mark.parametrize(("alpha", "beta"), [(0.704, 1.182), (0.668, 3.806), (3.0, 9.0)])
def test_derl_and_del_equal_direct_sums(alpha, beta):
    m = ShiftedBetaGeometric(alpha=alpha, beta=beta)
    for d in (0.05, 0.1, 0.25):
        # DEL = sum_{t>=0} S(t)/(1+d)^t = 1 + sum_{t>=1} ... (payment at time 0 included)
        assert m.discounted_expected_lifetime(d) == pytest.approx(
            1 + _del_by_sum(m, d) / (1 + d), rel=1e-10
        )
        for k in (0, 1, 4, 10):
            assert m.derl({"renewals": k}, d) == pytest.approx(_del_by_sum(m, d, k), rel=1e-10)


def test_derl_hypergeometric_form_of_fader_hardie_2010():
    # FH 2010 eq. 6 with n - 1 = k renewals, against scipy's hyp2f1 where it is accurate.
    m = ShiftedBetaGeometric(alpha=3.0, beta=9.0)
    d, k = 0.1, 2
    by_formula = (
        (m.beta + k)
        / (m.alpha + m.beta + k)
        * special.hyp2f1(1, m.beta + k + 1, m.alpha + m.beta + k + 1, 1 / (1 + d))
    )
    assert m.derl({"renewals": k}, d) == pytest.approx(by_formula, rel=1e-9)


def test_derl_homogeneous_limit():
    # FH 2010: with no heterogeneity (theta fixed, here Beta with huge alpha + beta) the DERL is
    # the textbook r (1 + d) / (1 + d - r), r = 1 - theta, whatever the tenure.
    theta, d = 0.2, 0.1
    m = ShiftedBetaGeometric(alpha=theta * 1e7, beta=(1 - theta) * 1e7)
    r = 1 - theta
    for k in (0, 5):
        assert m.derl({"renewals": k}, d) == pytest.approx(r * (1 + d) / (1 + d - r), rel=1e-5)
    # and with heterogeneity the residual value grows with tenure (sorting effect)
    het = ShiftedBetaGeometric(alpha=0.704, beta=1.182)
    values = het.derl({"renewals": list(range(10))}, 0.1)
    assert np.all(np.diff(values) > 0)


def test_expected_lifetime():
    m = ShiftedBetaGeometric(alpha=3.0, beta=6.0)
    assert m.expected_lifetime() == pytest.approx(_del_by_sum(m, 0.0, terms=2_000_000) + 1, 1e-6)
    assert m.discounted_expected_lifetime(0.0) == pytest.approx(m.expected_lifetime())
    with pytest.raises(ArgumentError, match="infinite"):
        ShiftedBetaGeometric(alpha=0.704, beta=1.182).expected_lifetime()
    with pytest.raises(ArgumentError, match="infinite"):
        ShiftedBetaGeometric(alpha=0.704, beta=1.182).discounted_expected_lifetime(0.0)


def test_tenure_table_fit_equals_count_fit():
    from_counts = ShiftedBetaGeometric.fit(REGULAR)
    counts = np.array(REGULAR)
    rows = pd.DataFrame(
        {
            "renewals": [*range(7), 7],
            "churned": [True] * 7 + [False],
            "n": [*(counts[:-1] - counts[1:]), counts[-1]],
        }
    )
    from_rows = ShiftedBetaGeometric.fit_tenures(rows, weights="n")
    assert from_rows.params == pytest.approx(from_counts.params, rel=1e-9)
    expanded = rows.loc[rows.index.repeat(rows["n"])].drop(columns="n").reset_index(drop=True)
    from_customers = ShiftedBetaGeometric.fit_tenures(expanded)
    assert from_customers.params == pytest.approx(from_counts.params, rel=1e-7)
    assert from_counts.log_likelihood_of(REGULAR) == pytest.approx(
        from_counts.log_likelihood_of_tenures(expanded)
    )
    # renamed columns and polars
    pl = pytest.importorskip("polars")
    renamed = pl.from_pandas(expanded.rename(columns={"renewals": "k", "churned": "gone"}))
    again = ShiftedBetaGeometric.fit_tenures(renamed, columns={"renewals": "k", "churned": "gone"})
    assert again.params == pytest.approx(from_counts.params, rel=1e-7)


def test_several_cohorts_fit_jointly():
    both = ShiftedBetaGeometric.fit([REGULAR, HIGH_END[:5]])
    named = ShiftedBetaGeometric.fit({"a": REGULAR, "b": HIGH_END[:5]})
    assert both.params == pytest.approx(named.params, rel=1e-12)
    total = ShiftedBetaGeometric(**both.params).log_likelihood_of(REGULAR) + ShiftedBetaGeometric(
        **both.params
    ).log_likelihood_of(HIGH_END[:5])
    assert both.log_likelihood == pytest.approx(total, rel=1e-12)


def test_gradient_matches_finite_differences():
    r = np.array([0, 1, 2, 3, 7, 0, 4], dtype=float)
    c = np.array([1, 1, 1, 1, 0, 0, 0], dtype=float)
    w = np.array([369, 163, 86, 56, 241, 10, 3], dtype=float)
    for theta in ([0.704, 1.182], [5.0, 0.3]):
        z = np.log(theta)
        _, grad = _sbg_loglik(np.exp(z), r, c, w)
        h = 1e-6
        numeric = [
            (
                _sbg_loglik(np.exp(z + h * e), r, c, w, False)[0]
                - _sbg_loglik(np.exp(z - h * e), r, c, w, False)[0]
            )
            / (2 * h)
            for e in np.eye(2)
        ]
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-5)


def test_simulation_matches_the_curve_and_recovers_parameters():
    true = ShiftedBetaGeometric(alpha=0.704, beta=1.182)
    counts = true.simulate_cohort(200_000, 10, seed=1)
    np.testing.assert_allclose(counts / 200_000, true.survival(np.arange(11)), atol=0.004)
    sim = true.simulate(20_000, 10, seed=2)
    fitted = ShiftedBetaGeometric.fit_tenures(sim)
    for name, value in true.params.items():
        low, high = fitted.fit_report.confidence_intervals[name]
        se = fitted.fit_report.standard_errors[name]
        assert low - se < value < high + se, (name, value, low, high)
    # conditional retention of simulated survivors matches p_retained
    survivors = ~sim["churned"]
    assert survivors.mean() == pytest.approx(true.survival(10), abs=0.01)


def test_current_customer_predictions():
    m = ShiftedBetaGeometric(alpha=0.704, beta=1.182)
    table = {"renewals": [0, 3, 3, 6], "churned": [False, False, True, False]}
    kept = m.p_retained(table)
    assert kept[2] == 0.0
    assert m.derl(table, 0.1)[2] == 0.0
    assert kept[1] == pytest.approx(m.retention_rate(4), rel=1e-12)
    assert kept[3] == pytest.approx(m.retention_rate(7), rel=1e-12)
    two = m.p_retained({"renewals": 3}, horizon=2)
    assert two == pytest.approx(m.survival(5) / m.survival(3), rel=1e-12)
    assert m.churn_risk({"renewals": 3}, horizon=2) == pytest.approx(1 - two)
    assert m.p_retained({"renewals": 3}, horizon=0) == 1.0


def test_json_round_trip_keeps_everything():
    m = ShiftedBetaGeometric.fit(HIGH_END)
    again = ShiftedBetaGeometric.from_dict(json.loads(json.dumps(m.to_dict())))
    assert again == m
    assert again.fit_report == m.fit_report
    assert PublicSBG is ShiftedBetaGeometric


def test_bad_input_is_named():
    with pytest.raises(DataError, match=r"increases at period\(s\) \[3\]") as info:
        ShiftedBetaGeometric.fit([1000, 631, 468, 500, 326])
    assert info.value.rows == (3,)
    with pytest.raises(DataError, match="cohort 1"):
        ShiftedBetaGeometric.fit([REGULAR, [100, 90, 95]])
    with pytest.raises(DataError, match="period 2"):
        ShiftedBetaGeometric.fit([1000, 631, 468.5, 382])
    with pytest.raises(DataError, match="period 1"):
        ShiftedBetaGeometric.fit([1000, -5])
    with pytest.raises(DataError, match="n_0"):
        ShiftedBetaGeometric.fit([0, 0, 0])
    with pytest.raises(DataError, match="at least"):
        ShiftedBetaGeometric.fit([1000])
    with pytest.raises(DataError, match="empty"):
        ShiftedBetaGeometric.fit([])
    with pytest.raises(DataError, match="sequence"):
        ShiftedBetaGeometric.fit("1000, 600")
    with pytest.raises(DataError, match="no customer cancelled"):
        ShiftedBetaGeometric.fit([1000, 1000, 1000])
    with pytest.raises(DataError, match="first renewal"):
        ShiftedBetaGeometric.fit([1000, 0])
    with pytest.raises(DataError, match="churned") as info:
        ShiftedBetaGeometric.fit_tenures({"renewals": [1, 2, 3], "churned": [1, 2, 0]})
    assert info.value.rows == (1,)
    with pytest.raises(DataError, match="negative"):
        ShiftedBetaGeometric(alpha=1.0, beta=1.0).derl({"renewals": [1, -2]}, 0.1)
    with pytest.raises(DataError, match="churned"):
        ShiftedBetaGeometric.fit_tenures({"renewals": [1, 2]})
    m = ShiftedBetaGeometric(alpha=1.0, beta=1.0)
    for call in (
        lambda: m.survival(1.5),
        lambda: m.retention_rate(0),
        lambda: m.churn_probability([1, 0]),
        lambda: m.expected_survivors(-1, 3),
        lambda: m.derl({"renewals": 1}, -0.1),
        lambda: m.p_retained({"renewals": 1}, horizon=-1),
        lambda: m.simulate(0, 3),
    ):
        with pytest.raises(ArgumentError):
            call()


params_st = st.tuples(st.floats(0.02, 200.0), st.floats(0.02, 200.0))


@settings(max_examples=80, deadline=None)
@given(params_st, st.integers(0, 500), st.integers(1, 50), st.floats(0.01, 2.0))
def test_invariants(params, k, h, rate):
    m = ShiftedBetaGeometric(alpha=params[0], beta=params[1])
    s = np.asarray(m.survival([k, k + 1, k + h]))
    assert np.all((s >= 0) & (s <= 1))
    assert s[0] >= s[1] >= s[2]
    assert m.retention_rate(k + 1) <= m.retention_rate(k + 2)
    rec = {"renewals": k}
    kept = m.p_retained(rec, horizon=h)
    assert 0 <= kept <= 1
    derl = m.derl(rec, rate)
    assert math.isfinite(derl)
    # between the value of one more payment and a customer who never leaves
    assert m.p_retained(rec) * (1 - 1e-12) <= derl <= (1 + rate) / rate * (1 + 1e-12)
    table = {"renewals": [k, k]}
    np.testing.assert_allclose(m.derl(table, rate), [derl, derl], rtol=1e-14)
    np.testing.assert_allclose(m.p_retained(table, horizon=h), [kept, kept], rtol=1e-14)


@settings(max_examples=50, deadline=None)
@given(params_st)
def test_to_dict_round_trip_is_exact(params):
    m = ShiftedBetaGeometric(alpha=params[0], beta=params[1])
    assert ShiftedBetaGeometric.from_dict(json.loads(json.dumps(m.to_dict()))) == m
