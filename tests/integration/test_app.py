"""The app factory, the home page, health, and the one place errors become HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from webapp.app import create_app
from webapp.config import ConfigError
from webapp.domain.errors import InsufficientPoints
from webapp.services.business import setup as businesses


def test_home_lists_businesses(app: Flask, client: Any) -> None:
    with app.app_context():
        businesses.create_business(app.test_session(), name="Гараж на Лесной",
                                   branches=["Центр", "Север"])
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Гараж на Лесной" in html and "филиалов: 2" in html
    assert "/staff/sign-in" in html
    assert 'lang="ru"' in html


def test_health_answers_from_the_database(client: Any) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_unknown_page_is_a_plain_404_in_the_users_language(client: Any) -> None:
    page = client.get("/nowhere")
    assert page.status_code == 404 and "Traceback" not in page.get_data(as_text=True)
    assert "Такой страницы нет." in page.get_data(as_text=True)
    english = client.get("/nowhere", headers={"Accept-Language": "en"})
    assert "There is no such page." in english.get_data(as_text=True)


def test_api_errors_are_problem_details(client: Any) -> None:
    response = client.get("/api/nowhere")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert (body["status"], body["code"]) == (404, "http_404")
    assert body["detail"] == "Такой страницы нет."
    wrong_method = client.delete("/healthz", headers={"Accept-Language": "en"})
    assert wrong_method.status_code == 405
    assert "This address does not take this kind of request." in wrong_method.get_data(
        as_text=True)


def test_domain_errors_map_to_their_status(app: Flask) -> None:
    @app.get("/api/test-insufficient")
    def insufficient() -> str:
        raise InsufficientPoints("points_short", available=3, requested=5)

    @app.get("/test-insufficient")
    def insufficient_page() -> str:
        raise InsufficientPoints("points_short", available=3, requested=5)

    english = {"Accept-Language": "en"}
    response = app.test_client().get("/api/test-insufficient", headers=english)
    assert response.status_code == 409
    body = response.get_json()
    assert (body["code"], body["category"]) == ("points_short", "insufficient_points")
    assert body["detail"] == "Not enough points: 3 available, 5 requested."
    page = app.test_client().get("/test-insufficient", headers=english)
    assert page.status_code == 409 and "Not enough points: 3 available, 5 requested." in (
        page.get_data(as_text=True))


def test_unexpected_errors_show_no_traceback(app: Flask) -> None:
    @app.get("/test-crash")
    def crash() -> str:
        raise RuntimeError("secret internals")

    app.logger.disabled = True
    page = app.test_client().get("/test-crash")
    assert page.status_code == 500
    text = page.get_data(as_text=True)
    assert "secret internals" not in text and "Traceback" not in text
    assert "Ничего не изменилось" in text
    english = app.test_client().get("/test-crash", headers={"Accept-Language": "en"})
    assert "Nothing was changed" in english.get_data(as_text=True)


def test_session_cookie_is_hardened(app: Flask) -> None:
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_an_unknown_sms_backend_stops_start_up(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="REGULARS_SMS_BACKEND"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
                    "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k" * 40,
                    "SMS_BACKEND": "carrier-pigeon"})
