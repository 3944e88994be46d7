"""Domain errors in Russian on the back office customer pages.

A few messages read better here with page-specific detail (the amount left to
refund in rubles, an example of what to type); everything else comes from the
shared catalog :mod:`webapp.error_text`, which falls back to the error's code and
then to English.
"""

from __future__ import annotations

from typing import Any

from webapp.domain.errors import DomainError
from webapp.domain.money import format_money
from webapp.error_text import message

BY_TEMPLATE: dict[str, str] = {
    "The refund is larger than what is left of the order.": (
        "Возврат больше, чем осталось по заказу: можно вернуть не больше {left}."
    ),
    "The amount must be positive.": "Сумма возврата должна быть больше нуля.",
    "An amount is rubles with up to two digits of kopecks.": (
        "Сумма — это рубли и не больше двух цифр копеек, например «1 500,50»."
    ),
    "Enter a number of points.": "Введите число баллов, например «+100» или «-50».",
    "Points must be a whole number.": "Баллы — целое число, например «+100» или «-50».",
    "Points must not be zero.": "Корректировка на ноль баллов ничего не меняет.",
    "Not enough points: {available} available, {requested} requested.": (
        "Недостаточно баллов: доступно {available}, а списать нужно {requested}."
    ),
    "An idempotency key is 8 to 200 printable ASCII characters.": (
        "Форма устарела: обновите страницу и отправьте её снова."
    ),
}

_MONEY_PARAMS = ("left",)  # minor units, shown as "1 500 ₽" / "1 500,50 ₽"


def russian(error: DomainError) -> str:
    """The error for a Russian-speaking manager (English if nothing knows it)."""
    template = BY_TEMPLATE.get(error.template)
    if template is not None:
        params: dict[str, Any] = {
            name: (
                format_money(value, "RUB", "ru")
                if name in _MONEY_PARAMS and isinstance(value, int)
                else value
            )
            for name, value in error.params.items()
        }
        try:
            return template.format(**params)
        except (KeyError, IndexError, ValueError):
            pass
    return message(error, "ru")
