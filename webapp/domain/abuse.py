"""Abuse limits (the seeds' "хитрец на Ладе"): which limits an action crosses, and
whether it must be refused.

Four checks of the counter's work, each off when its limit is 0:

- ``customer_accruals_day``: accruals on orders for one customer in the business's
  local calendar day, more than the limit;
- ``staff_accruals_hour``: accruals on orders by one staff member in the last 60
  minutes, more than the limit (one flag per local clock hour);
- ``redeem_after_accrual``: a redemption at most N minutes after points were credited
  to the same customer (one flag per customer and local day);
- ``joins_without_orders``: customers one staff member signed up today who have no
  order yet, more than the limit.

Three more watch manual adjustments of points (flagged only, never refused: only
managers and owners adjust, and a large one already waits for the owner):

- ``large_adjustment``: more points than the approval limit, either way (one flag
  per adjustment or request);
- ``staff_adjustments_day``: adjustments made or requested by one staff member in
  the business's local day, more than the limit;
- ``customer_adjustments_day``: the same, on one customer.

And one of the customer app's, with a fixed limit:

- ``sign_in_codes_hour``: the business's hourly cap on sign-in codes texted to phones
  that are not its customers yet was reached (one flag per business and local clock
  hour): someone may be pumping SMS through the business.

Counts include the action being checked. A crossing is flagged for a manager; with
``hard_block`` on it also refuses the action when a count goes over *twice* its limit.
A resolved flag comes back (:meth:`Crossing.reopens`) when its limit keeps being
crossed in the same window. Nobody below the owner resolves a flag about their own
actions, and flags about manual adjustments only the owner resolves
(:func:`refusal_to_resolve`).
A redemption too soon after an accrual has no count to double: with ``hard_block`` on
it is refused whenever it is flagged (the cashier calls a manager, who is never
refused, only flagged). Joins are only flagged: the customer is already signed up
when they are counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from enum import StrEnum

from webapp.domain.counter_settings import AbuseLimits
from webapp.domain.errors import Conflict, PermissionDenied

HOUR = timedelta(hours=1)


class Kind(StrEnum):
    CUSTOMER_ACCRUALS_DAY = "customer_accruals_day"
    STAFF_ACCRUALS_HOUR = "staff_accruals_hour"
    REDEEM_AFTER_ACCRUAL = "redeem_after_accrual"
    JOINS_WITHOUT_ORDERS = "joins_without_orders"
    LARGE_ADJUSTMENT = "large_adjustment"
    STAFF_ADJUSTMENTS_DAY = "staff_adjustments_day"
    CUSTOMER_ADJUSTMENTS_DAY = "customer_adjustments_day"
    SIGN_IN_CODES_HOUR = "sign_in_codes_hour"


@dataclass(frozen=True)
class Crossing:
    """One limit crossed: what, by whom, in which window, and the numbers to show.

    ``count`` is what was counted (accruals, joins) or, for ``redeem_after_accrual``,
    the whole minutes since the accrual; ``limit`` is the setting it was compared with.
    """

    kind: Kind
    subject: str  # "customer:12", "staff:3", "business:5"
    window: str  # "2026-11-29" or "2026-11-29T14" (the business's local time)
    count: int
    limit: int
    blocks: bool = False

    def details(self) -> dict[str, int]:
        return {"count": self.count, "limit": self.limit}

    def reopens(self, recorded: object) -> bool:
        """Whether this crossing brings back a resolved flag that recorded ``recorded``
        as its count: when it counts more (the limit keeps being crossed after the
        resolution). A redemption right after an accrual is a new incident each time."""
        if self.kind is Kind.REDEEM_AFTER_ACCRUAL:
            return True
        return not isinstance(recorded, int) or self.count > recorded


@dataclass(frozen=True)
class Verdict:
    crossings: tuple[Crossing, ...] = ()

    @property
    def blocked(self) -> bool:
        return any(c.blocks for c in self.crossings)

    @property
    def kinds(self) -> list[str]:
        return [str(c.kind) for c in self.crossings]


@dataclass(frozen=True)
class CloseCounts:
    """What the close is checked against; None where nothing was counted.

    ``customer_accruals_today`` and ``staff_accruals_last_hour`` are None when the
    close credits no points (or, for staff, when no staff member acts);
    ``last_accrual_at`` is None when the close redeems nothing or no accrual to the
    customer happened within the limit's minutes before it.
    """

    customer_id: int
    staff_id: int | None
    customer_accruals_today: int | None = None
    staff_accruals_last_hour: int | None = None
    last_accrual_at: datetime | None = None


@dataclass(frozen=True)
class AdjustmentCounts:
    """A manual adjustment (or a request for one) and the day's counts around it.

    ``reference`` names it ("operation:12", "request:3"): a large one gets a flag of
    its own. The counts include it; None where the check is off.
    """

    customer_id: int
    staff_id: int | None
    points: int
    reference: str
    staff_adjustments_today: int | None = None
    customer_adjustments_today: int | None = None


class AbuseBlocked(Conflict):
    """The action goes over twice an abuse limit while ``hard_block`` is on."""

    code = "abuse_blocked"

    def __init__(self, crossings: tuple[Crossing, ...]) -> None:
        self.crossings = crossings
        super().__init__()


ADJUSTMENT_KINDS = frozenset({Kind.LARGE_ADJUSTMENT, Kind.STAFF_ADJUSTMENTS_DAY,
                              Kind.CUSTOMER_ADJUSTMENTS_DAY})


def refusal_to_resolve(kind: str, subject: str, flag_staff_id: int | None, *,
                       staff_id: int | None, is_owner: bool) -> PermissionDenied | None:
    """Why this staff member may not resolve the flag (its ``why`` param: "own" or
    "owner"), or None if they may.

    The owner resolves every flag. Anyone else: not a flag about their own actions
    (its subject is them, or it was raised by what they did), and not a flag about
    manual adjustments (a manager must not clear the trace of their own kind of
    correction: the owner looks).
    """
    if is_owner:
        return None
    if staff_id is not None and (subject == staff(staff_id) or flag_staff_id == staff_id):
        return PermissionDenied("flag_own_actions", why="own")
    if kind in ADJUSTMENT_KINDS:
        return PermissionDenied(
            "flag_owner_only", why="owner")
    return None


def customer(customer_id: int) -> str:
    return f"customer:{customer_id}"


def staff(staff_id: int) -> str:
    return f"staff:{staff_id}"


def business(business_id: int) -> str:
    return f"business:{business_id}"


def day_key(local: datetime) -> str:
    """The window key of a local day: ``2026-11-29``."""
    return local.date().isoformat()


def hour_key(local: datetime) -> str:
    """The window key of a local clock hour: ``2026-11-29T14``."""
    return f"{local.date().isoformat()}T{local.hour:02d}"


def local_day(now: datetime, zone: tzinfo) -> tuple[datetime, datetime]:
    """The business's local day containing ``now``, as a UTC [start, end) pair.

    A day with a DST change is 23 or 25 hours long, as the wall clock says.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    today = now.astimezone(zone).date()
    start = datetime.combine(today, time(0), tzinfo=zone)
    end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def _over(
    kind: Kind, subject: str, window: str, count: int, limit: int, hard_block: bool
) -> Crossing | None:
    if not limit or count <= limit:
        return None
    return Crossing(kind, subject, window, count, limit, hard_block and count > 2 * limit)


def check_close(limits: AbuseLimits, counts: CloseCounts, now: datetime, zone: tzinfo) -> Verdict:
    """The limits a close crosses (its own accrual and redemption already counted)."""
    local = now.astimezone(zone)
    found: list[Crossing | None] = []
    if counts.customer_accruals_today is not None:
        found.append(
            _over(
                Kind.CUSTOMER_ACCRUALS_DAY,
                customer(counts.customer_id),
                day_key(local),
                counts.customer_accruals_today,
                limits.accruals_per_customer_day,
                limits.hard_block,
            )
        )
    if counts.staff_accruals_last_hour is not None and counts.staff_id is not None:
        found.append(
            _over(
                Kind.STAFF_ACCRUALS_HOUR,
                staff(counts.staff_id),
                hour_key(local),
                counts.staff_accruals_last_hour,
                limits.accruals_per_staff_hour,
                limits.hard_block,
            )
        )
    found.append(redeem_after_accrual(limits, counts, now, local))
    return Verdict(tuple(c for c in found if c is not None))


def redeem_after_accrual(
    limits: AbuseLimits, counts: CloseCounts, now: datetime, local: datetime
) -> Crossing | None:
    """Flagged when the accrual is at most N minutes before the redemption (inclusive)."""
    minutes = limits.redeem_after_accrual_minutes
    if not minutes or counts.last_accrual_at is None:
        return None
    elapsed = now - counts.last_accrual_at
    if elapsed < timedelta(0) or elapsed > timedelta(minutes=minutes):
        return None
    return Crossing(
        Kind.REDEEM_AFTER_ACCRUAL,
        customer(counts.customer_id),
        day_key(local),
        int(elapsed.total_seconds() // 60),
        minutes,
        limits.hard_block,
    )


def check_joins(
    limits: AbuseLimits,
    *,
    staff_id: int,
    joins_without_orders_today: int,
    now: datetime,
    zone: tzinfo,
) -> Verdict:
    """The joins limit: flagged only (``blocks`` is always False, see the module doc)."""
    crossing = _over(
        Kind.JOINS_WITHOUT_ORDERS,
        staff(staff_id),
        day_key(now.astimezone(zone)),
        joins_without_orders_today,
        limits.joins_without_orders_per_staff_day,
        hard_block=False,
    )
    return Verdict((crossing,) if crossing else ())


def check_adjustment(
    limits: AbuseLimits, counts: AdjustmentCounts, now: datetime, zone: tzinfo
) -> Verdict:
    """The limits a manual adjustment crosses: flagged only (``blocks`` is False)."""
    day = day_key(now.astimezone(zone))
    found: list[Crossing | None] = []
    if abs(counts.points) > limits.adjustment_approval_above:
        found.append(Crossing(Kind.LARGE_ADJUSTMENT, counts.reference, day,
                              abs(counts.points), limits.adjustment_approval_above))
    if counts.staff_adjustments_today is not None and counts.staff_id is not None:
        found.append(_over(Kind.STAFF_ADJUSTMENTS_DAY, staff(counts.staff_id), day,
                           counts.staff_adjustments_today, limits.adjustments_per_staff_day,
                           hard_block=False))
    if counts.customer_adjustments_today is not None:
        found.append(_over(Kind.CUSTOMER_ADJUSTMENTS_DAY, customer(counts.customer_id), day,
                           counts.customer_adjustments_today,
                           limits.adjustments_per_customer_day, hard_block=False))
    return Verdict(tuple(c for c in found if c is not None))


def sign_in_code_cap(business_id: int, *, count: int, limit: int, now: datetime,
                     zone: tzinfo) -> Crossing:
    """The flag for a refused code request: the business's cap on codes to new phones
    (``count`` codes in the last hour, ``limit`` the cap) was reached. Never blocks by
    itself: the cap does, and only newcomers; the flag tells the owner it happens."""
    return Crossing(Kind.SIGN_IN_CODES_HOUR, business(business_id),
                    hour_key(now.astimezone(zone)), count, limit)
