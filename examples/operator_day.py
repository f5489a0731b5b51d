"""A private-domain operator's day, end to end, on the synthetic consumer base.

1. Newcomers scan channel codes (live QR codes): each gets the code's tags and a staff member
   chosen by the code's strategy, with daily limits and spare staff; an expired code is refused.
2. Every consumer's events are folded into their profile: counters, interest per topic, intent,
   and tags from rules (interest fans, lifecycle, tier) -- then the same on the whole event table,
   which must agree.
3. Today's follow-up list: the hottest consumers per staff member, and a channel they agreed to.
4. A staff member leaves: their customers are reassigned (existing relationship, team, load).
5. Two profiles turn out to be one person: they are merged, and a consent disagreement is shown.
6. What each acquisition channel brought in, and a redacted export.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import numpy as np

from clientmodel.datasets.consumers import TOPICS, make_consumers
from clientmodel.errors import DataError
from clientmodel.profile import (
    AssignmentState,
    Event,
    apply,
    can_contact,
    fold_events,
    join_via_code,
    merge_profiles,
    reassign,
    redact,
    set_consent,
    sources_table,
    start_relationship,
    transfer,
)
from clientmodel.segments import acquisition_value

RULES = {
    # interest fans: content about a topic at least 4 times in 30 days
    **{
        f"fan_{t}": f'count(events where topic = "{t}" and type != "message") '
        "within last 30 days >= 4"
        for t in TOPICS
    },
    "high_intent": "intent >= 0.6",
    # lifecycle (exclusive group: the first rule that holds wins)
    "new": "first_seen within last 14 days",
    "active": "last_seen within last 14 days",
    "at_risk": "last_seen older than 30 days",
    # tier (exclusive): spend over the last 3 months
    "vip": 'sum(events.value where type = "purchase") within last 3 months >= 600',
    "gold": 'sum(events.value where type = "purchase") within last 3 months >= 250',
}


def main() -> None:
    data = make_consumers(300, seed=2024)
    as_of = data.as_of
    codes = {c.code_id: c for c in data.codes}
    events = data.event_records()
    by_person: dict[str, list[Event]] = defaultdict(list)
    for e in events:
        by_person[str(e.profile_id)].append(e)
    print(f"{len(data.profiles)} consumers, {len(events)} events, as of {as_of:%Y-%m-%d}")

    # 1. joins through channel codes, in time order
    profiles = {p.profile_id: p for p in data.profiles}
    states = {c: AssignmentState(code_id=c) for c in codes}
    spare = Counter()
    for e in events:
        if e.type != "scan_code" or e.channel_code is None:
            continue
        joined = join_via_code(
            profiles[e.profile_id],
            e,
            codes[e.channel_code],
            states[e.channel_code],
            catalog=data.catalog,
        )
        profiles[e.profile_id] = joined.profile
        states[e.channel_code] = joined.state
        spare[e.channel_code] += joined.spare
    # organic newcomers wrote to us first: the least-loaded pool member adds them back
    owners = Counter(s for p in profiles.values() for s in p.owners)
    pool = [s.staff_id for s in data.staff if s.team is not None]
    for pid, p in profiles.items():
        if not p.owners:
            staff_id = min(pool, key=lambda s: (owners[s], s))
            first = by_person[pid][0]
            profiles[pid] = start_relationship(p, staff_id, at=first.timestamp, how="search")
            owners[staff_id] += 1
    print("\n1. Channel-code joins")
    for code_id, state in states.items():
        print(
            f"  {code_id:<15} newcomers {sum(state.totals.values()):4d}   "
            f"to spare staff {spare[code_id]:3d}   by staff {dict(state.totals)}"
        )
    print(f"  customers per staff member: {dict(sorted(owners.items()))}")
    late = Event(
        event_id="late-scan",
        type="scan_code",
        channel="wecom",
        timestamp=as_of,
        channel_code="livestream",
    )
    try:
        join_via_code(data.profiles[0], late, codes["livestream"], states["livestream"])
    except DataError as err:
        print(f"  refused: {err.message[:90]}...")

    # 2. fold the events (record face), then the same on the whole table
    changes = Counter()
    for pid, p in profiles.items():
        profiles[pid], ch = apply(p, by_person[pid], as_of=as_of, rules=RULES, catalog=data.catalog)
        changes.update(c.action for c in ch)
    tags = Counter(t for p in profiles.values() for t in p.tag_ids)
    print("\n2. Folded events; tags from rules:", dict(changes))
    print("  " + ", ".join(f"{t} {n}" for t, n in sorted(tags.items())))
    folded = fold_events(
        data.events_table("polars"), as_of=as_of, rules=RULES, catalog=data.catalog
    )
    table_tags = set(zip(folded.tags["profile_id"], folded.tags["tag"], strict=True))
    record_tags = {(pid, t) for pid, p in profiles.items() for t in p.tag_ids if t in RULES}
    print(
        f"  table face: {folded.profiles.height} profiles, {folded.interest.height} "
        f"(profile, topic) scores, rule tags identical to the record face: "
        f"{table_tags == record_tags}"
    )
    truth = dict(zip(data.truth["person_id"], data.truth["favourite_topic"], strict=True))
    top = dict(zip(folded.profiles["profile_id"], folded.profiles["top_topic"], strict=True))
    hits = np.mean([top[p] == truth[p] for p in top if top[p] is not None])
    print(f"  top interest topic = the topic each consumer was drawn to prefer: {hits:.0%}")

    # 3. today's follow-up list
    print("\n3. Follow-up list (highest intent first, with a channel they agreed to)")
    hot = sorted(profiles.values(), key=lambda p: -p.activity.intent)[:6]
    for p in hot:
        channels = [c for c in ("wecom", "sms", "email") if can_contact(p, c, as_of)]
        interest = max(p.activity.interest.items(), key=lambda kv: kv[1], default=("-", 0.0))
        print(
            f"  {p.profile_id}  owner {','.join(p.owners) or '-':<5} intent "
            f"{p.activity.intent:.2f}  likes {interest[0]:<10} contact via "
            f"{', '.join(channels) or 'nobody (no consent)'}"
        )

    # 4. a staff member leaves
    leaver = owners.most_common(1)[0][0]
    plan = reassign(profiles.values(), leaver, data.staff)
    reasons = Counter(m.reason for m in plan.moves)
    for m in plan.moves:
        profiles[m.profile_id] = transfer(profiles[m.profile_id], m, at=as_of)
    orphans = [p for p in profiles.values() if p.relationships and not p.owners]
    print(
        f"\n4. {leaver} leaves: {len(plan.moves)} customers reassigned {dict(reasons)}; "
        f"receivers {dict(Counter(m.to_staff for m in plan.moves))}; "
        f"customers left without an owner: {len(orphans)}"
    )

    # 5. two profiles of one person (say identity resolution matched their phone numbers)
    a, b = list(profiles)[:2]
    pa = set_consent(profiles[a], "sms", "granted", at=as_of - dt.timedelta(days=3))
    pb = set_consent(profiles[b], "sms", "denied", at=as_of - dt.timedelta(days=1))
    merged = merge_profiles([pa, pb], strategies={"city": "latest"}, catalog=data.catalog)
    m = merged.profile
    print(f"\n5. Merged {a} + {b}: {m.activity.n_events} events, tags {sorted(m.tag_ids)}")
    for c in merged.conflicts:
        kept = f" (kept {c.kept})" if c.kept else ""
        print(f"  conflict kept visible: {c.kind} {c.key} {c.values}{kept}")
    print(f"  may we text them? {can_contact(m, 'sms', as_of)}")

    # 6. what each channel brought in, and a safe export
    purchases = data.events
    buy = purchases["type"] == "purchase"
    tx = {
        "customer_id": purchases["profile_id"][buy],
        "timestamp": purchases["timestamp"][buy],
        "amount": purchases["value"][buy],
    }
    value = acquisition_value(
        tx,
        sources_table(profiles.values()),
        as_of=as_of.date(),
        tz="UTC",
        costs={
            "store_poster": 800.0,
            "livestream": 1500.0,
            "package_insert": 300.0,
            "spring_fair": 2000.0,
        },
    )
    print("\n6. Acquisition value by first-touch source")
    for i, src in enumerate(value["source"].tolist()):
        roi = value["roi"][i]
        print(
            f"  {src:<15} customers {int(value['customers'][i]):4d}  revenue "
            f"{value['revenue'][i]:9.2f}  ROI {'-' if roi != roi else f'{roi:6.2f}'}"
        )
    export = redact(profiles[a])
    print(
        f"  redacted export of {a}: identifiers {len(export.identifiers)}, traits "
        f"{sorted(export.traits)}, {len(export.model_dump_json())} bytes of JSON"
    )


if __name__ == "__main__":
    main()
