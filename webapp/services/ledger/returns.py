"""Returns by line: some works or parts of an order come back, and exactly what those
lines earned and spent is reversed (I5).

Each line keeps the points it earned and its share of the points spent on the order
(the close stored them). Returning ``n`` of a line's ``quantity`` takes back that
fraction of them, counted cumulatively so that returning a line in several steps
takes back exactly what returning it at once would. Spent points already gone
become the customer's clawback debt, as for any refund; a returned oil change takes
its stamp back, because stamps are read from the lines still kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select

from webapp.domain.actor import Actor, Role
from webapp.domain.clock import utcnow
from webapp.domain.errors import InvalidAmount, InvalidInput, UnknownOrder
from webapp.persistence.ledger_store import LedgerStore, OperationRow
from webapp.persistence.models import Order, OrderLine
from webapp.services.ledger.operations import (
    Result,
    require_role,
    reverse_points,
    reversed_so_far,
    write,
)
from webapp.services.unit_of_work import UnitOfWork, Work


def return_lines(session: Work, actor: Actor, key: str, *, order_id: int,
                 quantities: Mapping[int, int], expires_at: datetime | None = None,
                 now: datetime | None = None) -> Result:
    """Return ``quantities`` (line position → how many) of an order's lines.

    The order's refunded amount grows by the returned lines' price; its points are
    reversed line by line. A manager's operation, once per idempotency key.
    """
    require_role(actor, Role.MANAGER)
    wanted = {position: count for position, count in quantities.items() if count}
    if not wanted:
        raise InvalidInput("return_nothing")
    for position, count in wanted.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InvalidAmount("line_quantity_range", position=position, high=10_000)
    now = now or utcnow()
    with UnitOfWork.of(session).read() as db:
        customer_id = db.scalar(select(Order.customer_id).where(
            Order.id == order_id, Order.business_id == actor.business_id))
    if customer_id is None:
        raise UnknownOrder(order_id=order_id)
    params = {"order": order_id, "lines": {str(p): n for p, n in sorted(wanted.items())}}

    def work(store: LedgerStore) -> OperationRow:
        order = store.session.get(Order, order_id)
        assert order is not None
        store.session.refresh(order)  # read under the customer's lock
        lines = {line.position: line for line in store.session.scalars(
            select(OrderLine).where(OrderLine.business_id == actor.business_id,
                                    OrderLine.order_id == order_id))}
        if order.refunded_minor != sum(line.returned_quantity * line.unit_price_minor
                                       for line in lines.values()):
            raise InvalidInput("refund_by_amount_done", order_id=order_id)
        take = give = money = 0
        for position, count in sorted(wanted.items()):
            line = lines.get(position)
            if line is None:
                raise InvalidInput("order_line_unknown", position=position)
            left = line.quantity - line.returned_quantity
            if count > left:
                raise InvalidAmount("return_over_sold", position=position, left=left)
            before, after = line.returned_quantity, line.returned_quantity + count
            take += _share(line.accrued_points, after, line.quantity) - _share(
                line.accrued_points, before, line.quantity)
            give += _share(line.redeemed_points, after, line.quantity) - _share(
                line.redeemed_points, before, line.quantity)
            money += count * line.unit_price_minor
            line.returned_quantity = after
        order.refunded_minor += money
        order.status = ("refunded" if order.refunded_minor == order.total_minor
                        else "partially_refunded")
        # A cancelled hold earned nothing: never take back more than the order earned.
        so_far = reversed_so_far(store, order_id)
        take = min(take, so_far.earned - so_far.taken)
        return reverse_points(store, order_id, take, give, actor.staff_id, now, expires_at)

    return write(session, actor, key, "return_lines", params, customer_id, work)


def _share(points: int, returned: int, quantity: int) -> int:
    """The part of a line's points that ``returned`` of its ``quantity`` carry."""
    return points * returned // quantity
