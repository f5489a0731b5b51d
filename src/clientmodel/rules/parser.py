"""Rule text -> AST: a small recursive-descent parser with hard limits.

The grammar (see ``docs/rules.md`` for the full EBNF) has three precedence levels, ``not`` binding
tighter than ``and``, which binds tighter than ``or``; a chain ``a and b and c`` becomes one
:class:`~clientmodel.rules.nodes.And` with three children, while parentheses always make a group of
their own, so printing a rule and parsing it back gives the same tree.

Safety: the text length is checked before anything else, the parser counts nesting (parentheses,
``not`` and aggregate ``where`` filters) and nodes as it goes and stops with a
:class:`~clientmodel.errors.RuleError` as soon as a :class:`~clientmodel.rules.nodes.Limits` value
is exceeded, so no input can drive it into a ``RecursionError`` or a long run. Nothing is
evaluated: there is no ``eval``, ``exec`` or ``literal_eval`` anywhere.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import attrs
from pydantic import BaseModel, ValidationError

from clientmodel._validation import boundary
from clientmodel.errors import ArgumentError, RuleError
from clientmodel.periods import parse_unit
from clientmodel.rules.lexer import RESERVED, Token, is_keyword, tokenize
from clientmodel.rules.nodes import (
    HARD_MAX_DEPTH,
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
    Rule,
    StringTest,
    Within,
    check_limits,
    iter_nodes,
    rule_from_json,
)

__all__ = ["Span", "as_rule", "parse", "parse_with_spans"]

_DEFAULT_LIMITS = Limits()
_UNIT_WORDS = "d, day(s), w, week(s), m, month(s), q, quarter(s), y, year(s)"
_FIELD_TESTS = (
    "a comparison (= != < <= > >=), in [...], not in [...], between ... and ..., is null, "
    "is not null, contains, starts with, ends with, has tag, within last/next ..., "
    "older than ..., or and/or/) after a true/false field"
)


@attrs.frozen
class Span:
    """Where a node came from in the rule text (0-based character offsets).

    ``field`` is the offset of the field name, ``values`` those of the literals (one for a
    comparison, one per item of an ``in`` list, two for ``between``), ``value_field`` and
    ``time_field`` those of an aggregate's event fields.

    Examples
    --------
    >>> rule, spans = parse_with_spans("r >= 4")
    >>> spans[id(rule)].values
    (5,)
    """

    start: int
    end: int
    field: int | None = None
    values: tuple[int, ...] = ()
    value_field: int | None = None
    time_field: int | None = None


def _error(message: str, pos: int | None, *, field: str | None = None) -> RuleError:
    where = f" (at position {pos})" if pos is not None else ""
    return RuleError(message + where, position=pos, field=field)


def _describe(tok: Token) -> str:
    return "the end of the rule" if tok.kind == "eof" else repr(tok.text)


def _validation_message(exc: ValidationError) -> str:
    errs = exc.errors(include_url=False)
    msgs = []
    for e in errs[:3]:
        msg = str(e["msg"])
        msgs.append(msg[len("Value error, ") :] if msg.startswith("Value error, ") else msg)
    return "; ".join(msgs)


class _Parser:
    def __init__(self, text: str, limits: Limits) -> None:
        self.text = text
        self.limits = limits
        self.max_depth = min(limits.max_depth, HARD_MAX_DEPTH)
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0
        self.count = 0
        self.spans: dict[int, Span] = {}

    # ------------------------------------------------------------------ token helpers
    def peek(self, k: int = 0) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "eof":
            self.i += 1
        return tok

    def at_word(self, *words: str, k: int = 0) -> bool:
        tok = self.peek(k)
        return tok.kind == "word" and is_keyword(tok.text, *words)

    def expect_word(self, word: str, context: str) -> Token:
        tok = self.peek()
        if not self.at_word(word):
            raise _error(f"expected '{word}' {context}, got {_describe(tok)}", tok.pos)
        return self.advance()

    def expect(self, kind: str, context: str) -> Token:
        tok = self.peek()
        if tok.kind != kind:
            raise _error(f"expected '{kind}' {context}, got {_describe(tok)}", tok.pos)
        return self.advance()

    def end(self) -> int:
        return self.tokens[self.i - 1].pos + len(self.tokens[self.i - 1].text) if self.i else 0

    # ------------------------------------------------------------------ limits
    def enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > self.max_depth:
            raise _error(
                f"rule is nested deeper than the limit of {self.max_depth} levels "
                "(parentheses, not and where filters)",
                pos,
            )

    def make(self, cls: type[BaseModel], span: Span, pos: int, **fields: Any) -> Rule:
        self.count += 1
        if self.count > self.limits.max_nodes:
            raise _error(f"rule has more than the limit of {self.limits.max_nodes} nodes", pos)
        try:
            node: Rule = cls(**fields)  # type: ignore[assignment]
        except ValidationError as exc:
            raise _error(_validation_message(exc), pos, field=fields.get("field")) from None
        self.spans[id(node)] = span
        return node

    # ------------------------------------------------------------------ grammar
    def rule(self) -> Rule:
        node = self.expr()
        tok = self.peek()
        if tok.kind != "eof":
            hint = " (a closing parenthesis without an opening one?)" if tok.kind == ")" else ""
            raise _error(
                f"expected 'and', 'or' or the end of the rule, got {_describe(tok)}{hint}",
                tok.pos,
            )
        return node

    def expr(self) -> Rule:
        """``or`` of ``and`` chains of unary terms, without recursing per operator."""
        ors: list[Rule] = []
        ands = [self.unary()]
        while True:
            if self.at_word("and"):
                self.advance()
                ands.append(self.unary())
            elif self.at_word("or"):
                self.advance()
                ors.append(self.join(And, ands))
                ands = [self.unary()]
            else:
                break
        ors.append(self.join(And, ands))
        return self.join(Or, ors)

    def join(self, cls: type[And] | type[Or], items: list[Rule]) -> Rule:
        if len(items) == 1:
            return items[0]
        first, last = self.spans[id(items[0])], self.spans[id(items[-1])]
        return self.make(cls, Span(first.start, last.end), first.start, rules=tuple(items))

    def unary(self) -> Rule:
        nots: list[int] = []
        while self.at_word("not"):
            pos = self.advance().pos
            self.enter(pos)
            nots.append(pos)
        node = self.primary()
        end = self.spans[id(node)].end
        for pos in reversed(nots):
            node = self.make(Not, Span(pos, end), pos, rule=node)
        self.depth -= len(nots)
        return node

    def primary(self) -> Rule:
        tok = self.peek()
        if tok.kind == "(":
            self.advance()
            self.enter(tok.pos)
            node = self.expr()
            self.expect(")", f"to close the parenthesis opened at position {tok.pos}")
            self.depth -= 1
            return node
        if self.at_word("has"):
            return self.tag_test(None, None, tok.pos)
        if self.at_word("count", "sum") and self.peek(1).kind == "(":
            return self.aggregate()
        if tok.kind in ("word", "quoted"):
            start = tok.pos
            field = self.field("a field name")
            return self.field_test(field, start)
        raise _error(
            "expected a test: a field name, has tag ..., count(...), sum(...), not or '(', "
            f"got {_describe(tok)}",
            tok.pos,
        )

    # ------------------------------------------------------------------ pieces
    def atoms(self, what: str) -> list[tuple[str, int]]:
        out: list[tuple[str, int]] = []
        while True:
            tok = self.peek()
            if tok.kind == "quoted":
                out.append((tok.value, tok.pos))
            elif tok.kind == "word":
                if is_keyword(tok.text, *RESERVED):
                    raise _error(
                        f"{tok.text!r} is a keyword; write a field with that name in backticks "
                        f"(`{tok.text}`)",
                        tok.pos,
                    )
                out.append((tok.text, tok.pos))
            else:
                raise _error(f"expected {what}, got {_describe(tok)}", tok.pos)
            self.advance()
            if self.peek().kind != ".":
                return out
            self.advance()

    def field(self, what: str) -> str:
        return ".".join(a for a, _ in self.atoms(what))

    def literal(self, context: str) -> tuple[Any, int]:
        tok = self.peek()
        if tok.kind in ("string", "number", "date"):
            self.advance()
            return tok.value, tok.pos
        if self.at_word("true", "false"):
            self.advance()
            return tok.text.lower() == "true", tok.pos
        if self.at_word("null"):
            raise _error(
                "null is not a value to compare with; write 'field is null' or 'field is not null'",
                tok.pos,
            )
        raise _error(
            f'expected a value {context} (a number, "text", true/false, a date such as '
            f"2024-01-31), got {_describe(tok)}",
            tok.pos,
        )

    def string(self, context: str) -> tuple[str, int]:
        tok = self.peek()
        if tok.kind != "string":
            raise _error(f'expected "text" {context}, got {_describe(tok)}', tok.pos)
        self.advance()
        return tok.value, tok.pos

    def list_of(self, context: str) -> tuple[list[Any], list[int]]:
        self.expect("[", context)
        values: list[Any] = []
        positions: list[int] = []
        while self.peek().kind != "]":
            value, pos = self.literal(f"in the list {context}")
            values.append(value)
            positions.append(pos)
            if self.peek().kind == ",":
                self.advance()
            elif self.peek().kind != "]":
                tok = self.peek()
                raise _error(f"expected ',' or ']' in a list, got {_describe(tok)}", tok.pos)
        close = self.advance()
        if not values:
            raise _error(f"empty list {context}; give at least one value", close.pos)
        return values, positions

    def window(self) -> tuple[dict[str, Any], int]:
        """``within last|next N unit`` or ``older than N unit``."""
        tok = self.advance()
        if is_keyword(tok.text, "within"):
            which = self.peek()
            if not self.at_word("last", "next"):
                raise _error(
                    f"expected 'last' or 'next' after 'within', got {_describe(which)}", which.pos
                )
            self.advance()
            direction = which.text.lower()
        else:
            self.expect_word("than", "after 'older'")
            direction = "older"
        amount_tok = self.peek()
        if amount_tok.kind != "number" or not isinstance(amount_tok.value, int):
            raise _error(
                f"expected a whole number of units, got {_describe(amount_tok)}", amount_tok.pos
            )
        self.advance()
        unit_tok = self.peek()
        try:
            if unit_tok.kind != "word":
                raise ArgumentError("not a unit")
            unit = parse_unit(unit_tok.text)
        except ArgumentError:
            raise _error(
                f"expected a time unit ({_UNIT_WORDS}), got {_describe(unit_tok)}", unit_tok.pos
            ) from None
        self.advance()
        return {"direction": direction, "amount": amount_tok.value, "unit": unit}, amount_tok.pos

    def tag_test(self, field: str | None, field_pos: int | None, start: int) -> Rule:
        self.expect_word("has", "")
        extra: dict[str, Any] = {} if field is None else {"field": field}
        tok = self.peek()
        if self.at_word("tag"):
            self.advance()
            tag, pos = self.string("after 'has tag'")
            span = Span(start, self.end(), field_pos, (pos,))
            return self.make(HasTag, span, pos, tag=tag, **extra)
        if self.at_word("any", "all") and self.at_word("tags", k=1):
            self.advance()
            self.advance()
            cls = HasAnyTags if is_keyword(tok.text, "any") else HasAllTags
            values, positions = self.list_of(f"after 'has {tok.text.lower()} tags'")
            bad = [(v, p) for v, p in zip(values, positions, strict=True) if not isinstance(v, str)]
            if bad:
                raise _error(f"tags are text; got {bad[0][0]!r}", bad[0][1])
            span = Span(start, self.end(), field_pos, tuple(positions))
            return self.make(cls, span, start, tags=tuple(values), **extra)
        raise _error(
            f"expected 'tag', 'any tags' or 'all tags' after 'has', got {_describe(tok)}", tok.pos
        )

    def field_test(self, field: str, start: int) -> Rule:
        tok = self.peek()
        if tok.kind == "op":
            self.advance()
            value, pos = self.literal(f"after {tok.text!r}")
            span = Span(start, self.end(), start, (pos,))
            return self.make(Compare, span, pos, field=field, op=tok.value, value=value)
        if self.at_word("in") or (self.at_word("not") and self.at_word("in", k=1)):
            negate = self.at_word("not")
            self.advance()
            if negate:
                self.advance()
            values, positions = self.list_of("after 'in'")
            span = Span(start, self.end(), start, tuple(positions))
            return self.make(
                InList, span, positions[0], field=field, values=tuple(values), negate=negate
            )
        if self.at_word("between"):
            self.advance()
            low, low_pos = self.literal("after 'between'")
            self.expect_word("and", "between the two values of 'between'")
            high, high_pos = self.literal("after 'between ... and'")
            span = Span(start, self.end(), start, (low_pos, high_pos))
            return self.make(Between, span, low_pos, field=field, low=low, high=high)
        if self.at_word("is"):
            self.advance()
            negate = self.at_word("not")
            if negate:
                self.advance()
            self.expect_word("null", "after 'is'" + (" not" if negate else ""))
            return self.make(
                IsNull, Span(start, self.end(), start), start, field=field, negate=negate
            )
        if self.at_word("contains"):
            self.advance()
            value, pos = self.string("after 'contains'")
            span = Span(start, self.end(), start, (pos,))
            return self.make(StringTest, span, pos, field=field, op="contains", value=value)
        if self.at_word("starts", "ends"):
            op = "starts_with" if self.at_word("starts") else "ends_with"
            word = self.advance().text.lower()
            self.expect_word("with", f"after '{word}'")
            value, pos = self.string(f"after '{word} with'")
            span = Span(start, self.end(), start, (pos,))
            return self.make(StringTest, span, pos, field=field, op=op, value=value)
        if self.at_word("has"):
            return self.tag_test(field, start, start)
        if self.at_word("within", "older"):
            window, pos = self.window()
            return self.make(Within, Span(start, self.end(), start), pos, field=field, **window)
        if tok.kind in ("eof", ")") or self.at_word("and", "or"):
            # A bare true/false field: ``champion`` means ``champion = true``.
            return self.make(
                Compare, Span(start, self.end(), start), start, field=field, op="=", value=True
            )
        raise _error(
            f"expected {_FIELD_TESTS} after field {field!r}, got {_describe(tok)}", tok.pos
        )

    def aggregate(self) -> Rule:
        head = self.advance()
        func = head.text.lower()
        self.advance()  # "("
        atoms = self.atoms("the event list (e.g. events)")
        if func == "sum":
            if len(atoms) < 2:
                raise _error(
                    "sum needs the event list and the event field to add up, e.g. "
                    "sum(events.value)",
                    atoms[0][1],
                )
            field = ".".join(a for a, _ in atoms[:-1])
            value_field: str | None = atoms[-1][0]
            value_field_pos: int | None = atoms[-1][1]
        else:
            field = ".".join(a for a, _ in atoms)
            value_field = value_field_pos = None
        where = None
        if self.at_word("where"):
            pos = self.advance().pos
            self.enter(pos)
            where = self.expr()
            self.depth -= 1
            inner = next((n for n, _ in iter_nodes(where) if isinstance(n, EventAggregate)), None)
            if inner is not None:
                raise _error(
                    "the where filter of an aggregate cannot hold another aggregate",
                    self.spans[id(inner)].start,
                )
        self.expect(")", f"to close {func}( opened at position {head.pos}")
        fields: dict[str, Any] = {}
        if self.at_word("within", "older"):
            window, _ = self.window()
            fields["window"] = window
        time_pos = None
        if self.at_word("by"):
            self.advance()
            time_pos = self.peek().pos
            fields["time_field"] = self.field("the event time field after 'by'")
        op = self.peek()
        if op.kind != "op":
            raise _error(
                f"expected a comparison such as >= 3 after {func}(...), got {_describe(op)}", op.pos
            )
        self.advance()
        value, pos = self.literal(f"after {op.text!r}")
        span = Span(head.pos, self.end(), atoms[0][1], (pos,), value_field_pos, time_pos)
        return self.make(
            EventAggregate,
            span,
            pos,
            func=func,
            field=field,
            value_field=value_field,
            where=where,
            op=op.value,
            value=value,
            **fields,
        )


@boundary
def parse_with_spans(text: str, *, limits: Limits | None = None) -> tuple[Rule, dict[int, Span]]:
    """Parse rule text and also return where each node came from (keyed by ``id(node)``).

    Examples
    --------
    >>> rule, spans = parse_with_spans('email contains "@acme"')
    >>> spans[id(rule)].field, spans[id(rule)].values
    (0, (15,))
    """
    lim = limits or _DEFAULT_LIMITS
    if not isinstance(text, str):
        raise RuleError(f"rule text must be a string, got {type(text).__name__}")
    if len(text) > lim.max_length:
        raise RuleError(
            f"rule text is {len(text)} characters long, over the limit of {lim.max_length}",
            position=lim.max_length,
        )
    try:
        parser = _Parser(text, lim)
        rule = parser.rule()
    except RecursionError:  # pragma: no cover - the depth limit stops well before this
        raise RuleError("rule is nested too deeply to parse") from None
    check_limits(rule, lim)
    return rule, parser.spans


@functools.lru_cache(maxsize=512)
def _parse_cached(text: str, limits: Limits) -> Rule:
    return parse_with_spans(text, limits=limits)[0]


@boundary
def parse(text: str, *, limits: Limits | None = None) -> Rule:
    """Parse rule text into a :data:`~clientmodel.rules.nodes.Rule`.

    Parameters
    ----------
    text:
        The rule, e.g. ``'frequency >= 3 and has tag "vip"'``.
    limits:
        Text length, nesting depth and node count allowed (default :class:`Limits`).

    Raises
    ------
    RuleError
        For any malformed or over-limit text; ``error.position`` is the offset of the problem.

    Examples
    --------
    >>> parse("r >= 4 and f between 2 and 5").kind
    'and'
    >>> parse('country in ["FR", "DE"]').values
    ('FR', 'DE')
    """
    if limits is not None and not isinstance(limits, Limits):
        raise ArgumentError(
            f"limits must be a Limits (e.g. Limits(max_depth=20)) or None, "
            f"got {type(limits).__name__}",
            field="limits",
        )
    lim = limits or _DEFAULT_LIMITS
    if isinstance(text, str) and len(text) <= 2_000:
        return _parse_cached(text, lim)
    return parse_with_spans(text, limits=lim)[0]


@boundary
def as_rule(rule: Any, *, limits: Limits | None = None) -> Rule:
    """Accept rule text, a parsed rule or its JSON dict, and return the parsed rule.

    Examples
    --------
    >>> as_rule("email is not null") == as_rule({"kind": "is_null", "field": "email",
    ...                                          "negate": True})
    True
    """
    if isinstance(rule, str):
        return parse(rule, limits=limits)
    if isinstance(rule, Mapping):
        return rule_from_json(dict(rule), limits=limits)
    return check_limits(rule, limits)
