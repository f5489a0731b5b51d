"""PageRank influence against hand calculation and an independent dense linear solve."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.accounts import (
    Account,
    Contact,
    Relationship,
    build_graph,
    influence,
    influence_table,
)
from clientmodel.datasets.accounts import make_accounts
from clientmodel.errors import ArgumentError

from .conftest import world_records


def test_two_people_by_hand():
    # a reports to b (weight 1), equal teleport, alpha = 0.85; b is dangling so its mass returns
    # to p. Hand solution: x_a = 0.075 + 0.425 x_b and x_a + x_b = 1 give
    # x_b = 0.925 / 1.425 = 0.6491228..., x_a = 0.3508771...
    g = build_graph(
        [Account(id="acc", name="A")],
        [Contact(id=c, name=c, account_ids=("acc",), seniority="manager") for c in ("a", "b")],
        relationships=[Relationship(source="a", target="b", kind="reports_to", strength=1.0)],
    )
    scores = influence(g, "acc").as_dict()
    assert scores["b"] == pytest.approx(0.925 / 1.425, abs=1e-8)
    assert scores["a"] == pytest.approx(0.5 / 1.425, abs=1e-8)


def _dense_pagerank(nodes, arcs, teleport, alpha=0.85):
    """Independent method: solve (I - alpha W^T - alpha p d^T) x = (1 - alpha) p directly."""
    idx = {n: i for i, n in enumerate(nodes)}
    n = len(nodes)
    w = np.zeros((n, n))
    for u, v, s in arcs:
        w[idx[u], idx[v]] += s
    out = w.sum(axis=1)
    dangling = (out == 0).astype(float)
    wn = np.divide(w, out[:, None], out=np.zeros_like(w), where=out[:, None] > 0)
    p = np.array([teleport[x] for x in nodes], dtype=float)
    p /= p.sum()
    a = np.eye(n) - alpha * wn.T - alpha * np.outer(p, dangling)
    x = np.linalg.solve(a, (1 - alpha) * p)
    return dict(zip(nodes, x / x.sum(), strict=True))


def test_world_matches_a_dense_solve(world):
    # acme's active contacts; deference arcs: reports_to as given, influences reversed
    nodes = ["arch", "ceo", "cfo", "cto", "dev", "eu_head"]
    arcs = [
        ("cfo", "ceo", 1.0),
        ("cto", "ceo", 1.0),
        ("arch", "cto", 1.0),
        ("dev", "arch", 1.0),
        ("cfo", "cto", 0.6),  # cto influences cfo
    ]
    teleport = {"ceo": 5, "cfo": 5, "cto": 4, "arch": 2, "dev": 1, "eu_head": 4}
    expected = _dense_pagerank(nodes, arcs, teleport)
    got = influence(world, "acme").as_dict()
    for c in nodes:
        assert got[c] == pytest.approx(expected[c], abs=1e-8)
    assert influence(world, "acme").scores[0][0] == "ceo"


def test_table_matches_per_account(world):
    t = influence_table(world)
    for acc in ("acme", "acme_eu"):
        ref = influence(world, acc).as_dict()
        m = t["account_id"] == acc
        assert dict(zip(t["contact_id"][m], t["score"][m], strict=True)) == pytest.approx(
            ref, abs=1e-8
        )
        assert list(t["rank"][m]) == list(range(1, m.sum() + 1))


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), alpha=st.floats(0.5, 0.95))
def test_table_matches_networkx_on_generated_data(seed, alpha):
    g = make_accounts(n_accounts=5, contacts_per_account=8, seed=seed).graph()
    t = influence_table(g, alpha=alpha)
    for acc in set(t["account_id"]):
        ref = influence(g, acc, alpha=alpha).as_dict()
        m = t["account_id"] == acc
        got = dict(zip(t["contact_id"][m], t["score"][m], strict=True))
        assert got == pytest.approx(ref, abs=1e-7)
        assert sum(got.values()) == pytest.approx(1.0)


def test_isolated_newcomer_keeps_the_others_ratios():
    # With a dangling newcomer the others' scores solve the same linear system up to a scalar,
    # so their ratios do not change.
    before = influence(build_graph(**world_records()), "acme").as_dict()
    recs = world_records()
    recs["contacts"].append(Contact(id="new", name="N", account_ids=("acme",), seniority="vp"))
    after = influence(build_graph(**recs), "acme").as_dict()
    ratio = {c: after[c] / before[c] for c in before}
    assert max(ratio.values()) == pytest.approx(min(ratio.values()), rel=1e-7)


def test_bad_arguments(world):
    with pytest.raises(ArgumentError, match="alpha"):
        influence(world, "acme", alpha=1.0)
    with pytest.raises(ArgumentError, match="seniority_weights"):
        influence(world, "acme", seniority_weights={"vp": 1.0})
    with pytest.raises(ArgumentError, match="not a account"):
        influence(world, "ceo")


def test_power_map_on_the_world(world):
    from clientmodel.accounts import PowerMap, power_map

    # scores themselves are checked against the dense solve above; here the committee sums:
    # committee of d1 = cfo (neutral), cto (detractor), arch + dev (supporters)
    s = influence(world, "acme").as_dict()
    pm = power_map(world, "d1")
    total = s["cfo"] + s["cto"] + s["arch"] + s["dev"]
    assert pm.committee_share == pytest.approx(total)
    assert pm.stance_share["supporter"] == pytest.approx((s["arch"] + s["dev"]) / total)
    assert pm.stance_share["detractor"] == pytest.approx(s["cto"] / total)
    assert sum(pm.stance_share.values()) == pytest.approx(1.0)
    assert pm.members[0][0] in ("cfo", "cto")  # the C-level / VP outrank the rest
    assert pm.members[-1][0] == "dev"
    assert PowerMap.from_dict(pm.to_dict()) == pm
