"""The customer summary: CDNOW golden values, hand-worked cases and a plain-Python oracle."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientmodel.errors import ArgumentError, DataError
from clientmodel.transactions import calibration_holdout, summarize

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    raw = pd.read_csv(
        DATA / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "dollars"],
    )
    raw["date"] = pd.to_datetime(raw["date"].astype(str)).dt.date
    return raw


def test_cdnow_summary_equals_the_published_one(cdnow):
    # Golden: the 2,357-customer CDNOW sample summary published with Fader, Hardie & Lee (2005),
    # "Counting your customers the easy way" (x, t_x, T in weeks, zbar in dollars, 2 decimals),
    # calibration period 1997-01-01 .. 1997-09-30, same-day purchases merged.
    s = summarize(
        cdnow,
        as_of="1997-09-30",
        unit="W",
        time="date",
        amount="dollars",
        after_as_of="exclude",
    )
    ref = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")
    both = ref.merge(s, left_on="ID", right_on="customer_id", validate="1:1")
    assert len(both) == len(ref) == len(s) == 2357
    assert (both["x"] == both["frequency"]).all()
    assert np.allclose(both["t_x"], both["recency"], atol=0.005)
    assert np.allclose(both["T_x"], both["T_y"], atol=0.005)
    assert np.allclose(both["zbar"], both["monetary_value"], atol=0.0051)
    assert (s["orders"] == s["frequency"] + 1).all()


def test_hand_worked_example_in_weeks():
    # a: 2024-01-01 (10 + 5, merged), 2024-01-15 (20), refund -3 on 2024-01-20.
    # b: 2024-01-08 (7). as_of 2024-01-29 (a Monday): T_a = 28 days = 4 weeks, T_b = 3 weeks.
    log = {
        "customer_id": ["a", "a", "a", "b", "a"],
        "timestamp": ["2024-01-01", "2024-01-01", "2024-01-15", "2024-01-08", "2024-01-20"],
        "amount": [10.0, 5.0, 20.0, 7.0, -3.0],
    }
    s = summarize(log, as_of="2024-01-29", unit="W", amount="amount")
    assert s["customer_id"].tolist() == ["a", "b"]
    assert s["frequency"].tolist() == [1, 0]
    assert s["recency"].tolist() == [2.0, 0.0]
    assert s["T"].tolist() == [4.0, 3.0]
    # The refund is netted into revenue but is not a purchase and not a repeat-purchase value.
    assert s["monetary_value"].tolist() == [20.0, 0.0]
    assert s["revenue"].tolist() == [32.0, 7.0]
    every_row = summarize(log, as_of="2024-01-29", unit="D", merge=None)
    assert every_row["frequency"].tolist() == [2, 0]


def test_same_answer_for_pandas_polars_pyarrow_and_mapping():
    ts = pd.to_datetime(
        ["2024-03-01 10:00", "2024-03-01 23:00", "2024-03-05 08:00", "2024-03-02 12:00"], utc=True
    )
    frame = pd.DataFrame(
        {"customer_id": [1, 1, 1, 2], "timestamp": ts, "amount": [1.0, 2.0, 4.0, 8.0]}
    )
    kinds = {
        "pandas": frame,
        "polars": pl.from_pandas(frame),
        "pyarrow": pa.Table.from_pandas(frame),
        "mapping": {c: frame[c].tolist() for c in frame.columns},
    }
    results = {
        k: summarize(v, as_of="2024-03-10", unit="D", amount="amount") for k, v in kinds.items()
    }
    assert isinstance(results["pandas"], pd.DataFrame)
    assert isinstance(results["polars"], pl.DataFrame)
    assert isinstance(results["pyarrow"], pa.Table)
    assert isinstance(results["mapping"], dict)
    for name, result in results.items():
        get = (
            (lambda c, r=result: np.asarray(r[c]))
            if isinstance(result, (dict, pd.DataFrame, pl.DataFrame))
            else (lambda c, r=result: r.column(c).to_numpy())
        )
        assert get("frequency").tolist() == [1, 0], name
        assert get("recency").tolist() == [4.0, 0.0], name
        assert get("T").tolist() == [9.0, 8.0], name
        assert get("monetary_value").tolist() == [4.0, 0.0], name


def test_after_as_of_is_an_error_or_counted():
    log = {
        "customer_id": ["a", "a", "b"],
        "timestamp": ["2024-01-01", "2024-02-01", "2024-01-03"],
    }
    with pytest.raises(DataError, match="after as_of") as info:
        summarize(log, as_of="2024-01-31")
    assert list(info.value.rows) == [1]
    s = summarize(log, as_of="2024-01-31", after_as_of="exclude")
    assert s["excluded_after_as_of"].tolist() == [1, 0]
    assert s["frequency"].tolist() == [0, 0]


@pytest.mark.parametrize(
    ("log", "kwargs", "error", "match"),
    [
        ({"customer_id": ["a", None], "timestamp": ["2024-01-01"] * 2}, {}, DataError, "null"),
        ({"customer_id": ["a"], "timestamp": [None]}, {}, DataError, "timestamp"),
        (
            {"customer_id": ["a"], "timestamp": ["2024-01-01"], "v": ["x"]},
            {"amount": "v"},
            DataError,
            "v",
        ),
        (
            {"customer_id": ["a"], "timestamp": ["2024-01-01"], "v": [float("inf")]},
            {"amount": "v"},
            DataError,
            "v",
        ),
        (
            {"customer_id": ["a"], "timestamp": ["2024-01-01"], "v": [-2.0]},
            {"amount": "v"},
            DataError,
            "refund",
        ),
        ({"customer": ["a"], "timestamp": ["2024-01-01"]}, {}, DataError, "customer_id"),
        (
            {"customer_id": ["a"], "timestamp": ["2024-01-01"]},
            {"unit": "fortnight"},
            ArgumentError,
            "unit",
        ),
    ],
)
def test_bad_input_gets_a_clear_error(log, kwargs, error, match):
    with pytest.raises(error, match=match):
        summarize(log, as_of="2024-02-01", **kwargs)


def test_naive_timestamps_need_a_timezone():
    log = pd.DataFrame({"customer_id": ["a"], "timestamp": pd.to_datetime(["2024-01-01 23:30"])})
    with pytest.raises(DataError, match="naive"):
        summarize(log, as_of="2024-01-10")
    s = summarize(log, as_of="2024-01-10", tz="Asia/Shanghai")
    assert s["T"].tolist() == [9.0]


def test_calibration_holdout_counts_holdout_purchases():
    log = {
        "customer_id": ["a", "a", "a", "a", "b", "c"],
        "timestamp": [
            "2024-01-01",
            "2024-01-15",
            "2024-02-05",
            "2024-02-05",
            "2024-01-08",
            "2024-02-10",
        ],
        "amount": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    }
    s = calibration_holdout(
        log, calibration_end="2024-01-28", holdout_end="2024-02-25", unit="W", amount="amount"
    )
    # c first buys in the holdout: not part of the calibrated population.
    assert s["customer_id"].tolist() == ["a", "b"]
    assert s["frequency_holdout"].tolist() == [1, 0]  # two rows on one day = one purchase
    assert s["monetary_value_holdout"].tolist() == [7.0, 0.0]
    assert s["duration_holdout"].tolist() == [4.0, 4.0]
    with pytest.raises(ArgumentError, match="holdout_end"):
        calibration_holdout(log, calibration_end="2024-02-25", holdout_end="2024-01-28")


def _oracle(rows, as_of: dt.date):
    """Plain Python: merge by day, count periods, measure in days."""
    by_customer: dict[int, dict[dt.date, float]] = {}
    for cid, day, value in rows:
        by_customer.setdefault(cid, {}).setdefault(day, 0.0)
        by_customer[cid][day] += value
    out = {}
    for cid, days in sorted(by_customer.items()):
        ordered = sorted(days)
        repeat = [days[d] for d in ordered[1:]]
        out[cid] = (
            len(ordered) - 1,
            float((ordered[-1] - ordered[0]).days),
            float((as_of - ordered[0]).days),
            sum(repeat) / len(repeat) if repeat else 0.0,
        )
    return out


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 40), st.integers(0, 1000)),
        min_size=1,
        max_size=60,
    ),
    st.sampled_from(["pandas", "polars", "mapping"]),
)
def test_matches_a_plain_python_oracle(rows, kind):
    start = dt.date(2024, 1, 1)
    as_of = dt.date(2024, 3, 1)
    logged = [(c, start + dt.timedelta(days=d), v / 100) for c, d, v in rows]
    data = {
        "customer_id": [r[0] for r in logged],
        "timestamp": [r[1] for r in logged],
        "amount": [r[2] for r in logged],
    }
    frame = (
        pd.DataFrame(data) if kind == "pandas" else pl.DataFrame(data) if kind == "polars" else data
    )
    s = summarize(frame, as_of=as_of, unit="D", amount="amount")
    got = s if kind == "pandas" else pd.DataFrame(s if kind == "mapping" else s.to_dict())
    expected = _oracle(logged, as_of)
    assert got["customer_id"].tolist() == list(expected)
    for (freq, rec, t, mv), (_, row) in zip(expected.values(), got.iterrows(), strict=True):
        assert row["frequency"] == freq
        assert row["recency"] == rec
        assert row["T"] == t
        assert row["monetary_value"] == pytest.approx(mv)


@pytest.mark.parametrize("session", ["UTC", "America/New_York", "Asia/Shanghai"])
@pytest.mark.parametrize("tz", ["Asia/Shanghai", "UTC+08:00"])
def test_duckdb_in_any_session_time_zone_gives_the_in_memory_summary(session, tz):
    duckdb = pytest.importorskip("duckdb")
    stamps = pd.to_datetime(["2024-01-01 07:00", "2024-01-10 23:30", "2024-01-10 01:00"])
    log = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "timestamp": stamps.tz_localize("Asia/Shanghai"),
            "amount": [1.0, 2.0, 3.0],
        }
    )
    # In memory, in Shanghai days: a first bought on 1 January (30 days before 31 January),
    # b on 10 January (21 days). A UTC session used to say 31 and 22 (UTC days).
    expected = summarize(log, as_of="2024-01-31", amount="amount")
    assert expected["T"].tolist() == [30.0, 21.0]
    con = duckdb.connect()
    con.execute(f"SET TimeZone='{session}'")
    relation = con.from_df(log)
    got = summarize(relation, as_of="2024-01-31", amount="amount", tz=tz).order("customer_id")
    frame = got.df()
    assert frame["T"].tolist() == [30.0, 21.0]
    assert frame["recency"].tolist() == [9.0, 0.0]
    first = pd.to_datetime(frame["first_purchase"]).dt.tz_convert("UTC")
    assert first.tolist() == expected["first_purchase"].dt.tz_convert("UTC").tolist()
    with pytest.raises(DataError, match="pass tz="):
        summarize(relation, as_of="2024-01-31", amount="amount")


_engine_rows = st.lists(
    st.tuples(
        st.integers(0, 5),
        st.integers(0, 24 * 120),
        st.sampled_from([12.5, 3.0, 0.1, -2.0]),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=20, deadline=None)
@given(_engine_rows, st.sampled_from(["D", "W", "M"]), st.sampled_from(["D", "W"]))
def test_eager_polars_lazy_and_duckdb_agree(rows, unit, merge):
    """Counts and dates equal, durations and sums to 1e-12 (docs/scaling.md)."""
    duckdb = pytest.importorskip("duckdb")
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{c}" for c, _, _ in rows],
            "timestamp": [start + dt.timedelta(hours=h) for _, h, _ in rows],
            "amount": [a for _, _, a in rows],
        }
    )
    # Keep customers with a purchase: refund-only customers are an error on every path.
    buyers = set(frame.loc[frame["amount"] >= 0, "customer_id"])
    frame = frame[frame["customer_id"].isin(buyers)].reset_index(drop=True)
    if frame.empty:
        return
    kw = {"as_of": "2024-05-31", "unit": unit, "merge": merge, "amount": "amount"}
    eager = summarize(frame, **kw).sort_values("customer_id").reset_index(drop=True)
    lazy = summarize(pl.from_pandas(frame).lazy(), **kw).collect().sort("customer_id")
    con = duckdb.connect()
    duck = summarize(con.from_df(frame), tz="UTC", **kw).order("customer_id").df()
    for other in (lazy.to_pandas(), duck):
        assert other["customer_id"].tolist() == eager["customer_id"].tolist()
        assert other["frequency"].tolist() == eager["frequency"].tolist()
        assert other["orders"].tolist() == eager["orders"].tolist()
        for column in ("recency", "T", "monetary_value", "revenue"):
            np.testing.assert_allclose(other[column], eager[column], rtol=1e-12, atol=1e-12)
        for column in ("first_purchase", "last_purchase"):
            got = pd.to_datetime(other[column], utc=True)
            assert got.tolist() == eager[column].dt.tz_convert("UTC").tolist()
