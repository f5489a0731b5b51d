"""A quarter's pipeline review on a synthetic sales organisation.

A sales leader closes the books on Q4 and prepares Q1: how deals convert through the funnel, what
the stage history says about win probability and days to close (absorbing Markov chain), what the
open pipeline is worth, the Monte Carlo bookings forecast against quota, how last quarter's
forecast would have done (backtest), and which deals need attention (stalled, slipped, overdue).
"""

from __future__ import annotations

import datetime as dt

from clientmodel.datasets.deals import make_deals
from clientmodel.funnel import (
    backtest,
    conversion,
    deal_probability,
    fit_chain,
    fit_naive_bayes,
    overdue_follow_ups,
    simulate_bookings,
    slippage,
    stalled,
    weighted_pipeline,
    win_rates,
)


def main() -> None:
    data = make_deals(1500, seed=2024)
    deals, pipeline, as_of = list(data.deals), data.pipeline, data.as_of
    n_open = sum(not d.is_closed for d in deals)
    print(f"Pipeline review as of {as_of.date()}: {len(deals)} deals, {n_open} open")

    funnel = conversion(deals, pipeline=pipeline, as_of=as_of)
    steps = ", ".join(
        f"{s} {n} ({r:.0%})"
        for s, n, r in zip(
            funnel["stage"], funnel["reached"], funnel["rate_from_previous"], strict=True
        )
    )
    print(f"  funnel (reached, step conversion): {steps}")

    chain = fit_chain(deals, as_of=as_of, pipeline=pipeline)
    for row in zip(*chain.table().values(), strict=True):
        stage, win, visits, days = row
        print(
            f"  {stage:<12} win probability {win:5.1%}, {visits:.1f} stage visits and "
            f"{days:5.1f} days to close on average"
        )

    for r in weighted_pipeline(deals, pipeline, chain=chain):
        print(
            f"  {r.group:<10} {r.n_deals:4d} deals {r.amount:>12,} {r.currency}, "
            f"weighted {r.weighted:>12,}"
        )

    quota = 600_000
    fc = simulate_bookings(
        deals,
        pipeline,
        as_of=as_of,
        chain=chain,
        history=deals,
        periods=3,
        unit="M",
        n_draws=5000,
        seed=1,
    )
    p10, p50, p90 = fc.total_quantiles
    print(
        f"  Q1 bookings from open deals: P10 {p10:,.0f}  P50 {p50:,.0f}  P90 {p90:,.0f}"
        f" {fc.currency};"
        f" chance of reaching quota {quota:,}: {fc.quota_probability(quota):.0%}"
    )

    bt = backtest(
        deals, pipeline, at=as_of - dt.timedelta(days=92), periods=1, unit="Q", n_draws=2000, seed=1
    )
    print(
        f"  backtest of Q4: forecast P50 {bt.p50:,.0f} (P10-P90 {bt.p10:,.0f}-{bt.p90:,.0f}),"
        f" actual {bt.actual:,.0f} -> {'inside' if bt.covered else 'outside'} the band"
    )

    score = fit_naive_bayes(deals, features=["stage", "champion", "source", "segment"])
    big = max((d for d in deals if not d.is_closed), key=lambda d: d.amount)
    why = deal_probability(big, pipeline, chain=chain, score=score)
    top = sorted(why.contributions.items(), key=lambda kv: -abs(kv[1]))[:3]
    print(
        f"  largest open deal {big.id} ({big.amount:,} {big.currency}, {big.stage}): "
        f"{why.value:.0%} by {why.layer}; why: " + ", ".join(f"{k} {v:+.2f}" for k, v in top)
    )

    rates = win_rates(deals, as_of=as_of, by="owner", window_days=365)
    best = int(rates["win_rate"].argmax())
    print(
        f"  best win rate last 12 months: {rates['owner'][best]} "
        f"{rates['win_rate'][best]:.0%} of {rates['closed'][best]} closed"
    )

    stuck = stalled(deals, pipeline, as_of=as_of, percentile=90)
    slipped = slippage([d for d in deals if not d.is_closed], as_of=as_of)
    overdue = overdue_follow_ups(deals, as_of=as_of)
    print(
        f"  attention: {len(stuck)} stalled (beyond the 90th percentile stay), "
        f"{len(slipped)} open deals past their close date, {len(overdue)} follow-ups overdue"
    )
    for f in stuck[:3]:
        print(f"    {f.deal_id} in {f.stage} for {f.days:.0f} days (usual max {f.threshold:.0f})")


if __name__ == "__main__":
    main()
