"""A program's rules in words: one sentence a customer understands, then the details.

The seeds' second mistake: "Правила должны быть в одном предложении". So :func:`describe`
always gives exactly one sentence (the main mechanic) and puts tiers, stamp cards,
bonuses and expiry into separate detail lines. Standard library only, so the owner page,
the wallet pass and the CLI all say the same thing; no Babel, two languages (ru, en).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

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

__all__ = ["RuleText", "describe", "format_percent", "warning_text"]


@dataclass(frozen=True)
class RuleText:
    """The rules as a customer reads them."""

    sentence: str  # exactly one sentence, ending with "."
    details: list[str]  # one line each, in the order a customer would ask about them


def describe(settings: ProgramSettings, lang: str = "ru", currency: str = "RUB") -> RuleText:
    """Say the program's rules: one plain sentence, then the details line by line."""
    ru = w.is_ru(lang)
    s = settings
    stamps_in_sentence = s.mechanic is Mechanic.NONE and not s.tiers
    if s.earns_points:
        main = _points_clause(s, ru) + _tier_discount_clause(s.tiers, ru)
    elif s.mechanic is Mechanic.DISCOUNT:
        main = _discount_clause(s, ru)
    elif s.tiers:
        main = _tiers_clause(s.tiers, ru, currency)
    else:
        clauses = [_stamp_clause(card, ru) for card in s.stamp_cards]
        main = _join(clauses, ru)
    details = [_tier_line(t, i, s, ru, currency) for i, t in enumerate(s.tiers)]
    if s.tiers:
        details.append(_tier_window_line(s, ru))
    for card in s.stamp_cards:
        if not stamps_in_sentence or card.per_asset:  # else the sentence already said it
            details.append(w.capital(_stamp_clause(card, ru)) + _asset_note(card, ru) + ".")
    details += _bonus_lines(s, ru, currency)
    if s.earns_points:
        details += _points_lines(s, ru, currency)
    return RuleText(w.capital(main) + ".", details)


def warning_text(warning: Warning, lang: str = "ru", currency: str = "RUB") -> str:
    """Explain a costly choice with what it costs on a round 10 000 of revenue."""
    ru = w.is_ru(lang)
    p = warning.params
    base = 1_000_000  # 10 000 in minor units: easy to scale in one's head
    m = partial(format_money, currency=currency, lang=lang)
    if warning.code == "discount_over_20":
        pct, cost = format_percent(p["bp"], lang), m(share_of(base, p["bp"]))
        return (f"Скидка {pct} «для всех» съедает маржу: с каждых {m(base)} выручки вы"
                f" отдаёте {cost}. Начните с 3–5 % и повышайте для активных клиентов."
                if ru else
                f"A {pct} discount “for everyone” eats your margin: out of every {m(base)} of"
                f" revenue you give away {cost}. Start with 3–5% and raise it for active"
                f" customers.")
    if warning.code == "redeem_cap_over_50":
        pct, paid = format_percent(p["bp"], lang), m(base - share_of(base, p["bp"]))
        return (f"Бонусами можно оплатить до {pct} заказа: с заказа на {m(base)} вы можете"
                f" получить деньгами всего {paid}. Обычно хватает 20–30 %."
                if ru else
                f"Points can pay up to {pct} of an order: on a {m(base)} order you may take"
                f" only {paid} in money. 20–30% is usually enough.")
    if warning.code == "accrual_over_10":
        pct, cost = format_percent(p["bp"], lang), m(share_of(base, p["bp"]))
        return (f"Начисление {pct}: с каждых {m(base)} выручки вы обещаете {cost} бонусами —"
                f" больше, чем обычные 3–10 %."
                if ru else
                f"Earning {pct}: out of every {m(base)} of revenue you promise {cost} in"
                f" points — more than the usual 3–10%.")
    if warning.code == "expiry_under_3_months":
        n = p["months"]
        return (f"Бонусы сгорают через {n} {w.plural(n, 'месяц', 'месяца', 'месяцев')}: многие"
                f" клиенты приходят раз в 3–6 месяцев и не успеют ими воспользоваться, а"
                f" бонусы, которые нельзя использовать, работают против вас."
                if ru else
                f"Points expire after {n} month{'s' * (n != 1)}: many customers come back"
                f" every 3–6 months and will not get to use them, and points nobody can use"
                f" work against you.")
    if warning.code == "stamp_every_under_4":
        n = p["every"]
        pct = format_percent(BP // n // 100 * 100, lang)
        cost = m(base // n // 100 * 100)
        return (f"Каждый {n}-й заказ бесплатно — это скидка около {pct} для постоянных"
                f" клиентов: с каждых {m(base)} их заказов вы отдаёте {cost}. Чаще дарят"
                f" каждый 5–6-й."
                if ru else
                f"Every {w.ordinal_en(n)} order free is about {pct} off for your regulars: out"
                f" of every {m(base)} they spend you give away {cost}. Every 5th or 6th is"
                f" more common.")
    return f"{warning.field}: {warning.code}"


# -- the sentence --------------------------------------------------------------------


def _points_clause(s: ProgramSettings, ru: bool) -> str:
    rates = sorted({s.accrual_bp, *(t.accrual_bp for t in s.tiers if t.accrual_bp is not None)})
    caps = sorted({s.redeem_cap_bp,
                   *(t.redeem_cap_bp for t in s.tiers if t.redeem_cap_bp is not None)})
    cash = s.mechanic is Mechanic.CASHBACK
    by_level = " (в зависимости от уровня)" if ru else " (depending on your level)"
    rate = w.percent_range(rates[0], rates[-1], ru) + (by_level if len(rates) > 1 else "")
    low_cap = next((c for c in caps if c > 0), 0)
    caps_vary_alone = len(caps) > 1 and len(rates) == 1  # say "by level" once at most
    cap = w.percent_range(low_cap, caps[-1], ru) + (by_level if caps_vary_alone else "")
    if ru:
        text = f"{rate} от каждого заказа возвращается {'кэшбэком' if cash else 'бонусами'}"
        pronoun = "им" if cash else "ими"
        if caps[0] == BP:
            return text + f", {pronoun} можно оплатить весь следующий заказ"
        return text + (f", {pronoun} можно оплатить до {cap} следующего заказа" if low_cap else "")
    text = f"{rate} of every order comes back as {'cashback' if cash else 'points'}"
    pronoun = "it" if cash else "them"
    if caps[0] == BP:
        return text + f", and you can pay for your whole next order with {pronoun}"
    return text + (f", and you can pay up to {cap} of your next order with {pronoun}"
                   if low_cap else "")


def _tier_discount_clause(tiers: tuple[Tier, ...], ru: bool) -> str:
    rates = [t.discount_bp for t in tiers if t.discount_bp > 0]
    if not rates:
        return ""
    rate = w.percent_range(min(rates), max(rates), ru)
    return (f", а постоянным клиентам — скидка {rate} по уровню" if ru
            else f", plus regulars get {rate} off by level")


def _discount_clause(s: ProgramSettings, ru: bool) -> str:
    rate = w.percent(s.discount_bp, ru)
    top = max([s.discount_bp, *(t.discount_bp for t in s.tiers)])
    if ru:
        more = f", а чем чаще вы у нас, тем она выше — до {w.percent(top, ru)}"
        return f"Скидка {rate} на каждый заказ" + (more if top > s.discount_bp else "")
    more = f", and the more often you come, the bigger it gets — up to {w.percent(top, ru)}"
    return f"You get {rate} off every order" + (more if top > s.discount_bp else "")


def _tiers_clause(tiers: tuple[Tier, ...], ru: bool, currency: str) -> str:
    names = [_name(t, i) for i, t in enumerate(tiers)]
    q = (lambda n: f"«{n}»") if ru else (lambda n: f"“{n}”")
    paid = [i for i, t in enumerate(tiers) if t.discount_bp > 0]
    if paid:
        low = paid[0]
        top = max(paid, key=lambda i: (tiers[i].discount_bp, i))
        lo, hi = w.percent(tiers[low].discount_bp, ru), w.percent(tiers[top].discount_bp, ru)
        if tiers[low].discount_bp == tiers[top].discount_bp:
            return (f"Чем чаще вы у нас, тем выше уровень: на уровне {q(names[low])} — скидка {lo}"
                    if ru else f"The more often you come, the higher your level: at"
                    f" {q(names[low])} you get {lo} off")
        return (f"Чем чаще вы у нас, тем выше уровень и скидка: от {lo} на уровне"
                f" {q(names[low])} до {hi} на уровне {q(names[top])}" if ru else
                f"The more often you come, the higher your level and discount: from {lo} at"
                f" {q(names[low])} to {hi} at {q(names[top])}")
    if len(tiers) == 1:
        cond = _condition(tiers[0], ru, currency)
        return (f"Чем чаще вы у нас, тем больше привилегий: уровень {q(names[0])} — {cond}"
                if ru else f"The more often you come, the more you get: the {q(names[0])}"
                f" level {cond}")
    return (f"Чем чаще вы у нас, тем выше уровень и больше привилегий — от {q(names[0])} до"
            f" {q(names[-1])}" if ru else f"The more often you come, the higher your level and"
            f" the more you get — from {q(names[0])} to {q(names[-1])}")


def _stamp_clause(card: StampCard, ru: bool) -> str:
    n = card.every
    free = card.reward_bp >= BP
    known = w.CATEGORIES.get(card.category)
    if known is None:
        title = w.clean(card.title) or card.category
        if str(n) in title:  # the title already is the rule: "Каждая 10-я мойка бесплатно"
            return title
        known = (f"заказ «{title}»", "m", f"“{title}” order")
    noun, gender, noun_en = known
    if ru:
        every = {"f": "Каждая", "n": "Каждое"}.get(gender, "Каждый")
        ending = {"f": "я", "n": "е"}.get(gender, "й")
        reward = "бесплатно" if free else f"со скидкой {w.percent(card.reward_bp, ru)}"
        return f"{every} {n}-{ending} {noun} — {reward}"
    reward = "free" if free else f"{w.percent(card.reward_bp, ru)} off"
    return f"Every {w.ordinal_en(n)} {noun_en} is {reward}"


# -- the details ---------------------------------------------------------------------


def _tier_line(t: Tier, i: int, s: ProgramSettings, ru: bool, currency: str) -> str:
    perks: list[str] = []
    if t.discount_bp:
        perks.append(f"скидка {w.percent(t.discount_bp, ru)}" if ru
                     else f"{w.percent(t.discount_bp, ru)} off")
    if s.earns_points and t.accrual_bp is not None and t.accrual_bp != s.accrual_bp:
        perks.append(f"начисление {w.percent(t.accrual_bp, ru)}" if ru
                     else f"{w.percent(t.accrual_bp, ru)} back")
    if s.earns_points and t.redeem_cap_bp is not None and t.redeem_cap_bp != s.redeem_cap_bp:
        perks.append(f"оплата до {w.percent(t.redeem_cap_bp, ru)} заказа" if ru
                     else f"pay up to {w.percent(t.redeem_cap_bp, ru)} of an order")
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
            text += f" ({_limit(entitlement, ru)})"
        perks.append(text)
    head = f"{_name(t, i)} — {_condition(t, ru, currency)}"
    return head + (": " + ", ".join(perks) if perks else "") + "."


def _tier_window_line(s: ProgramSettings, ru: bool) -> str:
    if s.tier_window_months is None:
        return ("Уровень считается по всем заказам и не понижается." if ru
                else "Your level counts all your orders and never goes down.")
    n = s.tier_window_months
    head = (f"Уровень считается по заказам за последние {n}"
            f" {w.plural(n, 'месяц', 'месяца', 'месяцев')}" if ru
            else f"Your level counts the orders of the last {n} month{'s' * (n != 1)}")
    g = s.downgrade_grace_days
    if g is None:
        return head + ("; достигнутый уровень не понижается." if ru
                       else "; a level once reached is kept.")
    if ru:
        return head + (f"; если условия перестанут выполняться, уровень сохранится ещё {g}"
                       f" {w.plural(g, 'день', 'дня', 'дней')}." if g else
                       "; если условия перестанут выполняться, уровень понизится.")
    return head + (f"; if you stop meeting the conditions, you keep your level {g} more"
                   f" day{'s' * (g != 1)}." if g else
                   "; if you stop meeting the conditions, the level goes down.")


def referral_line(s: ProgramSettings, lang: str = "ru", currency: str = "RUB") -> str | None:
    """What bringing a friend gives, in one sentence; None when the program has no referral."""
    b, ru = s.bonuses, w.is_ru(lang)
    if not b.referral:
        return None
    n = b.referral_monthly_limit
    limit = ((f" (до {n} {w.plural(n, 'друга', 'друзей', 'друзей')} в месяц)" if ru
              else f" (up to {n} friend{'s' * (n != 1)} a month)") if n else "")
    pts = _points(b.referral, s=s, ru=ru, currency=currency)
    return (f"Приведите друга: после его первого оплаченного заказа вы оба получите по"
            f" {pts}{limit}." if ru else
            f"Bring a friend: after their first paid order you both get {pts}{limit}.")


def _bonus_lines(s: ProgramSettings, ru: bool, currency: str) -> list[str]:
    b = s.bonuses
    lines: list[str] = []
    pts = partial(_points, s=s, ru=ru, currency=currency)
    if b.welcome:
        lines.append(f"За регистрацию — {pts(b.welcome)}." if ru
                     else f"For joining: {pts(b.welcome)}.")
    referral = referral_line(s, "ru" if ru else "en", currency)
    if referral:
        lines.append(referral)
    if b.birthday:
        lines.append(f"На день рождения — {pts(b.birthday)}." if ru
                     else f"On your birthday: {pts(b.birthday)}.")
    if b.gift_visit is not None:
        gift = w.clean(b.gift_title) or ("подарок" if ru else "a gift")
        lines.append(f"На {b.gift_visit}-й визит — {w.lower_first(gift)}." if ru
                     else f"On your {w.ordinal_en(b.gift_visit)} visit: {gift}.")
    return lines


def _points_lines(s: ProgramSettings, ru: bool, currency: str) -> list[str]:
    cash = s.mechanic is Mechanic.CASHBACK
    noun = ("Кэшбэк" if cash else "Бонусы") if ru else ("Cashback" if cash else "Points")
    lines: list[str] = []
    if s.expiry_months is None:
        lines.append(f"{noun} не {'сгорает' if cash else 'сгорают'}." if ru
                     else f"{noun} never {'expires' if cash else 'expire'}.")
    else:
        n = s.expiry_months
        lines.append(
            f"{noun} {'сгорает' if cash else 'сгорают'} через {n}"
            f" {w.plural(n, 'месяц', 'месяца', 'месяцев')}; мы напомним заранее." if ru else
            f"{noun} {'expires' if cash else 'expire'} after {n} month{'s' * (n != 1)}; we"
            f" will remind you in advance.")
    if s.min_order_for_redeem:
        amount = format_money(s.min_order_for_redeem, currency, "ru" if ru else "en")
        lines.append(f"Оплатить {'кэшбэком' if cash else 'бонусами'} можно заказ от {amount}."
                     if ru else f"You can pay with {noun.lower()} on orders from {amount}.")
    by = ("кэшбэком" if cash else "бонусами") if ru else noun.lower()
    if ru:
        lines.append(f"Часть заказа, оплаченная {by}, тоже приносит {noun.lower()}."
                     if s.accrue_on_redeemed else
                     f"На часть заказа, оплаченную {by}, {noun.lower()} не"
                     f" {'начисляется' if cash else 'начисляются'}.")
    else:
        lines.append(f"The part of an order paid with {by} earns {by} too."
                     if s.accrue_on_redeemed else
                     f"The part of an order paid with {by} does not earn {by}.")
    if s.point_value != 100 and not cash:
        value = format_money(s.point_value, currency, "ru" if ru else "en")
        lines.append(f"1 бонус = {value}." if ru else f"1 point = {value}.")
    return lines


# -- words and numbers ---------------------------------------------------------------


def _condition(t: Tier, ru: bool, currency: str) -> str:
    if t.min_orders == 0 or t.min_spend == 0:  # whichever comes first: at once
        return "сразу" if ru else "from the start"
    parts: list[str] = []
    if t.min_orders is not None:
        n = t.min_orders
        parts.append(f"от {n} {w.plural(n, 'заказа', 'заказов', 'заказов')}" if ru
                     else f"from {n} order{'s' * (n != 1)}")
    if t.min_spend is not None:
        money = format_money(t.min_spend, currency, "ru" if ru else "en")
        parts.append(f"от {money}" if ru else f"from {money} spent")
    return (" или " if ru else " or ").join(parts)


def _points(n: int, s: ProgramSettings, ru: bool, currency: str) -> str:
    if s.mechanic is Mechanic.CASHBACK:  # cashback is told as money
        return format_money(n * s.point_value, currency, "ru" if ru else "en")
    if ru:
        return f"{n} {w.plural(n, 'бонус', 'бонуса', 'бонусов')}"
    return f"{n} point{'s' * (n != 1)}"


def _limit(e: Entitlement, ru: bool) -> str:
    n = e.limit
    if ru:
        per = {Period.VISIT: "за визит", Period.MONTH: "в месяц", Period.YEAR: "в год"}[e.per]
        return f"{n} {w.plural(n, 'раз', 'раза', 'раз')} {per}"
    per_en = {Period.VISIT: "per visit", Period.MONTH: "a month", Period.YEAR: "a year"}[e.per]
    times = {1: "once", 2: "twice"}.get(n, f"{n} times")
    return f"{times} {per_en}"


def _join(clauses: list[str], ru: bool) -> str:
    if len(clauses) == 1:
        return clauses[0]
    rest = [w.lower_first(c) for c in clauses[1:]]
    return ", ".join([clauses[0], *rest[:-1]]) + (", а " if ru else ", and ") + rest[-1]


def _name(t: Tier, i: int) -> str:
    return w.clean(t.name) or f"#{i + 1}"


def _asset_note(card: StampCard, ru: bool) -> str:
    if not card.per_asset:
        return ""
    return (" (считается по каждому автомобилю отдельно)" if ru
            else " (counted for each vehicle separately)")


