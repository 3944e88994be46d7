"""Customers sign in (or join) with a one-time code texted to their phone.

The code follows :mod:`webapp.domain.one_time_codes` (6 digits, 5 minutes, 5 attempts)
and is used once. The answer to "send me a code" is the same whether or not the phone
belongs to a customer: joining *is* signing in with a new phone, so nobody can learn who
is a customer (the one exception, a business's cap on codes to newcomers, is in
:mod:`webapp.services.customers.code_limits` with the other limits). The SMS goes
through the outbox, so a slow or failing gateway never blocks the page. A signed-in
device gets a long session, listed and revocable in the profile; only a hash of its token is stored.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from webapp.catalogue import gettext_for
from webapp.domain import one_time_codes as codes
from webapp.domain.actor import Actor, ActorKind
from webapp.domain.addresses import address_key
from webapp.domain.clock import utcnow
from webapp.domain.consent import ConsentKind
from webapp.domain.errors import Conflict, InvalidInput, NotFound
from webapp.domain.tokens import token_hash
from webapp.domain.wording import language_of_locale
from webapp.persistence.models import Business, Customer, CustomerSession, SignInCode
from webapp.services.customers import accounts as customers
from webapp.services.customers import code_limits as sign_in_code_limits
from webapp.services.customers import consents, one_time_codes, phones
from webapp.services.notify import outbox, push
from webapp.services.unit_of_work import UnitOfWork, Work, reads, writes

SESSION_LIFETIME = timedelta(days=180)
SEEN_EVERY = timedelta(minutes=10)  # last_seen_at is refreshed at most this often


class WrongSignInCode(InvalidInput):
    code = "wrong_sign_in_code"


class SignInCodeUnusable(Conflict):
    code = "sign_in_code_unusable"


class ConsentRequired(InvalidInput):
    code = "consent_required"


@dataclass(frozen=True)
class CodeRequested:
    request_id: int
    phone_hint: str
    expires_at: datetime


@dataclass(frozen=True)
class SignedIn:
    customer_id: int
    token: str  # goes into the device's cookie; never stored
    joined: bool


@dataclass(frozen=True)
class Device:
    session_id: int
    device: str | None
    signed_in_at: datetime
    last_seen_at: datetime
    current: bool


def sign_in_text(code: str, business_name: str, locale: str) -> str:
    """The sign-in SMS, in the business's language (Russian unless its locale is English)."""
    _ = gettext_for(language_of_locale(locale))
    return _("%(code)s — код входа в «%(business)s». Никому его не сообщайте.") % {
        "code": code, "business": business_name}


def request_code(session: Work, business_id: int, phone: str, *, ip: str | None,
                 data_consent: bool, now: datetime | None = None) -> CodeRequested:
    """Text a sign-in code to ``phone`` (through the outbox), in one write scope with the
    limits' count (:func:`sign_in_code_limits.counted`).

    ``data_consent`` is the personal-data box on the form: required of everyone, so
    the form looks the same for customers and newcomers.
    """
    now = now or utcnow()
    with sign_in_code_limits.counted(session) as db:
        business = db.get(Business, business_id)
        if business is None:
            raise NotFound("unknown_business")
        e164 = phones.require_mobile(phones.normalise(phone, business.phone_region))
        if not data_consent:
            raise ConsentRequired()
        # Known or not, the same text goes out; the customer id only lets deletion find it.
        known = db.scalar(select(Customer.id).where(Customer.business_id == business_id,
                                                    Customer.phone == e164))
        source = address_key(ip)
        sign_in_code_limits.check(db, business, e164, source, known=known is not None,
                                  now=now)
        row = SignInCode(business_id=business_id, phone=e164, code_hash="", ip=source,
                         expires_at=codes.expires_at(now), created_at=now)
        code = one_time_codes.issue(db, row, codes.Purpose.SIGN_IN)
        outbox.enqueue_sms(db, phone=e164, business_id=business_id, customer_id=known,
                           text=sign_in_text(code, business.name, business.locale))
        return CodeRequested(row.id, phones.hint(e164), row.expires_at)


def verify_code(session: Work, business_id: int, request_id: int, code: str, *,
                ip: str | None, device: str | None, advertising: bool = False,
                referral_code: str | None = None, now: datetime | None = None) -> SignedIn:
    """Check the code; sign the customer in, joining them first if the phone is new.

    A wrong code uses up an attempt (its own write scope, committed even though
    sign-in fails). A newcomer's consents are recorded with the text versions shown;
    a customer's advertising consent is only ever *added* here (withdrawing it is in
    the profile). A newcomer who came by a friend's link joins as their referral; an
    unknown code is ignored.
    """
    now = now or utcnow()
    uow = UnitOfWork.of(session)
    with uow.write() as db:
        # Take an attempt before comparing, in one guarded statement: parallel guesses
        # can never compare more than codes.ATTEMPTS times.
        taken_attempt = db.execute(
            update(SignInCode)
            .where(SignInCode.id == request_id, SignInCode.business_id == business_id,
                   SignInCode.used_at.is_(None), SignInCode.expires_at > now,
                   SignInCode.attempts < codes.ATTEMPTS)
            .values(attempts=SignInCode.attempts + 1))
        if taken_attempt.rowcount != 1:  # type: ignore[attr-defined]
            raise SignInCodeUnusable()
    with uow.write() as db:  # the attempt is committed: a wrong code still costs it
        row = db.get(SignInCode, request_id, populate_existing=True)
        assert row is not None
        if not codes.matches(row.code_hash, codes.Purpose.SIGN_IN, row.id, code):
            left = codes.attempts_left(row.attempts)
            if left <= 0:
                raise SignInCodeUnusable()
            raise WrongSignInCode(left=left)
        if not one_time_codes.spend(db, SignInCode, row.id, now):
            raise SignInCodeUnusable()
        phone = row.phone
    # The code is spent (committed) whatever happens next.
    actor = Actor(business_id, ActorKind.CUSTOMER, ip=ip, device=device)
    try:
        joined = customers.join(uow, actor, phone=phone, referral_code=referral_code,
                                now=now)
    except InvalidInput:  # a mistyped invitation link must not cost a join
        joined = customers.join(uow, actor, phone=phone, now=now)
    with uow.write() as db:
        customer = joined.customer
        if customer.status != "active":
            raise SignInCodeUnusable("account_closed")
        state = consents.current(db, customer.id)
        if not state.personal_data:
            consents.record(db, customer.id, ConsentKind.PERSONAL_DATA, True,
                            channel="pwa", ip=ip, now=now)
        if advertising and not state.advertising:
            consents.record(db, customer.id, ConsentKind.ADVERTISING, True,
                            channel="pwa", ip=ip, now=now)
        token = secrets.token_urlsafe(32)
        db.add(CustomerSession(business_id=customer.business_id, customer_id=customer.id,
                               token_hash=token_hash(token),
                               device=(device or "")[:200] or None, ip=ip,
                               created_at=now, last_seen_at=now))
        customer_id = customer.id
    return SignedIn(customer_id, token, joined=joined.created)


@dataclass(frozen=True)
class Who:
    customer_id: int
    business_id: int
    session_id: int


@writes
def load(session: Session, token: str, now: datetime | None = None) -> Who | None:
    """The signed-in customer behind a device's token, if the session is still good.

    One write scope: the look-up, and the ``last_seen_at`` stamp when it is due."""
    if not token:
        return None
    now = now or utcnow()
    row = session.execute(
        select(CustomerSession.id, CustomerSession.last_seen_at, CustomerSession.created_at,
               Customer.id, Customer.business_id, Customer.status)
        .join(Customer, Customer.id == CustomerSession.customer_id)
        .where(CustomerSession.token_hash == token_hash(token),
               CustomerSession.revoked_at.is_(None))).first()
    if row is None or row[5] != "active" or row[2] + SESSION_LIFETIME <= now:
        return None
    if now - row[1] >= SEEN_EVERY:
        session.execute(update(CustomerSession).where(CustomerSession.id == row[0])
                        .values(last_seen_at=now))
    return Who(row[3], row[4], row[0])


@reads
def devices(session: Session, who: Who) -> list[Device]:
    """The customer's signed-in devices, newest first."""
    rows = session.scalars(select(CustomerSession).where(
        CustomerSession.business_id == who.business_id,
        CustomerSession.customer_id == who.customer_id, CustomerSession.revoked_at.is_(None))
        .order_by(CustomerSession.created_at.desc(), CustomerSession.id.desc())).all()
    found = [Device(r.id, r.device, r.created_at, r.last_seen_at, r.id == who.session_id)
             for r in rows]
    return found


@writes
def revoke(session: Session, who: Who, session_id: int, now: datetime | None = None) -> None:
    """End one of the customer's own sessions (another customer's id is NotFound).

    Ending *another* device's session also changes the check-in secret: a lost phone
    keeps its last copy of the card offline, and its live code must stop working at the
    counter (a live code counts as the phone being there). The devices still signed in
    get the new secret with the card's next load.
    """
    done = session.execute(update(CustomerSession).where(
        CustomerSession.id == session_id, CustomerSession.customer_id == who.customer_id,
        CustomerSession.revoked_at.is_(None)).values(revoked_at=now or utcnow()))
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound("unknown_session")
    push.forget_session(session, session_id)  # a signed-out browser gets no more pushes
    if session_id != who.session_id:
        session.execute(update(Customer).where(Customer.id == who.customer_id)
                        .values(checkin_secret=secrets.token_bytes(32)))

