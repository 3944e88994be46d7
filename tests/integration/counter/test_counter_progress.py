"""Where the customer stands, on the panel and the receipt: a stamp card counted per
vehicle shows each vehicle's own "N из M"; the receipt shows what the order earned and
spent, the balance after, the tier and the way to the next one, the stamps, and carries
the text a share sends; it prints alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from html import unescape
from types import SimpleNamespace
from typing import Any

import pytest

from tests.integration.counter.conftest import next_key, post, url
from tests.web_client import page_text
from webapp.domain.clock import utcnow
from webapp.domain.presets import DEMO, OIL_CHANGE_CARD
from webapp.services.counter import assets
from webapp.services.program import versions as programs

CARD = OIL_CHANGE_CARD.title  # "Каждая 6-я замена масла бесплатно"


@pytest.fixture
def per_vehicle(app: Any, shop: SimpleNamespace) -> None:
    """The shop's oil-change card counts stamps per vehicle from now on."""
    programs.save(app.test_session(), shop.owner, "per-vehicle-card",
                  settings=replace(DEMO, stamp_cards=(replace(OIL_CHANGE_CARD, per_asset=True),)),
                  now=utcnow() - timedelta(hours=1))


def car(app: Any, shop: SimpleNamespace, customer_id: int, plate: str,
        label: str | None = None) -> int:
    return assets.add(app.test_session(), shop.owner, customer_id, kind="plate", value=plate,
                      label=label)


def oil_change(cashier: Any, shop: SimpleNamespace, customer_id: int, asset_id: int,
               **form: str) -> Any:
    done = post(cashier, shop, f"/customers/{customer_id}/close", key=next_key(),
                total=form.pop("total", "3000"), category="oil_change", asset_id=str(asset_id),
                **form)
    assert done.status_code == 200, done.get_json()
    return done


def test_each_vehicle_has_its_own_stamps(app: Any, cashier: Any, shop: SimpleNamespace,
                                         regular: SimpleNamespace, per_vehicle: None) -> None:
    lada = car(app, shop, regular.id, "А123ВС77", "Лада")
    kia = car(app, shop, regular.id, "В456ЕК99")
    for _ in range(3):
        oil_change(cashier, shop, regular.id, lada)
    oil_change(cashier, shop, regular.id, kia)
    panel = page_text(cashier.get(url(shop, f"/customers/{regular.id}")))
    assert f"{CARD}, А123ВС77 (Лада): 3 из 6." in panel
    assert f"{CARD}, В456ЕК99: 1 из 6." in panel
    assert f"{CARD}: 0 из 6." not in panel  # no longer one line for the customer


def test_a_per_vehicle_card_without_vehicles_asks_for_one(
        cashier: Any, shop: SimpleNamespace, regular: SimpleNamespace,
        per_vehicle: None) -> None:
    panel = page_text(cashier.get(url(shop, f"/customers/{regular.id}")))
    assert f"{CARD}: штампы считаются по каждому автомобилю или устройству" in panel


def test_a_card_per_customer_keeps_one_line(app: Any, cashier: Any, shop: SimpleNamespace,
                                            regular: SimpleNamespace) -> None:
    lada = car(app, shop, regular.id, "А123ВС77")
    oil_change(cashier, shop, regular.id, lada)
    panel = page_text(cashier.get(url(shop, f"/customers/{regular.id}")))
    assert f"{CARD}: 1 из 6." in panel and "А123ВС77:" not in panel


def test_the_receipt_shows_points_balance_tier_progress_and_the_cars_stamps(
        app: Any, cashier: Any, shop: SimpleNamespace, regular: SimpleNamespace,
        per_vehicle: None) -> None:
    lada = car(app, shop, regular.id, "А123ВС77", "Лада")
    kia = car(app, shop, regular.id, "В456ЕК99")
    oil_change(cashier, shop, regular.id, kia)
    done = oil_change(cashier, shop, regular.id, lada, total="4500", redeem="500")
    page = cashier.get(done.get_json()["url"])
    text = page_text(page)
    # 2 100 + 150 (5 % of the first 3 000) - 500 spent + 193 earned: 5 % of 4 500 less
    # the Базовый tier's 3 % (135) and the 500 points
    assert 'data-points="1943"' in text
    assert "Начислено</dt><dd>193 балла" in text and "Оплачено баллами</dt><dd>500 баллов" in text
    assert "Уровень</dt><dd>Базовый" in text
    assert '<progress id="tier-progress" max="100" value="' in text
    assert "До уровня «Серебряный»: ещё 1 визит" in text
    assert f"{CARD}, А123ВС77 (Лада): 1 из 6." in text
    assert "В456ЕК99" not in text  # the order's car only
    share = unescape(text.split('data-share-text="', 1)[1].split('"', 1)[0])
    assert share.splitlines() == [
        "Гараж на Лесной", f"Заказ №{done.get_json()['result']['order_id']}, "
        + text.split('<p class="muted">', 1)[1].split(" · ", 1)[0],
        "К оплате: 3 865 ₽", "Начислено: 193 балла", "Оплачено баллами: 500 баллов",
        "Баланс: 1 943 балла", "Уровень: Базовый", "До уровня «Серебряный»: ещё 1 визит.",
        f"{CARD}, А123ВС77 (Лада): 1 из 6."]
    assert 'class="counter receipt-page"' in text and "counter_receipt.js" in text


def test_the_print_stylesheet_prints_the_receipt_alone(client: Any) -> None:
    answer = client.get("/static/css/counter.css")
    css = answer.get_data(as_text=True)
    answer.close()
    rules = css.split("@media print", 1)[1]
    assert "body.receipt-page main > :not(.receipt) { display: none" in rules
    assert "body.receipt-page > :not(main)" in rules
