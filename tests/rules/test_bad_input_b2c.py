"""Issue 16 in the rules area: records and events of the wrong shape are refused, not counted 0."""

from __future__ import annotations

import polars as pl
import pytest

from clientmodel.errors import ClientModelError, DataError, RuleError
from clientmodel.rules import evaluate, evaluate_table


@pytest.mark.parametrize("record", [[5, 6], 5, "abc", None])
def test_evaluate_refuses_a_record_that_is_not_a_record(record):
    with pytest.raises(ClientModelError, match="record"):
        evaluate("x > 1", record)


def test_an_events_list_of_strings_is_refused_not_counted_zero():
    with pytest.raises(RuleError, match="events"):
        evaluate("count(events) >= 0", {"events": ["view", "click"]})


def test_an_event_with_a_null_key_is_reported_not_dropped():
    table = pl.DataFrame({"customer_id": ["a", "b"]})
    events = pl.DataFrame({"customer_id": ["a", None], "value": [1.0, 2.0]})
    with pytest.raises(DataError, match="customer_id"):
        evaluate_table("count(events) >= 1", table, events={"events": events})


@pytest.mark.parametrize("backend", ["polars", "pandas", "mapping"])
def test_events_with_a_null_key_are_named_by_row(backend):
    # rows 1 and 3 carry no customer: the error must point at them, on every kind of table
    events = {"customer_id": ["a", None, "b", None], "value": [1.0, 2.0, 3.0, 4.0]}
    table = {"customer_id": ["a", "b"]}
    if backend == "polars":
        events, table = pl.DataFrame(events), pl.DataFrame(table)
    elif backend == "pandas":
        pd = pytest.importorskip("pandas")
        events, table = pd.DataFrame(events), pd.DataFrame(table)
    with pytest.raises(DataError, match="customer_id") as info:
        evaluate_table("count(events) >= 1", table, events={"events": events})
    assert list(info.value.rows) == [1, 3]
