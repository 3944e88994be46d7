"""Random sequences of ledger operations against a plain Python model of the ledger.

After every step the service's answers and balances must match the model, and
``check-ledger`` must find nothing. Each hypothesis example runs in a savepoint on
the ``session`` fixture's connection, rolled back afterwards.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine as Machine
from hypothesis.stateful import invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from tests.conftest import T0
from webapp.domain.actor import Actor
from webapp.domain.errors import AlreadyResolved, InsufficientPoints, InvalidAmount
from webapp.persistence.models import Branch, Business, Customer
from webapp.services.counter import orders
from webapp.services.ledger import balances
from webapp.services.ledger import invariants as ledger_check
from webapp.services.ledger import operations as ledger

Result = dict[str, Any]
customer_index = st.integers(0, 2)  # three customers
any_index = st.integers(0, 10_000)
expiry_hours = st.one_of(st.none(), st.integers(1, 90 * 24))
# Zero often: an order that earns nothing at the counter can take a pending hold.
order_points = st.one_of(st.just(0), st.integers(1, 400))


@dataclass
class LotM:
    remaining: int
    earned_at: datetime
    expires_at: datetime | None

    def usable(self, now: datetime) -> bool:
        return self.remaining > 0 and (self.expires_at is None or self.expires_at > now)


@dataclass
class CustomerM:
    id: int
    available: int = 0
    pending: int = 0
    owed: int = 0
    lots: list[LotM] = field(default_factory=list)


@dataclass
class HoldM:
    id: int
    customer: CustomerM
    points: int
    order: OrderM | None
    taken: int = 0  # what refunds took out of pending before it resolved
    resolved: bool = False


@dataclass
class OrderM:
    id: int
    customer: CustomerM
    total: int
    earned: int  # less a cancelled hold: what the order really gave the customer
    spent: int
    refunded: int = 0
    taken: int = 0
    returned: int = 0
    hold: HoldM | None = None


class LedgerMachine(Machine):
    # The test's connection, manager, branch and customers: made once by fixtures, not
    # per example (argon2-hashing the manager's password takes a while).
    world: ClassVar[tuple[Connection, Actor, int, list[int]]]

    def __init__(self) -> None:
        super().__init__()
        connection, self.actor, self.branch_id, customer_ids = self.world
        # Like conftest's `session` fixture one level down: the example runs in a
        # savepoint rolled back at teardown, and the session's commits are savepoints.
        self.example = connection.begin_nested()
        self.db = Session(bind=connection, join_transaction_mode="create_savepoint",
                          expire_on_commit=False)
        self.customers = [CustomerM(i) for i in customer_ids]
        self.now = T0
        self.keys = itertools.count()
        self.orders: list[OrderM] = []
        self.holds: list[HoldM] = []
        self.last: tuple[Callable[[], Result], Result] | None = None
        # Whose balances the next invariant run reads (each read costs time).
        self.touched = set(customer_ids)

    def teardown(self) -> None:
        self.db.close()
        self.example.rollback()

    def usable(self, c: CustomerM) -> int:
        return sum(lot.remaining for lot in c.lots if lot.usable(self.now))

    def take(self, c: CustomerM, amount: int) -> None:
        """Soonest expiry first, never-expiring last, expired never (DESIGN.md I8)."""
        # sorted() is stable and c.lots is in creation (id) order: ties go to the older lot.
        live = sorted((lot for lot in c.lots if lot.usable(self.now)), key=lambda lot: (
            lot.expires_at is None, lot.expires_at or lot.earned_at, lot.earned_at))
        c.available -= amount
        for lot in live:
            step = min(lot.remaining, amount)
            lot.remaining -= step
            amount -= step
        assert amount == 0

    def add_lot(self, c: CustomerM, points: int, hours: int | None) -> None:
        c.lots.append(LotM(points, self.now, self.expires(hours)))
        c.available += points

    def credit(self, c: CustomerM, points: int, hours: int | None) -> None:
        settle = min(points, c.owed)  # a clawback debt is paid first
        c.owed -= settle
        if points > settle:
            self.add_lot(c, points - settle, hours)

    def expires(self, hours: int | None) -> datetime | None:
        return None if hours is None else self.now + timedelta(hours=hours)

    def tick(self) -> None:
        # Every write comes a minute after the last: lots get distinct earning times.
        self.now += timedelta(minutes=1)

    def customer(self, i: int) -> CustomerM:
        self.tick()
        return self.customers[i]

    def call(self, c: CustomerM, fn: Callable[..., Result], **kwargs: Any) -> Result:
        """Run one write with a fresh key, compare its answer, remember it for a retry."""
        self.touched.add(c.id)
        key = f"stateful-{next(self.keys):06d}"
        run = lambda: fn(self.db, self.actor, key, now=self.now, **kwargs)  # noqa: E731
        result = run()
        self.last = (run, result)
        assert (result["available"], result["pending"], result["owed"]) == (
            c.available, c.pending, c.owed), result
        return result

    def refused(self, error: type[Exception], c: CustomerM, fn: Callable[..., Result],
                **kwargs: Any) -> None:
        """An error the model predicts; the invariants then check that nothing changed."""
        with pytest.raises(error):
            self.call(c, fn, **kwargs)

    def spend(self, c: CustomerM, amount: int, fn: Callable[..., Result], **kwargs: Any) -> None:
        if amount > self.usable(c):  # lots past expiry don't count, swept or not
            return self.refused(InsufficientPoints, c, fn, **kwargs)
        self.take(c, amount)
        self.call(c, fn, **kwargs)

    @rule(i=customer_index, points=st.integers(1, 500), hours=expiry_hours)
    def accrue(self, i: int, points: int, hours: int | None) -> None:
        c = self.customer(i)
        self.credit(c, points, hours)
        self.call(c, ledger.accrue, customer_id=c.id, points=points,
                  expires_at=self.expires(hours))

    @rule(i=customer_index, points=st.integers(1, 600))
    def redeem(self, i: int, points: int) -> None:
        c = self.customer(i)
        self.spend(c, points, ledger.redeem, customer_id=c.id, points=points)

    @rule(i=customer_index, points=st.integers(1, 400), days=st.integers(1, 30),
          for_order=st.booleans())
    def hold(self, i: int, points: int, days: int, for_order: bool) -> None:
        c = self.customer(i)
        # A hold may be the accrual of an order that earned nothing at the counter.
        free = [o for o in self.orders
                if o.customer is c and not o.earned and not o.hold and not o.refunded]
        order = free[0] if for_order and free else None
        c.pending += points
        result = self.call(c, ledger.hold, customer_id=c.id, points=points,
                           order_id=order.id if order else None,
                           release_at=self.now + timedelta(days=days))
        self.holds.append(HoldM(result["operation_id"], c, points, order))
        if order:
            order.hold, order.earned = self.holds[-1], points

    @precondition(lambda self: self.holds)
    @rule(n=any_index, release=st.booleans(), hours=expiry_hours)
    def resolve(self, n: int, release: bool, hours: int | None) -> None:
        self.tick()
        held = self.holds[n % len(self.holds)]
        c = held.customer
        fn = ledger.release if release else ledger.cancel
        extra = {"expires_at": self.expires(hours)} if release else {}
        if held.resolved:  # I7: exactly once
            return self.refused(AlreadyResolved, c, fn, hold_id=held.id, **extra)
        amount = held.points - held.taken
        held.resolved = True
        c.pending -= amount
        if release:
            self.credit(c, amount, hours)
        elif held.order:  # cancelled: the order never gave the customer these points
            held.order.earned -= amount
        assert self.call(c, fn, hold_id=held.id, **extra)["points"] == amount

    @rule(i=customer_index, total=st.integers(1, 50_000), accrue=order_points,
          redeem=order_points, hours=expiry_hours)
    def close_order(self, i: int, total: int, accrue: int, redeem: int,
                    hours: int | None) -> None:
        c = self.customer(i)
        kwargs = {"customer_id": c.id, "branch_id": self.branch_id, "total_minor": total,
                  "accrue_points": accrue, "redeem_points": redeem,
                  "expires_at": self.expires(hours)}
        if redeem > self.usable(c):  # the whole close rolls back, the order included
            return self.refused(InsufficientPoints, c, orders.close_order, **kwargs)
        self.take(c, redeem)
        if accrue:
            self.credit(c, accrue, hours)
        result = self.call(c, orders.close_order, **kwargs)
        self.orders.append(OrderM(result["order_id"], c, total, accrue, redeem))

    @precondition(lambda self: self.orders)
    @rule(n=any_index, share=st.integers(1, 110), hours=expiry_hours)
    def reverse(self, n: int, share: int, hours: int | None) -> None:
        self.tick()
        order = self.orders[n % len(self.orders)]
        c, left = order.customer, order.total - order.refunded
        # A share up to 100% refunds part of what is left; above, more than that.
        refund = max(1, left * share // 100) if share <= 100 else left + share - 100
        if refund > left:
            return self.refused(InvalidAmount, c, ledger.reverse, order_id=order.id,
                                refund_minor=refund)
        order.refunded += refund
        # I5: the cumulative reversal is the refunded share, rounded down.
        to_take = max(order.earned * order.refunded // order.total - order.taken, 0)
        to_return = max(order.spent * order.refunded // order.total - order.returned, 0)
        order.taken += to_take
        order.returned += to_return
        points = to_take - to_return
        if order.hold and not order.hold.resolved:  # out of pending first
            from_pending = min(order.hold.points - order.hold.taken, to_take)
            order.hold.taken += from_pending
            c.pending -= from_pending
            to_take -= from_pending
        from_lots = min(to_take, self.usable(c))
        self.take(c, from_lots)
        c.owed += to_take - from_lots  # already spent: the customer owes it
        if to_return:
            self.add_lot(c, to_return, hours)
        result = self.call(c, ledger.reverse, order_id=order.id, refund_minor=refund,
                           expires_at=self.expires(hours))
        assert result["points"] == points

    @rule(hours=st.integers(0, 45 * 24))
    def expire_due(self, hours: int) -> None:
        self.now += timedelta(hours=hours)
        due = 0
        for c in self.customers:
            for lot in c.lots:
                if lot.remaining and not lot.usable(self.now):  # its time has come
                    due += lot.remaining
                    c.available -= lot.remaining
                    lot.remaining = 0
        assert ledger.expire_due(self.db, self.actor, now=self.now) == due
        self.touched.update(c.id for c in self.customers)

    @rule(i=customer_index, points=st.integers(-300, 300).filter(bool), hours=expiry_hours)
    def adjust(self, i: int, points: int, hours: int | None) -> None:
        c = self.customer(i)
        kwargs = {"customer_id": c.id, "points": points, "reason": "Stateful test",
                  "expires_at": self.expires(hours) if points > 0 else None}
        if points < 0:
            return self.spend(c, -points, ledger.adjust, **kwargs)
        self.add_lot(c, points, hours)  # an adjustment does not settle a debt
        self.call(c, ledger.adjust, **kwargs)

    @precondition(lambda self: self.last)
    @rule()
    def retry_last(self) -> None:
        """I4: the same key and request again returns the stored result, writes nothing."""
        assert self.last is not None
        run, first = self.last
        assert run() == first

    @invariant()
    def balances_match_model(self) -> None:
        horizon = self.now + timedelta(days=30)
        for c in (c for c in self.customers if c.id in self.touched):
            seen = balances.balance(self.db, self.actor, c.id, now=self.now,
                                  horizon=timedelta(days=30))
            assert (seen.available, seen.pending, seen.owed) == (c.available, c.pending, c.owed)
            expiring: Counter[datetime] = Counter()  # I8: the customer sees what expires when
            for lot in c.lots:
                if lot.usable(self.now) and lot.expires_at and lot.expires_at <= horizon:
                    expiring[lot.expires_at] += lot.remaining
            assert seen.expiring == sorted(expiring.items())
        self.touched.clear()

    @invariant()
    def ledger_checks_clean(self) -> None:
        report = ledger_check.check(self.db, now=self.now)
        failed = [f"{f.invariant} {f.title}: {f.violations}" for f in report.findings if not f.ok]
        assert report.ok, "\n".join(failed)


def test_ledger_matches_model(session: Session, business: Business, manager: Actor,
                              branch: Branch, make_customer: Callable[..., Customer]) -> None:
    connection = session.get_bind()  # the fixture's, inside a transaction rolled back after
    assert isinstance(connection, Connection)
    LedgerMachine.world = (connection, manager, branch.id,
                           [make_customer(business).id for _ in range(3)])
    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=20, stateful_step_count=25, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
