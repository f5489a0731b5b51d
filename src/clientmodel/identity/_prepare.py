"""Turning identity records and identifier tables into the arrays identity resolution runs on.

Both faces end in the same :class:`Prepared` arrays, built by the same rule
(``identifiers._prepare_value``), so the record face and the table face agree:

* records are numbered in the **canonical order**: by timestamp (records without one last), then
  by record id; each record id's rank among all ids is kept for stable profile ids;
* identifiers become integer **keys** ``(kind, scope, value, hashed)`` with their normalised value
  and whether they are blocked (a placeholder, or a value the configuration blocks for its kind);
* rows are the distinct ``(record, key)`` pairs, sorted by record then key.

Key numbers are internal: nothing in the result depends on them (processing order within a record
is decided by the identifier values), so they may differ between runs on shuffled input.

The table face is vectorised. Each column is dictionary-encoded once (pyarrow when installed, else
pandas or a dict); the distinct values are checked against anchored "already clean" patterns
(``identifiers._CLEAN_*``) at C speed, and only the values those patterns do not vouch for go
through the Python normaliser -- which is also what lets errors name their rows and records.
Sorting is preferred to hashing for large integer arrays (much faster for mostly-distinct values).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from numpy.typing import NDArray

from clientmodel.errors import ClientModelError, DataError, describe_rows
from clientmodel.identity._append import with_room
from clientmodel.identity.kinds import (
    _CLEAN_EMAIL,
    _CLEAN_HASH,
    _CLEAN_ID,
    _CLEAN_PHONE,
    _CLEAN_ZEROS,
    _MAX_EMAIL_LENGTH,
    DEFAULT_BLOCKED,
    SCOPED_KINDS,
    Identifier,
    IdentifierKind,
    _check_scope,
    _prepare_value,
    is_blocked,
    masked,
    normalize_phone,
)
from clientmodel.tables import read_table

if TYPE_CHECKING:
    from clientmodel.identity.config import IdentityRecord

#: Identifier kinds in their tie-break order; a key's ``kind`` is an index into this tuple.
KINDS: tuple[IdentifierKind, ...] = tuple(IdentifierKind)
KIND_INDEX: dict[IdentifierKind, int] = {k: i for i, k in enumerate(KINDS)}

_NAT = np.datetime64("NaT", "us")


def _optional(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:  # pragma: no cover - both are in every test environment
        return None


@attrs.frozen(eq=False)
class Prepared:
    """Records, keys and rows as arrays, records in canonical order (see the module docstring)."""

    record_ids: NDArray[Any]
    id_rank: NDArray[np.int64]
    record_times: NDArray[np.datetime64]
    tz: str | None
    key_kind: NDArray[np.int8]
    key_scope: NDArray[np.object_]
    key_scope_code: NDArray[np.int64]
    key_value: NDArray[np.object_]
    key_hashed: NDArray[np.bool_]
    key_blocked: NDArray[np.bool_]
    row_record: NDArray[np.int64]
    row_key: NDArray[np.int64]
    #: Table face: the earliest time of each row (a record's time is the earliest of its rows',
    #: so removing a row may change it); ``None`` on the record face.
    row_time: NDArray[np.datetime64] | None = None
    #: Table face with pyarrow: the key values as an arrow string array, which lets incremental
    #: resolution find new values among old keys at C speed; ``None`` otherwise.
    key_arrow: Any = None

    @property
    def n_records(self) -> int:
        return len(self.record_ids)

    def row_bounds(self) -> NDArray[np.int64]:
        """``bounds[i]:bounds[i + 1]`` are the rows of record ``i``."""
        counts = np.bincount(self.row_record, minlength=self.n_records)
        return np.concatenate(([0], np.cumsum(counts))).astype(np.int64)

    def subset(
        self, records: NDArray[np.int64], keep_rows: NDArray[np.bool_] | None = None
    ) -> Prepared:
        """The records at the sorted indices ``records`` (and their rows, optionally filtered).

        Keys are shared, not copied. Canonical order is kept because ``records`` is sorted.
        """
        mask = np.zeros(self.n_records, dtype=bool)
        mask[records] = True
        rows = mask[self.row_record]
        if keep_rows is not None:
            rows &= keep_rows
        new_index = np.cumsum(mask) - 1
        ranks = self.id_rank[records]
        if len(ranks):  # ranks stay dense (0..n-1): the kept ids' order, by counting
            taken = np.zeros(int(ranks.max()) + 1, dtype=bool)
            taken[ranks] = True
            ranks = (np.cumsum(taken) - 1)[ranks]
        return attrs.evolve(
            self,
            record_ids=self.record_ids[records],
            id_rank=ranks.astype(np.int64),
            record_times=self.record_times[records],
            row_record=new_index[self.row_record[rows]],
            row_key=self.row_key[rows],
            row_time=None if self.row_time is None else self.row_time[rows],
        )

    def identifier_tuple(self, key: int) -> tuple[str, str | None, str, bool]:
        """``(kind, scope, value, hashed)`` of a key, as plain Python values."""
        scope = self.key_scope[key]
        return (
            KINDS[int(self.key_kind[key])].value,
            None if scope is None else str(scope),
            str(self.key_value[key]),
            bool(self.key_hashed[key]),
        )


# --------------------------------------------------------------------------- small tools


def micros(delta: dt.timedelta) -> int:
    """A duration in whole microseconds."""
    return delta // dt.timedelta(microseconds=1)


def sorted_unique(values: NDArray[np.int64]) -> NDArray[np.int64]:
    """Distinct values, sorted (sort-based: fast for large, mostly distinct integer arrays)."""
    if not len(values):
        return values
    s = np.sort(values)
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def unique_inverse(values: NDArray[Any]) -> tuple[NDArray[Any], NDArray[np.int64]]:
    """Sorted distinct values and the index of each value among them (sort-based)."""
    n = len(values)
    if not n:
        return values, np.empty(0, dtype=np.int64)
    order = np.argsort(values, kind="stable")
    s = values[order]
    first = np.empty(n, dtype=bool)
    first[0] = True
    np.not_equal(s[1:], s[:-1], out=first[1:])
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.cumsum(first) - 1
    return s[first], inverse


def pair_codes(
    a: NDArray[np.int64], n_a: int, b: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Codes of the distinct ``(a, b)`` pairs, in linear time when ``b`` mostly follows ``a``.

    Every value ``0 <= a < n_a`` must occur. Returns the code of each row and, per code, its
    ``a`` and ``b``. Each ``a`` keeps code ``a`` for one of its ``b``; only rows whose ``b``
    differs from that one are sorted to number the extra pairs.
    """
    rep = np.zeros(n_a, dtype=np.int64)
    rep[a] = b
    odd = rep[a] != b
    codes = a.astype(np.int64, copy=True)
    code_a = np.arange(n_a, dtype=np.int64)
    code_b = rep
    if odd.any():
        nb = int(b.max()) + 1
        extra, inverse = unique_inverse(a[odd] * nb + b[odd])
        codes[odd] = n_a + inverse
        code_a = np.concatenate((code_a, extra // nb))
        code_b = np.concatenate((code_b, extra % nb))
    return codes, code_a, code_b


@attrs.frozen(eq=False)
class Coded:
    """A dictionary-encoded column: codes (-1 for null), distinct values, and (when pyarrow is
    installed) the distinct values as an arrow array for vectorised checks."""

    codes: NDArray[np.int64]
    uniques: NDArray[Any]
    arrow: Any = None


def encode(values: Any) -> Coded:
    """Dictionary-encode a column given as a narwhals Series or a numpy array."""
    pa = _optional("pyarrow")
    if pa is not None:
        pc = importlib.import_module("pyarrow.compute")
        try:
            if isinstance(values, np.ndarray):
                arr = pa.array(
                    values.astype(object) if values.dtype.kind in "US" else values, from_pandas=True
                )
            else:
                arr = values.to_arrow()
            if isinstance(arr, pa.ChunkedArray):
                arr = arr.combine_chunks()
            if pa.types.is_dictionary(arr.type):
                arr = arr.dictionary_decode()
            enc = pc.dictionary_encode(arr)
        except (pa.ArrowException, TypeError, ValueError):
            pass
        else:
            codes = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
            uniques = np.asarray(enc.dictionary.to_numpy(zero_copy_only=False))
            if uniques.dtype.kind in "US":
                uniques = uniques.astype(object)
            if pa.types.is_null(arr.type):  # an all-null column
                codes[:] = -1
            return Coded(codes, uniques, enc.dictionary)
    arr = values if isinstance(values, np.ndarray) else values.to_numpy()
    if arr.dtype.kind in "US":
        arr = arr.astype(object)
    pd = _optional("pandas")
    if pd is not None:
        codes, uniques = pd.factorize(arr, use_na_sentinel=True)
        out = np.empty(len(uniques), dtype=object)
        out[:] = list(uniques)
        return Coded(np.asarray(codes, dtype=np.int64), out)
    table: dict[Any, int] = {}  # pragma: no cover - pandas is in every test environment
    codes_list = [
        -1 if v is None or (isinstance(v, float) and v != v) else table.setdefault(v, len(table))
        for v in arr.tolist()
    ]
    out = np.empty(len(table), dtype=object)
    out[:] = list(table)
    return Coded(np.asarray(codes_list, dtype=np.int64), out)


def _matches(arrow: Any, pattern: str) -> NDArray[np.bool_]:
    """Which arrow strings fully match ``pattern`` (an anchored regular expression)."""
    pc = importlib.import_module("pyarrow.compute")
    out = pc.match_substring_regex(arrow, pattern).to_numpy(zero_copy_only=False)
    return np.asarray(out, dtype=bool)


def clean_pairs(
    coded: Coded, pair_val: NDArray[np.int64], pair_kind: NDArray[np.int64], hashed: bool
) -> NDArray[np.bool_]:
    """Which ``(value, kind)`` pairs ``_prepare_value`` provably returns unchanged.

    Each distinct value is tested against the pattern of its kind only (phones, emails, other
    ids, or hashes); without pyarrow, or for a column that is not strings, nothing is vouched for
    and every value goes through the Python normaliser.
    """
    out = np.zeros(len(pair_val), dtype=bool)
    if coded.arrow is None:
        return out
    pa = importlib.import_module("pyarrow")
    pc = importlib.import_module("pyarrow.compute")
    arrow = coded.arrow
    if not (pa.types.is_string(arrow.type) or pa.types.is_large_string(arrow.type)):
        return out
    phone, email = KIND_INDEX[IdentifierKind.PHONE], KIND_INDEX[IdentifierKind.EMAIL]
    if hashed:
        groups = [(np.ones(len(pair_kind), dtype=bool), _CLEAN_HASH)]
    else:
        groups = [
            (pair_kind == phone, _CLEAN_PHONE),
            (pair_kind == email, _CLEAN_EMAIL),
            ((pair_kind != phone) & (pair_kind != email), _CLEAN_ID),
        ]
    words = pa.array(sorted(DEFAULT_BLOCKED), type=arrow.type)
    for select, pattern in groups:
        idx = np.flatnonzero(select)
        if not len(idx):
            continue
        sub = arrow.take(pa.array(pair_val[idx]))
        ok = _matches(sub, pattern)
        if pattern == _CLEAN_EMAIL:
            length = pc.utf8_length(sub).to_numpy(zero_copy_only=False)
            ok &= np.asarray(length) <= _MAX_EMAIL_LENGTH
        if pattern in (_CLEAN_ID, _CLEAN_HASH):  # these patterns admit placeholders: exclude
            ok &= ~_matches(sub, _CLEAN_ZEROS)
            lowered = pc.utf8_lower(sub)
            ok &= ~np.asarray(
                pc.is_in(lowered, value_set=words).to_numpy(zero_copy_only=False), dtype=bool
            )
        out[idx] = ok
    return out


def id_array(ids: Sequence[Any], field: str) -> NDArray[Any]:
    """Distinct record ids as an ``int64`` array (all integers) or an object array (all strings).

    Any other mix of types (numbers and strings, floats, booleans) is refused: ids of one type
    order and compare the same way on both faces.
    """
    kinds = {type(v) for v in ids}
    if kinds <= {int}:
        try:
            return np.asarray(ids, dtype=np.int64)
        except OverflowError as exc:
            raise DataError(
                f"{field} has integers beyond 64 bits; use strings", field=field
            ) from exc
    if not kinds <= {str}:
        found = sorted(k.__name__ for k in kinds)
        what = f"mixes id types {found}" if len(found) > 1 else f"holds {found[0]} ids"
        raise DataError(
            f"{field} {what}; use one type of record id (all strings or all integers)",
            field=field,
        )
    out = np.empty(len(ids), dtype=object)
    out[:] = list(ids)
    return out


def rank_ids(ids: NDArray[Any], arrow: Any = None) -> NDArray[np.int64]:
    """The rank of each distinct record id (from :func:`id_array`) in sorted order.

    ``arrow`` (the same string ids as an arrow array) lets pyarrow sort them, much faster than
    numpy.
    """
    if arrow is not None and ids.dtype == object:
        pc = importlib.import_module("pyarrow.compute")
        order = np.asarray(pc.sort_indices(arrow).to_numpy(), dtype=np.int64)
    else:
        order = np.argsort(ids, kind="stable")
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(len(ids), dtype=np.int64)
    return rank


# --------------------------------------------------------------------------- canonical order


def canonical(
    record_ids: NDArray[Any],
    id_rank: NDArray[np.int64],
    record_times: NDArray[np.datetime64],
    tz: str | None,
    keys: tuple[NDArray[np.int8], NDArray[np.object_], NDArray[np.int64], NDArray[np.object_]],
    key_hashed: NDArray[np.bool_],
    key_blocked: NDArray[np.bool_],
    row_record: NDArray[np.int64],
    row_key: NDArray[np.int64],
    row_time: NDArray[np.datetime64] | None = None,
) -> Prepared:
    """Number records canonically, drop repeated ``(record, key)`` rows and sort rows.

    With ``row_time`` (table face), a repeated row keeps its earliest time.
    """
    nat = np.isnat(record_times)
    ticks = np.where(nat, 0, record_times.astype(np.int64))
    order = np.lexsort((id_rank, ticks, nat))
    new_index = np.empty(len(order), dtype=np.int64)
    new_index[order] = np.arange(len(order), dtype=np.int64)
    n_keys = max(len(keys[0]), 1)
    codes = new_index[row_record] * n_keys + row_key
    pair_time = None
    if row_time is None:
        pair = sorted_unique(codes)
    else:
        pair, inverse = np.unique(codes, return_inverse=True)
        first = np.full(len(pair), np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first, inverse.ravel(), row_time.astype("datetime64[us]").astype(np.int64))
        pair_time = first.astype("datetime64[us]")
    key_kind, key_scope, key_scope_code, key_value = keys
    return Prepared(
        record_ids=record_ids[order],
        id_rank=id_rank[order],
        record_times=record_times[order],
        tz=tz,
        # with room: records added later append their keys without copying these
        key_kind=with_room(key_kind),
        key_scope=with_room(key_scope),
        key_scope_code=with_room(key_scope_code),
        key_value=with_room(key_value),
        key_hashed=with_room(key_hashed),
        key_blocked=with_room(key_blocked),
        row_record=pair // n_keys,
        row_key=pair % n_keys,
        row_time=pair_time,
    )


@attrs.frozen
class Blocked:
    """What a configuration blocks for one kind: exact values (lower-cased) and patterns."""

    values: frozenset[str]
    patterns: tuple[re.Pattern[str], ...] = ()

    def __call__(self, value: str) -> bool:
        low = value.lower()
        return low in self.values or any(p.fullmatch(value) for p in self.patterns)


def extra_blocked(value: str, kind: int, extra: Mapping[int, Blocked]) -> bool:
    """Whether the configuration blocks this (normalised, clear) value for its kind."""
    block = extra.get(kind)
    return block is not None and block(value)


def key_arrays(
    key_index: Mapping[tuple[int, str, str, bool], int], extra: Mapping[int, Blocked]
) -> tuple[tuple[Any, Any, Any, Any], NDArray[np.bool_], NDArray[np.bool_]]:
    """Key arrays from a ``(kind, scope, value, hashed) -> code`` mapping (record face)."""
    n = len(key_index)
    key_kind = np.empty(n, dtype=np.int8)
    key_scope = np.empty(n, dtype=object)
    key_value = np.empty(n, dtype=object)
    key_hashed = np.empty(n, dtype=bool)
    key_blocked = np.empty(n, dtype=bool)
    key_scope_code = np.empty(n, dtype=np.int64)
    scopes: dict[str, int] = {"": 0}
    for (kind, scope, value, hashed), code in key_index.items():
        key_kind[code] = kind
        key_scope[code] = scope or None
        key_scope_code[code] = scopes.setdefault(scope, len(scopes))
        key_value[code] = value
        key_hashed[code] = hashed
        # a hash is never matched against patterns: blocked values stay in clear when hashing
        key_blocked[code] = is_blocked(value) or (not hashed and extra_blocked(value, kind, extra))
    return (key_kind, key_scope, key_scope_code, key_value), key_hashed, key_blocked


# --------------------------------------------------------------------------- record face


def from_records(records: Sequence[IdentityRecord], extra: Mapping[int, Blocked]) -> Prepared:
    """Arrays from validated records (ids already checked for duplicates by the caller)."""
    key_index: dict[tuple[int, str, str, bool], int] = {}
    row_record: list[int] = []
    row_key: list[int] = []
    times = np.full(len(records), _NAT)
    for i, rec in enumerate(records):
        if rec.timestamp is not None:
            utc = rec.timestamp.astimezone(dt.timezone.utc).replace(tzinfo=None)
            times[i] = np.datetime64(utc, "us")
        for ident in rec.identifiers:
            k = (KIND_INDEX[ident.kind], ident.scope or "", ident.value, ident.hashed)
            row_record.append(i)
            row_key.append(key_index.setdefault(k, len(key_index)))
    keys, key_hashed, key_blocked = key_arrays(key_index, extra)
    ids = id_array([r.record_id for r in records], "record_id")
    prep = canonical(
        ids,
        rank_ids(ids),
        times,
        "UTC",  # record timestamps are aware: kept as UTC wall-clock times
        keys,
        key_hashed,
        key_blocked,
        np.asarray(row_record, dtype=np.int64),
        np.asarray(row_key, dtype=np.int64),
    )
    pa = _optional("pyarrow")
    if pa is None or not len(keys[3]):  # pragma: no cover - pyarrow is in every test environment
        return prep
    # as on the table face: incremental resolution finds new values among these at C speed
    return attrs.evolve(prep, key_arrow=pa.array(keys[3].tolist(), type=pa.string()))


_RECORD_FIELDS = frozenset({"record_id", "identifiers", "timestamp"})
_IDENT_FIELDS = frozenset({"kind", "value", "scope", "hashed"})
#: Kind index by kind value and by member (an enum member hashes by its name, not its value).
_KIND_OF: dict[Any, int] = {**{k.value: i for i, k in enumerate(KINDS)}, **KIND_INDEX}


@attrs.frozen(eq=False)
class RecordBatch:
    """Validated records as flat columns: per record, per identifier (normalised)."""

    ids: list[Any]
    stamps: list[dt.datetime | None]
    ident_record: list[int]
    ident_kind: list[int]
    ident_scope: list[str | None]
    ident_value: list[str]
    ident_hashed: list[bool]


def record_batch(items: Sequence[Any]) -> RecordBatch | None:
    """Records (``IdentityRecord`` objects or their plain dicts) as one :class:`RecordBatch`,
    without building a model per record; ``None`` when an item is outside the plain shapes.

    Only plain shapes are read here: dicts with the record's fields, ``record_id`` an ``int``
    or a non-blank ``str``, an aware ``datetime`` or no ``timestamp``, ``identifiers`` a list or
    tuple of ``Identifier`` objects, ``(kind, value[, scope])`` tuples or dicts with a ``bool``
    ``hashed``.
    Each value goes through the same normaliser and scope check that ``Identifier`` runs
    (``kinds._prepare_value``, ``kinds._check_scope``), so a batch holds exactly the fields
    ``IdentityRecord.model_validate`` would give. Anything else -- other types, a value or scope
    those checks refuse, repeated record ids -- gives ``None``: the caller then validates record by
    record, which raises the usual error for the first bad record.
    """
    from clientmodel.identity.config import IdentityRecord  # config imports this module

    ids: list[Any] = []
    stamps: list[dt.datetime | None] = []
    rec: list[int] = []
    kinds: list[int] = []
    scopes: list[str | None] = []
    values: list[str] = []
    hashes: list[bool] = []
    for i, item in enumerate(items):
        if type(item) is dict:
            if not item.keys() <= _RECORD_FIELDS:
                return None
            rid = item.get("record_id")
            stamp = item.get("timestamp")
            idents = item.get("identifiers", ())
            if type(idents) is not list and type(idents) is not tuple:
                return None
        elif isinstance(item, IdentityRecord):
            ids.append(item.record_id)
            stamps.append(item.timestamp)
            for ident in item.identifiers:
                rec.append(i)
                kinds.append(KIND_INDEX[ident.kind])
                scopes.append(ident.scope)
                values.append(ident.value)
                hashes.append(ident.hashed)
            continue
        else:
            return None
        if not (type(rid) is int or (type(rid) is str and rid.strip())):
            return None
        if stamp is not None and (type(stamp) is not dt.datetime or stamp.utcoffset() is None):
            return None
        ids.append(rid)
        stamps.append(stamp)
        for ident in idents:
            hashed = False
            if type(ident) is tuple or type(ident) is list:
                if len(ident) == 2:
                    kind, raw, scope = ident[0], ident[1], None
                elif len(ident) == 3:
                    kind, raw, scope = ident
                else:
                    return None
            elif type(ident) is dict:
                if not ident.keys() <= _IDENT_FIELDS:
                    return None
                kind, raw, scope = ident.get("kind"), ident.get("value"), ident.get("scope")
                hashed = ident.get("hashed", False)
                if type(hashed) is not bool:
                    return None
            elif isinstance(ident, Identifier):
                rec.append(i)
                kinds.append(KIND_INDEX[ident.kind])
                scopes.append(ident.scope)
                values.append(ident.value)
                hashes.append(ident.hashed)
                continue
            else:
                return None
            if (type(kind) is not str and type(kind) is not IdentifierKind) or type(raw) is not str:
                return None
            k = _KIND_OF.get(kind)
            if k is None:
                return None
            try:
                value, placeholder = _prepare_value(KINDS[k], raw, hashed=hashed)
                scope = _check_scope(KINDS[k], scope, value, placeholder)
            except ClientModelError:
                return None
            rec.append(i)
            kinds.append(k)
            scopes.append(scope)
            values.append(value)
            hashes.append(hashed)
    if len(set(ids)) != len(ids):
        return None
    return RecordBatch(ids, stamps, rec, kinds, scopes, values, hashes)


# --------------------------------------------------------------------------- table face


def _rows_error(
    column: str,
    bad: NDArray[np.int64],
    record_of_row: Any,
    shown: Sequence[str],
    what: str,
    accepted: str,
) -> DataError:
    texts = ", ".join(
        f"row {int(r)} (record {record_of_row(int(r))!r}){': ' + v if v else ''}"
        for r, v in zip(bad[:5], shown, strict=False)
    )
    return DataError(
        f"column {column!r} has {len(bad)} {what}: {texts}"
        + (f" (and {len(bad) - 5} more)" if len(bad) > 5 else "")
        + f"; {accepted}",
        field=column,
        rows=bad[:5].tolist(),
    )


def from_table(
    table: Any,
    *,
    record: str,
    kind: str,
    value: str,
    scope: str | None,
    scope_required: bool,
    timestamp: str | None,
    timestamp_required: bool,
    tz: str | None,
    default_country_code: str | None,
    hashed: bool,
    extra: Mapping[int, Blocked],
) -> tuple[Prepared, Any]:
    """Arrays from a long identifier table; also the frame backend (``None`` for a mapping)."""
    if default_country_code is not None:
        normalize_phone("+8613800138000", default_country_code)  # validates the argument
    t = read_table(table, name="identifier table")
    t.require(record, kind, value)
    if scope is not None and scope_required:
        t.require(scope)
    if timestamp is not None and timestamp_required:
        t.require(timestamp)
    use_scope = scope is not None and scope in t.columns
    use_time = timestamp is not None and timestamp in t.columns
    # the eager frame read_table built (a lazy input is collected); None for a mapping.
    # Series (not numpy arrays) let columns go to arrow without a copy through Python objects.
    frame = t._frame
    backend = None if frame is None else frame.implementation  # an enum: it pickles

    def column(name: str) -> Any:
        return frame.get_column(name) if frame is not None else t.raw(name)

    # record ids -> codes; each distinct id's rank is the canonical tie-break
    rid = column(record)
    if frame is not None and rid.dtype.is_integer():
        rid = rid.to_numpy()
    if isinstance(rid, np.ndarray) and rid.dtype.kind in "iu":
        if rid.dtype == np.uint64 and len(rid) and int(rid.max()) > np.iinfo(np.int64).max:
            raise DataError(f"{record} has integers beyond 64 bits; use strings", field=record)
        rec_ids, rec_code = unique_inverse(rid.astype(np.int64))
        id_rank = np.arange(len(rec_ids), dtype=np.int64)
    else:
        coded_ids = encode(rid)
        if (coded_ids.codes < 0).any():
            t.ids(record)  # raises, naming the null rows
        rec_code = coded_ids.codes
        rec_ids = id_array(coded_ids.uniques.tolist(), record)
        id_rank = rank_ids(rec_ids, coded_ids.arrow)
        if rec_ids.dtype == object:
            blank = np.flatnonzero([not v.strip() for v in rec_ids.tolist()])
            if len(blank):
                bad = np.flatnonzero(np.isin(rec_code, blank))
                raise DataError(
                    f"column {record!r} has {len(bad)} blank record id(s): "
                    f"{describe_rows(bad, rec_ids[rec_code[bad]])}; "
                    "every row needs a non-empty record id",
                    field=record,
                    rows=bad[:5].tolist(),
                )

    def record_of_row(i: int) -> Any:
        v = rec_ids[rec_code[i]]
        return v.item() if isinstance(v, np.generic) else v

    # kinds -> kind index; unknown kinds and nulls are reported with their rows
    kinds = encode(column(kind))
    kind_map = np.full(len(kinds.uniques) + 1, -1, dtype=np.int64)  # last slot: null
    for j, kv in enumerate(kinds.uniques.tolist()):
        with contextlib.suppress(ValueError):
            kind_map[j] = KIND_INDEX[IdentifierKind(kv)]
    row_kind = kind_map[kinds.codes]
    if (row_kind < 0).any():
        bad = np.flatnonzero(row_kind < 0)
        shown = [
            repr(None if kinds.codes[b] < 0 else kinds.uniques[kinds.codes[b]]) for b in bad[:5]
        ]
        raise _rows_error(
            kind,
            bad,
            record_of_row,
            shown,
            "row(s) with an unknown identifier kind",
            f"accepted kinds are {[k.value for k in KINDS]}",
        )

    # values: distinct (value, kind) pairs; clean ones kept as they are, the rest normalised
    values = encode(column(value))
    if (values.codes < 0).any():
        bad = np.flatnonzero(values.codes < 0)
        raise _rows_error(
            value,
            bad,
            record_of_row,
            ["" for _ in bad[:5]],
            "null value(s)",
            "drop rows without an identifier, or write '' to keep a placeholder",
        )
    n_vals = len(values.uniques)
    row_pair, pair_val, pair_kind = pair_codes(values.codes, n_vals, row_kind)
    n_pairs = len(pair_val)
    pair_clean = clean_pairs(values, pair_val, pair_kind, hashed)
    pair_norm = np.where(pair_clean, pair_val, -1)  # a norm code; clean: the value's own index
    pair_placeholder = np.zeros(n_pairs, dtype=bool)
    todo = np.flatnonzero(~pair_clean)
    failures: dict[int, str] = {}
    extra_norm: dict[str, int] = {}
    todo_norm: list[str] = []
    todo_ok: list[int] = []
    for p, raw, k in zip(
        todo.tolist(),
        values.uniques[pair_val[todo]].tolist(),
        pair_kind[todo].tolist(),
        strict=True,
    ):
        try:
            norm, placeholder = _prepare_value(
                KINDS[k], raw, default_country_code=default_country_code, hashed=hashed
            )
        except ClientModelError as exc:
            failures[p] = exc.message
            continue
        pair_placeholder[p] = placeholder
        todo_norm.append(norm)
        todo_ok.append(p)
    if failures:
        bad = np.flatnonzero(np.isin(row_pair, np.fromiter(failures, dtype=np.int64)))
        shown = [
            f"{KINDS[int(row_kind[b])].value} {masked(values.uniques[values.codes[b]])}"
            for b in bad[:5]
        ]
        raise _rows_error(
            value,
            bad,
            record_of_row,
            shown,
            "malformed identifier value(s)",
            f"first problem: {failures[int(row_pair[bad[0]])]}",
        )
    # a normalised value equal to a clean raw value shares its code; others get new codes
    used = np.zeros(n_vals, dtype=bool)
    used[pair_val[pair_clean]] = True
    lookup = _lookup(values, todo_norm)
    for p, norm, j in zip(todo_ok, todo_norm, lookup, strict=True):
        if j >= 0 and used[j]:
            pair_norm[p] = j
        else:
            pair_norm[p] = n_vals + extra_norm.setdefault(norm, len(extra_norm))
    norm_values = np.empty(n_vals + len(extra_norm), dtype=object)
    norm_values[:n_vals] = values.uniques
    norm_values[n_vals:] = list(extra_norm)
    pair_blocked = pair_placeholder.copy()
    for k in () if hashed else extra:  # a hash is never matched against blocked patterns
        for p in np.flatnonzero(pair_kind == k).tolist():
            pair_blocked[p] |= extra_blocked(str(norm_values[pair_norm[p]]), k, extra)

    # scopes: 0 means none
    scope_names: list[str | None] = [None]
    row_scope = np.zeros(t.n_rows, dtype=np.int64)
    if use_scope:
        assert scope is not None
        scopes = encode(column(scope))
        remap = np.zeros(len(scopes.uniques) + 1, dtype=np.int64)  # last slot: null
        index: dict[str | None, int] = {None: 0}
        bad_codes = []
        for j, s in enumerate(scopes.uniques.tolist()):
            if s is None:
                continue
            if not isinstance(s, str) or not s.strip() or any(ord(c) < 32 for c in s):
                bad_codes.append(j)
                continue
            remap[j] = index.setdefault(s.strip(), len(index))
        if bad_codes:
            bad = np.flatnonzero(np.isin(scopes.codes, bad_codes))
            raise _rows_error(
                scope,
                bad,
                record_of_row,
                [repr(scopes.uniques[scopes.codes[b]]) for b in bad[:5]],
                "invalid scope(s)",
                "a scope is a non-empty app id string (or null for none)",
            )
        row_scope = remap[scopes.codes]
        scope_names = list(index)
    scoped = np.isin(row_kind, [KIND_INDEX[k] for k in SCOPED_KINDS])
    missing = scoped & (row_scope == 0) & ~pair_placeholder[row_pair]
    if missing.any():
        bad = np.flatnonzero(missing)
        raise _rows_error(
            scope or "scope",
            bad,
            record_of_row,
            [KINDS[int(row_kind[b])].value for b in bad[:5]],
            "identifier(s) without the scope (app id) their kind needs",
            f"give {[k.value for k in SCOPED_KINDS]} rows their app id in a scope column",
        )

    # keys = distinct (normalised value, kind, scope)
    row_norm = pair_norm[row_pair]
    nk_codes, nk_norm, nk_kind = pair_codes(row_norm, len(norm_values), row_kind)
    row_key, key_nk, key_scope_code = pair_codes(nk_codes, len(nk_norm), row_scope)
    # a raw value whose normalised form is spelled another way has a code no row uses: its pair
    # would be a key of no row, twin of the used one; keep only the keys rows use
    used = np.zeros(len(key_nk), dtype=bool)
    used[row_key] = True
    if not used.all():
        row_key = (np.cumsum(used) - 1)[row_key]
        key_nk, key_scope_code = key_nk[used], key_scope_code[used]
    n_keys = len(key_nk)
    key_blocked = np.zeros(n_keys, dtype=bool)
    key_blocked[row_key] = pair_blocked[row_pair]
    scope_arr = np.empty(len(scope_names), dtype=object)
    scope_arr[:] = scope_names

    # record times: the earliest time of the record's rows
    n_rec = len(rec_ids)
    out_tz: str | None = None
    rec_times = np.full(n_rec, _NAT)
    row_times = None
    if use_time:
        assert timestamp is not None
        stamps = t.timestamps(timestamp, tz=tz)
        out_tz = stamps.tz
        first = np.full(n_rec, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first, rec_code, stamps.values.astype(np.int64))
        rec_times = first.astype("datetime64[us]")
        row_times = stamps.values.astype("datetime64[us]")
    prep = canonical(
        rec_ids,
        id_rank,
        rec_times,
        out_tz,
        (
            nk_kind[key_nk].astype(np.int8),
            scope_arr[key_scope_code],
            key_scope_code,
            norm_values[nk_norm[key_nk]],
        ),
        np.full(n_keys, hashed, dtype=bool),
        key_blocked,
        rec_code,
        row_key,
        row_times,
    )
    key_arrow = _key_arrow(values, list(extra_norm), nk_norm[key_nk])
    if key_arrow is not None:
        prep = attrs.evolve(prep, key_arrow=key_arrow)
    return prep, backend


def _key_arrow(values: Coded, extra: list[str], codes: NDArray[np.int64]) -> Any:
    """The key values as an arrow array (distinct values, then normalised extras, by code)."""
    if values.arrow is None:
        return None
    pa = importlib.import_module("pyarrow")
    arrow = values.arrow
    if not (pa.types.is_string(arrow.type) or pa.types.is_large_string(arrow.type)):
        return None
    both = pa.concat_arrays([arrow, pa.array(extra, type=arrow.type)])
    return both.take(pa.array(codes, type=pa.int64()))


def _lookup(values: Coded, strings: list[str]) -> NDArray[np.int64]:
    """Index of each string among the distinct values, -1 when absent."""
    if not strings:
        return np.empty(0, dtype=np.int64)
    if values.arrow is not None:
        pa = importlib.import_module("pyarrow")
        pc = importlib.import_module("pyarrow.compute")
        try:
            found = pc.index_in(pa.array(strings, type=values.arrow.type), value_set=values.arrow)
            return np.asarray(
                pc.fill_null(found, -1).to_numpy(zero_copy_only=False), dtype=np.int64
            )
        except (pa.ArrowException, TypeError):
            pass
    position = {v: i for i, v in enumerate(values.uniques.tolist()) if isinstance(v, str)}
    return np.array([position.get(s, -1) for s in strings], dtype=np.int64)
