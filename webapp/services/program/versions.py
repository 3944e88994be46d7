"""Program versions: save a new version effective now or later, read what applies when.

A version is never edited: a change is a new version from its effective time, so
orders closed before keep the rules they were quoted with (they record the version).
Saving is a keyed write (:func:`webapp.services.unit_of_work.run_once`); reading the
current version and the history are read scopes; :func:`version_at` and :func:`by_id`
run in their caller's transaction (the close and the quote ask them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select
from sqlalchemy.orm import Session

from webapp.domain import program
from webapp.domain.actor import Actor, Role
from webapp.domain.clock import utcnow
from webapp.domain.errors import PermissionDenied
from webapp.domain.presets import PRESETS
from webapp.domain.program import InvalidSetting, ProgramSettings, Warning
from webapp.persistence.models import ProgramVersion
from webapp.services.notify import wallet_updates
from webapp.services.program import categories
from webapp.services.unit_of_work import UnitOfWork, Work, reads, run_once

# A form opened a minute ago still says "now": allow that much clock skew.
PAST_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class Version:
    id: int
    version: int
    preset: str | None
    settings: ProgramSettings
    effective_from: datetime
    created_at: datetime
    created_by: int | None


def parse(data: dict[str, Any] | ProgramSettings) -> tuple[ProgramSettings, list[Warning]]:
    """Settings from submitted JSON (or as they are), validated; warnings for costly ones."""
    settings = data if isinstance(data, ProgramSettings) else program.from_dict(data)
    return settings, program.validate(settings)


def preset(name: str) -> ProgramSettings:
    """A preset by name; InvalidSetting naming the choices otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        raise InvalidSetting("unknown_preset_choice", field="preset", preset=name,
                             choices=", ".join(PRESETS)) from None


def save(session: Work, actor: Actor, key: str, *, settings: dict[str, Any] | ProgramSettings,
         preset_name: str | None = None, effective_from: datetime | None = None,
         now: datetime | None = None) -> dict[str, Any]:
    """Save the settings as the next version (owner only); nothing is saved if invalid.

    A write scope keyed by ``key``: the same request twice saves one version."""
    if not actor.is_at_least(Role.OWNER):
        raise PermissionDenied("program_owner_only")
    parsed, warnings = parse(settings)
    if preset_name is not None and preset_name not in PRESETS:
        raise InvalidSetting("unknown_preset", field="preset", preset=preset_name)
    now = now or utcnow()
    starts = effective_from or now
    if starts < now - PAST_TOLERANCE:
        raise InvalidSetting("past_start", field="effective_from")
    stored = program.to_dict(parsed)
    # "Start now" is the request, not the clock reading: a resubmitted form matches.
    params = {"settings": stored, "preset": preset_name,
              "from": effective_from.isoformat() if effective_from else "now"}
    uow = UnitOfWork.of(session)

    def work() -> dict[str, Any]:
        db = uow.session  # inside run_once's write scope
        number = (db.scalar(select(func.max(ProgramVersion.version)).where(
            ProgramVersion.business_id == actor.business_id)) or 0) + 1
        version_id = db.execute(insert(ProgramVersion).returning(ProgramVersion.id), {
            "business_id": actor.business_id, "version": number, "preset": preset_name,
            "settings": json.dumps(stored, ensure_ascii=False, sort_keys=True),
            "effective_from": starts, "created_at": now, "created_by": actor.staff_id,
        }).scalar_one()
        # A stamp card's category joins the business's list if it is new (named by the card).
        categories.add_for_stamp_cards(db, actor, [(card.category, card.title)
                                                   for card in parsed.stamp_cards])
        # Every pass states the rules (and tiers, rates): the wallets fetch them anew.
        wallet_updates.business_changed(db, actor.business_id, now)
        return {"version_id": version_id, "version": number,
                "effective_from": starts.isoformat(),
                "warnings": [w.code for w in warnings]}

    return run_once(uow, actor.business_id, key, "program.save", params, work)


_versions = cast(Table, ProgramVersion.__table__)
# Built once, on the table: every close and quote asks it (no ORM object is needed).
_AT = (
    select(_versions.c.id, _versions.c.version, _versions.c.preset, _versions.c.settings,
           _versions.c.effective_from, _versions.c.created_at, _versions.c.created_by)
    .where(_versions.c.business_id == bindparam("business_id"),
           _versions.c.effective_from <= bindparam("at"))
    .order_by(_versions.c.effective_from.desc(), _versions.c.version.desc())
    .limit(1)
)


# The same choice as a scalar subquery (bound by ``business_id`` and ``at``), with the
# columns :func:`from_columns` takes: for a statement that joins the version in force
# to what it reads anyway (the close's lock), saving :func:`version_at`'s round trip.
VERSIONS = _versions
IN_FORCE_ID = (
    select(_versions.c.id)
    .where(_versions.c.business_id == bindparam("business_id"),
           _versions.c.effective_from <= bindparam("at"))
    .order_by(_versions.c.effective_from.desc(), _versions.c.version.desc())
    .limit(1)
    .scalar_subquery()
)
COLUMNS = (_versions.c.id, _versions.c.version, _versions.c.preset, _versions.c.settings,
           _versions.c.effective_from, _versions.c.created_at, _versions.c.created_by)


def version_at(session: Session, business_id: int, at: datetime) -> Version | None:
    """The version in force at ``at`` (the latest that started by then), if any."""
    row = session.execute(_AT, {"business_id": business_id, "at": at}).first()
    if row is None:
        return None
    return from_columns(*row)


def from_columns(version_id: int | None, number: int, preset: str | None, settings: str,
                 effective_from: datetime, created_at: datetime,
                 created_by: int | None) -> Version | None:
    """A version from :data:`COLUMNS`' values (None when the id is: no version joined)."""
    if version_id is None:
        return None
    return Version(version_id, number, preset, _settings(settings), effective_from,
                   created_at, created_by)


@reads
def current(session: Session, actor: Actor, at: datetime | None = None) -> Version | None:
    """The version in force now (or at ``at``) for the actor's business."""
    return version_at(session, actor.business_id, at or utcnow())


@reads
def history(session: Session, actor: Actor) -> list[Version]:
    """Every version of the business, newest first (read-only, for the owner page)."""
    rows = session.scalars(
        select(ProgramVersion).where(ProgramVersion.business_id == actor.business_id)
        .order_by(ProgramVersion.version.desc())
    ).all()
    return [_version(row) for row in rows]


def by_id(session: Session, business_id: int, version_id: int) -> Version:
    """One version of the business (InvalidSetting for another's), in the caller's
    transaction."""
    row = session.get(ProgramVersion, version_id)
    if row is None or row.business_id != business_id:
        raise InvalidSetting("unknown_program_version", field="version")
    return _version(row)


def _version(row: ProgramVersion) -> Version:
    return Version(row.id, row.version, row.preset, _settings(row.settings),
                   row.effective_from, row.created_at, row.created_by)


@lru_cache(maxsize=256)
def _settings(stored: str) -> ProgramSettings:
    """Parsed settings, cached by the stored JSON text itself.

    A version is never edited, so its text always parses to the same (frozen) settings;
    keying by the text rather than the row id stays right across databases and ids a
    rolled-back transaction handed out again. A malformed text raises every time.
    """
    return program.from_dict(json.loads(stored))
