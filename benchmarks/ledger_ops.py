"""Ledger throughput through the service layer, on SQLite or PostgreSQL.

Each worker (a thread or a process, with its own Session) runs a mix of 50 %
``orders.close_order`` (earning and spending points), 30 % ``ledger.accrue`` and
20 % ``ledger.redeem`` for random customers of one business, every call with its
own idempotency key and its own committed transaction. Only calls that finish in
the measured window (after a warm-up) count. The database is always a throwaway
one: a temporary SQLite file, or ``regulars_bench_<pid>`` on 127.0.0.1, dropped at
the end. Run ``python benchmarks/ledger_ops.py --help``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import queue
import random
import signal
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, NamedTuple

from common import ledger_clean, machine_facts, pct, throwaway_database
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from webapp.domain.actor import Actor
from webapp.persistence.database import make_engine
from webapp.persistence.migrate import upgrade
from webapp.persistence.models import Branch
from webapp.services.business import setup as businesses
from webapp.services.counter import orders
from webapp.services.customers import accounts as customers
from webapp.services.ledger import operations as ledger

SEED_POINTS = 1_000_000  # far more than a run can redeem: InsufficientPoints never happens
MIX = (("close_order", 0.5), ("accrue", 0.3), ("redeem", 0.2))


class Sync(NamedTuple):
    """What the coordinator and its workers share (threading or multiprocessing kinds)."""

    ready: Any  # a queue: each worker puts its index once connected
    go: Any  # an event: set when ``start`` holds the common start time
    stop: Any  # an event: set to end every worker early (error, Ctrl+C)
    start: Any  # a shared double: time.monotonic() at the start
    results: Any  # a queue: one dict of latencies and errors per worker


def seed(url: str, n_customers: int) -> dict[str, Any]:
    """Migrate, then create one business, its customers and a large credit for each."""
    # Not measured, so PostgreSQL may skip the WAL flush per commit here (and only here).
    fast = {"connect_args": {"options": "-c synchronous_commit=off"}} if "postgres" in url else {}
    engine = make_engine(url, **fast)
    try:
        upgrade(engine)
        with Session(engine, expire_on_commit=False) as session:
            business = businesses.create_business(session, name="Bench")
            business_id = business.id
            actor = Actor.system(business_id)
            branch_id = session.scalar(select(Branch.id).where(Branch.business_id == business_id))
            ids = []
            for i in range(n_customers):
                joined = customers.join(session, actor, phone=f"+7916{i:07d}")
                ids.append(joined.customer.id)
                ledger.accrue(session, actor, f"seed-{i:08d}", customer_id=joined.customer.id,
                              points=SEED_POINTS)
        return {"business_id": business_id, "branch_id": branch_id, "customer_ids": ids}
    finally:
        engine.dispose()


def one_op(session: Session, actor: Actor, rng: random.Random, key: str,
           world: dict[str, Any]) -> None:
    """Run one randomly chosen ledger call in its own transaction."""
    customer_id = rng.choice(world["customer_ids"])
    kind = rng.choices([k for k, _ in MIX], [w for _, w in MIX])[0]
    if kind == "close_order":
        orders.close_order(session, actor, key, customer_id=customer_id,
                           branch_id=world["branch_id"], total_minor=rng.randint(1_000, 90_000),
                           accrue_points=rng.randint(1, 100), redeem_points=rng.randint(1, 50))
    elif kind == "accrue":
        ledger.accrue(session, actor, key, customer_id=customer_id, points=rng.randint(1, 100))
    else:
        ledger.redeem(session, actor, key, customer_id=customer_id, points=rng.randint(1, 50))


def worker(index: int, url: str, world: dict[str, Any], warmup: float, seconds: float,
           sync: Sync) -> None:
    """Run ops until the window closes; report latencies of ops finished inside it."""
    if mp.parent_process() is not None:  # a child process: Ctrl+C is the coordinator's
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    engine = make_engine(url)
    make_session = sessionmaker(bind=engine, expire_on_commit=False)
    actor, rng = Actor.system(world["business_id"]), random.Random(index)
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    sync.ready.put(index)
    sync.go.wait()
    measure_from = sync.start.value + warmup
    measure_to = measure_from + seconds
    with make_session() as session:
        n = 0
        while not sync.stop.is_set() and (began := time.monotonic()) < measure_to:
            n += 1
            try:
                one_op(session, actor, rng, f"bench-{os.getpid()}-{index}-{n:09d}", world)
            except Exception as error:  # counted, never hidden
                session.rollback()
                errors[type(error).__name__] += 1
            ended = time.monotonic()
            if measure_from <= began and ended <= measure_to:
                latencies.append(ended - began)
    engine.dispose()
    sync.results.put({"latencies": latencies, "errors": dict(errors)})


def run(engine_name: str, workers: int, mode: str, seconds: float, warmup: float,
        n_customers: int) -> dict[str, Any]:
    """Benchmark one combination on a fresh database and check the ledger afterwards."""
    with throwaway_database(engine_name) as url:
        world = seed(url, n_customers)
        load = os.getloadavg()[0]  # other work on the machine skews the numbers: say so
        # CLOCK_MONOTONIC is system-wide on Linux, so processes share one time line.
        ctx = mp.get_context("spawn")
        if mode == "process":
            sync = Sync(ctx.Queue(), ctx.Event(), ctx.Event(), ctx.Value("d", 0), ctx.Queue())
            spawn: Any = ctx.Process
        else:
            sync = Sync(queue.Queue(), threading.Event(), threading.Event(), ctx.Value("d", 0),
                        queue.Queue())
            spawn = threading.Thread
        pool = [spawn(target=worker, daemon=True,
                      args=(i, url, world, warmup, seconds, sync)) for i in range(workers)]
        limit = 120 + warmup + seconds  # generous, but a stuck run still ends
        try:
            for p in pool:
                p.start()
            for _ in pool:
                sync.ready.get(timeout=limit)
            sync.start.value = time.monotonic()
            sync.go.set()
            outcomes = [sync.results.get(timeout=limit) for _ in pool]
        finally:
            sync.stop.set()
            sync.go.set()
            for p in pool:
                p.join(timeout=30)
                if isinstance(p, mp.process.BaseProcess) and p.is_alive():
                    p.terminate()
        clean, report, _ = ledger_clean(url)
    latencies = sorted(x * 1000 for o in outcomes for x in o["latencies"])
    errors: Counter[str] = Counter()
    for o in outcomes:
        errors.update(o["errors"])
    return {"engine": engine_name, "workers": workers, "mode": mode, "seconds": seconds,
            "ops": len(latencies), "ops_per_s": len(latencies) / seconds,
            "p50_ms": pct(latencies, 50), "p95_ms": pct(latencies, 95),
            "p99_ms": pct(latencies, 99), "errors": sum(errors.values()),
            "error_kinds": dict(errors), "load_1min": load, "ledger_clean": clean,
            "ledger_report": report}


def table(rows: list[dict[str, Any]]) -> str:
    """The results as a Markdown table."""
    lines = ["| engine | workers | ops/s | p50 ms | p95 ms | p99 ms | errors | ledger | load |",
             "|---|---|---:|---:|---:|---:|---:|---|---:|"]
    for r in rows:
        plural = ("es" if r["mode"] == "process" else "s") if r["workers"] > 1 else ""
        lines.append(f"| {r['engine']} | {r['workers']} {r['mode']}{plural} "
                     f"| {r['ops_per_s']:,.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} "
                     f"| {r['p99_ms']:.1f} | {r['errors']} "
                     f"| {'clean' if r['ledger_clean'] else 'VIOLATIONS'} | {r['load_1min']:.1f} |")
    return "\n".join(lines)


def main() -> int:
    """Parse the options, run the benchmarks, print (and optionally save) the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--workers", type=int, choices=[1, 8], default=1)
    parser.add_argument("--mode", choices=["thread", "process", "both"], default="thread",
                        help="workers as threads, processes, or both (8-worker runs only)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured window (max 300)")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds first")
    parser.add_argument("--customers", type=int, default=1000, help="of the one business")
    parser.add_argument("--all", action="store_true", help="both engines, 1 and 8 workers")
    parser.add_argument("--json", type=Path, help="also save the results to this file")
    args = parser.parse_args()
    if not (0 < args.seconds <= 300 and 0 <= args.warmup <= 60
            and 0 < args.customers <= 100_000):
        parser.error("--seconds must be in (0, 300], --warmup in [0, 60], "
                     "--customers in [1, 100000]")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the database is dropped
    modes = ["thread", "process"] if args.mode == "both" else [args.mode]
    combos = [(e, w, m) for e in (["sqlite", "postgresql"] if args.all else [args.engine])
              for w in ([1, 8] if args.all else [args.workers])
              for m in (modes if w > 1 else modes[:1])]
    facts = machine_facts()
    print(", ".join(f"{k}: {v}" for k, v in facts.items()), flush=True)
    rows = []
    for engine_name, workers, mode in combos:
        print(f"running {engine_name}, {workers} {mode}(s), {args.warmup:g} s warm-up "
              f"+ {args.seconds:g} s ...", flush=True)
        row = run(engine_name, workers, mode, args.seconds, args.warmup, args.customers)
        for line in row["ledger_report"]:
            print("  ledger check FAILED:", line)
        print(f"  {row['ops_per_s']:,.0f} ops/s, errors {row['error_kinds'] or 0}, "
              f"ledger {'clean' if row['ledger_clean'] else 'NOT clean'}", flush=True)
        rows.append(row)
    print()
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps({"machine": facts, "results": rows}, indent=2) + "\n")
    return 0 if all(r["errors"] == 0 and r["ledger_clean"] for r in rows) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted; the benchmark database was removed")
