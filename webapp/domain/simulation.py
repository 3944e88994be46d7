"""What a program costs a month, before it is launched.

The seeds' fourth mistake is "Нет учёта расходов": a program nobody costs out may be
losing money within half a year. :func:`simulate` turns a program and a few assumptions
(measured from the business's own orders where it has enough of them) into monthly
money: discounts, points that will be spent, stamp-card rewards, SMS; and how many extra
visits pay for it all. Exact rational arithmetic inside, whole minor units out.

Steady state is assumed: points spent this month are the share of points earned that
customers eventually spend, and each tier holds a fixed share of customers (and, for
simplicity, of revenue).
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any

from webapp.domain import wording as w
from webapp.domain.errors import InvalidInput
from webapp.domain.money import format_money
from webapp.domain.program import BP, Mechanic, ProgramSettings, validate
from webapp.domain.wording import format_percent
from webapp.domain.words import Words

# Plausible shares of customers per tier when nothing is measured: most stay low.
DEFAULT_TIER_MIX = {1: (BP,), 2: (7000, 3000), 3: (6000, 3000, 1000),
                    4: (5000, 3000, 1500, 500)}


@dataclass(frozen=True)
class Category:
    """A service category's share of visits and its own average check, as measured."""

    name: str
    share_bp: int
    average_check: int


@dataclass(frozen=True)
class Assumptions:
    """What the estimate takes as given: measured (see measured_orders) or typical."""

    customers: int = 300  # active customers
    visits_per_customer_month_bp: int = 2500  # 0.25 visits per customer a month
    average_check: int = 300_000  # minor units; the seeds' "средний чек 3 000 ₽"
    redemption_share_bp: int = 7000  # share of issued points eventually spent
    margin_bp: int = 3000  # gross margin on a service order
    messages_per_customer_month_bp: int = 10000  # SMS reminders per customer a month
    message_cost: int = 300  # minor units per SMS (push is free; the seeds: from 500 ₽/month)
    # Share of revenue from each tier's customers (the rest: below tier 1). Default: a
    # plausible split of customers (DEFAULT_TIER_MIX), taken as the split of revenue.
    tier_mix_bp: tuple[int, ...] | None = None
    stamp_share_bp: int = 2500  # share of visits in a stamp card's category, if not measured
    categories: tuple[Category, ...] = ()  # measured shares; they win over stamp_share_bp
    new_customers_month_bp: int = 500  # new customers a month, per active customer
    measured_orders: int = 0  # how many orders these were measured from; 0: typical numbers


@dataclass(frozen=True)
class Estimate:
    """A month of the program in money (minor units), with each number explained."""

    monthly_revenue: int  # before discounts
    discounts: int
    points_cost: int  # points that will be spent, in money, including one-off bonuses
    stamp_rewards: int
    messages: int
    total_cost: int
    cost_share_bp: int  # total_cost / monthly_revenue
    extra_visits_to_break_even: int  # per month: total_cost / (average_check × margin), up
    lines: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def simulate(settings: ProgramSettings, assumptions: Assumptions) -> Estimate:
    """Estimate a program's monthly cost; InvalidSetting/InvalidInput on impossible inputs."""
    validate(settings)
    a = _checked(assumptions)
    s = settings
    visits = Fraction(a.customers * a.visits_per_customer_month_bp, BP)
    revenue = visits * a.average_check
    lines: list[tuple[str, dict[str, Any]]] = [("revenue", {
        "customers": a.customers, "visits": round(visits), "average_check": a.average_check,
        "amount": _floor(revenue), "measured_orders": a.measured_orders})]
    discounts = spent = accrual = Fraction(0)
    for share, discount_bp, accrual_bp, cap_bp in _groups(s, a):
        group = revenue * share
        accrual += share * accrual_bp
        discounts += group * discount_bp / BP
        paid = group * (BP - discount_bp) / BP
        rate = Fraction(accrual_bp * a.redemption_share_bp, BP * BP)
        # The part paid with points earns nothing unless accrue_on_redeemed: x = r·(P − x).
        earned = paid * rate if s.accrue_on_redeemed else paid * rate / (1 + rate)
        spent += min(earned, paid * cap_bp / BP)
    if discounts:
        lines.append(("discounts", {"rate_bp": _floor(discounts * BP / revenue),
                                    "amount": _floor(discounts)}))
    points_cost = _floor(spent)
    if s.earns_points:
        lines.append(("points", {"accrual_bp": _floor(accrual), "amount": points_cost,
                                 "redemption_bp": a.redemption_share_bp}))
        points_cost += _bonuses(s, a, lines)
    stamp_rewards = 0
    for card in s.stamp_cards:
        measured = next((c for c in a.categories if c.name == card.category), None)
        category_share = measured.share_bp if measured else a.stamp_share_bp
        check = measured.average_check if measured else a.average_check
        rewards = visits * category_share / BP / card.every
        cost = _floor(rewards * check * card.reward_bp / BP)
        stamp_rewards += cost
        lines.append(("stamp", {"title": card.title, "every": card.every,
                                "rewards_x10": round(rewards * 10), "amount": cost}))
    sms = Fraction(a.customers * a.messages_per_customer_month_bp, BP)
    messages = _floor(sms * a.message_cost)
    if messages:
        lines.append(("messages", {"count": round(sms), "unit": a.message_cost,
                                   "amount": messages}))
    # Costs nobody can know from the settings: say so rather than guess.
    if s.earns_points and s.bonuses.referral:
        lines.append(("not_counted", {"what": "referral"}))
    if s.bonuses.gift_visit is not None:
        lines.append(("not_counted", {"what": "gift", "visit": s.bonuses.gift_visit}))
    if any(t.perks or t.entitlements for t in s.tiers):
        lines.append(("not_counted", {"what": "perks"}))
    total = _floor(discounts) + points_cost + stamp_rewards + messages
    share_bp = _floor(Fraction(total * BP) / revenue) if revenue else 0
    per_visit = Fraction(a.average_check * a.margin_bp, BP)
    extra = -(-Fraction(total) // per_visit)  # rounded up: a part-visit pays nothing
    lines.append(("total", {"amount": total, "share_bp": share_bp}))
    lines.append(("break_even", {
        "visits": int(extra), "visits_now": round(visits), "margin_bp": a.margin_bp,
        "growth_bp": round(extra * BP / visits) if visits else 0}))
    return Estimate(_floor(revenue), _floor(discounts), points_cost, stamp_rewards, messages,
                    total, share_bp, int(extra), lines)


def assumptions_from_history(orders: Iterable[tuple[datetime, int, int]], now: datetime,
                             months: int = 6, **known: Any) -> Assumptions:
    """Measure customers, visits and the average check from (closed_at, customer, total).

    Only orders in the last ``months`` calendar months count; other assumptions keep
    their defaults unless given in ``known``. No orders at all: the defaults.
    """
    start = months_before(now, months)
    count = total = 0
    seen: set[int] = set()
    for closed_at, customer_id, total_minor in orders:
        if start < closed_at <= now:
            count += 1
            total += total_minor
            seen.add(customer_id)
    if not count:
        return Assumptions(**known)
    return Assumptions(**{
        "customers": len(seen),
        "visits_per_customer_month_bp": round(Fraction(count * BP, len(seen) * months)),
        "average_check": round(Fraction(total, count)), "measured_orders": count, **known})


def categories_from_history(orders: Iterable[tuple[str | None, int]]) -> tuple[Category, ...]:
    """Shares of visits and average checks per service category from (category, total)."""
    counts: dict[str, list[int]] = {}
    count = 0
    for category, total_minor in orders:
        count += 1
        if category:
            counts.setdefault(category, []).append(total_minor)
    return tuple(Category(name, round(Fraction(len(totals) * BP, count)),
                          round(Fraction(sum(totals), len(totals))))
                 for name, totals in sorted(counts.items()))


def estimate_text(estimate: Estimate, words: Words, currency: str) -> list[str]:
    """One line per number of the estimate, in the reader's language."""

    def m(minor: int) -> str:  # an estimate in whole roubles: kopecks would be false precision
        return format_money(round(Fraction(minor, 100)) * 100, currency, words.lang)

    return [_LINES[code](p, m, words) for code, p in estimate.lines]


_Money = Callable[[int], str]


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
    _, x10 = words.gettext, p["rewards_x10"]
    tenths = _tenths(x10, w.is_ru(words.lang))
    if x10 % 10:  # a fraction takes the genitive singular: "0,4 награды"
        rewards = _("%(n)s награды") % {"n": tenths}
    else:
        rewards = w.count(words, x10 // 10, _("%(n)s награда"), _("%(n)s награды"),
                          _("%(n)s наград"))
    return _("«%(title)s» — %(amount)s (%(rewards)s в месяц).") % {
        "title": w.clean(p["title"]), "amount": m(p["amount"]), "rewards": rewards}


def _messages(p: dict[str, Any], m: _Money, words: Words) -> str:
    return words.gettext("SMS-напоминания — %(amount)s (%(count)s × %(unit)s).") % {
        "amount": m(p["amount"]), "count": p["count"], "unit": m(p["unit"])}


def _not_counted(p: dict[str, Any], m: _Money, words: Words) -> str:
    _ = words.gettext
    if p["what"] == "referral":
        return _("Бонусы за друзей не учтены: их окупают новые клиенты.")
    if p["what"] == "gift":
        return _("Подарок на %(visit)s-й визит не учтён: его стоимость не указана.") % {
            "visit": p.get("visit")}
    return _("Привилегии уровней (бесплатная диагностика и другие) не учтены.")


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


def _groups(s: ProgramSettings, a: Assumptions) -> list[tuple[Fraction, int, int, int]]:
    """(share of revenue, discount, accrual, redeem cap) for each tier and below tier 1."""
    base_discount = s.discount_bp if s.mechanic is Mechanic.DISCOUNT else 0
    base_accrual = s.accrual_bp if s.earns_points else 0
    if not s.tiers:
        return [(Fraction(1), base_discount, base_accrual, s.redeem_cap_bp)]
    mix = a.tier_mix_bp or _default_mix(len(s.tiers))
    if len(mix) != len(s.tiers) or min(mix) < 0 or sum(mix) > BP:
        raise InvalidInput("tier_mix_malformed", field="tier_mix_bp")
    groups = [(Fraction(BP - sum(mix), BP), base_discount, base_accrual, s.redeem_cap_bp)]
    for share, t in zip(mix, s.tiers, strict=True):
        accrual = base_accrual if t.accrual_bp is None or not s.earns_points else t.accrual_bp
        cap = s.redeem_cap_bp if t.redeem_cap_bp is None else t.redeem_cap_bp
        # As the quote does: a tier's own discount replaces the card's, 0 keeps the card's.
        groups.append((Fraction(share, BP), t.discount_bp or base_discount, accrual, cap))
    return groups


def _bonuses(s: ProgramSettings, a: Assumptions, lines: list[tuple[str, dict[str, Any]]]) -> int:
    """Welcome and birthday points that will be spent, in money."""
    total = 0
    spent = Fraction(s.point_value * a.redemption_share_bp, BP)
    for code, points, people in (
            ("welcome", s.bonuses.welcome,
             Fraction(a.customers * a.new_customers_month_bp, BP)),
            ("birthday", s.bonuses.birthday, Fraction(a.customers, 12))):
        if points:
            cost = _floor(people * points * spent)
            total += cost
            lines.append((code, {"customers": round(people), "points": points,
                                 "amount": cost}))
    return total


def _default_mix(n: int) -> tuple[int, ...]:
    if n in DEFAULT_TIER_MIX:
        return DEFAULT_TIER_MIX[n]
    weights = [2 ** (n - 1 - i) for i in range(n)]  # each tier half the one below
    shares = [BP * weight // sum(weights) for weight in weights]
    return (shares[0] + BP - sum(shares), *shares[1:])


def _checked(a: Assumptions) -> Assumptions:
    for name, low, high in (("customers", 0, 10**7), ("visits_per_customer_month_bp", 0, 10**6),
                            ("average_check", 1, 10**11), ("redemption_share_bp", 0, BP),
                            ("margin_bp", 1, BP), ("messages_per_customer_month_bp", 0, 10**6),
                            ("message_cost", 0, 10**6), ("stamp_share_bp", 0, BP),
                            ("new_customers_month_bp", 0, BP)):
        value = getattr(a, name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput("assumption_range", field=name, low=low, high=high)
    return a


def months_before(now: datetime, months: int) -> datetime:
    """The same moment ``months`` calendar months earlier (31 March - 1 = 28/29 February)."""
    year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
    return now.replace(year=year, month=month + 1,
                       day=min(now.day, monthrange(year, month + 1)[1]))


def _floor(value: Fraction) -> int:
    return value.numerator // value.denominator
