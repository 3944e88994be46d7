"""Where a customer stands in the program: the version in force and its quote of an
empty order (tier, progress to the next tier, stamps, perks).

The counter's panel, the receipt and the customer's own card all read it here, so
what the cashier sees, what the customer sees and what a close applies agree.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from webapp.domain.quote import CustomerState, OrderDraft, Quote, quote
from webapp.domain.tiers import PaidOrder
from webapp.persistence.models import EntitlementUse, Order
from webapp.services.program import versions as programs

# Prebuilt: both run on every quote and every close.
_ORDER_HISTORY = (
    select(Order.closed_at, Order.total_minor - Order.refunded_minor, Order.service_category,
           Order.asset_id)
    .where(Order.business_id == bindparam("business"),
           Order.customer_id == bindparam("customer"), Order.closed_at.is_not(None))
    .order_by(Order.closed_at, Order.id)
)
_PERK_USES = select(EntitlementUse.code, EntitlementUse.used_at).where(
    EntitlementUse.customer_id == bindparam("customer"))


def customer_state(session: Session, business_id: int, customer_id: int,
                   available: int) -> CustomerState:
    """The customer's paid order history and perk uses: what tiers and stamps derive from."""
    orders = session.execute(_ORDER_HISTORY, {"business": business_id,
                                              "customer": customer_id}).all()
    uses = session.execute(_PERK_USES, {"customer": customer_id}).all()
    return CustomerState(available,
                         tuple(PaidOrder(at, amount, category, asset)
                               for at, amount, category, asset in orders if at is not None),
                         tuple((code, at) for code, at in uses))


def standing(session: Session, business_id: int, customer_id: int, available: int,
             now: datetime) -> tuple[programs.Version | None, Quote | None]:
    """The program in force and its quote of an empty order (None, None without one)."""
    version = programs.version_at(session, business_id, now)
    if version is None:
        return None, None
    state = customer_state(session, business_id, customer_id, available)
    return version, quote(version.settings, version.id, state, OrderDraft(total=0), now)
