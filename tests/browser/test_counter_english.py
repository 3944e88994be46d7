"""The counter in English in a real Chromium: the staff language switch, and the words
the counter's scripts show (taken from the page) in the page's language."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import Counter, counter_path, lose_the_first_close_answer, sign_in
from tests.browser.fake_camera import blank_y4m
from webapp.persistence.models import Order


def test_the_counter_switches_to_english_and_its_scripts_follow(
        counter: Counter, browser_with_camera: Any, tmp_path: Path) -> None:
    page = browser_with_camera(blank_y4m(tmp_path / "blank.y4m"))
    sign_in(page, counter, "cashier", counter_path(counter))
    expect(page.locator("#camera-status")).to_contain_text("Наведите камеру")

    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Scan the customer’s card")).to_be_visible()
    expect(page.locator("#camera-status")).to_have_text(
        "Point the camera at the customer’s QR code.")  # counter_scan.js, in English
    page.get_by_label("Card number").fill(counter.card)
    # The choice is remembered: the panel the scan opens is English too.
    expect(page).to_have_url(re.compile(rf"/customers/{counter.customer_id}$"))
    expect(page.get_by_role("heading", name="Close the order")).to_be_visible()

    # Offline while the cashier types: counter_close.js says so in English.
    page.route(re.compile(r"/quote$"), lambda route: route.abort("internetdisconnected"))
    page.get_by_label("Order amount, ₽").fill("1000")
    expect(page.locator("#close-error")).to_have_text(
        "No connection to the server: the calculation is not updated.")
    page.unroute(re.compile(r"/quote$"))

    # A close whose answer is lost is retried, saying so in English (recorded as it
    # shows: the line lasts half a second).
    seen = lose_the_first_close_answer(page)
    page.locator("#confirm").click()
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    assert "Closing…" in seen.shown and "No connection, trying again…" in seen.shown, seen.shown
    assert counter.count(Order) == 1
    expect(page.get_by_role("heading", name=re.compile(r"^Order #\d+ closed$"))).to_be_visible()

    page.get_by_role("link", name="Русский").click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("heading", name=re.compile(r"^Заказ №\d+ проведён$"))).to_be_visible()
