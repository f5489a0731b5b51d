"""New-customer predictions for every transaction model (by length and by date) and the
population mixing distributions (``heterogeneity``)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from scipy import integrate, special

from clientmodel.errors import ArgumentError
from clientmodel.ltv import BGNBD, GammaGamma, GGompertzNBD, ParetoNBD, model_classes
from clientmodel.ltv.newcustomer import new_customer_purchases

TRANSACTION = sorted(model_classes("transaction"))


@pytest.mark.parametrize("name", TRANSACTION)
def test_expected_purchases_new_matches_simulation_for_every_model(name):
    # Golden value: the mean count of each model's own simulation (Monte Carlo), 30,000 draws.
    cls = model_classes("transaction")[name]
    model = cls(**cls.EXAMPLE)
    t = cls.EXAMPLE_PERIOD
    sim = model.simulate(30_000, t, seed=7)
    mean = float(np.mean(sim["frequency"]))
    se = float(np.std(sim["frequency"])) / math.sqrt(30_000)
    assert abs(model.expected_purchases_new(t) - mean) < 4 * se


@pytest.mark.parametrize("name", TRANSACTION)
def test_new_customer_purchases_by_date_equals_by_length(name):
    cls = model_classes("transaction")[name]
    model = cls(**cls.EXAMPLE)
    # 2024-01-01 to 2024-09-30 is 273 days: 39 weeks, 273 days.
    by_date = new_customer_purchases(model, "2024-01-01", "2024-09-30", unit="D")
    assert by_date == pytest.approx(float(model.expected_purchases_new(273.0)), rel=1e-12)
    weeks = new_customer_purchases(
        model, [dt.date(2024, 1, 1), "2024-07-01"], dt.date(2024, 9, 30), unit="week"
    )
    np.testing.assert_allclose(weeks, model.expected_purchases_new(np.array([39.0, 13.0])))


def test_discrete_time_counts_whole_periods():
    from clientmodel.ltv import BGBB

    model = BGBB(**BGBB.EXAMPLE)
    # 2024-01-01 to 2026-06-30 is two whole years and a half: 2 opportunities of a year.
    got = new_customer_purchases(model, "2024-01-01", "2026-06-30", unit="Y")
    assert got == pytest.approx(model.expected_purchases_new(2))


def test_aware_datetimes_in_different_zones_are_compared_in_utc():
    model = ParetoNBD(**ParetoNBD.EXAMPLE)
    start = dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=8)))  # 04:00 UTC
    end = dt.datetime(2024, 1, 8, 4, tzinfo=dt.timezone.utc)
    got = new_customer_purchases(model, start, end, unit="W")
    assert got == pytest.approx(model.expected_purchases_new(1.0), rel=1e-12)


def test_new_customer_purchases_refuses_bad_input():
    model = ParetoNBD(**ParetoNBD.EXAMPLE)
    with pytest.raises(ArgumentError, match="before") as info:
        new_customer_purchases(model, "2024-02-01", "2024-01-01")
    assert info.value.field == "until"
    with pytest.raises(ArgumentError) as info:
        new_customer_purchases(model, ["2024-01-01", "2024-01-02"], ["2024-03-01"] * 3)
    assert info.value.field == "until"
    with pytest.raises(ArgumentError) as info:
        new_customer_purchases(GammaGamma(**GammaGamma.EXAMPLE), "2024-01-01", "2024-03-01")
    assert info.value.field == "model"
    with pytest.raises(ArgumentError) as info:
        new_customer_purchases(model, dt.datetime(2024, 1, 1), "2024-03-01")  # naive
    assert info.value.field == "acquired"
    with pytest.raises(ArgumentError) as info:
        new_customer_purchases(model, "2024-01-01", "2024-03-01", unit="fortnight")
    assert info.value.field == "unit"


def test_heterogeneity_gammas_are_the_papers_densities():
    # Hand-written gamma density c^k x^(k-1) e^(-c x) / Gamma(k) (shape k, rate c).
    model = GGompertzNBD(**GGompertzNBD.EXAMPLE)
    mixing = model.heterogeneity()
    assert sorted(mixing) == ["Gompertz lifetime scales", "purchase rates"]
    xs = np.array([0.01, 0.1, 0.5, 2.0])
    for what, k, c in (
        ("purchase rates", model.r, model.alpha),
        ("Gompertz lifetime scales", model.s, model.beta),
    ):
        dist = mixing[what]
        by_hand = np.exp(k * math.log(c) + (k - 1) * np.log(xs) - c * xs - special.gammaln(k))
        np.testing.assert_allclose(dist.pdf(xs), by_hand, rtol=1e-12)
        assert float(dist.mean()) == pytest.approx(k / c, rel=1e-12)
        assert integrate.quad(dist.pdf, 0, np.inf)[0] == pytest.approx(1.0, abs=1e-8)


def test_heterogeneity_betas_and_every_model_has_its_mixtures():
    model = BGNBD(**BGNBD.EXAMPLE)
    dist = model.heterogeneity()["dropout probability after a purchase"]
    a, b = model.a, model.b
    p = np.array([0.05, 0.3, 0.7])
    by_hand = np.exp((a - 1) * np.log(p) + (b - 1) * np.log1p(-p) - special.betaln(a, b))
    np.testing.assert_allclose(dist.pdf(p), by_hand, rtol=1e-12)
    assert float(dist.mean()) == pytest.approx(a / (a + b), rel=1e-12)
    for cls in model_classes().values():
        mixing = cls(**cls.EXAMPLE).heterogeneity()
        assert len(mixing) == len(cls.GAMMA_MIXTURES) + len(cls.BETA_MIXTURES) > 0


def test_heterogeneity_matches_the_simulated_purchase_rates():
    # The simulator draws lambda from the same gamma: compare the mean count of new customers
    # over a short window (no dropout yet to speak of) with E[lambda] t.
    model = GGompertzNBD(**GGompertzNBD.EXAMPLE)
    lam = model.heterogeneity()["purchase rates"]
    assert model.expected_purchases_new(1e-3) / 1e-3 == pytest.approx(float(lam.mean()), rel=1e-3)
