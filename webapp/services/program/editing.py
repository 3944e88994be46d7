"""The owner editing the program: the program as the editor shows it, a draft's preview,
and saving a new version.

Everything the page displays (the rule sentence, warnings, the cost estimate, what the
change does to current customers) is computed here, on the server; the page script only
sends the form and shows the answer.
The form itself is read on the views' side (``staff/backoffice/program_form.py``): these
functions get settings, as :class:`Submission` when saving.
Showing the page and the preview is one read scope of the unit of work each
(:mod:`webapp.services.unit_of_work`); saving is a read of the business, then the
keyed write of :func:`webapp.services.program.versions.save`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from webapp.catalogue import gettext_for, words_for
from webapp.domain.actor import Actor, Role
from webapp.domain.errors import PermissionDenied
from webapp.domain.estimate_text import estimate_text
from webapp.domain.presets import TITLES, preset_or_default
from webapp.domain.program import InvalidSetting, ProgramSettings
from webapp.domain.program_change import impact_text
from webapp.domain.rules_text import describe, warning_text
from webapp.domain.simulation import DEFAULT_SMS_PRICE
from webapp.services.business import settings as counter_settings
from webapp.services.business.view import BusinessView, business_view
from webapp.services.program import categories
from webapp.services.program import versions as programs
from webapp.services.program.change_impact import read_impact
from webapp.services.program.simulation import estimate_for_business
from webapp.services.unit_of_work import UnitOfWork, Work, reads


@dataclass(frozen=True)
class Preview:
    sentence: str
    details: list[str]
    warnings: list[str]
    estimate: list[str]
    impact: list[str]  # what the change does to current customers, before it is saved


@dataclass(frozen=True)
class HistoryRow:
    version: int
    preset: str
    effective_from: str
    created_at: str
    sentence: str


@dataclass(frozen=True)
class Submission:
    """What the owner's form asks for, read by the view."""

    preset: str
    settings: dict[str, Any]  # program.from_dict shape, not yet validated
    starts_at: datetime | None  # None: now; without an offset: the business's local time
    idempotency_key: str


@dataclass(frozen=True)
class Editor:
    """What the owner edits: a preset's or the current version's settings, their preview,
    the versions so far, and the key a save will carry."""

    business_name: str
    preset: str
    presets: list[tuple[str, str]]  # (name, title in the reader's language)
    settings: ProgramSettings | None  # what the form shows; None: the refused submission
    preview: Preview | None
    history: list[HistoryRow]
    idempotency_key: str
    error: str | None = None
    # The business's categories a stamp card may count, named in the reader's language.
    categories: list[categories.Choice] = field(default_factory=list)
    sms_price_minor: int = DEFAULT_SMS_PRICE  # what the business pays for one SMS


@reads
def open_editor(session: Session, actor: Actor, preset_name: str | None = None,
                lang: str = "ru") -> Editor:
    """The editor in ``lang`` with the requested preset's values, or the current
    version's, or the default preset's."""
    _owner(actor)
    business = _business(session, actor)
    current = programs.current(session, actor)
    if preset_name is None and current is not None:
        name, settings = preset_or_default(current.preset), current.settings
    else:
        name = preset_or_default(preset_name)
        settings = programs.preset(name)
    return Editor(business.name, name, _presets(lang), settings,
                _preview(session, actor, settings, business, lang),
                _history(session, actor, business, lang), secrets.token_urlsafe(24),
                categories=categories.choices(session, actor.business_id, lang),
                sms_price_minor=_sms_price(session, actor))


@reads
def refused_editor(session: Session, actor: Actor, *, preset: str,
                   settings: dict[str, Any] | None, idempotency_key: str,
                   error: str, lang: str = "ru") -> Editor:
    """The page again after a refused save: the message and the same key; a preview when
    the submitted ``settings`` could be read (the view shows the submitted values)."""
    _owner(actor)
    business = _business(session, actor)
    try:
        shown: Preview | None = (preview(session, actor, settings, lang)
                                 if settings is not None else None)
    except InvalidSetting:
        shown = None
    key = idempotency_key or secrets.token_urlsafe(24)
    return Editor(business.name, preset_or_default(preset), _presets(lang), None, shown,
                _history(session, actor, business, lang), key, error,
                categories=categories.choices(session, actor.business_id, lang),
                sms_price_minor=_sms_price(session, actor))


def _presets(lang: str) -> list[tuple[str, str]]:
    _ = gettext_for(lang)
    return [(key, _(title)) for key, title in TITLES.items()]


def _history(session: Session, actor: Actor, business: BusinessView,
             lang: str) -> list[HistoryRow]:
    words = words_for(lang)
    return [HistoryRow(v.version, _title(v.preset, lang), business.local(v.effective_from),
                       business.local(v.created_at),
                       describe(v.settings, words, business.currency).sentence)
            for v in programs.history(session, actor)]


@reads
def preview(session: Session, actor: Actor, settings: dict[str, Any],
            lang: str = "ru") -> Preview:
    """The rule sentence, warnings and cost estimate for unsaved settings (InvalidSetting),
    in ``lang``."""
    _owner(actor)
    business = _business(session, actor)
    checked, _ = programs.parse(settings)
    return _preview(session, actor, checked, business, lang)


def save(session: Work, actor: Actor, submitted: Submission) -> int:
    """Save the submission as the next version; the same key twice saves it once."""
    work = UnitOfWork.of(session)
    with work.read() as db:
        business = _business(db, actor)
    result = programs.save(work, actor, submitted.idempotency_key,
                           settings=submitted.settings, preset_name=submitted.preset,
                           effective_from=None if submitted.starts_at is None
                           else business.utc(submitted.starts_at))
    return int(result["version"])


def _preview(session: Session, actor: Actor, settings: ProgramSettings,
             business: BusinessView, lang: str) -> Preview:
    words = words_for(lang)
    _, warnings = programs.parse(settings)
    text = describe(settings, words, business.currency)
    _, estimate = estimate_for_business(session, actor, settings)
    return Preview(text.sentence, list(text.details),
                   [warning_text(w, words, business.currency) for w in warnings],
                   list(estimate_text(estimate, words, business.currency)),
                   impact_text(read_impact(session, actor, settings), words,
                               business.currency))


def _sms_price(session: Session, actor: Actor) -> int:
    return counter_settings.load(session, actor.business_id).sms_price_minor


def _owner(actor: Actor) -> None:
    if not actor.is_at_least(Role.OWNER):
        raise PermissionDenied("program_owner_only")


def _business(session: Session, actor: Actor) -> BusinessView:
    return business_view(session, actor.business_id)


def _title(preset: str | None, lang: str) -> str:
    _ = gettext_for(lang)
    return _(TITLES[preset]) if preset in TITLES else _("Своя")


