"""Tokens of the rule text: a hand-written scanner, one pass, no regular expressions.

The scanner turns the text into :class:`Token` objects, each with its 0-based character offset so
that every error can point at the place it comes from. Bare words (field names and keywords) are
one token kind; the parser decides which words are keywords where. Dates and datetimes are their
own token kind (``2024-01-31``, ``2024-01-31T09:00:00+02:00``), so a date is never read as a
subtraction (the language has no arithmetic).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import attrs

from clientmodel._validation import boundary
from clientmodel.errors import RuleError

__all__ = ["KEYWORDS", "RESERVED", "Token", "TokenKind", "is_bare_word", "is_keyword", "tokenize"]

TokenKind = Literal[
    "word",  # a bare word: a field name or a keyword
    "quoted",  # a `backticked` field name
    "string",  # "text" or 'text'
    "number",
    "date",  # a date or a timezone-aware datetime
    "op",  # = == != <> < <= > >=
    "(",
    ")",
    "[",
    "]",
    ",",
    ".",
    "eof",
]

#: Every word with a meaning somewhere in the grammar (compared case-insensitively).
KEYWORDS = frozenset(
    {
        "and", "or", "not", "in", "is", "null", "true", "false", "between", "contains",
        "starts", "ends", "with", "has", "tag", "tags", "any", "all", "within", "last", "next",
        "older", "than", "where", "count", "sum", "by",
    }
)  # fmt: skip

#: Keywords that can never be a bare field name (write such a field in backticks).
RESERVED = frozenset(
    {
        "and", "or", "not", "in", "is", "null", "true", "false", "between", "contains",
        "starts", "ends", "has", "within", "older", "where",
    }
)  # fmt: skip

#: Longest number literal accepted (digits, sign, dot and exponent).
MAX_NUMBER_CHARS = 64

_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t", "r": "\r", "/": "/", "0": "\0"}


@attrs.frozen
class Token:
    """One token: its kind, the text it covers, its value and its offset in the rule text.

    Examples
    --------
    >>> tokenize("r >= 4")[1]
    Token(kind='op', text='>=', value='>=', pos=2)
    """

    kind: TokenKind
    text: str
    value: Any
    pos: int


@boundary
def is_keyword(word: str, *keywords: str) -> bool:
    """Whether ``word`` is one of ``keywords`` (ASCII, case-insensitive).

    Examples
    --------
    >>> is_keyword("AND", "and", "or")
    True
    """
    return word.isascii() and word.lower() in keywords


def _word_start(c: str) -> bool:
    return c == "_" or c.isalpha()


def _word_char(c: str) -> bool:
    return c == "_" or c.isalnum()


@boundary
def is_bare_word(word: str) -> bool:
    """Whether ``word`` can be written without backticks as one segment of a field name.

    Examples
    --------
    >>> is_bare_word("last_purchase"), is_bare_word("first name"), is_bare_word("and")
    (True, False, False)
    """
    return (
        bool(word)
        and _word_start(word[0])
        and all(_word_char(c) for c in word[1:])
        and not is_keyword(word, *RESERVED)
    )


def _error(message: str, pos: int) -> RuleError:
    return RuleError(f"{message} (at position {pos})", position=pos)


@boundary
def tokenize(text: str) -> list[Token]:
    """Split rule text into tokens, ending with an ``eof`` token.

    Raises :class:`~clientmodel.errors.RuleError` (with ``position``) for an unexpected
    character, an unterminated string or name, or a malformed number or date.

    Examples
    --------
    >>> [t.kind for t in tokenize('country in ["FR", "DE"]')]
    ['word', 'word', '[', 'string', ',', 'string', ']', 'eof']
    """
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        start = i
        if _word_start(c):
            i += 1
            while i < n and _word_char(text[i]):
                i += 1
            word = text[start:i]
            tokens.append(Token("word", word, word, start))
        elif c == "`":
            end = text.find("`", i + 1)
            if end < 0:
                raise _error("unterminated `name`: a closing backtick is missing", start)
            name = text[i + 1 : end]
            if not name:
                raise _error("empty `` name: write a field name between the backticks", start)
            i = end + 1
            tokens.append(Token("quoted", text[start:i], name, start))
        elif c in "\"'":
            string, i = _string(text, i)
            tokens.append(Token("string", text[start:i], string, start))
        elif c.isascii() and (c.isdigit() or (c == "-" and i + 1 < n and text[i + 1].isdigit())):
            if _looks_like_date(text, i):
                day, i = _date(text, i)
                tokens.append(Token("date", text[start:i], day, start))
            else:
                number, i = _number(text, i)
                tokens.append(Token("number", text[start:i], number, start))
        elif c in "=!<>":
            two = text[i : i + 2]
            if two in ("==", "!=", "<>", "<=", ">="):
                op = {"==": "=", "<>": "!="}.get(two, two)
                i += 2
            elif c == "!":
                raise _error("unexpected '!': write != for 'not equal'", start)
            else:
                op = c
                i += 1
            tokens.append(Token("op", text[start:i], op, start))
        elif c in "()[],.":
            i += 1
            tokens.append(Token(c, c, c, start))  # type: ignore[arg-type]
        else:
            raise _error(f"unexpected character {c!r}", start)
    tokens.append(Token("eof", "", None, n))
    return tokens


def _string(text: str, i: int) -> tuple[str, int]:
    quote, start, n = text[i], i, len(text)
    i += 1
    out: list[str] = []
    while True:
        if i >= n:
            raise _error("unterminated string: the closing quote is missing", start)
        c = text[i]
        if c == quote:
            return "".join(out), i + 1
        if c != "\\":
            # Copy the run up to the next quote or backslash in one go.
            j = i + 1
            while j < n and text[j] != quote and text[j] != "\\":
                j += 1
            out.append(text[i:j])
            i = j
            continue
        if i + 1 >= n:
            raise _error("unterminated string: the closing quote is missing", start)
        e = text[i + 1]
        if e in _ESCAPES:
            out.append(_ESCAPES[e])
            i += 2
        elif e == "u":
            digits = text[i + 2 : i + 6]
            if len(digits) != 4 or not all(d in "0123456789abcdefABCDEF" for d in digits):
                raise _error("\\u must be followed by four hexadecimal digits", i)
            out.append(chr(int(digits, 16)))
            i += 6
        else:
            raise _error(
                f"unknown escape \\{e} in a string; use \\\\, \\\", \\', \\n, \\t, \\r or \\uXXXX",
                i,
            )


def _digits(text: str, i: int) -> int:
    while i < len(text) and "0" <= text[i] <= "9":
        i += 1
    return i


def _looks_like_date(text: str, i: int) -> bool:
    j = _digits(text, i)
    return j - i == 4 and j + 1 < len(text) and text[j] == "-" and "0" <= text[j + 1] <= "9"


def _number(text: str, i: int) -> tuple[int | float, int]:
    start = i
    if text[i] == "-":
        i += 1
    i = _digits(text, i)
    is_float = False
    if i + 1 < len(text) and text[i] == "." and "0" <= text[i + 1] <= "9":
        is_float = True
        i = _digits(text, i + 1)
    if i < len(text) and text[i] in "eE":
        j = i + 1
        if j < len(text) and text[j] in "+-":
            j += 1
        k = _digits(text, j)
        if k > j:
            is_float = True
            i = k
    if i < len(text) and _word_char(text[i]):
        raise _error(f"malformed number {text[start : i + 1]!r}", start)
    literal = text[start:i]
    if len(literal) > MAX_NUMBER_CHARS:
        raise _error(
            f"number literal is {len(literal)} characters long; the limit is {MAX_NUMBER_CHARS}",
            start,
        )
    return (float(literal) if is_float else int(literal)), i


def _date(text: str, i: int) -> tuple[dt.date | dt.datetime, int]:
    start, n = i, len(text)
    i += 10
    if i < n and text[i] in "Tt":
        i += 1
        while i < n and (text[i].isascii() and (text[i].isdigit() or text[i] in ":.+-Zz")):
            i += 1
    literal = text[start:i]
    if i < n and _word_char(text[i]):
        raise _error(f"malformed date {text[start : i + 1]!r}", start)
    try:
        if len(literal) == 10:
            return dt.date.fromisoformat(literal), i
        iso = literal[:-1] + "+00:00" if literal[-1] in "Zz" else literal
        value = dt.datetime.fromisoformat(iso.replace("t", "T", 1))
    except ValueError:
        raise _error(
            f"{literal!r} is not a valid ISO 8601 date or datetime "
            "(e.g. 2024-01-31 or 2024-01-31T09:00:00+00:00)",
            start,
        ) from None
    if value.tzinfo is None:
        raise _error(
            f"datetime {literal!r} has no timezone; add an offset such as +00:00 or Z", start
        )
    return value, i
