"""A staff member's signed-in browser: the login manager that loads them on each
request, the idle timeout, and starting and ending the session.

A session's user id is ``business:staff:epoch``, and the session also carries the
token of its ``staff_sessions`` row; the loader refuses it once the row is ended (this
browser signed out), too old (:data:`webapp.services.staff.sign_in.LIFETIME`), or the
member's ``session_epoch`` moved on (signed out everywhere, access reset,
deactivated). Sign-in also stamps the session with the time of the last request and
the business's idle timeout (read once, so no request pays a query for it): a session
idle for longer ends on its next request. A session without the stamp (an older
format, a remember-me cookie) counts as signed out.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask, flash, redirect, request, url_for
from flask import session as http_session
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, login_user, logout_user
from werkzeug.wrappers import Response

from webapp.current import unit_of_work
from webapp.domain.actor import Actor
from webapp.services.staff import sign_in
from webapp.services.staff.sign_in import SignedIn, Started

login_manager = LoginManager()
# The token of this browser's staff_sessions row (see webapp.services.staff.sign_in).
TOKEN = "staff_token"
# Session keys: when the member was last seen (seconds) and their idle timeout (minutes).
SEEN = "staff_seen"
IDLE = "staff_idle"
# The "last seen" stamp is rewritten at most this often, so a page's background
# requests do not each send a new cookie (the timeout is minutes, this is seconds).
TOUCH_SECONDS = 15
# Requests an idle session may still finish instead of being sent to sign in.
_AUTH_ENDPOINTS = {
    "staff_auth.sign_in",
    "staff_auth.sign_out",
    "staff_auth.choose",
    "staff_auth.invite",
    "static",
}


def clock() -> float:
    """Seconds since the epoch; tests replace it to move time on."""
    return time.time()


def now() -> datetime:
    """:func:`clock` as an aware datetime."""
    return datetime.fromtimestamp(clock(), UTC)


class StaffLogin(UserMixin):
    """Flask-Login's view of a staff member; the id carries the business and epoch."""

    def __init__(self, who: SignedIn) -> None:
        self.who = who
        self.business_id = who.business_id
        self.role = who.role

    def get_id(self) -> str:
        return f"{self.who.business_id}:{self.who.staff_id}:{self.who.session_epoch}"

    @property
    def actor(self) -> Actor:
        return sign_in.actor_for(self.who)


def begin(started: Started) -> None:
    """Make this browser's session the one just started."""
    http_session.clear()  # a fresh session: nothing from before sign-in survives
    login_user(StaffLogin(started.who))
    http_session[TOKEN] = started.token
    http_session[SEEN] = clock()
    http_session[IDLE] = started.idle_timeout_minutes


def end() -> None:
    """Sign this browser out, on the server too: a copy of its cookie opens nothing."""
    token = http_session.get(TOKEN)
    logout_user()
    http_session.clear()
    if isinstance(token, str):
        sign_in.end(unit_of_work(), token)


def _parse_id(user_id: Any) -> tuple[int, int, int] | None:
    parts = str(user_id).split(":")
    if len(parts) != 3 or not all(part.isascii() and part.isdigit() and len(part) < 10
                                  for part in parts):
        return None
    return int(parts[0]), int(parts[1]), int(parts[2])


@login_manager.user_loader
def _load(user_id: str) -> StaffLogin | None:
    parsed = _parse_id(user_id)
    token = http_session.get(TOKEN)
    if parsed is None or not _stamped() or not isinstance(token, str):
        return None
    who = sign_in.load(unit_of_work(), *parsed, token, now=now())
    return StaffLogin(who) if who else None


def _stamped() -> bool:
    seen, minutes = http_session.get(SEEN), http_session.get(IDLE)
    return (
        isinstance(seen, int | float) and isinstance(minutes, int) and not isinstance(minutes, bool)
    )


@login_manager.unauthorized_handler
def _unauthorized() -> Response:
    business_id = (request.view_args or {}).get("business_id")
    if isinstance(business_id, int):
        return redirect(
            url_for(
                "staff_auth.sign_in", business_id=business_id, next=request.full_path.rstrip("?")
            )
        )
    return redirect(url_for("staff_auth.choose"))


def _end_idle_session() -> Response | None:
    """Before each request: end a staff session idle for too long, else note activity.

    Only the session cookie is read here (no query). A session without a valid stamp
    is dropped silently: it never went through this sign-in.
    """
    user_id = http_session.get("_user_id")
    if user_id is None or request.endpoint == "static":
        return None
    moment = clock()
    if _stamped():
        seen, minutes = http_session[SEEN], http_session[IDLE]
        if moment - seen <= minutes * 60:
            if moment - seen >= TOUCH_SECONDS:
                http_session[SEEN] = moment
            return None
    else:
        minutes = None
    parsed = _parse_id(user_id)
    end()
    if minutes is None or request.endpoint in _AUTH_ENDPOINTS:
        return None
    flash(_("Сеанс завершён после %(minutes)s мин. бездействия. Войдите снова.", minutes=minutes),
          "info")
    if parsed is None:
        return redirect(url_for("staff_auth.choose"))
    wanted = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("staff_auth.sign_in", business_id=parsed[0], next=wanted))


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    app.before_request(_end_idle_session)
