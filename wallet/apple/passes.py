"""A customer's current Apple pass, read through the services and built: what the
``regulars wallet pass`` command, the download and the PassKit web service serve."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from wallet.apple import pkpass
from wallet.apple.settings import AppleSettings
from webapp.services import logos, staff, wallet_cards
from webapp.services.wallet_cards import PassView


@dataclass(frozen=True)
class CurrentPass:
    data: bytes  # the .pkpass
    view: PassView
    serial: str
    updated_at: datetime  # the pass's version (Last-Modified)

    @property
    def filename(self) -> str:
        return pkpass.filename(self.view)


def current(session: Session, settings: AppleSettings, *, secret_key: str, base_url: str,
            business_id: int, customer_id: int, lang: str = "ru") -> CurrentPass:
    """Build the customer's pass now, making (and committing) its row on first use.

    The version is read before the contents, so a change in between only makes the
    phone fetch once more. Raises UnknownCustomer for another business's customer or
    one who is not active (and then makes no row).
    """
    logo = logos.logo_of(session, business_id)  # first: it ends its own read
    row = wallet_cards.pass_of(session, business_id, customer_id)
    serial, updated_at = row.serial, row.updated_at
    try:
        view = wallet_cards.view(session, business_id, customer_id, lang)
        contacts = [f"{branch.name}: {branch.address}"
                    for branch in staff.business_branches(session, business_id, None)
                    if branch.address]
    except BaseException:
        session.rollback()
        raise
    session.commit()
    data = pkpass.build(view, serial=serial, updated_at=updated_at, settings=settings,
                        secret_key=secret_key, base_url=base_url,
                        logo_png=logo.png if logo else None, contacts=contacts)
    return CurrentPass(data, view, serial, updated_at)
