"""Reads and writes of the points ledger, with the guarded updates DESIGN.md asks for.

Every balance change is an ``UPDATE ... WHERE balance >= :x`` (or the clawback
mirror of it); zero rows updated means the move would break I3, and the caller's
transaction is rolled back by the service.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from webapp.domain import ledger as rules
from webapp.domain.errors import InsufficientPoints, UnknownCustomer
from webapp.domain.ledger import AccountKind
from webapp.persistence.models import Account, Customer, Entry, Lot, Operation, Transfer


class LedgerStore:
    """The ledger tables of one business, seen through one session."""

    def __init__(self, session: Session, business_id: int) -> None:
        self.session = session
        self.business_id = business_id
        self._system: dict[str, int] = {}

    # -- accounts -----------------------------------------------------------------

    def system_account(self, kind: AccountKind) -> int:
        if kind not in self._system:
            account_id = self.session.scalar(
                select(Account.id).where(
                    Account.business_id == self.business_id,
                    Account.customer_id.is_(None),
                    Account.kind == kind.value,
                )
            )
            if account_id is None:
                raise LookupError(f"business {self.business_id} has no {kind} account")
            self._system[kind] = account_id
        return self._system[kind]

    def lock_customer(self, customer_id: int) -> dict[AccountKind, int]:
        """Lock the customer's accounts (FOR UPDATE on PostgreSQL) and return their ids.

        Every ledger write for a customer takes this lock first, so concurrent
        writes for one customer queue up in one order and never deadlock.
        SQLite needs no row lock: BEGIN IMMEDIATE already serialises writers.
        """
        rows = self.session.execute(
            select(Account.kind, Account.id)
            .join(Customer, Customer.id == Account.customer_id)
            .where(Account.customer_id == customer_id, Customer.business_id == self.business_id)
            .order_by(Account.id)
            .with_for_update(of=Account)
        ).all()
        if not rows:
            raise UnknownCustomer("No such customer.", customer_id=customer_id)
        return {AccountKind(kind): account_id for kind, account_id in rows}

    def balances(self, customer_id: int) -> dict[AccountKind, int]:
        rows = self.session.execute(
            select(Account.kind, Account.balance).where(Account.customer_id == customer_id)
        ).all()
        return {AccountKind(kind): balance or 0 for kind, balance in rows}

    # -- operations and transfers ---------------------------------------------------

    def add_operation(self, **fields: object) -> Operation:
        operation = Operation(business_id=self.business_id, **fields)
        self.session.add(operation)
        self.session.flush()
        return operation

    def move(
        self,
        operation: Operation,
        debit: int,
        credit: int,
        amount: int,
        *,
        lot_id: int | None = None,
    ) -> None:
        """Write one transfer (two entries) and apply it to the cached balances."""
        rules.require_points(amount)
        self._apply(debit, -amount)
        self._apply(credit, amount)
        transfer_id = self.session.execute(
            insert(Transfer)
            .values(
                operation_id=operation.id,
                debit_account_id=debit,
                credit_account_id=credit,
                amount=amount,
                lot_id=lot_id,
                created_at=operation.created_at,
            )
            .returning(Transfer.id)
        ).scalar_one()
        self.session.execute(
            insert(Entry),
            [
                {"transfer_id": transfer_id, "account_id": debit, "amount": -amount},
                {"transfer_id": transfer_id, "account_id": credit, "amount": amount},
            ],
        )

    def _apply(self, account_id: int, delta: int) -> None:
        # System accounts (balance IS NULL) are left alone; customer accounts are
        # guarded so the update itself refuses to cross zero (I3).
        guard = (
            (Account.balance.is_(None))
            | ((Account.kind != AccountKind.CLAWBACK.value) & (Account.balance + delta >= 0))
            | ((Account.kind == AccountKind.CLAWBACK.value) & (Account.balance + delta <= 0))
        )
        result = self.session.execute(
            update(Account)
            .where(Account.id == account_id, guard)
            .values(balance=Account.balance + delta)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise InsufficientPoints("Not enough points for this operation.")

    # -- lots -----------------------------------------------------------------------

    def open_lots(self, customer_id: int) -> list[rules.Lot]:
        rows = self.session.execute(
            select(Lot.id, Lot.remaining, Lot.earned_at, Lot.expires_at).where(
                Lot.customer_id == customer_id, Lot.remaining > 0
            )
        ).all()
        return [rules.Lot(*row) for row in rows]

    def add_lot(
        self,
        customer_id: int,
        operation: Operation,
        amount: int,
        earned_at: datetime,
        expires_at: datetime | None,
    ) -> int:
        return self.session.execute(
            insert(Lot)
            .values(
                business_id=self.business_id,
                customer_id=customer_id,
                source_operation_id=operation.id,
                initial=amount,
                remaining=amount,
                earned_at=earned_at,
                expires_at=expires_at,
            )
            .returning(Lot.id)
        ).scalar_one()

    def take_from_lots(
        self, operation: Operation, plan: Sequence[tuple[int, int]], debit: int, credit: int
    ) -> int:
        """Consume lots as planned, one transfer per lot; returns the total taken."""
        for lot_id, amount in plan:
            result = self.session.execute(
                update(Lot)
                .where(Lot.id == lot_id, Lot.remaining >= amount)
                .values(remaining=Lot.remaining - amount)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise InsufficientPoints("Not enough points for this operation.")
            self.move(operation, debit, credit, amount, lot_id=lot_id)
        return sum(amount for _, amount in plan)

    # -- order history for refunds --------------------------------------------------

    def moved_for_order(self, order_id: int, kinds: Sequence[str], debit: int | None = None,
                        credit: int | None = None) -> int:
        """Points moved by this order's operations of the given kinds (and accounts)."""
        query = (
            select(func.coalesce(func.sum(Transfer.amount), 0))
            .join(Operation, Operation.id == Transfer.operation_id)
            .where(Operation.order_id == order_id, Operation.kind.in_(kinds))
        )
        if debit is not None:
            query = query.where(Transfer.debit_account_id == debit)
        if credit is not None:
            query = query.where(Transfer.credit_account_id == credit)
        return int(self.session.scalar(query) or 0)
