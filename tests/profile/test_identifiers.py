"""Identifiers: normalisation, placeholders, scopes, hashing, masking and the clean patterns."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from clientmodel.errors import ArgumentError, DataError
from clientmodel.identity.kinds import (
    _CLEAN_EMAIL,
    _CLEAN_HASH,
    _CLEAN_ID,
    _CLEAN_PHONE,
    _CLEAN_ZEROS,
    DEFAULT_BLOCKED,
    Identifier,
    IdentifierKind,
    _prepare_value,
    hash_identifier,
    is_blocked,
    normalize_email,
    normalize_phone,
    normalize_value,
)

SALT = b"0123456789abcdef0123"


# --------------------------------------------------------------------------- phones


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+86 138-0013-8000", "+8613800138000"),
        ("0086 138 0013 8000", "+8613800138000"),
        ("138 0013 8000", "+8613800138000"),  # national, default country 86
        ("(0)20 7946 0018", None),  # national, and no default country code to complete it
        ("+44 (20) 7946.0018", "+442079460018"),
        ("+1 415/555/0100", "+14155550100"),
    ],
)
def test_phone_normalisation(raw: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(DataError):
            normalize_phone(raw, default_country_code=None)
    else:
        assert normalize_phone(raw) == expected


def test_national_phone_uses_the_given_country_code() -> None:
    assert normalize_phone("020 7946 0018", default_country_code="44") == "+442079460018"
    assert normalize_phone("4155550100", default_country_code="1") == "+14155550100"


@pytest.mark.parametrize("raw", ["abc", "+0 123 456 789", "+12", "+1234567890123456", "１３８"])
def test_malformed_phones_are_refused(raw: str) -> None:
    with pytest.raises(DataError, match="phone"):
        normalize_phone(raw)


def test_bad_default_country_code_is_an_argument_error() -> None:
    with pytest.raises(ArgumentError, match="country calling code"):
        normalize_phone("13800138000", default_country_code="+86")


def test_identifier_refuses_national_phone_without_country_code() -> None:
    with pytest.raises(ValidationError, match="no country code"):
        Identifier(kind="phone", value="13800138000")


# --------------------------------------------------------------------------- emails and ids


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(" Li.Na@Example.COM ", "li.na@example.com"), ("a+b@sub.example.cn", "a+b@sub.example.cn")],
)
def test_email_normalisation(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize("raw", ["no-at.example.com", "a@b", "a b@c.de", "@c.de", "a@-c.de"])
def test_malformed_emails_are_refused(raw: str) -> None:
    with pytest.raises(DataError, match="not an email address"):
        normalize_email(raw)


def test_ids_are_trimmed_and_checked() -> None:
    assert normalize_value("member_id", "  M-001 ") == "M-001"
    with pytest.raises(DataError, match="control characters"):
        normalize_value("device_id", "ab\x00c")
    with pytest.raises(DataError, match="not a string"):
        normalize_value("member_id", 17)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="unknown identifier kind 'fax'"):
        normalize_value("fax", "1")


# --------------------------------------------------------------------------- placeholders


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "null",
        " NULL ",
        "None",
        "-1",
        "0",
        "unknown",
        "N/A",
        "undefined",
        "nan",
        "00000000-0000-0000-0000-000000000000",
        "+0000000",
        "--",
        "0:0:0:0",
    ],
)
def test_placeholders_are_blocked(value: str) -> None:
    assert is_blocked(value)


@pytest.mark.parametrize("value", ["+8613800138000", "M1", "a@b.co", "10", "0x0", "nulls"])
def test_real_values_are_not_blocked(value: str) -> None:
    assert not is_blocked(value)


def test_is_blocked_accepts_none_identifiers_and_other_lists() -> None:
    assert is_blocked(None)
    assert is_blocked(Identifier(kind="member_id", value="null"))
    assert is_blocked("guest", blocked={"guest"})
    assert not is_blocked("null", blocked={"guest"})
    assert is_blocked("000", blocked={"guest"})  # zeros stay blocked


def test_identifier_keeps_placeholders_as_they_are() -> None:
    ident = Identifier(kind="phone", value=" NULL ")
    assert ident.value == "NULL"
    assert ident.is_placeholder
    # an openid placeholder needs no scope; a real one does
    assert Identifier(kind="wechat_openid", value="").is_placeholder
    with pytest.raises(ValidationError, match="needs a scope"):
        Identifier(kind="wechat_openid", value="oX1")


def test_scope_is_trimmed_and_part_of_the_key() -> None:
    a = Identifier(kind="wechat_openid", value="o1", scope=" wx1 ")
    b = Identifier(kind="wechat_openid", value="o1", scope="wx2")
    assert a.scope == "wx1"
    assert a.key == "wechat_openid:wx1:o1"
    assert a.key != b.key
    with pytest.raises(ValidationError, match="not a valid app id"):
        Identifier(kind="wechat_openid", value="o1", scope="  ")


# --------------------------------------------------------------------------- hashing, masking


def test_hashing_is_salted_and_stable() -> None:
    a = hash_identifier(Identifier(kind="email", value="A@B.CO"), SALT)
    b = hash_identifier(Identifier(kind="email", value="a@b.co "), SALT)
    c = hash_identifier(Identifier(kind="email", value="a@b.co"), SALT + b"x")
    assert a == b
    assert a.value != c.value
    assert a.hashed
    assert re.fullmatch(r"[0-9a-f]{64}", a.value)
    assert hash_identifier(a, SALT) is a  # already hashed


def test_hashing_leaves_placeholders_recognisable() -> None:
    ident = Identifier(kind="phone", value="null")
    assert hash_identifier(ident, SALT) is ident


def test_short_salt_is_refused() -> None:
    with pytest.raises(ArgumentError, match="16 bytes"):
        hash_identifier(Identifier(kind="member_id", value="M1"), b"short")


def test_hashed_identifier_must_look_like_a_hash() -> None:
    with pytest.raises(ValidationError, match="64-character hex"):
        Identifier(kind="member_id", value="M1", hashed=True)
    upper = "A" * 63 + "B"
    assert Identifier(kind="member_id", value=upper, hashed=True).value == upper.lower()


def test_repr_masks_the_value() -> None:
    ident = Identifier(kind="phone", value="+8613800138000")
    assert "+8613800138000" not in repr(ident)
    assert "+8613800138000" not in str(ident)
    assert "'+8…00'" in repr(ident)
    assert ident.value == "+8613800138000"


def test_identifier_json_round_trip_and_schema() -> None:
    ident = Identifier(kind="wechat_openid", value="o1", scope="wx1")
    assert Identifier.model_validate_json(ident.model_dump_json()) == ident
    schema = Identifier.model_json_schema()
    assert set(schema["properties"]) == {"kind", "value", "scope", "hashed"}


# --------------------------------------------------------------------------- clean patterns

PATTERN = {
    IdentifierKind.PHONE: _CLEAN_PHONE,
    IdentifierKind.EMAIL: _CLEAN_EMAIL,
    IdentifierKind.MEMBER_ID: _CLEAN_ID,
    IdentifierKind.DEVICE_ID: _CLEAN_ID,
}

text = st.text(
    alphabet=st.sampled_from(list("0123456789abcAZ+-.:/@_=%() \t\u00a0\u3000é#")), max_size=20
) | st.sampled_from([*sorted(DEFAULT_BLOCKED), "+8613800138000", "li@x.cn", "0" * 64])


@settings(max_examples=400, deadline=None)
@given(value=text, kind=st.sampled_from(sorted(PATTERN, key=str)))
def test_clean_patterns_promise_unchanged_values(value: str, kind: IdentifierKind) -> None:
    """Values the table face's vectorised patterns vouch for are exactly what the Python
    normaliser returns for them, and are not placeholders."""
    lowered = value.lower()
    vouched = (
        re.search(PATTERN[kind], value) is not None
        and (kind is not IdentifierKind.EMAIL or len(value) <= 254)
        and (
            PATTERN[kind] != _CLEAN_ID
            or (re.search(_CLEAN_ZEROS, value) is None and lowered not in DEFAULT_BLOCKED)
        )
    )
    if vouched:
        assert _prepare_value(kind, value) == (value, False)


@settings(max_examples=200, deadline=None)
@given(value=st.text(alphabet="0123456789abcdefABC", min_size=60, max_size=66))
def test_clean_hash_pattern_promise(value: str) -> None:
    if re.search(_CLEAN_HASH, value) and not re.search(_CLEAN_ZEROS, value):
        assert _prepare_value(IdentifierKind.MEMBER_ID, value, hashed=True) == (value, False)
