"""The program's rules for order lines in words: what works, parts and other items earn,
where the discount does not apply, and a stamp card's fixed reward."""

from __future__ import annotations

from webapp.domain.money import format_money
from webapp.domain.program import LineRule, ProgramSettings
from webapp.domain.wording import format_percent
from webapp.domain.words import Words


def lines(s: ProgramSettings, words: Words, currency: str) -> list[str]:
    """One detail line per line rule and per stamp card with a fixed reward."""
    _ = words.gettext
    said = []
    for rule in s.line_rules:
        target = _target(rule, words)
        if rule.accrual_bp is not None and s.earns_points:
            said.append((_("%(lines)s: без баллов.") if rule.accrual_bp == 0 else
                         _("%(lines)s: начисляется %(percent)s.")) % {
                "lines": target, "percent": format_percent(rule.accrual_bp, words.lang)})
        if not rule.discounted and (s.discount_bp or any(t.discount_bp for t in s.tiers)):
            said.append(_("%(lines)s: скидка карты и уровня не действует.") % {
                "lines": target})
    for card in s.stamp_cards:
        if card.reward_minor is not None:
            said.append(_("«%(title)s»: скидка до %(amount)s на эту позицию заказа.") % {
                "title": card.title,
                "amount": format_money(card.reward_minor, currency, words.lang)})
    return said


def _target(rule: LineRule, words: Words) -> str:
    _ = words.gettext
    if rule.category is not None:
        return _("Позиции категории «%(category)s»") % {"category": rule.category}
    return {"work": _("Работы"), "part": _("Запчасти")}.get(rule.kind or "", _("Другое"))
