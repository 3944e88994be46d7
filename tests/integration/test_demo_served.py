"""`regulars demo` as a new user runs it: one command serves the demo and runs the worker
beside it, so a phone can sign in with the code the demo's terminal shows; Ctrl+C or
SIGTERM stops both, and a killed demo leaves no worker behind."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import Engine

from tests.serving import (
    Served,
    csrf_token,
    regulars_running,
    session_processes,
    wait_for_output,
)
from webapp.cli.worker_beside import GRACE

pytestmark = pytest.mark.slow

CUSTOMER_APP = r"The customer app: (http://127\.0\.0\.1:\d+/c/(\d+)/) .*? phone (\+7\d{10})\."


def demo(fresh_engine: Engine, tmp_path: Path, customers: int) -> Iterator[Served]:
    url = fresh_engine.url.render_as_string(hide_password=False)
    return regulars_running("demo", "--customers", str(customers), database_url=url,
                            instance=tmp_path / "instance", up_timeout=240,
                            env={"PYTHONUTF8": "1"})


def the_worker(served: Served) -> int:
    """The pid of the `regulars worker` the demo runs beside its server, once it runs."""
    wait_for_output(served, r"Worker started \(pid \d+\)")
    beside = [pid for pid, command in session_processes(served.process.pid).items()
              if f"worker --beside {served.process.pid}" in command]
    assert len(beside) == 1, session_processes(served.process.pid)
    return beside[0]


def gone(pids: set[int], session_id: int, timeout: float) -> set[int]:
    """Which of ``pids`` are still alive after waiting up to ``timeout`` for them."""
    deadline = time.monotonic() + timeout
    while (left := pids & set(session_processes(session_id))) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def kill_leftovers(session_id: int) -> None:
    for pid in session_processes(session_id):
        os.kill(pid, signal.SIGKILL)


def test_a_phone_signs_in_with_the_code_the_demo_prints_and_ctrl_c_stops_everything(
        fresh_engine: Engine, tmp_path: Path) -> None:
    with demo(fresh_engine, tmp_path, 15) as served:
        session_id = served.process.pid
        try:
            shown = re.search(CUSTOMER_APP, served.output())
            assert shown, served.output()
            app_url, business_id, phone = shown.groups()
            assert app_url == f"{served.url}/c/{business_id}/"
            assert "appears in this terminal" in served.output()
            worker = the_worker(served)

            phone_browser = requests.Session()
            form = phone_browser.get(f"{app_url}sign-in", timeout=30)
            asked = phone_browser.post(f"{app_url}sign-in", allow_redirects=False, timeout=30,
                                       data={"csrf_token": csrf_token(form.text),
                                             "phone": phone, "data_consent": "yes"})
            assert asked.status_code == 302, asked.text[:500]
            assert asked.headers["Location"].endswith(f"/c/{business_id}/code")
            texted = wait_for_output(served, rf"SMS to {re.escape(phone)}: (\d{{6}}) ")
            code_page = phone_browser.get(f"{app_url}code", timeout=30)
            card = phone_browser.post(f"{app_url}code", timeout=30,
                                      data={"csrf_token": csrf_token(code_page.text),
                                            "code": texted.group(1)})
            assert card.status_code == 200 and 'data-card="' in card.text, card.text[:500]

            # The card page is logged once its request is over: Ctrl+C after that (gunicorn
            # stops at once on SIGINT, cutting short any request still being answered).
            wait_for_output(served, rf'"GET /c/{business_id}/ HTTP/1.1" 200')
            everyone = set(session_processes(session_id))
            assert worker in everyone and len(everyone) >= 4  # demo, 2 web workers, worker
            os.killpg(session_id, signal.SIGINT)  # Ctrl+C in the demo's terminal
            assert served.process.wait(timeout=60) == 0
            assert gone(everyone, session_id, timeout=5) == set()
        finally:
            kill_leftovers(session_id)
    said = served.output()
    assert "Worker stopped." in said and "Traceback" not in said, said[-3000:]


@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)
def test_a_signal_to_the_demo_alone_leaves_no_worker_behind(
        fresh_engine: Engine, tmp_path: Path, sent: signal.Signals) -> None:
    with demo(fresh_engine, tmp_path, 1) as served:
        session_id = served.process.pid
        try:
            worker = the_worker(served)
            everyone = set(session_processes(session_id))
            served.process.send_signal(sent)  # the demo only, as `kill PID` does
            # Well within the worker's grace: it stopped on its own when the demo closed its
            # standard input, without waiting to be terminated.
            served.process.wait(timeout=GRACE / 2)
            if sent == signal.SIGTERM:
                assert served.process.returncode == 0
                assert gone(everyone, session_id, timeout=5) == set()
            else:  # the worker notices its parent is gone and stops by itself
                assert gone({worker}, session_id, timeout=10) == set()
        finally:
            kill_leftovers(session_id)  # a killed demo's web workers take their time
    said = served.output()
    assert "Worker stopped." in said and "Traceback" not in said, said[-3000:]
