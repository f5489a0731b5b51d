"""A small, safe predicate language shared by tag rules, segments/audiences and funnel stages.

One rule, three shapes: text (``'frequency >= 3 and has tag "vip"'``), a JSON-serialisable tree of
frozen pydantic models, and its JSON. Two ways to evaluate it, with identical results: on one
record (:func:`evaluate`) and over a whole table (:func:`evaluate_table`, or :func:`compile` for a
narwhals expression). :func:`check` lists the problems of a rule against a schema before it runs.

Modules: ``nodes`` (the tree), ``lexer`` and ``parser`` (text -> tree), ``printer``
(tree -> text), ``schema`` (checks), ``evaluate`` (the record face), ``compiler`` and ``table``
(the table face).

Examples
--------
>>> from clientmodel import rules
>>> rule = rules.parse('r >= 4 and has any tags ["vip", "gold"]')
>>> rules.evaluate(rule, {"r": 5, "tags": ["gold"]})
True
>>> rules.to_text(rule)
'r >= 4 and has any tags ["vip", "gold"]'
"""

from __future__ import annotations

from clientmodel.rules.compiler import compile
from clientmodel.rules.evaluate import evaluate, failing_clauses
from clientmodel.rules.nodes import (
    RULE_ADAPTER,
    And,
    Between,
    Compare,
    EventAggregate,
    HasAllTags,
    HasAnyTags,
    HasTag,
    InList,
    IsNull,
    Limits,
    Not,
    Or,
    RelativeWindow,
    Rule,
    StringTest,
    Within,
    check_limits,
    iter_nodes,
    rule_from_json,
    rule_to_json,
)
from clientmodel.rules.parser import parse
from clientmodel.rules.printer import to_text
from clientmodel.rules.schema import FieldType, check
from clientmodel.rules.table import evaluate_table

__all__ = [
    "RULE_ADAPTER",
    "And",
    "Between",
    "Compare",
    "EventAggregate",
    "FieldType",
    "HasAllTags",
    "HasAnyTags",
    "HasTag",
    "InList",
    "IsNull",
    "Limits",
    "Not",
    "Or",
    "RelativeWindow",
    "Rule",
    "StringTest",
    "Within",
    "check",
    "check_limits",
    "compile",
    "evaluate",
    "evaluate_table",
    "failing_clauses",
    "iter_nodes",
    "parse",
    "rule_from_json",
    "rule_to_json",
    "to_text",
]
