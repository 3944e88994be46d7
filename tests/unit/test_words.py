"""The domain's wording and the texts sent outside a page, in both languages: the words
come from the catalogue (webapp.catalogue.words_for), Russian keeps its three plural
forms, and a business's texts follow its locale."""

from __future__ import annotations

import ast
from datetime import UTC, datetime

import pytest

from wallet.apple.pkpass import STRINGS
from wallet.google.bodies import _words as google_words
from webapp.catalogue import gettext_for, words_for
from webapp.config import PROJECT_ROOT
from webapp.domain.consent import TEXTS, ConsentKind
from webapp.domain.history_text import describe
from webapp.domain.ledger import OperationKind as Op
from webapp.domain.quote import Line
from webapp.domain.quote_text import render
from webapp.domain.wording import count, format_points
from webapp.domain.words import RUSSIAN
from webapp.services.counter.confirmations import confirmation_text
from webapp.services.customers.sign_in import sign_in_text
from webapp.services.notify.push_messages import credited_text, tier_text
from webapp.services.notify.push_reminders import expiring_text, sleeping_text
from webapp.services.wallet.links import link_text

NNBSP = "\u202f"
RU, EN = words_for("ru"), words_for("en")


@pytest.mark.parametrize(("n", "ru", "en"), [
    (1, "1 балл", "1 point"), (2, "2 балла", "2 points"), (5, "5 баллов", "5 points"),
    (11, "11 баллов", "11 points"), (21, "21 балл", "21 points"), (0, "0 баллов", "0 points"),
    (1250, f"1{NNBSP}250 баллов", "1,250 points"),
])
def test_points_in_both_languages(n: int, ru: str, en: str) -> None:
    assert format_points(n, RU) == ru
    assert format_points(n, EN) == en
    assert format_points(n, RUSSIAN) == ru  # the domain's own source-language words


@pytest.mark.parametrize(("n", "ru", "en"), [
    (1, "ещё 1 раз", "1 extra visit"), (3, "ещё 3 раза", "3 extra visits"),
    (5, "ещё 5 раз", "5 extra visits"), (21, "ещё 21 раз", "21 extra visits"),
])
def test_a_russian_form_that_reads_the_same_twice_is_told_apart_by_context(
        n: int, ru: str, en: str) -> None:
    for words, expected in ((RU, ru), (EN, en)):
        assert count(words, n, words.pgettext("one", "ещё %(n)s раз"),
                     words.gettext("ещё %(n)s раза"), words.gettext("ещё %(n)s раз")) == expected


def test_history_lines_in_both_languages() -> None:
    assert describe(Op.ACCRUAL, 120, 5, None, None, RU) == "Начислено 120 за заказ №5"
    assert describe(Op.ACCRUAL, 120, 5, None, None, EN) == "120 earned for order #5"
    assert describe(Op.HOLD, 50, None, None, "01.03", EN) == "50 earned, available on 01.03"
    assert describe(Op.ADJUSTMENT, -60, None, None, None, RU) == "Корректировка \u221260"
    assert describe(Op.REVERSAL, 0, 7, None, None, EN) == "Refund of order #7: no change in points"


def test_a_quote_line_in_both_languages() -> None:
    line = Line("discount", {"bp": 500, "tier": "Серебро", "amount": 15_000})
    assert render(line, RU) == "Скидка 5\u00a0% уровня «Серебро»: 150\u00a0₽."
    assert render(line, EN) == "5% discount (Серебро tier): ₽150."


def test_consent_texts_keep_their_russian_and_versions_and_have_english() -> None:
    data, ads = TEXTS[ConsentKind.PERSONAL_DATA], TEXTS[ConsentKind.ADVERTISING]
    assert (data.version, ads.version) == ("pd-2026-11-30", "ad-2026-11-30")
    assert data.text.startswith("Даю согласие на обработку моих персональных данных")
    assert gettext_for("en")(data.text).startswith("I agree to the processing of my personal")
    assert gettext_for("en")(ads.text) == ("I agree to receive advertising messages: offers"
                                           " and reminders about my points.")


@pytest.mark.parametrize(("locale", "expected"), [
    ("ru", "123456 — код входа в «Гараж». Никому его не сообщайте."),
    ("en_GB", "123456 is your sign-in code for “Гараж”. Do not share it with anyone."),
])
def test_the_sign_in_sms_speaks_the_business_language(locale: str, expected: str) -> None:
    assert sign_in_text("123456", "Гараж", locale) == expected


def test_the_other_texts_speak_the_business_language() -> None:
    assert confirmation_text("111111", 2, "Гараж", "ru").startswith(
        "Код 111111: списание 2 балла в «Гараж».")
    assert confirmation_text("111111", 1500, "Гараж", "en").startswith(
        "Code 111111: 1500 points to be spent at “Гараж”.")
    assert link_text("Гараж", "https://x.test/w", "en") == (
        "Your “Гараж” card for Apple Wallet and Google Wallet: https://x.test/w")
    assert link_text("Гараж", "https://x.test/w", "ru").startswith("Ваша карта «Гараж»")
    assert credited_text(1, 101, "en") == "1 point credited. Balance: 101."
    assert credited_text(21, 101, "ru") == "Начислен 21 балл. Баланс: 101."
    assert tier_text("Gold", "en") == "Your new level: “Gold”."
    day = datetime(2026, 2, 14, tzinfo=UTC)
    assert expiring_text(120, day, day, "en") == (
        "120 points expire on 14.02. Spend them on your next visit.")
    assert expiring_text(1, day, day, "ru") == (
        "14.02 сгорит 1 балл. Потратьте их при следующем визите.")
    assert sleeping_text(450, "en").startswith("We have not seen you for a while! You have 450")


def test_pass_labels_in_both_languages() -> None:
    assert STRINGS["ru"]["label.points"] == "Баллы"
    assert STRINGS["en"]["label.points"] == "Points"
    assert STRINGS["en"]["change.points"] == "Balance: %@"
    assert google_words("ru")["card"] == "Карта клиента"
    assert google_words("en")["balance"] % {"points": "5 points"} == "Balance: 5 points"


MOVED = ["webapp/domain/rules_text.py", "webapp/domain/quote_text.py",
         "webapp/domain/simulation.py", "webapp/domain/estimate_text.py",
         "webapp/domain/history_text.py",
         "webapp/domain/consent.py", "webapp/services/reports/audit_trail.py",
         "webapp/services/customers/history.py", "webapp/services/customers/sign_in.py",
         "webapp/services/counter/confirmations.py", "webapp/services/notify/push_messages.py",
         "webapp/services/notify/push_reminders.py", "webapp/services/program/editing.py",
         "webapp/services/wallet/cards.py", "webapp/services/wallet/links.py",
         "webapp/customer/push.py", "webapp/customer/pwa.py", "wallet/apple/pkpass.py",
         "wallet/google/bodies.py"]


@pytest.mark.parametrize("name", MOVED)
def test_no_text_is_chosen_by_comparing_the_language(name: str) -> None:
    """Texts come from the catalogue: no ``lang == "ru"`` / ``!= "en"`` branch is left."""
    tree = ast.parse((PROJECT_ROOT / name).read_text(encoding="utf-8"))
    branches = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Compare)
                and any(isinstance(side, ast.Constant) and side.value in ("ru", "en")
                        for side in (node.left, *node.comparators))]
    assert not branches, f"{name}: {branches}"
