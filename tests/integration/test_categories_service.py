"""The business's categories of works and parts: the starting list, choices by language,
adding, renaming, kinds, (de)activation, stamp cards adding theirs, and every refusal
(which changes nothing)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.domain.actor import Actor, Role
from webapp.domain.categories import STARTING
from webapp.domain.errors import (
    AlreadyExists,
    DomainError,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from webapp.domain.presets import DEMO
from webapp.domain.program import StampCard
from webapp.persistence.models import AuditEvent, Business, ServiceCategory
from webapp.services.program import categories
from webapp.services.program import versions as programs


def _row(session: Session, business_id: int, code: str) -> ServiceCategory:
    return session.scalars(select(ServiceCategory).where(
        ServiceCategory.business_id == business_id, ServiceCategory.code == code)).one()


def _id(session: Session, business_id: int, code: str) -> int:
    return _row(session, business_id, code).id


def _state(session: Session, business_id: int) -> tuple[Any, ...]:
    """Every category of the business as stored, and how many audit events it has."""
    session.expire_all()
    rows = session.execute(select(ServiceCategory.code, ServiceCategory.name_ru,
                                  ServiceCategory.name_en, ServiceCategory.kind,
                                  ServiceCategory.active)
                           .where(ServiceCategory.business_id == business_id)
                           .order_by(ServiceCategory.id)).all()
    events = session.scalar(select(func.count()).select_from(AuditEvent)
                            .where(AuditEvent.business_id == business_id))
    return tuple(rows), events


def _actions(session: Session, business_id: int) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).where(
        AuditEvent.business_id == business_id, AuditEvent.action.like("category.%"))
        .order_by(AuditEvent.id)))


def test_a_new_business_starts_with_a_car_services_list(
        session: Session, business: Business, manager: Actor) -> None:
    listed = categories.list_categories(session, manager)
    assert [c.code for c in listed] == [seed.code for seed in STARTING]
    first = listed[0]
    assert (first.code, first.name_ru, first.name_en, first.kind, first.active) == \
        ("oil_change", "Замена масла", "Oil change", "work", True)
    assert {c.code: c.kind for c in listed}["parts"] == "part"
    assert all(c.name_en for c in listed)


def test_choices_are_the_active_ones_named_in_the_language(
        session: Session, business: Business, manager: Actor, keys: Callable[[], str]) -> None:
    categories.add(session, manager, keys(), name_ru="Мойка")
    categories.set_active(session, manager, _id(session, business.id, "diagnostics"), False)
    russian = categories.choices(session, business.id, "ru")
    english = categories.choices(session, business.id, "en")
    assert [c.code for c in russian] == [c.code for c in english]
    assert "diagnostics" not in [c.code for c in russian]
    assert russian[0] == categories.Choice("oil_change", "Замена масла", "work")
    assert english[0] == categories.Choice("oil_change", "Oil change", "work")
    assert english[-1] == categories.Choice("moyka", "Мойка", "work")  # no English name
    # Past orders still find a deactivated category's name.
    assert categories.names(session, business.id, "en")["diagnostics"] == "Diagnostics"


def test_the_list_shows_active_ones_first_in_a_stable_order(
        session: Session, business: Business, manager: Actor, keys: Callable[[], str]) -> None:
    categories.set_active(session, manager, _id(session, business.id, "oil_change"), False)
    categories.rename(session, manager, _id(session, business.id, "tyres"),
                      name_ru="Аааа шины", name_en=None)
    codes = [c.code for c in categories.list_categories(session, manager)]
    assert codes[-1] == "oil_change" and codes[:2] == ["diagnostics", "tyres"]


def test_adding_derives_the_code_from_the_russian_name(
        session: Session, business: Business, manager: Actor, keys: Callable[[], str]) -> None:
    code = categories.add(session, manager, keys(), name_ru="  Развал-схождение ",
                          name_en="Wheel alignment", kind="work", code="  ")
    assert code == "razval_skhozhdenie"
    row = _row(session, business.id, code)
    assert (row.name_ru, row.name_en, row.kind, row.active) == \
        ("Развал-схождение", "Wheel alignment", "work", True)
    assert _actions(session, business.id) == ["category.add"]


def test_adding_with_a_code_keeps_it_and_a_key_adds_once(
        session: Session, business: Business, owner: Actor, keys: Callable[[], str]) -> None:
    key = keys()
    first = categories.add(session, owner, key, name_ru="Масляный фильтр", kind="part",
                           code="oil_filter")
    again = categories.add(session, owner, key, name_ru="Масляный фильтр", kind="part",
                           code="oil_filter")
    assert first == again == "oil_filter"
    assert _row(session, business.id, "oil_filter").kind == "part"
    assert _actions(session, business.id) == ["category.add"]


@pytest.mark.parametrize(("fields", "error", "code"), [
    ({"name_ru": ""}, InvalidInput, "category_name_missing"),
    ({"name_ru": "   "}, InvalidInput, "category_name_missing"),
    ({"name_ru": "Я" * 101}, InvalidInput, "category_name_too_long"),
    ({"name_ru": "Мойка", "name_en": "W" * 101}, InvalidInput, "category_name_too_long"),
    ({"name_ru": "Мойка", "kind": "service"}, InvalidInput, "category_kind_unknown"),
    ({"name_ru": "Мойка", "code": "Wash-1"}, InvalidInput, "category_code_malformed"),
    ({"name_ru": "Мойка", "code": "x" * 65}, InvalidInput, "category_code_malformed"),
    ({"name_ru": "Шины", "code": "tyres"}, AlreadyExists, "category_code_taken"),
    ({"name_ru": "Ремонт"}, AlreadyExists, "category_code_taken"),  # derived: remont
])
def test_adding_refuses_bad_input_and_changes_nothing(
        session: Session, business: Business, manager: Actor, keys: Callable[[], str],
        fields: dict[str, str], error: type[DomainError], code: str) -> None:
    categories.add(session, manager, keys(), name_ru="Ремонт кузова", code="remont")
    before = _state(session, business.id)
    with pytest.raises(error) as refused:
        categories.add(session, manager, keys(), **fields)
    assert refused.value.code == code
    assert _state(session, business.id) == before


def test_a_taken_code_names_the_category_that_has_it(
        session: Session, business: Business, manager: Actor, keys: Callable[[], str]) -> None:
    with pytest.raises(AlreadyExists) as refused:
        categories.add(session, manager, keys(), name_ru="Любая", code="oil_change")
    assert refused.value.params == {"code": "oil_change", "name": "Замена масла"}


def test_another_business_may_use_the_same_code(
        session: Session, make_business: Callable[..., Business],
        make_staff: Callable[..., Actor], keys: Callable[[], str]) -> None:
    for name in ("Гараж А", "Гараж Б"):
        other = make_staff(make_business(name), Role.OWNER)
        assert categories.add(session, other, keys(), name_ru="Мойка") == "moyka"


def test_renaming_and_changing_the_kind_keep_the_code(
        session: Session, business: Business, manager: Actor) -> None:
    category_id = _id(session, business.id, "consumables")
    categories.rename(session, manager, category_id, name_ru=" Расходники ",
                      name_en="Supplies")
    categories.set_kind(session, manager, category_id, "other")
    categories.edit(session, manager, category_id, name_ru="Расходники",
                    name_en="Supplies", kind="other")  # nothing new: no event
    row = _row(session, business.id, "consumables")
    session.refresh(row)
    assert (row.id, row.name_ru, row.name_en, row.kind) == \
        (category_id, "Расходники", "Supplies", "other")
    categories.rename(session, manager, category_id, name_ru="Расходники", name_en="")
    session.refresh(row)
    assert row.name_en is None
    assert _actions(session, business.id) == \
        ["category.rename", "category.kind", "category.rename"]


def test_deactivating_and_reactivating(session: Session, business: Business,
                                        manager: Actor) -> None:
    category_id = _id(session, business.id, "repair")
    categories.set_active(session, manager, category_id, False)
    categories.set_active(session, manager, category_id, False)  # already: no event
    assert "repair" not in [c.code for c in categories.choices(session, business.id)]
    categories.set_active(session, manager, category_id, True)
    assert "repair" in [c.code for c in categories.choices(session, business.id)]
    assert _actions(session, business.id) == ["category.deactivate", "category.activate"]


@pytest.mark.parametrize(("change", "code"), [
    (lambda s, a, i: categories.rename(s, a, i, name_ru="", name_en=None),
     "category_name_missing"),
    (lambda s, a, i: categories.rename(s, a, i, name_ru="Я" * 101, name_en=None),
     "category_name_too_long"),
    (lambda s, a, i: categories.set_kind(s, a, i, "labour"), "category_kind_unknown"),
    (lambda s, a, i: categories.edit(s, a, i, name_ru="Новое имя", name_en=None,
                                     kind="labour"), "category_kind_unknown"),
])
def test_changes_refuse_bad_input_and_change_nothing(
        session: Session, business: Business, manager: Actor,
        change: Callable[[Session, Actor, int], None], code: str) -> None:
    before = _state(session, business.id)
    with pytest.raises(InvalidInput) as refused:
        change(session, manager, _id(session, business.id, "repair"))
    assert refused.value.code == code
    assert _state(session, business.id) == before


CHANGES: list[Callable[[Session, Actor, int], Any]] = [
    lambda s, a, i: categories.rename(s, a, i, name_ru="Чужое", name_en=None),
    lambda s, a, i: categories.set_kind(s, a, i, "part"),
    lambda s, a, i: categories.set_active(s, a, i, False),
    lambda s, a, i: categories.edit(s, a, i, name_ru="Чужое", name_en=None, kind="part"),
]


@pytest.mark.parametrize("change", CHANGES)
def test_another_businesss_category_is_not_found(
        session: Session, business: Business, manager: Actor,
        make_business: Callable[..., Business], change: Callable[..., Any]) -> None:
    other = make_business("Чужой гараж")
    before = _state(session, other.id)
    for category_id in (_id(session, other.id, "repair"), 10**9):
        with pytest.raises(NotFound) as refused:
            change(session, manager, category_id)
        assert refused.value.code == "unknown_category"
    assert _state(session, other.id) == before


@pytest.mark.parametrize("change", [
    *CHANGES,
    lambda s, a, i: categories.add(s, a, "cashier-add", name_ru="Мойка"),
    lambda s, a, i: categories.list_categories(s, a),
])
def test_a_cashier_is_refused(session: Session, business: Business, cashier: Actor,
                              change: Callable[..., Any]) -> None:
    before = _state(session, business.id)
    with pytest.raises(PermissionDenied) as refused:
        change(session, cashier, _id(session, business.id, "repair"))
    assert refused.value.code == "categories_managers_only"
    assert _state(session, business.id) == before


def test_a_stamp_card_adds_its_category_named_by_its_title(
        session: Session, business: Business, owner: Actor) -> None:
    car_wash = StampCard("car_wash", "Каждая 5-я мойка бесплатно", every=5)
    settings = replace(DEMO, stamp_cards=(*DEMO.stamp_cards, car_wash))
    for _ in range(2):  # the same save twice, and a second version: added once
        programs.save(session, owner, "program-with-wash", settings=settings)
    programs.save(session, owner, "program-again", settings=settings)
    row = _row(session, business.id, "car_wash")
    assert (row.name_ru, row.name_en, row.kind, row.active) == \
        ("Каждая 5-я мойка бесплатно", None, "work", True)
    # The oil-change card's category was in the list already: not added again.
    assert session.scalar(select(func.count()).select_from(ServiceCategory).where(
        ServiceCategory.business_id == business.id,
        ServiceCategory.code == "oil_change")) == 1
    assert _actions(session, business.id) == ["category.add"]
