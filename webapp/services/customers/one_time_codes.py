"""Storing one-time codes (:mod:`webapp.domain.one_time_codes`): issuing one on its row,
and spending it once. Sign-in codes and redemption confirmations both use these."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from webapp.domain import one_time_codes as rules
from webapp.persistence.models import RedeemConfirmation, SignInCode

CodeRow = SignInCode | RedeemConfirmation


def issue(session: Session, row: CodeRow, purpose: rules.Purpose) -> str:
    """Add ``row`` and give it a new code; returns the code to text (only its hash is
    stored). The row is flushed first: the hash is salted with its id."""
    session.add(row)
    session.flush()
    code = rules.new_code()
    row.code_hash = rules.code_hash(purpose, row.id, code)
    return code


def spend(session: Session, model: type[CodeRow], row_id: int, now: datetime) -> bool:
    """Mark the code used in one guarded statement; False if it was used already (a
    parallel request won)."""
    taken = session.execute(update(model)
                            .where(model.id == row_id, model.used_at.is_(None))
                            .values(used_at=now))
    return bool(taken.rowcount == 1)  # type: ignore[attr-defined]
