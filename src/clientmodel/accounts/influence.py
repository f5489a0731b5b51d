"""Influence inside an account: PageRank over reports-to and influence ties.

The influence graph of an account has one node per active contact of the account and a weighted
arc for each tie, pointing the way *deference* flows:

* ``a reports_to b``  -> arc $a \\to b$ (authority flows up to the manager);
* ``a influences b`` -> arc $b \\to a$ (``b`` listens to ``a``, so ``a`` gains).

The arc weight is the tie strength (decay it first with
:func:`clientmodel.accounts.decay_graph` to favour live ties); parallel arcs add up. Influence is
personalised PageRank (Page, Brin, Motwani & Winograd 1999, "The PageRank citation ranking";
Haveliwala 2002 for the personalised form):

$$ x = \\alpha \\left( W^\\top x + (d^\\top x)\\, p \\right) + (1 - \\alpha)\\, p , $$

where $W$ is the row-normalised weight matrix, $d$ marks contacts with no outgoing arc (their
mass goes back to $p$) and the teleport vector $p$ is proportional to a seniority weight
(:data:`DEFAULT_SENIORITY_WEIGHTS`), so a senior person with no recorded ties still ranks above a
junior one. Scores sum to 1 within an account.

:func:`influence` runs ``networkx.pagerank`` for one account; :func:`influence_table` solves every
account at once with one sparse block power iteration that returns the same numbers.
:func:`power_map` lays a deal's committee over the influence scores: how much of the account's
influence sits on the committee, and how much of the committee's sits with supporters and with
detractors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import attrs
import networkx as nx  # type: ignore[import-untyped]
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from clientmodel._validation import (
    boundary,
    check_integer,
    check_number,
    check_sequence,
    number_reader,
    read_form,
)
from clientmodel.accounts._common import check_graph, check_node, committee, deal_account
from clientmodel.accounts.graph import (
    ATTR_ACTIVE,
    ATTR_SENIORITY,
    ATTR_STRENGTH,
    EDGE_BELONGS_TO,
    EDGE_KIND,
    KIND_ACCOUNT,
    KIND_DEAL,
    nodes_of_kind,
)
from clientmodel.accounts.models import SENIORITIES
from clientmodel.errors import ArgumentError, ConvergenceError

__all__ = [
    "DEFAULT_SENIORITY_WEIGHTS",
    "Influence",
    "PowerMap",
    "influence",
    "influence_table",
    "power_map",
]

#: Teleport weight per seniority level (normalised within each account).
DEFAULT_SENIORITY_WEIGHTS: Mapping[str, float] = {
    "c_level": 5.0,
    "vp": 4.0,
    "director": 3.0,
    "manager": 2.0,
    "individual": 1.0,
}


@attrs.frozen
class Influence:
    """PageRank influence of each active contact of an account, highest first.

    Examples
    --------
    >>> Influence("acme", (("c1", 0.7), ("c2", 0.3))).top(1)
    (('c1', 0.7),)
    """

    account: str
    scores: tuple[tuple[str, float], ...]

    @boundary
    def top(self, n: int = 5) -> tuple[tuple[str, float], ...]:
        """The ``n`` most influential contacts with their scores."""
        return self.scores[:n]

    @boundary
    def as_dict(self) -> dict[str, float]:
        """Scores keyed by contact id.

        Examples
        --------
        >>> Influence("acme", (("c1", 1.0),)).as_dict()
        {'c1': 1.0}
        """
        return dict(self.scores)

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form.

        Examples
        --------
        >>> Influence("acme", (("c1", 1.0),)).to_dict()
        {'account': 'acme', 'scores': [['c1', 1.0]]}
        """
        return {"account": self.account, "scores": [[c, s] for c, s in self.scores]}

    @classmethod
    @boundary
    def from_dict(cls, data: Mapping[str, Any]) -> Influence:
        """Rebuild from :meth:`to_dict` output.

        Examples
        --------
        >>> i = Influence("a", (("c1", 1.0),))
        >>> Influence.from_dict(i.to_dict()) == i
        True
        """
        return read_form(cls, data)


def _read_only(shares: Mapping[str, float]) -> Mapping[str, float]:
    # Frozen all the way down: the result shares no mutable mapping with its caller.
    if not isinstance(shares, Mapping):
        raise ArgumentError(
            f"stance_share must be a mapping of stance to share, got {type(shares).__name__}",
            field="stance_share",
        )
    return MappingProxyType(dict(shares))


def _weights(seniority_weights: Mapping[str, float] | None) -> dict[str, float]:
    given = DEFAULT_SENIORITY_WEIGHTS if seniority_weights is None else seniority_weights
    if not isinstance(given, Mapping):
        raise ArgumentError(
            f"seniority_weights maps seniorities {list(SENIORITIES)} to positive weights; got "
            f"{type(given).__name__}",
            field="seniority_weights",
        )
    w = dict(given)
    bad = {
        k: v
        for k, v in w.items()
        if isinstance(v, bool) or not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0)
    }
    missing = [s for s in SENIORITIES if s not in w]
    if bad or missing:
        raise ArgumentError(
            f"seniority_weights needs a positive weight for each of {list(SENIORITIES)}; "
            f"bad: {bad}, missing: {missing}",
            field="seniority_weights",
        )
    return {k: float(v) for k, v in w.items()}


def _check_alpha(alpha: float) -> float:
    alpha = check_number(alpha, "alpha")
    if not 0.0 < alpha < 1.0:
        raise ArgumentError(f"alpha={alpha!r} must be in (0, 1)", field="alpha")
    return float(alpha)


def _members(graph: Any, account: str) -> list[str]:
    return sorted(
        u
        for u, _, k in graph.in_edges(account, keys=True)
        if k == EDGE_BELONGS_TO and graph.nodes[u].get(ATTR_ACTIVE, True)
    )


def _arcs(graph: Any, members: set[str]) -> list[tuple[str, str, float]]:
    arcs = []
    for u in members:
        for _, v, data in graph.out_edges(u, data=True):
            if v not in members or v == u:
                continue
            kind = data.get(EDGE_KIND)
            if kind == "reports_to":
                arcs.append((u, v, float(data[ATTR_STRENGTH])))
            elif kind == "influences":
                arcs.append((v, u, float(data[ATTR_STRENGTH])))
    return arcs


@boundary
def influence(
    graph: Any,
    account: str,
    *,
    alpha: float = 0.85,
    seniority_weights: Mapping[str, float] | None = None,
    tol: float = 1e-10,
    max_iter: int = 1000,
) -> Influence:
    """Personalised PageRank influence of the active contacts of one account.

    Parameters
    ----------
    graph:
        A graph from :func:`~clientmodel.accounts.build_graph`.
    account:
        The account id.
    alpha:
        Damping factor (probability of following a tie rather than teleporting).
    seniority_weights:
        Teleport weight per seniority (default :data:`DEFAULT_SENIORITY_WEIGHTS`).
    tol, max_iter:
        Power-iteration tolerance (per node, L1) and iteration cap.

    Examples
    --------
    >>> from clientmodel.datasets.accounts import make_accounts
    >>> data = make_accounts(n_accounts=2, seed=0)
    >>> inf = influence(data.graph(), "A0")
    >>> round(sum(s for _, s in inf.scores), 9)
    1.0
    """
    account = check_node(graph, account, (KIND_ACCOUNT,), "account")
    alpha = _check_alpha(alpha)
    tol = check_number(tol, "tol", minimum=0, exclusive_minimum=True)
    max_iter = check_integer(max_iter, "max_iter", minimum=1)
    w = _weights(seniority_weights)
    members = _members(graph, account)
    if not members:
        return Influence(account, ())
    g = nx.DiGraph()
    g.add_nodes_from(members)
    for u, v, s in _arcs(graph, set(members)):
        if s <= 0.0:
            continue
        prior = g.get_edge_data(u, v, {"weight": 0.0})["weight"]
        g.add_edge(u, v, weight=prior + s)
    personal = {c: w[graph.nodes[c].get(ATTR_SENIORITY, "individual")] for c in members}
    try:
        pr = nx.pagerank(
            g, alpha=alpha, personalization=personal, weight="weight", tol=tol, max_iter=max_iter
        )
    except nx.PowerIterationFailedConvergence as exc:
        raise ConvergenceError(
            f"PageRank for account {account!r} did not converge in {max_iter} iterations; "
            "raise max_iter or tol"
        ) from exc
    scores = sorted(((str(c), float(s)) for c, s in pr.items()), key=lambda t: (-t[1], t[0]))
    return Influence(account, tuple(scores))


@boundary
def influence_table(
    graph: Any,
    *,
    accounts: list[str] | None = None,
    alpha: float = 0.85,
    seniority_weights: Mapping[str, float] | None = None,
    tol: float = 1e-10,
    max_iter: int = 1000,
) -> dict[str, NDArray[Any]]:
    """Influence of every active contact in every account, solved in one sparse iteration.

    Each account is its own block: a contact in two accounts gets a score in each. Returns a
    dict of numpy columns ``account_id``, ``contact_id``, ``score``, ``rank`` (1 = most
    influential in the account), sorted by account then rank. Agrees with :func:`influence`.

    Examples
    --------
    >>> from clientmodel.datasets.accounts import make_accounts
    >>> g = make_accounts(n_accounts=3, seed=0).graph()
    >>> t = influence_table(g)
    >>> bool(abs(t["score"][t["account_id"] == "A0"].sum() - 1.0) < 1e-9)
    True
    """
    check_graph(graph)
    alpha = _check_alpha(alpha)
    tol = check_number(tol, "tol", minimum=0, exclusive_minimum=True)
    max_iter = check_integer(max_iter, "max_iter", minimum=1)
    w = _weights(seniority_weights)
    if accounts is None:
        accounts = nodes_of_kind(graph, KIND_ACCOUNT)
    else:
        accounts = [
            check_node(graph, a, (KIND_ACCOUNT,), "accounts")
            for a in check_sequence(accounts, "accounts")
        ]
    wanted = set(accounts)
    # one slot per (account, contact)
    slot: dict[tuple[str, str], int] = {}
    acc_of: dict[str, list[str]] = {}
    for u, v, k in graph.edges(keys=True):
        if k == EDGE_BELONGS_TO and v in wanted and graph.nodes[u].get(ATTR_ACTIVE, True):
            acc_of.setdefault(u, []).append(v)
    order = sorted((a, c) for c, accs in acc_of.items() for a in accs)
    for i, key in enumerate(order):
        slot[key] = i
    n = len(order)
    if n == 0:
        empty = np.array([], dtype=object)
        return {"account_id": empty, "contact_id": empty, "score": np.zeros(0), "rank": np.zeros(0)}
    names = np.array([a for a, _ in order], dtype=object)
    block_names, block = np.unique(names, return_inverse=True)
    n_b = len(block_names)
    sen = np.array([w[graph.nodes[c].get(ATTR_SENIORITY, "individual")] for _, c in order])
    p = sen / np.bincount(block, weights=sen, minlength=n_b)[block]
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for u, v, data in graph.edges(data=True):
        kind = data.get(EDGE_KIND)
        if kind not in ("reports_to", "influences") or u == v:
            continue
        s = float(data[ATTR_STRENGTH])
        if s <= 0.0 or u not in acc_of or v not in acc_of:
            continue
        src, dst = (u, v) if kind == "reports_to" else (v, u)
        for a in set(acc_of[u]).intersection(acc_of[v]):
            rows.append(slot[(a, src)])
            cols.append(slot[(a, dst)])
            vals.append(s)
    m = sp.csr_array((vals, (rows, cols)), shape=(n, n))  # duplicates add up
    out_w: NDArray[np.float64] = np.asarray(m.sum(axis=1), dtype=np.float64).ravel()
    dangling = out_w == 0
    inv = np.where(dangling, 0.0, 1.0 / np.where(dangling, 1.0, out_w))
    mt = (sp.diags_array(inv) @ m).T.tocsr()
    x = p.copy()
    sizes = np.bincount(block, minlength=n_b)
    for _ in range(max_iter):
        d = np.bincount(block, weights=np.where(dangling, x, 0.0), minlength=n_b)
        new = alpha * (mt @ x + d[block] * p) + (1.0 - alpha) * p
        err = np.bincount(block, weights=np.abs(new - x), minlength=n_b)
        x = new
        if np.all(err < sizes * tol):
            break
    else:
        raise ConvergenceError(
            f"block PageRank did not converge in {max_iter} iterations; raise max_iter or tol"
        )
    x = x / np.bincount(block, weights=x, minlength=n_b)[block]
    contact = np.array([c for _, c in order], dtype=object)
    idx = np.lexsort((contact, -x, block))
    b_sorted = block[idx]
    starts = np.searchsorted(b_sorted, np.arange(n_b))
    rank = np.arange(n) - starts[b_sorted] + 1
    return {
        "account_id": block_names[b_sorted],
        "contact_id": contact[idx],
        "score": x[idx],
        "rank": rank.astype(np.int64),
    }


@attrs.frozen
class PowerMap:
    """Where the influence of a deal's account sits relative to the deal's committee.

    ``members`` holds ``(contact, roles, stance, score)`` for each committee member, by score;
    ``committee_share`` is the committee's share of the account's influence; ``stance_share``
    splits the committee's influence by stance (supporter / neutral / detractor, summing to 1
    when the committee has any influence).

    Examples
    --------
    >>> pm = PowerMap("d1", "acme", (("c1", ("champion",), "supporter", 0.4),), 0.4,
    ...               {"supporter": 1.0, "neutral": 0.0, "detractor": 0.0})
    >>> pm.to_dict()["stance_share"]["supporter"]
    1.0
    """

    deal: str
    account: str
    members: tuple[tuple[str, tuple[str, ...], str, float], ...]
    committee_share: float
    stance_share: Mapping[str, float] = attrs.field(converter=_read_only)

    _FORM: ClassVar[dict[str, Any]] = {"committee_share": number_reader(minimum=0, maximum=1)}

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form.

        Examples
        --------
        >>> PowerMap("d1", "a", (), 0.0, {}).to_dict()["members"]
        []
        """
        return {
            "deal": self.deal,
            "account": self.account,
            "members": [[c, list(r), s, x] for c, r, s, x in self.members],
            "committee_share": self.committee_share,
            "stance_share": dict(self.stance_share),
        }

    @classmethod
    @boundary
    def from_dict(cls, data: Mapping[str, Any]) -> PowerMap:
        """Rebuild from :meth:`to_dict` output.

        Examples
        --------
        >>> pm = PowerMap("d1", "a", (("c1", ("user",), "neutral", 0.5),), 0.5, {"neutral": 1.0})
        >>> PowerMap.from_dict(pm.to_dict()) == pm
        True
        """
        return read_form(cls, data)


@boundary
def power_map(
    graph: Any,
    deal: str,
    *,
    alpha: float = 0.85,
    seniority_weights: Mapping[str, float] | None = None,
) -> PowerMap:
    """Influence of a deal's committee members, and its split by stance.

    A contact holding several roles counts once, with the stance of its alphabetically first
    role (deal-level roles win over account-wide ones, see
    :mod:`clientmodel.accounts.committee`). Committee members outside the deal's account have
    no influence score in it (0).

    Examples
    --------
    >>> from clientmodel.datasets.accounts import make_accounts
    >>> data = make_accounts(n_accounts=3, seed=1)
    >>> pm = power_map(data.graph(), data.deals[0].id)
    >>> 0.0 <= pm.committee_share <= 1.0
    True
    """
    deal = check_node(graph, deal, (KIND_DEAL,), "deal")
    account = deal_account(graph, deal)
    scores = influence(graph, account, alpha=alpha, seniority_weights=seniority_weights).as_dict()
    people: dict[str, tuple[list[str], str]] = {}
    for seat in committee(graph, deal):
        roles, _ = people.setdefault(seat.contact, ([], seat.stance))
        roles.append(seat.role)
    members = sorted(
        ((c, tuple(r), s, float(scores.get(c, 0.0))) for c, (r, s) in people.items()),
        key=lambda m: (-m[3], m[0]),
    )
    total = sum(m[3] for m in members)
    share = {
        st: (sum(m[3] for m in members if m[2] == st) / total if total > 0 else 0.0)
        for st in ("supporter", "neutral", "detractor")
    }
    return PowerMap(deal, account, tuple(members), float(total), share)
