"""Apple's PassKit web service (wallet/apple/webservice.py, webapp/services/wallet/passkit.py)
with the Flask test client, and the whole update flow: register -> the counter credits
points -> ``regulars worker`` pushes to a local APNs stand-in -> the device lists the
updated serials -> the new pass shows the new balance -> 304 when nothing changed."""

from __future__ import annotations

import io
import json
import logging
import time
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select, update
from werkzeug.http import http_date

from tests.integration.wallet.pki import PKI
from tests.standins.apns import ApnsStandIn
from tests.web_client import PASSWORD
from wallet.apple.settings import auth_token
from wallet.apple.webservice import bp
from webapp.cli import wallet_senders
from webapp.domain.actor import Actor, Role
from webapp.domain.clock import utcnow
from webapp.domain.presets import DEMO
from webapp.persistence.models import Customer, OutboxMessage, PassRegistration, WalletPass
from webapp.services.business import setup as businesses
from webapp.services.customers import accounts as customers
from webapp.services.ledger import operations as ledger
from webapp.services.notify import outbox
from webapp.services.notify.wallet_updates import APNS
from webapp.services.program import versions as programs
from webapp.services.staff import accounts as staff
from webapp.services.wallet import cards as wallet_cards
from webapp.services.wallet import passkit

PREFIX = "/wallet/apple/v1"
DEVICE = "a3f9c2e1d4b5a6c7d8e9f0a1b2c3d4e5"
PUSH = "7c" * 32


def with_webservice(app: Any) -> Any:
    """The app with the PassKit blueprint (until webapp/app.py registers it itself)."""
    if bp.name not in app.blueprints:
        app.register_blueprint(bp)
    return app


@pytest.fixture
def service(apple_app: Any) -> Any:
    return with_webservice(apple_app)


@pytest.fixture
def member(service: Any, apple_shop: SimpleNamespace) -> SimpleNamespace:
    """Ivan with 100 points and his pass (not yet on any device)."""
    db = service.test_session()
    joined = customers.join(db, Actor.system(apple_shop.id), phone="+79161234567", name="Иван")
    walletpass = wallet_cards.pass_of(db, apple_shop.id, joined.customer.id)
    db.commit()
    return SimpleNamespace(id=joined.customer.id, serial=walletpass.serial,
                           pass_id=walletpass.id, shop=apple_shop,
                           token=auth_token(service.config["SECRET_KEY"], walletpass.serial))


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"ApplePass {token}"}


def registration_url(pki: PKI, serial: str, device: str = DEVICE) -> str:
    return f"{PREFIX}/devices/{device}/registrations/{pki.pass_type_id}/{serial}"


def register(client: Any, pki: PKI, member: SimpleNamespace, push: str = PUSH,
             device: str = DEVICE) -> Any:
    return client.post(registration_url(pki, member.serial, device), json={"pushToken": push},
                       headers=auth(member.token))


def serials(client: Any, pki: PKI, since: str | None = None, device: str = DEVICE) -> Any:
    query = {"passesUpdatedSince": since} if since is not None else {}
    return client.get(f"{PREFIX}/devices/{device}/registrations/{pki.pass_type_id}",
                      query_string=query)


def get_pass(client: Any, pki: PKI, member: SimpleNamespace, **headers: str) -> Any:
    return client.get(f"{PREFIX}/passes/{pki.pass_type_id}/{member.serial}",
                      headers={**auth(member.token), **headers})


def pass_json(data: bytes) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        loaded: dict[str, Any] = json.loads(archive.read("pass.json"))
        return loaded


def registered(service: Any) -> list[tuple[str, str]]:
    return [tuple(row) for row in service.test_session().execute(
        select(PassRegistration.device_id, PassRegistration.push_token)
        .order_by(PassRegistration.id))]


# Registration --------------------------------------------------------------------------


def test_register_twice_then_unregister(service: Any, apple_pki: PKI,
                                        member: SimpleNamespace) -> None:
    client = service.test_client()  # no CSRF token anywhere: iOS has none
    assert register(client, apple_pki, member).status_code == 201
    assert register(client, apple_pki, member).status_code == 200
    assert registered(service) == [(DEVICE, PUSH)]
    assert register(client, apple_pki, member, push="9d" * 32).status_code == 200
    assert registered(service) == [(DEVICE, "9d" * 32)]  # the device's new token
    assert register(client, apple_pki, member, device="second-device").status_code == 201
    answer = client.delete(registration_url(apple_pki, member.serial),
                           headers=auth(member.token))
    assert answer.status_code == 200
    assert registered(service) == [("second-device", PUSH)]
    again = client.delete(registration_url(apple_pki, member.serial),
                          headers=auth(member.token))
    assert again.status_code == 200  # already gone: still fine
    lower = client.post(registration_url(apple_pki, member.serial), json={"pushToken": PUSH},
                        headers={"Authorization": f"applepass  {member.token} "})
    assert lower.status_code == 201  # the scheme is case-insensitive, spaces are forgiven


def test_csrf_is_on_in_the_app_but_not_for_ios(service: Any, apple_pki: PKI,
                                               member: SimpleNamespace) -> None:
    client = service.test_client()
    form = client.post(f"/c/{member.shop.id}/sign-in", data={"phone": "+79161234567"})
    assert form.status_code == 400  # a browser form without its CSRF token is refused
    assert register(client, apple_pki, member).status_code == 201


@pytest.mark.parametrize("header", [None, "ApplePass wrong-token", "Bearer {token}",
                                    "ApplePass", "ApplePass{token}", "ApplePass {token}x",
                                    "ApplePass " + "x" * 5000])
def test_a_wrong_or_missing_token_is_401(service: Any, apple_pki: PKI, member: SimpleNamespace,
                                         header: str | None) -> None:
    client = service.test_client()
    headers = {"Authorization": header.format(token=member.token)} if header else {}
    url = registration_url(apple_pki, member.serial)
    assert client.post(url, json={"pushToken": PUSH}, headers=headers).status_code == 401
    assert client.delete(url, headers=headers).status_code == 401
    assert client.get(f"{PREFIX}/passes/{apple_pki.pass_type_id}/{member.serial}",
                      headers=headers).status_code == 401
    assert registered(service) == []


def test_another_pass_s_token_is_401(service: Any, apple_pki: PKI, member: SimpleNamespace,
                                     apple_shop: SimpleNamespace) -> None:
    db = service.test_session()
    other = customers.join(db, Actor.system(apple_shop.id), phone="+79161234568").customer
    other_pass = wallet_cards.pass_of(db, apple_shop.id, other.id)
    db.commit()
    stolen = auth_token(service.config["SECRET_KEY"], other_pass.serial)
    answer = service.test_client().post(registration_url(apple_pki, member.serial),
                                        json={"pushToken": PUSH}, headers=auth(stolen))
    assert answer.status_code == 401


def test_an_unknown_pass_or_pass_type_is_404(service: Any, apple_pki: PKI,
                                             member: SimpleNamespace) -> None:
    client = service.test_client()
    unknown = SimpleNamespace(serial="0" * 20,
                              token=auth_token(service.config["SECRET_KEY"], "0" * 20))
    assert register(client, apple_pki, unknown).status_code == 404
    assert client.delete(registration_url(apple_pki, unknown.serial),
                         headers=auth(unknown.token)).status_code == 404
    assert get_pass(client, apple_pki, unknown).status_code == 404
    other_type = f"{PREFIX}/devices/{DEVICE}/registrations/pass.other.type/{member.serial}"
    assert client.post(other_type, json={"pushToken": PUSH},
                       headers=auth(member.token)).status_code == 404
    assert client.get(f"{PREFIX}/passes/pass.other.type/{member.serial}",
                      headers=auth(member.token)).status_code == 404
    long_serial = "a" * 200  # longer than any serial: not found, not an error
    assert get_pass(client, apple_pki, SimpleNamespace(
        serial=long_serial, token=auth_token(service.config["SECRET_KEY"], long_serial))
    ).status_code == 404


def test_a_customer_no_longer_active_has_no_pass(service: Any, apple_pki: PKI,
                                                 member: SimpleNamespace) -> None:
    client = service.test_client()
    assert register(client, apple_pki, member).status_code == 201
    db = service.test_session()
    db.execute(update(Customer).where(Customer.id == member.id).values(status="blocked"))
    db.commit()
    assert get_pass(client, apple_pki, member).status_code == 404
    assert register(client, apple_pki, member).status_code == 404
    assert serials(client, apple_pki).status_code == 204


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'{"push": "x"}',
                                  b'{"pushToken": 5}', b'{"pushToken": ""}',
                                  b'{"pushToken": "' + b"a" * 201 + b'"}',
                                  b'{"pushToken": "../../x"}',
                                  '{"pushToken": "ёж"}'.encode(),
                                  b'{"pushToken": "ab\\u0000cd"}'])
def test_a_bad_body_is_400(service: Any, apple_pki: PKI, member: SimpleNamespace,
                           body: bytes) -> None:
    answer = service.test_client().post(registration_url(apple_pki, member.serial), data=body,
                                        headers=auth(member.token),
                                        content_type="application/json")
    assert answer.status_code == 400
    assert registered(service) == []


@pytest.mark.parametrize("device", ["d" * 65, "dev%00ice", "dev%20ice", "девайс"])
def test_a_bad_device_id_is_400(service: Any, apple_pki: PKI, member: SimpleNamespace,
                                device: str) -> None:
    client = service.test_client()
    assert register(client, apple_pki, member, device=device).status_code == 400
    assert serials(client, apple_pki, device=device).status_code == 400
    assert registered(service) == []


def test_a_huge_body_is_refused(service: Any, apple_pki: PKI, member: SimpleNamespace) -> None:
    answer = service.test_client().post(
        registration_url(apple_pki, member.serial), headers=auth(member.token),
        data=json.dumps({"pushToken": PUSH, "pad": "x" * 10_000}),
        content_type="application/json")
    assert answer.status_code == 413
    assert registered(service) == []


def test_without_apple_settings_everything_is_404(app: Any, shop: SimpleNamespace) -> None:
    client = with_webservice(app).test_client()
    assert client.post(f"{PREFIX}/devices/{DEVICE}/registrations/pass.x/serial",
                       json={"pushToken": PUSH}).status_code == 404
    assert client.get(f"{PREFIX}/devices/{DEVICE}/registrations/pass.x").status_code == 404
    assert client.post(f"{PREFIX}/log", json={"logs": ["x"]}).status_code == 404


# The list of updated serials -----------------------------------------------------------


def test_serials_without_a_tag_list_every_pass_of_the_device(
        service: Any, apple_pki: PKI, member: SimpleNamespace) -> None:
    client = service.test_client()
    assert serials(client, apple_pki).status_code == 204  # nothing registered yet
    register(client, apple_pki, member)
    answer = serials(client, apple_pki)
    assert answer.status_code == 200
    assert answer.json["serialNumbers"] == [member.serial]
    tag = answer.json["lastUpdated"]
    assert isinstance(tag, str) and tag.isdigit()
    assert serials(client, apple_pki, since="garbage").json["serialNumbers"] == [member.serial]
    assert serials(client, apple_pki, device="someone-else").status_code == 204


def test_the_tag_is_a_watermark_behind_the_clock(service: Any, member: SimpleNamespace) -> None:
    """A change listed once is listed again only within COMMIT_LAG, then never."""
    db = service.test_session()
    db.add(PassRegistration(business_id=member.shop.id, device_id=DEVICE, push_token=PUSH,
                            pass_id=member.pass_id))
    changed = utcnow() - timedelta(hours=1)
    db.execute(update(WalletPass).where(WalletPass.id == member.pass_id)
               .values(updated_at=changed))
    db.commit()
    first = passkit.updated_since(db, DEVICE, None, now=changed + timedelta(seconds=5))
    assert first is not None and first.serials == [member.serial]
    assert passkit.from_tag(first.last_updated) == changed + timedelta(seconds=5) \
        - passkit.COMMIT_LAG
    # Asked again soon: listed again (a 304 for the device), never missed.
    again = passkit.updated_since(db, DEVICE, first.last_updated,
                                  now=changed + timedelta(seconds=30))
    assert again is not None and again.serials == [member.serial]
    later = passkit.updated_since(db, DEVICE, again.last_updated,
                                  now=changed + timedelta(minutes=5))
    assert later is not None  # the tag moved past the change...
    assert passkit.updated_since(db, DEVICE, later.last_updated) is None  # ...so: done
    # A tag never goes back, whatever the clock says.
    ahead = passkit.to_tag(changed + timedelta(days=1))
    assert passkit.updated_since(db, DEVICE, ahead) is None


def test_tags_round_trip() -> None:
    moment = datetime(2026, 11, 30, 1, 2, 3, 456789, tzinfo=UTC)
    assert passkit.to_tag(moment) == "1796000523456789"
    assert passkit.from_tag("1796000523456789") == moment
    for bad in (None, "", "-1", "1.5", "9" * 20, "１２３"):
        assert passkit.from_tag(bad) is None


def test_last_modified_never_hides_a_second_change_within_one_second() -> None:
    first = datetime(2026, 11, 30, 12, 0, 0, 100_000, tzinfo=UTC)
    second = first + timedelta(milliseconds=500)  # the same second
    # Downloaded right after the first change, in the same second: rounded down...
    given = passkit.last_modified(first, now=first + timedelta(milliseconds=200))
    assert given == datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)
    assert not passkit.not_modified(second, given)  # ...so the second change is sent
    # Downloaded once the second is over: rounded up, and a 304 until the next change.
    given = passkit.last_modified(second, now=second + timedelta(seconds=2))
    assert given == datetime(2026, 11, 30, 12, 0, 1, tzinfo=UTC)
    assert passkit.not_modified(second, given)
    assert not passkit.not_modified(second + timedelta(seconds=1), given)
    assert not passkit.not_modified(second, None)


# The pass and the log ------------------------------------------------------------------


def test_the_pass_is_the_signed_pkpass_with_last_modified(
        service: Any, apple_pki: PKI, member: SimpleNamespace) -> None:
    db = service.test_session()
    version = utcnow() - timedelta(minutes=5)
    db.execute(update(WalletPass).where(WalletPass.id == member.pass_id)
               .values(updated_at=version))
    db.commit()
    client = service.test_client()
    answer = get_pass(client, apple_pki, member)
    assert answer.status_code == 200
    assert answer.mimetype == "application/vnd.apple.pkpass"
    assert answer.last_modified == version.replace(microsecond=0) + timedelta(seconds=1)
    shown = pass_json(answer.data)
    assert shown["serialNumber"] == member.serial
    assert shown["passTypeIdentifier"] == apple_pki.pass_type_id
    assert shown["authenticationToken"] == member.token
    assert shown["webServiceURL"] == "https://regulars.test/wallet/apple"
    assert shown["storeCard"]["primaryFields"][0]["value"] == 100
    with zipfile.ZipFile(io.BytesIO(answer.data)) as archive:
        assert {"manifest.json", "signature", "pass.json"} <= set(archive.namelist())
    same = get_pass(client, apple_pki, member,
                    **{"If-Modified-Since": answer.headers["Last-Modified"]})
    assert same.status_code == 304 and same.data == b""
    assert "Set-Cookie" not in answer.headers and "Set-Cookie" not in same.headers
    older = get_pass(client, apple_pki, member,
                     **{"If-Modified-Since": http_date(version - timedelta(hours=1))})
    assert older.status_code == 200
    junk = get_pass(client, apple_pki, member, **{"If-Modified-Since": "yesterday"})
    assert junk.status_code == 200
    head = client.head(f"{PREFIX}/passes/{apple_pki.pass_type_id}/{member.serial}",
                       headers=auth(member.token))
    assert head.status_code == 200 and head.headers["Last-Modified"]


def test_the_log_endpoint_logs(service: Any, caplog: pytest.LogCaptureFixture) -> None:
    client = service.test_client()
    with caplog.at_level(logging.INFO, logger="regulars.wallet.apple.device"):
        answer = client.post(f"{PREFIX}/log",
                             json={"logs": ["Web service error for pass.x (https://...):"
                                            " Response to 'What changed?' request",
                                            "second\nFAKE forged line"]})
    assert answer.status_code == 200
    assert [r.getMessage() for r in caplog.records] == [
        "Apple Wallet: Web service error for pass.x (https://...): Response to 'What"
        " changed?' request", "Apple Wallet: second FAKE forged line"]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="regulars.wallet.apple.device"):
        client.post(f"{PREFIX}/log", json={"logs": ["x" * 400] * 30})
    assert len(caplog.records) == passkit.MAX_LOG_ENTRIES  # an open endpoint writes little
    assert all(len(r.getMessage()) <= passkit.MAX_LOG_LENGTH + 20 for r in caplog.records)
    for bad in ({"logs": "x"}, {"logs": [1]}, ["x"], {}):
        assert client.post(f"{PREFIX}/log", json=bad).status_code == 400
    assert client.post(f"{PREFIX}/log", data=b"{", content_type="application/json"
                       ).status_code == 400


# The whole flow ------------------------------------------------------------------------


@pytest.fixture
def worker_app(make_apple_app: Callable[..., Any], standin: ApnsStandIn) -> Any:
    """An app whose APNs is the stand-in (REGULARS_APNS_URL, REGULARS_APNS_CA_FILE)."""
    return with_webservice(make_apple_app(APNS_URL=standin.url,
                                          APNS_CA_FILE=str(standin.ca_pem)))


def run_worker(app: Any) -> outbox.Summary:
    """One batch of ``regulars worker`` with the Apple sender it gets from the settings."""
    with app.app_context():
        senders = wallet_senders.apple_senders()
        try:
            return outbox.run_once(app.test_session(), senders)
        finally:
            senders[APNS].close()  # type: ignore[attr-defined]


def shop_in(app: Any) -> int:
    """A business with the DEMO program in ``app``'s database transaction (``apple_shop``
    belongs to ``apple_app``, whose transaction SQLite would not let a second app share)."""
    db = app.test_session()
    made = businesses.create_business(db, name="Гараж на Лесной", branches=["Центр"])
    owner = staff.create_staff(db, business_id=made.id, login="owner", password=PASSWORD,
                               role=Role.OWNER.value)
    programs.save(db, Actor.staff(made.id, owner.id, Role.OWNER), "program-key-1",
                  settings=DEMO, now=utcnow() - timedelta(days=1))
    return made.id


def test_register_credit_push_list_download_304(
        worker_app: Any, apple_pki: PKI, standin: ApnsStandIn) -> None:
    db = worker_app.test_session()
    shop_id = shop_in(worker_app)
    joined = customers.join(db, Actor.system(shop_id), phone="+79161234567", name="Иван")
    walletpass = wallet_cards.pass_of(db, shop_id, joined.customer.id)
    db.commit()
    member = SimpleNamespace(id=joined.customer.id, serial=walletpass.serial,
                             token=auth_token(worker_app.config["SECRET_KEY"], walletpass.serial))
    phone = worker_app.test_client()

    # The iPhone adds the pass, registers, and gets its first list and tag.
    assert register(phone, apple_pki, member).status_code == 201
    listed = serials(phone, apple_pki)
    assert listed.json["serialNumbers"] == [member.serial]
    tag = listed.json["lastUpdated"]
    first = get_pass(phone, apple_pki, member)
    assert pass_json(first.data)["storeCard"]["primaryFields"][0]["value"] == 100

    # The counter credits points: the request only queues the push.
    ledger.accrue(db, Actor.system(shop_id), "test-wallet-flow-1",
                  customer_id=member.id, points=50)
    assert standin.received == []
    queued = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == APNS)).one()
    assert queued.status == "pending"

    # regulars worker: one push to the device, certificate-authenticated.
    done = run_worker(worker_app)
    assert (done.sent, done.retried, done.failed) == (1, 0, 0)
    [push] = standin.received
    assert (push.method, push.path, push.body) == ("POST", f"/3/device/{PUSH}", b"{}")
    assert push.headers["apns-topic"] == apple_pki.pass_type_id
    assert push.client_subject["userId"] == apple_pki.pass_type_id

    # The iPhone asks what changed since its tag, and downloads the new pass.
    changed = serials(phone, apple_pki, since=tag)
    assert changed.status_code == 200 and changed.json["serialNumbers"] == [member.serial]
    fresh = get_pass(phone, apple_pki, member,
                     **{"If-Modified-Since": first.headers["Last-Modified"]})
    assert fresh.status_code == 200
    assert pass_json(fresh.data)["storeCard"]["primaryFields"][0]["value"] == 150

    # Nothing changed since: a 304 (once the version's second is over, see last_modified).
    version = db.scalar(select(WalletPass.updated_at).where(WalletPass.id == walletpass.id))
    time.sleep(max(0.0, (version + timedelta(seconds=1) - utcnow()).total_seconds()))
    settled = get_pass(phone, apple_pki, member)
    assert get_pass(phone, apple_pki, member, **{
        "If-Modified-Since": settled.headers["Last-Modified"]}).status_code == 304

    # Removing the pass from Wallet unregisters: the next credit pushes nothing.
    assert phone.delete(registration_url(apple_pki, member.serial),
                        headers=auth(member.token)).status_code == 200
    ledger.accrue(db, Actor.system(shop_id), "test-wallet-flow-2",
                  customer_id=member.id, points=10)
    assert run_worker(worker_app).total == 0 and len(standin.received) == 1


def test_the_worker_has_no_apple_sender_without_apple_settings(app: Any) -> None:
    with app.app_context():
        assert wallet_senders.apple_senders() == {}
