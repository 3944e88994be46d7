"""Where the server's time goes in one counter close: SQL statements and a cProfile.

Seeds a throwaway PostgreSQL database like ``counter_close.py``, signs one cashier in
through Flask's test client, then POSTs ``--closes`` closes (JSON answer) in one
thread. Prints the SQL statements of one close (counted with SQLAlchemy's
``before_cursor_execute`` event), the wall and CPU time per close, and the top of a
cProfile sorted by cumulative time (``--profile``)::

    /tmp/venv/bin/python benchmarks/profile_close.py --closes 500 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import re
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from counter_close import PASSWORD, TOKEN, random_close, seed, throwaway_database
from sqlalchemy import event


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--closes", type=int, default=300)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=45)
    args = parser.parse_args()
    from webapp.app import create_app

    with throwaway_database("postgresql", "bench_profile") as url, \
            tempfile.TemporaryDirectory() as instance:
        world = seed(url, 1, args.customers)
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "p" * 40,
                          "INSTANCE_PATH": instance})
        bid, branch = world["business_id"], world["branch_id"]
        client = app.test_client()
        page = client.get(f"/b/{bid}/staff/sign-in").data
        answer = client.post(f"/b/{bid}/staff/sign-in", data={
            "csrf_token": TOKEN.search(page).group(1).decode(),  # type: ignore[union-attr]
            "login": world["logins"][0], "password": PASSWORD})
        assert answer.status_code == 302, answer.status_code
        page = client.get(f"/b/{bid}/counter/{branch}").data
        token = TOKEN.search(page).group(1).decode()  # type: ignore[union-attr]
        rng = random.Random(1)
        with app.app_context():
            from webapp.current import unit_of_work as db_session

            engine = db_session().get_bind()
        statements: list[str] = []

        @event.listens_for(engine, "before_cursor_execute")
        def _count(_conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
            statements.append(statement)

        def close(redeem_wanted: bool | None = None) -> None:
            total, redeem, category = random_close(rng)
            if redeem_wanted is not None:
                redeem = 17 if redeem_wanted else 0
            customer = rng.choice(world["customer_ids"])
            r = client.post(f"/b/{bid}/counter/{branch}/customers/{customer}/close",
                            data={"csrf_token": token, "key": uuid.uuid4().hex,
                                  "total": str(total), "redeem": str(redeem),
                                  "category": category},
                            headers={"Accept": "application/json"})
            assert r.status_code == 200, (r.status_code, r.data[:300])

        for _ in range(50):  # warm caches and the connection pool
            close()
        for wanted in (False, True):
            statements.clear()
            close(wanted)
            print(f"--- one close ({'with' if wanted else 'without'} redemption):"
                  f" {len(statements)} statements")
            for s in statements:
                print("   ", re.sub(r"\s+", " ", s)[:150])
        statements.clear()
        profiler = (cProfile.Profile(time.process_time) if args.profile else None)  # CPU time
        wall, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        for _ in range(args.closes):
            close()
        if profiler:
            profiler.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        kinds = Counter(s.split()[0].upper() for s in statements)
        print(f"--- {args.closes} closes: {1000 * wall / args.closes:.2f} ms wall, "
              f"{1000 * cpu / args.closes:.2f} ms CPU (this process) per close; "
              f"{len(statements) / args.closes:.1f} statements per close {dict(kinds)}"
              f"{' (under cProfile)' if profiler else ''}")
        if profiler:
            stats = pstats.Stats(profiler)
            stats.sort_stats("cumulative").print_stats(args.top)
            stats.sort_stats("tottime").print_stats(25)
        with app.app_context():
            from webapp.current import unit_of_work as s

            s().get_bind().dispose()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
