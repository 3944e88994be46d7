"""Run a write once per idempotency key (I4) and own its transaction.

The key row is written with the result, in the same transaction as the work. Two
concurrent requests with one key both queue on the customer's lock; the second
then fails on the key's unique index, rolls back, and returns the stored result.
On SQLite ``BEGIN IMMEDIATE`` already serialises writers, so it finds the key.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.domain.errors import IdempotencyConflict
from webapp.domain.ledger import fingerprint, validate_key
from webapp.persistence.base import utcnow
from webapp.persistence.models import IdempotencyKey

# DESIGN.md: keys live at least 30 days; a few more so a month-end retry still matches.
KEY_LIFETIME = timedelta(days=35)
# Built once, on the table (Core): no ORM compile or per-call statement building.
_keys = cast(Table, IdempotencyKey.__table__)
_INSERT_KEY = insert(_keys)
_STORED = select(_keys.c.fingerprint, _keys.c.result).where(
    _keys.c.business_id == bindparam("business_id"), _keys.c.key == bindparam("key"))


def run_once(
    session: Session,
    business_id: int,
    key: str,
    operation: str,
    params: Mapping[str, Any],
    work: Callable[[], dict[str, Any]],
) -> dict[str, Any]:
    """Do ``work`` and commit, or return what the first call with this key returned.

    ``work`` returns a JSON-serialisable dict; if it holds ``operation_id`` the key
    row points at that ledger operation. Any exception rolls everything back,
    the key included, so a failed request can be retried.
    """
    validate_key(key)
    fp = fingerprint(operation, params)
    stored = _stored(session, business_id, key, fp)
    if stored is not None:
        return stored
    try:
        result = work()
        session.execute(_INSERT_KEY, {
            "business_id": business_id, "key": key, "fingerprint": fp,
            "operation_id": result.get("operation_id"),
            "result": json.dumps(result, sort_keys=True), "created_at": utcnow(),
        })
        session.commit()
        return result
    except IntegrityError:
        session.rollback()
        stored = _stored(session, business_id, key, fp)
        if stored is not None:  # lost a race with the same key: the winner's result
            return stored
        raise
    except BaseException:
        session.rollback()
        raise


def _stored(session: Session, business_id: int, key: str, fp: str) -> dict[str, Any] | None:
    row = session.execute(_STORED, {"business_id": business_id, "key": key}).first()
    if row is None:
        return None
    session.rollback()  # end the read-only transaction before returning
    if row.fingerprint != fp:
        raise IdempotencyConflict(
            "This idempotency key was already used for a different request."
        )
    result: dict[str, Any] = json.loads(row.result)
    return result


def purge_expired(session: Session, now: datetime) -> int:
    """Delete keys older than KEY_LIFETIME; returns how many went."""
    result = session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < now - KEY_LIFETIME)
    )
    session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]
