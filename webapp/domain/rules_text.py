"""A program's rules in words: one sentence a customer understands, then the details.

The seeds' second mistake: "Правила должны быть в одном предложении". So :func:`describe`
always gives exactly one sentence (the main mechanic) and puts tiers, stamp cards,
bonuses and expiry into separate detail lines. Standard library only, so the owner page,
the wallet pass and the CLI all say the same thing; the words come from the translator
the caller passes (:class:`webapp.domain.words.Words`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from webapp.domain import line_rules_text
from webapp.domain import wording as w
from webapp.domain.money import format_money
from webapp.domain.program import (
    BP,
    Entitlement,
    Mechanic,
    Period,
    ProgramSettings,
    StampCard,
    Tier,
    Warning,
    share_of,
)
from webapp.domain.wording import format_percent
from webapp.domain.words import RUSSIAN, Words

__all__ = ["RuleText", "describe", "format_percent", "warning_text"]


@dataclass(frozen=True)
class RuleText:
    """The rules as a customer reads them."""

    sentence: str  # exactly one sentence, ending with "."
    details: list[str]  # one line each, in the order a customer would ask about them


def describe(settings: ProgramSettings, words: Words = RUSSIAN,
             currency: str = "RUB") -> RuleText:
    """Say the program's rules: one plain sentence, then the details line by line."""
    s = settings
    stamps_in_sentence = s.mechanic is Mechanic.NONE and not s.tiers
    if s.earns_points:
        main = _points_clause(s, words) + _tier_discount_clause(s.tiers, words)
    elif s.mechanic is Mechanic.DISCOUNT:
        main = _discount_clause(s, words)
    elif s.tiers:
        main = _tiers_clause(s.tiers, words, currency)
    else:
        clauses = [_stamp_clause(card, words) for card in s.stamp_cards]
        main = _join(clauses, words)
    details = [_tier_line(t, i, s, words, currency) for i, t in enumerate(s.tiers)]
    if s.tiers:
        details.append(_tier_window_line(s, words))
    for card in s.stamp_cards:
        if not stamps_in_sentence or card.per_asset:  # else the sentence already said it
            details.append(w.capital(_stamp_clause(card, words)) + _asset_note(card, words)
                           + ".")
    details += line_rules_text.lines(s, words, currency)
    details += _bonus_lines(s, words, currency)
    if s.earns_points:
        details += _points_lines(s, words, currency)
    return RuleText(w.capital(main) + ".", details)


def warning_text(warning: Warning, words: Words = RUSSIAN, currency: str = "RUB") -> str:
    """Explain a costly choice with what it costs on a round 10 000 of revenue."""
    _, lang, p = words.gettext, words.lang, warning.params
    base = 1_000_000  # 10 000 in minor units: easy to scale in one's head
    m = partial(format_money, currency=currency, lang=lang)
    if warning.code == "discount_over_20":
        return _("Скидка %(percent)s «для всех» съедает маржу: с каждых %(base)s выручки вы"
                 " отдаёте %(cost)s. Начните с 3–5 %% и повышайте для активных клиентов.") % {
            "percent": format_percent(p["bp"], lang), "base": m(base),
            "cost": m(share_of(base, p["bp"]))}
    if warning.code == "redeem_cap_over_50":
        return _("Бонусами можно оплатить до %(percent)s заказа: с заказа на %(base)s вы можете"
                 " получить деньгами всего %(paid)s. Обычно хватает 20–30 %%.") % {
            "percent": format_percent(p["bp"], lang), "base": m(base),
            "paid": m(base - share_of(base, p["bp"]))}
    if warning.code == "accrual_over_10":
        return _("Начисление %(percent)s: с каждых %(base)s выручки вы обещаете %(cost)s"
                 " бонусами — больше, чем обычные 3–10 %%.") % {
            "percent": format_percent(p["bp"], lang), "base": m(base),
            "cost": m(share_of(base, p["bp"]))}
    if warning.code == "expiry_under_3_months":
        return _("Бонусы сгорают через %(period)s: многие клиенты приходят раз в 3–6 месяцев"
                 " и не успеют ими воспользоваться, а бонусы, которые нельзя использовать,"
                 " работают против вас.") % {"period": _months(p["months"], words)}
    if warning.code == "stamp_every_under_4":
        n = p["every"]
        return _("Каждый %(nth)s-й заказ бесплатно — это скидка около %(percent)s для"
                 " постоянных клиентов: с каждых %(base)s их заказов вы отдаёте %(cost)s."
                 " Чаще дарят каждый 5–6-й.") % {
            "nth": _nth(n, words), "percent": format_percent(BP // n // 100 * 100, lang),
            "base": m(base), "cost": m(base // n // 100 * 100)}
    return f"{warning.field}: {warning.code}"


# -- the sentence --------------------------------------------------------------------


def _points_clause(s: ProgramSettings, words: Words) -> str:
    _, ru = words.gettext, w.is_ru(words.lang)
    rates = sorted({s.accrual_bp, *(t.accrual_bp for t in s.tiers if t.accrual_bp is not None)})
    caps = sorted({s.redeem_cap_bp,
                   *(t.redeem_cap_bp for t in s.tiers if t.redeem_cap_bp is not None)})
    cash = s.mechanic is Mechanic.CASHBACK
    by_level = _(" (в зависимости от уровня)")
    rate = w.percent_range(rates[0], rates[-1], ru) + (by_level if len(rates) > 1 else "")
    low_cap = next((c for c in caps if c > 0), 0)
    caps_vary_alone = len(caps) > 1 and len(rates) == 1  # say "by level" once at most
    cap = w.percent_range(low_cap, caps[-1], ru) + (by_level if caps_vary_alone else "")
    values = {"rate": rate, "cap": cap}
    if cash:
        text = _("%(rate)s от каждого заказа возвращается кэшбэком") % values
        if caps[0] == BP:
            return text + _(", им можно оплатить весь следующий заказ")
        return text + (_(", им можно оплатить до %(cap)s следующего заказа") % values
                       if low_cap else "")
    text = _("%(rate)s от каждого заказа возвращается бонусами") % values
    if caps[0] == BP:
        return text + _(", ими можно оплатить весь следующий заказ")
    return text + (_(", ими можно оплатить до %(cap)s следующего заказа") % values
                   if low_cap else "")


def _tier_discount_clause(tiers: tuple[Tier, ...], words: Words) -> str:
    rates = [t.discount_bp for t in tiers if t.discount_bp > 0]
    if not rates:
        return ""
    rate = w.percent_range(min(rates), max(rates), w.is_ru(words.lang))
    return words.gettext(", а постоянным клиентам — скидка %(rate)s по уровню") % {"rate": rate}


def _discount_clause(s: ProgramSettings, words: Words) -> str:
    _, ru = words.gettext, w.is_ru(words.lang)
    top = max([s.discount_bp, *(t.discount_bp for t in s.tiers)])
    values = {"rate": w.percent(s.discount_bp, ru), "top": w.percent(top, ru)}
    if top > s.discount_bp:
        return _("Скидка %(rate)s на каждый заказ, а чем чаще вы у нас, тем она выше — до"
                 " %(top)s") % values
    return _("Скидка %(rate)s на каждый заказ") % values


def _tiers_clause(tiers: tuple[Tier, ...], words: Words, currency: str) -> str:
    _, ru = words.gettext, w.is_ru(words.lang)
    names = [_name(t, i) for i, t in enumerate(tiers)]
    paid = [i for i, t in enumerate(tiers) if t.discount_bp > 0]
    if paid:
        low = paid[0]
        top = max(paid, key=lambda i: (tiers[i].discount_bp, i))
        values = {"low": w.percent(tiers[low].discount_bp, ru), "low_name": names[low],
                  "high": w.percent(tiers[top].discount_bp, ru), "high_name": names[top]}
        if tiers[low].discount_bp == tiers[top].discount_bp:
            return _("Чем чаще вы у нас, тем выше уровень: на уровне «%(low_name)s» — скидка"
                     " %(low)s") % values
        return _("Чем чаще вы у нас, тем выше уровень и скидка: от %(low)s на уровне"
                 " «%(low_name)s» до %(high)s на уровне «%(high_name)s»") % values
    if len(tiers) == 1:
        return _("Чем чаще вы у нас, тем больше привилегий: уровень «%(name)s» —"
                 " %(condition)s") % {"name": names[0],
                                      "condition": _condition(tiers[0], words, currency)}
    return _("Чем чаще вы у нас, тем выше уровень и больше привилегий — от «%(first)s» до"
             " «%(last)s»") % {"first": names[0], "last": names[-1]}


def _stamp_clause(card: StampCard, words: Words) -> str:
    _ = words.gettext
    free = card.reward_minor is None and card.reward_bp >= BP
    known = w.CATEGORIES.get(card.category)
    if known is None:
        title = w.clean(card.title) or card.category
        if str(card.every) in title:  # the title already is the rule: "Каждая 10-я мойка"
            return title
        noun, gender = _("заказ «%(title)s»") % {"title": title}, "m"
    else:
        noun, gender = _(known[0]), known[1]
    values = {"nth": _nth(card.every, words), "noun": noun,
              "reward": _("бесплатно") if free else _("со скидкой")
              if card.reward_minor is not None else _("со скидкой %(percent)s") % {
                  "percent": w.percent(card.reward_bp, w.is_ru(words.lang))}}
    if gender == "f":
        return _("Каждая %(nth)s-я %(noun)s — %(reward)s") % values
    if gender == "n":
        return _("Каждое %(nth)s-е %(noun)s — %(reward)s") % values
    return _("Каждый %(nth)s-й %(noun)s — %(reward)s") % values


# -- the details ---------------------------------------------------------------------


def _tier_line(t: Tier, i: int, s: ProgramSettings, words: Words, currency: str) -> str:
    _, ru = words.gettext, w.is_ru(words.lang)
    perks: list[str] = []
    if t.discount_bp:
        perks.append(_("скидка %(percent)s") % {"percent": w.percent(t.discount_bp, ru)})
    if s.earns_points and t.accrual_bp is not None and t.accrual_bp != s.accrual_bp:
        perks.append(_("начисление %(percent)s") % {"percent": w.percent(t.accrual_bp, ru)})
    if s.earns_points and t.redeem_cap_bp is not None and t.redeem_cap_bp != s.redeem_cap_bp:
        perks.append(_("оплата до %(percent)s заказа") % {
            "percent": w.percent(t.redeem_cap_bp, ru)})
    by_title = {e.title.strip().lower(): e for e in t.entitlements}
    seen: set[str] = set()
    for title in (*t.perks, *(e.title for e in t.entitlements)):
        key = title.strip().lower()
        text = w.lower_first(w.clean(title))
        if key in seen or not text:
            continue
        seen.add(key)
        entitlement = by_title.get(key)
        if entitlement and (entitlement.limit, entitlement.per) != (1, Period.VISIT):
            text += f" ({_limit(entitlement, words)})"
        perks.append(text)
    head = f"{_name(t, i)} — {_condition(t, words, currency)}"
    return head + (": " + ", ".join(perks) if perks else "") + "."


def _tier_window_line(s: ProgramSettings, words: Words) -> str:
    _ = words.gettext
    if s.tier_window_months is None:
        return _("Уровень считается по всем заказам и не понижается.")
    head = _("Уровень считается по заказам за последние %(period)s") % {
        "period": _months(s.tier_window_months, words)}
    g = s.downgrade_grace_days
    if g is None:
        return head + _("; достигнутый уровень не понижается.")
    if not g:
        return head + _("; если условия перестанут выполняться, уровень понизится.")
    days = w.count(words, g, _("ещё %(n)s день"), _("ещё %(n)s дня"), _("ещё %(n)s дней"))
    return head + _("; если условия перестанут выполняться, уровень сохранится"
                    " %(days)s.") % {"days": days}


def referral_line(s: ProgramSettings, words: Words = RUSSIAN,
                  currency: str = "RUB") -> str | None:
    """What bringing a friend gives, in one sentence; None when the program has no referral."""
    _, b = words.gettext, s.bonuses
    if not b.referral:
        return None
    n = b.referral_monthly_limit
    limit = _(" (до %(friends)s в месяц)") % {"friends": w.count(
        words, n, _("%(n)s друга"), _("%(n)s друзей"), _("%(n)s друзей"))} if n else ""
    return _("Приведите друга: после его первого оплаченного заказа вы оба получите по"
             " %(points)s%(limit)s.") % {
        "points": _points(b.referral, s=s, words=words, currency=currency), "limit": limit}


def _bonus_lines(s: ProgramSettings, words: Words, currency: str) -> list[str]:
    _, b = words.gettext, s.bonuses
    lines: list[str] = []
    pts = partial(_points, s=s, words=words, currency=currency)
    if b.welcome:
        lines.append(_("За регистрацию — %(points)s.") % {"points": pts(b.welcome)})
    referral = referral_line(s, words, currency)
    if referral:
        lines.append(referral)
    if b.birthday:
        lines.append(_("На день рождения — %(points)s.") % {"points": pts(b.birthday)})
    if b.gift_visit is not None:
        gift = w.clean(b.gift_title) or _("подарок")
        if w.is_ru(words.lang):  # a Russian sentence goes on in lower case
            gift = w.lower_first(gift)
        lines.append(_("На %(nth)s-й визит — %(gift)s.") % {
            "nth": _nth(b.gift_visit, words), "gift": gift})
    return lines


def _points_lines(s: ProgramSettings, words: Words, currency: str) -> list[str]:
    _, cash = words.gettext, s.mechanic is Mechanic.CASHBACK
    lines: list[str] = []
    if s.expiry_months is None:
        lines.append(_("Кэшбэк не сгорает.") if cash else _("Бонусы не сгорают."))
    else:
        values = {"period": _months(s.expiry_months, words)}
        lines.append((_("Кэшбэк сгорает через %(period)s; мы напомним заранее.") if cash
                      else _("Бонусы сгорают через %(period)s; мы напомним заранее.")) % values)
    if s.min_order_for_redeem:
        values = {"amount": format_money(s.min_order_for_redeem, currency, words.lang)}
        lines.append((_("Оплатить кэшбэком можно заказ от %(amount)s.") if cash
                      else _("Оплатить бонусами можно заказ от %(amount)s.")) % values)
    if cash:
        lines.append(_("Часть заказа, оплаченная кэшбэком, тоже приносит кэшбэк.")
                     if s.accrue_on_redeemed else
                     _("На часть заказа, оплаченную кэшбэком, кэшбэк не начисляется."))
    else:
        lines.append(_("Часть заказа, оплаченная бонусами, тоже приносит бонусы.")
                     if s.accrue_on_redeemed else
                     _("На часть заказа, оплаченную бонусами, бонусы не начисляются."))
    if s.point_value != 100 and not cash:
        lines.append(_("1 бонус = %(amount)s.") % {
            "amount": format_money(s.point_value, currency, words.lang)})
    return lines


# -- words and numbers ---------------------------------------------------------------


def _condition(t: Tier, words: Words, currency: str) -> str:
    _ = words.gettext
    if t.min_orders == 0 or t.min_spend == 0:  # whichever comes first: at once
        return _("сразу")
    parts: list[str] = []
    if t.min_orders is not None:
        parts.append(w.count(words, t.min_orders, _("от %(n)s заказа"), _("от %(n)s заказов"),
                             _("от %(n)s заказов")))
    if t.min_spend is not None:
        parts.append(_("от %(amount)s") % {
            "amount": format_money(t.min_spend, currency, words.lang)})
    return _(" или ").join(parts)


def _points(n: int, s: ProgramSettings, words: Words, currency: str) -> str:
    if s.mechanic is Mechanic.CASHBACK:  # cashback is told as money
        return format_money(n * s.point_value, currency, words.lang)
    return w.count(words, n, words.gettext("%(n)s бонус"), words.gettext("%(n)s бонуса"),
                   words.gettext("%(n)s бонусов"))


def _months(n: int, words: Words) -> str:
    _ = words.gettext
    return w.count(words, n, _("%(n)s месяц"), _("%(n)s месяца"), _("%(n)s месяцев"))


def _nth(n: int, words: Words) -> str:
    """A number that the text makes ordinal: "6" before Russian's "-й", "6th" in English."""
    return str(n) if w.is_ru(words.lang) else w.ordinal_en(n)


def _limit(e: Entitlement, words: Words) -> str:
    _ = words.gettext
    if e.limit == 1:
        return {Period.VISIT: _("раз за визит"), Period.MONTH: _("раз в месяц"),
                Period.YEAR: _("раз в год")}[e.per]
    if e.limit == 2:
        return {Period.VISIT: _("2 раза за визит"), Period.MONTH: _("2 раза в месяц"),
                Period.YEAR: _("2 раза в год")}[e.per]
    times = w.count(words, e.limit, _("%(n)s раз"), _("%(n)s раза"), _("%(n)s раз"))  # 3 and up
    if e.per is Period.VISIT:
        return _("%(times)s за визит") % {"times": times}
    if e.per is Period.MONTH:
        return _("%(times)s в месяц") % {"times": times}
    return _("%(times)s в год") % {"times": times}


def _join(clauses: list[str], words: Words) -> str:
    if len(clauses) == 1:
        return clauses[0]
    rest = [w.lower_first(c) for c in clauses[1:]]
    return ", ".join([clauses[0], *rest[:-1]]) + words.gettext(", а ") + rest[-1]


def _name(t: Tier, i: int) -> str:
    return w.clean(t.name) or f"#{i + 1}"


def _asset_note(card: StampCard, words: Words) -> str:
    if not card.per_asset:
        return ""
    return words.gettext(" (считается по каждому автомобилю отдельно)")
