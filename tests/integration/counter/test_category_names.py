"""Categories by their names where codes showed: the counter's choice (the name shown,
the code sent), the receipt, the back office's orders and the program's stamp cards, in
Russian and in English."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from tests.integration.counter.conftest import next_key
from tests.web_client import csrf, staff_signed_in
from webapp.domain.actor import Role
from webapp.persistence.models import Order, ServiceCategory
from webapp.services.program import categories

JSON = {"Accept": "application/json"}


def _panel(shop: SimpleNamespace, customer: SimpleNamespace) -> str:
    return f"/b/{shop.id}/counter/{shop.centre}/customers/{customer.id}"


def _options(html: str) -> list[tuple[str, str]]:
    """The counter's category choice: (code sent, name shown) of each option."""
    found = re.search(r'<select id="category" name="category">(.*?)</select>', html, re.DOTALL)
    assert found, "the close form offers a category"
    return re.findall(r'<option value="([^"]*)">([^<]*)</option>', found.group(1))


def test_the_counter_offers_categories_by_name_and_sends_the_code(
        app: Any, shop: Any, cashier: Any, regular: Any) -> None:
    db = app.test_session()
    tyres = db.scalar(select(ServiceCategory.id).where(
        ServiceCategory.business_id == shop.id, ServiceCategory.code == "tyres"))
    categories.set_active(db, shop.owner, tyres, False)
    russian = _options(cashier.get(_panel(shop, regular)).get_data(as_text=True))
    english = _options(cashier.get(_panel(shop, regular) + "?lang=en").get_data(as_text=True))
    assert russian[:3] == [("", "—"), ("oil_change", "Замена масла"),
                           ("diagnostics", "Диагностика")]
    assert english[:3] == [("", "—"), ("oil_change", "Oil change"),
                           ("diagnostics", "Diagnostics")]
    assert ("parts", "Parts") in english
    assert "tyres" not in [code for code, _ in russian + english]  # turned off

    closed = cashier.post(f"{_panel(shop, regular)}/close", headers=JSON, data={
        "csrf_token": csrf(cashier, _panel(shop, regular)), "key": next_key(),
        "total": "3000", "category": "oil_change"})
    assert closed.status_code == 200, closed.get_data(as_text=True)
    receipt = closed.get_json()["url"]
    order = db.scalars(select(Order).where(Order.customer_id == regular.id)).one()
    assert order.service_category == "oil_change"  # the code is what is kept
    shown = cashier.get(receipt + "?lang=ru").get_data(as_text=True)  # the page remembers en
    assert "<dt>Вид работ</dt><dd>Замена масла</dd>" in shown
    shown = cashier.get(receipt + "?lang=en").get_data(as_text=True)
    assert "<dt>Type of work</dt><dd>Oil change</dd>" in shown


def test_the_back_office_names_an_orders_category(
        app: Any, shop: Any, cashier: Any, regular: Any, member: Any) -> None:
    db = app.test_session()
    for code in ("oil_change", "car_wash_old"):  # the second is in no list: its code shows
        closed = cashier.post(f"{_panel(shop, regular)}/close", headers=JSON, data={
            "csrf_token": csrf(cashier, _panel(shop, regular)), "key": next_key(),
            "total": "2000", "category": code})
        assert closed.status_code == 200, closed.get_data(as_text=True)
    oil = db.scalar(select(ServiceCategory.id).where(
        ServiceCategory.business_id == shop.id, ServiceCategory.code == "oil_change"))
    categories.set_active(db, shop.owner, oil, False)  # past orders keep its name
    member(Role.MANAGER, "manager")
    manager = staff_signed_in(app, shop.id, "manager")
    page = f"/b/{shop.id}/backoffice/customers/{regular.id}"
    russian = manager.get(page).get_data(as_text=True)
    english = manager.get(page + "?lang=en").get_data(as_text=True)
    assert "<th scope=\"col\">Вид работ</th>" in russian
    assert "<td>Замена масла</td>" in russian and "<td>car_wash_old</td>" in russian
    assert "<td>Oil change</td>" in english and "Замена масла" not in english


def test_the_program_page_picks_a_stamp_cards_category_from_the_list(
        app: Any, shop: Any) -> None:
    owner = staff_signed_in(app, shop.id, "owner")
    html = owner.get(f"/b/{shop.id}/backoffice/program?lang=en").get_data(as_text=True)
    found = re.search(r'<select name="stamps-0-category"[^>]*>(.*?)</select>', html, re.DOTALL)
    assert found, "the first stamp card's category is chosen from a list"
    assert '<option value="oil_change" selected>Oil change</option>' in found.group(1)
    assert '<option value="parts" >Parts</option>' in found.group(1)
    empty = re.search(r'<select name="stamps-1-category"[^>]*>(.*?)</select>', html, re.DOTALL)
    assert empty and "selected" not in empty.group(1)  # the row for a new card
