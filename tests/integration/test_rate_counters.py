"""The shared rate-limit counters under real concurrency: threads with their own
connections race to count, and never more attempts get through than the limit allows
(database rows on both engines, and Redis)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.conftest import free_port, redis_or_skip
from webapp.domain.sign_in_limits import Count
from webapp.persistence.models import RateCounter
from webapp.services.staff.rate_counters import Counters, DatabaseCounters, RedisCounters

NOW = datetime(2026, 12, 3, 10, 7, tzinfo=UTC)
WINDOW = NOW.replace(minute=0)
REDIS_URL = "redis://127.0.0.1:6379/14"


def at_most(limit: int) -> Callable[[tuple[Count, ...]], str | None]:
    return lambda counts: "refused" if counts[0].hits >= limit else None


def race(make: Callable[[], Counters], threads: int, limit: int, keys: tuple[str, ...]
         ) -> list[str | None]:
    """``threads`` attempts at once, each through its own counters; their answers."""
    start = threading.Barrier(threads)
    answers: list[str | None] = []
    lock = threading.Lock()

    def attempt() -> None:
        counters = make()
        start.wait()
        answer = counters.hit_unless(keys, WINDOW, NOW, at_most(limit))
        with lock:
            answers.append(answer)
        close = getattr(counters, "session", None)
        if close is not None:
            close.close()

    workers = [threading.Thread(target=attempt) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return answers


@pytest.fixture
def redis_client() -> Iterator[Any]:
    client = redis_or_skip(REDIS_URL)
    yield client
    client.close()


@pytest.mark.slow
def test_database_counters_let_exactly_the_limit_through(fresh_engine: Engine) -> None:
    keys = ("pair", "address", "login")
    answers = race(lambda: DatabaseCounters(Session(fresh_engine)), 30, 10, keys)
    assert sorted(answers, key=str) == [None] * 10 + ["refused"] * 20
    with Session(fresh_engine) as db:
        hits = dict(db.execute(select(RateCounter.key, RateCounter.hits)).all())
    assert hits == {"pair": 10, "address": 10, "login": 10}


@pytest.mark.slow
def test_redis_counters_let_exactly_the_limit_through(redis_client: Any) -> None:
    keys, prefix = ("pair", "address", "login"), f"test:{uuid.uuid4()}:"
    answers = race(lambda: RedisCounters(redis_client, timedelta(minutes=15), prefix),
                   30, 10, keys)
    assert sorted(answers, key=str) == [None] * 10 + ["refused"] * 20
    assert int(redis_client.hget(f"{prefix}pair:{int(WINDOW.timestamp())}", "hits")) == 10


@pytest.mark.parametrize("store", ["database", "redis"])
def test_a_refused_attempt_counts_nothing_and_a_success_is_given_back(
        session: Session, store: str) -> None:
    counters: Counters = DatabaseCounters(session)
    if store == "redis":
        counters = RedisCounters(redis_or_skip(REDIS_URL), timedelta(minutes=15),
                                 f"test:{uuid.uuid4()}:")
    assert counters.hit_unless(("a", "b"), WINDOW, NOW, at_most(2)) is None
    assert counters.hit_unless(("a", "b"), WINDOW, NOW, at_most(2)) is None
    assert counters.hit_unless(("a", "b"), WINDOW, NOW, at_most(2)) == "refused"
    counters.unhit(("a", "b"), WINDOW)
    assert counters.hit_unless(("a", "b"), WINDOW, NOW, lambda counts: counts) == (
        Count(1, NOW), Count(1, NOW)), type(counters)
    # Another window starts from nothing.
    assert counters.hit_unless(("a",), WINDOW + timedelta(minutes=15), NOW,
                               at_most(1)) is None


def test_windows_a_day_old_are_deleted_as_new_ones_are_written(session: Session) -> None:
    counters = DatabaseCounters(session)
    counters.hit_unless(("old",), WINDOW - timedelta(days=2), NOW - timedelta(days=2),
                        at_most(5))
    counters.hit_unless(("new",), WINDOW, NOW, at_most(5))
    assert session.scalars(select(RateCounter.key)).all() == ["new"]


def test_an_unreachable_redis_refuses_instead_of_letting_attempts_through() -> None:
    import redis

    from webapp.services.staff.rate_counters import LimitsUnavailable

    closed = redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0",
                                  socket_connect_timeout=1)
    with pytest.raises(LimitsUnavailable):
        RedisCounters(closed, timedelta(minutes=15)).hit_unless(("a",), WINDOW, NOW,
                                                                at_most(5))
