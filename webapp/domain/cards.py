"""Card numbers: nine digits, the last a Damm check digit.

Damm catches every single-digit typo and every swap of adjacent digits, which
Luhn does not (09 <-> 90), so a cashier typing a number gets caught at once.
"""

from __future__ import annotations

import secrets

from webapp.domain.errors import InvalidCardNumber

_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

BODY_LENGTH = 8
LENGTH = BODY_LENGTH + 1


def check_digit(body: str) -> str:
    """The Damm check digit of a string of digits."""
    interim = 0
    for ch in body:
        interim = _DAMM[interim][int(ch)]
    return str(interim)


def generate(random_digits: str | None = None) -> str:
    """A new card number; the body is random unless given (for tests)."""
    body = random_digits or "".join(secrets.choice("0123456789") for _ in range(BODY_LENGTH))
    if body[0] == "0":  # a leading zero gets lost in spreadsheets
        body = str(secrets.choice("123456789")) + body[1:]
    return body + check_digit(body)


def normalise(raw: str) -> str:
    """Strip spaces and dashes and validate; raise InvalidCardNumber if wrong."""
    digits = "".join(ch for ch in raw if ch not in " -\u00a0")
    # ASCII digits only: "²".isdigit() is true, and the check digit's int() then fails.
    if not (digits.isascii() and digits.isdigit()) or len(digits) != LENGTH:
        raise InvalidCardNumber("card_number_length", length=LENGTH)
    if check_digit(digits[:-1]) != digits[-1]:
        raise InvalidCardNumber("card_number_check_digit")
    return digits


def display(number: str) -> str:
    """Group as '123 456 789' for printing on cards and passes."""
    return " ".join(number[i : i + 3] for i in range(0, len(number), 3))
