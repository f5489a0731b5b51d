"""Bad-input corpus for incremental identity resolution (issue 18 item 7): ``add_records`` with
plain dicts (read as a batch, no model per record) and ``add_table``.

Written from docs/identity.md and the docstrings: every case must raise a ClientModelError
subclass naming the offending argument or field (and record); identifiers fed in never come back
in full. The batch reader must refuse exactly what ``IdentityRecord`` refuses.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from clientmodel import identity
from clientmodel.errors import ArgumentError, DataError

from .conftest import EMAIL, PHONE, bad, check_bad, keep, marked, unknown_ids

XFAIL: dict[str, str] = {}

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
RES = identity.resolve([{"record_id": "a", "identifiers": [("email", EMAIL)], "timestamp": T0}])
TABLE_RES = identity.resolve_table(
    {"record_id": ["a"], "kind": ["email"], "value": [EMAIL], "timestamp": [T0]}
)
GOOD = {"record_id": "b", "identifiers": [("phone", "+86" + PHONE)], "timestamp": T0}


def add(*records):
    return identity.add_records(RES, [GOOD, *records])


def table(**columns):
    base = {"record_id": ["b"], "kind": ["phone"], "value": ["+86" + PHONE], "timestamp": [T0]}
    return {**base, **columns}


CASES = [
    # add_records: dicts read as a batch, refused as the models refuse them
    bad("add-malformed-email",
        lambda: add({"record_id": "c", "identifiers": [("email", "zhang.wei@qq")]}),
        ["records", "'c'", "email"], exc=DataError, rows=[1]),
    bad("add-national-phone", lambda: add({"record_id": "c", "identifiers": [("phone", PHONE)]}),
        ["records", "phone", "country code"], exc=DataError, rows=[1]),
    bad("add-unknown-kind", lambda: add({"record_id": "c", "identifiers": [("fax", "1")]}),
        ["records", "fax"], exc=DataError, rows=[1]),
    bad("add-openid-without-scope",
        lambda: add({"record_id": "c", "identifiers": [("wechat_openid", "oX1")]}),
        ["records", "scope"], exc=DataError, rows=[1]),
    bad("add-blank-scope",
        lambda: add({"record_id": "c", "identifiers": [("wechat_openid", "oX1", " ")]}),
        ["records", "scope"], exc=DataError, rows=[1]),
    bad("add-naive-timestamp",
        lambda: add({"record_id": "c", "timestamp": dt.datetime(2024, 1, 1)}),
        ["records", "timestamp"], exc=DataError, rows=[1]),
    bad("add-blank-record-id", lambda: add({"record_id": "  "}), ["records", "record_id"],
        exc=DataError, rows=[1]),
    bad("add-bool-record-id", lambda: add({"record_id": True}), ["records", "record_id"],
        exc=DataError, rows=[1]),
    bad("add-float-record-id", lambda: add({"record_id": 1.5}), ["records", "record_id"],
        exc=DataError, rows=[1]),
    bad("add-unknown-field", lambda: add({"record_id": "c", "channel": "app"}),
        ["records", "channel"], exc=DataError, rows=[1]),
    bad("add-identifier-extra-field",
        lambda: add({"record_id": "c", "identifiers": [{"kind": "email", "value": EMAIL,
                                                        "source": "crm"}]}),
        ["records", "source"], exc=DataError, rows=[1]),
    bad("add-identifier-not-a-pair", lambda: add({"record_id": "c", "identifiers": [("email",)]}),
        ["records", "identifier"], exc=DataError, rows=[1]),
    bad("add-value-not-text", lambda: add({"record_id": "c", "identifiers": [("member_id", 5)]}),
        ["records", "member_id"], exc=DataError, rows=[1]),
    bad("add-repeated-id", lambda: add({"record_id": "b"}), ["record_id", "'b'"], exc=DataError,
        rows=[1]),
    bad("add-known-id", lambda: add({"record_id": "a"}), ["record_id", "'a'"], exc=DataError),
    bad("add-mixed-id-types", lambda: add({"record_id": 7}), ["record_id", "id type"],
        exc=DataError),
    bad("add-record-not-a-dict", lambda: add(["record_id", "c"]), ["records"], exc=DataError,
        rows=[1]),
    bad("add-records-one-dict", lambda: identity.add_records(RES, GOOD), ["records"],
        exc=ArgumentError),
    bad("add-records-not-iterable", lambda: identity.add_records(RES, 5), ["records"],
        exc=ArgumentError),
    # add_table: read as resolve_table reads a table
    bad("table-missing-column", lambda: identity.add_table(RES, {"record_id": ["b"]}), ["kind"]),
    bad("table-unknown-kind", lambda: identity.add_table(RES, table(kind=["fax"])),
        ["kind", "fax"], exc=DataError, rows=[0]),
    bad("table-malformed-value", lambda: identity.add_table(RES, table(value=[PHONE])),
        ["value", "'b'"], exc=DataError, rows=[0]),
    bad("table-null-value", lambda: identity.add_table(RES, table(value=[None])), ["value"],
        exc=DataError, rows=[0]),
    bad("table-known-id", lambda: identity.add_table(RES, table(record_id=["a"])),
        ["record_id", "'a'"], exc=DataError),
    bad("table-other-id-type", lambda: identity.add_table(RES, table(record_id=[3])),
        ["record_id", "id type"], exc=DataError),
    bad("table-naive-times",
        lambda: identity.add_table(RES, table(timestamp=[dt.datetime(2024, 1, 1)])),
        ["timestamp"]),
    bad("table-other-timezone",
        lambda: identity.add_table(
            TABLE_RES, pd.DataFrame(table(timestamp=[pd.Timestamp(T0).tz_convert("Asia/Tokyo")]))
        ), ["timestamp", "Asia/Tokyo"], exc=DataError),
    bad("table-hashed-text",
        lambda: identity.add_table(RES, table(value=["a" * 64]), hashed="yes"), ["hashed"],
        exc=ArgumentError),
    bad("table-not-resolution", lambda: identity.add_table(TABLE_RES._prep, table()),
        ["resolution"], exc=ArgumentError),
    bad("table-not-a-table", lambda: identity.add_table(RES, 5), ["table"]),
]  # fmt: skip


@pytest.mark.parametrize(("thunk", "names", "exc", "rows"), marked(CASES, XFAIL))
def test_bad_input(thunk, names, exc, rows):
    check_bad(thunk, exc=exc, names=names, rows=rows)


# --- nothing lost ------------------------------------------------------------------------------


def _dicts_keep_input():
    records = [{"record_id": "c", "identifiers": [["phone", "+86 138 0013 8000"]]}]
    identity.add_records(RES, records)
    assert records == [{"record_id": "c", "identifiers": [["phone", "+86 138 0013 8000"]]}]


def _dicts_and_models_alike():
    models = [identity.IdentityRecord.model_validate(GOOD)]
    assert identity.add_records(RES, [GOOD]) == identity.add_records(RES, models)


def _table_and_dicts_alike():
    assert identity.add_table(RES, table()) == identity.add_records(RES, [GOOD])


KEPT = [
    keep("dicts-keep-input", _dicts_keep_input),
    keep("dicts-and-models-alike", _dicts_and_models_alike),
    keep("table-and-dicts-alike", _table_and_dicts_alike),
]


@pytest.mark.parametrize("thunk", marked(KEPT, XFAIL))
def test_nothing_lost(thunk):
    thunk()


def test_xfail_ids_name_cases():
    assert unknown_ids(XFAIL, CASES, KEPT) == []
