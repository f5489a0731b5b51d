"""A seeded synthetic B2B book of business: accounts, contacts, our team, ties, deals and roles.

The generator draws a plausible company structure so that every question of
:mod:`clientmodel.accounts` has something to answer: parent accounts with subsidiaries, contacts
with seniority and a reports-to tree per account (a few sit in their parent account too, a few
have left), influence and working ties among contacts, an account team per account (owner,
sales engineer, sometimes an executive) whose ties to contacts carry a strength and a last
interaction, and deals (open, won, lost) with buying committees, stances, one primary contact and
partly filled MEDDPICC notes. The same ``seed`` gives the same data.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
import numpy as np

from clientmodel._validation import boundary, check_integer, check_number, check_seed
from clientmodel.accounts.graph import build_graph
from clientmodel.accounts.models import (
    Account,
    Contact,
    DealContext,
    Relationship,
    RoleAssignment,
    TeamMember,
)
from clientmodel.errors import ArgumentError

__all__ = ["AccountsDataset", "make_accounts"]

_INDUSTRIES = ("manufacturing", "finance", "healthcare", "retail", "software", "logistics")
_DEPARTMENTS = ("it", "finance", "operations", "procurement", "sales", "engineering")
_SENIORITY = ("c_level", "vp", "director", "manager", "individual")
_TITLES = {
    "c_level": "Chief {d} Officer",
    "vp": "VP {d}",
    "director": "Director of {d}",
    "manager": "{d} Manager",
    "individual": "{d} Specialist",
}
_FIRST = ("Ana", "Ben", "Chen", "Dana", "Eli", "Fatima", "Goran", "Hana", "Ivan", "Jo", "Kofi",
          "Lena", "Mateo", "Nia", "Omar", "Pia", "Quinn", "Ravi", "Sara", "Tomás", "Uma", "Viktor",
          "Wen", "Yara", "Zoe")  # fmt: skip
_LAST = ("Ahmed", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "García", "Haddad", "Ito",
         "Jensen", "Kim", "Lopez", "Müller", "Novak", "Okafor", "Petrov", "Rossi", "Sato",
         "Tanaka", "Weber")  # fmt: skip
_SUFFIX = ("Group", "AG", "Inc", "Ltd")
_MEDDPICC_NOTES = {
    "metrics": "cut processing time 30%",
    "decision_criteria": "security review, TCO, integration",
    "decision_process": "steering committee sign-off",
    "paper_process": "MSA + DPA via procurement",
    "pain": "manual reconciliation errors",
    "competition": "incumbent in-house tool",
}


@attrs.frozen
class AccountsDataset:
    """The generated records plus the ``as_of`` they were drawn for.

    Examples
    --------
    >>> data = make_accounts(n_accounts=2, seed=0)
    >>> data.graph().number_of_nodes() > 0
    True
    """

    accounts: tuple[Account, ...]
    contacts: tuple[Contact, ...]
    team: tuple[TeamMember, ...]
    relationships: tuple[Relationship, ...]
    roles: tuple[RoleAssignment, ...]
    deals: tuple[DealContext, ...]
    as_of: dt.datetime

    @boundary
    def graph(self) -> Any:
        """The account graph (:func:`clientmodel.accounts.build_graph`) of these records.

        Examples
        --------
        >>> make_accounts(n_accounts=1, seed=0).graph().graph == {}
        True
        """
        return build_graph(
            self.accounts, self.contacts, self.team, self.relationships, self.roles, self.deals
        )


def _name(rng: np.random.Generator) -> str:
    return f"{_FIRST[rng.integers(len(_FIRST))]} {_LAST[rng.integers(len(_LAST))]}"


@boundary
def make_accounts(
    n_accounts: int = 20,
    *,
    contacts_per_account: int = 20,
    deals_per_account: float = 1.2,
    as_of: dt.datetime = dt.datetime(2025, 6, 30, tzinfo=dt.timezone.utc),
    seed: int | np.random.Generator | None = None,
) -> AccountsDataset:
    """Generate a synthetic book of business.

    Parameters
    ----------
    n_accounts:
        Number of accounts (about one in five is a subsidiary of an earlier account).
    contacts_per_account:
        Mean contacts per account (at least 4 each).
    deals_per_account:
        Mean deals per account (Poisson).
    as_of:
        Timezone-aware date the data describes; interactions fall before it.
    seed:
        Seed or generator.

    Examples
    --------
    >>> data = make_accounts(n_accounts=5, seed=42)
    >>> len(data.accounts), len(data.contacts) > 20
    (5, True)
    """
    n_accounts = check_integer(n_accounts, "n_accounts", minimum=1, maximum=1_000_000)
    contacts_per_account = check_integer(
        contacts_per_account, "contacts_per_account", minimum=4, maximum=10_000
    )
    deals_per_account = check_number(deals_per_account, "deals_per_account", minimum=0, maximum=1e4)
    if not isinstance(as_of, dt.datetime) or as_of.tzinfo is None:
        raise ArgumentError(f"as_of={as_of!r} must be a timezone-aware datetime", field="as_of")
    rng = check_seed(seed)
    width = len(str(n_accounts))

    n_team = max(4, n_accounts // 10)
    team_roles = ["account_executive", "sales_engineer", "executive", "customer_success"]
    team = [
        TeamMember(
            id=f"T{i:0{max(3, len(str(n_team)))}d}",
            name=_name(rng),
            role=team_roles[0 if i % 4 < 2 else (1 if i % 4 == 2 else (2 if i % 8 == 3 else 3))],
            active=bool(rng.random() > 0.03),
        )
        for i in range(n_team)
    ]
    by_role: dict[str, list[str]] = {}
    for t in team:
        by_role.setdefault(t.role, []).append(t.id)

    accounts: list[Account] = []
    contacts: list[Contact] = []
    rels: list[Relationship] = []
    roles: list[RoleAssignment] = []
    deals: list[DealContext] = []
    team_pairs: set[tuple[str, str]] = set()
    seen_sizes = np.maximum(4, rng.poisson(contacts_per_account, size=n_accounts))

    def when() -> dt.datetime:
        days = float(rng.exponential(60.0))
        return as_of - dt.timedelta(days=round(days, 3))

    for a in range(n_accounts):
        aid = f"A{a:0{width}d}"
        parent = None
        if a > 0 and rng.random() < 0.2:
            cand = [x for x in accounts if x.parent_id is None]
            parent = cand[rng.integers(len(cand))].id
        accounts.append(
            Account(
                id=aid,
                name=f"{_LAST[rng.integers(len(_LAST))]} {_SUFFIX[rng.integers(len(_SUFFIX))]}",
                parent_id=parent,
                industry=str(rng.choice(_INDUSTRIES)),
                employees=int(rng.lognormal(7, 1.2)),
                tier=str(rng.choice(["strategic", "enterprise", "mid_market"], p=[0.2, 0.3, 0.5])),
            )
        )
        n_c = int(seen_sizes[a])
        # seniority: one C-level, a couple of VPs, then a pyramid
        levels = np.sort(
            np.concatenate(
                [[0, 1], rng.choice([1, 2, 3, 4], size=n_c - 2, p=[0.08, 0.17, 0.3, 0.45])]
            )
        )
        ids = [f"{aid}-C{i:03d}" for i in range(n_c)]
        # draw every per-contact number for the account at once
        dept_ix = rng.integers(len(_DEPARTMENTS), size=n_c)
        first_ix = rng.integers(len(_FIRST), size=n_c)
        last_ix = rng.integers(len(_LAST), size=n_c)
        shared = rng.random(n_c) < 0.3
        stays = rng.random(n_c) > 0.04
        # everyone below the top reports to someone strictly more senior (sorted levels): a tree
        n_above = np.searchsorted(levels, levels, side="left")
        boss_ix = np.floor(rng.random(n_c) * np.maximum(n_above, 1)).astype(np.int64)
        boss_strength = np.round(rng.uniform(0.5, 1.0, size=n_c), 3)
        for i, cid in enumerate(ids):
            lvl = int(levels[i])
            dept = _DEPARTMENTS[int(dept_ix[i])]
            accs: tuple[str, ...] = (aid,)
            if parent is not None and lvl <= 1 and shared[i]:
                accs = (aid, parent)
            contacts.append(
                Contact(
                    id=cid,
                    name=f"{_FIRST[int(first_ix[i])]} {_LAST[int(last_ix[i])]}",
                    account_ids=accs,
                    title=_TITLES[_SENIORITY[lvl]].format(d="IT" if dept == "it" else dept.title()),
                    department=dept,
                    seniority=_SENIORITY[lvl],
                    active=bool(i == 0 or stays[i]),
                )
            )
            if i > 0:
                rels.append(
                    Relationship(
                        source=cid,
                        target=ids[int(boss_ix[i])],
                        kind="reports_to",
                        strength=float(boss_strength[i]),
                        last_interaction=when(),
                    )
                )
        pairs: set[tuple[tuple[int, int], str]] = set()
        for kind, rate in (("influences", 0.3), ("works_with", 0.5)):
            for _ in range(int(rng.poisson(rate * n_c))):
                i, j = (int(x) for x in rng.integers(n_c, size=2))
                if i == j:
                    continue
                key = (i, j) if kind == "influences" else (min(i, j), max(i, j))
                if (key, kind) in pairs or (kind == "works_with" and (key[::-1], kind) in pairs):
                    continue
                pairs.add((key, kind))
                rels.append(
                    Relationship(
                        source=ids[key[0]],
                        target=ids[key[1]],
                        kind=kind,
                        strength=round(float(rng.beta(2, 2)), 3),
                        last_interaction=when(),
                    )
                )
        # the account team and its ties to contacts
        owner = by_role["account_executive"][rng.integers(len(by_role["account_executive"]))]
        se = by_role["sales_engineer"][rng.integers(len(by_role["sales_engineer"]))]
        account_team = [(owner, int(rng.integers(2, 6))), (se, int(rng.integers(1, 4)))]
        if "executive" in by_role and rng.random() < 0.4:
            account_team.append((by_role["executive"][rng.integers(len(by_role["executive"]))], 1))
        pair = (min(owner, se), max(owner, se))
        if pair not in team_pairs:
            team_pairs.add(pair)
            rels.append(Relationship(source=pair[0], target=pair[1], kind="works_with",
                                     strength=0.9, last_interaction=when()))  # fmt: skip
        known: set[tuple[str, int]] = set()
        for member, n_known in account_team:
            pool = np.arange(n_c) if member != account_team[-1][0] or len(account_team) < 3 else (
                np.flatnonzero(levels <= 1))  # fmt: skip
            for j in rng.choice(pool, size=min(n_known, len(pool)), replace=False):
                if (member, int(j)) in known:
                    continue
                known.add((member, int(j)))
                rels.append(
                    Relationship(
                        source=member,
                        target=ids[int(j)],
                        kind="knows",
                        strength=round(float(rng.beta(3, 2)), 3),
                        last_interaction=when(),
                    )
                )
        if rng.random() < 0.3:
            roles.append(RoleAssignment(contact_id=ids[0], role="executive_sponsor",
                                        account_id=aid, stance="supporter"))  # fmt: skip
        # deals with buying committees
        for k in range(int(rng.poisson(deals_per_account))):
            did = f"{aid}-D{k:02d}"
            status = str(rng.choice(["open", "won", "lost"], p=[0.6, 0.25, 0.15]))
            fill = rng.random(len(_MEDDPICC_NOTES)) < rng.uniform(0.2, 0.95)
            notes = {
                f: (n if keep else None)
                for (f, n), keep in zip(_MEDDPICC_NOTES.items(), fill, strict=True)
            }
            deals.append(
                DealContext(
                    id=did,
                    account_id=aid,
                    name=f"{accounts[-1].name} expansion {k + 1}",
                    status=status,
                    stage=str(rng.choice(["qualify", "discover", "propose", "negotiate"])),
                    amount=Decimal(int(rng.lognormal(10.5, 0.8) // 100 * 100)),
                    currency="USD",
                    close_date=as_of + dt.timedelta(days=int(rng.integers(-120, 180))),
                    **notes,
                )
            )
            size = min(n_c, int(rng.integers(2, 9)))
            members = np.sort(rng.choice(n_c, size=size, replace=False))
            seat_roles = ["decision_maker"]
            extra = ["economic_buyer", "champion", "technical_evaluator", "business_evaluator",
                     "influencer", "user", "gatekeeper", "blocker"]  # fmt: skip
            keep = rng.random(len(extra)) < [0.7, 0.7, 0.6, 0.5, 0.4, 0.3, 0.15, 0.1]
            seat_roles += [r for r, kp in zip(extra, keep, strict=True) if kp]
            seat_roles = (seat_roles + ["influencer"] * size)[:size]
            primary = seat_roles.index("champion") if "champion" in seat_roles else 0
            # our team works the committee: the owner courts the champion (or primary), the SE
            # the technical evaluator, both with recent touches on open deals
            courted = [(owner, int(members[primary]), 0.85)]
            if "technical_evaluator" in seat_roles:
                courted.append((se, int(members[seat_roles.index("technical_evaluator")]), 0.6))
            courted.append((owner, int(members[0]), 0.35))
            for member, j, p_tie in courted:
                if (member, j) in known or rng.random() >= p_tie:
                    continue
                known.add((member, j))
                recent = as_of - dt.timedelta(days=round(float(rng.exponential(25.0)), 3))
                rels.append(
                    Relationship(
                        source=member,
                        target=ids[j],
                        kind="knows",
                        strength=round(float(rng.beta(4, 2)), 3),
                        last_interaction=recent if status == "open" else when(),
                    )
                )
            for s, (j, r) in enumerate(zip(members, seat_roles, strict=True)):
                if r == "blocker":
                    stance = "detractor"
                elif r == "champion":
                    stance = "supporter"
                else:
                    stance = str(
                        rng.choice(["supporter", "neutral", "detractor"], p=[0.45, 0.4, 0.15])
                    )
                roles.append(
                    RoleAssignment(
                        contact_id=ids[int(j)],
                        role=r,
                        deal_id=did,
                        stance=stance,
                        primary=s == primary,
                    )
                )
    return AccountsDataset(
        tuple(accounts),
        tuple(contacts),
        tuple(team),
        tuple(rels),
        tuple(roles),
        tuple(deals),
        as_of,
    )
