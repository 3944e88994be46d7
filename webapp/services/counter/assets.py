"""Staff add a customer's vehicle (plate, VIN) or device (serial, IMEI) at the counter.

The rules are the customer app's (:func:`webapp.services.customers.accounts.add_asset`,
which checks the value with :mod:`webapp.domain.assets` and refuses one the customer
already has); the counter adds the audit event that says who added it, in the same
transaction. A refused value writes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from webapp.domain.actor import Actor
from webapp.domain.errors import CustomerNotActive
from webapp.services.customers import accounts as customers
from webapp.services.staff import audit
from webapp.services.unit_of_work import writes


@writes
def add(session: Session, actor: Actor, customer_id: int, *, kind: str, value: str,
        label: str | None = None, now: datetime | None = None) -> int:
    """Attach a vehicle or device to a customer of the actor's business: its id."""
    if customers.get(session, actor, customer_id).status != "active":
        raise CustomerNotActive()
    asset = customers.add_asset(session, actor, customer_id=customer_id, kind=kind,
                                value=value, label=label)
    audit.record(session, actor, "asset.add", customer_id=customer_id, at=now,
                 details={"asset_id": asset.id, "kind": asset.kind, "value": asset.value,
                          "label": asset.label})
    return asset.id
