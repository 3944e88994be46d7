"""Who may open a staff page: signed in, in this business, with at least this role,
and (for the counter) working at this branch."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.domain.actor import Actor, Role


def require(
    role: Role, *, branch: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Pass the actor to the view; 404 for another business, 403 for a lower role.

    With ``branch=True`` the URL's ``branch_id`` must be one of the actor's branches
    (403 otherwise) and the actor carries it, so the audit trail records where.
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        @login_required
        def wrapped(business_id: int, **kwargs: Any) -> Any:
            if current_user.business_id != business_id:
                abort(404)
            actor: Actor = current_user.actor
            if not actor.is_at_least(role):
                abort(403, _("Недостаточно прав для этой страницы."))
            where = kwargs.get("branch_id") if branch else None
            if where is not None and not actor.may_work_at(where):
                abort(403, _("Вы не работаете в этом филиале."))
            actor = dataclasses.replace(
                actor,
                ip=request.remote_addr,
                device=(request.user_agent.string or None),
                branch_id=where,
            )
            return view(actor, **kwargs)

        return wrapped

    return decorate
