"""Manual adjustments of a customer's points: what makes a reason real, and when the
owner must approve one.

A manager corrects points with a reason a colleague can act on later ("x" is not
one). A manager's adjustment only becomes a request for the owner when it is larger
than the business's approval limit (either way), or when it would take the day's
total (points either way, in the business's local day) over a limit: the manager's
own total over the daily limit, or the total applied by managers to this one
customer over the approval limit, so that splitting one large adjustment into small
ones does not go around the owner. The owner's own adjustments are applied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from webapp.domain.counter_settings import AbuseLimits
from webapp.domain.errors import Conflict, InvalidInput

REASON_MIN = 10
REASON_MAX = 500
_SPACES = re.compile(r"\s+")


class InvalidReason(InvalidInput):
    """A reason that is missing, too short, too long, or one character repeated."""

    code = "invalid_reason"


class Why(StrEnum):
    """Why an adjustment needs the owner's approval."""

    LARGE = "large"  # this adjustment alone is over the approval limit
    STAFF_DAY = "staff_day"  # the staff member's day total would go over the daily limit
    CUSTOMER_DAY = "customer_day"  # managers' day total on this customer would go over


# The code of each refusal (its words: webapp.error_messages).
_REFUSALS = {
    Why.LARGE: "approval_large",
    Why.STAFF_DAY: "approval_staff_day",
    Why.CUSTOMER_DAY: "approval_customer_day",
}


class ApprovalRequired(Conflict):
    """An adjustment the owner must approve, by someone who is not the owner."""

    code = "approval_required"

    def __init__(self, why: Why, *, total: int, limit: int) -> None:
        self.why, self.total, self.limit = why, total, limit
        super().__init__(_REFUSALS[why], total=total, limit=limit)


@dataclass(frozen=True)
class DayTotals:
    """Points adjusted (either way) in the business's local day, this adjustment not
    included: by the acting staff member, and by managers on this customer."""

    staff: int = 0
    customer: int = 0


def require_reason(text: object) -> str:
    """The reason, trimmed and with runs of spaces made one; InvalidReason if not real.

    At least REASON_MIN characters, at most REASON_MAX, and at least two different
    letters or digits ("aaaaaaaaaa", "..........", "1 1 1 1 1 1" are not reasons).
    """
    reason = _SPACES.sub(" ", text if isinstance(text, str) else "").strip()
    if not reason:
        raise InvalidReason("reason_missing")
    if len(reason) > REASON_MAX:
        raise InvalidReason("reason_too_long", max=REASON_MAX)
    if len(reason) < REASON_MIN:
        raise InvalidReason("reason_too_short", min=REASON_MIN)
    if len({c.casefold() for c in reason if c.isalnum()}) < 2:
        raise InvalidReason("reason_repeated")
    return reason


def approval_needed(limits: AbuseLimits, points: int,
                    today: DayTotals = DayTotals()) -> ApprovalRequired | None:
    """Why the owner must approve this adjustment (credit or debit), or None.

    Checked in order: its own size, the staff member's day total with it, the day
    total on the customer with it. Only ``DayTotals`` of adjustments already applied
    count: a pending request is not points given.
    """
    size = abs(points)
    single = limits.adjustment_approval_above
    if size > single:
        return ApprovalRequired(Why.LARGE, total=size, limit=single)
    if today.staff + size > limits.adjustment_day_total_above:
        return ApprovalRequired(Why.STAFF_DAY, total=today.staff + size,
                                limit=limits.adjustment_day_total_above)
    if today.customer + size > single:
        return ApprovalRequired(Why.CUSTOMER_DAY, total=today.customer + size, limit=single)
    return None


def require_right_to_apply(limits: AbuseLimits, points: int, today: DayTotals = DayTotals(),
                           *, is_owner: bool) -> None:
    """ApprovalRequired when someone other than the owner would apply an adjustment the
    owner must approve (:func:`approval_needed`)."""
    needed = None if is_owner else approval_needed(limits, points, today)
    if needed is not None:
        raise needed
