"""A customer confirms a large redemption with a one-time code sent to their phone.

The code follows :mod:`webapp.domain.one_time_codes` (6 digits, 5 minutes, 5 attempts,
only its hash stored) and is good for one close. A wrong code counts as an attempt even
though the close it came with rolls back (:func:`count_failure` runs in a write scope
of its own, after the close's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from webapp.catalogue import words_for
from webapp.domain import one_time_codes as codes
from webapp.domain.actor import Actor
from webapp.domain.clock import utcnow
from webapp.domain.errors import Conflict, InvalidAmount, InvalidInput, UnknownCustomer
from webapp.domain.wording import count, language_of_locale
from webapp.persistence.models import Business, Customer, RedeemConfirmation
from webapp.services.customers import one_time_codes, phones
from webapp.services.unit_of_work import writes
from webapp.sms import SmsGateway

PER_CUSTOMER_PER_HOUR = 5


class ConfirmationNeeded(Conflict):
    code = "confirmation_needed"


class WrongConfirmationCode(InvalidInput):
    code = "wrong_confirmation_code"


class ConfirmationUnusable(Conflict):
    code = "confirmation_unusable"


@dataclass(frozen=True)
class CodeSent:
    confirmation_id: int
    points: int
    phone_hint: str  # "•••-12-34": which phone to look at
    expires_at: datetime


@writes
def send_code(session: Session, actor: Actor, sms: SmsGateway, *, customer_id: int,
              points: int, now: datetime | None = None) -> CodeSent:
    """Send the customer a code that confirms redeeming up to ``points``; the code's row
    commits only if the text was handed to the gateway."""
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise InvalidAmount("confirm_points_malformed")
    now = now or utcnow()
    customer = session.get(Customer, customer_id)
    if customer is None or customer.business_id != actor.business_id:
        raise UnknownCustomer()
    recent = session.scalar(select(func.count(RedeemConfirmation.id)).where(
        RedeemConfirmation.customer_id == customer_id,
        RedeemConfirmation.created_at > now - timedelta(hours=1))) or 0
    if recent >= PER_CUSTOMER_PER_HOUR:
        raise codes.TooManyCodes(purpose=codes.Purpose.REDEMPTION)
    business_name, locale = session.execute(select(Business.name, Business.locale).where(
        Business.id == actor.business_id)).one()
    row = RedeemConfirmation(business_id=actor.business_id, customer_id=customer_id,
                             staff_id=actor.staff_id, points=points, code_hash="",
                             expires_at=codes.expires_at(now), created_at=now)
    code = one_time_codes.issue(session, row, codes.Purpose.REDEMPTION)
    phone = customer.phone
    sms.send(phone, confirmation_text(code, points, business_name, locale))
    return CodeSent(row.id, points, phones.hint(phone), row.expires_at)


def confirmation_text(code: str, points: int, business_name: str, locale: str) -> str:
    """The redemption code's SMS, in the business's language."""
    words = words_for(language_of_locale(locale))
    _ = words.gettext
    # The number as the cashier typed it (no thousands separator): easy to compare.
    amount = count(words, points, _("%(n)s балл"), _("%(n)s балла"), _("%(n)s баллов"))
    return _("Код %(code)s: списание %(points)s в «%(business)s». Назовите его кассиру,"
             " только если списываете сами.") % {
        "code": code, "points": amount, "business": business_name}


def consume(session: Session, actor: Actor, *, confirmation_id: int, code: str,
            customer_id: int, points: int, now: datetime) -> None:
    """Use a confirmation for a redemption of ``points``, inside the close's write scope."""
    row = session.get(RedeemConfirmation, confirmation_id)
    if (row is None or row.business_id != actor.business_id
            or row.customer_id != customer_id):
        raise ConfirmationUnusable("confirmation_foreign")
    if not codes.usable(used_at=row.used_at, expires_at=row.expires_at,
                        attempts=row.attempts, now=now):
        raise ConfirmationUnusable()
    if not codes.matches(row.code_hash, codes.Purpose.REDEMPTION, row.id, code):
        raise WrongConfirmationCode()
    if points > row.points:
        raise ConfirmationUnusable("confirmation_points_differ",
                                   confirmed=row.points, points=points)
    if not one_time_codes.spend(session, RedeemConfirmation, row.id, now):
        raise ConfirmationUnusable()


@writes
def count_failure(session: Session, confirmation_id: int) -> None:
    """Record a wrong code in a write scope of its own (the close that carried it rolled
    back)."""
    session.execute(update(RedeemConfirmation)
                    .where(RedeemConfirmation.id == confirmation_id)
                    .values(attempts=RedeemConfirmation.attempts + 1))
