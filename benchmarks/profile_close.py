"""Where the server's time goes in one counter close: SQL statements and Python CPU.

For each engine (``--engine sqlite``, ``postgresql`` or ``both``) seeds a throwaway
database like ``counter_close.py`` (one cashier, ``--customers`` customers), signs the
cashier in through Flask's test client, then POSTs ``--closes`` closes (JSON answer)
in one thread. It counts the SQL statements (SQLAlchemy's ``before_cursor_execute``
event) and the CPU time (``time.process_time``) of the whole request and of the
service call alone (``checkout.close``, wrapped), and prints a small table; ``--show``
lists the statements of one close without and one with a redemption, ``--profile``
adds a cProfile (CPU time) of the measured closes, top ``--top`` by cumulative time::

    .venv/bin/python benchmarks/profile_close.py --engine both --closes 300 [--show]
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from counter_close import PASSWORD, TOKEN, random_close, seed, throwaway_database
from sqlalchemy import event


def measure(engine_name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Seed, sign in, warm up, then measure ``args.closes`` closes on one engine."""
    from webapp.app import create_app
    from webapp.services.counter import checkout

    with throwaway_database(engine_name, "bench_profile") as url, \
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
            from webapp.current import unit_of_work

            engine = unit_of_work().session.get_bind()
        statements: list[str] = []
        in_service: list[int] = [0, 0]  # statements, CPU ns inside checkout.close

        @event.listens_for(engine, "before_cursor_execute")
        def _count(_conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
            statements.append(statement)

        original: Callable[..., dict[str, Any]] = checkout.close

        def timed_close(*a: Any, **kw: Any) -> dict[str, Any]:
            before, cpu = len(statements), time.process_time_ns()
            try:
                return original(*a, **kw)
            finally:
                in_service[0] += len(statements) - before
                in_service[1] += time.process_time_ns() - cpu

        checkout.close = timed_close  # type: ignore[assignment]  # the view looks it up here

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

        try:
            for _ in range(50):  # warm caches and the connection pool
                close()
            one: dict[str, int] = {}
            for wanted in (False, True):
                statements.clear()
                close(wanted)
                label = "with redemption" if wanted else "without redemption"
                one[label] = len(statements)
                if args.show:
                    print(f"--- {engine_name}, one close ({label}): {len(statements)} statements")
                    for s in statements:
                        print("   ", re.sub(r"\s+", " ", s)[:150])
            statements.clear()
            in_service[:] = [0, 0]
            profiler = cProfile.Profile(time.process_time) if args.profile else None
            wall, cpu = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            for _ in range(args.closes):
                close()
            if profiler:
                profiler.disable()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        finally:
            checkout.close = original  # type: ignore[assignment]
            engine.dispose()
        n = args.closes
        kinds = Counter(s.split()[0].upper() for s in statements)
        if profiler:
            print(f"--- {engine_name}: cProfile of {n} closes (CPU time), top {args.top}")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)
        return {"engine": engine_name, "statements": len(statements) / n,
                "service_statements": in_service[0] / n, "kinds": dict(kinds), **one,
                "cpu_ms": 1000 * cpu / n, "service_cpu_ms": in_service[1] / 1e6 / n,
                "wall_ms": 1000 * wall / n}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--closes", type=int, default=300)
    parser.add_argument("--customers", type=int, default=60)
    parser.add_argument("--show", action="store_true", help="list one close's statements")
    parser.add_argument("--profile", action="store_true", help="cProfile the measured closes")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    engines = ("sqlite", "postgresql") if args.engine == "both" else (args.engine,)
    rows = [measure(name, args) for name in engines]
    print(f"\n{args.closes} closes per engine, one thread, Flask test client"
          f"{' (under cProfile)' if args.profile else ''}; per close:")
    print("| engine | statements (request) | statements (service) | one close w/o / with"
          " redemption | CPU ms (request) | CPU ms (service) | wall ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['engine']} | {r['statements']:.1f} | {r['service_statements']:.1f} |"
              f" {r['without redemption']} / {r['with redemption']} | {r['cpu_ms']:.2f} |"
              f" {r['service_cpu_ms']:.2f} | {r['wall_ms']:.2f} |")
    for r in rows:
        print(f"  {r['engine']} statement kinds over {args.closes} closes: {r['kinds']}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
