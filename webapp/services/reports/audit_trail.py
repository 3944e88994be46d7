"""The audit trail of a customer or a staff member, as managers read it: local times,
actions in Russian, short device names and the details that matter. Reading it is one
read scope of the unit of work (:mod:`webapp.services.unit_of_work`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.catalogue import N_, gettext_for
from webapp.domain import cards
from webapp.domain.actor import Actor
from webapp.domain.errors import NotFound
from webapp.domain.history_text import signed
from webapp.domain.money import format_money
from webapp.persistence.models import Customer, StaffUser
from webapp.services.customers.history import (
    business_of,
    card_of,
    customer_of,
    require_manager,
)
from webapp.services.staff import audit
from webapp.services.unit_of_work import reads

# Each action's label, translated when shown (:func:`trail`'s ``lang``).
ACTIONS = {
    "close": N_("Закрытие заказа"),
    "accrue": N_("Начисление"),
    "redeem": N_("Списание"),
    "hold": N_("Начисление с ожиданием"),
    "release": N_("Зачисление из ожидания"),
    "cancel": N_("Отмена ожидающего начисления"),
    "reverse": N_("Возврат заказа"),
    "return_lines": N_("Возврат позиций заказа"),
    "adjust": N_("Корректировка баллов"),
    "adjustment_request.create": N_("Запрос на корректировку баллов"),
    "adjustment_request.approve": N_("Корректировка баллов одобрена владельцем"),
    "adjustment_request.reject": N_("Запрос на корректировку отклонён"),
    "close_refused": N_("Отказ по лимитам злоупотреблений"),
    "abuse_flag.resolve": N_("Флаг злоупотребления разобран"),
    "abuse_flag.reopen": N_("Флаг злоупотребления открыт снова: лимит превышен ещё раз"),
    "staff.invite": N_("Приглашение сотрудника"),
    "staff.invite_accepted": N_("Сотрудник принял приглашение"),
    "staff.reset_access": N_("Сброс доступа сотрудника"),
    "staff.activate": N_("Сотрудник включён"),
    "staff.deactivate": N_("Сотрудник отключён"),
    "staff.set_role": N_("Изменены роль или филиалы"),
    "staff.sign_out_everywhere": N_("Завершены все сеансы"),
    "account_deleted": N_("Клиент удалил аккаунт"),
    "data_consent_withdrawn": N_("Клиент отозвал согласие на обработку данных"),
    "wallet.link_sent": N_("Клиенту отправлена ссылка на карту в кошельке"),
    "category.add": N_("Добавлена категория работ и запчастей"),
    "category.rename": N_("Категория переименована"),
    "category.kind": N_("Изменён тип категории"),
    "category.activate": N_("Категория снова предлагается на кассе"),
    "category.deactivate": N_("Категория отключена"),
    "counter.join": N_("Клиент записан на кассе, согласие принято"),
    "asset.add": N_("Добавлен автомобиль или устройство клиента"),
}


@dataclass(frozen=True)
class AuditLine:
    at: datetime
    when: str
    action: str  # in the reader's language
    staff_id: int | None
    staff: str | None
    customer_id: int | None
    customer: str | None  # name or card number, on a staff member's trail
    branch: str | None
    device: str | None  # shortened user agent
    ip: str | None
    order_id: int | None
    details: str


@dataclass(frozen=True)
class AuditTrail:
    business_name: str
    subject: str  # "Иван Петров (123 456 789)" or the staff member's name
    customer_id: int | None
    staff_id: int | None
    events: list[AuditLine]


@reads
def trail(
    session: Session,
    actor: Actor,
    *,
    customer_id: int | None = None,
    staff_id: int | None = None,
    limit: int = 200,
    lang: str = "ru",
) -> AuditTrail:
    """The audit trail of one customer or one staff member, for people to read in ``lang``.

    Another business's customer -> UnknownCustomer, staff member -> NotFound.
    """
    require_manager(actor)
    if (customer_id is None) == (staff_id is None):
        raise ValueError("give a customer or a staff member")
    business = business_of(session, actor)
    if customer_id is not None:
        card = card_of(customer_of(session, actor, customer_id), lang)
        subject = f"{card.name} ({card.card_number})" if card.name else card.card_number
    else:
        member = session.get(StaffUser, staff_id)
        if member is None or member.business_id != actor.business_id:
            raise NotFound("unknown_staff_member", staff_id=staff_id)
        subject = member.display_name
    events = audit.trail(session, actor, customer_id=customer_id, staff_id=staff_id, limit=limit)
    names = _customer_labels(session, {e.customer_id for e in events if e.customer_id})
    _ = gettext_for(lang)
    return AuditTrail(
        business_name=business.name,
        subject=subject,
        customer_id=customer_id,
        staff_id=staff_id,
        events=[
            AuditLine(
                at=e.at,
                when=business.local(e.at),
                action=_(ACTIONS[e.action]) if e.action in ACTIONS else e.action,
                staff_id=e.staff_id,
                staff=e.staff_name,
                customer_id=e.customer_id,
                customer=names.get(e.customer_id) if e.customer_id else None,
                branch=e.branch_name,
                device=short_device(e.device, lang),
                ip=e.ip,
                order_id=e.order_id,
                details=audit_details(e.action, e.details, business.currency, lang),
            )
            for e in events
        ],
    )


def audit_details(action: str, details: dict[str, Any], currency: str = "RUB",
                  lang: str = "ru") -> str:
    """The useful part of an event's details in ``lang``: order, amount, points, reason.

    Points are shown as the change to the customer: a refund's points are taken back.
    """
    _ = gettext_for(lang)
    parts = []
    order = details.get("order") or details.get("order_id")
    if order:
        parts.append(_("заказ №%(order)s") % {"order": order})
    for key, label in (("total", N_("сумма заказа %(amount)s")),
                       ("refund", N_("возврат %(amount)s"))):
        if isinstance(details.get(key), int):
            parts.append(_(label) % {"amount": format_money(details[key], currency, lang)})
    for key, label in (("redeemed", N_("списано %(points)s")),
                       ("accrued", N_("начислено %(points)s"))):
        if details.get(key):
            parts.append(_(label) % {"points": details[key]})
    points = details.get("points")
    if (
        isinstance(points, int)
        and points
        and not (details.get("redeemed") or details.get("accrued"))
    ):
        if action in ("redeem", "reverse", "return_lines"):  # taken from the customer
            points = -points
        parts.append(_("баллы %(change)s") % {"change": signed(points)})
    if details.get("reason"):
        parts.append(_("причина: %(reason)s") % {"reason": details["reason"]})
    if details.get("note"):
        parts.append(_("комментарий: %(note)s") % {"note": details["note"]})
    if isinstance(details.get("available"), int):
        parts.append(_("доступно после: %(points)s") % {"points": details["available"]})
    if details.get("owed"):
        parts.append(_("долг: %(points)s") % {"points": details["owed"]})
    if action == "asset.add" and details.get("value"):
        parts.append(_("номер %(value)s") % {"value": details["value"]})
    if details.get("confirmed_by") == "screen":
        parts.append(_("согласие клиент отметил на экране кассы"))
    if isinstance(details.get("consents"), dict) and details["consents"]:
        parts.append(_("версии текстов согласий: %(versions)s")
                     % {"versions": ", ".join(map(str, details["consents"].values()))})
    if details.get("referred_by_id"):
        parts.append(_("пригласил клиент №%(id)s") % {"id": details["referred_by_id"]})
    return "; ".join(parts)


_BROWSERS = (
    ("YaBrowser", N_("Яндекс Браузер")),
    ("Edg", "Edge"),
    ("OPR", "Opera"),
    ("Firefox", "Firefox"),
    ("Chrome", "Chrome"),
    ("Version", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def short_device(user_agent: str | None, lang: str = "ru") -> str | None:
    """A user agent as people say it: "Chrome 120, Windows"; unknown ones cut to 40 chars."""
    if not user_agent:
        return None
    browser = next(
        (
            f"{gettext_for(lang)(name)} {match.group(1)}"
            for token, name in _BROWSERS
            if (match := re.search(rf"\b{token}/(\d+)", user_agent))
        ),
        None,
    )
    system = next((name for token, name in _SYSTEMS if token in user_agent), None)
    if browser is None and system is None:
        return user_agent if len(user_agent) <= 40 else user_agent[:39] + "…"
    return ", ".join(part for part in (browser, system) if part)


def _customer_labels(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(
        select(Customer.id, Customer.name, Customer.card_number).where(Customer.id.in_(ids))
    ).all()
    return {cid: name or cards.display(card) for cid, name, card in rows}
