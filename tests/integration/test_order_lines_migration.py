"""0014 turns every existing order into a one-line document, on a populated database,
on both engines, and goes back down cleanly."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from tests.migrating import downgrade, insert
from webapp.persistence.migrate import upgrade

WHEN = datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None)


def populate(connection: Connection) -> None:
    """Three orders as 0013 holds them: earned and spent points, refunded in full,
    refunded in part; two categories, one used twice."""
    insert(connection, "businesses", id=1, name="Гараж", currency="RUB",
           timezone="Europe/Moscow", locale="ru", phone_region="RU", created_at=WHEN)
    insert(connection, "branches", id=11, business_id=1, name="Центр", created_at=WHEN)
    insert(connection, "customers", id=21, business_id=1, phone="+79161234561",
           marketing_consent=False, referral_code="REF1", card_number="000000001",
           status="active", checkin_secret=bytes(32), created_at=WHEN)
    insert(connection, "assets", id=31, business_id=1, customer_id=21, kind="plate",
           value="А123ВС77", search_key="A123BC77", created_at=WHEN)
    orders = [  # id, total, refunded, discount, category, asset, status
        (41, 250_000, 0, 10_000, "oil_change", 31, "closed"),
        (42, 100_000, 100_000, 0, "oil_change", None, "refunded"),
        (43, 300_000, 50_000, 0, "diagnostics", None, "partially_refunded"),
    ]
    for order_id, total, refunded, discount, category, asset, status in orders:
        insert(connection, "orders", id=order_id, business_id=1, branch_id=11,
               customer_id=21, asset_id=asset, total_minor=total, refunded_minor=refunded,
               discount_minor=discount, service_category=category, status=status,
               created_at=WHEN, closed_at=WHEN)
    for op_id, kind, points, order_id in ((51, "accrual", 120, 41), (52, "redemption", 30, 41),
                                          (53, "accrual", 50, 42), (54, "reversal", 50, 42)):
        insert(connection, "operations", id=op_id, business_id=1, customer_id=21, kind=kind,
               points=points, order_id=order_id, created_at=WHEN)


def lines(connection: Connection) -> list[tuple[object, ...]]:
    return [tuple(row) for row in connection.execute(text(
        "SELECT order_id, position, name, kind, category, asset_id, quantity,"
        " unit_price_minor, amount_minor, discount_minor, redeemed_points, accrued_points,"
        " returned_quantity FROM order_lines ORDER BY order_id"))]


def test_0014_gives_every_order_one_line_and_downgrades(empty_engine: Engine) -> None:
    upgrade(empty_engine, "0013")
    with empty_engine.begin() as connection:
        populate(connection)

    upgrade(empty_engine, "0014")
    with empty_engine.begin() as connection:
        assert lines(connection) == [
            (41, 1, "", "other", "oil_change", 31, 1, 250_000, 250_000, 10_000, 30, 120, 0),
            (42, 1, "", "other", "oil_change", None, 1, 100_000, 100_000, 0, 0, 50, 1),
            (43, 1, "", "other", "diagnostics", None, 1, 300_000, 300_000, 0, 0, 0, 0),
        ]
        # Each order's lines add up to its total.
        assert connection.execute(text(
            "SELECT count(*) FROM orders o WHERE o.total_minor <>"
            " (SELECT SUM(l.amount_minor) FROM order_lines l WHERE l.order_id = o.id)"
        )).scalar() == 0
        assert sorted(connection.execute(text(
            "SELECT code, name_ru, kind FROM service_categories"))) == [
            ("diagnostics", "diagnostics", "work"), ("oil_change", "oil_change", "work")]
        # The constraints hold: an amount that is not quantity × price, a second
        # position 1, a return of more than was sold.
        for statement in (
            "INSERT INTO order_lines (business_id, order_id, position, name, kind, quantity,"
            " unit_price_minor, amount_minor, discount_minor, redeemed_points, accrued_points,"
            " returned_quantity) VALUES (1, 41, 2, 'Масло', 'part', 2, 100, 300, 0, 0, 0, 0)",
            "INSERT INTO order_lines (business_id, order_id, position, name, kind, quantity,"
            " unit_price_minor, amount_minor, discount_minor, redeemed_points, accrued_points,"
            " returned_quantity) VALUES (1, 41, 1, 'Масло', 'part', 1, 100, 100, 0, 0, 0, 0)",
            "UPDATE order_lines SET returned_quantity = 2 WHERE order_id = 41",
            "INSERT INTO service_categories (business_id, code, name_ru, kind, active)"
            " VALUES (1, 'oil_change', 'Замена масла', 'work', TRUE)",
        ):
            try:
                with connection.begin_nested():
                    connection.execute(text(statement))
            except IntegrityError:
                continue
            raise AssertionError(f"accepted: {statement}")
        # Who took a consent at the counter can now be recorded.
        assert "staff_id" in {c["name"] for c in inspect(connection).get_columns("consents")}

    downgrade(empty_engine, "0013")
    with empty_engine.begin() as connection:
        inspector = inspect(connection)
        assert "order_lines" not in inspector.get_table_names()
        assert "service_categories" not in inspector.get_table_names()
        assert "staff_id" not in {c["name"] for c in inspector.get_columns("consents")}
        assert connection.execute(text("SELECT count(*) FROM orders")).scalar() == 3
        # consents is still append-only after the column came and went.
        insert(connection, "consents", business_id=1, customer_id=21, kind="personal_data",
               granted=True, text_version="v1", channel="pwa", at=WHEN)
        try:
            with connection.begin_nested():
                connection.execute(text("UPDATE consents SET granted = FALSE"))
        except DBAPIError:  # the append-only trigger refuses it
            pass
        else:
            raise AssertionError("consents became writable")

    upgrade(empty_engine)  # and up again, to head
    with empty_engine.connect() as connection:
        assert len(lines(connection)) == 3
