"""The web push service stand-in: web-push-testing (an npm package, installed by
``npm ci``), a local push service that speaks the Web Push protocol (RFC 8030, VAPID,
aes128gcm), run on a free port, and a small client of its test API.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "node_modules" / ".bin" / "web-push-testing"


@dataclass
class PushService:
    """The local push service's test API (web-push-testing 1.2.2); ``key`` is the
    application server (VAPID public) key browsers subscribe with by default."""

    url: str
    key: str

    def _post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        answer = requests.post(self.url + path, json=body or {}, timeout=5)
        assert answer.status_code == 200, answer.text
        return answer.json() if answer.headers.get("content-type", "").startswith(
            "application/json") else None

    def subscribe(self, key: str | None = None) -> dict[str, Any]:
        """What a browser's pushManager.subscribe() gives, plus the service's clientHash."""
        return self._post("/subscribe", {"applicationServerKey": key or self.key})["data"]

    def messages(self, client_hash: str) -> list[dict[str, Any]]:
        found = self._post("/get-notifications", {"clientHash": client_hash})
        return [json.loads(text) for text in found["data"]["messages"]]

    def expire(self, client_hash: str) -> None:
        self._post(f"/expire-subscription/{client_hash}")


@contextmanager
def running(workdir: Path, key: str) -> Iterator[PushService]:
    """web-push-testing on a free port until the block ends, keeping its pid file in
    ``workdir``; skipped without node_modules (failed under CI)."""
    if not TOOL.exists() or shutil.which("node") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("web-push-testing is missing: run npm ci (./dev test does)")
        pytest.skip("web-push-testing is not installed (npm ci)")
    port = free_port()
    started = subprocess.run([str(TOOL), "--port", str(port), "start"], cwd=workdir,
                             capture_output=True, text=True, timeout=30, check=False)
    assert started.returncode == 0, started.stdout + started.stderr
    service = PushService(f"http://127.0.0.1:{port}", key)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                if requests.post(service.url + "/status", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield service
    finally:
        subprocess.run([str(TOOL), "--port", str(port), "stop"], cwd=workdir,
                       capture_output=True, timeout=30, check=False)
