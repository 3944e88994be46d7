"""The points history in plain words, and inviting a friend by link."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from tests.integration.customer.conftest import PHONE, signed_in
from webapp.domain.actor import Actor
from webapp.domain.clock import utcnow
from webapp.domain.presets import PRESETS
from webapp.persistence.models import Customer
from webapp.services.ledger import operations as ledger
from webapp.services.program import versions as programs


def test_the_history_says_what_happened_newest_first(app: Any, shop: SimpleNamespace,
                                                     ivan: Any) -> None:
    customer_id = app.test_session().scalar(select(Customer.id).where(Customer.phone == PHONE))
    ledger.accrue(app.test_session(), Actor.system(shop.id), "history-accrual",
                  customer_id=customer_id, points=40)
    ledger.redeem(app.test_session(), Actor.system(shop.id), "history-redeem",
                  customer_id=customer_id, points=15)
    page = ivan.get(f"/c/{shop.id}/history").get_data(as_text=True)
    lines = re.findall(r"<span>([^<]+)</span>\s*<strong[^>]*>([^<]+)</strong>", page)
    assert lines == [("Списано 15", "−15"), ("Начислено 40", "+40"), ("Начислено 100", "+100")]


def test_another_customers_history_is_not_shown(app: Any, shop: SimpleNamespace,
                                                ivan: Any) -> None:
    other = signed_in(app, shop.id, "+79167654321")
    customer_id = app.test_session().scalar(select(Customer.id).where(Customer.phone == PHONE))
    ledger.accrue(app.test_session(), Actor.system(shop.id), "history-ivan-only",
                  customer_id=customer_id, points=777)
    assert "777" not in other.get(f"/c/{shop.id}/history").get_data(as_text=True)


def test_a_friend_who_joins_by_the_link_is_the_customers_referral(
        app: Any, shop: SimpleNamespace, ivan: Any) -> None:
    page = ivan.get(f"/c/{shop.id}/invite").get_data(as_text=True)
    assert "Приведите друга" in page  # the DEMO program's referral bonus, in words
    link = re.search(r'id="invite-link" value="([^"]+)"', page)
    assert link
    path = link.group(1).split("://", 1)[1].split("/", 1)[1]
    friend = app.test_client()
    form = friend.get("/" + path).get_data(as_text=True)
    code = re.search(r'name="ref" value="([A-Z0-9]+)"', form)
    assert code
    signed_in(app, shop.id, "+79167654321", client=friend, ref=code.group(1))
    ivan_id = app.test_session().scalar(select(Customer.id).where(Customer.phone == PHONE))
    referred = app.test_session().scalar(
        select(Customer.referred_by_id).where(Customer.phone == "+79167654321"))
    assert referred == ivan_id


def test_a_wrong_invitation_code_still_lets_the_friend_join(app: Any,
                                                            shop: SimpleNamespace) -> None:
    signed_in(app, shop.id, "+79167654321", ref="NOSUCH")
    joined = app.test_session().scalar(select(Customer).where(Customer.phone == "+79167654321"))
    assert joined is not None and joined.referred_by_id is None


def test_a_cashback_history_is_in_money(app: Any, shop: SimpleNamespace, ivan: Any) -> None:
    db = app.test_session()
    programs.save(db, shop.owner, "cashback-history", settings=PRESETS["cashback_5_50"],
                  now=utcnow() - timedelta(hours=1))
    customer_id = db.scalar(select(Customer.id).where(Customer.phone == PHONE))
    ledger.accrue(db, Actor.system(shop.id), "cashback-history-accrual",
                  customer_id=customer_id, points=40)
    page = ivan.get(f"/c/{shop.id}/history").get_data(as_text=True)
    page = page.replace("\u202f", " ").replace("\u00a0", " ")
    assert "История кэшбэка" in page
    amounts = re.findall(r"<strong[^>]*>([^<]+)</strong>", page)
    assert amounts[:2] == ["+40 ₽", "+100 ₽"]
