"""`regulars serve` logs requests without their secrets: the texted wallet link's token
(query string), a staff invitation's token (path), and the same link sent back as a
Referer never reach the log, on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.integration.conftest import make_shop
from tests.serving import SECRET, regulars_serve
from webapp.domain.actor import Actor
from webapp.persistence.models import OutboxMessage, WalletPass
from webapp.safe_log import REDACTED, safe_target
from webapp.services.customers import accounts as customers
from webapp.services.staff import team as staff_admin
from webapp.services.wallet import links as wallet_links

pytestmark = pytest.mark.slow


def test_the_log_shows_each_request_but_no_token(fresh_engine: Engine, tmp_path: Path) -> None:
    with Session(fresh_engine, expire_on_commit=False) as db:
        made = make_shop(db)
        customer_id = customers.join(db, Actor.system(made.id), phone="+79161230000",
                                     name="Пётр").customer.id
        invitation = staff_admin.invite(db, made.owner, login="vera", display_name="Вера",
                                        role="cashier", branch_ids=None)
    url = fresh_engine.url.render_as_string(hide_password=False)
    with regulars_serve(url, tmp_path / "instance", workers=2) as served:
        with Session(fresh_engine) as db:  # the cashier texts the link; read the SMS
            wallet_links.send_link(db, made.owner, customer_id, base_url=served.url,
                                   secret_key=SECRET)
            text = db.scalars(select(OutboxMessage.payload)).one()["text"]
            serial = db.scalars(select(WalletPass.serial)).one()
        link = re.search(r"http\S+", text)
        assert link, text
        token = parse_qs(urlsplit(link.group()).query)["t"][0]
        opened = requests.get(link.group(), timeout=30)
        assert opened.status_code == 200, opened.text[:300]
        invite_url = f"{served.url}/b/{made.id}/staff/invite/{invitation.token}"
        invited = requests.get(invite_url, timeout=30)
        assert invited.status_code == 200 and "vera" in invited.text
        # The same secrets as a Referer, and in a path spelled another way that the
        # router still takes (escaped letters, doubled slashes).
        assert requests.get(f"{served.url}/healthz", headers={"Referer": link.group()},
                            timeout=30).status_code == 200
        spelled = f"{served.url}/b/{made.id}/staff//%69nvite/{invitation.token}?next=x"
        requests.get(spelled, headers={"Referer": invite_url}, timeout=30)
        # A request line gunicorn refuses is named in its error log.
        parts = urlsplit(link.group())
        with socket.create_connection(("127.0.0.1", urlsplit(served.url).port or 80),
                                      timeout=30) as raw:
            raw.sendall(f"GET {parts.path}?{parts.query}\x7f HTTP/1.1\r\nHost: x\r\n\r\n"
                        .encode())
            refused = raw.recv(1000)
    log = served.output()

    assert f'"GET /c/{made.id}/wallet/{serial} HTTP/1.1" 200' in log, log[-2000:]
    assert f'"GET /b/{made.id}/staff/invite/{REDACTED} HTTP/1.1" 200' in log, log[-2000:]
    assert re.search(rf'"GET /healthz HTTP/1.1" 200 \d+ "{served.url}/c/{made.id}/wallet/{serial}"',
                     log)
    assert refused.startswith(b"HTTP/1.1 400")
    assert f"Invalid HTTP request line: 'GET /c/{made.id}/wallet/{serial}" in log
    for secret in (token, invitation.token, "?d=", "&t=", "?next"):
        assert secret not in log, (secret, log[-2000:])


# Which path arguments of the URL map are secrets: every argument that is not a number
# must be listed here, so a new route with a token in its path cannot slip past the log.
PUBLIC_ARGUMENTS = {"serial", "pass_type", "filename"}
SECRET_ARGUMENTS = {"token", "device_id"}
ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")  # <converter(args):name>


def test_every_path_argument_of_the_url_map_is_known_public_or_secret(app: Any) -> None:
    seen = set()
    for rule in app.url_map.iter_rules():
        for converter, name in ARGUMENT.findall(rule.rule):
            if converter in ("int", "float"):
                continue
            seen.add(name)
            assert name in PUBLIC_ARGUMENTS | SECRET_ARGUMENTS, (
                f"{rule.rule}: is <{name}> a secret? add it to this test and, if it is, to"
                " webapp/safe_log.py")
            values = {arg: "7" for arg in rule.arguments} | {name: "s3cr3tvalue"}
            path = rule.build(values, append_unknown=False)[1]
            shown = safe_target(path)
            if name in SECRET_ARGUMENTS:
                assert "s3cr3tvalue" not in shown and REDACTED in shown, (rule.rule, shown)
            else:
                assert "s3cr3tvalue" in shown, (rule.rule, shown)
    assert seen >= SECRET_ARGUMENTS
