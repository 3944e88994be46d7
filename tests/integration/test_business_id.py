"""Every table that grows with a business names it (migration 0012, issue #13): the
migration backfills a populated database on both engines, and ``check-ledger`` finds
an entry filed under the wrong business."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from tests.conftest import T0
from tests.migrating import downgrade, insert
from webapp.domain.actor import Actor
from webapp.persistence.migrate import upgrade
from webapp.persistence.models import Business, Customer, Entry
from webapp.services.ledger import operations as ledger
from webapp.services.ledger.invariants import check

NINE = ("transfers", "entries", "consents", "customer_sessions", "push_subscriptions",
        "pass_registrations", "checkin_uses", "push_reminders", "staff_branches")
WHEN = datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None)


def populate(connection: Connection, b: int) -> None:
    """One row in each of the nine tables for business ``b`` (1 or 2), as 0011 had
    them. Row ids differ from the business id, so a backfill that copied the wrong
    column would show."""
    insert(connection, "businesses", id=b, name=f"Гараж {b}", currency="RUB",
           timezone="Europe/Moscow", locale="ru", phone_region="RU", created_at=WHEN)
    branch, customer, member = 10 + b, 20 + b, 30 + b
    available, issued, operation, transfer = 40 + b, 50 + b, 60 + b, 70 + b
    walletpass, session = 80 + b, 90 + b
    insert(connection, "branches", id=branch, business_id=b, name="Центр", created_at=WHEN)
    insert(connection, "customers", id=customer, business_id=b, phone=f"+7916123456{b}",
           marketing_consent=False, referral_code=f"REF{b}", card_number=f"00000000{b}",
           status="active", checkin_secret=bytes(32), created_at=WHEN)
    insert(connection, "staff_users", id=member, business_id=b, login="owner",
           display_name="Owner", password_hash="x", role="owner", active=True,
           created_at=WHEN)
    insert(connection, "staff_branches", staff_id=member, branch_id=branch)
    insert(connection, "accounts", id=available, business_id=b, customer_id=customer,
           kind="available", balance=10)
    insert(connection, "accounts", id=issued, business_id=b, kind="issued")
    insert(connection, "operations", id=operation, business_id=b, customer_id=customer,
           kind="accrual", points=10, created_at=WHEN)
    insert(connection, "transfers", id=transfer, operation_id=operation,
           debit_account_id=issued, credit_account_id=available, amount=10, created_at=WHEN)
    insert(connection, "entries", id=2 * transfer, transfer_id=transfer, account_id=issued,
           amount=-10)
    insert(connection, "entries", id=2 * transfer + 1, transfer_id=transfer,
           account_id=available, amount=10)
    insert(connection, "consents", id=100 + b, customer_id=customer, kind="personal_data",
           granted=True, text_version="v1", channel="pwa", at=WHEN)
    insert(connection, "customer_sessions", id=session, customer_id=customer,
           token_hash=f"token-{b}", created_at=WHEN, last_seen_at=WHEN)
    insert(connection, "push_subscriptions", id=110 + b, customer_id=customer,
           session_id=session, endpoint=f"https://push.example/{b}", p256dh="k", auth="a",
           created_at=WHEN)
    insert(connection, "push_reminders", id=120 + b, customer_id=customer, kind="expiring",
           ref=7, sent_at=WHEN)
    insert(connection, "checkin_uses", id=130 + b, customer_id=customer, step=5,
           used_at=WHEN)
    insert(connection, "wallet_passes", id=walletpass, business_id=b, customer_id=customer,
           serial=f"serial-{b}", updated_at=WHEN, created_at=WHEN, google_object=False,
           google_messages=0)
    insert(connection, "pass_registrations", id=140 + b, device_id="device", push_token="t",
           pass_id=walletpass, created_at=WHEN)


def businesses_of(connection: Connection, table: str) -> list[int]:
    order = "staff_id" if table == "staff_branches" else "id"
    return list(connection.execute(
        text(f"SELECT business_id FROM {table} ORDER BY {order}")).scalars())


def refused(connection: Connection, statement: str, error: type[Exception]) -> bool:
    try:
        with connection.begin_nested():
            connection.execute(text(statement))
    except error:
        return True
    return False


def test_0012_backfills_a_populated_database_and_downgrades(empty_engine: Engine) -> None:
    upgrade(empty_engine, "0011")
    with empty_engine.begin() as connection:
        populate(connection, 1)
        populate(connection, 2)

    upgrade(empty_engine, "0012")
    with empty_engine.begin() as connection:
        for table in NINE:
            per_row = 2 if table == "entries" else 1
            assert businesses_of(connection, table) == [1] * per_row + [2] * per_row, table
        # The new keys lead with the business and still refuse duplicates.
        for duplicate in (
            "INSERT INTO checkin_uses (business_id, customer_id, step, used_at)"
            " VALUES (1, 21, 5, '2026-01-02')",
            "INSERT INTO push_reminders (business_id, customer_id, kind, ref, sent_at)"
            " VALUES (2, 22, 'expiring', 7, '2026-01-02')",
            "INSERT INTO pass_registrations (business_id, device_id, push_token, pass_id,"
            " created_at) VALUES (1, 'device', 't', 81, '2026-01-02')",
            "INSERT INTO entries (business_id, transfer_id, account_id, amount)"
            " VALUES (1, 71, 41, 10)",
            "INSERT INTO staff_branches (business_id, staff_id, branch_id) VALUES (2, 32, 12)",
        ):
            assert refused(connection, duplicate, IntegrityError), duplicate
        # ... and the column is required and must name a business.
        assert refused(connection, "INSERT INTO checkin_uses (customer_id, step, used_at)"
                       " VALUES (21, 6, '2026-01-02')", IntegrityError)
        assert refused(connection, "INSERT INTO checkin_uses (business_id, customer_id, step,"
                       " used_at) VALUES (9, 21, 6, '2026-01-02')", IntegrityError)
        # The append-only triggers the migration had to lift are back.
        for table in ("entries", "transfers", "consents"):
            assert refused(connection, f"UPDATE {table} SET business_id = business_id",
                           DBAPIError), table
        if connection.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []

    downgrade(empty_engine, "0011")
    with empty_engine.begin() as connection:
        inspector = inspect(connection)
        for table in NINE:
            columns = {c["name"] for c in inspector.get_columns(table)}
            assert "business_id" not in columns, table
        assert connection.execute(text("SELECT count(*) FROM entries")).scalar() == 4
        assert refused(connection, "UPDATE entries SET amount = amount", DBAPIError)
        assert refused(connection, "INSERT INTO checkin_uses (customer_id, step, used_at)"
                       " VALUES (21, 5, '2026-01-02')", IntegrityError)

    upgrade(empty_engine)  # and up again, to head
    with empty_engine.connect() as connection:
        assert businesses_of(connection, "entries") == [1, 1, 2, 2]


def test_check_ledger_finds_an_entry_of_another_business(
        session: Session, business: Business, customer: Customer,
        make_business: Any) -> None:
    ledger.accrue(session, Actor.system(business.id), "business-id-1", customer_id=customer.id,
                  points=10)
    report = check(session, now=T0)
    assert report.ok, [(f.invariant, f.violations) for f in report.findings if not f.ok]

    other = make_business("Другой")
    entry = session.query(Entry).filter_by(business_id=business.id).order_by(Entry.id).first()
    assert entry is not None
    # Corrupt history behind the ledger's back: lift the append-only trigger in this
    # transaction only (the test's rollback puts it back on both engines).
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("DROP TRIGGER entries_append_only ON entries"))
    else:
        session.execute(text("DROP TRIGGER entries_no_update"))
    session.execute(text("UPDATE entries SET business_id = :other WHERE id = :id"),
                    {"other": other.id, "id": entry.id})

    findings = {f.invariant: f for f in check(session, now=T0).findings}
    assert not findings["I11"].ok
    assert findings["I11"].violations[0].startswith(f"entry {entry.id} is filed under business"
                                                    f" {other.id}")
