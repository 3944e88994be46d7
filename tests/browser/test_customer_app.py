"""The customer app in a real Chromium: join by phone with the console SMS backend, see
the balance and tier, show the check-in QR the page computes (the counter accepts it
once), install the app, go offline and reload, sign out and leave nothing behind."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    require_chromium,
    serve,
    staff_sign_in,
)
from tests.web_client import PASSWORD
from webapp.demo import generate
from webapp.domain.actor import Actor, Role
from webapp.domain.clock import utcnow
from webapp.domain.presets import DEMO
from webapp.persistence.database import make_engine
from webapp.persistence.migrate import upgrade
from webapp.persistence.models import Branch, Customer, CustomerSession, Order
from webapp.services.business import setup as businesses
from webapp.services.customers import sign_in as customer_sign_in
from webapp.services.notify import outbox
from webapp.services.program import versions as programs
from webapp.services.staff import accounts as staff
from webapp.sms import ConsoleGateway

PHONE = "+79161234567"
PHONE_TYPED = "8 916 123-45-67"
MOBILE = {"width": 390, "height": 844}


@dataclass(frozen=True)
class Shop:
    url: str
    business_id: int
    branch_id: int
    database_url: str

    def text_the_codes(self) -> ConsoleGateway:
        """Run the outbox once, as ``regulars worker`` would, into a console gateway."""
        gateway = ConsoleGateway()
        engine = make_engine(self.database_url)
        try:
            with Session(engine) as db:
                outbox.run_once(db, {outbox.SMS: outbox.sms_sender(gateway)})
        finally:
            engine.dispose()
        return gateway


def open_business(db: Session, name: str) -> tuple[int, int]:
    """A business with an owner, a cashier and the DEMO program: (its id, its branch)."""
    made = businesses.create_business(db, name=name, branches=["Центр"])
    owner = staff.create_staff(db, business_id=made.id, login="owner", password=PASSWORD,
                               role=Role.OWNER.value)
    staff.create_staff(db, business_id=made.id, login="cashier", password=PASSWORD,
                       role=Role.CASHIER.value)
    programs.save(db, Actor.staff(made.id, owner.id, Role.OWNER), f"program-key-{made.id}",
                  settings=DEMO, now=utcnow() - timedelta(days=1))
    return made.id, db.scalars(select(Branch.id).where(Branch.business_id == made.id)).one()


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    """The car service, and a tyre shop (business id ``shop.business_id + 1``) on the
    same server: one origin for both customer apps, as in production."""
    database_url = f"sqlite:///{tmp_path / 'customer.sqlite3'}"
    engine = make_engine(database_url)
    upgrade(engine)
    with Session(engine, expire_on_commit=False) as db:
        business_id, branch_id = open_business(db, "Гараж на Лесной")
        open_business(db, "Шиномонтаж у Петра")
    engine.dispose()
    with serve(database_url, tmp_path) as url:
        yield Shop(url, business_id, branch_id, database_url)


def join(page: Any, shop: Shop, business_id: int | None = None) -> None:
    """Type the phone, agree, read the texted code, type it: the card opens (at the
    shop, or at another business served by the same server)."""
    page.goto(f"{shop.url}/c/{business_id or shop.business_id}/sign-in")
    page.get_by_label("Номер телефона").fill(PHONE_TYPED)
    page.get_by_label(re.compile("обработку моих персональных данных")).check()
    page.get_by_role("button", name="Получить код").click()
    expect(page.get_by_role("heading", name="Код из SMS")).to_be_visible()
    text = shop.text_the_codes().last_to(PHONE)
    assert text, "the worker texted no code"
    page.get_by_label("Код", exact=True).fill(text[:6])
    page.get_by_role("button", name="Войти").click()
    expect(page.locator("#available")).to_have_text("100 баллов")


def shown_code(page: Any) -> str:
    """Read the QR on screen back with jsQR, as a counter's camera would."""
    qr = page.locator(".checkin-qr svg")
    expect(qr).to_be_visible()
    page.add_script_tag(url="/static/vendor/jsqr/jsQR.min.js")
    png = page.locator(".checkin-qr").screenshot()
    return str(page.evaluate("""async (bytes) => {
        const blob = new Blob([new Uint8Array(bytes)], {type: "image/png"});
        const bitmap = await createImageBitmap(blob);
        const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
        const context = canvas.getContext("2d");
        context.drawImage(bitmap, 0, 0);
        const pixels = context.getImageData(0, 0, bitmap.width, bitmap.height);
        const found = jsQR(pixels.data, bitmap.width, bitmap.height);
        return found ? found.data : "";
    }""", list(png)))


def test_join_see_the_card_and_check_in_once_with_the_live_code(shop: Shop) -> None:
    require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            phone = browser.new_context(locale="ru-RU", viewport=MOBILE, device_scale_factor=2)
            page = phone.new_page()
            join(page, shop)
            expect(page.get_by_text("До уровня «Базовый»: ещё 1 визит.")).to_be_visible()
            code = shown_code(page)
            assert re.fullmatch(r"R1\.\d{9}\.\d+\.[A-Z2-7]{10}", code), code

            counter = browser.new_context(locale="ru-RU").new_page()
            staff_sign_in(counter, shop.url, shop.business_id, "cashier")
            scan = f"{shop.url}/b/{shop.business_id}/counter/{shop.branch_id}"
            counter.goto(scan)
            token = counter.locator('input[name="csrf_token"]').first.get_attribute("value")
            assert token

            def identify() -> Any:
                return counter.request.post(f"{scan}/identify", form={
                    "csrf_token": token, "scanned": code},
                    headers={"Accept": "application/json"})

            first = identify()
            assert first.status == 200, first.text()
            assert "/customers/" in first.json()["url"]
            replayed = identify()
            assert replayed.status == 409
            assert "уже сканировали" in replayed.json()["detail"]
        finally:
            browser.close()


@contextmanager
def phone_keeping_its_storage(profile: Path) -> Iterator[Any]:
    """A phone's Chromium context whose service workers, caches and cookies persist in
    ``profile`` (installability and offline checks need one), closed afterwards."""
    require_chromium()
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
            locale="ru-RU", viewport=MOBILE)
        try:
            yield context
        finally:
            context.close()


def test_installable_works_offline_and_sign_out_leaves_nothing(shop: Shop,
                                                                tmp_path: Path) -> None:
    with phone_keeping_its_storage(tmp_path / "profile") as context:
        page = context.new_page()
        join(page, shop)
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.reload()  # now under the service worker's control
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        cdp = context.new_cdp_session(page)
        assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []

        context.set_offline(True)
        page.reload()
        expect(page.locator("#available")).to_have_text("100 баллов")
        expect(page.locator("#stale")).to_be_visible()
        expect(page.locator("#stale")).to_contain_text("Обновлено в")
        expect(page.locator(".checkin-qr svg")).to_be_visible()  # made on the phone
        context.set_offline(False)

        page.reload()
        expect(page.locator("#stale")).to_be_hidden()
        page.goto(f"{shop.url}/c/{shop.business_id}/profile")
        page.get_by_role("button", name="Выйти", exact=True).click()
        expect(page.get_by_text("Вы вышли.")).to_be_visible()
        cached = page.evaluate("caches.keys()")
        assert not [name for name in cached if name.startswith("regulars-personal")], cached

        context.set_offline(True)
        with pytest.raises(Exception, match=r"ERR_INTERNET_DISCONNECTED|ERR_FAILED"):
            page.goto(f"{shop.url}/c/{shop.business_id}/")


@pytest.fixture
def demo_shop(tmp_path: Path) -> Iterator[tuple[str, int, str]]:
    """The demo car service (``regulars demo``'s generator) served, and a device token of
    its most regular customer: (url, business id, token)."""
    database_url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    engine = make_engine(database_url)
    upgrade(engine)
    with Session(engine, expire_on_commit=False) as db:
        made = generate(db, customers=40, seed=7)
        regular = db.scalars(select(Order.customer_id).where(Order.business_id == made.business_id)
                             .group_by(Order.customer_id)
                             .order_by(func.count(Order.id).desc(), Order.customer_id)).first()
        phone = db.scalar(select(Customer.phone).where(Customer.id == regular))
        assert phone
        asked = customer_sign_in.request_code(db, made.business_id, phone, ip=None,
                                              data_consent=True)
        gateway = ConsoleGateway()
        outbox.run_once(db, {outbox.SMS: outbox.sms_sender(gateway)})
        text = gateway.last_to(phone)
        assert text
        token = customer_sign_in.verify_code(db, made.business_id, asked.request_id, text[:6],
                                             ip=None, device="Demo phone").token
    engine.dispose()
    with serve(database_url, tmp_path) as url:
        yield url, made.business_id, token


def test_the_demo_card_in_russian_and_english(demo_shop: tuple[str, int, str], shots: Path
                                              ) -> None:
    url, business_id, token = demo_shop
    require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            phone = browser.new_context(locale="ru-RU", viewport=MOBILE, device_scale_factor=2)
            phone.add_cookies([{"name": f"customer-{business_id}", "value": token, "url": url}])
            page = phone.new_page()
            page.goto(f"{url}/c/{business_id}/")
            expect(page.get_by_role("heading", name="Покажите на кассе")).to_be_visible()
            expect(page.locator(".badge.tier")).to_be_visible()  # a regular has a level
            expect(page.locator(".checkin-qr svg")).to_be_visible()
            page.screenshot(path=str(shots / "customer-card-ru.png"), full_page=True)

            page.get_by_role("link", name="English").click()
            expect(page.get_by_role("heading", name="Show at the counter")).to_be_visible()
            expect(page.locator("html")).to_have_attribute("lang", "en")
            expect(page.locator("#available")).to_contain_text("point")
            page.screenshot(path=str(shots / "customer-card-en.png"), full_page=True)
            page.goto(f"{url}/c/{business_id}/history")  # the choice is remembered
            expect(page.get_by_role("heading", name="Points history")).to_be_visible()

            # 200 % text, as a phone's accessibility setting makes it: nothing is cut off
            # or needs scrolling sideways, and the code is still whole on screen.
            for path in ("/", "/profile", "/history", "/invite"):
                page.goto(f"{url}/c/{business_id}{path}")
                page.evaluate("document.documentElement.style.fontSize = '200%'")
                overflow = page.evaluate(
                    "document.documentElement.scrollWidth - window.innerWidth")
                wide = page.evaluate("""[...document.querySelectorAll('body *')]
                    .filter(e => e.getBoundingClientRect().right > window.innerWidth)
                    .map(e => e.tagName + '.' + e.className)""")
                assert overflow <= 0, (path, overflow, wide[:8])  # what sticks out
            page.goto(f"{url}/c/{business_id}/")
            page.evaluate("document.documentElement.style.fontSize = '200%'")
            box = page.locator(".checkin-qr svg").bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= MOBILE["width"]
        finally:
            browser.close()


def test_a_device_signed_out_elsewhere_keeps_no_card_offline(shop: Shop, tmp_path: Path) -> None:
    """The lost phone: its session is ended from another device; the next time it is
    online the card and its check-in secret are wiped from it."""
    with phone_keeping_its_storage(tmp_path / "lost-phone") as context:
        page = context.new_page()
        join(page, shop)
        page.reload()
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        engine = make_engine(shop.database_url)
        with Session(engine) as db:  # "sign out this device" from the other phone
            db.execute(update(CustomerSession).values(revoked_at=utcnow()))
            db.commit()
        engine.dispose()
        page.reload()
        expect(page.get_by_role("button", name="Получить код")).to_be_visible()
        context.set_offline(True)
        with pytest.raises(Exception, match=r"ERR_INTERNET_DISCONNECTED|ERR_FAILED"):
            page.goto(f"{shop.url}/c/{shop.business_id}/")


def test_one_phone_holds_two_businesses_cards(shop: Shop, tmp_path: Path) -> None:
    """Signed in at the car service, the customer follows a link to the tyre shop on the
    same server and joins it too: both cards open, online and offline; signing out of
    the tyre shop leaves the car service's card, its cookie and its offline copy."""
    first, second = shop.business_id, shop.business_id + 1
    with phone_keeping_its_storage(tmp_path / "two-cards") as context:
        page = context.new_page()
        for business_id in (first, second):
            join(page, shop, business_id)
            page.evaluate("navigator.serviceWorker.ready.then(() => true)")
            page.reload()  # under this business's service worker: the card is kept
            page.wait_for_function("navigator.serviceWorker.controller !== null")
        for business_id in (first, second):
            page.goto(f"{shop.url}/c/{business_id}/")
            expect(page.locator("#available")).to_have_text("100 баллов")
        assert {f"/c/{first}/", f"/c/{second}/"} <= {
            name.removeprefix("regulars-personal:") for name in page.evaluate("caches.keys()")}

        page.goto(f"{shop.url}/c/{second}/profile")
        page.get_by_role("button", name="Выйти", exact=True).click()
        expect(page.get_by_text("Вы вышли.")).to_be_visible()
        page.wait_for_function(f"""caches.keys().then(names => !names.includes(
            "regulars-personal:/c/{second}/"))""")
        cached = page.evaluate("caches.keys()")
        assert f"regulars-personal:/c/{first}/" in cached, cached
        assert {c["name"] for c in context.cookies()} >= {f"customer-{first}"}
        assert f"customer-{second}" not in {c["name"] for c in context.cookies()}
        page.goto(f"{shop.url}/c/{first}/")
        expect(page.locator("#available")).to_have_text("100 баллов")

        context.set_offline(True)
        page.goto(f"{shop.url}/c/{first}/")  # the car service's copy survived
        expect(page.locator("#available")).to_have_text("100 баллов")
        with pytest.raises(Exception, match=r"ERR_INTERNET_DISCONNECTED|ERR_FAILED"):
            page.goto(f"{shop.url}/c/{second}/")
