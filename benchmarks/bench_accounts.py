"""Benchmark: account graphs at 10,000 accounts / ~200,000 contacts.

Times, on the same synthetic book of business in the same run:

1. coverage + threading for every open deal
   * clientmodel table face (``committee_tables`` export + vectorised ``committee_table``)
   * clientmodel record face (``committee_coverage`` + ``threading`` per deal)
   * baseline: the pandas merge/groupby a user would write on the same two tables;
2. influence for every account
   * clientmodel ``influence_table`` (one sparse block power iteration)
   * baseline: per-account ``networkx.pagerank`` loop a user would write.

Prints each timing, the ratios and the peak resident memory. Run:
``python benchmarks/bench_accounts.py [n_accounts]``.
"""

from __future__ import annotations

import datetime as dt
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from clientmodel.accounts import (
    committee_coverage,
    committee_table,
    committee_tables,
    influence_table,
    threading,
)
from clientmodel.accounts.committee import DEFAULT_REQUIRED_ROLES
from clientmodel.accounts.influence import DEFAULT_SENIORITY_WEIGHTS
from clientmodel.accounts.models import DECISION_ROLES, KEY_PLAYER_ROLES
from clientmodel.datasets.accounts import make_accounts

WINDOW = dt.timedelta(days=90)


def timed(label: str, fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    secs = time.perf_counter() - t0
    print(f"  {label:<52} {secs:8.2f} s")
    return secs, out


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pandas_committee(roles: pd.DataFrame, touches: pd.DataFrame, as_of: dt.datetime) -> Any:
    """What a user would write with pandas: filter touches, merge, group by deal."""
    start = as_of - WINDOW
    t = touches["last_interaction"]
    engaged = set(touches.loc[(t > start) & (t <= as_of), "contact_id"])
    r = roles.assign(
        engaged=roles["contact_id"].isin(engaged),
        required=roles["role"].isin(DEFAULT_REQUIRED_ROLES),
        supportive=(roles["stance"] == "supporter") & roles["role"].isin(KEY_PLAYER_ROLES),
    )
    r["deciding"] = r["supportive"] & r["role"].isin(DECISION_ROLES)
    g = r.groupby("deal_id")
    out = pd.DataFrame(
        {
            "n_required_filled": r[r["required"]].groupby("deal_id")["role"].nunique(),
            "n_contacts": g["contact_id"].nunique(),
            "n_engaged_contacts": r[r["engaged"]].groupby("deal_id")["contact_id"].nunique(),
            "n_engaged_roles": r[r["engaged"]].groupby("deal_id")["role"].nunique(),
            "any_supportive": g["supportive"].any(),
            "any_deciding": g["deciding"].any(),
        }
    ).fillna(0)
    out["coverage"] = out["n_required_filled"] / len(DEFAULT_REQUIRED_ROLES)
    out["single_threaded"] = out["n_engaged_contacts"] <= 1
    out["status"] = np.where(
        out["any_deciding"], "green", np.where(out["any_supportive"], "amber", "red")
    )
    return out


def networkx_influence(graph: Any) -> dict[str, dict[str, float]]:
    """What a user would write: per account, the deference subgraph and ``nx.pagerank``."""
    members: dict[str, list[str]] = {}
    for u, v, k in graph.edges(keys=True):
        if k == "belongs_to" and graph.nodes[u]["active"]:
            members.setdefault(v, []).append(u)
    arcs: dict[str, list[tuple[str, str, float]]] = {}
    account_of: dict[str, list[str]] = {}
    for acc, people in members.items():
        for c in people:
            account_of.setdefault(c, []).append(acc)
    for u, v, d in graph.edges(data=True):
        if d["kind"] not in ("reports_to", "influences") or u not in account_of:
            continue
        if v not in account_of:
            continue
        src, dst = (u, v) if d["kind"] == "reports_to" else (v, u)
        for acc in set(account_of[u]) & set(account_of[v]):
            arcs.setdefault(acc, []).append((src, dst, d["strength"]))
    out = {}
    for acc, people in members.items():
        g = nx.DiGraph()
        g.add_nodes_from(people)
        for s, t, w in arcs.get(acc, []):
            if w > 0:
                prior = g.get_edge_data(s, t, {"weight": 0.0})["weight"]
                g.add_edge(s, t, weight=prior + w)
        p = {c: DEFAULT_SENIORITY_WEIGHTS[graph.nodes[c]["seniority"]] for c in people}
        out[acc] = nx.pagerank(g, personalization=p, weight="weight", tol=1e-10, max_iter=1000)
    return out


def main() -> None:
    n_accounts = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    print(f"accounts benchmark: {n_accounts:,} accounts")
    _, data = timed("generate synthetic book (make_accounts)", lambda: make_accounts(
        n_accounts=n_accounts, contacts_per_account=20, seed=2024))  # fmt: skip
    _, graph = timed("build_graph (validation + MultiDiGraph)", data.graph)
    as_of = data.as_of
    open_deals = [d.id for d in data.deals if d.status == "open"]
    print(f"  {len(data.contacts):,} contacts, {len(data.relationships):,} ties, "
          f"{len(data.deals):,} deals ({len(open_deals):,} open), {len(data.roles):,} roles; "
          f"graph {graph.number_of_nodes():,} nodes / {graph.number_of_edges():,} edges; "
          f"peak RSS so far {rss_mb():,.0f} MB")  # fmt: skip

    print("coverage + threading for every open deal")
    _, (roles, touches) = timed("clientmodel committee_tables (graph -> tables)",
                                       lambda: committee_tables(graph))  # fmt: skip
    keep = np.isin(roles["deal_id"], np.array(open_deals, dtype=object))
    roles = {k: v[keep] for k, v in roles.items()}
    t_table, table = timed(
        "clientmodel committee_table (vectorised numpy)",
        lambda: committee_table(roles, touches, as_of=as_of, tz="UTC"),
    )
    t_records, _ = timed("clientmodel committee_coverage + threading per deal", lambda: [
        (committee_coverage(graph, d, as_of=as_of), threading(graph, d, as_of=as_of))
        for d in open_deals])  # fmt: skip
    roles_df = pd.DataFrame(roles)
    touches_df = pd.DataFrame(touches)
    touches_df["last_interaction"] = touches_df["last_interaction"].dt.tz_localize("UTC")
    t_pandas, base = timed("baseline pandas merge/groupby", lambda: pandas_committee(
        roles_df, touches_df, as_of))  # fmt: skip
    same = np.array_equal(
        base.loc[table["deal_id"], "status"].to_numpy(), table["status"].astype(str)
    ) and np.array_equal(
        base.loc[table["deal_id"], "n_engaged_contacts"].to_numpy(), table["n_engaged_contacts"]
    )
    print(f"  answers agree with the baseline: {same}")
    print(f"  ratio baseline pandas / clientmodel table      {t_pandas / t_table:6.1f}x")
    print(f"  ratio record loop / clientmodel table          {t_records / t_table:6.1f}x")

    print("influence (PageRank) for every account")
    t_block, inf = timed("clientmodel influence_table (block power iteration)",
                         lambda: influence_table(graph))  # fmt: skip
    t_nx, ref = timed("baseline networkx.pagerank per account", lambda: networkx_influence(graph))
    rows = zip(inf["account_id"], inf["contact_id"], inf["score"], strict=True)
    diff = max(abs(ref[a][c] - s) for a, c, s in rows)
    print(f"  max |difference| vs networkx: {diff:.1e}")
    print(f"  ratio baseline networkx / clientmodel          {t_nx / t_block:6.1f}x")
    print(f"peak RSS {rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
