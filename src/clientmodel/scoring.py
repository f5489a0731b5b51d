"""Score a customer summary with fitted models, one partition at a time.

A :class:`ScoringPlan` says what to compute for every customer -- P(alive) and expected
purchases from a transaction model, CLV with a spend model, RFM scores and segments, the
lifecycle stage -- and holds the fitted models that compute it. It turns into a plain JSON-safe
dict (:meth:`ScoringPlan.to_dict`) made of the models' own ``to_dict()`` descriptions, and back
(:meth:`ScoringPlan.from_dict`).

That dict is all that travels to an engine's workers: :func:`score` hands a dask DataFrame to
``map_partitions`` with the dict as argument (and a ``meta`` describing the result), and every
partition rebuilds the models with ``from_dict`` and scores its rows with the same code as an
in-memory table. No model object is pickled. :func:`score_batches` is the same step in the shape
Spark's ``DataFrame.mapInPandas`` expects (an iterator of pandas frames in, one out).

Each customer's scores depend on that customer's summary row only, so scoring per partition
gives row for row what scoring the whole table gives.

This module sits above :mod:`clientmodel.ltv` and :mod:`clientmodel.segments` (it combines
them); neither imports it.
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Mapping, Sized
from typing import Any, ClassVar, Literal

import attrs
import numpy as np

from clientmodel._validation import (
    boundary,
    check_bool,
    check_choice,
    check_integer,
    check_mapping,
    check_number,
    check_text,
    key_path,
    nested_reader,
    read_form,
)
from clientmodel.errors import ArgumentError, DataError
from clientmodel.ltv.clv import clv_table
from clientmodel.ltv.contract import SpendModel, TransactionModel, model_classes, model_from_dict
from clientmodel.periods import as_of_value, parse_timestamp, parse_unit
from clientmodel.segments.lifecycle import LifecycleWindows, lifecycle_from_summary
from clientmodel.segments.rfm import RFMScorer, rfm_from_summary
from clientmodel.segments.segment_map import SegmentMap, default_segment_map
from clientmodel.tables import is_lazy, read_table

__all__ = ["ScoringPlan", "score", "score_batches"]

_FORMAT = 1
Monetary = Literal["total", "mean"]
_MONETARY = ("total", "mean")


def _transaction_model(value: Any) -> TransactionModel | None:
    if value is None or isinstance(value, TransactionModel):
        return value
    raise ArgumentError(
        f"model must be a transaction model ({', '.join(model_classes('transaction'))}), got "
        f"{type(value).__name__}",
        field="model",
    )


def _spend_model(value: Any, field: str = "spend") -> SpendModel | float | None:
    if value is None or isinstance(value, SpendModel):
        return value
    number = isinstance(value, (int, float, np.integer, np.floating))
    if number and not isinstance(value, bool) and math.isfinite(value) and value >= 0:
        return float(value)
    raise ArgumentError(
        f"{field} must be a fitted spend model ({', '.join(model_classes('spend'))}), a number "
        f">= 0 (the spend per purchase) or None; got {value!r}",
        field=field,
    )


def _horizon(value: Any, field: str = "horizon") -> float:
    return check_number(value, field, minimum=0, exclusive_minimum=True)


def _rate(value: Any, field: str = "discount_rate") -> float:
    return check_number(value, field, minimum=0)


def _margin(value: Any, field: str = "margin") -> float:
    return check_number(value, field, minimum=0)


def _steps(value: Any, field: str = "steps") -> int | None:
    return None if value is None else check_integer(value, field, minimum=1, maximum=100_000)


def _monetary(value: Any, field: str = "monetary") -> str:
    return check_choice(value, field, _MONETARY)


def _customer(value: Any, field: str = "customer") -> str:
    return check_text(value, field)


def _flag(value: Any, field: str = "lifecycle_uses_model") -> bool:
    return check_bool(value, field)


def _unit(value: Any, field: str = "unit") -> str:
    return parse_unit(value, field=field)


def _tz(value: Any, field: str = "tz") -> str | None:
    if value is None:
        return None
    name = check_text(value, field)
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ArgumentError(
            f"{field}={name!r} is not a time zone; use an IANA name such as 'Asia/Shanghai' or "
            "'UTC'",
            field=field,
        ) from None
    return name


def _segment_map(value: Any) -> SegmentMap | None:
    if value is None or isinstance(value, SegmentMap):
        return value
    if isinstance(value, str) and value == "default":
        return default_segment_map()
    raise ArgumentError(
        f"segments must be a SegmentMap, 'default' or None; got {value!r}", field="segments"
    )


def _as_of_text(value: Any, field: str = "as_of") -> str | None:
    if value is None:
        return None
    if isinstance(value, np.datetime64):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, str):
        parse_timestamp(value, field=field)  # refused now rather than when scoring
        return value
    raise ArgumentError(
        f"{field} must be a date, an aware datetime or an ISO 8601 string; got {value!r}",
        field=field,
    )


def _model_reader(kind: str) -> Callable[[Any, str], Any]:
    """A plan's model (or, for ``spend``, also a number) from its serialised form."""

    def read(value: Any, path: str) -> Any:
        if value is None or (kind == "spend" and not isinstance(value, Mapping)):
            return _spend_model(value, path)
        name = check_mapping(value, path).get("model")
        rebuild = nested_reader(
            lambda d: model_from_dict(d, kind, path=path), name if isinstance(name, str) else path
        )
        return rebuild(value, path)

    return read


def _optional(read: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    return lambda value, path: None if value is None else read(value, path)


@attrs.frozen(kw_only=True)
class ScoringPlan:
    """The scores to compute for every customer and the fitted models that compute them.

    Attributes
    ----------
    model:
        A fitted transaction model (``BGNBD``, ``MBGNBD`` or ``ParetoNBD``): adds ``p_alive``
        and ``expected_purchases`` (in ``(T, T + horizon]``).
    spend:
        With ``model``: a fitted ``GammaGamma`` or a number (spend per purchase) adds
        ``expected_spend`` and ``clv``.
    rfm:
        A fitted :class:`~clientmodel.segments.rfm.RFMScorer`: adds ``r``, ``f``, ``m`` and
        ``rfm`` from the summary (:func:`~clientmodel.segments.rfm.rfm_from_summary`).
    segments:
        With ``rfm``: a :class:`~clientmodel.segments.segment_map.SegmentMap` or ``"default"``
        adds ``segment``.
    lifecycle:
        :class:`~clientmodel.segments.lifecycle.LifecycleWindows`: adds ``stage``
        (:func:`~clientmodel.segments.lifecycle.lifecycle_from_summary`); needs ``as_of``.
    lifecycle_uses_model:
        Stages from ``model``'s P(alive) rather than the fixed windows.
    as_of:
        The date the summary was built as of (for the lifecycle stage).
    unit:
        The summary's time unit.
    horizon, discount_rate, margin, steps:
        Future window in ``unit``, annual discount rate, profit share and the number of
        discounting periods (default one per unit) for CLV (see :func:`clientmodel.ltv.clv.clv`).
    monetary:
        RFM monetary value: ``"total"`` spend or ``"mean"`` per order.
    customer:
        The customer column, copied to the result.
    tz:
        Timezone of naive ``first_purchase`` / ``last_purchase`` timestamps (Spark hands
        timestamps to pandas as naive times in its session timezone).

    Examples
    --------
    >>> from clientmodel.ltv import BGNBD
    >>> plan = ScoringPlan(model=BGNBD(r=0.24, alpha=4.4, a=0.79, b=2.43), spend=20.0)
    >>> plan.columns
    ('customer_id', 'p_alive', 'expected_purchases', 'expected_spend', 'clv')
    >>> ScoringPlan.from_dict(plan.to_dict()) == plan
    True
    """

    model: TransactionModel | None = attrs.field(default=None, converter=_transaction_model)
    spend: SpendModel | float | None = attrs.field(default=None, converter=_spend_model)
    rfm: RFMScorer | None = None
    segments: SegmentMap | None = attrs.field(default=None, converter=_segment_map)
    lifecycle: LifecycleWindows | None = None
    lifecycle_uses_model: bool = attrs.field(default=False, converter=_flag)
    as_of: str | None = attrs.field(default=None, converter=_as_of_text)
    unit: str = attrs.field(default="W", converter=_unit)
    horizon: float = attrs.field(default=52.0, converter=_horizon)
    discount_rate: float = attrs.field(default=0.0, converter=_rate)
    margin: float = attrs.field(default=1.0, converter=_margin)
    steps: int | None = attrs.field(default=None, converter=_steps)
    monetary: Monetary = attrs.field(default="total", converter=_monetary)
    customer: str = attrs.field(default="customer_id", converter=_customer)
    tz: str | None = attrs.field(default=None, converter=_tz)

    # how from_dict reads each serialised field (errors name the key path)
    _FORM: ClassVar[dict[str, Any]] = {
        "model": _optional(_model_reader("transaction")),
        "spend": _model_reader("spend"),
        "rfm": _optional(nested_reader(RFMScorer.from_dict, "RFMScorer")),
        "segments": _optional(nested_reader(SegmentMap.from_dict, "SegmentMap")),
        "lifecycle": _optional(nested_reader(LifecycleWindows.from_dict, "LifecycleWindows")),
        "lifecycle_uses_model": _flag,
        "as_of": _as_of_text,
        "unit": _unit,
        "horizon": _horizon,
        "discount_rate": _rate,
        "margin": _margin,
        "steps": _steps,
        "monetary": _monetary,
        "customer": _customer,
        "tz": _tz,
    }

    def __attrs_post_init__(self) -> None:
        # Errors name ScoringPlan.<field>: these are about the plan as a whole (and its JSON form).
        def refuse(message: str, field: str) -> ArgumentError:
            return ArgumentError(f"ScoringPlan.{message}", field=f"ScoringPlan.{field}")

        if self.spend is not None and self.model is None:
            raise refuse("spend needs a transaction model for CLV (model=...)", "spend")
        if self.segments is not None and self.rfm is None:
            raise refuse("segments need an RFM scorer (rfm=...)", "segments")
        if self.lifecycle is not None and self.as_of is None:
            raise refuse("as_of is needed for the lifecycle stage", "as_of")
        if self.lifecycle_uses_model and (self.model is None or self.lifecycle is None):
            raise refuse("lifecycle_uses_model needs both model and lifecycle", "lifecycle")
        if self.model is None and self.rfm is None and self.lifecycle is None:
            raise refuse(
                "model: the plan scores nothing; give model, rfm and/or lifecycle", "model"
            )
        if self.as_of is not None:  # a naive time needs the data's timezone to mean anything
            as_of_value(self.as_of, tz=self.tz, field="ScoringPlan.as_of")

    @property
    def columns(self) -> tuple[str, ...]:
        """The result's columns, in order."""
        out = [self.customer]
        if self.model is not None:
            out += ["p_alive", "expected_purchases"]
            if self.spend is not None:
                out += ["expected_spend", "clv"]
        if self.rfm is not None:
            out += ["r", "f", "m", "rfm"]
            if self.segments is not None:
                out.append("segment")
        if self.lifecycle is not None:
            out.append("stage")
        return tuple(out)

    # ------------------------------------------------------------------ JSON
    @boundary
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-safe description, made of the models' own ``to_dict()`` output.

        Examples
        --------
        >>> import json
        >>> from clientmodel.segments import LifecycleWindows
        >>> plan = ScoringPlan(lifecycle=LifecycleWindows(), as_of="2024-06-30")
        >>> sorted(json.loads(json.dumps(plan.to_dict())))[:4]
        ['as_of', 'customer', 'discount_rate', 'format']
        """
        spend = self.spend.to_dict() if isinstance(self.spend, SpendModel) else self.spend
        return {
            "model": None if self.model is None else self.model.to_dict(),
            "spend": spend,
            "rfm": None if self.rfm is None else self.rfm.to_dict(),
            "segments": None if self.segments is None else self.segments.to_dict(),
            "lifecycle": None if self.lifecycle is None else self.lifecycle.to_dict(),
            "lifecycle_uses_model": self.lifecycle_uses_model,
            "as_of": self.as_of,
            "unit": self.unit,
            "horizon": float(self.horizon),
            "discount_rate": float(self.discount_rate),
            "margin": float(self.margin),
            "steps": self.steps,
            "monetary": self.monetary,
            "customer": self.customer,
            "tz": self.tz,
            "format": _FORMAT,
            "plan": "ScoringPlan",
        }

    @classmethod
    @boundary
    def from_dict(cls, data: Mapping[str, Any]) -> ScoringPlan:
        """Rebuild a plan (and its models) from :meth:`to_dict` output.

        Examples
        --------
        >>> from clientmodel.ltv import BGNBD
        >>> d = ScoringPlan(model=BGNBD(r=0.24, alpha=4.4, a=0.79, b=2.43)).to_dict()
        >>> ScoringPlan.from_dict(d).model.params["alpha"]
        4.4
        """
        path = "ScoringPlan"
        check_mapping(data, path)
        if data.get("plan") != "ScoringPlan" or data.get("format") != _FORMAT:
            raise ArgumentError(
                f"not a ScoringPlan description (plan={data.get('plan')!r}, "
                f"format={data.get('format')!r}); expected plan='ScoringPlan', format={_FORMAT}",
                field=key_path(path, "plan"),
            )
        return read_form(cls, data)

    # ------------------------------------------------------------------ scoring
    @boundary
    def score_table(self, summary: Any) -> Any:
        """Score an in-memory summary (the per-partition step); the caller's kind comes back.

        Examples
        --------
        >>> from clientmodel.ltv import BGNBD
        >>> plan = ScoringPlan(model=BGNBD(r=0.24, alpha=4.4, a=0.79, b=2.43))
        >>> s = {"customer_id": ["a"], "frequency": [2], "recency": [30.0], "T": [39.0]}
        >>> round(float(plan.score_table(s)["p_alive"][0]), 3)
        0.721
        """
        table = read_table(summary, name="summary")
        table.require(self.customer)
        if table.n_rows == 0:
            raise DataError("summary is empty: it needs at least one customer row")
        out: dict[str, Any] = {self.customer: table.ids(self.customer)}
        model = self.model
        if model is not None:
            if self.spend is not None:
                scored = read_table(
                    clv_table(
                        model,
                        self.spend,
                        summary,
                        horizon=self.horizon,
                        discount_rate=self.discount_rate,
                        margin=self.margin,
                        unit=self.unit,
                        steps=self.steps,
                    )
                )
                for name in ("p_alive", "expected_purchases", "expected_spend", "clv"):
                    out[name] = scored.raw(name)
            else:
                out["p_alive"] = np.asarray(model.p_alive(summary), dtype=np.float64)
                out["expected_purchases"] = np.asarray(
                    model.expected_purchases(summary, self.horizon), dtype=np.float64
                )
        if self.rfm is not None:
            values = rfm_from_summary(
                summary, unit=self.unit, customer=self.customer, monetary=self.monetary
            )
            scores = read_table(self.rfm.score(values, customer=None, segments=self.segments))
            for name in ("r", "f", "m", "rfm", *(["segment"] if self.segments else [])):
                out[name] = scores.raw(name)
        if self.lifecycle is not None:
            stages = lifecycle_from_summary(
                summary,
                as_of=self.as_of,
                windows=self.lifecycle,
                model=model if self.lifecycle_uses_model else None,
                customer=self.customer,
                tz=self.tz,
            )
            out["stage"] = read_table(stages).raw("stage")
        return table.result(out)


def _score_partition(part: Any, plan: Mapping[str, Any]) -> Any:
    """One pandas partition scored with the plan rebuilt from its JSON form (runs on workers)."""
    rebuilt = ScoringPlan.from_dict(plan)
    if len(part) == 0:
        return rebuilt.score_table(_stand_in(part, rebuilt)).iloc[:0]
    return rebuilt.score_table(part)


def _stand_in(part: Any, plan: ScoringPlan) -> Any:
    """A one-row valid summary with ``part``'s columns and types (to type an empty result)."""
    import pandas as pd  # dask and Spark batches are pandas

    day = np.datetime64(plan.as_of[:10] if plan.as_of else "2000-01-01", "D") - 1
    fill: dict[str, Any] = {
        "frequency": 0,
        "recency": 0.0,
        "T": 1.0,
        "orders": 1,
        "monetary_value": 0.0,
        "revenue": 0.0,
    }
    row: dict[str, Any] = {}
    for name, dtype in part.dtypes.items():
        if name in fill:
            value: Any = fill[name]
        elif name in ("first_purchase", "last_purchase"):
            value = pd.Timestamp(day)
            tz = getattr(dtype, "tz", None)
            if tz is not None:
                value = value.tz_localize(tz)
        elif pd.api.types.is_numeric_dtype(dtype):
            value = 0
        else:
            value = "0"
        row[name] = pd.Series([value]).astype(dtype)
    return pd.DataFrame(row)


@boundary
def score(summary: Any, plan: ScoringPlan) -> Any:
    """Score every customer of a summary; a dask summary is scored partition by partition.

    Parameters
    ----------
    summary:
        The customer summary: an in-memory table (pandas, polars, pyarrow, a mapping) or a dask
        DataFrame (e.g. :func:`clientmodel.transactions.summarize` of a dask log).
    plan:
        What to compute and with which fitted models.

    Returns
    -------
    The caller's kind of table with :attr:`ScoringPlan.columns`, one row per summary row in
    the same order. For dask, a lazy dask DataFrame built with ``map_partitions``: each
    partition receives ``plan.to_dict()`` (plain JSON-safe data) and rebuilds the models there.

    Examples
    --------
    >>> from clientmodel.ltv import BGNBD
    >>> plan = ScoringPlan(model=BGNBD(r=0.24, alpha=4.4, a=0.79, b=2.43), horizon=10.0)
    >>> s = {"customer_id": ["a", "b"], "frequency": [2, 0], "recency": [30.0, 0.0],
    ...      "T": [39.0, 39.0]}
    >>> score(s, plan)["expected_purchases"].round(3).tolist()
    [0.353, 0.053]
    """
    if not isinstance(plan, ScoringPlan):
        raise ArgumentError(f"plan must be a ScoringPlan, got {type(plan).__name__}", field="plan")
    if not is_lazy(summary):
        return plan.score_table(summary)
    import narwhals.stable.v2 as nw

    if not nw.dependencies.is_dask_dataframe(summary):
        raise ArgumentError(
            f"a lazy {type(summary).__module__}.{type(summary).__name__} is not scored here: "
            "score it per batch on its engine with score_batches (e.g. Spark's mapInPandas), "
            "or collect it first",
            field="summary",
        )
    frame: Any = summary  # a dask DataFrame; its methods are untyped
    description = plan.to_dict()
    meta = _score_partition(frame._meta, description)
    return frame.map_partitions(_score_partition, description, meta=meta)


def score_batches(batches: Iterable[Any], plan: ScoringPlan | Mapping[str, Any]) -> Iterator[Any]:
    """Score pandas batches one by one: the function Spark's ``mapInPandas`` runs.

    ``plan`` may be the plan's JSON form (``plan.to_dict()``), which is what a Spark job should
    close over; the models are rebuilt once per call.

    Examples
    --------
    >>> import pandas as pd
    >>> from clientmodel.ltv import BGNBD
    >>> plan = ScoringPlan(model=BGNBD(r=0.24, alpha=4.4, a=0.79, b=2.43)).to_dict()
    >>> batch = pd.DataFrame({"customer_id": [1], "frequency": [2], "recency": [30.0],
    ...                       "T": [39.0]})
    >>> [len(b) for b in score_batches([batch, batch.iloc[:0]], plan)]
    [1, 0]
    """
    description = plan.to_dict() if isinstance(plan, ScoringPlan) else dict(plan)
    for i, batch in enumerate(batches):
        if isinstance(batch, (str, bytes)) or not isinstance(batch, Sized):
            raise ArgumentError(
                f"batch {i} is a {type(batch).__name__}, not a summary table (Spark hands "
                "pandas DataFrames)",
                field="batches",
            )
        yield _score_partition(batch, description)
