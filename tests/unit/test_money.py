"""Money typed by people and shown to them (pure, no database)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.domain.errors import InvalidAmount, InvalidInput
from webapp.domain.money import format_money, input_value, parse_points, parse_rubles

NB = "\u00a0"
NN = "\u202f"


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("1500", 150000),
        ("1 500,50", 150050),
        ("1500.5", 150050),
        ("1500,05", 150005),
        ("  1\u00a0500,5 ₽ ", 150050),
        ("1\u202f500", 150000),
        ("1500 руб.", 150000),
        ("1500р", 150000),
        ("0,01", 1),
        ("0", 0),
        ("007", 700),
    ],
)
def test_rubles_are_read_as_typed(text: str, minor: int) -> None:
    assert parse_rubles(text) == minor


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        None,
        "-5",
        "−5",
        "1,505",
        "1.2.3",
        "12,",
        ",5",
        "пять",
        "1e3",
        "1 500,50,1",
        "1,500.50",
        "nan",
        "1234567890123",
    ],
)
def test_bad_amounts_are_refused(text: str | None) -> None:
    with pytest.raises(InvalidInput):
        parse_rubles(text)


def test_negative_says_so() -> None:
    with pytest.raises(InvalidAmount, match="amount_negative"):
        parse_rubles("-10")


@pytest.mark.parametrize(
    ("minor", "ru", "en"),
    [
        (1_500_000, f"15{NN}000{NB}₽", "₽15,000"),
        (150050, f"1{NN}500,50{NB}₽", "₽1,500.50"),
        (1_500_050, f"15{NN}000,50{NB}₽", "₽15,000.50"),
        (50000, f"500{NB}₽", "₽500"),
        (1, f"0,01{NB}₽", "₽0.01"),
        (99, f"0,99{NB}₽", "₽0.99"),
        (0, f"0{NB}₽", "₽0"),
        (123456789, f"1{NN}234{NN}567,89{NB}₽", "₽1,234,567.89"),
        (123_456_789_00, f"123{NN}456{NN}789{NB}₽", "₽123,456,789"),
        (99_999_999_999_999, f"999{NN}999{NN}999{NN}999,99{NB}₽", "₽999,999,999,999.99"),
        (-6000, f"\u221260{NB}₽", "\u2212₽60"),
        (-150050, f"\u22121{NN}500,50{NB}₽", "\u2212₽1,500.50"),
    ],
)
def test_format_money(minor: int, ru: str, en: str) -> None:
    assert format_money(minor, "RUB", "ru") == ru
    assert format_money(minor, "RUB", "en") == en


def test_format_money_language_variants() -> None:
    # Only Russian is Russian; every other language reads the English form.
    assert format_money(150050, "RUB", "ru-RU") == format_money(150050, "RUB", "ru")
    assert format_money(150050, "RUB", "ru_RU") == format_money(150050, "RUB", "ru")
    assert format_money(150050, "RUB", "de") == "₽1,500.50"


def test_format_money_other_currencies() -> None:
    assert format_money(1050, "EUR", "ru") == f"10,50{NB}€"
    assert format_money(1050, "EUR", "en") == "€10.50"
    assert format_money(1_000_000, "usd", "en") == "$10,000"
    assert format_money(-1_000_000, "USD", "en") == "\u2212$10,000"
    # A symbol longer than one character, or an unknown code, stands apart from the number.
    assert format_money(1_000_000, "BYN", "en") == f"Br{NB}10,000"
    assert format_money(1_000_000, "XYZ", "en") == f"XYZ{NB}10,000"
    assert format_money(1_000_000, "XYZ", "ru") == f"10{NN}000{NB}XYZ"
    assert format_money(-1_000_050, "xyz", "ru") == f"\u221210{NN}000,50{NB}XYZ"


@given(st.integers(min_value=0, max_value=10**14 - 1))
def test_printed_amounts_read_back(minor: int) -> None:
    assert parse_rubles(format_money(minor, "RUB", "ru")) == minor
    assert parse_rubles(input_value(minor)) == minor


@pytest.mark.parametrize(
    ("text", "points"),
    [
        ("100", 100),
        ("+100", 100),
        ("-50", -50),
        ("\u221250", -50),
        ("1 000", 1000),
        (" 7 ", 7),
    ],
)
def test_points_are_read_signed(text: str, points: int) -> None:
    assert parse_points(text) == points


@pytest.mark.parametrize("text", ["", None, "1.5", "+-5", "сто", "1234567890"])
def test_bad_points_are_refused(text: str | None) -> None:
    with pytest.raises(InvalidInput):
        parse_points(text)
