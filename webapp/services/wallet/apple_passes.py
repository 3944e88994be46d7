"""Apple Wallet: a customer's current pass, read through the services and built (what
``regulars wallet pass``, the download and the PassKit web service serve), and the
outbox sender that pushes "this pass changed" to the devices over APNs.

The .pkpass itself and the APNs client are the adapter's (:mod:`wallet.apple.pkpass`,
:mod:`wallet.apple.apns`); the reads and writes here run in unit-of-work scopes, and
none is open during a call to APNs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from wallet.apple import pkpass
from wallet.apple.apns import ApnsClient, ApnsRejected
from wallet.apple.settings import AppleSettings
from webapp.persistence.models import PassRegistration
from webapp.services.business import logos
from webapp.services.staff import accounts as staff
from webapp.services.unit_of_work import UnitOfWork, Work, reads, writes
from webapp.services.wallet import cards as wallet_cards
from webapp.services.wallet.cards import PassView

log = logging.getLogger("regulars.wallet.apns")


@dataclass(frozen=True)
class CurrentPass:
    data: bytes  # the .pkpass
    view: PassView
    serial: str
    updated_at: datetime  # the pass's version (Last-Modified)

    @property
    def filename(self) -> str:
        return pkpass.filename(self.view)


def current(work: Work, settings: AppleSettings, *, secret_key: str, base_url: str,
            business_id: int, customer_id: int, lang: str = "ru") -> CurrentPass:
    """Build the customer's pass now, making (and committing) its row on first use.

    The version is read before the contents, so a change in between only makes the
    phone fetch once more. Raises UnknownCustomer for another business's customer or
    one who is not active (and then makes no row).
    """
    uow = UnitOfWork.of(work)
    logo = logos.logo_of(uow.session, business_id)  # first: it ends its own read
    with uow.write() as session:  # an error (UnknownCustomer) rolls the new row back
        row = wallet_cards.pass_of(session, business_id, customer_id)
        serial, updated_at = row.serial, row.updated_at
        view = wallet_cards.view(session, business_id, customer_id, lang)
        contacts = [f"{branch.name}: {branch.address}"
                    for branch in staff.business_branches(session, business_id, None)
                    if branch.address]
    data = pkpass.build(view, serial=serial, updated_at=updated_at, settings=settings,
                        secret_key=secret_key, base_url=base_url,
                        logo_png=logo.png if logo else None, contacts=contacts)
    return CurrentPass(data, view, serial, updated_at)


@reads
def push_token(session: Session, registration_id: int) -> str | None:
    """The push token of a device's registration, or None once it is gone."""
    return session.scalar(select(PassRegistration.push_token)
                          .where(PassRegistration.id == registration_id))


@writes
def forget_push_token(session: Session, registration_id: int, token: str) -> None:
    """Remove a registration whose push token APNs no longer takes, unless the device
    registered a new token meanwhile."""
    session.execute(delete(PassRegistration).where(PassRegistration.id == registration_id,
                                                   PassRegistration.push_token == token))


class ApnsSender:
    """The outbox sender for kind ``apns``: payload ``{"registration": id}``.

    ``work`` is the worker's unit of work (the one :func:`outbox.run_once` uses):
    the registration is read in a read scope that ends before the network call, and a
    dead registration is removed in a write scope of its own.
    """

    def __init__(self, client: ApnsClient, work: Work) -> None:
        self.client, self.work = client, work

    def __call__(self, payload: Mapping[str, Any]) -> None:
        registration_id = payload.get("registration")
        if not isinstance(registration_id, int) or isinstance(registration_id, bool):
            raise ValueError("an apns payload needs an integer 'registration'")
        token = push_token(self.work, registration_id)
        if token is None:
            return  # unregistered since the push was queued: nothing to tell
        reply = self.client.push(token)
        if reply.delivered:
            return
        if reply.gone:
            log.info("APNs: the push token of registration %s is gone (%s %s): removed",
                     registration_id, reply.status, reply.reason or "")
            forget_push_token(self.work, registration_id, token)
            return
        raise ApnsRejected(f"APNs answered {reply.status} {reply.reason or ''}".strip())

    def close(self) -> None:
        """Close the connection to APNs (the worker keeps it until it exits)."""
        self.client.close()


def sender(client: ApnsClient, work: Work) -> ApnsSender:
    """The outbox sender for kind ``apns`` pushing through ``client``."""
    return ApnsSender(client, work)
