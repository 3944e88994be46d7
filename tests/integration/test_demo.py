"""The demo generator on the real database: a plausible car service whose ledger checks clean,
and ``regulars demo`` end to end."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import POSTGRES_URL, T0
from tests.serving import regulars_run
from webapp.demo import DemoResult, generate
from webapp.domain.actor import Actor
from webapp.domain.consent import TEXTS, ConsentKind
from webapp.domain.quote import OrderDraft
from webapp.persistence.database import make_engine
from webapp.persistence.models import (
    Asset,
    Branch,
    Business,
    Consent,
    Customer,
    EntitlementUse,
    IdempotencyKey,
    Operation,
    Order,
    ServiceCategory,
    StaffUser,
)
from webapp.services.counter import checkout
from webapp.services.ledger import balances
from webapp.services.ledger.invariants import check
from webapp.services.staff import accounts as staff

SEED, CUSTOMERS = 3, 25
DAY = timedelta(days=1)


@pytest.fixture
def demo(session: Session) -> tuple[DemoResult, list[int]]:
    calls: list[int] = []
    return generate(session, customers=CUSTOMERS, seed=SEED, progress=calls.append,
                    now=T0), calls


def kinds(session: Session, business_id: int) -> Counter[str]:
    rows = session.execute(select(Operation.kind, func.count())
                           .where(Operation.business_id == business_id)
                           .group_by(Operation.kind)).all()
    return Counter({kind: count for kind, count in rows})


def history(session: Session, business_id: int) -> list[tuple[Any, ...]]:
    """What a seed decides: every order and every ledger operation, in the order written."""
    order_rows = session.execute(
        select(Customer.phone, Order.total_minor, Order.service_category, Order.created_at,
               Order.refunded_minor)
        .join(Customer, Customer.id == Order.customer_id)
        .where(Order.business_id == business_id).order_by(Order.id)).all()
    op_rows = session.execute(
        select(Operation.kind, Operation.points, Operation.created_at, Operation.reason)
        .where(Operation.business_id == business_id).order_by(Operation.id)).all()
    return [tuple(row) for row in [*order_rows, *op_rows]]


def test_demo_builds_a_russian_car_service_with_two_branches_and_four_staff(
        session: Session, demo: tuple[DemoResult, list[int]]) -> None:
    result, _ = demo
    business = session.get(Business, result.business_id)
    assert business is not None
    assert (business.name, business.currency, business.timezone, business.locale) == (
        result.business_name, "RUB", "Europe/Moscow", "ru")
    assert session.scalar(select(func.count(Branch.id))
                          .where(Branch.business_id == business.id)) == 2

    assert [(login, role) for login, _, role in result.logins] == [
        ("owner", "owner"), ("manager", "manager"), ("cashier1", "cashier"),
        ("cashier2", "cashier")]
    assert len({password for _, password, _ in result.logins}) == 4
    cashier_branches = []
    for login, password, role in result.logins:
        member = session.scalar(select(StaffUser).where(
            StaffUser.business_id == business.id, StaffUser.login == login))
        assert member is not None and member.role == role
        assert staff.verify_password(member, password)
        if role == "cashier":
            assert len(member.branches) == 1
            cashier_branches.append(member.branches[0].id)
            assert not staff.verify_password(member, result.logins[0][1])  # not the owner's
        else:
            assert len(member.branches) == 2
    assert len(set(cashier_branches)) == 2  # one cashier per branch


def test_demo_names_every_category_its_orders_and_card_use(
        session: Session, demo: tuple[DemoResult, list[int]]) -> None:
    result, _ = demo
    named = {code: name for code, name in session.execute(
        select(ServiceCategory.code, ServiceCategory.name_en)
        .where(ServiceCategory.business_id == result.business_id, ServiceCategory.active))}
    used = set(session.scalars(select(Order.service_category).distinct().where(
        Order.business_id == result.business_id, Order.service_category.is_not(None))))
    assert {"oil_change", "repair"} <= used <= named.keys()
    assert named["oil_change"] == "Oil change" and {"parts", "consumables"} <= named.keys()


def test_demo_customers_gave_their_consents_at_the_counter(
        session: Session, demo: tuple[DemoResult, list[int]]) -> None:
    result, _ = demo
    bid = result.business_id
    cashiers = set(session.scalars(select(StaffUser.id).where(
        StaffUser.business_id == bid, StaffUser.role == "cashier")))
    rows = session.execute(select(Consent.customer_id, Consent.kind, Consent.granted,
                                  Consent.text_version, Consent.channel, Consent.staff_id,
                                  Customer.created_at, Consent.at)
                           .join(Customer, Customer.id == Consent.customer_id)
                           .where(Consent.business_id == bid)).all()
    data = {row.customer_id: row for row in rows if row.kind == "personal_data"}
    assert len(data) == CUSTOMERS  # every customer, once
    assert {(r.granted, r.text_version, r.channel) for r in data.values()} == {
        (True, TEXTS[ConsentKind.PERSONAL_DATA].version, "counter")}
    assert {r.staff_id for r in rows} <= cashiers and all(r.at == r.created_at for r in rows)
    # The advertising consent: a row for exactly those who have it on their customer row.
    ads = {r.customer_id for r in rows if r.kind == "advertising" and r.granted}
    assert ads == set(session.scalars(select(Customer.id).where(
        Customer.business_id == bid, Customer.marketing_consent.is_(True))))
    assert 0 < len(ads) < CUSTOMERS


def test_demo_writes_two_years_of_every_kind_of_operation_and_checks_clean(
        session: Session, demo: tuple[DemoResult, list[int]]) -> None:
    result, calls = demo
    bid = result.business_id
    assert calls == [1] * CUSTOMERS
    assert result.customers == CUSTOMERS
    assert session.scalar(select(func.count(Customer.id))
                          .where(Customer.business_id == bid)) == CUSTOMERS
    assert session.scalar(select(func.count(Order.id))
                          .where(Order.business_id == bid)) == result.orders
    assert result.orders > CUSTOMERS  # regulars come back

    counts = kinds(session, bid)
    # Orders run through the program: every paid order earns, a free (stamp) one does not.
    order_accruals = session.scalar(select(func.count(Operation.id)).where(
        Operation.business_id == bid, Operation.kind == "accrual",
        Operation.order_id.is_not(None))) or 0
    free = session.scalar(select(func.count(Order.id)).where(
        Order.business_id == bid, Order.discount_minor == Order.total_minor)) or 0
    assert order_accruals == result.orders - free
    welcomes = session.scalar(select(func.count(IdempotencyKey.id)).where(
        IdempotencyKey.business_id == bid, IdempotencyKey.key.like("welcome-%")))
    assert welcomes == CUSTOMERS
    assert session.scalar(select(func.count(Order.id)).where(
        Order.business_id == bid, Order.program_version_id.is_(None))) == 0
    tiers_seen = {checkout.quote_order(session, Actor.system(bid), customer_id=c,
                                       draft=OrderDraft(100_000), now=T0).tier_before
                  for c in session.scalars(select(Customer.id).where(
                      Customer.business_id == bid))}
    assert len(tiers_seen - {None}) >= 3, tiers_seen
    assert session.scalar(select(func.count(EntitlementUse.id)).where(
        EntitlementUse.business_id == bid)) > 0
    for kind in ("redemption", "reversal", "adjustment", "expiry"):
        assert counts[kind] > 0, (kind, counts)
    first, last = session.execute(select(func.min(Order.created_at), func.max(Order.created_at))
                                  .where(Order.business_id == bid)).one()
    assert T0 - 731 * DAY < first < T0 - 365 * DAY and T0 - 60 * DAY < last < T0
    assert session.scalar(select(func.max(Operation.created_at))
                          .where(Operation.business_id == bid)) == T0  # the final expiry run
    prices = session.execute(select(func.min(Order.total_minor), func.max(Order.total_minor))
                             .where(Order.business_id == bid)).one()
    assert prices[0] >= 1_500_00 and prices[1] <= 40_000_00

    people = session.scalars(select(Customer).where(Customer.business_id == bid)).all()
    plates = session.scalar(select(func.count(func.distinct(Asset.customer_id)))
                            .where(Asset.business_id == bid, Asset.kind == "plate")) or 0
    assert CUSTOMERS * 0.4 < plates < CUSTOMERS
    assert all(p.phone.startswith("+79") and len(p.phone) == 12 for p in people)
    assert result.try_phone in {p.phone for p in people}  # printed to try the customer app
    assert any(p.birthday for p in people) and any(p.marketing_consent for p in people)
    assert any(p.referred_by_id for p in people)

    system = Actor.system(bid)
    last_visit = dict(session.execute(
        select(Order.customer_id, func.max(Order.created_at))
        .where(Order.business_id == bid).group_by(Order.customer_id)).all())
    sleeping = expiring = 0
    for person in people:
        balance = balances.balance(session, system, person.id, now=T0)
        assert balance.available >= 0 and balance.pending >= 0 and balance.owed >= 0
        if balance.available and T0 - 180 * DAY <= last_visit[person.id] <= T0 - 90 * DAY:
            sleeping += 1
        expiring += balance.expiring_total > 0
    assert sleeping and expiring, (sleeping, expiring)

    report = check(session, now=T0)
    assert report.ok, [(f.invariant, f.violations) for f in report.findings if not f.ok]


def test_same_seed_same_history_other_seed_other_history(session: Session) -> None:
    first = generate(session, customers=8, seed=SEED, now=T0)
    again = generate(session, customers=8, seed=SEED, now=T0)  # same database, new business
    other = generate(session, customers=8, seed=SEED + 1, now=T0)
    assert history(session, first.business_id) == history(session, again.business_id)
    assert history(session, first.business_id) != history(session, other.business_id)
    assert first.orders == again.orders
    assert first.logins[0][1] != again.logins[0][1]  # passwords are never seeded


@pytest.mark.skipif(bool(POSTGRES_URL), reason="the CLI run builds its own SQLite file; "
                    "the generator itself is tested on PostgreSQL above")
def test_regulars_demo_command_end_to_end(tmp_path: Path) -> None:
    database = tmp_path / "demo.sqlite3"
    where = {"database_url": f"sqlite:///{database}", "instance": tmp_path,
             "env": {"PYTHONUTF8": "1"}, "timeout": 300}

    upgraded = regulars_run("db", "upgrade", **where)
    assert upgraded.returncode == 0, upgraded.stderr
    built = regulars_run("demo", "--no-serve", "--customers", "15", **where)
    assert built.returncode == 0, built.stderr
    assert "«Гараж на Лесной»" in built.stdout
    printed = dict(re.findall(r"^\s+\w+\s+(owner|manager|cashier1|cashier2)\s+(\S+)$",
                              built.stdout, re.MULTILINE))
    assert sorted(printed) == ["cashier1", "cashier2", "manager", "owner"]

    engine = make_engine(f"sqlite:///{database}")
    try:
        with Session(engine) as db:
            for login, password in printed.items():
                member = db.scalar(select(StaffUser).where(StaffUser.login == login))
                assert member is not None and staff.verify_password(member, password)
            assert db.scalar(select(func.count(Customer.id))) == 15
    finally:
        engine.dispose()

    checked = regulars_run("check-ledger", **where)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "All invariants hold." in checked.stdout
