"""Orders with lines, closed and returned through the real services on both engines:
each line keeps what the program gave it, a return of some lines reverses exactly
what they earned and spent, and a returned oil change takes its stamp back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import T0
from webapp.domain.actor import Actor
from webapp.domain.errors import (
    IdempotencyConflict,
    InvalidAmount,
    InvalidInput,
    PermissionDenied,
)
from webapp.domain.order_lines import LineKind, OrderLine
from webapp.domain.presets import PRESETS
from webapp.domain.program import LineRule, StampCard
from webapp.domain.quote import OrderDraft
from webapp.persistence.models import Asset, Branch, Business, Customer, Order
from webapp.persistence.models import OrderLine as LineRow
from webapp.services.counter import checkout
from webapp.services.ledger import balances, returns
from webapp.services.ledger import operations as ledger
from webapp.services.ledger.invariants import check
from webapp.services.program import versions as programs
from webapp.services.program.standing import customer_state

Keys = Callable[[], str]
RUB = 100
DAY = timedelta(days=1)
OIL = StampCard("oil_change", "Каждая 6-я замена масла бесплатно", every=6)


def oil_change(rub: int) -> OrderLine:
    return OrderLine(rub * RUB, name="Замена масла", kind=LineKind.WORK, category="oil_change")


def part(rub: int, quantity: int = 1) -> OrderLine:
    return OrderLine(rub * RUB, quantity, name="Масло 5W-30, 1 л", kind=LineKind.PART,
                     category="parts")


@pytest.fixture
def program(session: Session, owner: Actor, keys: Keys) -> None:
    """Cashback 5 % on works, 1 % on parts, pay up to 50 %; every 6th oil change free."""
    settings = replace(PRESETS["cashback_5_50"], stamp_cards=(OIL,),
                       line_rules=(LineRule(kind="part", accrual_bp=100),))
    programs.save(session, owner, keys(), settings=settings, now=T0 - DAY)


def close(session: Session, actor: Actor, keys: Keys, customer: Customer, branch: Branch,
          *lines: OrderLine, redeem: int = 0, at=T0) -> dict:
    return checkout.close(session, actor, keys(), customer_id=customer.id, branch_id=branch.id,
                          draft=OrderDraft(lines=lines, redeem_points=redeem), now=at,
                          phone_present=True)


def rows(session: Session, order_id: int) -> list[LineRow]:
    return list(session.scalars(select(LineRow).where(LineRow.order_id == order_id)
                                .order_by(LineRow.position)))


@pytest.mark.usefixtures("program")
def test_a_closed_order_keeps_its_lines_and_what_each_got(
        session: Session, cashier: Actor, customer: Customer, branch: Branch,
        keys: Keys) -> None:
    ledger.accrue(session, Actor.system(customer.business_id), keys(),
                  customer_id=customer.id, points=5_000, now=T0 - DAY)
    closed = close(session, cashier, keys, customer, branch, oil_change(3_000),
                   part(700, quantity=5), redeem=1_300)
    order = session.get(Order, closed["order_id"])
    assert order is not None
    assert (order.total_minor, order.service_category) == (6_500 * RUB, "oil_change")
    work, oil = rows(session, order.id)
    assert (work.name, work.kind, work.quantity, work.amount_minor) == (
        "Замена масла", "work", 1, 3_000 * RUB)
    assert (oil.kind, oil.quantity, oil.unit_price_minor, oil.amount_minor) == (
        "part", 5, 700 * RUB, 3_500 * RUB)
    assert work.redeemed_points + oil.redeemed_points == 1_300 == closed["redeemed"]
    assert (work.redeemed_points, oil.redeemed_points) == (600, 700)
    # 5 % of 2 400 ₽ paid on the work, 1 % of 2 800 ₽ paid on the oil.
    assert (work.accrued_points, oil.accrued_points) == (120, 28)
    assert closed["accrued"] == 148
    assert check(session, now=T0).ok


@pytest.mark.usefixtures("program")
def test_returning_a_line_reverses_exactly_what_it_earned_and_spent(
        session: Session, cashier: Actor, manager: Actor, customer: Customer,
        branch: Branch, keys: Keys) -> None:
    ledger.accrue(session, Actor.system(customer.business_id), keys(),
                  customer_id=customer.id, points=5_000, now=T0 - DAY)
    closed = close(session, cashier, keys, customer, branch, oil_change(3_000),
                   part(700, quantity=5), redeem=1_300)
    before = balances.balance_of(session, customer.business_id, customer.id, T0 + DAY)
    # Two of the five litres come back, then the other three: 28 points earned on the
    # oil and 700 spent on it come back in exact shares that add up to the whole.
    first = returns.return_lines(session, manager, keys(), order_id=closed["order_id"],
                                 quantities={2: 2}, now=T0 + DAY)
    assert first["points"] == 11 - 280  # took 28 * 2 // 5, gave back 700 * 2 // 5
    second = returns.return_lines(session, manager, keys(), order_id=closed["order_id"],
                                  quantities={2: 3}, now=T0 + DAY)
    assert second["points"] == (28 - 11) - (700 - 280)
    after = balances.balance_of(session, customer.business_id, customer.id, T0 + DAY)
    assert after.available == before.available - 28 + 700
    order = session.get(Order, closed["order_id"])
    assert order is not None
    session.refresh(order)
    assert (order.refunded_minor, order.status) == (3_500 * RUB, "partially_refunded")
    assert [line.returned_quantity for line in rows(session, order.id)] == [0, 5]
    # More than was sold, an unknown line, nothing, a cashier: refused, nothing changes.
    for quantities, error in (({2: 1}, InvalidAmount), ({9: 1}, InvalidInput),
                              ({1: 0}, InvalidInput)):
        with pytest.raises(error):
            returns.return_lines(session, manager, keys(), order_id=order.id,
                                 quantities=quantities, now=T0 + DAY)
    with pytest.raises(PermissionDenied):
        returns.return_lines(session, cashier, keys(), order_id=order.id, quantities={1: 1})
    assert balances.balance_of(session, customer.business_id, customer.id, T0 + DAY) == after
    assert check(session, now=T0 + DAY).ok


@pytest.mark.usefixtures("program")
def test_a_return_is_done_once_per_key(session: Session, cashier: Actor, manager: Actor,
                                       customer: Customer, branch: Branch,
                                       keys: Keys) -> None:
    closed = close(session, cashier, keys, customer, branch, oil_change(3_000), part(700))
    once = returns.return_lines(session, manager, "return-1", order_id=closed["order_id"],
                                quantities={1: 1}, now=T0 + DAY)
    again = returns.return_lines(session, manager, "return-1", order_id=closed["order_id"],
                                 quantities={1: 1}, now=T0 + DAY)
    assert again == once
    with pytest.raises(IdempotencyConflict):
        returns.return_lines(session, manager, "return-1", order_id=closed["order_id"],
                             quantities={2: 1}, now=T0 + DAY)


@pytest.mark.usefixtures("program")
def test_spent_points_of_a_returned_line_become_a_clawback(
        session: Session, cashier: Actor, manager: Actor, customer: Customer,
        branch: Branch, keys: Keys) -> None:
    closed = close(session, cashier, keys, customer, branch, oil_change(10_000))
    earned = closed["accrued"]
    ledger.redeem(session, cashier, keys(), customer_id=customer.id, points=earned, now=T0)
    returns.return_lines(session, manager, keys(), order_id=closed["order_id"],
                         quantities={1: 1}, now=T0 + DAY)
    now = balances.balance_of(session, customer.business_id, customer.id, T0 + DAY)
    assert (now.available, now.owed) == (0, earned)
    assert check(session, now=T0 + DAY).ok


@pytest.mark.usefixtures("program")
def test_a_returned_oil_change_takes_its_stamp_back(
        session: Session, cashier: Actor, manager: Actor, customer: Customer,
        branch: Branch, keys: Keys) -> None:
    orders = [close(session, cashier, keys, customer, branch, oil_change(2_000), part(500),
                    at=T0 + n * DAY) for n in range(5)]

    def stamps() -> int:
        state = customer_state(session, customer.business_id, customer.id, 0)
        assert len(state.orders) == 5  # a returned line never drops the visit
        return checkout.quote_order(session, cashier, customer_id=customer.id,
                                    draft=OrderDraft(total=0), now=T0 + 6 * DAY
                                    ).stamps[0].have

    assert stamps() == 5
    returns.return_lines(session, manager, keys(), order_id=orders[-1]["order_id"],
                         quantities={1: 1}, now=T0 + 6 * DAY)
    assert stamps() == 4  # the parts were kept: the visit counts, the stamp does not
    sixth = close(session, cashier, keys, customer, branch, oil_change(2_000), part(500),
                  at=T0 + 7 * DAY)
    assert sixth["discount"] == 0  # the 5th stamp again, not the free one
    seventh = close(session, cashier, keys, customer, branch, oil_change(2_500), part(500),
                    at=T0 + 8 * DAY)
    assert seventh["discount"] == 2_500 * RUB  # the oil change only, not the parts
    assert check(session, now=T0 + 9 * DAY).ok


@pytest.mark.usefixtures("program")
def test_an_order_of_several_lines_is_refunded_by_line_not_by_amount(
        session: Session, cashier: Actor, manager: Actor, customer: Customer,
        branch: Branch, keys: Keys) -> None:
    closed = close(session, cashier, keys, customer, branch, oil_change(3_000), part(700))
    with pytest.raises(InvalidInput) as refused:
        ledger.reverse(session, manager, keys(), order_id=closed["order_id"],
                       refund_minor=100 * RUB)
    assert refused.value.code == "refund_by_lines"
    # A one-line order is still refunded by amount, as before.
    single = close(session, cashier, keys, customer, branch, oil_change(3_000))
    ledger.reverse(session, manager, keys(), order_id=single["order_id"],
                   refund_minor=3_000 * RUB)
    assert check(session, now=T0).ok


@pytest.mark.usefixtures("program")
def test_a_line_for_another_customers_vehicle_is_refused(
        session: Session, cashier: Actor, customer: Customer, branch: Branch, keys: Keys,
        business: Business, make_customer: Callable[..., Customer]) -> None:
    other = make_customer(business)
    theirs = Asset(business_id=business.id, customer_id=other.id, kind="plate",
                   value="А001АА77", search_key="A001AA77")
    session.add(theirs)
    session.flush()
    with pytest.raises(InvalidInput) as refused:
        close(session, cashier, keys, customer, branch,
              replace(oil_change(2_000), asset_id=theirs.id))
    assert refused.value.code == "asset_not_customers"
    assert session.scalar(select(LineRow.id).where(LineRow.asset_id == theirs.id)) is None


@pytest.mark.usefixtures("program")
def test_check_ledger_finds_lines_that_do_not_add_up_or_a_wrong_return(
        session: Session, cashier: Actor, manager: Actor, customer: Customer,
        branch: Branch, keys: Keys) -> None:
    closed = close(session, cashier, keys, customer, branch, oil_change(3_000), part(700, 5))
    returns.return_lines(session, manager, keys(), order_id=closed["order_id"],
                         quantities={2: 1}, now=T0 + DAY)
    assert check(session, now=T0 + DAY).ok
    work, oil = rows(session, closed["order_id"])
    # Behind the services' back (orders and lines are not append-only; the ledger is):
    # a line whose price changed after the close, then a return that was not reversed.
    work.unit_price_minor, work.amount_minor = 2_000 * RUB, 2_000 * RUB
    session.flush()
    found = {f.invariant: f for f in check(session, now=T0 + DAY).findings}
    assert any("its lines add up to" in v for v in found["I5"].violations)
    work.unit_price_minor, work.amount_minor = 3_000 * RUB, 3_000 * RUB
    oil.returned_quantity = 2
    order = session.get(Order, closed["order_id"])
    assert order is not None
    order.refunded_minor += 700 * RUB
    session.flush()
    found = {f.invariant: f for f in check(session, now=T0 + DAY).findings}
    assert any(v.startswith(f"order {order.id}: reversed") for v in found["I5"].violations)
