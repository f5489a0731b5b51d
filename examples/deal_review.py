"""Pre-deal review for the largest open deal: committee, threading, influence, risk, paths.

A sales leader prepares a review of the biggest open deal in a synthetic book of business:
who is on the buying committee and engaged, where the power sits, whom we cannot afford to
lose, how to get a warm introduction to the decision maker, and whether the deal is qualified
enough (MEDDPICC) to enter the next stage.
"""

from __future__ import annotations

from datetime import timedelta

from clientmodel.accounts import (
    account_risks,
    account_rollup,
    committee_coverage,
    decay_graph,
    influence,
    key_person_risk,
    meddpicc,
    org_chart,
    power_map,
    render_org_chart,
    threading,
    warm_paths,
)
from clientmodel.datasets.accounts import make_accounts


def main() -> None:
    data = make_accounts(n_accounts=40, seed=11)
    as_of = data.as_of
    # live ties count more: halve a tie's strength for every 90 days without contact
    graph = decay_graph(data.graph(), as_of=as_of, half_life=timedelta(days=90))
    deal = max((d for d in data.deals if d.status == "open"), key=lambda d: d.amount)
    account = graph.nodes[deal.account_id]["record"]
    print(f"Deal review: {deal.name} ({deal.id}), {deal.amount:,} {deal.currency}, "
          f"stage {deal.stage}, account {account.name} [{account.tier}]")  # fmt: skip

    cov = committee_coverage(graph, deal.id, as_of=as_of, window=timedelta(days=60))
    print(f"  committee status {cov.status.upper()}: coverage {cov.coverage:.0%}, "
          f"engaged in the last 60 days {cov.engaged_coverage:.0%}")  # fmt: skip
    for role in cov.roles:
        who = ", ".join(graph.nodes[c]["name"] for c in role.holders) or "-- nobody --"
        flag = "engaged" if role.engaged else ("NOT engaged" if role.filled else "MISSING")
        print(f"    {role.role:<20} {who:<30} {flag}")

    thr = threading(graph, deal.id, as_of=as_of, window=timedelta(days=60))
    warning = "  << SINGLE-THREADED" if thr.single_threaded else ""
    print(f"  threading: {len(thr.engaged_contacts)} contact(s), {len(thr.engaged_roles)} role(s) "
          f"by {len(thr.engaged_team)} of us{warning}")  # fmt: skip

    top = influence(graph, deal.account_id).top(3)
    committee = {c for r in cov.roles for c in r.holders}
    print("  most influential:", "; ".join(
        f"{graph.nodes[c]['name']} {s:.2f}{'' if c in committee else ' (not on committee)'}"
        for c, s in top))  # fmt: skip

    pm = power_map(graph, deal.id)
    print(f"  power map: committee holds {pm.committee_share:.0%} of the account's influence; "
          f"supporters {pm.stance_share['supporter']:.0%}, "
          f"detractors {pm.stance_share['detractor']:.0%} of it")  # fmt: skip
    worst = account_risks(graph, deal.account_id)[:3]
    print("  biggest key-person risks:", "; ".join(
        f"{graph.nodes[r.person]['name']} {r.severity} ({len(r.roles_uncovered)} role(s), "
        f"{len(r.decision_makers_unreachable)} decider(s) cut off)" for r in worst))  # fmt: skip

    champion = next((r.holders[0] for r in cov.roles if r.role == "champion" and r.holders), None)
    if champion is not None:
        risk = key_person_risk(graph, champion)
        lost = [role for _, role in risk.roles_uncovered]
        print(f"  if champion {graph.nodes[champion]['name']} leaves: severity {risk.severity}, "
              f"{len(risk.relationships_cut)} ties cut, roles uncovered: {lost}")  # fmt: skip

    dm = next((r.holders[0] for r in cov.roles if r.role == "decision_maker" and r.holders), None)
    if dm is not None:
        paths = warm_paths(graph, dm, k=2)
        for p in paths:
            print(f"  path to decision maker: {p.explanation}")
        if not paths:
            print("  no warm path to the decision maker: plan a cold outreach")

    m = meddpicc(graph, deal.id)
    print(f"  MEDDPICC {m.score:.0%}, missing: {', '.join(m.missing) or 'none'}; "
          f"gate 'meddpicc_score >= 0.75' {'passes' if m.score >= 0.75 else 'fails'}")  # fmt: skip

    roll = account_rollup(graph)
    top_account = account.parent_id or account.id
    r = roll[top_account]
    print(f"  group {top_account}: open pipeline {r.total_open_pipeline:,} {r.currency or ''}, "
          f"won {r.total_won_revenue:,}, {r.total_contacts} contacts, "
          f"{len(r.subsidiaries)} subsidiaries")  # fmt: skip
    chart = render_org_chart(org_chart(graph, deal.account_id)).splitlines()
    print("  org chart (top):", " | ".join(line.strip() for line in chart[:4]))


if __name__ == "__main__":
    main()
