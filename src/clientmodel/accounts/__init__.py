"""Account graphs: companies, contacts, buying roles and relationships on networkx.

B2B relationships are many-to-many: our sellers, engineers and executives know their decision
makers, evaluators and influencers. :func:`build_graph` turns the records of
:mod:`clientmodel.accounts.models` into a ``networkx.MultiDiGraph`` (node kinds and edge
attributes are the constants of :mod:`clientmodel.accounts.graph`), and one module per question
answers what a sales leader asks before a big deal:

* :mod:`~clientmodel.accounts.committee`: coverage of the buying committee, Altify-style status,
  threading;
* :mod:`~clientmodel.accounts.risk`: key-person risk (articulation points);
* :mod:`~clientmodel.accounts.influence`: PageRank influence inside an account, power maps;
* :mod:`~clientmodel.accounts.paths`: warm introduction paths;
* :mod:`~clientmodel.accounts.hierarchy`: org charts and account roll-ups;
* :mod:`~clientmodel.accounts.decay`: relationship decay with a half-life;
* :mod:`~clientmodel.accounts.meddpicc`: MEDDPICC completeness, usable as a stage gate.
"""

from __future__ import annotations

from clientmodel.accounts.committee import (
    DEFAULT_REQUIRED_ROLES,
    CommitteeCoverage,
    RoleCoverage,
    Threading,
    committee_coverage,
    committee_table,
    committee_tables,
    threading,
)
from clientmodel.accounts.decay import decay_graph, decayed_strength, decayed_strengths
from clientmodel.accounts.graph import build_graph, nodes_of_kind
from clientmodel.accounts.hierarchy import (
    AccountRollup,
    account_rollup,
    org_chart,
    render_org_chart,
)
from clientmodel.accounts.influence import (
    Influence,
    PowerMap,
    influence,
    influence_table,
    power_map,
)
from clientmodel.accounts.meddpicc import Meddpicc, meddpicc, meets_meddpicc
from clientmodel.accounts.models import (
    BUYING_ROLES,
    DECISION_ROLES,
    KEY_PLAYER_ROLES,
    Account,
    Contact,
    DealContext,
    Relationship,
    RoleAssignment,
    TeamMember,
)
from clientmodel.accounts.paths import Hop, IntroPath, warm_paths
from clientmodel.accounts.risk import (
    PersonRisk,
    account_risks,
    articulation_people,
    key_person_risk,
)

__all__ = [
    "BUYING_ROLES",
    "DECISION_ROLES",
    "DEFAULT_REQUIRED_ROLES",
    "KEY_PLAYER_ROLES",
    "Account",
    "AccountRollup",
    "CommitteeCoverage",
    "Contact",
    "DealContext",
    "Hop",
    "Influence",
    "IntroPath",
    "Meddpicc",
    "PersonRisk",
    "PowerMap",
    "Relationship",
    "RoleAssignment",
    "RoleCoverage",
    "TeamMember",
    "Threading",
    "account_risks",
    "account_rollup",
    "articulation_people",
    "build_graph",
    "committee_coverage",
    "committee_table",
    "committee_tables",
    "decay_graph",
    "decayed_strength",
    "decayed_strengths",
    "influence",
    "influence_table",
    "key_person_risk",
    "meddpicc",
    "meets_meddpicc",
    "nodes_of_kind",
    "org_chart",
    "power_map",
    "render_org_chart",
    "threading",
    "warm_paths",
]
