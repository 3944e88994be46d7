"""Browsers a staff login has signed in from before: "known devices".

After a successful sign-in the browser keeps a signed cookie with a random device id
and a hash of each login (business and login) it signed in. An attempt from such a
browser for such a login is limited on its own (webapp.domain.sign_in_limits), so a
stranger who keeps the login's shared delay busy cannot keep the member out at their
usual counter. The cookie is only a hint for the limits: it signs nobody in.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

LIFETIME = timedelta(days=180)
KEPT_LOGINS = 8  # a shared counter tablet may be used by a few members


def _https() -> bool:
    return bool(current_app.config["REGULARS"].base_url.startswith("https://"))


def cookie_name() -> str:
    return "__Host-staff-device" if _https() else "staff-device"


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(current_app.secret_key), salt="staff-known-device")


def _login_hash(business_id: int, login: str) -> str:
    normalised = f"{business_id}:{(login or '').strip().lower()[:64]}"
    return hashlib.sha256(normalised.encode()).hexdigest()[:24]


def _read() -> tuple[str, list[str]] | None:
    raw = request.cookies.get(cookie_name())
    if not raw:
        return None
    try:
        data = _signer().loads(raw, max_age=int(LIFETIME.total_seconds()))
    except BadSignature:
        return None
    if not (isinstance(data, dict) and isinstance(data.get("d"), str)
            and isinstance(data.get("l"), list)):
        return None
    return data["d"], [str(h) for h in data["l"][:KEPT_LOGINS]]


def known(business_id: int, login: str) -> str | None:
    """This browser's device id if it signed this login in before, else None."""
    found = _read()
    if found is None or _login_hash(business_id, login) not in found[1]:
        return None
    return found[0]


def remember(response: Response, business_id: int, login: str) -> Response:
    """Note on the browser that this login signed in from it."""
    found = _read()
    device, logins = found if found else (secrets.token_urlsafe(16), [])
    entry = _login_hash(business_id, login)
    logins = [entry, *(h for h in logins if h != entry)][:KEPT_LOGINS]
    response.set_cookie(cookie_name(), _signer().dumps({"d": device, "l": logins}),
                        max_age=int(LIFETIME.total_seconds()), secure=_https(),
                        httponly=True, samesite="Lax", path="/")
    return response
