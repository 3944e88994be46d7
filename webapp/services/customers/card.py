"""The customer's own screens as read models: the card (balance, tier, stamps, perks,
rules), the points history and the invitation to bring a friend.

Everything comes from the same reads as the counter's panel (the ledger's balance and
the program's quote of an empty order), so the customer and the cashier see the same
numbers. Each screen is a read scope; :func:`read` reads in the caller's transaction.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.catalogue import words_for
from webapp.domain import balance_text as balance_words
from webapp.domain import tiers
from webapp.domain.actor import Actor, ActorKind
from webapp.domain.clock import utcnow
from webapp.domain.errors import UnknownCustomer
from webapp.domain.program import ProgramSettings
from webapp.domain.quote import Quote
from webapp.domain.quote_text import render
from webapp.domain.rules_text import describe, referral_line
from webapp.persistence.models import Business, Customer
from webapp.services.business import logos
from webapp.services.customers import history as customer_history
from webapp.services.customers.sign_in import Who
from webapp.services.ledger.balances import Balance, balance_of
from webapp.services.program import versions as programs
from webapp.services.program.standing import standing
from webapp.services.unit_of_work import reads


@dataclass(frozen=True)
class Card:
    business_name: str
    currency: str
    zone: ZoneInfo
    name: str | None
    card_number: str
    checkin_secret: str  # base64url without padding: the page's JavaScript makes the codes
    balance: Balance
    balance_text: balance_words.Balance  # in points, or in money for cashback
    pending_text: str  # the pending points in the same words
    expiring: list[tuple[datetime, str]]  # (when, what burns then) in the same words
    point_value: int  # minor units one point is worth
    settings: ProgramSettings | None  # the program in force
    program: Quote | None
    progress_percent: int  # toward the next tier, on the nearer path
    progress: list[str]  # the quote's lines about tiers and stamps, in words
    rules: str  # the program in one sentence
    rules_details: list[str]
    rendered_at: datetime
    logo_version: int | None  # changes with the logo; None: the business has none


@reads
def card(session: Session, who: Who, lang: str = "ru", now: datetime | None = None) -> Card:
    """Everything the card screen shows, read in one transaction."""
    return read(session, who.business_id, who.customer_id, lang, now)


def read(session: Session, business_id: int, customer_id: int, lang: str = "ru",
         now: datetime | None = None) -> Card:
    """The card's contents, read in the caller's transaction or scope (it ends neither),
    for the card screen and the wallet passes alike. UnknownCustomer for a customer of
    another business or one who is not active."""
    now = now or utcnow()
    row = session.execute(
        select(Customer.name, Customer.card_number, Customer.checkin_secret,
               Customer.status, Business.name, Business.currency, Business.timezone)
        .join(Business, Business.id == Customer.business_id)
        .where(Customer.id == customer_id, Customer.business_id == business_id)).first()
    if row is None or row.status != "active":
        raise UnknownCustomer()
    name, card_number, secret, _, business_name, currency, timezone = row
    balance = balance_of(session, business_id, customer_id, now)
    version, program = standing(session, business_id, customer_id, balance.available, now)
    settings, words = (version.settings if version else None), words_for(lang)
    rules = describe(version.settings, words, currency) if version else None
    return Card(
        business_name=business_name, currency=currency, zone=ZoneInfo(timezone),
        name=name, card_number=card_number,
        checkin_secret=base64.urlsafe_b64encode(secret).decode().rstrip("="),
        balance=balance,
        balance_text=balance_words.balance(settings, balance.available, words, currency),
        pending_text=balance_words.amount(settings, balance.pending, words, currency),
        expiring=[(at, balance_words.amount(settings, points, words, currency))
                  for at, points in balance.expiring],
        point_value=version.settings.point_value if version else 100,
        settings=settings,
        program=program,
        progress_percent=(tiers.progress(version.settings, program.next_tier)
                          if version and program else 0),
        progress=[render(line, words_for(lang), currency) for line in program.lines
                  if line.code in ("next_tier", "keep_tier", "stamps")] if program else [],
        rules=rules.sentence if rules else "",
        rules_details=rules.details if rules else [],
        rendered_at=now,
        logo_version=logos.stamp(session, business_id),
    )


@dataclass(frozen=True)
class Invitation:
    business_name: str
    code: str  # the customer's referral code
    rule: str | None  # what bringing a friend gives; None without a referral bonus


@reads
def invitation(session: Session, who: Who, lang: str = "ru",
               now: datetime | None = None) -> Invitation:
    """The customer's referral code and what a friend's first order brings them both."""
    row = session.execute(
        select(Customer.referral_code, Business.name, Business.currency)
        .join(Business, Business.id == Customer.business_id)
        .where(Customer.id == who.customer_id,
               Customer.business_id == who.business_id)).first()
    if row is None:
        raise UnknownCustomer()
    code, business_name, currency = row
    version = programs.version_at(session, who.business_id, now or utcnow())
    rule = referral_line(version.settings, words_for(lang), currency) if version else None
    return Invitation(business_name, code, rule)


@dataclass(frozen=True)
class Activity:
    when: str  # local date and time
    text: str  # in plain words
    change: int  # available points, signed
    pending: int  # pending points, signed
    amount: str = ""  # the change without its sign: "175" points, or "175 ₽" of cashback
    pending_amount: str = ""


@dataclass(frozen=True)
class History:
    lines: list[Activity]
    cashback: bool  # the program tells points as money


@reads
def activity(session: Session, who: Who, lang: str = "ru", limit: int = 100,
             now: datetime | None = None) -> History:
    """The customer's points history, newest first, in their language (amounts in money
    in a cashback program)."""
    actor = Actor(who.business_id, ActorKind.CUSTOMER)
    business = customer_history.business_of(session, actor)
    lines = customer_history.operations(session, actor, who.customer_id, limit, business, lang)
    version = programs.version_at(session, who.business_id, now or utcnow())
    settings = version.settings if version else None
    cashback = balance_words.in_money(settings)
    words = words_for(lang)

    def amount(points: int) -> str:
        if cashback:
            return balance_words.amount(settings, abs(points), words, business.currency)
        return str(abs(points))

    return History([Activity(line.when, line.text, line.available_change, line.pending_change,
                             amount(line.available_change), amount(line.pending_change))
                    for line in lines], cashback)
