r"""Win probability in layers: manual override, learned, stage default.

Every :class:`Probability` says which layer produced it:

``override``
    the deal's ``probability_override`` (a rep's or manager's judgement) wins over everything;
``score``
    a naive-Bayes score over deal fields trained on closed deals (:func:`fit_naive_bayes`), with
    per-feature contributions so a rep can see why;
``chain``
    the absorbing-Markov-chain win probability of the deal's current stage
    (:mod:`clientmodel.funnel.markov`);
``stage_default``
    the stage's configured ``probability``;
``closed``
    won deals are 1, lost deals 0.

The naive-Bayes score (Hand & Yu 2001, "Idiot's Bayes — not so stupid after all?", *Int. Stat.
Review* 69(3)) treats each categorical feature as independent given the outcome, so the log-odds
of winning add up:

.. math::
    \log\frac{P(\text{won}\mid x)}{P(\text{lost}\mid x)} = \log\frac{n_\text{won}}{n_\text{lost}}
    + \sum_f \log\frac{P(x_f\mid\text{won})}{P(x_f\mid\text{lost})},
    \qquad P(v\mid c) = \frac{n_{cv} + \alpha}{n_c + \alpha K_f},

with Laplace smoothing :math:`\alpha` and :math:`K_f` the number of values of feature :math:`f`
seen in training plus one for "unseen". Each summand is that feature's contribution.

The ``stage`` feature counts *reached* stages, as Odoo's predictive lead scoring does: a won deal
counts for every open stage, a lost deal for every open stage it reached (with a pipeline, every
open stage up to the furthest one it entered, skipped stages included). Its likelihood ratio is
then the reached-stage odds :math:`n_{\text{won},s} / n_{\text{lost},s}` of the stage, the
quantity the absorbing chain estimates; counting only the last open stage of a closed deal would
teach the score that early stages lose (lost deals leave early, won deals leave late).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar, Literal

import attrs
from pydantic import BaseModel, ConfigDict, Field

from clientmodel._validation import (
    boundary,
    check_integer,
    check_mapping,
    check_number,
    check_sequence,
    check_text,
    key_path,
    read_form,
)
from clientmodel.errors import ArgumentError, DataError
from clientmodel.funnel._check import check_deal, check_deals, of_type
from clientmodel.funnel.markov import AbsorbingChain
from clientmodel.funnel.models import Deal, Pipeline

__all__ = [
    "LAYERS",
    "Layer",
    "NaiveBayesScore",
    "Probability",
    "deal_probability",
    "fit_naive_bayes",
]

Layer = Literal["override", "score", "chain", "stage_default", "closed"]
#: The probability layers, highest precedence first.
LAYERS: tuple[str, ...] = Layer.__args__  # type: ignore[attr-defined]

_UNSEEN = "\x00unseen"


class Probability(BaseModel):
    """A deal's win probability and the layer that produced it.

    ``contributions`` holds the per-feature log-odds contributions of the ``score`` layer
    (``"prior"`` is the base rate), empty for other layers.

    Examples
    --------
    >>> Probability(deal_id="D1", value=0.4, layer="stage_default", stage="proposal").layer
    'stage_default'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    deal_id: str
    value: float = Field(ge=0.0, le=1.0)
    layer: Layer
    stage: str
    contributions: dict[str, float] = Field(default_factory=dict)


def _feature(deal: Deal, name: str) -> str:
    if name == "stage":  # the last open stage, so closed deals train on where they were
        value: Any = deal.last_open_stage if deal.is_closed else deal.stage
    else:
        value = deal.field(name)
    return "missing" if value is None else str(value)


def _frozen_counts(value: Any) -> Any:
    """Read-only tables of ``(n_won, n_lost)`` pairs: a frozen score shares nothing mutable."""
    if not isinstance(value, Mapping):
        return value  # refused, with its key path, by the checks after construction
    return MappingProxyType(
        {
            f: MappingProxyType(
                {v: tuple(c) if isinstance(c, (list, tuple)) else c for v, c in t.items()}
            )
            if isinstance(t, Mapping)
            else t
            for f, t in value.items()
        }
    )


def _read_counts(value: Any, path: str) -> dict[str, dict[str, list[int]]]:
    """``{feature: {value: [n_won, n_lost]}}`` of a serialised score."""
    out: dict[str, dict[str, list[int]]] = {}
    for f, table in check_mapping(value, path).items():
        where = key_path(path, str(f))
        out[check_text(f, where)] = {
            check_text(v, key_path(where, str(v)), allow_blank=True): [
                check_integer(n, key_path(where, str(v), i), minimum=0)
                for i, n in enumerate(_pair(cell, key_path(where, str(v))))
            ]
            for v, cell in check_mapping(table, where).items()
        }
    return out


def _pair(cell: Any, path: str) -> list[Any]:
    items = check_sequence(cell, path)
    if len(items) != 2:
        raise ArgumentError(f"{path} must be [n_won, n_lost], got {cell!r}", field=path)
    return items


@attrs.frozen
class NaiveBayesScore:
    """A fitted categorical naive-Bayes win score (see the module docstring for the maths).

    ``counts[feature][value]`` is ``(n_won, n_lost)`` among training deals (for ``stage``: the
    training deals that reached the stage); ``n_won``/``n_lost`` the class sizes. Build it with
    :func:`fit_naive_bayes`.

    Examples
    --------
    >>> from clientmodel.datasets.deals import make_deals
    >>> data = make_deals(300, seed=1)
    >>> nb = fit_naive_bayes(data.deals, features=["source", "stage"])
    >>> 0.0 < nb.predict(data.deals[0])[0] < 1.0
    True
    """

    features: tuple[str, ...]
    counts: Mapping[str, Mapping[str, tuple[int, int]]] = attrs.field(converter=_frozen_counts)
    n_won: int
    n_lost: int
    alpha: float

    _FORM: ClassVar[dict[str, Any]] = {"counts": _read_counts}

    def __attrs_post_init__(self) -> None:
        # Construction and from_dict share these: the counts are counts of these deals.
        name = "NaiveBayesScore"
        features = [check_text(f, f"{name}.features[{i}]") for i, f in enumerate(self.features)]
        if not features or len(set(features)) != len(features):
            raise ArgumentError(
                f"{name}.features must name at least one feature, each once; got {features}",
                field=f"{name}.features",
            )
        n_won = check_integer(self.n_won, f"{name}.n_won", minimum=1)
        n_lost = check_integer(self.n_lost, f"{name}.n_lost", minimum=1)
        check_number(self.alpha, f"{name}.alpha", minimum=0, exclusive_minimum=True)
        check_mapping(self.counts, f"{name}.counts", required=features, optional=())
        for f in features:
            totals = [0, 0]
            for v, cell in check_mapping(self.counts[f], f"{name}.counts.{f}").items():
                where = f"{name}.counts.{f}.{v}"
                won, lost = (
                    check_integer(n, f"{where}[{i}]", minimum=0)
                    for i, n in enumerate(_pair(cell, where))
                )
                if won > n_won or lost > n_lost:
                    raise ArgumentError(
                        f"{where}={list(cell)} counts more deals than were won ({n_won}) or "
                        f"lost ({n_lost})",
                        field=where,
                    )
                totals[0] += won
                totals[1] += lost
            # every closed deal has exactly one value of an ordinary feature ("stage" counts
            # every stage a deal reached)
            if f != "stage" and totals != [n_won, n_lost]:
                raise ArgumentError(
                    f"{name}.counts.{f} sums to {totals} deals [won, lost], but n_won={n_won} "
                    f"and n_lost={n_lost}: each closed deal has one value of {f!r}",
                    field=f"{name}.counts.{f}",
                )

    def _log_ratio(self, feature: str, value: str) -> float:
        table = self.counts[feature]
        k = len(table) + 1
        won, lost = table.get(value, [0, 0])
        p_won = (won + self.alpha) / (self.n_won + self.alpha * k)
        p_lost = (lost + self.alpha) / (self.n_lost + self.alpha * k)
        return math.log(p_won / p_lost)

    @boundary
    def contributions(self, deal: Deal) -> dict[str, float]:
        """Log-odds contribution of the prior and of each feature for this deal.

        Examples
        --------
        >>> from clientmodel.datasets.deals import make_deals
        >>> data = make_deals(200, seed=1)
        >>> nb = fit_naive_bayes(data.deals, features=["source"])
        >>> sorted(nb.contributions(data.deals[0]))
        ['prior', 'source']
        """
        out = {"prior": math.log(self.n_won / self.n_lost)}
        for f in self.features:
            out[f] = self._log_ratio(f, _feature(deal, f))
        return out

    @boundary
    def predict(self, deal: Deal) -> tuple[float, dict[str, float]]:
        """Win probability and the contributions behind it.

        Examples
        --------
        >>> from clientmodel.datasets.deals import make_deals
        >>> data = make_deals(200, seed=1)
        >>> p, why = fit_naive_bayes(data.deals, features=["source"]).predict(data.deals[0])
        >>> round(1 / (1 + math.exp(-sum(why.values()))), 12) == round(p, 12)
        True
        """
        parts = self.contributions(deal)
        z = sum(parts.values())
        # logistic without overflow for large |z|
        p = 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
        return p, parts

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe parameters; :meth:`from_dict` rebuilds the score."""
        return {
            "features": list(self.features),
            "counts": {f: {v: list(c) for v, c in t.items()} for f, t in self.counts.items()},
            "n_won": self.n_won,
            "n_lost": self.n_lost,
            "alpha": self.alpha,
        }

    @classmethod
    @boundary
    def from_dict(cls, data: Mapping[str, Any]) -> NaiveBayesScore:
        """Rebuild from :meth:`to_dict` output.

        Examples
        --------
        >>> from clientmodel.datasets.deals import make_deals
        >>> nb = fit_naive_bayes(make_deals(100, seed=1).deals, features=["owner"])
        >>> NaiveBayesScore.from_dict(nb.to_dict()) == nb
        True
        """
        return read_form(cls, data)


def _reached(deal: Deal, pipeline: Pipeline | None, seen: Sequence[str]) -> list[str]:
    """Open stages a closed deal reached (see the module notes)."""
    if pipeline is not None:
        open_ids = pipeline.open_stages
        if deal.closed == "won":
            return list(open_ids)
        rank = {s: i for i, s in enumerate(open_ids)}
        furthest = max((rank[c.to_stage] for c in deal.history if c.to_stage in rank), default=0)
        return list(open_ids[: furthest + 1])
    if deal.closed == "won":
        return list(seen)
    return list(dict.fromkeys(c.to_stage for c in deal.history[:-1]))


@boundary
def fit_naive_bayes(
    deals: Sequence[Deal],
    *,
    features: Sequence[str],
    alpha: float = 1.0,
    pipeline: Pipeline | None = None,
) -> NaiveBayesScore:
    """Train a naive-Bayes win score on the closed deals among ``deals``.

    ``features`` are deal attributes or ``fields`` keys, read as categories (``None`` is the
    category ``"missing"``). The special feature ``"stage"`` counts the open stages each closed
    deal reached (see the module notes); give ``pipeline`` so that skipped stages count as
    reached (without it a lost deal counts the stages it entered and a won deal every stage seen
    in training).

    Examples
    --------
    >>> from clientmodel.datasets.deals import make_deals
    >>> nb = fit_naive_bayes(make_deals(200, seed=4).deals, features=["source", "segment"])
    >>> nb.features
    ('source', 'segment')
    """
    alpha = check_number(alpha, "alpha", minimum=0, exclusive_minimum=True)
    features = [check_text(f, "features") for f in check_sequence(features, "features")]
    if not features:
        raise ArgumentError("name at least one feature", field="features")
    if pipeline is not None:
        deals = check_deals(deals, pipeline)
    else:
        deals = check_sequence(deals, "deals", data=True)
        bad = [i for i, d in enumerate(deals) if not isinstance(d, Deal)]
        if bad:
            raise DataError(f"deals must be Deal records; row {bad[0]} is not", field="deals")
    closed = [d for d in deals if d.is_closed]
    n_won = sum(d.closed == "won" for d in closed)
    n_lost = len(closed) - n_won
    if n_won == 0 or n_lost == 0:
        raise DataError(
            f"naive Bayes needs won and lost deals to learn from; got {n_won} won and "
            f"{n_lost} lost among {len(deals)} deals",
            field="closed",
        )
    seen = list(dict.fromkeys(c.to_stage for d in closed for c in d.history[:-1]))
    counts: dict[str, dict[str, list[int]]] = {}
    for f in features:
        table: dict[str, list[int]] = {}
        for d in closed:
            values = _reached(d, pipeline, seen) if f == "stage" else [_feature(d, f)]
            for v in values:
                cell = table.setdefault(v, [0, 0])
                cell[0 if d.closed == "won" else 1] += 1
        counts[f] = table
    return NaiveBayesScore(tuple(features), counts, n_won, n_lost, float(alpha))


@boundary
def deal_probability(
    deal: Deal,
    pipeline: Pipeline,
    *,
    chain: AbsorbingChain | None = None,
    score: NaiveBayesScore | None = None,
) -> Probability:
    """The deal's win probability from the highest layer available.

    Precedence: closed outcome, manual override, naive-Bayes ``score``, Markov ``chain``, then
    the stage default.

    Examples
    --------
    >>> import datetime as dt
    >>> from clientmodel.datasets.deals import standard_pipeline
    >>> from clientmodel.funnel.transitions import open_deal
    >>> p = standard_pipeline()
    >>> d = open_deal("D1", p, at=dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc),
    ...               account_id="A", owner="o", amount=10)
    >>> deal_probability(d, p).value, deal_probability(d, p).layer
    (0.1, 'stage_default')
    >>> deal_probability(d.model_copy(update={"probability_override": 0.3}), p).layer
    'override'
    """
    deal = check_deal(deal, pipeline)
    of_type(chain, AbsorbingChain, "chain", "an AbsorbingChain from fit_chain")
    of_type(score, NaiveBayesScore, "score", "a NaiveBayesScore from fit_naive_bayes")
    if deal.is_closed:
        value = 1.0 if deal.closed == "won" else 0.0
        return Probability(deal_id=deal.id, value=value, layer="closed", stage=deal.stage)
    if deal.probability_override is not None:
        return Probability(
            deal_id=deal.id, value=deal.probability_override, layer="override", stage=deal.stage
        )
    if score is not None:
        value, parts = score.predict(deal)
        return Probability(
            deal_id=deal.id, value=value, layer="score", stage=deal.stage, contributions=parts
        )
    if chain is not None and deal.stage in chain.states:
        value = min(1.0, max(0.0, chain.win_probability(deal.stage)))
        return Probability(deal_id=deal.id, value=value, layer="chain", stage=deal.stage)
    value = pipeline.stage(deal.stage).probability
    return Probability(deal_id=deal.id, value=value, layer="stage_default", stage=deal.stage)
