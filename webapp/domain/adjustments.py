"""Manual adjustments of a customer's points: what makes a reason real, and when the
owner must approve one.

A manager corrects points with a reason a colleague can act on later ("x" is not
one). Above the business's approval limit (either way) a manager's adjustment only
becomes a request; the owner's own is applied, and both are flagged.
"""

from __future__ import annotations

import re

from webapp.domain.counter_settings import AbuseLimits
from webapp.domain.errors import Conflict, InvalidInput

REASON_MIN = 10
REASON_MAX = 500
_SPACES = re.compile(r"\s+")


class InvalidReason(InvalidInput):
    """A reason that is missing, too short, too long, or one character repeated."""

    code = "invalid_reason"


class ApprovalRequired(Conflict):
    """An adjustment above the approval limit by someone who is not the owner."""

    code = "approval_required"


def require_reason(text: object) -> str:
    """The reason, trimmed and with runs of spaces made one; InvalidReason if not real.

    At least REASON_MIN characters, at most REASON_MAX, and at least two different
    letters or digits ("aaaaaaaaaa", "..........", "1 1 1 1 1 1" are not reasons).
    """
    reason = _SPACES.sub(" ", text if isinstance(text, str) else "").strip()
    if not reason:
        raise InvalidReason("An adjustment needs a reason.")
    if len(reason) > REASON_MAX:
        raise InvalidReason("The reason is longer than {max} characters.", max=REASON_MAX)
    if len(reason) < REASON_MIN:
        raise InvalidReason("Write the reason in at least {min} characters.", min=REASON_MIN)
    if len({c.casefold() for c in reason if c.isalnum()}) < 2:
        raise InvalidReason("Write a real reason, not one character repeated.")
    return reason


def needs_approval(limits: AbuseLimits, points: int) -> bool:
    """More points than the limit, credit or debit: the owner approves it."""
    return abs(points) > limits.adjustment_approval_above


def require_right_to_apply(limits: AbuseLimits, points: int, *, is_owner: bool) -> None:
    """ApprovalRequired when someone other than the owner would apply a large adjustment."""
    if needs_approval(limits, points) and not is_owner:
        raise ApprovalRequired(
            "Adjustments of more than {limit} points need the owner's approval.",
            limit=limits.adjustment_approval_above,
        )
