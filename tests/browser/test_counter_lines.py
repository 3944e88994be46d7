"""The counter's line editor in a real Chromium, keyboard only: a work and a part typed
row by row, Enter to move on, Escape to drop an empty row, the quote priced line by
line, one close with its lines."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.browser.conftest import Counter, counter_path, sign_in
from tests.browser.fake_camera import blank_y4m
from webapp.persistence.database import make_engine
from webapp.persistence.models import OrderLine


def test_a_work_order_typed_with_the_keyboard(counter: Counter, browser_with_camera: Any,
                                              tmp_path: Path, shots: Path) -> None:
    page = browser_with_camera(blank_y4m(tmp_path / "blank.y4m"))
    sign_in(page, counter, "cashier",
            f"{counter_path(counter)}/customers/{counter.customer_id}")
    summary = page.locator("#lines-editor summary")
    summary.focus()
    page.keyboard.press("Enter")  # opens the editor
    rows = page.locator("#line-rows tr")
    expect(rows).to_have_count(3)

    rows.nth(0).locator("[name=line_name]").focus()
    page.keyboard.type("Замена масла")
    page.keyboard.press("Tab")  # kind: work is the first choice
    page.keyboard.press("Tab")  # category
    page.keyboard.press("Tab")  # quantity
    page.keyboard.press("Control+A")
    page.keyboard.type("1")
    page.keyboard.press("Tab")
    page.keyboard.type("2500")
    page.keyboard.press("Enter")  # the next row, not a close
    expect(rows.nth(1).locator("[name=line_name]")).to_be_focused()
    page.keyboard.type("Масло 5W-30, 1 л")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    category = rows.nth(1).locator("[name=line_category]")
    values = category.locator("option").evaluate_all("options => options.map(o => o.value)")
    for _ in range(values.index("parts")):  # arrows down to «Запчасти», a part category
        page.keyboard.press("ArrowDown")
    expect(category).to_have_value("parts")
    expect(rows.nth(1).locator("[name=line_kind]")).to_have_value("part")  # the kind follows
    page.keyboard.press("Tab")
    page.keyboard.press("Control+A")
    page.keyboard.type("5")
    page.keyboard.press("Tab")
    page.keyboard.type("700")
    page.keyboard.press("Enter")
    expect(rows.nth(2).locator("[name=line_name]")).to_be_focused()
    page.keyboard.press("Escape")  # the empty third row goes
    expect(rows).to_have_count(2)
    expect(page.locator("#total")).to_be_disabled()  # the lines are the order now

    quote = page.locator("#quote .quote")
    expect(quote).to_contain_text(re.compile(r"К оплате:\s*6\s000\s₽"))
    expect(quote.locator("table.quote-lines tbody tr")).to_have_count(2)
    page.screenshot(path=str(shots / "counter-lines.png"), full_page=True)

    page.locator("#confirm").click()
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    engine = make_engine(counter.database_url)
    try:
        with Session(engine) as db:
            saved = db.execute(select(OrderLine.name, OrderLine.kind, OrderLine.category,
                                      OrderLine.quantity,
                                      OrderLine.unit_price_minor)
                               .order_by(OrderLine.position)).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in saved] == [
        ("Замена масла", "work", None, 1, 250_000),
        ("Масло 5W-30, 1 л", "part", "parts", 5, 70_000)]
