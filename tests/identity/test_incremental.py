"""Incremental resolution == full re-resolution (issue 18 item 2), on random scenarios."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientmodel.errors import DataError
from clientmodel.identity import IdentityConfig, add_records, resolve, resolve_table

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
POOL = [
    ("member_id", "M0", None), ("member_id", "M1", None), ("wechat_unionid", "U0", None),
    ("wechat_openid", "o0", "wx1"), ("wechat_openid", "o1", "wx1"),
    ("phone", "+8613800000001", None), ("phone", "+8613800000002", None), ("phone", "null", None),
    ("email", "a@x.io", None), ("email", "b@x.io", None),
    ("device_id", "D0", None), ("device_id", "D1", None), ("device_id", "kiosk", None),
    ("cookie_id", "C0", None), ("cookie_id", "C1", None), ("cookie_id", "anonymous", None),
]  # fmt: skip
CONFIGS = [
    IdentityConfig(),
    IdentityConfig()
    .with_rule("device_id", limit=1, blocked=("kiosk",))
    .with_rule("phone", limit=1),
    IdentityConfig().with_rule("cookie_id", limit=2, window=dt.timedelta(days=3)),
]


@st.composite
def split_scenarios(draw):
    config = draw(st.sampled_from(CONFIGS))
    n = draw(st.integers(1, 10))
    timed = config.rule("cookie_id").window is not None
    records = []
    for i in range(n):
        idents = draw(st.lists(st.sampled_from(POOL), max_size=4))
        t = draw(st.integers(0, 6) if timed else st.none() | st.integers(0, 6))
        records.append({
            "record_id": f"r{draw(st.integers(0, 99))}-{i}",
            "identifiers": [(k, v) if s is None else (k, v, s) for k, v, s in idents],
            "timestamp": None if t is None else T0 + dt.timedelta(days=t),
        })  # fmt: skip
    cut = draw(st.integers(0, n))
    return records[:cut], records[cut:], config


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(split_scenarios())
def test_adding_records_equals_resolving_everything(scenario):
    old, new, config = scenario
    assert add_records(resolve(old, config), new) == resolve(old + new, config)


def test_adding_onto_a_table_face_resolution():
    table = {"record_id": ["a", "b"], "kind": ["email", "email"], "value": ["x@y.io", "z@y.io"]}
    res = add_records(
        resolve_table(table), [{"record_id": "c", "identifiers": [("email", "x@y.io")]}]
    )
    assert res.profile_of("c") == "a"
    assert res.n_profiles == 2


def test_known_ids_are_refused():
    res = resolve([{"record_id": "a"}])
    with pytest.raises(DataError, match="already resolved"):
        add_records(res, [{"record_id": "a"}])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(split_scenarios())
def test_adding_onto_a_table_equals_resolving_everything(scenario):
    # the table face keeps its key values as arrow strings: new values are looked up there
    import pandas as pd

    old, new, config = scenario
    if any(r["timestamp"] is None for r in old):
        return  # a table's timestamp column has no per-record "none" distinct from NaT
    rows = [
        (r["record_id"], i[0], i[1], i[2] if len(i) > 2 else None, r["timestamp"])
        for r in old
        for i in r["identifiers"]
    ]
    table = pd.DataFrame(rows, columns=["record_id", "kind", "value", "scope", "timestamp"])
    res = resolve_table(table.astype({"record_id": str, "kind": str, "value": str}), config)
    carried = [r for r in old if r["identifiers"]]  # a record without rows is not in a table
    assert add_records(res, new) == resolve(carried + new, config)


@pytest.mark.parametrize("kind", ["pandas", "polars", "pyarrow", "mapping"])
def test_a_table_resolution_pickles(kind: str) -> None:
    """A service caches or ships a resolution between processes: a table-built one held its
    frame's module and ``pickle`` raised TypeError; it round-trips, table output kind included."""
    import pickle

    columns = {"record_id": ["a", "b", "c"], "kind": ["email", "email", "phone"],
               "value": ["x@y.io", "X@Y.io", "+86 138 0013 8000"]}  # fmt: skip
    pd, pl, pa = (pytest.importorskip(m) for m in ("pandas", "polars", "pyarrow"))
    table = {"pandas": pd.DataFrame, "polars": pl.DataFrame, "pyarrow": pa.table}.get(
        kind, lambda c: c
    )(columns)
    res = resolve_table(table)
    back = pickle.loads(pickle.dumps(res))
    assert back == res
    assert back.profile_of("b") == "a"  # by hand: b's email equals a's once lowered
    assert type(back.records_table()) is type(res.records_table())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(split_scenarios())
def test_ties_placed_by_the_vectorised_search_equal_resolving_everything(scenario):
    """New records sharing times with old ones are placed group by group, or -- beyond
    ``_TIE_GROUPS`` shared times -- by one search over (time number, rank): both ways agree."""
    from unittest import mock

    from clientmodel.identity import incremental

    old, new, config = scenario
    with mock.patch.object(incremental, "_TIE_GROUPS", -1):
        assert add_records(resolve(old, config), new) == resolve(old + new, config)


@pytest.mark.parametrize("n_apps", [3, 40])
def test_new_identifiers_find_their_scope_among_many_apps(n_apps: int) -> None:
    """Scoped ids of one app join across additions, whether the resolution knows a few apps or
    many (their scope codes are looked up two ways)."""
    old = [
        {"record_id": f"r{i}", "identifiers": [("wechat_openid", f"o{i}", f"app{i}")]}
        for i in range(n_apps)
    ]
    new = [
        {"record_id": f"s{i}", "identifiers": [("wechat_openid", f"o{i}", f"app{i}")]}
        for i in range(0, n_apps, 2)
    ] + [{"record_id": "t", "identifiers": [("wechat_openid", "o1", "app0")]}]
    more = add_records(resolve(old), new)
    assert more == resolve(old + new)
    assert more.profile_of("s2") == "r2"  # same app, same openid: by hand
    assert more.profile_of("t") == "t"  # o1 of another app is another identifier


def test_a_table_keys_each_identifier_once() -> None:
    """A placeholder spelled as its normalised form ('null') left an unused twin key beside the
    used one on the table face; new records then had two old keys to match."""
    t = {"record_id": ["r0", "r0"], "kind": ["member_id", "phone"], "value": ["M0", "null"]}
    prep = resolve_table(t)._prep
    keys = list(zip(prep.key_kind.tolist(), prep.key_value.tolist(), strict=True))
    assert len(keys) == len(set(keys)) == 2
    assert sorted(prep.row_key.tolist()) == [0, 1]
