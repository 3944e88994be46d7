"""Who the customer is on this request: the device cookie, checked on every request.

The cookie holds a random token whose hash is a row in ``customer_sessions``, so a
session revoked from the profile (or by sign-out) stops working at once. Behind
https the cookie is ``__Host-``, Secure and HttpOnly; it lives 180 days.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, make_response, redirect, request, url_for
from werkzeug.wrappers import Response

from webapp.db import session
from webapp.services import customer_sign_in
from webapp.services.customer_sign_in import Who


def cookie_name() -> str:
    https = current_app.config["REGULARS"].base_url.startswith("https://")
    return "__Host-customer" if https else "customer"


def set_cookie(response: Response, token: str) -> Response:
    https = current_app.config["REGULARS"].base_url.startswith("https://")
    response.set_cookie(cookie_name(), token, httponly=True, secure=https, samesite="Lax",
                        path="/", max_age=int(customer_sign_in.SESSION_LIFETIME.total_seconds()))
    return response


def clear_cookie(response: Response) -> Response:
    response.delete_cookie(cookie_name(), path="/")
    return response


def current(business_id: int) -> Who | None:
    """The signed-in customer of this business, or None."""
    who = customer_sign_in.load(session(), request.cookies.get(cookie_name(), ""))
    return who if who is not None and who.business_id == business_id else None


def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run the view with ``who`` (the signed-in customer), or go to sign-in."""

    @wraps(view)
    def wrapped(business_id: int, **kwargs: Any) -> Any:
        who = current(business_id)
        if who is None:
            response = redirect(url_for("customer_app.sign_in", business_id=business_id))
            if request.cookies.get(cookie_name()):
                # A session ended elsewhere (revoked, account deleted, expired): drop the
                # device's cached card with it, so a lost phone keeps nothing.
                response.headers["Clear-Site-Data"] = '"cache", "storage"'
                clear_cookie(response)
            return response
        response = make_response(view(who, business_id=business_id, **kwargs))
        # Personal pages stay out of shared and browser HTTP caches (the service worker
        # keeps its own copy of the card, and sign-out deletes it).
        response.headers["Cache-Control"] = "private, no-store"
        return response

    return wrapped
