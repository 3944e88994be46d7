"""Domain errors reach people in Russian unless their browser prefers English.

The route: the owner saves the program page with a broken form key, which the
ledger's key check refuses with InvalidInput; nothing on the page catches it, so
the one error handler (webapp/errors.py) answers.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.web_client import PASSWORD, staff_signed_in
from webapp.domain.actor import Role
from webapp.services.business import setup as businesses
from webapp.services.staff import accounts as staff

ENGLISH = "The form is out of date: reload the page and send it again."
RUSSIAN = "Форма устарела: обновите страницу и отправьте её снова."


@pytest.fixture
def owner_client(app: Any, client: Any) -> tuple[Any, int]:
    """A signed-in owner of a fresh business (made on the app's own session)."""
    app.config["WTF_CSRF_ENABLED"] = False
    business_id = businesses.create_business(app.test_session(), name="Гараж №1").id
    staff.create_staff(
        app.test_session(),
        business_id=business_id,
        login="owner",
        password=PASSWORD,
        role=Role.OWNER.value,
    )
    return staff_signed_in(client, business_id, "owner"), business_id


def _form() -> dict[str, str]:
    """The bonus_5_20 preset as the page submits it, with a key too short to be valid."""
    return {
        "preset": "bonus_5_20",
        "mechanic": "bonus",
        "discount_pct": "0",
        "accrual_pct": "5",
        "redeem_cap_pct": "20",
        "min_order_rub": "0",
        "expiry_months": "12",
        "welcome": "0",
        "referral": "0",
        "birthday": "0",
        "gift_visit": "",
        "gift_title": "",
        "effective": "now",
        "idempotency_key": "short",
    }


def _save(owner_client: tuple[Any, int], **headers: str) -> Any:
    client, business_id = owner_client
    return client.post(f"/b/{business_id}/backoffice/program", data=_form(), headers=headers)


def test_a_page_shows_the_error_in_russian_by_default(owner_client: tuple[Any, int]) -> None:
    page = _save(owner_client)
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert RUSSIAN in html and ENGLISH not in html


def test_a_page_shows_english_when_the_browser_prefers_it(owner_client: tuple[Any, int]) -> None:
    page = _save(owner_client, **{"Accept-Language": "en-US,en;q=0.9,ru;q=0.5"})
    assert page.status_code == 422
    assert ENGLISH in page.get_data(as_text=True)


def test_russian_wins_when_both_are_acceptable(owner_client: tuple[Any, int]) -> None:
    page = _save(owner_client, **{"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"})
    assert RUSSIAN in page.get_data(as_text=True)


def test_json_problem_is_russian_by_default(owner_client: tuple[Any, int]) -> None:
    response = _save(owner_client, Accept="application/json")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.get_json() == {
        "type": "about:blank#idempotency_key_malformed",
        "title": "idempotency key malformed",
        "status": 422,
        "detail": RUSSIAN,
        "code": "idempotency_key_malformed",
        "category": "invalid_input",
        "params": {},
    }


def test_json_problem_in_english_on_request(owner_client: tuple[Any, int]) -> None:
    response = _save(owner_client, Accept="application/json", **{"Accept-Language": "en"})
    assert response.status_code == 422
    assert response.get_json()["detail"] == ENGLISH


def test_json_problem_carries_the_params(app: Any) -> None:
    from webapp.domain.errors import InsufficientPoints

    class Opaque:
        """Not JSON: left out of the body."""

    @app.get("/api/test-error-params")
    def insufficient() -> str:
        raise InsufficientPoints(
            "points_short",
            available=3,
            requested=50,
            customer=Opaque(),
        )

    client = app.test_client()
    body = client.get("/api/test-error-params").get_json()
    assert body["status"] == 409 and body["code"] == "points_short"
    assert body["category"] == "insufficient_points"
    assert body["detail"] == "Недостаточно баллов: доступно 3, а списать нужно 50."
    assert body["params"] == {"available": 3, "requested": 50}
    english = client.get("/api/test-error-params", headers={"Accept-Language": "en"}).get_json()
    assert english["detail"] == "Not enough points: 3 available, 50 requested."
