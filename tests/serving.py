"""`regulars serve` as users run it: the console script in a subprocess (gunicorn, several
workers) on a database the test made, and small HTTP clients that talk to it.

The end-to-end and browser tests serve through here, so a bug that lives only in the
real serving path (forked workers, per-process state) fails a test.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.conftest import free_port
from tests.web_client import csrf_token

REGULARS = str(Path(sys.executable).with_name("regulars"))
if not Path(REGULARS).exists():  # an installed package outside a virtual environment
    REGULARS = shutil.which("regulars") or REGULARS
SECRET = "served-secret-" + "x" * 40


@dataclass(frozen=True)
class Served:
    """A running `regulars serve`: its address and the file its output goes to."""

    url: str
    log: Path
    process: subprocess.Popen[bytes]

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def serve_env(database_url: str, instance: Path, extra: Mapping[str, str] | None = None
              ) -> dict[str, str]:
    """The environment of a `regulars` process on this database and instance folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGULARS_")}
    env.update({"REGULARS_DATABASE_URL": database_url, "REGULARS_INSTANCE_PATH": str(instance),
                "REGULARS_SECRET_KEY": SECRET, **(extra or {})})
    return env


def regulars_run(*args: str, database_url: str, instance: Path,
                 env: Mapping[str, str] | None = None, timeout: float = 120
                 ) -> subprocess.CompletedProcess[str]:
    """Run a `regulars` command to its end on this database and instance folder, as a
    user would from a shell; its exit code and output (text)."""
    instance.mkdir(parents=True, exist_ok=True)
    return subprocess.run([REGULARS, *args], env=serve_env(database_url, instance, env),
                          capture_output=True, text=True, encoding="utf-8", timeout=timeout,
                          check=False)


@contextmanager
def regulars_serve(database_url: str, instance: Path, *, workers: int = 3,
                   env: Mapping[str, str] | None = None) -> Iterator[Served]:
    """`regulars serve --workers N` on a free port until the block ends (SIGTERM, then
    SIGKILL if it hangs). The database must already be migrated."""
    with regulars_running("serve", "--workers", str(workers), database_url=database_url,
                          instance=instance, env=env) as served:
        yield served


@contextmanager
def regulars_running(*args: str, database_url: str, instance: Path,
                     env: Mapping[str, str] | None = None, up_timeout: float = 60
                     ) -> Iterator[Served]:
    """`regulars <args> --port <free port>` (a command that serves: serve, demo) in a
    session of its own, its output going to a file, from the moment it answers until the
    block ends (SIGTERM to its process group, then SIGKILL if it hangs)."""
    port = free_port()
    instance.mkdir(parents=True, exist_ok=True)
    log = instance / f"{args[0]}-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [REGULARS, *args, "--port", str(port)],
            env=serve_env(database_url, instance, env), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
    served = Served(f"http://127.0.0.1:{port}", log, process)
    try:
        wait_until_up(served, up_timeout)
        yield served
    finally:
        stop(process)


def wait_until_up(served: Served, timeout: float = 60) -> None:
    """Until /healthz answers 200 from every worker's point of view (the socket is
    shared, so one answer means the master listens and a worker serves)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(f"{served.url}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        if served.process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"regulars serve did not start:\n{served.output()[-3000:]}")
        time.sleep(0.2)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a process started in its own session, and everything it started."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def wait_for_output(served: Served, pattern: str, timeout: float = 30) -> re.Match[str]:
    """The first match of ``pattern`` in what the process has written, once it appears."""
    deadline = time.monotonic() + timeout
    while (found := re.search(pattern, served.output())) is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"{pattern!r} never appeared in:\n{served.output()[-3000:]}")
        time.sleep(0.2)
    return found


def session_processes(session_id: int) -> dict[int, str]:
    """The live processes (zombies excluded) of a session, pid: command line (Linux)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except (OSError, IndexError):
            continue  # gone meanwhile
        state, session = fields[0], int(fields[3])
        if session == session_id and state != "Z":
            found[int(entry.name)] = command
    return found


def staff_sign_in(url: str, business_id: int, login: str, password: str, *,
                  headers: Mapping[str, str] | None = None, timeout: float = 30
                  ) -> tuple[requests.Session, requests.Response]:
    """A new browser-like client (sending ``headers`` with every request) that signs in
    on the staff form; the POST's answer."""
    client = requests.Session()
    client.headers.update(headers or {})
    form = client.get(f"{url}/b/{business_id}/staff/sign-in", timeout=timeout)
    answer = client.post(f"{url}/b/{business_id}/staff/sign-in", timeout=timeout,
                         allow_redirects=False,
                         data={"csrf_token": csrf_token(form.text), "login": login,
                               "password": password})
    return client, answer
