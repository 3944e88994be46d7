"""Russian by default, English from the browser or by choice, remembered; numbers,
money and dates in the chosen language."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from tests.integration.customer.conftest import ask_code


def test_russian_by_default(app: Any, shop: SimpleNamespace, ivan: Any) -> None:
    page = ivan.get(f"/c/{shop.id}/").get_data(as_text=True)
    assert '<html lang="ru">' in page and "Покажите на кассе" in page and "100 баллов" in page


def test_english_from_the_browser(app: Any, shop: SimpleNamespace, ivan: Any) -> None:
    page = ivan.get(f"/c/{shop.id}/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    text = page.get_data(as_text=True)
    assert '<html lang="en">' in text
    assert "Show at the counter" in text and "100 points" in text
    assert "Покажите на кассе" not in text


def test_a_chosen_language_is_remembered(app: Any, shop: SimpleNamespace, ivan: Any) -> None:
    chosen = ivan.get(f"/c/{shop.id}/?lang=en", headers={"Accept-Language": "ru"})
    assert "Show at the counter" in chosen.get_data(as_text=True)
    assert "lang=en" in chosen.headers["Set-Cookie"]
    later = ivan.get(f"/c/{shop.id}/profile", headers={"Accept-Language": "ru"})
    assert "Devices you are signed in on" in later.get_data(as_text=True)
    back = ivan.get(f"/c/{shop.id}/?lang=ru").get_data(as_text=True)
    assert "Покажите на кассе" in back


def test_an_unknown_language_falls_back_to_russian(app: Any, shop: SimpleNamespace,
                                                   ivan: Any) -> None:
    page = ivan.get(f"/c/{shop.id}/?lang=xx", headers={"Accept-Language": "de"})
    assert "Покажите на кассе" in page.get_data(as_text=True)


def test_refusals_and_consents_come_in_english_too(app: Any, shop: SimpleNamespace) -> None:
    client = app.test_client()
    form = client.get(f"/c/{shop.id}/sign-in?lang=en").get_data(as_text=True)
    assert "I agree to the processing of my personal data" in form
    answer = ask_code(client, shop.id, "12")
    assert answer.status_code == 422
    assert "This phone number does not exist." in answer.get_data(as_text=True)


def test_the_rules_and_history_follow_the_language(app: Any, shop: SimpleNamespace,
                                                   ivan: Any) -> None:
    card = ivan.get(f"/c/{shop.id}/?lang=en").get_data(as_text=True)
    assert "5% of every order comes back as points" in card
    assert "Next level" in card or "To level" in card
    history = ivan.get(f"/c/{shop.id}/history").get_data(as_text=True)
    assert "Points history" in history and "100 earned" in history
