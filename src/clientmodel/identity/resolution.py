"""Identity resolution: which records belong to the same person.

Records (a CRM contact, a WeChat follower, an app install, a web session, ...) each carry some
:class:`~clientmodel.identity.kinds.Identifier` values. :func:`resolve` (records) and
:func:`resolve_table` (a long table of ``record_id, kind, value[, scope, timestamp]`` rows) join the
records that share identifiers into resolved profiles, under per-kind rules
(:class:`~clientmodel.identity.config.KindRule`, collected in
:class:`~clientmodel.identity.config.IdentityConfig`):

* **priority** -- when a record's identifiers disagree, the higher-priority ones (smaller number)
  decide and the lower-priority ones give way;
* **joins** -- whether the kind may join records at all (a kind that does not join is still kept);
* **limit** and **window** -- at most ``limit`` values of the kind per profile (per scope), or at
  most ``limit`` first seen within any ``window``; a merge or claim that would break a limit is
  refused and reported, and the offending identifier of that record is dropped from matching (but
  kept on the profile), so a shared device never fuses two members;
* **blocked** values -- placeholders (``""``, ``"null"``, ``"-1"``, ``"unknown"``, all zeros, ...)
  and any values the configuration adds never join anybody.

Records are processed in a canonical order (timestamp, then record id), so the result does not
depend on input order; a profile's id is the id of its oldest record, so it is stable across runs
and when newer records join. The result, a :class:`Resolution`, explains every profile
(:meth:`Resolution.explain`), lists every refusal, exports to JSON, hands profiles to profile
construction (:meth:`Resolution.profiles`) and can undo a record or an identifier
(:func:`unmerge`) -- giving exactly what resolution without it would have given. Result types
live in :mod:`clientmodel.identity.results`; the algorithm is described in
``docs/identity.md`` and in the private engine module.

Examples
--------
>>> res = resolve([
...     {"record_id": "a", "identifiers": [("member_id", "M1"), ("device_id", "D1")]},
...     {"record_id": "b", "identifiers": [("member_id", "M2"), ("device_id", "D1")]},
...     {"record_id": "c", "identifiers": [("device_id", "D1"), ("phone", "null")]},
... ])
>>> res.profile_of("c"), res.profile_of("b")
('a', 'b')
>>> print(res.refusals[0].reason)  # doctest: +NORMALIZE_WHITESPACE
device_id of record 'b': joining the profile of record 'a' would give the profile
2 member_id values (limit 1)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

import attrs
import narwhals.stable.v2 as nw
import numpy as np
from numpy.typing import NDArray
from pydantic import ValidationError

from clientmodel._validation import (
    boundary,
    check_choice,
    check_mapping,
    check_sequence,
    check_text,
    key_path,
    validate_record,
)
from clientmodel.errors import ArgumentError, ClientModelError, DataError
from clientmodel.identity import _engine as engine
from clientmodel.identity import _prepare as prepare
from clientmodel.identity.config import (
    IdentityConfig,
    IdentityRecord,
    _validation_message,
)
from clientmodel.identity.kinds import Identifier, _mask
from clientmodel.identity.results import (
    _STATUS,
    _STATUS_CODE,
    IdentifierStatus,
    IdentifierUse,
    IdentTuple,
    Link,
    ProfileExplanation,
    RecordId,
    Refusal,
    ResolvedProfile,
    _ident_load,
    _ident_of,
    _plain_id,
    _RefusalData,
)

__all__ = [
    "Resolution",
    "resolve",
    "resolve_table",
    "unmerge",
    "unmerge_many",
    "without_records",
]

_FORMAT = "clientmodel.identity_resolution/1"


@attrs.frozen(eq=False, repr=False)
class Resolution:
    """The result of identity resolution (build it with :func:`resolve` or
    :func:`resolve_table`).

    Records are kept in processing order (timestamp, then id); a profile's id is the id of its
    oldest record (its first in that order), which records joining later never change.
    Equality compares the records, their identifiers and statuses, the profiles and the refusals
    (and the configuration).

    Examples
    --------
    >>> res = resolve([{"record_id": "b", "identifiers": [("email", "x@y.io")]},
    ...                {"record_id": "a", "identifiers": [("email", "X@Y.IO")]}])
    >>> res
    Resolution(records=2, profiles=1, identifiers=2, refusals=0)
    >>> res.profile_of("b")
    'a'
    """

    config: IdentityConfig
    _prep: prepare.Prepared = attrs.field(alias="prep")
    _label: NDArray[np.int64] = attrs.field(alias="label")
    _component: NDArray[np.int64] = attrs.field(alias="component")
    _status: NDArray[np.int8] = attrs.field(alias="status")
    _refusals: tuple[_RefusalData, ...] = attrs.field(alias="refusals")
    _backend: Any = attrs.field(default=None, alias="backend")
    _record_profile: NDArray[np.int64] = attrs.field(init=False)
    _profile_ids: NDArray[Any] = attrs.field(init=False)
    _profile_first: NDArray[np.int64] = attrs.field(init=False)
    _id_order: NDArray[np.int64] = attrs.field(init=False)

    __hash__: ClassVar[None] = None  # type: ignore[assignment]

    def __attrs_post_init__(self) -> None:
        prep = self._prep
        n = prep.n_records
        # profiles are numbered in the order of their first record (labels are record indices)
        is_first = np.zeros(n, dtype=bool)
        is_first[self._label] = True
        number = np.cumsum(is_first, dtype=np.int64)  # in place: fresh arrays cost page faults
        number -= 1
        record_profile = number[self._label]
        # a profile's id is the id of its oldest record (its first in processing order), so
        # records that join later never rename it
        first = np.flatnonzero(is_first)
        rank = prep.id_rank
        if n and int(rank.max()) == n - 1:  # distinct dense ranks: invert, no sort needed
            id_order = np.empty(n, dtype=np.int64)
            id_order[rank] = np.arange(n, dtype=np.int64)
        else:
            id_order = np.argsort(rank, kind="stable")
        object.__setattr__(self, "_record_profile", record_profile)
        object.__setattr__(self, "_profile_first", first)
        object.__setattr__(self, "_profile_ids", prep.record_ids[first])
        object.__setattr__(self, "_id_order", id_order)

    # ------------------------------------------------------------------ sizes and lookups
    @property
    def refusals(self) -> tuple[Refusal, ...]:
        """Every refused merge or claim, in processing order.

        Examples
        --------
        >>> resolve([{"record_id": "a", "identifiers": [("email", "a@b.co")]}]).refusals
        ()
        """
        # built on each call: a Resolution holds no mutable cache (it is shared across threads)
        out = tuple(r.public() for r in self._refusals)
        return out

    @property
    def n_records(self) -> int:
        """Number of records.

        Examples
        --------
        >>> resolve([{"record_id": "a"}]).n_records
        1
        """
        return self._prep.n_records

    @property
    def n_profiles(self) -> int:
        """Number of resolved profiles.

        Examples
        --------
        >>> resolve([{"record_id": "a"}, {"record_id": "b"}]).n_profiles
        2
        """
        return len(self._profile_ids)

    @property
    def record_ids(self) -> NDArray[Any]:
        """Record ids in processing order (a read-only copy).

        Examples
        --------
        >>> resolve([{"record_id": "b"}, {"record_id": "a"}]).record_ids.tolist()
        ['a', 'b']
        """
        out: NDArray[Any] = self._prep.record_ids.copy()
        return out

    @property
    def profile_ids(self) -> NDArray[Any]:
        """Profile ids, one per profile, ordered by each profile's first record.

        Examples
        --------
        >>> resolve([{"record_id": "b"}, {"record_id": "a"}]).profile_ids.tolist()
        ['a', 'b']
        """
        out: NDArray[Any] = self._profile_ids.copy()
        return out

    def _index_of(self, record_id: Any) -> int:
        ids = self._prep.record_ids
        if ids.dtype.kind in "iu" and not isinstance(record_id, (int, np.integer)):
            raise ArgumentError(f"unknown record id {record_id!r}", field="record_id")
        if ids.dtype == object and not isinstance(record_id, str):
            raise ArgumentError(f"unknown record id {record_id!r}", field="record_id")
        # a search through the id order, not over a sorted copy: a lookup costs O(log n)
        pos = int(np.searchsorted(ids, record_id, sorter=self._id_order))
        if pos >= len(ids) or ids[self._id_order[pos]] != record_id:
            raise ArgumentError(f"unknown record id {record_id!r}", field="record_id")
        return int(self._id_order[pos])

    def _indices_of(self, record_ids: Sequence[Any]) -> NDArray[np.int64]:
        """The indices of many record ids (one sorted lookup), naming the first unknown one."""
        if not record_ids:
            return np.empty(0, dtype=np.int64)
        ids = self._prep.record_ids
        wrong = [
            r
            for r in record_ids
            if (ids.dtype.kind in "iu" and not isinstance(r, (int, np.integer)))
            or (ids.dtype == object and not isinstance(r, str))
            or isinstance(r, bool)
        ]
        if wrong:
            raise ArgumentError(f"unknown record id {wrong[0]!r}", field="record_id")
        wanted = np.asarray(record_ids, dtype=ids.dtype)
        pos = np.searchsorted(ids, wanted, sorter=self._id_order)
        found = pos < len(ids)
        found[found] = ids[self._id_order[pos[found]]] == wanted[found]
        if not found.all():
            bad = record_ids[int(np.flatnonzero(~found)[0])]
            raise ArgumentError(f"unknown record id {bad!r}", field="record_id")
        out: NDArray[np.int64] = self._id_order[pos]
        return out

    def _profile_index(self, profile_id: Any) -> int:
        try:
            idx = self._record_profile[self._index_of(profile_id)]
        except ArgumentError:
            idx = -1
        if idx < 0 or self._profile_ids[idx] != profile_id:
            raise ArgumentError(f"unknown profile id {profile_id!r}", field="profile_id")
        return int(idx)

    def profile_of(self, record_id: RecordId) -> RecordId:
        """The profile id of a record.

        Examples
        --------
        >>> resolve([{"record_id": 7}]).profile_of(7)
        7
        """
        return _plain_id(self._profile_ids[self._record_profile[self._index_of(record_id)]])

    # ------------------------------------------------------------------ identifiers
    def _keys(self, keys: Iterable[int]) -> dict[int, tuple[engine.SortKey, IdentTuple]]:
        """Sort key (processing order) and ``(kind, scope, value, hashed)`` of some keys."""
        names = [k.value for k in prepare.KINDS]
        order = engine.sort_keys(self._prep, self.config._arrays(), keys)
        return {key: (sk, (names[sk[1]], sk[2] or None, sk[3], sk[4])) for key, sk in order.items()}

    def _identifiers(
        self, info: Mapping[int, tuple[engine.SortKey, IdentTuple]]
    ) -> dict[int, Identifier]:
        return {key: _ident_of(t) for key, (_, t) in info.items()}

    def _profile_records(self, p: int) -> NDArray[np.int64]:
        return np.flatnonzero(self._record_profile == p)

    def _rows_of(self, records: NDArray[np.int64]) -> NDArray[np.int64]:
        mask = np.zeros(self.n_records, dtype=bool)
        mask[records] = True
        return np.flatnonzero(mask[self._prep.row_record])

    def _resolved(
        self,
        p: int,
        records: NDArray[np.int64],
        rows: NDArray[np.int64],
        info: Mapping[int, tuple[engine.SortKey, IdentTuple]],
        idents: Mapping[int, Identifier],
    ) -> ResolvedProfile:
        prep = self._prep
        status: dict[int, int] = {}
        for k, s in zip(prep.row_key[rows].tolist(), self._status[rows].tolist(), strict=True):
            status[k] = min(s, status.get(k, s))
        keys = sorted(status, key=lambda k: info[k][0])
        return ResolvedProfile(
            profile_id=_plain_id(self._profile_ids[p]),
            record_ids=tuple(prep.record_ids[records].tolist()),
            identifiers=tuple(idents[k] for k in keys),
            statuses=tuple(_STATUS[status[k]] for k in keys),
        )

    def profile(self, profile_id: RecordId) -> ResolvedProfile:
        """One resolved profile by id.

        Examples
        --------
        >>> res = resolve([{"record_id": "a", "identifiers": [("member_id", "M1")]}])
        >>> res.profile("a").record_ids
        ('a',)
        """
        p = self._profile_index(profile_id)
        records = self._profile_records(p)
        rows = self._rows_of(records)
        info = self._keys(self._prep.row_key[rows].tolist())
        return self._resolved(p, records, rows, info, self._identifiers(info))

    def profiles(self) -> list[ResolvedProfile]:
        """Every resolved profile with its record ids and (normalised) identifiers.

        This is the glue to profile construction: each item has what a ``Profile`` needs
        (``profile_id``, ``record_ids``, ``identifiers``). Profiles come in the order of their
        first record. It builds one Python object per identifier: for millions of rows, prefer
        :meth:`identifiers_table`.

        Examples
        --------
        >>> res = resolve([{"record_id": "a", "identifiers": [("member_id", "M1")]},
        ...                {"record_id": "b", "identifiers": [("member_id", " M1 ")]}])
        >>> [(p.profile_id, p.record_ids) for p in res.profiles()]
        [('a', ('a', 'b'))]
        """
        prep = self._prep
        rec_order = np.argsort(self._record_profile, kind="stable")
        rec_bounds = np.searchsorted(
            self._record_profile[rec_order], np.arange(self.n_profiles + 1)
        )
        row_profile = self._record_profile[prep.row_record]
        row_order = np.argsort(row_profile, kind="stable")
        row_bounds = np.searchsorted(row_profile[row_order], np.arange(self.n_profiles + 1))
        info = self._keys(prep.row_key.tolist())
        idents = self._identifiers(info)
        return [
            self._resolved(
                p,
                rec_order[rec_bounds[p] : rec_bounds[p + 1]],
                row_order[row_bounds[p] : row_bounds[p + 1]],
                info,
                idents,
            )
            for p in range(self.n_profiles)
        ]

    # ------------------------------------------------------------------ explanation
    def explain(self, profile_id: RecordId) -> ProfileExplanation:
        """How a profile came together: links via identifiers, statuses and refusals.

        The resolution of the profile's component (the records it could possibly have joined)
        is replayed with tracing on; the replay is the same algorithm, so it tells exactly what
        happened.

        Examples
        --------
        See :class:`ProfileExplanation`.
        """
        p = self._profile_index(profile_id)
        prep = self._prep
        records = self._profile_records(p)
        comp_records = np.flatnonzero(self._component == self._component[records[0]])
        rules = self.config._arrays()
        active = engine.initial_status(prep, rules) == engine.MATCHED
        replay = engine.sequential(prep, rules, comp_records, active, trace=True)
        in_profile = set(records.tolist())
        ids = prep.record_ids
        rows = self._rows_of(records)
        info = self._keys(
            [*prep.row_key[rows].tolist(), *(lk.key for lk in replay.links if lk.key >= 0)]
        )
        idents = self._identifiers(info)
        links = tuple(
            Link(
                _plain_id(ids[link.record]),
                idents[link.key] if link.key >= 0 else None,
                _plain_id(ids[link.owner]),
            )
            for link in replay.links
            if link.record in in_profile
        )
        carriers: dict[int, list[int]] = {}
        status: dict[int, int] = {}
        for r, k, s in zip(
            prep.row_record[rows].tolist(),
            prep.row_key[rows].tolist(),
            self._status[rows].tolist(),
            strict=True,
        ):
            carriers.setdefault(k, []).append(r)
            status[k] = min(s, status.get(k, s))
        uses = tuple(
            IdentifierUse(
                idents[k],
                _STATUS[status[k]],
                tuple(_plain_id(ids[r]) for r in carriers[k]),
            )
            for k in sorted(carriers, key=lambda k: info[k][0])
        )
        members = {_plain_id(ids[r]) for r in in_profile}
        refusals = tuple(
            ref.public()
            for ref in self._refusals
            if ref.record_id in members or ref.owner_record_id in members
        )
        return ProfileExplanation(
            profile_id=_plain_id(self._profile_ids[p]),
            record_ids=tuple(ids[records].tolist()),
            identifiers=uses,
            links=links,
            refusals=refusals,
        )

    # ------------------------------------------------------------------ unmerge
    def unmerge(
        self,
        record: RecordId | None = None,
        identifier: Identifier | Mapping[str, Any] | tuple[str, ...] | None = None,
    ) -> Resolution:
        """Resolution without a record, without an identifier, or without one identifier of one
        record. See :func:`unmerge`."""
        return unmerge(self, record=record, identifier=identifier)

    # ------------------------------------------------------------------ tables
    def _output(self, columns: dict[str, NDArray[Any]]) -> Any:
        if self._backend is None:
            return columns
        out = nw.from_dict(columns, backend=self._backend)
        tz = self._tz
        if tz is not None and "timestamp" in columns:
            out = out.with_columns(nw.col("timestamp").dt.replace_time_zone(tz))
        return out.to_native()

    def records_table(self) -> Any:
        """One row per record: ``record_id``, ``profile_id``, ``timestamp``.

        A frame of the kind :func:`resolve_table` was given (timestamps timezone-aware in the
        input's timezone), otherwise a dict of numpy arrays (timestamps as wall-clock
        ``datetime64`` values: UTC for records). Records without a timestamp have ``NaT``.

        Examples
        --------
        >>> resolve([{"record_id": "a"}]).records_table()["profile_id"].tolist()
        ['a']
        """
        return self._output(
            {
                "record_id": self._prep.record_ids,
                "profile_id": self._profile_ids[self._record_profile],
                "timestamp": self._prep.record_times,
            }
        )

    def identifiers_table(self) -> Any:
        """One row per (record, identifier): ids, the identifier and its status.

        Columns ``record_id, profile_id, kind, scope, value, hashed, status``; the same kind of
        table as :meth:`records_table`.

        Examples
        --------
        >>> t = resolve([{"record_id": "a", "identifiers": [("phone", "n/a")]}]).identifiers_table()
        >>> t["status"].tolist()
        ['blocked']
        """
        prep = self._prep
        keys = prep.row_key
        kinds = np.array([k.value for k in prepare.KINDS], dtype=object)
        statuses = np.array([s.value for s in _STATUS], dtype=object)
        return self._output(
            {
                "record_id": prep.record_ids[prep.row_record],
                "profile_id": self._profile_ids[self._record_profile[prep.row_record]],
                "kind": kinds[prep.key_kind[keys]],
                "scope": prep.key_scope[keys],
                "value": prep.key_value[keys],
                "hashed": prep.key_hashed[keys],
                "status": statuses[self._status],
            }
        )

    # ------------------------------------------------------------------ export
    @property
    def _tz(self) -> str | None:
        """The timezone of the wall-clock timestamps (``None`` when no record has one)."""
        times = self._prep.record_times
        return None if np.isnat(times).all() else self._prep.tz

    def _time_text(self, i: int) -> str | None:
        t = self._prep.record_times[i]
        if np.isnat(t):
            return None
        return str(t.astype("datetime64[us]").item().isoformat())

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe export: configuration, records with their identifiers, statuses and
        profile ids, and the refusals. :meth:`from_dict` rebuilds it exactly.

        Examples
        --------
        >>> d = resolve([{"record_id": "a", "identifiers": [("member_id", "M1")]}]).to_dict()
        >>> d["records"][0]["identifiers"]
        [{'kind': 'member_id', 'value': 'M1', 'scope': None, 'hashed': False, 'status': 'matched'}]
        """
        prep = self._prep
        info = self._keys(prep.row_key.tolist())
        bounds = prep.row_bounds().tolist()
        row_key = prep.row_key.tolist()
        row_status = self._status.tolist()
        ids = prep.record_ids.tolist()
        profile_ids = self._profile_ids[self._record_profile].tolist()
        records = []
        for i in range(self.n_records):
            rows = sorted(range(bounds[i], bounds[i + 1]), key=lambda r: info[row_key[r]][0])
            records.append(
                {
                    "record_id": ids[i],
                    "timestamp": self._time_text(i),
                    "profile_id": profile_ids[i],
                    "identifiers": [
                        {
                            "kind": info[row_key[r]][1][0],
                            "value": info[row_key[r]][1][2],
                            "scope": info[row_key[r]][1][1],
                            "hashed": info[row_key[r]][1][3],
                            "status": _STATUS[row_status[r]].value,
                        }
                        for r in rows
                    ],
                }
            )
        return {
            "format": _FORMAT,
            "config": self.config.model_dump(mode="json"),
            "tz": self._tz,
            "records": records,
            "refusals": [r.to_dict() for r in self.refusals],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Resolution:
        """Rebuild a resolution exported by :meth:`to_dict`, without resolving again.

        Examples
        --------
        >>> res = resolve([{"record_id": "a", "identifiers": [("member_id", "M1")]}])
        >>> Resolution.from_dict(res.to_dict()) == res
        True
        """
        check_mapping(data, "Resolution")
        if data.get("format") != _FORMAT:
            raise DataError(
                f"not an identity resolution export (format {data.get('format')!r}); "
                f"expected {_FORMAT!r}",
                field="format",
            )
        check_mapping(data, "Resolution", required=["config", "records"])
        config = validate_record(IdentityConfig, data["config"], field="Resolution.config")
        tz = data.get("tz")
        if tz is not None:
            check_text(tz, "Resolution.tz")
        recs = _form_records(data["records"])
        ids = prepare.id_array([r["record_id"] for r in recs], "record_id")
        times = np.array(
            [
                np.datetime64(r["timestamp"], "us") if r.get("timestamp") else prepare._NAT
                for r in recs
            ],
            dtype="datetime64[us]",
        )
        key_index: dict[tuple[int, str, str, bool], int] = {}
        row_record: list[int] = []
        row_key: list[int] = []
        row_status: list[int] = []
        for i, rec in enumerate(recs):
            for item in rec["identifiers"]:
                ident = _ident_load(item)
                k = (prepare.KIND_INDEX[ident.kind], ident.scope or "", ident.value, ident.hashed)
                row_record.append(i)
                row_key.append(key_index.setdefault(k, len(key_index)))
                row_status.append(_STATUS_CODE[IdentifierStatus(item["status"])])
        keys, key_hashed, key_blocked = prepare.key_arrays(key_index, config._blocked())
        prep = prepare.canonical(
            ids,
            prepare.rank_ids(ids),
            times,
            tz,
            keys,
            key_hashed,
            key_blocked,
            np.asarray(row_record, dtype=np.int64),
            np.asarray(row_key, dtype=np.int64),
        )
        # canonical() sorted records and rows; carry the statuses and profile ids along
        order_of = {(_plain_id(rid)): i for i, rid in enumerate(prep.record_ids.tolist())}
        status_map = {
            (order_of[recs[r]["record_id"]], k): s
            for r, k, s in zip(row_record, row_key, row_status, strict=True)
        }
        status = np.array(
            [
                status_map[(r, k)]
                for r, k in zip(prep.row_record.tolist(), prep.row_key.tolist(), strict=True)
            ],
            dtype=np.int8,
        )
        profile_of = {rec["record_id"]: rec["profile_id"] for rec in recs}
        first: dict[Any, int] = {}
        label = np.empty(prep.n_records, dtype=np.int64)
        for i, rid in enumerate(prep.record_ids.tolist()):
            label[i] = first.setdefault(profile_of[rid], i)
        rules = config._arrays()
        active = engine.initial_status(prep, rules) == engine.MATCHED
        component = engine.components(prep, active, engine.always_pairs(prep, rules))
        return cls(
            config,
            prep=prep,
            label=label,
            component=component,
            status=status,
            refusals=tuple(
                _RefusalData.of(Refusal.from_dict(r))
                for r in check_sequence(data.get("refusals", ()), "Resolution.refusals")
            ),
        )

    # ------------------------------------------------------------------ comparison
    def _canonical(self) -> tuple[Any, ...]:
        prep = self._prep
        info = self._keys(prep.row_key.tolist())
        bounds = prep.row_bounds().tolist()
        row_key = prep.row_key.tolist()
        row_status = self._status.tolist()
        ids = prep.record_ids.tolist()
        profile_ids = self._profile_ids[self._record_profile].tolist()
        records = [
            (
                ids[i],
                self._time_text(i),
                profile_ids[i],
                tuple(
                    sorted(
                        (info[row_key[r]][0], info[row_key[r]][1], row_status[r])
                        for r in range(bounds[i], bounds[i + 1])
                    )
                ),
            )
            for i in range(self.n_records)
        ]
        return (self.config, self._tz, tuple(records), self._refusals)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Resolution):
            return NotImplemented
        return self._canonical() == other._canonical()

    def __repr__(self) -> str:
        return (
            f"Resolution(records={self.n_records}, profiles={self.n_profiles}, "
            f"identifiers={len(self._prep.row_key)}, refusals={len(self._refusals)})"
        )


# =========================================================================== entry points


def _build(prep: prepare.Prepared, config: IdentityConfig, backend: Any = None) -> Resolution:
    outcome = engine.resolve_arrays(prep, config._arrays())
    return Resolution(
        config,
        prep=prep,
        label=outcome.record_label,
        component=outcome.record_component,
        status=outcome.row_status,
        refusals=_refusals(prep, outcome.refusals),
        backend=backend,
    )


def _refusals(prep: prepare.Prepared, raw: Sequence[engine.RawRefusal]) -> tuple[_RefusalData, ...]:
    ids = prep.record_ids
    return tuple(
        _RefusalData(
            record_id=_plain_id(ids[r.record]),
            ident=prep.identifier_tuple(r.key),
            owner_record_id=None if r.owner < 0 else _plain_id(ids[r.owner]),
            kind=prepare.KINDS[r.kind].value,
            scope=r.scope,
            limit=r.limit,
            window=r.window,
            count=r.count,
            conflicting=tuple(prep.identifier_tuple(k) for k in r.conflicting),
            cap=r.cap or None,
        )
        for r in raw
    )


@boundary
def validated_records(records: Any) -> list[IdentityRecord]:
    """Records as :class:`IdentityRecord` objects with unique ids, or a clear DataError."""
    if isinstance(records, (str, bytes, Mapping)) or not isinstance(records, Iterable):
        raise ArgumentError(
            f"records must be a list of IdentityRecord objects or their dicts, got "
            f"{type(records).__name__}",
            field="records",
        )
    valid: list[IdentityRecord] = []
    for i, rec in enumerate(records):
        if isinstance(rec, IdentityRecord):
            valid.append(rec)
            continue
        if not isinstance(rec, Mapping):
            raise DataError(
                f"record {i} is a {type(rec).__name__}, not an identity record; give a dict "
                "with record_id, identifiers and timestamp (or an IdentityRecord)",
                field="records",
                rows=[i],
            )
        try:
            valid.append(IdentityRecord.model_validate(rec))
        except ValidationError as exc:
            rid = rec.get("record_id")
            named = f" (record_id {rid!r})" if isinstance(rid, (str, int)) else ""
            raise DataError(
                f"record {i}{named} is not a valid identity record: {_validation_message(exc)}",
                field="records",
                rows=[i],
            ) from None  # pydantic's own text repeats the input, identifiers included
    seen: dict[Any, int] = {}
    dupes: list[int] = []
    for i, rec in enumerate(valid):
        if seen.setdefault(rec.record_id, i) != i:
            dupes.append(i)
    if dupes:
        shown = [valid[i].record_id for i in dupes[:5]]
        raise DataError(
            f"record ids must be unique; repeated: {shown!r} at positions {dupes[:5]}"
            " -- merge the identifiers of one record into one IdentityRecord",
            field="record_id",
            rows=dupes[:5],
        )
    return valid


@boundary
def resolve(
    records: Iterable[IdentityRecord | Mapping[str, Any]],
    config: IdentityConfig | None = None,
) -> Resolution:
    """Resolve records into profiles (the record face).

    Parameters
    ----------
    records:
        :class:`IdentityRecord` objects or their dicts (``record_id``, ``identifiers``,
        ``timestamp``). Record ids must be unique and all strings or all integers.
    config:
        The per-kind rules; :class:`IdentityConfig` defaults when omitted.

    Returns
    -------
    Resolution
        Profiles, statuses, refusals, explanations and exports.

    Raises
    ------
    DataError
        For a malformed record (naming its position, record id and identifier position), a
        repeated record id, or mixed id types.

    Examples
    --------
    >>> res = resolve([
    ...     {"record_id": "crm-1", "identifiers": [("phone", "+86 138 0013 8000")]},
    ...     {"record_id": "app-9", "identifiers": [("phone", "+8613800138000"),
    ...                                            ("device_id", "idfa-1")]},
    ...     {"record_id": "web-3", "identifiers": [("device_id", "idfa-1"),
    ...                                            ("cookie_id", "c-77")]},
    ... ])
    >>> res.n_profiles, res.profile_of("web-3")
    (1, 'app-9')
    """
    config = _config(config)
    valid = validated_records(records)
    return _build(prepare.from_records(valid, config._blocked()), config)


def _config(config: Any) -> IdentityConfig:
    """``config``, or the default rules when it is ``None``."""
    if config is None:
        return IdentityConfig()
    if not isinstance(config, IdentityConfig):
        raise ArgumentError(
            f"config must be an IdentityConfig or None, got {type(config).__name__}; "
            "build one with IdentityConfig() and .with_rule(...)",
            field="config",
        )
    return config


_DEFAULT_SCOPE = "scope"
_DEFAULT_TIMESTAMP = "timestamp"


@boundary
def resolve_table(
    table: Any,
    config: IdentityConfig | None = None,
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
    """Resolve a long identifier table into profiles (the table face).

    One row per (record, identifier). A record's rows share its id; its time is the earliest of
    its rows' timestamps. Gives the same :class:`Resolution` as :func:`resolve` on the same
    records.

    Parameters
    ----------
    table:
        A pandas/polars DataFrame, pyarrow Table, or mapping of column -> values.
    config:
        The per-kind rules; :class:`IdentityConfig` defaults when omitted.
    record, kind, value:
        Column names: record id, identifier kind (e.g. ``"phone"``), raw value.
    scope:
        Column of app ids (null for none); used when present. ``None``: no scope column.
    timestamp:
        Column of times; used when present. ``None``: no timestamps.
    tz:
        Timezone of naive timestamps (see :mod:`clientmodel.tables`).
    default_country_code:
        Country calling code for national phone numbers (e.g. ``"86"``); by default phones must
        carry their country code.
    hashed:
        The values are already HMAC-SHA256 hashes (see
        :func:`~clientmodel.identity.kinds.hash_identifier`); placeholders may stay in clear.

    Raises
    ------
    DataError
        For missing columns, unknown kinds, null or malformed values (naming rows and records).

    Examples
    --------
    >>> t = {"record_id": ["a", "a", "b", "c"],
    ...      "kind": ["member_id", "phone", "phone", "phone"],
    ...      "value": ["M1", "138 0013 8000", "13800138000", "-1"]}
    >>> res = resolve_table(t, default_country_code="86")
    >>> res.records_table()["profile_id"].tolist()
    ['a', 'a', 'c']
    """
    config = _config(config)
    prep, backend = read_table(
        table, config, record, kind, value, scope, timestamp, tz, default_country_code, hashed
    )
    return _build(prep, config, backend)


def read_table(
    table: Any,
    config: IdentityConfig,
    record: str,
    kind: str,
    value: str,
    scope: str | None,
    timestamp: str | None,
    tz: str | None,
    default_country_code: str | None,
    hashed: bool,
) -> tuple[prepare.Prepared, Any]:
    """A long identifier table's arrays and frame backend, as :func:`resolve_table` reads it (a
    scope or timestamp column named by the caller must be there; the default ones may not)."""
    return prepare.from_table(
        table,
        record=record,
        kind=kind,
        value=value,
        scope=scope,
        scope_required=scope is not None and scope != _DEFAULT_SCOPE,
        timestamp=timestamp,
        timestamp_required=timestamp is not None and timestamp != _DEFAULT_TIMESTAMP,
        tz=tz,
        default_country_code=default_country_code,
        hashed=hashed,
        extra=config._blocked(),
    )


@boundary
def without_records(resolution: Resolution, record_ids: Iterable[RecordId]) -> Resolution:
    """The resolution without some records (bulk unmerge), as resolving the rest from scratch.

    Examples
    --------
    >>> res = resolve([{"record_id": "a", "identifiers": [("email", "x@y.io")]},
    ...                {"record_id": "b", "identifiers": [("email", "x@y.io")]}])
    >>> without_records(res, ["a"]).profile_of("b")
    'b'
    """
    return unmerge_many(resolution, records=record_ids)


def _retimed(prep: prepare.Prepared) -> prepare.Prepared | None:
    """Table face: the records re-timed from their remaining rows, or ``None`` if no time moved."""
    if prep.row_time is None or not len(prep.row_time):
        return None
    never = np.iinfo(np.int64).max
    first = np.full(prep.n_records, never, dtype=np.int64)
    np.minimum.at(first, prep.row_record, prep.row_time.astype(np.int64))
    times = prep.record_times.astype("datetime64[us]").copy()
    has_rows = first != never
    times[has_rows] = first[has_rows].astype("datetime64[us]")
    old = prep.record_times.astype("datetime64[us]")
    if np.array_equal(times, old, equal_nan=True):
        return None
    return prepare.canonical(
        prep.record_ids,
        prep.id_rank,
        times,
        prep.tz,
        (prep.key_kind, prep.key_scope, prep.key_scope_code, prep.key_value),
        prep.key_hashed,
        prep.key_blocked,
        prep.row_record,
        prep.row_key,
        prep.row_time,
    )


def _keys_of(res: Resolution, identifiers: Sequence[Any]) -> NDArray[np.int64]:
    """The keys of many identifiers (each carried by some record), with one pass over keys."""
    if not identifiers:
        return np.empty(0, dtype=np.int64)
    prep = res._prep
    idents = [_identifier_arg(i) for i in identifiers]
    wanted = {i.value for i in idents}
    candidates = np.flatnonzero(
        np.fromiter(
            (v in wanted for v in prep.key_value.tolist()), dtype=bool, count=len(prep.key_value)
        )
    )
    used = np.zeros(len(prep.key_kind), dtype=bool)
    used[prep.row_key] = True
    code: dict[tuple[int, str | None, str, bool], int] = {}
    for c in candidates[used[candidates]].tolist():
        sc = prep.key_scope[c]
        scope = None if sc is None else str(sc)
        code[(int(prep.key_kind[c]), scope, str(prep.key_value[c]), bool(prep.key_hashed[c]))] = c
    out = []
    for ident in idents:
        found = code.get((prepare.KIND_INDEX[ident.kind], ident.scope, ident.value, ident.hashed))
        if found is None:
            raise ArgumentError(
                f"no record carries the {ident.kind.value} identifier {_mask(ident.value)!r}",
                field="identifier",
            )
        out.append(found)
    return np.asarray(out, dtype=np.int64)


def _identifier_arg(identifier: Any) -> Identifier:
    """An identifier argument (Identifier, dict or tuple) as an :class:`Identifier`."""
    if isinstance(identifier, tuple):
        identifier = dict(zip(("kind", "value", "scope"), identifier, strict=False))
    try:
        ident = identifier if isinstance(identifier, Identifier) else _ident_load(identifier)
    except ValidationError as exc:
        raise ArgumentError(
            f"identifier is not valid: {_validation_message(exc)}", field="identifier"
        ) from None
    except (KeyError, TypeError, AttributeError) as exc:
        raise ArgumentError(
            "identifier must be an Identifier, a dict with kind and value, or a (kind, value"
            "[, scope]) tuple",
            field="identifier",
        ) from exc
    return ident


def _key_of(res: Resolution, identifier: Any) -> int:
    prep = res._prep
    ident = _identifier_arg(identifier)
    same_value = np.flatnonzero(prep.key_value == ident.value)
    match = (
        (prep.key_kind[same_value] == prepare.KIND_INDEX[ident.kind])
        & (prep.key_hashed[same_value] == ident.hashed)
        & np.array([s == ident.scope for s in prep.key_scope[same_value].tolist()], dtype=bool)
    )
    found = same_value[match]
    used = found[np.isin(found, prep.row_key)]
    if not len(used):
        raise ArgumentError(
            f"no record carries the {ident.kind.value} identifier {_mask(ident.value)!r}",
            field="identifier",
        )
    return int(used[0])


@boundary
def unmerge(
    resolution: Resolution,
    record: RecordId | None = None,
    identifier: Identifier | Mapping[str, Any] | tuple[str, ...] | None = None,
) -> Resolution:
    """The resolution without a record, an identifier, or one identifier of one record.

    * ``record`` only: the record is removed;
    * ``identifier`` only: the identifier is removed from every record that carries it;
    * both: the identifier is removed from that record only.

    The result equals resolving the remaining data from scratch (a property test checks it);
    only the components the removal touches are resolved again.

    Raises
    ------
    ArgumentError
        If neither is given, the record id is unknown, or no (such) record carries the
        identifier.

    Examples
    --------
    >>> res = resolve([
    ...     {"record_id": "a", "identifiers": [("member_id", "M1"), ("device_id", "D")]},
    ...     {"record_id": "b", "identifiers": [("device_id", "D"), ("cookie_id", "C")]},
    ... ])
    >>> res.n_profiles, unmerge(res, identifier=("device_id", "D")).n_profiles
    (1, 2)
    >>> unmerge(res, record="a").profile_of("b")
    'b'
    """
    if record is None and identifier is None:
        raise ArgumentError("give a record, an identifier, or both to unmerge", field="record")
    res = resolution
    prep = res._prep
    drop_rows = np.zeros(len(prep.row_key), dtype=bool)
    keep = np.ones(prep.n_records, dtype=bool)
    if identifier is not None:
        drop_rows = prep.row_key == _key_of(res, identifier)
    if record is not None:
        ri = res._index_of(record)
        if identifier is None:
            keep[ri] = False
            drop_rows = prep.row_record == ri
        else:
            drop_rows &= prep.row_record == ri
            if not drop_rows.any():
                raise ArgumentError(
                    f"record {record!r} does not carry that identifier", field="identifier"
                )
    return _dropped(res, keep, drop_rows)


@boundary
def unmerge_many(
    resolution: Resolution,
    *,
    records: Iterable[RecordId] = (),
    identifiers: Iterable[Identifier | Mapping[str, Any] | tuple[str, ...]] = (),
) -> Resolution:
    """The resolution without many records and identifiers at once (bulk unmerge).

    Equals :func:`unmerge` applied to each identifier and then each record, one at a time (a
    property test checks it), and so equals resolving the remaining data from scratch; but the
    components the removals touch are resolved again only once.

    Parameters
    ----------
    resolution:
        The resolution to undo from.
    records:
        Record ids to remove (each must be in ``resolution``).
    identifiers:
        Identifiers to remove from every record that carries them (each must be carried by
        some record of ``resolution``), as for :func:`unmerge`.

    Raises
    ------
    ArgumentError
        For an unknown record id or an identifier no record carries (naming it, masked).

    Examples
    --------
    >>> res = resolve([
    ...     {"record_id": "a", "identifiers": [("email", "x@y.io"), ("device_id", "D")]},
    ...     {"record_id": "b", "identifiers": [("device_id", "D"), ("cookie_id", "C")]},
    ...     {"record_id": "c", "identifiers": [("cookie_id", "C")]},
    ... ])
    >>> res.n_profiles
    1
    >>> unmerge_many(res, records=["a"], identifiers=[("cookie_id", "C")]).profile_ids.tolist()
    ['b', 'c']
    """
    if not isinstance(resolution, Resolution):
        raise ArgumentError(
            f"resolution must be a Resolution, got {type(resolution).__name__}",
            field="resolution",
        )
    for name, given in (("records", records), ("identifiers", identifiers)):
        if isinstance(given, (str, bytes, Mapping)) or not isinstance(given, Iterable):
            raise ArgumentError(f"{name} must be a list, got {type(given).__name__}", field=name)
    prep = resolution._prep
    keep = np.ones(prep.n_records, dtype=bool)
    keep[resolution._indices_of(list(records))] = False
    keys = _keys_of(resolution, list(identifiers))
    drop_rows = ~keep[prep.row_record]
    if len(keys):
        used = np.zeros(len(prep.key_kind), dtype=bool)
        used[keys] = True
        drop_rows |= used[prep.row_key]
    return _dropped(resolution, keep, drop_rows)


def _dropped(res: Resolution, keep: NDArray[np.bool_], drop_rows: NDArray[np.bool_]) -> Resolution:
    """``res`` without the records not in ``keep`` and the rows in ``drop_rows``: only the
    components they touch are resolved again."""
    prep = res._prep
    touched = np.union1d(prep.row_record[drop_rows], np.flatnonzero(~keep))
    affected = np.isin(res._component, res._component[touched])
    new_index = np.cumsum(keep) - 1

    sub_records = np.flatnonzero(affected & keep)
    sub = prep.subset(sub_records, keep_rows=~drop_rows)
    rules = res.config._arrays()
    outcome = engine.resolve_arrays(sub, rules)

    # splice: unaffected records keep their labels (shifted), affected ones take the new ones
    label = new_index[res._label]
    component = new_index[res._component]
    label[sub_records] = new_index[sub_records[outcome.record_label]]
    component[sub_records] = new_index[sub_records[outcome.record_component]]
    kept_rows = ~drop_rows & keep[prep.row_record]
    status = res._status.copy()
    sub_rows = affected[prep.row_record] & kept_rows
    status[sub_rows] = outcome.row_status
    new_prep = prep.subset(np.flatnonzero(keep), keep_rows=~drop_rows)
    retimed = _retimed(new_prep)
    if retimed is not None:  # a record's earliest row went: it moves in processing order
        return _build(retimed, res.config, res._backend)

    affected_ids = set(prep.record_ids[affected].tolist())
    kept_refusals = [r for r in res._refusals if r.record_id not in affected_ids]
    new_refusals = list(_refusals(sub, outcome.refusals))
    order = {rid: i for i, rid in enumerate(new_prep.record_ids.tolist())}
    kind_index = {k.value: i for i, k in enumerate(prepare.KINDS)}
    priority = rules.priority.tolist()
    refusals = sorted(
        kept_refusals + new_refusals,
        key=lambda r: (
            order[r.record_id],
            engine.sort_key(priority, kind_index[r.ident[0]], r.ident[1], r.ident[2], r.ident[3]),
        ),
    )
    return Resolution(
        res.config,
        prep=new_prep,
        label=label[keep],
        component=component[keep],
        status=status[kept_rows],
        refusals=tuple(refusals),
        backend=res._backend,
    )


def _form_records(value: Any) -> list[Mapping[str, Any]]:
    """The ``records`` of a resolution export, checked for shape with key paths (the rebuild
    below indexes them freely)."""
    records = check_sequence(value, "Resolution.records")
    seen: set[Any] = set()
    for i, rec in enumerate(records):
        where = key_path("Resolution.records", i)
        check_mapping(
            rec,
            where,
            required=["record_id", "profile_id", "identifiers"],
            optional=["record_id", "profile_id", "identifiers", "timestamp"],
        )
        for name in ("record_id", "profile_id"):
            rid = rec[name]
            if isinstance(rid, bool) or not isinstance(rid, (str, int)):
                raise ArgumentError(
                    f"{key_path(where, name)} must be text or an integer, got {type(rid).__name__}",
                    field=key_path(where, name),
                )
        if rec["record_id"] in seen:
            raise ArgumentError(
                f"{key_path(where, 'record_id')} repeats an earlier record id",
                field=key_path(where, "record_id"),
            )
        seen.add(rec["record_id"])
        stamp = rec.get("timestamp")
        if stamp is not None:
            try:
                np.datetime64(check_text(stamp, key_path(where, "timestamp")), "us")
            except ValueError:
                raise ArgumentError(
                    f"{key_path(where, 'timestamp')} must be an ISO timestamp or null",
                    field=key_path(where, "timestamp"),
                ) from None
        items = check_sequence(rec["identifiers"], key_path(where, "identifiers"))
        for j, item in enumerate(items):
            at = key_path(key_path(where, "identifiers"), j)
            check_mapping(
                item,
                at,
                required=["kind", "value", "status"],
                optional=["kind", "value", "scope", "hashed", "status"],
            )
            statuses = [s.value for s in IdentifierStatus]
            check_choice(item["status"], key_path(at, "status"), statuses)
            try:
                _ident_load(item)
            except (ClientModelError, ValidationError) as exc:
                # the pydantic details stay on __cause__; the message never echoes the value
                reason = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
                raise ArgumentError(f"{at}: {reason}", field=at) from exc
    ids = [rec["record_id"] for rec in records]
    if len({type(r) for r in ids}) > 1:
        raise ArgumentError(
            "Resolution.records mixes text and integer record ids; use one type",
            field="Resolution.records",
        )
    known = set(ids)
    for i, rec in enumerate(records):
        if rec["profile_id"] not in known:
            where = key_path(key_path("Resolution.records", i), "profile_id")
            raise ArgumentError(f"{where} names no record of the export", field=where)
    return records
