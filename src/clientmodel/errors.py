"""Errors raised on purpose by clientmodel.

Every error subclasses :class:`ClientModelError` and carries a stable ``code`` that a service can
map to a response without parsing the message. Messages name the column or field, show the first
few offending values with their row positions, and say what would be accepted.

Input errors also subclass :class:`ValueError`, so code that already catches ``ValueError`` keeps
working.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

__all__ = [
    "ArgumentError",
    "ClientModelError",
    "ConvergenceError",
    "DataError",
    "InvalidTransition",
    "RuleError",
    "describe_rows",
]

#: How many offending values a message shows before it says "and N more".
SHOWN_VALUES = 5


def describe_rows(
    positions: Sequence[int] | Iterable[int], values: Sequence[Any] | Iterable[Any]
) -> str:
    """Format offending values with their row positions, the first few only.

    Examples
    --------
    >>> describe_rows([3, 7], ["abc", None])
    "row 3: 'abc', row 7: None"
    """
    pairs = list(zip(positions, values, strict=False))
    shown = ", ".join(f"row {int(p)}: {_private(v)}" for p, v in pairs[:SHOWN_VALUES])
    extra = len(pairs) - SHOWN_VALUES
    return shown + (f" (and {extra} more)" if extra > 0 else "")


#: A phone-like value: 7 or more digits with phone punctuation only, and not an ISO date.
_PHONE_LIKE = re.compile(r"(?!\d{4}-\d{2}-\d{2})\+?[\d\s\-().]*(?:\d[\s\-().]*){7,}")


def _private(value: Any) -> str:
    """The repr of an offending value, masked when it looks like a phone number or an email.

    Any column may hold a misplaced identifier (a phone pasted into a date column), and no
    message may carry one in full.
    """
    if (
        isinstance(value, numbers.Integral)
        and not isinstance(value, bool)
        and abs(int(value)) >= 10**6
    ):
        value = str(value)  # a phone number read as an integer id is a phone number all the same
    if isinstance(value, str) and ("@" in value or _PHONE_LIKE.fullmatch(value.strip())):
        from clientmodel._validation import mask_identifier  # _validation imports this module

        return repr(mask_identifier(value))
    return repr(value)


class ClientModelError(Exception):
    """Base class of every error clientmodel raises on purpose.

    Attributes
    ----------
    code:
        A stable, machine-readable identifier of the kind of error.
    field:
        The column, field or argument at fault, when there is one.
    rows:
        Row positions (0-based) of the offending values, the first few only.
    """

    code: ClassVar[str] = "clientmodel_error"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        rows: Sequence[int] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.rows = tuple(int(r) for r in rows[:SHOWN_VALUES])

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe description of the error, for services that return it to a client."""
        return {
            "code": self.code,
            "message": self.message,
            "field": self.field,
            "rows": list(self.rows),
        }


class DataError(ClientModelError, ValueError):
    """The data handed in is malformed: missing columns, nulls, wrong types, impossible values."""

    code = "bad_data"


class ArgumentError(ClientModelError, ValueError):
    """An argument (not the data) is invalid: an unknown unit, a negative horizon, a bad option."""

    code = "bad_argument"


class InvalidTransition(ClientModelError, ValueError):
    """A requested state change is not allowed (e.g. a deal moved along a missing edge)."""

    code = "invalid_transition"


class RuleError(ClientModelError, ValueError):
    """A rule is malformed, unsafe or does not fit the schema it is evaluated against.

    ``position`` is the 0-based character offset in the rule text when the rule came from text.
    """

    code = "rule_error"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        position: int | None = None,
        rows: Sequence[int] = (),
    ) -> None:
        super().__init__(message, field=field, rows=rows)
        self.position = position

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["position"] = self.position
        return out


class ConvergenceError(ClientModelError, RuntimeError):
    """A model fit did not converge; the message says what was reached and what to try."""

    code = "convergence_failed"
