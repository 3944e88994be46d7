"""Request bodies are at most 1 MB (a view may allow another size): a larger one is a
413 with a plain message in the visitor's language, refused before it is read.

The 200 MB upload goes to the real `regulars serve` over a raw socket: the headers
announce 200 MB, 64 KB of it follow, and the 413 must come back while the rest was
never sent, without the workers' memory growing. Before, the worker read the body (for
the CSRF check): 8.6 s and 640 MB for a real 200 MB upload, and here no answer at all.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.integration.conftest import make_shop
from tests.serving import Served, regulars_serve, staff_sign_in
from tests.web_client import PASSWORD, csrf_token
from webapp.request_body import DEFAULT_LIMIT, body_limit

MB = 1024 * 1024
TOO_LARGE_RU = "Слишком большой запрос: не больше 1024 КБ."


@pytest.fixture
def served(fresh_engine: Engine, tmp_path: Path) -> Iterator[tuple[Served, int]]:
    """`regulars serve` with two workers on a database holding the test shop."""
    with Session(fresh_engine, expire_on_commit=False) as db:
        shop_id = make_shop(db).id
        db.commit()
    url = fresh_engine.url.render_as_string(hide_password=False)
    with regulars_serve(url, tmp_path / "instance", workers=2) as server:
        yield server, shop_id


def _workers(master: int) -> list[int]:
    """The gunicorn workers: the processes whose parent is the master."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[1]) == master:
            found.append(int(stat.parent.name))
    return found


def _booted_workers(master: int, count: int, within: float = 20) -> tuple[list[int], int]:
    """The workers once all ``count`` are forked and have loaded the app, and their RSS.

    "Ready" means one worker answered; gunicorn forks the others a moment apart and each
    then imports the app, so a busy machine can still be starting the second one.
    """
    deadline, last = time.monotonic() + within, -1
    while time.monotonic() < deadline:
        workers = _workers(master)
        rss = _rss_kb(workers) if len(workers) == count else -1
        if rss > 0 and abs(rss - last) <= last // 100:  # loaded: no longer growing
            return workers, rss
        last = rss
        time.sleep(0.5)
    raise AssertionError(f"{count} workers did not boot within {within} s: {_workers(master)}")


def _rss_kb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        status = Path(f"/proc/{pid}/status").read_text()
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        total += int(found.group(1)) if found else 0
    return total


def _raw_request(server: Served, head: str, body: bytes, timeout: float = 15) -> bytes:
    """Send ``head`` and ``body`` on a fresh connection and read the whole answer (the
    server closes the connection after it)."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as conn:
        conn.sendall(head.encode() + body)
        answer = b""
        while True:
            try:
                chunk = conn.recv(65536)
            except ConnectionResetError:  # the unread rest of our body: the answer is in
                break
            if not chunk:
                break
            answer += chunk
    return answer


@pytest.mark.slow
def test_a_200_mb_body_is_refused_before_it_is_read(served: tuple[Served, int]) -> None:
    server, shop_id = served
    workers, before = _booted_workers(server.process.pid, 2)
    head = (f"POST /c/{shop_id}/sign-in HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {200 * MB}\r\nConnection: close\r\n\r\n")
    started = time.monotonic()
    answer = _raw_request(server, head, b"phone=" + b"7" * (64 * 1024))
    elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:300]
    assert TOO_LARGE_RU in answer.decode(errors="replace")
    # The answer came with 64 KB of the 200 MB sent, in a moment (gunicorn lingers at
    # most 2 s for the client to stop sending): the worker never waited for the rest.
    assert elapsed < 5, elapsed
    assert _workers(server.process.pid) == workers  # no worker was killed or restarted
    assert _rss_kb(workers) - before < 20 * 1024, (before, _rss_kb(workers))


@pytest.mark.slow
def test_a_chunked_body_stops_at_the_limit_too(served: tuple[Served, int]) -> None:
    server, shop_id = served
    piece = b"7" * 65536
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(18)) + b"0\r\n\r\n"
    head = (f"POST /c/{shop_id}/sign-in HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nphone=")
    answer = _raw_request(server, head.removesuffix("phone="), chunks)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:300]
    assert TOO_LARGE_RU in answer.decode(errors="replace")


@pytest.mark.slow
def test_a_normal_form_still_works_through_the_server(served: tuple[Served, int]) -> None:
    server, shop_id = served
    _, signed = staff_sign_in(server.url, shop_id, "owner", PASSWORD)
    assert signed.status_code == 302


def test_a_2_mb_form_is_refused_with_a_message(app: Any, shop: SimpleNamespace) -> None:
    client = app.test_client()
    page = client.get(f"/c/{shop.id}/sign-in").get_data(as_text=True)
    form = {"csrf_token": csrf_token(page), "phone": "+79161234567", "data_consent": "yes"}
    refused = client.post(f"/c/{shop.id}/sign-in", data={**form, "ref": "x" * (2 * MB)})
    assert refused.status_code == 413
    assert TOO_LARGE_RU in refused.get_data(as_text=True)
    english = client.post(f"/c/{shop.id}/sign-in", data={**form, "ref": "x" * (2 * MB)},
                          headers={"Accept-Language": "en"})
    assert "The request is too large: at most 1024 KB." in english.get_data(as_text=True)
    problem = client.post(f"/c/{shop.id}/sign-in", data={**form, "ref": "x" * (2 * MB)},
                          headers={"Accept": "application/json"})
    assert problem.status_code == 413 and problem.mimetype == "application/problem+json"
    assert problem.get_json()["code"] == "request_too_large"
    assert client.post(f"/c/{shop.id}/sign-in", data=form).status_code == 302  # normal


def test_a_view_may_allow_a_larger_body(app: Any) -> None:
    @app.post("/test-upload")
    @body_limit(3 * MB)
    def upload() -> str:
        from flask import request
        return str(len(request.get_data()))

    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    assert client.post("/test-upload", data=b"x" * (2 * MB)).get_data(as_text=True) == str(2 * MB)
    assert client.post("/test-upload", data=b"x" * (4 * MB)).status_code == 413
    assert client.post("/c/1/sign-in", data=b"x" * (DEFAULT_LIMIT + 1),
                       content_type="application/octet-stream").status_code == 413
