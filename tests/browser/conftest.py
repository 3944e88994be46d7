"""`regulars serve` (gunicorn, several workers) and Debian's Chromium driven by Playwright
(no download).

Screenshots go to a temporary folder, or to ``$REGULARS_SCREENSHOTS`` when set
(``REGULARS_SCREENSHOTS=docs/screenshots ./dev test tests/browser`` refreshes README's):
tests never write into the tree by themselves."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.serving import regulars_serve
from tests.web_client import PASSWORD
from webapp.domain.actor import Actor, Role
from webapp.domain.clock import utcnow
from webapp.domain.presets import DEMO
from webapp.persistence.database import make_engine
from webapp.persistence.migrate import upgrade
from webapp.persistence.models import Branch
from webapp.services.business import setup as businesses
from webapp.services.customers import accounts as customers
from webapp.services.ledger import balances
from webapp.services.ledger import operations as ledger
from webapp.services.program import versions as programs
from webapp.services.staff import accounts as staff

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
OWNER_LOGIN = "owner"


@dataclass(frozen=True)
class LiveServer:
    url: str
    business_id: int


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """The app on a migrated SQLite file, with a business and its owner, on a free port."""
    database_url = f"sqlite:///{tmp_path / 'browser.sqlite3'}"
    engine = make_engine(database_url)
    upgrade(engine)
    with Session(engine, expire_on_commit=False) as session:
        business = businesses.create_business(session, name="Гараж на Лесной")
        staff.create_staff(session, business_id=business.id, login=OWNER_LOGIN,
                           password=PASSWORD, role=Role.OWNER.value,
                           display_name="Анна, владелец")
        business_id = business.id
    engine.dispose()
    with serve(database_url, tmp_path) as url:
        yield LiveServer(url, business_id)


@contextmanager
def serve(database_url: str, instance: Path) -> Iterator[str]:
    """`regulars serve --workers 2` on this migrated database; yields its URL."""
    with regulars_serve(database_url, instance / "served", workers=2) as served:
        yield served.url


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: ``$REGULARS_SCREENSHOTS``, else a temporary folder."""
    chosen = os.environ.get("REGULARS_SCREENSHOTS")
    if chosen:
        Path(chosen).mkdir(parents=True, exist_ok=True)
        return Path(chosen)
    return tmp_path_factory.mktemp("screenshots")


def fill_staff_sign_in(page: Any, login: str, password: str = PASSWORD) -> None:
    """Sign in on the staff form the page shows, as a person types it."""
    page.get_by_label("Логин").fill(login)
    page.get_by_label("Пароль").fill(password)
    page.get_by_role("button", name="Войти").click()


def staff_sign_in(page: Any, url: str, business_id: int, login: str, then: str | None = None
                  ) -> None:
    """Open the staff sign-in form of the business served at ``url`` (going to ``then``
    afterwards, if given) and sign in as ``login``."""
    query = f"?next={then}" if then else ""
    page.goto(f"{url}/b/{business_id}/staff/sign-in{query}")
    fill_staff_sign_in(page, login)


@dataclass
class LostAnswer:
    """A close whose first answer never reaches the page, and what its status line showed."""

    lost: list[str]  # the request bodies whose answers were dropped (one at most)
    shown: list[str]  # every text the close's status line took, in order


def lose_the_first_close_answer(page: Any) -> LostAnswer:
    """The server closes the order but the page never hears back, once; the retry goes
    through. The "retrying" line shows for only half a second, shorter than expect()'s
    polling gaps on a slow machine, so every text the status line takes is recorded."""
    seen = LostAnswer([], [])

    def drop_the_answer(route: Any) -> None:
        if not seen.lost:
            seen.lost.append(route.request.post_data or "")
            route.fetch()
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(re.compile(r"/close$"), drop_the_answer)
    page.expose_function("noteStatus", lambda text: seen.shown.append(text))
    # The page may still be arriving after sign-in: observe the line once it is there.
    page.locator("#close-status").wait_for(state="attached")
    page.evaluate("""() => {
        const status = document.getElementById("close-status");
        new MutationObserver(() => window.noteStatus(status.textContent))
            .observe(status, {childList: true, characterData: true, subtree: true});
    }""")
    return seen


def require_chromium() -> None:
    """Skip without Debian's Chromium; under CI=true its absence is a failure instead."""
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing (./dev test installs Debian's chromium)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")


@pytest.fixture
def page() -> Iterator[Any]:
    """A fresh Chromium page; skipped without Chromium, except under CI where it fails."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="ru-RU", viewport={"width": 1280, "height": 900})
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


# -- a shop at the counter: its data, a camera browser, the cashier's way in -----------

CAMERA_ARGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


@dataclass(frozen=True)
class Counter:
    url: str
    business_id: int
    centre: int
    north: int
    customer_id: int
    card: str
    secret: bytes
    database_url: str

    def available(self) -> int:
        engine = make_engine(self.database_url)
        try:
            with Session(engine) as db:
                return balances.balance(db, Actor.system(self.business_id),
                                      self.customer_id).available
        finally:
            engine.dispose()

    def count(self, what: Any) -> int:
        engine = make_engine(self.database_url)
        try:
            with Session(engine) as db:
                return int(db.scalar(select(func.count()).select_from(what)) or 0)
        finally:
            engine.dispose()


@pytest.fixture
def counter(tmp_path: Path) -> Iterator[Counter]:
    """A shop with the demo program, a cashier of one branch, a manager, a customer."""
    database_url = f"sqlite:///{tmp_path / 'counter.sqlite3'}"
    engine = make_engine(database_url)
    upgrade(engine)
    with Session(engine, expire_on_commit=False) as db:
        shop = businesses.create_business(db, name="Гараж на Лесной",
                                          branches=["Центр", "Север"])
        centre, north = db.scalars(select(Branch.id).where(Branch.business_id == shop.id)
                                   .order_by(Branch.id)).all()
        owner = staff.create_staff(db, business_id=shop.id, login="owner", password=PASSWORD,
                                   role=Role.OWNER.value)
        staff.create_staff(db, business_id=shop.id, login="cashier", password=PASSWORD,
                           role=Role.CASHIER.value, display_name="Олег, кассир",
                           branch_ids=[centre])
        staff.create_staff(db, business_id=shop.id, login="manager", password=PASSWORD,
                           role=Role.MANAGER.value, display_name="Мария, менеджер")
        programs.save(db, Actor.staff(shop.id, owner.id, Role.OWNER), "browser-program",
                      settings=DEMO, now=utcnow() - timedelta(days=1))
        joined = customers.join(db, Actor.system(shop.id), phone="+79161234567",
                                name="Иван Петров").customer
        ledger.accrue(db, Actor.system(shop.id), "browser-points", customer_id=joined.id,
                      points=2000)
        made = (shop.id, centre, north, joined.id, joined.card_number, joined.checkin_secret)
    engine.dispose()
    with serve(database_url, tmp_path) as url:
        yield Counter(url, *made, database_url)


@pytest.fixture
def browser_with_camera() -> Iterator[Callable[[Path], Any]]:
    """Open a phone-sized page in a Chromium whose camera shows the given .y4m video."""
    require_chromium()
    opened: list[Any] = []
    with sync_playwright() as playwright:
        def open_page(video: Path) -> Any:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=[*CHROMIUM_ARGS, *CAMERA_ARGS, f"--use-file-for-fake-video-capture={video}"])
            opened.append(browser)
            context = browser.new_context(locale="ru-RU", viewport={"width": 390, "height": 844},
                                          device_scale_factor=2, is_mobile=True, has_touch=True)
            context.grant_permissions(["camera"])
            return context.new_page()

        try:
            yield open_page
        finally:
            for browser in opened:
                browser.close()


def sign_in(page: Any, counter: Counter, login: str, then: str) -> None:
    staff_sign_in(page, counter.url, counter.business_id, login, then)


def counter_path(counter: Counter, branch: int | None = None) -> str:
    return f"/b/{counter.business_id}/counter/{branch or counter.centre}"
