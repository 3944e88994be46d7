"""Shared fixtures: the database engine (SQLite or PostgreSQL), per-test sessions that
roll back, the Flask app and client, and factories for businesses and customers.

``REGULARS_TEST_DATABASE_URL`` picks the engine (``./dev test`` runs the suite once
on SQLite and once on a throwaway PostgreSQL database); without it, a temporary
SQLite file is used.
"""

from __future__ import annotations

import itertools
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from webapp.domain.actor import Actor, Role
from webapp.persistence.database import make_engine
from webapp.persistence.migrate import upgrade
from webapp.persistence.models import Branch, Business, Customer
from webapp.services.business import setup as businesses
from webapp.services.customers import accounts as customers
from webapp.services.staff import accounts as staff

POSTGRES_URL = os.environ.get("REGULARS_TEST_DATABASE_URL", "")

# The machine is shared and noisy: how fast Hypothesis generates inputs says nothing
# about the code, so a slow moment must not fail a property test.
settings.register_profile("shared-machine", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("shared-machine")
T0 = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


def pytest_report_header() -> str:
    return f"database: {POSTGRES_URL or 'sqlite (temporary file)'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        yield POSTGRES_URL
        return
    # Each xdist process gets a database of its own beside the given one: tests that
    # commit for real or TRUNCATE must never see (or wipe) another process's rows.
    url = make_url(POSTGRES_URL)
    name = f"{url.database}_{worker}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose commits are savepoints inside a transaction rolled back after."""
    connection = engine.connect()
    outer = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint",
                 expire_on_commit=False)
    yield db
    db.close()
    outer.rollback()
    connection.close()


@pytest.fixture
def fresh_engine(tmp_path: Path, engine: Engine) -> Iterator[Engine]:
    """A database whose commits are real, for concurrency and crash tests.

    SQLite: a new file. PostgreSQL: the test database, emptied afterwards with
    TRUNCATE (which the append-only row triggers do not block, by design: it is
    an administrator's tool, not an application write).
    """
    if engine.dialect.name == "sqlite":
        fresh = make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
        upgrade(fresh)
        yield fresh
        fresh.dispose()
        return
    yield engine
    with engine.begin() as connection:
        tables = connection.execute(text(
            "SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables"
            " WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"
        )).scalar_one()
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


_phones = itertools.count(1)


@pytest.fixture
def make_business(session: Session) -> Callable[..., Business]:
    def make(name: str = "Гараж №1", **kwargs: Any) -> Business:
        kwargs.setdefault("branches", ["Центр", "Север"])
        return businesses.create_business(session, name=name, **kwargs)

    return make


@pytest.fixture
def business(make_business: Callable[..., Business]) -> Business:
    return make_business()


@pytest.fixture
def system(business: Business) -> Actor:
    return Actor.system(business.id)


@pytest.fixture
def branch(session: Session, business: Business) -> Branch:
    return session.query(Branch).filter_by(business_id=business.id).order_by(Branch.id).first()


@pytest.fixture
def make_staff(session: Session) -> Callable[..., Actor]:
    """A real staff row and the actor for it."""
    counter = itertools.count(1)

    def make(business: Business, role: Role = Role.MANAGER) -> Actor:
        member = staff.create_staff(session, business_id=business.id, role=role.value,
                                    login=f"{role.value}{next(counter)}",
                                    password="correct horse battery")
        return Actor.staff(business.id, member.id, role,
                           frozenset(b.id for b in member.branches))

    return make


@pytest.fixture
def manager(make_staff: Callable[..., Actor], business: Business) -> Actor:
    return make_staff(business, Role.MANAGER)


@pytest.fixture
def cashier(make_staff: Callable[..., Actor], business: Business) -> Actor:
    return make_staff(business, Role.CASHIER)


@pytest.fixture
def owner(make_staff: Callable[..., Actor], business: Business) -> Actor:
    return make_staff(business, Role.OWNER)


@pytest.fixture
def make_customer(session: Session) -> Callable[..., Customer]:
    def make(business: Business, phone: str | None = None, **kwargs: Any) -> Customer:
        phone = phone or f"+7916{next(_phones):07d}"
        return customers.join(session, Actor.system(business.id), phone=phone,
                              **kwargs).customer

    return make


@pytest.fixture
def customer(make_customer: Callable[..., Customer], business: Business) -> Customer:
    return make_customer(business)


@pytest.fixture
def keys() -> Callable[[], str]:
    """Fresh idempotency keys."""
    counter = itertools.count(1)
    return lambda: f"test-key-{next(counter):06d}"


@contextmanager
def rolled_back_app(engine: Engine, config: dict[str, Any]) -> Iterator[Any]:
    """An app made with ``config`` whose session joins an outer transaction on
    ``engine`` that is rolled back afterwards: services commit for real, the test
    database keeps nothing. ``app.test_session`` is that session."""
    from webapp import cli
    from webapp.app import create_app

    app = create_app({"SECRET_KEY": "test-secret-" + "x" * 40, "TESTING": True, **config})
    cli.register(app)  # as the `regulars` entry point does (webapp/__main__.py)
    connection = engine.connect()
    outer = connection.begin()
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                           expire_on_commit=False)
    app.extensions["sqlalchemy"].session = scoped_session(factory)
    app.test_session = app.extensions["sqlalchemy"].session  # type: ignore[attr-defined]
    try:
        yield app
    finally:
        app.extensions["sqlalchemy"].session.remove()
        outer.rollback()
        connection.close()


@pytest.fixture
def app(database_url: str, engine: Engine, tmp_path: Path) -> Iterator[Any]:
    """The Flask app on the test database; its session joins a rolled-back transaction."""
    with rolled_back_app(engine, {"DATABASE_URL": database_url,
                           "INSTANCE_PATH": str(tmp_path)}) as made:
        yield made


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> None:
    """Argon2 at its production cost takes most of a second on the test machine; tests
    use the same algorithm with a small memory and time cost (hashes stay argon2)."""
    staff.passwords.update(argon2__memory_cost=1024, argon2__rounds=1,
                           argon2__parallelism=1)


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def redis_or_skip(url: str) -> Any:
    """A client of the local Redis at ``url``; skipped without Redis, except under
    CI=true, where a missing Redis is a failure. The Redis is shared with whatever else
    runs on the machine: tests use keys of their own and never empty a database."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("no Redis at 127.0.0.1:6379")
    return client
