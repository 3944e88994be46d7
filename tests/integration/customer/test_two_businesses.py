"""One device, several businesses: a cookie per business, so a phone holds the cards of
two businesses at once, and signing out (or being signed out) of one leaves the other;
devices signed in with the old single cookie keep their session through the upgrade."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from tests.conftest import rolled_back_app
from tests.integration.customer.conftest import PHONE, ask_code, deliver, send_code, signed_in
from tests.web_client import csrf
from webapp.domain.clock import utcnow
from webapp.persistence.models import Customer, CustomerSession
from webapp.services.business import setup as businesses
from webapp.services.customers import sign_in as customer_sign_in


@pytest.fixture
def other(app: Any) -> int:
    """A second business on the same platform (so on the same origin as the shop)."""
    return businesses.create_business(app.test_session(), name="Шиномонтаж у Петра").id


def card_opens(client: Any, business_id: int) -> bool:
    answer = client.get(f"/c/{business_id}/")
    assert answer.status_code in (200, 302), answer.status_code
    return bool(answer.status_code == 200)


def set_cookies(answer: Any) -> list[str]:
    return list(answer.headers.getlist("Set-Cookie"))


def session_of(app: Any, business_id: int) -> int:
    """The id of the (only) session of the phone's customer at ``business_id``."""
    found = app.test_session().scalar(
        select(CustomerSession.id).join(Customer, Customer.id == CustomerSession.customer_id)
        .where(Customer.business_id == business_id, CustomerSession.revoked_at.is_(None)))
    assert found is not None
    return int(found)


def test_a_link_to_another_business_does_not_sign_out(app: Any, shop: SimpleNamespace,
                                                      other: int, ivan: Any) -> None:
    for path in ("/", "/profile", "/sign-in"):
        answer = ivan.get(f"/c/{other}{path}")
        assert answer.status_code in (200, 302)
        assert "Clear-Site-Data" not in answer.headers
        assert not any(c.startswith(f"customer-{shop.id}=") for c in set_cookies(answer))
    assert card_opens(ivan, shop.id)


def test_one_device_holds_the_cards_of_two_businesses(app: Any, shop: SimpleNamespace,
                                                      other: int, ivan: Any) -> None:
    signed_in(app, other, client=ivan)  # the same phone joins the second business
    assert card_opens(ivan, shop.id) and card_opens(ivan, other)
    assert ivan.get_cookie(f"customer-{shop.id}") and ivan.get_cookie(f"customer-{other}")

    out = ivan.post(f"/c/{other}/sign-out", data={"csrf_token": csrf(ivan, f"/c/{other}/profile")})
    assert out.location == f"/c/{other}/sign-in?signed_out=1"
    assert [c.split("=")[0] for c in set_cookies(out)] == [f"customer-{other}"]
    assert "cookies" not in out.headers["Clear-Site-Data"]
    assert "storage" not in out.headers["Clear-Site-Data"]
    assert not card_opens(ivan, other)
    assert card_opens(ivan, shop.id)


def test_revoking_one_businesss_session_leaves_the_other(app: Any, shop: SimpleNamespace,
                                                         other: int, ivan: Any) -> None:
    signed_in(app, other, client=ivan)
    mine = session_of(app, shop.id)
    answer = ivan.post(f"/c/{shop.id}/sessions/{mine}/revoke",
                       data={"csrf_token": csrf(ivan, f"/c/{shop.id}/profile")})
    assert answer.location == f"/c/{shop.id}/sign-in"
    assert not card_opens(ivan, shop.id)
    assert card_opens(ivan, other)


def test_a_session_ended_elsewhere_forgets_only_its_own_business(
        app: Any, shop: SimpleNamespace, other: int, ivan: Any) -> None:
    signed_in(app, other, client=ivan)
    db = app.test_session()  # "end this session" from another device
    db.execute(update(CustomerSession).where(CustomerSession.id == session_of(app, other))
               .values(revoked_at=utcnow()))
    db.commit()
    answer = ivan.get(f"/c/{other}/")
    assert answer.location == f"/c/{other}/sign-in"
    assert answer.headers["Clear-Site-Data"] == '"cache"'
    assert [c.split("=")[0] for c in set_cookies(answer)] == [f"customer-{other}"]
    assert card_opens(ivan, shop.id)


def test_signing_in_at_two_businesses_at_once(app: Any, shop: SimpleNamespace,
                                              other: int) -> None:
    """Two tabs: codes asked for at both, then typed in either order."""
    phone = app.test_client()
    assert ask_code(phone, shop.id).status_code == 302
    assert ask_code(phone, other).status_code == 302
    deliver(app)
    sent = [m.text for m in app.extensions["regulars_sms"].sent if m.phone == PHONE]
    code_at = {business: next(text[:6] for text in sent if f"«{name}»" in text)
               for business, name in ((shop.id, "Гараж на Лесной"),
                                      (other, "Шиномонтаж у Петра"))}
    assert send_code(phone, shop.id, code_at[shop.id]).location == f"/c/{shop.id}/"
    assert send_code(phone, other, code_at[other]).location == f"/c/{other}/"
    assert card_opens(phone, shop.id) and card_opens(phone, other)


def test_the_old_single_cookie_is_moved_to_its_businesss_own(app: Any, shop: SimpleNamespace,
                                                             other: int) -> None:
    """A device signed in before the upgrade stays signed in: its ``customer`` cookie
    opens its business's card, which moves it to ``customer-<id>`` (same session)."""
    token = ivan_token(app, shop.id)
    device = app.test_client()
    device.set_cookie("customer", token)
    elsewhere = device.get(f"/c/{other}/")  # another business: the old cookie stays
    assert elsewhere.location == f"/c/{other}/sign-in"
    assert set_cookies(elsewhere) == [] and "Clear-Site-Data" not in elsewhere.headers

    moved = device.get(f"/c/{shop.id}/")
    assert moved.status_code == 200
    assert device.get_cookie(f"customer-{shop.id}").value == token
    assert device.get_cookie("customer") is None
    assert card_opens(device, shop.id)
    assert len(app.test_session().scalars(select(CustomerSession.id)).all()) == 1


def test_the_old_cookie_signs_out_like_the_new_one(app: Any, shop: SimpleNamespace) -> None:
    token = ivan_token(app, shop.id)
    device = app.test_client()
    device.set_cookie("customer", token)
    out = device.post(f"/c/{shop.id}/sign-out",
                      data={"csrf_token": csrf(device, f"/c/{shop.id}/profile")})
    assert out.location == f"/c/{shop.id}/sign-in?signed_out=1"
    assert device.get_cookie("customer") is None
    assert device.get_cookie(f"customer-{shop.id}") is None
    assert not card_opens(device, shop.id)


def test_an_old_cookie_that_signs_in_nowhere_is_dropped(app: Any, shop: SimpleNamespace) -> None:
    device = app.test_client()
    device.set_cookie("customer", "ended-long-ago")
    answer = device.get(f"/c/{shop.id}/")
    assert answer.location == f"/c/{shop.id}/sign-in"
    assert device.get_cookie("customer") is None


def ivan_token(app: Any, business_id: int) -> str:
    """A device token of Ivan's, as the old single cookie held it."""
    db = app.test_session()
    asked = customer_sign_in.request_code(db, business_id, PHONE, ip=None, data_consent=True)
    deliver(app)
    text = app.extensions["regulars_sms"].last_to(PHONE)
    return customer_sign_in.verify_code(db, business_id, asked.request_id, text[:6], ip=None,
                                        device="old phone").token


@pytest.fixture
def https_app(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[Any]:
    with rolled_back_app(engine, {"DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path),
                                  "BASE_URL": "https://loyalty.example.com"}) as made:
        yield made


def test_behind_https_each_business_has_its_own_host_cookie(https_app: Any) -> None:
    first = businesses.create_business(https_app.test_session(), name="Гараж").id
    second = businesses.create_business(https_app.test_session(), name="Шиномонтаж").id
    phone = https_app.test_client()
    phone.environ_base["HTTP_REFERER"] = "https://localhost/"  # CSRF's strict check on https
    for business_id in (first, second):
        signed_in(https_app, business_id, client=phone)
    for business_id in (first, second):
        cookie = phone.get_cookie(f"__Host-customer-{business_id}")
        assert cookie is not None and re.fullmatch(r"[\w-]{43}", cookie.value)
        assert cookie.secure and cookie.http_only and cookie.path == "/"
        assert cookie.same_site == "Lax"
