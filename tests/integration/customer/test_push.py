"""Web push, end to end: real VAPID-signed, aes128gcm-encrypted messages to a local push
service that speaks the protocol (the npm package web-push-testing checks the VAPID
signature, decrypts the message, and can expire a subscription to answer 410)."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import Result
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import render_template
from sqlalchemy import Engine, func, select, update

import webapp.customer.push  # noqa: F401  (routes on the customer blueprint, before any app)
from tests.conftest import rolled_back_app
from tests.integration.customer.conftest import PHONE, signed_in
from tests.standins.web_push import PushService, running
from tests.web_client import csrf
from webapp.cli.push import push_group, senders
from webapp.config import ConfigError
from webapp.domain.actor import Actor
from webapp.domain.clock import utcnow
from webapp.domain.consent import ConsentKind
from webapp.domain.errors import InvalidInput, NotFound
from webapp.domain.money import format_money
from webapp.domain.presets import PRESETS
from webapp.domain.quote import OrderDraft
from webapp.error_messages import describe
from webapp.persistence.models import (
    Customer,
    CustomerSession,
    OutboxMessage,
    PushReminder,
    PushSubscription,
)
from webapp.services.counter import checkout
from webapp.services.customers import consents
from webapp.services.customers.sign_in import Who
from webapp.services.ledger import balances
from webapp.services.ledger import operations as ledger
from webapp.services.notify import outbox, push, push_messages, push_settings
from webapp.services.notify.push_reminders import Reminded, remind, send_reminders, sleeping_text
from webapp.services.program import versions as programs
from webapp.services.staff import audit

SUBJECT = "mailto:push-test@example.ru"
KEYS = push_settings.new_keys()
SECOND_PHONE = "+79167654321"


# -- fixtures -----------------------------------------------------------------------


@pytest.fixture
def app(database_url: str, engine: Engine, tmp_path: Path) -> Iterator[Any]:
    """The suite's app (see tests/conftest.py) with VAPID keys: push is on."""
    with rolled_back_app(engine, {"DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path),
                           "VAPID_PRIVATE_KEY": KEYS[0], "VAPID_PUBLIC_KEY": KEYS[1],
                           "VAPID_SUBJECT": SUBJECT}) as made:
        yield made


@pytest.fixture(scope="module")
def push_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PushService]:
    """web-push-testing on a free port, its browsers subscribing with the app's key."""
    # It keeps its pid file in its working folder: a temporary one, not the tree.
    with running(tmp_path_factory.mktemp("web-push-testing"), KEYS[1]) as service:
        yield service


def customer_id(app: Any, business_id: int, phone: str = PHONE) -> int:
    found = app.test_session().scalar(select(Customer.id).where(
        Customer.business_id == business_id, Customer.phone == phone))
    assert found is not None
    return int(found)


def who(app: Any, business_id: int, phone: str = PHONE) -> Who:
    """The customer signed in with ``phone``, on their newest device session."""
    cid = customer_id(app, business_id, phone)
    newest = app.test_session().scalar(
        select(CustomerSession.id).where(CustomerSession.customer_id == cid)
        .order_by(CustomerSession.id.desc()).limit(1))
    assert newest is not None, "sign in first"
    return Who(cid, business_id, newest)


def fake_subscription(endpoint: str | None = None) -> dict[str, Any]:
    """A well-formed subscription of a browser (real key material) at an https endpoint."""
    point = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        Encoding.X962, PublicFormat.UncompressedPoint)
    return {"endpoint": endpoint or f"https://push.example.com/v1/{secrets.token_hex(8)}",
            "expirationTime": None,
            "keys": {"p256dh": base64.urlsafe_b64encode(point).rstrip(b"=").decode(),
                     "auth": base64.urlsafe_b64encode(secrets.token_bytes(16))
                     .rstrip(b"=").decode()}}


def post_json(client: Any, business_id: int, action: str, body: Any) -> Any:
    token = csrf(client, f"/c/{business_id}/profile")
    return client.post(f"/c/{business_id}/push/{action}", json=body,
                       headers={"X-CSRFToken": token, "Accept": "application/json"})


def work(app: Any, settings: push_settings.PushSettings | None = None) -> outbox.Summary:
    """What ``regulars worker`` does for web push: one batch through the push sender."""
    db = app.test_session()
    chosen = settings or push_settings.settings_of(app)
    assert chosen is not None
    return outbox.run_once(db, {push_messages.KIND: push.sender(chosen, db)})


def webpush_jobs(app: Any) -> list[OutboxMessage]:
    return list(app.test_session().scalars(
        select(OutboxMessage).where(OutboxMessage.kind == push_messages.KIND)
        .order_by(OutboxMessage.id)))


def subscriptions(app: Any, cid: int) -> list[str]:
    return list(app.test_session().scalars(
        select(PushSubscription.endpoint).where(PushSubscription.customer_id == cid)))


# -- real pushes --------------------------------------------------------------------


def test_a_credited_message_arrives_encrypted_and_a_410_forgets_the_browser(
        app: Any, shop: SimpleNamespace, ivan: Any, push_service: PushService) -> None:
    browser = push_service.subscribe()
    answer = post_json(ivan, shop.id, "subscribe",
                       {"endpoint": browser["endpoint"], "expirationTime": None,
                        "keys": browser["keys"]})
    assert answer.status_code == 200, answer.data
    assert answer.get_json() == {"subscribed": True}
    cid = customer_id(app, shop.id)
    assert subscriptions(app, cid) == [browser["endpoint"]]

    db = app.test_session()
    assert push_messages.points_credited(db, cid, 120, 450) == 1
    db.commit()
    assert work(app) == outbox.Summary(sent=1)
    assert push_service.messages(browser["clientHash"]) == [{
        "title": "Гараж на Лесной", "body": "Начислено 120 баллов. Баланс: 450.",
        "tag": "points", "url": f"/c/{shop.id}/"}]
    sent_at = db.scalar(select(PushSubscription.last_sent_at))
    assert sent_at is not None

    push_service.expire(browser["clientHash"])
    push_messages.points_credited(db, cid, 1, 451)
    db.commit()
    assert work(app) == outbox.Summary(sent=1)  # a gone browser is done, not failed
    assert subscriptions(app, cid) == []
    assert len(push_service.messages(browser["clientHash"])) == 1
    assert [job.status for job in webpush_jobs(app)] == ["sent", "sent"]


def test_a_push_signed_with_another_key_is_refused_and_retried(
        app: Any, shop: SimpleNamespace, ivan: Any, push_service: PushService) -> None:
    browser = push_service.subscribe()
    cid = customer_id(app, shop.id)
    db = app.test_session()
    push.subscribe(db, who(app, shop.id), browser, allow_local=True)
    push_messages.tier_reached(db, cid, "Серебро")
    db.commit()
    other = push_settings.load_settings({"VAPID_PRIVATE_KEY": (pair := push_settings.new_keys())[0],
                                "VAPID_PUBLIC_KEY": pair[1], "VAPID_SUBJECT": SUBJECT},
                               testing=True)
    assert work(app, other) == outbox.Summary(retried=1)
    job = webpush_jobs(app)[0]
    assert job.status == "pending" and "PushRejected: push service answered 400" in (
        job.last_error or "")
    assert subscriptions(app, cid) == [browser["endpoint"]]  # kept: only 404/410 drop it
    assert push_service.messages(browser["clientHash"]) == []

    job.run_after = utcnow()
    db.commit()
    assert work(app) == outbox.Summary(sent=1)  # the right key: delivered on the retry
    assert push_service.messages(browser["clientHash"])[0]["body"] == (
        "Ваш новый уровень: «Серебро».")


# -- subscribing --------------------------------------------------------------------


def _with(**changes: Any) -> dict[str, Any]:
    body = fake_subscription()
    for name, value in changes.items():
        if name in ("p256dh", "auth"):
            body["keys"][name] = value
        else:
            body[name] = value
    return body


@pytest.mark.parametrize("body", [
    pytest.param([], id="not-an-object"),
    pytest.param(_with(endpoint=""), id="no-endpoint"),
    pytest.param(_with(endpoint="http://push.example.com/v1/x"), id="plain-http"),
    pytest.param(_with(endpoint="https://10.0.0.5/v1/x"), id="address-literal"),
    pytest.param(_with(endpoint="https://[2001:db8::1]/v1/x"), id="ipv6-literal"),
    pytest.param(_with(endpoint="https://push.example.com:8443/v1/x"), id="other-port"),
    pytest.param(_with(endpoint="https://user:pw@push.example.com/v1/x"), id="credentials"),
    pytest.param(_with(endpoint="https://intranet/v1/x"), id="single-label-host"),
    pytest.param(_with(endpoint="https://push.example.com/" + "a" * 1024), id="too-long"),
    pytest.param(_with(endpoint="https://push.example.com/a b"), id="space"),
    pytest.param(_with(keys=None), id="no-keys"),
    pytest.param(_with(p256dh=None), id="no-p256dh"),
    pytest.param(_with(p256dh="AAAA"), id="short-p256dh"),
    pytest.param(_with(p256dh="BA" + "A" * 85), id="p256dh-off-the-curve"),
    pytest.param(_with(p256dh="not base64!"), id="p256dh-not-base64"),
    pytest.param(_with(auth="AAAA"), id="short-auth"),
    pytest.param(_with(auth=17), id="auth-not-a-string"),
])
def test_a_malformed_subscription_is_refused_and_nothing_is_stored(
        app: Any, shop: SimpleNamespace, ivan: Any, body: Any) -> None:
    answer = post_json(ivan, shop.id, "subscribe", body)
    assert answer.status_code == 422, answer.data
    problem = answer.get_json()
    assert problem["category"] == "invalid_input" and problem["code"].startswith("push_")
    assert problem["detail"]
    assert app.test_session().scalar(select(func.count(PushSubscription.id))) == 0


def test_the_service_names_each_refusal_with_its_own_code(app: Any, shop: SimpleNamespace,
                                                         ivan: Any) -> None:
    device = who(app, shop.id)
    db = app.test_session()
    cases = {
        "push_subscription_malformed": "not json",
        "push_endpoint_not_https":
            _with(endpoint="http://127.0.0.1:8090/notify/x"),  # local: tests only
        "push_keys_missing": _with(keys=[]),
        "push_p256dh_malformed": _with(p256dh="AAAA"),
        "push_auth_malformed": _with(auth="AAAA"),
        "push_endpoint_malformed": _with(endpoint=None),
    }
    for code, body in cases.items():
        with pytest.raises(InvalidInput) as refused:
            push.subscribe(db, device, body, allow_local=False)
        assert refused.value.code == code
    assert describe(refused.value, "en") == (
        "The push endpoint must be a URL of at most 1024 characters.")
    push.subscribe(db, device, _with(endpoint="http://localhost:8090/notify/x"), allow_local=True)
    assert len(subscriptions(app, device.customer_id)) == 1


def test_a_customer_subscribes_only_their_own_browser(app: Any, shop: SimpleNamespace,
                                                      ivan: Any) -> None:
    maria = signed_in(app, shop.id, SECOND_PHONE)
    ivan_id, maria_id = customer_id(app, shop.id), customer_id(app, shop.id, SECOND_PHONE)

    # The customer comes from the device's cookie: an id in the body changes nothing.
    body = {**fake_subscription(), "customer_id": ivan_id, "customerId": ivan_id}
    assert post_json(maria, shop.id, "subscribe", body).status_code == 200
    assert subscriptions(app, maria_id) == [body["endpoint"]] and not subscriptions(app, ivan_id)

    # Nobody else can take it off, nor can a signed-out browser or another business's page.
    assert post_json(ivan, shop.id, "unsubscribe", {"endpoint": body["endpoint"]}
                     ).status_code == 200
    assert subscriptions(app, maria_id) == [body["endpoint"]]
    stranger = app.test_client()
    answer = stranger.post(f"/c/{shop.id}/push/subscribe", json=fake_subscription(),
                           headers={"X-CSRFToken": csrf(stranger, f"/c/{shop.id}/sign-in")})
    assert answer.status_code == 401 and answer.get_json()["code"] == "signed_out"
    answer = maria.post(f"/c/{shop.id + 1000}/push/subscribe", json=fake_subscription(),
                        headers={"X-CSRFToken": csrf(maria, f"/c/{shop.id}/profile")})
    assert answer.status_code == 401
    assert maria.post(f"/c/{shop.id}/push/subscribe", json=fake_subscription()
                      ).status_code == 400  # no CSRF token

    # The owner takes it off; the same browser later signed in as Ivan moves to him.
    assert post_json(maria, shop.id, "unsubscribe", {"endpoint": body["endpoint"]}
                     ).status_code == 200
    assert not subscriptions(app, maria_id)
    assert post_json(maria, shop.id, "subscribe", body).status_code == 200
    assert post_json(ivan, shop.id, "subscribe", body).status_code == 200
    assert subscriptions(app, ivan_id) == [body["endpoint"]] and not subscriptions(app, maria_id)


def test_a_customer_keeps_the_newest_ten_browsers(app: Any, shop: SimpleNamespace,
                                                  ivan: Any) -> None:
    device = who(app, shop.id)
    made = [fake_subscription() for _ in range(push.MAX_PER_CUSTOMER + 2)]
    db = app.test_session()
    for n, body in enumerate(made):
        push.subscribe(db, device, body, now=utcnow() + timedelta(seconds=n))
    assert sorted(subscriptions(app, device.customer_id)) == sorted(
        b["endpoint"] for b in made[2:])



# -- signing out --------------------------------------------------------------------


def endpoints_and_sessions(app: Any) -> dict[str, int | None]:
    rows = app.test_session().execute(
        select(PushSubscription.endpoint, PushSubscription.session_id))
    return {endpoint: session_id for endpoint, session_id in rows}


def test_a_subscription_belongs_to_the_device_session_it_was_made_in(
        app: Any, shop: SimpleNamespace, ivan: Any) -> None:
    phone = who(app, shop.id)
    body = fake_subscription()
    assert post_json(ivan, shop.id, "subscribe", body).status_code == 200
    assert endpoints_and_sessions(app) == {body["endpoint"]: phone.session_id}

    # The browser subscribes again under another session: it belongs to that one now.
    signed_in(app, shop.id)
    laptop = who(app, shop.id)
    assert laptop.session_id != phone.session_id
    push.subscribe(app.test_session(), laptop, body)
    assert endpoints_and_sessions(app) == {body["endpoint"]: laptop.session_id}


def test_forgetting_a_session_or_a_customer_deletes_only_their_browsers(
        app: Any, shop: SimpleNamespace, ivan: Any) -> None:
    db = app.test_session()
    phone = who(app, shop.id)
    signed_in(app, shop.id)
    laptop = who(app, shop.id)
    signed_in(app, shop.id, SECOND_PHONE)
    maria = who(app, shop.id, SECOND_PHONE)
    made = {"phone": fake_subscription(), "laptop": fake_subscription(),
            "maria": fake_subscription()}
    for name, device in (("phone", phone), ("laptop", laptop), ("maria", maria)):
        push.subscribe(db, device, made[name])

    def left() -> list[str]:
        kept = set(db.scalars(select(PushSubscription.endpoint)))
        return sorted(name for name, body in made.items() if body["endpoint"] in kept)

    assert push.forget_session(db, phone.session_id) == 1
    assert left() == ["laptop", "maria"]
    db.rollback()  # not committed: it runs in the caller's transaction
    assert left() == ["laptop", "maria", "phone"]

    assert push.forget_session(db, phone.session_id) == 1
    assert push.forget_customer(db, phone.customer_id) == 1  # the laptop is left of Ivan's
    db.commit()
    assert left() == ["maria"]
    assert push.forget_session(db, 987_654) == 0 and push.forget_customer(db, 987_654) == 0
    assert left() == ["maria"]


def test_a_signed_out_device_or_a_closed_account_gets_no_push(
        app: Any, shop: SimpleNamespace, ivan: Any, push_service: PushService) -> None:
    db = app.test_session()
    phone = who(app, shop.id)
    signed_in(app, shop.id)
    laptop = who(app, shop.id)
    browsers = {"phone": push_service.subscribe(), "laptop": push_service.subscribe()}
    push.subscribe(db, phone, browsers["phone"], allow_local=True)
    push.subscribe(db, laptop, browsers["laptop"], allow_local=True)
    assert push_messages.points_credited(db, phone.customer_id, 120, 450) == 2
    # The phone is signed out after the message was queued, its subscription left behind.
    db.execute(update(CustomerSession).where(CustomerSession.id == phone.session_id)
               .values(revoked_at=utcnow()))
    db.commit()
    assert work(app) == outbox.Summary(sent=2)  # both done: nothing to try again
    assert push_service.messages(browsers["phone"]["clientHash"]) == []
    assert len(push_service.messages(browsers["laptop"]["clientHash"])) == 1
    assert subscriptions(app, phone.customer_id) == [browsers["laptop"]["endpoint"]]

    # A customer blocked after a message was queued gets nothing either.
    assert push_messages.points_credited(db, laptop.customer_id, 1, 451) == 1
    db.execute(update(Customer).where(Customer.id == laptop.customer_id)
               .values(status="blocked"))
    db.commit()
    assert work(app) == outbox.Summary(sent=1)
    assert len(push_service.messages(browsers["laptop"]["clientHash"])) == 1
    assert subscriptions(app, laptop.customer_id) == []

# -- closing an order ---------------------------------------------------------------


def _close(app: Any, shop: SimpleNamespace, cid: int, key: str) -> dict[str, Any]:
    return checkout.close(app.test_session(), shop.owner, key, customer_id=cid,
                          branch_id=shop.centre, draft=OrderDraft(total=200_000))


def test_a_close_queues_one_message_in_its_own_transaction(
        app: Any, shop: SimpleNamespace, ivan: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    cid = customer_id(app, shop.id)
    assert _close(app, shop, cid, "push-close-0001")["accrued"] > 0
    assert webpush_jobs(app) == []  # no subscription: nothing queued

    push.subscribe(app.test_session(), who(app, shop.id), fake_subscription())

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("the audit trail is down")

    with monkeypatch.context() as patched:
        patched.setattr(audit, "event", refuse)  # the close's audit event
        with pytest.raises(RuntimeError):
            _close(app, shop, cid, "push-close-0002")
    assert webpush_jobs(app) == []  # the close rolled back, its message with it

    result = _close(app, shop, cid, "push-close-0003")
    jobs = webpush_jobs(app)
    assert len(jobs) == 1
    assert jobs[0].purpose == "service" and jobs[0].customer_id == cid
    assert jobs[0].payload["body"] == (
        f"Начислено {result['accrued']} баллов. Баланс: {result['available']}.")
    _close(app, shop, cid, "push-close-0003")  # the same key again: nothing new
    assert len(webpush_jobs(app)) == 1


def test_a_close_that_reaches_a_tier_says_so_in_the_same_message(
        app: Any, shop: SimpleNamespace, ivan: Any) -> None:
    cid = customer_id(app, shop.id)
    push.subscribe(app.test_session(), who(app, shop.id), fake_subscription())
    result = _close(app, shop, cid, "push-close-tier")  # the first visit: «Базовый»
    [job] = webpush_jobs(app)
    assert job.payload["body"] == (f"Начислено {result['accrued']} баллов. Баланс:"
                                   f" {result['available']}. Ваш новый уровень: «Базовый».")


def test_a_cashback_close_and_its_reminder_speak_of_money(app: Any, shop: SimpleNamespace,
                                                          ivan: Any) -> None:
    db = app.test_session()
    programs.save(db, shop.owner, "push-cashback", settings=PRESETS["cashback_5_50"],
                  now=utcnow() - timedelta(hours=1))
    cid = customer_id(app, shop.id)
    push.subscribe(db, who(app, shop.id), fake_subscription())
    result = _close(app, shop, cid, "push-close-cashback")
    [job] = webpush_jobs(app)
    money = {n: format_money(n * 100, "RUB", "ru") for n in (result["accrued"],
                                                            result["available"])}
    assert job.payload["body"] == (f"Кэшбэк: +{money[result['accrued']]}."
                                   f" На счёте: {money[result['available']]}.")
    now = utcnow()
    ledger.accrue(db, Actor.system(shop.id), "push-cashback-lot", customer_id=cid, points=120,
                  expires_at=now + timedelta(days=3))
    assert send_reminders(db, shop.id, now) == Reminded(expiring=1, messages=1)
    assert webpush_jobs(app)[-1].payload["body"].endswith(
        "сгорят 120\u00a0₽. Потратьте их при следующем визите.")


def test_message_texts() -> None:
    assert push_messages.credited_text(1, 101) == "Начислен 1 балл. Баланс: 101."
    assert push_messages.credited_text(3, 12_345) == "Начислено 3 балла. Баланс: 12\u202f345."
    assert push_messages.credited_text(120, 450) == "Начислено 120 баллов. Баланс: 450."


# -- reminders ----------------------------------------------------------------------


def test_expiring_points_are_reminded_once_per_lot(app: Any, shop: SimpleNamespace,
                                                   ivan: Any) -> None:
    db = app.test_session()
    cid = customer_id(app, shop.id)
    now = utcnow()
    system = Actor.system(shop.id)
    ledger.accrue(db, system, "push-lot-1", customer_id=cid, points=120,
                  expires_at=now + timedelta(days=3))
    assert remind(db, shop.id, now) == Reminded()  # not subscribed: nothing
    push.subscribe(db, who(app, shop.id), fake_subscription())

    assert send_reminders(db, shop.id, now) == Reminded(expiring=1, messages=1)
    [job] = webpush_jobs(app)
    day = (now + timedelta(days=3)).astimezone(ZoneInfo("Europe/Moscow"))
    assert job.payload["body"] == (f"{day:%d.%m} сгорят 120 баллов."
                                   " Потратьте их при следующем визите.")
    assert job.purpose == "service"
    assert send_reminders(db, shop.id, now) == Reminded()  # the same lot: once

    ledger.accrue(db, system, "push-lot-2", customer_id=cid, points=30,
                  expires_at=now + timedelta(days=6))
    ledger.accrue(db, system, "push-lot-3", customer_id=cid, points=1,
                  expires_at=now + timedelta(days=30))  # not yet
    assert send_reminders(db, shop.id, now) == Reminded(expiring=1, messages=1)
    day = (now + timedelta(days=6)).astimezone(ZoneInfo("Europe/Moscow"))
    assert webpush_jobs(app)[-1].payload["body"] == (
        f"{day:%d.%m} сгорят 30 баллов. Потратьте их при следующем визите.")
    assert db.scalar(select(func.count(PushReminder.id))) == 2


def test_sleeping_customers_with_points_get_one_reminder_with_advertising_consent(
        app: Any, shop: SimpleNamespace, push_service: PushService) -> None:
    signed_in(app, shop.id, PHONE, advertising=True)
    signed_in(app, shop.id, SECOND_PHONE)  # no advertising consent
    db = app.test_session()
    browsers = {}
    for phone in (PHONE, SECOND_PHONE):
        cid = customer_id(app, shop.id, phone)
        browsers[cid] = push_service.subscribe()
        push.subscribe(db, who(app, shop.id, phone), browsers[cid], allow_local=True)
        _close(app, shop, cid, f"push-sleep-{cid}")
    db.execute(OutboxMessage.__table__.delete().where(OutboxMessage.kind == push_messages.KIND))
    db.commit()
    ivan_id = customer_id(app, shop.id)

    later = utcnow() + timedelta(days=119)
    assert send_reminders(db, shop.id, later) == Reminded()  # not asleep yet
    later = utcnow() + timedelta(days=121)
    assert send_reminders(db, shop.id, later) == Reminded(sleeping=1, messages=1)
    [job] = webpush_jobs(app)
    assert job.customer_id == ivan_id and job.purpose == "advertising"
    assert send_reminders(db, shop.id, later + timedelta(days=30)) == Reminded()

    job.run_after = utcnow()
    db.commit()
    assert work(app) == outbox.Summary(sent=1)
    [message] = push_service.messages(browsers[ivan_id]["clientHash"])
    balance = balances.balance(db, Actor.system(shop.id), ivan_id).available
    assert message["body"] == sleeping_text(balance)
    assert message["body"].startswith(f"Давно вас не видели! На вашем счёте {balance} балл")

    # A new absence after a new visit is a new period; consent withdrawn since the
    # reminder was queued stops it at the outbox.
    _close(app, shop, ivan_id, "push-sleep-again")
    assert send_reminders(db, shop.id, utcnow() + timedelta(days=200)) == Reminded(
        sleeping=1, messages=1)
    consents.record(db, ivan_id, ConsentKind.ADVERTISING, False, channel="pwa", ip=None,
                    now=utcnow())
    db.commit()
    assert work(app) == outbox.Summary(sent=1, failed=1)  # the close's own message is sent
    assert webpush_jobs(app)[-1].last_error == "no advertising consent"
    bodies = [m["body"] for m in push_service.messages(browsers[ivan_id]["clientHash"])]
    assert len(bodies) == 2 and bodies[1].startswith("Начислено")
    assert push_service.messages(browsers[customer_id(app, shop.id, SECOND_PHONE)]
                                 ["clientHash"]) == []


def test_remind_needs_a_known_business(app: Any) -> None:
    with pytest.raises(NotFound):
        remind(app.test_session(), 987_654, utcnow())


# -- settings, page and CLI ---------------------------------------------------------


def _settings(**values: Any) -> push_settings.PushSettings | None:
    return push_settings.load_settings({"VAPID_PRIVATE_KEY": KEYS[0], "VAPID_PUBLIC_KEY": KEYS[1],
                               "VAPID_SUBJECT": SUBJECT, **values})


@pytest.mark.parametrize(("values", "named"), [
    ({"VAPID_PUBLIC_KEY": ""}, "REGULARS_VAPID_PUBLIC_KEY"),
    ({"VAPID_PRIVATE_KEY": "c2hvcnQ"}, "REGULARS_VAPID_PRIVATE_KEY"),
    ({"VAPID_PUBLIC_KEY": push_settings.new_keys()[1]}, "does not belong"),
    ({"VAPID_SUBJECT": ""}, "REGULARS_VAPID_SUBJECT"),
    ({"VAPID_SUBJECT": "admin@example.ru"}, "REGULARS_VAPID_SUBJECT"),
    ({"SLEEPING_AFTER_DAYS": "soon"}, "REGULARS_SLEEPING_AFTER_DAYS"),
    ({"SLEEPING_AFTER_DAYS": 3}, "REGULARS_SLEEPING_AFTER_DAYS"),
])
def test_wrong_settings_name_the_setting(values: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        _settings(**values)


def test_settings_without_keys_turn_push_off() -> None:
    assert push_settings.load_settings({}) is None
    assert push_settings.load_settings({"VAPID_SUBJECT": SUBJECT,
                                        "SLEEPING_AFTER_DAYS": "90"}) is None
    on = _settings(SLEEPING_AFTER_DAYS="90", PUSH_ALLOW_LOCAL="1")
    assert on is not None and on.sleeping_after == timedelta(days=90) and on.allow_local
    assert on.public_key == KEYS[1] and KEYS[0] not in repr(on)
    assert not (_settings() or on).allow_local


def test_the_partial_offers_push_only_when_it_is_on(app: Any, shop: SimpleNamespace,
                                                    database_url: str, tmp_path: Path) -> None:
    with app.test_request_context(f"/c/{shop.id}/"):
        html = render_template("customer/_push.html", business_id=shop.id)
    assert f'data-key="{KEYS[1]}"' in html and "Уведомления о баллах" in html
    assert f'data-subscribe="/c/{shop.id}/push/subscribe"' in html
    assert 'src="/static/js/push.js"' in html and "<script>" not in html
    # The script's messages come translated from the server, "%s" left for the error.
    assert 'data-text-failed="Не получилось: %s. Попробуйте ещё раз."' in html
    with app.test_request_context(f"/c/{shop.id}/?lang=en"):
        english = render_template("customer/_push.html", business_id=shop.id)
    assert "Notifications about points" in english
    assert 'data-text-failed="That did not work: %s. Please try again."' in english

    from webapp.app import create_app

    off = create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path / "off"),
                      "SECRET_KEY": "test-secret-" + "x" * 40, "TESTING": True,
                      "WTF_CSRF_ENABLED": False})
    with off.test_request_context(f"/c/{shop.id}/"):
        assert render_template("customer/_push.html", business_id=shop.id).strip() == ""
    assert off.test_client().post(f"/c/{shop.id}/push/subscribe", json={}).status_code == 404
    with off.app_context():
        assert senders() == {}
    assert off.test_cli_runner().invoke(push_group, ["remind", "--business", str(shop.id)]
                                        ).output.startswith("Web push is off")


def test_the_cli_prints_keys_and_queues_reminders(app: Any, shop: SimpleNamespace) -> None:
    runner = app.test_cli_runner()
    printed: Result = runner.invoke(push_group, ["keys"])
    assert printed.exit_code == 0, printed.output
    pairs = dict(line.split("=", 1) for line in printed.output.splitlines()[:2])
    printed_keys = {name.removeprefix("REGULARS_"): value for name, value in pairs.items()}
    assert set(printed_keys) == {"VAPID_PRIVATE_KEY", "VAPID_PUBLIC_KEY"}
    assert push_settings.load_settings({**printed_keys, "VAPID_SUBJECT": SUBJECT}) is not None

    done = runner.invoke(push_group, ["remind", "--business", str(shop.id)])
    assert done.exit_code == 0, done.output
    assert "Reminders queued: 0 about expiring points" in done.output
    missing = runner.invoke(push_group, ["remind", "--business", "987654"])
    assert missing.exit_code != 0 and "Компания не найдена." in missing.output
    with app.app_context():
        assert set(senders()) == {push_messages.KIND}  # what `regulars worker` adds for push
