"""Recording consents and reading their current state.

Every change is a new row (the table is append-only, migration 0005): the history is
the evidence of who agreed to what, when, by which channel and from which address.
The customer row's ``marketing_consent`` mirrors the newest advertising record, so
code that picks recipients for marketing needs no history query.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from webapp.domain.consent import TEXTS, ConsentKind, ConsentState
from webapp.persistence.models import Consent, Customer


def record(session: Session, customer_id: int, kind: ConsentKind, granted: bool, *,
           channel: str, ip: str | None, now: datetime, staff_id: int | None = None) -> None:
    """Add a consent event in the caller's write scope (it commits with the caller);
    ``staff_id``: the staff member who took it at the counter."""
    # The customer's business, read in the INSERT itself: callers pass only the customer.
    business_id = select(Customer.business_id).where(Customer.id == customer_id)
    session.add(Consent(business_id=business_id.scalar_subquery(), customer_id=customer_id,
                        kind=kind.value, granted=granted,
                        text_version=TEXTS[kind].version, channel=channel, staff_id=staff_id,
                        ip=ip, at=now))
    if kind is ConsentKind.ADVERTISING:
        session.execute(update(Customer).where(Customer.id == customer_id).values(
            marketing_consent=granted, marketing_consent_at=now if granted else None))


def current(session: Session, customer_id: int) -> ConsentState:
    """The newest record of each kind, in the caller's scope; no record means no consent."""
    state = {kind: False for kind in ConsentKind}
    business_id = select(Customer.business_id).where(Customer.id == customer_id)
    for kind in ConsentKind:
        granted = session.scalar(
            select(Consent.granted)
            .where(Consent.business_id == business_id.scalar_subquery(),
                   Consent.customer_id == customer_id, Consent.kind == kind.value)
            .order_by(Consent.id.desc()).limit(1))
        state[kind] = bool(granted)
    return ConsentState(personal_data=state[ConsentKind.PERSONAL_DATA],
                        advertising=state[ConsentKind.ADVERTISING])
