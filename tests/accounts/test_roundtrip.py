"""JSON round-trips of every result lose nothing (hypothesis over generated books)."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.accounts import (
    AccountRollup,
    CommitteeCoverage,
    Influence,
    IntroPath,
    Meddpicc,
    PersonRisk,
    Threading,
    account_rollup,
    committee_coverage,
    influence,
    key_person_risk,
    meddpicc,
    threading,
    warm_paths,
)
from clientmodel.datasets.accounts import make_accounts


def _rt(obj, cls):
    data = json.loads(json.dumps(obj.to_dict()))
    assert cls.from_dict(data) == obj


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), days=st.integers(1, 365))
def test_results_round_trip(seed, days):
    data = make_accounts(n_accounts=4, contacts_per_account=8, seed=seed)
    g = data.graph()
    window = dt.timedelta(days=days)
    for d in data.deals:
        _rt(committee_coverage(g, d.id, as_of=data.as_of, window=window), CommitteeCoverage)
        _rt(threading(g, d.id, as_of=data.as_of, window=window), Threading)
        _rt(meddpicc(g, d.id), Meddpicc)
    for a in data.accounts:
        _rt(influence(g, a.id), Influence)
    for r in account_rollup(g).values():
        _rt(r, AccountRollup)
    for c in data.contacts[:6]:
        _rt(key_person_risk(g, c.id), PersonRisk)
        for p in warm_paths(g, c.id, k=2):
            _rt(p, IntroPath)
