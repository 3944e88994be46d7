"""The running app's unit of work, for views and commands (``create_app`` builds it)."""

from __future__ import annotations

from flask import current_app

from webapp.services.unit_of_work import UnitOfWork

EXTENSION = "regulars.unit_of_work"


def unit_of_work() -> UnitOfWork:
    """The unit of work of the app handling this request or command."""
    uow: UnitOfWork = current_app.extensions[EXTENSION]
    return uow
