"""Ready-made programs that reproduce the seed articles exactly."""

from __future__ import annotations

from dataclasses import replace

from webapp.domain.program import (
    Bonuses,
    Entitlement,
    Mechanic,
    Period,
    ProgramSettings,
    StampCard,
    Tier,
)
from webapp.domain.words import N_

RUB = 100  # kopecks in a rouble

# 001: "Многоуровневая система (VIP-уровни)", the four-tier table.
SERVICE_TIERS = (
    Tier("Базовый", min_orders=1, discount_bp=300, perks=("SMS-уведомления",)),
    Tier("Серебряный", min_orders=3, discount_bp=500, perks=("Приоритетный ремонт",)),
    Tier("Золотой", min_orders=7, min_spend=15_000 * RUB, discount_bp=1000,
         perks=("Бесплатная диагностика",),
         entitlements=(Entitlement("free_diagnostics", "Бесплатная диагностика", 1,
                                   Period.VISIT),)),
    Tier("Платиновый", min_orders=15, min_spend=30_000 * RUB, discount_bp=1500,
         perks=("Бесплатная диагностика", "Выездной ремонт бесплатно"),
         entitlements=(
             Entitlement("free_diagnostics", "Бесплатная диагностика", 1, Period.VISIT),
             Entitlement("free_onsite_repair", "Выездной ремонт бесплатно", 2, Period.YEAR),
         )),
)

# 000: "6-я замена масла бесплатно".
OIL_CHANGE_CARD = StampCard("oil_change", "Каждая 6-я замена масла бесплатно", every=6)

PRESETS: dict[str, ProgramSettings] = {
    "service_tiers": ProgramSettings(mechanic=Mechanic.NONE, accrual_bp=0, redeem_cap_bp=0,
                                     tiers=SERVICE_TIERS, expiry_months=None),
    # 001: "стартуйте с бонусной системы (5% начисление, до 20% списание)".
    "bonus_5_20": ProgramSettings(mechanic=Mechanic.BONUS, accrual_bp=500, redeem_cap_bp=2000),
    # 001: cashback "Списание без ограничений (или до 50%)".
    "cashback_5_50": ProgramSettings(mechanic=Mechanic.CASHBACK, accrual_bp=500,
                                     redeem_cap_bp=5000),
    # 001: "Скидка 5-10%".
    "discount_5": ProgramSettings(mechanic=Mechanic.DISCOUNT, discount_bp=500, accrual_bp=0,
                                  redeem_cap_bp=0, expiry_months=None),
    # 000: "5% от чека — на следующее ТО", "6-я замена масла бесплатно", a gift on the 3rd visit.
    "car_service": ProgramSettings(
        mechanic=Mechanic.CASHBACK, accrual_bp=500, redeem_cap_bp=10_000,
        stamp_cards=(replace(OIL_CHANGE_CARD, per_asset=True),),  # the card is about a car
        bonuses=Bonuses(gift_visit=3, gift_title="Замена лампочки в подарок"),
    ),
}

# What `regulars demo` runs: the tiers with bonus points and the oil-change card.
DEMO = replace(
    PRESETS["service_tiers"], mechanic=Mechanic.BONUS, accrual_bp=500, redeem_cap_bp=2000,
    expiry_months=12, stamp_cards=(OIL_CHANGE_CARD,),
    bonuses=Bonuses(welcome=100, referral=300, birthday=200),
)

DEFAULT_PRESET = "bonus_5_20"


def preset_or_default(name: str | None) -> str:
    """``name`` if it is a preset, else the default one."""
    return name if name is not None and name in PRESETS else DEFAULT_PRESET


# Each preset's name, in Russian (the catalogue gives it in the page's language).
TITLES = {
    "service_tiers": N_("Уровни сервисного центра"),
    "bonus_5_20": N_("Бонусы 5 %, оплата до 20 %"),
    "cashback_5_50": N_("Кэшбэк 5 %, оплата до 50 %"),
    "discount_5": N_("Дисконтная карта 5 %"),
    "car_service": N_("Автосервис"),
}
