"""Sending a text message: the gateway interface and the console backend for development.

The customer-app issue adds HTTP gateways and sending through the outbox; until then
the counter sends its one-time codes directly through the configured gateway.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from webapp.config import ConfigError

log = logging.getLogger("regulars.sms")


class SmsGateway(Protocol):
    def send(self, phone: str, text: str) -> None:
        """Deliver ``text`` to the E.164 ``phone`` or raise."""


@dataclass(frozen=True)
class Sent:
    phone: str
    text: str


class ConsoleGateway:
    """Writes each message to the log and keeps the last ones (the demo and tests read them)."""

    def __init__(self, keep: int = 100) -> None:
        self.sent: deque[Sent] = deque(maxlen=keep)

    def send(self, phone: str, text: str) -> None:
        self.sent.append(Sent(phone, text))
        log.warning("SMS to %s: %s", phone, text)

    def last_to(self, phone: str) -> str | None:
        """The newest message to this phone, if any."""
        return next((m.text for m in reversed(self.sent) if m.phone == phone), None)


def make_gateway(backend: str) -> SmsGateway:
    """The gateway named by REGULARS_SMS_BACKEND (only ``console`` exists so far)."""
    if backend == "console":
        return ConsoleGateway()
    raise ConfigError(f"REGULARS_SMS_BACKEND {backend!r} is unknown; use 'console'.")
