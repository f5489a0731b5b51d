"""The synthetic book of business and the deal-review example."""

from __future__ import annotations

import runpy
from pathlib import Path

from clientmodel.accounts import committee_coverage, influence_table
from clientmodel.datasets.accounts import make_accounts

ROOT = Path(__file__).resolve().parents[2]


def test_same_seed_same_data_and_a_valid_graph():
    a = make_accounts(n_accounts=12, seed=7)
    b = make_accounts(n_accounts=12, seed=7)
    assert a == b
    assert a != make_accounts(n_accounts=12, seed=8)
    g = a.graph()  # build_graph raises on any bad reference
    assert g.number_of_nodes() == len(a.accounts) + len(a.contacts) + len(a.team) + len(a.deals)
    assert any(x.parent_id for x in a.accounts)
    assert any(len(c.account_ids) > 1 for c in make_accounts(n_accounts=60, seed=1).contacts)
    assert {d.status for d in make_accounts(n_accounts=40, seed=2).deals} == {"open", "won", "lost"}
    for d in a.deals:
        cov = committee_coverage(g, d.id, as_of=a.as_of)
        assert cov.roles[0].role == "decision_maker"
    assert len(influence_table(g)["contact_id"]) > 0


def test_deal_review_example_runs(capsys):
    runpy.run_path(str(ROOT / "examples" / "deal_review.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "Deal review" in out


def test_docs_example_runs(capsys):
    import re

    text = (ROOT / "docs" / "accounts.md").read_text()
    for block in re.findall(r"```python\n(.+?)\n```", text, re.S):
        exec(compile(block, "docs/accounts.md", "exec"), {})
    assert capsys.readouterr().out.count("\n") >= 4
