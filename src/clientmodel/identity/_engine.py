"""The identity-resolution engine: a vectorised graph pass and a limit-aware sequential pass.

The **specification** is the sequential pass (:func:`sequential`): records are taken in canonical
order; each record offers its joining, non-blocked identifiers from the highest priority down, and
each one either

* is new: the record's profile claims it, unless that would break the kind's limit;
* belongs to the record's own profile already: nothing to do;
* belongs to another profile: the two profiles merge, unless the merged profile would break a
  limit. A refused merge (or claim) drops that identifier *of this record* from matching; it stays
  on the record's profile and the refusal is reported.

Profiles only grow, so a refused merge could never happen later either, and every profile keeps
every limit at every step.

The **fast path** (:func:`resolve_arrays`) gets the same answer at scale. Records and identifier
keys form a bipartite graph whose connected components
(``scipy.sparse.csgraph.connected_components``) bound every profile. In a component where no
limited ``(kind, scope)`` has more distinct values than its limit, no check can ever fail, so the
sequential pass would simply join everything: the component *is* the profile. Only the components
that could break a limit go through the sequential pass, which is plain Python on those records.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components

from clientmodel.errors import DataError
from clientmodel.identity._prepare import KINDS, Prepared, sorted_unique

MATCHED, BLOCKED, NOT_JOINING, REFUSED = 0, 1, 2, 3


@attrs.frozen(eq=False)
class RuleArrays:
    """Per-kind rules as arrays indexed by kind index (``limit``/``window`` 0 = none)."""

    priority: NDArray[np.int64]
    joins: NDArray[np.bool_]
    limit: NDArray[np.int64]
    window: NDArray[np.int64]
    bridges: NDArray[np.bool_]
    #: Never-merge rules: pairs of record ids never in one profile.
    never: tuple[tuple[str | int, str | int], ...] = ()
    #: Manual merge rules: pairs of record ids always in one profile.
    always: tuple[tuple[str | int, str | int], ...] = ()
    #: Caps per profile (0 = none): most records, most matched identifiers (all kinds).
    max_records: int = 0
    max_identifiers: int = 0


def record_of(prep: Prepared, record_id: str | int) -> int:
    """The index of a record id in ``prep``, or -1 when it is not there."""
    ids = prep.record_ids
    if (ids.dtype.kind in "iu") != isinstance(record_id, int):
        return -1
    found = np.flatnonzero(ids == record_id)
    return int(found[0]) if len(found) else -1


def never_pairs(prep: Prepared, rules: RuleArrays) -> list[tuple[int, int]]:
    """The never-merge rules as record-index pairs (both records present)."""
    return _pairs(prep, rules.never)


def always_pairs(prep: Prepared, rules: RuleArrays) -> list[tuple[int, int]]:
    """The manual merge rules as record-index pairs (both records present)."""
    return _pairs(prep, rules.always)


def _pairs(prep: Prepared, pairs: Iterable[tuple[str | int, str | int]]) -> list[tuple[int, int]]:
    out = []
    for a, b in pairs:
        ra, rb = record_of(prep, a), record_of(prep, b)
        if ra >= 0 and rb >= 0 and ra != rb:
            out.append((ra, rb))
    return out


#: ``RawRefusal.limit`` of a merge through a non-bridging kind between two profiles that both
#: hold values of one identifying kind (two people's phones, say).
BRIDGE = -1
#: ``RawRefusal.limit`` of a claim or merge refused by a never-merge rule.
NEVER = -2
#: ``RawRefusal.limit`` of a merge refused by the cap on records per profile.
CAP_RECORDS = -3
#: ``RawRefusal.limit`` of a claim or merge refused by the cap on identifiers per profile.
CAP_IDENTIFIERS = -4


@attrs.frozen
class RawRefusal:
    """A refused claim or merge, by record/key index (``owner`` -1 for a refused claim).

    ``limit`` is :data:`BRIDGE` for a merge through a non-bridging kind between two profiles
    that both hold values of one bridging kind (then ``kind`` is the refused identifier's kind
    and ``count`` 2).
    """

    record: int
    key: int
    owner: int
    kind: int
    scope: str | None
    limit: int
    window: int
    count: int
    conflicting: tuple[int, ...]
    #: The cap broken (:data:`CAP_RECORDS`, :data:`CAP_IDENTIFIERS`); 0 otherwise.
    cap: int = 0


@attrs.frozen
class RawLink:
    """Record ``record`` joined the profile holding ``key``, which record ``owner`` brought
    (``key`` -1: a manual merge rule joined ``record`` to ``owner``'s group)."""

    record: int
    key: int
    owner: int


@attrs.frozen(eq=False)
class Outcome:
    """Per record: the index of its profile's first record and of its component's first record;
    per row: a status; and the refusals."""

    record_label: NDArray[np.int64]
    record_component: NDArray[np.int64]
    row_status: NDArray[np.int8]
    refusals: tuple[RawRefusal, ...]


def initial_status(prep: Prepared, rules: RuleArrays) -> NDArray[np.int8]:
    """Row statuses before any matching: blocked, not joining, or (provisionally) matched."""
    status = np.full(len(prep.row_key), MATCHED, dtype=np.int8)
    blocked = prep.key_blocked[prep.row_key]
    status[blocked] = BLOCKED
    status[~blocked & ~rules.joins[prep.key_kind[prep.row_key]]] = NOT_JOINING
    return status


def components(
    prep: Prepared, active: NDArray[np.bool_], links: Sequence[tuple[int, int]] = ()
) -> NDArray[np.int64]:
    """Per record, the index of the first record of its connected component.

    Nodes are the records and the keys of active rows; each active row is an edge, and so is
    each record pair of ``links`` (manual merge rules). Rows are sorted by record, so the
    record-to-key adjacency is built directly in CSR form.
    """
    n_rec = prep.n_records
    if not n_rec:
        return np.empty(0, dtype=np.int64)
    rows_r = prep.row_record[active]
    rows_k = prep.row_key[active]
    present = np.zeros(len(prep.key_kind), dtype=bool)
    present[rows_k] = True
    key_node = np.cumsum(present, dtype=np.int64) - 1 + n_rec
    n = n_rec + int(present.sum())
    indptr = np.zeros(n + 1, dtype=np.int64)
    indptr[1 : n_rec + 1] = np.cumsum(np.bincount(rows_r, minlength=n_rec))
    indptr[n_rec + 1 :] = indptr[n_rec]
    graph = sp.csr_matrix(
        (np.ones(len(rows_r), dtype=np.int8), key_node[rows_k], indptr), shape=(n, n)
    )
    if links:
        pairs = np.asarray(links, dtype=np.int64)
        graph = graph + sp.csr_matrix(
            (np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n)
        )
    _, labels = connected_components(graph, directed=False)
    labels = labels[:n_rec].astype(np.int64)
    first = np.full(int(labels.max()) + 1, n_rec, dtype=np.int64)
    np.minimum.at(first, labels, np.arange(n_rec, dtype=np.int64))
    return first[labels]


def suspect_components(
    prep: Prepared,
    rules: RuleArrays,
    active: NDArray[np.bool_],
    component: NDArray[np.int64],
) -> NDArray[np.int64]:
    """Components where some limited ``(kind, scope)`` has more distinct values than its limit."""
    keys = prep.row_key[active]
    limited = rules.limit[prep.key_kind[keys]] > 0
    if not limited.any():
        return np.empty(0, dtype=np.int64)
    keys = keys[limited]
    comps = component[prep.row_record[active][limited]]
    n_keys = max(len(prep.key_kind), 1)
    pairs = sorted_unique(comps * n_keys + keys)
    pc, pk = pairs // n_keys, pairs % n_keys
    kind = prep.key_kind[pk].astype(np.int64)
    scope = prep.key_scope_code[pk]
    order = np.lexsort((scope, kind, pc))
    pc, kind, scope = pc[order], kind[order], scope[order]
    starts = np.flatnonzero(
        np.concatenate(
            ([True], (pc[1:] != pc[:-1]) | (kind[1:] != kind[:-1]) | (scope[1:] != scope[:-1]))
        )
    )
    sizes = np.diff(np.append(starts, len(pc)))
    over = sizes > rules.limit[kind[starts]]
    return sorted_unique(pc[starts[over]])


def bridge_suspects(
    prep: Prepared,
    rules: RuleArrays,
    active: NDArray[np.bool_],
    component: NDArray[np.int64],
) -> NDArray[np.int64]:
    """Components where a non-bridging key could join two profiles holding one identifying kind.

    Such a merge needs two distinct values of one bridging ``(kind, scope)`` in the component
    and a non-bridging key carried by two of its records: a necessary condition, so components
    without it are exactly the unconstrained pass's.
    """
    rows_r = prep.row_record[active]
    rows_k = prep.row_key[active]
    weak = ~rules.bridges[prep.key_kind[rows_k]]
    if not weak.any() or weak.all():
        return np.empty(0, dtype=np.int64)
    carriers = np.bincount(rows_k[weak], minlength=len(prep.key_kind))
    shared = weak & (carriers[rows_k] >= 2)
    with_shared = sorted_unique(component[rows_r[shared]])
    # components with two values of one bridging (kind, scope) group
    keys = rows_k[~weak]
    comps = component[rows_r[~weak]]
    n_keys = max(len(prep.key_kind), 1)
    pairs = sorted_unique(comps * n_keys + keys)
    pc, pk = pairs // n_keys, pairs % n_keys
    group = prep.key_kind[pk].astype(np.int64) * (int(prep.key_scope_code.max(initial=0)) + 1)
    group = group + prep.key_scope_code[pk]
    order = np.lexsort((group, pc))
    pc, group = pc[order], group[order]
    repeated = (pc[1:] == pc[:-1]) & (group[1:] == group[:-1])
    multi = sorted_unique(pc[1:][repeated])
    return np.intersect1d(with_shared, multi)


def never_suspects(
    prep: Prepared,
    rules: RuleArrays,
    active: NDArray[np.bool_],
    component: NDArray[np.int64],
) -> NDArray[np.int64]:
    """Components holding both records of a never-merge rule."""
    found = [int(component[ra]) for ra, rb in never_pairs(prep, rules)
             if component[ra] == component[rb]]  # fmt: skip
    return sorted_unique(np.asarray(found, dtype=np.int64))


def cap_suspects(
    prep: Prepared,
    rules: RuleArrays,
    active: NDArray[np.bool_],
    component: NDArray[np.int64],
) -> NDArray[np.int64]:
    """Components with more records, or more distinct active keys, than a cap allows."""
    found = []
    if rules.max_records:
        sizes = np.bincount(component, minlength=prep.n_records)
        found.append(np.flatnonzero(sizes > rules.max_records))
    if rules.max_identifiers:
        n_keys = max(len(prep.key_kind), 1)
        rows_r = prep.row_record[active]
        pairs = sorted_unique(component[rows_r] * n_keys + prep.row_key[active])
        keys = np.bincount(pairs // n_keys, minlength=prep.n_records)
        found.append(np.flatnonzero(keys > rules.max_identifiers))
    if not found:
        return np.empty(0, dtype=np.int64)
    return sorted_unique(np.concatenate(found).astype(np.int64))


def check_windows(prep: Prepared, rules: RuleArrays, active: NDArray[np.bool_]) -> None:
    """Refuse records without a timestamp whose active rows have a windowed limit."""
    windowed = rules.window > 0
    if not windowed.any():
        return
    untimed = (
        active
        & windowed[prep.key_kind[prep.row_key]]
        & np.isnat(prep.record_times)[prep.row_record]
    )
    if untimed.any():
        bad = np.unique(prep.row_record[untimed])
        kinds = sorted({KINDS[k].value for k in prep.key_kind[prep.row_key[untimed]]})
        raise DataError(
            f"{len(bad)} record(s) without a timestamp carry {kinds} identifiers, whose limits "
            f"have a time window: records {prep.record_ids[bad[:5]].tolist()!r}"
            + (f" (and {len(bad) - 5} more)" if len(bad) > 5 else "")
            + "; give those records timestamps, or drop the window from the rule",
            field="timestamp",
        )


def resolve_arrays(prep: Prepared, rules: RuleArrays, *, fast: bool = True) -> Outcome:
    """Resolve prepared records; ``fast=False`` runs the sequential pass on everything.

    Raises a :class:`DataError` for records a windowed limit cannot count (no timestamp).
    """
    status = initial_status(prep, rules)
    active = status == MATCHED
    check_windows(prep, rules, active)
    component = components(prep, active, always_pairs(prep, rules))
    label = component.copy()
    if fast:
        suspects = sorted_unique(
            np.concatenate(
                [
                    suspect_components(prep, rules, active, component),
                    bridge_suspects(prep, rules, active, component),
                    never_suspects(prep, rules, active, component),
                    cap_suspects(prep, rules, active, component),
                ]
            ).astype(np.int64)
        )
        records = np.flatnonzero(np.isin(component, suspects))
    else:
        records = np.arange(prep.n_records, dtype=np.int64)
    refusals: tuple[RawRefusal, ...] = ()
    if len(records):
        result = sequential(prep, rules, records, active, trace=False)
        label[records] = result.labels
        status[result.refused_rows] = REFUSED
        refusals = result.refusals
    return Outcome(label, component, status, refusals)


@attrs.frozen(eq=False)
class SequentialResult:
    """What :func:`sequential` found for the records it was given."""

    labels: NDArray[np.int64]
    refused_rows: NDArray[np.int64]
    refusals: tuple[RawRefusal, ...]
    links: tuple[RawLink, ...]


#: Processing order of an identifier: priority, kind, scope (``""`` for none), value, hashed.
SortKey = tuple[int, int, str, str, bool]


def sort_key(
    priority: Sequence[int], kind: int, scope: str | None, value: str, hashed: bool
) -> SortKey:
    """The processing-order sort key of one identifier (``priority`` is indexed by kind)."""
    return (priority[kind], kind, scope or "", value, hashed)


def sort_keys(prep: Prepared, rules: RuleArrays, keys: Iterable[int]) -> dict[int, SortKey]:
    """The processing-order sort key of each (distinct) key.

    Built from the values themselves, never from key numbering, so it is input-order free.
    Reads the key arrays once for all keys (much faster than key by key).
    """
    wanted = np.unique(np.fromiter(keys, dtype=np.int64))
    priority = rules.priority.tolist()
    return {
        key: sort_key(priority, k, sc, v, h)
        for key, k, sc, v, h in zip(
            wanted.tolist(),
            prep.key_kind[wanted].tolist(),
            prep.key_scope[wanted].tolist(),
            prep.key_value[wanted].tolist(),
            prep.key_hashed[wanted].tolist(),
            strict=True,
        )
    }


def key_order(prep: Prepared, rules: RuleArrays, keys: Iterable[int]) -> dict[int, int]:
    """Rank of each (distinct) key in processing order (see :func:`sort_keys`)."""
    order = sort_keys(prep, rules, keys)
    return {k: i for i, k in enumerate(sorted(order, key=order.__getitem__))}


def _max_in_window(times: list[int], window: int) -> int:
    """The most values first seen within less than ``window`` of each other."""
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


Group = tuple[int, str]
State = dict[Group, dict[int, int]]


def sequential(
    prep: Prepared,
    rules: RuleArrays,
    records: NDArray[np.int64],
    active: NDArray[np.bool_],
    *,
    trace: bool,
) -> SequentialResult:
    """The limit-aware pass over ``records`` (sorted, whole components) and their active rows."""
    bounds = prep.row_bounds()
    starts, ends = bounds[records], bounds[records + 1]
    lengths = ends - starts
    rows = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths) + np.arange(
        int(lengths.sum())
    )
    rows = rows[active[rows]]
    row_rec = prep.row_record[rows].tolist()
    row_keys = prep.row_key[rows].tolist()
    by_record: dict[int, list[tuple[int, int]]] = {}
    for row, r, k in zip(rows.tolist(), row_rec, row_keys, strict=True):
        by_record.setdefault(r, []).append((row, k))
    keys_used = row_keys
    rank = key_order(prep, rules, keys_used)
    key_kind = prep.key_kind
    key_scope = prep.key_scope
    limit = rules.limit.tolist()
    window = rules.window.tolist()
    priority = rules.priority.tolist()
    bridges = rules.bridges.tolist()
    partners: dict[int, set[int]] = {}  # never-merge: record -> records never in its profile
    for ra, rb in never_pairs(prep, rules):
        partners.setdefault(ra, set()).add(rb)
        partners.setdefault(rb, set()).add(ra)
    held: dict[int, set[int]] = {}  # root -> its profile's records that have partners
    times = prep.record_times[records]
    stamps = np.where(np.isnat(times), 0, times.astype(np.int64)).tolist()
    ticks = dict(zip(records.tolist(), stamps, strict=True))

    parent: dict[int, int] = {}
    state: dict[int, State] = {}
    owner: dict[int, int] = {}
    strong: dict[int, set[Group]] = {}  # root -> bridging (kind, scope) groups it holds
    size: dict[int, int] = {}  # root -> records in its profile
    claimed: dict[int, int] = {}  # root -> keys its profile claimed
    refused_rows: list[int] = []
    refusals: list[RawRefusal] = []
    links: list[RawLink] = []
    max_records, max_keys = rules.max_records, rules.max_identifiers

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    # manual merge rules: each group of records they connect is one profile from the start, its
    # root its first record (records of one group are in one component, so all in ``records``)
    in_records = set(records.tolist())
    for ra, rb in always_pairs(prep, rules):
        if ra in in_records and rb in in_records:
            for x in (ra, rb):
                parent.setdefault(x, x)
            a, b = find(ra), find(rb)
            if a != b:
                parent[max(a, b)] = min(a, b)
    group_root = {x: find(x) for x in parent}
    for x, root in group_root.items():
        size[root] = size.get(root, 0) + 1
        if x in partners:
            held.setdefault(root, set()).add(x)

    def group_order(g: Group) -> tuple[int, int, str]:
        return (priority[g[0]], g[0], g[1])

    def violation(
        groups: list[tuple[Group, dict[int, int]]],
    ) -> tuple[Group, int, tuple[int, ...]] | None:
        for g, vals in sorted(groups, key=lambda item: group_order(item[0])):
            lim, win = limit[g[0]], window[g[0]]
            if len(vals) <= lim:
                continue
            count = _max_in_window(list(vals.values()), win) if win else len(vals)
            if count > lim:
                return g, count, tuple(sorted(vals, key=rank.__getitem__))
        return None

    def refuse(
        r: int, row: int, key: int, o: int, found: tuple[Group, int, tuple[int, ...]]
    ) -> None:
        (kind, scope), count, values = found
        refused_rows.append(row)
        refusals.append(
            RawRefusal(r, key, o, kind, scope or None, limit[kind], window[kind], count, values)
        )

    def refuse_as(r: int, row: int, key: int, o: int, code: int, count: int, cap: int) -> None:
        refused_rows.append(row)
        kind = int(key_kind[key])
        refusals.append(RawRefusal(r, key, o, kind, key_scope[key], code, 0, count, (), cap))

    for r in records.tolist():
        first = group_root.get(r)
        if first is None:
            parent[r] = r
            size[r] = 1
            if r in partners:
                held[r] = {r}
        elif first != r and trace:
            links.append(RawLink(r, -1, first))
        t = ticks[r]
        for row, key in sorted(by_record.get(r, ()), key=lambda item: rank[item[1]]):
            a = find(r)
            o = owner.get(key)
            kind = int(key_kind[key])
            if o is None:
                g: Group | None = None
                if limit[kind]:
                    scope = key_scope[key]
                    g = (kind, "" if scope is None else str(scope))
                    vals = state.get(a, {}).get(g, {})
                    found = violation([(g, {**vals, key: t})])
                    if found is not None:
                        refuse(r, row, key, -1, found)
                        continue
                if max_keys and claimed.get(a, 0) + 1 > max_keys:
                    refuse_as(r, row, key, -1, CAP_IDENTIFIERS, claimed.get(a, 0) + 1, max_keys)
                    continue
                if g is not None:
                    state.setdefault(a, {}).setdefault(g, {})[key] = t
                claimed[a] = claimed.get(a, 0) + 1
                owner[key] = r
                if bridges[kind]:
                    scope = key_scope[key]
                    strong.setdefault(a, set()).add((kind, "" if scope is None else str(scope)))
                continue
            b = find(o)
            if a == b:
                continue
            sa, sb = state.get(a, {}), state.get(b, {})
            shared = [(g, {**sa[g], **sb[g]}) for g in sa.keys() & sb.keys()]
            found = violation(shared)
            if found is not None:
                refuse(r, row, key, o, found)
                continue
            # a limit is the better reason, so it is checked first
            ha, hb = held.get(a, set()), held.get(b, set())
            if any(partners[k] & hb for k in ha):
                refuse_as(r, row, key, o, NEVER, 2, 0)
                continue
            if not bridges[kind] and strong.get(a, set()) & strong.get(b, set()):
                refuse_as(r, row, key, o, BRIDGE, 2, 0)
                continue
            n_records = size[a] + size[b]
            if max_records and n_records > max_records:
                refuse_as(r, row, key, o, CAP_RECORDS, n_records, max_records)
                continue
            n_keys = claimed.get(a, 0) + claimed.get(b, 0)
            if max_keys and n_keys > max_keys:
                refuse_as(r, row, key, o, CAP_IDENTIFIERS, n_keys, max_keys)
                continue
            lo, hi = (a, b) if a < b else (b, a)
            parent[hi] = lo
            size[lo] = n_records
            claimed[lo] = n_keys
            claimed.pop(hi, None)
            if hi in strong:
                strong.setdefault(lo, set()).update(strong.pop(hi))
            if hi in held:
                held.setdefault(lo, set()).update(held.pop(hi))
            merged = state.pop(hi, {})
            target = state.setdefault(lo, {})
            for g2, vals in merged.items():
                target.setdefault(g2, {}).update(vals)
            if trace:
                links.append(RawLink(r, key, o))

    labels = np.array([find(r) for r in records.tolist()], dtype=np.int64)
    return SequentialResult(
        labels,
        np.asarray(refused_rows, dtype=np.int64),
        tuple(refusals),
        tuple(links),
    )
