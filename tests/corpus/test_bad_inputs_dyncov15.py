"""Bad-input corpus for time-varying covariates (issue 15, second step):
:func:`clientmodel.ltv.fit_dynamic_covariates` and :class:`clientmodel.ltv.DynamicCovariateModel`.

Every case must raise a ClientModelError subclass naming the offending argument, column or key
path (and the row where there is one).
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from clientmodel.errors import ArgumentError, DataError
from clientmodel.ltv import BGNBD, DynamicCovariateModel, ParetoNBD, fit_dynamic_covariates

from .conftest import EMAIL, bad, check_bad, keep, marked, unknown_ids

XFAIL: dict[str, str] = {}

WEEKS = [str(np.datetime64("2024-01-01") + 7 * k) for k in range(6)]


def log(**over):
    base = {
        "customer_id": ["a", "a", "b", "c", "c"],
        "timestamp": ["2024-01-02", "2024-01-20", "2024-01-09", "2024-01-01", "2024-02-01"],
    }
    base.update(over)
    return base


def cov(**over):
    base = {
        "customer_id": ["a"] * 6 + ["b"] * 6 + ["c"] * 6,
        "period": WEEKS * 3,
        "promo": [0, 1, 0, 1, 0, 0] * 3,
        "app": [1] * 6 + [0] * 6 + [1] * 6,
    }
    base.update(over)
    return base


def without_row(i):
    return {k: [v for j, v in enumerate(vals) if j != i] for k, vals in cov().items()}


def fit(lg=None, cv=None, **kw):
    args = {"as_of": "2024-02-05", "purchase": ["promo"], "dropout": ["app"]}
    args.update(kw)
    return fit_dynamic_covariates(log() if lg is None else lg, cov() if cv is None else cv, **args)


M = DynamicCovariateModel(
    base=ParetoNBD(r=0.5, alpha=5.0, s=0.7, beta=8.0),
    purchase=("promo",),
    dropout=("app",),
    coefficients={"purchase": {"promo": 0.3}, "dropout": {"app": -0.2}},
)
M_DICT = M.to_dict()


def cet(lg=None, cv=None, *, until=1.0, as_of="2024-02-05"):
    return M.expected_purchases(
        log() if lg is None else lg, cov() if cv is None else cv, as_of=as_of, until=until
    )


def _dict(**over):
    d = copy.deepcopy(M_DICT)
    d.update(over)
    return d


def _model(**over):
    args = {
        "base": ParetoNBD(r=0.5, alpha=5.0, s=0.7, beta=8.0),
        "purchase": ("promo",),
        "dropout": (),
        "coefficients": {"purchase": {"promo": 0.3}, "dropout": {}},
    }
    args.update(over)
    return DynamicCovariateModel(**args)


CASES = [
    # --- the call
    bad("no-covariate-named", lambda: fit(purchase=[], dropout=[]), "purchase", exc=ArgumentError),
    bad("purchase-twice", lambda: fit(purchase=["promo", "promo"]), "purchase", exc=ArgumentError),
    bad("purchase-not-text", lambda: fit(purchase=[3]), "purchase", exc=ArgumentError),
    bad("unit-month", lambda: fit(unit="M"), "unit", exc=ArgumentError),
    bad("unit-unknown", lambda: fit(unit="fortnight"), "unit", exc=ArgumentError),
    bad("customer-not-text", lambda: fit(customer=3), "customer", exc=ArgumentError),
    # --- the covariate table
    bad("unknown-column", lambda: fit(purchase=["promoo"]), "promoo", exc=DataError),
    bad("missing-period-column", lambda: fit(period="week"), "week", exc=DataError),
    bad(
        "customer-without-covariates",
        lambda: fit(cv={k: v[:12] for k, v in cov().items()}),
        "customer_id",
        exc=DataError,
    ),
    bad("gap", lambda: fit(cv=without_row(3)), "period", exc=DataError, rows=[3]),
    bad(
        "repeated-period",
        lambda: fit(cv=cov(period=WEEKS[:2] + [WEEKS[1]] + WEEKS[3:] + WEEKS * 2)),
        "period",
        exc=DataError,
        rows=[2],
    ),
    bad("starts-after-first-purchase", lambda: fit(cv=without_row(0)), "period", exc=DataError),
    bad("ends-before-as-of", lambda: fit(as_of="2024-02-20"), "period", exc=DataError),
    bad(
        "text-covariate",
        lambda: fit(cv=cov(promo=["x", 1, 0, 1, 0, 0] * 3)),
        "promo",
        exc=DataError,
        rows=[0],
    ),
    bad(
        "nan-covariate",
        lambda: fit(cv=cov(promo=[math.nan, 1, 0, 1, 0, 0] * 3)),
        "promo",
        exc=DataError,
        rows=[0],
    ),
    bad("constant-covariate", lambda: fit(cv=cov(app=[1] * 18)), "app", exc=DataError),
    bad(
        "dependent-covariates",
        lambda: fit(cv=cov(twice=[0, 2, 0, 2, 0, 0] * 3), purchase=["promo", "twice"]),
        "twice",
        exc=DataError,
    ),
    bad(
        "bad-period-date",
        lambda: fit(cv=cov(period=["2024-13-01"] + WEEKS[1:] + WEEKS * 2)),
        "period",
        exc=DataError,
    ),
    bad(
        "email-customer-without-covariates",
        lambda: fit(lg=log(customer_id=[EMAIL, EMAIL, "b", "c", "c"])),
        "customer_id",
        exc=DataError,
    ),
    # --- the model
    bad(
        "base-not-pareto",
        lambda: _model(base=BGNBD(r=1, alpha=1, a=1, b=1)),
        "base",
        exc=ArgumentError,
    ),
    bad(
        "coefficients-missing",
        lambda: _model(coefficients={"purchase": {}, "dropout": {}}),
        "coefficients.purchase",
        exc=ArgumentError,
    ),
    bad(
        "coefficient-nan",
        lambda: _model(coefficients={"purchase": {"promo": math.nan}, "dropout": {}}),
        "promo",
        exc=ArgumentError,
    ),
    bad("model-unit", lambda: _model(unit="M"), "unit", exc=ArgumentError),
    bad(
        "log-likelihood-gap",
        lambda: M.log_likelihood_of(log(), without_row(3), as_of="2024-02-05"),
        "period",
        exc=DataError,
    ),
    bad(
        "p-alive-missing-column",
        lambda: M.p_alive(
            log(), {k: v for k, v in cov().items() if k != "app"}, as_of="2024-02-05"
        ),
        "app",
        exc=DataError,
    ),
    # --- expected purchases over a prediction period
    bad("cet-until-none", lambda: cet(until=None), "until", exc=ArgumentError),
    bad("cet-until-bool", lambda: cet(until=True), "until", exc=ArgumentError),
    bad("cet-until-negative", lambda: cet(until=-1), "until", exc=ArgumentError),
    bad("cet-until-nan", lambda: cet(until=math.nan), "until", exc=ArgumentError),
    bad("cet-until-inf", lambda: cet(until=math.inf), "until", exc=ArgumentError),
    bad("cet-until-bad-date", lambda: cet(until="2024-02-30"), "until", exc=ArgumentError),
    bad("cet-until-list", lambda: cet(until=[1]), "until", exc=ArgumentError),
    bad("cet-until-before-as-of", lambda: cet(until="2024-02-01"), "until", exc=ArgumentError),
    bad(
        "cet-covariates-end-before-until",
        lambda: cet(until="2024-02-20"),
        ("period", "2024-02-12", "a"),
        exc=DataError,
    ),
    bad(
        "cet-covariates-end-before-until-periods",
        lambda: cet(until=1.5),
        ("period", "2024-02-12"),
        exc=DataError,
    ),
    bad(
        "cet-email-customer-not-covered",
        lambda: cet(
            lg=log(customer_id=[EMAIL, EMAIL, "b", "c", "c"]),
            cv=cov(customer_id=[EMAIL] * 6 + ["b"] * 6 + ["c"] * 6),
            until=2,
        ),
        "period",
        exc=DataError,
    ),
    bad(
        "cet-nan-covariate-ahead",
        lambda: cet(cv=cov(promo=[0, 1, 0, 1, 0, math.nan] * 3)),
        "promo",
        exc=DataError,
        rows=[5],
    ),
    bad(
        "cet-missing-column",
        lambda: cet(cv={k: v for k, v in cov().items() if k != "promo"}),
        "promo",
        exc=DataError,
    ),
    # --- from_dict
    bad(
        "from_dict-not-mapping",
        lambda: DynamicCovariateModel.from_dict([]),
        "DynamicCovariateModel",
        exc=ArgumentError,
    ),
    bad(
        "from_dict-model",
        lambda: DynamicCovariateModel.from_dict(_dict(model="ParetoNBD")),
        "model",
        exc=ArgumentError,
    ),
    bad(
        "from_dict-missing-coefficients",
        lambda: DynamicCovariateModel.from_dict(
            {k: v for k, v in M_DICT.items() if k != "coefficients"}
        ),
        "coefficients",
        exc=ArgumentError,
    ),
    bad(
        "from_dict-text-coefficient",
        lambda: DynamicCovariateModel.from_dict(
            _dict(coefficients={"purchase": {"promo": "x"}, "dropout": {"app": 0.1}})
        ),
        "coefficients.purchase.promo",
        exc=ArgumentError,
    ),
    bad(
        "from_dict-bad-unit",
        lambda: DynamicCovariateModel.from_dict(
            _dict(covariates={**M_DICT["covariates"], "unit": "Q"})
        ),
        "unit",
        exc=ArgumentError,
    ),
]


@pytest.mark.parametrize(("thunk", "names", "exc", "rows"), marked(CASES, XFAIL))
def test_bad_input(thunk, names, exc, rows):
    check_bad(thunk, exc=exc, names=names, rows=rows)


def _fit_leaves_input():
    lg, cv = log(), cov()
    before = copy.deepcopy((lg, cv))
    fit(lg, cv)
    assert (lg, cv) == before


def _no_customer_dropped():
    out = M.p_alive(log(), cov(), as_of="2024-02-05")
    assert out["customer_id"].tolist() == ["a", "b", "c"]
    assert np.all((out["p_alive"] > 0) & (out["p_alive"] <= 1))


def _from_dict_does_not_share_input():
    data = copy.deepcopy(M_DICT)
    model = DynamicCovariateModel.from_dict(data)
    data["coefficients"]["purchase"]["promo"] = 99.0
    assert model.coefficients["purchase"]["promo"] == 0.3


def _cet_keeps_everyone_and_input():
    lg, cv = log(), cov()
    before = copy.deepcopy((lg, cv))
    out = M.expected_purchases(lg, cv, as_of="2024-02-05", until="2024-02-12")
    assert (lg, cv) == before
    assert out["customer_id"].tolist() == ["a", "b", "c"]
    assert np.all(np.isfinite(out["expected_purchases"]) & (out["expected_purchases"] > 0))


KEPT = [
    keep("cet-keeps-everyone-and-input", _cet_keeps_everyone_and_input),
    keep("fit-leaves-input", _fit_leaves_input),
    keep("no-customer-dropped", _no_customer_dropped),
    keep("from_dict-does-not-share-input", _from_dict_does_not_share_input),
]


@pytest.mark.parametrize("thunk", marked(KEPT, XFAIL))
def test_nothing_lost(thunk):
    thunk()


def test_xfail_ids_name_cases():
    assert unknown_ids(XFAIL, CASES, KEPT) == []
