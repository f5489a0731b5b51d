"""Hypothesis strategies shared by the rules tests.

``any_rule``: arbitrary valid rules (odd field names, escapes, unicode, extreme numbers, dates,
aware datetimes) for the text and JSON round trips.

``typed_case``: a rule over a fixed schema plus matching rows with nulls, for the
record-face == table-face property.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from clientmodel.rules import (
    And,
    Between,
    Compare,
    EventAggregate,
    HasAllTags,
    HasAnyTags,
    HasTag,
    InList,
    IsNull,
    Not,
    Or,
    RelativeWindow,
    StringTest,
    Within,
)
from clientmodel.rules.nodes import INT_MAX, INT_MIN

UTC = dt.timezone.utc
OPS = ("=", "!=", "<", "<=", ">", ">=")
UNITS = ("D", "W", "M", "Q", "Y")
ZONES = (
    UTC,
    dt.timezone(dt.timedelta(hours=5, minutes=30)),
    dt.timezone(-dt.timedelta(hours=8)),
)

# ---------------------------------------------------------------------------------- round trips


def _field_ok(name: str) -> bool:
    return "`" not in name and name == name.strip()


field_names = st.one_of(
    st.sampled_from(
        ["r", "frequency", "last_purchase", "tags", "events", "m.score", "a.b.c", "count", "sum"]
    ),
    st.sampled_from(["and", "OR", "in", "not", "is", "null", "true", "has", "where", "Between"]),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}(\.[A-Za-z_][A-Za-z0-9_]{0,5}){0,2}", fullmatch=True),
    st.text(
        st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="`"),
        min_size=1,
        max_size=12,
    ),
).filter(_field_ok)
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
numbers = st.one_of(
    st.integers(INT_MIN, INT_MAX),
    st.integers(-10, 10),
    st.floats(allow_nan=False, allow_infinity=False),
)
temporals = st.one_of(
    st.dates(),
    st.datetimes(
        min_value=dt.datetime(1, 1, 2),
        max_value=dt.datetime(9999, 12, 30),
        timezones=st.sampled_from(ZONES),
    ),
)
literals = st.one_of(st.booleans(), numbers, texts, temporals)


def _same_kind(kind: str):
    return {
        "boolean": st.booleans(),
        "number": numbers,
        "string": texts,
        "temporal": temporals,
    }[kind]


kinds = st.sampled_from(["boolean", "number", "string", "temporal"])
windows = st.builds(
    RelativeWindow,
    direction=st.sampled_from(["last", "next", "older"]),
    amount=st.integers(0, 100_000),
    unit=st.sampled_from(UNITS),
)


@st.composite
def _in_list(draw):
    kind = draw(kinds)
    values = draw(st.lists(_same_kind(kind), min_size=1, max_size=4))
    return InList(field=draw(field_names), values=tuple(values), negate=draw(st.booleans()))


@st.composite
def _between(draw):
    kind = draw(kinds)
    low, high = draw(_same_kind(kind)), draw(_same_kind(kind))
    return Between(field=draw(field_names), low=low, high=high)


@st.composite
def _within(draw):
    w = draw(windows)
    return Within(field=draw(field_names), direction=w.direction, amount=w.amount, unit=w.unit)


tag_lists = st.lists(texts, min_size=1, max_size=3).map(tuple)
tag_fields = st.one_of(st.just("tags"), field_names)
leaves = st.one_of(
    st.builds(Compare, field=field_names, op=st.sampled_from(OPS), value=literals),
    _in_list(),
    _between(),
    st.builds(IsNull, field=field_names, negate=st.booleans()),
    st.builds(
        StringTest,
        field=field_names,
        op=st.sampled_from(["contains", "starts_with", "ends_with"]),
        value=texts,
    ),
    st.builds(HasTag, field=tag_fields, tag=texts),
    st.builds(HasAnyTags, field=tag_fields, tags=tag_lists),
    st.builds(HasAllTags, field=tag_fields, tags=tag_lists),
    _within(),
)


def _combine(children):
    return st.one_of(
        st.lists(children, min_size=2, max_size=3).map(lambda rs: And(rules=tuple(rs))),
        st.lists(children, min_size=2, max_size=3).map(lambda rs: Or(rules=tuple(rs))),
        children.map(lambda r: Not(rule=r)),
    )


plain_rules = st.recursive(leaves, _combine, max_leaves=6)


@st.composite
def _aggregate(draw):
    func = draw(st.sampled_from(["count", "sum"]))
    return EventAggregate(
        func=func,
        field=draw(st.one_of(st.just("events"), field_names)),
        value_field=draw(field_names) if func == "sum" else None,
        where=draw(st.none() | plain_rules),
        window=draw(st.none() | windows),
        time_field=draw(st.one_of(st.just("timestamp"), field_names)),
        op=draw(st.sampled_from(OPS)),
        value=draw(st.one_of(st.integers(-5, 10**6), st.floats(-1e6, 1e6))),
    )


any_rule = st.recursive(st.one_of(leaves, _aggregate()), _combine, max_leaves=8)

# ---------------------------------------------------------------------------------- typed cases

AS_OF_BASE = dt.date(2024, 3, 15)
TAGS = ("vip", "new", "gold")
TYPES = ("view", "purchase", "Click")


def _day(offset: int) -> dt.date:
    return AS_OF_BASE + dt.timedelta(days=offset)


def _moment(offset_hours: int) -> dt.datetime:
    return dt.datetime(2024, 3, 15, 12, tzinfo=UTC) + dt.timedelta(hours=offset_hours)


small_ints = st.integers(-4, 4)
small_floats = st.sampled_from([-2.5, -1.0, 0.0, 0.5, 1.0, 2.0, 2.5])
short_texts = st.sampled_from(["", "a", "ab", "abc", "b", "Ab", "ba", "é"])
near_days = st.integers(-70, 70).map(_day)
near_moments = st.integers(-70 * 24, 70 * 24).map(_moment)
typed_windows = st.builds(
    RelativeWindow,
    direction=st.sampled_from(["last", "next", "older"]),
    amount=st.integers(0, 45),
    unit=st.sampled_from(["D", "W", "M"]),
)


@st.composite
def _typed_leaf(draw, event: bool = False):
    """A leaf over the fixed schema (or over one event's fields when ``event``)."""
    if event:
        field = draw(st.sampled_from(["type", "value", "timestamp"]))
    else:
        field = draw(st.sampled_from(["n", "x", "s", "b", "d", "t", "tags"]))
    if draw(st.integers(0, 9)) == 0:
        return IsNull(field=field, negate=draw(st.booleans()))
    if field in ("n", "x", "value"):
        lit = small_floats if field in ("x",) else st.one_of(small_ints, small_floats)
        choice = draw(st.integers(0, 2))
        if choice == 0:
            return Compare(field=field, op=draw(st.sampled_from(OPS)), value=draw(lit))
        if choice == 1:
            values = draw(st.lists(lit, min_size=1, max_size=3))
            return InList(field=field, values=tuple(values), negate=draw(st.booleans()))
        return Between(field=field, low=draw(lit), high=draw(lit))
    if field in ("s", "type"):
        lit = short_texts if field == "s" else st.sampled_from([*TYPES, "x"])
        choice = draw(st.integers(0, 2))
        if choice == 0:
            return Compare(field=field, op=draw(st.sampled_from(OPS)), value=draw(lit))
        if choice == 1:
            values = draw(st.lists(lit, min_size=1, max_size=3))
            return InList(field=field, values=tuple(values), negate=draw(st.booleans()))
        op = draw(st.sampled_from(["contains", "starts_with", "ends_with"]))
        return StringTest(field=field, op=op, value=draw(short_texts))
    if field == "b":
        return Compare(
            field=field, op=draw(st.sampled_from(["=", "!="])), value=draw(st.booleans())
        )
    if field == "tags":
        tags = tuple(draw(st.lists(st.sampled_from(TAGS), min_size=1, max_size=2)))
        cls = draw(st.sampled_from([HasTag, HasAnyTags, HasAllTags]))
        return HasTag(tag=tags[0]) if cls is HasTag else cls(tags=tags)
    # d, t, timestamp: comparisons with dates or datetimes, betweens and windows
    choice = draw(st.integers(0, 2))
    if choice == 0:
        w = draw(typed_windows)
        return Within(field=field, direction=w.direction, amount=w.amount, unit=w.unit)
    lit = st.one_of(near_days, near_moments)
    if choice == 1:
        return Compare(field=field, op=draw(st.sampled_from(OPS)), value=draw(lit))
    kind_day = draw(st.booleans())
    lit = near_days if kind_day else near_moments
    return Between(field=field, low=draw(lit), high=draw(lit))


def _typed_combine(children):
    return st.one_of(
        st.lists(children, min_size=2, max_size=3).map(lambda rs: And(rules=tuple(rs))),
        st.lists(children, min_size=2, max_size=3).map(lambda rs: Or(rules=tuple(rs))),
        children.map(lambda r: Not(rule=r)),
    )


event_filters = st.recursive(_typed_leaf(event=True), _typed_combine, max_leaves=3)


@st.composite
def _typed_aggregate(draw):
    func = draw(st.sampled_from(["count", "sum"]))
    return EventAggregate(
        func=func,
        value_field="value" if func == "sum" else None,
        where=draw(st.none() | event_filters),
        window=draw(st.none() | typed_windows),
        op=draw(st.sampled_from(OPS)),
        value=draw(st.integers(0, 3) if func == "count" else small_floats),
    )


typed_rules = st.recursive(
    st.one_of(_typed_leaf(), _typed_leaf(), _typed_aggregate()), _typed_combine, max_leaves=5
)


@st.composite
def _event(draw):
    if draw(st.integers(0, 12)) == 0:
        return None
    return {
        "type": draw(st.none() | st.sampled_from(TYPES)),
        "value": draw(st.none() | small_floats),
        "timestamp": draw(st.none() | near_moments),
    }


def _maybe(strategy):
    return st.one_of(st.none(), strategy, strategy, strategy)


@st.composite
def typed_row(draw):
    x = draw(st.one_of(st.none(), st.just(float("nan")), small_floats, small_floats))
    return {
        "n": draw(_maybe(small_ints)),
        "x": x,
        "s": draw(_maybe(short_texts)),
        "b": draw(_maybe(st.booleans())),
        "d": draw(_maybe(near_days)),
        "t": draw(_maybe(near_moments)),
        "tags": draw(_maybe(st.lists(st.sampled_from(TAGS), max_size=3))),
        "events": draw(_maybe(st.lists(_event(), max_size=4))),
    }


typed_as_of = st.one_of(near_days, near_moments)
