"""Sending a text message: the gateway interface, the console backend for development
and an HTTP backend for a real SMS provider.

Customer notifications go through the outbox (:mod:`webapp.services.notify.outbox`, kind
``sms``) and ``regulars worker``; the counter still sends its one-time codes directly,
because the cashier waits for them while the customer stands at the counter.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from webapp.config import ConfigError

log = logging.getLogger("regulars.sms")

HTTP_TIMEOUT = 5.0  # seconds; a worker must not hang on a slow gateway
EXCERPT = 200  # characters of the gateway's answer kept in an error


class SmsGateway(Protocol):
    def send(self, phone: str, text: str) -> None:
        """Deliver ``text`` to the E.164 ``phone`` or raise."""


class SmsNotSent(Exception):
    """The gateway refused the message or could not be reached; ``status`` is its HTTP
    status when it answered at all."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


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


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # urllib would turn a redirected POST into a GET and report success without sending.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class HttpGateway:
    """POSTs ``{"to", "text", "sender"}`` as JSON with a bearer token to the provider.

    Any answer other than 2xx, a redirect included, and any network error or timeout
    raise :class:`SmsNotSent`; the outbox retries later.
    """

    def __init__(self, url: str, token: str, sender: str | None = None,
                 timeout: float = HTTP_TIMEOUT) -> None:
        self.url = url
        self.sender = sender
        self.timeout = timeout
        self._token = token
        self._opener = urllib.request.build_opener(_NoRedirects())

    def send(self, phone: str, text: str) -> None:
        """Hand one message to the provider or raise :class:`SmsNotSent`."""
        body = json.dumps({"to": phone, "text": text, "sender": self.sender},
                          ensure_ascii=False).encode()
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
            "Authorization": f"Bearer {self._token}",
        })
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status, answer = response.status, response.read(EXCERPT * 4)
        except urllib.error.HTTPError as error:
            try:
                answer = error.read(EXCERPT * 4)
            finally:
                error.close()  # the error is the open response: close it, or it leaks
            raise SmsNotSent(f"SMS gateway answered {error.code}: {_excerpt(answer)}",
                             status=error.code) from None
        except (OSError, ValueError) as error:  # URLError, refused, timeout, bad answer
            raise SmsNotSent(f"SMS gateway unreachable: {error}") from error
        if not 200 <= status < 300:
            raise SmsNotSent(f"SMS gateway answered {status}: {_excerpt(answer)}", status=status)


def _excerpt(body: bytes) -> str:
    return " ".join(body.decode("utf-8", "replace").split())[:EXCERPT] or "(empty body)"


def make_gateway(backend: str, settings_extra: Mapping[str, Any] | None = None) -> SmsGateway:
    """The gateway named by REGULARS_SMS_BACKEND: ``console`` (the log) or ``http``.

    ``http`` needs REGULARS_SMS_HTTP_URL and REGULARS_SMS_HTTP_TOKEN, and takes an
    optional REGULARS_SMS_HTTP_SENDER (the sender name the provider shows).
    """
    if backend == "console":
        return ConsoleGateway()
    if backend != "http":
        raise ConfigError(f"REGULARS_SMS_BACKEND {backend!r} is unknown; use 'console' or"
                          " 'http'.")
    extra = settings_extra or {}
    for name in ("SMS_HTTP_URL", "SMS_HTTP_TOKEN"):
        if not str(extra.get(name) or "").strip():
            raise ConfigError(f"REGULARS_SMS_BACKEND=http needs REGULARS_{name}.")
    url = str(extra["SMS_HTTP_URL"]).strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"REGULARS_SMS_HTTP_URL must be an http(s) URL, got {url!r}.")
    sender = str(extra.get("SMS_HTTP_SENDER") or "").strip() or None
    return HttpGateway(url, str(extra["SMS_HTTP_TOKEN"]).strip(), sender)
