"""The quote's explanation lines in plain Russian or English, one per number."""

from __future__ import annotations

from collections.abc import Callable

from webapp.domain.money import format_money
from webapp.domain.quote import Line, Quote
from webapp.domain.wording import count, format_percent, format_points
from webapp.domain.words import RUSSIAN, Words


def _visits(n: int, words: Words) -> str:
    return count(words, n, words.gettext("%(n)s визит"), words.gettext("%(n)s визита"),
                 words.gettext("%(n)s визитов"))


def _missing(p: dict, currency: str, words: Words) -> str:
    paths = []
    if p.get("orders"):
        paths.append(_visits(p["orders"], words))
    if p.get("spend"):
        paths.append(format_money(p["spend"], currency, words.lang))
    return words.gettext(" или ").join(paths)


def render(line: Line, words: Words = RUSSIAN, currency: str = "RUB",
           money_points: int | None = None) -> str:
    """One explanation line of a quote in the reader's language; with ``money_points``
    (a cashback program's point value) points are told as money."""
    _, p, code = words.gettext, line.params, line.code

    def money(minor: int) -> str:
        return format_money(minor, currency, words.lang)

    def points(n: int) -> str:
        return money(n * money_points) if money_points else format_points(n, words)

    if money_points:
        cashback = _cashback(line, words, money, points)
        if cashback is not None:
            return cashback

    pct = format_percent(p["bp"], words.lang) if "bp" in p else ""
    if code == "stamp_reward":
        return _("%(title)s: скидка %(amount)s.") % {"title": p["title"],
                                                     "amount": money(p["amount"])}
    if code == "discount":
        values = {"percent": pct, "tier": p.get("tier"), "amount": money(p["amount"])}
        return (_("Скидка %(percent)s уровня «%(tier)s»: %(amount)s.") if p.get("tier")
                else _("Скидка %(percent)s: %(amount)s.")) % values
    if code == "max_redeem":
        if not p["allowed"]:
            return _("Баллами можно платить от %(amount)s.") % {"amount": money(p["minimum"])}
        return _("Можно оплатить баллами до %(points)s (до %(percent)s заказа, на счёте"
                 " %(available)s).") % {"points": points(p["points"]), "percent": pct,
                                        "available": points(p["available"])}
    if code == "redeem":
        return _("Оплачено баллами: %(points)s = %(amount)s.") % {
            "points": points(p["points"]), "amount": money(p["value"])}
    if code == "accrue" and p.get("mixed"):
        return _("Начислим %(points)s по ставкам позиций.") % {"points": points(p["points"])}
    if code == "accrue":
        return _("Начислим %(points)s: %(percent)s от %(amount)s.") % {
            "points": points(p["points"]), "percent": pct, "amount": money(p["base"])}
    if code == "perk_used":
        return _("Использовано: %(title)s.") % {"title": p["title"]}
    if code == "tier_reached":
        return _("Новый уровень: «%(tier)s»!") % {"tier": p["tier"]}
    if code == "next_tier":
        return _("До уровня «%(tier)s»: ещё %(need)s.") % {
            "tier": p["tier"], "need": _missing(p, currency, words)}
    if code == "keep_tier":
        need = _missing(p, currency, words)
        if not need:
            return _("Уровень «%(tier)s» сохранён.") % {"tier": p["tier"]}
        return _("Чтобы сохранить «%(tier)s», нужно ещё %(need)s за %(months)s мес.") % {
            "tier": p["tier"], "need": need, "months": p["months"]}
    if code == "stamps":
        return _("%(title)s: %(have)s из %(every)s.") % {
            "title": p["title"], "have": p["have"], "every": p["every"]}
    raise ValueError(f"unknown quote line {code!r}")


def explain(quote: Quote, words: Words = RUSSIAN, currency: str = "RUB") -> list[str]:
    """Every line of a quote, rendered."""
    return [render(line, words, currency, quote.money_points) for line in quote.lines]


def _cashback(line: Line, words: Words, money: Callable[[int], str],
              points: Callable[[int], str]) -> str | None:
    """The lines a cashback program words as money on the account; None for the rest."""
    _, p = words.gettext, line.params
    if line.code == "max_redeem" and p["allowed"]:
        return _("Кэшбэком можно оплатить до %(amount)s (до %(percent)s заказа, на счёте"
                 " %(available)s).") % {"amount": points(p["points"]),
                                        "percent": format_percent(p["bp"], words.lang),
                                        "available": points(p["available"])}
    if line.code == "max_redeem":
        return _("Кэшбэком можно платить от %(amount)s.") % {"amount": money(p["minimum"])}
    if line.code == "redeem":
        return _("Оплачено кэшбэком: %(amount)s.") % {"amount": money(p["value"])}
    if line.code == "accrue" and p.get("mixed"):
        return _("Вернём кэшбэком %(amount)s по ставкам позиций.") % {
            "amount": points(p["points"])}
    if line.code == "accrue":
        return _("Вернём кэшбэком %(amount)s: %(percent)s от %(base)s.") % {
            "amount": points(p["points"]), "percent": format_percent(p["bp"], words.lang),
            "base": money(p["base"])}
    return None
