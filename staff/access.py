"""Who may open a staff page: signed in, in this business, with at least this role."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user, login_required

from webapp.domain.actor import Actor, Role


def require(role: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Pass the actor to the view; 404 for another business, 403 for a lower role."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        @login_required
        def wrapped(business_id: int, **kwargs: Any) -> Any:
            if current_user.business_id != business_id:
                abort(404)
            actor: Actor = current_user.actor
            if not actor.is_at_least(role):
                abort(403, "Недостаточно прав для этой страницы.")
            return view(actor, **kwargs)

        return wrapped

    return decorate
