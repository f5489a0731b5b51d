"""Lazy frames in, lazy frames out: summary, RFM inputs, cohort tables and distinct histories
computed on the engine equal the in-memory results row for row (after sorting)."""

from __future__ import annotations

import datetime as dt

import dask.dataframe as dd
import numpy as np
import pandas as pd
import polars as pl
import pytest

from clientmodel.errors import DataError
from clientmodel.segments import cohort_table, fit_rfm, rfm_from_summary, rfm_values
from clientmodel.tables import is_lazy, read_lazy
from clientmodel.transactions import distinct_histories, summarize

AS_OF = "2025-06-30"

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


def same_rows(expected: pd.DataFrame, got: pd.DataFrame, key: str = "customer_id") -> None:
    """Equal columns and values, row for row after sorting by ``key``."""
    a = expected.sort_values(key).reset_index(drop=True)
    b = got.sort_values(key).reset_index(drop=True)
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for column in a.columns:
        x, y = a[column], b[column]
        if x.dtype.kind == "f":
            np.testing.assert_allclose(y.to_numpy(), x.to_numpy(), rtol=1e-12, atol=1e-9)
        elif getattr(x.dtype, "tz", None) is not None:
            assert (x.dt.tz_convert("UTC") == y.dt.tz_convert("UTC")).all(), column
        elif column.endswith("_purchase"):  # calendar dates; polars hands them to pandas as times
            assert (pd.to_datetime(x.astype(object)) == pd.to_datetime(y.astype(object))).all()
        else:
            assert x.astype(object).tolist() == y.astype(object).tolist(), column


@pytest.mark.parametrize("merge", ["D", "W", None])
def test_dask_summary_is_lazy_and_equals_the_in_memory_one(log, dask_log, merge):
    expected = summarize(log, as_of=AS_OF, unit="W", amount="amount", merge=merge)
    lazy = summarize(dask_log, as_of=AS_OF, unit="W", amount="amount", merge=merge)
    assert isinstance(lazy, dd.DataFrame)
    same_rows(expected, lazy.compute())


def test_dask_summary_excluding_late_rows(log, dask_log):
    kw = {"as_of": "2025-01-15", "unit": "D", "after_as_of": "exclude"}
    expected = summarize(log, **kw)
    same_rows(expected, summarize(dask_log, **kw).compute())


@pytest.mark.parametrize("merge", ["M", "Q", "Y", None])
def test_polars_lazy_summary(log, merge):
    lazy = pl.from_pandas(log).lazy()
    kw = {"as_of": AS_OF, "unit": "M", "amount": "amount", "merge": merge}
    got = summarize(lazy, **kw)
    assert isinstance(got, pl.LazyFrame)
    expected = summarize(log, **kw)
    same_rows(expected, got.collect().to_pandas())


def test_duckdb_relation_summary(log):
    duckdb = pytest.importorskip("duckdb")
    got = summarize(duckdb.from_df(log), as_of=AS_OF, unit="W", amount="amount", tz="UTC")
    assert isinstance(got, duckdb.DuckDBPyRelation)
    expected = summarize(log, as_of=AS_OF, unit="W", amount="amount")
    frame = got.df()
    # duckdb hands timestamps back in its session timezone: compare the instants
    for column in ("first_purchase", "last_purchase"):
        frame[column] = pd.to_datetime(frame[column]).dt.tz_localize(None)
        expected[column] = expected[column].dt.tz_localize(None)
    same_rows(expected, frame)


def test_calendar_dates_and_naive_timestamps(log):
    dates = log.assign(timestamp=log["timestamp"].dt.date.astype("date32[pyarrow]"))
    expected = summarize(dates, as_of=AS_OF, unit="W")
    same_rows(
        expected,
        summarize(pl.from_pandas(dates).lazy(), as_of=AS_OF, unit="W").collect().to_pandas(),
    )
    naive = pl.from_pandas(log).lazy().with_columns(pl.col("timestamp").dt.replace_time_zone(None))
    with pytest.raises(DataError, match="naive"):
        summarize(naive, as_of=AS_OF)
    got = summarize(naive, as_of=AS_OF, tz="UTC").collect().to_pandas()
    same_rows(summarize(log, as_of=AS_OF), got)


def test_lazy_checks_name_the_problem(log):
    with pytest.raises(DataError, match="after as_of"):
        summarize(pl.from_pandas(log).lazy(), as_of="2024-06-30")
    strings = pl.from_pandas(log).lazy().with_columns(pl.col("timestamp").cast(pl.String))
    with pytest.raises(DataError, match="Date or Datetime"):
        summarize(strings, as_of=AS_OF)
    nulls = (
        pl.from_pandas(log)
        .lazy()
        .with_columns(
            pl.when(pl.int_range(pl.len()) == 3)
            .then(None)
            .otherwise(pl.col("customer_id"))
            .alias("customer_id")
        )
    )
    with pytest.raises(DataError, match="1 null id"):
        summarize(nulls, as_of=AS_OF)
    refunds_only = pl.DataFrame(
        {"customer_id": ["a", "b"], "timestamp": [dt.date(2024, 1, 1)] * 2, "amount": [5.0, -1.0]}
    ).lazy()
    with pytest.raises(DataError, match="refunds"):
        summarize(refunds_only, as_of=AS_OF, amount="amount")
    with pytest.raises(DataError, match="missing required"):
        summarize(pl.from_pandas(log).lazy(), as_of=AS_OF, amount="value")


def test_distinct_histories_are_the_same_eager_and_lazy(log, dask_log):
    summary = summarize(log, as_of=AS_OF, unit="W")
    eager = distinct_histories(summary)
    lazy = distinct_histories(summarize(dask_log, as_of=AS_OF, unit="W"))
    assert isinstance(lazy, pd.DataFrame)
    assert eager["weights"].sum() == len(summary) == lazy["weights"].sum()
    for column in ("frequency", "recency", "T", "weights"):
        assert eager[column].tolist() == lazy[column].tolist()
    again = distinct_histories(eager)  # compressing compressed statistics changes nothing
    assert again["weights"].tolist() == eager["weights"].tolist()
    mapping = distinct_histories({c: summary[c].to_numpy() for c in ("frequency", "recency", "T")})
    assert mapping["weights"].tolist() == eager["weights"].tolist()


@pytest.mark.parametrize("monetary", ["total", "mean"])
def test_rfm_inputs_on_dask(log, dask_log, monetary):
    kw = {"as_of": "2025-01-31", "monetary": monetary, "after_as_of": "exclude"}
    same_rows(rfm_values(log, **kw), rfm_values(dask_log, **kw).compute())
    summary = summarize(log, as_of=AS_OF, unit="W", amount="amount")
    values = rfm_from_summary(summary, unit="W", monetary=monetary)
    lazy_values = rfm_from_summary(
        dd.from_pandas(summary, npartitions=2), unit="W", monetary=monetary
    )
    assert isinstance(lazy_values, dd.DataFrame)
    same_rows(values, lazy_values.compute())
    assert fit_rfm(lazy_values, k=4) == fit_rfm(values, k=4)
    fixed = {"recency": [30, 60, 90]}
    assert fit_rfm(lazy_values, k=4, fixed=fixed) == fit_rfm(values, k=4, fixed=fixed)


def test_fit_rfm_lazy_quantiles_follow_numpy():
    rng = np.random.default_rng(3)
    for _ in range(20):
        v = rng.integers(0, 7, int(rng.integers(1, 40))).astype(float)
        values = {"days_since_last": v, "orders": v[::-1].copy(), "monetary": v * 1.5}
        lazy = pl.DataFrame(values).lazy()
        assert fit_rfm(lazy, k=5) == fit_rfm(values, k=5)


@pytest.mark.parametrize("unit", ["W", "M"])
def test_cohort_tables_on_lazy_engines(log, dask_log, unit):
    kw = {"as_of": "2025-01-31", "unit": unit, "amount": "amount", "after_as_of": "exclude"}
    expected = cohort_table(log, **kw)
    for lazy in (dask_log, pl.from_pandas(log).lazy()):
        got = cohort_table(lazy, **kw)
        assert got.cohorts.tolist() == expected.cohorts.tolist()
        assert got.sizes.tolist() == expected.sizes.tolist()
        assert got.active.tolist() == expected.active.tolist()
        assert got.observed.tolist() == expected.observed.tolist()
        np.testing.assert_allclose(got.revenue, expected.revenue)


def test_read_lazy_and_is_lazy(dask_log, log):
    assert is_lazy(dask_log)
    assert not is_lazy(log)
    assert not is_lazy({"a": [1]})
    table = read_lazy(dask_log, name="transactions")
    assert table.columns == ("customer_id", "timestamp", "amount")
    with pytest.raises(DataError, match="lazy frame"):
        read_lazy(log)
    with pytest.raises(DataError, match="not a number"):
        table.numeric("customer_id")
