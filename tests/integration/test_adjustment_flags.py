"""Abuse flags after the review (finding D3), on both engines: nobody below the owner
resolves a flag about themselves, adjustment flags only the owner resolves, and a
resolved flag whose limit keeps being crossed in its window comes back."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import T0
from tests.integration.conftest import committed_staff
from tests.integration.test_adjustment_requests import REASON
from webapp.domain.abuse import Crossing, Kind
from webapp.domain.actor import Actor, Role
from webapp.domain.errors import PermissionDenied
from webapp.persistence.models import AbuseFlag, AuditEvent, Business, Customer
from webapp.services.abuse import flags as abuse_flags
from webapp.services.abuse import records as abuse_records
from webapp.services.ledger import adjustment_requests

Keys = Callable[[], str]
NOON = T0 + timedelta(hours=3)


def _flag(session: Session, kind: str, subject: str, staff_id: int | None,
          customer_id: int | None = None) -> int:
    business_id = session.scalar(select(Business.id))
    flag = AbuseFlag(business_id=business_id, kind=kind, subject=subject, window="2026-01-15",
                     customer_id=customer_id, staff_id=staff_id,
                     details=json.dumps({"count": 4, "limit": 3}), raised_at=NOON)
    session.add(flag)
    session.commit()
    return int(flag.id)


def _status(session: Session, flag_id: int) -> str:
    session.expire_all()
    found = session.scalar(select(AbuseFlag.status).where(AbuseFlag.id == flag_id))
    session.rollback()
    return str(found)


def test_a_manager_splitting_adjustments_cannot_clear_the_flag_and_it_comes_back(
    session: Session, manager: Actor, owner: Actor, business: Business, keys: Keys,
    make_staff: Callable[..., Actor], make_customer: Callable[..., Customer],
) -> None:
    """The review's proof of concept: one flag after 11 adjustments, resolved by the
    manager it was about, and nothing more for the next 29."""
    colleague = make_staff(business, Role.MANAGER)

    def adjust(n: int) -> None:
        for _ in range(n):
            adjustment_requests.submit(session, manager, keys(), points=5000, reason=REASON,
                                       customer_id=make_customer(business).id, now=NOON)

    adjust(11)
    (flag,) = abuse_flags.open_flags(session, owner)
    assert (flag.kind, flag.count, flag.staff_id) == ("staff_adjustments_day", 11,
                                                      manager.staff_id)
    for someone, why in ((manager, "own"), (colleague, "owner")):
        (seen,) = abuse_flags.open_flags(session, someone)
        assert seen.not_theirs == why
        with pytest.raises(PermissionDenied):
            abuse_flags.resolve(session, someone, flag.id, "Проверил, всё в порядке")
    assert _status(session, flag.id) == "open"
    abuse_flags.resolve(session, owner, flag.id, "Разрешил бонусы за задержку", now=NOON)
    assert _status(session, flag.id) == "resolved"

    adjust(29)
    (back,) = abuse_flags.open_flags(session, owner)
    assert (back.id, back.count) == (flag.id, 12)  # back at the very next one
    details = session.scalars(select(AuditEvent.details)
                              .where(AuditEvent.action == "abuse_flag.reopen")).all()
    assert len(details) == 1  # the later ones find it open: one flag per window
    assert json.loads(details[0])["resolution"] == "Разрешил бонусы за задержку"
    assert json.loads(details[0])["recorded_count"] == 11
    stored = session.get(AbuseFlag, flag.id, populate_existing=True)
    assert stored is not None and stored.resolution is None and stored.resolved_by is None


@pytest.mark.parametrize(
    ("kind", "about_them"),
    [("staff_accruals_hour", "subject"), ("customer_accruals_day", "raised_by"),
     ("joins_without_orders", "subject")],
)
def test_nobody_below_the_owner_resolves_a_flag_about_themselves(
    session: Session, manager: Actor, owner: Actor, business: Business, customer: Customer,
    make_staff: Callable[..., Actor], kind: str, about_them: str,
) -> None:
    subject = f"staff:{manager.staff_id}" if about_them == "subject" else f"customer:{customer.id}"
    flag_id = _flag(session, kind, subject, manager.staff_id, customer.id)
    with pytest.raises(PermissionDenied) as refused:
        abuse_flags.resolve(session, manager, flag_id, "Это я, всё нормально")
    assert refused.value.params["why"] == "own" and _status(session, flag_id) == "open"
    abuse_flags.resolve(session, make_staff(business, Role.MANAGER), flag_id,
                        "Разобрался вместо коллеги")
    assert _status(session, flag_id) == "resolved"
    own = _flag(session, "large_adjustment", "operation:7", owner.staff_id)
    abuse_flags.resolve(session, owner, own, "Моя корректировка, причина в заметке")
    assert _status(session, own) == "resolved"  # the owner resolves their own


def test_a_resolved_flag_stays_resolved_unless_the_count_grows(
    session: Session, owner: Actor, manager: Actor,
) -> None:
    crossing = Crossing(Kind.STAFF_ACCRUALS_HOUR, f"staff:{manager.staff_id}",
                        "2026-01-15", 4, 3)
    flag_id = _flag(session, crossing.kind.value, crossing.subject, manager.staff_id)
    abuse_flags.resolve(session, owner, flag_id, "Очередь на шиномонтаж, всё честно")
    for count in (4, 3):  # the same or fewer: what was resolved
        _record(session, manager, Crossing(crossing.kind, crossing.subject, crossing.window,
                                           count, 3))
        assert _status(session, flag_id) == "resolved"
    _record(session, manager, Crossing(crossing.kind, crossing.subject, "2026-01-16", 9, 3))
    assert _status(session, flag_id) == "resolved"  # another window: a flag of its own
    _record(session, manager, Crossing(crossing.kind, crossing.subject, crossing.window, 5, 3))
    assert _status(session, flag_id) == "open"


def _record(session: Session, actor: Actor, crossing: Crossing) -> None:
    abuse_records.record(session, actor, crossing, customer_id=None, staff_id=actor.staff_id,
                         now=NOON, extra={})
    session.commit()


@pytest.mark.slow
def test_concurrent_crossings_reopen_a_flag_once(fresh_engine: Engine) -> None:
    sessions = sessionmaker(bind=fresh_engine, expire_on_commit=False)
    with sessions() as db:
        actors = committed_staff(db, (Role.CASHIER, Role.OWNER))
        cashier, owner = actors[Role.CASHIER], actors[Role.OWNER]
        subject = f"staff:{cashier.staff_id}"
        first = Crossing(Kind.STAFF_ACCRUALS_HOUR, subject, "2026-01-15T15", 31, 30)
        _record(db, cashier, first)
        flag_id = db.scalar(select(AbuseFlag.id))
        assert flag_id is not None
        abuse_flags.resolve(db, owner, flag_id, "Акция дня, очередь")
    barrier = threading.Barrier(4)
    errors: list[Any] = []

    def cross(count: int) -> None:
        with sessions() as mine:
            barrier.wait()
            try:
                _record(mine, cashier, Crossing(first.kind, subject, first.window, count, 30))
            except Exception as error:  # collected, asserted below
                errors.append(error)

    threads = [threading.Thread(target=cross, args=(32 + i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    with sessions() as db:
        assert db.scalar(select(AbuseFlag.status)) == "open"
        reopened = db.scalars(select(AuditEvent.id)
                              .where(AuditEvent.action == "abuse_flag.reopen")).all()
        assert len(reopened) == 1
