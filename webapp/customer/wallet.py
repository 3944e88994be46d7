"""«Add to Apple Wallet» and «Save to Google Wallet»: from the signed-in card, and from
the link a cashier texts (no sign-in; the link carries an HMAC of the pass's serial).

Both buttons are shown only when that wallet is configured. The pass is built in the
business's language, the same as the PassKit web service rebuilds it, so an update
never switches the pass's language.
"""

from __future__ import annotations

from flask import Response, abort, current_app, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from wallet import availability
from wallet.apple.settings import settings_of as apple_settings_of
from wallet.google.settings import settings_of as google_settings_of
from webapp.current import unit_of_work
from webapp.customer.access import signed_in
from webapp.customer.views import bp
from webapp.services.business import setup as businesses
from webapp.services.customers.sign_in import Who
from webapp.services.wallet import apple_passes as apple_wallet
from webapp.services.wallet import google_objects as google_wallet
from webapp.services.wallet import links as wallet_links

PKPASS = "application/vnd.apple.pkpass"


def _apple(business_id: int, customer_id: int) -> Response:
    settings = apple_settings_of(current_app)
    if settings is None:
        abort(404)
    app_settings = current_app.config["REGULARS"]
    built = apple_wallet.current(unit_of_work(), settings, secret_key=app_settings.secret_key,
                           base_url=app_settings.base_url, business_id=business_id,
                           customer_id=customer_id,
                           lang=businesses.language_of(unit_of_work(), business_id))
    response = Response(built.data, mimetype=PKPASS)
    response.headers["Content-Disposition"] = f'attachment; filename="{built.filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.last_modified = built.updated_at
    return response


def _google(business_id: int, customer_id: int) -> BaseResponse:
    settings = google_settings_of(current_app)
    if settings is None:
        abort(404)
    return redirect(google_wallet.save_link(unit_of_work(), business_id, customer_id,
                                    current_app.config["REGULARS"].base_url, settings))


def _linked(business_id: int, serial: str) -> int:
    return wallet_links.customer_of_link(unit_of_work(), business_id, serial,
                                         request.args.get("d", ""), request.args.get("t", ""),
                                         current_app.config["REGULARS"].secret_key)


@bp.get("/wallet/apple.pkpass")
@signed_in
def apple(who: Who, business_id: int) -> Response:
    """The signed-in customer's pass, to open in Apple Wallet."""
    return _apple(business_id, who.customer_id)


@bp.get("/wallet/google")
@signed_in
def google(who: Who, business_id: int) -> BaseResponse:
    """Insert (or update) the customer's Google object, then go to Google's save page."""
    return _google(business_id, who.customer_id)


@bp.get("/wallet/<serial>")
def texted(business_id: int, serial: str) -> str:
    """The page the texted link opens: the two buttons, nothing else."""
    _linked(business_id, serial)
    return render_template("customer/wallet_link.html", business_id=business_id,
                           serial=serial, day=request.args.get("d", ""),
                           token=request.args.get("t", ""),
                           business_name=businesses.name_of(unit_of_work(), business_id))


@bp.get("/wallet/<serial>/apple.pkpass")
def texted_apple(business_id: int, serial: str) -> Response:
    """The pass, opened from the texted link."""
    return _apple(business_id, _linked(business_id, serial))


@bp.get("/wallet/<serial>/google")
def texted_google(business_id: int, serial: str) -> BaseResponse:
    """«Save to Google Wallet», opened from the texted link."""
    return _google(business_id, _linked(business_id, serial))


@bp.context_processor
def _wallet_buttons() -> dict[str, bool]:
    wallets = availability.of(current_app)
    return {"apple_wallet": wallets.apple, "google_wallet": wallets.google}
