"""Reads and writes of the points ledger, with the guarded updates DESIGN.md asks for.

One store serves one write for one customer: :meth:`LedgerStore.lock` takes the
customer's account rows (FOR UPDATE on PostgreSQL) and reads the business's system
account ids in the same query. Only customer accounts carry a cached balance, so
only their rows are ever updated: no two customers' writes wait on a shared row.

Every balance change is ``UPDATE ... WHERE balance + :delta >= 0`` (or ``<= 0``
for clawback); zero rows updated means the move would break I3, and the caller's
transaction is rolled back by the service. Statements are built once (module
level constants) because building SQL expressions dominated the per-call cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, and_, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from webapp.domain import ledger as rules
from webapp.domain.errors import InsufficientPoints, UnknownCustomer
from webapp.domain.ledger import AccountKind
from webapp.persistence.ledger_chain import CREDIT_WITH_LOT, SPEND_FROM_LOTS
from webapp.persistence.models import Account, Customer, Entry, Lot, Operation, Transfer

# Statements on the tables (Core), not through the ORM: the ORM adds per-statement
# work (its compile plugin, identity-map synchronisation) that the ledger, which
# never loads these rows as objects, does not need.
_accounts, _customers, _lots = (cast(Table, m.__table__) for m in (Account, Customer, Lot))
_system = _accounts.alias("accounts_1")
_READ = (
    select(_accounts.c.kind, _accounts.c.id, _accounts.c.balance, _system.c.kind,
           _system.c.id)
    .join(_customers, _customers.c.id == _accounts.c.customer_id)
    .join(_system, and_(_system.c.business_id == _customers.c.business_id,
                        _system.c.customer_id.is_(None)))
    .where(_accounts.c.customer_id == bindparam("customer_id"),
           _customers.c.business_id == bindparam("business_id"))
)
_LOCK = _READ.with_for_update(of=_accounts)
# For callers that read more in the lock's round trip (:meth:`LedgerStore.lock_with`):
# add columns and joins to this; ``CUSTOMERS`` is the customer's row already joined.
LOCK = _LOCK
CUSTOMERS = _customers
_ADD = update(_accounts).where(
    _accounts.c.id == bindparam("account_id"), _accounts.c.balance + bindparam("delta") >= 0
).values(balance=_accounts.c.balance + bindparam("delta"))
_ADD_CLAWBACK = update(_accounts).where(
    _accounts.c.id == bindparam("account_id"), _accounts.c.balance + bindparam("delta") <= 0
).values(balance=_accounts.c.balance + bindparam("delta"))
_operations, _transfers = cast(Table, Operation.__table__), cast(Table, Transfer.__table__)
_INSERT_OPERATION = insert(_operations).returning(_operations.c.id)
_INSERT_TRANSFER = insert(_transfers).returning(_transfers.c.id)
_INSERT_LOT = insert(_lots).returning(_lots.c.id)
# Both entries of a transfer in one statement (one round trip, not an executemany).
_INSERT_ENTRIES = insert(cast(Table, Entry.__table__)).values([
    {"business_id": bindparam("business_id"), "transfer_id": bindparam("transfer_id"),
     "account_id": bindparam("debit_id"), "amount": bindparam("debit_amount")},
    {"business_id": bindparam("business_id"), "transfer_id": bindparam("transfer_id"),
     "account_id": bindparam("credit_id"), "amount": bindparam("amount")},
])
_TAKE_FROM_LOT = update(_lots).where(
    _lots.c.id == bindparam("lot_id"), _lots.c.remaining >= bindparam("amount")
).values(remaining=_lots.c.remaining - bindparam("amount"))
_OPEN_LOTS = select(_lots.c.id, _lots.c.remaining, _lots.c.earned_at, _lots.c.expires_at).where(
    _lots.c.customer_id == bindparam("customer_id"), _lots.c.remaining > 0
)


@dataclass(frozen=True)
class OperationRow:
    """The operation just written (the row is append-only, so this stays true)."""

    id: int
    kind: str
    points: int
    created_at: datetime


class LedgerStore:
    """The ledger of one customer of one business, seen through one session."""

    def __init__(self, session: Session, business_id: int) -> None:
        self.session = session
        self.business_id = business_id
        self.customer_id: int | None = None
        self.accounts: dict[AccountKind, int] = {}  # customer's and system ids by kind
        self.balances: dict[AccountKind, int] = {}  # the customer's, kept current
        self._kind_of: dict[int, AccountKind] = {}
        self._chained: bool | None = None

    def lock(self, customer_id: int) -> LedgerStore:
        """Lock the customer's accounts and learn every account id; UnknownCustomer if none.

        Every ledger write for a customer takes this lock first, so concurrent writes
        for one customer queue in one order and never deadlock. SQLite needs no row
        lock: BEGIN IMMEDIATE already serialises writers.
        """
        return self._load(_LOCK, customer_id)

    def read(self, customer_id: int) -> LedgerStore:
        """Like :meth:`lock` without the row lock: for read-only uses such as a quote."""
        return self._load(_READ, customer_id)

    def lock_with(self, statement: Any, customer_id: int, **params: Any) -> Row[Any]:
        """:meth:`lock` with ``statement`` (:data:`LOCK` with more columns and joins,
        bound by ``params`` too): returns its first row, for the columns added, so that
        a close reads what it needs in the lock's own round trip."""
        rows = self._rows(statement, customer_id, params)
        self._take(rows, customer_id)
        return rows[0]

    def _load(self, statement: Any, customer_id: int) -> LedgerStore:
        self._take(self._rows(statement, customer_id, {}), customer_id)
        return self

    def _rows(self, statement: Any, customer_id: int,
              params: dict[str, Any]) -> Sequence[Row[Any]]:
        return self.session.execute(
            statement, {"customer_id": customer_id, "business_id": self.business_id, **params}
        ).all()

    def _take(self, rows: Sequence[Row[Any]], customer_id: int) -> None:
        if not rows:
            raise UnknownCustomer(customer_id=customer_id)
        self.customer_id = customer_id
        for kind, account_id, balance, system_kind, system_id, *_ in rows:  # type: ignore[misc]
            self.accounts[AccountKind(kind)] = account_id
            self.balances[AccountKind(kind)] = balance or 0
            self.accounts[AccountKind(system_kind)] = system_id
        self._kind_of = {account_id: kind for kind, account_id in self.accounts.items()}

    def __getitem__(self, kind: AccountKind) -> int:
        """The id of the customer's or the business's account of this kind."""
        return self.accounts[kind]

    # -- operations and transfers ---------------------------------------------------

    def add_operation(self, *, kind: str, points: int, created_at: datetime,
                      **fields: object) -> OperationRow:
        """Insert an operation of the locked customer and return it."""
        operation_id = self.session.execute(_INSERT_OPERATION, {
            "business_id": self.business_id, "customer_id": self.customer_id, "kind": kind,
            "points": points, "created_at": created_at, **fields,
        }).scalar_one()
        return OperationRow(operation_id, kind, points, created_at)

    def add_credited(self, *, kind: str, points: int, created_at: datetime,
                     expires_at: datetime | None, debit: AccountKind, credit: AccountKind,
                     order_id: int | None = None, staff_id: int | None = None,
                     reason: str | None = None) -> OperationRow:
        """Insert an operation whose ``points`` all go ``debit`` -> ``credit`` as one new
        lot (expiring at ``expires_at``): the rows of :meth:`add_operation`,
        :meth:`add_lot` and :meth:`move`, in one statement on PostgreSQL
        (:mod:`webapp.persistence.ledger_chain`). ``debit`` is a system account and
        ``credit`` a customer's balance other than clawback."""
        assert not debit.per_customer and credit.per_customer
        assert credit is not AccountKind.CLAWBACK
        if not self._chains():
            op = self.add_operation(kind=kind, points=points, created_at=created_at,
                                    order_id=order_id, staff_id=staff_id, reason=reason)
            lot = self.add_lot(op, points, expires_at)
            self.move(op, debit, credit, points, lot_id=lot)
            return op
        rules.require_points(points)
        operation_id, entries, balances = self.session.execute(CREDIT_WITH_LOT, {
            "c_business_id": self.business_id, "c_customer_id": self.customer_id,
            "c_kind": kind, "c_points": points, "c_order_id": order_id,
            "c_staff_id": staff_id, "c_reason": reason, "c_created_at": created_at,
            "c_expires_at": expires_at, "c_debit_id": self.accounts[debit],
            "c_credit_id": self.accounts[credit],
        }).one()
        if balances != 1 or entries != 2:
            raise InsufficientPoints()
        self.balances[credit] += points
        return OperationRow(operation_id, kind, points, created_at)

    def add_taken(self, *, kind: str, points: int, created_at: datetime,
                  plan: Sequence[tuple[int, int]], credit: AccountKind,
                  order_id: int | None = None, staff_id: int | None = None) -> OperationRow:
        """Insert an operation that takes ``plan`` (lot id, points) out of available into
        the system account ``credit``: the rows of :meth:`add_operation` and
        :meth:`take_from_lots`, in one statement on PostgreSQL
        (:data:`~webapp.persistence.ledger_chain.SPEND_FROM_LOTS`); InsufficientPoints
        if a lot or the balance has less than planned."""
        assert not credit.per_customer and points == sum(amount for _, amount in plan)
        if not self._chains():
            op = self.add_operation(kind=kind, points=points, created_at=created_at,
                                    order_id=order_id, staff_id=staff_id)
            self.take_from_lots(op, plan, credit)
            return op
        for _, amount in plan:
            rules.require_points(amount)
        operation_id, lots, entries, balances = self.session.execute(SPEND_FROM_LOTS, {
            "c_business_id": self.business_id, "c_customer_id": self.customer_id,
            "c_kind": kind, "c_points": points, "c_order_id": order_id,
            "c_staff_id": staff_id, "c_reason": None, "c_created_at": created_at,
            "c_debit_id": self.accounts[AccountKind.AVAILABLE],
            "c_credit_id": self.accounts[credit],
            "c_lot_ids": [lot for lot, _ in plan], "c_amounts": [a for _, a in plan],
        }).one()
        if (lots, entries, balances) != (len(plan), 2 * len(plan), 1):
            raise InsufficientPoints()
        self.balances[AccountKind.AVAILABLE] -= points
        return OperationRow(operation_id, kind, points, created_at)

    def _chains(self) -> bool:
        """Whether this engine chains a write's statements into one (PostgreSQL)."""
        if self._chained is None:
            self._chained = self.session.get_bind().dialect.name == "postgresql"
        return self._chained

    def move(self, operation: OperationRow, debit: AccountKind, credit: AccountKind,
             amount: int, *, lot_id: int | None = None) -> None:
        """Write one transfer (two entries) and apply it to the cached balances."""
        rules.require_points(amount)
        debit_id, credit_id = self.accounts[debit], self.accounts[credit]
        self._apply(debit, -amount)
        self._apply(credit, amount)
        transfer_id = self.session.execute(_INSERT_TRANSFER, {
            "business_id": self.business_id, "operation_id": operation.id,
            "debit_account_id": debit_id,
            "credit_account_id": credit_id, "amount": amount, "lot_id": lot_id,
            "created_at": operation.created_at,
        }).scalar_one()
        self.session.execute(_INSERT_ENTRIES, {
            "business_id": self.business_id, "transfer_id": transfer_id, "debit_id": debit_id,
            "debit_amount": -amount, "credit_id": credit_id, "amount": amount,
        })

    def _apply(self, kind: AccountKind, delta: int) -> None:
        if not kind.per_customer:  # system accounts keep no balance: never touch their row
            return
        statement = _ADD_CLAWBACK if kind is AccountKind.CLAWBACK else _ADD
        result = self.session.execute(statement,
                                      {"account_id": self.accounts[kind], "delta": delta})
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise InsufficientPoints()
        self.balances[kind] += delta

    # -- lots -----------------------------------------------------------------------

    def open_lots(self) -> list[rules.Lot]:
        rows = self.session.execute(_OPEN_LOTS, {"customer_id": self.customer_id}).all()
        return [rules.Lot(*row) for row in rows]

    def add_lot(self, operation: OperationRow, amount: int,
                expires_at: datetime | None) -> int:
        return int(self.session.execute(_INSERT_LOT, {
            "business_id": self.business_id, "customer_id": self.customer_id,
            "source_operation_id": operation.id, "initial": amount, "remaining": amount,
            "earned_at": operation.created_at, "expires_at": expires_at,
        }).scalar_one())

    def take_from_lots(self, operation: OperationRow, plan: Sequence[tuple[int, int]],
                       credit: AccountKind) -> int:
        """Consume lots out of available as planned, one transfer per lot; returns the total."""
        for lot_id, amount in plan:
            result = self.session.execute(_TAKE_FROM_LOT, {"lot_id": lot_id, "amount": amount})
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise InsufficientPoints()
            self.move(operation, AccountKind.AVAILABLE, credit, amount, lot_id=lot_id)
        return sum(amount for _, amount in plan)

    # -- order history for refunds --------------------------------------------------

    def moved_for_order(self, order_id: int, kinds: Sequence[str],
                        debit: AccountKind | None = None,
                        credit: AccountKind | None = None) -> int:
        """Points moved by this order's operations of the given kinds (and accounts)."""
        query = (
            select(func.coalesce(func.sum(Transfer.amount), 0))
            .join(Operation, Operation.id == Transfer.operation_id)
            .where(Operation.order_id == order_id, Operation.kind.in_(kinds),
                   Transfer.business_id == self.business_id)
        )
        if debit is not None:
            query = query.where(Transfer.debit_account_id == self.accounts[debit])
        if credit is not None:
            query = query.where(Transfer.credit_account_id == self.accounts[credit])
        return int(self.session.scalar(query) or 0)
