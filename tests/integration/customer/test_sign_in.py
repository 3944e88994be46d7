"""Signing in to the customer app with a texted code: joining, wrong codes, expiry,
replay, brute force, enumeration, rate limits, consents and device sessions."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from tests.integration.customer.conftest import (
    PHONE,
    ask_code,
    deliver,
    send_code,
    signed_in,
    texted_code,
)
from tests.web_client import csrf
from webapp.domain import one_time_codes
from webapp.domain.clock import utcnow
from webapp.persistence.models import (
    Consent,
    Customer,
    CustomerSession,
    OutboxMessage,
    SignInCode,
)
from webapp.services.customers import code_limits as sign_in_code_limits
from webapp.services.customers import sign_in as customer_sign_in
from webapp.services.customers.sign_in import SignInCodeUnusable, WrongSignInCode


def count(app: Any, model: Any) -> int:
    return app.test_session().scalar(select(func.count()).select_from(model)) or 0


def test_a_new_phone_joins_with_its_consents_and_sees_the_welcome_bonus(
        app: Any, shop: SimpleNamespace) -> None:
    client = signed_in(app, shop.id, advertising=True)
    page = client.get(f"/c/{shop.id}/").get_data(as_text=True)
    assert "100 баллов" in page  # the DEMO program's welcome bonus
    customer = app.test_session().scalar(select(Customer).where(Customer.phone == PHONE))
    assert customer is not None and customer.card_number in page
    consents = app.test_session().scalars(select(Consent).where(
        Consent.customer_id == customer.id).order_by(Consent.id)).all()
    assert [(c.kind, c.granted, c.channel, c.ip) for c in consents] == [
        ("personal_data", True, "pwa", "192.0.2.1"), ("advertising", True, "pwa", "192.0.2.1")]
    assert all(c.text_version for c in consents)
    assert customer.marketing_consent


def test_advertising_consent_is_separate_and_optional(app: Any, shop: SimpleNamespace) -> None:
    signed_in(app, shop.id)
    customer = app.test_session().scalar(select(Customer).where(Customer.phone == PHONE))
    assert customer is not None and not customer.marketing_consent
    kinds = app.test_session().scalars(select(Consent.kind).where(
        Consent.customer_id == customer.id)).all()
    assert kinds == ["personal_data"]


def test_a_customer_signs_in_again_without_joining_twice(app: Any, shop: SimpleNamespace,
                                                         ivan: Any) -> None:
    again = signed_in(app, shop.id)
    assert again.get(f"/c/{shop.id}/").status_code == 200
    assert count(app, Customer) == 1
    assert count(app, CustomerSession) == 2
    assert count(app, Consent) == 1  # consent already on record is not recorded again


def test_the_answer_is_the_same_for_customers_and_strangers(app: Any, shop: SimpleNamespace,
                                                           ivan: Any) -> None:
    known = ask_code(app.test_client(), shop.id, PHONE, ip="192.0.2.7")
    stranger = ask_code(app.test_client(), shop.id, "+79167654321", ip="192.0.2.8")
    assert (known.status_code, known.location) == (stranger.status_code, stranger.location)
    deliver(app)
    assert app.extensions["regulars_sms"].last_to("+79167654321")  # a newcomer gets a code too
    assert count(app, Customer) == 1  # nobody joins before the code is typed


def test_the_code_is_texted_by_the_worker_not_by_the_page(app: Any,
                                                          shop: SimpleNamespace) -> None:
    assert ask_code(app.test_client(), shop.id).status_code == 302
    assert app.extensions["regulars_sms"].last_to(PHONE) is None
    pending = app.test_session().scalar(select(OutboxMessage))
    assert pending is not None and pending.status == "pending" and pending.purpose == "service"
    assert deliver(app).sent == 1
    assert app.extensions["regulars_sms"].last_to(PHONE)


def test_a_wrong_code_says_how_many_attempts_are_left_and_signs_nobody_in(
        app: Any, shop: SimpleNamespace) -> None:
    client = app.test_client()
    ask_code(client, shop.id)
    right = texted_code(app)
    wrong = "000000" if right != "000000" else "111111"
    answer = send_code(client, shop.id, wrong)
    assert answer.status_code == 422
    assert "Неверный код. Осталось попыток: 4." in answer.get_data(as_text=True)
    assert client.get(f"/c/{shop.id}/").status_code == 302
    assert count(app, CustomerSession) == 0


def test_five_wrong_codes_use_the_code_up(app: Any, shop: SimpleNamespace) -> None:
    client = app.test_client()
    ask_code(client, shop.id)
    right = texted_code(app)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(one_time_codes.ATTEMPTS):
        assert send_code(client, shop.id, wrong).status_code in (409, 422)
    answer = send_code(client, shop.id, right)
    assert answer.status_code == 409
    assert "Код больше не действует: запросите новый." in answer.get_data(as_text=True)
    assert count(app, CustomerSession) == 0


def test_an_expired_code_is_refused(app: Any, shop: SimpleNamespace) -> None:
    db = app.test_session()
    asked = customer_sign_in.request_code(db, shop.id, PHONE, ip=None, data_consent=True)
    code = texted_code(app)
    later = asked.expires_at + timedelta(seconds=1)
    with pytest.raises(SignInCodeUnusable):
        customer_sign_in.verify_code(db, shop.id, asked.request_id, code, ip=None,
                                     device=None, now=later)
    assert count(app, Customer) == 0


def test_a_code_signs_in_once(app: Any, shop: SimpleNamespace) -> None:
    db = app.test_session()
    asked = customer_sign_in.request_code(db, shop.id, PHONE, ip=None, data_consent=True)
    code = texted_code(app)
    customer_sign_in.verify_code(db, shop.id, asked.request_id, code, ip=None, device=None)
    with pytest.raises(SignInCodeUnusable):
        customer_sign_in.verify_code(db, shop.id, asked.request_id, code, ip=None, device=None)
    assert count(app, CustomerSession) == 1


def test_a_code_of_another_business_is_refused(app: Any, shop: SimpleNamespace) -> None:
    from webapp.services.business import setup as businesses

    other = businesses.create_business(app.test_session(), name="Другой сервис")
    db = app.test_session()
    asked = customer_sign_in.request_code(db, shop.id, PHONE, ip=None, data_consent=True)
    code = texted_code(app)
    with pytest.raises(SignInCodeUnusable):
        customer_sign_in.verify_code(db, other.id, asked.request_id, code, ip=None, device=None)


def test_guessing_is_hopeless_within_the_limits(app: Any, shop: SimpleNamespace) -> None:
    """5 codes an hour with 5 attempts each: 25 guesses of a million an hour."""
    db = app.test_session()
    for _ in range(sign_in_code_limits.PER_PHONE_PER_HOUR):
        asked = customer_sign_in.request_code(db, shop.id, PHONE, ip=None, data_consent=True)
        for guess in range(one_time_codes.ATTEMPTS):
            with pytest.raises((WrongSignInCode, SignInCodeUnusable)):
                customer_sign_in.verify_code(db, shop.id, asked.request_id,
                                             f"{guess:06d}x", ip=None, device=None)
    with pytest.raises(one_time_codes.TooManyCodes):
        customer_sign_in.request_code(db, shop.id, PHONE, ip=None, data_consent=True)


def test_codes_are_limited_per_phone(app: Any, shop: SimpleNamespace) -> None:
    for n in range(sign_in_code_limits.PER_PHONE_PER_HOUR):
        assert ask_code(app.test_client(), shop.id, ip=f"192.0.2.{n + 10}").status_code == 302
    answer = ask_code(app.test_client(), shop.id, ip="192.0.2.99")
    assert answer.status_code == 429
    assert "Слишком много запросов кода" in answer.get_data(as_text=True)
    assert count(app, SignInCode) == sign_in_code_limits.PER_PHONE_PER_HOUR


def test_codes_are_limited_per_address(app: Any, shop: SimpleNamespace) -> None:
    for n in range(sign_in_code_limits.PER_IP_PER_HOUR):
        phone = f"+7916000{n:04d}"
        assert ask_code(app.test_client(), shop.id, phone).status_code == 302, phone
    answer = ask_code(app.test_client(), shop.id, "+79169999999")
    assert answer.status_code == 429
    assert count(app, OutboxMessage) == sign_in_code_limits.PER_IP_PER_HOUR


def test_the_limits_forget_after_an_hour(app: Any, shop: SimpleNamespace) -> None:
    db = app.test_session()
    earlier = utcnow() - timedelta(hours=1, minutes=1)
    for _ in range(sign_in_code_limits.PER_PHONE_PER_HOUR):
        customer_sign_in.request_code(db, shop.id, PHONE, ip=None, data_consent=True,
                                      now=earlier)
    # An hour on, the phone's full hour no longer counts: a code is sent again.
    asked = customer_sign_in.request_code(db, shop.id, PHONE, ip=None, data_consent=True)
    assert asked.request_id
    assert count(app, SignInCode) == sign_in_code_limits.PER_PHONE_PER_HOUR + 1


@pytest.mark.parametrize(("phone", "consent", "message"), [
    ("12", True, "Такого номера телефона не существует"),
    ("мой телефон", True, "Это не номер телефона"),
    ("", True, "Введите номер телефона"),
    ("+7 916 123-45-67", False, "дайте согласие на обработку персональных данных"),
])
def test_bad_input_is_refused_in_russian_and_changes_nothing(
        app: Any, shop: SimpleNamespace, phone: str, consent: bool, message: str) -> None:
    answer = ask_code(app.test_client(), shop.id, phone, consent=consent)
    assert answer.status_code == 422
    assert message in answer.get_data(as_text=True)
    assert count(app, SignInCode) == count(app, OutboxMessage) == 0


def test_the_code_page_without_a_request_goes_back_to_the_phone(app: Any,
                                                                shop: SimpleNamespace) -> None:
    client = app.test_client()
    assert client.get(f"/c/{shop.id}/code").location == f"/c/{shop.id}/sign-in"


def test_an_unknown_business_is_404(app: Any, shop: SimpleNamespace) -> None:
    client = app.test_client()
    token = csrf(client, f"/c/{shop.id}/sign-in")
    answer = client.post(f"/c/{shop.id + 999}/sign-in",
                         data={"csrf_token": token, "phone": PHONE, "data_consent": "yes"})
    assert answer.status_code == 404


def test_consents_are_append_only(app: Any, shop: SimpleNamespace, ivan: Any) -> None:
    db = app.test_session()
    for statement in ("UPDATE consents SET granted = false", "DELETE FROM consents"):
        with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
            db.execute(text(statement))
    assert count(app, Consent) == 1
