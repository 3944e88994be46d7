"""The unit of work ends every transaction: write scopes commit or roll back, read scopes
release SQLite's lock, nested scopes join the outermost, run_once keeps its key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from webapp.domain.errors import IdempotencyConflict
from webapp.persistence.models import Business, IdempotencyKey
from webapp.services.unit_of_work import ScopeMisuse, UnitOfWork, reads, run_once, writes


@pytest.fixture
def make_session(fresh_engine: Engine) -> Iterator[sessionmaker[Session]]:
    factory = sessionmaker(bind=fresh_engine, expire_on_commit=False)
    yield factory


@pytest.fixture
def uow(make_session: sessionmaker[Session]) -> Iterator[UnitOfWork]:
    session = make_session()
    yield UnitOfWork(lambda: session)
    session.close()


def _businesses(make_session: sessionmaker[Session]) -> list[str]:
    with make_session() as other:  # another connection: sees only what was committed
        return list(other.scalars(select(Business.name).order_by(Business.id)))


def _add(session: Session, name: str) -> None:
    session.add(Business(name=name, timezone="Europe/Moscow"))
    session.flush()


def test_a_write_scope_commits_at_its_end(uow: UnitOfWork,
                                          make_session: sessionmaker[Session]) -> None:
    with uow.write() as session:
        _add(session, "Гараж")
    assert _businesses(make_session) == ["Гараж"]
    assert not uow.session.in_transaction()


def test_an_error_rolls_the_whole_scope_back(uow: UnitOfWork,
                                             make_session: sessionmaker[Session]) -> None:
    with pytest.raises(ValueError), uow.write() as session:
        _add(session, "Гараж")
        raise ValueError("half-done")
    assert _businesses(make_session) == []
    assert not uow.session.in_transaction()


def test_nested_scopes_join_and_only_the_outermost_commits(
        uow: UnitOfWork, make_session: sessionmaker[Session]) -> None:
    @writes
    def add(session: Session, name: str) -> None:
        _add(session, name)

    with uow.write() as session:
        add(uow, "Первый")
        add(session, "Второй")  # a bare session joins the same scope
        assert session.in_transaction()  # the inner scopes ended nothing
    assert _businesses(make_session) == ["Первый", "Второй"]

    with pytest.raises(RuntimeError), uow.write():
        add(uow, "Третий")
        raise RuntimeError("after the inner scope ended")
    assert _businesses(make_session) == ["Первый", "Второй"]  # the inner one went too


def test_a_read_scope_ends_its_transaction_so_sqlite_writers_are_not_blocked(
        uow: UnitOfWork, make_session: sessionmaker[Session], fresh_engine: Engine) -> None:
    @reads
    def count(session: Session) -> int:
        return int(session.scalar(select(func.count(Business.id))) or 0)

    assert count(uow) == 0
    assert not uow.session.in_transaction()  # SQLite's BEGIN IMMEDIATE lock is gone
    with fresh_engine.connect() as other:  # so another writer gets in at once
        if fresh_engine.dialect.name == "sqlite":
            other.exec_driver_sql("PRAGMA busy_timeout = 0")
            other.commit()
        with Session(bind=other) as writer:
            _add(writer, "Соседи")
            writer.commit()
    assert count(uow) == 1


def test_a_read_scope_leaves_a_transaction_it_did_not_begin(uow: UnitOfWork) -> None:
    session = uow.session
    _add(session, "Ещё не записан")
    with uow.read() as inside:
        assert inside.scalar(select(func.count(Business.id))) == 1
    assert session.in_transaction()
    assert session.scalar(select(func.count(Business.id))) == 1  # the caller's work is kept
    session.rollback()


def test_a_write_inside_a_read_is_refused(uow: UnitOfWork,
                                          make_session: sessionmaker[Session]) -> None:
    with pytest.raises(ScopeMisuse), uow.read(), uow.write() as session:
        _add(session, "Потерялся бы")
    assert _businesses(make_session) == []


def test_run_once_answers_a_retry_from_its_key_and_refuses_a_changed_request(
        uow: UnitOfWork, make_session: sessionmaker[Session]) -> None:
    with uow.write() as session:
        _add(session, "Гараж")
        business_id = session.scalar(select(Business.id))
    assert business_id is not None
    calls: list[int] = []

    def work() -> dict[str, int]:
        calls.append(1)
        _add(uow.session, f"Филиал {len(calls)}")
        return {"made": len(calls)}

    key = "a" * 32
    first = run_once(uow, business_id, key, "test.add", {"n": 1}, work)
    again = run_once(uow, business_id, key, "test.add", {"n": 1}, work)
    assert first == again == {"made": 1} and calls == [1]
    assert _businesses(make_session) == ["Гараж", "Филиал 1"]
    with pytest.raises(IdempotencyConflict):
        run_once(uow, business_id, key, "test.add", {"n": 2}, work)

    def fails() -> dict[str, int]:
        _add(uow.session, "Не записан")
        raise ValueError("boom")

    with pytest.raises(ValueError):
        run_once(uow, business_id, "b" * 32, "test.add", {"n": 3}, fails)
    with make_session() as other:  # the failed call left no key: it may be retried
        assert other.scalar(select(func.count(IdempotencyKey.key))) == 1
    assert _businesses(make_session) == ["Гараж", "Филиал 1"]
