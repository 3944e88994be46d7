"""A balance in words: money on the account for cashback, points (with their worth)
otherwise; the customer's texts use the same decision."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from webapp.catalogue import words_for
from webapp.domain.balance_text import amount, balance
from webapp.domain.presets import PRESETS
from webapp.services.notify.push_messages import credited_text
from webapp.services.notify.push_reminders import expiring_text, sleeping_text

CASHBACK = PRESETS["cashback_5_50"]
BONUS = PRESETS["bonus_5_20"]
NBSP, NNBSP = "\u00a0", "\u202f"


def test_cashback_is_money_on_the_account() -> None:
    shown = balance(CASHBACK, 4_066, words_for("ru"), "RUB")
    assert (shown.text, shown.worth, shown.in_money) == (f"4{NNBSP}066{NBSP}₽ на счёте", None,
                                                         True)
    assert balance(CASHBACK, 4_066, words_for("en"), "RUB").text == "₽4,066 on account"
    half = replace(CASHBACK, point_value=50)  # a point worth 50 kopecks
    assert balance(half, 3, words_for("ru"), "RUB").text == f"1,50{NBSP}₽ на счёте"
    assert amount(CASHBACK, 120, words_for("ru"), "RUB") == f"120{NBSP}₽"


def test_points_stay_points_with_their_worth() -> None:
    shown = balance(BONUS, 4_066, words_for("ru"), "RUB")
    assert (shown.text, shown.worth, shown.in_money) == (
        f"4{NNBSP}066 баллов", f"4{NNBSP}066{NBSP}₽", False)
    assert balance(None, 2, words_for("en"), "RUB").text == "2 points"
    assert amount(BONUS, 120, words_for("ru"), "RUB") == "120 баллов"


def test_texts_to_customers_word_cashback_as_money() -> None:
    assert credited_text(120, 4_066, "ru", CASHBACK, "RUB") == (
        f"Кэшбэк: +120{NBSP}₽. На счёте: 4{NNBSP}066{NBSP}₽.")
    assert credited_text(120, 4_066, "en", CASHBACK, "RUB") == (
        "Cashback: +₽120. On account: ₽4,066.")
    assert credited_text(120, 450, "ru", BONUS, "RUB") == "Начислено 120 баллов. Баланс: 450."
    day = datetime(2026, 2, 14, tzinfo=UTC)
    assert expiring_text(120, day, day, "ru", CASHBACK, "RUB") == (
        f"14.02 сгорят 120{NBSP}₽. Потратьте их при следующем визите.")
    assert f"На вашем счёте 450{NBSP}₽ —" in sleeping_text(450, "ru", CASHBACK, "RUB")
