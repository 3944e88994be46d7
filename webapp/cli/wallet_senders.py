"""The worker's outbox senders for the wallets (``regulars worker``), each off while its
wallet is not configured. Wiring only: the senders are the services'."""

from __future__ import annotations

import logging

from flask import current_app

from webapp.config import ConfigError
from webapp.current import unit_of_work
from webapp.services.notify import outbox

log = logging.getLogger("regulars.wallet.apns")


def apple_senders() -> dict[str, outbox.Sender]:
    """The worker's sender for Apple Wallet pushes, or nothing while Apple Wallet is off."""
    from wallet.apple.apns import client_for
    from wallet.apple.settings import settings_of
    from webapp.services.notify.wallet_updates import APNS
    from webapp.services.wallet.apple_passes import sender

    settings = settings_of(current_app)
    if settings is None:
        return {}
    try:
        client = client_for(settings, current_app.config["REGULARS"].extra)
    except ConfigError as error:
        # A wrong APNs setting must not stop the SMS and web push the worker also sends;
        # `regulars wallet check` names it, and the pass jobs wait in the outbox.
        log.error("Apple Wallet pushes are off: %s", error)
        return {}
    return {APNS: sender(client, unit_of_work())}


def google_senders() -> dict[str, outbox.Sender]:
    """The worker's sender for Google Wallet, or nothing while Google Wallet is off."""
    from wallet.google.settings import settings_of
    from webapp.services.notify.wallet_updates import GOOGLE
    from webapp.services.wallet.google_objects import sender

    settings = settings_of(current_app)
    if settings is None:
        return {}
    return {GOOGLE: sender(settings, unit_of_work(), current_app.config["REGULARS"].base_url)}
