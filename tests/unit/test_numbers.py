"""Whole numbers from requests: ASCII digits within the column's range, nothing else."""

from __future__ import annotations

import pytest

from webapp.domain import cards, checkin
from webapp.domain.errors import InvalidCardNumber, InvalidInput
from webapp.domain.money import parse_points, parse_rubles
from webapp.domain.numbers import MAX_ID, optional_id, whole_number
from webapp.error_messages import describe


@pytest.mark.parametrize("text, expected", [
    ("0", 0), ("7", 7), (" 42 ", 42), ("007", 7), (str(MAX_ID), MAX_ID),
    ("0" * 5000 + "5", 5),  # leading zeros are not digits of the value
])
def test_ascii_digits_within_range_are_read(text: str, expected: int) -> None:
    assert whole_number(text) == expected


@pytest.mark.parametrize("text", [
    "²", "12²", "١٢", "１２", "৩",  # digits isdigit() or int() accept, from other scripts
    str(MAX_ID + 1), "1" * 23, str(2**63), "9" * 100_000,  # past an INTEGER column
    "-1", "+1", "1.5", "1e3", "1_000", "0x10", " ", "", "1 2", "\x00", "12\n",
])
def test_anything_else_is_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        whole_number(text)
    assert describe(refused.value, "ru") == (
        "Введите целое число от 0 до 2\u202f147\u202f483\u202f647.")


@pytest.mark.parametrize("value", [None, 12, 1.0, ["1"], {"a": 1}, b"12", True])
def test_only_text_is_read(value: object) -> None:
    with pytest.raises(InvalidInput):
        whole_number(value)


def test_the_range_and_the_sign_are_the_callers() -> None:
    assert whole_number("-5", low=-10, high=10, signed=True) == -5
    assert whole_number("+5", low=-10, high=10, signed=True) == 5
    with pytest.raises(InvalidInput):
        whole_number("-11", low=-10, high=10, signed=True)
    with pytest.raises(InvalidInput):
        whole_number("-5", low=-10, high=10)  # no sign unless asked for
    with pytest.raises(InvalidInput):
        whole_number("11", low=0, high=10)
    with pytest.raises(InvalidInput) as refused:
        whole_number("0", low=1, high=10)
    assert refused.value.params == {"low": 1, "high": 10}


def test_an_optional_id_may_be_empty() -> None:
    assert optional_id(None) is None
    assert optional_id("") is None
    assert optional_id("  ") is None
    assert optional_id("12") == 12
    for bad in ("0", "²", str(MAX_ID + 1), "-3"):
        with pytest.raises(InvalidInput):
            optional_id(bad)


# The domain's other parsers of typed numbers take ASCII digits only as well.

@pytest.mark.parametrize("text", ["١٢", "１２", "12²", "1٢,50"])
def test_amounts_and_points_in_other_scripts_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_rubles(text)
    with pytest.raises(InvalidInput):
        parse_points(text)


def test_a_card_number_with_a_superscript_digit_is_a_wrong_card_number() -> None:
    with pytest.raises(InvalidCardNumber):  # was ValueError from the check digit's int()
        cards.normalise("1234²5678")


def test_a_check_in_code_whose_step_is_not_ascii_is_not_a_code() -> None:
    card = cards.generate("12345678")
    with pytest.raises(checkin.InvalidCheckinCode):  # was ValueError from int("²³")
        checkin.parse(f"R1.{card}.²³.ABCDEFGHIJ")
    assert checkin.parse(f"R1.{card}.123.ABCDEFGHIJ") == (card, 123, "ABCDEFGHIJ")
