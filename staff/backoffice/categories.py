"""The "Категории" page: the business's categories of works and parts, named in ru and
en; add one, rename it, change its kind, deactivate or reactivate it (managers and up).

Each view reads the form, calls one service of
:mod:`webapp.services.program.categories`, and renders; a refusal shows the page again
with the message and what was typed.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from staff.access import require
from webapp.current import unit_of_work
from webapp.domain.actor import Actor, Role
from webapp.domain.errors import DomainError
from webapp.errors import worded
from webapp.services.program import categories

bp = Blueprint("backoffice_categories", __name__, url_prefix="/b/<int:business_id>/backoffice")

KINDS = [("work", _l("Работа")), ("part", _l("Запчасть")), ("other", _l("Другое"))]


@bp.get("/categories")
@require(Role.MANAGER)
def page(actor: Actor) -> Any:
    return _render(actor)


@bp.post("/categories")
@require(Role.MANAGER)
def add(actor: Actor) -> Any:
    form = request.form
    try:
        code = categories.add(unit_of_work(), actor, form.get("idempotency_key", ""),
                              name_ru=form.get("name_ru", ""), name_en=form.get("name_en"),
                              kind=form.get("kind", ""), code=form.get("code") or None)
    except DomainError as error:
        return _render(actor, error=worded(error), error_at="add", form=form,
                       status=error.status)
    flash(_("Категория добавлена, её код: %(code)s.", code=code), "success")
    return redirect(url_for(".page", business_id=actor.business_id))


@bp.post("/categories/<int:category_id>")
@require(Role.MANAGER)
def edit(actor: Actor, category_id: int) -> Any:
    form = request.form
    try:
        categories.edit(unit_of_work(), actor, category_id, name_ru=form.get("name_ru", ""),
                        name_en=form.get("name_en"), kind=form.get("kind", ""))
    except DomainError as error:
        return _render(actor, error=worded(error), error_at=category_id, form=form,
                       status=error.status)
    flash(_("Категория сохранена."), "success")
    return redirect(url_for(".page", business_id=actor.business_id))


@bp.post("/categories/<int:category_id>/active")
@require(Role.MANAGER)
def set_active(actor: Actor, category_id: int) -> Any:
    wanted = request.form.get("active")
    if wanted not in ("0", "1"):
        return _render(actor, error=_("Не указано, включить категорию или отключить."),
                       status=400)
    try:
        categories.set_active(unit_of_work(), actor, category_id, wanted == "1")
    except DomainError as error:
        return _render(actor, error=worded(error), status=error.status)
    flash(_("Категория снова предлагается на кассе.") if wanted == "1"
          else _("Категория отключена: на кассе её больше не предлагают."), "success")
    return redirect(url_for(".page", business_id=actor.business_id))


def _render(actor: Actor, *, error: str | None = None, error_at: int | str | None = None,
            form: MultiDict[str, str] | None = None, status: int = 200) -> Response:
    return make_response(render_template(
        "backoffice/categories.html", business_id=actor.business_id,
        categories=categories.list_categories(unit_of_work(), actor), kinds=KINDS,
        kind_names=dict(KINDS), error=error, error_at=error_at, form=form or MultiDict(),
        key=secrets.token_urlsafe(24)), status)
