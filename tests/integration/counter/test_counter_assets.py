"""Staff add a customer's vehicle or device at the counter: the customer app's rules,
an audit event naming the cashier, and the panel's vehicle select shows it at once.
A bad value, a duplicate or another business's customer is refused with its message
and nothing is written."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.integration.counter.conftest import post, url
from tests.web_client import csrf, page_text
from webapp.domain.actor import Actor
from webapp.persistence.models import Asset, AuditEvent, StaffUser
from webapp.services.business import setup as businesses
from webapp.services.customers import accounts as customers

DUPLICATE = "а 123 вс 77 уже есть в списке автомобилей и устройств клиента."
WRONG_PLATE = "Госномер — до 12 букв и цифр, хотя бы одна цифра: например А123ВС77."


def written(app: Any) -> tuple[int, int]:
    """How many vehicles or devices and audit events there are."""
    db = app.test_session()
    return (int(db.scalar(select(func.count(Asset.id))) or 0),
            int(db.scalar(select(func.count(AuditEvent.id))) or 0))


def add(client: Any, shop: SimpleNamespace, customer_id: int, **form: str) -> Any:
    return post(client, shop, f"/customers/{customer_id}/assets", **form)


def test_a_vehicle_added_at_the_counter_is_in_the_select_and_the_audit(
        app: Any, cashier: Any, shop: SimpleNamespace, regular: SimpleNamespace) -> None:
    added = add(cashier, shop, regular.id, kind="plate", value="а123вс 77", label="Лада Веста")
    assert added.status_code == 200, added.get_json()
    assert added.get_json()["url"] == url(shop, f"/customers/{regular.id}")
    asset_id, *stored = app.test_session().execute(select(
        Asset.id, Asset.customer_id, Asset.kind, Asset.value, Asset.search_key, Asset.label)).one()
    assert stored == [regular.id, "plate", "а123вс 77", "A123BC77", "Лада Веста"]
    panel = page_text(cashier.get(url(shop, f"/customers/{regular.id}")))
    assert f'<option value="{asset_id}">а123вс 77 (Лада Веста)</option>' in panel
    db = app.test_session()
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "asset.add"))
    staff_id = db.scalar(select(StaffUser.id).where(StaffUser.login == "cashier"))
    assert (event.customer_id, event.staff_id, event.branch_id) == (
        regular.id, staff_id, shop.centre)
    assert json.loads(event.details)["value"] == "а123вс 77"
    device = add(cashier, shop, regular.id, kind="imei", value="490154203237518")
    assert device.status_code == 200 and written(app) == (2, 2)


@pytest.mark.parametrize(("kind", "value", "message"), [
    ("plate", "!", "Номер — от 2 до 40 букв или цифр."),
    ("plate", "АВСЕКМ", WRONG_PLATE),  # no digit
    ("plate", "A123BC77" * 3, WRONG_PLATE),  # too long for a plate
    ("vin", "XTA2109904312345", "VIN — 17 символов, без букв I, O и Q."),
    ("imei", "49015420323751", "IMEI — 15 цифр."),
    ("boat", "A123", "Тип — госномер, VIN, серийный номер или IMEI."),
    ("serial", "S" * 65, "Номер — не длиннее 64 символов."),
])
def test_a_bad_value_is_refused_with_its_message(
        app: Any, cashier: Any, shop: SimpleNamespace, regular: SimpleNamespace,
        kind: str, value: str, message: str) -> None:
    refused = add(cashier, shop, regular.id, kind=kind, value=value)
    assert refused.status_code == 422
    assert refused.get_json()["detail"] == message
    assert written(app) == (0, 0)


def test_a_duplicate_is_refused_in_either_alphabet(
        app: Any, cashier: Any, shop: SimpleNamespace, regular: SimpleNamespace) -> None:
    assert add(cashier, shop, regular.id, kind="plate", value="A123BC77").status_code == 200
    again = add(cashier, shop, regular.id, kind="plate", value="а 123 вс 77")
    assert again.status_code == 409
    assert again.get_json()["detail"] == DUPLICATE
    assert written(app) == (1, 1)
    # Without the page's script: the panel again, the reason shown, the value kept.
    page = cashier.post(url(shop, f"/customers/{regular.id}/assets"),
                        data={"csrf_token": csrf(cashier, url(shop)), "kind": "plate",
                              "value": "а 123 вс 77"})
    assert page.status_code == 409
    text = page_text(page)
    assert f'role="alert">{DUPLICATE}' in text
    assert 'value="а 123 вс 77"' in text and written(app) == (1, 1)


def test_another_business_customer_is_not_found(app: Any, cashier: Any,
                                                shop: SimpleNamespace) -> None:
    other = businesses.create_business(app.test_session(), name="Чужой сервис").id
    theirs = customers.join(app.test_session(), Actor.system(other), phone="+79160000001")
    refused = add(cashier, shop, theirs.customer.id, kind="plate", value="A123BC77")
    assert refused.status_code == 404
    assert refused.get_json()["detail"] == "Клиент не найден."
    assert written(app) == (0, 0)
