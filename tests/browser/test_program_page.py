"""The owner tunes the program in a real browser: the server rewrites the rule as they type."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import OWNER_LOGIN, LiveServer, fill_staff_sign_in


def test_owner_changes_accrual_and_saves(live_server: LiveServer, page: Any, shots: Path
                                          ) -> None:
    base = f"{live_server.url}/b/{live_server.business_id}"
    page.goto(f"{base}/backoffice/program")
    expect(page).to_have_url(re.compile(r"/staff/sign-in"))
    fill_staff_sign_in(page, OWNER_LOGIN)
    expect(page.get_by_role("heading", name="Программа")).to_be_visible()

    rule = page.locator("#rule-sentence")
    expect(rule).to_contain_text("5\u00a0%")
    page.get_by_label("Начисление, % от чека").fill("7")
    expect(rule).to_contain_text("7\u00a0%")

    page.screenshot(path=str(shots / "program-ru.png"), full_page=True)

    page.get_by_role("button", name="Сохранить").click()
    expect(page.get_by_role("status")).to_contain_text("Версия 1 сохранена")
    history = page.locator("#history tbody tr")
    expect(history).to_have_count(1)
    expect(history.first).to_contain_text("7\u00a0%")
