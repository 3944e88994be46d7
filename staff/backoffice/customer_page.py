"""The manager's customer page as rendered after a GET or a refused form: shared by the
customer views and the owner's approvals of adjustments, which can be decided there."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from flask import render_template

from webapp import i18n
from webapp.current import unit_of_work
from webapp.domain.actor import Actor, Role
from webapp.services.customers import history as customer_history


def history_page(
    actor: Actor,
    customer_id: int,
    *,
    error: str | None = None,
    error_at: str | None = None,
    echo: dict[str, Any] | None = None,
) -> str:
    """The page; after a refused form, ``error`` shows at the form ``error_at`` with what
    was typed (``echo``)."""
    data = customer_history.history(unit_of_work(), actor, customer_id, lang=i18n.current())
    # Fresh keys on every render: a double submit or a retry of one form refunds once.
    keys = {f"refund-{order.id}": uuid4().hex for order in data.orders}
    keys["adjust"] = uuid4().hex
    if error_at and error_at.startswith("request-") and error_at not in {
        f"request-{r.id}" for r in data.requests
    }:
        error_at = "page"  # decided meanwhile: no longer on the page, say it on top
    return render_template(
        "backoffice/customer.html",
        history=data,
        keys=keys,
        business_id=actor.business_id,
        error=error,
        error_at=error_at,
        echo=echo or {},
        staff_id=actor.staff_id,
        can_approve=actor.is_at_least(Role.OWNER),
    )
