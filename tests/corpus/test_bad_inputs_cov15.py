"""Bad-input corpus for LTV covariates (issue 15, item 1): ``fit(..., covariates=...)`` and
:class:`clientmodel.ltv.CovariateModel`.

Every case must raise a ClientModelError subclass naming the offending argument, column or key
path (and the row where there is one).
"""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest

from clientmodel.errors import ArgumentError, DataError
from clientmodel.ltv import (
    BGNBD,
    MBGNBD,
    CovariateModel,
    GammaGamma,
    ParetoNBD,
    ShiftedBetaGeometric,
)

from .conftest import EMAIL, PHONE, bad, check_bad, keep, marked, unknown_ids

XFAIL: dict[str, str] = {}


def summary(**over):
    """Six customers (weeks) with ids, and repeat buyers in both covariate groups."""
    base = {
        "customer_id": ["a", "b", "c", "d", "e", "f"],
        "frequency": [1, 0, 2, 3, 0, 1],
        "recency": [4.4, 0.0, 13.0, 20.0, 0.0, 7.0],
        "T": [25.9, 25.3, 25.7, 30.0, 22.0, 28.0],
    }
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def covariates(**over):
    base = {
        "customer_id": ["a", "b", "c", "d", "e", "f"],
        "vip": [0, 1, 0, 1, 0, 1],
        "app": [1, 1, 0, 0, 1, 0],
    }
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def fit(model=ParetoNBD, s=None, c=None, **kw):
    args = {"purchase": ["vip"], "dropout": ["app"]}
    args.update(kw)
    return model.fit(
        summary() if s is None else s, covariates=covariates() if c is None else c, **args
    )


PN = ParetoNBD(r=0.5, alpha=5.0, s=0.7, beta=8.0)
CM = CovariateModel(
    base=PN,
    purchase=["vip"],
    dropout=["app"],
    coefficients={"purchase": {"vip": 0.3}, "dropout": {"app": -0.2}},
)
CM_DICT = CM.to_dict()


def _dict(**over):
    d = copy.deepcopy(CM_DICT)
    for k, v in over.items():
        d[k] = v
    return d


def tenures(**over):
    base = {
        "customer_id": ["a", "b", "c", "d"],
        "renewals": [0, 3, 1, 5],
        "churned": [True, False, True, False],
    }
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


SBG = ShiftedBetaGeometric


CASES = [
    # --- the call
    bad("unsupported-model", lambda: fit(GammaGamma), "covariates", exc=ArgumentError),
    bad("unsupported-mbgnbd", lambda: fit(MBGNBD), "covariates", exc=ArgumentError),
    bad("no-covariate-named", lambda: fit(purchase=[], dropout=[]), "purchase", exc=ArgumentError),
    bad("purchase-not-list", lambda: fit(purchase=5), "purchase", exc=ArgumentError),
    bad("purchase-not-text", lambda: fit(purchase=[3]), "purchase", exc=ArgumentError),
    bad("purchase-twice", lambda: fit(purchase=["vip", "vip"]), "purchase", exc=ArgumentError),
    bad("constrain-one-side", lambda: fit(constrain=["vip"]), "constrain", exc=ArgumentError),
    bad("negative-penalty", lambda: fit(penalty=-1.0), "penalty", exc=ArgumentError),
    bad("nan-penalty", lambda: fit(penalty=math.nan), "penalty", exc=ArgumentError),
    bad("penalizer-with-covariates", lambda: fit(penalizer=0.1), "penalizer", exc=ArgumentError),
    bad("customer-not-text", lambda: fit(customer=3), "customer", exc=ArgumentError),
    # --- the covariate table
    bad("unknown-column", lambda: fit(purchase=["vipp"]), "vipp", exc=DataError),
    bad("missing-customer-column", lambda: fit(customer="id"), "id", exc=DataError),
    bad(
        "missing-customer-row",
        lambda: fit(c=covariates(customer_id=["a", "b", "c", "d", "e", "g"])),
        "customer_id",
        exc=DataError,
        rows=[5],
    ),
    bad(
        "duplicate-customer",
        lambda: fit(c=covariates(customer_id=["a", "b", "c", "d", "a", "f"])),
        "customer_id",
        exc=DataError,
        rows=[4],
    ),
    bad(
        "text-covariate",
        lambda: fit(c=covariates(vip=[0, 1, "x", 1, 0, 1])),
        "vip",
        exc=DataError,
        rows=[2],
    ),
    bad(
        "nan-covariate",
        lambda: fit(c=covariates(app=[1.0, math.nan, 0.0, 0.0, 1.0, 0.0])),
        "app",
        exc=DataError,
        rows=[1],
    ),
    bad(
        "inf-covariate",
        lambda: fit(c=covariates(app=[1.0, 0.0, math.inf, 0.0, 1.0, 0.0])),
        "app",
        exc=DataError,
        rows=[2],
    ),
    bad(
        "null-covariate",
        lambda: fit(c=covariates(vip=[0, 1, None, 1, 0, 1])),
        "vip",
        exc=DataError,
        rows=[2],
    ),
    bad("constant-covariate", lambda: fit(c=covariates(vip=[1] * 6)), "vip", exc=DataError),
    bad(
        "collinear-covariates",
        lambda: fit(purchase=["vip", "dup"], c=covariates(dup=[0, 2, 0, 2, 0, 2])),
        "dup",
        exc=DataError,
    ),
    bad(
        "null-customer-id",
        lambda: fit(c=covariates(customer_id=["a", "b", None, "d", "e", "f"])),
        "customer_id",
        exc=DataError,
        rows=[2],
    ),
    bad(
        "bad-summary-still-checked",
        lambda: fit(s=summary(frequency=[1, -1, 2, 3, 0, 1])),
        "frequency",
    ),
    bad(
        "phone-id-missing",
        lambda: fit(s=summary(customer_id=["a", "b", "c", "d", "e", PHONE])),
        "customer_id",
        exc=DataError,
        rows=[5],
    ),
    bad(
        "email-id-duplicate",
        lambda: fit(c=covariates(customer_id=[EMAIL, "b", "c", "d", EMAIL, "f"])),
        "customer_id",
        exc=DataError,
    ),
    # --- predictions
    bad("predict-missing-covariates", lambda: CM.p_alive(summary()), "vip", exc=DataError),
    bad(
        "predict-unknown-customer",
        lambda: CM.p_alive(summary(), covariates(customer_id=list("abcdez"))),
        "customer_id",
        exc=DataError,
        rows=[5],
    ),
    bad(
        "predict-nan-covariate",
        lambda: CM.expected_purchases(summary(), 10.0, covariates(vip=[0, 1, math.nan, 1, 0, 1])),
        "vip",
        exc=DataError,
        rows=[2],
    ),
    bad("predict-negative-t", lambda: CM.expected_purchases(summary(), -1.0, covariates()), "t"),
    bad("model-for-missing", lambda: CM.model_for({"vip": 1}), "app", exc=ArgumentError),
    bad("model-for-text", lambda: CM.model_for({"vip": "x", "app": 0}), "vip", exc=ArgumentError),
    bad("model-for-not-mapping", lambda: CM.model_for([1, 0]), "covariates", exc=ArgumentError),
    bad("predict-unknown-method", lambda: CM.predict("p_alve", summary(), covariates()), "method"),
    bad("predict-method-not-text", lambda: CM.predict(3, summary(), covariates()), "method"),
    # --- shifted beta-geometric
    bad(
        "sbg-purchase-process",
        lambda: CovariateModel(
            base=SBG(alpha=1.0, beta=2.0),
            purchase=["vip"],
            dropout=[],
            coefficients={"purchase": {"vip": 0.1}, "dropout": {}},
        ),
        "purchase",
        exc=ArgumentError,
    ),
    bad(
        "sbg-fit-with-covariates",
        lambda: SBG.fit([1000, 631, 468], covariates=covariates(), dropout=["vip"]),
        "covariates",
        exc=ArgumentError,
    ),
    bad(
        "sbg-churned-not-flag",
        lambda: SBG.fit_tenures(
            tenures(churned=[1, 0, 2, 0]), covariates=covariates(), dropout=["vip"]
        ),
        "churned",
        exc=DataError,
        rows=[2],
    ),
    bad(
        "sbg-missing-customer",
        lambda: SBG.fit_tenures(
            tenures(customer_id=["a", "b", "c", "z"]), covariates=covariates(), dropout=["vip"]
        ),
        "customer_id",
        exc=DataError,
        rows=[3],
    ),
    # --- construction and from_dict
    bad(
        "coefficients-mismatch",
        lambda: CovariateModel(
            base=PN, purchase=["vip"], dropout=[], coefficients={"purchase": {}, "dropout": {}}
        ),
        "coefficients.purchase",
        exc=ArgumentError,
    ),
    bad(
        "coefficient-nan",
        lambda: CovariateModel(
            base=PN,
            purchase=["vip"],
            dropout=[],
            coefficients={"purchase": {"vip": math.nan}, "dropout": {}},
        ),
        "vip",
        exc=ArgumentError,
    ),
    bad(
        "from-dict-not-mapping",
        lambda: CovariateModel.from_dict([1]),
        "CovariateModel",
        exc=ArgumentError,
    ),
    bad(
        "from-dict-model",
        lambda: CovariateModel.from_dict(_dict(model="GammaGamma")),
        "model",
        exc=ArgumentError,
    ),
    bad(
        "from-dict-coefficient-text",
        lambda: CovariateModel.from_dict(
            _dict(coefficients={"purchase": {"vip": "x"}, "dropout": {"app": 0.1}})
        ),
        "coefficients.purchase.vip",
        exc=ArgumentError,
    ),
    bad(
        "from-dict-missing-process",
        lambda: CovariateModel.from_dict(_dict(coefficients={"purchase": {"vip": 0.1}})),
        "dropout",
        exc=ArgumentError,
    ),
    bad(
        "from-dict-covariates-list",
        lambda: CovariateModel.from_dict(_dict(covariates={"purchase": "vip", "dropout": []})),
        "purchase",
        exc=ArgumentError,
    ),
    bad(
        "from-dict-bad-param",
        lambda: CovariateModel.from_dict(
            _dict(params={"r": -1.0, "alpha": 5.0, "s": 0.7, "beta": 8.0})
        ),
        "r",
        exc=ArgumentError,
    ),
]


@pytest.mark.parametrize(("thunk", "names", "exc", "rows"), marked(CASES, XFAIL))
def test_bad_input(thunk, names, exc, rows):
    check_bad(thunk, exc=exc, names=names, rows=rows)


# --- nothing lost ------------------------------------------------------------------------------


def _fit_leaves_input():
    s, c = summary(), covariates()
    before = copy.deepcopy((s, c))
    ParetoNBD.fit(s, covariates=c, purchase=["vip"], dropout=["app"])
    CM.p_alive(s, c)
    assert (s, c) == before


def _roundtrip_fitted():
    fitted = BGNBD.fit(summary(), covariates=covariates(), purchase=["vip"], dropout=["app"])
    again = CovariateModel.from_dict(json.loads(json.dumps(fitted.to_dict())))
    assert again.to_dict() == fitted.to_dict()


def _no_row_dropped():
    out = CM.p_alive(summary(), covariates())
    assert len(out) == 6
    assert np.all(np.isfinite(out))


def _from_dict_does_not_share_input():
    data = copy.deepcopy(CM_DICT)
    model = CovariateModel.from_dict(data)
    data["coefficients"]["purchase"]["vip"] = 99.0
    assert model.coefficients["purchase"]["vip"] == 0.3


KEPT = [
    keep("fit-leaves-input", _fit_leaves_input),
    keep("json-roundtrip-fitted", _roundtrip_fitted),
    keep("no-row-dropped", _no_row_dropped),
    keep("from_dict-does-not-share-input", _from_dict_does_not_share_input),
]


@pytest.mark.parametrize("thunk", marked(KEPT, XFAIL))
def test_nothing_lost(thunk):
    thunk()


def test_xfail_ids_name_cases():
    assert unknown_ids(XFAIL, CASES, KEPT) == []
