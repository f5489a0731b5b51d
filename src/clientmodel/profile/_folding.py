r"""The one event-folding kernel of both faces (private).

:func:`fold` takes distinct events as columns -- profile, type and channel codes, UTC
microseconds, amounts -- plus the (event, topic) pairs, and returns per-profile aggregates:
counts, first/last times and exact value sums per (profile, type) and (profile, channel), the
decayed intent mass and the decayed interest per (profile, topic) at ``as_of``. The formulas are
those of :mod:`clientmodel.profile.activity`.

The table face (:func:`clientmodel.profile.table.fold_events`) calls it on a whole event table;
the record face (:func:`clientmodel.profile.activity.apply`) on the new events of one profile
(one profile code), and then adds the result to the profile's decayed prior state.

The same module holds the kernel of computed traits (:func:`computed_traits`), which both faces of
:mod:`clientmodel.profile.computed` run.

Money is exact: float amounts are added as integers of :math:`10^{-k}` (:func:`exact_sums`),
``Decimal`` amounts as decimals (:func:`decimal_sums`); either way the total is rounded once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from clientmodel.errors import DataError
from clientmodel.profile._common import decay

US_PER_DAY = 86_400_000_000
I64_MIN = int(np.iinfo(np.int64).min)
I64_MAX = int(np.iinfo(np.int64).max)
_DENSE_LIMIT = 64_000_000  # profile x topic cells summed densely; beyond that, sort

_Ints = NDArray[np.int64]


@attrs.frozen(eq=False)
class EventColumns:
    """Distinct events as columns (one entry per event) and their (event, topic) pairs.

    Attributes
    ----------
    profile, type, channel:
        Codes: ``0 <= profile < n_profiles``, ``type`` into ``type_names``, ``0 <= channel <
        n_channels``.
    t_us:
        Event times in UTC microseconds.
    value:
        Amounts: a float array (NaN: none) or a sequence of ``Decimal`` / ``None``.
    topic_event, topic:
        One entry per distinct (event, topic) pair: the event's index and the topic code
        (``0 <= topic < n_topics``).
    """

    n_profiles: int
    type_names: Sequence[str]
    n_channels: int
    n_topics: int
    profile: _Ints
    type: _Ints
    channel: _Ints
    t_us: _Ints
    value: NDArray[np.float64] | Sequence[Decimal | None]
    topic_event: _Ints
    topic: _Ints


@attrs.frozen(eq=False)
class Folded:
    """Per-profile aggregates of :func:`fold` (``[p, j]``: profile ``p``, type or channel ``j``).

    Attributes
    ----------
    counts_by_type, counts_by_channel:
        Events per (profile, type) and (profile, channel).
    last_by_type, last_by_channel:
        Latest event time (UTC microseconds; ``I64_MIN`` where there is none).
    first_seen, last_seen:
        Each profile's earliest and latest event time (``I64_MAX`` / ``I64_MIN`` for none).
    value_by_type, valued_by_type:
        Exact sum of the amounts per (profile, type) -- floats, or ``Decimal`` when the amounts
        were decimals -- and how many events had an amount.
    intent_mass:
        Decayed high-intent mass per profile at ``as_of``.
    interest_profile, interest_topic, interest:
        Decayed interest per (profile, topic) pair that has events, sorted by profile then topic.
    """

    counts_by_type: _Ints
    counts_by_channel: _Ints
    last_by_type: _Ints
    last_by_channel: _Ints
    first_seen: _Ints
    last_seen: _Ints
    value_by_type: NDArray[Any]
    valued_by_type: _Ints
    intent_mass: NDArray[np.float64]
    interest_profile: _Ints
    interest_topic: _Ints
    interest: NDArray[np.float64]


def fold(
    ev: EventColumns,
    a_us: int,
    *,
    interest_half_life: float,
    interest_weights: Mapping[str, float],
    default_interest_weight: float,
    intent_half_life: float,
    intent_weights: Mapping[str, float],
) -> Folded:
    """Counters, times, exact sums, intent and interest of ``ev`` as of ``a_us``.

    The record face calls this per request with a few events, where numpy's cost per call
    dominates: the steps below use as few numpy calls as they can.
    """
    n_p, n_ty, n_ch = ev.n_profiles, len(ev.type_names), ev.n_channels
    # counters and latest times per (profile, type) and (profile, channel): one key space
    key_t = _keys(ev.profile, ev.type, n_ty, n_p)
    keys = np.concatenate((key_t, _keys(ev.profile, ev.channel, n_ch, n_p) + n_p * n_ty))
    size = n_p * (n_ty + n_ch)
    counts = np.bincount(keys, minlength=size)
    latest = group_max(keys, np.concatenate((ev.t_us, ev.t_us)), size)
    last_t = latest[: n_p * n_ty].reshape(n_p, n_ty)
    sums, valued = _value_sums(key_t, ev.value, n_p * n_ty)

    # intent (row 0) and interest (row 1) weight and decayed contribution of each event; a type
    # without intent weight adds 0.0 to the intent sum, which changes nothing
    weights = np.array(
        [
            [intent_weights.get(t, 0.0) for t in ev.type_names],
            [interest_weights.get(t, default_interest_weight) for t in ev.type_names],
        ],
        dtype=np.float64,
    ).reshape(2, n_ty)[:, ev.type]
    age = (a_us - ev.t_us) / US_PER_DAY
    contrib = weights * decay(age, np.array([[intent_half_life], [interest_half_life]]))
    intent_mass = np.asarray(
        np.bincount(ev.profile, weights=contrib[0], minlength=n_p), dtype=np.float64
    )
    te = ev.topic_event
    ip, it, scores = _pair_sums(
        ev.profile[te], ev.topic, weights[1, te], contrib[1, te], n_p, ev.n_topics
    )
    return Folded(
        counts_by_type=counts[: n_p * n_ty].reshape(n_p, n_ty),
        counts_by_channel=counts[n_p * n_ty :].reshape(n_p, n_ch),
        last_by_type=last_t,
        last_by_channel=latest[n_p * n_ty :].reshape(n_p, n_ch),
        first_seen=group_min(ev.profile, ev.t_us, n_p),
        last_seen=last_t.max(axis=1, initial=I64_MIN),
        value_by_type=sums.reshape(n_p, n_ty),
        valued_by_type=valued.reshape(n_p, n_ty),
        intent_mass=intent_mass,
        interest_profile=ip,
        interest_topic=it,
        interest=scores,
    )


def _keys(profile: _Ints, codes: _Ints, n_codes: int, n_p: int) -> _Ints:
    """Cell of each (profile, code) pair in a ``n_p x n_codes`` grid."""
    return codes if n_p == 1 else profile * n_codes + codes  # one profile: the codes themselves


def group_max(keys: _Ints, values: _Ints, n: int) -> _Ints:
    """Largest value per key (``I64_MIN`` for keys without values)."""
    out = np.empty(n, dtype=np.int64)
    out.fill(I64_MIN)  # (np.full costs more per call: the record face folds a few events)
    np.maximum.at(out, keys, values)
    return out


def group_min(keys: _Ints, values: _Ints, n: int) -> _Ints:
    """Smallest value per key (``I64_MAX`` for keys without values)."""
    out = np.empty(n, dtype=np.int64)
    out.fill(I64_MAX)
    np.minimum.at(out, keys, values)
    return out


def _value_sums(keys: _Ints, values: Any, n: int) -> tuple[NDArray[Any], _Ints]:
    """Exact sums per key and how many amounts each key had (``None`` / NaN: no amount)."""
    if isinstance(values, np.ndarray):
        has = ~np.isnan(values)
        k = keys[has]
        return exact_sums(k, values[has], n), np.bincount(k, minlength=n)
    pairs = [(k, v) for k, v in zip(keys.tolist(), values, strict=True) if v is not None]
    sums = np.zeros(n, dtype=object)  # the int 0 where no amount
    valued = np.zeros(n, dtype=np.int64)
    for key, total in decimal_sums(pairs).items():
        sums[key] = total
    for key, _ in pairs:
        valued[key] += 1
    return sums, valued


def decimal_sums(pairs: Sequence[tuple[int, Decimal]]) -> dict[int, Decimal]:
    """Per-key sums of ``(key, Decimal)`` pairs, added in the given order."""
    out: dict[int, Decimal] = {}
    for key, value in pairs:
        out[key] = out.get(key, Decimal(0)) + value
    return out


def exact_sums(keys: _Ints, values: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    """Per-key sums of float money amounts as ``float(sum of Decimal)`` computes them.

    A float amount stands for its shortest decimal spelling (``0.1`` for 0.1), so amounts with at
    most ``k <= 9`` decimals are added as integers of ``10**-k`` and divided once: one correct
    rounding, as ``float(sum(Decimal))``. Other amounts are added as ``Decimal`` one by one.
    """
    out = np.zeros(n, dtype=np.float64)
    if not len(values):
        return out
    finite = bool(np.isfinite(values).all())
    for k in range(10):
        scale = 10.0**k
        scaled = np.round(values * scale)
        if not finite or not np.array_equal(scaled / scale, values):
            continue
        if float(np.abs(scaled).sum()) >= 2.0**53:  # the integer total would not be exact
            break
        totals = np.zeros(n, dtype=np.int64)
        np.add.at(totals, keys, scaled.astype(np.int64))
        return totals / scale
    pairs = [(k, Decimal(repr(v))) for k, v in zip(keys.tolist(), values.tolist(), strict=True)]
    for key, total in decimal_sums(pairs).items():
        out[key] = float(total)
    return out


def _pair_sums(
    pc: _Ints,
    tc: _Ints,
    weight: NDArray[np.float64],
    contrib: NDArray[np.float64],
    n_p: int,
    n_tp: int,
) -> tuple[_Ints, _Ints, NDArray[np.float64]]:
    """Sum of ``contrib`` per (profile, topic) pair with a positive ``weight``, sorted by profile
    then topic (a pair whose every weight is 0 gets no score, as on the record face).

    Each pair's contributions are added in the order given (``bincount`` adds in input order).
    """
    n_tp = max(n_tp, 1)
    key = _keys(pc, tc, n_tp, n_p)
    if n_p * n_tp <= _DENSE_LIMIT:
        dense = np.bincount(key, weights=contrib, minlength=n_p * n_tp)
        cells = np.bincount(key, weights=weight, minlength=n_p * n_tp).nonzero()[0]
        scores = np.asarray(dense[cells], dtype=np.float64)
    else:
        keep = weight > 0
        cells, inverse = np.unique(key[keep], return_inverse=True)
        scores = np.asarray(
            np.bincount(inverse.reshape(-1), weights=contrib[keep], minlength=len(cells)),
            dtype=np.float64,
        )
    return cells // n_tp, cells % n_tp, scores


# --------------------------------------------------------------------------- computed traits
def plain(value: Any) -> Any:
    """A JSON-safe scalar (numpy scalars unwrapped, ``Decimal`` as float)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _order_key(value: Any) -> tuple[int, Any]:
    """Sort key for values of one field: numbers by value, everything else by text."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return (0, value)
    return (1, str(value))


def _exact_sum(values: Sequence[Any]) -> float:
    total = Decimal(0)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float, Decimal)):
            raise DataError(f"sum of {v!r}: computed sums need numbers", field="field")
        total += v if isinstance(v, Decimal) else Decimal(repr(v)) if isinstance(v, float) else v
    return float(total)


def computed_traits(
    profiles: NDArray[np.int64],
    n_profiles: int,
    t_us: NDArray[np.int64],
    event_ids: NDArray[Any],
    columns: Mapping[str, NDArray[Any]],
    traits: Sequence[Any],
    as_of_us: int,
) -> dict[str, list[Any]]:
    """Per computed trait (:class:`~clientmodel.profile.computed.ComputedTrait`), one value per
    profile code: the events kept (type, window, field set) grouped by profile in (time, event
    id) order, then aggregated (:func:`clientmodel.profile.computed.compute_traits` on one
    person's events and :func:`~clientmodel.profile.computed.compute_traits_table` on a table)."""
    out: dict[str, list[Any]] = {}
    types = columns["type"]
    for trait in traits:
        keep = np.ones(len(profiles), dtype=bool)
        if trait.event_type is not None:
            keep &= types == trait.event_type
        if trait.window_days is not None:
            keep &= t_us > as_of_us - round(trait.window_days * 86_400 * 1_000_000)
        values: NDArray[Any] | None = None
        if trait.field is not None:
            if trait.field not in columns:
                raise DataError(
                    f"computed trait {trait.name!r} reads field {trait.field!r}, which no event "
                    f"has; fields: {sorted(columns)}",
                    field=trait.field,
                )
            values = columns[trait.field]
            keep &= np.array([v is not None for v in values.tolist()], dtype=bool)
        idx = np.flatnonzero(keep)
        # events in time order, then by event id (text), grouped by profile
        order = idx[
            np.lexsort(
                (
                    np.array([str(e) for e in event_ids[idx].tolist()], dtype=object),
                    t_us[idx],
                    profiles[idx],
                )
            )
        ]
        groups: list[list[int]] = [[] for _ in range(n_profiles)]
        for i in order.tolist():
            groups[int(profiles[i])].append(i)
        out[trait.name] = [_aggregate(trait, g, values) for g in groups]
    return out


def _aggregate(trait: Any, rows: list[int], values: NDArray[Any] | None) -> Any:
    func = trait.func
    if values is None:  # count without a field
        return len(rows)
    vals = [values[i] for i in rows]
    if func == "count":
        return len(vals)
    if func == "sum":
        return _exact_sum(vals)
    if func == "unique_count":
        return len({plain(v) for v in vals})
    if func == "unique_list":
        return sorted({plain(v) for v in vals}, key=_order_key)
    if not vals:
        return None
    if func == "first":
        return plain(vals[0])
    if func == "last":
        return plain(vals[-1])
    if func in ("min", "max"):
        try:
            return plain(min(vals) if func == "min" else max(vals))
        except TypeError:
            raise DataError(
                f"computed trait {trait.name!r}: field {trait.field!r} mixes kinds of values",
                field=trait.field,
            ) from None
    counts: dict[Any, int] = {}
    for v in vals:
        key = plain(v)
        counts[key] = counts.get(key, 0) + 1
    best = max(counts.values())
    return min((v for v, n in counts.items() if n == best), key=_order_key)
