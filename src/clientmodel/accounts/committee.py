"""Buying-committee coverage, Altify-style status and multi-threading for a deal.

The committee of a deal is every *active* contact holding a buying role on the deal, plus the
account-wide roles of the deal's account (a deal-level role of the same contact and role wins).

* **Coverage**: each required role is *filled* when at least one committee member holds it and
  *engaged* when at least one holder interacted with an active member of our team within the
  window ``(as_of - window, as_of]`` (the ``last_interaction`` of any person-to-person edge between
  them). A role counts once however many people hold it, so coverage
  $= |\\text{required} \\cap \\text{filled}| / |\\text{required}|$ lies in $[0, 1]$.
* **Status** (after Altify's buying-committee "key player" view): ``red`` when no key player is a
  supporter, ``amber`` when some key players support us but none of them decides, ``green`` when a
  supporting key player holds a decision role (:data:`~clientmodel.accounts.models.DECISION_ROLES`).
* **Threading**: the distinct committee contacts and distinct roles our team engaged within the
  window; a deal with at most one engaged contact is *single-threaded*.

:func:`committee_coverage` and :func:`threading` answer for one deal from the graph;
:func:`committee_table` answers for every deal at once from two tables (vectorised numpy), and
:func:`committee_tables` exports those tables from a graph. Both faces give the same numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from clientmodel._validation import boundary, check_choice, check_sequence, did_you_mean, read_form
from clientmodel.accounts._common import (
    check_as_of,
    check_graph,
    check_node,
    check_window,
    committee,
    deal_account,
    engaged_by,
)
from clientmodel.accounts.graph import (
    ATTR_ACTIVE,
    ATTR_LAST_INTERACTION,
    EDGE_KIND,
    KIND_CONTACT,
    KIND_DEAL,
    KIND_TEAM,
    NODE_KIND,
    PERSON_EDGES,
    nodes_of_kind,
)
from clientmodel.accounts.models import BUYING_ROLES, DECISION_ROLES, KEY_PLAYER_ROLES, STANCES
from clientmodel.errors import ArgumentError, DataError, describe_rows
from clientmodel.periods import as_of_value
from clientmodel.tables import read_table

__all__ = [
    "DEFAULT_REQUIRED_ROLES",
    "CommitteeCoverage",
    "RoleCoverage",
    "Status",
    "Threading",
    "committee_coverage",
    "committee_table",
    "committee_tables",
    "threading",
]

Status = Literal["red", "amber", "green"]

#: Roles a deal's committee should have filled by default.
DEFAULT_REQUIRED_ROLES: tuple[str, ...] = (
    "decision_maker",
    "economic_buyer",
    "champion",
    "technical_evaluator",
    "business_evaluator",
)

_DEFAULT_WINDOW = dt.timedelta(days=90)


@attrs.frozen
class RoleCoverage:
    """One required role of a deal: who holds it and which holders we engaged.

    Examples
    --------
    >>> RoleCoverage("champion", ("c1",), ()).filled
    True
    """

    role: str
    holders: tuple[str, ...]
    engaged_holders: tuple[str, ...]

    @property
    def filled(self) -> bool:
        """At least one active contact holds the role."""
        return bool(self.holders)

    @property
    def engaged(self) -> bool:
        """At least one holder interacted with our team within the window."""
        return bool(self.engaged_holders)

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form.

        Examples
        --------
        >>> RoleCoverage("champion", ("c1",), ("c1",)).to_dict()["engaged"]
        True
        """
        return {
            "role": self.role,
            "holders": list(self.holders),
            "engaged_holders": list(self.engaged_holders),
            "filled": self.filled,
            "engaged": self.engaged,
        }

    @classmethod
    @boundary
    def from_dict(cls, data: Mapping[str, Any]) -> RoleCoverage:
        """Rebuild from :meth:`to_dict` output.

        Examples
        --------
        >>> r = RoleCoverage("champion", ("c1",), ())
        >>> RoleCoverage.from_dict(r.to_dict()) == r
        True
        """
        return read_form(cls, data)


@attrs.frozen
class CommitteeCoverage:
    """Coverage of a deal's buying committee (see the module notes).

    Examples
    --------
    >>> roles = (RoleCoverage("champion", ("c1",), ()),)
    >>> c = CommitteeCoverage("d1", roles, "amber", ("c1",), "c1")
    >>> c.coverage, c.missing_roles
    (1.0, ())
    """

    deal: str
    roles: tuple[RoleCoverage, ...]
    status: Status
    supportive_key_players: tuple[str, ...]
    primary_contact: str | None

    @property
    def coverage(self) -> float:
        """Share of required roles filled (each role once)."""
        return sum(r.filled for r in self.roles) / len(self.roles) if self.roles else 1.0

    @property
    def engaged_coverage(self) -> float:
        """Share of required roles filled by a contact engaged within the window."""
        return sum(r.engaged for r in self.roles) / len(self.roles) if self.roles else 1.0

    @property
    def missing_roles(self) -> tuple[str, ...]:
        """Required roles nobody active holds."""
        return tuple(r.role for r in self.roles if not r.filled)

    @property
    def unengaged_roles(self) -> tuple[str, ...]:
        """Required roles that are filled but whose holders we have not engaged lately."""
        return tuple(r.role for r in self.roles if r.filled and not r.engaged)

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form.

        Examples
        --------
        >>> CommitteeCoverage("d1", (), "red", (), None).to_dict()["status"]
        'red'
        """
        return {
            "deal": self.deal,
            "roles": [r.to_dict() for r in self.roles],
            "status": self.status,
            "supportive_key_players": list(self.supportive_key_players),
            "primary_contact": self.primary_contact,
            "coverage": self.coverage,
            "engaged_coverage": self.engaged_coverage,
            "missing_roles": list(self.missing_roles),
            "unengaged_roles": list(self.unengaged_roles),
        }

    @classmethod
    @boundary
    def from_dict(cls, data: Mapping[str, Any]) -> CommitteeCoverage:
        """Rebuild from :meth:`to_dict` output.

        Examples
        --------
        >>> c = CommitteeCoverage("d1", (), "red", (), None)
        >>> CommitteeCoverage.from_dict(c.to_dict()) == c
        True
        """
        return read_form(cls, data)


@attrs.frozen
class Threading:
    """How many people and roles of a deal's committee our team engaged within the window.

    Examples
    --------
    >>> Threading("d1", ("c1",), ("champion",), ("t1",)).single_threaded
    True
    """

    deal: str
    engaged_contacts: tuple[str, ...]
    engaged_roles: tuple[str, ...]
    engaged_team: tuple[str, ...]

    @property
    def single_threaded(self) -> bool:
        """At most one committee contact engaged."""
        return len(self.engaged_contacts) <= 1

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form.

        Examples
        --------
        >>> Threading("d1", (), (), ()).to_dict()["single_threaded"]
        True
        """
        return {
            "deal": self.deal,
            "engaged_contacts": list(self.engaged_contacts),
            "engaged_roles": list(self.engaged_roles),
            "engaged_team": list(self.engaged_team),
            "n_engaged_contacts": len(self.engaged_contacts),
            "n_engaged_roles": len(self.engaged_roles),
            "single_threaded": self.single_threaded,
        }

    @classmethod
    @boundary
    def from_dict(cls, data: Mapping[str, Any]) -> Threading:
        """Rebuild from :meth:`to_dict` output.

        Examples
        --------
        >>> t = Threading("d1", ("c1",), ("champion",), ("t1",))
        >>> Threading.from_dict(t.to_dict()) == t
        True
        """
        return read_form(cls, data)


def _roles(roles: Sequence[str] | None, default: tuple[str, ...], field: str) -> tuple[str, ...]:
    if roles is None:
        return default
    if isinstance(roles, str):
        raise ArgumentError(f"{field} must be a sequence of role names, not a string", field=field)
    names = check_sequence(roles, field)
    return tuple(dict.fromkeys(check_choice(r, field, BUYING_ROLES) for r in names))


def _vocabulary(values: NDArray[Any], column: str, choices: tuple[str, ...]) -> None:
    """Every value of a role or stance column is in the vocabulary (a typo is not a role)."""
    bad = np.flatnonzero(~np.isin(values, np.array(choices, dtype=str)))
    if bad.size:
        first = str(values[bad[0]])
        raise DataError(
            f"column {column!r} has {bad.size} value(s) outside the vocabulary: "
            f"{describe_rows(bad, values[bad].tolist())}{did_you_mean(first, choices)}; "
            f"accepted: {list(choices)}",
            field=column,
            rows=bad[:5].tolist(),
        )


def _one_stance(
    d_idx: NDArray[np.int64], c_idx: NDArray[np.int64], stance_v: NDArray[Any], column: str
) -> None:
    """One contact cannot be both a supporter and a detractor on one deal."""
    n_c = int(c_idx.max()) + 1 if c_idx.size else 1
    pair = d_idx * n_c + c_idx
    pro = np.unique(pair[stance_v == "supporter"])
    con = np.unique(pair[stance_v == "detractor"])
    both = np.intersect1d(pro, con)
    if both.size:
        rows = np.flatnonzero(np.isin(pair, both) & (stance_v == "detractor"))
        raise DataError(
            f"column {column!r}: a contact is both a supporter and a detractor on one deal "
            f"(rows {rows[:5].tolist()}); give each contact one stance per deal",
            field=column,
            rows=rows[:5].tolist(),
        )


def _status(
    seats: Sequence[tuple[str, str, str]], key_roles: tuple[str, ...]
) -> tuple[Status, tuple[str, ...]]:
    supportive = [(c, r) for c, r, s in seats if s == "supporter" and r in key_roles]
    people = tuple(sorted({c for c, _ in supportive}))
    if not supportive:
        return "red", people
    if any(r in DECISION_ROLES for _, r in supportive):
        return "green", people
    return "amber", people


@boundary
def committee_coverage(
    graph: Any,
    deal: str,
    *,
    as_of: dt.datetime,
    window: dt.timedelta = _DEFAULT_WINDOW,
    required_roles: Sequence[str] | None = None,
    key_roles: Sequence[str] | None = None,
) -> CommitteeCoverage:
    """Which required roles of a deal are filled, by whom, engaged or not, and the status.

    Parameters
    ----------
    graph:
        A graph from :func:`~clientmodel.accounts.build_graph`.
    deal:
        The deal id.
    as_of:
        Timezone-aware end of the engagement window.
    window:
        Length of the engagement window (default 90 days).
    required_roles:
        Roles to check (default :data:`DEFAULT_REQUIRED_ROLES`).
    key_roles:
        Roles whose holders are key players (default
        :data:`~clientmodel.accounts.models.KEY_PLAYER_ROLES`).

    Examples
    --------
    >>> from clientmodel.datasets.accounts import make_accounts
    >>> data = make_accounts(n_accounts=3, seed=1)
    >>> cov = committee_coverage(data.graph(), data.deals[0].id, as_of=data.as_of)
    >>> 0.0 <= cov.coverage <= 1.0 and cov.status in ("red", "amber", "green")
    True
    """
    deal = check_node(graph, deal, (KIND_DEAL,), "deal")
    as_of = check_as_of(as_of)
    window = check_window(window)
    required = _roles(required_roles, DEFAULT_REQUIRED_ROLES, "required_roles")
    keys = _roles(key_roles, KEY_PLAYER_ROLES, "key_roles")
    seats = committee(graph, deal)
    engaged = engaged_by(graph, {s.contact for s in seats}, as_of, window)
    covered = []
    for role in required:
        holders = tuple(sorted({s.contact for s in seats if s.role == role}))
        covered.append(RoleCoverage(role, holders, tuple(h for h in holders if h in engaged)))
    status, supportive = _status([(s.contact, s.role, s.stance) for s in seats], keys)
    primary = next((s.contact for s in seats if s.primary), None)
    return CommitteeCoverage(deal, tuple(covered), status, supportive, primary)


@boundary
def threading(
    graph: Any, deal: str, *, as_of: dt.datetime, window: dt.timedelta = _DEFAULT_WINDOW
) -> Threading:
    """Distinct committee contacts and roles our team engaged within ``(as_of - window, as_of]``.

    Examples
    --------
    >>> from clientmodel.datasets.accounts import make_accounts
    >>> data = make_accounts(n_accounts=3, seed=1)
    >>> t = threading(data.graph(), data.deals[0].id, as_of=data.as_of)
    >>> t.single_threaded == (len(t.engaged_contacts) <= 1)
    True
    """
    deal = check_node(graph, deal, (KIND_DEAL,), "deal")
    as_of = check_as_of(as_of)
    window = check_window(window)
    seats = committee(graph, deal)
    engaged = engaged_by(graph, {s.contact for s in seats}, as_of, window)
    contacts = tuple(sorted(engaged))
    roles = tuple(sorted({s.role for s in seats if s.contact in engaged}))
    team = tuple(sorted(set().union(*engaged.values()))) if engaged else ()
    return Threading(deal, contacts, roles, team)


@boundary
def committee_tables(graph: Any) -> tuple[dict[str, NDArray[Any]], dict[str, NDArray[Any]]]:
    """Export the two tables :func:`committee_table` reads, from a graph.

    Returns ``(roles, touches)`` as dicts of numpy columns: ``roles`` has one row per committee
    seat (``deal_id``, ``contact_id``, ``role``, ``stance``; account-wide roles expanded to each
    deal, inactive contacts left out); ``touches`` has one row per tie between an active team
    member and a contact with a known ``last_interaction`` (``contact_id``, ``team_id``,
    ``last_interaction`` as UTC ``datetime64[us]``, so read it with ``tz="UTC"``).

    Examples
    --------
    >>> from clientmodel.datasets.accounts import make_accounts
    >>> roles, touches = committee_tables(make_accounts(n_accounts=2, seed=3).graph())
    >>> sorted(roles)
    ['contact_id', 'deal_id', 'role', 'stance']
    """
    check_graph(graph)
    rows: list[tuple[str, str, str, str]] = []
    for deal in nodes_of_kind(graph, KIND_DEAL):
        deal_account(graph, deal)
        rows.extend((deal, s.contact, s.role, s.stance) for s in committee(graph, deal))
    roles = {
        name: np.array([r[i] for r in rows], dtype=object)
        for i, name in enumerate(("deal_id", "contact_id", "role", "stance"))
    }
    touch: list[tuple[str, str, np.datetime64]] = []
    for u, v, data in graph.edges(data=True):
        when = data.get(ATTR_LAST_INTERACTION)
        if data.get(EDGE_KIND) not in PERSON_EDGES or when is None:
            continue
        ku, kv = graph.nodes[u][NODE_KIND], graph.nodes[v][NODE_KIND]
        pair = (v, u) if (ku, kv) == (KIND_CONTACT, KIND_TEAM) else (u, v)
        if {ku, kv} != {KIND_CONTACT, KIND_TEAM} or not graph.nodes[pair[0]].get(ATTR_ACTIVE):
            continue
        utc = when.astimezone(dt.timezone.utc).replace(tzinfo=None)
        touch.append((pair[1], pair[0], np.datetime64(utc, "us")))
    touches = {
        "contact_id": np.array([t[0] for t in touch], dtype=object),
        "team_id": np.array([t[1] for t in touch], dtype=object),
        "last_interaction": np.array([t[2] for t in touch], dtype="datetime64[us]"),
    }
    return roles, touches


def _count_pairs(a: NDArray[np.int64], b: NDArray[np.int64], n_a: int, n_b: int) -> NDArray[Any]:
    """Per value of ``a``: how many distinct ``b`` go with it."""
    pairs = np.unique(a * max(n_b, 1) + b)
    return np.bincount(pairs // max(n_b, 1), minlength=n_a)


@boundary
def committee_table(
    roles: Any,
    touches: Any,
    *,
    as_of: dt.datetime,
    window: dt.timedelta = _DEFAULT_WINDOW,
    required_roles: Sequence[str] | None = None,
    key_roles: Sequence[str] | None = None,
    tz: str | None = None,
    deal: str = "deal_id",
    contact: str = "contact_id",
    role: str = "role",
    stance: str = "stance",
    time: str = "last_interaction",
) -> Any:
    """Coverage, threading and status for every deal at once (the table face).

    ``roles`` has one row per committee seat (deal, contact, role, stance); ``touches`` one row per
    interaction of our team with a contact (contact, time). Returns one row per deal found in
    ``roles``, in the caller's kind of frame (a dict of numpy arrays for mappings), with columns
    ``<deal>``, ``n_required_filled``, ``coverage``, ``n_required_engaged``, ``engaged_coverage``,
    ``n_contacts``, ``n_engaged_contacts``, ``n_engaged_roles``, ``single_threaded``, ``status``.
    The numbers agree with :func:`committee_coverage` and :func:`threading` on the same graph.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> roles = {"deal_id": ["d1", "d1"], "contact_id": ["a", "b"],
    ...          "role": ["champion", "decision_maker"], "stance": ["supporter", "neutral"]}
    >>> touches = {"contact_id": ["a"], "last_interaction": ["2025-03-01T00:00:00+00:00"]}
    >>> out = committee_table(roles, touches, as_of=datetime(2025, 3, 31, tzinfo=timezone.utc))
    >>> out["status"].tolist(), out["n_engaged_contacts"].tolist()
    (['amber'], [1])
    """
    as_of = check_as_of(as_of)
    window = check_window(window)
    required = _roles(required_roles, DEFAULT_REQUIRED_ROLES, "required_roles")
    keys = _roles(key_roles, KEY_PLAYER_ROLES, "key_roles")
    rt = read_table(roles, name="roles")
    rt.require(deal, contact, role, stance)
    tt = read_table(touches, name="touches")
    tt.require(contact, time)
    deals_u, d_idx = np.unique(rt.ids(deal).astype(str), return_inverse=True)
    contacts_u, c_idx = np.unique(rt.ids(contact).astype(str), return_inverse=True)
    role_v = rt.ids(role).astype(str)
    _vocabulary(role_v, role, BUYING_ROLES)
    roles_u, r_idx = np.unique(role_v, return_inverse=True)
    stance_v = rt.ids(stance).astype(str)
    _vocabulary(stance_v, stance, STANCES)
    _one_stance(d_idx.astype(np.int64), c_idx.astype(np.int64), stance_v, stance)
    n_d, n_c, n_r = len(deals_u), len(contacts_u), len(roles_u)

    if tt.n_rows:
        ts = tt.timestamps(time, tz=tz)
        end = as_of_value(as_of, tz=ts.tz)
        start = end - np.timedelta64(int(window / dt.timedelta(microseconds=1)), "us")
        inside = (ts.values > start) & (ts.values <= end)
        engaged_ids = np.unique(tt.ids(contact).astype(str)[inside])
    else:
        engaged_ids = np.array([], dtype=str)
    eng = np.isin(contacts_u, engaged_ids)[c_idx]
    req = np.isin(role_v, np.array(required, dtype=str))
    d64, c64, r64 = d_idx.astype(np.int64), c_idx.astype(np.int64), r_idx.astype(np.int64)

    n_required_filled = _count_pairs(d64[req], r64[req], n_d, n_r)
    n_required_engaged = _count_pairs(d64[req & eng], r64[req & eng], n_d, n_r)
    n_contacts = _count_pairs(d64, c64, n_d, n_c)
    n_engaged_contacts = _count_pairs(d64[eng], c64[eng], n_d, n_c)
    n_engaged_roles = _count_pairs(d64[eng], r64[eng], n_d, n_r)
    supportive = (stance_v == "supporter") & np.isin(role_v, np.array(keys, dtype=str))
    deciding = supportive & np.isin(role_v, np.array(DECISION_ROLES, dtype=str))
    any_supportive = np.bincount(d64[supportive], minlength=n_d) > 0
    any_deciding = np.bincount(d64[deciding], minlength=n_d) > 0
    status = np.where(any_deciding, "green", np.where(any_supportive, "amber", "red"))
    n_req = len(required)
    with np.errstate(invalid="ignore", divide="ignore"):
        coverage = n_required_filled / n_req if n_req else np.ones(n_d)
        engaged_coverage = n_required_engaged / n_req if n_req else np.ones(n_d)
    return rt.result(
        {
            deal: deals_u.astype(object),
            "n_required_filled": n_required_filled.astype(np.int64),
            "coverage": np.asarray(coverage, dtype=np.float64),
            "n_required_engaged": n_required_engaged.astype(np.int64),
            "engaged_coverage": np.asarray(engaged_coverage, dtype=np.float64),
            "n_contacts": n_contacts.astype(np.int64),
            "n_engaged_contacts": n_engaged_contacts.astype(np.int64),
            "n_engaged_roles": n_engaged_roles.astype(np.int64),
            "single_threaded": n_engaged_contacts <= 1,
            "status": status.astype(object),
        }
    )
