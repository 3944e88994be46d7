"""A customer's points as people read them: the one decision of points or money.

In a cashback program the point of it is money on the account, so the balance reads
"4 066 ₽ на счёте", not "4 066 баллов = 4 066 ₽"; in other programs it reads in points,
with what they pay for beside it. The counter's panel, the customer's card, the wallet
passes and the texts to customers all word a balance here. Pure: the translator comes
in as :class:`webapp.domain.words.Words`.
"""

from __future__ import annotations

from dataclasses import dataclass

from webapp.domain.money import format_money
from webapp.domain.program import Mechanic, ProgramSettings
from webapp.domain.wording import format_points
from webapp.domain.words import Words


@dataclass(frozen=True)
class Balance:
    text: str  # "4 066 баллов", or "4 066 ₽ на счёте" in a cashback program
    worth: str | None  # "4 066 ₽" the points pay for; None when the text is money already
    in_money: bool


def in_money(settings: ProgramSettings | None) -> bool:
    """Whether this program's points are shown as money (cashback)."""
    return settings is not None and settings.mechanic is Mechanic.CASHBACK


def amount(settings: ProgramSettings | None, points: int, words: Words, currency: str) -> str:
    """Points inside a sentence: "120 баллов", or "120 ₽" in a cashback program."""
    if in_money(settings):
        assert settings is not None
        return format_money(points * settings.point_value, currency, words.lang)
    return format_points(points, words)


def balance(settings: ProgramSettings | None, points: int, words: Words,
            currency: str) -> Balance:
    """The balance line: "4 066 ₽ на счёте" (cashback) or "4 066 баллов" with its worth."""
    point_value = settings.point_value if settings is not None else 100
    worth = format_money(points * point_value, currency, words.lang)
    if in_money(settings):
        return Balance(words.gettext("%(money)s на счёте") % {"money": worth}, None, True)
    return Balance(format_points(points, words), worth, False)
