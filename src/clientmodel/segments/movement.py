"""Migration between two dates: how customers move between segments or lifecycle stages.

A migration matrix $N_{ij}$ counts the customers labelled $i$ at the first date and $j$ at the
second; each cell also lists its customers, so a campaign can target, say, everyone who went
from *Champions* to *At Risk*. Customers present at only one date are labelled ``absent`` at the
other (e.g. customers acquired between the two dates move ``absent -> New``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar

import attrs
import numpy as np
from numpy.typing import NDArray

from clientmodel._validation import (
    boundary,
    check_sequence,
    check_text,
    count_reader,
    key_path,
    read_form,
)
from clientmodel.errors import ArgumentError, DataError
from clientmodel.periods import as_of_value
from clientmodel.segments._windows import same_ids
from clientmodel.tables import read_table

__all__ = ["ABSENT", "Migration", "migration", "migration_between"]

#: Label of customers missing from one of the two tables.
ABSENT = "absent"
_FORMAT = 1

_Members = Mapping[tuple[str, str], tuple[Any, ...]]


def _frozen_members(value: Mapping[tuple[str, str], Sequence[Any]]) -> _Members:
    # Read-only copies: a frozen Migration shares no mutable state with its caller.
    return MappingProxyType({(a, b): tuple(v) for (a, b), v in value.items()})


def _frozen_counts(value: Any) -> NDArray[np.int64]:
    out = np.array(value, dtype=np.int64)
    out.setflags(write=False)
    return out


@attrs.frozen
class Migration:
    """A migration matrix with the members of every cell.

    Attributes
    ----------
    labels_from, labels_to:
        Row labels (first date) and column labels (second date).
    counts:
        ``counts[i, j]`` customers labelled ``labels_from[i]`` then ``labels_to[j]``.
    members:
        ``members[(from, to)]``: the customers of a non-empty cell, sorted (a read-only
        mapping of tuples).

    Examples
    --------
    >>> m = migration({"customer_id": [1, 2], "label": ["a", "b"]},
    ...               {"customer_id": [1, 2], "label": ["b", "b"]})
    >>> m.count("a", "b"), m.members[("a", "b")]
    (1, (1,))
    """

    labels_from: tuple[str, ...]
    labels_to: tuple[str, ...]
    counts: NDArray[np.int64] = attrs.field(
        converter=_frozen_counts, eq=attrs.cmp_using(eq=np.array_equal)
    )
    members: _Members = attrs.field(converter=_frozen_members)

    _FORM: ClassVar[dict[str, Any]] = {
        "counts": lambda value, path: _read_counts(value, path),
        "members": lambda value, path: _read_members(value, path),
    }

    def __attrs_post_init__(self) -> None:
        for name in ("labels_from", "labels_to"):
            labels = getattr(self, name)
            if len(set(labels)) != len(labels):
                raise ArgumentError(
                    f"{name} must not repeat a label, got {list(labels)}", field=name
                )
        shape = (len(self.labels_from), len(self.labels_to))
        if self.counts.shape != shape:
            raise ArgumentError(
                f"counts must be {shape[0]} rows of {shape[1]} counts (one per label pair), "
                f"got shape {self.counts.shape}",
                field="counts",
            )
        if (self.counts < 0).any():
            raise ArgumentError("counts must be 0 or more", field="counts")
        seen: set[Any] = set()
        for n, ((a, b), ids) in enumerate(self.members.items()):
            if a not in self.labels_from or b not in self.labels_to:
                raise ArgumentError(
                    f"members cell ({a!r}, {b!r}) names a label not in labels_from/labels_to",
                    field=f"members[{n}]",
                )
            repeated = seen.intersection(ids) or (len(set(ids)) != len(ids))
            if repeated:
                raise ArgumentError(
                    f"members cell ({a!r}, {b!r}) lists a customer twice (a customer moves once)",
                    field=f"members[{n}]",
                )
            seen.update(ids)
        for i, a in enumerate(self.labels_from):
            for j, b in enumerate(self.labels_to):
                listed = len(self.members.get((a, b), ()))
                if listed != self.counts[i, j]:
                    raise ArgumentError(
                        f"counts[{i}][{j}] = {self.counts[i, j]} but cell ({a!r}, {b!r}) lists "
                        f"{listed} member(s); counts must agree with members",
                        field=f"counts[{i}][{j}]",
                    )

    @boundary
    def count(self, source: str, target: str) -> int:
        """Customers that moved from ``source`` to ``target`` (0 for unknown labels).

        Examples
        --------
        >>> m = migration({"customer_id": [1], "label": ["a"]}, {"customer_id": [1],
        ...               "label": ["a"]})
        >>> m.count("a", "a"), m.count("a", "zzz")
        (1, 0)
        """
        return len(self.members.get((source, target), ()))

    @boundary
    def shares(self) -> NDArray[np.float64]:
        """Row-normalised matrix: share of each first-date label moving to each label.

        Examples
        --------
        >>> m = migration({"customer_id": [1, 2], "label": ["a", "a"]},
        ...               {"customer_id": [1, 2], "label": ["a", "b"]})
        >>> m.shares().tolist()
        [[0.5, 0.5]]
        """
        totals = self.counts.sum(axis=1, keepdims=True).astype(np.float64)
        out: NDArray[np.float64] = np.divide(
            self.counts, totals, out=np.zeros(self.counts.shape), where=totals > 0
        )
        return out

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (members as lists of ``[from, to, [ids]]``).

        Examples
        --------
        >>> m = migration({"customer_id": ["x"], "label": ["a"]},
        ...               {"customer_id": ["x"], "label": ["b"]})
        >>> m.to_dict()["members"]
        [['a', 'b', ['x']]]
        """
        return {
            "model": "Migration",
            "format": _FORMAT,
            "labels_from": list(self.labels_from),
            "labels_to": list(self.labels_to),
            "counts": self.counts.tolist(),
            "members": [[a, b, list(v)] for (a, b), v in self.members.items()],
        }

    @classmethod
    @boundary
    def from_dict(cls, data: Mapping[str, Any]) -> Migration:
        """Rebuild from :meth:`to_dict` output.

        Examples
        --------
        >>> m = migration({"customer_id": ["x"], "label": ["a"]},
        ...               {"customer_id": ["x"], "label": ["b"]})
        >>> Migration.from_dict(m.to_dict()).count("a", "b")
        1
        """
        return read_form(cls, data)


def _read_counts(value: Any, path: str) -> NDArray[np.int64]:
    """A list of equal-length lists of counts."""
    rows = [
        [
            count_reader(v, key_path(path, i, j))
            for j, v in enumerate(check_sequence(r, key_path(path, i)))
        ]
        for i, r in enumerate(check_sequence(value, path))
    ]
    widths = sorted({len(r) for r in rows})
    if len(widths) > 1:
        raise ArgumentError(
            f"{path} must be rows of equal length, got rows of {widths[0]} and {widths[-1]}",
            field=path,
        )
    return np.array(rows, dtype=np.int64).reshape(len(rows), widths[0] if widths else 0)


def _read_id(value: Any, path: str) -> Any:
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ArgumentError(
        f"{path} must be a customer id (text or an integer), got {type(value).__name__}",
        field=path,
    )


def _read_members(value: Any, path: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    """``[[from, to, [ids]], ...]`` (the serialised members) as a mapping of cells."""
    out: dict[tuple[str, str], tuple[Any, ...]] = {}
    for n, cell in enumerate(check_sequence(value, path)):
        where = key_path(path, n)
        parts = check_sequence(cell, where)
        if len(parts) != 3:
            raise ArgumentError(
                f"{where} must be [from, to, [ids]], got {len(parts)} items", field=where
            )
        key = (check_text(parts[0], key_path(where, 0)), check_text(parts[1], key_path(where, 1)))
        if key in out:
            raise ArgumentError(f"{where} repeats the cell {list(key)}", field=where)
        ids = check_sequence(parts[2], key_path(where, 2))
        out[key] = tuple(_read_id(v, key_path(where, 2, i)) for i, v in enumerate(ids))
    return out


def _labels(table: Any, customer: str, label: str, name: str) -> tuple[NDArray[Any], Any]:
    t = read_table(table, name=name)
    t.require(customer, label)
    ids = t.ids(customer)
    labels = np.asarray([str(v) for v in t.ids(label)], dtype=object)
    uniq, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        dup = uniq[counts > 1][:5].tolist()
        raise DataError(
            f"{name} has customers listed more than once in {customer!r}: {dup}; each customer "
            "needs one label",
            field=customer,
        )
    return ids, labels


def _order(labels: NDArray[Any], order: Sequence[str] | None) -> tuple[str, ...]:
    present = {str(v) for v in labels}
    if order is None:
        return tuple(sorted(present))
    order = [
        check_text(v, key_path("order", i)) for i, v in enumerate(check_sequence(order, "order"))
    ]
    first = [str(v) for v in order if str(v) in present]
    return tuple(first + sorted(present - set(first)))


@boundary
def migration(
    before: Any,
    after: Any,
    *,
    customer: str = "customer_id",
    label: str = "label",
    order: Sequence[str] | None = None,
) -> Migration:
    """Migration matrix between two labelled tables (one label per customer in each).

    Parameters
    ----------
    before, after:
        Tables with a customer column and a label column (segment, stage, ...).
    customer, label:
        Column names, the same in both tables.
    order:
        Preferred order of the labels (e.g. :data:`~clientmodel.segments.lifecycle.STAGES`);
        labels not listed follow alphabetically.

    Examples
    --------
    >>> m = migration({"customer_id": [1, 2], "label": ["new", "new"]},
    ...               {"customer_id": [1, 3], "label": ["repeat", "new"]})
    >>> m.labels_from, m.labels_to
    (('absent', 'new'), ('absent', 'new', 'repeat'))
    """
    ids_a, lab_a = _labels(before, customer, label, "before")
    ids_b, lab_b = _labels(after, customer, label, "after")
    ids_a, ids_b = same_ids(ids_a, f"before[{customer!r}]", ids_b, f"after[{customer!r}]")
    all_ids = np.unique(np.concatenate([ids_a, ids_b]))
    full_a = np.full(len(all_ids), ABSENT, dtype=object)
    full_b = np.full(len(all_ids), ABSENT, dtype=object)
    full_a[np.searchsorted(all_ids, ids_a)] = lab_a
    full_b[np.searchsorted(all_ids, ids_b)] = lab_b
    rows = _order(full_a, order)
    cols = _order(full_b, order)
    rmap = {v: i for i, v in enumerate(rows)}
    cmap = {v: i for i, v in enumerate(cols)}
    ri = np.fromiter((rmap[v] for v in full_a), dtype=np.int64, count=len(full_a))
    ci = np.fromiter((cmap[v] for v in full_b), dtype=np.int64, count=len(full_b))
    counts = np.bincount(ri * len(cols) + ci, minlength=len(rows) * len(cols)).reshape(
        len(rows), len(cols)
    )
    members: dict[tuple[str, str], list[Any]] = {}
    order_idx = np.lexsort((ri * len(cols) + ci,))
    cells = (ri * len(cols) + ci)[order_idx]
    bounds = np.flatnonzero(np.r_[True, cells[1:] != cells[:-1], True])
    for s, e in itertools.pairwise(bounds):
        c = int(cells[s])
        key = (rows[c // len(cols)], cols[c % len(cols)])
        members[key] = [_plain(v) for v in all_ids[order_idx[s:e]]]
    return Migration(rows, cols, counts.astype(np.int64), members)


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


@boundary
def migration_between(
    transactions: Any,
    *,
    start: Any,
    end: Any,
    classify: Callable[[Any, Any], Any],
    customer: str = "customer_id",
    label: str = "stage",
    order: Sequence[str] | None = None,
) -> Migration:
    """Classify the same transaction log at two dates and return the migration between them.

    ``classify(transactions, as_of)`` returns a table with ``customer`` and ``label`` columns,
    e.g. ``lambda log, d: lifecycle_stages(log, as_of=d, after_as_of="exclude")`` (the log
    runs past ``start``, so its later rows are left out at the first date).

    Examples
    --------
    >>> from clientmodel.segments.lifecycle import lifecycle_stages, STAGES
    >>> log = {"customer_id": ["a", "b"], "timestamp": ["2024-01-10", "2024-05-10"]}
    >>> m = migration_between(log, start="2024-01-31", end="2024-05-31",
    ...     classify=lambda t, d: lifecycle_stages(t, as_of=d, after_as_of="exclude"),
    ...     order=STAGES)
    >>> m.members[("new", "at_risk")], m.members[("absent", "new")]
    (('a',), ('b',))
    """
    if not callable(classify):
        raise ArgumentError(
            f"classify must be a function (transactions, as_of) -> labelled table, got "
            f"{type(classify).__name__} {classify!r:.60}",
            field="classify",
        )
    # tz="UTC": dates, aware and naive datetimes all compare on one clock
    first = as_of_value(start, tz="UTC", field="start")
    last = as_of_value(end, tz="UTC", field="end")
    if last <= first:
        raise ArgumentError(
            f"end must be after start, got start={start!r} and end={end!r}", field="end"
        )
    return migration(
        classify(transactions, start),
        classify(transactions, end),
        customer=customer,
        label=label,
        order=order,
    )
