r"""Forecasts: weighted pipeline, forecast-category roll-ups, Monte Carlo bookings, backtests.

*Weighted pipeline*: :math:`\sum_i p_i a_i` over open deals, with :math:`p_i` from the probability
layers (:mod:`clientmodel.funnel.probability`).

*Category roll-up*: open deals expected to close in a period summed by forecast category, with the
usual calls "commit" = closed won + commit and "best case" = commit call + best case.

*Monte Carlo bookings*: for each draw, each open deal is won with its probability
:math:`p_i`; a won deal's close date is ``as_of`` plus a time to close drawn from the history:
chain paths are simulated from the deal's stage with the fitted transition matrix and with
sojourn times drawn from each stage's censoring-aware sojourn law (:class:`SojournLaw`:
Kaplan & Meier 1958, "Nonparametric estimation from incomplete observations", *JASA* 53, on
completed and still-open stays, with an exponential tail past the last completed stay;
exponential with the chain's mean when no stay has completed), and the times of paths that end
won form the pool. Resampling completed stays only would draw close dates too early on a young
book, where the long stays are the ones still running. Bookings per period across draws give
P10/P50/P90 and the probability of reaching a quota. Win draws and close times are drawn
independently given the deal's probability, so any probability layer can drive the forecast; the
time to close is measured from ``as_of`` (the memoryless reading of the elapsed time in the
current stage).

*Backtest*: cut every deal's history at a past date, fit the chain on what was known then,
forecast the next periods and compare with the bookings that actually happened.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict

from clientmodel._validation import (
    boundary,
    check_instance,
    check_integer,
    check_number,
    check_seed,
    check_text,
    did_you_mean,
    read_form,
)
from clientmodel.errors import ArgumentError
from clientmodel.funnel._check import check_deal, check_deals, of_type
from clientmodel.funnel._events import load
from clientmodel.funnel.currency import ExchangeRates
from clientmodel.funnel.field_history import fields_as_of
from clientmodel.funnel.history import _stays
from clientmodel.funnel.markov import AbsorbingChain, fit_chain
from clientmodel.funnel.models import Deal, Pipeline
from clientmodel.funnel.probability import NaiveBayesScore, deal_probability
from clientmodel.periods import parse_timestamp, relative_delta

__all__ = [
    "Backtest",
    "BookingsForecast",
    "CategoryRollup",
    "DealCategory",
    "Rollup",
    "SojournLaw",
    "backtest",
    "category_rollup",
    "deal_category",
    "deals_as_of",
    "simulate_bookings",
    "weighted_pipeline",
]

_US_PER_DAY = 86_400_000_000
_CENT = Decimal("0.01")


class Rollup(BaseModel):
    """Open pipeline of one group in one currency: deal count, amount and weighted amount.

    Examples
    --------
    >>> from decimal import Decimal
    >>> Rollup(currency="USD", group="commit", n_deals=2, amount=Decimal(10),
    ...        weighted=Decimal("7.5")).weighted
    Decimal('7.5')
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    currency: str
    group: str
    n_deals: int
    amount: Decimal
    weighted: Decimal


class CategoryRollup(BaseModel):
    """Forecast-category roll-up of one currency for a period, with the cumulative calls.

    The per-category sums (``closed``, ``commit``, ``best_case``, ``pipeline``, ``omitted``)
    count each deal once. The calls are Salesforce's cumulative roll-ups: ``commit_call`` =
    closed + commit, ``best_case_call`` = commit call + best case, ``open_pipeline_call`` =
    best-case call + pipeline. Open deals without an expected close date belong to no period:
    they are summed in ``no_close_date`` (``n_no_close_date`` deals) and in no call.
    ``converted_at`` is ``None`` when the amounts are in their own currency, else how they were
    converted into ``currency``: ``"close_date"`` or the ISO date of a fixed conversion.

    Examples
    --------
    >>> from decimal import Decimal
    >>> z = Decimal(0)
    >>> CategoryRollup(currency="USD", closed=z, commit=z, best_case=z, pipeline=z, omitted=z,
    ...                commit_call=z, best_case_call=z).open_pipeline_call
    Decimal('0')
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    currency: str
    closed: Decimal
    commit: Decimal
    best_case: Decimal
    pipeline: Decimal
    omitted: Decimal
    commit_call: Decimal
    best_case_call: Decimal
    open_pipeline_call: Decimal = Decimal(0)
    no_close_date: Decimal = Decimal(0)
    n_no_close_date: int = 0
    converted_at: str | None = None


def _increasing(
    stamps: Sequence[str], field: str, *, names: Sequence[str] | None = None
) -> list[dt.datetime]:
    """ISO dates or timestamps (text), strictly increasing; ``field`` formats the key or index."""
    where = (
        [field.format(n) for n in names] if names else [f"{field}[{i}]" for i in range(len(stamps))]
    )
    if not names and len(stamps) < 2:
        raise ArgumentError(
            f"{field} must hold at least 2 period boundaries, got {len(stamps)}", field=field
        )
    out: list[dt.datetime] = []
    for w, stamp in zip(where, stamps, strict=True):
        at = parse_timestamp(check_text(stamp, w), field=w)
        if not isinstance(at, dt.datetime):
            at = dt.datetime.combine(at, dt.time())
        out.append(at if at.tzinfo is not None else at.replace(tzinfo=dt.timezone.utc))
        if len(out) > 1 and not out[-2] < out[-1]:
            previous = where[len(out) - 2]
            raise ArgumentError(
                f"{w}={stamp!r} must come after {previous}={stamps[len(out) - 2]!r}", field=w
            )
    return out


def _ordered(quantiles: Sequence[float], field: str) -> None:
    """P10 <= P50 <= P90 (``field`` formats the quantile's number), up to rounding."""
    for (lo, a), (hi, b) in zip(
        ((10, quantiles[0]), (50, quantiles[1])),
        ((50, quantiles[1]), (90, quantiles[2])),
        strict=True,
    ):
        if a > b + 1e-9 * max(abs(a), abs(b), 1.0):
            raise ArgumentError(
                f"{field.format(hi)}={b!r} is below {field.format(lo)}={a!r}; quantiles must be "
                "P10 <= P50 <= P90",
                field=field.format(hi),
            )


def _aware(value: dt.datetime, field: str) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ArgumentError(
            f"{field} must be a timezone-aware datetime; got {value!r}", field=field
        )
    return value


@boundary
def category_of(deal: Deal, pipeline: Pipeline) -> str:
    """The deal's forecast category: its own override, else its stage's."""
    if deal.forecast_category is not None and not deal.is_closed:
        return deal.forecast_category
    return str(pipeline.stage(deal.stage).forecast_category)


class DealCategory(BaseModel):
    """A deal's forecast category and the layer it came from.

    ``layer`` is ``closed`` (won deals are ``closed``, lost ones ``omitted``), ``override`` (the
    deal's own ``forecast_category``, set by a rep or manager) or ``stage`` (the stage's).

    Examples
    --------
    >>> DealCategory(deal_id="D1", category="commit", layer="override").layer
    'override'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    deal_id: str
    category: str
    layer: Literal["closed", "override", "stage"]


@boundary
def deal_category(deal: Deal, pipeline: Pipeline) -> DealCategory:
    """The forecast category a roll-up counts the deal in, with its layer.

    Examples
    --------
    >>> import datetime as dt
    >>> from clientmodel.datasets.deals import standard_pipeline
    >>> from clientmodel.funnel.transitions import open_deal
    >>> p = standard_pipeline()
    >>> d = open_deal("D1", p, at=dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc),
    ...               account_id="A", owner="o", amount=10)
    >>> deal_category(d, p).layer, deal_category(d.model_copy(
    ...     update={"forecast_category": "commit"}), p).category
    ('stage', 'commit')
    """
    deal = check_deal(deal, pipeline)
    layer: Literal["closed", "override", "stage"] = (
        "closed" if deal.is_closed else "override" if deal.forecast_category else "stage"
    )
    return DealCategory(deal_id=deal.id, category=category_of(deal, pipeline), layer=layer)


def _check_by(by: Any, deals: Sequence[Deal]) -> str:
    """``by`` names a deal attribute, ``forecast_category`` or a key some deal's fields hold."""
    check_text(by, "by")
    known = set(Deal.model_fields) - {"fields", "history", "field_history"}
    known.add("forecast_category")
    if by in known or any(by in d.fields for d in deals):
        return str(by)
    keys = sorted(known | {k for d in deals for k in d.fields})
    raise ArgumentError(
        f"by={by!r} is neither a deal attribute nor a key of any deal's fields"
        f"{did_you_mean(by, keys)}; use one of {keys}",
        field="by",
    )


def _group(deal: Deal, pipeline: Pipeline, by: str) -> str:
    if by == "forecast_category":
        return category_of(deal, pipeline)
    value = deal.field(by)
    return "missing" if value is None else str(value)


@boundary
def weighted_pipeline(
    deals: Sequence[Deal],
    pipeline: Pipeline,
    *,
    by: str = "forecast_category",
    chain: AbsorbingChain | None = None,
    score: NaiveBayesScore | None = None,
) -> list[Rollup]:
    """Open deals' amount and probability-weighted amount by currency and group.

    ``by`` is ``"forecast_category"``, ``"stage"``, ``"owner"`` or any deal field. Weighted
    amounts are rounded to cents (half-even) after summing.

    Examples
    --------
    >>> from clientmodel.datasets.deals import make_deals
    >>> data = make_deals(200, seed=1)
    >>> rows = weighted_pipeline(data.deals, data.pipeline, by="stage")
    >>> all(r.weighted <= r.amount for r in rows)
    True
    """
    deals = check_deals(deals, pipeline)
    _check_by(by, deals)
    of_type(chain, AbsorbingChain, "chain", "an AbsorbingChain from fit_chain")
    of_type(score, NaiveBayesScore, "score", "a NaiveBayesScore from fit_naive_bayes")
    sums: dict[tuple[str, str], list[Any]] = {}
    for d in deals:
        if d.is_closed:
            continue
        p = deal_probability(d, pipeline, chain=chain, score=score).value
        cell = sums.setdefault((d.currency, _group(d, pipeline, by)), [0, Decimal(0), Decimal(0)])
        cell[0] += 1
        cell[1] += d.amount
        cell[2] += d.amount * Decimal(repr(p))
    return [
        Rollup(
            currency=c,
            group=g,
            n_deals=v[0],
            amount=v[1],
            weighted=v[2].quantize(_CENT, rounding=ROUND_HALF_EVEN),
        )
        for (c, g), v in sorted(sums.items())
    ]


@boundary
def category_rollup(
    deals: Sequence[Deal],
    pipeline: Pipeline,
    *,
    start: dt.date,
    end: dt.date,
    rates: ExchangeRates | None = None,
    convert_at: Literal["close_date"] | dt.date = "close_date",
) -> list[CategoryRollup]:
    """Forecast-category roll-up for the period ``[start, end]`` (dates, inclusive), per currency.

    ``closed`` sums deals won in the period; the open categories sum open deals whose expected
    close date falls in the period. Open deals without an expected close go to the explicit
    ``no_close_date`` bucket (not to any period's categories or calls).

    With ``rates`` (:class:`~clientmodel.funnel.currency.ExchangeRates`) every amount is
    converted into ``rates.base`` and one roll-up comes back: at each deal's close date (when it
    closed, else its expected close; ``end`` for a deal without one) with
    ``convert_at="close_date"``, or at one fixed date. Converted sums are rounded to cents
    (half-even) once, after summing.

    Examples
    --------
    >>> import datetime as dt
    >>> from clientmodel.datasets.deals import make_deals
    >>> data = make_deals(300, seed=1)
    >>> r = category_rollup(data.deals, data.pipeline, start=dt.date(2024, 10, 1),
    ...                     end=dt.date(2024, 12, 31))[0]
    >>> r.commit_call == r.closed + r.commit
    True
    """
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise ArgumentError(
                f"{name} must be a datetime.date; got {type(value).__name__} {value!r}",
                field=name,
            )
    if end < start:
        raise ArgumentError(f"end {end} is before start {start}", field="end")
    deals = check_deals(deals, pipeline)
    if rates is not None and not isinstance(rates, ExchangeRates):
        raise ArgumentError("rates must be an ExchangeRates record", field="rates")
    if convert_at != "close_date" and (
        not isinstance(convert_at, dt.date) or isinstance(convert_at, dt.datetime)
    ):
        raise ArgumentError(
            f"convert_at is 'close_date' or a datetime.date; got {convert_at!r}", field="convert_at"
        )

    def amount(d: Deal) -> Decimal:
        if rates is None:
            return d.amount
        if isinstance(convert_at, dt.date):
            on = convert_at
        else:
            closed_at = d.closed_at
            on = closed_at.date() if closed_at is not None else d.expected_close or end
        return d.amount * rates.rate(d.currency, on)

    keys = ("closed", "commit", "best_case", "pipeline", "omitted", "no_close_date")
    sums: dict[str, dict[str, Decimal]] = {}
    undated: dict[str, int] = {}
    for d in deals:
        currency = d.currency if rates is None else rates.base
        cell = sums.setdefault(currency, dict.fromkeys(keys, Decimal(0)))
        if d.is_closed:
            closed_at = d.closed_at
            if d.closed == "won" and closed_at is not None and start <= closed_at.date() <= end:
                cell["closed"] += amount(d)
            continue
        cat = category_of(d, pipeline)
        cat = "omitted" if cat == "closed" else cat
        if d.expected_close is None:
            # No date, no period: an explicit bucket instead of counting it in every period.
            if cat != "omitted":
                cell["no_close_date"] += amount(d)
                undated[currency] = undated.get(currency, 0) + 1
            continue
        if start <= d.expected_close <= end:
            cell[cat] += amount(d)
    converted = None
    if rates is not None:
        converted = convert_at if isinstance(convert_at, str) else convert_at.isoformat()
        for cell in sums.values():
            for k in keys:
                cell[k] = cell[k].quantize(_CENT, rounding=ROUND_HALF_EVEN)
    out = []
    for currency, s in sorted(sums.items()):
        commit_call = s["closed"] + s["commit"]
        best_case_call = commit_call + s["best_case"]
        out.append(
            CategoryRollup(
                currency=currency,
                **s,
                commit_call=commit_call,
                best_case_call=best_case_call,
                open_pipeline_call=best_case_call + s["pipeline"],
                n_no_close_date=undated.get(currency, 0),
                converted_at=converted,
            )
        )
    return out


@attrs.frozen
class SojournLaw:
    r"""A stage's sojourn distribution: Kaplan-Meier on its stays, with an exponential tail.

    ``times`` are the distinct completed-stay durations (days) and ``cdf`` the Kaplan-Meier
    :math:`\hat F(t) = 1 - \prod_{t_j \le t} (1 - d_j / n_j)` at each of them (``d_j`` stays
    ending at :math:`t_j`, ``n_j`` stays still running just before it, open stays counting until
    they are censored at ``as_of``). Mass beyond the last completed stay (the stays still running
    past it) is drawn as that time plus an exponential with the censoring-aware mean
    ``tail_mean`` (total time in stage / completed stays), the memoryless reading of the tail.

    Examples
    --------
    >>> import numpy as np
    >>> law = SojournLaw.fit(np.array([1.0, 2.0, 3.0]), np.array([True, True, False]))
    >>> law.times.tolist(), law.cdf.round(3).tolist()
    ([1.0, 2.0], [0.333, 0.667])
    """

    times: NDArray[np.float64] = attrs.field(eq=False)
    cdf: NDArray[np.float64] = attrs.field(eq=False)
    tail_mean: float

    @classmethod
    @boundary
    def fit(cls, days: NDArray[np.float64], ended: NDArray[np.bool_]) -> SojournLaw:
        """Kaplan-Meier on stays of ``days`` (``ended`` false where the stay is still open)."""
        order = np.argsort(days, kind="stable")
        d, e = days[order], ended[order]
        times, first = np.unique(d, return_index=True)
        at_risk = len(d) - first
        events = np.add.reduceat(e.astype(np.float64), first) if len(d) else np.zeros(0)
        surv = np.cumprod(1.0 - events / np.maximum(at_risk, 1))
        keep = events > 0
        exits = float(e.sum())
        tail = float(d.sum() / exits) if exits else float("nan")
        cdf: NDArray[np.float64] = np.asarray(1.0 - surv[keep], dtype=np.float64)
        return cls(times[keep], cdf, tail)

    @boundary
    def sample(self, rng: np.random.Generator, n: int) -> NDArray[np.float64]:
        """``n`` draws by inverse-CDF sampling (exponential beyond the last completed stay)."""
        rng = check_instance(rng, np.random.Generator, "rng")
        n = check_integer(n, "n", minimum=0)
        u = rng.random(n)
        idx = np.searchsorted(self.cdf, u, side="left")
        inside = idx < len(self.times)
        out = np.empty(n)
        out[inside] = self.times[idx[inside]]
        beyond = ~inside
        if beyond.any():
            last = float(self.times[-1]) if len(self.times) else 0.0
            out[beyond] = last + rng.exponential(self.tail_mean, int(beyond.sum()))
        return out

    @property
    def mean(self) -> float:
        """Mean of the law (the tail's mass at its mean)."""
        if not len(self.times):
            return self.tail_mean
        probs = np.diff(self.cdf, prepend=0.0)
        rest = 1.0 - float(self.cdf[-1])
        return float(probs @ self.times) + rest * (float(self.times[-1]) + self.tail_mean)


def _pools(
    chain: AbsorbingChain,
    samples: Mapping[str, SojournLaw],
    n_paths: int,
    rng: np.random.Generator,
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """Times (days) to a won close of simulated chain paths, pooled per transient stage."""
    transient = chain.transient
    k = len(transient)
    cum = np.cumsum(chain.matrix[:k], axis=1)
    cum[:, -1] = 1.0
    won_cols = np.array([kind == "won" for kind in chain.kinds])
    pools, offsets, sizes = [], [], []
    pos = 0
    for start in range(k):
        state = np.full(n_paths, start)
        t = np.zeros(n_paths)
        alive = np.ones(n_paths, dtype=bool)
        for _ in range(1000):
            i = np.flatnonzero(alive)
            if not i.size:
                break
            st = state[i]
            for s in np.unique(st):
                sel = i[st == s]
                law = samples.get(transient[s])
                if law is not None:
                    t[sel] += law.sample(rng, sel.size)
                else:
                    mean = chain.sojourn_days[s]
                    t[sel] += rng.exponential(mean if np.isfinite(mean) else 0.0, sel.size)
            u = rng.random(i.size)
            state[i] = (u[:, None] >= cum[st]).sum(axis=1)
            alive[i] = state[i] < k
        won = won_cols[state] & ~alive
        pool = t[won]
        if not pool.size:  # never won in simulation: fall back to the expected days
            exp = chain.expected_days[start]
            pool = np.array([exp if np.isfinite(exp) else 0.0])
        pools.append(pool)
        offsets.append(pos)
        sizes.append(pool.size)
        pos += pool.size
    return np.concatenate(pools), np.asarray(offsets), np.asarray(sizes)


def _stay_samples(history: Any, pipeline: Pipeline, as_of: dt.datetime) -> dict[str, SojournLaw]:
    """A censoring-aware sojourn law per open stage with at least one completed stay."""
    ev = load(
        history, pipeline=pipeline, won=(), lost=(), as_of=as_of, deal="deal_id",
        stage="stage", time="entered_at", tz=None,
    )  # fmt: skip
    idx, end, is_open = _stays(ev)
    days = (end - ev.at[idx]) / _US_PER_DAY
    codes = ev.stage[idx]
    out = {}
    for i, s in enumerate(ev.layout.stages):
        mine = codes == i
        if (mine & ~is_open).any():
            out[s] = SojournLaw.fit(days[mine], ~is_open[mine])
    return out


@attrs.frozen
class BookingsForecast:
    """Monte Carlo bookings per period: draws and their summaries.

    ``period_starts`` are the period boundaries (ISO datetimes, one more than periods);
    ``draws`` is ``n_draws x n_periods`` (``None`` after :meth:`from_dict`, which keeps the
    summaries only).

    Examples
    --------
    >>> import datetime as dt
    >>> from clientmodel.datasets.deals import make_deals
    >>> from clientmodel.funnel.markov import fit_chain
    >>> data = make_deals(300, seed=1)
    >>> chain = fit_chain(list(data.deals), as_of=data.as_of, pipeline=data.pipeline)
    >>> fc = simulate_bookings(data.deals, data.pipeline, as_of=data.as_of, chain=chain,
    ...                        n_draws=500, seed=1)
    >>> fc.total_quantiles[0] <= fc.total_quantiles[1] <= fc.total_quantiles[2]
    True
    """

    currency: str
    period_starts: tuple[str, ...]
    expected: tuple[float, ...]
    p10: tuple[float, ...]
    p50: tuple[float, ...]
    p90: tuple[float, ...]
    total_quantiles: tuple[float, float, float]
    n_draws: int
    draws: NDArray[np.float64] | None = attrs.field(default=None, eq=False)

    def __attrs_post_init__(self) -> None:
        # Construction and from_dict share these: one value per period, quantiles in order.
        name = "BookingsForecast"
        _increasing(self.period_starts, f"{name}.period_starts")
        n = len(self.period_starts) - 1
        for key in ("expected", "p10", "p50", "p90"):
            values = getattr(self, key)
            if len(values) != n:
                raise ArgumentError(
                    f"{name}.{key} has {len(values)} values for {n} periods "
                    f"({len(self.period_starts)} period_starts)",
                    field=f"{name}.{key}",
                )
            for i, v in enumerate(values):
                check_number(v, f"{name}.{key}[{i}]", minimum=0)
        for i in range(n):
            _ordered((self.p10[i], self.p50[i], self.p90[i]), f"{name}.p{{}}[{i}]")
        if len(self.total_quantiles) != 3:
            raise ArgumentError(
                f"{name}.total_quantiles must hold P10, P50 and P90, got {self.total_quantiles!r}",
                field=f"{name}.total_quantiles",
            )
        for i, v in enumerate(self.total_quantiles):
            check_number(v, f"{name}.total_quantiles[{i}]", minimum=0)
        _ordered(self.total_quantiles, f"{name}.total_quantiles (P{{}})")
        check_integer(self.n_draws, f"{name}.n_draws", minimum=1)
        if self.draws is not None and np.shape(self.draws) != (self.n_draws, n):
            raise ArgumentError(
                f"{name}.draws must be n_draws x periods ({self.n_draws} x {n}), "
                f"got shape {np.shape(self.draws)}",
                field=f"{name}.draws",
            )

    @boundary
    def quota_probability(self, quota: float) -> float:
        """Share of draws whose total bookings over all periods reach ``quota``.

        Examples
        --------
        >>> import numpy as np
        >>> draws = np.array([[0.0], [1.0], [2.0], [3.0]])
        >>> fc = BookingsForecast("USD", ("2025-01-01", "2025-02-01"), (1.0,), (0.0,), (1.0,),
        ...                       (2.0,), (0.0, 1.0, 2.0), 4, draws)
        >>> fc.quota_probability(2.0)
        0.5
        """
        quota = check_number(quota, "quota")
        if self.draws is None:
            raise ArgumentError("this forecast was rebuilt from a dict and holds no draws")
        return float((self.draws.sum(axis=1) >= quota).mean())

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summaries (not the draws)."""
        return {
            "currency": self.currency,
            "period_starts": list(self.period_starts),
            "expected": list(self.expected),
            "p10": list(self.p10),
            "p50": list(self.p50),
            "p90": list(self.p90),
            "total_quantiles": list(self.total_quantiles),
            "n_draws": self.n_draws,
        }

    @classmethod
    @boundary
    def from_dict(cls, data: Mapping[str, Any]) -> BookingsForecast:
        """Rebuild the summaries from :meth:`to_dict` output (``draws`` is ``None``).

        Examples
        --------
        >>> fc = BookingsForecast("USD", ("2025-01-01T00:00:00+00:00", "2025-02-01T00:00:00+00:00"),
        ...                       (1.0,), (0.0,), (1.0,), (2.0,), (0.0, 1.0, 2.0), 4)
        >>> BookingsForecast.from_dict(fc.to_dict()) == fc
        True
        """
        return read_form(cls, data)


@boundary
def simulate_bookings(
    deals: Sequence[Deal],
    pipeline: Pipeline,
    *,
    as_of: dt.datetime,
    chain: AbsorbingChain,
    history: Any = None,
    score: NaiveBayesScore | None = None,
    probabilities: Mapping[str, float] | None = None,
    periods: int = 3,
    unit: str = "M",
    n_draws: int = 10_000,
    n_paths: int = 4_000,
    seed: int | np.random.Generator | None = None,
) -> BookingsForecast:
    """Monte Carlo forecast of won bookings in each of ``periods`` calendar ``unit`` s after
    ``as_of`` (see the module docstring).

    Parameters
    ----------
    deals:
        Deals; only the open ones are forecast. All must share one currency.
    chain:
        A fitted :class:`AbsorbingChain` (paths for close times; the ``chain`` probability layer).
    history:
        Deals or an event table whose stays (completed and still open) give each stage's
        Kaplan-Meier sojourn law; ``None`` draws exponential sojourns with the chain's means.
    probabilities:
        Optional ``deal_id -> probability`` overriding the probability layers.

    Examples
    --------
    >>> from clientmodel.datasets.deals import make_deals
    >>> from clientmodel.funnel.markov import fit_chain
    >>> data = make_deals(300, seed=1)
    >>> chain = fit_chain(list(data.deals), as_of=data.as_of, pipeline=data.pipeline)
    >>> fc = simulate_bookings(data.deals, data.pipeline, as_of=data.as_of, chain=chain,
    ...                        history=list(data.deals), n_draws=1000, seed=7)
    >>> len(fc.expected), 0.0 <= fc.quota_probability(50_000) <= 1.0
    (3, True)
    """
    as_of = _aware(as_of, "as_of")
    periods = check_integer(periods, "periods", minimum=1)
    n_draws = check_integer(n_draws, "n_draws", minimum=1)
    n_paths = check_integer(n_paths, "n_paths", minimum=1)
    rng = check_seed(seed)
    deals = check_deals(deals, pipeline)
    if not isinstance(chain, AbsorbingChain):
        raise ArgumentError(
            f"chain must be an AbsorbingChain from fit_chain; got {type(chain).__name__}",
            field="chain",
        )
    of_type(score, NaiveBayesScore, "score", "a NaiveBayesScore from fit_naive_bayes")
    open_deals = [d for d in deals if not d.is_closed]
    currencies = sorted({d.currency for d in open_deals})
    if len(currencies) > 1:
        raise ArgumentError(
            f"deals are in several currencies {currencies}; forecast one currency at a time",
            field="deals",
        )
    edges_dt = [as_of + relative_delta(k, unit) for k in range(periods + 1)]
    edges = np.array([(e - as_of).total_seconds() / 86_400 for e in edges_dt])
    samples = {} if history is None else _stay_samples(history, pipeline, as_of)
    pool, offset, size = _pools(chain, samples, n_paths, rng)
    index = {s: i for i, s in enumerate(chain.transient)}
    missing = sorted({d.stage for d in open_deals if d.stage not in index})
    if missing:
        raise ArgumentError(f"the chain has no stage(s) {missing}", field="chain")
    if probabilities is not None:
        prob = np.array([float(probabilities.get(d.id, np.nan)) for d in open_deals])
        if np.isnan(prob).any() or ((prob < 0) | (prob > 1)).any():
            raise ArgumentError("probabilities needs a value in [0, 1] for every open deal")
    else:
        prob = np.array(
            [deal_probability(d, pipeline, chain=chain, score=score).value for d in open_deals]
        )
    amount = np.array([float(d.amount) for d in open_deals])
    stage = np.array([index[d.stage] for d in open_deals], dtype=np.int64)
    draws = _monte_carlo(prob, amount, offset, size, pool, edges, n_draws, rng, stage)
    total = draws.sum(axis=1)
    q = np.quantile(draws, [0.1, 0.5, 0.9], axis=0)
    tq = np.quantile(total, [0.1, 0.5, 0.9])
    return BookingsForecast(
        currency=currencies[0] if currencies else "",
        period_starts=tuple(e.isoformat() for e in edges_dt),
        expected=tuple(float(x) for x in draws.mean(axis=0)),
        p10=tuple(float(x) for x in q[0]),
        p50=tuple(float(x) for x in q[1]),
        p90=tuple(float(x) for x in q[2]),
        total_quantiles=(float(tq[0]), float(tq[1]), float(tq[2])),
        n_draws=n_draws,
        draws=draws,
    )


def _monte_carlo(
    prob: NDArray[np.float64],
    amount: NDArray[np.float64],
    offset: NDArray[np.int64],
    size: NDArray[np.int64],
    pool: NDArray[np.float64],
    edges: NDArray[np.float64],
    n_draws: int,
    rng: np.random.Generator,
    stage: NDArray[np.int64],
) -> NDArray[np.float64]:
    """Bookings per draw and period.

    Drawing a win and then a close time from the pool is the same, in distribution, as drawing
    one categorical outcome per deal and draw: period k with probability p * q_k (q_k the pool's
    share of times in period k), nothing otherwise. One uniform per cell compared with the
    cumulative thresholds gives the outcome, and a matrix-vector product sums the amounts.
    """
    n_periods = len(edges) - 1
    n_pools = len(offset)
    share = np.zeros((n_pools, n_periods))
    for i in range(n_pools):
        times = pool[offset[i] : offset[i] + size[i]]
        period = np.searchsorted(edges, times, side="right") - 1
        ok = (period >= 0) & (period < n_periods)
        share[i] = np.bincount(period[ok], minlength=n_periods) / max(times.size, 1)
    # cumulative thresholds per deal: P(won and closed by the end of period k)
    thresholds = prob[:, None] * np.cumsum(share, axis=1)[stage]
    cum = np.zeros((n_draws, n_periods))
    chunk = max(1, 4_000_000 // n_draws)  # bound memory to a few million cells at a time
    for lo in range(0, len(prob), chunk):
        hi = min(lo + chunk, len(prob))
        # float32 uniforms: half the memory traffic; a 2**-24 grid is ample for probabilities
        u = rng.random((n_draws, hi - lo), dtype=np.float32)
        for k in range(n_periods):
            hit = u < thresholds[lo:hi, k].astype(np.float32)
            cum[:, k] += hit.astype(np.float64) @ amount[lo:hi]
    return np.diff(cum, axis=1, prepend=0.0)


@boundary
def deals_as_of(deals: Sequence[Deal], pipeline: Pipeline, at: dt.datetime) -> list[Deal]:
    """The deals as they stood at ``at``: nothing known later is kept.

    Stage histories are cut at ``at``, every tracked field (amount, expected close, probability
    override, forecast category, owner, ``fields.<key>``) is replayed from the field history to
    its value at ``at`` (:func:`~clientmodel.funnel.field_history.fields_as_of`), and deals
    created later are dropped.

    Examples
    --------
    >>> import datetime as dt
    >>> from clientmodel.datasets.deals import make_deals
    >>> data = make_deals(100, seed=1)
    >>> at = dt.datetime(2024, 6, 30, tzinfo=dt.timezone.utc)
    >>> past = deals_as_of(data.deals, data.pipeline, at)
    >>> all(d.history[-1].at <= at for d in past)
    True
    """
    at = _aware(at, "at")
    deals = check_deals(deals, pipeline)
    out = []
    for d in deals:
        if d.created_at > at:
            continue
        d = fields_as_of(d, at)
        hist = tuple(c for c in d.history if c.at <= at)
        if len(hist) == len(d.history):
            out.append(d)
            continue
        last = hist[-1]
        kind = pipeline.stage(last.to_stage).kind
        out.append(
            d.model_copy(
                update={
                    "history": hist,
                    "stage": last.to_stage,
                    "closed": None if kind == "open" else kind,
                    "lost_reason": last.reason if kind == "lost" else None,
                    "won_reason": last.reason if kind == "won" else None,
                    "last_open_stage": last.from_stage if kind != "open" else None,
                }
            )
        )
    return out


@attrs.frozen
class Backtest:
    """A forecast made at a past date next to what happened.

    Examples
    --------
    >>> Backtest("2024-01-01", "2024-04-01", 10, 5.0, 1.0, 5.0, 9.0, 6.0).covered
    True
    """

    at: str
    end: str
    n_open: int
    expected: float
    p10: float
    p50: float
    p90: float
    actual: float

    def __attrs_post_init__(self) -> None:
        name = "Backtest"
        _increasing((self.at, self.end), f"{name}.{{}}", names=("at", "end"))
        check_integer(self.n_open, f"{name}.n_open", minimum=0)
        for key in ("expected", "p10", "p50", "p90", "actual"):
            check_number(getattr(self, key), f"{name}.{key}", minimum=0)
        _ordered((self.p10, self.p50, self.p90), f"{name}.p{{}}")

    @property
    def covered(self) -> bool:
        """Whether the actual bookings fell inside the P10-P90 interval."""
        return self.p10 <= self.actual <= self.p90

    @property
    def error(self) -> float:
        """Expected minus actual bookings."""
        return self.expected - self.actual

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe fields."""
        return attrs.asdict(self)

    @classmethod
    @boundary
    def from_dict(cls, data: Mapping[str, Any]) -> Backtest:
        """Rebuild from :meth:`to_dict` output.

        Examples
        --------
        >>> b = Backtest("2024-01-01", "2024-04-01", 1, 1.0, 0.0, 1.0, 2.0, 1.0)
        >>> Backtest.from_dict(b.to_dict()) == b
        True
        """
        return read_form(cls, data)


@boundary
def backtest(
    deals: Sequence[Deal],
    pipeline: Pipeline,
    *,
    at: dt.datetime,
    periods: int = 1,
    unit: str = "Q",
    smoothing: float = 1.0,
    n_draws: int = 2_000,
    seed: int | np.random.Generator | None = None,
) -> Backtest:
    """Replay history to ``at``, forecast the next ``periods`` and compare with what happened.

    The chain and sojourn samples use only what was known at ``at``; the actual bookings are the
    won amounts of deals open at ``at`` that closed won before the end of the horizon.

    Examples
    --------
    >>> import datetime as dt
    >>> from clientmodel.datasets.deals import make_deals
    >>> data = make_deals(400, seed=3)
    >>> at = dt.datetime(2024, 6, 30, tzinfo=dt.timezone.utc)
    >>> bt = backtest(data.deals, data.pipeline, at=at, n_draws=500, seed=1)
    >>> bt.p10 <= bt.p50 <= bt.p90
    True
    """
    at = _aware(at, "at")
    smoothing = check_number(smoothing, "smoothing", minimum=0)
    past = deals_as_of(deals, pipeline, at)
    chain = fit_chain(past, as_of=at, pipeline=pipeline, smoothing=smoothing)
    fc = simulate_bookings(
        past,
        pipeline,
        as_of=at,
        chain=chain,
        history=past,
        periods=periods,
        unit=unit,
        n_draws=n_draws,
        seed=seed,
    )
    end = at + relative_delta(periods, unit)
    open_ids = {d.id for d in past if not d.is_closed}
    actual = 0.0
    for d in deals:
        closed_at = d.closed_at
        if d.id in open_ids and d.closed == "won" and closed_at is not None and closed_at < end:
            actual += float(d.amount)
    return Backtest(
        at=at.isoformat(),
        end=end.isoformat(),
        n_open=len(open_ids),
        expected=float(sum(fc.expected)),
        p10=fc.total_quantiles[0],
        p50=fc.total_quantiles[1],
        p90=fc.total_quantiles[2],
        actual=actual,
    )
