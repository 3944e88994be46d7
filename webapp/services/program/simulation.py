"""Costing a program on the business's own numbers, before it is launched.

The seeds' fourth mistake, "Нет учёта расходов": the estimate uses the business's paid
orders of the last six months when there are enough of them to mean something, and
typical numbers otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from webapp.domain.actor import Actor, Role
from webapp.domain.clock import utcnow
from webapp.domain.errors import InvalidInput, NotFound, PermissionDenied
from webapp.domain.program import BP, ProgramSettings
from webapp.domain.simulation import (
    Assumptions,
    Estimate,
    assumptions_from_history,
    categories_from_history,
    kind_mix_from_history,
    months_before,
    simulate,
)
from webapp.domain.tiers import PaidOrder, tier_index
from webapp.persistence.models import Business, Order, OrderLine
from webapp.services.business import settings as counter_settings
from webapp.services.program import versions as programs
from webapp.services.unit_of_work import reads

HISTORY_MONTHS = 6
MIN_ORDERS = 20  # fewer orders say more about chance than about the business
PAID = ("closed", "partially_refunded")  # a fully refunded order brought no money


@reads
def estimate_for_business(session: Session, actor: Actor,
                          settings: ProgramSettings | None = None,
                          now: datetime | None = None,
                          overrides: Mapping[str, int] | None = None,
                          ) -> tuple[Assumptions, Estimate]:
    """Estimate what ``settings`` (default: the program in force) costs the business a month.

    Customers, visits, the average check, service-category shares and, for tiers, each
    tier's share of revenue are measured from the last six months of paid orders (net of
    refunds) when there are at least ``MIN_ORDERS``; typical numbers otherwise. SMS cost
    what the owner set (:func:`webapp.services.business.settings.save_sms_price`).
    ``overrides`` (Assumptions field names) win over both. A read scope: never writes.
    """
    if not actor.is_at_least(Role.MANAGER):
        raise PermissionDenied("costs_managers_only")
    if session.get(Business, actor.business_id) is None:
        raise NotFound("unknown_business", business_id=actor.business_id)
    known: dict[str, Any] = dict(overrides or {})
    known.setdefault("message_cost", counter_settings.load(session, actor.business_id)
                     .sms_price_minor)  # the business's own price of an SMS
    unknown = sorted(set(known) - {f.name for f in fields(Assumptions)})
    if unknown:
        raise InvalidInput("assumptions_unknown", names=", ".join(unknown))
    now = now or utcnow()
    if settings is None:
        current = programs.current(session, actor, now)
        if current is None:
            raise InvalidInput("simulation_needs_preset")
        settings = current.settings
    window = (Order.business_id == actor.business_id, Order.status.in_(PAID),
              Order.closed_at > months_before(now, HISTORY_MONTHS), Order.closed_at <= now)
    rows = [(at, customer, total, category) for at, customer, total, category in session.execute(
        select(Order.closed_at, Order.customer_id, Order.total_minor - Order.refunded_minor,
               Order.service_category).where(*window)
    ) if at is not None]
    if len(rows) < MIN_ORDERS:
        assumptions = Assumptions(**known)
    else:
        known.setdefault("categories", categories_from_history(
            (category, total) for _, _, total, category in rows))
        if any(rule.kind is not None for rule in settings.line_rules):
            known.setdefault("kind_mix_bp", kind_mix_from_history(session.execute(
                select(OrderLine.kind, (OrderLine.quantity - OrderLine.returned_quantity)
                       * OrderLine.unit_price_minor)
                .join(Order, Order.id == OrderLine.order_id).where(*window)).all()))
        if settings.tiers and "tier_mix_bp" not in known:
            active = select(Order.customer_id).where(*window).distinct()
            known["tier_mix_bp"] = _tier_mix(session, actor, settings, rows, active, now)
        assumptions = assumptions_from_history(
            ((at, customer, total) for at, customer, total, _ in rows), now, HISTORY_MONTHS,
            **known)
    return assumptions, simulate(settings, assumptions)


def _tier_mix(session: Session, actor: Actor, settings: ProgramSettings,
              rows: Sequence[tuple[datetime, int, int, str | None]], active: Select[Any],
              now: datetime) -> tuple[int, ...]:
    """Each tier's share of the window's revenue, by the tier its customers hold now."""
    revenue: dict[int, int] = defaultdict(int)
    for _, customer, total, _ in rows:
        revenue[customer] += total
    history: dict[int, list[PaidOrder]] = defaultdict(list)
    for at, customer, total in session.execute(  # tiers count the whole history (I10)
        select(Order.closed_at, Order.customer_id, Order.total_minor - Order.refunded_minor)
        .where(Order.business_id == actor.business_id, Order.status.in_(PAID),
               Order.customer_id.in_(active), Order.closed_at <= now)
    ):
        if at is not None:
            history[customer].append(PaidOrder(at, total))
    by_tier = [0] * len(settings.tiers)
    for customer, amount in revenue.items():
        index = tier_index(settings, history[customer], now)
        if index is not None:
            by_tier[index] += amount
    whole = sum(revenue.values()) or 1
    return tuple(amount * BP // whole for amount in by_tier)  # rounded down: sum <= 100 %
