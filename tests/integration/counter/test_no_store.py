"""Staff pages and their JSON show customers' names, phones and balances: every answer
under /b/ and /staff/ says ``Cache-Control: no-store`` (errors and redirects too), so
neither the counter tablet's browser nor a proxy keeps a copy. Static files stay
cacheable, and customer pages keep their own header."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from tests.web_client import csrf, staff_signed_in
from webapp.domain.actor import Role

JSON = {"Accept": "application/json"}


def _no_store(response: Any, what: str) -> None:
    assert response.headers.get("Cache-Control") == "no-store", (what, response.status_code)


def test_counter_pages_and_answers_are_not_stored(app: Any, cashier: Any, shop: SimpleNamespace,
                                                  regular: SimpleNamespace) -> None:
    counter = f"/b/{shop.id}/counter/{shop.centre}"
    panel = f"{counter}/customers/{regular.id}"
    token = csrf(cashier, panel)
    for what, response in [
        ("the counter", cashier.get(f"/b/{shop.id}/counter")),
        ("the scanner", cashier.get(counter)),
        ("the panel", cashier.get(panel)),
        ("a search", cashier.get(f"{counter}/search", query_string={"q": "4567"})),
        ("identify, as JSON", cashier.post(f"{counter}/identify", headers=JSON,
                                           data={"csrf_token": token, "scanned": regular.card})),
        ("a refused code, as JSON", cashier.post(f"{panel}/code", headers=JSON,
                                                 data={"csrf_token": token, "points": "x"})),
        ("the quote", cashier.post(f"{panel}/quote", data={"csrf_token": token,
                                                           "total": "1500"})),
        ("another branch (403)", cashier.get(f"/b/{shop.id}/counter/{shop.north}")),
        ("the account page", cashier.get(f"/b/{shop.id}/staff/account")),
    ]:
        assert response.status_code < 500, what
        _no_store(response, what)
    assert cashier.post(f"{counter}/identify", headers=JSON, data={
        "csrf_token": token, "scanned": regular.card}).get_json()["url"].endswith(panel)


def test_back_office_pages_and_sign_in_are_not_stored(app: Any, shop: SimpleNamespace,
                                                      member: Any,
                                                      regular: SimpleNamespace) -> None:
    member(Role.MANAGER, "boss")
    manager = staff_signed_in(app, shop.id, "boss")
    owner = staff_signed_in(app, shop.id, "owner")
    office = f"/b/{shop.id}/backoffice"
    stranger = app.test_client()
    for what, response in [
        ("customer search", manager.get(f"{office}/customers", query_string={"q": "4567"})),
        ("a customer's history", manager.get(f"{office}/customers/{regular.id}")),
        ("a customer's audit trail", manager.get(f"{office}/customers/{regular.id}/audit")),
        ("abuse flags", manager.get(f"{office}/flags")),
        ("staff (owner only, 403)", manager.get(f"{office}/staff")),
        ("staff", owner.get(f"{office}/staff")),
        ("the program", owner.get(f"{office}/program")),
        ("the program preview", owner.post(
            f"{office}/program/preview", json={"mechanic": "bonus"},
            headers={"X-CSRFToken": csrf(owner, f"{office}/program")})),
        ("the sign-in page", stranger.get(f"/b/{shop.id}/staff/sign-in")),
        ("the redirect to sign in", stranger.get(f"{office}/customers")),
        ("the choice of business", stranger.get("/staff/sign-in")),
    ]:
        assert response.status_code < 500, what
        _no_store(response, what)


def test_static_files_and_customer_pages_keep_their_own_caching(
        app: Any, shop: SimpleNamespace) -> None:
    client = app.test_client()
    css = client.get("/static/css/base.css")
    assert css.status_code == 200 and css.headers.get("Cache-Control") != "no-store"
    css.close()
    sign_in_page = client.get(f"/c/{shop.id}/sign-in")
    assert sign_in_page.headers.get("Cache-Control") != "no-store"
