"""Reading and saving a business's counter settings (owners only save).

The loads read in the caller's transaction (the close, the abuse checks); saving is
a write scope of its own.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import lru_cache
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from webapp.domain import counter_settings as rules
from webapp.domain.actor import Actor, Role
from webapp.domain.counter_settings import CounterSettings
from webapp.domain.errors import InvalidInput, PermissionDenied
from webapp.persistence.models import Business
from webapp.services.unit_of_work import writes

_businesses = cast(Table, Business.__table__)
_LOAD = select(_businesses.c.counter_settings).where(_businesses.c.id == bindparam("id"))
_LOAD_WITH_ZONE = select(_businesses.c.counter_settings, _businesses.c.timezone).where(
    _businesses.c.id == bindparam("id"))


def load(session: Session, business_id: int) -> CounterSettings:
    """The business's settings, or the defaults (within the caller's transaction)."""
    return _parsed(session.scalar(_LOAD, {"id": business_id}))


def load_with_zone(session: Session, business_id: int) -> tuple[CounterSettings, ZoneInfo]:
    """The settings and the business's time zone, in one query (the abuse checks)."""
    stored, zone = session.execute(_LOAD_WITH_ZONE, {"id": business_id}).one()
    return from_columns(stored, zone)  # ZoneInfo caches instances by key


# For a statement that reads the settings with other things (the close's lock):
# select these columns and hand their values to :func:`from_columns`.
COLUMNS = (_businesses.c.counter_settings, _businesses.c.timezone)
BUSINESSES = _businesses


def from_columns(stored: str | None, zone: str) -> tuple[CounterSettings, ZoneInfo]:
    """What :func:`load_with_zone` returns, from :data:`COLUMNS`' values."""
    return _parsed(stored), ZoneInfo(zone)


@lru_cache(maxsize=256)
def _parsed(stored: str | None) -> CounterSettings:
    """Settings from their stored JSON text, cached by that text (they are frozen)."""
    return rules.from_dict(json.loads(stored) if stored else None)


@writes
def save(session: Session, actor: Actor, settings: CounterSettings) -> CounterSettings:
    """Validate and store new settings (a write scope of its own)."""
    if not actor.is_at_least(Role.OWNER):
        raise PermissionDenied("counter_settings_owner_only")
    rules.validate(settings)
    business = session.get(Business, actor.business_id)
    assert business is not None
    business.counter_settings = json.dumps(rules.to_dict(settings), sort_keys=True)
    return settings


@writes
def save_sms_price(session: Session, actor: Actor, price_minor: int) -> CounterSettings:
    """The owner's price of one SMS (minor units), which the cost estimate uses; the other
    settings stay (a write scope of its own)."""
    if not actor.is_at_least(Role.OWNER):
        raise PermissionDenied("counter_settings_owner_only")
    if not 0 <= price_minor <= rules.SMS_PRICE_MAX:
        raise InvalidInput("sms_price_range")
    changed = rules.validate(replace(load(session, actor.business_id),
                                     sms_price_minor=price_minor))
    business = session.get(Business, actor.business_id)
    assert business is not None
    business.counter_settings = json.dumps(rules.to_dict(changed), sort_keys=True)
    return changed
