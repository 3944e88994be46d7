"""Scanning at the counter: static card numbers and single-use rotating codes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import T0
from webapp.domain import cards, checkin
from webapp.domain.actor import Actor
from webapp.domain.checkin import InvalidCheckinCode, StaleCheckinCode
from webapp.domain.errors import InvalidCardNumber, UnknownCustomer
from webapp.persistence.models import Business, CheckinUse, Customer
from webapp.services.business import setup as businesses
from webapp.services.counter.checkins import CodeAlreadyUsed, identify
from webapp.services.customers import accounts as customers


def test_a_static_card_number_identifies(session: Session, system: Actor,
                                         customer: Customer) -> None:
    found = identify(session, system, cards.display(customer.card_number), T0)
    assert (found.customer_id, found.by_code) == (customer.id, False)
    with pytest.raises(InvalidCardNumber):
        identify(session, system, customer.card_number[:-1] + "0"
                 if customer.card_number[-1] != "0" else customer.card_number[:-1] + "1", T0)


def test_a_rotating_code_is_accepted_once(session: Session, system: Actor,
                                          customer: Customer) -> None:
    code = checkin.make(customer.checkin_secret, customer.card_number, T0)
    found = identify(session, system, code, T0 + timedelta(seconds=20))
    assert (found.customer_id, found.by_code) == (customer.id, True)
    with pytest.raises(CodeAlreadyUsed, match="checkin_code_used"):
        identify(session, system, code, T0 + timedelta(seconds=25))
    with pytest.raises(StaleCheckinCode):
        identify(session, system, checkin.make(customer.checkin_secret,
                                               customer.card_number, T0), T0 + timedelta(hours=1))
    assert session.scalar(select(func.count(CheckinUse.id))) == 1


def test_codes_are_checked_against_the_customers_own_secret(
        session: Session, system: Actor, customer: Customer,
        make_customer: Callable[..., Customer], business: Business,
        make_business: Callable[..., Business]) -> None:
    other = make_customer(business)
    forged = checkin.make(other.checkin_secret, customer.card_number, T0)
    with pytest.raises(InvalidCheckinCode):
        identify(session, system, forged, T0)
    code = checkin.make(customer.checkin_secret, customer.card_number, T0)
    with pytest.raises(UnknownCustomer):  # another business's counter
        identify(session, Actor.system(make_business("Другой").id), code, T0)
    assert customer.checkin_secret != other.checkin_secret


@pytest.mark.slow
def test_one_code_scanned_on_two_tablets_at_once_counts_once(fresh_engine: Engine) -> None:
    sessions = sessionmaker(bind=fresh_engine, expire_on_commit=False)
    with sessions() as db:
        business_id = businesses.create_business(db, name="Гараж").id
        person = customers.join(db, Actor.system(business_id), phone="+79161234567").customer
        code = checkin.make(person.checkin_secret, person.card_number, T0)
    outcomes: list[str] = []
    start = threading.Barrier(6)

    def scan() -> None:
        with sessions() as db:
            start.wait()
            try:
                identify(db, Actor.system(business_id), code, T0)
                outcomes.append("accepted")
            except CodeAlreadyUsed:
                outcomes.append("refused")

    threads = [threading.Thread(target=scan) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["accepted"] + ["refused"] * 5
