"""The counter through HTTP: scan, panel, quote, close once, confirm large redemptions,
perks in one tap, notes, joining, and who may open which counter."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.integration.counter.conftest import (
    JSON,
    balance,
    close,
    live_code,
    next_key,
    orders,
    post,
    url,
)
from tests.web_client import csrf, staff_signed_in
from webapp.domain.actor import Actor, Role
from webapp.domain.clock import utcnow
from webapp.domain.presets import PRESETS
from webapp.persistence.models import (
    AuditEvent,
    Branch,
    Customer,
    CustomerNote,
    Operation,
    RedeemConfirmation,
)
from webapp.services.ledger import operations as ledger
from webapp.services.program import versions as programs


def test_a_typed_card_number_opens_the_panel(cashier: Any, shop: Any, regular: Any) -> None:
    response = post(cashier, shop, "/identify", scanned=regular.card)
    assert response.status_code == 200
    panel_url = response.get_json()["url"]
    assert panel_url == url(shop, f"/customers/{regular.id}")
    page = cashier.get(panel_url).get_data(as_text=True).replace("\u202f", " ")
    assert "Иван" in page
    assert "2 100 баллов" in page  # welcome 100 + 2 000
    assert "Базовый" in page  # the next tier and what is missing, in words


@pytest.mark.parametrize("typed", ["123456780", "12345", "R1.garbage", ""])
def test_a_bad_scan_is_refused_with_a_reason(cashier: Any, shop: Any, typed: str) -> None:
    response = post(cashier, shop, "/identify", scanned=typed)
    assert response.status_code in (404, 422)
    assert response.get_json()["detail"]


def test_a_live_code_is_accepted_once(cashier: Any, shop: Any, regular: Any) -> None:
    code = live_code(regular)
    assert post(cashier, shop, "/identify", scanned=code).status_code == 200
    replay = post(cashier, shop, "/identify", scanned=code)
    assert replay.status_code == 409
    assert replay.get_json()["code"] == "checkin_code_used"


def test_the_quote_shows_what_closing_would_do(cashier: Any, shop: Any, regular: Any) -> None:
    response = post(cashier, shop, f"/customers/{regular.id}/quote", total="4500", redeem="0")
    assert response.status_code == 200
    text = response.get_data(as_text=True).replace("\u202f", " ").replace("\u00a0", " ")
    assert "К оплате: <strong>4 500 ₽</strong>" in text
    assert 'data-max-redeem="900"' in text  # 20 % of 4 500 ₽


def test_closing_twice_with_one_key_closes_once(app: Any, cashier: Any, shop: Any,
                                                regular: Any) -> None:
    key = next_key()
    first = close(cashier, shop, regular, key, redeem="500")
    again = close(cashier, shop, regular, key, redeem="500")
    assert first.status_code == again.status_code == 200
    assert first.get_json()["result"]["order_id"] == again.get_json()["result"]["order_id"]
    assert orders(app, regular.id) == 1
    # 2 100 - 500 redeemed + 5 % of (4 500 - 500) = 200 earned
    assert balance(app, shop, regular.id) == 1800
    receipt = cashier.get(first.get_json()["url"]).get_data(as_text=True)
    assert 'data-points="1800"' in receipt


def test_a_different_order_under_a_used_key_is_refused(app: Any, cashier: Any, shop: Any,
                                                       regular: Any) -> None:
    key = next_key()
    assert close(cashier, shop, regular, key).status_code == 200
    other = close(cashier, shop, regular, key, total="9000")
    assert other.status_code == 409
    assert orders(app, regular.id) == 1


@pytest.mark.parametrize(("form", "status"), [
    ({"total": "abc"}, 422), ({"total": "-5"}, 422), ({"total": ""}, 422),
    ({"redeem": "1.5"}, 422), ({"redeem": "5000"}, 422), ({"key": "short"}, 422),
])
def test_bad_orders_change_nothing(app: Any, cashier: Any, shop: Any, regular: Any,
                                   form: dict[str, str], status: int) -> None:
    form.setdefault("key", next_key())
    response = close(cashier, shop, regular, **form)
    assert response.status_code == status
    assert response.get_json()["detail"]
    assert orders(app, regular.id) == 0
    assert balance(app, shop, regular.id) == 2100


def test_a_large_redemption_needs_the_customers_code(app: Any, cashier: Any, shop: Any,
                                                     regular: Any) -> None:
    key = next_key()
    refused = close(cashier, shop, regular, key, total="9000", redeem="1500")
    assert refused.status_code == 409
    assert refused.get_json()["code"] == "confirmation_needed"
    sent = post(cashier, shop, f"/customers/{regular.id}/code", points="1500")
    assert sent.status_code == 200
    confirmation = sent.get_json()["confirmation_id"]
    sms = app.extensions["regulars_sms"].last_to(regular.phone)
    assert sms and "1500" in sms
    code = sms.split()[1].rstrip(":")
    wrong = "000000" if code != "000000" else "111111"
    bad = close(cashier, shop, regular, key, total="9000", redeem="1500",
                confirmation_id=str(confirmation), code=wrong)
    assert bad.status_code == 422
    row = app.test_session().get(RedeemConfirmation, confirmation)
    assert row.attempts == 1 and row.used_at is None
    good = close(cashier, shop, regular, key, total="9000", redeem="1500",
                 confirmation_id=str(confirmation), code=code)
    assert good.status_code == 200, good.get_json()
    assert good.get_json()["result"]["redeemed"] == 1500
    ledger.accrue(app.test_session(), Actor.system(shop.id), "more-points",
                  customer_id=regular.id, points=3000)
    reused = close(cashier, shop, regular, next_key(), total="9000", redeem="1500",
                   confirmation_id=str(confirmation), code=code)
    assert reused.status_code == 409
    assert orders(app, regular.id) == 1


def test_a_live_code_scan_means_the_phone_is_here(app: Any, cashier: Any, shop: Any,
                                                  regular: Any) -> None:
    assert post(cashier, shop, "/identify", scanned=live_code(regular)).status_code == 200
    done = close(cashier, shop, regular, next_key(), total="9000", redeem="1500")
    assert done.status_code == 200, done.get_json()


def test_five_wrong_codes_use_the_confirmation_up(app: Any, cashier: Any, shop: Any,
                                                  regular: Any) -> None:
    sent = post(cashier, shop, f"/customers/{regular.id}/code", points="1500").get_json()
    code = app.extensions["regulars_sms"].last_to(regular.phone).split()[1].rstrip(":")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        close(cashier, shop, regular, next_key(), total="9000", redeem="1500",
              confirmation_id=str(sent["confirmation_id"]), code=wrong)
    late = close(cashier, shop, regular, next_key(), total="9000", redeem="1500",
                 confirmation_id=str(sent["confirmation_id"]), code=code)
    assert late.status_code == 409
    assert orders(app, regular.id) == 0


def test_a_perk_is_used_in_one_tap(app: Any, cashier: Any, shop: Any, regular: Any) -> None:
    assert close(cashier, shop, regular, next_key(), total="30000").status_code == 200
    panel = cashier.get(url(shop, f"/customers/{regular.id}")).get_data(as_text=True)
    assert "Платиновый" in panel and "Выездной ремонт бесплатно" in panel

    def tap(key: str) -> Any:
        return post(cashier, shop, f"/customers/{regular.id}/perk", perk="free_onsite_repair",
                    key=key)

    first = tap("perk-tap-0001")
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["result"]["used"] == ["free_onsite_repair"]
    assert tap("perk-tap-0001").get_json()["result"] == first.get_json()["result"]  # double tap
    assert tap("perk-tap-0002").status_code == 200
    refused = tap("perk-tap-0003")  # two a year
    assert refused.status_code == 422
    assert orders(app, regular.id) == 3


def test_notes_show_on_the_panel(app: Any, cashier: Any, shop: Any, regular: Any) -> None:
    assert post(cashier, shop, f"/customers/{regular.id}/notes",
                text="Лада Веста, масло каждые 8 тыс. км").status_code == 200
    assert post(cashier, shop, f"/customers/{regular.id}/notes", text="  ").status_code == 422
    panel = cashier.get(url(shop, f"/customers/{regular.id}")).get_data(as_text=True)
    assert "Лада Веста, масло каждые 8 тыс. км" in panel
    assert app.test_session().scalar(select(func.count(CustomerNote.id))) == 1


def test_joining_by_phone_opens_the_new_customers_panel(app: Any, cashier: Any,
                                                        shop: Any) -> None:
    joined = post(cashier, shop, "/join", phone="8 (916) 555-01-02", data_consent="yes")
    assert joined.status_code == 200
    again = post(cashier, shop, "/join", phone="+79165550102", data_consent="yes")
    assert joined.get_json()["url"] == again.get_json()["url"]
    made = app.test_session().scalar(select(Customer).where(Customer.phone == "+79165550102"))
    assert made is not None and made.joined_by_staff_id is not None
    bad = post(cashier, shop, "/join", phone="12", data_consent="yes")
    assert bad.status_code == 422
    assert app.test_session().scalar(select(func.count(Customer.id))) == 1


def test_a_close_is_in_the_audit_trail_with_branch_and_device(app: Any, cashier: Any,
                                                              shop: Any, regular: Any) -> None:
    cashier.environ_base.update({"REMOTE_ADDR": "10.0.0.7", "HTTP_USER_AGENT": "Tablet 1"})
    assert close(cashier, shop, regular, next_key()).status_code == 200
    event = app.test_session().scalar(select(AuditEvent).where(AuditEvent.action == "close"))
    assert (event.branch_id, event.ip, event.device) == (shop.centre, "10.0.0.7", "Tablet 1")
    assert event.customer_id == regular.id and event.staff_id is not None


def test_a_cashier_stays_at_their_branch(app: Any, cashier: Any, shop: Any,
                                         regular: Any) -> None:
    north = shop.north
    assert cashier.get(url(shop, branch=north)).status_code == 403
    token = csrf(cashier, url(shop))
    for tail in ("/identify", f"/customers/{regular.id}/close"):
        response = cashier.post(url(shop, tail, north), headers=JSON,
                                data={"csrf_token": token, "scanned": regular.card,
                                      "total": "100", "key": next_key()})
        assert response.status_code == 403
    assert cashier.get(f"/b/{shop.id}/counter").headers["Location"].endswith(url(shop))
    assert cashier.get(f"/b/{shop.id}/backoffice/program").status_code == 403
    assert app.test_session().scalar(select(func.count(Operation.id)).where(
        Operation.kind == "accrual", Operation.order_id.is_not(None))) == 0


def test_another_business_is_not_found(app: Any, cashier: Any, shop: Any) -> None:
    from webapp.services.business import setup as businesses

    other = businesses.create_business(app.test_session(), name="Чужой сервис").id
    assert cashier.get(f"/b/{other}/counter").status_code == 404
    assert cashier.get(f"/b/{shop.id}/counter/999999").status_code == 403  # not theirs
    owner = staff_signed_in(app, shop.id, "owner")
    their_branch = app.test_session().scalar(select(Branch.id).where(Branch.business_id == other))
    assert owner.get(f"/b/{shop.id}/counter/{their_branch}").status_code == 404


def test_another_business_customer_is_not_found(app: Any, cashier: Any, shop: Any) -> None:
    from webapp.services.business import setup as businesses
    from webapp.services.customers import accounts as customers

    other = businesses.create_business(app.test_session(), name="Чужой сервис").id
    made = customers.join(app.test_session(), Actor.system(other),
                          phone="+79160000001").customer
    theirs = SimpleNamespace(id=made.id, card=made.card_number)
    assert cashier.get(url(shop, f"/customers/{theirs.id}")).status_code == 404
    assert post(cashier, shop, "/identify", scanned=theirs.card).status_code == 404
    assert close(cashier, shop, theirs, next_key()).status_code == 404


def test_a_post_without_csrf_is_refused(app: Any, cashier: Any, shop: Any,
                                        regular: Any) -> None:
    response = cashier.post(url(shop, f"/customers/{regular.id}/close"), headers=JSON,
                            data={"total": "100", "key": next_key()})
    assert response.status_code == 400
    assert orders(app, regular.id) == 0


def test_a_manager_and_the_owner_may_open_any_branch(app: Any, shop: Any, member: Any) -> None:
    member(Role.MANAGER, "manager")
    for login in ("manager", "owner"):
        client = staff_signed_in(app, shop.id, login)
        assert client.get(url(shop, branch=shop.north)).status_code == 200


def test_a_close_at_another_business_branch_writes_nothing(app: Any, shop: Any,
                                                           regular: Any) -> None:
    from webapp.services.business import setup as businesses

    other = businesses.create_business(app.test_session(), name="Чужой сервис").id
    their_branch = app.test_session().scalar(select(Branch.id).where(Branch.business_id == other))
    owner = staff_signed_in(app, shop.id, "owner")
    response = owner.post(url(shop, f"/customers/{regular.id}/close", their_branch),
                          headers=JSON, data={"csrf_token": csrf(owner, url(shop)),
                                              "total": "100", "key": next_key()})
    assert response.status_code == 422
    assert orders(app, regular.id) == 0
    assert app.test_session().scalar(select(func.count(AuditEvent.id))) == 0


def test_each_role_sees_the_sections_it_may_open(app: Any, cashier: Any, shop: Any,
                                                 member: Any) -> None:
    sections = ("Касса", "Клиенты", "Флаги", "Программа", "Сотрудники")

    def shown(client: Any) -> list[str]:
        nav = client.get(url(shop)).get_data(as_text=True).split('class="staff-nav"')[1]
        nav = nav.split("</nav>")[0]
        return [name for name in sections if f">{name}</a>" in nav]

    member(Role.MANAGER, "manager")
    assert shown(cashier) == ["Касса"]
    assert shown(staff_signed_in(app, shop.id, "manager")) == ["Касса", "Клиенты", "Флаги"]
    assert shown(staff_signed_in(app, shop.id, "owner")) == list(sections)


def test_a_cashback_balance_reads_as_money_at_the_counter(app: Any, cashier: Any, shop: Any,
                                                          regular: Any) -> None:
    programs.save(app.test_session(), shop.owner, "cashback-panel",
                  settings=replace(PRESETS["cashback_5_50"], expiry_months=None),
                  now=utcnow() - timedelta(hours=1))
    ledger.accrue(app.test_session(), Actor.system(shop.id), "cashback-panel-points",
                  customer_id=regular.id, points=1_966)
    page = cashier.get(url(shop, f"/customers/{regular.id}")).get_data(as_text=True)
    balance = re.search(r'<p class="balance">(.*?)</p>', page, re.S)
    assert balance is not None
    assert 'data-points="4066">4\u202f066\u00a0₽ на счёте</strong>' in balance.group(1)
    assert "балл" not in balance.group(1) and "=" not in balance.group(1).split("</strong>")[1]
