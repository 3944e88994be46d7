"""`regulars serve --workers 3` as a subprocess, on SQLite and on PostgreSQL: no request
sees what another one left behind (the signed-in user, the CSRF token), so fresh
sign-ins always work and a cookieless client is never anyone."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tests.integration.conftest import make_shop
from tests.serving import Served, regulars_serve, staff_sign_in
from tests.web_client import PASSWORD, csrf_token
from webapp.domain.actor import Actor, Role
from webapp.persistence.models import CustomerNote, OutboxMessage, SignInCode
from webapp.services.customers import accounts as customers
from webapp.services.staff import accounts as staff

pytestmark = pytest.mark.slow

PHONE = "+79161230000"


@dataclass(frozen=True)
class Shop:
    served: Served
    engine: Engine
    id: int
    centre: int
    customer_id: int
    card_number: str


def database_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def shop(fresh_engine: Engine, tmp_path: Path) -> Iterator[Shop]:
    """A shop with a cashier (Ольга), a manager (Игорь) and a customer, served by
    `regulars serve --workers 3` behind one trusted proxy (so each test client can
    come from its own address)."""
    with Session(fresh_engine, expire_on_commit=False) as db:
        made = make_shop(db)
        staff.create_staff(db, business_id=made.id, login="olga", password=PASSWORD,
                           role=Role.CASHIER.value, display_name="Ольга Кассирова",
                           branch_ids=[made.centre])
        staff.create_staff(db, business_id=made.id, login="igor", password=PASSWORD,
                           role=Role.MANAGER.value, display_name="Игорь Менеджеров")
        joined = customers.join(db, Actor.system(made.id), phone=PHONE, name="Пётр")
        db.commit()
        customer_id, card = joined.customer.id, joined.customer.card_number
    with regulars_serve(database_url(fresh_engine), tmp_path / "instance", workers=3,
                        env={"REGULARS_TRUSTED_PROXIES": "1"}) as served:
        yield Shop(served, fresh_engine, made.id, made.centre, customer_id, card)


def ask_for_code(url: str, business_id: int, phone: str, address: str
                 ) -> tuple[requests.Session, requests.Response]:
    client = requests.Session()
    client.headers["X-Forwarded-For"] = address
    form = client.get(f"{url}/c/{business_id}/sign-in", timeout=30)
    answer = client.post(f"{url}/c/{business_id}/sign-in", allow_redirects=False, timeout=30,
                         data={"csrf_token": csrf_token(form.text), "phone": phone,
                               "data_consent": "yes"})
    return client, answer


def customer_signs_in(shop: Shop) -> requests.Session:
    """The whole phone sign-in over HTTP; the code is read from the outbox it went to."""
    client, asked = ask_for_code(shop.served.url, shop.id, PHONE, "203.0.113.77")
    assert asked.status_code == 302, asked.text
    with Session(shop.engine) as db:
        text = db.scalars(select(OutboxMessage.payload).order_by(OutboxMessage.id.desc())
                          ).first()
    assert text and text["phone"] == PHONE
    code_page = client.get(f"{shop.served.url}/c/{shop.id}/code", timeout=30)
    done = client.post(f"{shop.served.url}/c/{shop.id}/code", timeout=30,
                       data={"csrf_token": csrf_token(code_page.text), "code": text["text"][:6]})
    assert f'data-card="{shop.card_number}"' in done.text, done.text[:500]
    return client


def test_fifty_fresh_staff_sign_ins_and_fifty_code_requests_all_pass(shop: Shop) -> None:
    url = shop.served.url
    refused = []
    for attempt in range(50):
        login = ("olga", "igor")[attempt % 2]
        _, answer = staff_sign_in(url, shop.id, login, PASSWORD)
        if answer.status_code != 302:
            refused.append((attempt, answer.status_code, answer.text[:200]))
    assert refused == []

    for attempt in range(50):
        _, answer = ask_for_code(url, shop.id, f"+7916555{attempt:04d}", f"198.51.100.{attempt}")
        assert answer.status_code == 302, (attempt, answer.status_code, answer.text[:300])
        assert answer.headers["Location"].endswith(f"/c/{shop.id}/code")
    with Session(shop.engine) as db:
        assert db.scalar(select(func.count(SignInCode.id))) == 50


def test_three_people_and_a_stranger_each_see_only_themselves(shop: Shop) -> None:
    url, base = shop.served.url, f"{shop.served.url}/b/{shop.id}"
    cashier, signed = staff_sign_in(url, shop.id, "olga", PASSWORD)
    assert signed.status_code == 302
    manager, signed = staff_sign_in(url, shop.id, "igor", PASSWORD)
    assert signed.status_code == 302
    customer = customer_signs_in(shop)
    stranger = requests.Session()
    panel = f"{base}/counter/{shop.centre}/customers/{shop.customer_id}"
    tokens = {who: csrf_token(client.get(panel, timeout=30).text)
              for who, client in (("cashier", cashier), ("manager", manager))}

    def as_cashier() -> None:
        page = cashier.get(panel, timeout=30)
        assert page.status_code == 200 and "Ольга Кассирова" in page.text
        assert "Игорь Менеджеров" not in page.text

    def as_manager() -> None:
        page = manager.get(f"{base}/backoffice/customers/{shop.customer_id}", timeout=30)
        assert page.status_code == 200 and "Игорь Менеджеров" in page.text
        assert "Ольга Кассирова" not in page.text

    def cashier_writes_a_note() -> None:
        done = cashier.post(f"{panel}/notes", data={"csrf_token": tokens["cashier"],
                                                    "text": "note by olga"}, timeout=30)
        assert done.status_code == 200 and "Ольга Кассирова" in done.text

    def as_customer() -> None:
        page = customer.get(f"{url}/c/{shop.id}/", timeout=30)
        assert page.status_code == 200 and f'data-card="{shop.card_number}"' in page.text
        assert "Кассирова" not in page.text and "Менеджеров" not in page.text

    def stranger_reads() -> None:
        for path in (panel, f"{base}/counter", f"{base}/backoffice/customers",
                     f"{base}/backoffice/customers/{shop.customer_id}", f"{url}/c/{shop.id}/"):
            page = stranger.get(path, allow_redirects=False, timeout=30)
            assert page.status_code == 302, (path, page.status_code, page.text[:300])
            assert re.search(r"/(staff/)?sign-in", page.headers["Location"]), path

    def stranger_writes() -> None:
        for token in (None, tokens["cashier"]):  # no token, and a token lifted off a page
            data = {"text": "note by nobody"} | ({"csrf_token": token} if token else {})
            done = stranger.post(f"{panel}/notes", data=data, allow_redirects=False, timeout=30)
            assert done.status_code in (302, 400), (done.status_code, done.text[:300])
            if done.status_code == 302:
                assert "/staff/sign-in" in done.headers["Location"]

    steps = [as_cashier, as_manager, as_customer, stranger_reads, stranger_writes,
             cashier_writes_a_note]
    rng = random.Random(12)
    plan = [rng.choice(steps) for _ in range(300)]
    for step in plan:
        step()

    with Session(shop.engine) as db:
        notes = db.scalars(select(CustomerNote.text)).all()
    assert notes == ["note by olga"] * plan.count(cashier_writes_a_note)
    assert plan.count(stranger_writes) > 20 and plan.count(stranger_reads) > 20
