"""Gamma-gamma spend model: golden values from Fader & Hardie (2013), independent integrals,
simulation, properties and robustness."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from clientmodel.errors import ArgumentError, DataError
from clientmodel.ltv import GammaGamma as PublicGammaGamma
from clientmodel.ltv.gamma_gamma import GammaGamma, _gg_loglik, frequency_spend_correlation

DATA = Path(__file__).resolve().parents[1] / "data"
CDNOW = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")
COLS = {"frequency": "x", "monetary_value": "zbar"}
# Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value" (note), CDNOW 1/10th sample,
# 39-week calibration period: p = 6.25, q = 3.74, gamma = 15.44.
PUBLISHED = GammaGamma(p=6.25, q=3.74, gamma=15.44)


def _cdnow_from_raw() -> pd.DataFrame:
    """Mean repeat-purchase value per customer, straight from the transaction log.

    The calibration period is 1997-01-01 .. 1997-09-30 (39 weeks); purchases on the same day are
    one transaction; the first purchase is not a repeat one. Unlike the summary CSV, whose zbar is
    rounded to cents, this keeps the exact means the note was estimated on.
    """
    raw = pd.read_csv(
        DATA / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "id", "date", "cds", "value"],
    )
    raw["date"] = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
    cal = raw[raw["date"] <= pd.Timestamp("1997-09-30")]
    daily = cal.groupby(["id", "date"], as_index=False)["value"].sum()
    first = daily.groupby("id")["date"].transform("min")
    repeat = daily[daily["date"] > first].groupby("id")["value"].agg(["count", "mean"])
    return repeat.rename(columns={"count": "frequency", "mean": "monetary_value"}).reset_index()


@pytest.fixture(scope="module")
def raw_fit() -> GammaGamma:
    return GammaGamma.fit(_cdnow_from_raw())


def test_cdnow_estimates_match_fader_hardie_2013(raw_fit):
    # Fader & Hardie (2013) note: p = 6.25, q = 3.74, gamma = 15.44 (printed to 2 decimals).
    assert round(raw_fit.p, 2) == 6.25
    assert round(raw_fit.q, 2) == 3.74
    assert round(raw_fit.gamma, 2) == 15.44
    report = raw_fit.fit_report
    assert report.converged
    assert report.n_observations == 946  # CDNOW customers with a repeat purchase in 39 weeks
    for name in PUBLISHED.PARAMS:
        low, high = report.confidence_intervals[name]
        assert low < raw_fit.params[name] < high


def test_cdnow_summary_csv_gives_the_same_estimates_up_to_cent_rounding():
    # The CSV's zbar is rounded to cents, which moves gamma by about 0.004 (15.448 vs 15.444).
    fitted = GammaGamma.fit(CDNOW, columns=COLS)  # frequency-0 rows are in the table
    assert fitted.fit_report.n_observations == 946
    for name, value in PUBLISHED.params.items():
        assert fitted.params[name] == pytest.approx(value, abs=0.01), name


def test_cdnow_correlation_of_frequency_and_spend_is_small():
    # Fader & Hardie (2013) report a correlation of 0.11 between the number of repeat
    # transactions and their average value on CDNOW: the independence assumption is tenable.
    assert round(frequency_spend_correlation(CDNOW, columns=COLS), 2) == 0.11
    assert frequency_spend_correlation(_cdnow_from_raw(), method="spearman") > 0


def test_expected_spend_is_the_notes_weighted_average():
    # Fader & Hardie (2013), eq. 5 by hand for CDNOW customer 1 (x = 2, zbar = 22.35): a weighted
    # average of the population mean p gamma / (q - 1) and the customer's own mean.
    p, q, g = 6.25, 3.74, 15.44
    weight = (q - 1) / (p * 2 + q - 1)
    by_hand = weight * p * g / (q - 1) + (1 - weight) * 22.35
    assert PUBLISHED.expected_spend({"frequency": 2, "monetary_value": 22.35}) == pytest.approx(
        by_hand, rel=1e-12
    )
    assert PUBLISHED.expected_spend_new() == pytest.approx(p * g / (q - 1), rel=1e-12)
    # frequency 0: the population mean, whatever the monetary_value column says
    out = PUBLISHED.expected_spend({"frequency": [0, 0], "monetary_value": [0.0, 99.0]})
    np.testing.assert_allclose(out, p * g / (q - 1), rtol=1e-12)


def _likelihood_integral(x, zbar, p, q, g):
    # f(zbar | x) = integral of Gamma(zbar; shape p x, rate nu x) * Gamma(nu; shape q, rate g)
    def f(nu):
        return stats.gamma.pdf(zbar, p * x, scale=1 / (nu * x)) * stats.gamma.pdf(
            nu, q, scale=1 / g
        )

    return integrate.quad(f, 0, np.inf, epsabs=0, epsrel=1e-10, limit=200)[0]


@pytest.mark.parametrize(("x", "zbar"), [(1, 12.0), (2, 22.35), (7, 80.0)])
def test_likelihood_equals_numerical_mixture_integral(x, zbar):
    ll = PUBLISHED.log_likelihood_of({"frequency": x, "monetary_value": zbar})
    assert math.exp(ll) == pytest.approx(_likelihood_integral(x, zbar, 6.25, 3.74, 15.44), 1e-7)


@pytest.mark.parametrize(("x", "zbar"), [(1, 12.0), (4, 60.0)])
def test_expected_spend_equals_posterior_mean_by_quadrature(x, zbar):
    # E[p / nu | x, zbar] with the posterior density of nu proportional to likelihood x prior.
    p, q, g = 6.25, 3.74, 15.44

    def joint(nu):
        return stats.gamma.pdf(zbar, p * x, scale=1 / (nu * x)) * stats.gamma.pdf(
            nu, q, scale=1 / g
        )

    norm = integrate.quad(joint, 0, np.inf, epsrel=1e-11, limit=200)[0]
    mean = integrate.quad(lambda nu: p / nu * joint(nu), 0, np.inf, epsrel=1e-11, limit=200)[0]
    value = PUBLISHED.expected_spend({"frequency": x, "monetary_value": zbar})
    assert value == pytest.approx(mean / norm, rel=1e-7)


def test_gradient_matches_finite_differences():
    data = _cdnow_from_raw()
    x = data["frequency"].to_numpy(float)
    z = data["monetary_value"].to_numpy(float)
    w = np.ones(len(x))
    for theta in ([6.25, 3.74, 15.44], [0.7, 1.3, 250.0]):
        zlog = np.log(theta)
        _, grad = _gg_loglik(np.exp(zlog), x, z, w)
        h = 1e-6
        numeric = [
            (
                _gg_loglik(np.exp(zlog + h * e), x, z, w, False)[0]
                - _gg_loglik(np.exp(zlog - h * e), x, z, w, False)[0]
            )
            / (2 * h)
            for e in np.eye(3)
        ]
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-4)


def test_simulation_matches_the_model():
    sim = PUBLISHED.simulate(200_000, 1, seed=3)
    # One transaction: z ~ Gamma(p, nu) with nu ~ Gamma(q, gamma): mean p gamma / (q - 1).
    assert sim["monetary_value"].mean() == pytest.approx(PUBLISHED.expected_spend_new(), rel=0.02)
    # Median of a single transaction value: compare with the CDF of the mixture (a scaled beta
    # prime: z gamma^-1 ~ BetaPrime(p, q)), an independent closed form.
    median = float(np.median(sim["monetary_value"]))
    assert stats.betaprime.cdf(median / 15.44, 6.25, 3.74) == pytest.approx(0.5, abs=0.005)


def test_conditional_expectation_matches_simulation():
    # Simulate history + one future transaction per customer; the average future value among
    # customers with a given history band matches the conditional expectation.
    rng = np.random.default_rng(8)
    m = PUBLISHED
    n = 200_000
    nu = rng.gamma(m.q, 1 / m.gamma, size=n)
    x = rng.integers(1, 6, size=n)
    zbar = rng.gamma(m.p * x, 1 / (x * nu))
    future = rng.gamma(m.p, 1 / nu)
    predicted = m.expected_spend({"frequency": x, "monetary_value": zbar})
    for band in (zbar < 20, (zbar >= 20) & (zbar < 40), zbar >= 60):
        assert predicted[band].mean() == pytest.approx(future[band].mean(), rel=0.03)


def test_parameter_recovery_from_simulated_data():
    true = GammaGamma(p=4.0, q=5.0, gamma=30.0)
    freq = np.random.default_rng(1).integers(1, 12, size=6000)
    fitted = GammaGamma.fit(true.simulate(6000, freq, seed=2))
    for name, value in true.params.items():
        low, high = fitted.fit_report.confidence_intervals[name]
        se = fitted.fit_report.standard_errors[name]
        assert low - se < value < high + se, (name, value, low, high)


def test_frequency_zero_rows_do_not_change_the_fit():
    data = _cdnow_from_raw().head(300)
    zeros = pd.DataFrame({"frequency": [0] * 50, "monetary_value": [0.0] * 50})
    a = GammaGamma.fit(data)
    b = GammaGamma.fit(pd.concat([data, zeros], ignore_index=True))
    assert a.params == pytest.approx(b.params, rel=1e-9)
    assert b.fit_report.n_observations == 300
    assert a.log_likelihood_of(data) == pytest.approx(a.log_likelihood_of(pd.concat([data, zeros])))


def test_weights_and_table_kinds():
    data = _cdnow_from_raw()
    data["monetary_value"] = data["monetary_value"].round(0)  # create repeated rows
    grouped = data.groupby(["frequency", "monetary_value"]).size().reset_index(name="count")
    a = GammaGamma.fit(data)
    b = GammaGamma.fit(grouped, weights="count")
    c = GammaGamma.fit(grouped, weights=grouped["count"].to_numpy())
    assert a.params == pytest.approx(b.params, rel=1e-7)
    assert b.params == pytest.approx(c.params, rel=1e-12)
    assert b.fit_report.n_observations == len(data)
    pl = pytest.importorskip("polars")
    out = PUBLISHED.expected_spend(pl.from_pandas(CDNOW.head(5)), columns=COLS)
    assert isinstance(out, np.ndarray)
    assert out.shape == (5,)


def test_json_round_trip_keeps_everything(raw_fit):
    again = GammaGamma.from_dict(json.loads(json.dumps(raw_fit.to_dict())))
    assert again == raw_fit
    assert again.fit_report == raw_fit.fit_report
    assert PublicGammaGamma is GammaGamma
    with pytest.raises(ArgumentError):
        GammaGamma.from_dict({**raw_fit.to_dict(), "model": "BGNBD"})


def test_q_at_most_one_refuses_only_the_infinite_means():
    # The posterior of nu is Gamma(p x + q, gamma + x zbar): E[p / nu] is finite iff p x + q > 1.
    heavy = GammaGamma(p=2.0, q=0.9, gamma=10.0)
    value = heavy.expected_spend({"frequency": 3, "monetary_value": 20.0})
    assert value == pytest.approx(2.0 * (10.0 + 3 * 20.0) / (2.0 * 3 + 0.9 - 1.0), rel=1e-12)
    with pytest.raises(DataError, match="infinite") as info:
        heavy.expected_spend({"frequency": [3, 0], "monetary_value": [20.0, 0.0]})
    assert info.value.rows == (1,)
    with pytest.raises(ArgumentError, match="infinite"):
        GammaGamma(p=2.0, q=1.0, gamma=10.0).expected_spend_new()
    # The likelihood is still defined (fitting data with a very heavy tail is allowed).
    assert math.isfinite(heavy.log_likelihood_of({"frequency": 3, "monetary_value": 20.0}))


def test_bad_input_names_the_rows():
    with pytest.raises(DataError, match="monetary_value") as info:
        GammaGamma.fit({"frequency": [1, 2, 3], "monetary_value": [10.0, 0.0, -5.0]})
    assert info.value.rows == (1, 2)
    with pytest.raises(DataError, match="negative"):
        PUBLISHED.expected_spend({"frequency": [1, -2], "monetary_value": [10.0, 5.0]})
    with pytest.raises(DataError, match="non-integer"):
        PUBLISHED.expected_spend({"frequency": [1, 2.5], "monetary_value": [10.0, 5.0]})
    with pytest.raises(DataError, match="repeat"):
        GammaGamma.fit({"frequency": [0, 0], "monetary_value": [0.0, 0.0]})
    with pytest.raises(DataError, match="weights"):
        GammaGamma.fit({"frequency": [1, 2], "monetary_value": [1.0, 2.0]}, weights=[1.0, -1.0])
    with pytest.raises(ArgumentError, match="weights"):
        GammaGamma.fit({"frequency": [1, 2], "monetary_value": [1.0, 2.0]}, weights=[1.0])
    with pytest.raises(DataError):
        GammaGamma.fit({"frequency": [1, 2], "monetary_value": [1.0, 2.0]}, weights="missing")
    with pytest.raises(ArgumentError, match="gamma"):
        GammaGamma(p=1.0, q=2.0, gamma=0.0)
    with pytest.raises(ArgumentError, match="frequency"):
        PUBLISHED.simulate(3, [1, 2.5, 1])
    with pytest.raises(ArgumentError, match="method"):
        frequency_spend_correlation(CDNOW, columns=COLS, method="kendall")
    with pytest.raises(DataError, match="3 repeat buyers"):
        frequency_spend_correlation({"frequency": [1, 2], "monetary_value": [3.0, 4.0]})


params_st = st.tuples(st.floats(0.05, 50.0), st.floats(1.01, 50.0), st.floats(0.01, 1e4))
history_st = st.tuples(st.integers(0, 50_000), st.floats(1e-3, 1e6))


@settings(max_examples=80, deadline=None)
@given(params_st, history_st)
def test_expected_spend_is_a_finite_shrinkage_and_faces_agree(params, history):
    m = GammaGamma(p=params[0], q=params[1], gamma=params[2])
    x, zbar = history
    rec = {"frequency": x, "monetary_value": zbar if x > 0 else 0.0}
    value = m.expected_spend(rec)
    assert math.isfinite(value)
    assert value > 0
    if x > 0:
        # between the population mean and the customer's own mean
        lo, hi = sorted((m.expected_spend_new(), zbar))
        assert lo * (1 - 1e-12) <= value <= hi * (1 + 1e-12)
        assert math.isfinite(m.log_likelihood_of(rec))
    table = {k: [v, v] for k, v in rec.items()}
    np.testing.assert_allclose(m.expected_spend(table), [value, value], rtol=1e-14)


@settings(max_examples=50, deadline=None)
@given(params_st)
def test_to_dict_round_trip_is_exact(params):
    m = GammaGamma(p=params[0], q=params[1], gamma=params[2])
    assert GammaGamma.from_dict(json.loads(json.dumps(m.to_dict()))) == m


def test_penalizer_shrinks_parameters(raw_fit):
    shrunk = GammaGamma.fit(_cdnow_from_raw(), penalizer=0.01)
    assert sum(v**2 for v in shrunk.params.values()) < sum(v**2 for v in raw_fit.params.values())


def test_extreme_values_stay_finite():
    m = PUBLISHED
    rows = {"frequency": [1, 50_000, 3, 2], "monetary_value": [1e-6, 1e7, 1e9, 0.01]}
    out = m.expected_spend(rows)
    assert np.all(np.isfinite(out))
    assert np.all(out > 0)
    assert math.isfinite(m.log_likelihood_of(rows))
    # beta-prime identity: gamma-gamma with x = 1 is a scaled beta prime distribution.
    ll = m.log_likelihood_of({"frequency": 1, "monetary_value": 30.0})
    assert ll == pytest.approx(math.log(stats.betaprime.pdf(30.0 / 15.44, 6.25, 3.74) / 15.44))
