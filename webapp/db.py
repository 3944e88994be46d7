"""The request's database session, for views and CLI commands (never for services)."""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session


def session() -> Session:
    """The app's Flask-SQLAlchemy session for the current app context."""
    scoped = current_app.extensions["sqlalchemy"].session
    return scoped()
