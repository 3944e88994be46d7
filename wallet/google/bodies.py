"""What Google Wallet is sent: the business's loyalty class, the customer's loyalty
object and the balance message, made from the same
:class:`~webapp.services.wallet.cards.PassView` as the Apple pass. Pure functions: no
database, no network."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wallet.google.settings import GoogleSettings
from webapp.catalogue import N_, gettext_for
from webapp.services.wallet.cards import PassView

BACKGROUND = "#0b5d3b"
NO_TIER = "—"  # shown when a tier the pass showed is gone (a patch cannot delete a field)
MESSAGE_PREFIX = "balance-"  # the ids of the balance messages

# The labels on the pass, translated into the pass's language by _words.
_LABELS: dict[str, str] = {
    "points": N_("Баллы"), "account": N_("На счёте"), "tier": N_("Уровень"),
    "account_id": N_("Номер карты"),
    "account_name": N_("Клиент"), "worth": N_("Стоимость баллов"),
    "progress": N_("Следующий уровень"), "stamps": N_("Штампы"), "expiring": N_("Сгорают"),
    "rules": N_("Правила"), "history": N_("История баллов"), "card": N_("Карта клиента"),
    "balance": N_("Баланс: %(points)s"), "new_tier": N_("Уровень: %(tier)s."),
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
    _ = gettext_for(lang)
    return {key: _(text) for key, text in _LABELS.items()}


def class_body(settings: GoogleSettings, card: Card, base_url: str) -> dict[str, Any]:
    """The business's loyalty class (for insert). Google requires a program logo: the
    business's own (its URL changes with it, so Google fetches a new one), else the
    app's icon."""
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


def class_changes(wanted: Mapping[str, Any], found: Mapping[str, Any]) -> dict[str, Any]:
    """The class fields Google shows otherwise than ``wanted`` (never the id, never
    ``reviewStatus``: Google moves that itself once the class is reviewed)."""
    return {key: value for key, value in wanted.items()
            if key not in ("id", "reviewStatus") and found.get(key) != value}


def _points(view: PassView) -> dict[str, Any]:
    if view.in_money:  # cashback: the money on the account, as the card shows it
        return {"label": _words(view.lang)["account"],
                "balance": {"string": view.points_text}}
    return {"label": _words(view.lang)["points"], "balance": {"int": view.points}}


def balance_shown(view: PassView) -> int | str:
    """What :func:`shown_balance` reads back from an object showing ``view``."""
    return view.points_text if view.in_money else view.points


def _tier(view: PassView) -> dict[str, Any]:
    return {"label": _words(view.lang)["tier"],
            "balance": {"string": view.tier or NO_TIER}}


def _texts(view: PassView) -> list[dict[str, str]]:
    words = _words(view.lang)
    shown = (("worth", view.worth_text if view.points and not view.in_money else None),
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
    return {
        "id": object_id(settings, card.serial),
        "classId": class_id(settings, view.business_id),
        "state": "ACTIVE",
        "accountId": view.card_number,
        "accountName": view.customer_name or view.card_number,
        "barcode": {"type": "QR_CODE", "value": view.card_number,
                    "alternateText": view.card_number},
        **changing(view, base_url, tier_shown=False),
    }


def changing(view: PassView, base_url: str, *, tier_shown: bool) -> dict[str, Any]:
    """The fields a change can move (the PATCH: no messages). Lists replace the stored
    ones whole, so a text that no longer applies disappears; a tier that is gone shows
    :data:`NO_TIER`."""
    fields: dict[str, Any] = {
        "loyaltyPoints": _points(view),
        "textModulesData": _texts(view),
        "linksModuleData": _links(view, base_url),
    }
    if view.tier or tier_shown:
        fields["secondaryLoyaltyPoints"] = _tier(view)
    return fields


def news(view: PassView, *, tier_changed: bool) -> str:
    """The news of a change: "Баланс: 450 баллов", the new tier first when it changed."""
    words = _words(view.lang)
    text = words["balance"] % {"points": view.points_text}
    if tier_changed and view.tier:
        text = words["new_tier"] % {"tier": view.tier} + " " + text
    return text


def message(view: PassView, text: str, *, notify: bool,
            version: datetime) -> dict[str, Any]:
    """The message for ``addMessage``, its id made from the pass's version (so a retry
    of the same change can see that it was sent); ``notify`` makes the phone show it
    (``TEXT_AND_NOTIFY``)."""
    return {"id": message_id(version), "header": view.business_name, "body": text,
            "messageType": "TEXT_AND_NOTIFY" if notify else "TEXT"}


def message_id(version: datetime) -> str:
    return f"{MESSAGE_PREFIX}{int(version.timestamp() * 1000)}"


def has_message(found: Mapping[str, Any], wanted: str) -> bool:
    """Whether the object Google has holds the message with id ``wanted``."""
    return any(isinstance(m, Mapping) and m.get("id") == wanted
               for m in found.get("messages") or ())


def shown_balance(found: Mapping[str, Any]) -> int | str | None:
    balance = (found.get("loyaltyPoints") or {}).get("balance", {})
    if isinstance(balance.get("string"), str):  # cashback: the money as text
        return str(balance["string"])
    value = balance.get("int")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def shown_tier(found: Mapping[str, Any]) -> str | None:
    value = (found.get("secondaryLoyaltyPoints") or {}).get("balance", {}).get("string")
    return None if value in (None, "", NO_TIER) else str(value)
