"""A local HTTP server standing in for an SMS provider's HTTP API (what
``REGULARS_SMS_BACKEND=http`` posts to): it records every POST and answers each with the
next queued (status, body), then 200, optionally slowly or with a redirect.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    """One request as the provider saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeProvider:
    """Answers each POST with the next queued (status, body), then 200."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    answers: list[tuple[int, str]] = field(default_factory=list)
    delay: float = 0.0
    redirect_to: str | None = None


@contextmanager
def running() -> Iterator[FakeProvider]:
    """The provider on a free port of 127.0.0.1 until the block ends (``url`` set)."""
    state = FakeProvider()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            state.received.append(Received(self.command, self.path, dict(self.headers),
                                           self.rfile.read(length)))
            time.sleep(state.delay)
            status, body = state.answers.pop(0) if state.answers else (200, '{"id": "m-1"}')
            try:
                self.send_response(status)
                if state.redirect_to:
                    self.send_header("Location", state.redirect_to)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())
            except OSError:
                pass  # the client gave up waiting (the timeout test)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
