"""Record-face folding: the shared columnar kernel against a per-event Python loop, per call.

:func:`clientmodel.profile.apply` folds a CRM request's new events into one profile. Since issue 18
it turns them into columns and runs the kernel the table face runs
(:mod:`clientmodel.profile._folding`); before, it walked the events one by one, updating dicts.
That loop is the baseline here (``loop_fold``: what one writes by hand, and what the record face
did): both fold the same shuffled events into the same activity state in the same run, and their
results are checked to agree. Sizes: 1, 10 and 1,000 new events per call, into a fresh profile and
into one holding 50 recent events. Figures are microseconds of CPU time of the process per call
(``time.process_time``, best of 5 repeats: they hold up on a machine shared with other work) and
the ratio loop / kernel (> 1: the kernel is faster); ``apply`` is the whole call (validation,
deduplication, touches, the fold and the new record).

Usage: ``python benchmarks/bench_fold_record.py [max_events]``
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
import sys
import time
import timeit
from decimal import Decimal

from clientmodel.profile import ActivityConfig, Event, Profile, apply
from clientmodel.profile._common import days_between, decay
from clientmodel.profile.activity import _fold
from clientmodel.profile.models import Activity

AS_OF = dt.datetime(2024, 7, 1, tzinfo=dt.timezone.utc)
TYPES = ["view", "click", "like", "add_to_cart", "purchase", "message"]
CHANNELS = ["app", "web", "wecom", "mini_program"]
TOPICS = ["skincare", "makeup", "tea", "golf"]


def make_events(n: int, tag: str, rng: random.Random, end: dt.datetime = AS_OF) -> list[Event]:
    out = [
        Event(
            event_id=f"{tag}{i}",
            type=rng.choice(TYPES),
            channel=rng.choice(CHANNELS),
            timestamp=end - dt.timedelta(seconds=rng.randint(0, 86_400 * 300)),
            topics=tuple(rng.sample(TOPICS, rng.randint(0, 2))),
            value=Decimal(rng.randint(1, 100_000)) / 100 if rng.random() < 0.3 else None,
        )
        for i in range(n)
    ]
    rng.shuffle(out)
    return out


def loop_fold(
    activity: Activity, new: list[Event], as_of: dt.datetime, cfg: ActivityConfig
) -> Activity:
    """The baseline (the record face before issue 18): the sorted new events one by one."""
    h, h_i = cfg.interest_half_life_days, cfg.intent_half_life_days
    interest = dict(activity.interest)
    intent = activity.intent_mass
    if activity.as_of is not None and activity.as_of != as_of:
        gap = days_between(activity.as_of, as_of)
        interest = {k: v * decay(gap, h) for k, v in interest.items()}
        intent *= decay(gap, h_i)
    counts_t, counts_c = dict(activity.counts_by_type), dict(activity.counts_by_channel)
    last_t, last_c = dict(activity.last_seen_by_type), dict(activity.last_seen_by_channel)
    values = dict(activity.value_by_type)
    first_seen, last_seen = activity.first_seen, activity.last_seen
    for e in new:
        age = days_between(e.timestamp, as_of)
        w = cfg.interest_weights.get(e.type, cfg.default_interest_weight)
        if e.topics and w:
            c = w * decay(age, h)
            for topic in e.topics:
                interest[topic] = interest.get(topic, 0.0) + c
        intent += cfg.intent_weights.get(e.type, 0.0) * decay(age, h_i)
        counts_t[e.type] = counts_t.get(e.type, 0) + 1
        counts_c[e.channel] = counts_c.get(e.channel, 0) + 1
        t = e.timestamp
        if e.type not in last_t or t > last_t[e.type]:
            last_t[e.type] = t
        if e.channel not in last_c or t > last_c[e.channel]:
            last_c[e.channel] = t
        if e.value is not None:
            values[e.type] = values.get(e.type, Decimal(0)) + e.value
        first_seen = t if first_seen is None or t < first_seen else first_seen
        last_seen = t if last_seen is None or t > last_seen else last_seen
    cutoff = as_of - dt.timedelta(days=cfg.history_days)
    if activity.history_start is not None and activity.history_start > cutoff:
        cutoff = activity.history_start
    merged = list(activity.recent_events)
    for e in new:
        key = (e.timestamp, e.event_id)
        merged.insert(bisect.bisect_right(merged, key, key=lambda x: (x.timestamp, x.event_id)), e)
    start = bisect.bisect_right(merged, cutoff, key=lambda x: x.timestamp)
    return activity.model_copy(
        update={
            "as_of": as_of,
            "history_start": cutoff,
            "n_events": activity.n_events + len(new),
            "first_seen": first_seen,
            "last_seen": last_seen,
            "counts_by_type": dict(sorted(counts_t.items())),
            "counts_by_channel": dict(sorted(counts_c.items())),
            "last_seen_by_type": dict(sorted(last_t.items())),
            "last_seen_by_channel": dict(sorted(last_c.items())),
            "value_by_type": dict(sorted(values.items())),
            "interest": dict(sorted(interest.items())),
            "intent_mass": intent,
            "recent_events": tuple(merged[start:]),
        }
    )


def per_call(fn, calls: int) -> float:
    # CPU time of this process: the figures hold up on a machine shared with other work
    timer = timeit.Timer(fn, timer=time.process_time)
    return min(timer.repeat(number=calls, repeat=5)) / calls * 1e6


def main() -> None:
    top = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rng = random.Random(5)
    cfg = ActivityConfig()
    prior, _ = apply(
        Profile(profile_id="p"),
        make_events(50, "h", rng, AS_OF - dt.timedelta(days=1)),
        as_of=AS_OF - dt.timedelta(days=1),
    )
    print("Record face: new events folded into one profile, microseconds per call")
    print(f"{'events':>7} {'profile':>9} {'loop':>9} {'kernel':>9} {'ratio':>6} {'apply':>9}")
    for n in (1, 10, top):
        new = make_events(n, "n", rng)
        ordered = sorted(new, key=lambda e: (e.timestamp, e.event_id))
        calls = max(5, 2000 // n)
        for label, profile in (("fresh", Profile(profile_id="p")), ("50 prior", prior)):
            act = profile.activity
            ours = _fold(act, ordered, AS_OF, cfg)
            theirs = loop_fold(act, ordered, AS_OF, cfg)
            same = ours.model_copy(
                update={"interest": theirs.interest, "intent_mass": theirs.intent_mass}
            )
            assert same == theirs
            assert all(abs(ours.interest[k] - v) <= 1e-12 * v for k, v in theirs.interest.items())
            t_loop = per_call(lambda a=act, o=ordered: loop_fold(a, o, AS_OF, cfg), calls)
            t_kernel = per_call(lambda a=act, o=ordered: _fold(a, o, AS_OF, cfg), calls)
            t_apply = per_call(lambda p=profile, e=new: apply(p, e, as_of=AS_OF), calls)
            print(
                f"{n:>7,} {label:>9} {t_loop:9.1f} {t_kernel:9.1f} {t_loop / t_kernel:6.2f} "
                f"{t_apply:9.1f}"
            )


if __name__ == "__main__":
    main()
