"""The HTTP SMS gateway against a local server speaking the provider's side of the
protocol: what arrives, what a refusal or an outage does, and retries via the outbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import T0, free_port
from tests.standins.sms_gateway import FakeProvider, running
from webapp.config import ConfigError
from webapp.persistence.models import OutboxMessage
from webapp.services.notify import outbox
from webapp.services.notify.outbox import Summary
from webapp.sms import HttpGateway, SmsNotSent, make_gateway

PHONE = "+79161234567"
TEXT = "Код 123456 — вход в «Гараж №1». Никому его не сообщайте."


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)  # the request must reach 127.0.0.1 itself
    with running() as state:
        yield state


def _gateway(provider: FakeProvider, **extra: str) -> HttpGateway:
    gateway = make_gateway("http", {"SMS_HTTP_URL": f"{provider.url}/v1/messages",
                                    "SMS_HTTP_TOKEN": "s3cret-token", **extra})
    assert isinstance(gateway, HttpGateway)
    return gateway


def test_the_provider_gets_an_authorised_json_post(provider: FakeProvider) -> None:
    _gateway(provider, SMS_HTTP_SENDER="Garage").send(PHONE, TEXT)
    [request] = provider.received
    assert (request.method, request.path) == ("POST", "/v1/messages")
    assert request.headers["Authorization"] == "Bearer s3cret-token"
    assert request.headers["Content-Type"].startswith("application/json")
    assert json.loads(request.body.decode("utf-8")) == {"to": PHONE, "text": TEXT,
                                                        "sender": "Garage"}


def test_without_a_sender_name_the_provider_chooses(provider: FakeProvider) -> None:
    _gateway(provider).send(PHONE, TEXT)
    assert json.loads(provider.received[0].body)["sender"] is None


def test_a_server_error_raises_sms_not_sent(provider: FakeProvider) -> None:
    provider.answers.append((500, '{"error": "internal", "detail": "database is down"}'))
    with pytest.raises(SmsNotSent, match=r"500.*database is down") as raised:
        _gateway(provider).send(PHONE, TEXT)
    assert raised.value.status == 500 and "s3cret" not in str(raised.value)


def test_a_redirect_is_not_followed_as_a_get(provider: FakeProvider) -> None:
    provider.redirect_to = f"{provider.url}/elsewhere"
    provider.answers.append((302, ""))
    with pytest.raises(SmsNotSent, match="302") as raised:
        _gateway(provider).send(PHONE, TEXT)
    assert raised.value.status == 302 and len(provider.received) == 1


def test_a_slow_provider_times_out(provider: FakeProvider) -> None:
    provider.delay = 0.5
    gateway = HttpGateway(f"{provider.url}/v1/messages", "t", timeout=0.1)
    with pytest.raises(SmsNotSent, match="unreachable") as raised:
        gateway.send(PHONE, TEXT)
    assert raised.value.status is None


def test_an_unreachable_provider_raises_sms_not_sent() -> None:
    port = free_port()  # closed again: nothing listens there
    with pytest.raises(SmsNotSent, match="unreachable"):
        HttpGateway(f"http://127.0.0.1:{port}/v1/messages", "t").send(PHONE, TEXT)


def test_the_worker_retries_a_503_then_delivers(session: Session,
                                                provider: FakeProvider) -> None:
    provider.answers.append((503, "try later"))
    outbox.enqueue_sms(session, phone=PHONE, text=TEXT, run_after=T0)
    session.commit()
    senders = {"sms": outbox.sms_sender(_gateway(provider))}
    assert outbox.run_once(session, senders, now=T0) == Summary(retried=1)
    message = session.scalars(select(OutboxMessage)).one()
    assert message.status == "pending" and "503" in (message.last_error or "")
    assert outbox.run_once(session, senders, now=message.run_after) == Summary(sent=1)
    assert message.status == "sent" and message.attempts == 1
    assert len(provider.received) == 2
    assert provider.received[0].body == provider.received[1].body


@pytest.mark.parametrize(("extra", "missing"), [
    ({}, "REGULARS_SMS_HTTP_URL"),
    ({"SMS_HTTP_URL": "https://sms.example/v1/messages"}, "REGULARS_SMS_HTTP_TOKEN"),
    ({"SMS_HTTP_TOKEN": "t"}, "REGULARS_SMS_HTTP_URL"),
])
def test_the_http_backend_names_a_missing_setting(extra: dict[str, str], missing: str) -> None:
    with pytest.raises(ConfigError, match=missing):
        make_gateway("http", extra)


def test_the_http_backend_refuses_a_url_that_is_not_http() -> None:
    with pytest.raises(ConfigError, match="REGULARS_SMS_HTTP_URL"):
        make_gateway("http", {"SMS_HTTP_URL": "ftp://sms.example/", "SMS_HTTP_TOKEN": "t"})


def test_the_app_reads_the_gateway_from_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from webapp.app import create_app

    base = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
            "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k" * 40}
    monkeypatch.setenv("REGULARS_SMS_BACKEND", "http")
    with pytest.raises(ConfigError, match="REGULARS_SMS_HTTP_URL"):
        create_app(base)
    monkeypatch.setenv("REGULARS_SMS_HTTP_URL", "https://sms.example/v1/messages")
    monkeypatch.setenv("REGULARS_SMS_HTTP_TOKEN", "t")
    gateway = create_app(base).extensions["regulars_sms"]
    assert isinstance(gateway, HttpGateway)
    assert gateway.url == "https://sms.example/v1/messages" and gateway.sender is None
