"""The boundary layer: each checker refuses what it must, with the library's own error classes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import BaseModel, ConfigDict

from clientmodel._validation import (
    check_bool,
    check_choice,
    check_exact_counts,
    check_finite_column,
    check_integer,
    check_mapping,
    check_number,
    check_seed,
    check_sequence,
    check_text,
    mask_identifier,
    read_key,
    sum_finite,
    validate_record,
    validate_records,
)
from clientmodel.errors import ArgumentError, ClientModelError, DataError


@pytest.mark.parametrize(
    "value", ["52", None, True, complex(1, 1), math.nan, math.inf, -math.inf, [1], 10**400]
)
def test_check_number_refuses_non_numbers(value: object) -> None:
    with pytest.raises(ArgumentError) as info:
        check_number(value, "horizon")
    assert info.value.field == "horizon"
    assert "horizon" in str(info.value)


def test_check_number_bounds() -> None:
    assert check_number(0, "x", minimum=0) == 0.0
    with pytest.raises(ArgumentError, match="greater than 0"):
        check_number(0, "x", minimum=0, exclusive_minimum=True)
    with pytest.raises(ArgumentError, match="at most 1"):
        check_number(1.5, "x", maximum=1)
    with pytest.raises(DataError):
        check_number("a", "x", data=True)


@pytest.mark.parametrize("value", [3.5, "3", True, 2**53, -(2**60), math.nan])
def test_check_integer_refuses_inexact(value: object) -> None:
    with pytest.raises(ArgumentError):
        check_integer(value, "steps")


def test_check_integer_accepts_integral_values() -> None:
    assert check_integer(np.int64(4), "steps") == 4
    assert check_integer(4.0, "steps", minimum=1) == 4


def test_check_choice_suggests() -> None:
    with pytest.raises(ArgumentError, match="did you mean 'champion'"):
        check_choice("champoin", "role", ["champion", "blocker"])
    with pytest.raises(ArgumentError):
        check_choice(5, "role", ["champion"])


def test_small_checkers() -> None:
    assert check_bool(np.bool_(True), "flag") is True
    with pytest.raises(ArgumentError):
        check_bool("no", "flag")
    with pytest.raises(ArgumentError):
        check_text("  ", "name")
    with pytest.raises(ArgumentError):
        check_sequence("abc", "stages")
    with pytest.raises(ArgumentError):
        check_seed("abc")
    with pytest.raises(ArgumentError):
        check_seed(-1)
    gen = np.random.default_rng(1)
    assert check_seed(gen) is gen


def test_columns_refuse_nan_inf_complex_and_huge_counts() -> None:
    with pytest.raises(DataError) as info:
        check_finite_column(np.array([1.0, np.nan, 3.0]), "amount")
    assert info.value.rows == (1,)
    with pytest.raises(DataError, match="complex"):
        check_finite_column(np.array([1 + 2j]), "amount")
    with pytest.raises(DataError) as info:
        check_exact_counts(np.array([1.0, 1e19]), "frequency")
    assert info.value.rows == (1,)
    with pytest.raises(DataError):
        check_exact_counts(np.array([0.5]), "frequency")
    with pytest.raises(DataError, match="overflows"):
        sum_finite(np.array([1e308, 1e308]), "revenue", column="amount")


def test_mapping_checks_name_the_key_path() -> None:
    with pytest.raises(ArgumentError) as info:
        check_mapping({"a": 1}, "Model.params", required=["a", "b"])
    assert info.value.field == "Model.params.b"
    with pytest.raises(ArgumentError, match="did you mean 'alpha'"):
        check_mapping({"alpah": 1}, "Model", optional=["alpha"])
    with pytest.raises(ArgumentError) as info:
        read_key({"r": "x"}, "r", "BGNBD", check_number)
    assert info.value.field == "BGNBD.r"


class _Person(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    email: str
    age: int


def test_validate_record_wraps_pydantic_without_echoing_values() -> None:
    secret = "zhang.wei@example.com"
    with pytest.raises(DataError) as info:
        validate_records(_Person, [{"email": secret, "age": 3}, {"email": secret, "age": "old"}])
    err = info.value
    assert isinstance(err, ClientModelError)
    assert err.rows == (1,)
    assert err.field == "records.age"
    assert secret not in str(err)
    assert "old" not in str(err)
    with pytest.raises(DataError, match="Extra inputs"):
        validate_record(_Person, {"email": "a@b.c", "age": 1, "x": 1}, record_id=secret)
    with pytest.raises(DataError):
        validate_record(_Person, 5)


def test_mask_identifier_never_shows_the_middle() -> None:
    assert mask_identifier("13800138000") == "138****8000"
    assert "zhang" not in mask_identifier("zhang.wei@qq.com")
    assert mask_identifier("ab") == "***"


def test_offending_values_that_look_like_identifiers_are_masked_but_dates_are_not() -> None:
    from clientmodel.errors import describe_rows

    text = describe_rows(
        [0, 1, 2, 3], ["13800138000", "zhang.wei@qq.com", "2024-01-31", "2024-10-10T06:08:53"]
    )
    assert "13800138000" not in text
    assert "zhang.wei" not in text
    assert "'2024-01-31'" in text
    assert "'2024-10-10T06:08:53'" in text
