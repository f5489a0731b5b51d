"""Bad-input corpus for ``clientmodel.ltv.intervals`` and the figures of issue 15 (item 5).

Written from the docstrings: every case must raise a ClientModelError subclass naming the
offending argument, column or key path. Cases marked xfail(strict) do not hold today.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from clientmodel.errors import ArgumentError, DataError
from clientmodel.ltv import BGNBD, FitReport, GammaGamma
from clientmodel.ltv.intervals import (
    PredictionIntervals,
    draw_parameters,
    prediction_interval_table,
    prediction_intervals,
)
from clientmodel.plotting import (
    plot_exposure,
    plot_p_alive_history,
    plot_prediction_intervals,
    plot_spend_density,
)

from .conftest import PHONE, bad, check_bad, keep, marked, unknown_ids

XFAIL: dict[str, str] = {}

TRUE = BGNBD(r=0.25, alpha=4.0, a=0.8, b=2.5)
FITTED = BGNBD.fit(TRUE.simulate(1000, 39.0, seed=3))
GG = GammaGamma(p=6.0, q=4.0, gamma=15.0)


def _no_dropout_fit():
    """A BG/NBD fitted where nobody leaves: on the boundary (a, b -> infinity)."""
    rng = np.random.default_rng(0)
    x = rng.poisson(rng.gamma(2.0, 1 / 10, 500) * 39.0)
    recency = np.where(x > 0, 39.0 * rng.beta(np.maximum(x, 1), 1), 0.0)
    return BGNBD.fit({"frequency": x, "recency": recency, "T": np.full(500, 39.0)})


BOUNDARY = _no_dropout_fit()


def summary(**over):
    """A valid three-customer BTYD summary (weeks), with columns replaced by ``over``."""
    base = {
        "customer_id": ["a", "b", "c"],
        "frequency": [1, 0, 2],
        "recency": [4.4, 0.0, 13.0],
        "T": [25.9, 25.3, 25.7],
        "monetary_value": [20.0, 0.0, 8.5],
    }
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def pi(**kw):
    return prediction_intervals(FITTED, kw.pop("data", summary()), draws=20, seed=0, **kw)


RESULT = pi()
RESULT_DICT = RESULT.to_dict()


def result_with(**over):
    d = copy.deepcopy(RESULT_DICT)
    d.update(over)
    return d


CASES = [
    # --- the model and the quantity
    bad("model-none", lambda: prediction_intervals(None, summary()), "model"),
    bad("model-spend", lambda: prediction_intervals(GG, summary()), "model"),
    bad("model-not-fitted", lambda: prediction_intervals(TRUE, summary()), "model"),
    bad("model-boundary-fit", lambda: prediction_intervals(BOUNDARY, summary()), "model"),
    bad("draw-parameters-dict", lambda: draw_parameters(FITTED.to_dict()), "model"),
    bad("draw-parameters-zero", lambda: draw_parameters(FITTED, 0), "draws"),
    bad("quantity-typo", lambda: pi(quantity="p_alvie"), "quantity"),
    bad("quantity-none", lambda: pi(quantity=None), "quantity"),
    bad("sampling-typo", lambda: pi(sampling="bootstrp"), "sampling"),
    bad("level-one", lambda: pi(level=1.0), "level"),
    bad("level-zero", lambda: pi(level=0), "level"),
    bad("level-percent", lambda: pi(level=95), "level"),
    bad("level-nan", lambda: pi(level=math.nan), "level"),
    bad("level-text", lambda: pi(level="95%"), "level"),
    bad("draws-one", lambda: prediction_intervals(FITTED, summary(), draws=1, seed=0), "draws"),
    bad(
        "draws-float",
        lambda: prediction_intervals(FITTED, summary(), draws=10.5, seed=0),
        "draws",
    ),
    bad("draws-bool", lambda: prediction_intervals(FITTED, summary(), draws=True, seed=0), "draws"),
    bad("seed-negative", lambda: prediction_intervals(FITTED, summary(), seed=-1), "seed"),
    bad("seed-text", lambda: prediction_intervals(FITTED, summary(), seed="abc"), "seed"),
    # --- the options of each quantity
    bad("expected-no-horizon", lambda: pi(quantity="expected_purchases"), "horizon"),
    bad(
        "expected-negative-horizon",
        lambda: pi(quantity="expected_purchases", horizon=-1.0),
        "horizon",
    ),
    bad("p_alive-nan-horizon", lambda: pi(horizon=math.nan), "horizon"),
    bad("p_alive-spend-model", lambda: pi(spend_model=GG), "spend_model"),
    bad("dert-no-rate", lambda: pi(quantity="dert"), "discount_rate"),
    bad("dert-negative-rate", lambda: pi(quantity="dert", discount_rate=-0.1), "discount_rate"),
    bad("clv-no-horizon", lambda: pi(quantity="clv", discount_rate=0.1), "horizon"),
    bad(
        "clv-no-spend",
        lambda: pi(quantity="clv", discount_rate=0.1, horizon=52.0),
        "spend_model",
    ),
    bad(
        "clv-text-spend",
        lambda: pi(quantity="clv", discount_rate=0.1, horizon=52.0, spend_model="20"),
        "spend_model",
    ),
    bad(
        "clv-spend-not-fitted",
        lambda: pi(quantity="clv", discount_rate=0.1, horizon=52.0, spend_model=GG),
        "spend_model",
    ),
    bad(
        "clv-negative-margin",
        lambda: pi(quantity="clv", discount_rate=0.1, horizon=52.0, spend_model=20.0, margin=-1),
        "margin",
    ),
    bad(
        "clv-bad-unit",
        lambda: pi(quantity="clv", discount_rate=0.1, horizon=52.0, spend_model=20.0, unit="X"),
        "unit",
    ),
    bad(
        "clv-bad-method",
        lambda: pi(
            quantity="clv", discount_rate=0.1, horizon=52.0, spend_model=20.0, method="exact"
        ),
        "method",
    ),
    # --- the summary: errors name the caller's rows
    bad("summary-none", lambda: pi(data=None), ("summary", "table")),
    bad("summary-missing-column", lambda: pi(data=summary(T=None)), "T", exc=DataError),
    bad(
        "summary-nan-recency",
        lambda: pi(data=summary(recency=[4.4, math.nan, 13.0])),
        "recency",
        exc=DataError,
        rows=[1],
    ),
    bad(
        "summary-recency-after-T",
        lambda: pi(data=summary(recency=[4.4, 0.0, 30.0])),
        "recency",
        exc=DataError,
        rows=[2],
    ),
    bad(
        "summary-fractional-frequency",
        lambda: pi(data=summary(frequency=[1, 0, 2.5])),
        "frequency",
        exc=DataError,
        rows=[2],
    ),
    bad(
        "summary-renamed-missing",
        lambda: prediction_intervals(FITTED, summary(), columns={"T": "age"}, draws=5),
        "age",
        exc=DataError,
    ),
    bad("columns-list", lambda: pi(columns=["T"]), "columns"),
    bad(
        "table-unknown-customer",
        lambda: prediction_interval_table(FITTED, summary(), draws=5, customer="id"),
        "id",
        exc=DataError,
    ),
    bad(
        "table-customer-int",
        lambda: prediction_interval_table(FITTED, summary(), draws=5, customer=3),
        "customer",
    ),
    # --- from_dict: key paths
    bad("from-dict-list", lambda: PredictionIntervals.from_dict([1]), "PredictionIntervals"),
    bad(
        "from-dict-missing-lower",
        lambda: PredictionIntervals.from_dict(
            {k: v for k, v in RESULT_DICT.items() if k != "lower"}
        ),
        "lower",
    ),
    bad(
        "from-dict-unknown-key",
        lambda: PredictionIntervals.from_dict(result_with(extra=1)),
        "extra",
    ),
    bad(
        "from-dict-nan-estimate",
        lambda: PredictionIntervals.from_dict(result_with(estimate=[0.5, math.nan, 1.0])),
        "estimate[1]",
    ),
    bad(
        "from-dict-short-upper",
        lambda: PredictionIntervals.from_dict(result_with(upper=[1.0])),
        ("lower", "upper"),
    ),
    bad(
        "from-dict-level-two",
        lambda: PredictionIntervals.from_dict(result_with(level=2.0)),
        "level",
    ),
    bad(
        "from-dict-quantity",
        lambda: PredictionIntervals.from_dict(result_with(quantity="ltv")),
        "quantity",
    ),
    bad(
        "from-dict-draws-text",
        lambda: PredictionIntervals.from_dict(result_with(draws="many")),
        "draws",
    ),
    bad(
        "fit-report-covariance-text",
        lambda: FitReport.from_dict({**FITTED.fit_report.to_dict(), "covariance": "none"}),
        "covariance",
    ),
    bad(
        "fit-report-covariance-nan",
        lambda: FitReport.from_dict(
            {
                **FITTED.fit_report.to_dict(),
                "covariance": [[math.nan] * 4 for _ in range(4)],
            }
        ),
        "covariance[0][0]",
    ),
    # --- figures
    bad(
        "history-dates-no-unit",
        lambda: plot_p_alive_history(FITTED, [dt.date(2024, 1, 1)], T=dt.date(2024, 5, 1)),
        "unit",
    ),
    bad(
        "history-dates-number-T",
        lambda: plot_p_alive_history(FITTED, [dt.date(2024, 1, 1)], T=20.0, unit="W"),
        "T",
    ),
    bad(
        "history-mixed-dates",
        lambda: plot_p_alive_history(FITTED, [dt.date(2024, 1, 1), 3.0], T=20.0, unit="W"),
        "purchases",
    ),
    bad("history-text", lambda: plot_p_alive_history(FITTED, "abc", T=20.0), "purchases"),
    bad(
        "history-bad-unit",
        lambda: plot_p_alive_history(
            FITTED, [dt.date(2024, 1, 1)], T=dt.date(2024, 5, 1), unit="fortnight"
        ),
        "unit",
    ),
    bad("exposure-none", lambda: plot_exposure(None), ("summary", "table")),
    bad("exposure-missing-T", lambda: plot_exposure(summary(T=None)), "T", exc=DataError),
    bad(
        "exposure-negative-T",
        lambda: plot_exposure(summary(T=[25.9, -1.0, 25.7])),
        ("T", "recency"),
        exc=DataError,
        rows=[1],
    ),
    bad("exposure-zero-bins", lambda: plot_exposure(summary(), bins=0), "bins"),
    bad("spend-density-bgnbd", lambda: plot_spend_density(FITTED, summary()), "model"),
    bad(
        "spend-density-no-repeat-buyers",
        lambda: plot_spend_density(GG, summary(frequency=[0, 0, 0], recency=[0.0, 0.0, 0.0])),
        "monetary_value",
        exc=DataError,
    ),
    bad(
        "spend-density-text-spend",
        lambda: plot_spend_density(GG, summary(monetary_value=[20.0, 0.0, "x"])),
        "monetary_value",
        exc=DataError,
    ),
    bad("intervals-plot-dict", lambda: plot_prediction_intervals(RESULT_DICT), "intervals"),
    bad(
        "intervals-plot-labels",
        lambda: plot_prediction_intervals(RESULT, labels=["a"]),
        "labels",
    ),
    bad(
        "intervals-plot-max",
        lambda: plot_prediction_intervals(RESULT, max_customers=0),
        "max_customers",
    ),
]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize(("thunk", "names", "exc", "rows"), marked(CASES, XFAIL))
def test_bad_input(thunk, names, exc, rows):
    check_bad(thunk, exc=exc, names=names, rows=rows)


# --- nothing lost ------------------------------------------------------------------------------


def _roundtrip_result():
    again = PredictionIntervals.from_dict(json.loads(json.dumps(RESULT.to_dict())))
    assert again == RESULT


def _input_left_alone():
    data = summary()
    before = copy.deepcopy(data)
    prediction_intervals(FITTED, data, draws=10, seed=1)
    prediction_interval_table(FITTED, data, draws=10, seed=1, customer="customer_id")
    assert data == before


def _result_does_not_share_input():
    values = [0.5, 0.6]
    d = result_with(estimate=values, lower=[0.4, 0.5], upper=[0.6, 0.7])
    result = PredictionIntervals.from_dict(d)
    values[0] = 99.0
    assert result.estimate[0] == 0.5
    with pytest.raises(ValueError, match="read-only"):
        result.upper[0] = 1.0


def _every_row_kept():
    out = prediction_interval_table(FITTED, summary(), draws=10, seed=1, customer="customer_id")
    assert list(out["customer_id"]) == ["a", "b", "c"]
    assert np.all(np.isfinite(out["lower"]))


KEPT = [
    keep("json-roundtrip-result", _roundtrip_result),
    keep("input-left-alone", _input_left_alone),
    keep("result-does-not-share-input", _result_does_not_share_input),
    keep("every-row-kept", _every_row_kept),
]


@pytest.mark.parametrize("thunk", marked(KEPT, XFAIL))
def test_nothing_lost(thunk):
    thunk()


def test_phone_never_in_messages():
    """A phone number used as a customer id with bad data must not be echoed in full."""
    check_bad(
        lambda: pi(data=summary(customer_id=["a", PHONE, "c"], frequency=[1, -1, 2])),
        names=["frequency"],
    )


def test_xfail_ids_name_cases():
    assert unknown_ids(XFAIL, CASES, KEPT) == []


def test_boundary_fit_error_carries_the_reason():
    import attrs

    note = "not computed: the optimum is on the boundary of the parameter space"
    report = attrs.evolve(FITTED.fit_report, covariance=None, uncertainty_note=note)
    err = check_bad(
        lambda: prediction_intervals(attrs.evolve(FITTED, fit_report=report), summary()),
        exc=ArgumentError,
        names=["model", "bootstrap"],
    )
    assert note in str(err)
