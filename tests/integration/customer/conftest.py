"""The customer app's test helpers: ask for a code, let the worker text it, sign in."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest

from tests.web_client import csrf
from webapp.services.notify import outbox

PHONE = "+79161234567"


def ask_code(client: Any, business_id: int, phone: str = PHONE, *, consent: bool = True,
             advertising: bool = False, ip: str = "192.0.2.1", ref: str | None = None) -> Any:
    """POST the phone form like a browser (CSRF token from the page)."""
    form = {"csrf_token": csrf(client, f"/c/{business_id}/sign-in"), "phone": phone}
    if ref:
        form["ref"] = ref
    if consent:
        form["data_consent"] = "yes"
    if advertising:
        form["ad_consent"] = "yes"
    return client.post(f"/c/{business_id}/sign-in", data=form,
                       environ_base={"REMOTE_ADDR": ip})


def send_code(client: Any, business_id: int, code: str, ip: str = "192.0.2.1") -> Any:
    return client.post(f"/c/{business_id}/code",
                       data={"csrf_token": csrf(client, f"/c/{business_id}/code"), "code": code},
                       environ_base={"REMOTE_ADDR": ip})


def deliver(app: Any) -> outbox.Summary:
    """What ``regulars worker`` does: send the due messages through the console gateway."""
    return outbox.run_once(app.test_session(),
                           {outbox.SMS: outbox.sms_sender(app.extensions["regulars_sms"])})


def texted_code(app: Any, phone: str = PHONE) -> str:
    """The sign-in code the worker texted to ``phone`` (the newest one)."""
    deliver(app)
    text = app.extensions["regulars_sms"].last_to(phone)
    assert text, f"no SMS to {phone}"
    found = re.match(r"(\d{6}) ", text)
    assert found, text
    return found.group(1)


def signed_in(app: Any, business_id: int, phone: str = PHONE, client: Any = None,
              **ask: Any) -> Any:
    """A browser (a new one unless given) signed in with ``phone``, joining if new."""
    client = client or app.test_client()
    assert ask_code(client, business_id, phone, **ask).status_code == 302
    answer = send_code(client, business_id, texted_code(app, phone))
    assert answer.status_code == 302 and answer.location == f"/c/{business_id}/", answer.data
    return client


@pytest.fixture
def ivan(app: Any, shop: SimpleNamespace) -> Any:
    """Ivan, signed in to the shop's customer app on his phone."""
    return signed_in(app, shop.id)
