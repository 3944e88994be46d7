"""Adjustments waiting for the owner: the list (managers and owners see it), and the
owner's approval or rejection, from the list or from the customer's page; and the
words for a request's status and for why a correction became a request.

Nested in the back office customers blueprint: /b/<id>/backoffice/adjustments.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from staff.access import require
from staff.backoffice.customer_page import history_page
from webapp import i18n
from webapp.catalogue import words_for
from webapp.current import unit_of_work
from webapp.domain import history_text
from webapp.domain.actor import Actor, Role
from webapp.domain.errors import DomainError, NotFound, PermissionDenied
from webapp.domain.wording import format_points
from webapp.errors import worded
from webapp.services.ledger import adjustment_request_list, adjustment_requests

bp = Blueprint("adjustments", __name__, url_prefix="/adjustments")
STATUS = {"pending": _l("ждёт одобрения"), "approved": _l("одобрено"),
          "rejected": _l("отклонено")}
BY_SYSTEM = _l("отклонено автоматически: аккаунт клиента закрыт")
_WHY = {
    "large": _l("Корректировка %(amount)s больше лимита (%(limit)s): запрос отправлен"
                " владельцу, баллы изменятся после его одобрения"),
    "staff_day": _l("С корректировкой %(amount)s ваши корректировки за сегодня составят"
                    " %(total)s — больше дневного лимита (%(limit)s): запрос отправлен"
                    " владельцу, баллы изменятся после его одобрения"),
    "customer_day": _l("С корректировкой %(amount)s корректировки этому клиенту за сегодня"
                       " составят %(total)s — больше лимита (%(limit)s): запрос отправлен"
                       " владельцу, баллы изменятся после его одобрения"),
}


def asked(done: adjustment_requests.Submitted) -> str:
    """Why a manager's correction went to the owner instead of being applied."""
    template = _WHY.get(done.why or "", _WHY["large"])
    return str(template) % {"amount": points_text(done.points), "limit": done.limit,
                            "total": points_text(done.total or 0, signed=False)}


@bp.get("")
@require(Role.MANAGER)
def page(actor: Actor) -> str:
    return _list_page(actor)


@bp.post("/<int:request_id>/approve")
@require(Role.OWNER)
def approve(actor: Actor, request_id: int) -> Response | tuple[str, int]:
    try:
        done = adjustment_requests.approve(unit_of_work(), actor, request_id)
    except (NotFound, PermissionDenied):
        raise
    except DomainError as error:
        return _refused(actor, request_id, error), error.status
    if done.already:
        flash(_("Этот запрос уже одобрен."), "success")
    else:
        flash(_("Корректировка %(amount)s одобрена: теперь доступно %(available)s",
                amount=points_text(done.points), available=done.available), "success")
    return redirect(_back_url(actor, done.customer_id))


@bp.post("/<int:request_id>/reject")
@require(Role.OWNER)
def reject(actor: Actor, request_id: int) -> Response | tuple[str, int]:
    try:
        done = adjustment_requests.reject(unit_of_work(), actor, request_id,
                                          request.form.get("note", ""))
    except (NotFound, PermissionDenied):
        raise
    except DomainError as error:
        return _refused(actor, request_id, error), error.status
    flash(_("Этот запрос уже отклонён.") if done.already
          else _("Запрос на корректировку %(amount)s отклонён", amount=points_text(done.points)),
          "success")
    return redirect(_back_url(actor, done.customer_id))


def _from_customer_page() -> bool:
    """Whether the form was on the request's customer's page ("customer"), not the list.
    Which customer is the request's own, never read from the form."""
    return request.form.get("back") == "customer"


def _back_url(actor: Actor, customer_id: int) -> str:
    if not _from_customer_page():
        return url_for(".page", business_id=actor.business_id)
    return url_for("backoffice_customers.page", business_id=actor.business_id,
                   customer_id=customer_id)


def _refused(actor: Actor, request_id: int, error: DomainError) -> str:
    """The page the form was on, with the error at that request and the note typed."""
    where, echo = f"request-{request_id}", {"note": request.form.get("note", "")}
    if _from_customer_page():
        customer_id = adjustment_requests.customer_of(unit_of_work(), actor, request_id)
        return history_page(actor, customer_id, error=worded(error), error_at=where, echo=echo)
    return _list_page(actor, error=worded(error), error_at=where, echo=echo)


def _list_page(actor: Actor, *, error: str | None = None, error_at: str | None = None,
               echo: dict[str, str] | None = None) -> str:
    pending = adjustment_request_list.requests(unit_of_work(), actor)
    if error_at not in {f"request-{r.id}" for r in pending}:
        error_at = None  # decided meanwhile: no longer listed, say it on top
    return render_template(
        "backoffice/adjustments.html",
        pending=pending,
        decided=adjustment_request_list.requests(unit_of_work(), actor, pending=False, limit=50),
        can_approve=actor.is_at_least(Role.OWNER),
        statuses=STATUS,
        by_system=BY_SYSTEM,
        business_id=actor.business_id,
        error=error,
        error_at=error_at,
        echo=echo or {},
    )


def points_text(points: int, *, signed: bool = True) -> str:
    """Points in the page's language, the number as typed (no grouping): "+5000 баллов",
    "−1 point"; unsigned: "5000 баллов"."""
    shown = history_text.signed(points) if signed else str(points)
    return format_points(abs(points), words_for(i18n.current()), shown=shown)
