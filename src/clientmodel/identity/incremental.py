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
    """The prepared arrays of the old and the new records together (old keys keep their codes)."""
    old = res._prep
    extra = res.config._blocked()
    key_index: dict[tuple[int, str, str, bool], int] = {}
    for code, (k, sc, v, h) in enumerate(
        zip(
            old.key_kind.tolist(),
            old.key_scope.tolist(),
            old.key_value.tolist(),
            old.key_hashed.tolist(),
            strict=True,
        )
    ):
        key_index[(int(k), sc or "", str(v), bool(h))] = code
    scope_code: dict[str, int] = {"": 0}
    for sc, c in zip(old.key_scope.tolist(), old.key_scope_code.tolist(), strict=True):
        scope_code[sc or ""] = int(c)
    kinds = list(old.key_kind.tolist())
    scopes = list(old.key_scope.tolist())
    codes = list(old.key_scope_code.tolist())
    values = list(old.key_value.tolist())
    hashed = list(old.key_hashed.tolist())
    blocked = list(old.key_blocked.tolist())
    n_old = old.n_records
    row_record = list(old.row_record.tolist())
    row_key = list(old.row_key.tolist())
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
                found = key_index[key] = len(kinds)
                kinds.append(k)
                scopes.append(ident.scope)
                codes.append(scope_code.setdefault(ident.scope or "", len(scope_code)))
                values.append(ident.value)
                hashed.append(ident.hashed)
                blocked.append(
                    is_blocked(ident.value) or prepare.extra_blocked(ident.value, k, extra)
                )
            row_record.append(n_old + i)
            row_key.append(found)
    ids = np.concatenate(
        [old.record_ids, prepare.id_array([r.record_id for r in new], "record_id")]
    )
    ids = prepare.id_array(ids.tolist(), "record_id")
    scope_arr = np.empty(len(scopes), dtype=object)
    scope_arr[:] = scopes
    value_arr = np.empty(len(values), dtype=object)
    value_arr[:] = values
    row_time = None
    if old.row_time is not None:
        new_row_time = [times[r - n_old] for r in row_record[len(old.row_key) :]]
        row_time = np.concatenate([old.row_time, np.asarray(new_row_time, dtype="datetime64[us]")])
    return prepare.canonical(
        ids,
        prepare.rank_ids(ids),
        np.concatenate([old.record_times, np.asarray(times, dtype="datetime64[us]")]),
        old.tz or ("UTC" if any(r.timestamp is not None for r in new) else None),
        (
            np.asarray(kinds, dtype=np.int8),
            scope_arr,
            np.asarray(codes, dtype=np.int64),
            value_arr,
        ),
        np.asarray(hashed, dtype=bool),
        np.asarray(blocked, dtype=bool),
        np.asarray(row_record, dtype=np.int64),
        np.asarray(row_key, dtype=np.int64),
        row_time,
    )


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
    known = set(old.record_ids.tolist())
    clash = [r.record_id for r in new if r.record_id in known]
    if clash:
        raise DataError(
            f"record ids already resolved: {clash[:5]!r}; use unmerge to replace a record",
            field="record_id",
        )
    prep = _combined(resolution, new)
    rules = resolution.config._arrays()
    position = {rid: i for i, rid in enumerate(prep.record_ids.tolist())}
    old_to_new = np.array([position[r] for r in old.record_ids.tolist()], dtype=np.int64)
    new_idx = np.array([position[r.record_id] for r in new], dtype=np.int64)

    status = engine.initial_status(prep, rules)
    active = status == engine.MATCHED
    engine.check_windows(prep, rules, active)
    component = engine.components(prep, active)
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
    order = {rid: i for i, rid in enumerate(prep.record_ids.tolist())}
    kind_index = {k.value: i for i, k in enumerate(prepare.KINDS)}
    priority = rules.priority.tolist()
    refusals = sorted(
        [*kept, *_refusals(sub, outcome.refusals)],
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
