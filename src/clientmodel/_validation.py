"""The one boundary layer: argument, column and serialised-form checks every public function calls.

After scikit-learn's ``utils/validation.py``: a function checks its arguments here on entry instead
of re-inventing a check, so every bad input gets the same kind of error — a
:class:`~clientmodel.errors.ClientModelError` subclass that names the field (and the row, or the key
path of a serialised form), shows the offending value (masked when it may be a personal identifier)
and says what would be accepted.

Checkers return the cleaned value, so a call site reads ``horizon = check_number(horizon, "horizon",
minimum=0)``.
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ValidationError

from clientmodel.errors import ArgumentError, DataError, describe_rows

__all__ = [
    "EXACT_INTEGER_LIMIT",
    "check_bool",
    "check_choice",
    "check_exact_counts",
    "check_finite_column",
    "check_integer",
    "check_mapping",
    "check_number",
    "check_seed",
    "check_sequence",
    "check_text",
    "did_you_mean",
    "key_path",
    "mask_identifier",
    "read_key",
    "sum_finite",
    "validate_record",
    "validate_records",
]

#: Integers at or beyond this magnitude are not exact in float64: such counts are refused.
EXACT_INTEGER_LIMIT = 2**53

_Model = TypeVar("_Model", bound=BaseModel)
_T = TypeVar("_T")


def _error(
    message: str, field: str, *, data: bool, rows: Sequence[int] = ()
) -> ArgumentError | DataError:
    if data:
        return DataError(message, field=field, rows=rows)
    return ArgumentError(message, field=field)


def _shown(value: Any) -> str:
    """A short repr of an offending value (long values are cut so a message stays one line)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def mask_identifier(value: Any) -> str:
    """A masked form of a value that may be a personal identifier, safe for messages and reprs.

    Phones keep their first three and last four characters (``138****000x``); emails keep the
    first character of the local part and the domain (``z***@qq``); other text keeps its first and
    last characters. Short values are masked completely.

    Examples
    --------
    >>> mask_identifier("13800138000x")
    '138****000x'
    >>> mask_identifier("zhang.wei@qq")
    'z***@qq'
    >>> mask_identifier("abc")
    '***'
    """
    text = str(value)
    if "@" in text:
        local, _, domain = text.partition("@")
        return f"{local[:1]}***@{domain}"
    if len(text) >= 9:
        return f"{text[:3]}****{text[-4:]}"
    if len(text) >= 5:
        return f"{text[:1]}***{text[-1:]}"
    return "***"


def did_you_mean(value: Any, choices: Iterable[str]) -> str:
    """A " (did you mean 'x'?)" hint naming the closest choice, or "" when none is close.

    Examples
    --------
    >>> did_you_mean("decison_maker", ["decision_maker", "champion"])
    " (did you mean 'decision_maker'?)"
    >>> did_you_mean("planet", ["account", "contact"])
    ''
    """
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_choice(value: Any, field: str, choices: Collection[str], *, data: bool = False) -> str:
    """``value`` if it is one of ``choices``, else an error listing them with a suggestion.

    Examples
    --------
    >>> check_choice("sum", "how", ["sum", "mean"])
    'sum'
    >>> check_choice("summ", "how", ["sum"])
    Traceback (most recent call last):
    ...
    clientmodel.errors.ArgumentError: how must be one of 'sum', got 'summ' (did you mean 'sum'?)
    """
    if isinstance(value, str) and value in choices:
        return value
    allowed = ", ".join(repr(c) for c in sorted(choices))
    raise _error(
        f"{field} must be one of {allowed}, got {_shown(value)}{did_you_mean(value, choices)}",
        field,
        data=data,
    )


def check_bool(value: Any, field: str) -> bool:
    """``value`` if it is a real ``bool`` (numpy's included); text such as ``"no"`` is refused.

    Examples
    --------
    >>> check_bool(True, "exclude")
    True
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ArgumentError(f"{field} must be True or False, got {_shown(value)}", field=field)


def check_text(value: Any, field: str, *, data: bool = False, allow_blank: bool = False) -> str:
    """``value`` if it is a string (non-blank unless ``allow_blank``).

    Examples
    --------
    >>> check_text("customer_id", "customer")
    'customer_id'
    """
    if not isinstance(value, str):
        raise _error(f"{field} must be text, got {_shown(value)}", field, data=data)
    if not allow_blank and not value.strip():
        raise _error(f"{field} must not be blank", field, data=data)
    return value


def check_number(
    value: Any,
    field: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
    allow_none: bool = False,
    data: bool = False,
) -> float:
    """``value`` as a finite float within the bounds, else an error saying what is accepted.

    Text, booleans, complex numbers, NaN and infinities are refused (a bool is not a number here:
    ``horizon=True`` is a mistake, not 1).

    Examples
    --------
    >>> check_number(52, "horizon", minimum=0)
    52.0
    >>> check_number(float("nan"), "horizon")
    Traceback (most recent call last):
    ...
    clientmodel.errors.ArgumentError: horizon must be a finite number, got nan
    """
    if value is None and allow_none:
        return math.nan
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise _error(f"{field} must be a number, got {_shown(value)}", field, data=data)
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise _error(f"{field} must be a finite number, got {_shown(value)}", field, data=data)
    if minimum is not None and (number <= minimum if exclusive_minimum else number < minimum):
        word = "greater than" if exclusive_minimum else "at least"
        raise _error(f"{field} must be {word} {minimum:g}, got {_shown(value)}", field, data=data)
    if maximum is not None and number > maximum:
        raise _error(f"{field} must be at most {maximum:g}, got {_shown(value)}", field, data=data)
    return number


def check_integer(
    value: Any,
    field: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    data: bool = False,
) -> int:
    """``value`` as an exact int within the bounds (and below 2**53 in magnitude).

    Integral floats (``3.0``) are accepted; ``3.5``, text and booleans are not.

    Examples
    --------
    >>> check_integer(3.0, "steps", minimum=1)
    3
    >>> check_integer(3.5, "n")
    Traceback (most recent call last):
    ...
    clientmodel.errors.ArgumentError: n must be an integer, got 3.5
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise _error(f"{field} must be an integer, got {_shown(value)}", field, data=data)
    if isinstance(value, numbers.Integral):
        number = int(value)
    else:
        as_float = float(value)
        if not math.isfinite(as_float) or not as_float.is_integer():
            raise _error(f"{field} must be an integer, got {_shown(value)}", field, data=data)
        number = int(as_float)
    if abs(number) >= EXACT_INTEGER_LIMIT:
        raise _error(
            f"{field} must be an integer below 2**53 in magnitude, got {_shown(value)}",
            field,
            data=data,
        )
    if minimum is not None and number < minimum:
        raise _error(f"{field} must be at least {minimum}, got {_shown(value)}", field, data=data)
    if maximum is not None and number > maximum:
        raise _error(f"{field} must be at most {maximum}, got {_shown(value)}", field, data=data)
    return number


def check_seed(seed: Any, field: str = "seed") -> np.random.Generator:
    """A numpy ``Generator`` from ``None``, a non-negative int or a ``Generator``.

    Examples
    --------
    >>> bool(check_seed(7).integers(10) == check_seed(7).integers(10))
    True
    """
    if seed is None or isinstance(seed, np.random.Generator):
        return np.random.default_rng(seed)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ArgumentError(
            f"{field} must be a non-negative integer, a numpy Generator or None, "
            f"got {_shown(seed)}",
            field=field,
        )
    return np.random.default_rng(int(seed))


def check_sequence(value: Any, field: str, *, data: bool = False) -> list[Any]:
    """``value`` as a list if it is a list, tuple or other non-text sequence.

    Examples
    --------
    >>> check_sequence((1, 2), "stages")
    [1, 2]
    """
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (Sequence, np.ndarray)):
        raise _error(f"{field} must be a list, got {_shown(value)}", field, data=data)
    return list(value)


def check_finite_column(
    values: NDArray[Any], column: str, *, accepted: str = "finite numbers"
) -> NDArray[np.float64]:
    """A float64 copy of a numeric column, refusing NaN/inf and complex values with their rows.

    Examples
    --------
    >>> check_finite_column(np.array([1, 2]), "amount")
    array([1., 2.])
    """
    arr = np.asarray(values)
    if np.iscomplexobj(arr):
        rows = np.flatnonzero(np.imag(arr) != 0)
        raise DataError(
            f"column {column!r} holds complex values "
            f"({describe_rows(rows.tolist(), arr[rows].tolist())}); use {accepted}",
            field=column,
            rows=rows.tolist(),
        )
    try:
        out = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise DataError(
            f"column {column!r} must hold {accepted}, got dtype {arr.dtype}", field=column
        ) from None
    bad = ~np.isfinite(out)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise DataError(
            f"column {column!r} must hold {accepted} "
            f"({describe_rows(rows.tolist(), out[rows].tolist())})",
            field=column,
            rows=rows.tolist(),
        )
    return out


def check_exact_counts(values: NDArray[Any], column: str) -> NDArray[np.float64]:
    """Non-negative whole counts below 2**53 as float64, else a DataError with the rows.

    Examples
    --------
    >>> check_exact_counts(np.array([0, 3]), "frequency")
    array([0., 3.])
    >>> check_exact_counts(np.array([1e19]), "x")
    Traceback (most recent call last):
    ...
    clientmodel.errors.DataError: column 'x' must hold whole counts from 0 to 2**53 (row 0: 1e+19)
    """
    out = check_finite_column(values, column, accepted="whole counts from 0 to 2**53")
    bad = (out < 0) | (out >= EXACT_INTEGER_LIMIT) | (out != np.floor(out))
    if bad.any():
        rows = np.flatnonzero(bad)
        raise DataError(
            f"column {column!r} must hold whole counts from 0 to 2**53 "
            f"({describe_rows(rows.tolist(), out[rows].tolist())})",
            field=column,
            rows=rows.tolist(),
        )
    return out


def sum_finite(values: NDArray[Any], what: str, *, column: str) -> float:
    """The sum of ``values``, refusing an overflow to infinity (amounts near 1e308).

    Examples
    --------
    >>> sum_finite(np.array([1.5, 2.5]), "revenue", column="amount")
    4.0
    """
    with np.errstate(over="ignore"):
        total = float(np.sum(values))
    if not math.isfinite(total):
        raise DataError(
            f"{what} overflows: the sum of column {column!r} is beyond float64's range; "
            "check the amounts or rescale them (e.g. to thousands)",
            field=column,
        )
    return total


def key_path(*parts: str | int) -> str:
    """A readable path into a serialised form: ``key_path("params", "r")`` is ``'params.r'``.

    Examples
    --------
    >>> key_path("members", 3, "id")
    'members[3].id'
    """
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def check_mapping(
    data: Any,
    path: str,
    *,
    required: Iterable[str] = (),
    optional: Iterable[str] | None = None,
) -> Mapping[str, Any]:
    """``data`` if it is a mapping with the required keys (and, given ``optional``, no others).

    For ``from_dict``: errors are :class:`~clientmodel.errors.ArgumentError` naming the key path.

    Examples
    --------
    >>> check_mapping({"r": 1.0}, "BGNBD", required=["r"])
    {'r': 1.0}
    >>> check_mapping([1], "BGNBD", required=["r"])
    Traceback (most recent call last):
    ...
    clientmodel.errors.ArgumentError: BGNBD must be a mapping (a dict), got [1]
    """
    if not isinstance(data, Mapping):
        raise ArgumentError(f"{path} must be a mapping (a dict), got {_shown(data)}", field=path)
    needed = list(required)
    missing = [k for k in needed if k not in data]
    if missing:
        raise ArgumentError(
            f"{path} is missing key(s) {', '.join(map(repr, missing))}",
            field=key_path(path, missing[0]),
        )
    if optional is not None:
        known = set(needed) | set(optional)
        extra = [k for k in data if k not in known]
        if extra:
            first = extra[0]
            raise ArgumentError(
                f"{path} has unknown key {first!r}{did_you_mean(first, known)}; "
                f"accepted: {', '.join(map(repr, sorted(known)))}",
                field=key_path(path, str(first)),
            )
    return data


def read_key(data: Mapping[str, Any], key: str, path: str, check: Callable[[Any, str], _T]) -> _T:
    """``check(data[key], "path.key")``: one field of a serialised form, errors naming its key path.

    Checkers raising :class:`ArgumentError` (``check_number`` and friends) name the path as
    their field.

    Examples
    --------
    >>> read_key({"r": "x"}, "r", "BGNBD", check_number)
    Traceback (most recent call last):
    ...
    clientmodel.errors.ArgumentError: BGNBD.r must be a number, got 'x'
    """
    if key not in data:
        raise ArgumentError(f"{path} is missing key {key!r}", field=key_path(path, key))
    return check(data[key], key_path(path, key))


def _pydantic_message(exc: ValidationError, model: str, where: str) -> tuple[str, str]:
    first = exc.errors(include_url=False, include_input=False)[0]
    loc = ".".join(str(p) for p in first["loc"]) or "(record)"
    count = exc.error_count()
    more = f" (and {count - 1} more problem(s))" if count > 1 else ""
    return f"{model}{where}: field {loc!r}: {first['msg']}{more}", loc


def validate_record(
    model: type[_Model],
    value: Any,
    *,
    field: str = "record",
    row: int | None = None,
    record_id: str | None = None,
) -> _Model:
    """``value`` as a ``model`` instance; a pydantic ``ValidationError`` becomes a ``DataError``.

    The message names the model, the record (by position or id) and the field path, never the
    input value itself (it may hold personal identifiers); the pydantic errors stay on the
    exception as ``__cause__``.

    Examples
    --------
    >>> from pydantic import BaseModel
    >>> class Point(BaseModel):
    ...     x: int
    >>> validate_record(Point, {"x": None}, row=2)
    Traceback (most recent call last):
    ...
    clientmodel.errors.DataError: Point at row 2: field 'x': Input should be a valid integer
    """
    if isinstance(value, model):
        return value
    where = f" at row {row}" if row is not None else ""
    if record_id is not None:
        where += f" (id {mask_identifier(record_id)})"
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if not isinstance(value, Mapping):
        raise DataError(
            f"{model.__name__}{where} must be a {model.__name__} or a mapping, "
            f"got {type(value).__name__}",
            field=field,
            rows=() if row is None else (row,),
        )
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        message, loc = _pydantic_message(exc, model.__name__, where)
        raise DataError(
            message, field=f"{field}.{loc}", rows=() if row is None else (row,)
        ) from exc


def validate_records(model: type[_Model], values: Any, *, field: str = "records") -> list[_Model]:
    """Every item of ``values`` as a ``model`` instance, errors naming the item's position.

    Examples
    --------
    >>> from pydantic import BaseModel
    >>> class Point(BaseModel):
    ...     x: int
    >>> [p.x for p in validate_records(Point, [{"x": 1}, Point(x=2)])]
    [1, 2]
    """
    if isinstance(values, (str, bytes, Mapping, BaseModel)) or not isinstance(values, Iterable):
        raise DataError(
            f"{field} must be a list of {model.__name__} records or mappings, "
            f"got {type(values).__name__}",
            field=field,
        )
    return [validate_record(model, v, field=field, row=i) for i, v in enumerate(values)]
