"""The owner page's form <-> program settings: percents to basis points, roubles to
kopecks, empty fields to "none". Parsing only; the rules are checked by the domain, and
the service (:mod:`webapp.services.program.editing`) gets what the form asks for already
read (:class:`~webapp.services.program.editing.Submission`).

Field names are flat (``tiers-0-name``) so the same mapping arrives from an HTML form
post and from the page script's JSON.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from staff.backoffice import line_rules_form, perk_text
from webapp.domain import program
from webapp.domain.errors import DomainError
from webapp.domain.presets import PRESETS, preset_or_default
from webapp.domain.program import InvalidSetting, ProgramSettings
from webapp.errors import worded
from webapp.services.program.editing import Submission

MAX_ROWS = 20  # tiers or stamp cards a form can carry
_DECIMAL = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,6})?")  # what a number field may hold
TIER_FIELDS = ("name", "min_orders", "min_spend_rub", "discount_pct", "accrual_pct",
               "redeem_cap_pct", "perks", "entitlements")

LABELS = {
    "discount_pct": _l("Скидка, %"),
    "accrual_pct": _l("Начисление, %"),
    "redeem_cap_pct": _l("Оплата баллами, до % чека"),
    "min_order_rub": _l("Минимальный чек для оплаты баллами, ₽"),
    "expiry_months": _l("Срок жизни баллов, месяцев"),
    "min_orders": _l("Заказов для уровня"),
    "min_spend_rub": _l("Сумма покупок для уровня, ₽"),
    "every": _l("Каждый N-й заказ"),
    "reward_pct": _l("Награда, %"),
    "welcome": _l("Приветственный бонус, баллов"),
    "referral": _l("За приглашённого друга, баллов"),
    "birthday": _l("В день рождения, баллов"),
    "gift_visit": _l("Подарок на визите №"),
    "gift_value_rub": _l("Подарок обходится бизнесу в, ₽"),
    "point_value_rub": _l("Один балл стоит, ₽"),
    "tier_window_months": _l("Уровень считается за последние, месяцев"),
    "downgrade_grace_days": _l("Уровень понижается через, дней после окна"),
    "referral_monthly_limit": _l("Приглашений с бонусом в месяц"),
    "birthday_window_days": _l("Бонус ко дню рождения за, дней"),
    "effective_at": _l("Дата и время начала"),
}


def preset_name(raw: str | None) -> str:
    """The preset a form names, or the default one."""
    return preset_or_default(raw)


def parse(form: Mapping[str, Any]) -> Submission:
    """The settings and start time a submitted form asks for; InvalidSetting if unreadable."""
    name = preset_name(_s(form, "preset"))
    base = PRESETS[name]
    data = program.to_dict(base)
    data.update(
        mechanic=_s(form, "mechanic") or base.mechanic.value,
        discount_bp=_percent(form, "discount_pct"),
        accrual_bp=_percent(form, "accrual_pct"),
        redeem_cap_bp=_percent(form, "redeem_cap_pct"),
        accrue_on_redeemed=_checked(form, "accrue_on_redeemed"),
        min_order_for_redeem=_money(form, "min_order_rub") or 0,
        expiry_months=_int(form, "expiry_months"),
        point_value=_money(form, "point_value_rub") or base.point_value,
        tier_window_months=_int(form, "tier_window_months"),
        downgrade_grace_days=_int(form, "downgrade_grace_days"),
        tiers=_tiers(form, data["tiers"]),
        stamp_cards=_cards(form, data["stamp_cards"]),
        line_rules=line_rules_form.parse(form, data["line_rules"], _optional_percent),
    )
    bonuses = dict(data["bonuses"])
    for key in ("welcome", "referral", "birthday"):
        bonuses[key] = _int(form, key) or 0
    bonuses["gift_visit"] = _int(form, "gift_visit")
    for key in ("referral_monthly_limit", "birthday_window_days"):
        bonuses[key] = _int(form, key) if _s(form, key) else bonuses[key]
    bonuses["gift_title"] = _s(form, "gift_title")
    bonuses["gift_value_minor"] = _money(form, "gift_value_rub") or 0
    data["bonuses"] = bonuses
    return Submission(name, data, _effective(form), str(form.get("idempotency_key") or ""))


def settings_or_none(form: Mapping[str, Any]) -> dict[str, Any] | None:
    """The settings a form asks for, or None when it cannot be read (shown again with
    its error, without a preview)."""
    try:
        return parse(form).settings
    except InvalidSetting:
        return None


def values(settings: ProgramSettings) -> dict[str, Any]:
    """The form's initial values for these settings (strings, as the inputs show them)."""
    b = settings.bonuses
    return {
        "mechanic": settings.mechanic.value,
        "discount_pct": _pct_text(settings.discount_bp),
        "accrual_pct": _pct_text(settings.accrual_bp),
        "redeem_cap_pct": _pct_text(settings.redeem_cap_bp),
        "accrue_on_redeemed": settings.accrue_on_redeemed,
        "min_order_rub": _money_text(settings.min_order_for_redeem),
        "expiry_months": "" if settings.expiry_months is None else str(settings.expiry_months),
        "point_value_rub": _money_text(settings.point_value),
        "tier_window_months": _opt(settings.tier_window_months),
        "downgrade_grace_days": _opt(settings.downgrade_grace_days),
        "referral_monthly_limit": str(b.referral_monthly_limit),
        "birthday_window_days": str(b.birthday_window_days),
        "tiers": [{"name": t.name, "min_orders": _opt(t.min_orders),
                   "min_spend_rub": "" if t.min_spend is None else _money_text(t.min_spend),
                   "discount_pct": _pct_text(t.discount_bp),
                   "accrual_pct": "" if t.accrual_bp is None else _pct_text(t.accrual_bp),
                   "redeem_cap_pct": "" if t.redeem_cap_bp is None
                   else _pct_text(t.redeem_cap_bp),
                   "perks": "; ".join(t.perks), "entitlements": perk_text.text(t)}
                  for t in settings.tiers],
        "stamps": [{"category": c.category, "title": c.title, "every": str(c.every),
                    "reward_pct": _pct_text(c.reward_bp), "per_asset": c.per_asset,
                    "reward_rub": "" if c.reward_minor is None else _money_text(c.reward_minor)}
                   for c in settings.stamp_cards],
        "lines": line_rules_form.values(settings, _pct_text),
        "welcome": str(b.welcome), "referral": str(b.referral), "birthday": str(b.birthday),
        "gift_visit": _opt(b.gift_visit), "gift_title": b.gift_title,
        "gift_value_rub": _money_text(b.gift_value_minor) if b.gift_value_minor else "",
    }


def echo(form: Mapping[str, Any]) -> dict[str, Any]:
    """The form's values as submitted, to show them again next to an error."""
    shown: dict[str, Any] = {key: _s(form, key) for key in (
        "mechanic", "discount_pct", "accrual_pct", "redeem_cap_pct", "min_order_rub",
        "expiry_months", "welcome", "referral", "birthday", "gift_visit", "gift_title",
        "gift_value_rub",
        "effective", "effective_at", "point_value_rub", "tier_window_months",
        "downgrade_grace_days", "referral_monthly_limit", "birthday_window_days")}
    shown["accrue_on_redeemed"] = _checked(form, "accrue_on_redeemed")
    tier_fields = TIER_FIELDS
    shown["tiers"] = [{f: _s(form, f"tiers-{i}-{f}") for f in tier_fields}
                      for i in _rows(form, "tiers", tier_fields)]
    card_fields = ("category", "title", "every", "reward_pct", "reward_rub")
    shown["stamps"] = [{**{f: _s(form, f"stamps-{i}-{f}") for f in card_fields},
                        "per_asset": _checked(form, f"stamps-{i}-per_asset")}
                       for i in _rows(form, "stamps", card_fields)]
    shown["lines"] = line_rules_form.echo(form)
    return shown


# -- reading fields --------------------------------------------------------------------


def _s(form: Mapping[str, Any], key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def _checked(form: Mapping[str, Any], key: str) -> bool:
    return _s(form, key).lower() in ("on", "1", "true", "yes")


def _number(form: Mapping[str, Any], key: str) -> Decimal | None:
    raw = _s(form, key).replace("\u00a0", "").replace(" ", "").replace(",", ".").rstrip("%₽")
    if not raw:
        return None
    # Plain ASCII digits only: Decimal() also takes "١٢", "NaN" and "1e999999" (whose
    # int() would take seconds, or whose * 100 overflows the decimal context).
    if not _DECIMAL.fullmatch(raw):
        raise InvalidSetting("setting_not_number", field=key, label=_label(key),
                             value=_s(form, key)[:40])
    return Decimal(raw)


def _percent(form: Mapping[str, Any], key: str) -> int:
    value = _number(form, key) or Decimal(0)
    return _whole(value * 100, key, "setting_decimals")


def _money(form: Mapping[str, Any], key: str) -> int | None:
    value = _number(form, key)
    return None if value is None else _whole(value * 100, key, "setting_kopecks")


def _int(form: Mapping[str, Any], key: str) -> int | None:
    value = _number(form, key)
    return None if value is None else _whole(value, key, "setting_not_whole")


def _whole(value: Decimal, key: str, code: str) -> int:
    if value != value.to_integral_value():
        raise InvalidSetting(code, field=key, label=_label(key))
    return int(value)


def _label(key: str) -> str:
    return LABELS.get(key.rsplit("-", 1)[-1], key)


def _rows(form: Mapping[str, Any], prefix: str, fields: tuple[str, ...]) -> list[int]:
    """Indexes of the rows (tiers-0-..., tiers-1-...) that have anything filled in."""
    return [i for i in range(MAX_ROWS)
            if any(_s(form, f"{prefix}-{i}-{f}") for f in fields)]


def _tiers(form: Mapping[str, Any], base: list[dict[str, Any]]) -> list[dict[str, Any]]:
    fields = TIER_FIELDS
    tiers = []
    for n, i in enumerate(_rows(form, "tiers", fields)):
        tier = dict(base[n]) if n < len(base) else {}
        tier.update(name=_s(form, f"tiers-{i}-name"),
                    min_orders=_int(form, f"tiers-{i}-min_orders"),
                    min_spend=_money(form, f"tiers-{i}-min_spend_rub"),
                    discount_bp=_percent(form, f"tiers-{i}-discount_pct"),
                    accrual_bp=_optional_percent(form, f"tiers-{i}-accrual_pct"),
                    redeem_cap_bp=_optional_percent(form, f"tiers-{i}-redeem_cap_pct"),
                    perks=[p.strip() for p in _s(form, f"tiers-{i}-perks").split(";")
                           if p.strip()],
                    entitlements=perk_text.parse(_s(form, f"tiers-{i}-entitlements"), i))
        tiers.append(tier)
    return tiers


def _optional_percent(form: Mapping[str, Any], key: str) -> int | None:
    return _percent(form, key) if _s(form, key) else None


def _cards(form: Mapping[str, Any], base: list[dict[str, Any]]) -> list[dict[str, Any]]:
    fields = ("category", "title", "every", "reward_pct", "reward_rub")
    cards = []
    for n, i in enumerate(_rows(form, "stamps", fields)):
        card = dict(base[n]) if n < len(base) else {}
        card.update(category=_s(form, f"stamps-{i}-category"),
                    title=_s(form, f"stamps-{i}-title"),
                    every=_int(form, f"stamps-{i}-every"),
                    reward_bp=_percent(form, f"stamps-{i}-reward_pct"),
                    per_asset=_checked(form, f"stamps-{i}-per_asset"),
                    reward_minor=_money(form, f"stamps-{i}-reward_rub"))
        cards.append(card)
    return cards


def _effective(form: Mapping[str, Any]) -> datetime | None:
    """The start the form asks for; without an offset it is the business's local time,
    which the service knows."""
    if _s(form, "effective") != "at":
        return None
    raw = _s(form, "effective_at")
    try:
        local = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidSetting("setting_start_missing", field="effective_at") from None
    return local


# -- showing values ---------------------------------------------------------------------


def _pct_text(bp: int) -> str:
    return _decimal_text(Decimal(bp) / 100)


def _money_text(minor: int) -> str:
    return _decimal_text(Decimal(minor) / 100)


def money_text(minor: int) -> str:
    """Minor units as the form's inputs show them: 250 -> "2,5"."""
    return _money_text(minor)


def _decimal_text(value: Decimal) -> str:
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def _opt(value: int | None) -> str:
    return "" if value is None else str(value)


# -- refusals in the owner's language ---------------------------------------------------

_FIELD_LABELS = {
    "discount_bp": _l("Скидка, %"), "accrual_bp": _l("Начисление, %"),
    "redeem_cap_bp": _l("Оплата баллами, до % чека"),
    "min_order_for_redeem": LABELS["min_order_rub"], "point_value": LABELS["point_value_rub"],
    "expiry_months": LABELS["expiry_months"], "mechanic": _l("Механика"),
    "tier_window_months": LABELS["tier_window_months"],
    "downgrade_grace_days": LABELS["downgrade_grace_days"],
    "effective_from": LABELS["effective_at"], "bonuses": _l("Бонусы"),
    "name": _l("название"), "min_orders": _l("заказов"), "min_spend": _l("сумма, ₽"),
    "every": _l("каждый N-й"), "reward_bp": _l("награда, %"), "category": _l("категория"),
    "reward_minor": _l("награда, ₽"),
    "title": _l("название"), "limit": _l("лимит"), "gift_visit": LABELS["gift_visit"],
    "gift_title": _l("Подарок"), "welcome": LABELS["welcome"], "referral": LABELS["referral"],
    "birthday": LABELS["birthday"], "referral_monthly_limit": LABELS["referral_monthly_limit"],
    "birthday_window_days": LABELS["birthday_window_days"], "preset": _l("Готовая программа"),
}


def field_label(field: str) -> str:
    """The form's name for a settings field: "tiers[1].min_orders" -> "Уровень 2: заказов"."""
    match = re.fullmatch(r"(tiers|stamp_cards|line_rules)\[(\d+)\](?:\.(\w+))?", field)
    if match:
        n = int(match.group(2)) + 1
        what = {"tiers": _("Уровень %(n)s", n=n), "stamp_cards": _("Карта %(n)s", n=n),
                "line_rules": _("Правило позиций %(n)s", n=n)}[match.group(1)]
        inner = _FIELD_LABELS.get(match.group(3) or "", "")
        return what + (f": {inner}" if inner else "")
    return str(_FIELD_LABELS.get(field.removeprefix("bonuses."), field))


def message(error: DomainError) -> str:
    """A refusal of the settings in the page's language, naming the field as the form
    labels it ("«Уровень 2: заказов»: …" where the domain says ``tiers[1].min_orders``)."""
    field = error.params.get("field")
    if isinstance(field, str):
        error = copy.copy(error)
        error.params = {**error.params, "field": f"«{field_label(field)}»"}
    return worded(error)
