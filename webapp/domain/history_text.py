"""A ledger operation in plain words, as the customer's history and the manager's
customer page show it: "Начислено 120 за заказ №5" / "120 earned for order #5"."""

from __future__ import annotations

from webapp.domain.ledger import OperationKind as Op
from webapp.domain.wording import is_ru

MINUS = "\u2212"


def signed(points: int) -> str:
    """+100 / −60 with a real minus sign."""
    return f"+{points}" if points > 0 else f"{MINUS}{-points}" if points < 0 else "0"


def describe(kind: str, points: int, order_id: int | None, reason: str | None,
             release_day: str | None, lang: str = "ru") -> str:
    """One operation in the reader's language; ``release_day`` is a hold's date, shown."""
    if is_ru(lang):
        return _ru(kind, points, order_id, reason, release_day)
    return _en(kind, points, order_id, reason, release_day)


def _ru(kind: str, points: int, order_id: int | None, reason: str | None,
        release_day: str | None) -> str:
    order = f"заказ №{order_id}" if order_id else None
    if kind == Op.ACCRUAL:
        return f"Начислено {points}" + (f" за {order}" if order else "")
    if kind == Op.REDEMPTION:
        return f"Списано {points}" + (f" в оплату заказа №{order_id}" if order else "")
    if kind == Op.HOLD:
        until = f" до {release_day}" if release_day else ""
        return (f"Начислено {points}" + (f" за {order}" if order else "")
                + f", ожидает зачисления{until}")
    if kind == Op.RELEASE:
        return f"Зачислено {points} из ожидания" + (f" ({order})" if order else "")
    if kind == Op.CANCEL:
        return f"Отменено ожидающее начисление {points}" + (f" ({order})" if order else "")
    if kind == Op.REVERSAL:
        change = signed(-points) if points else "баллы не изменились"
        return f"Возврат заказа №{order_id}: {change}"
    if kind == Op.ADJUSTMENT:
        return f"Корректировка {signed(points)}: {reason or ''}".rstrip(": ")
    if kind == Op.EXPIRY:
        return f"Сгорело {points}"
    return f"{kind} {points}"


def _en(kind: str, points: int, order_id: int | None, reason: str | None,
        release_day: str | None) -> str:
    order = f"order #{order_id}" if order_id else None
    if kind == Op.ACCRUAL:
        return f"{points} earned" + (f" for {order}" if order else "")
    if kind == Op.REDEMPTION:
        return f"{points} spent" + (f" on {order}" if order else "")
    if kind == Op.HOLD:
        tail = f", available on {release_day}" if release_day else ", pending"
        return f"{points} earned" + (f" for {order}" if order else "") + tail
    if kind == Op.RELEASE:
        return f"{points} now available" + (f" ({order})" if order else "")
    if kind == Op.CANCEL:
        return f"Pending {points} cancelled" + (f" ({order})" if order else "")
    if kind == Op.REVERSAL:
        change = signed(-points) if points else "no change in points"
        return f"Refund of order #{order_id}: {change}"
    if kind == Op.ADJUSTMENT:
        return f"Correction {signed(points)}: {reason or ''}".rstrip(": ")
    if kind == Op.EXPIRY:
        return f"{points} expired"
    return f"{kind} {points}"
