"""The Book's one-search warm paths agree with accounts.warm_paths contact by contact; seats and
roles by hand."""

from __future__ import annotations

from typing import Any

import pytest

from clientmodel.accounts import warm_paths
from clientmodel.datasets.accounts import make_accounts
from clientmodel.view import Book

from .conftest import AS_OF


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_best_path_equals_warm_paths(seed: int) -> None:
    d = make_accounts(n_accounts=4, seed=seed)
    book = Book(d.accounts, d.contacts, d.team, d.relationships, d.roles, d.deals)
    for contact in d.contacts:
        if not contact.active:
            continue
        want = warm_paths(book.graph, contact.id, k=1)
        got = book.best_path([contact.id])
        if not want:
            assert got is None
            continue
        assert got is not None
        people, strength, text = got[1]
        assert strength == pytest.approx(want[0].strength, rel=1e-12)
        assert people[-1] == contact.id
        assert people[0] in {t.id for t in d.team if t.active}
        assert f"{strength:.3f}" in text


def test_seats_and_roles(scenario: dict[str, Any]) -> None:
    book = scenario["book"]
    seats = book.seats(["acme-dana", "acme-eli"])
    assert [(c, d.id, r.role) for c, d, r in seats] == [
        ("acme-dana", "D1", "economic_buyer"),
        ("acme-eli", "D1", "champion"),
    ]
    assert book.account_roles("acme-dana") == {"acme": ("economic_buyer",)}
    assert book.committee_status("D1", AS_OF) == "green"
