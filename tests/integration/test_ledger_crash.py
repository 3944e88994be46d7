"""I9: a kill -9 in the middle of accruals loses nothing and doubles nothing.

A child process (crash_child.py) makes accruals with keys k0..kN through the real
service and is killed with SIGKILL part-way, twice; the second child starts again
from k0, so it also retries what the first one committed. Then the parent retries
every request with the same key, and the ledger must hold each accrual exactly once.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tests.integration.crash_child import request
from webapp.domain.actor import Actor
from webapp.domain.ledger import OperationKind as Op
from webapp.persistence.models import IdempotencyKey, Operation
from webapp.services.business import setup as businesses
from webapp.services.customers import accounts as customers
from webapp.services.ledger import balances
from webapp.services.ledger import invariants as ledger_check
from webapp.services.ledger import operations as ledger

CHILD = Path(__file__).with_name("crash_child.py")
REQUESTS = 300

pytestmark = pytest.mark.slow


def accruals(engine: Engine) -> int:
    with Session(engine) as db:
        return db.scalar(select(func.count()).where(Operation.kind == Op.ACCRUAL)) or 0


def assert_clean(engine: Engine) -> None:
    with Session(engine) as db:
        report = ledger_check.check(db)
    failed = [f"{f.invariant} {f.title}: {f.violations}" for f in report.findings if not f.ok]
    assert report.ok, "\n".join(failed)


def run_and_kill(url: str, business_id: int, customer_ids: list[int], after: int,
                 log: Path) -> int:
    """Start a child, SIGKILL it soon after request ``after`` is done; returns the last done."""
    with log.open("w") as stderr:
        child = subprocess.Popen(
            [sys.executable, str(CHILD), url, str(business_id), str(REQUESTS),
             *map(str, customer_ids)],
            stdout=subprocess.PIPE, stderr=stderr, text=True)
        assert child.stdout is not None
        done = -1
        try:
            while done < after:
                line = child.stdout.readline()
                assert line, f"the child stopped by itself:\n{log.read_text()}"
                done = int(line.split()[1])
            # A random few milliseconds more, so the kill lands anywhere in a request.
            time.sleep(random.uniform(0, 0.02))
        finally:
            child.kill()  # SIGKILL: no cleanup, no rollback by the client
            child.wait(timeout=30)
        done = max([done, *(int(line.split()[1]) for line in child.stdout)])
        child.stdout.close()
    assert child.returncode == -9, "the child finished before it could be killed"
    return done


def test_kill_9_then_retries_converge(fresh_engine: Engine, tmp_path: Path) -> None:
    url = fresh_engine.url.render_as_string(hide_password=False)
    with Session(fresh_engine, expire_on_commit=False) as db:
        business_id = businesses.create_business(db, name="Crash").id
        actor = Actor.system(business_id)
        customer_ids = [customers.join(db, actor, phone=f"+791600000{i:02d}").customer.id
                        for i in range(4)]

    for crash, after in enumerate((100, 180)):
        done = run_and_kill(url, business_id, customer_ids, after, tmp_path / f"child{crash}.log")
        # Everything the child reported is there, and nothing half-written is.
        assert done + 1 <= accruals(fresh_engine) <= done + 2
        assert_clean(fresh_engine)

    with Session(fresh_engine) as db:
        for i in range(REQUESTS):
            key, customer_id, points = request(i, customer_ids)
            result = ledger.accrue(db, actor, key, customer_id=customer_id, points=points)
            assert result["points"] == points

    assert accruals(fresh_engine) == REQUESTS
    expected: Counter[int] = Counter()
    for i in range(REQUESTS):
        _key, customer_id, points = request(i, customer_ids)
        expected[customer_id] += points
    with Session(fresh_engine) as db:
        assert db.scalar(select(func.count()).select_from(IdempotencyKey)) == REQUESTS
        for customer_id in customer_ids:
            seen = balances.balance(db, actor, customer_id)
            assert (seen.available, seen.pending, seen.owed) == (expected[customer_id], 0, 0)
    assert_clean(fresh_engine)

    # The operator's view of the same database: `regulars check-ledger` in a new process.
    cli = Path(sys.executable).with_name("regulars")
    env = {**os.environ, "REGULARS_DATABASE_URL": url,
           "REGULARS_INSTANCE_PATH": str(tmp_path / "instance")}
    checked = subprocess.run([str(cli), "check-ledger"], env=env, capture_output=True,
                             text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "All invariants hold." in checked.stdout
    assert f"{REQUESTS:,} operations" in checked.stdout
