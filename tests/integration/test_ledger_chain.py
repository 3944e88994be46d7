"""A credited operation written in one statement (PostgreSQL's data-modifying CTEs)
writes exactly the rows the step-by-step path writes (SQLite's, and PostgreSQL's when
the customer owes clawback: test_ledger_operations' clawback test); the ledger stays
clean."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import T0
from webapp.domain.errors import InsufficientPoints
from webapp.domain.ledger import AccountKind as K
from webapp.domain.ledger import OperationKind as Op
from webapp.persistence.ledger_store import LedgerStore
from webapp.persistence.models import Account, Business, Customer, Entry, Lot, Operation, Transfer
from webapp.services.ledger.invariants import check

DAY = timedelta(days=1)


def written(session: Session, operation_id: int) -> dict[str, Any]:
    """The rows an operation wrote, without their own ids."""
    op = session.get(Operation, operation_id)
    assert op is not None
    lots = session.execute(select(Lot.customer_id, Lot.initial, Lot.remaining, Lot.earned_at,
                                  Lot.expires_at).where(Lot.source_operation_id == op.id)).all()
    transfers = session.execute(
        select(Transfer.debit_account_id, Transfer.credit_account_id, Transfer.amount,
               Transfer.created_at, Transfer.lot_id.is_not(None), Transfer.id)
        .where(Transfer.operation_id == op.id)).all()
    entries = session.execute(select(Entry.account_id, Entry.amount).where(
        Entry.transfer_id.in_([t.id for t in transfers])).order_by(Entry.amount)).all()
    return {"op": (op.business_id, op.customer_id, op.kind, op.points, op.order_id,
                   op.staff_id, op.reason, op.created_at),
            "lots": lots, "transfers": [tuple(t)[:-1] for t in transfers],
            "entries": entries}


def test_one_statement_credit_writes_the_step_by_step_rows(
        session: Session, business: Business, make_customer: Callable[..., Customer]) -> None:
    business_id = business.id
    one, other = make_customer(business), make_customer(business)
    expires = T0 + 365 * DAY
    chained = LedgerStore(session, business_id).lock(one.id)
    op = chained.add_credited(kind=Op.ACCRUAL, points=70, created_at=T0, expires_at=expires,
                              debit=K.ISSUED, credit=K.AVAILABLE, reason="referral")
    stepwise = LedgerStore(session, business_id).lock(other.id)
    step = stepwise.add_operation(kind=Op.ACCRUAL, points=70, created_at=T0, reason="referral")
    stepwise.move(step, K.ISSUED, K.AVAILABLE, 70,
                  lot_id=stepwise.add_lot(step, 70, expires))
    a, b = written(session, op.id), written(session, step.id)
    assert a["op"][2:] == b["op"][2:] and a["op"][0] == b["op"][0]
    assert [row[1:] for row in a["lots"]] == [row[1:] for row in b["lots"]]
    swap = {chained[K.AVAILABLE]: "available", chained[K.ISSUED]: "issued",
            stepwise[K.AVAILABLE]: "available"}
    assert ([(swap[d], swap[c], *rest) for d, c, *rest in a["transfers"]]
            == [(swap[d], swap[c], *rest) for d, c, *rest in b["transfers"]])
    assert [(swap[acc], amt) for acc, amt in a["entries"]] == \
        [(swap[acc], amt) for acc, amt in b["entries"]]
    assert chained.balances[K.AVAILABLE] == stepwise.balances[K.AVAILABLE] == 70
    stored = session.scalar(select(Account.balance).where(Account.id == chained[K.AVAILABLE]))
    assert stored == 70
    report = check(session, now=T0 + DAY)
    assert report.ok, [(f.invariant, f.violations) for f in report.findings if not f.ok]



def _spent(session: Session, store: LedgerStore, op_id: int) -> list[tuple[Any, ...]]:
    """A redemption's transfers (lot, amount, accounts as kinds) and entries, in order."""
    kinds = {account: kind for kind, account in store.accounts.items()}
    transfers = session.execute(
        select(Transfer.id, Transfer.lot_id, Transfer.amount, Transfer.debit_account_id,
               Transfer.credit_account_id).where(Transfer.operation_id == op_id)
        .order_by(Transfer.id)).all()
    out: list[tuple[Any, ...]] = []
    for t in transfers:
        entries = session.execute(select(Entry.account_id, Entry.amount).where(
            Entry.transfer_id == t.id).order_by(Entry.amount)).all()
        out.append((t.lot_id, t.amount, kinds[t.debit_account_id], kinds[t.credit_account_id],
                    [(kinds[a], amount) for a, amount in entries]))
    return out


def test_one_statement_redemption_takes_each_planned_lot(
        session: Session, business: Business, customer: Customer) -> None:
    store = LedgerStore(session, business.id).lock(customer.id)
    lots = []
    for points in (30, 50):
        op = store.add_credited(kind=Op.ACCRUAL, points=points, created_at=T0,
                                expires_at=T0 + 365 * DAY, debit=K.ISSUED, credit=K.AVAILABLE)
        lots.append(session.scalar(select(Lot.id).where(Lot.source_operation_id == op.id)))
    plan = [(lots[0], 30), (lots[1], 20)]
    op = store.add_taken(kind=Op.REDEMPTION, points=50, created_at=T0 + DAY, plan=plan,
                         credit=K.REDEEMED)
    assert _spent(session, store, op.id) == [
        (lots[0], 30, K.AVAILABLE, K.REDEEMED, [(K.AVAILABLE, -30), (K.REDEEMED, 30)]),
        (lots[1], 20, K.AVAILABLE, K.REDEEMED, [(K.AVAILABLE, -20), (K.REDEEMED, 20)]),
    ]
    remaining = session.execute(select(Lot.id, Lot.remaining).where(Lot.id.in_(lots))).all()
    assert sorted(remaining) == sorted([(lots[0], 0), (lots[1], 30)])
    assert store.balances[K.AVAILABLE] == 30
    assert session.scalar(select(Account.balance).where(
        Account.id == store[K.AVAILABLE])) == 30
    report = check(session, now=T0 + 2 * DAY)
    assert report.ok, [(f.invariant, f.violations) for f in report.findings if not f.ok]


def test_a_redemption_planned_beyond_a_lot_writes_nothing(
        session: Session, business: Business, customer: Customer) -> None:
    store = LedgerStore(session, business.id).lock(customer.id)
    op = store.add_credited(kind=Op.ACCRUAL, points=30, created_at=T0, expires_at=None,
                            debit=K.ISSUED, credit=K.AVAILABLE)
    lot = session.scalar(select(Lot.id).where(Lot.source_operation_id == op.id))
    assert lot is not None
    with pytest.raises(InsufficientPoints), session.begin_nested():
        store.add_taken(kind=Op.REDEMPTION, points=31, created_at=T0, plan=[(lot, 31)],
                        credit=K.REDEEMED)
    assert session.scalar(select(Lot.remaining).where(Lot.id == lot)) == 30
    assert session.scalar(select(Account.balance).where(
        Account.id == store[K.AVAILABLE])) == 30
