"""The "Подозрительное" page: who may open it, resolving flags, the owner's limits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from staff.backoffice.flags import KINDS
from tests.web_client import PASSWORD, staff_signed_in
from webapp.domain.abuse import Kind
from webapp.domain.actor import Actor, Role
from webapp.domain.clock import utcnow
from webapp.domain.counter_settings import AbuseLimits
from webapp.persistence.models import AbuseFlag, StaffUser
from webapp.services.abuse import flags as abuse_flags
from webapp.services.customers import accounts as customers
from webapp.services.staff import accounts as staff

pytestmark = pytest.mark.usefixtures("no_csrf")


def _member(app: Any, business: Any, role: Role) -> Any:
    return staff.create_staff(
        app.test_session(),
        business_id=business.id,
        login=f"{role.value}-{business.id}",
        password=PASSWORD,
        role=role.value,
    )


def _signed_in(app: Any, business: Any, role: Role) -> Any:
    _member(app, business, role)
    return staff_signed_in(app, business.id, f"{role.value}-{business.id}")


def _flag(app: Any, business: Any) -> int:
    """An open flag on a customer, raised by a cashier's close."""
    session = app.test_session()
    cashier = staff.create_staff(
        session,
        business_id=business.id,
        login=f"till-{business.id}",
        password=PASSWORD,
        role="cashier",
        display_name="Вася Касса",
    )
    person = customers.join(
        session, Actor.system(business.id), phone="+79161234567", name="Пётр Хитров"
    ).customer
    flag = AbuseFlag(
        business_id=business.id,
        kind="customer_accruals_day",
        subject=f"customer:{person.id}",
        window="2026-11-29",
        customer_id=person.id,
        staff_id=cashier.id,
        details=json.dumps({"count": 4, "limit": 3}),
        raised_at=utcnow(),
    )
    session.add(flag)
    session.commit()
    return int(flag.id)


def _status(app: Any, flag_id: int) -> str:
    session = app.test_session()
    session.expire_all()
    return str(session.scalar(select(AbuseFlag.status).where(AbuseFlag.id == flag_id)))


def _text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def _limits(app: Any, business: Any) -> AbuseLimits:
    session = app.test_session()
    session.expire_all()
    owner = Actor.system(business.id)
    return abuse_flags.current_limits(session, owner)


def _url(business: Any, tail: str = "") -> str:
    return f"/b/{business.id}/backoffice/flags{tail}"


LIMITS_FORM = {
    "accruals_per_customer_day": "5",
    "accruals_per_staff_hour": "40",
    "redeem_after_accrual_minutes": "15",
    "joins_without_orders_per_staff_day": "0",
    "hard_block": "on",
    "adjustment_approval_above": "5000",
    "adjustments_per_staff_day": "10",
    "adjustments_per_customer_day": "3",
    "adjustment_day_total_above": "20000",
}


def test_anonymous_is_sent_to_sign_in(client: Any, business: Any) -> None:
    assert client.get(_url(business)).status_code == 302


def test_a_cashier_is_forbidden(app: Any, business: Any) -> None:
    flag_id = _flag(app, business)
    cashier = _signed_in(app, business, Role.CASHIER)
    assert cashier.get(_url(business)).status_code == 403
    assert (
        cashier.post(_url(business, f"/{flag_id}/resolve"), data={"note": "сам закрою"}).status_code
        == 403
    )
    assert cashier.post(_url(business, "/limits"), data=LIMITS_FORM).status_code == 403
    assert _status(app, flag_id) == "open" and _limits(app, business) == AbuseLimits()


def test_a_manager_sees_and_resolves(app: Any, business: Any) -> None:
    flag_id = _flag(app, business)
    manager = _signed_in(app, business, Role.MANAGER)
    page = manager.get(_url(business))
    text = _text(page)
    assert page.status_code == 200
    assert "Много начислений одному клиенту" in text and "4 начислений за день" in text
    assert "Пётр Хитров" in text and "Вася Касса" in text and "29.11.2026" in text
    assert f'id="flag-{flag_id}"' in text
    assert 'id="limits-form"' not in text and 'id="limits-view"' in text  # read-only
    assert " style=" not in text and "<script>" not in text

    refused = manager.post(_url(business, f"/{flag_id}/resolve"), data={"note": "  "})
    assert refused.status_code == 422 and "комментарий обязателен" in _text(refused)
    assert _status(app, flag_id) == "open"

    done = manager.post(
        _url(business, f"/{flag_id}/resolve"), data={"note": "Семья из трёх машин, всё честно"}
    )
    assert done.status_code == 302 and done.location.endswith(_url(business))
    assert _status(app, flag_id) == "resolved"
    after = _text(manager.get(_url(business)))
    assert "Сигнал закрыт" in after and "Открытых сигналов нет" in after

    again = manager.post(_url(business, f"/{flag_id}/resolve"), data={"note": "ещё раз"})
    assert again.status_code == 409 and "уже закрыт" in _text(again)
    assert manager.post(_url(business, "/limits"), data=LIMITS_FORM).status_code == 403


def test_the_owner_changes_the_limits(app: Any, business: Any) -> None:
    owner = _signed_in(app, business, Role.OWNER)
    page = _text(owner.get(_url(business)))
    assert 'id="limits-form"' in page and 'name="csrf_token"' in page
    response = owner.post(_url(business, "/limits"), data=LIMITS_FORM)
    assert response.status_code == 302
    assert _limits(app, business) == AbuseLimits(5, 40, 15, 0, hard_block=True)
    assert "Лимиты сохранены" in _text(owner.get(_url(business)))
    owner.post(_url(business, "/limits"), data={**LIMITS_FORM, "hard_block": ""})
    assert _limits(app, business).hard_block is False


@pytest.mark.parametrize(
    ("field", "value", "label"),
    [
        ("accruals_per_customer_day", "много", "Начислений одному клиенту за день"),
        ("accruals_per_staff_hour", "-1", "Начислений одним сотрудником за час"),
        ("redeem_after_accrual_minutes", "1.5", "Списание после начисления, минут"),
        (
            "joins_without_orders_per_staff_day",
            "99999999",
            "Регистраций без заказов у сотрудника за день",
        ),
        ("accruals_per_customer_day", "", "Начислений одному клиенту за день"),
    ],
)
def test_bad_limits_are_named_and_change_nothing(
    app: Any, business: Any, field: str, value: str, label: str
) -> None:
    owner = _signed_in(app, business, Role.OWNER)
    response = owner.post(_url(business, "/limits"), data={**LIMITS_FORM, field: value})
    text = _text(response)
    assert response.status_code == 422
    assert f"«{label}»: целое число от 0 до" in text
    assert f'value="{value}"' in text  # what the owner typed is shown back
    assert _limits(app, business) == AbuseLimits()


def test_another_business_is_not_found(app: Any, business: Any, make_business: Any) -> None:
    other = make_business("Чужой сервис")
    theirs = _flag(app, other)
    manager = _signed_in(app, business, Role.MANAGER)
    assert manager.get(_url(other)).status_code == 404
    assert (
        manager.post(_url(other, f"/{theirs}/resolve"), data={"note": "чужое"}).status_code == 404
    )
    assert (
        manager.post(_url(business, f"/{theirs}/resolve"), data={"note": "чужое"}).status_code
        == 404
    )
    assert f'id="flag-{theirs}"' not in _text(manager.get(_url(business)))
    assert _status(app, theirs) == "open"


def test_every_kind_of_flag_has_a_russian_description() -> None:
    assert set(KINDS) == {kind.value for kind in Kind}


def test_a_manager_cannot_close_a_flag_about_themselves_or_about_adjustments(
    app: Any, business: Any
) -> None:
    manager = _signed_in(app, business, Role.MANAGER)
    session = app.test_session()
    manager_id = session.scalar(select(StaffUser.id).where(StaffUser.role == "manager"))
    flags = {}
    for kind, subject, raised_by in (("staff_accruals_hour", f"staff:{manager_id}", None),
                                     ("large_adjustment", "request:1", None)):
        flag = AbuseFlag(business_id=business.id, kind=kind, subject=subject,
                         window="2026-11-29T14", staff_id=raised_by,
                         details=json.dumps({"count": 40, "limit": 30}), raised_at=utcnow())
        session.add(flag)
        session.commit()
        flags[kind] = flag.id
    page = _text(manager.get(_url(business)))
    assert "Сигнал о ваших действиях закрывает другой сотрудник или владелец" in page
    assert "Закрывает владелец" in page and 'id="note-' not in page  # no form to close them
    for kind, says in (
        ("staff_accruals_hour",
         "Сигнал о ваших собственных действиях закрывает другой сотрудник или владелец."),
        ("large_adjustment", "Сигналы о корректировках баллов закрывает только владелец."),
    ):
        refused = manager.post(_url(business, f"/{flags[kind]}/resolve"),
                               data={"note": "Проверил сам, всё честно"})
        assert refused.status_code == 403 and says in _text(refused)
        assert _status(app, flags[kind]) == "open"
    owner = _signed_in(app, business, Role.OWNER)
    assert owner.post(_url(business, f"/{flags['large_adjustment']}/resolve"),
                      data={"note": "Одобрено мной"}).status_code == 302
    assert _status(app, flags["large_adjustment"]) == "resolved"
