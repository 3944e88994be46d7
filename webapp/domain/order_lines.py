"""An order's lines (works, parts, other items) and how the program prices each one.

A car-service order holds several works and parts. The program's rewards belong to
lines, not to the order's total: a stamp card's reward goes to the matching line only
(the free oil change is the oil change, not the whole order), a line rule can give
parts no points or keep them out of the card's or tier's discount, and a return of
some lines takes back exactly what those lines earned. Redemption caps stay per order;
the points spent are spread over the lines in proportion to what is left to pay on
each, so a returned line gives back its share. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from webapp.domain.errors import InvalidAmount, InvalidInput
from webapp.domain.ledger import require_money
from webapp.domain.program import LineRule, ProgramSettings, StampCard, points_for, share_of

MAX_LINES = 100
MAX_QUANTITY = 10_000


class LineKind(StrEnum):
    WORK = "work"
    PART = "part"
    OTHER = "other"


@dataclass(frozen=True)
class OrderLine:
    """One item as typed at the counter: money in minor units, whole quantities."""

    unit_price: int
    quantity: int = 1
    name: str = ""
    kind: LineKind = LineKind.OTHER
    category: str | None = None
    asset_id: int | None = None

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class PricedLine:
    """What the program gives on one line; the close stores it on the line."""

    position: int  # 1, 2, ...
    line: OrderLine
    stamp_discount: int
    discount: int
    redeem_points: int
    redeem_value: int
    accrual_bp: int
    accrue_points: int

    @property
    def after_discount(self) -> int:
        return self.line.amount - self.stamp_discount - self.discount

    @property
    def paid(self) -> int:
        return self.after_discount - self.redeem_value


def check_lines(lines: Sequence[OrderLine]) -> None:
    """Refuse lines no order can hold: none, too many, bad money, quantity, kind, text."""
    if not lines:
        raise InvalidInput("order_lines_missing")
    if len(lines) > MAX_LINES:
        raise InvalidInput("order_lines_too_many", limit=MAX_LINES)
    for position, line in enumerate(lines, start=1):
        require_money(line.unit_price)
        if isinstance(line.quantity, bool) or not isinstance(line.quantity, int) \
                or not 0 < line.quantity <= MAX_QUANTITY:
            raise InvalidAmount("line_quantity_range", position=position, high=MAX_QUANTITY)
        require_money(line.amount)
        if not isinstance(line.kind, LineKind):
            raise InvalidInput("line_kind_unknown", position=position)
        if not isinstance(line.name, str) or len(line.name) > 200:
            raise InvalidInput("line_name_length", position=position, limit=200)
        if line.category is not None and not 0 < len(line.category) <= 64:
            raise InvalidInput("category_length")


def rule_for(settings: ProgramSettings, line: OrderLine) -> LineRule | None:
    """The line rule that governs a line: its category's, else its kind's, else none."""
    by_category = next((r for r in settings.line_rules
                        if r.category is not None and r.category == line.category), None)
    if by_category is not None:
        return by_category
    return next((r for r in settings.line_rules
                 if r.category is None and r.kind == line.kind.value), None)


def stamp_reward(card: StampCard, line: OrderLine) -> int:
    """A stamp card's reward on its line: a fixed value up to the line, or a share of it."""
    if card.reward_minor is not None:
        return min(card.reward_minor, line.amount)
    return share_of(line.amount, card.reward_bp)


def spread_points(points: int, shares: Sequence[int], point_value: int) -> list[int]:
    """Spread ``points`` over lines in proportion to ``shares`` (money left to pay on
    each), never more on a line than its share pays for; largest remainders first."""
    total = sum(shares)
    if points <= 0 or total <= 0:
        return [0] * len(shares)
    room = [share // point_value for share in shares]
    exact = [points * share for share in shares]
    given = [min(e // total, r) for e, r in zip(exact, room, strict=True)]
    order = sorted(range(len(shares)), key=lambda i: (-(exact[i] % total), i))
    left = points - sum(given)
    while left > 0:
        placed = False
        for i in order:
            if left and given[i] < room[i]:
                given[i] += 1
                left -= 1
                placed = True
        if not placed:  # the cap guarantees room; this is a guard, not a path
            raise InvalidAmount("redeem_over_cap", max=points - left, requested=points)
    return given


def accrual(settings: ProgramSettings, line: OrderLine, base_rate: int, base: int) -> tuple[
        int, int]:
    """The rate a line earns at (its rule's, else the tier's or program's) and its points."""
    rule = rule_for(settings, line)
    rate = rule.accrual_bp if rule is not None and rule.accrual_bp is not None else base_rate
    return rate, points_for(base, rate, settings.point_value)


def discounted(settings: ProgramSettings, line: OrderLine) -> bool:
    """Whether the card's or tier's discount applies to the line (a rule can exclude it)."""
    rule = rule_for(settings, line)
    return rule is None or rule.discounted


__all__ = ["LineKind", "OrderLine", "PricedLine", "check_lines", "spread_points"]
