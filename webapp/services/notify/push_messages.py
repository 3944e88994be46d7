"""Web push messages: what is queued for a customer's browsers, in the caller's write scope
(these functions open no scope of their own).

Each message is an outbox job of kind :data:`KIND`, one per browser subscription, with
the payload ``{"subscription_id", "title", "body", "tag", "url", "ttl"}`` that
:func:`webapp.services.notify.push.sender` delivers. A close that credits points or reaches a
new tier says so (:func:`on_close`); the daily reminders are in
:mod:`webapp.services.notify.push_reminders`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from webapp.catalogue import words_for
from webapp.domain import balance_text as balance_words
from webapp.domain import program
from webapp.domain.clock import utcnow
from webapp.domain.program import ProgramSettings
from webapp.domain.wording import count, language_of_locale, number
from webapp.persistence.models import Business, Customer, ProgramVersion, PushSubscription
from webapp.services.notify import outbox

KIND = "webpush"
TTL_NEWS = 24 * 3600  # how long a push service keeps an undelivered message

# Built once: a close that credits points runs _ANY, and _RECIPIENTS only when subscribed.
_RECIPIENTS = (
    select(PushSubscription.id, Customer.business_id, Business.name, Business.locale)
    .join(Customer, Customer.id == PushSubscription.customer_id)
    .join(Business, Business.id == Customer.business_id)
    .where(PushSubscription.business_id == Customer.business_id,
           PushSubscription.customer_id == bindparam("customer"), Customer.status == "active")
    .order_by(PushSubscription.id)
)
# On the table (Core), not the entity: about half the cost of the ORM path per call.
_subscriptions = cast(Table, PushSubscription.__table__)
_ANY = select(_subscriptions.c.id).where(
    _subscriptions.c.customer_id == bindparam("customer")).limit(1)


def subscribed(session: Session, customer_id: int) -> bool:
    """Whether any of the customer's browsers takes push messages (one index lookup)."""
    return session.execute(_ANY, {"customer": customer_id}).first() is not None


def recipients(session: Session, customer_id: int) -> list[Any]:
    """The browsers to write to: ``(subscription_id, business_id, business_name, locale)``
    rows, none unless the customer is active."""
    return list(session.execute(_RECIPIENTS, {"customer": customer_id}).all())


def enqueue(session: Session, customer_id: int, to: list[Any], body: str, tag: str, *,
            purpose: str = "service", ttl: int = TTL_NEWS) -> int:
    """Queue ``body`` to each of ``to`` (rows of :func:`recipients`) in the caller's
    write scope, titled with the business's name; returns the number of jobs."""
    for subscription_id, business_id, name, _locale in to:
        outbox.enqueue(session, kind=KIND, purpose=purpose, business_id=business_id,
                       customer_id=customer_id,
                       payload={"subscription_id": subscription_id, "title": name,
                                "body": body, "tag": tag, "url": f"/c/{business_id}/",
                                "ttl": ttl})
    return len(to)


def language_of(to: list[Any]) -> str:
    """The language of the business the recipients' browsers belong to."""
    return language_of_locale(to[0].locale) if to else "ru"


def credited_text(points: int, balance: int, lang: str = "ru",
                  settings: ProgramSettings | None = None, currency: str = "RUB") -> str:
    """ "Начислено 120 баллов. Баланс: 450." (in the business's language); in a cashback
    program "Кэшбэк: +120 ₽. На счёте: 450 ₽." """
    words = words_for(lang)
    _ = words.gettext
    if balance_words.in_money(settings):
        return _("Кэшбэк: +%(amount)s. На счёте: %(balance)s.") % {
            "amount": balance_words.amount(settings, points, words, currency),
            "balance": balance_words.amount(settings, balance, words, currency)}
    credited = count(words, points, _("Начислен %(n)s балл."), _("Начислено %(n)s балла."),
                     _("Начислено %(n)s баллов."), shown=number(points, lang))
    return credited + " " + _("Баланс: %(balance)s.") % {"balance": number(balance, lang)}


# The program in force and the business's currency, for wording a balance (cashback reads
# as money). Read here, not through services.program (which tells the wallets through
# this package): the same choice as versions.version_at, the latest version begun by now.
_IN_FORCE = (
    select(ProgramVersion.settings, Business.currency)
    .join(Business, Business.id == ProgramVersion.business_id)
    .where(ProgramVersion.business_id == bindparam("business"),
           ProgramVersion.effective_from <= bindparam("at"))
    .order_by(ProgramVersion.effective_from.desc(), ProgramVersion.version.desc())
    .limit(1)
)


def program_in_force(session: Session, business_id: int,
                     now: datetime | None = None) -> tuple[ProgramSettings | None, str]:
    """(the settings in force or None, the business's currency)."""
    row = session.execute(_IN_FORCE, {"business": business_id, "at": now or utcnow()}).first()
    if row is None:
        currency = session.scalar(select(Business.currency).where(Business.id == business_id))
        return None, currency or "RUB"
    return program.from_dict(json.loads(row.settings)), row.currency


def tier_text(tier: str, lang: str = "ru") -> str:
    """ "Ваш новый уровень: «Серебро»." """
    return words_for(lang).gettext("Ваш новый уровень: «%(tier)s».") % {"tier": tier}


def points_credited(session: Session, customer_id: int, points: int, balance: int) -> int:
    """Queue "Начислено N баллов. Баланс: M." to the customer's browsers (caller's scope);
    returns the number of messages (0 without a subscription)."""
    if points <= 0:
        return 0
    to = recipients(session, customer_id)
    settings, currency = program_in_force(session, to[0].business_id) if to else (None, "RUB")
    return enqueue(session, customer_id, to, credited_text(
        points, balance, language_of(to), settings, currency), "points")


def tier_reached(session: Session, customer_id: int, tier: str) -> int:
    """Queue "Ваш новый уровень: «…»." to the customer's browsers (caller's scope)."""
    to = recipients(session, customer_id)
    return enqueue(session, customer_id, to, tier_text(tier, language_of(to)), "tier")


# Whether the customer (bound as ``customer_id``) has a subscription, as an EXISTS for
# a statement the caller runs anyway (the close's lock); hand it to on_close.
SUBSCRIBED = select(_subscriptions.c.id).where(
    _subscriptions.c.customer_id == bindparam("customer_id")).exists()


def on_close(session: Session, customer_id: int, *, points: int, balance: int,
             tier_before: str | None, tier_after: str | None,
             has_subscription: bool | None = None) -> int:
    """After a close, in its write scope: one message per browser saying what was
    credited and, if the close reached a new tier, which. Without anything to say the
    database is not asked at all; without a subscription it is one index lookup
    (:func:`subscribed`), or none when the caller read :data:`SUBSCRIBED` already
    (``has_subscription``) in this transaction."""
    tier = tier_after if tier_after is not None and tier_after != tier_before else None
    if points <= 0 and tier is None:
        return 0
    if has_subscription is None:
        has_subscription = subscribed(session, customer_id)
    if not has_subscription:
        return 0
    to = recipients(session, customer_id)
    if not to:  # subscribed, but the customer is blocked or gone
        return 0
    lang = language_of(to)
    settings, currency = program_in_force(session, to[0].business_id) if points > 0 \
        else (None, "RUB")
    parts = ([credited_text(points, balance, lang, settings, currency)] if points > 0 else []) + (
        [tier_text(tier, lang)] if tier else [])
    return enqueue(session, customer_id, to, " ".join(parts),
                   "points" if points > 0 else "tier")
