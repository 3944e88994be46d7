"""Abuse flags written: one per (business, kind, subject, window), brought back when
its limit keeps being crossed after it was resolved. The checks that decide what is
crossed are :mod:`webapp.services.abuse.checks` and :mod:`webapp.services.abuse.adjustments`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import ScalarSelect

from webapp.domain.abuse import Crossing, Kind, Verdict
from webapp.domain.actor import Actor
from webapp.persistence.models import AbuseFlag
from webapp.services.staff import audit

# A flag's status as read ahead of time, by (kind, subject, window): "open", "resolved",
# or None (no flag yet). See :func:`status_of`.
Known = dict[tuple[str, str, str], str | None]


def record_crossings(
    session: Session,
    actor: Actor,
    verdict: Verdict,
    *,
    customer_id: int | None,
    staff_id: int | None,
    now: datetime,
    extra: dict[str, int],
    known: Known | None = None,
) -> None:
    """Record each crossing of the verdict (:func:`record`; no commit). ``known`` holds
    the statuses of flags the caller read in its own statement (:func:`status_of`):
    an open one needs no statement here, a missing one goes straight to the insert."""
    for crossing in verdict.crossings:
        record(
            session,
            actor,
            crossing,
            customer_id=customer_id,
            staff_id=staff_id,
            now=now,
            extra=extra,
            known=known,
        )


def status_of(kind: Kind, subject: str, window: str) -> ScalarSelect[str]:
    """The status of the business's flag of ``kind`` for the subject and window bound
    to the parameters so named (and ``business_id``), NULL if there is none: a scalar
    subquery for a statement the caller runs anyway."""
    return select(_FLAGS.c.status).where(
        _FLAGS.c.business_id == bindparam("business_id"), _FLAGS.c.kind == kind.value,
        _FLAGS.c.subject == bindparam(subject), _FLAGS.c.window == bindparam(window),
    ).scalar_subquery()


def record(
    session: Session,
    actor: Actor,
    crossing: Crossing,
    *,
    customer_id: int | None,
    staff_id: int | None,
    now: datetime,
    extra: dict[str, int],
    known: Known | None = None,
) -> None:
    """Record one crossing (no commit): insert the flag unless its (business, kind,
    subject, window) already has one; bring that one back if it was resolved and this
    crossing is worse (:func:`_reopen`).

    The flag is looked up first (or was, in ``known``): once a window's limit is
    crossed, every later crossing in it finds its flag, so that is one statement (none
    if ``known`` says it is open). A new flag is ``INSERT ... ON
    CONFLICT DO NOTHING`` (both engines): a flag raised meanwhile by a concurrent action
    is then read again and treated like one found, and the close's transaction is not
    aborted.
    """
    key = {"business_id": actor.business_id, "kind": crossing.kind.value,
           "subject": crossing.subject, "window": crossing.window}
    status = (known or {}).get((crossing.kind.value, crossing.subject, crossing.window), "?")
    if status == "open":
        return  # read in the caller's statement: nothing to record, nothing to reopen
    details = json.dumps({**crossing.details(), **extra}, sort_keys=True)
    flag = session.execute(_FLAG, key).first() if status is not None else None
    if flag is None:
        inserted = session.execute(_insert(session.get_bind().dialect.name), {
            **key, "customer_id": customer_id, "staff_id": staff_id,
            "branch_id": actor.branch_id, "details": details, "status": "open",
            "raised_at": now, "resolved_by": None, "resolved_at": None, "resolution": None,
        }).first()
        if inserted is not None:
            return
        flag = session.execute(_FLAG, key).first()
    _reopen(session, actor, crossing, details, now, flag)


def _reopen(session: Session, actor: Actor, crossing: Crossing, details: str,
            now: datetime, flag: Any) -> None:
    """A resolved flag whose limit keeps being crossed in its window comes back open
    with the new numbers (the resolution stays in the audit trail: the resolve event,
    and this reopen event with what it replaced).

    Compare-and-set on (status, details): of concurrent reopeners exactly one updates
    the row (PostgreSQL re-checks the WHERE after waiting on the row; SQLite
    serialises writers), and a flag resolved again meanwhile is not overwritten blind.
    """
    if flag is None or flag.status != "resolved":
        return
    recorded = json.loads(flag.details or "{}").get("count")
    if not crossing.reopens(recorded):
        return
    done = session.execute(
        update(_FLAGS)
        .where(_FLAGS.c.id == flag.id, _FLAGS.c.status == "resolved",
               _FLAGS.c.details == flag.details)
        .values(status="open", details=details, raised_at=now, resolved_by=None,
                resolved_at=None, resolution=None))
    if not done.rowcount:  # type: ignore[attr-defined]
        return
    audit.record(session, actor, "abuse_flag.reopen", customer_id=flag.customer_id, at=now,
                 details={"flag_id": flag.id, "kind": crossing.kind.value,
                          "count": crossing.count, "recorded_count": recorded,
                          "raised_at": flag.raised_at, "resolved_by": flag.resolved_by,
                          "resolved_at": flag.resolved_at, "resolution": flag.resolution})


_FLAGS = cast(Table, AbuseFlag.__table__)
# Built once (module level): building them per crossing cost more than running them.
_FLAG = select(
    _FLAGS.c.id, _FLAGS.c.status, _FLAGS.c.details, _FLAGS.c.customer_id,
    _FLAGS.c.raised_at, _FLAGS.c.resolved_by, _FLAGS.c.resolved_at, _FLAGS.c.resolution,
).where(_FLAGS.c.business_id == bindparam("business_id"),
        _FLAGS.c.kind == bindparam("kind"), _FLAGS.c.subject == bindparam("subject"),
        _FLAGS.c.window == bindparam("window"))
_INSERTS = {
    "postgresql": postgresql.insert(_FLAGS).on_conflict_do_nothing().returning(_FLAGS.c.id),
    "sqlite": sqlite.insert(_FLAGS).on_conflict_do_nothing().returning(_FLAGS.c.id),
}


def _insert(dialect: str) -> Any:
    """The engine's ``INSERT ... ON CONFLICT DO NOTHING RETURNING id`` of a flag."""
    return _INSERTS["postgresql" if dialect == "postgresql" else "sqlite"]
