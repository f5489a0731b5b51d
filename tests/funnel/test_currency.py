"""Roll-ups across currencies with caller-given dated rates (hand-computed)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pydantic import ValidationError

from clientmodel.datasets.deals import standard_pipeline
from clientmodel.errors import ArgumentError, DataError
from clientmodel.funnel import (
    ExchangeRates,
    category_rollup,
    close,
    forecast_call,
    move,
    open_deal,
)

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 1, 2, tzinfo=UTC)
P = standard_pipeline()
Q1 = {"start": dt.date(2024, 1, 1), "end": dt.date(2024, 3, 31)}
FX = ExchangeRates(base="USD", rates={"EUR": [("2024-01-01", "1.10"), ("2024-03-01", "1.20")]})


def _deal(i, currency, amount, stage, closes, owner="ana"):
    d = open_deal(
        i,
        P,
        at=T0,
        account_id="A",
        owner=owner,
        amount=amount,
        currency=currency,
        expected_close=closes,
    )
    return move(d, stage, T0 + dt.timedelta(days=1), P)


def _book():
    feb, mar = dt.date(2024, 2, 15), dt.date(2024, 3, 10)
    won = close(_deal("E3", "EUR", 100, "negotiation", mar), "won", T0 + dt.timedelta(days=9), P)
    return [
        _deal("U1", "USD", 1000, "negotiation", feb),
        _deal("E1", "EUR", 1000, "negotiation", feb),  # at 1.10 on its close date
        _deal("E2", "EUR", 500, "proposal", mar),  # at 1.20 on its close date
        won,  # closed 11 January: 1.10
    ]


def test_conversion_at_each_deals_close_date_by_hand():
    (r,) = category_rollup(_book(), P, **Q1, rates=FX)
    assert (r.currency, r.converted_at) == ("USD", "close_date")
    assert (r.closed, r.commit, r.best_case) == (
        Decimal("110.00"),
        Decimal("2100.00"),
        Decimal("600.00"),
    )
    assert r.commit_call == Decimal("2210.00")
    unconverted = {x.currency: x for x in category_rollup(_book(), P, **Q1)}
    assert unconverted["EUR"].commit == Decimal(1000)
    assert unconverted["EUR"].converted_at is None


def test_conversion_at_a_fixed_date_by_hand():
    (r,) = category_rollup(_book(), P, **Q1, rates=FX, convert_at=dt.date(2024, 3, 31))
    assert r.converted_at == "2024-03-31"
    assert (r.closed, r.commit, r.best_case) == (
        Decimal("120.00"),
        Decimal("2200.00"),
        Decimal("600.00"),
    )


def test_missing_or_too_early_rates_are_errors_not_guesses():
    gbp = _deal("G1", "GBP", 10, "negotiation", dt.date(2024, 2, 1))
    with pytest.raises(DataError, match="no exchange rate for GBP"):
        category_rollup([gbp], P, **Q1, rates=FX)
    late = ExchangeRates(base="USD", rates={"EUR": [("2024-02-20", "1.1")]})
    with pytest.raises(DataError, match="first is from 2024-02-20"):
        category_rollup(_book(), P, **Q1, rates=late)
    with pytest.raises(ArgumentError, match="convert_at"):
        category_rollup(_book(), P, **Q1, rates=FX, convert_at="today")  # type: ignore[arg-type]
    for bad in (
        {"EUR": [("2024-01-01",)]},
        {"EUR": [("x", "1")]},
        {"eur": []},
        {"EUR": [("2024-01-01", "0")]},
        {"USD": [("2024-01-01", "1")]},
    ):
        with pytest.raises(ValidationError):
            ExchangeRates(base="USD", rates=bad)


def test_forecast_call_across_currencies_states_the_conversion():
    with pytest.raises(DataError, match="several currencies"):
        forecast_call(_book(), P, **Q1, hierarchy={"ana": None})
    (ana,) = forecast_call(_book(), P, **Q1, hierarchy={"ana": None}, rates=FX)
    assert (ana.currency, ana.converted_at, ana.commit) == ("USD", "close_date", Decimal("2210.00"))
    assert ExchangeRates.model_validate_json(FX.model_dump_json()) == FX
