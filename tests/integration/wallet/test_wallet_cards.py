"""What a pass shows and how a change reaches the wallets' queue (webapp.services
wallet_cards and wallet_updates)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select

from webapp.domain.actor import Actor
from webapp.domain.errors import UnknownCustomer
from webapp.persistence.base import utcnow
from webapp.persistence.models import OutboxMessage, PassRegistration, WalletPass
from webapp.services import customers, ledger, wallet_cards, wallet_updates


@pytest.fixture
def member(app: Any, shop: SimpleNamespace) -> int:
    joined = customers.join(app.test_session(), Actor.system(shop.id), phone="+79161234567",
                            name="Иван")
    return int(joined.customer.id)


def queued(app: Any, kind: str) -> int:
    return app.test_session().scalar(select(func.count()).select_from(OutboxMessage)
                                     .where(OutboxMessage.kind == kind)) or 0


def test_the_pass_shows_what_the_card_shows(app: Any, shop: SimpleNamespace,
                                            member: int) -> None:
    shown = wallet_cards.view(app.test_session(), shop.id, member)
    assert (shown.points, shown.points_text) == (100, "100 баллов")
    assert shown.worth_text.startswith("100") and shown.worth_text.endswith("₽")
    assert shown.progress == "До уровня «Базовый»: ещё 1 визит."
    assert shown.rules.startswith("5\u00a0% от каждого заказа")
    english = wallet_cards.view(app.test_session(), shop.id, member, lang="en")
    assert english.points_text == "100 points"


def test_another_business_cannot_read_the_pass(app: Any, shop: SimpleNamespace,
                                               member: int) -> None:
    with pytest.raises(UnknownCustomer):
        wallet_cards.view(app.test_session(), shop.id + 1, member)
    with pytest.raises(UnknownCustomer):
        wallet_cards.pass_of(app.test_session(), shop.id + 1, member)


def test_a_pass_is_made_once_with_a_random_serial(app: Any, shop: SimpleNamespace,
                                                  member: int) -> None:
    db = app.test_session()
    first = wallet_cards.pass_of(db, shop.id, member)
    db.commit()
    assert wallet_cards.pass_of(db, shop.id, member).id == first.id
    assert len(first.serial) == 20 and int(first.serial, 16) >= 0


def test_without_a_pass_a_change_queues_nothing(app: Any, shop: SimpleNamespace,
                                                member: int) -> None:
    ledger.accrue(app.test_session(), Actor.system(shop.id), "wallet-no-pass",
                  customer_id=member, points=50)
    assert queued(app, wallet_updates.APNS) == queued(app, wallet_updates.GOOGLE) == 0


def test_a_credit_moves_the_version_and_queues_each_device_and_google(
        app: Any, shop: SimpleNamespace, member: int) -> None:
    db = app.test_session()
    walletpass = wallet_cards.pass_of(db, shop.id, member)
    walletpass.updated_at = utcnow() - timedelta(days=1)
    walletpass.google_object = True
    for device in ("device-a", "device-b"):
        db.add(PassRegistration(device_id=device, push_token=f"token-{device}",
                                pass_id=walletpass.id))
    db.commit()
    before = walletpass.updated_at
    ledger.accrue(db, Actor.system(shop.id), "wallet-credit", customer_id=member, points=50)
    after = db.scalar(select(WalletPass.updated_at).where(WalletPass.customer_id == member))
    assert after is not None and after > before
    assert queued(app, wallet_updates.APNS) == 2
    assert queued(app, wallet_updates.GOOGLE) == 1


def test_a_refused_write_queues_nothing(app: Any, shop: SimpleNamespace, member: int) -> None:
    db = app.test_session()
    walletpass = wallet_cards.pass_of(db, shop.id, member)
    db.add(PassRegistration(device_id="device-a", push_token="t", pass_id=walletpass.id))
    db.commit()
    with pytest.raises(Exception, match="points"):
        ledger.redeem(db, Actor.system(shop.id), "wallet-too-much", customer_id=member,
                      points=10_000)
    assert queued(app, wallet_updates.APNS) == 0
