"""Wallet test fixtures: a test PKI standing in for Apple's (made once per session),
the ``REGULARS_APPLE_*`` settings pointing at it, and an app configured with them.

- ``apple_pki``: :class:`tests.integration.wallet.pki.PKI` — PEM files of a root CA
  (``root_pem``, what ``openssl cms -verify -CAfile`` trusts), the stand-in WWDR
  intermediate (``wwdr_pem``), the pass-type certificate (``cert_pem``: UID = pass type
  id, OU = team id) and its key (``key_pem``; ``encrypted_key_pem`` with
  ``pki.KEY_PASSWORD``); ``apple_pki.issue(...)`` makes other pass certificates.
- ``apple_extra``: a fresh dict of the extra settings (``APPLE_PASS_TYPE_ID``, ...,
  without the ``REGULARS_`` prefix), to copy and change in a test.
- ``make_apple_app(**extra)``: an app like ``tests/conftest.py``'s ``app`` (its session
  joins a rolled-back transaction) with ``apple_extra`` plus ``extra`` and base URL
  https://regulars.test; ``apple_app`` is ``make_apple_app()``. Once per test: each
  app holds its own outer transaction, and on SQLite a second one would wait for the
  first's write lock.
- ``apple_shop``: the ``shop`` of ``tests/integration/conftest.py`` (business, two
  branches, DEMO program, owner) made in ``apple_app``'s database transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import scoped_session, sessionmaker

from tests.integration.conftest import PASSWORD
from tests.integration.wallet.pki import PKI, extra_for, make_pki
from webapp.domain.actor import Actor, Role
from webapp.domain.presets import DEMO
from webapp.persistence.base import utcnow
from webapp.persistence.models import Branch
from webapp.services import businesses, programs, staff

BASE_URL = "https://regulars.test"


@pytest.fixture(scope="session")
def apple_pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    return make_pki(tmp_path_factory.mktemp("apple-pki"))


@pytest.fixture
def apple_extra(apple_pki: PKI) -> dict[str, str]:
    return extra_for(apple_pki)


@pytest.fixture
def make_apple_app(database_url: str, engine: Engine, tmp_path: Path,
                   apple_extra: dict[str, str]) -> Iterator[Callable[..., Any]]:
    from webapp.app import create_app

    made: list[tuple[Any, Any, Any]] = []

    def make(**extra: Any) -> Any:
        config = {"DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path),
                  "SECRET_KEY": "test-secret-" + "x" * 40, "TESTING": True,
                  "BASE_URL": BASE_URL, **apple_extra, **extra}
        app = create_app(config)
        connection = engine.connect()
        outer = connection.begin()
        factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                               expire_on_commit=False)
        app.extensions["sqlalchemy"].session = scoped_session(factory)
        app.test_session = app.extensions["sqlalchemy"].session  # type: ignore[attr-defined]
        made.append((app, connection, outer))
        return app

    yield make
    for app, connection, outer in reversed(made):
        app.extensions["sqlalchemy"].session.remove()
        outer.rollback()
        connection.close()


@pytest.fixture
def apple_app(make_apple_app: Callable[..., Any]) -> Any:
    return make_apple_app()


@pytest.fixture
def apple_shop(apple_app: Any) -> SimpleNamespace:
    """The business, its branches (Центр, Север) and a DEMO program, in ``apple_app``."""
    db = apple_app.test_session()
    made = businesses.create_business(db, name="Гараж на Лесной", branches=["Центр", "Север"])
    branches = list(db.scalars(select(Branch.id).where(Branch.business_id == made.id)
                               .order_by(Branch.id)))
    owner = staff.create_staff(db, business_id=made.id, login="owner", password=PASSWORD,
                               role=Role.OWNER.value)
    owner_actor = Actor.staff(made.id, owner.id, Role.OWNER)
    programs.save(db, owner_actor, "program-key-1", settings=DEMO,
                  now=utcnow() - timedelta(days=1))
    return SimpleNamespace(id=made.id, centre=branches[0], north=branches[1],
                           owner=owner_actor)
