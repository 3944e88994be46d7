"""The rotating check-in code the customer's phone shows (DESIGN.md).

``R1.<card>.<step>.<mac>``: the card number, the 30-second time step, and the first
50 bits of HMAC-SHA256(secret, "R1.<card>.<step>") in base32. Only QR alphanumeric
characters, so the code stays a small QR. The phone computes it offline; the counter
accepts the current and the previous step. Using a code once only is the service's
job (it must remember used codes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime

from webapp.domain import cards
from webapp.domain.errors import InvalidInput

STEP_SECONDS = 30
MAC_CHARS = 10  # 50 bits: guessing one within a minute's validity is hopeless
PREFIX = "R1"
_STEP = re.compile(r"[0-9]{1,12}")  # ASCII only: "²".isdigit() is true, int("²") fails


class InvalidCheckinCode(InvalidInput):
    """Not a code our app made (typo, tampering, another card)."""

    code = "invalid_checkin_code"


class StaleCheckinCode(InvalidInput):
    """A real code, but too old: the customer should show the live one."""

    code = "stale_checkin_code"


@dataclass(frozen=True)
class CheckIn:
    card_number: str
    step: int


def step_at(moment: datetime) -> int:
    """The 30-second step a moment falls in."""
    return int(moment.timestamp()) // STEP_SECONDS


def mac(secret: bytes, card_number: str, step: int) -> str:
    digest = hmac.new(secret, f"{PREFIX}.{card_number}.{step}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode()[:MAC_CHARS]


def make(secret: bytes, card_number: str, moment: datetime) -> str:
    """The code for this card at this moment (what the phone's JavaScript computes)."""
    step = step_at(moment)
    return f"{PREFIX}.{card_number}.{step}.{mac(secret, card_number, step)}"


def parse(code: str) -> tuple[str, int, str]:
    """Split a scanned code into (card number, step, mac); InvalidCheckinCode if malformed."""
    parts = code.strip().upper().split(".") if isinstance(code, str) else []
    if len(parts) != 4 or parts[0] != PREFIX or not _STEP.fullmatch(parts[2]) \
            or len(parts[3]) != MAC_CHARS:
        raise InvalidCheckinCode()
    try:
        card_number = cards.normalise(parts[1])
    except InvalidInput:
        raise InvalidCheckinCode() from None
    return card_number, int(parts[2]), parts[3]


def verify(secret: bytes, code: str, now: datetime) -> CheckIn:
    """Check a scanned code against the customer's secret, for the current or previous step."""
    card_number, step, given = parse(code)
    if not hmac.compare_digest(given, mac(secret, card_number, step)):
        raise InvalidCheckinCode("checkin_code_foreign")
    current = step_at(now)
    if step not in (current, current - 1):
        raise StaleCheckinCode(
            )
    return CheckIn(card_number, step)
