"""What a request body may be: at most :data:`DEFAULT_LIMIT` bytes (a view may allow
another size with :func:`body_limit`), and JSON nested at most :data:`MAX_JSON_DEPTH`
deep.

The size is checked against ``Content-Length`` before anything reads the body (this
hook runs before CSRF, which parses the form), so a 200 MB upload is answered with a
413 at once and never read into a worker. A chunked body (no length) is read through a
stream that stops at the same limit (``request.max_content_length``), and refused if
it reaches it.

JSON is parsed by the app's provider, which counts the nesting before it parses: 5,000
levels of ``[`` would otherwise exhaust the parser's recursion (a RecursionError, a
500), and then whatever walks the result. Too deep is a 400, like malformed JSON; so
is a string with NUL, which no JSON of ours holds and PostgreSQL refuses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Request, current_app, request
from flask.json.provider import DefaultJSONProvider

from webapp.domain.errors import DomainError, InvalidInput

DEFAULT_LIMIT = 1024 * 1024  # every form and JSON body of ours is a few kilobytes
MAX_JSON_DEPTH = 32  # our JSON bodies are two levels deep
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)  # a JSON string: brackets in it don't nest
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")

View = TypeVar("View", bound=Callable[..., Any])


class RequestTooLarge(DomainError):
    """The body is larger than this address takes."""

    code = "request_too_large"
    status = 413


class InvalidJson(InvalidInput):
    """The body is not JSON we read: malformed, or nested too deep."""

    code = "invalid_json"
    status = 400


class UnreadableJson(ValueError):
    """Raised by the JSON provider: ``get_json(silent=True)`` answers None for it, as for
    any malformed JSON, and ``get_json()`` a 400 (:class:`BodyRequest`)."""


def body_limit(max_bytes: int) -> Callable[[View], View]:
    """Let a view take bodies up to ``max_bytes`` instead of :data:`DEFAULT_LIMIT` (a
    logo upload, say). Put it under the route decorator."""

    def mark(view: View) -> View:
        view.max_body = max_bytes  # type: ignore[attr-defined]  # copied by functools.wraps
        return view

    return mark


def limit_of(app: Flask, endpoint: str | None) -> int:
    """The largest body the endpoint takes."""
    view = app.view_functions.get(endpoint or "")
    limit = getattr(view, "max_body", None)
    return int(limit if limit is not None else app.config["MAX_CONTENT_LENGTH"])


def _refuse_large_bodies() -> None:
    limit = limit_of(current_app, request.endpoint)
    request.max_content_length = limit  # the stream stops there
    if request.content_length is not None:
        too_long = request.content_length > limit
    else:
        # Chunked, no length to check up front: read the body, at most ``limit`` bytes
        # of it (kept for the form parser). At the limit the stream just stops, so a
        # body that reaches it is refused rather than silently cut short.
        chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
        too_long = chunked and len(request.get_data(cache=True)) >= limit
    if too_long:
        raise too_large(limit)


def too_large(limit: int | None = None) -> RequestTooLarge:
    """The error for a body over ``limit`` (this request's limit if not given)."""
    if limit is None:
        limit = request.max_content_length or DEFAULT_LIMIT
    return RequestTooLarge(kilobytes=max(1, limit // 1024))


def nesting_depth(text: str | bytes, stop_above: int = MAX_JSON_DEPTH) -> int:
    """How deep the arrays and objects of a JSON text nest (counting stops just above
    ``stop_above``); brackets inside strings do not count. Linear, in C but for a loop
    over the brackets."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    depth = deepest = 0
    for bracket in _NOT_BRACKETS.sub("", _STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_above:
                    break
        else:
            depth -= 1
    return deepest


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing text nested deeper than :data:`MAX_JSON_DEPTH` and strings
    with NUL (PostgreSQL refuses NUL in text; webapp.security refuses it in forms)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        if nesting_depth(s) > MAX_JSON_DEPTH:
            raise UnreadableJson(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        value = super().loads(s, **kwargs)
        if _has_nul(value):
            raise UnreadableJson("JSON text with a NUL character")
        return value


def _has_nul(value: Any) -> bool:
    """Whether a string anywhere in a parsed JSON value holds NUL (the depth is bounded,
    so the recursion is too)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


class BodyRequest(Request):
    """The app's request: a body ``get_json()`` cannot read is a 400 with our message."""

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if e is None:  # not sent as JSON at all: Flask's 415
            return super().on_json_loading_failed(e)
        raise InvalidJson(depth=MAX_JSON_DEPTH)


def init_app(app: Flask) -> None:
    """Install the limits. Call before anything that registers a ``before_request``
    hook that reads the body (CSRFProtect): the size check must run first."""
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # Flask's default is no limit
        app.config["MAX_CONTENT_LENGTH"] = DEFAULT_LIMIT
    app.json = BoundedJSONProvider(app)
    app.request_class = BodyRequest
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_large_bodies)
