"""The bad values the hostile-input sweep sends: in query strings, form fields, JSON.

Each is something a browser, a script or an attacker can send today and that once
turned into a 500 somewhere: digits Python's ``str.isdigit()`` accepts but ``int()``
refuses, numbers past the database's integer columns, NUL (PostgreSQL refuses it in
text), long strings, wrong JSON types, and JSON nested deep enough to exhaust the
parser's recursion.
"""

from __future__ import annotations

from typing import Any

from webapp.domain import cards

DEEP = 5000  # levels of JSON nesting: RecursionError in json.loads and in anything walking it


class Repeated:
    """A form field sent twice (a list where the view expects one string)."""

    def __repr__(self) -> str:
        return "<the field twice>"


class Missing:
    """The field left out of the request."""

    def __repr__(self) -> str:
        return "<missing>"


REPEATED = Repeated()
MISSING = Missing()

UNICODE_DIGITS = ["²", "١٢", "１２"]  # superscript two, Arabic-Indic 12, fullwidth 12
CARD = cards.generate("12345678")  # a well-formed card number, for the ones around it
UNICODE_IN_PLACE = [
    "1234²5678",  # a card number's length: its check digit took int() of each digit
    f"R1.{CARD}.²³.ABCDEFGHIJ",  # a check-in code whose time step is "²³"
]
HUGE_NUMBERS = ["1" * 23, str(2**31), str(2**63), "-1", "1e999999"]

# Query strings and form fields: text, so every value is a string (or the field twice,
# or missing).
FORM_VALUES: list[Any] = [
    *UNICODE_DIGITS,
    *UNICODE_IN_PLACE,
    *HUGE_NUMBERS,
    "1.5",
    "\x00",
    "x" * 100_000,
    "",
    REPEATED,
    MISSING,
]

# A field of a JSON body: besides the texts above, the wrong JSON types.
JSON_VALUES: list[Any] = [
    "²",
    "１２",
    "1" * 23,
    2**31,
    2**63,
    -1,
    1.5,
    "\x00",
    "x" * 100_000,
    [],
    ["²"],
    {"a": "b"},
    None,
    True,
    MISSING,
]

# Subsets for forms with many fields (the program form), still covering each kind of
# trouble: rotated over the fields, so each value lands somewhere.
FORM_VALUES_SHORT = ["²", "1" * 23, str(2**31), "\x00", "x" * 100_000, REPEATED, MISSING]
JSON_VALUES_SHORT = ["²", 2**63, "\x00", "x" * 100_000, [], None, MISSING]


def deep_json(levels: int = DEEP) -> str:
    """A body of ``levels`` nested arrays around an object: ``[[[...{}...]]]``."""
    return "[" * levels + "{}" + "]" * levels


def deep_object(levels: int = DEEP) -> str:
    """Nested objects, as a JSON form body could hold them: ``{"a": {"a": ...}}``."""
    return '{"a": ' * levels + "1" + "}" * levels


# Whole JSON bodies of the wrong shape (sent raw, as text).
JSON_BODIES: list[str] = [
    deep_json(),
    deep_object(),
    "[]",
    '"text"',
    "12345678901234567890123",
    "null",
    "{",
    '{"a": NaN}',
    '{"a": 1e999}',
]
