"""Welcome message templates of channel codes: parsing at construction, rendering (private).

A template is text with ``{placeholder}`` fields (``{{`` / ``}}`` for literal braces). Parsing
refuses anything but the known placeholders, so rendering can never fail. The longest rendering a
template can produce -- every placeholder filled with :data:`VALUE_MAX_CHARS` four-byte
characters -- must fit WeCom's limit of :data:`WELCOME_MAX_BYTES` UTF-8 bytes on the text of a
new-customer welcome message; values longer than :data:`VALUE_MAX_CHARS` are cut when rendered.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

from clientmodel._validation import did_you_mean
from clientmodel.errors import ArgumentError

#: The placeholders a welcome template may use.
PLACEHOLDERS: tuple[str, ...] = ("customer_name", "staff_name", "code_name")
#: WeCom's limit on the text of a new-customer welcome message (``text.content``), in bytes.
WELCOME_MAX_BYTES = 4000
#: A placeholder value is cut to this many characters (WeCom names are at most 64 characters).
VALUE_MAX_CHARS = 64
_WORST_VALUE_BYTES = 4 * VALUE_MAX_CHARS  # UTF-8 needs at most 4 bytes a character

Parts = tuple[tuple[str, str | None], ...]


def parse_template(template: str, *, field: str = "welcome") -> Parts:
    """``template`` as (literal text, placeholder or None) pairs, or an ArgumentError."""
    if not isinstance(template, str):
        raise ArgumentError(
            f"{field} must be a text template, got {type(template).__name__}", field=field
        )
    try:
        pieces = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ArgumentError(
            f"{field} template is malformed ({exc}); write placeholders as {{customer_name}} "
            "and literal braces as {{ and }}",
            field=field,
        ) from None
    parts: list[tuple[str, str | None]] = []
    for literal, name, spec, conversion in pieces:
        if name is not None and (name not in PLACEHOLDERS or spec or conversion):
            shown = (
                "{"
                + name
                + ("!" + conversion if conversion else "")
                + (":" + spec if spec else "")
                + "}"
            )
            hint = did_you_mean(name, PLACEHOLDERS) if name not in PLACEHOLDERS else ""
            raise ArgumentError(
                f"{field} template uses placeholder {shown!r}{hint}; accepted placeholders are "
                f"{', '.join('{' + p + '}' for p in PLACEHOLDERS)} (no format specs or "
                "conversions), and literal braces are written {{ and }}",
                field=field,
            )
        parts.append((literal, name))
    fixed = sum(len(literal.encode("utf-8")) for literal, _ in parts)
    slots = sum(1 for _, name in parts if name is not None)
    worst = fixed + slots * _WORST_VALUE_BYTES
    if worst > WELCOME_MAX_BYTES:
        raise ArgumentError(
            f"{field} template may render to {worst} bytes ({fixed} bytes of text and {slots} "
            f"placeholder(s) of up to {VALUE_MAX_CHARS} characters); WeCom accepts at most "
            f"{WELCOME_MAX_BYTES} bytes: shorten the text or use fewer placeholders",
            field=field,
        )
    return tuple(parts)


def render_parts(parts: Parts, values: Mapping[str, str | None], missing: str) -> str:
    """Fill ``parts``: a missing value becomes ``missing``; values are cut to the maximum."""
    out: list[str] = []
    for literal, name in parts:
        out.append(literal)
        if name is not None:
            value = values.get(name)
            out.append((missing if value is None else value)[:VALUE_MAX_CHARS])
    return "".join(out)
