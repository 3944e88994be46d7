"""The counter in a real Chromium with a fake camera showing a QR: scan, quote, close
once, receipt; a replayed code; the flaky network; what a cashier cannot reach; a
sign-up with consent, a vehicle added, the maximum redeemed in one tap."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import (
    Counter,
    counter_path,
    lose_the_first_close_answer,
    sign_in,
)
from tests.browser.fake_camera import blank_y4m, write_y4m
from webapp.domain import checkin
from webapp.domain.clock import utcnow
from webapp.persistence.models import Asset, Consent, Operation, Order


def test_scan_quote_close_receipt(counter: Counter, browser_with_camera: Any,
                                  tmp_path: Path, shots: Path) -> None:
    page = browser_with_camera(write_y4m(tmp_path / "card.y4m", counter.card))
    sign_in(page, counter, "cashier", counter_path(counter))
    # The camera reads the card's QR and the panel opens by itself.
    expect(page).to_have_url(re.compile(rf"/customers/{counter.customer_id}$"), timeout=15000)
    expect(page.get_by_role("heading", name="Иван Петров")).to_be_visible()
    expect(page.locator("#available")).to_have_attribute("data-points", "2100")

    page.get_by_label("Сумма заказа, ₽").fill("4500")
    page.get_by_label("Списать баллов").fill("500")
    quote = page.locator("#quote .quote")
    expect(quote).to_have_attribute("data-redeem", "500")
    expect(quote).to_contain_text("К оплате")
    page.screenshot(path=str(shots / "counter-quote.png"), full_page=True)

    page.locator("#confirm").dblclick()  # a double tap must not close twice
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    shown = int(page.locator("#balance-after").get_attribute("data-points"))
    assert shown == counter.available() == 2100 - 500 + 200
    assert counter.count(Order) == 1
    # welcome bonus, the 2 000 credited above, then one redemption and one accrual
    assert counter.count(Operation) == 4
    page.screenshot(path=str(shots / "counter-receipt.png"), full_page=True)


def test_sign_up_with_consent_add_a_car_and_redeem_the_maximum(
        counter: Counter, browser_with_camera: Any, tmp_path: Path, shots: Path) -> None:
    page = browser_with_camera(blank_y4m(tmp_path / "blank.y4m"))
    sign_in(page, counter, "cashier", counter_path(counter))
    page.get_by_text("Новый клиент").click()
    page.get_by_label("Телефон клиента").fill("+7 916 555-01-02")
    page.get_by_label("Имя (необязательно)").fill("Пётр Сидоров")
    page.get_by_label(re.compile("Кто пригласил")).fill("8 916 123-45-67")  # Иван's phone
    page.get_by_role("button", name="Записать").click()
    assert counter.count(Consent) == 0  # the browser asks for the required tick first
    page.get_by_label(re.compile("Даю согласие на обработку моих персональных данных")).check()
    page.screenshot(path=str(shots / "counter-join.png"), full_page=True)
    page.get_by_role("button", name="Записать").click()
    expect(page.get_by_role("heading", name="Пётр Сидоров")).to_be_visible()
    assert counter.count(Consent) == 1

    page.get_by_text("Добавить автомобиль или устройство").click()
    page.get_by_label("Номер", exact=True).fill("ЛАДА")  # a plate has digits
    page.get_by_role("button", name="Добавить", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("хотя бы одна цифра")
    page.get_by_label("Номер", exact=True).fill("А123ВС77")
    page.get_by_label("Подпись (необязательно)").fill("Лада Веста")
    page.get_by_role("button", name="Добавить", exact=True).click()
    vehicle = page.get_by_label("Автомобиль или устройство", exact=True)
    expect(vehicle.locator("option", has_text="А123ВС77 (Лада Веста)")).to_have_count(1)
    vehicle.select_option(label="А123ВС77 (Лада Веста)")
    assert counter.count(Asset) == 1

    most = page.get_by_role("button", name=re.compile("Списать максимум"))
    expect(most).to_be_disabled()  # no quote yet
    page.get_by_label("Сумма заказа, ₽").fill("4500")
    expect(most).to_have_text("Списать максимум: 100 баллов")  # the welcome bonus, all of it
    most.click()
    expect(page.get_by_label("Списать баллов")).to_have_value("100")
    expect(page.locator("#quote .quote")).to_have_attribute("data-redeem", "100")
    page.screenshot(path=str(shots / "counter-redeem-max.png"), full_page=True)
    page.locator("#confirm").click()
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    # 100 - 100 redeemed + 5 % of (4 500 - 100), + 300 for joining by Иван's invitation
    expect(page.locator("#balance-after")).to_have_attribute("data-points", "520")
    assert counter.available() == 2100 + 300  # Иван's side of the referral
    expect(page.get_by_text("Каждая 6-я замена масла бесплатно: 0 из 6.")).to_be_visible()
    page.screenshot(path=str(shots / "counter-receipt-share.png"), full_page=True)


def test_a_replayed_live_code_is_refused(counter: Counter, browser_with_camera: Any,
                                         tmp_path: Path) -> None:
    code = checkin.make(counter.secret, counter.card, utcnow())
    video = write_y4m(tmp_path / "code.y4m", code)
    first = browser_with_camera(video)
    sign_in(first, counter, "cashier", counter_path(counter))
    expect(first).to_have_url(re.compile(rf"/customers/{counter.customer_id}$"), timeout=15000)
    expect(first.get_by_text("телефон у кассы")).to_be_visible()

    second = browser_with_camera(video)  # the same code shown again (a photo of the screen)
    sign_in(second, counter, "cashier", counter_path(counter))
    expect(second.locator("#identify-error")).to_contain_text("новый код", timeout=15000)
    assert second.url.endswith(counter_path(counter))


def test_typed_card_number_and_the_scan_screen(counter: Counter, browser_with_camera: Any,
                                               tmp_path: Path, shots: Path) -> None:
    page = browser_with_camera(blank_y4m(tmp_path / "blank.y4m"))
    sign_in(page, counter, "cashier", counter_path(counter))
    expect(page.locator("#camera-status")).to_contain_text("Наведите камеру")
    page.screenshot(path=str(shots / "counter-scan.png"), full_page=True)
    typo = counter.card[:-1] + str((int(counter.card[-1]) + 1) % 10)
    page.get_by_label("Номер карты").fill(typo)  # a typo is caught at the 9th digit
    expect(page.locator("#identify-error")).to_contain_text("опечатка")
    page.get_by_label("Номер карты").fill(counter.card)
    expect(page).to_have_url(re.compile(rf"/customers/{counter.customer_id}$"))


def test_a_lost_answer_is_retried_with_the_same_key(counter: Counter, browser_with_camera: Any,
                                                    tmp_path: Path) -> None:
    page = browser_with_camera(blank_y4m(tmp_path / "blank.y4m"))
    sign_in(page, counter, "cashier",
            f"{counter_path(counter)}/customers/{counter.customer_id}")
    seen = lose_the_first_close_answer(page)
    page.get_by_label("Сумма заказа, ₽").fill("1000")
    page.locator("#confirm").click()
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    assert any("пробуем ещё раз" in text for text in seen.shown), seen.shown
    assert seen.lost and counter.count(Order) == 1
    assert int(page.locator("#balance-after").get_attribute("data-points")) \
        == counter.available() == 2100 + 50


def test_a_cashier_cannot_reach_another_branch_or_the_back_office(
        counter: Counter, browser_with_camera: Any, tmp_path: Path) -> None:
    page = browser_with_camera(blank_y4m(tmp_path / "blank.y4m"))
    sign_in(page, counter, "cashier", counter_path(counter))
    for path in (counter_path(counter, counter.north),
                 f"/b/{counter.business_id}/backoffice/program"):
        response = page.goto(counter.url + path)
        assert response.status == 403
        expect(page.get_by_text("Недостаточно прав").or_(
            page.get_by_text("не работаете в этом филиале"))).to_be_visible()


def test_a_manager_refunds_and_the_points_come_back_out(
        counter: Counter, browser_with_camera: Any, tmp_path: Path) -> None:
    page = browser_with_camera(blank_y4m(tmp_path / "blank.y4m"))
    sign_in(page, counter, "manager",
            f"{counter_path(counter)}/customers/{counter.customer_id}")
    page.get_by_label("Сумма заказа, ₽").fill("10000")
    page.locator("#confirm").click()
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    assert counter.available() == 2100 + 500  # 5 % of 10 000 ₽
    order_id = page.url.rsplit("/", 1)[1]

    page.goto(f"{counter.url}/b/{counter.business_id}/backoffice/customers/"
              f"{counter.customer_id}")
    form = page.locator(f"#refund-{order_id}")
    form.get_by_label(re.compile("Сумма, ₽")).fill("4000")  # 40 % of the order back
    form.get_by_role("button", name="Вернуть").click()
    expect(page.get_by_role("status")).to_contain_text("Возврат 4\u202f000\u00a0₽")
    assert counter.available() == 2100 + 500 - 200
