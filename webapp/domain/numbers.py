"""Whole numbers read from requests: ASCII digits only, within a given range.

Python's ``str.isdigit()`` says yes to "²" (and ``int()`` then fails), and ``int()``
itself takes "١٢" or "１２" (other scripts' digits), surrounding spaces, underscores
and strings of any length. None of that belongs in an id or an amount typed into our
forms, and a number past the column it goes into makes the database fail (SQLite's
INTEGER ends at 2**63 - 1, PostgreSQL's at 2**31 - 1). So every number or id taken
from a form, a query string or a JSON body goes through :func:`whole_number` with the
range its column holds. Pure: no Flask, no database.
"""

from __future__ import annotations

import re

from webapp.domain.errors import InvalidInput

MAX_ID = 2**31 - 1  # INTEGER primary keys, on PostgreSQL the narrower engine
MAX_INT = 2**31 - 1  # INTEGER columns (points, counts)
MAX_BIGINT = 2**63 - 1  # BIGINT columns (money in minor units)
_DIGITS = re.compile(r"[0-9]+")  # [0-9], not \d: \d matches every script's digits


def whole_number(text: object, *, low: int = 0, high: int = MAX_INT,
                 signed: bool = False) -> int:
    """``text`` as an int from ``low`` to ``high``; InvalidInput otherwise.

    ASCII digits only, optionally with a leading ``-`` or ``+`` when ``signed``;
    spaces around are ignored. Nothing else: no other scripts' digits, no "²", no
    underscores, no exponent, no fraction. Length is checked before conversion, so a
    100,000-digit string costs nothing (``int()`` would refuse it with a ValueError).
    """
    if not isinstance(text, str):
        raise _out_of_range(low, high)
    raw = text.strip(" \t")
    sign = ""
    if signed and raw[:1] in ("-", "+"):
        sign, raw = raw[0], raw[1:]
    if not _DIGITS.fullmatch(raw):
        raise _out_of_range(low, high)
    digits = raw.lstrip("0") or "0"
    if len(digits) > len(str(max(abs(low), abs(high)))):
        raise _out_of_range(low, high)
    value = int(sign + digits)
    if not low <= value <= high:
        raise _out_of_range(low, high)
    return value


def optional_id(text: object) -> int | None:
    """An id from a form field that may be left empty: None for "", else an id
    (1 to :data:`MAX_ID`); InvalidInput for anything else."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    return whole_number(text, low=1, high=MAX_ID)


def _out_of_range(low: int, high: int) -> InvalidInput:
    return InvalidInput("number_out_of_range", low=low, high=high)
