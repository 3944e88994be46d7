"""Signing a customer up at the counter (152-FZ), or finding them by phone.

The cashier turns the screen to the customer, who reads the consent to the processing
of personal data and ticks it there: required, it is recorded with the version of
the text shown, the time, the channel ``counter`` and the cashier (``staff_id``); how
it was confirmed (on the screen) goes into the audit event's details. The consent to
advertising is optional and recorded separately, only when ticked (the customer row's
``marketing_consent`` follows it, as in the customer app). An optional referrer, by
their referral code or their phone, makes the newcomer their referral, as joining by
a friend's link does in the app; an unknown referrer is refused before anything is
written.

Bad input (no consent, a bad phone, an unknown referrer) writes nothing. The sign-up
itself commits in the customers service's own scope (with the welcome bonus); the
consents and the audit event follow in one write scope. Should that one fail, the
same form sent again finds the customer by phone and records what is missing, so a
customer never stays without their consent row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.domain.actor import Actor
from webapp.domain.clock import utcnow
from webapp.domain.consent import TEXTS, ConsentKind
from webapp.domain.errors import InvalidInput
from webapp.persistence.models import Business, Customer
from webapp.services.abuse import checks as abuse
from webapp.services.customers import accounts as customers
from webapp.services.customers import consents, phones
from webapp.services.staff import audit
from webapp.services.unit_of_work import UnitOfWork, Work, reads, writes

CHANNEL = "counter"
ON_SCREEN = "screen"  # the customer ticked the consent on the cashier's turned screen
REFERRER_LENGTH = 32
PHONE_DIGITS = 10  # a referrer with this many digits is a phone, else a referral code


class CounterConsentRequired(InvalidInput):
    code = "counter_consent_required"


class UnknownReferrer(InvalidInput):
    code = "unknown_referrer"


@dataclass(frozen=True)
class SignUp:
    """The counter's join form as typed."""

    phone: str
    name: str | None = None
    data_consent: bool = False  # the customer ticked the personal-data consent
    advertising: bool = False  # ...and, optionally, the advertising one
    referrer: str | None = None  # who invited them: a referral code or a phone


def join(work: Work, actor: Actor, form: SignUp, *, now: datetime | None = None) -> int:
    """Sign the customer up (or find them by phone) with their consents: their id.

    A new sign-up counts toward the staff member's joins-without-orders limit, checked
    after the sign-up has committed, so the check cannot undo it.
    """
    if form.data_consent is not True:
        raise CounterConsentRequired()
    now = now or utcnow()
    uow = UnitOfWork.of(work)
    referrer = find_referrer(uow, actor, form.referrer)
    joined = customers.join(uow, actor, phone=form.phone, name=form.name,
                            referral_code=referrer.referral_code if referrer else None,
                            now=now)
    customer_id = joined.customer.id
    record_consents(uow, actor, customer_id, advertising=form.advertising is True, now=now,
                    details={"created": joined.created,
                             "referred_by_id": referrer.id if referrer and joined.created
                             else None})
    if joined.created:
        abuse.check_join(uow, actor, customer_id=customer_id, now=now)
    return customer_id


@dataclass(frozen=True)
class Referrer:
    id: int
    referral_code: str


@reads
def find_referrer(session: Session, actor: Actor, typed: str | None) -> Referrer | None:
    """The active customer of the business with this referral code or phone; None when
    nothing was typed; :class:`UnknownReferrer` when nobody has it."""
    text = (typed or "").strip()
    if not text:
        return None
    if len(text) > REFERRER_LENGTH:
        raise UnknownReferrer()
    mine = select(Customer.id, Customer.referral_code).where(
        Customer.business_id == actor.business_id, Customer.status == "active")
    if sum(ch.isdigit() for ch in text) >= PHONE_DIGITS:
        region = session.scalar(select(Business.phone_region)
                                .where(Business.id == actor.business_id))
        try:
            e164 = phones.normalise(text, region or "RU")
        except InvalidInput:
            raise UnknownReferrer() from None
        found = session.execute(mine.where(Customer.phone == e164)).first()
    else:
        found = session.execute(mine.where(
            Customer.referral_code == text.upper().replace(" ", ""))).first()
    if found is None:
        raise UnknownReferrer()
    return Referrer(found[0], found[1])


@writes
def record_consents(session: Session, actor: Actor, customer_id: int, *, advertising: bool,
                    now: datetime, confirmed_by: str = ON_SCREEN,
                    details: dict[str, Any] | None = None) -> bool:
    """Record the consents the customer gave at the counter that their history lacks
    (personal data always, advertising when ticked), with an audit event naming the
    cashier and how the customer confirmed; whether anything was recorded."""
    state = consents.current(session, customer_id)
    given = {}
    wanted = [(ConsentKind.PERSONAL_DATA, state.personal_data),
              (ConsentKind.ADVERTISING, state.advertising or not advertising)]
    for kind, already in wanted:
        if not already:
            consents.record(session, customer_id, kind, True, channel=CHANNEL, ip=actor.ip,
                            now=now, staff_id=actor.staff_id)
            given[kind.value] = TEXTS[kind].version
    created = bool((details or {}).get("created"))
    if given or created:
        audit.record(session, actor, "counter.join", customer_id=customer_id, at=now,
                     details={**(details or {}), "confirmed_by": confirmed_by,
                              "consents": given})
    return bool(given)
