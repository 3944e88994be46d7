"""The manager's "Подозрительное" page: open abuse flags, resolving them with a note,
and (for the owner) the limits that raise them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from staff.access import require
from webapp.current import unit_of_work
from webapp.domain.actor import Actor, Role
from webapp.domain.counter_settings import AbuseLimits
from webapp.domain.errors import AlreadyResolved, InvalidInput, NotFound, PermissionDenied
from webapp.domain.numbers import MAX_INT, whole_number
from webapp.errors import worded
from webapp.services.abuse import flags as abuse_flags

bp = Blueprint("backoffice_flags", __name__, url_prefix="/b/<int:business_id>/backoffice")

KINDS = {
    "customer_accruals_day": (
        _l("Много начислений одному клиенту"),
        _l("%(count)s начислений за день при лимите %(limit)s"),
    ),
    "staff_accruals_hour": (
        _l("Много начислений у сотрудника"),
        _l("%(count)s начислений за час при лимите %(limit)s"),
    ),
    "redeem_after_accrual": (
        _l("Списание сразу после начисления"),
        _l("списание через %(count)s мин после начисления (порог %(limit)s мин)"),
    ),
    "joins_without_orders": (
        _l("Регистрации без заказов"),
        _l("%(count)s новых клиентов без заказов за день при лимите %(limit)s"),
    ),
    "large_adjustment": (
        _l("Крупная корректировка баллов"),
        _l("%(count)s баллов одной корректировкой при лимите %(limit)s"),
    ),
    "staff_adjustments_day": (
        _l("Много корректировок у сотрудника"),
        _l("%(count)s корректировок баллов за день при лимите %(limit)s"),
    ),
    "customer_adjustments_day": (
        _l("Много корректировок одному клиенту"),
        _l("%(count)s корректировок баллов за день при лимите %(limit)s"),
    ),
    "sign_in_codes_hour": (
        _l("Много запросов кода входа с новых номеров"),
        _l("%(count)s кодов за час при лимите %(limit)s: новым номерам коды не отправляются"
           " до конца часа, клиенты входят как обычно. Возможна накрутка SMS"),
    ),
}

LIMITS = [
    ("accruals_per_customer_day", _l("Начислений одному клиенту за день")),
    ("accruals_per_staff_hour", _l("Начислений одним сотрудником за час")),
    ("redeem_after_accrual_minutes", _l("Списание после начисления, минут")),
    ("joins_without_orders_per_staff_day", _l("Регистраций без заказов у сотрудника за день")),
    ("adjustment_approval_above", _l("Корректировка баллов без одобрения владельца, не больше")),
    ("adjustment_day_total_above",
     _l("Корректировки одного сотрудника за день без одобрения владельца, баллов всего")),
    ("adjustments_per_staff_day", _l("Корректировок одним сотрудником за день")),
    ("adjustments_per_customer_day", _l("Корректировок одному клиенту за день")),
]
_LABELS = dict(LIMITS)
# Why the resolve form is not shown to this staff member (FlagView.not_theirs).
NOT_THEIRS = {
    "own": _l("Сигнал о ваших действиях закрывает другой сотрудник или владелец"),
    "owner": _l("Закрывает владелец"),
}


def _whole_or_minus_one(text: str) -> int:
    try:
        return whole_number(text, high=MAX_INT)
    except InvalidInput:
        return -1


def describe(flag: abuse_flags.FlagView) -> tuple[str, str]:
    """The flag's title and its numbers in words."""
    title, text = KINDS.get(flag.kind, (flag.kind, ""))
    if flag.count is None or flag.limit is None:
        return title, ""
    return str(title), str(text) % {"count": flag.count, "limit": flag.limit}


def period(window: str) -> str:
    """``2026-11-29`` → ``29.11.2026``; ``2026-11-29T14`` → ``29.11.2026, 14:00–15:00``."""
    day, _sep, hour = window.partition("T")
    year, month, date = day.split("-")
    shown = f"{date}.{month}.{year}"
    if hour:
        shown += f", {int(hour):02d}:00–{(int(hour) + 1) % 24:02d}:00"
    return shown


def _page(
    actor: Actor,
    *,
    error: str | None = None,
    typed: dict[str, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """The page; after a refused limits form, ``typed`` shows back what the owner typed."""
    flags = abuse_flags.open_flags(unit_of_work(), actor)
    shown = [(flag, *describe(flag), period(flag.window)) for flag in flags]
    limits = abuse_flags.current_limits(unit_of_work(), actor)
    values = typed or {name: str(getattr(limits, name)) for name, _label in LIMITS}
    hard_block = (typed.get("hard_block") == "on") if typed else limits.hard_block
    return render_template(
        "backoffice/flags.html",
        flags=shown,
        error=error,
        values=values,
        hard_block=hard_block,
        limit_fields=LIMITS,
        not_theirs=NOT_THEIRS,
        can_edit=actor.is_at_least(Role.OWNER),
        business_id=actor.business_id,
    ), status


@bp.get("/flags")
@require(Role.MANAGER)
def page(actor: Actor) -> tuple[str, int]:
    return _page(actor)


@bp.post("/flags/<int:flag_id>/resolve")
@require(Role.MANAGER)
def resolve(actor: Actor, flag_id: int) -> Response | tuple[str, int]:
    note = request.form.get("note", "")
    try:
        abuse_flags.resolve(unit_of_work(), actor, flag_id, note)
    except NotFound:
        abort(404)
    except AlreadyResolved:
        return _page(actor, error=_("Этот сигнал уже закрыт."), status=409)
    except PermissionDenied as refused:
        return _page(actor, error=worded(refused), status=403)
    except InvalidInput:
        return _page(
            actor,
            status=422,
            error=_("Напишите, что выяснили: комментарий обязателен, до 500 символов."),
        )
    flash(_("Сигнал закрыт"), "success")
    return redirect(url_for(".page", business_id=actor.business_id))


@bp.post("/flags/limits")
@require(Role.OWNER)
def save_limits(actor: Actor) -> Response | tuple[str, int]:
    form = request.form
    # Anything but a whole number becomes -1, which the rules refuse with the bounds.
    numbers = {name: _whole_or_minus_one(form.get(name, "")) for name, _label in LIMITS}
    wanted = AbuseLimits(**numbers, hard_block=form.get("hard_block") == "on")
    try:
        abuse_flags.save_limits(unit_of_work(), actor, wanted)
    except InvalidInput as error:
        label = _LABELS.get(str(error.params.get("name")), _("Лимит"))
        low, high = error.params.get("low", 0), error.params.get("high", "")
        message = (
            _("«%(label)s»: целое число от %(low)s до %(high)s (0 — проверка выключена).",
              label=label, low=low, high=high) if low == 0
            else _("«%(label)s»: целое число от %(low)s до %(high)s.", label=label, low=low,
                   high=high)
        )
        return _page(actor, error=message, typed=form.to_dict(), status=422)
    flash(_("Лимиты сохранены"), "success")
    return redirect(url_for(".page", business_id=actor.business_id))
