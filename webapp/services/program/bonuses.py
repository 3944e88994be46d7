"""One-off bonuses: welcome on joining, birthday once a year within a window of days.

Each is an accrual with a key derived from what it is for, so running the job twice,
or retrying a join, never pays twice. (The referral bonus is paid at checkout.)
What a bonus depends on is read in read scopes; each payment is its own keyed write
(:func:`webapp.services.ledger.operations.accrue`), so a failure keeps the bonuses already paid.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from webapp.domain.actor import Actor
from webapp.domain.clock import utcnow
from webapp.domain.errors import IdempotencyConflict
from webapp.domain.program import points_expire_at
from webapp.persistence.models import Customer, IdempotencyKey
from webapp.services.ledger import operations as ledger
from webapp.services.program import versions as programs
from webapp.services.unit_of_work import UnitOfWork, Work


def welcome(session: Work, actor: Actor, customer_id: int,
            now: datetime | None = None) -> int:
    """Credit the program's welcome bonus once per customer; returns the points given."""
    now = now or utcnow()
    uow = UnitOfWork.of(session)
    with uow.read() as db:
        version = programs.version_at(db, actor.business_id, now)
    if version is None or not version.settings.earns_points:
        return 0
    points = version.settings.bonuses.welcome
    if not points:
        return 0
    paid = _pay_once(uow, actor, f"welcome-{customer_id:012d}", customer_id, points,
                     points_expire_at(version.settings, now), now)
    return points if paid else 0


def birthdays(session: Work, actor: Actor, now: datetime | None = None) -> int:
    """Credit the birthday bonus to customers whose birthday falls within the window
    starting today; once per customer per year. Returns how many were credited."""
    now = now or utcnow()
    uow = UnitOfWork.of(session)
    with uow.read() as db:
        version = programs.version_at(db, actor.business_id, now)
        if version is None or not version.settings.earns_points or \
                not version.settings.bonuses.birthday:
            return 0
        rows = db.execute(select(Customer.id, Customer.birthday).where(
            Customer.business_id == actor.business_id, Customer.birthday.is_not(None),
            Customer.status == "active")).all()
    bonus = version.settings.bonuses
    today = now.date()
    window = [today + timedelta(days=d) for d in range(bonus.birthday_window_days + 1)]
    credited = 0
    for customer_id, birthday in rows:
        if birthday is None or not any(_same_day(birthday, day) for day in window):
            continue
        credited += _pay_once(uow, actor, f"birthday-{customer_id:012d}-{today.year}",
                              customer_id, bonus.birthday,
                              points_expire_at(version.settings, now), now)
    return credited


def _pay_once(uow: UnitOfWork, actor: Actor, key: str, customer_id: int, points: int,
              expires_at: datetime | None, now: datetime) -> bool:
    """Accrue under a key that names what the bonus is for; False if it was paid before.

    A later run computes another expiry, so the same key may carry a different request:
    for these keys that means "already paid", not a conflict.
    """
    with uow.read() as db:
        exists = db.scalar(select(IdempotencyKey.id).where(
            IdempotencyKey.business_id == actor.business_id, IdempotencyKey.key == key))
    if exists:
        return False
    try:
        ledger.accrue(uow, actor, key, customer_id=customer_id, points=points,
                      expires_at=expires_at, now=now)
    except IdempotencyConflict:  # paid concurrently
        return False
    return True


def _same_day(birthday: date, day: date) -> bool:
    # 29 February is celebrated on 28 February in other years.
    if (birthday.month, birthday.day) == (2, 29) and day.month == 2 and day.day == 28:
        return not (day.year % 4 == 0 and (day.year % 100 != 0 or day.year % 400 == 0))
    return (birthday.month, birthday.day) == (day.month, day.day)
