"""lrtest: the likelihood-ratio test between nested fitted models (CLVTools' ``lrtest``)."""

from __future__ import annotations

import json
import math

import attrs
import pytest

from clientmodel.errors import ArgumentError
from clientmodel.ltv import BGNBD, GGompertzNBD, ParetoNBD
from clientmodel.ltv.diagnostics import LikelihoodRatioTest, lrtest


@pytest.fixture(scope="module")
def fits():
    data = ParetoNBD(**ParetoNBD.EXAMPLE).simulate(400, 39.0, seed=2)
    part = {k: v[:300] for k, v in data.items()}
    return {
        "pareto": ParetoNBD.fit(data),
        "ggompertz": GGompertzNBD.fit(data),
        "bgnbd": BGNBD.fit(data),
        "pareto_part": ParetoNBD.fit(part),
    }


def _with_loglik(model, value):
    return attrs.evolve(model, fit_report=attrs.evolve(model.fit_report, log_likelihood=value))


def test_data_from_the_restricted_model_gives_no_evidence(fits):
    # Pareto/NBD data: the GGompertz/NBD fit reaches the Pareto/NBD limit (b -> 0), so the two
    # log-likelihoods agree and the statistic is 0.
    test = lrtest(fits["pareto"], fits["ggompertz"])
    assert test.restricted == "ParetoNBD"
    assert test.full == "GGompertzNBD"
    assert test.df == 1
    assert test.statistic == pytest.approx(0.0, abs=1e-5)
    assert test.p_value > 0.99
    assert test.n_observations == 400


def test_statistic_and_p_value_by_hand(fits):
    # By hand: 2 * (-97.5 - -100) = 5; for one degree of freedom P(chi2 >= 5) = erfc(sqrt(5/2)).
    test = lrtest(_with_loglik(fits["pareto"], -100.0), _with_loglik(fits["ggompertz"], -97.5))
    assert test.statistic == 5.0
    assert test.p_value == pytest.approx(math.erfc(math.sqrt(2.5)), rel=1e-12)
    assert test.p_value == pytest.approx(0.025347, abs=1e-6)


def test_json_round_trip(fits):
    test = lrtest(fits["pareto"], fits["ggompertz"])
    again = LikelihoodRatioTest.from_dict(json.loads(json.dumps(test.to_dict())))
    assert again == test


def test_refuses_pairs_that_are_not_nested(fits):
    with pytest.raises(ArgumentError, match="not nested") as info:
        lrtest(fits["bgnbd"], fits["ggompertz"])
    assert info.value.field == "restricted"
    with pytest.raises(ArgumentError, match="not nested"):
        lrtest(fits["ggompertz"], fits["pareto"])  # the wrong way round
    with pytest.raises(ArgumentError, match="at least one more"):
        lrtest(fits["pareto"], fits["pareto"])


def test_refuses_fits_on_different_data(fits):
    with pytest.raises(ArgumentError, match="different data") as info:
        lrtest(fits["pareto_part"], fits["ggompertz"])
    assert info.value.field == "full"
    assert "300" in str(info.value)
    assert "400" in str(info.value)


def test_refuses_unfitted_models_and_other_objects(fits):
    with pytest.raises(ArgumentError, match="not fitted") as info:
        lrtest(ParetoNBD(**ParetoNBD.EXAMPLE), fits["ggompertz"])
    assert info.value.field == "restricted"
    with pytest.raises(ArgumentError, match="fitted clientmodel model") as info:
        lrtest(fits["pareto"], {"model": "GGompertzNBD"})
    assert info.value.field == "full"


def test_refuses_a_full_fit_below_the_restricted_one(fits):
    low = _with_loglik(fits["ggompertz"], fits["pareto"].log_likelihood - 1.0)
    with pytest.raises(ArgumentError, match="lower optimum") as info:
        lrtest(fits["pareto"], low)
    assert info.value.field == "full"
