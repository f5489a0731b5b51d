"""The table face of identity resolution: columns, errors naming rows and records, frames out."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest

from clientmodel.errors import ArgumentError, DataError
from clientmodel.identity import _prepare as _resolution_input
from clientmodel.profile.identifiers import Identifier, hash_identifier
from clientmodel.profile.resolution import resolve, resolve_table
from clientmodel.profile.resolution_rules import IdentityConfig

UTC = dt.timezone.utc
ROOT = Path(__file__).resolve().parents[2]


def bench_table(n_rows: int) -> pd.DataFrame:
    spec = importlib.util.spec_from_file_location(
        "bench_identity", ROOT / "benchmarks" / "bench_identity.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    table: pd.DataFrame = module.make_identity_table(n_rows, seed=3)
    return table


def records_of(table: pd.DataFrame) -> list[dict[str, Any]]:
    out: dict[Any, dict[str, Any]] = {}
    for rid, kind, value, scope, t in zip(
        table["record_id"].tolist(),
        table["kind"].tolist(),
        table["value"].tolist(),
        table["scope"].tolist(),
        table["timestamp"].tolist(),
        strict=True,
    ):
        r = out.setdefault(rid, {"record_id": rid, "identifiers": [], "timestamp": t})
        r["timestamp"] = min(r["timestamp"], t)
        scope = None if not isinstance(scope, str) else scope
        r["identifiers"].append((kind, value) if scope is None else (kind, value, scope))
    for r in out.values():
        r["timestamp"] = r["timestamp"].to_pydatetime()
    return list(out.values())


def test_realistic_table_agrees_with_records() -> None:
    table = bench_table(20_000)
    res = resolve_table(table)
    assert res == resolve(records_of(table))
    assert res.refusals  # shared devices and kiosks are refused somewhere
    assert isinstance(res.records_table(), pd.DataFrame)
    assert str(res.records_table()["timestamp"].dtype) == "datetime64[us, UTC]"


def test_without_pyarrow_the_result_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    table = bench_table(5_000)
    expected = resolve_table(table)
    real = _resolution_input._optional
    monkeypatch.setattr(
        _resolution_input, "_optional", lambda name: None if name == "pyarrow" else real(name)
    )
    assert resolve_table(table) == expected


def test_polars_in_polars_out() -> None:
    frame = pl.DataFrame(
        {
            "record_id": ["a", "a", "b"],
            "kind": ["member_id", "device_id", "device_id"],
            "value": ["M1", "D", "D"],
        }
    )
    res = resolve_table(frame)
    out = res.identifiers_table()
    assert isinstance(out, pl.DataFrame)
    assert out["profile_id"].to_list() == ["a", "a", "a"]
    assert out.columns == ["record_id", "profile_id", "kind", "scope", "value", "hashed", "status"]


def test_mapping_in_numpy_out_and_custom_column_names() -> None:
    table = {
        "rid": np.array([3, 1, 2]),
        "what": ["email", "email", "phone"],
        "raw": [" A@X.io", "a@x.IO", "020 7946 0018"],
        "app": [None, None, None],
        "seen": ["2024-01-03", "2024-01-01", "2024-01-02"],
    }
    res = resolve_table(
        table,
        record="rid",
        kind="what",
        value="raw",
        scope="app",
        timestamp="seen",
        default_country_code="44",
    )
    out = res.records_table()
    assert isinstance(out, dict)
    assert out["record_id"].tolist() == [1, 2, 3]  # processing order: by time
    assert out["profile_id"].tolist() == [1, 2, 1]
    assert res.profile(2).identifiers == (Identifier(kind="phone", value="+442079460018"),)


def test_scope_column_is_trimmed_and_required_for_openids() -> None:
    table = {
        "record_id": ["a", "b"],
        "kind": ["wechat_openid", "wechat_openid"],
        "value": ["o1", "o1"],
        "scope": [" wx1", "wx1 "],
    }
    assert resolve_table(table).n_profiles == 1
    with pytest.raises(DataError) as info:
        resolve_table({k: v for k, v in table.items() if k != "scope"})
    assert "row 0 (record 'a')" in str(info.value)
    assert "without the scope" in str(info.value)


def test_unknown_kinds_are_reported_with_rows_and_records() -> None:
    table = {"record_id": ["a", "b", "c"], "kind": ["phone", "fax", "pager"], "value": ["x"] * 3}
    with pytest.raises(DataError) as info:
        resolve_table(table)
    msg = str(info.value)
    assert "2 row(s) with an unknown identifier kind" in msg
    assert "row 1 (record 'b'): 'fax'" in msg
    assert "row 2 (record 'c'): 'pager'" in msg
    assert info.value.rows == (1, 2)
    assert info.value.field == "kind"


def test_malformed_values_are_reported_with_rows_and_records() -> None:
    table = pd.DataFrame(
        {
            "record_id": ["a", "b", "c", "d"],
            "kind": ["phone", "email", "phone", "member_id"],
            "value": ["+8613800138000", "not-an-email", "12ab", "M1"],
        }
    )
    with pytest.raises(DataError) as info:
        resolve_table(table)
    msg = str(info.value)
    assert "2 malformed identifier value(s)" in msg
    assert "row 1 (record 'b'): email 'not****mail'" in msg  # masked
    assert "row 2 (record 'c'): phone '***'" in msg
    assert info.value.rows == (1, 2)


def test_national_phones_need_a_country_code() -> None:
    table = {"record_id": ["a"], "kind": ["phone"], "value": ["138 0013 8000"]}
    with pytest.raises(DataError, match="no country code"):
        resolve_table(table)
    res = resolve_table(table, default_country_code="86")
    assert res.profile("a").identifiers[0].value == "+8613800138000"
    with pytest.raises(ArgumentError, match="country calling code"):
        resolve_table(table, default_country_code="x")


def test_null_values_are_refused_and_placeholders_kept() -> None:
    with pytest.raises(DataError, match=r"1 null value\(s\): row 1 \(record 'b'\)"):
        resolve_table({"record_id": ["a", "b"], "kind": ["phone", "phone"], "value": ["", None]})
    res = resolve_table({"record_id": ["a", "b"], "kind": ["phone", "phone"], "value": ["", ""]})
    assert res.n_profiles == 2
    assert res.identifiers_table()["status"].tolist() == ["blocked", "blocked"]


def test_non_string_values_are_refused() -> None:
    with pytest.raises(DataError, match="not a string"):
        resolve_table({"record_id": ["a"], "kind": ["member_id"], "value": np.array([7])})


def test_missing_columns() -> None:
    with pytest.raises(DataError, match="missing required column"):
        resolve_table({"record_id": ["a"], "kind": ["phone"]})
    with pytest.raises(DataError, match="missing required column"):
        resolve_table({"record_id": ["a"], "kind": ["phone"], "value": ["x"]}, timestamp="seen")


def test_hashed_tables() -> None:
    salt = b"0123456789abcdef"
    values = [hash_identifier(Identifier(kind="member_id", value="M1"), salt).value.upper(), "null"]
    res = resolve_table(
        {"record_id": ["a", "b"], "kind": ["member_id"] * 2, "value": values}, hashed=True
    )
    ident = res.profile("a").identifiers[0]
    assert ident.hashed
    assert ident.value == values[0].lower()
    with pytest.raises(DataError, match="64-character hex"):
        resolve_table({"record_id": ["a"], "kind": ["member_id"], "value": ["M1"]}, hashed=True)


def test_config_blocked_values_apply_to_tables() -> None:
    cfg = IdentityConfig().with_rule("device_id", blocked=("kiosk-1",))
    table = {"record_id": ["a", "b"], "kind": ["device_id"] * 2, "value": ["kiosk-1", "KIOSK-1"]}
    res = resolve_table(table, cfg)
    assert res.n_profiles == 2
    assert res.identifiers_table()["status"].tolist() == ["blocked", "blocked"]


def test_record_time_is_the_earliest_row_time() -> None:
    table = pd.DataFrame(
        {
            "record_id": ["a", "a", "b"],
            "kind": ["member_id", "device_id", "device_id"],
            "value": ["M1", "D", "D"],
            "timestamp": pd.to_datetime(["2024-01-05", "2024-01-01", "2024-01-03"], utc=True),
        }
    )
    res = resolve_table(table)
    assert res.records_table()["record_id"].tolist() == ["a", "b"]
    assert res.records_table()["timestamp"].tolist()[0] == pd.Timestamp("2024-01-01", tz="UTC")


def test_unmerge_keeps_the_frame_kind() -> None:
    frame = pd.DataFrame(
        {
            "record_id": [1, 1, 2],
            "kind": ["member_id", "device_id", "device_id"],
            "value": ["M1", "D", "D"],
        }
    )
    res = resolve_table(frame).unmerge(record=1)
    assert isinstance(res.records_table(), pd.DataFrame)
    assert res.records_table()["profile_id"].tolist() == [2]


def test_record_ids_must_be_non_blank_and_of_one_type() -> None:
    # the record face refuses these too, so both faces agree
    kinds, values = ["device_id"] * 3, ["d1", "d2", "d3"]
    for table in (
        {"record_id": ["", "b", "  "], "kind": kinds, "value": values},
        pl.DataFrame({"record_id": ["", "b", "  "], "kind": kinds, "value": values}),
    ):
        with pytest.raises(DataError, match=r"2 blank record id\(s\): row 0: '', row 2: '  '"):
            resolve_table(table)
    for ids in ([1, "1", 2], [1.0, 2.0, 3.0], [True, False, True]):
        with pytest.raises(DataError, match=r"record_id (mixes id types|holds float|holds bool)"):
            resolve_table({"record_id": ids, "kind": kinds, "value": values})
    with pytest.raises(DataError, match=r"null id\(s\): row 1"):
        resolve_table(pl.DataFrame({"record_id": ["a", None, "c"], "kind": kinds, "value": values}))


def test_nan_in_a_list_column_is_a_null_not_the_text_nan() -> None:
    nan = float("nan")
    # a NaN value is refused like None (as "nan" it would pass as a silent placeholder)
    with pytest.raises(DataError, match=r"1 null value\(s\): row 1 \(record 'b'\)"):
        resolve_table({"record_id": ["a", "b"], "kind": ["email"] * 2, "value": ["x@y.io", nan]})
    # a NaN scope is no scope (not an app called "nan")
    res = resolve_table(
        {
            "record_id": ["a", "b"],
            "kind": ["wechat_openid", "device_id"],
            "value": ["o1", "d1"],
            "scope": ["wx1", nan],
        }
    )
    assert res.identifiers_table()["scope"].tolist() == ["wx1", None]


def test_a_lazy_frame_is_collected() -> None:
    lazy = pl.LazyFrame({"record_id": ["a", "b"], "kind": ["member_id"] * 2, "value": ["M", "M"]})
    res = resolve_table(lazy)
    assert res == resolve_table(lazy.collect())
    assert isinstance(res.records_table(), pl.DataFrame)
