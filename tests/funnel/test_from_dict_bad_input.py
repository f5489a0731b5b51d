"""Every B2B ``from_dict`` answers a malformed form with a library error naming the key path."""

from __future__ import annotations

import copy
from decimal import Decimal

import numpy as np
import pytest

from clientmodel.accounts import (
    AccountRollup,
    CommitteeCoverage,
    Hop,
    Influence,
    IntroPath,
    Meddpicc,
    PersonRisk,
    PowerMap,
    RoleCoverage,
    Threading,
)
from clientmodel.accounts.meddpicc import ELEMENTS
from clientmodel.datasets.deals import make_deals
from clientmodel.errors import ArgumentError, ClientModelError
from clientmodel.funnel import (
    AbsorbingChain,
    Backtest,
    BookingsForecast,
    CommitteeView,
    fit_naive_bayes,
    solve_chain,
)
from clientmodel.funnel.probability import NaiveBayesScore

_NB = fit_naive_bayes(make_deals(80, seed=1).deals, features=["source"])
_ROLE = RoleCoverage("champion", ("c1",), ("c1",))
_COV = CommitteeCoverage("d1", (_ROLE,), "amber", ("c1",), "c1")
_THR = Threading("d1", ("c1",), ("champion",), ("t1",))
_MED = Meddpicc("d1", dict.fromkeys(ELEMENTS, True), 1.0)
RESULTS = [
    _NB,
    BookingsForecast(
        "USD", ("2025-01-01", "2025-02-01"), (1.0,), (0.0,), (1.0,), (2.0,), (0.0, 1.0, 2.0), 4
    ),
    Backtest("2025-01-01", "2025-04-01", 1, 1.0, 0.0, 1.0, 2.0, 1.0),
    solve_chain(["a", "won", "lost"], [[0, 0.2, 0.8], [0, 1, 0], [0, 0, 1]], sojourn_days=[3.0]),
    _ROLE,
    _COV,
    _THR,
    _MED,
    CommitteeView("d1", _COV, _THR, _MED, True),
    Influence("acme", (("c1", 0.7), ("c2", 0.3))),
    PowerMap("d1", "acme", (("c1", ("champion",), "supporter", 0.5),), 0.5, {"supporter": 1.0}),
    Hop("t1", "c1", "knows", 0.8),
    IntroPath(("t1", "c1"), (Hop("t1", "c1", "knows", 0.8),), "Ana knows Dana"),
    PersonRisk("c1", True, (("t1", "knows", 0.5),), (("d1", "champion"),), ()),
    AccountRollup("a", None, ("s",), "USD", *(Decimal(1),) * 4, 1, 2, 3, 4),
]
BAD_VALUES = [None, "x", 5, -1.5, float("nan"), [], {}, ["x"], [[1]], True]


def _ids(value):
    return type(value).__name__


@pytest.mark.parametrize("result", RESULTS, ids=_ids)
def test_round_trip_and_non_mapping(result):
    assert type(result).from_dict(result.to_dict()) == result
    for bad in (5, "x", [1, 2], None):
        with pytest.raises(ArgumentError):
            type(result).from_dict(bad)


@pytest.mark.parametrize("result", RESULTS, ids=_ids)
def test_a_missing_key_is_named(result):
    data = result.to_dict()
    derived = {
        "coverage",
        "engaged_coverage",
        "missing_roles",
        "unengaged_roles",
        "filled",
        "engaged",
        "single_threaded",
        "n_engaged_contacts",
        "n_engaged_roles",
        "severity",
        "complete",
        "strength",
    }
    for key in [k for k in data if k not in derived or type(result) is CommitteeView]:
        broken = {k: v for k, v in data.items() if k != key}
        with pytest.raises(ArgumentError, match=key):
            type(result).from_dict(broken)


@pytest.mark.parametrize("result", RESULTS, ids=_ids)
def test_a_wrong_value_never_leaks_an_internal_exception(result):
    data = result.to_dict()
    for key in data:
        for bad in BAD_VALUES:
            broken = copy.deepcopy(data)
            broken[key] = bad
            try:
                rebuilt = type(result).from_dict(broken)
            except ClientModelError:
                continue
            # accepted: then it must be a real, serialisable result
            assert isinstance(rebuilt.to_dict(), dict)


def test_chain_from_dict_checks_shapes():
    chain = solve_chain(["a", "won", "lost"], [[0, 0.2, 0.8], [0, 1, 0], [0, 0, 1]])
    data = chain.to_dict()
    data["matrix"] = [[0, 1], [1, 0]]
    with pytest.raises(ArgumentError, match=r"AbsorbingChain\.matrix must be 3x3"):
        AbsorbingChain.from_dict(data)
    nb = _NB.to_dict()
    nb["counts"]["source"]["inbound"] = [1, -2]
    with pytest.raises(ArgumentError, match=r"counts\.source\.inbound"):
        NaiveBayesScore.from_dict(nb)
    fc = RESULTS[1].to_dict()
    fc["p10"] = [1.0, 2.0]
    with pytest.raises(ArgumentError, match="p10"):
        BookingsForecast.from_dict(fc)
    assert np.isfinite(chain.win_probability("a"))
