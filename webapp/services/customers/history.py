"""The manager's customer page: who the customer is, their balance, orders and ledger
operations in plain Russian, adjustments waiting for the owner, and the page's two
actions (refund an order, correct points). The audit trail pages are
:mod:`webapp.services.reports.audit_trail`.

The page is a read scope like other read services; the actions check the customer in a
read scope, then go through :mod:`webapp.services.ledger.operations` (or adjustment_requests), whose
keyed write scope ends the transaction. The helpers read in the caller's scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.catalogue import N_, gettext_for, words_for
from webapp.domain import cards, history_text
from webapp.domain.actor import Actor, Role
from webapp.domain.clock import utcnow
from webapp.domain.errors import PermissionDenied, UnknownCustomer, UnknownOrder
from webapp.domain.ledger import AccountKind as K
from webapp.domain.ledger import OperationKind as Op
from webapp.domain.money import format_money, input_value
from webapp.persistence.models import (
    Account,
    Branch,
    Business,
    Customer,
    Entry,
    Operation,
    Order,
    StaffUser,
    Transfer,
)
from webapp.services.business.view import BusinessView, business_view
from webapp.services.customers import returns
from webapp.services.ledger import adjustment_request_list, adjustment_requests
from webapp.services.ledger import operations as ledger
from webapp.services.ledger.balances import balance_of
from webapp.services.program import categories
from webapp.services.unit_of_work import UnitOfWork, Work, reads

EXPIRY_HORIZON = timedelta(days=90)
CUSTOMER_STATUS = {"active": N_("активен"), "blocked": N_("заблокирован"),
                   "merged": N_("объединён")}
ORDER_STATUS = {
    "open": N_("открыт"),
    "closed": N_("оплачен"),
    "partially_refunded": N_("частичный возврат"),
    "refunded": N_("возвращён"),
}


@dataclass(frozen=True)
class CustomerCard:
    id: int
    name: str | None
    phone: str  # "+7 916 123-45-67"
    card_number: str  # "123 456 789"
    status: str  # Russian
    status_code: str


@dataclass(frozen=True)
class BalanceView:
    available: int
    pending: int
    owed: int
    expiring: list[tuple[str, int]]  # (local date, points)
    expiring_total: int


@dataclass(frozen=True)
class OrderRow:
    id: int
    at: datetime
    when: str  # local time
    branch: str
    total_minor: int
    discount_minor: int
    refunded_minor: int
    left_minor: int
    status: str  # Russian
    status_code: str
    earned: int
    redeemed: int
    total: str  # "1 500,00 ₽"
    discount: str
    refunded: str
    left: str
    left_input: str  # the refund form's default: "1500,00"
    items: tuple[returns.ItemRow, ...] = ()  # its lines
    category: str | None = None  # its category's name in the reader's language

    @property
    def refundable(self) -> bool:
        return self.left_minor > 0 and self.status_code != "open"


@dataclass(frozen=True)
class OperationLine:
    id: int
    at: datetime
    when: str
    kind: str
    text: str  # "Начислено 120 за заказ №5"
    available_change: int
    pending_change: int
    staff: str | None
    branch: str | None


@dataclass(frozen=True)
class CustomerHistory:
    business_name: str
    currency: str
    customer: CustomerCard
    balance: BalanceView
    orders: list[OrderRow]
    operations: list[OperationLine]
    requests: list[adjustment_request_list.RequestView]  # adjustments waiting for the owner


@dataclass(frozen=True)
class Refunded:
    order_id: int
    refund_minor: int
    currency: str  # the business's, for showing refund_minor
    points: int  # net points taken from the customer (negative: given back)
    owed: int
    available: int


# -- the history page --------------------------------------------------------------------


@reads
def history(
    session: Session, actor: Actor, customer_id: int, limit: int = 100, now: datetime | None = None,
    lang: str = "ru",
) -> CustomerHistory:
    """A customer's card, balance, newest orders and ledger operations (managers and up),
    in ``lang``."""
    require_manager(actor)
    business = business_of(session, actor)
    customer = customer_of(session, actor, customer_id)
    balance = balance_of(session, actor.business_id, customer_id, now or utcnow(), EXPIRY_HORIZON)
    return CustomerHistory(
        business_name=business.name,
        currency=business.currency,
        customer=card_of(customer, lang),
        balance=BalanceView(
            balance.available,
            balance.pending,
            balance.owed,
            [(business.day(at), points) for at, points in balance.expiring],
            balance.expiring_total,
        ),
        orders=_orders(session, actor, customer_id, limit, business, lang),
        operations=operations(session, actor, customer_id, limit, business, lang),
        requests=adjustment_request_list.requests(session, actor, customer_id=customer_id),
    )


def _orders(
    session: Session, actor: Actor, customer_id: int, limit: int, business: BusinessView,
    lang: str = "ru",
) -> list[OrderRow]:
    rows = session.execute(
        select(Order, Branch.name)
        .join(Branch, Branch.id == Order.branch_id)
        .where(Order.business_id == actor.business_id, Order.customer_id == customer_id)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(limit)
    ).all()
    points: dict[tuple[int | None, str], int] = {}
    if rows:
        for order_id, kind, total in session.execute(
            select(Operation.order_id, Operation.kind, func.sum(Operation.points))
            .where(Operation.order_id.in_([order.id for order, _ in rows]))
            .group_by(Operation.order_id, Operation.kind)
        ):
            points[(order_id, kind)] = int(total or 0)
    items = returns.items_of(session, actor.business_id, [order.id for order, _ in rows],
                             business.currency, lang)
    lines = []
    named = categories.names(session, actor.business_id, lang) if rows else {}
    for order, branch in rows:
        accrued, held, cancelled, redeemed = (
            points.get((order.id, kind.value), 0)
            for kind in (Op.ACCRUAL, Op.HOLD, Op.CANCEL, Op.REDEMPTION)
        )
        left = order.total_minor - order.refunded_minor
        lines.append(
            OrderRow(
                id=order.id,
                at=order.created_at,
                when=business.local(order.created_at),
                branch=branch,
                total_minor=order.total_minor,
                discount_minor=order.discount_minor,
                refunded_minor=order.refunded_minor,
                left_minor=left,
                status=_status(ORDER_STATUS, order.status, lang),
                status_code=order.status,
                earned=accrued + held - cancelled,
                redeemed=redeemed,
                total=format_money(order.total_minor, business.currency, lang),
                discount=format_money(order.discount_minor, business.currency, lang),
                refunded=format_money(order.refunded_minor, business.currency, lang),
                left=format_money(left, business.currency, lang),
                left_input=input_value(left),
                items=items.get(order.id, ()),
                category=named.get(order.service_category, order.service_category)
                if order.service_category else None,
            )
        )
    return lines


def operations(
    session: Session, actor: Actor, customer_id: int, limit: int, business: BusinessView,
    lang: str = "ru",
) -> list[OperationLine]:
    """The customer's newest ledger operations, each in plain words and with its change."""
    rows = session.execute(
        select(Operation, StaffUser.display_name, Branch.name)
        .outerjoin(StaffUser, StaffUser.id == Operation.staff_id)
        .outerjoin(Order, Order.id == Operation.order_id)
        .outerjoin(Branch, Branch.id == Order.branch_id)
        .where(Operation.business_id == actor.business_id, Operation.customer_id == customer_id)
        .order_by(Operation.created_at.desc(), Operation.id.desc())
        .limit(limit)
    ).all()
    changes: dict[tuple[int, str], int] = {}
    if rows:
        for operation_id, kind, amount in session.execute(
            select(Transfer.operation_id, Account.kind, func.sum(Entry.amount))
            .join(Entry, (Entry.business_id == Transfer.business_id)
                  & (Entry.transfer_id == Transfer.id))
            .join(Account, Account.id == Entry.account_id)
            .where(
                Transfer.business_id == actor.business_id,
                Transfer.operation_id.in_([op.id for op, _, _ in rows]),
                Account.customer_id == customer_id,
                Account.kind.in_([K.AVAILABLE.value, K.PENDING.value]),
            )
            .group_by(Transfer.operation_id, Account.kind)
        ):
            changes[(operation_id, kind)] = int(amount or 0)
    return [
        OperationLine(
            id=op.id,
            at=op.created_at,
            when=business.local(op.created_at),
            kind=op.kind,
            text=describe(op, business, lang),
            available_change=changes.get((op.id, K.AVAILABLE.value), 0),
            pending_change=changes.get((op.id, K.PENDING.value), 0),
            staff=staff,
            branch=branch,
        )
        for op, staff, branch in rows
    ]


def describe(op: Operation, business: BusinessView, lang: str = "ru") -> str:
    """One ledger operation in plain words: "Начислено 120 за заказ №5"."""
    release = business.day(op.release_at) if op.release_at else None
    return history_text.describe(op.kind, op.points, op.order_id, op.reason, release,
                                 words_for(lang))


# -- the page's actions ----------------------------------------------------------------


def refund(
    session: Work, actor: Actor, key: str, *, customer_id: int, order_id: int, refund_minor: int
) -> Refunded:
    """Refund all or part of one of this customer's orders (ledger.reverse, I5).

    UnknownOrder when the order is not this customer's; the same key twice refunds once.
    """
    require_manager(actor)
    with UnitOfWork.of(session).read() as db:
        found = db.execute(
            select(Order.customer_id, Business.currency)
            .join(Business, Business.id == Order.business_id)
            .where(Order.id == order_id, Order.business_id == actor.business_id)
        ).first()
    if found is None or found.customer_id != customer_id:
        raise UnknownOrder("order_not_customers", order_id=order_id)
    result = ledger.reverse(session, actor, key, order_id=order_id, refund_minor=refund_minor)
    return Refunded(order_id, refund_minor, found.currency, int(result["points"]),
                    int(result["owed"]), int(result["available"]))


def adjust(
    session: Work, actor: Actor, key: str, *, customer_id: int, points: int, reason: str
) -> adjustment_requests.Submitted:
    """A manual correction of a customer's points with a reason: applied, or (a manager's
    the owner must approve) a request saying why; see adjustment_requests."""
    require_manager(actor)
    uow = UnitOfWork.of(session)
    with uow.read() as db:
        customer_of(db, actor, customer_id)
    return adjustment_requests.submit(
        uow.session, actor, key, customer_id=customer_id, points=points, reason=reason
    )


# -- helpers ---------------------------------------------------------------------------


def require_manager(actor: Actor) -> None:
    if not actor.is_at_least(Role.MANAGER):
        raise PermissionDenied("histories_managers_only")


def business_of(session: Session, actor: Actor) -> BusinessView:
    """The acting staff member's business, as the history pages show it."""
    return business_view(session, actor.business_id)


def customer_of(session: Session, actor: Actor, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None or customer.business_id != actor.business_id:
        raise UnknownCustomer(customer_id=customer_id)
    return customer


def card_of(customer: Customer, lang: str = "ru") -> CustomerCard:
    """The customer's card as the manager's pages show it, its status in ``lang``."""
    return CustomerCard(
        customer.id,
        customer.name,
        display_phone(customer.phone),
        cards.display(customer.card_number),
        _status(CUSTOMER_STATUS, customer.status, lang),
        customer.status,
    )


def _status(names: dict[str, str], status: str, lang: str) -> str:
    return gettext_for(lang)(names[status]) if status in names else status


def display_phone(e164: str) -> str:
    """ "+7 916 123-45-67" (libphonenumber's international format), or as stored."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
