"""A customer's orders line by line in the back office, and returning some of them.

The history page shows each order's lines with what they earned and spent and how
many are left to return; a manager returns some of them here (the ledger part is
:func:`webapp.services.ledger.returns.return_lines`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.catalogue import N_, gettext_for
from webapp.domain.actor import Actor
from webapp.domain.errors import UnknownOrder
from webapp.domain.money import format_money
from webapp.persistence.models import Business, Order, OrderLine
from webapp.services.ledger import returns as ledger_returns
from webapp.services.unit_of_work import UnitOfWork, Work

KINDS = {"work": N_("работа"), "part": N_("запчасть"), "other": N_("другое")}


@dataclass(frozen=True)
class ItemRow:
    """One line of an order as the history page shows it."""

    position: int
    name: str  # its name, else its category, else ""
    kind: str  # in the page's language
    quantity: int
    returned: int
    amount: str  # "1 500,00 ₽"
    accrued: int
    redeemed: int

    @property
    def left(self) -> int:
        return self.quantity - self.returned


@dataclass(frozen=True)
class Returned:
    order_id: int
    refund_minor: int
    currency: str
    points: int  # net points taken from the customer (negative: given back)
    owed: int
    available: int


def items_of(session: Session, business_id: int, order_ids: Sequence[int], currency: str,
             lang: str) -> dict[int, tuple[ItemRow, ...]]:
    """The lines of these orders, by order, in position order."""
    _ = gettext_for(lang)
    found: dict[int, list[ItemRow]] = {}
    if not order_ids:
        return {}
    for line in session.scalars(select(OrderLine).where(
            OrderLine.business_id == business_id, OrderLine.order_id.in_(order_ids))
            .order_by(OrderLine.order_id, OrderLine.position)):
        found.setdefault(line.order_id, []).append(ItemRow(
            line.position, line.name or line.category or "", _(KINDS[line.kind]),
            line.quantity, line.returned_quantity,
            format_money(line.amount_minor, currency, lang), line.accrued_points,
            line.redeemed_points))
    return {order_id: tuple(rows) for order_id, rows in found.items()}


def return_lines(session: Work, actor: Actor, key: str, *, customer_id: int, order_id: int,
                 quantities: Mapping[int, int]) -> Returned:
    """Return some lines of one of this customer's orders (managers and up).

    UnknownOrder when the order is not this customer's; the same key twice returns once.
    """
    with UnitOfWork.of(session).read() as db:
        found = db.execute(
            select(Order.customer_id, Business.currency)
            .join(Business, Business.id == Order.business_id)
            .where(Order.id == order_id, Order.business_id == actor.business_id)).first()
        prices = dict(db.execute(select(OrderLine.position, OrderLine.unit_price_minor).where(
            OrderLine.business_id == actor.business_id, OrderLine.order_id == order_id)).all())
    if found is None or found.customer_id != customer_id:
        raise UnknownOrder("order_not_customers", order_id=order_id)
    result = ledger_returns.return_lines(session, actor, key, order_id=order_id,
                                         quantities=quantities)
    # What the returned lines cost, as the return refunded it: the same for a replay.
    refund = sum(count * prices.get(position, 0) for position, count in quantities.items())
    return Returned(order_id, refund, found.currency, int(result["points"]),
                    int(result["owed"]), int(result["available"]))
