"""The limits on texted sign-in codes under attack: parallel requests on the real
database (threads, real commits) never get past a limit, and a flood of new phones from
many addresses uses up the business's cap for newcomers only, telling the owner."""

from __future__ import annotations

import json
from collections import Counter
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tests.concurrency import race, unexpected
from tests.integration.customer.conftest import PHONE, ask_code
from tests.web_client import staff_signed_in
from webapp.domain.actor import Actor
from webapp.domain.clock import utcnow
from webapp.domain.one_time_codes import TooManyCodes
from webapp.persistence.models import AbuseFlag, OutboxMessage, SignInCode
from webapp.services.business import setup as businesses
from webapp.services.customers import accounts as customers
from webapp.services.customers import code_limits as sign_in_code_limits
from webapp.services.customers import sign_in as customer_sign_in
from webapp.services.customers.sign_in import CodeRequested


def open_business(engine: Engine) -> int:
    with Session(engine) as db:
        return businesses.create_business(db, name="Шиномонтаж").id


def ask(db: Session, business_id: int, phone: str, address: str) -> CodeRequested:
    """One request for a code, as the phone form makes it."""
    return customer_sign_in.request_code(db, business_id, phone, ip=address, data_consent=True)


def stored(engine: Engine, model: Any = SignInCode) -> int:
    with Session(engine) as db:
        return db.scalar(select(func.count()).select_from(model)) or 0


def settled(outcomes: list[Any]) -> tuple[int, int]:
    """(codes sent, requests refused); anything else (a deadlock, a 500) fails here."""
    assert unexpected(outcomes, TooManyCodes) == []
    sent = sum(isinstance(o, CodeRequested) for o in outcomes)
    return sent, sum(isinstance(o, TooManyCodes) for o in outcomes)


@pytest.mark.slow
def test_twenty_parallel_requests_for_one_phone_leave_five_codes(fresh_engine: Engine) -> None:
    business_id = open_business(fresh_engine)
    outcomes = race(fresh_engine, 20, lambda db, i: ask(
        db, business_id, PHONE, f"198.51.100.{i + 1}"))
    assert settled(outcomes) == (sign_in_code_limits.PER_PHONE_PER_HOUR,
                                 20 - sign_in_code_limits.PER_PHONE_PER_HOUR)
    assert stored(fresh_engine) == stored(fresh_engine, OutboxMessage) == 5


@pytest.mark.slow
def test_thirty_parallel_requests_from_one_address_leave_twenty_codes(
        fresh_engine: Engine) -> None:
    business_id = open_business(fresh_engine)
    outcomes = race(fresh_engine, 30, lambda db, i: ask(
        db, business_id, f"+7916{i:07d}", "203.0.113.5"))
    assert settled(outcomes) == (sign_in_code_limits.PER_IP_PER_HOUR,
                                 30 - sign_in_code_limits.PER_IP_PER_HOUR)
    assert stored(fresh_engine) == stored(fresh_engine, OutboxMessage) == 20


@pytest.mark.slow
def test_requests_sharing_phones_and_addresses_never_deadlock(fresh_engine: Engine) -> None:
    """Each request locks its phone and its address (and the business for a newcomer):
    48 requests over 6 phones and 2 addresses cross every pair, in both orders."""
    business_id = open_business(fresh_engine)
    outcomes = race(fresh_engine, 48, lambda db, i: ask(
        db, business_id, f"+791600000{i % 6:02d}", f"192.0.2.{i % 2 + 1}"))
    sent, refused = settled(outcomes)
    assert sent + refused == 48 and sent <= 2 * sign_in_code_limits.PER_IP_PER_HOUR
    with Session(fresh_engine) as db:
        rows = db.execute(select(SignInCode.phone, SignInCode.ip)).all()
    assert len(rows) == sent
    assert max(Counter(phone for phone, _ in rows).values()) <= 5
    assert max(Counter(ip for _, ip in rows).values()) <= 20


@pytest.mark.slow
def test_the_cap_for_newcomers_holds_in_parallel_and_flags_once(
        fresh_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sign_in_code_limits, "PER_BUSINESS_PER_HOUR", 10)
    business_id = open_business(fresh_engine)
    outcomes = race(fresh_engine, 20, lambda db, i: ask(
        db, business_id, f"+7916{i:07d}", f"198.51.100.{i + 1}"))
    assert settled(outcomes) == (10, 10)
    assert stored(fresh_engine) == 10
    assert stored(fresh_engine, AbuseFlag) == 1


def test_a_flood_of_new_phones_leaves_customers_able_to_sign_in(
        app: Any, shop: SimpleNamespace) -> None:
    """15 addresses × 20 new phones use up the business's cap: the next newcomer is
    refused, a customer still gets a code, and the owner sees one flag for the hour."""
    db = app.test_session()
    customers.join(db, Actor.system(shop.id), phone=PHONE)
    for n in range(sign_in_code_limits.PER_BUSINESS_PER_HOUR):
        customer_sign_in.request_code(db, shop.id, f"+7917{n:07d}",
                                      ip=f"198.51.100.{n // 20 + 1}", data_consent=True)
    for attempt in range(2):
        refused = ask_code(app.test_client(), shop.id, f"+79180000{attempt:03d}",
                           ip=f"203.0.113.{attempt + 1}")
        assert refused.status_code == 429
        assert "Слишком много запросов кода" in refused.get_data(as_text=True)

    customer = ask_code(app.test_client(), shop.id, PHONE, ip="203.0.113.50")
    assert customer.status_code == 302 and customer.location == f"/c/{shop.id}/code"
    codes = db.scalar(select(func.count()).where(SignInCode.business_id == shop.id))
    assert codes == sign_in_code_limits.PER_BUSINESS_PER_HOUR + 1

    flags = db.scalars(select(AbuseFlag).where(AbuseFlag.business_id == shop.id)).all()
    assert [(f.kind, f.subject, f.status) for f in flags] == [
        ("sign_in_codes_hour", f"business:{shop.id}", "open")]
    assert json.loads(flags[0].details) == {"count": 300, "limit": 300}
    owner = staff_signed_in(app, shop.id, "owner")
    page = owner.get(f"/b/{shop.id}/backoffice/flags").get_data(as_text=True)
    assert "Много запросов кода входа с новых номеров" in page
    assert "300 кодов за час при лимите 300" in page


def test_a_known_phone_is_still_bounded_per_phone_and_per_address(
        app: Any, shop: SimpleNamespace) -> None:
    db = app.test_session()
    customers.join(db, Actor.system(shop.id), phone=PHONE)
    for n in range(sign_in_code_limits.PER_PHONE_PER_HOUR):
        customer_sign_in.request_code(db, shop.id, PHONE, ip=f"192.0.2.{n}", data_consent=True)
    with pytest.raises(TooManyCodes):
        customer_sign_in.request_code(db, shop.id, PHONE, ip="192.0.2.99", data_consent=True)
    assert db.scalar(select(func.count()).select_from(AbuseFlag)) == 0  # not the cap


def test_the_flag_window_is_the_businesss_local_hour(app: Any, shop: SimpleNamespace,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sign_in_code_limits, "PER_BUSINESS_PER_HOUR", 1)
    db = app.test_session()
    now = utcnow().replace(hour=11, minute=30)  # 14:30 in Moscow
    customer_sign_in.request_code(db, shop.id, "+79170000001", ip=None, data_consent=True,
                                  now=now)
    with pytest.raises(TooManyCodes):
        customer_sign_in.request_code(db, shop.id, "+79170000002", ip=None,
                                      data_consent=True, now=now)
    window = db.scalar(select(AbuseFlag.window))
    assert window == f"{now.date().isoformat()}T14"
