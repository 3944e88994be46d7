"""webapp.safe_log: request targets, Referers and error messages as the logs may show them."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from webapp.safe_log import REDACTED, SafeLogger, redact, safe_target, safe_url


@pytest.mark.parametrize("target, shown", [
    ("/c/1/wallet/ABC?d=20790&t=tok", "/c/1/wallet/ABC"),
    ("/b/1/staff/invite/TOK", f"/b/1/staff/invite/{REDACTED}"),
    ("/b/1/staff//%69nvite/TOK?next=/x", f"/b/1/staff/invite/{REDACTED}"),
    ("/b/1/staff%2Finvite/TOK/more", f"/b/1/staff/invite/{REDACTED}"),
    ("http://host:1/b/1/staff/invite/TOK#frag", f"/b/1/staff/invite/{REDACTED}"),
    ("/wallet/apple/v1/devices/DEV/registrations/pass.x/S1?passesUpdatedSince=1",
     f"/wallet/apple/v1/devices/{REDACTED}/registrations/pass.x/S1"),
    ("/b/1/counter/2/search?q=%2B79161234567", "/b/1/counter/2/search"),
    ("/a%0Ab c", "/a%0Ab%20c"),  # no line break or space gets into the log line
    ("", "/"),
])
def test_safe_target(target: str, shown: str) -> None:
    assert safe_target(target) == shown


def test_safe_url_keeps_the_origin_without_a_password() -> None:
    assert safe_url("https://u:pw@shop.example:8443/c/1/wallet/S?d=1&t=tok") == \
        "https://shop.example:8443/c/1/wallet/S"
    assert safe_url("-") == safe_url("") == "-"
    assert safe_url("android-app://x/b/1/staff/invite/T") == \
        f"android-app://x/b/1/staff/invite/{REDACTED}"


def test_redact_makes_every_url_and_path_in_a_message_safe() -> None:
    assert redact("Error handling request GET /b/1/staff/invite/TOK?x=1") == \
        f"Error handling request GET /b/1/staff/invite/{REDACTED}"
    assert redact("Invalid HTTP request line: 'GET /c/1/wallet/S?d=1&t=tok\\x7f HTTP/1.1'") \
        == "Invalid HTTP request line: 'GET /c/1/wallet/S HTTP/1.1'"
    assert redact("from https://h/c/1/wallet/S?t=tok then") == "from https://h/c/1/wallet/S then"
    plain = "Listening at: http://127.0.0.1:5000 (12); Booting worker with pid: 13"
    assert redact(plain) == plain


def test_the_access_log_offers_only_safe_atoms() -> None:
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/b/1/staff/invite/TOK?next=/x",
               "PATH_INFO": "/b/1/staff/invite/TOK", "QUERY_STRING": "next=/x",
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "203.0.113.5",
               "HTTP_REFERER": "https://h/c/1/wallet/S?t=tok",
               "HTTP_AUTHORIZATION": "ApplePass secret-pass-token"}
    request = SimpleNamespace(headers=[("AUTHORIZATION", "ApplePass secret-pass-token"),
                                       ("REFERER", environ["HTTP_REFERER"])])
    response = SimpleNamespace(status="200 OK", headers=[("Location", "/x?t=tok")], sent=12)
    atoms = SafeLogger(Config()).atoms(response, request, environ, timedelta(milliseconds=3))
    assert atoms["r"] == f"GET /b/1/staff/invite/{REDACTED} HTTP/1.1"
    assert atoms["U"] == f"/b/1/staff/invite/{REDACTED}" and atoms["q"] == ""
    assert atoms["f"] == "https://h/c/1/wallet/S" and atoms["s"] == "200"
    everything = repr(atoms)
    assert "TOK" not in everything and "tok" not in everything
    assert "secret-pass-token" not in everything
