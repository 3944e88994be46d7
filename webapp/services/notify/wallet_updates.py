"""Telling the wallets that a pass changed.

Any change of balance, tier, stamps or perks calls :func:`changed` inside its own
transaction (the ledger's writes and the close do): the pass's version moves and the
outbox gets one empty APNs push per registered Apple device and one Google Wallet
patch, sent by ``regulars worker``. The counter never waits for Apple or Google.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, bindparam, delete, select, update
from sqlalchemy.orm import Session

from webapp.domain.clock import utcnow
from webapp.persistence.models import PassRegistration, WalletPass
from webapp.services.notify import outbox

APNS = "apns"  # outbox kind: one empty push to one Apple device
GOOGLE = "google_wallet"  # outbox kind: patch one Google loyalty object


def changed(session: Session, customer_id: int, now: datetime | None = None, *,
            has_pass: bool | None = None) -> None:
    """The customer's pass shows something else now: move its version and queue the
    wallets' updates, in the caller's transaction. Costs one indexed select for a
    customer without a pass, none when the caller read :data:`HAS_PASS` already
    (``has_pass`` False) in this transaction."""
    if has_pass is False:
        return
    found = session.execute(_PASSES.where(WalletPass.customer_id == customer_id)).first()
    if found is not None:
        _move(session, found.business_id, [found], now)


def business_changed(session: Session, business_id: int, now: datetime | None = None) -> None:
    """Something every pass of the business shows changed (the program, the name, the
    logo): move every pass's version and queue their updates, in the caller's
    transaction."""
    passes = session.execute(_PASSES.where(WalletPass.business_id == business_id)).all()
    if passes:
        _move(session, business_id, passes, now)


# Whether the customer (bound as ``customer_id``) has a pass, as an EXISTS for a
# statement the caller runs anyway (the close's lock); hand it to changed().
HAS_PASS = select(WalletPass.id).where(WalletPass.customer_id == bindparam("customer_id")).exists()
_PASSES = select(WalletPass.id, WalletPass.business_id, WalletPass.customer_id,
                 WalletPass.google_object)


def _move(session: Session, business_id: int, passes: Sequence[Row[int, int, int, bool]],
          now: datetime | None) -> None:
    # A backdated ``now`` (the demo, imports) must not move a version backwards, or the
    # devices' "updated since" query would miss this change.
    now = max(now or utcnow(), utcnow())
    owner = {row.id: row.customer_id for row in passes}
    session.execute(update(WalletPass).where(WalletPass.id.in_(owner)).values(updated_at=now))
    for registration_id, pass_id in session.execute(
            select(PassRegistration.id, PassRegistration.pass_id)
            .where(PassRegistration.business_id == business_id,
                   PassRegistration.pass_id.in_(owner))):
        outbox.enqueue(session, kind=APNS, payload={"registration": registration_id},
                       business_id=business_id, customer_id=owner[pass_id])
    for row in passes:
        if row.google_object:
            outbox.enqueue(session, kind=GOOGLE, payload={"pass": row.id},
                           business_id=business_id, customer_id=row.customer_id)


def account_closed(session: Session, customer_id: int) -> None:
    """The customer deleted their account: their iPhones are forgotten, and Google is told
    (the Google sender deactivates a deleted customer's object and blanks its name)."""
    walletpass = session.scalar(select(WalletPass).where(WalletPass.customer_id == customer_id))
    if walletpass is None:
        return
    session.execute(delete(PassRegistration).where(
        PassRegistration.business_id == walletpass.business_id,
        PassRegistration.pass_id == walletpass.id))
    if walletpass.google_object:
        outbox.enqueue(session, kind=GOOGLE, payload={"pass": walletpass.id},
                       business_id=walletpass.business_id, customer_id=customer_id)
