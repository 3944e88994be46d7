"""Manual adjustments through the back office pages, with CSRF on: a real reason, a
manager's large adjustment waiting for the owner (customer page and the list), the
owner approving once or rejecting, who may decide, and the flags it raises."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.integration.staff.test_customer_pages import (
    _available,
    _form,
    _operations,
    _page,
    _url,
    _world,
)
from tests.web_client import PASSWORD, csrf, page_text, staff_signed_in
from webapp.domain.actor import Actor
from webapp.persistence.models import AbuseFlag, AdjustmentRequest
from webapp.services.customers import accounts as customers
from webapp.services.customers import profile as customer_profile
from webapp.services.customers.sign_in import Who
from webapp.services.ledger import adjustment_requests
from webapp.services.staff import accounts as staff

REASON = "Компенсация за сорванный ремонт"


@pytest.fixture
def world(app: Any, business: Any) -> SimpleNamespace:
    """The customer pages' world (a manager, a cashier, a customer with 50) and an owner."""
    made = _world(app, business)
    staff.create_staff(app.test_session(), business_id=business.id, login="owner",
                       password=PASSWORD, role="owner", display_name="Олег")
    return made


def _adjust(client: Any, world: SimpleNamespace, points: str, reason: str = REASON) -> Any:
    form = {**_form(_page(client, world), "adjust-form"), "points": points, "reason": reason}
    return client.post(_url(world, "/adjust"), data=form)


def _list_url(world: SimpleNamespace, tail: str = "") -> str:
    return f"/b/{world.business_id}/backoffice/adjustments{tail}"


def _requests(app: Any, status: str | None = None) -> list[int]:
    db = app.test_session()
    query = select(AdjustmentRequest.id).order_by(AdjustmentRequest.id)
    if status:
        query = query.where(AdjustmentRequest.status == status)
    found = list(db.scalars(query))
    db.rollback()
    return found


def _flags(app: Any, kind: str) -> int:
    db = app.test_session()
    found = db.scalar(select(func.count(AbuseFlag.id)).where(AbuseFlag.kind == kind))
    db.rollback()
    return int(found or 0)


def test_a_huge_adjustment_with_reason_x_is_refused_for_the_reason(
    app: Any, client: Any, world: SimpleNamespace
) -> None:
    staff_signed_in(client, world.business_id, "manager")
    response = _adjust(client, world, "+999999999", "x")
    assert response.status_code == 422
    html = page_text(response)
    assert "Причина — не короче 10 символов: напишите, что случилось." in html
    assert 'role="alert"' in html and _form(html, "adjust-form")["points"] == "+999999999"
    repeated = _adjust(client, world, "+100", "аааааааааааа")
    assert repeated.status_code == 422
    assert "не один повторяющийся символ" in page_text(repeated)
    assert _available(app, world) == 50 and _operations(app, world, "adjustment") == 0
    assert _requests(app) == [] and _flags(app, "large_adjustment") == 0


def test_a_managers_large_adjustment_waits_and_the_owner_applies_it_once(
    app: Any, client: Any, world: SimpleNamespace
) -> None:
    staff_signed_in(client, world.business_id, "manager")
    asked = _adjust(client, world, "+6000")
    assert asked.status_code == 302
    html = page_text(client.get(_url(world)))
    assert "запрос отправлен владельцу" in html
    assert _available(app, world) == 50 and _operations(app, world, "adjustment") == 0
    (request_id,) = _requests(app, "pending")
    assert f'id="request-{request_id}"' in html and REASON in html
    assert f'id="request-{request_id}-approve"' not in html  # the manager only sees it
    listed = page_text(client.get(_list_url(world)))
    assert f'id="request-{request_id}"' in listed and "Одобряет и отклоняет владелец" in listed

    token = _form(html, "adjust-form")["csrf_token"]
    assert client.post(_list_url(world, f"/{request_id}/approve"),
                       data={"csrf_token": token}).status_code == 403
    cashier = staff_signed_in(app, world.business_id, "cashier")
    cashier_token = csrf(cashier, f"/b/{world.business_id}/counter/{world.branch_id}")
    assert cashier.post(_list_url(world, f"/{request_id}/approve"),
                        data={"csrf_token": cashier_token}).status_code == 403
    assert _available(app, world) == 50

    owner = staff_signed_in(app, world.business_id, "owner")
    form = _form(_page(owner, world), f"request-{request_id}-approve")
    assert form["back"] == "customer"
    first = owner.post(_list_url(world, f"/{request_id}/approve"), data=form)
    again = owner.post(_list_url(world, f"/{request_id}/approve"), data=form)  # double submit
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"].endswith(_url(world))
    assert "Этот запрос уже одобрен." in page_text(owner.get(_url(world)))
    assert _available(app, world) == 6050 and _operations(app, world, "adjustment") == 1
    assert _requests(app, "approved") == [request_id]
    page = page_text(owner.get(_url(world)))
    assert "Корректировка +6000: " + REASON in page and "Олег" in page  # the approver
    assert f'id="request-{request_id}"' not in page  # no longer waiting
    decided = page_text(owner.get(_list_url(world)))
    assert f'id="decided-{request_id}"' in decided and "одобрено: Олег" in decided
    audit = page_text(owner.get(_url(world, "/audit")))
    assert "Запрос на корректировку баллов" in audit
    assert "Корректировка баллов одобрена владельцем" in audit


def test_the_owner_rejects_with_a_reason_and_nothing_changes(
    app: Any, client: Any, world: SimpleNamespace
) -> None:
    staff_signed_in(client, world.business_id, "manager")
    assert _adjust(client, world, "-6000").status_code == 409  # only 50 on hand
    assert _adjust(client, world, "+7000").status_code == 302
    (request_id,) = _requests(app, "pending")
    owner = staff_signed_in(app, world.business_id, "owner")
    form = _form(page_text(owner.get(_list_url(world))), f"request-{request_id}-reject")
    assert form["back"] == "list"
    short = owner.post(_list_url(world, f"/{request_id}/reject"), data={**form, "note": "нет"})
    assert short.status_code == 422
    html = page_text(short)
    assert "Причина — не короче 10 символов" in html and 'role="alert"' in html
    assert _form(html, f"request-{request_id}-reject")["note"] == "нет"  # what was typed
    assert _requests(app, "pending") == [request_id]
    note = "Ремонт не срывался, компенсации нет"
    done = owner.post(_list_url(world, f"/{request_id}/reject"), data={**form, "note": note})
    assert done.status_code == 302 and done.headers["Location"].endswith(_list_url(world))
    page = page_text(owner.get(_list_url(world)))
    assert "Запрос на корректировку +7000 баллов отклонён" in page
    assert "отклонено: Олег" in page and note in page and "Запросов нет." in page
    late = owner.post(_list_url(world, f"/{request_id}/approve"),
                      data={"csrf_token": form["csrf_token"], "back": "list"})
    assert late.status_code == 409 and "уже принято решение" in page_text(late)
    assert _available(app, world) == 50 and _operations(app, world, "adjustment") == 0


def test_another_business_request_is_not_found(
    app: Any, client: Any, world: SimpleNamespace, make_business: Any
) -> None:
    other = _world(app, make_business("Чужой сервис"), suffix="9")
    theirs = staff_signed_in(app, other.business_id, "manager9")
    assert _adjust(theirs, other, "+6000").status_code == 302
    (request_id,) = _requests(app, "pending")
    owner = staff_signed_in(app, world.business_id, "owner")
    token = _form(_page(owner, world), "adjust-form")["csrf_token"]
    for url in (_list_url(world, f"/{request_id}/approve"),
                _list_url(other, f"/{request_id}/approve")):
        assert owner.post(url, data={"csrf_token": token, "back": "list"}).status_code == 404
    assert owner.post(_list_url(world, f"/{request_id}/reject"),
                      data={"csrf_token": token, "note": "Чужой запрос, нельзя"}
                      ).status_code == 404
    assert f'id="request-{request_id}"' not in page_text(owner.get(_list_url(world)))
    assert owner.get(_list_url(other)).status_code == 404
    assert _requests(app, "pending") == [request_id] and _available(app, other) == 50


def test_flags_name_large_adjustments_and_the_owner_sets_the_limit(
    app: Any, client: Any, world: SimpleNamespace
) -> None:
    staff_signed_in(client, world.business_id, "manager")
    assert _adjust(client, world, "+6000").status_code == 302
    flags = page_text(client.get(f"/b/{world.business_id}/backoffice/flags"))
    assert "Крупная корректировка баллов" in flags
    assert "6000 баллов одной корректировкой при лимите 5000" in flags
    assert "Мария" in flags and "Иван" in flags

    owner = staff_signed_in(app, world.business_id, "owner")
    limits_url = f"/b/{world.business_id}/backoffice/flags/limits"
    form = _form(page_text(owner.get(f"/b/{world.business_id}/backoffice/flags")), "limits-form")
    assert form["adjustment_approval_above"] == "5000"
    off = owner.post(limits_url, data={**form, "adjustment_approval_above": "0"})
    assert off.status_code == 422
    assert "«Корректировка баллов без одобрения владельца, не больше»: целое число от 1 до" \
        in page_text(off)
    assert owner.post(limits_url, data={**form, "adjustment_approval_above": "100",
                                        "hard_block": ""}).status_code == 302
    assert _adjust(client, world, "+150").status_code == 302
    assert len(_requests(app, "pending")) == 2 and _available(app, world) == 50
    assert _adjust(client, world, "+100").status_code == 302  # at the limit: applied
    assert _available(app, world) == 150


def test_a_refused_decision_is_explained_on_the_customer_page(
    app: Any, client: Any, world: SimpleNamespace
) -> None:
    owner = staff_signed_in(app, world.business_id, "owner")
    assert _adjust(owner, world, "+6500").status_code == 302  # the owner's own: applied
    assert _available(app, world) == 6550 and _flags(app, "large_adjustment") == 1
    staff_signed_in(client, world.business_id, "manager")
    assert _adjust(client, world, "-6000").status_code == 302
    (request_id,) = _requests(app, "pending")
    assert _adjust(client, world, "-1000").status_code == 302  # spent meanwhile
    form = _form(_page(owner, world), f"request-{request_id}-approve")
    refused = owner.post(_list_url(world, f"/{request_id}/approve"), data=form)
    assert refused.status_code == 409
    html = page_text(refused)
    assert "Недостаточно баллов: доступно 5550, а списать нужно 6000." in html
    assert html.index('id="request-error"') > html.index(f'id="request-{request_id}"')
    reject = _form(html, f"request-{request_id}-reject")
    short = owner.post(_list_url(world, f"/{request_id}/reject"), data={**reject, "note": "x"})
    assert short.status_code == 422
    assert _form(page_text(short), f"request-{request_id}-reject")["note"] == "x"
    assert "<h1>Иван</h1>" in page_text(short)  # still the customer's page
    assert _requests(app, "pending") == [request_id] and _available(app, world) == 5550


def test_a_decision_goes_back_to_the_requests_own_customer_never_a_typed_one(
    app: Any, client: Any, world: SimpleNamespace
) -> None:
    """Review finding D5: the form's "back" carried a customer id of up to 18 digits to
    the history page (a 500 on PostgreSQL), or another customer's page."""
    staff_signed_in(client, world.business_id, "manager")
    assert _adjust(client, world, "+6000").status_code == 302
    (request_id,) = _requests(app, "pending")
    other = customers.join(app.test_session(), Actor.system(world.business_id),
                           phone="+79165550999", name="Пётр").customer.id
    owner = staff_signed_in(app, world.business_id, "owner")
    form = _form(_page(owner, world), f"request-{request_id}-reject")
    reject = _list_url(world, f"/{request_id}/reject")
    for forged in ("customer:999999999999999999", f"customer:{other}", "customer:²"):
        refused = owner.post(reject, data={**form, "note": "x", "back": forged})
        assert refused.status_code == 422, forged
        html = page_text(refused)
        assert "<h1>Корректировки баллов</h1>" in html and "Пётр" not in html
    own = owner.post(reject, data={**form, "note": "x"})  # back: "customer"
    assert own.status_code == 422 and "<h1>Иван</h1>" in page_text(own)
    approve = _form(_page(owner, world), f"request-{request_id}-approve")
    done = owner.post(_list_url(world, f"/{request_id}/approve"),
                      data={**approve, "back": f"customer:{other}"})
    assert done.status_code == 302 and done.headers["Location"].endswith(_list_url(world))
    assert _available(app, world) == 6050


def test_a_split_correction_is_sent_to_the_owner_saying_why(
    app: Any, client: Any, world: SimpleNamespace
) -> None:
    staff_signed_in(client, world.business_id, "manager")
    assert _adjust(client, world, "+3000").status_code == 302
    assert _adjust(client, world, "+2001").status_code == 302
    html = page_text(client.get(_url(world)))
    assert ("С корректировкой +2001 балл корректировки этому клиенту за сегодня составят"
            " 5001 балл — больше лимита (5000): запрос отправлен владельцу") in html
    assert "если с ней корректировки этому клиенту за день превысят тот же лимит" in html
    assert _available(app, world) == 3050 and len(_requests(app, "pending")) == 1
    listed = page_text(client.get(_list_url(world)))
    assert "корректировки менеджера за день превысят дневной лимит" in listed


def test_a_closed_accounts_request_is_shown_rejected_by_the_system(
    app: Any, client: Any, world: SimpleNamespace
) -> None:
    staff_signed_in(client, world.business_id, "manager")
    assert _adjust(client, world, "+6000").status_code == 302
    (request_id,) = _requests(app, "pending")
    customer_profile.delete_account(app.test_session(),
                                    Who(world.customer_id, world.business_id, 0),
                                    "close-key-01", confirm="удалить", ip=None)
    listed = page_text(staff_signed_in(app, world.business_id, "owner").get(_list_url(world)))
    assert f'id="decided-{request_id}"' in listed and "Запросов нет." in listed
    assert "отклонено автоматически: аккаунт клиента закрыт" in listed
    assert adjustment_requests.CLOSED_ACCOUNT_NOTE not in listed  # no English on the page
