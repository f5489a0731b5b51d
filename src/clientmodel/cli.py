"""The ``clientmodel`` command: a demo on synthetic data and the customer summary of a CSV file.

``clientmodel demo`` tours a small synthetic company end to end; ``clientmodel summarize FILE
--as-of DATE`` writes the customer summary of a transaction log as CSV or JSON lines. Mistakes in
the input give one line ``error [code]: message`` on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from clientmodel import __version__
from clientmodel.errors import ClientModelError, DataError

__all__ = ["main"]

_DEMO_AS_OF = dt.date(2025, 6, 29)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 bad input).

    Examples
    --------
    >>> main(["--version"])  # doctest: +ELLIPSIS
    clientmodel ...
    0
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if args.version:
        print(f"clientmodel {__version__}")
        return 0
    if args.command is None:
        parser.print_help()
        return 2
    try:
        handler: Callable[[argparse.Namespace], None] = args.handler
        handler(args)
    except ClientModelError as exc:
        print(f"error [{exc.code}]: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error [io]: {exc}", file=sys.stderr)
        return 2
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clientmodel", description=__doc__)
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command")

    demo = sub.add_parser("demo", help="a tour of the library on a small synthetic company")
    demo.add_argument("--seed", type=int, default=7, help="seed of the synthetic data")
    demo.set_defaults(handler=_demo)

    summ = sub.add_parser("summarize", help="customer summary of a transaction log (CSV/JSONL)")
    summ.add_argument("file", type=Path, help="transactions as .csv or .jsonl")
    summ.add_argument("--as-of", required=True, help="end of the observation window (ISO date)")
    summ.add_argument("--unit", default="D", help="unit of recency and T: D, W, M, Q, Y")
    summ.add_argument("--customer", default="customer_id", help="customer id column")
    summ.add_argument("--time", default="timestamp", help="timestamp column")
    summ.add_argument("--amount", default=None, help="amount column (optional)")
    summ.add_argument("--tz", default=None, help="timezone of naive timestamps, e.g. UTC")
    summ.add_argument(
        "--exclude-after-as-of",
        action="store_true",
        help="leave out (and count) transactions after --as-of instead of failing",
    )
    summ.add_argument("-o", "--output", type=Path, help="write here (.csv or .jsonl), not stdout")
    summ.set_defaults(handler=_summarize)
    return parser


# ---------------------------------------------------------------------------- summarize
def _read_rows(path: Path) -> dict[str, list[Any]]:
    if path.suffix.lower() in {".jsonl", ".ndjson"}:
        rows = []
        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError as exc:
                        raise DataError(f"{path}: line {number} is not JSON ({exc.msg})") from exc
    else:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    if not rows:
        raise DataError(f"{path} holds no rows")
    names = list(dict.fromkeys(k for row in rows for k in row))
    return {name: [row.get(name) for row in rows] for name in names}


def _summarize(args: argparse.Namespace) -> None:
    from clientmodel.transactions import summarize

    data = _read_rows(args.file)
    summary = summarize(
        data,
        as_of=args.as_of,
        unit=args.unit,
        customer=args.customer,
        time=args.time,
        amount=args.amount,
        tz=args.tz,
        after_as_of="exclude" if args.exclude_after_as_of else "error",
    )
    if args.output is None:
        _write(summary, sys.stdout, jsonl=False)
    else:
        with args.output.open("w", encoding="utf-8", newline="") as fh:
            _write(summary, fh, jsonl=args.output.suffix.lower() in {".jsonl", ".ndjson"})


def _plain(value: Any) -> Any:
    if isinstance(value, np.datetime64):
        return str(value)
    return value.item() if isinstance(value, np.generic) else value


def _write(summary: dict[str, Any], out: TextIO, *, jsonl: bool) -> None:
    names = list(summary)
    rows = zip(*(summary[n].tolist() for n in names), strict=True)
    if jsonl:
        for row in rows:
            out.write(json.dumps(dict(zip(names, map(_text, row), strict=True))) + "\n")
        return
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    writer.writerows([_text(v) for v in row] for row in rows)


def _text(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


# ---------------------------------------------------------------------------- demo
def _demo(args: argparse.Namespace) -> None:
    print(f"clientmodel {__version__} demo: a small synthetic company, end to end")
    context: dict[str, Any] = {"seed": args.seed}
    for title, section in _DEMO_SECTIONS:
        print(f"\n== {title}")
        section(context)


def _demo_customers(ctx: dict[str, Any]) -> None:
    from clientmodel.datasets.transactions import make_transactions
    from clientmodel.transactions import summarize

    log = make_transactions(3000, seed=ctx["seed"], start=dt.date(2024, 1, 1))
    summary = summarize(log, as_of=_DEMO_AS_OF, unit="W", amount="amount", tz="UTC")
    ctx["summary"] = summary
    freq = summary["frequency"]
    print(
        f"{len(log['amount']):,} purchases by {len(freq):,} customers as of {_DEMO_AS_OF}; "
        f"{np.mean(freq > 0):.0%} bought again, mean repeat purchases {freq.mean():.2f}, "
        f"revenue {summary['revenue'].sum():,.0f}"
    )


def _demo_lifetime_value(ctx: dict[str, Any]) -> None:
    from clientmodel.ltv import BGNBD, GammaGamma, clv

    summary = ctx["summary"]
    model = BGNBD.fit(summary)
    report = model.fit_report
    assert report is not None
    params = ", ".join(f"{k}={v:.3f}" for k, v in model.params.items())
    print(f"BG/NBD fitted ({params}), log-likelihood {report.log_likelihood:,.1f}")
    alive = model.p_alive(summary)
    next_quarter = model.expected_purchases(summary, 13.0)
    print(
        f"customers probably gone (P(alive) < 0.3): {np.mean(alive < 0.3):.0%}; "
        f"expected purchases next 13 weeks: {np.sum(next_quarter):,.0f}"
    )
    ctx["bgnbd"] = model
    spend = GammaGamma.fit(summary)
    value = np.atleast_1d(clv(model, spend, summary, horizon=52.0, discount_rate=0.10, margin=0.3))
    top = np.sort(value)[::-1][: max(1, len(value) // 10)]
    print(
        f"12-month CLV at 30% margin, 10% a year: total {value.sum():,.0f}; the top 10% of "
        f"customers hold {top.sum() / value.sum():.0%} of it"
    )
    ctx["clv"] = value


def _demo_segments(ctx: dict[str, Any]) -> None:
    from collections import Counter

    from clientmodel.rules import evaluate_table
    from clientmodel.segments import fit_rfm, lifecycle_from_summary, rfm_from_summary

    summary = ctx["summary"]
    values = rfm_from_summary(summary, unit="W")
    scored = fit_rfm(values).score(values, segments="default")
    counts = Counter(scored["segment"].tolist()).most_common(4)
    print("RFM segments: " + ", ".join(f"{name} {n:,}" for name, n in counts) + ", ...")
    # A dict summary holds wall-clock UTC times (numpy has no timezone): say so.
    stages = lifecycle_from_summary(summary, as_of=_DEMO_AS_OF, model=ctx["bgnbd"], tz="UTC")
    shares = Counter(stages["stage"].tolist())
    total = sum(shares.values())
    print(
        "lifecycle (P(alive) windows): "
        + ", ".join(f"{s} {n / total:.0%}" for s, n in shares.most_common())
    )
    rule = 'segment in ["Champions", "Loyal"] and clv >= 20'
    audience = evaluate_table(rule, {"segment": scored["segment"], "clv": ctx["clv"]})
    print(f"audience `{rule}`: {int(np.sum(audience)):,} customers")


def _demo_profiles(ctx: dict[str, Any]) -> None:
    from collections import Counter

    from clientmodel.datasets.consumers import make_consumers
    from clientmodel.profile import fold_events, resolve_table

    data = make_consumers(300, seed=ctx["seed"])
    ids = data.identifiers
    # The dataset's numpy times are wall-clock UTC (numpy has no timezone): say so.
    resolution = resolve_table(ids, tz="UTC")
    records = resolution.records_table()
    person = dict(zip(ids["record_id"].tolist(), ids["person_id"].tolist(), strict=True))
    people: dict[Any, set[Any]] = {}
    for rec, prof in zip(
        records["record_id"].tolist(), records["profile_id"].tolist(), strict=True
    ):
        people.setdefault(prof, set()).add(person[rec])
    mixed = sum(len(p) > 1 for p in people.values())
    print(
        f"{resolution.n_records:,} identifier records of {len(set(person.values()))} people -> "
        f"{resolution.n_profiles} profiles; profiles mixing two people: {mixed}; merges refused "
        f"by identifier limits: {len(resolution.refusals)}"
    )
    folded = fold_events(data.events, as_of=data.as_of, tz="UTC").profiles
    intent = np.asarray(folded["intent"], dtype=np.float64)
    topics = Counter(t for t in folded["top_topic"].tolist() if t is not None).most_common(3)
    print(
        f"{len(data.events['event_id']):,} events folded into {len(intent)} profiles; "
        f"high intent (>= 0.6): {np.mean(intent >= 0.6):.0%}; top interests: "
        + ", ".join(f"{t} {n}" for t, n in topics)
    )


def _demo_funnel(ctx: dict[str, Any]) -> None:
    from clientmodel.datasets.deals import make_deals
    from clientmodel.funnel import conversion, fit_chain

    data = make_deals(600, seed=ctx["seed"])
    deals = list(data.deals)
    funnel = conversion(deals, pipeline=data.pipeline, as_of=data.as_of)
    steps = " -> ".join(f"{s} {n}" for s, n in zip(funnel["stage"], funnel["reached"], strict=True))
    print(f"{len(deals)} deals; reached: {steps}")
    chain = fit_chain(deals, as_of=data.as_of, pipeline=data.pipeline)
    table = chain.table()
    wins = ", ".join(
        f"{s} {w:.0%}" for s, w in zip(table["stage"], table["win_probability"], strict=True)
    )
    print(f"win probability from each stage (absorbing Markov chain): {wins}")


def _demo_accounts(ctx: dict[str, Any]) -> None:
    from clientmodel.accounts import committee_coverage, warm_paths
    from clientmodel.datasets.accounts import make_accounts

    data = make_accounts(n_accounts=20, seed=ctx["seed"])
    graph = data.graph()
    deal = max((d for d in data.deals if d.status == "open"), key=lambda d: d.amount)
    cov = committee_coverage(graph, deal.id, as_of=data.as_of, window=dt.timedelta(days=90))
    print(
        f"largest open deal {deal.name}: {deal.amount:,} {deal.currency}, committee "
        f"{cov.status.upper()}, roles covered {cov.coverage:.0%}"
    )
    missing = [r.role for r in cov.roles if not r.filled]
    if missing:
        print(f"roles nobody fills yet: {', '.join(missing)}")
    deciders = [c for r in cov.roles if r.role == "decision_maker" for c in r.holders]
    if deciders:
        paths = warm_paths(graph, deciders[0], k=1)
        if paths:
            print(f"best warm path to the decision maker: {paths[0].explanation}")


_DEMO_SECTIONS: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("Customers: transaction log -> customer summary", _demo_customers),
    ("Lifetime value and churn", _demo_lifetime_value),
    ("Segments, lifecycle and audiences", _demo_segments),
    ("Consumer profiles", _demo_profiles),
    ("Sales funnel", _demo_funnel),
    ("Account graph", _demo_accounts),
]
