"""The outbox: side effects (SMS, push, wallet updates) written in the same transaction
as the change that caused them, and delivered later by ``regulars worker``.

Delivery is at-least-once. :func:`run_once` claims due rows and leases them (moves
their ``run_after`` ahead by :data:`LEASE`) in one short write scope, then calls the
senders outside any scope and commits each message's outcome in a write scope of its
own. A message whose outcome was committed is never sent again; a crash between a send and
its commit sends that one message again when the lease runs out, and nothing is lost.
Senders must therefore tolerate an occasional duplicate and must time out on their
own (the HTTP SMS gateway gives up after 5 seconds).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.domain.clock import utcnow
from webapp.persistence.models import Consent, OutboxMessage
from webapp.services.unit_of_work import UnitOfWork, Work
from webapp.sms import SmsGateway

PURPOSES = ("service", "advertising")
MAX_ATTEMPTS = 8  # about 20 minutes of retries with the delays below
FIRST_DELAY = timedelta(seconds=10)
MAX_DELAY = timedelta(hours=1)
# Claimed rows are invisible to other workers this long. A batch stops early when half
# of it is used up, so a slow gateway cannot make a row due again while it is in hand.
LEASE = timedelta(minutes=10)
ERROR_LENGTH = 500
SMS = "sms"

Sender = Callable[[Mapping[str, Any]], None]


@dataclass(frozen=True)
class Summary:
    """What one batch did: delivered, to be tried again later, given up on."""

    sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.retried + self.failed


def enqueue(session: Session, *, kind: str, payload: Mapping[str, Any],
            purpose: str = "service", business_id: int | None = None,
            customer_id: int | None = None, run_after: datetime | None = None) -> None:
    """Add a message in the caller's write scope (no scope of its own), so it is sent
    if and only if the change that caused it commits. ``purpose`` is 'service' or 'advertising';
    an advertising message is only sent while its customer consents to advertising."""
    # Callers are our own code, never a user's input: a wrong value is a bug.
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be 'service' or 'advertising', not {purpose!r}")
    if not kind:
        raise ValueError("a message needs a kind")
    session.add(OutboxMessage(kind=kind, payload=dict(payload), purpose=purpose,
                              business_id=business_id, customer_id=customer_id,
                              status="pending", attempts=0, run_after=run_after or utcnow()))


def enqueue_sms(session: Session, *, phone: str, text: str, purpose: str = "service",
                business_id: int | None = None, customer_id: int | None = None,
                run_after: datetime | None = None) -> None:
    """Add a text message to an E.164 ``phone`` in the caller's write scope."""
    enqueue(session, kind=SMS, payload={"phone": phone, "text": text}, purpose=purpose,
            business_id=business_id, customer_id=customer_id, run_after=run_after)


def sms_sender(gateway: SmsGateway) -> Sender:
    """The sender for kind ``sms``: payload ``{"phone": E.164, "text": str}``."""

    def send(payload: Mapping[str, Any]) -> None:
        phone, text = payload.get("phone"), payload.get("text")
        if not isinstance(phone, str) or not isinstance(text, str):
            raise ValueError("an sms payload needs 'phone' and 'text' strings")
        gateway.send(phone, text)

    return send


def claim(session: Session, limit: int, now: datetime) -> list[OutboxMessage]:
    """Due pending messages, oldest first, locked for the caller's write scope.

    On PostgreSQL the rows are taken with ``FOR UPDATE SKIP LOCKED``, so workers
    claiming at the same time get disjoint rows. On SQLite the select runs inside the
    write transaction (BEGIN IMMEDIATE), which already keeps other writers out.
    """
    query = (select(OutboxMessage)
             .where(OutboxMessage.status == "pending", OutboxMessage.run_after <= now)
             .order_by(OutboxMessage.run_after, OutboxMessage.id)
             .limit(limit)
             # A long-lived session may hold stale copies: decide on the row as stored.
             .execution_options(populate_existing=True))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def run_once(session: Work, senders: Mapping[str, Sender], now: datetime | None = None,
             limit: int = 50) -> Summary:
    """Deliver one batch of due messages through ``senders`` (kind -> callable(payload)).

    A sender's exception is a failed attempt: the message is retried after an
    exponential delay and marked 'failed' after :data:`MAX_ATTEMPTS` attempts. A kind
    without a sender fails the same way. An advertising message whose customer does
    not currently consent is marked 'failed' without being sent. The claim is one
    write scope and each outcome another, so delivery is at-least-once (see the module
    docstring). What a sender writes (no scope of its own) commits with its outcome.
    """
    now = now or utcnow()
    uow = UnitOfWork.of(session)
    with uow.write() as db:
        batch = claim(db, limit, now)
        consenting = _consenting(db, {m.customer_id for m in batch
                                      if m.purpose == "advertising" and m.customer_id})
        for message in batch:
            message.run_after = now + LEASE
    # The lease is committed: other workers leave these rows alone now.

    started = time.monotonic()
    sent = retried = failed = 0
    for position, message in enumerate(batch):
        if time.monotonic() - started > LEASE.total_seconds() / 2:
            _release(uow, batch[position:], now)
            break
        refused = message.purpose == "advertising" and message.customer_id not in consenting
        # Outside any scope: no transaction (nor SQLite's lock) is held while it sends.
        error = None if refused else _deliver(senders, message)
        with uow.write():
            if refused:
                message.status, message.last_error = "failed", "no advertising consent"
                failed += 1
            elif error is None:
                message.status, message.sent_at, message.last_error = "sent", utcnow(), None
                sent += 1
            elif _record_failure(message, error, now):
                retried += 1
            else:
                failed += 1
    return Summary(sent, retried, failed)


def backoff(attempts: int) -> timedelta:
    """The wait before the next try after ``attempts`` failed ones: 10 s, 20 s, 40 s ...
    up to an hour, plus up to 10 % jitter so retries from one outage do not arrive
    all at once."""
    delay = min(FIRST_DELAY * 2 ** max(attempts - 1, 0), MAX_DELAY)
    return delay + delay * random.uniform(0, 0.1)


def _deliver(senders: Mapping[str, Sender], message: OutboxMessage) -> str | None:
    """Call the message's sender; the error as short text, or None when it went out."""
    sender = senders.get(message.kind)
    if sender is None:
        return f"no sender for kind {message.kind!r}"
    try:
        sender(message.payload)
    except Exception as error:  # any sender failure is a failed attempt, never a crash
        return f"{type(error).__name__}: {error}"
    return None


def _record_failure(message: OutboxMessage, error: str, now: datetime) -> bool:
    """Count a failed attempt; True when the message will be tried again."""
    message.attempts += 1
    message.last_error = error[:ERROR_LENGTH]
    if message.attempts >= MAX_ATTEMPTS:
        message.status = "failed"
        return False
    message.run_after = now + backoff(message.attempts)
    return True


def _release(uow: UnitOfWork, messages: list[OutboxMessage], now: datetime) -> None:
    """Give back leased messages this batch has no time left for."""
    with uow.write():
        for message in messages:
            message.run_after = now


def _consenting(session: Session, customer_ids: set[int]) -> set[int]:
    """The customers whose newest advertising consent record grants it."""
    if not customer_ids:
        return set()
    newest = (select(Consent.customer_id, Consent.granted)
              .where(Consent.customer_id.in_(customer_ids), Consent.kind == "advertising")
              .order_by(Consent.customer_id, Consent.id.desc()))
    latest: dict[int, bool] = {}
    for customer_id, granted in session.execute(newest):
        latest.setdefault(customer_id, granted)  # rows come newest first per customer
    return {customer_id for customer_id, granted in latest.items() if granted}
