"""A cashback program at the counter speaks money: the quote's lines and the receipt
say roubles where a bonus program says points."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.integration.counter.conftest import next_key, post
from webapp.domain.clock import utcnow
from webapp.domain.presets import PRESETS
from webapp.services.program import versions as programs


def plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def test_quote_and_receipt_in_money(app: Any, cashier: Any, shop: Any, regular: Any) -> None:
    programs.save(app.test_session(), shop.owner, "cashback-program",
                  settings=PRESETS["cashback_5_50"], now=utcnow() - timedelta(hours=1))
    quote = plain(post(cashier, shop, f"/customers/{regular.id}/quote", total="4000",
                       redeem="500").get_data(as_text=True))
    assert "Оплачено кэшбэком: 500 ₽." in quote
    assert "Вернём кэшбэком 175 ₽: 5 % от 3 500 ₽." in quote
    assert "Кэшбэком можно оплатить до 2 000 ₽" in quote
    assert "балл" not in quote
    closed = post(cashier, shop, f"/customers/{regular.id}/close", key=next_key(),
                  total="4000", redeem="500")
    receipt = plain(cashier.get(closed.get_json()["url"]).get_data(as_text=True))
    assert "Оплачено кэшбэком" in receipt and "500 ₽" in receipt
    assert "1 775 ₽ на счёте" in receipt  # 2 100 − 500 + 175
    assert "балл" not in receipt.split("receipt-actions")[0]
