"""Receipts at the counter: an order's receipt opens only for staff who work at the
order's own branch, and it names that branch, whatever branch the URL carries."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from tests.integration.counter.conftest import next_key
from tests.web_client import csrf, staff_signed_in
from webapp.domain.actor import Role

JSON = {"Accept": "application/json"}


def _close_at(client: Any, shop: SimpleNamespace, branch: int, customer_id: int) -> str:
    """Close a 4 500 ₽ order at ``branch``; the receipt's URL the counter answers with."""
    counter = f"/b/{shop.id}/counter/{branch}"
    response = client.post(f"{counter}/customers/{customer_id}/close", headers=JSON,
                           data={"csrf_token": csrf(client, counter), "key": next_key(),
                                 "total": "4500"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return str(response.get_json()["url"])


def _receipt(shop: SimpleNamespace, branch: int, receipt_url: str) -> str:
    """The same order's receipt under another branch's counter URL."""
    order_id = receipt_url.rsplit("/", 1)[1]
    return f"/b/{shop.id}/counter/{branch}/orders/{order_id}"


def _branch_line(html: str) -> str:
    """The receipt's line under its title: when, branch, customer."""
    return html.split('class="muted">', 1)[1].split("</p>", 1)[0]


def test_a_cashier_cannot_open_another_branchs_receipt(
    app: Any, cashier: Any, shop: Any, regular: Any, member: Any
) -> None:
    member(Role.CASHIER, "north-cashier", [shop.north])
    north = staff_signed_in(app, shop.id, "north-cashier")
    theirs = _close_at(north, shop, shop.north, regular.id)
    # The centre cashier's own counter URL with the north order's id: refused as
    # the rest of the counter refuses another branch.
    response = cashier.get(_receipt(shop, shop.centre, theirs))
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Вы не работаете в этом филиале." in page
    plain = page.replace("\u00a0", " ").replace("\u202f", " ")
    assert regular.card not in page and "4 500" not in plain
    assert cashier.get(theirs).status_code == 403  # the order's own URL: not their branch
    assert north.get(theirs).status_code == 200


def test_a_receipt_names_the_orders_own_branch(
    app: Any, cashier: Any, shop: Any, regular: Any, member: Any
) -> None:
    member(Role.MANAGER, "manager")
    manager = staff_signed_in(app, shop.id, "manager")  # works at every branch
    at_north = _close_at(manager, shop, shop.north, regular.id)
    under_centre = manager.get(_receipt(shop, shop.centre, at_north))
    assert under_centre.status_code == 200
    line = _branch_line(under_centre.get_data(as_text=True))
    assert "Север" in line and "Центр" not in line
    owner = staff_signed_in(app, shop.id, "owner")
    assert "Север" in _branch_line(owner.get(_receipt(shop, shop.centre, at_north))
                                   .get_data(as_text=True))
    mine = cashier.get(_close_at(cashier, shop, shop.centre, regular.id))
    assert mine.status_code == 200
    assert "Центр" in _branch_line(mine.get_data(as_text=True))


def test_another_business_order_is_not_found(app: Any, cashier: Any, shop: Any) -> None:
    from tests.integration.conftest import make_shop
    from webapp.services.customers import accounts as customers

    db = app.test_session()
    other = make_shop(db)
    theirs = customers.join(db, other.owner, phone="+79160000077").customer.id
    owner_client = staff_signed_in(app, other.id, "owner")  # logins are per business
    their_receipt = _close_at(owner_client, other, other.centre, theirs)
    assert cashier.get(_receipt(shop, shop.centre, their_receipt)).status_code == 404
