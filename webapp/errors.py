"""Domain errors and HTTP errors mapped to responses in one place.

API requests (``/api/`` or ``Accept: application/json``) get RFC 9457 problem
details; pages get a short page in the user's language. A 500 never shows a
traceback.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from webapp.domain.errors import DomainError


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json"
    )


def _problem(status: int, code: str, title: str, detail: str) -> tuple[Response, int]:
    body = jsonify(type=f"about:blank#{code}", title=title, status=status, detail=detail,
                   code=code)
    body.mimetype = "application/problem+json"
    return body, status


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> tuple[Response | str, int]:
        if _wants_json():
            return _problem(error.status, error.code, error.code.replace("_", " "), error.message)
        return render_template("error.html", status=error.status, message=error.message), (
            error.status
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response | str, int]:
        status = error.code or 500
        if _wants_json():
            return _problem(status, f"http_{status}", error.name, error.description or "")
        return render_template("error.html", status=status, message=error.description), status

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Response | str, int]:
        app.logger.exception("unhandled error")
        message = "Something went wrong on our side. Nothing was changed; please try again."
        if _wants_json():
            return _problem(500, "internal_error", "Internal error", message)
        return render_template("error.html", status=500, message=message), 500
