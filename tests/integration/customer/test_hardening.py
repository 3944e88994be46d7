"""What an attacker or an unlucky customer would try: SMS pumping, guessing in
parallel, oversized ids, NUL bytes, a lost phone, a proxy in front of the app."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from tests.integration.customer.conftest import PHONE, ask_code, signed_in
from tests.web_client import csrf, csrf_token
from webapp.domain import one_time_codes
from webapp.domain.addresses import address_key
from webapp.persistence.models import Customer, CustomerSession, SignInCode
from webapp.services.customers import code_limits as sign_in_code_limits
from webapp.services.customers import sign_in as customer_sign_in
from webapp.services.customers.sign_in import SignInCodeUnusable


def codes(app: Any) -> int:
    return app.test_session().scalar(select(func.count()).select_from(SignInCode)) or 0


@pytest.mark.parametrize("phone", ["+7 809 123-45-67", "+1 900 555 1234", "+7 495 123-45-67"])
def test_codes_go_only_to_mobile_numbers(app: Any, shop: SimpleNamespace, phone: str) -> None:
    answer = ask_code(app.test_client(), shop.id, phone)
    assert answer.status_code == 422
    assert "Это не мобильный номер" in answer.get_data(as_text=True)
    assert codes(app) == 0


def test_one_ipv6_network_counts_as_one_address(app: Any, shop: SimpleNamespace) -> None:
    for n in range(sign_in_code_limits.PER_IP_PER_HOUR):
        ip = f"2001:db8:1:2::{n + 1:x}"
        assert ask_code(app.test_client(), shop.id, f"+7916000{n:04d}", ip=ip).status_code == 302
    other_host_same_net = ask_code(app.test_client(), shop.id, "+79169999999",
                                   ip="2001:db8:1:2:ffff::1")
    assert other_host_same_net.status_code == 429


def test_address_keys() -> None:
    assert address_key("192.0.2.7") == "192.0.2.7"
    assert address_key("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert address_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert address_key(None) is None


def test_a_business_caps_the_codes_it_sends_in_an_hour(app: Any, shop: SimpleNamespace,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sign_in_code_limits, "PER_BUSINESS_PER_HOUR", 3)
    for n in range(3):
        assert ask_code(app.test_client(), shop.id, f"+7916100{n:04d}",
                        ip=f"198.51.100.{n}").status_code == 302
    assert ask_code(app.test_client(), shop.id, "+79161009999",
                    ip="198.51.100.99").status_code == 429


def test_an_attempt_is_taken_before_the_code_is_compared(app: Any,
                                                         shop: SimpleNamespace) -> None:
    """The fifth attempt may still be right; after it nothing is compared at all."""
    db = app.test_session()
    asked = customer_sign_in.request_code(db, shop.id, PHONE, ip=None, data_consent=True)
    db.execute(update(SignInCode).where(SignInCode.id == asked.request_id)
               .values(attempts=one_time_codes.ATTEMPTS))
    db.commit()
    from tests.integration.customer.conftest import texted_code
    with pytest.raises(SignInCodeUnusable):
        customer_sign_in.verify_code(db, shop.id, asked.request_id, texted_code(app),
                                     ip=None, device=None)


@pytest.mark.parametrize("path", ["/sessions/99999999999999999999/revoke",
                                  "/assets/99999999999999999999/remove"])
def test_an_oversized_id_is_not_found(app: Any, shop: SimpleNamespace, ivan: Any,
                                      path: str) -> None:
    token = csrf(ivan, f"/c/{shop.id}/profile")
    assert ivan.post(f"/c/{shop.id}{path}", data={"csrf_token": token}).status_code == 404


def test_an_unknown_business_is_404_on_every_page(app: Any, shop: SimpleNamespace) -> None:
    client = app.test_client()
    assert client.get(f"/c/{shop.id + 50}/sign-in").status_code == 404
    assert client.get("/c/99999999999999999999/sign-in").status_code == 404


def test_a_nul_byte_is_refused_with_a_message(app: Any, shop: SimpleNamespace,
                                              ivan: Any) -> None:
    token = csrf(ivan, f"/c/{shop.id}/profile")
    answer = ivan.post(f"/c/{shop.id}/profile",
                       data={"csrf_token": token, "name": "Ива\x00н", "birthday": ""})
    assert answer.status_code == 422
    assert "В поле есть недопустимый символ." in answer.get_data(as_text=True)
    assert app.test_session().scalar(select(Customer.name)) is None


def test_a_revoked_device_is_told_to_forget_the_card(app: Any, shop: SimpleNamespace,
                                                     ivan: Any) -> None:
    tablet = signed_in(app, shop.id)
    tablet_session = app.test_session().scalars(
        select(CustomerSession.id).order_by(CustomerSession.id.desc())).first()
    token = csrf(ivan, f"/c/{shop.id}/profile")
    ivan.post(f"/c/{shop.id}/sessions/{tablet_session}/revoke", data={"csrf_token": token})
    answer = tablet.get(f"/c/{shop.id}/")
    assert answer.location == f"/c/{shop.id}/sign-in"
    assert answer.headers["Clear-Site-Data"] == '"cache"'
    assert f"customer-{shop.id}=;" in answer.headers["Set-Cookie"]


def test_ending_another_device_changes_the_checkin_secret(app: Any, shop: SimpleNamespace,
                                                          ivan: Any) -> None:
    signed_in(app, shop.id)
    before = app.test_session().scalar(select(Customer.checkin_secret))
    ids = app.test_session().scalars(select(CustomerSession.id).order_by(CustomerSession.id))
    first, second = list(ids)
    token = csrf(ivan, f"/c/{shop.id}/profile")
    ivan.post(f"/c/{shop.id}/sessions/{second}/revoke", data={"csrf_token": token})
    after = app.test_session().scalar(select(Customer.checkin_secret))
    assert after != before  # the lost tablet's offline code no longer works
    ivan.post(f"/c/{shop.id}/sessions/{first}/revoke", data={"csrf_token": token})
    assert app.test_session().scalar(select(Customer.checkin_secret)) == after


def test_personal_pages_are_not_kept_by_http_caches(app: Any, shop: SimpleNamespace,
                                                    ivan: Any) -> None:
    for path in ("/", "/profile", "/history", "/invite"):
        assert ivan.get(f"/c/{shop.id}{path}").headers["Cache-Control"] == "private, no-store"


def test_behind_a_proxy_the_clients_address_counts(tmp_path: Path,
                                                   fresh_engine: Engine) -> None:
    """With REGULARS_TRUSTED_PROXIES the forwarded address is the one counted and kept."""
    from webapp.app import create_app
    from webapp.services.business import setup as businesses

    with Session(fresh_engine) as db:
        business_id = businesses.create_business(db, name="Гараж").id
    url = fresh_engine.url.render_as_string(hide_password=False)
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path),
                      "SECRET_KEY": "proxy-secret-" + "x" * 40, "TRUSTED_PROXIES": "1"})
    client = app.test_client()
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    page = client.get(f"/c/{business_id}/sign-in", headers=forwarded).get_data(as_text=True)
    token = csrf_token(page)
    client.post(f"/c/{business_id}/sign-in", headers=forwarded,
                data={"csrf_token": token, "phone": PHONE, "data_consent": "yes"})
    with app.app_context():
        from webapp.current import unit_of_work

        assert unit_of_work().session.scalar(select(SignInCode.ip)) == "203.0.113.9"
        engine = app.extensions["sqlalchemy"].engine
    engine.dispose()  # after the context has given its connection back
