"""CLV: checks against hand-derived closed forms of simple purchase processes, properties, and the
BG/NBD and Pareto/NBD models."""

from __future__ import annotations

import math
import runpy
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate
from tests.ltv.standins import StandIn

from clientmodel.errors import ArgumentError, ClientModelError
from clientmodel.ltv.bgnbd import BGNBD
from clientmodel.ltv.clv import (
    _continuous_numeric,
    clv,
    clv_table,
    discount_factor,
    discounted_purchases,
)
from clientmodel.ltv.contract import SpendModel
from clientmodel.ltv.gamma_gamma import GammaGamma
from clientmodel.ltv.mbgnbd import MBGNBD
from clientmodel.ltv.pareto_nbd import ParetoNBD, _pareto_dert

DATA = Path(__file__).resolve().parents[1] / "data"
CDNOW = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")
CDNOW_COLUMNS = {"frequency": "x", "recency": "t_x", "monetary_value": "zbar"}
WEEKS_PER_YEAR = 365.2425 / 7
# Published estimates, Fader, Hardie & Lee (2005) "Counting your customers the easy way" (BG/NBD)
# and "RFM and CLV" (Pareto/NBD), both on the CDNOW calibration data in weeks.
BG = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
PARETO = ParetoNBD(r=0.5533, alpha=10.5776, s=0.6061, beta=11.6650)


def _rows(summary):
    return len(next(iter(summary.values())))


def _is_record(summary):
    return all(np.ndim(v) == 0 for v in summary.values())


class _Poisson(StandIn):
    """Stand-in model: buys at a constant rate ``lam`` forever, so E X(T, T + t) = lam t."""

    def __init__(self, lam):
        self.lam = lam

    def expected_purchases(self, summary, t, *, columns=None):
        if _is_record(summary):
            return self.lam * t
        return np.full(_rows(summary), self.lam * t)

    def p_alive(self, summary, *, horizon=0.0, columns=None):
        return 1.0 if _is_record(summary) else np.ones(_rows(summary))


Poisson = _Poisson


class _ExponentialLife(_Poisson):
    """Stand-in: rate ``lam`` while alive, exponential lifetime with rate ``mu`` (alive at T).

    E X(T, T + t) = lam (1 - exp(-mu t)) / mu; also offers the fast path method.
    """

    def __init__(self, lam, mu):
        super().__init__(lam)
        self.mu = mu

    def _e(self, t):
        return self.lam * -np.expm1(-self.mu * np.asarray(t, dtype=float)) / self.mu

    def expected_purchases(self, summary, t, *, columns=None):
        if _is_record(summary):
            return float(self._e(t))
        return np.full(_rows(summary), float(self._e(t)))

    def expected_purchases_path(self, summary, times, *, columns=None):
        n = 1 if _is_record(summary) else _rows(summary)
        return np.tile(self._e(times), (n, 1))


ExponentialLife = _ExponentialLife

ONE = {"frequency": 1, "recency": 1.0, "T": 2.0}
TWO = {"frequency": [1, 3], "recency": [1.0, 2.0], "T": [2.0, 5.0]}


# --------------------------------------------------------------------------- closed forms
@pytest.mark.parametrize(("horizon", "steps"), [(52.0, None), (52.0, 12), (10.5, 4), (104, 104)])
def test_discrete_poisson_geometric_sum(horizon, steps):
    # Hand derivation: each period of length D = H / n has lam D purchases, discounted by v**k
    # with v = (1 + d) ** (-D / 52.1775); sum_k v**k = v (1 - v**n) / (1 - v).
    lam, d = 0.7, 0.12
    n = steps or math.ceil(horizon)
    step = horizon / n
    v = (1 + d) ** (-step / WEEKS_PER_YEAR)
    expected = lam * step * v * (1 - v**n) / (1 - v)
    got = discounted_purchases(Poisson(lam), ONE, horizon=horizon, discount_rate=d, steps=steps)
    assert got == pytest.approx(expected, rel=1e-12)


def test_continuous_poisson_closed_form():
    # integral_0^H lam exp(-delta t) dt = lam (1 - exp(-delta H)) / delta, delta = ln(1+d)/52.18
    lam, d, h = 0.7, 0.12, 52.0
    delta = math.log(1 + d) / WEEKS_PER_YEAR
    got = discounted_purchases(Poisson(lam), TWO, horizon=h, discount_rate=d, method="continuous")
    np.testing.assert_allclose(got, lam * -math.expm1(-delta * h) / delta, rtol=1e-12)
    inf = discounted_purchases(
        Poisson(lam), ONE, horizon=math.inf, discount_rate=d, method="continuous"
    )
    assert inf == pytest.approx(lam / delta, rel=1e-10)


@pytest.mark.parametrize("unit", ["W", "M", "D"])
def test_continuous_exponential_lifetime_closed_form(unit):
    # integral_0^H exp(-delta t) lam exp(-mu t) dt = lam (1 - exp(-(delta+mu) H)) / (delta + mu)
    lam, mu, d, h = 1.3, 0.05, 0.1, 80.0
    per_year = {"W": WEEKS_PER_YEAR, "M": 12.0, "D": 365.2425}[unit]
    delta = math.log(1 + d) / per_year
    model = ExponentialLife(lam, mu)
    got = discounted_purchases(
        model, TWO, horizon=h, discount_rate=d, unit=unit, method="continuous"
    )
    np.testing.assert_allclose(got, lam * -math.expm1(-(delta + mu) * h) / (delta + mu), rtol=1e-10)
    inf = discounted_purchases(
        model, ONE, horizon=math.inf, discount_rate=d, unit=unit, method="continuous"
    )
    assert inf == pytest.approx(lam / (delta + mu), rel=1e-9)


def test_discrete_exponential_lifetime_closed_form():
    # Period k holds lam/mu exp(-mu D (k-1)) (1 - exp(-mu D)) purchases, discounted by v**k:
    # sum = lam/mu (1 - e) v (1 - (v e')**n) / (1 - v e'), e' = exp(-mu D).
    lam, mu, d, h, n = 1.3, 0.05, 0.1, 30.0, 30
    e = math.exp(-mu * h / n)
    v = (1 + d) ** (-(h / n) / WEEKS_PER_YEAR)
    expected = lam / mu * (1 - e) * v * (1 - (v * e) ** n) / (1 - v * e)
    got = discounted_purchases(ExponentialLife(lam, mu), ONE, horizon=h, discount_rate=d)
    assert got == pytest.approx(expected, rel=1e-12)


def test_clv_is_margin_times_spend_times_discounted_purchases():
    lam, d = 0.5, 0.1
    v = (1 + d) ** (-1 / 12)
    # 12 monthly periods of lam purchases of 40.0 at 30% margin (geometric sum by hand)
    expected = 0.3 * 40.0 * lam * v * (1 - v**12) / (1 - v)
    got = clv(Poisson(lam), 40.0, ONE, horizon=12, discount_rate=d, margin=0.3, unit="M")
    assert got == pytest.approx(expected, rel=1e-12)


class _MeanSpend(SpendModel):
    """Stand-in spend model: a customer's own mean spend, or 10.0 without repeat purchases."""

    def expected_spend_new(self):
        return 10.0

    def log_likelihood_of(self, summary, *, weights=None, columns=None):
        raise NotImplementedError

    @classmethod
    def _likelihood(cls, summary, *, weights, columns):
        raise NotImplementedError

    def expected_spend(self, summary, *, columns=None):
        name = (columns or {}).get("monetary_value", "monetary_value")
        x = np.asarray(summary["x" if columns else "frequency"], dtype=float)
        return np.where(x > 0, np.asarray(summary[name], dtype=float), 10.0)


MeanSpend = _MeanSpend


def test_per_customer_spend_and_column_renames():
    cols = {"frequency": "x", "recency": "t_x", "monetary_value": "zbar"}
    rows = CDNOW.iloc[:8]
    out = clv(BG, MeanSpend(), rows, horizon=52, discount_rate=0.1, margin=0.5, columns=cols)
    purchases = discounted_purchases(BG, rows, horizon=52, discount_rate=0.1, columns=cols)
    spend = np.where(rows["x"] > 0, rows["zbar"], 10.0)
    np.testing.assert_allclose(out, 0.5 * spend * purchases, rtol=1e-12)


def test_discount_factor_one_year():
    assert discount_factor(WEEKS_PER_YEAR, discount_rate=0.1) == pytest.approx(1 / 1.1)
    assert discount_factor(365.2425, discount_rate=0.1, unit="D") == pytest.approx(1 / 1.1)


# --------------------------------------------------------------------------- Pareto/NBD DERT
def test_pareto_dert_matches_quadrature_of_hand_coded_derivative():
    # d/dt E[X(T, T+t) | x, t_x, T] = P(alive) (r+x)/(alpha+T) ((beta+T)/(beta+T+t))**s
    # (Schmittlein et al. 1987; Fader & Hardie 2005 note): integrate it against exp(-delta t).
    d = 0.15
    delta = math.log(1 + d) / WEEKS_PER_YEAR
    rows = CDNOW.iloc[:6]
    cols = {"frequency": "x", "recency": "t_x"}
    alive = PARETO.p_alive(rows, columns=cols)
    for horizon in (52.0, 260.0, math.inf):
        got = discounted_purchases(
            PARETO, rows, horizon=horizon, discount_rate=d, method="continuous", columns=cols
        )
        for i, (x, t) in enumerate(zip(rows["x"], rows["T"], strict=True)):
            rate = (PARETO.r + x) / (PARETO.alpha + t)
            b = PARETO.beta + t

            def integrand(u, rate=rate, b=b):
                return math.exp(-delta * u) * rate * (b / (b + u)) ** PARETO.s

            value, _ = integrate.quad(integrand, 0, horizon, limit=200, epsrel=1e-11)
            assert got[i] == pytest.approx(alive[i] * value, rel=1e-7)


def test_pareto_closed_form_handles_large_s():
    # scipy's U fails for large s at small arguments; the quadrature fallback must take over.
    model = ParetoNBD(r=0.5, alpha=10.0, s=25.0, beta=400.0)
    got = discounted_purchases(model, ONE, horizon=52.0, discount_rate=0.1, method="continuous")
    delta = math.log(1.1) / WEEKS_PER_YEAR
    alive = model.p_alive(ONE)
    rate = (model.r + 1) / (model.alpha + 2.0)
    b = model.beta + 2.0
    value, _ = integrate.quad(lambda u: math.exp(-delta * u) * (b / (b + u)) ** 25.0, 0, 52.0)
    assert math.isfinite(got)
    assert got == pytest.approx(alive * rate * value, rel=1e-6)


# --------------------------------------------------------------------------- BG/NBD
def test_bgnbd_discrete_converges_to_continuous():
    cols = {"frequency": "x", "recency": "t_x"}
    rows = CDNOW.iloc[:50]
    cont = discounted_purchases(
        BG, rows, horizon=52, discount_rate=0.1, method="continuous", columns=cols
    )
    gaps = []
    for steps in (13, 52, 520):
        disc = discounted_purchases(
            BG, rows, horizon=52, discount_rate=0.1, steps=steps, columns=cols
        )
        gaps.append(np.max(np.abs(disc - cont) / cont))
    # end-of-period discounting undervalues by about delta * D / 2: shrinks ~ linearly with D
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[2] < 2e-4
    assert gaps[1] / gaps[2] == pytest.approx(10.0, rel=0.1)


def test_bgnbd_zero_discount_equals_expected_purchases():
    cols = {"frequency": "x", "recency": "t_x"}
    rows = CDNOW.iloc[:20]
    expected = BG.expected_purchases(rows, 39.0, columns=cols)
    for method in ("discrete", "continuous"):
        got = discounted_purchases(
            BG, rows, horizon=39.0, discount_rate=0.0, method=method, columns=cols
        )
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_table_kinds_and_record_agree():
    cols = {"frequency": "x", "recency": "t_x"}
    rows = CDNOW.iloc[:5]
    values = clv(BG, 35.0, rows, horizon=52, discount_rate=0.1, margin=0.2, columns=cols)
    assert isinstance(values, np.ndarray)
    assert values.shape == (5,)
    for i in range(5):
        rec = {"x": int(rows["x"].iloc[i]), "t_x": float(rows["t_x"].iloc[i])}
        rec["T"] = float(rows["T"].iloc[i])
        one = clv(BG, 35.0, rec, horizon=52, discount_rate=0.1, margin=0.2, columns=cols)
        assert isinstance(one, float)
        assert one == pytest.approx(values[i], rel=1e-12)
    frame = clv_table(
        BG, 35.0, pl.from_pandas(rows), horizon=52, discount_rate=0.1, margin=0.2, columns=cols
    )
    assert isinstance(frame, pl.DataFrame)
    assert frame.columns == ["clv", "expected_purchases", "expected_spend", "p_alive"]
    np.testing.assert_allclose(frame["clv"].to_numpy(), values)
    np.testing.assert_allclose(
        frame["p_alive"].to_numpy(), BG.p_alive(rows, columns=cols), rtol=1e-12
    )
    pdf = clv_table(BG, 35.0, rows, horizon=52, discount_rate=0.1, columns=cols, customer="ID")
    assert isinstance(pdf, pd.DataFrame)
    assert pdf["ID"].tolist() == rows["ID"].tolist()


# --------------------------------------------------------------------------- properties
histories = st.tuples(st.integers(0, 40), st.floats(0.0, 1.0), st.floats(0.5, 200.0)).map(
    lambda v: {"frequency": v[0], "recency": 0.0 if v[0] == 0 else v[1] * v[2], "T": v[2]}
)


@settings(max_examples=40, deadline=None)
@given(
    history=histories,
    horizon=st.floats(1.0, 300.0),
    extra=st.floats(0.5, 100.0),
    rate=st.floats(0.0, 0.5),
    method=st.sampled_from(["discrete", "continuous"]),
)
def test_monotone_in_horizon_and_discount(history, horizon, extra, rate, method):
    def value(h, d, margin=0.4):
        return clv(BG, 20.0, history, horizon=h, discount_rate=d, margin=margin, method=method)

    base = value(horizon, rate)
    assert math.isfinite(base)
    assert base >= 0
    if method == "continuous":  # the discrete grid changes with the horizon
        assert value(horizon + extra, rate) >= base * (1 - 1e-9)
    assert value(horizon, rate + 0.1) <= base * (1 + 1e-9)
    assert value(horizon, rate, margin=0.8) == pytest.approx(2 * base, rel=1e-12)
    assert value(horizon, rate, margin=0.0) == 0.0


@settings(max_examples=30, deadline=None)
@given(history=histories, horizon=st.integers(1, 200), extra=st.integers(1, 100))
def test_discrete_monotone_in_whole_horizons(history, horizon, extra):
    # With one step per unit the periods of the shorter horizon are a prefix of the longer one.
    short = clv(BG, 10.0, history, horizon=horizon, discount_rate=0.1)
    long = clv(BG, 10.0, history, horizon=horizon + extra, discount_rate=0.1)
    assert long >= short * (1 - 1e-12)


@settings(max_examples=30, deadline=None)
@given(history=histories, horizon=st.floats(1.0, 300.0), rate=st.floats(0.01, 0.5))
def test_pareto_dert_below_undiscounted(history, horizon, rate):
    dert = discounted_purchases(
        PARETO, history, horizon=horizon, discount_rate=rate, method="continuous"
    )
    assert 0 <= dert <= PARETO.expected_purchases(history, horizon) * (1 + 1e-9)


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"discount_rate": -0.1}, "discount_rate"),
        ({"discount_rate": math.nan}, "discount_rate"),
        ({"horizon": 0}, "horizon"),
        ({"horizon": math.inf}, "horizon"),
        ({"margin": -1.0}, "margin"),
        ({"method": "annual"}, "method"),
        ({"steps": 0}, "steps"),
        ({"steps": 4, "method": "continuous"}, "steps"),
        ({"unit": "fortnight"}, "unit"),
        ({"horizon": math.inf, "method": "continuous", "discount_rate": 0.0}, "discount_rate"),
    ],
)
def test_bad_arguments(kwargs, field):
    args = {"horizon": 52, "discount_rate": 0.1, **kwargs}
    with pytest.raises(ArgumentError) as info:
        clv(BG, 10.0, ONE, **args)
    assert info.value.field == field


def test_bad_spend_model():
    with pytest.raises(ArgumentError, match="spend model"):
        clv(BG, "lots", ONE, horizon=52, discount_rate=0.1)
    with pytest.raises(ArgumentError, match="spend_model"):
        clv(BG, -3.0, ONE, horizon=52, discount_rate=0.1)


def test_bad_summary_is_a_data_error():
    with pytest.raises(ClientModelError, match="recency"):
        clv(BG, 10.0, {"frequency": 1, "recency": 5.0, "T": 2.0}, horizon=52, discount_rate=0.1)


def test_clv_table_for_one_record():
    out = clv_table(BG, 20.0, ONE, horizon=26, discount_rate=0.05, customer="customer_id")
    assert out["customer_id"] is None
    assert out["clv"] == pytest.approx(clv(BG, 20.0, ONE, horizon=26, discount_rate=0.05))
    assert out["p_alive"] == pytest.approx(BG.p_alive(ONE))
    assert out["expected_purchases"] == pytest.approx(BG.expected_purchases(ONE, 26))


# --------------------------------------------------------------------------- example
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "churn_and_clv.py"


def test_churn_and_clv_example_runs(capsys):
    pytest.importorskip("clientmodel.ltv.gamma_gamma")
    runpy.run_path(str(EXAMPLE), run_name="__main__")
    out = capsys.readouterr().out
    assert "2357 customers" in out
    assert "top customers by 52-week CLV" in out


@settings(max_examples=40, deadline=None)
@given(
    r=st.floats(0.05, 5.0),
    alpha=st.floats(0.5, 50.0),
    s=st.floats(0.05, 30.0),
    beta=st.floats(0.5, 500.0),
    history=histories,
    horizon=st.one_of(st.floats(1.0, 520.0), st.just(math.inf)),
    rate=st.floats(0.01, 0.5),
)
def test_pareto_closed_form_agrees_with_generic_integral(r, alpha, s, beta, history, horizon, rate):
    # Same integral two ways: the U-function closed form and quadrature of E(t) by parts.
    model = ParetoNBD(r=r, alpha=alpha, s=s, beta=beta)
    delta = math.log1p(rate) / WEEKS_PER_YEAR
    closed = _pareto_dert(model, history, horizon, delta, None)
    numeric, _ = _continuous_numeric(model, history, horizon, delta, None)
    assert np.all(np.isfinite(closed))
    np.testing.assert_allclose(closed, numeric, rtol=2e-6, atol=1e-12)


def test_clv_with_gamma_gamma():
    gamma_gamma = pytest.importorskip("clientmodel.ltv.gamma_gamma")
    # Fader & Hardie (2013), "The Gamma-Gamma model of monetary value", CDNOW estimates.
    spend = gamma_gamma.GammaGamma(p=6.25, q=3.74, gamma=15.44)
    cols = {"frequency": "x", "recency": "t_x", "monetary_value": "zbar"}
    rows = CDNOW.iloc[:10]
    out = clv(BG, spend, rows, horizon=52, discount_rate=0.1, margin=0.3, columns=cols)
    # Customer 1: x = 2, zbar = 22.35 -> E[M] = (gamma + x zbar) p / (p x + q - 1) (FH 2013, eq. 5)
    e_spend = (15.44 + 2 * 22.35) * 6.25 / (6.25 * 2 + 3.74 - 1)
    purchases = discounted_purchases(BG, rows, horizon=52, discount_rate=0.1, columns=cols)
    assert out[0] == pytest.approx(0.3 * e_spend * purchases[0], rel=1e-9)
    assert np.all(out > 0)


def test_a_missing_transaction_model_is_named():
    # Before: AttributeError 'NoneType' object has no attribute 'expected_purchases'.
    for bad in (None, "BGNBD", GammaGamma(p=6.25, q=3.74, gamma=15.44)):
        with pytest.raises(ArgumentError, match="transaction model") as info:
            clv(bad, 10.0, ONE, horizon=52, discount_rate=0.1)
        assert info.value.field == "transaction_model"


def test_an_astronomical_horizon_is_refused_or_integrated():
    # Before: numpy's "Maximum allowed size exceeded" (a 1e300-column matrix) for the discrete
    # form, and 0.0 for the continuous one (quadrature panels far wider than the discount decay).
    with pytest.raises(ArgumentError, match="steps") as info:
        clv(BG, 10.0, ONE, horizon=1e300, discount_rate=0.1)
    assert info.value.field == "horizon"
    with pytest.raises(ArgumentError) as info:
        clv(BG, 10.0, ONE, horizon=52, discount_rate=0.1, steps=10**9)
    assert info.value.field == "steps"
    forever = clv(BG, 10.0, ONE, horizon=math.inf, discount_rate=0.1, method="continuous")
    for horizon in (1e9, 1e300):
        value = clv(BG, 10.0, ONE, horizon=horizon, discount_rate=0.1, method="continuous")
        assert value == pytest.approx(forever, rel=1e-9)


@pytest.mark.parametrize("model", [BG, MBGNBD(r=0.525, alpha=6.183, a=0.891, b=1.614)])
def test_discrete_clv_on_distinct_histories_matches_the_step_sum(model):
    # Continuous T: every history distinct, so the per-step sums run on interpolation in
    # log(alpha + T) per frequency. Reference: the definition, period by period, from
    # expected_purchases at each step end.
    rng = np.random.default_rng(11)
    n = 3000
    sim = model.simulate(n, rng.uniform(0.1, 80.0, n), seed=5)
    horizon, steps, d = 52.0, 13, 0.1
    got = clv(model, 1.0, sim, horizon=horizon, discount_rate=d, steps=steps)
    times = horizon * np.arange(1, steps + 1) / steps
    cumulative = np.stack([model.expected_purchases(sim, float(t)) for t in times], axis=1)
    increments = np.diff(cumulative, axis=1, prepend=0.0)
    want = increments @ (1.0 + d) ** (-times / 52.1775)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)
