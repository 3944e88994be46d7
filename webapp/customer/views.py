"""The customer app: sign in by phone, the card screen, the profile's devices.

Views parse, call one service, render. A refused form (wrong code, bad phone, too
many codes) comes back with its message and changes nothing.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask import session as http_session
from flask_babel import gettext
from werkzeug.wrappers import Response

from webapp import i18n
from webapp.current import unit_of_work
from webapp.customer.access import CLEAR_SITE_DATA, clear_cookie, current, set_cookie, signed_in
from webapp.domain.consent import TEXTS, ConsentKind
from webapp.domain.errors import DomainError
from webapp.errors import worded
from webapp.services.business import setup as businesses
from webapp.services.customers import card as customer_card
from webapp.services.customers import sign_in as customer_sign_in
from webapp.services.customers.sign_in import Who

bp = Blueprint("customer_app", __name__, url_prefix="/c/<int:business_id>")


def _pending(business_id: int) -> str:
    """The Flask session's key for the code request being answered at this business (one
    per business: a device may be signing in at two at once)."""
    return f"sign_in:{business_id}"


def client_ip() -> str | None:
    """The address the request came from (recorded with consents and sessions)."""
    return request.remote_addr


def _sign_in_form(business_id: int, phone: str = "", error: str | None = None,
                  status: int = 200) -> tuple[str, int]:
    return render_template(
        "customer/sign_in.html", business_id=business_id, phone=phone, error=error,
        ref=(request.values.get("ref") or "")[:12], signed_out=True,
        data_text=gettext(TEXTS[ConsentKind.PERSONAL_DATA].text),
        ad_text=gettext(TEXTS[ConsentKind.ADVERTISING].text)), status


@bp.get("/sign-in")
def sign_in(business_id: int) -> Response | tuple[str, int]:
    businesses.name_of(unit_of_work(), business_id)  # 404 for an unknown business
    if current(business_id) is not None:
        return redirect(url_for(".card", business_id=business_id))
    return _sign_in_form(business_id)


@bp.post("/sign-in")
def ask_code(business_id: int) -> Response | tuple[str, int]:
    form = request.form
    try:
        asked = customer_sign_in.request_code(
            unit_of_work(), business_id, form.get("phone", ""), ip=client_ip(),
            data_consent=form.get("data_consent") == "yes")
    except DomainError as error:
        return _sign_in_form(business_id, form.get("phone", ""), worded(error),
                             error.status)
    http_session[_pending(business_id)] = {"id": asked.request_id, "hint": asked.phone_hint,
                             "ad": form.get("ad_consent") == "yes",
                             "ref": (form.get("ref") or "")[:12]}
    return redirect(url_for(".code", business_id=business_id))


def _code_form(business_id: int, error: str | None = None, status: int = 200
               ) -> Response | tuple[str, int]:
    pending = http_session.get(_pending(business_id))
    if not pending:
        return redirect(url_for(".sign_in", business_id=business_id))
    return render_template("customer/code.html", business_id=business_id,
                           hint=pending["hint"], error=error), status


@bp.get("/code")
def code(business_id: int) -> Response | tuple[str, int]:
    return _code_form(business_id)


@bp.post("/code")
def check_code(business_id: int) -> Response | tuple[str, int]:
    pending = http_session.get(_pending(business_id))
    if not pending:
        return redirect(url_for(".sign_in", business_id=business_id))
    try:
        signed = customer_sign_in.verify_code(
            unit_of_work(), business_id, int(pending["id"]), request.form.get("code", ""),
            ip=client_ip(), device=request.user_agent.string, advertising=bool(pending["ad"]),
            referral_code=pending.get("ref") or None)
    except DomainError as error:
        return _code_form(business_id, worded(error), error.status)
    http_session.pop(_pending(business_id), None)
    return set_cookie(redirect(url_for(".card", business_id=business_id)), business_id,
                      signed.token)


@bp.get("/history")
@signed_in
def history(who: Who, business_id: int) -> str:
    shown = customer_card.activity(unit_of_work(), who, i18n.current())
    return render_template("customer/history.html", business_id=business_id,
                           lines=shown.lines, cashback=shown.cashback)


@bp.get("/invite")
@signed_in
def invite(who: Who, business_id: int) -> str:
    shown = customer_card.invitation(unit_of_work(), who, i18n.current())
    link = url_for(".sign_in", business_id=business_id, ref=shown.code, _external=True)
    return render_template("customer/invite.html", business_id=business_id, invite=shown,
                           link=link)


@bp.get("/")
@signed_in
def card(who: Who, business_id: int) -> str:
    shown = customer_card.card(unit_of_work(), who, i18n.current())
    return render_template("customer/card.html", business_id=business_id, card=shown)


@bp.post("/sessions/<int:session_id>/revoke")
@signed_in
def revoke(who: Who, business_id: int, session_id: int) -> Response:
    customer_sign_in.revoke(unit_of_work(), who, session_id)
    if session_id == who.session_id:
        return clear_cookie(redirect(url_for(".sign_in", business_id=business_id)), business_id)
    return redirect(url_for(".profile", business_id=business_id))


@bp.post("/sign-out")
@signed_in
def sign_out(who: Who, business_id: int) -> Response:
    customer_sign_in.revoke(unit_of_work(), who, who.session_id)
    response = redirect(url_for(".sign_in", business_id=business_id, signed_out=1))
    # What the browser drops besides this business's cookie: see CLEAR_SITE_DATA.
    response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
    return clear_cookie(response, business_id)
