"""Incremental resolution: new records onto an existing :class:`Resolution`.

The result equals resolving every record from scratch (a property test checks it). Resolution
decides each connected component of the record/identifier graph on its own, from its own records
in canonical order, so a component that no new record touches keeps its profiles, statuses and
refusals unchanged; only the components the new records join are resolved again. The cost is
linear array work over everything (keys, the graph pass) plus the engine's work on the touched
components.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from clientmodel.errors import ArgumentError, DataError
from clientmodel.identity import _engine as engine
from clientmodel.identity import _prepare as prepare
from clientmodel.identity.config import IdentityRecord
from clientmodel.identity.kinds import is_blocked
from clientmodel.identity.resolution import Resolution, _refusals, validated_records
from clientmodel.periods import timezone

__all__ = ["add_records"]


def _wall_time(moment: dt.datetime, tz: str | None) -> np.datetime64:
    """An aware time as the naive wall-clock time the resolution keeps (in its timezone)."""
    zone = dt.timezone.utc if tz in (None, "UTC") else timezone(str(tz))
    return np.datetime64(moment.astimezone(zone).replace(tzinfo=None), "us")


def _combined(res: Resolution, new: list[IdentityRecord]) -> prepare.Prepared:
    """The prepared arrays of the old and the new records together (old keys keep their codes).

    Only the new identifiers are looked up among the old keys (vectorised), so the Python work
    grows with the new records, not with the resolution.
    """
    old = res._prep
    extra = res.config._blocked()
    wanted = {
        (prepare.KIND_INDEX[i.kind], i.scope or "", i.value, i.hashed)
        for rec in new
        for i in rec.identifiers
    }
    key_index: dict[tuple[int, str, str, bool], int] = {}
    candidates = np.flatnonzero(_member(old.key_value, {w[2] for w in wanted}))
    for code in candidates.tolist():
        sc = old.key_scope[code]
        key = (
            int(old.key_kind[code]),
            sc or "",
            str(old.key_value[code]),
            bool(old.key_hashed[code]),
        )
        key_index[key] = code
    scope_code: dict[str, int] = {"": 0}
    for sc in {w[1] for w in wanted} - {""}:
        hit = np.flatnonzero(old.key_scope == sc)
        if len(hit):
            scope_code[sc] = int(old.key_scope_code[hit[0]])
    next_scope = int(old.key_scope_code.max(initial=0)) + 1
    n_old_keys = len(old.key_kind)
    kinds: list[int] = []
    scopes: list[str | None] = []
    codes: list[int] = []
    values: list[str] = []
    hashed: list[bool] = []
    blocked: list[bool] = []
    n_old = old.n_records
    row_record: list[int] = []
    row_key: list[int] = []
    times = []
    for i, rec in enumerate(new):
        times.append(
            np.datetime64("NaT", "us")
            if rec.timestamp is None
            else _wall_time(rec.timestamp, old.tz or "UTC")
        )
        for ident in rec.identifiers:
            k = prepare.KIND_INDEX[ident.kind]
            key = (k, ident.scope or "", ident.value, ident.hashed)
            found = key_index.get(key)
            if found is None:
                found = key_index[key] = n_old_keys + len(kinds)
                kinds.append(k)
                scopes.append(ident.scope)
                if (ident.scope or "") not in scope_code:
                    scope_code[ident.scope or ""] = next_scope
                    next_scope += 1
                codes.append(scope_code[ident.scope or ""])
                values.append(ident.value)
                hashed.append(ident.hashed)
                blocked.append(
                    is_blocked(ident.value)
                    or (not ident.hashed and prepare.extra_blocked(ident.value, k, extra))
                )
            row_record.append(n_old + i)
            row_key.append(found)
    ids = prepare.id_array([*old.record_ids.tolist(), *(r.record_id for r in new)], "record_id")
    scope_arr = np.empty(len(scopes), dtype=object)
    scope_arr[:] = scopes
    value_arr = np.empty(len(values), dtype=object)
    value_arr[:] = values
    new_times = np.asarray(times, dtype="datetime64[us]")
    row_time = None
    if old.row_time is not None:
        row_time = np.concatenate(
            [old.row_time, new_times[np.asarray(row_record, dtype=np.int64) - n_old]]
        )
    return prepare.canonical(
        ids,
        prepare.rank_ids(ids),
        np.concatenate([old.record_times, new_times]),
        old.tz or ("UTC" if any(r.timestamp is not None for r in new) else None),
        (
            np.concatenate([old.key_kind, np.asarray(kinds, dtype=np.int8)]),
            np.concatenate([old.key_scope, scope_arr]),
            np.concatenate([old.key_scope_code, np.asarray(codes, dtype=np.int64)]),
            np.concatenate([old.key_value, value_arr]),
        ),
        np.concatenate([old.key_hashed, np.asarray(hashed, dtype=bool)]),
        np.concatenate([old.key_blocked, np.asarray(blocked, dtype=bool)]),
        np.concatenate([old.row_record, np.asarray(row_record, dtype=np.int64)]),
        np.concatenate([old.row_key, np.asarray(row_key, dtype=np.int64)]),
        row_time,
    )


def _member(values: Any, wanted: set[Any]) -> Any:
    """``values[i] in wanted`` for each value (hashing: numpy's isin is quadratic on objects)."""
    return np.fromiter((v in wanted for v in values.tolist()), dtype=bool, count=len(values))


def _positions(prep: prepare.Prepared, ids: Any) -> Any:
    """The indices in ``prep`` of some record ids (all present)."""
    order = np.argsort(prep.record_ids, kind="stable")
    return order[np.searchsorted(prep.record_ids[order], ids)]


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
    new = validated_records(records)
    if not new:
        return resolution
    old = resolution._prep
    new_ids = [r.record_id for r in new]
    known = set(old.record_ids[_member(old.record_ids, set(new_ids))].tolist())
    clash = [r for r in new_ids if r in known]
    if clash:
        raise DataError(
            f"record ids already resolved: {clash[:5]!r}; use unmerge to replace a record",
            field="record_id",
        )
    prep = _combined(resolution, new)
    rules = resolution.config._arrays()
    old_to_new = _positions(prep, old.record_ids)
    new_idx = _positions(prep, prepare.id_array(new_ids, "record_id"))

    status = engine.initial_status(prep, rules)
    active = status == engine.MATCHED
    engine.check_windows(prep, rules, active)
    component = engine.components(prep, active, engine.always_pairs(prep, rules))
    touched = np.isin(component, component[new_idx])

    # untouched components keep their answer: old labels and statuses, moved to new positions
    label = component.copy()
    label[old_to_new] = old_to_new[resolution._label]
    n_keys = max(len(prep.key_kind), 1)
    pairs = prep.row_record * n_keys + prep.row_key
    old_pairs = old_to_new[old.row_record] * n_keys + old.row_key
    status[np.searchsorted(pairs, old_pairs)] = resolution._status

    sub_records = np.flatnonzero(touched)
    sub = prep.subset(sub_records)
    outcome = engine.resolve_arrays(sub, rules)
    label[sub_records] = sub_records[outcome.record_label]
    status[touched[prep.row_record]] = outcome.row_status

    touched_ids = set(prep.record_ids[touched].tolist())
    kept = [r for r in resolution._refusals if r.record_id not in touched_ids]
    all_refusals = [*kept, *_refusals(sub, outcome.refusals)]
    refused_ids = sorted({r.record_id for r in all_refusals})
    order = dict(
        zip(refused_ids, _positions(prep, prepare.id_array(refused_ids, "record_id")).tolist(),
            strict=True)
    )  # fmt: skip
    kind_index = {k.value: i for i, k in enumerate(prepare.KINDS)}
    priority = rules.priority.tolist()
    refusals = sorted(
        all_refusals,
        key=lambda r: (
            order[r.record_id],
            engine.sort_key(priority, kind_index[r.ident[0]], r.ident[1], r.ident[2], r.ident[3]),
        ),
    )
    return Resolution(
        resolution.config,
        prep=prep,
        label=label,
        component=component,
        status=status,
        refusals=tuple(refusals),
        backend=resolution._backend,
    )
