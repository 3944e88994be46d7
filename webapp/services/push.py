"""Web push to the customer app, opt-in: points credited, a new tier, points about to
expire, and a reminder to customers who have been away a long time with points left.

Messages go through the outbox (kind ``webpush``, one job per browser subscription)
and are sent by ``regulars worker`` with :func:`sender`: VAPID-signed (RFC 8292),
encrypted with aes128gcm (RFC 8291) by pywebpush. A push service answering 404 or
410 means the browser dropped the subscription: its row is deleted and the job is
done. Any other failure raises, so the outbox tries again later.

Settings (``REGULARS_*``; without the two keys push is off and nothing is offered):

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
import ipaddress
import json
import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import Table, bindparam, delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.config import ConfigError
from webapp.domain.errors import InvalidInput, NotFound
from webapp.domain.wording import NNBSP, format_points, plural
from webapp.persistence.base import utcnow
from webapp.persistence.models import (
    Account,
    Business,
    Consent,
    Customer,
    Lot,
    Order,
    PushReminder,
    PushSubscription,
)
from webapp.services import outbox
from webapp.services.customer_sign_in import Who

KIND = "webpush"
EXTENSION = "regulars_push"  # app.extensions key of the parsed settings (None: push off)
DEFAULT_SLEEPING_DAYS = 120
EXPIRING_WITHIN = timedelta(days=7)
MAX_PER_CUSTOMER = 10  # a customer's browsers; the oldest subscription goes first
ENDPOINT_MAX = 1024
TIMEOUT = 5.0  # seconds: the worker must not hang on a slow push service
TTL_NEWS = 24 * 3600  # how long a push service keeps an undelivered message
TTL_REMINDER = 3 * 24 * 3600
GONE = (404, 410)
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
_B64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# -- settings -----------------------------------------------------------------------


@dataclass(frozen=True)
class PushSettings:
    public_key: str  # base64url, what browsers get as applicationServerKey
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    subject: str
    allow_local: bool = False
    sleeping_after: timedelta = timedelta(days=DEFAULT_SLEEPING_DAYS)


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: Any) -> bytes | None:
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
    return _b64encode(raw), _b64encode(_public_bytes(key))


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
    raw = _b64decode(private)
    try:
        if raw is None or len(raw) != 32:
            raise ValueError("not 32 bytes")
        key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    except ValueError:
        raise ConfigError("REGULARS_VAPID_PRIVATE_KEY must be a raw 32-byte P-256 key in"
                          " base64url, as `regulars push keys` prints it.") from None
    derived = _public_bytes(key)
    if _b64decode(public) != derived:
        raise ConfigError("REGULARS_VAPID_PUBLIC_KEY does not belong to"
                          " REGULARS_VAPID_PRIVATE_KEY: paste the pair `regulars push keys`"
                          " printed.")
    if not re.fullmatch(r"mailto:[^@\s]+@[^@\s]+|https://[^\s]+", subject):
        raise ConfigError("REGULARS_VAPID_SUBJECT must be a mailto: address (or an https://"
                          " URL) push services can contact, e.g. mailto:admin@example.ru.")
    allow_local = testing or str(extra.get("PUSH_ALLOW_LOCAL") or "").strip().lower() in (
        "1", "true", "yes", "on")
    return PushSettings(_b64encode(derived), key, subject, allow_local, sleeping)


def settings_of(app: Any) -> PushSettings | None:
    """The Flask app's push settings, parsed once and kept in ``app.extensions``."""
    if EXTENSION not in app.extensions:
        app.extensions[EXTENSION] = load_settings(app.config["REGULARS"].extra,
                                                  testing=bool(app.testing))
    settings: PushSettings | None = app.extensions[EXTENSION]
    return settings


# -- subscriptions ------------------------------------------------------------------


def endpoint_allowed(endpoint: str, allow_local: bool = False) -> bool:
    """An https URL of a push service on a public host name (no address literals, no
    other port, no credentials); with ``allow_local`` also http(s)://127.0.0.1 or
    localhost on any port."""
    if any(ch <= " " or ch == "\x7f" for ch in endpoint):
        return False
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if parts.username is not None or parts.password is not None or not host:
        return False
    if allow_local and parts.scheme in ("http", "https") and host in LOCAL_HOSTS:
        return True
    if parts.scheme != "https" or port not in (None, 443) or "." not in host:
        return False
    if host.endswith((".localhost", ".local", ".internal", ".")):
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return True
    return False  # an address literal: push services have names


def _parse(subscription: Any, allow_local: bool) -> tuple[str, str, str]:
    """(endpoint, p256dh, auth) from a browser's ``PushSubscription.toJSON()``."""
    if not isinstance(subscription, Mapping):
        raise InvalidInput("A push subscription is a JSON object with an endpoint and keys.")
    endpoint = subscription.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > ENDPOINT_MAX:
        raise InvalidInput("The push endpoint must be a URL of at most 1024 characters.")
    if not endpoint_allowed(endpoint, allow_local):
        raise InvalidInput("The push endpoint must be an https address of a push service.")
    keys = subscription.get("keys")
    if not isinstance(keys, Mapping):
        raise InvalidInput("The push subscription has no keys.")
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    point = _b64decode(p256dh)
    try:
        if point is None or len(point) != 65:
            raise ValueError("not an uncompressed point")
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise InvalidInput("The subscription's p256dh key is not a P-256 public key.") from None
    secret = _b64decode(auth)
    if secret is None or len(secret) != 16:
        raise InvalidInput("The subscription's auth secret must be 16 bytes.")
    assert isinstance(p256dh, str) and isinstance(auth, str)
    return endpoint, p256dh.rstrip("="), auth.rstrip("=")


def subscribe(session: Session, who: Who, subscription: Any, *, allow_local: bool = False,
              now: datetime | None = None) -> None:
    """Keep a browser's subscription for the signed-in customer and commit.

    The same endpoint again updates its keys; an endpoint another customer had moves
    to this one (the browser now belongs to whoever signed in and subscribed). A
    customer keeps at most :data:`MAX_PER_CUSTOMER` browsers, the newest.
    """
    endpoint, p256dh, auth = _parse(subscription, allow_local)
    now = now or utcnow()
    for attempt in (1, 2):  # a concurrent subscribe of the same endpoint: update instead
        try:
            _store(session, who.customer_id, endpoint, p256dh, auth, now)
            session.commit()
            return
        except IntegrityError:
            session.rollback()
            if attempt == 2:
                raise


def _store(session: Session, customer_id: int, endpoint: str, p256dh: str, auth: str,
           now: datetime) -> None:
    row = session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    if row is None:
        session.add(PushSubscription(customer_id=customer_id, endpoint=endpoint,
                                     p256dh=p256dh, auth=auth, created_at=now))
    else:
        if row.customer_id != customer_id:  # another customer's browser: new to this one
            row.customer_id, row.created_at, row.last_sent_at = customer_id, now, None
        row.p256dh, row.auth = p256dh, auth
    session.flush()
    extra = session.scalars(
        select(PushSubscription.id).where(PushSubscription.customer_id == customer_id)
        .order_by(PushSubscription.created_at.desc(), PushSubscription.id.desc())
        .offset(MAX_PER_CUSTOMER)).all()
    if extra:
        session.execute(delete(PushSubscription).where(PushSubscription.id.in_(extra)))


def unsubscribe(session: Session, who: Who, endpoint: Any) -> bool:
    """Forget one of the customer's own browsers and commit; False if it was not theirs
    (or already gone): the answer is the same, so nobody learns about others' rows."""
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > ENDPOINT_MAX:
        raise InvalidInput("The push endpoint must be a URL of at most 1024 characters.")
    done = session.execute(delete(PushSubscription).where(
        PushSubscription.endpoint == endpoint, PushSubscription.customer_id == who.customer_id))
    session.commit()
    return bool(done.rowcount)  # type: ignore[attr-defined]


# -- messages (in the caller's transaction) -----------------------------------------

# Built once: a close that credits points runs _ANY, and _TARGETS only when subscribed.
_TARGETS = (
    select(PushSubscription.id, Customer.business_id, Business.name)
    .join(Customer, Customer.id == PushSubscription.customer_id)
    .join(Business, Business.id == Customer.business_id)
    .where(PushSubscription.customer_id == bindparam("customer"), Customer.status == "active")
    .order_by(PushSubscription.id)
)
# On the table (Core), not the entity: about half the cost of the ORM path per call.
_subscriptions = cast(Table, PushSubscription.__table__)
_ANY = select(_subscriptions.c.id).where(
    _subscriptions.c.customer_id == bindparam("customer")).limit(1)


def subscribed(session: Session, customer_id: int) -> bool:
    """Whether any of the customer's browsers takes push messages (one index lookup)."""
    return session.execute(_ANY, {"customer": customer_id}).first() is not None


def _number(n: int) -> str:
    return f"{n:,}".replace(",", NNBSP)


def credited_text(points: int, balance: int) -> str:
    """ "Начислено 120 баллов. Баланс: 450." """
    verb = plural(points, "Начислен", "Начислено", "Начислено")
    return f"{verb} {format_points(points, 'ru')}. Баланс: {_number(balance)}."


def tier_text(tier: str) -> str:
    return f"Ваш новый уровень: «{tier}»."


def _enqueue(session: Session, customer_id: int, targets: list[Any], body: str, tag: str, *,
             purpose: str = "service", ttl: int = TTL_NEWS) -> int:
    for subscription_id, business_id, name in targets:
        outbox.enqueue(session, kind=KIND, purpose=purpose, business_id=business_id,
                       customer_id=customer_id,
                       payload={"subscription_id": subscription_id, "title": name,
                                "body": body, "tag": tag, "url": f"/c/{business_id}/",
                                "ttl": ttl})
    return len(targets)


def _targets(session: Session, customer_id: int) -> list[Any]:
    return list(session.execute(_TARGETS, {"customer": customer_id}).all())


def points_credited(session: Session, customer_id: int, points: int, balance: int) -> int:
    """Queue "Начислено N баллов. Баланс: M." to the customer's browsers (no commit);
    returns the number of messages (0 without a subscription)."""
    if points <= 0:
        return 0
    return _enqueue(session, customer_id, _targets(session, customer_id),
                    credited_text(points, balance), "points")


def tier_reached(session: Session, customer_id: int, tier: str) -> int:
    """Queue "Ваш новый уровень: «…»." to the customer's browsers (no commit)."""
    return _enqueue(session, customer_id, _targets(session, customer_id), tier_text(tier),
                    "tier")


def on_close(session: Session, customer_id: int, *, points: int, balance: int,
             tier_before: str | None, tier_after: str | None) -> int:
    """After a close, in its transaction: one message per browser saying what was
    credited and, if the close reached a new tier, which. Without anything to say the
    database is not asked at all; without a subscription it is one index lookup
    (:func:`subscribed`)."""
    tier = tier_after if tier_after is not None and tier_after != tier_before else None
    if (points <= 0 and tier is None) or not subscribed(session, customer_id):
        return 0
    targets = _targets(session, customer_id)
    if not targets:  # subscribed, but the customer is blocked or gone
        return 0
    parts = ([credited_text(points, balance)] if points > 0 else []) + (
        [tier_text(tier)] if tier else [])
    return _enqueue(session, customer_id, targets, " ".join(parts),
                    "points" if points > 0 else "tier")


# -- reminders ----------------------------------------------------------------------


@dataclass(frozen=True)
class Reminded:
    expiring: int = 0  # customers told about points expiring within 7 days
    sleeping: int = 0  # customers away longer than the setting, with points left
    messages: int = 0  # outbox jobs written (one per browser)


def expiring_text(points: int, first: datetime, last: datetime) -> str:
    """ "14.02 сгорят 120 баллов. Потратьте их при следующем визите." """
    verb = plural(points, "сгорит", "сгорят", "сгорят")
    when = first.strftime("%d.%m") if first.date() == last.date() else (
        "До " + last.strftime("%d.%m"))
    return (f"{when} {verb} {format_points(points, 'ru')}."
            " Потратьте их при следующем визите.")


def sleeping_text(points: int) -> str:
    return (f"Давно вас не видели! На вашем счёте {format_points(points, 'ru')} — ими можно"
            " оплатить часть следующего заказа.")


def remind(session: Session, business_id: int, now: datetime, *,
           sleeping_after: timedelta = timedelta(days=DEFAULT_SLEEPING_DAYS)) -> Reminded:
    """Queue the reminders due now to subscribed customers (no commit):

    (a) points expiring within 7 days, once per lot (service message);
    (b) customers whose last paid order is older than ``sleeping_after`` and who have
        points, once per absence (advertising: only with advertising consent, which
        the outbox checks again when it sends).

    What was queued is recorded in ``push_reminders``, so running it again sends
    nothing new; run it daily from cron (``regulars push remind``).
    """
    business = session.get(Business, business_id)
    if business is None:
        raise NotFound("No such business.")
    zone = ZoneInfo(business.timezone)
    has_push = select(PushSubscription.customer_id)
    messages = 0

    lots = session.execute(
        select(Lot.id, Lot.customer_id, Lot.remaining, Lot.expires_at)
        .join(Customer, Customer.id == Lot.customer_id)
        .where(Lot.business_id == business_id, Lot.remaining > 0, Lot.expires_at > now,
               Lot.expires_at <= now + EXPIRING_WITHIN, Customer.status == "active",
               Lot.customer_id.in_(has_push),
               ~exists().where(PushReminder.customer_id == Lot.customer_id,
                               PushReminder.kind == "expiring", PushReminder.ref == Lot.id))
        .order_by(Lot.customer_id, Lot.expires_at, Lot.id)).all()
    by_customer: dict[int, list[Any]] = defaultdict(list)
    for lot in lots:
        by_customer[lot.customer_id].append(lot)
    for customer_id, own in by_customer.items():
        points = sum(lot.remaining for lot in own)
        first, last = own[0].expires_at.astimezone(zone), own[-1].expires_at.astimezone(zone)
        messages += _enqueue(session, customer_id, _targets(session, customer_id),
                             expiring_text(points, first, last), "expiring", ttl=TTL_REMINDER)
        session.add_all(PushReminder(customer_id=customer_id, kind="expiring", ref=lot.id,
                                     sent_at=now) for lot in own)

    last_paid = (
        select(Order.customer_id, func.max(Order.closed_at).label("last"))
        .where(Order.business_id == business_id, Order.closed_at.is_not(None),
               Order.total_minor > Order.refunded_minor, Order.customer_id.in_(has_push))
        .group_by(Order.customer_id).subquery())
    asleep = session.execute(
        select(last_paid.c.customer_id, last_paid.c.last, Account.balance)
        .join(Customer, Customer.id == last_paid.c.customer_id)
        .join(Account, (Account.customer_id == last_paid.c.customer_id)
              & (Account.kind == "available"))
        .where(last_paid.c.last < now - sleeping_after, Account.balance > 0,
               Customer.status == "active")
        .order_by(last_paid.c.customer_id)).all()
    consenting = _advertising_consent(session, {row.customer_id for row in asleep})
    reminded = {(row.customer_id, row.ref) for row in session.execute(
        select(PushReminder.customer_id, PushReminder.ref)
        .where(PushReminder.kind == "sleeping",
               PushReminder.customer_id.in_([row.customer_id for row in asleep])))}
    sleeping = 0
    for customer_id, last_order_at, balance in asleep:
        ref = (last_order_at - EPOCH) // timedelta(microseconds=1)  # this absence's mark
        if customer_id not in consenting or (customer_id, ref) in reminded:
            continue
        messages += _enqueue(session, customer_id, _targets(session, customer_id),
                             sleeping_text(balance), "sleeping", purpose="advertising",
                             ttl=TTL_REMINDER)
        session.add(PushReminder(customer_id=customer_id, kind="sleeping", ref=ref, sent_at=now))
        sleeping += 1
    session.flush()
    return Reminded(len(by_customer), sleeping, messages)


def send_reminders(session: Session, business_id: int, now: datetime | None = None, *,
                   sleeping_after: timedelta = timedelta(days=DEFAULT_SLEEPING_DAYS)
                   ) -> Reminded:
    """:func:`remind` as a use case: the jobs and their records commit together."""
    try:
        done = remind(session, business_id, now or utcnow(), sleeping_after=sleeping_after)
        session.commit()
        return done
    except BaseException:
        session.rollback()
        raise


def _advertising_consent(session: Session, customer_ids: set[int]) -> set[int]:
    """Those whose newest advertising consent record grants it (as the outbox checks)."""
    if not customer_ids:
        return set()
    latest: dict[int, bool] = {}
    for customer_id, granted in session.execute(
            select(Consent.customer_id, Consent.granted)
            .where(Consent.customer_id.in_(customer_ids), Consent.kind == "advertising")
            .order_by(Consent.customer_id, Consent.id.desc())):
        latest.setdefault(customer_id, granted)
    return {customer_id for customer_id, granted in latest.items() if granted}


# -- sending (the worker) -----------------------------------------------------------


class PushRejected(Exception):
    """The push service refused a message for a reason other than a gone subscription."""


_SUBSCRIPTION = select(PushSubscription.endpoint, PushSubscription.p256dh,
                       PushSubscription.auth).where(PushSubscription.id == bindparam("id"))


def sender(settings: PushSettings, session: Callable[[], Session], *,
           timeout: float = TIMEOUT) -> outbox.Sender:
    """The outbox sender for kind ``webpush``: payload ``{"subscription_id", "title",
    "body", "tag", "url", "ttl"}``.

    ``session`` returns the worker's session (the one :func:`outbox.run_once` uses):
    the sender ends its read before the network call, and leaves the deletion of a
    gone subscription (404/410) or the ``last_sent_at`` stamp to be committed with
    the message's outcome.
    """
    from py_vapid import Vapid
    from pywebpush import WebPushException, webpush

    vapid = Vapid(private_key=settings.private_key)

    def send(payload: Mapping[str, Any]) -> None:
        subscription_id = payload.get("subscription_id")
        if not isinstance(subscription_id, int):
            raise ValueError("a webpush payload needs an integer 'subscription_id'")
        db = session()
        row = db.execute(_SUBSCRIPTION, {"id": subscription_id}).first()
        db.commit()  # no transaction (nor SQLite's write lock) held during the request
        if row is None:
            return  # unsubscribed since the message was queued: nothing to send
        forget = delete(PushSubscription).where(PushSubscription.id == subscription_id)
        if not endpoint_allowed(row.endpoint, settings.allow_local):
            db.execute(forget)
            return
        data = json.dumps({k: payload[k] for k in ("title", "body", "tag", "url")
                           if k in payload}, ensure_ascii=False)
        try:
            webpush({"endpoint": row.endpoint, "keys": {"p256dh": row.p256dh,
                                                        "auth": row.auth}},
                    data, vapid_private_key=vapid,
                    vapid_claims={"sub": settings.subject},  # a new dict: webpush adds aud
                    ttl=int(payload.get("ttl") or TTL_NEWS), timeout=timeout,
                    headers={"Content-Type": "application/octet-stream"})
        except WebPushException as error:
            status = getattr(error.response, "status_code", None)
            if status in GONE:
                db.execute(forget)
                return
            reason = getattr(error.response, "reason", "") or ""
            raise PushRejected(f"push service answered {status} {reason}".strip()) from None
        db.execute(update(PushSubscription).where(PushSubscription.id == subscription_id)
                   .values(last_sent_at=utcnow()))

    return send
