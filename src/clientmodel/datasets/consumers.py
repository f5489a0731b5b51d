"""A private-domain consumer base with known truth: people, identifiers, events, codes and staff.

The story behind :func:`make_consumers`:

* a team of staff members in two teams (``north``, ``south``) and one spare (``lead``);
* four channel codes (live QR codes): a store poster (round-robin, daily limit), a livestream
  (least-loaded, expired before the end of the window), a package insert (weighted pool) and a
  two-week spring fair with a campaign label, whose visitors join in a burst over its first days
  (more than the pool's daily limit: the spare staff member takes the overflow);
* every consumer joins once -- through a code that is valid at that moment (a ``scan_code``
  event on ``wecom`` carrying the code) or organically (a first ``message``);
* after joining, each consumer acts as a Poisson process with their own rate (``Gamma(1.5,
  0.3)`` events per day): views, clicks, likes, comments, shares, add-to-carts, purchases and
  messages. Content events carry a topic drawn from the consumer's own preferences
  (``Dirichlet(0.3)`` over eight topics); one in five carries a second topic (a second row with
  the same ``event_id``). Purchases carry a value (``Gamma(2, 80)``);
* identifiers come from four systems (CRM, mini-program, WeCom, web), one record per system the
  consumer uses, with realistic mess: phone numbers in national and international spellings,
  upper-case emails, placeholder values (``"null"``, all-zero device ids) and a few devices
  shared by two people (a family tablet).

``truth`` tells what the data was drawn from (favourite topic, activity rate, who is who behind
every identifier record), so interest scores and identity resolution can be checked against it.

Timestamps
----------
Every time is UTC. In the numpy columns (``events``, ``identifiers`` and the ``"dict"`` tables)
they are *naive* ``datetime64[us]`` wall-clock UTC values, because numpy has no timezones: table
functions refuse naive times unless told their timezone, so pass ``tz="UTC"`` with them
(``fold_events(d.events, as_of=d.as_of, tz="UTC")``). The ``"pandas"`` and ``"polars"`` tables
and the :class:`~clientmodel.profile.models.Event` records carry the UTC timezone themselves and
need no ``tz``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from clientmodel._validation import boundary, check_integer, check_seed
from clientmodel.errors import ArgumentError
from clientmodel.profile.models import (
    ChannelCode,
    Consent,
    Event,
    PoolMember,
    Profile,
    TagCatalog,
    TagGroup,
    Trait,
)
from clientmodel.profile.ownership import StaffMember

__all__ = ["TOPICS", "ConsumerDataset", "make_consumers"]

#: Content topics of the synthetic brand.
TOPICS: tuple[str, ...] = (
    "skincare",
    "makeup",
    "fragrance",
    "baby",
    "tea",
    "fitness",
    "golf",
    "travel",
)
_TYPES = ("view", "click", "like", "comment", "share", "add_to_cart", "purchase", "message")
_TYPE_P = np.array([0.50, 0.20, 0.08, 0.04, 0.03, 0.07, 0.03, 0.05])
_CONTENT_CHANNELS = ("mini_program", "app", "web", "wechat")
_SHOP_CHANNELS = ("mini_program", "app", "store")
_CITIES = ("Shanghai", "Hangzhou", "Shenzhen", "Chengdu", "Beijing", "Wuhan")
_AGES = ("18-24", "25-34", "35-44", "45+")
_US_PER_DAY = 86_400_000_000
_FRAMES = ("dict", "pandas", "polars")


@attrs.frozen(eq=False)
class ConsumerDataset:
    """What :func:`make_consumers` draws.

    Attributes
    ----------
    as_of:
        End of the observation window (UTC); every event is at or before it.
    profiles:
        One bare :class:`~clientmodel.profile.models.Profile` per consumer (``profile_id`` =
        consumer id) with identifiers, traits (``city``, ``age_band``, ``nickname``) and consent;
        no events folded yet, no staff relationship yet.
    staff:
        The staff members (pool staff in two teams, plus the spare ``lead``).
    codes:
        The channel codes.
    catalog:
        Tag groups: ``source`` (open), ``lifecycle`` and ``tier`` (exclusive), ``interest`` (open).
    events:
        The event table as numpy columns: ``profile_id``, ``event_id``, ``type``, ``channel``,
        ``timestamp`` (naive ``datetime64[us]`` in UTC: pass ``tz="UTC"``), ``topic``
        (``None`` when none), ``value`` (``NaN`` when none), ``channel_code`` and ``campaign``
        (``None`` when none). One row per (event, topic).
    identifiers:
        The identifier records in long form: ``record_id``, ``kind``, ``value``, ``scope``,
        ``timestamp`` (naive ``datetime64[us]`` in UTC, as in ``events``) and the truth
        ``person_id``.
    truth:
        ``person_id``, ``favourite_topic``, ``rate`` (events per day) and ``joined_via``.

    Examples
    --------
    >>> d = make_consumers(30, seed=3)
    >>> [c.code_id for c in d.codes]
    ['store_poster', 'livestream', 'package_insert', 'spring_fair']
    >>> sorted(d.truth)
    ['favourite_topic', 'joined_via', 'person_id', 'rate']
    """

    as_of: dt.datetime
    profiles: tuple[Profile, ...]
    staff: tuple[StaffMember, ...]
    codes: tuple[ChannelCode, ...]
    catalog: TagCatalog
    events: dict[str, NDArray[Any]]
    identifiers: dict[str, NDArray[Any]]
    truth: dict[str, NDArray[Any]]

    @boundary
    def events_table(self, frame: Literal["dict", "pandas", "polars"] = "dict") -> Any:
        """The events as a table.

        ``"dict"``: the numpy columns of ``events``, timestamps naive UTC -- pass ``tz="UTC"``
        to the function reading them; ``"pandas"`` / ``"polars"``: timestamps timezone-aware
        UTC, missing values null.

        Examples
        --------
        >>> from clientmodel.profile import fold_events
        >>> d = make_consumers(20, seed=1)
        >>> sorted(d.events_table())[:3]
        ['campaign', 'channel', 'channel_code']
        >>> folded = fold_events(d.events_table(), as_of=d.as_of, tz="UTC")  # naive UTC
        >>> folded = fold_events(d.events_table("polars"), as_of=d.as_of)  # aware: no tz
        """
        return _frame(self.events, frame, time="timestamp")

    @boundary
    def identifiers_table(self, frame: Literal["dict", "pandas", "polars"] = "dict") -> Any:
        """The identifier records as a table (see :meth:`events_table` for ``frame``).

        Examples
        --------
        >>> d = make_consumers(20, seed=1)
        >>> sorted(set(d.identifiers_table()["kind"].tolist()))[:2]
        ['cookie_id', 'device_id']
        """
        return _frame(self.identifiers, frame, time="timestamp")

    @boundary
    def event_records(self, profile_id: str | None = None) -> list[Event]:
        """The events as :class:`~clientmodel.profile.models.Event` records (topics gathered
        per event), for one consumer or for all, in time order.

        Examples
        --------
        >>> d = make_consumers(20, seed=1)
        >>> first = d.profiles[0].profile_id
        >>> all(e.profile_id == first for e in d.event_records(first))
        True
        """
        ev = self.events
        rows = (
            np.arange(len(ev["event_id"]))
            if profile_id is None
            else np.flatnonzero(ev["profile_id"] == profile_id)
        )
        grouped: dict[str, dict[str, Any]] = {}
        for r in rows.tolist():
            eid = str(ev["event_id"][r])
            item = grouped.get(eid)
            if item is None:
                value = float(ev["value"][r])
                stamp = ev["timestamp"][r].astype("datetime64[us]").item()
                item = {
                    "event_id": eid,
                    "profile_id": str(ev["profile_id"][r]),
                    "type": str(ev["type"][r]),
                    "channel": str(ev["channel"][r]),
                    "timestamp": stamp.replace(tzinfo=dt.timezone.utc),
                    "topics": [],
                    "value": None if np.isnan(value) else round(value, 2),
                    "channel_code": ev["channel_code"][r],
                    "campaign": ev["campaign"][r],
                }
                grouped[eid] = item
            if ev["topic"][r] is not None:
                item["topics"].append(ev["topic"][r])
        out = [Event.model_validate(item) for item in grouped.values()]
        return sorted(out, key=lambda e: (e.timestamp, e.event_id))


def _frame(columns: dict[str, NDArray[Any]], frame: str, *, time: str) -> Any:
    if frame == "dict":
        return dict(columns)
    if frame == "pandas":
        import pandas as pd

        out = pd.DataFrame(columns)
        out[time] = out[time].dt.tz_localize("UTC")
        return out
    if frame == "polars":
        import polars as pl

        out = pl.DataFrame(
            {k: list(v) if v.dtype == object else v for k, v in columns.items()}
        ).with_columns(pl.col(time).dt.replace_time_zone("UTC"))
        floats = [k for k, v in columns.items() if v.dtype.kind == "f"]
        return out.with_columns(pl.col(floats).fill_nan(None)) if floats else out
    raise ArgumentError(f"frame={frame!r}; use one of {list(_FRAMES)}", field="frame")


def _staff(n_staff: int) -> tuple[StaffMember, ...]:
    members = [
        StaffMember(staff_id=f"s{i + 1:02d}", team="north" if i % 2 == 0 else "south")
        for i in range(n_staff)
    ]
    return (*members, StaffMember(staff_id="lead", team=None))


def _codes(
    staff: tuple[StaffMember, ...], start: dt.datetime, end: dt.datetime
) -> tuple[ChannelCode, ...]:
    pool = [s.staff_id for s in staff if s.team is not None]
    half = max(1, len(pool) // 2)
    span = end - start
    fair_start = start + span * 0.3
    return (
        ChannelCode(
            code_id="store_poster",
            name="Store poster",
            tags=("src_store",),
            staff=tuple(pool[:half]),
            strategy="round_robin",
            daily_limit=6,
            spare_staff=("lead",),
        ),
        ChannelCode(
            code_id="livestream",
            name="Livestream",
            tags=("src_live",),
            staff=tuple(pool[half:] or pool),
            strategy="least_loaded",
            daily_limit=8,
            spare_staff=("lead",),
            valid_until=start + span * 0.5,
        ),
        ChannelCode(
            code_id="package_insert",
            name="Package insert",
            tags=("src_package",),
            staff=tuple(
                PoolMember(staff_id=s, weight=2 if i == 0 else 1) for i, s in enumerate(pool[::2])
            ),
            strategy="weighted",
        ),
        ChannelCode(
            code_id="spring_fair",
            name="Spring fair",
            campaign="spring_fair",
            tags=("src_fair",),
            staff=tuple(pool[1::2] or pool),
            daily_limit=4,
            spare_staff=("lead",),
            valid_from=fair_start,
            valid_until=fair_start + dt.timedelta(days=14),
        ),
    )


def _catalog() -> TagCatalog:
    return TagCatalog(
        groups=(
            TagGroup(
                group_id="source",
                name="Acquisition source",
                tags=("src_store", "src_live", "src_package", "src_fair"),
            ),
            TagGroup(
                group_id="lifecycle",
                name="Lifecycle",
                exclusive=True,
                tags=("new", "active", "at_risk"),
            ),
            TagGroup(group_id="tier", name="Tier", exclusive=True, tags=("silver", "gold", "vip")),
            TagGroup(
                group_id="interest",
                name="Interests",
                tags=(*(f"fan_{t}" for t in TOPICS), "high_intent"),
            ),
        )
    )


@boundary
def make_consumers(
    n_consumers: int = 500,
    *,
    seed: int | np.random.Generator | None = None,
    start: dt.date = dt.date(2024, 3, 1),
    days: int = 120,
    n_staff: int = 8,
) -> ConsumerDataset:
    """Draw a consumer base: profiles, identifiers, events, channel codes and staff.

    Parameters
    ----------
    n_consumers:
        Consumers to draw (ids ``c00001``, ...).
    seed:
        Seed or generator; the same seed gives the same data.
    start:
        First day of the window (UTC midnight); the window lasts ``days`` days and ``as_of`` is
        its end.
    days:
        Length of the window (at least 30).
    n_staff:
        Pool staff members (at least 2), alternately in teams ``north`` and ``south``; the spare
        ``lead`` comes on top.

    Examples
    --------
    >>> d = make_consumers(50, seed=7)
    >>> len(d.profiles), d.as_of.isoformat()
    (50, '2024-06-29T00:00:00+00:00')
    >>> bool((d.events["timestamp"] <= np.datetime64("2024-06-29")).all())
    True
    """
    n_consumers = check_integer(n_consumers, "n_consumers", minimum=1, maximum=10_000_000)
    days = check_integer(days, "days", minimum=30, maximum=36_525)
    n_staff = check_integer(n_staff, "n_staff", minimum=2, maximum=100_000)
    if not isinstance(start, dt.date):
        raise ArgumentError(f"start must be a date, got {start!r}", field="start")
    rng = check_seed(seed)
    t0 = dt.datetime(start.year, start.month, start.day, tzinfo=dt.timezone.utc)
    end = t0 + dt.timedelta(days=days)
    staff = _staff(n_staff)
    codes = _codes(staff, t0, end)
    width = max(5, len(str(n_consumers)))
    pids = np.array([f"c{i + 1:0{width}d}" for i in range(n_consumers)], dtype=object)

    # ---- who they are
    prefs = rng.dirichlet(np.full(len(TOPICS), 0.3), n_consumers)
    rate = rng.gamma(1.5, 0.3, n_consumers)
    join_us = rng.uniform(0, 0.6 * days * _US_PER_DAY, n_consumers).astype(np.int64)
    t0_us = np.datetime64(t0.replace(tzinfo=None), "us").astype(np.int64)
    join_abs = t0_us + join_us
    code_p = np.array([0.35, 0.2, 0.15, 0.15, 0.15])  # 4 codes, then organic
    choice = rng.choice(len(code_p), size=n_consumers, p=code_p)
    # fair-goers join in a burst over the fair's first days (daily limits overflow to spare staff)
    fair = codes[3]
    assert fair.valid_from is not None
    fair_us = np.datetime64(fair.valid_from.replace(tzinfo=None), "us").astype(np.int64)
    burst = np.minimum(rng.exponential(1.5, n_consumers), 13.5) * _US_PER_DAY
    join_abs = np.where(choice == 3, fair_us + burst.astype(np.int64), join_abs)
    joined_via = np.empty(n_consumers, dtype=object)
    for i in range(n_consumers):
        k = int(choice[i])
        when = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(
            microseconds=int(join_abs[i])
        )
        if k < len(codes) and not codes[k].is_valid_at(when):
            k = 0
        joined_via[i] = codes[k].code_id if k < len(codes) else None

    # ---- events: a Poisson process after joining
    span_days = (t0_us + days * _US_PER_DAY - join_abs) / _US_PER_DAY
    counts = rng.poisson(rate * span_days)
    who = np.repeat(np.arange(n_consumers), counts)
    offs = rng.uniform(0, 1, len(who)) * span_days[who]
    times = join_abs[who] + (offs * _US_PER_DAY).astype(np.int64)
    times = (times // 1_000_000) * 1_000_000 + 1_000_000  # whole seconds, after the join
    times = np.minimum(times, t0_us + days * _US_PER_DAY)
    kinds = rng.choice(len(_TYPES), size=len(who), p=_TYPE_P)
    # the join itself
    who = np.concatenate([np.arange(n_consumers), who])
    times = np.concatenate([join_abs // 1_000_000 * 1_000_000, times])
    join_kind = np.where(joined_via == None, _TYPES.index("message"), -1)  # noqa: E711
    kinds = np.concatenate([join_kind, kinds])
    order = np.lexsort((kinds, times, who))
    who, times, kinds = who[order], times[order], kinds[order]
    n_events = len(who)
    is_join = kinds < 0
    type_names = np.array([*_TYPES, "scan_code"], dtype=object)
    types = type_names[np.where(is_join, len(_TYPES), kinds)]
    content = (kinds >= 0) & (kinds != _TYPES.index("message"))
    shop = (kinds == _TYPES.index("add_to_cart")) | (kinds == _TYPES.index("purchase"))
    channels = np.where(
        is_join | (kinds == _TYPES.index("message")),
        "wecom",
        np.where(
            shop,
            np.array(_SHOP_CHANNELS, dtype=object)[rng.integers(0, len(_SHOP_CHANNELS), n_events)],
            np.array(_CONTENT_CHANNELS, dtype=object)[
                rng.integers(0, len(_CONTENT_CHANNELS), n_events)
            ],
        ),
    ).astype(object)
    cum = np.cumsum(prefs, axis=1)
    u = rng.uniform(0, 1, n_events)
    topic_idx = np.minimum((cum[who] < u[:, None]).sum(axis=1), len(TOPICS) - 1)
    u2 = rng.uniform(0, 1, n_events)
    topic2_idx = np.minimum((cum[who] < u2[:, None]).sum(axis=1), len(TOPICS) - 1)
    second = content & (rng.uniform(0, 1, n_events) < 0.2) & (topic2_idx != topic_idx)
    topics_arr = np.array(TOPICS, dtype=object)
    value = np.where(
        kinds == _TYPES.index("purchase"), np.round(rng.gamma(2.0, 80.0, n_events), 2), np.nan
    )
    width_e = max(6, len(str(n_events)))
    eids = np.array([f"ev{i + 1:0{width_e}d}" for i in range(n_events)], dtype=object)
    code_col = np.full(n_events, None, dtype=object)
    code_col[is_join] = joined_via[who[is_join]]
    campaigns = {c.code_id: c.campaign for c in codes}
    camp_col = np.array(
        [campaigns.get(c) if c is not None else None for c in code_col], dtype=object
    )
    rows = np.concatenate([np.arange(n_events), np.flatnonzero(second)])
    rows.sort(kind="stable")
    dup = np.r_[False, rows[1:] == rows[:-1]]
    topic_col = np.full(len(rows), None, dtype=object)
    picked = topics_arr[np.where(dup, topic2_idx[rows], topic_idx[rows])]
    topic_col[content[rows]] = picked[content[rows]]
    events = {
        "profile_id": pids[who[rows]],
        "event_id": eids[rows],
        "type": types[rows].astype(object),
        "channel": channels[rows],
        "timestamp": times[rows].astype("datetime64[us]"),
        "topic": topic_col,
        "value": value[rows],
        "channel_code": code_col[rows],
        "campaign": camp_col[rows],
    }

    # ---- profiles: traits and consent
    cities = rng.integers(0, len(_CITIES), n_consumers)
    ages = rng.integers(0, len(_AGES), n_consumers)
    sms = rng.uniform(0, 1, n_consumers)
    mail = rng.uniform(0, 1, n_consumers)
    profiles = []
    for i in range(n_consumers):
        joined = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(
            microseconds=int(join_abs[i] // 1_000_000 * 1_000_000)
        )
        consent: dict[str, Consent] = {"wecom": Consent(status="granted", at=joined, source="join")}
        if sms[i] < 0.6:
            consent["sms"] = Consent(status="granted", at=joined, source="signup")
        elif sms[i] < 0.7:
            consent["sms"] = Consent(status="denied", at=joined, source="signup")
        if mail[i] < 0.3:
            consent["email"] = Consent(
                status="granted",
                at=joined,
                source="signup",
                expires_at=joined + dt.timedelta(days=365),
            )
        profiles.append(
            Profile(
                profile_id=str(pids[i]),
                traits={
                    "city": Trait(value=_CITIES[cities[i]], at=joined, source="signup"),
                    "age_band": Trait(value=_AGES[ages[i]], at=joined, source="signup"),
                    "nickname": Trait(value=f"user_{i + 1}", at=joined, source="wechat"),
                },
                consent=consent,
            )
        )

    identifiers = _identifiers(rng, pids, join_abs, n_consumers)
    truth = {
        "person_id": pids.copy(),
        "favourite_topic": topics_arr[np.argmax(prefs, axis=1)],
        "rate": rate,
        "joined_via": joined_via,
    }
    return ConsumerDataset(
        as_of=end,
        profiles=tuple(profiles),
        staff=staff,
        codes=codes,
        catalog=_catalog(),
        events=events,
        identifiers=identifiers,
        truth=truth,
    )


def _identifiers(
    rng: np.random.Generator, pids: NDArray[Any], join_abs: NDArray[np.int64], n: int
) -> dict[str, NDArray[Any]]:
    rec: list[str] = []
    kind: list[str] = []
    value: list[str] = []
    scope: list[str | None] = []
    when: list[int] = []
    person: list[str] = []
    has_mp = rng.uniform(0, 1, n) < 0.8
    shared = {}
    for i in range(0, n - 1, 2):
        if has_mp[i] and has_mp[i + 1] and rng.uniform() < 0.03:
            shared[i] = shared[i + 1] = f"dev-shared-{i:06d}"

    def add(record: str, i: int, k: str, v: str, s: str | None = None, lag: float = 0.0) -> None:
        rec.append(record)
        kind.append(k)
        value.append(v)
        scope.append(s)
        when.append(int(join_abs[i] + lag * _US_PER_DAY) // 1_000_000 * 1_000_000)
        person.append(str(pids[i]))

    for i in range(n):
        pid = str(pids[i])
        number = 13_800_000_000 + int(rng.integers(0, 99_999_999))
        phone = f"{number}"
        spelled = (
            f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}" if rng.uniform() < 0.5 else f"+86{phone}"
        )
        has_email = rng.uniform() < 0.4
        email = f"{pid}@example.com"
        # CRM record: phone, maybe member id and email
        add(f"crm-{pid}", i, "phone", spelled)
        if rng.uniform() < 0.5:
            member = "null" if rng.uniform() < 0.03 else f"M{i + 1:07d}"
            add(f"crm-{pid}", i, "member_id", member)
        if has_email:
            add(f"crm-{pid}", i, "email", email.upper() if rng.uniform() < 0.3 else email)
        # mini-program record
        if has_mp[i]:
            union = f"oU{rng.integers(0, 16**12):012x}"
            lag = float(rng.uniform(0, 20))
            add(
                f"mp-{pid}",
                i,
                "wechat_openid",
                f"oX{rng.integers(0, 16**12):012x}",
                "wxMiniApp",
                lag,
            )
            add(f"mp-{pid}", i, "wechat_unionid", union, None, lag)
            if rng.uniform() < 0.5:
                add(f"mp-{pid}", i, "phone", f"+86-{phone}", None, lag)
            device = shared.get(i) or (
                "00000000-0000-0000-0000-000000000000"
                if rng.uniform() < 0.02
                else f"dev-{rng.integers(0, 16**12):012x}"
            )
            add(f"mp-{pid}", i, "device_id", device, None, lag)
            # WeCom record: external user id with the same unionid
            add(f"wecom-{pid}", i, "wecom_external_userid", f"wm{rng.integers(0, 16**12):012x}")
            add(f"wecom-{pid}", i, "wechat_unionid", union)
        # web record
        if rng.uniform() < 0.5:
            lag = float(rng.uniform(0, 40))
            add(f"web-{pid}", i, "cookie_id", f"ck{rng.integers(0, 16**12):012x}", None, lag)
            if has_email:
                add(f"web-{pid}", i, "email", f"  {email} ", None, lag)
    return {
        "record_id": np.array(rec, dtype=object),
        "kind": np.array(kind, dtype=object),
        "value": np.array(value, dtype=object),
        "scope": np.array(scope, dtype=object),
        "timestamp": np.array(when, dtype=np.int64).astype("datetime64[us]"),
        "person_id": np.array(person, dtype=object),
    }
