"""Readers of serialised (``to_dict``) forms for the B2B result classes' ``from_dict``.

Every reader names the key path of what it refuses (an :class:`~clientmodel.errors.ArgumentError`
from :mod:`clientmodel._validation`), so ``from_dict`` never leaks a ``KeyError`` or ``TypeError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from clientmodel._validation import (
    check_bool,
    check_choice,
    check_integer,
    check_mapping,
    check_number,
    check_sequence,
    check_text,
    key_path,
)
from clientmodel.errors import ArgumentError

_T = TypeVar("_T")


def form(data: Any, name: str, keys: tuple[str, ...]) -> Mapping[str, Any]:
    """``data`` as a mapping with ``keys`` (extra keys, such as derived fields, are ignored)."""
    return check_mapping(data, name, required=keys)


def text(data: Mapping[str, Any], key: str, name: str, *, optional: bool = False) -> Any:
    value = data[key]
    if optional and value is None:
        return None
    return check_text(value, key_path(name, key), allow_blank=True)


def number(data: Mapping[str, Any], key: str, name: str, **bounds: Any) -> float:
    return check_number(data[key], key_path(name, key), **bounds)


def integer(data: Mapping[str, Any], key: str, name: str, **bounds: Any) -> int:
    return check_integer(data[key], key_path(name, key), **bounds)


def flag(data: Mapping[str, Any], key: str, name: str) -> bool:
    return check_bool(data[key], key_path(name, key))


def choice(data: Mapping[str, Any], key: str, name: str, choices: tuple[str, ...]) -> str:
    return check_choice(data[key], key_path(name, key), choices)


def money(data: Mapping[str, Any], key: str, name: str) -> Decimal:
    value = data[key]
    path = key_path(name, key)
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ArgumentError(f"{path} must be an amount written as text, got {value!r}", field=path)
    try:
        out = Decimal(value)
    except InvalidOperation:
        raise ArgumentError(f"{path} must be a number, got {value!r}", field=path) from None
    if not out.is_finite():
        raise ArgumentError(f"{path} must be finite, got {value!r}", field=path)
    return out


def items(
    data: Mapping[str, Any], key: str, name: str, read: Callable[[Any, str], _T]
) -> tuple[_T, ...]:
    """Each element of the list at ``key`` read by ``read(value, path)``."""
    path = key_path(name, key)
    return tuple(read(v, f"{path}[{i}]") for i, v in enumerate(check_sequence(data[key], path)))


def texts(data: Mapping[str, Any], key: str, name: str) -> tuple[str, ...]:
    return items(data, key, name, lambda v, p: check_text(v, p, allow_blank=True))


def numbers(data: Mapping[str, Any], key: str, name: str) -> tuple[float, ...]:
    return items(data, key, name, check_number)


def row(value: Any, path: str, readers: tuple[Callable[[Any, str], Any], ...]) -> tuple[Any, ...]:
    """A fixed-length list read position by position (``[contact, stance, share]``...)."""
    values = check_sequence(value, path)
    if len(values) != len(readers):
        raise ArgumentError(
            f"{path} must hold {len(readers)} values, got {len(values)}", field=path
        )
    return tuple(r(v, f"{path}[{i}]") for i, (v, r) in enumerate(zip(values, readers, strict=True)))


def a_text(value: Any, path: str) -> str:
    return check_text(value, path, allow_blank=True)


def a_number(value: Any, path: str) -> float:
    return check_number(value, path)
