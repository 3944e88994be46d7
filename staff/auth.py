"""Staff sign-in and sign-out; the login manager that loads the signed-in staff member.

Logins are unique per business only, so the sign-in page lives under the business:
``/b/<id>/staff/sign-in``. The session is cleared before signing in, so whatever the
browser carried before (a planted session included) does not survive it.

A session's user id is ``business:staff:epoch``, and the session also carries the
token of its ``staff_sessions`` row; the loader refuses it once the row is ended (this
browser signed out) or the member's ``session_epoch`` moved on (signed out
everywhere, access reset, deactivated). Sign-in also stamps the session with the time
of the last request and the business's idle timeout (read once, so no request pays a
query for it): a session idle for longer ends on its next request. A session without
the stamp (an older format, a remember-me cookie) counts as signed out.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as http_session
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from werkzeug.wrappers import Response

from staff.access import require
from webapp.db import session
from webapp.domain.actor import Actor, Role
from webapp.domain.sign_in_limits import WINDOW
from webapp.error_text import message
from webapp.services import businesses, rate_counters, sign_in, staff_admin
from webapp.services.sign_in import SignedIn, Started, TooManySignIns
from webapp.services.staff import MIN_PASSWORD, WeakPassword

bp = Blueprint("staff_auth", __name__)
login_manager = LoginManager()
WRONG = "Неверный логин или пароль"
# The token of this browser's staff_sessions row (see webapp.services.sign_in).
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
INVALID_INVITE = (
    "Ссылка-приглашение недействительна: она устарела, уже использована"
    " или заменена новой. Попросите владельца выдать новую."
)
SHORT_PASSWORD = f"Пароль должен быть не короче {MIN_PASSWORD} символов."
MISMATCH = "Пароли не совпадают."


def clock() -> float:
    """Seconds since the epoch; tests replace it to move time on."""
    return time.time()


def _counters() -> rate_counters.Counters:
    """Where sign-in attempts are counted: Redis when configured, else the database."""
    return rate_counters.pick(current_app.extensions.get("regulars_redis"), session(),
                              WINDOW)


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
    who = sign_in.load(session(), *parsed, token)
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
    token = http_session.get(TOKEN)
    http_session.clear()
    logout_user()
    if isinstance(token, str):
        sign_in.end(session(), token)
    if minutes is None or request.endpoint in _AUTH_ENDPOINTS:
        return None
    flash(f"Сеанс завершён после {minutes} мин. бездействия. Войдите снова.", "info")
    if parsed is None:
        return redirect(url_for("staff_auth.choose"))
    wanted = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("staff_auth.sign_in", business_id=parsed[0], next=wanted))


def init_app(app: Flask) -> None:
    redis_url = app.config["REGULARS"].redis_url
    if redis_url:  # one client (and connection pool) per process
        import redis

        app.extensions["regulars_redis"] = redis.Redis.from_url(redis_url)
    login_manager.init_app(app)
    app.before_request(_end_idle_session)
    app.register_blueprint(bp)


@bp.get("/staff/sign-in")
def choose() -> Response | str:
    """Without a business in the URL: go to the only one, or explain where to sign in."""
    found = businesses.overview(session())
    if len(found) == 1:
        return redirect(url_for("staff_auth.sign_in", business_id=found[0].id))
    return render_template("staff/choose.html")


@bp.route("/b/<int:business_id>/staff/sign-in", methods=["GET", "POST"], endpoint="sign_in")
def sign_in_page(business_id: int) -> Response | tuple[str, int] | str:
    if request.method == "GET":
        return render_template("staff/sign_in.html", business_id=business_id, login="", error=None)
    login = request.form.get("login", "")
    try:
        started = sign_in.start(session(), _counters(), business_id, login,
                                request.form.get("password", ""), ip=request.remote_addr,
                                device=request.user_agent.string, now=_now())
    except TooManySignIns as refused:
        page = render_template("staff/sign_in.html", business_id=business_id, login=login,
                               error=message(refused, "ru"))
        seconds = max(1, int(refused.refusal.retry_after.total_seconds() + 0.999))
        return Response(page, 429, {"Retry-After": str(seconds)})
    if started is None:
        return render_template(
            "staff/sign_in.html", business_id=business_id, login=login, error=WRONG
        ), 200
    _begin(started)
    return redirect(_next_url(business_id, started.who.role))


def _now() -> datetime:
    return datetime.fromtimestamp(clock(), UTC)


def _begin(started: Started) -> None:
    http_session.clear()  # a fresh session: nothing from before sign-in survives
    login_user(StaffLogin(started.who))
    http_session[TOKEN] = started.token
    http_session[SEEN] = clock()
    http_session[IDLE] = started.idle_timeout_minutes


@bp.post("/staff/sign-out")
def sign_out() -> Response:
    business_id = getattr(current_user, "business_id", None)
    token = http_session.get(TOKEN)
    logout_user()
    http_session.clear()
    if isinstance(token, str):  # ended on the server: a copy of the cookie opens nothing
        sign_in.end(session(), token)
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
    started = sign_in.started(session(), member, ip=request.remote_addr,
                              device=request.user_agent.string, now=_now())
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
