"""A ledger operation in plain words, as the customer's history and the manager's
customer page show it: "Начислено 120 за заказ №5" / "120 earned for order #5"."""

from __future__ import annotations

from webapp.domain.ledger import OperationKind as Op
from webapp.domain.words import RUSSIAN, Words

MINUS = "\u2212"


def signed(points: int) -> str:
    """+100 / −60 with a real minus sign."""
    return f"+{points}" if points > 0 else f"{MINUS}{-points}" if points < 0 else "0"


def describe(kind: str, points: int, order_id: int | None, reason: str | None,
             release_day: str | None, words: Words = RUSSIAN) -> str:
    """One operation in the reader's language; ``release_day`` is a hold's date, shown."""
    _ = words.gettext
    p = {"points": points, "order": order_id, "day": release_day}
    if kind == Op.ACCRUAL:
        return (_("Начислено %(points)s за заказ №%(order)s") if order_id
                else _("Начислено %(points)s")) % p
    if kind == Op.REDEMPTION:
        return (_("Списано %(points)s в оплату заказа №%(order)s") if order_id
                else _("Списано %(points)s")) % p
    if kind == Op.HOLD:
        if order_id:
            return (_("Начислено %(points)s за заказ №%(order)s, ожидает зачисления до %(day)s")
                    if release_day else
                    _("Начислено %(points)s за заказ №%(order)s, ожидает зачисления")) % p
        return (_("Начислено %(points)s, ожидает зачисления до %(day)s") if release_day
                else _("Начислено %(points)s, ожидает зачисления")) % p
    if kind == Op.RELEASE:
        return (_("Зачислено %(points)s из ожидания (заказ №%(order)s)") if order_id
                else _("Зачислено %(points)s из ожидания")) % p
    if kind == Op.CANCEL:
        return (_("Отменено ожидающее начисление %(points)s (заказ №%(order)s)") if order_id
                else _("Отменено ожидающее начисление %(points)s")) % p
    if kind == Op.REVERSAL:
        change = signed(-points) if points else _("баллы не изменились")
        return _("Возврат заказа №%(order)s: %(change)s") % {**p, "change": change}
    if kind == Op.ADJUSTMENT:
        if not reason:
            return _("Корректировка %(change)s") % {"change": signed(points)}
        return _("Корректировка %(change)s: %(reason)s") % {"change": signed(points),
                                                            "reason": reason}
    if kind == Op.EXPIRY:
        return _("Сгорело %(points)s") % p
    return f"{kind} {points}"
