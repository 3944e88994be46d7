"""Google Wallet's loyalty class (one per business) and loyalty object (one per customer);
what they hold is made in :mod:`wallet.google.bodies`.

- :func:`ensure_object` (the customer taps «Save to Google Wallet»): inserts the class
  when no pass of the business is on Google yet (a class Google has already, 409, is
  patched only in the fields that differ, never ``reviewStatus``), then the object (an
  existing one, 409, is patched instead), and marks the pass, so every later change
  queues an outbox job of kind ``google_wallet``.
- :func:`patch_object` (the worker, for that job): reads the object back and, when the
  balance or tier moved, adds a message ("Баланс: 450 баллов") with ``addMessage`` as
  ``TEXT_AND_NOTIFY`` while the pass has notified fewer than
  :data:`~wallet.google.limit.NOTIFICATIONS_PER_DAY` times in the last 24 hours
  (:mod:`wallet.google.limit`). Over the limit no message is added: the pass itself
  shows the new balance, and a silent ``TEXT`` message would only pile up in the
  pass's message list (``addMessage`` appends). Then it PATCHes the balance, tier and
  texts. An object Google no longer has (404) is inserted again. Any other failure
  raises, so the outbox tries again; the message's id is made from the pass's version,
  so a retry does not send the same news twice.
- A deleted customer's object is deactivated (:func:`deactivate`): ``state`` INACTIVE
  and no ``accountName``, so no name stays at Google.

No database transaction is held during a call to Google.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import suppress
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from wallet.google.bodies import (
    Card,
    changing,
    class_body,
    class_changes,
    has_message,
    message,
    message_id,
    news,
    object_body,
    object_id,
    shown_balance,
    shown_tier,
)
from wallet.google.client import (
    CLASS,
    OBJECT,
    AlreadyExists,
    NotFound,
    QuotaExceeded,
    WalletClient,
    client_for,
)
from wallet.google.limit import NOTIFICATIONS_PER_DAY, claim, give_back, spent
from wallet.google.settings import GoogleSettings
from webapp.domain.clock import utcnow
from webapp.domain.errors import UnknownCustomer
from webapp.persistence.models import Business, Customer, WalletPass
from webapp.services import logos, outbox, wallet_cards
from webapp.services.wallet_updates import GOOGLE

__all__ = ["NOTIFICATIONS_PER_DAY", "Outcome", "deactivate", "ensure_object",
           "patch_object", "sender", "senders"]

Outcome = Literal["skipped", "inserted", "patched", "notified", "deactivated"]


def _card(session: Session, business_id: int, customer_id: int, pass_id: int,
          serial: str) -> Card:
    locale = session.scalar(select(Business.locale).where(Business.id == business_id))
    lang = "en" if (locale or "").lower().startswith("en") else "ru"
    return Card(pass_id=pass_id, serial=serial,
                view=wallet_cards.view(session, business_id, customer_id, lang),
                logo_stamp=logos.stamp(session, business_id))


def _put_class(client: WalletClient, settings: GoogleSettings, card: Card,
               base_url: str) -> None:
    """Insert the class; one Google has already is patched only where it differs."""
    body = class_body(settings, card, base_url)
    try:
        client.insert(CLASS, body)
    except AlreadyExists:
        changes = class_changes(body, client.get(CLASS, body["id"]))
        if changes:
            client.patch(CLASS, body["id"], changes)


def _put_object(client: WalletClient, settings: GoogleSettings, card: Card,
                base_url: str) -> None:
    body = object_body(settings, card, base_url)
    try:
        client.insert(OBJECT, body)
    except AlreadyExists:
        client.patch(OBJECT, body["id"], {k: v for k, v in body.items() if k != "id"})


def _put_all(client: WalletClient, settings: GoogleSettings, card: Card,
             base_url: str) -> None:
    _put_class(client, settings, card, base_url)
    _put_object(client, settings, card, base_url)


def ensure_object(session: Session, settings: GoogleSettings, business_id: int,
                  customer_id: int, base_url: str, *,
                  client: WalletClient | None = None) -> str:
    """Make sure Google has the business's class and the customer's object, up to date,
    and mark the pass so changes are sent to Google; commits. Returns the object id.
    Raises :class:`~webapp.domain.errors.UnknownCustomer` for a customer not of this
    business, and the client's errors when Google fails (the pass is then not marked).
    """
    walletpass = wallet_cards.pass_of(session, business_id, customer_id)
    session.commit()  # the pass and its serial exist whatever Google answers
    pass_id, serial = walletpass.id, walletpass.serial
    marked, version = walletpass.google_object, walletpass.updated_at
    card = _card(session, business_id, customer_id, pass_id, serial)
    # A pass of the business is marked only after its class was inserted.
    class_known = bool(session.scalar(select(exists().where(
        WalletPass.business_id == business_id, WalletPass.google_object.is_(True)))))
    session.commit()  # no transaction open while Google is called
    client = client or client_for(settings)
    base_url = base_url.rstrip("/")
    if not class_known:
        _put_class(client, settings, card, base_url)
    _put_object(client, settings, card, base_url)
    walletpass.google_object = True
    session.flush()
    moved = session.scalar(select(WalletPass.updated_at).where(WalletPass.id == pass_id))
    if not marked and moved != version:
        # It changed while Google was being told, before changes were queued for it.
        outbox.enqueue(session, kind=GOOGLE, payload={"pass": pass_id},
                       business_id=business_id, customer_id=customer_id)
    session.commit()
    return object_id(settings, serial)


def deactivate(session: Session, settings: GoogleSettings, pass_id: int, *,
               client: WalletClient | None = None) -> Outcome:
    """The customer is gone: set the pass's object INACTIVE with no ``accountName`` and
    unmark the pass, so nothing more is sent; commits. 'skipped' when the pass is not
    on Google, else 'deactivated' (also when Google no longer has the object)."""
    serial = session.scalar(select(WalletPass.serial).where(
        WalletPass.id == pass_id, WalletPass.google_object.is_(True)))
    session.commit()
    if serial is None:
        return "skipped"
    with suppress(NotFound):  # nothing left at Google to deactivate
        (client or client_for(settings)).patch(
            OBJECT, object_id(settings, serial), {"state": "INACTIVE", "accountName": ""})
    session.execute(update(WalletPass).where(WalletPass.id == pass_id)
                    .values(google_object=False).execution_options(synchronize_session=False))
    session.commit()
    return "deactivated"


def _tell(session: Session, client: WalletClient, pass_id: int, oid: str,
          news_message: dict[str, Any], now: datetime) -> bool:
    """Add the notifying message if the limit allows; True when it was added. Over the
    limit, or when Google says the quota is spent, nothing is added."""
    if not claim(session, pass_id, now):
        return False
    try:
        client.add_message(OBJECT, oid, news_message)
    except QuotaExceeded:
        spent(session, pass_id, now)
        return False
    except Exception:
        give_back(session, pass_id, now)
        raise
    return True


def patch_object(session: Session, settings: GoogleSettings, pass_id: int, base_url: str,
                 *, client: WalletClient | None = None,
                 now: datetime | None = None) -> Outcome:
    """Bring the pass's Google object up to date (see the module docstring); commits.
    'skipped': no such pass, not on Google, or its customer is blocked; 'deactivated':
    its customer deleted the account; 'inserted': Google did not have the object;
    'patched': changed without a notification; 'notified': changed with one."""
    now = now or utcnow()
    row = session.execute(select(WalletPass.business_id, WalletPass.customer_id,
                                 WalletPass.serial, WalletPass.google_object,
                                 WalletPass.updated_at, Customer.status)
                          .join(Customer, Customer.id == WalletPass.customer_id)
                          .where(WalletPass.id == pass_id)).first()
    if row is None or not row.google_object:
        session.commit()
        return "skipped"
    if row.status == "deleted":
        session.commit()
        return deactivate(session, settings, pass_id, client=client)
    try:
        card = _card(session, row.business_id, row.customer_id, pass_id, row.serial)
    except UnknownCustomer:
        session.commit()
        return "skipped"
    session.commit()  # no transaction open while Google is called
    base_url = base_url.rstrip("/")
    client = client or client_for(settings)
    oid, view = object_id(settings, card.serial), card.view
    notified = False
    try:
        found = client.get(OBJECT, oid)
        tier_before = shown_tier(found)
        tier_changed = view.tier is not None and view.tier != tier_before
        if (shown_balance(found) != view.points or tier_changed) \
                and not has_message(found, message_id(row.updated_at)):
            text = news(view, tier_changed=tier_changed)
            notified = _tell(session, client, pass_id, oid,
                             message(view, text, notify=True, version=row.updated_at), now)
        client.patch(OBJECT, oid, changing(view, base_url,
                                           tier_shown=tier_before is not None))
    except NotFound:
        _put_all(client, settings, card, base_url)
        return "inserted"
    return "notified" if notified else "patched"


def sender(settings: GoogleSettings, session: Callable[[], Session], base_url: str, *,
           client: WalletClient | None = None) -> outbox.Sender:
    """The outbox sender for kind ``google_wallet``: payload ``{"pass": WalletPass.id}``.
    ``session`` returns the worker's session."""

    def send(payload: Mapping[str, Any]) -> None:
        pass_id = payload.get("pass")
        if not isinstance(pass_id, int):
            raise ValueError("a google_wallet payload needs an integer 'pass'")
        patch_object(session(), settings, pass_id, base_url,
                     client=client or client_for(settings))

    return send


def senders() -> dict[str, outbox.Sender]:
    """The worker's sender for Google Wallet, or nothing while Google Wallet is off."""
    from flask import current_app

    from wallet.google.settings import settings_of
    from webapp.db import session

    settings = settings_of(current_app)
    if settings is None:
        return {}
    return {GOOGLE: sender(settings, session, current_app.config["REGULARS"].base_url)}
