"""The cost estimate in words: one sentence per number of
:class:`webapp.domain.simulation.Estimate`, in the reader's language, assumptions stated.

Pure: the translator comes in as :class:`webapp.domain.words.Words`.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

from webapp.domain import wording as w
from webapp.domain.money import format_money
from webapp.domain.simulation import Estimate
from webapp.domain.wording import format_percent
from webapp.domain.words import Words


def estimate_text(estimate: Estimate, words: Words, currency: str) -> list[str]:
    """One line per number of the estimate, in the reader's language."""

    def m(minor: int, exact: bool = False) -> str:
        # An estimate in whole roubles (kopecks would be false precision); prices exact.
        shown = minor if exact else round(Fraction(minor, 100)) * 100
        return format_money(shown, currency, words.lang)

    return [_LINES[code](p, m, words) for code, p in estimate.lines]


_Money = Callable[..., str]  # (minor units, exact=False) -> money in words


def _revenue(p: dict[str, Any], m: _Money, words: Words) -> str:
    _ = words.gettext
    return _("Выручка в месяц — %(amount)s: %(customers)s, %(visits)s по %(check)s"
             " (%(source)s).") % {
        "amount": m(p["amount"]), "check": m(p["average_check"]), "source": _source(p, words),
        "customers": w.count(words, p["customers"], _("%(n)s активный клиент"),
                             _("%(n)s активных клиента"), _("%(n)s активных клиентов")),
        "visits": w.count(words, p["visits"], _("%(n)s визит"), _("%(n)s визита"),
                          _("%(n)s визитов"))}


def _discounts(p: dict[str, Any], m: _Money, words: Words) -> str:
    return words.gettext("Скидки — %(amount)s (%(percent)s выручки).") % {
        "amount": m(p["amount"]), "percent": format_percent(p["rate_bp"], words.lang)}


def _points(p: dict[str, Any], m: _Money, words: Words) -> str:
    return words.gettext("Бонусы — %(amount)s: начисляется %(accrual)s, клиенты тратят"
                         " %(spent)s начисленного.") % {
        "amount": m(p["amount"]), "accrual": format_percent(p["accrual_bp"], words.lang),
        "spent": format_percent(p["redemption_bp"], words.lang)}


def _welcome(p: dict[str, Any], m: _Money, words: Words) -> str:
    _ = words.gettext
    return _("Бонусы за регистрацию — %(amount)s (%(customers)s в месяц).") % {
        "amount": m(p["amount"]),
        "customers": w.count(words, p["customers"], _("%(n)s новый клиент"),
                             _("%(n)s новых клиента"), _("%(n)s новых клиентов"))}


def _birthday(p: dict[str, Any], m: _Money, words: Words) -> str:
    _ = words.gettext
    return _("Бонусы на день рождения — %(amount)s (%(customers)s в месяц).") % {
        "amount": m(p["amount"]),
        "customers": w.count(words, p["customers"], _("%(n)s именинник"),
                             _("%(n)s именинника"), _("%(n)s именинников"))}


def _stamp(p: dict[str, Any], m: _Money, words: Words) -> str:
    _ = words.gettext
    rewards = _tenths_count(words, p["rewards_x10"], _("%(n)s награда"), _("%(n)s награды"),
                            _("%(n)s наград"))
    return _("«%(title)s» — %(amount)s (%(rewards)s в месяц).") % {
        "title": w.clean(p["title"]), "amount": m(p["amount"]), "rewards": rewards}


def _tenths_count(words: Words, x10: int, one: str, few: str, many: str) -> str:
    """A count given in tenths, with its noun: a fraction takes the genitive singular
    in Russian ("0,4 награды"), which is the "few" form."""
    if x10 % 10:
        return few % {"n": _tenths(x10, w.is_ru(words.lang))}
    return w.count(words, x10 // 10, one, few, many)


def _messages(p: dict[str, Any], m: _Money, words: Words) -> str:
    return words.gettext("SMS-напоминания — %(amount)s (%(count)s × %(unit)s).") % {
        "amount": m(p["amount"]), "count": p["count"], "unit": m(p["unit"], exact=True)}


def _not_counted(p: dict[str, Any], m: _Money, words: Words) -> str:
    _ = words.gettext
    if p["what"] == "gift":
        return _("Подарок на %(visit)s-й визит не учтён: укажите, сколько он стоит.") % {
            "visit": p.get("visit")}
    return _("Не учтены привилегии без стоимости: %(titles)s. Укажите, сколько стоит одно"
             " использование.") % {"titles": ", ".join(
                 f"«{w.clean(title)}»" for title in str(p.get("titles", "")).split("\n"))}


def _kind_mix(p: dict[str, Any], m: _Money, words: Words) -> str:
    return words.gettext("Правила для работ и запчастей посчитаны при типичной доле запчастей"
                         " %(percent)s выручки: у бизнеса ещё нет заказов по позициям.") % {
        "percent": w.percent(p["parts_bp"], w.is_ru(words.lang))}


def _perk(p: dict[str, Any], m: _Money, words: Words) -> str:
    _ = words.gettext
    return _("«%(title)s» — %(amount)s (%(uses)s в месяц, если клиенты используют"
             " %(share)s лимита).") % {
        "title": w.clean(p["title"]), "amount": m(p["amount"]),
        "share": format_percent(p["use_bp"], words.lang),
        "uses": _tenths_count(words, p["uses_x10"], _("%(n)s использование"),
                              _("%(n)s использования"), _("%(n)s использований"))}


def _gift(p: dict[str, Any], m: _Money, words: Words) -> str:
    _ = words.gettext
    return _("Подарок на %(visit)s-й визит — %(amount)s (%(gifts)s в месяц: до него доходят"
             " %(share)s новых клиентов).") % {
        "visit": p["visit"], "amount": m(p["amount"]),
        "share": format_percent(p["reach_bp"], words.lang),
        "gifts": _tenths_count(words, p["gifts_x10"], _("%(n)s подарок"), _("%(n)s подарка"),
                               _("%(n)s подарков"))}


def _referral(p: dict[str, Any], m: _Money, words: Words) -> str:
    _ = words.gettext
    return _("Бонусы за друзей — %(amount)s (%(customers)s в месяц, если по приглашению"
             " приходят %(share)s новых клиентов; бонус получают оба).") % {
        "amount": m(p["amount"]), "share": format_percent(p["share_bp"], words.lang),
        "customers": w.count(words, p["customers"], _("%(n)s приглашённый"),
                             _("%(n)s приглашённых"), _("%(n)s приглашённых"))}


def _total(p: dict[str, Any], m: _Money, words: Words) -> str:
    return words.gettext("Итого программа стоит %(amount)s в месяц — %(percent)s"
                         " выручки.") % {
        "amount": m(p["amount"]), "percent": format_percent(p["share_bp"], words.lang)}


def _break_even(p: dict[str, Any], m: _Money, words: Words) -> str:
    _ = words.gettext
    return _("Она окупается, если при марже %(margin)s клиенты придут %(times)s в месяц"
             " (+%(growth)s к нынешним %(visits)s).") % {
        "margin": format_percent(p["margin_bp"], words.lang),
        "growth": format_percent(p["growth_bp"], words.lang),
        "times": w.count(words, p["visits"], words.pgettext("one", "ещё %(n)s раз"),
                         _("ещё %(n)s раза"), _("ещё %(n)s раз")),
        "visits": w.count(words, p["visits_now"], _("%(n)s визиту"), _("%(n)s визитам"),
                          _("%(n)s визитам"))}


# Each line's text, given the params, a money formatter and the words.
_LINES: dict[str, Callable[[dict[str, Any], _Money, Words], str]] = {
    "revenue": _revenue, "discounts": _discounts, "points": _points, "welcome": _welcome,
    "birthday": _birthday, "stamp": _stamp, "messages": _messages,
    "not_counted": _not_counted, "total": _total, "break_even": _break_even,
    "perk": _perk, "gift": _gift, "referral": _referral, "kind_mix": _kind_mix,
}


def _tenths(n: int, ru: bool) -> str:
    """A count in tenths, so that 0.4 rewards a month do not show as 0."""
    whole, tenth = divmod(n, 10)
    return f"{whole}{',' if ru else '.'}{tenth}" if tenth else str(whole)


def _source(p: dict[str, Any], words: Words) -> str:
    _, n = words.gettext, p["measured_orders"]
    if not n:
        return _("типичные цифры")
    return _("по %(orders)s за полгода") % {"orders": w.count(
        words, n, _("%(n)s заказу"), _("%(n)s заказам"), _("%(n)s заказам"))}
