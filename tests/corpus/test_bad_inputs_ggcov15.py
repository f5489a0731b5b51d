"""Bad-input corpus for GGompertz/NBD with covariates and the class-held covariate links
(issue 15, ggcov15): ``GGompertzNBD.fit(..., covariates=...)`` and a
:class:`clientmodel.ltv.CovariateModel` around a GGompertz/NBD.

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
from clientmodel.ltv import MBGNBD, CovariateModel, GGompertzNBD

from .conftest import EMAIL, bad, check_bad, keep, marked, unknown_ids

XFAIL: dict[str, str] = {}

GG = GGompertzNBD(r=0.7, alpha=6.0, b=0.03, s=0.6, beta=1.5)
CM = CovariateModel(
    base=GG,
    purchase=["vip"],
    dropout=["app"],
    coefficients={"purchase": {"vip": 0.3}, "dropout": {"app": -0.2}},
)
CM_DICT = CM.to_dict()


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


def fit(s=None, c=None, **kw):
    args = {"purchase": ["vip"], "dropout": ["app"]}
    args.update(kw)
    return GGompertzNBD.fit(
        summary() if s is None else s, covariates=covariates() if c is None else c, **args
    )


def _dict(**over):
    d = copy.deepcopy(CM_DICT)
    for k, v in over.items():
        d[k] = v
    return d


CASES = [
    # --- the call
    bad("no-covariate-named", lambda: fit(purchase=[], dropout=[]), "purchase", exc=ArgumentError),
    bad("dropout-not-list", lambda: fit(dropout=5), "dropout", exc=ArgumentError),
    bad("dropout-twice", lambda: fit(dropout=["app", "app"]), "dropout", exc=ArgumentError),
    bad("constrain-one-side", lambda: fit(constrain=["app"]), "constrain", exc=ArgumentError),
    bad("negative-penalty", lambda: fit(penalty=-0.5), "penalty", exc=ArgumentError),
    bad("inf-penalty", lambda: fit(penalty=math.inf), "penalty", exc=ArgumentError),
    bad("starts-with-covariates", lambda: fit(starts=[[1, 1, 1, 1, 1]]), "starts"),
    bad(
        "mbgnbd-has-no-links",
        lambda: MBGNBD.fit(summary(), covariates=covariates(), purchase=["vip"]),
        "covariates",
        exc=ArgumentError,
    ),
    # --- the covariate table
    bad("unknown-column", lambda: fit(dropout=["ap"]), "ap", exc=DataError),
    bad(
        "missing-customer-row",
        lambda: fit(c=covariates(customer_id=["a", "b", "c", "d", "e", "z"])),
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
    bad(
        "nan-covariate",
        lambda: fit(c=covariates(app=[1.0, 0.0, 0.0, math.nan, 1.0, 0.0])),
        "app",
        exc=DataError,
        rows=[3],
    ),
    bad("constant-covariate", lambda: fit(c=covariates(app=[0] * 6)), "app", exc=DataError),
    bad(
        "recency-beyond-T-still-checked",
        lambda: fit(s=summary(recency=[4.4, 0.0, 13.0, 40.0, 0.0, 7.0])),
        "recency",
    ),
    # --- predictions
    bad(
        "predict-pareto-only-method",
        lambda: CM.predict("discounted_closed_form", summary(), covariates(), 52.0, 0.01),
        "method",
        exc=ArgumentError,
    ),
    bad("predict-missing-covariates", lambda: CM.p_alive(summary()), "vip", exc=DataError),
    bad(
        "predict-negative-horizon",
        lambda: CM.p_alive(summary(), covariates(), horizon=-1.0),
        "horizon",
    ),
    bad("model-for-missing", lambda: CM.model_for({"vip": 1}), "app", exc=ArgumentError),
    bad(
        "model-for-overflow",
        lambda: CM.model_for({"vip": 1e308, "app": 0}),
        "alpha",
    ),
    # --- construction and from_dict
    bad(
        "coefficients-mismatch",
        lambda: CovariateModel(
            base=GG, purchase=[], dropout=["app"], coefficients={"purchase": {}, "dropout": {}}
        ),
        "coefficients.dropout",
        exc=ArgumentError,
    ),
    bad(
        "from-dict-bad-b",
        lambda: CovariateModel.from_dict(
            _dict(params={"r": 0.7, "alpha": 6.0, "b": -0.03, "s": 0.6, "beta": 1.5})
        ),
        "b",
        exc=ArgumentError,
    ),
    bad(
        "from-dict-missing-b",
        lambda: CovariateModel.from_dict(
            _dict(params={"r": 0.7, "alpha": 6.0, "s": 0.6, "beta": 1.5})
        ),
        "b",
        exc=ArgumentError,
    ),
]


@pytest.mark.parametrize(("thunk", "names", "exc", "rows"), marked(CASES, XFAIL))
def test_bad_input(thunk, names, exc, rows):
    check_bad(thunk, exc=exc, names=names, rows=rows)


# --- nothing lost ------------------------------------------------------------------------------


def _predict_leaves_input():
    s, c = summary(), covariates()
    before = copy.deepcopy((s, c))
    CM.p_alive(s, c)
    CM.expected_purchases(s, 10.0, c)
    assert (s, c) == before


def _roundtrip():
    again = CovariateModel.from_dict(json.loads(json.dumps(CM.to_dict())))
    assert again == CM
    assert again.to_dict() == CM.to_dict()


def _no_row_dropped():
    out = CM.expected_purchases(summary(), 26.0, covariates())
    assert len(out) == 6
    assert np.all(np.isfinite(out))


KEPT = [
    keep("predict-leaves-input", _predict_leaves_input),
    keep("json-roundtrip", _roundtrip),
    keep("no-row-dropped", _no_row_dropped),
]


@pytest.mark.parametrize("thunk", marked(KEPT, XFAIL))
def test_nothing_lost(thunk):
    thunk()


def test_xfail_ids_name_cases():
    assert unknown_ids(XFAIL, CASES, KEPT) == []
