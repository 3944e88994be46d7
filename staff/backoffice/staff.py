"""The owner's "Сотрудники" page: invite staff, reset their access, (de)activate them,
change their role and branches, sign them out everywhere.

An invitation link is shown once, in the response to the request that made it (never
stored in the session or sent again); the owner passes it to the employee.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from staff.access import require
from webapp.current import unit_of_work
from webapp.domain.actor import Actor, Role
from webapp.domain.errors import AlreadyExists, DomainError, InvalidInput
from webapp.domain.numbers import MAX_ID, whole_number
from webapp.services.staff import sign_in
from webapp.services.staff import team as staff_admin
from webapp.services.staff.team import Invitation, OwnAccount

bp = Blueprint("backoffice_staff", __name__, url_prefix="/b/<int:business_id>/backoffice")

ROLES = [("cashier", _l("Кассир")), ("manager", _l("Менеджер")), ("owner", _l("Владелец"))]
_FIELD_MESSAGES = {
    "login": _l("Логин — от 1 до 64 букв, цифр или знаков . _ - @."),
    "role": _l("Выберите роль: кассир, менеджер или владелец."),
    "branch_ids": _l("Такого филиала нет в этом бизнесе."),
}
_OWN_ACCOUNT = {
    "reset": _l("Свой доступ сбросить нельзя: попросите другого владельца."),
    "active": _l("Нельзя отключить самого себя."),
    "role": _l("Нельзя снять с себя роль владельца."),
}


@bp.get("/staff")
@require(Role.OWNER)
def page(actor: Actor) -> Any:
    return _render(actor)


@bp.post("/staff/invite")
@require(Role.OWNER)
def invite(actor: Actor) -> Any:
    form = request.form
    try:
        invitation = staff_admin.invite(
            unit_of_work(),
            actor,
            login=form.get("login", ""),
            display_name=form.get("display_name", ""),
            role=form.get("role", ""),
            branch_ids=_branch_ids(form),
        )
    except DomainError as error:
        return _render(actor, error=_message(error, "invite"), form=form, status=error.status)
    return _render(actor, invitation=invitation)


@bp.post("/staff/<int:staff_id>/reset")
@require(Role.OWNER)
def reset(actor: Actor, staff_id: int) -> Any:
    try:
        invitation = staff_admin.reset_access(unit_of_work(), actor, staff_id)
    except OwnAccount:
        return _render(actor, error=str(_OWN_ACCOUNT["reset"]), status=409)
    return _render(actor, invitation=invitation)


@bp.post("/staff/<int:staff_id>/active")
@require(Role.OWNER)
def set_active(actor: Actor, staff_id: int) -> Any:
    wanted = request.form.get("active")
    if wanted not in ("0", "1"):
        return _render(actor, error=_("Не указано, включить сотрудника или отключить."), status=400)
    active = wanted == "1"
    try:
        staff_admin.set_active(unit_of_work(), actor, staff_id, active)
    except OwnAccount:
        return _render(actor, error=str(_OWN_ACCOUNT["active"]), status=409)
    flash(
        _("Сотрудник снова может входить.") if active
        else _("Сотрудник отключён, его сеансы завершены."),
        "success",
    )
    return redirect(url_for(".page", business_id=actor.business_id))


@bp.post("/staff/<int:staff_id>/role")
@require(Role.OWNER)
def set_role(actor: Actor, staff_id: int) -> Any:
    try:
        staff_admin.set_role_and_branches(
            unit_of_work(),
            actor,
            staff_id,
            role=request.form.get("role", ""),
            branch_ids=_branch_ids(request.form),
        )
    except (InvalidInput, OwnAccount) as error:
        return _render(actor, error=_message(error, "role"), status=error.status)
    flash(_("Роль и филиалы сохранены."), "success")
    return redirect(url_for(".page", business_id=actor.business_id))


@bp.post("/staff/<int:staff_id>/sign-out")
@require(Role.OWNER)
def sign_out(actor: Actor, staff_id: int) -> Any:
    sign_in.sign_out_everywhere(unit_of_work(), actor, staff_id)
    flash(_("Все сеансы сотрудника завершены."), "success")
    return redirect(url_for(".page", business_id=actor.business_id))


def _branch_ids(form: MultiDict[str, str]) -> list[int]:
    """The ticked branches; anything not an id is no branch (the service says so)."""
    return [_id_or_minus_one(value) for value in form.getlist("branch_ids")]


def _id_or_minus_one(text: str) -> int:
    try:
        return whole_number(text, low=1, high=MAX_ID)
    except InvalidInput:
        return -1


def _message(error: DomainError, action: str) -> str:
    if isinstance(error, OwnAccount):
        return str(_OWN_ACCOUNT[action])
    if isinstance(error, AlreadyExists):
        return _("Этот логин уже занят.")
    return str(_FIELD_MESSAGES.get(str(error.params.get("field")), _("Проверьте поля формы.")))


def _render(
    actor: Actor,
    *,
    invitation: Invitation | None = None,
    error: str | None = None,
    form: MultiDict[str, str] | None = None,
    status: int = 200,
) -> Response:
    directory = staff_admin.list_staff(unit_of_work(), actor)
    link, invited = None, None
    if invitation is not None:
        invited = next(m for m in directory.members if m.id == invitation.staff_id)
        base = current_app.config["REGULARS"].base_url
        link = base + url_for(
            "staff_auth.invite", business_id=actor.business_id, token=invitation.token
        )
    # The link is shown this once, and never cached: webapp.security sends no-store for
    # every staff page.
    return make_response(
        render_template(
            "backoffice/staff.html",
            business_id=actor.business_id,
            directory=directory,
            roles=ROLES,
            role_names=dict(ROLES),
            me=actor.staff_id,
            link=link,
            invited=invited,
            invite_hours=staff_admin.INVITE_HOURS,
            error=error,
            form=form or MultiDict(),
        ),
        status,
    )
