"""Web push to the customer app, opt-in: the browsers that asked for it, and the sender.

A signed-in customer's browser subscribes (:func:`subscribe`); the subscription is
tied to the device's session, so signing that device out forgets it
(:func:`forget_session`), as closing the account forgets all of them
(:func:`forget_customer`). What is said and when is in
:mod:`~webapp.services.notify.push_messages` (a close's news) and
:mod:`~webapp.services.notify.push_reminders` (the daily reminders); the settings are in
:mod:`~webapp.services.notify.push_settings`.

Messages go through the outbox (kind ``webpush``, one job per browser subscription)
and are sent by ``regulars worker`` with :func:`sender`: VAPID-signed (RFC 8292),
encrypted with aes128gcm (RFC 8291) by pywebpush. A push service answering 404 or
410 means the browser dropped the subscription: its row is deleted and the job is
done. So is a subscription whose device was signed out or whose customer is no longer
active. Any other failure raises, so the outbox tries again later.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.domain.clock import utcnow
from webapp.domain.errors import InvalidInput
from webapp.persistence.models import Customer, CustomerSession, PushSubscription
from webapp.services.notify import outbox
from webapp.services.notify.push_messages import TTL_NEWS
from webapp.services.notify.push_messages import on_close as on_close  # what checkout calls
from webapp.services.notify.push_settings import PushSettings, decode_base64url
from webapp.services.unit_of_work import UnitOfWork, Work, writes

if TYPE_CHECKING:  # customer_sign_in calls forget_session: no import back at run time
    from webapp.services.customers.sign_in import Who

MAX_PER_CUSTOMER = 10  # a customer's browsers; the oldest subscription goes first
ENDPOINT_MAX = 1024
TIMEOUT = 5.0  # seconds: the worker must not hang on a slow push service
GONE = (404, 410)
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


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
        raise InvalidInput("push_subscription_malformed")
    endpoint = subscription.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > ENDPOINT_MAX:
        raise InvalidInput("push_endpoint_malformed")
    if not endpoint_allowed(endpoint, allow_local):
        raise InvalidInput("push_endpoint_not_https")
    keys = subscription.get("keys")
    if not isinstance(keys, Mapping):
        raise InvalidInput("push_keys_missing")
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    point = decode_base64url(p256dh)
    try:
        if point is None or len(point) != 65:
            raise ValueError("not an uncompressed point")
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise InvalidInput("push_p256dh_malformed") from None
    secret = decode_base64url(auth)
    if secret is None or len(secret) != 16:
        raise InvalidInput("push_auth_malformed")
    assert isinstance(p256dh, str) and isinstance(auth, str)
    return endpoint, p256dh.rstrip("="), auth.rstrip("=")


def subscribe(session: Work, who: Who, subscription: Any, *, allow_local: bool = False,
              now: datetime | None = None) -> None:
    """Keep a browser's subscription for the signed-in customer, in a write scope.

    The subscription belongs to the device's session (``who.session_id``). The same
    endpoint again updates its keys and session; an endpoint another customer had moves
    to this one (the browser now belongs to whoever signed in and subscribed). A
    customer keeps at most :data:`MAX_PER_CUSTOMER` browsers, the newest.
    """
    endpoint, p256dh, auth = _parse(subscription, allow_local)
    now = now or utcnow()
    uow = UnitOfWork.of(session)
    outermost = uow.depth == 0
    for attempt in (1, 2):  # a concurrent subscribe of the same endpoint: update instead
        try:
            with uow.write() as db:
                _store(db, who, endpoint, p256dh, auth, now)
            return
        except IntegrityError:
            if attempt == 2 or not outermost:  # only the outermost scope can try again
                raise


def _store(session: Session, who: Who, endpoint: str, p256dh: str, auth: str,
           now: datetime) -> None:
    customer_id = who.customer_id
    row = session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    if row is None:
        session.add(PushSubscription(business_id=who.business_id, customer_id=customer_id,
                                     session_id=who.session_id,
                                     endpoint=endpoint, p256dh=p256dh, auth=auth,
                                     created_at=now))
    else:
        if row.customer_id != customer_id:  # another customer's browser: new to this one
            row.customer_id, row.created_at, row.last_sent_at = customer_id, now, None
            row.business_id = who.business_id  # the browser may come from another business
        row.session_id, row.p256dh, row.auth = who.session_id, p256dh, auth
    session.flush()
    extra = session.scalars(
        select(PushSubscription.id).where(PushSubscription.business_id == who.business_id,
                                          PushSubscription.customer_id == customer_id)
        .order_by(PushSubscription.created_at.desc(), PushSubscription.id.desc())
        .offset(MAX_PER_CUSTOMER)).all()
    if extra:
        session.execute(delete(PushSubscription).where(PushSubscription.id.in_(extra)))


@writes
def unsubscribe(session: Session, who: Who, endpoint: Any) -> bool:
    """Forget one of the customer's own browsers; False if it was not theirs
    (or already gone): the answer is the same, so nobody learns about others' rows."""
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > ENDPOINT_MAX:
        raise InvalidInput("push_endpoint_malformed")
    done = session.execute(delete(PushSubscription).where(
        PushSubscription.endpoint == endpoint, PushSubscription.customer_id == who.customer_id))
    return bool(done.rowcount)  # type: ignore[attr-defined]


def forget_session(session: Session, session_id: int) -> int:
    """Forget the browsers subscribed under a device session that is being signed out,
    in the caller's write scope (no scope of its own); returns how many."""
    done = session.execute(delete(PushSubscription).where(
        PushSubscription.session_id == session_id))
    return int(done.rowcount)  # type: ignore[attr-defined]


def forget_customer(session: Session, customer_id: int) -> int:
    """Forget every browser of a customer whose account is closing, in the caller's
    write scope (no scope of its own); returns how many."""
    done = session.execute(delete(PushSubscription).where(
        PushSubscription.customer_id == customer_id))
    return int(done.rowcount)  # type: ignore[attr-defined]


# -- sending (the worker) -----------------------------------------------------------


class PushRejected(Exception):
    """The push service refused a message for a reason other than a gone subscription."""


_SUBSCRIPTION = (
    select(PushSubscription.endpoint, PushSubscription.p256dh, PushSubscription.auth,
           PushSubscription.customer_id, PushSubscription.session_id, Customer.status,
           CustomerSession.revoked_at)
    .join(Customer, Customer.id == PushSubscription.customer_id)
    .outerjoin(CustomerSession, CustomerSession.id == PushSubscription.session_id)
    .where(PushSubscription.id == bindparam("id"))
)


def sender(settings: PushSettings, work: Work, *,
           timeout: float = TIMEOUT) -> outbox.Sender:
    """The outbox sender for kind ``webpush``: payload ``{"subscription_id", "title",
    "body", "tag", "url", "ttl"}``.

    ``work`` is the worker's unit of work (the one :func:`outbox.run_once` uses):
    the sender reads in a read scope that ends before the network call, and leaves the
    deletion of a gone subscription (404/410, a signed-out device, a customer no longer
    active) or the ``last_sent_at`` stamp to the write scope of the message's outcome.
    """
    from py_vapid import Vapid
    from pywebpush import WebPushException, webpush

    vapid = Vapid(private_key=settings.private_key)
    uow = UnitOfWork.of(work)

    def send(payload: Mapping[str, Any]) -> None:
        subscription_id = payload.get("subscription_id")
        if not isinstance(subscription_id, int):
            raise ValueError("a webpush payload needs an integer 'subscription_id'")
        with uow.read() as db:  # no transaction (nor SQLite's lock) held during the request
            row = db.execute(_SUBSCRIPTION, {"id": subscription_id}).first()
        if row is None:
            return  # unsubscribed since the message was queued: nothing to send
        # What follows writes with no scope: the outcome's write scope commits it.
        db = uow.session
        forget = delete(PushSubscription).where(PushSubscription.id == subscription_id)
        if row.status != "active" or row.revoked_at is not None:
            # Signed out, or the account closed: forget it, unless it was meanwhile
            # subscribed anew (another customer, another session).
            db.execute(forget.where(
                PushSubscription.customer_id == row.customer_id,
                PushSubscription.session_id.is_not_distinct_from(row.session_id)))
            return
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
