"""Domain errors and HTTP errors mapped to responses in one place.

API requests (``/api/`` or ``Accept: application/json``) get RFC 9457 problem
details; pages get a short page in the user's language. A 500 never shows a
traceback.

Domain errors speak Russian unless the browser prefers English
(:mod:`webapp.error_text`); their params travel in the problem body as
``params`` so page scripts can use them.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from webapp import i18n, request_body
from webapp.domain.errors import DomainError
from webapp.error_text import message


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (request.accept_mimetypes.best == "application/json")


def _json_params(params: dict[str, Any]) -> dict[str, Any]:
    """The params plain JSON can carry as they are; others (exceptions, dates) are left out."""
    kept: dict[str, Any] = {}
    for name, value in params.items():
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            continue
        kept[name] = value
    return kept


def _problem(status: int, code: str, title: str, detail: str, **extra: Any) -> tuple[Response, int]:
    body = jsonify(
        type=f"about:blank#{code}", title=title, status=status, detail=detail, code=code, **extra
    )
    body.mimetype = "application/problem+json"
    return body, status


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> tuple[Response | str, int]:
        text = message(error, i18n.current())
        if _wants_json():
            return _problem(
                error.status,
                error.code,
                error.code.replace("_", " "),
                text,
                params=_json_params(error.params),
            )
        return render_template("error.html", status=error.status, message=text), error.status

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error: RequestEntityTooLarge) -> tuple[Response | str, int]:
        # Werkzeug's own 413 (a chunked body past the limit, a form field too large),
        # worded like the one for a Content-Length over it.
        return domain_error(request_body.too_large())

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response | str, int]:
        status = error.code or 500
        if _wants_json():
            return _problem(status, f"http_{status}", error.name, error.description or "")
        return render_template("error.html", status=status, message=error.description), status

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Response | str, int]:
        app.logger.exception("unhandled error")
        text = "Something went wrong on our side. Nothing was changed; please try again."
        if _wants_json():
            return _problem(500, "internal_error", "Internal error", text)
        return render_template("error.html", status=500, message=text), 500
