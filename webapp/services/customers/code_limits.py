"""How many sign-in codes may be texted: per phone, per address, and per business for
phones that are not its customers yet.

The counts are the codes of the last hour (``sign_in_codes``), checked and the new code
written in one write scope (:func:`counted`) that no other request for the same phone,
address or (for a newcomer) business can interleave with: SQLite's write transactions
start with BEGIN IMMEDIATE, so they are serialised already; PostgreSQL takes
transaction-scoped advisory locks on those keys before counting, so parallel requests
queue instead of all reading the same old count.

The business-wide cap is a ceiling on what SMS pumping through one business can cost.
It applies only to newcomers, so a flood from many addresses cannot lock the business's
customers out (they stay bounded per phone and per address); reaching it raises an
abuse flag for the owner, once per business and hour. The price: while the cap is
reached, a refusal tells that a phone is not a customer. The flood has to be paid for
first, 20 codes an address at most, and the owner is told. The flag is kept in a write
scope of its own, after the refused request's scope has rolled back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, exists, func, select, text
from sqlalchemy.orm import Session

from webapp.domain import abuse as rules
from webapp.domain.actor import Actor
from webapp.domain.one_time_codes import Purpose, TooManyCodes
from webapp.persistence.models import Business, Customer, SignInCode
from webapp.services.abuse import checks as abuse
from webapp.services.unit_of_work import UnitOfWork, Work

PER_PHONE_PER_HOUR = 5
PER_IP_PER_HOUR = 20
PER_BUSINESS_PER_HOUR = 300  # codes to phones that are not customers of the business yet
HOUR = timedelta(hours=1)


@contextmanager
def counted(work: Work) -> Iterator[Session]:
    """The write scope of a code request: :func:`check`'s locks and counts and the new
    code commit together. A refusal rolls it all back; when it was the business's cap,
    the owner's flag is then kept in a write scope of its own before the error goes on.
    """
    uow = UnitOfWork.of(work)
    try:
        with uow.write() as session:
            yield session
    except TooManyCodes as refused:
        if refused.flag is not None:
            business_id, crossing, now = refused.flag
            with uow.write() as session:
                abuse.record_alone(session, Actor.system(business_id), crossing, now=now)
        raise


def check(session: Session, business: Business, phone: str, source: str | None, *,
          known: bool, now: datetime) -> None:
    """Take the locks and check the limits for one more code to ``phone`` (E.164) from
    ``source`` (:func:`address_key`); ``known`` says the phone is a customer.

    Call it inside :func:`counted`: it returns with the locks held, and they end with
    that scope, which writes the code. Over a limit it raises :class:`TooManyCodes`
    (carrying the owner's flag when it is the business's cap), and the scope rolls back.
    """
    keys = [f"sign-in:phone:{business.id}:{phone}"]
    if source:
        keys.append(f"sign-in:address:{source}")
    if not known:
        keys.append(f"sign-in:newcomers:{business.id}")
    _lock(session, keys)
    recent = select(SignInCode.id).where(SignInCode.created_at > now - HOUR)
    by_phone = _count(session, recent.where(SignInCode.business_id == business.id,
                                            SignInCode.phone == phone), PER_PHONE_PER_HOUR)
    by_address = (_count(session, recent.where(SignInCode.ip == source), PER_IP_PER_HOUR)
                  if source else 0)
    if by_phone >= PER_PHONE_PER_HOUR or by_address >= PER_IP_PER_HOUR:
        raise TooManyCodes(purpose=Purpose.SIGN_IN)
    if known:
        return
    # Codes of the hour to phones that are still not customers (one who joined since
    # no longer counts: the cap is about numbers nobody uses).
    newcomers = _count(session, recent.where(
        SignInCode.business_id == business.id,
        ~exists().where(Customer.business_id == business.id, Customer.phone == SignInCode.phone),
    ), PER_BUSINESS_PER_HOUR)
    if newcomers >= PER_BUSINESS_PER_HOUR:
        # The refused request writes nothing but the owner's flag (after its rollback).
        refused = TooManyCodes(purpose=Purpose.SIGN_IN)
        refused.flag = (business.id, rules.sign_in_code_cap(
            business.id, count=newcomers, limit=PER_BUSINESS_PER_HOUR, now=now,
            zone=ZoneInfo(business.timezone)), now)
        raise refused


def _count(session: Session, rows: Select[Any], cap: int) -> int:
    """How many ``rows`` there are, counting no further than ``cap``."""
    return session.scalar(select(func.count()).select_from(rows.limit(cap).subquery())) or 0


def _lock(session: Session, keys: list[str]) -> None:
    """PostgreSQL: transaction advisory locks on ``keys``, always taken in the same
    (numeric) order so two requests sharing two keys cannot deadlock."""
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: BEGIN IMMEDIATE has serialised this transaction already
    for number in sorted(_lock_number(key) for key in keys):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": number})


def _lock_number(key: str) -> int:
    """A signed 64-bit number for a lock key (PostgreSQL's advisory lock space)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
