"""The unit of work: the one place that ends transactions (commit or rollback).

Services never call ``commit()`` or ``rollback()``. A service declared ``@writes``
runs in a *write scope*: what it does commits when the outermost scope ends without
an error and rolls back on any error. A service declared ``@reads`` runs in a *read
scope*, which ends the transaction it began, so SQLite's ``BEGIN IMMEDIATE`` lock is
released as soon as the read is done. Scopes nest: a service called from inside
another's scope joins it, and only the outermost scope ends the transaction.
:func:`run_once` adds the idempotency key (I4) to a write scope.

``create_app`` builds one :class:`UnitOfWork` on the request's session; views and
commands hand it to services. A service may also be handed a bare ``Session`` (the
tests' savepoint sessions): the scope state lives on the session, so both agree.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from sqlalchemy import Table, bindparam, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.domain.clock import utcnow
from webapp.domain.errors import IdempotencyConflict
from webapp.domain.ledger import fingerprint, validate_key
from webapp.persistence.models import AuditEvent, IdempotencyKey

P = ParamSpec("P")
R = TypeVar("R")

_DEPTH = "regulars.scope_depth"
_MODE = "regulars.scope_mode"


class ScopeMisuse(RuntimeError):
    """A write scope opened inside a read scope: the read would discard the write."""


class UnitOfWork:
    """Hands out read and write scopes on one session (or the current one of a factory)."""

    def __init__(self, session: Callable[[], Session]) -> None:
        self._session = session

    @classmethod
    def of(cls, work: UnitOfWork | Session) -> UnitOfWork:
        """The unit of work for ``work``: itself, or one over a bare session."""
        if isinstance(work, UnitOfWork):
            return work
        return cls(lambda: work)

    @property
    def session(self) -> Session:
        """The current session (for code already inside a scope)."""
        return self._session()

    @property
    def depth(self) -> int:
        """How many scopes are open on the current session (0: none)."""
        return int(self._session().info.get(_DEPTH, 0))

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write scope: commit at the outermost end, roll back on any error."""
        session = self._session()
        depth = int(session.info.get(_DEPTH, 0))
        if depth and session.info.get(_MODE) == "read":
            raise ScopeMisuse("a write scope cannot open inside a read scope")
        if depth:
            yield session
            return
        session.info[_DEPTH], session.info[_MODE] = 1, "write"
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.info[_DEPTH] = 0

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read scope: ends (rolls back) the transaction it began, error or not."""
        session = self._session()
        depth = int(session.info.get(_DEPTH, 0))
        if depth:
            yield session
            return
        began = not session.in_transaction()
        session.info[_DEPTH], session.info[_MODE] = 1, "read"
        try:
            yield session
        finally:
            session.info[_DEPTH] = 0
            if began:
                session.rollback()


Work = UnitOfWork | Session


def writes(fn: Callable[Concatenate[Session, P], R]) -> Callable[Concatenate[Work, P], R]:
    """Run the service in a write scope; it is called with the unit of work."""

    @functools.wraps(fn)
    def scoped(work: Work, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with UnitOfWork.of(work).write() as session:
            return fn(session, *args, **kwargs)

    return scoped


def reads(fn: Callable[Concatenate[Session, P], R]) -> Callable[Concatenate[Work, P], R]:
    """Run the service in a read scope; it is called with the unit of work."""

    @functools.wraps(fn)
    def scoped(work: Work, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with UnitOfWork.of(work).read() as session:
            return fn(session, *args, **kwargs)

    return scoped


# DESIGN.md: keys live at least 30 days; a few more so a month-end retry still matches.
KEY_LIFETIME = timedelta(days=35)
# Built once, on the table (Core): no ORM compile or per-call statement building.
_keys = cast(Table, IdempotencyKey.__table__)
_INSERT_KEY = insert(_keys)
_events = cast(Table, AuditEvent.__table__)
_INSERT_EVENT = insert(_events)
# The key row and an audit event in one statement (PostgreSQL: a data-modifying CTE).
# The event's parameters are named e_<column>: a DML statement takes a parameter named
# like one of its columns as a value to write, so they must not share the key's names.
_INSERT_KEY_AND_EVENT = insert(_keys).add_cte(insert(_events).values({
    c.name: bindparam(f"e_{c.name}", type_=c.type) for c in _events.c if c.name != "id"
}).cte("audit_event"))
_STORED = select(_keys.c.fingerprint, _keys.c.result).where(
    _keys.c.business_id == bindparam("business_id"), _keys.c.key == bindparam("key"))


class Replayed(Exception):
    """Raised by :func:`replay_if_stored` inside ``do``: the key was used before."""

    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__("replayed")
        self.result = result


# For a ``do`` that reads the key in the statement it runs first (``run_once(...,
# do_reads_key=True)``): add these columns, bind ``business_id`` and ``idempotency_key``,
# and hand what they read to :func:`replay_if_stored`.
STORED_FINGERPRINT = select(_keys.c.fingerprint).where(
    _keys.c.business_id == bindparam("business_id"),
    _keys.c.key == bindparam("idempotency_key")).scalar_subquery()
STORED_RESULT = select(_keys.c.result).where(
    _keys.c.business_id == bindparam("business_id"),
    _keys.c.key == bindparam("idempotency_key")).scalar_subquery()


def replay_if_stored(operation: str, params: Mapping[str, Any], stored_fingerprint: str | None,
                     stored_result: str | None) -> None:
    """In ``do``, right after its first statement read the key (:data:`STORED_FINGERPRINT`,
    :data:`STORED_RESULT`): raise :class:`Replayed` with the first call's result (which
    ``run_once`` returns, writing nothing), IdempotencyConflict if the key was used for
    another request; return if the key is new."""
    result = _first_answer(stored_fingerprint, stored_result, fingerprint(operation, params))
    if result is not None:
        raise Replayed(result)


def run_once(work: Work, business_id: int, key: str, operation: str,
             params: Mapping[str, Any], do: Callable[[], dict[str, Any]], *,
             audit: Callable[[], dict[str, Any] | None] | None = None,
             do_reads_key: bool = False) -> dict[str, Any]:
    """Do ``do`` in a write scope, or return what the first call with this key returned.

    ``audit``, called after ``do``, may give an audit event's columns
    (``webapp.services.staff.audit.event``): it is written with the key row, in the
    same statement on PostgreSQL. With ``do_reads_key`` the key is not looked up here:
    ``do`` reads it with its own first statement and calls :func:`replay_if_stored`
    (one round trip fewer).

    ``do`` returns a JSON-serialisable dict; if it holds ``operation_id`` the key row
    points at that ledger operation. The key row is written in the same transaction,
    so any error rolls back the key too and the request can be retried. Two
    concurrent calls with one key both queue on the customer's lock; the second then
    fails on the key's unique index and returns the winner's result. On SQLite the
    lookup's ``BEGIN IMMEDIATE`` already serialises them, so the second finds the key.
    """
    validate_key(key)
    fp = fingerprint(operation, params)
    uow = UnitOfWork.of(work)
    outermost = uow.depth == 0
    try:
        with uow.write() as session:
            stored = None if do_reads_key else _stored(session, business_id, key, fp)
            if stored is not None:
                return stored
            result = do()
            _insert_key(session, {
                "business_id": business_id, "key": key, "fingerprint": fp,
                "operation_id": result.get("operation_id"),
                "result": json.dumps(result, sort_keys=True), "created_at": utcnow(),
            }, audit() if audit is not None else None)
            return result
    except Replayed as replay:  # ``do`` found the key: its scope wrote nothing
        return replay.result
    except IntegrityError:
        if not outermost:  # the caller's transaction failed; only it can retry
            raise
        with uow.read() as session:
            stored = _stored(session, business_id, key, fp)
        if stored is not None:  # lost a race with the same key: the winner's result
            return stored
        raise


def _insert_key(session: Session, row: dict[str, Any], event: dict[str, Any] | None) -> None:
    if event is None:
        session.execute(_INSERT_KEY, row)
    elif session.get_bind().dialect.name == "postgresql":
        session.execute(_INSERT_KEY_AND_EVENT,
                        {**row, **{f"e_{name}": value for name, value in event.items()}})
    else:
        session.execute(_INSERT_EVENT, event)
        session.execute(_INSERT_KEY, row)


def _stored(session: Session, business_id: int, key: str, fp: str) -> dict[str, Any] | None:
    row = session.execute(_STORED, {"business_id": business_id, "key": key}).first()
    return None if row is None else _first_answer(row.fingerprint, row.result, fp)


def _first_answer(stored_fingerprint: str | None, stored_result: str | None,
                  fp: str) -> dict[str, Any] | None:
    """What the key's first call returned; None for a new key; IdempotencyConflict when
    the key was used for another request."""
    if stored_fingerprint is None:
        return None
    if stored_fingerprint != fp:
        raise IdempotencyConflict()
    result: dict[str, Any] = json.loads(stored_result or "{}")
    return result


@writes
def purge_expired_keys(session: Session, now: datetime) -> int:
    """Delete idempotency keys older than KEY_LIFETIME; returns how many went."""
    result = session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < now - KEY_LIFETIME)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
