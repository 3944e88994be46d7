"""Web push in the customer app: the browser's subscription comes and goes as JSON.

The page (``templates/customer/_push.html`` with ``static/js/push.js``) reads the VAPID
public key from a data attribute, subscribes through the service worker and posts the
subscription here with the CSRF token in the ``X-CSRFToken`` header. Without VAPID
keys push is off: the button is not rendered and these routes answer 404.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, jsonify, request
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _

from webapp.current import unit_of_work
from webapp.customer.access import current
from webapp.customer.views import bp
from webapp.domain.errors import DomainError
from webapp.errors import worded
from webapp.services.customers.sign_in import Who
from webapp.services.notify import push
from webapp.services.notify.push_settings import PushSettings, settings_of

MAX_BODY = 4096  # a subscription is a few hundred bytes


@bp.record_once
def _check_settings(state: BlueprintSetupState) -> None:
    """Parse the push settings when the app starts: a wrong one stops start-up."""
    settings_of(state.app)


def _settings() -> PushSettings | None:
    return settings_of(current_app)


def _problem(status: int, code: str, detail: str, **extra: Any) -> tuple[Response, int]:
    body = jsonify(type=f"about:blank#{code}", title=code.replace("_", " "), status=status,
                   detail=detail, code=code, **extra)
    body.mimetype = "application/problem+json"
    return body, status


def _call(business_id: int, action: Any) -> tuple[Response, int]:
    """Check push is on, the customer is signed in and the body is a small JSON object;
    then run ``action(who, body)`` and answer its result as JSON."""
    settings = _settings()
    if settings is None:
        abort(404)
    who: Who | None = current(business_id)
    if who is None:
        return _problem(401, "signed_out", _("Войдите в приложение ещё раз."))
    if (request.content_length or 0) > MAX_BODY:
        return _problem(413, "too_large", _("Слишком большой запрос."))
    body = request.get_json(silent=True)
    try:
        return jsonify(action(who, body, settings)), 200
    except DomainError as error:
        return _problem(error.status, error.code, worded(error), category=error.category)


@bp.post("/push/subscribe")
def push_subscribe(business_id: int) -> tuple[Response, int]:
    def action(who: Who, body: Any, settings: PushSettings) -> dict[str, bool]:
        push.subscribe(unit_of_work(), who, body, allow_local=settings.allow_local)
        return {"subscribed": True}

    return _call(business_id, action)


@bp.post("/push/unsubscribe")
def push_unsubscribe(business_id: int) -> tuple[Response, int]:
    def action(who: Who, body: Any, settings: PushSettings) -> dict[str, bool]:
        endpoint = body.get("endpoint") if isinstance(body, dict) else None
        push.unsubscribe(unit_of_work(), who, endpoint)
        return {"subscribed": False}

    return _call(business_id, action)


@bp.context_processor
def _push_key() -> dict[str, str]:
    """``push_key`` for ``_push.html``: the VAPID public key, or "" when push is off."""
    settings = _settings()
    return {"push_key": settings.public_key if settings is not None else ""}
