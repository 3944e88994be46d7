"""Counter closes per second through gunicorn and PostgreSQL, with real staff sessions.

A throwaway PostgreSQL database ``regulars_bench_counter_<pid>`` on 127.0.0.1 gets
the schema (``webapp.persistence.migrate.upgrade``), one business running the DEMO
program (saved an hour ago), ``--cashiers`` cashiers and ``--customers`` customers
(each with the 100-point welcome bonus). gunicorn serves ``webapp.app:create_app()``
on a free port of 127.0.0.1. Each of ``--concurrency`` client connections is one
counter device: it signs in for real (GET the sign-in page for its CSRF token, POST
login and password, keep the session cookie), reads a CSRF token from the counter
page, then POSTs ``.../customers/<id>/close`` with ``Accept: application/json`` and a
fresh idempotency key for a random customer, back to back, for ``--warmup`` plus
``--seconds``. ``--replay`` of the closes are sent twice with the same key (a double
tap): the second must return the first's order. The client is a small asyncio
HTTP/1.1 keep-alive loop (no third-party package), and its CPU use is reported.
Afterwards the ledger invariants (``regulars check-ledger``'s service) are checked.

``--mode bare`` performs the same writes as a close (idempotency lookup, customer
lock, order, redemption and accrual operations, lot, transfers, entries, balance
updates, audit event, idempotency key) with plain psycopg at the same concurrency:
what this machine can do without Flask and SQLAlchemy. ``--mode floor`` sends the
same requests with the amount left empty: each goes through gunicorn, the session,
the staff member's load, CSRF and the role and branch checks, and is answered 422
before any order work; what the HTTP stack alone allows. The database is dropped at
the end, also on an exception, Ctrl+C or SIGTERM. Run with ``--help``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from common import free_port, ledger_clean, machine_facts, pct, throwaway_database

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PASSWORD = "bench-password-123"
CATEGORIES = ("oil", "tyres", "diagnostics", "brakes", "bodywork")
TOKEN = re.compile(rb'name="csrf_token" value="([^"]+)"')
TICK = os.sysconf("SC_CLK_TCK")


# -- the database ------------------------------------------------------------------------

def seed(url: str, n_cashiers: int, n_customers: int) -> dict[str, Any]:
    """Schema, one business on the DEMO program, its cashiers and customers (not measured)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from webapp.domain.actor import Actor
    from webapp.domain.clock import utcnow
    from webapp.domain.presets import DEMO
    from webapp.persistence.database import make_engine
    from webapp.persistence.migrate import upgrade
    from webapp.persistence.models import Branch
    from webapp.services.business import setup as businesses
    from webapp.services.program import versions as programs
    from webapp.services.staff import accounts as staff

    engine = make_engine(url, **_seed_options(url))
    try:
        upgrade(engine)
        with Session(engine, expire_on_commit=False) as session:
            business_id = businesses.create_business(session, name="Bench counter").id
            actor = Actor.system(business_id)
            programs.save(session, actor, "bench-program", settings=DEMO,
                          now=utcnow() - timedelta(hours=1))
            branch_id = session.scalar(select(Branch.id).where(
                Branch.business_id == business_id))
            logins = []
            for i in range(n_cashiers):
                member = staff.create_staff(session, business_id=business_id,
                                            login=f"cashier{i:03d}", password=PASSWORD,
                                            role="cashier")
                logins.append(member.login)
        # Customers join through the service (welcome bonus included), in a few processes:
        # each join is mostly round trips and commits, so they overlap well.
        parts = 4 if url.startswith("postgresql") else 1  # SQLite: one writer at a time
        with mp.get_context("spawn").Pool(parts) as pool:
            chunks = pool.starmap(_join_some, [(url, business_id, range(k, n_customers, parts))
                                               for k in range(parts)])
        ids = sorted(i for chunk in chunks for i in chunk)
        return {"business_id": business_id, "branch_id": branch_id, "logins": logins,
                "customer_ids": ids}
    finally:
        engine.dispose()


def _seed_options(url: str) -> dict[str, Any]:
    """Seeding needs no durable commits on PostgreSQL; SQLite (profile_close) keeps its own."""
    if url.startswith("postgresql"):
        return {"connect_args": {"options": "-c synchronous_commit=off"}}
    return {}


def _join_some(url: str, business_id: int, numbers: range) -> list[int]:
    from sqlalchemy.orm import Session

    from webapp.domain.actor import Actor
    from webapp.persistence.database import make_engine
    from webapp.services.customers import accounts as customers

    engine = make_engine(url, **_seed_options(url))
    try:
        with Session(engine, expire_on_commit=False) as session:
            actor = Actor.system(business_id)
            return [customers.join(session, actor, phone=f"+7916{i:07d}").customer.id
                    for i in numbers]
    finally:
        engine.dispose()


# -- CPU accounting from /proc ---------------------------------------------------------------

def _proc_cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0.0


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return found


def _postgres_cpu(database: str) -> dict[int, float]:
    """CPU seconds of this database's backends and of the server's own processes
    (WAL writer, checkpointer...): not other databases' backends (other users)."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm", encoding="ascii") as comm:
                    if comm.read().strip() != "postgres":
                        continue
                with open(f"/proc/{entry}/cmdline", "rb") as cmd:
                    line = cmd.read().decode(errors="replace")
            except OSError:
                continue
            backend = "(" in line or "[local]" in line
            if not backend or f" {database} " in line:
                found[int(entry)] = _proc_cpu(int(entry))
    return found


def _machine_busy() -> tuple[float, float]:
    """Seconds of busy and total CPU time over all cores since boot."""
    with open("/proc/stat", encoding="ascii") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICK, sum(values) / TICK


class CpuMeter:
    """CPU seconds used by this process, the server's processes and PostgreSQL."""

    def __init__(self, server_pid: int | None, database: str) -> None:
        self.server_pid = server_pid
        self.database = database

    def sample(self) -> dict[str, float]:
        own = os.times()
        server = 0.0
        if self.server_pid:
            server = _proc_cpu(self.server_pid) + sum(
                _proc_cpu(p) for p in _children(self.server_pid))
        busy, total = _machine_busy()
        return {"client": own.user + own.system + own.children_user + own.children_system,
                "server": server, "postgres": _postgres_cpu(self.database),
                "busy": busy, "total": total, "wall": time.monotonic()}

    @staticmethod
    def share(before: dict[str, Any], after: dict[str, Any]) -> dict[str, float]:
        """Cores used on average by each (1.0 = one core busy), and the machine's busy %."""
        wall = after["wall"] - before["wall"]
        out = {k: (after[k] - before[k]) / wall for k in ("client", "server")}
        both = before["postgres"].keys() & after["postgres"].keys()  # alive all along
        out["postgres"] = sum(after["postgres"][p] - before["postgres"][p] for p in both) / wall
        out["machine_busy_pct"] = 100 * (after["busy"] - before["busy"]) / max(
            after["total"] - before["total"], 1e-9)
        return out


# -- the HTTP client ----------------------------------------------------------------------

class Http:
    """One keep-alive HTTP/1.1 connection with one cookie jar entry: a counter device."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie = ""
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, form: dict[str, str] | None = None,
                      json_answer: bool = False) -> tuple[int, bytes, dict[bytes, bytes]]:
        body = urllib.parse.urlencode(form).encode() if form is not None else b""
        head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}",
                "User-Agent: regulars-bench/1", "Connection: keep-alive"]
        if self.cookie:
            head.append(f"Cookie: session={self.cookie}")
        if json_answer:
            head.append("Accept: application/json")
        if form is not None:
            head += ["Content-Type: application/x-www-form-urlencoded",
                     f"Content-Length: {len(body)}"]
        data = ("\r\n".join(head) + "\r\n\r\n").encode() + body
        for attempt in (1, 2):  # a keep-alive connection the server closed: reconnect once
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            assert self.reader is not None
            try:
                self.writer.write(data)
                raw = await self.reader.readuntil(b"\r\n\r\n")
                break
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()
                if attempt == 2:
                    raise
        lines = raw.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        headers: dict[bytes, bytes] = {}
        for line in lines[1:]:
            if b":" in line:
                name, value = line.split(b":", 1)
                name, value = name.strip().lower(), value.strip()
                if name == b"set-cookie" and value.startswith(b"session="):
                    self.cookie = value[8:].split(b";", 1)[0].decode()
                headers[name] = value
        content = await self.reader.readexactly(int(headers.get(b"content-length", b"0")))
        if headers.get(b"connection", b"").lower() == b"close":
            await self.close()
        return status, content, headers

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def sign_in(port: int, world: dict[str, Any], login: str) -> tuple[Http, str]:
    """Sign in like a browser; the connection and the counter page's CSRF token."""
    http, bid = Http(port), world["business_id"]
    status, page, _ = await http.request("GET", f"/b/{bid}/staff/sign-in")
    token = TOKEN.search(page)
    if status != 200 or token is None:
        raise RuntimeError(f"sign-in page: {status}")
    status, _, _ = await http.request(
        "POST", f"/b/{bid}/staff/sign-in",
        {"csrf_token": token.group(1).decode(), "login": login, "password": PASSWORD})
    if status != 302:
        raise RuntimeError(f"sign-in as {login}: {status}")
    status, page, _ = await http.request("GET", f"/b/{bid}/counter/{world['branch_id']}")
    token = TOKEN.search(page)
    if status != 200 or token is None:
        raise RuntimeError(f"counter page: {status}")
    return http, token.group(1).decode()


def random_close(rng: random.Random) -> tuple[int, int, str]:
    """Order total (roubles), points to redeem, category: a redemption in one of three.

    Every close earns 5 % of what is paid (>= 47 points on >= 1,000 roubles) and spends
    at most 40, so a customer who starts with the 100-point welcome never runs short;
    40 points are far below the 20 % cap and the confirmation threshold (1,000).
    """
    redeem = rng.randint(1, 40) if rng.random() < 1 / 3 else 0
    return rng.randint(1_000, 9_000), redeem, rng.choice(CATEGORIES)


async def device(index: int, port: int, world: dict[str, Any], box: dict[str, float],
                 warmup: float, seconds: float, replay: float, out: dict[str, Any]) -> None:
    """Sign in, then close orders back to back until the window ends."""
    login = world["logins"][index % len(world["logins"])]
    async with out["gate"]:
        http, token = await sign_in(port, world, login)
    out["ready"] += 1
    await out["go"].wait()
    t0 = box["t0"]
    rng = random.Random(index)
    bid, branch = world["business_id"], world["branch_id"]
    measure_from, measure_to = t0 + warmup, t0 + warmup + seconds
    previous: tuple[str, dict[str, str], int] | None = None
    while (began := time.perf_counter()) < measure_to:
        is_replay = previous is not None and rng.random() < replay
        if is_replay:
            assert previous is not None
            path, form, first_order = previous
        else:
            total, redeem, category = random_close(rng)
            customer = rng.choice(world["customer_ids"])
            path = f"/b/{bid}/counter/{branch}/customers/{customer}/close"
            form = {"csrf_token": token, "key": uuid.uuid4().hex,
                    "total": "" if out["floor"] else str(total),
                    "redeem": str(redeem), "category": category}
        try:
            status, body, _ = await http.request("POST", path, form, json_answer=True)
        except (OSError, asyncio.IncompleteReadError) as error:
            status, body = 0, repr(error).encode()
        ended = time.perf_counter()
        ok = status == (422 if out["floor"] else 200)
        order = None
        if out["floor"]:
            try:  # the empty amount's own refusal, not some other 400
                ok = ok and json.loads(body)["detail"] == "Введите сумму заказа."
            except (ValueError, KeyError, TypeError):
                ok = False
        elif ok:
            try:
                order = json.loads(body)["result"]["order_id"]
            except (ValueError, KeyError, TypeError):
                ok = False
        if ok and is_replay and order != first_order:
            ok, body = False, b"replay returned another order"
        if not is_replay and ok and not out["floor"]:
            assert order is not None
            previous = (path, form, order)
        if measure_from <= began and ended <= measure_to:
            if ok:
                out["latencies"].append(ended - began)
                out["replays"] += is_replay
            else:
                out["errors"][status] += 1
                if len(out["samples"]) < 5:
                    out["samples"].append(f"{status}: {body[:300]!r}")
    await http.close()


async def drive(port: int, world: dict[str, Any], concurrency: int, warmup: float,
                seconds: float, replay: float, meter: CpuMeter, floor: bool = False
                ) -> dict[str, Any]:
    """Run every device; CPU is sampled over the measured window only."""
    out: dict[str, Any] = {"latencies": [], "errors": Counter(), "samples": [], "replays": 0,
                           "ready": 0, "go": asyncio.Event(), "floor": floor}
    box = {"t0": 0.0}  # set once every device has signed in
    out["gate"] = asyncio.Semaphore(4)  # argon2 sign-ins a few at a time

    async def one(i: int) -> None:
        await device(i, port, world, box, warmup, seconds, replay, out)

    tasks = [asyncio.ensure_future(one(i)) for i in range(concurrency)]
    while out["ready"] < concurrency:
        for task in tasks:
            if task.done() and task.exception():
                raise task.exception()  # type: ignore[misc]
        await asyncio.sleep(0.05)
    box["t0"] = time.perf_counter()
    out["go"].set()
    await asyncio.sleep(warmup)
    before = meter.sample()
    await asyncio.sleep(seconds)
    after = meter.sample()
    await asyncio.gather(*tasks)
    out["cpu"] = CpuMeter.share(before, after)
    return out


# -- gunicorn ----------------------------------------------------------------------------


@contextmanager
def gunicorn(url: str, workers: int, threads: int, worker_class: str,
             log: Path) -> Iterator[tuple[int, int]]:
    """Serve the app on a free port of 127.0.0.1; yield (port, master pid); stop it after."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="regulars_bench_instance_") as instance:
        env = {**os.environ, "REGULARS_DATABASE_URL": url,
               "REGULARS_SECRET_KEY": "bench-" + "x" * 40,
               "REGULARS_INSTANCE_PATH": instance, "PYTHONPATH": str(ROOT)}
        env.pop("REGULARS_REDIS_URL", None)
        command = [str(VENV_BIN / "gunicorn"), "-w", str(workers), "-k", worker_class,
                   "--threads", str(threads), "-b", f"127.0.0.1:{port}",
                   "--backlog", "2048", "--keep-alive", "30", "--log-level", "warning",
                   "webapp.app:create_app()"]
        with open(log, "wb") as errors:
            server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=errors,
                                      stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                if server.poll() is not None:
                    raise RuntimeError(f"gunicorn exited: see {log}")
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("gunicorn did not start in 60 s") from None
                    time.sleep(0.1)
            time.sleep(1.0)  # every worker booted
            yield port, server.pid
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


# -- the bare-SQL baseline ------------------------------------------------------------------

BARE_LOCK = ("SELECT kind, id, balance FROM accounts WHERE customer_id = %s "
             "ORDER BY id FOR UPDATE")
BARE_HISTORY = ("SELECT count(*), coalesce(sum(total_minor - refunded_minor), 0) FROM orders "
                "WHERE business_id = %s AND customer_id = %s AND closed_at IS NOT NULL")
BARE_ORDER = (
    "INSERT INTO orders (business_id, branch_id, staff_id, customer_id, total_minor,"
    " refunded_minor, discount_minor, program_version_id, service_category, status,"
    " created_at, closed_at) VALUES (%s, %s, %s, %s, %s, 0, 0, %s, %s, 'closed', %s, %s)"
    " RETURNING id")
BARE_OPERATION = (
    "INSERT INTO operations (business_id, customer_id, kind, points, order_id, staff_id,"
    " created_at) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id")
BARE_LOTS = ("SELECT id, remaining FROM lots WHERE customer_id = %s AND remaining > 0 "
             "AND (expires_at IS NULL OR expires_at > %s) ORDER BY earned_at, id")
BARE_TAKE = "UPDATE lots SET remaining = remaining - %s WHERE id = %s AND remaining >= %s"
BARE_LOT = (
    "INSERT INTO lots (business_id, customer_id, source_operation_id, initial, remaining,"
    " earned_at, expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id")
BARE_TRANSFER = (
    "INSERT INTO transfers (business_id, operation_id, debit_account_id, credit_account_id,"
    " amount, lot_id, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id")
BARE_ENTRIES = ("INSERT INTO entries (business_id, transfer_id, account_id, amount) "
                "VALUES (%s, %s, %s, %s), (%s, %s, %s, %s)")
BARE_BALANCE = ("UPDATE accounts SET balance = balance + %s WHERE id = %s "
                "AND balance + %s >= 0")
BARE_AUDIT = (
    "INSERT INTO audit_events (business_id, at, action, staff_id, customer_id, branch_id,"
    " order_id, details, ip, device) VALUES (%s, %s, 'close', %s, %s, %s, %s, %s,"
    " '127.0.0.1', 'regulars-bench/1')")
BARE_KEY_GET = ("SELECT fingerprint, result FROM idempotency_keys"
                " WHERE business_id = %s AND key = %s")
BARE_KEY_PUT = (
    "INSERT INTO idempotency_keys (business_id, key, fingerprint, operation_id, result,"
    " created_at) VALUES (%s, %s, %s, %s, %s, %s)")


def bare_close(conn: Any, w: dict[str, Any], staff_id: int, customer: int, key: str,
               total: int, redeem: int, category: str) -> int:
    """One close as plain SQL in one transaction; returns the order id (or the stored one)."""
    from datetime import UTC, datetime

    now = datetime.now(UTC).replace(tzinfo=None)
    bid = w["business_id"]
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(BARE_KEY_GET, (bid, key))
        stored = cur.fetchone()
        if stored is not None:
            return int(json.loads(stored[1])["order_id"])
        cur.execute(BARE_LOCK, (customer,))
        accounts = {kind: (aid, balance) for kind, aid, balance in cur.fetchall()}
        available = accounts["available"][0]
        cur.execute(BARE_HISTORY, (bid, customer))
        cur.fetchone()
        total_minor = total * 100
        cur.execute(BARE_ORDER, (bid, w["branch_id"], staff_id, customer, total_minor,
                                 w["version_id"], category, now, now))
        order_id = cur.fetchone()[0]
        last = None
        if redeem:
            cur.execute(BARE_LOTS, (customer, now))
            lots = cur.fetchall()
            cur.execute(BARE_OPERATION, (bid, customer, "redemption", redeem, order_id,
                                         staff_id, now))
            last = cur.fetchone()[0]
            left = redeem
            for lot_id, remaining in lots:
                take = min(left, remaining)
                cur.execute(BARE_TAKE, (take, lot_id, take))
                cur.execute(BARE_BALANCE, (-take, available, -take))
                if cur.rowcount != 1:
                    raise RuntimeError("insufficient points")
                cur.execute(BARE_TRANSFER, (bid, last, available, w["redeemed"], take, lot_id,
                                            now))
                transfer = cur.fetchone()[0]
                cur.execute(BARE_ENTRIES, (bid, transfer, available, -take,
                                           bid, transfer, w["redeemed"], take))
                left -= take
                if not left:
                    break
            if left:
                raise RuntimeError("insufficient points")
        accrue = (total_minor - redeem * 100) * 500 // (10_000 * 100)
        if accrue:
            cur.execute(BARE_OPERATION, (bid, customer, "accrual", accrue, order_id, staff_id,
                                         now))
            last = cur.fetchone()[0]
            cur.execute(BARE_LOT, (bid, customer, last, accrue, accrue, now,
                                   now + timedelta(days=365)))
            lot_id = cur.fetchone()[0]
            cur.execute(BARE_TRANSFER, (bid, last, w["issued"], available, accrue, lot_id, now))
            transfer = cur.fetchone()[0]
            cur.execute(BARE_ENTRIES, (bid, transfer, w["issued"], -accrue,
                                       bid, transfer, available, accrue))
            cur.execute(BARE_BALANCE, (accrue, available, accrue))
        result = json.dumps({"order_id": order_id, "operation_id": last, "accrued": accrue,
                             "redeemed": redeem}, sort_keys=True)
        cur.execute(BARE_AUDIT, (bid, now, staff_id, customer, w["branch_id"], order_id, result))
        cur.execute(BARE_KEY_PUT, (bid, key, "f" * 64, last, result, now))
    return int(order_id)


def bare_process(index: int, threads: int, dsn: str, w: dict[str, Any], warmup: float,
                 seconds: float, replay: float, start: Any, results: Any) -> None:
    """One process of the baseline: ``threads`` connections closing back to back."""
    import psycopg

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    out: dict[str, Any] = {"latencies": [], "errors": Counter(), "samples": [], "replays": 0}
    lock = threading.Lock()

    def run(t: int) -> None:
        rng = random.Random(index * 1000 + t)
        conn = psycopg.connect(dsn, autocommit=True)
        staff_id = w["staff_ids"][(index * threads + t) % len(w["staff_ids"])]
        while start.value == 0:
            time.sleep(0.01)
        measure_from = start.value + warmup
        measure_to = measure_from + seconds
        previous = None
        while (began := time.monotonic()) < measure_to:
            is_replay = previous is not None and rng.random() < replay
            if is_replay:
                args, first = previous
            else:
                total, redeem, category = random_close(rng)
                args = (rng.choice(w["customer_ids"]), uuid.uuid4().hex, total, redeem,
                        category)
            try:
                order = bare_close(conn, w, staff_id, *args)
                ok = not is_replay or order == first
                if not is_replay:
                    previous = (args, order)
                error = "replay returned another order"
            except Exception as exc:  # counted, never hidden
                ok, error = False, f"{type(exc).__name__}: {exc}"
            ended = time.monotonic()
            if measure_from <= began and ended <= measure_to:
                with lock:
                    if ok:
                        out["latencies"].append(ended - began)
                        out["replays"] += is_replay
                    else:
                        out["errors"][error[:60]] += 1
                        if len(out["samples"]) < 5:
                            out["samples"].append(error[:300])
        conn.close()

    pool = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for p in pool:
        p.start()
    for p in pool:
        p.join()
    out["errors"] = dict(out["errors"])
    results.put(out)


def bare_world(dsn: str, world: dict[str, Any]) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(dsn) as conn:
        bid = world["business_id"]
        system = dict(conn.execute("SELECT kind, id FROM accounts WHERE business_id = %s "
                                   "AND customer_id IS NULL", (bid,)).fetchall())
        staff_ids = [r[0] for r in conn.execute(
            "SELECT id FROM staff_users WHERE business_id = %s ORDER BY id", (bid,))]
        version = conn.execute("SELECT id FROM program_versions WHERE business_id = %s",
                               (bid,)).fetchone()[0]
    return {**world, "issued": system["issued"], "redeemed": system["redeemed"],
            "staff_ids": staff_ids, "version_id": version}


def run_bare(url: str, world: dict[str, Any], concurrency: int, processes: int,
             warmup: float, seconds: float, replay: float) -> dict[str, Any]:
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    w = bare_world(dsn, world)
    ctx = mp.get_context("spawn")
    start, results = ctx.Value("d", 0.0), ctx.Queue()
    per = [concurrency // processes + (i < concurrency % processes) for i in range(processes)]
    pool = [ctx.Process(target=bare_process, daemon=True,
                        args=(i, n, dsn, w, warmup, seconds, replay, start, results))
            for i, n in enumerate(per) if n]
    meter = CpuMeter(os.getpid(), dsn.rsplit("/", 1)[1])
    for p in pool:
        p.start()
    time.sleep(2.0)  # connected
    start.value = time.monotonic()
    time.sleep(warmup)
    before = meter.sample()
    time.sleep(seconds)
    after = meter.sample()
    outs = [results.get(timeout=120) for _ in pool]
    for p in pool:
        p.join(timeout=30)
    merged: dict[str, Any] = {"latencies": [], "errors": Counter(), "samples": [], "replays": 0}
    for o in outs:
        merged["latencies"] += o["latencies"]
        merged["errors"].update(o["errors"])
        merged["samples"] += o["samples"]
        merged["replays"] += o["replays"]
    cpu = CpuMeter.share(before, after)
    # The baseline's "client" is the worker processes (children of this one).
    cpu["client"], cpu["server"] = 0.0, cpu["server"]
    merged["cpu"] = cpu
    return merged


# -- the run ------------------------------------------------------------------------------

def summarise(mode: str, out: dict[str, Any], seconds: float, extra: dict[str, Any]
              ) -> dict[str, Any]:
    lat = sorted(x * 1000 for x in out["latencies"])
    return {"mode": mode, **extra, "seconds": seconds, "closes": len(lat),
            "closes_per_s": len(lat) / seconds, "replays": out["replays"],
            "p50_ms": pct(lat, 50), "p95_ms": pct(lat, 95), "p99_ms": pct(lat, 99),
            "max_ms": lat[-1] if lat else 0.0,
            "errors": sum(out["errors"].values()),
            "error_kinds": {str(k): v for k, v in out["errors"].items()},
            "error_samples": out["samples"], "cpu": out["cpu"],
            # CPU milliseconds per close: robust to other load on the machine, unlike closes/s
            "cpu_ms_per_close": {k: 1000 * out["cpu"][k] * seconds / max(len(lat), 1)
                                 for k in ("client", "server", "postgres")}}


def run(args: argparse.Namespace, mode: str) -> dict[str, Any]:
    with throwaway_database("postgresql", "bench_counter") as url:
        began = time.monotonic()
        world = seed(url, args.cashiers, args.customers)
        print(f"  seeded {args.customers} customers, {args.cashiers} cashiers in "
              f"{time.monotonic() - began:.0f} s", flush=True)
        load = os.getloadavg()[0]
        if mode == "bare":
            out = run_bare(url, world, args.concurrency, args.bare_processes, args.warmup,
                           args.seconds, args.replay)
            extra: dict[str, Any] = {"server": f"psycopg, {args.bare_processes} processes"}
        else:
            log = Path(tempfile.gettempdir()) / f"regulars_bench_gunicorn_{os.getpid()}.log"
            with gunicorn(url, args.workers, args.threads, args.worker_class, log) as (port, pid):
                out = asyncio.run(drive(port, world, args.concurrency, args.warmup,
                                        args.seconds, 0 if mode == "floor" else args.replay,
                                        CpuMeter(pid, url.rsplit("/", 1)[1]),
                                        floor=mode == "floor"))
            extra = {"server": f"gunicorn {args.worker_class} -w {args.workers}"
                               f" --threads {args.threads}"}
            if log.exists() and log.stat().st_size:
                print(f"  gunicorn log (errors): {log}", flush=True)
        clean, failed, counts = ledger_clean(url)
    row = summarise(mode, out, args.seconds, {**extra, "concurrency": args.concurrency,
                                              "load_1min": load})
    row.update(ledger_clean=clean, ledger_failed=failed, ledger_counts=counts)
    return row


def facts() -> dict[str, str]:
    """The machine's facts, and the gunicorn that served."""
    import gunicorn

    return {**machine_facts(), "gunicorn": gunicorn.__version__}


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| mode | server | conc. | closes/s | p50 ms | p95 ms | p99 ms | errors | replays "
             "| ledger | client CPU | server CPU | PG CPU | machine busy "
             "| CPU ms/close server + PG | load |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|---:|"]
    for r in rows:
        c, per = r["cpu"], r["cpu_ms_per_close"]
        lines.append(
            f"| {r['mode']} | {r['server']} | {r['concurrency']} | {r['closes_per_s']:,.0f} "
            f"| {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} "
            f"| {r['replays']} | {'clean' if r['ledger_clean'] else 'VIOLATIONS'} "
            f"| {c['client']:.2f} | {c['server']:.2f} | {c['postgres']:.2f} "
            f"| {c['machine_busy_pct']:.0f} % | {per['server']:.1f} + {per['postgres']:.1f} "
            f"| {r['load_1min']:.1f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cores = len(os.sched_getaffinity(0))
    parser.add_argument("--mode", choices=["app", "bare", "floor", "both", "all"], default="app",
                        help="both = app and bare; all = app, bare and floor")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=5.0, help="unmeasured seconds first")
    parser.add_argument("--concurrency", type=int, default=16,
                        help="client connections (counter devices) sending back to back")
    parser.add_argument("--cashiers", type=int, default=16)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=cores * 2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="gunicorn threads per worker")
    parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
    parser.add_argument("--replay", type=float, default=0.03,
                        help="share of closes sent again with the same key")
    parser.add_argument("--bare-processes", type=int, default=cores,
                        help="processes the bare-SQL baseline spreads its connections over")
    parser.add_argument("--json", type=Path, help="also save the results to this file")
    args = parser.parse_args()
    if not (0 < args.seconds <= 300 and 0 <= args.warmup <= 60 and 0 < args.concurrency <= 512
            and 0 < args.cashiers <= 500 and 0 < args.customers <= 100_000
            and 0 <= args.replay < 0.5):
        parser.error("out of range: see --help")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the database is dropped
    machine = facts()
    print(", ".join(f"{k}: {v}" for k, v in machine.items()), flush=True)
    rows = []
    modes = {"both": ["app", "bare"], "all": ["app", "bare", "floor"]}.get(args.mode, [args.mode])
    for mode in modes:
        print(f"running {mode}: concurrency {args.concurrency}, {args.warmup:g} s warm-up + "
              f"{args.seconds:g} s ...", flush=True)
        row = run(args, mode)
        for line in row["ledger_failed"]:
            print("  ledger check FAILED:", line)
        for line in row["error_samples"]:
            print("  error:", line)
        print(f"  {row['closes_per_s']:,.0f} closes/s, p99 {row['p99_ms']:.1f} ms, errors "
              f"{row['error_kinds'] or 0}, ledger {'clean' if row['ledger_clean'] else 'NOT clean'}"
              f" ({', '.join(f'{n:,} {k}' for k, n in row['ledger_counts'].items())})",
              flush=True)
        rows.append(row)
    print()
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "args": vars(args) | {"json": str(
            args.json)}, "results": rows}, indent=2, default=str) + "\n")
    return 0 if all(r["errors"] == 0 and r["ledger_clean"] for r in rows) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted; the benchmark database was removed")
