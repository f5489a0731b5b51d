"""Shared reader of stage histories: deal records or an event table -> sorted numpy columns.

Both faces of the history analytics go through :func:`load`, so records and tables give the same
answer by construction of the numerics (the property tests check the conversion too).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from clientmodel.errors import ArgumentError, DataError, describe_rows
from clientmodel.funnel._check import check_deals
from clientmodel.funnel.models import Deal, Pipeline
from clientmodel.periods import as_of_value, timezone
from clientmodel.tables import Table, read_table

_US_PER_DAY = 86_400_000_000


@attrs.frozen
class Layout:
    """Stage ids in funnel order with their kinds ("open", "won", "lost")."""

    stages: tuple[str, ...]
    kinds: tuple[str, ...]
    ordered: bool  # False when the order was guessed from the data (alphabetical)

    @property
    def open_idx(self) -> NDArray[np.int64]:
        return np.array([i for i, k in enumerate(self.kinds) if k == "open"], dtype=np.int64)

    @property
    def won_idx(self) -> NDArray[np.int64]:
        return np.array([i for i, k in enumerate(self.kinds) if k == "won"], dtype=np.int64)

    @property
    def lost_idx(self) -> NDArray[np.int64]:
        return np.array([i for i, k in enumerate(self.kinds) if k == "lost"], dtype=np.int64)

    @property
    def closed_mask(self) -> NDArray[np.bool_]:
        return np.array([k != "open" for k in self.kinds], dtype=bool)


def layout(
    pipeline: Pipeline | Sequence[str] | None,
    won: Sequence[str],
    lost: Sequence[str],
    observed: Sequence[str] = (),
) -> Layout:
    """The stage layout from a Pipeline, an ordered list of stage ids, or the observed stages."""
    if isinstance(pipeline, Pipeline):
        ordered = pipeline.ordered
        return Layout(tuple(s.id for s in ordered), tuple(s.kind for s in ordered), True)
    for name, value in (("won", won), ("lost", lost)):
        if isinstance(value, str) or not isinstance(value, (Sequence, set, frozenset)):
            raise ArgumentError(
                f"{name} is a sequence of stage ids, e.g. {name}=('{name}',); got {value!r}",
                field=name,
            )
    if pipeline is None:
        stages = tuple(sorted({str(s) for s in observed}))
        is_ordered = False
    else:
        if isinstance(pipeline, str) or not isinstance(pipeline, Sequence):
            raise ArgumentError(
                "pipeline is a Pipeline or a sequence of stage ids in funnel order; got "
                f"{type(pipeline).__name__}",
                field="pipeline",
            )
        stages = tuple(str(s) for s in pipeline)
        is_ordered = True
        if len(set(stages)) != len(stages):
            raise ArgumentError(f"stage ids must be unique; got {list(stages)}", field="pipeline")
    if pipeline is not None and won and not any(s in stages for s in won):
        raise ArgumentError(
            f"won={list(won)} names no stage of the pipeline {list(stages)}; name its won stage(s)",
            field="won",
        )
    kinds = tuple("won" if s in won else "lost" if s in lost else "open" for s in stages)
    if "open" not in kinds:
        raise ArgumentError(f"no open stage among {list(stages)}", field="pipeline")
    return Layout(stages, kinds, is_ordered)


@attrs.frozen
class Events:
    """Stage events sorted by deal then time; consecutive repeats of a stage are merged."""

    table: Table | None
    deal_ids: NDArray[Any]  # unique deal ids, indexed by ``deal``
    deal: NDArray[np.int64]
    stage: NDArray[np.int64]
    at: NDArray[np.int64]  # wall-clock microseconds
    layout: Layout
    tz: str | None
    as_of: int | None

    @property
    def n_deals(self) -> int:
        return len(self.deal_ids)

    def next_same(self) -> NDArray[np.bool_]:
        """True where the next event belongs to the same deal."""
        out = np.zeros(len(self.deal), dtype=bool)
        out[:-1] = self.deal[1:] == self.deal[:-1]
        return out

    def first(self) -> NDArray[np.bool_]:
        out = np.ones(len(self.deal), dtype=bool)
        out[1:] = self.deal[1:] != self.deal[:-1]
        return out

    def last(self) -> NDArray[np.bool_]:
        return ~self.next_same()

    def result(self, columns: dict[str, Any]) -> Any:
        if self.table is None:
            return {k: np.asarray(v) for k, v in columns.items()}
        return self.table.result(columns, tz=self.tz)


def _columns_from_deals(
    deals: Sequence[Deal], zone: dt.tzinfo
) -> tuple[NDArray[Any], NDArray[Any], NDArray[np.int64]]:
    ids, stages, at = [], [], []
    for d in deals:
        for c in d.history:
            ids.append(d.id)
            stages.append(c.to_stage)
            at.append(c.at.astimezone(zone).replace(tzinfo=None))
    times = np.array(at, dtype="datetime64[us]").astype(np.int64)
    return np.array(ids, dtype=object), np.array(stages, dtype=object), times


def _codes(values: NDArray[Any], stages: Sequence[str]) -> NDArray[np.int64]:
    """Stage codes by one comparison per stage (few stages, many rows: faster than sorting)."""
    codes = np.full(len(values), -1, dtype=np.int64)
    if values.dtype.kind not in "OUT":
        values = values.astype(str)
    for i, s in enumerate(stages):
        codes[values == s] = i
    return codes


def _sort(
    ids: NDArray[Any], times: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[Any], NDArray[np.int64]]:
    """Stable order by (deal, time), the unique deal ids and each sorted row's deal code."""
    n = len(ids)
    if n == 0:
        return np.zeros(0, np.int64), ids[:0], np.zeros(0, np.int64)
    if ids.dtype.kind in "iu":
        key = ids.astype(np.int64)
        lo, hi = int(key.min()), int(key.max())
        order = _by_deal_then_time(key - lo, hi - lo + 1, times)
        sorted_ids = ids[order]
        new = np.ones(n, dtype=bool)
        new[1:] = sorted_ids[1:] != sorted_ids[:-1]
        codes = np.cumsum(new, dtype=np.int64) - 1
        return order.astype(np.int64), sorted_ids[new], codes
    if ids.dtype.kind == "O" and all(isinstance(v, str) for v in ids):
        # Sorting fixed-width text runs in C; sorting Python str objects compares in Python.
        ids = ids.astype(str)
    deal_ids, inverse = np.unique(ids, return_inverse=True)
    order = _by_deal_then_time(inverse.astype(np.int64), len(deal_ids), times)
    return order.astype(np.int64), deal_ids.astype(object), inverse[order].astype(np.int64)


def _by_deal_then_time(
    deal: NDArray[np.int64], n_deals: int, times: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Stable argsort by (deal, time) through one integer key when it fits in 62 bits.

    The key uses the finest time resolution (us, ms, s, min) that fits; a coarser one may tie two
    events of one deal, so the result is checked against the exact times and a two-key lexsort
    is used when the check fails.
    """
    t = times - int(times.min())
    span = int(t.max()) + 1
    for step in (1, 1_000, 1_000_000, 60_000_000):
        if n_deals * (span // step + 1) < 2**62:
            order = np.argsort(deal * (span // step + 1) + t // step, kind="stable")
            if step == 1:
                return order
            d, ts = deal[order], times[order]
            same = d[1:] == d[:-1]
            if not (same & (ts[1:] < ts[:-1])).any():
                return order
            break
    return np.lexsort((times, deal))


def is_records(data: Any) -> bool:
    return isinstance(data, (list, tuple)) and (len(data) == 0 or isinstance(data[0], Deal))


def check_as_of(as_of: Any, field: str = "as_of") -> Any:
    """The one naive-time policy of the funnel and the accounts: a naive datetime is refused.

    ``as_of`` may be a timezone-aware datetime, a date (the end of that day) or ISO 8601 text of
    either; a datetime (or timestamp text) without a timezone is ambiguous and refused.
    """
    value = as_of
    if isinstance(value, str) and len(value.strip()) > 10:
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return as_of  # as_of_value reports the malformed text
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        raise ArgumentError(
            f"{field}={as_of!r} has no timezone; pass a timezone-aware datetime (e.g. "
            "datetime(2024, 3, 31, tzinfo=timezone.utc)), a date or ISO text with an offset",
            field=field,
        )
    return as_of


def load(
    data: Any,
    *,
    pipeline: Pipeline | Sequence[str] | None,
    won: Sequence[str],
    lost: Sequence[str],
    as_of: Any,
    deal: str,
    stage: str,
    time: str,
    tz: str | None,
    require_as_of: bool = True,
) -> Events:
    """Read deals or an event table into sorted numpy columns, cut at ``as_of``."""
    if as_of is not None:
        check_as_of(as_of)
    if isinstance(data, Events):
        return _reuse(data, pipeline, won, lost, as_of)
    table: Table | None = None
    if is_records(data):
        if not data:
            raise DataError("no deals given; pass at least one Deal", field="deals")
        if isinstance(pipeline, Pipeline):
            check_deals(data, pipeline)
        # Records carry aware instants: read them as wall-clock time in ``tz`` (UTC by default),
        # so cohort periods and calendar cuts follow the caller's timezone.
        data_tz: str | None = "UTC" if tz is None else tz
        zone = dt.timezone.utc if tz is None else timezone(tz)
        ids, stage_vals, times = _columns_from_deals(data, zone)
    else:
        table = read_table(data, name="stage events")
        table.require(deal, stage, time)
        ids = table.ids(deal)
        stage_vals = table.ids(stage)
        ts = table.timestamps(time, tz=tz)
        times = ts.values.astype("datetime64[us]").astype(np.int64)
        data_tz = ts.tz
    if as_of is None:
        if require_as_of:
            raise ArgumentError("as_of is required (there is no hidden clock)", field="as_of")
        cut: int | None = None
    else:
        cut = int(as_of_value(as_of, tz=data_tz).astype("datetime64[us]").astype(np.int64))
    observed: Sequence[str] = ()
    if pipeline is None:
        observed = sorted({str(v) for v in np.unique(stage_vals.astype(str))})
    lay = layout(pipeline, won, lost, observed=observed)
    stage_codes = _codes(stage_vals, lay.stages)
    unknown = stage_codes < 0
    if unknown.any():
        rows = np.flatnonzero(unknown)
        raise DataError(
            f"column {stage!r} has {len(rows)} stage(s) not in the pipeline: "
            f"{describe_rows(rows, stage_vals[rows].tolist())}; known stages are "
            f"{list(lay.stages)}",
            field=stage,
            rows=rows[:5].tolist(),
        )
    if cut is not None:
        keep = times <= cut
        if len(keep) and not keep.any():
            first = to_datetime64(np.array([times.min()]))[0]
            raise DataError(
                f"no stage event at or before as_of={as_of!r}: the first is at {first} "
                f"({data_tz or 'wall clock'}); pass a later as_of",
                field="as_of",
            )
        ids, stage_codes, times = ids[keep], stage_codes[keep], times[keep]
    order, deal_ids, d = _sort(ids, times)
    s, t = stage_codes[order], times[order]
    # A repeated stage for the same deal is not a move: keep its first entry.
    repeat = np.zeros(len(d), dtype=bool)
    repeat[1:] = (d[1:] == d[:-1]) & (s[1:] == s[:-1])
    if repeat.any():
        d, s, t = d[~repeat], s[~repeat], t[~repeat]
    return Events(table, deal_ids, d, s, t, lay, data_tz, cut)


def _reuse(
    ev: Events,
    pipeline: Pipeline | Sequence[str] | None,
    won: Sequence[str],
    lost: Sequence[str],
    as_of: Any,
) -> Events:
    """A prepared history, checked against the call's pipeline and cut at an earlier as_of."""
    if pipeline is not None:
        wanted = layout(pipeline, won, lost)
        if (wanted.stages, wanted.kinds) != (ev.layout.stages, ev.layout.kinds):
            raise ArgumentError(
                f"this stage history was prepared with stages {list(ev.layout.stages)}; "
                f"the call names {list(wanted.stages)}. Prepare it again with that pipeline",
                field="pipeline",
            )
    if as_of is None:
        return ev
    cut = int(as_of_value(as_of, tz=ev.tz).astype("datetime64[us]").astype(np.int64))
    if ev.as_of is not None and cut > ev.as_of:
        raise ArgumentError(
            "as_of is later than the as_of this stage history was prepared with; events after "
            "that were dropped, so prepare it again with the later as_of",
            field="as_of",
        )
    if ev.as_of is not None and cut == ev.as_of:
        return ev
    keep = ev.at <= cut
    return attrs.evolve(ev, deal=ev.deal[keep], stage=ev.stage[keep], at=ev.at[keep], as_of=cut)


def to_datetime64(values: NDArray[np.int64]) -> NDArray[np.datetime64]:
    return values.astype("datetime64[us]")
