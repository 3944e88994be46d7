"""Telling the wallets that a pass changed.

Any change of balance, tier, stamps or perks calls :func:`changed` inside its own
transaction (the ledger's writes and the close do): the pass's version moves and the
outbox gets one empty APNs push per registered Apple device and one Google Wallet
patch, sent by ``regulars worker``. The counter never waits for Apple or Google.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from webapp.persistence.base import utcnow
from webapp.persistence.models import PassRegistration, WalletPass
from webapp.services import outbox

APNS = "apns"  # outbox kind: one empty push to one Apple device
GOOGLE = "google_wallet"  # outbox kind: patch one Google loyalty object


def changed(session: Session, customer_id: int, now: datetime | None = None) -> None:
    """The customer's pass shows something else now: move its version and queue the
    wallets' updates, in the caller's transaction. Costs one indexed EXISTS for a
    customer without a pass."""
    if not session.scalar(select(exists().where(WalletPass.customer_id == customer_id))):
        return
    # A backdated ``now`` (the demo, imports) must not move the version backwards, or
    # the devices' "updated since" query would miss this change.
    now = max(now or utcnow(), utcnow())
    walletpass = session.scalar(select(WalletPass).where(WalletPass.customer_id == customer_id))
    assert walletpass is not None
    session.execute(update(WalletPass).where(WalletPass.id == walletpass.id)
                    .values(updated_at=now))
    for registration_id, in session.execute(
            select(PassRegistration.id).where(PassRegistration.pass_id == walletpass.id)):
        outbox.enqueue(session, kind=APNS, payload={"registration": registration_id},
                       business_id=walletpass.business_id, customer_id=customer_id)
    if walletpass.google_object:
        outbox.enqueue(session, kind=GOOGLE, payload={"pass": walletpass.id},
                       business_id=walletpass.business_id, customer_id=customer_id)


def business_changed(session: Session, business_id: int, now: datetime | None = None) -> None:
    """Something every pass of the business shows changed (the program, the name, the
    logo): move every pass's version and queue their updates, in the caller's
    transaction."""
    now = max(now or utcnow(), utcnow())
    passes = session.execute(select(WalletPass.id, WalletPass.customer_id,
                                    WalletPass.google_object)
                             .where(WalletPass.business_id == business_id)).all()
    if not passes:
        return
    session.execute(update(WalletPass).where(WalletPass.business_id == business_id)
                    .values(updated_at=now))
    by_pass = {pass_id: customer_id for pass_id, customer_id, _ in passes}
    for registration_id, pass_id in session.execute(
            select(PassRegistration.id, PassRegistration.pass_id)
            .where(PassRegistration.pass_id.in_(by_pass))):
        outbox.enqueue(session, kind=APNS, payload={"registration": registration_id},
                       business_id=business_id, customer_id=by_pass[pass_id])
    for pass_id, customer_id, on_google in passes:
        if on_google:
            outbox.enqueue(session, kind=GOOGLE, payload={"pass": pass_id},
                           business_id=business_id, customer_id=customer_id)


def account_closed(session: Session, customer_id: int) -> None:
    """The customer deleted their account: their iPhones are forgotten, and Google is told
    (the Google sender deactivates a deleted customer's object and blanks its name)."""
    walletpass = session.scalar(select(WalletPass).where(WalletPass.customer_id == customer_id))
    if walletpass is None:
        return
    session.execute(delete(PassRegistration).where(PassRegistration.pass_id == walletpass.id))
    if walletpass.google_object:
        outbox.enqueue(session, kind=GOOGLE, payload={"pass": walletpass.id},
                       business_id=walletpass.business_id, customer_id=customer_id)
