"""Committee coverage, status and threading on the hand-built world (see conftest.py).

Expected values are read off the world by hand: d1's committee is cfo (economic_buyer, neutral),
cto (decision_maker, detractor), arch (champion, supporter, primary), dev (technical_evaluator,
supporter); within 90 days only arch was touched by our team (ae, 10 days ago); se touched dev
200 days ago.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientmodel.accounts import (
    Account,
    Contact,
    DealContext,
    Relationship,
    RoleAssignment,
    TeamMember,
    build_graph,
    committee_coverage,
    committee_table,
    committee_tables,
    threading,
)
from clientmodel.datasets.accounts import make_accounts
from clientmodel.errors import ArgumentError

from .conftest import AS_OF, ago, world_records


def test_coverage_by_hand(world):
    cov = committee_coverage(world, "d1", as_of=AS_OF)
    by_role = {r.role: r for r in cov.roles}
    assert by_role["decision_maker"].holders == ("cto",)
    assert by_role["champion"].engaged_holders == ("arch",)
    assert cov.coverage == pytest.approx(4 / 5)
    assert cov.engaged_coverage == pytest.approx(1 / 5)
    assert cov.missing_roles == ("business_evaluator",)
    assert cov.unengaged_roles == ("decision_maker", "economic_buyer", "technical_evaluator")
    assert cov.primary_contact == "arch"
    # supporters arch (champion) and dev (technical evaluator) are key players, none decides
    assert cov.status == "amber"
    assert cov.supportive_key_players == ("arch", "dev")
    assert json.loads(json.dumps(cov.to_dict())) == cov.to_dict()


def _with_stances(stances: dict[str, str]):
    recs = world_records()
    recs["roles"] = [
        r.model_copy(update={"stance": stances.get(r.contact_id, r.stance)}) for r in recs["roles"]
    ]
    return build_graph(**recs)


def test_status_green_and_red():
    assert committee_coverage(_with_stances({"cto": "supporter"}), "d1", as_of=AS_OF).status == (
        "green"
    )
    red = _with_stances({"arch": "neutral", "dev": "detractor"})
    assert committee_coverage(red, "d1", as_of=AS_OF).status == "red"
    # 'user' is not a key player: a supportive user alone leaves the deal red
    assert committee_coverage(red, "d1", as_of=AS_OF, key_roles=["champion"]).status == "red"


def test_threading_by_hand(world):
    t = threading(world, "d1", as_of=AS_OF)
    assert (t.engaged_contacts, t.engaged_roles, t.engaged_team) == (
        ("arch",),
        ("champion",),
        ("ae",),
    )
    assert t.single_threaded
    wide = threading(world, "d1", as_of=AS_OF, window=dt.timedelta(days=365))
    assert wide.engaged_contacts == ("arch", "dev")
    assert wide.engaged_team == ("ae", "se")
    assert not wide.single_threaded


def test_window_is_open_at_the_start_and_closed_at_as_of():
    recs = world_records()
    window = dt.timedelta(days=30)
    recs["relationships"] = [
        r for r in recs["relationships"] if {r.source, r.target} not in ({"ae", "arch"},)
    ] + [
        Relationship(source="ae", target="arch", kind="knows", last_interaction=AS_OF - window),
        Relationship(source="se", target="cfo", kind="knows", last_interaction=AS_OF),
        Relationship(source="se", target="cto", kind="knows", last_interaction=ago(-1)),
    ]
    t = threading(build_graph(**recs), "d1", as_of=AS_OF, window=window)
    assert t.engaged_contacts == ("cfo",)


def test_inactive_contacts_fill_no_role_and_account_roles_count():
    recs = world_records()
    recs["contacts"] = [c.model_copy(update={"active": c.id != "arch"}) for c in recs["contacts"]]
    recs["roles"].append(
        RoleAssignment(contact_id="ceo", role="business_evaluator", account_id="acme")
    )
    cov = committee_coverage(build_graph(**recs), "d1", as_of=AS_OF)
    assert "champion" in cov.missing_roles
    assert "business_evaluator" not in cov.missing_roles
    assert cov.primary_contact is None


def test_bad_arguments(world):
    with pytest.raises(ArgumentError, match="timezone-aware"):
        committee_coverage(world, "d1", as_of=dt.datetime(2025, 1, 1))
    with pytest.raises(ArgumentError, match="not a deal"):
        committee_coverage(world, "acme", as_of=AS_OF)
    with pytest.raises(ArgumentError, match="window"):
        threading(world, "d1", as_of=AS_OF, window=dt.timedelta(0))


def _compare(g, as_of, window):
    roles, touches = committee_tables(g)
    table = committee_table(roles, touches, as_of=as_of, window=window, tz="UTC")
    for i, deal in enumerate(table["deal_id"]):
        cov = committee_coverage(g, deal, as_of=as_of, window=window)
        thr = threading(g, deal, as_of=as_of, window=window)
        assert table["coverage"][i] == pytest.approx(cov.coverage)
        assert table["engaged_coverage"][i] == pytest.approx(cov.engaged_coverage)
        assert table["status"][i] == cov.status
        assert table["n_engaged_contacts"][i] == len(thr.engaged_contacts)
        assert table["n_engaged_roles"][i] == len(thr.engaged_roles)
        assert table["single_threaded"][i] == thr.single_threaded
    return table


def test_table_agrees_with_records_on_the_world(world):
    table = _compare(world, AS_OF, dt.timedelta(days=90))
    assert list(table["deal_id"]) == ["d1"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), days=st.integers(1, 400))
def test_table_agrees_with_records_on_generated_data(seed, days):
    data = make_accounts(n_accounts=6, contacts_per_account=8, seed=seed)
    _compare(data.graph(), data.as_of, dt.timedelta(days=days))


def test_table_accepts_pandas_and_returns_pandas(world):
    roles, touches = committee_tables(world)
    touches_df = pd.DataFrame(touches)
    touches_df["last_interaction"] = touches_df["last_interaction"].dt.tz_localize("UTC")
    out = committee_table(pd.DataFrame(roles), touches_df, as_of=AS_OF)
    assert isinstance(out, pd.DataFrame)
    assert out.loc[0, "status"] == "amber"


_ROLE_NAMES = ["decision_maker", "economic_buyer", "champion", "user", "technical_evaluator"]


@settings(max_examples=40, deadline=None)
@given(
    seats=st.lists(
        st.tuples(st.integers(0, 4), st.sampled_from(_ROLE_NAMES), st.booleans()),
        min_size=1,
        max_size=15,
    )
)
def test_coverage_never_counts_a_role_twice(seats):
    contacts = [Contact(id=f"c{i}", name=f"c{i}", account_ids=("a",)) for i in range(5)]
    team = [TeamMember(id="t", name="t")]
    rels = [
        Relationship(source="t", target=f"c{i}", kind="knows", last_interaction=ago(1))
        for i in range(5)
    ]
    roles = list(
        {
            (c, r): RoleAssignment(
                contact_id=f"c{c}", role=r, deal_id="d", stance="supporter" if s else "neutral"
            )
            for c, r, s in seats
        }.values()
    )
    g = build_graph(
        [Account(id="a", name="a")],
        contacts,
        team,
        rels,
        roles,
        [DealContext(id="d", account_id="a")],
    )
    cov = committee_coverage(g, "d", as_of=AS_OF)
    required = ("decision_maker", "economic_buyer", "champion", "technical_evaluator",
                "business_evaluator")  # fmt: skip
    expected = len({r for _, r, _ in seats} & set(required)) / len(required)
    assert cov.coverage == pytest.approx(expected)
    assert 0.0 <= cov.coverage <= 1.0
    t = threading(g, "d", as_of=AS_OF)
    assert len(t.engaged_roles) == len({r for _, r, _ in seats})
    assert len(t.engaged_contacts) == len({c for c, _, _ in seats})


@settings(max_examples=20, deadline=None)
@given(days=st.integers(1, 400), kind=st.sampled_from(["contact", "team"]))
def test_an_unconnected_person_changes_nothing(days, kind):
    base = world_records()
    more = world_records()
    if kind == "contact":
        more["contacts"].append(Contact(id="loner", name="L", account_ids=("acme",)))
    else:
        more["team"].append(TeamMember(id="loner", name="L"))
    g0, g1 = build_graph(**base), build_graph(**more)
    window = dt.timedelta(days=days)
    assert committee_coverage(g0, "d1", as_of=AS_OF, window=window) == committee_coverage(
        g1, "d1", as_of=AS_OF, window=window
    )
    assert threading(g0, "d1", as_of=AS_OF, window=window) == threading(
        g1, "d1", as_of=AS_OF, window=window
    )


def test_empty_tables_give_empty_result():
    out = committee_table(
        {"deal_id": [], "contact_id": [], "role": [], "stance": []},
        {"contact_id": [], "last_interaction": []},
        as_of=AS_OF,
    )
    assert len(out["deal_id"]) == 0
    assert isinstance(out["coverage"], np.ndarray)


def test_table_accepts_polars(world):
    pl = pytest.importorskip("polars")
    roles, touches = committee_tables(world)
    out = committee_table(
        pl.DataFrame({k: list(v) for k, v in roles.items()}),
        pl.DataFrame(touches).with_columns(pl.col("last_interaction").dt.replace_time_zone("UTC")),
        as_of=AS_OF,
    )
    assert isinstance(out, pl.DataFrame)
    assert out["status"].to_list() == ["amber"]
    assert out["n_engaged_contacts"].to_list() == [1]
