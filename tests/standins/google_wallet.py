"""A local HTTP server standing in for the Google Wallet REST API (walletobjects/v1) and
Google's OAuth token endpoint: it stores loyalty classes and objects as Google does
(insert, get, patch, addMessage), records every request, and can be told to fail the
next call of a method, to spend the notification quota, or to lose an object.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, unquote

TOKEN = "ya29.test-access-token"
API = "/walletobjects/v1"


class StandIn:
    """What the local "Google" has stored and was asked."""

    def __init__(self) -> None:
        self.requests: list[SimpleNamespace] = []
        self.store: dict[str, dict[str, dict[str, Any]]] = {"loyaltyClass": {},
                                                            "loyaltyObject": {}}
        self.tokens = 0
        self.fail_next: dict[str, int] = {}  # method -> status, answered once
        self.quota_spent = False  # notifying addMessage calls get 429
        self.vanish_before_patch = False  # the object disappears after the next GET
        self.lock = threading.Lock()

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]

    def api(self, method: str | None = None) -> list[SimpleNamespace]:
        return [r for r in self.requests if r.path.startswith(API)
                and (method is None or r.method == method)]


class Handler(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, reason: str, message: str) -> None:
        self._answer(status, {"error": {"code": status, "message": message,
                                        "status": reason}})

    def _record(self, **extra: Any) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.google.requests.append(
            SimpleNamespace(method=self.command, path=self.path, headers=headers, **extra))

    def _handle(self) -> None:
        google: StandIn = self.server.google
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        with google.lock:
            if self.path == "/token":
                google.tokens += 1
                self._record(form=parse_qs(raw.decode()))
                self._answer(200, {"access_token": TOKEN, "expires_in": 3600,
                                   "token_type": "Bearer"})
                return
            body: dict[str, Any] = json.loads(raw) if raw else {}
            self._record(body=body or None)
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._error(401, "UNAUTHENTICATED", "no token")
                return
            if self.command in google.fail_next:
                status = google.fail_next.pop(self.command)
                self._error(status, "INTERNAL", "stand-in failure")
                return
            parts = self.path[len(API) + 1:].split("/")
            kind = parts[0]
            store = google.store.get(kind)
            if store is None:
                self._error(404, "NOT_FOUND", "no such resource type")
                return
            if self.command == "POST" and len(parts) == 1:
                if body["id"] in store:
                    self._error(409, "ALREADY_EXISTS", f"Resource {body['id']} exists")
                    return
                store[body["id"]] = dict(body)
                self._answer(200, store[body["id"]])
                return
            resource_id = unquote(parts[1]) if len(parts) > 1 else ""
            if resource_id not in store:
                self._error(404, "NOT_FOUND", f"Resource {resource_id} not found")
                return
            if self.command == "POST" and parts[2:] == ["addMessage"]:
                sent = body["message"]
                if sent.get("messageType") == "TEXT_AND_NOTIFY" and google.quota_spent:
                    self._error(429, "RESOURCE_EXHAUSTED",
                                "QuotaExceededException: too many notifications")
                    return
                found = store[resource_id]
                found["messages"] = [*found.get("messages", []), dict(sent)]
                self._answer(200, {"resource": found})
            elif self.command == "GET":
                if google.vanish_before_patch:
                    google.vanish_before_patch = False
                    found = dict(store.pop(resource_id))
                    self._answer(200, found)
                    return
                self._answer(200, store[resource_id])
            elif self.command == "PATCH":
                store[resource_id].update(body)  # lists replace, as Google does
                self._answer(200, store[resource_id])
            else:
                self._error(405, "METHOD_NOT_ALLOWED", self.command)

    do_GET = do_POST = do_PATCH = _handle


@contextmanager
def running() -> Iterator[tuple[StandIn, int]]:
    """The stand-in on a free port of 127.0.0.1 until the block ends: its state, its port."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.google = StandIn()  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.google, httpd.server_address[1]  # type: ignore[attr-defined]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
