"""The counter's use cases under a program: quote an order, close it exactly as quoted.

Closing re-runs the same pure quote inside the transaction, under the customer's
lock and with the program version in force, and applies its result through the
ledger once per idempotency key. A quote is a read scope; a close is
:func:`~webapp.services.unit_of_work.run_once`'s write scope, and what a refused close
must still keep (abuse flags, a wrong code's count) goes in scopes of its own after it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.domain.abuse import AbuseBlocked
from webapp.domain.actor import Actor, ActorKind
from webapp.domain.clock import utcnow
from webapp.domain.counter_settings import CounterSettings, needs_confirmation
from webapp.domain.errors import Conflict, InvalidInput
from webapp.domain.ledger import AccountKind as K
from webapp.domain.ledger import OperationKind as Op
from webapp.domain.program import ProgramSettings, points_expire_at
from webapp.domain.quote import CustomerState, OrderDraft, Quote, quote
from webapp.persistence import ledger_store
from webapp.persistence.ledger_store import LedgerStore
from webapp.persistence.models import EntitlementUse, Operation
from webapp.services.abuse import checks as abuse
from webapp.services.business import settings as counter_settings
from webapp.services.counter import confirmations
from webapp.services.counter.orders import BRANCH_BUSINESS, insert_order
from webapp.services.ledger.operations import credit_new, result_of, spend
from webapp.services.notify import push, push_messages, wallet_updates
from webapp.services.program import versions as programs
from webapp.services.program.standing import customer_state
from webapp.services.staff import audit
from webapp.services.unit_of_work import (
    STORED_FINGERPRINT,
    STORED_RESULT,
    UnitOfWork,
    Work,
    reads,
    replay_if_stored,
    run_once,
)

REFERRAL = "referral"
OPERATION = "checkout.close"  # the idempotency key's operation


class NoProgram(Conflict):
    code = "no_program"


# A close's reads in its first round trip: the customer's accounts locked (and the
# business's system accounts), the program version in force at ``at``, the counter
# settings and time zone, the branch's business, and whether the customer has a push
# subscription or a wallet pass. The lock is the same as LedgerStore.lock's (FOR UPDATE
# OF the customer's accounts only); the rest are reads in the same transaction, so the
# close sees what the separate queries it replaces saw. It reads the idempotency key too
# (run_once's do_reads_key): a replay is answered right after the lock, writing nothing.
# No per-process cache: nothing here can go stale across processes or databases.
_version_columns = [c.label(f"version_{c.name}") for c in programs.COLUMNS]
_settings_columns = [c.label(f"business_{c.name}") for c in counter_settings.COLUMNS]
_LOCK_AND_READ = (
    ledger_store.LOCK
    .add_columns(*_version_columns, *_settings_columns,
                 BRANCH_BUSINESS.label("branch_business"),
                 push_messages.SUBSCRIBED.label("subscribed"),
                 wallet_updates.HAS_PASS.label("has_pass"),
                 ledger_store.CUSTOMERS.c.referred_by_id.label("referred_by"),
                 STORED_FINGERPRINT.label("key_fingerprint"), STORED_RESULT.label("key_result"))
    .join(counter_settings.BUSINESSES,
          counter_settings.BUSINESSES.c.id == ledger_store.CUSTOMERS.c.business_id)
    .outerjoin(programs.VERSIONS, programs.VERSIONS.c.id == programs.IN_FORCE_ID)
)
_base = len(ledger_store.LOCK.selected_columns)
_VERSION = slice(_base, _base + len(_version_columns))
_SETTINGS = slice(_VERSION.stop, _VERSION.stop + len(_settings_columns))


@reads
def quote_order(session: Session, actor: Actor, *, customer_id: int, draft: OrderDraft,
                now: datetime | None = None) -> Quote:
    """What closing this order would do (read-only): the counter shows it before confirming."""
    now = now or utcnow()
    store = LedgerStore(session, actor.business_id).read(customer_id)
    version = _version(session, actor, now)
    state = customer_state(session, actor.business_id, customer_id,
                           store.balances[K.AVAILABLE])
    return quote(version.settings, version.id, state, draft, now)


@dataclass(frozen=True)
class Confirmation:
    """The customer's one-time code for a redemption above the business's threshold."""

    confirmation_id: int
    code: str


def close(session: Work, actor: Actor, key: str, *, customer_id: int, branch_id: int,
          draft: OrderDraft, external_ref: str | None = None,
          confirmation: Confirmation | None = None, phone_present: bool = False,
          now: datetime | None = None) -> dict[str, Any]:
    """Close an order under the program: discount, redemption, accrual, perks, referral.

    A staff member redeeming more than the business's threshold needs the customer's
    ``confirmation``, unless ``phone_present`` (the customer's live check-in code was
    scanned, which proves the phone is at the counter).

    ``run_once`` is the close's (outermost) write scope; a refusal's flags and a wrong
    code's count are written after it rolled back, each by its own service.
    """
    if draft.category is not None and not 0 < len(draft.category) <= 64:
        raise InvalidInput("category_length")
    now = now or utcnow()
    params = {"customer": customer_id, "branch": branch_id, "draft": asdict(draft),
              "ref": external_ref,
              "confirmation": confirmation.confirmation_id if confirmation else None}
    uow = UnitOfWork.of(session)

    def work() -> dict[str, Any]:
        session = uow.session  # the write scope's session
        store = LedgerStore(session, actor.business_id)
        known = store.lock_with(_LOCK_AND_READ, customer_id, at=now, branch_id=branch_id,
                                idempotency_key=key)
        replay_if_stored(OPERATION, params, known.key_fingerprint, known.key_result)
        version = _in_force(programs.from_columns(*known[_VERSION]))
        state = customer_state(session, actor.business_id, customer_id,
                               store.balances[K.AVAILABLE])
        q = quote(version.settings, version.id, state, draft, now)
        order_id = insert_order(
            session, actor, customer_id=customer_id, branch_id=branch_id,
            total_minor=draft.total, category=draft.category, asset_id=draft.asset_id,
            external_ref=external_ref, now=now, discount_minor=q.total_discount,
            program_version_id=version.id, branch_business_id=known.branch_business,
            lines=q.items)
        # Confirmation threshold and abuse limits: read once, for both checks.
        counter, zone = (counter_settings.from_columns(*known[_SETTINGS])
                         if actor.kind is not ActorKind.SYSTEM else (None, None))
        if q.redeem_points and actor.kind is ActorKind.STAFF:
            assert counter is not None
            _confirm(session, actor, customer_id, q.redeem_points, confirmation,
                     phone_present, counter, now)
        last = None
        if q.redeem_points:
            last = spend(store, q.redeem_points, order_id, actor.staff_id, now)
        if q.accrue_points:
            last = credit_new(store, kind=Op.ACCRUAL, points=q.accrue_points,
                              expires_at=points_expire_at(version.settings, now),
                              created_at=now, order_id=order_id, staff_id=actor.staff_id)
        for code in q.used:
            session.add(EntitlementUse(business_id=actor.business_id, customer_id=customer_id,
                                       order_id=order_id, code=code, used_at=now))
        referral = _referral(session, actor, store, version.settings, state,
                             known.referred_by, now)
        result = {**result_of(store, last), "order_id": order_id,
                  "version": version.version, "discount": q.total_discount,
                  "redeemed": q.redeem_points, "accrued": q.accrue_points, "paid": q.paid,
                  "tier": q.tier_after, "used": list(q.used), "referral": referral,
                  "flags": []}
        push.on_close(session, customer_id, points=q.accrue_points + referral,
                      balance=result["available"], tier_before=q.tier_before,
                      tier_after=q.tier_after, has_subscription=known.subscribed)
        wallet_updates.changed(session, customer_id, now, has_pass=known.has_pass)
        if counter is not None and zone is not None:  # not for the demo generator's closes
            result["flags"] = abuse.check_close(
                session, actor, customer_id=customer_id, accrued=q.accrue_points,
                redeemed=q.redeem_points, now=now, limits=counter.abuse, zone=zone)
            # written with the idempotency key (one statement on PostgreSQL)
            events.append(audit.event(actor, "close", customer_id=customer_id,
                                      order_id=order_id,
                                      details={"total": draft.total, **result}, at=now))
        return result

    events: list[dict[str, Any]] = []
    try:
        return run_once(session, actor.business_id, key, OPERATION, params, work,
                        audit=lambda: events[-1] if events else None, do_reads_key=True)
    except AbuseBlocked as refused:
        abuse.record_refusal(uow.session, actor, refused, customer_id=customer_id, now=now)
        raise
    except confirmations.WrongConfirmationCode:
        assert confirmation is not None
        confirmations.count_failure(uow.session, confirmation.confirmation_id)
        raise


def _confirm(session: Session, actor: Actor, customer_id: int, points: int,
             confirmation: Confirmation | None, phone_present: bool,
             settings: CounterSettings, now: datetime) -> None:
    if not needs_confirmation(settings, points, phone_present=phone_present):
        return
    if confirmation is None:
        raise confirmations.ConfirmationNeeded(
            threshold=settings.confirm_redeem_above)
    confirmations.consume(session, actor, confirmation_id=confirmation.confirmation_id,
                          code=confirmation.code, customer_id=customer_id, points=points,
                          now=now)


def _version(session: Session, actor: Actor, now: datetime) -> programs.Version:
    return _in_force(programs.version_at(session, actor.business_id, now))


def _in_force(version: programs.Version | None) -> programs.Version:
    """The version in force, or NoProgram when the owner has not chosen one yet."""
    if version is None:
        raise NoProgram()
    return version


def _referral(session: Session, actor: Actor, store: LedgerStore, settings: ProgramSettings,
              state: CustomerState, referred_by: int | None, now: datetime) -> int:
    """After a referee's first paid order, both sides earn the referral bonus once.

    ``referred_by`` is the customer's referrer (read with the lock). The referrer's
    monthly limit counts their referral accruals this calendar month.
    """
    bonus = settings.bonuses.referral
    if not bonus or not settings.earns_points or any(o.amount > 0 for o in state.orders):
        return 0
    if referred_by is None:
        return 0
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    given = session.scalar(select(func.count(Operation.id)).where(
        Operation.customer_id == referred_by, Operation.reason == REFERRAL,
        Operation.created_at >= month_start)) or 0
    expires = points_expire_at(settings, now)
    credit_new(store, kind=Op.ACCRUAL, points=bonus, expires_at=expires, created_at=now,
               reason=REFERRAL)
    if given >= settings.bonuses.referral_monthly_limit:
        return bonus  # the newcomer still gets theirs; the referrer hit the month's limit
    referrer = LedgerStore(session, actor.business_id).lock(referred_by)
    credit_new(referrer, kind=Op.ACCRUAL, points=bonus, expires_at=expires, created_at=now,
               reason=REFERRAL)
    wallet_updates.changed(session, referred_by, now)  # their pass shows it too
    return bonus
