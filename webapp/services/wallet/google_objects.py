"""Google Wallet: when the customer's loyalty object is put at Google, and what the
database remembers of it. The REST calls and the bodies are the adapter's
(:mod:`wallet.google.objects`, :mod:`wallet.google.bodies`).

- :func:`ensure_object` (the customer taps «Save to Google Wallet»): inserts the class
  when no pass of the business is on Google yet, then the object, and marks the pass,
  so every later change queues an outbox job of kind ``google_wallet``.
- :func:`patch_object` (the worker, for that job): reads the object back and, when the
  balance or tier moved, adds a message ("Баланс: 450 баллов") with ``addMessage`` as
  ``TEXT_AND_NOTIFY`` while the pass has notified fewer than
  :data:`~wallet.google.limit.NOTIFICATIONS_PER_DAY` times in the last 24 hours
  (:mod:`webapp.services.wallet.google_limit`). Over the limit no message is added: the
  pass itself shows the new balance, and a silent ``TEXT`` message would only pile up
  in the pass's message list (``addMessage`` appends). Then it PATCHes the balance,
  tier and texts. An object Google no longer has (404) is inserted again. Any other
  failure raises, so the outbox tries again; the message's id is made from the pass's
  version, so a retry does not send the same news twice.
- A deleted customer's object is deactivated (:func:`deactivate`): ``state`` INACTIVE
  and no ``accountName``, so no name stays at Google.

Each database step runs in its own unit-of-work scope, so no transaction is held during
a call to Google.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from wallet.google.bodies import (
    Card,
    balance_shown,
    changing,
    has_message,
    message,
    message_id,
    news,
    object_id,
    shown_balance,
    shown_tier,
)
from wallet.google.client import (
    OBJECT,
    GoogleError,
    NotFound,
    QuotaExceeded,
    WalletClient,
    client_for,
)
from wallet.google.limit import NOTIFICATIONS_PER_DAY
from wallet.google.links import origin_of, save_url
from wallet.google.objects import deactivate_object, put_all, put_class, put_object
from wallet.google.settings import GoogleSettings
from webapp.domain.clock import utcnow
from webapp.domain.errors import UnknownCustomer, WalletUnavailable
from webapp.persistence.models import Business, Customer, WalletPass
from webapp.services.business import logos
from webapp.services.notify import outbox
from webapp.services.notify.wallet_updates import GOOGLE
from webapp.services.unit_of_work import UnitOfWork, Work
from webapp.services.wallet import cards as wallet_cards
from webapp.services.wallet.google_limit import claim, give_back, spent

__all__ = ["NOTIFICATIONS_PER_DAY", "Outcome", "deactivate", "ensure_object",
           "patch_object", "save_link", "sender"]

Outcome = Literal["skipped", "inserted", "patched", "notified", "deactivated"]


def _card(session: Session, business_id: int, customer_id: int, pass_id: int,
          serial: str) -> Card:
    locale = session.scalar(select(Business.locale).where(Business.id == business_id))
    lang = "en" if (locale or "").lower().startswith("en") else "ru"
    return Card(pass_id=pass_id, serial=serial,
                view=wallet_cards.view(session, business_id, customer_id, lang),
                logo_stamp=logos.stamp(session, business_id))


def ensure_object(work: Work, settings: GoogleSettings, business_id: int,
                  customer_id: int, base_url: str, *,
                  client: WalletClient | None = None) -> str:
    """Make sure Google has the business's class and the customer's object, up to date,
    and mark the pass so changes are sent to Google; commits. Returns the object id.
    Raises :class:`~webapp.domain.errors.UnknownCustomer` for a customer not of this
    business, and the client's errors when Google fails (the pass is then not marked).
    """
    uow = UnitOfWork.of(work)
    with uow.write() as session:  # the pass and its serial exist whatever Google answers
        walletpass = wallet_cards.pass_of(session, business_id, customer_id)
        pass_id, serial = walletpass.id, walletpass.serial
        marked, version = walletpass.google_object, walletpass.updated_at
    with uow.read() as session:  # ended before Google is called
        card = _card(session, business_id, customer_id, pass_id, serial)
        # A pass of the business is marked only after its class was inserted.
        class_known = bool(session.scalar(select(exists().where(
            WalletPass.business_id == business_id, WalletPass.google_object.is_(True)))))
    client = client or client_for(settings)
    base_url = base_url.rstrip("/")
    if not class_known:
        put_class(client, settings, card, base_url)
    put_object(client, settings, card, base_url)
    with uow.write() as session:
        walletpass.google_object = True
        session.flush()
        moved = session.scalar(select(WalletPass.updated_at)
                               .where(WalletPass.id == pass_id))
        if not marked and moved != version:
            # It changed while Google was being told, before changes were queued for it.
            outbox.enqueue(session, kind=GOOGLE, payload={"pass": pass_id},
                           business_id=business_id, customer_id=customer_id)
    return object_id(settings, serial)


def save_link(work: Work, business_id: int, customer_id: int, base_url: str,
              settings: GoogleSettings) -> str:
    """A signed-in customer's «Save to Google Wallet» URL: the object is inserted (or
    brought up to date) first, so the link names it by id only; commits. UnknownCustomer
    for a customer not of this business; WalletUnavailable when Google cannot be told."""
    try:
        oid = ensure_object(work, settings, business_id, customer_id, base_url)
    except GoogleError as error:
        raise WalletUnavailable("google_wallet_unavailable") \
            from error
    return save_url(settings, oid, [origin_of(base_url)])


def deactivate(work: Work, settings: GoogleSettings, pass_id: int, *,
               client: WalletClient | None = None) -> Outcome:
    """The customer is gone: set the pass's object INACTIVE with no ``accountName`` and
    unmark the pass, so nothing more is sent; commits. 'skipped' when the pass is not
    on Google, else 'deactivated' (also when Google no longer has the object)."""
    uow = UnitOfWork.of(work)
    with uow.read() as session:
        serial = session.scalar(select(WalletPass.serial).where(
            WalletPass.id == pass_id, WalletPass.google_object.is_(True)))
    if serial is None:
        return "skipped"
    deactivate_object(client or client_for(settings), settings, serial)
    with uow.write() as session:
        session.execute(update(WalletPass).where(WalletPass.id == pass_id)
                        .values(google_object=False)
                        .execution_options(synchronize_session=False))
    return "deactivated"


def _tell(work: Work, client: WalletClient, pass_id: int, oid: str,
          news_message: dict[str, Any], now: datetime) -> bool:
    """Add the notifying message if the limit allows; True when it was added. Over the
    limit, or when Google says the quota is spent, nothing is added."""
    if not claim(work, pass_id, now):
        return False
    try:
        client.add_message(OBJECT, oid, news_message)
    except QuotaExceeded:
        spent(work, pass_id, now)
        return False
    except Exception:
        give_back(work, pass_id, now)
        raise
    return True


def patch_object(work: Work, settings: GoogleSettings, pass_id: int, base_url: str,
                 *, client: WalletClient | None = None,
                 now: datetime | None = None) -> Outcome:
    """Bring the pass's Google object up to date (see the module docstring); commits.
    'skipped': no such pass, not on Google, or its customer is blocked; 'deactivated':
    its customer deleted the account; 'inserted': Google did not have the object;
    'patched': changed without a notification; 'notified': changed with one."""
    now = now or utcnow()
    uow = UnitOfWork.of(work)
    with uow.read() as session:  # ended before Google is called
        row = session.execute(select(WalletPass.business_id, WalletPass.customer_id,
                                     WalletPass.serial, WalletPass.google_object,
                                     WalletPass.updated_at, Customer.status)
                              .join(Customer, Customer.id == WalletPass.customer_id)
                              .where(WalletPass.id == pass_id)).first()
        card = None
        if row is not None and row.google_object and row.status != "deleted":
            with suppress(UnknownCustomer):  # not active: nothing to show
                card = _card(session, row.business_id, row.customer_id, pass_id,
                             row.serial)
    if row is None or not row.google_object:
        return "skipped"
    if row.status == "deleted":
        return deactivate(uow, settings, pass_id, client=client)
    if card is None:
        return "skipped"
    base_url = base_url.rstrip("/")
    client = client or client_for(settings)
    oid, view = object_id(settings, card.serial), card.view
    notified = False
    try:
        found = client.get(OBJECT, oid)
        tier_before = shown_tier(found)
        tier_changed = view.tier is not None and view.tier != tier_before
        if (shown_balance(found) != balance_shown(view) or tier_changed) \
                and not has_message(found, message_id(row.updated_at)):
            text = news(view, tier_changed=tier_changed)
            notified = _tell(uow, client, pass_id, oid,
                             message(view, text, notify=True, version=row.updated_at), now)
        client.patch(OBJECT, oid, changing(view, base_url,
                                           tier_shown=tier_before is not None))
    except NotFound:
        put_all(client, settings, card, base_url)
        return "inserted"
    return "notified" if notified else "patched"


def sender(settings: GoogleSettings, work: Work, base_url: str, *,
           client: WalletClient | None = None) -> outbox.Sender:
    """The outbox sender for kind ``google_wallet``: payload ``{"pass": WalletPass.id}``.
    ``work`` is the worker's unit of work."""

    def send(payload: Mapping[str, Any]) -> None:
        pass_id = payload.get("pass")
        if not isinstance(pass_id, int):
            raise ValueError("a google_wallet payload needs an integer 'pass'")
        patch_object(work, settings, pass_id, base_url,
                     client=client or client_for(settings))

    return send
