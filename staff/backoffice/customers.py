"""The manager's customer pages: search, history with refunds, returns by line and
corrections, audit trails."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from staff.access import require
from staff.backoffice import adjustments
from staff.backoffice.customer_page import history_page
from webapp import i18n
from webapp.current import unit_of_work
from webapp.domain.actor import Actor, Role
from webapp.domain.errors import DomainError, NotFound, PermissionDenied
from webapp.domain.money import format_money, parse_points, parse_rubles
from webapp.domain.numbers import whole_number
from webapp.errors import worded
from webapp.services.customers import history as customer_history
from webapp.services.customers import returns as customer_returns
from webapp.services.customers import search as customer_search
from webapp.services.reports import audit_trail

bp = Blueprint("backoffice_customers", __name__, url_prefix="/b/<int:business_id>/backoffice")
# The owner's approvals of large adjustments: /b/<id>/backoffice/adjustments/...
bp.register_blueprint(adjustments.bp)


@bp.errorhandler(NotFound)
def _not_found(error: NotFound) -> tuple[str, int]:
    return render_template("error.html", status=404, message=worded(error)), 404


@bp.errorhandler(PermissionDenied)
def _forbidden(error: PermissionDenied) -> tuple[str, int]:
    return render_template("error.html", status=403, message=worded(error)), 403


@bp.get("/customers")
@require(Role.MANAGER)
def search(actor: Actor) -> tuple[str, int]:
    query = request.args.get("q", "").strip()
    if not query:
        return _search_page(actor, query, None, None), 200
    try:
        found = customer_search.search(unit_of_work(), actor, query)
    except DomainError as error:
        return _search_page(actor, query, None, worded(error)), error.status
    return _search_page(actor, query, found, None), 200


@bp.get("/customers/<int:customer_id>")
@require(Role.MANAGER)
def page(actor: Actor, customer_id: int) -> str:
    return history_page(actor, customer_id)


@bp.post("/customers/<int:customer_id>/orders/<int:order_id>/refund")
@require(Role.MANAGER)
def refund(actor: Actor, customer_id: int, order_id: int) -> Response | tuple[str, int]:
    form = request.form
    try:
        amount = parse_rubles(form.get("amount"))
        done = customer_history.refund(
            unit_of_work(),
            actor,
            form.get("idempotency_key", ""),
            customer_id=customer_id,
            order_id=order_id,
            refund_minor=amount,
        )
    except (NotFound, PermissionDenied):
        raise
    except DomainError as error:
        return history_page(
            actor,
            customer_id,
            error=worded(error),
            error_at=f"refund-{order_id}",
            echo=form.to_dict(),
        ), error.status
    flash(
        _("Возврат %(amount)s по заказу №%(order)s: %(points)s",
          amount=format_money(done.refund_minor, done.currency, i18n.current()),
          order=done.order_id,
          points=_points_moved(done.points)) + _owed(done.owed),
        "success",
    )
    return redirect(url_for(".page", business_id=actor.business_id, customer_id=customer_id))


@bp.post("/customers/<int:customer_id>/orders/<int:order_id>/return")
@require(Role.MANAGER)
def return_lines(actor: Actor, customer_id: int, order_id: int) -> Response | tuple[str, int]:
    """Return some lines of an order: how many of each, as typed per line."""
    form = request.form
    try:
        quantities = {int(name.removeprefix("return_")): whole_number(value or "0", high=10_000)
                      for name, value in form.items()
                      if name.startswith("return_") and name[7:].isdigit()}
        done = customer_returns.return_lines(
            unit_of_work(), actor, form.get("idempotency_key", ""), customer_id=customer_id,
            order_id=order_id, quantities=quantities)
    except (NotFound, PermissionDenied):
        raise
    except DomainError as error:
        return history_page(actor, customer_id, error=worded(error),
                            error_at=f"refund-{order_id}", echo=form.to_dict()), error.status
    flash(
        _("Возврат позиций на %(amount)s по заказу №%(order)s: %(points)s",
          amount=format_money(done.refund_minor, done.currency, i18n.current()),
          order=done.order_id, points=_points_moved(done.points)) + _owed(done.owed),
        "success",
    )
    return redirect(url_for(".page", business_id=actor.business_id, customer_id=customer_id))


@bp.post("/customers/<int:customer_id>/adjust")
@require(Role.MANAGER)
def adjust(actor: Actor, customer_id: int) -> Response | tuple[str, int]:
    form = request.form
    try:
        points = parse_points(form.get("points"))
        done = customer_history.adjust(
            unit_of_work(),
            actor,
            form.get("idempotency_key", ""),
            customer_id=customer_id,
            points=points,
            reason=form.get("reason", ""),
        )
    except (NotFound, PermissionDenied):
        raise
    except DomainError as error:
        return history_page(
            actor, customer_id, error=worded(error), error_at="adjust", echo=form.to_dict()
        ), error.status
    if done.request_id is not None:
        flash(adjustments.asked(done), "success")
    else:
        flash(_("Корректировка %(amount)s: теперь доступно %(available)s",
                amount=adjustments.points_text(done.points), available=done.available),
              "success")
    return redirect(url_for(".page", business_id=actor.business_id, customer_id=customer_id))


@bp.get("/customers/<int:customer_id>/audit")
@require(Role.MANAGER)
def customer_audit(actor: Actor, customer_id: int) -> str:
    data = audit_trail.trail(unit_of_work(), actor, customer_id=customer_id,
                             lang=i18n.current())
    return render_template("backoffice/audit.html", trail=data, business_id=actor.business_id)


@bp.get("/staff/<int:staff_id>/audit")
@require(Role.MANAGER)
def staff_audit(actor: Actor, staff_id: int) -> str:
    data = audit_trail.trail(unit_of_work(), actor, staff_id=staff_id, lang=i18n.current())
    return render_template("backoffice/audit.html", trail=data, business_id=actor.business_id)


def _search_page(
    actor: Actor, query: str, found: list[customer_search.Found] | None, error: str | None
) -> str:
    return render_template(
        "backoffice/customers.html",
        query=query,
        found=found,
        error=error,
        business_id=actor.business_id,
    )


def _points_moved(points: int) -> str:
    if points == 0:
        return _("баллы не изменились")
    amount = adjustments.points_text(abs(points), signed=False)
    return (_("списано %(points)s", points=amount) if points > 0
            else _("возвращено %(points)s", points=amount))


def _owed(owed: int) -> str:
    if owed <= 0:
        return ""
    return _("; баллы уже потрачены, долг клиента %(owed)s — спишется с будущих начислений",
             owed=owed)
