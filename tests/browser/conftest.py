"""A real server in a thread and Debian's Chromium driven by Playwright (no download)."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from webapp.domain.actor import Role
from webapp.persistence.database import make_engine
from webapp.persistence.migrate import upgrade
from webapp.services import businesses, staff

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
OWNER_LOGIN = "owner"
OWNER_PASSWORD = "correct horse battery"


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
                           password=OWNER_PASSWORD, role=Role.OWNER.value,
                           display_name="Анна, владелец")
        business_id = business.id
    engine.dispose()
    with serve(database_url, tmp_path) as url:
        yield LiveServer(url, business_id)


@contextmanager
def serve(database_url: str, instance: Path) -> Iterator[str]:
    """The app on this database, served from a thread on a free port; yields its URL."""
    from webapp.app import create_app

    app = create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(instance),
                      "SECRET_KEY": "browser-secret-" + "x" * 40})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            app.extensions["sqlalchemy"].engine.dispose()


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Werkzeug's development server, which these tests serve from, leaves a static
    file's handle to the garbage collector when the browser drops the connection mid-file
    (a page closed while a script still loads). That is the test server's shutdown, not
    our code: only that warning is let through, and only for the browser tests."""
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).parent == here:
            item.add_marker(pytest.mark.filterwarnings(
                r"ignore:Exception ignored in. <_io.FileIO name='[^']*/static/"
                ":pytest.PytestUnraisableExceptionWarning"))
