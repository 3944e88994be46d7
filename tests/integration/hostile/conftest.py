"""The hostile-input sweep's world: an app with every optional part switched on (Apple
Wallet, web push), a shop with one of each thing a URL can name, and a test client for
each kind of visitor, signed in, with its CSRF token.

Everything is made on the app's own session, in the outer transaction that
``rolled_back_app`` rolls back after the test. The sweep runs each request inside a
savepoint it rolls back afterwards, and gives each client its cookies back, so every
request starts from this same world (no request signs out the next one).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from tests.conftest import rolled_back_app
from tests.integration.conftest import make_shop
from tests.integration.hostile.probe import record_views
from tests.integration.wallet.pki import PKI, extra_for, make_pki
from tests.web_client import csrf, staff_signed_in
from wallet.apple.settings import auth_token
from webapp.domain.actor import Actor, Role
from webapp.domain.clock import utcnow
from webapp.domain.quote import OrderDraft
from webapp.persistence.models import AbuseFlag, Customer, CustomerSession
from webapp.services.counter import checkout
from webapp.services.customers import accounts as customers
from webapp.services.ledger import operations as ledger
from webapp.services.notify.push_settings import new_keys
from webapp.services.staff import accounts as staff
from webapp.services.staff import sign_in as sign_in_service
from webapp.services.staff import team as staff_admin
from webapp.services.wallet import cards as wallet_cards
from webapp.services.wallet import links as wallet_links
from webapp.services.wallet import passkit

PHONE = "+79161234567"
SECRET = "test-secret-" + "x" * 40
DEVICE = "sweep-device-1"
ROLES = ("stranger", "cashier", "manager", "owner", "customer")
COOKIES = ("session", "customer", "remember_token")  # every cookie the app sets (over http)
_addresses = itertools.count(1)


def next_address() -> str:
    """A new client address for each request: per-address limits never kick in, so
    every request reaches the view."""
    number = next(_addresses)
    return f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"


@dataclass
class Visitor:
    """A test client, the cookies it starts every request with, its CSRF token."""

    client: Any
    cookies: list[tuple[str, str]]
    token: str

    def restore(self) -> None:
        """The cookies as they were (a swept request may have signed the visitor out)."""
        for name in COOKIES:
            self.client.delete_cookie(name)
        for name, value in self.cookies:
            self.client.set_cookie(name, value)


@dataclass
class World:
    """The app, its connection, and the shop's ids and secrets for URLs and forms."""

    app: Any
    connection: Connection
    ids: dict[str, int]  # <int:...> URL parameters by name
    strings: dict[str, str]  # <string:...> and <path:...> URL parameters by name
    query: dict[str, str]  # plausible values no form shows (the texted link's)
    headers: dict[str, str]  # sent with every request (the pass's token, for iOS's routes)
    visitors: dict[str, Visitor]


@pytest.fixture(scope="session")
def sweep_pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    return make_pki(tmp_path_factory.mktemp("sweep-pki"))


@pytest.fixture
def sweep_app(database_url: str, engine: Engine, tmp_path: Path, sweep_pki: PKI,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The suite's app (tests/conftest.py) with Apple Wallet and web push on, its views
    recording what they read (see probe.py)."""
    # A wrong login is checked against a hash made at import, at production cost (so it
    # takes as long as a wrong password): at the tests' cost here, like every other hash.
    cheap = staff.passwords.hash("not a real password, only for timing")
    for module in (staff, sign_in_service):
        if hasattr(module, "TIMING_HASH"):
            monkeypatch.setattr(module, "TIMING_HASH", cheap)
    private, public = new_keys()
    with rolled_back_app(engine, {
            "DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": SECRET,
            **extra_for(sweep_pki), "VAPID_PRIVATE_KEY": private, "VAPID_PUBLIC_KEY": public,
            "VAPID_SUBJECT": "mailto:sweep@example.ru"}) as made:
        record_views(made)
        yield made


def _staff(db: Session, business_id: int, login: str, role: Role, branches: list[int] | None
           ) -> int:
    return int(staff.create_staff(db, business_id=business_id, login=login,
                                  password="correct horse battery", role=role.value,
                                  branch_ids=branches).id)


@pytest.fixture
def world(sweep_app: Any) -> World:
    """The shop: staff of each role (and a "victim" for URLs naming a staff member), a
    customer with points, a vehicle, an order, a wallet pass registered on a device, a
    second signed-in device, an open invitation and an abuse flag."""
    db = sweep_app.test_session()
    shop = make_shop(db)
    system = Actor.system(shop.id)
    _staff(db, shop.id, "cashier", Role.CASHIER, [shop.centre])
    manager = _staff(db, shop.id, "manager", Role.MANAGER, None)
    victim = _staff(db, shop.id, "victim", Role.CASHIER, [shop.centre])
    joined = customers.join(db, system, phone=PHONE, name="Иван").customer
    customer_id = joined.id
    ledger.accrue(db, system, "sweep-points", customer_id=joined.id, points=2000)
    asset = customers.add_asset(db, system, customer_id=joined.id, kind="plate",
                                value="А123ВС77")
    till = Actor.staff(shop.id, manager, Role.MANAGER, branch_id=shop.centre)
    order = checkout.close(db, till, "sweep-order-1", customer_id=joined.id,
                           branch_id=shop.centre, draft=OrderDraft(total=150_000))
    serial = wallet_cards.pass_of(db, shop.id, joined.id).serial
    db.commit()
    passkit.register(db, device_id=DEVICE, serial=serial, push_token="sweeptoken")
    invitation = staff_admin.invite(db, shop.owner, login="invitee", display_name="Новенький",
                                    role="cashier", branch_ids=None)
    flag = AbuseFlag(business_id=shop.id, kind="customer_accruals_day",
                     subject=f"customer:{joined.id}", window="2026-11-29",
                     customer_id=joined.id, staff_id=victim,
                     details=json.dumps({"count": 4, "limit": 3}), raised_at=utcnow())
    db.add(flag)
    db.commit()
    _, spare_session = _device(db, customer_id)  # a second device, for the URL to revoke
    day = int(utcnow().timestamp() // 86400)
    ids = {"business_id": shop.id, "branch_id": shop.centre, "customer_id": customer_id,
           "order_id": int(order["order_id"]), "staff_id": victim, "flag_id": flag.id,
           "asset_id": asset.id, "session_id": spare_session}
    strings = {"serial": serial, "device_id": DEVICE, "token": invitation.token,
               "pass_type": sweep_app.config["REGULARS"].extra["APPLE_PASS_TYPE_ID"],
               "filename": "css/base.css"}
    # Requests end the app's session, and with it these objects: ids are kept above.
    visitors = {role: _visitor(sweep_app, shop.id, role, customer_id) for role in ROLES}
    return World(
        app=sweep_app,
        connection=sweep_app.test_session.session_factory.kw["bind"],
        ids=ids,
        strings=strings,
        query={"d": str(day), "t": wallet_links.link_token(SECRET, serial, day)},
        headers={"Authorization": f"ApplePass {auth_token(SECRET, serial)}"},
        visitors=visitors,
    )


def _device(db: Session, customer_id: int) -> tuple[str, int]:
    """A signed-in device of the customer: the session row a code sign-in makes (that
    sign-in is tested in tests/integration/customer/)."""
    token = secrets.token_urlsafe(32)
    business_id = db.scalar(select(Customer.business_id).where(Customer.id == customer_id))
    row = CustomerSession(business_id=business_id, customer_id=customer_id, device="sweep",
                          token_hash=hashlib.sha256(token.encode()).hexdigest())
    db.add(row)
    db.commit()
    return token, row.id


def _visitor(app: Any, business_id: int, role: str, customer_id: int) -> Visitor:
    """A client as ``role``: staff signed in; the customer signed in; the stranger
    half-way through a phone sign-in (a code asked for, so the code form reads its
    fields)."""
    if role in ("cashier", "manager", "owner"):
        client = staff_signed_in(app, business_id, role)
        token = csrf(client, f"/c/{business_id}/sign-in")
    elif role == "customer":
        client = app.test_client()
        client.set_cookie("customer", _device(app.test_session(), customer_id)[0])
        token = csrf(client, f"/c/{business_id}/profile")
    else:
        client = app.test_client()
        token = csrf(client, f"/c/{business_id}/sign-in")
        asked = client.post(f"/c/{business_id}/sign-in", data={
            "csrf_token": token, "phone": "+79160000077", "data_consent": "yes"})
        assert asked.status_code == 302, asked.get_data(as_text=True)
    cookies = [(name, found.value) for name in COOKIES
               if (found := client.get_cookie(name)) is not None]
    return Visitor(client, cookies, token)
