"""Closing orders under a program, end to end through the ledger, on both engines."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import T0
from webapp.domain.actor import Actor
from webapp.domain.errors import (
    IdempotencyConflict,
    InvalidAmount,
    InvalidInput,
    PermissionDenied,
)
from webapp.domain.presets import PRESETS
from webapp.domain.program import InvalidSetting
from webapp.domain.quote import OrderDraft
from webapp.persistence.models import (
    AuditEvent,
    Branch,
    Customer,
    EntitlementUse,
    IdempotencyKey,
    Operation,
    Order,
    ProgramVersion,
)
from webapp.services.counter import checkout
from webapp.services.customers import accounts as customers
from webapp.services.ledger import balances
from webapp.services.ledger import operations as ledger
from webapp.services.ledger.invariants import check
from webapp.services.program import versions as programs

Keys = Callable[[], str]
RUB = 100
_property_phones = itertools.count(5_000_000)
DAY = timedelta(days=1)


def use_program(session: Session, owner: Actor, keys: Keys, name: str, at=T0, **changes) -> int:
    settings = replace(PRESETS[name], **changes)
    return programs.save(session, owner, keys(), settings=settings, preset_name=name,
                         now=at)["version_id"]


def close(session: Session, actor: Actor, keys: Keys, customer: Customer, branch: Branch,
          rub: int, at=T0, **draft) -> dict:
    return checkout.close(session, actor, keys(), customer_id=customer.id, branch_id=branch.id,
                          draft=OrderDraft(total=rub * RUB, **draft), now=at)


def test_the_quote_shown_is_the_quote_applied(session: Session, owner: Actor, cashier: Actor,
                                              customer: Customer, branch: Branch,
                                              keys: Keys) -> None:
    use_program(session, owner, keys, "bonus_5_20")
    ledger.accrue(session, owner, keys(), customer_id=customer.id, points=3_000, now=T0)
    draft = OrderDraft(total=10_000 * RUB, redeem_points=2_000)
    shown = checkout.quote_order(session, cashier, customer_id=customer.id, draft=draft,
                                 now=T0 + DAY)
    closed = checkout.close(session, cashier, keys(), customer_id=customer.id,
                            branch_id=branch.id, draft=draft, now=T0 + DAY,
                            phone_present=True)  # confirmations: test_counter_pages.py
    assert (closed["redeemed"], closed["accrued"], closed["paid"]) == (
        shown.redeem_points, shown.accrue_points, shown.paid) == (2_000, 400, 8_000 * RUB)
    assert closed["available"] == 3_000 - 2_000 + 400
    order = session.get(Order, closed["order_id"])
    assert order is not None and order.program_version_id is not None
    assert check(session, now=T0 + DAY).ok


def test_a_version_change_never_rewrites_earlier_orders(
        session: Session, owner: Actor, customer: Customer, branch: Branch, keys: Keys) -> None:
    first = use_program(session, owner, keys, "bonus_5_20")
    before = close(session, owner, keys, customer, branch, 10_000, at=T0 + DAY)
    second = use_program(session, owner, keys, "bonus_5_20", at=T0 + 2 * DAY, accrual_bp=1000)
    after = close(session, owner, keys, customer, branch, 10_000, at=T0 + 3 * DAY)
    assert (before["accrued"], after["accrued"]) == (500, 1000)
    versions = dict(session.execute(select(Order.id, Order.program_version_id)).all())
    assert versions == {before["order_id"]: first, after["order_id"]: second}
    accrued = session.scalars(select(Operation.points).where(
        Operation.order_id == before["order_id"])).all()
    assert accrued == [500]


def test_tiers_discount_and_perks_follow_order_history(
        session: Session, owner: Actor, customer: Customer, branch: Branch, keys: Keys) -> None:
    use_program(session, owner, keys, "service_tiers")
    results = [close(session, owner, keys, customer, branch, 1_000, at=T0 + n * DAY)
               for n in range(1, 8)]
    assert [r["tier"] for r in results] == ["Базовый"] * 2 + ["Серебряный"] * 4 + ["Золотой"]
    assert results[1]["discount"] == 30 * RUB  # Base 3 % from the second order
    eighth = close(session, owner, keys, customer, branch, 1_000, at=T0 + 8 * DAY,
                   use=("free_diagnostics",))
    assert eighth["discount"] == 100 * RUB and eighth["used"] == ["free_diagnostics"]
    assert session.scalar(select(func.count(EntitlementUse.id))) == 1


def test_every_sixth_oil_change_is_free_at_the_counter(
        session: Session, owner: Actor, customer: Customer, branch: Branch, keys: Keys) -> None:
    use_program(session, owner, keys, "car_service")
    paid = [close(session, owner, keys, customer, branch, 3_000, at=T0 + n * DAY,
                  category="oil_change") for n in range(1, 7)]
    assert [r["discount"] for r in paid] == [0] * 5 + [3_000 * RUB]
    assert paid[-1]["accrued"] == 0 and "stamp:oil_change" in paid[-1]["used"]
    assert paid[0]["accrued"] == 150  # 5 % of 3 000 ₽ for the next visit


def test_referral_pays_both_sides_once(session: Session, owner: Actor, customer: Customer,
                                       branch: Branch, keys: Keys) -> None:
    use_program(session, owner, keys, "bonus_5_20", bonuses=replace(
        PRESETS["bonus_5_20"].bonuses, referral=300))
    friend = customers.join(session, owner, phone="+79160000001",
                            referral_code=customer.referral_code).customer
    first = close(session, owner, keys, friend, branch, 1_000, at=T0 + DAY)
    assert first["referral"] == 300 and first["available"] == 300 + 50
    assert balances.balance(session, owner, customer.id).available == 300
    again = close(session, owner, keys, friend, branch, 1_000, at=T0 + 2 * DAY)
    assert again["referral"] == 0
    assert check(session, now=T0 + 3 * DAY).ok


def test_closing_twice_with_one_key_closes_once(session: Session, owner: Actor,
                                                customer: Customer, branch: Branch) -> None:
    use_program(session, owner, lambda: "program-key-1", "bonus_5_20")
    args = dict(customer_id=customer.id, branch_id=branch.id, draft=OrderDraft(5_000 * RUB),
                now=T0 + DAY)
    first = checkout.close(session, owner, "counter-form-1", **args)
    assert checkout.close(session, owner, "counter-form-1", **args) == first
    assert session.scalar(select(func.count(Order.id))) == 1


def test_a_key_used_for_another_close_is_a_conflict_and_writes_nothing(
        session: Session, owner: Actor, customer: Customer, branch: Branch) -> None:
    """The close reads its key with the lock (run_once's do_reads_key): a replay of a
    different request is refused there, before anything is written."""
    use_program(session, owner, lambda: "program-key-1", "bonus_5_20")
    args = dict(customer_id=customer.id, branch_id=branch.id, now=T0 + DAY)
    checkout.close(session, owner, "counter-form-1", draft=OrderDraft(5_000 * RUB), **args)
    with pytest.raises(IdempotencyConflict):
        checkout.close(session, owner, "counter-form-1", draft=OrderDraft(6_000 * RUB), **args)
    assert session.scalar(select(func.count(Order.id))) == 1
    assert session.scalar(select(func.count(Operation.id)).where(
        Operation.customer_id == customer.id, Operation.order_id.is_not(None))) == 1


def test_a_close_writes_one_audit_event_with_its_key(session: Session, owner: Actor,
                                                     customer: Customer,
                                                     branch: Branch) -> None:
    """The event is written with the idempotency key (one statement on PostgreSQL): the
    same row as before, once per key, whatever the engine."""
    use_program(session, owner, lambda: "program-key-1", "bonus_5_20")
    args = dict(customer_id=customer.id, branch_id=branch.id, draft=OrderDraft(5_000 * RUB),
                now=T0 + DAY)
    first = checkout.close(session, owner, "counter-form-1", **args)
    checkout.close(session, owner, "counter-form-1", **args)
    events = session.execute(select(AuditEvent).where(AuditEvent.action == "close")).scalars()
    (event,) = list(events)
    assert (event.business_id, event.staff_id, event.customer_id, event.order_id, event.at) \
        == (owner.business_id, owner.staff_id, customer.id, first["order_id"], T0 + DAY)
    assert json.loads(event.details) == json.loads(json.dumps(
        {"total": 5_000 * RUB, **first}, sort_keys=True, default=str))
    key = session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "counter-form-1"))
    assert key is not None and json.loads(key.result) == first


def test_bad_orders_change_nothing(session: Session, owner: Actor, customer: Customer,
                                   branch: Branch, keys: Keys) -> None:
    with pytest.raises(checkout.NoProgram):
        close(session, owner, keys, customer, branch, 1_000)
    use_program(session, owner, keys, "bonus_5_20")
    with pytest.raises(InvalidAmount):  # more points than the customer has
        close(session, owner, keys, customer, branch, 1_000, at=T0 + DAY, redeem_points=10)
    with pytest.raises(InvalidAmount):
        close(session, owner, keys, customer, branch, -5, at=T0 + DAY)
    with pytest.raises(InvalidInput):  # a perk the customer does not have
        close(session, owner, keys, customer, branch, 1_000, at=T0 + DAY,
              use=("free_diagnostics",))
    assert session.scalar(select(func.count(Order.id))) == 0


def test_only_the_owner_saves_and_never_into_the_past(
        session: Session, owner: Actor, manager: Actor, keys: Keys) -> None:
    with pytest.raises(PermissionDenied):
        programs.save(session, manager, keys(), settings=PRESETS["bonus_5_20"], now=T0)
    with pytest.raises(InvalidSetting):
        programs.save(session, owner, keys(), settings=PRESETS["bonus_5_20"],
                      effective_from=T0 - DAY, now=T0)
    with pytest.raises(InvalidSetting):
        programs.save(session, owner, keys(), settings={"mechanic": "bonus", "accrual_bp": -1},
                      now=T0)
    assert session.scalar(select(func.count(ProgramVersion.id))) == 0
    saved = programs.save(session, owner, keys(), settings=PRESETS["discount_5"], now=T0)
    assert saved["version"] == 1
    assert [v.version for v in programs.history(session, owner)] == [1]


def test_check_ledger_catches_an_order_under_a_version_not_yet_in_force(
        session: Session, owner: Actor, customer: Customer, branch: Branch, keys: Keys) -> None:
    use_program(session, owner, keys, "bonus_5_20")
    later = use_program(session, owner, keys, "discount_5", at=T0 + 10 * DAY)
    closed = close(session, owner, keys, customer, branch, 1_000, at=T0 + DAY)
    assert check(session, now=T0 + DAY).ok
    session.execute(Order.__table__.update().where(Order.id == closed["order_id"])
                    .values(program_version_id=later))
    report = check(session, now=T0 + DAY)
    assert [f.invariant for f in report.findings if not f.ok] == ["I10"]


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(total=st.integers(0, 60_000), history_rub=st.lists(st.integers(500, 40_000), max_size=8),
       category=st.sampled_from([None, "oil_change", "repair"]), share=st.integers(0, 100),
       balance=st.integers(0, 5_000))
def test_property_the_quote_shown_is_the_quote_applied(
        session: Session, owner: Actor, branch: Branch, total: int, history_rub: list[int],
        category: str | None, share: int, balance: int) -> None:
    from webapp.domain.presets import DEMO

    if programs.version_at(session, owner.business_id, T0) is None:
        programs.save(session, owner, "property-program", settings=DEMO, now=T0 - DAY)
    phone = f"+7916{next(_property_phones):07d}"
    person = customers.join(session, owner, phone=phone, now=T0).customer
    if balance:
        ledger.accrue(session, owner, f"prop-seed-{phone}", customer_id=person.id,
                      points=balance, now=T0)
    for n, rub in enumerate(history_rub):
        close(session, owner, lambda n=n: f"prop-{phone}-{n}", person, branch, rub,
              at=T0 + n * DAY, category="oil_change")
    at = T0 + 30 * DAY
    offer = checkout.quote_order(session, owner, customer_id=person.id,
                                 draft=OrderDraft(total * RUB, category), now=at)
    draft = OrderDraft(total * RUB, category, redeem_points=offer.max_redeem_points * share // 100)
    shown = checkout.quote_order(session, owner, customer_id=person.id, draft=draft, now=at)
    before = balances.balance(session, owner, person.id, now=at).available
    applied = checkout.close(session, owner, f"prop-close-{phone}", customer_id=person.id,
                             branch_id=branch.id, draft=draft, now=at, phone_present=True)
    assert (applied["discount"], applied["redeemed"], applied["accrued"], applied["paid"],
            applied["tier"]) == (shown.total_discount, shown.redeem_points, shown.accrue_points,
                                 shown.paid, shown.tier_after)
    assert applied["available"] == before - shown.redeem_points + shown.accrue_points
