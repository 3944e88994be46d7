"""Web push reminders, queued daily by ``regulars push remind``: points about to expire,
and a reminder to customers who have been away a long time with points left.

What was queued is recorded in ``push_reminders``, so a second run the same day (or
any later day) sends nothing new.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from webapp.catalogue import words_for
from webapp.domain import balance_text as balance_words
from webapp.domain.clock import utcnow
from webapp.domain.errors import NotFound
from webapp.domain.program import ProgramSettings
from webapp.domain.wording import language_of_locale, pick
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
from webapp.services.notify.push_messages import enqueue, program_in_force, recipients
from webapp.services.notify.push_settings import DEFAULT_SLEEPING_DAYS
from webapp.services.unit_of_work import writes

EXPIRING_WITHIN = timedelta(days=7)
TTL_REMINDER = 3 * 24 * 3600  # how long a push service keeps an undelivered reminder
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Reminded:
    """What one run of :func:`remind` queued."""

    expiring: int = 0  # customers told about points expiring within 7 days
    sleeping: int = 0  # customers away longer than the setting, with points left
    messages: int = 0  # outbox jobs written (one per browser)


def expiring_text(points: int, first: datetime, last: datetime, lang: str = "ru",
                  settings: ProgramSettings | None = None, currency: str = "RUB") -> str:
    """ "14.02 сгорят 120 баллов. Потратьте их при следующем визите." (cashback: "120 ₽")"""
    words = words_for(lang)
    _ = words.gettext
    if first.date() == last.date():
        when = pick(words, points, _("%(day)s сгорит %(points)s."),
                    _("%(day)s сгорят %(points)s."), _("%(day)s сгорят %(points)s."))
    else:
        when = pick(words, points, _("До %(day)s сгорит %(points)s."),
                    _("До %(day)s сгорят %(points)s."), _("До %(day)s сгорят %(points)s."))
    return (when % {"day": last.strftime("%d.%m"),
                    "points": balance_words.amount(settings, points, words, currency)}
            + " " + _("Потратьте их при следующем визите."))


def sleeping_text(points: int, lang: str = "ru", settings: ProgramSettings | None = None,
                  currency: str = "RUB") -> str:
    """ "Давно вас не видели! На вашем счёте 450 баллов — …" (cashback: "450 ₽")"""
    words = words_for(lang)
    return words.gettext("Давно вас не видели! На вашем счёте %(points)s — ими можно оплатить"
                         " часть следующего заказа.") % {
        "points": balance_words.amount(settings, points, words, currency)}


def remind(session: Session, business_id: int, now: datetime, *,
           sleeping_after: timedelta = timedelta(days=DEFAULT_SLEEPING_DAYS)) -> Reminded:
    """Queue the reminders due now to subscribed customers, in the caller's write scope
    (no scope of its own; :func:`send_reminders` is the use case):

    (a) points expiring within 7 days, once per lot (service message);
    (b) customers whose last paid order is older than ``sleeping_after`` and who have
        points, once per absence (advertising: only with advertising consent, which
        the outbox checks again when it sends).

    What was queued is recorded in ``push_reminders``, so running it again sends
    nothing new; run it daily from cron (``regulars push remind``).
    """
    business = session.get(Business, business_id)
    if business is None:
        raise NotFound("unknown_business")
    zone = ZoneInfo(business.timezone)
    lang = language_of_locale(business.locale)
    settings, currency = program_in_force(session, business_id, now)
    has_push = select(PushSubscription.customer_id).where(
        PushSubscription.business_id == business_id)
    messages = 0

    lots = session.execute(
        select(Lot.id, Lot.customer_id, Lot.remaining, Lot.expires_at)
        .join(Customer, Customer.id == Lot.customer_id)
        .where(Lot.business_id == business_id, Lot.remaining > 0, Lot.expires_at > now,
               Lot.expires_at <= now + EXPIRING_WITHIN, Customer.status == "active",
               Lot.customer_id.in_(has_push),
               ~exists().where(PushReminder.business_id == business_id,
                               PushReminder.customer_id == Lot.customer_id,
                               PushReminder.kind == "expiring", PushReminder.ref == Lot.id))
        .order_by(Lot.customer_id, Lot.expires_at, Lot.id)).all()
    by_customer: dict[int, list[Any]] = defaultdict(list)
    for lot in lots:
        by_customer[lot.customer_id].append(lot)
    for customer_id, own in by_customer.items():
        points = sum(lot.remaining for lot in own)
        first, last = own[0].expires_at.astimezone(zone), own[-1].expires_at.astimezone(zone)
        messages += enqueue(session, customer_id, recipients(session, customer_id),
                            expiring_text(points, first, last, lang, settings, currency),
                            "expiring", ttl=TTL_REMINDER)
        session.add_all(PushReminder(business_id=business_id, customer_id=customer_id,
                                     kind="expiring", ref=lot.id, sent_at=now) for lot in own)

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
        .where(PushReminder.business_id == business_id, PushReminder.kind == "sleeping",
               PushReminder.customer_id.in_([row.customer_id for row in asleep])))}
    sleeping = 0
    for customer_id, last_order_at, balance in asleep:
        ref = (last_order_at - EPOCH) // timedelta(microseconds=1)  # this absence's mark
        if customer_id not in consenting or (customer_id, ref) in reminded:
            continue
        messages += enqueue(session, customer_id, recipients(session, customer_id),
                            sleeping_text(balance, lang, settings, currency), "sleeping",
                            purpose="advertising",
                            ttl=TTL_REMINDER)
        session.add(PushReminder(business_id=business_id, customer_id=customer_id,
                                 kind="sleeping", ref=ref, sent_at=now))
        sleeping += 1
    session.flush()
    return Reminded(len(by_customer), sleeping, messages)


@writes
def send_reminders(session: Session, business_id: int, now: datetime | None = None, *,
                   sleeping_after: timedelta = timedelta(days=DEFAULT_SLEEPING_DAYS)
                   ) -> Reminded:
    """:func:`remind` as a use case, in one write scope: the jobs and their records
    commit together."""
    return remind(session, business_id, now or utcnow(), sleeping_after=sleeping_after)


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
