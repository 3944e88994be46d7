"""``regulars check-ledger``: verify invariants I1-I10 of DESIGN.md over the whole database.

Each check is a set-based query (it must stay fast on a million entries) that
returns the offending ids; an empty list means the invariant holds. All of them run in
one read scope.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select, text
from sqlalchemy.orm import Session, aliased

from webapp.domain.clock import utcnow
from webapp.domain.ledger import CUSTOMER_ACCOUNTS, refund_share
from webapp.domain.ledger import AccountKind as K
from webapp.domain.ledger import OperationKind as Op
from webapp.persistence.models import (
    Account,
    Entry,
    IdempotencyKey,
    Lot,
    Operation,
    Order,
    OrderLine,
    ProgramVersion,
    Transfer,
)
from webapp.services.unit_of_work import reads

APPEND_ONLY_TABLES = ("operations", "transfers", "entries")
SAMPLE = 5


@dataclass
class Finding:
    invariant: str
    title: str
    violations: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def ok(self) -> bool:
        return not self.violations


@dataclass
class Report:
    findings: list[Finding]
    counts: dict[str, int]

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.findings)


@reads
def check(session: Session, now: datetime | None = None) -> Report:
    """Run every check, in one read scope."""
    now = now or utcnow()
    checks: list[tuple[str, str, Callable[[], tuple[list[str], str]]]] = [
        ("I1", "every transfer sums to zero; all entries sum to zero", lambda: _i1(session)),
        ("I2", "stored balances equal the sum of their entries", lambda: _i2(session)),
        ("I3", "no customer account is negative", lambda: _i3(session)),
        ("I4", "idempotency keys hold a complete result", lambda: _i4(session)),
        ("I5", "one accrual per order; refunds and returned lines reverse their exact share;"
               " an order's lines add up to its total", lambda: _i5(session)),
        ("I6", "append-only triggers are installed", lambda: _i6(session)),
        ("I7", "pending holds resolve once and pending matches open holds", lambda: _i7(session)),
        ("I8", "lots match available; nothing spent after expiry", lambda: _i8(session, now)),
        ("I9", "no half-written operation", lambda: _i9(session)),
        ("I10", "tier and stamp caches agree with order history", lambda: _i10(session)),
        ("I11", "every entry is of its account's and its operation's business",
         lambda: _i11(session)),
    ]
    findings = []
    for name, title, run in checks:
        violations, note = run()
        findings.append(Finding(name, title, violations, note))
    counts = {
        "operations": session.scalar(select(func.count(Operation.id))) or 0,
        "transfers": session.scalar(select(func.count(Transfer.id))) or 0,
        "entries": session.scalar(select(func.count(Entry.id))) or 0,
        "accounts": session.scalar(select(func.count(Account.id))) or 0,
    }
    return Report(findings, counts)


def _i1(session: Session) -> tuple[list[str], str]:
    debit = aliased(Entry)
    credit = aliased(Entry)
    bad = session.scalars(
        select(Transfer.id)
        .outerjoin(debit, and_(debit.transfer_id == Transfer.id,
                               debit.account_id == Transfer.debit_account_id,
                               debit.amount == -Transfer.amount))
        .outerjoin(credit, and_(credit.transfer_id == Transfer.id,
                                credit.account_id == Transfer.credit_account_id,
                                credit.amount == Transfer.amount))
        .where(or_(debit.id.is_(None), credit.id.is_(None)))
        .limit(SAMPLE)
    ).all()
    extra = session.scalars(
        select(Entry.transfer_id).group_by(Entry.transfer_id)
        .having(or_(func.count() != 2, func.sum(Entry.amount) != 0)).limit(SAMPLE)
    ).all()
    total = session.scalar(select(func.coalesce(func.sum(Entry.amount), 0))) or 0
    violations = [f"transfer {t}: legs do not match" for t in bad]
    violations += [f"transfer {t}: not two balancing legs" for t in extra]
    if total != 0:
        violations.append(f"all entries sum to {total}")
    return violations, ""


def _i2(session: Session) -> tuple[list[str], str]:
    sums = (
        select(Entry.account_id, func.sum(Entry.amount).label("total"))
        .group_by(Entry.account_id).subquery()
    )
    rows = session.execute(
        select(Account.id, Account.balance, sums.c.total)
        .outerjoin(sums, sums.c.account_id == Account.id)
        .where(Account.balance.is_not(None),
               Account.balance != func.coalesce(sums.c.total, 0))
        .limit(SAMPLE)
    ).all()
    unexpected = session.scalars(
        select(Account.id).where(Account.customer_id.is_(None), Account.balance.is_not(None))
    ).all()
    return [f"account {a}: stored {b}, entries {t or 0}" for a, b, t in rows] + [
        f"system account {a} has a cached balance" for a in unexpected
    ], ""


def _i3(session: Session) -> tuple[list[str], str]:
    rows = session.execute(
        select(Account.id, Account.kind, Account.balance).where(
            or_(
                and_(Account.kind.in_([K.AVAILABLE, K.PENDING]), Account.balance < 0),
                and_(Account.kind == K.CLAWBACK, Account.balance > 0),
            )
        ).limit(SAMPLE)
    ).all()
    return [f"account {a} ({k}) = {b}" for a, k, b in rows], ""


def _i4(session: Session) -> tuple[list[str], str]:
    rows = session.scalars(
        select(IdempotencyKey.key)
        .outerjoin(Operation, Operation.id == IdempotencyKey.operation_id)
        .where(or_(IdempotencyKey.result == "",
                   and_(IdempotencyKey.operation_id.is_not(None), Operation.id.is_(None))))
        .limit(SAMPLE)
    ).all()
    return [f"key {k!r} has no complete result" for k in rows], ""


def _returned_lines(session: Session) -> dict[int, tuple[int, int, int]]:
    """Per order with returned lines: the money returned, and the points the returned
    shares of its lines earned and spent (what a return by line reverses)."""
    found: dict[int, tuple[int, int, int]] = {}
    for order_id, quantity, returned, price, accrued, redeemed in session.execute(
            select(OrderLine.order_id, OrderLine.quantity, OrderLine.returned_quantity,
                   OrderLine.unit_price_minor, OrderLine.accrued_points,
                   OrderLine.redeemed_points).where(OrderLine.returned_quantity > 0)):
        money, take, give = found.get(order_id, (0, 0, 0))
        found[order_id] = (money + returned * price, take + accrued * returned // quantity,
                           give + redeemed * returned // quantity)
    return found


def _order_points(session: Session) -> dict[int, dict[str, int]]:
    """Per refunded order: earned, reversed, spent, given back, cancelled and reversed
    out of pending (points)."""
    issued = aliased(Account)
    redeemed = aliased(Account)
    pending = aliased(Account)
    debit_issued = Transfer.debit_account_id == issued.id
    credit_issued = Transfer.credit_account_id == issued.id
    rows = session.execute(
        select(
            Operation.order_id,
            func.sum(case((and_(Operation.kind.in_([Op.ACCRUAL, Op.HOLD]), debit_issued),
                          Transfer.amount), else_=0)),
            func.sum(case((and_(Operation.kind == Op.REVERSAL, credit_issued),
                          Transfer.amount), else_=0)),
            func.sum(case((Operation.kind == Op.REDEMPTION, Transfer.amount), else_=0)),
            func.sum(case((and_(Operation.kind == Op.REVERSAL,
                                Transfer.debit_account_id == redeemed.id),
                          Transfer.amount), else_=0)),
            func.sum(case((and_(Operation.kind == Op.CANCEL, credit_issued),
                          Transfer.amount), else_=0)),
            func.sum(case((and_(Operation.kind == Op.REVERSAL, pending.id.is_not(None)),
                          Transfer.amount), else_=0)),
        )
        .join(Transfer, Transfer.operation_id == Operation.id)
        .join(Order, Order.id == Operation.order_id)
        .join(issued, and_(issued.business_id == Operation.business_id,
                           issued.customer_id.is_(None), issued.kind == K.ISSUED))
        .join(redeemed, and_(redeemed.business_id == Operation.business_id,
                             redeemed.customer_id.is_(None), redeemed.kind == K.REDEEMED))
        .outerjoin(pending, and_(pending.id == Transfer.debit_account_id,
                                 pending.kind == K.PENDING))
        .where(Order.refunded_minor > 0)
        .group_by(Operation.order_id)
    ).all()
    return {
        order: {"earned": e or 0, "reversed": r or 0, "spent": s or 0, "returned": g or 0,
                "cancelled": c or 0, "from_pending": p or 0}
        for order, e, r, s, g, c, p in rows
    }


def _i5(session: Session) -> tuple[list[str], str]:
    doubles = session.scalars(
        select(Operation.order_id)
        .where(Operation.kind.in_([Op.ACCRUAL, Op.HOLD]), Operation.order_id.is_not(None))
        .group_by(Operation.order_id).having(func.count() > 1).limit(SAMPLE)
    ).all()
    violations: list[str] = [f"order {o} accrued more than once" for o in doubles]
    lines_total = (select(func.coalesce(func.sum(OrderLine.amount_minor), 0))
                   .where(OrderLine.order_id == Order.id).scalar_subquery())
    violations += [f"order {o}: its lines add up to {lines}, its total is {total}"
                   for o, total, lines in session.execute(
                       select(Order.id, Order.total_minor, lines_total)
                       .where(Order.total_minor != lines_total).limit(SAMPLE))]
    points = _order_points(session)
    returned_lines = _returned_lines(session)
    for order_id, total, refunded in session.execute(
        select(Order.id, Order.total_minor, Order.refunded_minor).where(Order.refunded_minor > 0)
    ):
        p = points.get(order_id, {"earned": 0, "reversed": 0, "spent": 0, "returned": 0,
                                  "cancelled": 0, "from_pending": 0})
        # A cancelled hold earned nothing; what refunds took out of pending before the
        # cancel stays taken (the customer never had those points either way).
        want_reversed = refund_share(p["earned"] - p["cancelled"], total, refunded, 0)
        if p["cancelled"]:
            want_reversed = max(want_reversed, p["from_pending"])
        want_returned = refund_share(p["spent"], total, refunded, 0)
        by_line = returned_lines.get(order_id)
        if by_line is not None and by_line[0] == refunded:  # returned by line: line shares
            want_reversed = min(by_line[1], p["earned"] - p["cancelled"])
            want_returned = by_line[2]
        if (p["reversed"], p["returned"]) != (want_reversed, want_returned):
            violations.append(
                f"order {order_id}: reversed {p['reversed']}/{want_reversed},"
                f" returned {p['returned']}/{want_returned}"
            )
            if len(violations) >= SAMPLE:
                break
    return violations, ""


def _i6(session: Session) -> tuple[list[str], str]:
    if session.get_bind().dialect.name == "postgresql":
        query = text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        expected = [f"{t}_append_only" for t in APPEND_ONLY_TABLES]
    else:
        query = text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        expected = [f"{t}_no_{a}" for t in APPEND_ONLY_TABLES for a in ("update", "delete")]
    names = set(session.scalars(query).all())
    return [f"trigger {name} is missing" for name in expected if name not in names], ""


def _i7(session: Session) -> tuple[list[str], str]:
    resolution = aliased(Operation)
    pending = aliased(Account)
    # Open holds per customer, less what refunds already took out of pending.
    taken = (
        select(func.coalesce(func.sum(Transfer.amount), 0))
        .join(resolution, resolution.id == Transfer.operation_id)
        .where(resolution.kind == Op.REVERSAL, resolution.order_id == Operation.order_id,
               Transfer.debit_account_id == pending.id)
        .correlate(Operation, pending)
        .scalar_subquery()
    )
    open_holds = (
        select(Operation.customer_id, func.sum(Operation.points - taken).label("open"))
        .join(pending, and_(pending.customer_id == Operation.customer_id,
                            pending.kind == K.PENDING))
        .where(Operation.kind == Op.HOLD,
               ~select(resolution.id).where(resolution.hold_id == Operation.id).exists())
        .group_by(Operation.customer_id)
        .subquery()
    )
    rows = session.execute(
        select(Account.customer_id, Account.balance, open_holds.c.open)
        .outerjoin(open_holds, open_holds.c.customer_id == Account.customer_id)
        .where(Account.kind == K.PENDING, Account.balance != func.coalesce(open_holds.c.open, 0))
        .limit(SAMPLE)
    ).all()
    bad_targets = session.scalars(
        select(resolution.id).join(Operation, Operation.id == resolution.hold_id)
        .where(Operation.kind != Op.HOLD).limit(SAMPLE)
    ).all()
    return [f"customer {c}: pending {b}, open holds {o or 0}" for c, b, o in rows] + [
        f"operation {r} resolves something that is not a hold" for r in bad_targets
    ], ""


def _i8(session: Session, now: datetime) -> tuple[list[str], str]:
    lot_sums = (
        select(Lot.customer_id, func.sum(Lot.remaining).label("remaining"))
        .group_by(Lot.customer_id).subquery()
    )
    mismatched = session.execute(
        select(Account.customer_id, Account.balance, lot_sums.c.remaining)
        .outerjoin(lot_sums, lot_sums.c.customer_id == Account.customer_id)
        .where(Account.kind == K.AVAILABLE,
               Account.balance != func.coalesce(lot_sums.c.remaining, 0))
        .limit(SAMPLE)
    ).all()
    available = aliased(Account)
    flows = (
        select(
            Transfer.lot_id,
            func.sum(case((Transfer.credit_account_id == available.id, Transfer.amount),
                          else_=0)).label("credited"),
            func.sum(case((Transfer.debit_account_id == available.id, Transfer.amount),
                          else_=0)).label("debited"),
        )
        .join(available, and_(available.kind == K.AVAILABLE,
                              or_(available.id == Transfer.credit_account_id,
                                  available.id == Transfer.debit_account_id)))
        .where(Transfer.lot_id.is_not(None))
        .group_by(Transfer.lot_id).subquery()
    )
    bad_lots = session.execute(
        select(Lot.id).outerjoin(flows, flows.c.lot_id == Lot.id).where(
            or_(Lot.initial != func.coalesce(flows.c.credited, 0),
                Lot.remaining != func.coalesce(flows.c.credited, 0)
                - func.coalesce(flows.c.debited, 0))
        ).limit(SAMPLE)
    ).scalars().all()
    spent_late = session.scalars(
        select(Transfer.id)
        .join(Lot, Lot.id == Transfer.lot_id)
        .join(Operation, Operation.id == Transfer.operation_id)
        .where(Operation.kind != Op.EXPIRY, Transfer.debit_account_id.in_(
            select(Account.id).where(Account.kind == K.AVAILABLE)),
            Lot.expires_at.is_not(None), Transfer.created_at >= Lot.expires_at)
        .limit(SAMPLE)
    ).all()
    unlotted = session.scalars(
        select(Transfer.id)
        .join(Account, Account.id == Transfer.credit_account_id)
        .where(Account.kind == K.AVAILABLE, Transfer.lot_id.is_(None)).limit(SAMPLE)
    ).all()
    due = session.scalar(
        select(func.coalesce(func.sum(Lot.remaining), 0))
        .where(Lot.remaining > 0, Lot.expires_at <= now)
    ) or 0
    note = f"{due} points are past expiry and wait for `regulars expire`" if due else ""
    return (
        [f"customer {c}: available {b}, lots {r or 0}" for c, b, r in mismatched]
        + [f"lot {lot} does not match its transfers" for lot in bad_lots]
        + [f"transfer {t} spent points after their lot expired" for t in spent_late]
        + [f"transfer {t} credited available without a lot" for t in unlotted]
    ), note


def _i9(session: Session) -> tuple[list[str], str]:
    # A crash inside a transaction leaves nothing (one transaction per request);
    # what could be left is an operation that moved points but whose transfers are
    # missing, or one that wrote a nonzero headline with no transfer at all.
    customer_kinds = [k.value for k in CUSTOMER_ACCOUNTS]
    empty = session.scalars(
        select(Operation.id)
        .where(Operation.points != 0,
               Operation.kind.in_([Op.ACCRUAL, Op.REDEMPTION, Op.HOLD, Op.ADJUSTMENT,
                                   Op.EXPIRY]),
               ~select(Transfer.id).where(Transfer.business_id == Operation.business_id,
                                          Transfer.operation_id == Operation.id).exists())
        .limit(SAMPLE)
    ).all()
    foreign = session.scalars(
        select(Transfer.id)
        .join(Operation, Operation.id == Transfer.operation_id)
        .join(Account, or_(Account.id == Transfer.debit_account_id,
                           Account.id == Transfer.credit_account_id))
        .where(or_(Account.business_id != Operation.business_id,
                   and_(Account.kind.in_(customer_kinds),
                        Account.customer_id != Operation.customer_id)))
        .limit(SAMPLE)
    ).all()
    return [f"operation {o} has no transfers" for o in empty] + [
        f"transfer {t} touches another customer's or business's account" for t in foreign
    ], ""


def _i10(session: Session) -> tuple[list[str], str]:
    # Tier and stamp progress are never cached: every quote derives them from order
    # history. What an order stores is the program version it was quoted under, which
    # must be the business's and already in force when the order closed.
    rows = session.execute(
        select(Order.id)
        .join(ProgramVersion, ProgramVersion.id == Order.program_version_id)
        .where(or_(ProgramVersion.business_id != Order.business_id,
                   ProgramVersion.effective_from > Order.closed_at))
        .limit(SAMPLE)
    ).scalars().all()
    return ([f"order {o} records a program version not in force for it" for o in rows],
            "tier and stamp progress are derived from order history on every quote")


def _i11(session: Session) -> tuple[list[str], str]:
    # Rows carry their business so the database can be sharded by it (issue #13); a row
    # filed under another business would be read, exported or deleted with the wrong one.
    rows = session.execute(
        select(Entry.id, Entry.business_id, Account.business_id, Operation.business_id,
               Transfer.business_id)
        .join(Transfer, Transfer.id == Entry.transfer_id)
        .join(Operation, Operation.id == Transfer.operation_id)
        .join(Account, Account.id == Entry.account_id)
        .where(or_(Entry.business_id != Account.business_id,
                   Entry.business_id != Operation.business_id,
                   Transfer.business_id != Operation.business_id))
        .order_by(Entry.id)
        .limit(SAMPLE)
    ).all()
    return [f"entry {e} is filed under business {b}; its account's is {a}, its operation's"
            f" {o} (its transfer says {t})" for e, b, a, o, t in rows], ""
