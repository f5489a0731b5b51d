"""Folding events into profiles: the table face against plain pandas, and the record face per call.

Table face: 10,000,000 events into 1,000,000 profiles (interest per topic with exponential decay,
intent, counts and last-seen per type and per channel, value sums). The baseline is the pandas a
user would write for the same numbers: drop replayed rows, map weights, ``2 ** (-age / h)`` and
``groupby(...).sum() / .size() / .max()`` with ``unstack``. Both run on the same frame in the same
process, and the interest scores are checked to agree. The ratio is baseline time / clientmodel
time (> 1 = faster).

Record face: folding one new event into one profile that already holds 50 recent events, in
microseconds per call (``timeit``), without and with two tag rules.

Usage: ``python benchmarks/bench_profile.py [n_events] [n_profiles]``
"""

from __future__ import annotations

import datetime as dt
import sys
import time
import timeit

import numpy as np
import pandas as pd

from clientmodel.profile import ActivityConfig, Event, Profile, apply, fold_events

N_EVENTS = 10_000_000
N_PROFILES = 1_000_000
AS_OF = dt.datetime(2024, 7, 1, tzinfo=dt.timezone.utc)
TYPES = np.array(
    ["view", "click", "like", "comment", "share", "add_to_cart", "purchase", "message"]
)
TYPE_P = np.array([0.5, 0.2, 0.08, 0.04, 0.03, 0.07, 0.03, 0.05])
CHANNELS = np.array(["wechat", "mini_program", "app", "web", "store"])
TOPICS = np.array(["skincare", "makeup", "fragrance", "baby", "tea", "fitness", "golf", "travel"])


def make_events(n: int, n_profiles: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    kinds = rng.choice(len(TYPES), size=n, p=TYPE_P)
    secs = rng.integers(0, 365 * 86_400, n)
    topic = TOPICS[rng.integers(0, len(TOPICS), n)].astype(object)
    topic[(kinds == 7) | (rng.random(n) < 0.1)] = None  # messages and some events: no topic
    value = np.where(kinds == 6, np.round(rng.gamma(2.0, 80.0, n), 2), np.nan)
    stamps = np.datetime64("2024-07-01T00:00:00", "s") - secs.astype("timedelta64[s]")
    return pd.DataFrame(
        {
            "profile_id": rng.integers(0, n_profiles, n),
            "event_id": rng.permutation(n),
            "type": pd.Series(TYPES[kinds], dtype="str"),
            "channel": pd.Series(CHANNELS[rng.integers(0, len(CHANNELS), n)], dtype="str"),
            "timestamp": pd.to_datetime(stamps).tz_localize("UTC"),
            "topic": pd.Series(topic, dtype="str"),
            "value": value,
        }
    )


def pandas_fold(df: pd.DataFrame, cfg: ActivityConfig) -> dict[str, object]:
    """What a user would write with pandas for the same numbers."""
    df = df.drop_duplicates(["event_id", "topic"])
    age = (pd.Timestamp(AS_OF) - df["timestamp"]).dt.total_seconds() / 86_400
    w = df["type"].map(cfg.interest_weights).fillna(cfg.default_interest_weight).astype(float)
    wi = df["type"].map(cfg.intent_weights).fillna(0.0).astype(float)
    contrib = w * np.exp2(-age / cfg.interest_half_life_days)
    interest = (
        contrib[df["topic"].notna()]
        .groupby([df["profile_id"], df["topic"]])
        .sum()
        .rename("interest")
    )
    intent = -np.expm1(
        -(wi * np.exp2(-age / cfg.intent_half_life_days)).groupby(df["profile_id"]).sum()
    )
    events = df.drop_duplicates("event_id")
    by_type = events.groupby(["profile_id", "type"])
    counts = by_type.size().unstack(fill_value=0)
    last = by_type["timestamp"].max().unstack()
    sums = by_type["value"].sum().unstack(fill_value=0.0)
    by_channel = events.groupby(["profile_id", "channel"])
    counts_c = by_channel.size().unstack(fill_value=0)
    last_c = by_channel["timestamp"].max().unstack()
    return {
        "interest": interest,
        "intent": intent,
        "counts": counts,
        "last": last,
        "sums": sums,
        "counts_c": counts_c,
        "last_c": last_c,
    }


def timed(fn, repeat: int = 2) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def record_face(n_history: int = 50) -> None:
    rng = np.random.default_rng(5)
    history = [
        Event(
            event_id=f"h{i}",
            type=str(TYPES[rng.integers(0, len(TYPES))]),
            channel="mini_program",
            timestamp=AS_OF - dt.timedelta(hours=float(rng.uniform(1, 24 * 60))),
            topics=(str(TOPICS[rng.integers(0, len(TOPICS))]),),
        )
        for i in range(n_history)
    ]
    profile, _ = apply(Profile(profile_id="p"), history, as_of=AS_OF - dt.timedelta(minutes=30))
    new = Event(
        event_id="new", type="add_to_cart", channel="app", timestamp=AS_OF, topics=("skincare",)
    )
    rules = {
        "skin_fan": 'count(events where topic = "skincare") within last 30 days >= 3',
        "hot": "intent > 0.5 and n_add_to_cart >= 1",
    }
    for label, kwargs in (("no rules", {}), ("2 tag rules", {"rules": rules})):
        calls = 2000 if not kwargs else 200
        per = (
            min(
                timeit.repeat(
                    lambda kw=kwargs: apply(profile, [new], as_of=AS_OF, **kw),
                    number=calls,
                    repeat=3,
                )
            )
            / calls
        )
        print(
            f"  one event into one profile ({n_history} recent events, {label}): "
            f"{per * 1e6:8.1f} us per call"
        )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else N_EVENTS
    n_profiles = int(sys.argv[2]) if len(sys.argv) > 2 else N_PROFILES
    cfg = ActivityConfig()
    t0 = time.perf_counter()
    df = make_events(n, n_profiles)
    print(
        f"{n:,} events, {df['profile_id'].nunique():,} profiles "
        f"(generated in {time.perf_counter() - t0:.1f} s)"
    )

    t_pd, base = timed(lambda: pandas_fold(df, cfg), repeat=1)
    t_cm, ours = timed(lambda: fold_events(df, as_of=AS_OF, config=cfg), repeat=1)
    print("Table face: counters, last-seen, value sums, interest and intent (one run each)")
    print(f"  pandas groupby baseline       : {t_pd:8.2f} s")
    print(f"  clientmodel (pandas in/out)   : {t_cm:8.2f} s   ratio {t_pd / t_cm:5.2f}x")

    # the two agree
    theirs = base["interest"]  # type: ignore[index]
    mine = ours.interest.set_index(["profile_id", "topic"])["interest"]
    joined = mine.to_frame("mine").join(theirs.to_frame("theirs"), how="outer")
    np.testing.assert_allclose(joined["mine"], joined["theirs"], rtol=1e-9)
    counts = base["counts"]  # type: ignore[index]
    prof = ours.profiles.set_index("profile_id")
    np.testing.assert_array_equal(prof.loc[counts.index, "n_view"], counts["view"])
    print(f"  same interest scores ({len(mine):,} profile-topic pairs) and counts: checked")

    try:
        import polars as pl
    except ImportError:  # pragma: no cover - polars is optional
        pl = None
    if pl is not None:
        pdf = pl.from_pandas(df)
        t_pl, _ = timed(lambda: fold_events(pdf, as_of=AS_OF, config=cfg), repeat=1)
        print(f"  clientmodel (polars in/out)   : {t_pl:8.2f} s   ratio {t_pd / t_pl:5.2f}x")
        rules = {
            "skin_fan": 'count(events where topic = "skincare") within last 30 days >= 3',
            "hot": "intent > 0.5 and n_add_to_cart >= 1",
        }
        t_rules, folded = timed(
            lambda: fold_events(pdf, as_of=AS_OF, config=cfg, rules=rules), repeat=1
        )
        print(
            f"  clientmodel (polars) + 2 tag rules: {t_rules:8.2f} s "
            f"({folded.tags.height:,} tags given)"
        )

    print("Record face")
    record_face()


if __name__ == "__main__":
    main()
