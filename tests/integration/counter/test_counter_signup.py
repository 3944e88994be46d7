"""Signing a customer up at the counter: the personal-data consent the customer ticks on
the turned screen is recorded with its text version, the channel and the cashier; the
advertising consent separately; an optional referrer by code or phone. Bad input is
refused with its message and writes nothing."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.integration.counter.conftest import post, url
from tests.web_client import csrf, page_text
from webapp.domain.actor import Actor
from webapp.domain.clock import utcnow
from webapp.domain.consent import TEXTS, ConsentKind
from webapp.persistence.models import AuditEvent, Consent, Customer, StaffUser
from webapp.services.business import setup as businesses
from webapp.services.customers import accounts as customers

NEW_PHONE = "+79165550102"
NO_CONSENT = "Без согласия на обработку персональных данных записать клиента нельзя"
NO_REFERRER = "Того, кто пригласил, не нашли: проверьте код приглашения или телефон."


def count(app: Any, what: Any) -> int:
    return int(app.test_session().scalar(select(func.count()).select_from(what)) or 0)


def newcomer(app: Any) -> Customer | None:
    found: Customer | None = app.test_session().scalar(
        select(Customer).where(Customer.phone == NEW_PHONE))
    return found


def consents_of(app: Any, customer_id: int) -> list[Consent]:
    return list(app.test_session().scalars(select(Consent).where(
        Consent.customer_id == customer_id).order_by(Consent.id)))


def cashier_id(app: Any) -> int:
    return int(app.test_session().scalar(select(StaffUser.id).where(StaffUser.login == "cashier")))


def test_the_data_consent_is_recorded_with_its_version_channel_and_cashier(
        app: Any, cashier: Any, shop: SimpleNamespace) -> None:
    before = utcnow()
    joined = post(cashier, shop, "/join", phone="8 916 555-01-02", name="Пётр",
                  data_consent="yes", ad_consent="yes")
    assert joined.status_code == 200, joined.get_json()
    made = newcomer(app)
    assert made is not None and joined.get_json()["url"] == url(shop, f"/customers/{made.id}")
    rows = consents_of(app, made.id)
    assert [(c.kind, c.granted, c.text_version, c.channel, c.staff_id) for c in rows] == [
        ("personal_data", True, TEXTS[ConsentKind.PERSONAL_DATA].version, "counter",
         cashier_id(app)),
        ("advertising", True, TEXTS[ConsentKind.ADVERTISING].version, "counter",
         cashier_id(app))]
    assert all(before <= c.at <= utcnow() for c in rows)
    assert made.marketing_consent and made.marketing_consent_at is not None
    event = app.test_session().scalar(select(AuditEvent).where(
        AuditEvent.action == "counter.join"))
    assert (event.customer_id, event.staff_id, event.branch_id) == (
        made.id, cashier_id(app), shop.centre)
    assert '"confirmed_by": "screen"' in event.details


def test_without_the_advertising_tick_only_the_data_consent_is_recorded(
        app: Any, cashier: Any, shop: SimpleNamespace) -> None:
    assert post(cashier, shop, "/join", phone=NEW_PHONE, data_consent="yes").status_code == 200
    made = newcomer(app)
    assert made is not None and not made.marketing_consent
    assert [c.kind for c in consents_of(app, made.id)] == ["personal_data"]


def test_without_the_data_consent_nobody_is_signed_up(app: Any, cashier: Any,
                                                      shop: SimpleNamespace) -> None:
    refused = post(cashier, shop, "/join", phone=NEW_PHONE, ad_consent="yes")
    assert refused.status_code == 422
    assert refused.get_json()["code"] == "counter_consent_required"
    assert NO_CONSENT in refused.get_json()["detail"]
    # The page's own form (no script): the scan page again, with the reason and the phone.
    page = cashier.post(url(shop, "/join"), data={"csrf_token": csrf(cashier, url(shop)),
                                                  "phone": NEW_PHONE, "name": "Пётр"})
    assert page.status_code == 422
    text = page_text(page)
    assert NO_CONSENT in text and f'value="{NEW_PHONE}"' in text and 'value="Пётр"' in text
    assert newcomer(app) is None
    assert count(app, Consent) == count(app, AuditEvent) == 0


def test_a_referrer_by_code_or_phone_makes_the_newcomer_their_referral(
        app: Any, cashier: Any, shop: SimpleNamespace, regular: SimpleNamespace) -> None:
    code = app.test_session().get(Customer, regular.id).referral_code
    assert post(cashier, shop, "/join", phone=NEW_PHONE, data_consent="yes",
                referrer=f" {code.lower()} ").status_code == 200
    made = newcomer(app)
    assert made is not None and made.referred_by_id == regular.id
    by_phone = post(cashier, shop, "/join", phone="+79165550103", data_consent="yes",
                    referrer="8 (916) 123-45-67")  # the regular's phone, as said aloud
    assert by_phone.status_code == 200
    second = app.test_session().scalar(select(Customer).where(Customer.phone == "+79165550103"))
    assert second.referred_by_id == regular.id


@pytest.mark.parametrize("referrer", ["ZZZZZZ", "+79990001122", "x" * 40, "foreign"])
def test_an_unknown_referrer_is_refused_and_nothing_is_written(
        app: Any, cashier: Any, shop: SimpleNamespace, regular: SimpleNamespace,
        referrer: str) -> None:
    if referrer == "foreign":  # another business's customer's code is unknown here
        other = businesses.create_business(app.test_session(), name="Чужой сервис").id
        referrer = customers.join(app.test_session(), Actor.system(other),
                                  phone="+79160000001").customer.referral_code
    before = count(app, Customer)
    refused = post(cashier, shop, "/join", phone=NEW_PHONE, data_consent="yes",
                   ad_consent="yes", referrer=referrer)
    assert refused.status_code == 422
    assert refused.get_json()["detail"] == NO_REFERRER
    assert newcomer(app) is None and count(app, Customer) == before
    assert count(app, Consent) == count(app, AuditEvent) == 0


def test_a_customer_found_by_phone_gets_the_consent_they_lacked_once(
        app: Any, cashier: Any, shop: SimpleNamespace, regular: SimpleNamespace) -> None:
    # The regular joined before consents were taken at the counter: none on record.
    assert consents_of(app, regular.id) == []
    for _ in range(2):
        found = post(cashier, shop, "/join", phone=regular.phone, data_consent="yes")
        assert found.get_json()["url"] == url(shop, f"/customers/{regular.id}")
    rows = consents_of(app, regular.id)
    assert [(c.kind, c.channel, c.staff_id) for c in rows] == [
        ("personal_data", "counter", cashier_id(app))]
    assert count(app, AuditEvent) == 1


def test_a_search_that_finds_nobody_offers_the_sign_up_with_its_consents(
        cashier: Any, shop: SimpleNamespace) -> None:
    page = page_text(cashier.get(url(shop, "/search"), query_string={"q": "9999"}))
    assert "Никого не нашли" in page
    form = page.split('id="join-form"', 1)[1].split("</form>", 1)[0]
    assert f'action="{url(shop, "/join")}"' in form
    assert 'name="data_consent" value="yes" required' in form
    assert TEXTS[ConsentKind.PERSONAL_DATA].text in form and 'name="referrer"' in form
