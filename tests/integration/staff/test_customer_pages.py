"""The manager's customer pages: search, history, refunds, corrections, audit trails.

CSRF stays on: every post sends the token (and the idempotency key) the page rendered.
"""

from __future__ import annotations

import re
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select, update

from tests.web_client import PASSWORD, csrf_token, page_text, staff_signed_in
from webapp.domain.actor import Actor, Role
from webapp.domain.order_lines import LineKind, OrderLine
from webapp.domain.presets import PRESETS
from webapp.domain.program import LineRule
from webapp.domain.quote import OrderDraft
from webapp.persistence.models import Branch, Business, Operation, Order
from webapp.services.counter import checkout, orders
from webapp.services.customers import accounts as customers
from webapp.services.ledger import balances
from webapp.services.program import versions as programs
from webapp.services.staff import accounts as staff
from webapp.services.staff import sign_in

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/120.0.0.0 Safari/537.36"
)
IP = "198.51.100.23"


def _world(app: Any, business: Any, suffix: str = "") -> SimpleNamespace:
    """A manager, a cashier, a customer and a closed 1 000 ₽ order that earned 50."""
    db = app.test_session()
    manager = staff.create_staff(
        db,
        business_id=business.id,
        login=f"manager{suffix}",
        password=PASSWORD,
        role="manager",
        display_name="Мария",
    )
    cashier = staff.create_staff(
        db, business_id=business.id, login=f"cashier{suffix}", password=PASSWORD, role="cashier"
    )
    manager_id, cashier_id = manager.id, cashier.id
    actor = sign_in.actor_for(manager)
    customer = customers.join(
        db, Actor.system(business.id), phone=f"+7916555{suffix or '0'}123", name="Иван"
    ).customer
    customer_id = customer.id
    branch_id = db.scalar(select(Branch.id).where(Branch.business_id == business.id))
    order_id = orders.close_order(
        db,
        actor,
        f"close-{business.id}-{customer_id}",
        customer_id=customer_id,
        branch_id=branch_id,
        total_minor=100000,
        accrue_points=50,
    )["order_id"]
    return SimpleNamespace(
        business_id=business.id,
        manager_id=manager_id,
        cashier_id=cashier_id,
        customer_id=customer_id,
        order_id=order_id,
        branch_id=branch_id,
    )


@pytest.fixture
def world(app: Any, business: Any) -> SimpleNamespace:
    return _world(app, business)


@pytest.fixture
def manager_client(client: Any, world: SimpleNamespace) -> Any:
    staff_signed_in(client, world.business_id, "manager")
    return client


def _form(html: str, form_id: str) -> dict[str, str]:
    """The named inputs of one form on the page, with their values as rendered."""
    found = re.search(rf'<form[^>]*id="{form_id}".*?</form>', html, re.S)
    assert found, f"no form {form_id}"
    fields = {}
    for tag in re.findall(r"<input[^>]*>", found.group(0)):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[name.group(1)] = value.group(1) if value else ""
    return fields


def _url(world: SimpleNamespace, tail: str = "") -> str:
    return f"/b/{world.business_id}/backoffice/customers/{world.customer_id}{tail}"


def _refund_url(world: SimpleNamespace, order_id: int | None = None) -> str:
    return _url(world, f"/orders/{order_id or world.order_id}/refund")


def _page(client: Any, world: SimpleNamespace) -> str:
    response = client.get(_url(world))
    assert response.status_code == 200
    return str(response.get_data(as_text=True))


def _available(app: Any, world: SimpleNamespace) -> int:
    return balances.balance(
        app.test_session(), Actor.system(world.business_id), world.customer_id
    ).available


def _refunded(app: Any, world: SimpleNamespace) -> int:
    db = app.test_session()
    value = db.scalar(select(Order.refunded_minor).where(Order.id == world.order_id))
    db.rollback()
    return int(value)


def _operations(app: Any, world: SimpleNamespace, kind: str) -> int:
    db = app.test_session()
    count = db.scalar(
        select(func.count())
        .select_from(Operation)
        .where(Operation.customer_id == world.customer_id, Operation.kind == kind)
    )
    db.rollback()
    return int(count or 0)


def test_history_page_shows_the_customer_and_forms(
    manager_client: Any, world: SimpleNamespace
) -> None:
    html = _page(manager_client, world)
    assert "Иван" in html and "+7 916 555-01-23" in html
    assert f"Начислено 50 за заказ №{world.order_id}" in html
    refund = _form(html, f"refund-{world.order_id}")
    assert refund["amount"] == "1000,00"  # what is left, by default
    assert re.fullmatch(r"[0-9a-f]{32}", refund["idempotency_key"])
    assert re.fullmatch(r"[0-9a-f]{32}", _form(html, "adjust-form")["idempotency_key"])
    assert "<script" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)


def test_partial_refund_takes_the_points_back(
    app: Any, manager_client: Any, world: SimpleNamespace
) -> None:
    assert _available(app, world) == 50
    form = {**_form(_page(manager_client, world), f"refund-{world.order_id}"), "amount": "400,00"}
    response = manager_client.post(_refund_url(world), data=form)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(_url(world))
    html = page_text(manager_client.get(_url(world)))
    assert f"Возврат 400 ₽ по заказу №{world.order_id}: списано 20 баллов" in html
    assert f"Возврат заказа №{world.order_id}: −20" in html
    assert _available(app, world) == 30
    assert _refunded(app, world) == 40000
    assert _form(html, f"refund-{world.order_id}")["amount"] == "600,00"


def test_the_refund_is_told_in_the_business_currency(
    app: Any, manager_client: Any, world: SimpleNamespace
) -> None:
    db = app.test_session()
    db.execute(update(Business).where(Business.id == world.business_id).values(currency="EUR"))
    db.commit()
    form = {**_form(_page(manager_client, world), f"refund-{world.order_id}"), "amount": "400"}
    assert manager_client.post(_refund_url(world), data=form).status_code == 302
    html = page_text(manager_client.get(_url(world)))
    assert f"Возврат 400 € по заказу №{world.order_id}" in html
    assert "₽ по заказу" not in html


def test_the_same_form_twice_refunds_once(
    app: Any, manager_client: Any, world: SimpleNamespace
) -> None:
    form = {**_form(_page(manager_client, world), f"refund-{world.order_id}"), "amount": "1 000"}
    assert manager_client.post(_refund_url(world), data=form).status_code == 302
    again = manager_client.post(_refund_url(world), data=form)
    assert again.status_code == 302
    assert _refunded(app, world) == 100000
    assert _available(app, world) == 0
    assert _operations(app, world, "reversal") == 1
    assert "возвращён" in page_text(manager_client.get(_url(world)))


@pytest.mark.parametrize(
    ("amount", "says"),
    [
        ("1000,01", "Возврат больше, чем осталось по заказу: можно вернуть не больше 1 000 ₽."),
        ("0", "Сумма возврата должна быть больше нуля."),
        ("пятьсот", "например «1 500,50»"),
        ("-5", "Сумма не может быть отрицательной."),
    ],
)
def test_a_wrong_refund_is_explained_and_changes_nothing(
    app: Any, manager_client: Any, world: SimpleNamespace, amount: str, says: str
) -> None:
    form = {**_form(_page(manager_client, world), f"refund-{world.order_id}"), "amount": amount}
    response = manager_client.post(_refund_url(world), data=form)
    assert response.status_code == 422
    html = page_text(response)
    assert says in html and 'role="alert"' in html
    assert _form(html, f"refund-{world.order_id}")["amount"] == amount  # what was typed
    assert _refunded(app, world) == 0 and _available(app, world) == 50
    assert _operations(app, world, "reversal") == 0


def test_an_adjustment_needs_a_reason(
    app: Any, manager_client: Any, world: SimpleNamespace
) -> None:
    form = {**_form(_page(manager_client, world), "adjust-form"), "points": "+100", "reason": "   "}
    response = manager_client.post(_url(world, "/adjust"), data=form)
    assert response.status_code == 422
    assert "Укажите причину корректировки." in page_text(response)
    assert _available(app, world) == 50 and _operations(app, world, "adjustment") == 0


def test_a_debit_larger_than_the_balance_is_refused(
    app: Any, manager_client: Any, world: SimpleNamespace
) -> None:
    form = {
        **_form(_page(manager_client, world), "adjust-form"),
        "points": "-80",
        "reason": "Ошибка кассира при начислении",
    }
    response = manager_client.post(_url(world, "/adjust"), data=form)
    assert response.status_code == 409
    assert "Недостаточно баллов: доступно 50, а списать нужно 80." in page_text(response)
    assert _available(app, world) == 50


def test_an_adjustment_shows_in_history_and_audit(
    app: Any, manager_client: Any, world: SimpleNamespace
) -> None:
    form = {
        **_form(_page(manager_client, world), "adjust-form"),
        "points": "+100",
        "reason": "Компенсация за ожидание",
    }
    response = manager_client.post(
        _url(world, "/adjust"),
        data=form,
        environ_base={"REMOTE_ADDR": IP},
        headers={"User-Agent": CHROME},
    )
    assert response.status_code == 302
    assert _available(app, world) == 150
    html = page_text(manager_client.get(_url(world)))
    assert "Корректировка +100 баллов: теперь доступно 150" in html
    assert "Корректировка +100: Компенсация за ожидание" in html

    audit = manager_client.get(_url(world, "/audit"))
    assert audit.status_code == 200
    row = next(r for r in page_text(audit).split("<tr>") if "Корректировка баллов" in r)
    assert IP in row and "Chrome 120, Windows" in row and "Мария" in row
    assert "причина: Компенсация за ожидание" in row and "баллы +100" in row


def test_staff_audit_lists_the_managers_actions(
    app: Any, manager_client: Any, world: SimpleNamespace
) -> None:
    html = _page(manager_client, world)
    manager_client.post(
        _refund_url(world), data={**_form(html, f"refund-{world.order_id}"), "amount": "500"}
    )
    manager_client.post(
        _url(world, "/adjust"),
        data={**_form(html, "adjust-form"), "points": "5", "reason": "Подарок к юбилею клиента"},
    )
    response = manager_client.get(
        f"/b/{world.business_id}/backoffice/staff/{world.manager_id}/audit"
    )
    assert response.status_code == 200
    page = page_text(response)
    assert "Мария" in page
    assert "Возврат заказа" in page and "возврат 500 ₽" in page
    assert "Корректировка баллов" in page and "Закрытие заказа" not in page
    assert _url(world) in page  # each event links to the customer
    cashier = manager_client.get(
        f"/b/{world.business_id}/backoffice/staff/{world.cashier_id}/audit"
    )
    assert "Записей пока нет" in page_text(cashier)


def test_search_finds_by_phone_and_links_to_history(
    manager_client: Any, world: SimpleNamespace
) -> None:
    base = f"/b/{world.business_id}/backoffice/customers"
    assert manager_client.get(base).status_code == 200
    found = manager_client.get(base, query_string={"q": "0123"})
    assert found.status_code == 200
    html = page_text(found)
    assert "+7 *** ***-01-23" in html and f'href="{_url(world)}"' in html
    short = manager_client.get(base, query_string={"q": "1"})
    assert short.status_code == 422
    assert "номер карты" in page_text(short)
    none = manager_client.get(base, query_string={"q": "9999"})
    assert "Никого не нашли" in page_text(none)


def test_a_cashier_is_forbidden_everywhere(app: Any, client: Any, world: SimpleNamespace) -> None:
    staff_signed_in(client, world.business_id, "cashier")
    pages = [
        f"/b/{world.business_id}/backoffice/customers?q=0123",
        _url(world),
        _url(world, "/audit"),
        f"/b/{world.business_id}/backoffice/staff/{world.manager_id}/audit",
    ]
    for url in pages:
        assert client.get(url).status_code == 403, url
    token = csrf_token(client.get(_url(world)).get_data(as_text=True))
    refund = client.post(
        _refund_url(world), data={"csrf_token": token, "amount": "100", "idempotency_key": "k" * 32}
    )
    adjust = client.post(
        _url(world, "/adjust"),
        data={"csrf_token": token, "points": "100", "reason": "x", "idempotency_key": "j" * 32},
    )
    assert (refund.status_code, adjust.status_code) == (403, 403)
    assert _refunded(app, world) == 0 and _available(app, world) == 50


def test_another_business_is_not_found(
    app: Any, manager_client: Any, world: SimpleNamespace, make_business: Any
) -> None:
    other = _world(app, make_business("Чужой сервис"), suffix="9")
    html = _page(manager_client, world)
    refund = {**_form(html, f"refund-{world.order_id}"), "amount": "1"}
    theirs = SimpleNamespace(**{**vars(world), "customer_id": other.customer_id})
    assert manager_client.get(_url(theirs)).status_code == 404
    assert manager_client.get(_url(theirs, "/audit")).status_code == 404
    assert manager_client.post(_refund_url(theirs, other.order_id), data=refund).status_code == 404
    assert (
        manager_client.post(
            _url(theirs, "/adjust"),
            data={**_form(html, "adjust-form"), "points": "1", "reason": "x"},
        ).status_code
        == 404
    )
    # Their order under our customer's URL, and their staff member.
    assert manager_client.post(_refund_url(world, other.order_id), data=refund).status_code == 404
    assert (
        manager_client.get(
            f"/b/{world.business_id}/backoffice/staff/{other.manager_id}/audit"
        ).status_code
        == 404
    )
    # Their business's URL altogether.
    assert manager_client.get(_url(other)).status_code == 404
    assert _refunded(app, other) == 0 and _available(app, other) == 50


def test_an_order_of_another_customer_is_not_found(
    app: Any, manager_client: Any, world: SimpleNamespace
) -> None:
    db = app.test_session()
    someone = customers.join(db, Actor.system(world.business_id), phone="+79167770000")
    elsewhere = SimpleNamespace(**{**vars(world), "customer_id": someone.customer.id})
    form = {**_form(_page(manager_client, world), f"refund-{world.order_id}"), "amount": "1"}
    assert manager_client.post(_refund_url(elsewhere), data=form).status_code == 404
    assert _refunded(app, world) == 0


def test_missing_csrf_token_is_refused(
    app: Any, manager_client: Any, world: SimpleNamespace
) -> None:
    html = _page(manager_client, world)
    refund = _form(html, f"refund-{world.order_id}")
    del refund["csrf_token"]
    adjust = {**_form(html, "adjust-form"), "points": "10", "reason": "Подарок к юбилею клиента"}
    del adjust["csrf_token"]
    assert manager_client.post(_refund_url(world), data=refund).status_code == 400
    assert manager_client.post(_url(world, "/adjust"), data=adjust).status_code == 400
    assert _refunded(app, world) == 0 and _available(app, world) == 50


def test_anonymous_is_sent_to_sign_in(client: Any, world: SimpleNamespace) -> None:
    response = client.get(_url(world))
    assert response.status_code == 302
    assert "/staff/sign-in" in response.headers["Location"]


@pytest.fixture
def work_order(app: Any, world: SimpleNamespace) -> int:
    """A work order closed at the counter under a cashback program: an oil change
    (work, 5 %) and five litres of oil (parts, 1 %)."""
    db = app.test_session()
    owner = Actor.staff(world.business_id, world.manager_id, Role.OWNER)
    programs.save(db, owner, "program-lines", settings=replace(
        PRESETS["cashback_5_50"], line_rules=(LineRule(kind="part", accrual_bp=100),)))
    cashier = Actor.staff(world.business_id, world.cashier_id, Role.CASHIER)
    draft = OrderDraft(lines=(
        OrderLine(300000, name="Замена масла", kind=LineKind.WORK, category="oil_change"),
        OrderLine(70000, 5, name="Масло 5W-30, 1 л", kind=LineKind.PART)))
    return int(checkout.close(db, cashier, "close-lines", customer_id=world.customer_id,
                              branch_id=world.branch_id, draft=draft)["order_id"])


def test_an_order_of_lines_is_returned_by_line(
    app: Any, manager_client: Any, world: SimpleNamespace, work_order: int
) -> None:
    before = _available(app, world)
    html = _page(manager_client, world)
    assert "Замена масла" in html and "Масло 5W-30, 1 л" in html
    where = f"refund-{work_order}"
    form = _form(html, where)
    assert "amount" not in form  # returned by line, not by amount
    assert (form["return_1"], form["return_2"]) == ("0", "0")
    response = manager_client.post(_url(world, f"/orders/{work_order}/return"),
                                   data={**form, "return_2": "2"})
    assert response.status_code == 302
    html = page_text(manager_client.get(_url(world)))
    # 2 of 5 litres: 1 400 ₽ back, 2/5 of the 35 points the oil earned taken back.
    assert f"Возврат позиций на 1 400 ₽ по заказу №{work_order}: списано 14 баллов" in html
    assert _available(app, world) == before - 14
    assert "(можно вернуть 3)" in html
    # The same form again returns nothing more, and says what the first one did.
    assert manager_client.post(_url(world, f"/orders/{work_order}/return"),
                               data={**form, "return_2": "2"}).status_code == 302
    assert _available(app, world) == before - 14
    again = page_text(manager_client.get(_url(world)))
    assert f"Возврат позиций на 1 400 ₽ по заказу №{work_order}: списано 14 баллов" in again


@pytest.mark.parametrize(("quantities", "says"), [
    ({"return_2": "6"}, "Позиция 2: вернуть можно не больше 5."),
    ({"return_2": "два"}, "целое число"),
    ({}, "Укажите, сколько вернуть хотя бы по одной позиции."),
    ({"return_9": "1"}, "В заказе нет позиции 9."),
])
def test_a_wrong_return_is_explained_and_changes_nothing(
    app: Any, manager_client: Any, world: SimpleNamespace, work_order: int,
    quantities: dict[str, str], says: str,
) -> None:
    before = _available(app, world)
    form = {**_form(_page(manager_client, world), f"refund-{work_order}"),
            "return_1": "0", "return_2": "0", **quantities}
    response = manager_client.post(_url(world, f"/orders/{work_order}/return"), data=form)
    assert response.status_code in (400, 409, 422)
    html = page_text(response)
    assert says in html and 'role="alert"' in html
    assert _available(app, world) == before
    assert _operations(app, world, "reversal") == 0


def test_an_order_of_lines_cannot_be_refunded_by_amount(
    app: Any, manager_client: Any, world: SimpleNamespace, work_order: int
) -> None:
    form = {**_form(_page(manager_client, world), f"refund-{work_order}"), "amount": "100"}
    response = manager_client.post(_refund_url(world, work_order), data=form)
    assert response.status_code == 422
    assert "оформите возврат по позициям" in page_text(response)
    assert _operations(app, world, "reversal") == 0
