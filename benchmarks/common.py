"""What every benchmark here needs: a throwaway database, percentiles, the ledger's
invariant checks afterwards, and the machine's facts for the results table."""

from __future__ import annotations

import os
import platform
import socket
import sqlite3
import statistics
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PG = ["-h", "127.0.0.1", "-p", "5432", "-U", "postgres"]


@contextmanager
def throwaway_database(engine_name: str, label: str = "bench") -> Iterator[str]:
    """Yield the URL of an empty database that is removed afterwards, whatever happens."""
    if engine_name == "sqlite":
        with tempfile.TemporaryDirectory(prefix=f"regulars_{label}_") as folder:
            yield f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        return
    name = f"regulars_{label}_{os.getpid()}"
    subprocess.run(["createdb", *PG, name], check=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        subprocess.run(["dropdb", *PG, "--if-exists", "--force", name], check=False)


def pct(sorted_ms: list[float], p: int) -> float:
    """The p-th percentile of already sorted values (0 when there are none)."""
    if len(sorted_ms) < 2:
        return sorted_ms[0] if sorted_ms else 0.0
    return statistics.quantiles(sorted_ms, n=100, method="inclusive")[p - 1]


def ledger_clean(url: str) -> tuple[bool, list[str], dict[str, int]]:
    """``regulars check-ledger``'s checks I1-I10: whether all hold, what failed, counts."""
    from sqlalchemy.orm import Session

    from webapp.persistence.database import make_engine
    from webapp.services.ledger.invariants import check

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            report = check(session)
        failed = [f"{f.invariant} {f.title}: {f.violations}" for f in report.findings if not f.ok]
        return report.ok, failed, dict(report.counts)
    finally:
        engine.dispose()


def machine_facts() -> dict[str, str]:
    """Cores, CPU model, Python, SQLite and PostgreSQL server versions."""
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        cpu = next((line.split(":", 1)[1].strip() for line in info
                    if line.startswith("model name")), cpu)
    try:
        pg = subprocess.run(["psql", *PG, "-d", "postgres", "-Atc", "SHOW server_version"],
                            capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pg = "unavailable"
    return {"nproc": str(len(os.sched_getaffinity(0))), "cpu": cpu,
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "postgresql": pg}


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
