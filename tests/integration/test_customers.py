"""Joining by phone, card and asset look-ups, staff and business creation."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.domain import cards
from webapp.domain.actor import Actor
from webapp.domain.errors import (
    AlreadyExists,
    InvalidCardNumber,
    InvalidInput,
    InvalidPhone,
    UnknownCustomer,
)
from webapp.persistence.models import Account, Business, Customer
from webapp.services.business import setup as businesses
from webapp.services.customers import accounts as customers
from webapp.services.staff import accounts as staff


def test_join_normalises_the_phone_and_opens_accounts(session: Session, system: Actor) -> None:
    joined = customers.join(session, system, phone="8 (916) 123-45-67", name=" Анна ")
    assert joined.created
    customer = joined.customer
    assert customer.phone == "+79161234567" and customer.name == "Анна"
    assert cards.normalise(customer.card_number) == customer.card_number
    assert len(customer.referral_code) == 6
    kinds = set(session.scalars(select(Account.kind).where(Account.customer_id == customer.id)))
    assert kinds == {"available", "pending", "clawback"}


def test_joining_twice_returns_the_same_customer(session: Session, system: Actor) -> None:
    first = customers.join(session, system, phone="+7 916 123-45-67").customer
    again = customers.join(session, system, phone="89161234567")
    assert not again.created and again.customer.id == first.id
    assert session.scalar(select(func.count(Customer.id))) == 1


def test_the_same_phone_may_join_two_businesses(session: Session, make_business: Callable,
                                                system: Actor) -> None:
    other = Actor.system(make_business("Другой").id)
    a = customers.join(session, system, phone="+79161234567").customer
    b = customers.join(session, other, phone="+79161234567").customer
    assert a.id != b.id


@pytest.mark.parametrize("phone", ["", "12", "+7 000 000-00-00", "phone", "+7916" + "1" * 40])
def test_malformed_phones_are_refused(session: Session, system: Actor, phone: str) -> None:
    with pytest.raises(InvalidPhone):
        customers.join(session, system, phone=phone)
    assert session.scalar(select(func.count(Customer.id))) == 0


def test_referral_code_links_the_referrer(session: Session, system: Actor,
                                          customer: Customer) -> None:
    friend = customers.join(session, system, phone="+79165550000",
                            referral_code=customer.referral_code.lower()).customer
    assert friend.referred_by_id == customer.id
    with pytest.raises(InvalidInput):
        customers.join(session, system, phone="+79165550001", referral_code="NOPE42")


def test_find_by_card_catches_typos_and_other_businesses(
        session: Session, system: Actor, customer: Customer, make_business: Callable) -> None:
    assert customers.by_card(session, system, cards.display(customer.card_number)).id == \
        customer.id
    typo = customer.card_number[:-1] + str((int(customer.card_number[-1]) + 1) % 10)
    with pytest.raises(InvalidCardNumber):
        customers.by_card(session, system, typo)
    with pytest.raises(UnknownCustomer):
        customers.by_card(session, Actor.system(make_business("Другой").id),
                          customer.card_number)


def test_find_by_plate_in_either_alphabet(session: Session, system: Actor,
                                          customer: Customer) -> None:
    customers.add_asset(session, system, customer_id=customer.id, kind="plate",
                        value="А123ВС 777", label="Lada Vesta")
    assert [c.id for c in customers.by_asset(session, system, "a123bc777")] == [customer.id]
    assert customers.by_asset(session, system, "B999BB99") == []
    with pytest.raises(InvalidInput):
        customers.by_asset(session, system, "a")


def test_assets_belong_to_customers_of_the_same_business(
        session: Session, customer: Customer, make_business: Callable) -> None:
    with pytest.raises(UnknownCustomer):
        customers.add_asset(session, Actor.system(make_business("Другой").id),
                            customer_id=customer.id, kind="plate", value="A123BC77")


def test_staff_passwords_are_argon2_and_logins_unique(session: Session,
                                                      business: Business) -> None:
    member = staff.create_staff(session, business_id=business.id, login="Ivan",
                                password="correct horse battery", role="cashier")
    assert member.login == "ivan" and member.password_hash.startswith("$argon2")
    assert staff.verify_password(member, "correct horse battery")
    assert not staff.verify_password(member, "correct horse batterY")
    with pytest.raises(AlreadyExists):
        staff.create_staff(session, business_id=business.id, login="ivan",
                           password="another good one", role="manager")


@pytest.mark.parametrize(("login", "password", "role"), [
    ("", "long enough pass", "cashier"), ("bad login", "long enough pass", "cashier"),
    ("ok", "short", "cashier"), ("ok", "long enough pass", "admin"),
])
def test_bad_staff_input_is_refused(session: Session, business: Business, login: str,
                                    password: str, role: str) -> None:
    with pytest.raises(InvalidInput):
        staff.create_staff(session, business_id=business.id, login=login, password=password,
                           role=role)


@pytest.mark.parametrize("field", [
    {"name": ""}, {"currency": "RUR"}, {"timezone": "Mars/Olympus"}, {"locale": "xx_YY_ZZ"},
    {"phone_region": "ZZ"},
])
def test_bad_business_settings_are_refused(session: Session, field: dict) -> None:
    with pytest.raises(InvalidInput):
        businesses.create_business(session, **{"name": "Гараж", **field})
    assert session.scalar(select(func.count(Business.id))) == 0


def test_a_business_gets_its_system_accounts(session: Session, business: Business) -> None:
    kinds = set(session.scalars(select(Account.kind).where(
        Account.business_id == business.id, Account.customer_id.is_(None))))
    assert kinds == {"issued", "redeemed", "expired", "adjusted"}
    assert business.currency == "RUB" and business.timezone == "Europe/Moscow"
