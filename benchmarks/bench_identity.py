"""Benchmark: identity resolution of 10,000,000 identifier records.

A seeded synthetic population: people with member ids, phones, emails, WeChat unionids, app-scoped
openids, devices and cookies; each person leaves several records (touchpoints) that carry a few of
their identifiers. Some devices are shared by two or three people (a family tablet), a few by
hundreds (a store kiosk), and about 1% of the values are placeholders ("null", "", "-1",
"unknown", all zeros).

Timed in the same run:

1. baseline: what a user would write -- skip the placeholders, add one ``networkx`` edge per row
   (record -- identifier) and take ``networkx.connected_components``; no normalisation, no limits;
2. ``clientmodel.identity.resolution.resolve_table`` on the same table (normalisation, blocking,
   limits, refusals), at the baseline's size and at the full size;
3. the floor: ``scipy.sparse.csgraph.connected_components`` on the same record--identifier edges
   (values factorized by pandas, placeholders skipped; no normalisation, no limits);
4. incremental resolution: the last 1% of records (at full size: the last ``--new`` records,
   100,000 by default) added onto a resolution of the rest, against resolving everything again:
   as plain dicts with ``add_records`` (what a service receives as JSON; reading and checking
   them is part of the timed call) and as rows with ``add_table``;
5. bulk unmerge: ``unmerge_many`` of ``--unmerge`` records and identifiers at once against the
   loop of ``unmerge`` calls a user would write (on the same resolution).

``--incremental-only`` runs step 4 alone, untraced: ``--size 25000000 --incremental-only`` adds
100,000 records onto a resolution of about 10,000,000 records (the memory-tracing runs of the
full script would not fit beside tables of that size on a 24 GiB machine).

Prints wall times, the speed ratio at equal size, peak memory (tracemalloc for Python
allocations, ru_maxrss for the process) and how many profiles each approach ends up with that
hold two or more member ids (the fusions the limits exist to prevent). Rows are shuffled. Run:
``python benchmarks/bench_identity.py --size 10000000 --baseline-size 1000000`` (the defaults).
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from clientmodel.identity import IdentityRecord, add_records, add_table, unmerge, unmerge_many
from clientmodel.identity.resolution import resolve_table

PLACEHOLDERS = np.array(["null", "", "-1", "unknown", "00000000-0000-0000-0000-000000000000"])


def make_identity_table(n_rows: int, seed: int = 7) -> pd.DataFrame:
    """A long identifier table of about ``n_rows`` rows (record_id, kind, value, scope, timestamp).

    Vectorised: each person gets a fixed set of identifiers, each record picks 1-4 of them.
    """
    rng = np.random.default_rng(seed)
    n_people = max(n_rows // 12, 10)
    # per-person identifier slots: kind, value
    slots_kind: list[np.ndarray] = []
    slots_value: list[Any] = []
    slots_scope: list[Any] = []
    slots_person: list[np.ndarray] = []
    people = np.arange(n_people)

    def add(kind: str, mask: np.ndarray, values: pd.Series, scope: Any = None) -> None:
        idx = people[mask]
        slots_person.append(idx)
        slots_kind.append(np.full(len(idx), kind, dtype=object))
        slots_value.append(values[mask].reset_index(drop=True))
        slots_scope.append(
            pd.Series([scope] * len(idx), dtype="str") if scope else pd.Series([None] * len(idx))
        )

    ids = pd.Series(people).astype("str")
    add("member_id", rng.random(n_people) < 0.6, "M" + ids)
    add(
        "phone", rng.random(n_people) < 0.8, "+86138" + pd.Series(people).astype("str").str.zfill(8)
    )
    add(
        "phone",
        rng.random(n_people) < 0.1,
        "+86139" + pd.Series(people).astype("str").str.zfill(8),
    )
    add("email", rng.random(n_people) < 0.5, "user" + ids + "@example.com")
    add("wechat_unionid", rng.random(n_people) < 0.5, "oU_" + ids)
    add("wechat_openid", rng.random(n_people) < 0.4, "oA_" + ids, scope="wx_app_a")
    add("wechat_openid", rng.random(n_people) < 0.3, "oB_" + ids, scope="wx_app_b")
    for d in range(3):
        add("device_id", rng.random(n_people) < (0.9, 0.5, 0.2)[d], f"dev{d}-" + ids)
    for c in range(4):
        add("cookie_id", rng.random(n_people) < 0.7, f"ck{c}-" + ids)
    person = np.concatenate(slots_person)
    kind = np.concatenate(slots_kind)
    value = pd.concat(slots_value, ignore_index=True).astype("str")
    scope = pd.concat(slots_scope, ignore_index=True).astype("str")

    # shared devices: 2% of people also use someone else's first device; 0.5% use one of 20 kiosks
    dev0 = np.flatnonzero(kind == "device_id")
    n_share = n_people // 50
    extra_person = rng.integers(0, n_people, n_share)
    extra_value = value.iloc[rng.choice(dev0, n_share)].reset_index(drop=True)
    n_kiosk = min(max(n_people // 200, 20), n_people)  # 0.5% of people, over 20 kiosks
    kiosk_person = rng.choice(n_people, n_kiosk, replace=False)
    kiosk_value = pd.Series([f"kiosk-{i % 20}" for i in range(n_kiosk)], dtype="str")
    person = np.concatenate([person, extra_person, kiosk_person])
    kind = np.concatenate([kind, np.full(n_share + n_kiosk, "device_id", dtype=object)])
    value = pd.concat([value, extra_value, kiosk_value], ignore_index=True)
    scope = pd.concat(
        [scope, pd.Series([None] * (n_share + n_kiosk), dtype="str")], ignore_index=True
    )

    # group slots by person
    order = np.argsort(person, kind="stable")
    person, kind = person[order], kind[order]
    value, scope = (
        value.iloc[order].reset_index(drop=True),
        scope.iloc[order].reset_index(drop=True),
    )
    starts = np.searchsorted(person, np.arange(n_people))
    n_slots = np.diff(np.append(starts, len(person)))

    # records: each picks 1..4 slots of its person; keep going until n_rows rows
    per_record = rng.integers(1, 5, size=n_rows)
    n_records = int(np.searchsorted(np.cumsum(per_record), n_rows)) + 1
    per_record = per_record[:n_records]
    rec_person = rng.integers(0, n_people, n_records)
    has = n_slots[rec_person] > 0
    rec_person, per_record = rec_person[has], per_record[has]
    n_records = len(rec_person)
    rec_of_row = np.repeat(np.arange(n_records), per_record)
    pick = rng.integers(0, 1 << 30, size=len(rec_of_row)) % n_slots[rec_person[rec_of_row]]
    slot = starts[rec_person[rec_of_row]] + pick
    values = value.iloc[slot].reset_index(drop=True)
    # ~1% placeholders
    ph = rng.random(len(slot)) < 0.01
    values[ph] = PLACEHOLDERS[rng.integers(0, len(PLACEHOLDERS), ph.sum())]
    start = np.datetime64("2024-01-01T00:00:00", "s").astype(np.int64)
    rec_time = start + rng.integers(0, 365 * 86400, n_records)
    table = pd.DataFrame(
        {
            "record_id": rec_of_row.astype(np.int64),
            "kind": pd.Series(kind[slot], dtype="str"),
            "value": values,
            "scope": scope.iloc[slot].reset_index(drop=True),
            "timestamp": pd.to_datetime(rec_time[rec_of_row], unit="s", utc=True),
        }
    )
    # Rows in random order, as a CDP export arrives: a table grouped by record would flatter
    # every sort-based step (ours and the baseline's alike).
    return table.iloc[rng.permutation(len(table))].reset_index(drop=True)


def networkx_baseline(table: pd.DataFrame) -> dict[Any, int]:
    """The straightforward approach: one edge per non-placeholder row, connected components."""
    graph = nx.Graph()
    placeholders = {"", "null", "-1", "unknown", "00000000-0000-0000-0000-000000000000"}
    records = table["record_id"].to_numpy().tolist()
    graph.add_nodes_from(("r", r) for r in records)
    for rec, kind, value, scope in zip(
        records,
        table["kind"].to_numpy().tolist(),
        table["value"].to_numpy().tolist(),
        table["scope"].to_numpy().tolist(),
        strict=True,
    ):
        if value in placeholders:
            continue
        graph.add_edge(("r", rec), ("i", kind, scope, value))
    out: dict[Any, int] = {}
    for i, comp in enumerate(nx.connected_components(graph)):
        for node in comp:
            if node[0] == "r":
                out[node[1]] = i
    return out


def csgraph_floor(table: pd.DataFrame) -> np.ndarray:
    """Connected components of the record -- identifier graph with scipy (the floor)."""
    keep = ~table["value"].isin(PLACEHOLDERS).to_numpy()
    rec_codes, recs = pd.factorize(table["record_id"])
    ident = table["kind"].astype(str) + "|" + table["scope"].astype(str) + "|" + table["value"]
    key_codes, keys = pd.factorize(ident)
    n_rec, n_key = len(recs), len(keys)
    graph = sp.coo_matrix(
        (np.ones(int(keep.sum()), dtype=np.int8), (rec_codes[keep], n_rec + key_codes[keep])),
        shape=(n_rec + n_key, n_rec + n_key),
    ).tocsr()
    _, labels = connected_components(graph, directed=False)
    return labels[:n_rec]


def incremental_records(
    table: pd.DataFrame, share: float = 0.01, count: int | None = None
) -> tuple[pd.DataFrame, list, pd.DataFrame]:
    """The table without its last ``share`` (or ``count``) of records, those as dicts (what a
    service receives as JSON) and as rows (what a batch job receives); rows stay shuffled."""
    ids = table["record_id"].drop_duplicates().to_numpy()
    n_new = int(len(ids) * share) if count is None else min(count, len(ids) - 1)
    new_ids = ids[len(ids) - n_new :]
    is_new = table["record_id"].isin(new_ids).to_numpy()
    new_rows = table[is_new]
    records = []
    for rid, rows in new_rows.groupby("record_id", sort=False):
        idents = [
            (k, v) if s is None or s != s else (k, v, s)
            for k, v, s in zip(rows["kind"], rows["value"], rows["scope"], strict=True)
        ]
        records.append(
            {"record_id": int(rid), "identifiers": idents,
             "timestamp": rows["timestamp"].min().to_pydatetime()}
        )  # fmt: skip
    return table[~is_new], records, new_rows.reset_index(drop=True)


def fused_members(table: pd.DataFrame, profile_of_record: pd.Series) -> int:
    """Member ids that share their profile with another member id (people fused together)."""
    members = table[table["kind"] == "member_id"]
    members = members[~members["value"].isin(PLACEHOLDERS)]
    prof = profile_of_record.reindex(members["record_id"].to_numpy()).to_numpy()
    pairs = pd.DataFrame({"p": prof, "m": members["value"].to_numpy()}).drop_duplicates()
    per_profile = pairs.groupby("p")["m"].transform("size")
    return int((per_profile > 1).sum())


def measure(label: str, fn: Callable[[], Any], repeat: int = 1) -> tuple[float, float, Any]:
    """Best wall time of ``repeat`` untraced calls, then peak traced memory of one more call.

    tracemalloc slows allocation-heavy code (networkx most of all), so timing and memory are
    measured in separate calls; numpy buffers are traced too. The best of several runs is the
    least disturbed by other work on a shared machine.
    """
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    secs = min(times)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    runs = f"best of {repeat}" if repeat > 1 else "one run"
    print(f"  {label:<44} {secs:8.2f} s ({runs})   peak {peak:8,.0f} MiB (tracemalloc)")
    return secs, peak, out


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def equal_size(n_base: int) -> float:
    """Baseline and clientmodel on the same table; returns the baseline's seconds."""
    t0 = time.perf_counter()
    table = make_identity_table(n_base, seed=1)
    print(
        f"== equal size: {len(table):,} rows, {table['record_id'].nunique():,} records "
        f"(generated in {time.perf_counter() - t0:.1f} s)"
    )
    base_s, base_mem, base = measure(
        "baseline: networkx connected components", lambda: networkx_baseline(table), repeat=2
    )
    ours_s, ours_mem, res = measure(
        "clientmodel resolve_table", lambda: resolve_table(table), repeat=2
    )
    print(
        f"  speed ratio (baseline / ours): {base_s / ours_s:.1f}x   "
        f"memory ratio (baseline / ours): {base_mem / max(ours_mem, 1e-9):.1f}x"
    )
    base_prof = pd.Series(base)
    rec = res.records_table()
    ours_prof = pd.Series(rec["profile_id"].to_numpy(), index=rec["record_id"].to_numpy())
    print(
        f"  profiles: baseline {base_prof.nunique():,}, ours {res.n_profiles:,} "
        f"(refusals {len(res.refusals):,})"
    )
    print(
        f"  member ids fused with another member id: baseline {fused_members(table, base_prof):,}"
        f", ours {fused_members(table, ours_prof):,}"
    )
    floor_s, _, _ = measure(
        "floor: scipy csgraph connected components", lambda: csgraph_floor(table), repeat=2
    )
    print(f"  ours / floor (the price of normalisation, limits, refusals): {ours_s / floor_s:.1f}x")
    old, new, _ = incremental_records(table)
    start = resolve_table(old)
    inc_s, _, more = measure(
        f"add_records: {len(new):,} new records onto the rest", lambda: add_records(start, new)
    )
    print(
        f"  full re-resolution / incremental: {ours_s / inc_s:.1f}x "
        f"(same answer: {more.n_profiles == res.n_profiles})"
    )
    return base_s


def full_size(n_rows: int, n_base: int, base_s: float, n_new: int, n_unmerge: int) -> None:
    t0 = time.perf_counter()
    table = make_identity_table(n_rows, seed=2)
    print(
        f"== full size: {len(table):,} rows, {table['record_id'].nunique():,} records "
        f"(generated in {time.perf_counter() - t0:.1f} s)"
    )
    secs, _, res = measure("clientmodel resolve_table", lambda: resolve_table(table))
    print(
        f"  {res.n_profiles:,} profiles, {len(res.refusals):,} refusals, "
        f"{len(table) / secs:,.0f} rows/s"
    )
    linear = base_s * len(table) / n_base
    print(
        f"  baseline extrapolated linearly to this size: {linear:,.0f} s "
        f"-> ratio {linear / secs:.1f}x"
    )
    floor_s, _, _ = measure(
        "floor: scipy csgraph connected components", lambda: csgraph_floor(table)
    )
    print(f"  ours / floor (the price of normalisation, limits, refusals): {secs / floor_s:.1f}x")

    old, new_dicts, new_rows = incremental_records(table, count=n_new)
    # each face adds onto a resolution of its own, as a service adds each batch onto its newest
    # resolution: the first addition onto a version appends the keys in place, a second addition
    # onto that same version copies them (the memory call below is such a second call)
    start, start_for_table = resolve_table(old), resolve_table(old)
    del old
    # dicts as a service receives them: validation (the batch reader) is part of the call
    inc_s, _, more = measure(
        f"add_records: {len(new_dicts):,} record dicts onto {start.n_records:,}",
        lambda: add_records(start, new_dicts),
    )
    same = more.n_profiles == res.n_profiles and len(more.refusals) == len(res.refusals)
    print(f"  full re-resolution / incremental (dicts, validation included): "
          f"{secs / inc_s:.1f}x (same profiles: {same})")  # fmt: skip
    tab_s, _, more = measure(
        f"add_table: {len(new_rows):,} rows of those records",
        lambda: add_table(start_for_table, new_rows),
    )
    same = more.n_profiles == res.n_profiles and len(more.refusals) == len(res.refusals)
    print(f"  full re-resolution / incremental (table): {secs / tab_s:.1f}x "
          f"(same profiles: {same})")  # fmt: skip
    # for reference: one pydantic model per record, as a caller validating each dict would
    t0 = time.perf_counter()
    models = [IdentityRecord.model_validate(r) for r in new_dicts]
    print(f"  (for reference: {len(models):,} IdentityRecord.model_validate calls "
          f"{time.perf_counter() - t0:.2f} s)")  # fmt: skip
    del models

    rng = np.random.default_rng(3)
    records = rng.choice(res.record_ids, n_unmerge // 2, replace=False).tolist()
    rows = table[(table["kind"] == "email") & ~table["value"].isin(PLACEHOLDERS)]
    idents = [("email", v) for v in rows["value"].drop_duplicates().sample(
        n_unmerge - len(records), random_state=3)]  # fmt: skip

    def loop() -> Any:
        out = res
        for ident in idents:
            out = unmerge(out, identifier=ident)
        for rid in records:
            out = unmerge(out, record=rid)
        return out

    loop_s, _, looped = measure(f"baseline: {n_unmerge} unmerge calls in a loop", loop)
    bulk_s, _, bulk = measure(
        f"unmerge_many: {n_unmerge} records and identifiers",
        lambda: unmerge_many(res, records=records, identifiers=idents),
    )
    print(
        f"  loop / bulk: {loop_s / bulk_s:.1f}x "
        f"(same profiles: {bulk.n_profiles == looped.n_profiles})"
    )

    # a service answering "whose profile is this record?" one request at a time
    asked = rng.choice(res.record_ids, 10_000).tolist()
    t0 = time.perf_counter()
    looked = [res.profile_of(r) for r in asked]
    ours_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    frame = res.records_table()
    index = dict(zip(frame["record_id"].tolist(), frame["profile_id"].tolist(), strict=True))
    dict_s = time.perf_counter() - t0
    print(
        f"  profile_of, {len(asked):,} single lookups: {ours_s * 1e6 / len(asked):.1f} us each "
        f"({ours_s:.2f} s in all); baseline: building a dict from records_table "
        f"{dict_s:.2f} s before its first answer (same answers: "
        f"{looked == [index[r] for r in asked]})"
    )


def incremental_only(n_rows: int, n_new: int) -> None:
    """Only step 4, at sizes where the memory-tracing runs would not fit beside the tables (about
    25,000,000 rows make a 10,000,000-record resolution): one untraced run of each."""
    table = make_identity_table(n_rows, seed=2)
    print(f"== incremental only: {len(table):,} rows, {table['record_id'].nunique():,} records")
    t0 = time.perf_counter()
    res = resolve_table(table)
    full = time.perf_counter() - t0
    want = (res.n_profiles, len(res.refusals))
    print(f"  clientmodel resolve_table, everything       {full:8.2f} s (one run)")
    del res
    old, new_dicts, new_rows = incremental_records(table, count=n_new)
    del table
    for face in ("table", "dicts"):
        start = resolve_table(old)  # each face adds onto a resolution of its own
        t0 = time.perf_counter()
        more = add_table(start, new_rows) if face == "table" else add_records(start, new_dicts)
        secs = time.perf_counter() - t0
        same = (more.n_profiles, len(more.refusals)) == want
        print(
            f"  add_{'table' if face == 'table' else 'records'}: {len(new_dicts):,} records onto "
            f"{start.n_records:,}  {secs:8.2f} s -> full / incremental {full / secs:.1f}x "
            f"(same profiles: {same})"
        )
        del more, start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000_000, help="rows at full size")
    parser.add_argument(
        "--baseline-size", type=int, default=1_000_000, help="rows for the networkx baseline"
    )
    parser.add_argument("--new", type=int, default=100_000, help="records added incrementally")
    parser.add_argument("--unmerge", type=int, default=200, help="records + identifiers unmerged")
    parser.add_argument(
        "--incremental-only",
        action="store_true",
        help="only the incremental step, untraced (e.g. --size 25000000: 10 M records)",
    )
    args = parser.parse_args()
    if args.incremental_only:
        incremental_only(args.size, args.new)
        return
    print(
        f"identity resolution benchmark: {args.size:,} rows, "
        f"baseline at {args.baseline_size:,} rows"
    )
    base_s = equal_size(args.baseline_size)
    full_size(args.size, args.baseline_size, base_s, args.new, args.unmerge)
    print(f"  process peak RSS (whole run, input tables included): {rss_mib():,.0f} MiB")


if __name__ == "__main__":
    main()
