"""How often a staff sign-in may be tried: the policy, with no storage.

Three counts, each over a fixed 15-minute window:

- one login from one address: a hard limit (10). A stranger who knows a login locks
  out only themselves, never the member working from the shop;
- one address, whatever the login: a hard limit (30), against guessing many logins;
- one login from anywhere: no lock, a growing delay. After 5 attempts each further
  one must wait longer since the last (2 s, 4 s, 8 s … at most a minute), so guessing
  from many addresses stays slow while the real member is only slowed down;
- a browser that signed this login in before (a *known device*, which keeps a signed
  cookie saying so) is exempt from the two shared counts above: a stranger who keeps
  the login's delay busy from elsewhere, or guesses from the shop's own address, cannot
  keep the member out at their usual counter. It has a hard limit of its own (10).

An attempt is counted before its password is checked and given back when it succeeds,
so parallel requests can never check more passwords than the limit allows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

WINDOW = timedelta(minutes=15)
PER_LOGIN_AND_ADDRESS = 10
PER_ADDRESS = 30
PER_KNOWN_DEVICE = 10
FREE_PER_LOGIN = 5
LONGEST_DELAY = timedelta(seconds=60)


class Limit(StrEnum):
    LOGIN_AND_ADDRESS = "login_and_address"
    ADDRESS = "address"
    LOGIN = "login"
    KNOWN_DEVICE = "known_device"


@dataclass(frozen=True)
class Count:
    """Attempts counted in the current window, and when the last one was."""

    hits: int
    last_at: datetime | None = None


@dataclass(frozen=True)
class Refusal:
    """No password is checked: which limit, and how long until a try is let through."""

    limit: Limit
    retry_after: timedelta


@dataclass(frozen=True)
class Keys:
    """The counters' keys of one attempt, in the order :func:`refusal` reads them: the
    login from this address, the address, and the login (or, from a known device, the
    device's own key instead of the first and the last)."""

    first: str
    address: str
    last: str
    known_device: bool = False

    def all(self) -> tuple[str, str, str]:
        return (self.first, self.address, self.last)


def keys(business_id: int, login: str, address: str | None,
         known_device: str | None = None) -> Keys:
    """Counter keys for a login (as typed, normalised) in a business from an address,
    or from a known device (its id, from the browser's signed cookie)."""
    login = (login or "").strip().lower()[:64]
    where = address or "unknown"
    address_key = _key("address", where)
    if known_device:
        device = _key("device", business_id, login, known_device)
        return Keys(device, address_key, device, known_device=True)
    return Keys(_key("login-address", business_id, login, where), address_key,
                _key("login", business_id, login), known_device=False)


def _key(kind: str, *parts: object) -> str:
    """A key no typed login can forge: the parts are encoded unambiguously (a login
    "owner@1.2.3.4" never meets the key of "owner" from 1.2.3.4) and hashed to a
    fixed length."""
    digest = hashlib.sha256(json.dumps([kind, *parts]).encode()).hexdigest()[:40]
    return f"staff-sign-in:{kind}:{digest}"


def window_start(now: datetime) -> datetime:
    """The start of the fixed window ``now`` falls in."""
    seconds = int(WINDOW.total_seconds())
    return datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, UTC)


def delay(hits: int) -> timedelta:
    """How long after the last attempt on a login the next one may come."""
    if hits < FREE_PER_LOGIN:
        return timedelta(0)
    doublings = min(hits - FREE_PER_LOGIN + 1, 16)  # 2**16 s is past the cap already
    return min(timedelta(seconds=2 ** doublings), LONGEST_DELAY)


def refusal(counts: Sequence[Count], now: datetime, known_device: bool = False
            ) -> Refusal | None:
    """Why this attempt must not check a password (counts as :meth:`Keys.all` orders
    them), or None when it may."""
    first, address, last = counts
    window_left = window_start(now) + WINDOW - now
    if known_device:
        if first.hits >= PER_KNOWN_DEVICE:
            return Refusal(Limit.KNOWN_DEVICE, window_left)
        return None
    if first.hits >= PER_LOGIN_AND_ADDRESS:
        return Refusal(Limit.LOGIN_AND_ADDRESS, window_left)
    if address.hits >= PER_ADDRESS:
        return Refusal(Limit.ADDRESS, window_left)
    wait = delay(last.hits)
    if wait and last.last_at is not None and now - last.last_at < wait:
        return Refusal(Limit.LOGIN, wait - (now - last.last_at))
    return None
