"""What a pass shows and how a change reaches the wallets' queue (webapp.services
wallet_cards and wallet_updates)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select

from wallet.google import bodies as google_bodies
from webapp.domain.actor import Actor
from webapp.domain.clock import utcnow
from webapp.domain.errors import UnknownCustomer
from webapp.domain.presets import PRESETS
from webapp.persistence.models import OutboxMessage, PassRegistration, WalletPass
from webapp.services.customers import accounts as customers
from webapp.services.ledger import operations as ledger
from webapp.services.notify import wallet_updates
from webapp.services.program import versions as programs
from webapp.services.wallet import cards as wallet_cards


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
        db.add(PassRegistration(business_id=shop.id, device_id=device,
                                push_token=f"token-{device}",
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
    db.add(PassRegistration(business_id=shop.id, device_id="device-a", push_token="t",
                            pass_id=walletpass.id))
    db.commit()
    with pytest.raises(Exception, match="points"):
        ledger.redeem(db, Actor.system(shop.id), "wallet-too-much", customer_id=member,
                      points=10_000)
    assert queued(app, wallet_updates.APNS) == 0


def _versions(app: Any) -> dict[int, Any]:
    return dict(app.test_session().execute(select(WalletPass.customer_id,
                                                  WalletPass.updated_at)).all())


def test_a_new_program_or_logo_moves_every_pass_of_the_business(
        app: Any, shop: SimpleNamespace, member: int) -> None:
    import io

    from PIL import Image

    from webapp.domain.presets import DEMO
    from webapp.services.business import logos
    from webapp.services.program import versions as programs

    db = app.test_session()
    walletpass = wallet_cards.pass_of(db, shop.id, member)
    walletpass.updated_at = utcnow() - timedelta(days=1)
    db.add(PassRegistration(business_id=shop.id, device_id="device-a", push_token="t",
                            pass_id=walletpass.id))
    db.commit()
    before = _versions(app)[member]
    programs.save(db, shop.owner, "wallet-program-2", settings=DEMO)
    after_program = _versions(app)[member]
    assert after_program > before and queued(app, wallet_updates.APNS) == 1
    image = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(image, "PNG")
    logos.set_logo(db, shop.id, image.getvalue())
    assert _versions(app)[member] >= after_program and queued(app, wallet_updates.APNS) == 2


def test_the_referrers_pass_moves_with_their_bonus(app: Any, shop: SimpleNamespace,
                                                   member: int) -> None:
    from webapp.domain.quote import OrderDraft
    from webapp.persistence.models import Customer
    from webapp.services.counter import checkout

    db = app.test_session()
    code = db.scalar(select(Customer.referral_code).where(Customer.id == member))
    friend = customers.join(db, Actor.system(shop.id), phone="+79167654321",
                            referral_code=code).customer.id
    walletpass = wallet_cards.pass_of(db, shop.id, member)
    walletpass.updated_at = utcnow() - timedelta(days=1)
    db.commit()
    before = _versions(app)[member]
    checkout.close(db, Actor.system(shop.id), "wallet-friend-order", customer_id=friend,
                   branch_id=shop.centre, draft=OrderDraft(total=300_000))
    assert _versions(app)[member] > before  # the referrer's 300 bonus is on their pass


def test_a_deleted_account_forgets_its_iphones_and_tells_google(
        app: Any, shop: SimpleNamespace, member: int) -> None:
    db = app.test_session()
    walletpass = wallet_cards.pass_of(db, shop.id, member)
    walletpass.google_object = True
    db.add(PassRegistration(business_id=shop.id, device_id="device-a", push_token="t",
                            pass_id=walletpass.id))
    db.commit()
    wallet_updates.account_closed(db, member)
    db.commit()
    assert db.scalar(select(func.count()).select_from(PassRegistration)) == 0
    assert queued(app, wallet_updates.GOOGLE) == 1


def test_deleting_the_account_queues_the_google_deactivation(app: Any, shop: SimpleNamespace,
                                                             member: int) -> None:
    from webapp.services.customers import profile as customer_profile
    from webapp.services.customers.sign_in import Who

    db = app.test_session()
    walletpass = wallet_cards.pass_of(db, shop.id, member)
    walletpass.google_object = True
    db.commit()
    customer_profile.delete_account(db, Who(member, shop.id, 0), "wallet-delete-key-1",
                                    confirm="удалить", ip=None)
    pending = db.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == wallet_updates.GOOGLE, OutboxMessage.status == "pending")).all()
    assert len(pending) == 1  # not failed with the customer's other pending messages


def test_a_cashback_pass_reads_in_roubles(app: Any, shop: SimpleNamespace, member: int) -> None:
    db = app.test_session()
    programs.save(db, shop.owner, "cashback-pass", settings=PRESETS["cashback_5_50"],
                  now=utcnow() - timedelta(hours=1))
    ledger.accrue(db, Actor.system(shop.id), "cashback-pass-points", customer_id=member,
                  points=3_966)
    shown = wallet_cards.view(db, shop.id, member)
    assert shown.in_money and shown.points == 4_066
    assert shown.points_text == "4\u202f066\u00a0₽" and "балл" not in shown.points_text
    body = google_bodies.changing(shown, "https://x.test", tier_shown=False)
    assert body["loyaltyPoints"] == {"label": "На счёте",
                                     "balance": {"string": "4\u202f066\u00a0₽"}}
    assert "worth" not in [t["id"] for t in body["textModulesData"]]
    assert google_bodies.shown_balance(body) == google_bodies.balance_shown(shown)
    assert google_bodies.news(shown, tier_changed=False) == "Баланс: 4\u202f066\u00a0₽"
    english = wallet_cards.view(db, shop.id, member, lang="en")
    assert english.points_text == "₽4,066"
