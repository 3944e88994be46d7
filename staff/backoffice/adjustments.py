"""Adjustments waiting for the owner: the list (managers and owners see it), and the
owner's approval or rejection, from the list or from the customer's page.

Nested in the back office customers blueprint: /b/<id>/backoffice/adjustments.
"""

from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from staff.access import require
from staff.backoffice.customer_page import history_page
from staff.backoffice.messages import russian
from webapp.db import session
from webapp.domain import history_text
from webapp.domain.actor import Actor, Role
from webapp.domain.errors import DomainError, NotFound, PermissionDenied
from webapp.domain.wording import plural
from webapp.services import adjustment_requests

bp = Blueprint("adjustments", __name__, url_prefix="/adjustments")
# Where a decision's form was: the list, or one customer's page ("customer:12").
_BACK = re.compile(r"customer:(\d{1,18})")


@bp.get("")
@require(Role.MANAGER)
def page(actor: Actor) -> str:
    return _list_page(actor)


@bp.post("/<int:request_id>/approve")
@require(Role.OWNER)
def approve(actor: Actor, request_id: int) -> Response | tuple[str, int]:
    try:
        done = adjustment_requests.approve(session(), actor, request_id)
    except (NotFound, PermissionDenied):
        raise
    except DomainError as error:
        return _refused(actor, request_id, error), error.status
    if done.already:
        flash("Этот запрос уже одобрен.", "success")
    else:
        flash(f"Корректировка {_points(done.points)} одобрена: теперь доступно {done.available}",
              "success")
    return redirect(_back_url(actor))


@bp.post("/<int:request_id>/reject")
@require(Role.OWNER)
def reject(actor: Actor, request_id: int) -> Response | tuple[str, int]:
    try:
        done = adjustment_requests.reject(session(), actor, request_id,
                                          request.form.get("note", ""))
    except (NotFound, PermissionDenied):
        raise
    except DomainError as error:
        return _refused(actor, request_id, error), error.status
    flash("Этот запрос уже отклонён." if done.already
          else f"Запрос на корректировку {_points(done.points)} отклонён", "success")
    return redirect(_back_url(actor))


def _customer() -> int | None:
    found = _BACK.fullmatch(request.form.get("back", ""))
    return int(found.group(1)) if found else None


def _back_url(actor: Actor) -> str:
    customer_id = _customer()
    if customer_id is None:
        return url_for(".page", business_id=actor.business_id)
    return url_for("backoffice_customers.page", business_id=actor.business_id,
                   customer_id=customer_id)


def _refused(actor: Actor, request_id: int, error: DomainError) -> str:
    """The page the form was on, with the error at that request and the note typed."""
    where, echo = f"request-{request_id}", {"note": request.form.get("note", "")}
    customer_id = _customer()
    if customer_id is not None:
        return history_page(actor, customer_id, error=russian(error), error_at=where, echo=echo)
    return _list_page(actor, error=russian(error), error_at=where, echo=echo)


def _list_page(actor: Actor, *, error: str | None = None, error_at: str | None = None,
               echo: dict[str, str] | None = None) -> str:
    pending = adjustment_requests.requests(session(), actor)
    if error_at not in {f"request-{r.id}" for r in pending}:
        error_at = None  # decided meanwhile: no longer listed, say it on top
    return render_template(
        "backoffice/adjustments.html",
        pending=pending,
        decided=adjustment_requests.requests(session(), actor, pending=False, limit=50),
        can_approve=actor.is_at_least(Role.OWNER),
        business_id=actor.business_id,
        error=error,
        error_at=error_at,
        echo=echo or {},
    )


def _points(points: int) -> str:
    return f"{history_text.signed(points)} {plural(abs(points), 'балл', 'балла', 'баллов')}"
