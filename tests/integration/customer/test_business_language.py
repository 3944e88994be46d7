"""Texts sent outside a page (the sign-in SMS, web pushes) speak the business's language:
English for a business with an English locale, Russian otherwise."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from tests.integration.customer.conftest import PHONE, ask_code, send_code, texted_code
from webapp.persistence.models import Customer, CustomerSession, OutboxMessage
from webapp.services.business import setup as businesses
from webapp.services.customers.sign_in import Who
from webapp.services.notify import push, push_messages

SUBSCRIPTION = {"endpoint": "https://push.example.com/v1/language-test", "expirationTime": None,
                "keys": {"p256dh": "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4b"
                                   "jyPjs7Vd8pZGH6SRpkNtoIAiw4",
                         "auth": "BTBZMqHH6r4Tts7J_aSIgg"}}


def _signed_in(app: Any, business_id: int) -> tuple[str, Who]:
    """Sign PHONE in to the business; the SMS it got and who it is now."""
    client = app.test_client()
    assert ask_code(client, business_id).status_code == 302
    code = texted_code(app)
    sms = app.extensions["regulars_sms"].last_to(PHONE)
    assert send_code(client, business_id, code).status_code == 302
    db = app.test_session()
    customer = db.scalar(select(Customer.id).where(Customer.business_id == business_id))
    session_id = db.scalar(select(CustomerSession.id).where(
        CustomerSession.customer_id == customer))
    assert customer is not None and session_id is not None and sms
    return sms, Who(customer, business_id, session_id)


@pytest.fixture
def english_shop(app: Any) -> SimpleNamespace:
    made = businesses.create_business(app.test_session(), name="Corner Garage",
                                      locale="en_GB", branches=["Main"])
    return SimpleNamespace(id=made.id)


@pytest.mark.parametrize(("which", "sms_start", "pushed"), [
    ("english_shop", "is your sign-in code for “Corner Garage”",
     "120 points credited. Balance: 450. Your new level: “Silver”."),
    ("shop", "— код входа в «Гараж на Лесной»",
     "Начислено 120 баллов. Баланс: 450. Ваш новый уровень: «Серебро»."),
])
def test_sms_and_pushes_speak_the_business_language(
        app: Any, request: pytest.FixtureRequest, which: str, sms_start: str,
        pushed: str) -> None:
    business = request.getfixturevalue(which)
    sms, who = _signed_in(app, business.id)
    assert sms_start in sms
    db = app.test_session()
    push.subscribe(db, who, SUBSCRIPTION)
    assert push_messages.on_close(db, who.customer_id, points=120, balance=450,
                                  tier_before=None, tier_after="Серебро" if which == "shop"
                                  else "Silver") == 1
    db.commit()
    [job] = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == push_messages.KIND))
    assert job.payload["body"] == pushed
