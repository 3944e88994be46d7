"""The Apple Wallet pass (.pkpass) of a customer's card: a signed zip.

A storeCard: the balance is the primary field (a ``changeMessage`` makes the iPhone
announce a new balance or tier); tier, progress to the next tier, stamps and expiring
points below it; the card number in the header and as a QR code; the rules, what the
points are worth, the contacts and a link to the history on the back. Labels come from
``ru.lproj`` / ``en.lproj/pass.strings`` (the phone picks by its language); values are
already in the customer's language (:class:`~webapp.services.wallet.cards.PassView`).

``manifest.json`` holds the SHA-1 of every other file and ``signature`` is a detached
PKCS#7 (CMS SignedData, SHA-256, signing time and the WWDR intermediate included) over
the manifest, made with ``cryptography``; ``openssl cms -verify -binary -inform DER``
checks it. The output depends only on its inputs, apart from the signature's time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from html import escape
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from wallet.apple import zipper
from wallet.apple.images import THEME, images_for
from wallet.apple.settings import AppleSettings, auth_token
from webapp.catalogue import N_, gettext_for
from webapp.services.wallet.cards import PassView

MEDIA_TYPE = "application/vnd.apple.pkpass"
WEB_SERVICE_PATH = "/wallet/apple"  # webServiceURL = base URL + this (https only)
FOREGROUND = "rgb(255, 255, 255)"
BACKGROUND = "rgb({}, {}, {})".format(*THEME)
LABEL = "rgb(190, 228, 208)"  # a pale green: 7:1 on the background

# Localised labels and change messages: pass.json carries the keys, each .lproj the words.
LABELS: Mapping[str, str] = {
    "label.card": N_("Карта"),
    "label.points": N_("Баллы"),
    "label.account": N_("На счёте"),
    "change.points": N_("Баланс: %@"),
    "label.tier": N_("Уровень"),
    "change.tier": N_("Уровень: %@"),
    "label.progress": N_("До следующего уровня"),
    "label.stamps": N_("Штампы"),
    "label.expiring": N_("Сгорают"),
    "label.rules": N_("Правила программы"),
    "label.worth": N_("Баллами можно оплатить"),
    "label.contacts": N_("Контакты"),
    "label.history": N_("История баллов"),
}
LANGUAGES = ("ru", "en")
STRINGS: Mapping[str, Mapping[str, str]] = {
    lang: {key: gettext_for(lang)(text) for key, text in LABELS.items()} for lang in LANGUAGES}


def strings_file(strings: Mapping[str, str]) -> bytes:
    """A ``.strings`` file: ``"key" = "value";`` lines, UTF-16 with a byte-order mark
    (the encoding Apple's tools write; Foundation also reads UTF-8)."""
    def quote(text: str) -> str:
        return (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
                .replace("\r", "\\r").replace("\t", "\\t"))

    text = "".join(f'"{quote(key)}" = "{quote(value)}";\n' for key, value in strings.items())
    return b"\xff\xfe" + text.encode("utf-16-le")


_STRINGS_FILES = {f"{lang}.lproj/pass.strings": strings_file(table)
                  for lang, table in STRINGS.items()}
_STRINGS_SHA1 = {name: hashlib.sha1(data).hexdigest() for name, data in _STRINGS_FILES.items()}
_STRINGS_ENTRIES = tuple(zipper.entry(name, data, deflate=True)
                         for name, data in _STRINGS_FILES.items())


def build(view: PassView, *, serial: str, updated_at: datetime, settings: AppleSettings,
          secret_key: str, base_url: str, logo_png: bytes | None,
          contacts: Iterable[str] = ()) -> bytes:
    """The signed .pkpass of ``view`` as bytes (serve as :data:`MEDIA_TYPE`).

    ``serial`` and ``updated_at`` are the WalletPass row's (``updated_at`` dates the
    archive's entries); ``logo_png`` the business's logo (None: the default images);
    ``contacts`` extra lines for the back (address, phone) under the business's name.
    """
    images = images_for(logo_png, view.business_name)
    body = pass_json(view, serial=serial, settings=settings, secret_key=secret_key,
                     base_url=base_url, contacts=contacts)
    digests = {"pass.json": hashlib.sha1(body).hexdigest(), **_STRINGS_SHA1, **images.sha1}
    manifest = json.dumps(digests, sort_keys=True).encode()
    signature = sign(manifest, settings)
    return zipper.archive((
        zipper.entry("pass.json", body, deflate=False, when=updated_at),
        zipper.entry("manifest.json", manifest, deflate=False, when=updated_at),
        zipper.entry("signature", signature, deflate=False, when=updated_at),
        *_STRINGS_ENTRIES, *images.entries))


def pass_json(view: PassView, *, serial: str, settings: AppleSettings, secret_key: str,
              base_url: str, contacts: Iterable[str] = ()) -> bytes:
    """``pass.json`` (UTF-8)."""
    _ = gettext_for(view.lang)
    base_url = base_url.rstrip("/")
    secondary: list[dict[str, Any]] = []
    if view.tier:
        secondary.append({"key": "tier", "label": "label.tier", "value": view.tier,
                          "changeMessage": "change.tier"})
    if view.progress:
        secondary.append({"key": "progress", "label": "label.progress",
                          "value": _short(view.progress)})
    auxiliary = [{"key": key, "label": f"label.{key}", "value": _short(value)}
                 for key, value in (("stamps", view.stamps), ("expiring", view.expiring))
                 if value]
    history = f"{base_url}/c/{view.business_id}/history"
    open_history = escape(_("Открыть историю"))
    back: list[dict[str, Any]] = [  # keys are unique across the pass: front ones are taken
        {"key": key, "label": f"label.{label}", "value": value}
        for key, label, value in (("rules", "rules", view.rules),
                                  ("progress_full", "progress", view.progress),
                                  ("stamps_full", "stamps", view.stamps)) if value]
    if not view.in_money:  # cashback is money already: "4 066 ₽" needs no worth beside it
        back.append({"key": "worth", "label": "label.worth", "value": view.worth_text})
    back += [
        {"key": "card_number", "label": "label.card", "value": view.card_number},
        {"key": "contacts", "label": "label.contacts",
         "value": "\n".join([view.business_name, *[c for c in contacts if c]])},
        {"key": "history", "label": "label.history", "value": history,
         "attributedValue": f'<a href="{escape(history)}">{open_history}</a>'},
    ]
    document: dict[str, Any] = {
        "formatVersion": 1,
        "passTypeIdentifier": settings.pass_type_id,
        "serialNumber": serial,
        "teamIdentifier": settings.team_id,
        "organizationName": view.business_name,
        "description": _("Карта постоянного клиента «%(business)s»") % {
            "business": view.business_name},
        "logoText": view.business_name,
        "foregroundColor": FOREGROUND,
        "backgroundColor": BACKGROUND,
        "labelColor": LABEL,
        "sharingProhibited": True,
        "storeCard": {
            "headerFields": [{"key": "card", "label": "label.card",
                              "value": view.card_number}],
            "primaryFields": [_balance(view)],
            "secondaryFields": secondary,
            "auxiliaryFields": auxiliary,
            "backFields": back,
        },
        "barcodes": [{"format": "PKBarcodeFormatQR", "message": view.card_number,
                      "messageEncoding": "iso-8859-1", "altText": view.card_number}],
    }
    if base_url.startswith("https://"):  # Apple accepts only https web services
        document["webServiceURL"] = base_url + WEB_SERVICE_PATH
        document["authenticationToken"] = auth_token(secret_key, serial)
    return json.dumps(document, ensure_ascii=False).encode()


def _balance(view: PassView) -> dict[str, Any]:
    """The front's big number: points, or the money on the account in a cashback program."""
    if view.in_money:
        return {"key": "points", "label": "label.account", "value": view.points_text,
                "changeMessage": "change.points"}
    return {"key": "points", "label": "label.points", "value": view.points,
            "numberStyle": "PKNumberStyleDecimal", "changeMessage": "change.points"}


def _short(text: str) -> str:
    """What fits the front: the part after the sentence's colon ("До уровня «Золотой»:
    ещё 3 визита." -> "ещё 3 визита"); the whole sentence is on the back."""
    return text.rsplit(": ", 1)[-1].rstrip(".") if ": " in text else text


def sign(manifest: bytes, settings: AppleSettings) -> bytes:
    """Detached PKCS#7 signature (DER) of ``manifest``: SHA-256, the signer's and the
    WWDR certificates, signed attributes with the signing time; binary (no MIME
    line-ending rewriting)."""
    return (pkcs7.PKCS7SignatureBuilder()
            .set_data(manifest)
            .add_signer(settings.certificate, settings.private_key, hashes.SHA256())
            .add_certificate(settings.wwdr_certificate)  # after add_signer, which resets it
            .sign(serialization.Encoding.DER,
                  [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]))


def filename(view: PassView) -> str:
    """What to call the downloaded file."""
    return f"card-{view.card_number}.pkpass"
