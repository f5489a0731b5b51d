"""Audiences: named customer groups defined by rule predicates over any columns.

An audience is a name and a :mod:`clientmodel.rules` predicate, e.g.
``Audience("vip_at_risk", "r <= 2 and m >= 4")``, evaluated on a table (one boolean column per
audience) or on one record (the list of audiences it belongs to). Unlike segments, audiences may
overlap; :func:`audience_overlap` counts the customers shared by every pair.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import attrs
import narwhals.stable.v2 as nw
import numpy as np
from numpy.typing import NDArray

from clientmodel import rules
from clientmodel._validation import (
    boundary,
    check_bool,
    check_sequence,
    read_form,
)
from clientmodel.errors import ArgumentError, DataError, RuleError
from clientmodel.rules.parser import as_rule
from clientmodel.segments._windows import same_ids
from clientmodel.tables import is_lazy, read_table

__all__ = [
    "Audience",
    "AudienceOverlap",
    "audience_changes",
    "audience_overlap",
    "audience_table",
    "audiences_of",
]

_FORMAT = 1


@attrs.frozen
class Audience:
    """A named rule. ``rule`` is rule text or a parsed :class:`clientmodel.rules.Rule`.

    Examples
    --------
    >>> Audience("big_spenders", "monetary >= 500").name
    'big_spenders'
    """

    name: str
    rule: Any

    _FORM: ClassVar[dict[str, Any]] = {"rule": lambda value, path: _read_rule(value, path)}

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ArgumentError(
                f"audience name must be a non-empty string, got {self.name!r}", field="name"
            )
        try:  # a rule that does not parse is refused now, not at first use
            as_rule(self.rule)
        except RuleError as err:
            raise RuleError(
                f"audience {self.name!r} rule: {err}", field="rule", position=err.position
            ) from err

    @boundary
    def parsed(self) -> rules.Rule:
        """The rule as a parsed :class:`clientmodel.rules.Rule` (from text, a Rule or its JSON).

        Examples
        --------
        >>> Audience("x", "r >= 4").parsed().kind
        'compare'
        """
        return as_rule(self.rule)

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form with the rule as text.

        Examples
        --------
        >>> Audience("x", "r >= 4").to_dict()
        {'name': 'x', 'rule': 'r >= 4'}
        """
        text = self.rule if isinstance(self.rule, str) else rules.to_text(self.parsed())
        return {"name": self.name, "rule": text}

    @classmethod
    @boundary
    def from_dict(cls, data: Mapping[str, Any]) -> Audience:
        """Rebuild from :meth:`to_dict` output.

        Examples
        --------
        >>> Audience.from_dict({"name": "x", "rule": "r >= 4"}).rule
        'r >= 4'
        """
        return read_form(cls, data)


def _read_rule(value: Any, path: str) -> str | Mapping[str, Any]:
    """Rule text or a rule's JSON mapping that parses (errors name the key path)."""
    if not isinstance(value, (str, Mapping)):
        raise ArgumentError(
            f"{path} must be rule text or a rule's JSON mapping, got {type(value).__name__}",
            field=path,
        )
    try:
        as_rule(value)
    except RuleError as err:
        raise ArgumentError(f"{path}: {err}", field=path) from err
    return value if isinstance(value, str) else copy.deepcopy(dict(value))  # shares nothing


def _audiences(audiences: Sequence[Audience] | Mapping[str, Any]) -> list[Audience]:
    if isinstance(audiences, Mapping):
        out = [Audience(str(k), v) for k, v in audiences.items()]
    else:
        out = check_sequence(audiences, "audiences")
        if not all(isinstance(a, Audience) for a in out):
            raise ArgumentError(
                "audiences must be Audience objects or a mapping of name -> rule",
                field="audiences",
            )
    names = [a.name for a in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ArgumentError(f"audience names must be unique; repeated: {dup}", field="audiences")
    return out


def _eager(table: Any) -> Any:
    """A lazy frame collected once (audiences are counted in memory); other tables as given."""
    return nw.from_native(table).collect().to_native() if is_lazy(table) else table


def _membership(
    table: Any, n_rows: int, audiences: list[Audience], as_of: Any
) -> NDArray[np.bool_]:
    out = np.zeros((n_rows, len(audiences)), dtype=bool)
    for j, a in enumerate(audiences):
        out[:, j] = np.asarray(rules.evaluate_table(a.rule, table, as_of=as_of), dtype=bool)
    return out


@boundary
def audience_table(
    table: Any,
    audiences: Sequence[Audience] | Mapping[str, Any],
    *,
    as_of: Any = None,
    customer: str | None = "customer_id",
    exclusive: bool = False,
    suppress: Any = None,
) -> Any:
    """One boolean column per audience for every row of ``table`` (caller's kind of table).

    Parameters
    ----------
    table:
        Any columns the rules refer to (RFM scores, lifecycle stage, tags, LTV, ...).
    audiences:
        :class:`Audience` objects, or a mapping of name -> rule text / Rule.
    as_of:
        Passed to the rules (for date comparisons).
    customer:
        Customer column copied to the output when present.
    exclusive:
        Priority: each row lands in at most one audience, the first in the given order that it
        matches (a campaign sends one message per customer).
    suppress:
        A rule (text, Rule or :class:`Audience`) whose matching rows are in no audience, e.g.
        ``"unsubscribed"`` or a recent-complaint list; rows where it is null are not suppressed.

    Returns
    -------
    The caller's kind of table; a lazy frame (polars ``LazyFrame``, dask, duckdb) stays lazy:
    the engine's lazy frame with the customer column and one boolean column per audience.

    Examples
    --------
    >>> t = {"customer_id": [1, 2], "r": [5, 1]}
    >>> audience_table(t, {"recent": "r >= 4"})["recent"].tolist()
    [True, False]
    """
    auds = _audiences(audiences)
    exclusive = check_bool(exclusive, "exclusive")
    if suppress is not None:
        suppress = suppress if isinstance(suppress, Audience) else Audience("suppress", suppress)
    if is_lazy(table):
        return _audience_table_lazy(table, auds, as_of, customer, exclusive, suppress)
    table = _eager(table)
    t = read_table(table, name="table")
    member = _membership(table, t.n_rows, auds, as_of)
    if suppress is not None:
        member &= ~_membership(table, t.n_rows, [suppress], as_of)
    if exclusive:
        member &= np.cumsum(member, axis=1) == 1  # keep the first match of each row
    cols: dict[str, Any] = {}
    if customer is not None and customer in t.columns:
        cols[customer] = t.raw(customer)
    for j, a in enumerate(auds):
        cols[a.name] = member[:, j]
    return t.result(cols)


def _audience_table_lazy(
    table: Any,
    audiences: list[Audience],
    as_of: Any,
    customer: str | None,
    exclusive: bool,
    suppress: Audience | None,
) -> Any:
    """The membership columns as expressions on the engine (nothing collected)."""
    frame = table
    temporary = [f"__audience_{j}" for j in range(len(audiences))]
    for a, name in zip(audiences, temporary, strict=True):
        frame = rules.evaluate_table(a.rule, frame, as_of=as_of, name=name)
    if suppress is not None:
        frame = rules.evaluate_table(suppress.rule, frame, as_of=as_of, name="__suppress")
    lazy = nw.from_native(frame)
    keep = [nw.col(customer)] if customer is not None and customer in lazy.columns else []
    picked = []
    taken: nw.Expr = nw.lit(False)
    for a, name in zip(audiences, temporary, strict=True):
        hit = nw.col(name).fill_null(False)
        if suppress is not None:
            hit = hit & ~nw.col("__suppress").fill_null(False)
        if exclusive:
            hit, taken = hit & ~taken, taken | hit
        picked.append(hit.alias(a.name))
    return lazy.select(*keep, *picked).to_native()


@boundary
def audience_changes(
    before: Any,
    after: Any,
    *,
    audiences: Sequence[str] | None = None,
    customer: str = "customer_id",
) -> Any:
    """Who entered and who left each audience between two runs of :func:`audience_table`.

    A customer missing from one run counts as outside every audience in it (a new customer can
    enter; a removed one exits).

    Parameters
    ----------
    before, after:
        Two audience tables (``customer`` plus one boolean column per audience).
    audiences:
        The audience columns to compare (default: every column the two tables share besides
        ``customer``).
    customer:
        The customer column.

    Returns
    -------
    ``after``'s kind of table in long form: ``<customer>``, ``audience`` and ``change``
    (``"entered"`` or ``"exited"``), one row per customer whose membership changed, sorted by
    audience then customer.

    Examples
    --------
    >>> monday = {"customer_id": [1, 2, 3], "vip": [True, True, False]}
    >>> friday = {"customer_id": [2, 3, 4], "vip": [True, True, True]}
    >>> out = audience_changes(monday, friday)
    >>> list(zip(out["customer_id"].tolist(), out["change"].tolist()))
    [(1, 'exited'), (3, 'entered'), (4, 'entered')]
    """
    first = read_table(_eager(before), name="before")
    second = read_table(_eager(after), name="after")
    first.require(customer)
    second.require(customer)
    if audiences is None:
        audiences = [c for c in second.columns if c in first.columns and c != customer]
    names = check_sequence(audiences, "audiences")
    a_ids, b_ids = same_ids(
        first.ids(customer), f"before[{customer!r}]", second.ids(customer), f"after[{customer!r}]"
    )
    for ids, name in ((a_ids, "before"), (b_ids, "after")):
        if len(np.unique(ids)) != len(ids):
            raise DataError(f"{name} lists a customer more than once", field=customer)
    everyone = np.unique(np.concatenate([a_ids, b_ids]))
    out_ids: list[Any] = []
    out_aud: list[str] = []
    out_change: list[str] = []
    for name in names:
        was = np.zeros(len(everyone), dtype=bool)
        now = np.zeros(len(everyone), dtype=bool)
        was[np.searchsorted(everyone, a_ids)] = _flags(first, name)
        now[np.searchsorted(everyone, b_ids)] = _flags(second, name)
        for change, mask in (("entered", now & ~was), ("exited", was & ~now)):
            out_ids += everyone[mask].tolist()
            out_aud += [name] * int(mask.sum())
            out_change += [change] * int(mask.sum())
    order = sorted(range(len(out_ids)), key=lambda i: (out_aud[i], out_ids[i]))
    return second.result(
        {
            customer: np.array([out_ids[i] for i in order], dtype=everyone.dtype),
            "audience": np.array([out_aud[i] for i in order], dtype=object),
            "change": np.array([out_change[i] for i in order], dtype=object),
        }
    )


def _flags(table: Any, column: str) -> NDArray[np.bool_]:
    table.require(column)
    values = table.raw(column)
    if values.dtype != bool:
        raise DataError(
            f"column {column!r} of {table.name} must hold True/False (an audience table's "
            f"membership), got {values.dtype}",
            field=column,
        )
    return np.asarray(values, dtype=bool)


@boundary
def audiences_of(
    record: Any,
    audiences: Sequence[Audience] | Mapping[str, Any],
    *,
    as_of: Any = None,
) -> list[str]:
    """Names of the audiences one record belongs to, in the given order.

    Examples
    --------
    >>> audiences_of({"r": 5}, {"recent": "r >= 4", "lapsed": "r <= 2"})
    ['recent']
    """
    return [a.name for a in _audiences(audiences) if rules.evaluate(a.rule, record, as_of=as_of)]


@attrs.frozen
class AudienceOverlap:
    """Pairwise overlap counts between audiences.

    ``counts[i, j]`` is the number of rows in both audience ``i`` and ``j``; the diagonal holds
    each audience's size.

    Examples
    --------
    >>> o = AudienceOverlap(("a", "b"), np.array([[3, 1], [1, 2]]), 5)
    >>> float(o.jaccard()[0, 1])
    0.25
    """

    names: tuple[str, ...]
    counts: NDArray[np.int64]
    n_rows: int

    @boundary
    def jaccard(self) -> NDArray[np.float64]:
        """Jaccard similarity of every pair: both / either (1 on the diagonal of non-empty ones).

        Examples
        --------
        >>> AudienceOverlap(("a",), np.array([[0]]), 4).jaccard().tolist()
        [[0.0]]
        """
        size = np.diag(self.counts).astype(np.float64)
        union = size[:, None] + size[None, :] - self.counts
        out: NDArray[np.float64] = np.divide(
            self.counts, union, out=np.zeros(self.counts.shape), where=union > 0
        )
        return out

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form.

        Examples
        --------
        >>> AudienceOverlap(("a",), np.array([[2]]), 4).to_dict()["counts"]
        [[2]]
        """
        return {
            "model": "AudienceOverlap",
            "format": _FORMAT,
            "names": list(self.names),
            "counts": self.counts.tolist(),
            "n_rows": self.n_rows,
        }


@boundary
def audience_overlap(
    table: Any,
    audiences: Sequence[Audience] | Mapping[str, Any],
    *,
    as_of: Any = None,
) -> AudienceOverlap:
    """Count the rows shared by every pair of audiences.

    Examples
    --------
    >>> t = {"r": [5, 4, 1]}
    >>> audience_overlap(t, {"hi": "r >= 4", "top": "r >= 5"}).counts.tolist()
    [[2, 1], [1, 1]]
    """
    auds = _audiences(audiences)
    table = _eager(table)
    n_rows = read_table(table, name="table").n_rows
    member = _membership(table, n_rows, auds, as_of).astype(np.int64)
    counts = member.T @ member
    return AudienceOverlap(tuple(a.name for a in auds), counts, int(member.shape[0]))
