"""The customer-view table and a 10-play day plan for many customers: clientmodel vs pandas.

Data: ``n`` customers (default 100,000; ``python benchmarks/bench_view.py 1000000`` for the full
size) with a people table (owner, follow-up, tags, contactable channels, interest, intent), a
purchase summary, model scores, segments and timing flags, each table shuffled independently;
plus a B2B book of about ``n_accounts x 20`` contacts, a few hundred of whom are linked to
consumers by phone number.

* **clientmodel**: ``view_table`` (narwhals joins, B2B aggregates computed from the records) and
  ``plan_table`` with ``DEFAULT_PLAYBOOK`` (ten plays as rules).
* **baseline**: what a user writes by hand in pandas: four left merges, a merge of the B2B
  aggregates (computed for it, outside the timing: a favour to the baseline), ``T - recency``,
  then ten hand-written boolean masks (list membership with ``apply``), a value matrix and an
  ``argmax``.

Both run in the same process on the same data; the results are checked equal row for row. The
ratio is baseline time / clientmodel time (> 1: clientmodel faster). Peak memory is the Python
heap (``tracemalloc``) of one extra run of each. The view table is also built on dask (4
partitions) and on polars, and checked equal to the pandas result.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from clientmodel.datasets.accounts import make_accounts
from clientmodel.profile import Profile
from clientmodel.view import (
    DEFAULT_PLAYBOOK,
    Book,
    ContactIdentifiers,
    link,
    plan_table,
    view_table,
)
from clientmodel.view.record import _b2b, b2b_fields

AS_OF = dt.datetime(2025, 6, 30, tzinfo=dt.timezone.utc)


def make_data(n: int, n_accounts: int, seed: int = 7) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    ids = np.array([f"c{i:07d}" for i in range(n)], dtype=object)

    def shuffled(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)

    channels = np.array(["sms", "wecom", "email"], dtype=object)
    consent = rng.random((n, 3)) < np.array([0.6, 0.8, 0.3])
    contactable = [list(channels[row]) for row in consent]
    tags = [["vip"] if v else [] for v in rng.random(n) < 0.05]
    people = pd.DataFrame(
        {
            "person_id": ids,
            "owner": rng.choice(np.array(["s1", "s2", "s3", "s4", None], dtype=object), n),
            "owner_left": rng.random(n) < 0.03,
            "follow_up": rng.choice(np.array(["awaiting", "in_follow_up", "won"]), n),
            "tags": tags,
            "contactable": contactable,
            "top_interest": rng.choice(np.array(["tea", "golf", None], dtype=object), n),
            "intent": rng.random(n),
        }
    )
    t = rng.uniform(1, 78, n)
    freq = rng.poisson(1.5, n).astype(float)
    rec = np.where(freq > 0, t * rng.random(n), 0.0)
    summary = pd.DataFrame(
        {
            "person_id": ids,
            "frequency": freq,
            "recency": rec,
            "T": t,
            "monetary_value": np.round(rng.gamma(2.0, 40.0, n), 2),
        }
    )
    alive = rng.random(n)
    scores = pd.DataFrame(
        {
            "person_id": ids,
            "p_alive": alive,
            "churn_risk": 1 - alive,
            "expected_purchases": rng.gamma(1.0, 0.5, n),
            "clv": rng.gamma(2.0, 200.0, n),
        }
    )
    segments = pd.DataFrame(
        {
            "person_id": ids,
            "rfm_segment": rng.choice(np.array(["champions", "at_risk", "hibernating"]), n),
            "lifecycle": rng.choice(np.array(["new", "active", "at_risk"]), n),
        }
    )
    gap = np.where(freq > 0, rec / np.maximum(freq, 1), 4.0)
    gap = np.where(gap > 0, gap, 4.0)
    since = t - rec
    timing = pd.DataFrame(
        {"person_id": ids, "due": since >= gap, "overdue": since >= 1.5 * gap, "cadence_gap": gap}
    )
    acc = make_accounts(n_accounts, seed=seed, as_of=AS_OF)
    committee = sorted({r.contact_id for r in acc.roles})
    linked = rng.choice(n, size=min(len(committee), n), replace=False)
    profiles = [
        Profile(profile_id=str(ids[i]), identifiers=[{"kind": "phone", "value": f"+86139{i:08d}"}])
        for i in linked
    ]
    cards = [
        ContactIdentifiers(contact_id=cid, phones=(f"139 {i:08d}",))
        for cid, i in zip(committee, linked, strict=False)
    ]
    book = Book(
        acc.accounts,
        acc.contacts,
        acc.team,
        acc.relationships,
        acc.roles,
        acc.deals,
        probabilities={d.id: 0.3 for d in acc.deals if d.status == "open"},
    )
    return {
        "people": shuffled(people),
        "summary": shuffled(summary),
        "scores": shuffled(scores),
        "segments": shuffled(segments),
        "timing": shuffled(timing),
        "book": book,
        "links": link(cards, profiles),
        "n_contacts": len(acc.contacts),
    }


def ours(d: dict[str, Any], people: Any = None, **frames: Any) -> tuple[Any, Any]:
    table = view_table(
        d["people"] if people is None else people,
        summary=frames.get("summary", d["summary"]),
        scores=frames.get("scores", d["scores"]),
        segments=frames.get("segments", d["segments"]),
        timing=frames.get("timing", d["timing"]),
        book=d["book"],
        links=d["links"],
        as_of=AS_OF,
    )
    if hasattr(table, "compute") or hasattr(table, "collect"):
        return table, None
    return table, plan_table(table, DEFAULT_PLAYBOOK, as_of=AS_OF)


def b2b_aggregates(d: dict[str, Any]) -> pd.DataFrame:
    """What the baseline is handed: the B2B fields per linked person."""
    rows = []
    people: dict[str, list[str]] = {}
    for item in d["links"].links:
        people.setdefault(item.profile_id, []).append(item.contact_id)
    for pid, cids in people.items():
        rows.append({"person_id": pid, **b2b_fields(*_b2b(d["book"], tuple(sorted(cids)), AS_OF))})
    return pd.DataFrame(rows)


def has(series: pd.Series, item: str) -> pd.Series:
    return series.apply(lambda v: isinstance(v, list) and item in v)


def baseline(d: dict[str, Any], b2b: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = d["people"]
    for name in ("summary", "scores", "segments", "timing"):
        df = df.merge(d[name], on="person_id", how="left")
    df = df.merge(b2b, on="person_id", how="left")
    df["n_accounts"] = df["n_accounts"].fillna(0)
    df["n_open_deals"] = df["n_open_deals"].fillna(0)
    df["open_deal_amount"] = df["open_deal_amount"].fillna(0.0)
    df["decision_maker"] = df["decision_maker"].fillna(False).astype(bool)
    df["since_purchase"] = df["T"] - df["recency"]
    true = lambda c: df[c].eq(True)  # noqa: E731 - null is not true
    deal = df["open_deal_amount"] * df["best_win_probability"].fillna(0.0)
    can = {c: has(df["contactable"], c) for c in ("sms", "wecom", "email")}
    anyone = pd.Series(True, index=df.index)
    plays = [  # (id, mask, channels in order (None: no consent needed), p, stake, touch)
        ("consent_refresh", df["contactable"].notna() & ~can["wecom"] & (df["frequency"] >= 1),
         None, 0.1, pd.Series(5.0, index=df.index), False),
        ("cross_sell", df["top_interest"].notna() & (df["intent"] >= 0.3),
         ["wecom", "email"], 0.1, df["monetary_value"], True),
        ("economic_buyer_care", true("decision_maker") & (df["n_open_deals"] >= 1),
         None, 0.5, deal, True),
        ("follow_up", df["follow_up"].eq("awaiting") & (df["frequency"] >= 1),
         ["wecom", "phone"], 0.2, df["monetary_value"], True),
        ("multi_thread", (df["n_open_deals"] >= 1) & df["committee_status"].isin(["red", "amber"]),
         None, 0.3, deal, True),
        ("nurture_new", df["lifecycle"].eq("new") & ~true("due"),
         ["wecom", "sms", "email"], 0.25, df["monetary_value"], True),
        ("repurchase", true("due") & ~true("overdue"),
         ["wecom", "sms", "email"], 0.15, df["monetary_value"], True),
        ("take_over", true("owner_left"), None, 1.0, df["clv"], False),
        ("vip_care", has(df["tags"], "vip") & (df["p_alive"] >= 0.5),
         ["wecom", "phone", "sms"], 0.3, df["clv"], True),
        ("win_back", true("overdue") | (df["churn_risk"] >= 0.5),
         ["wecom", "sms", "email"], 0.05, df["clv"], True),
    ]  # fmt: skip
    value = np.full((len(df), len(plays)), -np.inf)
    for k, (_, mask, chans, p, stake, _touch) in enumerate(plays):
        ok = anyone if chans is None else sum((can.get(c, ~anyone) for c in chans), ~anyone) > 0
        value[:, k] = np.where(mask & ok, p * stake.fillna(0.0).clip(lower=0), -np.inf)
    best = value.argmax(axis=1)
    found = np.isfinite(value[np.arange(len(df)), best])
    plan = pd.DataFrame(
        {
            "person_id": df["person_id"],
            "play_id": np.where(found, np.array([p[0] for p in plays], dtype=object)[best], None),
            "value": np.where(found, value[np.arange(len(df)), best], np.nan),
        }
    )
    return df, plan


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def peak(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    fn()
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return top / 2**20


def main(n: int) -> None:
    n_accounts = max(20, min(200, n // 500))
    d = make_data(n, n_accounts)
    print(
        f"{n:,} customers (tables shuffled independently), {d['n_contacts']:,} B2B contacts, "
        f"{len(d['links'].links)} linked; playbook of {len(DEFAULT_PLAYBOOK)} plays"
    )
    repeat = 3 if n <= 200_000 else 1
    b2b = b2b_aggregates(d)
    t_ours, (table, plan) = timed(lambda: ours(d), repeat)
    t_base, (_, base_plan) = timed(lambda: baseline(d, b2b), repeat)
    mine = plan.set_index("person_id").sort_index()
    theirs = base_plan.set_index("person_id").sort_index()
    same = (mine["play_id"].fillna("-") == theirs["play_id"].fillna("-")).all() and np.allclose(
        mine["value"].astype(float).fillna(-1), theirs["value"].astype(float).fillna(-1)
    )
    assert same, "clientmodel and the hand-written pandas plan differ"
    print(f"view table + plan, pandas:  clientmodel {t_ours:.2f}s  baseline {t_base:.2f}s  "
          f"ratio {t_base / t_ours:.2f}  (plans equal row for row)")  # fmt: skip
    print(f"peak Python heap: clientmodel {peak(lambda: ours(d)):.0f} MiB, "
          f"baseline {peak(lambda: baseline(d, b2b)):.0f} MiB")  # fmt: skip

    try:
        import polars as pl
    except ImportError:  # pragma: no cover
        pl = None
    if pl is not None:
        frames = {k: pl.from_pandas(d[k]) for k in ("summary", "scores", "segments", "timing")}
        people = pl.from_pandas(d["people"])
        t_pl, (table_pl, plan_pl) = timed(lambda: ours(d, people, **frames), repeat)
        a = table.sort_values("person_id").reset_index(drop=True)
        b = table_pl.sort("person_id").to_pandas()
        assert np.allclose(a["since_purchase"], b["since_purchase"], equal_nan=True)
        polars_plan = plan_pl.to_pandas().set_index("person_id").sort_index()
        assert (polars_plan["play_id"].fillna("-") == mine["play_id"].fillna("-")).all()
        print(
            f"view table + plan, polars:  clientmodel {t_pl:.2f}s  "
            f"(ratio to the pandas baseline {t_base / t_pl:.2f})"
        )

    try:
        import dask.dataframe as dd
    except ImportError:  # pragma: no cover
        dd = None
    if dd is not None:
        names = ("summary", "scores", "segments", "timing")
        parts = {k: dd.from_pandas(d[k], npartitions=4) for k in names}
        people_dd = dd.from_pandas(d["people"], npartitions=4)
        t0 = time.perf_counter()
        got = ours(d, people_dd, **parts)[0].compute()
        t_dd = time.perf_counter() - t0
        got = got.sort_values("person_id").reset_index(drop=True)
        want = table.sort_values("person_id").reset_index(drop=True)
        for col in ("since_purchase", "clv", "p_alive", "n_open_deals"):
            assert np.allclose(got[col].astype(float), want[col].astype(float), equal_nan=True), col
        assert (got["person_id"] == want["person_id"]).all()
        print(f"view table on dask (4 partitions): {t_dd:.2f}s, equal row for row to pandas")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
