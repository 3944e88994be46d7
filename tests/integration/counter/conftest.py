"""A business with a program, two branches, its staff and a customer with points,
all made on the app's own session; clients signed in as each role."""

from __future__ import annotations

import itertools
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.web_client import PASSWORD, csrf, staff_signed_in
from webapp.domain import checkin
from webapp.domain.actor import Actor, Role
from webapp.domain.clock import utcnow
from webapp.persistence.models import Customer, Order
from webapp.services.customers import accounts as customers
from webapp.services.ledger import balances
from webapp.services.ledger import operations as ledger
from webapp.services.staff import accounts as staff

_keys = itertools.count(1)
JSON = {"Accept": "application/json"}


@pytest.fixture
def member(app: Any, shop: SimpleNamespace) -> Any:
    """Make a staff member of the shop (all branches unless given) and return their id."""
    def make(role: Role, login: str, branch_ids: list[int] | None = None) -> int:
        return int(staff.create_staff(app.test_session(), business_id=shop.id, login=login,
                                      password=PASSWORD, role=role.value,
                                      branch_ids=branch_ids).id)

    return make


@pytest.fixture
def cashier(app: Any, shop: SimpleNamespace, member: Any) -> Any:
    """A cashier of the Центр branch only, signed in."""
    member(Role.CASHIER, "cashier", [shop.centre])
    return staff_signed_in(app, shop.id, "cashier")


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


# -- talking to the counter over HTTP, as its page and script do ----------------------

def url(shop: SimpleNamespace, tail: str = "", branch: int | None = None) -> str:
    """A counter URL of the shop (the Центр branch unless given)."""
    return f"/b/{shop.id}/counter/{branch or shop.centre}{tail}"


def post(client: Any, shop: SimpleNamespace, tail: str, branch: int | None = None,
         **data: Any) -> Any:
    """POST a counter form as the page's script does (JSON answer), with the CSRF token."""
    data.setdefault("csrf_token", csrf(client, url(shop, branch=branch)))
    return client.post(url(shop, tail, branch), data=data, headers=JSON)


def balance(app: Any, shop: SimpleNamespace, customer_id: int) -> int:
    return balances.balance(app.test_session(), Actor.system(shop.id), customer_id).available


def orders(app: Any, customer_id: int) -> int:
    return app.test_session().scalar(
        select(func.count(Order.id)).where(Order.customer_id == customer_id)) or 0


def close(client: Any, shop: SimpleNamespace, customer: SimpleNamespace, key: str,
          **form: Any) -> Any:
    form.setdefault("total", "4500")
    return post(client, shop, f"/customers/{customer.id}/close", key=key, **form)
