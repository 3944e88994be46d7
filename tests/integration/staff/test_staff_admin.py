"""The owner's staff page: invite → accept → sign in, refused links, access resets,
(de)activation, and who may open the page at all."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.web_client import (
    PASSWORD,
    csrf_token,
    post_staff_sign_in,
    staff_is_signed_in,
    staff_signed_in,
)
from webapp.domain.actor import Role
from webapp.domain.clock import utcnow
from webapp.persistence.models import StaffInvite, StaffUser
from webapp.services.staff import accounts as staff

NEW_PASSWORD = "my own new secret"
INVALID = "Ссылка-приглашение недействительна"


pytestmark = pytest.mark.usefixtures("no_csrf")


def _member(app: Any, business: Any, role: Role, login: str | None = None) -> int:
    made = staff.create_staff(
        app.test_session(),
        business_id=business.id,
        login=login or role.value,
        password=PASSWORD,
        role=role.value,
        display_name=f"{role.value} {business.id}",
    )
    return int(made.id)


def _can_sign_in(app: Any, business: Any, login: str, password: str) -> bool:
    response = post_staff_sign_in(app.test_client(), business.id, login, password)
    if response.status_code == 302:
        return True
    assert "Неверный логин или пароль" in response.get_data(as_text=True)
    return False


def _row(app: Any, staff_id: int) -> SimpleNamespace:
    db = app.test_session()
    member = db.get(StaffUser, staff_id)
    db.refresh(member)
    found = SimpleNamespace(
        active=member.active,
        role=member.role,
        password_hash=member.password_hash,
        session_epoch=member.session_epoch,
    )
    db.rollback()
    return found


def _url(business: Any, tail: str = "") -> str:
    return f"/b/{business.id}/backoffice/staff{tail}"


def _link(response: Any) -> str:
    found = re.search(
        r'id="invite-link" readonly value="https?://[^/"]+(/b/[^"]+)"',
        response.get_data(as_text=True),
    )
    assert found, "no invitation link on the page"
    return found.group(1)


@pytest.fixture
def shop(app: Any, business: Any) -> SimpleNamespace:
    """The business with its owner signed in."""
    owner = _member(app, business, Role.OWNER, "owner")
    return SimpleNamespace(business=business, owner=owner,
                           client=staff_signed_in(app, business.id, "owner"))


def _invite(shop: SimpleNamespace, login: str = "anna", role: str = "cashier") -> Any:
    return shop.client.post(
        _url(shop.business, "/invite"),
        data={"login": login, "display_name": "Анна Петрова", "role": role},
    )


def test_invite_accept_and_sign_in(app: Any, shop: SimpleNamespace) -> None:
    business = shop.business
    page = shop.client.get(_url(business))
    assert page.status_code == 200 and "Пригласить" in page.get_data(as_text=True)
    response = _invite(shop)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    link = _link(response)
    assert link.startswith(f"/b/{business.id}/staff/invite/")
    token = link.rsplit("/", 1)[1]
    assert token not in shop.client.get(_url(business)).get_data(as_text=True)  # once
    assert not _can_sign_in(app, business, "anna", "")

    employee = app.test_client()
    invite_page = employee.get(link)
    assert invite_page.status_code == 200
    text = invite_page.get_data(as_text=True)
    assert "Анна Петрова" in text and "anna" in text
    assert invite_page.headers["Cache-Control"] == "no-store"
    accepted = employee.post(link, data={"password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert accepted.status_code == 302
    assert staff_is_signed_in(employee, business.id)
    employee.post("/staff/sign-out")
    assert not staff_is_signed_in(employee, business.id)
    assert _can_sign_in(app, business, "anna", NEW_PASSWORD)


def test_the_new_member_gets_their_role(app: Any, shop: SimpleNamespace) -> None:
    employee = app.test_client()
    employee.post(
        _link(_invite(shop, role="manager")),
        data={"password": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert employee.get(_url(shop.business)).status_code == 403  # a manager, not owner
    with employee.session_transaction() as stored:
        assert stored["_user_id"].endswith(":0")


def test_a_password_longer_than_anyone_types_is_named_on_the_form(
    app: Any, shop: SimpleNamespace
) -> None:
    link, long = _link(_invite(shop)), "п" * 1025
    refused = app.test_client().post(link, data={"password": long, "password2": long})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "<form" in text and "1024" in text
    accepted = app.test_client().post(link, data={"password": NEW_PASSWORD,
                                                  "password2": NEW_PASSWORD})
    assert accepted.status_code == 302  # the refusal spent nothing


def _expire(app: Any) -> None:
    db = app.test_session()
    for invite in db.scalars(select(StaffInvite)):
        invite.expires_at = utcnow()
    db.commit()


@pytest.mark.parametrize("case", ["unknown", "expired", "used"])
def test_refused_links_say_so_and_change_nothing(
    app: Any, shop: SimpleNamespace, case: str
) -> None:
    link = _link(_invite(shop))
    staff_id = (
        app.test_session().scalars(select(StaffUser.id).where(StaffUser.login == "anna")).one()
    )
    app.test_session().rollback()
    if case == "unknown":
        link = link[:-6] + "zzzzzz"
    elif case == "expired":
        _expire(app)
    else:
        first = app.test_client().post(
            link, data={"password": NEW_PASSWORD, "password2": NEW_PASSWORD}
        )
        assert first.status_code == 302
    before = _row(app, staff_id)
    employee = app.test_client()
    shown = employee.get(link)
    assert shown.status_code == 404 and INVALID in shown.get_data(as_text=True)
    refused = employee.post(
        link, data={"password": "attacker's pass", "password2": "attacker's pass"}
    )
    assert refused.status_code == 404 and INVALID in refused.get_data(as_text=True)
    assert _row(app, staff_id) == before
    assert not staff_is_signed_in(employee, shop.business.id)
    assert not _can_sign_in(app, shop.business, "anna", "attacker's pass")


@pytest.mark.parametrize(
    ("password", "again", "message"),
    [
        ("short", "short", "Пароль должен быть не короче 10 символов"),
        (NEW_PASSWORD, NEW_PASSWORD + "!", "Пароли не совпадают"),
    ],
)
def test_a_bad_password_keeps_the_link_usable(
    app: Any, shop: SimpleNamespace, password: str, again: str, message: str
) -> None:
    link = _link(_invite(shop))
    employee = app.test_client()
    refused = employee.post(link, data={"password": password, "password2": again})
    assert refused.status_code == 422 and message in refused.get_data(as_text=True)
    assert not staff_is_signed_in(employee, shop.business.id)
    assert (
        employee.post(link, data={"password": NEW_PASSWORD, "password2": NEW_PASSWORD}).status_code
        == 302
    )


def test_a_taken_login_is_refused(app: Any, shop: SimpleNamespace) -> None:
    response = _invite(shop, login="OWNER")
    assert response.status_code == 409
    assert "Этот логин уже занят" in response.get_data(as_text=True)
    bad = _invite(shop, login="два слова")
    assert bad.status_code == 422 and "Логин" in bad.get_data(as_text=True)
    db = app.test_session()
    assert db.scalar(select(func.count(StaffInvite.id))) == 0
    db.rollback()


def test_reset_access_ends_sessions_and_the_old_password(app: Any, shop: SimpleNamespace) -> None:
    business = shop.business
    cashier = _member(app, business, Role.CASHIER)
    at_the_counter = staff_signed_in(app, business.id, "cashier")
    assert staff_is_signed_in(at_the_counter, business.id)
    response = shop.client.post(_url(business, f"/{cashier}/reset"))
    assert response.status_code == 200
    link = _link(response)
    assert not staff_is_signed_in(at_the_counter, business.id)
    assert not _can_sign_in(app, business, "cashier", PASSWORD)
    assert (
        app.test_client()
        .post(link, data={"password": NEW_PASSWORD, "password2": NEW_PASSWORD})
        .status_code
        == 302
    )
    assert _can_sign_in(app, business, "cashier", NEW_PASSWORD)
    assert not _can_sign_in(app, business, "cashier", PASSWORD)


def test_deactivated_staff_are_signed_out_and_kept_out(app: Any, shop: SimpleNamespace) -> None:
    business = shop.business
    cashier = _member(app, business, Role.CASHIER)
    at_the_counter = staff_signed_in(app, business.id, "cashier")
    response = shop.client.post(_url(business, f"/{cashier}/active"), data={"active": "0"})
    assert response.status_code == 302
    assert "отключён" in shop.client.get(_url(business)).get_data(as_text=True)
    assert not staff_is_signed_in(at_the_counter, business.id)
    assert not _can_sign_in(app, business, "cashier", PASSWORD)
    assert shop.client.post(_url(business, f"/{cashier}/active"), data={}).status_code == 400
    assert not _row(app, cashier).active
    shop.client.post(_url(business, f"/{cashier}/active"), data={"active": "1"})
    assert not staff_is_signed_in(at_the_counter, business.id)  # the old session stays ended
    assert _can_sign_in(app, business, "cashier", PASSWORD)


def test_the_owner_signs_a_member_out_everywhere(app: Any, shop: SimpleNamespace) -> None:
    cashier = _member(app, shop.business, Role.CASHIER)
    at_the_counter = staff_signed_in(app, shop.business.id, "cashier")
    shop.client.post(_url(shop.business, f"/{cashier}/sign-out"))
    assert not staff_is_signed_in(at_the_counter, shop.business.id)
    assert staff_is_signed_in(shop.client, shop.business.id)


def test_role_and_branches_are_changed(app: Any, shop: SimpleNamespace) -> None:
    cashier = _member(app, shop.business, Role.CASHIER)
    at_the_counter = staff_signed_in(app, shop.business.id, "cashier")
    response = shop.client.post(_url(shop.business, f"/{cashier}/role"), data={"role": "owner"})
    assert response.status_code == 302
    assert _row(app, cashier).role == "owner"
    assert at_the_counter.get(_url(shop.business)).status_code == 200  # at once
    bad = shop.client.post(
        _url(shop.business, f"/{cashier}/role"), data={"role": "cashier", "branch_ids": ["999999"]}
    )
    assert bad.status_code == 422
    assert "Такого филиала нет" in bad.get_data(as_text=True)
    assert _row(app, cashier).role == "owner"


def test_an_owner_cannot_lock_themselves_out(app: Any, shop: SimpleNamespace) -> None:
    business, me = shop.business, shop.owner
    off = shop.client.post(_url(business, f"/{me}/active"), data={"active": "0"})
    assert off.status_code == 409 and "Нельзя отключить самого себя" in off.get_data(as_text=True)
    assert (
        shop.client.post(_url(business, f"/{me}/role"), data={"role": "manager"}).status_code == 409
    )
    assert shop.client.post(_url(business, f"/{me}/reset")).status_code == 409
    row = _row(app, me)
    assert row.active and row.role == "owner" and row.session_epoch == 0
    assert staff_is_signed_in(shop.client, business.id)


@pytest.mark.parametrize("role", [Role.MANAGER, Role.CASHIER])
def test_managers_and_cashiers_are_refused(app: Any, shop: SimpleNamespace, role: Role) -> None:
    business = shop.business
    _member(app, business, role)
    client = staff_signed_in(app, business.id, role.value)
    target = shop.owner
    assert client.get(_url(business)).status_code == 403
    attempts = [
        ("/invite", {"login": "mole", "role": "owner"}),
        (f"/{target}/reset", {}),
        (f"/{target}/active", {"active": "0"}),
        (f"/{target}/role", {"role": "cashier"}),
        (f"/{target}/sign-out", {}),
    ]
    for tail, data in attempts:
        assert client.post(_url(business, tail), data=data).status_code == 403, tail
    row = _row(app, target)
    assert row.active and row.role == "owner" and row.session_epoch == 0
    db = app.test_session()
    assert db.scalar(select(func.count(StaffUser.id)).where(StaffUser.login == "mole")) == 0
    db.rollback()
    assert staff_is_signed_in(shop.client, business.id)


def test_another_business_owner_gets_not_found(
    app: Any, shop: SimpleNamespace, make_business: Any
) -> None:
    business = shop.business
    cashier = _member(app, business, Role.CASHIER)
    at_the_counter = staff_signed_in(app, business.id, "cashier")
    rival = make_business("Шиномонтаж")
    _member(app, rival, Role.OWNER, "rival")
    client = staff_signed_in(app, rival.id, "rival")
    before = _row(app, cashier)
    assert client.get(_url(business)).status_code == 404
    assert (
        client.post(_url(business, "/invite"), data={"login": "mole", "role": "owner"}).status_code
        == 404
    )
    for target in (cashier, shop.owner):
        for base in (business, rival):  # this business's URL, and their own with our ids
            for tail, data in [
                (f"/{target}/reset", {}),
                (f"/{target}/active", {"active": "0"}),
                (f"/{target}/role", {"role": "owner"}),
                (f"/{target}/sign-out", {}),
            ]:
                response = client.post(_url(base, tail), data=data)
                assert response.status_code == 404, (base.id, tail)
    assert f"cashier {business.id}" not in client.get(_url(rival)).get_data(as_text=True)
    assert _row(app, cashier) == before
    assert before.active and before.role == "cashier" and before.session_epoch == 0
    assert staff_is_signed_in(at_the_counter, business.id)
    assert _can_sign_in(app, business, "cashier", PASSWORD)


def test_the_invitation_form_carries_a_csrf_token(app: Any, shop: SimpleNamespace) -> None:
    link = _link(_invite(shop))
    app.config["WTF_CSRF_ENABLED"] = True
    employee = app.test_client()
    page = employee.get(link).get_data(as_text=True)
    token = csrf_token(page)
    data = {"password": NEW_PASSWORD, "password2": NEW_PASSWORD}
    assert employee.post(link, data=data).status_code == 400
    assert employee.post(link, data={**data, "csrf_token": token}).status_code == 302
    assert staff_is_signed_in(employee, shop.business.id)
