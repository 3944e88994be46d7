"""Every staff page speaks English with ``?lang=en`` (owner, manager and cashier, and the
pages before signing in) and still speaks Russian by default.

The business's own data is made in Latin letters, so any Cyrillic left on an English
page is interface text that missed the catalogue.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from html import unescape
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from tests.web_client import PASSWORD, csrf, staff_signed_in
from webapp.domain.actor import Actor, Role
from webapp.domain.clock import utcnow
from webapp.domain.presets import DEMO
from webapp.persistence.models import Branch
from webapp.services.business import setup as businesses
from webapp.services.customers import accounts as customers
from webapp.services.ledger import operations as ledger
from webapp.services.program import versions as programs
from webapp.services.staff import accounts as staff

CYRILLIC = re.compile("[А-Яа-яЁё]")


# The DEMO program with its names in Latin letters (tiers, perks, the stamp card).
_NAMES = {"Базовый": "Basic", "Серебряный": "Silver", "Золотой": "Gold",
          "Платиновый": "Platinum", "SMS-уведомления": "SMS alerts",
          "Приоритетный ремонт": "Priority repair",
          "Бесплатная диагностика": "Free diagnostics",
          "Выездной ремонт бесплатно": "Free on-site repair"}


def _latin_program() -> Any:
    tiers = tuple(
        replace(tier, name=_NAMES[tier.name], perks=tuple(_NAMES[p] for p in tier.perks),
                entitlements=tuple(replace(e, title=_NAMES[e.title])
                                   for e in tier.entitlements))
        for tier in DEMO.tiers)
    card = replace(DEMO.stamp_cards[0], title="Every 6th oil change free")
    return replace(DEMO, tiers=tiers, stamp_cards=(card,))


@pytest.fixture
def world(app: Any) -> SimpleNamespace:
    """A business with Latin names: two branches, one member per role, a program, a
    customer with points and a closed order, a manager's adjustment waiting for the
    owner (it raises a flag), and a fresh invitation."""
    db = app.test_session()
    made = businesses.create_business(db, name="Forest Lane Garage",
                                      branches=["Centre", "North"])
    branch = db.scalars(select(Branch.id).where(Branch.business_id == made.id)
                        .order_by(Branch.id)).first()
    ids = {role: staff.create_staff(db, business_id=made.id, login=role.value,
                                    password=PASSWORD, role=role.value,
                                    display_name=name).id
           for role, name in ((Role.OWNER, "Olga"), (Role.MANAGER, "Max"),
                              (Role.CASHIER, "Kate"))}
    programs.save(db, Actor.staff(made.id, ids[Role.OWNER], Role.OWNER), "latin-program",
                  settings=_latin_program(), now=utcnow() - timedelta(days=1))
    joined = customers.join(db, Actor.system(made.id), phone="+79161234567", name="Ivan")
    customer = joined.customer.id
    ledger.accrue(db, Actor.system(made.id), "latin-points", customer_id=customer,
                  points=2000)
    world = SimpleNamespace(id=made.id, branch=branch, customer=customer,
                            staff_id=ids[Role.CASHIER], clients={})
    for role in (Role.OWNER, Role.MANAGER, Role.CASHIER):
        world.clients[role] = staff_signed_in(app, made.id, role.value)

    counter = f"/b/{made.id}/counter/{branch}"
    closed = world.clients[Role.CASHIER].post(
        f"{counter}/customers/{customer}/close", headers={"Accept": "application/json"},
        data={"csrf_token": csrf(world.clients[Role.CASHIER], counter),
              "key": "latin-order-1", "total": "4500"})
    assert closed.status_code == 200, closed.get_data(as_text=True)
    world.receipt = closed.get_json()["url"]

    page = f"/b/{made.id}/backoffice/customers/{customer}"
    manager = world.clients[Role.MANAGER]
    asked = manager.post(f"{page}/adjust", data={
        "csrf_token": csrf(manager, page), "idempotency_key": "latin-adjust-1",
        "points": "+7000", "reason": "Compensation for a failed repair"})
    assert asked.status_code == 302, asked.get_data(as_text=True)
    manager.get(asked.headers["Location"])  # its flash (in Russian, as asked) is shown

    owner, staff_page = world.clients[Role.OWNER], f"/b/{made.id}/backoffice/staff"
    invited = owner.post(f"{staff_page}/invite", data={
        "csrf_token": csrf(owner, staff_page), "login": "newbie",
        "display_name": "Nick", "role": "cashier"}).get_data(as_text=True)
    found = re.search(r"/staff/invite/([^\"<\s]+)", invited)
    assert found, "the invitation link is shown"
    world.invite = f"/b/{made.id}/staff/invite/{found.group(1)}"
    return world


def _pages(world: SimpleNamespace, role: Role) -> dict[str, tuple[str, ...]]:
    """The GET pages ``role`` may open -> English words each must show."""
    b, counter = f"/b/{world.id}", f"/b/{world.id}/counter/{world.branch}"
    pages = {
        f"{b}/staff/account": ("My account", "Sign out on every device"),
        f"{b}/counter": ("Where are you working today?",),
        counter: ("Scan the customer’s card", "Card number", "New customer"),
        f"{counter}/search?q=4567": ("Search:", "Ivan"),
        f"{counter}/customers/{world.customer}": ("Close the order", "Points to redeem",
                                                   "Recent visits", "Notes"),
        world.receipt: ("closed", "To pay", "Next customer"),
    }
    if role in (Role.MANAGER, Role.OWNER):
        back = f"{b}/backoffice"
        pages |= {
            f"{back}/customers": ("Customers", "Find"),
            f"{back}/customers?q=4567": ("Found by", "Ivan"),
            f"{back}/customers/{world.customer}": ("Point adjustment", "Orders",
                                                   "Awaiting the owner’s approval"),
            f"{back}/customers/{world.customer}/audit": ("Log of actions on the customer",),
            f"{back}/staff/{world.staff_id}/audit": ("Log of the staff member’s actions",),
            f"{back}/adjustments": ("Point adjustments", "Awaiting approval"),
            f"{back}/flags": ("Suspicious", "Open flags", "Large point adjustment"),
        }
    if role is Role.OWNER:
        pages |= {
            f"{b}/backoffice/program": ("Program", "Levels", "Stamp cards", "Discount, %"),
            f"{b}/backoffice/staff": ("Staff", "Invite a staff member", "Reset access"),
        }
    return pages


def visible_text(html: str) -> str:
    """What a person sees or hears of a page: its text, the labels and hints in
    attributes (and the words the page gives its scripts), entities decoded."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.DOTALL)
    said = re.findall(r'\b(?:aria-label|placeholder|title|alt|data-label|data-msg-[\w-]+)'
                      r'="([^"]*)"', html)
    return unescape("\n".join([re.sub(r"<[^>]+>", "\n", html), *said]))


def russian_left(html: str) -> list[str]:
    """Lines of the page's visible text with Cyrillic, apart from the
    language switch (Russian named in Russian, marked lang="ru")."""
    text = visible_text(re.sub(r'<a [^>]*\blang="ru"[^>]*>[^<]*</a>', "", html))
    lines = (re.sub(r"№\d+", "№N", " ".join(line.split())) for line in text.splitlines())
    return [line for line in lines if CYRILLIC.search(line)]


@pytest.mark.parametrize("role", [Role.OWNER, Role.MANAGER, Role.CASHIER])
def test_every_staff_page_speaks_english(world: SimpleNamespace, role: Role) -> None:
    client = world.clients[role]
    for url, words in _pages(world, role).items():
        response = client.get(url + ("&" if "?" in url else "?") + "lang=en")
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert '<html lang="en">' in html, url
        assert not russian_left(html), (url, russian_left(html))
        text = visible_text(html)
        assert all(word in text for word in words), (url, [w for w in words if w not in text])
        assert "Русский" in text  # the switch back


def test_the_pages_before_signing_in_speak_english(app: Any, world: SimpleNamespace) -> None:
    businesses.create_business(app.test_session(), name="Hill Garage")  # no single choice
    client = app.test_client()
    for url, words in {f"/b/{world.id}/staff/sign-in": ("Staff sign-in", "Password"),
                       "/staff/sign-in": ("Staff sign-in", "sign-in link"),
                       world.invite: ("Invitation", "Password again",
                                      "Save the password and sign in")}.items():
        response = client.get(url + "?lang=en")
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert not russian_left(html), (url, russian_left(html))
        assert all(word in visible_text(html) for word in words), url


def test_the_staff_pages_keep_their_russian(world: SimpleNamespace) -> None:
    owner = world.clients[Role.OWNER]
    b, counter = f"/b/{world.id}", f"/b/{world.id}/counter/{world.branch}"
    for url, words in {
        counter: ("Сканируйте карту клиента", "Номер карты", "Новый клиент", "Касса"),
        f"{counter}/customers/{world.customer}": ("Закрыть заказ", "Провести",
                                                   "Нет связи, пробуем ещё раз…"),
        f"{b}/backoffice/flags": ("Подозрительное", "Крупная корректировка баллов"),
        f"{b}/backoffice/program": ("Уровни", "Скидка, %", "Уровень 1: название"),
        f"{b}/backoffice/staff": ("Пригласить сотрудника", "Сотрудники"),
    }.items():
        response = owner.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert '<html lang="ru">' in html, url
        text = visible_text(html)
        assert all(word in text for word in words), (url, [w for w in words if w not in text])
        assert "English" in text  # the switch


def test_the_switch_keeps_the_page_and_is_remembered(world: SimpleNamespace) -> None:
    client = world.clients[Role.MANAGER]
    search = f"/b/{world.id}/backoffice/customers?q=4567"
    html = client.get(search).get_data(as_text=True)
    switch = re.search(r'<a href="([^"]*)" hreflang="en" lang="en">English</a>', html)
    assert switch, "the Russian page links to English"
    target = unescape(switch.group(1))
    assert target.startswith("?") and "q=4567" in target and "lang=en" in target
    english = client.get(f"/b/{world.id}/backoffice/customers{target}")
    assert "Found by" in visible_text(english.get_data(as_text=True))
    # The cookie remembers the choice: the next page, without ?lang=, is English too.
    later = client.get(f"/b/{world.id}/backoffice/flags").get_data(as_text=True)
    assert '<html lang="en">' in later and "Open flags" in later
    # A page answering a form has no switch: its URL only takes the form's POST.
    flag = re.search(r'id="flag-(\d+)"', later)
    assert flag, "the large adjustment raised a flag"
    refused = client.post(f"/b/{world.id}/backoffice/flags/{flag.group(1)}/resolve",
                          data={"csrf_token": csrf(client, f"/b/{world.id}/backoffice/flags"),
                                "note": ""})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "a comment is required" in html and 'hreflang="ru"' not in html
