"""How fits end (issue 14): the best of several starts, boundary optima flagged, uncertainty that
cannot be computed reported as missing, counts float64 cannot hold refused."""

from __future__ import annotations

import contextlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from clientmodel.errors import ArgumentError, ConvergenceError, DataError
from clientmodel.ltv import BGBB, BGNBD, MBGNBD, GammaGamma, ParetoNBD
from clientmodel.ltv._fitting import maximize
from clientmodel.ltv.report import FitReport

DATA = Path(__file__).resolve().parents[1] / "data"
CDNOW = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")
COLS = {"frequency": "x", "recency": "t_x"}
# Fader, Hardie & Lee (2005), section 4: the CDNOW maximum, LL -9582.4.
PUBLISHED_LL = -9582.4


def test_overflowing_confidence_interval_does_not_escape_fit():
    # Before: OverflowError (math range error) from the interval of a near-singular fit.
    model = BGNBD.fit({"frequency": [1, 0], "recency": [10.0, 0.0], "T": [30.0, 30.0]})
    report = model.fit_report
    assert report is not None
    assert report.at_boundary
    assert all(v is None for v in report.standard_errors.values())
    assert report.uncertainty_note
    json.dumps(report.to_dict())


def test_every_start_is_tried_and_the_best_optimum_kept():
    # Before: the first start "converged" at LL -9763.66 and the second was never tried.
    model = BGNBD.fit(CDNOW, columns=COLS, starts=[[1e-12, 1e12, 1e-12, 1e12], [1, 10, 1, 1]])
    report = model.fit_report
    assert report is not None
    assert report.log_likelihood == pytest.approx(PUBLISHED_LL, abs=0.05)
    assert report.n_starts == 2
    assert report.starts_agreed == 1
    assert any("several optima" in w for w in report.warnings)
    assert not report.at_boundary


def test_default_fit_reports_how_many_starts_agreed():
    report = BGNBD.fit(CDNOW, columns=COLS).fit_report
    assert report is not None
    assert report.n_starts >= 3
    assert report.starts_agreed == report.n_starts
    assert report.warnings == ()


def test_no_dropout_is_detected_and_explained():
    # Poisson buyers with gamma rates who never leave: the BG/NBD optimum is at a/(a+b) -> 0.
    # Before: converged=True with a, b of about 1e7 and no warning.
    rng = np.random.default_rng(5)
    n, t = 3000, 52.0
    lam = rng.gamma(2.0, 1 / 8.0, size=n)
    count = rng.poisson(lam * t)
    recency = np.where(count > 0, t * rng.beta(np.maximum(count, 1), 1), 0.0)
    data = {"frequency": count, "recency": recency, "T": np.full(n, t)}
    for cls in (BGNBD, MBGNBD):
        report = cls.fit(data).fit_report
        assert report is not None
        assert report.at_boundary, cls.__name__
        assert any("no evidence of dropout" in w for w in report.warnings), report.warnings
        assert all(v is None for v in report.standard_errors.values())


def test_pareto_nbd_on_one_customer_is_flagged():
    # Before: "converged" with r, alpha, s, beta of ~1e5-1e6 and nothing said.
    report = ParetoNBD.fit({"frequency": [3], "recency": [10.0], "T": [30.0]}).fit_report
    assert report is not None
    assert report.at_boundary
    assert any("not identified" in w for w in report.warnings)


def test_interior_fit_is_not_flagged():
    data = BGNBD(r=0.25, alpha=4.0, a=0.8, b=2.5).simulate(3000, 39.0, seed=2)
    report = BGNBD.fit(data).fit_report
    assert report is not None
    assert not report.at_boundary
    assert all(v is not None and v > 0 for v in report.standard_errors.values())


def test_a_fit_that_cannot_succeed_says_what_to_try():
    def nowhere(z):
        return math.nan, None

    with pytest.raises(ConvergenceError, match="Try: a penalizer"):
        maximize(nowhere, names=["a"], starts=[[1.0], [2.0]], n_observations=10, n_distinct=10)


def _btyd_tables(max_rows: int = 40):
    row = st.tuples(
        st.integers(0, 12), st.floats(0.0, 1.0), st.sampled_from([5.0, 13.0, 30.0, 39.0])
    )

    def build(rows):
        x = np.array([r[0] for r in rows])
        t = np.array([r[2] for r in rows])
        tx = np.where(x > 0, np.array([r[1] for r in rows]) * t, 0.0)
        return {"frequency": x, "recency": tx, "T": t}

    return st.lists(row, min_size=3, max_size=max_rows).map(build)


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(table=_btyd_tables())
@pytest.mark.parametrize("cls", [BGNBD, MBGNBD, ParetoNBD])
def test_small_random_tables_fit_or_fail_clearly(cls, table):
    # Before: OverflowError on 18/40 (BG/NBD), 17/40 (MBG/NBD), 2/40 (Pareto/NBD) such tables.
    try:
        model = cls.fit(table)
    except (ConvergenceError, DataError):
        return
    report = model.fit_report
    assert report is not None
    assert math.isfinite(report.log_likelihood)
    assert FitReport.from_dict(json.loads(json.dumps(report.to_dict()))) == report


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 6)), min_size=3, max_size=30
    )
)
def test_small_random_bgbb_tables_fit_or_fail_clearly(rows):
    n = np.array([6] * len(rows))
    tx = np.array([max(r[0], r[1]) for r in rows])
    x = np.array([min(r[0], r[1]) for r in rows])
    x = np.where(tx == 0, 0, np.maximum(x, 1))
    with contextlib.suppress(ConvergenceError, DataError):
        BGBB.fit({"frequency": x, "recency": tx, "n": n})


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(rows=st.lists(st.tuples(st.integers(1, 5), st.floats(0.5, 1e4)), min_size=3, max_size=30))
def test_small_random_spend_tables_fit_or_fail_clearly(rows):
    table = {"frequency": [r[0] for r in rows], "monetary_value": [r[1] for r in rows]}
    with contextlib.suppress(ConvergenceError, DataError):
        GammaGamma.fit(table)


@pytest.mark.parametrize("value", [2**53, 1e19, 2.0**63])
@pytest.mark.parametrize("cls", [BGNBD, MBGNBD, ParetoNBD])
def test_counts_float64_cannot_hold_exactly_are_refused(cls, value):
    # Before: 1e19 passed and overflowed int64 (P(alive) 1.0, E[X] -2.4e18, Pareto NaN).
    model = {
        BGNBD: BGNBD(r=0.24, alpha=4.4, a=0.79, b=2.43),
        MBGNBD: MBGNBD(r=0.24, alpha=4.4, a=0.79, b=2.43),
        ParetoNBD: ParetoNBD(r=0.55, alpha=10.6, s=0.61, beta=11.7),
    }[cls]
    row = {"frequency": value, "recency": 1.0, "T": 2.0}
    with pytest.raises(DataError, match="2\\*\\*53") as info:
        model.p_alive(row)
    assert info.value.field == "frequency"
    with pytest.raises(DataError):
        model.expected_purchases(row, 10.0)


def test_conditional_spend_with_q_below_one_matches_quadrature():
    # Posterior mean of p / nu with nu's prior Gamma(q=0.7, rate 10): finite once p x + q > 1.
    p, q, g, x, zbar = 2.0, 0.7, 10.0, 2, 30.0
    model = GammaGamma(p=p, q=q, gamma=g)

    def joint(nu):
        return stats.gamma.pdf(zbar, p * x, scale=1 / (nu * x)) * stats.gamma.pdf(
            nu, q, scale=1 / g
        )

    norm = integrate.quad(joint, 0, np.inf, epsrel=1e-11, limit=200)[0]
    mean = integrate.quad(lambda nu: p / nu * joint(nu), 0, np.inf, epsrel=1e-11, limit=200)[0]
    value = model.expected_spend({"frequency": x, "monetary_value": zbar})
    assert value == pytest.approx(mean / norm, rel=1e-7)


def test_huge_amounts_give_an_error_not_inf():
    # Before: expected spend inf (and a RuntimeWarning) from a mean spend of 1e308.
    model = GammaGamma(p=6.25, q=3.74, gamma=15.44)
    with pytest.raises(DataError, match="overflows") as info:
        model.expected_spend({"frequency": [1, 3], "monetary_value": [10.0, 1e308]})
    assert info.value.rows == (1,)
    assert info.value.field == "monetary_value"
    assert math.isfinite(model.expected_spend({"frequency": 3, "monetary_value": 1e300}))


def test_text_weights_are_a_data_error_naming_the_rows():
    # Before: ValueError "could not convert string to float: 'a'".
    table = {"frequency": [1, 0], "recency": [10.0, 0.0], "T": [30.0, 30.0]}
    with pytest.raises(DataError, match="not numbers") as info:
        BGNBD.fit(table, weights=["a", "b"])
    assert info.value.field == "weights"
    assert info.value.rows == (0, 1)
    with pytest.raises(DataError, match="missing"):
        BGNBD.fit(table, weights="a b")  # a column name that is not there
    with pytest.raises(ArgumentError) as info:
        BGNBD.fit(table, weights=5)
    assert info.value.field == "weights"


def _model_dicts():
    from clientmodel.ltv import model_classes

    for name, cls in model_classes().items():
        yield name, cls, cls(**cls.EXAMPLE).to_dict()


@pytest.mark.parametrize(("name", "cls", "good"), list(_model_dicts()))
def test_model_from_dict_names_the_key_path(name, cls, good):
    first = cls.PARAMS[0]
    cases = [
        ({**good, "params": {**good["params"], first: "x"}}, f"{name}.params.{first}"),
        ({**good, "params": [1, 2]}, f"{name}.params"),
        ({k: v for k, v in good.items() if k != "params"}, f"{name}.params"),
        ({**good, "params": {**good["params"], first: -1.0}}, f"{name}.params.{first}"),
        ({**good, "fit_report": {"log_likelihood": 1.0}}, f"{name}.fit_report"),
        ({**good, "fit_report": [1]}, f"{name}.fit_report"),
        ([1], name),
    ]
    for data, field in cases:
        with pytest.raises(ArgumentError) as info:
            cls.from_dict(data)
        assert str(info.value.field).startswith(field), (data, info.value.field)


def test_fit_report_from_dict_names_the_key_path():
    report = BGNBD.fit(CDNOW, columns=COLS).fit_report.to_dict()
    cases = [
        ({**report, "log_likelihood": "high"}, "fit_report.log_likelihood"),
        ({**report, "estimates": [1]}, "fit_report.estimates"),
        ({**report, "estimates": {"r": "x"}}, "fit_report.estimates.r"),
        ({**report, "confidence_intervals": {"r": [1.0]}}, "fit_report.confidence_intervals.r"),
        ({**report, "warnings": "boo"}, "fit_report.warnings"),
        ({k: v for k, v in report.items() if k != "method"}, "fit_report.method"),
    ]
    for data, field in cases:
        with pytest.raises(ArgumentError) as info:
            FitReport.from_dict(data)
        assert str(info.value.field).startswith(field), (data, info.value.field)


def test_diagnostic_results_from_dict_name_the_key_path():
    from clientmodel.ltv.diagnostics import Tracking, frequency_histogram

    hist = frequency_histogram(BGNBD(**BGNBD.EXAMPLE), CDNOW, columns=COLS, max_n=4).to_dict()
    name = "FrequencyHistogram"
    from clientmodel.ltv.diagnostics import FrequencyHistogram

    cases = [
        ({**hist, "chi_square": "big"}, f"{name}.chi_square"),
        ({**hist, "observed": "many"}, f"{name}.observed"),
        ({**hist, "observed": [1.0, "x"]}, f"{name}.observed"),
        ({**hist, "observed": [1.0]}, name),  # lengths disagree
        ({k: v for k, v in hist.items() if k != "n"}, f"{name}.n"),
        ([1], name),
    ]
    for data, field in cases:
        with pytest.raises(ArgumentError) as info:
            FrequencyHistogram.from_dict(data)
        assert str(info.value.field).startswith(field), (data, info.value.field)
    with pytest.raises(ArgumentError):
        Tracking.from_dict(
            {"times": [1.0], "actual_cumulative": {"a": 1}, "expected_cumulative": []}
        )
