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
- ``standin``: the APNs stand-in, asking for a client certificate from ``apple_pki``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.conftest import rolled_back_app
from tests.integration.conftest import make_shop
from tests.integration.wallet.pki import PKI, extra_for, make_pki
from tests.standins.apns import ApnsStandIn

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
    with ExitStack() as stack:

        def make(**extra: Any) -> Any:
            return stack.enter_context(rolled_back_app(engine, {
                "DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path),
                "BASE_URL": BASE_URL, **apple_extra, **extra}))

        yield make


@pytest.fixture
def apple_app(make_apple_app: Callable[..., Any]) -> Any:
    return make_apple_app()


@pytest.fixture
def standin(tmp_path: Path, apple_pki: PKI) -> Iterator[ApnsStandIn]:
    """APNs (tests/standins/apns.py) with certificate authentication: client
    certificates from the test PKI."""
    with ApnsStandIn(tmp_path, client_ca=[apple_pki.root_pem, apple_pki.wwdr_pem]) as server:
        yield server


@pytest.fixture
def apple_shop(apple_app: Any) -> SimpleNamespace:
    """The business, its branches (Центр, Север) and a DEMO program, in ``apple_app``."""
    return make_shop(apple_app.test_session())
