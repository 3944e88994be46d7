"""Staff sign-in and sign-out; the login manager that loads the signed-in staff member.

Logins are unique per business only, so the sign-in page lives under the business:
``/b/<id>/staff/sign-in``. The session is cleared before signing in, so whatever the
browser carried before (a planted session included) does not survive it.
"""

from __future__ import annotations

import math
import time

from flask import Blueprint, Flask, redirect, render_template, request, url_for
from flask import session as http_session
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from werkzeug.wrappers import Response

from webapp.db import session
from webapp.domain.actor import Actor
from webapp.services import businesses, sign_in
from webapp.services.sign_in import SignedIn

bp = Blueprint("staff_auth", __name__)
login_manager = LoginManager()
# Counts only failed sign-ins (see deduct_when), in memory on one machine or in Redis
# when REGULARS_REDIS_URL is set, so several processes share one count.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
WRONG = "Неверный логин или пароль"
PER_ACCOUNT = "10 per 15 minutes"
PER_IP = "30 per 15 minutes"


def _account_key() -> str:
    business_id = (request.view_args or {}).get("business_id")
    return f"staff-sign-in:{business_id}:{request.form.get('login', '').strip().lower()}"


def _failed(response: Response) -> bool:
    return response.status_code != 302  # a successful sign-in redirects


class StaffLogin(UserMixin):
    """Flask-Login's view of a staff member; the id carries the business."""

    def __init__(self, who: SignedIn) -> None:
        self.who = who
        self.business_id = who.business_id
        self.role = who.role

    def get_id(self) -> str:
        return f"{self.who.business_id}:{self.who.staff_id}"

    @property
    def actor(self) -> Actor:
        return sign_in.actor_for(self.who)


@login_manager.user_loader
def _load(user_id: str) -> StaffLogin | None:
    try:
        business_id, staff_id = (int(part) for part in user_id.split(":"))
    except ValueError:
        return None
    who = sign_in.load(session(), business_id, staff_id)
    return StaffLogin(who) if who else None


@login_manager.unauthorized_handler
def _unauthorized() -> Response:
    business_id = (request.view_args or {}).get("business_id")
    if isinstance(business_id, int):
        return redirect(url_for("staff_auth.sign_in", business_id=business_id,
                                next=request.full_path.rstrip("?")))
    return redirect(url_for("staff_auth.choose"))


def init_app(app: Flask) -> None:
    settings = app.config["REGULARS"]
    app.config.setdefault("RATELIMIT_STORAGE_URI", settings.redis_url or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    login_manager.init_app(app)
    limiter.init_app(app)
    app.register_blueprint(bp)


@bp.errorhandler(RateLimitExceeded)
def _too_many(error: RateLimitExceeded) -> tuple[str, int]:
    """The sign-in form again, saying when to try: no password is checked meanwhile."""
    business_id = (request.view_args or {}).get("business_id")
    current = limiter.current_limit
    wait = current.reset_at - time.time() if current else 15 * 60
    minutes = max(1, math.ceil(wait / 60))
    return render_template("staff/sign_in.html", business_id=business_id,
                           login=request.form.get("login", ""),
                           error=f"Слишком много неудачных попыток. Попробуйте снова через"
                                 f" {minutes} мин."), 429


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
        return render_template("staff/sign_in.html", business_id=business_id, login="",
                               error=None)
    login = request.form.get("login", "")
    member = sign_in.authenticate(session(), business_id, login,
                                  request.form.get("password", ""))
    if member is None:
        return render_template("staff/sign_in.html", business_id=business_id, login=login,
                               error=WRONG), 200
    http_session.clear()  # a fresh session: nothing from before sign-in survives
    login_user(StaffLogin(sign_in.signed_in(member)))
    return redirect(_next_url(business_id))


@bp.post("/staff/sign-out")
def sign_out() -> Response:
    business_id = getattr(current_user, "business_id", None)
    logout_user()
    http_session.clear()
    if business_id is None:
        return redirect(url_for("staff_auth.choose"))
    return redirect(url_for("staff_auth.sign_in", business_id=business_id))


def _next_url(business_id: int) -> str:
    wanted = request.args.get("next", "")
    prefix = f"/b/{business_id}/"
    if wanted.startswith(prefix) and "//" not in wanted and "\\" not in wanted:
        return wanted
    return url_for("backoffice_program.page", business_id=business_id)
