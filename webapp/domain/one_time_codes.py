"""One-time codes texted to a customer's phone: signing in, and confirming a large
redemption at the counter. Both follow the same rules, kept here.

A code is 6 digits, good for 5 minutes and 5 attempts, and is used once. Only its hash
is stored, salted with the id of the row that holds it and with what the code is for,
so a sign-in code can never pass for a redemption code. Comparing is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from webapp.domain.abuse import Crossing
from webapp.domain.errors import Conflict

DIGITS = 6
LIFETIME = timedelta(minutes=5)
ATTEMPTS = 5


class Purpose(Enum):
    """What a code is for."""

    SIGN_IN = "sign_in"
    REDEMPTION = "redemption"


# The hash formats predate this module; kept, so codes already texted stay good.
_SALTS = {Purpose.SIGN_IN: "sign-in:", Purpose.REDEMPTION: ""}
# What a client sees when refused: each feature kept the code it always had.
_REFUSAL_CODES = {Purpose.SIGN_IN: "too_many_sign_in_codes",
                  Purpose.REDEMPTION: "too_many_codes"}


class TooManyCodes(Conflict):
    """Too many codes were asked for recently; ``code`` says for what (sign-in or a
    redemption), as clients always saw it."""

    code = "too_many_codes"
    status = 429
    # Set when a business's cap on sign-in codes to newcomers refused: (business id,
    # the owner's flag, when), kept by the caller after the refused scope rolls back.
    flag: tuple[int, Crossing, datetime] | None = None

    def __init__(self, *, purpose: Purpose, **params: Any) -> None:
        super().__init__(_REFUSAL_CODES[purpose], **params)
        self.purpose = purpose


def new_code() -> str:
    """A fresh random code, zero-padded to :data:`DIGITS` digits."""
    return f"{secrets.randbelow(10 ** DIGITS):0{DIGITS}d}"


def code_hash(purpose: Purpose, row_id: int, code: str) -> str:
    """What is stored for ``code`` held by row ``row_id``."""
    return hashlib.sha256(f"{_SALTS[purpose]}{row_id}:{code}".encode()).hexdigest()


def matches(stored_hash: str, purpose: Purpose, row_id: int, typed: str | None) -> bool:
    """Whether the code someone typed (spaces around it ignored) is the stored one, in
    constant time."""
    return hmac.compare_digest(stored_hash, code_hash(purpose, row_id, (typed or "").strip()))


def expires_at(now: datetime) -> datetime:
    """When a code sent at ``now`` stops working."""
    return now + LIFETIME


def usable(*, used_at: datetime | None, expires_at: datetime, attempts: int,
           now: datetime) -> bool:
    """Whether a code can still be tried: unused, unexpired, attempts left."""
    return used_at is None and expires_at > now and attempts < ATTEMPTS


def attempts_left(attempts: int) -> int:
    """How many more tries a code has after ``attempts`` were taken."""
    return ATTEMPTS - attempts
