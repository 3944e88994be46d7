"""Who is at the counter: a scanned static card number or a rotating check-in code.

A rotating code is accepted once: the (customer, step) pair is recorded under a
unique constraint, so a replayed code, even one scanned twice at the same moment
on two tablets, is refused with a message that tells the cashier what to do. A card
number is looked up in a read scope; a code is recorded in a write scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.domain import cards, checkin
from webapp.domain.actor import Actor
from webapp.domain.clock import utcnow
from webapp.domain.errors import Conflict, UnknownCustomer
from webapp.persistence.models import CheckinUse, Customer
from webapp.services.unit_of_work import UnitOfWork, Work


class CodeAlreadyUsed(Conflict):
    code = "checkin_code_used"


@dataclass(frozen=True)
class Identified:
    customer_id: int
    card_number: str
    by_code: bool  # True: the live code from the customer's app (proves the phone is here)


def identify(session: Work, actor: Actor, scanned: str,
             now: datetime | None = None) -> Identified:
    """The customer behind a scan; typed errors say what is wrong and what to do."""
    now = now or utcnow()
    uow = UnitOfWork.of(session)
    text = (scanned or "").strip()
    if not text.upper().startswith(checkin.PREFIX + "."):
        with uow.read() as db:
            customer = _by_card(db, actor, cards.normalise(text))
            return Identified(customer.id, customer.card_number, by_code=False)
    card_number, _, _ = checkin.parse(text)
    try:
        with uow.write() as db:
            customer = _by_card(db, actor, card_number)
            accepted = checkin.verify(customer.checkin_secret, text, now)
            db.execute(insert(CheckinUse), {"business_id": customer.business_id,
                                            "customer_id": customer.id,
                                            "step": accepted.step, "used_at": now})
            customer_id = customer.id
    except IntegrityError:  # the scope rolled back: this step was recorded before
        raise CodeAlreadyUsed() from None
    return Identified(customer_id, card_number, by_code=True)


def _by_card(session: Session, actor: Actor, card_number: str) -> Customer:
    customer = session.scalar(select(Customer).where(
        Customer.business_id == actor.business_id, Customer.card_number == card_number))
    if customer is None or customer.status != "active":
        raise UnknownCustomer("card_unknown_here")
    return customer
