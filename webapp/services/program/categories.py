"""The business's own list of categories of works and parts, with names in ru and en.

Order lines and stamp cards name a category by its code, which is given once (derived
from the Russian name, :func:`webapp.domain.categories.code_from_name`) and never
changed; the owner or a manager renames a category, changes its kind, or deactivates it
(it leaves the counter's choices; orders that name it keep its name). Changes are write
scopes of the unit of work with an audit event each; adding is keyed (a resubmitted
form adds once). Lists are read scopes; :func:`names` and :func:`add_for_stamp_cards`
run in their caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.domain import categories as rules
from webapp.domain.actor import Actor, Role
from webapp.domain.errors import AlreadyExists, NotFound, PermissionDenied
from webapp.persistence.models import ServiceCategory
from webapp.services.staff import audit
from webapp.services.unit_of_work import UnitOfWork, Work, reads, run_once, writes


@dataclass(frozen=True)
class Category:
    """One category as the owner's page lists it."""

    id: int
    code: str
    name_ru: str
    name_en: str | None
    kind: str
    active: bool


@dataclass(frozen=True)
class Choice:
    """An active category as a form offers it: its code and its name in one language."""

    code: str
    name: str
    kind: str


# Active first; within each, the order they were added in (renaming moves nothing).
_ORDER = (ServiceCategory.active.desc(), ServiceCategory.id)


@reads
def list_categories(session: Session, actor: Actor) -> list[Category]:
    """Every category of the actor's business (managers and up), active first."""
    _manager(actor)
    rows = session.scalars(select(ServiceCategory)
                           .where(ServiceCategory.business_id == actor.business_id)
                           .order_by(*_ORDER))
    return [_category(row) for row in rows]


@reads
def choices(session: Session, business_id: int, lang: str = "ru") -> list[Choice]:
    """The active categories of the business, named in ``lang`` (the English name,
    or the Russian one where there is none)."""
    rows = session.execute(
        select(ServiceCategory.code, ServiceCategory.name_ru, ServiceCategory.name_en,
               ServiceCategory.kind)
        .where(ServiceCategory.business_id == business_id, ServiceCategory.active)
        .order_by(*_ORDER))
    return [Choice(code, rules.shown_name(ru, en, lang), kind) for code, ru, en, kind in rows]


def names(session: Session, business_id: int, lang: str = "ru") -> dict[str, str]:
    """Every category's name in ``lang`` by code, inactive ones too (what past orders
    name), in the caller's transaction."""
    rows = session.execute(
        select(ServiceCategory.code, ServiceCategory.name_ru, ServiceCategory.name_en)
        .where(ServiceCategory.business_id == business_id))
    return {code: rules.shown_name(ru, en, lang) for code, ru, en in rows}


def add(session: Work, actor: Actor, key: str, *, name_ru: str, name_en: str | None = None,
        kind: str = "work", code: str | None = None) -> str:
    """Add a category (managers and up); its code, derived from ``name_ru`` unless given.

    AlreadyExists when the code is the business's already; the same ``key`` twice adds
    it once."""
    _manager(actor)
    name_ru = rules.check_name_ru(name_ru)
    name_en = rules.check_name_en(name_en)
    kind = rules.check_kind(kind)
    code = rules.check_code(code) if code and code.strip() else rules.code_from_name(name_ru)
    fields = {"name_ru": name_ru, "name_en": name_en, "kind": kind, "code": code}
    uow = UnitOfWork.of(session)

    def work() -> dict[str, Any]:
        row = _insert(uow.session, actor, code=code, name_ru=name_ru, name_en=name_en,
                      kind=kind)
        return {"category_id": row.id, "code": row.code}

    result = run_once(uow, actor.business_id, key, "category.add", fields, work,
                      audit=lambda: audit.event(actor, "category.add", details=fields))
    return str(result["code"])


@writes
def rename(session: Session, actor: Actor, category_id: int, *, name_ru: str,
           name_en: str | None) -> None:
    """Give the category new names in ru and en (its code stays)."""
    _manager(actor)
    row = _find(session, actor, category_id)
    new = rules.check_name_ru(name_ru), rules.check_name_en(name_en)
    if (row.name_ru, row.name_en) != new:
        row.name_ru, row.name_en = new
        audit.record(session, actor, "category.rename",
                     details={"code": row.code, "name_ru": new[0], "name_en": new[1]})


@writes
def set_kind(session: Session, actor: Actor, category_id: int, kind: str) -> None:
    """Make the category's new lines works, parts or other."""
    _manager(actor)
    row = _find(session, actor, category_id)
    kind = rules.check_kind(kind)
    if row.kind != kind:
        row.kind = kind
        audit.record(session, actor, "category.kind", details={"code": row.code, "kind": kind})


@writes
def edit(session: Session, actor: Actor, category_id: int, *, name_ru: str,
         name_en: str | None, kind: str) -> None:
    """Rename the category and set its kind at once (the owner's page saves both)."""
    rename(session, actor, category_id, name_ru=name_ru, name_en=name_en)
    set_kind(session, actor, category_id, kind)


@writes
def set_active(session: Session, actor: Actor, category_id: int, active: bool) -> None:
    """Offer the category at the counter again, or no longer (orders keep naming it)."""
    _manager(actor)
    row = _find(session, actor, category_id)
    if row.active != active:
        row.active = active
        audit.record(session, actor,
                     "category.activate" if active else "category.deactivate",
                     details={"code": row.code})


def add_for_stamp_cards(session: Session, actor: Actor, cards: Iterable[tuple[str, str]]
                        ) -> list[str]:
    """Add the categories stamp cards name that the business does not have, named by
    the card's title (code, title pairs); the codes added. In the caller's transaction
    (the program's save), which has checked the actor already."""
    known = set(session.scalars(select(ServiceCategory.code)
                                .where(ServiceCategory.business_id == actor.business_id)))
    added = []
    for code, title in cards:
        if code in known:
            continue
        name = " ".join(title.split())[:rules.NAME_MAX] or code
        _insert(session, actor, code=code, name_ru=name, name_en=None, kind="work")
        audit.record(session, actor, "category.add",
                     details={"code": code, "name_ru": name, "from": "stamp_card"})
        known.add(code)
        added.append(code)
    return added


def _insert(session: Session, actor: Actor, *, code: str, name_ru: str, name_en: str | None,
            kind: str) -> ServiceCategory:
    taken = session.scalar(select(ServiceCategory.name_ru).where(
        ServiceCategory.business_id == actor.business_id, ServiceCategory.code == code))
    if taken is not None:
        raise AlreadyExists("category_code_taken", code=code, name=taken)
    row = ServiceCategory(business_id=actor.business_id, code=code, name_ru=name_ru,
                          name_en=name_en, kind=kind, active=True)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # added at the same moment by someone else
        raise AlreadyExists("category_code_taken", code=code, name=name_ru) from None
    return row


def _manager(actor: Actor) -> None:
    if not actor.is_at_least(Role.MANAGER):
        raise PermissionDenied("categories_managers_only")


def _find(session: Session, actor: Actor, category_id: int) -> ServiceCategory:
    row = session.get(ServiceCategory, category_id)
    if row is None or row.business_id != actor.business_id:
        raise NotFound("unknown_category")
    return row


def _category(row: ServiceCategory) -> Category:
    return Category(row.id, row.code, row.name_ru, row.name_en, row.kind, row.active)
