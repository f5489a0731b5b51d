"""Bad inputs to view/ (and PowerMap) that leaked internal exceptions (issue 16).

Found by ``tools/probe_bad_inputs.py clientmodel.view clientmodel.accounts``: each case below
leaked an ``AttributeError``, ``TypeError`` or ``ValueError`` (or ran for minutes: a 1e308
horizon) before the fix, or was accepted silently (``as_of`` without ``book``); each now raises a
ClientModelError naming the argument or column.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import polars as pl
import pytest

from clientmodel.accounts import Account, Contact
from clientmodel.accounts.influence import PowerMap
from clientmodel.ltv import BGNBD
from clientmodel.view import (
    Book,
    demo_day_plan,
    demo_views,
    purchase_timing,
    timing_table,
    view_table,
    window_quantiles,
)

from .conftest import bad, check_bad, marked, unknown_ids

XFAIL: dict[str, str] = {}

T = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
MODEL = BGNBD(r=2.0, alpha=10.0, a=0.5, b=5.0)
ONE = {"frequency": 1, "recency": 3, "T": 10}
TABLE = pd.DataFrame({"id": ["a"], "frequency": [1.0], "recency": [3.0], "T": [10.0]})
TEXT = pd.DataFrame({"id": ["a"], "frequency": ["x"], "recency": [3.0], "T": [10.0]})
ACCOUNT = Account(id="a", name="A")
CONTACT = Contact(id="c", name="C", account_ids=("a",))
PEOPLE = pd.DataFrame({"person_id": ["a", "b"]})


def _power_map(stance_share):
    return PowerMap("d1", "acme", (), 0.0, stance_share)


CASES = [
    # --- the model is not a fitted transaction model (AttributeError before)
    *[
        bad(f"window_quantiles-model-{label}", lambda v=v: window_quantiles(v, ONE), "model")
        for label, v in (("none", None), ("text", "bgnbd"), ("dict", {"r": 1}), ("int", 5))
    ],
    bad("purchase_timing-model-text", lambda: purchase_timing(ONE, model="bgnbd"), "model"),
    bad("timing_table-model-dict", lambda: timing_table(TABLE, key="id", model={"r": 1}), "model"),
    # --- numbers beyond int64 or absurd horizons (numpy TypeError; minutes of work before)
    bad(
        "window_quantiles-huge-int-horizon",
        lambda: window_quantiles(MODEL, ONE, max_horizon=2**70),
        "max_horizon",
    ),
    # beyond float's range: the boundary's own type check raised OverflowError before
    bad(
        "window_quantiles-10**400-horizon",
        lambda: window_quantiles(MODEL, ONE, max_horizon=10**400),
        "max_horizon",
    ),
    bad(
        "window_quantiles-1e308-horizon",
        lambda: window_quantiles(MODEL, ONE, max_horizon=1e308),
        "max_horizon",
    ),
    bad(
        "timing_table-huge-int-horizon",
        lambda: timing_table(TABLE, key="id", model=MODEL, max_horizon=2**70),
        "max_horizon",
    ),
    bad(
        "purchase_timing-1e308-overdue",
        lambda: purchase_timing(ONE, typical_gap=3, overdue_factor=1e308),
        "overdue_factor",
    ),
    # --- text in a summary column (ValueError before)
    bad(
        "window_quantiles-text-frequency",
        lambda: window_quantiles(MODEL, {"frequency": ["x"], "recency": [3.0], "T": [10.0]}),
        "frequency",
    ),
    bad(
        "purchase_timing-text-T",
        lambda: purchase_timing({"frequency": 1, "recency": 3, "T": "x"}),
        "T",
    ),
    bad("timing_table-text-frequency", lambda: timing_table(TEXT, key="id"), "frequency"),
    # --- the demo's datasets (AttributeError before)
    bad("demo_views-none-consumers", lambda: demo_views(None, None), "consumers"),
    bad("demo_views-dict-accounts", lambda: demo_views(_Consumers(), {"accounts": []}), "accounts"),
    bad("demo_day_plan-text-consumers", lambda: demo_day_plan("consumers", None), "consumers"),
    # --- Book: records that are not lists of records (TypeError/AttributeError before)
    bad("book-none-accounts", lambda: Book(None, [CONTACT]), "accounts"),
    bad("book-int-team", lambda: Book([ACCOUNT], [CONTACT], team=5), "team"),
    bad("book-bad-contact", lambda: Book([ACCOUNT], [{"id": "c"}]), "contacts"),
    bad(
        "book-list-probabilities",
        lambda: Book([ACCOUNT], [CONTACT], probabilities=[0.5]),
        "probabilities",
    ),
    # --- view_table: arguments that go together, and frames of mixed kinds
    bad("view_table-as_of-without-book", lambda: view_table(PEOPLE, as_of=T), "as_of"),
    bad(
        "view_table-text-as_of",
        lambda: view_table(PEOPLE, book=Book([ACCOUNT], [CONTACT]), links=None, as_of="x"),
        ("book", "as_of", "links"),
    ),
    # --- PowerMap built by hand (TypeError before)
    bad("power_map-none-stance_share", lambda: _power_map(None), "stance_share"),
    bad("power_map-list-stance_share", lambda: _power_map([0.5]), "stance_share"),
]


class _Consumers:
    """Looks like make_consumers' dataset (the accounts argument is the bad one)."""

    as_of = T
    events = identifiers = profiles = staff = ()

    def event_records(self):
        return []


@pytest.mark.parametrize(("thunk", "names", "exc", "rows"), marked(CASES, XFAIL))
def test_bad_input(thunk, names, exc, rows):
    check_bad(thunk, exc=exc, names=names, rows=rows)


def test_xfail_ids_name_cases():
    assert unknown_ids(XFAIL, CASES) == []


def test_view_table_joins_frames_of_mixed_kinds():
    """A polars summary (eager or lazy) joins a pandas people table: the people table's kind wins
    (a narwhals join across backends raised TypeError before)."""
    summary = pl.DataFrame({"person_id": ["b"], "frequency": [2.0], "recency": [30.0], "T": [40.0]})
    for side in (summary, summary.lazy()):
        out = view_table(PEOPLE, summary=side)
        assert isinstance(out, pd.DataFrame)
        assert out["since_purchase"].tolist()[1] == 10.0  # 40 - 30, by hand
        assert pd.isna(out["since_purchase"].tolist()[0])
    lazy = view_table(pl.from_pandas(PEOPLE).lazy(), summary=summary.to_pandas())
    assert isinstance(lazy, pl.LazyFrame)
    assert lazy.collect()["since_purchase"].to_list() == [None, 10.0]


def test_valid_calls_unchanged():
    """Ordinary calls still work: BG/NBD's first-purchase median for a new customer has the closed
    form alpha (2**(1/r) - 1) = 10 (sqrt 2 - 1) = 4.142 (r = 2, alpha = 10)."""
    assert (
        round(
            float(window_quantiles(MODEL, {"frequency": 0, "recency": 0, "T": 0}, [0.5])[0, 0]), 2
        )
        == 4.14
    )
    t = purchase_timing({"frequency": 0, "recency": 0, "T": 35}, typical_gap=30)
    assert (t.cadence_gap, t.due, t.overdue) == (30.0, True, False)
    # a gap beyond int64 is a number like any other (numpy's isfinite raised TypeError before)
    assert purchase_timing({"frequency": 0, "recency": 0, "T": 5}, typical_gap=2**70).due is False
    book = Book([ACCOUNT.model_dump()], [CONTACT])  # record dicts are read as records
    assert book.contact("c").name == "C"
