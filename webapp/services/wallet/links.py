"""A link to a customer's wallet pass, texted from the counter.

The cashier taps «Отправить карту в SMS» and the customer gets a link that opens a
page with «Add to Apple Wallet» / «Save to Google Wallet», no sign-in needed: the link
carries an HMAC of the pass's serial and the day it was sent, made with the app's
secret key, so only the holder of the SMS has it, and only for a week. The SMS goes
through the outbox like every other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.catalogue import gettext_for
from webapp.domain.actor import Actor
from webapp.domain.clock import utcnow
from webapp.domain.errors import InvalidInput, NotFound
from webapp.domain.numbers import whole_number
from webapp.domain.wording import language_of_locale
from webapp.persistence.models import Business, Customer, WalletPass
from webapp.services.customers import phones
from webapp.services.notify import outbox
from webapp.services.staff import audit
from webapp.services.unit_of_work import reads, writes
from webapp.services.wallet import cards as wallet_cards

LIFETIME_DAYS = 7  # a texted link opens the pass for a week, then the cashier sends another


def link_token(secret_key: str, serial: str, day: int) -> str:
    """The capability in the texted link: HMAC-SHA256 of the serial and the day it was
    sent (days since the epoch), base64url."""
    digest = hmac.new(secret_key.encode(), f"wallet-link:{serial}:{day}".encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def _today() -> int:
    return int(utcnow().timestamp() // 86400)


def link_text(business_name: str, url: str, locale: str) -> str:
    """The SMS with the pass link, in the business's language."""
    _ = gettext_for(language_of_locale(locale))
    return _("Ваша карта «%(business)s» для Apple Wallet и Google Кошелька: %(url)s") % {
        "business": business_name, "url": url}


@writes
def send_link(session: Session, actor: Actor, customer_id: int, *, base_url: str,
              secret_key: str) -> str:
    """Text the customer the link to their pass (through the outbox); commits. Returns
    the phone's hint for the cashier ("•••-45-67")."""
    row = session.execute(select(Customer.phone, Customer.status, Business.name,
                                 Business.locale)
                          .join(Business, Business.id == Customer.business_id)
                          .where(Customer.id == customer_id,
                                 Customer.business_id == actor.business_id)).first()
    if row is None or row.status != "active":
        raise NotFound("unknown_customer")
    walletpass = wallet_cards.pass_of(session, actor.business_id, customer_id)
    day = _today()
    url = (f"{base_url.rstrip('/')}/c/{actor.business_id}/wallet/{walletpass.serial}"
           f"?d={day}&t={link_token(secret_key, walletpass.serial, day)}")
    outbox.enqueue_sms(session, phone=row.phone, business_id=actor.business_id,
                       customer_id=customer_id,
                       text=link_text(row.name, url, row.locale))
    audit.record(session, actor, "wallet.link_sent", customer_id=customer_id)
    return phones.hint(row.phone)


@reads
def customer_of_link(session: Session, business_id: int, serial: str, day: str, token: str,
                     secret_key: str) -> int:
    """The customer a texted link is for; NotFound for a wrong, foreign or expired link."""
    try:
        sent = whole_number(day, high=999_999)  # days since 1970: six digits until 4707
    except InvalidInput:
        sent = -LIFETIME_DAYS - 1
    expected = link_token(secret_key, serial or "", sent).encode()
    if (not 0 <= _today() - sent < LIFETIME_DAYS
            or not hmac.compare_digest(expected, (token or "").encode())):
        raise NotFound("wallet_link_invalid")
    found = session.execute(select(WalletPass.customer_id, Customer.status)
                            .join(Customer, Customer.id == WalletPass.customer_id)
                            .where(WalletPass.serial == serial,
                                   WalletPass.business_id == business_id)).first()
    if found is None or found.status != "active":
        raise NotFound("wallet_link_invalid")
    return int(found.customer_id)
