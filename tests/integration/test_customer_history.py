"""The manager's view of a customer: card, balance, orders, operations in Russian,
the page's refund and correction, and the audit trail as people read it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from tests.conftest import T0
from webapp.domain import cards
from webapp.domain.actor import Actor, Role
from webapp.domain.errors import (
    InsufficientPoints,
    InvalidAmount,
    NotFound,
    PermissionDenied,
    UnknownCustomer,
    UnknownOrder,
)
from webapp.persistence.models import Branch, Business, Customer, Order
from webapp.services.counter import orders
from webapp.services.customers import history as customer_history
from webapp.services.ledger import operations as ledger
from webapp.services.reports import audit_trail

Keys = Callable[[], str]
DAY = timedelta(days=1)
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/120.0.0.0 Safari/537.36"
)


def _close(
    session: Session,
    actor: Actor,
    keys: Keys,
    customer: Customer,
    branch: Branch,
    total: int,
    accrue: int = 0,
    redeem: int = 0,
    at: int = 0,
) -> int:
    return int(
        orders.close_order(
            session,
            actor,
            keys(),
            customer_id=customer.id,
            branch_id=branch.id,
            total_minor=total,
            accrue_points=accrue,
            redeem_points=redeem,
            now=T0 + at * DAY,
        )["order_id"]
    )


def test_history_shows_card_balance_orders_and_operations(
    session: Session, manager: Actor, customer: Customer, branch: Branch, keys: Keys
) -> None:
    customer.name = "Иван Петров"
    session.commit()
    first = _close(session, manager, keys, customer, branch, 240000, accrue=120)
    second = _close(session, manager, keys, customer, branch, 150050, redeem=100, at=1)
    ledger.reverse(session, manager, keys(), order_id=first, refund_minor=120000, now=T0 + 2 * DAY)
    ledger.adjust(
        session,
        manager,
        keys(),
        customer_id=customer.id,
        points=100,
        reason="Компенсация за ожидание",
        now=T0 + 3 * DAY,
    )

    page = customer_history.history(session, manager, customer.id)

    assert page.customer.name == "Иван Петров"
    assert page.customer.phone.startswith("+7 916")
    assert page.customer.card_number.replace(" ", "") == customer.card_number
    assert page.customer.status == "активен"
    # The refund took 60, but only 20 were left: 40 are owed, settled from later accruals.
    assert (page.balance.available, page.balance.pending, page.balance.owed) == (100, 0, 40)
    assert [o.id for o in page.orders] == [second, first]
    newest, oldest = page.orders
    assert (newest.total, newest.redeemed, newest.earned, newest.status) == (
        "1\u202f500,50\u00a0₽",
        100,
        0,
        "оплачен",
    )
    assert newest.left_input == "1500,50" and newest.refundable
    assert (oldest.refunded_minor, oldest.left_minor, oldest.earned) == (120000, 120000, 120)
    assert oldest.status == "частичный возврат" and oldest.branch == branch.name
    texts = [op.text for op in page.operations]
    assert texts == [
        "Корректировка +100: Компенсация за ожидание",
        f"Возврат заказа №{first}: \u221260",
        f"Списано 100 в оплату заказа №{second}",
        f"Начислено 120 за заказ №{first}",
    ]
    assert [op.available_change for op in page.operations] == [100, -20, -100, 120]
    assert page.operations[1].branch == branch.name
    assert page.operations[0].staff is not None and page.operations[0].branch is None
    assert page.operations[0].when.startswith((T0 + 3 * DAY).strftime("%d.%m.%Y"))


def test_history_describes_expiry_and_money_back(
    session: Session, manager: Actor, system: Actor, customer: Customer, branch: Branch, keys: Keys
) -> None:
    ledger.accrue(
        session, system, keys(), customer_id=customer.id, points=50, expires_at=T0 + DAY, now=T0
    )
    ledger.accrue(session, system, keys(), customer_id=customer.id, points=300, now=T0)
    assert ledger.expire_due(session, system, now=T0 + 2 * DAY) == 50
    order = _close(session, manager, keys, customer, branch, 100000, redeem=300, at=2)
    ledger.reverse(session, manager, keys(), order_id=order, refund_minor=100000)
    texts = [op.text for op in customer_history.history(session, manager, customer.id).operations]
    assert texts[0] == f"Возврат заказа №{order}: +300"
    assert "Сгорело 50" in texts
    assert texts.count("Начислено 50") == 1


def test_a_new_customer_has_an_empty_history(
    session: Session, manager: Actor, customer: Customer
) -> None:
    page = customer_history.history(session, manager, customer.id)
    assert page.orders == [] and page.operations == []
    assert page.balance.available == 0


def test_cashiers_may_not_see_histories(
    session: Session, cashier: Actor, customer: Customer, keys: Keys
) -> None:
    with pytest.raises(PermissionDenied):
        customer_history.history(session, cashier, customer.id)
    with pytest.raises(PermissionDenied):
        audit_trail.trail(session, cashier, customer_id=customer.id)
    with pytest.raises(PermissionDenied):
        customer_history.adjust(
            session, cashier, keys(), customer_id=customer.id, points=5, reason="x"
        )


def test_another_business_is_unknown(
    session: Session,
    manager: Actor,
    make_business: Callable[..., Business],
    make_customer: Callable[..., Customer],
    make_staff: Callable[..., Actor],
    keys: Keys,
) -> None:
    other = make_business("Чужой")
    stranger = make_customer(other)
    other_manager = make_staff(other, Role.MANAGER)
    with pytest.raises(UnknownCustomer):
        customer_history.history(session, manager, stranger.id)
    with pytest.raises(UnknownCustomer):
        audit_trail.trail(session, manager, customer_id=stranger.id)
    with pytest.raises(NotFound):
        audit_trail.trail(session, manager, staff_id=other_manager.staff_id)
    with pytest.raises(UnknownCustomer):
        customer_history.adjust(
            session, manager, keys(), customer_id=stranger.id, points=5, reason="x"
        )


def test_refund_needs_the_customers_own_order(
    session: Session,
    manager: Actor,
    make_customer: Callable[..., Customer],
    business: Business,
    branch: Branch,
    keys: Keys,
) -> None:
    one, two = make_customer(business), make_customer(business)
    order = _close(session, manager, keys, one, branch, 50000, accrue=25)
    with pytest.raises(UnknownOrder):
        customer_history.refund(
            session, manager, keys(), customer_id=two.id, order_id=order, refund_minor=100
        )
    with pytest.raises(UnknownOrder):
        customer_history.refund(
            session, manager, keys(), customer_id=one.id, order_id=order + 1000, refund_minor=100
        )
    key = keys()
    done = customer_history.refund(
        session, manager, key, customer_id=one.id, order_id=order, refund_minor=50000
    )
    assert (done.points, done.available, done.owed) == (25, 0, 0)
    again = customer_history.refund(
        session, manager, key, customer_id=one.id, order_id=order, refund_minor=50000
    )
    assert again == done
    assert session.get(Order, order).refunded_minor == 50000
    with pytest.raises(InvalidAmount):
        customer_history.refund(
            session, manager, keys(), customer_id=one.id, order_id=order, refund_minor=1
        )


def test_a_negative_correction_needs_the_points(
    session: Session, manager: Actor, customer: Customer, keys: Keys
) -> None:
    with pytest.raises(InsufficientPoints):
        customer_history.adjust(
            session, manager, keys(), customer_id=customer.id, points=-10, reason="Ошибка кассира"
        )
    done = customer_history.adjust(
        session, manager, keys(), customer_id=customer.id, points=30, reason="Подарок к юбилею"
    )
    assert (done.points, done.available) == (30, 30)


def test_trail_reads_like_a_log(
    session: Session, manager: Actor, customer: Customer, branch: Branch, keys: Keys
) -> None:
    there = dataclasses.replace(manager, ip="203.0.113.7", device=CHROME, branch_id=branch.id)
    order = _close(session, there, keys, customer, branch, 200000, accrue=100)
    ledger.reverse(session, there, keys(), order_id=order, refund_minor=50000)
    customer_history.adjust(
        session, there, keys(), customer_id=customer.id, points=-5, reason="Двойное начисление"
    )

    by_customer = audit_trail.trail(session, manager, customer_id=customer.id)
    assert [e.action for e in by_customer.events] == ["Корректировка баллов", "Возврат заказа"]
    adjusted, refunded = by_customer.events
    assert adjusted.device == "Chrome 120, Windows" and adjusted.ip == "203.0.113.7"
    assert adjusted.branch == branch.name and adjusted.staff_id == manager.staff_id
    assert "причина: Двойное начисление" in adjusted.details
    assert "баллы \u22125" in adjusted.details
    assert f"заказ №{order}" in refunded.details
    assert "возврат 500\u00a0₽" in refunded.details and "баллы \u221225" in refunded.details
    assert by_customer.subject == cards.display(customer.card_number)  # no name given

    by_staff = audit_trail.trail(session, manager, staff_id=manager.staff_id)
    assert len(by_staff.events) == 2
    assert all(e.customer_id == customer.id and e.customer for e in by_staff.events)


@pytest.mark.parametrize(
    ("agent", "short"),
    [
        (CHROME, "Chrome 120, Windows"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15"
            " (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
            "Safari 17, iPhone",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko)"
            " Chrome/120.0 YaBrowser/24.1.0 Mobile Safari/537.36",
            "Яндекс Браузер 24, Android",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
            "Firefox 121, Linux",
        ),
        ("curl/8.5.0", "curl/8.5.0"),
        ("x" * 60, "x" * 39 + "…"),
        (None, None),
    ],
)
def test_user_agents_are_shortened(agent: str | None, short: str | None) -> None:
    assert audit_trail.short_device(agent) == short
