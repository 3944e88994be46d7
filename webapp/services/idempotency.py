"""Run a write once per idempotency key (I4) and own its transaction.

The key row is inserted before the work, so on PostgreSQL a concurrent request
with the same key waits on the unique index and then reads the stored result;
on SQLite ``BEGIN IMMEDIATE`` already serialises writers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.domain.errors import IdempotencyConflict
from webapp.domain.ledger import fingerprint, validate_key
from webapp.persistence.models import IdempotencyKey

# DESIGN.md: keys live at least 30 days; a few more so a month-end retry still matches.
KEY_LIFETIME = timedelta(days=35)


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
        row = IdempotencyKey(business_id=business_id, key=key, fingerprint=fp, result="")
        session.add(row)
        session.flush()
        result = work()
        row.operation_id = result.get("operation_id")
        row.result = json.dumps(result, sort_keys=True)
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
    row = session.execute(
        select(IdempotencyKey.fingerprint, IdempotencyKey.result).where(
            IdempotencyKey.business_id == business_id, IdempotencyKey.key == key
        )
    ).first()
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
