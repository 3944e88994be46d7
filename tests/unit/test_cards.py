"""Card numbers: the check digit catches the typos a cashier makes."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.domain import cards
from webapp.domain.errors import InvalidCardNumber

bodies = st.text(alphabet="0123456789", min_size=cards.BODY_LENGTH, max_size=cards.BODY_LENGTH)


@given(bodies)
def test_generated_numbers_validate(body: str) -> None:
    number = cards.generate(body)
    assert len(number) == cards.LENGTH
    assert number[0] != "0"
    assert cards.normalise(cards.display(number)) == number


@given(bodies, st.integers(0, cards.LENGTH - 1), st.integers(1, 9))
def test_every_single_digit_typo_is_caught(body: str, position: int, shift: int) -> None:
    number = cards.generate(body)
    wrong = number[:position] + str((int(number[position]) + shift) % 10) + number[position + 1 :]
    with pytest.raises(InvalidCardNumber):
        cards.normalise(wrong)


@given(bodies, st.integers(0, cards.LENGTH - 2))
def test_every_adjacent_swap_is_caught(body: str, position: int) -> None:
    number = cards.generate(body)
    a, b = number[position], number[position + 1]
    if a == b:
        return
    swapped = number[:position] + b + a + number[position + 2 :]
    with pytest.raises(InvalidCardNumber):
        cards.normalise(swapped)


@pytest.mark.parametrize("raw", ["", "12345", "1234567890", "12a456789", "абв"])
def test_malformed_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidCardNumber):
        cards.normalise(raw)


def test_display_groups_by_three() -> None:
    assert cards.display("123456789") == "123 456 789"
