"""The back office's categories page: the list with both names and kinds, adding,
renaming, changing the kind, turning off and on; bad input is refused in the reader's
language and changes nothing; a cashier is refused."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from tests.integration.staff.test_staff_pages_english import russian_left, visible_text
from tests.web_client import PASSWORD, csrf, staff_signed_in
from webapp.domain.actor import Role
from webapp.persistence.models import ServiceCategory
from webapp.services.staff import accounts as staff


@pytest.fixture
def shop(app: Any, business: Any, owner: Any) -> SimpleNamespace:
    """The business with a manager and a cashier; its categories page's URL."""
    for role in (Role.MANAGER, Role.CASHIER):
        staff.create_staff(app.test_session(), business_id=business.id, login=role.value,
                           password=PASSWORD, role=role.value)
    return SimpleNamespace(id=business.id, url=f"/b/{business.id}/backoffice/categories")


def _stored(app: Any, business_id: int) -> list[tuple[Any, ...]]:
    db = app.test_session()
    db.expire_all()
    return [tuple(row) for row in db.execute(
        select(ServiceCategory.code, ServiceCategory.name_ru, ServiceCategory.name_en,
               ServiceCategory.kind, ServiceCategory.active)
        .where(ServiceCategory.business_id == business_id).order_by(ServiceCategory.id))]


def _id(app: Any, business_id: int, code: str) -> int:
    return int(app.test_session().scalar(select(ServiceCategory.id).where(
        ServiceCategory.business_id == business_id, ServiceCategory.code == code)))


def _add_form(client: Any, url: str, **fields: str) -> dict[str, str]:
    page = client.get(url).get_data(as_text=True)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page)
    assert key, "the add form carries a key"
    return {"csrf_token": csrf(client, url), "idempotency_key": key.group(1),
            "kind": "work", **fields}


def test_the_owner_sees_the_list_with_both_names_and_kinds(app: Any, shop: Any) -> None:
    owner = staff_signed_in(app, shop.id, "owner")
    page = owner.get(shop.url)
    assert page.status_code == 200
    text = visible_text(page.get_data(as_text=True))
    for words in ("Категории работ и запчастей", "Замена масла", "Oil change", "oil_change",
                  "Запчасти", "Parts", "Запчасть", "Работа", "Новая категория"):
        assert words in text, words
    nav = owner.get(f"/b/{shop.id}/backoffice/program").get_data(as_text=True)
    assert f'href="{shop.url}"' in nav  # linked from the back office navigation


def test_adding_a_category_shows_it_with_its_code(app: Any, shop: Any) -> None:
    owner = staff_signed_in(app, shop.id, "owner")
    form = _add_form(owner, shop.url, name_ru="Развал-схождение", name_en="Wheel alignment")
    added = owner.post(shop.url, data=form)
    assert added.status_code == 302
    page = owner.get(added.headers["Location"]).get_data(as_text=True)
    assert "Категория добавлена, её код: razval_skhozhdenie." in page
    assert "Wheel alignment" in page
    assert _stored(app, shop.id)[-1] == \
        ("razval_skhozhdenie", "Развал-схождение", "Wheel alignment", "work", True)
    again = owner.post(shop.url, data=form)  # the same form sent twice: added once
    assert again.status_code == 302
    assert [row[0] for row in _stored(app, shop.id)].count("razval_skhozhdenie") == 1


def test_a_manager_renames_and_changes_the_kind(app: Any, shop: Any) -> None:
    manager = staff_signed_in(app, shop.id, "manager")
    category_id = _id(app, shop.id, "consumables")
    saved = manager.post(f"{shop.url}/{category_id}", data={
        "csrf_token": csrf(manager, shop.url), "name_ru": "Расходники",
        "name_en": "Supplies", "kind": "other"})
    assert saved.status_code == 302
    assert "Категория сохранена." in manager.get(shop.url).get_data(as_text=True)
    assert ("consumables", "Расходники", "Supplies", "other", True) in _stored(app, shop.id)


def test_turning_a_category_off_and_on(app: Any, shop: Any) -> None:
    owner = staff_signed_in(app, shop.id, "owner")
    category_id = _id(app, shop.id, "repair")
    off = owner.post(f"{shop.url}/{category_id}/active",
                     data={"csrf_token": csrf(owner, shop.url), "active": "0"})
    assert off.status_code == 302
    assert ("repair", "Ремонт", "Repair", "work", False) in _stored(app, shop.id)
    page = owner.get(shop.url).get_data(as_text=True)
    assert "на кассе её больше не предлагают" in page and "Включить снова" in page
    on = owner.post(f"{shop.url}/{category_id}/active",
                    data={"csrf_token": csrf(owner, shop.url), "active": "1"})
    assert on.status_code == 302
    assert ("repair", "Ремонт", "Repair", "work", True) in _stored(app, shop.id)


@pytest.mark.parametrize(("fields", "status", "message"), [
    ({"name_ru": ""}, 422, "Введите название категории по-русски."),
    ({"name_ru": "Я" * 101}, 422, "Название категории — не длиннее 100 символов."),
    ({"name_ru": "Мойка", "kind": "labour"}, 422, "Тип категории — работа, запчасть или другое."),
    ({"name_ru": "Мойка", "code": "Car wash"}, 422, "Код категории — латинские буквы"),
    ({"name_ru": "Шины", "code": "tyres"}, 409,
     "Категория с кодом tyres уже есть: «Шиномонтаж»."),
])
def test_adding_refuses_bad_input_and_changes_nothing(
        app: Any, shop: Any, fields: dict[str, str], status: int, message: str) -> None:
    owner = staff_signed_in(app, shop.id, "owner")
    before = _stored(app, shop.id)
    refused = owner.post(shop.url, data=_add_form(owner, shop.url, **fields))
    assert refused.status_code == status
    page = refused.get_data(as_text=True)
    assert 'id="add-error"' in page and message in page
    if fields["name_ru"] and len(fields["name_ru"]) < 100:
        assert f'value="{fields["name_ru"]}"' in page  # what was typed is kept
    assert _stored(app, shop.id) == before


def test_renaming_refuses_bad_input_and_another_businesss_category(
        app: Any, shop: Any, make_business: Any) -> None:
    owner = staff_signed_in(app, shop.id, "owner")
    category_id = _id(app, shop.id, "tyres")
    before = _stored(app, shop.id)
    empty = owner.post(f"{shop.url}/{category_id}", data={
        "csrf_token": csrf(owner, shop.url), "name_ru": " ", "name_en": "Tyres",
        "kind": "work"})
    assert empty.status_code == 422
    page = empty.get_data(as_text=True)
    assert f'id="category-{category_id}-error"' in page
    assert "Введите название категории по-русски." in page
    foreign = _id(app, make_business("Чужой гараж").id, "tyres")
    elsewhere = owner.post(f"{shop.url}/{foreign}", data={
        "csrf_token": csrf(owner, shop.url), "name_ru": "Чужое", "kind": "work"})
    assert elsewhere.status_code == 404
    assert "Такой категории нет." in elsewhere.get_data(as_text=True)
    unsaid = owner.post(f"{shop.url}/{category_id}/active",
                        data={"csrf_token": csrf(owner, shop.url), "active": "maybe"})
    assert unsaid.status_code == 400
    assert _stored(app, shop.id) == before


def test_a_cashier_is_refused(app: Any, shop: Any) -> None:
    cashier = staff_signed_in(app, shop.id, "cashier")
    before = _stored(app, shop.id)
    token = csrf(cashier, f"/b/{shop.id}/staff/account")
    assert cashier.get(shop.url).status_code == 403
    category_id = _id(app, shop.id, "repair")
    for url, data in ((shop.url, {"name_ru": "Мойка", "kind": "work",
                                  "idempotency_key": "cashier-try"}),
                      (f"{shop.url}/{category_id}", {"name_ru": "Мойка", "kind": "work"}),
                      (f"{shop.url}/{category_id}/active", {"active": "0"})):
        assert cashier.post(url, data={"csrf_token": token, **data}).status_code == 403
    assert _stored(app, shop.id) == before
    counter = cashier.get(f"/b/{shop.id}/staff/account").get_data(as_text=True)
    assert f'href="{shop.url}"' not in counter  # not in a cashier's navigation


def test_the_page_speaks_english(app: Any, shop: Any) -> None:
    owner = staff_signed_in(app, shop.id, "owner")
    html = owner.get(f"{shop.url}?lang=en").get_data(as_text=True)
    text = visible_text(html)
    for words in ("Categories of work and parts", "New category", "Name in Russian",
                  "Name in English", "Code (optional)", "Oil change", "Part", "Disable"):
        assert words in text, words
    # The Russian names are the business's data, marked as Russian for screen readers;
    # so is the owner's name ("Анна", in the navigation).
    left = russian_left(re.sub(r'<strong lang="ru">[^<]*</strong>', "", html))
    assert left == ["Анна"]
    refused = owner.post(f"{shop.url}?lang=en", data=_add_form(owner, shop.url, name_ru=""))
    assert "Enter the category’s name in Russian." in refused.get_data(as_text=True)
