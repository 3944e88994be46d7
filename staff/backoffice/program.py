"""The owner's "Программа" page: choose and tune the program, preview it, save a version.

Each view reads the form here (:mod:`staff.backoffice.program_form`), calls one service
of :mod:`webapp.services.program.editing` with the settings, and renders.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from staff.access import require
from staff.backoffice import program_form
from webapp import i18n
from webapp.current import unit_of_work
from webapp.domain.actor import Actor, Role
from webapp.domain.errors import InvalidInput
from webapp.domain.money import parse_rubles
from webapp.domain.program import InvalidSetting
from webapp.errors import worded
from webapp.services.business import settings as business_settings
from webapp.services.program import editing

bp = Blueprint("backoffice_program", __name__, url_prefix="/b/<int:business_id>/backoffice")


@bp.get("/program")
@require(Role.OWNER)
def page(actor: Actor) -> str:
    data = editing.open_editor(unit_of_work(), actor, request.args.get("preset"),
                             i18n.current())
    assert data.settings is not None  # the page always shows settings
    return render_template("backoffice/program.html", page=data,
                           values=program_form.values(data.settings),
                           sms_price=program_form.money_text(data.sms_price_minor),
                           business_id=actor.business_id)


@bp.post("/program/preview")
@require(Role.OWNER)
def preview(actor: Actor) -> tuple[str, int]:
    form = request.get_json(silent=True)
    if not isinstance(form, dict):
        return render_template("backoffice/_preview.html", preview=None,
                               error=_("Форма не прочитана: обновите страницу.")), 400
    try:
        shown = editing.preview(unit_of_work(), actor, program_form.parse(form).settings,
                                     i18n.current())
    except InvalidSetting as error:
        return render_template("backoffice/_preview.html", preview=None,
                               error=program_form.message(error), lang=i18n.current()), 422
    return render_template("backoffice/_preview.html", preview=shown, error=None), 200


@bp.post("/program")
@require(Role.OWNER)
def save(actor: Actor) -> Response | tuple[str, int]:
    form = request.form.to_dict()
    try:
        number = editing.save(unit_of_work(), actor, program_form.parse(form))
    except InvalidSetting as error:
        data = editing.refused_editor(
            unit_of_work(), actor, preset=str(form.get("preset") or ""),
            settings=program_form.settings_or_none(form),
            idempotency_key=str(form.get("idempotency_key") or ""),
            error=program_form.message(error), lang=i18n.current())
        return render_template("backoffice/program.html", page=data,
                               values=program_form.echo(form),
                               sms_price=program_form.money_text(data.sms_price_minor),
                               business_id=actor.business_id), 422
    flash(_("Версия %(number)s сохранена", number=number), "success")
    return redirect(url_for(".page", business_id=actor.business_id))


@bp.post("/program/sms-price")
@require(Role.OWNER)
def sms_price(actor: Actor) -> Response | tuple[str, int]:
    """The price of one SMS the cost estimate uses; a wrong one is shown with the page."""
    typed = str(request.form.get("sms_price_rub") or "")
    try:
        business_settings.save_sms_price(unit_of_work(), actor, parse_rubles(typed))
    except InvalidInput as error:
        data = editing.open_editor(unit_of_work(), actor, None, i18n.current())
        assert data.settings is not None
        return render_template("backoffice/program.html", page=data,
                               values=program_form.values(data.settings), sms_price=typed[:40],
                               sms_error=worded(error), business_id=actor.business_id), 422
    flash(_("Цена SMS сохранена: расчёт стоимости программы считает по ней."), "success")
    return redirect(url_for(".page", business_id=actor.business_id))
