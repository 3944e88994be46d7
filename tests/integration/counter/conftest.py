"""A business with a program, two branches, its staff and a customer with points,
all made on the app's own session; clients signed in as each role."""

from __future__ import annotations

import itertools
import re
from types import SimpleNamespace
from typing import Any

import pytest

from tests.integration.conftest import PASSWORD
from webapp.domain import checkin
from webapp.domain.actor import Actor, Role
from webapp.domain.clock import utcnow
from webapp.persistence.models import Customer
from webapp.services import customers, ledger, staff

_keys = itertools.count(1)


@pytest.fixture
def member(app: Any, shop: SimpleNamespace) -> Any:
    """Make a staff member of the shop (all branches unless given) and return their id."""
    def make(role: Role, login: str, branch_ids: list[int] | None = None) -> int:
        return int(staff.create_staff(app.test_session(), business_id=shop.id, login=login,
                                      password=PASSWORD, role=role.value,
                                      branch_ids=branch_ids).id)

    return make


def sign_in(app: Any, business_id: int, login: str) -> Any:
    """A new client signed in as ``login``, with the CSRF token of its session."""
    client = app.test_client()
    page = client.get(f"/b/{business_id}/staff/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    response = client.post(f"/b/{business_id}/staff/sign-in",
                           data={"login": login, "password": PASSWORD,
                                 "csrf_token": token.group(1)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def csrf(client: Any, url: str) -> str:
    """The CSRF token of the signed-in session, read from a page with a form."""
    found = re.search(r'name="csrf_token" value="([^"]+)"',
                      client.get(url).get_data(as_text=True))
    assert found, url
    return found.group(1)


@pytest.fixture
def cashier(app: Any, shop: SimpleNamespace, member: Any) -> Any:
    """A cashier of the Центр branch only, signed in."""
    member(Role.CASHIER, "cashier", [shop.centre])
    return sign_in(app, shop.id, "cashier")


@pytest.fixture
def regular(app: Any, shop: SimpleNamespace) -> SimpleNamespace:
    """A customer with 2 000 points on top of the welcome bonus."""
    db = app.test_session()
    joined = customers.join(db, Actor.system(shop.id), phone="+79161234567", name="Иван")
    ledger.accrue(db, Actor.system(shop.id), "regular-points", customer_id=joined.customer.id,
                  points=2000)
    row = db.get(Customer, joined.customer.id)
    assert row is not None
    return SimpleNamespace(id=row.id, card=row.card_number, secret=row.checkin_secret,
                           phone=row.phone)


def live_code(customer: SimpleNamespace) -> str:
    """The code the customer's app shows right now."""
    return checkin.make(customer.secret, customer.card, utcnow())


def next_key() -> str:
    return f"counter-test-{next(_keys):06d}"
