"""Covariates dispatch on the model class (issue 15, ggcov15 item 1): a model takes covariates
because its class says how (``COVARIATES``), never because of its name."""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import attrs
import numpy as np
import pandas as pd
import pytest

import clientmodel.ltv.covariates as covariates_module
from clientmodel.errors import ArgumentError
from clientmodel.ltv import ParetoNBD, ShiftedBetaGeometric
from clientmodel.ltv._base import REGISTRY
from clientmodel.ltv.checks import predictions, sample
from clientmodel.ltv.covariates import CovariateLinks, CovariateModel
from clientmodel.ltv.mbgnbd import MBGNBD


def _code_strings_and_names(path: Path) -> set[str]:
    """Every string constant (docstrings excluded) and identifier of a module's code."""
    tree = ast.parse(path.read_text())
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings:
                out.add(node.value)
        elif isinstance(node, ast.Name):
            out.add(node.id)
        elif isinstance(node, ast.Attribute):
            out.add(node.attr)
    return out


def test_the_covariates_module_names_no_model():
    """No model name appears in the code of ``covariates.py`` (it dispatched through tables keyed
    by ``type(model).__name__``)."""
    used = _code_strings_and_names(Path(covariates_module.__file__))
    assert not used & set(REGISTRY), sorted(used & set(REGISTRY))


@attrs.frozen(kw_only=True)
class _RenamedPareto(ParetoNBD):
    """A model under another name (the leading underscore keeps it out of the registry)."""


def _vip_data(seed: int = 4, n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for vip in (0, 1):
        model = ParetoNBD(r=0.8, alpha=8.0 * math.exp(-0.6 * vip), s=0.7, beta=10.0)
        parts.append(pd.DataFrame({**model.simulate(n, 52.0, seed=rng), "vip": vip}))
    return pd.concat(parts, ignore_index=True)


def test_a_subclass_takes_covariates_through_its_class():
    """Before: 'covariates are supported for BGNBD, ParetoNBD, ShiftedBetaGeometric, not
    _RenamedPareto'. Now the subclass inherits ``COVARIATES`` and fits as its parent."""
    data = _vip_data()
    ours = _RenamedPareto.fit(data, covariates=True, purchase=["vip"])
    parent = ParetoNBD.fit(data, covariates=True, purchase=["vip"])
    assert isinstance(ours.base, _RenamedPareto)
    assert ours.coefficients == parent.coefficients
    np.testing.assert_array_equal(ours.p_alive(data), parent.p_alive(data))


def test_models_without_links_refuse_covariates():
    """MBG/NBD inherits the BG/NBD's likelihood code but has no covariate form."""
    assert MBGNBD.COVARIATES is None
    data = MBGNBD(r=0.5, alpha=6.0, a=0.9, b=1.6).simulate(50, 30.0, seed=1)
    data["vip"] = np.arange(50) % 2
    with pytest.raises(ArgumentError, match="not MBGNBD") as err:
        MBGNBD.fit(data, covariates=True, purchase=["vip"])
    assert err.value.field == "covariates"
    assert "ParetoNBD" in str(err.value)
    with pytest.raises(ArgumentError, match="no covariate form"):
        CovariateModel.from_dict(
            {
                "model": "MBGNBD",
                "format_version": 1,
                "params": {"r": 0.5, "alpha": 6.0, "a": 0.9, "b": 1.6},
                "covariates": {"purchase": ["vip"], "dropout": []},
                "coefficients": {"purchase": {"vip": 0.1}, "dropout": {}},
            }
        )


COVARIATE_MODELS = sorted(n for n, c in REGISTRY.items() if c.COVARIATES is not None)


def test_the_models_with_covariates():
    assert COVARIATE_MODELS == ["BGNBD", "GGompertzNBD", "ParetoNBD", "ShiftedBetaGeometric"]


def _with_covariate(name: str):
    """The model at its EXAMPLE, data drawn from it with a 0/1 column ``u``, and a covariate
    model with ``u`` on every process the model has."""
    cls = REGISTRY[name]
    model = cls(**cls.EXAMPLE)
    table = sample(model, 120, seed=3)
    table["u"] = np.arange(120) % 2
    processes = cls.COVARIATES.processes
    cm = CovariateModel(
        base=model,
        purchase=["u"] if "purchase" in processes else [],
        dropout=["u"] if "dropout" in processes else [],
        coefficients={p: ({"u": 0.4} if p in processes else {}) for p in ("purchase", "dropout")},
    )
    return cls, table, cm


@pytest.mark.parametrize("name", COVARIATE_MODELS)
def test_covariate_contract(name):
    """Every model with covariates: links for each parameter, predictions that exist, the
    customers of each covariate value scored by the plain model at their parameters, the
    likelihood a sum over those groups, a JSON round-trip that loses nothing."""
    cls, table, cm = _with_covariate(name)
    spec = cls.COVARIATES
    # by name: the doctest run imports the module a second time (--import-mode=importlib)
    assert type(spec).__name__ == CovariateLinks.__name__
    assert len(spec.links) == len(cls.PARAMS)
    for method in spec.predictions:
        assert callable(getattr(cls, method)), method
    total = 0.0
    for u in (0, 1):
        rows = table["u"] == u
        part = {k: v[rows] for k, v in table.items() if k != "u"}
        plain = cm.model_for({"u": u})
        for method, value in predictions(plain, part).items():
            assert np.all(np.isfinite(value)), method
        first = spec.predictions[0]
        np.testing.assert_allclose(
            cm.predict(first, table)[rows], getattr(plain, first)(part), rtol=1e-12
        )
        total += spec.group([part[n] for n in spec.history], np.ones(int(rows.sum())))(
            np.array([getattr(plain, n) for n in cls.PARAMS]), 0
        )[0]
    assert cm.log_likelihood_of(table) == pytest.approx(total, rel=1e-12)
    again = CovariateModel.from_dict(json.loads(json.dumps(cm.to_dict())))
    assert again == cm
    np.testing.assert_array_equal(
        again.predict(spec.predictions[0], table), cm.predict(spec.predictions[0], table)
    )


def test_sbg_log_likelihood_of_reads_tenures():
    """Before: ``CovariateModel.log_likelihood_of`` handed the tenures to the plain sBG's
    ``log_likelihood_of``, which reads cohort counts, and raised ("cohort 0 starts with n_0 = 0").
    Golden: Fader & Hardie (2007) eq. 3-4 per customer, written here with betaln."""
    from scipy import special

    cm = CovariateModel(
        base=ShiftedBetaGeometric(alpha=0.7, beta=1.2),
        purchase=[],
        dropout=["u"],
        coefficients={"purchase": {}, "dropout": {"u": 0.5}},
    )
    h = {"renewals": [0, 3, 1, 5], "churned": [1, 0, 1, 0], "u": [0, 1, 0, 1]}
    k, e, u = (np.array(h[c], dtype=float) for c in ("renewals", "churned", "u"))
    beta = 1.2 * np.exp(-0.5 * u)
    want = np.sum(special.betaln(0.7 + e, beta + k) - special.betaln(0.7, beta))
    assert cm.log_likelihood_of(h) == pytest.approx(want, rel=1e-12)


def test_a_model_without_a_purchase_process_says_so():
    with pytest.raises(ArgumentError, match="no purchase process") as err:
        CovariateModel(
            base=ShiftedBetaGeometric(alpha=0.7, beta=1.2),
            purchase=["z"],
            dropout=[],
            coefficients={"purchase": {"z": 0.1}, "dropout": {}},
        )
    assert err.value.field == "purchase"
