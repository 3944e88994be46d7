"""Apple Wallet settings: the pass type, the team, the certificates that sign passes.

Read from the app's ``REGULARS_*`` settings (``Settings.extra``, without the prefix).
With none of them set Apple Wallet is off: :func:`load` returns None and nothing
offers a pass. With some set, every problem is said in plain words by
:func:`problems` (and ``regulars wallet check``):

- ``APPLE_PASS_TYPE_ID``: the pass type identifier, e.g. ``pass.ru.example.loyalty``
  (the UID in the certificate's subject).
- ``APPLE_TEAM_ID``: the Apple developer team, e.g. ``A1B2C3D4E5`` (the certificate's OU).
- ``APPLE_PASS_CERT``: PEM file of the "Pass Type ID" certificate.
- ``APPLE_PASS_KEY``: PEM file of its private key (may be the same file as the cert);
  ``APPLE_PASS_KEY_PASSWORD`` if the key is encrypted.
- ``APPLE_WWDR_CERT``: PEM file of Apple's WWDR intermediate that issued the certificate
  (put into every signature, as Apple requires).
- ``APNS_URL``: where pushes go (default Apple's production service).

The files are read and the key decrypted once; the :class:`AppleSettings` object keeps
them, so signing a pass costs no file access.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from webapp.config import ConfigError

EXTENSION = "regulars_apple"  # app.extensions key of the loaded settings (None: Apple off)
APNS_PRODUCTION = "https://api.push.apple.com"
REQUIRED = ("APPLE_PASS_TYPE_ID", "APPLE_TEAM_ID", "APPLE_PASS_CERT", "APPLE_PASS_KEY",
            "APPLE_WWDR_CERT")
OPTIONAL = ("APPLE_PASS_KEY_PASSWORD", "APNS_URL")
_KEY_BLOCK = re.compile(rb"-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----.+?"
                        rb"-----END \1-----", re.S)

_WHAT = {
    "APPLE_PASS_TYPE_ID": "the pass type ID from Apple's developer account, e.g."
                          " pass.ru.example.loyalty",
    "APPLE_TEAM_ID": "the 10-character team ID of the Apple developer account",
    "APPLE_PASS_CERT": "the PEM file of the \"Pass Type ID\" certificate",
    "APPLE_PASS_KEY": "the PEM file of the pass certificate's private key",
    "APPLE_WWDR_CERT": "the PEM file of Apple's WWDR intermediate certificate (G4, from"
                       " apple.com/certificateauthority); iPhones refuse passes signed"
                       " without it",
}

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
log = logging.getLogger("regulars.wallet")


@dataclass(frozen=True)
class AppleSettings:
    """Apple Wallet is on: identifiers, the parsed certificates and key, file paths
    (the APNs client's TLS needs them as files) and the APNs address."""

    pass_type_id: str
    team_id: str
    certificate: x509.Certificate
    private_key: SigningKey = field(repr=False)
    wwdr_certificate: x509.Certificate
    cert_path: Path
    key_path: Path
    key_password: str | None = field(default=None, repr=False)
    apns_url: str = APNS_PRODUCTION

    @property
    def valid_until(self) -> datetime:
        return self.certificate.not_valid_after_utc


def _text(extra: Mapping[str, Any], name: str) -> str:
    return str(extra.get(name) or "").strip()


def configured(extra: Mapping[str, Any]) -> bool:
    """Whether any Apple Wallet setting is given (none: Apple Wallet is simply off)."""
    return any(_text(extra, name) for name in (*REQUIRED, "APPLE_PASS_KEY_PASSWORD"))


def problems(extra: Mapping[str, Any], now: datetime | None = None) -> list[str]:
    """Everything wrong with the Apple Wallet settings, in plain words (empty: ready, or
    not configured at all; see :func:`configured`)."""
    return _read(extra, now or datetime.now(UTC))[1]


def load(extra: Mapping[str, Any], now: datetime | None = None) -> AppleSettings | None:
    """The settings, files read and checked; None when Apple Wallet is not configured.

    Raises :class:`~webapp.config.ConfigError` listing every problem otherwise.
    """
    settings, found = _read(extra, now or datetime.now(UTC))
    if found:
        raise ConfigError("Apple Wallet is misconfigured: " + " ".join(found))
    return settings


def settings_of(app: Any) -> AppleSettings | None:
    """The Flask app's Apple settings, loaded once and kept in ``app.extensions``.

    A misconfiguration is logged and turns Apple Wallet off (no "Add to Apple Wallet"
    button, no pass served) instead of failing requests; ``regulars wallet check``
    says what is wrong.
    """
    if EXTENSION not in app.extensions:
        try:
            app.extensions[EXTENSION] = load(app.config["REGULARS"].extra)
        except ConfigError as error:
            log.warning("%s Apple Wallet is off until this is fixed.", error)
            app.extensions[EXTENSION] = None
    settings: AppleSettings | None = app.extensions[EXTENSION]
    return settings


def auth_token(secret_key: str, serial: str) -> str:
    """The pass's ``authenticationToken``: HMAC-SHA256 of its serial under the app's
    secret key, base64url without padding (43 characters; Apple wants at least 16).
    Nothing is stored; the web service recomputes it (compare with hmac.compare_digest)."""
    mac = hmac.new(secret_key.encode(), b"apple-pass-token:" + serial.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode("ascii")


def _read(extra: Mapping[str, Any], now: datetime) -> tuple[AppleSettings | None, list[str]]:
    if not configured(extra):
        return None, []
    found: list[str] = []
    found.extend(f"REGULARS_{name} is not set: {_WHAT[name]}." for name in REQUIRED
                 if not _text(extra, name))
    pass_type_id, team_id = _text(extra, "APPLE_PASS_TYPE_ID"), _text(extra, "APPLE_TEAM_ID")
    if pass_type_id and not pass_type_id.startswith("pass."):
        found.append(f"REGULARS_APPLE_PASS_TYPE_ID is {pass_type_id!r}, but pass type"
                     " identifiers start with \"pass.\" (e.g. pass.ru.example.loyalty).")
    apns_url = _text(extra, "APNS_URL").rstrip("/") or APNS_PRODUCTION
    parts = urlsplit(apns_url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        found.append(f"REGULARS_APNS_URL must be an https address, got {apns_url!r}"
                     f" (leave it unset for Apple's {APNS_PRODUCTION}).")

    certificate = _certificate(extra, "APPLE_PASS_CERT", "pass certificate", found)
    password = _text(extra, "APPLE_PASS_KEY_PASSWORD") or None
    key = _private_key(extra, password, found)
    wwdr = _certificate(extra, "APPLE_WWDR_CERT", "Apple WWDR intermediate certificate",
                        found)
    if certificate is not None:
        _check_certificate(certificate, pass_type_id, team_id, now, found)
        if key is not None and not _same_public_key(certificate, key):
            found.append(f"The private key in {_text(extra, 'APPLE_PASS_KEY')} does not"
                         " belong to the certificate in"
                         f" {_text(extra, 'APPLE_PASS_CERT')} (their public keys differ):"
                         " export the key and the certificate of the same pass type ID.")
        if wwdr is not None:
            _check_wwdr(certificate, wwdr, now, found)
    if found or certificate is None or key is None or wwdr is None:
        return None, found
    return AppleSettings(
        pass_type_id=pass_type_id, team_id=team_id, certificate=certificate,
        private_key=key, wwdr_certificate=wwdr,
        cert_path=Path(_text(extra, "APPLE_PASS_CERT")),
        key_path=Path(_text(extra, "APPLE_PASS_KEY")), key_password=password,
        apns_url=apns_url), []


def _file(extra: Mapping[str, Any], name: str, what: str, found: list[str]) -> bytes | None:
    path = _text(extra, name)
    if not path:
        return None
    try:
        return Path(path).expanduser().read_bytes()
    except OSError as error:
        found.append(f"The {what} file REGULARS_{name}={path} cannot be read"
                     f" ({error.strerror or error}).")
        return None


def _certificate(extra: Mapping[str, Any], name: str, what: str,
                 found: list[str]) -> x509.Certificate | None:
    data = _file(extra, name, what, found)
    if data is None:
        return None
    try:
        return x509.load_pem_x509_certificates(data)[0]
    except ValueError:
        found.append(f"REGULARS_{name} ({_text(extra, name)}) holds no PEM certificate"
                     " (-----BEGIN CERTIFICATE-----); convert a .cer file with"
                     " `openssl x509 -inform DER -in file.cer -out file.pem`.")
        return None


def _private_key(extra: Mapping[str, Any], password: str | None,
                 found: list[str]) -> SigningKey | None:
    data = _file(extra, "APPLE_PASS_KEY", "private key", found)
    if data is None:
        return None
    path = _text(extra, "APPLE_PASS_KEY")
    block = _KEY_BLOCK.search(data)
    if block is None:
        found.append(f"REGULARS_APPLE_PASS_KEY ({path}) holds no PEM private key"
                     " (-----BEGIN PRIVATE KEY-----).")
        return None
    try:
        try:
            key = serialization.load_pem_private_key(
                block.group(0), password.encode() if password else None)
        except TypeError as error:
            if password and "not encrypted" in str(error):  # a password it does not need
                key = serialization.load_pem_private_key(block.group(0), None)
            else:
                raise
    except TypeError:
        found.append(f"The private key in {path} is encrypted: set"
                     " REGULARS_APPLE_PASS_KEY_PASSWORD to its password.")
        return None
    except ValueError:
        if password:
            found.append("REGULARS_APPLE_PASS_KEY_PASSWORD is wrong: it does not open the"
                         f" private key in {path}.")
        else:
            found.append(f"The private key in {path} cannot be read (a damaged or"
                         " unsupported PEM file).")
        return None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        found.append(f"The private key in {path} is neither RSA nor EC; Apple pass"
                     " certificates use RSA keys.")
        return None
    return key


def _subject(certificate: x509.Certificate, oid: x509.ObjectIdentifier) -> str | None:
    values = certificate.subject.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


def _check_certificate(certificate: x509.Certificate, pass_type_id: str, team_id: str,
                       now: datetime, found: list[str]) -> None:
    if now >= certificate.not_valid_after_utc:
        found.append(f"The pass certificate expired on {_day(certificate.not_valid_after_utc)}:"
                     " make a new one for the pass type ID in Apple's developer account"
                     " (passes signed with it are refused by iPhones).")
    elif now < certificate.not_valid_before_utc:
        found.append("The pass certificate is not valid yet: it starts on"
                     f" {_day(certificate.not_valid_before_utc)} (check the server's clock).")
    uid = _subject(certificate, NameOID.USER_ID)
    if uid is None:
        found.append("The pass certificate has no pass type ID (UID) in its subject: it is"
                     " not an Apple \"Pass Type ID\" certificate.")
    elif pass_type_id and uid != pass_type_id:
        found.append(f"REGULARS_APPLE_PASS_TYPE_ID is {pass_type_id!r}, but the certificate"
                     f" is for the pass type ID {uid!r}.")
    ou = _subject(certificate, NameOID.ORGANIZATIONAL_UNIT_NAME)
    if ou is None:
        found.append("The pass certificate names no team (OU) in its subject: it is not an"
                     " Apple \"Pass Type ID\" certificate.")
    elif team_id and ou != team_id:
        found.append(f"REGULARS_APPLE_TEAM_ID is {team_id!r}, but the certificate belongs to"
                     f" the team {ou!r}.")


def _check_wwdr(certificate: x509.Certificate, wwdr: x509.Certificate, now: datetime,
                found: list[str]) -> None:
    try:
        certificate.verify_directly_issued_by(wwdr)
    except (ValueError, TypeError, InvalidSignature):
        found.append("REGULARS_APPLE_WWDR_CERT is not the intermediate that issued the pass"
                     f" certificate (the pass certificate's issuer is"
                     f" {certificate.issuer.rfc4514_string()!r}); download that Apple WWDR"
                     " certificate (e.g. G4) from apple.com/certificateauthority.")
        return
    if not wwdr.not_valid_before_utc <= now < wwdr.not_valid_after_utc:
        found.append("The Apple WWDR intermediate certificate is outside its validity"
                     f" ({_day(wwdr.not_valid_before_utc)} to {_day(wwdr.not_valid_after_utc)}):"
                     " download the current one from apple.com/certificateauthority.")


def _same_public_key(certificate: x509.Certificate, key: SigningKey) -> bool:
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    return bool(certificate.public_key().public_bytes(der, spki)
                == key.public_key().public_bytes(der, spki))


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
