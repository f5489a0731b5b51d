"""Bad-input corpus for GGompertz/NBD, ``lrtest``, ``new_customer_purchases`` and
``heterogeneity`` (issue 15).

Written from the docstrings: every case must raise a ClientModelError subclass naming the
offending argument, column or key path.
"""

from __future__ import annotations

import copy
import datetime as dt
import math

import pytest

from clientmodel.errors import ArgumentError, DataError
from clientmodel.ltv import BGNBD, GammaGamma, GGompertzNBD, ParetoNBD, new_customer_purchases
from clientmodel.ltv.diagnostics import LikelihoodRatioTest, lrtest

from .conftest import bad, check_bad, marked, unknown_ids

XFAIL: dict[str, str] = {}

GG = GGompertzNBD(r=0.7, alpha=6.0, b=0.03, s=0.6, beta=1.5)
PARETO = ParetoNBD(r=0.553, alpha=10.578, s=0.606, beta=11.669)


def summary(**over):
    """A valid three-customer BTYD summary (weeks), with columns replaced by ``over``."""
    base = {"frequency": [1, 0, 2], "recency": [4.4, 0.0, 13.0], "T": [25.9, 25.3, 25.7]}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def with_params(**over):
    d = copy.deepcopy(GG.to_dict())
    d["params"].update(over)
    return d


def _fitted():
    return BGNBD.fit(BGNBD(r=0.25, alpha=4.0, a=0.8, b=2.5).simulate(300, 39.0, seed=1))


LR = LikelihoodRatioTest("ParetoNBD", "GGompertzNBD", -10.0, -8.0, 4.0, 1, 0.0455, 3.0)


CASES = [
    # --- constructor: five finite positive parameters
    bad("gg-text-b", lambda: GGompertzNBD(r=0.7, alpha=6.0, b="x", s=0.6, beta=1.5), "b"),
    bad("gg-zero-b", lambda: GGompertzNBD(r=0.7, alpha=6.0, b=0.0, s=0.6, beta=1.5), "b"),
    bad("gg-nan-s", lambda: GGompertzNBD(r=0.7, alpha=6.0, b=0.1, s=math.nan, beta=1.5), "s"),
    bad("gg-inf-beta", lambda: GGompertzNBD(r=0.7, alpha=6.0, b=0.1, s=0.6, beta=math.inf), "beta"),
    # --- from_dict
    bad("gg-from-dict-negative", lambda: GGompertzNBD.from_dict(with_params(b=-1.0)), "params.b"),
    bad("gg-from-dict-text", lambda: GGompertzNBD.from_dict(with_params(s="x")), "params.s"),
    bad("gg-from-dict-other-model", lambda: GGompertzNBD.from_dict(PARETO.to_dict()), "model"),
    # --- predictions: summary columns and arguments
    bad("gg-p_alive-none", lambda: GG.p_alive(None), ("summary", "table")),
    bad("gg-p_alive-missing-T", lambda: GG.p_alive(summary(T=None)), "T", exc=DataError),
    bad(
        "gg-p_alive-nan-recency",
        lambda: GG.p_alive(summary(recency=[4.4, math.nan, 13.0])),
        "recency",
        exc=DataError,
        rows=[1],
    ),
    bad(
        "gg-p_alive-recency-after-T",
        lambda: GG.p_alive(summary(recency=[4.4, 0.0, 30.0])),
        "recency",
        exc=DataError,
        rows=[2],
    ),
    bad(
        "gg-expected-negative-frequency",
        lambda: GG.expected_purchases(summary(frequency=[1, -1, 2]), 10.0),
        "frequency",
        exc=DataError,
        rows=[1],
    ),
    bad(
        "gg-expected-1e19-frequency",
        lambda: GG.expected_purchases(summary(frequency=[1, 10**19, 2]), 10.0),
        "frequency",
        exc=DataError,
    ),
    bad("gg-p_alive-negative-horizon", lambda: GG.p_alive(summary(), horizon=-1.0), "horizon"),
    bad("gg-expected-nan-t", lambda: GG.expected_purchases(summary(), math.nan), "t"),
    bad("gg-expected-text-t", lambda: GG.expected_purchases(summary(), "week"), "t"),
    bad("gg-path-negative-times", lambda: GG.expected_purchases_path(summary(), [1, -2]), "times"),
    bad("gg-new-negative-t", lambda: GG.expected_purchases_new([1.0, -1.0]), "t"),
    bad("gg-new-inf-t", lambda: GG.expected_purchases_new(math.inf), "t"),
    bad("gg-p_purchases-negative-n", lambda: GG.p_purchases(summary(), -1, 10.0), "n"),
    bad("gg-p_purchases-fractional-n", lambda: GG.p_purchases(summary(), 1.5, 10.0), "n"),
    bad("gg-p_purchases_new-inf-t", lambda: GG.p_purchases_new(1, math.inf), "t"),
    bad("gg-simulate-zero-customers", lambda: GG.simulate(0, 39.0), "n_customers"),
    bad("gg-simulate-negative-T", lambda: GG.simulate(3, -1.0), "T"),
    bad("gg-simulate-bad-seed", lambda: GG.simulate(3, 39.0, seed="x"), "seed"),
    # --- fit
    bad(
        "gg-fit-no-repeat-buyers",
        lambda: GGompertzNBD.fit(summary(frequency=[0, 0, 0], recency=[0.0, 0.0, 0.0])),
        "frequency",
        exc=DataError,
    ),
    bad(
        "gg-fit-negative-weights",
        lambda: GGompertzNBD.fit(summary(), weights=[1.0, -1.0, 1.0]),
        "weights",
        exc=DataError,
        rows=[1],
    ),
    bad("gg-fit-bad-starts", lambda: GGompertzNBD.fit(summary(), starts=[[1, 2, 3]]), "starts"),
    bad(
        "gg-fit-negative-penalizer", lambda: GGompertzNBD.fit(summary(), penalizer=-1), "penalizer"
    ),
    # --- lrtest
    bad("lrtest-unfitted", lambda: lrtest(PARETO, GG), "restricted", exc=ArgumentError),
    bad("lrtest-dict", lambda: lrtest({"model": "ParetoNBD"}, GG), "restricted"),
    bad("lrtest-none-full", lambda: lrtest(_fitted(), None), "full"),
    bad(
        "lrtest-from-dict-missing-df",
        lambda: LikelihoodRatioTest.from_dict({k: v for k, v in LR.to_dict().items() if k != "df"}),
        "df",
    ),
    bad(
        "lrtest-from-dict-text-statistic",
        lambda: LikelihoodRatioTest.from_dict({**LR.to_dict(), "statistic": "big"}),
        "statistic",
    ),
    # --- new_customer_purchases
    bad(
        "new-customer-not-a-model",
        lambda: new_customer_purchases(
            GammaGamma(p=6.0, q=4.0, gamma=15.0), "2024-01-01", "2024-02-01"
        ),
        "model",
    ),
    bad(
        "new-customer-until-before",
        lambda: new_customer_purchases(GG, "2024-03-01", "2024-02-01"),
        "until",
    ),
    bad(
        "new-customer-bad-date-text",
        lambda: new_customer_purchases(GG, "first of march", "2024-02-01"),
        "acquired",
    ),
    bad(
        "new-customer-naive-datetime",
        lambda: new_customer_purchases(GG, "2024-01-01", dt.datetime(2024, 2, 1)),
        "until",
    ),
    bad(
        "new-customer-number-date",
        lambda: new_customer_purchases(GG, 20240101, "2024-02-01"),
        "acquired",
    ),
    bad(
        "new-customer-empty-list",
        lambda: new_customer_purchases(GG, [], "2024-02-01"),
        "acquired",
    ),
    bad(
        "new-customer-bad-list-item",
        lambda: new_customer_purchases(GG, ["2024-01-01", None], "2024-02-01"),
        "acquired[1]",
    ),
    bad(
        "new-customer-length-mismatch",
        lambda: new_customer_purchases(GG, ["2024-01-01"] * 2, ["2024-02-01"] * 3),
        "until",
    ),
    bad(
        "new-customer-bad-unit",
        lambda: new_customer_purchases(GG, "2024-01-01", "2024-02-01", unit="fortnight"),
        "unit",
    ),
]


@pytest.mark.parametrize(("thunk", "names", "exc", "rows"), marked(CASES, XFAIL))
def test_bad_input(thunk, names, exc, rows):
    check_bad(thunk, exc=exc, names=names, rows=rows)


def test_heterogeneity_takes_no_input_and_shares_nothing():
    # heterogeneity() has no arguments to get wrong; each call builds new distributions.
    one, two = BGNBD(r=0.25, alpha=4.0, a=0.8, b=2.5).heterogeneity(), GG.heterogeneity()
    assert one is not two
    assert GG.heterogeneity()["purchase rates"] is not two["purchase rates"]


def test_xfail_ids_name_cases():
    assert unknown_ids(XFAIL, CASES) == []
