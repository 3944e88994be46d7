"""The outbox: written with the change that caused it, delivered at least once, retried
with growing delays, never advertising without consent, shared between workers."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tests.conftest import T0
from webapp.persistence.models import Business, Consent, Customer, OutboxMessage
from webapp.services.notify import outbox
from webapp.services.notify.outbox import Summary


class Recorder:
    """A sender that keeps what it was given (and can be told to fail)."""

    def __init__(self, fail_with: BaseException | None = None) -> None:
        self.payloads: list[Mapping[str, Any]] = []
        self.fail_with = fail_with

    def __call__(self, payload: Mapping[str, Any]) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.payloads.append(payload)


def _messages(session: Session) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _consent(session: Session, customer: Customer, granted: bool) -> None:
    session.add(Consent(business_id=customer.business_id, customer_id=customer.id,
                        kind="advertising", granted=granted,
                        text_version="ad-test", channel="pwa", at=T0))
    session.commit()


def test_enqueue_commits_and_rolls_back_with_its_transaction(session: Session) -> None:
    outbox.enqueue_sms(session, phone="+79161234567", text="не уйдёт")
    session.rollback()
    assert _messages(session) == []
    outbox.enqueue_sms(session, phone="+79161234567", text="уйдёт", run_after=T0)
    session.commit()
    [message] = _messages(session)
    assert (message.kind, message.status, message.purpose, message.attempts) == (
        "sms", "pending", "service", 0)
    assert message.payload == {"phone": "+79161234567", "text": "уйдёт"}


def test_enqueue_refuses_an_unknown_purpose(session: Session) -> None:
    with pytest.raises(ValueError, match="purpose"):
        outbox.enqueue(session, kind="sms", payload={}, purpose="spam")


def test_a_successful_send_marks_the_message_sent(session: Session) -> None:
    outbox.enqueue_sms(session, phone="+79161234567", text="Ваш автомобиль готов",
                       run_after=T0)
    session.commit()
    sms = Recorder()
    assert outbox.run_once(session, {"sms": sms}, now=T0) == Summary(sent=1)
    [message] = _messages(session)
    assert message.status == "sent" and message.sent_at is not None
    assert message.last_error is None
    assert sms.payloads == [{"phone": "+79161234567", "text": "Ваш автомобиль готов"}]


def test_messages_go_oldest_first_and_not_before_they_are_due(session: Session) -> None:
    for minutes, text in ((2, "third"), (0, "first"), (1, "second"), (10, "later")):
        outbox.enqueue_sms(session, phone="+79161234567", text=text,
                           run_after=T0 + timedelta(minutes=minutes))
    session.commit()
    sms = Recorder()
    assert outbox.run_once(session, {"sms": sms}, now=T0 + timedelta(minutes=5),
                           limit=2) == Summary(sent=2)
    assert outbox.run_once(session, {"sms": sms}, now=T0 + timedelta(minutes=5)) == Summary(
        sent=1)
    assert [p["text"] for p in sms.payloads] == ["first", "second", "third"]


def test_a_failing_sender_is_retried_with_growing_delays_then_given_up(
        session: Session) -> None:
    outbox.enqueue_sms(session, phone="+79161234567", text="x", run_after=T0)
    session.commit()
    senders = {"sms": Recorder(fail_with=RuntimeError("gateway down"))}
    now, delays = T0, []
    for _ in range(outbox.MAX_ATTEMPTS - 1):
        assert outbox.run_once(session, senders, now=now) == Summary(retried=1)
        [message] = _messages(session)
        assert message.status == "pending"
        assert message.last_error == "RuntimeError: gateway down"
        # Not due yet: a run a moment before run_after leaves it alone.
        assert outbox.run_once(session, senders,
                               now=message.run_after - timedelta(seconds=1)) == Summary()
        delays.append(message.run_after - now)
        now = message.run_after
    assert all(a < b for a, b in itertools.pairwise(delays))
    assert timedelta(seconds=10) <= delays[0] <= timedelta(seconds=11)
    assert outbox.run_once(session, senders, now=now) == Summary(failed=1)
    [message] = _messages(session)
    assert (message.status, message.attempts) == ("failed", outbox.MAX_ATTEMPTS)
    assert outbox.run_once(session, senders, now=now + timedelta(days=1)) == Summary()


def test_backoff_is_capped_at_an_hour() -> None:
    assert outbox.backoff(30) <= timedelta(hours=1, minutes=6)
    assert outbox.backoff(30) >= timedelta(hours=1)


def test_a_kind_without_a_sender_is_a_failed_attempt_not_a_crash(session: Session) -> None:
    outbox.enqueue(session, kind="pigeon", payload={"to": "roof"}, run_after=T0)
    session.commit()
    assert outbox.run_once(session, {"sms": Recorder()}, now=T0) == Summary(retried=1)
    [message] = _messages(session)
    assert message.status == "pending" and message.attempts == 1
    assert message.last_error == "no sender for kind 'pigeon'"


def test_a_malformed_sms_payload_is_a_failed_attempt(session: Session) -> None:
    outbox.enqueue(session, kind="sms", payload={"phone": "+79161234567"}, run_after=T0)
    session.commit()
    sent: list[tuple[str, str]] = []

    class Gateway:
        def send(self, phone: str, text: str) -> None:
            sent.append((phone, text))

    assert outbox.run_once(session, {"sms": outbox.sms_sender(Gateway())},
                           now=T0) == Summary(retried=1)
    assert sent == [] and "'phone' and 'text'" in (_messages(session)[0].last_error or "")


def test_advertising_needs_the_customers_current_consent(
        session: Session, business: Business,
        make_customer: Callable[..., Customer]) -> None:
    never, granted, withdrawn = (make_customer(business) for _ in range(3))
    _consent(session, granted, True)
    _consent(session, withdrawn, True)
    _consent(session, withdrawn, False)
    for customer in (never, granted, withdrawn):
        outbox.enqueue_sms(session, phone=customer.phone, text="Скидка 20 % в субботу",
                           purpose="advertising", business_id=business.id,
                           customer_id=customer.id, run_after=T0)
    # A service message needs no advertising consent.
    outbox.enqueue_sms(session, phone=never.phone, text="Заказ готов", business_id=business.id,
                       customer_id=never.id, run_after=T0)
    session.commit()
    sms = Recorder()
    assert outbox.run_once(session, {"sms": sms}, now=T0) == Summary(sent=2, failed=2)
    assert sorted((p["phone"], p["text"]) for p in sms.payloads) == sorted(
        [(granted.phone, "Скидка 20 % в субботу"), (never.phone, "Заказ готов")])
    outcome = {(m.customer_id, m.purpose): (m.status, m.last_error)
               for m in _messages(session)}
    for customer in (never, withdrawn):
        assert outcome[customer.id, "advertising"] == ("failed", "no advertising consent")
    assert outcome[granted.id, "advertising"] == ("sent", None)


def test_a_message_is_never_sent_twice(session: Session) -> None:
    for n in range(3):
        outbox.enqueue_sms(session, phone="+79161234567", text=f"m{n}", run_after=T0)
    session.commit()
    sms = Recorder()
    assert outbox.run_once(session, {"sms": sms}, now=T0) == Summary(sent=3)
    assert outbox.run_once(session, {"sms": sms}, now=T0 + timedelta(days=30)) == Summary()
    assert [p["text"] for p in sms.payloads] == ["m0", "m1", "m2"]


class Crash(BaseException):
    """The worker dies (kill -9, power cut) in the middle of a batch."""


def test_a_crash_mid_batch_loses_nothing_and_resends_nothing_committed(
        session: Session) -> None:
    for n in range(3):
        outbox.enqueue_sms(session, phone="+79161234567", text=f"m{n}", run_after=T0)
    session.commit()
    delivered: list[str] = []

    def dies_on_the_second(payload: Mapping[str, Any]) -> None:
        if payload["text"] == "m1":
            raise Crash
        delivered.append(payload["text"])

    with pytest.raises(Crash):
        outbox.run_once(session, {"sms": dies_on_the_second}, now=T0)
    assert [m.status for m in _messages(session)] == ["sent", "pending", "pending"]
    # Leased rows stay with the dead worker until the lease runs out, then come back.
    assert outbox.run_once(session, {"sms": Recorder()}, now=T0 + timedelta(minutes=1)) == (
        Summary())
    sms = Recorder()
    assert outbox.run_once(session, {"sms": sms}, now=T0 + outbox.LEASE) == Summary(sent=2)
    assert delivered == ["m0"] and [p["text"] for p in sms.payloads] == ["m1", "m2"]


def test_a_batch_out_of_time_gives_the_rest_back_unsent(
        session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(3):
        outbox.enqueue_sms(session, phone="+79161234567", text=f"m{n}", run_after=T0)
    session.commit()
    clock = [0.0]
    monkeypatch.setattr(outbox.time, "monotonic", lambda: clock[0])

    def slow(payload: Mapping[str, Any]) -> None:
        clock[0] += outbox.LEASE.total_seconds()  # one send eats the whole lease

    assert outbox.run_once(session, {"sms": slow}, now=T0) == Summary(sent=1)
    rest = _messages(session)[1:]
    assert [(m.status, m.run_after) for m in rest] == [("pending", T0)] * 2


def test_concurrent_workers_send_each_message_exactly_once(fresh_engine: Engine) -> None:
    with Session(fresh_engine) as db:
        for n in range(40):
            outbox.enqueue_sms(db, phone="+79161234567", text=f"m{n}", run_after=T0)
        db.commit()
    sent: Counter[str] = Counter()
    lock = threading.Lock()
    errors: list[BaseException] = []

    def send(payload: Mapping[str, Any]) -> None:
        time.sleep(0.002)  # long enough for the other worker to come in between
        with lock:
            sent[payload["text"]] += 1

    def work() -> None:
        try:
            with Session(fresh_engine, expire_on_commit=False) as db:
                while outbox.run_once(db, {"sms": send}, now=T0, limit=5).total:
                    pass
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    workers = [threading.Thread(target=work) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert errors == []
    assert sent == Counter({f"m{n}": 1 for n in range(40)})
    with Session(fresh_engine) as db:
        assert db.scalar(select(func.count()).where(OutboxMessage.status == "sent")) == 40


def test_postgresql_workers_claim_disjoint_rows(fresh_engine: Engine) -> None:
    if fresh_engine.dialect.name != "postgresql":
        pytest.skip("FOR UPDATE SKIP LOCKED is PostgreSQL's; SQLite has one writer at a time")
    with Session(fresh_engine) as db:
        for n in range(6):
            outbox.enqueue_sms(db, phone="+79161234567", text=f"m{n}", run_after=T0)
        db.commit()
    with Session(fresh_engine) as first, Session(fresh_engine) as second:
        mine = {m.id for m in outbox.claim(first, 4, T0)}
        theirs = {m.id for m in outbox.claim(second, 10, T0)}  # would block without SKIP
        assert len(mine) == 4 and len(theirs) == 2 and not mine & theirs
        first.rollback()
        again = {m.id for m in outbox.claim(first, 10, T0)}
        assert again == mine  # the first worker's rows are free again; the second's are not
        second.rollback()
        first.rollback()
