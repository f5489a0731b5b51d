"""Org charts from reports-to ties, and account hierarchy roll-ups.

**Org chart.** Inside one account the ``reports_to`` ties among its contacts form a forest
(:func:`~clientmodel.accounts.build_graph` rejects cycles); :func:`org_chart` returns it as a
``networkx.DiGraph`` with arcs manager -> report, and :func:`render_org_chart` prints it.

**Roll-up.** Accounts form a forest through ``parent_id``. For an account $a$ with subtree
$T(a)$ (itself and every subsidiary below it), the roll-up is

$$ \\text{open pipeline}(a) = \\sum_{b \\in T(a)} \\sum_{\\text{open deals of } b} \\text{amount},
   \\qquad \\text{won revenue}(a) = \\sum_{b \\in T(a)} \\sum_{\\text{won deals of } b}
   \\text{amount}, $$

and the number of *distinct* active contacts in $T(a)$ (a person sitting in a subsidiary and in
its parent counts once). Amounts are added as ``Decimal``; all deals in one roll-up must share a
currency.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

import attrs
import networkx as nx  # type: ignore[import-untyped]

from clientmodel._validation import boundary, count_reader, read_form
from clientmodel.accounts._common import check_graph, check_node
from clientmodel.accounts.graph import (
    ATTR_ACTIVE,
    ATTR_NAME,
    ATTR_RECORD,
    EDGE_BELONGS_TO,
    EDGE_DEAL_OF,
    EDGE_SUBSIDIARY_OF,
    KIND_ACCOUNT,
    nodes_of_kind,
)
from clientmodel.errors import ArgumentError, DataError

__all__ = ["AccountRollup", "account_rollup", "org_chart", "render_org_chart"]


@boundary
def org_chart(graph: Any, account: str, *, include_inactive: bool = False) -> Any:
    """The reports-to forest of an account's contacts, arcs from manager to report.

    Nodes carry ``name``, ``title`` and ``active``. A manager outside the account is left out
    (their reports become roots).

    Examples
    --------
    >>> from clientmodel.accounts import Account, Contact, Relationship, build_graph
    >>> g = build_graph(
    ...     [Account(id="acme", name="Acme")],
    ...     [Contact(id=c, name=c, account_ids=("acme",)) for c in ("ceo", "cto", "dev")],
    ...     relationships=[Relationship(source="cto", target="ceo", kind="reports_to"),
    ...                    Relationship(source="dev", target="cto", kind="reports_to")],
    ... )
    >>> sorted(org_chart(g, "acme").edges)
    [('ceo', 'cto'), ('cto', 'dev')]
    """
    account = check_node(graph, account, (KIND_ACCOUNT,), "account")
    members = {
        u
        for u, _, k in graph.in_edges(account, keys=True)
        if k == EDGE_BELONGS_TO and (include_inactive or graph.nodes[u].get(ATTR_ACTIVE, True))
    }
    chart = nx.DiGraph()
    for c in sorted(members):
        record = graph.nodes[c].get(ATTR_RECORD)
        chart.add_node(
            c,
            name=graph.nodes[c].get(ATTR_NAME, c),
            title=getattr(record, "title", None),
            active=graph.nodes[c].get(ATTR_ACTIVE, True),
        )
    for c in sorted(members):
        for _, boss, k in graph.out_edges(c, keys=True):
            if k == "reports_to" and boss in members:
                chart.add_edge(boss, c)
    return chart


@boundary
def render_org_chart(chart: Any) -> str:
    """Indented text of an org chart from :func:`org_chart` (roots first, then reports).

    Examples
    --------
    >>> import networkx as nx
    >>> chart = nx.DiGraph([("ceo", "cto")])
    >>> print(render_org_chart(chart))
    ceo
      cto
    """
    if not isinstance(chart, nx.DiGraph):
        raise ArgumentError(
            f"chart must be an org chart from org_chart; got {type(chart).__name__}", field="chart"
        )
    lines: list[str] = []

    def walk(n: Any, depth: int) -> None:
        data = chart.nodes[n]
        label = str(data.get("name", n))
        if data.get("title"):
            label += f", {data['title']}"
        if not data.get("active", True):
            label += " (left)"
        lines.append("  " * depth + label)
        for child in sorted(chart.successors(n)):
            walk(child, depth + 1)

    for root in sorted(n for n in chart.nodes if chart.in_degree(n) == 0):
        walk(root, 0)
    return "\n".join(lines)


@attrs.frozen
class AccountRollup:
    """Own and rolled-up (own + every subsidiary below) figures of an account.

    Examples
    --------
    >>> from decimal import Decimal
    >>> r = AccountRollup("acme", None, ("sub",), "USD", Decimal(10), Decimal(30), Decimal(0),
    ...                   Decimal(5), 1, 3, 4, 9)
    >>> r.to_dict()["total_open_pipeline"]
    '30'
    """

    account: str
    parent: str | None
    subsidiaries: tuple[str, ...]
    currency: str | None
    open_pipeline: Decimal
    total_open_pipeline: Decimal
    won_revenue: Decimal
    total_won_revenue: Decimal
    open_deals: int
    total_open_deals: int
    contacts: int
    total_contacts: int

    _FORM: ClassVar[dict[str, Any]] = dict.fromkeys(
        ("open_deals", "total_open_deals", "contacts", "total_contacts"), count_reader
    )

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (money as strings, so no precision is lost).

        Examples
        --------
        >>> from decimal import Decimal
        >>> z = Decimal(0)
        >>> AccountRollup("a", None, (), None, z, z, z, z, 0, 0, 0, 0).to_dict()["currency"] is None
        True
        """
        out = attrs.asdict(self)
        out["subsidiaries"] = list(self.subsidiaries)
        for k, v in out.items():
            if isinstance(v, Decimal):
                out[k] = str(v)
        return out

    @classmethod
    @boundary
    def from_dict(cls, data: Mapping[str, Any]) -> AccountRollup:
        """Rebuild from :meth:`to_dict` output.

        Examples
        --------
        >>> z = Decimal(0)
        >>> r = AccountRollup("a", None, (), None, z, z, z, z, 0, 0, 0, 0)
        >>> AccountRollup.from_dict(r.to_dict()) == r
        True
        """
        return read_form(cls, data)


@boundary
def account_rollup(graph: Any) -> dict[str, AccountRollup]:
    """Roll open pipeline, won revenue, open deals and contacts up the account hierarchy.

    Returns one :class:`AccountRollup` per account. Raises
    :class:`~clientmodel.errors.DataError` when one roll-up would add different currencies.

    Examples
    --------
    >>> from decimal import Decimal
    >>> from clientmodel.accounts import Account, DealContext, build_graph
    >>> g = build_graph(
    ...     [Account(id="grp", name="Group"), Account(id="sub", name="Sub", parent_id="grp")],
    ...     deals=[DealContext(id="d1", account_id="sub", amount=Decimal(100)),
    ...            DealContext(id="d2", account_id="grp", amount=Decimal(50))],
    ... )
    >>> str(account_rollup(g)["grp"].total_open_pipeline)
    '150'
    """
    check_graph(graph)
    accounts = nodes_of_kind(graph, KIND_ACCOUNT)
    parent: dict[str, str | None] = dict.fromkeys(accounts)
    children: dict[str, list[str]] = {a: [] for a in accounts}
    for u, v, k in graph.edges(keys=True):
        if k == EDGE_SUBSIDIARY_OF:
            parent[u] = v
            children[v].append(u)
    own: dict[str, dict[str, Any]] = {}
    for a in accounts:
        stats: dict[str, Any] = {
            "open": Decimal(0), "won": Decimal(0), "n_open": 0, "currencies": set(),
            "contacts": set(),
        }  # fmt: skip
        for u, _, k in graph.in_edges(a, keys=True):
            if k == EDGE_BELONGS_TO and graph.nodes[u].get(ATTR_ACTIVE, True):
                stats["contacts"].add(u)
            elif k == EDGE_DEAL_OF:
                deal = graph.nodes[u][ATTR_RECORD]
                if deal.status == "open":
                    stats["open"] += deal.amount
                    stats["n_open"] += 1
                elif deal.status == "won":
                    stats["won"] += deal.amount
                if deal.status in ("open", "won"):
                    stats["currencies"].add(deal.currency)
        own[a] = stats

    total: dict[str, dict[str, Any]] = {}

    def subtree(a: str) -> dict[str, Any]:
        if a not in total:
            acc = {k: (set(v) if isinstance(v, set) else v) for k, v in own[a].items()}
            for c in children[a]:
                sub = subtree(c)
                for k in ("open", "won", "n_open"):
                    acc[k] += sub[k]
                acc["currencies"] |= sub["currencies"]
                acc["contacts"] |= sub["contacts"]
            total[a] = acc
        return total[a]

    mixed = []
    out = {}
    for a in accounts:
        t = subtree(a)
        if len(t["currencies"]) > 1:
            mixed.append(f"{a!r}: {sorted(t['currencies'])}")
            continue
        cur = next(iter(t["currencies"]), None)
        out[a] = AccountRollup(
            account=a,
            parent=parent[a],
            subsidiaries=tuple(sorted(children[a])),
            currency=cur,
            open_pipeline=own[a]["open"],
            total_open_pipeline=t["open"],
            won_revenue=own[a]["won"],
            total_won_revenue=t["won"],
            open_deals=own[a]["n_open"],
            total_open_deals=t["n_open"],
            contacts=len(own[a]["contacts"]),
            total_contacts=len(t["contacts"]),
        )
    if mixed:
        raise DataError(
            f"deals in different currencies would be added in {len(mixed)} roll-up(s): "
            + "; ".join(mixed[:5])
            + "; convert amounts to one currency first",
            field="currency",
        )
    return out
