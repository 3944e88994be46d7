"""The counter's line editor over HTTP: an order typed as works and parts is quoted line
by line and closed as lines; bad rows are refused with the line's number and write
nothing. The shop runs the DEMO program (5 % bonus, pay up to 20 %, every 6th oil change
free)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.integration.counter.conftest import balance, next_key, orders, post, url
from webapp.persistence.models import Asset, OrderLine

ROWS = {"line_name": ["Замена масла", "Масло 5W-30, 1 л", ""],
        "line_kind": ["work", "part", "work"],
        "line_category": ["oil_change", "", ""],
        "line_qty": ["1", "5", "1"],
        "line_price": ["2 500", "700,50", ""]}


def test_the_panel_has_a_line_editor(cashier: Any, shop: Any, regular: Any) -> None:
    page = cashier.get(url(shop, f"/customers/{regular.id}")).get_data(as_text=True)
    assert page.count('name="line_price"') == 4  # three rows and the template's
    assert 'id="add-line"' in page and "js/order_lines.js" in page


def test_lines_are_quoted_line_by_line(cashier: Any, shop: Any, regular: Any) -> None:
    response = post(cashier, shop, f"/customers/{regular.id}/quote", total="", redeem="0",
                    **ROWS)
    assert response.status_code == 200
    text = response.get_data(as_text=True).replace("\u202f", " ").replace("\u00a0", " ")
    assert "К оплате: <strong>6 002,50 ₽</strong>" in text
    assert "Масло 5W-30, 1 л × 5" in text and "Замена масла" in text


def test_lines_are_closed_as_lines(app: Any, cashier: Any, shop: Any, regular: Any) -> None:
    response = post(cashier, shop, f"/customers/{regular.id}/close", key=next_key(),
                    total="999", redeem="100", **ROWS)  # the lines win over a stale total
    assert response.status_code == 200, response.get_json()
    order_id = response.get_json()["result"]["order_id"]
    lines = app.test_session().scalars(
        select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.position)
    ).all()
    assert [(line.name, line.kind, line.quantity, line.unit_price_minor) for line in lines] == [
        ("Замена масла", "work", 1, 250_000), ("Масло 5W-30, 1 л", "part", 5, 70_050)]
    assert sum(line.redeemed_points for line in lines) == 100
    earned = sum(line.accrued_points for line in lines)
    assert earned == response.get_json()["result"]["accrued"] > 0
    assert balance(app, shop, regular.id) == 2_100 - 100 + earned


@pytest.mark.parametrize(("change", "says"), [
    ({"line_price": ["2 500", "", ""]}, "Позиция 2: укажите цену."),
    ({"line_qty": ["1", "0", "1"]}, "Позиция 2: количество — целое число от 1 до 10"),
    ({"line_qty": ["1", "1,5", "1"]}, "Позиция 2: количество — целое число от 1 до 10"),
    ({"line_kind": ["work", "labour", "work"]}, "Позиция 2: тип — работа, запчасть или другое."),
    ({"line_price": ["2 500", "-1", ""]}, "отрицательной"),
    ({"line_name": ["x" * 300, "Масло", ""]}, None),  # cut to 200, not refused
])
def test_bad_rows_are_refused_and_change_nothing(app: Any, cashier: Any, shop: Any,
                                                regular: Any, change: dict[str, list[str]],
                                                says: str | None) -> None:
    before = orders(app, regular.id)
    response = post(cashier, shop, f"/customers/{regular.id}/close", key=next_key(),
                    **{**ROWS, **change})
    if says is None:
        assert response.status_code == 200
        return
    assert response.status_code == 422
    assert says in response.get_json()["detail"].replace("\u202f", " ").replace("\u00a0", " ")
    assert orders(app, regular.id) == before


def test_too_many_rows_are_refused(app: Any, cashier: Any, shop: Any, regular: Any) -> None:
    rows = {name: ["1"] * 201 for name in ROWS}
    rows["line_kind"] = ["part"] * 201
    response = post(cashier, shop, f"/customers/{regular.id}/close", key=next_key(), **rows)
    assert response.status_code == 422
    assert orders(app, regular.id) == 0


def test_the_receipt_lists_the_lines(cashier: Any, shop: Any, regular: Any) -> None:
    closed = post(cashier, shop, f"/customers/{regular.id}/close", key=next_key(), **ROWS)
    receipt = cashier.get(closed.get_json()["url"]).get_data(as_text=True)
    text = receipt.replace("\u202f", " ").replace("\u00a0", " ")
    assert 'class="receipt-items"' in text
    assert "Замена масла" in text and "Масло 5W-30, 1 л" in text
    assert "3 502,50 ₽" in text  # five litres at 700,50 ₽
    assert "Масло 5W-30, 1 л × 5: 3 502,50 ₽" in text  # in the text a share sends too


def test_a_line_can_be_for_another_vehicle(app: Any, cashier: Any, shop: Any,
                                           regular: Any) -> None:
    db = app.test_session()
    cars = [Asset(business_id=shop.id, customer_id=regular.id, kind="plate", value=plate,
                  search_key=plate) for plate in ("А123ВС77", "В456ОР99")]
    db.add_all(cars)
    db.flush()
    first, second = cars[0].id, cars[1].id
    db.commit()
    page = cashier.get(url(shop, f"/customers/{regular.id}")).get_data(as_text=True)
    assert page.count('name="line_asset"') == 4  # three rows and the template's
    rows = {**ROWS, "line_asset": ["", str(second), ""]}
    closed = post(cashier, shop, f"/customers/{regular.id}/close", key=next_key(),
                  asset_id=str(first), **rows)
    assert closed.status_code == 200, closed.get_json()
    saved = app.test_session().scalars(
        select(OrderLine.asset_id).where(OrderLine.order_id == closed.get_json()["result"][
            "order_id"]).order_by(OrderLine.position)).all()
    assert saved == [first, second]  # the order's car, then the line's own
    wrong = post(cashier, shop, f"/customers/{regular.id}/close", key=next_key(),
                 **{**ROWS, "line_asset": ["", "x", ""]})
    assert wrong.status_code == 422
