"""Google's notification limit: at most :data:`NOTIFICATIONS_PER_DAY` messages that
notify the phone per pass in any 24 hours (a rolling window, not a calendar day).

The times of the pass's last notifications are kept in the two columns the pass
already has, so no migration is needed: ``google_message_day`` is the UTC day the
oldest kept time falls on, and ``google_messages`` packs up to three times as
3-minute steps since that day's midnight, 10 bits each, plus a marker bit (bit 30)
that tells this layout from the old one (a plain count for the day). A time is rounded
*up* to its 3-minute step, so a notification is always forgotten a little late, never
early. This module is the arithmetic only: the compare-and-set on both columns that
stores the times (so two workers cannot both take the last notification) is
:mod:`webapp.services.wallet.google_limit`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

NOTIFICATIONS_PER_DAY = 3  # Google: 3 notifying messages per pass in 24 hours
WINDOW = timedelta(hours=24)
STEP = timedelta(minutes=3)  # a day is 480 steps; a kept time is < 2 days (961 steps)
_BITS, _MARKER = 10, 1 << 30

Times = tuple[datetime, ...]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def rounded(at: datetime) -> datetime:
    """``at`` rounded up to its 3-minute step (UTC)."""
    at = at.astimezone(UTC)
    since = at - _midnight(at.date())
    steps = -(-since // STEP)  # ceiling
    return _midnight(at.date()) + steps * STEP


def decode(day: date | None, packed: int | None) -> Times:
    """The kept notification times, oldest first."""
    if day is None or not packed:
        return ()
    if not packed & _MARKER:  # the old layout: a count for that UTC day
        return (_midnight(day) + timedelta(days=1),) * min(packed, NOTIFICATIONS_PER_DAY)
    slots = [(packed >> (_BITS * n)) & ((1 << _BITS) - 1) for n in range(3)]
    return tuple(sorted(_midnight(day) + (slot - 1) * STEP for slot in slots if slot))


def encode(times: Times) -> tuple[date | None, int]:
    """``times`` (at most three, all within :data:`WINDOW` of one another) as the two
    column values."""
    if not times:
        return None, 0
    ordered = sorted(rounded(t) for t in times)[-NOTIFICATIONS_PER_DAY:]
    day = ordered[0].date()
    packed = _MARKER
    for number, at in enumerate(ordered):
        packed |= ((at - _midnight(day)) // STEP + 1) << (_BITS * number)
    return day, packed


def recent(times: Times, now: datetime) -> Times:
    """The times still within the 24 hours before ``now`` (a time ahead of ``now``, a
    clock skew, counts as ``now``)."""
    now = rounded(now)
    return tuple(sorted(min(t, now) for t in times if t > now - WINDOW))


def count(day: date | None, packed: int | None, now: datetime) -> int:
    """How many notifications the pass has had in the 24 hours before ``now``."""
    return len(recent(decode(day, packed), now))
