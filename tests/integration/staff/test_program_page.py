"""The owner's program page: who may open it, the server-side preview, saving versions."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.web_client import PASSWORD, page_text, staff_signed_in
from webapp.domain.actor import Actor, Role
from webapp.domain.clock import utcnow
from webapp.domain.presets import DEMO
from webapp.domain.program import from_dict
from webapp.domain.quote import OrderDraft
from webapp.persistence.models import Branch, ProgramVersion
from webapp.services.counter import checkout
from webapp.services.customers import accounts as customers
from webapp.services.program import versions as programs
from webapp.services.staff import accounts as staff

pytestmark = pytest.mark.usefixtures("no_csrf")


def _member(app: Any, business: Any, role: Role) -> Any:
    return staff.create_staff(app.test_session(), business_id=business.id, login=role.value,
                              password=PASSWORD, role=role.value)


@pytest.fixture
def owner_client(app: Any, client: Any, business: Any) -> Any:
    _member(app, business, Role.OWNER)
    staff_signed_in(client, business.id, Role.OWNER.value)
    return client


def _url(business: Any, tail: str = "") -> str:
    return f"/b/{business.id}/backoffice/program{tail}"


def _form(**changes: str) -> dict[str, str]:
    """The bonus_5_20 preset as its form submits it."""
    form = {"preset": "bonus_5_20", "mechanic": "bonus", "discount_pct": "0",
            "accrual_pct": "5", "redeem_cap_pct": "20", "min_order_rub": "0",
            "expiry_months": "12", "welcome": "0", "referral": "0", "birthday": "0",
            "gift_visit": "", "gift_title": "", "effective": "now",
            "idempotency_key": "page-key-0001"}
    form.update(changes)
    return form


def _versions(app: Any, business: Any) -> int:
    return app.test_session().scalar(select(func.count()).select_from(ProgramVersion).where(
        ProgramVersion.business_id == business.id))


@pytest.mark.parametrize("role", [Role.CASHIER, Role.MANAGER])
def test_lower_roles_are_forbidden(app: Any, client: Any, business: Any, role: Role) -> None:
    _member(app, business, role)
    staff_signed_in(client, business.id, role.value)
    assert client.get(_url(business)).status_code == 403
    assert client.post(_url(business, "/preview"), json=_form()).status_code == 403
    assert client.post(_url(business), data=_form()).status_code == 403
    assert _versions(app, business) == 0


def test_another_business_is_not_found(owner_client: Any, make_business: Any) -> None:
    other = make_business("Чужой сервис")
    assert owner_client.get(_url(other)).status_code == 404
    assert owner_client.post(_url(other), data=_form()).status_code == 404


def test_anonymous_is_redirected_to_sign_in(client: Any, business: Any) -> None:
    response = client.get(_url(business))
    assert response.status_code == 302
    assert f"/b/{business.id}/staff/sign-in" in response.headers["Location"]


def test_page_shows_presets_and_the_rule(owner_client: Any, business: Any) -> None:
    page = owner_client.get(_url(business, "?preset=bonus_5_20")).get_data(as_text=True)
    assert "Бонусы 5 %, оплата до 20 %" in page
    assert 'for="f-accrual_pct"' in page
    assert "<script>" not in page and "js/program.js" in page
    assert "Сохранённых версий пока нет" in page


def test_preview_gives_the_sentence(owner_client: Any, business: Any) -> None:
    response = owner_client.post(_url(business, "/preview"), json=_form())
    assert response.status_code == 200
    html = page_text(response)
    assert "5 %" in html and "20 %" in html
    assert 'id="rule-sentence"' in html


def test_preview_takes_a_decimal_comma(owner_client: Any, business: Any) -> None:
    html = page_text(owner_client.post(_url(business, "/preview"), json=_form(accrual_pct="7,5")))
    assert "7,5 %" in html


def test_preview_warns_about_a_big_discount(owner_client: Any, business: Any) -> None:
    response = owner_client.post(_url(business, "/preview"),
                                 json=_form(mechanic="discount", discount_pct="25",
                                            accrual_pct="0", redeem_cap_pct="0"))
    assert response.status_code == 200
    assert 'class="warnings"' in response.get_data(as_text=True)


def test_impossible_discount_is_refused(app: Any, owner_client: Any, business: Any) -> None:
    response = owner_client.post(_url(business, "/preview"),
                                 json=_form(mechanic="discount", discount_pct="150"))
    assert response.status_code == 422
    html = page_text(response)
    assert 'role="alert"' in html and "«Скидка, %»: процент от 0 до 99,99 %." in html
    assert _versions(app, business) == 0


@pytest.mark.parametrize(("changes", "says"), [
    ({"tiers-0-name": "Первый", "tiers-0-min_orders": "5", "tiers-1-name": "Второй",
      "tiers-1-min_orders": "3"}, "Каждый уровень должен требовать больше предыдущего."),
    ({"tiers-0-name": "Первый", "tiers-0-min_orders": "20000"},
     "«Уровень 1: заказов»: нужно целое число от 0 до 10 000."),
    ({"redeem_cap_pct": "0"}, "Баллы, которыми нельзя заплатить"),
])
def test_refusals_are_in_russian_and_name_the_field(owner_client: Any, business: Any,
                                                    changes: dict, says: str) -> None:
    response = owner_client.post(_url(business, "/preview"), json=_form(**changes))
    assert response.status_code == 422
    assert says in page_text(response)


def test_not_a_number_is_named(owner_client: Any, business: Any) -> None:
    response = owner_client.post(_url(business, "/preview"), json=_form(accrual_pct="пять"))
    assert response.status_code == 422
    assert "Начисление" in response.get_data(as_text=True)


def test_save_creates_versions_and_history(app: Any, owner_client: Any, business: Any) -> None:
    first = owner_client.post(_url(business), data=_form(idempotency_key="save-key-0001"))
    assert first.status_code == 302
    page = owner_client.get(_url(business)).get_data(as_text=True)
    assert "Версия 1 сохранена" in page
    second = owner_client.post(_url(business), data=_form(idempotency_key="save-key-0002",
                                                          accrual_pct="7"))
    assert second.status_code == 302
    page = page_text(owner_client.get(_url(business)))
    assert "Версия 2 сохранена" in page
    history = page.split('id="history"', 1)[1]
    assert history.count("<tr><td>") == 2
    assert "7 %" in history and "5 %" in history
    assert _versions(app, business) == 2


def test_double_submit_saves_once(app: Any, owner_client: Any, business: Any) -> None:
    form = _form(idempotency_key="double-key-0001")
    assert owner_client.post(_url(business), data=form).status_code == 302
    assert owner_client.post(_url(business), data=form).status_code == 302
    assert _versions(app, business) == 1


def test_future_start_is_saved(app: Any, owner_client: Any, business: Any) -> None:
    later = (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = owner_client.post(_url(business), data=_form(effective="at", effective_at=later))
    assert response.status_code == 302
    assert _versions(app, business) == 1


def test_past_start_is_refused(app: Any, owner_client: Any, business: Any) -> None:
    earlier = (utcnow() - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = owner_client.post(_url(business), data=_form(effective="at",
                                                            effective_at=earlier))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="save-error"' in html and "не может начаться в прошлом" in html
    assert _versions(app, business) == 0


def test_window_downgrade_point_value_and_per_vehicle_cards_are_saved(
        app: Any, owner_client: Any, business: Any) -> None:
    form = _form(preset="car_service", mechanic="cashback", redeem_cap_pct="100",
                 idempotency_key="window-key-0001", tier_window_months="12",
                 downgrade_grace_days="30", point_value_rub="0,5",
                 referral_monthly_limit="3", birthday_window_days="5",
                 **{"tiers-0-name": "Свой", "tiers-0-min_orders": "2",
                    "tiers-0-discount_pct": "3", "stamps-0-category": "oil_change",
                    "stamps-0-title": "Каждая 5-я замена масла", "stamps-0-every": "5",
                    "stamps-0-reward_pct": "100", "stamps-0-per_asset": "on"})
    assert owner_client.post(_url(business), data=form).status_code == 302
    saved = app.test_session().scalars(select(ProgramVersion.settings).where(
        ProgramVersion.business_id == business.id)).one()
    settings = from_dict(json.loads(saved))
    assert (settings.tier_window_months, settings.downgrade_grace_days) == (12, 30)
    assert settings.point_value == 50
    assert (settings.bonuses.referral_monthly_limit, settings.bonuses.birthday_window_days) == (
        3, 5)
    assert settings.stamp_cards[0].per_asset and settings.stamp_cards[0].every == 5
    page = owner_client.get(_url(business)).get_data(as_text=True)
    assert 'name="tier_window_months"' in page and 'name="stamps-0-per_asset"' in page


def test_tier_rates_perks_and_limited_perks_round_trip(app: Any, owner_client: Any,
                                                       business: Any) -> None:
    form = _form(idempotency_key="perk-key-0001", **{
        "tiers-0-name": "Свой", "tiers-0-min_orders": "1", "tiers-0-discount_pct": "2",
        "tiers-0-accrual_pct": "7", "tiers-0-redeem_cap_pct": "30",
        "tiers-0-perks": "Кофе; Мойка",
        "tiers-0-entitlements": "Бесплатная диагностика: 1/визит; Шиномонтаж: 2/год"})
    assert owner_client.post(_url(business), data=form).status_code == 302
    saved = from_dict(json.loads(app.test_session().scalars(select(ProgramVersion.settings)
                                                            .where(ProgramVersion.business_id
                                                                   == business.id)).one()))
    tier = saved.tiers[0]
    assert (tier.accrual_bp, tier.redeem_cap_bp, tier.perks) == (700, 3000, ("Кофе", "Мойка"))
    assert [(e.code, e.limit, e.per.value) for e in tier.entitlements] == [
        ("free_diagnostics", 1, "visit"), (tier.entitlements[1].code, 2, "year")]
    bad = owner_client.post(_url(business, "/preview"), json=_form(**{
        "tiers-0-name": "Свой", "tiers-0-min_orders": "1", "tiers-0-entitlements": "мойка"}))
    assert bad.status_code == 422 and "Название: 1/визит" in page_text(bad)


def test_perk_and_gift_values_round_trip_and_are_costed(app: Any, owner_client: Any,
                                                        business: Any) -> None:
    form = _form(idempotency_key="value-key-0001", gift_visit="3", gift_title="Лампочка",
                 gift_value_rub="150,50", **{
                     "tiers-0-name": "Свой", "tiers-0-min_orders": "1",
                     "tiers-0-entitlements": "Бесплатная диагностика: 1/визит = 1 500;"
                                             " Шиномонтаж: 2/год"})
    preview = owner_client.post(_url(business, "/preview"), json=form)
    text = page_text(preview)
    assert preview.status_code == 200
    assert "«Бесплатная диагностика» —" in text and "Подарок на 3-й визит —" in text
    assert "Не учтены привилегии без стоимости: «Шиномонтаж»" in text
    assert owner_client.post(_url(business), data=form).status_code == 302
    saved = from_dict(json.loads(app.test_session().scalars(select(ProgramVersion.settings)
                                                            .where(ProgramVersion.business_id
                                                                   == business.id)).one()))
    assert [e.value_minor for e in saved.tiers[0].entitlements] == [150_000, 0]
    assert saved.bonuses.gift_value_minor == 15_050
    page = owner_client.get(_url(business)).get_data(as_text=True)
    assert "Бесплатная диагностика: 1/визит = 1500; Шиномонтаж: 2/год" in page
    assert 'value="150,5"' in page


def test_the_sms_price_is_the_business_own(app: Any, owner_client: Any, business: Any) -> None:
    page = owner_client.get(_url(business, "?preset=bonus_5_20")).get_data(as_text=True)
    assert 'id="f-sms_price_rub" name="sms_price_rub" value="3"' in page
    assert "(300 × 3 ₽)" in page_text(owner_client.post(_url(business, "/preview"),
                                                              json=_form()))
    saved = owner_client.post(_url(business, "/sms-price"), data={"sms_price_rub": "4,50"})
    assert saved.status_code == 302
    assert "(300 × 4,50 ₽)" in page_text(owner_client.post(_url(business, "/preview"),
                                                                 json=_form()))
    for bad in ("много", "-1", "1500"):
        refused = owner_client.post(_url(business, "/sms-price"), data={"sms_price_rub": bad})
        assert refused.status_code == 422 and 'id="e-sms_price_rub"' in refused.get_data(
            as_text=True)
    assert "(300 × 4,50 ₽)" in page_text(owner_client.post(_url(business, "/preview"),
                                                                 json=_form()))


def test_choosing_a_preset_shows_the_platinum_customer_losing_his_level(
        app: Any, owner_client: Any, business: Any) -> None:
    db = app.test_session()
    system = Actor.system(business.id)
    programs.save(db, system, "demo-program-key", settings=DEMO, preset_name="service_tiers",
                  now=utcnow() - timedelta(days=30))
    peter = customers.join(db, system, phone="+79160001515", name="Пётр").customer
    branch = db.scalar(select(Branch.id).where(Branch.business_id == business.id))
    for n in range(15):
        checkout.close(db, system, f"platinum-{n}", customer_id=peter.id, branch_id=branch,
                       draft=OrderDraft(total=2_500_00), now=utcnow() - timedelta(days=20 - n))
    html = owner_client.get(_url(business, "?preset=car_service")).get_data(as_text=True)
    assert "Что изменится для нынешних клиентов" in html
    assert "Пётр: «Платиновый» → без уровня." in html
    assert "Привилегии «Выездной ремонт бесплатно» больше не будет у 1 клиента." in html
    kept = owner_client.get(_url(business)).get_data(as_text=True)  # the program in force
    assert "Для 1 клиента уровни, привилегии и баллы не меняются." in kept


def test_line_rules_and_a_fixed_stamp_reward_round_trip(app: Any, owner_client: Any,
                                                        business: Any) -> None:
    form = _form(idempotency_key="lines-key-0001", **{
        "lines-work-accrual_pct": "10", "lines-part-accrual_pct": "0",
        "lines-part-no_discount": "on",
        "stamps-0-category": "oil_change", "stamps-0-title": "Каждая 6-я замена масла",
        "stamps-0-every": "6", "stamps-0-reward_pct": "", "stamps-0-reward_rub": "1 500"})
    assert owner_client.post(_url(business), data=form).status_code == 302
    saved = from_dict(json.loads(app.test_session().scalars(select(ProgramVersion.settings)
                                                            .where(ProgramVersion.business_id
                                                                   == business.id)).one()))
    assert [(r.kind, r.accrual_bp, r.discounted) for r in saved.line_rules] == [
        ("work", 1000, True), ("part", 0, False)]
    assert saved.stamp_cards[0].reward_minor == 150_000
    page = owner_client.get(_url(business)).get_data(as_text=True)
    assert 'name="lines-work-accrual_pct" value="10"' in page
    assert 'name="lines-part-accrual_pct" value="0"' in page
    assert re.search(r'name="lines-part-no_discount" checked', page)
    assert 'name="stamps-0-reward_rub" value="1500"' in page
    # The rule reads in the program's sentence-by-sentence preview without an error, and
    # an impossible rate is refused naming the kind's row.
    bad = owner_client.post(_url(business, "/preview"), json=_form(
        **{"lines-part-accrual_pct": "100"}))
    assert bad.status_code == 422 and "Правило позиций 1" in page_text(bad)
