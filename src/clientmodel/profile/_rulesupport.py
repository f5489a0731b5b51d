"""Tag rules on profiles: event aggregates are rewritten so that both faces compute them alike.

A profile rule such as ``count(events where type = "view" and topic = "skincare") within last 30
days >= 3 and intent > 0.5`` mixes a test over the profile's event history with tests over the
profile's own fields. Each event aggregate node is replaced by a comparison on a synthetic field
``__agg<k>``; the aggregate itself is computed by the profile code from an *event predicate*
(the aggregate's ``where`` filter and its window, as a rule over one event) that is evaluated by
:mod:`clientmodel.rules` on every (event, topic) entry -- record by record on the record face,
with ``rules.evaluate_table`` over the event table on the table face. An event matches when any
of its entries matches (an event with topics ``a`` and ``b`` is one event "where topic = a").
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from pydantic import BaseModel

from clientmodel import rules as rules_lang
from clientmodel.errors import ArgumentError, RuleError
from clientmodel.rules import nodes

AGG_PREFIX = "__agg"
#: The most days one calendar unit of a rule window spans.
_UNIT_MAX_DAYS = {"D": 1, "W": 7, "M": 31, "Q": 92, "Y": 366}


@attrs.frozen
class AggSpec:
    """One event aggregate of a rule, rewritten to ``<name> <op> <value>``."""

    name: str
    func: str
    value_field: str | None
    predicate: Any  # a Rule over one event, or None (every event)
    window: tuple[str, int, str] | None  # (direction, amount, unit) of the aggregate's window


@attrs.frozen
class PreparedRule:
    """A tag rule ready to evaluate: the rewritten rule, its aggregates and the fields it reads."""

    tag: str
    rule: Any
    aggregates: tuple[AggSpec, ...]
    fields: frozenset[str]


def _as_rule(rule: Any) -> Any:
    if isinstance(rule, str):
        return rules_lang.parse(rule)
    if isinstance(rule, BaseModel):
        return rule
    if isinstance(rule, Mapping):
        return nodes.rule_from_json(dict(rule))
    raise ArgumentError(
        f"a tag rule must be rule text, a clientmodel.rules rule or its JSON dict; got "
        f"{type(rule).__name__}",
        field="rules",
    )


def _rewrite(node: Any, aggs: list[AggSpec], n: Any) -> Any:
    if isinstance(node, (n.And, n.Or)):
        return node.model_copy(update={"rules": tuple(_rewrite(c, aggs, n) for c in node.rules)})
    if isinstance(node, n.Not):
        return node.model_copy(update={"rule": _rewrite(node.rule, aggs, n)})
    if isinstance(node, n.EventAggregate):
        if node.field != "events":
            raise RuleError(
                f"profile tag rules aggregate over the profile's 'events', not {node.field!r}",
                field=node.field,
            )
        parts = []
        w = node.window
        if w is not None:
            parts.append(
                n.Within(field=node.time_field, direction=w.direction, amount=w.amount, unit=w.unit)
            )
        if node.where is not None:
            parts.append(node.where)
        predicate = None if not parts else parts[0] if len(parts) == 1 else n.And(rules=parts)
        name = f"{AGG_PREFIX}{len(aggs)}"
        window = None if node.window is None else (w.direction, w.amount, w.unit)
        aggs.append(AggSpec(name, node.func, node.value_field, predicate, window))
        return n.Compare(field=name, op=node.op, value=node.value)
    return node


@functools.lru_cache(maxsize=512)
def _prepare_text(tag: str, text: str) -> PreparedRule:
    return _prepare_one(tag, _as_rule(text))


def _prepare_one(tag: str, parsed: Any) -> PreparedRule:
    n = nodes
    aggs: list[AggSpec] = []
    rewritten = _rewrite(parsed, aggs, n)
    fields = frozenset(
        node.field
        for node, _ in n.iter_nodes(rewritten)
        if hasattr(node, "field") and not node.field.startswith(AGG_PREFIX)
    )
    return PreparedRule(tag, rewritten, tuple(aggs), fields)


def prepare_rules(rules: Any) -> tuple[PreparedRule, ...]:
    """Parse and rewrite ``{tag: rule}`` (or a sequence of ``(tag, rule)`` pairs), in order."""
    if rules is None:
        return ()
    if isinstance(rules, Mapping):
        items: Sequence[Any] = list(rules.items())
    elif isinstance(rules, (list, tuple)):
        items = list(rules)
    else:
        raise ArgumentError(
            f"rules must map tag ids to rules ({{'skincare_fan': 'n_view >= 3'}}), got "
            f"{type(rules).__name__}",
            field="rules",
        )
    out = []
    seen: set[str] = set()
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 2):
            raise ArgumentError(
                "rules must be a mapping or a list of (tag, rule) pairs", field="rules"
            )
        tag, rule = item
        if not isinstance(tag, str) or not tag or tag != tag.strip():
            raise ArgumentError(f"rule tag {tag!r} is not a tag id", field="rules")
        if tag in seen:
            raise ArgumentError(f"two rules give tag {tag!r}; combine them with 'or'", field=tag)
        seen.add(tag)
        try:
            prepared = _prepare_text(tag, rule) if isinstance(rule, str) else None
        except RuleError as exc:
            raise RuleError(f"rule for tag {tag!r}: {exc.message}", field=exc.field) from None
        out.append(prepared if prepared is not None else _prepare_one(tag, _as_rule(rule)))
    return tuple(out)


def field_default(name: str) -> Any:
    """The value a derived field has when the profile never saw what it counts."""
    if name.startswith(("n_",)) or name == "n_events":
        return 0
    if name.startswith(("sum_", "interest_")) or name == "intent":
        return 0.0
    return None


def window_days(window: tuple[str, int, str]) -> int:
    """The most days an aggregate's window ``(direction, amount, unit)`` spans (a bound).

    ``within last 2 M`` spans at most 62 days: what a profile must keep, and how far back the
    faces look before the exact window test of :mod:`clientmodel.rules`.
    """
    return window[1] * _UNIT_MAX_DAYS[window[2]]
