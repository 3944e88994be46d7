"""Who the customer is on this request: the device's cookie for this business, checked
on every request.

One device can hold the cards of several businesses, so each business has its own
cookie, ``customer-<business id>`` (``__Host-customer-<id>`` behind https: ``__Host-``
requires Path=/, so the name, not the path, keeps them apart). It holds a random token
whose hash is a row in ``customer_sessions``, so a session revoked from the profile (or
by sign-out) stops working at once; it is HttpOnly, SameSite=Lax, Secure behind https,
and lives 180 days.

Devices signed in before there was a cookie per business carry one ``customer`` cookie:
it is still accepted for the business it belongs to and moved to that business's own
cookie by the next signed-in page, so the upgrade signs nobody out.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, g, make_response, redirect, request, url_for
from werkzeug.wrappers import Response

from webapp.current import unit_of_work
from webapp.services.customers import sign_in as customer_sign_in
from webapp.services.customers.sign_in import Who

# Sign-out, a deleted account or a session ended elsewhere: what the browser must drop.
# Only the HTTP cache. Clear-Site-Data acts on the whole origin, which every business's
# app shares: "cookies" would sign the device out of every business, and "storage"
# would wipe their offline cards, service workers and push subscriptions too. The
# personal pages are no-store, so the HTTP cache should hold nothing personal; clearing
# it is the belt to those braces, and costs the other businesses only a re-download of
# the shared static files. This business's own offline copy lives in its service
# worker's cache (one per business), which customer_app.js and the worker delete as
# soon as the sign-in page shows (see static/js/customer_sw.js).
CLEAR_SITE_DATA = '"cache"'


def _https() -> bool:
    return bool(current_app.config["REGULARS"].base_url.startswith("https://"))


def cookie_name(business_id: int) -> str:
    """The name of the device's cookie for this business."""
    return f"__Host-customer-{business_id}" if _https() else f"customer-{business_id}"


def legacy_cookie_name() -> str:
    """The one cookie of every business, before there was one per business."""
    return "__Host-customer" if _https() else "customer"


def set_cookie(response: Response, business_id: int, token: str) -> Response:
    response.set_cookie(cookie_name(business_id), token, httponly=True, secure=_https(),
                        samesite="Lax", path="/",
                        max_age=int(customer_sign_in.SESSION_LIFETIME.total_seconds()))
    return response


def clear_cookie(response: Response, business_id: int) -> Response:
    """Forget this business's session on the device; other businesses' cookies stay.

    The old single cookie goes too when it is this business's, or nobody's any more.
    """
    response.delete_cookie(cookie_name(business_id), path="/")
    token, who = _legacy()
    if token and (who is None or who.business_id == business_id):
        response.delete_cookie(legacy_cookie_name(), path="/")
    return response


def current(business_id: int) -> Who | None:
    """The signed-in customer of this business, or None."""
    token = request.cookies.get(cookie_name(business_id))
    who = customer_sign_in.load(unit_of_work(), token) if token else _legacy()[1]
    return who if who is not None and who.business_id == business_id else None


def _legacy() -> tuple[str, Who | None]:
    """The old single cookie's token and whom it signs in (None: nobody any more),
    looked up once a request."""
    if "customer_legacy" not in g:
        token = request.cookies.get(legacy_cookie_name(), "")
        g.customer_legacy = (token, customer_sign_in.load(unit_of_work(), token) if token else None)
    found: tuple[str, Who | None] = g.customer_legacy
    return found


def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run the view with ``who`` (the signed-in customer), or go to sign-in."""

    @wraps(view)
    def wrapped(business_id: int, **kwargs: Any) -> Any:
        who = current(business_id)
        own = request.cookies.get(cookie_name(business_id))
        if who is None:
            response = redirect(url_for("customer_app.sign_in", business_id=business_id))
            legacy, legacy_who = _legacy()
            if own or (legacy and legacy_who is None):
                # This business's session ended elsewhere (revoked, account deleted,
                # expired): forget it here too. Another business's cookie is left alone.
                response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
                clear_cookie(response, business_id)
            return response
        response = make_response(view(who, business_id=business_id, **kwargs))
        # Personal pages stay out of shared and browser HTTP caches (the service worker
        # keeps its own copy of the card, and sign-out deletes it).
        response.headers["Cache-Control"] = "private, no-store"
        if not own and not _sets(response, cookie_name(business_id)):
            # Signed in by the old single cookie: move it to this business's own cookie
            # (the same token: the device's session stays the same).
            set_cookie(response, business_id, _legacy()[0])
            response.delete_cookie(legacy_cookie_name(), path="/")
        return response

    return wrapped


def _sets(response: Response, name: str) -> bool:
    """Whether the view already set or deleted the cookie ``name`` (sign-out does)."""
    return any(header.startswith(f"{name}=") for header in response.headers.getlist("Set-Cookie"))
