"""Google's notification limit, stored: the pass's last notification times (packed by
:mod:`wallet.google.limit`) are changed with a compare-and-set on both columns, each
attempt in its own write scope, so two workers cannot both take the last notification
and no transaction is held while Google is called.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select, update

from wallet.google.limit import (
    NOTIFICATIONS_PER_DAY,
    Times,
    decode,
    encode,
    recent,
    rounded,
)
from webapp.persistence.models import WalletPass
from webapp.services.unit_of_work import UnitOfWork, Work

_ATTEMPTS = 5


def _swap(work: Work, pass_id: int, change: Callable[[Times], Times | None]) -> bool:
    """Apply ``change`` to the pass's kept times with a compare-and-set, committed.
    False when ``change`` says no (None) or the pass is gone or busy."""
    uow = UnitOfWork.of(work)
    for _ in range(_ATTEMPTS):
        with uow.read() as session:
            row = session.execute(select(WalletPass.google_message_day,
                                         WalletPass.google_messages)
                                  .where(WalletPass.id == pass_id)).first()
        if row is None:
            return False
        old_day, old_packed = row
        new = change(decode(old_day, old_packed))
        if new is None:
            return False
        day, packed = encode(new)
        same_day = (WalletPass.google_message_day.is_(None) if old_day is None
                    else WalletPass.google_message_day == old_day)
        with uow.write() as session:
            result = session.execute(
                update(WalletPass)
                .where(WalletPass.id == pass_id, same_day,
                       WalletPass.google_messages == old_packed)
                .values(google_message_day=day, google_messages=packed)
                .execution_options(synchronize_session=False))
        if getattr(result, "rowcount", 0) == 1:
            return True
    return False


def claim(work: Work, pass_id: int, now: datetime) -> bool:
    """Take a notification for the pass at ``now`` if fewer than three were taken in
    the 24 hours before; committed at once."""

    def take(times: Times) -> Times | None:
        kept = recent(times, now)
        return None if len(kept) >= NOTIFICATIONS_PER_DAY else (*kept, rounded(now))

    return _swap(work, pass_id, take)


def give_back(work: Work, pass_id: int, now: datetime) -> None:
    """Return the notification taken at ``now`` for a message that was not sent."""

    def drop(times: Times) -> Times | None:
        kept = list(recent(times, now))
        if rounded(now) not in kept:
            return None
        kept.remove(rounded(now))
        return tuple(kept)

    _swap(work, pass_id, drop)


def spent(work: Work, pass_id: int, now: datetime) -> None:
    """Google says the pass's notifications are spent: none more for 24 hours."""
    _swap(work, pass_id, lambda _: (now,) * NOTIFICATIONS_PER_DAY)
