"""Shared checks of the bad-input corpus (issue 16, item 7).

Each corpus module lists cases as ``pytest.param`` objects built by :func:`bad`. A case is a thunk
that must raise a :class:`~clientmodel.errors.ClientModelError` subclass whose ``field`` or message
names the offending field/column (and whose ``rows`` hold the offending row, where there is one).
Every message and repr seen is scanned for the clear identifiers the corpus feeds in.

A case that does not hold on today's code carries ``xfail(strict=True)`` with what happens today,
so a fix shows as a loud XPASS and the mark is removed then.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pytest

from clientmodel.errors import ClientModelError

#: Clear personal identifiers fed into bad inputs; none may appear in full in a message or repr.
PHONE = "13800138000"
EMAIL = "zhang.wei@example.com"
CLEAR_IDENTIFIERS = (PHONE, EMAIL, "zhang.wei@qq")


def _names(err: ClientModelError) -> str:
    return f"{err.field or ''} {err}".lower()


def _fail(message: str) -> None:
    # pytrace=False: a one-line report; hundreds of expected failures stay cheap to report
    pytest.fail(message, pytrace=False)


def assert_private(*texts: object) -> None:
    """No clear identifier fed in by the corpus appears in any of ``texts``."""
    for text in texts:
        shown = str(text)
        for clear in CLEAR_IDENTIFIERS:
            if clear in shown:
                _fail(f"clear identifier {clear!r} leaked: {shown[:200]}")


def check_bad(
    thunk: Callable[[], Any],
    *,
    exc: type[ClientModelError] = ClientModelError,
    names: Iterable[str | tuple[str, ...]] = (),
    rows: Iterable[int] | None = None,
) -> ClientModelError:
    """Run ``thunk``; it must raise ``exc`` naming each of ``names`` (any of them, per tuple)."""
    try:
        result = thunk()
    except ClientModelError as err:
        caught = err
    except Exception as err:  # a leaked internal exception is what the corpus hunts
        _fail(f"leaks {type(err).__name__}: {str(err)[:160]}")
        raise  # unreachable: _fail raises
    else:
        _fail(f"no error; returned {_short(result)}")
    if not isinstance(caught, exc):
        _fail(f"{type(caught).__name__} raised, expected {exc.__name__}: {caught}")
    text = _names(caught)
    for name in names:
        options = (name,) if isinstance(name, str) else tuple(name)
        if not any(o.lower() in text for o in options):
            kind = type(caught).__name__
            _fail(f"{kind} does not name {options}: field={caught.field!r} {caught}")
    if rows is not None and not set(rows) <= set(caught.rows):
        _fail(f"rows {caught.rows} lack {sorted(set(rows))}: {caught}")
    assert_private(caught, repr(caught), caught.to_dict())
    return caught


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def bad(
    case_id: str,
    thunk: Callable[[], Any],
    names: list[str | tuple[str, ...]] | tuple[str, ...] | str = (),
    *,
    exc: type[ClientModelError] = ClientModelError,
    rows: Iterable[int] | None = None,
) -> Any:
    """One bad-input case as a ``pytest.param`` for ``check_bad``."""
    # a str is one required name, a tuple is one group of alternatives, a list is several required
    wanted = [names] if isinstance(names, (str, tuple)) else list(names)
    return pytest.param(thunk, wanted, exc, rows, id=case_id)


def keep(case_id: str, thunk: Callable[[], Any]) -> Any:
    """A "nothing lost" case: ``thunk`` asserts on its own and must not raise."""
    return pytest.param(thunk, id=case_id)


def marked(cases: list[Any], xfail: Mapping[str, str]) -> list[Any]:
    """``cases`` with ``xfail(strict=True)`` on the ids listed in ``xfail`` (what happens today)."""
    ids = [case.id for case in cases]
    assert len(set(ids)) == len(ids), "duplicate case ids"
    if os.environ.get("CORPUS_NO_XFAIL"):  # to re-measure what fails today
        return cases
    return [
        pytest.param(
            *case.values,
            id=case.id,
            marks=[pytest.mark.xfail(strict=True, reason=xfail[case.id])],
        )
        if case.id in xfail
        else case
        for case in cases
    ]


def unknown_ids(xfail: Mapping[str, str], *case_lists: list[Any]) -> list[str]:
    """Ids in ``xfail`` that name no case (a typo would silently unmark nothing)."""
    ids = {case.id for cases in case_lists for case in cases}
    return sorted(set(xfail) - ids)
