"""Staff sign-in and sign-out; the login manager that loads the signed-in staff member.

Logins are unique per business only, so the sign-in page lives under the business:
``/b/<id>/staff/sign-in``. The session is cleared before signing in, so whatever the
browser carried before (a planted session included) does not survive it.

A session's user id is ``business:staff:epoch``; the loader refuses it once the
member's ``session_epoch`` moved on (signed out everywhere, access reset,
deactivated). Sign-in also stamps the session with the time of the last request and
the business's idle timeout (read once, so no request pays a query for it): a
session idle for longer ends on its next request. A session without the stamp (an
older format, a remember-me cookie) counts as signed out.
"""

from __future__ import annotations

import math
import time
from typing import Any

from flask import (
    Blueprint,
    Flask,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as http_session
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from werkzeug.wrappers import Response

from staff.access import require
from webapp.db import session
from webapp.domain.actor import Actor, Role
from webapp.services import businesses, sign_in, staff_admin
from webapp.services.sign_in import SignedIn, Started
from webapp.services.staff import MIN_PASSWORD, WeakPassword

bp = Blueprint("staff_auth", __name__)
login_manager = LoginManager()
# Counts only failed sign-ins (see deduct_when), in memory on one machine or in Redis
# when REGULARS_REDIS_URL is set, so several processes share one count.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
WRONG = "Неверный логин или пароль"
PER_ACCOUNT = "10 per 15 minutes"
PER_IP = "30 per 15 minutes"
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
INVALID_INVITE = (
    "Ссылка-приглашение недействительна: она устарела, уже использована"
    " или заменена новой. Попросите владельца выдать новую."
)
SHORT_PASSWORD = f"Пароль должен быть не короче {MIN_PASSWORD} символов."
MISMATCH = "Пароли не совпадают."


def clock() -> float:
    """Seconds since the epoch; tests replace it to move time on."""
    return time.time()


def _account_key() -> str:
    business_id = (request.view_args or {}).get("business_id")
    return f"staff-sign-in:{business_id}:{request.form.get('login', '').strip().lower()}"


def _failed(response: Response) -> bool:
    return response.status_code != 302  # a successful sign-in redirects


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


def _parse_id(user_id: Any) -> tuple[int, int, int] | None:
    parts = str(user_id).split(":")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        return None
    return int(parts[0]), int(parts[1]), int(parts[2])


@login_manager.user_loader
def _load(user_id: str) -> StaffLogin | None:
    parsed = _parse_id(user_id)
    if parsed is None or not _stamped():
        return None
    who = sign_in.load(session(), *parsed)
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
    now = clock()
    if _stamped():
        seen, minutes = http_session[SEEN], http_session[IDLE]
        if now - seen <= minutes * 60:
            if now - seen >= TOUCH_SECONDS:
                http_session[SEEN] = now
            return None
    else:
        minutes = None
    parsed = _parse_id(user_id)
    http_session.clear()
    logout_user()
    if minutes is None or request.endpoint in _AUTH_ENDPOINTS:
        return None
    flash(f"Сеанс завершён после {minutes} мин. бездействия. Войдите снова.", "info")
    if parsed is None:
        return redirect(url_for("staff_auth.choose"))
    wanted = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("staff_auth.sign_in", business_id=parsed[0], next=wanted))


def init_app(app: Flask) -> None:
    settings = app.config["REGULARS"]
    app.config.setdefault("RATELIMIT_STORAGE_URI", settings.redis_url or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    login_manager.init_app(app)
    limiter.init_app(app)
    app.before_request(_end_idle_session)
    app.register_blueprint(bp)


@bp.errorhandler(RateLimitExceeded)
def _too_many(error: RateLimitExceeded) -> tuple[str, int]:
    """The sign-in form again, saying when to try: no password is checked meanwhile."""
    business_id = (request.view_args or {}).get("business_id")
    current = limiter.current_limit
    # reset_at is the window's end rounded up to the next whole second: take it back.
    wait = current.reset_at - 1 - time.time() if current else 15 * 60
    minutes = max(1, math.ceil(wait / 60))
    return render_template(
        "staff/sign_in.html",
        business_id=business_id,
        login=request.form.get("login", ""),
        error=f"Слишком много неудачных попыток. Попробуйте снова через {minutes} мин.",
    ), 429


@bp.get("/staff/sign-in")
def choose() -> Response | str:
    """Without a business in the URL: go to the only one, or explain where to sign in."""
    found = businesses.overview(session())
    if len(found) == 1:
        return redirect(url_for("staff_auth.sign_in", business_id=found[0].id))
    return render_template("staff/choose.html")


@bp.route("/b/<int:business_id>/staff/sign-in", methods=["GET", "POST"], endpoint="sign_in")
@limiter.limit(PER_ACCOUNT, key_func=_account_key, methods=["POST"], deduct_when=_failed)
@limiter.limit(PER_IP, methods=["POST"], deduct_when=_failed)
def sign_in_page(business_id: int) -> Response | tuple[str, int] | str:
    if request.method == "GET":
        return render_template("staff/sign_in.html", business_id=business_id, login="", error=None)
    login = request.form.get("login", "")
    started = sign_in.start(session(), business_id, login, request.form.get("password", ""))
    if started is None:
        return render_template(
            "staff/sign_in.html", business_id=business_id, login=login, error=WRONG
        ), 200
    _begin(started)
    return redirect(_next_url(business_id, started.who.role))


def _begin(started: Started) -> None:
    http_session.clear()  # a fresh session: nothing from before sign-in survives
    login_user(StaffLogin(started.who))
    http_session[SEEN] = clock()
    http_session[IDLE] = started.idle_timeout_minutes


@bp.post("/staff/sign-out")
def sign_out() -> Response:
    business_id = getattr(current_user, "business_id", None)
    logout_user()
    http_session.clear()
    if business_id is None:
        return redirect(url_for("staff_auth.choose"))
    return redirect(url_for("staff_auth.sign_in", business_id=business_id))


@bp.post("/b/<int:business_id>/staff/sign-out-everywhere")
@require(Role.CASHIER)
def sign_out_everywhere(actor: Actor) -> Response:
    """End every session of the signed-in member, this one included."""
    assert actor.staff_id is not None
    sign_in.sign_out_everywhere(session(), actor, actor.staff_id)
    logout_user()
    http_session.clear()
    flash("Вы вышли на всех устройствах.", "success")
    return redirect(url_for("staff_auth.sign_in", business_id=actor.business_id))


@bp.get("/b/<int:business_id>/staff/account")
@require(Role.CASHIER)
def account(actor: Actor) -> str:
    return render_template(
        "staff/account.html", who=current_user.who, business_id=actor.business_id
    )


@bp.route("/b/<int:business_id>/staff/invite/<token>", methods=["GET", "POST"])
def invite(business_id: int, token: str) -> Response | tuple[Response, int]:
    """An invited member sets their password, and is signed in."""
    if request.method == "GET":
        try:
            details = staff_admin.invite_details(session(), business_id, token)
        except staff_admin.InvalidInvite:
            return _invite_page(business_id, token, None, INVALID_INVITE, 404)
        return _invite_page(business_id, token, details, None, 200)
    password = request.form.get("password", "")
    if password != request.form.get("password2", ""):
        return _invite_page(business_id, token, None, MISMATCH, 422)
    try:
        member = staff_admin.accept(session(), business_id, token, password)
    except staff_admin.InvalidInvite:
        return _invite_page(business_id, token, None, INVALID_INVITE, 404)
    except WeakPassword:
        return _invite_page(business_id, token, None, SHORT_PASSWORD, 422)
    started = sign_in.started(session(), member)
    _begin(started)
    flash("Пароль сохранён, вы вошли.", "success")
    return redirect(_next_url(business_id, started.who.role))


def _invite_page(
    business_id: int,
    token: str,
    details: staff_admin.InviteDetails | None,
    error: str | None,
    status: int,
) -> tuple[Response, int]:
    response = make_response(
        render_template(
            "staff/invite.html",
            business_id=business_id,
            token=token,
            details=details,
            error=error,
            valid=error != INVALID_INVITE,
            min_password=MIN_PASSWORD,
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response, status


def _next_url(business_id: int, role: Role) -> str:
    wanted = request.args.get("next", "")
    prefix = f"/b/{business_id}/"
    if wanted.startswith(prefix) and "//" not in wanted and "\\" not in wanted:
        return wanted
    if role is Role.OWNER:
        return url_for("backoffice_program.page", business_id=business_id)
    return url_for("counter.choose", business_id=business_id)  # cashiers and managers
