"""MEDDPICC completeness of a deal, from the deal's notes and its buying committee.

MEDDPICC (Metrics, Economic buyer, Decision criteria, Decision process, Paper process, Identify
pain, Champion, Competition) is the qualification checklist that grew out of PTC's MEDDIC
(Dick Dunkel and Jack Napoli, 1996). Each of the eight elements is a yes/no:

* the six note fields of :class:`~clientmodel.accounts.models.DealContext` (``metrics``,
  ``decision_criteria``, ``decision_process``, ``paper_process``, ``pain``, ``competition``) are
  known when they hold non-blank text;
* **economic buyer**: an active contact holds the ``economic_buyer`` role on the deal (or on its
  account) and is not a detractor;
* **champion**: an active contact holds the ``champion`` role and is a supporter.

The score is the share of elements known, $\\text{score} = \\frac{1}{8} \\sum_i \\mathbb{1}[
\\text{element}_i]$, optionally weighted.

**As a funnel stage entry criterion.** :meth:`Meddpicc.to_dict` is a plain dict of booleans plus
``score`` and ``complete``. A funnel ``Deal`` holds flat scalar ``fields`` only, so merge the
:meth:`Meddpicc.to_record` keys (``meddpicc_score``, ``meddpicc_champion``, ...) into its fields
and write the rule on them (``meddpicc_score >= 0.75``), or call :func:`meets_meddpicc` directly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import attrs

from clientmodel._validation import boundary, check_bool, check_mapping, check_number, read_form
from clientmodel.accounts._common import check_node, committee
from clientmodel.accounts.graph import ATTR_RECORD, KIND_DEAL
from clientmodel.errors import ArgumentError

__all__ = ["ELEMENTS", "Meddpicc", "meddpicc", "meets_meddpicc"]

#: The eight elements, in MEDDPICC order.
ELEMENTS: tuple[str, ...] = (
    "metrics",
    "economic_buyer",
    "decision_criteria",
    "decision_process",
    "paper_process",
    "pain",
    "champion",
    "competition",
)


def _read_only(elements: Mapping[str, bool]) -> Mapping[str, bool]:
    # Frozen all the way down: the result shares no mutable mapping with its caller.
    return MappingProxyType(dict(elements))


def _optional_weights(weights: Mapping[str, float] | None) -> Mapping[str, float] | None:
    return None if weights is None else MappingProxyType(dict(weights))


@attrs.frozen
class Meddpicc:
    """Which MEDDPICC elements are known for a deal, and the completeness score.

    Examples
    --------
    >>> m = Meddpicc("d1", dict.fromkeys(ELEMENTS, True), 1.0)
    >>> m.complete, m.missing
    (True, ())
    """

    deal: str
    elements: Mapping[str, bool] = attrs.field(converter=_read_only)
    score: float
    weights: Mapping[str, float] | None = attrs.field(default=None, converter=_optional_weights)

    # to_dict writes one flag per element at the top level (a flat record for stage rules)
    _FORM_INLINE: ClassVar[dict[str, tuple[str, ...]]] = {"elements": ELEMENTS}

    def __attrs_post_init__(self) -> None:
        # Construction and from_dict share these: the score is what the elements say it is.
        if set(self.elements) != set(ELEMENTS):
            raise ArgumentError(
                f"Meddpicc.elements must have one flag per element {list(ELEMENTS)}; got "
                f"{sorted(map(str, self.elements))}",
                field="Meddpicc.elements",
            )
        for e in ELEMENTS:
            check_bool(self.elements[e], f"Meddpicc.{e}")
        score = check_number(self.score, "Meddpicc.score", minimum=0, maximum=1)
        w = dict.fromkeys(ELEMENTS, 1.0)
        if self.weights is not None:
            check_mapping(self.weights, "Meddpicc.weights", required=ELEMENTS, optional=())
            w = {e: check_number(self.weights[e], f"Meddpicc.weights.{e}", minimum=0) for e in w}
            if not sum(w.values()) > 0:
                raise ArgumentError(
                    "Meddpicc.weights must have a positive total", field="Meddpicc.weights"
                )
        implied = sum(w[e] for e in ELEMENTS if self.elements[e]) / sum(w.values())
        if not math.isclose(implied, score, rel_tol=1e-9, abs_tol=1e-12):
            raise ArgumentError(
                f"Meddpicc.score={score!r} disagrees with the elements known (their "
                f"{'weighted ' if self.weights is not None else ''}share is {implied:.6g})",
                field="Meddpicc.score",
            )

    @property
    def complete(self) -> bool:
        """Every element is known."""
        return all(self.elements.values())

    @property
    def missing(self) -> tuple[str, ...]:
        """The elements still unknown, in MEDDPICC order."""
        return tuple(e for e in ELEMENTS if not self.elements[e])

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """A plain dict (booleans per element, ``score``, ``complete``) for rules and JSON.

        Examples
        --------
        >>> Meddpicc("d1", dict.fromkeys(ELEMENTS, False), 0.0).to_dict()["score"]
        0.0
        """
        out: dict[str, Any] = {
            "deal": self.deal,
            **{e: bool(self.elements[e]) for e in ELEMENTS},
            "score": float(self.score),
            "complete": self.complete,
        }
        if self.weights is not None:
            out["weights"] = {e: float(self.weights[e]) for e in ELEMENTS}
        return out

    @boundary
    def to_record(self, prefix: str = "meddpicc_") -> dict[str, Any]:
        """The :meth:`to_dict` fields as flat, prefixed keys, to merge into a deal record.

        Examples
        --------
        >>> m = Meddpicc("d1", dict.fromkeys(ELEMENTS, True), 1.0)
        >>> m.to_record()["meddpicc_score"]
        1.0
        """
        return {f"{prefix}{k}": v for k, v in self.to_dict().items() if k != "deal"}

    @classmethod
    @boundary
    def from_dict(cls, data: Mapping[str, Any]) -> Meddpicc:
        """Rebuild from :meth:`to_dict` output.

        Examples
        --------
        >>> m = Meddpicc("d1", dict.fromkeys(ELEMENTS, True), 1.0)
        >>> Meddpicc.from_dict(m.to_dict()) == m
        True
        """
        return read_form(cls, data)


def _known(text: str | None) -> bool:
    return text is not None and bool(text.strip())


@boundary
def meddpicc(graph: Any, deal: str, *, weights: Mapping[str, float] | None = None) -> Meddpicc:
    """MEDDPICC completeness of a deal.

    Parameters
    ----------
    graph:
        A graph from :func:`~clientmodel.accounts.build_graph` holding the deal.
    deal:
        The deal id.
    weights:
        Optional weight per element (default equal weights); the score is the weighted share of
        known elements.

    Examples
    --------
    >>> from clientmodel.accounts import Account, Contact, DealContext, RoleAssignment, build_graph
    >>> g = build_graph(
    ...     [Account(id="acme", name="Acme")],
    ...     [Contact(id="c1", name="Dana", account_ids=("acme",))],
    ...     roles=[RoleAssignment(contact_id="c1", role="champion", deal_id="d1",
    ...                           stance="supporter")],
    ...     deals=[DealContext(id="d1", account_id="acme", metrics="save 2h/day")],
    ... )
    >>> m = meddpicc(g, "d1")
    >>> m.score, m.missing[:2]
    (0.25, ('economic_buyer', 'decision_criteria'))
    """
    deal = check_node(graph, deal, (KIND_DEAL,), "deal")
    record = graph.nodes[deal][ATTR_RECORD]
    seats = committee(graph, deal)
    elements = {
        "metrics": _known(record.metrics),
        "economic_buyer": any(
            s.role == "economic_buyer" and s.stance != "detractor" for s in seats
        ),
        "decision_criteria": _known(record.decision_criteria),
        "decision_process": _known(record.decision_process),
        "paper_process": _known(record.paper_process),
        "pain": _known(record.pain),
        "champion": any(s.role == "champion" and s.stance == "supporter" for s in seats),
        "competition": _known(record.competition),
    }
    if weights is None:
        w = dict.fromkeys(ELEMENTS, 1.0)
    else:
        unknown = sorted(set(weights) - set(ELEMENTS))
        bad = {k: v for k, v in weights.items() if not (isinstance(v, (int, float)) and v >= 0)}
        if unknown or bad or sum(weights.values()) <= 0:
            raise ArgumentError(
                f"weights must map elements of {list(ELEMENTS)} to non-negative numbers with a "
                f"positive total; unknown: {unknown}, bad: {bad}",
                field="weights",
            )
        w = {e: float(weights.get(e, 0.0)) for e in ELEMENTS}
    score = sum(w[e] for e in ELEMENTS if elements[e]) / sum(w.values())
    return Meddpicc(deal, elements, score, None if weights is None else w)


@boundary
def meets_meddpicc(
    graph: Any, deal: str, *, threshold: float = 0.75, require: tuple[str, ...] = ()
) -> bool:
    """Stage-gate predicate: score at least ``threshold`` and every element in ``require`` known.

    Examples
    --------
    >>> from clientmodel.accounts import Account, DealContext, build_graph
    >>> g = build_graph([Account(id="acme", name="Acme")],
    ...                 deals=[DealContext(id="d1", account_id="acme")])
    >>> meets_meddpicc(g, "d1", threshold=0.5)
    False
    """
    threshold = check_number(threshold, "threshold", minimum=0, maximum=1)
    if isinstance(require, str) or not isinstance(require, (tuple, list)):
        raise ArgumentError(
            f"require is a sequence of elements of {list(ELEMENTS)}; got {require!r}",
            field="require",
        )
    unknown = [e for e in require if e not in ELEMENTS]
    if unknown:
        raise ArgumentError(
            f"require names unknown elements {unknown}; use {list(ELEMENTS)}", field="require"
        )
    m = meddpicc(graph, deal)
    return m.score >= threshold and all(m.elements[e] for e in require)
