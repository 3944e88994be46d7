"""The close form as typed at the counter, turned into an order draft.

Two ways to type an order: the quick flow (one total and a category) or lines (a
name, kind, category, quantity, price and optionally the vehicle or device per row,
rows sent as parallel lists; a line without one is for the order's). A row
left blank is skipped; once any row has a price, the lines are the order.
"""

from __future__ import annotations

from typing import Any

from webapp.domain.errors import InvalidAmount, InvalidInput
from webapp.domain.ledger import MAX_POINTS
from webapp.domain.money import parse_rubles
from webapp.domain.numbers import optional_id, whole_number
from webapp.domain.order_lines import MAX_LINES, MAX_QUANTITY, LineKind, OrderLine
from webapp.domain.quote import OrderDraft

FIELDS = ("line_name", "line_kind", "line_category", "line_qty", "line_price", "line_asset")


def points(text: str | None) -> int:
    """Points typed at the counter: a whole number a points column holds."""
    try:
        return whole_number(text or "", high=MAX_POINTS)
    except InvalidInput:
        raise InvalidAmount("number_not_whole") from None


def draft(form: Any) -> OrderDraft:
    """The order as typed: lines or one amount, points to redeem, vehicle, perks."""
    lines = order_lines(form)
    common: dict[str, Any] = {
        "asset_id": optional_id(form.get("asset_id")),
        "redeem_points": points(form.get("redeem") or "0"),
        "use": tuple(form.getlist("use")),
    }
    if lines:
        return OrderDraft(lines=lines, **common)
    if not (form.get("total") or "").strip():
        raise InvalidInput("order_amount_missing")
    return OrderDraft(total=parse_rubles(form.get("total", "")),
                      category=(form.get("category") or "").strip() or None, **common)


def order_lines(form: Any) -> tuple[OrderLine, ...]:
    """The rows of the line editor that were filled in, as order lines."""
    columns = [form.getlist(name) for name in FIELDS]
    rows = max((len(column) for column in columns), default=0)
    if rows > MAX_LINES * 2:  # blank rows included; more is not a person typing
        raise InvalidInput("order_lines_too_many", limit=MAX_LINES)
    lines: list[OrderLine] = []
    for i in range(rows):
        name, kind, category, quantity, price, asset = (
            (column[i] if i < len(column) else "").strip() for column in columns)
        if not (name or price):
            continue
        position = len(lines) + 1
        if not price:
            raise InvalidAmount("line_price_missing", position=position)
        try:
            line_kind = LineKind(kind or LineKind.OTHER.value)
        except ValueError:
            raise InvalidInput("line_kind_unknown", position=position) from None
        try:
            count = whole_number(quantity or "1", low=1, high=MAX_QUANTITY)
        except InvalidInput:
            raise InvalidAmount("line_quantity_range", position=position,
                                high=MAX_QUANTITY) from None
        lines.append(OrderLine(parse_rubles(price), count, name=name[:200], kind=line_kind,
                               category=category or None, asset_id=optional_id(asset)))
    return tuple(lines)
