"""Rubles typed by people and printed for them (pure, no database)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.domain.errors import InvalidAmount, InvalidInput
from webapp.domain.money import format_minor, input_value, parse_points, parse_rubles

NB = "\u00a0"


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
    with pytest.raises(InvalidAmount, match="negative"):
        parse_rubles("-10")


@pytest.mark.parametrize(
    ("minor", "text"),
    [
        (150050, f"1{NB}500,50{NB}₽"),
        (50000, f"500,00{NB}₽"),
        (1, f"0,01{NB}₽"),
        (0, f"0,00{NB}₽"),
        (123456789, f"1{NB}234{NB}567,89{NB}₽"),
        (-6000, f"\u221260,00{NB}₽"),
    ],
)
def test_format_minor(minor: int, text: str) -> None:
    assert format_minor(minor) == text


def test_format_other_currency() -> None:
    assert format_minor(1050, "EUR") == f"10,50{NB}€"


@given(st.integers(min_value=0, max_value=10**14 - 1))
def test_printed_amounts_read_back(minor: int) -> None:
    assert parse_rubles(format_minor(minor)) == minor
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
