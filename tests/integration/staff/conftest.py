"""Fixtures for the staff pages: data made on the app's own session.

The shared ``business`` fixture writes through a second connection, which would hold
SQLite's write lock while the app writes; these override it for the staff pages.
Rows come back as plain namespaces because the app's session expires its objects
after each request.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from staff import sessions
from tests.web_client import PASSWORD
from webapp.domain.actor import Role
from webapp.services.business import setup as businesses
from webapp.services.staff import accounts as staff

T0 = 1_800_000_000.0


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """The time staff sign-in and sessions see; tests move it with ``clock.now += ...``."""
    now = SimpleNamespace(now=T0)
    monkeypatch.setattr(sessions, "clock", lambda: now.now)
    return now


@pytest.fixture
def no_csrf(app: Any) -> None:
    """CSRF checks off, for tests about something else that post forms directly."""
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def make_business(app: Any) -> Any:
    def make(name: str = "Гараж №1") -> SimpleNamespace:
        made = businesses.create_business(app.test_session(), name=name)
        return SimpleNamespace(id=made.id, name=made.name)

    return make


@pytest.fixture
def business(make_business: Any) -> Any:
    return make_business()


@pytest.fixture
def owner(app: Any, business: Any) -> SimpleNamespace:
    """The business's owner, login "owner" (password PASSWORD); only the id is kept."""
    made = staff.create_staff(app.test_session(), business_id=business.id, login="owner",
                              password=PASSWORD, role=Role.OWNER.value, display_name="Анна")
    return SimpleNamespace(id=made.id)
