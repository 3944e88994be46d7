"""A customer confirms a large redemption with a one-time code sent to their phone.

The code is 6 digits, good for 5 minutes, 5 attempts and one close. Only its hash is
stored. A wrong code counts as an attempt even though the close it came with rolls
back (:func:`count_failure` runs in a write scope of its own, after the close's).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from webapp.domain.actor import Actor
from webapp.domain.clock import utcnow
from webapp.domain.errors import Conflict, InvalidAmount, InvalidInput, UnknownCustomer
from webapp.persistence.models import Business, Customer, RedeemConfirmation
from webapp.services.customers import phones
from webapp.services.unit_of_work import writes
from webapp.sms import SmsGateway

LIFETIME = timedelta(minutes=5)
ATTEMPTS = 5
PER_CUSTOMER_PER_HOUR = 5


class ConfirmationNeeded(Conflict):
    code = "confirmation_needed"


class WrongConfirmationCode(InvalidInput):
    code = "wrong_confirmation_code"


class ConfirmationUnusable(Conflict):
    code = "confirmation_unusable"


class TooManyCodes(Conflict):
    code = "too_many_codes"
    status = 429


@dataclass(frozen=True)
class CodeSent:
    confirmation_id: int
    points: int
    phone_hint: str  # "•••-12-34": which phone to look at
    expires_at: datetime


def _hash(confirmation_id: int, code: str) -> str:
    return hashlib.sha256(f"{confirmation_id}:{code}".encode()).hexdigest()


@writes
def send_code(session: Session, actor: Actor, sms: SmsGateway, *, customer_id: int,
              points: int, now: datetime | None = None) -> CodeSent:
    """Send the customer a code that confirms redeeming up to ``points``; the code's row
    commits only if the text was handed to the gateway."""
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise InvalidAmount("Points to confirm must be a whole number above 0.")
    now = now or utcnow()
    customer = session.get(Customer, customer_id)
    if customer is None or customer.business_id != actor.business_id:
        raise UnknownCustomer("No such customer.")
    recent = session.scalar(select(func.count(RedeemConfirmation.id)).where(
        RedeemConfirmation.customer_id == customer_id,
        RedeemConfirmation.created_at > now - timedelta(hours=1))) or 0
    if recent >= PER_CUSTOMER_PER_HOUR:
        raise TooManyCodes("Too many codes were sent to this customer in the last hour.")
    business_name = session.scalar(select(Business.name).where(Business.id == actor.business_id))
    code = f"{secrets.randbelow(1_000_000):06d}"
    row = RedeemConfirmation(business_id=actor.business_id, customer_id=customer_id,
                             staff_id=actor.staff_id, points=points, code_hash="",
                             expires_at=now + LIFETIME, created_at=now)
    session.add(row)
    session.flush()
    row.code_hash = _hash(row.id, code)
    phone = customer.phone
    sms.send(phone, f"Код {code}: списание {points} баллов в «{business_name}». "
                    "Назовите его кассиру, только если списываете сами.")
    return CodeSent(row.id, points, phones.hint(phone), row.expires_at)


def consume(session: Session, actor: Actor, *, confirmation_id: int, code: str,
            customer_id: int, points: int, now: datetime) -> None:
    """Use a confirmation for a redemption of ``points``, inside the close's write scope."""
    row = session.get(RedeemConfirmation, confirmation_id)
    if (row is None or row.business_id != actor.business_id
            or row.customer_id != customer_id):
        raise ConfirmationUnusable("This confirmation is not for this customer.")
    if row.used_at is not None or row.expires_at <= now or row.attempts >= ATTEMPTS:
        raise ConfirmationUnusable("The code is used up or expired: send a new one.")
    if not hmac.compare_digest(row.code_hash, _hash(row.id, (code or "").strip())):
        raise WrongConfirmationCode("The code is wrong: ask the customer to read it again.")
    if points > row.points:
        raise ConfirmationUnusable("The customer confirmed {confirmed} points, not {points}.",
                                   confirmed=row.points, points=points)
    taken = session.execute(
        update(RedeemConfirmation)
        .where(RedeemConfirmation.id == row.id, RedeemConfirmation.used_at.is_(None))
        .values(used_at=now))
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise ConfirmationUnusable("The code is used up or expired: send a new one.")


@writes
def count_failure(session: Session, confirmation_id: int) -> None:
    """Record a wrong code in a write scope of its own (the close that carried it rolled
    back)."""
    session.execute(update(RedeemConfirmation)
                    .where(RedeemConfirmation.id == confirmation_id)
                    .values(attempts=RedeemConfirmation.attempts + 1))
