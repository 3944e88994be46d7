"""The profile pages as a customer uses them: every form, its refusals in Russian, the
data export and deleting the account (the rules themselves: test_profile_service.py)."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, select

from tests.integration.customer.conftest import PHONE, signed_in
from tests.web_client import csrf
from webapp.persistence.models import Asset, Consent, Customer


def post(client: Any, shop: SimpleNamespace, path: str, **form: str) -> Any:
    token = csrf(client, f"/c/{shop.id}/profile")
    return client.post(f"/c/{shop.id}{path}", data={"csrf_token": token, **form})


def ivan_row(app: Any) -> Customer:
    found = app.test_session().scalar(select(Customer).where(Customer.phone == PHONE))
    assert found is not None
    return found


def test_name_and_birthday_are_saved(app: Any, shop: SimpleNamespace, ivan: Any) -> None:
    answer = post(ivan, shop, "/profile", name="  Иван  ", birthday="1990-05-31")
    assert answer.location == f"/c/{shop.id}/profile"
    page = ivan.get(f"/c/{shop.id}/profile").get_data(as_text=True)
    assert 'value="Иван"' in page and 'value="1990-05-31"' in page


def test_a_future_birthday_is_refused_and_nothing_changes(app: Any, shop: SimpleNamespace,
                                                          ivan: Any) -> None:
    answer = post(ivan, shop, "/profile", name="Иван", birthday="2999-01-01")
    assert answer.status_code == 422
    assert "Дата рождения не может быть в будущем." in answer.get_data(as_text=True)
    row = ivan_row(app)
    assert row.name is None and row.birthday is None


def test_a_vehicle_is_added_and_removed(app: Any, shop: SimpleNamespace, ivan: Any) -> None:
    post(ivan, shop, "/assets", kind="plate", value="а123вс777", label="Лада Веста")
    page = ivan.get(f"/c/{shop.id}/profile").get_data(as_text=True)
    assert "Лада Веста" in page
    asset = app.test_session().scalar(select(Asset.id))
    post(ivan, shop, f"/assets/{asset}/remove")
    assert app.test_session().scalar(select(func.count()).select_from(Asset)) == 0


def test_a_bad_plate_is_refused_in_russian(app: Any, shop: SimpleNamespace, ivan: Any) -> None:
    answer = post(ivan, shop, "/assets", kind="imei", value="12345")
    assert answer.status_code == 422
    assert "IMEI — 15 цифр." in answer.get_data(as_text=True)


def test_another_customers_vehicle_cannot_be_removed(app: Any, shop: SimpleNamespace,
                                                     ivan: Any) -> None:
    other = signed_in(app, shop.id, "+79167654321")
    post(other, shop, "/assets", kind="plate", value="о777оо77")
    asset = app.test_session().scalar(select(Asset.id))
    answer = post(ivan, shop, f"/assets/{asset}/remove")
    assert answer.status_code == 404
    assert app.test_session().scalar(select(func.count()).select_from(Asset)) == 1


def test_advertising_consent_is_given_and_withdrawn(app: Any, shop: SimpleNamespace,
                                                    ivan: Any) -> None:
    post(ivan, shop, "/consents/advertising", granted="yes")
    assert ivan_row(app).marketing_consent
    post(ivan, shop, "/consents/advertising", granted="no")
    assert not ivan_row(app).marketing_consent
    kinds = app.test_session().execute(select(Consent.kind, Consent.granted)
                                       .order_by(Consent.id)).all()
    assert [tuple(k) for k in kinds] == [("personal_data", True), ("advertising", True),
                                         ("advertising", False)]


def test_the_export_is_the_customers_own_data(app: Any, shop: SimpleNamespace,
                                              ivan: Any) -> None:
    signed_in(app, shop.id, "+79167654321")
    answer = ivan.get(f"/c/{shop.id}/export.json")
    assert answer.mimetype == "application/json"
    assert "attachment" in answer.headers["Content-Disposition"]
    assert answer.headers["Cache-Control"] == "private, no-store"
    data = json.loads(answer.get_data(as_text=True))
    assert data["profile"]["phone"] == PHONE
    assert "+79167654321" not in answer.get_data(as_text=True)


def test_the_export_describes_points_in_the_customers_language(app: Any, shop: SimpleNamespace,
                                                               ivan: Any) -> None:
    russian = json.loads(ivan.get(f"/c/{shop.id}/export.json").get_data(as_text=True))
    english = json.loads(ivan.get(f"/c/{shop.id}/export.json?lang=en").get_data(as_text=True))
    said = [p["description"] for p in russian["points"]]
    assert said and all(re.search("[А-Яа-я]", text) for text in said), said
    told = [p["description"] for p in english["points"]]
    assert len(told) == len(said) and not any(re.search("[А-Яа-я]", t) for t in told), told


def test_deleting_needs_the_word_and_then_forgets_the_person(app: Any, shop: SimpleNamespace,
                                                             ivan: Any) -> None:
    refused = post(ivan, shop, "/delete", key="delete-key-0001", confirm="да")
    assert refused.status_code == 422
    assert "введите слово «удалить»" in refused.get_data(as_text=True)
    assert ivan_row(app).status == "active"

    done = post(ivan, shop, "/delete", key="delete-key-0001", confirm="Удалить")
    assert done.location == f"/c/{shop.id}/sign-in?deleted=1"
    assert done.headers["Clear-Site-Data"] == '"cache"'  # not "storage": other businesses'
    assert f"customer-{shop.id}=;" in done.headers["Set-Cookie"]
    assert ivan.get(f"/c/{shop.id}/").location == f"/c/{shop.id}/sign-in"
    assert app.test_session().scalar(select(Customer).where(Customer.phone == PHONE)) is None

    again = signed_in(app, shop.id)  # the same phone joins as a new customer
    assert "100 баллов" in again.get(f"/c/{shop.id}/").get_data(as_text=True)
    assert app.test_session().scalar(select(func.count()).select_from(Customer)) == 2


def test_withdrawing_the_data_consent_closes_the_account_too(app: Any, shop: SimpleNamespace,
                                                            ivan: Any) -> None:
    done = post(ivan, shop, "/delete", key="withdraw-key-01", confirm="удалить", why="consent")
    assert done.location == f"/c/{shop.id}/sign-in?deleted=1"
    assert app.test_session().scalar(select(Customer).where(Customer.phone == PHONE)) is None
    latest = app.test_session().execute(
        select(Consent.kind, Consent.granted).order_by(Consent.id.desc()).limit(2)).all()
    assert {tuple(row) for row in latest} == {("personal_data", False), ("advertising", False)}


def test_deleting_leaves_no_phone_device_or_address_behind(app: Any, shop: SimpleNamespace,
                                                           ivan: Any) -> None:
    from webapp.persistence.models import CustomerSession, OutboxMessage, SignInCode

    signed_in(app, shop.id)  # a second sign-in: its code was texted to the known customer
    post(ivan, shop, "/delete", key="delete-key-0002", confirm="удалить")
    db = app.test_session()
    assert db.scalar(select(func.count()).select_from(SignInCode)) == 0
    assert [m.payload for m in db.scalars(select(OutboxMessage).where(
        OutboxMessage.customer_id.is_not(None)))] == [{"redacted": True}]
    assert PHONE not in json.dumps([m.payload for m in db.scalars(select(OutboxMessage))])
    assert {(s.device, s.ip) for s in db.scalars(select(CustomerSession))} == {(None, None)}
