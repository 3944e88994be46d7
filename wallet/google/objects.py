"""Google Wallet's loyalty class (one per business) and loyalty object (one per customer)
put through the REST client; what they hold is made in :mod:`wallet.google.bodies`.

- :func:`put_class` inserts the class; a class Google has already (409) is patched only
  in the fields that differ, never ``reviewStatus``.
- :func:`put_object` inserts the object; an existing one (409) is patched instead.
- :func:`deactivate_object` sets the object INACTIVE with no ``accountName``, so no
  name stays at Google.

When they are called (and what the database remembers of it) is the service's:
:mod:`webapp.services.wallet.google_objects`.
"""

from __future__ import annotations

from contextlib import suppress

from wallet.google.bodies import Card, class_body, class_changes, object_body, object_id
from wallet.google.client import CLASS, OBJECT, AlreadyExists, NotFound, WalletClient
from wallet.google.settings import GoogleSettings

__all__ = ["deactivate_object", "put_all", "put_class", "put_object"]


def put_class(client: WalletClient, settings: GoogleSettings, card: Card,
              base_url: str) -> None:
    """Insert the class; one Google has already is patched only where it differs."""
    body = class_body(settings, card, base_url)
    try:
        client.insert(CLASS, body)
    except AlreadyExists:
        changes = class_changes(body, client.get(CLASS, body["id"]))
        if changes:
            client.patch(CLASS, body["id"], changes)


def put_object(client: WalletClient, settings: GoogleSettings, card: Card,
               base_url: str) -> None:
    """Insert the customer's object; one Google has already is patched to match."""
    body = object_body(settings, card, base_url)
    try:
        client.insert(OBJECT, body)
    except AlreadyExists:
        client.patch(OBJECT, body["id"], {k: v for k, v in body.items() if k != "id"})


def put_all(client: WalletClient, settings: GoogleSettings, card: Card,
            base_url: str) -> None:
    """The class, then the object."""
    put_class(client, settings, card, base_url)
    put_object(client, settings, card, base_url)


def deactivate_object(client: WalletClient, settings: GoogleSettings, serial: str) -> None:
    """Set the pass's object INACTIVE with no ``accountName``; an object Google no longer
    has is left at that."""
    with suppress(NotFound):  # nothing left at Google to deactivate
        client.patch(OBJECT, object_id(settings, serial),
                     {"state": "INACTIVE", "accountName": ""})
