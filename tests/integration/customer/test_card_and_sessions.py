"""The card screen, device sessions (listed, revoked, signed out) and the PWA's files."""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from tests.integration.customer.conftest import PHONE, signed_in
from tests.web_client import csrf
from webapp.domain.actor import Actor
from webapp.domain.clock import utcnow
from webapp.domain.presets import PRESETS
from webapp.persistence.models import Customer, CustomerSession
from webapp.services.business import setup as businesses
from webapp.services.ledger import operations as ledger
from webapp.services.program import versions as programs


def the_customer(app: Any, phone: str = PHONE) -> SimpleNamespace:
    """The customer's row as plain values (a request in between detaches ORM objects)."""
    found = app.test_session().scalar(select(Customer).where(Customer.phone == phone))
    assert found is not None
    return SimpleNamespace(id=found.id, card_number=found.card_number,
                           checkin_secret=found.checkin_secret)


def test_the_card_shows_balance_worth_tier_progress_and_the_checkin_secret(
        app: Any, shop: SimpleNamespace, ivan: Any) -> None:
    customer = the_customer(app)
    ledger.accrue(app.test_session(), Actor.system(shop.id), "card-test-points",
                  customer_id=customer.id, points=350)
    page = ivan.get(f"/c/{shop.id}/").get_data(as_text=True)
    assert "450 баллов" in page and re.search(r"= 450\s₽", page)  # a point is worth 1 ₽
    assert "До уровня «Базовый»: ещё 1 визит" in page  # the DEMO program's first tier
    assert re.search(r'<progress id="tier-progress" max="100" value="0"', page)
    section = re.search(r'<section id="checkin"[^>]*data-card="(\d{9})" data-secret="([^"]+)"',
                        page)
    assert section and section.group(1) == customer.card_number
    padded = section.group(2) + "=" * (-len(section.group(2)) % 4)
    assert base64.urlsafe_b64decode(padded) == customer.checkin_secret
    assert "от каждого заказа возвращается бонусами" in page  # the rules in one sentence


def test_the_card_needs_a_signed_in_device(app: Any, shop: SimpleNamespace) -> None:
    answer = app.test_client().get(f"/c/{shop.id}/")
    assert answer.status_code == 302 and answer.location == f"/c/{shop.id}/sign-in"


def test_a_session_of_one_business_opens_nothing_at_another(app: Any, shop: SimpleNamespace,
                                                            ivan: Any) -> None:
    other = businesses.create_business(app.test_session(), name="Шиномонтаж").id
    answer = ivan.get(f"/c/{other}/")
    assert answer.status_code == 302 and answer.location == f"/c/{other}/sign-in"


def test_devices_are_listed_and_another_one_can_be_signed_out(app: Any,
                                                              shop: SimpleNamespace,
                                                              ivan: Any) -> None:
    tablet = signed_in(app, shop.id)
    profile = ivan.get(f"/c/{shop.id}/profile").get_data(as_text=True)
    assert profile.count("Выйти на этом устройстве") == 1  # this one
    assert profile.count("Завершить сеанс") == 1  # the tablet
    assert "это устройство" in profile
    ids = [s.id for s in app.test_session().scalars(
        select(CustomerSession).order_by(CustomerSession.id))]
    token = csrf(ivan, f"/c/{shop.id}/profile")
    answer = ivan.post(f"/c/{shop.id}/sessions/{ids[1]}/revoke", data={"csrf_token": token})
    assert answer.location == f"/c/{shop.id}/profile"
    assert tablet.get(f"/c/{shop.id}/").location == f"/c/{shop.id}/sign-in"
    assert ivan.get(f"/c/{shop.id}/").status_code == 200


def test_another_customers_session_cannot_be_revoked(app: Any, shop: SimpleNamespace,
                                                     ivan: Any) -> None:
    signed_in(app, shop.id, "+79167654321")
    stranger = app.test_session().scalar(
        select(CustomerSession.id).join(Customer, Customer.id == CustomerSession.customer_id)
        .where(Customer.phone == "+79167654321"))
    token = csrf(ivan, f"/c/{shop.id}/profile")
    answer = ivan.post(f"/c/{shop.id}/sessions/{stranger}/revoke", data={"csrf_token": token})
    assert answer.status_code == 404
    revoked = app.test_session().scalar(
        select(CustomerSession.revoked_at).where(CustomerSession.id == stranger))
    assert revoked is None


def test_sign_out_ends_the_session_and_clears_the_devices_copies(app: Any,
                                                                 shop: SimpleNamespace,
                                                                 ivan: Any) -> None:
    token = csrf(ivan, f"/c/{shop.id}/profile")
    answer = ivan.post(f"/c/{shop.id}/sign-out", data={"csrf_token": token})
    assert answer.status_code == 302
    # Only the HTTP cache: "storage" and "cookies" would wipe the other businesses' cards
    # on this device (the service worker's copy of this one goes by customer_app.js).
    assert answer.headers["Clear-Site-Data"] == '"cache"'
    assert answer.headers["Set-Cookie"].startswith(f"customer-{shop.id}=;")
    assert ivan.get(f"/c/{shop.id}/").location == f"/c/{shop.id}/sign-in"
    revoked = app.test_session().scalars(select(CustomerSession.revoked_at)).all()
    assert len(revoked) == 1 and revoked[0] is not None


def test_a_stolen_cookie_stops_working_once_revoked(app: Any, shop: SimpleNamespace,
                                                    ivan: Any) -> None:
    cookie = ivan.get_cookie(f"customer-{shop.id}")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie(f"customer-{shop.id}", cookie.value)
    assert thief.get(f"/c/{shop.id}/").status_code == 200
    token = csrf(ivan, f"/c/{shop.id}/profile")
    ivan.post(f"/c/{shop.id}/sign-out", data={"csrf_token": token})
    assert thief.get(f"/c/{shop.id}/").location == f"/c/{shop.id}/sign-in"


def test_the_manifest_makes_the_app_installable(app: Any, shop: SimpleNamespace) -> None:
    answer = app.test_client().get(f"/c/{shop.id}/manifest.webmanifest")
    assert answer.mimetype == "application/manifest+json"
    manifest = answer.get_json(force=True)
    assert manifest["start_url"] == manifest["scope"] == f"/c/{shop.id}/"
    assert manifest["display"] == "standalone" and manifest["name"].startswith("Гараж на Лесной")
    assert {i["purpose"] for i in manifest["icons"]} == {"any", "maskable"}
    for icon in manifest["icons"]:
        with app.test_client().get(icon["src"]) as image:
            assert image.status_code == 200 and image.mimetype == "image/png"
            side = int(icon["sizes"].split("x")[0])
            assert image.data[16:24] == side.to_bytes(4, "big") * 2  # the PNG's own size


def test_the_service_worker_is_served_in_the_apps_scope(app: Any, shop: SimpleNamespace,
                                                        ivan: Any) -> None:
    page = ivan.get(f"/c/{shop.id}/").get_data(as_text=True)
    found = re.search(r'data-sw="([^"]+)" data-scope="([^"]+)"', page)
    assert found and found.group(2) == f"/c/{shop.id}/"
    worker = app.test_client().get(found.group(1).replace("&amp;", "&"))
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert worker.headers["Cache-Control"] == "no-cache"
    assert app.test_client().get(f"/c/{shop.id + 99}/sw.js").status_code == 404


def test_a_cashback_card_shows_money_on_the_account(app: Any, shop: SimpleNamespace,
                                                    ivan: Any) -> None:
    customer = the_customer(app)
    db = app.test_session()
    programs.save(db, shop.owner, "cashback-card", settings=PRESETS["cashback_5_50"],
                  now=utcnow() - timedelta(hours=1))
    ledger.accrue(db, Actor.system(shop.id), "cashback-card-points", customer_id=customer.id,
                  points=3_966, expires_at=utcnow() + timedelta(days=10))
    page = ivan.get(f"/c/{shop.id}/").get_data(as_text=True)
    balance = re.search(r'<p class="balance">(.*?)</p>', page, re.S)
    assert balance is not None and "4\u202f066\u00a0₽ на счёте</strong>" in balance.group(1)
    assert "балл" not in balance.group(1)
    assert re.search(r"сгорят 3\u202f966\u00a0₽</p>", page)  # what burns, in roubles too
    english = ivan.get(f"/c/{shop.id}/?lang=en").get_data(as_text=True)
    assert "₽4,066 on account</strong>" in english
