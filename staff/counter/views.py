"""Counter pages. Each view parses the request, calls one service, renders.

A close carries the idempotency key the panel made when it was rendered, so a
double tap or a retry over bad Wi-Fi closes the order once.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as http_session
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from staff.access import require
from staff.counter import order_form
from wallet import availability as wallet_availability
from webapp import i18n
from webapp.catalogue import N_, words_for
from webapp.current import unit_of_work
from webapp.domain.actor import Actor, Role
from webapp.domain.assets import KINDS
from webapp.domain.consent import TEXTS
from webapp.domain.errors import DomainError
from webapp.domain.numbers import MAX_ID, whole_number
from webapp.domain.quote import OrderDraft
from webapp.domain.quote_text import explain
from webapp.errors import worded
from webapp.services.counter import assets, checkins, checkout, confirmations, signup
from webapp.services.counter import panel as counter
from webapp.services.counter.checkout import Confirmation
from webapp.services.customers import search as customer_search
from webapp.services.program import categories as category_list
from webapp.services.wallet import links as wallet_links
from webapp.sms import SmsGateway

bp = Blueprint("counter", __name__, url_prefix="/b/<int:business_id>/counter")
# The QR decoder vendored from npm (see static/vendor/README.md and benchmarks/).
DECODER = "vendor/jsqr/jsQR.min.js"
PRESENT_FOR = 15 * 60  # a live check-in code proves the phone is here for this long
CASHIER = require(Role.CASHIER, branch=True)
# The kinds of vehicle or device, in the order the panel offers them.
ASSET_KINDS = dict(zip(KINDS, (N_("Госномер"), N_("VIN"), N_("Серийный номер"), N_("IMEI")),
                       strict=True))


def _sms() -> SmsGateway:
    gateway: SmsGateway = current_app.extensions["regulars_sms"]
    return gateway


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _done(url: str, **payload: Any) -> Response:
    """JSON for the page's script, a 303 redirect for a plain form post."""
    if _wants_json():
        return jsonify(url=url, **payload)
    return redirect(url, code=303)


@bp.get("")
@require(Role.CASHIER)
def choose(actor: Actor) -> Response | str:
    """Straight to the counter of the only branch, or a choice of the actor's branches."""
    branches = counter.branches(unit_of_work(), actor)
    if len(branches) == 1:
        return redirect(url_for(".scan", business_id=actor.business_id,
                                branch_id=branches[0][0]))
    return render_template("counter/choose.html", branches=branches, actor=actor)


@bp.get("/<int:branch_id>")
@CASHIER
def scan(actor: Actor, branch_id: int) -> str:
    here = counter.workplace(unit_of_work(), actor, branch_id)
    return _scan_page(here)


def _scan_page(here: counter.Workplace, **join: Any) -> str:
    """The scan page; ``join``: the join form's refusal and what was typed in it."""
    return render_template("counter/scan.html", here=here, decoder_script=DECODER,
                           consent_texts=_consent_texts(), join=join)


def _consent_texts() -> dict[str, str]:
    """The consents' wording as the customer reads it on the turned screen."""
    return {kind.value: _(text.text) for kind, text in TEXTS.items()}


@bp.post("/<int:branch_id>/identify")
@CASHIER
def identify(actor: Actor, branch_id: int) -> Response:
    counter.workplace(unit_of_work(), actor, branch_id)
    found = checkins.identify(unit_of_work(), actor, request.form.get("scanned", ""))
    if found.by_code:  # remembered in the signed session; stale entries are dropped
        now = int(time.time())
        present = {cid: at for cid, at in dict(http_session.get("present", {})).items()
                   if now - at < PRESENT_FOR}
        present[str(found.customer_id)] = now
        http_session["present"] = present
    return _done(url_for(".customer", business_id=actor.business_id, branch_id=branch_id,
                         customer_id=found.customer_id))


@bp.get("/<int:branch_id>/search")
@CASHIER
def search(actor: Actor, branch_id: int) -> str:
    here = counter.workplace(unit_of_work(), actor, branch_id)
    query = request.args.get("q", "")
    found = customer_search.search(unit_of_work(), actor, query)
    return render_template("counter/search.html", here=here, query=query, found=found,
                           consent_texts=_consent_texts(), join={})


@bp.post("/<int:branch_id>/join")
@CASHIER
def join(actor: Actor, branch_id: int) -> Response | tuple[str, int]:
    """Sign a customer up (or find them by phone) with the consents they ticked on the
    screen; a refusal shows the form again with its reason and what was typed."""
    here = counter.workplace(unit_of_work(), actor, branch_id)
    form = request.form
    typed = signup.SignUp(phone=form.get("phone", ""), name=form.get("name") or None,
                          data_consent=form.get("data_consent") == "yes",
                          advertising=form.get("ad_consent") == "yes",
                          referrer=form.get("referrer") or None)
    try:
        joined = signup.join(unit_of_work(), actor, typed)
    except DomainError as error:
        if _wants_json():
            raise
        return _scan_page(here, error=worded(error), phone=typed.phone, name=typed.name,
                          referrer=typed.referrer, ad=typed.advertising), error.status
    return _done(url_for(".customer", business_id=actor.business_id, branch_id=branch_id,
                         customer_id=joined))


@bp.get("/<int:branch_id>/customers/<int:customer_id>")
@CASHIER
def customer(actor: Actor, branch_id: int, customer_id: int) -> str:
    return _panel_page(actor, branch_id, customer_id)


def _panel_page(actor: Actor, branch_id: int, customer_id: int, **asset_form: Any) -> str:
    """The customer's panel; ``asset_form``: the vehicle form's refusal and its values."""
    here = counter.workplace(unit_of_work(), actor, branch_id)
    shown = counter.panel(unit_of_work(), actor, customer_id, i18n.current())
    return render_template("counter/panel.html", here=here, panel=shown,
                           key=uuid.uuid4().hex, present=_present(customer_id),
                           wallets=wallet_availability.of(current_app).any,
                           asset_kinds=ASSET_KINDS, **asset_form)


@bp.post("/<int:branch_id>/customers/<int:customer_id>/assets")
@CASHIER
def add_asset(actor: Actor, branch_id: int, customer_id: int) -> Response | tuple[str, int]:
    """Add the customer's vehicle or device; a refusal shows the panel with its reason."""
    counter.workplace(unit_of_work(), actor, branch_id)
    form = request.form
    try:
        added = assets.add(unit_of_work(), actor, customer_id, kind=form.get("kind", ""),
                           value=form.get("value", ""), label=form.get("label") or None)
    except DomainError as error:
        if _wants_json():
            raise
        return _panel_page(actor, branch_id, customer_id, asset_error=worded(error),
                           asset_typed=form), error.status
    return _done(url_for(".customer", business_id=actor.business_id, branch_id=branch_id,
                         customer_id=customer_id), asset_id=added)


@bp.post("/<int:branch_id>/customers/<int:customer_id>/quote")
@CASHIER
def quote(actor: Actor, branch_id: int, customer_id: int) -> str:
    here = counter.workplace(unit_of_work(), actor, branch_id)
    draft = order_form.draft(request.form)
    result = checkout.quote_order(unit_of_work(), actor, customer_id=customer_id, draft=draft)
    needs = counter.needs_confirmation(unit_of_work(), actor, result.redeem_points,
                                       present=_present(customer_id))
    choices = category_list.choices(unit_of_work(), actor.business_id, i18n.current())
    return render_template("counter/_quote.html", here=here, quote=result,
                           lines=explain(result, words_for(i18n.current()), here.currency),
                           needs_code=needs, names={c.code: c.name for c in choices})


@bp.post("/<int:branch_id>/customers/<int:customer_id>/code")
@CASHIER
def send_code(actor: Actor, branch_id: int, customer_id: int) -> Response:
    counter.workplace(unit_of_work(), actor, branch_id)
    sent = confirmations.send_code(unit_of_work(), actor, _sms(), customer_id=customer_id,
                                   points=order_form.points(request.form.get("points")))
    return jsonify(confirmation_id=sent.confirmation_id, points=sent.points,
                   phone_hint=sent.phone_hint)


@bp.post("/<int:branch_id>/customers/<int:customer_id>/close")
@CASHIER
def close(actor: Actor, branch_id: int, customer_id: int) -> Response:
    # No counter.workplace() here: the close checks the branch inside its own transaction.
    form = request.form
    confirmation = None
    if form.get("confirmation_id"):
        confirmation = Confirmation(whole_number(form["confirmation_id"], low=1, high=MAX_ID),
                                    form.get("code", ""))
    result = checkout.close(unit_of_work(), actor, form.get("key", ""), customer_id=customer_id,
                            branch_id=branch_id, draft=order_form.draft(form),
                            confirmation=confirmation, phone_present=_present(customer_id))
    return _done(url_for(".receipt", business_id=actor.business_id, branch_id=branch_id,
                         order_id=result["order_id"]), result=result)


@bp.post("/<int:branch_id>/customers/<int:customer_id>/perk")
@CASHIER
def use_perk(actor: Actor, branch_id: int, customer_id: int) -> Response:
    """One tap: a free perk (diagnostics, the gift visit) as an order of zero."""
    code = request.form.get("perk", "")
    result = checkout.close(unit_of_work(), actor, request.form.get("key", ""),
                            customer_id=customer_id, branch_id=branch_id,
                            draft=OrderDraft(total=0, use=(code,)))
    return _done(url_for(".receipt", business_id=actor.business_id, branch_id=branch_id,
                         order_id=result["order_id"]), result=result)


@bp.post("/<int:branch_id>/customers/<int:customer_id>/notes")
@CASHIER
def add_note(actor: Actor, branch_id: int, customer_id: int) -> Response:
    counter.workplace(unit_of_work(), actor, branch_id)
    counter.add_note(unit_of_work(), actor, customer_id, request.form.get("text", ""))
    return _done(url_for(".customer", business_id=actor.business_id, branch_id=branch_id,
                         customer_id=customer_id))


@bp.post("/<int:branch_id>/customers/<int:customer_id>/wallet-link")
@CASHIER
def send_wallet_link(actor: Actor, branch_id: int, customer_id: int) -> Response:
    """Text the customer the link that adds their card to Apple or Google Wallet."""
    if not wallet_availability.of(current_app).any:
        abort(404)
    counter.workplace(unit_of_work(), actor, branch_id)
    settings = current_app.config["REGULARS"]
    hint = wallet_links.send_link(unit_of_work(), actor, customer_id, base_url=settings.base_url,
                                  secret_key=settings.secret_key)
    flash(_("Ссылка на карту отправлена в SMS на %(hint)s.", hint=hint), "ok")
    return _done(url_for(".customer", business_id=actor.business_id, branch_id=branch_id,
                         customer_id=customer_id), phone_hint=hint)


@bp.get("/<int:branch_id>/orders/<int:order_id>")
@CASHIER
def receipt(actor: Actor, branch_id: int, order_id: int) -> str:
    here = counter.workplace(unit_of_work(), actor, branch_id)
    shown = counter.receipt(unit_of_work(), actor, order_id, lang=i18n.current())
    return render_template("counter/receipt.html", here=here, receipt=shown)


def _present(customer_id: int) -> bool:
    scanned_at = dict(http_session.get("present", {})).get(str(customer_id))
    return scanned_at is not None and time.time() - scanned_at < PRESENT_FOR
