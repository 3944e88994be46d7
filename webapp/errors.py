"""Domain errors and HTTP errors mapped to responses in one place.

API requests (``/api/`` or ``Accept: application/json``) get RFC 9457 problem
details; pages get a short page in the user's language. A 500 never shows a
traceback.

A domain error's problem carries its ``code`` (the situation's), its ``category``
(its class's code) and its ``params``; ``detail`` is the error worded in the
request's language (:mod:`webapp.error_messages`), as the page shows it. HTTP
errors and unexpected ones are worded through the same catalogue.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from webapp import i18n, request_body
from webapp.catalogue import N_
from webapp.domain.errors import DomainError
from webapp.error_messages import describe

# What a page or problem says for an HTTP error Werkzeug raised with its own English.
HTTP_MESSAGES: dict[int, str] = {
    400: N_("Запрос не понят: проверьте адрес и данные формы."),
    401: N_("Нужно войти."),
    403: N_("Нет доступа к этой странице."),
    404: N_("Такой страницы нет."),
    405: N_("Этот адрес так не вызывают."),
    408: N_("Запрос шёл слишком долго: попробуйте снова."),
    413: N_("Слишком большой запрос."),
    415: N_("Такой формат данных не принимается."),
    429: N_("Слишком много запросов: попробуйте чуть позже."),
    503: N_("Сервис временно недоступен: попробуйте через минуту."),
}
HTTP_OTHER = N_("Запрос не выполнен.")
UNEXPECTED = N_("У нас что-то пошло не так. Ничего не изменилось: попробуйте ещё раз.")


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


def worded(error: DomainError) -> str:
    """A domain error in the request's language, for a page to show."""
    return describe(error, i18n.current())


def http_text(error: HTTPException) -> str:
    """An HTTP error in the request's language: the description a view gave, else ours."""
    if error.description and error.description != type(error).description:
        return error.description  # abort(403, _("...")): already worded by the view
    status = error.code or 500
    return _(HTTP_MESSAGES.get(status, HTTP_OTHER))


def register(app: Flask) -> None:
    """Install the handlers: domain errors, HTTP errors, and anything unexpected."""

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> tuple[Response | str, int]:
        text = worded(error)
        if _wants_json():
            return _problem(
                error.status,
                error.code,
                error.code.replace("_", " "),
                text,
                category=error.category,
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
        text = http_text(error)
        if _wants_json():
            return _problem(status, f"http_{status}", error.name, text)
        return render_template("error.html", status=status, message=text), status

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Response | str, int]:
        app.logger.exception("unhandled error")
        text = _(UNEXPECTED)
        if _wants_json():
            return _problem(500, "internal_error", "Internal error", text)
        return render_template("error.html", status=500, message=text), 500
