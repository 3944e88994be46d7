"""The customer's profile: name and birthday, vehicles or devices, consents, devices
signed in, a copy of their data, and deleting the account."""

from __future__ import annotations

import json
import uuid

from flask import Response, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response as BaseResponse

from webapp import i18n
from webapp.current import unit_of_work
from webapp.customer.access import CLEAR_SITE_DATA, clear_cookie, signed_in
from webapp.customer.views import bp, client_ip
from webapp.domain.consent import TEXTS, ConsentKind
from webapp.domain.errors import DomainError
from webapp.errors import worded
from webapp.services.customers import profile as customer_profile
from webapp.services.customers import sign_in as customer_sign_in
from webapp.services.customers.sign_in import Who


def _page(who: Who, business_id: int, error: str | None = None, status: int = 200
          ) -> tuple[str, int]:
    return render_template(
        "customer/profile.html", business_id=business_id, error=error,
        profile=customer_profile.profile(unit_of_work(), who),
        devices=customer_sign_in.devices(unit_of_work(), who),
        ad_text=gettext(TEXTS[ConsentKind.ADVERTISING].text),
        delete_key=uuid.uuid4().hex), status


def _done(business_id: int) -> BaseResponse:
    return redirect(url_for(".profile", business_id=business_id))


@bp.get("/profile")
@signed_in
def profile(who: Who, business_id: int) -> tuple[str, int]:
    return _page(who, business_id)


@bp.post("/profile")
@signed_in
def update(who: Who, business_id: int) -> BaseResponse | tuple[str, int]:
    try:
        customer_profile.update(unit_of_work(), who, name=request.form.get("name"),
                                birthday=request.form.get("birthday"))
    except DomainError as error:
        return _page(who, business_id, worded(error), error.status)
    return _done(business_id)


@bp.post("/assets")
@signed_in
def add_asset(who: Who, business_id: int) -> BaseResponse | tuple[str, int]:
    form = request.form
    try:
        customer_profile.add_asset(unit_of_work(), who, form.get("kind", ""), form.get("value", ""),
                                   form.get("label") or None)
    except DomainError as error:
        return _page(who, business_id, worded(error), error.status)
    return _done(business_id)


@bp.post("/assets/<int:asset_id>/remove")
@signed_in
def remove_asset(who: Who, business_id: int, asset_id: int) -> BaseResponse | tuple[str, int]:
    try:
        customer_profile.remove_asset(unit_of_work(), who, asset_id)
    except DomainError as error:
        return _page(who, business_id, worded(error), error.status)
    return _done(business_id)


@bp.post("/consents/advertising")
@signed_in
def advertising(who: Who, business_id: int) -> BaseResponse:
    customer_profile.set_advertising(unit_of_work(), who, request.form.get("granted") == "yes",
                                     ip=client_ip())
    return _done(business_id)


@bp.get("/export.json")
@signed_in
def export(who: Who, business_id: int) -> Response:
    data = customer_profile.export(unit_of_work(), who, lang=i18n.current())
    response = Response(json.dumps(data, ensure_ascii=False, indent=2),
                        mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="regulars-my-data.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/delete")
@signed_in
def delete(who: Who, business_id: int) -> BaseResponse | tuple[str, int]:
    # Withdrawing the consent to data processing ends the account the same way (152-FZ).
    close = (customer_profile.withdraw_data_consent if request.form.get("why") == "consent"
             else customer_profile.delete_account)
    try:
        close(unit_of_work(), who, request.form.get("key", ""),
              confirm=request.form.get("confirm", ""), ip=client_ip())
    except DomainError as error:
        return _page(who, business_id, worded(error), error.status)
    response = redirect(url_for(".sign_in", business_id=business_id, deleted=1))
    response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
    return clear_cookie(response, business_id)
