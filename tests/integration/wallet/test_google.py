"""Google Wallet against a local stand-in for Google's token endpoint and the Wallet REST
API (wallet.google).

The stand-in answers like Google: 200 with the resource, 409 on inserting an id that
exists, 404 on reading, patching or adding a message to an unknown id; ``addMessage``
appends to the object's messages (429 for a notifying one once the quota is spent); it
records every request.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from PIL import Image
from sqlalchemy import select, update

from tests.standins.google_wallet import API, TOKEN, StandIn, running
from wallet.google import limit
from wallet.google import settings as google_settings
from wallet.google.client import GoogleError, WalletClient, client_for
from wallet.google.links import save_url
from webapp.cli import wallet_senders
from webapp.domain.actor import Actor
from webapp.persistence.models import Customer, OutboxMessage, WalletPass
from webapp.services.business import logos
from webapp.services.customers import accounts as customers
from webapp.services.ledger import operations as ledger
from webapp.services.notify import outbox, wallet_updates
from webapp.services.wallet import google_objects as google_wallet

ISSUER = "3388000000012345678"
EMAIL = "regulars-wallet@test-project.iam.gserviceaccount.com"
KEY_ID = "test-key-id-1"
BASE = "https://cards.example.ru"


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[StandIn, int]]:
    with running() as started:
        yield started


@pytest.fixture(scope="module")
def key_files(tmp_path_factory: pytest.TempPathFactory,
              server: tuple[StandIn, int]) -> SimpleNamespace:
    """A service-account key whose token_uri is the stand-in, and the key's certificate
    (what Google publishes for a service account) to verify signatures with."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, EMAIL)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=9))
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("google")
    path = folder / "service-account.json"
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "test-project", "private_key_id": KEY_ID,
        "private_key": pem, "client_email": EMAIL, "client_id": "1234567890",
        "token_uri": f"http://127.0.0.1:{server[1]}/token",
    }))
    return SimpleNamespace(path=path, cert=cert.public_bytes(serialization.Encoding.PEM))


@pytest.fixture
def extra(server: tuple[StandIn, int], key_files: SimpleNamespace) -> dict[str, str]:
    return {"GOOGLE_ISSUER_ID": ISSUER, "GOOGLE_CREDENTIALS": str(key_files.path),
            "GOOGLE_API_URL": f"http://127.0.0.1:{server[1]}{API}"}


@pytest.fixture
def google(server: tuple[StandIn, int]) -> StandIn:
    server[0].reset()
    return server[0]


@pytest.fixture
def settings(extra: dict[str, str]) -> google_settings.GoogleSettings:
    loaded = google_settings.load(extra)
    assert loaded is not None
    return loaded


@pytest.fixture
def client(settings: google_settings.GoogleSettings, google: StandIn) -> Iterator[WalletClient]:
    made = WalletClient(settings)
    yield made
    made.close()


@pytest.fixture
def member(app: Any, shop: SimpleNamespace) -> SimpleNamespace:
    joined = customers.join(app.test_session(), Actor.system(shop.id), phone="+79161234567",
                            name="Иван")
    return SimpleNamespace(id=int(joined.customer.id), card=joined.customer.card_number)


def saved(app: Any, shop: SimpleNamespace, member: SimpleNamespace,
          settings: google_settings.GoogleSettings, client: WalletClient) -> SimpleNamespace:
    """The customer's object inserted on Google; the pass's id and the object's id."""
    db = app.test_session()
    oid = google_wallet.ensure_object(db, settings, shop.id, member.id, BASE, client=client)
    pass_id = db.scalar(select(WalletPass.id).where(WalletPass.customer_id == member.id))
    return SimpleNamespace(oid=oid, pass_id=pass_id)


def credit(app: Any, shop: SimpleNamespace, member: SimpleNamespace, points: int,
           key: str) -> None:
    ledger.accrue(app.test_session(), Actor.system(shop.id), key, customer_id=member.id,
                  points=points)


def counted(app: Any, pass_id: int, now: datetime | None = None) -> int:
    """The pass's notifications in the 24 hours before ``now`` (the real now by default)."""
    row = app.test_session().execute(
        select(WalletPass.google_message_day, WalletPass.google_messages)
        .where(WalletPass.id == pass_id)).one()
    return limit.count(row[0], row[1], now or datetime.now(UTC))


def added(google: StandIn) -> list[dict[str, Any]]:
    """The messages the stand-in's objects hold (added by ``addMessage``)."""
    return [m for found in google.store["loyaltyObject"].values()
            for m in found.get("messages", [])]


def last_patch(google: StandIn) -> dict[str, Any]:
    patches = [r for r in google.api("PATCH") if "/loyaltyObject/" in r.path]
    assert patches, "no object was patched"
    assert all("messages" not in r.body for r in patches)  # messages go by addMessage
    body: dict[str, Any] = patches[-1].body
    return body


# -- settings ------------------------------------------------------------------------


def test_without_settings_google_is_off_and_nothing_is_wrong() -> None:
    assert google_settings.load({}) is None
    assert google_settings.problems({}) == []


def test_settings_default_to_googles_api(extra: dict[str, str]) -> None:
    loaded = google_settings.load({k: v for k, v in extra.items() if k != "GOOGLE_API_URL"})
    assert loaded is not None
    assert loaded.api_url == "https://walletobjects.googleapis.com/walletobjects/v1"
    assert (loaded.issuer_id, loaded.service_account_email) == (ISSUER, EMAIL)


def test_problems_are_said_in_plain_words(extra: dict[str, str], tmp_path: Path) -> None:
    missing = google_settings.problems({"GOOGLE_CREDENTIALS": extra["GOOGLE_CREDENTIALS"]})
    assert len(missing) == 1 and "REGULARS_GOOGLE_ISSUER_ID is missing" in missing[0]
    gone = google_settings.problems({**extra, "GOOGLE_CREDENTIALS": str(tmp_path / "no.json")})
    assert len(gone) == 1 and gone[0].startswith("Google credentials unreadable:")
    (tmp_path / "user.json").write_text(json.dumps({"type": "authorized_user",
                                                    "client_id": "x"}))
    user = google_settings.problems({**extra, "GOOGLE_CREDENTIALS": str(tmp_path / "user.json")})
    assert len(user) == 1 and "not a service-account key" in user[0]
    (tmp_path / "junk.json").write_text("not json")
    junk = google_settings.problems({**extra, "GOOGLE_CREDENTIALS": str(tmp_path / "junk.json")})
    assert junk and junk[0].startswith("Google credentials unreadable:")
    broken = json.loads(Path(extra["GOOGLE_CREDENTIALS"]).read_text())
    broken["private_key"] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    bad_key = google_settings.problems({**extra,
                                        "GOOGLE_CREDENTIALS": str(tmp_path / "broken.json")})
    assert bad_key and bad_key[0].startswith("Google credentials unreadable:")
    assert google_settings.problems({**extra, "GOOGLE_ISSUER_ID": "abc"})
    assert google_settings.problems(extra) == []
    # A broken configuration turns Google off instead of failing.
    assert google_settings.load({**extra, "GOOGLE_CREDENTIALS": str(tmp_path / "no.json")}) \
        is None


def test_the_worker_gets_a_sender_only_when_google_is_on(app: Any,
                                                         extra: dict[str, str]) -> None:
    regulars = app.config["REGULARS"]
    with app.app_context():
        app.extensions.pop(google_settings.EXTENSION, None)
        assert wallet_senders.google_senders() == {}
        app.config["REGULARS"] = dataclasses.replace(regulars, extra={**regulars.extra,
                                                                      **extra})
        app.extensions.pop(google_settings.EXTENSION, None)
        try:
            assert set(wallet_senders.google_senders()) == {wallet_updates.GOOGLE}
        finally:
            app.config["REGULARS"] = regulars
            app.extensions.pop(google_settings.EXTENSION, None)


# -- class and object ----------------------------------------------------------------


def test_saving_inserts_the_class_and_the_object(
        app: Any, shop: SimpleNamespace, member: SimpleNamespace, google: StandIn,
        settings: google_settings.GoogleSettings, client: WalletClient) -> None:
    done = saved(app, shop, member, settings, client)
    serial = app.test_session().scalar(select(WalletPass.serial)
                                       .where(WalletPass.id == done.pass_id))
    assert done.oid == f"{ISSUER}.regulars-pass-{serial}"
    assert google.tokens == 1
    calls = google.api()
    assert [(r.method, r.path) for r in calls] == [
        ("POST", f"{API}/loyaltyClass"), ("POST", f"{API}/loyaltyObject")]
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in calls)
    token_request = google.requests[0]
    assert token_request.path == "/token"
    assert token_request.form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]

    loyalty_class = calls[0].body
    assert loyalty_class == {
        "id": f"{ISSUER}.regulars-business-{shop.id}",
        "issuerName": "Гараж на Лесной", "programName": "Гараж на Лесной",
        "programLogo": {"sourceUri": {"uri": f"{BASE}/static/img/icon-512.png"}},
        "reviewStatus": "UNDER_REVIEW", "hexBackgroundColor": "#0b5d3b",
        "accountIdLabel": "Номер карты", "accountNameLabel": "Клиент",
    }
    loyalty_object = calls[1].body
    assert loyalty_object["id"] == done.oid
    assert loyalty_object["classId"] == loyalty_class["id"]
    assert loyalty_object["state"] == "ACTIVE"
    assert loyalty_object["accountId"] == member.card
    assert loyalty_object["accountName"] == "Иван"
    assert loyalty_object["loyaltyPoints"] == {"label": "Баллы", "balance": {"int": 100}}
    assert loyalty_object["barcode"] == {"type": "QR_CODE", "value": member.card,
                                         "alternateText": member.card}
    texts = {t["id"]: t for t in loyalty_object["textModulesData"]}
    assert texts["rules"]["body"].startswith("5\u00a0% от каждого заказа")
    assert texts["progress"]["body"] == "До уровня «Базовый»: ещё 1 визит."
    assert texts["worth"]["body"].startswith("100")
    assert "messages" not in loyalty_object
    links = loyalty_object["linksModuleData"]["uris"]
    assert links[0] == {"id": "history", "uri": f"{BASE}/c/{shop.id}/history",
                        "description": "История баллов"}
    assert app.test_session().scalar(select(WalletPass.google_object)
                                     .where(WalletPass.id == done.pass_id)) is True


def test_the_class_shows_the_business_logo(
        app: Any, shop: SimpleNamespace, member: SimpleNamespace, google: StandIn,
        settings: google_settings.GoogleSettings, client: WalletClient) -> None:
    image = io.BytesIO()
    Image.new("RGB", (64, 64), "#0b5d3b").save(image, "PNG")
    logo = logos.set_logo(app.test_session(), shop.id, image.getvalue())
    saved(app, shop, member, settings, client)
    uri = google.api("POST")[0].body["programLogo"]["sourceUri"]["uri"]
    assert uri == f"{BASE}/c/{shop.id}/logo.png?v={int(logo.updated_at.timestamp())}"


def test_existing_class_and_object_are_patched_not_duplicated(
        app: Any, shop: SimpleNamespace, member: SimpleNamespace, google: StandIn,
        settings: google_settings.GoogleSettings, client: WalletClient) -> None:
    first = saved(app, shop, member, settings, client)
    google.requests.clear()
    again = saved(app, shop, member, settings, client)
    assert again.oid == first.oid
    calls = [(r.method, r.path) for r in google.api()]
    # The business's class is on Google already: a tap does not touch it.
    assert calls == [("POST", f"{API}/loyaltyObject"),
                     ("PATCH", f"{API}/loyaltyObject/{first.oid}")]
    assert google.api("PATCH")[0].body["loyaltyPoints"]["balance"] == {"int": 100}
    assert len(google.store["loyaltyObject"]) == 1

    # Another customer of the same business: only the object is inserted.
    other = customers.join(app.test_session(), Actor.system(shop.id), phone="+79161234568",
                           name="Пётр")
    google.requests.clear()
    google_wallet.ensure_object(app.test_session(), settings, shop.id, int(other.customer.id),
                          BASE, client=client)
    assert [(r.method, r.path) for r in google.api()] == [("POST", f"{API}/loyaltyObject")]


def test_a_class_google_has_is_patched_only_where_it_differs(
        app: Any, shop: SimpleNamespace, member: SimpleNamespace, google: StandIn,
        settings: google_settings.GoogleSettings, client: WalletClient) -> None:
    class_id = f"{ISSUER}.regulars-business-{shop.id}"
    saved(app, shop, member, settings, client)
    stored = google.store["loyaltyClass"][class_id]
    stored.update(reviewStatus="APPROVED", programName="Старое имя")
    db = app.test_session()
    # No pass of the business marked (as after a restore): the class is put again.
    db.execute(update(WalletPass).values(google_object=False))
    db.commit()
    google.requests.clear()
    saved(app, shop, member, settings, client)
    calls = [(r.method, r.path) for r in google.api()]
    assert calls[:3] == [("POST", f"{API}/loyaltyClass"),
                         ("GET", f"{API}/loyaltyClass/{class_id}"),
                         ("PATCH", f"{API}/loyaltyClass/{class_id}")]
    assert google.api("PATCH")[0].body == {"programName": "Гараж на Лесной"}
    assert google.store["loyaltyClass"][class_id]["reviewStatus"] == "APPROVED"

    # Nothing differs: nothing is patched.
    db.execute(update(WalletPass).values(google_object=False))
    db.commit()
    google.requests.clear()
    saved(app, shop, member, settings, client)
    assert [r.method for r in google.api() if "/loyaltyClass" in r.path] == ["POST", "GET"]


def test_a_failed_insert_leaves_the_pass_unmarked(
        app: Any, shop: SimpleNamespace, member: SimpleNamespace, google: StandIn,
        settings: google_settings.GoogleSettings, client: WalletClient) -> None:
    google.fail_next["POST"] = 500
    with pytest.raises(GoogleError, match="500"):
        google_wallet.ensure_object(app.test_session(), settings, shop.id, member.id, BASE,
                              client=client)
    assert app.test_session().scalar(select(WalletPass.google_object)
                                     .where(WalletPass.customer_id == member.id)) is False


# -- updates -------------------------------------------------------------------------


def test_a_credit_reaches_google_as_a_patch_and_a_notifying_message(
        app: Any, shop: SimpleNamespace, member: SimpleNamespace, google: StandIn,
        settings: google_settings.GoogleSettings, client: WalletClient) -> None:
    done = saved(app, shop, member, settings, client)
    db = app.test_session()
    credit(app, shop, member, 350, "google-credit-1")
    job = db.scalar(select(OutboxMessage).where(OutboxMessage.kind == wallet_updates.GOOGLE))
    assert job is not None and job.payload == {"pass": done.pass_id}
    send = google_wallet.sender(settings, db, BASE, client=client)
    outbox.run_once(db, {wallet_updates.GOOGLE: send})
    assert db.scalar(select(OutboxMessage.status).where(OutboxMessage.id == job.id)) == "sent"

    assert [(r.method, r.path) for r in google.api()][-3:] == [
        ("GET", f"{API}/loyaltyObject/{done.oid}"),
        ("POST", f"{API}/loyaltyObject/{done.oid}/addMessage"),
        ("PATCH", f"{API}/loyaltyObject/{done.oid}")]
    patch = last_patch(google)
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in google.api())
    assert patch["loyaltyPoints"] == {"label": "Баллы", "balance": {"int": 450}}
    [news] = added(google)
    assert news["messageType"] == "TEXT_AND_NOTIFY"
    assert news["body"] == "Баланс: 450 баллов"
    assert news["header"] == "Гараж на Лесной"
    stored = google.store["loyaltyObject"][done.oid]
    assert stored["loyaltyPoints"]["balance"]["int"] == 450
    assert stored["messages"] == [news]
    assert counted(app, done.pass_id) == 1


def test_nothing_new_is_patched_without_a_message(
        app: Any, shop: SimpleNamespace, member: SimpleNamespace, google: StandIn,
        settings: google_settings.GoogleSettings, client: WalletClient) -> None:
    done = saved(app, shop, member, settings, client)
    outcome = google_wallet.patch_object(app.test_session(), settings, done.pass_id, BASE,
                                   client=client)
    assert outcome == "patched"
    last_patch(google)
    assert added(google) == []
    assert counted(app, done.pass_id) == 0


def test_the_limit_counts_a_rolling_24_hours_and_stops_notifications_not_patches(
        app: Any, shop: SimpleNamespace, member: SimpleNamespace, google: StandIn,
        settings: google_settings.GoogleSettings, client: WalletClient) -> None:
    done = saved(app, shop, member, settings, client)
    db = app.test_session()
    day = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)
    outcomes = []
    for number in range(1, 6):
        credit(app, shop, member, 10, f"google-limit-{number}")
        outcomes.append(google_wallet.patch_object(db, settings, done.pass_id, BASE, client=client,
                                             now=day + timedelta(minutes=10 * number)))
        assert last_patch(google)["loyaltyPoints"]["balance"] == {"int": 100 + 10 * number}
    assert outcomes == ["notified"] * 3 + ["patched"] * 2
    # Over the limit nothing is added: the pass shows the balance itself.
    assert [m["messageType"] for m in added(google)] == ["TEXT_AND_NOTIFY"] * 3
    assert [m["body"] for m in added(google)] == [f"Баланс: {100 + 10 * n} баллов"
                                                  for n in (1, 2, 3)]
    assert counted(app, done.pass_id, day + timedelta(minutes=50)) == 3

    # A new UTC day is not a new window: 20:10 yesterday is less than 24 hours ago.
    credit(app, shop, member, 10, "google-limit-after-midnight")
    after_midnight = day + timedelta(hours=5)
    assert google_wallet.patch_object(db, settings, done.pass_id, BASE, client=client,
                                now=after_midnight) == "patched"
    assert len(added(google)) == 3

    credit(app, shop, member, 10, "google-limit-next-day")
    later = day + timedelta(hours=24, minutes=12)  # only the first is 24 hours old
    assert google_wallet.patch_object(db, settings, done.pass_id, BASE, client=client,
                                now=later) == "notified"
    assert added(google)[-1]["messageType"] == "TEXT_AND_NOTIFY"
    assert added(google)[-1]["body"] == "Баланс: 170 баллов"
    assert counted(app, done.pass_id, later) == 3


def test_googles_quota_answer_is_taken_as_the_limit(
        app: Any, shop: SimpleNamespace, member: SimpleNamespace, google: StandIn,
        settings: google_settings.GoogleSettings, client: WalletClient) -> None:
    done = saved(app, shop, member, settings, client)
    google.quota_spent = True
    credit(app, shop, member, 20, "google-quota")
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert google_wallet.patch_object(app.test_session(), settings, done.pass_id, BASE,
                                client=client, now=now) == "patched"
    assert google.store["loyaltyObject"][done.oid]["loyaltyPoints"]["balance"]["int"] == 120
    assert "messages" not in google.store["loyaltyObject"][done.oid]
    assert counted(app, done.pass_id, now) == google_wallet.NOTIFICATIONS_PER_DAY
    assert counted(app, done.pass_id, now + timedelta(hours=24, minutes=3)) == 0


def test_an_object_google_lost_is_inserted_again(
        app: Any, shop: SimpleNamespace, member: SimpleNamespace, google: StandIn,
        settings: google_settings.GoogleSettings, client: WalletClient) -> None:
    done = saved(app, shop, member, settings, client)
    del google.store["loyaltyObject"][done.oid]
    credit(app, shop, member, 50, "google-lost-1")
    google.requests.clear()
    assert google_wallet.patch_object(app.test_session(), settings, done.pass_id, BASE,
                                client=client) == "inserted"
    # The class is there and unchanged: read, not patched.
    assert [(r.method, r.path.split("/")[3]) for r in google.api()] == [
        ("GET", "loyaltyObject"), ("POST", "loyaltyClass"), ("GET", "loyaltyClass"),
        ("POST", "loyaltyObject")]
    assert google.store["loyaltyObject"][done.oid]["loyaltyPoints"]["balance"]["int"] == 150


def test_a_404_on_add_message_inserts_again_and_gives_the_notification_back(
        app: Any, shop: SimpleNamespace, member: SimpleNamespace, google: StandIn,
        settings: google_settings.GoogleSettings, client: WalletClient) -> None:
    done = saved(app, shop, member, settings, client)
    credit(app, shop, member, 50, "google-vanish-1")
    google.vanish_before_patch = True
    google.requests.clear()
    assert google_wallet.patch_object(app.test_session(), settings, done.pass_id, BASE,
                                client=client) == "inserted"
    calls = google.api()
    assert [r.method for r in calls][:2] == ["GET", "POST"]
    assert calls[1].path.endswith("/addMessage") and calls[-1].path.endswith("/loyaltyObject")
    assert google.store["loyaltyObject"][done.oid]["loyaltyPoints"]["balance"]["int"] == 150
    assert counted(app, done.pass_id) == 0


def test_a_google_failure_is_retried_by_the_outbox(
        app: Any, shop: SimpleNamespace, member: SimpleNamespace, google: StandIn,
        settings: google_settings.GoogleSettings, client: WalletClient) -> None:
    done = saved(app, shop, member, settings, client)
    db = app.test_session()
    send = google_wallet.sender(settings, db, BASE, client=client)
    credit(app, shop, member, 50, "google-failure-1")
    google.fail_next["POST"] = 503  # the addMessage
    summary = outbox.run_once(db, {wallet_updates.GOOGLE: send})
    assert summary.retried == 1
    job = db.scalar(select(OutboxMessage).where(OutboxMessage.kind == wallet_updates.GOOGLE))
    assert job is not None and job.status == "pending" and job.attempts == 1
    assert "503" in (job.last_error or "")
    assert counted(app, done.pass_id) == 0  # the notification was not spent
    assert added(google) == []

    summary = outbox.run_once(db, {wallet_updates.GOOGLE: send}, now=job.run_after)
    assert summary.sent == 1
    assert [m["messageType"] for m in added(google)] == ["TEXT_AND_NOTIFY"]
    assert counted(app, done.pass_id) == 1

    # The message went, the PATCH failed: the retry patches without telling again.
    credit(app, shop, member, 50, "google-failure-2")
    google.fail_next["PATCH"] = 503
    summary = outbox.run_once(db, {wallet_updates.GOOGLE: send})
    assert summary.retried == 1 and len(added(google)) == 2
    job = db.scalar(select(OutboxMessage).where(OutboxMessage.kind == wallet_updates.GOOGLE,
                                                OutboxMessage.status == "pending"))
    assert job is not None
    summary = outbox.run_once(db, {wallet_updates.GOOGLE: send}, now=job.run_after)
    assert summary.sent == 1
    assert len(added(google)) == 2 and counted(app, done.pass_id) == 2
    assert google.store["loyaltyObject"][done.oid]["loyaltyPoints"]["balance"]["int"] == 200


def test_a_pass_not_on_google_or_a_blocked_customer_is_skipped(
        app: Any, shop: SimpleNamespace, member: SimpleNamespace, google: StandIn,
        settings: google_settings.GoogleSettings, client: WalletClient) -> None:
    db = app.test_session()
    assert google_wallet.patch_object(db, settings, 10**9, BASE, client=client) == "skipped"
    done = saved(app, shop, member, settings, client)
    google.requests.clear()
    customer = db.get(Customer, member.id)
    customer.status = "blocked"
    db.commit()
    assert google_wallet.patch_object(db, settings, done.pass_id, BASE, client=client) == "skipped"
    assert google.api() == []


def test_a_deleted_customers_object_is_deactivated_without_the_name(
        app: Any, shop: SimpleNamespace, member: SimpleNamespace, google: StandIn,
        settings: google_settings.GoogleSettings, client: WalletClient) -> None:
    done = saved(app, shop, member, settings, client)
    db = app.test_session()
    assert google.store["loyaltyObject"][done.oid]["accountName"] == "Иван"
    customer = db.get(Customer, member.id)
    customer.status, customer.name = "deleted", None
    # What the account deletion queues for the pass: the job alone is enough.
    outbox.enqueue(db, kind=wallet_updates.GOOGLE, payload={"pass": done.pass_id},
                   business_id=shop.id, customer_id=member.id)
    db.commit()
    google.requests.clear()
    send = google_wallet.sender(settings, db, BASE, client=client)
    assert outbox.run_once(db, {wallet_updates.GOOGLE: send}).sent == 1
    assert [(r.method, r.path, r.body) for r in google.api()] == [
        ("PATCH", f"{API}/loyaltyObject/{done.oid}",
         {"state": "INACTIVE", "accountName": ""})]
    stored = google.store["loyaltyObject"][done.oid]
    assert stored["state"] == "INACTIVE" and stored["accountName"] == ""
    assert db.scalar(select(WalletPass.google_object)
                     .where(WalletPass.id == done.pass_id)) is False
    # Done once: a later job sends nothing.
    google.requests.clear()
    assert google_wallet.patch_object(db, settings, done.pass_id, BASE, client=client) == "skipped"
    assert google.api() == []
    # Google lost the object already: nothing to deactivate, the pass is unmarked.
    db.execute(update(WalletPass).values(google_object=True))
    db.commit()
    del google.store["loyaltyObject"][done.oid]
    assert google_wallet.deactivate(db, settings, done.pass_id, client=client) == "deactivated"


def test_the_limit_layout_keeps_three_times_and_reads_the_old_count() -> None:
    at = datetime(2026, 3, 2, 23, 59, 30, tzinfo=UTC)
    times = (at - timedelta(hours=23, minutes=50), at - timedelta(hours=1), at)
    day, packed = limit.encode(times)
    assert day == datetime(2026, 3, 2).date() and 0 < packed < 2**31  # fits an INTEGER
    assert limit.decode(day, packed) == tuple(limit.rounded(t) for t in times)
    assert limit.rounded(at) == datetime(2026, 3, 3, 0, 0, tzinfo=UTC)  # rounded up
    assert limit.count(day, packed, at) == 3
    assert limit.count(day, packed, at + timedelta(minutes=13)) == 2
    # The old layout (a count for a UTC day) counts until the end of the next day.
    old_day = datetime(2026, 3, 1).date()
    assert limit.count(old_day, 2, datetime(2026, 3, 2, 23, 0, tzinfo=UTC)) == 2
    assert limit.count(old_day, 2, datetime(2026, 3, 3, 0, 1, tzinfo=UTC)) == 0


# -- the Save link -------------------------------------------------------------------


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_the_save_link_is_signed_and_names_only_the_object(
        app: Any, shop: SimpleNamespace, member: SimpleNamespace, google: StandIn,
        settings: google_settings.GoogleSettings, key_files: SimpleNamespace) -> None:
    try:
        url = google_wallet.save_link(app.test_session(), shop.id, member.id, BASE + "/",
                                      settings)
    finally:
        client_for(settings).close()
        client_for.cache_clear()
    prefix = "https://pay.google.com/gp/v/save/"
    assert url.startswith(prefix)
    token = url[len(prefix):]
    header_part, claims_part, signature_part = token.split(".")
    certificate = x509.load_pem_x509_certificate(key_files.cert)
    public_key = certificate.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(_b64(signature_part), f"{header_part}.{claims_part}".encode(),
                      padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(InvalidSignature):
        public_key.verify(_b64(signature_part), f"{header_part}.{claims_part}x".encode(),
                          padding.PKCS1v15(), hashes.SHA256())

    header = json.loads(_b64(header_part))
    assert header["alg"] == "RS256" and header["kid"] == KEY_ID
    claims = json.loads(_b64(claims_part))
    [inserted] = google.store["loyaltyObject"]
    assert claims["iss"] == EMAIL
    assert claims["aud"] == "google" and claims["typ"] == "savetowallet"
    assert claims["origins"] == [BASE]
    assert claims["payload"] == {"loyaltyObjects": [{"id": inserted}]}
    assert isinstance(claims["iat"], int)
    assert len(url) < 1200  # a short link: the object is named, not carried


def test_google_auths_own_jwt_check_accepts_the_link(
        settings: google_settings.GoogleSettings, key_files: SimpleNamespace) -> None:
    from google.auth import jwt

    url = save_url(settings, f"{ISSUER}.regulars-pass-abc", ["https://cards.example.ru"])
    claims = jwt.decode(url.rsplit("/", 1)[1], certs={KEY_ID: key_files.cert.decode()},
                        verify=False)
    assert claims["payload"] == {"loyaltyObjects": [{"id": f"{ISSUER}.regulars-pass-abc"}]}
    # Signature check with google-auth's verifier and the published certificate.
    from google.auth import crypt

    signed, signature = url.rsplit("/", 1)[1].rsplit(".", 1)
    verifier = crypt.RSAVerifier.from_string(key_files.cert)
    assert verifier.verify(signed.encode(), _b64(signature))
    assert not verifier.verify((signed + "x").encode(), _b64(signature))
