"""The counter's screens as read models: the customer panel after a scan, the receipt,
and a staff note (signing a customer up is :mod:`webapp.services.counter.signup`).

Tier, progress, stamps and perks come from the program's own quote of an empty
order, so the panel and the close can never disagree. Reads are read scopes, the note
a write scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import Session

from webapp.catalogue import words_for
from webapp.domain import balance_text as balance_words
from webapp.domain import counter_settings as rules
from webapp.domain import tiers
from webapp.domain.actor import Actor
from webapp.domain.clock import utcnow
from webapp.domain.errors import (
    InvalidInput,
    NotFound,
    PermissionDenied,
    UnknownCustomer,
    UnknownOrder,
)
from webapp.domain.ledger import OperationKind as Op
from webapp.domain.program import ProgramSettings
from webapp.domain.quote import Quote
from webapp.persistence.models import (
    Asset,
    Branch,
    Business,
    Customer,
    CustomerNote,
    Operation,
    Order,
    StaffUser,
)
from webapp.services.business import settings as counter_settings
from webapp.services.counter import progress
from webapp.services.customers import accounts as customers
from webapp.services.customers import phones
from webapp.services.customers.returns import ItemRow, items_of
from webapp.services.ledger.balances import Balance, balance_of
from webapp.services.program import categories as category_list
from webapp.services.program import versions as programs
from webapp.services.program.standing import standing
from webapp.services.unit_of_work import reads, writes

NOTE_LIMIT = 1000


@dataclass(frozen=True)
class Workplace:
    """The business and the branch a counter works at, as the counter's pages show them."""

    business_id: int
    business_name: str
    currency: str
    timezone: str
    branch_id: int
    branch_name: str


@dataclass(frozen=True)
class Visit:
    order_id: int
    when: str
    branch: str
    total: int
    accrued: int
    redeemed: int
    status: str


@dataclass(frozen=True)
class Note:
    when: str
    author: str | None
    text: str


@dataclass(frozen=True)
class Panel:
    customer_id: int
    card_number: str
    name: str | None
    phone_hint: str
    balance: Balance
    balance_text: balance_words.Balance  # in points, or in money for cashback
    program: Quote | None  # an empty order's quote: tier, next tier, stamps, perks
    progress: list[str]  # the quote's lines about tiers and stamps, in words
    point_value: int
    visits: list[Visit]
    notes: list[Note]
    assets: list[tuple[int, str]]
    categories: list[category_list.Choice]  # the business's active ones, in the page's language


_WORKPLACE = (
    select(Business.name, Business.currency, Business.timezone, Branch.name)
    .join(Branch, Branch.business_id == Business.id)
    .where(Business.id == bindparam("business"), Branch.id == bindparam("branch"))
)


@reads
def workplace(session: Session, actor: Actor, branch_id: int) -> Workplace:
    """The business and the branch the counter works at (404 for another business's)."""
    row = session.execute(_WORKPLACE, {"business": actor.business_id, "branch": branch_id}).first()
    if row is None:
        raise NotFound("unknown_branch")
    return Workplace(actor.business_id, row[0], row[1], row[2], branch_id, row[3])


@reads
def branches(session: Session, actor: Actor) -> list[tuple[int, str]]:
    """The branches this staff member may open the counter at."""
    rows = session.execute(select(Branch.id, Branch.name)
                           .where(Branch.business_id == actor.business_id)
                           .order_by(Branch.id)).all()
    return [(bid, name) for bid, name in rows if actor.may_work_at(bid)]


@reads
def needs_confirmation(session: Session, actor: Actor, points: int, *, present: bool) -> bool:
    """Whether redeeming ``points`` needs the customer's one-time code (see checkout.close)."""
    settings = counter_settings.load(session, actor.business_id)
    return rules.needs_confirmation(settings, points, phone_present=present)


@reads
def panel(session: Session, actor: Actor, customer_id: int, lang: str = "ru",
          now: datetime | None = None) -> Panel:
    """Everything the cashier sees after a scan, read in one transaction."""
    now = now or utcnow()
    customer = customers.get(session, actor, customer_id)
    business = session.get(Business, actor.business_id)
    assert business is not None
    zone = ZoneInfo(business.timezone)
    balance = balance_of(session, actor.business_id, customer_id, now)
    version, program = standing(session, actor.business_id, customer_id,
                                balance.available, now)
    assets = asset_labels(session, customer_id)
    return Panel(
        customer_id=customer.id, card_number=customer.card_number, name=customer.name,
        phone_hint=phones.hint(customer.phone), balance=balance, program=program,
        balance_text=balance_words.balance(version.settings if version else None,
                                           balance.available, words_for(lang),
                                           business.currency),
        progress=progress.lines(session, version, program, business_id=actor.business_id,
                                customer_id=customer_id, assets=assets, lang=lang,
                                currency=business.currency) if version and program else [],
        point_value=version.settings.point_value if version else 100,
        visits=_visits(session, actor, customer_id, zone),
        notes=_notes(session, actor, customer_id, zone),
        assets=assets,
        categories=category_list.choices(session, actor.business_id, lang),
    )


def asset_labels(session: Session, customer_id: int) -> list[tuple[int, str]]:
    """The customer's vehicles and devices as the counter names them: "А123ВС77 (Лада)"."""
    return [(a.id, a.value + (f" ({a.label})" if a.label else "")) for a in
            session.scalars(select(Asset).where(Asset.customer_id == customer_id)
                            .order_by(Asset.id))]


def _visits(session: Session, actor: Actor, customer_id: int, zone: ZoneInfo,
            limit: int = 5) -> list[Visit]:
    points = (
        select(Operation.order_id,
               func.sum(case((Operation.kind == Op.ACCRUAL, Operation.points), else_=0))
               .label("accrued"),
               func.sum(case((Operation.kind == Op.REDEMPTION, Operation.points), else_=0))
               .label("redeemed"))
        .where(Operation.customer_id == customer_id, Operation.order_id.is_not(None))
        .group_by(Operation.order_id).subquery())
    rows = session.execute(
        select(Order.id, Order.closed_at, Branch.name, Order.total_minor, points.c.accrued,
               points.c.redeemed, Order.status)
        .join(Branch, Branch.id == Order.branch_id)
        .outerjoin(points, points.c.order_id == Order.id)
        .where(Order.business_id == actor.business_id, Order.customer_id == customer_id,
               Order.closed_at.is_not(None))
        .order_by(Order.closed_at.desc(), Order.id.desc()).limit(limit)).all()
    return [Visit(oid, at.astimezone(zone).strftime("%d.%m.%Y"), branch, total,
                  int(accrued or 0), int(redeemed or 0), status)
            for oid, at, branch, total, accrued, redeemed, status in rows]


def _notes(session: Session, actor: Actor, customer_id: int, zone: ZoneInfo,
           limit: int = 5) -> list[Note]:
    rows = session.execute(
        select(CustomerNote.created_at, StaffUser.display_name, CustomerNote.text)
        .outerjoin(StaffUser, StaffUser.id == CustomerNote.staff_id)
        .where(CustomerNote.business_id == actor.business_id,
               CustomerNote.customer_id == customer_id)
        .order_by(CustomerNote.created_at.desc(), CustomerNote.id.desc()).limit(limit)).all()
    return [Note(at.astimezone(zone).strftime("%d.%m.%Y"), who, text) for at, who, text in rows]


@writes
def add_note(session: Session, actor: Actor, customer_id: int, text: str,
             now: datetime | None = None) -> None:
    """Leave a note on a customer for colleagues (a write scope of its own)."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput("note_empty")
    if len(text) > NOTE_LIMIT:
        raise InvalidInput("note_too_long", limit=NOTE_LIMIT)
    customers.get(session, actor, customer_id)
    session.add(CustomerNote(business_id=actor.business_id, customer_id=customer_id,
                             staff_id=actor.staff_id, text=text, created_at=now or utcnow()))


@dataclass(frozen=True)
class Receipt:
    order_id: int
    customer_id: int
    card_number: str
    name: str | None
    when: str
    branch: str  # where the order was closed, not the counter showing it
    total: int
    discount: int
    redeemed: int
    accrued: int
    paid: int
    point_value: int
    available: int
    pending: int
    tier: str | None
    status: str
    business_name: str = ""
    tier_percent: int | None = None  # the way to the next tier (100: the top tier)
    progress: tuple[str, ...] = ()  # the next tier and the stamps, in words
    category: str | None = None  # the order's category, named in the reader's language
    items: tuple[ItemRow, ...] = ()  # its lines, when it has more than one
    # Earned, spent and the balance in words: points, or money in a cashback program.
    accrued_text: str = ""
    redeemed_text: str = ""
    available_text: str = ""
    cashback: bool = False  # the order's program tells points as money


@reads
def receipt(session: Session, actor: Actor, order_id: int,
            now: datetime | None = None, lang: str = "ru") -> Receipt:
    """What an order did and where the customer stands now.

    Only for staff who work at the order's own branch (PermissionDenied otherwise,
    as the counter of a branch that is not theirs).
    """
    now = now or utcnow()
    order = session.get(Order, order_id)
    if order is None or order.business_id != actor.business_id:
        raise UnknownOrder()
    if not actor.may_work_at(order.branch_id):
        raise PermissionDenied("branch_not_yours", branch_id=order.branch_id)
    branch = session.scalar(select(Branch.name).where(Branch.id == order.branch_id))
    customer = session.get(Customer, order.customer_id)
    business = session.get(Business, actor.business_id)
    if customer is None or business is None:
        raise UnknownCustomer()
    sums = dict(session.execute(
        select(Operation.kind, func.sum(Operation.points))
        .where(Operation.order_id == order_id,
               Operation.kind.in_([Op.ACCRUAL, Op.REDEMPTION]))
        .group_by(Operation.kind)).all())
    balance = balance_of(session, actor.business_id, customer.id, now)
    version, program = standing(session, actor.business_id, customer.id, balance.available, now)
    tier = program.tier_before if program else None
    shown = progress.lines(session, version, program, business_id=actor.business_id,
                           customer_id=customer.id, assets=asset_labels(session, customer.id),
                           lang=lang, currency=business.currency,
                           asset_id=order.asset_id) if version and program else []
    # Points paid for the order at the value of the program it was closed under.
    closed_under = (programs.by_id(session, actor.business_id, order.program_version_id)
                    .settings if order.program_version_id else None)
    point_value = closed_under.point_value if closed_under else 100
    redeemed = int(sums.get(Op.REDEMPTION, 0) or 0)
    accrued = int(sums.get(Op.ACCRUAL, 0) or 0)
    words = words_for(lang)

    def told(points: int, settings: ProgramSettings | None) -> str:
        return balance_words.amount(settings, points, words, business.currency)
    assert order.closed_at is not None
    return Receipt(
        order.id, customer.id, customer.card_number, customer.name,
        order.closed_at.astimezone(ZoneInfo(business.timezone)).strftime("%d.%m.%Y %H:%M"),
        branch or "",
        order.total_minor, order.discount_minor, redeemed, accrued,
        order.total_minor - order.discount_minor - redeemed * point_value, point_value,
        balance.available, balance.pending, tier, order.status, business.name,
        tiers.progress(version.settings, program.next_tier)
        if version and program and version.settings.tiers else None, tuple(shown),
        _category_name(session, actor.business_id, order.service_category, lang),
        items_of(session, actor.business_id, [order.id], business.currency, lang
                 ).get(order.id, ()),
        told(accrued, closed_under), told(redeemed, closed_under),
        balance_words.balance(version.settings if version else None, balance.available,
                              words, business.currency).text,
        balance_words.in_money(closed_under))


def _category_name(session: Session, business_id: int, code: str | None,
                   lang: str) -> str | None:
    """A category's name in ``lang`` (its code when the list has no such category)."""
    if code is None:
        return None
    return category_list.names(session, business_id, lang).get(code, code)
