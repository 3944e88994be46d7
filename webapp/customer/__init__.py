"""The customer-facing pages (the PWA grows here)."""

from __future__ import annotations

from flask import Blueprint, render_template

from webapp.db import session
from webapp.services import businesses

bp = Blueprint("customer", __name__)


@bp.get("/")
def home() -> str:
    """The landing page: which businesses run their loyalty program here."""
    return render_template("customer/home.html", overview=businesses.overview(session()))


@bp.get("/healthz")
def health() -> dict[str, str]:
    businesses.ping(session())
    return {"status": "ok"}
