"""The quote's explanation lines in plain Russian or English, one per number."""

from __future__ import annotations

from webapp.domain.money import format_money
from webapp.domain.quote import Line, Quote
from webapp.domain.wording import format_percent, format_points, is_ru, plural


def _points(n: int, ru: bool) -> str:
    return format_points(n, "ru" if ru else "en")


def _visits(n: int, ru: bool) -> str:
    return f"{n} " + plural(n, "визит", "визита", "визитов") if ru \
        else f"{n} visit" + ("" if n == 1 else "s")


def _missing(p: dict, currency: str, ru: bool) -> str:
    paths = []
    if p.get("orders"):
        paths.append(_visits(p["orders"], ru))
    if p.get("spend"):
        paths.append(format_money(p["spend"], currency, "ru" if ru else "en"))
    return (" или " if ru else " or ").join(paths)


def render(line: Line, lang: str = "ru", currency: str = "RUB") -> str:
    """One explanation line of a quote in the user's language."""
    ru, p, code = is_ru(lang), line.params, line.code
    money = lambda minor: format_money(minor, currency, "ru" if ru else "en")  # noqa: E731
    pct = lambda bp: format_percent(bp, "ru" if ru else "en")  # noqa: E731
    if code == "stamp_reward":
        return (f"{p['title']}: скидка {money(p['amount'])}." if ru
                else f"{p['title']}: {money(p['amount'])} off.")
    if code == "discount":
        tier = p.get("tier")
        if ru:
            return f"Скидка {pct(p['bp'])}" + (f" уровня «{tier}»" if tier else "") + \
                f": {money(p['amount'])}."
        return f"{pct(p['bp'])} discount" + (f" ({tier} tier)" if tier else "") + \
            f": {money(p['amount'])}."
    if code == "max_redeem":
        if not p["allowed"]:
            return (f"Баллами можно платить от {money(p['minimum'])}." if ru
                    else f"Points pay for orders from {money(p['minimum'])}.")
        return (f"Можно оплатить баллами до {_points(p['points'], ru)} "
                f"(до {pct(p['bp'])} заказа, на счёте {_points(p['available'], ru)})." if ru
                else f"Up to {_points(p['points'], ru)} can pay for this order "
                f"(up to {pct(p['bp'])}; {_points(p['available'], ru)} available).")
    if code == "redeem":
        return (f"Оплачено баллами: {_points(p['points'], ru)} = {money(p['value'])}." if ru
                else f"Paid with points: {_points(p['points'], ru)} = {money(p['value'])}.")
    if code == "accrue":
        return (f"Начислим {_points(p['points'], ru)}: {pct(p['bp'])} от {money(p['base'])}."
                if ru else f"Earns {_points(p['points'], ru)}: {pct(p['bp'])} of "
                f"{money(p['base'])}.")
    if code == "perk_used":
        return f"Использовано: {p['title']}." if ru else f"Used: {p['title']}."
    if code == "tier_reached":
        return f"Новый уровень: «{p['tier']}»!" if ru else f"New tier: {p['tier']}!"
    if code == "next_tier":
        return (f"До уровня «{p['tier']}»: ещё {_missing(p, currency, ru)}." if ru
                else f"To {p['tier']}: {_missing(p, currency, ru)} more.")
    if code == "keep_tier":
        need = _missing(p, currency, ru)
        if not need:
            return (f"Уровень «{p['tier']}» сохранён." if ru
                    else f"The {p['tier']} tier is kept.")
        return (f"Чтобы сохранить «{p['tier']}», нужно ещё {need} за {p['months']} мес." if ru
                else f"To keep {p['tier']}: {need} more within {p['months']} months.")
    if code == "stamps":
        return (f"{p['title']}: {p['have']} из {p['every']}." if ru
                else f"{p['title']}: {p['have']} of {p['every']}.")
    raise ValueError(f"unknown quote line {code!r}")


def explain(quote: Quote, lang: str = "ru", currency: str = "RUB") -> list[str]:
    """Every line of a quote, rendered."""
    return [render(line, lang, currency) for line in quote.lines]
