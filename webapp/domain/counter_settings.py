"""What each business sets for its counter: when a redemption needs the customer's
confirmation, how long an idle staff session lasts, and the abuse limits (manual
adjustments' approval limit among them); and what an SMS costs it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from webapp.domain.errors import InvalidInput

SMS_PRICE_MAX = 100_000  # minor units: 1 000 ₽ for one SMS is a typo


@dataclass(frozen=True)
class AbuseLimits:
    """Above these a flag is raised for a manager (0 turns a check off).

    With ``hard_block`` on, an accrual or redemption that would cross twice a limit
    is refused outright instead of only flagged.

    ``adjustment_approval_above`` cannot be turned off: a manager's manual adjustment
    of more points than this (either way) waits for the owner's approval, and is
    flagged; so does one that takes the day's total on one customer over it.
    ``adjustment_day_total_above`` cannot be turned off either: a manager's adjustment
    that takes their day's total (points either way) over it waits for the owner.
    """

    accruals_per_customer_day: int = 3
    accruals_per_staff_hour: int = 30
    redeem_after_accrual_minutes: int = 30
    joins_without_orders_per_staff_day: int = 10
    hard_block: bool = False
    adjustment_approval_above: int = 5000
    adjustments_per_staff_day: int = 10
    adjustments_per_customer_day: int = 3
    adjustment_day_total_above: int = 20_000


@dataclass(frozen=True)
class CounterSettings:
    # Redeeming more than this many points needs the customer's one-time code (0: never).
    confirm_redeem_above: int = 1000
    idle_timeout_minutes: int = 30
    # What one SMS costs the business, in minor units: the program's cost estimate uses it.
    sms_price_minor: int = 300
    abuse: AbuseLimits = field(default_factory=AbuseLimits)


_BOUNDS = {
    "confirm_redeem_above": (0, 10_000_000),
    "idle_timeout_minutes": (5, 24 * 60),
    "sms_price_minor": (0, SMS_PRICE_MAX),
    "accruals_per_customer_day": (0, 1000),
    "accruals_per_staff_hour": (0, 10_000),
    "redeem_after_accrual_minutes": (0, 24 * 60),
    "joins_without_orders_per_staff_day": (0, 10_000),
    "adjustment_approval_above": (1, 1_000_000),
    "adjustments_per_staff_day": (0, 10_000),
    "adjustments_per_customer_day": (0, 1000),
    "adjustment_day_total_above": (1, 100_000_000),
}


def validate(settings: CounterSettings) -> CounterSettings:
    """Return the settings if every number is a whole number within bounds."""
    values = {**asdict(settings), **asdict(settings.abuse)}
    for name, (low, high) in _BOUNDS.items():
        value = values[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput("counter_setting_range", name=name, low=low, high=high)
    if not isinstance(settings.abuse.hard_block, bool):
        raise InvalidInput("hard_block_not_boolean")
    return settings


def from_dict(data: dict[str, Any] | None) -> CounterSettings:
    """Settings from stored JSON; unknown keys are ignored, missing ones take defaults."""
    data = data or {}
    abuse = data.get("abuse") or {}
    names = {f.name for f in fields(AbuseLimits)}
    top = {f.name for f in fields(CounterSettings)} - {"abuse"}
    return validate(CounterSettings(
        **{k: v for k, v in data.items() if k in top},
        abuse=AbuseLimits(**{k: v for k, v in abuse.items() if k in names}),
    ))


def to_dict(settings: CounterSettings) -> dict[str, Any]:
    return asdict(settings)


def needs_confirmation(settings: CounterSettings, points: int, *, phone_present: bool) -> bool:
    """A redemption above the threshold needs the customer's one-time code, unless their
    live check-in code was scanned (which proves the phone is at the counter)."""
    threshold = settings.confirm_redeem_above
    return not phone_present and bool(threshold) and points > threshold
