"""Finding customers by card number, phone suffix, plate or serial (any staff member)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from webapp.domain import cards
from webapp.domain.actor import Actor
from webapp.domain.errors import InvalidInput
from webapp.persistence.models import Business, Customer
from webapp.services.customers import accounts as customers
from webapp.services.customers import search as customer_search

MakeCustomer = Callable[..., Customer]


def test_by_card_number(session: Session, cashier: Actor, customer: Customer) -> None:
    spaced = cards.display(customer.card_number)
    found = customer_search.search(session, cashier, spaced)
    assert [(f.customer_id, f.matched) for f in found] == [(customer.id, "card")]
    assert found[0].card_number == spaced


def test_a_card_number_with_a_typo_finds_nobody(
    session: Session, cashier: Actor, customer: Customer
) -> None:
    typo = customer.card_number[:-1] + str((int(customer.card_number[-1]) + 1) % 10)
    assert all(f.matched != "card" for f in customer_search.search(session, cashier, typo))


def test_by_phone_suffix_masks_the_phone(
    session: Session, cashier: Actor, make_customer: MakeCustomer, business: Business
) -> None:
    ivan = make_customer(business, phone="+79161234567", name="Иван")
    make_customer(business, phone="+79167654321")
    found = customer_search.search(session, cashier, "45-67")
    assert [(f.customer_id, f.name, f.phone, f.matched) for f in found] == [
        (ivan.id, "Иван", "+7 *** ***-45-67", "phone")
    ]
    assert [f.customer_id for f in customer_search.search(session, cashier, "8 916 123 45 67")] == [
        ivan.id
    ]
    assert [c.id for c in customer_search.by_phone_suffix(session, cashier, "1234567")] == [ivan.id]


def test_by_plate_in_either_alphabet(
    session: Session, cashier: Actor, manager: Actor, customer: Customer
) -> None:
    customers.add_asset(
        session, manager, customer_id=customer.id, kind="plate", value="А123ВС77", label="Лада"
    )
    customers.add_asset(session, manager, customer_id=customer.id, kind="serial", value="SN-0042")
    for query in ("а123вс77", "A 123 BC 77", "sn0042"):
        found = customer_search.search(session, cashier, query)
        assert [(f.customer_id, f.matched) for f in found] == [(customer.id, "asset")]
        assert found[0].assets == ["А123ВС77", "SN-0042"]


def test_at_most_twenty_results(
    session: Session, cashier: Actor, make_customer: MakeCustomer, business: Business
) -> None:
    for n in range(23):
        make_customer(business, phone=f"+7925{n:03d}0000")
    assert len(customer_search.search(session, cashier, "0000")) == 20
    assert len(customer_search.by_phone_suffix(session, cashier, "0000")) == 20


def test_other_businesses_are_not_searched(
    session: Session,
    cashier: Actor,
    make_business: Callable[..., Business],
    make_customer: MakeCustomer,
) -> None:
    other = make_business("Чужой")
    stranger = make_customer(other, phone="+79169998877")
    assert customer_search.search(session, cashier, "98877") == []
    assert customer_search.search(session, cashier, stranger.card_number) == []


@pytest.mark.parametrize("query", ["", "  ", "1", "+7", "ж", "%%%%", "x" * 65])
def test_too_little_to_search_by(session: Session, cashier: Actor, query: str) -> None:
    with pytest.raises(InvalidInput):
        customer_search.search(session, cashier, query)


@pytest.mark.parametrize("digits", ["123", "12345678901", "12a4", "", "١٢٣٤"])
def test_phone_suffix_is_four_to_ten_digits(session: Session, cashier: Actor, digits: str) -> None:
    with pytest.raises(InvalidInput):
        customer_search.by_phone_suffix(session, cashier, digits)
