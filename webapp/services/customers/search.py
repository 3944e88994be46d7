"""Finding a customer by what a person types: a card number, the last digits of a phone,
or a car plate / device serial. Used by the back office and the counter (any staff).
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.domain import assets, cards
from webapp.domain.actor import Actor
from webapp.domain.errors import InvalidCardNumber, InvalidInput, UnknownCustomer
from webapp.persistence.models import Asset, Customer
from webapp.services.customers import accounts as customers
from webapp.services.unit_of_work import reads

MAX_RESULTS = 20
MIN_PHONE_DIGITS = 4
MAX_PHONE_DIGITS = 10
MAX_QUERY = 64
_PHONE_PUNCTUATION = " -()+.\u00a0"
_DIGITS = "0123456789"


@dataclass(frozen=True)
class Found:
    """One customer as a search result lists them (the phone masked)."""

    customer_id: int
    card_number: str  # "123 456 789"
    name: str | None
    phone: str  # "+7 *** ***-12-34"
    assets: list[str]
    status: str
    matched: str  # "card", "phone" or "asset"


@reads
def search(session: Session, actor: Actor, query: str) -> list[Found]:
    """Customers matching a card number (9 digits, valid check digit), a phone's last
    4–10 digits, or a plate/serial; card match first, at most MAX_RESULTS.

    InvalidInput when the query can be none of these. A read scope.
    """
    text = (query or "").strip()
    if len(text) > MAX_QUERY:
        raise InvalidInput("search_too_long")
    digits = "".join(ch for ch in text if ch in _DIGITS)
    phone_like = bool(digits) and all(ch in _DIGITS + _PHONE_PUNCTUATION for ch in text)
    key = assets.search_key(text)
    if not (phone_like and len(digits) >= MIN_PHONE_DIGITS) and len(key) < 2:
        raise InvalidInput("search_unrecognised")
    matches: list[tuple[Customer, str]] = []
    if phone_like and len(digits) == cards.LENGTH:
        with suppress(InvalidCardNumber, UnknownCustomer):
            matches.append((customers.by_card(session, actor, digits), "card"))
    if phone_like and len(digits) >= MIN_PHONE_DIGITS:
        suffix = digits[-MAX_PHONE_DIGITS:]
        matches += [(c, "phone") for c in by_phone_suffix(session, actor, suffix)]
    if len(key) >= 2:
        matches += [(c, "asset") for c in customers.by_asset(session, actor, text)]
    unique: dict[int, tuple[Customer, str]] = {}
    for customer, how in matches:
        unique.setdefault(customer.id, (customer, how))
    chosen = list(unique.values())[:MAX_RESULTS]
    owned = _assets(session, [customer.id for customer, _ in chosen])
    return [
        Found(
            customer.id,
            cards.display(customer.card_number),
            customer.name,
            mask_phone(customer.phone),
            owned.get(customer.id, []),
            customer.status,
            how,
        )
        for customer, how in chosen
    ]


def by_phone_suffix(session: Session, actor: Actor, digits: str) -> list[Customer]:
    """Customers of the actor's business whose phone ends with these 4–10 digits (≤20),
    read in the caller's transaction."""
    digits = (digits or "").strip()
    if (
        not digits.isascii()
        or not digits.isdigit()
        or not MIN_PHONE_DIGITS <= len(digits) <= MAX_PHONE_DIGITS
    ):
        raise InvalidInput("phone_digits_count")
    return list(
        session.scalars(
            select(Customer)
            .where(
                Customer.business_id == actor.business_id,
                Customer.phone.endswith(digits, autoescape=True),
            )
            .order_by(Customer.created_at.desc(), Customer.id.desc())
            .limit(MAX_RESULTS)
        )
    )


def mask_phone(e164: str) -> str:
    """Only the country code and the last four digits: "+7 *** ***-12-34"."""
    try:
        country = f"+{phonenumbers.parse(e164, None).country_code}"
    except phonenumbers.NumberParseException:
        country = "+"
    last = e164[-4:]
    return f"{country} *** ***-{last[:2]}-{last[2:]}"


def _assets(session: Session, customer_ids: list[int]) -> dict[int, list[str]]:
    if not customer_ids:
        return {}
    owned: dict[int, list[str]] = {}
    for customer_id, value in session.execute(
        select(Asset.customer_id, Asset.value)
        .where(Asset.customer_id.in_(customer_ids))
        .order_by(Asset.created_at, Asset.id)
    ):
        owned.setdefault(customer_id, []).append(value)
    return owned
