"""The customer-facing pages (the PWA grows here)."""

from __future__ import annotations

from flask import Blueprint, render_template

from webapp.current import unit_of_work
from webapp.services.business import setup as businesses

bp = Blueprint("customer", __name__)


@bp.get("/")
def home() -> str:
    """The landing page: which businesses run their loyalty program here."""
    return render_template("customer/home.html", overview=businesses.overview(unit_of_work()))


@bp.get("/healthz")
def health() -> dict[str, str]:
    businesses.ping(unit_of_work())
    return {"status": "ok"}
