"""The batch reader of new records (issue 18 item 7): ``add_records`` reads plain record dicts
as flat columns instead of building one pydantic model per record (the model path cost ~157 us
a record, most of it in the garbage collector scanning a large resolution). The reader must be
exactly as strict as ``IdentityRecord``: the expected values below come from the models
(``validated_records``), never from the reader itself."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientmodel.errors import DataError
from clientmodel.identity import Identifier, IdentifierKind, IdentityRecord, add_records, resolve
from clientmodel.identity._prepare import KIND_INDEX, record_batch
from clientmodel.identity.resolution import validated_records

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 1, 1, tzinfo=UTC)
EAST8 = dt.timezone(dt.timedelta(hours=8))

KINDS = ["phone", "email", "member_id", "wechat_openid", "device_id", "bogus", 3, None,
         IdentifierKind.EMAIL, IdentifierKind.WECHAT_OPENID]  # fmt: skip
VALUES = ["+86 138 0013 8000", "13800138000", "+8613800138000", " A@X.io ", "a@x", "M1",
          " M1 ", "null", " NULL ", "", "0000-0000", "anonymous", "bad\x01id", "x" * 600,
          "a" * 64, "A" * 64, "oX1", 5, None, b"M1"]  # fmt: skip
SCOPES = [None, "wx1", " wx1 ", "", "  ", "wx\x02", 7]
IDS = ["a", "b", " ", "", "c", 1, 2, True, 1.5, None, 2**70]
STAMPS = [None, T0, T0.astimezone(EAST8), T0.replace(tzinfo=None), "2024-01-01T00:00:00Z",
          T0 + dt.timedelta(microseconds=7), 5]  # fmt: skip


@st.composite
def identifiers(draw):
    kind, value, scope = (
        draw(st.sampled_from(KINDS)),
        draw(st.sampled_from(VALUES)),
        draw(st.sampled_from(SCOPES)),
    )
    shape = draw(st.sampled_from(["pair", "triple", "list", "dict", "model", "odd"]))
    if shape == "pair":
        return (kind, value)
    if shape == "triple":
        return (kind, value, scope)
    if shape == "list":
        return [kind, value, scope]
    if shape == "dict":
        out = {"kind": kind, "value": value}
        if draw(st.booleans()):
            out["scope"] = scope
        hashed = draw(st.sampled_from([None, False, True, 1, "yes"]))
        if hashed is not None:
            out["hashed"] = hashed
        if draw(st.integers(0, 3)) == 0:
            out["extra"] = 1
        return out
    if shape == "model":
        return Identifier(kind="device_id", value=draw(st.sampled_from(["D1", "D2", "null"])))
    return draw(st.sampled_from([("phone",), ("a", "b", "c", "d"), "phone", 5]))


@st.composite
def records(draw):
    rec = {"record_id": draw(st.sampled_from(IDS))}
    if draw(st.booleans()):
        rec["identifiers"] = draw(st.lists(identifiers(), max_size=3))
    if draw(st.integers(0, 19)) == 0:
        rec["identifiers"] = draw(st.sampled_from([None, "phone", {"kind": "phone"}]))
    if draw(st.booleans()):
        rec["timestamp"] = draw(st.sampled_from(STAMPS))
    if draw(st.integers(0, 19)) == 0:
        rec["extra"] = 1
    if draw(st.integers(0, 19)) == 0:
        del rec["record_id"]
    if draw(st.integers(0, 9)) == 0:
        model = IdentityRecord(record_id="m", identifiers=[("cookie_id", "C")])
        return draw(st.sampled_from([model, ["record_id", "a"], "a"]))
    return rec


def _typed(columns: tuple) -> tuple:
    """Columns with each value's type (``1 == True``, but a batch must hold ``True``)."""
    return tuple([(type(v), v) for v in column] for column in columns)


def _fields(models: list[IdentityRecord]) -> tuple:
    """What the batch must hold, read off validated models."""
    idents = [(i, ident) for i, r in enumerate(models) for ident in r.identifiers]
    return _typed(
        (
            [r.record_id for r in models],
            [r.timestamp for r in models],
            [i for i, _ in idents],
            [KIND_INDEX[ident.kind] for _, ident in idents],
            [ident.scope for _, ident in idents],
            [ident.value for _, ident in idents],
            [ident.hashed for _, ident in idents],
        )
    )


def _batch_fields(batch) -> tuple:
    return _typed((batch.ids, batch.stamps, batch.ident_record, batch.ident_kind,
                   batch.ident_scope, batch.ident_value, batch.ident_hashed))  # fmt: skip


def _validated(items):
    try:
        return validated_records(items), None
    except DataError as exc:
        return None, str(exc)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records(), max_size=4))
def test_the_batch_holds_what_the_models_hold_or_defers_to_them(items):
    models, error = _validated(items)
    batch = record_batch(items)
    if batch is not None:  # the reader never accepts what the models refuse
        assert error is None
        assert _batch_fields(batch) == _fields(models)
    if models is not None:  # validated models always read as a batch
        again = record_batch(models)
        assert again is not None
        assert _batch_fields(again) == _fields(models)


RES = resolve([{"record_id": "z", "identifiers": [("member_id", "M0")], "timestamp": T0}])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records(), max_size=4))
def test_add_records_refuses_exactly_what_validation_refuses(items):
    models, error = _validated(items)
    ids = {r.record_id for r in models or []}
    if models is not None and (
        "z" in ids or len({type(i) for i in ids}) > 1 or any(isinstance(i, int) for i in ids)
    ):
        return  # refused later, for reasons of the resolution (known or mixed id types)
    if error is None:
        assert add_records(RES, items) == add_records(RES, models)
    else:
        with pytest.raises(DataError) as caught:
            add_records(RES, items)
        assert str(caught.value) == error


@pytest.mark.parametrize(
    "ident",
    [
        {"kind": "member_id", "value": "a" * 64, "hashed": "yes"},  # pydantic reads it as True
        {"kind": "member_id", "value": "a" * 64, "hashed": 1},
        {"kind": "member_id", "value": "M1", "extra": 1},
        {"kind": "wechat_openid", "value": "o1", "scope": " wx1 "},
    ],
)
def test_shapes_outside_the_plain_ones_are_left_to_the_models(ident):
    items = [{"record_id": "a", "identifiers": [ident]}]
    models, error = _validated(items)
    batch = record_batch(items)
    if batch is not None:
        assert error is None
        assert _batch_fields(batch) == _fields(models)
    else:
        assert ident.keys() - {"kind", "value", "scope"}


def test_a_generator_of_records_is_read_like_a_list():
    recs = [{"record_id": f"r{i}", "identifiers": [("member_id", "M0")]} for i in range(3)]
    assert add_records(RES, iter(recs)) == add_records(RES, recs)


def test_times_in_other_zones_are_the_same_instants():
    # 08:00 at UTC+8 is midnight UTC: record "b" (00:00:00.000001 UTC) comes after "a"
    east = {"record_id": "a", "identifiers": [("phone", "+8613800000001")],
            "timestamp": dt.datetime(2024, 1, 1, 8, tzinfo=EAST8)}  # fmt: skip
    west = {"record_id": "b", "identifiers": [("phone", "+8613800000001")],
            "timestamp": T0 + dt.timedelta(microseconds=1)}  # fmt: skip
    empty = resolve([])
    assert add_records(empty, [west, east]) == resolve([east, west])
    assert add_records(empty, [west, east]).profile_of("b") == "a"
