"""Apple's PassKit web service, at ``{REGULARS_BASE_URL}/wallet/apple`` (the pass's
``webServiceURL``). iOS calls it; nothing here is for browsers:

- ``POST   /v1/devices/<device>/registrations/<pass type>/<serial>``, body
  ``{"pushToken": ...}``: 201 registered, 200 already registered;
- ``DELETE /v1/devices/<device>/registrations/<pass type>/<serial>``: 200;
- ``GET    /v1/devices/<device>/registrations/<pass type>?passesUpdatedSince=<tag>``:
  ``{"serialNumbers": [...], "lastUpdated": "<tag>"}``, or 204 when none changed;
- ``GET    /v1/passes/<pass type>/<serial>``: the latest .pkpass with
  ``Last-Modified``; 304 for a matching ``If-Modified-Since``;
- ``POST   /v1/log``, body ``{"logs": [...]}``: written to the server log, 200.

Registering, unregistering and the pass need ``Authorization: ApplePass <token>``
(401 without the right one); an unknown pass or another pass type is 404, a malformed
request 400. The rules live in :mod:`webapp.services.wallet.passkit` (the pass itself is
built by :mod:`webapp.services.wallet.apple_passes`); each runs in its own unit-of-work
scope, and the views only hand them the request's session. Without Apple Wallet
settings every route answers 404. CSRF does not apply (iOS has no token): the
blueprint exempts itself when it is registered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask.blueprints import BlueprintSetupState
from werkzeug.exceptions import RequestEntityTooLarge

from wallet.apple import pkpass
from wallet.apple.settings import AppleSettings, auth_token, settings_of
from webapp.current import unit_of_work
from webapp.domain.clock import utcnow
from webapp.domain.errors import DomainError, InvalidInput
from webapp.services.wallet import apple_passes as apple_wallet
from webapp.services.wallet import passkit

MAX_BODY = 4096  # a registration body is {"pushToken": "<64 hex>"}
MAX_LOG_BODY = 65536

bp = Blueprint("wallet_apple", __name__, url_prefix="/wallet/apple")
device_log = logging.getLogger("regulars.wallet.apple.device")


@bp.record_once
def _exempt_from_csrf(state: BlueprintSetupState) -> None:
    """iOS posts without a CSRF token: Flask-WTF must leave these routes alone."""
    csrf = state.app.extensions.get("csrf")
    if csrf is None:
        raise RuntimeError("Register the Apple Wallet blueprint after CSRFProtect(app).")
    csrf.exempt(bp)


def _empty(status: int) -> Response:
    return Response(b"", status=status)


def _answer(action: Callable[[AppleSettings], Response], pass_type: str | None = None,
            max_body: int = MAX_BODY) -> Response:
    """Run ``action`` when Apple Wallet is on, the pass type is ours and the body is
    small; map the service's errors to Apple's status codes (bodies stay empty)."""
    settings = settings_of(current_app)
    if settings is None or (pass_type is not None and pass_type != settings.pass_type_id):
        return _empty(404)
    if (request.content_length or 0) > max_body:
        return _empty(413)
    request.max_content_length = max_body  # a chunked body without a length, too
    try:
        return action(settings)
    except RequestEntityTooLarge:
        return _empty(413)
    except InvalidInput:
        return _empty(400)
    except DomainError as error:
        return _empty(error.status if error.status in (401, 404) else 400)


def _json_body() -> Any:
    body = request.get_json(silent=True, force=True)
    if body is None:
        raise InvalidInput("body_not_json")
    return body


def _check_token(settings: AppleSettings, serial: str) -> None:
    passkit.require_authorized(request.headers.get("Authorization"),
                               auth_token(current_app.config["SECRET_KEY"], serial))


@bp.post("/v1/devices/<device_id>/registrations/<pass_type>/<serial>")
def register(device_id: str, pass_type: str, serial: str) -> Response:
    def action(settings: AppleSettings) -> Response:
        passkit.check_device(device_id)
        _check_token(settings, serial)
        push_token = passkit.push_token_of(_json_body())
        new = passkit.register(unit_of_work(), device_id=device_id, serial=serial,
                               push_token=push_token)
        return _empty(201 if new else 200)

    return _answer(action, pass_type)


@bp.delete("/v1/devices/<device_id>/registrations/<pass_type>/<serial>")
def unregister(device_id: str, pass_type: str, serial: str) -> Response:
    def action(settings: AppleSettings) -> Response:
        passkit.check_device(device_id)
        _check_token(settings, serial)
        passkit.unregister(unit_of_work(), device_id=device_id, serial=serial)
        return _empty(200)

    return _answer(action, pass_type)


@bp.get("/v1/devices/<device_id>/registrations/<pass_type>")
def updated(device_id: str, pass_type: str) -> Response:
    def action(settings: AppleSettings) -> Response:
        found = passkit.updated_since(unit_of_work(), device_id,
                                      request.args.get("passesUpdatedSince"))
        if found is None:
            return _empty(204)
        return jsonify(serialNumbers=found.serials, lastUpdated=found.last_updated)

    return _answer(action, pass_type)


@bp.get("/v1/passes/<pass_type>/<serial>")
def latest(pass_type: str, serial: str) -> Response:
    def action(settings: AppleSettings) -> Response:
        _check_token(settings, serial)
        found = passkit.find(unit_of_work(), serial)  # a read scope: ended here
        if passkit.not_modified(found.updated_at, request.if_modified_since):
            answer, version = _empty(304), found.updated_at
        else:
            built = apple_wallet.current(
                unit_of_work(), settings, secret_key=current_app.config["SECRET_KEY"],
                base_url=current_app.config["REGULARS"].base_url,
                business_id=found.business_id, customer_id=found.customer_id,
                lang=found.lang)
            answer, version = Response(built.data, mimetype=pkpass.MEDIA_TYPE), built.updated_at
        answer.last_modified = passkit.last_modified(version, utcnow())
        answer.headers["Cache-Control"] = "no-cache"
        return answer

    return _answer(action, pass_type)


@bp.post("/v1/log")
def log() -> Response:
    def action(settings: AppleSettings) -> Response:
        for line in passkit.log_lines(_json_body()):
            device_log.info("Apple Wallet: %s", line)
        return _empty(200)

    return _answer(action, max_body=MAX_LOG_BODY)
