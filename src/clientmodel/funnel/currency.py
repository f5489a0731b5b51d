"""Exchange rates given by the caller, dated, for roll-ups across currencies.

The library has no rate source of its own: the caller gives :class:`ExchangeRates` with a base
currency and, per currency, the rates effective from given dates (units of base per unit of the
currency). :meth:`ExchangeRates.rate` uses the latest rate effective on or before the date asked
for; a date before the first rate of a currency is an error, never a guess.

A roll-up converts each deal at its *close date* (when it closed, else its expected close) or at
one fixed date, and says which in its result.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from clientmodel._validation import boundary
from clientmodel.errors import ArgumentError, DataError
from clientmodel.funnel.models import money

__all__ = ["ExchangeRates"]

_Series = tuple[tuple[dt.date, Decimal], ...]


def _read_only(value: Mapping[str, _Series]) -> Mapping[str, _Series]:
    return MappingProxyType(dict(value))


def _as_dict(value: Mapping[str, _Series]) -> dict[str, list[list[str]]]:
    return {c: [[d.isoformat(), str(r)] for d, r in s] for c, s in value.items()}


_Rates = Annotated[
    Mapping[str, _Series],
    AfterValidator(_read_only),
    PlainSerializer(_as_dict, return_type=dict[str, list[list[str]]]),
]


class ExchangeRates(BaseModel):
    """Dated exchange rates into ``base``: ``rates[currency]`` is ``((from_date, rate), ...)``.

    Examples
    --------
    >>> import datetime as dt
    >>> fx = ExchangeRates(base="USD", rates={"EUR": [("2024-01-01", "1.10"),
    ...                                               ("2024-04-01", 1.07)]})
    >>> fx.rate("EUR", dt.date(2024, 3, 31)), fx.rate("EUR", dt.date(2024, 5, 1))
    (Decimal('1.10'), Decimal('1.07'))
    >>> fx.rate("USD", dt.date(2000, 1, 1))
    Decimal('1')
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    base: str = Field(pattern=r"^[A-Z]{3}$")
    rates: _Rates = Field(default_factory=lambda: MappingProxyType({}))

    @field_validator("rates", mode="before")
    @classmethod
    def _typed(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise ValueError("rates maps currency codes to [(from_date, rate), ...]")
        out: dict[str, _Series] = {}
        for currency, series in value.items():
            if not isinstance(currency, str) or len(currency) != 3 or not currency.isupper():
                raise ValueError(f"currency {currency!r} is not an ISO 4217 code such as 'EUR'")
            if isinstance(series, (str, bytes, Mapping)) or not isinstance(series, (list, tuple)):
                raise ValueError(f"{currency}: give a list of (from_date, rate) pairs")
            rows = []
            for item in series:
                if not isinstance(item, (list, tuple)) or len(item) != 2:
                    raise ValueError(f"{currency}: {item!r} is not a (from_date, rate) pair")
                day, rate = item
                try:
                    day = dt.date.fromisoformat(day) if isinstance(day, str) else day
                except ValueError:
                    raise ValueError(f"{currency}: {day!r} is not an ISO date") from None
                if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
                    raise ValueError(f"{currency}: {day!r} is not a date")
                r = money(rate, field=f"rate of {currency} on {day}")
                if r == 0:
                    raise ValueError(f"{currency}: the rate on {day} is 0")
                rows.append((day, r))
            days = [d for d, _ in rows]
            if len(set(days)) != len(days):
                raise ValueError(f"{currency}: a date is given twice")
            if not rows:
                raise ValueError(f"{currency}: give at least one (date, rate)")
            out[currency] = tuple(sorted(rows))
        return out

    @model_validator(mode="after")
    def _no_base(self) -> ExchangeRates:
        if self.base in self.rates:
            raise ValueError(f"the base currency {self.base} has rate 1 and is not listed")
        return self

    @boundary
    def rate(self, currency: str, on: dt.date) -> Decimal:
        """Units of ``base`` per unit of ``currency`` effective on ``on``."""
        if isinstance(on, dt.datetime) or not isinstance(on, dt.date):
            # a datetime is a date to isinstance but does not compare with one
            raise ArgumentError(
                f"on must be a date (datetime.date, not a datetime), got {type(on).__name__}",
                field="on",
            )
        if currency == self.base:
            return Decimal(1)
        series = self.rates.get(currency)
        if series is None:
            raise DataError(
                f"no exchange rate for {currency} into {self.base}; rates are given for "
                f"{sorted(self.rates)}",
                field="rates",
            )
        i = bisect.bisect_right([d for d, _ in series], on) - 1
        if i < 0:
            raise DataError(
                f"no {currency} rate effective on {on}: the first is from {series[0][0]}",
                field="rates",
            )
        return series[i][1]
