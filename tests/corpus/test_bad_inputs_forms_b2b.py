"""Bad serialised forms of the B2B results and the scoring plan (issue 16, item 3).

Written from the classes' docs and their ``to_dict`` output: wrong types, missing and misspelt
keys (with a "did you mean"), a list where a mapping belongs, and data that is well typed but
inconsistent (a chain whose matrix does not match its states, probabilities outside [0, 1], rows
not summing to 1, quantiles out of order, a score the elements do not give...). Every case must
raise :class:`~clientmodel.errors.ArgumentError` whose field or message names the key path.
"""

from __future__ import annotations

import copy
import json

import pytest

from clientmodel.accounts import CommitteeCoverage, Meddpicc, RoleCoverage, Threading
from clientmodel.accounts.meddpicc import ELEMENTS
from clientmodel.datasets.deals import make_deals
from clientmodel.errors import ArgumentError
from clientmodel.funnel import (
    AbsorbingChain,
    Backtest,
    BookingsForecast,
    CommitteeView,
    NaiveBayesScore,
    fit_naive_bayes,
    solve_chain,
)
from clientmodel.ltv import BGNBD, GammaGamma
from clientmodel.scoring import ScoringPlan
from clientmodel.segments import LifecycleWindows, RFMScorer, default_segment_map

from .conftest import bad, check_bad, marked, unknown_ids

XFAIL: dict[str, str] = {}

# --- valid results, as a user gets them ------------------------------------------------------
HALF = dict.fromkeys(ELEMENTS, False) | {"metrics": True, "pain": True}
MEDDPICC = Meddpicc("d1", HALF, 0.25).to_dict()
WEIGHTED = Meddpicc(
    "d1", HALF, 0.5, dict.fromkeys(ELEMENTS, 0.0) | {"metrics": 1.0, "pain": 1.0, "champion": 2.0}
).to_dict()
COVERAGE = CommitteeCoverage("d1", (RoleCoverage("champion", ("c1",), ()),), "amber", ("c1",), "c1")
THREADING = Threading("d1", ("c1",), ("champion",), ("t1",))
VIEW = CommitteeView("d1", COVERAGE, THREADING, Meddpicc("d1", HALF, 0.25), False).to_dict()
CHAIN = solve_chain(
    ["lead", "demo", "won", "lost"],
    [[0, 0.5, 0.25, 0.25], [0, 0, 0.5, 0.5], [0, 0, 1, 0], [0, 0, 0, 1]],
    sojourn_days=[3.0, 5.0],
    counts=[[0, 2, 1, 1], [0, 0, 1, 1], [0, 0, 0, 0], [0, 0, 0, 0]],
).to_dict()
NB = fit_naive_bayes(make_deals(60, seed=1).deals, features=["segment", "stage"]).to_dict()
STARTS = ["2025-01-01T00:00:00+00:00", "2025-02-01T00:00:00+00:00", "2025-03-01T00:00:00+00:00"]
FORECAST = BookingsForecast(
    "USD", tuple(STARTS), (5.0, 3.0), (1.0, 0.0), (4.0, 3.0), (9.0, 6.0), (4.0, 8.0, 14.0), 100
).to_dict()
BACKTEST = Backtest(
    "2024-06-30T00:00:00+00:00", "2024-09-30T00:00:00+00:00", 12, 5.0, 1.0, 5.0, 9.0, 6.0
).to_dict()
MODEL = BGNBD(r=0.24, alpha=4.4, a=0.79, b=2.43)
PLAN = ScoringPlan(model=MODEL, spend=GammaGamma(p=6.25, q=3.74, gamma=15.44)).to_dict()
RFM = RFMScorer.fixed(
    recency=[30, 60, 90, 180], frequency=[2, 3, 5, 8], monetary=[50, 100, 200, 500]
)
FULL_PLAN = ScoringPlan(
    model=MODEL,
    rfm=RFM,
    segments=default_segment_map(),
    lifecycle=LifecycleWindows(),
    as_of="2024-06-30",
).to_dict()


def edit(form, *path, value):
    """A deep copy of ``form`` with the value at ``path`` replaced."""
    out = copy.deepcopy(form)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


def drop(form, key):
    out = copy.deepcopy(form)
    out.pop(key)
    return out


def rename(form, key, new):
    out = copy.deepcopy(form)
    out[new] = out.pop(key)
    return out


CASES = [
    # --- Meddpicc: flat booleans per element, score, complete, optional weights
    bad("meddpicc-list", lambda: Meddpicc.from_dict([MEDDPICC]), "Meddpicc"),
    bad(
        "meddpicc-missing-pain", lambda: Meddpicc.from_dict(drop(MEDDPICC, "pain")), "Meddpicc.pain"
    ),
    bad(
        "meddpicc-misspelt-pain",
        lambda: Meddpicc.from_dict(rename(MEDDPICC, "pain", "pian")),
        ["Meddpicc.pain", "pian"],
    ),
    bad(
        "meddpicc-element-text",
        lambda: Meddpicc.from_dict(edit(MEDDPICC, "metrics", value="yes")),
        "Meddpicc.metrics",
    ),
    bad(
        "meddpicc-element-int",
        lambda: Meddpicc.from_dict(edit(MEDDPICC, "champion", value=1)),
        "Meddpicc.champion",
    ),
    bad(
        "meddpicc-score-text",
        lambda: Meddpicc.from_dict(edit(MEDDPICC, "score", value="high")),
        "Meddpicc.score",
    ),
    bad(
        "meddpicc-score-above-1",
        lambda: Meddpicc.from_dict(edit(MEDDPICC, "score", value=1.5)),
        "Meddpicc.score",
    ),
    bad(
        "meddpicc-score-disagrees",
        lambda: Meddpicc.from_dict(edit(MEDDPICC, "score", value=0.75)),
        "Meddpicc.score",
    ),
    bad(
        "meddpicc-complete-disagrees",
        lambda: Meddpicc.from_dict(edit(MEDDPICC, "complete", value=True)),
        "Meddpicc.complete",
    ),
    bad(
        "meddpicc-deal-int",
        lambda: Meddpicc.from_dict(edit(MEDDPICC, "deal", value=5)),
        "Meddpicc.deal",
    ),
    bad(
        "meddpicc-unknown-key",
        lambda: Meddpicc.from_dict(edit(MEDDPICC, "budget", value=True)),
        "Meddpicc.budget",
    ),
    bad(
        "meddpicc-weights-list",
        lambda: Meddpicc.from_dict(edit(WEIGHTED, "weights", value=[1.0] * 8)),
        "Meddpicc.weights",
    ),
    bad(
        "meddpicc-weights-missing-element",
        lambda: Meddpicc.from_dict(edit(WEIGHTED, "weights", value={"metrics": 1.0})),
        "Meddpicc.weights",
    ),
    bad(
        "meddpicc-weights-negative",
        lambda: Meddpicc.from_dict(edit(WEIGHTED, "weights", "pain", value=-1.0)),
        "Meddpicc.weights.pain",
    ),
    bad(
        "meddpicc-weights-text",
        lambda: Meddpicc.from_dict(edit(WEIGHTED, "weights", "pain", value="1")),
        "Meddpicc.weights.pain",
    ),
    bad(
        "meddpicc-weights-all-zero",
        lambda: Meddpicc.from_dict(
            edit(WEIGHTED | {"score": 0.0}, "weights", value=dict.fromkeys(ELEMENTS, 0.0))
        ),
        "Meddpicc.weights",
    ),
    bad(
        "meddpicc-weighted-score-disagrees",
        lambda: Meddpicc.from_dict(edit(WEIGHTED, "score", value=0.25)),
        "Meddpicc.score",
    ),
    # --- CommitteeView: coverage, threading and MEDDPICC of one deal
    bad("view-list", lambda: CommitteeView.from_dict([VIEW]), "CommitteeView"),
    bad(
        "view-coverage-list",
        lambda: CommitteeView.from_dict(edit(VIEW, "coverage", value=[1])),
        "CommitteeView.coverage",
    ),
    bad(
        "view-coverage-status-unknown",
        lambda: CommitteeView.from_dict(edit(VIEW, "coverage", "status", value="gren")),
        "CommitteeView.coverage.status",
    ),
    bad(
        "view-threading-contacts-int",
        lambda: CommitteeView.from_dict(edit(VIEW, "threading", "engaged_contacts", value=5)),
        "CommitteeView.threading.engaged_contacts",
    ),
    bad(
        "view-meddpicc-score-text",
        lambda: CommitteeView.from_dict(edit(VIEW, "meddpicc", "score", value="x")),
        "CommitteeView.meddpicc.score",
    ),
    bad(
        "view-meddpicc-score-disagrees",
        lambda: CommitteeView.from_dict(edit(VIEW, "meddpicc", "score", value=1.0)),
        "CommitteeView.meddpicc.score",
    ),
    bad(
        "view-meddpicc-misspelt-element",
        lambda: CommitteeView.from_dict(
            edit(VIEW, "meddpicc", value=rename(VIEW["meddpicc"], "champion", "champoin"))
        ),
        ["CommitteeView.meddpicc.champion", "champoin"],
    ),
    bad(
        "view-flag-text",
        lambda: CommitteeView.from_dict(edit(VIEW, "economic_buyer_engaged", value="no")),
        "CommitteeView.economic_buyer_engaged",
    ),
    bad(
        "view-misspelt-meddpicc",
        lambda: CommitteeView.from_dict(rename(VIEW, "meddpicc", "medpicc")),
        ["CommitteeView.meddpicc", "medpicc"],
    ),
    bad(
        "view-parts-of-another-deal",
        lambda: CommitteeView.from_dict(edit(VIEW, "threading", "deal", value="d2")),
        "CommitteeView.threading.deal",
    ),
    # --- AbsorbingChain: states, kinds, matrix, counts, sojourn days
    bad("chain-list", lambda: AbsorbingChain.from_dict([CHAIN]), "AbsorbingChain"),
    bad(
        "chain-misspelt-sojourn",
        lambda: AbsorbingChain.from_dict(rename(CHAIN, "sojourn_days", "sojurn_days")),
        ["AbsorbingChain.sojourn_days", "sojurn_days"],
    ),
    bad(
        "chain-matrix-rows-fewer-than-states",
        lambda: AbsorbingChain.from_dict(edit(CHAIN, "matrix", value=CHAIN["matrix"][:3])),
        "AbsorbingChain.matrix",
    ),
    bad(
        "chain-matrix-ragged",
        lambda: AbsorbingChain.from_dict(edit(CHAIN, "matrix", 1, value=[0, 0, 1])),
        "AbsorbingChain.matrix[1]",
    ),
    bad(
        "chain-matrix-text",
        lambda: AbsorbingChain.from_dict(edit(CHAIN, "matrix", 0, 1, value="half")),
        "AbsorbingChain.matrix[0][1]",
    ),
    bad(
        "chain-matrix-above-1",
        lambda: AbsorbingChain.from_dict(edit(CHAIN, "matrix", 0, value=[0, 1.5, -0.25, -0.25])),
        "AbsorbingChain.matrix[0]",
    ),
    bad(
        "chain-matrix-negative",
        lambda: AbsorbingChain.from_dict(edit(CHAIN, "matrix", 1, value=[0, 0, 1.5, -0.5])),
        "AbsorbingChain.matrix[1]",
    ),
    bad(
        "chain-matrix-row-sum",
        lambda: AbsorbingChain.from_dict(edit(CHAIN, "matrix", 0, value=[0, 0.5, 0.25, 0.2])),
        "AbsorbingChain.matrix[0]",
    ),
    bad(
        "chain-matrix-closed-row-not-unit",
        lambda: AbsorbingChain.from_dict(edit(CHAIN, "matrix", 3, value=[0.5, 0, 0, 0.5])),
        "AbsorbingChain.matrix[3]",
    ),
    bad(
        "chain-matrix-never-closes",
        lambda: AbsorbingChain.from_dict(
            edit(CHAIN, "matrix", value=[[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
        ),
        "AbsorbingChain.matrix",
    ),
    bad(
        "chain-matrix-nan",
        lambda: AbsorbingChain.from_dict(edit(CHAIN, "matrix", 0, 0, value=float("nan"))),
        "AbsorbingChain.matrix[0][0]",
    ),
    bad(
        "chain-kinds-fewer-than-states",
        lambda: AbsorbingChain.from_dict(edit(CHAIN, "kinds", value=["open", "won", "lost"])),
        "AbsorbingChain.kinds",
    ),
    bad(
        "chain-kind-unknown",
        lambda: AbsorbingChain.from_dict(edit(CHAIN, "kinds", 2, value="win")),
        ["AbsorbingChain.kinds[2]", "did you mean 'won'"],
    ),
    bad(
        "chain-kinds-closed-first",
        lambda: AbsorbingChain.from_dict(
            edit(CHAIN, "kinds", value=["won", "open", "open", "lost"])
        ),
        "AbsorbingChain.kinds",
    ),
    bad(
        "chain-no-closed-state",
        lambda: AbsorbingChain.from_dict(edit(CHAIN, "kinds", value=["open"] * 4)),
        "AbsorbingChain.kinds",
    ),
    bad(
        "chain-states-duplicate",
        lambda: AbsorbingChain.from_dict(edit(CHAIN, "states", 1, value="lead")),
        "AbsorbingChain.states",
    ),
    bad(
        "chain-states-mapping",
        lambda: AbsorbingChain.from_dict(edit(CHAIN, "states", value={"lead": 0})),
        "AbsorbingChain.states",
    ),
    bad(
        "chain-counts-negative",
        lambda: AbsorbingChain.from_dict(edit(CHAIN, "counts", 0, 1, value=-2)),
        "AbsorbingChain.counts[0][1]",
    ),
    bad(
        "chain-counts-shape",
        lambda: AbsorbingChain.from_dict(edit(CHAIN, "counts", value=[[0, 1], [1, 0]])),
        "AbsorbingChain.counts",
    ),
    bad(
        "chain-sojourn-one-per-state",
        lambda: AbsorbingChain.from_dict(edit(CHAIN, "sojourn_days", value=[3.0, 5.0, 0, 0])),
        "AbsorbingChain.sojourn_days",
    ),
    bad(
        "chain-sojourn-negative",
        lambda: AbsorbingChain.from_dict(edit(CHAIN, "sojourn_days", 1, value=-5.0)),
        "AbsorbingChain.sojourn_days[1]",
    ),
    bad(
        "chain-sojourn-text",
        lambda: AbsorbingChain.from_dict(edit(CHAIN, "sojourn_days", 0, value="3 days")),
        "AbsorbingChain.sojourn_days[0]",
    ),
    # --- NaiveBayesScore: features, counts per feature value, class sizes, smoothing
    bad("nb-list", lambda: NaiveBayesScore.from_dict([NB]), "NaiveBayesScore"),
    bad(
        "nb-misspelt-n_won",
        lambda: NaiveBayesScore.from_dict(rename(NB, "n_won", "n_wins")),
        ["NaiveBayesScore.n_won", "n_wins"],
    ),
    bad(
        "nb-counts-list",
        lambda: NaiveBayesScore.from_dict(edit(NB, "counts", value=[["smb", 1, 2]])),
        "NaiveBayesScore.counts",
    ),
    bad(
        "nb-counts-missing-feature",
        lambda: NaiveBayesScore.from_dict(
            edit(NB, "counts", value={"segment": NB["counts"]["segment"]})
        ),
        "NaiveBayesScore.counts.stage",
    ),
    bad(
        "nb-counts-unknown-feature",
        lambda: NaiveBayesScore.from_dict(edit(NB, "counts", "owner", value={"ana": [1, 1]})),
        "NaiveBayesScore.counts.owner",
    ),
    bad(
        "nb-cell-three-values",
        lambda: NaiveBayesScore.from_dict(edit(NB, "counts", "segment", "smb", value=[2, 16, 1])),
        "NaiveBayesScore.counts.segment.smb",
    ),
    bad(
        "nb-cell-text",
        lambda: NaiveBayesScore.from_dict(edit(NB, "counts", "segment", "smb", value=["two", 16])),
        "NaiveBayesScore.counts.segment.smb[0]",
    ),
    bad(
        "nb-cell-more-than-won",
        lambda: NaiveBayesScore.from_dict(edit(NB, "counts", "stage", "lead", value=[9, 47])),
        "NaiveBayesScore.counts.stage.lead",
    ),
    bad(
        "nb-feature-sums-disagree",
        lambda: NaiveBayesScore.from_dict(edit(NB, "counts", "segment", "smb", value=[3, 16])),
        "NaiveBayesScore.counts.segment",
    ),
    bad(
        "nb-features-empty",
        lambda: NaiveBayesScore.from_dict(edit(NB, "features", value=[]) | {"counts": {}}),
        "NaiveBayesScore.features",
    ),
    bad(
        "nb-features-duplicate",
        lambda: NaiveBayesScore.from_dict(edit(NB, "features", value=["segment", "segment"])),
        "NaiveBayesScore.features",
    ),
    bad(
        "nb-n_lost-zero",
        lambda: NaiveBayesScore.from_dict(edit(NB, "n_lost", value=0)),
        "NaiveBayesScore.n_lost",
    ),
    bad(
        "nb-n_won-fraction",
        lambda: NaiveBayesScore.from_dict(edit(NB, "n_won", value=8.5)),
        "NaiveBayesScore.n_won",
    ),
    bad(
        "nb-alpha-zero",
        lambda: NaiveBayesScore.from_dict(edit(NB, "alpha", value=0)),
        "NaiveBayesScore.alpha",
    ),
    bad(
        "nb-alpha-nan",
        lambda: NaiveBayesScore.from_dict(edit(NB, "alpha", value=float("nan"))),
        "NaiveBayesScore.alpha",
    ),
    # --- BookingsForecast: one value per period, quantiles in order
    bad("forecast-list", lambda: BookingsForecast.from_dict([FORECAST]), "BookingsForecast"),
    bad(
        "forecast-misspelt-p90",
        lambda: BookingsForecast.from_dict(rename(FORECAST, "p90", "p09")),
        ["BookingsForecast.p90", "p09"],
    ),
    bad(
        "forecast-expected-too-few",
        lambda: BookingsForecast.from_dict(edit(FORECAST, "expected", value=[5.0])),
        "BookingsForecast.expected",
    ),
    bad(
        "forecast-p50-below-p10",
        lambda: BookingsForecast.from_dict(edit(FORECAST, "p50", value=[0.5, 3.0])),
        "BookingsForecast.p50[0]",
    ),
    bad(
        "forecast-p90-below-p50",
        lambda: BookingsForecast.from_dict(edit(FORECAST, "p90", value=[9.0, 2.0])),
        "BookingsForecast.p90[1]",
    ),
    bad(
        "forecast-negative-bookings",
        lambda: BookingsForecast.from_dict(edit(FORECAST, "expected", value=[5.0, -3.0])),
        "BookingsForecast.expected[1]",
    ),
    bad(
        "forecast-total-quantiles-order",
        lambda: BookingsForecast.from_dict(
            edit(FORECAST, "total_quantiles", value=[14.0, 8.0, 4.0])
        ),
        "BookingsForecast.total_quantiles",
    ),
    bad(
        "forecast-total-quantiles-two",
        lambda: BookingsForecast.from_dict(edit(FORECAST, "total_quantiles", value=[4.0, 8.0])),
        "BookingsForecast.total_quantiles",
    ),
    bad(
        "forecast-total-quantiles-mapping",
        lambda: BookingsForecast.from_dict(
            edit(FORECAST, "total_quantiles", value={"p10": 4.0, "p50": 8.0, "p90": 14.0})
        ),
        "BookingsForecast.total_quantiles",
    ),
    bad(
        "forecast-n_draws-zero",
        lambda: BookingsForecast.from_dict(edit(FORECAST, "n_draws", value=0)),
        "BookingsForecast.n_draws",
    ),
    bad(
        "forecast-period-starts-not-dates",
        lambda: BookingsForecast.from_dict(edit(FORECAST, "period_starts", 1, value="February")),
        "BookingsForecast.period_starts[1]",
    ),
    bad(
        "forecast-period-starts-backwards",
        lambda: BookingsForecast.from_dict(
            edit(FORECAST, "period_starts", value=list(reversed(STARTS)))
        ),
        "BookingsForecast.period_starts[1]",
    ),
    bad(
        "forecast-currency-int",
        lambda: BookingsForecast.from_dict(edit(FORECAST, "currency", value=840)),
        "BookingsForecast.currency",
    ),
    # --- Backtest: a window, bookings and their quantiles
    bad("backtest-list", lambda: Backtest.from_dict([BACKTEST]), "Backtest"),
    bad(
        "backtest-misspelt-actual",
        lambda: Backtest.from_dict(rename(BACKTEST, "actual", "actaul")),
        ["Backtest.actual", "actaul"],
    ),
    bad(
        "backtest-p50-below-p10",
        lambda: Backtest.from_dict(edit(BACKTEST, "p50", value=0.5)),
        "Backtest.p50",
    ),
    bad(
        "backtest-end-before-at",
        lambda: Backtest.from_dict(edit(BACKTEST, "end", value="2024-01-01T00:00:00+00:00")),
        "Backtest.end",
    ),
    bad(
        "backtest-at-not-a-date",
        lambda: Backtest.from_dict(edit(BACKTEST, "at", value="last quarter")),
        "Backtest.at",
    ),
    bad(
        "backtest-n_open-negative",
        lambda: Backtest.from_dict(edit(BACKTEST, "n_open", value=-1)),
        "Backtest.n_open",
    ),
    bad(
        "backtest-n_open-fraction",
        lambda: Backtest.from_dict(edit(BACKTEST, "n_open", value=2.5)),
        "Backtest.n_open",
    ),
    bad(
        "backtest-actual-negative",
        lambda: Backtest.from_dict(edit(BACKTEST, "actual", value=-6.0)),
        "Backtest.actual",
    ),
    # --- ScoringPlan: options, nested models and scorers named by their key path
    bad(
        "plan-misspelt-horizon",
        lambda: ScoringPlan.from_dict(rename(PLAN, "horizon", "horizn")),
        ["ScoringPlan.horizn", "did you mean 'horizon'"],
    ),
    bad(
        "plan-horizon-negative",
        lambda: ScoringPlan.from_dict(edit(PLAN, "horizon", value=-52)),
        "ScoringPlan.horizon",
    ),
    bad(
        "plan-discount-rate-text",
        lambda: ScoringPlan.from_dict(edit(PLAN, "discount_rate", value="10%")),
        "ScoringPlan.discount_rate",
    ),
    bad(
        "plan-margin-negative",
        lambda: ScoringPlan.from_dict(edit(PLAN, "margin", value=-0.5)),
        "ScoringPlan.margin",
    ),
    bad(
        "plan-steps-zero",
        lambda: ScoringPlan.from_dict(edit(PLAN, "steps", value=0)),
        "ScoringPlan.steps",
    ),
    bad(
        "plan-monetary-misspelt",
        lambda: ScoringPlan.from_dict(edit(PLAN, "monetary", value="totl")),
        ["ScoringPlan.monetary", "did you mean 'total'"],
    ),
    bad(
        "plan-unit-unknown",
        lambda: ScoringPlan.from_dict(edit(PLAN, "unit", value="fortnight")),
        "ScoringPlan.unit",
    ),
    bad(
        "plan-tz-unknown",
        lambda: ScoringPlan.from_dict(edit(PLAN, "tz", value="Mars/Olympus")),
        "ScoringPlan.tz",
    ),
    bad(
        "plan-customer-blank",
        lambda: ScoringPlan.from_dict(edit(PLAN, "customer", value=" ")),
        "ScoringPlan.customer",
    ),
    bad(
        "plan-flag-text",
        lambda: ScoringPlan.from_dict(edit(FULL_PLAN, "lifecycle_uses_model", value="yes")),
        "ScoringPlan.lifecycle_uses_model",
    ),
    bad(
        "plan-as_of-not-a-date",
        lambda: ScoringPlan.from_dict(edit(FULL_PLAN, "as_of", value="end of June")),
        "ScoringPlan.as_of",
    ),
    bad(
        "plan-as_of-naive-without-tz",
        lambda: ScoringPlan.from_dict(edit(FULL_PLAN, "as_of", value="2024-06-30T12:00:00")),
        "ScoringPlan.as_of",
    ),
    bad(
        "plan-lifecycle-without-as_of",
        lambda: ScoringPlan.from_dict(edit(FULL_PLAN, "as_of", value=None)),
        "ScoringPlan.as_of",
    ),
    bad(
        "plan-spend-without-model",
        lambda: ScoringPlan.from_dict(edit(PLAN, "model", value=None) | {"rfm": RFM.to_dict()}),
        "ScoringPlan.spend",
    ),
    bad(
        "plan-segments-without-rfm",
        lambda: ScoringPlan.from_dict(edit(FULL_PLAN, "rfm", value=None)),
        "ScoringPlan.segments",
    ),
    bad(
        "plan-scores-nothing",
        lambda: ScoringPlan.from_dict(edit(PLAN, "model", value=None) | {"spend": None}),
        "ScoringPlan.model",
    ),
    bad(
        "plan-model-list",
        lambda: ScoringPlan.from_dict(edit(PLAN, "model", value=[MODEL.to_dict()])),
        "ScoringPlan.model",
    ),
    bad(
        "plan-model-param-text",
        lambda: ScoringPlan.from_dict(edit(PLAN, "model", "params", "r", value="x")),
        "ScoringPlan.model.params",
    ),
    bad(
        "plan-model-is-a-spend-model",
        lambda: ScoringPlan.from_dict(edit(PLAN, "model", value=PLAN["spend"])),
        "ScoringPlan.model.model",
    ),
    bad(
        "plan-spend-text",
        lambda: ScoringPlan.from_dict(edit(PLAN, "spend", value="20 USD")),
        "ScoringPlan.spend",
    ),
    bad(
        "plan-spend-negative",
        lambda: ScoringPlan.from_dict(edit(PLAN, "spend", value=-20.0)),
        "ScoringPlan.spend",
    ),
    bad(
        "plan-spend-param-text",
        lambda: ScoringPlan.from_dict(edit(PLAN, "spend", "params", "p", value="six")),
        "ScoringPlan.spend.params",
    ),
    bad(
        "plan-rfm-list",
        lambda: ScoringPlan.from_dict(edit(FULL_PLAN, "rfm", value=[1, 2])),
        "ScoringPlan.rfm",
    ),
    bad(
        "plan-rfm-k-text",
        lambda: ScoringPlan.from_dict(edit(FULL_PLAN, "rfm", "k", value="three")),
        "ScoringPlan.rfm.k",
    ),
    bad(
        "plan-segments-k-text",
        lambda: ScoringPlan.from_dict(edit(FULL_PLAN, "segments", "k", value="three")),
        "ScoringPlan.segments.k",
    ),
    bad(
        "plan-lifecycle-windows-list",
        lambda: ScoringPlan.from_dict(edit(FULL_PLAN, "lifecycle", "windows", value=[7, 30])),
        "ScoringPlan.lifecycle.windows",
    ),
    bad(
        "plan-format-unknown",
        lambda: ScoringPlan.from_dict(edit(PLAN, "format", value=2)),
        "ScoringPlan.plan",
    ),
]


@pytest.mark.parametrize(("thunk", "names", "exc", "rows"), marked(CASES, XFAIL))
def test_bad_form(thunk, names, exc, rows):
    check_bad(thunk, exc=ArgumentError, names=names, rows=rows)


FORMS = [
    (Meddpicc, MEDDPICC),
    (Meddpicc, WEIGHTED),
    (CommitteeView, VIEW),
    (AbsorbingChain, CHAIN),
    (NaiveBayesScore, NB),
    (BookingsForecast, FORECAST),
    (Backtest, BACKTEST),
    (ScoringPlan, PLAN),
    (ScoringPlan, FULL_PLAN),
]


@pytest.mark.parametrize(("cls", "form"), FORMS, ids=lambda v: getattr(v, "__name__", ""))
def test_valid_forms_load_and_round_trip(cls, form):
    """The forms the cases above were edited from load, and JSON loses nothing."""
    rebuilt = cls.from_dict(json.loads(json.dumps(form)))
    assert rebuilt.to_dict() == form
    assert cls.from_dict(rebuilt.to_dict()) == rebuilt


def test_xfail_ids_name_cases():
    assert unknown_ids(XFAIL, CASES) == []
