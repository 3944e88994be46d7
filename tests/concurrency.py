"""Many threads against the real database at once: each with its own session from the
same engine, all released together at a barrier, so the database's locking is what
keeps the result right. Used with the ``fresh_engine`` fixture (real commits)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

Outcome = Any  # what the call returned, or the exception it raised


def race(engine: Engine, threads: int, call: Callable[[Session, int], Any]) -> list[Outcome]:
    """Run ``call(session, i)`` in ``threads`` threads released together; collect outcomes."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    barrier = threading.Barrier(threads)
    outcomes: list[Outcome | None] = [None] * threads

    def worker(i: int) -> None:
        with factory() as db:
            try:
                barrier.wait(timeout=60)
                outcomes[i] = call(db, i)
            except Exception as error:  # judged by the test, never ignored
                outcomes[i] = error

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in pool), "a writer hung"
    assert all(outcome is not None for outcome in outcomes)
    return [outcome for outcome in outcomes if outcome is not None]


def unexpected(outcomes: list[Outcome], *allowed: type[Exception]) -> list[Exception]:
    """The exceptions among ``outcomes`` that are none of ``allowed``."""
    return [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, allowed)]
