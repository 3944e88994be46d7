"""The customer's own profile (services.customer_profile): edits, vehicles, consents,
the data export and deleting the account, on a customer signed in through the app."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.integration.customer.conftest import PHONE, signed_in
from webapp.domain.actor import Actor
from webapp.domain.clock import utcnow
from webapp.domain.errors import Conflict, IdempotencyConflict, InvalidInput, NotFound
from webapp.domain.ledger import OperationKind as Op
from webapp.persistence.models import (
    Asset,
    Consent,
    Customer,
    CustomerSession,
    Operation,
    OutboxMessage,
)
from webapp.services.counter import orders
from webapp.services.customers import profile as profiles
from webapp.services.customers.sign_in import Who
from webapp.services.ledger import balances
from webapp.services.ledger import invariants as ledger_check
from webapp.services.ledger import operations as ledger
from webapp.services.notify import outbox

OTHER = "+79167654321"


def who_of(app: Any, business_id: int, phone: str = PHONE) -> Who:
    """The Who of the customer's newest device session, as customer_sign_in.load gives it."""
    db = app.test_session()
    customer_id = db.scalar(select(Customer.id).where(Customer.phone == phone))
    assert customer_id is not None
    session_id = db.scalar(select(func.max(CustomerSession.id))
                           .where(CustomerSession.customer_id == customer_id))
    db.rollback()
    return Who(customer_id, business_id, session_id)


def row(app: Any, customer_id: int) -> Customer:
    db = app.test_session()
    db.expire_all()
    found = db.get(Customer, customer_id)
    assert found is not None
    return found


def available(app: Any, business_id: int, customer_id: int) -> int:
    return balances.balance(app.test_session(), Actor.system(business_id), customer_id).available


def enqueue(app: Any, customer_id: int, purpose: str) -> int:
    db = app.test_session()
    outbox.enqueue_sms(db, phone=PHONE, text=f"{purpose} text", purpose=purpose,
                       customer_id=customer_id)
    db.commit()
    newest = db.scalar(select(func.max(OutboxMessage.id)))
    assert newest is not None
    return newest


def message(app: Any, message_id: int) -> tuple[str, str | None]:
    db = app.test_session()
    db.expire_all()
    found = db.get(OutboxMessage, message_id)
    assert found is not None
    return found.status, found.last_error


@pytest.fixture
def me(app: Any, shop: SimpleNamespace, ivan: Any) -> Who:
    return who_of(app, shop.id)


@pytest.fixture
def stranger(app: Any, shop: SimpleNamespace) -> Who:
    signed_in(app, shop.id, OTHER)
    return who_of(app, shop.id, OTHER)


# -- the profile and its edits -------------------------------------------------------------


def test_the_profile_shows_the_masked_phone_card_assets_and_consents(
        app: Any, shop: SimpleNamespace) -> None:
    signed_in(app, shop.id, advertising=True)
    me = who_of(app, shop.id)
    profiles.add_asset(app.test_session(), me, "plate", "а123вс 77", "Лада")
    seen = profiles.profile(app.test_session(), me)
    assert seen.phone_hint == "•••-45-67" and PHONE not in repr(seen)
    assert seen.card_number.replace(" ", "") == row(app, me.customer_id).card_number
    assert [(a.kind, a.value, a.label) for a in seen.assets] == [("plate", "а123вс 77", "Лада")]
    assert seen.consents.personal_data and seen.consents.advertising
    assert seen.name is None and seen.birthday is None


def test_update_trims_the_name_and_takes_a_date_or_an_iso_string(app: Any, me: Who) -> None:
    seen = profiles.update(app.test_session(), me, name="  Иван Петров ", birthday="1990-05-31")
    assert (seen.name, seen.birthday) == ("Иван Петров", date(1990, 5, 31))
    seen = profiles.update(app.test_session(), me, name="   ", birthday=date(1985, 1, 2))
    assert (seen.name, seen.birthday) == (None, date(1985, 1, 2))
    seen = profiles.update(app.test_session(), me, name="Иван", birthday="")
    assert (row(app, me.customer_id).name, row(app, me.customer_id).birthday) == ("Иван", None)


@pytest.mark.parametrize(("name", "birthday", "says"), [
    ("я" * 201, None, "name_too_long"),
    (42, None, "name_not_text"),
    ("Иван", "31.05.1990", "birthday_malformed"),
    ("Иван", 19900531, "birthday_malformed"),
    ("Иван", date(1899, 12, 31), "birthday_before_1900"),
    ("Иван", date.today() + timedelta(days=2), "birthday_in_future"),
])
def test_bad_input_is_refused_and_changes_nothing(app: Any, me: Who, name: Any, birthday: Any,
                                                  says: str) -> None:
    profiles.update(app.test_session(), me, name="Иван", birthday=date(1990, 5, 31))
    with pytest.raises(InvalidInput, match=says):
        profiles.update(app.test_session(), me, name=name, birthday=birthday)
    customer = row(app, me.customer_id)
    assert (customer.name, customer.birthday) == ("Иван", date(1990, 5, 31))


def test_the_future_is_counted_by_the_business_calendar(app: Any, me: Who) -> None:
    late_evening_utc = datetime(2026, 5, 31, 22, 30, tzinfo=UTC)  # 1 June in Moscow
    seen = profiles.update(app.test_session(), me, name=None, birthday=date(2026, 6, 1),
                           now=late_evening_utc)
    assert seen.birthday == date(2026, 6, 1)
    with pytest.raises(InvalidInput, match="birthday_in_future"):
        profiles.update(app.test_session(), me, name=None, birthday=date(2026, 6, 2),
                        now=late_evening_utc)


# -- vehicles and devices ------------------------------------------------------------------


def test_assets_are_added_and_removed(app: Any, me: Who) -> None:
    added = profiles.add_asset(app.test_session(), me, "vin", "XTA21099043123456", " Нива ")
    assert (added.kind, added.label) == ("vin", "Нива")
    profiles.remove_asset(app.test_session(), me, added.id)
    assert profiles.profile(app.test_session(), me).assets == []


@pytest.mark.parametrize(("kind", "value", "label"), [
    ("boat", "A123", None), ("imei", "123", None), ("plate", "A" + " " * 70 + "1", None),
    ("plate", "A123BC77", "x" * 201),
])
def test_a_bad_asset_is_refused_and_nothing_is_added(app: Any, me: Who, kind: str, value: str,
                                                     label: str | None) -> None:
    with pytest.raises(InvalidInput):
        profiles.add_asset(app.test_session(), me, kind, value, label)
    assert app.test_session().scalar(select(func.count(Asset.id))) == 0


def test_another_customers_asset_is_not_found(app: Any, me: Who, stranger: Who) -> None:
    theirs = profiles.add_asset(app.test_session(), stranger, "plate", "B456EK99")
    with pytest.raises(NotFound):
        profiles.remove_asset(app.test_session(), me, theirs.id)
    with pytest.raises(NotFound):
        profiles.remove_asset(app.test_session(), me, 999_999)
    assert [a.id for a in profiles.profile(app.test_session(), stranger).assets] == [theirs.id]


def test_an_asset_in_the_order_history_stays(app: Any, shop: SimpleNamespace, me: Who) -> None:
    car = profiles.add_asset(app.test_session(), me, "plate", "A123BC77")
    orders.close_order(app.test_session(), shop.owner, "order-with-car", customer_id=me.customer_id,
                       branch_id=shop.centre, total_minor=150_000, asset_id=car.id)
    with pytest.raises(Conflict, match="asset_in_history"):
        profiles.remove_asset(app.test_session(), me, car.id)
    assert [a.id for a in profiles.profile(app.test_session(), me).assets] == [car.id]


# -- advertising consent -------------------------------------------------------------------


def test_withdrawing_advertising_fails_queued_marketing_at_once(app: Any, me: Who,
                                                                stranger: Who) -> None:
    state = profiles.set_advertising(app.test_session(), me, True, ip="192.0.2.9")
    assert state.advertising and row(app, me.customer_id).marketing_consent
    advert, service = enqueue(app, me.customer_id, "advertising"), enqueue(app, me.customer_id,
                                                                           "service")
    profiles.set_advertising(app.test_session(), stranger, True, ip=None)
    theirs = enqueue(app, stranger.customer_id, "advertising")
    state = profiles.set_advertising(app.test_session(), me, False, ip="192.0.2.9")
    assert not state.advertising and not row(app, me.customer_id).marketing_consent
    assert message(app, advert) == ("failed", "advertising consent withdrawn")
    assert message(app, service) == ("pending", None)
    assert message(app, theirs) == ("pending", None)
    newest = app.test_session().scalars(select(Consent).where(
        Consent.customer_id == me.customer_id).order_by(Consent.id.desc())).first()
    assert (newest.kind, newest.granted, newest.channel, newest.ip) == (
        "advertising", False, "pwa", "192.0.2.9")


def test_consent_must_be_a_yes_or_a_no(app: Any, me: Who) -> None:
    before = app.test_session().scalar(select(func.count(Consent.id)))
    with pytest.raises(InvalidInput):
        profiles.set_advertising(app.test_session(), me, "yes", ip=None)  # type: ignore[arg-type]
    assert app.test_session().scalar(select(func.count(Consent.id))) == before


# -- the export ----------------------------------------------------------------------------


def test_the_export_holds_everything_about_the_person_and_nothing_else(
        app: Any, shop: SimpleNamespace, me: Who, stranger: Who) -> None:
    profiles.update(app.test_session(), me, name="Иван", birthday=date(1990, 5, 31))
    car = profiles.add_asset(app.test_session(), me, "plate", "A123BC77", "Лада")
    mine = orders.close_order(app.test_session(), shop.owner, "export-order-1",
                              customer_id=me.customer_id, branch_id=shop.centre,
                              total_minor=150_000, accrue_points=75, asset_id=car.id)
    profiles.add_asset(app.test_session(), stranger, "plate", "B456EK99")
    theirs = orders.close_order(app.test_session(), shop.owner, "export-order-2",
                                customer_id=stranger.customer_id, branch_id=shop.centre,
                                total_minor=99_000, accrue_points=10)
    data = profiles.export(app.test_session(), me)
    text = json.dumps(data, ensure_ascii=False)  # JSON-ready as it is
    assert data["profile"]["name"] == "Иван" and data["profile"]["birthday"] == "1990-05-31"
    assert data["profile"]["phone"] == PHONE
    assert data["assets"] == [{"id": car.id, "kind": "plate", "value": "A123BC77",
                               "label": "Лада"}]
    assert [(c["kind"], c["granted"], c["channel"]) for c in data["consents"]] == [
        ("personal_data", True, "pwa")]
    assert data["consents"][0]["version"] and data["consents"][0]["ip"] == "192.0.2.1"
    [device] = data["sessions"]
    assert device["revoked_at"] is None and datetime.fromisoformat(device["created_at"])
    [order] = data["orders"]
    assert (order["id"], order["branch"], order["total_minor"], order["status"]) == (
        mine["order_id"], "Центр", 150_000, "closed")
    assert datetime.fromisoformat(order["closed_at"])
    kinds = [(p["kind"], p["points"]) for p in data["points"]]
    assert kinds == [("accrual", 100), ("accrual", 75)]  # the welcome bonus, then the order
    assert data["points"][1]["description"] == f"Начислено 75 за заказ №{mine['order_id']}"
    assert OTHER not in text and "B456EK99" not in text
    assert theirs["order_id"] not in [o["id"] for o in data["orders"]]


def test_another_business_cannot_be_reached_with_a_forged_who(app: Any, me: Who) -> None:
    forged = Who(me.customer_id, me.business_id + 1, me.session_id)
    with pytest.raises(NotFound):
        profiles.export(app.test_session(), forged)
    with pytest.raises(NotFound):
        profiles.delete_account(app.test_session(), forged, "delete-forged-1", confirm="delete",
                                ip=None)
    assert row(app, me.customer_id).status == "active"


# -- deleting the account ------------------------------------------------------------------


@pytest.mark.parametrize("word", ["", "да", "delete me", None])
def test_deleting_needs_the_confirmation_word(app: Any, shop: SimpleNamespace, me: Who,
                                             word: Any) -> None:
    with pytest.raises(InvalidInput, match="delete_word_missing"):
        profiles.delete_account(app.test_session(), me, "delete-key-1", confirm=word, ip=None)
    customer = row(app, me.customer_id)
    assert (customer.status, customer.phone) == ("active", PHONE)
    assert available(app, shop.id, me.customer_id) == 100


def test_deleting_forfeits_points_anonymises_and_signs_out(app: Any, shop: SimpleNamespace,
                                                          ivan: Any, me: Who,
                                                          stranger: Who) -> None:
    db, now = app.test_session(), utcnow()
    profiles.update(db, me, name="Иван", birthday=date(1990, 5, 31))
    car = profiles.add_asset(db, me, "plate", "A123BC77")
    phone = profiles.add_asset(db, me, "imei", "490154203237518")
    orders.close_order(db, shop.owner, "delete-order-1", customer_id=me.customer_id,
                       branch_id=shop.centre, total_minor=150_000, accrue_points=75,
                       asset_id=car.id)
    # Points whose expiry has passed (not yet run) and a hold still pending.
    ledger.accrue(db, Actor.system(shop.id), "old-points-1", customer_id=me.customer_id,
                  points=30, expires_at=now - timedelta(hours=1), now=now - timedelta(days=60))
    ledger.hold(db, Actor.system(shop.id), "held-points-1", customer_id=me.customer_id,
                points=40, release_at=now + timedelta(days=14))
    queued = enqueue(app, me.customer_id, "service")
    secret = row(app, me.customer_id).checkin_secret
    ops_before = db.scalar(select(func.count(Operation.id)))

    closed = profiles.delete_account(db, me, "delete-key-1", confirm="  Удалить ", ip="192.0.2.7")

    assert closed.forfeited == 175 and closed.operation_id is not None
    balance = balances.balance(db, Actor.system(shop.id), me.customer_id)
    assert (balance.available, balance.pending) == (0, 0)
    assert ledger_check.check(db).ok
    kinds = db.scalars(select(Operation.kind).where(Operation.customer_id == me.customer_id)
                       .order_by(Operation.id)).all()
    assert kinds[-3:] == [Op.EXPIRY, Op.CANCEL, Op.ADJUSTMENT]
    assert db.scalar(select(func.count(Operation.id))) == ops_before + 3  # history stays
    adjustment = db.get(Operation, closed.operation_id)
    assert adjustment is not None
    assert (adjustment.points, adjustment.reason) == (-175, "account deleted")
    customer = row(app, me.customer_id)
    assert customer.status == "deleted" and customer.anonymised_at is not None
    assert (customer.name, customer.birthday) == (None, None)
    assert customer.phone == f"+000{me.customer_id:012d}" and len(customer.phone) == 16
    assert customer.checkin_secret != secret and not customer.marketing_consent
    assert None not in db.scalars(select(CustomerSession.revoked_at).where(
        CustomerSession.customer_id == me.customer_id)).all()
    assert ivan.get(f"/c/{shop.id}/").location == f"/c/{shop.id}/sign-in"
    newest = {c.kind: c for c in db.scalars(select(Consent).where(
        Consent.customer_id == me.customer_id).order_by(Consent.id))}
    assert not newest["personal_data"].granted and not newest["advertising"].granted
    assert newest["personal_data"].channel == "pwa" and newest["personal_data"].ip == "192.0.2.7"
    assert message(app, queued) == ("failed", "account deleted")
    left = db.scalars(select(Asset).where(Asset.customer_id == me.customer_id)).all()
    assert [(a.id, a.value, a.search_key, a.label) for a in left] == [
        (car.id, "deleted", "", None)]  # the order keeps it, anonymised; the phone is gone
    assert db.get(Asset, phone.id) is None
    assert row(app, stranger.customer_id).status == "active"  # nobody else is touched
    assert available(app, shop.id, stranger.customer_id) == 100


def test_deleting_again_with_the_key_forfeits_nothing_more(app: Any, shop: SimpleNamespace,
                                                          me: Who) -> None:
    first = profiles.delete_account(app.test_session(), me, "delete-key-1", confirm="delete",
                                    ip=None)
    operations = app.test_session().scalar(select(func.count(Operation.id)))
    again = profiles.delete_account(app.test_session(), me, "delete-key-1", confirm="delete",
                                    ip=None)
    assert again == first and first.forfeited == 100
    later = profiles.withdraw_data_consent(app.test_session(), me, "delete-key-2",
                                           confirm="удалить", ip=None)
    assert later.forfeited == 0 and later.operation_id is None
    assert app.test_session().scalar(select(func.count(Operation.id))) == operations
    assert ledger_check.check(app.test_session()).ok


def test_a_key_used_for_something_else_is_a_conflict(app: Any, shop: SimpleNamespace,
                                                     me: Who) -> None:
    ledger.accrue(app.test_session(), Actor.system(shop.id), "shared-key-1",
                  customer_id=me.customer_id, points=5)
    with pytest.raises(IdempotencyConflict):
        profiles.delete_account(app.test_session(), me, "shared-key-1", confirm="delete",
                                ip=None)
    assert row(app, me.customer_id).status == "active"


def test_no_points_means_no_ledger_write(app: Any, shop: SimpleNamespace, me: Who) -> None:
    ledger.redeem(app.test_session(), Actor.system(shop.id), "spend-all-1",
                  customer_id=me.customer_id, points=100)
    closed = profiles.delete_account(app.test_session(), me, "delete-key-1", confirm="DELETE",
                                     ip=None)
    assert (closed.forfeited, closed.operation_id) == (0, None)
    assert app.test_session().scalar(select(func.count(Operation.id)).where(
        Operation.customer_id == me.customer_id, Operation.kind == Op.ADJUSTMENT)) == 0
    assert row(app, me.customer_id).status == "deleted"


def test_signing_in_again_with_the_phone_makes_a_new_customer(app: Any, shop: SimpleNamespace,
                                                             me: Who) -> None:
    profiles.delete_account(app.test_session(), me, "delete-key-1", confirm="delete", ip=None)
    again = signed_in(app, shop.id)
    assert again.get(f"/c/{shop.id}/").status_code == 200
    fresh = who_of(app, shop.id)
    assert fresh.customer_id != me.customer_id
    assert row(app, fresh.customer_id).status == "active"
    assert available(app, shop.id, fresh.customer_id) == 100  # a newcomer's welcome bonus
    assert ledger_check.check(app.test_session()).ok


def test_withdrawing_the_data_consent_deletes_the_account(app: Any, shop: SimpleNamespace,
                                                         ivan: Any, me: Who) -> None:
    advert = enqueue(app, me.customer_id, "advertising")
    closed = profiles.withdraw_data_consent(app.test_session(), me, "withdraw-key-1",
                                            confirm="delete", ip="192.0.2.8")
    assert closed.forfeited == 100
    customer = row(app, me.customer_id)
    assert customer.status == "deleted" and customer.phone.startswith("+000")
    assert message(app, advert) == ("failed", "data consent withdrawn")
    assert ivan.get(f"/c/{shop.id}/").location == f"/c/{shop.id}/sign-in"
    with pytest.raises(NotFound):
        profiles.profile(app.test_session(), me)
