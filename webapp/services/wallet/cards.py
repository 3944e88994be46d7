"""What a wallet pass shows, and the pass's row.

Apple's .pkpass and Google's loyalty object are two renderings of one :class:`PassView`,
read from the same sources as the customer's card screen, so the pass, the app and the
counter always agree. :mod:`webapp.services.notify.wallet_updates` tells the wallets when it
changes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.catalogue import words_for
from webapp.domain import balance_text as balance_words
from webapp.domain.errors import UnknownCustomer
from webapp.domain.money import format_money
from webapp.domain.quote_text import render
from webapp.persistence.models import Customer, WalletPass
from webapp.services.customers import card as customer_card
from webapp.services.unit_of_work import reads, writes


@dataclass(frozen=True)
class PassView:
    business_id: int
    business_name: str
    customer_id: int
    card_number: str
    customer_name: str | None
    points: int
    points_text: str  # "450 баллов"; in a cashback program the money: "450 ₽"
    worth_text: str  # "450 ₽"
    tier: str | None
    progress: str | None  # what the next tier needs, in words
    stamps: str | None  # "Каждая 6-я замена масла бесплатно: 4 из 6"
    expiring: str | None  # "120 баллов сгорят 01.12"
    rules: str  # the program in one sentence
    progress_percent: int
    lang: str
    in_money: bool = False  # a cashback program: the balance is shown as money


@reads
def view(session: Session, business_id: int, customer_id: int, lang: str = "ru",
         now: datetime | None = None) -> PassView:
    """Everything a pass shows for this customer now: the card screen's contents
    (:func:`customer_card.read`), in a read scope (the caller's, when inside one)."""
    card = customer_card.read(session, business_id, customer_id, lang, now)
    program, balance = card.program, card.balance
    settings = card.settings
    words = words_for(lang)
    lines = ({line.code: render(line, words, card.currency) for line in program.lines}
             if program else {})
    expiring = None
    if balance.expiring:
        at, points = balance.expiring[0]
        expiring = words.gettext("%(points)s сгорят %(date)s") % {
            "points": balance_words.amount(settings, points, words, card.currency),
            "date": at.astimezone(card.zone).strftime("%d.%m")}
    return PassView(
        business_id=business_id, business_name=card.business_name, customer_id=customer_id,
        card_number=card.card_number, customer_name=card.name, points=balance.available,
        points_text=balance_words.amount(settings, balance.available, words, card.currency),
        worth_text=format_money(balance.available * card.point_value, card.currency, lang),
        tier=program.tier_before if program else None,
        progress=lines.get("next_tier"), stamps=lines.get("stamps"), expiring=expiring,
        rules=card.rules, progress_percent=card.progress_percent, lang=lang,
        in_money=card.balance_text.in_money)


@writes
def pass_of(session: Session, business_id: int, customer_id: int) -> WalletPass:
    """The customer's pass row, made on first use, in a write scope (the caller's, when
    inside one)."""
    found = session.scalar(select(WalletPass).where(WalletPass.customer_id == customer_id))
    if found is not None:
        return found
    if session.scalar(select(Customer.id).where(Customer.id == customer_id,
                                                Customer.business_id == business_id)) is None:
        raise UnknownCustomer()
    made = WalletPass(business_id=business_id, customer_id=customer_id,
                      serial=secrets.token_hex(10))
    session.add(made)
    session.flush()
    return made
