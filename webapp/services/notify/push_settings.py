"""Web push settings: the VAPID key pair, its contact, and the reminder's delay.

Read from the app's ``REGULARS_*`` settings; without the two keys push is off and
nothing is offered:

- ``VAPID_PRIVATE_KEY``: the raw 32-byte P-256 private key in base64url (no padding),
  as ``regulars push keys`` prints it. Keep it secret; changing it orphans every
  subscription (browsers subscribed with the old public key).
- ``VAPID_PUBLIC_KEY``: the matching 65-byte uncompressed public key in base64url,
  given to browsers as ``applicationServerKey``; start-up checks the two belong together.
- ``VAPID_SUBJECT``: ``mailto:`` address (or https URL) push services can contact.
- ``SLEEPING_AFTER_DAYS``: days since the last paid order after which a customer with
  points gets one reminder (default 120, i.e. about four months; 7 to 3650).
- ``PUSH_ALLOW_LOCAL``: also accept ``http://127.0.0.1`` / ``localhost`` endpoints (a
  local push service in development); always on when the app is testing.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from webapp.config import ConfigError

EXTENSION = "regulars_push"  # app.extensions key of the parsed settings (None: push off)
DEFAULT_SLEEPING_DAYS = 120
_B64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")


@dataclass(frozen=True)
class PushSettings:
    """Push is on: the VAPID key pair and subject, and the reminders' delay."""

    public_key: str  # base64url, what browsers get as applicationServerKey
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    subject: str
    allow_local: bool = False
    sleeping_after: timedelta = timedelta(days=DEFAULT_SLEEPING_DAYS)


def encode_base64url(raw: bytes) -> str:
    """base64url without padding, as the Push API and VAPID write keys."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_base64url(text: Any) -> bytes | None:
    """base64url (padding optional) to bytes; None for anything else."""
    if not isinstance(text, str) or not _B64URL.fullmatch(text):
        return None
    try:
        return base64.urlsafe_b64decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        return None


def _public_bytes(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def new_keys() -> tuple[str, str]:
    """A fresh VAPID key pair: (private, public), both base64url, for the environment."""
    key = ec.generate_private_key(ec.SECP256R1())
    raw = key.private_numbers().private_value.to_bytes(32, "big")
    return encode_base64url(raw), encode_base64url(_public_bytes(key))


def sleeping_after(extra: Mapping[str, Any]) -> timedelta:
    """``REGULARS_SLEEPING_AFTER_DAYS`` as a duration (default 120 days)."""
    value = extra.get("SLEEPING_AFTER_DAYS")
    if value is None or value == "":
        return timedelta(days=DEFAULT_SLEEPING_DAYS)
    try:
        days = int(str(value).strip())
    except ValueError:
        days = 0
    if not 7 <= days <= 3650:
        raise ConfigError("REGULARS_SLEEPING_AFTER_DAYS must be a whole number of days"
                          f" from 7 to 3650 (default {DEFAULT_SLEEPING_DAYS}), got {value!r}.")
    return timedelta(days=days)


def load_settings(extra: Mapping[str, Any], *, testing: bool = False) -> PushSettings | None:
    """Push settings from the app's ``REGULARS_*`` extras; None when push is off (no keys).

    A wrong value raises :class:`~webapp.config.ConfigError` naming the setting.
    """
    sleeping = sleeping_after(extra)
    private, public, subject = (str(extra.get(name) or "").strip() for name in
                                ("VAPID_PRIVATE_KEY", "VAPID_PUBLIC_KEY", "VAPID_SUBJECT"))
    if not private and not public:
        return None
    if not private or not public:
        raise ConfigError("Set both REGULARS_VAPID_PRIVATE_KEY and REGULARS_VAPID_PUBLIC_KEY"
                          " (`regulars push keys` prints a pair), or neither to turn web"
                          " push off.")
    raw = decode_base64url(private)
    try:
        if raw is None or len(raw) != 32:
            raise ValueError("not 32 bytes")
        key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    except ValueError:
        raise ConfigError("REGULARS_VAPID_PRIVATE_KEY must be a raw 32-byte P-256 key in"
                          " base64url, as `regulars push keys` prints it.") from None
    derived = _public_bytes(key)
    if decode_base64url(public) != derived:
        raise ConfigError("REGULARS_VAPID_PUBLIC_KEY does not belong to"
                          " REGULARS_VAPID_PRIVATE_KEY: paste the pair `regulars push keys`"
                          " printed.")
    if not re.fullmatch(r"mailto:[^@\s]+@[^@\s]+|https://[^\s]+", subject):
        raise ConfigError("REGULARS_VAPID_SUBJECT must be a mailto: address (or an https://"
                          " URL) push services can contact, e.g. mailto:admin@example.ru.")
    allow_local = testing or str(extra.get("PUSH_ALLOW_LOCAL") or "").strip().lower() in (
        "1", "true", "yes", "on")
    return PushSettings(encode_base64url(derived), key, subject, allow_local, sleeping)


def settings_of(app: Any) -> PushSettings | None:
    """The Flask app's push settings, parsed once and kept in ``app.extensions``."""
    if EXTENSION not in app.extensions:
        app.extensions[EXTENSION] = load_settings(app.config["REGULARS"].extra,
                                                  testing=bool(app.testing))
    settings: PushSettings | None = app.extensions[EXTENSION]
    return settings
