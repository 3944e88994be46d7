"""Counters for rate limits that every process and machine shares: rows of the database
by default, Redis when ``REGULARS_REDIS_URL`` is set.

One operation matters: read some counters of a window, decide, and count the attempt
only if it is let through, atomically, so requests racing on several workers can never
slip more attempts past a limit than it allows. PostgreSQL locks the rows (in key order,
so two requests never wait on each other crosswise); SQLite's write transactions are
serial already (``BEGIN IMMEDIATE``); Redis retries an optimistic transaction
(WATCH/MULTI). In the database each count is a write scope of the unit of work of its
own (:mod:`webapp.services.unit_of_work`), committed before the caller goes on to check
a password; a refusal rolls its scope back, so it counts nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from webapp.domain.errors import DomainError
from webapp.domain.sign_in_limits import Count
from webapp.persistence.models import RateCounter
from webapp.services.unit_of_work import UnitOfWork, Work

T = TypeVar("T")
KEEP = timedelta(days=1)  # windows older than this are deleted as new counts come in
RETRIES = 50  # optimistic Redis transactions tried before giving up


class LimitsUnavailable(DomainError):
    """The configured Redis does not answer: no attempt is let through uncounted."""

    code = "limits_unavailable"
    status = 503


class Counters(Protocol):
    def hit_unless(self, keys: Sequence[str], window_start: datetime, now: datetime,
                   refuse: Callable[[tuple[Count, ...]], T | None]) -> T | None:
        """Give ``refuse`` the keys' counts in this window (in the keys' order); when it
        returns None, add one hit to each (last at ``now``) and return None, else return
        its answer and count nothing."""
        ...

    def unhit(self, keys: Sequence[str], window_start: datetime) -> None:
        """Take back one hit from each key of this window (an attempt that succeeded)."""
        ...


class _Refused(Exception):
    """Carries a refusal out of the write scope, so that the scope rolls back."""

    def __init__(self, answer: object) -> None:
        super().__init__()
        self.answer = answer


class DatabaseCounters:
    """Counters as ``rate_counters`` rows, each call a write scope of its own (so it
    commits before the caller goes on, when the caller has no scope open)."""

    def __init__(self, session: Work) -> None:
        self.session = session
        self._work = UnitOfWork.of(session)

    def hit_unless(self, keys: Sequence[str], window_start: datetime, now: datetime,
                   refuse: Callable[[tuple[Count, ...]], T | None]) -> T | None:
        try:
            with self._work.write() as db:
                self._hit_unless(db, keys, window_start, now, refuse)
        except _Refused as refused:  # the scope rolled back: the refusal counts nothing
            return cast(T, refused.answer)
        return None

    def _hit_unless(self, db: Session, keys: Sequence[str], window_start: datetime,
                    now: datetime, refuse: Callable[[tuple[Count, ...]], T | None]) -> None:
        insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
        ordered = sorted(set(keys))
        for key in ordered:  # make sure each row exists, so it can be locked
            db.execute(insert(RateCounter)
                       .values(key=key, window_start=window_start, hits=0, last_at=now)
                       .on_conflict_do_nothing())
        rows = db.execute(select(RateCounter.key, RateCounter.hits, RateCounter.last_at)
                          .where(RateCounter.key.in_(ordered),
                                 RateCounter.window_start == window_start)
                          .order_by(RateCounter.key).with_for_update()).all()
        found = {row.key: Count(row.hits, row.last_at if row.hits else None) for row in rows}
        answer = refuse(tuple(found[key] for key in keys))
        if answer is not None:
            raise _Refused(answer)
        db.execute(update(RateCounter)
                   .where(RateCounter.key.in_(ordered), RateCounter.window_start == window_start)
                   .values(hits=RateCounter.hits + 1, last_at=now))
        db.execute(delete(RateCounter).where(RateCounter.window_start < now - KEEP))

    def unhit(self, keys: Sequence[str], window_start: datetime) -> None:
        with self._work.write() as db:
            db.execute(update(RateCounter)
                       .where(RateCounter.key.in_(sorted(set(keys))),
                              RateCounter.window_start == window_start,
                              RateCounter.hits > 0)
                       .values(hits=RateCounter.hits - 1))


# Take a hit back only from a counter that still exists (an expired one stays gone).
_UNHIT = """
for _, name in ipairs(KEYS) do
  if redis.call('EXISTS', name) == 1 and tonumber(redis.call('HGET', name, 'hits')) > 0 then
    redis.call('HINCRBY', name, 'hits', -1)
  end
end
return 0
"""


class RedisCounters:
    """Counters as Redis hashes ``{hits, last}`` that expire a minute after their window."""

    def __init__(self, client: Any, window: timedelta, prefix: str = "regulars:rate:") -> None:
        self.client = client
        self.window = window
        self.prefix = prefix

    def _names(self, keys: Sequence[str], window_start: datetime) -> list[str]:
        return [f"{self.prefix}{key}:{int(window_start.timestamp())}" for key in keys]

    def hit_unless(self, keys: Sequence[str], window_start: datetime, now: datetime,
                   refuse: Callable[[tuple[Count, ...]], T | None]) -> T | None:
        from redis.exceptions import RedisError

        try:
            return self._hit_unless(keys, window_start, now, refuse)
        except RedisError as error:
            raise LimitsUnavailable() from error

    def _hit_unless(self, keys: Sequence[str], window_start: datetime, now: datetime,
                    refuse: Callable[[tuple[Count, ...]], T | None]) -> T | None:
        from redis.exceptions import RedisError, WatchError

        names = self._names(keys, window_start)
        # Relative to the caller's clock, not Redis's: the window's end plus a minute.
        ttl = max(60, int((window_start + self.window - now).total_seconds()) + 60)
        with self.client.pipeline() as pipe:
            for _ in range(RETRIES):
                try:
                    pipe.watch(*names)
                    counts = tuple(_count(pipe.hgetall(name)) for name in names)
                    answer = refuse(counts)
                    if answer is not None:
                        pipe.unwatch()
                        return answer
                    pipe.multi()
                    for name in set(names):
                        pipe.hincrby(name, "hits", 1)
                        pipe.hset(name, "last", repr(now.timestamp()))
                        pipe.expire(name, ttl)
                    pipe.execute()
                    return None
                except WatchError:  # another request counted meanwhile: read again
                    continue
        raise RedisError("the counters kept changing under every attempt")

    def unhit(self, keys: Sequence[str], window_start: datetime) -> None:
        from redis.exceptions import RedisError

        names = sorted(set(self._names(keys, window_start)))
        with suppress(RedisError):  # the hit stays counted: the safe side of a limit
            self.client.eval(_UNHIT, len(names), *names)


def _count(stored: dict[bytes, bytes]) -> Count:
    hits = int(stored.get(b"hits", 0))
    last = stored.get(b"last")
    return Count(hits, datetime.fromtimestamp(float(last), UTC) if last and hits else None)


def pick(redis_client: Any | None, session: Work, window: timedelta) -> Counters:
    """Redis when the app has a client for it, else the database."""
    if redis_client is not None:
        return RedisCounters(redis_client, window)
    return DatabaseCounters(session)
