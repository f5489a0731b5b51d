"""The model contract: check_model over every registered model, the registry, and checks that can
fail."""

from __future__ import annotations

import ast
from pathlib import Path

import attrs
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientmodel.errors import ArgumentError
from clientmodel.ltv import BGNBD, GammaGamma, model_classes, model_from_dict
from clientmodel.ltv.checks import (
    check_finite,
    check_model,
    check_monotone,
    check_record_equals_table,
)
from clientmodel.ltv.contract import RetentionModel, SpendModel, TransactionModel

SRC = Path(__file__).resolve().parents[2] / "src" / "clientmodel"
ALL = sorted(model_classes())


def test_the_registry_holds_all_seven_models_by_kind():
    assert ALL == [
        "BGBB",
        "BGNBD",
        "GGompertzNBD",
        "GammaGamma",
        "MBGNBD",
        "ParetoNBD",
        "ShiftedBetaGeometric",
    ]
    assert sorted(model_classes("transaction")) == [
        "BGBB",
        "BGNBD",
        "GGompertzNBD",
        "MBGNBD",
        "ParetoNBD",
    ]
    assert list(model_classes("spend")) == ["GammaGamma"]
    assert list(model_classes("retention")) == ["ShiftedBetaGeometric"]
    with pytest.raises(ArgumentError, match="kind"):
        model_classes("planet")


@pytest.mark.parametrize("name", ALL)
def test_check_model(name):
    check_model(model_classes()[name], n_customers=2000)


@pytest.mark.parametrize("name", ALL)
def test_every_model_is_rebuilt_from_its_dict_by_name(name):
    cls = model_classes()[name]
    model = cls(**cls.EXAMPLE)
    assert model_from_dict(model.to_dict()) == model
    kind = cls.KIND
    other = next(k for k in ("transaction", "spend", "retention") if k != kind)
    with pytest.raises(ArgumentError, match="not a known"):
        model_from_dict(model.to_dict(), other)


def test_no_dispatch_on_class_names_types_or_hasattr():
    # clv.py and scoring.py use the contract's bases and registry, never a model's name, a
    # concrete class or hasattr.
    for path in (SRC / "ltv" / "clv.py", SRC / "scoring.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("hasattr", "getattr")
            ):
                target = node.args[0]
                assert not (isinstance(target, ast.Name) and "model" in target.id), node.lineno
                assert not (isinstance(target, ast.Name) and target.id == "spend"), node.lineno
        text = path.read_text()
        for concrete in ("ParetoNBD", "GammaGamma)", "BGNBD)", "MBGNBD"):
            assert f"isinstance(model, {concrete}" not in text
        assert "_TRANSACTION_MODELS" not in text


def test_pareto_nbd_does_not_import_private_helpers_of_bgnbd():
    tree = ast.parse((SRC / "ltv" / "pareto_nbd.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.module != "clientmodel.ltv.bgnbd", node.lineno


def test_churn_risk_is_defined_once_per_kind():
    for name, cls in model_classes().items():
        defined = [k for k in cls.__mro__ if "churn_risk" in vars(k)]
        if cls.KIND == "spend":
            assert defined == [], name
        else:
            assert defined == [TransactionModel if cls.KIND == "transaction" else RetentionModel]
    assert issubclass(GammaGamma, SpendModel)


# ---------------------------------------------------------------- checks can fail


@attrs.frozen(kw_only=True)
class _LeakyBGNBD(BGNBD):
    """Breaks the contract: P(alive) above 1 for customers with many purchases."""

    def p_alive(self, summary, *, horizon=0.0, columns=None):
        value = super().p_alive(summary, horizon=horizon, columns=columns)
        return value * 1.5


@attrs.frozen(kw_only=True)
class _TableOnlyBGNBD(BGNBD):
    """Breaks the contract: a record is scored differently from its row."""

    def expected_purchases(self, summary, t, *, columns=None):
        value = super().expected_purchases(summary, t, columns=columns)
        return value + 1.0 if isinstance(value, float) else value


@attrs.frozen(kw_only=True)
class _ShrinkingBGNBD(BGNBD):
    """Breaks the theory: expected purchases fall as the window grows."""

    def expected_purchases(self, summary, t, *, columns=None):
        return super().expected_purchases(summary, 1.0 / (1.0 + t), columns=columns)


def test_the_checks_catch_broken_models():
    params = BGNBD.EXAMPLE
    table = BGNBD(**params).simulate(300, 39.0, seed=4)
    with pytest.raises(AssertionError, match="p_alive"):
        check_finite(_LeakyBGNBD(**params), table)
    with pytest.raises(AssertionError, match="record != table"):
        check_record_equals_table(_TableOnlyBGNBD(**params), table)
    with pytest.raises(AssertionError, match="falls"):
        check_monotone(_ShrinkingBGNBD(**params), table)
    assert "_LeakyBGNBD" not in model_classes()


# ---------------------------------------------------------------- a hypothesis-drawn domain


def _histories(discrete: bool):
    def build(rows):
        if discrete:
            n = np.array([r[2] for r in rows])
            tx = np.array([min(r[1], r[2]) for r in rows])
            x = np.where(tx > 0, np.clip(np.array([r[0] for r in rows]), 1, tx), 0)
            return {"frequency": x, "recency": tx, "n": n}
        t = np.array([float(r[2]) for r in rows])
        x = np.array([r[0] for r in rows])
        tx = np.where(x > 0, np.array([r[3] for r in rows]) * t, 0.0)
        return {"frequency": x, "recency": tx, "T": t}

    row = st.tuples(
        st.integers(0, 400), st.integers(0, 300), st.integers(0, 300), st.floats(0.0, 1.0)
    )
    return st.lists(row, min_size=1, max_size=25).map(build)


@pytest.mark.parametrize("name", sorted(model_classes("transaction")))
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_predictions_are_finite_on_any_valid_history(name, data):
    cls = model_classes()[name]
    table = data.draw(_histories(discrete="n" in cls.SUMMARY))
    params = {k: v * data.draw(st.sampled_from([0.05, 1.0, 20.0])) for k, v in cls.EXAMPLE.items()}
    check_finite(cls(**params), table)
