"""The customer's own profile in the PWA: what we hold about them, and their rights (152-FZ).

A signed-in customer (:class:`~webapp.services.customers.sign_in.Who`) sees and edits
their name and birthday, their vehicles or devices and their advertising consent,
downloads everything we hold about them, and deletes their account. Deleting and
withdrawing the consent to personal-data processing are one operation: without that
consent there is nothing lawful left to do with the data. The ledger's history stays
(entries are never changed, I6); the customer's row stays for it, with nothing left
that identifies the person.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy import update as update_rows
from sqlalchemy.orm import Session

from webapp.catalogue import N_
from webapp.domain import cards
from webapp.domain.actor import Actor, ActorKind
from webapp.domain.clock import utcnow
from webapp.domain.consent import ConsentKind, ConsentState
from webapp.domain.errors import Conflict, InvalidInput, NotFound, UnknownCustomer
from webapp.persistence.ledger_store import LedgerStore
from webapp.persistence.models import (
    Asset,
    Branch,
    Consent,
    Customer,
    CustomerSession,
    Operation,
    Order,
    OutboxMessage,
    SignInCode,
)
from webapp.services.business.view import business_view
from webapp.services.customers import accounts as customers
from webapp.services.customers import consents, phones
from webapp.services.customers.history import describe
from webapp.services.customers.sign_in import Who
from webapp.services.ledger import adjustment_requests, forfeit
from webapp.services.notify import outbox, push, wallet_updates
from webapp.services.staff import audit
from webapp.services.unit_of_work import UnitOfWork, Work, reads, run_once, writes

NAME_LENGTH = 200
FIRST_BIRTHDAY = date(1900, 1, 1)
# The word the page asks for, in either language ("Чтобы подтвердить, введите слово …").
CONFIRM_WORDS = frozenset({N_("удалить"), "delete"})
FORFEIT_REASON = "account deleted"
ADS_WITHDRAWN = "advertising consent withdrawn"


@dataclass(frozen=True)
class AssetView:
    id: int
    kind: str  # plate, vin, serial, imei
    value: str
    label: str | None


@dataclass(frozen=True)
class Profile:
    name: str | None
    birthday: date | None
    phone_hint: str  # "•••-45-67"
    card_number: str  # "123 456 789"
    assets: list[AssetView]
    consents: ConsentState


@dataclass(frozen=True)
class Closed:
    """What closing the account did to the points (the same on a retry with the key)."""

    forfeited: int  # available points taken back through the ledger
    operation_id: int | None  # the adjustment that took them; None when there were none


@reads
def profile(session: Session, who: Who) -> Profile:
    """The profile screen: who they are, their vehicles or devices, their consents."""
    customer = _customer(session, who)
    found = Profile(customer.name, customer.birthday, phones.hint(customer.phone),
                    cards.display(customer.card_number), _assets(session, who),
                    consents.current(session, who.customer_id))
    return found


@writes
def update(session: Session, who: Who, *, name: str | None,
           birthday: date | str | None, now: datetime | None = None) -> Profile:
    """Change the name and birthday (both optional); bad input changes nothing."""
    clean_name = _clean_name(name)
    customer = _customer(session, who)
    zone = business_view(session, who.business_id).zone
    # "Not in the future" by the business's calendar: just after midnight in Moscow it
    # is still yesterday in UTC, and a birthday today would be refused.
    clean_birthday = _clean_birthday(birthday, (now or utcnow()).astimezone(zone).date())
    customer.name, customer.birthday = clean_name, clean_birthday
    session.flush()
    return profile(session, who)


@writes
def add_asset(session: Session, who: Who, kind: str, value: str,
              label: str | None = None) -> AssetView:
    """Add a vehicle or device to the customer's own profile (customers.add_asset: the
    same rules as the counter's)."""
    _customer(session, who)
    asset = customers.add_asset(session, _actor(who), customer_id=who.customer_id,
                                kind=kind, value=value, label=label)
    return AssetView(asset.id, asset.kind, asset.value, asset.label)


@writes
def remove_asset(session: Session, who: Who, asset_id: int) -> None:
    """Remove one of the customer's vehicles or devices (another's id is NotFound).

    One that orders name stays: stamp cards count visits per vehicle (I10), so the
    orders keep pointing at it; the customer is told why.
    """
    _customer(session, who)
    asset = session.get(Asset, asset_id)
    if asset is None or asset.customer_id != who.customer_id \
            or asset.business_id != who.business_id:
        raise NotFound("unknown_asset")
    if session.scalar(select(Order.id).where(Order.asset_id == asset.id).limit(1)):
        raise Conflict("asset_in_history")
    session.delete(asset)


@writes
def set_advertising(session: Session, who: Who, granted: bool, *, ip: str | None,
                    now: datetime | None = None) -> ConsentState:
    """Give or withdraw the advertising consent; a withdrawal stops queued marketing now."""
    if not isinstance(granted, bool):
        raise InvalidInput("consent_not_boolean")
    _customer(session, who)
    now = now or utcnow()
    consents.record(session, who.customer_id, ConsentKind.ADVERTISING, granted,
                    channel="pwa", ip=ip, now=now)
    if not granted:
        _fail_pending(session, who.customer_id, ADS_WITHDRAWN, purpose="advertising")
    session.flush()
    return profile(session, who).consents


@reads
def export(session: Session, who: Who, now: datetime | None = None,
           lang: str = "ru") -> dict[str, Any]:
    """Everything we hold about the person, as JSON-ready data (ISO times, integers);
    operations are described in ``lang``."""
    customer = _customer(session, who)
    business = view = business_view(session, who.business_id)
    cid, bid = who.customer_id, who.business_id
    history = session.scalars(select(Consent).where(Consent.business_id == bid,
                                                    Consent.customer_id == cid)
                              .order_by(Consent.id))
    devices = session.scalars(select(CustomerSession).where(CustomerSession.business_id == bid,
                                                            CustomerSession.customer_id == cid)
                              .order_by(CustomerSession.id))
    orders = session.execute(
        select(Order, Branch.name).join(Branch, Branch.id == Order.branch_id)
        .where(Order.customer_id == cid, Order.business_id == bid).order_by(Order.id))
    operations = session.scalars(
        select(Operation).where(Operation.customer_id == cid, Operation.business_id == bid)
        .order_by(Operation.created_at, Operation.id))
    data = {
        "exported_at": _iso(now or utcnow()),
        "business": business.name,
        "profile": {
            "name": customer.name, "birthday": _iso(customer.birthday),
            "phone": customer.phone, "card_number": customer.card_number,
            "referral_code": customer.referral_code, "joined_at": _iso(customer.created_at),
            "status": customer.status,
        },
        "assets": [{"id": a.id, "kind": a.kind, "value": a.value, "label": a.label}
                   for a in _assets(session, who)],
        "consents": [{"kind": c.kind, "granted": c.granted, "version": c.text_version,
                      "at": _iso(c.at), "channel": c.channel, "ip": c.ip} for c in history],
        "sessions": [{"device": s.device, "ip": s.ip, "created_at": _iso(s.created_at),
                      "last_seen_at": _iso(s.last_seen_at), "revoked_at": _iso(s.revoked_at)}
                     for s in devices],
        "orders": [{"id": o.id, "closed_at": _iso(o.closed_at), "branch": branch,
                    "total_minor": int(o.total_minor), "discount_minor": int(o.discount_minor),
                    "refunded_minor": int(o.refunded_minor), "currency": business.currency,
                    "status": o.status} for o, branch in orders],
        "points": [{"at": _iso(op.created_at), "kind": op.kind, "points": int(op.points),
                    "description": describe(op, view, lang)} for op in operations],
    }
    return data


def delete_account(session: Work, who: Who, key: str, *, confirm: str, ip: str | None,
                   now: datetime | None = None) -> Closed:
    """Delete the account once the customer typed the confirmation word ("удалить").

    In one transaction: the available points are forfeited through the ledger (pending
    holds are cancelled, points past expiry expire), adjustments waiting for the
    owner's approval are rejected, every device is signed out, both consents are
    withdrawn, queued messages are dropped and the row is anonymised; the vehicles and
    devices go (or are anonymised where orders name them). A retry with the same key
    returns the first result and forfeits nothing more.
    """
    return _close(session, who, key, confirm=confirm, ip=ip, now=now, action="account_deleted")


def withdraw_data_consent(session: Work, who: Who, key: str, *, confirm: str,
                          ip: str | None, now: datetime | None = None) -> Closed:
    """Withdraw the consent to personal-data processing: the same as deleting the account."""
    return _close(session, who, key, confirm=confirm, ip=ip, now=now,
                  action="data_consent_withdrawn")


# -- helpers -----------------------------------------------------------------------------


def _close(work: Work, who: Who, key: str, *, confirm: str, ip: str | None,
           now: datetime | None, action: str) -> Closed:
    if not isinstance(confirm, str) or confirm.strip().lower() not in CONFIRM_WORDS:
        raise InvalidInput("delete_word_missing")
    now = now or utcnow()
    actor = _actor(who, ip)
    uow = UnitOfWork.of(work)

    def close() -> dict[str, Any]:  # inside run_once's write scope
        session = uow.session
        store = LedgerStore(session, who.business_id).lock(who.customer_id)
        customer = session.get(Customer, who.customer_id, populate_existing=True)
        assert customer is not None  # the lock found its accounts
        if customer.status == "deleted":  # closed before, under another key
            return {"operation_id": None, "forfeited": 0}
        if customer.status != "active":
            raise UnknownCustomer()
        taken = forfeit.forfeit_all(store, FORFEIT_REASON, now)
        # A manager's request waiting for the owner must not credit a closed account.
        adjustment_requests.reject_for_closed_account(session, actor, customer.id, now)
        session.execute(update_rows(CustomerSession).where(
            CustomerSession.business_id == customer.business_id,
            CustomerSession.customer_id == customer.id, CustomerSession.revoked_at.is_(None))
            .values(revoked_at=now))
        _forget_traces(session, customer)
        push.forget_customer(session, customer.id)
        for kind in (ConsentKind.PERSONAL_DATA, ConsentKind.ADVERTISING):
            consents.record(session, customer.id, kind, False, channel="pwa", ip=ip, now=now)
        _fail_pending(session, customer.id, action.replace("_", " "))
        # After the pending jobs are failed: this one must go out, to deactivate the
        # Google object (its sender sees the customer is deleted).
        wallet_updates.account_closed(session, customer.id)
        # '+0...' is no E.164 number (no country code starts with 0), so it can never
        # meet a real phone, and the id makes it unique: 4 + 12 = 16 characters.
        customer.phone = f"+000{customer.id:012d}"
        customer.name = customer.birthday = None
        customer.checkin_secret = secrets.token_bytes(32)
        customer.status, customer.anonymised_at = "deleted", now
        named = select(Order.id).where(Order.asset_id == Asset.id).exists()
        session.execute(delete(Asset).where(Asset.customer_id == customer.id, ~named))
        # An empty search key matches no search (searches need two characters).
        session.execute(update_rows(Asset).where(Asset.customer_id == customer.id)
                        .values(value="deleted", search_key="", label=None))
        result = {"operation_id": taken.operation_id, "forfeited": taken.points}
        audit.record(session, actor, action, customer_id=customer.id, at=now,
                     details={**result, "expired": taken.expired,
                              "cancelled_pending": taken.cancelled_pending})
        return result

    stored = run_once(uow, who.business_id, key, "close_account",
                      {"customer": who.customer_id}, close)
    return Closed(int(stored["forfeited"]), stored["operation_id"])


def _forget_traces(session: Session, customer: Customer) -> None:
    """What identifies the person outside their own row: the devices and addresses of
    their sessions, the sign-in codes sent to their phone, the texts of their messages."""
    session.execute(update_rows(CustomerSession)
                    .where(CustomerSession.business_id == customer.business_id,
                           CustomerSession.customer_id == customer.id)
                    .values(device=None, ip=None))
    session.execute(delete(SignInCode).where(SignInCode.business_id == customer.business_id,
                                             SignInCode.phone == customer.phone))
    session.execute(update_rows(OutboxMessage).where(OutboxMessage.customer_id == customer.id)
                    .values(payload={"redacted": True}))
    # The code that let them join was texted before they were a customer: found by phone.
    unlinked = session.execute(select(OutboxMessage.id, OutboxMessage.payload).where(
        OutboxMessage.business_id == customer.business_id, OutboxMessage.kind == outbox.SMS,
        OutboxMessage.customer_id.is_(None))).all()
    mine = [row_id for row_id, payload in unlinked if payload.get("phone") == customer.phone]
    if mine:
        session.execute(update_rows(OutboxMessage).where(OutboxMessage.id.in_(mine))
                        .values(payload={"redacted": True}))


def _fail_pending(session: Session, customer_id: int, error: str,
                  purpose: str | None = None) -> None:
    query = update_rows(OutboxMessage).where(OutboxMessage.customer_id == customer_id,
                                        OutboxMessage.status == "pending")
    if purpose is not None:
        query = query.where(OutboxMessage.purpose == purpose)
    session.execute(query.values(status="failed", last_error=error))


def _customer(session: Session, who: Who) -> Customer:
    """The signed-in customer's row; a closed or foreign one is UnknownCustomer."""
    customer = session.get(Customer, who.customer_id, populate_existing=True)
    if customer is None or customer.business_id != who.business_id \
            or customer.status != "active":
        raise UnknownCustomer()
    return customer


def _assets(session: Session, who: Who) -> list[AssetView]:
    rows = session.scalars(select(Asset).where(
        Asset.customer_id == who.customer_id, Asset.business_id == who.business_id)
        .order_by(Asset.id))
    return [AssetView(a.id, a.kind, a.value, a.label) for a in rows]


def _actor(who: Who, ip: str | None = None) -> Actor:
    return Actor(who.business_id, ActorKind.CUSTOMER, ip=ip)


def _clean_name(name: object) -> str | None:
    if name is None:
        return None
    if not isinstance(name, str):
        raise InvalidInput("name_not_text")
    name = name.strip()
    if len(name) > NAME_LENGTH:
        raise InvalidInput("name_too_long")
    return name or None


def _clean_birthday(value: object, today: date) -> date | None:
    if isinstance(value, str):  # as an HTML date field sends it
        try:
            value = date.fromisoformat(value.strip()) if value.strip() else None
        except ValueError:
            value = "bad"
    if isinstance(value, datetime):
        value = value.date()
    if value is None:
        return None
    if not isinstance(value, date):
        raise InvalidInput("birthday_malformed")
    if value > today:
        raise InvalidInput("birthday_in_future")
    if value < FIRST_BIRTHDAY:
        raise InvalidInput("birthday_before_1900")
    return value


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
