"""Apple's PassKit web service: what iOS asks about a pass, answered from the database.

The routes (``wallet/apple/webservice.py``) stay thin; the rules are here:

- A pass is found by its serial and belongs to an active customer; anything else is
  "not found" (404), never a hint that the serial exists.
- Register, unregister and the latest pass need ``Authorization: ApplePass <token>``
  with the pass's own token (derived from the secret key and the serial by
  ``wallet.apple.settings.auth_token``; the caller passes the expected value). The
  list of updated serials is authenticated by the device library identifier alone,
  as Apple specifies.
- The update tag (``lastUpdated`` / ``passesUpdatedSince``) is opaque to iOS: here,
  microseconds since the epoch. It is a watermark :data:`COMMIT_LAG` behind the
  clock, so a change whose transaction committed a little after the list was
  answered is still listed next time (at worst a pass is listed twice, and iOS's
  second download is a 304).
- ``Last-Modified`` has whole seconds: :func:`last_modified` and :func:`not_modified`
  make sure two versions within one second never look the same to a device.

Functions take the caller's unit of work (or session) and run in scopes of their own:
the writes commit when done, the reads end their transaction before iOS downloads
anything (the routes do nothing else with the session).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.domain.clock import utcnow
from webapp.domain.errors import DomainError, InvalidInput, NotFound
from webapp.domain.wording import language_of_locale
from webapp.persistence.models import Business, Customer, PassRegistration, WalletPass
from webapp.services.unit_of_work import UnitOfWork, Work, reads, writes

# Apple's identifiers are short ASCII strings; anything else is refused with a 400
# before it reaches the database or a URL (the push token goes into APNs's path).
DEVICE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
PUSH_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,200}")
SERIAL = re.compile(r"[A-Za-z0-9._-]{1,32}")  # WalletPass.serial is String(32)
TAG = re.compile(r"[0-9]{1,19}")
COMMIT_LAG = timedelta(minutes=1)
SCHEME = "ApplePass"
MAX_LOG_ENTRIES = 10  # the endpoint is open (Apple defines it so): keep what it can write small
MAX_LOG_LENGTH = 300
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Unauthorized(DomainError):
    """The request does not carry the pass's authentication token."""

    code = "unauthorized"
    status = 401


class UnknownPass(NotFound):
    code = "unknown_pass"


@dataclass(frozen=True)
class Updated:
    """The answer to "which passes changed since": serials and the next tag."""

    serials: list[str]
    last_updated: str


@dataclass(frozen=True)
class PassRow:
    """A pass iOS asked about, with what its rebuild needs."""

    id: int
    serial: str
    business_id: int
    customer_id: int
    updated_at: datetime
    locale: str

    @property
    def lang(self) -> str:
        """The language the pass is built in: the business's (Russian unless English)."""
        return language_of_locale(self.locale)


def authorized(header: str | None, expected: str) -> bool:
    """Whether an ``Authorization`` header is ``ApplePass <expected>`` (constant time)."""
    if not header or not expected:
        return False
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != SCHEME.lower():  # schemes are case-insensitive (RFC 9110)
        return False
    return hmac.compare_digest(token.strip().encode(), expected.encode())


def require_authorized(header: str | None, expected: str) -> None:
    """Raise :class:`Unauthorized` unless the header carries ``expected``."""
    if not authorized(header, expected):
        raise Unauthorized()


def check_device(device_id: str) -> str:
    """``device_id`` when it is a well-formed device library identifier."""
    if not isinstance(device_id, str) or not DEVICE_ID.fullmatch(device_id):
        raise InvalidInput("device_id_malformed")
    return device_id


def push_token_of(body: Any) -> str:
    """The ``pushToken`` of a registration body (``{"pushToken": "..."}``)."""
    token = body.get("pushToken") if isinstance(body, dict) else None
    if not isinstance(token, str) or not PUSH_TOKEN.fullmatch(token):
        raise InvalidInput("push_token_body_malformed")
    return token


@reads
def find(session: Session, serial: str) -> PassRow:
    """The pass with this serial, of an active customer; :class:`UnknownPass` otherwise."""
    if not isinstance(serial, str) or not SERIAL.fullmatch(serial):
        raise UnknownPass()
    row = session.execute(
        select(WalletPass.id, WalletPass.serial, WalletPass.business_id,
               WalletPass.customer_id, WalletPass.updated_at, Business.locale)
        .join(Customer, Customer.id == WalletPass.customer_id)
        .join(Business, Business.id == WalletPass.business_id)
        .where(WalletPass.serial == serial, Customer.status == "active")).first()
    if row is None:
        raise UnknownPass()
    return PassRow(*row)


def register(work: Work, *, device_id: str, serial: str, push_token: str) -> bool:
    """Remember that this device wants pushes for this pass; commits. True when the
    registration is new (Apple's 201); False when it existed (200), its push token
    replaced if the device sent a new one."""
    check_device(device_id)
    if not PUSH_TOKEN.fullmatch(push_token):
        raise InvalidInput("push_token_malformed")
    uow = UnitOfWork.of(work)
    outermost = uow.depth == 0
    try:
        with uow.write() as session:
            found = find(session, serial)
            if _replace_token(session, found.id, device_id, push_token):
                return False
            session.add(PassRegistration(business_id=found.business_id, device_id=device_id,
                                         push_token=push_token, pass_id=found.id))
        return True
    except IntegrityError:  # the same device registered at the same moment: it exists now
        if not outermost:  # the caller's transaction failed; only it can retry
            raise
        with uow.write() as session:
            _replace_token(session, found.id, device_id, push_token)
        return False


@writes
def unregister(session: Session, *, device_id: str, serial: str) -> None:
    """Forget the device's registration for this pass, if any; commits."""
    check_device(device_id)
    found = find(session, serial)
    session.execute(delete(PassRegistration).where(PassRegistration.pass_id == found.id,
                                                   PassRegistration.device_id == device_id))


@reads
def updated_since(session: Session, device_id: str, tag: str | None,
                  now: datetime | None = None) -> Updated | None:
    """The serials of this device's passes changed since ``tag`` (all of them without
    a usable tag), or None when there are none (Apple's 204). A read scope: it ends
    before the answer, so nothing is held while iOS downloads."""
    check_device(device_id)
    since = from_tag(tag)
    query = (select(WalletPass.serial)
             .join(PassRegistration, PassRegistration.pass_id == WalletPass.id)
             .join(Customer, Customer.id == WalletPass.customer_id)
             .where(PassRegistration.device_id == device_id, Customer.status == "active")
             .order_by(WalletPass.serial))
    if since is not None:
        query = query.where(WalletPass.updated_at > since)
    serials: Sequence[str] = list(session.scalars(query))
    if not serials:
        return None
    watermark = (now or utcnow()) - COMMIT_LAG
    if since is not None:
        watermark = max(watermark, since)  # a tag never goes back, whatever the clocks say
    return Updated(list(serials), to_tag(watermark))


def to_tag(moment: datetime) -> str:
    """An update tag: microseconds since the epoch, as text."""
    delta = moment.astimezone(UTC) - _EPOCH
    return str((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)


def from_tag(tag: str | None) -> datetime | None:
    """The moment an update tag stands for; None for no tag or one we did not make
    (then every pass is listed, as Apple asks for a request without a tag)."""
    if not tag or not TAG.fullmatch(tag):
        return None
    try:
        return _EPOCH + timedelta(microseconds=int(tag))
    except OverflowError:
        return None


def last_modified(updated_at: datetime, now: datetime | None = None) -> datetime:
    """``Last-Modified`` for a pass version, in whole seconds.

    The version's second rounded up, once that second is over; while it lasts (a
    download right after a change) the second rounded down instead. A later version
    therefore always has a later ``Last-Modified`` than any the device was given, so
    :func:`not_modified` never hides it; the price is one full download now and then.
    """
    now = now or utcnow()
    up = _ceil_second(updated_at)
    return up if now >= up else updated_at.replace(microsecond=0)


def not_modified(updated_at: datetime, if_modified_since: datetime | None) -> bool:
    """Whether a device holding the version of ``If-Modified-Since`` already has this one."""
    if if_modified_since is None:
        return False
    if if_modified_since.tzinfo is None:
        if_modified_since = if_modified_since.replace(tzinfo=UTC)
    return if_modified_since >= _ceil_second(updated_at)


def log_lines(body: Any) -> list[str]:
    """The messages of a log body (``{"logs": ["...", ...]}``), cut to a sane size."""
    logs = body.get("logs") if isinstance(body, dict) else None
    if not isinstance(logs, list) or not all(isinstance(line, str) for line in logs):
        raise InvalidInput("logs_body_malformed")
    # One log record per message: control characters (newlines) cannot forge others.
    return [_CONTROL.sub(" ", line)[:MAX_LOG_LENGTH] for line in logs[:MAX_LOG_ENTRIES]]


def _replace_token(session: Session, pass_id: int, device_id: str, push_token: str) -> bool:
    """Set the push token of an existing registration; False when there is none."""
    existing = session.scalar(select(PassRegistration.id).where(
        PassRegistration.pass_id == pass_id, PassRegistration.device_id == device_id))
    if existing is None:
        return False
    session.execute(update(PassRegistration).where(PassRegistration.id == existing)
                    .where(PassRegistration.push_token != push_token)
                    .values(push_token=push_token))
    return True


def _ceil_second(moment: datetime) -> datetime:
    whole = moment.replace(microsecond=0)
    return whole if moment.microsecond == 0 else whole + timedelta(seconds=1)
