"""A business as pages and exports show it: its name, currency and time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from webapp.domain.errors import NotFound
from webapp.persistence.models import Business


@dataclass(frozen=True)
class BusinessView:
    """The business's name, currency and time zone, read once per request."""

    name: str
    currency: str
    zone: ZoneInfo

    def local(self, moment: datetime) -> str:
        """``moment`` on the business's clock, as its staff write it: "05.12.2026 14:30"."""
        return moment.astimezone(self.zone).strftime("%d.%m.%Y %H:%M")

    def day(self, moment: datetime) -> str:
        """The date of ``moment`` on the business's clock: "05.12.2026"."""
        return moment.astimezone(self.zone).strftime("%d.%m.%Y")

    def utc(self, moment: datetime) -> datetime:
        """``moment`` in UTC; one without an offset is on the business's clock."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.zone)
        return moment.astimezone(UTC)


def business_view(session: Session, business_id: int) -> BusinessView:
    """The business's view; NotFound when there is no such business."""
    row = session.get(Business, business_id)
    if row is None:
        raise NotFound("unknown_business")
    return BusinessView(row.name, row.currency, ZoneInfo(row.timezone))
