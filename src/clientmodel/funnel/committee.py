"""The bridge from a funnel deal to its buying committee in the account graph.

A funnel :class:`~clientmodel.funnel.models.Deal` and an account graph
(:func:`clientmodel.accounts.build_graph`) give the committee view of the deal without
hand-building a :class:`~clientmodel.accounts.DealContext`: :func:`deal_context` maps the deal
(status from its stage, amount, currency, close date, MEDDPICC notes from ``Deal.fields``),
:func:`with_deal` puts it into a copy of the graph (keeping the roles already recorded for that
deal id), and :func:`committee_view` answers coverage, threading and MEDDPICC at once.

The same view drives callable stage guards (:data:`~clientmodel.funnel.transitions.Guard`): pass
``context=GraphContext(graph, as_of)`` to :func:`~clientmodel.funnel.transitions.move` and name
:func:`economic_buyer_engaged` or a :func:`meddpicc_at_least` guard on a stage, so "an economic
buyer is identified and engaged" is a stage entry criterion that reads the graph.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from clientmodel._validation import boundary, read_form
from clientmodel.accounts import (
    CommitteeCoverage,
    DealContext,
    Meddpicc,
    Threading,
    committee_coverage,
    meddpicc,
    threading,
)
from clientmodel.accounts.graph import (
    ATTR_NAME,
    ATTR_RECORD,
    ATTR_ROLE,
    ATTR_STANCE,
    EDGE_DEAL_OF,
    EDGE_HAS_ROLE,
    EDGE_KIND,
    KIND_ACCOUNT,
    KIND_DEAL,
    NODE_KIND,
)
from clientmodel.accounts.meddpicc import ELEMENTS
from clientmodel.errors import ArgumentError, DataError
from clientmodel.funnel.models import Deal
from clientmodel.funnel.transitions import Guard

__all__ = [
    "NOTE_FIELDS",
    "CommitteeView",
    "GraphContext",
    "committee_view",
    "deal_context",
    "economic_buyer_engaged",
    "meddpicc_at_least",
    "with_deal",
]

#: ``Deal.fields`` keys read as MEDDPICC notes (text) by :func:`deal_context`.
NOTE_FIELDS: tuple[str, ...] = (
    "metrics",
    "decision_criteria",
    "decision_process",
    "paper_process",
    "pain",
    "competition",
)

_WINDOW = dt.timedelta(days=90)


def _deal(deal: Any) -> Deal:
    if not isinstance(deal, Deal):
        raise ArgumentError(f"deal must be a funnel Deal; got {type(deal).__name__}", field="deal")
    return deal


@boundary
def deal_context(deal: Deal) -> DealContext:
    """The account-graph view of a funnel deal.

    ``status`` is ``open``/``won``/``lost``; ``close_date`` is when it closed, else the start
    (UTC) of its expected close date; the MEDDPICC notes are the non-blank text values of
    :data:`NOTE_FIELDS` in ``Deal.fields``.

    Examples
    --------
    >>> import datetime as dt
    >>> from clientmodel.datasets.deals import standard_pipeline
    >>> from clientmodel.funnel.transitions import open_deal
    >>> d = open_deal("D1", standard_pipeline(), at=dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc),
    ...               account_id="acme", owner="ana", amount=5000, fields={"pain": "manual work"})
    >>> c = deal_context(d)
    >>> c.status, c.pain, c.metrics
    ('open', 'manual work', None)
    """
    deal = _deal(deal)
    if deal.closed_at is not None:
        close_date: dt.datetime | None = deal.closed_at
    elif deal.expected_close is not None:
        close_date = dt.datetime.combine(deal.expected_close, dt.time(), tzinfo=dt.timezone.utc)
    else:
        close_date = None
    notes = {k: v for k in NOTE_FIELDS if isinstance(v := deal.fields.get(k), str) and v.strip()}
    return DealContext(
        id=deal.id,
        account_id=deal.account_id,
        name=deal.name,
        status=deal.closed or "open",
        stage=deal.stage,
        amount=deal.amount,
        currency=deal.currency,
        close_date=close_date,
        **notes,
    )


@boundary
def with_deal(graph: Any, deal: Deal) -> Any:
    """A copy of ``graph`` holding ``deal`` as a deal node of its account.

    Roles already recorded in the graph for the deal's id stay; the deal's record and its
    ``deal_of`` tie are replaced. The deal's account must be an account of the graph.

    Examples
    --------
    >>> import datetime as dt
    >>> from clientmodel.accounts import Account, build_graph
    >>> from clientmodel.datasets.deals import standard_pipeline
    >>> from clientmodel.funnel.transitions import open_deal
    >>> g = build_graph([Account(id="acme", name="Acme")])
    >>> d = open_deal("D1", standard_pipeline(), at=dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc),
    ...               account_id="acme", owner="ana", amount=5000)
    >>> with_deal(g, d).nodes["D1"]["kind"], "D1" in g
    ('deal', False)
    """
    deal = _deal(deal)
    if not hasattr(graph, "nodes") or not hasattr(graph, "copy"):
        raise ArgumentError("graph must be an account graph from build_graph", field="graph")
    if deal.account_id not in graph or graph.nodes[deal.account_id].get(NODE_KIND) != KIND_ACCOUNT:
        raise DataError(
            f"deal {deal.id!r}: account {deal.account_id!r} is not an account of the graph",
            field="account_id",
        )
    if deal.id in graph and graph.nodes[deal.id].get(NODE_KIND) != KIND_DEAL:
        raise DataError(
            f"deal {deal.id!r}: that id is a {graph.nodes[deal.id].get(NODE_KIND)} in the graph",
            field="deal",
        )
    g = graph.copy()
    context = deal_context(deal)
    if deal.id in g:
        stale = [(u, v, k) for u, v, k in g.out_edges(deal.id, keys=True) if k == EDGE_DEAL_OF]
        g.remove_edges_from(stale)
    g.add_node(
        deal.id, **{NODE_KIND: KIND_DEAL, ATTR_RECORD: context, ATTR_NAME: deal.name or deal.id}
    )
    g.add_edge(deal.id, deal.account_id, key=EDGE_DEAL_OF, **{EDGE_KIND: EDGE_DEAL_OF})
    return g


@attrs.frozen
class CommitteeView:
    """Coverage, threading and MEDDPICC of one funnel deal's buying committee.

    Attributes
    ----------
    deal:
        The deal id.
    coverage:
        :class:`~clientmodel.accounts.CommitteeCoverage` of the required roles.
    threading:
        :class:`~clientmodel.accounts.Threading` within the window.
    meddpicc:
        :class:`~clientmodel.accounts.Meddpicc` completeness.
    economic_buyer_engaged:
        A non-detractor economic buyer was engaged within the window.

    Examples
    --------
    >>> from clientmodel.accounts import CommitteeCoverage, Meddpicc, Threading
    >>> from clientmodel.accounts.meddpicc import ELEMENTS
    >>> v = CommitteeView("D1", CommitteeCoverage("D1", (), "red", (), None),
    ...                   Threading("D1", (), (), ()),
    ...                   Meddpicc("D1", dict.fromkeys(ELEMENTS, False), 0.0), False)
    >>> CommitteeView.from_dict(v.to_dict()) == v
    True
    """

    deal: str
    coverage: CommitteeCoverage
    threading: Threading
    meddpicc: Meddpicc
    economic_buyer_engaged: bool

    def __attrs_post_init__(self) -> None:
        for part in ("coverage", "threading", "meddpicc"):
            about = getattr(self, part).deal
            if about != self.deal:
                raise ArgumentError(
                    f"CommitteeView.{part}.deal={about!r} is another deal than "
                    f"CommitteeView.deal={self.deal!r}; a view's parts are about one deal",
                    field=f"CommitteeView.{part}.deal",
                )

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "deal": self.deal,
            "coverage": self.coverage.to_dict(),
            "threading": self.threading.to_dict(),
            "meddpicc": self.meddpicc.to_dict(),
            "economic_buyer_engaged": self.economic_buyer_engaged,
        }

    @classmethod
    @boundary
    def from_dict(cls, data: Mapping[str, Any]) -> CommitteeView:
        """Rebuild from :meth:`to_dict` output (the parts must all be about ``deal``)."""
        return read_form(cls, data)


def _stances(graph: Any, deal: str, contact: str, role: str) -> set[str]:
    return (
        {
            str(d[ATTR_STANCE])
            for _, _, d in graph.out_edges(contact, data=True)
            if d.get(EDGE_KIND) == EDGE_HAS_ROLE and d.get(ATTR_ROLE) == role
        }
        if contact in graph
        else set()
    )


@boundary
def committee_view(
    graph: Any,
    deal: Deal,
    *,
    as_of: dt.datetime,
    window: dt.timedelta = _WINDOW,
    required_roles: Sequence[str] | None = None,
) -> CommitteeView:
    """The committee view of a funnel deal read from the account graph (see module notes).

    Examples
    --------
    >>> import datetime as dt
    >>> from clientmodel.accounts import (Account, Contact, Relationship, RoleAssignment,
    ...                                   TeamMember, build_graph)
    >>> from clientmodel.datasets.deals import standard_pipeline
    >>> from clientmodel.funnel.transitions import open_deal
    >>> t0 = dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)
    >>> g = build_graph([Account(id="acme", name="Acme")],
    ...     [Contact(id="cfo", name="Finn", account_ids=("acme",))],
    ...     [TeamMember(id="ae", name="Ana")],
    ...     [Relationship(source="ae", target="cfo", kind="knows", last_interaction=t0)],
    ...     [RoleAssignment(contact_id="cfo", role="economic_buyer", account_id="acme")])
    >>> d = open_deal("D1", standard_pipeline(), at=t0, account_id="acme", owner="ae", amount=9)
    >>> committee_view(g, d, as_of=t0).economic_buyer_engaged
    True
    """
    deal = _deal(deal)
    g = with_deal(graph, deal)
    cov = committee_coverage(g, deal.id, as_of=as_of, window=window, required_roles=required_roles)
    thr = threading(g, deal.id, as_of=as_of, window=window)
    med = meddpicc(g, deal.id)
    eb = committee_coverage(
        g, deal.id, as_of=as_of, window=window, required_roles=["economic_buyer"]
    ).roles[0]
    engaged = any(
        "detractor" not in _stances(g, deal.id, c, "economic_buyer") for c in eb.engaged_holders
    )
    return CommitteeView(deal.id, cov, thr, med, engaged)


@attrs.frozen
class GraphContext:
    """The context graph-reading stage guards receive: the account graph, ``as_of``, window.

    Attributes
    ----------
    graph:
        An account graph from :func:`clientmodel.accounts.build_graph`.
    as_of:
        Timezone-aware end of the engagement window.
    window:
        Length of the engagement window (default 90 days).

    Examples
    --------
    >>> import datetime as dt
    >>> GraphContext(None, dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)).window.days
    90
    """

    graph: Any
    as_of: dt.datetime
    window: dt.timedelta = _WINDOW


def _context(context: Any) -> GraphContext:
    if not isinstance(context, GraphContext):
        raise ArgumentError(
            "this guard reads the account graph: pass context=GraphContext(graph, as_of)",
            field="context",
        )
    return context


@boundary
def economic_buyer_engaged(deal: Deal, context: Any) -> str | None:
    """Stage guard: a non-detractor economic buyer is identified and was engaged lately.

    Examples
    --------
    >>> economic_buyer_engaged.__name__
    'economic_buyer_engaged'
    """
    ctx = _context(context)
    view = committee_view(ctx.graph, deal, as_of=ctx.as_of, window=ctx.window)
    if view.economic_buyer_engaged:
        return None
    holders = next(
        r
        for r in committee_coverage(
            with_deal(ctx.graph, deal),
            deal.id,
            as_of=ctx.as_of,
            window=ctx.window,
            required_roles=["economic_buyer"],
        ).roles
    )
    if not holders.filled:
        return "no economic buyer identified in the account graph"
    return f"economic buyer {list(holders.holders)} not engaged within {ctx.window.days} days"


@boundary
def meddpicc_at_least(threshold: float, require: Sequence[str] = ()) -> Guard:
    """A stage guard passing when MEDDPICC reaches ``threshold`` with ``require`` elements known.

    Examples
    --------
    >>> guard = meddpicc_at_least(0.75, require=("champion",))
    >>> callable(guard)
    True
    """
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, (int, float))
        or not (0.0 <= threshold <= 1.0)
    ):
        raise ArgumentError(f"threshold={threshold!r} must be in [0, 1]", field="threshold")
    unknown = [e for e in require if e not in ELEMENTS]
    if isinstance(require, str) or unknown:
        raise ArgumentError(
            f"require names elements of {list(ELEMENTS)}; got {require!r}", field="require"
        )

    def guard(deal: Deal, context: Any) -> str | None:
        ctx = _context(context)
        m = meddpicc(with_deal(ctx.graph, deal), deal.id)
        lacking = [e for e in require if not m.elements[e]]
        if m.score >= threshold and not lacking:
            return None
        return (
            f"MEDDPICC {m.score:.2f} < {threshold:.2f}"
            if m.score < threshold
            else (f"MEDDPICC lacks {lacking}")
        )

    guard.__name__ = f"meddpicc_at_least_{threshold:g}"
    return guard
