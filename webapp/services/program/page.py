"""The owner's "Программа" page: what it shows, the live preview, and saving a version.

Everything the page displays (the rule sentence, warnings, the cost estimate) is
computed here, on the server; the page script only sends the form and shows the answer.
Showing the page and the preview is one read scope of the unit of work each
(:mod:`webapp.services.unit_of_work`); saving is a read of the business, then the
keyed write of :func:`webapp.services.program.versions.save`.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from webapp.domain.actor import Actor, Role
from webapp.domain.errors import NotFound, PermissionDenied
from webapp.domain.presets import TITLES
from webapp.domain.program import InvalidSetting, ProgramSettings
from webapp.domain.rules_text import describe, warning_text
from webapp.domain.simulation import estimate_text
from webapp.persistence.models import Business
from webapp.services.program import form as program_form
from webapp.services.program import versions as programs
from webapp.services.program.simulation import estimate_for_business
from webapp.services.unit_of_work import UnitOfWork, Work, reads

LANG = "ru"


@dataclass(frozen=True)
class Preview:
    sentence: str
    details: list[str]
    warnings: list[str]
    estimate: list[str]


@dataclass(frozen=True)
class HistoryRow:
    version: int
    preset: str
    effective_from: str
    created_at: str
    sentence: str


@dataclass(frozen=True)
class Page:
    business_name: str
    preset: str
    presets: list[tuple[str, str]]  # (name, Russian title)
    values: dict[str, Any]
    preview: Preview | None
    history: list[HistoryRow]
    idempotency_key: str
    error: str | None = None


@dataclass(frozen=True)
class _Business:
    name: str
    currency: str
    timezone: str


@reads
def page(session: Session, actor: Actor, preset_name: str | None = None) -> Page:
    """The page: the requested preset's values, or the current version's, or the default."""
    _owner(actor)
    business = _business(session, actor)
    current = programs.current(session, actor)
    if preset_name is None and current is not None:
        name, settings = program_form.preset_name(current.preset), current.settings
    else:
        name = program_form.preset_name(preset_name)
        settings = programs.preset(name)
    return Page(business.name, name, _presets(), program_form.values(settings),
                _preview(session, actor, settings, business), _history(session, actor, business),
                secrets.token_urlsafe(24))


@reads
def page_with_error(session: Session, actor: Actor, form: Mapping[str, Any],
                    error: str) -> Page:
    """The page again after a refused save: the submitted values, the message, same key."""
    _owner(actor)
    business = _business(session, actor)
    try:
        shown: Preview | None = preview(session, actor, form)
    except InvalidSetting:
        shown = None
    key = str(form.get("idempotency_key") or "") or secrets.token_urlsafe(24)
    return Page(business.name, program_form.preset_name(str(form.get("preset") or "")),
                _presets(), program_form.echo(form), shown,
                _history(session, actor, business), key, error)


def _presets() -> list[tuple[str, str]]:
    return [(key, titles[0]) for key, titles in TITLES.items()]


def _history(session: Session, actor: Actor, business: _Business) -> list[HistoryRow]:
    return [HistoryRow(v.version, _title(v.preset), _local(v.effective_from, business),
                       _local(v.created_at, business),
                       describe(v.settings, LANG, business.currency).sentence)
            for v in programs.history(session, actor)]


@reads
def preview(session: Session, actor: Actor, form: Mapping[str, Any]) -> Preview:
    """The rule sentence, warnings and cost estimate for an unsaved form (InvalidSetting)."""
    _owner(actor)
    business = _business(session, actor)
    parsed = program_form.parse(form, business.timezone)
    settings, _ = programs.parse(parsed.settings)
    return _preview(session, actor, settings, business)


def save(session: Work, actor: Actor, form: Mapping[str, Any]) -> int:
    """Save the form as the next version; the same form key twice saves it once."""
    work = UnitOfWork.of(session)
    with work.read() as db:
        business = _business(db, actor)
    parsed = program_form.parse(form, business.timezone)
    key = str(form.get("idempotency_key") or "")
    result = programs.save(work, actor, key, settings=parsed.settings,
                           preset_name=parsed.preset, effective_from=parsed.effective_from)
    return int(result["version"])


def _preview(session: Session, actor: Actor, settings: ProgramSettings,
             business: _Business) -> Preview:
    _, warnings = programs.parse(settings)
    text = describe(settings, LANG, business.currency)
    _, estimate = estimate_for_business(session, actor, settings)
    return Preview(text.sentence, list(text.details),
                   [warning_text(w, LANG) for w in warnings],
                   list(estimate_text(estimate, LANG, business.currency)))


def _owner(actor: Actor) -> None:
    if not actor.is_at_least(Role.OWNER):
        raise PermissionDenied("Only the owner can change the program.")


def _business(session: Session, actor: Actor) -> _Business:
    row = session.get(Business, actor.business_id)
    if row is None:
        raise NotFound("No such business.")
    return _Business(row.name, row.currency, row.timezone)


def _title(preset: str | None) -> str:
    return TITLES[preset][0] if preset in TITLES else "Своя"


def _local(moment: datetime, business: _Business) -> str:
    return moment.astimezone(ZoneInfo(business.timezone)).strftime("%d.%m.%Y %H:%M")
