"""Incremental resolution: new records onto an existing :class:`Resolution`.

The result equals resolving every record from scratch (a property test checks it). Resolution
decides each connected component of the record/identifier graph on its own, from its own records
in canonical order, so a component that no new record touches keeps its profiles, statuses and
refusals unchanged; only the components the new records join are resolved again. The cost is
the engine's work on the touched components plus a few linear passes of array work: the records
and rows are merged in canonical order (each array written once), while the keys, which only
grow, are appended in place (``identity._append``) and old key values are searched at C speed.
"""

from __future__ import annotations

import datetime as dt
import importlib
import itertools
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from clientmodel._validation import boundary
from clientmodel.errors import ArgumentError, DataError
from clientmodel.identity import _engine as engine
from clientmodel.identity import _prepare as prepare
from clientmodel.identity._append import appended
from clientmodel.identity.config import IdentityRecord
from clientmodel.identity.kinds import is_blocked
from clientmodel.identity.resolution import (
    _DEFAULT_SCOPE,
    _DEFAULT_TIMESTAMP,
    Resolution,
    _refusals,
    read_table,
    validated_records,
)
from clientmodel.periods import timezone

__all__ = ["add_records", "add_table"]


def _wall_time(moment: dt.datetime, tz: str | None) -> np.datetime64:
    """An aware time as the naive wall-clock time the resolution keeps (in its timezone)."""
    zone = dt.timezone.utc if tz in (None, "UTC") else timezone(str(tz))
    return np.datetime64(moment.astimezone(zone).replace(tzinfo=None), "us")


@attrs.frozen(eq=False)
class _NewPart:
    """The new records as arrays: their keys (codes after the old ones), times and rows."""

    ids: NDArray[Any]
    times: NDArray[np.datetime64]
    key_kind: NDArray[np.int8]
    key_scope: NDArray[np.object_]
    key_scope_code: NDArray[np.int64]
    key_value: NDArray[np.object_]
    key_hashed: NDArray[np.bool_]
    key_blocked: NDArray[np.bool_]
    row_record: NDArray[np.int64]  # index among the new records
    row_key: NDArray[np.int64]
    tz: str | None  # the timezone of ``times`` (wall-clock times)
    #: Table face: each row's time (rows are distinct ``(record, key)`` pairs then).
    row_time: NDArray[np.datetime64] | None = None


def _scope_codes(old: prepare.Prepared) -> dict[str, int]:
    """Each scope of the old keys and its code (one pass over integer codes)."""
    codes = old.key_scope_code
    if not len(codes):
        return {"": 0}
    n_codes = int(codes.max()) + 1
    if n_codes <= 16:  # a few apps: one comparison pass each, no array of the keys' size
        found = [(code, int(np.argmax(codes == code))) for code in range(n_codes)]
        first = [at if codes[at] == code else -1 for code, at in found]
    else:
        where = np.full(n_codes, -1, dtype=np.int64)
        where[codes[::-1]] = np.arange(len(codes) - 1, -1, -1, dtype=np.int64)
        first = where.tolist()
    out = {"": 0}
    for code, at in enumerate(first):
        if at >= 0 and old.key_scope[at] is not None:
            out[str(old.key_scope[at])] = code
    return out


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_MICRO = dt.timedelta(microseconds=1)


def _times(stamps: list[dt.datetime | None], tz: str) -> NDArray[np.datetime64]:
    """Aware times as the naive wall-clock times the resolution keeps (in its timezone)."""
    if tz == "UTC":  # whole microseconds since the epoch: exact, and no object per record
        nat = np.iinfo(np.int64).min  # numpy's NaT
        ticks = [nat if s is None else (s - _EPOCH) // _MICRO for s in stamps]
        return np.asarray(ticks, dtype=np.int64).astype("datetime64[us]")
    return np.asarray(
        [np.datetime64("NaT", "us") if s is None else _wall_time(s, tz) for s in stamps],
        dtype="datetime64[us]",
    )


def _old_codes(
    old: prepare.Prepared,
    kinds: NDArray[np.int8],
    scopes: list[str | None],
    values: list[str],
    hashed: NDArray[np.bool_],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """For each new identifier ``(kind, scope, value, hashed)``: one integer naming it among the
    new ones, the code of the old key it equals (-1 when none) and its scope's code (scopes the
    resolution has not seen get the next codes).

    Only the new values are looked up among the old keys (one pass at C speed over the key
    values, then a search), so the Python work grows with the new identifiers.
    """
    value_id = {v: i for i, v in enumerate(dict.fromkeys(values))}
    scope_code = _scope_codes(old)
    next_code = int(old.key_scope_code.max(initial=0)) + 1
    for sc in dict.fromkeys(scopes):
        if (sc or "") not in scope_code:
            scope_code[sc or ""] = next_code
            next_code += 1
    width_v, width_s = max(len(value_id), 1), max(scope_code.values()) + 1

    def named(kind: Any, scope: Any, value: NDArray[np.int64], hashed: Any) -> NDArray[np.int64]:
        out: NDArray[np.int64] = (
            (np.asarray(kind, dtype=np.int64) * width_s + scope) * width_v + value
        ) * 2 + np.asarray(hashed, dtype=np.int64)
        return out

    item_scope = np.fromiter((scope_code[sc or ""] for sc in scopes), np.int64, len(scopes))
    item_value = np.fromiter((value_id[v] for v in values), np.int64, len(values))
    items = named(kinds, item_scope, item_value, hashed)
    candidates = np.flatnonzero(_member(old, set(value_id)))
    known = named(
        old.key_kind[candidates],
        old.key_scope_code[candidates],
        np.fromiter(
            (value_id[str(v)] for v in old.key_value[candidates].tolist()),
            np.int64,
            len(candidates),
        ),
        old.key_hashed[candidates],
    )
    if not len(known):
        return items, np.full(len(items), -1, dtype=np.int64), item_scope
    order = np.argsort(known)  # each identifier is keyed once, so names do not repeat here
    known, candidates = known[order], candidates[order]
    at = np.minimum(np.searchsorted(known, items), len(known) - 1)
    codes = np.where(known[at] == items, candidates[at], -1)
    return items, codes, item_scope


def _new_part(res: Resolution, batch: prepare.RecordBatch) -> _NewPart:
    """The new records' arrays; old keys keep their codes, new keys are numbered after them."""
    old = res._prep
    kinds = np.asarray(batch.ident_kind, dtype=np.int8)
    hashed = np.asarray(batch.ident_hashed, dtype=bool)
    items, codes, item_scope = _old_codes(old, kinds, batch.ident_scope, batch.ident_value, hashed)
    fresh = codes < 0
    # each new key once, numbered after the old ones, its attributes read at its first row
    _, first, inverse = np.unique(items[fresh], return_index=True, return_inverse=True)
    codes[fresh] = len(old.key_kind) + inverse.ravel()
    take = np.flatnonzero(fresh)[first]
    scope_arr = np.empty(len(take), dtype=object)
    scope_arr[:] = [batch.ident_scope[i] for i in take.tolist()]
    value_arr = np.empty(len(take), dtype=object)
    value_arr[:] = [batch.ident_value[i] for i in take.tolist()]
    extra = res.config._blocked()
    blocked = [
        is_blocked(v) or (not h and prepare.extra_blocked(v, k, extra))
        for v, k, h in zip(
            value_arr.tolist(), kinds[take].tolist(), hashed[take].tolist(), strict=True
        )
    ]
    return _NewPart(
        ids=prepare.id_array(batch.ids, "record_id"),
        times=_times(batch.stamps, old.tz or "UTC"),
        key_kind=kinds[take],
        key_scope=scope_arr,
        key_scope_code=item_scope[take],
        key_value=value_arr,
        key_hashed=hashed[take],
        key_blocked=np.asarray(blocked, dtype=bool),
        row_record=np.asarray(batch.ident_record, dtype=np.int64),
        row_key=codes,
        tz=old.tz or "UTC",
    )


def _table_part(res: Resolution, new: prepare.Prepared) -> _NewPart:
    """The arrays of a prepared table of new records; old keys keep their codes."""
    old = res._prep
    has_time = bool((~np.isnat(new.record_times)).any())
    old_timed = bool((~np.isnat(old.record_times)).any())
    if has_time and old_timed and new.tz != old.tz:
        raise DataError(
            f"the new records' timestamps are in timezone {new.tz!r} but the resolution keeps "
            f"its times in {old.tz!r}; pass tz={old.tz!r} to read them in the resolution's "
            "timezone",
            field="timestamp",
        )
    # the table's keys are distinct already: the new ones are numbered after the old, in order
    _, codes, key_scope = _old_codes(
        old, new.key_kind, new.key_scope.tolist(), new.key_value.tolist(), new.key_hashed
    )
    take = np.flatnonzero(codes < 0)
    codes[take] = len(old.key_kind) + np.arange(len(take), dtype=np.int64)
    return _NewPart(
        ids=new.record_ids,
        times=new.record_times,
        key_kind=new.key_kind[take],
        key_scope=new.key_scope[take],
        key_scope_code=key_scope[take],
        key_value=new.key_value[take],
        key_hashed=new.key_hashed[take],
        key_blocked=new.key_blocked[take],
        row_record=new.row_record,
        row_key=codes[new.row_key],
        tz=new.tz,
        row_time=new.row_time,
    )


def _member(old: prepare.Prepared, wanted: set[str]) -> NDArray[np.bool_]:
    """Whether each old key's value is in ``wanted``: with arrow at C speed, else by hashing
    in Python (numpy's isin sorts objects)."""
    values = old.key_value
    if old.key_arrow is not None and wanted:
        pa = importlib.import_module("pyarrow")
        pc = importlib.import_module("pyarrow.compute")
        found = pc.is_in(old.key_arrow, value_set=pa.array(list(wanted), type=old.key_arrow.type))
        return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)
    return np.fromiter((v in wanted for v in values.tolist()), dtype=bool, count=len(values))


_LAST = np.iinfo(np.int64).max  # the sort tick of a record without a timestamp (they come last)
_TIE_GROUPS = 20_000  # beyond this many shared times, one vectorised search places the ties


def _ticks(times: NDArray[np.datetime64]) -> NDArray[np.int64]:
    nat = np.isnat(times)
    out: NDArray[np.int64] = np.where(nat, _LAST, times.astype("datetime64[us]").astype(np.int64))
    return out


def _inserted(
    res: Resolution, part: _NewPart
) -> tuple[prepare.Prepared, NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    """The old and the new records together in canonical order, by merging (no global sort).

    Returns the combined arrays, the new index of each old record and of each new record, and
    which combined rows are old ones. Old records keep their relative order (so do their rows);
    each new record goes where the canonical order (time, then id) puts it, and record ids are
    re-ranked by counting.
    """
    old = res._prep
    n, k = old.n_records, len(part.ids)
    # id ranks: where each new id falls among the sorted old ids
    new_order = np.argsort(part.ids, kind="stable")
    sorted_new = part.ids[new_order]
    at = np.searchsorted(old.record_ids, sorted_new, sorter=res._id_order)
    clash = at < n
    clash[clash] = old.record_ids[res._id_order[at[clash]]] == sorted_new[clash]
    if clash.any():
        shown = sorted_new[clash][:5].tolist()
        raise DataError(
            f"record ids already resolved: {shown!r}; use unmerge to replace a record",
            field="record_id",
        )
    # arrays of the resolution's size are written in place where they can be: each fresh one
    # costs its page faults, which dominate at millions of records
    before = np.bincount(at, minlength=n + 1)[:n]
    np.cumsum(before, out=before)  # new ids before each old one, by the old one's place
    old_pos = old.id_rank  # each old record's place among the sorted old ids (ranks are dense)
    if n and int(old_pos.max()) != n - 1:  # pragma: no cover - kept dense by every builder
        old_pos = np.empty(n, dtype=np.int64)
        old_pos[res._id_order] = np.arange(n, dtype=np.int64)
    old_rank = before[old_pos]
    old_rank += old_pos
    new_rank = np.empty(k, dtype=np.int64)
    new_rank[new_order] = at + np.arange(k, dtype=np.int64)

    # canonical positions: by time (records without one last), then by rank. The old times are
    # searched where they are: the timed records come first, in time order
    times = old.record_times
    if times.dtype != np.dtype("datetime64[us]"):  # pragma: no cover - every builder keeps us
        times = times.astype("datetime64[us]")
    n_timed = n - int(np.isnat(times).sum())
    old_ticks = times[:n_timed].view(np.int64)
    new_ticks = _ticks(part.times)
    by = np.lexsort((new_rank, new_ticks))
    ranked, ticks = new_rank[by], new_ticks[by]
    untimed = ticks == _LAST
    lo = np.where(untimed, n_timed, np.searchsorted(old_ticks, ticks, side="left"))
    hi = np.where(untimed, n, np.searchsorted(old_ticks, ticks, side="right"))
    pos = lo.copy()
    tied = np.flatnonzero(hi > lo)  # sharing a time with old records: their id ranks decide
    groups = np.flatnonzero(np.diff(lo[tied], prepend=-1))  # one per shared time, in order
    if len(groups) <= _TIE_GROUPS:  # each group searches the old ranks of its time (sorted)
        ends = [*groups[1:].tolist(), len(tied)][: len(groups)]
        for start, end in zip(groups.tolist(), ends, strict=True):
            sel = tied[start:end]
            a, b = int(lo[sel[0]]), int(hi[sel[0]])
            pos[sel] = a + np.searchsorted(old_rank[a:b], ranked[sel])
    else:  # many distinct shared times: one search over (time number, rank) instead
        run = np.zeros(n, dtype=np.int64)
        np.cumsum(old_ticks[1:] != old_ticks[:-1], out=run[1:n_timed])
        run[n_timed:] = run[n_timed - 1] + 1 if n_timed else 0
        run *= n + k + 1
        pos[tied] = np.searchsorted(run + old_rank, run[lo[tied]] + ranked[tied])
    new_index = np.empty(k, dtype=np.int64)
    new_index[by] = pos + np.arange(k, dtype=np.int64)
    # the new index of each old record: its index plus the new records placed before it
    old_to_new = np.bincount(pos, minlength=n + 1)[:n]
    old_to_new += 1
    np.cumsum(old_to_new, out=old_to_new)
    old_to_new -= 1
    total = n + k

    def gather(old_values: NDArray[Any], new_values: NDArray[Any]) -> NDArray[Any]:
        out = np.empty(total, dtype=np.result_type(old_values, new_values))
        out[old_to_new] = old_values
        out[new_index] = new_values
        return out

    # rows: old rows keep their order within a record; new rows are de-duplicated and sorted.
    # Row arrays are the largest (a fresh one costs page faults): each is written once, old rows
    # through a mask of where the new rows go, with no index array of row size.
    n_keys = len(old.key_kind) + len(part.key_kind)
    pair_codes = part.row_record * max(n_keys, 1) + part.row_key
    if part.row_time is None:
        new_pairs = prepare.sorted_unique(pair_codes)
        new_row_time = None
    else:  # distinct already (a prepared table); their times follow them
        by_pair = np.argsort(pair_codes, kind="stable")
        new_pairs, new_row_time = pair_codes[by_pair], part.row_time[by_pair]
    nr_record, nr_key = new_pairs // max(n_keys, 1), new_pairs % max(n_keys, 1)
    new_counts = np.bincount(nr_record, minlength=k)
    # the first merged row of each new record (in canonical order): the old rows of the old
    # records before it (old rows are sorted by record) and the new rows of the new ones
    canonical_counts = new_counts[by]
    first_row = np.searchsorted(old.row_record, pos) + np.concatenate(
        ([0], np.cumsum(canonical_counts)[:-1])
    ).astype(np.int64)
    row_start = np.empty(k, dtype=np.int64)
    row_start[by] = first_row
    new_first = np.concatenate(([0], np.cumsum(new_counts)[:-1])).astype(np.int64)
    new_row_pos = row_start[nr_record] + (
        np.arange(len(nr_record), dtype=np.int64) - new_first[nr_record]
    )
    n_rows = len(old.row_record) + len(nr_record)
    new_row = np.zeros(n_rows, dtype=bool)
    new_row[new_row_pos] = True
    old_row = ~new_row

    def merged_rows(old_values: NDArray[Any], new_values: NDArray[Any]) -> NDArray[Any]:
        out = np.empty(n_rows, dtype=old_values.dtype)
        out[old_row] = old_values
        out[new_row_pos] = new_values
        return out

    counts = np.empty(total, dtype=np.int64)
    counts[old_to_new] = np.bincount(old.row_record, minlength=n)
    counts[new_index] = new_counts
    row_record = np.repeat(np.arange(total, dtype=np.int64), counts)
    row_key = merged_rows(old.row_key, nr_key)
    row_time = None
    if old.row_time is not None:
        row_time = merged_rows(
            old.row_time, part.times[nr_record] if new_row_time is None else new_row_time
        )
    has_time = bool((~np.isnat(part.times)).any())
    old_timed = bool((~np.isnat(old.record_times)).any())
    combined = prepare.Prepared(
        record_ids=gather(old.record_ids, part.ids),
        id_rank=gather(old_rank, new_rank),
        record_times=gather(old.record_times, part.times),
        tz=part.tz if has_time and not old_timed else old.tz,
        key_kind=appended(old.key_kind, part.key_kind),
        key_scope=appended(old.key_scope, part.key_scope),
        key_scope_code=appended(old.key_scope_code, part.key_scope_code),
        key_value=appended(old.key_value, part.key_value),
        key_hashed=appended(old.key_hashed, part.key_hashed),
        key_blocked=appended(old.key_blocked, part.key_blocked),
        row_record=row_record,
        row_key=row_key,
        row_time=row_time,
        key_arrow=_arrow_keys(old.key_arrow, part.key_value),
    )
    return combined, old_to_new, new_index, old_row


def _arrow_keys(old: Any, new: NDArray[np.object_]) -> Any:
    """The old arrow key values followed by the new ones (``None`` without old ones)."""
    if old is None:
        return None
    pa = importlib.import_module("pyarrow")
    chunks = [*getattr(old, "chunks", [old]), pa.array(new.tolist(), type=old.type)]
    # chunks, not one array: the old values are not copied (combined now and then)
    return (
        pa.chunked_array(chunks).combine_chunks() if len(chunks) > 64 else pa.chunked_array(chunks)
    )


def _batch(records: Any) -> prepare.RecordBatch:
    """The new records as one batch: read directly when every record has a plain shape, else
    validated record by record (which names the first bad record)."""
    if isinstance(records, (str, bytes, Mapping)) or not isinstance(records, Iterable):
        validated_records(records)  # raises the usual error
    items = records if isinstance(records, (list, tuple)) else list(records)
    batch = prepare.record_batch(items)
    if batch is None:
        batch = prepare.record_batch(validated_records(items))
    assert batch is not None  # validated records, with distinct ids, always have a plain shape
    return batch


def add_records(
    resolution: Resolution, records: Iterable[IdentityRecord | Mapping[str, Any]]
) -> Resolution:
    """The resolution with new records added: exactly what resolving everything would give.

    Parameters
    ----------
    resolution:
        An existing resolution (of records or of a table).
    records:
        New :class:`~clientmodel.identity.config.IdentityRecord` objects or their dicts, with
        record ids not in ``resolution`` (and of the same type: all strings or all integers).

    Returns
    -------
    Resolution
        Only the components the new records touch are resolved again.

    Examples
    --------
    >>> from clientmodel.identity import resolve
    >>> res = resolve([{"record_id": "a", "identifiers": [("email", "x@y.io")]},
    ...                {"record_id": "b", "identifiers": [("email", "z@y.io")]}])
    >>> more = add_records(res, [{"record_id": "c", "identifiers": [("email", "x@y.io")]}])
    >>> more.profile_of("c"), more.n_profiles
    ('a', 2)
    """
    if not isinstance(resolution, Resolution):
        raise ArgumentError(
            f"resolution must be a Resolution, got {type(resolution).__name__}",
            field="resolution",
        )
    batch = _batch(records)
    if not batch.ids:
        return resolution
    return _added(resolution, _new_part(resolution, batch))


@boundary
def add_table(
    resolution: Resolution,
    table: Any,
    *,
    record: str = "record_id",
    kind: str = "kind",
    value: str = "value",
    scope: str | None = _DEFAULT_SCOPE,
    timestamp: str | None = _DEFAULT_TIMESTAMP,
    tz: str | None = None,
    default_country_code: str | None = None,
    hashed: bool = False,
) -> Resolution:
    """The resolution with the records of a long identifier table added (the table face of
    :func:`add_records`): exactly what resolving all the rows again would give.

    The table is read as :func:`~clientmodel.identity.resolution.resolve_table` reads it (any
    frame kind, vectorised checks and normalisation), so a backend adds a batch of rows without
    building a record object per row.

    Parameters
    ----------
    resolution:
        An existing resolution (of records or of a table).
    table:
        A pandas/polars DataFrame, pyarrow Table, or mapping of column -> values, one row per
        (record, identifier), with record ids not in ``resolution``.
    record, kind, value, scope, timestamp, tz, default_country_code, hashed:
        As for :func:`~clientmodel.identity.resolution.resolve_table`. Timestamps must come
        out in the resolution's timezone (``tz`` converts aware ones).

    Returns
    -------
    Resolution
        Only the components the new records touch are resolved again.

    Raises
    ------
    DataError
        For the table's defects (as ``resolve_table``), record ids already resolved or of the
        other id type, and times in another timezone than the resolution's.

    Examples
    --------
    >>> from clientmodel.identity import resolve_table
    >>> res = resolve_table({"record_id": ["a", "b"], "kind": ["email", "email"],
    ...                      "value": ["x@y.io", "z@y.io"]})
    >>> more = add_table(res, {"record_id": ["c", "c"], "kind": ["email", "phone"],
    ...                        "value": ["X@Y.io", "+86 138 0013 8000"]})
    >>> more.profile_of("c"), more.n_profiles
    ('a', 2)
    """
    if not isinstance(resolution, Resolution):
        raise ArgumentError(
            f"resolution must be a Resolution, got {type(resolution).__name__}",
            field="resolution",
        )
    new, _ = read_table(
        table,
        resolution.config,
        record,
        kind,
        value,
        scope,
        timestamp,
        tz,
        default_country_code,
        hashed,
    )
    if not new.n_records:
        return resolution
    return _added(resolution, _table_part(resolution, new))


def _touched(resolution: Resolution, part: _NewPart, rules: engine.RuleArrays) -> NDArray[np.int64]:
    """The old records of the components the new records touch, read off the old arrays.

    A row can join only when its key is neither blocked nor of a non-joining kind (the key
    alone decides), so the touched components are those of the old rows carrying the joining old
    keys of the new rows, and of the old records manual merge rules tie to new ones.
    """
    old = resolution._prep
    n_old_keys = len(old.key_kind)
    keys = part.row_key[part.row_key < n_old_keys]
    keys = keys[~old.key_blocked[keys] & rules.joins[old.key_kind[keys]]]
    carried = np.zeros(n_old_keys, dtype=bool)
    carried[keys] = True
    hit = carried[old.row_key]
    touched = np.zeros(old.n_records, dtype=bool)
    touched[resolution._component[old.row_record[hit]]] = True
    if rules.always:
        new_ids = set(part.ids.tolist())
        for a, b in rules.always:
            for mine, other in ((a, b), (b, a)):
                at = engine.record_of(old, other)
                if mine in new_ids and at >= 0:
                    touched[resolution._component[at]] = True
    return np.flatnonzero(touched[resolution._component])


def _added(resolution: Resolution, part: _NewPart) -> Resolution:
    """The resolution with the new part added: only the touched components resolved again."""
    old = resolution._prep
    if old.n_records and (old.record_ids.dtype == object) != (part.ids.dtype == object):
        raise DataError(
            "the new record ids are not of the resolution's id type; use one type of record "
            "id (all strings or all integers)",
            field="record_id",
        )
    rules = resolution.config._arrays()
    touched_old = _touched(resolution, part, rules)
    prep, old_to_new, new_idx, old_row = _inserted(resolution, part)
    touched = np.zeros(prep.n_records, dtype=bool)
    touched[new_idx] = True
    touched[old_to_new[touched_old]] = True

    # untouched components keep their answer: old labels, components and statuses, moved
    label = np.empty(prep.n_records, dtype=np.int64)
    label[old_to_new] = old_to_new[resolution._label]
    component = np.empty(prep.n_records, dtype=np.int64)
    component[old_to_new] = old_to_new[resolution._component]
    status = np.empty(len(prep.row_key), dtype=np.int8)
    status[old_row] = resolution._status

    sub_records = np.flatnonzero(touched)
    sub = prep.subset(sub_records)
    outcome = engine.resolve_arrays(sub, rules)
    label[sub_records] = sub_records[outcome.record_label]
    component[sub_records] = sub_records[outcome.record_component]
    status[touched[prep.row_record]] = outcome.row_status

    # refusals: the untouched records' stay, in order; the new ones are sorted by record (its
    # canonical index) and identifier, then merged by record (the two lists share no record)
    old_refusals = resolution._refusals
    old_at = old_to_new[resolution._indices_of([r.record_id for r in old_refusals])]
    keep = ~touched[old_at]
    kind_index = {k.value: i for i, k in enumerate(prepare.KINDS)}
    priority = rules.priority.tolist()

    def order(item: tuple[int, Any]) -> tuple[int, engine.SortKey]:
        kind, scope, value, hashed = item[1].ident
        return item[0], engine.sort_key(priority, kind_index[kind], scope, value, hashed)

    placed = sorted(
        zip(
            sub_records[[r.record for r in outcome.refusals]].tolist(),
            _refusals(sub, outcome.refusals),
            strict=True,
        ),
        key=order,
    )
    kept = list(itertools.compress(old_refusals, keep.tolist()))
    at = np.concatenate([old_at[keep], np.asarray([p[0] for p in placed], dtype=np.int64)])
    both = [*kept, *(p[1] for p in placed)]
    refusals = [both[i] for i in np.argsort(at, kind="stable").tolist()]
    return Resolution(
        resolution.config,
        prep=prep,
        label=label,
        component=component,
        status=status,
        refusals=tuple(refusals),
        backend=resolution._backend,
    )
