"""Closing an order: the order row and its lines, its redemption and its accrual in one
transaction.

The program engine decides the numbers; this module applies them exactly once
per idempotency key, in :func:`~webapp.services.unit_of_work.run_once`'s write scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.domain import ledger as rules
from webapp.domain.actor import Actor
from webapp.domain.clock import utcnow
from webapp.domain.errors import AlreadyExists, InvalidInput, PermissionDenied
from webapp.domain.ledger import OperationKind as Op
from webapp.domain.order_lines import OrderLine, PricedLine
from webapp.persistence.ledger_store import LedgerStore
from webapp.persistence.models import Asset, Branch, Order
from webapp.persistence.models import OrderLine as OrderLineRow
from webapp.services.ledger.operations import credit_new, result_of, spend
from webapp.services.unit_of_work import UnitOfWork, Work, run_once

# Prebuilt on the tables (no ORM insert path): both run on every counter close.
_ORDERS = cast(Table, Order.__table__)
_INSERT_ORDER = insert(_ORDERS).returning(_ORDERS.c.id)
_INSERT_LINES = insert(cast(Table, OrderLineRow.__table__))
_BRANCH_BUSINESS = select(Branch.business_id).where(Branch.id == bindparam("id"))
# The same as a scalar subquery bound by ``branch_id``, for a statement the caller runs
# anyway (the close's lock); its value goes to insert_order's ``branch_business_id``.
BRANCH_BUSINESS = (select(Branch.business_id).where(Branch.id == bindparam("branch_id"))
                   .scalar_subquery())


def close_order(session: Work, actor: Actor, key: str, *, customer_id: int, branch_id: int,
                total_minor: int, accrue_points: int = 0, redeem_points: int = 0,
                service_category: str | None = None, asset_id: int | None = None,
                external_ref: str | None = None, expires_at: datetime | None = None,
                now: datetime | None = None) -> dict[str, Any]:
    """Record a paid order, spend ``redeem_points`` and earn ``accrue_points``, atomically."""
    rules.require_money(total_minor)
    for value in (accrue_points, redeem_points):
        if value:
            rules.require_points(value)
    if service_category is not None and not 0 < len(service_category) <= 64:
        raise InvalidInput("category_length")
    now = now or utcnow()
    params = {"customer": customer_id, "branch": branch_id, "total": total_minor,
              "accrue": accrue_points, "redeem": redeem_points, "category": service_category,
              "asset": asset_id, "ref": external_ref}
    uow = UnitOfWork.of(session)

    def work() -> dict[str, Any]:
        session = uow.session  # the write scope's session
        store = LedgerStore(session, actor.business_id).lock(customer_id)
        line = OrderLine(total_minor, category=service_category, asset_id=asset_id)
        order_id = insert_order(session, actor, customer_id=customer_id, branch_id=branch_id,
                                total_minor=total_minor, category=service_category,
                                asset_id=asset_id, external_ref=external_ref, now=now,
                                lines=(PricedLine(1, line, 0, 0, redeem_points, 0, 0,
                                                  accrue_points),))
        last = None
        if redeem_points:
            last = spend(store, redeem_points, order_id, actor.staff_id, now)
        if accrue_points:
            last = credit_new(store, kind=Op.ACCRUAL, points=accrue_points,
                              expires_at=expires_at, created_at=now, order_id=order_id,
                              staff_id=actor.staff_id)
        return {**result_of(store, last), "order_id": order_id, "accrued": accrue_points,
                "redeemed": redeem_points}

    try:
        return run_once(session, actor.business_id, key, "close_order", params, work)
    except IntegrityError:
        raise AlreadyExists("order_reference_closed") from None


def insert_order(session: Session, actor: Actor, *, customer_id: int, branch_id: int,
                 total_minor: int, category: str | None, asset_id: int | None,
                 external_ref: str | None, now: datetime, discount_minor: int = 0,
                 program_version_id: int | None = None,
                 branch_business_id: int | None = None,
                 lines: Sequence[PricedLine] = ()) -> int:
    """Check the order's references and write it as closed with its ``lines`` (as
    priced: each line's asset is its own or the order's); returns its id.

    Call with the customer's ledger lock held (inside a service's write scope).
    ``branch_business_id`` is the branch's business if the caller read it already
    (:data:`BRANCH_BUSINESS`, the close's lock statement) in this transaction.
    """
    assets = {asset_id} | {p.line.asset_id for p in lines}
    _check_refs(session, actor, branch_id, assets - {None}, customer_id, branch_business_id)
    if external_ref and session.scalar(select(Order.id).where(
            Order.business_id == actor.business_id, Order.external_ref == external_ref)):
        raise AlreadyExists("order_reference_closed", ref=external_ref)
    order_id = int(session.execute(_INSERT_ORDER, {
        "business_id": actor.business_id, "branch_id": branch_id, "staff_id": actor.staff_id,
        "customer_id": customer_id, "asset_id": asset_id, "external_ref": external_ref,
        "total_minor": total_minor, "refunded_minor": 0, "discount_minor": discount_minor,
        "program_version_id": program_version_id, "service_category": category,
        "status": "closed", "created_at": now, "closed_at": now,
    }).scalar_one())
    if lines:
        session.execute(_INSERT_LINES, [{
            "business_id": actor.business_id, "order_id": order_id, "position": p.position,
            "name": p.line.name, "kind": p.line.kind.value, "category": p.line.category,
            "asset_id": p.line.asset_id if p.line.asset_id is not None else asset_id,
            "quantity": p.line.quantity, "unit_price_minor": p.line.unit_price,
            "amount_minor": p.line.amount, "discount_minor": p.stamp_discount + p.discount,
            "redeemed_points": p.redeem_points, "accrued_points": p.accrue_points,
            "returned_quantity": 0} for p in lines])
    return order_id


def _check_refs(session: Session, actor: Actor, branch_id: int, assets: set[int | None],
                customer_id: int, branch_business_id: int | None) -> None:
    if branch_business_id is None:
        branch_business_id = session.scalar(_BRANCH_BUSINESS, {"id": branch_id})
    if branch_business_id != actor.business_id:
        raise InvalidInput("unknown_branch", branch_id=branch_id)
    if not actor.may_work_at(branch_id):
        raise PermissionDenied("branch_not_yours", branch_id=branch_id)
    for asset_id in assets:
        asset = session.get(Asset, asset_id)
        if asset is None or asset.customer_id != customer_id:
            raise InvalidInput("asset_not_customers")
