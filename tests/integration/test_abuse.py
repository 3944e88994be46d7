"""Abuse flags through the real close and join, on both engines: each limit flags
exactly when crossed, once per window; the hard limit refuses and writes nothing."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import T0
from webapp.domain.abuse import AbuseBlocked
from webapp.domain.actor import Actor, ActorKind, Role
from webapp.domain.counter_settings import AbuseLimits
from webapp.domain.errors import AlreadyResolved, InvalidInput, NotFound, PermissionDenied
from webapp.domain.presets import PRESETS
from webapp.domain.quote import OrderDraft
from webapp.persistence.models import (
    AbuseFlag,
    AuditEvent,
    Branch,
    Business,
    Customer,
    Operation,
    Order,
)
from webapp.services.abuse import checks as abuse
from webapp.services.abuse import flags as abuse_flags
from webapp.services.business import setup as businesses
from webapp.services.counter import checkout
from webapp.services.customers import accounts as customers
from webapp.services.ledger import balances
from webapp.services.ledger import operations as ledger
from webapp.services.program import versions as programs
from webapp.services.staff import accounts as staff

Keys = Callable[[], str]
RUB = 100
DAY1 = T0 + timedelta(days=1)  # 12:00 in Moscow
OFF = AbuseLimits(0, 0, 0, 0)


@pytest.fixture(autouse=True)
def program(request: pytest.FixtureRequest) -> None:
    """The bonus_5_20 program from T0; not for fresh_engine tests, which have their own
    database (on PostgreSQL an open test transaction would block its TRUNCATE)."""
    if "fresh_engine" in request.fixturenames:
        return
    session: Session = request.getfixturevalue("session")
    owner: Actor = request.getfixturevalue("owner")
    keys: Keys = request.getfixturevalue("keys")
    programs.save(
        session, owner, keys(), settings=PRESETS["bonus_5_20"], preset_name="bonus_5_20", now=T0
    )


def set_limits(session: Session, owner: Actor, **limits: int | bool) -> None:
    abuse_flags.save_limits(session, owner, AbuseLimits(**{**OFF.__dict__, **limits}))


def close(
    session: Session,
    actor: Actor,
    keys: Keys,
    customer: Customer,
    branch: Branch,
    at: datetime,
    rub: int = 1_000,
    redeem: int = 0,
    key: str | None = None,
) -> dict:
    return checkout.close(
        session,
        actor,
        key or keys(),
        customer_id=customer.id,
        branch_id=branch.id,
        now=at,
        draft=OrderDraft(total=rub * RUB, redeem_points=redeem),
    )


def flags(session: Session, business: Business) -> list[tuple[str, str, str]]:
    return [
        tuple(row)
        for row in session.execute(
            select(AbuseFlag.kind, AbuseFlag.subject, AbuseFlag.window)
            .where(AbuseFlag.business_id == business.id)
            .order_by(AbuseFlag.id)
        ).all()
    ]


def counts(session: Session) -> tuple[int, ...]:
    return tuple(
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Order, Operation, AbuseFlag, AuditEvent)
    )


def refused_attempts(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.action == "close_refused")) or 0


def test_customer_accruals_flag_above_the_day_limit_once_per_day(
    session: Session,
    owner: Actor,
    cashier: Actor,
    business: Business,
    customer: Customer,
    branch: Branch,
    keys: Keys,
) -> None:
    set_limits(session, owner, accruals_per_customer_day=2)
    results = [
        close(session, cashier, keys, customer, branch, DAY1 + timedelta(hours=h)) for h in range(4)
    ]
    assert [r["flags"] for r in results] == [[], [], ["customer_accruals_day"]] * 1 + [
        ["customer_accruals_day"]
    ]
    assert flags(session, business) == [
        ("customer_accruals_day", f"customer:{customer.id}", "2026-01-16")
    ]
    # 23:30 in Moscow is still the 16th; 00:30 is the 17th, a new window.
    late = datetime(2026, 1, 16, 20, 30, tzinfo=DAY1.tzinfo)
    assert close(session, cashier, keys, customer, branch, late)["flags"] == [
        "customer_accruals_day"
    ]
    next_day = late + timedelta(hours=1)
    assert [
        close(session, cashier, keys, customer, branch, next_day + timedelta(minutes=m))["flags"]
        for m in range(3)
    ] == [[], [], ["customer_accruals_day"]]
    assert [w for _, _, w in flags(session, business)] == ["2026-01-16", "2026-01-17"]
    flag = session.scalars(select(AbuseFlag).order_by(AbuseFlag.id)).first()
    assert flag is not None and flag.staff_id == cashier.staff_id
    assert flag.customer_id == customer.id and flag.status == "open"


def test_orders_without_points_are_not_accruals(
    session: Session,
    owner: Actor,
    cashier: Actor,
    business: Business,
    customer: Customer,
    branch: Branch,
    keys: Keys,
) -> None:
    set_limits(session, owner, accruals_per_customer_day=1)
    close(session, cashier, keys, customer, branch, DAY1)
    # 10 ₽ earns nothing under 5 %: no accrual, nothing to count.
    assert (
        close(session, cashier, keys, customer, branch, DAY1 + timedelta(minutes=5), rub=10)[
            "flags"
        ]
        == []
    )
    assert flags(session, business) == []


def test_staff_accruals_in_a_sliding_hour(
    session: Session,
    owner: Actor,
    cashier: Actor,
    business: Business,
    branch: Branch,
    make_customer: Callable[..., Customer],
    keys: Keys,
) -> None:
    set_limits(session, owner, accruals_per_staff_hour=2)
    people = [make_customer(business) for _ in range(5)]
    at = DAY1
    minutes = [0, 50, 70, 80]  # the first is out of the last hour before the third
    got = [
        close(session, cashier, keys, p, branch, at + timedelta(minutes=m))["flags"]
        for p, m in zip(people, minutes, strict=False)
    ]
    assert got == [[], [], [], ["staff_accruals_hour"]]
    # 13:20 in Moscow: the window is the clock hour of the crossing.
    assert flags(session, business) == [
        ("staff_accruals_hour", f"staff:{cashier.staff_id}", "2026-01-16T13")
    ]
    # Another cashier's accruals are theirs.
    assert close(session, owner, keys, people[4], branch, at + timedelta(minutes=81))["flags"] == []


def test_redeem_within_minutes_of_an_accrual(
    session: Session,
    owner: Actor,
    cashier: Actor,
    business: Business,
    branch: Branch,
    make_customer: Callable[..., Customer],
    keys: Keys,
) -> None:
    set_limits(session, owner, redeem_after_accrual_minutes=30)
    soon, later = make_customer(business), make_customer(business)
    for person in (soon, later):
        close(session, cashier, keys, person, branch, DAY1, rub=10_000)  # earns 500
    assert close(session, cashier, keys, soon, branch, DAY1 + timedelta(minutes=30), redeem=100)[
        "flags"
    ] == ["redeem_after_accrual"]
    assert (
        close(session, cashier, keys, later, branch, DAY1 + timedelta(minutes=31), redeem=100)[
            "flags"
        ]
        == []
    )
    assert flags(session, business) == [
        ("redeem_after_accrual", f"customer:{soon.id}", "2026-01-16")
    ]


def test_a_close_that_earns_and_redeems_is_not_its_own_trigger(
    session: Session,
    owner: Actor,
    cashier: Actor,
    business: Business,
    customer: Customer,
    branch: Branch,
    keys: Keys,
) -> None:
    set_limits(session, owner, redeem_after_accrual_minutes=30)
    ledger.accrue(session, owner, keys(), customer_id=customer.id, points=500, now=T0)
    result = close(session, cashier, keys, customer, branch, DAY1, rub=1_000, redeem=100)
    assert result["accrued"] > 0 and result["redeemed"] == 100
    assert result["flags"] == [] and flags(session, business) == []


def test_joins_without_orders(
    session: Session, owner: Actor, cashier: Actor, business: Business, branch: Branch, keys: Keys
) -> None:
    set_limits(session, owner, joins_without_orders_per_staff_day=2)

    def join(n: int, at: datetime) -> tuple[Customer, list[str]]:
        person = customers.join(session, cashier, phone=f"+7916555{n:04d}", now=at).customer
        person.joined_by_staff_id = cashier.staff_id
        session.commit()
        return person, abuse.check_join(session, cashier, customer_id=person.id, now=at)

    _, yesterday = join(1, DAY1 - timedelta(days=1))  # another day: not counted
    first, got_a = join(2, DAY1)
    close(session, cashier, keys, first, branch, DAY1 + timedelta(minutes=1))  # has an order
    _, got_b = join(3, DAY1 + timedelta(minutes=2))
    _, got_c = join(4, DAY1 + timedelta(minutes=3))
    _, got_d = join(5, DAY1 + timedelta(minutes=4))
    _, got_e = join(6, DAY1 + timedelta(minutes=5))
    assert [yesterday, got_a, got_b, got_c, got_d, got_e] == [
        [],
        [],
        [],
        [],
        ["joins_without_orders"],
        ["joins_without_orders"],
    ]
    assert flags(session, business) == [
        ("joins_without_orders", f"staff:{cashier.staff_id}", "2026-01-16")
    ]


def test_a_join_by_the_customer_themselves_is_not_counted(
    session: Session, owner: Actor, cashier: Actor, customer: Customer
) -> None:
    set_limits(session, owner, joins_without_orders_per_staff_day=1)
    assert abuse.check_join(session, cashier, customer_id=customer.id, now=DAY1) == []


def test_hard_block_refuses_and_writes_nothing(
    session: Session,
    owner: Actor,
    cashier: Actor,
    manager: Actor,
    business: Business,
    customer: Customer,
    branch: Branch,
    keys: Keys,
) -> None:
    set_limits(session, owner, accruals_per_customer_day=1, hard_block=True)
    assert close(session, cashier, keys, customer, branch, DAY1)["flags"] == []
    assert close(session, cashier, keys, customer, branch, DAY1 + timedelta(minutes=1))[
        "flags"
    ] == ["customer_accruals_day"]  # 2 > 1: flagged, still allowed
    before = counts(session)
    key = keys()
    with pytest.raises(AbuseBlocked) as refused:
        close(session, cashier, keys, customer, branch, DAY1 + timedelta(minutes=2), key=key)
    assert refused.value.code == "abuse_blocked" and refused.value.status == 409
    # No order and no ledger row; the attempt itself stays in the audit trail.
    orders, operations, flagged, events = before
    assert counts(session) == (orders, operations, flagged, events + 1)
    assert refused_attempts(session) == 1
    assert balances.balance(session, cashier, customer.id).available == 100
    # A manager is never refused, only flagged; the refused key is free to reuse.
    done = close(session, manager, keys, customer, branch, DAY1 + timedelta(minutes=3), key=key)
    assert done["flags"] == ["customer_accruals_day"]
    assert len(flags(session, business)) == 1


def test_hard_block_on_redeem_right_after_an_accrual(
    session: Session,
    owner: Actor,
    cashier: Actor,
    manager: Actor,
    business: Business,
    customer: Customer,
    branch: Branch,
    keys: Keys,
) -> None:
    set_limits(session, owner, redeem_after_accrual_minutes=30, hard_block=True)
    close(session, cashier, keys, customer, branch, DAY1, rub=10_000)
    before = counts(session)
    with pytest.raises(AbuseBlocked):
        close(session, cashier, keys, customer, branch, DAY1 + timedelta(minutes=5), redeem=100)
    # Nothing written but the flag the refusal raised and the attempt in the audit trail.
    orders, operations, flagged, events = before
    assert counts(session) == (orders, operations, flagged + 1, events + 1)
    assert close(session, manager, keys, customer, branch, DAY1 + timedelta(minutes=6), redeem=100)[
        "flags"
    ] == ["redeem_after_accrual"]


def test_system_closes_are_not_checked(
    session: Session,
    owner: Actor,
    system: Actor,
    business: Business,
    customer: Customer,
    branch: Branch,
    keys: Keys,
) -> None:
    set_limits(session, owner, accruals_per_customer_day=1, hard_block=True)
    got = [
        close(session, system, keys, customer, branch, DAY1 + timedelta(minutes=m))["flags"]
        for m in range(4)
    ]
    assert got == [[]] * 4 and flags(session, business) == []


def test_the_flags_in_a_result_are_stored_with_its_key(
    session: Session, owner: Actor, cashier: Actor, customer: Customer, branch: Branch, keys: Keys
) -> None:
    set_limits(session, owner, accruals_per_customer_day=1)
    close(session, cashier, keys, customer, branch, DAY1)
    first = close(
        session, cashier, keys, customer, branch, DAY1 + timedelta(minutes=1), key="same-key-0001"
    )
    again = close(
        session, cashier, keys, customer, branch, DAY1 + timedelta(minutes=1), key="same-key-0001"
    )
    assert first == again and first["flags"] == ["customer_accruals_day"]


def _one_flag(
    session: Session, owner: Actor, cashier: Actor, customer: Customer, branch: Branch, keys: Keys
) -> AbuseFlag:
    set_limits(session, owner, accruals_per_customer_day=1)
    close(session, cashier, keys, customer, branch, DAY1)
    close(session, cashier, keys, customer, branch, DAY1 + timedelta(minutes=1))
    flag = session.scalars(select(AbuseFlag)).one()
    return flag


def test_an_open_flag_stays_as_raised_while_its_limit_keeps_being_crossed(
    session: Session,
    owner: Actor,
    cashier: Actor,
    customer: Customer,
    branch: Branch,
    keys: Keys,
) -> None:
    """The close reads the flag's status with its counts: an open flag is left alone
    (no second flag, no new numbers), a crossing in the next window raises a new one."""
    flag = _one_flag(session, owner, cashier, customer, branch, keys)
    result = close(session, cashier, keys, customer, branch, DAY1 + timedelta(minutes=2))
    assert result["flags"] == ["customer_accruals_day"]
    session.expire_all()
    (same,) = session.scalars(select(AbuseFlag)).all()
    assert (same.id, same.status, same.details, same.raised_at) == (
        flag.id, "open", flag.details, flag.raised_at)
    close(session, cashier, keys, customer, branch, DAY1 + timedelta(days=1))
    close(session, cashier, keys, customer, branch, DAY1 + timedelta(days=1, minutes=1))
    assert len(session.scalars(select(AbuseFlag)).all()) == 2


def test_managers_see_open_flags_with_who_and_whom(
    session: Session,
    owner: Actor,
    cashier: Actor,
    manager: Actor,
    customer: Customer,
    branch: Branch,
    keys: Keys,
) -> None:
    flag = _one_flag(session, owner, cashier, customer, branch, keys)
    (view,) = abuse_flags.open_flags(session, manager)
    assert (view.id, view.kind, view.window, view.count, view.limit) == (
        flag.id,
        "customer_accruals_day",
        "2026-01-16",
        2,
        1,
    )
    assert view.customer_card == customer.card_number and view.customer_id == customer.id
    assert view.staff_id == cashier.staff_id and view.staff_name
    with pytest.raises(PermissionDenied):
        abuse_flags.open_flags(session, cashier)


def test_resolve_rules(
    session: Session,
    owner: Actor,
    cashier: Actor,
    manager: Actor,
    customer: Customer,
    branch: Branch,
    keys: Keys,
) -> None:
    flag = _one_flag(session, owner, cashier, customer, branch, keys)
    with pytest.raises(PermissionDenied):
        abuse_flags.resolve(session, cashier, flag.id, "ok")
    for note in ("", "   ", "x" * 501):
        with pytest.raises(InvalidInput):
            abuse_flags.resolve(session, manager, flag.id, note)
    abuse_flags.resolve(session, manager, flag.id, "  Клиент привёз три машины семьи  ", now=DAY1)
    session.expire_all()
    stored = session.get(AbuseFlag, flag.id)
    assert stored is not None and stored.status == "resolved"
    assert stored.resolution == "Клиент привёз три машины семьи"
    assert stored.resolved_by == manager.staff_id and stored.resolved_at == DAY1
    assert abuse_flags.open_flags(session, manager) == []
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "abuse_flag.resolve")
    ).one()
    assert event.staff_id == manager.staff_id and event.customer_id == customer.id
    with pytest.raises(AlreadyResolved):
        abuse_flags.resolve(session, owner, flag.id, "ещё раз")
    # The next crossing in the same window counts more: the same flag comes back open,
    # with the resolution it had in the audit trail.
    close(session, cashier, keys, customer, branch, DAY1 + timedelta(minutes=5))
    (back,) = abuse_flags.open_flags(session, manager)
    assert (back.id, back.count) == (flag.id, 3)
    reopened = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "abuse_flag.reopen")
    ).one()
    assert json.loads(reopened.details)["resolution"] == "Клиент привёз три машины семьи"
    assert json.loads(reopened.details)["recorded_count"] == 2


def test_another_business_flags_are_not_found(
    session: Session,
    owner: Actor,
    cashier: Actor,
    customer: Customer,
    branch: Branch,
    keys: Keys,
    make_business: Callable[..., Business],
    make_staff: Callable[..., Actor],
) -> None:
    flag = _one_flag(session, owner, cashier, customer, branch, keys)
    other = make_staff(make_business("Чужой сервис"), Role.OWNER)
    assert abuse_flags.open_flags(session, other) == []
    with pytest.raises(NotFound):
        abuse_flags.resolve(session, other, flag.id, "не наше")
    with pytest.raises(NotFound):
        abuse_flags.resolve(session, other, 10_000_000, "нет такого")
    with pytest.raises(NotFound):
        abuse.check_join(session, other, customer_id=customer.id, now=DAY1)
    assert session.get(AbuseFlag, flag.id).status == "open"  # type: ignore[union-attr]


def test_only_the_owner_changes_limits(session: Session, manager: Actor, owner: Actor) -> None:
    with pytest.raises(PermissionDenied):
        abuse_flags.save_limits(session, manager, AbuseLimits(1, 1, 1, 1))
    with pytest.raises(InvalidInput):
        abuse_flags.save_limits(session, owner, AbuseLimits(-1, 1, 1, 1))
    assert abuse_flags.current_limits(session, manager) == AbuseLimits()
    abuse_flags.save_limits(session, owner, AbuseLimits(5, 6, 7, 8, hard_block=True))
    assert abuse_flags.current_limits(session, manager) == AbuseLimits(5, 6, 7, 8, True)


@pytest.mark.slow
def test_one_flag_when_many_raise_it_at_once(fresh_engine: Engine) -> None:
    sessions = sessionmaker(bind=fresh_engine, expire_on_commit=False)
    with sessions() as db:
        business_id = businesses.create_business(db, name="Гараж").id
        member = staff.create_staff(
            db,
            business_id=business_id,
            login="kassa",
            password="correct horse battery",
            role="cashier",
        )
        owner = Actor(business_id, ActorKind.STAFF, None, Role.OWNER)
        abuse_flags.save_limits(db, owner, AbuseLimits(0, 0, 0, 1))
        cashier = Actor.staff(business_id, member.id, Role.CASHIER)
        joined = []
        for n in range(3):
            person = customers.join(db, cashier, phone=f"+7916777{n:04d}", now=DAY1).customer
            person.joined_by_staff_id = member.id
            joined.append(person.id)
        db.commit()
    outcomes: list[list[str]] = []
    start = threading.Barrier(6)

    def check(n: int) -> None:
        with sessions() as db:
            start.wait()
            outcomes.append(abuse.check_join(db, cashier, customer_id=joined[n % 3], now=DAY1))

    threads = [threading.Thread(target=check, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes == [["joins_without_orders"]] * 6
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(AbuseFlag)) == 1
