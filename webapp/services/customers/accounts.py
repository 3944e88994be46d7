"""Customers: joining by phone, their vehicles or devices, and finding them."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.domain import assets, cards
from webapp.domain.actor import Actor
from webapp.domain.clock import utcnow
from webapp.domain.errors import AlreadyExists, InvalidInput, UnknownCustomer
from webapp.domain.ledger import CUSTOMER_ACCOUNTS
from webapp.persistence.models import Account, Asset, Business, Customer
from webapp.services.customers import phones
from webapp.services.program import bonuses
from webapp.services.unit_of_work import UnitOfWork, Work, writes

# No 0/O or 1/I/L: referral codes are read aloud and typed.
_REFERRAL_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
ASSET_VALUE_LENGTH = 64  # Asset.value
ASSET_LABEL_LENGTH = 200  # Asset.label


@dataclass(frozen=True)
class Joined:
    customer: Customer
    created: bool


def join(session: Work, actor: Actor, *, phone: str, name: str | None = None,
         birthday: date | None = None, marketing_consent: bool = False,
         referral_code: str | None = None, now: datetime | None = None) -> Joined:
    """Register a customer by phone, or return the one who already has that phone.

    The phone is unique per business, which makes joining naturally idempotent. The
    new customer commits in a write scope of its own; the welcome bonus follows in
    the bonus's own transaction, so a failing bonus never undoes the join.
    """
    now = now or utcnow()
    uow = UnitOfWork.of(session)
    outermost = uow.depth == 0
    for _attempt in range(5):  # a card number or referral code may collide; draw again
        try:
            with uow.write() as db:
                joined = _join(db, actor, phone=phone, name=name, birthday=birthday,
                               marketing_consent=marketing_consent,
                               referral_code=referral_code, now=now)
        except IntegrityError:
            if not outermost:  # the caller's transaction failed; only it can retry
                raise
            continue  # joined concurrently (the next attempt finds them) or a collision
        if joined.created:
            bonuses.welcome(uow.session, actor, joined.customer.id, now)
        return joined
    raise RuntimeError("could not draw a unique card number")  # pragma: no cover


def _join(session: Session, actor: Actor, *, phone: str, name: str | None,
          birthday: date | None, marketing_consent: bool, referral_code: str | None,
          now: datetime) -> Joined:
    """One attempt: the customer who has the phone, or a new one with their accounts."""
    business = session.get(Business, actor.business_id)
    if business is None:
        raise InvalidInput("unknown_business")
    e164 = phones.normalise(phone, business.phone_region)
    if name is not None and len(name.strip()) > 200:
        raise InvalidInput("name_too_long")
    existing = _by_phone(session, actor.business_id, e164)
    if existing is not None:
        return Joined(existing, created=False)
    referrer = None
    if referral_code:
        referrer = session.scalar(select(Customer).where(
            Customer.business_id == actor.business_id,
            Customer.referral_code == referral_code.strip().upper()))
        if referrer is None:
            raise InvalidInput("unknown_referral_code")
    customer = Customer(
        business_id=actor.business_id, phone=e164, name=(name or "").strip() or None,
        birthday=birthday, marketing_consent=marketing_consent,
        marketing_consent_at=now if marketing_consent else None,
        referral_code="".join(secrets.choice(_REFERRAL_ALPHABET) for _ in range(6)),
        referred_by_id=referrer.id if referrer else None,
        card_number=cards.generate(), joined_by_staff_id=actor.staff_id,
        created_at=now,
    )
    session.add(customer)
    session.flush()
    for kind in sorted(CUSTOMER_ACCOUNTS):
        session.add(Account(business_id=actor.business_id, customer_id=customer.id,
                            kind=kind.value, balance=0))
    return Joined(customer, created=True)


@writes
def add_asset(session: Session, actor: Actor, *, customer_id: int, kind: str, value: str,
              label: str | None = None) -> Asset:
    """Attach a vehicle or device to a customer: the customer app and the counter both
    come here, so the rules are the same. Bad values and one the customer already has
    are refused, and nothing is added."""
    # The column lengths first: PostgreSQL would refuse the row with a 500 instead.
    if isinstance(value, str) and len(value.strip()) > ASSET_VALUE_LENGTH:
        raise InvalidInput("asset_identifier_too_long")
    if label is not None and (not isinstance(label, str)
                              or len(label.strip()) > ASSET_LABEL_LENGTH):
        raise InvalidInput("asset_label_too_long")
    customer = get(session, actor, customer_id)
    typed, key = assets.validate(kind, value)
    if session.scalar(select(Asset.id).where(Asset.business_id == actor.business_id,
                                             Asset.customer_id == customer.id,
                                             Asset.search_key == key).limit(1)):
        raise AlreadyExists("asset_duplicate", value=typed)
    asset = Asset(business_id=actor.business_id, customer_id=customer.id, kind=kind,
                  value=typed, search_key=key, label=(label or "").strip() or None)
    session.add(asset)
    session.flush()
    return asset


def get(session: Session, actor: Actor, customer_id: int) -> Customer:
    """A customer of the actor's business, or UnknownCustomer (never another's)."""
    customer = session.get(Customer, customer_id)
    if customer is None or customer.business_id != actor.business_id:
        raise UnknownCustomer(customer_id=customer_id)
    return customer


def by_card(session: Session, actor: Actor, card_number: str) -> Customer:
    """Find by card number; a typo is caught by the check digit before any query."""
    number = cards.normalise(card_number)
    customer = session.scalar(select(Customer).where(
        Customer.business_id == actor.business_id, Customer.card_number == number))
    if customer is None:
        raise UnknownCustomer("card_number_unknown")
    return customer


def by_asset(session: Session, actor: Actor, value: str) -> list[Customer]:
    """Customers whose plate, VIN, serial or IMEI matches (folded for look-alikes)."""
    key = assets.search_key(value or "")
    if len(key) < 2:
        raise InvalidInput("search_too_short")
    return list(session.scalars(
        select(Customer).join(Asset, Asset.customer_id == Customer.id)
        .where(Asset.business_id == actor.business_id, Asset.search_key == key)
        .distinct()))


def _by_phone(session: Session, business_id: int, e164: str) -> Customer | None:
    return session.scalar(select(Customer).where(
        Customer.business_id == business_id, Customer.phone == e164))
