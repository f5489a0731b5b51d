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

import collections.abc
import datetime as dt
import decimal
import difflib
import enum
import functools
import inspect
import math
import numbers
import re
import types
import typing
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar

import attrs
import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ValidationError

from clientmodel.errors import ArgumentError, ClientModelError, DataError, _private, describe_rows

__all__ = [
    "EXACT_INTEGER_LIMIT",
    "array_reader",
    "boundary",
    "check_bool",
    "check_choice",
    "check_exact_counts",
    "check_finite_column",
    "check_floats",
    "check_instance",
    "check_integer",
    "check_mapping",
    "check_number",
    "check_seed",
    "check_sequence",
    "check_text",
    "choice_reader",
    "count_reader",
    "did_you_mean",
    "key_path",
    "mask_identifier",
    "nested_reader",
    "number_reader",
    "read_form",
    "read_key",
    "sum_finite",
    "validate_record",
    "validate_records",
]

#: Integers at or beyond this magnitude are not exact in float64: such counts are refused.
EXACT_INTEGER_LIMIT = 2**53

_Model = TypeVar("_Model", bound=BaseModel)
_T = TypeVar("_T")
_P = ParamSpec("_P")
_R = TypeVar("_R")
_Check = Callable[[Any, str], ArgumentError | None]


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
    return number + 0.0  # -0.0 becomes 0.0, which numpy's ranges accept as a bound


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


def check_floats(values: Any, field: str, *, data: bool = False) -> NDArray[np.float64]:
    """``values`` as a float64 array (NaN allowed), or an error naming ``field`` for text,
    dates and objects (a ``DataError`` with ``data``, for a column).

    Examples
    --------
    >>> check_floats([1, 2.5], "grid")
    array([1. , 2.5])
    >>> check_floats(["x"], "grid")
    Traceback (most recent call last):
    ...
    clientmodel.errors.ArgumentError: grid must be numbers, got list
    """
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise _error(
            f"{field} must be numbers, got {type(values).__name__}", field, data=data
        ) from None


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
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
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


def check_instance(value: Any, cls: type[_T], field: str) -> _T:
    """``value`` if it is a ``cls`` (a built record or result), else an ArgumentError.

    Examples
    --------
    >>> check_instance(3, int, "n")
    3
    >>> check_instance("3", int, "n")
    Traceback (most recent call last):
    ...
    clientmodel.errors.ArgumentError: n must be a int, got str
    """
    if isinstance(value, cls):
        return value
    name = cls.__name__
    hint = ""
    if isinstance(cls, type) and issubclass(cls, BaseModel):
        hint = f"; build one with {name}(...) or {name}.model_validate(...)"
    raise ArgumentError(f"{field} must be a {name}, got {type(value).__name__}{hint}", field=field)


# --- the boundary decorator -------------------------------------------------------------------

#: How many items of a list or mapping argument are compared with the declared item type.
_ITEMS_CHECKED = 20


def _describe(hint: Any) -> str:
    """A reader's name for a type hint: ``float | None`` -> ``'a number or None'``."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(dict.fromkeys(_describe(a) for a in typing.get_args(hint)))
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(hint))
    if hint is type(None) or hint is None:
        return "None"
    if hint is float:
        return "a finite number"
    if hint is int:
        return "an integer"
    if hint is str:
        return "text"
    if hint is bool:
        return "True or False"
    if origin is not None:
        if isinstance(origin, type) and issubclass(origin, collections.abc.Mapping):
            return "a mapping (a dict)"
        if origin in (collections.abc.Callable,):
            return "a callable"
        if isinstance(origin, type) and issubclass(
            origin, (collections.abc.Sequence, collections.abc.Set, collections.abc.Iterable)
        ):
            args = typing.get_args(hint)
            inner = (
                f" whose items are each {_describe(args[0])}" if args and args[0] is not Any else ""
            )
            return f"a list{inner}"
        return getattr(origin, "__name__", str(origin))
    return f"a {getattr(hint, '__name__', str(hint))}"


def _matches(value: Any, hint: Any) -> bool:
    """Whether ``value`` plainly fits ``hint``; anything this cannot judge counts as a fit."""
    if hint is Any or isinstance(hint, (TypeVar, str, typing.ForwardRef)):
        return True
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, a) for a in args)
    if origin is typing.Literal:
        return any(value == a and type(value) is type(a) for a in args)
    if origin is typing.Annotated:
        return _matches(value, args[0])
    if hint is None or hint is type(None):
        return value is None
    if hint is float:
        if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
            return False
        try:
            return math.isfinite(float(value))
        except OverflowError:  # an int beyond float's range (10**400)
            return False
    if hint is int:
        return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
    if hint is bool:
        return isinstance(value, (bool, np.bool_))
    if origin is None:
        if not isinstance(hint, type):
            return True
        try:
            return isinstance(value, hint)
        except TypeError:  # a Protocol that is not runtime-checkable
            return True
    if origin in (collections.abc.Callable,):
        return callable(value)
    if not isinstance(origin, type):
        return True
    try:
        if not isinstance(value, origin):
            return False
    except TypeError:
        return True
    if isinstance(value, (str, bytes)) and origin is not str:
        return False  # text is a sequence of characters, never the list a hint means
    if isinstance(value, Mapping) and not issubclass(origin, collections.abc.Mapping):
        return False  # a dict iterates over its keys, never the records a list hint means
    if isinstance(value, Mapping) and len(args) == 2:
        items = list(value.items())[:_ITEMS_CHECKED]
        return all(_matches(k, args[0]) and _matches(v, args[1]) for k, v in items)
    if isinstance(value, (list, tuple, set, frozenset)) and args:
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return len(value) == len(args) and all(
                _matches(v, a) for v, a in zip(value, args, strict=True)
            )
        return all(_matches(v, args[0]) for v in list(value)[:_ITEMS_CHECKED])
    return True


@functools.cache
def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    """The evaluable type hints of ``fn``'s parameters (names only known to mypy are skipped)."""
    out: dict[str, Any] = {}
    namespace = dict(vars(typing))
    namespace.update(fn.__globals__)
    for name, raw in getattr(fn, "__annotations__", {}).items():
        if name == "return":
            continue
        try:
            out[name] = eval(raw, namespace) if isinstance(raw, str) else raw
        except Exception:  # a name imported only for type checking: not judged
            continue
    return out


def _misfit(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> ArgumentError | None:
    """An ArgumentError naming the first argument that does not fit its declared type."""
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
    except TypeError as exc:  # a missing or unknown argument
        return ArgumentError(f"{fn.__name__}(): {exc}", field=fn.__name__)
    hints = _hints(fn)
    for name, value in bound.arguments.items():
        if name in ("self", "cls") or name not in hints:
            continue
        param = inspect.signature(fn).parameters[name]
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if not _matches(value, hints[name]):
            shown = _private(value) if isinstance(value, str) else _shown(value)
            return ArgumentError(
                f"{name} must be {_describe(hints[name])}, got {shown}", field=name
            )
    return None


def _scalar_check(hint: Any, default: Any) -> _Check | None:
    """A cheap entry check for a parameter declared ``bool``, ``int``, ``float`` or ``str``, or
    a record (a pydantic model).

    Only these (optionally ``| None``) are checked before the call: they cost a few isinstance
    calls, and a wrong value there is otherwise accepted silently (``"no"`` is truthy, NaN
    passes every comparison as False, a number passed as a profile goes through a function
    that has nothing to change).
    """
    args = typing.get_args(hint)
    optional = typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in args
    if optional:
        rest = [a for a in args if a is not type(None)]
        if len(rest) != 1:
            return None
        hint = rest[0]
    if isinstance(hint, type) and issubclass(hint, BaseModel):
        record = hint

        def check_record(value: Any, name: str) -> ArgumentError | None:
            if isinstance(value, record) or (value is None and optional):
                return None
            accepted = _describe(record) + (" or None" if optional else "")
            return ArgumentError(
                f"{name} must be {accepted}, got {type(value).__name__}", field=name
            )

        return check_record
    if hint not in (bool, int, float, str):
        return None
    allow_inf = isinstance(default, float) and math.isinf(default)
    plain = hint  # the exact built-in type: one identity test answers the common call

    def check(value: Any, name: str) -> ArgumentError | None:
        kind = value.__class__
        if kind is plain and (kind is not float or value - value == 0.0):  # finite floats only
            return None
        if value is None and optional:
            return None
        if _matches(value, hint):
            return None
        if hint is float and allow_inf and isinstance(value, float) and math.isinf(value):
            return None
        if hint is int and isinstance(value, float) and value.is_integer():
            return None  # 3.0 is an exact 3
        shown = _private(value) if isinstance(value, str) else _shown(value)
        accepted = _describe(hint) + (" or None" if optional else "")
        return ArgumentError(f"{name} must be {accepted}, got {shown}", field=name)

    return check


def _entry_checks(
    fn: Callable[..., Any],
) -> tuple[list[tuple[int, str, _Check]], dict[str, _Check]]:
    """The entry checks of ``fn``'s scalar parameters, by position and by name."""
    params = inspect.signature(fn).parameters
    positional = []
    for name, param in params.items():
        if param.kind in (param.VAR_POSITIONAL, param.KEYWORD_ONLY, param.VAR_KEYWORD):
            break
        positional.append(name)
    hints = _hints(fn)
    checks = {}
    for name, param in params.items():
        check = _scalar_check(hints[name], param.default) if name in hints else None
        if check is not None:
            checks[name] = check
    by_position = [(i, name, checks[name]) for i, name in enumerate(positional) if name in checks]
    return by_position, checks


def boundary(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Make a public function answer arguments of the wrong type with an ArgumentError.

    Two checks, both driven by the function's own type hints. Parameters declared ``bool``,
    ``int``, ``float``, ``str`` or a record class (or ``| None``) must hold such a value: text
    is not a flag, NaN is not a number, ``3.5`` is not a count, a number is not a profile;
    the function's own checks run first (their
    errors are more specific), and a value they let through is refused all the same. Other
    arguments are judged only when the function fails with an exception that is not a
    :class:`~clientmodel.errors.ClientModelError` (a ``TypeError`` deep inside numpy, an
    ``AttributeError`` on ``None``...): then the first argument that does not fit its declared
    type is named in an :class:`~clientmodel.errors.ArgumentError` chained to the original
    exception. A failure with well-typed arguments is a bug and is re-raised as it is.

    Examples
    --------
    >>> @boundary
    ... def top(scores: list[float], n: int = 3) -> list[float]:
    ...     return sorted(scores)[-n:]
    >>> top([1.0, 2.0], n="all")
    Traceback (most recent call last):
    ...
    clientmodel.errors.ArgumentError: n must be an integer, got 'all'
    >>> top([1.0, None])
    Traceback (most recent call last):
    ...
    clientmodel.errors.ArgumentError: scores must be a list whose items are each a finite ...
    """
    plan: tuple[list[tuple[int, str, _Check]], dict[str, _Check]] | None = None

    @functools.wraps(fn)
    def checked(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        nonlocal plan
        if plan is None:
            plan = _entry_checks(fn)
        by_position, checks = plan
        wrong: ArgumentError | None = None
        for i, name, check in by_position:
            if i < len(args):
                wrong = check(args[i], name)
                if wrong is not None:
                    break
        if wrong is None and kwargs:
            for name, value in kwargs.items():
                by_name = checks.get(name)
                wrong = by_name(value, name) if by_name is not None else None
                if wrong is not None:
                    break
        try:
            out = fn(*args, **kwargs)
        except ClientModelError:
            raise  # the function's own, more specific, check
        except Exception as exc:
            error = wrong or _misfit(fn, args, kwargs)
            if error is None:
                raise
            raise error from exc
        if wrong is not None:  # accepted silently: refuse it all the same
            raise wrong
        return out

    return checked


# --- one reader of serialised forms (``from_dict``) -------------------------------------------

#: Keys any serialised form may carry besides its fields (written by ``to_dict`` for readers).
FORM_META_KEYS = ("model", "format", "backend", "version")

_Reader = Callable[[Any, str], Any]


def _read_text(value: Any, path: str) -> str:
    return check_text(value, path, allow_blank=True)


def _read_datetime(value: Any, path: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        out = value
    else:
        try:
            out = dt.datetime.fromisoformat(check_text(value, path))
        except ValueError:
            raise ArgumentError(
                f"{path} must be an ISO timestamp with a zone, got {_shown(value)}", field=path
            ) from None
    if out.tzinfo is None:
        raise ArgumentError(
            f"{path} must carry a time zone (e.g. '2024-01-01T00:00:00+00:00'), "
            f"got {_shown(value)}",
            field=path,
        )
    return out


def _read_decimal(value: Any, path: str) -> decimal.Decimal:
    if isinstance(value, (bool, float)) or not isinstance(value, (str, int, decimal.Decimal)):
        raise ArgumentError(
            f"{path} must be an amount written as text (e.g. '12.50'), got {_shown(value)}",
            field=path,
        )
    try:
        out = decimal.Decimal(value)
    except decimal.InvalidOperation:
        raise ArgumentError(f"{path} must be a number, got {_shown(value)}", field=path) from None
    if not out.is_finite():
        raise ArgumentError(f"{path} must be finite, got {_shown(value)}", field=path)
    return out


def number_reader(**bounds: Any) -> _Reader:
    """A ``_FORM`` reader of a finite number within ``bounds`` (those of :func:`check_number`).

    Examples
    --------
    >>> number_reader(minimum=0, maximum=1)(2, "Hop.strength")
    Traceback (most recent call last):
    ...
    clientmodel.errors.ArgumentError: Hop.strength must be at most 1, got 2
    """
    return lambda value, path: check_number(value, path, **bounds)


def count_reader(value: Any, path: str) -> int:
    """A ``_FORM`` reader of a whole count (0 or more).

    Examples
    --------
    >>> count_reader(-1, "AccountRollup.contacts")
    Traceback (most recent call last):
    ...
    clientmodel.errors.ArgumentError: AccountRollup.contacts must be at least 0, got -1
    """
    return check_integer(value, path, minimum=0)


def choice_reader(choices: Collection[str]) -> _Reader:
    """A ``_FORM`` reader of one of ``choices``.

    Examples
    --------
    >>> choice_reader(["knows", "met"])("know", "Hop.kind")
    Traceback (most recent call last):
    ...
    clientmodel.errors.ArgumentError: Hop.kind must be one of 'knows', 'met', got 'know' ...
    """
    return lambda value, path: check_choice(value, path, choices)


def _read_date(value: Any, path: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(check_text(value, path))
    except ValueError:
        raise ArgumentError(
            f"{path} must be an ISO date such as '2024-01-01', got {_shown(value)}", field=path
        ) from None


def _read_record(model: type[BaseModel], value: Any, path: str) -> BaseModel:
    """A pydantic record inside a serialised form; its errors name the key path."""
    try:
        return validate_record(model, value, field=path)
    except DataError as exc:
        raise ArgumentError(f"{path}: {exc}", field=exc.field) from exc


def _hint_reader(hint: Any) -> _Reader:
    """How to read one value of a serialised form declared as ``hint`` (errors name its path)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        readers = [_hint_reader(a) for a in inner]
        nullable = len(inner) < len(args)

        def read_union(value: Any, path: str) -> Any:
            if value is None and nullable:
                return None
            first: ClientModelError | None = None
            for read in readers:
                try:
                    return read(value, path)
                except ClientModelError as exc:
                    first = first or exc
            if first is None or len(readers) == 1:
                raise first or ArgumentError(f"{path} must not be None", field=path)
            raise ArgumentError(
                f"{path} must be {_describe(hint)}, got {_shown(value)}", field=path
            ) from first

        return read_union
    if origin is typing.Literal:
        return lambda value, path: check_choice(value, path, [str(a) for a in args])
    simple: dict[Any, _Reader] = {
        str: _read_text,
        bool: check_bool,
        int: check_integer,
        float: check_number,
        dt.datetime: _read_datetime,
        dt.date: _read_date,
    }
    if hint in simple:
        return simple[hint]
    if hint is decimal.Decimal:
        return _read_decimal
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        members = {str(m.value): m for m in hint}
        return lambda value, path: members[check_choice(value, path, list(members))]
    if isinstance(hint, type) and attrs.has(hint):
        return lambda value, path: read_form(hint, value, path=path)
    if isinstance(hint, type) and issubclass(hint, BaseModel):
        return lambda value, path: _read_record(hint, value, path)
    if isinstance(origin, type) and issubclass(origin, collections.abc.Mapping):
        read_key_ = _hint_reader(args[0]) if args else _read_text
        read_value = _hint_reader(args[1]) if len(args) == 2 else (lambda v, p: v)

        def read_mapping(value: Any, path: str) -> dict[Any, Any]:
            items = check_mapping(value, path)
            return {
                read_key_(k, key_path(path, str(k))): read_value(v, key_path(path, str(k)))
                for k, v in items.items()
            }

        return read_mapping
    if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
        fixed = [_hint_reader(a) for a in args]

        def read_row(value: Any, path: str) -> tuple[Any, ...]:
            row = check_sequence(value, path)
            if len(row) != len(fixed):
                raise ArgumentError(
                    f"{path} must hold {len(fixed)} items, got {len(row)}", field=path
                )
            return tuple(
                r(v, key_path(path, i)) for i, (r, v) in enumerate(zip(fixed, row, strict=True))
            )

        return read_row
    if isinstance(origin, type) and issubclass(
        origin, (collections.abc.Sequence, collections.abc.Set)
    ):
        read_item = _hint_reader(args[0]) if args else (lambda v, p: v)

        def read_items(value: Any, path: str) -> tuple[Any, ...]:
            return tuple(
                read_item(v, key_path(path, i)) for i, v in enumerate(check_sequence(value, path))
            )

        return read_items
    return lambda value, path: value  # Any, numpy arrays...: the class's own checks judge them


@functools.cache
def _field_hints(cls: Any) -> dict[str, Any]:
    module = __import__(cls.__module__, fromlist=["_"])
    namespace = dict(vars(typing))
    namespace["dt"] = dt
    namespace.update(vars(module))
    out: dict[str, Any] = {}
    for field in attrs.fields(cls):
        raw = field.type
        try:
            out[field.name] = eval(raw, namespace) if isinstance(raw, str) else raw
        except Exception:  # a name known only to mypy: read as it is
            out[field.name] = Any
    return out


def read_form(
    cls: type[_T],
    data: Any,
    *,
    path: str | None = None,
    read: Mapping[str, _Reader] | None = None,
) -> _T:
    """Rebuild the attrs class ``cls`` from its serialised form (the one ``from_dict`` reader).

    Every field is read by its declared type (text, numbers, flags, choices of a ``Literal``,
    ISO dates and zoned timestamps, decimals, tuples, mappings, nested attrs classes,
    ``X | None``, enums by value). The class's small schema, a ``_FORM`` class attribute mapping
    field names to readers ``read(value, key_path)`` (for bounds and choices the type does not
    say), and the ``read`` argument override the reader of a field. A form laid out other than
    field by field declares it in a ``_FORM_KEYS`` class attribute: a form key mapped to a field
    name holds that field under another name (``"window_seconds": "window"``), a form key mapped
    to a tuple of field names holds those fields, as a mapping by field name or as a list in
    that order (``"edges": ("recency", "frequency")``). A missing required key,
    an unknown key (with a "did you mean"), a value of the wrong type and a construction the
    class itself refuses all raise :class:`~clientmodel.errors.ArgumentError` naming the key
    path, such as ``IntroPath.hops[0].strength``. Keys that ``to_dict`` derives from the fields
    (a total, a rate) are accepted only when they agree with the rebuilt value, so a form edited
    inconsistently is refused rather than silently believed.

    A mapping field whose keys ``to_dict`` writes at the top level of the form (a flat record)
    is named in a ``_FORM_INLINE`` class attribute, ``{field: its keys}``; each key is then
    required and read by the mapping's value type, its errors naming ``Class.key``.

    Examples
    --------
    >>> @attrs.frozen
    ... class Tie:
    ...     source: str
    ...     strength: float
    ...     def to_dict(self):
    ...         return {"source": self.source, "strength": self.strength}
    >>> read_form(Tie, {"source": "t1", "strength": 0.8})
    Tie(source='t1', strength=0.8)
    >>> read_form(Tie, {"source": "t1", "strength": "high"})
    Traceback (most recent call last):
    ...
    clientmodel.errors.ArgumentError: Tie.strength must be a number, got 'high'
    >>> read_form(Tie, {"source": "t1", "strenght": 0.8})
    Traceback (most recent call last):
    ...
    clientmodel.errors.ArgumentError: Tie is missing key 'strength' and has unknown key ...

    A form holding two fields under one key, as a list:

    >>> @attrs.frozen
    ... class Band:
    ...     low: float
    ...     high: float
    ...     _FORM_KEYS = {"band": ("low", "high")}
    >>> read_form(Band, {"band": [1, 2]})
    Band(low=1.0, high=2.0)
    >>> read_form(Band, {"band": [1, "x"]})
    Traceback (most recent call last):
    ...
    clientmodel.errors.ArgumentError: Band.band[1] must be a number, got 'x'

    A mapping field written as top-level keys of the form (``_FORM_INLINE``):

    >>> @attrs.frozen
    ... class Checklist:
    ...     deal: str
    ...     flags: Mapping[str, bool]
    ...     _FORM_INLINE: typing.ClassVar = {"flags": ("pain", "champion")}
    >>> read_form(Checklist, {"deal": "d1", "pain": True, "champion": False}).flags
    {'pain': True, 'champion': False}
    >>> read_form(Checklist, {"deal": "d1", "pain": True, "champion": "yes"})
    Traceback (most recent call last):
    ...
    clientmodel.errors.ArgumentError: Checklist.champion must be True or False, got 'yes'
    """
    path = path or cls.__name__
    fields = [f for f in attrs.fields(cls) if f.init]  # type: ignore[arg-type]
    located = _form_locations(cls, data, path)
    if located is not None:
        data = located
    keys = _form_keys(cls)
    inline: Mapping[str, tuple[str, ...]] = getattr(cls, "_FORM_INLINE", {})
    required = list(
        dict.fromkeys(
            keys[f.name] for f in fields if f.default is attrs.NOTHING and f.name not in inline
        )
    )
    required += [k for names in inline.values() for k in names]
    if isinstance(data, Mapping):
        missing = [k for k in required if k not in data]
        unknown = [str(k) for k in data if k not in required]
        for key in missing:
            close = difflib.get_close_matches(key, unknown, n=1, cutoff=0.6)
            if close:
                raise ArgumentError(
                    f"{path} is missing key {key!r} and has unknown key {close[0]!r} "
                    f"(a misspelling of {key!r}?)",
                    field=key_path(path, key),
                )
    mapping = check_mapping(data, path, required=required)
    hints = _field_hints(cls)  # type: ignore[arg-type]
    overrides = {**getattr(cls, "_FORM", {}), **(read or {})}
    values: dict[str, Any] = {}
    paths = {key: key_path(path, key) for key in getattr(cls, "_FORM_KEYS", {})}
    for f in fields:
        if f.name in inline:
            values[f.name] = _read_inline(hints.get(f.name, Any), inline[f.name], mapping, path)
            paths[f.name] = path
            continue
        if f.name not in mapping:
            continue
        reader = overrides.get(f.name) or _hint_reader(hints.get(f.name, Any))
        value = mapping[f.name]
        where = key_path(path, f.name)
        if isinstance(value, _Located):
            value, where = value.value, value.path
        values[f.name] = reader(value, where)
        paths[f.name] = where
    try:
        out = cls(**values)
    except ArgumentError as exc:
        if path in str(exc):
            raise
        raise _named(exc, path, paths, cls.__name__) from exc
    except ClientModelError as exc:
        raise _named(exc, path, paths, cls.__name__) from exc
    except (TypeError, ValueError) as exc:
        raise ArgumentError(f"{path} is inconsistent: {exc}", field=path) from exc
    written = {k for names in inline.values() for k in names}
    extra = [
        k
        for k in mapping
        if k not in values
        and k not in written
        and k not in FORM_META_KEYS
        and not isinstance(mapping[k], _Grouped)
    ]
    if extra:
        derived = out.to_dict() if hasattr(out, "to_dict") else {}
        for key in extra:
            if key not in derived:
                known = list(dict.fromkeys(keys.values()))
                raise ArgumentError(
                    f"{path} has unknown key {key!r}{did_you_mean(key, known)}; "
                    f"accepted: {', '.join(map(repr, known))}",
                    field=key_path(path, str(key)),
                )
            if not _same(derived[key], mapping[key]):
                raise ArgumentError(
                    f"{path}.{key} disagrees with the other fields: they give "
                    f"{_shown(derived[key])}, the form says {_shown(mapping[key])}",
                    field=key_path(path, str(key)),
                )
    return out


@attrs.frozen
class _Located:
    """A field's value found under another key of a form, with its key path there."""

    value: Any
    path: str


@attrs.frozen
class _Grouped:
    """A form key whose fields were read from it (``_FORM_KEYS``)."""


def _form_locations(cls: Any, data: Any, path: str) -> dict[Any, Any] | None:
    """``data`` with the keys of ``cls._FORM_KEYS`` spread into fields (``None``: no such keys)."""
    layout: Mapping[str, str | tuple[str, ...]] = getattr(cls, "_FORM_KEYS", {})
    if not layout or not isinstance(data, Mapping):
        return None
    out: dict[Any, Any] = dict(data)
    for key, names in layout.items():
        for name in (names,) if isinstance(names, str) else names:
            if name in data and name != key:  # the form holds it under ``key`` only
                raise ArgumentError(
                    f"{path} has unknown key {name!r}; the form holds it under {key!r}",
                    field=key_path(path, name),
                )
        if key not in data:
            continue
        where = key_path(path, key)
        value = out.pop(key)
        if isinstance(names, str):
            out[names] = _Located(value, where)
        elif isinstance(value, Mapping):
            check_mapping(value, where, required=names, optional=())
            out.update({n: _Located(value[n], key_path(where, n)) for n in names})
        else:
            items = check_sequence(value, where)
            if len(items) != len(names):
                raise ArgumentError(
                    f"{where} must hold {len(names)} items ({', '.join(names)}), got {len(items)}",
                    field=where,
                )
            out.update(
                {
                    n: _Located(v, key_path(where, i))
                    for i, (n, v) in enumerate(zip(names, items, strict=True))
                }
            )
        out[key] = _Grouped()
    return out


def _form_keys(cls: Any) -> dict[str, str]:
    """Each init field's key in the serialised form (``_FORM_KEYS`` moves some)."""
    out = {f.name: f.name for f in attrs.fields(cls) if f.init}
    for key, names in getattr(cls, "_FORM_KEYS", {}).items():
        out.update(dict.fromkeys((names,) if isinstance(names, str) else names, key))
        out[key] = key
    return out


def _named(exc: ClientModelError, path: str, paths: Mapping[str, str], name: str) -> ArgumentError:
    """A construction's refusal as an ``ArgumentError`` naming the form's key path.

    ``paths``: where the form held each field read (and each ``_FORM_KEYS`` key); ``name``: the
    class, whose own prefix on the error's field (``Meddpicc.score``) is the form's root.
    """
    field = exc.field or ""
    if field.startswith((f"{name}.", f"{name}[")):
        field = field[len(name) :].lstrip(".")
    head = re.split(r"[.\[]", field, maxsplit=1)[0]
    where = path if head not in paths else paths[head] + field[len(head) :]
    return ArgumentError(f"{where}: {exc}", field=where)


def _same(a: Any, b: Any) -> bool:
    """Equality of two serialised values, with a float tolerance for values written as text."""
    if isinstance(a, float) and isinstance(b, numbers.Real) and not isinstance(b, bool):
        return math.isclose(a, float(b), rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    try:
        return bool(a == b)
    except Exception:
        return False


def _read_inline(
    hint: Any, keys: tuple[str, ...], mapping: Mapping[str, Any], path: str
) -> dict[str, Any]:
    """A mapping field written as top-level keys of its form (see ``_FORM_INLINE``)."""
    args = typing.get_args(hint)
    read_value = _hint_reader(args[1]) if len(args) == 2 else (lambda v, p: v)
    return {k: read_value(mapping[k], key_path(path, k)) for k in keys}


def array_reader(*, ndim: int = 1, missing: bool = False, **bounds: Any) -> _Reader:
    """A ``_FORM`` reader of an ``ndim``-dimensional array of finite numbers (nested lists).

    Rows must be of equal length; each number is checked by :func:`check_number` with
    ``bounds``, its error naming its position (``Chain.matrix[1][2]``). With ``missing``, ``None``
    stands for NaN (``to_dict`` writes an unknown value as ``None``). The result is a read-only
    float64 array.

    Examples
    --------
    >>> array_reader(ndim=2, minimum=0)([[0.5, 0.5], [1, 0]], "Chain.matrix").tolist()
    [[0.5, 0.5], [1.0, 0.0]]
    >>> array_reader(ndim=2)([[0.5, 0.5], [1]], "Chain.matrix")
    Traceback (most recent call last):
    ...
    clientmodel.errors.ArgumentError: Chain.matrix[1] must hold 2 items (one per column), got 1
    >>> array_reader(minimum=0)([1.0, -2], "Chain.sojourn_days")
    Traceback (most recent call last):
    ...
    clientmodel.errors.ArgumentError: Chain.sojourn_days[1] must be at least 0, got -2
    """

    def read(value: Any, path: str, depth: int = ndim) -> list[Any]:
        items = check_sequence(value, path)
        if depth == 1:
            return [
                math.nan if v is None and missing else check_number(v, key_path(path, i), **bounds)
                for i, v in enumerate(items)
            ]
        rows = [read(v, key_path(path, i), depth - 1) for i, v in enumerate(items)]
        for i, r in enumerate(rows[1:], start=1):
            if len(r) != len(rows[0]):
                raise ArgumentError(
                    f"{key_path(path, i)} must hold {len(rows[0])} items (one per column), "
                    f"got {len(r)}",
                    field=key_path(path, i),
                )
        return rows

    def read_array(value: Any, path: str) -> NDArray[np.float64]:
        out = np.array(read(value, path), dtype=np.float64)
        if out.ndim != ndim:  # an empty list has one dimension whatever ndim says
            out = out.reshape((0,) * ndim)
        out.setflags(write=False)
        return out

    return read_array


def nested_reader(from_dict: Callable[[Any], _T], name: str) -> _Reader:
    """A ``_FORM`` reader of a nested form rebuilt by ``from_dict``, whose errors name ``name``.

    For a nested class with its own ``from_dict`` (a model found by name, a form with a format
    check): its errors are re-rooted at the key path, so ``RFMScorer.k`` inside a plan is reported
    as ``ScoringPlan.rfm.k``.

    Examples
    --------
    >>> def from_dict(d):
    ...     return check_number(d["k"], "Scorer.k", minimum=2)
    >>> nested_reader(from_dict, "Scorer")({"k": 1}, "Plan.rfm")
    Traceback (most recent call last):
    ...
    clientmodel.errors.ArgumentError: Plan.rfm.k must be at least 2, got 1
    """

    def read(value: Any, path: str) -> _T:
        check_mapping(value, path)
        try:
            return from_dict(value)
        except ArgumentError as exc:
            raise _rerooted(exc, name, path) from exc

    return read


def _rerooted(exc: ArgumentError, name: str, path: str) -> ArgumentError:
    """``exc`` (naming ``name.key``) told at ``path`` (``path.key``)."""
    message, field = exc.message, exc.field or name
    if message.startswith(name) and not message.startswith(path):
        message = path + message[len(name) :]
    elif not message.startswith(path):
        message = f"{path}: {message}"
    if field == name or field.startswith((f"{name}.", f"{name}[")):
        field = path + field[len(name) :]
    elif not field.startswith(path):
        field = key_path(path, field)
    return ArgumentError(message, field=field)
