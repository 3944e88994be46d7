"""Money typed by people and shown to them: rubles with kopecks <-> integer minor units.

Pure, standard library only. ``parse_rubles`` reads what a manager types into a form
("1 500,50", "1500.5", "1500 ₽"); ``format_money`` is the one way money is shown to
people ("15 000 ₽", "1 500,50 ₽", "₽1,500.50"). Never floats: the digits are read as text.
"""

from __future__ import annotations

import re

from webapp.domain.errors import InvalidAmount, InvalidInput
from webapp.domain.wording import NBSP, NNBSP, SYMBOLS, is_ru

# Spaces people (and copy-paste from spreadsheets) put between thousands.
_SPACES = " \u00a0\u202f\u2009\u2007\t'"
_SUFFIXES = ("₽", "руб.", "руб", "р.", "р")
# [0-9], not \d: \d takes every script's digits ("١٢", "１２"), which no form of ours asks for.
_AMOUNT = re.compile(r"([0-9]+)(?:[.,]([0-9]{1,2}))?")
_POINTS = re.compile(r"([+-]?)([0-9]+)")
_MINUSES = "\u2212\u2013\u2014"  # minus sign, en and em dashes typed for "-"
MAX_DIGITS = 12  # up to 999 999 999 999 rubles: more is a typo, not a refund
MAX_POINTS_DIGITS = 9


def parse_rubles(text: str | None) -> int:
    """Rubles as typed ("1 500,50", "1500.5", "1500 ₽") -> kopecks (150050).

    A comma or a point separates kopecks (one or two digits); spaces may group
    thousands. Negative, empty, fractional kopecks or letters -> InvalidInput.
    """
    raw = (text or "").strip().lower()
    for suffix in _SUFFIXES:
        if raw.endswith(suffix):
            raw = raw[: -len(suffix)]
            break
    raw = "".join(ch for ch in raw if ch not in _SPACES)
    if not raw:
        raise InvalidInput("amount_missing")
    if raw[0] in "-" + _MINUSES:
        raise InvalidAmount("amount_negative")
    match = _AMOUNT.fullmatch(raw)
    if match is None:
        raise InvalidAmount("amount_malformed")
    whole, kopecks = match.group(1), match.group(2) or "0"
    if len(whole.lstrip("0")) > MAX_DIGITS:
        raise InvalidAmount("amount_too_large")
    return int(whole) * 100 + int(kopecks.ljust(2, "0"))


def parse_points(text: str | None) -> int:
    """A signed whole number of points as typed ("+100", "-50", "−50", "1 000") -> int."""
    raw = "".join(ch for ch in (text or "").strip() if ch not in _SPACES)
    for minus in _MINUSES:
        raw = raw.replace(minus, "-")
    if not raw:
        raise InvalidInput("points_missing")
    match = _POINTS.fullmatch(raw)
    if match is None:
        raise InvalidAmount("points_typed_not_whole")
    if len(match.group(2).lstrip("0")) > MAX_POINTS_DIGITS:
        raise InvalidAmount("points_too_large")
    return int(match.group(1) + match.group(2))


def format_money(minor: int, currency: str, lang: str) -> str:
    """Money for people: "15 000 ₽" / "1 500,50 ₽" (ru), "₽15,000" / "₽1,500.50" (en).

    Kopecks only when non-zero. Russian groups thousands with a narrow no-break space
    and puts a no-break space before the symbol; a negative amount gets a real minus
    sign (U+2212). A currency without a known symbol is shown by its code.
    """
    ru = is_ru(lang)
    whole, cents = divmod(abs(minor), 100)  # every supported currency has 2 decimals
    number = f"{whole:,}".replace(",", NNBSP if ru else ",")
    if cents:
        number += ("," if ru else ".") + f"{cents:02d}"
    sign = "\u2212" if minor < 0 else ""
    symbol = SYMBOLS.get(currency.upper(), currency.upper())
    if ru:
        return f"{sign}{number}{NBSP}{symbol}"
    # A one-character symbol sticks to the number ("$10"); a code does not ("XYZ 10").
    return f"{sign}{symbol}{number}" if len(symbol) == 1 else f"{sign}{symbol}{NBSP}{number}"


def input_value(minor: int) -> str:
    """An amount as a form field's value that :func:`parse_rubles` reads back: "1500,50"."""
    whole, kopecks = divmod(abs(minor), 100)
    return f"{'-' if minor < 0 else ''}{whole},{kopecks:02d}"
