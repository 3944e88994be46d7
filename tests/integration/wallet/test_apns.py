"""APNs pushes for Apple Wallet (wallet/apple/apns.py) against a local HTTP/2 stand-in:
what goes over the wire, both ways of authenticating, and the outbox sender's outcomes
(done, registration removed, retried)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from sqlalchemy import func, select

from tests.integration.wallet.pki import KEY_PASSWORD, PKI
from tests.standins.apns import ApnsStandIn
from wallet.apple import apns
from webapp.cli import wallet_senders
from webapp.config import ConfigError
from webapp.domain.actor import Actor
from webapp.domain.clock import utcnow
from webapp.persistence.models import OutboxMessage, PassRegistration
from webapp.services.customers import accounts as customers
from webapp.services.ledger import operations as ledger
from webapp.services.notify import outbox
from webapp.services.notify.wallet_updates import APNS
from webapp.services.unit_of_work import UnitOfWork
from webapp.services.wallet import apple_passes as apple_wallet
from webapp.services.wallet import cards as wallet_cards

TOKEN = "a1" * 32  # push tokens are 64 hex digits today
OTHER_TOKEN = "b2" * 32


@pytest.fixture
def open_standin(tmp_path: Path) -> Iterator[ApnsStandIn]:
    """APNs as token authentication sees it: no client certificate asked for."""
    with ApnsStandIn(tmp_path) as server:
        yield server


@pytest.fixture
def cert_client(standin: ApnsStandIn, apple_pki: PKI) -> Iterator[apns.ApnsClient]:
    tls = apns.tls_context(ca_file=standin.ca_pem, cert_file=apple_pki.cert_pem,
                           key_file=apple_pki.encrypted_key_pem, key_password=KEY_PASSWORD)
    with apns.ApnsClient(standin.url, apple_pki.pass_type_id, tls=tls) as client:
        yield client


@pytest.fixture
def p8(tmp_path: Path) -> tuple[Path, ec.EllipticCurvePrivateKey]:
    """An Apple-style .p8 file: a P-256 key in unencrypted PKCS#8 PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "AuthKey_ABCDE12345.p8"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path, key


def _decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def check_jwt(token: str, public_key: ec.EllipticCurvePublicKey) -> tuple[dict[str, Any],
                                                                          dict[str, Any]]:
    """Verify an ES256 JWT as APNs does; its header and claims."""
    header, claims, signature = token.split(".")
    raw = _decode(signature)
    assert len(raw) == 64
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public_key.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    return json.loads(_decode(header)), json.loads(_decode(claims))


def test_a_push_is_an_empty_json_post_to_the_device_with_the_pass_type_as_topic(
        standin: ApnsStandIn, cert_client: apns.ApnsClient, apple_pki: PKI) -> None:
    reply = cert_client.push(TOKEN)
    assert reply.delivered and reply.apns_id
    [seen] = standin.received
    assert (seen.method, seen.path, seen.body) == ("POST", f"/3/device/{TOKEN}", b"{}")
    assert seen.headers["apns-topic"] == apple_pki.pass_type_id
    assert seen.headers["apns-push-type"] == "background"
    assert seen.headers["apns-priority"] == "5"
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers[":scheme"] == "https"  # HTTP/2 pseudo-headers: it was HTTP/2
    assert "authorization" not in seen.headers
    # Certificate authentication: the pass certificate was the TLS client certificate.
    assert seen.client_subject["userId"] == apple_pki.pass_type_id
    assert seen.client_subject["organizationalUnitName"] == apple_pki.team_id


def test_pushes_share_one_connection(standin: ApnsStandIn,
                                     cert_client: apns.ApnsClient) -> None:
    for _ in range(3):
        assert cert_client.push(TOKEN).delivered
    assert len(standin.received) == 3
    assert standin.handshake_errors == []
    assert {r.connection for r in standin.received} == {1}


def test_without_the_certificate_apns_refuses_the_connection(standin: ApnsStandIn) -> None:
    with apns.ApnsClient(standin.url, "pass.x", tls=apns.tls_context(ca_file=standin.ca_pem)
                         ) as client, pytest.raises(httpx.HTTPError):
        client.push(TOKEN)
    assert standin.received == []


def test_an_untrusted_apns_server_is_refused(standin: ApnsStandIn, apple_pki: PKI) -> None:
    tls = apns.tls_context(ca_file=apple_pki.root_pem, cert_file=apple_pki.cert_pem,
                           key_file=apple_pki.key_pem)
    with apns.ApnsClient(standin.url, "pass.x", tls=tls) as client, \
            pytest.raises(httpx.ConnectError):
        client.push(TOKEN)
    assert standin.received == []


def test_token_authentication_sends_an_es256_jwt_and_reuses_it(
        open_standin: ApnsStandIn, p8: tuple[Path, ec.EllipticCurvePrivateKey]) -> None:
    _, key = p8
    clock = [1_800_000_000.0]
    token = apns.ProviderToken(key, "ABCDE12345", "TEAM123456", clock=lambda: clock[0])
    with apns.ApnsClient(open_standin.url, "pass.ru.example", token=token,
                         tls=apns.tls_context(ca_file=open_standin.ca_pem)) as client:
        assert client.push(TOKEN).delivered
        clock[0] += 20 * 60
        assert client.push(TOKEN).delivered
        clock[0] += 31 * 60  # 51 minutes after the first: a new one
        assert client.push(TOKEN).delivered
    first, second, third = (r.headers["authorization"] for r in open_standin.received)
    assert first == second != third
    scheme, jwt = first.split(" ")
    assert scheme == "bearer"
    header, claims = check_jwt(jwt, key.public_key())
    assert header == {"alg": "ES256", "kid": "ABCDE12345"}
    assert claims == {"iss": "TEAM123456", "iat": 1_800_000_000}
    assert check_jwt(third.split(" ")[1], key.public_key())[1]["iat"] == 1_800_000_000 + 51 * 60
    assert all(r.client_subject == {} for r in open_standin.received)
    assert open_standin.received[0].headers["apns-topic"] == "pass.ru.example"
    with pytest.raises(InvalidSignature):  # the check itself does check
        check_jwt(jwt, ec.generate_private_key(ec.SECP256R1()).public_key())


def test_an_expired_provider_token_is_renewed_for_the_next_push(
        open_standin: ApnsStandIn, p8: tuple[Path, ec.EllipticCurvePrivateKey]) -> None:
    _, key = p8
    clock = [1_800_000_000.0]
    token = apns.ProviderToken(key, "ABCDE12345", "TEAM123456", clock=lambda: clock[0])
    open_standin.reply(403, {"reason": "ExpiredProviderToken"})
    with apns.ApnsClient(open_standin.url, "pass.x", token=token,
                         tls=apns.tls_context(ca_file=open_standin.ca_pem)) as client:
        refused = client.push(TOKEN)
        assert (refused.status, refused.reason, refused.gone) == (403, "ExpiredProviderToken",
                                                                  False)
        clock[0] += 1
        assert client.push(TOKEN).delivered
    first, second = (r.headers["authorization"] for r in open_standin.received)
    assert first != second


def test_token_settings(p8: tuple[Path, ec.EllipticCurvePrivateKey], tmp_path: Path) -> None:
    path, _ = p8
    assert apns.provider_token({}, "TEAM") is None  # certificate authentication
    made = apns.provider_token({"APNS_KEY_FILE": str(path), "APNS_KEY_ID": "ABCDE12345"},
                               "A1B2C3D4E5")
    assert made is not None and (made.key_id, made.team_id) == ("ABCDE12345", "A1B2C3D4E5")
    made = apns.provider_token({"APNS_KEY_FILE": str(path), "APNS_KEY_ID": "ABCDE12345",
                                "APNS_TEAM_ID": "OTHERTEAM1"}, "A1B2C3D4E5")
    assert made is not None and made.team_id == "OTHERTEAM1"
    with pytest.raises(ConfigError, match="REGULARS_APNS_KEY_FILE"):
        apns.provider_token({"APNS_KEY_ID": "ABCDE12345"}, "TEAM")
    with pytest.raises(ConfigError, match="REGULARS_APNS_KEY_ID"):
        apns.provider_token({"APNS_KEY_FILE": str(path)}, "TEAM")
    with pytest.raises(ConfigError, match="cannot be read"):
        apns.provider_token({"APNS_KEY_FILE": str(tmp_path / "none.p8"),
                             "APNS_KEY_ID": "ABCDE12345"}, "TEAM")
    rsa_file = tmp_path / "rsa.pem"
    rsa_file.write_bytes(rsa.generate_private_key(65537, 2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    with pytest.raises(ConfigError, match="EC key"):
        apns.provider_token({"APNS_KEY_FILE": str(rsa_file), "APNS_KEY_ID": "K"}, "TEAM")
    with pytest.raises(ConfigError, match="P-256"):
        apns.ProviderToken(ec.generate_private_key(ec.SECP384R1()), "K", "T")


def test_a_token_that_could_leave_the_path_is_never_sent(
        standin: ApnsStandIn, cert_client: apns.ApnsClient) -> None:
    assert cert_client.push("../../3/device/x").gone
    assert cert_client.push("a" * 201).gone
    assert standin.received == []


# The outbox sender ---------------------------------------------------------------------


@pytest.fixture
def member(app: Any, shop: SimpleNamespace) -> SimpleNamespace:
    """A customer with a pass registered on one device (push token TOKEN)."""
    db = app.test_session()
    customer = customers.join(db, Actor.system(shop.id), phone="+79161234567", name="Иван")
    walletpass = wallet_cards.pass_of(db, shop.id, customer.customer.id)
    registration = PassRegistration(business_id=shop.id, device_id="device-1", push_token=TOKEN,
                                     pass_id=walletpass.id)
    db.add(registration)
    db.commit()
    return SimpleNamespace(id=customer.customer.id, registration=registration.id,
                           actor=Actor.system(shop.id))


def credit(app: Any, member: SimpleNamespace, key: str) -> None:
    ledger.accrue(app.test_session(), member.actor, f"test-{key}", customer_id=member.id, points=50)


def registrations(app: Any) -> int:
    return app.test_session().scalar(select(func.count()).select_from(PassRegistration)) or 0


def message(app: Any) -> OutboxMessage:
    found = app.test_session().scalars(select(OutboxMessage)
                                       .where(OutboxMessage.kind == APNS)).one()
    return found


def test_the_worker_pushes_each_change_and_the_counter_waits_for_nothing(
        app: Any, member: SimpleNamespace, standin: ApnsStandIn,
        cert_client: apns.ApnsClient) -> None:
    started = time.monotonic()
    credit(app, member, "apns-1")  # the counter's write only queues the push
    assert time.monotonic() - started < 5 and standin.received == []
    done = outbox.run_once(app.test_session(),
                           {APNS: apple_wallet.sender(cert_client, UnitOfWork(app.test_session))})
    assert (done.sent, done.retried, done.failed) == (1, 0, 0)
    assert [r.path for r in standin.received] == [f"/3/device/{TOKEN}"]
    assert message(app).status == "sent" and registrations(app) == 1


@pytest.mark.parametrize("status, reason", [(410, "Unregistered"), (410, "ExpiredToken"),
                                            (400, "BadDeviceToken")])
def test_a_dead_token_removes_the_registration(
        app: Any, member: SimpleNamespace, standin: ApnsStandIn, cert_client: apns.ApnsClient,
        status: int, reason: str) -> None:
    credit(app, member, "apns-gone")
    body: dict[str, Any] = {"reason": reason}
    if status == 410:
        body["timestamp"] = int(time.time() * 1000)
    standin.reply(status, body)
    done = outbox.run_once(app.test_session(),
                           {APNS: apple_wallet.sender(cert_client, UnitOfWork(app.test_session))})
    assert done.sent == 1 and message(app).status == "sent"
    assert registrations(app) == 0
    credit(app, member, "apns-after")  # nobody left to tell: nothing is queued
    assert app.test_session().scalar(select(func.count()).select_from(OutboxMessage)
                                     .where(OutboxMessage.kind == APNS)) == 1


def test_a_new_token_registered_meanwhile_survives_a_410_for_the_old_one(
        app: Any, member: SimpleNamespace, standin: ApnsStandIn,
        cert_client: apns.ApnsClient) -> None:
    credit(app, member, "apns-old")
    db = app.test_session()

    class Renewing:  # the device registers again while the push is on its way
        def push(self, device_token: str) -> apns.Reply:
            db.get(PassRegistration, member.registration).push_token = OTHER_TOKEN
            db.flush()
            return cert_client.push(device_token)

    standin.reply(410, {"reason": "Unregistered", "timestamp": 1})
    outbox.run_once(db, {APNS: apple_wallet.sender(Renewing(), UnitOfWork(app.test_session))})  # type: ignore[arg-type]
    assert registrations(app) == 1


@pytest.mark.parametrize("status, reason", [(500, "InternalServerError"),
                                            (503, "ServiceUnavailable"),
                                            (429, "TooManyRequests"),
                                            (403, "BadCertificate")])
def test_other_failures_are_retried_with_backoff(
        app: Any, member: SimpleNamespace, standin: ApnsStandIn, cert_client: apns.ApnsClient,
        status: int, reason: str) -> None:
    credit(app, member, "apns-retry")
    standin.reply(status, {"reason": reason})
    send = apple_wallet.sender(cert_client, UnitOfWork(app.test_session))
    now = utcnow()
    done = outbox.run_once(app.test_session(), {APNS: send}, now=now)
    assert (done.sent, done.retried) == (0, 1)
    failed = message(app)
    assert failed.status == "pending" and failed.attempts == 1
    assert failed.last_error == f"ApnsRejected: APNs answered {status} {reason}"
    assert failed.run_after >= now + outbox.FIRST_DELAY
    assert registrations(app) == 1
    assert outbox.run_once(app.test_session(), {APNS: send}, now=now).total == 0  # not yet
    later = now + timedelta(minutes=1)
    assert outbox.run_once(app.test_session(), {APNS: send}, now=later).sent == 1
    assert message(app).status == "sent" and len(standin.received) == 2


def test_no_answer_is_retried(app: Any, member: SimpleNamespace, tmp_path: Path) -> None:
    credit(app, member, "apns-down")
    server = ApnsStandIn(tmp_path)  # made but never started: nothing answers
    url, ca = server.url, server.ca_pem
    server.stop()
    with apns.ApnsClient(url, "pass.x", tls=apns.tls_context(ca_file=ca)) as client:
        done = outbox.run_once(app.test_session(),
                               {APNS: apple_wallet.sender(client, UnitOfWork(app.test_session))})
    assert done.retried == 1 and "ConnectError" in (message(app).last_error or "")


def test_a_registration_removed_before_the_push_is_not_pushed(
        app: Any, member: SimpleNamespace, standin: ApnsStandIn,
        cert_client: apns.ApnsClient) -> None:
    credit(app, member, "apns-removed")
    db = app.test_session()
    db.delete(db.get(PassRegistration, member.registration))
    db.commit()
    sender = apple_wallet.sender(cert_client, UnitOfWork(app.test_session))
    done = outbox.run_once(db, {APNS: sender})
    assert done.sent == 1 and standin.received == []


def test_a_malformed_payload_fails_without_a_push(
        app: Any, standin: ApnsStandIn, cert_client: apns.ApnsClient) -> None:
    send = apple_wallet.sender(cert_client, UnitOfWork(app.test_session))
    for payload in ({}, {"registration": "1"}, {"registration": True}):
        with pytest.raises(ValueError, match="registration"):
            send(payload)
    assert standin.received == []


def test_a_wrong_apns_setting_turns_off_only_the_pushes(make_apple_app: Any,
                                                        tmp_path: Path) -> None:
    """The worker still gets its other senders; the pass jobs wait in the outbox."""
    app = make_apple_app(APNS_KEY_FILE=str(tmp_path / "missing.p8"), APNS_KEY_ID="ABCDEFGHIJ")
    with app.app_context():
        assert wallet_senders.apple_senders() == {}
