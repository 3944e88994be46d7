"""Security headers on every response, and the session and remember-me cookies.

Staff pages and answers (under ``/b/`` and ``/staff/``) are never cached:
``Cache-Control: no-store``.

The Content Security Policy allows scripts and styles from our own origin only: no
inline ``<script>``, no ``on*=`` handlers, no ``style=`` attributes in templates
(``tests/integration/staff/test_security_headers.py`` checks). The camera (the
counter's QR scanner) may be used by our own pages only.

Behind https (``REGULARS_BASE_URL``) the session cookie is ``__Host-session``: Secure,
host-only (no Domain) and Path=/, so neither another subdomain nor plain http can set
or read it; HSTS keeps browsers on https.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter
from werkzeug.wrappers import Response

from webapp.config import ConfigError
from webapp.domain.errors import InvalidInput
from webapp.domain.numbers import whole_number

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob: mediastream:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "object-src 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(self)",
}
HSTS = "max-age=31536000"
# Staff pages and their JSON show customers' names, phones and balances: no copy in the
# browser's cache (a shared counter tablet, the back button after sign-out) or a proxy's.
# Every staff address is under one of these; static files are not.
STAFF_AREAS = ("/b/", "/staff/")


def init_app(app: Flask) -> None:
    """Set the cookie attributes for the app's scheme and add the headers to responses."""
    https = app.config["REGULARS"].base_url.startswith("https://")
    app.config.update(
        SESSION_COOKIE_NAME="__Host-session" if https else "session",
        SESSION_COOKIE_SECURE=https,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/",
        SESSION_COOKIE_DOMAIN=None,
        # Never issued (sign-in does not ask to be remembered, and a session without
        # the sign-in's activity stamp is refused anyway), but protected all the same.
        REMEMBER_COOKIE_NAME="__Host-remember" if https else "remember_token",
        REMEMBER_COOKIE_SECURE=https,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_PATH="/",
        REMEMBER_COOKIE_DOMAIN=None,
        PREFERRED_URL_SCHEME="https" if https else "http",
    )
    headers = dict(HEADERS)
    if https:
        headers["Strict-Transport-Security"] = HSTS
    proxies = _trusted_proxies(app.config["REGULARS"].extra.get("TRUSTED_PROXIES"))
    if proxies:
        # Behind nginx every request comes from the proxy: rate limits per address and
        # the addresses recorded with consents need the client's, from X-Forwarded-For.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies,  # type: ignore[method-assign]
                                x_host=proxies)

        @app.before_request
        def _refuse_forged_address() -> None:
            # Reached without the proxy (a firewall gap), X-Forwarded-For is whatever
            # the client wrote; it is stored in columns made for an address.
            if not _is_address(request.remote_addr):
                raise InvalidInput("client_address_malformed")

    @app.before_request
    def _refuse_nul() -> None:
        # PostgreSQL refuses text with NUL; no form of ours needs it.
        if any("\x00" in value for value in request.values.values()):
            raise InvalidInput("character_not_allowed")

    @app.after_request
    def _add_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        if request.path.startswith(STAFF_AREAS):
            response.headers["Cache-Control"] = "no-store"
        return response


class DatabaseId(IntegerConverter):
    """``<int:...>`` limited to what an INTEGER column holds (larger ids 404, not 500)."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def _is_address(text: str | None) -> bool:
    try:
        ipaddress.ip_address(text or "")
    except ValueError:
        return False
    return True


def _trusted_proxies(value: object) -> int:
    """REGULARS_TRUSTED_PROXIES: how many proxies in front of the app set X-Forwarded-*."""
    if value in (None, ""):
        return 0
    try:
        return whole_number(str(value), high=5)
    except InvalidInput:
        raise ConfigError(f"REGULARS_TRUSTED_PROXIES must be a number of proxies from 0 to 5,"
                          f" got {value!r}.") from None
