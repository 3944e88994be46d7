"""Pushes to Apple Wallet: "this pass changed", sent by ``regulars worker`` over APNs.

Apple's recipe for a pass update (Wallet Passes, "Adding a Web Service to Update
Passes"): POST an empty JSON dictionary to the device's push token, with the pass type
identifier as the topic, authenticated with the pass certificate and key that sign the
passes; the device then asks the web service (``webservice.py``) what changed. Pass
pushes work on Apple's production service only (the default ``REGULARS_APNS_URL``).

APNs speaks HTTP/2 only (``httpx`` with ``h2``):

- ``POST {apns_url}/3/device/<push token>``, body ``{}``;
- ``apns-topic``: the pass type identifier; ``apns-push-type: background`` (the push
  shows nothing itself: iOS fetches the pass, whose ``changeMessage`` makes the
  notification) with ``apns-priority: 5``, the priority APNs requires for that type;
- certificate authentication (the default: the pass certificate as the TLS client
  certificate), or token authentication when ``REGULARS_APNS_KEY_FILE`` is set:
  ``authorization: bearer <JWT>``, an ES256 JWT (``kid`` = ``REGULARS_APNS_KEY_ID``,
  ``iss`` = ``REGULARS_APNS_TEAM_ID``, default the pass's team) signed with the .p8
  key and renewed every 50 minutes (APNs refuses tokens older than an hour and
  throttles renewals more often than every 20 minutes).

Answers: 200 is done; 410 (the token is no longer active for the topic) and 400
``BadDeviceToken`` / ``DeviceTokenNotForTopic`` remove the registration; anything else
(403, 429, 5xx, no answer) raises, and the outbox tries again with backoff (the
outbox sender, which reads and removes registrations, is
:class:`webapp.services.wallet.apple_passes.ApnsSender`).
``REGULARS_APNS_CA_FILE`` (a PEM bundle) replaces the public CAs for APNs's server
certificate: the tests' stand-in uses it. A file that cannot be read or holds no
certificate turns the pushes off (``webapp.cli.wallet_senders.apple_senders``), like any
other wrong APNs setting.
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from wallet.apple.settings import AppleSettings
from webapp.config import ConfigError
from webapp.services.wallet.passkit import PUSH_TOKEN

BODY = b"{}"  # Apple: "an empty JSON dictionary for the payload"
PUSH_TYPE = "background"
PRIORITY = "5"  # APNs requires 5 for background pushes
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
TOKEN_LIFETIME = 50 * 60  # seconds: APNs wants a new JWT within the hour, not within 20 min
GONE_REASONS = frozenset({"BadDeviceToken", "DeviceTokenNotForTopic"})  # with a 400


class ApnsRejected(RuntimeError):
    """APNs did not take the push, for a reason that may pass: try again later."""


@dataclass(frozen=True)
class Reply:
    """APNs's answer to one push: the status, and for errors its ``reason`` and (for
    410) the ``timestamp`` (ms) when the token stopped being valid."""

    status: int
    reason: str | None = None
    timestamp: int | None = None
    apns_id: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status == 200

    @property
    def gone(self) -> bool:
        """The push token is of no more use: forget the registration."""
        return self.status == 410 or (self.status == 400 and self.reason in GONE_REASONS)


class ProviderToken:
    """APNs token authentication: an ES256 JWT from a .p8 key, reused for 50 minutes."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, key_id: str, team_id: str, *,
                 lifetime: float = TOKEN_LIFETIME,
                 clock: Callable[[], float] = time.time) -> None:
        if not isinstance(key.curve, ec.SECP256R1):
            raise ConfigError("The APNs key (REGULARS_APNS_KEY_FILE) must be a P-256 EC key,"
                              " as Apple's .p8 keys are.")
        self.key, self.key_id, self.team_id = key, key_id, team_id
        self._lifetime, self._clock = lifetime, clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._issued = 0.0

    def current(self) -> str:
        """The JWT to send now (a new one once the last is 50 minutes old)."""
        with self._lock:
            now = self._clock()
            if self._token is None or now - self._issued >= self._lifetime:
                self._token, self._issued = self._sign(int(now)), now
            return self._token

    def expire(self) -> None:
        """Make the next push sign a new JWT (APNs said ``ExpiredProviderToken``)."""
        with self._lock:
            self._token = None

    def _sign(self, issued_at: int) -> str:
        header = _b64(json.dumps({"alg": "ES256", "kid": self.key_id},
                                 separators=(",", ":")).encode())
        claims = _b64(json.dumps({"iss": self.team_id, "iat": issued_at},
                                 separators=(",", ":")).encode())
        signing_input = f"{header}.{claims}".encode("ascii")
        r, s = decode_dss_signature(self.key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        # JWS wants the raw 64-byte r||s, not the DER that cryptography returns.
        return f"{header}.{claims}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def provider_token(extra: Mapping[str, Any], team_id: str) -> ProviderToken | None:
    """Token authentication from ``REGULARS_APNS_KEY_FILE`` / ``_KEY_ID`` / ``_TEAM_ID``,
    or None (certificate authentication) when no key file is set."""
    key_file = str(extra.get("APNS_KEY_FILE") or "").strip()
    key_id = str(extra.get("APNS_KEY_ID") or "").strip()
    team = str(extra.get("APNS_TEAM_ID") or "").strip() or team_id
    if not key_file:
        if key_id or extra.get("APNS_TEAM_ID"):
            raise ConfigError("REGULARS_APNS_KEY_ID/REGULARS_APNS_TEAM_ID are set but"
                              " REGULARS_APNS_KEY_FILE (the .p8 key) is not.")
        return None
    if not key_id.isalnum():
        raise ConfigError("REGULARS_APNS_KEY_ID must be the key's 10-character ID from"
                          " Apple's developer account.")
    try:
        key = serialization.load_pem_private_key(Path(key_file).expanduser().read_bytes(),
                                                 None)
    except OSError as error:
        raise ConfigError(f"The APNs key REGULARS_APNS_KEY_FILE={key_file} cannot be read"
                          f" ({error.strerror or error}).") from None
    except (ValueError, TypeError):
        raise ConfigError(f"REGULARS_APNS_KEY_FILE ({key_file}) holds no unencrypted PEM"
                          " private key (Apple's .p8 file).") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ConfigError("The APNs key (REGULARS_APNS_KEY_FILE) must be an EC key, as"
                          " Apple's .p8 keys are.")
    return ProviderToken(key, key_id, team)


def tls_context(*, ca_file: str | Path | None = None, cert_file: str | Path | None = None,
                key_file: str | Path | None = None,
                key_password: str | None = None) -> ssl.SSLContext:
    """TLS 1.2+ to APNs: its server certificate checked against ``ca_file`` (default the
    public CAs), and our client certificate when given (certificate authentication).

    Raises :class:`ConfigError` naming the setting when a file cannot be used.
    """
    import certifi

    try:
        if ca_file is None:
            context = ssl.create_default_context(cafile=certifi.where())
        else:
            context = ssl.create_default_context(cadata=_ca_bundle(ca_file))
    except ssl.SSLError as error:
        raise ConfigError(f"REGULARS_APNS_CA_FILE ({ca_file}) cannot be used as the CAs"
                          f" for APNs ({error.reason or error}).") from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert_file is not None:
        try:
            context.load_cert_chain(str(cert_file), str(key_file) if key_file else None,
                                    password=key_password)
        except OSError as error:  # ssl.SSLError too
            raise ConfigError("APNs cannot use the pass certificate and key"
                              f" (REGULARS_APPLE_PASS_CERT={cert_file},"
                              f" REGULARS_APPLE_PASS_KEY={key_file}):"
                              f" {getattr(error, 'reason', None) or error}.") from None
    return context


def _ca_bundle(ca_file: str | Path) -> str:
    """The certificates of ``REGULARS_APNS_CA_FILE`` as PEM text (only the certificates,
    so nothing else in the file reaches OpenSSL)."""
    try:
        data = Path(ca_file).expanduser().read_bytes()
    except OSError as error:
        raise ConfigError(f"REGULARS_APNS_CA_FILE={ca_file} cannot be read"
                          f" ({error.strerror or error}): set it to a PEM file of the CAs"
                          " that APNs's server certificate chains to, or leave it unset for"
                          " the public CAs.") from None
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise ConfigError(f"REGULARS_APNS_CA_FILE ({ca_file}) holds no PEM certificate"
                          " (-----BEGIN CERTIFICATE-----): set it to the CAs that APNs's"
                          " server certificate chains to, or leave it unset for the public"
                          " CAs.") from None
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii")
                   for c in certificates)


class ApnsClient:
    """One HTTP/2 connection to APNs for pushes to one topic (kept open between pushes)."""

    def __init__(self, base_url: str, topic: str, *, tls: ssl.SSLContext,
                 token: ProviderToken | None = None,
                 timeout: httpx.Timeout | float = TIMEOUT) -> None:
        self.base_url, self.topic, self.token = base_url.rstrip("/"), topic, token
        self._http = httpx.Client(http1=False, http2=True, verify=tls, timeout=timeout)

    def push(self, device_token: str) -> Reply:
        """Tell the device behind ``device_token`` that its pass changed."""
        if not PUSH_TOKEN.fullmatch(device_token):
            return Reply(400, "BadDeviceToken")  # never put anything else into the path
        headers = {"apns-topic": self.topic, "apns-push-type": PUSH_TYPE,
                   "apns-priority": PRIORITY, "content-type": "application/json"}
        if self.token is not None:
            headers["authorization"] = f"bearer {self.token.current()}"
        response = self._http.post(f"{self.base_url}/3/device/{device_token}",
                                   content=BODY, headers=headers)
        reply = _reply(response)
        if reply.reason == "ExpiredProviderToken" and self.token is not None:
            self.token.expire()
        return reply

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApnsClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def client_for(settings: AppleSettings, extra: Mapping[str, Any]) -> ApnsClient:
    """The client the settings ask for: token authentication when a .p8 key is set,
    otherwise the pass certificate and key."""
    token = provider_token(extra, settings.team_id)
    ca_file = str(extra.get("APNS_CA_FILE") or "").strip() or None
    if token is not None:
        tls = tls_context(ca_file=ca_file)
    else:
        tls = tls_context(ca_file=ca_file, cert_file=settings.cert_path,
                          key_file=settings.key_path, key_password=settings.key_password)
    return ApnsClient(settings.apns_url, settings.pass_type_id, tls=tls, token=token)


def _reply(response: httpx.Response) -> Reply:
    reason: str | None = None
    timestamp: int | None = None
    if response.content:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            reason = body.get("reason") if isinstance(body.get("reason"), str) else None
            stamp = body.get("timestamp")
            timestamp = stamp if isinstance(stamp, int) and not isinstance(stamp, bool) \
                else None
    return Reply(response.status_code, reason, timestamp, response.headers.get("apns-id"))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
