"""Staff sign-in and sign-out pages, and accepting an invitation.

Logins are unique per business only, so the sign-in page lives under the business:
``/b/<id>/staff/sign-in``. The session is cleared before signing in, so whatever the
browser carried before (a planted session included) does not survive it. What a
signed-in browser carries and how it ends is in :mod:`staff.sessions`; attempts are
limited before any password is checked (:mod:`webapp.domain.sign_in_limits`), a
browser the login signed in from before on its own (:mod:`staff.devices`).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from staff import devices, sessions
from staff.access import require
from webapp.current import unit_of_work
from webapp.domain.actor import Actor, Role
from webapp.domain.errors import InvalidInput
from webapp.domain.sign_in_limits import WINDOW
from webapp.errors import worded
from webapp.services.business import setup as businesses
from webapp.services.staff import rate_counters, sign_in
from webapp.services.staff import team as staff_admin
from webapp.services.staff.accounts import MIN_PASSWORD, WeakPassword
from webapp.services.staff.sign_in import TooManySignIns

bp = Blueprint("staff_auth", __name__)
WRONG = _l("Неверный логин или пароль")
INVALID_INVITE = _l(
    "Ссылка-приглашение недействительна: она устарела, уже использована"
    " или заменена новой. Попросите владельца выдать новую."
)
SHORT_PASSWORD = _l("Пароль должен быть не короче %(n)s символов.", n=MIN_PASSWORD)
MISMATCH = _l("Пароли не совпадают.")


def _counters() -> rate_counters.Counters:
    """Where sign-in attempts are counted: Redis when configured, else the database."""
    return rate_counters.pick(current_app.extensions.get("regulars_redis"), unit_of_work(),
                              WINDOW)


def init_app(app: Flask) -> None:
    redis_url = app.config["REGULARS"].redis_url
    if redis_url:  # one client (and connection pool) per process
        import redis

        app.extensions["regulars_redis"] = redis.Redis.from_url(redis_url)
    sessions.init_app(app)
    app.register_blueprint(bp)


@bp.get("/staff/sign-in")
def choose() -> Response | str:
    """Without a business in the URL: go to the only one, or explain where to sign in."""
    found = businesses.overview(unit_of_work())
    if len(found) == 1:
        return redirect(url_for("staff_auth.sign_in", business_id=found[0].id))
    return render_template("staff/choose.html")


@bp.route("/b/<int:business_id>/staff/sign-in", methods=["GET", "POST"], endpoint="sign_in")
def sign_in_page(business_id: int) -> Response | tuple[str, int] | str:
    if request.method == "GET":
        return render_template("staff/sign_in.html", business_id=business_id, login="", error=None)
    login = request.form.get("login", "")
    try:
        started = sign_in.start(unit_of_work(), _counters(), business_id, login,
                                request.form.get("password", ""), ip=request.remote_addr,
                                device=request.user_agent.string,
                                known_device=devices.known(business_id, login),
                                now=sessions.now())
    except TooManySignIns as refused:
        page = render_template("staff/sign_in.html", business_id=business_id, login=login,
                               error=worded(refused))
        seconds = max(1, int(refused.refusal.retry_after.total_seconds() + 0.999))
        return Response(page, 429, {"Retry-After": str(seconds)})
    if started is None:
        return render_template(
            "staff/sign_in.html", business_id=business_id, login=login, error=WRONG
        ), 200
    sessions.begin(started)
    return devices.remember(redirect(_next_url(business_id, started.who.role)),
                            business_id, login)


@bp.post("/staff/sign-out")
def sign_out() -> Response:
    business_id = getattr(current_user, "business_id", None)
    sessions.end()
    if business_id is None:
        return redirect(url_for("staff_auth.choose"))
    return redirect(url_for("staff_auth.sign_in", business_id=business_id))


@bp.post("/b/<int:business_id>/staff/sign-out-everywhere")
@require(Role.CASHIER)
def sign_out_everywhere(actor: Actor) -> Response:
    """End every session of the signed-in member, this one included."""
    assert actor.staff_id is not None
    sign_in.sign_out_everywhere(unit_of_work(), actor, actor.staff_id)
    sessions.end()
    flash(_("Вы вышли на всех устройствах."), "success")
    return redirect(url_for("staff_auth.sign_in", business_id=actor.business_id))


@bp.get("/b/<int:business_id>/staff/account")
@require(Role.CASHIER)
def account(actor: Actor) -> str:
    return render_template(
        "staff/account.html", who=current_user.who, business_id=actor.business_id
    )


@bp.route("/b/<int:business_id>/staff/invite/<token>", methods=["GET", "POST"])
def invite(business_id: int, token: str) -> Response | tuple[str, int]:
    """An invited member sets their password, and is signed in."""
    if request.method == "GET":
        try:
            details = staff_admin.invite_details(unit_of_work(), business_id, token)
        except staff_admin.InvalidInvite:
            return _invite_page(business_id, token, None, INVALID_INVITE, 404)
        return _invite_page(business_id, token, details, None, 200)
    password = request.form.get("password", "")
    if password != request.form.get("password2", ""):
        return _invite_page(business_id, token, None, MISMATCH, 422)
    try:
        member = staff_admin.accept(unit_of_work(), business_id, token, password)
    except staff_admin.InvalidInvite:
        return _invite_page(business_id, token, None, INVALID_INVITE, 404)
    except WeakPassword:
        return _invite_page(business_id, token, None, SHORT_PASSWORD, 422)
    except InvalidInput as refused:  # e.g. a password longer than any person types
        return _invite_page(business_id, token, None, worded(refused), 422)
    started = sign_in.started(unit_of_work(), member, ip=request.remote_addr,
                              device=request.user_agent.string, now=sessions.now())
    sessions.begin(started)
    flash(_("Пароль сохранён, вы вошли."), "success")
    return devices.remember(redirect(_next_url(business_id, started.who.role)),
                            business_id, member.login)


def _invite_page(
    business_id: int,
    token: str,
    details: staff_admin.InviteDetails | None,
    error: str | None,
    status: int,
) -> tuple[str, int]:
    # Not cached: webapp.security sends no-store for every staff page.
    return render_template(
        "staff/invite.html",
        business_id=business_id,
        token=token,
        details=details,
        error=error,
        valid=error is not INVALID_INVITE,
        min_password=MIN_PASSWORD,
    ), status


def _next_url(business_id: int, role: Role) -> str:
    wanted = request.args.get("next", "")
    prefix = f"/b/{business_id}/"
    if wanted.startswith(prefix) and "//" not in wanted and "\\" not in wanted:
        return wanted
    if role is Role.OWNER:
        return url_for("backoffice_program.page", business_id=business_id)
    return url_for("counter.choose", business_id=business_id)  # cashiers and managers
