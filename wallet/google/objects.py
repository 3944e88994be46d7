"""Google Wallet's loyalty class (one per business) and loyalty object (one per customer),
made from the same :class:`~webapp.services.wallet_cards.PassView` as the Apple pass.

- :func:`ensure_object` (the customer taps «Save to Google Wallet»): inserts the class
  and the object (an existing one, 409, is patched instead) and marks the pass, so
  every later change queues an outbox job of kind ``google_wallet``.
- :func:`patch_object` (the worker, for that job): reads the object back, patches the
  balance, tier and texts, and when the balance or tier moved adds a message
  ("Баланс: 450 баллов") that notifies the phone (``TEXT_AND_NOTIFY``) while the
  pass has notified fewer than :data:`NOTIFICATIONS_PER_DAY` times today (UTC day),
  and silently (``TEXT``) after that. An object Google no longer has (404) is
  inserted again. Any other failure raises, so the outbox tries again.

No database transaction is held during a call to Google.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from sqlalchemy import case, or_, select, update
from sqlalchemy.orm import Session

from wallet.google.client import (
    CLASS,
    OBJECT,
    AlreadyExists,
    NotFound,
    QuotaExceeded,
    WalletClient,
    client_for,
)
from wallet.google.settings import GoogleSettings
from webapp.domain.errors import UnknownCustomer
from webapp.persistence.base import utcnow
from webapp.persistence.models import Business, WalletPass
from webapp.services import logos, outbox, wallet_cards
from webapp.services.wallet_cards import PassView
from webapp.services.wallet_updates import GOOGLE

# Google: "You may send a maximum of 3 messages that trigger a push notification in a
# 24 hour period" per pass (Trigger Push Notifications, loyalty cards). Counted per UTC
# day in WalletPass.google_message_day / google_messages.
NOTIFICATIONS_PER_DAY = 3
BACKGROUND = "#0b5d3b"
NO_TIER = "—"  # shown when a tier the pass showed is gone (a patch cannot delete a field)

Outcome = Literal["skipped", "inserted", "patched", "notified"]

_WORDS: dict[str, dict[str, str]] = {
    "ru": {"points": "Баллы", "tier": "Уровень", "account_id": "Номер карты",
           "account_name": "Клиент", "worth": "Стоимость баллов",
           "progress": "Следующий уровень", "stamps": "Штампы", "expiring": "Сгорают",
           "rules": "Правила", "history": "История баллов", "card": "Карта клиента",
           "balance": "Баланс: {points}", "new_tier": "Уровень: {tier}. "},
    "en": {"points": "Points", "tier": "Level", "account_id": "Card number",
           "account_name": "Member", "worth": "Points worth",
           "progress": "Next level", "stamps": "Stamps", "expiring": "Expiring",
           "rules": "How it works", "history": "Points history", "card": "Loyalty card",
           "balance": "Balance: {points}", "new_tier": "Level: {tier}. "},
}


@dataclass(frozen=True)
class Card:
    """What the class and the object are made from."""

    pass_id: int
    serial: str
    view: PassView
    logo_stamp: int | None  # when the business's logo last changed; None without one


def class_id(settings: GoogleSettings, business_id: int) -> str:
    return f"{settings.issuer_id}.regulars-business-{business_id}"


def object_id(settings: GoogleSettings, serial: str) -> str:
    return f"{settings.issuer_id}.regulars-pass-{serial}"


def _words(lang: str) -> dict[str, str]:
    return _WORDS.get(lang, _WORDS["ru"])


def class_body(settings: GoogleSettings, card: Card, base_url: str) -> dict[str, Any]:
    """The business's loyalty class. Google requires a program logo: the business's
    own (its URL changes with it, so Google fetches a new one), else the app's icon."""
    view, words = card.view, _words(card.view.lang)
    logo = (f"{base_url}/c/{view.business_id}/logo.png?v={card.logo_stamp}"
            if card.logo_stamp is not None else f"{base_url}/static/img/icon-512.png")
    return {
        "id": class_id(settings, view.business_id),
        "issuerName": view.business_name,
        "programName": view.business_name,
        "programLogo": {"sourceUri": {"uri": logo}},
        "reviewStatus": "UNDER_REVIEW",
        "hexBackgroundColor": BACKGROUND,
        "accountIdLabel": words["account_id"],
        "accountNameLabel": words["account_name"],
    }


def _points(view: PassView) -> dict[str, Any]:
    return {"label": _words(view.lang)["points"], "balance": {"int": view.points}}


def _tier(view: PassView) -> dict[str, Any]:
    return {"label": _words(view.lang)["tier"],
            "balance": {"string": view.tier or NO_TIER}}


def _texts(view: PassView) -> list[dict[str, str]]:
    words = _words(view.lang)
    shown = (("worth", view.worth_text if view.points else None),
             ("progress", view.progress), ("stamps", view.stamps),
             ("expiring", view.expiring), ("rules", view.rules or None))
    return [{"id": key, "header": words[key], "body": text} for key, text in shown if text]


def _links(view: PassView, base_url: str) -> dict[str, Any]:
    words = _words(view.lang)
    home = f"{base_url}/c/{view.business_id}"
    return {"uris": [
        {"id": "history", "uri": f"{home}/history", "description": words["history"]},
        {"id": "card", "uri": f"{home}/", "description": words["card"]},
    ]}


def object_body(settings: GoogleSettings, card: Card, base_url: str) -> dict[str, Any]:
    """The customer's loyalty object as a whole (for insert)."""
    view = card.view
    body: dict[str, Any] = {
        "id": object_id(settings, card.serial),
        "classId": class_id(settings, view.business_id),
        "state": "ACTIVE",
        "accountId": view.card_number,
        "accountName": view.customer_name or view.card_number,
        "barcode": {"type": "QR_CODE", "value": view.card_number,
                    "alternateText": view.card_number},
        **_changing(view, base_url, tier_shown=False),
    }
    return body


def _changing(view: PassView, base_url: str, *, tier_shown: bool) -> dict[str, Any]:
    """The fields a change can move. Lists replace the stored ones whole, so a text
    that no longer applies disappears; a tier that is gone shows :data:`NO_TIER`."""
    fields: dict[str, Any] = {
        "loyaltyPoints": _points(view),
        "textModulesData": _texts(view),
        "linksModuleData": _links(view, base_url),
    }
    if view.tier or tier_shown:
        fields["secondaryLoyaltyPoints"] = _tier(view)
    return fields


def message(view: PassView, *, tier_changed: bool, notify: bool,
            now: datetime) -> dict[str, Any]:
    """The news of a change: "Баланс: 450 баллов" (with the new tier first when it
    changed); ``notify`` makes the phone show it (``TEXT_AND_NOTIFY``)."""
    words = _words(view.lang)
    text = words["balance"].format(points=view.points_text)
    if tier_changed and view.tier:
        text = words["new_tier"].format(tier=view.tier) + text
    return {"id": f"balance-{int(now.timestamp() * 1000)}", "header": view.business_name,
            "body": text, "messageType": "TEXT_AND_NOTIFY" if notify else "TEXT"}


# -- reading the database --------------------------------------------------------------


def _card(session: Session, business_id: int, customer_id: int, pass_id: int,
          serial: str) -> Card:
    locale = session.scalar(select(Business.locale).where(Business.id == business_id))
    lang = "en" if (locale or "").lower().startswith("en") else "ru"
    return Card(pass_id=pass_id, serial=serial,
                view=wallet_cards.view(session, business_id, customer_id, lang),
                logo_stamp=logos.stamp(session, business_id))


# -- talking to Google -----------------------------------------------------------------


def _put_class(client: WalletClient, settings: GoogleSettings, card: Card,
               base_url: str) -> None:
    body = class_body(settings, card, base_url)
    try:
        client.insert(CLASS, body)
    except AlreadyExists:
        client.patch(CLASS, body["id"], {k: v for k, v in body.items() if k != "id"})


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
    session.commit()  # no transaction open while Google is called
    _put_all(client or client_for(settings), settings, card, base_url.rstrip("/"))
    walletpass.google_object = True
    session.flush()
    moved = session.scalar(select(WalletPass.updated_at).where(WalletPass.id == pass_id))
    if not marked and moved != version:
        # It changed while Google was being told, before changes were queued for it.
        outbox.enqueue(session, kind=GOOGLE, payload={"pass": pass_id},
                       business_id=business_id, customer_id=customer_id)
    session.commit()
    return object_id(settings, serial)


def _claim_notification(session: Session, pass_id: int, today: date) -> bool:
    """Take one of today's notifications for the pass, if any is left (committed at
    once, so two workers cannot both take the last one)."""
    result = session.execute(
        update(WalletPass)
        .where(WalletPass.id == pass_id,
               or_(WalletPass.google_message_day.is_(None),
                   WalletPass.google_message_day != today,
                   WalletPass.google_messages < NOTIFICATIONS_PER_DAY))
        .values(google_messages=case((WalletPass.google_message_day == today,
                                      WalletPass.google_messages + 1), else_=1),
                google_message_day=today)
        .execution_options(synchronize_session=False))
    session.commit()
    return getattr(result, "rowcount", 0) == 1


def _return_notification(session: Session, pass_id: int, today: date) -> None:
    """Give back a notification taken for a message that was not sent."""
    session.execute(update(WalletPass)
                    .where(WalletPass.id == pass_id, WalletPass.google_message_day == today,
                           WalletPass.google_messages > 0)
                    .values(google_messages=WalletPass.google_messages - 1)
                    .execution_options(synchronize_session=False))
    session.commit()


def _no_more_today(session: Session, pass_id: int, today: date) -> None:
    """Google says the pass's notifications are spent: none more today."""
    session.execute(update(WalletPass).where(WalletPass.id == pass_id)
                    .values(google_message_day=today, google_messages=NOTIFICATIONS_PER_DAY)
                    .execution_options(synchronize_session=False))
    session.commit()


def _shown_balance(found: Mapping[str, Any]) -> int | None:
    value = (found.get("loyaltyPoints") or {}).get("balance", {}).get("int")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _shown_tier(found: Mapping[str, Any]) -> str | None:
    value = (found.get("secondaryLoyaltyPoints") or {}).get("balance", {}).get("string")
    return None if value in (None, "", NO_TIER) else str(value)


def patch_object(session: Session, settings: GoogleSettings, pass_id: int, base_url: str,
                 *, client: WalletClient | None = None,
                 now: datetime | None = None) -> Outcome:
    """Bring the pass's Google object up to date (see the module docstring); commits.
    'skipped': no such pass, not on Google, or its customer is gone; 'inserted': Google
    did not have the object; 'patched': changed without a notification; 'notified':
    changed with one."""
    now = now or utcnow()
    row = session.execute(select(WalletPass.business_id, WalletPass.customer_id,
                                 WalletPass.serial, WalletPass.google_object)
                          .where(WalletPass.id == pass_id)).first()
    if row is None or not row.google_object:
        session.commit()
        return "skipped"
    try:
        card = _card(session, row.business_id, row.customer_id, pass_id, row.serial)
    except UnknownCustomer:
        session.commit()
        return "skipped"
    session.commit()  # no transaction open while Google is called
    base_url = base_url.rstrip("/")
    client = client or client_for(settings)
    oid = object_id(settings, card.serial)
    try:
        found = client.get(OBJECT, oid)
    except NotFound:
        _put_all(client, settings, card, base_url)
        return "inserted"

    view, today = card.view, now.astimezone(UTC).date()
    shown_tier = _shown_tier(found)
    tier_changed = view.tier is not None and view.tier != shown_tier
    body = _changing(view, base_url, tier_shown=shown_tier is not None)
    notify = False
    if _shown_balance(found) != view.points or tier_changed:
        notify = _claim_notification(session, pass_id, today)
        body["messages"] = [message(view, tier_changed=tier_changed, notify=notify, now=now)]
    try:
        client.patch(OBJECT, oid, body)
    except NotFound:
        if notify:
            _return_notification(session, pass_id, today)
        _put_all(client, settings, card, base_url)
        return "inserted"
    except QuotaExceeded:
        if not notify:
            raise
        _no_more_today(session, pass_id, today)
        body["messages"] = [message(view, tier_changed=tier_changed, notify=False, now=now)]
        client.patch(OBJECT, oid, body)
        return "patched"
    except Exception:
        if notify:
            _return_notification(session, pass_id, today)
        raise
    return "notified" if notify else "patched"


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
