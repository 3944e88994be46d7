"""Creating a business with its system accounts, and the public overview.

Each call is one scope of the unit of work (:mod:`webapp.services.unit_of_work`):
creating is a write scope, the rest are reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.numbers import get_territory_currencies
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from webapp.catalogue import gettext_for
from webapp.domain.categories import STARTING
from webapp.domain.errors import InvalidInput, NotFound
from webapp.domain.ledger import SYSTEM_ACCOUNTS
from webapp.domain.wording import language_of_locale
from webapp.persistence.models import Account, Branch, Business, Customer, ServiceCategory
from webapp.services.unit_of_work import reads, writes


@dataclass(frozen=True)
class BusinessSummary:
    id: int
    name: str
    branches: int
    customers: int


@writes
def create_business(session: Session, *, name: str, currency: str = "RUB",
                    timezone: str = "Europe/Moscow", locale: str = "ru",
                    phone_region: str = "RU", branches: list[str] | None = None) -> Business:
    """Create a business, its branches, its system ledger accounts and its starting list
    of categories of works and parts (a write scope: all of it commits, or none)."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput("business_name_length")
    currency = currency.upper()
    if currency not in _currencies_in_use():
        raise InvalidInput("currency_unknown", currency=currency)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("timezone_unknown", timezone=timezone) from None
    try:
        Locale.parse(locale)
    except (UnknownLocaleError, ValueError):
        raise InvalidInput("locale_unknown", locale=locale) from None
    if phone_region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput("phone_region_unknown", phone_region=phone_region)
    business = Business(name=name, currency=currency, timezone=timezone, locale=locale,
                        phone_region=phone_region.upper())
    session.add(business)
    session.flush()
    for kind in sorted(SYSTEM_ACCOUNTS):
        session.add(Account(business_id=business.id, kind=kind.value, balance=None))
    for branch in branches or ["Main"]:
        session.add(Branch(business_id=business.id, name=branch))
    english = gettext_for("en")
    session.add_all(ServiceCategory(business_id=business.id, code=seed.code, name_ru=seed.name,
                                    name_en=english(seed.name), kind=seed.kind, active=True)
                    for seed in STARTING)
    return business


@cache
def _currencies_in_use() -> frozenset[str]:
    """ISO 4217 codes that are legal tender somewhere today (RUR, DEM... are not)."""
    today = date.today()
    return frozenset(
        code
        for territory in get_global("territory_currencies")
        for code in get_territory_currencies(territory, today, tender=True)
    )


@reads
def overview(session: Session) -> list[BusinessSummary]:
    """Every business with its counts, for the landing page."""
    branches = (
        select(func.count()).where(Branch.business_id == Business.id).scalar_subquery()
    )
    customers = (
        select(func.count()).where(Customer.business_id == Business.id).scalar_subquery()
    )
    rows = session.execute(
        select(Business.id, Business.name, branches, customers).order_by(Business.id)
    ).all()
    return [BusinessSummary(*row) for row in rows]


@reads
def ping(session: Session) -> None:
    """Raise if the database does not answer (health checks)."""
    session.execute(text("SELECT 1"))


@reads
def name_of(session: Session, business_id: int) -> str:
    """A business's name, as its customers see it (NotFound for an unknown id)."""
    found = session.scalar(select(Business.name).where(Business.id == business_id))
    if found is None:
        raise NotFound("unknown_business")
    return found


@reads
def language_of(session: Session, business_id: int) -> str:
    """The language a business speaks to customers outside the app (wallet passes):
    English for an English locale, Russian otherwise."""
    found = session.scalar(select(Business.locale).where(Business.id == business_id))
    if found is None:
        raise NotFound("unknown_business")
    return language_of_locale(found)
