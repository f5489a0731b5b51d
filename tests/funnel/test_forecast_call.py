"""The forecast call up an owner hierarchy with adjustments as their own layer (hand-computed)."""

from __future__ import annotations

import datetime as dt

import pytest

from clientmodel.datasets.deals import standard_pipeline
from clientmodel.errors import ArgumentError, DataError
from clientmodel.funnel import (
    Adjustment,
    close,
    deal_category,
    forecast_call,
    move,
    open_deal,
    update,
)

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 1, 2, tzinfo=UTC)
P = standard_pipeline()
Q1 = {"start": dt.date(2024, 1, 1), "end": dt.date(2024, 3, 31)}
TREE = {"ana": "maria", "ben": "maria", "maria": "vp"}


def _deal(i, owner, amount, stage="lead", close_on=None):
    d = open_deal(
        f"{owner}{i}", P, at=T0, account_id="A", owner=owner, amount=amount, expected_close=close_on
    )
    return d if stage == "lead" else move(d, stage, T0 + dt.timedelta(days=1), P)


def _book():
    feb, mar, apr = dt.date(2024, 2, 15), dt.date(2024, 3, 15), dt.date(2024, 4, 15)
    won = close(_deal(3, "ana", 30, "negotiation", mar), "won", T0 + dt.timedelta(days=9), P)
    ana4 = update(
        _deal(4, "ana", 20, "lead", mar),
        T0 + dt.timedelta(days=2),
        forecast_category="commit",
        actor="ana",
    )
    return [
        _deal(1, "ana", 100, "negotiation", feb),  # commit
        _deal(2, "ana", 50, "proposal", mar),  # best case
        won,  # closed in January
        ana4,  # a lead the rep calls commit (override layer)
        _deal(5, "ana", 40, "proposal"),  # no expected close: its own bucket
        _deal(1, "ben", 200, "negotiation", mar),  # commit
        _deal(2, "ben", 10, "lead", apr),  # next quarter
        _deal(1, "maria", 70, "proposal", feb),  # best case
    ]


def test_the_call_rolls_up_with_a_managers_adjustment_as_its_own_layer():
    at = T0 + dt.timedelta(days=20)
    adjustments = [
        Adjustment(owner="ben", call="commit", amount=120, by="maria", at=at, reason="slip"),
        {"owner": "maria", "call": "commit", "amount": "260", "by": "vp", "at": at},
    ]
    calls = {
        c.owner: c
        for c in forecast_call(
            _book(), P, **Q1, hierarchy=TREE, adjustments=adjustments, quotas={"ana": 100}
        )
    }
    ana, ben, maria, vp = calls["ana"], calls["ben"], calls["maria"], calls["vp"]
    # ana by hand: closed 30; commit 100 + 20 (override) -> call 150; best case +50 -> 200
    assert (ana.closed, ana.commit, ana.best_case, ana.open_pipeline) == (30, 150, 200, 200)
    assert ana.no_close_date == 40
    assert ana.attainment == pytest.approx(0.3)
    assert (ben.commit, ben.submitted_commit, ben.commit_layer) == (200, 120, "adjustment")
    assert ben.adjusted_by == ("maria",)
    assert ben.best_case_layer == "deals"
    # maria computed: own commit 0 + ana 150 + ben's adjusted 120; best case 70 + 200 + 200
    assert (maria.commit, maria.best_case, maria.open_pipeline) == (270, 470, 470)
    assert (maria.submitted_commit, maria.commit_layer) == (260, "adjustment")
    assert (vp.commit, vp.closed, vp.n_deals, vp.level) == (260, 30, 8, 0)
    assert [c.owner for c in forecast_call(_book(), P, **Q1, hierarchy=TREE)] == [
        "vp",
        "maria",
        "ana",
        "ben",
    ]


def test_adjustments_after_as_of_are_ignored_and_the_latest_wins():
    early, late = T0 + dt.timedelta(days=5), T0 + dt.timedelta(days=30)
    adjustments = [
        Adjustment(owner="ben", call="commit", amount=150, by="maria", at=early),
        Adjustment(owner="ben", call="commit", amount=90, by="vp", at=late),
    ]
    now = {
        c.owner: c for c in forecast_call(_book(), P, **Q1, hierarchy=TREE, adjustments=adjustments)
    }
    assert now["ben"].submitted_commit == 90
    then = {
        c.owner: c
        for c in forecast_call(
            _book(),
            P,
            **Q1,
            hierarchy=TREE,
            adjustments=adjustments,
            as_of=early + dt.timedelta(days=1),
        )
    }
    assert then["ben"].submitted_commit == 150


def test_bad_hierarchies_and_adjustments_are_named():
    with pytest.raises(DataError, match="not in the hierarchy"):
        forecast_call(_book(), P, **Q1, hierarchy={"ana": "maria"})
    with pytest.raises(ArgumentError, match="cycle"):
        forecast_call(_book(), P, **Q1, hierarchy={**TREE, "vp": "ana"})
    peer = Adjustment(owner="ana", call="commit", amount=1, by="ben", at=T0)
    with pytest.raises(DataError, match="'ben' is not 'ana' or one of their managers"):
        forecast_call(_book(), P, **Q1, hierarchy=TREE, adjustments=[peer])
    with pytest.raises(DataError, match=r"Adjustment at row 0.*amount"):
        forecast_call(
            _book(),
            P,
            **Q1,
            hierarchy=TREE,
            adjustments=[
                {"owner": "ana", "call": "commit", "amount": "lots", "by": "maria", "at": T0}
            ],
        )
    with pytest.raises(ArgumentError, match="quota"):
        forecast_call(_book(), P, **Q1, hierarchy=TREE, quotas={"ana": "12k"})


def test_deal_category_records_its_layer():
    book = _book()
    assert deal_category(book[0], P).layer == "stage"
    assert (deal_category(book[3], P).category, deal_category(book[3], P).layer) == (
        "commit",
        "override",
    )
    assert (deal_category(book[2], P).category, deal_category(book[2], P).layer) == (
        "closed",
        "closed",
    )
