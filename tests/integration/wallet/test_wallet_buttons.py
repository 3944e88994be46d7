"""The wallets from the customer's side: the buttons on the card, the .pkpass download,
and the link a cashier texts from the counter."""

from __future__ import annotations

import re
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from tests.integration.customer.conftest import PHONE, signed_in
from tests.integration.wallet.checks import check_pass
from tests.integration.wallet.pki import PKI
from tests.web_client import PASSWORD, csrf_token, staff_signed_in
from webapp.domain.actor import Role
from webapp.persistence.models import AuditEvent, Customer, OutboxMessage
from webapp.services.staff import accounts as staff
from webapp.services.wallet import links as wallet_links
from webapp.services.wallet.links import link_token

PKPASS = "application/vnd.apple.pkpass"


def phone_of(app: Any) -> Any:
    """A browser on the https site: the wallet apps have an https base URL, so the
    session cookie is ``__Host-`` and Secure, and CSRF also checks the Referer."""
    client = app.test_client()
    client.environ_base.update({"wsgi.url_scheme": "https",
                                "HTTP_REFERER": "https://localhost/"})
    return client


def test_without_configuration_no_button_and_no_route(app: Any, shop: SimpleNamespace) -> None:
    ivan = signed_in(app, shop.id)
    page = ivan.get(f"/c/{shop.id}/").get_data(as_text=True)
    assert "Apple Wallet" not in page and "Google" not in page
    assert ivan.get(f"/c/{shop.id}/wallet/apple.pkpass").status_code == 404
    assert ivan.get(f"/c/{shop.id}/wallet/google").status_code == 404


def test_the_card_offers_apple_wallet_and_serves_a_valid_pass(
        apple_app: Any, apple_shop: SimpleNamespace, apple_pki: PKI, tmp_path: Path) -> None:
    phone = signed_in(apple_app, apple_shop.id, client=phone_of(apple_app))
    page = phone.get(f"/c/{apple_shop.id}/").get_data(as_text=True)
    assert f'href="/c/{apple_shop.id}/wallet/apple.pkpass"' in page
    assert "Google" not in page  # only the wallet that is configured
    answer = phone.get(f"/c/{apple_shop.id}/wallet/apple.pkpass")
    assert answer.status_code == 200 and answer.mimetype == PKPASS
    assert answer.headers["Last-Modified"]
    document = check_pass(answer.data, tmp_path / "pass", apple_pki)
    card = apple_app.test_session().scalar(select(Customer.card_number))
    assert document["barcodes"][0]["message"] == card
    assert document["storeCard"]["primaryFields"][0]["value"] == 100
    assert phone_of(apple_app).get(
        f"/c/{apple_shop.id}/wallet/apple.pkpass").status_code == 302  # needs sign-in


def test_a_cashier_texts_the_link_and_it_opens_the_pass_without_sign_in(
        apple_app: Any, apple_shop: SimpleNamespace, apple_pki: PKI, tmp_path: Path) -> None:
    signed_in(apple_app, apple_shop.id, client=phone_of(apple_app))
    customer_id = apple_app.test_session().scalar(select(Customer.id))
    staff.create_staff(apple_app.test_session(), business_id=apple_shop.id, login="cashier",
                       password=PASSWORD, role=Role.CASHIER.value)
    counter = phone_of(apple_app)
    staff_signed_in(counter, apple_shop.id, "cashier")
    panel_url = f"/b/{apple_shop.id}/counter/{apple_shop.centre}/customers/{customer_id}"
    panel = counter.get(panel_url).get_data(as_text=True)
    assert "Отправить карту для кошелька в SMS" in panel
    sent = counter.post(f"{panel_url}/wallet-link", data={"csrf_token": csrf_token(panel)},
                        headers={"Accept": "application/json"})
    assert sent.status_code == 200 and sent.get_json()["phone_hint"] == "•••-45-67"
    sms = apple_app.test_session().scalars(select(OutboxMessage).order_by(
        OutboxMessage.id.desc())).first()
    assert sms is not None and sms.payload["phone"] == PHONE
    link = re.search(r"https://regulars\.test(/c/\d+/wallet/\w+\?d=\d+&t=[\w-]+)",
                     sms.payload["text"])
    assert link, sms.payload["text"]
    assert apple_app.test_session().scalar(
        select(AuditEvent.action).where(AuditEvent.action == "wallet.link_sent"))

    stranger = phone_of(apple_app)  # the customer's phone, not signed in
    page = stranger.get(link.group(1)).get_data(as_text=True)
    download = re.search(r'href="([^"]+apple\.pkpass[^"]*)"', page)
    assert download
    answer = stranger.get(download.group(1).replace("&amp;", "&"))
    assert answer.status_code == 200 and answer.mimetype == PKPASS
    check_pass(answer.data, tmp_path / "texted", apple_pki)


def test_a_forged_or_foreign_link_opens_nothing(apple_app: Any,
                                                apple_shop: SimpleNamespace) -> None:
    phone = signed_in(apple_app, apple_shop.id, client=phone_of(apple_app))
    phone.get(f"/c/{apple_shop.id}/wallet/apple.pkpass")  # makes the pass
    from webapp.persistence.models import WalletPass

    serial = apple_app.test_session().scalar(select(WalletPass.serial))
    client = phone_of(apple_app)
    key = apple_app.config["REGULARS"].secret_key
    today = int(time.time() // 86400)
    page = f"/c/{apple_shop.id}/wallet/{serial}"
    assert client.get(f"{page}?d={today}&t=forged").status_code == 404
    assert client.get(f"{page}?d={today}&t=%C3%A9").status_code == 404  # not ASCII
    good = link_token(key, serial, today)
    assert client.get(f"{page}?d={today}&t={good}").status_code == 200
    assert client.get(f"/c/{apple_shop.id + 1}/wallet/{serial}?d={today}&t={good}"
                      ).status_code == 404
    assert client.get(f"{page}/apple.pkpass?d={today}&t=forged").status_code == 404
    old = today - wallet_links.LIFETIME_DAYS  # a week-old link has expired
    assert client.get(f"{page}?d={old}&t={link_token(key, serial, old)}").status_code == 404
    assert client.get(f"{page}?d=x&t={good}").status_code == 404
