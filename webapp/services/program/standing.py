"""Where a customer stands in the program: the version in force and its quote of an
empty order (tier, progress to the next tier, stamps, perks).

The counter's panel, the receipt and the customer's own card all read it here, so
what the cashier sees, what the customer sees and what a close applies agree.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import (
    CompoundSelect,
    Integer,
    bindparam,
    func,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from webapp.domain.quote import CustomerState, OrderDraft, Quote, quote
from webapp.domain.tiers import PaidOrder
from webapp.persistence.models import EntitlementUse, Order, OrderLine
from webapp.services.program import versions as programs

# Prebuilt, and one round trip: every quote and every close reads the customer's paid
# orders (oldest first), their perk uses (``part`` 1) and their orders' lines (``part``
# 2: category, vehicle, quantity not returned), which is what stamps count.
_ORDER_HISTORY = (
    select(literal_column("0", Integer).label("part"), Order.closed_at.label("at"),
           (Order.total_minor - Order.refunded_minor).label("amount"),
           Order.service_category.label("text"), Order.asset_id.label("asset"),
           Order.id.label("seq"))
    .where(Order.business_id == bindparam("business"),
           Order.customer_id == bindparam("customer"), Order.closed_at.is_not(None))
)
_PERK_USES = select(literal_column("1", Integer), EntitlementUse.used_at, null().label("amount"),
                    EntitlementUse.code, null().label("asset"), EntitlementUse.id).where(
    EntitlementUse.customer_id == bindparam("customer"))
_LINES = (
    select(literal_column("2", Integer), Order.closed_at,
           (OrderLine.quantity - OrderLine.returned_quantity),
           OrderLine.category, func.coalesce(OrderLine.asset_id, Order.asset_id), Order.id)
    .join(Order, Order.id == OrderLine.order_id)
    .where(OrderLine.business_id == bindparam("business"),
           Order.business_id == bindparam("business"),
           Order.customer_id == bindparam("customer"), Order.closed_at.is_not(None))
)
_STATE: CompoundSelect = union_all(_ORDER_HISTORY, _PERK_USES, _LINES).order_by(
    "part", "at", "seq")


def customer_state(session: Session, business_id: int, customer_id: int,
                   available: int) -> CustomerState:
    """The customer's paid order history and perk uses: what tiers and stamps derive from."""
    orders: list[tuple[int, PaidOrder]] = []
    uses: list[tuple[str, datetime]] = []
    marks: dict[int, list[tuple[str, int | None]]] = {}
    for part, at, amount, text, asset, seq in session.execute(
            _STATE, {"business": business_id, "customer": customer_id}):
        if part == 0:
            orders.append((seq, PaidOrder(at, amount, text, asset)))
        elif part == 1:
            uses.append((text, at))
        else:  # a line: it stamps while some of it is kept
            kept = marks.setdefault(seq, [])
            if amount > 0 and text:
                kept.append((text, asset))
    history = tuple(replace(order, marks=tuple(marks[seq])) if seq in marks else order
                    for seq, order in orders)
    return CustomerState(available, history, tuple(uses))


def standing(session: Session, business_id: int, customer_id: int, available: int,
             now: datetime) -> tuple[programs.Version | None, Quote | None]:
    """The program in force and its quote of an empty order (None, None without one)."""
    version = programs.version_at(session, business_id, now)
    if version is None:
        return None, None
    state = customer_state(session, business_id, customer_id, available)
    return version, quote(version.settings, version.id, state, OrderDraft(total=0), now)
