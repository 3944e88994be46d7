"""What makes the customer app installable and usable offline: the web app manifest
and the service worker, both per business (the app's scope is /c/<business>/)."""

from __future__ import annotations

from pathlib import Path

from flask import Response, abort, current_app, jsonify, request, url_for
from flask_babel import gettext as _

from webapp import i18n
from webapp.current import unit_of_work
from webapp.customer.views import bp
from webapp.services.business import logos
from webapp.services.business import setup as businesses

# Precached by the service worker: everything the card screen needs besides itself.
SHELL = ("css/base.css", "css/customer.css", "css/checkin.css", "js/customer_app.js",
         "js/checkin_code.js", "js/push.js", "vendor/qrcode-generator/qrcode.min.js",
         "img/icon-192.png")
THEME = "#0b5d3b"
SW_VERSION = "3"  # raise when the shell's files change, so phones fetch them again


@bp.get("/manifest.webmanifest")
def manifest(business_id: int) -> Response:
    name = businesses.name_of(unit_of_work(), business_id)
    scope = url_for("customer_app.card", business_id=business_id)
    response = jsonify(
        name=_("%(business)s — карта клиента") % {"business": name}, short_name=name[:12],
        lang=i18n.current(), start_url=scope, scope=scope, id=scope, display="standalone",
        background_color="#ffffff", theme_color=THEME,
        description=_("Баллы, уровень и QR-код для кассы"),
        icons=[
            {"src": url_for("static", filename="img/icon-192.png"), "sizes": "192x192",
             "type": "image/png", "purpose": "any"},
            {"src": url_for("static", filename="img/icon-512.png"), "sizes": "512x512",
             "type": "image/png", "purpose": "any"},
            {"src": url_for("static", filename="img/icon-maskable-512.png"),
             "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
        ])
    response.mimetype = "application/manifest+json"
    return response


def worker_url(business_id: int) -> str:
    """The service worker's URL: its query names the version, the shell to precache, and
    the language of notifications with the title shown when a push carries none (the
    worker has no words of its own)."""
    shell = ",".join(url_for("static", filename=f) for f in SHELL)
    return url_for("customer_app.service_worker", business_id=business_id, v=SW_VERSION,
                   shell=shell, lang=i18n.current(), title=_("Баллы"))


@bp.get("/sw.js")
def service_worker(business_id: int) -> Response:
    businesses.name_of(unit_of_work(), business_id)  # 404 for an unknown business
    source = Path(current_app.static_folder or "") / "js" / "customer_sw.js"
    response = Response(source.read_text(encoding="utf-8"), mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"  # phones check for a new worker each visit
    return response


@bp.context_processor
def _service_worker() -> dict[str, str]:
    business_id = (request.view_args or {}).get("business_id")
    return {"sw_url": worker_url(business_id) if business_id is not None else ""}


@bp.get("/logo.png")
def logo(business_id: int) -> Response:
    """The business's logo (public: it is on the sign-in page and on wallet passes)."""
    found = logos.logo_of(unit_of_work(), business_id)
    if found is None:
        abort(404)
    response = Response(found.png, mimetype="image/png")
    response.headers["Cache-Control"] = "public, max-age=86400"  # its URL changes with it
    return response
