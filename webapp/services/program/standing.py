"""Where a customer stands in the program: the version in force and its quote of an
empty order (tier, progress to the next tier, stamps, perks).

The counter's panel, the receipt and the customer's own card all read it here, so
what the cashier sees, what the customer sees and what a close applies agree.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from webapp.domain.quote import OrderDraft, Quote, quote
from webapp.services.counter.checkout import customer_state
from webapp.services.program import versions as programs


def standing(session: Session, business_id: int, customer_id: int, available: int,
             now: datetime) -> tuple[programs.Version | None, Quote | None]:
    """The program in force and its quote of an empty order (None, None without one)."""
    version = programs.version_at(session, business_id, now)
    if version is None:
        return None, None
    state = customer_state(session, business_id, customer_id, available)
    return version, quote(version.settings, version.id, state, OrderDraft(total=0), now)
