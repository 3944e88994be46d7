"""A credited operation, or a redemption, in one round trip on PostgreSQL: operation,
lots, transfers, entries and the balance update chained as data-modifying CTEs.

An accrual that settles no clawback debt writes an operation, a lot of its points, one
transfer from a system account to the customer's account and its two entries, and adds
the points to that account's cached balance: five statements one after another, each
waiting for the previous one's id. PostgreSQL runs them as one statement (every
``WITH ... INSERT ... RETURNING`` runs exactly once, in the same snapshot); SQLite has
no data-modifying CTEs, so :class:`~webapp.persistence.ledger_store.LedgerStore` writes
the same rows one statement at a time there. The rows written are the same either way.

Built once on the tables (Core, with the columns' own types, so ``UTCDateTime`` still
stores UTC).
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, literal_column, select, true, update
from sqlalchemy.dialects.postgresql import ARRAY

from webapp.persistence.models import Account, Entry, Lot, Operation, Transfer

_ops, _lots, _transfers, _entries, _accounts = (
    cast(Table, m.__table__) for m in (Operation, Lot, Transfer, Entry, Account))


def _bp(name: str, table: Table, column: str) -> Any:
    """A bound parameter ``c_<name>`` typed like ``table.column`` (one name, one value).

    The prefix keeps every parameter's name apart from the tables' column names: a DML
    statement would otherwise take a parameter named like a column as a value to SET.
    """
    return bindparam(f"c_{name}", type_=table.c[column].type)


_op = (
    insert(_ops)
    .values(business_id=_bp("business_id", _ops, "business_id"),
            customer_id=_bp("customer_id", _ops, "customer_id"),
            kind=_bp("kind", _ops, "kind"), points=_bp("points", _ops, "points"),
            order_id=_bp("order_id", _ops, "order_id"),
            staff_id=_bp("staff_id", _ops, "staff_id"),
            reason=_bp("reason", _ops, "reason"),
            created_at=_bp("created_at", _ops, "created_at"))
    .returning(_ops.c.id)
    .cte("op")
)
_lot = (
    insert(_lots)
    .from_select(
        ["business_id", "customer_id", "source_operation_id", "initial", "remaining",
         "earned_at", "expires_at"],
        select(_bp("business_id", _lots, "business_id"),
               _bp("customer_id", _lots, "customer_id"), _op.c.id,
               _bp("points", _lots, "initial"), _bp("points", _lots, "remaining"),
               _bp("created_at", _lots, "earned_at"),
               _bp("expires_at", _lots, "expires_at")))
    .returning(_lots.c.id)
    .cte("lot")
)
_transfer = (
    insert(_transfers)
    .from_select(
        ["business_id", "operation_id", "debit_account_id", "credit_account_id", "amount",
         "lot_id", "created_at"],
        select(_bp("business_id", _transfers, "business_id"), _op.c.id,
               _bp("debit_id", _transfers, "debit_account_id"),
               _bp("credit_id", _transfers, "credit_account_id"),
               _bp("points", _transfers, "amount"), _lot.c.id,
               _bp("created_at", _transfers, "created_at"))
        .select_from(_op.join(_lot, true())))
    .returning(_transfers.c.id)
    .cte("transfer")
)
_two_entries = select(
    _bp("business_id", _entries, "business_id"), _transfer.c.id,
    _bp("debit_id", _entries, "account_id"),
    literal_column("0", _entries.c.amount.type) - _bp("points", _entries, "amount"),
).union_all(select(
    _bp("business_id", _entries, "business_id"), _transfer.c.id,
    _bp("credit_id", _entries, "account_id"), _bp("points", _entries, "amount"),
))
_entry_rows = (
    insert(_entries)
    .from_select(["business_id", "transfer_id", "account_id", "amount"], _two_entries)
    .returning(_entries.c.id)
    .cte("entry")
)
# The same guard as LedgerStore's: a credit never takes a balance below zero.
_balance = (
    update(_accounts)
    .where(_accounts.c.id == _bp("credit_id", _accounts, "id"),
           _accounts.c.balance + _bp("points", _accounts, "balance") >= literal_column("0"))
    .values(balance=_accounts.c.balance + _bp("points", _accounts, "balance"))
    .returning(_accounts.c.id)
    .cte("balance")
)
# Parameters: c_business_id, c_customer_id, c_kind, c_points, c_order_id, c_staff_id,
# c_reason, c_created_at, c_expires_at, c_debit_id, c_credit_id.
# One row: the operation's id, how many entries were written (2) and balances updated (1).
CREDIT_WITH_LOT = select(
    _op.c.id,
    select(func.count()).select_from(_entry_rows).scalar_subquery().label("entries"),
    select(func.count()).select_from(_balance).scalar_subquery().label("balances"),
)


# -- a redemption: operation, lots taken, one transfer (two entries) per lot, balance --

_plan = func.unnest(
    bindparam("c_lot_ids", type_=ARRAY(_lots.c.id.type)),
    bindparam("c_amounts", type_=ARRAY(_lots.c.remaining.type)),
).table_valued("lot_id", "amount", with_ordinality="n").render_derived(name="plan")
_spend_op = _op.element.cte("op")  # the same INSERT INTO operations ... RETURNING id
_taken = (
    update(_lots)
    .where(_lots.c.id == _plan.c.lot_id, _lots.c.remaining >= _plan.c.amount,
           _lots.c.customer_id == _bp("customer_id", _lots, "customer_id"))
    .values(remaining=_lots.c.remaining - _plan.c.amount)
    .returning(_lots.c.id)
    .cte("taken")
)
_spend_transfers = (
    insert(_transfers)
    .from_select(
        ["business_id", "operation_id", "debit_account_id", "credit_account_id", "amount",
         "lot_id", "created_at"],
        select(_bp("business_id", _transfers, "business_id"), _spend_op.c.id,
               _bp("debit_id", _transfers, "debit_account_id"),
               _bp("credit_id", _transfers, "credit_account_id"),
               _plan.c.amount, _plan.c.lot_id, _bp("created_at", _transfers, "created_at"))
        .select_from(_spend_op.join(_plan, true()))
        .order_by(_plan.c.n))
    .returning(_transfers.c.id, _transfers.c.amount)
    .cte("transfer")
)
_spend_entries = (
    insert(_entries)
    .from_select(["business_id", "transfer_id", "account_id", "amount"], select(
        _bp("business_id", _entries, "business_id"), _spend_transfers.c.id,
        _bp("debit_id", _entries, "account_id"),
        literal_column("0", _entries.c.amount.type) - _spend_transfers.c.amount,
    ).union_all(select(
        _bp("business_id", _entries, "business_id"), _spend_transfers.c.id,
        _bp("credit_id", _entries, "account_id"), _spend_transfers.c.amount,
    )))
    .returning(_entries.c.id)
    .cte("entry")
)
# The customer's balance (``c_debit_id``) loses the whole ``c_points`` at once; the same
# guard as LedgerStore's: never below zero.
_spent = (
    update(_accounts)
    .where(_accounts.c.id == _bp("debit_id", _accounts, "id"),
           _accounts.c.balance - _bp("points", _accounts, "balance") >= literal_column("0"))
    .values(balance=_accounts.c.balance - _bp("points", _accounts, "balance"))
    .returning(_accounts.c.id)
    .cte("balance")
)
# Parameters as CREDIT_WITH_LOT's without c_expires_at, plus c_lot_ids and c_amounts
# (the plan, in order). One row: the operation's id, lots taken (one per lot planned),
# entries (two per lot) and balances updated (1).
SPEND_FROM_LOTS = select(
    _spend_op.c.id,
    select(func.count()).select_from(_taken).scalar_subquery().label("lots"),
    select(func.count()).select_from(_spend_entries).scalar_subquery().label("entries"),
    select(func.count()).select_from(_spent).scalar_subquery().label("balances"),
)
